//! Meeting mode. A hub member starts the meeting first (the hub, the day, where), then logs each
//! point into it without retyping any of that: the meeting page holds the item form, the whole
//! quote of the item just saved, and the running list of what was logged in this meeting, with
//! "undo" for the last one and "edit" while nobody has moderated them. Recording how many came
//! and the minutes (which stay in the hub) ends it.
//!
//! - `GET /meetings`: start a meeting, and the meetings of the person's hubs (those still going
//!   first). `POST /meetings`: `startMeeting`.
//! - `GET /meetings/{id}`: the meeting. `POST /meetings/{id}/items`: `logFeedback` into it.
//! - `GET /meetings/{id}/end`, `POST`: `recordMeeting` with its id, which ends it.
//!
//! Another hub's meeting is "Page not found", exactly like one that does not exist.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use heard_api::Viewer;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use crate::Backend;
use crate::backend::{ask, submit};
use crate::extract::{PostedForm, SignedIn, Visitor};
use crate::forms::{self, Errors, Input, form_page};
use crate::kit::{no_store, today, urlencode};
use crate::logging::{self, AfterQuery, ITEM_FIELDS, ItemForm, LoggedItem, Setting};

/// A meeting as GraphQL gives it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Meeting {
    id: String,
    hub: String,
    held_on: String,
    place: Option<String>,
    is_open: bool,
    attendance: Option<u32>,
    minutes: Option<String>,
    items: Vec<LoggedItem>,
}

fn day(iso: &str) -> String {
    heard_contracts::day::written_iso(iso)
}

fn hub_name(reference: &logging::Reference, hub: &str) -> String {
    reference.hubs.iter().find(|(id, _)| id == hub).map_or_else(|| hub.to_owned(), |(_, name)| name.clone())
}

/// The meeting, if the person may see it (a member of its hub); `None` otherwise.
async fn meeting<B: Backend>(backend: &B, viewer: &Viewer, id: &str) -> Option<Meeting> {
    if uuid::Uuid::parse_str(id).is_err() {
        return None;
    }
    let query = format!(
        "query($id: ID!) {{ meeting(id: $id) {{ id hub heldOn place isOpen attendance minutes items {{ {ITEM_FIELDS} }} }} }}"
    );
    ask(backend, viewer, &query, json!({ "id": id })).await.decode::<Meeting>("meeting")
}

async fn not_found(viewer: Viewer, csrf: String) -> Response {
    crate::pages::not_found(Visitor { viewer, csrf: Some(csrf) }).await
}

