//! A person's rights over their data at the command line, as an operator exercises them with
//! Heard stopped: `heard erase`, `heard subject-access` and `heard retention`.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use heard_eventstore::{EventStore, ExpectedRevision, NewEvent, Personal, StreamName, SubjectId, Upcasters};
use heard_tests::heard_binary;
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
