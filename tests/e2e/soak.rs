//! Load and fault proof (issue #21), with the real `heard serve` as a child process.
//!
//! - kill -9 under mixed load: people log and share feedback, refer cases, raise complaints,
//!   propose decisions and link evidence while others search and read reports, cases and
//!   complaints; the server is killed with SIGKILL at a random moment, started again, and then
//!   every mutation it answered with an id is there, `heard verify` finds the chain whole, and a
//!   fixed set of GraphQL queries answers exactly as a second server does on a copy of the
//!   directory whose read models and search index were deleted (so rebuilt from the log).
//!   Rounds: `HEARD_SOAK_KILLS` (default 20, what CI runs); `ops/soak` runs 200 or more. A
//!   failing run is replayed with the `HEARD_TEST_SEED` it printed.
//! - A full disk: the data directory on an 8 MB tmpfs; writes fail with a clear `UNAVAILABLE`
//!   error, nothing acknowledged is lost, reads and `/readyz` keep working, and writing resumes
//!   as soon as space is freed, without a restart (the log undoes a write the disk refused), and
//!   the search index finds every acknowledged item again without a restart or a rebuild.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use heard_tests::{Rng, ask_with_token as ask};
use serde_json::{Value, json};

use crate::harness::{
    Acks, DECISION_FIELDS, Driver, Driving, ITEM_FIELDS, LOG, PATIENCE, REFER, REPORT_FIELDS, SEARCH, Serve, Tokens,
    answer, binary, create_accounts, feedback, heard, mutate, referral, search_settled, tokens,
};

/// How many times the server is killed (`HEARD_SOAK_KILLS`, default 20).
fn kills() -> u64 {
    std::env::var("HEARD_SOAK_KILLS").ok().and_then(|kills| kills.parse().ok()).unwrap_or(20)
}

/// `heard verify` finds the chain whole.
fn verified(data: &Path) -> Value {
    let report: Value = serde_json::from_str(heard(&["verify"], data).trim()).expect("verify prints JSON");
    assert_eq!(report["ok"], true, "heard verify: {report}");
    report
}

/// What one driver does, over and over.
#[derive(Clone, Copy, Debug)]
enum Work {
    /// A hub coordinator logs an item and shares it.
    Feedback,
    /// An advocate refers a case.
    Casework,
    /// A complaints handler raises a complaint.
    Complaints,
    /// A commissioner proposes a decision and links the last shared item to it.
    Decisions,
    /// Searches, the you-said-we-did report, lists of items, cases and complaints.
    Reading,
}

/// Does `work` until `stop`, or until the server stops answering; records what was acknowledged.
async fn drive(driver: Driver, stop: Arc<AtomicBool>, work: Work) {
    let mut step = 0u64;
    let id = uuid::Uuid::new_v4().simple().to_string();
    while !stop.load(Ordering::SeqCst) {
        step += 1;
        let said = format!("Soak {id} step {step}");
        let answered = async {
            match work {
                Work::Feedback => {
                    let item = driver.log(&said).await?;
                    driver.share(&item).await
                }
                Work::Casework => driver.refer(&said).await.map(drop),
                Work::Complaints => driver.raise(&said).await.map(drop),
                Work::Decisions => {
                    let decision = driver.propose(&said).await?;
                    let Some(item) = driver.acks.lock().unwrap().shared.last().cloned() else { return Some(()) };
                    driver.link(&decision, &item).await
                }
                Work::Reading => {
                    let (token, query) = match step % 5 {
                        0 => (
                            &driver.tokens.coordinator,
                            "{ searchFeedback(query: \"evening clinic\", first: 5) { total } }",
                        ),
                        1 => (
                            &driver.tokens.commissioner,
                            "{ youSaidWeDid(scope: { hub: \"arun\" }) { sharedItems closedItems } }",
                        ),
                        2 => (
                            &driver.tokens.coordinator,
                            "{ feedbackItems(filter: { hub: \"arun\" }, first: 10) { nodes { id } } }",
                        ),
                        3 => (&driver.tokens.advocate, "{ cases(first: 10) { nodes { id state } } }"),
                        _ => (&driver.tokens.handler, "{ complaints(first: 10) { nodes { id stage } } }"),
                    };
                    let read = ask(&driver.client, &driver.base, token, query, json!({})).await.ok()?;
                    assert!(read["errors"].is_null(), "{query} failed under load: {read}");
                    driver.acks.lock().unwrap().reads += 1;
                    Some(())
                }
            }
        };
        if answered.await.is_none() {
            return;
        }
    }
}

