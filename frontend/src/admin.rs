//! An administrator's pages: the accounts (listed, and added with a one-time password shown
//! once), one person's page (`/admin/users/{id}`: what they do, their hubs and provider,
//! unlocking after failed logins, ending their sessions, a new one-time password, deactivating
//! through a check-your-answers page at `/admin/users/{id}/deactivate`, and reactivating), hubs
//! and providers (`/admin/hubs`), API tokens (created, shown once, revoked) and the access log.
//! Administrators manage accounts and reference data, never content.
//!
//! Forms post, and on success redirect (`303 See Other`) with a short code for the notice
//! (never words from the address, and never a secret): refreshing or going back never sends a
//! form again. A secret a form made is kept for the page the redirect opens, and shown there
//! once ([`crate::once`]). With errors the page comes back at once, with what was typed, the
//! errors beside their fields and a summary at the top.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use heard_api::Viewer;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use crate::Backend;
use crate::backend::{Answer, ask, submit};
use crate::extract::{Administrators, PostedFormAs, SignedInAs};
use crate::forms::{self, Choices, Errors, Input, form_page};
use crate::kit::{Connection, field_id, no_store, plain, see_other, urlencode};
use crate::layout::page;

const ROLES: [(&str, &str); 7] = [
    ("HUB_MEMBER", "Hub member"),
    ("HUB_COORDINATOR", "Hub coordinator"),
    ("ADVOCATE", "Advocate"),
    ("COMPLAINTS_HANDLER", "Complaints handler"),
    ("COMMISSIONER", "Commissioner"),
    ("PROVIDER_RESPONDER", "Provider responder"),
    ("ADMINISTRATOR", "Administrator"),
];

/// What happened, by the code a redirect carries: the words come from here, never from the
/// address, so a link cannot make Heard say something it did not.
fn done_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "token-revoked" => "Token revoked: it stopped working at once.",
        "token-made" => "Token made.",
        "account-added" => "Account added.",
        "password-reset" => "Their password is reset, and they are logged out everywhere they were logged in.",
        "deactivated" => {
            "Deactivated: they are logged out everywhere, their API tokens stopped working, and they cannot log in."
        }
        "reactivated" => "Reactivated: they can log in again with the password they had.",
        "roles-saved" => "Saved. Their new roles and hubs apply from the next page they open.",
        "unlocked" => "Unlocked: they can log in again.",
        "session-ended" => "That session is ended: they are logged out there.",
        "hub-added" => "Hub added.",
        "provider-added" => "Provider added.",
        _ => return None,
    })
}

/// A role as people say it: `HUB_COORDINATOR` → `Hub coordinator`.
fn role_name(role: &str) -> String {
    ROLES
        .iter()
        .find(|(value, _)| *value == role)
        .map_or_else(|| role.replace('_', " ").to_lowercase(), |r| r.1.to_owned())
}

/// When, from a GraphQL timestamp, in words: `23 November 2026 at 14:05 UTC`.
fn when(timestamp: &str) -> String {
    timestamp
        .parse::<jiff::Timestamp>()
        .map(|at| at.strftime("%-d %B %Y at %H:%M UTC").to_string())
        .unwrap_or_else(|_| timestamp.to_owned())
}

/// (id, name) of each node of a connection.
fn pairs(connection: Option<Connection<Named>>) -> Vec<(String, String)> {
    connection.unwrap_or_default().nodes().into_iter().map(|node| (node.id, node.name)).collect()
}

/// A hub, forum or provider: its id and name (and a hub's kind and area).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Named {
    id: String,
    name: String,
    kind: String,
    area: String,
}

/// An account, as the overview and a person's page ask for it. `null`s (an erased name or
/// email, no lockout, no provider) are `None`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Account {
    id: String,
    display_name: Option<String>,
    email: Option<String>,
    roles: Vec<String>,
    hubs: Vec<Named>,
    provider: Option<Named>,
    locked_until: Option<String>,
    must_change_password: bool,
    created_at: String,
    deactivated_at: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Token {
    id: String,
    label: String,
    created_at: String,
    revoked_at: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct AccessEntry {
    at: String,
    action: String,
    resource_kind: String,
    allowed: bool,
    reason: Option<String>,
    actor: Option<Account>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Session {
    id: String,
    started_at: String,
    expires_at: String,
    active: bool,
    current: bool,
}

/// What creating an account or a token, or resetting a password, answers: the secret, shown
/// once, and the account it is for.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Secret {
    one_time_password: Option<String>,
    secret: Option<String>,
    user: Option<Made>,
}

/// The account a mutation made or changed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Made {
    id: String,
}

/// Where a one-time password waits for the person's page.
fn account_slot(id: &str) -> String {
    format!("account-{id}")
}

/// Where a new API token's secret waits for the overview.
const TOKEN_SLOT: &str = "token";

/// The secret kept for this viewer's session in `slot`, taken for this one view.
async fn shown_once<B: Backend>(backend: &B, viewer: &Viewer, slot: &str) -> Option<String> {
    backend.take_once(viewer.session?, slot).await
}

/// Keeps `secret` for this viewer's next view of the page for `slot`.
async fn keep_once<B: Backend>(backend: &B, viewer: &Viewer, slot: &str, secret: Option<String>) {
    if let (Some(session), Some(secret)) = (viewer.session, secret) {
        backend.keep_once(session, slot, secret).await;
    }
}

