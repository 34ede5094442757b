//! An advocate's cases: "my cases", referring a new one, and one case's page with its timeline
//! of actions, the client's consent, and closing with the outcome and the client's own view.
//! Only the advocate a case is assigned to ever sees it (the policy, through GraphQL).

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Backend;
use crate::forms::{self, Choices, Errors, Input};
use crate::layout::page;
use crate::moderation::urlencode;
use crate::pages::{ask, field_id, plain, see_login, signed_in};

fn options(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(v, l)| ((*v).to_owned(), (*l).to_owned())).collect()
}

const DOMAINS: [(&str, &str); 10] = [
    ("HOUSING", "Housing"),
    ("BENEFITS", "Benefits"),
    ("EMPLOYMENT", "Employment"),
    ("CHILD_PROTECTION", "Child protection"),
    ("CRIMINAL_JUSTICE", "Criminal justice and release"),
    ("MENTAL_HEALTH", "Mental health"),
    ("PRESCRIBING_REVIEW", "Prescribing review"),
    ("TREATMENT_ACCESS", "Access to treatment"),
    ("CARE_PLAN", "Care plan"),
    ("OTHER", "Something else"),
];

const SOURCES: [(&str, &str); 8] = [
    ("SELF_REFERRAL", "They came themselves"),
    ("HUB", "A hub"),
    ("PROVIDER", "A treatment service"),
    ("GP", "A GP"),
    ("PROBATION", "Probation"),
    ("PRISON", "A prison"),
    ("FAMILY", "Family or a friend"),
    ("OTHER", "Someone else"),
];

const KINDS: [(&str, &str); 2] = [
    ("INSTRUCTED", "Instructed: the client tells me what they want"),
    ("NON_INSTRUCTED", "Non-instructed: the client cannot instruct me"),
];

const ACTIONS: [(&str, &str); 5] = [
    ("MEETING", "Meeting"),
    ("ACCOMPANIED_APPOINTMENT", "Went with them to an appointment"),
    ("LETTER", "Letter"),
    ("CALL", "Call"),
    ("NOTE", "Note"),
];

fn words(pairs: &[(&str, &str)], value: &str) -> String {
    pairs.iter().find(|(v, _)| *v == value).map_or_else(|| value.to_owned(), |(_, l)| (*l).to_owned())
}

fn state_words(state: &str) -> &'static str {
    match state {
        "REFERRED" => "Referred: accept or decline",
        "ACCEPTED" => "Accepted",
        "ACTIVE" => "Active",
        "DECLINED" => "Declined",
        _ => "Closed",
    }
}

/// `GET /cases`: my cases, newest referral first.
pub async fn list<B: Backend>(State(backend): State<B>, headers: HeaderMap) -> Response {
    let Some((viewer, csrf)) = signed_in(&backend, &headers) else {
        return see_login();
    };
    let csrf = csrf.as_str();
    let answer = ask(
        &backend,
        &viewer,
        "{ cases(first: 100) { edges { node { id pseudonym issue domain state referredOn } } } }",
        json!({}),
    )
    .await;
    let cases: Vec<Value> = answer.data["cases"]["edges"]
        .as_array()
        .map(|edges| edges.iter().map(|edge| edge["node"].clone()).collect())
        .unwrap_or_default();
    let body = html! {
        h1 { "My cases" }
        p { a class="button" href="/cases/new" { "Refer a new case" } }
        @if cases.is_empty() { p { "No cases are assigned to you." } }
        table class="cases" {
            caption class="visually-hidden" { "Cases assigned to you" }
            thead { tr { th scope="col" { "Client" } th scope="col" { "Issue" } th scope="col" { "Where it stands" } th scope="col" { "Referred" } } }
            tbody {
                @for case in &cases {
                    @let id = case["id"].as_str().unwrap_or_default();
                    tr {
                        th scope="row" { a href={ "/cases/" (id) } { (case["pseudonym"].as_str().unwrap_or("Client")) } }
                        td { (words(&DOMAINS, case["domain"].as_str().unwrap_or(""))) }
                        td { (state_words(case["state"].as_str().unwrap_or(""))) }
                        td { (case["referredOn"].as_str().unwrap_or("")) }
                    }
                }
            }
        }
    };
    page(&viewer, "My cases", Some(csrf), body).into_response()
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ReferForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    pseudonym: String,
    #[serde(default)]
    issue: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    referral_source: String,
    #[serde(default)]
    domain: String,
}

