//! `heard-bench federation`: Hive Gateway in front of the six services run as subgraphs,
//! against the single process, under the query mix of `heard-bench scale` (issue #20).
//!
//! 1. The store of `scale` ([`build::build_or_reuse`]): built in a data directory, or reused.
//! 2. A fresh schema `heard_bench_…` in the database at `--pg-url`; `heard copy` copies the
//!    store into it. The schema is dropped at the end, whatever happened.
//! 3. The single process (`heard serve`, the monolith) over that schema, a real `heard` child
//!    process with a fresh data directory holding only the built store's `secret.key` (so the
//!    store's API tokens are good in it); it rebuilds its models from the log before `/readyz`
//!    answers 200. It is measured (step 5), then stopped.
//! 4. The split deployment over the same schema: the six subgraphs (`heard serve --service
//!    NAME`), started at once, each with a fresh data directory and the same `secret.key`; the
//!    supergraph from `heard schema --write` (the binary's own subgraph schemas) and `node
//!    ops/federation/compose.mjs` with the subgraphs' addresses; Hive Gateway serving it
//!    (`node_modules/.bin/hive-gateway supergraph`, one Node worker, the repository's
//!    `gateway.config.mjs`) on a free port, until its `/readiness` answers 200. It is measured.
//! 5. Each deployment is measured alone on the machine: a warm-up of [`WARM_UP`] queries one at
//!    a time (not timed), then for `--seconds` `--clients` clients run scale's query mix (same
//!    queries in the same order, same tokens) on its `/graphql`, each one query at a time as
//!    fast as answered. Whatever the processes do by themselves meanwhile (the retention job
//!    erases the store's expired records, a few dozen events a second) is part of the figures.
//!
//! Every child process is stopped at the end, whatever happened (SIGTERM; killed if it has not
//! stopped within a minute, or when the run fails before that). Figures, never assertions: a
//! table on stderr and a JSON summary line on stdout.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::task::JoinSet;

use crate::pg_append::Schema;
use crate::scale::build::{self, Manifest};
use crate::scale::measure::{self, Kind, Server};
use crate::store::{percentile, round};

/// The PostgreSQL the benchmark runs in by default (the test server; trust auth).
pub const DEFAULT_PG_URL: &str = crate::pg_append::DEFAULT_URL;

/// The six services, in the order `compose.mjs` composes them.
const SERVICES: [&str; 6] = ["identity", "feedback", "rights", "advocacy", "commissioning", "privacy"];

/// Queries of the mix asked one at a time, untimed, before each target is measured.
const WARM_UP: usize = 20;

/// How long a subgraph may take to print its address, and then to be ready.
const START_TIMEOUT: Duration = Duration::from_secs(900);

/// How long the gateway may take to load the supergraph.
const GATEWAY_TIMEOUT: Duration = Duration::from_secs(120);

/// How long a child process may take to stop after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);

/// Options of `heard-bench federation`.
#[derive(Clone, Debug)]
pub struct FederationOptions {
    pub events: u64,
    /// Where the store is built (or found); a temporary directory when `None`.
    pub data: Option<PathBuf>,
    pub seed: u64,
    /// Seconds of the query mix on each target.
    pub seconds: u64,
    /// Clients running the query mix at once, on each target in turn.
    pub clients: usize,
    /// A `postgres://` URL; the run works in a schema of its own there.
    pub pg_url: String,
    /// The `heard` binary; by default the one beside `heard-bench`.
    pub heard: Option<PathBuf>,
    /// `ops/federation` with its `node_modules`; by default the workspace's.
    pub federation_dir: Option<PathBuf>,
}

