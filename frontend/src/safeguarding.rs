//! A coordinator's safeguarding: the disclosures of risk that are with them (`/safeguarding`,
//! in the header with how many are open), most urgent first (flagged today, this week,
//! earlier); which open disclosures of their hubs are with another coordinator (who has each,
//! never what was said); those dealt with; and one disclosure's page (`/safeguarding/{id}`):
//! what was said, its follow-up as a timeline, and plain forms to record what was done on the
//! day it happened, mark it dealt with (the outcome chosen, none in advance), hand it to
//! another coordinator of its hub chosen by name, or record that the person narrowed or
//! withdrew their consent. Every form posts and redirects (post, redirect, get), with what
//! happened in the session's flash ([`crate::flash`]), never in the address; errors come back
//! beside their fields. Only the coordinator a disclosure is with ever sees it (the
//! policy, through GraphQL).
//!
//! Also what flagging needs in the moderation queue: the hub's coordinators by name
//! ([`coordinator_choices`]), offered with nobody chosen in advance ([`with_nobody_chosen`]).

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use heard_api::Viewer;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Backend;
use crate::backend::{ask, submit};
use crate::extract::{PostedFormAs, SafeguardingLeads, SignedInAs};
use crate::flash::{self, Flash, Flashed};
use crate::forms::{self, Choices, Errors, csrf_field, options, value_of, words};
use crate::kit::{day_words, no_store, typed_day};
use crate::layout::page;

/// What can be recorded as done, in the API's words and the page's.
const STEPS: [(&str, &str); 4] = [
    ("SPOKE_TO_PERSON", "Spoke to the person"),
    ("REFERRED_TO_PROVIDER_LEAD", "Referred to the provider's safeguarding lead"),
    ("CALLED_EMERGENCY_SERVICES", "Called emergency services"),
    ("OTHER", "Something else (say what in the notes)"),
];

/// What can come of a disclosure.
const OUTCOMES: [(&str, &str); 6] = [
    ("SUPPORT_IN_PLACE", "Support is in place for them"),
    ("REFERRED_ON", "Another service has taken it on"),
    ("EMERGENCY_SERVICES_RESPONDED", "Emergency services responded"),
    ("PERSON_DECLINED_HELP", "They did not want any more help"),
    ("COULD_NOT_REACH_PERSON", "We could not reach them"),
    ("OTHER", "Something else (say what in the notes)"),
];

/// The groups of the list, most urgent first.
const URGENCIES: [(&str, &str); 3] =
    [("TODAY", "Flagged today"), ("THIS_WEEK", "Flagged this week"), ("OLDER", "Flagged earlier")];

/// What to say after a form worked: the session's flash carries it to the next page.
const SAVED: &str = "Saved to the follow-up.";
const DEALT_WITH: &str = "Marked dealt with. It stays on record here, with what came of it.";
const CONSENT_CHANGED: &str = "Consent changed. It stays with you for safeguarding; every other view obeys it at once.";
const HANDED_OVER: &str =
    "Handed over. The disclosure is with the other coordinator now, and you no longer see what was said.";

/// The item as a disclosure shows it; its words are `null` once consent was withdrawn.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Said {
    text: Option<String>,
    said_on: String,
    consent: Option<String>,
}

/// A disclosure that is with the person looking.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Disclosure {
    id: String,
    hub: String,
    hub_name: Option<String>,
    flagged_on: String,
    flagged_by: String,
    coordinator_id: String,
    urgency: String,
    open: bool,
    outcome: Option<String>,
    closed_on: Option<String>,
    actions_recorded: usize,
    last_action_on: Option<String>,
    item: Said,
    follow_up: Vec<Entry>,
}

/// One entry of a disclosure's follow-up.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Entry {
    kind: String,
    step: Option<String>,
    on: String,
    by: String,
    to_coordinator: Option<String>,
    outcome: Option<String>,
    notes: Option<String>,
    notes_erased: bool,
}