/// A secret, shown once: `made` says what it is. After the one view, `missed` says so instead,
/// when the page was opened by the redirect that should have shown it.
fn secret_notice(secret: Option<&str>, made: &str, missed: Option<&str>) -> Markup {
    html! {
        @if let Some(secret) = secret {
            div class="notice" role="status" {
                p { (made) " Copy it now and pass it on privately. Heard will not show it again:" }
                p { code class="secret" { (secret) } }
            }
        } @else if let Some(missed) = missed {
            div class="notice" role="status" { p { (missed) } }
        }
    }
}

/// What the overview asks.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct OverviewData {
    users: Option<Connection<Account>>,
    api_tokens: Option<Connection<Token>>,
    access_log: Option<Connection<AccessEntry>>,
    #[serde(flatten)]
    reference: ReferenceData,
}

/// What a person's page asks.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UserData {
    user: Option<Account>,
    sessions: Option<Connection<Session>>,
    #[serde(flatten)]
    reference: ReferenceData,
}

/// What the hubs page asks.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ReferenceData {
    hubs: Option<Connection<Named>>,
    providers: Option<Connection<Named>>,
}

/// A table of the administration pages, named `label` (read out, not shown), that scrolls
/// sideways on a narrow screen: its column headings, then its rows.
fn admin_table(label: &str, heads: &[&str], rows: Markup) -> Markup {
    html! {
        div class="table-scroll" role="region" aria-label=(label) tabindex="0" {
            table class="cases" {
                caption class="visually-hidden" { (label) }
                thead { tr { @for head in heads { th scope="col" { (head) } } } }
                tbody { (rows) }
            }
        }
    }
}

/// Choices as (value, words).
type Options = Vec<(String, String)>;

impl ReferenceData {
    /// The hubs and the providers as an account form offers them: (id, name), the providers
    /// after "None".
    fn choices(self) -> (Options, Options) {
        let mut providers = vec![(String::new(), "None".to_owned())];
        providers.extend(pairs(self.providers));
        (pairs(self.hubs), providers)
    }
}

fn role_options() -> Vec<(String, String)> {
    ROLES.iter().map(|(value, label)| ((*value).to_owned(), (*label).to_owned())).collect()
}

/// The errors of an answer, beside the page's fields: `rename` turns the API's field (`input.name`)
/// into the page's (`hub_name`); errors naming no field go to `fallback`.
fn answer_errors(answer: &Answer, rename: impl Fn(&str) -> String, fallback: &str) -> Errors {
    let mut errors = Errors::default();
    for (field, _, message) in &answer.errors {
        let field = field.as_deref().map(&rename).filter(|field| !field.is_empty());
        errors.add(field.as_deref().unwrap_or(fallback), plain(message));
    }
    errors
}

/// The page for someone who is not an administrator, when GraphQL refused.
fn refused(viewer: &Viewer, csrf: &str, answer: &Answer) -> Option<Response> {
    let (_, code, message) = answer.errors.first()?;
    let (status, title) = match code.as_deref() {
        Some("FORBIDDEN") => (StatusCode::FORBIDDEN, "Administration"),
        Some("NOT_FOUND" | "BAD_INPUT") => (StatusCode::NOT_FOUND, "Not found"),
        _ => return None,
    };
    let body = html! { h1 { (title) } p { (plain(message)) } p { a href="/" { "Go to your tasks" } } };
    Some((status, page(viewer, title, Some(csrf), body)).into_response())
}

fn notice(done: Option<&str>) -> Markup {
    html! {
        @if let Some(message) = done.and_then(done_message) {
            div class="notice" role="status" { p { (message) } }
        }
    }
}

