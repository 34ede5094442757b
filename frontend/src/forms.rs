//! Form parts that carry their own label, hint and error, and the error summary that links to
//! each field (announced to screen readers when the page loads with errors).

use heard_api::Viewer;
use maud::{Markup, html};

use crate::kit::{field_id, plain};
use crate::layout::page;

/// An error to show beside a field and in the summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The field's id on the page (`text`, `consent`), or empty for errors of the whole form.
    pub field: String,
    pub message: String,
}

/// Errors by field; [`summary`] lists them all.
#[derive(Clone, Debug, Default)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    pub fn of(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|error| error.field == field).map(|error| error.message.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError { field: field.to_owned(), message: message.into() });
    }

    /// An answer that must be given: `message` beside `field` when `value` is empty.
    pub fn require(&mut self, field: &str, value: &str, message: &str) {
        if value.is_empty() {
            self.add(field, message);
        }
    }

    /// An error of the whole form, at the top: the only one.
    pub fn at_top(message: &str) -> Errors {
        let mut errors = Errors::default();
        errors.add("", message);
        errors
    }

    /// A choice that must be one of `choices` (coded value, words): `message` beside `field`
    /// when `value` is none of them (nothing chosen, or a value the form never offered).
    pub fn require_one_of(&mut self, field: &str, value: &str, choices: &[(&str, &str)], message: &str) {
        if !choices.iter().any(|(choice, _)| *choice == value) {
            self.add(field, message);
        }
    }

    /// What the form asks for when nothing is wrong with it, or else these errors.
    pub fn or_ok<T>(self, asked: T) -> Result<T, Errors> {
        if self.is_empty() { Ok(asked) } else { Err(self) }
    }

    /// The errors GraphQL gave (field, code, message), each beside the page's field that
    /// `on_page` names for the API's field, in the page's words ([`plain`]).
    pub fn add_answer(&mut self, answer_errors: &[AnswerError], on_page: impl Fn(Option<&str>) -> String) {
        for (api_field, _, message) in answer_errors {
            self.add(&on_page(api_field.as_deref()), plain(message));
        }
    }

    /// [`Errors::add_answer`], for a form that creates something: an error on the form's id
    /// ([`Once::Next`]) goes at the top as [`Once::SENT_BEFORE`]. Whether there was one, so
    /// that the form comes back with a new id.
    #[must_use]
    pub fn add_answer_to_create(
        &mut self,
        answer_errors: &[AnswerError],
        on_page: impl Fn(Option<&str>) -> String,
    ) -> bool {
        let mut sent_before = false;
        for (api_field, _, message) in answer_errors {
            if Once::of(api_field.as_deref()) == Once::Next {
                sent_before = true;
                self.add("", Once::SENT_BEFORE);
            } else {
                self.add(&on_page(api_field.as_deref()), plain(message));
            }
        }
        sent_before
    }
}

/// An error as GraphQL gave it: (the API's field, code, message).
type AnswerError = (Option<String>, Option<String>, String);

/// What a page of several forms says of a form posted to a step it does not have.
pub const NO_SUCH_STEP: &str = "There is no such step";

/// The id on the page of the field an API error names, the same field (`input.saidOn` →
/// `said_on`); an error that names none goes at the top.
pub fn field_or_top(api_field: Option<&str>) -> String {
    api_field.map(field_id).unwrap_or_default()
}

/// The id on the page of the field an API error names (`input.on`), for the form `step` posted
/// on a page of several forms: `table` holds (step, the API's field as [`field_id`] names it,
/// the page's field); any other goes at the top.
pub fn step_field(table: &[(&str, &str, &str)], step: &str, api_field: Option<&str>) -> String {
    let id = api_field.map(field_id).unwrap_or_default();
    let found = table.iter().find(|(on_step, api, _)| *on_step == step && *api == id);
    found.map(|(_, _, on_page)| (*on_page).to_owned()).unwrap_or_default()
}

/// A page's title, saying "Error: " first when the form on it has errors.
pub fn titled(errors: &Errors, title: &str) -> String {
    if errors.is_empty() { title.to_owned() } else { format!("Error: {title}") }
}

