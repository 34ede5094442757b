//! The rights pages, against a small schema of the agreed names (`subjectAccess`,
//! `eraseSubject`, `attributeFeedback`, a record's `person` and `erased`,
//! `redactComplaintForProvider`, `releaseComplaintWordsToProvider`), run in process as [`crate::Backend`] runs the real one.
//! Who is looking comes from a test header: `coordinator` keeps the person's feedback,
//! `nosy` is another hub's coordinator, `member` acts for nobody.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::{Context, EmptySubscription, ErrorExtensions, ID, Object, Schema, SimpleObject};
use axum::body::Body;
use axum::http::Request;
use heard_access::{Actor, Role};
use tower::ServiceExt as _;

use super::held::{label, scalar_words};
use super::record::{PersonForm, RightsSection, person_field};
use super::*;

const PERSON: &str = "6f1c2a9e-51b4-4d0e-9a55-3c2f8e1d7b40";
const ITEM: &str = "11111111-2222-4333-8444-555555555555";
const COMPLAINT: &str = "99999999-2222-4333-8444-555555555555";

// ---------------------------------------------------------------------------------------------
// The world behind the schema

#[derive(Default)]
struct World {
    erased: Mutex<bool>,
    erase_calls: AtomicUsize,
    item_person: Mutex<Option<String>>,
    provider_words: Mutex<Option<String>>,
    /// A handler found nothing to take out of the complaint's words.
    as_written: Mutex<bool>,
}

impl World {
    /// What the provider reads of the complaint's words (`Complaint.providerWords`).
    fn provider_reads(&self) -> String {
        match (self.provider_words.lock().unwrap().is_some(), *self.as_written.lock().unwrap()) {
            (true, _) => "REDACTED",
            (false, true) => "AS_WRITTEN",
            (false, false) => "AWAITING_REVIEW",
        }
        .to_owned()
    }
}

fn world(ctx: &Context<'_>) -> Arc<World> {
    ctx.data_unchecked::<Arc<World>>().clone()
}

/// Only the Arun coordinator keeps this person's records.
fn keeps(ctx: &Context<'_>) -> bool {
    ctx.data_unchecked::<Viewer>().actor.hubs.contains("arun")
}

fn not_found() -> async_graphql::Error {
    async_graphql::Error::new("not found").extend_with(|_, e| e.set("code", "NOT_FOUND"))
}

fn bad_person(message: &str) -> async_graphql::Error {
    async_graphql::Error::new(format!("person: {message}")).extend_with(|_, e| {
        e.set("code", "BAD_USER_INPUT");
        e.set("field", "person");
    })
}

#[derive(SimpleObject)]
struct SubjectAccess {
    person: ID,
    requested_at: String,
    erased: bool,
    erased_at: Option<String>,
    feedback_items: Vec<HeldFeedbackItem>,
    cases: Vec<HeldCase>,
    complaints: Vec<HeldComplaint>,
    access_log: Vec<HeldAccess>,
}

#[derive(SimpleObject)]
struct HeldFeedbackItem {
    id: ID,
    said_on: String,
    text: Option<String>,
    channel: String,
    consent_history: Vec<HeldConsent>,
}

#[derive(SimpleObject)]
struct HeldConsent {
    scope: String,
    recorded_on: String,
}

#[derive(SimpleObject)]
struct HeldCase {
    id: ID,
    referred_on: String,
    issue: Option<String>,
    actions: Vec<HeldAction>,
}

#[derive(SimpleObject)]
struct HeldAction {
    on: String,
    kind: String,
    text: Option<String>,
}

#[derive(SimpleObject)]
struct HeldComplaint {
    id: ID,
    reference: String,
    received_on: String,
    what_happened: Option<String>,
}

#[derive(SimpleObject)]
struct HeldAccess {
    at: String,
    who: String,
    what: String,
}

#[derive(SimpleObject)]
struct FeedbackItem {
    id: ID,
    view: String,
    person: Option<ID>,
    erased: bool,
}

#[derive(SimpleObject)]
struct Complaint {
    id: ID,
    person: Option<ID>,
    erased: bool,
    what_happened: Option<String>,
    redacted_for_provider: Option<String>,
    provider_words: String,
}

#[derive(SimpleObject)]
struct Erasure {
    person: ID,
    erased_at: String,
    records: i32,
}

struct Query;

