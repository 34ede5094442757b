//! kill -9 on PostgreSQL: two real `heard serve` processes (replicas, each with a data
//! directory of its own) serve one event log in one PostgreSQL schema while HTTP clients log
//! feedback through both. One replica, picked at random, is killed with SIGKILL at a random
//! moment. Every item either replica answered with its id is there afterwards, on the
//! surviving replica and on the killed one once it has started again; the chain verifies; and
//! the surviving replica answered every request, during the kill and after it.
//!
//! A failing run is replayed with the `HEARD_TEST_SEED` it printed.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use heard_access::Role;
use heard_eventstore::{EventStore, Upcasters, verify_chain};
use heard_tests::{PgSchema, Rng, ask_with_token as ask, spawn_app_with};
use serde_json::{Value, json};

use crate::harness::{LOG, Serve, serve_command};

/// How long anything here may take before the test says it hung.
const PATIENCE: Duration = Duration::from_secs(60);

/// HTTP clients logging feedback through each replica.
const CLIENTS_PER_REPLICA: usize = 2;

/// Items the surviving replica must still log after the kill.
const AFTER_THE_KILL: usize = 20;

/// Starts `heard serve` on port 0 over `schema`, with `data` for its models and search index,
/// and returns once it listens (`ready` waits until it has caught up).
fn replica(schema: &PgSchema, data: &Path) -> Serve {
    let mut command = serve_command(data);
    command.env("HEARD_STORE__BACKEND", "postgres").env("HEARD_STORE__URL", schema.url());
    Serve::spawn(command, PATIENCE)
}

const ITEM: &str = "query($id: ID!) { feedbackItem(id: $id) { id text } }";
const STATS: &str = "{ storeStats { events chainHead } }";

/// Every item a replica answered with its id: the id, and the words it was logged with.
type Acks = Arc<Mutex<BTreeMap<String, String>>>;

/// One HTTP client logging feedback through `base` until `stop`. On the replica that will be
/// killed (`may_die`) it stops at the first request not answered; on the other every request
/// must be answered, and answered with an item.
async fn log_feedback(base: String, token: String, acks: Acks, stop: Arc<AtomicBool>, name: String, may_die: bool) {
    let client = reqwest::Client::new();
    let mut step = 0;
    while !stop.load(Ordering::SeqCst) {
        step += 1;
        let text = format!("Client {name} step {step}: the evening clinic closed early");
        let input = json!({ "i": { "hub": "arun", "text": text, "channel": "DROP_IN", "saidOn": "2026-11-02",
            "speaker": "ANONYMOUS", "consent": "COMMISSIONERS" } });
        let answer = match ask(&client, &base, &token, LOG, input).await {
            Ok(answer) => answer,
            Err(_) if may_die => break,
            Err(error) => panic!("the surviving replica did not answer step {step} of client {name}: {error}"),
        };
        let id = answer["data"]["logFeedback"]["id"].as_str();
        let id = id.unwrap_or_else(|| panic!("client {name} step {step} was refused: {answer}"));
        acks.lock().unwrap().insert(id.to_owned(), text);
    }
}

