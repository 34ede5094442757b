//! A hub coordinator closes the loop: items commissioners have answered (acknowledged, not
//! acted on, linked to a decision, or a decision done) are listed with what came back, and
//! the coordinator records that each was reported back at a meeting. Also the coordinator's
//! safeguarding queue: disclosures of risk routed to them, shown nowhere else, where they can
//! record that the person narrowed or withdrew their consent.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use heard_access::Action;
use maud::html;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Backend;
use crate::backend::ask;
use crate::extract::{PostedForm, SignedIn};
use crate::forms::{self, Errors};
use crate::kit::{only_for, plain, urlencode};
use crate::layout::page;

#[derive(Debug, Default, Deserialize)]
pub struct ReportBackQuery {
    done: Option<String>,
    error: Option<String>,
    /// The safeguarding item an error is about.
    item: Option<String>,
}

fn answered_words(item: &Value) -> String {
    match item["loopState"].as_str().unwrap_or_default() {
        "ACKNOWLEDGED" => {
            format!("Commissioners acknowledged it on {}.", item["acknowledgedOn"].as_str().unwrap_or(""))
        }
        "NOT_ACTED_ON" => format!("Not acted on, because: {}", item["notActedOnReason"].as_str().unwrap_or("")),
        "LINKED_TO_DECISION" => "It fed into a commissioning decision.".to_owned(),
        "DECISION_DONE" => "A decision it fed into is done: \u{201c}we did\u{201d}.".to_owned(),
        _ => String::new(),
    }
}

/// `GET /report-back`.
pub async fn list<B: Backend>(
    State(backend): State<B>,
    SignedIn { viewer, csrf }: SignedIn,
    Query(query): Query<ReportBackQuery>,
) -> Response {
    if let Some(refused) = only_for(&viewer, &csrf, Action::ViewQueue, "hub coordinators") {
        return refused;
    }
    let csrf = csrf.as_str();
    let mut items: Vec<Value> = Vec::new();
    for state in ["ACKNOWLEDGED", "NOT_ACTED_ON", "LINKED_TO_DECISION", "DECISION_DONE"] {
        for hub in &viewer.actor.hubs {
            let answer = ask(
                &backend,
                &viewer,
                "query($f: FeedbackFilter) { feedbackItems(filter: $f, first: 100) { edges { node { id text hubName saidOn loopState acknowledgedOn notActedOnReason } } } }",
                json!({ "f": { "hub": hub, "loopState": state } }),
            )
            .await;
            if let Some(edges) = answer.data["feedbackItems"]["edges"].as_array() {
                items.extend(edges.iter().map(|edge| edge["node"].clone()));
            }
        }
    }
    let safeguarding = ask(
        &backend,
        &viewer,
        "{ safeguardingQueue(first: 50) { edges { node { id hub text hubName saidOn channel consent themes { name } } } } }",
        json!({}),
    )
    .await;
    let risks: Vec<Value> = safeguarding.data["safeguardingQueue"]["edges"]
        .as_array()
        .map(|edges| edges.iter().map(|edge| edge["node"].clone()).collect())
        .unwrap_or_default();
    let mut errors = Errors::default();
    if let Some(error) = &query.error {
        let field = query.item.as_deref().map(|item| format!("consent-{item}")).unwrap_or_default();
        errors.add(&field, error.clone());
    }
    let body = html! {
        (forms::summary(&errors))
        @if let Some(done) = &query.done { div class="notice" role="status" { p { (done) } } }
        h1 { "Report back to the hub" }
        p class="lead" { "What commissioners did with what people said. Tell the hub at the next meeting, then record it here." }
        @if items.is_empty() { p { "Nothing is waiting to be reported back." } }
        @for item in &items {
            @let id = item["id"].as_str().unwrap_or_default();
            article class="card item" aria-labelledby={ "rb-" (id) } {
                h2 id={ "rb-" (id) } class="item-title" { (item["hubName"].as_str().unwrap_or("")) ", said on " (item["saidOn"].as_str().unwrap_or("")) }
                blockquote { p { (item["text"].as_str().unwrap_or("(withdrawn)")) } }
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
            @let id = risk["id"].as_str().unwrap_or_default();
            @let consent = risk["consent"].as_str().unwrap_or_default();
            article class="card item safeguarding-item" id={ "risk-" (id) } aria-labelledby={ "risk-title-" (id) } {
                h3 id={ "risk-title-" (id) } class="item-title" { (risk["hubName"].as_str().unwrap_or("")) ", said on " (risk["saidOn"].as_str().unwrap_or("")) }
                blockquote { p { (risk["text"].as_str().unwrap_or("(consent withdrawn: the words are no longer kept for use)")) } }
                p class="meta" { "They agreed it could go to: " (crate::moderation::consent_words(consent).to_lowercase()) }
                (crate::moderation::consent_form(csrf, "/report-back/consent", id, risk["hub"].as_str().unwrap_or(""), consent, &errors))
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
    let url = match answer.errors.first() {
        None => format!("/report-back?done={}", urlencode("Recorded: the hub has heard what came of it.")),
        Some((_, _, message)) => format!("/report-back?error={}", urlencode(&plain(message))),
    };
    Redirect::to(&url).into_response()
}

/// `POST /report-back/consent`: `changeConsent` on an item in the safeguarding queue.
pub async fn consent<B: Backend>(State(backend): State<B>, posted: PostedForm) -> Response {
    let PostedForm { viewer, form: fields, .. } = posted;
    let id = fields.value("id");
    let error = |message: &str| {
        let url = format!("/report-back?error={}&item={}#safeguarding", urlencode(message), urlencode(&id));
        Redirect::to(&url).into_response()
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
            let done =
                urlencode("Consent changed. It stays in your safeguarding queue; every other view obeys it at once.");
            Redirect::to(&format!("/report-back?done={done}#safeguarding")).into_response()
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
