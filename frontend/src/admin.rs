//! An administrator's pages: the accounts (and adding one), API tokens (created, shown once,
//! revoked) and the access log. Administrators manage accounts, never content.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Backend;
use crate::forms::{self, Choices, Errors, Input};
use crate::layout::page;
use crate::moderation::urlencode;
use crate::pages::{ask, field_id, plain, see_login, signed_in};

const ROLES: [(&str, &str); 7] = [
    ("HUB_MEMBER", "Hub member"),
    ("HUB_COORDINATOR", "Hub coordinator"),
    ("ADVOCATE", "Advocate"),
    ("COMPLAINTS_HANDLER", "Complaints handler"),
    ("COMMISSIONER", "Commissioner"),
    ("PROVIDER_RESPONDER", "Provider responder"),
    ("ADMINISTRATOR", "Administrator"),
];

#[derive(Debug, Default, Deserialize)]
pub struct AdminQuery {
    done: Option<String>,
    error: Option<String>,
    field: Option<String>,
    /// A secret shown once (a one-time password or a new API token): never in a URL, only on
    /// the page answering the form that made it.
    #[serde(skip)]
    secret: Option<String>,
}

fn nodes(value: &Value) -> Vec<Value> {
    value["edges"].as_array().map(|edges| edges.iter().map(|e| e["node"].clone()).collect()).unwrap_or_default()
}

