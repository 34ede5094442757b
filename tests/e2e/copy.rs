//! `heard copy` between a data directory and PostgreSQL, run as an operator would: the real
//! `heard` binary copies a stopped server's store into a PostgreSQL schema and back into a new
//! directory; `heard verify` gives the same chain head on all three, and `heard serve` on the
//! copy answers as the original did, with an erased person's words still gone.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use heard_eventstore::{EventStore, ExpectedRevision, NewEvent, StreamName, SubjectId, Upcasters};
use heard_tests::{PASSWORD, PgSchema, Session, error_code, spawn_app};
use serde_json::{Value, json};

use crate::harness::{Serve, heard_command, serve_command};

/// How long a started `heard serve` may take to listen and be ready.
const PATIENCE: Duration = Duration::from_secs(60);

fn heard(args: &[&str]) -> Output {
    heard_command().args(args).output().expect("heard runs")
}

/// Runs `heard`, checks it succeeded and returns its stdout.
fn heard_succeeds(args: &[&str]) -> String {
    let output = heard(args);
    assert!(output.status.success(), "heard {:?} failed: {}", args.first(), String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// Runs `heard`, checks it failed and returns its stderr.
fn heard_fails(args: &[&str]) -> String {
    let output = heard(args);
    assert!(!output.status.success(), "heard {:?} succeeded", args.first());
    String::from_utf8(output.stderr).unwrap()
}

fn path(dir: &Path) -> &str {
    dir.to_str().expect("a UTF-8 temporary path")
}

/// What the two people see: search totals for the kept and the erased words, and both items.
async fn answers(coordinator: &Session, commissioner: &Session, kept: &str, erased: &str) -> Value {
    let search = "query($q: String!) { searchFeedback(query: $q) { total edges { node { item { id } } } } }";
    let item = "query($id: ID!) { feedbackItem(id: $id) { id text erased consent } }";
    json!({
        "bognor": commissioner.graphql(search, json!({ "q": "Bognor" })).await,
        "erased_words": commissioner.graphql(search, json!({ "q": "Quartermaine" })).await,
        "kept": coordinator.graphql(item, json!({ "id": kept })).await,
        "erased": coordinator.graphql(item, json!({ "id": erased })).await,
    })
}

#[tokio::test]
async fn a_store_copied_to_postgresql_and_back_verifies_to_the_same_chain_head_and_answers_the_same_with_the_erased_words_gone()
 {
    let app = spawn_app().await;
    let [(_, coordinator), (_, commissioner)] = app.people(["coordinator", "commissioner"]).await;
    let log = |text: &str| {
        json!({ "hub": "arun", "text": text, "channel": "DROP_IN", "saidOn": "2026-11-02",
                "speaker": "ANONYMOUS", "consent": "COMMISSIONERS" })
    };
    let kept = coordinator.log_feedback(log("the evening clinic at Bognor closed without notice")).await;
    let erased = coordinator.log_feedback(log("Quartermaine at the chemist made me queue in the rain")).await;
    for id in [&kept, &erased] {
        let shared =
            coordinator.graphql("mutation($id: ID!) { shareFeedback(id: $id) { id } }", json!({ "id": id })).await;
        assert!(shared["errors"].is_null(), "{shared}");
    }
    let attributed = coordinator
        .graphql("mutation($id: ID!) { attributeFeedback(itemId: $id) { person } }", json!({ "id": erased }))
        .await;
    let person = attributed["data"]["attributeFeedback"]["person"].as_str().expect("a person").to_owned();
    let gone =
        coordinator.graphql("mutation($p: ID!) { eraseSubject(person: $p) { records } }", json!({ "p": person })).await;
    assert_eq!(gone["data"]["eraseSubject"]["records"], 1, "{gone}");
    app.settled().await;
    let before = answers(&coordinator, &commissioner, &kept, &erased).await;
    assert_eq!(before["bognor"]["data"]["searchFeedback"]["total"], 1, "{before}");
    assert_eq!(before["erased_words"]["data"]["searchFeedback"]["total"], 0, "{before}");
    assert_eq!(error_code(&before["erased"]), Some("NOT_FOUND"), "the erased item is gone: {before}");
    assert!(!before.to_string().contains("Quartermaine"), "{before}");
    let original = app.shutdown().await;

    // The directory into PostgreSQL.
    let schema = PgSchema::new();
    let url = schema.url();
    let output = heard(&["copy", "--from", path(original.path()), "--to", &url]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let copied: Value = serde_json::from_slice(&output.stdout).expect("one JSON line");
    let events = copied["events"].as_u64().expect("events copied");
    let progress = String::from_utf8_lossy(&output.stderr);
    assert!(progress.contains(&format!("copied {events} of {events} events")), "{progress}");
    assert_eq!(copied["erased_keys"], 1, "the erased person's key is copied as destroyed: {copied}");
    assert!(!progress.contains(&url) && !String::from_utf8_lossy(&output.stdout).contains(&url));

    // `heard verify` on both: the same chain head and hash, which the copy printed too.
    let on_disk = heard_succeeds(&["verify", "--data", path(original.path())]);
    let in_postgres = heard_succeeds(&["verify", "--store-url", &url]);
    assert_eq!(in_postgres, on_disk);
    let report: Value = serde_json::from_str(&on_disk).unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(
        (report["events"].clone(), report["head"].clone()),
        (copied["head_position"].clone(), copied["head"].clone())
    );
    // With no flag, verify reads the configured store (here from HEARD_STORE__… variables).
    let configured = heard_command()
        .arg("verify")
        .env("HEARD_STORE__BACKEND", "postgres")
        .env("HEARD_STORE__URL", &url)
        .output()
        .expect("heard runs");
    assert_eq!(String::from_utf8_lossy(&configured.stdout), on_disk, "{}", String::from_utf8_lossy(&configured.stderr));
    // Read models rebuild from the log in PostgreSQL into a data directory of their own.
    let models = tempfile::tempdir().unwrap();
    let rebuilt = heard_succeeds(&["rebuild", "models", "all", "--data", path(models.path()), "--store-url", &url]);
    let rebuilt: Value = serde_json::from_str(&rebuilt).unwrap();
    assert_eq!(rebuilt["events"], events, "{rebuilt}");
    assert_eq!(
        heard_succeeds(&["export", "--store-url", &url]),
        heard_succeeds(&["export", "--data", path(original.path())]),
        "every event exported the same, ciphertext and times included"
    );

    // And back into a new directory, which serves the same answers.
    let parent = tempfile::tempdir().unwrap();
    let back = parent.path().join("copy");
    heard_succeeds(&["copy", "--from", &url, "--to", path(&back)]);
    assert_eq!(heard_succeeds(&["verify", "--data", path(&back)]), on_disk);
    let serve = Serve::spawn(serve_command(&back), PATIENCE);
    serve.ready(&reqwest::Client::new()).await;
    let coordinator = Session::log_in(&serve.base, "coordinator@example.org", PASSWORD).await.expect("a login");
    let commissioner = Session::log_in(&serve.base, "commissioner@example.org", PASSWORD).await.expect("a login");
    assert_eq!(answers(&coordinator, &commissioner, &kept, &erased).await, before);
    let index = back.join("search");
    assert!(
        heard_contracts::testing::files_holding(&index, b"quartermaine").is_empty(),
        "the copy's search index never holds the erased words"
    );
    drop(serve);
}

/// A small store of three events in `data`, one with a person's words.
async fn small_store(data: &Path) {
    let store = EventStore::open(data, Upcasters::new()).unwrap();
    let stream = StreamName::new("case-1").unwrap();
    for n in 0..3 {
        let event = NewEvent::new("CaseNoted", 1, &json!({ "n": n }))
            .unwrap()
            .with_personal(SubjectId::new(), &json!({ "words": "kept apart" }))
            .unwrap();
        store.append(&stream, ExpectedRevision::Any, vec![event]).await.unwrap();
    }
    store.close().await.unwrap();
}

#[tokio::test]
async fn heard_copy_refuses_a_destination_that_holds_anything_a_url_that_is_not_postgres_and_a_source_without_a_log_naming_the_flag()
 {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    small_store(&source).await;
    let schema = PgSchema::new();
    let url = schema.url();

    // A destination that already holds a store, in a directory or in PostgreSQL.
    let copy = dir.path().join("copy");
    heard_succeeds(&["copy", "--from", path(&source), "--to", path(&copy)]);
    heard_succeeds(&["copy", "--from", path(&source), "--to", &url]);
    for to in [path(&copy), url.as_str()] {
        let refused = heard_fails(&["copy", "--from", path(&source), "--to", to]);
        assert!(refused.contains("--to: the destination already holds 3 event(s)"), "{refused}");
    }
    assert_eq!(heard_succeeds(&["verify", "--data", path(&copy)]), heard_succeeds(&["verify", "--store-url", &url]));
    let other_files = dir.path().join("other");
    std::fs::create_dir(&other_files).unwrap();
    std::fs::write(other_files.join("notes.txt"), "not a store").unwrap();
    let refused = heard_fails(&["copy", "--from", path(&source), "--to", path(&other_files)]);
    assert!(refused.contains("--to:") && refused.contains("not empty and holds no Heard store"), "{refused}");
    let refused = heard_fails(&["copy", "--from", path(&source), "--to", path(&source)]);
    assert!(refused.contains("--to: the destination is the source"), "{refused}");

    // URLs that are not PostgreSQL's, on either side.
    let refused = heard_fails(&["copy", "--from", path(&source), "--to", "mysql://root@127.0.0.1/heard"]);
    assert!(refused.contains("--to: mysql:// is not a store's address"), "{refused}");
    let refused = heard_fails(&["copy", "--from", "postgres://u@h:notaport/db", "--to", path(&copy)]);
    assert!(refused.contains("--from: not a valid PostgreSQL URL"), "{refused}");

    // A source that holds no log: a missing directory, a directory without one, an empty
    // database. Nothing is created at either end.
    let missing = dir.path().join("missing");
    let fresh = dir.path().join("fresh");
    let refused = heard_fails(&["copy", "--from", path(&missing), "--to", path(&fresh)]);
    assert!(
        refused.contains("--from:") && refused.contains("holds no Heard event log (it does not exist)"),
        "{refused}"
    );
    let refused = heard_fails(&["copy", "--from", path(&other_files), "--to", path(&fresh)]);
    assert!(refused.contains("--from:") && refused.contains("holds no Heard event log"), "{refused}");
    let empty = PgSchema::new();
    let refused = heard_fails(&["copy", "--from", &empty.url(), "--to", path(&fresh)]);
    assert!(refused.contains("--from: the database holds no Heard event log"), "{refused}");
    assert!(!missing.exists() && !fresh.exists());
    assert_eq!(empty.psql("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()").trim(), "0");
    assert!(!refused.contains(&empty.url()));
}
