//! Complaints under the Bill of Rights.
//!
//! - `/complaints`: a complaints handler's queue, open complaints ordered by how urgent their
//!   clock is, overdue ones marked, each with its due date and working days left, who it is
//!   assigned to and its next step; "Mine" (`?show=mine`: the open ones assigned to the handler
//!   looking) and closed complaints on tabs of their own. A provider responder sees the
//!   complaints about their own service, read-only and never who complained, with none of
//!   the complaint's words until the complaints team has reviewed them (the page says so in their
//!   place); an advocate the complaints they relayed.
//! - `/complaints/{id}`: one complaint, its clock and its history, with the handler's next steps.
//!   Steps that need an answer (acknowledge: how and when; agree a period; extend, and whether
//!   the person agreed; pause, outcome, escalate, learning, explain a delay; assign to a handler
//!   chosen by name) each have a page of their own, `/complaints/{id}/{step}`.
//! - `/complaints/new`: raise a complaint (hub members, coordinators, advocates, handlers), then
//!   check your answers, then record it. The answers travel in the form itself, so it works
//!   without JavaScript and nothing personal goes into a URL.
//!
//! Everything posts and comes back (post, redirect, get); errors sit beside their fields.
//!
//! One module per step: [`list`](mod@list) (the queue), [`work`] (one complaint and its step pages),
//! [`steps`] (what each of a handler's steps asks and sends) and [`raise`](mod@raise). They share this
//! module's words and imports (`use super::*`).

mod list;
mod raise;
mod steps;
#[cfg(test)]
mod tests;
mod work;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use heard_access::Action;
use heard_api::Viewer;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Backend;
use crate::backend::{UNDECODABLE, Undecodable, ask, submit};
use crate::extract::{ComplaintRaisers, PostedForm, PostedFormAs, SignedIn, SignedInAs};
use crate::flash::{self, Flash, Flashed};
use crate::forms::{self, Choices, Errors, Input, csrf_field, form_page, options, value_of, words};
use crate::kit::{Connection, day_words, field_id, may, no_store, null_as_default, plain, typed_day, urlencode};
use crate::layout::page;

use self::{list::*, raise::*, steps::*, work::*};

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

/// How the person was told their complaint had been received; the timeline says "Acknowledged
/// by phone on 4 December 2026".
const ACKNOWLEDGEMENT_METHODS: [(&str, &str); 5] = [
    ("PHONE", "By phone"),
    ("LETTER", "By letter"),
    ("EMAIL", "By email"),
    ("IN_PERSON", "In person"),
    ("TEXT_MESSAGE", "By text message"),
];

/// Whether the person agreed to wait longer, asked with nothing chosen in advance.
const PERSON_AGREED: [(&str, &str); 2] =
    [("YES", "Yes, they agreed to wait longer"), ("NO", "No, they did not agree, or could not be asked")];

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

/// A complaint as the pages read it: the queue asks for `QUEUE_FIELDS`, a complaint's own page
/// for `DETAIL_FIELDS`; what a query leaves out reads as nothing.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Complaint {
    id: String,
    /// The short reference people quote, e.g. `EX-2026-0042`.
    reference: String,
    #[serde(deserialize_with = "null_as_default")]
    provider_name: String,
    service: Option<String>,
    received_on: String,
    stage: String,
    early_resolution: bool,
    #[serde(deserialize_with = "null_as_default")]
    outcome: String,
    #[serde(deserialize_with = "null_as_default")]
    closed_on: String,
    #[serde(deserialize_with = "null_as_default")]
    route: String,
    #[serde(deserialize_with = "null_as_default")]
    complainant_kind: String,
    /// The complaints handler working it (handlers and the relaying advocate see it).
    handler_id: Option<String>,
    /// How the acknowledgement was made (`PHONE`, …); "" before it, for one recorded before
    /// Heard asked, and for a provider.
    #[serde(deserialize_with = "null_as_default")]
    acknowledged_how: String,
    complainant_name: Option<String>,
    complainant_contact: Option<String>,
    what_happened: Option<String>,
    outcome_wanted: Option<String>,
    /// Why the words read nothing for the viewer, as a sentence to show in their place (a
    /// provider's, until the complaints team has reviewed them; anyone's, once erased).
    words_withheld: Option<String>,
    /// What the provider reads of the words: `AWAITING_REVIEW`, `REDACTED` or `AS_WRITTEN`.
    #[serde(deserialize_with = "null_as_default")]
    provider_words: String,
    agreed_working_days: Option<i64>,
    articles: Vec<Article>,
    clock: Clock,
    extensions: Vec<Extension>,
    pauses: Vec<Pause>,
    escalations: Vec<Escalation>,
    delay_explanations: Vec<String>,
    learning: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Article {
    number: u32,
    label: String,
}