#[Object]
impl Query {
    async fn subject_access(&self, ctx: &Context<'_>, person: ID) -> async_graphql::Result<SubjectAccess> {
        if person.as_str() != PERSON || !keeps(ctx) {
            return Err(not_found());
        }
        let erased = *world(ctx).erased.lock().unwrap();
        let words = |text: &str| (!erased).then(|| text.to_owned());
        Ok(SubjectAccess {
            person,
            requested_at: "2026-12-04T14:05:00Z".into(),
            erased,
            erased_at: erased.then(|| "2026-12-05T09:30:00Z".into()),
            feedback_items: vec![HeldFeedbackItem {
                id: ITEM.into(),
                said_on: "2026-11-23".into(),
                text: words("The pharmacy makes me wait outside in the rain"),
                channel: "ONE_TO_ONE".into(),
                consent_history: vec![
                    HeldConsent { scope: "COMMISSIONERS".into(), recorded_on: "2026-11-23".into() },
                    HeldConsent { scope: "WITHDRAWN".into(), recorded_on: "2026-12-01".into() },
                ],
            }],
            cases: vec![HeldCase {
                id: "c1".into(),
                referred_on: "2026-10-02".into(),
                issue: words("A review before the dose is cut"),
                actions: vec![HeldAction {
                    on: "2026-10-03".into(),
                    kind: "LETTER".into(),
                    text: words("Wrote to the GP"),
                }],
            }],
            complaints: vec![HeldComplaint {
                id: COMPLAINT.into(),
                reference: "EX-2026-0042".into(),
                received_on: "2026-11-30".into(),
                what_happened: words("Turned away at the door"),
            }],
            access_log: vec![HeldAccess {
                at: "2026-12-02T10:00:00Z".into(),
                who: "Demo complaints handler".into(),
                what: "VIEW_COMPLAINT".into(),
            }],
        })
    }

