//! `heard-bench append | replay | rebuild`: the event store's write, read and rebuild rates.
//! Figures, never assertions; see `BENCHMARKS.md`.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use heard_eventstore::{
    BackendKind, EventStore, ExpectedRevision, KvProjection, KvTx, NewEvent, RecordedEvent, SledProjection, StreamName,
    SubjectId, Upcasters, projection,
};
use serde_json::json;

/// Options of `heard-bench append`.
#[derive(Clone, Debug)]
pub struct AppendOptions {
    pub writers: usize,
    pub events: u64,
    pub size: usize,
    pub print_acks: bool,
    pub backend: BackendKind,
    /// Every event carries `{"revision": r}` as personal fields, sealed under a new subject.
    pub personal: bool,
}

/// Runs W concurrent writers appending N events in total, one event per append, then times
/// raw fsync on the same disk. Returns the summary line.
pub async fn append(data_dir: &Path, options: AppendOptions) -> anyhow::Result<serde_json::Value> {
    anyhow::ensure!(options.writers >= 1, "--writers must be at least 1");
    anyhow::ensure!(options.events >= 1, "--events must be at least 1");
    let store = EventStore::open_embedded(data_dir, options.backend, Upcasters::new())?;
    let Appended { seconds, latencies, commits } = append_to(&store, &options).await?;
    store.close().await?;
    drop(store);
    let (sequential, batched) = tokio::task::spawn_blocking({
        let dir = data_dir.to_owned();
        move || raw_fsync_rates(&dir)
    })
    .await??;
    let events_per_sec = options.events as f64 / seconds;
    Ok(json!({
        "events": options.events,
        "writers": options.writers,
        "backend": options.backend,
        "size": options.size,
        "personal": options.personal,
        "seconds": round(seconds),
        "events_per_sec": round(events_per_sec),
        "p50_ms": round(percentile(&latencies, 0.50)),
        "p99_ms": round(percentile(&latencies, 0.99)),
        "commits": commits,
        "events_per_commit": round(options.events as f64 / commits.max(1) as f64),
        "raw_fsync_sequential_per_sec": round(sequential),
        "raw_fsync_batch64_events_per_sec": round(batched),
        "share_of_sequential": round(events_per_sec / sequential),
        "share_of_batch64": round(events_per_sec / batched),
    }))
}

/// What one run of W writers appending N events to a store measured.
pub(crate) struct Appended {
    pub seconds: f64,
    /// Each append's latency, sorted.
    pub latencies: Vec<Duration>,
    /// Commits (fsyncs or transactions) the backend made.
    pub commits: u64,
}