fn with_status(status: StatusCode, errors: &Errors, markup: Markup) -> Response {
    let status = if errors.is_empty() { status } else { StatusCode::UNPROCESSABLE_ENTITY };
    (status, markup).into_response()
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// What the add-an-account form holds.
#[derive(Debug, Default)]
struct AccountForm {
    display_name: String,
    email: String,
    roles: Vec<String>,
    hubs: Vec<String>,
    provider: String,
}

/// What the overview shows besides its data.
#[derive(Debug, Default)]
struct Overview {
    done: Option<String>,
    /// A new API token's secret, shown once: never in a URL, only on the one view after the
    /// redirect from the form that made it.
    secret: Option<String>,
    account: AccountForm,
    label: String,
    errors: Errors,
}

const OVERVIEW_QUERY: &str = "{ users(first: 100) { edges { node { id displayName email roles hubs { name } lockedUntil deactivatedAt } } } \
    apiTokens { edges { node { id label createdAt revokedAt } } } \
    accessLog(last: 25) { edges { node { at action resourceKind allowed reason actor { displayName } } } } \
    hubs(first: 100) { edges { node { id name } } } providers(first: 100) { edges { node { id name } } } }";

async fn overview_page<B: Backend>(backend: &B, viewer: &Viewer, csrf: &str, shown: &Overview) -> Response {
    let answer = ask(backend, viewer, OVERVIEW_QUERY, json!({})).await;
    if let Some(refused) = refused(viewer, csrf, &answer) {
        return refused;
    }
    let data = answer.decode_all::<OverviewData>();
    let users = data.users.unwrap_or_default().nodes();
    let tokens = data.api_tokens.unwrap_or_default().nodes();
    let mut log = data.access_log.unwrap_or_default().nodes();
    log.reverse();
    let (hubs, providers) = data.reference.choices();
    let errors = &shown.errors;
    let form = &shown.account;
    let missed = (shown.done.as_deref() == Some("token-made"))
        .then_some("The new token was shown once, when it was made. If it was not copied, revoke it and make another.");
    let body = html! {
        (notice(shown.done.as_deref()))
        (secret_notice(shown.secret.as_deref(), "The new token is below.", missed))
        h1 { "Administration" }
        nav aria-label="On this page" {
            ul class="link-list" {
                li { a href="#accounts" { "Accounts" } }
                li { a href="#add" { "Add an account" } }
                li { a href="/admin/hubs" { "Hubs and providers" } }
                li { a href="#tokens" { "Your API tokens" } }
                li { a href="#log" { "Access log" } }
            }
        }
        h2 id="accounts" { "Accounts" }
        p { "Choose a name to change what they do, unlock the account, log them out, give them a new password or deactivate the account." }
        (admin_table("Accounts", &["Name", "Email", "What they do", "Hubs"], html! {
            @for user in &users {
                tr {
                    th scope="row" {
                        a href={ "/admin/users/" (user.id) } { (user.display_name.as_deref().unwrap_or("(erased)")) }
                        @if user.locked_until.is_some() { " " span class="tag tag--overdue" { "Locked" } }
                        @if user.deactivated_at.is_some() { " " span class="tag tag--withdrawn" { "Deactivated" } }
                    }
                    td { (user.email.as_deref().unwrap_or_default()) }
                    td { (user.roles.iter().map(|role| role_name(role)).collect::<Vec<_>>().join(", ")) }
                    td { (user.hubs.iter().map(|hub| hub.name.as_str()).collect::<Vec<_>>().join(", ")) }
                }
            }
        }))
        h2 id="add" { "Add an account" }
        form method="post" action="/admin/users" novalidate {
            input type="hidden" name="csrf_token" value=(csrf);
            (forms::input(Input { id: "display_name", label: "Name", kind: "text", value: &form.display_name, hint: None, autocomplete: Some("off") }, errors))
            (forms::input(Input { id: "email", label: "Email address", kind: "email", value: &form.email, hint: None, autocomplete: Some("off") }, errors))
            (forms::choices(Choices { id: "roles", legend: "What they do", multiple: true, options: role_options(), chosen: form.roles.clone(), hint: None }, errors))
            (forms::choices(Choices { id: "hubs", legend: "Their hubs (for hub members and coordinators)", multiple: true, options: hubs, chosen: form.hubs.clone(), hint: None }, errors))
            (forms::select("provider", "Their provider (for provider responders)", &providers, &form.provider, errors))
            p class="hint" { "Heard makes a one-time password to pass on privately. It works only until they choose their own: the first time they log in, Heard asks them to, before anything else." }
            button class="button" type="submit" { "Add the account" }
        }
        h2 id="hubs" { "Hubs and providers" }
        p { a href="/admin/hubs" { "See and add hubs, forums and providers" } }
        h2 id="tokens" { "Your API tokens" }
        @if tokens.is_empty() { p { "You have no API tokens." } }
        ul {
            @for token in &tokens {
                li {
                    (token.label) " – made " (when(&token.created_at))
                    @if let Some(revoked) = &token.revoked_at { " – revoked " (when(revoked)) } @else {
                        form method="post" action="/admin/tokens-revoke" class="inline" {
                            input type="hidden" name="csrf_token" value=(csrf);
                            input type="hidden" name="id" value=(token.id);
                            button class="button-link" type="submit" { "Revoke " span class="visually-hidden" { (token.label) } }
                        }
                    }
                }
            }
        }
        form method="post" action="/admin/tokens" novalidate {
            input type="hidden" name="csrf_token" value=(csrf);
            (forms::input(Input { id: "label", label: "What the new token is for", kind: "text", value: &shown.label, hint: Some("For example: the county dashboard"), autocomplete: Some("off") }, errors))
            button class="button button--secondary" type="submit" { "Create a token" }
        }
        h2 id="log" { "Access log (latest 25)" }
        (admin_table("Access log", &["When", "Who", "What", "Result"], html! {
            @for entry in &log {
                tr {
                    td { (when(&entry.at)) }
                    td { (entry.actor.as_ref().and_then(|actor| actor.display_name.as_deref()).unwrap_or("Not logged in")) }
                    td { (entry.action.replace('_', " ")) " (" (entry.resource_kind.replace('_', " ")) ")" }
                    td { @if entry.allowed { "Allowed" } @else { "Refused: " (entry.reason.as_deref().unwrap_or_default()) } }
                }
            }
        }))
    };
    with_status(StatusCode::OK, errors, form_page(viewer, "Administration", Some(csrf), errors, body))
}

/// `GET /admin`: with a new API token's secret, once, after the redirect from making it.
async fn overview<B: Backend>(
    State(backend): State<B>,
    SignedInAs { viewer, csrf, .. }: SignedInAs<Administrators>,
    Query(query): Query<DoneQuery>,
) -> Response {
    let secret = match query.done.as_deref() {
        Some("token-made") => shown_once(&backend, &viewer, TOKEN_SLOT).await,
        _ => None,
    };
    let shown = Overview { done: query.done, secret, ..Overview::default() };
    no_store(overview_page(&backend, &viewer, &csrf, &shown).await)
}

/// `POST /admin/users`: adds an account, then sends the administrator to the person's page,
/// where its one-time password is shown once.
async fn add_user<B: Backend>(
    State(backend): State<B>,
    PostedFormAs { viewer, csrf, form: fields, .. }: PostedFormAs<Administrators>,
) -> Response {
    let account = AccountForm {
        display_name: fields.trimmed("display_name"),
        email: fields.trimmed("email"),
        roles: fields.values("roles"),
        hubs: fields.values("hubs"),
        provider: fields.trimmed("provider"),
    };
    let mut errors = Errors::default();
    errors.require("display_name", &account.display_name, "Enter their name");
    errors.require("email", &account.email, "Enter their email address");
    if account.roles.is_empty() {
        errors.add("roles", "Choose what they do");
    }
    if errors.is_empty() {
        let input = json!({
            "email": account.email, "displayName": account.display_name, "roles": account.roles,
            "hubs": account.hubs, "provider": Some(&account.provider).filter(|p| !p.is_empty()),
        });
        let answer = submit(&backend, &viewer, "createUser", "user { id } oneTimePassword", input).await;
        if answer.errors.is_empty() {
            let made = answer.decode::<Secret>("createUser").unwrap_or_default();
            let id = made.user.map(|user| user.id).unwrap_or_default();
            keep_once(&backend, &viewer, &account_slot(&id), made.one_time_password).await;
            return see_other(&format!("/admin/users/{}?done=account-added", urlencode(&id)));
        }
        errors = answer_errors(&answer, field_id, "email");
    }
    let shown = Overview { account, errors, ..Overview::default() };
    overview_page(&backend, &viewer, &csrf, &shown).await
}

/// `POST /admin/tokens`: creates an API token, shown once on the overview it redirects to.
async fn create_token<B: Backend>(
    State(backend): State<B>,
    PostedFormAs { viewer, csrf, form: fields, .. }: PostedFormAs<Administrators>,
) -> Response {
    let label = fields.trimmed("label");
    let mut errors = Errors::default();
    if label.is_empty() {
        errors.add("label", "Say what the token is for");
    } else {
        let answer = ask(
            &backend,
            &viewer,
            "mutation($l: String!) { createApiToken(label: $l) { secret } }",
            json!({ "l": label }),
        )
        .await;
        if answer.errors.is_empty() {
            let secret = answer.decode::<Secret>("createApiToken").and_then(|made| made.secret);
            keep_once(&backend, &viewer, TOKEN_SLOT, secret).await;
            return see_other("/admin?done=token-made#tokens");
        }
        errors = answer_errors(&answer, |_| "label".to_owned(), "label");
    }
    overview_page(&backend, &viewer, &csrf, &Overview { label, errors, ..Overview::default() }).await
}

/// `POST /admin/tokens-revoke`.
async fn revoke_token<B: Backend>(
    State(backend): State<B>,
    PostedFormAs { viewer, csrf, form: fields, .. }: PostedFormAs<Administrators>,
) -> Response {
    let answer = ask(
        &backend,
        &viewer,
        "mutation($id: ID!) { revokeApiToken(id: $id) { id } }",
        json!({ "id": fields.trimmed("id") }),
    )
    .await;
    if answer.errors.is_empty() {
        return see_other("/admin?done=token-revoked#tokens");
    }
    let errors = answer_errors(&answer, |_| String::new(), "");
    overview_page(&backend, &viewer, &csrf, &Overview { errors, ..Overview::default() }).await
}

/// What the form on a person's page holds: what they do, and where.
#[derive(Debug, Default)]
struct RolesForm {
    roles: Vec<String>,
    hubs: Vec<String>,
    provider: String,
}

const USER_QUERY: &str = "query($id: ID!) { \
    user(id: $id) { id displayName email roles hubs { id name } provider { id name } lockedUntil mustChangePassword createdAt deactivatedAt } \
    sessions(userId: $id, first: 20) { edges { node { id startedAt expiresAt active current } } } \
    hubs(first: 100) { edges { node { id name } } } providers(first: 100) { edges { node { id name } } } }";

/// What a person's page shows besides their account: the notice after a redirect, a one-time
/// password kept for this one view, and the roles form as it was posted.
#[derive(Default)]
struct UserView<'a> {
    done: Option<&'a str>,
    secret: Option<String>,
    form: Option<&'a RolesForm>,
}

