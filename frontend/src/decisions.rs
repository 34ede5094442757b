//! A commissioner's decisions ("we did") and the evidence behind each ("you said"): the list,
//! proposing one through a check-your-answers page, and one decision's page with its status,
//! milestones, progress, outcome reviews and evidence links. The evidence picker is a plain GET
//! search over the feedback shared with commissioners, with a "Link this" form per result; a
//! small script (`/assets/picker.js`) adds search-as-you-type on top, and everything works
//! without it.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use heard_access::Action;
use heard_api::Viewer;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Backend;
use crate::backend::ask;
use crate::extract::{PostedForm, SignedIn};
use crate::forms::{self, Choices, Errors, Input, csrf_field, value_of};
use crate::kit::{field_id, highlighted, may, only_for, plain, text, today, urlencode};
use crate::layout::page;

/// Arnstein's ladder of participation: (rung, name, what it means in plain words).
pub(crate) const LADDER: [(u8, &str, &str); 8] = [
    (1, "Manipulation", "people were there to be persuaded, not heard"),
    (2, "Therapy", "people were treated as the problem to be fixed"),
    (3, "Informing", "people were told what had been decided"),
    (4, "Consultation", "people were asked for their views, with no promise they would count"),
    (5, "Placation", "a few people advised, but others decided"),
    (6, "Partnership", "people shared the planning and the decision"),
    (7, "Delegated power", "people who use services held most of the say"),
    (8, "Citizen control", "people who use services decided it themselves"),
];

/// How many search results the picker shows at once.
const PICKER_PAGE: i64 = 20;

pub(crate) fn status_words(status: &str) -> &'static str {
    match status {
        "PROPOSED" => "Proposed",
        "AGREED" => "Agreed",
        "IN_PROGRESS" => "In progress",
        "DONE" => "Done",
        "NOT_TAKEN" => "Not taken",
        "WITHDRAWN" => "Withdrawn",
        _ => "Not known",
    }
}

/// What choosing a status means, for the change-status form.
fn status_choice(status: &str) -> &'static str {
    match status {
        "AGREED" => "Agreed: the deciding body said yes",
        "IN_PROGRESS" => "In progress: the work has started",
        "DONE" => "Done: it has been carried out",
        "NOT_TAKEN" => "Not taken: the deciding body said no",
        "WITHDRAWN" => "Withdrawn: it will not go ahead",
        _ => "Proposed",
    }
}

/// The statuses a decision in `status` may move to (the same rule the API keeps).
pub(crate) fn next_statuses(status: &str) -> &'static [&'static str] {
    match status {
        "PROPOSED" => &["AGREED", "NOT_TAKEN", "WITHDRAWN"],
        "AGREED" => &["IN_PROGRESS", "DONE", "WITHDRAWN"],
        "IN_PROGRESS" => &["DONE", "WITHDRAWN"],
        _ => &[],
    }
}

/// Not taken or withdrawn: nothing more can be added to it.
fn set_aside(status: &str) -> bool {
    matches!(status, "NOT_TAKEN" | "WITHDRAWN")
}

fn kind_words(kind: &str) -> &'static str {
    match kind {
        "FEEDBACK_ITEM" => "Feedback in someone's own words",
        "THEME" => "A theme people raised",
        "COMPLAINT_LEARNING" => "Learning from a complaint",
        "ADVOCACY_THEME" => "A theme from advocacy",
        _ => "Evidence",
    }
}

fn rung_words(rung: i64, name: Option<&str>) -> String {
    let name = name
        .map(str::to_owned)
        .or_else(|| LADDER.iter().find(|(n, _, _)| i64::from(*n) == rung).map(|(_, name, _)| name.to_lowercase()))
        .unwrap_or_default();
    let mut chars = name.chars();
    let name: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    format!("Rung {rung} of 8: {name}")
}

/// The first `count` words of `text`, with an ellipsis when there were more.
pub(crate) fn first_words(text: &str, count: usize) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() <= count { words.join(" ") } else { format!("{}…", words[..count].join(" ")) }
}

// ---------------------------------------------------------------------------------------------
// The list

/// `GET /decisions`: every decision, newest first.
pub async fn list<B: Backend>(State(backend): State<B>, SignedIn { viewer, csrf }: SignedIn) -> Response {
    let answer = ask(
        &backend,
        &viewer,
        "{ decisions(first: 100) { edges { node { id title serviceArea status decisionDate ladderRung ladderName evidence { id } } } } }",
        json!({}),
    )
    .await;
    if let Some((_, _, message)) = answer.errors.first() {
        let body = html! { h1 { "Decisions" } p { (plain(message)) } };
        return (StatusCode::FORBIDDEN, page(&viewer, "Decisions", Some(&csrf), body)).into_response();
    }
    let decisions: Vec<Value> = answer.data["decisions"]["edges"]
        .as_array()
        .map(|edges| edges.iter().map(|edge| edge["node"].clone()).collect())
        .unwrap_or_default();
    let body = html! {
        h1 { "Decisions" }
        p class="lead" { "What was decided, and what people said that shaped it. The newest come first." }
        @if may(&viewer, Action::RecordDecision) {
            p { a class="button" href="/decisions/new" { "Propose a decision" } }
        }
        @if decisions.is_empty() { p { "No decisions are recorded yet." } }
        ul class="decision-list" {
            @for decision in &decisions {
                @let id = text(decision, "id");
                @let evidence = decision["evidence"].as_array().map_or(0, Vec::len);
                li class="card" {
                    h2 class="item-title" { a href={ "/decisions/" (id) } { (text(decision, "title")) } }
                    dl class="facts" {
                        div { dt { "Where it stands" } dd { span class={ "status status--" (text(decision, "status").to_lowercase()) } { (status_words(text(decision, "status"))) } } }
                        div { dt { "Decision date" } dd { (text(decision, "decisionDate")) } }
                        div { dt { "How people were involved" } dd { (rung_words(decision["ladderRung"].as_i64().unwrap_or(0), decision["ladderName"].as_str())) } }
                        div { dt { "Evidence linked" } dd { (evidence) @if evidence == 1 { " piece" } @else { " pieces" } } }
                    }
                }
            }
        }
    };
    page(&viewer, "Decisions", Some(&csrf), body).into_response()
}

