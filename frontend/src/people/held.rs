//! `/people`: finding a person by their code; `/people/{code}`: what Heard holds about them, as
//! a page to read with them or print (subject access); `/people/{code}/held.json`: the same
//! answer as a file to give them.
//!
//! The page asks `subjectAccess` for every field the schema holds ([`super::schema`]) and shows
//! each in words: a record's fields as a list of question and answer, its parts (consent over
//! time, a case's actions, a complaint's steps) as lists under it, the access log as a table.
//! Days read as people write them, codes (`ONE_TO_ONE`) as words, ids are left to the file.

use super::*;

/// `GET /people?code=…`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FindQuery {
    code: Option<String>,
}

fn find_page(viewer: &Viewer, csrf: &str, typed: &str, errors: &Errors) -> Markup {
    let body = html! {
        h1 { "Find a person's records" }
        p class="lead" { "When someone asks what Heard holds about them, or asks for it to be erased, find them by the person code you gave them or keep for them." }
        form method="get" action="/people" novalidate {
            (forms::input(Input { id: "code", label: "Person code", kind: "text", value: typed, hint: Some("For example 6f1c2a9e-51b4-4d0e-9a55-3c2f8e1d7b40. It is on the record of their feedback, case or complaint."), autocomplete: Some("off") }, errors))
            button class="button" type="submit" { "Find" }
        }
        p { "You see only the records you keep for them; others who keep records for them see theirs." }
    };
    form_page(viewer, "Find a person's records", Some(csrf), errors, body)
}

/// `GET /people`: the form; with `?code=`, the person's page (`303`), or the form with what is
/// wrong beside the code.
pub async fn find(SignedIn { viewer, csrf }: SignedIn, Query(query): Query<FindQuery>) -> Response {
    if !acts_for_people(&viewer) {
        return not_for_you(&viewer, &csrf);
    }
    let Some(typed) = query.code else {
        return find_page(&viewer, &csrf, "", &Errors::default()).into_response();
    };
    let mut errors = Errors::default();
    match person_code(&typed) {
        Some(code) => return see_other(&format!("/people/{code}")),
        None if typed.trim().is_empty() => errors.add("code", "Enter the person code"),
        None => errors.add(
            "code",
            "Enter the person code as it was written down: 32 letters and numbers in five groups, like 6f1c2a9e-51b4-4d0e-9a55-3c2f8e1d7b40",
        ),
    }
    no_store((StatusCode::UNPROCESSABLE_ENTITY, find_page(&viewer, &csrf, typed.trim(), &errors)).into_response())
}

/// What the person's page needs first: the privacy part of the answer.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Privacy {
    pub person: String,
    #[serde(deserialize_with = "crate::kit::null_as_default")]
    pub requested_at: String,
    pub erased: bool,
    pub erased_at: Option<String>,
}

/// `subjectAccess` for `code`, every field the schema holds: the answer, or the response to
/// give instead (the site's 404 for a person the viewer may not act for, or none).
pub(super) async fn subject_access<B: Backend>(
    backend: &B,
    viewer: &Viewer,
    csrf: &str,
    code: &str,
) -> Result<Value, Response> {
    let Some(code) = person_code(code) else { return Err(person_not_found(viewer.clone(), csrf.to_owned()).await) };
    let query = super::schema::subject_access_query(backend, viewer).await;
    let answer = ask(backend, viewer, &query, json!({ "p": code })).await;
    let held = answer.data.get("subjectAccess").filter(|held| !held.is_null()).cloned();
    match held {
        Some(held) if !not_found_answer(&answer) => Ok(held),
        _ if not_found_answer(&answer) || answer.errors.is_empty() => {
            Err(person_not_found(viewer.clone(), csrf.to_owned()).await)
        }
        _ => {
            let body = html! {
                h1 { "Heard could not read this person's records" }
                p { "Try again in a minute. If it keeps happening, tell your administrator." }
            };
            Err(no_store(
                (StatusCode::SERVICE_UNAVAILABLE, page(viewer, "Could not read the records", Some(csrf), body))
                    .into_response(),
            ))
        }
    }
}

/// The address's person code, as the page and the file read it.
type CodePath = Result<Path<String>, axum::extract::rejection::PathRejection>;

/// [`subject_access`] for the person whose code is in the address, or the response to give
/// instead (also the 403 for someone who acts for nobody, and the site's 404 for an address that
/// is no code at all).
async fn held_at<B: Backend>(backend: &B, viewer: &Viewer, csrf: &str, code: CodePath) -> Result<Value, Response> {
    if !acts_for_people(viewer) {
        return Err(not_for_you(viewer, csrf));
    }
    let Ok(Path(code)) = code else { return Err(person_not_found(viewer.clone(), csrf.to_owned()).await) };
    subject_access(backend, viewer, csrf, &code).await
}

