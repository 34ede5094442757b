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
//!   as soon as space is freed, without a restart (the log undoes a write the disk refused).

use std::collections::{BTreeSet, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use heard_tests::{PASSWORD, Rng, Session, ask_with_token as ask, heard_binary};
use serde_json::{Value, json};

/// How many times the server is killed (`HEARD_SOAK_KILLS`, default 20).
fn kills() -> u64 {
    std::env::var("HEARD_SOAK_KILLS").ok().and_then(|kills| kills.parse().ok()).unwrap_or(20)
}

/// How long anything here may take before the test says it hung.
const PATIENCE: Duration = Duration::from_secs(120);

/// The accounts the tests work as, each made by `heard admin create-user`.
const ACCOUNTS: [(&str, &[&str]); 4] = [
    ("coordinator@example.org", &["--role", "hub_coordinator", "--hub", "arun"]),
    ("advocate@example.org", &["--role", "advocate"]),
    ("handler@example.org", &["--role", "complaints_handler"]),
    ("commissioner@example.org", &["--role", "commissioner"]),
];

/// An API token for each account (tokens outlive restarts and are in every copy of the log).
#[derive(Clone, Debug)]
struct Tokens {
    coordinator: String,
    advocate: String,
    handler: String,
    commissioner: String,
}

/// The `heard` binary to run: `HEARD_SOAK_BINARY` when set (`ops/soak` runs a copy, so that a
/// long soak is not switched to another build halfway), else the workspace's, built if needed.
fn binary() -> PathBuf {
    std::env::var_os("HEARD_SOAK_BINARY").map_or_else(heard_binary, PathBuf::from)
}

/// The `heard` binary, without the caller's `HEARD_…` variables (this test's own, such as
/// `HEARD_SOAK_KILLS`, which Heard would read as settings and refuse).
fn heard_command() -> Command {
    let mut command = Command::new(binary());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("HEARD_") {
            command.env_remove(name);
        }
    }
    command
}

