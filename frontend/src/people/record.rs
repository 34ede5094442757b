//! A record's part in a person's rights, on the record's own page: whose record it is (by
//! person code), what the provider reads of a complaint, and, once the person's records were
//! erased, that this one was, with its facts still shown.
//!
//! Each record page calls [`rights_section`], which asks for the rights fields in a query of
//! its own (only those the record's type has: see [`super::schema`]), so the record's page
//! never fails because of them. The forms post to `/{records}/{id}/person` ([`attribute`]),
//! `/complaints/{id}/provider-words` ([`provider_words`]) and
//! `/complaints/{id}/provider-words/as-written` ([`provider_words_as_written`]: nothing to take
//! out) and come back to the record's page with a flash: a notice, or the error beside its
//! field.

use super::*;

/// A kind of record a person's rights reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Record {
    Feedback,
    Case,
    Complaint,
}

impl Record {
    /// From the first part of a record's address (`/feedback/…`).
    fn from_path(path: &str) -> Option<Record> {
        match path.trim_start_matches('/').split('/').next() {
            Some("feedback") => Some(Record::Feedback),
            Some("cases") => Some(Record::Case),
            Some("complaints") => Some(Record::Complaint),
            _ => None,
        }
    }

    /// The record's page.
    fn page(self, id: &str) -> String {
        let id = crate::kit::urlencode(id);
        match self {
            Record::Feedback => format!("/feedback/{id}"),
            Record::Case => format!("/cases/{id}"),
            Record::Complaint => format!("/complaints/{id}"),
        }
    }

    /// The query that reads the record, its GraphQL type, and the argument naming it.
    fn query(self) -> (&'static str, &'static str) {
        match self {
            Record::Feedback => ("feedbackItem", "FeedbackItem"),
            Record::Case => ("case", "Case"),
            Record::Complaint => ("complaint", "Complaint"),
        }
    }

    /// The mutation that says whose record it is, and its argument naming the record.
    fn attribute_mutation(self) -> (&'static str, &'static str) {
        match self {
            Record::Feedback => ("attributeFeedback", "itemId"),
            Record::Case => ("attributeCase", "caseId"),
            Record::Complaint => ("attributeComplaint", "complaintId"),
        }
    }

    /// The record in words, for the section's sentences.
    fn words(self) -> &'static str {
        match self {
            Record::Feedback => "this feedback",
            Record::Case => "this case",
            Record::Complaint => "this complaint",
        }
    }

    /// What of the record goes when it is erased, and what stays.
    fn erased_words(self) -> &'static str {
        match self {
            Record::Feedback => {
                "The person's words and details were destroyed for good. The hub, the day, the themes and where it stands are kept, so reports still count it."
            }
            Record::Case => {
                "The client's details, the issue and the case notes were destroyed for good. The dates, the area and how it ended are kept, so reports still count it."
            }
            Record::Complaint => {
                "What happened, what the person wanted and who they are were destroyed for good. The dates, the rights named and the stage it reached are kept, so reports still count it."
            }
        }
    }
}

/// The rights fields of a record, as far as the viewer may see them.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Rights {
    /// The item's version the viewer sees (`HUB` for the hub's own record).
    view: Option<String>,
    person: Option<String>,
    erased: bool,
    erased_at: Option<String>,
    erased_on: Option<String>,
    what_happened: Option<String>,
    redacted_for_provider: Option<String>,
    /// What the provider reads of a complaint's words: `AWAITING_REVIEW`, `REDACTED` or
    /// `AS_WRITTEN`.
    provider_words: Option<String>,
}

/// Which of the rights fields the record's type has: the names the services agreed, and a
/// date of erasure if the record carries one.
const WANTED: [&str; 8] =
    ["view", "person", "erased", "erasedAt", "erasedOn", "whatHappened", "redactedForProvider", "providerWords"];

/// What a record's page shows of the person's rights: `banner` (above the record, once it was
/// erased) and `section` (at its end: whose record it is, and for a complaint what the
/// provider reads). Both empty when the viewer has nothing to do here.
pub(crate) struct RightsSection {
    pub banner: Markup,
    pub section: Markup,
}