/// `GET /people/{code}`: what Heard holds about the person, as far as the viewer may see it.
pub async fn show<B: Backend>(
    State(backend): State<B>,
    SignedIn { viewer, csrf }: SignedIn,
    code: CodePath,
) -> Response {
    match held_at(&backend, &viewer, &csrf, code).await {
        Ok(held) => no_store(held_page(&viewer, &csrf, &held).into_response()),
        Err(response) => response,
    }
}

/// `GET /people/{code}/held.json`: the same answer as a file to give the person.
pub async fn download<B: Backend>(
    State(backend): State<B>,
    SignedIn { viewer, csrf }: SignedIn,
    code: CodePath,
) -> Response {
    let held = match held_at(&backend, &viewer, &csrf, code).await {
        Ok(held) => held,
        Err(response) => return response,
    };
    let json = serde_json::to_string_pretty(&held).unwrap_or_default();
    attachment(json, "application/json; charset=utf-8", &format!("heard-what-is-held-{}.json", crate::kit::today()))
}

/// The parts of the answer, in the order the page shows them: (field, heading, one record).
const PARTS: [(&str, &str, &str); 3] = [
    ("feedbackItems", "Feedback they gave", "Feedback"),
    ("cases", "Advocacy cases", "Case"),
    ("complaints", "Complaints", "Complaint"),
];

/// The page (see the module's documentation).
pub(super) fn held_page(viewer: &Viewer, csrf: &str, held: &Value) -> Markup {
    let privacy: Privacy = Privacy::deserialize(held).unwrap_or_default();
    let list = |key: &str| held.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
    let access = list("accessLog");
    let body = html! {
        p class="no-print" { a href="/people" { "Find another person" } }
        h1 { "What Heard holds about this person" }
        dl class="summary-list" {
            div { dt { "Person code" } dd { code class="person-code" { (privacy.person) } } }
            @if !privacy.requested_at.is_empty() {
                div { dt { "Made on" } dd { (when_words(&privacy.requested_at)) } }
            }
        }
        p { "This is everything about them that you keep for them. Others who keep records for them see theirs. Asking for this page is recorded." }
        @if privacy.erased {
            div class="warning erased" role="note" {
                p { "Everything about this person was erased"
                    @if let Some(on) = &privacy.erased_at { " on " (when_words(on)) } "." }
                p { "Their words and details are gone for good. What is left are facts that identify nobody: dates, themes and where things stood." }
            }
        }
        div class="report-actions" {
            button type="button" class="button print-report" hidden { "Print" }
            a class="button button--secondary" href={ "/people/" (privacy.person) "/held.json" } download { "Download as JSON" }
            p class="hint" { "Give the person a printed copy, or the file. The file holds the same, as data." }
        }
        nav class="on-this-page no-print" aria-labelledby="contents-title" {
            h2 id="contents-title" { "On this page" }
            ul {
                @for (key, heading, _) in PARTS {
                    li { a href={ "#" (key) } { (heading) " (" (list(key).len()) ")" } }
                }
                li { a href="#accessLog" { "Who has read their case or complaint (" (access.len()) ")" } }
            }
        }
        @for (key, heading, one) in PARTS {
            @let records = list(key);
            section class="held" aria-labelledby=(key) {
                h2 id=(key) { (heading) }
                @if records.is_empty() { p { "None that you keep." } }
                @for (n, record) in records.iter().enumerate() {
                    (held_record(one, n + 1, record, privacy.erased))
                }
            }
        }
        section class="held" aria-labelledby="accessLog" {
            h2 id="accessLog" { "Who has read their case or complaint" }
            @if access.is_empty() { p { "Nobody yet, that you can see." } } @else { (access_table(&access)) }
        }
        @if !privacy.erased {
            section class="no-print" aria-labelledby="erase-title" {
                h2 id="erase-title" { "If they ask for it all to be erased" }
                p { a href={ "/people/" (privacy.person) "/erase" } { "Erase everything about this person" } }
            }
        }
        script src="/assets/reports.js" defer {}
    };
    page(viewer, "What Heard holds about this person", Some(csrf), body)
}

