//! A person's rights over their data at the command line, as an operator exercises them with
//! Heard stopped: `heard erase`, `heard subject-access` and `heard retention` (on a log seeded
//! straight into the store, and on one a real server wrote).

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use heard_contracts::testing::files_holding;
use heard_eventstore::{EventStore, ExpectedRevision, NewEvent, Personal, StreamName, SubjectId, Upcasters};
use heard_tests::{Staff, error_code, heard_binary, spawn_app_in, staff};
use serde_json::{Value, json};
use uuid::Uuid;

const WORDS: [&str; 3] =
    ["Ottoline says the pharmacy turned her away", "Ottoline needs help with the hostel", "They shouted at Ottoline"];

/// A log holding one person's feedback item, case and complaint (each with words sealed under
/// its own key, and attributed to the person as the owning service would), another person's
/// item, and one read of the person's case on the access log.
struct Seeded {
    person: Uuid,
    records: [(&'static str, Uuid); 3],
    reader: Uuid,
}

async fn seed(data: &std::path::Path) -> Seeded {
    let store = EventStore::open(data, Upcasters::new()).unwrap();
    let person = Uuid::new_v4();
    let records = [("feedback", Uuid::new_v4()), ("case", Uuid::new_v4()), ("complaint", Uuid::new_v4())];
    let (advocate, by) = (Uuid::new_v4(), Uuid::new_v4());
    for ((category, id), words) in records.iter().zip(WORDS) {
        let stream = StreamName::of(category, id).unwrap();
        let first = NewEvent::new("Recorded", 1, &json!({ "id": id }))
            .unwrap()
            .with_personal(SubjectId::new(), &json!({ "text": words }))
            .unwrap();
        let attributed = match *category {
            "feedback" => NewEvent::new(
                "FeedbackAttributed",
                1,
                &json!({ "item": id, "person": person, "hub": "arun", "by": by }),
            ),
            "case" => NewEvent::new(
                "CaseAttributed",
                1,
                &json!({ "case": id, "person": person, "advocate": advocate, "by": advocate }),
            ),
            _ => NewEvent::new(
                "ComplaintAttributed",
                1,
                &json!({ "complaint": id, "person": person, "relayed_by": null, "by": by }),
            ),
        }
        .unwrap();
        store.append(&stream, ExpectedRevision::NoStream, vec![first, attributed]).await.unwrap();
    }
    let reader = Uuid::new_v4();
    let read = json!({ "actor": reader, "action": "view_case", "resource_kind": "case",
        "resource_id": records[1].1.to_string(), "allowed": true, "reason": null });
    let access = StreamName::new("access-20260105").unwrap();
    store
        .append(&access, ExpectedRevision::Any, vec![NewEvent::new("AccessRecorded", 1, &read).unwrap()])
        .await
        .unwrap();
    store.close().await.unwrap();
    Seeded { person, records, reader }
}

fn heard(args: &[&str], data: &std::path::Path, stdin: &str) -> Output {
    let mut child = Command::new(heard_binary())
        .args(args)
        .arg("--data")
        .arg(data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("heard runs");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Whether each of the person's records' words can still be read.
async fn readable(data: &std::path::Path, seeded: &Seeded) -> Vec<bool> {
    let store = EventStore::open(data, Upcasters::new()).unwrap();
    let mut found = Vec::new();
    for (category, id) in seeded.records {
        let events = store.read_stream_to_end(&StreamName::of(category, id).unwrap()).await.unwrap();
        found.push(matches!(events[0].personal, Personal::Plain(_)));
    }
    store.close().await.unwrap();
    found
}

#[tokio::test]
async fn subject_access_prints_what_is_held_as_json_or_as_a_readable_page_and_logs_the_request() {
    let data = tempfile::tempdir().unwrap();
    let seeded = seed(data.path()).await;
    let person = seeded.person.to_string();
    let output = heard(&["subject-access", "--person", &person], data.path(), "");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(answer["person"], person);
    assert_eq!(answer["erased"], false);
    assert!(answer["erasedAt"].is_null());
    assert!(answer["requestedAt"].is_string());
    let log = answer["accessLog"].as_array().unwrap();
    assert_eq!(log.len(), 1, "{answer}");
    assert_eq!(log[0]["recordKind"], "case");
    assert_eq!(log[0]["recordId"], seeded.records[1].1.to_string());
    assert_eq!(log[0]["actorId"], seeded.reader.to_string());
    assert_eq!(log[0]["allowed"], true);

    let output = heard(&["subject-access", "--person", &person, "--format", "html"], data.path(), "");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let page = text(&output.stdout);
    assert!(page.starts_with("<!doctype html>") && page.contains("<html lang=\"en\">"), "{page}");
    assert!(page.contains(&format!("<h1>What Heard holds about person {person}</h1>")), "{page}");
    assert!(page.contains("<h2>Access log</h2>") && page.contains("<th scope=\"col\">Record kind</th>"), "{page}");

    // Both requests are on the access log, as the operator's (the nil account).
    let store = EventStore::open(data.path(), Upcasters::new()).unwrap();
    let logged = store.read_all(1, 10_000).await.unwrap();
    store.close().await.unwrap();
    let requests = logged
        .iter()
        .filter_map(|event| event.data_json().ok())
        .filter(|data| data["action"] == "view_subject_access" && data["resource_id"] == person.as_str())
        .count();
    assert_eq!(requests, 2);
}

#[tokio::test]
async fn subject_access_of_a_person_heard_does_not_know_fails_and_never_repeats_what_was_typed() {
    let data = tempfile::tempdir().unwrap();
    seed(data.path()).await;
    let unknown = heard(&["subject-access", "--person", &Uuid::new_v4().to_string()], data.path(), "");
    assert!(!unknown.status.success());
    assert!(text(&unknown.stderr).contains("no records of this person"), "{}", text(&unknown.stderr));
    let typed_a_name = heard(&["erase", "--person", "Ottoline Braithwaite", "--yes"], data.path(), "");
    assert!(!typed_a_name.status.success());
    let stderr = text(&typed_a_name.stderr);
    assert!(stderr.contains("--person") && !stderr.contains("Ottoline"), "{stderr}");
}

#[tokio::test]
async fn erase_asks_first_then_erases_every_record_and_prints_only_counts() {
    let data = tempfile::tempdir().unwrap();
    let seeded = seed(data.path()).await;
    let person = seeded.person.to_string();

    let declined = heard(&["erase", "--person", &person], data.path(), "no\n");
    assert!(!declined.status.success());
    let asked = text(&declined.stderr);
    assert!(
        asked.contains("1 feedback item(s), 1 case(s), 1 complaint(s)") && asked.contains("Nothing was erased"),
        "{asked}"
    );
    assert_eq!(readable(data.path(), &seeded).await, [true, true, true]);

    let confirmed = heard(&["erase", "--person", &person], data.path(), "yes\n");
    assert!(confirmed.status.success(), "{}", text(&confirmed.stderr));
    let printed: Value = serde_json::from_slice(&confirmed.stdout).unwrap();
    assert_eq!(printed["person"], person);
    assert_eq!(printed["erased"], json!({ "feedback_item": 1, "case": 1, "complaint": 1 }));
    assert_eq!(printed["keys_destroyed"], 3);
    let everything = format!("{}{}", text(&confirmed.stdout), text(&confirmed.stderr));
    assert!(!everything.contains("Ottoline"), "no words are printed: {everything}");
    assert_eq!(readable(data.path(), &seeded).await, [false, false, false]);

    let again = heard(&["erase", "--person", &person, "--yes"], data.path(), "");
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("already erased"), "{}", text(&again.stderr));
    let access = heard(&["subject-access", "--person", &person], data.path(), "");
    let answer: Value = serde_json::from_slice(&access.stdout).unwrap();
    assert_eq!(answer["erased"], true);
    assert!(answer["erasedAt"].is_string());
    let verified = heard(&["verify"], data.path(), "");
    assert!(verified.status.success(), "the chain still verifies after erasure: {}", text(&verified.stdout));
}

#[tokio::test]
async fn a_retention_dry_run_on_a_given_day_lists_what_is_due_and_erases_nothing() {
    let data = tempfile::tempdir().unwrap();
    let seeded = seed(data.path()).await;
    let output = heard(&["retention", "--dry-run", "--today", "2040-01-01"], data.path(), "");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["today"], "2040-01-01");
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["erased"], 0);
    assert!(report["due"].is_array() && report["by_kind"].is_object(), "{report}");
    assert_eq!(readable(data.path(), &seeded).await, [true, true, true]);

    let bad_day = heard(&["retention", "--dry-run", "--today", "someday"], data.path(), "");
    assert!(!bad_day.status.success());
    assert!(text(&bad_day.stderr).contains("--today"), "{}", text(&bad_day.stderr));
}

/// The words of the item kept to its hub and never shared, each unusual enough that finding it
/// anywhere can only mean it, as the search index's stored text holds them.
const NEVER_SHARED: [&str; 5] = ["Perpetua Loxley", "Perpetua", "Loxley", "Brambleford", "hollyhock"];

/// The same words as the search index's terms (lower case), which its compressed term
/// dictionary holds where reading bytes cannot find them: the index is asked.
const NEVER_SHARED_TERMS: &str = "Perpetua Loxley Brambleford hollyhock";

/// What `heard retention` printed, checking that it succeeded.
fn retention_report(args: &[&str], data: &std::path::Path) -> Value {
    let output = heard(args, data, "");
    assert!(output.status.success(), "{}", text(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("the report is JSON")
}

/// The log's head, and its last event, read with Heard stopped.
async fn head_of(data: &std::path::Path) -> (u64, heard_eventstore::RecordedEvent) {
    let store = EventStore::open(data, Upcasters::new()).unwrap();
    let head = store.head().position;
    let last = store.read_all(head, 1).await.unwrap().pop().expect("a last event");
    store.close().await.unwrap();
    (head, last)
}

#[tokio::test]
async fn an_item_a_real_server_logged_and_never_shared_is_listed_by_a_dry_run_the_day_after_its_period_and_erased_from_every_file_by_the_run()
 {
    // Said ten days ago: `heard serve`'s own retention, on the real clock, keeps it.
    let said = heard_api::today().checked_sub(jiff::Span::new().days(10)).unwrap();
    let day = |days: i64| said.checked_add(jiff::Span::new().days(days)).unwrap().to_string();
    // `feedback_not_shared_days` is 730 by default: due once said *more* than 730 days ago.
    let (last_kept_day, first_due_day) = (day(730), day(731));
    let Staff { app, coordinator, .. } = staff().await;
    let kept = coordinator
        .log_feedback(
            json!({ "hub": "arun", "text": "Perpetua Loxley said the Brambleford clinic lost her hollyhock forms",
            "channel": "DROP_IN", "saidOn": said.to_string(), "speaker": "NAMED", "speakerName": "Perpetua Loxley",
            "consent": "HUB" }),
        )
        .await;
    let shared = coordinator
        .log_feedback(json!({ "hub": "arun", "text": "the wellbrook pharmacy opens late on Thursdays now",
            "channel": "DROP_IN", "saidOn": said.to_string(), "speaker": "ANONYMOUS", "consent": "COMMISSIONERS" }))
        .await;
    let answer =
        coordinator.graphql("mutation($id: ID!) { shareFeedback(id: $id) { id } }", json!({ "id": shared })).await;
    assert!(answer["errors"].is_null(), "{answer}");
    app.settled().await;
    let terms = app.feedback.search_index().terms_held(NEVER_SHARED_TERMS).unwrap();
    assert_eq!(terms, ["perpetua", "loxley", "brambleford", "hollyhock"], "the index's terms before");
    let items_before = app.feedback.read(|state| state.items.len());
    let dir = app.shutdown().await;
    let data = dir.path();
    let (head_before, _) = head_of(data).await;
    for words in NEVER_SHARED.into_iter().chain(["wellbrook"]) {
        assert!(!files_holding(data, words.as_bytes()).is_empty(), "{words:?} is in the search index's files before");
    }

    // The last day of its period, nothing is due; the day after, it is listed and nothing erased.
    let report = retention_report(&["retention", "--dry-run", "--today", &last_kept_day], data);
    assert_eq!((&report["due"], &report["erased"]), (&json!([]), &json!(0)), "{report}");
    let report = retention_report(&["retention", "--dry-run", "--today", &first_due_day], data);
    assert_eq!(report["today"], first_due_day.as_str());
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["due"], json!([{ "kind": "feedback_item", "id": kept }]), "the shared item is kept: {report}");
    assert_eq!(report["by_kind"], json!({ "feedback_item": 1, "case": 0, "complaint": 0 }), "{report}");
    assert_eq!(report["erased"], 0);
    for words in NEVER_SHARED {
        assert!(!files_holding(data, words.as_bytes()).is_empty(), "a dry run erased {words:?}");
    }
    assert_eq!(head_of(data).await.0, head_before, "a dry run appends nothing");

    // The run erases it: its words are in no file of the data directory.
    let report = retention_report(&["retention", "--today", &first_due_day], data);
    assert_eq!((&report["dry_run"], &report["erased"]), (&json!(false), &json!(1)), "{report}");
    assert_eq!(report["due"], json!([{ "kind": "feedback_item", "id": kept }]));
    let lower_case = ["perpetua", "loxley", "brambleford"];
    for words in NEVER_SHARED.into_iter().chain(lower_case) {
        let holding = files_holding(data, words.as_bytes());
        assert!(holding.is_empty(), "{words:?} is still in {holding:?}");
    }
    assert!(!files_holding(data, b"wellbrook").is_empty(), "the shared item's words stay");
    let (head, erasure) = head_of(data).await;
    assert_eq!(head, head_before + 1, "one erasure appended, nothing taken from the log");
    let erasure = erasure.data_json().unwrap();
    assert_eq!(erasure["records"], json!([{ "kind": "feedback_item", "id": kept }]), "{erasure}");
    assert_eq!((&erasure["reason"], &erasure["asked_by"]), (&json!("retention_period_ended"), &Value::Null));
    let verified = heard(&["verify"], data, "");
    assert!(verified.status.success(), "the chain still verifies: {}", text(&verified.stdout));
    let again = retention_report(&["retention", "--today", &first_due_day], data);
    assert_eq!((&again["due"], &again["erased"]), (&json!([]), &json!(0)), "erased once: {again}");

    // Started again: the item answers as erased, its facts and the counts stay.
    let app = spawn_app_in(dir, |_| {}).await;
    let coordinator = app.login("coordinator@example.org").await;
    let read = "query($id: ID!) { feedbackItem(id: $id) { text speakerName } }";
    let answer = coordinator.graphql(read, json!({ "id": kept })).await;
    assert_eq!(error_code(&answer), Some("NOT_FOUND"), "an erased item is not found: {answer}");
    let item = app.feedback.item(kept.parse().unwrap()).expect("its facts stay");
    assert!(item.erased && item.text.is_none(), "{item:?}");
    assert_eq!(item.logged.said_on, said.to_string());
    assert_eq!(app.feedback.read(|state| state.items.len()), items_before, "every item still counts");
    let terms = app.feedback.search_index().terms_held(NEVER_SHARED_TERMS).unwrap();
    assert!(terms.is_empty(), "the index's term dictionaries still hold {terms:?}");
    let answer = coordinator.graphql(read, json!({ "id": shared })).await;
    assert!(answer.to_string().contains("wellbrook"), "the shared item is kept: {answer}");
    app.shutdown().await;
}
