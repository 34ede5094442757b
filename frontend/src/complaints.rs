//! A complaints handler's queue: open complaints ordered by how urgent their clock is, overdue
//! ones marked, each with its due date and working days left, and plain forms for the next
//! step (acknowledge, investigate or resolve early, extend, pause, resume, respond, record the
//! outcome). Works without JavaScript (post, redirect, get).

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Backend;
use crate::forms::{self, Errors};
use crate::layout::page;
use crate::pages::{ask, plain, see_login, signed_in};

#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    done: Option<String>,
    error: Option<String>,
    item: Option<String>,
}

const FIELDS: &str = "id receivedOn providerName stage complainantKind whatHappened articles { number label } \
    clock { stage acknowledgeBy respondBy workingDaysLeft overdue urgent paused needsExplanation }";

fn stage_words(stage: &str) -> &'static str {
    match stage {
        "RECEIVED" => "Received: acknowledge it",
        "ACKNOWLEDGED" => "Acknowledged: choose early resolution or an investigation",
        "EARLY_RESOLUTION" => "Early resolution",
        "INVESTIGATION" => "Investigation",
        "RESPONSE_ISSUED" => "Response issued: record the outcome",
        _ => "Closed",
    }
}

fn clock_words(clock: &Value) -> String {
    let what = if clock["stage"] == "ACKNOWLEDGEMENT" { "Acknowledgement" } else { "Response" };
    let due = if clock["stage"] == "ACKNOWLEDGEMENT" { &clock["acknowledgeBy"] } else { &clock["respondBy"] };
    if clock["paused"] == true {
        return "The clock is paused".to_owned();
    }
    match clock["workingDaysLeft"].as_i64() {
        Some(left) if left < 0 => format!(
            "{what} overdue by {} working day{} (was due {})",
            -left,
            if left == -1 { "" } else { "s" },
            due.as_str().unwrap_or("")
        ),
        Some(0) => format!("{what} due today ({})", due.as_str().unwrap_or("")),
        Some(left) => format!(
            "{what} due {} – {left} working day{} left",
            due.as_str().unwrap_or(""),
            if left == 1 { "" } else { "s" }
        ),
        None => "No clock running".to_owned(),
    }
}

fn hidden(csrf: &str, id: &str) -> Markup {
    html! {
        input type="hidden" name="csrf_token" value=(csrf);
        input type="hidden" name="id" value=(id);
    }
}

/// The next steps a complaint in `stage` can take, as small forms.
fn next_steps(csrf: &str, id: &str, stage: &str, paused: bool) -> Markup {
    let button = |action: &str, label: &str, primary: bool| {
        html! {
            form method="post" action={ "/complaints/" (action) } {
                (hidden(csrf, id))
                button class={ "button" @if !primary { " button--secondary" } } type="submit" { (label) }
            }
        }
    };
    html! {
        div class="actions" {
            @match stage {
                "RECEIVED" => { (button("acknowledge", "Acknowledge", true)) }
                "ACKNOWLEDGED" => {
                    (button("investigate", "Open an investigation", true))
                    (button("resolve-early", "Try early resolution", false))
                }
                "EARLY_RESOLUTION" | "INVESTIGATION" => {
                    @if paused { (button("resume", "Resume the clock", true)) } @else { (button("respond", "Response issued", true)) }
                }
                _ => {}
            }
        }
        @if matches!(stage, "ACKNOWLEDGED" | "EARLY_RESOLUTION" | "INVESTIGATION") && !paused {
            details {
                summary { "Extend or pause the clock" }
                form method="post" action="/complaints/extend" {
                    (hidden(csrf, id))
                    div class="field" {
                        label for={ "days-" (id) } { "Extend by (working days)" }
                        input id={ "days-" (id) } name="working_days" type="number" min="1" max="60" value="10" inputmode="numeric";
                    }
                    div class="field" {
                        label for={ "extend-reason-" (id) } { "Why" }
                        input id={ "extend-reason-" (id) } name="reason" type="text";
                    }
                    button class="button button--secondary" type="submit" { "Extend" }
                }
                form method="post" action="/complaints/pause" {
                    (hidden(csrf, id))
                    div class="field" {
                        label for={ "pause-reason-" (id) } { "Why pause the clock" }
                        input id={ "pause-reason-" (id) } name="reason" type="text";
                    }
                    button class="button button--secondary" type="submit" { "Pause" }
                }
            }
        }
        @if stage == "RESPONSE_ISSUED" || stage == "EARLY_RESOLUTION" {
            form method="post" action="/complaints/outcome" class="outcome" {
                (hidden(csrf, id))
                @let options: Vec<(String, String)> = [("UPHELD", "Upheld"), ("PARTLY_UPHELD", "Partly upheld"), ("NOT_UPHELD", "Not upheld"), ("RESOLVED_EARLY", "Resolved early"), ("WITHDRAWN", "Withdrawn")]
                    .iter().map(|(v, l)| ((*v).to_owned(), (*l).to_owned())).collect();
                (forms::select(&format!("outcome-{id}"), "Outcome", &options, "", &Errors::default()))
                button class="button" type="submit" { "Record the outcome" }
            }
        }
    }
}

