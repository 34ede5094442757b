//! The `heard` binary's commands, run as a person would run them.

use std::process::{Command, Stdio};

use heard_eventstore::{EventStore, ExpectedRevision, NewEvent, StreamName, SubjectId, Upcasters};
use heard_tests::{heard_bench_binary, heard_binary};
use serde_json::json;

fn heard(args: &[&str], data: &std::path::Path) -> std::process::Output {
    Command::new(heard_binary()).args(args).arg("--data").arg(data).output().expect("heard runs")
}

/// Runs `heard` on the data directory `data`, checks that it succeeded and returns what it printed.
fn heard_succeeds(args: &[&str], data: &std::path::Path) -> String {
    let output = heard(args, data);
    assert!(output.status.success(), "heard {args:?} failed");
    String::from_utf8(output.stdout).unwrap()
}

async fn store_with_events(data: &std::path::Path, n: u64) {
    let store = EventStore::open(data, Upcasters::new()).unwrap();
    let stream = StreamName::new("case-0001").unwrap();
    let first = NewEvent::new("CaseReferred", 1, &json!({ "domain": "housing" }))
        .unwrap()
        .with_personal(SubjectId::new(), &json!({ "name": "Alex Placeholder" }))
        .unwrap();
    store.append(&stream, ExpectedRevision::NoStream, vec![first]).await.unwrap();
    for i in 1..n {
        let event = NewEvent::new("CaseNoteAdded", 1, &json!({ "i": i })).unwrap();
        store.append(&stream, ExpectedRevision::Any, vec![event]).await.unwrap();
    }
    store.close().await.unwrap();
}

#[tokio::test]
async fn verify_prints_one_json_line_with_events_and_head_and_exits_zero() {
    let data = tempfile::tempdir().unwrap();
    store_with_events(data.path(), 5).await;
    let stdout = heard_succeeds(&["verify"], data.path());
    assert_eq!(stdout.lines().count(), 1);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["events"], 5);
    assert_eq!(report["ok"], true);
    assert_eq!(report["head"].as_str().unwrap().len(), 64);
}

#[tokio::test]
async fn verify_names_the_first_broken_position_and_exits_non_zero() {
    let data = tempfile::tempdir().unwrap();
    store_with_events(data.path(), 6).await;
    {
        // Rewrite history: change one byte of event 4 in the log file on disk.
        let segment = data.path().join("log").join("00000001.seg");
        let mut bytes = std::fs::read(&segment).unwrap();
        let at = bytes.windows(7).position(|w| w == br#"{"i":3}"#).expect("event 4 is in the file");
        bytes[at + 5] = b'9';
        std::fs::write(&segment, bytes).unwrap();
    }
    let output = heard(&["verify"], data.path());
    assert!(!output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["broken_at"], 4, "{report}");
    let before = heard(&["verify", "--at", "3"], data.path());
    assert!(before.status.success(), "the chain up to position 3 is intact");
}

#[tokio::test]
async fn export_prints_every_event_in_order_with_personal_fields_still_encrypted() {
    let data = tempfile::tempdir().unwrap();
    store_with_events(data.path(), 4).await;
    let stdout = heard_succeeds(&["export"], data.path());
    assert!(!stdout.contains("Alex Placeholder"), "export never shows personal fields in clear");
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4);
    for (index, line) in lines.iter().enumerate() {
        assert_eq!(line["position"], index as u64 + 1);
        for field in ["stream", "revision", "type", "version", "hash", "data"] {
            assert!(!line[field].is_null(), "{field} is exported");
        }
    }
    assert_eq!(lines[0]["data"]["domain"], "housing");
    assert!(lines[0]["personal"]["ciphertext"].as_str().unwrap().len() > 10);
    assert!(lines[1]["personal"].is_null());
    assert_eq!(lines[1]["prev_hash"], lines[0]["hash"]);
}

#[test]
fn verify_of_a_directory_without_a_log_says_so_and_creates_nothing() {
    let data = tempfile::tempdir().unwrap();
    let empty = data.path().join("nothing-here");
    let output = heard(&["verify"], &empty);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("holds no Heard event log"));
    assert!(!empty.exists());
}

#[test]
fn bench_append_ends_with_a_json_summary_including_the_raw_fsync_ceiling() {
    let data = tempfile::tempdir().unwrap();
    let output = Command::new(heard_bench_binary())
        .args(["append", "--writers", "4", "--events", "200", "--print-acks", "--data"])
        .arg(data.path())
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 201);
    assert!(lines[..200].iter().all(|l| l.starts_with("ack bench-")));
    let summary: serde_json::Value = serde_json::from_str(lines[200]).unwrap();
    assert_eq!(summary["events"], 200);
    for key in [
        "seconds",
        "events_per_sec",
        "p50_ms",
        "p99_ms",
        "raw_fsync_sequential_per_sec",
        "raw_fsync_batch64_events_per_sec",
    ] {
        assert!(summary[key].as_f64().unwrap() > 0.0, "{key} in {summary}");
    }
}

