//! Read models kept on disk (`DATA_DIR/models`) survive kill -9: the real `heard serve` is
//! killed with SIGKILL at random moments while people use it, while it saves its models as it
//! stops, while it saves them after a rebuild, and while it rebuilds them at start-up. After each
//! kill it starts again, every mutation it acknowledged is there, and a fixed set of GraphQL
//! queries answers exactly as it does after `heard rebuild models all`.
//!
//! The number of kills comes from `HEARD_MODEL_CRASH_KILLS` (default 3); a failing run is
//! replayed with the `HEARD_TEST_SEED` it printed.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use heard_tests::{PASSWORD, Rng, Session, ask_with_token as ask, heard_binary};
use serde_json::{Value, json};

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

/// How long anything here may take before the test says it hung.
const PATIENCE: Duration = Duration::from_secs(120);

/// The accounts the test works as, each made by `heard admin create-user`.
const ACCOUNTS: [(&str, &[&str]); 4] = [
    ("coordinator@example.org", &["--role", "hub_coordinator", "--hub", "arun"]),
    ("advocate@example.org", &["--role", "advocate"]),
    ("handler@example.org", &["--role", "complaints_handler"]),
    ("commissioner@example.org", &["--role", "commissioner"]),
];

/// An API token for each account (tokens outlive restarts; logging in again would append).
#[derive(Clone, Debug)]
struct Tokens {
    coordinator: String,
    advocate: String,
    handler: String,
    commissioner: String,
}

/// What the log of one `heard serve` said, as far as these tests care.
#[derive(Default)]
struct Heard {
    /// "saved the model" lines (debug).
    saved: AtomicU64,
    /// "rebuilding the model from the log" lines.
    rebuilding: AtomicU64,
    /// The last lines, for a failure's message (ids and counts only: Heard logs no personal data).
    tail: Mutex<std::collections::VecDeque<String>>,
}

/// A running `heard serve`.
struct Serve {
    child: Child,
    base: String,
    heard: Arc<Heard>,
    reader: Option<std::thread::JoinHandle<()>>,
    spawned: Instant,
}

