//! `/people/{code}/erase`: erasing everything Heard holds about a person, at their request.
//!
//! 1. `GET /people/{code}/erase`: what will happen, in plain words (their words and details are
//!    destroyed for good, on every record about them; counts, dates and themes stay in
//!    reports; it cannot be undone), how many of their records the viewer keeps, and a
//!    confirmation that must be ticked.
//! 2. `POST` with `step=check`: without the tick, the page again with the error beside it;
//!    with it, `303` to `GET /people/{code}/erase/check`, check your answers, whose form
//!    carries a fresh random `attempt`.
//! 3. `POST` with `step=erase`: `eraseSubject`, once for each `attempt` of each session however
//!    often the form is sent (a double click, Back and send again, two tabs): the first post
//!    runs it, every other waits for it and is answered the same ([`Erasures`]). A person
//!    already erased (by someone else, or before a restart) is not erased again; the page says
//!    when it was.
//! 4. `GET /people/{code}/erased?attempt=…`: how many records were erased.
//!
//! Every post carries the session's CSRF token and is refused when another website sent it.
//! A person the viewer may not act for is the site's "Page not found" at every step.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::OnceCell;

use super::held::Privacy;
use super::*;
use crate::once::{KEPT_FOR, MAX_KEPT};

/// What an erasure came to, kept for the page that says so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Erased now: how many of the person's records the viewer keeps were erased, and when.
    Erased { records: i64, at: String },
    /// The person was erased before (when, if the answer said).
    AlreadyErased { at: Option<String> },
}

/// One attempt: its person, and its outcome once there is one (set once, by the first post).
type Attempt = (Instant, String, Arc<OnceCell<Outcome>>);

/// The erasures asked for, by (session, attempt): each runs once, and the page after it reads
/// what came of it. Kept in memory for [`KEPT_FOR`], at most [`MAX_KEPT`]; a restart forgets
/// them, and the person's page then says they were erased, and when.
#[derive(Clone, Debug, Default)]
pub(crate) struct Erasures {
    attempts: Arc<Mutex<HashMap<(Uuid, Uuid), Attempt>>>,
}

impl Erasures {
    /// The attempt's cell, made when it is the first post of it. `None` when the attempt was
    /// for another person.
    fn cell(&self, session: Uuid, attempt: Uuid, person: &str) -> Option<Arc<OnceCell<Outcome>>> {
        let mut attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        attempts.retain(|_, (at, _, _)| at.elapsed() < KEPT_FOR);
        while attempts.len() >= MAX_KEPT {
            let Some(oldest) = attempts.iter().min_by_key(|(_, (at, _, _))| *at).map(|(key, _)| *key) else { break };
            attempts.remove(&oldest);
        }
        let (_, kept_person, cell) =
            attempts.entry((session, attempt)).or_insert_with(|| (Instant::now(), person.to_owned(), Arc::default()));
        (kept_person == person).then(|| cell.clone())
    }

    /// What the attempt came to, if it is done and still kept.
    fn outcome(&self, session: Uuid, attempt: Uuid, person: &str) -> Option<Outcome> {
        let attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        let (at, kept_person, cell) = attempts.get(&(session, attempt))?;
        (at.elapsed() < KEPT_FOR && kept_person == person).then(|| cell.get().cloned()).flatten()
    }
}

/// How many of the person's records the viewer keeps, and whether they were erased.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Held {
    #[serde(flatten)]
    privacy: Privacy,
    feedback_items: Vec<Value>,
    cases: Vec<Value>,
    complaints: Vec<Value>,
}

impl Held {
    fn counts(&self) -> String {
        let parts = [
            counted(self.feedback_items.len(), "feedback item", "feedback items"),
            counted(self.cases.len(), "advocacy case", "advocacy cases"),
            counted(self.complaints.len(), "complaint", "complaints"),
        ];
        format!("{}, {} and {}", parts[0], parts[1], parts[2])
    }
}

/// The query for [`Held`]: the privacy part, and each service's part the schema has (counted,
/// nothing more read).
async fn held_query<B: Backend>(backend: &B, viewer: &Viewer) -> String {
    let has = super::schema::fields_of(backend, viewer, "SubjectAccess").await;
    let parts: String = ["feedbackItems", "cases", "complaints"]
        .iter()
        .filter(|part| has.iter().any(|name| name == *part))
        .map(|part| format!(" {part} {{ __typename }}"))
        .collect();
    format!("query($p: ID!) {{ subjectAccess(person: $p) {{ person requestedAt erased erasedAt{parts} }} }}")
}