/// The rights parts of the record `id`'s page, for the viewer. `flashed` is the page's flash:
/// an error beside its field here, a notice above the section.
pub(crate) async fn rights_section<B: Backend>(
    backend: &B,
    viewer: &Viewer,
    csrf: &str,
    record: Record,
    id: &str,
    flashed: &Flashed,
) -> RightsSection {
    let empty = RightsSection { banner: html! {}, section: html! {} };
    let (field, type_name) = record.query();
    let has = super::schema::fields_of(backend, viewer, type_name).await;
    let asked: Vec<&str> = WANTED.iter().copied().filter(|wanted| has.iter().any(|name| name == wanted)).collect();
    if !asked.contains(&"erased") && !asked.contains(&"person") {
        return empty;
    }
    let query = format!("query($id: ID!) {{ {field}(id: $id) {{ {} }} }}", asked.join(" "));
    let answer = ask(backend, viewer, &query, json!({ "id": id })).await;
    let Some(rights) = answer.decode::<Rights>(field).filter(|_| answer.errors.is_empty()) else { return empty };
    let mut errors = Errors::default();
    flashed.add_error_to(&mut errors);
    let erased_on = rights.erased_at.as_deref().or(rights.erased_on.as_deref()).map(when_words);
    let banner = html! {
        @if rights.erased {
            div class="warning erased" role="note" {
                p { "Erased" @if let Some(on) = &erased_on { " on " (on) } " at the person's request." }
                p class="erased-facts" { (record.erased_words()) }
            }
        }
    };
    let keeps_person = match record {
        Record::Feedback => rights.view.as_deref() == Some("HUB") && crate::kit::may(viewer, Action::ViewQueue),
        Record::Case => true,
        Record::Complaint => crate::kit::may(viewer, Action::HandleComplaint),
    };
    let provider = record == Record::Complaint && crate::kit::may(viewer, Action::HandleComplaint);
    let section = html! {
        @if keeps_person && asked.contains(&"person") {
            (person_section(csrf, record, id, &rights, flashed, &errors))
        }
        @if provider && asked.contains(&"redactedForProvider") {
            (provider_section(csrf, id, &rights, flashed, &errors))
        }
    };
    RightsSection { banner, section }
}

/// "Whose record this is": the person code if there is one, and the form that says so.
fn person_section(csrf: &str, record: Record, id: &str, rights: &Rights, flashed: &Flashed, errors: &Errors) -> Markup {
    let action = format!("{}/person", record.page(id));
    let choice_error = errors.of("person_choice");
    html! {
        section class="card person-rights" id="person" aria-labelledby="person-title" {
            h2 id="person-title" { "Whose record this is" }
            @if let Some(notice) = flashed.notice_at("person") { (flash::notice(notice)) }
            p { "Say who " (record.words()) " is about, so that if they ask, everything Heard holds about them can be shown to them or erased together." }
            @match &rights.person {
                Some(code) => {
                    dl class="summary-list" {
                        div { dt { "Person code" } dd { code class="person-code" { (code) } } }
                    }
                    p { a href={ "/people/" (code) } { "What Heard holds about this person" } }
                }
                None => { p { "It is not linked to a person yet." } }
            }
            @if rights.erased {
                p { "The person's records were erased, so nothing more can be linked to them." }
            } @else {
                details class="person-form" open[rights.person.is_none() || !errors.is_empty()] {
                    summary { @if rights.person.is_some() { "This is someone else" } @else { "Say who this is" } }
                    form method="post" action=(action) novalidate {
                        (csrf_field(csrf))
                        div class={ "field" @if choice_error.is_some() { " field--error" } } {
                            fieldset aria-describedby={ "person_choice-hint" @if choice_error.is_some() { " person_choice-error" } } {
                                legend { "Who is this?" }
                                p class="hint" id="person_choice-hint" { "The person code is on everything Heard keeps about them. Never write their name here." }
                                @if let Some(error) = choice_error {
                                    p class="field-error" id="person_choice-error" { span class="visually-hidden" { "Error: " } (error) }
                                }
                                div class="choices" {
                                    div class="choice" {
                                        input id="person_choice" name="person_choice" type="radio" value="new";
                                        label for="person_choice" { "This is a new person: Heard makes a code for them" }
                                    }
                                    div class="choice" {
                                        input id="person_choice-1" name="person_choice" type="radio" value="same";
                                        label for="person_choice-1" { "The same person as a code you already hold" }
                                    }
                                }
                            }
                        }
                        (forms::input(Input { id: "person_code", label: "Their person code, if you chose the same person", kind: "text", value: "", hint: Some("For example 6f1c2a9e-51b4-4d0e-9a55-3c2f8e1d7b40, as it was written down."), autocomplete: Some("off") }, errors))
                        button class="button" type="submit" { "Save who this is" }
                    }
                }
            }
        }
    }
}

/// What the provider reads of a complaint's words, as the complaints team reviewed them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ProviderReads {
    Erased,
    /// Nobody reviewed the words yet: the provider reads none of them.
    Nothing,
    /// The version a handler wrote.
    Written,
    /// The words as written: a handler found nothing to take out.
    AsWritten,
}