/// What the start form holds.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct StartForm {
    #[serde(default)]
    hub: String,
    #[serde(default)]
    held_on: String,
    #[serde(default)]
    place: String,
    /// Its `clientMutationId` ([`forms::ONCE_FIELD`]): one meeting however often it is sent.
    #[serde(default)]
    client_mutation_id: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Meetings {
    edges: Vec<MeetingEdge>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MeetingEdge {
    node: Meeting,
}

async fn start_page<B: Backend>(backend: &B, viewer: &Viewer, csrf: &str, form: &StartForm, errors: &Errors) -> Markup {
    let reference = logging::reference(backend, viewer).await;
    let mut meetings: Vec<Meeting> = Vec::new();
    for (hub, _) in &reference.hubs {
        let answer = ask(
            backend,
            viewer,
            "query($hub: ID!) { meetings(hub: $hub, first: 10) { edges { node { id hub heldOn place isOpen attendance } } } }",
            json!({ "hub": hub }),
        )
        .await;
        meetings.extend(answer.decode::<Meetings>("meetings").unwrap_or_default().edges.into_iter().map(|e| e.node));
    }
    let open: Vec<&Meeting> = meetings.iter().filter(|m| m.is_open).collect();
    let recent: Vec<&Meeting> = meetings.iter().filter(|m| !m.is_open).take(10).collect();
    let body = html! {
        h1 { "Meetings" }
        @if !open.is_empty() {
            (meeting_list(("open-title", "Going on now"), &open, &reference, |meeting| {
                format!("Carry on: {}, {}", meeting.place.as_deref().unwrap_or("meeting"), day(&meeting.held_on))
            }))
        }
        section aria-labelledby="start-title" {
            h2 id="start-title" { "Start a meeting" }
            p { "Start the meeting first. Then log each point into it: the hub, the day and the place are filled in for you." }
            form method="post" action="/meetings" novalidate {
                input type="hidden" name="csrf_token" value=(csrf);
                (forms::once_field(&form.client_mutation_id))
                (forms::select("hub", "Hub", &reference.hubs, &form.hub, errors))
                (forms::day_input("held_on", "When is it?", &form.held_on, Some("Today unless you change it."), errors))
                (forms::input(Input { id: "place", label: "Where is it?", kind: "text", value: &form.place, hint: Some("For example: Worthing hub, upstairs room"), autocomplete: Some("off") }, errors))
                button class="button" type="submit" { "Start the meeting" }
            }
        }
        @if !recent.is_empty() {
            (meeting_list(("recent-title", "Recorded meetings"), &recent, &reference, |meeting| {
                format!("{}, {}", meeting.place.as_deref().unwrap_or("Meeting"), day(&meeting.held_on))
            }))
        }
    };
    form_page(viewer, "Meetings", Some(csrf), errors, body)
}

/// A section (its heading's id and words) listing `meetings`, each a link to its page in the
/// words `link` gives, then its hub and, once it is recorded, how many came.
fn meeting_list(
    (id, heading): (&str, &str),
    meetings: &[&Meeting],
    reference: &logging::Reference,
    link: impl Fn(&Meeting) -> String,
) -> Markup {
    html! {
        section aria-labelledby=(id) {
            h2 id=(id) { (heading) }
            ul class="plain-list" {
                @for meeting in meetings {
                    li {
                        a href={ "/meetings/" (meeting.id) } { (link(meeting)) }
                        " (" (hub_name(reference, &meeting.hub))
                        @if let (false, Some(attendance)) = (meeting.is_open, meeting.attendance) { ", " (people(attendance)) " came" }
                        ")"
                    }
                }
            }
        }
    }
}

fn people(count: u32) -> String {
    if count == 1 { "1 person".to_owned() } else { format!("{count} people") }
}

fn items_count(count: usize) -> String {
    if count == 1 { "1 item".to_owned() } else { format!("{count} items") }
}

/// `GET /meetings`.
pub async fn index<B: Backend>(State(backend): State<B>, SignedIn { viewer, csrf }: SignedIn) -> Response {
    let form = StartForm { held_on: today(), client_mutation_id: forms::new_once(), ..StartForm::default() };
    no_store(start_page(&backend, &viewer, &csrf, &form, &Errors::default()).await.into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Started {
    id: String,
}

/// `POST /meetings`: `startMeeting`, then the meeting page.
pub async fn start<B: Backend>(State(backend): State<B>, posted: PostedForm<StartForm>) -> Response {
    let PostedForm { viewer, csrf, mut form } = posted;
    form.client_mutation_id = forms::once_of(&form.client_mutation_id);
    let mut errors = Errors::default();
    errors.require("place", form.place.trim(), "Say where the meeting is");
    if errors.is_empty() {
        let input = json!({
            "hub": form.hub, "heldOn": form.held_on, "place": form.place, "clientMutationId": form.client_mutation_id,
        });
        let answer = submit(&backend, &viewer, "startMeeting", "id", input).await;
        if answer.errors.is_empty() {
            let started = answer.decode::<Started>("startMeeting").unwrap_or_default();
            return Redirect::to(&format!("/meetings/{}?done=started#text", urlencode(&started.id))).into_response();
        }
        if errors.add_answer_to_create(&answer.errors, forms::field_or_top) {
            form.client_mutation_id = forms::new_once();
        }
    }
    let page = start_page(&backend, &viewer, &csrf, &form, &errors).await;
    no_store((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

fn meeting_page(
    viewer: &Viewer,
    csrf: &str,
    meeting: &Meeting,
    reference: &logging::Reference,
    form: &ItemForm,
    errors: &Errors,
    after: (Option<&LoggedItem>, Option<&str>),
) -> Markup {
    let (logged, done) = after;
    let title = format!("{}, {}", meeting.place.as_deref().unwrap_or("Meeting"), day(&meeting.held_on));
    let last = meeting.items.last().map(|item| item.id.as_str());
    let body = html! {
        @if let Some(logged) = logged { (logging::confirmation(logged, csrf)) }
        @if let Some(done) = done { div class="notice" role="status" { p { (done) } } }
        p class="caption" { "Meeting of " (hub_name(reference, &meeting.hub)) }
        h1 { (title) }
        @if meeting.is_open {
            form method="post" action={ "/meetings/" (meeting.id) "/items" } novalidate {
                input type="hidden" name="csrf_token" value=(csrf);
                (form.fields(reference, errors, Setting::Meeting, logged.is_some() || done.is_some()))
                button class="button" type="submit" { "Save and log another" }
            }
        } @else {
            dl class="summary-list" {
                div { dt { "How many came" } dd { (people(meeting.attendance.unwrap_or(0))) } }
                div { dt { "Minutes" } dd class="prewrap" { (meeting.minutes.as_deref().filter(|m| !m.is_empty()).unwrap_or("None recorded")) } }
            }
        }
        section aria-labelledby="logged-title" {
            h2 id="logged-title" { "Logged in this meeting (" (items_count(meeting.items.len())) ")" }
            @if meeting.items.is_empty() {
                p { "Nothing yet." }
            } @else {
                ol class="running-list" {
                    @for item in &meeting.items {
                        li id={ "item-" (item.id) } {
                            blockquote class="quote" { (item.text.as_deref().unwrap_or("[no longer held]")) }
                            p class="meta" {
                                (logging::consent_words(&item.consent))
                                @for theme in &item.themes { " · " (theme.name) }
                            }
                            @let what = if Some(item.id.as_str()) == last { "the last item" } else { "this item" };
                            (logging::corrections(&LoggedItem { can_undo: item.can_undo && Some(item.id.as_str()) == last, ..item.clone() }, csrf, what))
                        }
                    }
                }
            }
        }
        @if meeting.is_open {
            section aria-labelledby="end-title" {
                h2 id="end-title" { "When the meeting is over" }
                p { a class="button button--secondary" href={ "/meetings/" (meeting.id) "/end" } { "Record attendance and minutes" } }
                p class="hint" { "This ends the meeting. Nothing more can be logged into it." }
            }
        }
        script src="/assets/themes.js" defer {}
    };
    form_page(viewer, &title, Some(csrf), errors, body)
}

/// `GET /meetings/{id}`.
pub async fn show<B: Backend>(
    State(backend): State<B>,
    Path(id): Path<String>,
    SignedIn { viewer, csrf }: SignedIn,
    Query(after): Query<AfterQuery>,
) -> Response {
    let Some(found) = meeting(&backend, &viewer, &id).await else { return not_found(viewer, csrf).await };
    let logged = match after.logged() {
        Some(item) => {
            logging::item(&backend, &viewer, item).await.filter(|item| item.meeting.as_deref() == Some(&found.id))
        }
        None => None,
    };
    let reference = logging::reference(&backend, &viewer).await;
    let page = meeting_page(
        &viewer,
        &csrf,
        &found,
        &reference,
        &ItemForm { once: forms::new_once(), ..ItemForm::default() },
        &Errors::default(),
        (logged.as_ref(), after.done()),
    );
    no_store(page.into_response())
}

/// `POST /meetings/{id}/items`: `logFeedback` into the meeting, then back to it with the whole
/// quote and the cursor in the text box.
pub async fn log<B: Backend>(State(backend): State<B>, Path(id): Path<String>, posted: PostedForm) -> Response {
    let PostedForm { viewer, csrf, form: fields } = posted;
    let Some(found) = meeting(&backend, &viewer, &id).await else { return not_found(viewer, csrf).await };
    let mut form = ItemForm::from_fields(&fields);
    let mut errors = Errors::default();
    if found.is_open {
        match logging::log_item(
            &backend,
            &viewer,
            &mut form,
            Setting::Meeting,
            Some((&found.id, &found.hub, &found.held_on)),
        )
        .await
        {
            Ok(item) => {
                return Redirect::to(&format!("/meetings/{}?logged={}#text", found.id, urlencode(&item)))
                    .into_response();
            }
            Err(refused) => errors = refused,
        }
    } else {
        errors.add("", "This meeting has ended. Start a new one to log more.");
    }
    let reference = logging::reference(&backend, &viewer).await;
    let page = meeting_page(&viewer, &csrf, &found, &reference, &form, &errors, (None, None));
    no_store((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// What the end form holds.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct EndForm {
    #[serde(default)]
    attendance: String,
    #[serde(default)]
    minutes: String,
}

fn end_page(viewer: &Viewer, csrf: &str, meeting: &Meeting, form: &EndForm, errors: &Errors) -> Markup {
    let body = html! {
        p class="caption" { (meeting.place.as_deref().unwrap_or("Meeting")) ", " (day(&meeting.held_on)) }
        h1 { "Record the meeting" }
        p { "This ends the meeting. " (items_count(meeting.items.len())) " were logged into it." }
        form method="post" action={ "/meetings/" (meeting.id) "/end" } novalidate {
            input type="hidden" name="csrf_token" value=(csrf);
            (forms::input(Input { id: "attendance", label: "How many people came?", kind: "text", value: &form.attendance, hint: Some("A number, for example 12"), autocomplete: Some("off") }, errors))
            (forms::textarea("minutes", "Minutes (optional)", &form.minutes, Some("They stay in the hub."), errors))
            button class="button" type="submit" { "Record the meeting" }
            " "
            a href={ "/meetings/" (meeting.id) } { "Back to the meeting" }
        }
    };
    form_page(viewer, "Record the meeting", Some(csrf), errors, body)
}

/// `GET /meetings/{id}/end`.
pub async fn end_form<B: Backend>(
    State(backend): State<B>,
    Path(id): Path<String>,
    SignedIn { viewer, csrf }: SignedIn,
) -> Response {
    let Some(found) = meeting(&backend, &viewer, &id).await else { return not_found(viewer, csrf).await };
    if !found.is_open {
        return Redirect::to(&format!("/meetings/{}", found.id)).into_response();
    }
    no_store(end_page(&viewer, &csrf, &found, &EndForm::default(), &Errors::default()).into_response())
}

/// `POST /meetings/{id}/end`: `recordMeeting` with the meeting's id, which ends it.
pub async fn end<B: Backend>(
    State(backend): State<B>,
    Path(id): Path<String>,
    posted: PostedForm<EndForm>,
) -> Response {
    let PostedForm { viewer, csrf, form } = posted;
    let Some(found) = meeting(&backend, &viewer, &id).await else { return not_found(viewer, csrf).await };
    if !found.is_open {
        return Redirect::to(&format!("/meetings/{}?done=ended", found.id)).into_response();
    }
    let mut errors = Errors::default();
    let attendance = form.attendance.trim().parse::<i32>();
    if form.attendance.trim().is_empty() {
        errors.add("attendance", "Enter how many people came");
    } else if attendance.is_err() {
        errors.add("attendance", "Enter how many people came, as a number");
    }
    if let Ok(attendance) = attendance {
        let input = json!({
            "meetingId": found.id, "hub": found.hub, "heldOn": found.held_on,
            "attendance": attendance, "minutes": form.minutes,
        });
        let answer = submit(&backend, &viewer, "recordMeeting", "id", input).await;
        if answer.errors.is_empty() {
            return Redirect::to(&format!("/meetings/{}?done=ended", found.id)).into_response();
        }
        errors.add_answer(&answer.errors, |api_field| {
            let field = forms::field_or_top(api_field);
            if matches!(field.as_str(), "attendance" | "minutes") { field } else { String::new() }
        });
    }
    no_store((StatusCode::UNPROCESSABLE_ENTITY, end_page(&viewer, &csrf, &found, &form, &errors)).into_response())
}

/// `GET /meetings/new`: where meeting mode starts (kept for old links and bookmarks).
async fn new_meeting() -> Redirect {
    Redirect::to("/meetings")
}

/// This page's routes.
pub fn routes<B: Backend>() -> axum::Router<B> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/meetings", get(index::<B>).post(start::<B>))
        .route("/meetings/new", get(new_meeting))
        .route("/meetings/{id}", get(show::<B>))
        .route("/meetings/{id}/items", post(log::<B>))
        .route("/meetings/{id}/end", get(end_form::<B>).post(end::<B>))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_as_people_say_them() {
        assert_eq!(people(1), "1 person");
        assert_eq!(people(12), "12 people");
        assert_eq!(items_count(1), "1 item");
        assert_eq!(items_count(0), "0 items");
    }

    #[test]
    fn a_meetings_day_is_shown_as_people_write_it() {
        assert_eq!(day("2026-12-04"), "4 December 2026");
    }
}