impl Serve {
    /// Starts `heard serve` on port 0 and returns as soon as it listens (it may still be
    /// catching up: `/readyz` says when it is ready).
    fn start(data: &Path) -> Serve {
        let spawned = Instant::now();
        let mut child = heard_command()
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .env("RUST_LOG", "info,heard_eventstore=debug")
            .env("HEARD_LOG__FORMAT", "json")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("heard serve starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let heard = Arc::new(Heard::default());
        let (listening, address) = std::sync::mpsc::channel::<String>();
        let seen = heard.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let parsed: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
                let message = parsed["fields"]["message"].as_str().unwrap_or_default();
                if message == "heard is listening and catching up with its log"
                    && let Some(addr) = parsed["fields"]["addr"].as_str()
                {
                    let _ = listening.send(addr.to_owned());
                }
                if message == "saved the model" {
                    seen.saved.fetch_add(1, Ordering::SeqCst);
                }
                if message == "rebuilding the model from the log" {
                    seen.rebuilding.fetch_add(1, Ordering::SeqCst);
                }
                let mut tail = seen.tail.lock().unwrap();
                tail.push_back(line);
                if tail.len() > 40 {
                    tail.pop_front();
                }
            }
        });
        let addr = address
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|_| panic!("heard serve never said where it listens: {:?}", heard.tail.lock().unwrap()));
        Serve { child, base: format!("http://{addr}"), heard, reader: Some(reader), spawned }
    }

    fn tail(&self) -> String {
        self.heard.tail.lock().unwrap().iter().cloned().collect::<Vec<_>>().join("\n")
    }

    /// Waits until `/readyz` answers 200.
    async fn ready(&self, client: &reqwest::Client) {
        let deadline = Instant::now() + PATIENCE;
        while !self.answers_ready(client).await {
            assert!(Instant::now() < deadline, "heard never became ready:\n{}", self.tail());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn answers_ready(&self, client: &reqwest::Client) -> bool {
        match client.get(format!("{}/readyz", self.base)).send().await {
            Ok(response) => response.status() == 200,
            Err(_) => false,
        }
    }

    /// SIGKILL. Returns true if it was still running when killed (not already stopped).
    fn kill(mut self) -> bool {
        self.child.kill().expect("SIGKILL is delivered");
        let status = self.child.wait().expect("the killed server is reaped");
        self.reader.take().map(|reader| reader.join());
        use std::os::unix::process::ExitStatusExt as _;
        match status.signal() {
            Some(9) => true,
            _ => {
                assert!(status.success(), "heard stopped on its own with {status:?}:\n{}", self.tail());
                false
            }
        }
    }

    fn terminate(&self) {
        let sent = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(sent.success(), "SIGTERM is delivered");
    }

    /// SIGTERM, then waits for a clean stop (which saves every model). Returns how long it took.
    fn stop(mut self) -> Duration {
        let asked = Instant::now();
        self.terminate();
        let status = self.child.wait().expect("the server is reaped");
        self.reader.take().map(|reader| reader.join());
        assert!(status.success(), "heard stops cleanly on SIGTERM: {status:?}:\n{}", self.tail());
        asked.elapsed()
    }
}

/// The `heard` binary, without this test's own `HEARD_…` variables, which Heard would read as
/// settings and refuse.
fn heard_command() -> Command {
    let mut command = Command::new(heard_binary());
    for own in ["HEARD_MODEL_CRASH_KILLS", "HEARD_MODEL_CRASH_ROWS", "HEARD_TEST_SEED"] {
        command.env_remove(own);
    }
    command
}

fn heard(args: &[&str], data: &Path) -> String {
    let output = heard_command().args(args).arg("--data").arg(data).output().expect("heard runs");
    assert!(output.status.success(), "heard {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("stdout is UTF-8")
}

/// A data directory with the accounts and [`imported_rows`] imported feedback items.
fn data_dir_with_a_big_log() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for (email, roles) in ACCOUNTS {
        let mut create = heard_command()
            .args(["admin", "create-user", "--data"])
            .arg(&data)
            .args(["--email", email, "--password-stdin"])
            .args(roles)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        create.stdin.take().unwrap().write_all(PASSWORD.as_bytes()).unwrap();
        let created = create.wait_with_output().unwrap();
        assert!(created.status.success(), "{email}: {}", String::from_utf8_lossy(&created.stderr));
    }
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

fn data(dir: &tempfile::TempDir) -> std::path::PathBuf {
    dir.path().join("data")
}

/// Logs each account in once and makes it an API token.
async fn tokens(base: &str) -> Tokens {
    let mut made = Vec::new();
    for (email, _) in ACCOUNTS {
        let session = Session::log_in(base, email, PASSWORD).await.unwrap_or_else(|login| panic!("{login}"));
        let answer = session.graphql("mutation { createApiToken(label: \"crash test\") { secret } }", json!({})).await;
        made.push(answer["data"]["createApiToken"]["secret"].as_str().unwrap_or_else(|| panic!("{answer}")).to_owned());
    }
    let [coordinator, advocate, handler, commissioner] = made.try_into().expect("four accounts");
    Tokens { coordinator, advocate, handler, commissioner }
}

/// Posts GraphQL to a server that must answer, and checks that it answered without errors.
async fn answer(client: &reqwest::Client, base: &str, token: &str, query: &str, variables: Value) -> Value {
    let answer = ask(client, base, token, query, variables).await.unwrap_or_else(|error| panic!("{query}: {error}"));
    assert!(answer["errors"].is_null(), "{query}: {answer}");
    answer
}

/// Every mutation the server acknowledged (answered with what it made).
#[derive(Clone, Default, Debug)]
struct Acks {
    items: BTreeSet<String>,
    shared: BTreeSet<String>,
    cases: BTreeSet<String>,
    complaints: BTreeSet<String>,
    decisions: BTreeSet<String>,
    /// (decision, item) linked as evidence.
    evidence: BTreeSet<(String, String)>,
    count: u64,
}

const LOG: &str = "mutation($i: LogFeedbackInput!) { logFeedback(input: $i) { id } }";
const SHARE: &str = "mutation($id: ID!) { shareFeedback(id: $id) { id } }";
const REFER: &str = "mutation($i: ReferCaseInput!) { referCase(input: $i) { id } }";
const RAISE: &str = "mutation($i: RaiseComplaintInput!) { raiseComplaint(input: $i) { id } }";
const PROPOSE: &str = "mutation($i: ProposeDecisionInput!) { proposeDecision(input: $i) { id } }";
const LINK: &str = "mutation($id: ID!, $i: LinkEvidenceInput!) { linkEvidence(id: $id, input: $i) { id } }";

/// Runs one mutation; `None` when the server did not answer (it is being killed). An answer
/// with errors is a failure: nothing here should be refused.
async fn mutate(client: &reqwest::Client, base: &str, token: &str, query: &str, variables: Value) -> Option<String> {
    let answer = ask(client, base, token, query, variables).await.ok()?;
    let data = answer["data"].as_object().and_then(|data| data.values().next()).cloned();
    match data.as_ref().and_then(|made| made["id"].as_str()) {
        Some(id) => Some(id.to_owned()),
        None => panic!("{query} was refused: {answer}"),
    }
}

/// Uses every kept model, step after step, recording what was acknowledged, until `stop` or
/// until the server stops answering.
async fn drive(base: String, tokens: Tokens, acks: Arc<Mutex<Acks>>, stop: Arc<AtomicBool>, driver: u64) {
    let client = reqwest::Client::new();
    let ack = |record: fn(&mut Acks, &str, &str), first: &str, second: &str| {
        let mut acks = acks.lock().unwrap();
        record(&mut acks, first, second);
        acks.count += 1;
    };
    let mut step = 0u64;
    while !stop.load(Ordering::SeqCst) {
        step += 1;
        let said = json!({ "i": {
            "hub": "arun", "text": format!("Driver {driver} step {step}: the evening clinic closed early"),
            "channel": "FORUM", "saidOn": "2026-11-02", "speaker": "ANONYMOUS", "consent": "COMMISSIONERS",
            "themes": ["Opening hours"], "about": "Community pharmacies"
        }});
        let Some(item) = mutate(&client, &base, &tokens.coordinator, LOG, said).await else { return };
        ack(
            |acks, item, _| {
                acks.items.insert(item.to_owned());
            },
            &item,
            "",
        );
        if mutate(&client, &base, &tokens.coordinator, SHARE, json!({ "id": item })).await.is_none() {
            return;
        }
        ack(
            |acks, item, _| {
                acks.shared.insert(item.to_owned());
            },
            &item,
            "",
        );
        let referral = json!({ "i": {
            "issue": format!("Driver {driver} step {step}: my housing benefit stopped"), "kind": "INSTRUCTED",
            "referralSource": "SELF_REFERRAL", "domain": "HOUSING", "provider": "addaction", "articles": [3]
        }});
        let Some(case) = mutate(&client, &base, &tokens.advocate, REFER, referral).await else { return };
        ack(
            |acks, case, _| {
                acks.cases.insert(case.to_owned());
            },
            &case,
            "",
        );
        let complaint = json!({ "i": {
            "provider": "cri", "articles": [2], "complainantKind": "ANONYMOUS", "route": "HUB",
            "whatHappened": format!("Driver {driver} step {step}: no leaflet"), "outcomeWanted": "A leaflet"
        }});
        let Some(complaint) = mutate(&client, &base, &tokens.handler, RAISE, complaint).await else { return };
        ack(
            |acks, complaint, _| {
                acks.complaints.insert(complaint.to_owned());
            },
            &complaint,
            "",
        );
        let proposal = json!({ "i": {
            "title": format!("Driver {driver} step {step}: open later"), "serviceArea": "Treatment",
            "decidedBy": "DAAT board", "decisionDate": "2026-11-20", "ladderRung": 4,
            "involvement": "Asked at the forum"
        }});
        let Some(decision) = mutate(&client, &base, &tokens.commissioner, PROPOSE, proposal).await else { return };
        ack(
            |acks, decision, _| {
                acks.decisions.insert(decision.to_owned());
            },
            &decision,
            "",
        );
        let evidence = json!({ "id": decision, "i": { "kind": "FEEDBACK_ITEM", "itemId": item, "rationale": "Said at the forum" } });
        if mutate(&client, &base, &tokens.commissioner, LINK, evidence).await.is_none() {
            return;
        }
        ack(
            |acks, decision, item| {
                acks.evidence.insert((decision.to_owned(), item.to_owned()));
            },
            &decision,
            &item,
        );
    }
}

/// Drivers running against one server.
struct Driving {
    acks: Arc<Mutex<Acks>>,
    stop: Arc<AtomicBool>,
    drivers: Vec<tokio::task::JoinHandle<()>>,
}

impl Driving {
    fn start(base: &str, tokens: &Tokens, acks: &Arc<Mutex<Acks>>) -> Driving {
        let stop = Arc::new(AtomicBool::new(false));
        let drivers = (0..2)
            .map(|driver| tokio::spawn(drive(base.to_owned(), tokens.clone(), acks.clone(), stop.clone(), driver)))
            .collect();
        Driving { acks: acks.clone(), stop, drivers }
    }

    fn acknowledged(&self) -> u64 {
        self.acks.lock().unwrap().count
    }

    /// Waits until `n` more mutations than `from` were acknowledged.
    async fn until_acknowledged(&self, from: u64, n: u64, serve: &Serve) {
        let deadline = Instant::now() + PATIENCE;
        while self.acknowledged() < from + n {
            assert!(Instant::now() < deadline, "the server stopped acknowledging:\n{}", serve.tail());
            assert!(!self.drivers.iter().all(|driver| driver.is_finished()), "every driver stopped:\n{}", serve.tail());
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Waits for the drivers to end (they end when the server stops answering, or when asked),
    /// checking that none failed.
    async fn finish(self) {
        self.stop.store(true, Ordering::SeqCst);
        for driver in self.drivers {
            driver.await.expect("a driver never sees a mutation refused");
        }
    }
}

/// Every acknowledged mutation is visible.
async fn check_acknowledged(client: &reqwest::Client, base: &str, tokens: &Tokens, acks: &Acks, round: u64) {
    for item in &acks.items {
        let seen = answer(
            client,
            base,
            &tokens.coordinator,
            "query($id: ID!) { feedbackItem(id: $id) { id sharedAt decisionIds } }",
            json!({ "id": item }),
        )
        .await;
        let seen = &seen["data"]["feedbackItem"];
        assert_eq!(seen["id"], item.as_str(), "round {round}: acknowledged item {item} is missing after kill -9");
        if acks.shared.contains(item) {
            assert!(seen["sharedAt"].is_string(), "round {round}: the acknowledged sharing of {item} is lost: {seen}");
        }
    }
    for case in &acks.cases {
        let seen =
            answer(client, base, &tokens.advocate, "query($id: ID!) { case(id: $id) { id } }", json!({ "id": case }))
                .await;
        assert_eq!(seen["data"]["case"]["id"], case.as_str(), "round {round}: acknowledged case {case} is missing");
    }
    for complaint in &acks.complaints {
        let seen = answer(
            client,
            base,
            &tokens.handler,
            "query($id: ID!) { complaint(id: $id) { id } }",
            json!({ "id": complaint }),
        )
        .await;
        assert_eq!(
            seen["data"]["complaint"]["id"],
            complaint.as_str(),
            "round {round}: acknowledged complaint {complaint} is missing"
        );
    }
    for decision in &acks.decisions {
        let seen = answer(
            client,
            base,
            &tokens.commissioner,
            "query($id: ID!) { decision(id: $id) { id evidence { kind target } } }",
            json!({ "id": decision }),
        )
        .await;
        assert_eq!(
            seen["data"]["decision"]["id"],
            decision.as_str(),
            "round {round}: acknowledged decision {decision} is missing"
        );
        for (_, item) in acks.evidence.iter().filter(|(linked, _)| linked == decision) {
            let targets: Vec<&str> = seen["data"]["decision"]["evidence"]
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

const DECISION_FIELDS: &str = "id title serviceArea decidedBy decisionDate status statusHistory { status on } ladderRung \
    involvement milestones { id title due metOn } progress { percent note on } outcomeReviews { on summary } \
    evidence(includeWithdrawn: true) { id kind target rationale linkedOn withdrawnOn }";
const REPORT_FIELDS: &str = "public sharedItems said { theme name count } \
    representativeItems { id hub themes text saidOn } notActedOn { item text reason on } closedItems loopClosureRate";
const ITEM_FIELDS: &str = "id hub text channel about provider themes { id } speaker consent moderation loopState sharedAt \
    acknowledgedOn decisionIds saidOn";

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
        (tokens.coordinator.clone(), "{ searchFeedback(query: \"evening clinic\", first: 1) { total facets { dimension value name count } } }".into(), json!({})),
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

/// Waits until the search index has committed what the models hold: once a server is ready,
/// its index has every document written and commits them within 200 ms, and nothing after that
/// changes what it finds, so two equal answers 500 ms apart mean it has settled.
async fn search_settled(client: &reqwest::Client, base: &str, tokens: &Tokens) {
    let search = "{ searchFeedback(query: \"evening clinic\", first: 1) { total facets { dimension value count } } }";
    let deadline = Instant::now() + PATIENCE;
    let mut last = answer(client, base, &tokens.coordinator, search, json!({})).await;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = answer(client, base, &tokens.coordinator, search, json!({})).await;
        if now == last {
            return;
        }
        assert!(Instant::now() < deadline, "the search never settled: {now}");
        last = now;
    }
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
    let fresh = Serve::start(data);
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
    let dir = data_dir_with_a_big_log();
    let data = data(&dir);
    let client = reqwest::Client::new();
    let mut serve = Serve::start(&data);
    serve.ready(&client).await;
    let tokens = tokens(&serve.base).await;
    let acks = Arc::new(Mutex::new(Acks::default()));
    let mut stop_takes = Duration::from_secs(1);
    let (mut mid_mutations, mut mid_stop, mut stopped_first, mut after_rebuild, mut saves_before_kill) =
        (0, 0, 0, 0, 0);
    eprintln!("setup: {:.1} s", started.elapsed().as_secs_f64());
    for round in 0..kills() {
        let killed = match round % 3 {
            // Killed while mutations are in flight: the models on disk are behind the log.
            0 => {
                let driving = Driving::start(&serve.base, &tokens, &acks);
                driving.until_acknowledged(driving.acknowledged(), rng.between(1, 60), &serve).await;
                let killed = serve.kill();
                driving.finish().await;
                mid_mutations += u64::from(killed);
                killed
            }
            // Killed while it saves its models as it stops (after SIGTERM).
            1 => {
                let driving = Driving::start(&serve.base, &tokens, &acks);
                driving.until_acknowledged(driving.acknowledged(), rng.between(6, 60), &serve).await;
                driving.finish().await;
                serve.terminate();
                let wait = Duration::from_millis(rng.between(0, stop_takes.as_millis() as u64 + 1));
                tokio::time::sleep(wait).await;
                let killed = serve.kill();
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
                let rebuilding = Serve::start(&data);
                rebuilding.ready(&client).await;
                let driving = Driving::start(&rebuilding.base, &tokens, &acks);
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
                saves_before_kill += rebuilding.heard.saved.load(Ordering::SeqCst);
                let killed = rebuilding.kill();
                driving.finish().await;
                after_rebuild += u64::from(killed);
                killed
            }
        };
        assert!(killed || round % 3 == 1, "round {round}: the server was running when killed");
        let restarted = Serve::start(&data);
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
    let dir = data_dir_with_a_big_log();
    let data = data(&dir);
    let client = reqwest::Client::new();
    // Some of everything beside the imported feedback, and the tokens.
    let serve = Serve::start(&data);
    serve.ready(&client).await;
    // This start rebuilt the models the import did not open: about as long as a rebuild takes.
    let mut rebuild_takes = serve.spawned.elapsed();
    let tokens = tokens(&serve.base).await;
    let acks = Arc::new(Mutex::new(Acks::default()));
    let driving = Driving::start(&serve.base, &tokens, &acks);
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
            let rebuilding = Serve::start(&data);
            let at = Instant::now() + Duration::from_millis(rng.between(0, rebuild_takes.as_millis() as u64));
            let mut was_ready = false;
            while Instant::now() < at {
                if rebuilding.answers_ready(&client).await {
                    was_ready = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let rebuilt_models = rebuilding.heard.rebuilding.load(Ordering::SeqCst);
            assert!(rebuilding.kill(), "round {round}: the server was running when killed");
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
        let restarted = Serve::start(&data);
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