impl ProviderReads {
    fn of(rights: &Rights) -> ProviderReads {
        match (rights.erased, rights.provider_words.as_deref(), &rights.redacted_for_provider) {
            (true, _, _) => ProviderReads::Erased,
            (false, Some("REDACTED"), _) | (false, None, Some(_)) => ProviderReads::Written,
            (false, Some("AS_WRITTEN"), _) => ProviderReads::AsWritten,
            _ => ProviderReads::Nothing,
        }
    }
}

/// A complaint's words as the provider reads them: none until a handler reviews them, then the
/// version the handler wrote (the form that takes names out) or, when there is nothing to take
/// out, the words as written (the button that says so).
fn provider_section(csrf: &str, id: &str, rights: &Rights, flashed: &Flashed, errors: &Errors) -> Markup {
    let prefilled = rights.redacted_for_provider.as_deref().or(rights.what_happened.as_deref()).unwrap_or_default();
    let reads = ProviderReads::of(rights);
    let id = crate::kit::urlencode(id);
    html! {
        section class="card provider-words" id="provider" aria-labelledby="provider-title" {
            h2 id="provider-title" { "What the provider reads" }
            @if let Some(notice) = flashed.notice_at("provider") { (flash::notice(notice)) }
            @match (reads, &rights.redacted_for_provider) {
                (ProviderReads::Erased, _) => { p { "The complaint's words were erased: the provider reads nothing of them." } }
                (ProviderReads::Written, Some(redacted)) => {
                    p { "The provider reads this version, not the words as they were written:" }
                    blockquote class="said" { p { (redacted) } }
                }
                (ProviderReads::Written, None) => {
                    p { "The provider reads a version you wrote for them, never the words as they were written." }
                }
                (ProviderReads::AsWritten, _) => {
                    p { "The complaints team found nothing to take out: the provider reads the complaint's words as they were written." }
                    p { "If something should come out after all, save a version below: from then on the provider reads only that." }
                }
                (ProviderReads::Nothing, _) => {
                    p class="warning" { "The provider reads none of the complaint's words until you review them: they see only the dates, the rights named and where it stands, and \"Awaiting the complaints team's review of the words\" in place of the words." }
                    p { "Take out names, places and anything else that could tell the service who complained and save that version, or say there is nothing to take out." }
                }
            }
            @if reads != ProviderReads::Erased {
                form method="post" action={ "/complaints/" (id) "/provider-words" } novalidate {
                    (csrf_field(csrf))
                    (forms::textarea("provider_text", "The words the provider will read", prefilled, Some("Take out names, places, dates and anything else that could tell the service who complained. People fear it could affect their treatment."), errors))
                    button class="button" type="submit" { "Save what the provider reads" }
                }
            }
            @if reads == ProviderReads::Nothing {
                form class="as-written" method="post" action={ "/complaints/" (id) "/provider-words/as-written" } novalidate {
                    (csrf_field(csrf))
                    p class="hint" id="as-written-hint" { "Only when what happened and what they want to happen hold nothing that could tell the service who complained. The provider then reads both as they were written." }
                    button class="button button--secondary" type="submit" aria-describedby="as-written-hint" { "Nothing to take out: the provider may read the words as written" }
                }
            }
        }
    }
}

/// The fields of the "whose record" form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PersonForm {
    pub(super) person_choice: String,
    pub(super) person_code: String,
}

impl PersonForm {
    /// The person to send: `Ok(None)` for a new person, `Ok(Some(code))` for the same person as
    /// a code; or what is wrong, and beside which field.
    pub(crate) fn person(&self) -> Result<Option<String>, (&'static str, &'static str)> {
        match self.person_choice.as_str() {
            "new" if self.person_code.trim().is_empty() => Ok(None),
            "new" => Err(("person_code", "Leave the code empty for a new person, or choose the same person as that code")),
            "same" if self.person_code.trim().is_empty() => Err(("person_code", "Enter the person code they or you hold")),
            "same" => person_code(&self.person_code).map(Some).ok_or((
                "person_code",
                "Enter the person code as it was written down: 32 letters and numbers in five groups, like 6f1c2a9e-51b4-4d0e-9a55-3c2f8e1d7b40",
            )),
            _ => Err(("person_choice", "Choose whether this is a new person or the same person as a code you hold")),
        }
    }
}

/// The page's field for an error the API named: the person's code, or the form as a whole.
pub(crate) fn person_field(api_field: Option<&str>) -> &'static str {
    match api_field.map(crate::kit::field_id).as_deref() {
        Some("person") => "person_code",
        _ => "person_choice",
    }
}

/// What an attribute mutation answers: the record's person.
#[derive(Debug, Default, Deserialize)]
struct Attributed {
    person: Option<String>,
}