/// Checks that `replica` answers every acknowledged item with the words it was logged with. A
/// replica follows the other's appends (a notification, or its poll every 500 ms): each item
/// is asked for until it is there, up to [`PATIENCE`] in all.
async fn every_item_is_there(client: &reqwest::Client, replica: &Serve, token: &str, acks: &BTreeMap<String, String>) {
    let deadline = Instant::now() + PATIENCE;
    for (id, text) in acks {
        loop {
            let answer = ask(client, &replica.base, token, ITEM, json!({ "id": id })).await;
            let answer = answer.unwrap_or_else(|error| panic!("{}: {error}\n{}", replica.base, replica.tail()));
            if answer["errors"].is_null() {
                assert_eq!(answer["data"]["feedbackItem"]["text"], text.as_str(), "{answer}");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "acknowledged item {id} is missing from {} after kill -9: {answer}",
                replica.base
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Waits until `replica`'s `storeStats` reports `head` (it has followed every append).
async fn reaches(client: &reqwest::Client, replica: &Serve, token: &str, head: &Value) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let stats = ask(client, &replica.base, token, STATS, json!({})).await.expect("the replica answers");
        if &stats["data"]["storeStats"] == head {
            return;
        }
        assert!(Instant::now() < deadline, "{} never reached {head}: {stats}", replica.base);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_item_either_replica_acknowledged_survives_kill_9_of_one_and_the_other_keeps_serving() {
    let mut rng = Rng::from_env_or_random();
    let schema = PgSchema::new();

    // The coordinator's account and API token, made in the shared log by a server in this
    // process (`heard admin create-user` works on a data directory's own log only).
    // Its `secret.key` is the server key every replica over the schema must hold.
    let (token, first) = {
        let app = spawn_app_with(|settings| schema.serve_from(settings)).await;
        let coordinator = app.create_user("coordinator@example.org", &[Role::HubCoordinator], &["arun"]).await;
        let token = app.token_for(coordinator).await;
        (token, app.shutdown().await)
    };

    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    for dir in &dirs {
        std::fs::copy(first.path().join("secret.key"), dir.path().join("secret.key"))
            .expect("the server key is copied");
    }
    let mut replicas: Vec<Option<Serve>> = dirs.iter().map(|dir| Some(replica(&schema, dir.path()))).collect();
    let client = reqwest::Client::new();
    for replica in replicas.iter().flatten() {
        replica.ready(&client).await;
    }
    let victim = rng.between(0, 2) as usize;
    let survivor = 1 - victim;
    let kill_after = rng.between(1, 120) as usize;
    eprintln!("killing replica {victim} after {kill_after} acknowledged items");

    let acks: Acks = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for (index, replica) in replicas.iter().enumerate() {
        let base = replica.as_ref().unwrap().base.clone();
        for n in 0..CLIENTS_PER_REPLICA {
            let name = format!("{index}.{n}");
            let run = log_feedback(base.clone(), token.clone(), acks.clone(), stop.clone(), name, index == victim);
            clients.push(tokio::spawn(run));
        }
    }
    let acknowledged = || acks.lock().unwrap().len();
    let wait_for = |count: usize, what: &'static str| {
        let acknowledged = &acknowledged;
        async move {
            let deadline = Instant::now() + PATIENCE;
            while acknowledged() < count {
                assert!(Instant::now() < deadline, "{what}: only {} items acknowledged", acknowledged());
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    wait_for(kill_after, "before the kill").await;
    replicas[victim].take().unwrap().kill();
    let at_the_kill = acknowledged();
    wait_for(at_the_kill + AFTER_THE_KILL, "the surviving replica after the kill").await;
    stop.store(true, Ordering::SeqCst);
    for run in clients {
        run.await.expect("every client ran to the end (one on the surviving replica fails on any unanswered request)");
    }
    let acks = acks.lock().unwrap().clone();
    eprintln!("{} items acknowledged, {at_the_kill} by the kill", acks.len());

    // The chain verifies, in the shared log, to the end.
    let store = EventStore::open_postgres(&schema.url(), Upcasters::new()).await.expect("the log opens");
    let report = verify_chain(&store, None).await.unwrap();
    assert!(report.ok, "the chain verifies after kill -9: {report:?}");
    let head = store.head();
    assert_eq!(report.events, head.position, "positions are gapless");
    store.close().await.unwrap();
    let head = json!({ "events": head.position, "chainHead": hex(&head.hash) });

    // The survivor has every item, and so has the killed replica once it starts again.
    let alive = replicas[survivor].as_ref().unwrap();
    every_item_is_there(&client, alive, &token, &acks).await;
    reaches(&client, alive, &token, &head).await;
    let restarted = replica(&schema, dirs[victim].path());
    restarted.ready(&client).await;
    every_item_is_there(&client, &restarted, &token, &acks).await;
    reaches(&client, &restarted, &token, &head).await;
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
