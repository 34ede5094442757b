//! Logging what someone said: the one item form, used alone (`/feedback/new`) and in meeting
//! mode (`/meetings/{id}`, see [`crate::meetings`]), and the person's own corrections while
//! nobody has moderated the item yet: "undo" (`POST /feedback/{id}/undo`, within ten minutes)
//! and "edit" (`/feedback/{id}/edit`).
//!
//! The form fits a phone: the words first, then who said it and who may see it; the themes fold
//! into a list that can be searched (`/assets/themes.js`, only an enhancement), and the
//! optional details fold away. Every save answers with a redirect (post, redirect, get): the
//! next page reads the item back and shows the whole quote, with the cursor back in the text
//! box. Nothing the address bar carries is shown as a message: `?logged=` is an id that
//! GraphQL looks up as the person asking, and `?done=` a code with fixed words.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use heard_api::Viewer;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Backend;
use crate::backend::{ask, submit};
use crate::extract::{Fields, PostedForm, SignedIn};
use crate::forms::{self, Choices, Errors, Input, form_page};
use crate::kit::{no_store, plain, today, urlencode};

/// A hub or theme as GraphQL names it.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Named {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// A theme's parent; `None` for a top-level theme.
    #[serde(default)]
    pub parent: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FormReference {
    me: MyHubs,
    themes: Vec<Named>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MyHubs {
    hubs: Vec<Named>,
}

/// The hubs the person belongs to and the themes an item can have, as (id, name).
pub(crate) struct Reference {
    pub hubs: Vec<(String, String)>,
    pub themes: Vec<(String, String)>,
}

/// Asks for what the form offers.
pub(crate) async fn reference<B: Backend>(backend: &B, viewer: &Viewer) -> Reference {
    let answer = ask(backend, viewer, "{ me { hubs { id name } } themes { id name parent } }", json!({})).await;
    let reference = answer.decode_all::<FormReference>();
    Reference {
        hubs: reference.me.hubs.into_iter().map(|hub| (hub.id, hub.name)).collect(),
        themes: reference
            .themes
            .into_iter()
            .filter(|theme| theme.parent.is_some())
            .map(|theme| (theme.id, theme.name))
            .collect(),
    }
}

/// What the item form holds.
#[derive(Clone, Debug, Default)]
pub(crate) struct ItemForm {
    pub hub: String,
    pub text: String,
    pub channel: String,
    pub themes: Vec<String>,
    pub speaker: String,
    pub speaker_name: String,
    pub consent: String,
    pub said_on: String,
    pub about: String,
    /// The form's `clientMutationId` ([`forms::ONCE_FIELD`]): one item however often it is sent.
    pub once: String,
}

pub(crate) const CHANNELS: [(&str, &str); 6] = [
    ("FORUM", "Forum meeting"),
    ("DROP_IN", "Drop-in"),
    ("ONE_TO_ONE", "One-to-one"),
    ("SURVEY", "Survey"),
    ("ONLINE", "Online"),
    ("PHONE", "Phone or text"),
];

const SPEAKERS: [(&str, &str); 3] = [
    ("ANONYMOUS", "Anonymous: no name is kept"),
    ("PSEUDONYMOUS", "A name they chose (not their real name)"),
    ("NAMED", "Their own name"),
];

const CONSENTS: [(&str, &str); 3] = [
    ("HUB", "Only this hub"),
    ("COMMISSIONERS", "This hub, and commissioners and the service it is about"),
    ("PUBLIC", "Anyone: it can be published"),
];

fn pairs(options: &[(&str, &str)]) -> Vec<(String, String)> {
    options.iter().map(|(value, label)| ((*value).to_owned(), (*label).to_owned())).collect()
}

/// Where the form is used: alone, or inside a meeting (which gives the hub, the day and the
/// channel, so they are not asked again).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Setting {
    Alone,
    Meeting,
}

