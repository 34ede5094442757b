//! A hub coordinator closes the loop: items commissioners have answered (acknowledged, not
//! acted on, linked to a decision, or a decision done) are listed with what came back, and
//! the coordinator records that each was reported back at a meeting. (Disclosures of risk,
//! once a section here, have a page of their own: `crate::safeguarding`.)

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
    text: Option<String>,
    hub_name: Option<String>,
    said_on: String,
    loop_state: String,
    acknowledged_on: Option<String>,
    not_acted_on_reason: Option<String>,
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
                h2 id={ "rb-" (id) } class="item-title" { (item.hub_name.as_deref().unwrap_or("")) ", said on " (crate::kit::day_words(&item.said_on)) }
                blockquote { p { (item.text.as_deref().unwrap_or("(withdrawn)")) } }
                p { strong { (answered_words(item)) } }
                form method="post" action="/report-back" {
                    input type="hidden" name="csrf_token" value=(csrf);
                    input type="hidden" name="id" value=(id);
                    button class="button" type="submit" { "Reported back at a meeting" }
                }
            }
        }
        // Where the safeguarding queue used to be: an old link to `#safeguarding` lands here.
        p id="safeguarding" class="meta" { "Disclosures of risk have a page of their own: " a href="/safeguarding" { "Safeguarding" } "." }
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

/// This page's routes.
pub fn routes<B: Backend>() -> axum::Router<B> {
    use axum::routing::get;
    axum::Router::new().route("/report-back", get(list::<B>).post(record::<B>))
}