// ---------------------------------------------------------------------------------------------
// Proposing: the form, then check your answers

/// What the propose form holds, carried through the check-your-answers page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Draft {
    pub title: String,
    pub service_area: String,
    pub decided_by: String,
    pub decision_date: String,
    pub ladder_rung: String,
    pub involvement: String,
}

impl Draft {
    /// The fields in the order the form asks them: (id, question on the check page).
    const QUESTIONS: [(&'static str, &'static str); 6] = [
        ("title", "What was decided"),
        ("service_area", "Service area"),
        ("decided_by", "Who decides"),
        ("decision_date", "Decision date"),
        ("ladder_rung", "How far people were involved"),
        ("involvement", "How people were involved"),
    ];

    fn get(&self, id: &str) -> &str {
        match id {
            "title" => &self.title,
            "service_area" => &self.service_area,
            "decided_by" => &self.decided_by,
            "decision_date" => &self.decision_date,
            "ladder_rung" => &self.ladder_rung,
            "involvement" => &self.involvement,
            _ => "",
        }
    }

    fn set(&mut self, id: &str, value: &str) {
        let slot = match id {
            "title" => &mut self.title,
            "service_area" => &mut self.service_area,
            "decided_by" => &mut self.decided_by,
            "decision_date" => &mut self.decision_date,
            "ladder_rung" => &mut self.ladder_rung,
            "involvement" => &mut self.involvement,
            _ => return,
        };
        value.clone_into(slot);
    }

    /// Reads a draft from form or query pairs; other keys are left out.
    pub(crate) fn from_pairs(pairs: &[(String, String)]) -> Draft {
        let mut draft = Draft::default();
        for (key, value) in pairs {
            draft.set(key, value);
        }
        draft
    }

    /// The draft as a query string, so that a "Change" link brings the form back filled in.
    pub(crate) fn to_query(&self) -> String {
        Draft::QUESTIONS.iter().map(|(id, _)| format!("{id}={}", urlencode(self.get(id)))).collect::<Vec<_>>().join("&")
    }

    /// What is missing or not in the right shape, before anything is sent.
    pub(crate) fn problems(&self) -> Errors {
        let mut errors = Errors::default();
        if self.title.trim().is_empty() {
            errors.add("title", "Write what was decided, or what is proposed");
        }
        if self.service_area.trim().is_empty() {
            errors.add("service_area", "Write which service area it is about");
        }
        if self.decided_by.trim().is_empty() {
            errors.add("decided_by", "Write who decides, for example the DAAT board");
        }
        if self.decision_date.trim().is_empty() {
            errors.add("decision_date", "Give the date it was, or will be, decided");
        } else if self.decision_date.trim().parse::<jiff::civil::Date>().is_err() {
            errors.add("decision_date", "Give the date as year-month-day, for example 2026-11-23");
        }
        if self.rung().is_none() {
            errors.add("ladder_rung", "Choose how far people who use services were involved");
        }
        if self.involvement.trim().is_empty() {
            errors.add("involvement", "Say how people who use services were involved");
        }
        errors
    }

    fn rung(&self) -> Option<u8> {
        self.ladder_rung.trim().parse::<u8>().ok().filter(|rung| (1..=8).contains(rung))
    }

    /// How an answer reads on the check page.
    fn answer(&self, id: &str) -> String {
        match id {
            "ladder_rung" => match self.rung() {
                Some(rung) => {
                    let (_, name, meaning) = LADDER[usize::from(rung) - 1];
                    format!("Rung {rung} of 8, {name}: {meaning}")
                }
                None => String::new(),
            },
            other => self.get(other).trim().to_owned(),
        }
    }

    fn input(&self) -> Value {
        json!({
            "title": self.title.trim(), "serviceArea": self.service_area.trim(), "decidedBy": self.decided_by.trim(),
            "decisionDate": self.decision_date.trim(), "ladderRung": self.rung().unwrap_or(0),
            "involvement": self.involvement.trim(),
        })
    }
}

fn ladder_options() -> Vec<(String, String)> {
    LADDER.iter().map(|(rung, name, meaning)| (rung.to_string(), format!("{rung}. {name}: {meaning}"))).collect()
}

fn propose_page(viewer: &Viewer, csrf: &str, draft: &Draft, errors: &Errors) -> Markup {
    page(
        viewer,
        if errors.is_empty() { "Propose a decision" } else { "Error: Propose a decision" },
        Some(csrf),
        html! {
            (forms::summary(errors))
            p { a href="/decisions" { "Back to decisions" } }
            h1 { "Propose a decision" }
            p class="lead" { "Record a decision, taken or planned. You can link what people said to it next." }
            form method="post" action="/decisions/new" novalidate {
                (csrf_field(csrf))
                input type="hidden" name="step" value="check";
                (forms::input(Input { id: "title", label: "What was decided, or is proposed?", kind: "text", value: &draft.title, hint: Some("For example: evening opening at the Crawley hub"), autocomplete: Some("off") }, errors))
                (forms::input(Input { id: "service_area", label: "Service area", kind: "text", value: &draft.service_area, hint: Some("For example: adult drug and alcohol treatment"), autocomplete: Some("off") }, errors))
                (forms::input(Input { id: "decided_by", label: "Who decides?", kind: "text", value: &draft.decided_by, hint: Some("For example: West Sussex DAAT board"), autocomplete: Some("off") }, errors))
                (forms::input(Input { id: "decision_date", label: "Decision date", kind: "date", value: &draft.decision_date, hint: Some("The day it was, or will be, decided. For example, 2026-11-23"), autocomplete: None }, errors))
                (forms::choices(Choices { id: "ladder_rung", legend: "How far were people who use services involved?", multiple: false, options: ladder_options(), chosen: vec![draft.ladder_rung.clone()], hint: Some("The rungs of Arnstein's ladder of participation, from the lowest to the highest. It is shown beside the decision, so choose the rung that describes what really happened.") }, errors))
                (forms::textarea("involvement", "How were people involved?", &draft.involvement, Some("For example: hub members raised it at forums, and two peer representatives sat on the working group."), errors))
                button class="button" type="submit" { "Continue" }
            }
        },
    )
}

