//! `heard backup` of a running Heard and `heard restore` into a fresh directory: the same chain
//! head, the same answers, and a person erased after the backup stays erased (their backup key
//! is destroyed, so no one can restore them from it, with or without the register).

use std::path::Path;
use std::process::{Command, Output};

use heard_tests::{Session, heard_binary, spawn_app_in, spawn_app_with};
use serde_json::{Value, json};

const PASSPHRASE: &str = "a backup passphrase for the tests";

fn heard(args: &[&str], register: &Path) -> Output {
    Command::new(heard_binary())
        .args(args)
        .env("HEARD_BACKUP__PASSPHRASE", PASSPHRASE)
        .env("HEARD_BACKUP__ERASURE_REGISTER", register)
        .env("RUST_LOG", "warn")
        .output()
        .expect("heard runs")
}

fn succeeded(output: Output) -> Value {
    assert!(output.status.success(), "heard failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("one JSON line")
}

fn failed(output: Output) -> String {
    assert!(!output.status.success(), "heard succeeded: {}", String::from_utf8_lossy(&output.stdout));
    String::from_utf8(output.stderr).unwrap()
}

fn path(dir: &Path) -> &str {
    dir.to_str().expect("a UTF-8 temporary path")
}

/// What the demo's people see, for queries across the services.
async fn answers(commissioner: &Session, coordinator: &Session, advocate: &Session, handler: &Session) -> Value {
    let search =
        "query($q: String!) { searchFeedback(query: $q, first: 5) { total edges { node { item { id text } } } } }";
    json!({
        "search_waiting": commissioner.graphql(search, json!({ "q": "waiting" })).await,
        "search_phrase": commissioner.graphql(search, json!({ "q": "\"opening hours\"" })).await,
        "items": coordinator.graphql("{ feedbackItems(first: 20) { edges { node { id text consent saidOn } } } }", json!({})).await,
        "queue": coordinator.graphql("{ moderationQueue(hub: \"arun\", first: 10) { totalCount nodes { id text } } }", json!({})).await,
        "report": commissioner.graphql("{ youSaidWeDid(period: { from: \"2025-01-01\", to: \"2026-12-31\" }) { sharedItems closedItems loopClosureRate } }", json!({})).await,
        "decisions": commissioner.graphql("{ decisions(first: 10) { edges { node { id title status } } } }", json!({})).await,
        "cases": advocate.graphql("{ cases(first: 10) { edges { node { id state issue } } } }", json!({})).await,
        "complaints": handler.graphql("{ complaints(first: 10) { edges { node { id reference stage whatHappened } } } }", json!({})).await,
    })
}

/// `answers` without anything that names `id`, and without counts that include it.
fn without(answers: &Value, id: &str) -> Value {
    match answers {
        Value::Array(values) => Value::Array(
            values.iter().filter(|value| !value.to_string().contains(id)).map(|v| without(v, id)).collect(),
        ),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .filter(|(name, _)| *name != "totalCount")
                .map(|(name, v)| (name.clone(), without(v, id)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[tokio::test]
async fn a_backup_of_the_running_demo_restores_into_a_fresh_directory_with_the_same_chain_head_and_answers_and_the_person_erased_since_stays_erased()
 {
    let outside = tempfile::tempdir().unwrap();
    let register = outside.path().join("erasures.register");
    let kept_register = register.clone();
    let app = spawn_app_with(move |settings| settings.backup.erasure_register = Some(kept_register)).await;
    let accounts = heard_demo::seed(app.services.demo()).await.expect("the demo seeds");
    let password = |email: &str| {
        accounts
            .iter()
            .find(|(e, _, _)| e == email)
            .map(|(email, _, password)| (email.clone(), password.clone()))
            .unwrap()
    };
    let people = [
        "commissioner@demo.heard.example",
        "coordinator.arun@demo.heard.example",
        "advocate@demo.heard.example",
        "complaints@demo.heard.example",
    ]
    .map(password);
    let base = format!("http://{}", app.addr);
    let mut sessions = Vec::new();
    for (email, password) in &people {
        sessions.push(Session::log_in(&base, email, password).await.expect("a demo login"));
    }
    let [commissioner, coordinator, advocate, handler] = <[Session; 4]>::try_from(sessions).ok().unwrap();
    // One person whose words only the backup and the log before the erasure hold.
    let item = coordinator
        .log_feedback(json!({ "hub": "arun", "text": "Quillwort at the pharmacy told everyone my business",
                              "channel": "DROP_IN", "saidOn": "2026-11-20", "speaker": "ANONYMOUS", "consent": "HUB" }))
        .await;
    let attributed = coordinator
        .graphql("mutation($id: ID!) { attributeFeedback(itemId: $id) { person } }", json!({ "id": item }))
        .await;
    let person = attributed["data"]["attributeFeedback"]["person"].as_str().expect("a person").to_owned();
    app.settled().await;
    let before = answers(&commissioner, &coordinator, &advocate, &handler).await;
    assert!(before.to_string().len() > 2_000 && !before.to_string().contains("\"errors\""), "{before}");

    // The backup, while the server runs on the directory.
    let file = outside.path().join("heard.backup");
    let taken = succeeded(heard(&["backup", "--to", path(&file), "--data", path(app.data_dir.path())], &register));
    assert!(taken["events"].as_u64().unwrap() > 1_000, "{taken}");
    assert_eq!(taken["head_position"], taken["events"]);
    assert_eq!(taken["sha256"].as_str().unwrap().len(), 64);
    let bytes = std::fs::read(&file).unwrap();
    for needle in [&b"Quillwort"[..], b"quillwort", b"FeedbackLogged", b"arun"] {
        assert!(!bytes.windows(needle.len()).any(|w| w == needle), "the backup is encrypted");
    }
    let again = failed(heard(&["backup", "--to", path(&file), "--data", path(app.data_dir.path())], &register));
    assert!(again.contains("already exists"), "{again}");

    // Erased after the backup was taken.
    let erased =
        coordinator.graphql("mutation($p: ID!) { eraseSubject(person: $p) { records } }", json!({ "p": person })).await;
    assert_eq!(erased["data"]["eraseSubject"]["records"], 1, "{erased}");
    let original = app.shutdown().await;
    let at_backup = Command::new(heard_binary())
        .args(["verify", "--data", path(original.path()), "--at", &taken["head_position"].to_string()])
        .output()
        .unwrap();
    let at_backup: Value = serde_json::from_slice(&at_backup.stdout).unwrap();

    // Refusals first: a wrong passphrase, a damaged copy, no word on the erasure register.
    let target = tempfile::tempdir().unwrap();
    let wrong = Command::new(heard_binary())
        .args(["restore", "--from", path(&file), "--data", path(target.path())])
        .env("HEARD_BACKUP__PASSPHRASE", "not the passphrase at all")
        .env("HEARD_BACKUP__ERASURE_REGISTER", &register)
        .output()
        .unwrap();
    assert!(failed(wrong).contains("the passphrase is not this backup's"));
    let damaged = outside.path().join("damaged.backup");
    let mut changed = bytes.clone();
    let middle = changed.len() / 2;
    changed[middle] ^= 0x40;
    std::fs::write(&damaged, &changed).unwrap();
    let said = failed(heard(&["restore", "--from", path(&damaged), "--data", path(target.path())], &register));
    assert!(said.contains("checksum does not match"), "{said}");
    let unsaid = Command::new(heard_binary())
        .args(["restore", "--from", path(&file), "--data", path(target.path())])
        .env("HEARD_BACKUP__PASSPHRASE", PASSPHRASE)
        .output()
        .unwrap();
    assert!(failed(unsaid).contains("--without-erasure-register"));
    // Even with the passphrase, no one restores the backup's keys without the keyring beside
    // the register: and in it, the erased person's backup key is gone.
    let unkeyed = Command::new(heard_binary())
        .args(["restore", "--from", path(&file), "--data", path(target.path()), "--without-erasure-register"])
        .env("HEARD_BACKUP__PASSPHRASE", PASSPHRASE)
        .output()
        .unwrap();
    assert!(failed(unkeyed).contains("backup keyring"));
    assert_eq!(std::fs::read_dir(target.path()).unwrap().count(), 0, "a refused restore leaves nothing");
    // The register, its keyring, the backup and the damaged copy.
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 4, "nor anything beside it");

    let restored = succeeded(heard(&["restore", "--from", path(&file), "--data", path(target.path())], &register));
    assert_eq!(restored["chain"], "verified");
    assert_eq!(restored["erased_again"], 1, "{restored}");
    assert_eq!(
        (restored["head_position"].clone(), restored["head"].clone()),
        (taken["head_position"].clone(), taken["head"].clone())
    );
    let verified = Command::new(heard_binary()).args(["verify", "--data", path(target.path())]).output().unwrap();
    let verified: Value = serde_json::from_slice(&verified.stdout).unwrap();
    assert_eq!(verified, at_backup, "the same chain head as the original at the backup's position");
    assert!(
        heard_contracts::testing::files_holding(target.path(), b"uillwort").is_empty(),
        "no file of the restored directory holds the erased words"
    );

    // The restored directory serves the same answers to the same people.
    let app = spawn_app_in(target, |_| {}).await;
    let base = format!("http://{}", app.addr);
    let mut sessions = Vec::new();
    for (email, password) in &people {
        sessions.push(Session::log_in(&base, email, password).await.expect("the same login works"));
    }
    let [commissioner, coordinator, advocate, handler] = <[Session; 4]>::try_from(sessions).ok().unwrap();
    let after = answers(&commissioner, &coordinator, &advocate, &handler).await;
    assert!(!after.to_string().contains("uillwort"), "{after}");
    let gone = coordinator
        .graphql("query($id: ID!) { feedbackItem(id: $id) { id text erased } }", json!({ "id": item }))
        .await;
    assert!(!gone.to_string().contains("uillwort"), "{gone}");
    // Everything else answers as before the backup.
    assert!(before.to_string().contains(&item), "the item was among the answers: {before}");
    assert_eq!(without(&after, &item), without(&before, &item));
    app.shutdown().await;
}

#[tokio::test]
async fn the_first_backup_of_a_heard_that_never_erased_anyone_restores_with_the_register_it_names() {
    // A Heard that ran without a register: nobody erased, no register file yet.
    let app = heard_tests::spawn_app().await;
    heard_demo::seed(app.services.demo()).await.expect("the demo seeds");
    let data = app.shutdown().await;
    let outside = tempfile::tempdir().unwrap();
    let register = outside.path().join("erasures.register");
    let file = outside.path().join("first.backup");
    let taken = succeeded(heard(&["backup", "--to", path(&file), "--data", path(data.path())], &register));
    assert!(register.exists(), "the backup made the register it names");
    let target = tempfile::tempdir().unwrap();
    let restored = succeeded(heard(&["restore", "--from", path(&file), "--data", path(target.path())], &register));
    assert_eq!((restored["head"].clone(), restored["erased_again"].clone()), (taken["head"].clone(), json!(0)));
    assert_eq!(restored["keys"], taken["keys"], "every key opened with the keyring: {restored}");
}