/// `GET /complaints`: the queue, most urgent first.
pub async fn queue<B: Backend>(
    State(backend): State<B>,
    headers: HeaderMap,
    Query(query): Query<QueueQuery>,
) -> Response {
    let Some((viewer, csrf)) = signed_in(&backend, &headers) else {
        return see_login();
    };
    let csrf = csrf.as_str();
    let answer = ask(
        &backend,
        &viewer,
        &format!("{{ overdueComplaints {{ complaint {{ id }} }} complaints(open: true, first: 100) {{ edges {{ node {{ {FIELDS} }} }} }} }}"),
        json!({}),
    )
    .await;
    if let Some((_, Some(code), message)) = answer.errors.first()
        && code == "FORBIDDEN"
    {
        let body = html! { h1 { "Complaints" } p { (plain(message)) } };
        return (StatusCode::FORBIDDEN, page(&viewer, "Complaints", Some(csrf), body)).into_response();
    }
    let mut complaints: Vec<Value> = answer.data["complaints"]["edges"]
        .as_array()
        .map(|edges| edges.iter().map(|edge| edge["node"].clone()).collect())
        .unwrap_or_default();
    // Most urgent first: fewest working days left, paused and clock-less ones last.
    complaints.sort_by_key(|c| {
        (c["clock"]["workingDaysLeft"].as_i64().unwrap_or(i64::MAX), c["receivedOn"].as_str().unwrap_or("").to_owned())
    });
    let mut errors = Errors::default();
    if let (Some(error), Some(item)) = (&query.error, &query.item) {
        errors.add(&format!("complaint-{item}"), error.clone());
    }
    let overdue = complaints.iter().filter(|c| c["clock"]["overdue"] == true).count();
    let title = if errors.is_empty() { "Complaints queue" } else { "Error: Complaints queue" };
    let body = html! {
        (forms::summary(&errors))
        @if let Some(done) = &query.done { div class="notice" role="status" { p { (done) } } }
        h1 { "Complaints queue" }
        p class="lead" {
            (complaints.len()) " open, " (overdue) " overdue. The most urgent come first. Working days leave out weekends and bank holidays."
        }
        @for complaint in &complaints {
            @let id = complaint["id"].as_str().unwrap_or_default();
            @let clock = &complaint["clock"];
            @let overdue = clock["overdue"] == true;
            @let urgent = clock["urgent"] == true;
            article id={ "complaint-" (id) } class={ "card complaint" @if overdue { " complaint--overdue" } @else if urgent { " complaint--urgent" } } aria-labelledby={ "title-" (id) } tabindex="-1" {
                h2 id={ "title-" (id) } class="item-title" {
                    @if overdue { span class="tag tag--overdue" { "Overdue" } " " } @else if urgent { span class="tag tag--urgent" { "Due soon" } " " }
                    (complaint["providerName"].as_str().unwrap_or("")) ", received " (complaint["receivedOn"].as_str().unwrap_or(""))
                }
                p class="clock" { strong { (clock_words(clock)) } }
                @if clock["needsExplanation"] == true { p class="field-error" { "Open for six months: record why it is taking so long." } }
                p class="meta" { (stage_words(complaint["stage"].as_str().unwrap_or(""))) " · Articles: "
                    @for (n, article) in complaint["articles"].as_array().cloned().unwrap_or_default().iter().enumerate() {
                        @if n > 0 { ", " } (article["number"]) " " (article["label"].as_str().unwrap_or(""))
                    }
                }
                @if let Some(what) = complaint["whatHappened"].as_str() { blockquote { p { (what) } } }
                (next_steps(csrf, id, complaint["stage"].as_str().unwrap_or(""), clock["paused"] == true))
            }
        }
    };
    page(&viewer, title, Some(csrf), body).into_response()
}