/// The person, as far as the viewer may act for them; or the response instead (the 403 for
/// someone who acts for nobody, the site's 404 for anyone the API hides them from).
async fn held<B: Backend>(backend: &B, viewer: &Viewer, csrf: &str, code: &str) -> Result<(String, Held), Response> {
    if !acts_for_people(viewer) {
        return Err(not_for_you(viewer, csrf));
    }
    let Some(code) = person_code(code) else { return Err(person_not_found(viewer.clone(), csrf.to_owned()).await) };
    let answer = ask(backend, viewer, &held_query(backend, viewer).await, json!({ "p": code })).await;
    match answer.decode::<Held>("subjectAccess") {
        Some(held) if answer.errors.is_empty() => Ok((code, held)),
        _ => Err(person_not_found(viewer.clone(), csrf.to_owned()).await),
    }
}

/// [`held`], for a page that leads to erasing them: for a person already erased, the page that
/// says so instead.
async fn not_yet_erased<B: Backend>(
    backend: &B,
    viewer: &Viewer,
    csrf: &str,
    code: &str,
) -> Result<(String, Held), Response> {
    let (code, held) = held(backend, viewer, csrf, code).await?;
    if held.privacy.erased {
        return Err(already_erased(viewer, csrf, &code, held.privacy.erased_at.as_deref()));
    }
    Ok((code, held))
}