/// `GET /admin`.
pub async fn overview<B: Backend>(
    State(backend): State<B>,
    headers: HeaderMap,
    Query(query): Query<AdminQuery>,
) -> Response {
    let Some((viewer, csrf)) = signed_in(&backend, &headers) else {
        return see_login();
    };
    let csrf = csrf.as_str();
    let answer = ask(
        &backend,
        &viewer,
        "{ users(first: 100) { edges { node { id displayName email roles hubs { name } lockedUntil } } } \
           apiTokens { edges { node { id label createdAt revokedAt } } } \
           accessLog(last: 25) { edges { node { at action resourceKind allowed reason actor { displayName } } } } \
           hubs(first: 100) { edges { node { id name } } } }",
        json!({}),
    )
    .await;
    if let Some((_, Some(code), message)) = answer.errors.first()
        && code == "FORBIDDEN"
    {
        let body = html! { h1 { "Administration" } p { (plain(message)) } };
        return (StatusCode::FORBIDDEN, page(&viewer, "Administration", Some(csrf), body)).into_response();
    }
    let users = nodes(&answer.data["users"]);
    let tokens = nodes(&answer.data["apiTokens"]);
    let mut log = nodes(&answer.data["accessLog"]);
    log.reverse();
    let hubs: Vec<(String, String)> = nodes(&answer.data["hubs"])
        .iter()
        .map(|hub| {
            (hub["id"].as_str().unwrap_or_default().to_owned(), hub["name"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    let mut errors = Errors::default();
    if let Some(error) = &query.error {
        errors.add(query.field.as_deref().unwrap_or(""), error.clone());
    }
    let roles: Vec<(String, String)> = ROLES.iter().map(|(v, l)| ((*v).to_owned(), (*l).to_owned())).collect();
    let body = html! {
        (forms::summary(&errors))
        @if let Some(done) = &query.done { div class="notice" role="status" { p { (done) } } }
        @if let Some(secret) = &query.secret {
            div class="notice" role="status" {
                p { "Copy this now and pass it on privately. Heard will not show it again:" }
                p { code class="secret" { (secret) } }
            }
        }
        h1 { "Administration" }
        h2 id="accounts" { "Accounts" }
        table class="cases" {
            caption class="visually-hidden" { "Accounts" }
            thead { tr { th scope="col" { "Name" } th scope="col" { "Email" } th scope="col" { "Roles" } th scope="col" { "Hubs" } } }
            tbody {
                @for user in &users {
                    tr {
                        th scope="row" { (user["displayName"].as_str().unwrap_or("(erased)")) @if !user["lockedUntil"].is_null() { " " span class="tag tag--overdue" { "Locked" } } }
                        td { (user["email"].as_str().unwrap_or("")) }
                        td { (user["roles"].as_array().map(|r| r.iter().filter_map(Value::as_str).map(|r| r.replace('_', " ").to_lowercase()).collect::<Vec<_>>().join(", ")).unwrap_or_default()) }
                        td { (user["hubs"].as_array().map(|h| h.iter().filter_map(|h| h["name"].as_str()).collect::<Vec<_>>().join(", ")).unwrap_or_default()) }
                    }
                }
            }
        }
        h2 id="add" { "Add an account" }
        form method="post" action="/admin/users" novalidate {
            input type="hidden" name="csrf_token" value=(csrf);
            (forms::input(Input { id: "display_name", label: "Name", kind: "text", value: "", hint: None, autocomplete: Some("off") }, &errors))
            (forms::input(Input { id: "email", label: "Email address", kind: "email", value: "", hint: None, autocomplete: Some("off") }, &errors))
            (forms::choices(Choices { id: "roles", legend: "What they do", multiple: true, options: roles, chosen: vec![], hint: None }, &errors))
            (forms::choices(Choices { id: "hubs", legend: "Their hubs (for hub members and coordinators)", multiple: true, options: hubs, chosen: vec![], hint: None }, &errors))
            p class="hint" { "Heard makes a one-time password to pass on privately." }
            button class="button" type="submit" { "Add the account" }
        }
        h2 id="tokens" { "Your API tokens" }
        ul {
            @for token in &tokens {
                li {
                    (token["label"].as_str().unwrap_or("")) " – made " (token["createdAt"].as_str().unwrap_or(""))
                    @if let Some(revoked) = token["revokedAt"].as_str() { " – revoked " (revoked) } @else {
                        form method="post" action="/admin/tokens-revoke" class="inline" {
                            input type="hidden" name="csrf_token" value=(csrf);
                            input type="hidden" name="id" value=(token["id"].as_str().unwrap_or(""));
                            button class="button-link" type="submit" { "Revoke " span class="visually-hidden" { (token["label"].as_str().unwrap_or("")) } }
                        }
                    }
                }
            }
        }
        form method="post" action="/admin/tokens" novalidate {
            input type="hidden" name="csrf_token" value=(csrf);
            (forms::input(Input { id: "label", label: "What the new token is for", kind: "text", value: "", hint: Some("For example: the county dashboard"), autocomplete: Some("off") }, &errors))
            button class="button button--secondary" type="submit" { "Create a token" }
        }
        h2 id="log" { "Access log (latest 25)" }
        table class="cases" {
            caption class="visually-hidden" { "Access log" }
            thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "What" } th scope="col" { "Result" } } }
            tbody {
                @for entry in &log {
                    tr {
                        td { (entry["at"].as_str().unwrap_or("").get(..19).unwrap_or("")) }
                        td { (entry["actor"]["displayName"].as_str().unwrap_or("Not logged in")) }
                        td { (entry["action"].as_str().unwrap_or("").replace('_', " ")) " (" (entry["resourceKind"].as_str().unwrap_or("").replace('_', " ")) ")" }
                        td { @if entry["allowed"] == true { "Allowed" } @else { "Refused: " (entry["reason"].as_str().unwrap_or("")) } }
                    }
                }
            }
        }
    };
    page(&viewer, if errors.is_empty() { "Administration" } else { "Error: Administration" }, Some(csrf), body)
        .into_response()
}

fn back(done: Result<String, (String, String)>) -> Response {
    let url = match done {
        Ok(done) => format!("/admin?done={}", urlencode(&done)),
        Err((field, error)) => format!("/admin?error={}&field={}", urlencode(&error), urlencode(&field)),
    };
    Redirect::to(&url).into_response()
}

/// The page again, with a secret shown once (not a redirect: a secret never goes in a URL).
async fn show_once<B: Backend>(backend: B, headers: HeaderMap, done: &str, secret: Option<&str>) -> Response {
    let query = AdminQuery { done: Some(done.to_owned()), secret: secret.map(str::to_owned), ..AdminQuery::default() };
    overview(State(backend), headers, Query(query)).await
}

/// `POST /admin/{what}`: add an account, create or revoke a token.
pub async fn act<B: Backend>(
    State(backend): State<B>,
    axum::extract::Path(what): axum::extract::Path<String>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let viewer = backend.viewer(&headers);
    if !viewer.actor.is_authenticated() {
        return see_login();
    }
    let value = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default();
    let values = |key: &str| fields.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect::<Vec<_>>();
    if !backend.csrf_matches(&viewer, &value("csrf_token")) {
        return (StatusCode::FORBIDDEN, "This form has expired. Go back, reload the page and try again.")
            .into_response();
    }
    match what.as_str() {
        "users" => {
            if values("roles").is_empty() {
                return back(Err(("roles".into(), "Choose what they do".into())));
            }
            let input = json!({ "email": value("email"), "displayName": value("display_name"), "roles": values("roles"), "hubs": values("hubs") });
            let answer = ask(
                &backend,
                &viewer,
                "mutation($i: CreateUserInput!) { createUser(input: $i) { oneTimePassword } }",
                json!({ "i": input }),
            )
            .await;
            match answer.errors.first() {
                None => {
                    let secret = answer.data["createUser"]["oneTimePassword"].as_str().map(str::to_owned);
                    show_once(backend, headers, "Account added.", secret.as_deref()).await
                }
                Some((field, _, message)) => {
                    back(Err((field.as_deref().map(field_id).unwrap_or_default(), plain(message))))
                }
            }
        }
        "tokens" => {
            let answer = ask(
                &backend,
                &viewer,
                "mutation($l: String!) { createApiToken(label: $l) { secret } }",
                json!({ "l": value("label") }),
            )
            .await;
            match answer.errors.first() {
                None => {
                    let secret = answer.data["createApiToken"]["secret"].as_str().map(str::to_owned);
                    show_once(backend, headers, "Token created.", secret.as_deref()).await
                }
                Some((_, _, message)) => back(Err(("label".into(), plain(message)))),
            }
        }
        "tokens-revoke" => {
            let answer = ask(
                &backend,
                &viewer,
                "mutation($id: ID!) { revokeApiToken(id: $id) { id } }",
                json!({ "id": value("id") }),
            )
            .await;
            match answer.errors.first() {
                None => back(Ok("Token revoked.".into())),
                Some((_, _, message)) => back(Err((String::new(), plain(message)))),
            }
        }
        _ => (StatusCode::NOT_FOUND, "There is no such page.").into_response(),
    }
}

/// This page's routes.
pub fn routes<B: Backend>() -> axum::Router<B> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/admin", get(overview::<B>))
        .route("/admin/{what}", post(act::<B>))
}