impl ItemForm {
    pub fn from_fields(fields: &Fields) -> ItemForm {
        ItemForm {
            hub: fields.value("hub"),
            text: fields.value("text"),
            channel: fields.value("channel"),
            themes: fields.values("themes"),
            speaker: fields.value("speaker"),
            speaker_name: fields.value("speaker_name"),
            consent: fields.value("consent"),
            said_on: fields.value("said_on"),
            about: fields.value("about"),
            once: forms::once_of(&fields.value(forms::ONCE_FIELD)),
        }
    }

    /// What must be answered before GraphQL is asked, beside each field.
    pub fn missing(&self, setting: Setting) -> Errors {
        let mut errors = Errors::default();
        errors.require("text", self.text.trim(), "Write what they said");
        errors.require("speaker", &self.speaker, "Choose who said it");
        errors.require("consent", &self.consent, "Choose who they agreed can see it");
        if setting == Setting::Alone {
            errors.require("channel", &self.channel, "Choose where it was said");
        }
        errors
    }

    /// `logFeedback`'s input; `meeting` gives the meeting's id, hub and day.
    pub fn input(&self, meeting: Option<(&str, &str, &str)>) -> Value {
        let (hub, channel, said_on) = match meeting {
            Some((_, hub, held_on)) => (hub, "FORUM", held_on),
            None => (self.hub.as_str(), self.channel.as_str(), self.said_on.as_str()),
        };
        json!({
            "hub": hub, "text": self.text, "channel": channel, "themes": self.themes,
            "speaker": self.speaker, "speakerName": Some(self.speaker_name.trim()).filter(|n| !n.is_empty()),
            "consent": self.consent, "saidOn": said_on,
            "about": Some(self.about.trim()).filter(|a| !a.is_empty()),
            "meeting": meeting.map(|(id, _, _)| id),
            "clientMutationId": Some(self.once.as_str()).filter(|once| !once.is_empty()),
        })
    }

    /// The form's fields (without the `<form>`), in the order a volunteer asks.
    pub fn fields(&self, reference: &Reference, errors: &Errors, setting: Setting, focus_text: bool) -> Markup {
        let themes_open = !self.themes.is_empty() || errors.of("themes").is_some();
        let more_open = !self.about.trim().is_empty() || errors.of("about").is_some() || errors.of("said_on").is_some();
        let chosen_themes = self.themes.len();
        html! {
            @if !self.once.is_empty() { (forms::once_field(&self.once)) }
            @if setting == Setting::Alone {
                (forms::select("hub", "Hub", &reference.hubs, &self.hub, errors))
            }
            (forms::textarea_focused("text", "What did they say?", &self.text, Some("Write it in their words. Leave out names of other people."), errors, focus_text))
            (forms::choices(Choices { id: "speaker", legend: "Who said it?", multiple: false, options: pairs(&SPEAKERS), chosen: vec![self.speaker.clone()], hint: None }, errors))
            (forms::input(Input { id: "speaker_name", label: "Their chosen name (only for a chosen or own name)", kind: "text", value: &self.speaker_name, hint: Some("Only this hub ever sees it."), autocomplete: Some("off") }, errors))
            (forms::choices(Choices { id: "consent", legend: "Who did they agree can see it?", multiple: false, options: pairs(&CONSENTS), chosen: vec![self.consent.clone()], hint: Some("Ask them each time. If you are not sure, choose only this hub.") }, errors))
            @if setting == Setting::Alone {
                (forms::choices(Choices { id: "channel", legend: "Where was it said?", multiple: false, options: pairs(&CHANNELS), chosen: vec![self.channel.clone()], hint: None }, errors))
            }
            details class="fold themes-fold" open[themes_open] {
                summary {
                    "Themes (optional)"
                    @if chosen_themes > 0 { span class="fold-count" { ", " (chosen_themes) " chosen" } }
                }
                (themes_list(reference, &self.themes, errors))
            }
            details class="fold" open[more_open] {
                summary { "More details (optional)" }
                (forms::input(Input { id: "about", label: "Which service is it about?", kind: "text", value: &self.about, hint: Some("For example: the pharmacy in Bognor, or Addaction"), autocomplete: None }, errors))
                @if setting == Setting::Alone {
                    (forms::day_input("said_on", "When was it said?", &self.said_on, Some("Today unless you change it."), errors))
                }
            }
        }
    }
}