    async fn feedback_item(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<FeedbackItem> {
        if id.as_str() != ITEM {
            return Err(not_found());
        }
        let hub = keeps(ctx);
        let person = world(ctx).item_person.lock().unwrap().clone();
        Ok(FeedbackItem {
            id,
            view: if hub { "HUB" } else { "SHARED" }.into(),
            person: person.filter(|_| hub).map(ID::from),
            erased: *world(ctx).erased.lock().unwrap(),
        })
    }

    async fn complaint(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Complaint> {
        if id.as_str() != COMPLAINT {
            return Err(not_found());
        }
        let erased = *world(ctx).erased.lock().unwrap();
        let provider_words = world(ctx).provider_reads();
        Ok(Complaint {
            id,
            person: Some(PERSON.into()),
            erased,
            what_happened: (!erased).then(|| "Jo Bloggs was turned away at the Crawley door".to_owned()),
            redacted_for_provider: world(ctx).provider_words.lock().unwrap().clone(),
            provider_words,
        })
    }
}

struct Mutation;

#[Object]
impl Mutation {
    async fn erase_subject(&self, ctx: &Context<'_>, person: ID) -> async_graphql::Result<Erasure> {
        if person.as_str() != PERSON || !keeps(ctx) {
            return Err(not_found());
        }
        let world = world(ctx);
        world.erase_calls.fetch_add(1, Ordering::SeqCst);
        // Slow enough that a second post sent at once arrives while this one runs.
        tokio::task::yield_now().await;
        let mut erased = world.erased.lock().unwrap();
        if *erased {
            return Err(async_graphql::Error::new("already erased").extend_with(|_, e| e.set("code", "CONFLICT")));
        }
        *erased = true;
        Ok(Erasure { person, erased_at: "2026-12-05T09:30:00Z".into(), records: 3 })
    }

    async fn attribute_feedback(
        &self,
        ctx: &Context<'_>,
        item_id: ID,
        person: Option<ID>,
    ) -> async_graphql::Result<FeedbackItem> {
        if item_id.as_str() != ITEM || !keeps(ctx) {
            return Err(not_found());
        }
        let person = match person {
            None => "0b5e8c1a-0000-4000-8000-000000000001".to_owned(),
            Some(person) if person.as_str() == PERSON => person.to_string(),
            Some(_) => return Err(bad_person("there is no person with this code")),
        };
        *world(ctx).item_person.lock().unwrap() = Some(person.clone());
        Ok(FeedbackItem { id: item_id, view: "HUB".into(), person: Some(person.into()), erased: false })
    }

    async fn redact_complaint_for_provider(
        &self,
        ctx: &Context<'_>,
        complaint_id: ID,
        text: String,
    ) -> async_graphql::Result<Complaint> {
        *world(ctx).provider_words.lock().unwrap() = Some(text.clone());
        Ok(Complaint {
            id: complaint_id,
            person: None,
            erased: false,
            what_happened: None,
            redacted_for_provider: Some(text),
            provider_words: "REDACTED".into(),
        })
    }

    async fn release_complaint_words_to_provider(
        &self,
        ctx: &Context<'_>,
        complaint_id: ID,
    ) -> async_graphql::Result<Complaint> {
        if complaint_id.as_str() != COMPLAINT {
            return Err(not_found());
        }
        if world(ctx).provider_words.lock().unwrap().is_some() {
            let message = "the provider already reads the words written for them";
            return Err(async_graphql::Error::new(message).extend_with(|_, e| e.set("code", "CONFLICT")));
        }
        *world(ctx).as_written.lock().unwrap() = true;
        Ok(Complaint {
            id: complaint_id,
            person: None,
            erased: false,
            what_happened: None,
            redacted_for_provider: None,
            provider_words: world(ctx).provider_reads(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The backend

#[derive(Clone)]
struct TestBackend {
    schema: Schema<Query, Mutation, EmptySubscription>,
    world: Arc<World>,
    /// The one router every request of a test goes to (it keeps erasures).
    router: Arc<std::sync::OnceLock<axum::Router>>,
    /// Refused pages and secrets kept for one view.
    once: crate::once::ShownOnce,
}

fn backend() -> TestBackend {
    let world = Arc::new(World::default());
    let schema = Schema::build(Query, Mutation, EmptySubscription).data(world.clone()).finish();
    TestBackend { schema, world, router: Arc::default(), once: crate::once::ShownOnce::default() }
}

fn viewer_as(who: &str) -> Viewer {
    let (roles, hubs, n) = match who {
        "coordinator" => (vec![Role::HubCoordinator], vec!["arun"], 1),
        "nosy" => (vec![Role::HubCoordinator], vec!["crawley"], 2),
        "handler" => (vec![Role::ComplaintsHandler], vec![], 3),
        "member" => (vec![Role::HubMember], vec!["arun"], 4),
        _ => return Viewer::anonymous(),
    };
    Viewer {
        actor: Actor {
            account: Some(Uuid::from_u128(n)),
            roles: roles.into_iter().collect(),
            hubs: hubs.into_iter().map(str::to_owned).collect(),
            provider: None,
        },
        session: Some(Uuid::from_u128(100 + n)),
        ..Viewer::default()
    }
}

impl crate::Backend for TestBackend {
    fn viewer(&self, headers: &HeaderMap) -> Viewer {
        viewer_as(headers.get("x-test-as").and_then(|v| v.to_str().ok()).unwrap_or(""))
    }
    fn csrf_token(&self, _: &HeaderMap) -> Option<String> {
        Some("token-ok".into())
    }
    fn csrf_matches(&self, _: &Viewer, token: &str) -> bool {
        token == "token-ok"
    }
    fn login_challenge(&self) -> (String, String) {
        (String::new(), String::new())
    }
    fn login_form_is_ours(&self, _: &HeaderMap, _: &str) -> bool {
        false
    }
    fn flash_cookie(&self, viewer: &Viewer, payload: &str) -> Option<String> {
        viewer.session.map(|_| format!("heard_flash={payload}"))
    }
    fn flash(&self, _: &Viewer, headers: &HeaderMap) -> Option<String> {
        headers.get("x-test-flash").and_then(|v| v.to_str().ok()).map(str::to_owned)
    }
    fn forget_flash(&self, _: &HeaderMap) -> Option<String> {
        None
    }
    async fn keep_once(&self, session: Uuid, slot: &str, shown: String) {
        self.once.keep(session, slot, shown);
    }
    async fn take_once(&self, session: Uuid, slot: &str) -> Option<String> {
        self.once.take(session, slot)
    }
    async fn execute(&self, viewer: Viewer, request: async_graphql::Request) -> async_graphql::Response {
        self.schema.execute(request.data(viewer)).await
    }
}

/// An answer, read whole: (status, headers, body).
async fn send(backend: &TestBackend, request: Request<Body>) -> (StatusCode, HeaderMap, String) {
    let router = backend.router.get_or_init(|| crate::router(backend.clone())).clone();
    let response = router.oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 8 * 1024 * 1024).await.unwrap();
    (parts.status, parts.headers, String::from_utf8_lossy(&bytes).into_owned())
}

async fn get(backend: &TestBackend, who: &str, path: &str) -> (StatusCode, HeaderMap, String) {
    send(backend, Request::get(path).header("x-test-as", who).body(Body::empty()).unwrap()).await
}

fn form(who: &str, path: &str, fields: &[(&str, &str)]) -> axum::http::request::Builder {
    let _ = fields;
    Request::post(path).header("x-test-as", who).header("content-type", "application/x-www-form-urlencoded")
}

fn encoded(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", crate::kit::urlencode(k), crate::kit::urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The rights section of a record as `viewer` sees it, nothing flashed.
async fn rights_of(backend: &TestBackend, viewer: &Viewer, record: Record, id: &str) -> RightsSection {
    rights_section(backend, viewer, "token-ok", record, id, &Flashed::default()).await
}

async fn post(
    backend: &TestBackend,
    who: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, HeaderMap, String) {
    send(backend, form(who, path, fields).body(Body::from(encoded(fields))).unwrap()).await
}

fn location(headers: &HeaderMap) -> &str {
    headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// The attempt the check page's form carries.
fn attempt_on(page: &str) -> String {
    let at = page.find("name=\"attempt\" value=\"").expect("the check page carries an attempt") + 22;
    page[at..at + 36].to_owned()
}

// ---------------------------------------------------------------------------------------------
// Reading what people type and send

#[test]
fn a_person_code_is_read_as_typed_and_anything_else_is_no_code() {
    assert_eq!(person_code(&format!("  {}  ", PERSON.to_uppercase())).as_deref(), Some(PERSON));
    assert_eq!(person_code(&format!("{{{PERSON}}}")).as_deref(), Some(PERSON));
    for wrong in ["", "Jo Bloggs", "6f1c2a9e", "00000000-0000-0000-0000-000000000000", "<script>"] {
        assert_eq!(person_code(wrong), None, "{wrong}");
    }
}

#[test]
fn the_whose_record_form_names_the_field_that_is_wrong() {
    let form = |choice: &str, code: &str| PersonForm { person_choice: choice.into(), person_code: code.into() };
    assert_eq!(form("new", "").person(), Ok(None));
    assert_eq!(form("same", PERSON).person(), Ok(Some(PERSON.to_owned())));
    assert_eq!(form("", "").person().unwrap_err().0, "person_choice");
    assert_eq!(form("same", "").person().unwrap_err().0, "person_code");
    assert_eq!(form("same", "Jo Bloggs").person().unwrap_err().0, "person_code");
    assert_eq!(
        form("new", PERSON).person().unwrap_err().0,
        "person_code",
        "a code with a new person is a contradiction"
    );
    assert_eq!(person_field(Some("person")), "person_code");
    assert_eq!(person_field(None), "person_choice");
}

#[test]
fn a_form_another_website_made_the_browser_send_is_told_apart_from_one_sent_from_heard() {
    let headers = |pairs: &[(&str, &str)]| {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
        }
        headers
    };
    assert!(!from_another_site(&headers(&[])), "a script says nothing; the CSRF token stands");
    assert!(!from_another_site(&headers(&[("origin", "http://heard.test"), ("host", "heard.test")])));
    assert!(!from_another_site(&headers(&[("sec-fetch-site", "same-origin"), ("origin", "null")])));
    assert!(from_another_site(&headers(&[("origin", "https://evil.example"), ("host", "heard.test")])));
    assert!(from_another_site(&headers(&[("sec-fetch-site", "cross-site"), ("host", "heard.test")])));
    assert!(from_another_site(&headers(&[
        ("sec-fetch-site", "same-site"),
        ("origin", "http://heard.test"),
        ("host", "heard.test")
    ])));
}

#[test]
fn only_those_who_keep_peoples_records_act_for_people() {
    for who in ["coordinator", "nosy", "handler"] {
        assert!(acts_for_people(&viewer_as(who)), "{who}");
    }
    let advocate = Viewer {
        actor: Actor { account: Some(Uuid::from_u128(9)), roles: [Role::Advocate].into(), ..Actor::default() },
        ..Viewer::default()
    };
    assert!(acts_for_people(&advocate));
    for who in ["member", "anonymous"] {
        assert!(!acts_for_people(&viewer_as(who)), "{who}");
    }
    let commissioner = Viewer {
        actor: Actor { account: Some(Uuid::from_u128(8)), roles: [Role::Commissioner].into(), ..Actor::default() },
        ..Viewer::default()
    };
    assert!(!acts_for_people(&commissioner));
}

#[test]
fn what_is_held_reads_in_words_days_codes_and_erased_words_included() {
    assert_eq!(label("saidOn"), "Said on");
    assert_eq!(label("acknowledgedHow"), "Acknowledged how");
    assert_eq!(scalar_words("saidOn", &json!("2026-11-23"), false), "23 November 2026");
    assert_eq!(scalar_words("at", &json!("2026-12-04T14:05:00Z"), false), "4 December 2026 at 14:05 UTC");
    assert_eq!(scalar_words("channel", &json!("ONE_TO_ONE"), false), "One-to-one");
    assert_eq!(scalar_words("domain", &json!("PRESCRIBING_REVIEW"), false), "Prescribing review");
    assert_eq!(scalar_words("reference", &json!("EX-2026-0042"), false), "EX-2026-0042");
    assert_eq!(scalar_words("text", &Value::Null, true), "Erased");
    assert_eq!(scalar_words("text", &Value::Null, false), "Not recorded");
    assert_eq!(scalar_words("erased", &json!(true), false), "Yes");
    assert_eq!(scalar_words("by", &json!(PERSON), false), "A Heard account (its id is in the file)");
    assert_eq!(scalar_words("step", &json!("consent_recorded"), false), "Consent recorded");
    assert_eq!(scalar_words("action", &json!("view_case"), false), "View case");
}

// ---------------------------------------------------------------------------------------------
// The pages

#[tokio::test]
async fn what_heard_holds_about_a_person_is_a_page_in_words_with_print_and_the_file() {
    let backend = backend();
    let (status, headers, page) = get(&backend, "coordinator", &format!("/people/{PERSON}")).await;
    assert_eq!(status, 200, "{page}");
    assert!(headers[header::CACHE_CONTROL].to_str().unwrap().contains("no-store"));
    for shown in [
        "<h1>What Heard holds about this person</h1>",
        "The pharmacy makes me wait outside in the rain",
        "23 November 2026",
        "One-to-one",
        "The hub and commissioners",
        "Withdrawn",
        "A review before the dose is cut",
        "Wrote to the GP",
        "EX-2026-0042",
        "Turned away at the door",
        "Demo complaints handler",
        "2 December 2026 at 10:00 UTC",
        "class=\"button print-report\" hidden",
        "/assets/reports.js",
        &format!("href=\"/people/{PERSON}/held.json\""),
        &format!("href=\"/people/{PERSON}/erase\""),
    ] {
        assert!(page.contains(shown), "{shown}: {page}");
    }
    assert!(!page.contains(ITEM), "ids are for the file, not the page");

    let (status, headers, file) = get(&backend, "coordinator", &format!("/people/{PERSON}/held.json")).await;
    assert_eq!(status, 200);
    assert!(headers[header::CONTENT_DISPOSITION].to_str().unwrap().starts_with("attachment;"));
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("application/json"));
    assert!(headers[header::CACHE_CONTROL].to_str().unwrap().contains("no-store"));
    let file: Value = serde_json::from_str(&file).unwrap();
    assert_eq!(file["person"], PERSON);
    assert_eq!(file["feedbackItems"][0]["id"], ITEM, "the file holds every field, ids included");
    assert_eq!(file["cases"][0]["actions"][0]["text"], "Wrote to the GP");
}

#[tokio::test]
async fn a_person_someone_may_not_act_for_is_page_not_found_and_the_code_is_never_repeated() {
    let backend = backend();
    let unknown = "0b5e8c1a-0000-4000-8000-00000000dead";
    for path in [
        format!("/people/{PERSON}"),
        format!("/people/{PERSON}/held.json"),
        format!("/people/{PERSON}/erase"),
        format!("/people/{PERSON}/erase/check?confirm=yes"),
    ] {
        let (status, _, page) = get(&backend, "nosy", &path).await;
        assert_eq!(status, 404, "{path}: {page}");
        assert!(page.contains("Page not found") && !page.contains(PERSON), "{path}: {page}");
    }
    for code in [unknown, "not-a-code", "%3Cscript%3E"] {
        let (status, _, page) = get(&backend, "coordinator", &format!("/people/{code}")).await;
        assert_eq!(status, 404, "{code}");
        assert!(!page.contains(code) && !page.contains("<script>"), "{code}: {page}");
    }
    let sent =
        [("csrf_token", "token-ok"), ("step", "erase"), ("confirm", "yes"), ("attempt", &Uuid::new_v4().to_string())];
    let (status, headers, _) = post(&backend, "nosy", &format!("/people/{PERSON}/erase"), &sent).await;
    assert_eq!(status, 303, "a refused form is redirected, as every one is");
    let (status, _, page) = get(&backend, "nosy", location(&headers)).await;
    assert_eq!(status, 404);
    assert!(page.contains("Page not found") && !page.contains(PERSON), "{page}");
    assert_eq!(backend.world.erase_calls.load(Ordering::SeqCst), 0, "nothing was asked");
}

#[tokio::test]
async fn someone_who_keeps_nobodys_records_gets_the_plain_page_for_others() {
    let backend = backend();
    for path in ["/people".to_owned(), format!("/people/{PERSON}"), format!("/people/{PERSON}/erase")] {
        let (status, _, page) = get(&backend, "member", &path).await;
        assert_eq!(status, 403, "{path}");
        assert!(page.contains("<h1>This page is for"), "{page}");
        assert_eq!(page.matches("<form").count(), 1, "only logging out: {page}");
    }
    let (status, headers, _) = get(&backend, "anonymous", "/people").await;
    assert_eq!((status, location(&headers)), (StatusCode::SEE_OTHER, "/login?next=%2Fpeople"));
}

#[tokio::test]
async fn finding_a_person_leads_to_their_page_or_names_what_is_wrong_with_the_code() {
    let backend = backend();
    let (status, _, page) = get(&backend, "coordinator", "/people").await;
    assert_eq!(status, 200);
    assert!(page.contains("<label for=\"code\">Person code</label>"), "{page}");
    let (status, headers, _) = get(&backend, "coordinator", &format!("/people?code=+{}+", PERSON.to_uppercase())).await;
    assert_eq!((status, location(&headers)), (StatusCode::SEE_OTHER, format!("/people/{PERSON}").as_str()));
    for (typed, said) in [("", "Enter the person code"), ("Jo+Bloggs", "as it was written down")] {
        let (status, _, page) = get(&backend, "coordinator", &format!("/people?code={typed}")).await;
        assert_eq!(status, 422);
        assert!(page.contains("<a href=\"#code\">") && page.contains(said), "{page}");
        assert!(page.starts_with("<!DOCTYPE html>") && page.contains("<title>Error: "), "{page}");
    }
}

#[tokio::test]
async fn erasing_asks_for_a_confirmation_then_checks_then_erases_once_however_often_the_form_is_sent() {
    let backend = backend();
    let erase = format!("/people/{PERSON}/erase");
    let (status, _, page) = get(&backend, "coordinator", &erase).await;
    assert_eq!(status, 200);
    for said in [
        "destroyed for good",
        "Counts, dates, themes",
        "cannot be undone",
        "1 feedback item, 1 advocacy case and 1 complaint",
    ] {
        assert!(page.contains(said), "{said}: {page}");
    }
    // Without the tick: the page again, the error beside it.
    let (status, headers, _) =
        post(&backend, "coordinator", &erase, &[("csrf_token", "token-ok"), ("step", "check")]).await;
    assert_eq!(status, 303, "a refused form is redirected, as every one is");
    assert!(location(&headers).starts_with(&format!("{erase}?refused=")), "{headers:?}");
    let (status, _, page) = get(&backend, "coordinator", location(&headers)).await;
    assert_eq!(status, 422);
    assert!(page.contains("<a href=\"#confirm\">Tick to confirm"), "{page}");
    let (status, headers, _) =
        post(&backend, "coordinator", &erase, &[("csrf_token", "token-ok"), ("step", "check"), ("confirm", "yes")])
            .await;
    assert_eq!(status, 303);
    let check = location(&headers).to_owned();
    assert_eq!(check, format!("/people/{PERSON}/erase/check?confirm=yes"));
    let (status, _, page) = get(&backend, "coordinator", &check).await;
    assert_eq!(status, 200);
    assert!(page.contains("Check before you erase") && page.contains("Erase everything now"), "{page}");
    let attempt = attempt_on(&page);
    let sent = [("csrf_token", "token-ok"), ("step", "erase"), ("confirm", "yes"), ("attempt", attempt.as_str())];
    // Sent twice at once, and once more after: one erasure, the same answer each time.
    let ((first, first_headers, _), (second, second_headers, _)) =
        tokio::join!(post(&backend, "coordinator", &erase, &sent), post(&backend, "coordinator", &erase, &sent));
    let (third, third_headers, _) = post(&backend, "coordinator", &erase, &sent).await;
    assert_eq!(backend.world.erase_calls.load(Ordering::SeqCst), 1, "erased once");
    let done = format!("/people/{PERSON}/erased?attempt={attempt}");
    for (status, headers) in [(first, &first_headers), (second, &second_headers), (third, &third_headers)] {
        assert_eq!((status, location(headers)), (StatusCode::SEE_OTHER, done.as_str()));
    }
    let (status, _, page) = get(&backend, "coordinator", &done).await;
    assert_eq!(status, 200);
    assert!(page.contains("3 records you keep for them were erased, on 5 December 2026 at 09:30 UTC"), "{page}");
    // A new attempt finds the person erased: not erased again, and told when.
    let (status, _, page) = get(&backend, "coordinator", &erase).await;
    assert_eq!(status, 200);
    assert!(page.contains("already erased") && page.contains("5 December 2026"), "{page}");
    let again = Uuid::new_v4().to_string();
    let sent = [("csrf_token", "token-ok"), ("step", "erase"), ("confirm", "yes"), ("attempt", again.as_str())];
    let (status, headers, _) = post(&backend, "coordinator", &erase, &sent).await;
    assert_eq!(status, 303);
    let (_, _, page) = get(&backend, "coordinator", location(&headers)).await;
    assert!(
        page.contains("had already been erased, on 5 December 2026 at 09:30 UTC. Nothing more was erased."),
        "{page}"
    );
    assert_eq!(backend.world.erase_calls.load(Ordering::SeqCst), 1, "still erased once");
    // What is held now says so, and keeps the facts.
    let (_, _, page) = get(&backend, "coordinator", &format!("/people/{PERSON}")).await;
    assert!(page.contains("Everything about this person was erased on 5 December 2026"), "{page}");
    assert!(page.contains("Erased") && page.contains("23 November 2026"), "the facts stay: {page}");
    assert!(!page.contains("wait outside in the rain"), "{page}");
}

#[tokio::test]
async fn an_erase_form_from_another_website_or_without_the_sessions_token_erases_nothing() {
    let backend = backend();
    let erase = format!("/people/{PERSON}/erase");
    let attempt = Uuid::new_v4().to_string();
    let fields = [("csrf_token", "token-ok"), ("step", "erase"), ("confirm", "yes"), ("attempt", attempt.as_str())];
    for (origin, site) in [("https://evil.example", "cross-site"), ("https://evil.example", "")] {
        let mut request = form("coordinator", &erase, &fields).header("host", "heard.test").header("origin", origin);
        if !site.is_empty() {
            request = request.header("sec-fetch-site", site);
        }
        let (status, _, said) = send(&backend, request.body(Body::from(encoded(&fields))).unwrap()).await;
        assert_eq!(status, 403, "{said}");
        assert!(said.contains("another website"), "{said}");
    }
    for token in ["", "made-up"] {
        let fields = [("csrf_token", token), ("step", "erase"), ("confirm", "yes"), ("attempt", attempt.as_str())];
        let (status, _, _) = post(&backend, "coordinator", &erase, &fields).await;
        assert_eq!(status, 403, "{token}");
    }
    assert_eq!(backend.world.erase_calls.load(Ordering::SeqCst), 0);
    assert!(!*backend.world.erased.lock().unwrap());
}

#[tokio::test]
async fn a_feedback_items_page_says_whose_words_they_are_for_the_hubs_coordinator_only() {
    let backend = backend();
    let viewer = viewer_as("coordinator");
    let shown = rights_of(&backend, &viewer, Record::Feedback, ITEM).await;
    let section = shown.section.into_string();
    assert!(section.contains("It is not linked to a person yet"), "{section}");
    assert!(section.contains(&format!("action=\"/feedback/{ITEM}/person\"")), "{section}");
    assert!(section.contains("This is a new person") && section.contains("The same person as a code"), "{section}");
    assert!(
        section
            .contains("so that if they ask, everything Heard holds about them can be shown to them or erased together")
    );
    assert!(shown.banner.into_string().is_empty(), "not erased");
    let nosy = rights_of(&backend, &viewer_as("nosy"), Record::Feedback, ITEM).await;
    assert!(nosy.section.into_string().is_empty(), "another hub's coordinator gets no form");

    // A new person: the code comes back in the notice, and on the page.
    let path = format!("/feedback/{ITEM}/person");
    let (status, headers, _) =
        post(&backend, "coordinator", &path, &[("csrf_token", "token-ok"), ("person_choice", "new")]).await;
    assert_eq!((status, location(&headers)), (StatusCode::SEE_OTHER, format!("/feedback/{ITEM}#person").as_str()));
    let cookie = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.contains("Saved as a new person, with code 0b5e8c1a"), "{cookie}");
    let shown = rights_of(&backend, &viewer, Record::Feedback, ITEM).await.section.into_string();
    assert!(shown.contains("<code class=\"person-code\">0b5e8c1a-0000-4000-8000-000000000001</code>"), "{shown}");

    // A code nobody holds: the API's error beside the code.
    let (_, headers, _) = post(
        &backend,
        "coordinator",
        &path,
        &[
            ("csrf_token", "token-ok"),
            ("person_choice", "same"),
            ("person_code", "0b5e8c1a-0000-4000-8000-00000000dead"),
        ],
    )
    .await;
    let cookie = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.contains("There is no person with this code") && cookie.contains("\"at\":\"person_code\""),
        "{cookie}"
    );
    // Nothing chosen: named before asking.
    let (_, headers, _) = post(&backend, "coordinator", &path, &[("csrf_token", "token-ok")]).await;
    assert!(headers[header::SET_COOKIE].to_str().unwrap().contains("\"at\":\"person_choice\""));
    // From another website: refused.
    let request = form("coordinator", &path, &[]).header("sec-fetch-site", "cross-site");
    let (status, _, _) =
        send(&backend, request.body(Body::from("csrf_token=token-ok&person_choice=new")).unwrap()).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_handler_takes_names_out_of_a_complaint_before_the_provider_reads_it_and_an_erased_one_says_so() {
    let backend = backend();
    let handler = viewer_as("handler");
    let shown = rights_of(&backend, &handler, Record::Complaint, COMPLAINT).await;
    let section = shown.section.into_string();
    assert!(section.contains("The provider reads none of the complaint's words until you review them"), "{section}");
    assert!(section.contains(">Jo Bloggs was turned away at the Crawley door</textarea>"), "prefilled: {section}");
    assert!(section.contains("Nothing to take out"), "either way of reviewing them is offered: {section}");
    let path = format!("/complaints/{COMPLAINT}/provider-words");
    let (_, headers, _) =
        post(&backend, "handler", &path, &[("csrf_token", "token-ok"), ("provider_text", "  ")]).await;
    assert!(headers[header::SET_COOKIE].to_str().unwrap().contains("\"at\":\"provider_text\""));
    let (status, headers, _) = post(
        &backend,
        "handler",
        &path,
        &[("csrf_token", "token-ok"), ("provider_text", "Someone was turned away at the door")],
    )
    .await;
    assert_eq!(
        (status, location(&headers)),
        (StatusCode::SEE_OTHER, format!("/complaints/{COMPLAINT}#provider").as_str())
    );
    let section = rights_of(&backend, &handler, Record::Complaint, COMPLAINT).await.section.into_string();
    assert!(
        section.contains("<blockquote class=\"said\"><p>Someone was turned away at the door</p></blockquote>"),
        "{section}"
    );
    assert!(!section.contains("Nothing to take out"), "written words are never released as written: {section}");

    *backend.world.erased.lock().unwrap() = true;
    let shown = rights_of(&backend, &handler, Record::Complaint, COMPLAINT).await;
    let banner = shown.banner.into_string();
    assert!(banner.contains("Erased") && banner.contains("the stage it reached are kept"), "{banner}");
    assert!(!shown.section.into_string().contains("<form"), "nothing more can be recorded about an erased person");
}

#[tokio::test]
async fn a_handler_who_finds_nothing_to_take_out_lets_the_provider_read_the_words_as_written() {
    let backend = backend();
    let handler = viewer_as("handler");
    let path = format!("/complaints/{COMPLAINT}/provider-words/as-written");
    let (status, headers, _) = post(&backend, "handler", &path, &[("csrf_token", "token-ok")]).await;
    assert_eq!(
        (status, location(&headers)),
        (StatusCode::SEE_OTHER, format!("/complaints/{COMPLAINT}#provider").as_str())
    );
    let cookie = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.contains("as they were written now") && cookie.contains("\"at\":\"provider\""), "{cookie}");
    assert!(*backend.world.as_written.lock().unwrap());
    let section = rights_of(&backend, &handler, Record::Complaint, COMPLAINT).await.section.into_string();
    assert!(section.contains("found nothing to take out"), "{section}");
    assert!(!section.contains("/provider-words/as-written"), "said once: {section}");
    assert!(section.contains("/provider-words\""), "a version can still be written after all: {section}");

    // Bookmarked, or Back after it was sent: the complaint.
    let (status, headers, _) = get(&backend, "handler", &path).await;
    assert_eq!((status, location(&headers)), (StatusCode::SEE_OTHER, format!("/complaints/{COMPLAINT}").as_str()));
    // From another website: refused.
    let request = form("handler", &path, &[]).header("sec-fetch-site", "cross-site");
    let (status, _, _) = send(&backend, request.body(Body::from("csrf_token=token-ok")).unwrap()).await;
    assert_eq!(status, 403);
}