fn check_page(viewer: &Viewer, csrf: &str, draft: &Draft) -> Markup {
    let query = draft.to_query();
    page(
        viewer,
        "Check your answers",
        Some(csrf),
        html! {
            p { a href={ "/decisions/new?" (query) } { "Back to the form" } }
            h1 { "Check your answers before proposing the decision" }
            dl class="summary-list check-answers" {
                @for (id, question) in Draft::QUESTIONS {
                    div {
                        dt { (question) }
                        dd { (draft.answer(id)) }
                        dd class="change" {
                            a href={ "/decisions/new?" (query) "#" (id) } { "Change" span class="visually-hidden" { " " (question.to_lowercase()) } }
                        }
                    }
                }
            }
            h2 { "Now propose the decision" }
            p { "It is recorded as proposed. You can then link feedback to it and move it on as it is agreed and carried out." }
            form method="post" action="/decisions/new" novalidate {
                (csrf_field(csrf))
                input type="hidden" name="step" value="propose";
                @for (id, _) in Draft::QUESTIONS {
                    input type="hidden" name=(id) value=(draft.get(id));
                }
                button class="button" type="submit" { "Propose the decision" }
            }
        },
    )
}

/// `GET /decisions/new`, filled in from the query when coming back from "Change".
pub async fn new_form(SignedIn { viewer, csrf }: SignedIn, Query(pairs): Query<Vec<(String, String)>>) -> Response {
    if let Some(refused) = only_for(&viewer, &csrf, Action::RecordDecision, "commissioners") {
        return refused;
    }
    let mut draft = Draft::from_pairs(&pairs);
    if pairs.is_empty() {
        draft.decision_date = today();
    }
    propose_page(&viewer, &csrf, &draft, &Errors::default()).into_response()
}

