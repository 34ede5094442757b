//! An advocate's cases: "my cases", referring a new one, and one case's page with its timeline
//! of actions, the client's consent, and closing with the outcome and the client's own view.
//! Only the advocate a case is assigned to ever sees it (the policy, through GraphQL).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Backend;
use crate::backend::{ask, submit};
use crate::extract::{Advocates, PostedFormAs, SignedInAs};
use crate::forms::{self, Choices, Errors, Input, csrf_field, form_page, options, value_of, words};
use crate::kit::{Connection, day_words, typed_day};
use crate::layout::page;

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

/// A case as the pages ask for it: what GraphQL may send as `null` (erased words, what a
/// case in its state does not have yet) is an `Option`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Case {
    id: String,
    pseudonym: Option<String>,
    issue: Option<String>,
    kind: String,
    referral_source: String,
    domain: String,
    state: String,
    referred_on: String,
    provider_name: Option<String>,
    decline_reason: Option<String>,
    actions: Vec<CaseAction>,
    consent: Option<CaseConsent>,
    consent_history: Vec<CaseConsent>,
    outcome: Option<String>,
    closure_reason: Option<String>,
    client_view: Option<String>,
    closed_on: Option<String>,
    closures: Vec<Closure>,
    reopenings: Vec<Reopening>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CaseAction {
    on: String,
    kind: String,
    text: Option<String>,
}

/// Consent to share, as recorded: no scope once it was withdrawn.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct CaseConsent {
    scope: Option<String>,
    recorded_on: String,
}

/// One closure of the case, with its outcome (a reopened case keeps its earlier closures).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Closure {
    on: String,
    outcome: String,
    reason: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Reopening {
    on: String,
    reason: Option<String>,
}