async fn user_page<B: Backend>(
    backend: &B,
    viewer: &Viewer,
    csrf: &str,
    id: &str,
    view: UserView<'_>,
    errors: &Errors,
) -> Response {
    let UserView { done, secret, form } = view;
    let answer = ask(backend, viewer, USER_QUERY, json!({ "id": id })).await;
    if let Some(refused) = refused(viewer, csrf, &answer) {
        return refused;
    }
    let data = answer.decode_all::<UserData>();
    let user = data.user.unwrap_or_default();
    let name = user.display_name.as_deref().unwrap_or("(erased)");
    let roles = &user.roles;
    let hubs: Vec<(String, String)> = user.hubs.iter().map(|hub| (hub.id.clone(), hub.name.clone())).collect();
    let current = RolesForm {
        roles: roles.clone(),
        hubs: hubs.iter().map(|(id, _)| id.clone()).collect(),
        provider: user.provider.as_ref().map(|provider| provider.id.clone()).unwrap_or_default(),
    };
    let form = form.unwrap_or(&current);
    let (all_hubs, providers) = data.reference.choices();
    let sessions: Vec<Session> =
        data.sessions.unwrap_or_default().nodes().into_iter().filter(|session| session.active).collect();
    let base = format!("/admin/users/{}", urlencode(id));
    let yourself = viewer.actor.account.is_some_and(|me| me.to_string() == user.id);
    let missed = matches!(done, Some("account-added" | "password-reset"))
        .then_some("Their one-time password was shown once. If it was not passed on, give them a new one below.");
    let body = html! {
        (notice(done))
        (secret_notice(secret.as_deref(), "Their one-time password is below.", missed))
        p { a href="/admin#accounts" { "All accounts" } }
        h1 { (name) }
        dl class="summary-list" {
            div { dt { "Email" } dd { (user.email.as_deref().unwrap_or("(erased)")) } }
            div { dt { "What they do" } dd { (roles.iter().map(|r| role_name(r)).collect::<Vec<_>>().join(", ")) } }
            div { dt { "Hubs" } dd { @if hubs.is_empty() { "None" } @else { (hubs.iter().map(|(_, name)| name.as_str()).collect::<Vec<_>>().join(", ")) } } }
            div { dt { "Provider" } dd { (user.provider.as_ref().map_or("None", |provider| provider.name.as_str())) } }
            div { dt { "Account made" } dd { (when(&user.created_at)) } }
            @if user.must_change_password {
                div { dt { "Password" } dd { "Still the one-time password Heard made: when they next log in, Heard asks them to choose their own before they can do anything else." } }
            }
            @if let Some(at) = &user.deactivated_at {
                div { dt { "Account" } dd { "Deactivated " (when(at)) ". They cannot log in." } }
            }
        }
        @if user.deactivated_at.is_some() {
            section class="card" aria-labelledby="reactivate-title" {
                h2 id="reactivate-title" { "Deactivated" }
                p { "They cannot log in, and nothing they were logged in to or their API tokens opened works any more. Reactivate the account if they need it again: they log in with the password they had." }
                form method="post" action={ (base) "/reactivate" } {
                    (forms::csrf_field(csrf))
                    button class="button" type="submit" { "Reactivate the account" }
                }
            }
        }
        @if let Some(until) = &user.locked_until {
            section class="card" aria-labelledby="locked-title" {
                h2 id="locked-title" { "Locked after failed logins" }
                p { "Someone typed a wrong password for this account too many times. It stays locked until " (when(until)) ", unless you unlock it." }
                p { "Unlock it only once you know it was them: ask them, by a way you already use to reach them." }
                form method="post" action={ (base) "/unlock" } {
                    input type="hidden" name="csrf_token" value=(csrf);
                    button class="button" type="submit" { "Unlock the account" }
                }
            }
        }
        h2 id="roles-title" { "What they do" }
        form method="post" action={ (base) "/roles" } novalidate {
            input type="hidden" name="csrf_token" value=(csrf);
            (forms::choices(Choices { id: "roles", legend: "Their roles", multiple: true, options: role_options(), chosen: form.roles.clone(), hint: Some("Choose all that apply. Each role opens its own pages and nothing else.") }, errors))
            (forms::choices(Choices { id: "hubs", legend: "Their hubs", multiple: true, options: all_hubs, chosen: form.hubs.clone(), hint: Some("Hub members and coordinators need at least one hub.") }, errors))
            (forms::select("provider", "Their provider (for provider responders)", &providers, &form.provider, errors))
            button class="button" type="submit" { "Save what they do" }
        }
        h2 id="sessions-title" { "Where they are logged in" }
        @if sessions.is_empty() {
            p { "They are not logged in anywhere now." }
        } @else {
            p { "Log them out of a session if a device was lost or shared. They can log in again with their password." }
            ul class="timeline" {
                @for session in &sessions {
                    li {
                        "Logged in " (when(&session.started_at)) ", until " (when(&session.expires_at))
                        @if session.current { " (this is you, here)" }
                        form method="post" action={ (base) "/sessions-end" } {
                            input type="hidden" name="csrf_token" value=(csrf);
                            input type="hidden" name="session" value=(session.id);
                            button class="button-link" type="submit" { "Log them out of this session" span class="visually-hidden" { " (started " (when(&session.started_at)) ")" } }
                        }
                    }
                }
            }
        }
        @if yourself {
            h2 id="password-title" { "Your password" }
            p { "To change your own password, " a href="/account/password" { "change your password" } " with the one you have now. Another administrator can deactivate your account, if that is ever needed." }
        } @else {
            h2 id="password-title" { "A new password" }
            p { "If they forgot their password, or someone else may know it, give them a new one-time password. It is shown to you once, to pass on privately; they choose their own when they next log in. Anywhere they are logged in now, they are logged out." }
            form method="post" action={ (base) "/reset-password" } {
                (forms::csrf_field(csrf))
                button class="button button--secondary" type="submit" { "Give them a new one-time password" }
            }
            @if user.deactivated_at.is_none() {
                h2 id="deactivate-title" { "Deactivate the account" }
                p { "When someone leaves, or their account may be used by someone else, deactivate it: it stops working at once. You can reactivate it later." }
                p { a class="button button--secondary" href={ (base) "/deactivate" } { "Deactivate the account" } }
            }
        }
    };
    with_status(StatusCode::OK, errors, form_page(viewer, name, Some(csrf), errors, body))
}