/// The first page again, after the confirmation was not ticked: the error beside it.
fn not_confirmed(viewer: &Viewer, csrf: &str, code: &str, held: &Held) -> Response {
    let mut errors = Errors::default();
    errors.add("confirm", "Tick to confirm the person asked for everything about them to be erased");
    let page = explain_page(viewer, csrf, code, held, &errors);
    no_store((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// The page for a person already erased: when, and nothing to send.
fn already_erased(viewer: &Viewer, csrf: &str, code: &str, at: Option<&str>) -> Response {
    let body = html! {
        h1 { "Everything about this person was already erased" }
        p { "Their records were erased" @if let Some(at) = at { " on " (when_words(at)) } ". There is nothing left to erase." }
        p { a href={ "/people/" (code) } { "What Heard still holds: facts that identify nobody" } }
    };
    no_store(page(viewer, "Already erased", Some(csrf), body).into_response())
}

/// The confirmation's words, on the form and on the check page.
const CONFIRM: &str = "The person asked for everything about them to be erased, and I have checked this is their code";

fn explain_page(viewer: &Viewer, csrf: &str, code: &str, held: &Held, errors: &Errors) -> Markup {
    let error = errors.of("confirm");
    let body = html! {
        p { a href={ "/people/" (code) } { "Back to what Heard holds about this person" } }
        h1 { "Erase everything about this person" }
        dl class="summary-list" {
            div { dt { "Person code" } dd { code class="person-code" { (code) } } }
            div { dt { "What you keep for them" } dd { (sentence_case(&held.counts())) } }
        }
        h2 { "What will happen" }
        ul class="erase-consequences" {
            li { "Their words and details are destroyed for good: what they said, their name and how to contact them, case notes, and the words of their complaints." }
            li { "This reaches every record about them, including any that other people keep for them." }
            li { "Counts, dates, themes and where things stood stay in reports, so nobody can tell who they were." }
            li { strong { "This cannot be undone. Nobody can get their words back, not even Heard." } }
        }
        p { "Only do this when the person has asked for it. They can ask to see what is held first." }
        form method="post" action={ "/people/" (code) "/erase" } novalidate {
            (csrf_field(csrf))
            input type="hidden" name="step" value="check";
            div class={ "field" @if error.is_some() { " field--error" } } {
                fieldset aria-describedby=[error.map(|_| "confirm-error")] {
                    legend { "Confirm" }
                    @if let Some(error) = error {
                        p class="field-error" id="confirm-error" { span class="visually-hidden" { "Error: " } (error) }
                    }
                    div class="choices" {
                        div class="choice" {
                            input id="confirm" name="confirm" type="checkbox" value="yes";
                            label for="confirm" { (CONFIRM) }
                        }
                    }
                }
            }
            button class="button" type="submit" { "Continue" }
        }
    };
    form_page(viewer, "Erase everything about this person", Some(csrf), errors, body)
}

fn sentence_case(words: &str) -> String {
    let mut chars = words.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// `GET /people/{code}/erase`.
pub async fn explain<B: Backend>(
    State(backend): State<B>,
    SignedIn { viewer, csrf }: SignedIn,
    Path(code): Path<String>,
) -> Response {
    match not_yet_erased(&backend, &viewer, &csrf, &code).await {
        Ok((code, held)) => no_store(explain_page(&viewer, &csrf, &code, &held, &Errors::default()).into_response()),
        Err(response) => response,
    }
}

/// `GET /people/{code}/erase/check?confirm=yes`: check your answers, then erase.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CheckQuery {
    confirm: String,
}

fn check_page(viewer: &Viewer, csrf: &str, code: &str, held: &Held) -> Markup {
    let attempt = Uuid::new_v4();
    let body = html! {
        p { a href={ "/people/" (code) "/erase" } { "Back" } }
        h1 { "Check before you erase everything about this person" }
        dl class="summary-list check-answers" {
            div {
                dt { "Person code" }
                dd { code class="person-code" { (code) } }
                dd class="change" { a href="/people" { "Change" span class="visually-hidden" { " the person" } } }
            }
            div {
                dt { "What you keep for them" }
                dd { (sentence_case(&held.counts())) ", and any records others keep for them" }
            }
            div {
                dt { "Why" }
                dd { "They asked for it: their right to have their data erased" }
            }
            div {
                dt { "Confirmed" }
                dd { (CONFIRM) }
                dd class="change" { a href={ "/people/" (code) "/erase" } { "Change" span class="visually-hidden" { " the confirmation" } } }
            }
        }
        p class="warning" { "Their words and details will be destroyed for good. This cannot be undone." }
        form method="post" action={ "/people/" (code) "/erase" } novalidate {
            (csrf_field(csrf))
            input type="hidden" name="step" value="erase";
            input type="hidden" name="confirm" value="yes";
            input type="hidden" name="attempt" value=(attempt);
            button class="button button--warning" type="submit" { "Erase everything now" }
        }
    };
    page(viewer, "Check before you erase", Some(csrf), body)
}

/// `GET /people/{code}/erase/check`: check your answers. Without the confirmation (an
/// address typed by hand), the first page again with the error beside it.
pub async fn check<B: Backend>(
    State(backend): State<B>,
    SignedIn { viewer, csrf }: SignedIn,
    Path(code): Path<String>,
    Query(query): Query<CheckQuery>,
) -> Response {
    let (code, held) = match not_yet_erased(&backend, &viewer, &csrf, &code).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if query.confirm != "yes" {
        return not_confirmed(&viewer, &csrf, &code, &held);
    }
    no_store(check_page(&viewer, &csrf, &code, &held).into_response())
}

/// The erase form's fields.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EraseForm {
    step: String,
    confirm: String,
    attempt: String,
}

/// What `eraseSubject` answers.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Erasure {
    erased_at: String,
    records: i64,
}

/// `POST /people/{code}/erase`: `step=check` goes on to check your answers; `step=erase`
/// erases, once per attempt (see the module's documentation).
pub async fn post<B: Backend>(
    State(backend): State<B>,
    axum::Extension(erasures): axum::Extension<Erasures>,
    headers: HeaderMap,
    Path(code): Path<String>,
    PostedForm { viewer, csrf, form }: PostedForm<EraseForm>,
) -> Response {
    if from_another_site(&headers) {
        return refused_from_another_site();
    }
    // A form sent again after its erasure: the same answer, without asking again (the person
    // may no longer be there to ask about).
    if let (Some(code), Some(session), Ok(attempt)) =
        (person_code(&code), viewer.session, Uuid::try_parse(&form.attempt))
        && erasures.outcome(session, attempt, &code).is_some()
    {
        return see_other(&format!("/people/{code}/erased?attempt={attempt}"));
    }
    let (code, held) = match held(&backend, &viewer, &csrf, &code).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if form.confirm != "yes" {
        return not_confirmed(&viewer, &csrf, &code, &held);
    }
    let check = format!("/people/{code}/erase/check?confirm=yes");
    let attempt = Uuid::try_parse(&form.attempt).ok();
    let (true, Some(session), Some(attempt)) = (form.step == "erase", viewer.session, attempt) else {
        return see_other(&check);
    };
    // The first post of an attempt runs it; any other waits for it, or finds it done.
    let Some(cell) = erasures.cell(session, attempt, &code) else { return see_other(&check) };
    let outcome = cell
        .get_or_try_init(|| async {
            if held.privacy.erased {
                return Ok(Outcome::AlreadyErased { at: held.privacy.erased_at.clone() });
            }
            let answer = ask(
                &backend,
                &viewer,
                "mutation($p: ID!) { eraseSubject(person: $p) { person erasedAt records } }",
                json!({ "p": code }),
            )
            .await;
            if answer.errors.is_empty()
                && let Some(erasure) = answer.decode::<Erasure>("eraseSubject")
            {
                return Ok(Outcome::Erased { records: erasure.records, at: erasure.erased_at });
            }
            // Erased meanwhile by someone else: not erased again, and said so.
            let again = ask(&backend, &viewer, &held_query(&backend, &viewer).await, json!({ "p": code })).await;
            match again.decode::<Held>("subjectAccess") {
                Some(held) if held.privacy.erased => Ok(Outcome::AlreadyErased { at: held.privacy.erased_at }),
                _ => Err(answer),
            }
        })
        .await;
    match outcome {
        Ok(_) => see_other(&format!("/people/{code}/erased?attempt={attempt}")),
        Err(answer) if not_found_answer(&answer) => person_not_found(viewer, csrf).await,
        Err(answer) => {
            let mut errors = Errors::default();
            for (_, _, message) in &answer.errors {
                errors.add("", plain(message));
            }
            if errors.is_empty() {
                errors.add("", crate::backend::UNDECODABLE);
            }
            let body = html! {
                h1 { "Nothing was erased" }
                p { "Heard could not erase this person's records just now. Nothing was changed." }
                p { a href={ "/people/" (code) "/erase" } { "Try again" } }
            };
            let page = form_page(&viewer, "Nothing was erased", Some(&csrf), &errors, body);
            no_store((StatusCode::CONFLICT, page).into_response())
        }
    }
}

/// `GET /people/{code}/erased?attempt=…`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DoneQuery {
    attempt: String,
}