fn refer_page(viewer: &heard_api::Viewer, csrf: &str, form: &ReferForm, errors: &Errors) -> Markup {
    page(
        viewer,
        if errors.is_empty() { "Refer a case" } else { "Error: Refer a case" },
        Some(csrf),
        html! {
            (forms::summary(errors))
            h1 { "Refer a case" }
            p class="lead" { "One person, one issue. Another issue for the same person is a new case linked to this one." }
            form method="post" action="/cases/new" novalidate {
                input type="hidden" name="csrf_token" value=(csrf);
                (forms::input(Input { id: "pseudonym", label: "What to call them (optional)", kind: "text", value: &form.pseudonym, hint: Some("Not their real name unless they want it. Left empty, Heard gives a code such as Client 3F2A."), autocomplete: Some("off") }, errors))
                (forms::textarea("issue", "What is the issue?", &form.issue, Some("In their words where you can."), errors))
                (forms::choices(Choices { id: "kind", legend: "Kind of advocacy", multiple: false, options: options(&KINDS), chosen: vec![form.kind.clone()], hint: None }, errors))
                (forms::select("referral_source", "Who referred them?", &options(&SOURCES), &form.referral_source, errors))
                (forms::select("domain", "What area is it in?", &options(&DOMAINS), &form.domain, errors))
                button class="button" type="submit" { "Refer" }
            }
        },
    )
}

/// `GET /cases/new`.
pub async fn refer_form<B: Backend>(State(backend): State<B>, headers: HeaderMap) -> Response {
    let Some((viewer, csrf)) = signed_in(&backend, &headers) else {
        return see_login();
    };
    let csrf = csrf.as_str();
    refer_page(&viewer, csrf, &ReferForm::default(), &Errors::default()).into_response()
}

/// `POST /cases/new`: `referCase`, then the new case's page.
pub async fn refer<B: Backend>(State(backend): State<B>, headers: HeaderMap, Form(form): Form<ReferForm>) -> Response {
    let Some((viewer, csrf)) = signed_in(&backend, &headers) else {
        return see_login();
    };
    let csrf = csrf.as_str();
    if !backend.csrf_matches(&viewer, &form.csrf_token) {
        return (StatusCode::FORBIDDEN, "This form has expired. Go back, reload the page and try again.")
            .into_response();
    }
    let mut errors = Errors::default();
    if form.issue.trim().is_empty() {
        errors.add("issue", "Write what the issue is");
    }
    if form.kind.is_empty() {
        errors.add("kind", "Choose the kind of advocacy");
    }
    if errors.is_empty() {
        let input = json!({
            "pseudonym": Some(form.pseudonym.trim()).filter(|p| !p.is_empty()),
            "issue": form.issue, "kind": form.kind, "referralSource": form.referral_source, "domain": form.domain,
        });
        let answer = ask(
            &backend,
            &viewer,
            "mutation($i: ReferCaseInput!) { referCase(input: $i) { id } }",
            json!({ "i": input }),
        )
        .await;
        if answer.errors.is_empty() {
            let id = answer.data["referCase"]["id"].as_str().unwrap_or_default();
            return Redirect::to(&format!("/cases/{id}?done=Referred")).into_response();
        }
        for (field, _, message) in answer.errors {
            errors.add(&field.as_deref().map(field_id).unwrap_or_default(), plain(&message));
        }
    }
    (StatusCode::UNPROCESSABLE_ENTITY, refer_page(&viewer, csrf, &form, &errors)).into_response()
}

#[derive(Debug, Default, Deserialize)]
pub struct CaseQuery {
    done: Option<String>,
    error: Option<String>,
    field: Option<String>,
}

fn hidden(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf_token" value=(csrf); }
}