/// `GET /admin/users/{id}`: one person's account; after a new account or a new password, its
/// one-time password, once.
async fn user<B: Backend>(
    State(backend): State<B>,
    SignedInAs { viewer, csrf, .. }: SignedInAs<Administrators>,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Response {
    let done = query.done.as_deref();
    let secret = match done {
        Some("account-added" | "password-reset") => shown_once(&backend, &viewer, &account_slot(&id)).await,
        _ => None,
    };
    no_store(user_page(&backend, &viewer, &csrf, &id, UserView { done, secret, form: None }, &Errors::default()).await)
}

/// `POST /admin/users/{id}/{what}`: `roles` (what they do and where), `unlock`,
/// `sessions-end` (one of their sessions), `reset-password` (a new one-time password, shown
/// once on their page) or `reactivate`.
async fn change_user<B: Backend>(
    State(backend): State<B>,
    Path((id, what)): Path<(String, String)>,
    PostedFormAs { viewer, csrf, form: fields, .. }: PostedFormAs<Administrators>,
) -> Response {
    let back = |done: &str| see_other(&format!("/admin/users/{}?done={done}", urlencode(&id)));
    let (query, variables, done) = match what.as_str() {
        "roles" => {
            let form = RolesForm {
                roles: fields.values("roles"),
                hubs: fields.values("hubs"),
                provider: fields.trimmed("provider"),
            };
            let mut errors = Errors::default();
            if form.roles.is_empty() {
                errors.add("roles", "Choose at least one role");
            } else {
                let input = json!({
                    "userId": id, "roles": form.roles, "hubs": form.hubs,
                    "provider": Some(&form.provider).filter(|p| !p.is_empty()),
                });
                let answer = submit(&backend, &viewer, "updateUserRoles", "id", input).await;
                if answer.errors.is_empty() {
                    return back("roles-saved");
                }
                errors = answer_errors(&answer, field_id, "roles");
            }
            let view = UserView { form: Some(&form), ..UserView::default() };
            return user_page(&backend, &viewer, &csrf, &id, view, &errors).await;
        }
        "unlock" => ("mutation($id: ID!) { unlockUser(id: $id) { id } }", json!({ "id": id }), "unlocked"),
        "reset-password" => (
            "mutation($id: ID!) { resetUserPassword(id: $id) { oneTimePassword } }",
            json!({ "id": id }),
            "password-reset",
        ),
        "reactivate" => ("mutation($id: ID!) { reactivateUser(id: $id) { id } }", json!({ "id": id }), "reactivated"),
        "sessions-end" => (
            "mutation($id: ID!) { revokeSession(id: $id) { id } }",
            json!({ "id": fields.trimmed("session") }),
            "session-ended",
        ),
        _ => return (StatusCode::NOT_FOUND, "There is no such page.").into_response(),
    };
    let answer = ask(&backend, &viewer, query, variables).await;
    if !answer.errors.is_empty() {
        let errors = answer_errors(&answer, |_| String::new(), "");
        return user_page(&backend, &viewer, &csrf, &id, UserView::default(), &errors).await;
    }
    if what == "reset-password" {
        let made = answer.decode::<Secret>("resetUserPassword").unwrap_or_default();
        keep_once(&backend, &viewer, &account_slot(&id), made.one_time_password).await;
    }
    back(done)
}

/// What the check-your-answers page before a deactivation asks about the account.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Deactivating {
    user: Option<Account>,
}

