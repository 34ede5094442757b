//! Complaints under the Bill of Rights.
//!
//! - `/complaints`: a complaints handler's queue, open complaints ordered by how urgent their
//!   clock is, overdue ones marked, each with its due date and working days left and its next
//!   one-click step; closed complaints on a second tab. A provider responder sees the
//!   complaints about their own service, read-only and never who complained; an advocate the
//!   complaints they relayed.
//! - `/complaints/{id}`: one complaint, its clock and its history, with the handler's next steps.
//!   Steps that need an answer (agree a period, extend, pause, outcome, escalate, learning,
//!   explain a delay) each have a page of their own, `/complaints/{id}/{step}`.
//! - `/complaints/new`: raise a complaint (hub members, coordinators, advocates, handlers), then
//!   check your answers, then record it. The answers travel in the form itself, so it works
//!   without JavaScript and nothing personal goes into a URL.
//!
//! Everything posts and comes back (post, redirect, get); errors sit beside their fields.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use heard_access::Role;
use heard_api::Viewer;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Backend;
use crate::forms::{self, Choices, Errors, Input, csrf_field, options, value_of, words};
use crate::layout::page;
use crate::moderation::urlencode;
use crate::pages::{ask, expired, field_id, only_for, plain, see_login, signed_in, text};

// ---------------------------------------------------------------------------------------------
// Words

const OUTCOMES: [(&str, &str); 5] = [
    ("UPHELD", "Upheld"),
    ("PARTLY_UPHELD", "Partly upheld"),
    ("NOT_UPHELD", "Not upheld"),
    ("RESOLVED_EARLY", "Resolved early"),
    ("WITHDRAWN", "Withdrawn by the person who complained"),
];

const ROUTES: [(&str, &str); 3] = [
    ("HUB", "Through a hub: a forum, a drop-in or a peer representative"),
    ("ADVOCATE", "Through an advocate"),
    ("DIRECT", "Straight from the person: by phone, letter, email or in person"),
];

const KINDS: [(&str, &str); 3] = [
    ("ANONYMOUS", "They want to stay anonymous: no name is kept"),
    ("NAMED", "They gave their name: only the complaints team sees it"),
    ("RELAYED_BY_ADVOCATE", "I am their advocate and pass it on for them: the service never learns who it is"),
];

const ESCALATIONS: [(&str, &str); 2] =
    [("PROVIDER_PROCESS", "The provider's own complaints process"), ("OMBUDSMAN", "The ombudsman")];

/// Where a complaint stands; for a handler, with what to do next.
fn stage_words(stage: &str, handler: bool) -> &'static str {
    match (stage, handler) {
        ("RECEIVED", true) => "Received: acknowledge it",
        ("RECEIVED", false) => "Received",
        ("ACKNOWLEDGED", true) => "Acknowledged: choose early resolution or an investigation",
        ("ACKNOWLEDGED", false) => "Acknowledged",
        ("EARLY_RESOLUTION", _) => "Early resolution",
        ("INVESTIGATION", _) => "Investigation",
        ("RESPONSE_ISSUED", true) => "Response issued: record the outcome",
        ("RESPONSE_ISSUED", false) => "Response issued",
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

fn nodes(connection: &Value) -> Vec<Value> {
    connection["edges"]
        .as_array()
        .map(|edges| edges.iter().map(|edge| edge["node"].clone()).collect())
        .unwrap_or_default()
}

fn articles_words(complaint: &Value) -> String {
    complaint["articles"]
        .as_array()
        .map(|articles| {
            articles
                .iter()
                .map(|a| format!("{} {}", a["number"], a["label"].as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn is_handler(viewer: &Viewer) -> bool {
    viewer.actor.has(Role::ComplaintsHandler)
}

/// Who may record a complaint (the policy's `RaiseComplaint`).
/// Who records complaints (the policy's `RaiseComplaint`).
const RAISERS: [Role; 4] = [Role::ComplaintsHandler, Role::Advocate, Role::HubMember, Role::HubCoordinator];

fn may_raise(viewer: &Viewer) -> bool {
    RAISERS.iter().any(|role| viewer.actor.has(*role))
}

// ---------------------------------------------------------------------------------------------
// A handler's steps

/// One thing a complaints handler can do to a complaint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Acknowledge,
    Investigate,
    ResolveEarly,
    Resume,
    Respond,
    Period,
    Extend,
    Pause,
    Outcome,
    Escalate,
    Learning,
    Delay,
}

const STEPS: [Step; 12] = [
    Step::Acknowledge,
    Step::Investigate,
    Step::ResolveEarly,
    Step::Resume,
    Step::Respond,
    Step::Period,
    Step::Extend,
    Step::Pause,
    Step::Outcome,
    Step::Escalate,
    Step::Learning,
    Step::Delay,
];

impl Step {
    fn slug(self) -> &'static str {
        match self {
            Step::Acknowledge => "acknowledge",
            Step::Investigate => "investigate",
            Step::ResolveEarly => "resolve-early",
            Step::Resume => "resume",
            Step::Respond => "respond",
            Step::Period => "period",
            Step::Extend => "extend",
            Step::Pause => "pause",
            Step::Outcome => "outcome",
            Step::Escalate => "escalate",
            Step::Learning => "learning",
            Step::Delay => "delay",
        }
    }

    fn from_slug(slug: &str) -> Option<Step> {
        STEPS.into_iter().find(|step| step.slug() == slug)
    }

    /// The button, link and page title.
    fn label(self) -> &'static str {
        match self {
            Step::Acknowledge => "Acknowledge",
            Step::Investigate => "Open an investigation",
            Step::ResolveEarly => "Try early resolution",
            Step::Resume => "Resume the clock",
            Step::Respond => "Record that the response was sent",
            Step::Period => "Agree a response period",
            Step::Extend => "Extend the response period",
            Step::Pause => "Pause the clock",
            Step::Outcome => "Record the outcome",
            Step::Escalate => "Record an escalation",
            Step::Learning => "Record what should change",
            Step::Delay => "Explain why it is taking so long",
        }
    }

    /// What to say once it is done.
    fn done(self) -> &'static str {
        match self {
            Step::Acknowledge => "Acknowledged. You are now handling this complaint.",
            Step::Investigate => "Investigation opened.",
            Step::ResolveEarly => "Early resolution chosen.",
            Step::Resume => "The clock is running again.",
            Step::Respond => "Recorded: the response was sent.",
            Step::Period => "Response period agreed.",
            Step::Extend => "Response period extended.",
            Step::Pause => "The clock is paused.",
            Step::Outcome => "Outcome recorded. The complaint is closed.",
            Step::Escalate => "Escalation recorded.",
            Step::Learning => "Learning recorded. Commissioners can link it to a decision.",
            Step::Delay => "Explanation recorded.",
        }
    }

    /// Whether the step needs answers on a page of its own (the others are one button).
    fn has_page(self) -> bool {
        !matches!(self, Step::Acknowledge | Step::Investigate | Step::ResolveEarly | Step::Resume | Step::Respond)
    }

    /// Whether the step makes sense for a complaint at `stage` (the API has the last word).
    fn open_at(self, stage: &str, paused: bool) -> bool {
        let waiting = matches!(stage, "ACKNOWLEDGED" | "EARLY_RESOLUTION" | "INVESTIGATION");
        match self {
            Step::Acknowledge => stage == "RECEIVED",
            Step::Investigate => matches!(stage, "ACKNOWLEDGED" | "EARLY_RESOLUTION"),
            Step::ResolveEarly => stage == "ACKNOWLEDGED",
            Step::Resume => paused && waiting,
            Step::Respond => !paused && matches!(stage, "EARLY_RESOLUTION" | "INVESTIGATION"),
            Step::Period => stage == "RECEIVED" || waiting,
            Step::Extend => waiting,
            Step::Pause => waiting && !paused,
            Step::Outcome | Step::Delay => stage != "CLOSED",
            Step::Escalate => matches!(stage, "RESPONSE_ISSUED" | "CLOSED"),
            Step::Learning => stage == "CLOSED",
        }
    }
}

/// The steps open to a complaint now, in the order a handler meets them.
fn steps_for(stage: &str, paused: bool) -> Vec<Step> {
    STEPS.into_iter().filter(|step| step.open_at(stage, paused)).collect()
}

/// The outcomes a complaint at `stage` can have: upheld or not only after the response;
/// resolved early only after an early resolution; withdrawn at any time.
fn outcome_options(stage: &str, early: bool) -> Vec<(String, String)> {
    OUTCOMES
        .iter()
        .filter(|(value, _)| match *value {
            "WITHDRAWN" => true,
            "RESOLVED_EARLY" => early,
            _ => stage == "RESPONSE_ISSUED",
        })
        .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()))
        .collect()
}

