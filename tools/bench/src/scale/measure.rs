//! The measuring phase of `heard-bench scale`: the real `heard` binary serving a copy of the
//! built store, driven over HTTP on loopback.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, BufReader};

use super::ScaleOptions;
use super::build::{HUB, Manifest};
use crate::feedback::{PHRASES, WORDS};
use crate::store::{percentile, round};

/// How long `heard serve` may take to print its address before the run gives up.
const START_TIMEOUT: Duration = Duration::from_secs(900);

/// Serves a copy of `dir` with `heard` and measures it. Returns the figures as a JSON object.
pub async fn measure(dir: &Path, manifest: &Manifest, heard: &Path, options: &ScaleOptions) -> anyhow::Result<Value> {
    let parent = dir.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let scratch = tempfile::Builder::new()
        .prefix(".heard-scale-run-")
        .tempdir_in(parent)
        .with_context(|| format!("cannot make a scratch directory in {}", parent.display()))?;
    let data = scratch.path().join("data");
    let copied = Instant::now();
    tokio::task::spawn_blocking({
        let (from, to) = (dir.to_owned(), data.clone());
        move || super::copy_directory(&from, &to)
    })
    .await??;
    eprintln!("scale: copied the store in {:.1} s; starting heard serve", copied.elapsed().as_secs_f64());
    let log_path = scratch.path().join("serve.log");
    let outcome = serve_and_measure(&data, &log_path, manifest, heard, options).await;
    outcome.map_err(|error| error.context(format!("the server's last lines:\n{}", log_tail(&log_path))))
}

/// The last 20 lines a server wrote to its log file.
pub(crate) fn log_tail(log_path: &Path) -> String {
    let log = std::fs::read_to_string(log_path).unwrap_or_default();
    let tail: Vec<&str> = log.lines().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect();
    tail.join("\n")
}

/// A child `heard serve` that is killed if the run ends early.
pub(crate) struct Server {
    child: tokio::process::Child,
    pub(crate) pid: u32,
    /// `http://127.0.0.1:PORT`.
    pub(crate) base: String,
}

impl Server {
    /// Stops the server as an operator would (SIGTERM), waiting up to a minute.
    pub(crate) async fn stop(mut self) -> anyhow::Result<()> {
        let status = tokio::process::Command::new("kill").args(["-TERM", &self.pid.to_string()]).status().await?;
        anyhow::ensure!(status.success(), "kill -TERM {} failed", self.pid);
        match tokio::time::timeout(Duration::from_secs(60), self.child.wait()).await {
            Ok(waited) => {
                let status = waited?;
                anyhow::ensure!(status.success(), "heard serve stopped with {status}");
            }
            Err(_) => {
                self.child.kill().await?;
                anyhow::bail!("heard serve did not stop within a minute of SIGTERM");
            }
        }
        Ok(())
    }
}

async fn serve_and_measure(
    data: &Path,
    log_path: &Path,
    manifest: &Manifest,
    heard: &Path,
    options: &ScaleOptions,
) -> anyhow::Result<Value> {
    // First a start with no saved models (every model rebuilt from the log, as before issue
    // #17 at every start); it saves them when it stops. Then the start that is measured.
    let models = data.join("models");
    if models.exists() {
        std::fs::remove_dir_all(&models)?;
    }
    let (server, _, rebuild_seconds) = start_until_ready(data, log_path, heard, &[]).await?;
    let after_rebuild = memory(server.pid)?;
    eprintln!(
        "scale: rebuilt every model in {rebuild_seconds:.2} s, {:.0} MiB resident; restarting",
        after_rebuild.rss_mib
    );
    server.stop().await?;
    let (server, listening_seconds, ready_seconds) = start_until_ready(data, log_path, heard, &[]).await?;
    let after_start = memory(server.pid)?;
    eprintln!("scale: ready in {ready_seconds:.2} s, {:.0} MiB resident; querying", after_start.rss_mib);

    let client = reqwest::Client::builder().build()?;
    let queries = query_mix(&client, &server.base, manifest, options).await?;
    let after_queries = memory(server.pid)?;
    eprintln!("scale: {:.0} MiB resident after the queries; logging feedback", after_queries.rss_mib);

    let logging = log_feedback(&server.base, &manifest.tokens.hub_member, options).await?;
    let after_logging = memory(server.pid)?;
    server.stop().await?;
    Ok(json!({
        "rebuild_ready_seconds": round(rebuild_seconds),
        "rss_mib_after_rebuild": round(after_rebuild.rss_mib),
        "listening_seconds": round(listening_seconds),
        "ready_seconds": round(ready_seconds),
        "rss_mib_after_start": round(after_start.rss_mib),
        "rss_mib_after_queries": round(after_queries.rss_mib),
        "rss_mib_after_logging": round(after_logging.rss_mib),
        "rss_mib_peak": round(after_logging.peak_mib),
        "queries": queries,
        "log_feedback": logging,
    }))
}