/// `POST /feedback/{id}/person`, `/cases/{id}/person`, `/complaints/{id}/person`: says whose
/// record it is (`attributeFeedback`, `attributeCase`, `attributeComplaint`), then back to the
/// record's page, at the section, with a notice or the error beside its field.
pub async fn attribute<B: Backend>(
    State(backend): State<B>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
    PostedForm { viewer, form, .. }: PostedForm<PersonForm>,
) -> Response {
    if from_another_site(&headers) {
        return refused_from_another_site();
    }
    let Some(record) = Record::from_path(uri.path()) else { return see_other("/") };
    let back = format!("{}#person", record.page(&id));
    let person = match form.person() {
        Ok(person) => person,
        Err((field, message)) => return flash::redirect(&backend, &viewer, &back, Flash::error(message).at(field)),
    };
    let (mutation, argument) = record.attribute_mutation();
    let query = format!("mutation($id: ID!, $p: ID) {{ {mutation}({argument}: $id, person: $p) {{ person }} }}");
    let answer = ask(&backend, &viewer, &query, json!({ "id": id, "p": person })).await;
    if let Some((field, _, message)) = answer.errors.first() {
        if not_found_answer(&answer) {
            return crate::pages::not_found(Visitor { viewer, csrf: None }).await;
        }
        return flash::redirect(
            &backend,
            &viewer,
            &back,
            Flash::error(plain(message)).at(person_field(field.as_deref())),
        );
    }
    let code = answer.decode::<Attributed>(mutation).and_then(|done| done.person);
    let notice = match (&code, person.is_some()) {
        (Some(code), true) => format!("Saved: this is the person with code {code}."),
        (Some(code), false) => format!(
            "Saved as a new person, with code {code}. Give them the code if they want to ask about their records."
        ),
        (None, _) => "Saved.".to_owned(),
    };
    flash::redirect(&backend, &viewer, &back, Flash::notice(notice).at("person"))
}

/// The fields of the provider's words form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ProviderForm {
    provider_text: String,
}

/// `POST /complaints/{id}/provider-words`: the complaint's words as the provider will read
/// them (`redactComplaintForProvider`), then back to the complaint.
pub async fn provider_words<B: Backend>(
    State(backend): State<B>,
    headers: HeaderMap,
    Path(id): Path<String>,
    PostedForm { viewer, form, .. }: PostedForm<ProviderForm>,
) -> Response {
    if from_another_site(&headers) {
        return refused_from_another_site();
    }
    let back = format!("{}#provider", Record::Complaint.page(&id));
    let text = form.provider_text.trim();
    if text.is_empty() {
        let error = Flash::error("Write the words the provider will read").at("provider_text");
        return flash::redirect(&backend, &viewer, &back, error);
    }
    let query = "mutation($id: ID!, $t: String!) { redactComplaintForProvider(complaintId: $id, text: $t) { id } }";
    let saved = "Saved. The provider reads this version now.";
    save_provider_words(backend, viewer, &back, query, json!({ "id": id, "t": text }), saved).await
}

/// Runs `query`, a change to the words the provider reads, then back to the complaint (`back`)
/// saying `saved`, or with the API's error beside the words (the site's 404 for a complaint
/// that is not there).
async fn save_provider_words<B: Backend>(
    backend: B,
    viewer: Viewer,
    back: &str,
    query: &str,
    variables: Value,
    saved: &str,
) -> Response {
    let answer = ask(&backend, &viewer, query, variables).await;
    if let Some((_, _, message)) = answer.errors.first() {
        if not_found_answer(&answer) {
            return crate::pages::not_found(Visitor { viewer, csrf: None }).await;
        }
        return flash::redirect(&backend, &viewer, back, Flash::error(plain(message)).at("provider_text"));
    }
    flash::redirect(&backend, &viewer, back, Flash::notice(saved).at("provider"))
}

/// `POST /complaints/{id}/provider-words/as-written`: the complaints team found nothing to take
/// out of the complaint's words (`releaseComplaintWordsToProvider`), so the provider reads them
/// as written; then back to the complaint.
pub async fn provider_words_as_written<B: Backend>(
    State(backend): State<B>,
    headers: HeaderMap,
    Path(id): Path<String>,
    PostedForm { viewer, .. }: PostedForm,
) -> Response {
    if from_another_site(&headers) {
        return refused_from_another_site();
    }
    let back = format!("{}#provider", Record::Complaint.page(&id));
    let query = "mutation($id: ID!) { releaseComplaintWordsToProvider(complaintId: $id) { id } }";
    let saved = "Saved. The provider reads the complaint's words as they were written now.";
    save_provider_words(backend, viewer, &back, query, json!({ "id": id }), saved).await
}

/// `GET` of a form's address (a bookmark, or Back after it was sent): the record's page.
pub async fn back_to_record(uri: axum::http::Uri, Path(id): Path<String>) -> Response {
    match Record::from_path(uri.path()) {
        Some(record) => see_other(&record.page(&id)),
        None => see_other("/"),
    }
}
