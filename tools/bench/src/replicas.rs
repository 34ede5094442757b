//! `heard-bench replicas`: two `heard serve` replicas over one PostgreSQL log under the mixed
//! query workload of `heard-bench scale`, with the replication lag between them (issue #19).
//!
//! 1. The store of `scale` ([`build::build_or_reuse`]): built in a data directory, or reused.
//! 2. A fresh schema `heard_bench_…` in the database at `--pg-url`; `heard copy` copies the
//!    store into it. The schema is dropped at the end, whatever happened.
//! 3. Two real `heard serve --listen 127.0.0.1:0` child processes, A then B, over that schema,
//!    each with a fresh data directory of its own holding only the built store's `secret.key`
//!    (so the store's API tokens, and each other's sessions, are good on both); each rebuilds
//!    its models from the log before it is ready.
//! 4. For `--seconds`: `--clients` clients run scale's query mix, half against A and half
//!    against B, as fast as they are answered; meanwhile feedback is logged on A at a steady
//!    `--log-rate` items a second (each on its tick, whether or not the one before was
//!    answered) and, for each item A acknowledges, B is asked for it every 5 ms until it
//!    answers it (one item at a time, in the order A acknowledged them). The time from A's acknowledgement to B's answer is the replication
//!    lag (as a user moving between replicas sees it, so it includes one round trip to B).
//!
//! Figures, never assertions: a table on stderr and a JSON summary line on stdout.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::pg_append::Schema;
use crate::scale::build::{self, Manifest};
use crate::scale::measure::{self, Kind, Server};
use crate::store::{percentile, round};

/// The PostgreSQL the benchmark runs in by default (the test server; trust auth).
pub const DEFAULT_PG_URL: &str = crate::pg_append::DEFAULT_URL;

/// How often B is asked for an item A acknowledged.
const POLL_EVERY: Duration = Duration::from_millis(5);

/// An item B has not answered within this long counts as not seen, and is no longer asked for.
const LAG_LIMIT: Duration = Duration::from_secs(10);

/// Options of `heard-bench replicas`.
#[derive(Clone, Debug)]
pub struct ReplicasOptions {
    pub events: u64,
    /// Where the store is built (or found); a temporary directory when `None`.
    pub data: Option<PathBuf>,
    pub seed: u64,
    /// Seconds of the mixed workload.
    pub seconds: u64,
    /// Clients running the query mix, half on each replica.
    pub clients: usize,
    /// Feedback items logged on A a second.
    pub log_rate: f64,
    /// A `postgres://` URL; the run works in a schema of its own there.
    pub pg_url: String,
    /// The `heard` binary; by default the one beside `heard-bench`.
    pub heard: Option<PathBuf>,
}

/// Builds (or reuses) the store, runs the two replicas over a copy of it in PostgreSQL, and
/// returns the summary line.
pub async fn replicas(options: ReplicasOptions) -> anyhow::Result<Value> {
    anyhow::ensure!(options.events >= 2_000, "--events must be at least 2000");
    anyhow::ensure!(options.seconds >= 1, "--seconds must be at least 1");
    anyhow::ensure!(options.clients >= 2, "--clients must be at least 2 (half of them on each replica)");
    anyhow::ensure!(
        options.log_rate > 0.0 && options.log_rate <= 1000.0,
        "--log-rate must be more than 0 and at most 1000 items a second"
    );
    anyhow::ensure!(
        options.pg_url.starts_with("postgres://") || options.pg_url.starts_with("postgresql://"),
        "--pg-url must be a postgres:// URL"
    );
    let heard = crate::scale::heard_binary(options.heard.as_deref())?;
    let (_temporary, dir) = crate::scale::store_directory(options.data.as_deref(), "heard-replicas-")?;
    let manifest = build::build_or_reuse(&dir, options.events, options.seed).await?;
    let load_before = load_average();
    let schema = Schema::create_as(&options.pg_url, "--pg-url").await?;
    eprintln!("replicas: working in schema {}", schema.name);
    let schema_name = schema.name.clone();
    let figures = run(&dir, &manifest, &heard, &schema.url, &options).await;
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
        "load_average_before": load_before,
        "load_average_after": load_average(),
    });
    if let (Value::Object(summary), Value::Object(figures)) = (&mut summary, figures) {
        summary.extend(figures);
    }
    print_table(&summary);
    Ok(summary)
}