/// A complaint's clock; the queue asks for less of it than a complaint's page.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Clock {
    stage: String,
    acknowledge_by: String,
    acknowledged_on: Option<String>,
    respond_by: Option<String>,
    responded_on: Option<String>,
    working_days_left: Option<i64>,
    overdue: bool,
    urgent: bool,
    paused: bool,
    response_period: Option<i64>,
    needs_explanation: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Extension {
    working_days: i64,
    reason: String,
    /// `None` for an extension recorded before Heard asked, and for a provider.
    #[serde(default)]
    person_agreed: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct Pause {
    from: String,
    until: Option<String>,
    reason: String,
}

#[derive(Debug, Deserialize)]
struct Escalation {
    to: String,
    reference: String,
}

fn clock_words(clock: &Clock) -> String {
    let acknowledgement = clock.stage == "ACKNOWLEDGEMENT";
    let what = if acknowledgement { "Acknowledgement" } else { "Response" };
    let due = if acknowledgement { clock.acknowledge_by.as_str() } else { clock.respond_by.as_deref().unwrap_or("") };
    let due = day_words(due);
    if clock.paused {
        return "The clock is paused".to_owned();
    }
    match clock.working_days_left {
        Some(left) if left < 0 => {
            format!("{what} overdue by {} working day{} (was due {due})", -left, if left == -1 { "" } else { "s" })
        }
        Some(0) => format!("{what} due today ({due})"),
        Some(left) => format!("{what} due {due} – {left} working day{} left", if left == 1 { "" } else { "s" }),
        None => "No clock running".to_owned(),
    }
}

fn articles_words(complaint: &Complaint) -> String {
    complaint.articles.iter().map(|a| format!("{} {}", a.number, a.label)).collect::<Vec<_>>().join(", ")
}

/// Whether the viewer works complaints (the policy's `HandleComplaint`).
fn is_handler(viewer: &Viewer) -> bool {
    may(viewer, Action::HandleComplaint)
}

/// A complaints handler as the directory of complaints handlers lists them.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Handler {
    id: String,
    display_name: String,
}

/// The complaints team by name, as (account id, name) with "(you)" after the viewer's own; `None`
/// when the directory could not be read (or the viewer may not see it: only handlers may).
async fn handlers<B: Backend>(backend: &B, viewer: &Viewer) -> Option<Vec<(String, String)>> {
    let answer = ask(backend, viewer, "{ complaintHandlers { id displayName } }", json!({})).await;
    if !answer.errors.is_empty() {
        return None;
    }
    let me = viewer.actor.account.map(|id| id.to_string()).unwrap_or_default();
    let found = answer.decode::<Vec<Handler>>("complaintHandlers")?;
    Some(named_handlers(found, &me))
}

/// The directory's handlers as (id, name), the viewer's own name marked "(you)".
fn named_handlers(found: Vec<Handler>, me: &str) -> Vec<(String, String)> {
    found
        .into_iter()
        .map(|handler| {
            let name = if handler.id == me { format!("{} (you)", handler.display_name) } else { handler.display_name };
            (handler.id, name)
        })
        .collect()
}

/// Who works a complaint, in words: their name from the directory, or that nobody does yet.
fn handler_words(handler_id: Option<&str>, names: &[(String, String)]) -> String {
    match handler_id {
        None => "Nobody yet".to_owned(),
        Some(id) => names
            .iter()
            .find(|(handler, _)| handler == id)
            .map_or_else(|| "Someone no longer in the complaints team".to_owned(), |(_, name)| name.clone()),
    }
}

/// Whether the viewer records complaints (the policy's `RaiseComplaint`).
fn may_raise(viewer: &Viewer) -> bool {
    may(viewer, Action::RaiseComplaint)
}

/// This page's routes.
pub fn routes<B: Backend>() -> axum::Router<B> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/complaints", get(queue::<B>))
        .route("/complaints/new", get(raise_form::<B>).post(raise_check::<B>))
        .route("/complaints/new/change", post(raise_change::<B>))
        .route("/complaints/new/submit", post(raise::<B>))
        .route("/complaints/raised", get(raised))
        .route("/complaints/{id}", get(detail::<B>))
        .route("/complaints/{id}/{step}", get(step_form::<B>).post(step::<B>))
}
