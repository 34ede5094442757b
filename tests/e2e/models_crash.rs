//! Read models kept on disk (`DATA_DIR/models`) survive kill -9: the real `heard serve` is
//! killed with SIGKILL at random moments while people use it, while it saves its models as it
//! stops, while it saves them after a rebuild, and while it rebuilds them at start-up. After each
//! kill it starts again, every mutation it acknowledged is there, and a fixed set of GraphQL
//! queries answers exactly as it does after `heard rebuild models all`.
//!
//! The number of kills comes from `HEARD_MODEL_CRASH_KILLS` (default 3); a failing run is
//! replayed with the `HEARD_TEST_SEED` it printed.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use heard_tests::Rng;
use serde_json::{Value, json};

use crate::harness::{
    Acks, DECISION_FIELDS, Driver, Driving, ITEM_FIELDS, PATIENCE, REPORT_FIELDS, SEARCH, Serve, Tokens, answer,
    create_accounts, heard, heard_command, search_settled, serve_command, tokens,
};

fn kills() -> u64 {
    std::env::var("HEARD_MODEL_CRASH_KILLS").ok().and_then(|k| k.parse().ok()).unwrap_or(3)
}

/// How many feedback rows the data directory starts with (`HEARD_MODEL_CRASH_ROWS`, default
/// 2,000). A running server saves a model again once 20,000 events follow its last save (and
/// 10 s have passed): with 20,500 rows or more, a server whose models were deleted rebuilds them
/// and then saves them while it runs, and the kills after a rebuild land around that save.
fn imported_rows() -> usize {
    std::env::var("HEARD_MODEL_CRASH_ROWS").ok().and_then(|rows| rows.parse().ok()).unwrap_or(2_000)
}

/// Events after which a running server saves its models again (`SAVE_AFTER_EVENTS`).
const SAVE_AFTER_EVENTS: usize = 20_000;

/// Starts `heard serve` on `data`, which logs each model it saves and rebuilds, and returns as
/// soon as it listens (it may still be catching up: `/readyz` says when it is ready).
fn start(data: &Path) -> Serve {
    let mut command = serve_command(data);
    command.env("RUST_LOG", "info,heard_eventstore=debug");
    Serve::spawn(command, PATIENCE)
}

/// A data directory with the accounts and [`imported_rows`] imported feedback items.
fn data_dir_with_a_big_log() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    create_accounts(&data);
    let mut csv = String::from("date,channel,about,text,themes,speaker,consent\n");
    let consents = ["hub", "commissioners", "public"];
    let themes = ["Opening hours", "Access and waiting times", "Peer support and mutual aid"];
    for row in 0..imported_rows() {
        let day = 1 + row % 28;
        let month = 1 + (row / 28) % 12;
        csv.push_str(&format!(
            "2025-{month:02}-{day:02},forum,Community pharmacies,Row {row} says the doors shut too early,{},anonymous,{}\n",
            themes[row % 3],
            consents[row % 3]
        ));
    }
    let file = dir.path().join("feedback.csv");
    std::fs::write(&file, csv).unwrap();
    let imported = heard(&["import", "feedback", "--hub", "arun", file.to_str().unwrap()], &data);
    let summary: Value = serde_json::from_str(imported.trim()).expect("the import prints a JSON summary");
    assert_eq!(summary["imported"], imported_rows(), "{summary}");
    dir
}