/// An open disclosure of the person's hubs that is with another coordinator.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct WithOthers {
    hub_name: Option<String>,
    flagged_on: String,
    coordinator_id: String,
    actions_recorded: usize,
}

/// One coordinator in a hub's directory.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Listed {
    id: String,
    display_name: String,
}

/// The coordinators of `hub` by name, to send a disclosure to or hand it over to, the person
/// looking marked "(you)"; `None` when the directory could not be read.
pub(crate) async fn coordinator_choices<B: Backend>(
    backend: &B,
    viewer: &Viewer,
    hub: &str,
) -> Option<Vec<(String, String)>> {
    let answer =
        ask(backend, viewer, "query($h: ID!) { coordinators(hub: $h) { id displayName } }", json!({ "h": hub })).await;
    if !answer.errors.is_empty() {
        return None;
    }
    let me = viewer.actor.account.map(|id| id.to_string()).unwrap_or_default();
    let listed = answer.decode::<Vec<Listed>>("coordinators").unwrap_or_default();
    Some(
        listed
            .into_iter()
            .map(|coordinator| {
                let name = if coordinator.id == me {
                    format!("{} (you)", coordinator.display_name)
                } else {
                    coordinator.display_name
                };
                (coordinator.id, name)
            })
            .collect(),
    )
}

/// A choice of coordinators with nobody chosen in advance: "Choose a coordinator" first.
pub(crate) fn with_nobody_chosen(coordinators: &[(String, String)]) -> Vec<(String, String)> {
    std::iter::once((String::new(), "Choose a coordinator".to_owned())).chain(coordinators.iter().cloned()).collect()
}

/// Names of the people a disclosure mentions, by account id: the hub's coordinators first,
/// then anyone else the person looking may see.
struct Names {
    me: String,
    known: HashMap<String, String>,
}

impl Names {
    async fn of<B: Backend>(backend: &B, viewer: &Viewer, hub: &str, also: &[&str]) -> Names {
        let me = viewer.actor.account.map(|id| id.to_string()).unwrap_or_default();
        let mut known: HashMap<String, String> = HashMap::new();
        let answer =
            ask(backend, viewer, "query($h: ID!) { coordinators(hub: $h) { id displayName } }", json!({ "h": hub }))
                .await;
        for listed in answer.decode::<Vec<Listed>>("coordinators").unwrap_or_default() {
            known.insert(listed.id, listed.display_name);
        }
        for id in also {
            if id.is_empty() || known.contains_key(*id) || *id == me {
                continue;
            }
            let user =
                ask(backend, viewer, "query($id: ID!) { user(id: $id) { displayName } }", json!({ "id": id })).await;
            if let Some(name) = user.data["user"]["displayName"].as_str() {
                known.insert((*id).to_owned(), name.to_owned());
            }
        }
        Names { me, known }
    }

    /// Someone's name, "you" for the person looking.
    fn name(&self, id: &str) -> String {
        if id == self.me {
            return "you".to_owned();
        }
        self.known.get(id).cloned().unwrap_or_else(|| "someone no longer in the hub".to_owned())
    }
}

fn steps_words(count: usize) -> String {
    match count {
        0 => "Nothing recorded yet".to_owned(),
        1 => "1 step recorded".to_owned(),
        n => format!("{n} steps recorded"),
    }
}

const LIST_QUERY: &str = "{ mine: safeguardingDisclosures { id hubName flaggedOn urgency actionsRecorded lastActionOn \
    item { text saidOn } } \
    others: safeguardingWithOthers { hubName flaggedOn coordinatorId actionsRecorded } \
    dealt: safeguardingDisclosures(dealtWith: true) { id hubName outcome closedOn item { saidOn } } }";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListAnswer {
    mine: Vec<Disclosure>,
    others: Vec<WithOthers>,
    dealt: Vec<Disclosure>,
}