/// The page's field for an error `deactivateUser` gave: the account row.
const ACCOUNT_FIELD: &str = "account";

/// Check your answers before deactivating: whose account, what happens, and the one button.
/// For the administrator's own account it says at once, beside the account, that it cannot be
/// done, and offers no button.
async fn deactivate_page<B: Backend>(backend: &B, viewer: &Viewer, csrf: &str, id: &str, errors: &Errors) -> Response {
    let answer = ask(
        backend,
        viewer,
        "query($id: ID!) { user(id: $id) { id displayName email roles hubs { id name } deactivatedAt } }",
        json!({ "id": id }),
    )
    .await;
    if let Some(refused) = refused(viewer, csrf, &answer) {
        return refused;
    }
    let user = answer.decode_all::<Deactivating>().user.unwrap_or_default();
    let base = format!("/admin/users/{}", urlencode(id));
    if user.deactivated_at.is_some() && errors.is_empty() {
        return see_other(&format!("{base}?done=deactivated"));
    }
    let mut errors = errors.clone();
    let yourself = viewer.actor.account.is_some_and(|me| me.to_string() == user.id);
    if yourself && errors.is_empty() {
        errors.add(
            ACCOUNT_FIELD,
            "You cannot deactivate your own account. Another administrator can, if it must be done.",
        );
    }
    let name = user.display_name.as_deref().unwrap_or("(erased)");
    let error = errors.of(ACCOUNT_FIELD);
    let title = format!("Deactivate {name}'s account");
    let body = html! {
        p { a href=(base) { "Back to " (name) } }
        h1 { "Deactivate " (name) "'s account?" }
        dl class="summary-list check-answers" {
            div id=(ACCOUNT_FIELD) class=[error.map(|_| "field--error")] tabindex="-1" {
                dt { "Account" }
                dd {
                    (name) @if let Some(email) = &user.email { ", " (email) }
                    @if let Some(error) = error {
                        p class="field-error" id={ (ACCOUNT_FIELD) "-error" } { span class="visually-hidden" { "Error: " } (error) }
                    }
                }
            }
            div { dt { "What they do" } dd { (user.roles.iter().map(|role| role_name(role)).collect::<Vec<_>>().join(", ")) } }
            div { dt { "Hubs" } dd { @if user.hubs.is_empty() { "None" } @else { (user.hubs.iter().map(|hub| hub.name.as_str()).collect::<Vec<_>>().join(", ")) } } }
        }
        h2 { "What happens" }
        ul {
            li { "They are logged out everywhere at once, and cannot log in." }
            li { "Their API tokens stop working at once." }
            li { "Nobody can hand them work any more: they leave the lists of advocates and coordinators to choose from." }
            li { "Everything they recorded stays. You can reactivate the account later, and they log in with the password they had." }
        }
        @if !yourself {
            form method="post" action={ (base) "/deactivate" } {
                (forms::csrf_field(csrf))
                button class="button button--warning" type="submit" { "Deactivate the account" }
            }
        }
        p { a href=(base) { "Cancel: keep the account as it is" } }
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    (status, form_page(viewer, &title, Some(csrf), &errors, body)).into_response()
}

/// `GET /admin/users/{id}/deactivate`: check your answers before deactivating.
async fn deactivate_form<B: Backend>(
    State(backend): State<B>,
    SignedInAs { viewer, csrf, .. }: SignedInAs<Administrators>,
    Path(id): Path<String>,
) -> Response {
    deactivate_page(&backend, &viewer, &csrf, &id, &Errors::default()).await
}

/// `POST /admin/users/{id}/deactivate`: `deactivateUser`, then back to their page. Refused (your
/// own account), the check page again with the reason beside the account.
async fn deactivate<B: Backend>(
    State(backend): State<B>,
    Path(id): Path<String>,
    PostedFormAs { viewer, csrf, .. }: PostedFormAs<Administrators>,
) -> Response {
    let answer =
        ask(&backend, &viewer, "mutation($id: ID!) { deactivateUser(id: $id) { id } }", json!({ "id": id })).await;
    if answer.errors.is_empty() {
        return see_other(&format!("/admin/users/{}?done=deactivated", urlencode(&id)));
    }
    if let Some(refused) = refused(&viewer, &csrf, &answer) {
        return refused;
    }
    let errors = answer_errors(&answer, |_| ACCOUNT_FIELD.to_owned(), ACCOUNT_FIELD);
    deactivate_page(&backend, &viewer, &csrf, &id, &errors).await
}

/// What the add-a-hub and add-a-provider forms hold.
#[derive(Debug, Default)]
struct ReferenceForm {
    hub_name: String,
    kind: String,
    area: String,
    provider_name: String,
}

async fn hubs_page<B: Backend>(
    backend: &B,
    viewer: &Viewer,
    csrf: &str,
    done: Option<&str>,
    form: &ReferenceForm,
    errors: &Errors,
) -> Response {
    let answer = ask(
        backend,
        viewer,
        "{ hubs(first: 100) { edges { node { id name kind area } } } providers(first: 100) { edges { node { id name } } } }",
        json!({}),
    )
    .await;
    if let Some(refused) = refused(viewer, csrf, &answer) {
        return refused;
    }
    let data = answer.decode_all::<ReferenceData>();
    let hubs = data.hubs.unwrap_or_default().nodes();
    let providers = data.providers.unwrap_or_default().nodes();
    let kinds = vec![
        ("HUB".to_owned(), "A local hub: a group of people who use services in one area".to_owned()),
        ("FORUM".to_owned(), "A forum that local hubs belong to, such as a county forum".to_owned()),
    ];
    let body = html! {
        (notice(done))
        p { a href="/admin" { "Administration" } }
        h1 { "Hubs and providers" }
        p class="lead" { "Hubs and forums are where people's words are heard; providers are the services they talk about." }
        h2 id="hubs-title" { "Hubs and forums" }
        (admin_table("Hubs and forums", &["Name", "Kind", "Area", "Short name in addresses"], html! {
            @for hub in &hubs {
                tr {
                    th scope="row" { (hub.name) }
                    td { @if hub.kind == "FORUM" { "Forum" } @else { "Local hub" } }
                    td { (hub.area) }
                    td class="admin-id" { (hub.id) }
                }
            }
        }))
        h3 id="add-hub" { "Add a hub or forum" }
        form method="post" action="/admin/hubs" novalidate {
            input type="hidden" name="csrf_token" value=(csrf);
            (forms::input(Input { id: "hub_name", label: "Its name", kind: "text", value: &form.hub_name, hint: Some("For example: Bognor Regis. Heard makes its short name from this."), autocomplete: Some("off") }, errors))
            (forms::choices(Choices { id: "kind", legend: "What kind is it?", multiple: false, options: kinds, chosen: vec![form.kind.clone()], hint: None }, errors))
            (forms::input(Input { id: "area", label: "The area it covers", kind: "text", value: &form.area, hint: Some("For example: West Sussex"), autocomplete: Some("off") }, errors))
            button class="button" type="submit" { "Add the hub" }
        }
        h2 id="providers-title" { "Providers" }
        (admin_table("Providers", &["Name", "Short name in addresses"], html! {
            @for provider in &providers {
                tr { th scope="row" { (provider.name) } td class="admin-id" { (provider.id) } }
            }
        }))
        h3 id="add-provider" { "Add a provider" }
        form method="post" action="/admin/providers" novalidate {
            input type="hidden" name="csrf_token" value=(csrf);
            (forms::input(Input { id: "provider_name", label: "Its name", kind: "text", value: &form.provider_name, hint: Some("For example: Bognor community pharmacy"), autocomplete: Some("off") }, errors))
            button class="button button--secondary" type="submit" { "Add the provider" }
        }
    };
    with_status(StatusCode::OK, errors, form_page(viewer, "Hubs and providers", Some(csrf), errors, body))
}

/// `GET /admin/hubs`.
async fn hubs<B: Backend>(
    State(backend): State<B>,
    SignedInAs { viewer, csrf, .. }: SignedInAs<Administrators>,
    Query(query): Query<DoneQuery>,
) -> Response {
    hubs_page(&backend, &viewer, &csrf, query.done.as_deref(), &ReferenceForm::default(), &Errors::default()).await
}

/// `POST /admin/hubs`: `addHub`.
async fn add_hub<B: Backend>(
    State(backend): State<B>,
    PostedFormAs { viewer, csrf, form: fields, .. }: PostedFormAs<Administrators>,
) -> Response {
    let form = ReferenceForm {
        hub_name: fields.trimmed("hub_name"),
        kind: fields.trimmed("kind"),
        area: fields.trimmed("area"),
        ..ReferenceForm::default()
    };
    let mut errors = Errors::default();
    errors.require("hub_name", &form.hub_name, "Enter the hub's name");
    errors.require("kind", &form.kind, "Choose whether it is a local hub or a forum");
    errors.require("area", &form.area, "Enter the area it covers");
    if errors.is_empty() {
        let answer = submit(
            &backend,
            &viewer,
            "addHub",
            "id",
            json!({ "name": form.hub_name, "kind": form.kind, "area": form.area }),
        )
        .await;
        if answer.errors.is_empty() {
            return see_other("/admin/hubs?done=hub-added");
        }
        errors = answer_errors(&answer, hub_field, "hub_name");
    }
    hubs_page(&backend, &viewer, &csrf, None, &form, &errors).await
}

/// The add-a-hub form's field for a field `addHub` named.
fn hub_field(api_field: &str) -> String {
    match field_id(api_field).as_str() {
        "name" => "hub_name".to_owned(),
        other => other.to_owned(),
    }
}

/// `POST /admin/providers`: `addProvider`.
async fn add_provider<B: Backend>(
    State(backend): State<B>,
    PostedFormAs { viewer, csrf, form: fields, .. }: PostedFormAs<Administrators>,
) -> Response {
    let form = ReferenceForm { provider_name: fields.trimmed("provider_name"), ..ReferenceForm::default() };
    let mut errors = Errors::default();
    if form.provider_name.is_empty() {
        errors.add("provider_name", "Enter the provider's name");
    } else {
        let answer = submit(&backend, &viewer, "addProvider", "id", json!({ "name": form.provider_name })).await;
        if answer.errors.is_empty() {
            return see_other("/admin/hubs?done=provider-added#providers-title");
        }
        errors = answer_errors(&answer, |_| "provider_name".to_owned(), "provider_name");
    }
    hubs_page(&backend, &viewer, &csrf, None, &form, &errors).await
}

/// This page's routes.
pub fn routes<B: Backend>() -> axum::Router<B> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/admin", get(overview::<B>))
        .route("/admin/users", post(add_user::<B>))
        .route("/admin/users/{id}", get(user::<B>))
        .route("/admin/users/{id}/deactivate", get(deactivate_form::<B>).post(deactivate::<B>))
        .route("/admin/users/{id}/{what}", post(change_user::<B>))
        .route("/admin/tokens", post(create_token::<B>))
        .route("/admin/tokens-revoke", post(revoke_token::<B>))
        .route("/admin/hubs", get(hubs::<B>).post(add_hub::<B>))
        .route("/admin/providers", post(add_provider::<B>))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_come_from_codes_so_an_address_cannot_put_words_on_the_page() {
        assert_eq!(done_message("unlocked"), Some("Unlocked: they can log in again."));
        assert_eq!(done_message("Call 0800 000 000 to confirm your password"), None);
    }

    #[test]
    fn roles_are_named_as_people_say_them() {
        assert_eq!(role_name("HUB_COORDINATOR"), "Hub coordinator");
        assert_eq!(role_name("SOMETHING_NEW"), "something new");
    }

    #[test]
    fn times_are_said_in_words_with_their_time_zone() {
        assert_eq!(when("2026-11-23T14:05:09.123456Z"), "23 November 2026 at 14:05 UTC");
        assert_eq!(when("not a time"), "not a time");
    }

    #[test]
    fn the_hub_forms_name_field_takes_the_errors_add_hub_gives_its_name() {
        assert_eq!(hub_field("input.name"), "hub_name");
        assert_eq!(hub_field("input.area"), "area");
    }
}
