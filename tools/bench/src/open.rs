//! `heard-bench open`: how long the event store takes to open, with the segment log's index
//! snapshot and without it (a full scan of every segment). Figures, never assertions; see
//! `BENCHMARKS.md`.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use heard_eventstore::segment_backend::INDEX_SNAPSHOT_FILE_NAME;
use heard_eventstore::{EventStore, FileKeyStore, SegmentBackend, Upcasters};
use serde_json::json;

use crate::store::round;

/// One open of the store: what `EventStore::open_embedded` does for the segment log.
struct Opened {
    seconds: f64,
    records_scanned: u64,
    snapshot_position: Option<u64>,
    close_seconds: f64,
    events: u64,
}

/// Opens and closes the store in `data_dir` (a segment log) `runs` times each way: first with
/// its index snapshot removed, so the whole log is scanned (the close then writes a new one),
/// then with that snapshot. Reports the medians.
pub async fn open(data_dir: &Path, runs: usize) -> anyhow::Result<serde_json::Value> {
    anyhow::ensure!(runs >= 1, "--runs must be at least 1");
    let log = data_dir.join("log");
    anyhow::ensure!(log.is_dir(), "{} holds no segment log", data_dir.display());
    let snapshot = log.join(INDEX_SNAPSHOT_FILE_NAME);
    let mut full_scans = Vec::with_capacity(runs);
    let mut from_snapshot = Vec::with_capacity(runs);
    for _ in 0..runs {
        match std::fs::remove_file(&snapshot) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error.into()),
        }
        full_scans.push(open_once(data_dir).await?);
        from_snapshot.push(open_once(data_dir).await?);
    }
    let snapshot_bytes = std::fs::metadata(&snapshot).map(|m| m.len()).unwrap_or(0);
    let full = median_seconds(&full_scans, |o| o.seconds);
    let loaded = median_seconds(&from_snapshot, |o| o.seconds);
    Ok(json!({
        "events": full_scans[0].events,
        "runs": runs,
        "full_scan_open_seconds": round(full),
        "full_scan_records_scanned": full_scans[0].records_scanned,
        "snapshot_open_seconds": round(loaded),
        "snapshot_records_scanned": from_snapshot[0].records_scanned,
        "snapshot_position": from_snapshot[0].snapshot_position,
        "speedup": round(full / loaded),
        "close_writing_snapshot_seconds": round(median_seconds(&full_scans, |o| o.close_seconds)),
        "snapshot_bytes": snapshot_bytes,
        "full_scan_open_seconds_each": full_scans.iter().map(|o| round(o.seconds)).collect::<Vec<_>>(),
        "snapshot_open_seconds_each": from_snapshot.iter().map(|o| round(o.seconds)).collect::<Vec<_>>(),
    }))
}

async fn open_once(data_dir: &Path) -> anyhow::Result<Opened> {
    let started = Instant::now();
    let backend = SegmentBackend::open(&data_dir.join("log"))?;
    let keys = FileKeyStore::open_in(data_dir)?;
    let recovery = backend.recovery().clone();
    let store = EventStore::new(Arc::new(backend), Arc::new(keys), Upcasters::new());
    let seconds = started.elapsed().as_secs_f64();
    let events = store.head().position;
    let closing = Instant::now();
    store.close().await?;
    drop(store);
    Ok(Opened {
        seconds,
        records_scanned: recovery.records_scanned,
        snapshot_position: recovery.snapshot_position,
        close_seconds: closing.elapsed().as_secs_f64(),
        events,
    })
}

fn median_seconds(opens: &[Opened], seconds: impl Fn(&Opened) -> f64) -> f64 {
    let mut all: Vec<f64> = opens.iter().map(seconds).collect();
    all.sort_by(f64::total_cmp);
    all[all.len() / 2]
}