fn back(outcome: Result<String, String>, id: &str) -> Response {
    let url = match outcome {
        Ok(done) => format!("/complaints?done={}#complaint-{id}", crate::moderation::urlencode(&done)),
        Err(error) => format!("/complaints?error={}&item={id}", crate::moderation::urlencode(&error)),
    };
    Redirect::to(&url).into_response()
}

/// `POST /complaints/{action}` for each next step.
pub async fn act<B: Backend>(
    State(backend): State<B>,
    axum::extract::Path(action): axum::extract::Path<String>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let viewer = backend.viewer(&headers);
    if !viewer.actor.is_authenticated() {
        return see_login();
    }
    let value = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default();
    if !backend.csrf_matches(&viewer, &value("csrf_token")) {
        return (StatusCode::FORBIDDEN, "This form has expired. Go back, reload the page and try again.")
            .into_response();
    }
    let id = value("id");
    let (query, variables, done) = match action.as_str() {
        "acknowledge" => {
            ("mutation($id: ID!) { acknowledgeComplaint(id: $id) { id } }", json!({ "id": id }), "Acknowledged.")
        }
        "investigate" => {
            ("mutation($id: ID!) { openInvestigation(id: $id) { id } }", json!({ "id": id }), "Investigation opened.")
        }
        "resolve-early" => (
            "mutation($id: ID!) { chooseEarlyResolution(id: $id) { id } }",
            json!({ "id": id }),
            "Early resolution chosen.",
        ),
        "respond" => {
            ("mutation($id: ID!) { respondToComplaint(id: $id) { id } }", json!({ "id": id }), "Response recorded.")
        }
        "resume" => (
            "mutation($id: ID!) { resumeComplaint(id: $id) { id } }",
            json!({ "id": id }),
            "The clock is running again.",
        ),
        "pause" => (
            "mutation($id: ID!, $r: String!) { pauseComplaint(id: $id, reason: $r) { id } }",
            json!({ "id": id, "r": value("reason") }),
            "The clock is paused.",
        ),
        "extend" => {
            let Ok(days) = value("working_days").trim().parse::<u32>() else {
                return back(Err("Extend by a number of working days, for example 10".to_owned()), &id);
            };
            (
                "mutation($id: ID!, $d: Int!, $r: String!) { extendComplaint(id: $id, workingDays: $d, reason: $r) { id } }",
                json!({ "id": id, "d": days, "r": value("reason") }),
                "Extended.",
            )
        }
        "outcome" => (
            "mutation($id: ID!, $o: ComplaintOutcome!) { recordComplaintOutcome(id: $id, outcome: $o) { id } }",
            json!({ "id": id, "o": value(&format!("outcome-{id}")) }),
            "Outcome recorded.",
        ),
        _ => return (StatusCode::NOT_FOUND, "There is no such step.").into_response(),
    };
    let answer = ask(&backend, &viewer, query, variables).await;
    match answer.errors.first() {
        None => back(Ok(done.to_owned()), &id),
        Some((_, _, message)) => back(Err(plain(message)), &id),
    }
}
