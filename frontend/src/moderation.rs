//! A hub coordinator's moderation queue: each item as said and as it would be shared, side by
//! side, with plain forms to redact, share or hold it; to record that the speaker narrowed or
//! withdrew their consent; and to send an item that discloses a risk to a coordinator with a
//! duty of care (it then leaves every other list). Works without JavaScript: every action
//! posts, and the page comes back (post, redirect, get) with what happened.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use heard_api::Viewer;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Backend;
use crate::backend::ask;
use crate::extract::{Fields, HubCoordinators, PostedForm, SignedInAs};
use crate::forms::{self, Choices, Errors};
use crate::kit::{Connection, plain, urlencode};
use crate::layout::page;

#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    hub: Option<String>,
    /// What the last action did, to say so at the top.
    done: Option<String>,
    /// An error from the last action, and the item it was about.
    error: Option<String>,
    item: Option<String>,
    /// Which of the item's forms the error is about: `consent`, `coordinator` (or the redaction).
    field: Option<String>,
}

pub(crate) fn consent_words(consent: &str) -> &'static str {
    match consent {
        "HUB" => "This hub only",
        "COMMISSIONERS" => "Commissioners and the service it is about",
        "PUBLIC" => "Anyone (can be published)",
        _ => "Withdrawn",
    }
}

/// How far consent can go now: only narrower than `current`, or withdrawn (never widened on
/// someone's behalf).
pub(crate) fn narrower_consents(current: &str) -> Vec<(String, String)> {
    let order = ["HUB", "COMMISSIONERS", "PUBLIC"];
    let Some(rank) = order.iter().position(|scope| *scope == current) else {
        return Vec::new();
    };
    let mut choices: Vec<(String, String)> = order[..rank]
        .iter()
        .rev()
        .map(|scope| ((*scope).to_owned(), format!("Narrow it to: {}", consent_words(scope).to_lowercase())))
        .collect();
    choices.push(("WITHDRAWN".to_owned(), "Withdrawn: they no longer want it used at all".to_owned()));
    choices
}

/// What to say after each action.
fn done_words(done: &str) -> &'static str {
    match done {
        "shared" => "Shared. It has left the queue.",
        "held" => "Held in the hub.",
        "redacted" => "Redacted. Check the shared version, then share it.",
        "consent" => "Consent changed. Every list, report and search obeys it at once.",
        "safeguarding" => {
            "Sent for safeguarding. It has left every other list, report and search, and waits with the coordinator you chose."
        }
        _ => "Done.",
    }
}

fn back(hub: &str, outcome: Result<&str, String>, item: &str) -> Response {
    back_to(hub, outcome, item, "")
}

/// Back to the queue; an error names the item and which of its forms it is about.
fn back_to(hub: &str, outcome: Result<&str, String>, item: &str, field: &str) -> Response {
    let mut url = format!("/moderation?hub={}", urlencode(hub));
    match outcome {
        Ok(done) => url.push_str(&format!("&done={done}")),
        Err(error) => {
            url.push_str(&format!("&error={}&item={}", urlencode(&error), urlencode(item)));
            if !field.is_empty() {
                url.push_str(&format!("&field={field}#{field}-{}", urlencode(item)));
            }
        }
    }
    Redirect::to(&url).into_response()
}

/// An item in the moderation queue; its words are `null` once consent was withdrawn.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Item {
    id: String,
    text: Option<String>,
    redacted_text: Option<String>,
    consent: Option<String>,
    said_on: String,
}

/// "They narrowed or withdrew their consent", for one item; posts to `action`.
pub(crate) fn consent_form(csrf: &str, action: &str, id: &str, hub: &str, current: &str, errors: &Errors) -> Markup {
    let choices = narrower_consents(current);
    html! {
        @if !choices.is_empty() {
            form method="post" action=(action) novalidate {
                input type="hidden" name="csrf_token" value=(csrf);
                input type="hidden" name="id" value=(id);
                input type="hidden" name="hub" value=(hub);
                (forms::choices(Choices {
                    id: &format!("consent-{id}"),
                    legend: "They changed what they agreed to: who may see it now?",
                    multiple: false,
                    options: choices,
                    chosen: vec![],
                    hint: Some("Only ever narrower than before. Record it as soon as they tell you."),
                }, errors))
                button class="button button--secondary" type="submit" { "Change consent" }
            }
        }
    }
}

