//! What the tests that run the real `heard` binary share (`soak`, `models_crash`,
//! `crash_postgres`, `copy`): `heard serve` as a child process, which they kill, stop and start
//! again; the accounts and API tokens they work as; and the mutations their drivers send, each
//! recorded once the server acknowledged it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use heard_tests::{PASSWORD, Session, ask_with_token as ask, heard_binary};
use serde_json::{Value, json};

/// How long anything may take before a test says it hung (a test may give a server less).
pub(crate) const PATIENCE: Duration = Duration::from_secs(120);

/// The `heard` binary to run: `HEARD_SOAK_BINARY` when set (`ops/soak` runs a copy, so that a
/// long soak is not switched to another build halfway), else the workspace's, built if needed.
pub(crate) fn binary() -> PathBuf {
    std::env::var_os("HEARD_SOAK_BINARY").map_or_else(heard_binary, PathBuf::from)
}

/// The `heard` binary, without the caller's `HEARD_…` variables (a test's own, such as
/// `HEARD_SOAK_KILLS` or `HEARD_TEST_SEED`, which Heard would read as settings and refuse).
pub(crate) fn heard_command() -> Command {
    let mut command = Command::new(binary());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("HEARD_") {
            command.env_remove(name);
        }
    }
    command
}

/// Runs `heard ARGS --data DATA`, checks that it succeeded and returns its stdout.
pub(crate) fn heard(args: &[&str], data: &Path) -> String {
    let output = heard_command().args(args).arg("--data").arg(data).output().expect("heard runs");
    assert!(output.status.success(), "heard {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("stdout is UTF-8")
}

/// The accounts the tests work as, each made by `heard admin create-user`.
pub(crate) const ACCOUNTS: [(&str, &[&str]); 4] = [
    ("coordinator@example.org", &["--role", "hub_coordinator", "--hub", "arun"]),
    ("advocate@example.org", &["--role", "advocate"]),
    ("handler@example.org", &["--role", "complaints_handler"]),
    ("commissioner@example.org", &["--role", "commissioner"]),
];

/// Makes the [`ACCOUNTS`] in a new data directory (before any server runs on it).
pub(crate) fn create_accounts(data: &Path) {
    for (email, roles) in ACCOUNTS {
        let mut create = heard_command()
            .args(["admin", "create-user", "--data"])
            .arg(data)
            .args(["--email", email, "--password-stdin"])
            .args(roles)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("heard runs");
        create.stdin.take().expect("stdin is piped").write_all(PASSWORD.as_bytes()).unwrap();
        let created = create.wait_with_output().unwrap();
        assert!(created.status.success(), "{email}: {}", String::from_utf8_lossy(&created.stderr));
    }
}

/// `heard serve` on port 0 over `data`, logging JSON lines at `RUST_LOG=info`; a caller may set
/// more variables (a store's address) or other ones (`RUST_LOG`) before [`Serve::spawn`].
pub(crate) fn serve_command(data: &Path) -> Command {
    let mut command = heard_command();
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .env("RUST_LOG", "info")
        .env("HEARD_LOG__FORMAT", "json");
    command
}

/// What `heard serve` logs once it listens, with the address in `addr`.
const LISTENING: &str = "heard is listening and catching up with its log";

/// What a running `heard serve` logged, as far as the tests care.
#[derive(Default)]
struct Logged {
    /// How many lines said each message.
    messages: BTreeMap<String, u64>,
    /// The last lines, for a failure's message (ids and counts only: Heard logs no personal data).
    tail: VecDeque<String>,
}

/// A running `heard serve`, killed with SIGKILL if it is dropped still running.
pub(crate) struct Serve {
    child: Option<Child>,
    pub(crate) base: String,
    /// When it was spawned.
    pub(crate) spawned: Instant,
    /// How long it may take to listen, to be ready and to stop.
    patience: Duration,
    logged: Arc<Mutex<Logged>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Serve {
    /// Starts [`serve_command`] on `data` and returns as soon as it listens (it may still be
    /// catching up: [`Serve::ready`] waits for `/readyz`).
    pub(crate) fn start(data: &Path) -> Serve {
        Serve::spawn(serve_command(data), PATIENCE)
    }

    /// Starts `command` (a [`serve_command`]) and returns as soon as it listens, at most
    /// `patience` later.
    pub(crate) fn spawn(mut command: Command, patience: Duration) -> Serve {
        let spawned = Instant::now();
        let mut child = command.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("heard serve starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let logged = Arc::new(Mutex::new(Logged::default()));
        let (listening, address) = std::sync::mpsc::channel::<String>();
        let seen = logged.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let parsed: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
                let message = parsed["fields"]["message"].as_str().unwrap_or_default();
                if message == LISTENING
                    && let Some(addr) = parsed["fields"]["addr"].as_str()
                {
                    let _ = listening.send(addr.to_owned());
                }
                let mut seen = seen.lock().unwrap();
                *seen.messages.entry(message.to_owned()).or_default() += 1;
                seen.tail.push_back(line);
                if seen.tail.len() > 40 {
                    seen.tail.pop_front();
                }
            }
        });
        let Ok(addr) = address.recv_timeout(patience) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("heard serve never said where it listens: {:?}", logged.lock().unwrap().tail);
        };
        Serve { child: Some(child), base: format!("http://{addr}"), spawned, patience, logged, reader: Some(reader) }
    }

    /// The last lines it logged.
    pub(crate) fn tail(&self) -> String {
        self.logged.lock().unwrap().tail.iter().cloned().collect::<Vec<_>>().join("\n")
    }

    /// How many lines it logged with `message` so far.
    pub(crate) fn logged(&self, message: &str) -> u64 {
        self.logged.lock().unwrap().messages.get(message).copied().unwrap_or_default()
    }

    /// Whether `/readyz` answers 200 now.
    pub(crate) async fn answers_ready(&self, client: &reqwest::Client) -> bool {
        let answer = client.get(format!("{}/readyz", self.base)).send().await;
        answer.is_ok_and(|answer| answer.status() == 200)
    }

    /// Waits until `/readyz` answers 200.
    pub(crate) async fn ready(&self, client: &reqwest::Client) {
        let deadline = Instant::now() + self.patience;
        while !self.answers_ready(client).await {
            assert!(Instant::now() < deadline, "heard never became ready:\n{}", self.tail());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL, then reaps it and waits until all it logged is read.
    fn killed(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        child.kill().expect("SIGKILL is delivered");
        let status = child.wait().expect("the killed server is reaped");
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        status
    }

    /// SIGKILL; checks it was still running (had not stopped on its own).
    pub(crate) fn kill(mut self) {
        let status = self.killed();
        use std::os::unix::process::ExitStatusExt as _;
        assert_eq!(status.signal(), Some(9), "heard stopped on its own with {status:?}:\n{}", self.tail());
    }

    /// SIGKILL (after [`Serve::terminate`], it may have stopped first). Returns true if it was
    /// still running when killed; false if it had stopped, which it must have done cleanly.
    pub(crate) fn kill_unless_stopped(mut self) -> bool {
        let status = self.killed();
        use std::os::unix::process::ExitStatusExt as _;
        if status.signal() == Some(9) {
            return true;
        }
        assert!(status.success(), "heard stopped on its own with {status:?}:\n{}", self.tail());
        false
    }

    /// Sends SIGTERM, and does not wait.
    pub(crate) fn terminate(&self) {
        let id = self.child.as_ref().expect("running").id();
        let sent = Command::new("kill").args(["-TERM", &id.to_string()]).status().unwrap();
        assert!(sent.success(), "SIGTERM is delivered");
    }

    /// SIGTERM, then waits (at most its patience) for a clean stop, which saves every model.
    /// Returns how long it took.
    pub(crate) fn stop(mut self) -> Duration {
        let asked = Instant::now();
        self.terminate();
        let mut child = self.child.take().expect("running");
        let status = loop {
            if let Some(status) = child.try_wait().expect("the server is reaped") {
                break status;
            }
            if asked.elapsed() > self.patience {
                let _ = child.kill();
                let _ = child.wait();
                panic!("heard did not stop within {:?} of SIGTERM:\n{}", self.patience, self.tail());
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        assert!(status.success(), "heard stops cleanly on SIGTERM: {status:?}:\n{}", self.tail());
        asked.elapsed()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// An API token for each account (tokens outlive restarts and are in every copy of the log;
/// logging in again would append).
#[derive(Clone, Debug)]
pub(crate) struct Tokens {
    pub(crate) coordinator: String,
    pub(crate) advocate: String,
    pub(crate) handler: String,
    pub(crate) commissioner: String,
}

/// Logs each account in once and makes it an API token called `label`.
pub(crate) async fn tokens(base: &str, label: &str) -> Tokens {
    let mut made = Vec::new();
    for (email, _) in ACCOUNTS {
        let session = Session::log_in(base, email, PASSWORD).await.unwrap_or_else(|login| panic!("{login}"));
        let create = format!("mutation {{ createApiToken(label: \"{label}\") {{ secret }} }}");
        let answer = session.graphql(&create, json!({})).await;
        made.push(answer["data"]["createApiToken"]["secret"].as_str().unwrap_or_else(|| panic!("{answer}")).to_owned());
    }
    let [coordinator, advocate, handler, commissioner] = made.try_into().expect("four accounts");
    Tokens { coordinator, advocate, handler, commissioner }
}

/// Posts GraphQL to a server that must answer, and checks that it answered without errors.
pub(crate) async fn answer(client: &reqwest::Client, base: &str, token: &str, query: &str, variables: Value) -> Value {
    let answer = ask(client, base, token, query, variables).await.unwrap_or_else(|error| panic!("{query}: {error}"));
    assert!(answer["errors"].is_null(), "{query}: {answer}");
    answer
}

/// Runs one mutation; `None` when the server did not answer (it is being killed). An answer
/// with errors is a failure: nothing here should be refused.
pub(crate) async fn mutate(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    query: &str,
    variables: Value,
) -> Option<String> {
    let answer = ask(client, base, token, query, variables).await.ok()?;
    let data = answer["data"].as_object().and_then(|data| data.values().next()).cloned();
    match data.as_ref().and_then(|made| made["id"].as_str()) {
        Some(id) => Some(id.to_owned()),
        None => panic!("{query} was refused: {answer}"),
    }
}

pub(crate) const LOG: &str = "mutation($i: LogFeedbackInput!) { logFeedback(input: $i) { id } }";
const SHARE: &str = "mutation($id: ID!) { shareFeedback(id: $id) { id } }";
pub(crate) const REFER: &str = "mutation($i: ReferCaseInput!) { referCase(input: $i) { id } }";
const RAISE: &str = "mutation($i: RaiseComplaintInput!) { raiseComplaint(input: $i) { id } }";
const PROPOSE: &str = "mutation($i: ProposeDecisionInput!) { proposeDecision(input: $i) { id } }";
const LINK: &str = "mutation($id: ID!, $i: LinkEvidenceInput!) { linkEvidence(id: $id, input: $i) { id } }";

/// The variables of [`LOG`]: a feedback item as the drivers log it.
pub(crate) fn feedback(text: String) -> Value {
    json!({ "i": {
        "hub": "arun", "text": text, "channel": "FORUM", "saidOn": "2026-11-02", "speaker": "ANONYMOUS",
        "consent": "COMMISSIONERS", "themes": ["Opening hours"], "about": "Community pharmacies"
    }})
}

/// The variables of [`REFER`]: a case as the drivers refer it.
pub(crate) fn referral(issue: &str) -> Value {
    json!({ "i": {
        "issue": issue, "kind": "INSTRUCTED", "referralSource": "SELF_REFERRAL", "domain": "HOUSING",
        "provider": "addaction", "articles": [3]
    }})
}

pub(crate) const DECISION_FIELDS: &str = "id title serviceArea decidedBy decisionDate status statusHistory { status on } \
    ladderRung involvement milestones { id title due metOn } progress { percent note on } outcomeReviews { on summary } \
    evidence(includeWithdrawn: true) { id kind target rationale linkedOn withdrawnOn }";
pub(crate) const REPORT_FIELDS: &str = "public sharedItems said { theme name count } \
    representativeItems { id hub themes text saidOn } notActedOn { item text reason on } closedItems loopClosureRate";
pub(crate) const ITEM_FIELDS: &str = "id hub text channel about provider themes { id } speaker consent moderation \
    loopState sharedAt acknowledgedOn decisionIds saidOn";
/// The search the drivers' items answer ("the evening clinic"), by its total and facets.
pub(crate) const SEARCH: &str =
    "{ searchFeedback(query: \"evening clinic\", first: 1) { total facets { dimension value name count } } }";

/// Waits until the search answers the same twice 500 ms apart: once a server is ready, its
/// index has every document written and commits them within 200 ms of the last change (and
/// later commits may still bring an item's new loop state to the facets).
pub(crate) async fn search_settled(client: &reqwest::Client, base: &str, tokens: &Tokens) {
    let deadline = Instant::now() + PATIENCE;
    let mut last = answer(client, base, &tokens.coordinator, SEARCH, json!({})).await;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = answer(client, base, &tokens.coordinator, SEARCH, json!({})).await;
        if now == last {
            return;
        }
        assert!(Instant::now() < deadline, "the search never settled: {now}");
        last = now;
    }
}

/// Every mutation the server acknowledged (answered with the id of what it made).
#[derive(Clone, Default, Debug)]
pub(crate) struct Acks {
    pub(crate) items: BTreeSet<String>,
    pub(crate) shared: BTreeSet<String>,
    pub(crate) cases: BTreeSet<String>,
    pub(crate) complaints: BTreeSet<String>,
    pub(crate) decisions: BTreeSet<String>,
    /// (decision, item) linked as evidence.
    pub(crate) evidence: BTreeSet<(String, String)>,
    pub(crate) count: u64,
    /// Reads answered (searches, reports, lists) while the mutations ran.
    pub(crate) reads: u64,
}

/// One driver's way to a server: each mutation it sends, recorded in `acks` once answered. Each
/// returns `None` when the server did not answer (it is being killed), and fails on a refusal.
pub(crate) struct Driver {
    pub(crate) client: reqwest::Client,
    pub(crate) base: String,
    pub(crate) tokens: Tokens,
    pub(crate) acks: Arc<Mutex<Acks>>,
}

impl Driver {
    /// Records an acknowledged mutation: `update` adds what it made.
    fn record<R>(&self, update: impl FnOnce(&mut Acks) -> R) {
        let mut acks = self.acks.lock().unwrap();
        update(&mut acks);
        acks.count += 1;
    }

    /// The coordinator logs "`said`: the evening clinic closed early".
    pub(crate) async fn log(&self, said: &str) -> Option<String> {
        let text = format!("{said}: the evening clinic closed early");
        let item = mutate(&self.client, &self.base, &self.tokens.coordinator, LOG, feedback(text)).await?;
        self.record(|acks| acks.items.insert(item.clone()));
        Some(item)
    }

    /// The coordinator shares `item`.
    pub(crate) async fn share(&self, item: &str) -> Option<()> {
        mutate(&self.client, &self.base, &self.tokens.coordinator, SHARE, json!({ "id": item })).await?;
        self.record(|acks| acks.shared.insert(item.to_owned()));
        Some(())
    }

    /// The advocate refers a case: "`said`: my housing benefit stopped".
    pub(crate) async fn refer(&self, said: &str) -> Option<String> {
        let referral = referral(&format!("{said}: my housing benefit stopped"));
        let case = mutate(&self.client, &self.base, &self.tokens.advocate, REFER, referral).await?;
        self.record(|acks| acks.cases.insert(case.clone()));
        Some(case)
    }

    /// The complaints handler raises a complaint: "`said`: no leaflet".
    pub(crate) async fn raise(&self, said: &str) -> Option<String> {
        let complaint = json!({ "i": {
            "provider": "cri", "articles": [2], "complainantKind": "ANONYMOUS", "route": "HUB",
            "whatHappened": format!("{said}: no leaflet"), "outcomeWanted": "A leaflet"
        }});
        let complaint = mutate(&self.client, &self.base, &self.tokens.handler, RAISE, complaint).await?;
        self.record(|acks| acks.complaints.insert(complaint.clone()));
        Some(complaint)
    }

    /// The commissioner proposes a decision: "`said`: open later".
    pub(crate) async fn propose(&self, said: &str) -> Option<String> {
        let proposal = json!({ "i": {
            "title": format!("{said}: open later"), "serviceArea": "Treatment", "decidedBy": "DAAT board",
            "decisionDate": "2026-11-20", "ladderRung": 4, "involvement": "Asked at the forum"
        }});
        let decision = mutate(&self.client, &self.base, &self.tokens.commissioner, PROPOSE, proposal).await?;
        self.record(|acks| acks.decisions.insert(decision.clone()));
        Some(decision)
    }

    /// The commissioner links `item` to `decision` as evidence.
    pub(crate) async fn link(&self, decision: &str, item: &str) -> Option<()> {
        let evidence = json!({ "id": decision, "i": {
            "kind": "FEEDBACK_ITEM", "itemId": item, "rationale": "Said at the forum"
        }});
        mutate(&self.client, &self.base, &self.tokens.commissioner, LINK, evidence).await?;
        self.record(|acks| acks.evidence.insert((decision.to_owned(), item.to_owned())));
        Some(())
    }
}

/// Drivers running against one server, each doing its work until asked to stop or until the
/// server stops answering.
pub(crate) struct Driving {
    acks: Arc<Mutex<Acks>>,
    stop: Arc<AtomicBool>,
    pub(crate) drivers: Vec<tokio::task::JoinHandle<()>>,
}

impl Driving {
    /// Spawns `drive(driver, stop, work)` for each of `works`.
    pub(crate) fn start<W, D, F>(
        base: &str,
        tokens: &Tokens,
        acks: &Arc<Mutex<Acks>>,
        works: impl IntoIterator<Item = W>,
        drive: D,
    ) -> Driving
    where
        D: Fn(Driver, Arc<AtomicBool>, W) -> F,
        F: Future<Output = ()> + Send + 'static,
    {
        let stop = Arc::new(AtomicBool::new(false));
        let drivers = works
            .into_iter()
            .map(|work| {
                let driver = Driver {
                    client: reqwest::Client::new(),
                    base: base.to_owned(),
                    tokens: tokens.clone(),
                    acks: acks.clone(),
                };
                tokio::spawn(drive(driver, stop.clone(), work))
            })
            .collect();
        Driving { acks: acks.clone(), stop, drivers }
    }

    /// How many mutations were acknowledged so far (by every driver on every server).
    pub(crate) fn acknowledged(&self) -> u64 {
        self.acks.lock().unwrap().count
    }

    /// Waits until `n` more mutations than `from` were acknowledged.
    pub(crate) async fn until_acknowledged(&self, from: u64, n: u64, serve: &Serve) {
        let deadline = Instant::now() + PATIENCE;
        while self.acknowledged() < from + n {
            assert!(Instant::now() < deadline, "the server stopped acknowledging:\n{}", serve.tail());
            assert!(!self.drivers.iter().all(|driver| driver.is_finished()), "every driver stopped:\n{}", serve.tail());
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Waits for the drivers to end (they end when the server stops answering, or when asked),
    /// checking that none failed.
    pub(crate) async fn finish(self) {
        self.stop.store(true, Ordering::SeqCst);
        for driver in self.drivers {
            driver.await.expect("a driver never sees a mutation or a read refused");
        }
    }
}
