//! The pages every visitor meets: home (a welcome, or the person's tasks once logged in),
//! logging in and out, and logging feedback. Each handler asks GraphQL as the person looking,
//! renders with [`crate::layout`], and for a form posts back to itself: errors come back
//! beside their fields.

use async_graphql::{Request, Variables};
use axum::Extension;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use heard_access::Action;
use heard_api::{ClientIp, Viewer};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use crate::Backend;
use crate::backend::{ask, ask_request};
use crate::extract::Visitor;
use crate::forms::{self, Errors, Input, form_page};
use crate::kit::{expired, local_address, may, plain, with_cookies};
use crate::layout::page;

/// What the home page asks about the person.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Me {
    #[serde(default)]
    display_name: Option<String>,
}

/// A task on the home page: its heading, what it is, the button that starts it and any
/// further links.
fn task(id: &str, title: &str, what: Option<&str>, button: Option<(&str, &str)>, links: &[(&str, &str)]) -> Markup {
    html! {
        section class="card" aria-labelledby={ (id) "-title" } {
            h2 id={ (id) "-title" } { (title) }
            @if let Some(what) = what { p { (what) } }
            @if let Some((href, label)) = button { p { a class="button" href=(href) { (label) } } }
            @for (href, label) in links { p { a href=(href) { (label) } } }
        }
    }
}

/// Any address no page answers: a page that says so, with the way home, in the site's own
/// layout (for the person as they are, logged in or not).
pub async fn not_found(Visitor { viewer, csrf }: Visitor) -> Response {
    let body = html! {
        h1 { "Page not found" }
        p { "If you typed the web address, check it is correct." }
        p { "If you followed a link or a bookmark, the page may have moved, or it may be one you cannot see." }
        p { a href="/" { "Go to the home page" } }
    };
    (StatusCode::NOT_FOUND, page(&viewer, "Page not found", csrf.as_deref(), body)).into_response()
}

/// `GET /`: a welcome, and the person's tasks once logged in.
pub async fn home<B: Backend>(State(backend): State<B>, Visitor { viewer, csrf }: Visitor) -> Markup {
    let csrf = csrf.as_deref();
    if !viewer.actor.is_authenticated() {
        // What a visitor sees is the public module's (people's public words, how to get
        // involved, how to complain); this page only frames it.
        return page(&viewer, "Welcome", None, crate::public::home(&backend).await);
    }
    let me = ask(&backend, &viewer, "{ me { displayName roles hubs { id name } } }", json!({})).await;
    let name = me.decode::<Me>("me").and_then(|me| me.display_name).unwrap_or_else(|| "there".to_owned());
    // Hub members, coordinators and advocates raise complaints with the person beside them;
    // the complaints team has its queue instead.
    let raises_with_people = may(&viewer, Action::LogFeedback) || may(&viewer, Action::RelayComplaint);
    let waiting = crate::waiting::for_you(&backend, &viewer).await;
    page(
        &viewer,
        "Your tasks",
        csrf,
        html! {
            h1 { "Hello, " (name) }
            (waiting)
            @if may(&viewer, Action::LogFeedback) {
                (task("log", "Log what people said", Some("During a forum, a drop-in or a one-to-one: one point per item, in the speaker's own words."), Some(("/feedback/new", "Log feedback")), &[("/meetings", "Start a meeting, or carry on with one")]))
            }
            @if may(&viewer, Action::ViewQueue) {
                (task("moderate", "Moderate before anything leaves the hub", Some("Redact what could identify someone, then share or hold each item."), Some(("/moderation", "Open the moderation queue")), &[]))
            }
            @if may(&viewer, Action::ReferCase) {
                (task("cases", "My cases", Some("The people you advocate for, one issue at a time."), Some(("/cases", "Open my cases")), &[]))
            }
            @if may(&viewer, Action::HandleComplaint) {
                (task("complaints", "Complaints", Some("Open complaints, the most urgent first, with their working-day clocks."), Some(("/complaints", "Open the complaints queue")), &[]))
            }
            @if raises_with_people {
                (task("raise", "Raise a complaint", Some("Someone feels a service broke the Bill of Rights? Record their complaint with them. It is acknowledged within 3 working days."), None, &[("/complaints/new", "Raise a complaint")]))
            }
            @if may(&viewer, Action::AnswerForProvider) {
                (task("provider", "Complaints about your service", Some("Complaints made about your service under the Bill of Rights, and where each one stands. Who made them is not shown."), Some(("/complaints", "See the complaints")), &[]))
            }
            @if may(&viewer, Action::RecordDecision) {
                (task("dashboard", "What people are telling you", Some("Feedback by theme over time, how many loops closed, how fast you answered, and complaints by right."), Some(("/dashboard", "Open the dashboard")), &[("/shared", "Answer shared feedback"), ("/decisions", "Decisions and the evidence behind them")]))
            }
            @if heard_access::may_act_for_people(&viewer.actor) {
                (task("people", "A person's rights", Some("When someone asks what Heard holds about them, or asks for it to be erased."), None, &[("/people", "Find a person's records by their code")]))
            }
            (task("reports", "You said, we did", None, None, &[("/reports", "Build a report of what people said and what was done about it")]))
        },
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    login_token: String,
    /// Where to go after logging in (an address on this site).
    #[serde(default)]
    next: String,
}

/// `GET /login?next=…`: where the person was going.
#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    next: String,
}