/// `GET /people/{code}/erased`: what the erasure came to. Once the attempt is no longer kept
/// (ten minutes on, or after a restart), when the person was erased.
pub async fn done<B: Backend>(
    State(backend): State<B>,
    axum::Extension(erasures): axum::Extension<Erasures>,
    SignedIn { viewer, csrf }: SignedIn,
    Path(code): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Response {
    if !acts_for_people(&viewer) {
        return not_for_you(&viewer, &csrf);
    }
    let Some(code) = person_code(&code) else { return person_not_found(viewer, csrf).await };
    let kept = viewer
        .session
        .zip(Uuid::try_parse(&query.attempt).ok())
        .and_then(|(session, attempt)| erasures.outcome(session, attempt, &code));
    let held = match kept {
        Some(_) => Held::default(),
        None => match held(&backend, &viewer, &csrf, &code).await {
            Ok((_, held)) => held,
            Err(response) => return response,
        },
    };
    let said = match kept {
        Some(Outcome::Erased { records, at }) => {
            let what = match records {
                1 => "1 record you keep for them was erased".to_owned(),
                n => format!("{n} records you keep for them were erased"),
            };
            format!("{what}, on {}, with any that others keep for them.", when_words(&at))
        }
        Some(Outcome::AlreadyErased { at }) => match at {
            Some(at) => {
                format!("Their records had already been erased, on {}. Nothing more was erased.", when_words(&at))
            }
            None => "Their records had already been erased. Nothing more was erased.".to_owned(),
        },
        None if held.privacy.erased => match &held.privacy.erased_at {
            Some(at) => format!("Their records were erased on {}.", when_words(at)),
            None => "Their records were erased.".to_owned(),
        },
        None => return see_other(&format!("/people/{code}")),
    };
    let body = html! {
        div class="notice confirmation" role="status" {
            h1 { "Everything about this person is erased" }
            p { (said) }
        }
        p { "Their words and details are gone for good. Counts, dates and themes stay in reports, and identify nobody." }
        p { "If they asked for confirmation, you can tell them it is done." }
        p { a href="/" { "Back to your tasks" } }
    };
    no_store(page(&viewer, "Erased", Some(&csrf), body).into_response())
}