/// `GET /moderation?hub=`.
pub async fn queue<B: Backend>(
    State(backend): State<B>,
    SignedInAs { viewer, csrf, .. }: SignedInAs<HubCoordinators>,
    Query(query): Query<QueueQuery>,
) -> Response {
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
    let items = answer.decode::<Connection<Item>>("moderationQueue").unwrap_or_default().nodes();
    let mut errors = Errors::default();
    if let (Some(error), Some(item)) = (&query.error, &query.item) {
        let field = match query.field.as_deref() {
            Some("consent") => format!("consent-{item}"),
            Some("coordinator") => format!("coordinator-{item}"),
            _ => format!("passages-{item}"),
        };
        errors.add(&field, error.clone());
    }
    let done = query.done.as_deref().map(done_words);
    let coordinators = crate::safeguarding::coordinator_choices(&backend, &viewer, &hub).await;
    let title = if errors.is_empty() { "Moderation queue" } else { "Error: Moderation queue" };
    let body = html! {
        (forms::summary(&errors))
        @if let Some(done) = done {
            div class="notice" role="status" {
                p { (done) }
                @if query.done.as_deref() == Some("safeguarding") { p { a href="/safeguarding" { "Go to safeguarding" } } }
            }
        }
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
            @let id = item.id.as_str();
            @let text = item.text.as_deref();
            @let consent = item.consent.as_deref().unwrap_or("");
            article class="card item" aria-labelledby={ "item-" (id) } {
                h2 id={ "item-" (id) } class="item-title" { "Said on " (item.said_on) }
                div class="before-after" {
                    div {
                        h3 { "As said (stays in the hub)" }
                        blockquote { p { (text.unwrap_or("")) } }
                    }
                    div {
                        h3 { "As it would be shared" }
                        blockquote { p { (item.redacted_text.as_deref().or(text).unwrap_or("")) } }
                    }
                }
                p class="meta" { "Who may see it: " (consent_words(consent)) }
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
                @let open = errors.of(&format!("consent-{id}")).is_some() || errors.of(&format!("coordinator-{id}")).is_some();
                details class="more-actions" open[open] {
                    summary { "They changed their mind, or it tells of a risk" }
                    (consent_form(csrf, "/moderation/consent", id, &hub, consent, &errors))
                    (crate::safeguarding::flag_form(csrf, id, &hub, coordinators.as_deref(), &errors))
                }
            }
        }
    };
    page(&viewer, title, Some(csrf), body).into_response()
}