/// Runs `heard ARGS --data DATA`, checks that it succeeded and returns its stdout.
fn heard(args: &[&str], data: &Path) -> String {
    let output = heard_command().args(args).arg("--data").arg(data).output().expect("heard runs");
    assert!(output.status.success(), "heard {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("stdout is UTF-8")
}

/// Makes the accounts in a new data directory (before any server runs on it).
fn create_accounts(data: &Path) {
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

/// `heard verify` finds the chain whole.
fn verified(data: &Path) -> Value {
    let report: Value = serde_json::from_str(heard(&["verify"], data).trim()).expect("verify prints JSON");
    assert_eq!(report["ok"], true, "heard verify: {report}");
    report
}

/// A running `heard serve`, killed with SIGKILL if it is dropped still running.
struct Serve {
    child: Option<Child>,
    base: String,
    tail: Arc<Mutex<VecDeque<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Serve {
    /// Starts `heard serve` on port 0 and returns as soon as it listens (it may still be
    /// catching up: [`Serve::ready`] waits for `/readyz`).
    fn start(data: &Path) -> Serve {
        let mut child = heard_command()
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .env("RUST_LOG", "info")
            .env("HEARD_LOG__FORMAT", "json")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("heard serve starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let (listening, address) = std::sync::mpsc::channel::<String>();
        let lines = tail.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let parsed: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
                if parsed["fields"]["message"] == "heard is listening and catching up with its log"
                    && let Some(addr) = parsed["fields"]["addr"].as_str()
                {
                    let _ = listening.send(addr.to_owned());
                }
                // The last lines, for a failure's message (Heard logs no personal data).
                let mut tail = lines.lock().unwrap();
                tail.push_back(line);
                if tail.len() > 40 {
                    tail.pop_front();
                }
            }
        });
        let addr = address
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|_| panic!("heard serve never said where it listens: {:?}", tail.lock().unwrap()));
        Serve { child: Some(child), base: format!("http://{addr}"), tail, reader: Some(reader) }
    }

    fn tail(&self) -> String {
        self.tail.lock().unwrap().iter().cloned().collect::<Vec<_>>().join("\n")
    }

    /// Waits until `/readyz` answers 200.
    async fn ready(&self, client: &reqwest::Client) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(response) = client.get(format!("{}/readyz", self.base)).send().await
                && response.status() == 200
            {
                return;
            }
            assert!(Instant::now() < deadline, "heard never became ready:\n{}", self.tail());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL; checks it was still running (had not stopped on its own).
    fn kill(mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().expect("SIGKILL is delivered");
        let status = child.wait().expect("the killed server is reaped");
        self.reader.take().map(|reader| reader.join());
        use std::os::unix::process::ExitStatusExt as _;
        assert_eq!(status.signal(), Some(9), "heard stopped on its own with {status:?}:\n{}", self.tail());
    }

    /// SIGTERM, then waits (at most [`PATIENCE`]) for a clean stop.
    fn stop(mut self) {
        let mut child = self.child.take().expect("running");
        let sent = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
        assert!(sent.success(), "SIGTERM is delivered");
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = child.try_wait().expect("the server is reaped") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("heard did not stop within {PATIENCE:?} of SIGTERM:\n{}", self.tail());
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        self.reader.take().map(|reader| reader.join());
        assert!(status.success(), "heard stops cleanly on SIGTERM: {status:?}:\n{}", self.tail());
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

/// Logs each account in once and makes it an API token.
async fn tokens(base: &str) -> Tokens {
    let mut made = Vec::new();
    for (email, _) in ACCOUNTS {
        let session = Session::log_in(base, email, PASSWORD).await.unwrap_or_else(|login| panic!("{login}"));
        let answer = session.graphql("mutation { createApiToken(label: \"soak\") { secret } }", json!({})).await;
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

/// Every mutation the server answered with an id.
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
    /// Reads answered (searches, reports, lists) while the mutations ran.
    reads: u64,
}

const LOG: &str = "mutation($i: LogFeedbackInput!) { logFeedback(input: $i) { id } }";
const SHARE: &str = "mutation($id: ID!) { shareFeedback(id: $id) { id } }";
const REFER: &str = "mutation($i: ReferCaseInput!) { referCase(input: $i) { id } }";
const RAISE: &str = "mutation($i: RaiseComplaintInput!) { raiseComplaint(input: $i) { id } }";
const PROPOSE: &str = "mutation($i: ProposeDecisionInput!) { proposeDecision(input: $i) { id } }";
const LINK: &str = "mutation($id: ID!, $i: LinkEvidenceInput!) { linkEvidence(id: $id, input: $i) { id } }";

/// A feedback item as the drivers log it.
fn feedback(text: String) -> Value {
    json!({ "i": {
        "hub": "arun", "text": text, "channel": "FORUM", "saidOn": "2026-11-02", "speaker": "ANONYMOUS",
        "consent": "COMMISSIONERS", "themes": ["Opening hours"], "about": "Community pharmacies"
    }})
}

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
async fn drive(base: String, tokens: Tokens, acks: Arc<Mutex<Acks>>, stop: Arc<AtomicBool>, work: Work) {
    let client = reqwest::Client::new();
    let record = |update: &dyn Fn(&mut Acks)| {
        let mut acks = acks.lock().unwrap();
        update(&mut acks);
        acks.count += 1;
    };
    let mut step = 0u64;
    let id = uuid::Uuid::new_v4().simple().to_string();
    while !stop.load(Ordering::SeqCst) {
        step += 1;
        let said = format!("Soak {id} step {step}");
        match work {
            Work::Feedback => {
                let text = format!("{said}: the evening clinic closed early");
                let Some(item) = mutate(&client, &base, &tokens.coordinator, LOG, feedback(text)).await else { return };
                record(&|acks: &mut Acks| {
                    acks.items.insert(item.clone());
                });
                if mutate(&client, &base, &tokens.coordinator, SHARE, json!({ "id": item })).await.is_none() {
                    return;
                }
                record(&|acks: &mut Acks| {
                    acks.shared.insert(item.clone());
                });
            }
            Work::Casework => {
                let referral = json!({ "i": {
                    "issue": format!("{said}: my housing benefit stopped"), "kind": "INSTRUCTED",
                    "referralSource": "SELF_REFERRAL", "domain": "HOUSING", "provider": "addaction", "articles": [3]
                }});
                let Some(case) = mutate(&client, &base, &tokens.advocate, REFER, referral).await else { return };
                record(&|acks: &mut Acks| {
                    acks.cases.insert(case.clone());
                });
            }
            Work::Complaints => {
                let complaint = json!({ "i": {
                    "provider": "cri", "articles": [2], "complainantKind": "ANONYMOUS", "route": "HUB",
                    "whatHappened": format!("{said}: no leaflet"), "outcomeWanted": "A leaflet"
                }});
                let Some(complaint) = mutate(&client, &base, &tokens.handler, RAISE, complaint).await else { return };
                record(&|acks: &mut Acks| {
                    acks.complaints.insert(complaint.clone());
                });
            }
            Work::Decisions => {
                let proposal = json!({ "i": {
                    "title": format!("{said}: open later"), "serviceArea": "Treatment", "decidedBy": "DAAT board",
                    "decisionDate": "2026-11-20", "ladderRung": 4, "involvement": "Asked at the forum"
                }});
                let Some(decision) = mutate(&client, &base, &tokens.commissioner, PROPOSE, proposal).await else {
                    return;
                };
                record(&|acks: &mut Acks| {
                    acks.decisions.insert(decision.clone());
                });
                let Some(item) = acks.lock().unwrap().shared.last().cloned() else { continue };
                let evidence = json!({ "id": decision, "i": {
                    "kind": "FEEDBACK_ITEM", "itemId": item, "rationale": "Said at the forum"
                }});
                if mutate(&client, &base, &tokens.commissioner, LINK, evidence).await.is_none() {
                    return;
                }
                record(&|acks: &mut Acks| {
                    acks.evidence.insert((decision.clone(), item.clone()));
                });
            }
            Work::Reading => {
                let (token, query) = match step % 5 {
                    0 => (&tokens.coordinator, "{ searchFeedback(query: \"evening clinic\", first: 5) { total } }"),
                    1 => {
                        (&tokens.commissioner, "{ youSaidWeDid(scope: { hub: \"arun\" }) { sharedItems closedItems } }")
                    }
                    2 => (
                        &tokens.coordinator,
                        "{ feedbackItems(filter: { hub: \"arun\" }, first: 10) { nodes { id } } }",
                    ),
                    3 => (&tokens.advocate, "{ cases(first: 10) { nodes { id state } } }"),
                    _ => (&tokens.handler, "{ complaints(first: 10) { nodes { id stage } } }"),
                };
                let Ok(read) = ask(&client, &base, token, query, json!({})).await else { return };
                assert!(read["errors"].is_null(), "{query} failed under load: {read}");
                acks.lock().unwrap().reads += 1;
            }
        }
    }
}

/// Drivers running against one server: one of each kind of work.
struct Driving {
    stop: Arc<AtomicBool>,
    drivers: Vec<tokio::task::JoinHandle<()>>,
}

impl Driving {
    fn start(base: &str, tokens: &Tokens, acks: &Arc<Mutex<Acks>>) -> Driving {
        let stop = Arc::new(AtomicBool::new(false));
        let drivers = [Work::Feedback, Work::Casework, Work::Complaints, Work::Decisions, Work::Reading]
            .into_iter()
            .map(|work| tokio::spawn(drive(base.to_owned(), tokens.clone(), acks.clone(), stop.clone(), work)))
            .collect();
        Driving { stop, drivers }
    }

    /// Waits for the drivers to end (they end when the server stops answering, or when asked),
    /// checking that none failed.
    async fn finish(self) {
        self.stop.store(true, Ordering::SeqCst);
        for driver in self.drivers {
            driver.await.expect("a driver never sees a mutation or a read refused");
        }
    }
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

const DECISION_FIELDS: &str = "id title serviceArea decidedBy decisionDate status statusHistory { status on } ladderRung \
    involvement milestones { id title due metOn } progress { percent note on } outcomeReviews { on summary } \
    evidence(includeWithdrawn: true) { id kind target rationale linkedOn withdrawnOn }";
const REPORT_FIELDS: &str = "public sharedItems said { theme name count } \
    representativeItems { id hub themes text saidOn } notActedOn { item text reason on } closedItems loopClosureRate";
const ITEM_FIELDS: &str = "id hub text channel about provider themes { id } speaker consent moderation loopState sharedAt \
    acknowledgedOn decisionIds saidOn";
const SEARCH: &str =
    "{ searchFeedback(query: \"evening clinic\", first: 1) { total facets { dimension value name count } } }";

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

/// Waits until the search answers the same twice 400 ms apart: a commit comes within 200 ms of
/// the last change (and later commits may still bring an item's new loop state to the facets).
async fn search_settled(client: &reqwest::Client, base: &str, tokens: &Tokens) {
    let deadline = Instant::now() + PATIENCE;
    let mut last = answer(client, base, &tokens.coordinator, SEARCH, json!({})).await;
    loop {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let now = answer(client, base, &tokens.coordinator, SEARCH, json!({})).await;
        if now == last {
            return;
        }
        assert!(Instant::now() < deadline, "the search never settled: {now}");
        last = now;
    }
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
    let tokens = tokens(&first.base).await;
    let mut serve = Some(first);
    let acks = Arc::new(Mutex::new(Acks::default()));
    let mut phases = Phases::default();
    let mut comparing = None;
    for round in 0..kills() {
        // Mixed load, killed at a random moment.
        let at = Instant::now();
        let running = serve.take().expect("a server, ready");
        let driving = Driving::start(&running.base, &tokens, &acks);
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
    let tokens = tokens(&serve.base).await;
    let referral = json!({ "i": {
        "issue": "My housing benefit stopped", "kind": "INSTRUCTED", "referralSource": "SELF_REFERRAL",
        "domain": "HOUSING", "provider": "addaction", "articles": [3]
    }});
    let case = mutate(&client, &serve.base, &tokens.advocate, REFER, referral).await.expect("answered");
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
        mutate(&client, &serve.base, &tokens.coordinator, LOG, feedback(format!("After freeing. {long}"))).await;
    let resumed = resumed.unwrap_or_else(|| panic!("writing resumes once space is freed:\n{}", serve.tail()));
    let seen = each_by_id(&client, &serve.base, &tokens.coordinator, "feedbackItem", "id", &[&resumed]).await;
    assert_eq!(seen[0]["id"], resumed.as_str(), "the item saved after freeing space reads back");
    let referral = json!({ "i": {
        "issue": "My benefits were stopped", "kind": "INSTRUCTED", "referralSource": "SELF_REFERRAL",
        "domain": "HOUSING", "provider": "addaction", "articles": [3]
    }});
    assert!(mutate(&client, &serve.base, &tokens.advocate, REFER, referral).await.is_some(), "a case too");
    // The search index, which could not write either while the disk was full, finds every item
    // again, the new one too, without a restart.
    search_caught_up(&client, &serve.base, &tokens).await;
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
    search_caught_up(&client, &restarted.base, &tokens).await;
    let found = answer(&client, &restarted.base, &tokens.coordinator, SEARCH, json!({})).await;
    let total = found["data"]["searchFeedback"]["total"].as_u64().unwrap_or_default() as usize;
    assert_eq!(total, acked.len() + 2, "the search finds every acknowledged item after the restart: {found}");
    restarted.stop();
    verified(&data);
    eprintln!("disk full: {:.1} s", started.elapsed().as_secs_f64());
}