/// Drivers running against one server: one of each kind of work.
fn driving(base: &str, tokens: &Tokens, acks: &Arc<Mutex<Acks>>) -> Driving {
    let works = [Work::Feedback, Work::Casework, Work::Complaints, Work::Decisions, Work::Reading];
    Driving::start(base, tokens, acks, works, drive)
}

/// `{ a0: field(id: "…") { selection } a1: … }` for ids (UUIDs: safe to write inline), at most
/// 50 a request; every one must answer.
async fn each_by_id(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    field: &str,
    selection: &str,
    ids: &[&String],
) -> Vec<Value> {
    let mut seen = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(50) {
        let aliases: String = chunk
            .iter()
            .enumerate()
            .map(|(index, id)| format!("a{index}: {field}(id: \"{id}\") {{ {selection} }} "))
            .collect();
        let answered = ask(client, base, token, &format!("{{ {aliases}}}"), json!({})).await.expect("answered");
        assert!(answered["errors"].is_null(), "an acknowledged {field} is missing after kill -9: {answered}");
        seen.extend((0..chunk.len()).map(|index| answered["data"][format!("a{index}")].clone()));
    }
    seen
}

/// Every id a paged list shows (`cases`, `complaints`): one access event a page.
async fn listed(client: &reqwest::Client, base: &str, token: &str, field: &str) -> BTreeSet<String> {
    let query = format!(
        "query($after: String) {{ {field}(first: 100, after: $after) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ id }} }} }}"
    );
    let mut ids = BTreeSet::new();
    let mut after = Value::Null;
    loop {
        let page = answer(client, base, token, &query, json!({ "after": after })).await;
        let page = &page["data"][field];
        ids.extend(page["nodes"].as_array().unwrap().iter().map(|node| node["id"].as_str().unwrap().to_owned()));
        if page["pageInfo"]["hasNextPage"] != true {
            return ids;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

/// Every acknowledged mutation is there: items (and their sharing) and decisions (and their
/// evidence) read by id; cases and complaints through their lists, since reading a case file
/// or a complaint by id records the access in the log each time.
async fn check_acknowledged(client: &reqwest::Client, base: &str, tokens: &Tokens, acks: &Acks, round: u64) {
    let items: Vec<&String> = acks.items.iter().collect();
    let seen = each_by_id(client, base, &tokens.coordinator, "feedbackItem", "id sharedAt", &items).await;
    for (item, seen) in items.iter().zip(&seen) {
        assert_eq!(seen["id"], item.as_str(), "round {round}: acknowledged item {item} is missing: {seen}");
        if acks.shared.contains(*item) {
            assert!(seen["sharedAt"].is_string(), "round {round}: the acknowledged sharing of {item} is lost: {seen}");
        }
    }
    let decisions: Vec<&String> = acks.decisions.iter().collect();
    let seen = each_by_id(client, base, &tokens.commissioner, "decision", "id evidence { target }", &decisions).await;
    for (decision, seen) in decisions.iter().zip(&seen) {
        assert_eq!(seen["id"], decision.as_str(), "round {round}: acknowledged decision {decision} is missing");
        let targets: BTreeSet<&str> =
            seen["evidence"].as_array().unwrap().iter().filter_map(|evidence| evidence["target"].as_str()).collect();
        for (_, item) in acks.evidence.iter().filter(|(linked, _)| linked == *decision) {
            assert!(
                targets.contains(item.as_str()),
                "round {round}: the evidence {item} of {decision} is lost: {seen}"
            );
        }
    }
    let cases = listed(client, base, &tokens.advocate, "cases").await;
    let missing: Vec<_> = acks.cases.difference(&cases).collect();
    assert!(missing.is_empty(), "round {round}: acknowledged cases are missing after kill -9: {missing:?}");
    let complaints = listed(client, base, &tokens.handler, "complaints").await;
    let missing: Vec<_> = acks.complaints.difference(&complaints).collect();
    assert!(missing.is_empty(), "round {round}: acknowledged complaints are missing after kill -9: {missing:?}");
}

/// The fixed queries (who asks, the query) whose answers must not depend on whether the models
/// and the search index were kept across a kill or rebuilt from the log. They leave out
/// `position` and `chainHead` (reading cases and complaints appends `AccessRecorded`, so the
/// head moves between two runs), and the search is compared by its total and facets (the
/// order of hits that score the same is not defined).
fn queries(tokens: &Tokens) -> Vec<(String, String)> {
    vec![
        (tokens.commissioner.clone(), format!("{{ decisions(first: 100) {{ pageInfo {{ hasNextPage }} nodes {{ {DECISION_FIELDS} }} }} }}")),
        (tokens.commissioner.clone(), format!("{{ youSaidWeDid(scope: {{ hub: \"arun\" }}) {{ {REPORT_FIELDS} decisions {{ {DECISION_FIELDS} }} }} }}")),
        (tokens.commissioner.clone(), "{ loopMetrics(scope: { hub: \"arun\" }) { sharedItems closedItems loopClosureRate } }".into()),
        (tokens.coordinator.clone(), format!("{{ feedbackItems(filter: {{ hub: \"arun\" }}, first: 100) {{ pageInfo {{ hasNextPage }} nodes {{ {ITEM_FIELDS} }} }} }}")),
        (tokens.coordinator.clone(), format!("{{ feedbackItems(filter: {{ hub: \"arun\" }}, last: 100) {{ pageInfo {{ hasPreviousPage }} nodes {{ {ITEM_FIELDS} }} }} }}")),
        (tokens.coordinator.clone(), "{ moderationQueue(hub: \"arun\", first: 50) { totalCount nodes { id } } }".into()),
        (tokens.coordinator.clone(), SEARCH.into()),
        (tokens.advocate.clone(), "{ cases(first: 100) { pageInfo { hasNextPage } nodes { id clientRef issue kind domain provider articles advocateId state referredOn } } }".into()),
        (tokens.advocate.clone(), "{ advocacyThemes(by: [DOMAIN, PROVIDER]) { keys { dimension value label } count suppressed } }".into()),
        (tokens.handler.clone(), "{ complaints(first: 100) { pageInfo { hasNextPage } nodes { id reference provider stage articles { number } whatHappened receivedOn } } }".into()),
        (tokens.handler.clone(), "{ complaintPatterns(by: [PROVIDER, ARTICLE]) { keys { dimension value label } count suppressed } }".into()),
    ]
}

async fn answers(client: &reqwest::Client, base: &str, tokens: &Tokens) -> Vec<Value> {
    let mut out = Vec::new();
    for (token, query) in queries(tokens) {
        out.push(answer(client, base, &token, &query, json!({})).await);
    }
    out
}

/// How many feedback items of Arun the coordinator's list shows (the model, not the index).
async fn items_listed(client: &reqwest::Client, base: &str, tokens: &Tokens) -> u64 {
    let query = "query($after: String) { feedbackItems(filter: { hub: \"arun\" }, first: 100, after: $after) { \
        pageInfo { hasNextPage endCursor } nodes { id } } }";
    let (mut count, mut after) = (0, Value::Null);
    loop {
        let page = answer(client, base, &tokens.coordinator, query, json!({ "after": after })).await;
        let page = &page["data"]["feedbackItems"];
        count += page["nodes"].as_array().map_or(0, Vec::len) as u64;
        if page["pageInfo"]["hasNextPage"] != true {
            return count;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

/// Waits until the search finds every item the model lists (each item the drivers log says
/// "the evening clinic"), then until it has settled.
async fn search_caught_up(client: &reqwest::Client, base: &str, tokens: &Tokens) {
    let items = items_listed(client, base, tokens).await;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let found = answer(client, base, &tokens.coordinator, SEARCH, json!({})).await;
        if found["data"]["searchFeedback"]["total"] == items {
            break;
        }
        assert!(Instant::now() < deadline, "the search never found the {items} items the model lists: {found}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    search_settled(client, base, tokens).await;
}

/// Waits (at most 30 s) until the search answers as `expected`, so that a slow commit on a busy
/// machine is not taken for a difference; a real difference fails the comparison after it.
async fn search_as(client: &reqwest::Client, base: &str, tokens: &Tokens, expected: &Value) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while answer(client, base, &tokens.coordinator, SEARCH, json!({})).await != *expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A copy of `data` (as it is now) that `heard verify` finds whole, with its read models and
/// search index deleted.
fn copy_without_models(data: &Path) -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    let copied = Command::new("cp").arg("-a").arg(data).arg(copy.path()).status().unwrap();
    assert!(copied.success(), "the data directory is copied");
    let copy_data = copy.path().join("data");
    verified(&copy_data);
    for kept in ["models", "search"] {
        std::fs::remove_dir_all(copy_data.join(kept)).unwrap_or_else(|error| panic!("{kept}: {error}"));
    }
    copy
}

/// Starts a server on `copy` (which rebuilds every model and the search index from the log)
/// and checks that the fixed queries answer there as `expected`; how long it took.
async fn same_as_rebuilt(copy: tempfile::TempDir, tokens: Tokens, expected: Vec<Value>, round: u64) -> Duration {
    let at = Instant::now();
    let client = reqwest::Client::new();
    let data = copy.path().join("data");
    let rebuilt = tokio::task::spawn_blocking(move || Serve::start(&data)).await.expect("heard serve starts");
    rebuilt.ready(&client).await;
    let search = queries(&tokens).iter().position(|(_, query)| query == SEARCH).expect("the search is compared");
    search_as(&client, &rebuilt.base, &tokens, &expected[search]).await;
    let after_rebuild = answers(&client, &rebuilt.base, &tokens).await;
    rebuilt.kill();
    for (index, (was, is)) in expected.iter().zip(&after_rebuild).enumerate() {
        assert_eq!(
            was,
            is,
            "round {round}: query {index} ({}) answers differently on a copy rebuilt from the log",
            queries(&tokens)[index].1
        );
    }
    at.elapsed()
}

/// Waits for a spawned check, failing with its own message if it failed.
async fn joined<T>(check: tokio::task::JoinHandle<T>) -> T {
    match check.await {
        Ok(done) => done,
        Err(failed) => std::panic::resume_unwind(failed.into_panic()),
    }
}

/// Time spent in each phase of the rounds, for the summary.
#[derive(Default)]
struct Phases {
    load: Duration,
    restart: Duration,
    check: Duration,
    rebuild: Duration,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_mixed_load_loses_no_acknowledged_mutation_and_the_models_equal_a_rebuild() {
    let mut rng = Rng::from_env_or_random();
    eprintln!("heard: {}", binary().display());
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    create_accounts(&data);
    let client = reqwest::Client::new();
    let first = Serve::start(&data);
    first.ready(&client).await;
    let tokens = tokens(&first.base, "soak").await;
    let mut serve = Some(first);
    let acks = Arc::new(Mutex::new(Acks::default()));
    let mut phases = Phases::default();
    let mut comparing = None;
    for round in 0..kills() {
        // Mixed load, killed at a random moment.
        let at = Instant::now();
        let running = serve.take().expect("a server, ready");
        let driving = driving(&running.base, &tokens, &acks);
        tokio::time::sleep(Duration::from_millis(rng.between(0, 1_500))).await;
        assert!(!driving.drivers.iter().any(|driver| driver.is_finished()), "a driver stopped:\n{}", running.tail());
        running.kill();
        driving.finish().await;
        phases.load += at.elapsed();

        // Started again: everything acknowledged is there.
        let at = Instant::now();
        let restarted = Serve::start(&data);
        restarted.ready(&client).await;
        phases.restart += at.elapsed();
        let at = Instant::now();
        let acknowledged = acks.lock().unwrap().clone();
        check_acknowledged(&client, &restarted.base, &tokens, &acknowledged, round).await;
        search_caught_up(&client, &restarted.base, &tokens).await;
        let after_kill = answers(&client, &restarted.base, &tokens).await;
        phases.check += at.elapsed();

        // The same answers from a copy whose read models and search index are rebuilt. The
        // restarted server is idle now (nothing appends: no load, its search index settled, its
        // reads done), so its directory is copied as it runs, and it takes the next round's load
        // while a second server answers on the copy.
        let copy = copy_without_models(&data);
        if let Some(previous) = comparing.take() {
            phases.rebuild += joined(previous).await;
        }
        comparing = Some(tokio::spawn(same_as_rebuilt(copy, tokens.clone(), after_kill, round)));
        serve = Some(restarted);
        let acks = acks.lock().unwrap();
        eprintln!(
            "round {round}: {} acknowledged mutations and {} reads so far; {:.1} s",
            acks.count,
            acks.reads,
            started.elapsed().as_secs_f64()
        );
    }
    if let Some(last) = comparing.take() {
        phases.rebuild += joined(last).await;
    }
    serve.take().expect("the last restarted server").stop();
    let acks = acks.lock().unwrap();
    let report = verified(&data);
    eprintln!(
        "{} kills under load, 0 acknowledged mutations lost: {} acknowledged ({} items, {} shared, {} cases, {} complaints, \
         {} decisions, {} evidence links), {} reads; log {} events; {:.1} s (load {:.1} s, restarts {:.1} s, checks {:.1} s, \
         rebuilt copies {:.1} s, beside the next round)",
        kills(),
        acks.count,
        acks.items.len(),
        acks.shared.len(),
        acks.cases.len(),
        acks.complaints.len(),
        acks.decisions.len(),
        acks.evidence.len(),
        acks.reads,
        report["events"],
        started.elapsed().as_secs_f64(),
        phases.load.as_secs_f64(),
        phases.restart.as_secs_f64(),
        phases.check.as_secs_f64(),
        phases.rebuild.as_secs_f64(),
    );
    assert!(acks.count > 0, "the load was acknowledged at least once");
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs {
    at: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (`8m`) at `at`; `None`, with the reason printed, when this
    /// process may not mount (not root, or mounting is not permitted here).
    fn mount(at: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(at).unwrap();
        let uid = Command::new("id").arg("-u").output().map(|id| String::from_utf8_lossy(&id.stdout).trim().to_owned());
        if uid.as_deref().ok() != Some("0") {
            // CI runs as root: there, a test that could not run is a failure, not a skip.
            assert!(!in_ci(), "the disk-full test mounts a tmpfs, which needs root (running as uid {uid:?})");
            eprintln!("SKIPPED: the disk-full test mounts a tmpfs, which needs root (running as uid {uid:?})");
            return None;
        }
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output()
            .expect("mount runs");
        if !mounted.status.success() {
            assert!(
                !in_ci(),
                "the disk-full test could not mount a tmpfs: {}",
                String::from_utf8_lossy(&mounted.stderr)
            );
            eprintln!(
                "SKIPPED: the disk-full test could not mount a tmpfs at {}: {}",
                at.display(),
                String::from_utf8_lossy(&mounted.stderr).trim()
            );
            return None;
        }
        Some(Tmpfs { at: at.to_owned() })
    }

    /// Bytes free on it.
    fn available(&self) -> u64 {
        let df = Command::new("df").args(["--output=avail", "-B1"]).arg(&self.at).output().expect("df runs");
        let text = String::from_utf8_lossy(&df.stdout);
        text.lines().nth(1).and_then(|line| line.trim().parse().ok()).unwrap_or_else(|| panic!("df: {text}"))
    }

    fn resize(&self, size: &str) {
        let resized =
            Command::new("mount").args(["-o", &format!("remount,size={size}")]).arg(&self.at).status().unwrap();
        assert!(resized.success(), "the tmpfs is resized to {size}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount").arg(&self.at).status();
        if !matches!(unmounted, Ok(status) if status.success()) {
            // Something still holds it (a server a failed assertion left behind is killed when
            // its `Serve` drops, which may come later): detach it now, freed when let go.
            let _ = Command::new("umount").arg("-l").arg(&self.at).status();
        }
    }
}

/// Whether this runs in CI (`CI=true`), where every test must really run.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|ci| ci == "true")
}

/// What a refused write must say.
fn says_disk_full(answer: &Value) {
    let error = &answer["errors"][0];
    assert_eq!(error["extensions"]["code"], "UNAVAILABLE", "{answer}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("nothing was saved") && message.contains("disk") && message.contains("full"),
        "the refusal says the disk is full and nothing was saved: {message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_clearly_keeps_everything_acknowledged_and_heard_writes_again_once_space_is_freed() {
    binary();
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = Tmpfs::mount(&dir.path().join("disk"), "8m") else { return };
    let data = disk.at.join("data");
    create_accounts(&data);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let serve = Serve::start(&data);
    serve.ready(&client).await;
    let tokens = tokens(&serve.base, "soak").await;
    let case = mutate(&client, &serve.base, &tokens.advocate, REFER, referral("My housing benefit stopped")).await;
    let case = case.expect("answered");
    let read_case = "query($id: ID!) { case(id: $id) { id issue } }";
    // A filler on the same small disk leaves a little room (filled in seconds, not minutes, by
    // a debug build); removing it frees space later.
    let filler = disk.at.join("filler");
    let room = 384 << 10;
    std::fs::write(&filler, vec![0u8; disk.available().saturating_sub(room) as usize]).unwrap();

    // Feedback, four at a time, until writes fail.
    let long = "The evening clinic closed early again. ".repeat(25);
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let refusals = Arc::new(Mutex::new(Vec::<Value>::new()));
    let full = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let (client, base, token) = (client.clone(), serve.base.clone(), tokens.coordinator.clone());
            let (acked, refusals, full, long) = (acked.clone(), refusals.clone(), full.clone(), long.clone());
            tokio::spawn(async move {
                for step in 0..5_000 {
                    if full.load(Ordering::SeqCst) {
                        return;
                    }
                    let text = format!("Writer {writer} step {step}. {long}");
                    let answered = ask(&client, &base, &token, LOG, feedback(text)).await.expect("answered, not hung");
                    match answered["data"]["logFeedback"]["id"].as_str() {
                        Some(id) => acked.lock().unwrap().push(id.to_owned()),
                        None => {
                            refusals.lock().unwrap().push(answered);
                            full.store(true, Ordering::SeqCst);
                        }
                    }
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("a writer never panics");
    }
    assert!(full.load(Ordering::SeqCst), "the disk never filled:\n{}", serve.tail());
    let acked = acked.lock().unwrap().clone();
    for refused in refusals.lock().unwrap().iter() {
        says_disk_full(refused);
    }
    eprintln!("{} items acknowledged before the disk filled; {:.1} s", acked.len(), started.elapsed().as_secs_f64());

    // The disk stays full: a write that failed was undone, which can leave room for a small one,
    // so whatever room is left is taken too.
    let rest = disk.at.join("rest");
    let mut rest_file = std::fs::File::create(&rest).unwrap();
    while rest_file.write_all(&[0u8; 4096]).is_ok() {}
    drop(rest_file);

    // Reads keep working, and so does /readyz; writes are refused, each with the same answer.
    let ready = client.get(format!("{}/readyz", serve.base)).send().await.unwrap();
    assert_eq!(ready.status(), 200, "/readyz on a full disk");
    let ids: Vec<&String> = acked.iter().collect();
    let seen = each_by_id(&client, &serve.base, &tokens.coordinator, "feedbackItem", "id", &ids).await;
    assert_eq!(seen.len(), acked.len());
    answer(&client, &serve.base, &tokens.coordinator, SEARCH, json!({})).await;
    answer(&client, &serve.base, &tokens.commissioner, "{ youSaidWeDid { sharedItems } }", json!({})).await;
    // A small write can still fit in a page a file already has, and is then saved (and must
    // not be lost); before long one is refused, as clearly as the first.
    let mut acked = acked;
    let mut refused = false;
    for attempt in 0..200 {
        let again =
            ask(&client, &serve.base, &tokens.coordinator, LOG, feedback(format!("Once more {attempt}. {long}"))).await;
        let again = again.unwrap();
        match again["data"]["logFeedback"]["id"].as_str() {
            Some(id) => acked.push(id.to_owned()),
            None => {
                says_disk_full(&again);
                refused = true;
                break;
            }
        }
    }
    assert!(refused, "a full disk refuses writes");
    // A case file is read only with the read recorded in the log: refused as clearly.
    let case_read = ask(&client, &serve.base, &tokens.advocate, read_case, json!({ "id": case })).await.unwrap();
    if case_read["data"]["case"].is_null() {
        says_disk_full(&case_read);
    }
    let ids: Vec<&String> = acked.iter().collect();

    // Space freed: writing resumes at once, with no restart, and the new item reads back.
    std::fs::remove_file(&filler).unwrap();
    std::fs::remove_file(&rest).unwrap();
    disk.resize("32m");
    let resumed =
        mutate(&client, &serve.base, &tokens.coordinator, LOG, feedback(format!("After freeing space. {long}"))).await;
    let resumed = resumed.unwrap_or_else(|| panic!("writing resumes once space is freed:\n{}", serve.tail()));
    let seen = each_by_id(&client, &serve.base, &tokens.coordinator, "feedbackItem", "id", &[&resumed]).await;
    assert_eq!(seen[0]["id"], resumed.as_str(), "the item saved after freeing space reads back");
    let case_too = mutate(&client, &serve.base, &tokens.advocate, REFER, referral("My benefits were stopped")).await;
    assert!(case_too.is_some(), "a case too");
    // The search index lost its writer to the full disk; once there is room it commits what it
    // was given, so every acknowledged item is found again by the same server, with no restart
    // and no rebuild.
    let every = acked.len() as u64 + 1;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let found = answer(&client, &serve.base, &tokens.coordinator, SEARCH, json!({})).await;
        if found["data"]["searchFeedback"]["total"] == every {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "after space was freed the search never found the {every} acknowledged items: {found}\n{}",
            serve.tail()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(items_listed(&client, &serve.base, &tokens).await, every, "the model lists the same items");
    serve.stop();
    verified(&data);
    let restarted = Serve::start(&data);
    restarted.ready(&client).await;
    let seen = each_by_id(&client, &restarted.base, &tokens.coordinator, "feedbackItem", "id", &ids).await;
    for (id, seen) in ids.iter().zip(&seen) {
        assert_eq!(seen["id"], id.as_str(), "acknowledged item {id} is lost after a full disk");
    }
    let logged = mutate(&client, &restarted.base, &tokens.coordinator, LOG, feedback(format!("Again. {long}"))).await;
    assert!(logged.is_some(), "writing goes on after a restart");
    answer(&client, &restarted.base, &tokens.advocate, read_case, json!({ "id": case })).await;
    // The index kept across the restart answers as one rebuilt from the log (below).
    search_caught_up(&client, &restarted.base, &tokens).await;
    let kept = answer(&client, &restarted.base, &tokens.coordinator, SEARCH, json!({})).await;
    assert_eq!(kept["data"]["searchFeedback"]["total"], acked.len() as u64 + 2, "every acknowledged item is found");
    restarted.stop();
    verified(&data);
    heard(&["rebuild", "search"], &data);
    let rebuilt = Serve::start(&data);
    rebuilt.ready(&client).await;
    search_caught_up(&client, &rebuilt.base, &tokens).await;
    let found = answer(&client, &rebuilt.base, &tokens.coordinator, SEARCH, json!({})).await;
    assert_eq!(found, kept, "the kept index answers as one rebuilt from the log");
    rebuilt.stop();
    verified(&data);
    eprintln!("disk full: {:.1} s", started.elapsed().as_secs_f64());
}