/// The position, type and stream of the last `n` events (`heard export`; no personal data).
fn last_events(data: &Path, n: usize) -> String {
    let exported = heard_command().args(["export", "--data"]).arg(data).output().expect("heard runs");
    let lines: Vec<&[u8]> = exported.stdout.split(|byte| *byte == b'\n').filter(|line| !line.is_empty()).collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|line| {
            let event: Value = serde_json::from_slice(line).unwrap_or(Value::Null);
            format!("{} {} {}", event["position"], event["type"], event["stream"])
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A new [`data_dir_with_a_big_log`] (kept until the first of the three is dropped), its data
/// directory, and a server started on it, ready.
async fn ready_on_a_big_log(client: &reqwest::Client) -> (tempfile::TempDir, std::path::PathBuf, Serve) {
    let dir = data_dir_with_a_big_log();
    let data = dir.path().join("data");
    let serve = start(&data);
    serve.ready(client).await;
    (dir, data, serve)
}

/// Uses every kept model, step after step, recording what was acknowledged, until `stop` or
/// until the server stops answering.
async fn drive(driver: Driver, stop: Arc<AtomicBool>, n: u64) {
    let mut step = 0u64;
    while !stop.load(Ordering::SeqCst) {
        step += 1;
        let said = format!("Driver {n} step {step}");
        let answered = async {
            let item = driver.log(&said).await?;
            driver.share(&item).await?;
            driver.refer(&said).await?;
            driver.raise(&said).await?;
            let decision = driver.propose(&said).await?;
            driver.link(&decision, &item).await
        };
        if answered.await.is_none() {
            return;
        }
    }
}

/// Two drivers running against one server.
fn driving(base: &str, tokens: &Tokens, acks: &Arc<Mutex<Acks>>) -> Driving {
    Driving::start(base, tokens, acks, 0..2, drive)
}

/// What `field(id: ID)` answers `token` with `selection`.
async fn by_id(client: &reqwest::Client, base: &str, token: &str, field: &str, selection: &str, id: &str) -> Value {
    let query = format!("query($id: ID!) {{ {field}(id: $id) {{ {selection} }} }}");
    answer(client, base, token, &query, json!({ "id": id })).await["data"][field].clone()
}

/// Every acknowledged mutation is visible.
async fn check_acknowledged(client: &reqwest::Client, base: &str, tokens: &Tokens, acks: &Acks, round: u64) {
    for item in &acks.items {
        let seen = by_id(client, base, &tokens.coordinator, "feedbackItem", "id sharedAt decisionIds", item).await;
        assert_eq!(seen["id"], item.as_str(), "round {round}: acknowledged item {item} is missing after kill -9");
        if acks.shared.contains(item) {
            assert!(seen["sharedAt"].is_string(), "round {round}: the acknowledged sharing of {item} is lost: {seen}");
        }
    }
    for case in &acks.cases {
        let seen = by_id(client, base, &tokens.advocate, "case", "id", case).await;
        assert_eq!(seen["id"], case.as_str(), "round {round}: acknowledged case {case} is missing");
    }
    for complaint in &acks.complaints {
        let seen = by_id(client, base, &tokens.handler, "complaint", "id", complaint).await;
        assert_eq!(seen["id"], complaint.as_str(), "round {round}: acknowledged complaint {complaint} is missing");
    }
    for decision in &acks.decisions {
        let seen = by_id(client, base, &tokens.commissioner, "decision", "id evidence { kind target }", decision).await;
        assert_eq!(seen["id"], decision.as_str(), "round {round}: acknowledged decision {decision} is missing");
        for (_, item) in acks.evidence.iter().filter(|(linked, _)| linked == decision) {
            let targets: Vec<&str> = seen["evidence"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|evidence| evidence["target"].as_str())
                .collect();
            assert!(
                targets.contains(&item.as_str()),
                "round {round}: the acknowledged evidence {item} of {decision} is lost: {seen}"
            );
        }
    }
}

/// The fixed queries (who asks, the query, its variables) whose answers must not depend on
/// whether the models were loaded from disk or rebuilt from the log. They leave out `position`
/// and `chainHead`: those stamp the log's head when the answer was given, and reading cases
/// and complaints appends to the log (`AccessRecorded`), so the head moves between two runs.
/// The search index is not one of the kept models, and the order of hits that score the same
/// is not defined: the search is compared by its total and facets.
fn queries(tokens: &Tokens) -> Vec<(String, String, Value)> {
    let arun = json!({ "s": { "hub": "arun" } });
    vec![
        (tokens.commissioner.clone(), format!("{{ decisions(first: 100) {{ pageInfo {{ hasNextPage }} nodes {{ {DECISION_FIELDS} }} }} }}"), json!({})),
        (tokens.commissioner.clone(), format!("query($s: ReportScopeInput!) {{ youSaidWeDid(scope: $s) {{ {REPORT_FIELDS} decisions {{ {DECISION_FIELDS} }} }} }}"), arun.clone()),
        (tokens.commissioner.clone(), "query($s: ReportScopeInput!) { loopMetrics(scope: $s) { sharedItems closedItems loopClosureRate } }".into(), arun),
        (tokens.coordinator.clone(), format!("{{ feedbackItems(filter: {{ hub: \"arun\" }}, first: 100) {{ pageInfo {{ hasNextPage }} nodes {{ {ITEM_FIELDS} }} }} }}"), json!({})),
        (tokens.coordinator.clone(), "{ moderationQueue(hub: \"arun\", first: 50) { totalCount nodes { id } } }".into(), json!({})),
        (tokens.coordinator.clone(), SEARCH.into(), json!({})),
        (tokens.advocate.clone(), "{ cases(first: 100) { pageInfo { hasNextPage } nodes { id clientRef issue kind domain provider articles advocateId state referredOn } } }".into(), json!({})),
        (tokens.advocate.clone(), "{ advocacyThemes(by: [DOMAIN, PROVIDER]) { keys { dimension value label } count suppressed } }".into(), json!({})),
        (tokens.handler.clone(), "{ complaints(first: 100) { pageInfo { hasNextPage } nodes { id reference provider stage articles { number } whatHappened receivedOn } } }".into(), json!({})),
        (tokens.handler.clone(), "{ complaintPatterns(by: [PROVIDER, ARTICLE]) { keys { dimension value label } count suppressed } }".into(), json!({})),
    ]
}

async fn answers(client: &reqwest::Client, base: &str, tokens: &Tokens) -> Vec<Value> {
    let mut out = Vec::new();
    for (token, query, variables) in queries(tokens) {
        out.push(answer(client, base, &token, &query, variables).await);
    }
    out
}

/// Answers on a server restarted after a kill; then stops it cleanly, rebuilds every model
/// with `heard rebuild models all`, starts it again and checks the answers are the same.
/// Returns the server started after the rebuild, and how long the clean stop took.
async fn same_as_a_fresh_rebuild(
    client: &reqwest::Client,
    data: &Path,
    restarted: Serve,
    tokens: &Tokens,
    round: u64,
) -> (Serve, Duration) {
    search_settled(client, &restarted.base, tokens).await;
    let after_kill = answers(client, &restarted.base, tokens).await;
    let stopping = restarted.stop();
    let stopped_at = last_events(data, 6);
    let rebuilt: Value = serde_json::from_str(heard(&["rebuild", "models", "all"], data).trim()).unwrap();
    assert_eq!(
        rebuilt["rebuilt"],
        json!(["identity", "feedback", "advocacy", "rights", "commissioning", "privacy"]),
        "{rebuilt}"
    );
    let rebuilt_at = last_events(data, 6);
    let fresh = start(data);
    fresh.ready(client).await;
    search_settled(client, &fresh.base, tokens).await;
    let after_rebuild = answers(client, &fresh.base, tokens).await;
    for (index, (was, is)) in after_kill.iter().zip(&after_rebuild).enumerate() {
        assert_eq!(
            was, is,
            "round {round}: query {index} answers differently after `heard rebuild models all`; the log ended with \
             {stopped_at} when the restarted server stopped, and with {rebuilt_at} after the rebuild"
        );
    }
    (fresh, stopping)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_while_models_are_written_loses_no_acknowledged_event_and_every_model_equals_a_fresh_rebuild() {
    let mut rng = Rng::from_env_or_random();
    let started = Instant::now();
    let client = reqwest::Client::new();
    let (_dir, data, mut serve) = ready_on_a_big_log(&client).await;
    let tokens = tokens(&serve.base, "crash test").await;
    let acks = Arc::new(Mutex::new(Acks::default()));
    let mut stop_takes = Duration::from_secs(1);
    let (mut mid_mutations, mut mid_stop, mut stopped_first, mut after_rebuild, mut saves_before_kill) =
        (0, 0, 0, 0, 0);
    eprintln!("setup: {:.1} s", started.elapsed().as_secs_f64());
    for round in 0..kills() {
        let killed = match round % 3 {
            // Killed while mutations are in flight: the models on disk are behind the log.
            0 => {
                let driving = driving(&serve.base, &tokens, &acks);
                driving.until_acknowledged(driving.acknowledged(), rng.between(1, 60), &serve).await;
                let killed = serve.kill_unless_stopped();
                driving.finish().await;
                mid_mutations += u64::from(killed);
                killed
            }
            // Killed while it saves its models as it stops (after SIGTERM).
            1 => {
                let driving = driving(&serve.base, &tokens, &acks);
                driving.until_acknowledged(driving.acknowledged(), rng.between(6, 60), &serve).await;
                driving.finish().await;
                serve.terminate();
                let wait = Duration::from_millis(rng.between(0, stop_takes.as_millis() as u64 + 1));
                tokio::time::sleep(wait).await;
                let killed = serve.kill_unless_stopped();
                if killed {
                    mid_stop += 1
                } else {
                    stopped_first += 1
                }
                killed
            }
            // Models deleted: the server rebuilds them, then saves them while it runs (10 s
            // after it started, at the next event); killed around then, mutations in flight.
            _ => {
                serve.stop();
                std::fs::remove_dir_all(data.join("models")).unwrap();
                let rebuilding = start(&data);
                rebuilding.ready(&client).await;
                let driving = driving(&rebuilding.base, &tokens, &acks);
                let saves_while_running = imported_rows() > SAVE_AFTER_EVENTS;
                let around = if saves_while_running {
                    rebuilding.spawned + Duration::from_millis(9_500)
                } else {
                    Instant::now()
                };
                let at = around.max(Instant::now()) + Duration::from_millis(rng.between(0, 3_000));
                while Instant::now() < at {
                    assert!(!driving.drivers.iter().all(|driver| driver.is_finished()), "{}", rebuilding.tail());
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                saves_before_kill += rebuilding.logged("saved the model");
                let killed = rebuilding.kill_unless_stopped();
                driving.finish().await;
                after_rebuild += u64::from(killed);
                killed
            }
        };
        assert!(killed || round % 3 == 1, "round {round}: the server was running when killed");
        let restarted = start(&data);
        restarted.ready(&client).await;
        let acknowledged = acks.lock().unwrap().clone();
        check_acknowledged(&client, &restarted.base, &tokens, &acknowledged, round).await;
        let (fresh, stop) = same_as_a_fresh_rebuild(&client, &data, restarted, &tokens, round).await;
        stop_takes = stop;
        serve = fresh;
    }
    serve.stop();
    let acks = acks.lock().unwrap();
    eprintln!(
        "{} kills: {mid_mutations} with mutations in flight, {mid_stop} while stopping ({stopped_first} stopped before \
         the kill), {after_rebuild} after a rebuild ({saves_before_kill} model saves logged before those kills); \
         {} acknowledged mutations checked; {:.1} s",
        kills(),
        acks.count,
        started.elapsed().as_secs_f64()
    );
    assert!(acks.count > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_after_a_crash_in_the_middle_of_a_rebuild_rebuilds_again_and_ends_consistent() {
    let mut rng = Rng::from_env_or_random();
    let started = Instant::now();
    let client = reqwest::Client::new();
    // Some of everything beside the imported feedback, and the tokens.
    let (_dir, data, serve) = ready_on_a_big_log(&client).await;
    // This start rebuilt the models the import did not open: about as long as a rebuild takes.
    let mut rebuild_takes = serve.spawned.elapsed();
    let tokens = tokens(&serve.base, "crash test").await;
    let acks = Arc::new(Mutex::new(Acks::default()));
    let driving = driving(&serve.base, &tokens, &acks);
    driving.until_acknowledged(0, 30, &serve).await;
    driving.finish().await;
    // The search index shows new items, and items newly linked to a decision, once it
    // refreshes: wait until it shows every one as linked.
    let linked = acks.lock().unwrap().evidence.iter().map(|(_, item)| item.clone()).collect::<BTreeSet<_>>().len();
    let logged = acks.lock().unwrap().items.len();
    assert_eq!(linked, logged, "each driver finishes its step, linking its item, before it stops");
    let deadline = Instant::now() + PATIENCE;
    let search = "{ searchFeedback(query: \"evening clinic\", first: 1) { total facets { dimension value count } } }";
    loop {
        let seen = answer(&client, &serve.base, &tokens.coordinator, search, json!({})).await;
        let seen = &seen["data"]["searchFeedback"];
        let linked_seen = seen["facets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|facet| facet["dimension"] == "loop" && facet["value"] == "LINKED_TO_DECISION")
            .map(|facet| facet["count"].clone());
        if seen["total"] == logged && linked_seen == Some(json!(linked)) {
            break;
        }
        assert!(Instant::now() < deadline, "the search never showed the {logged} items linked: {seen}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before = answers(&client, &serve.base, &tokens).await;
    serve.stop();
    eprintln!("setup: {:.1} s", started.elapsed().as_secs_f64());

    let (mut mid_rebuild, mut already_ready) = (0, 0);
    for round in 0..kills() {
        std::fs::remove_dir_all(data.join("models")).unwrap();
        // Killed while /readyz still answers 503, once or twice in a row.
        for _ in 0..rng.between(1, 3) {
            let rebuilding = start(&data);
            let at = Instant::now() + Duration::from_millis(rng.between(0, rebuild_takes.as_millis() as u64));
            let mut was_ready = false;
            while Instant::now() < at {
                if rebuilding.answers_ready(&client).await {
                    was_ready = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let rebuilt_models = rebuilding.logged("rebuilding the model from the log");
            assert!(rebuilding.kill_unless_stopped(), "round {round}: the server was running when killed");
            if was_ready {
                already_ready += 1;
                eprintln!("round {round}: the server was already ready when killed; checking consistency anyway");
            } else {
                mid_rebuild += 1;
                eprintln!(
                    "round {round}: killed while /readyz answered 503, after {rebuilt_models} models said they were rebuilding"
                );
            }
        }
        let restarted = start(&data);
        restarted.ready(&client).await;
        rebuild_takes = restarted.spawned.elapsed();
        let acknowledged = acks.lock().unwrap().clone();
        check_acknowledged(&client, &restarted.base, &tokens, &acknowledged, round).await;
        let after_crash = answers(&client, &restarted.base, &tokens).await;
        for (index, (was, is)) in before.iter().zip(&after_crash).enumerate() {
            assert_eq!(was, is, "round {round}: query {index} answers differently after a crash in a rebuild");
        }
        let (fresh, _) = same_as_a_fresh_rebuild(&client, &data, restarted, &tokens, round).await;
        fresh.stop();
    }
    eprintln!(
        "{mid_rebuild} kills while rebuilding, {already_ready} after it was ready; {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