/// Starts `heard serve` on `data` and waits for `/readyz` to answer 200. Returns the server,
/// the seconds until it printed its address and the seconds until it was ready. The server
/// runs with Heard's defaults and `env` (`HEARD_…` settings), whatever this shell's say.
pub(crate) async fn start_until_ready(
    data: &Path,
    log_path: &Path,
    heard: &Path,
    env: &[(&str, &str)],
) -> anyhow::Result<(Server, f64, f64)> {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log_path)?;
    let mut command = tokio::process::Command::new(heard);
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .kill_on_drop(true);
    // Defaults only, whatever this shell's HEARD_* variables say.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("HEARD_") {
            command.env_remove(key);
        }
    }
    command.envs(env.iter().copied());
    let started = Instant::now();
    let mut child = command.spawn().with_context(|| format!("cannot start {}", heard.display()))?;
    let pid = child.id().context("heard serve exited at once")?;
    let stdout = child.stdout.take().context("no stdout from heard serve")?;
    let mut lines = BufReader::new(stdout).lines();
    let base = tokio::time::timeout(START_TIMEOUT, async {
        while let Some(line) = lines.next_line().await? {
            if let Some(rest) = line.split("http://").nth(1) {
                return anyhow::Ok(format!("http://{}", rest.split('/').next().unwrap_or_default().trim()));
            }
        }
        anyhow::bail!("heard serve ended without printing its address")
    })
    .await
    .context("heard serve printed no address within 15 minutes")??;
    let listening_seconds = started.elapsed().as_secs_f64();
    // Keep reading what it prints so that it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let server = Server { child, pid, base };
    let client = reqwest::Client::builder().build()?;
    loop {
        let ready = client.get(format!("{}/readyz", server.base)).send().await;
        if ready.is_ok_and(|response| response.status() == 200) {
            break;
        }
        anyhow::ensure!(started.elapsed() < START_TIMEOUT, "/readyz did not answer 200 within 15 minutes");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let ready_seconds = started.elapsed().as_secs_f64();
    Ok((server, listening_seconds, ready_seconds))
}

/// Resident memory of a process, from `/proc/PID/status`.
struct Memory {
    rss_mib: f64,
    /// The high-water mark since it started.
    peak_mib: f64,
}

fn memory(pid: u32) -> anyhow::Result<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("cannot read /proc/{pid}/status (Linux only)"))?;
    let field = |name: &str| -> anyhow::Result<f64> {
        let line = status.lines().find(|line| line.starts_with(name)).with_context(|| format!("no {name}"))?;
        let kib: f64 = line[name.len()..].trim().trim_end_matches("kB").trim().parse()?;
        Ok(kib / 1024.0)
    };
    Ok(Memory { rss_mib: field("VmRSS:")?, peak_mib: field("VmHWM:")? })
}

/// The kinds of query in the mix, as reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    /// `searchFeedback` as a commissioner, across every hub.
    SearchAsCommissioner,
    /// `searchFeedback` as a coordinator, in their hub.
    SearchAsCoordinator,
    /// `youSaidWeDid` for [`HUB`] and the last full year.
    YouSaidWeDid,
    /// `decision(asAtDecisionDate: true)` of a decision dated the day of the build.
    DecisionAsAtDecisionDate,
    /// `cases(first: 20)` as an advocate.
    Cases,
}

impl Kind {
    pub(crate) fn key(self) -> &'static str {
        match self {
            Kind::SearchAsCommissioner => "search_feedback_as_commissioner",
            Kind::SearchAsCoordinator => "search_feedback_as_coordinator",
            Kind::YouSaidWeDid => "you_said_we_did_hub_year",
            Kind::DecisionAsAtDecisionDate => "decision_as_at_decision_date",
            Kind::Cases => "cases",
        }
    }
}

/// Ten queries in the proportions of the mix: searches half of it, then cases and reports,
/// and one point-in-time decision in ten.
const MIX: [Kind; 10] = [
    Kind::SearchAsCommissioner,
    Kind::Cases,
    Kind::YouSaidWeDid,
    Kind::SearchAsCoordinator,
    Kind::DecisionAsAtDecisionDate,
    Kind::SearchAsCommissioner,
    Kind::YouSaidWeDid,
    Kind::SearchAsCoordinator,
    Kind::Cases,
    Kind::SearchAsCommissioner,
];

