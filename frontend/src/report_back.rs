//! A hub coordinator closes the loop: items commissioners have answered (acknowledged, not
//! acted on, linked to a decision, or a decision done) are listed with what came back, and
//! the coordinator records that each was reported back at a meeting. Also the coordinator's
//! safeguarding queue: disclosures of risk routed to them, shown nowhere else, where they can
//! record that the person narrowed or withdrew their consent.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;
use serde_json::json;

use crate::Backend;
use crate::backend::ask;
use crate::extract::{HubCoordinators, PostedForm, SignedInAs};
use crate::flash::{self, Flash, Flashed};
use crate::forms::{self, Errors};
use crate::kit::{Connection, plain};
use crate::layout::page;

/// A feedback item as this page asks for it; `text` is `null` once consent was withdrawn.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Item {
    id: String,
    hub: String,
    text: Option<String>,
    hub_name: Option<String>,
    said_on: String,
    loop_state: String,
    acknowledged_on: Option<String>,
    not_acted_on_reason: Option<String>,
    consent: Option<String>,
}

fn answered_words(item: &Item) -> String {
    match item.loop_state.as_str() {
        "ACKNOWLEDGED" => {
            format!("Commissioners acknowledged it on {}.", item.acknowledged_on.as_deref().unwrap_or(""))
        }
        "NOT_ACTED_ON" => format!("Not acted on, because: {}", item.not_acted_on_reason.as_deref().unwrap_or("")),
        "LINKED_TO_DECISION" => "It fed into a commissioning decision.".to_owned(),
        "DECISION_DONE" => "A decision it fed into is done: \u{201c}we did\u{201d}.".to_owned(),
        _ => String::new(),
    }
}

/// `GET /report-back`.
pub async fn list<B: Backend>(
    State(backend): State<B>,
    SignedInAs { viewer, csrf, .. }: SignedInAs<HubCoordinators>,
    flashed: Flashed,
) -> Response {
    let csrf = csrf.as_str();
    let mut items: Vec<Item> = Vec::new();
    for state in ["ACKNOWLEDGED", "NOT_ACTED_ON", "LINKED_TO_DECISION", "DECISION_DONE"] {
        for hub in &viewer.actor.hubs {
            let answer = ask(
                &backend,
                &viewer,
                "query($f: FeedbackFilter) { feedbackItems(filter: $f, first: 100) { edges { node { id text hubName saidOn loopState acknowledgedOn notActedOnReason } } } }",
                json!({ "f": { "hub": hub, "loopState": state } }),
            )
            .await;
            items.extend(answer.decode::<Connection<Item>>("feedbackItems").unwrap_or_default().nodes());
        }
    }
    let safeguarding = ask(
        &backend,
        &viewer,
        "{ safeguardingQueue(first: 50) { edges { node { id hub text hubName saidOn channel consent themes { name } } } } }",
        json!({}),
    )
    .await;
    let risks = safeguarding.decode::<Connection<Item>>("safeguardingQueue").unwrap_or_default().nodes();
    let mut errors = Errors::default();
    flashed.add_error_to(&mut errors);
    let body = html! {
        (forms::summary(&errors))
        @if let Some(done) = flashed.notice() { (flash::notice(done)) }
        h1 { "Report back to the hub" }
        p class="lead" { "What commissioners did with what people said. Tell the hub at the next meeting, then record it here." }
        @if items.is_empty() { p { "Nothing is waiting to be reported back." } }
        @for item in &items {
            @let id = &item.id;
            article class="card item" aria-labelledby={ "rb-" (id) } {
                h2 id={ "rb-" (id) } class="item-title" { (item.hub_name.as_deref().unwrap_or("")) ", said on " (item.said_on) }
                blockquote { p { (item.text.as_deref().unwrap_or("(withdrawn)")) } }
                p { strong { (answered_words(item)) } }
                form method="post" action="/report-back" {
                    input type="hidden" name="csrf_token" value=(csrf);
                    input type="hidden" name="id" value=(id);
                    button class="button" type="submit" { "Reported back at a meeting" }
                }
            }
        }
        h2 id="safeguarding" { "Your safeguarding queue" }
        p { "Disclosures of risk routed to you, because you have a duty of care. Nobody else can see them; they are never shared, published or counted in a report." }
        p { "Follow your safeguarding procedure for each one. If the person tells you they want less of it used, or none of it, record that here." }
        @if risks.is_empty() { p { "There is nothing in your safeguarding queue." } }
        @for risk in &risks {
            @let id = risk.id.as_str();
            @let consent = risk.consent.as_deref().unwrap_or_default();
            article class="card item safeguarding-item" id={ "risk-" (id) } aria-labelledby={ "risk-title-" (id) } {
                h3 id={ "risk-title-" (id) } class="item-title" { (risk.hub_name.as_deref().unwrap_or("")) ", said on " (risk.said_on) }
                blockquote { p { (risk.text.as_deref().unwrap_or("(consent withdrawn: the words are no longer kept for use)")) } }
                p class="meta" { "They agreed it could go to: " (crate::moderation::consent_words(consent).to_lowercase()) }
                (crate::moderation::consent_form(csrf, "/report-back/consent", id, &risk.hub, consent, &errors))
            }
        }
    };
    page(&viewer, if errors.is_empty() { "Report back" } else { "Error: Report back" }, Some(csrf), body)
        .into_response()
}

#[derive(Debug, Default, Deserialize)]
pub struct ReportedForm {
    #[serde(default)]
    id: String,
}

/// `POST /report-back`: `recordFedBack`.
pub async fn record<B: Backend>(State(backend): State<B>, posted: PostedForm<ReportedForm>) -> Response {
    let PostedForm { viewer, form, .. } = posted;
    let answer =
        ask(&backend, &viewer, "mutation($id: ID!) { recordFedBack(id: $id) { id } }", json!({ "id": form.id })).await;
    let said = match answer.errors.first() {
        None => Flash::notice("Recorded: the hub has heard what came of it."),
        Some((_, _, message)) => Flash::error(plain(message)),
    };
    flash::redirect(&backend, &viewer, "/report-back", said)
}

/// `POST /report-back/consent`: `changeConsent` on an item in the safeguarding queue.
pub async fn consent<B: Backend>(State(backend): State<B>, posted: PostedForm) -> Response {
    let PostedForm { viewer, form: fields, .. } = posted;
    let id = fields.value("id");
    let error = |message: &str| {
        let at = format!("consent-{}", uuid::Uuid::parse_str(&id).map(|id| id.to_string()).unwrap_or_default());
        flash::redirect(&backend, &viewer, "/report-back#safeguarding", Flash::error(message).at(at))
    };
    let Some(consent) = crate::moderation::posted_consent(&fields, &id) else {
        return error("Choose who may see it now");
    };
    let answer = ask(
        &backend,
        &viewer,
        "mutation($id: ID!, $c: ConsentChange!) { changeConsent(id: $id, consent: $c) { id } }",
        json!({ "id": id, "c": consent }),
    )
    .await;
    match answer.errors.first() {
        None => {
            let done = "Consent changed. It stays in your safeguarding queue; every other view obeys it at once.";
            flash::redirect(&backend, &viewer, "/report-back#safeguarding", Flash::notice(done))
        }
        Some((_, _, message)) => error(&plain(message)),
    }
}

/// This page's routes.
pub fn routes<B: Backend>() -> axum::Router<B> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/report-back", get(list::<B>).post(record::<B>))
        .route("/report-back/consent", post(consent::<B>))
}