/// Runs an action on an item and goes back to the queue, saying it was `done`, or with the
/// error beside the item's `field` form (none: the item as a whole).
async fn act<B: Backend>(
    backend: &B,
    viewer: &Viewer,
    form: &ActionForm,
    query: &str,
    variables: Value,
    done: &str,
    field: &str,
) -> Response {
    let answer = ask(backend, viewer, query, variables).await;
    match answer.errors.first() {
        None => back(&form.hub, Ok(done), &form.id),
        Some((_, _, message)) => back_to(&form.hub, Err(plain(message)), &form.id, field),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    id: String,
    #[serde(default)]
    hub: String,
    #[serde(default)]
    reason: String,
}

/// `POST /moderation/share`.
pub async fn share<B: Backend>(State(backend): State<B>, posted: PostedForm<ActionForm>) -> Response {
    let PostedForm { viewer, form, .. } = posted;
    let query = "mutation($id: ID!) { shareFeedback(id: $id) { id } }";
    act(&backend, &viewer, &form, query, json!({ "id": form.id }), "shared", "").await
}

/// `POST /moderation/hold`.
pub async fn hold<B: Backend>(State(backend): State<B>, posted: PostedForm<ActionForm>) -> Response {
    let PostedForm { viewer, form, .. } = posted;
    let query = "mutation($id: ID!, $r: String!) { holdFeedback(id: $id, reason: $r) { id } }";
    act(&backend, &viewer, &form, query, json!({ "id": form.id, "r": form.reason }), "held", "").await
}

/// `POST /moderation/redact`: the textarea is named after the item, so read it from the fields.
pub async fn redact<B: Backend>(State(backend): State<B>, posted: PostedForm) -> Response {
    let PostedForm { viewer, form: fields, .. } = posted;
    let form = action_form(&fields);
    let passages: Vec<String> = fields
        .value(&format!("passages-{}", form.id))
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect();
    if passages.is_empty() {
        return back(&form.hub, Err("Write the words to take out, one per line".to_owned()), &form.id);
    }
    let query = "mutation($id: ID!, $p: [String!]!) { redactFeedback(id: $id, passages: $p) { id } }";
    act(&backend, &viewer, &form, query, json!({ "id": form.id, "p": passages }), "redacted", "").await
}

/// The consent change a posted form asks for (`consent-{id}`), if it is one the API knows.
pub(crate) fn posted_consent(fields: &Fields, id: &str) -> Option<String> {
    let value = fields.value(&format!("consent-{id}"));
    ["HUB", "COMMISSIONERS", "PUBLIC", "WITHDRAWN"].contains(&value.as_str()).then_some(value)
}

/// The item and hub a form names, from its fields.
fn action_form(fields: &Fields) -> ActionForm {
    ActionForm { id: fields.value("id"), hub: fields.value("hub"), reason: String::new() }
}

/// `POST /moderation/consent`: `changeConsent`.
pub async fn consent<B: Backend>(State(backend): State<B>, posted: PostedForm) -> Response {
    let PostedForm { viewer, form: fields, .. } = posted;
    let form = action_form(&fields);
    let Some(consent) = posted_consent(&fields, &form.id) else {
        return back_to(&form.hub, Err("Choose who may see it now".to_owned()), &form.id, "consent");
    };
    let query = "mutation($id: ID!, $c: ConsentChange!) { changeConsent(id: $id, consent: $c) { id } }";
    act(&backend, &viewer, &form, query, json!({ "id": form.id, "c": consent }), "consent", "consent").await
}

/// `POST /moderation/safeguarding`: `flagSafeguarding`, to the coordinator chosen.
pub async fn safeguarding<B: Backend>(State(backend): State<B>, posted: PostedForm) -> Response {
    let PostedForm { viewer, form: fields, .. } = posted;
    let form = action_form(&fields);
    let coordinator = fields.trimmed(&format!("coordinator-{}", form.id));
    if coordinator.is_empty() {
        return back_to(&form.hub, Err("Choose who it should go to".to_owned()), &form.id, "coordinator");
    }
    let query = "mutation($id: ID!, $c: ID!) { flagSafeguarding(id: $id, coordinatorId: $c) }";
    let variables = json!({ "id": form.id, "c": coordinator });
    act(&backend, &viewer, &form, query, variables, "safeguarding", "coordinator").await
}

/// This page's routes.
pub fn routes<B: Backend>() -> axum::Router<B> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/moderation", get(queue::<B>))
        .route("/moderation/consent", post(consent::<B>))
        .route("/moderation/safeguarding", post(safeguarding::<B>))
        .route("/moderation/share", post(share::<B>))
        .route("/moderation/hold", post(hold::<B>))
        .route("/moderation/redact", post(redact::<B>))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(choices: Vec<(String, String)>) -> Vec<String> {
        choices.into_iter().map(|(value, _)| value).collect()
    }

    #[test]
    fn consent_can_only_be_narrowed_or_withdrawn_never_widened() {
        assert_eq!(values(narrower_consents("PUBLIC")), ["COMMISSIONERS", "HUB", "WITHDRAWN"]);
        assert_eq!(values(narrower_consents("COMMISSIONERS")), ["HUB", "WITHDRAWN"]);
        assert_eq!(values(narrower_consents("HUB")), ["WITHDRAWN"]);
        assert!(narrower_consents("WITHDRAWN").is_empty(), "nothing is left to change once withdrawn");
    }

    #[test]
    fn a_posted_consent_change_is_read_from_the_items_own_field_and_must_be_known() {
        let fields =
            Fields(vec![("consent-a".to_owned(), "HUB".to_owned()), ("consent-b".to_owned(), "EVERYONE".to_owned())]);
        assert_eq!(posted_consent(&fields, "a").as_deref(), Some("HUB"));
        assert_eq!(posted_consent(&fields, "b"), None);
        assert_eq!(posted_consent(&fields, "c"), None);
    }
}