/// The themes to choose from, `chosen` ticked, with the box that finds one by name (shown by
/// `/assets/themes.js`, which filters the list as the person types).
fn themes_list(reference: &Reference, chosen: &[String], errors: &Errors) -> Markup {
    html! {
        div class="theme-finder" data-theme-finder hidden {
            label for="theme-filter" { "Find a theme" }
            input id="theme-filter" type="search" autocomplete="off" aria-controls="themes-list" aria-describedby="theme-filter-status";
            p id="theme-filter-status" class="hint" role="status" aria-live="polite" {}
        }
        div id="themes-list" {
            (forms::choices(Choices { id: "themes", legend: "Themes", multiple: true, options: reference.themes.clone(), chosen: chosen.to_vec(), hint: Some("Choose any that fit.") }, errors))
        }
    }
}

/// An item as the confirmation and the running list show it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct LoggedItem {
    pub id: String,
    pub text: Option<String>,
    pub hub: String,
    pub channel: String,
    pub said_on: String,
    pub meeting: Option<String>,
    pub themes: Vec<ThemeName>,
    pub consent: String,
    pub can_undo: bool,
    pub can_edit: bool,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ThemeName {
    pub id: String,
    pub name: String,
}

/// The fields of an item the pages here ask for.
pub(crate) const ITEM_FIELDS: &str = "id text hub channel saidOn meeting themes { id name } consent canUndo canEdit";

/// Reads back one item the person may see (the one just logged); `None` otherwise.
pub(crate) async fn item<B: Backend>(backend: &B, viewer: &Viewer, id: &str) -> Option<LoggedItem> {
    if uuid::Uuid::parse_str(id).is_err() {
        return None;
    }
    let query = format!("query($id: ID!) {{ feedbackItem(id: $id) {{ {ITEM_FIELDS} }} }}");
    ask(backend, viewer, &query, json!({ "id": id })).await.decode::<LoggedItem>("feedbackItem")
}

/// Who may see it, in words.
pub(crate) fn consent_words(consent: &str) -> &'static str {
    match consent {
        "HUB" => "Only this hub",
        "COMMISSIONERS" => "This hub and commissioners",
        "PUBLIC" => "Anyone",
        _ => "Nobody: consent was withdrawn",
    }
}

/// "Logged": the whole quote, and undo or edit while they are possible. The undo button is a
/// small form of its own.
pub(crate) fn confirmation(item: &LoggedItem, csrf: &str) -> Markup {
    html! {
        div class="notice" role="status" {
            h2 { "Logged" }
            p { "This is saved:" }
            blockquote class="quote" { (item.text.as_deref().unwrap_or("")) }
            (corrections(item, csrf, "the item you just logged"))
        }
    }
}

/// Undo (a button, within ten minutes) and edit (a link), when the person may still do them.
pub(crate) fn corrections(item: &LoggedItem, csrf: &str, what: &str) -> Markup {
    html! {
        @if item.can_undo || item.can_edit {
            div class="actions-inline" {
                @if item.can_edit {
                    a href={ "/feedback/" (item.id) "/edit" } { "Edit" span class="visually-hidden" { " " (what) } }
                }
                @if item.can_undo {
                    form method="post" action={ "/feedback/" (item.id) "/undo" } class="inline-form" {
                        input type="hidden" name="csrf_token" value=(csrf);
                        button class="button-link" type="submit" { "Undo" span class="visually-hidden" { " " (what) } }
                    }
                }
            }
        }
    }
}