/// `POST /decisions/new`: `step=check` checks the answers and shows them back;
/// `step=propose` runs `proposeDecision` and opens the new decision.
pub async fn propose<B: Backend>(
    State(backend): State<B>,
    PostedForm { viewer, csrf, form: pairs }: PostedForm<Vec<(String, String)>>,
) -> Response {
    if let Some(refused) = only_for(&viewer, &csrf, Action::RecordDecision, "commissioners") {
        return refused;
    }
    let draft = Draft::from_pairs(&pairs);
    let mut errors = draft.problems();
    if errors.is_empty() && value_of(&pairs, "step") != "propose" {
        return check_page(&viewer, &csrf, &draft).into_response();
    }
    if errors.is_empty() {
        let answer = ask(
            &backend,
            &viewer,
            "mutation($i: ProposeDecisionInput!) { proposeDecision(input: $i) { id } }",
            json!({ "i": draft.input() }),
        )
        .await;
        if answer.errors.is_empty() {
            let id = text(&answer.data["proposeDecision"], "id");
            let done = "The decision is proposed. Now link what people said to it";
            return Redirect::to(&format!("/decisions/{id}?done={}", urlencode(done))).into_response();
        }
        for (field, _, message) in answer.errors {
            let field = field.as_deref().map(field_id).filter(|f| Draft::QUESTIONS.iter().any(|(id, _)| id == f));
            errors.add(&field.unwrap_or_default(), plain(&message));
        }
    }
    let mut response =
        (StatusCode::UNPROCESSABLE_ENTITY, propose_page(&viewer, &csrf, &draft, &errors)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

// ---------------------------------------------------------------------------------------------
// One decision

#[derive(Debug, Default, Deserialize)]
pub struct DecisionQuery {
    #[serde(default)]
    q: String,
    done: Option<String>,
}

/// What a decision page shows besides the decision: the search, a notice, and after a failed
/// form the errors and what was typed.
#[derive(Debug, Default)]
struct View {
    q: String,
    done: Option<String>,
    errors: Errors,
    values: Vec<(String, String)>,
    /// Whether the viewer may change the decision (commissioners); everyone else reads it.
    editable: bool,
}

impl View {
    fn value(&self, key: &str) -> String {
        value_of(&self.values, key)
    }
}

const DECISION_QUERY: &str = "query($id: ID!, $q: String!, $search: Boolean!, $first: Int!) {
  decision(id: $id) {
    id title serviceArea decidedBy decisionDate status statusHistory { status on }
    ladderRung ladderName involvement
    milestones { id title due metOn } progress { percent note on } outcomeReviews { on summary }
    evidence(includeWithdrawn: true) { id kind rationale linkedOn withdrawnOn withdrawnBecause target content }
  }
  themes { id name parent }
  searchFeedback(query: $q, first: $first) @include(if: $search) {
    total
    edges { node { fragment highlights { start end } item { id hubName saidOn about decisionIds themes { name } } } }
  }
}";

async fn decision_page<B: Backend>(backend: &B, viewer: &Viewer, csrf: &str, id: &str, view: &View) -> Response {
    let q = view.q.trim();
    let answer = ask(
        backend,
        viewer,
        DECISION_QUERY,
        json!({ "id": id, "q": q, "search": !q.is_empty(), "first": PICKER_PAGE }),
    )
    .await;
    let decision = &answer.data["decision"];
    if decision.is_null() {
        let message = answer.errors.first().map_or_else(|| "There is no such decision.".to_owned(), |e| plain(&e.2));
        let body =
            html! { h1 { "Decision not found" } p { (message) } p { a href="/decisions" { "Back to decisions" } } };
        return (StatusCode::NOT_FOUND, page(viewer, "Decision not found", Some(csrf), body)).into_response();
    }
    let mut errors = view.errors.clone();
    let search_failed = answer.errors.iter().any(|(field, _, _)| field.as_deref().is_some_and(|f| f == "query"));
    if search_failed && let Some((_, _, message)) = answer.errors.first() {
        errors.add("q", plain(message));
    }
    let status = text(decision, "status");
    let title = text(decision, "title");
    let page_title = if errors.is_empty() { title.to_owned() } else { format!("Error: {title}") };
    let body = html! {
        (forms::summary(&errors))
        @if let Some(done) = &view.done { div class="notice" role="status" { p { (done) "." } } }
        p { a href="/decisions" { "Back to decisions" } }
        h1 { (title) }
        dl class="summary-list" {
            div { dt { "Where it stands" } dd { span class={ "status status--" (status.to_lowercase()) } { (status_words(status)) } } }
            div { dt { "Service area" } dd { (text(decision, "serviceArea")) } }
            div { dt { "Who decides" } dd { (text(decision, "decidedBy")) } }
            div { dt { "Decision date" } dd { (text(decision, "decisionDate")) } }
            div { dt { "How far people were involved" } dd { (rung_words(decision["ladderRung"].as_i64().unwrap_or(0), decision["ladderName"].as_str())) } }
            div { dt { "How people were involved" } dd { (text(decision, "involvement")) } }
        }
        (status_section(csrf, id, decision, view, &errors))
        (we_did_section(csrf, id, decision, view, &errors))
        (evidence_section(csrf, id, decision, view, &errors))
        @if view.editable && !set_aside(status) {
            (picker_section(csrf, id, decision, &answer.data, view, &errors))
        }
        @if view.editable { script src="/assets/picker.js" defer {} }
    };
    let code = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    (code, page(viewer, &page_title, Some(csrf), body)).into_response()
}

fn status_section(csrf: &str, id: &str, decision: &Value, view: &View, errors: &Errors) -> Markup {
    let status = text(decision, "status");
    let history = decision["statusHistory"].as_array().cloned().unwrap_or_default();
    let next = next_statuses(status);
    let on = Some(view.value("status_on")).filter(|on| !on.is_empty()).unwrap_or_else(today);
    html! {
        section aria-labelledby="status-title" id="status-section" {
            h2 id="status-title" { "How it has moved on" }
            ol class="timeline" {
                @if history.first().is_none_or(|first| text(first, "status") != "PROPOSED") {
                    li { strong { "Proposed" } }
                }
                @for change in &history {
                    li { strong { (status_words(text(change, "status"))) } " on " (text(change, "on")) }
                }
            }
            @if next.is_empty() {
                p { "This decision is " (status_words(status).to_lowercase()) ". Its status cannot change any more." }
            } @else if view.editable {
                form method="post" action={ "/decisions/" (id) "/status" } novalidate {
                    (csrf_field(csrf))
                    (forms::choices(Choices {
                        id: "status", legend: "Move it on", multiple: false,
                        options: next.iter().map(|s| ((*s).to_owned(), status_choice(s).to_owned())).collect(),
                        chosen: vec![view.value("status")], hint: None,
                    }, errors))
                    (forms::input(Input { id: "status_on", label: "When", kind: "date", value: &on, hint: Some("For example, 2026-11-23"), autocomplete: None }, errors))
                    button class="button" type="submit" { "Change the status" }
                }
            }
        }
    }
}

fn we_did_section(csrf: &str, id: &str, decision: &Value, view: &View, errors: &Errors) -> Markup {
    let status = text(decision, "status");
    let milestones = decision["milestones"].as_array().cloned().unwrap_or_default();
    let reviews = decision["outcomeReviews"].as_array().cloned().unwrap_or_default();
    let progress = &decision["progress"];
    html! {
        section aria-labelledby="we-did-title" id="we-did" {
            h2 id="we-did-title" { "What we did" }
            h3 { "Milestones" }
            @if milestones.is_empty() { p { "No milestones yet." } }
            ul class="milestones" {
                @for milestone in &milestones {
                    @let mid = text(milestone, "id");
                    @let anchor = format!("milestone-{mid}");
                    li id=(anchor) tabindex="-1" {
                        strong { (text(milestone, "title")) }
                        " – due " (text(milestone, "due"))
                        @if let Some(met) = milestone["metOn"].as_str() {
                            " – " span class="tag tag--met" { "Met on " (met) }
                        } @else if view.editable && !set_aside(status) {
                            @if let Some(error) = errors.of(&anchor) {
                                p class="field-error" { span class="visually-hidden" { "Error: " } (error) }
                            }
                            form class="inline-action" method="post" action={ "/decisions/" (id) "/milestone-met" } {
                                (csrf_field(csrf))
                                input type="hidden" name="milestone_id" value=(mid);
                                button class="button button--secondary" type="submit" {
                                    "Mark as met" span class="visually-hidden" { ": " (text(milestone, "title")) }
                                }
                            }
                        }
                    }
                }
            }
            @if view.editable && !set_aside(status) {
                details class="add" open[errors.of("milestone_title").is_some() || errors.of("milestone_due").is_some()] {
                    summary { "Add a milestone" }
                    form method="post" action={ "/decisions/" (id) "/milestone" } novalidate {
                        (csrf_field(csrf))
                        (forms::input(Input { id: "milestone_title", label: "What will be done?", kind: "text", value: &view.value("milestone_title"), hint: None, autocomplete: Some("off") }, errors))
                        (forms::input(Input { id: "milestone_due", label: "When is it due?", kind: "date", value: &view.value("milestone_due"), hint: Some("For example, 2026-11-23"), autocomplete: None }, errors))
                        button class="button" type="submit" { "Add the milestone" }
                    }
                }
            }
            h3 { "Progress" }
            @if progress.is_null() {
                p { "No progress recorded yet." }
            } @else {
                p {
                    strong { (progress["percent"]) "% done" } " on " (text(progress, "on"))
                    @if !text(progress, "note").is_empty() { ": " (text(progress, "note")) }
                }
            }
            @if view.editable && matches!(status, "AGREED" | "IN_PROGRESS") {
                details class="add" open[errors.of("percent").is_some() || errors.of("progress_note").is_some()] {
                    summary { "Record progress" }
                    form method="post" action={ "/decisions/" (id) "/progress" } novalidate {
                        (csrf_field(csrf))
                        (forms::input(Input { id: "percent", label: "How far along is it, in per cent?", kind: "number", value: &view.value("percent"), hint: Some("A number from 0 to 100"), autocomplete: None }, errors))
                        (forms::textarea("progress_note", "A note (optional)", &view.value("progress_note"), None, errors))
                        button class="button" type="submit" { "Record progress" }
                    }
                }
            } @else if view.editable && !matches!(status, "DONE") && !set_aside(status) {
                p class="hint" { "You can record progress once the decision is agreed." }
            }
            h3 { "What came of it" }
            @if reviews.is_empty() { p { "No review of the outcome yet." } }
            @for review in &reviews {
                div class="review" {
                    p class="meta" { "Reviewed on " (text(review, "on")) }
                    blockquote { p { (text(review, "summary")) } }
                }
            }
            @if view.editable && status == "DONE" {
                details class="add" open[errors.of("review_summary").is_some()] {
                    summary { "Review the outcome" }
                    form method="post" action={ "/decisions/" (id) "/review" } novalidate {
                        (csrf_field(csrf))
                        (forms::textarea("review_summary", "What came of the decision?", &view.value("review_summary"), Some("In plain words, for the hubs and the public."), errors))
                        button class="button" type="submit" { "Save the review" }
                    }
                }
            } @else if view.editable && !set_aside(status) {
                p class="hint" { "You can review the outcome once the decision is done." }
            }
        }
    }
}

fn evidence_section(csrf: &str, id: &str, decision: &Value, view: &View, errors: &Errors) -> Markup {
    let links = decision["evidence"].as_array().cloned().unwrap_or_default();
    let (live, withdrawn): (Vec<&Value>, Vec<&Value>) = links.iter().partition(|link| link["withdrawnOn"].is_null());
    html! {
        section aria-labelledby="evidence-title" id="evidence" {
            h2 id="evidence-title" { "You said: the evidence" }
            @if live.is_empty() {
                p { "Nothing is linked yet." @if view.editable { " Find feedback to link below." } }
            }
            ul class="evidence-list" {
                @for link in &live {
                    @let lid = text(link, "id");
                    @let reason_id = format!("reason-{lid}");
                    li class="card evidence" {
                        p class="meta" { (kind_words(text(link, "kind"))) " · linked on " (text(link, "linkedOn")) }
                        @match link["content"].as_str() {
                            Some(content) => { blockquote { p { (content) } } }
                            None => { p class="hint" { "The words are no longer shown: the person who said it changed their consent." } }
                        }
                        p { strong { "Why it mattered: " } (text(link, "rationale")) }
                        @if view.editable {
                        details open[errors.of(&reason_id).is_some()] {
                            summary {
                                "Unlink this"
                                span class="visually-hidden" { ": " (first_words(link["content"].as_str().unwrap_or(text(link, "rationale")), 8)) }
                            }
                            form method="post" action={ "/decisions/" (id) "/unlink" } novalidate {
                                (csrf_field(csrf))
                                input type="hidden" name="link_id" value=(lid);
                                (forms::textarea(&reason_id, "Why are you unlinking it?", &view.value(&reason_id), Some("The link stays in the decision's history, marked as withdrawn, with your reason."), errors))
                                button class="button button--secondary" type="submit" { "Unlink" }
                            }
                        }
                        }
                    }
                }
            }
            @if !withdrawn.is_empty() {
                h3 { "Withdrawn links" }
                ul class="evidence-list" {
                    @for link in &withdrawn {
                        li class="card evidence evidence--withdrawn" {
                            p class="meta" {
                                span class="tag tag--withdrawn" { "Withdrawn" } " "
                                (kind_words(text(link, "kind"))) " · linked on " (text(link, "linkedOn")) ", withdrawn on " (text(link, "withdrawnOn"))
                            }
                            @if let Some(content) = link["content"].as_str() { blockquote { p { (content) } } }
                            p { strong { "Why it mattered: " } (text(link, "rationale")) }
                            p { strong { "Why it was withdrawn: " } (text(link, "withdrawnBecause")) }
                        }
                    }
                }
            }
        }
    }
}

fn picker_section(csrf: &str, id: &str, decision: &Value, data: &Value, view: &View, errors: &Errors) -> Markup {
    let q = view.q.trim();
    let linked_items: Vec<&str> = decision["evidence"]
        .as_array()
        .map(|links| {
            links
                .iter()
                .filter(|l| l["withdrawnOn"].is_null() && l["kind"] == "FEEDBACK_ITEM")
                .filter_map(|l| l["target"].as_str())
                .collect()
        })
        .unwrap_or_default();
    let search = &data["searchFeedback"];
    let hits = search["edges"].as_array().cloned().unwrap_or_default();
    let total = search["total"].as_i64().unwrap_or(0);
    let themes: Vec<(String, String)> = std::iter::once((String::new(), "Choose a theme".to_owned()))
        .chain(
            data["themes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|t| (text(t, "id").to_owned(), text(t, "name").to_owned())),
        )
        .collect();
    html! {
        section aria-labelledby="picker-title" id="picker" {
            h2 id="picker-title" { "Link what people said" }
            p { "Search the feedback hubs have shared with commissioners. Only what people agreed commissioners may see is here." }
            form method="get" action={ "/decisions/" (id) "#picker" } role="search" data-picker {
                (forms::input(Input { id: "q", label: "Words to look for", kind: "search", value: &view.q, hint: Some("For example: pharmacy, evening, housing. Results update as you type."), autocomplete: Some("off") }, errors))
                button class="button" type="submit" { "Search" }
            }
            p id="picker-status" class="picker-status" role="status" aria-live="polite" { (picker_status(q, total, hits.len())) }
            div id="picker-results" {
                @if !hits.is_empty() {
                    ol class="results picker-results" {
                        @for hit in &hits {
                            @let node = &hit["node"];
                            @let item = &node["item"];
                            @let item_id = text(item, "id");
                            @let rationale_id = format!("rationale-{item_id}");
                            @let already = linked_items.contains(&item_id)
                                || item["decisionIds"].as_array().is_some_and(|ids| ids.iter().any(|d| d.as_str() == Some(id)));
                            li class="picker-result" {
                                p class="fragment" { (highlighted(text(node, "fragment"), node["highlights"].as_array().map(Vec::as_slice).unwrap_or(&[]))) }
                                p class="meta" {
                                    (text(item, "hubName")) " · " (text(item, "saidOn"))
                                    @if let Some(about) = item["about"].as_str() { " · about " (about) }
                                    @for theme in item["themes"].as_array().into_iter().flatten() { " · " (text(theme, "name")) }
                                }
                                @if already {
                                    p { span class="tag tag--met" { "Already linked to this decision" } }
                                } @else {
                                    details open[errors.of(&rationale_id).is_some()] {
                                        summary { "Link this to the decision" span class="visually-hidden" { ": " (first_words(text(node, "fragment"), 8)) } }
                                        form method="post" action={ "/decisions/" (id) "/link" } novalidate {
                                            (csrf_field(csrf))
                                            input type="hidden" name="kind" value="FEEDBACK_ITEM";
                                            input type="hidden" name="item_id" value=(item_id);
                                            input type="hidden" name="q" value=(q);
                                            (forms::textarea(&rationale_id, "Why does this matter to the decision?", &view.value(&rationale_id), Some("This is the \"you said\" people will read beside the decision."), errors))
                                            button class="button" type="submit" { "Link this" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h3 { "Or link a theme" }
            p { "A theme stands for everything people said about it." }
            form method="post" action={ "/decisions/" (id) "/link" } novalidate {
                (csrf_field(csrf))
                input type="hidden" name="kind" value="THEME";
                input type="hidden" name="q" value=(q);
                (forms::select("theme", "Theme", &themes, &view.value("theme"), errors))
                (forms::textarea("theme_rationale", "Why does this theme matter to the decision?", &view.value("theme_rationale"), None, errors))
                button class="button" type="submit" { "Link this theme" }
            }
        }
    }
}

/// What the picker's live status says.
pub(crate) fn picker_status(q: &str, total: i64, shown: usize) -> String {
    if q.is_empty() {
        return "Type a word to find shared feedback.".to_owned();
    }
    match total {
        0 => format!("No shared feedback matches “{q}”."),
        1 => format!("1 shared item matches “{q}”."),
        n if n as usize > shown => format!("{n} shared items match “{q}”. The best {shown} are shown."),
        n => format!("{n} shared items match “{q}”."),
    }
}

/// `GET /decisions/{id}?q=`.
pub async fn show<B: Backend>(
    State(backend): State<B>,
    Path(id): Path<String>,
    SignedIn { viewer, csrf }: SignedIn,
    Query(query): Query<DecisionQuery>,
) -> Response {
    let editable = may(&viewer, Action::RecordDecision);
    let view = View { q: query.q, done: query.done, editable, ..View::default() };
    decision_page(&backend, &viewer, &csrf, &id, &view).await
}

/// The page's field for an error the API gave on `step`, about `target` (an item, link or
/// milestone id) where the form is one of many.
pub(crate) fn page_field(step: &str, api_field: &str, target: &str) -> String {
    let api = field_id(api_field);
    match (step, api.as_str()) {
        ("status", "on") => "status_on".to_owned(),
        ("status", _) => "status".to_owned(),
        ("milestone", "due") => "milestone_due".to_owned(),
        ("milestone", _) => "milestone_title".to_owned(),
        ("milestone-met", _) => format!("milestone-{target}"),
        ("progress", "note") => "progress_note".to_owned(),
        ("progress", _) => "percent".to_owned(),
        ("review", _) => "review_summary".to_owned(),
        ("link-theme", "theme") => "theme".to_owned(),
        ("link-theme", _) => "theme_rationale".to_owned(),
        ("link", _) => format!("rationale-{target}"),
        ("unlink", _) => format!("reason-{target}"),
        _ => String::new(),
    }
}

/// A step's mutation, or the error to show without asking.
struct Step {
    query: &'static str,
    variables: Value,
    done: &'static str,
    /// Where to return to on the page.
    anchor: &'static str,
    /// The key for [`page_field`], and what the form is about.
    kind: &'static str,
    target: String,
}

fn step_for(id: &str, step: &str, pairs: &[(String, String)]) -> Result<Step, (String, String)> {
    let value = |key: &str| value_of(pairs, key);
    let filled = |key: &str| Some(value(key)).filter(|v| !v.trim().is_empty());
    let need = |key: &str, message: &str| -> Result<String, (String, String)> {
        filled(key).ok_or_else(|| (key.to_owned(), message.to_owned()))
    };
    Ok(match step {
        "status" => {
            let status = need("status", "Choose what the decision becomes")?;
            Step {
                query: "mutation($id: ID!, $s: DecisionStatus!, $on: String) { updateDecisionStatus(id: $id, status: $s, on: $on) { id } }",
                variables: json!({ "id": id, "s": status, "on": filled("status_on") }),
                done: "The status is changed",
                anchor: "status-section",
                kind: "status",
                target: String::new(),
            }
        }
        "milestone" => {
            let title = need("milestone_title", "Write what will be done")?;
            let due = need("milestone_due", "Give the date it is due")?;
            Step {
                query: "mutation($id: ID!, $t: String!, $d: String!) { addMilestone(id: $id, title: $t, due: $d) { id } }",
                variables: json!({ "id": id, "t": title, "d": due }),
                done: "The milestone is added",
                anchor: "we-did",
                kind: "milestone",
                target: String::new(),
            }
        }
        "milestone-met" => {
            let milestone = value("milestone_id");
            Step {
                query: "mutation($id: ID!, $m: ID!) { meetMilestone(id: $id, milestoneId: $m) { id } }",
                variables: json!({ "id": id, "m": milestone }),
                done: "The milestone is marked as met",
                anchor: "we-did",
                kind: "milestone-met",
                target: milestone,
            }
        }
        "progress" => {
            let Some(percent) = value("percent").trim().parse::<u8>().ok().filter(|p| *p <= 100) else {
                return Err(("percent".to_owned(), "Give how far along it is as a number from 0 to 100".to_owned()));
            };
            Step {
                query: "mutation($id: ID!, $p: Int!, $n: String!) { recordProgress(id: $id, percent: $p, note: $n) { id } }",
                variables: json!({ "id": id, "p": percent, "n": value("progress_note").trim() }),
                done: "Progress is recorded",
                anchor: "we-did",
                kind: "progress",
                target: String::new(),
            }
        }
        "review" => {
            let summary = need("review_summary", "Write what came of the decision")?;
            Step {
                query: "mutation($id: ID!, $s: String!) { reviewOutcome(id: $id, summary: $s) { id } }",
                variables: json!({ "id": id, "s": summary }),
                done: "The review is saved",
                anchor: "we-did",
                kind: "review",
                target: String::new(),
            }
        }
        "link" if value("kind") == "THEME" => {
            let theme = need("theme", "Choose a theme")?;
            let rationale = need("theme_rationale", "Say why this theme matters to the decision")?;
            Step {
                query: "mutation($id: ID!, $i: LinkEvidenceInput!) { linkEvidence(id: $id, input: $i) { id } }",
                variables: json!({ "id": id, "i": { "kind": "THEME", "theme": theme, "rationale": rationale } }),
                done: "The theme is linked",
                anchor: "evidence",
                kind: "link-theme",
                target: String::new(),
            }
        }
        "link" => {
            let item = value("item_id");
            let rationale_id = format!("rationale-{item}");
            let rationale = need(&rationale_id, "Say why this matters to the decision")?;
            Step {
                query: "mutation($id: ID!, $i: LinkEvidenceInput!) { linkEvidence(id: $id, input: $i) { id } }",
                variables: json!({ "id": id, "i": { "kind": "FEEDBACK_ITEM", "itemId": item, "rationale": rationale } }),
                done: "It is linked",
                anchor: "evidence",
                kind: "link",
                target: item,
            }
        }
        "unlink" => {
            let link = value("link_id");
            let reason_id = format!("reason-{link}");
            let reason = need(&reason_id, "Say why you are unlinking it")?;
            Step {
                query: "mutation($id: ID!, $l: ID!, $r: String!) { unlinkEvidence(id: $id, linkId: $l, reason: $r) { id } }",
                variables: json!({ "id": id, "l": link, "r": reason }),
                done: "It is unlinked. It stays in the history, marked as withdrawn",
                anchor: "evidence",
                kind: "unlink",
                target: link,
            }
        }
        _ => return Err((String::new(), "There is no such step".to_owned())),
    })
}

/// `POST /decisions/{id}/{step}`: status, milestone, milestone-met, progress, review, link,
/// unlink. Done, it goes back to the decision with a notice; refused, the page comes back
/// with the error beside the field and what was typed still there.
pub async fn act<B: Backend>(
    State(backend): State<B>,
    Path((id, step)): Path<(String, String)>,
    PostedForm { viewer, csrf, form: pairs }: PostedForm<Vec<(String, String)>>,
) -> Response {
    if let Some(refused) = only_for(&viewer, &csrf, Action::RecordDecision, "commissioners") {
        return refused;
    }
    if !["status", "milestone", "milestone-met", "progress", "review", "link", "unlink"].contains(&step.as_str()) {
        return (StatusCode::NOT_FOUND, "There is no such step.").into_response();
    }
    let q = value_of(&pairs, "q");
    let mut errors = Errors::default();
    match step_for(&id, &step, &pairs) {
        Err((field, message)) => errors.add(&field, message),
        Ok(found) => {
            let answer = ask(&backend, &viewer, found.query, found.variables).await;
            if answer.errors.is_empty() {
                let search = if q.trim().is_empty() { String::new() } else { format!("q={}&", urlencode(q.trim())) };
                let url = format!("/decisions/{id}?{search}done={}#{}", urlencode(found.done), found.anchor);
                return Redirect::to(&url).into_response();
            }
            for (field, _, message) in answer.errors {
                errors.add(&page_field(found.kind, field.as_deref().unwrap_or(""), &found.target), plain(&message));
            }
        }
    }
    let view = View { q, done: None, errors, values: pairs, editable: true };
    let mut response = decision_page(&backend, &viewer, &csrf, &id, &view).await;
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// This page's routes.
pub fn routes<B: Backend>() -> axum::Router<B> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/decisions", get(list::<B>))
        .route("/decisions/new", get(new_form).post(propose::<B>))
        .route("/decisions/{id}", get(show::<B>))
        .route("/decisions/{id}/{step}", post(act::<B>))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn full() -> Draft {
        Draft {
            title: "Evening opening & weekend clinics".into(),
            service_area: "Adult treatment".into(),
            decided_by: "DAAT board".into(),
            decision_date: "2026-11-23".into(),
            ladder_rung: "6".into(),
            involvement: "Two peer representatives sat on the group; #1 ask was \"evenings\".".into(),
        }
    }

    #[test]
    fn a_draft_survives_the_round_trip_through_a_change_link() {
        let draft = full();
        let query = draft.to_query();
        let back: Vec<(String, String)> = query
            .split('&')
            .map(|pair| {
                let (key, value) = pair.split_once('=').expect("key=value");
                (key.to_owned(), percent_decode(value))
            })
            .collect();
        assert_eq!(Draft::from_pairs(&back), draft);
        assert!(!query.contains(' ') && !query.contains('#') && !query.contains('"'), "{query}");
    }

    fn percent_decode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).expect("hex"));
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn a_draft_read_from_a_form_keeps_only_its_own_fields() {
        let draft =
            Draft::from_pairs(&pairs(&[("csrf_token", "x"), ("step", "check"), ("title", "A"), ("ladder_rung", "4")]));
        assert_eq!(draft, Draft { title: "A".into(), ladder_rung: "4".into(), ..Draft::default() });
    }

    #[test]
    fn an_empty_draft_names_every_question_in_the_order_the_form_asks_them() {
        let errors = Draft::default().problems();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "service_area", "decided_by", "decision_date", "ladder_rung", "involvement"]);
        assert!(full().problems().is_empty());
    }

    #[test]
    fn a_rung_off_the_ladder_or_a_date_in_another_shape_is_caught_before_the_check_page() {
        let draft = Draft { ladder_rung: "9".into(), decision_date: "23/11/2026".into(), ..full() };
        let fields: Vec<String> = draft.problems().0.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["decision_date", "ladder_rung"]);
    }

    #[test]
    fn the_check_page_reads_the_rung_with_its_name_and_meaning() {
        assert_eq!(
            full().answer("ladder_rung"),
            "Rung 6 of 8, Partnership: people shared the planning and the decision"
        );
        assert_eq!(full().input()["ladderRung"], 6);
    }

    #[test]
    fn only_the_statuses_the_api_allows_next_are_offered() {
        assert_eq!(next_statuses("PROPOSED"), ["AGREED", "NOT_TAKEN", "WITHDRAWN"]);
        assert_eq!(next_statuses("IN_PROGRESS"), ["DONE", "WITHDRAWN"]);
        assert!(next_statuses("DONE").is_empty() && next_statuses("WITHDRAWN").is_empty());
    }

    #[test]
    fn an_api_error_lands_beside_the_field_of_the_form_that_was_sent() {
        assert_eq!(page_field("link", "input.rationale", "abc"), "rationale-abc");
        assert_eq!(page_field("link", "input.itemId", "abc"), "rationale-abc");
        assert_eq!(page_field("link-theme", "input.theme", ""), "theme");
        assert_eq!(page_field("link-theme", "input.rationale", ""), "theme_rationale");
        assert_eq!(page_field("unlink", "reason", "l1"), "reason-l1");
        assert_eq!(page_field("status", "", ""), "status");
        assert_eq!(page_field("milestone", "due", ""), "milestone_due");
        assert_eq!(page_field("milestone-met", "", "m1"), "milestone-m1");
    }

    #[test]
    fn a_long_passage_is_cut_at_a_word_for_a_hidden_label() {
        assert_eq!(first_words("one two  three", 8), "one two three");
        assert_eq!(first_words("I was passed between two services for months", 4), "I was passed between…");
    }

    #[test]
    fn the_picker_status_says_how_many_match_in_words() {
        assert_eq!(picker_status("", 0, 0), "Type a word to find shared feedback.");
        assert_eq!(picker_status("gp", 0, 0), "No shared feedback matches “gp”.");
        assert_eq!(picker_status("gp", 1, 1), "1 shared item matches “gp”.");
        assert_eq!(picker_status("gp", 45, 20), "45 shared items match “gp”. The best 20 are shown.");
    }

    #[test]
    fn a_missing_rationale_is_refused_beside_its_own_result_before_asking_the_api() {
        let refused =
            step_for("d", "link", &pairs(&[("kind", "FEEDBACK_ITEM"), ("item_id", "i1"), ("rationale-i1", "  ")]));
        assert_eq!(refused.err(), Some(("rationale-i1".to_owned(), "Say why this matters to the decision".to_owned())));
        let theme =
            step_for("d", "link", &pairs(&[("kind", "THEME"), ("theme", "housing"), ("theme_rationale", "why")]));
        assert_eq!(theme.ok().map(|s| s.variables["i"]["kind"].clone()), Some(json!("THEME")));
    }
}