/// An advocate a case can be handed to, as the directory of advocates lists them.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Advocate {
    id: String,
    display_name: String,
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
pub async fn list<B: Backend>(
    State(backend): State<B>,
    SignedInAs { viewer, csrf, .. }: SignedInAs<Advocates>,
    Query(query): Query<CaseQuery>,
) -> Response {
    let csrf = csrf.as_str();
    let answer = ask(
        &backend,
        &viewer,
        "{ cases(first: 100) { edges { node { id pseudonym issue domain state referredOn } } } }",
        json!({}),
    )
    .await;
    let cases = answer.decode::<Connection<Case>>("cases").unwrap_or_default().nodes();
    let done = query.done.as_deref().and_then(done_words);
    let body = html! {
        @if let Some(done) = done { div class="notice" role="status" { p { (done) "." } } }
        h1 { "My cases" }
        p { a class="button" href="/cases/new" { "Refer a new case" } }
        @if cases.is_empty() { p { "No cases are assigned to you." } }
        ul class="case-list" aria-label="Cases assigned to you" {
            @for case in &cases {
                li {
                    a href={ "/cases/" (case.id) } { (case.pseudonym.as_deref().unwrap_or("Client")) }
                    span class="meta" {
                        (words(&DOMAINS, &case.domain)) " · "
                        (state_words(&case.state)) " · referred "
                        (day_words(&case.referred_on))
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
    pseudonym: String,
    #[serde(default)]
    issue: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    referral_source: String,
    #[serde(default)]
    domain: String,
    /// Its `clientMutationId` ([`forms::ONCE_FIELD`]): one case however often it is sent.
    #[serde(default)]
    client_mutation_id: String,
}

fn refer_page(viewer: &heard_api::Viewer, csrf: &str, form: &ReferForm, errors: &Errors) -> Markup {
    let body = html! {
        h1 { "Refer a case" }
        p class="lead" { "One person, one issue. Another issue for the same person is a new case linked to this one." }
        form method="post" action="/cases/new" novalidate {
            input type="hidden" name="csrf_token" value=(csrf);
            (forms::once_field(&form.client_mutation_id))
            (forms::input(Input { id: "pseudonym", label: "What to call them (optional)", kind: "text", value: &form.pseudonym, hint: Some("Not their real name unless they want it. Left empty, Heard gives a code such as Client 3F2A."), autocomplete: Some("off") }, errors))
            (forms::textarea("issue", "What is the issue?", &form.issue, Some("In their words where you can."), errors))
            (forms::choices(Choices { id: "kind", legend: "Kind of advocacy", multiple: false, options: options(&KINDS), chosen: vec![form.kind.clone()], hint: None }, errors))
            (forms::select("referral_source", "Who referred them?", &options(&SOURCES), &form.referral_source, errors))
            (forms::select("domain", "What area is it in?", &options(&DOMAINS), &form.domain, errors))
            button class="button" type="submit" { "Refer" }
        }
    };
    form_page(viewer, "Refer a case", Some(csrf), errors, body)
}

/// `GET /cases/new`.
pub async fn refer_form(SignedInAs { viewer, csrf, .. }: SignedInAs<Advocates>) -> Response {
    let csrf = csrf.as_str();
    let form = ReferForm { client_mutation_id: forms::new_once(), ..ReferForm::default() };
    refer_page(&viewer, csrf, &form, &Errors::default()).into_response()
}

/// `POST /cases/new`: `referCase`, then the new case's page.
pub async fn refer<B: Backend>(
    State(backend): State<B>,
    PostedFormAs { viewer, csrf, mut form, .. }: PostedFormAs<Advocates, ReferForm>,
) -> Response {
    let csrf = csrf.as_str();
    form.client_mutation_id = forms::once_of(&form.client_mutation_id);
    let mut errors = Errors::default();
    errors.require("issue", form.issue.trim(), "Write what the issue is");
    errors.require("kind", &form.kind, "Choose the kind of advocacy");
    if errors.is_empty() {
        let input = json!({
            "pseudonym": Some(form.pseudonym.trim()).filter(|p| !p.is_empty()),
            "issue": form.issue, "kind": form.kind, "referralSource": form.referral_source, "domain": form.domain,
            "clientMutationId": form.client_mutation_id,
        });
        let answer = submit(&backend, &viewer, "referCase", "id", input).await;
        if answer.errors.is_empty() {
            let id = answer.decode::<Case>("referCase").unwrap_or_default().id;
            return Redirect::to(&format!("/cases/{id}?done=referred")).into_response();
        }
        if errors.add_answer_to_create(&answer.errors, forms::field_or_top) {
            form.client_mutation_id = forms::new_once();
        }
    }
    (StatusCode::UNPROCESSABLE_ENTITY, refer_page(&viewer, csrf, &form, &errors)).into_response()
}

#[derive(Debug, Default, Deserialize)]
pub struct CaseQuery {
    done: Option<String>,
}

const SCOPES: [(&str, &str); 3] = [
    ("ADVOCATE_ONLY", "Nobody but me, their advocate"),
    ("NAMED_SERVICES", "Only the services they named"),
    ("ALL_SERVICES_INVOLVED", "Every service involved in the issue"),
];

const OUTCOMES: [(&str, &str); 4] = [
    ("ACHIEVED", "Achieved"),
    ("PARTLY_ACHIEVED", "Partly achieved"),
    ("NOT_ACHIEVED", "Not achieved"),
    ("NOT_KNOWN", "Not known"),
];

const CLOSURES: [(&str, &str); 5] = [
    ("ISSUE_RESOLVED", "The issue is resolved"),
    ("CLIENT_WITHDREW", "The client withdrew"),
    ("LOST_CONTACT", "We lost contact"),
    ("REFERRED_ON", "Referred on"),
    ("OTHER", "Something else"),
];

/// What to say once a step on the case page worked.
fn done_words(done: &str) -> Option<&'static str> {
    Some(match done {
        "referred" => "Referred",
        "accepted" => "Accepted",
        "declined" => "Declined",
        "action" => "Saved to the timeline",
        "closed" => "Closed",
        "consent" => "Consent recorded",
        "withdrawn" => "Consent withdrawn. Nothing more is shared from now on",
        "reopened" => "Reopened. The closure stays on record",
        "assigned" => "Handed over. The case is now with the other advocate, and you no longer see it",
        _ => return None,
    })
}

/// The GraphQL one step on the case page runs, and the word for `?done=`.
#[derive(Debug, PartialEq)]
struct CaseRequest {
    query: &'static str,
    variables: Value,
    done: &'static str,
}

/// A case page form as the request it makes, or the errors to show beside its fields. Dates
/// left empty mean today; their format and range are the API's to check.
fn case_request(step: &str, id: &str, fields: &[(String, String)]) -> Result<CaseRequest, Errors> {
    let mut errors = Errors::default();
    let field = |key: &str| value_of(fields, key).trim().to_owned();
    let on = |key: &str| Some(field(key)).filter(|on| !on.is_empty());
    let required = |errors: &mut Errors, key: &str, message: &str| errors.require(key, &field(key), message);
    let request = match step {
        "accept" => CaseRequest {
            query: "mutation($id: ID!) { acceptCase(id: $id) { id } }",
            variables: json!({ "id": id }),
            done: "accepted",
        },
        "decline" => {
            required(&mut errors, "reason", "Say why you are declining the case");
            CaseRequest {
                query: "mutation($id: ID!, $r: String!) { declineCase(id: $id, reason: $r) { id } }",
                variables: json!({ "id": id, "r": field("reason") }),
                done: "declined",
            }
        }
        "action" => {
            required(&mut errors, "action_kind", "Choose what happened");
            let action_on = on("action_on").map(|typed| typed_day(&typed));
            if let Some(Err(wrong)) = &action_on {
                errors.add("action_on", wrong);
            }
            let action_on = action_on.map(Result::ok);
            CaseRequest {
                query: "mutation($id: ID!, $i: RecordCaseActionInput!) { recordCaseAction(id: $id, input: $i) { id } }",
                variables: json!({ "id": id, "i": { "kind": field("action_kind"), "text": value_of(fields, "text"),
                    "on": action_on.flatten(),
                    "clientMutationId": Some(field(forms::ONCE_FIELD)).filter(|once| !once.is_empty()) } }),
                done: "action",
            }
        }
        "close" => {
            let outcome = "Choose the outcome: whether what the client wanted happened";
            errors.require_one_of("outcome", &field("outcome"), &OUTCOMES, outcome);
            errors.require_one_of("reason", &field("reason"), &CLOSURES, "Choose why the case is closing");
            CaseRequest {
                query: "mutation($id: ID!, $i: CloseCaseInput!) { closeCase(id: $id, input: $i) { id } }",
                variables: json!({ "id": id, "i": { "outcome": field("outcome"), "reason": field("reason"),
                    "clientView": Some(field("client_view")).filter(|v| !v.is_empty()) } }),
                done: "closed",
            }
        }
        "consent" => {
            errors.require_one_of("scope", &field("scope"), &SCOPES, "Choose what the client agreed you can share");
            CaseRequest {
                query: "mutation($id: ID!, $s: ShareScope, $on: String) { recordConsent(id: $id, scope: $s, on: $on) { id } }",
                variables: json!({ "id": id, "s": field("scope"), "on": on("consent_on") }),
                done: "consent",
            }
        }
        "withdraw" => CaseRequest {
            query: "mutation($id: ID!, $s: ShareScope, $on: String) { recordConsent(id: $id, scope: $s, on: $on) { id } }",
            variables: json!({ "id": id, "s": null, "on": on("withdraw_on") }),
            done: "withdrawn",
        },
        "reopen" => {
            required(&mut errors, "reopen_reason", "Say why the case is opening again");
            CaseRequest {
                query: "mutation($id: ID!, $r: String!, $on: String) { reopenCase(id: $id, reason: $r, on: $on) { id } }",
                variables: json!({ "id": id, "r": field("reopen_reason"), "on": on("reopen_on") }),
                done: "reopened",
            }
        }
        "assign" => {
            required(&mut errors, "advocate_id", "Choose the advocate to hand the case to");
            CaseRequest {
                query: "mutation($id: ID!, $a: ID!) { assignCase(id: $id, advocateId: $a) { caseId } }",
                variables: json!({ "id": id, "a": field("advocate_id") }),
                done: "assigned",
            }
        }
        _ => return Err(Errors::at_top(forms::NO_SUCH_STEP)),
    };
    errors.or_ok(request)
}

fn consent_words(consent: Option<&CaseConsent>) -> String {
    match consent {
        Some(CaseConsent { scope: Some(scope), recorded_on }) => {
            format!("{}, recorded {}", words(&SCOPES, scope), day_words(recorded_on))
        }
        Some(CaseConsent { scope: None, recorded_on }) => format!("Withdrawn {}", day_words(recorded_on)),
        None => "None recorded".to_owned(),
    }
}

/// The other advocates to hand a case to, by name, from the directory of advocates; `None`
/// when it could not be read.
async fn advocates<B: Backend>(backend: &B, viewer: &heard_api::Viewer) -> Option<Vec<(String, String)>> {
    let answer = ask(backend, viewer, "{ advocates { id displayName } }", json!({})).await;
    if !answer.errors.is_empty() {
        return None;
    }
    let me = viewer.actor.account.map(|id| id.to_string()).unwrap_or_default();
    let found = answer.decode::<Vec<Advocate>>("advocates").unwrap_or_default();
    Some(others_by_name(found, &me))
}

/// The advocates a case can go to: everyone listed but the advocate handing it over.
fn others_by_name(advocates: Vec<Advocate>, me: &str) -> Vec<(String, String)> {
    advocates
        .into_iter()
        .filter(|advocate| advocate.id != me)
        .map(|advocate| (advocate.id, advocate.display_name))
        .collect()
}

/// One entry of a case's timeline: the day, what happened, and the words under it.
struct TimelineEntry {
    on: String,
    heading: String,
    text: String,
}

/// Actions, closures with their outcome and reopenings, in date order (on one day: actions,
/// then a closure, then a reopening).
fn timeline(case: &Case) -> Vec<TimelineEntry> {
    let erased = |text: &Option<String>| text.clone().unwrap_or_else(|| "(erased)".to_owned());
    let actions = case.actions.iter().map(|action| TimelineEntry {
        on: action.on.clone(),
        heading: words(&ACTIONS, &action.kind).to_owned(),
        text: erased(&action.text),
    });
    let closures = case.closures.iter().map(|closure| TimelineEntry {
        on: closure.on.clone(),
        heading: format!("Closed. Outcome: {}", words(&OUTCOMES, &closure.outcome).to_lowercase()),
        text: words(&CLOSURES, &closure.reason).to_owned(),
    });
    let reopenings = case.reopenings.iter().map(|reopening| TimelineEntry {
        on: reopening.on.clone(),
        heading: "Reopened".to_owned(),
        text: erased(&reopening.reason),
    });
    let mut entries: Vec<TimelineEntry> = actions.chain(closures).chain(reopenings).collect();
    entries.sort_by(|a, b| a.on.cmp(&b.on));
    entries
}

/// The hand-over choices: a first, empty "Choose an advocate" so nobody is chosen in advance,
/// then the advocates by name.
fn handover_choices(advocates: &[(String, String)]) -> Vec<(String, String)> {
    std::iter::once((String::new(), "Choose an advocate".to_owned())).chain(advocates.iter().cloned()).collect()
}

/// The case file, with the forms its state allows; `values` are what was posted, kept after
/// an error.
#[allow(clippy::too_many_arguments)] // the page's parts, each from its own source
async fn case_page<B: Backend>(
    backend: &B,
    viewer: &heard_api::Viewer,
    csrf: &str,
    id: &str,
    errors: &Errors,
    done: Option<&str>,
    values: &[(String, String)],
    flashed: &crate::flash::Flashed,
) -> Result<Markup, Response> {
    let answer = ask(
        backend,
        viewer,
        "query($id: ID!) { case(id: $id) { id pseudonym issue kind referralSource domain state referredOn acceptedOn \
         providerName declineReason actions { on kind text } consent { scope recordedOn } \
         consentHistory { scope recordedOn } outcome closureReason clientView closedOn closures { on outcome reason } reopenings { on reason } } }",
        json!({ "id": id }),
    )
    .await;
    if !answer.errors.is_empty() {
        let body = html! { h1 { "Case not found" } p { "There is no case here that is assigned to you." } p { a href="/cases" { "Back to my cases" } } };
        return Err((StatusCode::NOT_FOUND, page(viewer, "Case not found", Some(csrf), body)).into_response());
    }
    let case = answer.decode::<Case>("case").unwrap_or_default();
    let state = case.state.as_str();
    let open = matches!(state, "ACCEPTED" | "ACTIVE");
    let consent_in_force = case.consent.as_ref().is_some_and(|consent| consent.scope.is_some());
    let today = heard_api::today().to_string();
    let kept = |key: &str| value_of(values, key);
    let date_or_today = |key: &str| Some(kept(key)).filter(|v| !v.is_empty()).unwrap_or_else(|| today.clone());
    let handover = if open { advocates(backend, viewer).await } else { None };
    let rights = crate::people::rights_section(backend, viewer, csrf, crate::people::Record::Case, id, flashed).await;
    let body = html! {
        (forms::summary(errors))
        @if let Some(done) = done { div class="notice" role="status" { p { (done) "." } } }
        p { a href="/cases" { "My cases" } }
        h1 { (case.pseudonym.as_deref().unwrap_or("Client")) }
        (rights.banner)
        dl class="summary-list" {
            div { dt { "Issue" } dd { (case.issue.as_deref().unwrap_or("(erased)")) } }
            div { dt { "Kind of advocacy" } dd { (words(&KINDS, &case.kind).split(':').next().unwrap_or_default()) } }
            div { dt { "Area" } dd { (words(&DOMAINS, &case.domain)) } }
            @if let Some(provider) = &case.provider_name { div { dt { "Service it is with" } dd { (provider) } } }
            div { dt { "Referred" } dd { (day_words(&case.referred_on)) ": " (words(&SOURCES, &case.referral_source).to_lowercase()) } }
            div { dt { "Where it stands" } dd { (state_words(state)) } }
            div { dt { "Consent to share" } dd { (consent_words(case.consent.as_ref())) } }
        }
        @if state == "REFERRED" {
            div class="actions" {
                form method="post" action={ "/cases/" (id) "/accept" } { (csrf_field(csrf)) button class="button" type="submit" { "Accept" } }
            }
            form method="post" action={ "/cases/" (id) "/decline" } novalidate {
                (csrf_field(csrf))
                (forms::input(Input { id: "reason", label: "Or decline, saying why", kind: "text", value: &kept("reason"), hint: None, autocomplete: None }, errors))
                button class="button button--secondary" type="submit" { "Decline" }
            }
        }
        @if state == "DECLINED" {
            p { "Declined. " @if let Some(reason) = &case.decline_reason { "Why: " (reason) } }
        }
        @if state == "CLOSED" {
            p { "Closed " (day_words(case.closed_on.as_deref().unwrap_or(""))) ". Outcome: " (words(&OUTCOMES, case.outcome.as_deref().unwrap_or("")).to_lowercase())
                @if let Some(reason) = &case.closure_reason { ". " (words(&CLOSURES, reason)) } "." }
            @if let Some(view) = &case.client_view { p { "In the client's words:" } blockquote { p { (view) } } }
        }
        h2 { "Timeline" }
        @let entries = timeline(&case);
        @if entries.is_empty() { p { "Nothing recorded yet." } }
        ol class="timeline" {
            @for entry in &entries {
                li { strong { (day_words(&entry.on)) " · " (entry.heading) } p { (entry.text) } }
            }
        }
        @if open {
            h2 { "Record an action" }
            form method="post" action={ "/cases/" (id) "/action" } novalidate {
                (csrf_field(csrf))
                (forms::once_field(&forms::once_of(&kept(forms::ONCE_FIELD))))
                (forms::choices(Choices { id: "action_kind", legend: "What happened?", multiple: false, options: options(&ACTIONS), chosen: vec![kept("action_kind")], hint: None }, errors))
                (forms::day_input("action_on", "When did it happen?", &date_or_today("action_on"), Some("Today unless you change it. Not before the case was referred, and not in the future."), errors))
                (forms::textarea("text", "Notes", &kept("text"), Some("Only you can read case notes."), errors))
                button class="button" type="submit" { "Save to the timeline" }
            }
        }
        section class="consent" aria-labelledby="consent-title" {
            h2 id="consent-title" { "Consent to share" }
            p { "What the client has agreed you can share about them, and with whom. Ask them again whenever things change." }
            @if !case.consent_history.is_empty() {
                ul class="history" {
                    @for consent in &case.consent_history { li { (consent_words(Some(consent))) } }
                }
            }
            @if matches!(state, "REFERRED" | "ACCEPTED" | "ACTIVE") {
                form method="post" action={ "/cases/" (id) "/consent" } novalidate {
                    (csrf_field(csrf))
                    (forms::choices(Choices { id: "scope", legend: "What has the client agreed to now?", multiple: false, options: options(&SCOPES), chosen: vec![kept("scope")], hint: Some("Record it again if it changes: the latest answer is the one in force.") }, errors))
                    (forms::day_input("consent_on", "When did they agree?", &date_or_today("consent_on"), None, errors))
                    button class="button" type="submit" { "Record consent" }
                }
            }
            @if consent_in_force {
                form method="post" action={ "/cases/" (id) "/withdraw" } novalidate {
                    (csrf_field(csrf))
                    h3 { "The client withdrew their consent" }
                    (forms::day_input("withdraw_on", "When did they withdraw it?", &date_or_today("withdraw_on"), Some("From then on, nothing more is shared. This works on a closed case too."), errors))
                    button class="button button--secondary" type="submit" { "Record that consent was withdrawn" }
                }
            }
        }
        @if open {
            h2 { "Close the case" }
            form method="post" action={ "/cases/" (id) "/close" } novalidate {
                (csrf_field(csrf))
                (forms::choices(Choices { id: "outcome", legend: "Outcome: did what the client wanted happen?", multiple: false, options: options(&OUTCOMES), chosen: vec![kept("outcome")], hint: None }, errors))
                (forms::select("reason", "Why it is closing", &[(String::new(), "Choose a reason".to_owned())].into_iter().chain(options(&CLOSURES)).collect::<Vec<_>>(), &kept("reason"), errors))
                (forms::textarea("client_view", "The client's own view of the outcome", &kept("client_view"), Some("In their words."), errors))
                button class="button" type="submit" { "Close the case" }
            }
            details class="handover" open[errors.of("advocate_id").is_some()] {
                summary { "Hand the case to another advocate" }
                @match &handover {
                    Some(advocates) if !advocates.is_empty() => {
                        form method="post" action={ "/cases/" (id) "/assign" } novalidate {
                            (csrf_field(csrf))
                            (forms::select("advocate_id", "Which advocate?", &handover_choices(advocates), &kept("advocate_id"), errors))
                            p class="hint" { "Once handed over, you no longer see the case." }
                            button class="button button--secondary" type="submit" { "Hand over the case" }
                        }
                    }
                    Some(_) => { p { "There is no other advocate to hand the case to yet." } }
                    None => { p { "The list of advocates could not be read just now. Try again later." } }
                }
            }
        }
        @if state == "CLOSED" {
            h2 { "Reopen the case" }
            form method="post" action={ "/cases/" (id) "/reopen" } novalidate {
                (csrf_field(csrf))
                (forms::textarea("reopen_reason", "Why is it opening again?", &kept("reopen_reason"), Some("For example: the agreed review did not happen. The closure stays on record."), errors))
                (forms::day_input("reopen_on", "When did it open again?", &date_or_today("reopen_on"), None, errors))
                button class="button" type="submit" { "Reopen the case" }
            }
        }
        (rights.section)
    };
    let title = match (errors.is_empty(), state) {
        (true, "CLOSED") => "Case (closed)",
        (true, _) => "Case",
        (false, _) => "Error: Case",
    };
    Ok(page(viewer, title, Some(csrf), body))
}

/// `GET /cases/{id}`: the case file.
pub async fn show<B: Backend>(
    State(backend): State<B>,
    Path(id): Path<String>,
    SignedInAs { viewer, csrf, .. }: SignedInAs<Advocates>,
    flashed: crate::flash::Flashed,
    Query(query): Query<CaseQuery>,
) -> Response {
    let csrf = csrf.as_str();
    let mut errors = Errors::default();
    flashed.add_error_to(&mut errors);
    let done = query.done.as_deref().and_then(done_words);
    match case_page(&backend, &viewer, csrf, &id, &errors, done, &[], &flashed).await {
        Ok(page) => page.into_response(),
        Err(response) => response,
    }
}

/// For each form of the case page (step), the id on the page of the field an API error names
/// (several forms have a date, so the API's `on` means a different field on each).
const PAGE_FIELDS: [(&str, &str, &str); 13] = [
    ("decline", "reason", "reason"),
    ("action", "kind", "action_kind"),
    ("action", "text", "text"),
    ("action", "on", "action_on"),
    ("close", "outcome", "outcome"),
    ("close", "reason", "reason"),
    ("close", "client_view", "client_view"),
    ("consent", "scope", "scope"),
    ("consent", "on", "consent_on"),
    ("withdraw", "on", "withdraw_on"),
    ("reopen", "reason", "reopen_reason"),
    ("reopen", "on", "reopen_on"),
    ("assign", "advocate_id", "advocate_id"),
];

fn page_field(step: &str, api_field: Option<&str>) -> String {
    forms::step_field(&PAGE_FIELDS, step, api_field)
}

/// `POST /cases/{id}/{step}`: the step, then back to the case (or, after handing it over, to
/// my cases); after an error, the case page again with the error beside its field and what
/// was typed still there.
pub async fn act<B: Backend>(
    State(backend): State<B>,
    Path((id, step)): Path<(String, String)>,
    PostedFormAs { viewer, csrf, form: mut fields, .. }: PostedFormAs<Advocates, Vec<(String, String)>>,
) -> Response {
    let csrf = csrf.as_str();
    let errors = match case_request(&step, &id, &fields) {
        Ok(request) => {
            let answer = ask(&backend, &viewer, request.query, request.variables).await;
            if answer.errors.is_empty() {
                let url = if step == "assign" {
                    format!("/cases?done={}", request.done)
                } else {
                    format!("/cases/{id}?done={}", request.done)
                };
                return Redirect::to(&url).into_response();
            }
            let mut errors = Errors::default();
            if errors.add_answer_to_create(&answer.errors, |api_field| page_field(&step, api_field)) {
                // Sent before with other notes: the form comes back with a new id.
                fields.retain(|(key, _)| key != forms::ONCE_FIELD);
            }
            errors
        }
        Err(errors) => errors,
    };
    match case_page(&backend, &viewer, csrf, &id, &errors, None, &fields, &crate::flash::Flashed::default()).await {
        Ok(page) => {
            let mut response = (StatusCode::UNPROCESSABLE_ENTITY, page).into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(response) => response,
    }
}

/// This page's routes.
pub fn routes<B: Backend>() -> axum::Router<B> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/cases", get(list::<B>))
        .route("/cases/new", get(refer_form).post(refer::<B>))
        .route("/cases/{id}", get(show::<B>))
        .route("/cases/{id}/{step}", post(act::<B>))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::testing::{fields, posted};

    #[test]
    fn recording_consent_sends_the_scope_and_the_day_or_today_when_left_empty() {
        let request =
            case_request("consent", "c1", &posted(&[("scope", "NAMED_SERVICES"), ("consent_on", "")])).unwrap();
        assert!(request.query.contains("recordConsent"));
        assert_eq!(request.variables, json!({ "id": "c1", "s": "NAMED_SERVICES", "on": null }));
        let dated = case_request("consent", "c1", &posted(&[("scope", "ADVOCATE_ONLY"), ("consent_on", "2026-03-02")]))
            .unwrap();
        assert_eq!(dated.variables["on"], "2026-03-02");
    }

    #[test]
    fn withdrawing_consent_records_no_scope_at_all() {
        let request = case_request("withdraw", "c1", &posted(&[("withdraw_on", "2026-03-04")])).unwrap();
        assert_eq!(request.variables, json!({ "id": "c1", "s": null, "on": "2026-03-04" }));
        assert_eq!(request.done, "withdrawn");
    }

    #[test]
    fn a_case_form_names_what_is_missing_beside_its_own_field() {
        assert_eq!(fields(&case_request("consent", "c1", &[]).unwrap_err()), ["scope"]);
        assert_eq!(
            fields(&case_request("reopen", "c1", &posted(&[("reopen_reason", "  ")])).unwrap_err()),
            ["reopen_reason"]
        );
        assert_eq!(fields(&case_request("decline", "c1", &[]).unwrap_err()), ["reason"]);
        assert_eq!(fields(&case_request("action", "c1", &[]).unwrap_err()), ["action_kind"]);
        assert_eq!(fields(&case_request("assign", "c1", &[]).unwrap_err()), ["advocate_id"]);
        assert_eq!(fields(&case_request("close", "c1", &posted(&[("reason", "OTHER")])).unwrap_err()), ["outcome"]);
        assert_eq!(
            fields(&case_request("close", "c1", &posted(&[("outcome", "ACHIEVED")])).unwrap_err()),
            ["reason"],
            "no reason is chosen in advance, so one must be chosen"
        );
        assert_eq!(
            fields(&case_request("close", "c1", &posted(&[("outcome", "SPLENDID"), ("reason", "OTHER")])).unwrap_err()),
            ["outcome"],
            "a forged outcome is no outcome"
        );
        assert!(case_request("nonsense", "c1", &[]).is_err());
    }

    #[test]
    fn closing_sends_the_outcome_chosen() {
        let request =
            case_request("close", "c1", &posted(&[("outcome", "PARTLY_ACHIEVED"), ("reason", "OTHER")])).unwrap();
        assert_eq!(request.variables["i"]["outcome"], "PARTLY_ACHIEVED");
        assert_eq!(request.done, "closed");
    }

    #[test]
    fn an_action_is_recorded_on_the_day_given_written_either_way_or_today_when_left_empty() {
        let action = |on: &str| {
            case_request("action", "c1", &posted(&[("action_kind", "CALL"), ("text", "Called"), ("action_on", on)]))
        };
        assert_eq!(action("").unwrap().variables["i"]["on"], Value::Null, "empty is today, the API's default");
        assert_eq!(action("2026-03-02").unwrap().variables["i"]["on"], "2026-03-02");
        assert_eq!(action(" 2/3/2026 ").unwrap().variables["i"]["on"], "2026-03-02", "as people in the UK write it");
        assert_eq!(action("02.03.2026").unwrap().variables["i"]["on"], "2026-03-02");
        assert_eq!(action("2/3/26").unwrap().variables["i"]["on"], "2026-03-02", "a two-digit year is this century");
        for (nonsense, said) in [
            ("31/2/2026", "31 February 2026 does not exist"),
            ("2026-02-31", "31 February 2026 does not exist"),
            ("3/2026", "Enter the date as day, month and year"),
            ("yesterday", "Enter the date as day, month and year"),
        ] {
            let errors = action(nonsense).unwrap_err();
            assert_eq!(fields(&errors), ["action_on"], "beside the field: {nonsense}");
            assert!(errors.0[0].message.starts_with(said), "in the words every page uses: {nonsense}");
        }
    }

    #[test]
    fn the_hand_over_lists_the_other_advocates_by_name_with_nobody_chosen_in_advance() {
        let listed = |id: &str, name: &str| Advocate { id: id.to_owned(), display_name: name.to_owned() };
        let others = others_by_name(vec![listed("a1", "Alex Advocate"), listed("me", "Me"), listed("a2", "Sam")], "me");
        assert_eq!(others, options(&[("a1", "Alex Advocate"), ("a2", "Sam")]));
        let choices = handover_choices(&others);
        assert_eq!(choices[0], (String::new(), "Choose an advocate".to_owned()));
        assert_eq!(&choices[1..], &others[..]);
    }

    #[test]
    fn the_timeline_shows_actions_closures_with_their_outcome_and_reopenings_in_date_order() {
        let case: Case = serde_json::from_value(json!({
            "actions": [{ "on": "2026-03-02", "kind": "CALL", "text": "Called the landlord" },
                        { "on": "2026-03-20", "kind": "NOTE", "text": null }],
            "closures": [{ "on": "2026-03-10", "outcome": "PARTLY_ACHIEVED", "reason": "ISSUE_RESOLVED" }],
            "reopenings": [{ "on": "2026-03-10", "reason": "The review did not happen" }],
        }))
        .unwrap();
        let entries: Vec<(String, String, String)> =
            timeline(&case).into_iter().map(|entry| (entry.on, entry.heading, entry.text)).collect();
        let entry = |on: &str, heading: &str, text: &str| (on.to_owned(), heading.to_owned(), text.to_owned());
        assert_eq!(
            entries,
            [
                entry("2026-03-02", "Call", "Called the landlord"),
                entry("2026-03-10", "Closed. Outcome: partly achieved", "The issue is resolved"),
                entry("2026-03-10", "Reopened", "The review did not happen"),
                entry("2026-03-20", "Note", "(erased)"),
            ]
        );
    }

    #[test]
    fn reopening_sends_the_trimmed_reason_and_the_day() {
        let request = case_request(
            "reopen",
            "c1",
            &posted(&[("reopen_reason", " The review did not happen "), ("reopen_on", "")]),
        )
        .unwrap();
        assert!(request.query.contains("reopenCase"));
        assert_eq!(request.variables, json!({ "id": "c1", "r": "The review did not happen", "on": null }));
    }

    #[test]
    fn an_api_error_about_a_date_lands_beside_the_date_of_the_form_that_was_posted() {
        assert_eq!(page_field("consent", Some("on")), "consent_on");
        assert_eq!(page_field("withdraw", Some("on")), "withdraw_on");
        assert_eq!(page_field("reopen", Some("on")), "reopen_on");
        assert_eq!(page_field("reopen", Some("reason")), "reopen_reason");
        assert_eq!(page_field("action", Some("input.on")), "action_on");
        assert_eq!(page_field("close", Some("input.clientView")), "client_view");
        assert_eq!(page_field("assign", Some("advocateId")), "advocate_id");
        assert_eq!(page_field("close", Some("input.on")), "", "a field not on the form goes to the top");
        assert_eq!(page_field("accept", None), "");
    }

    #[test]
    fn consent_reads_as_plain_words_including_its_withdrawal() {
        let consent = |json: Value| serde_json::from_value::<CaseConsent>(json).unwrap();
        let named = consent(json!({ "scope": "NAMED_SERVICES", "recordedOn": "2026-03-02" }));
        assert_eq!(consent_words(Some(&named)), "Only the services they named, recorded 2 March 2026");
        let withdrawn = consent(json!({ "scope": null, "recordedOn": "2026-03-04" }));
        assert_eq!(consent_words(Some(&withdrawn)), "Withdrawn 4 March 2026");
        assert_eq!(consent_words(None), "None recorded");
    }
}
