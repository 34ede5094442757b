//! A hub coordinator's moderation queue: each item as said and as it would be shared, side by
//! side, with plain forms to redact, share or hold it. Works without JavaScript: every action
//! posts, and the page comes back (post, redirect, get) with what happened.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Backend;
use crate::forms::{self, Errors};
use crate::layout::page;
use crate::pages::{ask, plain, see_login, signed_in};

#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    hub: Option<String>,
    /// What the last action did, to say so at the top.
    done: Option<String>,
    /// An error from the last action, and the item it was about.
    error: Option<String>,
    item: Option<String>,
}

fn consent_words(consent: &str) -> &'static str {
    match consent {
        "HUB" => "This hub only",
        "COMMISSIONERS" => "Commissioners and the service it is about",
        "PUBLIC" => "Anyone (can be published)",
        _ => "Withdrawn",
    }
}

fn back(hub: &str, outcome: Result<&str, String>, item: &str) -> Response {
    let mut url = format!("/moderation?hub={}", urlencode(hub));
    match outcome {
        Ok(done) => url.push_str(&format!("&done={done}")),
        Err(error) => url.push_str(&format!("&error={}&item={}", urlencode(&error), urlencode(item))),
    }
    Redirect::to(&url).into_response()
}

pub(crate) fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `GET /moderation?hub=`.
pub async fn queue<B: Backend>(
    State(backend): State<B>,
    headers: HeaderMap,
    Query(query): Query<QueueQuery>,
) -> Response {
    let Some((viewer, csrf)) = signed_in(&backend, &headers) else {
        return see_login();
    };
    let csrf = csrf.as_str();
    let hubs: Vec<String> = viewer.actor.hubs.iter().cloned().collect();
    let hub = query.hub.clone().filter(|hub| hubs.contains(hub)).or_else(|| hubs.first().cloned()).unwrap_or_default();
    let answer = ask(
        &backend,
        &viewer,
        "query($h: ID!) { moderationQueue(hub: $h, first: 50) { edges { node { id text redactedText consent saidOn themes { name } } } } }",
        json!({ "h": hub }),
    )
    .await;
    if let Some((_, Some(code), message)) = answer.errors.first()
        && (code == "FORBIDDEN" || code == "NOT_FOUND")
    {
        let body = html! { h1 { "Moderation" } p { (plain(message)) } };
        return (StatusCode::FORBIDDEN, page(&viewer, "Moderation", Some(csrf), body)).into_response();
    }
    let items: Vec<Value> = answer.data["moderationQueue"]["edges"]
        .as_array()
        .map(|edges| edges.iter().map(|edge| edge["node"].clone()).collect())
        .unwrap_or_default();
    let mut errors = Errors::default();
    if let (Some(error), Some(item)) = (&query.error, &query.item) {
        errors.add(&format!("passages-{item}"), error.clone());
    }
    let done = query.done.as_deref().map(|done| match done {
        "shared" => "Shared. It has left the queue.",
        "held" => "Held in the hub.",
        "redacted" => "Redacted. Check the shared version, then share it.",
        _ => "Done.",
    });
    let title = if errors.is_empty() { "Moderation queue" } else { "Error: Moderation queue" };
    let body = html! {
        (forms::summary(&errors))
        @if let Some(done) = done { div class="notice" role="status" { p { (done) } } }
        h1 { "Moderation queue" }
        p class="lead" { "Nothing leaves the hub until you share it. Take out anything that could identify someone first." }
        @if hubs.len() > 1 {
            form method="get" action="/moderation" class="inline-form" {
                (forms::select("hub", "Hub", &hubs.iter().map(|h| (h.clone(), h.clone())).collect::<Vec<_>>(), &hub, &Errors::default()))
                button class="button button--secondary" type="submit" { "Show this hub" }
            }
        }
        @if items.is_empty() { p { "The queue is empty. Everything logged has been shared or held." } }
        @for item in &items {
            @let id = item["id"].as_str().unwrap_or_default();
            @let redacted = item["redactedText"].as_str();
            article class="card item" aria-labelledby={ "item-" (id) } {
                h2 id={ "item-" (id) } class="item-title" { "Said on " (item["saidOn"].as_str().unwrap_or_default()) }
                div class="before-after" {
                    div {
                        h3 { "As said (stays in the hub)" }
                        blockquote { p { (item["text"].as_str().unwrap_or("")) } }
                    }
                    div {
                        h3 { "As it would be shared" }
                        blockquote { p { (redacted.or(item["text"].as_str()).unwrap_or("")) } }
                    }
                }
                p class="meta" { "Who may see it: " (consent_words(item["consent"].as_str().unwrap_or(""))) }
                form method="post" action="/moderation/redact" {
                    input type="hidden" name="csrf_token" value=(csrf);
                    input type="hidden" name="id" value=(id);
                    input type="hidden" name="hub" value=(hub);
                    (forms::textarea(&format!("passages-{id}"), "Words to take out before sharing (one per line)", "", Some("For example a name, a place or a date that could identify someone."), &errors))
                    button class="button button--secondary" type="submit" { "Redact" }
                }
                div class="actions" {
                    form method="post" action="/moderation/share" {
                        input type="hidden" name="csrf_token" value=(csrf);
                        input type="hidden" name="id" value=(id);
                        input type="hidden" name="hub" value=(hub);
                        button class="button" type="submit" { "Share" }
                    }
                    form method="post" action="/moderation/hold" {
                        input type="hidden" name="csrf_token" value=(csrf);
                        input type="hidden" name="id" value=(id);
                        input type="hidden" name="hub" value=(hub);
                        div class="field" {
                            label for={ "reason-" (id) } { "Reason for holding it" }
                            input id={ "reason-" (id) } name="reason" type="text" value="Check with the speaker first";
                        }
                        button class="button button--secondary" type="submit" { "Hold in the hub" }
                    }
                }
            }
        }
    };
    page(&viewer, title, Some(csrf), body).into_response()
}