/// `GET /cases/{id}`: the case file.
pub async fn show<B: Backend>(
    State(backend): State<B>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(query): Query<CaseQuery>,
) -> Response {
    let Some((viewer, csrf)) = signed_in(&backend, &headers) else {
        return see_login();
    };
    let csrf = csrf.as_str();
    let answer = ask(
        &backend,
        &viewer,
        "query($id: ID!) { case(id: $id) { id pseudonym issue kind domain state referredOn actions { on kind text } consent { scope recordedOn } outcome clientView closedOn } }",
        json!({ "id": id }),
    )
    .await;
    if !answer.errors.is_empty() {
        let body = html! { h1 { "Case not found" } p { "There is no case here that is assigned to you." } p { a href="/cases" { "Back to my cases" } } };
        return (StatusCode::NOT_FOUND, page(&viewer, "Case not found", Some(csrf), body)).into_response();
    }
    let case = &answer.data["case"];
    let state = case["state"].as_str().unwrap_or_default();
    let mut errors = Errors::default();
    if let Some(error) = &query.error {
        errors.add(query.field.as_deref().unwrap_or(""), error.clone());
    }
    let open = matches!(state, "ACCEPTED" | "ACTIVE");
    let body = html! {
        (forms::summary(&errors))
        @if let Some(done) = &query.done { div class="notice" role="status" { p { (done) "." } } }
        p { a href="/cases" { "My cases" } }
        h1 { (case["pseudonym"].as_str().unwrap_or("Client")) }
        dl class="summary-list" {
            div { dt { "Issue" } dd { (case["issue"].as_str().unwrap_or("(erased)")) } }
            div { dt { "Area" } dd { (words(&DOMAINS, case["domain"].as_str().unwrap_or(""))) } }
            div { dt { "Where it stands" } dd { (state_words(state)) } }
            div { dt { "Consent to share" } dd {
                @match case["consent"]["scope"].as_str() {
                    Some(scope) => { (scope.replace('_', " ").to_lowercase()) ", recorded " (case["consent"]["recordedOn"].as_str().unwrap_or("")) }
                    None => { "None recorded" }
                }
            } }
        }
        @if state == "REFERRED" {
            div class="actions" {
                form method="post" action={ "/cases/" (id) "/accept" } { (hidden(csrf)) button class="button" type="submit" { "Accept" } }
            }
            form method="post" action={ "/cases/" (id) "/decline" } {
                (hidden(csrf))
                (forms::input(Input { id: "reason", label: "Or decline, saying why", kind: "text", value: "", hint: None, autocomplete: None }, &errors))
                button class="button button--secondary" type="submit" { "Decline" }
            }
        }
        h2 { "Timeline" }
        @let actions = case["actions"].as_array().cloned().unwrap_or_default();
        @if actions.is_empty() { p { "Nothing recorded yet." } }
        ol class="timeline" {
            @for action in &actions {
                li { strong { (action["on"].as_str().unwrap_or("")) " · " (words(&ACTIONS, action["kind"].as_str().unwrap_or(""))) } p { (action["text"].as_str().unwrap_or("(erased)")) } }
            }
        }
        @if open {
            h2 { "Record an action" }
            form method="post" action={ "/cases/" (id) "/action" } novalidate {
                (hidden(csrf))
                (forms::choices(Choices { id: "action_kind", legend: "What happened?", multiple: false, options: options(&ACTIONS), chosen: vec![], hint: None }, &errors))
                (forms::textarea("text", "Notes", "", Some("Only you can read case notes."), &errors))
                button class="button" type="submit" { "Save to the timeline" }
            }
            h2 { "Close the case" }
            form method="post" action={ "/cases/" (id) "/close" } novalidate {
                (hidden(csrf))
                (forms::select("outcome", "Outcome", &options(&[("ACHIEVED", "Achieved"), ("PARTLY_ACHIEVED", "Partly achieved"), ("NOT_ACHIEVED", "Not achieved"), ("NOT_KNOWN", "Not known")]), "", &errors))
                (forms::select("reason", "Why it is closing", &options(&[("ISSUE_RESOLVED", "The issue is resolved"), ("CLIENT_WITHDREW", "The client withdrew"), ("LOST_CONTACT", "We lost contact"), ("REFERRED_ON", "Referred on"), ("OTHER", "Something else")]), "", &errors))
                (forms::textarea("client_view", "The client's own view of the outcome", "", Some("In their words."), &errors))
                button class="button" type="submit" { "Close the case" }
            }
        }
        @if state == "CLOSED" {
            p { "Closed " (case["closedOn"].as_str().unwrap_or("")) ". Outcome: " (case["outcome"].as_str().unwrap_or("").replace('_', " ").to_lowercase()) "." }
            @if let Some(view) = case["clientView"].as_str() { blockquote { p { (view) } } }
        }
    };
    page(&viewer, if errors.is_empty() { "Case" } else { "Error: Case" }, Some(csrf), body).into_response()
}

/// `POST /cases/{id}/{step}`.
pub async fn act<B: Backend>(
    State(backend): State<B>,
    Path((id, step)): Path<(String, String)>,
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
    let (query, variables, done, field) = match step.as_str() {
        "accept" => ("mutation($id: ID!) { acceptCase(id: $id) { id } }", json!({ "id": id }), "Accepted", ""),
        "decline" => (
            "mutation($id: ID!, $r: String!) { declineCase(id: $id, reason: $r) { id } }",
            json!({ "id": id, "r": value("reason") }),
            "Declined",
            "reason",
        ),
        "action" => {
            if value("action_kind").is_empty() {
                let url = format!("/cases/{id}?error={}&field=action_kind", urlencode("Choose what happened"));
                return Redirect::to(&url).into_response();
            }
            (
                "mutation($id: ID!, $i: RecordCaseActionInput!) { recordCaseAction(id: $id, input: $i) { id } }",
                json!({ "id": id, "i": { "kind": value("action_kind"), "text": value("text") } }),
                "Saved to the timeline",
                "text",
            )
        }
        "close" => (
            "mutation($id: ID!, $i: CloseCaseInput!) { closeCase(id: $id, input: $i) { id } }",
            json!({ "id": id, "i": { "outcome": value("outcome"), "reason": value("reason"),
                "clientView": Some(value("client_view")).filter(|v| !v.trim().is_empty()) } }),
            "Closed",
            "client_view",
        ),
        _ => return (StatusCode::NOT_FOUND, "There is no such step.").into_response(),
    };
    let answer = ask(&backend, &viewer, query, variables).await;
    let url = match answer.errors.first() {
        None => format!("/cases/{id}?done={}", urlencode(done)),
        Some((api_field, _, message)) => {
            let field =
                api_field.as_deref().map(field_id).filter(|f| !f.is_empty()).unwrap_or_else(|| field.to_owned());
            format!("/cases/{id}?error={}&field={}", urlencode(&plain(message)), urlencode(&field))
        }
    };
    Redirect::to(&url).into_response()
}