const SEARCH: &str = "query($q: String!, $f: FeedbackFilter) { searchFeedback(query: $q, filter: $f, first: 20) { \
     total facets { dimension value count } nodes { score fragment item { id hub saidOn themes { id name } } } } }";
const YOU_SAID_WE_DID: &str = "query($s: ReportScopeInput!, $p: ReportPeriodInput!) { youSaidWeDid(scope: $s, period: $p) { \
     position sharedItems said { theme name count } representativeItems { id text saidOn } \
     pairs { theme name count quotes { id text } responses { decisionId notActedOnReason } } \
     decisions { id title status } } }";
const DECISION: &str = "query($id: ID!) { decision(id: $id, asAtDecisionDate: true) { id title status decisionDate \
     position evidence { kind target content linkedOn } } }";
const CASES: &str = "query { cases(first: 20) { nodes { id state referredOn issue domain actions { on kind } } } }";

/// The `n`th query of the mix: its kind, the token it is asked with and the request body.
pub(crate) fn query(n: usize, manifest: &Manifest) -> Option<(Kind, &str, Value)> {
    let kind = MIX[n % MIX.len()];
    let round = n / MIX.len();
    let words = |round: usize| {
        if round % 4 == 3 {
            format!("\"{}\"", PHRASES[round % PHRASES.len()])
        } else {
            WORDS[round % WORDS.len()].to_owned()
        }
    };
    let tokens = &manifest.tokens;
    let year: i32 = manifest.built_on.get(..4).and_then(|year| year.parse().ok()).unwrap_or(2026) - 1;
    Some(match kind {
        Kind::SearchAsCommissioner => (
            kind,
            tokens.commissioner.as_str(),
            json!({ "query": SEARCH, "variables": { "q": words(round * 3 + n % 3) } }),
        ),
        Kind::SearchAsCoordinator => (
            kind,
            tokens.coordinator.as_str(),
            json!({ "query": SEARCH, "variables": { "q": words(round * 2 + n % 2 + 7), "f": { "hub": HUB } } }),
        ),
        Kind::YouSaidWeDid => (
            kind,
            tokens.commissioner.as_str(),
            json!({ "query": YOU_SAID_WE_DID, "variables": {
                "s": { "hub": HUB },
                "p": { "from": format!("{year}-01-01"), "to": format!("{year}-12-31") },
            } }),
        ),
        Kind::DecisionAsAtDecisionDate => {
            let decisions = &manifest.recent_decisions;
            let id = decisions.get(round % decisions.len().max(1))?;
            (kind, tokens.commissioner.as_str(), json!({ "query": DECISION, "variables": { "id": id } }))
        }
        Kind::Cases => (kind, tokens.advocate.as_str(), json!({ "query": CASES })),
    })
}

/// How much a query's answer held: matches, themes said, evidence links or cases.
pub(crate) fn results(kind: Kind, data: &Value) -> u64 {
    let length = |value: &Value| value.as_array().map_or(0, Vec::len) as u64;
    match kind {
        Kind::SearchAsCommissioner | Kind::SearchAsCoordinator => data["searchFeedback"]["total"].as_u64().unwrap_or(0),
        Kind::YouSaidWeDid => length(&data["youSaidWeDid"]["said"]),
        Kind::DecisionAsAtDecisionDate => length(&data["decision"]["evidence"]),
        Kind::Cases => length(&data["cases"]["nodes"]),
    }
}

/// Sends one GraphQL request with an API token; the answer, or an error if the request failed,
/// the answer was not HTTP 200 or it holds an error (its code and message, never the query's
/// variables).
pub(crate) async fn ask(client: &reqwest::Client, url: &str, token: &str, body: &Value) -> anyhow::Result<Value> {
    let response = client.post(url).bearer_auth(token).json(body).send().await?;
    let status = response.status();
    let text = response.text().await?;
    let answer: Value = serde_json::from_str(&text).map_err(|_| {
        let start: String = text.chars().take(120).collect();
        anyhow::anyhow!("answered HTTP {status} with no JSON: {start}")
    })?;
    if let Some(error) = answer["errors"].get(0) {
        anyhow::bail!(
            "answered an error ({}): {}",
            error["extensions"]["code"],
            error["message"].as_str().unwrap_or_default()
        );
    }
    anyhow::ensure!(status == 200, "answered HTTP {status}");
    Ok(answer)
}