/// `GET /safeguarding`: the disclosures with you, most urgent first; who has the others of
/// your hubs; those dealt with.
pub async fn list<B: Backend>(
    State(backend): State<B>,
    SignedInAs { viewer, csrf, .. }: SignedInAs<SafeguardingLeads>,
    flashed: Flashed,
) -> Response {
    let csrf = csrf.as_str();
    let answer = ask(&backend, &viewer, LIST_QUERY, json!({})).await;
    let Ok(found) = answer.read::<ListAnswer>("safeguarding") else {
        let body = html! { h1 { "Safeguarding" } p { (crate::backend::UNDECODABLE) } };
        return (StatusCode::INTERNAL_SERVER_ERROR, page(&viewer, "Safeguarding", Some(csrf), body)).into_response();
    };
    let mut names: HashMap<String, String> = HashMap::new();
    for hub in &viewer.actor.hubs {
        for (id, name) in coordinator_choices(&backend, &viewer, hub).await.unwrap_or_default() {
            names.insert(id, name);
        }
    }
    let open = found.mine.len();
    let body = html! {
        @if let Some(notice) = flashed.notice() { (flash::notice(notice)) }
        h1 { "Safeguarding" }
        p class="lead" { "Disclosures of risk sent to you, because you have a duty of care. Follow your safeguarding procedure for each one and record here what was done. Nobody else can see what was said or what you record; none of it is ever shared, published, searched or counted in a report." }
        p class="count" {
            @match open {
                0 => { "Nothing is waiting with you." }
                1 => { strong { "1 disclosure" } " is open with you." }
                n => { strong { (n) " disclosures" } " are open with you." }
            }
        }
        @for (urgency, heading) in URGENCIES {
            @let group: Vec<&Disclosure> = found.mine.iter().filter(|d| d.urgency == urgency).collect();
            @if !group.is_empty() {
                section aria-labelledby={ "urgency-" (urgency) } {
                    h2 id={ "urgency-" (urgency) } { (heading) " (" (group.len()) ")" }
                    @for disclosure in group {
                        @let id = disclosure.id.as_str();
                        article class="card item safeguarding-item" id={ "disclosure-" (id) } aria-labelledby={ "disclosure-title-" (id) } {
                            h3 id={ "disclosure-title-" (id) } class="item-title" {
                                a href={ "/safeguarding/" (id) } { (disclosure.hub_name.as_deref().unwrap_or("")) ", said on " (day_words(&disclosure.item.said_on)) }
                            }
                            blockquote { p { (disclosure.item.text.as_deref().unwrap_or("(consent withdrawn: the words are no longer kept for use)")) } }
                            p class="meta" {
                                "Flagged " (day_words(&disclosure.flagged_on)) ". " (steps_words(disclosure.actions_recorded))
                                @if let Some(last) = &disclosure.last_action_on { ", the latest on " (day_words(last)) } "."
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="with-others" {
            h2 id="with-others" { "With other coordinators of your hubs" }
            @if found.others.is_empty() {
                p { "No open disclosure of your hubs is with anyone else." }
            } @else {
                p { "Who has them and how long they have waited. What was said stays with the coordinator who has it." }
                div class="table-scroll" {
                    table class="figures" {
                        caption { "Open disclosures with other coordinators" }
                        thead { tr { th scope="col" { "Hub" } th scope="col" { "Flagged" } th scope="col" { "With" } th scope="col" { "Steps recorded" } } }
                        tbody {
                            @for other in &found.others {
                                tr {
                                    td { (other.hub_name.as_deref().unwrap_or("")) }
                                    td { (day_words(&other.flagged_on)) }
                                    td { (names.get(&other.coordinator_id).map_or("someone no longer in the hub", String::as_str)) }
                                    td { (other.actions_recorded) }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="dealt-with" {
            h2 id="dealt-with" { "Dealt with" }
            @if found.dealt.is_empty() {
                p { "None of the disclosures with you has been marked dealt with yet." }
            } @else {
                ul class="case-list" {
                    @for disclosure in &found.dealt {
                        li {
                            a href={ "/safeguarding/" (disclosure.id) } { (disclosure.hub_name.as_deref().unwrap_or("")) ", said on " (day_words(&disclosure.item.said_on)) }
                            span class="meta" {
                                "Dealt with " (day_words(disclosure.closed_on.as_deref().unwrap_or(""))) ". "
                                (words(&OUTCOMES, disclosure.outcome.as_deref().unwrap_or("")))
                            }
                        }
                    }
                }
            }
        }
    };
    no_store(page(&viewer, "Safeguarding", Some(csrf), body).into_response())
}

const DISCLOSURE_QUERY: &str = "query($id: ID!) { safeguardingDisclosure(id: $id) { id hub hubName flaggedOn \
    flaggedBy coordinatorId urgency open outcome closedOn item { text saidOn consent } \
    followUp { kind step on by toCoordinator outcome notes notesErased } } }";

/// One entry of the timeline: the day, what happened, who recorded it and the notes.
struct TimelineEntry {
    on: String,
    heading: String,
    by: String,
    notes: String,
}

fn timeline(disclosure: &Disclosure, names: &Names) -> Vec<TimelineEntry> {
    disclosure
        .follow_up
        .iter()
        .map(|entry| {
            let heading = match entry.kind.as_str() {
                "ACTION" => words(&STEPS, entry.step.as_deref().unwrap_or("")).replace(" (say what in the notes)", ""),
                "HANDED_OVER" => format!("Handed to {}", names.name(entry.to_coordinator.as_deref().unwrap_or(""))),
                _ => format!(
                    "Marked dealt with. Outcome: {}",
                    words(&OUTCOMES, entry.outcome.as_deref().unwrap_or(""))
                        .replace(" (say what in the notes)", "")
                        .to_lowercase()
                ),
            };
            let notes = match (&entry.notes, entry.notes_erased) {
                (Some(notes), _) => notes.clone(),
                (None, true) => "(the notes were erased with the person)".to_owned(),
                (None, false) => String::new(),
            };
            TimelineEntry { on: day_words(&entry.on), heading, by: names.name(&entry.by), notes }
        })
        .collect()
}

/// What stands now, in words.
fn standing(disclosure: &Disclosure) -> String {
    if disclosure.open {
        let waited = words(&URGENCIES, &disclosure.urgency).to_lowercase();
        format!("Open: {waited}")
    } else {
        let outcome =
            words(&OUTCOMES, disclosure.outcome.as_deref().unwrap_or("")).replace(" (say what in the notes)", "");
        format!("Dealt with {}. {outcome}", day_words(disclosure.closed_on.as_deref().unwrap_or("")))
    }
}

/// The disclosure's page, with the forms for what can still be done; `values` are what was
/// posted, kept after an error.
async fn disclosure_page<B: Backend>(
    backend: &B,
    viewer: &Viewer,
    csrf: &str,
    id: &str,
    errors: &Errors,
    done: Option<&Flash>,
    values: &[(String, String)],
) -> Result<Markup, Response> {
    let answer = ask(backend, viewer, DISCLOSURE_QUERY, json!({ "id": id })).await;
    let found = if answer.errors.is_empty() { answer.decode::<Disclosure>("safeguardingDisclosure") } else { None };
    let Some(disclosure) = found else {
        let body = html! {
            h1 { "Disclosure not found" }
            p { "There is no disclosure here that is with you. If you handed it over, it is with the other coordinator now." }
            p { a href="/safeguarding" { "Back to safeguarding" } }
        };
        return Err((StatusCode::NOT_FOUND, page(viewer, "Disclosure not found", Some(csrf), body)).into_response());
    };
    let mut mentioned: Vec<&str> = vec![disclosure.flagged_by.as_str()];
    mentioned.extend(disclosure.follow_up.iter().map(|entry| entry.by.as_str()));
    mentioned.extend(disclosure.follow_up.iter().filter_map(|entry| entry.to_coordinator.as_deref()));
    let names = Names::of(backend, viewer, &disclosure.hub, &mentioned).await;
    let others: Option<Vec<(String, String)>> = if disclosure.open {
        coordinator_choices(backend, viewer, &disclosure.hub)
            .await
            .map(|all| all.into_iter().filter(|(coordinator, _)| *coordinator != disclosure.coordinator_id).collect())
    } else {
        None
    };
    let kept = |key: &str| value_of(values, key);
    let on_typed =
        Some(kept("action_on")).filter(|typed| !typed.is_empty()).unwrap_or_else(|| heard_api::today().to_string());
    let hub_name = disclosure.hub_name.clone().unwrap_or_default();
    let consent = disclosure.item.consent.clone().unwrap_or_default();
    let entries = timeline(&disclosure, &names);
    let on_hint = format!(
        "Today unless you change it. Not before it was flagged on {}, and not in the future.",
        day_words(&disclosure.flagged_on)
    );
    let body = html! {
        (forms::summary(errors))
        @if let Some(done) = done { (flash::notice(done)) }
        p { a href="/safeguarding" { "Safeguarding" } }
        h1 { "Disclosure: " (hub_name) ", said on " (day_words(&disclosure.item.said_on)) }
        blockquote class="said" { p { (disclosure.item.text.as_deref().unwrap_or("(consent withdrawn: the words are no longer kept for use)")) } }
        dl class="summary-list" {
            div { dt { "Where it stands" } dd { (standing(&disclosure)) } }
            div { dt { "Flagged" } dd { (day_words(&disclosure.flagged_on)) ", by " (names.name(&disclosure.flagged_by)) } }
            div { dt { "With" } dd { (names.name(&disclosure.coordinator_id)) } }
            div { dt { "They agreed it could go to" } dd { (crate::consent::consent_words(&consent).to_lowercase()) } }
        }
        h2 { "What was done" }
        @if entries.is_empty() { p { "Nothing recorded yet." } }
        ol class="timeline" {
            @for entry in &entries {
                li {
                    strong { (day_words(&entry.on)) " · " (entry.heading) }
                    p class="meta" { "Recorded by " (entry.by) }
                    @if !entry.notes.is_empty() { p { (entry.notes) } }
                }
            }
        }
        @if disclosure.open {
            h2 { "Record what was done" }
            form method="post" action={ "/safeguarding/" (disclosure.id) "/action" } novalidate {
                (csrf_field(csrf))
                (forms::choices(Choices { id: "step", legend: "What was done?", multiple: false, options: options(&STEPS), chosen: vec![kept("step")], hint: None }, errors))
                (forms::day_input("action_on", "When did it happen?", &on_typed, Some(&on_hint), errors))
                (forms::textarea("notes", "Notes", &kept("notes"), Some("What was done, heard and agreed. Only the coordinator who has this disclosure can read them."), errors))
                button class="button" type="submit" { "Save to the follow-up" }
            }
            h2 { "Mark it dealt with" }
            form method="post" action={ "/safeguarding/" (disclosure.id) "/close" } novalidate {
                (csrf_field(csrf))
                (forms::choices(Choices { id: "outcome", legend: "What came of it?", multiple: false, options: options(&OUTCOMES), chosen: vec![kept("outcome")], hint: None }, errors))
                (forms::textarea("close_notes", "Notes (optional)", &kept("close_notes"), None, errors))
                button class="button" type="submit" { "Mark dealt with" }
            }
            details class="handover" open[errors.of("coordinator_id").is_some() || errors.of("handover_notes").is_some()] {
                summary { "Hand it to another coordinator of " (hub_name) }
                @match &others {
                    Some(others) if !others.is_empty() => {
                        form method="post" action={ "/safeguarding/" (disclosure.id) "/handover" } novalidate {
                            (csrf_field(csrf))
                            (forms::select("coordinator_id", "Which coordinator?", &with_nobody_chosen(others), &kept("coordinator_id"), errors))
                            (forms::textarea("handover_notes", "What they need to know (optional)", &kept("handover_notes"), Some("Once handed over, it is theirs alone to see and follow up."), errors))
                            button class="button button--secondary" type="submit" { "Hand it over" }
                        }
                    }
                    Some(_) => { p { "There is no other coordinator of this hub to hand it to." } }
                    None => { p { "The list of coordinators could not be read just now. Try again later." } }
                }
            }
        }
        @if !crate::consent::narrower_consents(&consent).is_empty() {
            h2 { "If they change what they agreed to" }
            p { "If the person tells you they want less of it used, or none of it, record that here. It stays with you for safeguarding either way." }
            (crate::consent::consent_form(csrf, &format!("/safeguarding/{}/consent", disclosure.id), &disclosure.id, &disclosure.hub, &consent, errors))
        }
    };
    let title = if errors.is_empty() { "Disclosure" } else { "Error: Disclosure" };
    Ok(page(viewer, title, Some(csrf), body))
}

/// `GET /safeguarding/{id}`.
pub async fn show<B: Backend>(
    State(backend): State<B>,
    Path(id): Path<String>,
    SignedInAs { viewer, csrf, .. }: SignedInAs<SafeguardingLeads>,
    flashed: Flashed,
) -> Response {
    let mut errors = Errors::default();
    flashed.add_error_to(&mut errors);
    match disclosure_page(&backend, &viewer, &csrf, &id, &errors, flashed.notice(), &[]).await {
        Ok(page) => no_store(page.into_response()),
        Err(response) => response,
    }
}

/// The GraphQL a form on the disclosure page runs, and what to say once it has.
#[derive(Debug, PartialEq)]
struct Step {
    mutation: &'static str,
    selection: &'static str,
    input: Value,
    done: &'static str,
}

/// A day as typed on the form, as the API takes it (none: today), or what was wrong with it.
fn typed_on(typed: &str) -> Result<Option<String>, String> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(None);
    }
    typed_day(typed).map(Some)
}

/// A form of the disclosure page as the request it makes, or the errors beside its fields.
fn step_request(step: &str, id: &str, fields: &[(String, String)]) -> Result<Step, Errors> {
    let mut errors = Errors::default();
    let field = |key: &str| value_of(fields, key).trim().to_owned();
    let notes = |key: &str| Some(value_of(fields, key)).filter(|notes| !notes.trim().is_empty());
    let request = match step {
        "action" => {
            errors.require_one_of("step", &field("step"), &STEPS, "Choose what was done");
            let on = typed_on(&field("action_on")).unwrap_or_else(|wrong| {
                errors.add("action_on", wrong);
                None
            });
            Step {
                mutation: "recordSafeguardingAction",
                selection: "id",
                input: json!({ "itemId": id, "step": field("step"), "on": on, "notes": notes("notes") }),
                done: SAVED,
            }
        }
        "close" => {
            errors.require_one_of("outcome", &field("outcome"), &OUTCOMES, "Choose what came of it");
            Step {
                mutation: "closeSafeguarding",
                selection: "id",
                input: json!({ "itemId": id, "outcome": field("outcome"), "notes": notes("close_notes") }),
                done: DEALT_WITH,
            }
        }
        "handover" => {
            errors.require("coordinator_id", &field("coordinator_id"), "Choose the coordinator to hand it to");
            Step {
                mutation: "handSafeguardingOver",
                selection: "itemId",
                input: json!({ "itemId": id, "coordinatorId": field("coordinator_id"), "notes": notes("handover_notes") }),
                done: HANDED_OVER,
            }
        }
        _ => return Err(Errors::at_top(forms::NO_SUCH_STEP)),
    };
    errors.or_ok(request)
}

/// The disclosure page again after a refused form: the errors beside their fields and what was
/// typed still there (a 422 never kept by a cache), or its not-found page.
async fn refused<B: Backend>(
    backend: &B,
    viewer: &Viewer,
    csrf: &str,
    id: &str,
    errors: &Errors,
    values: &[(String, String)],
) -> Response {
    match disclosure_page(backend, viewer, csrf, id, errors, None, values).await {
        Ok(page) => no_store((StatusCode::UNPROCESSABLE_ENTITY, page).into_response()),
        Err(response) => response,
    }
}

/// Records that the person narrowed or withdrew their consent, then back to the disclosure.
async fn change_consent<B: Backend>(
    backend: &B,
    viewer: &Viewer,
    csrf: &str,
    id: &str,
    fields: &[(String, String)],
) -> Response {
    let field = format!("consent-{id}");
    let mut errors = Errors::default();
    match crate::consent::posted_consent(&crate::extract::Fields(fields.to_vec()), id) {
        None => errors.add(&field, "Choose who may see it now"),
        Some(consent) => {
            let answer = ask(
                backend,
                viewer,
                "mutation($id: ID!, $c: ConsentChange!) { changeConsent(id: $id, consent: $c) { id } }",
                json!({ "id": id, "c": consent }),
            )
            .await;
            if answer.errors.is_empty() {
                let back = format!("/safeguarding/{id}");
                return flash::redirect(backend, viewer, &back, Flash::notice(CONSENT_CHANGED));
            }
            errors.add_answer(&answer.errors, |_| field.clone());
        }
    }
    refused(backend, viewer, csrf, id, &errors, fields).await
}

/// For each form of the disclosure page (step), the id on the page of the field an API error
/// names.
const PAGE_FIELDS: [(&str, &str, &str); 7] = [
    ("action", "step", "step"),
    ("action", "on", "action_on"),
    ("action", "notes", "notes"),
    ("close", "outcome", "outcome"),
    ("close", "notes", "close_notes"),
    ("handover", "coordinator_id", "coordinator_id"),
    ("handover", "notes", "handover_notes"),
];

fn page_field(step: &str, api_field: Option<&str>) -> String {
    forms::step_field(&PAGE_FIELDS, step, api_field)
}

/// `POST /safeguarding/{id}/{step}`: the step, then back to the disclosure (after handing it
/// over, to the safeguarding page: it is no longer yours to see).
pub async fn act<B: Backend>(
    State(backend): State<B>,
    Path((id, step)): Path<(String, String)>,
    PostedFormAs { viewer, csrf, form: fields, .. }: PostedFormAs<SafeguardingLeads, Vec<(String, String)>>,
) -> Response {
    if step == "consent" {
        return change_consent(&backend, &viewer, &csrf, &id, &fields).await;
    }
    let errors = match step_request(&step, &id, &fields) {
        Ok(request) => {
            let answer = submit(&backend, &viewer, request.mutation, request.selection, request.input).await;
            if answer.errors.is_empty() {
                // Once handed over it is no longer this coordinator's to see: back to the list.
                let back = if step == "handover" { "/safeguarding".to_owned() } else { format!("/safeguarding/{id}") };
                return flash::redirect(&backend, &viewer, &back, Flash::notice(request.done));
            }
            let mut errors = Errors::default();
            errors.add_answer(&answer.errors, |api_field| page_field(&step, api_field));
            errors
        }
        Err(errors) => errors,
    };
    refused(&backend, &viewer, &csrf, &id, &errors, &fields).await
}

/// `POST /report-back/consent`: where the consent form of the safeguarding queue used to post
/// when it was part of "Report back"; a form still open in someone's browser keeps working.
pub async fn old_consent<B: Backend>(
    State(backend): State<B>,
    PostedFormAs { viewer, csrf, form: fields, .. }: PostedFormAs<SafeguardingLeads, Vec<(String, String)>>,
) -> Response {
    let id = value_of(&fields, "id");
    change_consent(&backend, &viewer, &csrf, &id, &fields).await
}

/// This page's routes.
pub fn routes<B: Backend>() -> axum::Router<B> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/safeguarding", get(list::<B>))
        .route("/safeguarding/{id}", get(show::<B>))
        .route("/safeguarding/{id}/{step}", post(act::<B>))
        .route("/report-back/consent", post(old_consent::<B>))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::testing::{fields, posted};

    #[test]
    fn a_step_is_sent_on_the_day_typed_the_uk_way_or_today_when_left_empty() {
        let action = |on: &str| {
            step_request("action", "d1", &posted(&[("step", "SPOKE_TO_PERSON"), ("action_on", on), ("notes", "Rang")]))
        };
        assert_eq!(action("").unwrap().input["on"], Value::Null, "empty is today, the API's default");
        assert_eq!(action("4/12/2026").unwrap().input["on"], "2026-12-04");
        assert_eq!(action("2026-12-04").unwrap().input["on"], "2026-12-04");
        let request = action("04.12.2026").unwrap();
        assert_eq!(request.mutation, "recordSafeguardingAction");
        assert_eq!(
            request.input,
            json!({ "itemId": "d1", "step": "SPOKE_TO_PERSON", "on": "2026-12-04", "notes": "Rang" })
        );
        assert_eq!(action("4 December 2026").unwrap().input["on"], "2026-12-04", "as people write it in words");
        for nonsense in ["31/2/2026", "yesterday", "4/13/2026"] {
            assert_eq!(fields(&action(nonsense).unwrap_err()), ["action_on"], "{nonsense}");
        }
        let wrong = action("30/2/2026").unwrap_err();
        assert_eq!(wrong.of("action_on"), Some("30 February 2026 does not exist"), "worded as on every form");
    }

    #[test]
    fn each_form_names_what_is_missing_beside_its_own_field_and_a_forged_choice_is_no_choice() {
        assert_eq!(fields(&step_request("action", "d1", &[]).unwrap_err()), ["step"]);
        assert_eq!(fields(&step_request("action", "d1", &posted(&[("step", "PRAYED")])).unwrap_err()), ["step"]);
        assert_eq!(fields(&step_request("close", "d1", &[]).unwrap_err()), ["outcome"]);
        assert_eq!(fields(&step_request("close", "d1", &posted(&[("outcome", "FINE")])).unwrap_err()), ["outcome"]);
        assert_eq!(
            fields(&step_request("handover", "d1", &posted(&[("coordinator_id", " ")])).unwrap_err()),
            ["coordinator_id"]
        );
        assert!(step_request("delete", "d1", &[]).is_err());
    }

    #[test]
    fn marking_it_dealt_with_sends_the_outcome_chosen_and_empty_notes_as_none() {
        let request =
            step_request("close", "d1", &posted(&[("outcome", "REFERRED_ON"), ("close_notes", "  ")])).unwrap();
        assert_eq!(request.input, json!({ "itemId": "d1", "outcome": "REFERRED_ON", "notes": null }));
        assert_eq!(request.done, DEALT_WITH);
    }

    #[test]
    fn an_api_error_lands_beside_the_field_of_the_form_that_was_posted() {
        assert_eq!(page_field("action", Some("input.on")), "action_on");
        assert_eq!(page_field("action", Some("input.notes")), "notes");
        assert_eq!(page_field("close", Some("input.notes")), "close_notes");
        assert_eq!(page_field("handover", Some("input.coordinatorId")), "coordinator_id");
        assert_eq!(page_field("handover", Some("input.notes")), "handover_notes");
        assert_eq!(page_field("close", Some("input.itemId")), "", "a field not on the form goes to the top");
    }

    #[test]
    fn the_choice_of_coordinators_starts_with_nobody_chosen() {
        let choices = with_nobody_chosen(&[("c1".into(), "Alex".into()), ("me".into(), "Sam (you)".into())]);
        assert_eq!(choices[0], (String::new(), "Choose a coordinator".to_owned()));
        assert_eq!(choices.len(), 3);
        let list =
            forms::select("coordinator-i1", "Which coordinator?", &choices, "", &Errors::default()).into_string();
        assert!(list.contains(r#"<option value="" selected>Choose a coordinator</option>"#), "{list}");
        assert!(!list.contains(r#"value="me" selected"#), "not the person sending it by default: {list}");
    }
}