/// What the address bar may carry after a redirect here.
#[derive(Debug, Default, Deserialize)]
pub struct AfterQuery {
    /// The item just logged: an id, looked up as the person asking.
    #[serde(default)]
    logged: Option<String>,
    /// A code for what just happened; the words come from [`done_words`].
    #[serde(default)]
    done: Option<String>,
}

impl AfterQuery {
    pub(crate) fn logged(&self) -> Option<&str> {
        self.logged.as_deref()
    }
    pub(crate) fn done(&self) -> Option<&'static str> {
        self.done.as_deref().and_then(done_words)
    }
}

/// The fixed words for each code a redirect may carry.
pub(crate) fn done_words(code: &str) -> Option<&'static str> {
    match code {
        "undone" => Some("The item was taken back. It is not kept anywhere people can see it."),
        "edited" => Some("Your correction is saved."),
        "started" => Some("The meeting has started. Log each point as it is made."),
        "ended" => Some("The meeting is recorded."),
        _ => None,
    }
}

async fn log_page<B: Backend>(
    backend: &B,
    viewer: &Viewer,
    csrf: &str,
    form: &ItemForm,
    errors: &Errors,
    after: (Option<&LoggedItem>, Option<&str>),
) -> Markup {
    let reference = reference(backend, viewer).await;
    let (logged, done) = after;
    let body = html! {
        @if let Some(logged) = logged { (confirmation(logged, csrf)) }
        @if let Some(done) = done { div class="notice" role="status" { p { (done) } } }
        h1 { "Log feedback" }
        p class="lead" { "One point per item, in the speaker's own words." }
        p { "At a meeting? " a href="/meetings" { "Start the meeting first" } ", then log each point into it." }
        form method="post" action="/feedback/new" novalidate {
            input type="hidden" name="csrf_token" value=(csrf);
            (form.fields(&reference, errors, Setting::Alone, logged.is_some()))
            button class="button" type="submit" { "Save and log another" }
        }
        script src="/assets/themes.js" defer {}
    };
    form_page(viewer, "Log feedback", Some(csrf), errors, body)
}

/// `GET /feedback/new`: the form; after a save, the whole quote and the form again for the
/// next item, keeping the hub, the channel and the day of the one just logged.
pub async fn log_form<B: Backend>(
    State(backend): State<B>,
    SignedIn { viewer, csrf }: SignedIn,
    Query(after): Query<AfterQuery>,
) -> Response {
    let logged = match after.logged() {
        Some(id) => item(&backend, &viewer, id).await,
        None => None,
    };
    let form = match &logged {
        Some(item) => ItemForm {
            hub: item.hub.clone(),
            channel: item.channel.clone(),
            said_on: item.said_on.clone(),
            once: forms::new_once(),
            ..ItemForm::default()
        },
        None => ItemForm { said_on: today(), once: forms::new_once(), ..ItemForm::default() },
    };
    let page = log_page(&backend, &viewer, &csrf, &form, &Errors::default(), (logged.as_ref(), after.done())).await;
    no_store(page.into_response())
}

/// Runs `logFeedback`; the new item's id (the one it logged before, when the same form is sent
/// again), or the errors beside their fields. When the form was sent before with other words,
/// the form gets a new id, so that sending it again logs these words too.
pub(crate) async fn log_item<B: Backend>(
    backend: &B,
    viewer: &Viewer,
    form: &mut ItemForm,
    setting: Setting,
    meeting: Option<(&str, &str, &str)>,
) -> Result<String, Errors> {
    let mut errors = form.missing(setting);
    if !errors.is_empty() {
        return Err(errors);
    }
    let answer = submit(backend, viewer, "logFeedback", "id", form.input(meeting)).await;
    if answer.errors.is_empty() {
        let logged = answer.decode::<LoggedItem>("logFeedback").unwrap_or_default();
        return Ok(logged.id);
    }
    let sent_before = errors.add_answer_to_create(&answer.errors, |api_field| {
        let field = forms::field_or_top(api_field);
        // In a meeting, the meeting's own fields are not on the form: say so at the top.
        if setting == Setting::Meeting && matches!(field.as_str(), "hub" | "said_on" | "channel" | "meeting") {
            String::new()
        } else {
            field
        }
    });
    if sent_before {
        form.once = forms::new_once();
    }
    Err(errors)
}

