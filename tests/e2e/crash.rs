//! Durability: a real process appending to the log (`heard-bench append`) is killed with SIGKILL
//! while it appends, many times at random points, and every append it acknowledged must be there
//! afterwards; `heard verify` then finds the chain whole. With `--personal`, every append also
//! seals a field under a new person's key, and every acknowledged field must still decrypt.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use heard_eventstore::{BackendKind, EventStore, Personal, Upcasters, verify_chain};
use heard_tests::{Rng, heard_bench_binary, heard_binary};

/// One acknowledged append as printed by `heard-bench append --print-acks`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ack {
    stream: String,
    revision: u64,
    position: u64,
}

fn parse_ack(line: &str) -> Option<Ack> {
    let mut parts = line.strip_prefix("ack ")?.split(' ');
    Some(Ack {
        stream: parts.next()?.to_owned(),
        revision: parts.next()?.parse().ok()?,
        position: parts.next()?.parse().ok()?,
    })
}

fn kills() -> u64 {
    std::env::var("HEARD_CRASH_KILLS").ok().and_then(|k| k.parse().ok()).unwrap_or(20)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_append_survives_kill_9_at_random_points() {
    kill_repeatedly(BackendKind::Segments, kills(), false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_append_to_the_sled_backend_survives_kill_9_too() {
    kill_repeatedly(BackendKind::Sled, kills() / 4, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_personal_field_still_decrypts_after_kill_9() {
    kill_repeatedly(BackendKind::Segments, kills() / 2, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_personal_field_in_the_sled_backend_still_decrypts_after_kill_9() {
    kill_repeatedly(BackendKind::Sled, kills() / 4, true).await;
}

/// Kills `heard-bench append` `kills` times; with `personal`, every event seals a field under a
/// new person's key.
async fn kill_repeatedly(backend: BackendKind, kills: u64, personal: bool) {
    let binary = heard_bench_binary();
    let data = tempfile::tempdir().unwrap();
    let mut rng = Rng::from_env_or_random();
    let mut acknowledged: Vec<Ack> = Vec::new();
    let mut killed_mid_run = 0;
    for round in 0..kills {
        let writers = rng.between(1, 17);
        let size = rng.between(16, 2048);
        // Kill after this many acknowledgements; 0 kills during start-up and recovery.
        let kill_after = if round % 5 == 0 { 0 } else { rng.between(1, 1500) };
        let mut child = Command::new(&binary)
            .args(["append", "--data"])
            .arg(data.path())
            .args(["--writers", &writers.to_string(), "--events", "5000000", "--size", &size.to_string()])
            .arg("--print-acks")
            .args(["--backend", backend_name(backend)])
            .args(personal.then_some("--personal"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("heard starts");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let mut seen = 0;
        while seen < kill_after {
            let Some(Ok(line)) = lines.next() else { break };
            if let Some(ack) = parse_ack(&line) {
                acknowledged.push(ack);
                seen += 1;
            }
        }
        child.kill().expect("SIGKILL is delivered");
        let status = child.wait().unwrap();
        assert!(!status.success(), "round {round}: the child was killed, not finished");
        if seen == kill_after {
            killed_mid_run += 1;
        }
        // Acks printed before the kill but not yet read are acknowledged too.
        for line in lines.map_while(Result::ok) {
            if let Some(ack) = parse_ack(&line) {
                acknowledged.push(ack);
            }
        }
        check_every_ack_is_stored(data.path(), backend, &acknowledged, round, personal).await;
    }
    eprintln!(
        "{backend:?}: {kills} kills, {killed_mid_run} mid-run, {} acknowledged appends checked",
        acknowledged.len()
    );
    assert!(killed_mid_run >= kills / 2, "most kills land while appends are in flight");
    assert!(!acknowledged.is_empty());
}

fn backend_name(backend: BackendKind) -> &'static str {
    match backend {
        BackendKind::Segments => "segments",
        BackendKind::Sled => "sled",
        BackendKind::Postgres => "postgres",
    }
}

async fn check_every_ack_is_stored(
    data: &std::path::Path,
    backend: BackendKind,
    acknowledged: &[Ack],
    round: u64,
    personal: bool,
) {
    let store = EventStore::open_embedded(data, backend, Upcasters::new())
        .unwrap_or_else(|error| panic!("round {round}: the store reopens after kill -9: {error}"));
    let mut stored: HashMap<u64, (String, u64)> = HashMap::new();
    let mut from = 1;
    loop {
        let page = store.read_all_raw(from, 8192).await.unwrap();
        let Some(last) = page.last() else { break };
        from = last.position + 1;
        for event in page {
            stored.insert(event.position, (event.stream.to_string(), event.revision));
        }
    }
    for ack in acknowledged {
        let found = stored.get(&ack.position);
        assert_eq!(
            found,
            Some(&(ack.stream.clone(), ack.revision)),
            "round {round}: acknowledged {ack:?} is missing or different after kill -9"
        );
    }
    if personal {
        check_every_personal_field_decrypts(&store, acknowledged, round).await;
    }
    let report = verify_chain(&store, None).await.unwrap();
    assert!(report.ok, "round {round}: the chain verifies after kill -9: {report:?}");
    assert_eq!(report.events, stored.len() as u64, "round {round}: positions are gapless");
    store.close().await.unwrap();
}

/// Every acknowledged event's personal field decrypts to `{"revision": r}`; and since a key is
/// made durable before its event is written, so does every other event in the log.
async fn check_every_personal_field_decrypts(store: &EventStore, acknowledged: &[Ack], round: u64) {
    let mut fields: HashMap<u64, serde_json::Value> = HashMap::new();
    let mut from = 1;
    loop {
        let page = store.read_all(from, 8192).await.unwrap();
        let Some(last) = page.last() else { break };
        from = last.position + 1;
        for event in page {
            let Personal::Plain(plain) = &event.personal else {
                panic!(
                    "round {round}: the personal field at position {} does not decrypt after kill -9",
                    event.position
                )
            };
            assert_eq!(plain.fields, serde_json::json!({ "revision": event.revision }), "round {round}");
            fields.insert(event.position, plain.fields.clone());
        }
    }
    for ack in acknowledged {
        assert_eq!(
            fields.get(&ack.position),
            Some(&serde_json::json!({ "revision": ack.revision })),
            "round {round}: the personal field of acknowledged {ack:?} decrypts after kill -9"
        );
    }
}

#[test]
fn heard_verify_is_ok_after_a_kill() {
    let binary = heard_binary();
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(heard_bench_binary())
        .args(["append", "--data"])
        .arg(data.path())
        .args(["--writers", "8", "--events", "5000000", "--print-acks"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acks = 0;
    while acks < 200 {
        if lines.next().and_then(Result::ok).and_then(|l| parse_ack(&l)).is_some() {
            acks += 1;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let verify = Command::new(&binary).args(["verify", "--data"]).arg(data.path()).output().unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
    let report: serde_json::Value = serde_json::from_slice(&verify.stdout).unwrap();
    assert_eq!(report["ok"], true);
    assert!(report["events"].as_u64().unwrap() >= 200);
    assert_eq!(report["head"].as_str().unwrap().len(), 64);
}