/// Copies the store into the schema at `url`, starts A and B over it and measures them.
async fn run(
    dir: &Path,
    manifest: &Manifest,
    heard: &Path,
    url: &str,
    options: &ReplicasOptions,
) -> anyhow::Result<Value> {
    let parent = dir.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let scratch = tempfile::Builder::new()
        .prefix(".heard-replicas-run-")
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
    eprintln!("replicas: heard copy put the store in PostgreSQL in {copy_seconds:.1} s; starting A and B");

    let env = [("HEARD_STORE__BACKEND", "postgres"), ("HEARD_STORE__URL", url)];
    let mut servers = Vec::new();
    let mut ready = Vec::new();
    for name in ["a", "b"] {
        let data = scratch.path().join(name);
        std::fs::create_dir_all(&data)?;
        std::fs::copy(dir.join("secret.key"), data.join("secret.key"))
            .context("cannot copy the built store's secret.key into a replica's data directory")?;
        let log = scratch.path().join(format!("{name}.log"));
        let (server, _, ready_seconds) = measure::start_until_ready(&data, &log, heard, &env)
            .await
            .map_err(|error| error.context(format!("replica {name}'s last lines:\n{}", measure::log_tail(&log))))?;
        eprintln!("replicas: {} ready in {ready_seconds:.2} s", name.to_uppercase());
        servers.push(server);
        ready.push(round(ready_seconds));
    }
    let b = servers.pop().context("replica B")?;
    let a = servers.pop().context("replica A")?;
    let measured = workload(&a, &b, manifest, options).await;
    let stopped_a = a.stop().await;
    let stopped_b = b.stop().await;
    let mut figures = measured?;
    stopped_a.context("replica A")?;
    stopped_b.context("replica B")?;
    if let Value::Object(figures) = &mut figures {
        figures.insert("copy_seconds".into(), json!(round(copy_seconds)));
        figures.insert("ready_seconds".into(), json!({ "a": ready[0], "b": ready[1] }));
    }
    Ok(figures)
}

/// Runs `heard` with its defaults, whatever this shell's `HEARD_*` variables say.
fn without_heard_settings(command: &mut tokio::process::Command) {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("HEARD_") {
            command.env_remove(key);
        }
    }
}

/// What one client of the query mix saw.
#[derive(Default)]
struct Client {
    timings: BTreeMap<Kind, Vec<Duration>>,
    errors: u64,
    first_error: Option<String>,
}

/// What the logging client saw: logFeedback latencies on A and lags to B.
#[derive(Default)]
struct Lags {
    logged: Vec<Duration>,
    log_errors: u64,
    lags: Vec<Duration>,
    not_seen: u64,
    first_error: Option<String>,
}

