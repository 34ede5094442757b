//! The pages. Each handler asks GraphQL as the person looking, renders with [`crate::layout`],
//! and for a form posts back to itself: errors come back beside their fields.

use async_graphql::{Request, Variables};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use heard_api::{ClientIp, Viewer};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Backend;
use crate::forms::{self, Choices, Errors, Input};
use crate::layout::page;

/// The logged-in person and their session's CSRF token for forms; `None` sends them to log in.
pub(crate) fn signed_in<B: Backend>(backend: &B, headers: &HeaderMap) -> Option<(Viewer, String)> {
    let viewer = backend.viewer(headers);
    let token = backend.csrf_token(headers).filter(|_| viewer.actor.is_authenticated())?;
    Some((viewer, token))
}

/// What GraphQL answered: its data, and its errors as (field, code, message).
pub(crate) struct Answer {
    pub data: Value,
    pub errors: Vec<(Option<String>, Option<String>, String)>,
    pub headers: HeaderMap,
}

pub(crate) async fn ask<B: Backend>(backend: &B, viewer: &Viewer, query: &str, variables: Value) -> Answer {
    ask_request(backend, viewer, Request::new(query).variables(Variables::from_json(variables))).await
}

/// [`ask`], for a request that carries more than a query and variables.
pub(crate) async fn ask_request<B: Backend>(backend: &B, viewer: &Viewer, request: Request) -> Answer {
    let response = backend.execute(viewer.clone(), request).await;
    let errors = response
        .errors
        .iter()
        .map(|error| {
            let extension = |key: &str| {
                error.extensions.as_ref().and_then(|e| e.get(key)).and_then(|v| match v {
                    async_graphql::Value::String(text) => Some(text.clone()),
                    _ => None,
                })
            };
            (extension("field"), extension("code"), error.message.clone())
        })
        .collect();
    let data = response.data.into_json().unwrap_or(Value::Null);
    Answer { data, errors, headers: response.http_headers }
}

/// The page's own name for a field the API named: `input.saidOn` → `said_on`,
/// `input.themes[1]` → `themes`.
pub(crate) fn field_id(api_field: &str) -> String {
    let field = api_field.strip_prefix("input.").unwrap_or(api_field);
    let field = field.split('[').next().unwrap_or(field);
    let mut id = String::new();
    for c in field.chars() {
        if c.is_ascii_uppercase() {
            id.push('_');
            id.push(c.to_ascii_lowercase());
        } else {
            id.push(c);
        }
    }
    id
}

/// A message from the API in words for the page: the API's `field: message` loses its prefix.
pub(crate) fn plain(message: &str) -> String {
    let message = message.split_once(": ").map_or(message, |(_, rest)| rest);
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A text field of a GraphQL answer, or "" when it is missing or not text.
pub(crate) fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_default()
}

/// The answer to a form whose CSRF token is not the session's: it changes nothing.
pub(crate) fn expired() -> Response {
    (StatusCode::FORBIDDEN, "This form has expired. Go back, reload the page and try again.").into_response()
}

pub(crate) fn see_login() -> Response {
    Redirect::to("/login").into_response()
}

/// A page for some roles: `None` when the viewer has one of them, otherwise a plain "not for you" page
/// (403) that shows nothing of what the page holds. The API refuses the same people anyway;
/// this spares them forms they cannot use.
pub(crate) fn only_for(viewer: &Viewer, csrf: &str, roles: &[heard_access::Role], whose: &str) -> Option<Response> {
    if roles.iter().any(|role| viewer.actor.has(*role)) {
        return None;
    }
    let body = html! {
        h1 { "This page is for " (whose) }
        p { "What you can do is on your home page." }
        p { a href="/" { "Back to your tasks" } }
    };
    Some((StatusCode::FORBIDDEN, page(viewer, "Not available", Some(csrf), body)).into_response())
}

fn with_cookies(mut response: Response, headers: &HeaderMap) -> Response {
    for value in headers.get_all(header::SET_COOKIE) {
        response.headers_mut().append(header::SET_COOKIE, value.clone());
    }
    response
}