/// One record: a heading (its kind, number and first day), then every field in words.
fn held_record(one: &str, n: usize, record: &Value, all_erased: bool) -> Markup {
    let erased = all_erased || record.get("erased").and_then(Value::as_bool).unwrap_or(false);
    let day = ["saidOn", "referredOn", "receivedOn", "on", "at"]
        .iter()
        .find_map(|key| record.get(*key).and_then(Value::as_str))
        .map(when_words);
    html! {
        article class="held-record" {
            h3 { (one) " " (n) @if let Some(day) = &day { ": " (day) } }
            (fields(record, erased))
        }
    }
}

/// A record's fields, each as question and answer; ids and type names are left to the file.
fn fields(record: &Value, erased: bool) -> Markup {
    let Some(object) = record.as_object() else { return html! { (scalar_words("", record, erased)) } };
    let mut kept: Vec<(&String, &Value)> = object.iter().filter(|(key, _)| shown(key)).collect();
    kept.sort_by_key(|(key, _)| place(key));
    html! {
        dl class="summary-list" {
            @for (key, value) in kept {
                div {
                    dt { (label(key)) }
                    dd { (value_words(key, value, erased)) }
                }
            }
        }
    }
}

/// Whether a field is for people to read (ids and type names are for the file).
fn shown(key: &str) -> bool {
    !matches!(key, "id" | "person") && !key.ends_with("Id") && !key.ends_with("Ids") && !key.starts_with("__")
}

/// A value in words: a list of parts as a list, a part as its own fields, a scalar in words.
fn value_words(key: &str, value: &Value, erased: bool) -> Markup {
    match value {
        Value::Array(items) if items.is_empty() => html! { "None" },
        Value::Array(items) if items.iter().all(|item| !item.is_object()) => {
            let words: Vec<String> = items.iter().map(|item| scalar_words(key, item, erased)).collect();
            html! { (words.join(", ")) }
        }
        Value::Array(items) => html! {
            ol class="held-parts" {
                @for item in items { li { (part_words(item, erased)) } }
            }
        },
        Value::Object(_) => part_words(value, erased),
        scalar => html! { (scalar_words(key, scalar, erased)) },
    }
}

/// A part of a record (one consent change, one action, one step) on one line when it is
/// small, or as its own list.
fn part_words(part: &Value, erased: bool) -> Markup {
    let Some(object) = part.as_object() else { return html! { (scalar_words("", part, erased)) } };
    let kept: Vec<(&String, &Value)> = object.iter().filter(|(key, _)| shown(key)).collect();
    if kept.len() == 1 && kept.iter().all(|(_, value)| !value.is_object() && !value.is_array()) {
        let (key, value) = kept[0];
        return html! { (scalar_words(key, value, erased)) };
    }
    fields(part, erased)
}

/// Heard's words for the fields it knows, in the order a record shows them; any other field
/// follows, in its name's words.
const LABELS: [(&str, &str); 62] = [
    ("reference", "Reference"),
    ("saidOn", "Said on"),
    ("receivedOn", "Received on"),
    ("referredOn", "Referred on"),
    ("acceptedOn", "Accepted on"),
    ("at", "When"),
    ("on", "On"),
    ("hub", "Hub"),
    ("hubName", "Hub"),
    ("provider", "Service provider"),
    ("providerName", "Service provider"),
    ("service", "Service"),
    ("channel", "How it was heard"),
    ("about", "About"),
    ("kind", "Kind"),
    ("domain", "Area"),
    ("speaker", "How they gave their name"),
    ("speakerName", "Their name"),
    ("pseudonym", "The name used for them"),
    ("clientName", "Their name"),
    ("clientContact", "How to contact them"),
    ("complainantKind", "Who complained"),
    ("complainantName", "Their name"),
    ("complainantContact", "How to contact them"),
    ("text", "Their words"),
    ("redactedText", "Their words as shared outside the hub"),
    ("issue", "The issue, in their words"),
    ("whatHappened", "What happened"),
    ("outcomeWanted", "What they wanted to happen"),
    ("redactedForProvider", "The words the provider reads"),
    ("articles", "Rights named"),
    ("themes", "Themes"),
    ("consent", "Who may see it"),
    ("scope", "Who may see it"),
    ("consentHistory", "Who may see it, over time"),
    ("sharedAt", "Shared outside the hub"),
    ("safeguarding", "Flagged for safeguarding"),
    ("loopState", "Where it stands"),
    ("state", "Where it stands"),
    ("stage", "Stage"),
    ("outcome", "Outcome"),
    ("closedOn", "Closed on"),
    ("clientView", "Their own view of the outcome"),
    ("step", "What happened"),
    ("detail", "Details"),
    ("words", "What was written"),
    ("actions", "What was done"),
    ("timeline", "Everything that happened"),
    ("steps", "Every step"),
    ("history", "History"),
    ("recordedOn", "Recorded on"),
    ("by", "Who"),
    ("byName", "Who"),
    ("who", "Who"),
    ("actorName", "Who"),
    ("actorRoles", "Their role"),
    ("action", "What they did"),
    ("recordKind", "Which record"),
    ("allowed", "Allowed"),
    ("erased", "Erased"),
    ("erasedAt", "Erased on"),
    ("requestedAt", "Asked for on"),
];