#[derive(Debug, Default, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    hub: String,
    #[serde(default)]
    reason: String,
}

async fn act<B: Backend>(
    backend: &B,
    headers: &HeaderMap,
    form: &ActionForm,
    query: &str,
    variables: Value,
    done: &str,
) -> Response {
    let viewer = backend.viewer(headers);
    if !viewer.actor.is_authenticated() {
        return see_login();
    }
    if !backend.csrf_matches(&viewer, &form.csrf_token) {
        return (StatusCode::FORBIDDEN, "This form has expired. Go back, reload the page and try again.")
            .into_response();
    }
    let answer = ask(backend, &viewer, query, variables).await;
    match answer.errors.first() {
        None => back(&form.hub, Ok(done), &form.id),
        Some((_, _, message)) => back(&form.hub, Err(plain(message)), &form.id),
    }
}

/// `POST /moderation/share`.
pub async fn share<B: Backend>(State(backend): State<B>, headers: HeaderMap, Form(form): Form<ActionForm>) -> Response {
    let query = "mutation($id: ID!) { shareFeedback(id: $id) { id } }";
    act(&backend, &headers, &form, query, json!({ "id": form.id }), "shared").await
}

/// `POST /moderation/hold`.
pub async fn hold<B: Backend>(State(backend): State<B>, headers: HeaderMap, Form(form): Form<ActionForm>) -> Response {
    let query = "mutation($id: ID!, $r: String!) { holdFeedback(id: $id, reason: $r) { id } }";
    act(&backend, &headers, &form, query, json!({ "id": form.id, "r": form.reason }), "held").await
}

/// `POST /moderation/redact`: the textarea is named after the item, so read it from the pairs.
pub async fn redact<B: Backend>(
    State(backend): State<B>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let value = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default();
    let form =
        ActionForm { csrf_token: value("csrf_token"), id: value("id"), hub: value("hub"), reason: String::new() };
    let passages: Vec<String> = value(&format!("passages-{}", form.id))
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect();
    if passages.is_empty() {
        return back(&form.hub, Err("Write the words to take out, one per line".to_owned()), &form.id);
    }
    let query = "mutation($id: ID!, $p: [String!]!) { redactFeedback(id: $id, passages: $p) { id } }";
    act(&backend, &headers, &form, query, json!({ "id": form.id, "p": passages }), "redacted").await
}