/// `POST /feedback/new`: `logFeedback`, then back to the form with the whole quote.
pub async fn log<B: Backend>(State(backend): State<B>, posted: PostedForm) -> Response {
    let PostedForm { viewer, csrf, form: fields } = posted;
    let mut form = ItemForm::from_fields(&fields);
    match log_item(&backend, &viewer, &mut form, Setting::Alone, None).await {
        Ok(id) => Redirect::to(&format!("/feedback/new?logged={}#text", urlencode(&id))).into_response(),
        Err(errors) => {
            let page = log_page(&backend, &viewer, &csrf, &form, &errors, (None, None)).await;
            no_store((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

/// Where to go back to after a correction: the item's meeting, or the log form.
fn back_to(item: &LoggedItem) -> String {
    match &item.meeting {
        Some(meeting) if uuid::Uuid::parse_str(meeting).is_ok() => format!("/meetings/{meeting}"),
        _ => "/feedback/new".to_owned(),
    }
}

/// `POST /feedback/{id}/undo`: `undoFeedback`, then back where the person was.
pub async fn undo<B: Backend>(State(backend): State<B>, Path(id): Path<String>, posted: PostedForm) -> Response {
    let PostedForm { viewer, csrf, .. } = posted;
    let Some(found) = item(&backend, &viewer, &id).await else {
        return crate::pages::not_found(crate::extract::Visitor { viewer, csrf: Some(csrf) }).await;
    };
    let answer =
        ask(&backend, &viewer, "mutation($id: ID!) { undoFeedback(id: $id) }", json!({ "id": found.id })).await;
    if let Some((_, _, message)) = answer.errors.first() {
        let body = html! {
            h1 { "This item cannot be undone" }
            p { (plain(message)) }
            p { a href=(back_to(&found)) { "Go back" } }
        };
        let page = form_page(&viewer, "This item cannot be undone", Some(&csrf), &Errors::default(), body);
        return (StatusCode::CONFLICT, page).into_response();
    }
    Redirect::to(&format!("{}?done=undone#text", back_to(&found))).into_response()
}

fn edit_page(
    viewer: &Viewer,
    csrf: &str,
    item: &LoggedItem,
    form: &ItemForm,
    reference: &Reference,
    errors: &Errors,
) -> Markup {
    let body = html! {
        h1 { "Correct what you logged" }
        p { "You can correct an item until a coordinator has looked at it." }
        form method="post" action={ "/feedback/" (item.id) "/edit" } novalidate {
            input type="hidden" name="csrf_token" value=(csrf);
            (forms::textarea_focused("text", "What did they say?", &form.text, Some("Write it in their words. Leave out names of other people."), errors, true))
            details class="fold themes-fold" open {
                summary { "Themes (optional)" }
                (themes_list(reference, &form.themes, errors))
            }
            button class="button" type="submit" { "Save the correction" }
            " "
            a href=(back_to(item)) { "Cancel" }
        }
        script src="/assets/themes.js" defer {}
    };
    form_page(viewer, "Correct what you logged", Some(csrf), errors, body)
}

/// `GET /feedback/{id}/edit`: the words and themes of an item the person logged, to correct.
pub async fn edit_form<B: Backend>(
    State(backend): State<B>,
    Path(id): Path<String>,
    SignedIn { viewer, csrf }: SignedIn,
) -> Response {
    let Some(found) = item(&backend, &viewer, &id).await.filter(|item| item.can_edit) else {
        return crate::pages::not_found(crate::extract::Visitor { viewer, csrf: Some(csrf) }).await;
    };
    let form = ItemForm {
        text: found.text.clone().unwrap_or_default(),
        themes: found.themes.iter().map(|theme| theme.id.clone()).collect(),
        ..ItemForm::default()
    };
    let reference = reference(&backend, &viewer).await;
    no_store(edit_page(&viewer, &csrf, &found, &form, &reference, &Errors::default()).into_response())
}

/// `POST /feedback/{id}/edit`: `editFeedback`, then back to the meeting or the log form.
pub async fn edit<B: Backend>(State(backend): State<B>, Path(id): Path<String>, posted: PostedForm) -> Response {
    let PostedForm { viewer, csrf, form: fields } = posted;
    let Some(found) = item(&backend, &viewer, &id).await else {
        return crate::pages::not_found(crate::extract::Visitor { viewer, csrf: Some(csrf) }).await;
    };
    let form = ItemForm::from_fields(&fields);
    let mut errors = Errors::default();
    errors.require("text", form.text.trim(), "Write what they said");
    if errors.is_empty() {
        let answer = ask(
            &backend,
            &viewer,
            "mutation($id: ID!, $text: String!, $themes: [String!]!) { editFeedback(id: $id, text: $text, themes: $themes) { id } }",
            json!({ "id": found.id, "text": form.text, "themes": form.themes }),
        )
        .await;
        if answer.errors.is_empty() {
            return Redirect::to(&format!("{}?done=edited#text", back_to(&found))).into_response();
        }
        errors.add_answer(&answer.errors, forms::field_or_top);
    }
    let reference = reference(&backend, &viewer).await;
    let page = edit_page(&viewer, &csrf, &found, &form, &reference, &errors);
    no_store((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// This module's routes.
pub fn routes<B: Backend>() -> axum::Router<B> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/feedback/new", get(log_form::<B>).post(log::<B>))
        .route("/feedback/{id}/undo", post(undo::<B>))
        .route("/feedback/{id}/edit", get(edit_form::<B>).post(edit::<B>))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> ItemForm {
        ItemForm::from_fields(&Fields(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()))
    }

    #[test]
    fn in_a_meeting_the_item_takes_the_meetings_hub_day_and_channel_and_names_the_meeting() {
        let item = form(&[
            ("text", "Evening clinic please"),
            ("speaker", "ANONYMOUS"),
            ("consent", "HUB"),
            ("hub", "crawley"),
            ("said_on", "2020-01-01"),
        ]);
        let input = item.input(Some(("m1", "arun", "2026-12-04")));
        assert_eq!(input["hub"], "arun", "never a hub the form could be made to send");
        assert_eq!(input["saidOn"], "2026-12-04");
        assert_eq!(input["channel"], "FORUM");
        assert_eq!(input["meeting"], "m1");
        assert!(item.missing(Setting::Meeting).is_empty(), "a meeting does not ask where or when again");
        assert!(!item.missing(Setting::Alone).is_empty(), "alone, the channel is asked");
    }

    #[test]
    fn only_fixed_words_are_shown_for_what_a_redirect_says_happened() {
        assert_eq!(done_words("<script>alert(1)</script>"), None);
        assert_eq!(done_words("There is a problem: call 0800 000 000"), None);
        assert!(done_words("undone").is_some());
    }

    #[test]
    fn after_an_undo_or_edit_the_person_goes_back_to_the_meeting_the_item_was_logged_in() {
        let in_meeting =
            LoggedItem { meeting: Some("5f0c2a7e-8a43-4f4e-9d9e-0d5c3b1c2a10".into()), ..LoggedItem::default() };
        assert_eq!(back_to(&in_meeting), "/meetings/5f0c2a7e-8a43-4f4e-9d9e-0d5c3b1c2a10");
        let odd = LoggedItem { meeting: Some("//evil.example".into()), ..LoggedItem::default() };
        assert_eq!(back_to(&odd), "/feedback/new");
        assert_eq!(back_to(&LoggedItem::default()), "/feedback/new");
    }
}