/// `GET /`: a welcome, and the person's tasks once logged in.
pub async fn home<B: Backend>(State(backend): State<B>, headers: HeaderMap) -> Markup {
    let viewer = backend.viewer(&headers);
    let csrf = backend.csrf_token(&headers);
    let csrf = csrf.as_deref();
    if !viewer.actor.is_authenticated() {
        let hubs = ask(&backend, &viewer, "{ hubs(first: 100) { edges { node { id name } } } }", json!({})).await;
        let hubs = hubs.data["hubs"]["edges"].as_array().cloned().unwrap_or_default();
        return page(
            &viewer,
            "Welcome",
            None,
            html! {
                h1 { "Heard" }
                p class="lead" { "What people who use drug and alcohol services say, what happened because of it, and the rights they have." }
                p { a class="button" href="/login" { "Log in" } }
                h2 { "You said, we did" }
                p { "Each hub publishes what people told it and what changed. No login needed." }
                ul class="link-list" {
                    @for hub in &hubs {
                        @let id = hub["node"]["id"].as_str().unwrap_or_default();
                        li { a href={ "/public/you-said-we-did/" (id) } { (hub["node"]["name"].as_str().unwrap_or(id)) } }
                    }
                }
            },
        );
    }
    let me = ask(&backend, &viewer, "{ me { displayName roles hubs { id name } } }", json!({})).await;
    let name = me.data["me"]["displayName"].as_str().unwrap_or("there").to_owned();
    page(
        &viewer,
        "Your tasks",
        csrf,
        html! {
            h1 { "Hello, " (name) }
            @if viewer.actor.has(heard_access::Role::HubMember) || viewer.actor.has(heard_access::Role::HubCoordinator) {
                section class="card" aria-labelledby="log-title" {
                    h2 id="log-title" { "Log what people said" }
                    p { "During a forum, a drop-in or a one-to-one: one point per item, in the speaker's own words." }
                    p { a class="button" href="/feedback/new" { "Log feedback" } }
                    p { a href="/meetings/new" { "Record a meeting: attendance and minutes" } }
                }
            }
            @if viewer.actor.has(heard_access::Role::HubCoordinator) {
                section class="card" aria-labelledby="moderate-title" {
                    h2 id="moderate-title" { "Moderate before anything leaves the hub" }
                    p { "Redact what could identify someone, then share or hold each item." }
                    p { a class="button" href="/moderation" { "Open the moderation queue" } }
                }
            }
            @if viewer.actor.has(heard_access::Role::Advocate) {
                section class="card" aria-labelledby="cases-title" {
                    h2 id="cases-title" { "My cases" }
                    p { "The people you advocate for, one issue at a time." }
                    p { a class="button" href="/cases" { "Open my cases" } }
                }
            }
            @if viewer.actor.has(heard_access::Role::ComplaintsHandler) {
                section class="card" aria-labelledby="complaints-title" {
                    h2 id="complaints-title" { "Complaints" }
                    p { "Open complaints, the most urgent first, with their working-day clocks." }
                    p { a class="button" href="/complaints" { "Open the complaints queue" } }
                }
            }
            @if [heard_access::Role::HubMember, heard_access::Role::HubCoordinator, heard_access::Role::Advocate].iter().any(|role| viewer.actor.has(*role)) {
                section class="card" aria-labelledby="raise-title" {
                    h2 id="raise-title" { "Raise a complaint" }
                    p { "Someone feels a service broke the Bill of Rights? Record their complaint with them. It is acknowledged within 3 working days." }
                    p { a href="/complaints/new" { "Raise a complaint" } }
                }
            }
            @if viewer.actor.has(heard_access::Role::ProviderResponder) {
                section class="card" aria-labelledby="provider-title" {
                    h2 id="provider-title" { "Complaints about your service" }
                    p { "Complaints made about your service under the Bill of Rights, and where each one stands. Who made them is not shown." }
                    p { a class="button" href="/complaints" { "See the complaints" } }
                }
            }
            @if viewer.actor.has(heard_access::Role::Commissioner) {
                section class="card" aria-labelledby="dashboard-title" {
                    h2 id="dashboard-title" { "What people are telling you" }
                    p { "Feedback by theme over time, how many loops closed, how fast you answered, and complaints by right." }
                    p { a class="button" href="/dashboard" { "Open the dashboard" } }
                    p { a href="/shared" { "Answer shared feedback" } }
                    p { a href="/decisions" { "Decisions and the evidence behind them" } }
                }
            }
            section class="card" aria-labelledby="reports-title" {
                h2 id="reports-title" { "You said, we did" }
                p { a href="/reports" { "Build a report of what people said and what was done about it" } }
            }
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
}

/// The login page, with a fresh visit cookie and its token in the form.
fn login_response<B: Backend>(
    backend: &B,
    status: StatusCode,
    viewer: &Viewer,
    email: &str,
    errors: &Errors,
) -> Response {
    let (cookie, token) = backend.login_challenge();
    let mut response = (status, login_page(viewer, email, &token, errors)).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn login_page(viewer: &Viewer, email: &str, token: &str, errors: &Errors) -> Markup {
    page(
        viewer,
        if errors.is_empty() { "Log in" } else { "Error: Log in" },
        None,
        html! {
            (forms::summary(errors))
            h1 { "Log in" }
            form method="post" action="/login" novalidate {
                input type="hidden" name="login_token" value=(token);
                (forms::input(Input { id: "email", label: "Email address", kind: "email", value: email, hint: None, autocomplete: Some("username") }, errors))
                (forms::input(Input { id: "password", label: "Password", kind: "password", value: "", hint: None, autocomplete: Some("current-password") }, errors))
                button class="button" type="submit" { "Log in" }
            }
        },
    )
}

/// `GET /login`.
pub async fn login_form<B: Backend>(State(backend): State<B>, headers: HeaderMap) -> Response {
    let viewer = backend.viewer(&headers);
    if viewer.actor.is_authenticated() {
        return Redirect::to("/").into_response();
    }
    login_response(&backend, StatusCode::OK, &viewer, "", &Errors::default())
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
        return login_response(&backend, StatusCode::FORBIDDEN, &viewer, form.email.trim(), &errors);
    }
    let mut errors = Errors::default();
    if form.email.trim().is_empty() {
        errors.add("email", "Enter your email address");
    }
    if form.password.is_empty() {
        errors.add("password", "Enter your password");
    }
    if errors.is_empty() {
        let mut request =
            Request::new("mutation($e: String!, $p: String!) { login(email: $e, password: $p) { csrfToken } }")
                .variables(Variables::from_json(json!({ "e": form.email.trim(), "p": form.password })));
        if let Some(Extension(client)) = client {
            request = request.data(client);
        }
        let answer = ask_request(&backend, &viewer, request).await;
        if answer.errors.is_empty() {
            return with_cookies(Redirect::to("/").into_response(), &answer.headers);
        }
        for (_, _, message) in answer.errors {
            errors.add("email", plain(&message));
        }
    }
    login_response(&backend, StatusCode::UNPROCESSABLE_ENTITY, &viewer, form.email.trim(), &errors)
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

/// What the log-feedback form holds.
#[derive(Clone, Debug, Default)]
struct FeedbackForm {
    hub: String,
    text: String,
    channel: String,
    themes: Vec<String>,
    speaker: String,
    speaker_name: String,
    consent: String,
    said_on: String,
    about: String,
}

impl FeedbackForm {
    fn from_pairs(pairs: &[(String, String)]) -> (FeedbackForm, String) {
        let mut form = FeedbackForm::default();
        let mut csrf = String::new();
        for (key, value) in pairs {
            match key.as_str() {
                "hub" => form.hub = value.clone(),
                "text" => form.text = value.clone(),
                "channel" => form.channel = value.clone(),
                "themes" => form.themes.push(value.clone()),
                "speaker" => form.speaker = value.clone(),
                "speaker_name" => form.speaker_name = value.clone(),
                "consent" => form.consent = value.clone(),
                "said_on" => form.said_on = value.clone(),
                "about" => form.about = value.clone(),
                "csrf_token" => csrf = value.clone(),
                _ => {}
            }
        }
        (form, csrf)
    }
}

const CHANNELS: [(&str, &str); 6] = [
    ("FORUM", "Forum meeting"),
    ("DROP_IN", "Drop-in"),
    ("ONE_TO_ONE", "One-to-one"),
    ("SURVEY", "Survey"),
    ("ONLINE", "Online"),
    ("PHONE", "Phone or text"),
];

const SPEAKERS: [(&str, &str); 3] = [
    ("ANONYMOUS", "Anonymous: no name is kept"),
    ("PSEUDONYMOUS", "A name they chose (not their real name)"),
    ("NAMED", "Their own name"),
];

const CONSENTS: [(&str, &str); 3] = [
    ("HUB", "Only this hub"),
    ("COMMISSIONERS", "This hub, and commissioners and the service it is about"),
    ("PUBLIC", "Anyone: it can be published"),
];

fn pairs(options: &[(&str, &str)]) -> Vec<(String, String)> {
    options.iter().map(|(value, label)| ((*value).to_owned(), (*label).to_owned())).collect()
}

async fn feedback_page<B: Backend>(
    backend: &B,
    viewer: &Viewer,
    csrf: &str,
    form: &FeedbackForm,
    errors: &Errors,
    logged: Option<&str>,
) -> Markup {
    let answer = ask(backend, viewer, "{ me { hubs { id name } } themes { id name parent } }", json!({})).await;
    let hubs: Vec<(String, String)> = answer.data["me"]["hubs"]
        .as_array()
        .map(|hubs| {
            hubs.iter()
                .map(|hub| {
                    (
                        hub["id"].as_str().unwrap_or_default().to_owned(),
                        hub["name"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let themes: Vec<(String, String)> = answer.data["themes"]
        .as_array()
        .map(|themes| {
            themes
                .iter()
                .filter(|theme| !theme["parent"].is_null())
                .map(|theme| {
                    (
                        theme["id"].as_str().unwrap_or_default().to_owned(),
                        theme["name"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let title = if errors.is_empty() { "Log feedback" } else { "Error: Log feedback" };
    page(
        viewer,
        title,
        Some(csrf),
        html! {
            (forms::summary(errors))
            @if let Some(logged) = logged {
                div class="notice" role="status" {
                    h2 { "Logged" }
                    p { "“" (logged) "” is saved. Log the next point below." }
                }
            }
            h1 { "Log feedback" }
            p class="lead" { "One point per item, in the speaker's own words." }
            p { "At the end of a meeting, " a href="/meetings/new" { "record the meeting" } "." }
            form method="post" action="/feedback/new" novalidate {
                input type="hidden" name="csrf_token" value=(csrf);
                (forms::select("hub", "Hub", &hubs, &form.hub, errors))
                (forms::textarea("text", "What did they say?", &form.text, Some("Write it in their words. Leave out names of other people."), errors))
                (forms::choices(Choices { id: "channel", legend: "Where was it said?", multiple: false, options: pairs(&CHANNELS), chosen: vec![form.channel.clone()], hint: None }, errors))
                (forms::input(Input { id: "about", label: "Which service is it about? (optional)", kind: "text", value: &form.about, hint: Some("For example: the pharmacy in Bognor, or Addaction"), autocomplete: None }, errors))
                (forms::choices(Choices { id: "themes", legend: "Themes (optional)", multiple: true, options: themes, chosen: form.themes.clone(), hint: Some("Choose any that fit.") }, errors))
                (forms::choices(Choices { id: "speaker", legend: "Who said it?", multiple: false, options: pairs(&SPEAKERS), chosen: vec![form.speaker.clone()], hint: None }, errors))
                (forms::input(Input { id: "speaker_name", label: "Their chosen name (only for a chosen or own name)", kind: "text", value: &form.speaker_name, hint: Some("Only this hub ever sees it."), autocomplete: Some("off") }, errors))
                (forms::choices(Choices { id: "consent", legend: "Who did they agree can see it?", multiple: false, options: pairs(&CONSENTS), chosen: vec![form.consent.clone()], hint: Some("Ask them. If you are not sure, choose only this hub.") }, errors))
                (forms::input(Input { id: "said_on", label: "When was it said?", kind: "date", value: &form.said_on, hint: Some("For example, 2026-11-23"), autocomplete: None }, errors))
                button class="button" type="submit" { "Save and log another" }
            }
        },
    )
}

fn today() -> String {
    jiff::Zoned::now().date().to_string()
}

/// `GET /feedback/new`: the form, ready for a meeting.
pub async fn log_feedback_form<B: Backend>(State(backend): State<B>, headers: HeaderMap) -> Response {
    let Some((viewer, csrf)) = signed_in(&backend, &headers) else {
        return see_login();
    };
    let csrf = csrf.as_str();
    let form = FeedbackForm { said_on: today(), ..FeedbackForm::default() };
    feedback_page(&backend, &viewer, csrf, &form, &Errors::default(), None).await.into_response()
}

/// `POST /feedback/new`: `logFeedback`; on success the form comes back for the next item,
/// keeping the hub, place and date.
pub async fn log_feedback<B: Backend>(
    State(backend): State<B>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let Some((viewer, csrf)) = signed_in(&backend, &headers) else {
        return see_login();
    };
    let csrf = csrf.as_str();
    let (form, token) = FeedbackForm::from_pairs(&fields);
    if !backend.csrf_matches(&viewer, &token) {
        return expired();
    }
    let mut errors = Errors::default();
    if form.text.trim().is_empty() {
        errors.add("text", "Write what they said");
    }
    if form.channel.is_empty() {
        errors.add("channel", "Choose where it was said");
    }
    if form.speaker.is_empty() {
        errors.add("speaker", "Choose who said it");
    }
    if form.consent.is_empty() {
        errors.add("consent", "Choose who they agreed can see it");
    }
    if errors.is_empty() {
        let input = json!({
            "hub": form.hub, "text": form.text, "channel": form.channel, "themes": form.themes,
            "speaker": form.speaker, "speakerName": Some(form.speaker_name.trim()).filter(|n| !n.is_empty()),
            "consent": form.consent, "saidOn": form.said_on,
            "about": Some(form.about.trim()).filter(|a| !a.is_empty()),
        });
        let answer = ask(
            &backend,
            &viewer,
            "mutation($i: LogFeedbackInput!) { logFeedback(input: $i) { id text } }",
            json!({ "i": input }),
        )
        .await;
        if answer.errors.is_empty() {
            let text = answer.data["logFeedback"]["text"].as_str().unwrap_or_default();
            let short: String = text.chars().take(80).collect();
            let next = FeedbackForm {
                hub: form.hub.clone(),
                channel: form.channel.clone(),
                said_on: form.said_on.clone(),
                consent: form.consent.clone(),
                ..FeedbackForm::default()
            };
            return feedback_page(&backend, &viewer, csrf, &next, &Errors::default(), Some(&short))
                .await
                .into_response();
        }
        for (field, _, message) in answer.errors {
            errors.add(&field.as_deref().map(field_id).unwrap_or_default(), plain(&message));
        }
    }
    let page = feedback_page(&backend, &viewer, csrf, &form, &errors, None).await;
    let mut response = (StatusCode::UNPROCESSABLE_ENTITY, page).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_field_names_become_the_ids_of_the_fields_on_the_page() {
        assert_eq!(field_id("input.saidOn"), "said_on");
        assert_eq!(field_id("input.themes[1]"), "themes");
        assert_eq!(field_id("hub"), "hub");
        assert_eq!(field_id("input.speakerName"), "speaker_name");
    }

    #[test]
    fn api_messages_lose_their_field_prefix_and_start_with_a_capital() {
        assert_eq!(plain("input.text: write what they said"), "Write what they said");
        assert_eq!(plain("the email or password is not right"), "The email or password is not right");
    }
}