/// The query mix on both replicas and the logging with its lags, for `options.seconds`.
async fn workload(a: &Server, b: &Server, manifest: &Manifest, options: &ReplicasOptions) -> anyhow::Result<Value> {
    let manifest = Arc::new(manifest.clone());
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(options.seconds);
    let next = Arc::new(AtomicUsize::new(0));
    let mut clients = JoinSet::new();
    for client in 0..options.clients {
        let replica = client % 2;
        let url = format!("{}/graphql", [&a.base, &b.base][replica]);
        let (manifest, next, http) = (manifest.clone(), next.clone(), http.clone());
        clients.spawn(async move {
            let mut seen = Client::default();
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some((kind, token, body)) = measure::query(n, &manifest) else { continue };
                let sent = Instant::now();
                match measure::ask(&http, &url, token, &body).await {
                    Ok(_) => seen.timings.entry(kind).or_default().push(sent.elapsed()),
                    Err(error) => {
                        seen.errors += 1;
                        seen.first_error.get_or_insert_with(|| format!("{}: {error:#}", kind.key()));
                    }
                }
            }
            (replica, seen)
        });
    }
    let logging = tokio::spawn(log_and_follow(
        http.clone(),
        format!("{}/graphql", a.base),
        format!("{}/graphql", b.base),
        manifest.clone(),
        options.log_rate,
        deadline,
    ));

    let mut per_replica = [Client::default(), Client::default()];
    while let Some(joined) = clients.join_next().await {
        let (replica, seen) = joined?;
        let into = &mut per_replica[replica];
        for (kind, latencies) in seen.timings {
            into.timings.entry(kind).or_default().extend(latencies);
        }
        into.errors += seen.errors;
        if into.first_error.is_none() {
            into.first_error = seen.first_error;
        }
    }
    let mix_seconds = started.elapsed().as_secs_f64();
    let lags = logging.await??;

    let mut replicas = serde_json::Map::new();
    let mut all: BTreeMap<Kind, Vec<Duration>> = BTreeMap::new();
    let (mut total, mut errors) = (0, 0);
    for (name, seen) in ["a", "b"].into_iter().zip(per_replica) {
        let requests: usize = seen.timings.values().map(Vec::len).sum();
        total += requests;
        errors += seen.errors;
        let mut operations = serde_json::Map::new();
        for (kind, latencies) in seen.timings {
            all.entry(kind).or_default().extend(latencies.iter().copied());
            operations.insert(kind.key().into(), latency_figures(latencies));
        }
        replicas.insert(
            name.into(),
            json!({
                "clients": options.clients / 2 + usize::from(name == "a") * (options.clients % 2),
                "requests": requests,
                "requests_per_sec": round(requests as f64 / mix_seconds),
                "errors": seen.errors,
                "first_error": seen.first_error,
                "operations": operations,
            }),
        );
    }
    let operations: serde_json::Map<String, Value> =
        all.into_iter().map(|(kind, latencies)| (kind.key().into(), latency_figures(latencies))).collect();
    let mut logged = lags.logged;
    logged.sort();
    let mut lag = lags.lags;
    lag.sort();
    Ok(json!({
        "seconds": round(mix_seconds),
        "clients": options.clients,
        "replicas": replicas,
        "total": {
            "requests": total,
            "requests_per_sec": round(total as f64 / mix_seconds),
            "errors": errors,
        },
        "operations": operations,
        "log_feedback_on_a": {
            "rate_asked": options.log_rate,
            "items": logged.len(),
            "errors": lags.log_errors,
            "p50_ms": round(percentile(&logged, 0.50)),
            "p99_ms": round(percentile(&logged, 0.99)),
        },
        "replication_lag_ms": {
            "items": lag.len(),
            "p50": round(percentile(&lag, 0.50)),
            "p99": round(percentile(&lag, 0.99)),
            "max": round(percentile(&lag, 1.0)),
            "not_seen_within_10_s": lags.not_seen,
            "polled_every_ms": POLL_EVERY.as_millis(),
        },
        "first_error_logging": lags.first_error,
    }))
}

fn latency_figures(mut latencies: Vec<Duration>) -> Value {
    latencies.sort();
    json!({
        "count": latencies.len(),
        "p50_ms": round(percentile(&latencies, 0.50)),
        "p99_ms": round(percentile(&latencies, 0.99)),
    })
}