#[test]
fn bench_replicas_serves_one_postgres_log_with_two_heard_processes_and_reports_throughput_and_replication_lag() {
    let scratch = tempfile::tempdir().unwrap();
    let output = Command::new(heard_bench_binary())
        .args(["replicas", "--events", "2000", "--seconds", "2", "--clients", "2", "--log-rate", "5", "--heard"])
        .arg(heard_binary())
        .arg("--data")
        .arg(scratch.path().join("store"))
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let summary: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert!(summary["events"].as_u64().unwrap() >= 2000, "{summary}");
    let mut requests = 0;
    for replica in ["a", "b"] {
        let figures = &summary["replicas"][replica];
        assert_eq!(figures["errors"], 0, "replica {replica} answered every query of the mix: {summary}");
        assert!(figures["requests_per_sec"].as_f64().unwrap() > 0.0, "{replica} in {summary}");
        requests += figures["requests"].as_u64().unwrap();
        assert!(summary["ready_seconds"][replica].as_f64().unwrap() > 0.0, "{summary}");
    }
    assert_eq!(summary["total"]["requests"], requests, "{summary}");
    let operations = summary["operations"].as_object().unwrap();
    assert!(!operations.is_empty(), "{summary}");
    for (operation, figures) in operations {
        assert!(figures["p99_ms"].as_f64().unwrap() >= figures["p50_ms"].as_f64().unwrap(), "{operation}: {summary}");
    }
    let logged = &summary["log_feedback_on_a"];
    assert_eq!(logged["errors"], 0, "{summary}");
    let lag = &summary["replication_lag_ms"];
    assert!(lag["items"].as_u64().unwrap() >= 1, "{summary}");
    assert_eq!(lag["items"], logged["items"], "every item A acknowledged was followed on B: {summary}");
    assert_eq!(lag["not_seen_within_10_s"], 0, "{summary}");
    let (p50, p99, max) = (lag["p50"].as_f64().unwrap(), lag["p99"].as_f64().unwrap(), lag["max"].as_f64().unwrap());
    assert!(p50 > 0.0 && p99 >= p50 && max >= p99, "{summary}");

    let schema = summary["schema_dropped"].as_str().unwrap();
    assert!(schema.starts_with("heard_bench_"), "{summary}");
    let left = Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-A", "-t", "-c"])
        .arg(format!("SELECT count(*) FROM pg_namespace WHERE nspname = '{schema}'"))
        .output()
        .expect("psql runs");
    assert_eq!(String::from_utf8_lossy(&left.stdout).trim(), "0", "the benchmark's schema is dropped");
}

fn create_user_with_stdin(data: &std::path::Path, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write as _;
    let mut child = Command::new(heard_binary())
        .args(["admin", "create-user", "--data"])
        .arg(data)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("heard runs");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn create_user_reads_a_password_from_stdin_and_refuses_a_short_one_without_creating_anything() {
    let data = tempfile::tempdir().unwrap();
    let args = ["--email", "admin@example.org", "--role", "administrator", "--password-stdin"];
    let short = create_user_with_stdin(data.path(), &args, "short\n");
    assert!(!short.status.success());
    let stderr = String::from_utf8_lossy(&short.stderr);
    assert!(stderr.contains("at least 12 characters") && !stderr.contains("short\n"), "{stderr}");

    let ok = create_user_with_stdin(data.path(), &args, "a long enough passphrase\n");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(stdout.contains("created account") && !stdout.contains("one-time password"), "{stdout}");

    let again = create_user_with_stdin(data.path(), &args, "a long enough passphrase\n");
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"), "one account per email");

    let app = heard_tests::spawn_app_in(data, |_| {}).await;
    assert!(app.try_login("admin@example.org", "a long enough passphrase").await.is_ok());
}

#[test]
fn create_user_names_the_flag_that_is_wrong() {
    let data = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let output = Command::new(heard_binary())
            .args(["admin", "create-user", "--data"])
            .arg(data.path())
            .args(args)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{args:?} should fail");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    assert!(run(&["--email", "a@example.org", "--role", "boss"]).contains("--role: `boss` is not a role"));
    assert!(run(&["--email", "a@example.org", "--role", "hub_coordinator"]).contains("--hub"));
    assert!(
        run(&["--email", "a@example.org", "--role", "hub_member", "--hub", "Atlantis"])
            .contains("--hub: there is no `Atlantis`")
    );
    assert!(run(&["--email", "not-an-email", "--role", "advocate"]).contains("--email"));
}