/// A page with a form: its title [`titled`], and the [`summary`] of the errors before `body`.
pub fn form_page(viewer: &Viewer, title: &str, csrf: Option<&str>, errors: &Errors, body: Markup) -> Markup {
    page(viewer, &titled(errors, title), csrf, html! { (summary(errors)) (body) })
}

/// "There is a problem": at the top of the page, focused and announced, each error a link to
/// its field.
pub fn summary(errors: &Errors) -> Markup {
    html! {
        @if !errors.is_empty() {
            div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1" {
                h2 id="error-summary-title" { "There is a problem" }
                ul {
                    @for error in &errors.0 {
                        li {
                            @if error.field.is_empty() {
                                (error.message)
                            } @else {
                                a href={ "#" (error.field) } { (error.message) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn described_by(id: &str, hint: Option<&str>, error: Option<&str>) -> Option<String> {
    let mut ids = Vec::new();
    if hint.is_some() {
        ids.push(format!("{id}-hint"));
    }
    if error.is_some() {
        ids.push(format!("{id}-error"));
    }
    (!ids.is_empty()).then(|| ids.join(" "))
}

fn hint_and_error(id: &str, hint: Option<&str>, error: Option<&str>) -> Markup {
    html! {
        @if let Some(hint) = hint { p class="hint" id={ (id) "-hint" } { (hint) } }
        @if let Some(error) = error {
            p class="field-error" id={ (id) "-error" } { span class="visually-hidden" { "Error: " } (error) }
        }
    }
}

/// A one-line text input.
pub struct Input<'a> {
    pub id: &'a str,
    pub label: &'a str,
    pub kind: &'a str,
    pub value: &'a str,
    pub hint: Option<&'a str>,
    pub autocomplete: Option<&'a str>,
}

pub fn input(field: Input<'_>, errors: &Errors) -> Markup {
    let error = errors.of(field.id);
    html! {
        div class={ "field" @if error.is_some() { " field--error" } } {
            label for=(field.id) { (field.label) }
            (hint_and_error(field.id, field.hint, error))
            input id=(field.id) name=(field.id) type=(field.kind) value=(field.value)
                autocomplete=[field.autocomplete]
                aria-describedby=[described_by(field.id, field.hint, error)]
                aria-invalid=[error.map(|_| "true")];
        }
    }
}

/// A text area.
pub fn textarea(id: &str, label: &str, value: &str, hint: Option<&str>, errors: &Errors) -> Markup {
    textarea_focused(id, label, value, hint, errors, false)
}

/// [`textarea`], with the cursor put in it when the page opens (`autofocus`): where the person
/// carries on typing, such as the next item of a meeting after the last one was saved.
pub fn textarea_focused(
    id: &str,
    label: &str,
    value: &str,
    hint: Option<&str>,
    errors: &Errors,
    autofocus: bool,
) -> Markup {
    let error = errors.of(id);
    html! {
        div class={ "field" @if error.is_some() { " field--error" } } {
            label for=(id) { (label) }
            (hint_and_error(id, hint, error))
            textarea id=(id) name=(id) rows="5" autofocus[autofocus]
                aria-describedby=[described_by(id, hint, error)]
                aria-invalid=[error.map(|_| "true")] { (value) }
        }
    }
}

/// A day, typed as people in the UK write it (`4 December 2026`, `4/12/2026`; read by
/// [`heard_contracts::day::parse`]), shown the same way, with the same hint on every page.
/// `value` may be `YYYY-MM-DD` (as the API gives it): it is shown in words.
pub fn day_input(id: &str, label: &str, value: &str, extra_hint: Option<&str>, errors: &Errors) -> Markup {
    let shown = heard_contracts::day::written_iso(value.trim());
    let hint = match extra_hint {
        Some(extra) => format!("{extra} {}.", heard_contracts::day::HINT),
        None => format!("{}.", heard_contracts::day::HINT),
    };
    input(Input { id, label, kind: "text", value: &shown, hint: Some(&hint), autocomplete: Some("off") }, errors)
}

/// Radios or checkboxes in a fieldset with a legend. `options` are (value, label).
pub struct Choices<'a> {
    pub id: &'a str,
    pub legend: &'a str,
    pub multiple: bool,
    pub options: Vec<(String, String)>,
    pub chosen: Vec<String>,
    pub hint: Option<&'a str>,
}

pub fn choices(field: Choices<'_>, errors: &Errors) -> Markup {
    let error = errors.of(field.id);
    let kind = if field.multiple { "checkbox" } else { "radio" };
    html! {
        div class={ "field" @if error.is_some() { " field--error" } } {
            fieldset aria-describedby=[described_by(field.id, field.hint, error)] {
                legend { (field.legend) }
                (hint_and_error(field.id, field.hint, error))
                div class="choices" {
                    @for (index, (value, label)) in field.options.iter().enumerate() {
                        @let option_id = if index == 0 { field.id.to_owned() } else { format!("{}-{index}", field.id) };
                        div class="choice" {
                            input id=(option_id) name=(field.id) type=(kind) value=(value)
                                checked[field.chosen.contains(value)];
                            label for=(option_id) { (label) }
                        }
                    }
                }
            }
        }
    }
}

/// A drop-down list. `options` are (value, label).
pub fn select(id: &str, label: &str, options: &[(String, String)], chosen: &str, errors: &Errors) -> Markup {
    let error = errors.of(id);
    html! {
        div class={ "field" @if error.is_some() { " field--error" } } {
            label for=(id) { (label) }
            (hint_and_error(id, None, error))
            select id=(id) name=(id) aria-describedby=[described_by(id, None, error)] {
                @for (value, text) in options {
                    option value=(value) selected[value == chosen] { (text) }
                }
            }
        }
    }
}

/// A posted form's value for `key`, or "" when it was not sent.
pub fn value_of(fields: &[(String, String)], key: &str) -> String {
    fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default()
}

/// The session's CSRF token as a hidden field: every form that posts carries one.
pub fn csrf_field(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf_token" value=(csrf); }
}

/// The hidden field of every form that creates something: its `clientMutationId`
/// ([`heard_api::idempotent`]), so that the form sent twice (a double click, a retry after the
/// answer was lost, the browser's "resend") creates one thing, and the second send is answered
/// with it.
pub const ONCE_FIELD: &str = "client_mutation_id";

/// A new id for a form that creates something: a fresh form gets one, and so does a form whose
/// send was taken as a new one ([`Once::next`]).
pub fn new_once() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The id a form sent back: kept when the form comes back with errors (nothing was created, so
/// sending it again is still the same request); a new one when it sent none we can use.
pub fn once_of(posted: &str) -> String {
    if heard_api::idempotent::ClientMutationId::parse(posted).is_ok() { posted.to_owned() } else { new_once() }
}

/// [`ONCE_FIELD`], as a hidden field.
pub fn once_field(once: &str) -> Markup {
    html! { input type="hidden" name=(ONCE_FIELD) value=(once); }
}

/// What a create form's page does with an error GraphQL gave on its `clientMutationId`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Once {
    /// Not about the id: the form keeps its id.
    Keep,
    /// This form was sent before with other details (or what it made was taken back since):
    /// the error goes at the top, and the form gets a new id, so that sending it again saves
    /// what it holds now as a new one.
    Next,
}

impl Once {
    /// The error is on the form's id (`input.clientMutationId`).
    pub fn of(api_field: Option<&str>) -> Once {
        if api_field == Some(heard_api::idempotent::FIELD) { Once::Next } else { Once::Keep }
    }

    /// The words shown at the top of the form for [`Once::Next`].
    pub const SENT_BEFORE: &str = "This form was sent before, and what it held then was saved. \
        If you changed it since, send it again to save it as it is now as well.";
}

/// The plain words for a coded value (`MEETING` → "Meeting"), or the value itself.
pub fn words(pairs: &[(&str, &str)], value: &str) -> String {
    pairs.iter().find(|(v, _)| *v == value).map_or_else(|| value.to_owned(), |(_, l)| (*l).to_owned())
}

/// Coded values and their words, as choices or select options.
pub fn options(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(v, l)| ((*v).to_owned(), (*l).to_owned())).collect()
}

/// What the pages' unit tests share: a form as posted, and the fields an answer names.
#[cfg(test)]
pub mod testing {
    use super::Errors;

    /// A posted form (or an address's query) from literal pairs.
    pub fn posted(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        super::options(pairs)
    }

    /// The fields the errors name, in the order the page names them.
    pub fn fields(errors: &Errors) -> Vec<&str> {
        errors.0.iter().map(|error| error.field.as_str()).collect()
    }
}