/// Logs feedback on A at `rate` items a second until `deadline` (each item sent on its tick,
/// whether or not the one before was answered), and follows the items A acknowledged on B, one
/// at a time in the order A acknowledged them (B applies the log in order, and one follower
/// keeps the asking from loading B more than the workload does), each until B answers it or
/// [`LAG_LIMIT`] after A acknowledged it.
async fn log_and_follow(
    http: reqwest::Client,
    a: String,
    b: String,
    manifest: Arc<Manifest>,
    rate: f64,
    deadline: Instant,
) -> anyhow::Result<Lags> {
    let texts = measure::feedback_texts();
    let said_on = jiff::Zoned::now().date().yesterday()?.to_string();
    let (acknowledged_tx, mut acknowledged_rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, String)>();
    let follower = tokio::spawn({
        let (http, token) = (http.clone(), manifest.tokens.coordinator.clone());
        async move {
            let (mut lags, mut not_seen) = (Vec::new(), 0);
            while let Some((acknowledged, id)) = acknowledged_rx.recv().await {
                match seen_on_b(&http, &b, &token, &id, acknowledged).await {
                    Some(lag) => lags.push(lag),
                    None => not_seen += 1,
                }
            }
            (lags, not_seen)
        }
    });
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut items = JoinSet::new();
    for n in 0.. {
        ticks.tick().await;
        if Instant::now() >= deadline {
            break;
        }
        let body = measure::log_feedback_body(&texts[n % texts.len()], &said_on);
        let (http, a, token, acknowledged_tx) =
            (http.clone(), a.clone(), manifest.tokens.hub_member.clone(), acknowledged_tx.clone());
        items.spawn(async move {
            let sent = Instant::now();
            let answer = measure::ask(&http, &a, &token, &body).await;
            let acknowledged = Instant::now();
            let id = answer.and_then(|answer| {
                answer["data"]["logFeedback"]["id"].as_str().map(str::to_owned).context("logFeedback answered no id")
            })?;
            // The follower ends only after every item was sent to it.
            let _ = acknowledged_tx.send((acknowledged, id));
            anyhow::Ok(acknowledged - sent)
        });
    }
    drop(acknowledged_tx);
    let mut lags = Lags::default();
    while let Some(item) = items.join_next().await {
        match item? {
            Ok(logged) => lags.logged.push(logged),
            Err(error) => {
                lags.log_errors += 1;
                lags.first_error.get_or_insert_with(|| format!("logFeedback: {error:#}"));
            }
        }
    }
    (lags.lags, lags.not_seen) = follower.await?;
    Ok(lags)
}

/// Asks B for item `id` every [`POLL_EVERY`] (as the hub's coordinator) until it answers it;
/// the time from `acknowledged` to that answer, or `None` after [`LAG_LIMIT`].
async fn seen_on_b(http: &reqwest::Client, b: &str, token: &str, id: &str, acknowledged: Instant) -> Option<Duration> {
    let body = json!({ "query": "query($id: ID!) { feedbackItem(id: $id) { id } }", "variables": { "id": id } });
    loop {
        // Not found yet is an error answer; any answer but the item means ask again.
        if let Ok(answer) = measure::ask(http, b, token, &body).await
            && answer["data"]["feedbackItem"]["id"] == id
        {
            return Some(acknowledged.elapsed());
        }
        if acknowledged.elapsed() > LAG_LIMIT {
            return None;
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
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
    eprintln!();
    eprintln!(
        "{} events on PostgreSQL, two replicas, {} clients, {} s (load average before {}, after {})",
        summary["events"],
        summary["clients"],
        summary["seconds"],
        summary["load_average_before"],
        summary["load_average_after"]
    );
    eprintln!("{:<10} {:>10} {:>12} {:>8}", "replica", "requests", "requests/s", "errors");
    for name in ["a", "b"] {
        let replica = &summary["replicas"][name];
        eprintln!(
            "{:<10} {:>10} {:>12.1} {:>8}",
            name.to_uppercase(),
            count(&replica["requests"]),
            number(&replica["requests_per_sec"]),
            count(&replica["errors"])
        );
    }
    let total = &summary["total"];
    eprintln!(
        "{:<10} {:>10} {:>12.1} {:>8}",
        "total",
        count(&total["requests"]),
        number(&total["requests_per_sec"]),
        count(&total["errors"])
    );
    eprintln!();
    eprintln!("{:<34} {:>8} {:>10} {:>10}", "operation (both replicas)", "count", "p50 ms", "p99 ms");
    if let Some(operations) = summary["operations"].as_object() {
        for (key, figures) in operations {
            eprintln!(
                "{key:<34} {:>8} {:>10.1} {:>10.1}",
                count(&figures["count"]),
                number(&figures["p50_ms"]),
                number(&figures["p99_ms"])
            );
        }
    }
    let logged = &summary["log_feedback_on_a"];
    eprintln!(
        "{:<34} {:>8} {:>10.1} {:>10.1}   ({} errors)",
        "log_feedback on A",
        count(&logged["items"]),
        number(&logged["p50_ms"]),
        number(&logged["p99_ms"]),
        logged["errors"]
    );
    let lag = &summary["replication_lag_ms"];
    eprintln!();
    eprintln!(
        "replication lag A to B: {} items, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, {} not seen within 10 s",
        lag["items"],
        number(&lag["p50"]),
        number(&lag["p99"]),
        number(&lag["max"]),
        lag["not_seen_within_10_s"]
    );
}
