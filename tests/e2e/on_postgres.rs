//! Heard served on PostgreSQL (`store.backend = "postgres"`): the real server on port 0, its
//! event log and keys in a schema of its own in the test database at 127.0.0.1:5432 (trust auth;
//! `scripts/test` starts PostgreSQL), read models and the search index in the data directory.

use heard_tests::{PgSchema, spawn_app_with};
use serde_json::json;

#[tokio::test]
async fn a_hub_logs_searches_and_erases_on_heard_served_from_postgresql_and_the_log_verifies_after_a_restart() {
    let schema = PgSchema::new();
    let on_postgres = |settings: &mut heard::config::Settings| schema.serve_from(settings);
    let app = spawn_app_with(on_postgres).await;
    let [(_, coordinator), (_, commissioner)] = app.people(["coordinator", "commissioner"]).await;
    let item = coordinator
        .log_feedback(json!({ "hub": "arun", "text": "the evening clinic at Bognor closed without notice",
            "channel": "DROP_IN", "saidOn": "2026-11-02", "speaker": "ANONYMOUS", "consent": "COMMISSIONERS" }))
        .await;
    let shared =
        coordinator.graphql("mutation($id: ID!) { shareFeedback(id: $id) { id } }", json!({ "id": item })).await;
    assert!(shared["errors"].is_null(), "{shared}");
    app.settled().await;
    let search = "query($q: String!) { searchFeedback(query: $q) { total } }";
    let found = commissioner.graphql(search, json!({ "q": "Bognor" })).await;
    assert_eq!(found["data"]["searchFeedback"]["total"], 1, "{found}");

    // Erasure works on PostgreSQL too: the item's words are gone from the answers.
    let attributed = coordinator
        .graphql("mutation($id: ID!) { attributeFeedback(itemId: $id) { person } }", json!({ "id": item }))
        .await;
    let person = attributed["data"]["attributeFeedback"]["person"].as_str().expect("a person").to_owned();
    let erased =
        coordinator.graphql("mutation($p: ID!) { eraseSubject(person: $p) { records } }", json!({ "p": person })).await;
    assert_eq!(erased["data"]["eraseSubject"]["records"], 1, "{erased}");
    let found = commissioner.graphql(search, json!({ "q": "Bognor" })).await;
    assert_eq!(found["data"]["searchFeedback"]["total"], 0, "{found}");
    let head = app.store.head();

    // A restart over the same database and data directory answers as before.
    let data_dir = app.shutdown().await;
    let app = heard_tests::spawn_app_in(data_dir, on_postgres).await;
    app.settled().await;
    assert_eq!(app.store.head(), head, "the same log, to the same chain head");
    let report = heard_eventstore::verify_chain(&app.store, None).await.unwrap();
    assert!(report.ok, "{report:?}");
    let stats = app.graphql("{ storeStats { events } }", json!({})).await;
    assert_eq!(stats["data"]["storeStats"]["events"], head.position, "{stats}");
    app.shutdown().await;
}

#[tokio::test]
async fn the_first_administrator_is_created_on_postgresql_from_the_command_line_and_logs_in_on_a_replica_holding_its_key()
 {
    use std::io::Write as _;
    let schema = PgSchema::new();
    let admin_dir = tempfile::tempdir().unwrap();
    let mut create = std::process::Command::new(heard_tests::heard_binary())
        .args(["admin", "create-user", "--data"])
        .arg(admin_dir.path())
        .args(["--store-url", &schema.url(), "--email", "first.admin@example.org", "--role", "administrator"])
        .arg("--password-stdin")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    create.stdin.take().unwrap().write_all(format!("{}\n", heard_tests::PASSWORD).as_bytes()).unwrap();
    let created = create.wait_with_output().unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    assert!(String::from_utf8_lossy(&created.stdout).contains("created account"));

    // A replica given the key of the directory the account was created from.
    let replica_dir = tempfile::tempdir().unwrap();
    std::fs::copy(admin_dir.path().join("secret.key"), replica_dir.path().join("secret.key")).unwrap();
    let app = heard_tests::spawn_app_in(replica_dir, |settings| schema.serve_from(settings)).await;
    let admin =
        heard_tests::Session::log_in(&format!("http://{}", app.addr), "first.admin@example.org", heard_tests::PASSWORD)
            .await
            .expect("the administrator logs in");
    let me = admin.graphql("{ me { roles } }", json!({})).await;
    assert_eq!(me["data"]["me"]["roles"], json!(["ADMINISTRATOR"]), "{me}");

    // A directory given as --store-url is refused, naming the flag.
    let refused = std::process::Command::new(heard_tests::heard_binary())
        .args(["admin", "create-user", "--data"])
        .arg(admin_dir.path())
        .args(["--store-url", "/tmp/somewhere", "--email", "x@example.org", "--role", "administrator"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--store-url"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    // The commands run while Heard is stopped work on the shared log too, from a stopped
    // replica's directory (its key and its read models).
    let replica_dir = app.shutdown().await;
    let retention = std::process::Command::new(heard_tests::heard_binary())
        .args(["retention", "--dry-run", "--data"])
        .arg(replica_dir.path())
        .env("HEARD_STORE__BACKEND", "postgres")
        .env("HEARD_STORE__URL", schema.url())
        .output()
        .unwrap();
    assert!(retention.status.success(), "{}", String::from_utf8_lossy(&retention.stderr));
}
