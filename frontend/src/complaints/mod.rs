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
use crate::kit::{Connection, field_id, may, no_store, null_as_default, plain, urlencode};
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
    complainant_name: Option<String>,
    complainant_contact: Option<String>,
    what_happened: Option<String>,
    outcome_wanted: Option<String>,
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
