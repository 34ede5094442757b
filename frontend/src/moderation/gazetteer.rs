//! `/moderation/gazetteer`: a hub's own list of names of people and places, which Heard marks
//! in what people said so that its coordinators can take them out before anything leaves the
//! hub. Kept by the hub's coordinators (the policy's `KeepGazetteer`), as events; it never
//! leaves the hub. Adding and taking off are plain forms.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use heard_access::Action;
use heard_api::Viewer;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use super::queue::coordinated_hubs;
use super::view::View;
use crate::Backend;
use crate::backend::{ask, submit};
use crate::extract::{HubCoordinators, PostedForm, SignedInAs};
use crate::flash::{self, Flash, Flashed, notice};
use crate::forms::{self, Choices, Errors};
use crate::kit::{field_id, no_store, plain, urlencode};
use crate::layout::page;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Entry {
    id: String,
    name: Option<String>,
    kind: String,
}

/// What was typed into the form to add an entry, to show again beside its errors.
#[derive(Debug, Default)]
struct Typed {
    name: String,
    kind: String,
}

const KINDS: [(&str, &str); 2] = [("PERSON", "A person"), ("PLACE", "A place")];

fn address(hub: &str) -> String {
    format!("/moderation/gazetteer?hub={}", urlencode(hub))
}

/// The page for `hub`: the form to add, and the list with a way to take each off.
#[allow(clippy::too_many_arguments)]
async fn render<B: Backend>(
    backend: &B,
    viewer: &Viewer,
    csrf: &str,
    hubs: &[(String, String)],
    hub: &str,
    typed: &Typed,
    errors: &Errors,
    flashed: &Flashed,
    status: StatusCode,
) -> Response {
    let answer =
        ask(backend, viewer, "query($h: ID!) { gazetteer(hub: $h) { id name kind } }", json!({ "h": hub })).await;
    if let Some((_, _, message)) = answer.errors.first() {
        let body = html! { h1 { "Names and places to take out" } p { (plain(message)) } };
        return (StatusCode::FORBIDDEN, page(viewer, "Names and places to take out", Some(csrf), body)).into_response();
    }
    let entries: Vec<Entry> = answer.decode("gazetteer").unwrap_or_default();
    let hub_name = hubs.iter().find(|(id, _)| id == hub).map_or(hub, |(_, name)| name.as_str());
    let view = View { hub: hub.to_owned(), ..View::default() };
    let body = html! {
        (forms::summary(errors))
        @if let Some(flash) = flashed.notice() { (notice(flash)) }
        h1 { "Names and places to take out" }
        p class="lead" { "Heard marks these wherever they appear in what people said to " (hub_name) ", so you can take them out before anything leaves the hub." }
        p { "The list stays in the hub: only its coordinators see it. Add the people and places that come up, for example a keyworker's name or a small village." }
        nav class="tabs" aria-label="Moderation" {
            ul {
                li { a href=(view.url("/moderation")) { "To moderate" } }
                li { a href=(view.url("/moderation/held")) { "Held" } }
                li { a href=(address(hub)) aria-current="page" { "Names and places to take out" } }
            }
        }
        @if hubs.len() > 1 {
            form method="get" action="/moderation/gazetteer" class="inline-form" {
                (forms::select("hub", "Hub", hubs, hub, &Errors::default()))
                button class="button button--secondary" type="submit" { "Show this hub's list" }
            }
        }
        (add_form(csrf, hub, typed, errors))
        h2 id="list-title" { "On the list (" (entries.len()) ")" }
        @if entries.is_empty() {
            p { "Nothing yet. Heard still suggests names, phone numbers and email addresses it finds by itself." }
        } @else {
            ul class="gazetteer" aria-labelledby="list-title" {
                @for entry in &entries {
                    @let name = entry.name.as_deref().unwrap_or("(erased)");
                    li {
                        span class="gazetteer-name" { (name) }
                        " "
                        span class="meta" { (forms::words(&KINDS, &entry.kind).to_lowercase()) }
                        form method="post" action="/moderation/gazetteer/remove" class="inline" {
                            input type="hidden" name="csrf_token" value=(csrf);
                            input type="hidden" name="hub" value=(hub);
                            input type="hidden" name="id" value=(entry.id);
                            button class="button-link" type="submit" { "Take off the list" span class="visually-hidden" { ": " (name) } }
                        }
                    }
                }
            }
        }
    };
    let title = forms::titled(errors, "Names and places to take out");
    no_store((status, page(viewer, &title, Some(csrf), body)).into_response())
}

