//! A person's rights over what Heard holds about them (issue #18), for the people who hold
//! their records: a hub's coordinators, their advocate, the complaints team.
//!
//! - On a record's own page ([`record`]): a feedback item's (for the hub's coordinators), a
//!   case's (for its advocate) and a complaint's (for the complaints team), a section that says
//!   whose record it is, by *person code* ("This is a new person", or "Same person as code …"),
//!   so that if the person asks, everything about them can be shown to them or erased together.
//!   A complaint's page also holds the complaint's words as the provider will read them: none
//!   until the complaints team reviews them, then a version with names and details taken out
//!   (`redactComplaintForProvider`) or, when there is nothing to take out, the words as written
//!   (`releaseComplaintWordsToProvider`). An erased record says so, with its facts, never an
//!   error page.
//! - `/people` ([`held`]): find a person by their code; `/people/{code}`: what Heard holds about
//!   them (`subjectAccess`), as a page to read or print, and `/people/{code}/held.json`, the
//!   same answer as a file.
//! - `/people/{code}/erase` ([`erase`]): what erasing means, a required confirmation, check
//!   your answers, then `eraseSubject`, once however often the form is sent, and a page that
//!   says how many records were erased.
//!
//! Nothing here widens what anyone sees: every page asks GraphQL as the person looking, and a
//! person the API does not let them act for (`NOT_FOUND`) is the site's "Page not found",
//! exactly as a code that does not exist, never repeating the code. Every form carries the
//! session's CSRF token ([`PostedForm`]) and a form another website made the browser send is
//! refused before anything is asked ([`from_another_site`]).
//!
//! The agreed GraphQL names are the contract; which fields the held records carry is each
//! service's own, so the subject access page reads them from the schema itself ([`schema`])
//! and shows every one in words.

mod erase;
mod held;
mod record;
mod schema;
#[cfg(test)]
mod tests;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use heard_access::Action;
use heard_api::Viewer;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::Backend;
use crate::backend::{Answer, ask};
use crate::extract::{PostedForm, SignedIn, Visitor};
use crate::flash::{self, Flash, Flashed};
use crate::forms::{self, Errors, Input, csrf_field, form_page};
use crate::kit::{attachment, day_words, no_store, plain, see_other};
use crate::layout::page;

pub(crate) use erase::Erasures;
pub(crate) use record::{Record, rights_section};

/// Who the pages here are for, in the words of the "This page is for …" page.
const WHOSE: &str =
    "the people who keep someone's records for them: hub coordinators, advocates and the complaints team";

/// Whether the policy lets the viewer act for people at all
/// ([`heard_access::may_act_for_people`]).
pub(crate) fn acts_for_people(viewer: &Viewer) -> bool {
    heard_access::may_act_for_people(&viewer.actor)
}

/// The plain 403 for someone who does not act for people: none of the page's content or forms.
fn not_for_you(viewer: &Viewer, csrf: &str) -> Response {
    let body = html! {
        h1 { "This page is for " (WHOSE) }
        p { "What you can do is on your home page." }
        p { a href="/" { "Back to your tasks" } }
    };
    (StatusCode::FORBIDDEN, page(viewer, "Not available", Some(csrf), body)).into_response()
}

/// A person code as Heard writes it (`6f1c2a9e-…`, lower case), from what someone typed or an
/// address: spaces around it, capitals and braces are forgiven; anything else is no code.
pub(crate) fn person_code(typed: &str) -> Option<String> {
    let typed = typed.trim().trim_start_matches('{').trim_end_matches('}').trim();
    Uuid::try_parse(typed).ok().filter(|code| !code.is_nil()).map(|code| code.hyphenated().to_string())
}

/// The site's "Page not found", for a person the viewer may not act for, or no person at all:
/// the same page either way, never repeating the code.
async fn person_not_found(viewer: Viewer, csrf: String) -> Response {
    no_store(crate::pages::not_found(Visitor { viewer, csrf: Some(csrf) }).await)
}

/// Whether a browser was made to send this request by another website. `Sec-Fetch-Site`, which
/// browsers send and pages cannot change, decides when present; otherwise a named `Origin`
/// must be this host. A request that names neither (a script, or `Origin: null`) is left to the
/// CSRF token, which another website cannot read. The same rule as the server's own for
/// GraphQL and the login form.
pub(crate) fn from_another_site(headers: &HeaderMap) -> bool {
    let value = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    if let Some(site) = value("sec-fetch-site") {
        return !matches!(site, "same-origin" | "none");
    }
    match value(header::ORIGIN.as_str()) {
        None | Some("null") => false,
        Some(origin) => {
            let origin_host = origin.split_once("://").map(|(_, host)| host);
            let ours = [value(header::HOST.as_str()), value("x-forwarded-host")];
            !origin_host.is_some_and(|origin_host| ours.contains(&Some(origin_host)))
        }
    }
}

/// The answer to a form another website sent: nothing is changed.
fn refused_from_another_site() -> Response {
    (
        StatusCode::FORBIDDEN,
        "This form was sent from another website, so nothing was changed. Go to Heard and try again there.",
    )
        .into_response()
}

/// Whether GraphQL said the person or record is not there for the viewer.
fn not_found_answer(answer: &Answer) -> bool {
    answer.errors.iter().any(|(_, code, _)| matches!(code.as_deref(), Some("NOT_FOUND" | "FORBIDDEN")))
}

/// A timestamp the API sent (`2026-12-04T14:05:00Z`) as people read it: `4 December 2026 at
/// 14:05 UTC`; a day (`2026-12-04`) as `4 December 2026`; anything else as it came.
pub(crate) fn when_words(value: &str) -> String {
    if let Ok(at) = value.parse::<jiff::Timestamp>() {
        return at.strftime("%-d %B %Y at %H:%M UTC").to_string();
    }
    day_words(value)
}

/// Records, counted in words: "1 feedback item", "2 cases", "no complaints".
fn counted(n: usize, one: &str, many: &str) -> String {
    match n {
        0 => format!("no {many}"),
        1 => format!("1 {one}"),
        n => format!("{n} {many}"),
    }
}

/// This area's routes.
pub fn routes<B: Backend>() -> axum::Router<B> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/people", get(held::find))
        .route("/people/{code}", get(held::show::<B>))
        .route("/people/{code}/held.json", get(held::download::<B>))
        .route("/people/{code}/erase", get(erase::explain::<B>).post(erase::post::<B>))
        .route("/people/{code}/erase/check", get(erase::check::<B>))
        .route("/people/{code}/erased", get(erase::done::<B>))
        .route("/feedback/{id}/person", post(record::attribute::<B>).get(record::back_to_record))
        .route("/cases/{id}/person", post(record::attribute::<B>).get(record::back_to_record))
        .route("/complaints/{id}/person", post(record::attribute::<B>).get(record::back_to_record))
        .route("/complaints/{id}/provider-words", post(record::provider_words::<B>).get(record::back_to_record))
        .route(
            "/complaints/{id}/provider-words/as-written",
            post(record::provider_words_as_written::<B>).get(record::back_to_record),
        )
}