/// The answers a step's page collects.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct StepForm {
    working_days: String,
    reason: String,
    outcome: String,
    to: String,
    reference: String,
    statement: String,
}

impl StepForm {
    fn from_pairs(fields: &[(String, String)]) -> StepForm {
        StepForm {
            working_days: value_of(fields, "working_days"),
            reason: value_of(fields, "reason"),
            outcome: value_of(fields, "outcome"),
            to: value_of(fields, "to"),
            reference: value_of(fields, "reference"),
            statement: value_of(fields, "statement"),
        }
    }
}

/// The GraphQL a step runs.
#[derive(Debug, PartialEq)]
struct StepRequest {
    query: &'static str,
    variables: Value,
}

/// A step's form as the GraphQL request it makes, or the errors to show beside its fields.
/// Ranges (1–60 working days and so on) are the API's to check.
fn step_request(step: Step, id: &str, form: &StepForm) -> Result<StepRequest, Errors> {
    let mut errors = Errors::default();
    let days = form.working_days.trim().parse::<u32>().ok();
    let needs_days = matches!(step, Step::Period | Step::Extend);
    if needs_days && days.is_none() {
        errors.add("working_days", "Enter a whole number of working days, for example 10");
    }
    if matches!(step, Step::Extend | Step::Pause | Step::Delay) && form.reason.trim().is_empty() {
        errors.add(
            "reason",
            match step {
                Step::Extend => "Say why it needs longer",
                Step::Pause => "Say why the clock is stopping",
                _ => "Say why it is taking so long",
            },
        );
    }
    if step == Step::Outcome && !OUTCOMES.iter().any(|(value, _)| *value == form.outcome) {
        errors.add("outcome", "Choose the outcome");
    }
    if step == Step::Escalate {
        if !ESCALATIONS.iter().any(|(value, _)| *value == form.to) {
            errors.add("to", "Choose where the complaint went");
        }
        if form.reference.trim().is_empty() {
            errors.add("reference", "Give the reference they gave the complaint");
        }
    }
    if step == Step::Learning && form.statement.trim().is_empty() {
        errors.add("statement", "Say what should change");
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let days = days.unwrap_or_default();
    let reason = form.reason.trim();
    let (query, variables) = match step {
        Step::Acknowledge => ("mutation($id: ID!) { acknowledgeComplaint(id: $id) { id } }", json!({ "id": id })),
        Step::Investigate => ("mutation($id: ID!) { openInvestigation(id: $id) { id } }", json!({ "id": id })),
        Step::ResolveEarly => ("mutation($id: ID!) { chooseEarlyResolution(id: $id) { id } }", json!({ "id": id })),
        Step::Resume => ("mutation($id: ID!) { resumeComplaint(id: $id) { id } }", json!({ "id": id })),
        Step::Respond => ("mutation($id: ID!) { respondToComplaint(id: $id) { id } }", json!({ "id": id })),
        Step::Period => (
            "mutation($id: ID!, $d: Int!) { agreeComplaintPeriod(id: $id, workingDays: $d) { id } }",
            json!({ "id": id, "d": days }),
        ),
        Step::Extend => (
            "mutation($id: ID!, $d: Int!, $r: String!) { extendComplaint(id: $id, workingDays: $d, reason: $r) { id } }",
            json!({ "id": id, "d": days, "r": reason }),
        ),
        Step::Pause => (
            "mutation($id: ID!, $r: String!) { pauseComplaint(id: $id, reason: $r) { id } }",
            json!({ "id": id, "r": reason }),
        ),
        Step::Outcome => (
            "mutation($id: ID!, $o: ComplaintOutcome!) { recordComplaintOutcome(id: $id, outcome: $o) { id } }",
            json!({ "id": id, "o": form.outcome }),
        ),
        Step::Escalate => (
            "mutation($id: ID!, $t: EscalationTarget!, $r: String!) { escalateComplaint(id: $id, to: $t, reference: $r) { id } }",
            json!({ "id": id, "t": form.to, "r": form.reference.trim() }),
        ),
        Step::Learning => (
            "mutation($id: ID!, $s: String!) { recordLearning(id: $id, statement: $s) { id } }",
            json!({ "id": id, "s": form.statement.trim() }),
        ),
        Step::Delay => (
            "mutation($id: ID!, $r: String!) { explainComplaintDelay(id: $id, reason: $r) { id } }",
            json!({ "id": id, "r": reason }),
        ),
    };
    Ok(StepRequest { query, variables })
}

/// The API's errors, each beside the field it names (or at the top when it names none).
fn api_errors(answer_errors: &[(Option<String>, Option<String>, String)], known: &[&str]) -> Errors {
    let mut errors = Errors::default();
    for (field, _, message) in answer_errors {
        let id = field.as_deref().map(field_id).unwrap_or_default();
        let id = if known.contains(&id.as_str()) { id } else { String::new() };
        errors.add(&id, plain(message));
    }
    errors
}

/// The one-click steps open now, as buttons; `from_queue` brings the handler back to the queue.
fn quick_steps(csrf: &str, id: &str, stage: &str, paused: bool, from_queue: bool) -> Markup {
    let quick: Vec<Step> = steps_for(stage, paused).into_iter().filter(|step| !step.has_page()).collect();
    html! {
        @if !quick.is_empty() {
            div class="actions" {
                @for (n, step) in quick.iter().enumerate() {
                    form method="post" action={ "/complaints/" (id) "/" (step.slug()) } {
                        (csrf_field(csrf))
                        @if from_queue { input type="hidden" name="from" value="queue"; }
                        button class={ "button" @if n > 0 { " button--secondary" } } type="submit" { (step.label()) }
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The queue

#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    done: Option<String>,
    error: Option<String>,
    item: Option<String>,
    show: Option<String>,
}

const QUEUE_FIELDS: &str = "id receivedOn providerName stage outcome closedOn whatHappened articles { number label } \
    clock { stage acknowledgeBy respondBy workingDaysLeft overdue urgent paused needsExplanation }";

/// Most urgent first: fewest working days left; paused and clock-less ones last.
fn by_urgency(complaints: &mut [Value]) {
    complaints.sort_by_key(|c| {
        (c["clock"]["workingDaysLeft"].as_i64().unwrap_or(i64::MAX), c["receivedOn"].as_str().unwrap_or("").to_owned())
    });
}

/// `GET /complaints`: open complaints, most urgent first (or `?show=closed`).
pub async fn queue<B: Backend>(
    State(backend): State<B>,
    headers: HeaderMap,
    Query(query): Query<QueueQuery>,
) -> Response {
    let Some((viewer, csrf)) = signed_in(&backend, &headers) else {
        return see_login();
    };
    let csrf = csrf.as_str();
    let handler = is_handler(&viewer);
    let provider = viewer.actor.has(Role::ProviderResponder) && !handler;
    let advocate = viewer.actor.has(Role::Advocate) && !handler;
    let raiser = may_raise(&viewer);
    let closed = query.show.as_deref() == Some("closed");
    let answer = ask(
        &backend,
        &viewer,
        &format!("query($open: Boolean!) {{ complaints(open: $open, first: 100) {{ edges {{ node {{ {QUEUE_FIELDS} }} }} }} }}"),
        json!({ "open": !closed }),
    )
    .await;
    if let Some((_, Some(code), message)) = answer.errors.first()
        && code == "FORBIDDEN"
    {
        let body = html! { h1 { "Complaints" } p { (plain(message)) } };
        return (StatusCode::FORBIDDEN, page(&viewer, "Complaints", Some(csrf), body)).into_response();
    }
    let mut complaints = nodes(&answer.data["complaints"]);
    if closed {
        complaints.sort_by(|a, b| text(b, "closedOn").cmp(text(a, "closedOn")));
    } else {
        by_urgency(&mut complaints);
    }
    let mut errors = Errors::default();
    if let (Some(error), Some(item)) = (&query.error, &query.item) {
        errors.add(&format!("complaint-{item}"), error.clone());
    }
    let done = query.done.as_deref().and_then(Step::from_slug).map(Step::done);
    let overdue = complaints.iter().filter(|c| c["clock"]["overdue"] == true).count();
    let heading = if handler {
        "Complaints queue"
    } else if provider {
        "Complaints about your service"
    } else if advocate {
        "Complaints you passed on"
    } else {
        "Complaints"
    };
    let title = if errors.is_empty() { heading.to_owned() } else { format!("Error: {heading}") };
    let body = html! {
        (forms::summary(&errors))
        @if let Some(done) = done { div class="notice" role="status" { p { (done) } } }
        h1 { (heading) }
        @if provider {
            p class="lead" { "Complaints about your service under the Bill of Rights. You see what happened and the clock; you never see who complained. The complaints team handles each one." }
        } @else if handler {
            p class="lead" {
                @if closed { (complaints.len()) " closed, newest first." }
                @else { (complaints.len()) " open, " (overdue) " overdue. The most urgent come first. Working days leave out weekends and bank holidays." }
            }
        } @else if raiser {
            p class="lead" { "When someone tells you a right in the Bill of Rights was not respected, record it here. The complaints team acknowledges every complaint within 3 working days, and the service it is about never learns who complained." }
            @if advocate { p { "Below are the complaints you passed on for your clients." } }
        } @else {
            p class="lead" { "Complaints are seen only by the complaints team, the service each one is about (never who made it) and the advocate who passed it on. Commissioners see complaint patterns on the dashboard, in numbers only." }
        }
        @if raiser {
            p { a class={ "button" @if handler { " button--secondary" } } href="/complaints/new" { "Raise a complaint" } }
        }
        @if handler || provider || advocate {
            nav class="tabs" aria-label="Open or closed complaints" {
                ul {
                    li { a href="/complaints" aria-current=[(!closed).then_some("page")] { "Open" } }
                    li { a href="/complaints?show=closed" aria-current=[closed.then_some("page")] { "Closed" } }
                }
            }
            @if complaints.is_empty() {
                p { @if closed { "No closed complaints to show." } @else { "No open complaints to show." } }
            }
        }
        @for complaint in &complaints {
            @let id = text(complaint, "id");
            @let clock = &complaint["clock"];
            @let overdue = !closed && clock["overdue"] == true;
            @let urgent = !closed && clock["urgent"] == true;
            @let stage = text(complaint, "stage");
            article id={ "complaint-" (id) } class={ "card complaint" @if overdue { " complaint--overdue" } @else if urgent { " complaint--urgent" } } aria-labelledby={ "title-" (id) } tabindex="-1" {
                h2 id={ "title-" (id) } class="item-title" {
                    @if overdue { span class="tag tag--overdue" { "Overdue" } " " } @else if urgent { span class="tag tag--urgent" { "Due soon" } " " }
                    a href={ "/complaints/" (id) } { (text(complaint, "providerName")) ", received " (text(complaint, "receivedOn")) }
                }
                @if closed {
                    p class="clock" { strong { "Closed " (text(complaint, "closedOn")) ": " (words(&OUTCOMES, text(complaint, "outcome"))) } }
                } @else {
                    p class="clock" { strong { (clock_words(clock)) } }
                }
                @if clock["needsExplanation"] == true {
                    p class="warning" {
                        "Open for six months: "
                        @if handler { a href={ "/complaints/" (id) "/delay" } { "record why it is taking so long" } } @else { "the complaints team must record why it is taking so long" }
                        "."
                    }
                }
                p class="meta" { (stage_words(stage, handler)) " · Articles: " (articles_words(complaint)) }
                @if let Some(what) = complaint["whatHappened"].as_str() { blockquote class="said" { p { (what) } } }
                @if handler && !closed {
                    (quick_steps(csrf, id, stage, clock["paused"] == true, true))
                }
            }
        }
    };
    page(&viewer, &title, Some(csrf), body).into_response()
}

// ---------------------------------------------------------------------------------------------
// One complaint

#[derive(Debug, Default, Deserialize)]
pub struct DetailQuery {
    done: Option<String>,
    error: Option<String>,
}

const DETAIL_FIELDS: &str = "id providerName service receivedOn stage earlyResolution outcome closedOn route \
    complainantKind complainantName complainantContact whatHappened outcomeWanted agreedWorkingDays \
    articles { number label } \
    clock { stage acknowledgeBy acknowledgedOn respondBy respondedOn workingDaysLeft overdue urgent paused responsePeriod needsExplanation } \
    extensions { workingDays reason } pauses { from until reason } escalations { to reference } delayExplanations learning";

async fn fetch<B: Backend>(backend: &B, viewer: &Viewer, id: &str) -> Option<Value> {
    let answer = ask(
        backend,
        viewer,
        &format!("query($id: ID!) {{ complaint(id: $id) {{ {DETAIL_FIELDS} }} }}"),
        json!({ "id": id }),
    )
    .await;
    answer.errors.is_empty().then(|| answer.data["complaint"].clone()).filter(|c| c.is_object())
}

fn not_found(viewer: &Viewer, csrf: &str) -> Response {
    let body = html! {
        h1 { "Complaint not found" }
        p { "There is no complaint here that is shared with you." }
        p { a href="/complaints" { "Back to complaints" } }
    };
    (StatusCode::NOT_FOUND, page(viewer, "Complaint not found", Some(csrf), body)).into_response()
}

fn days_words(n: i64) -> String {
    if n == 1 { "1 working day".to_owned() } else { format!("{n} working days") }
}

/// Whether the viewer answers for the service complained about, and so never learns who
/// complained, nor whether an advocate passed it on or which way it came in.
fn withheld(viewer: &Viewer) -> bool {
    !is_handler(viewer) && viewer.actor.has(Role::ProviderResponder)
}

/// Who complained, as far as the viewer may know.
fn complainant_words(viewer: &Viewer, complaint: &Value) -> Markup {
    if withheld(viewer) {
        return html! { "Withheld: a service never learns who complained about it." };
    }
    html! {
        (match text(complaint, "complainantKind") {
            "NAMED" => "Named",
            "RELAYED_BY_ADVOCATE" => "Passed on by an advocate",
            _ => "Anonymous",
        })
        @if let Some(name) = complaint["complainantName"].as_str() { br; (name) }
        @if let Some(contact) = complaint["complainantContact"].as_str() { br; (contact) }
    }
}

/// The complaint, its clock and its history.
fn complaint_summary(viewer: &Viewer, complaint: &Value) -> Markup {
    let clock = &complaint["clock"];
    let stage = text(complaint, "stage");
    html! {
        h2 { "Where it stands" }
        dl class="summary-list" {
            div { dt { "Stage" } dd { (stage_words(stage, is_handler(viewer))) } }
            @if stage == "CLOSED" {
                div { dt { "Outcome" } dd { (words(&OUTCOMES, text(complaint, "outcome"))) ", closed " (text(complaint, "closedOn")) } }
            } @else {
                div { dt { "Clock" } dd class="clock" { (clock_words(clock)) } }
            }
            div { dt { "Acknowledge by" } dd {
                (text(clock, "acknowledgeBy"))
                @if let Some(on) = clock["acknowledgedOn"].as_str() { " (acknowledged " (on) ")" }
            } }
            div { dt { "Respond by" } dd {
                @match clock["respondBy"].as_str() { Some(by) => { (by) }, None => { "Not while the clock is paused" } }
                @if let Some(on) = clock["respondedOn"].as_str() { " (response sent " (on) ")" }
            } }
            div { dt { "Response period" } dd {
                (days_words(clock["responsePeriod"].as_i64().unwrap_or(20)))
                @if let Some(agreed) = complaint["agreedWorkingDays"].as_i64() { " (" (days_words(agreed)) " agreed with the person who complained, plus any extensions)" }
                @else { " (the usual 20, plus any extensions)" }
            } }
        }
        h2 { "The complaint" }
        dl class="summary-list" {
            div { dt { "Rights not respected" } dd {
                ul class="plain-list" {
                    @for article in complaint["articles"].as_array().cloned().unwrap_or_default() {
                        li { "Right " (article["number"]) ": " (text(&article, "label")) }
                    }
                }
            } }
            div { dt { "Service provider" } dd { (text(complaint, "providerName")) @if let Some(service) = complaint["service"].as_str() { " – " (service) } } }
            div { dt { "What happened" } dd { (complaint["whatHappened"].as_str().unwrap_or("(erased at the person's request)")) } }
            div { dt { "What they want to happen" } dd { (complaint["outcomeWanted"].as_str().unwrap_or("(erased at the person's request)")) } }
            @if !withheld(viewer) {
                div { dt { "How it came in" } dd { (words(&ROUTES, text(complaint, "route")).split(':').next().unwrap_or_default()) } }
            }
            div { dt { "Who complained" } dd { (complainant_words(viewer, complaint)) } }
            div { dt { "Received" } dd { (text(complaint, "receivedOn")) } }
        }
        h2 { "History" }
        @let extensions = complaint["extensions"].as_array().cloned().unwrap_or_default();
        @let pauses = complaint["pauses"].as_array().cloned().unwrap_or_default();
        @let escalations = complaint["escalations"].as_array().cloned().unwrap_or_default();
        @let delays = complaint["delayExplanations"].as_array().cloned().unwrap_or_default();
        @let learning = complaint["learning"].as_array().cloned().unwrap_or_default();
        ul class="history" {
            li { "Received " (text(complaint, "receivedOn")) }
            @if let Some(on) = clock["acknowledgedOn"].as_str() { li { "Acknowledged " (on) } }
            @if complaint["earlyResolution"] == true { li { "Handled by early resolution" } }
            @if let Some(agreed) = complaint["agreedWorkingDays"].as_i64() { li { "Response period agreed: " (days_words(agreed)) } }
            @for extension in &extensions {
                li { "Extended by " (days_words(extension["workingDays"].as_i64().unwrap_or_default())) ": " (text(extension, "reason")) }
            }
            @for pause in &pauses {
                li { "Clock paused " (text(pause, "from"))
                    @if let Some(until) = pause["until"].as_str() { " until " (until) } @else { " (still paused)" }
                    ": " (text(pause, "reason")) }
            }
            @if let Some(on) = clock["respondedOn"].as_str() { li { "Response sent " (on) } }
            @if stage == "CLOSED" { li { "Outcome: " (words(&OUTCOMES, text(complaint, "outcome"))) ", " (text(complaint, "closedOn")) } }
            @for escalation in &escalations {
                li { "Went to " (words(&ESCALATIONS, text(escalation, "to")).to_lowercase()) ", reference " (text(escalation, "reference")) }
            }
            @for delay in &delays { li { "Why it is taking long: " (delay.as_str().unwrap_or_default()) } }
        }
        @if !learning.is_empty() {
            h2 { "What should change" }
            ul { @for statement in &learning { li { (statement.as_str().unwrap_or_default()) } } }
        }
    }
}

/// `GET /complaints/{id}`.
pub async fn detail<B: Backend>(
    State(backend): State<B>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(query): Query<DetailQuery>,
) -> Response {
    let Some((viewer, csrf)) = signed_in(&backend, &headers) else {
        return see_login();
    };
    let csrf = csrf.as_str();
    let Some(complaint) = fetch(&backend, &viewer, &id).await else {
        return not_found(&viewer, csrf);
    };
    let mut errors = Errors::default();
    if let Some(error) = &query.error {
        errors.add("", error.clone());
    }
    let done = query.done.as_deref().and_then(Step::from_slug).map(Step::done);
    let stage = text(&complaint, "stage");
    let clock = &complaint["clock"];
    let paused = clock["paused"] == true;
    let handler = is_handler(&viewer);
    let pages: Vec<Step> = steps_for(stage, paused).into_iter().filter(|step| step.has_page()).collect();
    let heading = format!("Complaint about {}", text(&complaint, "providerName"));
    let body = html! {
        (forms::summary(&errors))
        @if let Some(done) = done { div class="notice" role="status" { p { (done) } } }
        p { a href="/complaints" { "All complaints" } }
        h1 {
            @if stage != "CLOSED" && clock["overdue"] == true { span class="tag tag--overdue" { "Overdue" } " " }
            @else if stage != "CLOSED" && clock["urgent"] == true { span class="tag tag--urgent" { "Due soon" } " " }
            (heading)
        }
        @if clock["needsExplanation"] == true {
            p class="warning" { "Open for six months: the record must say why it is taking so long." }
        }
        @if handler {
            section class="card next-steps" aria-labelledby="next-title" {
                h2 id="next-title" { "Next steps" }
                (quick_steps(csrf, &id, stage, paused, false))
                @if !pages.is_empty() {
                    ul class="step-links" {
                        @for step in &pages { li { a href={ "/complaints/" (id) "/" (step.slug()) } { (step.label()) } } }
                    }
                }
            }
        }
        div class="complaint-detail" { (complaint_summary(&viewer, &complaint)) }
    };
    let title = if errors.is_empty() { heading } else { format!("Error: {heading}") };
    page(&viewer, &title, Some(csrf), body).into_response()
}

/// The fields on each step's page.
fn step_fields(step: Step, complaint: &Value, form: &StepForm, errors: &Errors) -> Markup {
    let stage = text(complaint, "stage");
    let early = complaint["earlyResolution"] == true;
    html! {
        @match step {
            Step::Period => {
                (forms::input(Input { id: "working_days", label: "How many working days did you agree?", kind: "text", value: &form.working_days, hint: Some("Instead of the usual 20, from the day it was received. 1 to 130 working days: weekends and bank holidays do not count."), autocomplete: Some("off") }, errors))
            }
            Step::Extend => {
                (forms::input(Input { id: "working_days", label: "Extend by how many working days?", kind: "text", value: &form.working_days, hint: Some("1 to 60 working days."), autocomplete: Some("off") }, errors))
                (forms::textarea("reason", "Why does it need longer?", &form.reason, Some("For example: the prescriber is on leave until next month."), errors))
            }
            Step::Pause => {
                (forms::textarea("reason", "Why stop the clock?", &form.reason, Some("For example: waiting to hear back from the person who complained. Resume the clock when things move again."), errors))
            }
            Step::Outcome => {
                @let hint = if stage == "RESPONSE_ISSUED" { "This closes the complaint." } else { "Until the response is sent, a complaint can only be withdrawn, or resolved early if it was handled by early resolution. This closes the complaint." };
                (forms::choices(Choices { id: "outcome", legend: "What was the outcome?", multiple: false, options: outcome_options(stage, early), chosen: vec![form.outcome.clone()], hint: Some(hint) }, errors))
            }
            Step::Escalate => {
                (forms::choices(Choices { id: "to", legend: "Where did the complaint go?", multiple: false, options: options(&ESCALATIONS), chosen: vec![form.to.clone()], hint: None }, errors))
                (forms::input(Input { id: "reference", label: "Their reference", kind: "text", value: &form.reference, hint: Some("The reference they gave it, for example PHSO-1234."), autocomplete: Some("off") }, errors))
            }
            Step::Learning => {
                (forms::textarea("statement", "What should change?", &form.statement, Some("In words that identify nobody: no names, phone numbers or email addresses. Commissioners can link it to a decision."), errors))
            }
            Step::Delay => {
                (forms::textarea("reason", "Why is it taking so long?", &form.reason, Some("Every complaint still open after six months must say why."), errors))
            }
            _ => {}
        }
    }
}

fn step_page(
    viewer: &Viewer,
    csrf: &str,
    id: &str,
    step: Step,
    complaint: &Value,
    form: &StepForm,
    errors: &Errors,
) -> Markup {
    let title = if errors.is_empty() { step.label().to_owned() } else { format!("Error: {}", step.label()) };
    page(
        viewer,
        &title,
        Some(csrf),
        html! {
            (forms::summary(errors))
            p { a href={ "/complaints/" (id) } { "Back to the complaint" } }
            h1 { (step.label()) }
            p class="lead" {
                "Complaint about " (text(complaint, "providerName")) ", received " (text(complaint, "receivedOn")) ". "
                @if text(complaint, "stage") != "CLOSED" { (clock_words(&complaint["clock"])) "." }
            }
            @if step == Step::Escalate {
                p { "When the person takes their complaint further: to the provider's own complaints process, or to the ombudsman." }
            }
            form method="post" action={ "/complaints/" (id) "/" (step.slug()) } novalidate {
                (csrf_field(csrf))
                (step_fields(step, complaint, form, errors))
                div class="actions" {
                    button class="button" type="submit" { (step.label()) }
                    a href={ "/complaints/" (id) } { "Cancel" }
                }
            }
        },
    )
}

fn handlers_only(viewer: &Viewer, csrf: &str) -> Response {
    let body = html! {
        h1 { "Complaints" }
        p { "Only the complaints team works complaints." }
        p { a href="/complaints" { "Back to complaints" } }
    };
    (StatusCode::FORBIDDEN, page(viewer, "Complaints", Some(csrf), body)).into_response()
}

/// `GET /complaints/{id}/{step}`: the page for a step that needs answers.
pub async fn step_form<B: Backend>(
    State(backend): State<B>,
    Path((id, slug)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Some((viewer, csrf)) = signed_in(&backend, &headers) else {
        return see_login();
    };
    let csrf = csrf.as_str();
    let Some(step) = Step::from_slug(&slug) else {
        return (StatusCode::NOT_FOUND, "There is no such step.").into_response();
    };
    if !step.has_page() {
        // A one-click step is a button on the complaint's page.
        return Redirect::to(&format!("/complaints/{id}")).into_response();
    }
    if !is_handler(&viewer) {
        return handlers_only(&viewer, csrf);
    }
    let Some(complaint) = fetch(&backend, &viewer, &id).await else {
        return not_found(&viewer, csrf);
    };
    if !step.open_at(text(&complaint, "stage"), complaint["clock"]["paused"] == true) {
        return Redirect::to(&format!("/complaints/{id}")).into_response();
    }
    step_page(&viewer, csrf, &id, step, &complaint, &StepForm::default(), &Errors::default()).into_response()
}

/// `POST /complaints/{id}/{step}`: runs the step; a one-click step goes back where it came
/// from, a step with a page comes back with its errors beside its fields.
pub async fn step<B: Backend>(
    State(backend): State<B>,
    Path((id, slug)): Path<(String, String)>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let Some((viewer, csrf)) = signed_in(&backend, &headers) else {
        return see_login();
    };
    let csrf = csrf.as_str();
    if !backend.csrf_matches(&viewer, &value_of(&fields, "csrf_token")) {
        return expired();
    }
    let Some(step) = Step::from_slug(&slug) else {
        return (StatusCode::NOT_FOUND, "There is no such step.").into_response();
    };
    let from_queue = value_of(&fields, "from") == "queue";
    let form = StepForm::from_pairs(&fields);
    let back = |outcome: Result<Step, String>| {
        let url = match (outcome, from_queue) {
            (Ok(step), true) => format!("/complaints?done={}#complaint-{id}", step.slug()),
            (Ok(step), false) => format!("/complaints/{id}?done={}", step.slug()),
            (Err(error), true) => format!("/complaints?error={}&item={}", urlencode(&error), urlencode(&id)),
            (Err(error), false) => format!("/complaints/{id}?error={}", urlencode(&error)),
        };
        Redirect::to(&url).into_response()
    };
    let again = |complaint: &Value, errors: &Errors| {
        let page = step_page(&viewer, csrf, &id, step, complaint, &form, errors);
        no_store((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
    };
    let request = match step_request(step, &id, &form) {
        Ok(request) => request,
        Err(errors) if step.has_page() => {
            let Some(complaint) = fetch(&backend, &viewer, &id).await else {
                return not_found(&viewer, csrf);
            };
            return again(&complaint, &errors);
        }
        Err(errors) => return back(Err(errors.0.first().map(|e| e.message.clone()).unwrap_or_default())),
    };
    let answer = ask(&backend, &viewer, request.query, request.variables).await;
    if answer.errors.is_empty() {
        return back(Ok(step));
    }
    if !step.has_page() {
        return back(Err(plain(&answer.errors[0].2)));
    }
    let Some(complaint) = fetch(&backend, &viewer, &id).await else {
        return not_found(&viewer, csrf);
    };
    again(
        &complaint,
        &api_errors(&answer.errors, &["working_days", "reason", "outcome", "to", "reference", "statement"]),
    )
}

// ---------------------------------------------------------------------------------------------
// Raising a complaint

/// What the raise-a-complaint form holds. It travels in hidden fields through "check your
/// answers", so no draft is kept anywhere and nothing personal goes into a URL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct RaiseForm {
    provider: String,
    service: String,
    articles: Vec<String>,
    what_happened: String,
    outcome_wanted: String,
    route: String,
    complainant_kind: String,
    complainant_name: String,
    complainant_contact: String,
    received_on: String,
}

/// The form's fields in page order (for hidden fields and the error summary).
const RAISE_FIELDS: [&str; 10] = [
    "provider",
    "service",
    "articles",
    "what_happened",
    "outcome_wanted",
    "route",
    "complainant_kind",
    "complainant_name",
    "complainant_contact",
    "received_on",
];

fn too_long(text: &str, max: usize) -> bool {
    text.trim().chars().count() > max
}

impl RaiseForm {
    fn from_pairs(pairs: &[(String, String)]) -> RaiseForm {
        let mut form = RaiseForm::default();
        for (key, value) in pairs {
            match key.as_str() {
                "provider" => form.provider = value.clone(),
                "service" => form.service = value.clone(),
                "articles" => form.articles.push(value.clone()),
                "what_happened" => form.what_happened = value.clone(),
                "outcome_wanted" => form.outcome_wanted = value.clone(),
                "route" => form.route = value.clone(),
                "complainant_kind" => form.complainant_kind = value.clone(),
                "complainant_name" => form.complainant_name = value.clone(),
                "complainant_contact" => form.complainant_contact = value.clone(),
                "received_on" => form.received_on = value.clone(),
                _ => {}
            }
        }
        form
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        for field in RAISE_FIELDS {
            match field {
                "articles" => pairs.extend(self.articles.iter().map(|a| ("articles", a.clone()))),
                "provider" => pairs.push((field, self.provider.clone())),
                "service" => pairs.push((field, self.service.clone())),
                "what_happened" => pairs.push((field, self.what_happened.clone())),
                "outcome_wanted" => pairs.push((field, self.outcome_wanted.clone())),
                "route" => pairs.push((field, self.route.clone())),
                "complainant_kind" => pairs.push((field, self.complainant_kind.clone())),
                "complainant_name" => pairs.push((field, self.complainant_name.clone())),
                "complainant_contact" => pairs.push((field, self.complainant_contact.clone())),
                _ => pairs.push((field, self.received_on.clone())),
            }
        }
        pairs
    }

    fn articles(&self) -> Vec<u32> {
        let mut numbers: Vec<u32> = self.articles.iter().filter_map(|a| a.trim().parse().ok()).collect();
        numbers.sort_unstable();
        numbers.dedup();
        numbers
    }

    fn named(&self) -> bool {
        self.complainant_kind == "NAMED"
    }

    /// What is missing or wrong, in page order. `may_relay`: only an advocate can pass a
    /// complaint on as its advocate.
    fn check(&self, today: jiff::civil::Date, may_relay: bool) -> Errors {
        let mut errors = Errors::default();
        if self.provider.trim().is_empty() {
            errors.add("provider", "Choose the service provider the complaint is about");
        }
        if too_long(&self.service, 200) {
            errors.add("service", "Keep the service to 200 characters");
        }
        if self.articles.is_empty() {
            errors.add("articles", "Choose at least one right that was not respected");
        } else if self.articles().len() != self.articles.iter().collect::<std::collections::BTreeSet<_>>().len() {
            errors.add("articles", "Choose rights from the list");
        }
        if self.what_happened.trim().is_empty() {
            errors.add("what_happened", "Say what happened");
        } else if too_long(&self.what_happened, 5000) {
            errors.add("what_happened", "Keep what happened to 5000 characters");
        }
        if self.outcome_wanted.trim().is_empty() {
            errors.add("outcome_wanted", "Say what they would like to happen");
        } else if too_long(&self.outcome_wanted, 2000) {
            errors.add("outcome_wanted", "Keep what they would like to 2000 characters");
        }
        if !ROUTES.iter().any(|(value, _)| *value == self.route) {
            errors.add("route", "Choose how the complaint came in");
        }
        let kinds: &[&str] =
            if may_relay { &["ANONYMOUS", "NAMED", "RELAYED_BY_ADVOCATE"] } else { &["ANONYMOUS", "NAMED"] };
        if !kinds.contains(&self.complainant_kind.as_str()) {
            errors.add("complainant_kind", "Choose who is making the complaint");
        }
        let name = self.complainant_name.trim();
        let contact = self.complainant_contact.trim();
        if self.named() && name.is_empty() {
            errors.add("complainant_name", "Give their name, or choose that they want to stay anonymous");
        } else if !self.named() && !self.complainant_kind.is_empty() && !name.is_empty() {
            errors.add("complainant_name", "Leave the name empty unless they chose to give it");
        } else if too_long(name, 200) {
            errors.add("complainant_name", "Keep the name to 200 characters");
        }
        if !self.named() && !self.complainant_kind.is_empty() && !contact.is_empty() {
            errors.add("complainant_contact", "Leave contact details empty unless they gave their name");
        } else if too_long(contact, 200) {
            errors.add("complainant_contact", "Keep contact details to 200 characters");
        }
        let received = self.received_on.trim();
        if !received.is_empty() {
            match received.parse::<jiff::civil::Date>() {
                Err(_) => errors.add("received_on", "Enter the date as year, month and day, for example 2026-11-23"),
                Ok(date) if date > today => errors.add("received_on", "The date cannot be in the future"),
                Ok(_) => {}
            }
        }
        errors
    }

    /// The `RaiseComplaintInput` the form makes. An advocate passing a complaint on is taken
    /// by the API to be its advocate, so no advocate is named here.
    fn input(&self) -> Value {
        let optional = |text: &str| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
        json!({
            "charter": "exact",
            "provider": self.provider.trim(),
            "service": optional(&self.service),
            "articles": self.articles(),
            "complainantKind": self.complainant_kind,
            "complainantName": if self.named() { optional(&self.complainant_name) } else { None },
            "complainantContact": if self.named() { optional(&self.complainant_contact) } else { None },
            "route": self.route,
            "whatHappened": self.what_happened.trim(),
            "outcomeWanted": self.outcome_wanted.trim(),
            "receivedOn": optional(&self.received_on),
        })
    }
}

/// The charter's articles and the providers, as (value, label) choices.
struct Reference {
    charter: String,
    articles: Vec<(String, String)>,
    providers: Vec<(String, String)>,
}

async fn reference<B: Backend>(backend: &B, viewer: &Viewer) -> Reference {
    let answer = ask(
        backend,
        viewer,
        "{ rights { name articles { number label } } providers(first: 100) { edges { node { id name } } } }",
        json!({}),
    )
    .await;
    let articles = answer.data["rights"]["articles"]
        .as_array()
        .map(|articles| {
            articles
                .iter()
                .map(|a| (a["number"].to_string(), format!("Right {}: {}", a["number"], text(a, "label"))))
                .collect()
        })
        .unwrap_or_default();
    let providers = nodes(&answer.data["providers"])
        .iter()
        .map(|p| (text(p, "id").to_owned(), text(p, "name").to_owned()))
        .collect();
    Reference { charter: text(&answer.data["rights"], "name").to_owned(), articles, providers }
}

fn kinds_for(viewer: &Viewer) -> Vec<(String, String)> {
    let mut kinds = options(&KINDS);
    if !viewer.actor.has(Role::Advocate) {
        kinds.retain(|(value, _)| value != "RELAYED_BY_ADVOCATE");
    }
    kinds
}

fn raise_page(viewer: &Viewer, csrf: &str, reference: &Reference, form: &RaiseForm, errors: &Errors) -> Markup {
    let title = if errors.is_empty() { "Raise a complaint" } else { "Error: Raise a complaint" };
    let charter = if reference.charter.is_empty() { "the Bill of Rights" } else { reference.charter.as_str() };
    page(
        viewer,
        title,
        Some(csrf),
        html! {
            (forms::summary(errors))
            p { a href="/complaints" { "Complaints" } }
            h1 { "Raise a complaint" }
            p class="lead" { "For when someone says a right in the " (charter) " was not respected. You can check your answers before anything is recorded." }
            form method="post" action="/complaints/new" novalidate {
                (csrf_field(csrf))
                (forms::choices(Choices { id: "provider", legend: "Which service provider is it about?", multiple: false, options: reference.providers.clone(), chosen: vec![form.provider.clone()], hint: None }, errors))
                (forms::input(Input { id: "service", label: "Which part of the service, or where? (optional)", kind: "text", value: &form.service, hint: Some("For example: the needle exchange in Crawley."), autocomplete: Some("off") }, errors))
                (forms::choices(Choices { id: "articles", legend: "Which rights were not respected?", multiple: true, options: reference.articles.clone(), chosen: form.articles.clone(), hint: Some("Choose all that apply.") }, errors))
                (forms::textarea("what_happened", "What happened?", &form.what_happened, Some("In their own words where you can. Leave out the names of other people."), errors))
                (forms::textarea("outcome_wanted", "What would they like to happen?", &form.outcome_wanted, Some("For example: an apology, a review meeting, or a change for everyone."), errors))
                (forms::choices(Choices { id: "route", legend: "How did the complaint come in?", multiple: false, options: options(&ROUTES), chosen: vec![form.route.clone()], hint: None }, errors))
                (forms::choices(Choices { id: "complainant_kind", legend: "Who is making the complaint?", multiple: false, options: kinds_for(viewer), chosen: vec![form.complainant_kind.clone()], hint: Some("People can complain without giving their name. The service it is about never learns who complained.") }, errors))
                (forms::input(Input { id: "complainant_name", label: "Their name (only if they gave it)", kind: "text", value: &form.complainant_name, hint: Some("Only the complaints team sees it."), autocomplete: Some("off") }, errors))
                (forms::input(Input { id: "complainant_contact", label: "How to contact them (optional, only if they gave their name)", kind: "text", value: &form.complainant_contact, hint: Some("A phone number or email address the complaints team can use."), autocomplete: Some("off") }, errors))
                (forms::input(Input { id: "received_on", label: "When did the complaint come in? (optional)", kind: "date", value: &form.received_on, hint: Some("Leave it as today unless it came in earlier. For example, 2026-11-23."), autocomplete: None }, errors))
                button class="button" type="submit" { "Continue" }
            }
        },
    )
}

fn check_page(viewer: &Viewer, csrf: &str, reference: &Reference, form: &RaiseForm) -> Markup {
    let label = |choices: &[(String, String)], value: &str| {
        choices.iter().find(|(v, _)| v == value).map_or_else(|| value.to_owned(), |(_, l)| l.clone())
    };
    let not_given = "Not given";
    let received =
        if form.received_on.trim().is_empty() { "Today".to_owned() } else { form.received_on.trim().to_owned() };
    let rows: Vec<(&str, &str, Markup)> = vec![
        ("provider", "Service provider", html! { (label(&reference.providers, &form.provider)) }),
        (
            "service",
            "Part of the service, or where",
            html! { (Some(form.service.trim()).filter(|s| !s.is_empty()).unwrap_or(not_given)) },
        ),
        (
            "articles",
            "Rights not respected",
            html! {
                ul class="plain-list" { @for article in form.articles() { li { (label(&reference.articles, &article.to_string())) } } }
            },
        ),
        ("what_happened", "What happened", html! { (form.what_happened.trim()) }),
        ("outcome_wanted", "What they would like to happen", html! { (form.outcome_wanted.trim()) }),
        ("route", "How it came in", html! { (words(&ROUTES, &form.route)) }),
        ("complainant_kind", "Who is making the complaint", html! { (words(&KINDS, &form.complainant_kind)) }),
        (
            "complainant_name",
            "Their name",
            html! { (Some(form.complainant_name.trim()).filter(|s| !s.is_empty()).unwrap_or(not_given)) },
        ),
        (
            "complainant_contact",
            "How to contact them",
            html! { (Some(form.complainant_contact.trim()).filter(|s| !s.is_empty()).unwrap_or(not_given)) },
        ),
        ("received_on", "When it came in", html! { (received) }),
    ];
    let rows: Vec<(&str, &str, Markup)> = rows
        .into_iter()
        .filter(|(field, _, _)| form.named() || !matches!(*field, "complainant_name" | "complainant_contact"))
        .collect();
    page(
        viewer,
        "Check your answers",
        Some(csrf),
        html! {
            h1 { "Check your answers before recording the complaint" }
            form method="post" action="/complaints/new/submit" novalidate {
                (csrf_field(csrf))
                @for (name, value) in form.pairs() { input type="hidden" name=(name) value=(value); }
                dl class="summary-list check-answers" {
                    @for (field, question, answer) in &rows {
                        div {
                            dt { (question) }
                            dd { (answer) }
                            dd class="change" {
                                button class="button-link" type="submit" formaction={ "/complaints/new/change#" (field) } formnovalidate {
                                    "Change" span class="visually-hidden" { " " (question.to_lowercase()) }
                                }
                            }
                        }
                    }
                }
                h2 { "Now record the complaint" }
                p { "The complaints team will acknowledge it within 3 working days and answer it within 20, unless they agree another period with the person who complained." }
                button class="button" type="submit" { "Record the complaint" }
            }
        },
    )
}

/// `GET /complaints/new`: the questions.
pub async fn raise_form<B: Backend>(State(backend): State<B>, headers: HeaderMap) -> Response {
    let Some((viewer, csrf)) = signed_in(&backend, &headers) else {
        return see_login();
    };
    let csrf = csrf.as_str();
    if let Some(refused) =
        only_for(&viewer, csrf, &RAISERS, "hub members, coordinators, advocates and the complaints team")
    {
        return refused;
    }
    let reference = reference(&backend, &viewer).await;
    let form = RaiseForm { received_on: heard_api::today().to_string(), ..RaiseForm::default() };
    raise_page(&viewer, csrf, &reference, &form, &Errors::default()).into_response()
}

/// Reads a posted raise form, or `None` when its CSRF token is not the session's.
fn posted<B: Backend>(backend: &B, viewer: &Viewer, fields: &[(String, String)]) -> Option<RaiseForm> {
    backend.csrf_matches(viewer, &value_of(fields, "csrf_token")).then(|| RaiseForm::from_pairs(fields))
}

/// `POST /complaints/new`: the answers checked; then "check your answers" (or the questions
/// again with what is missing).
pub async fn raise_check<B: Backend>(
    State(backend): State<B>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let Some((viewer, csrf)) = signed_in(&backend, &headers) else {
        return see_login();
    };
    let csrf = csrf.as_str();
    if let Some(refused) =
        only_for(&viewer, csrf, &RAISERS, "hub members, coordinators, advocates and the complaints team")
    {
        return refused;
    }
    let Some(form) = posted(&backend, &viewer, &fields) else {
        return expired();
    };
    let reference = reference(&backend, &viewer).await;
    let errors = form.check(heard_api::today(), viewer.actor.has(Role::Advocate));
    if !errors.is_empty() {
        let page = raise_page(&viewer, csrf, &reference, &form, &errors);
        return no_store((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    no_store(check_page(&viewer, csrf, &reference, &form).into_response())
}

/// `POST /complaints/new/change`: back to the questions with the answers kept.
pub async fn raise_change<B: Backend>(
    State(backend): State<B>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let Some((viewer, csrf)) = signed_in(&backend, &headers) else {
        return see_login();
    };
    let csrf = csrf.as_str();
    if let Some(refused) =
        only_for(&viewer, csrf, &RAISERS, "hub members, coordinators, advocates and the complaints team")
    {
        return refused;
    }
    let Some(form) = posted(&backend, &viewer, &fields) else {
        return expired();
    };
    let reference = reference(&backend, &viewer).await;
    no_store(raise_page(&viewer, csrf, &reference, &form, &Errors::default()).into_response())
}

/// `POST /complaints/new/submit`: `raiseComplaint`; then the confirmation, or the questions
/// with the API's errors beside their fields.
pub async fn raise<B: Backend>(
    State(backend): State<B>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let Some((viewer, csrf)) = signed_in(&backend, &headers) else {
        return see_login();
    };
    let csrf = csrf.as_str();
    if let Some(refused) =
        only_for(&viewer, csrf, &RAISERS, "hub members, coordinators, advocates and the complaints team")
    {
        return refused;
    }
    let Some(form) = posted(&backend, &viewer, &fields) else {
        return expired();
    };
    let mut errors = form.check(heard_api::today(), viewer.actor.has(Role::Advocate));
    if errors.is_empty() {
        let answer = ask(
            &backend,
            &viewer,
            "mutation($i: RaiseComplaintInput!) { raiseComplaint(input: $i) { id clock { acknowledgeBy } } }",
            json!({ "i": form.input() }),
        )
        .await;
        if answer.errors.is_empty() {
            let raised = &answer.data["raiseComplaint"];
            let mut url = format!("/complaints/raised?by={}", urlencode(text(&raised["clock"], "acknowledgeBy")));
            if is_handler(&viewer) {
                url.push_str(&format!("&id={}", urlencode(text(raised, "id"))));
            }
            return Redirect::to(&url).into_response();
        }
        errors = api_errors(&answer.errors, &RAISE_FIELDS);
    }
    let reference = reference(&backend, &viewer).await;
    let page = raise_page(&viewer, csrf, &reference, &form, &errors);
    no_store((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct RaisedQuery {
    by: Option<String>,
    id: Option<String>,
}

/// `GET /complaints/raised`: the confirmation, and what happens next.
pub async fn raised<B: Backend>(
    State(backend): State<B>,
    headers: HeaderMap,
    Query(query): Query<RaisedQuery>,
) -> Response {
    let Some((viewer, csrf)) = signed_in(&backend, &headers) else {
        return see_login();
    };
    let csrf = csrf.as_str();
    let by = query.by.as_deref().and_then(|by| by.parse::<jiff::civil::Date>().ok());
    let id = query.id.as_deref().and_then(|id| uuid::Uuid::parse_str(id).ok());
    let body = html! {
        div class="panel" role="status" {
            h1 { "Complaint recorded" }
            @if let Some(by) = by { p { "The complaints team will acknowledge it by " strong { (by) } "." } }
        }
        h2 { "What happens next" }
        ul {
            li { "The complaints team acknowledges it within 3 working days and becomes its handler." }
            li { "They answer it within 20 working days, or a period they agree with the person who complained. Any extension or pause is recorded with its reason." }
            li { "The service it is about sees what happened, never who complained." }
        }
        p {
            @if let (Some(id), true) = (id, is_handler(&viewer)) { a href={ "/complaints/" (id) } { "Open the complaint" } " · " }
            a href="/complaints/new" { "Raise another complaint" } " · "
            a href="/" { "Home" }
        }
    };
    page(&viewer, "Complaint recorded", Some(csrf), body).into_response()
}

/// This page's routes.
pub fn routes<B: Backend>() -> axum::Router<B> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/complaints", get(queue::<B>))
        .route("/complaints/new", get(raise_form::<B>).post(raise_check::<B>))
        .route("/complaints/new/change", post(raise_change::<B>))
        .route("/complaints/new/submit", post(raise::<B>))
        .route("/complaints/raised", get(raised::<B>))
        .route("/complaints/{id}", get(detail::<B>))
        .route("/complaints/{id}/{step}", get(step_form::<B>).post(step::<B>))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled() -> RaiseForm {
        RaiseForm {
            provider: "addaction".into(),
            service: " the Crawley needle exchange ".into(),
            articles: vec!["5".into(), "3".into()],
            what_happened: " My script was cut without a review. ".into(),
            outcome_wanted: "A review meeting".into(),
            route: "HUB".into(),
            complainant_kind: "ANONYMOUS".into(),
            complainant_name: String::new(),
            complainant_contact: String::new(),
            received_on: "2026-01-12".into(),
        }
    }

    fn today() -> jiff::civil::Date {
        "2026-02-02".parse().unwrap()
    }

    fn fields(errors: &Errors) -> Vec<&str> {
        errors.0.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn an_empty_complaint_names_every_missing_answer_in_page_order() {
        let errors = RaiseForm::default().check(today(), false);
        assert_eq!(
            fields(&errors),
            ["provider", "articles", "what_happened", "outcome_wanted", "route", "complainant_kind"]
        );
    }

    #[test]
    fn a_complete_anonymous_complaint_becomes_the_raise_complaint_input() {
        let form = filled();
        assert!(form.check(today(), false).is_empty());
        assert_eq!(
            form.input(),
            json!({
                "charter": "exact", "provider": "addaction", "service": "the Crawley needle exchange",
                "articles": [3, 5], "complainantKind": "ANONYMOUS", "complainantName": null,
                "complainantContact": null, "route": "HUB", "whatHappened": "My script was cut without a review.",
                "outcomeWanted": "A review meeting", "receivedOn": "2026-01-12",
            })
        );
    }

    #[test]
    fn a_named_complaint_needs_a_name_and_keeps_the_contact_details() {
        let mut form = RaiseForm { complainant_kind: "NAMED".into(), ..filled() };
        assert_eq!(fields(&form.check(today(), false)), ["complainant_name"]);
        form.complainant_name = "Jo".into();
        form.complainant_contact = "07700 900000".into();
        assert!(form.check(today(), false).is_empty());
        assert_eq!(form.input()["complainantName"], "Jo");
        assert_eq!(form.input()["complainantContact"], "07700 900000");
    }

    #[test]
    fn an_anonymous_complaint_refuses_a_name_rather_than_silently_dropping_it() {
        let form =
            RaiseForm { complainant_name: "Jo".into(), complainant_contact: "jo@example.org".into(), ..filled() };
        assert_eq!(fields(&form.check(today(), false)), ["complainant_name", "complainant_contact"]);
    }

    #[test]
    fn only_an_advocate_can_pass_a_complaint_on_as_its_advocate() {
        let form = RaiseForm { complainant_kind: "RELAYED_BY_ADVOCATE".into(), route: "ADVOCATE".into(), ..filled() };
        assert_eq!(fields(&form.check(today(), false)), ["complainant_kind"]);
        assert!(form.check(today(), true).is_empty());
        assert!(form.input().get("advocateId").is_none(), "the API takes the advocate to be the one recording it");
    }

    #[test]
    fn a_received_date_must_be_a_real_day_not_in_the_future_and_may_be_left_empty() {
        let future = RaiseForm { received_on: "2026-02-03".into(), ..filled() };
        assert_eq!(fields(&future.check(today(), false)), ["received_on"]);
        let wrong = RaiseForm { received_on: "31/01/2026".into(), ..filled() };
        assert_eq!(fields(&wrong.check(today(), false)), ["received_on"]);
        let empty = RaiseForm { received_on: String::new(), ..filled() };
        assert!(empty.check(today(), false).is_empty());
        assert_eq!(empty.input()["receivedOn"], Value::Null);
    }

    #[test]
    fn the_answers_survive_the_trip_through_check_your_answers() {
        let form = RaiseForm { complainant_kind: "NAMED".into(), complainant_name: "Jo".into(), ..filled() };
        let pairs: Vec<(String, String)> = form.pairs().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        assert_eq!(RaiseForm::from_pairs(&pairs), form);
    }

    #[test]
    fn api_errors_sit_beside_the_fields_they_name_or_at_the_top() {
        let errors = api_errors(
            &[
                (Some("complainantName".into()), None, "complainantName: this cannot be empty".into()),
                (Some("articles[0]".into()), None, "articles[0]: the charter has no such article".into()),
                (None, Some("CONFLICT".into()), "someone else changed this at the same time".into()),
                (Some("charter".into()), None, "charter: there is no such charter".into()),
            ],
            &RAISE_FIELDS,
        );
        assert_eq!(fields(&errors), ["complainant_name", "articles", "", ""]);
        assert_eq!(errors.of("complainant_name"), Some("This cannot be empty"));
    }

    #[test]
    fn a_step_page_checks_its_answers_before_asking_the_api() {
        let empty = StepForm::default();
        assert_eq!(fields(&step_request(Step::Extend, "c1", &empty).unwrap_err()), ["working_days", "reason"]);
        assert_eq!(fields(&step_request(Step::Period, "c1", &empty).unwrap_err()), ["working_days"]);
        assert_eq!(fields(&step_request(Step::Escalate, "c1", &empty).unwrap_err()), ["to", "reference"]);
        assert_eq!(fields(&step_request(Step::Outcome, "c1", &empty).unwrap_err()), ["outcome"]);
        assert_eq!(fields(&step_request(Step::Learning, "c1", &empty).unwrap_err()), ["statement"]);
        assert_eq!(fields(&step_request(Step::Delay, "c1", &empty).unwrap_err()), ["reason"]);
        assert!(step_request(Step::Acknowledge, "c1", &empty).is_ok());
    }

    #[test]
    fn each_step_becomes_its_mutation_with_trimmed_answers() {
        let form = StepForm { working_days: " 10 ".into(), reason: " On leave ".into(), ..StepForm::default() };
        let extend = step_request(Step::Extend, "c1", &form).unwrap();
        assert!(extend.query.contains("extendComplaint"));
        assert_eq!(extend.variables, json!({ "id": "c1", "d": 10, "r": "On leave" }));
        let period = step_request(Step::Period, "c1", &form).unwrap();
        assert!(period.query.contains("agreeComplaintPeriod"));
        let escalate = StepForm { to: "OMBUDSMAN".into(), reference: " PHSO-1 ".into(), ..StepForm::default() };
        let escalate = step_request(Step::Escalate, "c1", &escalate).unwrap();
        assert_eq!(escalate.variables, json!({ "id": "c1", "t": "OMBUDSMAN", "r": "PHSO-1" }));
        let days = StepForm { working_days: "ten".into(), reason: "x".into(), ..StepForm::default() };
        assert_eq!(fields(&step_request(Step::Extend, "c1", &days).unwrap_err()), ["working_days"]);
    }

    #[test]
    fn the_steps_offered_follow_the_complaints_stage() {
        assert_eq!(steps_for("RECEIVED", false), [Step::Acknowledge, Step::Period, Step::Outcome, Step::Delay]);
        assert_eq!(
            steps_for("INVESTIGATION", false),
            [Step::Respond, Step::Period, Step::Extend, Step::Pause, Step::Outcome, Step::Delay]
        );
        assert_eq!(
            steps_for("INVESTIGATION", true),
            [Step::Resume, Step::Period, Step::Extend, Step::Outcome, Step::Delay]
        );
        assert_eq!(steps_for("RESPONSE_ISSUED", false), [Step::Outcome, Step::Escalate, Step::Delay]);
        assert_eq!(steps_for("CLOSED", false), [Step::Escalate, Step::Learning]);
        for step in STEPS {
            assert_eq!(Step::from_slug(step.slug()), Some(step));
        }
    }

    #[test]
    fn only_a_complaint_with_a_response_can_be_upheld_and_only_early_resolution_resolves_early() {
        let values = |options: Vec<(String, String)>| options.into_iter().map(|(v, _)| v).collect::<Vec<_>>();
        assert_eq!(values(outcome_options("INVESTIGATION", false)), ["WITHDRAWN"]);
        assert_eq!(values(outcome_options("EARLY_RESOLUTION", true)), ["RESOLVED_EARLY", "WITHDRAWN"]);
        assert_eq!(
            values(outcome_options("RESPONSE_ISSUED", false)),
            ["UPHELD", "PARTLY_UPHELD", "NOT_UPHELD", "WITHDRAWN"]
        );
    }

    #[test]
    fn the_most_urgent_complaint_comes_first_and_paused_ones_last() {
        let mut complaints = vec![
            json!({ "id": "paused", "receivedOn": "2026-01-01", "clock": { "workingDaysLeft": null } }),
            json!({ "id": "later", "receivedOn": "2026-01-05", "clock": { "workingDaysLeft": 7 } }),
            json!({ "id": "overdue", "receivedOn": "2026-01-09", "clock": { "workingDaysLeft": -2 } }),
        ];
        by_urgency(&mut complaints);
        let ids: Vec<&str> = complaints.iter().map(|c| text(c, "id")).collect();
        assert_eq!(ids, ["overdue", "later", "paused"]);
    }
}
