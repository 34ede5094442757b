//! Recording a forum meeting at the end of meeting mode: the date, how many came, and the
//! minutes (which stay in the hub).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use crate::Backend;
use crate::backend::submit;
use crate::extract::{PostedForm, SignedIn};
use crate::forms::{self, Errors, Input, form_page};
use crate::kit::{field_id, plain};

#[derive(Clone, Debug, Default, Deserialize)]
pub struct MeetingForm {
    #[serde(default)]
    hub: String,
    #[serde(default)]
    held_on: String,
    #[serde(default)]
    attendance: String,
    #[serde(default)]
    minutes: String,
}

fn meeting_page(viewer: &heard_api::Viewer, csrf: &str, form: &MeetingForm, errors: &Errors, done: bool) -> Markup {
    let hubs: Vec<(String, String)> = viewer.actor.hubs.iter().map(|h| (h.clone(), h.replace('-', " "))).collect();
    let body = html! {
        @if done { div class="notice" role="status" { p { "The meeting is recorded." } } }
        h1 { "Record the meeting" }
        form method="post" action="/meetings/new" novalidate {
            input type="hidden" name="csrf_token" value=(csrf);
            (forms::select("hub", "Hub", &hubs, &form.hub, errors))
            (forms::input(Input { id: "held_on", label: "When was it?", kind: "date", value: &form.held_on, hint: Some("For example, 2026-11-23"), autocomplete: None }, errors))
            (forms::input(Input { id: "attendance", label: "How many people came?", kind: "text", value: &form.attendance, hint: None, autocomplete: Some("off") }, errors))
            (forms::textarea("minutes", "Minutes (optional)", &form.minutes, Some("They stay in the hub."), errors))
            button class="button" type="submit" { "Record the meeting" }
        }
    };
    form_page(viewer, "Record the meeting", Some(csrf), errors, body)
}

/// `GET /meetings/new`.
pub async fn form(SignedIn { viewer, csrf }: SignedIn) -> Response {
    let csrf = csrf.as_str();
    let form = MeetingForm { held_on: jiff::Zoned::now().date().to_string(), ..MeetingForm::default() };
    meeting_page(&viewer, csrf, &form, &Errors::default(), false).into_response()
}

/// `POST /meetings/new`: `recordMeeting`.
pub async fn record<B: Backend>(
    State(backend): State<B>,
    PostedForm { viewer, csrf, form }: PostedForm<MeetingForm>,
) -> Response {
    let csrf = csrf.as_str();
    let mut errors = Errors::default();
    let attendance = form.attendance.trim().parse::<i32>();
    if attendance.is_err() {
        errors.add("attendance", "Enter how many people came, as a number");
    }
    if let Ok(attendance) = attendance {
        let input =
            json!({ "hub": form.hub, "heldOn": form.held_on, "attendance": attendance, "minutes": form.minutes });
        let answer = submit(&backend, &viewer, "recordMeeting", "id", input).await;
        if answer.errors.is_empty() {
            return meeting_page(
                &viewer,
                csrf,
                &MeetingForm { hub: form.hub.clone(), ..MeetingForm::default() },
                &errors,
                true,
            )
            .into_response();
        }
        for (field, _, message) in answer.errors {
            errors.add(&field.as_deref().map(field_id).unwrap_or_default(), plain(&message));
        }
    }
    (StatusCode::UNPROCESSABLE_ENTITY, meeting_page(&viewer, csrf, &form, &errors, false)).into_response()
}

/// This page's routes.
pub fn routes<B: Backend>() -> axum::Router<B> {
    use axum::routing::get;
    axum::Router::new().route("/meetings/new", get(form).post(record::<B>))
}