/// Builds (or reuses) the store, serves a copy of it in PostgreSQL by the single process and by
/// the gateway over six subgraphs, measures both, and returns the summary line.
pub async fn federation(options: FederationOptions) -> anyhow::Result<Value> {
    anyhow::ensure!(options.events >= 2_000, "--events must be at least 2000");
    anyhow::ensure!(options.seconds >= 1, "--seconds must be at least 1");
    anyhow::ensure!(options.clients >= 1, "--clients must be at least 1");
    anyhow::ensure!(options.clients <= 256, "--clients must be at most 256");
    anyhow::ensure!(
        options.pg_url.starts_with("postgres://") || options.pg_url.starts_with("postgresql://"),
        "--pg-url must be a postgres:// URL"
    );
    let federation_dir = federation_directory(options.federation_dir.as_deref())?;
    let node = node_version().await?;
    let heard = crate::scale::heard_binary(options.heard.as_deref())?;
    let (_temporary, dir) = crate::scale::store_directory(options.data.as_deref(), "heard-federation-")?;
    let manifest = build::build_or_reuse(&dir, options.events, options.seed).await?;
    let load_before = load_average();
    let schema = Schema::create_as(&options.pg_url, "--pg-url").await?;
    eprintln!("federation: working in schema {}", schema.name);
    let schema_name = schema.name.clone();
    let figures = run(&dir, &manifest, &heard, &federation_dir, &schema.url, &options).await;
    let dropped = schema.drop().await.context("cannot drop the benchmark's schema");
    let figures = figures?;
    dropped?;
    let mut summary = json!({
        "events_asked": options.events,
        "events": manifest.events,
        "seed": manifest.seed,
        "reused": manifest.reused,
        "build_seconds": manifest.build_seconds,
        "schema_dropped": schema_name,
        "node": node,
        "gateway_workers": 1,
        "cpus": std::thread::available_parallelism().map_or(0, usize::from),
        "load_average_before": load_before,
        "load_average_after": load_average(),
    });
    if let (Value::Object(summary), Value::Object(figures)) = (&mut summary, figures) {
        summary.extend(figures);
    }
    print_table(&summary);
    Ok(summary)
}

/// `ops/federation` with the gateway installed: `given` (from `--federation-dir`), else the
/// workspace's (beside this crate's sources), else `ops/federation` under the current directory.
fn federation_directory(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    let dir = match given {
        Some(dir) => {
            anyhow::ensure!(
                dir.join("compose.mjs").is_file(),
                "--federation-dir {} holds no compose.mjs (give Heard's ops/federation)",
                dir.display()
            );
            dir.to_owned()
        }
        None => {
            let beside_sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ops/federation");
            [beside_sources, PathBuf::from("ops/federation")]
                .into_iter()
                .find(|dir| dir.join("compose.mjs").is_file())
                .context(
                    "cannot find ops/federation (its compose.mjs): run from the workspace or give --federation-dir",
                )?
        }
    };
    let dir = dir.canonicalize().with_context(|| format!("cannot resolve {}", dir.display()))?;
    anyhow::ensure!(
        dir.join("gateway.config.mjs").is_file(),
        "{} holds no gateway.config.mjs (--federation-dir)",
        dir.display()
    );
    anyhow::ensure!(
        dir.join("node_modules/.bin/hive-gateway").is_file(),
        "{} has no node_modules/.bin/hive-gateway: run `npm ci --ignore-scripts` there, or give --federation-dir",
        dir.display()
    );
    Ok(dir)
}

