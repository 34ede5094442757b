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

/// Arnstein's ladder of participation: (rung, name, what it meant for people, in plain words).
/// Pages show the words, never "rung 5 of 8: placation" (the commissioning service's
/// `ladderWords` says the same).
pub(crate) const LADDER: [(u8, &str, &str); 8] = [
    (1, "Manipulation", "People who use services were there to be persuaded, not to be heard."),
    (2, "Therapy", "People who use services were treated as the problem to be fixed, not asked what should change."),
    (3, "Informing", "People who use services were told what had been decided, but not asked."),
    (4, "Consultation", "People's views were asked for, with no promise that they would change the decision."),
    (5, "Placation", "People's views were asked for and heard, but the decision stayed with the commissioner."),
    (6, "Partnership", "People who use services shared the planning and the decision with the commissioner."),
    (7, "Delegated power", "People who use services held most of the say in the decision."),
    (8, "Citizen control", "People who use services made the decision themselves."),
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

/// How far people who use services were involved, in words (for a rung of the ladder).
fn rung_words(rung: i64) -> String {
    LADDER
        .iter()
        .find(|(n, _, _)| i64::from(*n) == rung)
        .map_or_else(|| "Not recorded.".to_owned(), |(_, _, meaning)| (*meaning).to_owned())
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
