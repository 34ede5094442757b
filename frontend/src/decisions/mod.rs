//! A commissioner's decisions ("we did") and the evidence behind each ("you said"): the list,
//! proposing one through a check-your-answers page, and one decision's page with its status,
//! milestones, progress, outcome reviews and evidence links. The evidence picker is a plain GET
//! search over the feedback shared with commissioners, with a "Link this" form per result; a
//! small script (`/assets/picker.js`) adds search-as-you-type on top, and everything works
//! without it.
//!
//! One module per step: [`list`](mod@list), [`propose`](mod@propose), [`show`](mod@show) (one decision's page) and [`steps`]
//! (the changes posted from it). They share this module's words and imports (`use super::*`).

mod list;
mod propose;
mod show;
mod steps;
#[cfg(test)]
mod tests;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use heard_access::Action;
use heard_api::Viewer;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Backend;
use crate::backend::{UNDECODABLE, Undecodable, ask, submit};
use crate::extract::{Commissioners, PostedFormAs, SignedIn, SignedInAs};
use crate::forms::{self, Choices, Errors, Input, csrf_field, form_page, value_of};
use crate::kit::{Connection, Highlight, field_id, highlighted, may, plain, see_other, today, urlencode};
use crate::layout::page;

use self::{list::*, propose::*, show::*, steps::*};

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

/// This page's routes.
pub fn routes<B: Backend>() -> axum::Router<B> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/decisions", get(list::<B>))
        .route("/decisions/new", get(new_form).post(propose::<B>))
        .route("/decisions/new/check", get(check_form))
        .route("/decisions/{id}", get(show::<B>))
        .route("/decisions/{id}/{step}", post(act::<B>))
}