/// Runs the mix one query at a time (each latency is the query's alone) until `queries` have
/// run or the time budget is spent.
async fn query_mix(
    client: &reqwest::Client,
    base: &str,
    manifest: &Manifest,
    options: &ScaleOptions,
) -> anyhow::Result<Value> {
    let url = format!("{base}/graphql");
    let budget = Duration::from_secs(options.query_budget_seconds);
    let started = Instant::now();
    let mut timings: BTreeMap<Kind, (Vec<Duration>, u64)> = BTreeMap::new();
    let mut ran = 0;
    for n in 0..options.queries {
        if started.elapsed() > budget {
            eprintln!("scale: the query budget of {} s is spent after {ran} queries", budget.as_secs());
            break;
        }
        let Some((kind, token, body)) = query(n, manifest) else { continue };
        let sent = Instant::now();
        let answer = ask(client, &url, token, &body).await.with_context(|| kind.key())?;
        let elapsed = sent.elapsed();
        let entry = timings.entry(kind).or_default();
        entry.0.push(elapsed);
        entry.1 += results(kind, &answer["data"]);
        ran += 1;
    }
    let mut figures = serde_json::Map::new();
    figures.insert("asked".into(), json!(options.queries));
    figures.insert("ran".into(), json!(ran));
    figures.insert("seconds".into(), json!(round(started.elapsed().as_secs_f64())));
    for (kind, (mut latencies, results)) in timings {
        latencies.sort();
        figures.insert(
            kind.key().into(),
            json!({
                "count": latencies.len(),
                "p50_ms": round(percentile(&latencies, 0.50)),
                "p99_ms": round(percentile(&latencies, 0.99)),
                "max_ms": round(percentile(&latencies, 1.0)),
                "mean_results": round(results as f64 / latencies.len().max(1) as f64),
            }),
        );
    }
    Ok(Value::Object(figures))
}

/// The demo's sentences (none about safeguarding), which logged feedback says.
pub(crate) fn feedback_texts() -> Vec<String> {
    heard_demo::feedback::generate(7, jiff::civil::date(2026, 11, 23))
        .items
        .into_iter()
        .filter(|item| !item.safeguarding)
        .map(|item| item.item.text)
        .collect()
}

/// A `logFeedback` request at [`HUB`] saying `text`, said on `said_on` (`YYYY-MM-DD`),
/// anonymous and shareable with commissioners; it answers the new item's `id`.
pub(crate) fn log_feedback_body(text: &str, said_on: &str) -> Value {
    json!({
        "query": "mutation($i: LogFeedbackInput!) { logFeedback(input: $i) { id } }",
        "variables": { "i": {
            "hub": HUB,
            "text": text,
            "channel": "DROP_IN",
            "saidOn": said_on,
            "themes": ["Opening hours"],
            "speaker": "ANONYMOUS",
            "consent": "COMMISSIONERS",
        } },
    })
}

/// `logFeedback` over HTTP by `options.log_clients` clients at once, for `options.log_seconds`,
/// as a member of [`HUB`].
async fn log_feedback(base: &str, token: &str, options: &ScaleOptions) -> anyhow::Result<Value> {
    let texts: Arc<Vec<String>> = Arc::new(feedback_texts());
    let said_on = jiff::Zoned::now().date().yesterday()?.to_string();
    let url = format!("{base}/graphql");
    let next = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(options.log_seconds);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(options.log_clients);
    for _ in 0..options.log_clients {
        let (next, texts, url, token, said_on) =
            (next.clone(), texts.clone(), url.clone(), token.to_owned(), said_on.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder().build()?;
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let body = log_feedback_body(&texts[n as usize % texts.len()], &said_on);
                let sent = Instant::now();
                let response: Value = client.post(&url).bearer_auth(&token).json(&body).send().await?.json().await?;
                latencies.push(sent.elapsed());
                anyhow::ensure!(
                    response["data"]["logFeedback"]["id"].is_string(),
                    "logFeedback did not log the item: {}",
                    response["errors"][0]["message"]
                );
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort();
    Ok(json!({
        "clients": options.log_clients,
        "seconds": round(seconds),
        "items": latencies.len(),
        "items_per_sec": round(latencies.len() as f64 / seconds),
        "p50_ms": round(percentile(&latencies, 0.50)),
        "p99_ms": round(percentile(&latencies, 0.99)),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resident_memory_is_read_from_proc() {
        let memory = memory(std::process::id()).expect("this process has a status");
        assert!(memory.rss_mib > 0.0 && memory.peak_mib >= memory.rss_mib);
    }
}