fn add_form(csrf: &str, hub: &str, typed: &Typed, errors: &Errors) -> Markup {
    html! {
        form method="post" action="/moderation/gazetteer" class="card" novalidate {
            h2 { "Add a name or place" }
            input type="hidden" name="csrf_token" value=(csrf);
            input type="hidden" name="hub" value=(hub);
            (forms::input(forms::Input {
                id: "name", label: "Name", kind: "text", value: &typed.name,
                hint: Some("As people say it. Heard finds it in any case, as a whole word."),
                autocomplete: Some("off"),
            }, errors))
            (forms::choices(Choices {
                id: "kind", legend: "Is it a person or a place?", multiple: false,
                options: forms::options(&KINDS), chosen: vec![typed.kind.clone()], hint: None,
            }, errors))
            button class="button" type="submit" { "Add to the list" }
        }
    }
}

/// `GET /moderation/gazetteer?hub=`.
pub async fn list<B: Backend>(
    State(backend): State<B>,
    SignedInAs { viewer, csrf, .. }: SignedInAs<HubCoordinators>,
    flashed: Flashed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let hubs = coordinated_hubs(&backend, &viewer, Action::KeepGazetteer).await;
    let ids: Vec<String> = hubs.iter().map(|(id, _)| id.clone()).collect();
    let (hub, refused) = View::hub_from(&pairs, &ids);
    let mut errors = Errors::default();
    if let Some(message) = refused {
        errors.add(if hubs.len() > 1 { "hub" } else { "" }, message);
    }
    flashed.add_error_to(&mut errors);
    if hubs.is_empty() {
        let body = html! { h1 { "Names and places to take out" } p { "You are not a coordinator of any hub yet." } };
        return page(&viewer, "Names and places to take out", Some(&csrf), body).into_response();
    }
    render(&backend, &viewer, &csrf, &hubs, &hub, &Typed::default(), &errors, &flashed, StatusCode::OK).await
}

/// `POST /moderation/gazetteer`: `addGazetteerEntry`; back to the list, or the form again with
/// its errors beside its fields.
pub async fn add<B: Backend>(State(backend): State<B>, PostedForm { viewer, csrf, form }: PostedForm) -> Response {
    let hub = form.trimmed("hub");
    let typed = Typed { name: form.value("name"), kind: form.trimmed("kind") };
    let kind = KINDS.iter().find(|(value, _)| *value == typed.kind).map(|(value, _)| *value);
    let answer =
        submit(&backend, &viewer, "addGazetteerEntry", "id", json!({ "hub": hub, "name": typed.name, "kind": kind }))
            .await;
    if answer.errors.is_empty() {
        let said = Flash::notice("Added to the list. Heard marks it from now on.");
        return flash::redirect(&backend, &viewer, &address(&hub), said);
    }
    let mut errors = Errors::default();
    for (field, _, message) in &answer.errors {
        let field =
            field.as_deref().map(field_id).filter(|field| field == "name" || field == "kind").unwrap_or_default();
        errors.add(&field, plain(message));
    }
    let hubs = coordinated_hubs(&backend, &viewer, Action::KeepGazetteer).await;
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    render(&backend, &viewer, &csrf, &hubs, &hub, &typed, &errors, &Flashed::default(), status).await
}

/// `POST /moderation/gazetteer/remove`: `removeGazetteerEntry`; back to the list.
pub async fn remove<B: Backend>(State(backend): State<B>, PostedForm { viewer, form, .. }: PostedForm) -> Response {
    let hub = form.trimmed("hub");
    let query = "mutation($i: RemoveGazetteerEntryInput!) { removeGazetteerEntry(input: $i) }";
    let answer = ask(&backend, &viewer, query, json!({ "i": { "hub": hub, "id": form.trimmed("id") } })).await;
    let said = match answer.errors.first() {
        None => Flash::notice("Taken off the list. Heard no longer marks it."),
        Some((_, _, message)) => Flash::error(plain(message)),
    };
    flash::redirect(&backend, &viewer, &address(&hub), said)
}