/// Where a login sends the person: `next` when it is an address on this site, else home.
fn after_login(next: &str) -> Redirect {
    Redirect::to(local_address(next).unwrap_or("/"))
}

/// The login page, with a fresh visit cookie and its token in the form.
fn login_response<B: Backend>(
    backend: &B,
    status: StatusCode,
    viewer: &Viewer,
    (email, next): (&str, &str),
    errors: &Errors,
) -> Response {
    let (cookie, token) = backend.login_challenge();
    let next = local_address(next).unwrap_or("");
    let mut response = (status, login_page(viewer, email, next, &token, errors)).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn login_page(viewer: &Viewer, email: &str, next: &str, token: &str, errors: &Errors) -> Markup {
    let body = html! {
        h1 { "Log in" }
        @if !next.is_empty() { p { "Log in to see that page; you will go straight to it." } }
        form method="post" action="/login" novalidate {
            input type="hidden" name="login_token" value=(token);
            @if !next.is_empty() { input type="hidden" name="next" value=(next); }
            (forms::input(Input { id: "email", label: "Email address", kind: "email", value: email, hint: None, autocomplete: Some("username") }, errors))
            (forms::input(Input { id: "password", label: "Password", kind: "password", value: "", hint: None, autocomplete: Some("current-password") }, errors))
            button class="button" type="submit" { "Log in" }
        }
    };
    form_page(viewer, "Log in", None, errors, body)
}

/// `GET /login`.
pub async fn login_form<B: Backend>(
    State(backend): State<B>,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Response {
    let viewer = backend.viewer(&headers);
    if viewer.actor.is_authenticated() {
        return after_login(&query.next).into_response();
    }
    login_response(&backend, StatusCode::OK, &viewer, ("", &query.next), &Errors::default())
}

/// `POST /login`: the `login` mutation; its cookies go back with a redirect home. A form that
/// did not come from this browser's visit to the login page (another site posting it, a
/// replayed form) is refused before the password is looked at. The login is throttled by the
/// client's address exactly as GraphQL's is.
pub async fn login<B: Backend>(
    State(backend): State<B>,
    client: Option<Extension<ClientIp>>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let viewer = backend.viewer(&headers);
    if !backend.login_form_is_ours(&headers, &form.login_token) {
        let mut errors = Errors::default();
        errors.add("email", "This login form has expired or came from another website. Log in again here.");
        return login_response(&backend, StatusCode::FORBIDDEN, &viewer, (form.email.trim(), &form.next), &errors);
    }
    let mut errors = Errors::default();
    errors.require("email", form.email.trim(), "Enter your email address");
    errors.require("password", &form.password, "Enter your password");
    if errors.is_empty() {
        let mut request =
            Request::new("mutation($e: String!, $p: String!) { login(email: $e, password: $p) { csrfToken } }")
                .variables(Variables::from_json(json!({ "e": form.email.trim(), "p": form.password })));
        if let Some(Extension(client)) = client {
            request = request.data(client);
        }
        let answer = ask_request(&backend, &viewer, request).await;
        if answer.errors.is_empty() {
            return with_cookies(after_login(&form.next).into_response(), &answer.headers);
        }
        for (_, _, message) in answer.errors {
            errors.add("email", plain(&message));
        }
    }
    login_response(&backend, StatusCode::UNPROCESSABLE_ENTITY, &viewer, (form.email.trim(), &form.next), &errors)
}

#[derive(Debug, Default, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf_token: String,
}

/// `POST /logout`.
pub async fn logout<B: Backend>(State(backend): State<B>, headers: HeaderMap, Form(form): Form<CsrfForm>) -> Response {
    let viewer = backend.viewer(&headers);
    if !viewer.actor.is_authenticated() {
        return Redirect::to("/").into_response();
    }
    if !backend.csrf_matches(&viewer, &form.csrf_token) {
        return expired();
    }
    let answer = ask(&backend, &viewer, "mutation { logout }", json!({})).await;
    with_cookies(Redirect::to("/").into_response(), &answer.headers)
}