/// W concurrent writers, each on a stream of its own, append N events in total to `store`,
/// one event per append (`options.backend` is not used: the store is already open).
pub(crate) async fn append_to(store: &EventStore, options: &AppendOptions) -> anyhow::Result<Appended> {
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let payload = "x".repeat(options.size);
    let latencies = Arc::new(std::sync::Mutex::new(Vec::with_capacity(options.events as usize)));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for writer in 0..options.writers {
        let share = options.events / options.writers as u64
            + u64::from((writer as u64) < options.events % options.writers as u64);
        let store = store.clone();
        let payload = payload.clone();
        let latencies = latencies.clone();
        let stream = StreamName::new(format!("bench-{run}w{writer}"))?;
        let print_acks = options.print_acks;
        let personal = options.personal;
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::with_capacity(share as usize);
            for i in 0..share {
                let mut event = NewEvent::new("BenchEventAppended", 1, &json!({ "i": i, "payload": payload }))?;
                if personal {
                    // Each writer's stream is new, so the append's revision is `i`.
                    event = event.with_personal(SubjectId::new(), &json!({ "revision": i }))?;
                }
                let sent = Instant::now();
                let outcome = store.append(&stream, ExpectedRevision::Any, vec![event]).await?;
                mine.push(sent.elapsed());
                if print_acks {
                    let mut stdout = std::io::stdout().lock();
                    writeln!(stdout, "ack {stream} {} {}", outcome.next_expected_revision, outcome.last_position)?;
                    stdout.flush()?;
                }
            }
            latencies.lock().map_err(|_| anyhow::anyhow!("latency lock poisoned"))?.extend(mine);
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let seconds = started.elapsed().as_secs_f64();
    let commits = store.stats().commits;
    let mut latencies = latencies.lock().map_err(|_| anyhow::anyhow!("latency lock poisoned"))?.clone();
    latencies.sort();
    Ok(Appended { seconds, latencies, commits })
}

/// A figure to three decimal places.
pub(crate) fn round(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// The `p` quantile of sorted latencies, in milliseconds.
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

/// The physical ceiling: 1 KB `write` + `fdatasync` one at a time, and in batches of 64, each
/// for about a second, on a scratch file in the data directory.
pub fn raw_fsync_rates(dir: &Path) -> anyhow::Result<(f64, f64)> {
    let path = dir.join(format!("raw-fsync-probe-{}", uuid::Uuid::new_v4().simple()));
    let block = vec![0x5au8; 1024];
    let measure = |batch: usize| -> anyhow::Result<f64> {
        let mut file = std::fs::OpenOptions::new().create(true).write(true).truncate(true).open(&path)?;
        let started = Instant::now();
        let mut events = 0u64;
        while started.elapsed() < Duration::from_secs(1) || events < 64 {
            for _ in 0..batch {
                file.write_all(&block)?;
            }
            file.sync_data()?;
            events += batch as u64;
        }
        Ok(events as f64 / started.elapsed().as_secs_f64())
    };
    let sequential = measure(1);
    let batched = measure(64);
    let _ = std::fs::remove_file(&path);
    Ok((sequential?, batched?))
}

/// Reads the whole log (`$all`) as stored, and again decoded, and reports both rates.
pub async fn replay(data_dir: &Path) -> anyhow::Result<serde_json::Value> {
    let store = heard::data_dir::open_existing(data_dir)?;
    let time = |raw: bool| {
        let store = store.clone();
        async move {
            let started = Instant::now();
            let mut from = 1;
            let mut count = 0u64;
            loop {
                let page = if raw { store.read_all_raw(from, 8192).await? } else { store.read_all(from, 8192).await? };
                let Some(last) = page.last() else { break };
                from = last.position + 1;
                count += page.len() as u64;
            }
            anyhow::Ok((count, started.elapsed().as_secs_f64()))
        }
    };
    let (events, raw_seconds) = time(true).await?;
    let (_, decoded_seconds) = time(false).await?;
    store.close().await?;
    Ok(json!({
        "events": events,
        "raw_seconds": round(raw_seconds),
        "raw_events_per_sec": round(events as f64 / raw_seconds),
        "decoded_seconds": round(decoded_seconds),
        "decoded_events_per_sec": round(events as f64 / decoded_seconds),
    }))
}

/// A projection of the kind services use: a counter per stream and per category, kept in sled.
struct CountPerStream;

impl KvProjection for CountPerStream {
    fn name(&self) -> &str {
        "bench-count-per-stream"
    }

    fn apply(&mut self, event: &RecordedEvent, tx: &mut KvTx<'_>) -> heard_eventstore::Result<()> {
        for key in [event.stream.as_str().as_bytes(), event.stream.category().as_bytes()] {
            let count = tx.get(key)?.and_then(|b| b.try_into().ok()).map_or(0, u64::from_be_bytes);
            tx.insert(key.to_vec(), (count + 1).to_be_bytes().to_vec());
        }
        Ok(())
    }
}

/// Rebuilds a sled projection from the whole log into a scratch database and reports the rate.
pub async fn rebuild(data_dir: &Path) -> anyhow::Result<serde_json::Value> {
    let store = heard::data_dir::open_existing(data_dir)?;
    let scratch = tempfile_dir(data_dir)?;
    let db = sled::Config::new().path(&scratch).temporary(true).open()?;
    let mut counter = SledProjection::open(&db, CountPerStream)?;
    let started = Instant::now();
    let events = projection::rebuild(&store, &mut counter).await?;
    let seconds = started.elapsed().as_secs_f64();
    store.close().await?;
    drop(db);
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(json!({ "events": events, "seconds": round(seconds), "events_per_sec": round(events as f64 / seconds) }))
}

fn tempfile_dir(data_dir: &Path) -> anyhow::Result<std::path::PathBuf> {
    let path = data_dir.join(format!("bench-projection-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&path)?;
    Ok(path)
}