/// Where a field comes in a record: Heard's order for the fields it knows, then the rest.
fn place(key: &str) -> usize {
    LABELS.iter().position(|(name, _)| *name == key).unwrap_or(LABELS.len())
}

/// Words for a field's name: Heard's own for the names it knows, else its name in words
/// (`acknowledgedHow` → "Acknowledged how").
pub(super) fn label(key: &str) -> String {
    if let Some((_, words)) = LABELS.iter().find(|(name, _)| *name == key) {
        return (*words).to_owned();
    }
    sentence(&crate::kit::uncamel(key, ' '))
}

/// The first letter a capital.
fn sentence(words: &str) -> String {
    let mut chars = words.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A scalar in words: yes or no, a day or a time as people write them, a code in words, and a
/// missing value as erased (on an erased record) or not recorded.
pub(super) fn scalar_words(key: &str, value: &Value, erased: bool) -> String {
    const CODES: [(&str, &str); 14] = [
        ("HUB", "The hub only"),
        ("COMMISSIONERS", "The hub and commissioners"),
        ("PUBLIC", "Anyone: it may be published"),
        ("WITHDRAWN", "Withdrawn"),
        ("FORUM", "Forum meeting"),
        ("DROP_IN", "Drop-in"),
        ("ONE_TO_ONE", "One-to-one"),
        ("PHONE", "Phone or text"),
        ("ANONYMOUS", "Anonymous"),
        ("PSEUDONYMOUS", "Under another name"),
        ("NAMED", "By their name"),
        ("RELAYED_BY_ADVOCATE", "Passed on by their advocate"),
        ("VIEW_CASE", "Read the case"),
        ("VIEW_COMPLAINT", "Read the complaint"),
    ];
    match value {
        Value::Null if erased => "Erased".to_owned(),
        Value::Null => "Not recorded".to_owned(),
        Value::Bool(true) => "Yes".to_owned(),
        Value::Bool(false) => "No".to_owned(),
        Value::Number(n) => n.to_string(),
        Value::String(text) if text.is_empty() => "Not recorded".to_owned(),
        // An account, by its id (who changed consent): the file holds the id.
        Value::String(text) if Uuid::try_parse(text).is_ok() => "A Heard account (its id is in the file)".to_owned(),
        Value::String(text) => {
            if let Some((_, words)) = CODES.iter().find(|(code, _)| code == text) {
                return (*words).to_owned();
            }
            let code = text.len() > 1 && text.chars().all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit());
            if code && !key.ends_with("reference") && key != "reference" {
                return sentence(&text.replace('_', " ").to_lowercase());
            }
            // The steps' own codes (`consent_recorded`, `view_case`, `achieved, issue_resolved`).
            if matches!(key, "step" | "detail" | "action" | "recordKind")
                && text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_, ".contains(c))
            {
                return sentence(&text.replace('_', " "));
            }
            when_words(text)
        }
        other => other.to_string(),
    }
}

/// The access log as a table: a column for each field of its entries.
fn access_table(entries: &[Value]) -> Markup {
    let mut columns: Vec<&str> = Vec::new();
    for entry in entries {
        for key in entry.as_object().into_iter().flat_map(|object| object.keys()) {
            if shown(key) && !columns.contains(&key.as_str()) {
                columns.push(key);
            }
        }
    }
    columns.sort_by_key(|column| place(column));
    html! {
        div class="table-scroll" role="region" aria-labelledby="access-caption" tabindex="0" {
            table class="figures" {
                caption id="access-caption" { "Each time someone read their case or complaint" }
                thead { tr { @for column in &columns { th scope="col" { (label(column)) } } } }
                tbody {
                    @for entry in entries {
                        tr {
                            @for column in &columns {
                                td { (entry.get(*column).map(|value| cell_words(column, value)).unwrap_or_default()) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A cell of the access log: a list (an account's roles) as its words, joined.
fn cell_words(column: &str, value: &Value) -> String {
    match value {
        Value::Array(items) => {
            items.iter().map(|item| scalar_words(column, item, false)).collect::<Vec<_>>().join(", ")
        }
        Value::Null if column == "actorName" => "Someone not logged in, or an account since erased".to_owned(),
        other => scalar_words(column, other, false),
    }
}