/// `node --version`, or an error saying Node is needed.
async fn node_version() -> anyhow::Result<String> {
    let output = tokio::process::Command::new("node")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .await
        .context("cannot run node: the gateway needs Node 20 or later on PATH")?;
    anyhow::ensure!(output.status.success(), "node --version failed ({})", output.status);
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// A child process of the run's own (a subgraph or the gateway), killed if the run ends early.
struct Process {
    name: String,
    child: tokio::process::Child,
    pid: u32,
    /// `http://127.0.0.1:PORT`.
    base: String,
    log: PathBuf,
    /// A `heard` process exits 0 after SIGTERM; the gateway may end by the signal.
    exits_cleanly: bool,
}

impl Process {
    /// Asks `base` + `path` until it answers 200; fails if the process ends first.
    async fn wait_ready(&mut self, path: &str, started: Instant, limit: Duration) -> anyhow::Result<()> {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build()?;
        let url = format!("{}{path}", self.base);
        loop {
            let ready = client.get(&url).send().await;
            if ready.is_ok_and(|response| response.status() == 200) {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!("{} stopped ({status}) before {path} answered 200", self.name);
            }
            anyhow::ensure!(
                started.elapsed() < limit,
                "{}'s {path} did not answer 200 within {} s",
                self.name,
                limit.as_secs()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the process (SIGTERM), waiting up to [`STOP_TIMEOUT`], then kills it.
    async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            anyhow::bail!("{} had stopped by itself ({status})", self.name);
        }
        let pid = self.pid.to_string();
        let status = tokio::process::Command::new("kill").args(["-TERM", &pid]).status().await?;
        anyhow::ensure!(status.success(), "kill -TERM {pid} ({}) failed", self.name);
        match tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await {
            Ok(waited) => {
                let status = waited?;
                anyhow::ensure!(!self.exits_cleanly || status.success(), "{} stopped with {status}", self.name);
                Ok(())
            }
            Err(_) => {
                self.child.kill().await?;
                anyhow::bail!("{} did not stop within {} s of SIGTERM; killed", self.name, STOP_TIMEOUT.as_secs())
            }
        }
    }
}

/// Every child process started so far, to be stopped at the end.
#[derive(Default)]
struct Running {
    monolith: Option<Server>,
    subgraphs: Vec<Process>,
    gateway: Option<Process>,
    /// What went wrong stopping a process so far, one line each.
    problems: Vec<String>,
}

impl Running {
    /// Stops the monolith if it runs.
    async fn stop_monolith(&mut self) {
        if let Some(monolith) = self.monolith.take()
            && let Err(error) = monolith.stop().await
        {
            self.problems.push(format!("the single process: {error:#}"));
        }
    }

    /// Stops the gateway, the subgraphs and the monolith (each even if another failed to stop);
    /// what went wrong, one line each.
    async fn stop(mut self) -> Vec<String> {
        self.stop_monolith().await;
        let mut problems = self.problems;
        let processes = self.gateway.into_iter().chain(self.subgraphs);
        for process in processes {
            if let Err(error) = process.stop().await {
                problems.push(format!("{error:#}"));
            }
        }
        problems
    }
}

/// Copies the store into the schema at `url`, starts every process over it, measures the
/// monolith and then the gateway, and stops them all.
async fn run(
    dir: &Path,
    manifest: &Manifest,
    heard: &Path,
    federation_dir: &Path,
    url: &str,
    options: &FederationOptions,
) -> anyhow::Result<Value> {
    let parent = dir.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let scratch = tempfile::Builder::new()
        .prefix(".heard-federation-run-")
        .tempdir_in(parent)
        .with_context(|| format!("cannot make a scratch directory in {}", parent.display()))?;

    let copied = Instant::now();
    let mut copy = tokio::process::Command::new(heard);
    copy.args(["copy", "--from"]).arg(dir).args(["--to", url]).stdin(Stdio::null());
    without_heard_settings(&mut copy);
    let output = copy.output().await.with_context(|| format!("cannot run {} copy", heard.display()))?;
    anyhow::ensure!(
        output.status.success(),
        "heard copy failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).lines().last().unwrap_or_default()
    );
    let copy_seconds = copied.elapsed().as_secs_f64();
    eprintln!("federation: heard copy put the store in PostgreSQL in {copy_seconds:.1} s");

    let mut running = Running::default();
    let measured =
        start_and_measure(&mut running, scratch.path(), dir, manifest, heard, federation_dir, url, options).await;
    let stop_problems = running.stop().await;
    for problem in &stop_problems {
        eprintln!("federation: while stopping: {problem}");
    }
    let mut figures = measured?;
    if let Value::Object(figures) = &mut figures {
        figures.insert("copy_seconds".into(), json!(round(copy_seconds)));
        figures.insert("stop_problems".into(), json!(stop_problems));
    }
    Ok(figures)
}

/// Starts the monolith and measures it, stops it, then starts the six subgraphs and the gateway
/// and measures that (each process into `running` as soon as it runs).
#[allow(clippy::too_many_arguments)]
async fn start_and_measure(
    running: &mut Running,
    scratch: &Path,
    dir: &Path,
    manifest: &Manifest,
    heard: &Path,
    federation_dir: &Path,
    url: &str,
    options: &FederationOptions,
) -> anyhow::Result<Value> {
    let secret = dir.join("secret.key");
    let data_directory = |name: &str| -> anyhow::Result<PathBuf> {
        let data = scratch.join(name);
        std::fs::create_dir_all(&data)?;
        std::fs::copy(&secret, data.join("secret.key"))
            .with_context(|| format!("cannot copy the built store's secret.key into {}", data.display()))?;
        Ok(data)
    };

    // The single process, alone.
    let env = [("HEARD_STORE__BACKEND", "postgres"), ("HEARD_STORE__URL", url)];
    let log = scratch.join("monolith.log");
    let (monolith, _, monolith_ready) = measure::start_until_ready(&data_directory("monolith")?, &log, heard, &env)
        .await
        .map_err(|error| error.context(format!("the single process's last lines:\n{}", measure::log_tail(&log))))?;
    eprintln!("federation: the single process is ready in {monolith_ready:.2} s at {}", monolith.base);
    let monolith_url = format!("{}/graphql", monolith.base);
    let monolith_pid = monolith.pid;
    running.monolith = Some(monolith);
    let manifest = Arc::new(manifest.clone());
    eprintln!("federation: {} clients for {} s on the single process", options.clients, options.seconds);
    let on_monolith = measure_target(&monolith_url, &manifest, options).await?;
    let monolith_rss = rss_mib(monolith_pid);
    running.stop_monolith().await;

    // The six subgraphs, at once.
    let mut starting = JoinSet::new();
    for name in SERVICES {
        let (heard, data, url) = (heard.to_owned(), data_directory(name)?, url.to_owned());
        let log = scratch.join(format!("{name}.log"));
        starting.spawn(start_subgraph(heard, name, data, log, url));
    }
    let mut subgraph_ready = serde_json::Map::new();
    let mut failed = None;
    while let Some(joined) = starting.join_next().await {
        match joined.context("a subgraph's start panicked") {
            Ok(Ok((process, ready_seconds))) => {
                eprintln!("federation: {} subgraph ready in {ready_seconds:.2} s at {}", process.name, process.base);
                subgraph_ready.insert(process.name.clone(), json!(round(ready_seconds)));
                running.subgraphs.push(process);
            }
            Ok(Err(error)) | Err(error) => {
                failed.get_or_insert(error);
            }
        }
    }
    if let Some(error) = failed {
        return Err(error);
    }
    running.subgraphs.sort_by_key(|process| SERVICES.iter().position(|name| *name == process.name));
    let subgraph_urls: Vec<(String, String)> = running
        .subgraphs
        .iter()
        .map(|process| (format!("HEARD_{}_URL", process.name.to_uppercase()), format!("{}/graphql", process.base)))
        .collect();

    // The supergraph, from the binary's own subgraph schemas and the subgraphs' addresses.
    let schema_dir = scratch.join("schema");
    let mut write_schema = tokio::process::Command::new(heard);
    write_schema.args(["schema", "--write"]).arg(&schema_dir).stdin(Stdio::null());
    without_heard_settings(&mut write_schema);
    succeeded("heard schema --write", write_schema).await?;
    let supergraph = scratch.join("supergraph.graphql");
    let mut compose = tokio::process::Command::new("node");
    compose
        .arg(federation_dir.join("compose.mjs"))
        .arg("--schema-dir")
        .arg(&schema_dir)
        .arg("--out")
        .arg(&supergraph)
        .current_dir(federation_dir)
        .stdin(Stdio::null());
    without_heard_settings(&mut compose);
    compose.envs(subgraph_urls.iter().map(|(key, value)| (key, value)));
    succeeded("node compose.mjs", compose).await?;

    let started = Instant::now();
    let gateway = start_gateway(federation_dir, &supergraph, scratch, &subgraph_urls)?;
    let gateway_base = gateway.base.clone();
    let gateway_pid = gateway.pid;
    let gateway = running.gateway.insert(gateway);
    gateway
        .wait_ready("/readiness", started, GATEWAY_TIMEOUT)
        .await
        .map_err(|error| error.context(format!("the gateway's last lines:\n{}", measure::log_tail(&gateway.log))))?;
    let gateway_ready = started.elapsed().as_secs_f64();
    eprintln!("federation: the gateway is ready in {gateway_ready:.2} s at {gateway_base}");

    eprintln!("federation: {} clients for {} s on the gateway", options.clients, options.seconds);
    let on_gateway = measure_target(&format!("{gateway_base}/graphql"), &manifest, options).await?;

    let subgraph_rss: f64 = running.subgraphs.iter().filter_map(|process| rss_mib(process.pid)).sum();
    let ratios = ratios(&on_monolith, &on_gateway);
    Ok(json!({
        "seconds": options.seconds,
        "clients": options.clients,
        "warm_up_queries": WARM_UP,
        "ready_seconds": {
            "monolith": round(monolith_ready),
            "subgraphs_started_at_once": subgraph_ready,
            "gateway": round(gateway_ready),
        },
        "rss_mib_after": {
            "monolith": monolith_rss.map(round),
            "subgraphs": round(subgraph_rss),
            "gateway": rss_mib(gateway_pid).map(round),
        },
        "monolith": on_monolith,
        "gateway": on_gateway,
        "gateway_to_monolith": ratios,
    }))
}

/// Runs `heard` with its defaults, whatever this shell's `HEARD_*` variables say (and keeps the
/// gateway's and composition's own settings to those the run gives them).
fn without_heard_settings(command: &mut tokio::process::Command) {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("HEARD_") {
            command.env_remove(key);
        }
    }
}

/// Runs `command` to its end; an error with the last line it wrote unless it succeeded.
async fn succeeded(what: &str, mut command: tokio::process::Command) -> anyhow::Result<()> {
    let output = command.output().await.with_context(|| format!("cannot run {what}"))?;
    anyhow::ensure!(
        output.status.success(),
        "{what} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).lines().last().unwrap_or_default()
    );
    Ok(())
}

/// Starts `heard serve --service NAME` on `data` over the log at `url` and waits for `/readyz`.
/// Returns the process and the seconds until it was ready.
async fn start_subgraph(
    heard: PathBuf,
    name: &'static str,
    data: PathBuf,
    log_path: PathBuf,
    url: String,
) -> anyhow::Result<(Process, f64)> {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(&log_path)?;
    let mut command = tokio::process::Command::new(&heard);
    command
        .args(["serve", "--service", name, "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .kill_on_drop(true);
    without_heard_settings(&mut command);
    // As ops/federation/run: the subgraphs believe the gateway's X-Forwarded-For.
    command.envs([
        ("HEARD_STORE__BACKEND", "postgres"),
        ("HEARD_STORE__URL", url.as_str()),
        ("HEARD_HTTP__TRUSTED_PROXIES", "127.0.0.1,::1"),
    ]);
    let started = Instant::now();
    let mut child = command.spawn().with_context(|| format!("cannot start {}", heard.display()))?;
    let pid = child.id().with_context(|| format!("the {name} subgraph exited at once"))?;
    let stdout = child.stdout.take().context("no stdout from heard serve")?;
    let mut lines = BufReader::new(stdout).lines();
    let printed = tokio::time::timeout(START_TIMEOUT, async {
        while let Some(line) = lines.next_line().await? {
            if let Some(rest) = line.split("http://").nth(1) {
                return anyhow::Ok(format!("http://{}", rest.split('/').next().unwrap_or_default().trim()));
            }
        }
        anyhow::bail!("the {name} subgraph ended without printing its address")
    })
    .await;
    let tail = || format!("the {name} subgraph's last lines:\n{}", measure::log_tail(&log_path));
    let base = match printed {
        Ok(Ok(base)) => base,
        Ok(Err(error)) => return Err(error.context(tail())),
        Err(_) => anyhow::bail!("the {name} subgraph printed no address within 15 minutes\n{}", tail()),
    };
    // Keep reading what it prints so that it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let mut process = Process { name: name.to_owned(), child, pid, base, log: log_path.clone(), exits_cleanly: true };
    process.wait_ready("/readyz", started, START_TIMEOUT).await.map_err(|error| error.context(tail()))?;
    Ok((process, started.elapsed().as_secs_f64()))
}

/// Starts Hive Gateway (the Node process itself, no npx) on a free port of 127.0.0.1, serving
/// `supergraph` with the subgraphs at `subgraph_urls`, with `gateway.config.mjs` and one worker.
fn start_gateway(
    federation_dir: &Path,
    supergraph: &Path,
    scratch: &Path,
    subgraph_urls: &[(String, String)],
) -> anyhow::Result<Process> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .context("cannot find a free port for the gateway")?
        .port();
    let log_path = scratch.join("gateway.log");
    let log = std::fs::OpenOptions::new().create(true).append(true).open(&log_path)?;
    let mut command = tokio::process::Command::new("node");
    command
        .arg(federation_dir.join("node_modules/.bin/hive-gateway"))
        .arg("supergraph")
        .arg(supergraph)
        .arg("--config-path")
        .arg(federation_dir.join("gateway.config.mjs"))
        .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--fork", "1"])
        .current_dir(federation_dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true);
    without_heard_settings(&mut command);
    for variable in ["FORK", "HOST", "PORT", "CONFIG_PATH"] {
        command.env_remove(variable);
    }
    command.envs(subgraph_urls.iter().map(|(key, value)| (key, value)));
    let child = command.spawn().context("cannot start the gateway (node)")?;
    let pid = child.id().context("the gateway exited at once")?;
    Ok(Process {
        name: "the gateway".into(),
        child,
        pid,
        base: format!("http://127.0.0.1:{port}"),
        log: log_path,
        exits_cleanly: false,
    })
}

/// What the clients of one target saw, merged.
#[derive(Default)]
struct Seen {
    timings: BTreeMap<Kind, Vec<Duration>>,
    /// How much the answers held, by kind (see [`measure::results`]).
    results: BTreeMap<Kind, u64>,
    errors: BTreeMap<Kind, u64>,
    first_error: Option<String>,
}

impl Seen {
    fn merge(&mut self, other: Seen) {
        for (kind, latencies) in other.timings {
            self.timings.entry(kind).or_default().extend(latencies);
        }
        for (kind, results) in other.results {
            *self.results.entry(kind).or_default() += results;
        }
        for (kind, errors) in other.errors {
            *self.errors.entry(kind).or_default() += errors;
        }
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

/// The warm-up, then `options.clients` clients running the query mix on `url` for
/// `options.seconds`; the figures of the timed part.
async fn measure_target(url: &str, manifest: &Arc<Manifest>, options: &FederationOptions) -> anyhow::Result<Value> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let (mut warm_up_errors, mut warm_up_first_error) = (0u64, None);
    for n in 0..WARM_UP {
        let Some((kind, token, body)) = measure::query(n, manifest) else { continue };
        if let Err(error) = measure::ask(&http, url, token, &body).await {
            warm_up_errors += 1;
            warm_up_first_error.get_or_insert_with(|| format!("{}: {error:#}", kind.key()));
        }
    }

    let started = Instant::now();
    let deadline = started + Duration::from_secs(options.seconds);
    let next = Arc::new(AtomicUsize::new(0));
    let mut clients = JoinSet::new();
    for _ in 0..options.clients {
        let (manifest, next, http, url) = (manifest.clone(), next.clone(), http.clone(), url.to_owned());
        clients.spawn(async move {
            let mut seen = Seen::default();
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some((kind, token, body)) = measure::query(n, &manifest) else { continue };
                let sent = Instant::now();
                match measure::ask(&http, &url, token, &body).await {
                    Ok(answer) => {
                        seen.timings.entry(kind).or_default().push(sent.elapsed());
                        *seen.results.entry(kind).or_default() += measure::results(kind, &answer["data"]);
                    }
                    Err(error) => {
                        *seen.errors.entry(kind).or_default() += 1;
                        seen.first_error.get_or_insert_with(|| format!("{}: {error:#}", kind.key()));
                    }
                }
            }
            seen
        });
    }
    let mut seen = Seen::default();
    while let Some(joined) = clients.join_next().await {
        seen.merge(joined?);
    }
    let seconds = started.elapsed().as_secs_f64();

    let mut all = Vec::new();
    let mut operations = serde_json::Map::new();
    for (kind, mut latencies) in seen.timings {
        latencies.sort();
        all.extend(latencies.iter().copied());
        let results = seen.results.get(&kind).copied().unwrap_or(0);
        operations.insert(
            kind.key().into(),
            json!({
                "requests": latencies.len(),
                "requests_per_sec": round(latencies.len() as f64 / seconds),
                "p50_ms": round(percentile(&latencies, 0.50)),
                "p99_ms": round(percentile(&latencies, 0.99)),
                "errors": seen.errors.get(&kind).copied().unwrap_or(0),
                "mean_results": round(results as f64 / latencies.len().max(1) as f64),
            }),
        );
    }
    // A kind that only failed still gets its errors reported.
    for (kind, errors) in &seen.errors {
        operations.entry(kind.key()).or_insert_with(|| json!({ "requests": 0, "errors": errors }));
    }
    all.sort();
    Ok(json!({
        "url": url,
        "seconds": round(seconds),
        "requests": all.len(),
        "requests_per_sec": round(all.len() as f64 / seconds),
        "p50_ms": round(percentile(&all, 0.50)),
        "p99_ms": round(percentile(&all, 0.99)),
        "errors": seen.errors.values().sum::<u64>(),
        "first_error": seen.first_error,
        "warm_up_errors": warm_up_errors,
        "warm_up_first_error": warm_up_first_error,
        "operations": operations,
    }))
}

/// Gateway over monolith for throughput, p50 and p99: overall and per kind.
fn ratios(monolith: &Value, gateway: &Value) -> Value {
    let ratio = |field: &str, m: &Value, g: &Value| match (m[field].as_f64(), g[field].as_f64()) {
        (Some(m), Some(g)) if m > 0.0 => json!(round(g / m)),
        _ => Value::Null,
    };
    let three = |m: &Value, g: &Value| {
        json!({
            "requests_per_sec": ratio("requests_per_sec", m, g),
            "p50_ms": ratio("p50_ms", m, g),
            "p99_ms": ratio("p99_ms", m, g),
        })
    };
    let mut operations = serde_json::Map::new();
    if let Some(kinds) = monolith["operations"].as_object() {
        for (key, m) in kinds {
            operations.insert(key.clone(), three(m, &gateway["operations"][key]));
        }
    }
    json!({ "all": three(monolith, gateway), "operations": operations })
}

/// Resident memory of a process in MiB, from `/proc/PID/status` (Linux), if it can be read.
fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: f64 = line["VmRSS:".len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib / 1024.0)
}

/// The 1, 5 and 15 minute load averages, from `/proc/loadavg` (Linux), or null.
fn load_average() -> Value {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let figures: Vec<f64> = text.split_whitespace().take(3).filter_map(|figure| figure.parse().ok()).collect();
    if figures.len() == 3 { json!(figures) } else { Value::Null }
}

/// The summary as a table on stderr.
fn print_table(summary: &Value) {
    let number = |value: &Value| value.as_f64().unwrap_or(0.0);
    let count = |value: &Value| value.as_u64().unwrap_or(0);
    let ratio = |value: &Value| value.as_f64().map_or_else(|| "-".to_owned(), |ratio| format!("{ratio:.2}"));
    eprintln!();
    eprintln!(
        "{} events on PostgreSQL, {} clients, {} s on each target, {} CPUs (load average before {}, after {})",
        summary["events"],
        summary["clients"],
        summary["seconds"],
        summary["cpus"],
        summary["load_average_before"],
        summary["load_average_after"]
    );
    eprintln!("{:<34} {:>23}   {:>23}   {:>19}", "", "single process", "gateway, 6 subgraphs", "gateway / single");
    eprintln!(
        "{:<34} {:>7} {:>7} {:>7}   {:>7} {:>7} {:>7}   {:>6} {:>6} {:>6}",
        "operation", "req/s", "p50 ms", "p99 ms", "req/s", "p50 ms", "p99 ms", "req/s", "p50", "p99"
    );
    let (monolith, gateway, ratios) = (&summary["monolith"], &summary["gateway"], &summary["gateway_to_monolith"]);
    let row = |name: &str, m: &Value, g: &Value, r: &Value| {
        eprintln!(
            "{name:<34} {:>7.1} {:>7.1} {:>7.1}   {:>7.1} {:>7.1} {:>7.1}   {:>6} {:>6} {:>6}",
            number(&m["requests_per_sec"]),
            number(&m["p50_ms"]),
            number(&m["p99_ms"]),
            number(&g["requests_per_sec"]),
            number(&g["p50_ms"]),
            number(&g["p99_ms"]),
            ratio(&r["requests_per_sec"]),
            ratio(&r["p50_ms"]),
            ratio(&r["p99_ms"]),
        );
    };
    if let Some(kinds) = monolith["operations"].as_object() {
        for (key, m) in kinds {
            row(key, m, &gateway["operations"][key], &ratios["operations"][key]);
        }
    }
    row("all", monolith, gateway, &ratios["all"]);
    for (name, target) in [("single process", monolith), ("gateway", gateway)] {
        eprintln!(
            "{name}: {} requests, {} errors ({} in the warm-up){}",
            count(&target["requests"]),
            count(&target["errors"]),
            count(&target["warm_up_errors"]),
            target["first_error"]
                .as_str()
                .or(target["warm_up_first_error"].as_str())
                .map_or_else(String::new, |error| format!("; first: {error}"))
        );
    }
    let ready = &summary["ready_seconds"];
    let rss = &summary["rss_mib_after"];
    eprintln!(
        "ready (s): single process {}, gateway {}; subgraphs (started at once) {}",
        ready["monolith"], ready["gateway"], ready["subgraphs_started_at_once"]
    );
    eprintln!(
        "resident MiB after: single process {:.0}; six subgraphs {:.0} + gateway {:.0}",
        number(&rss["monolith"]),
        number(&rss["subgraphs"]),
        number(&rss["gateway"])
    );
}
