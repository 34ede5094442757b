//! The segment backend on its own disk: recovery, damage, rollover, locking.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::json;

use crate::{
    Direction, Error, EventStore, ExpectedRevision, FileKeyStore, NewEvent, SegmentBackend, StreamName, Upcasters,
    verify_chain,
};

fn event(n: u64) -> NewEvent {
    NewEvent::new("Tested", 1, &json!({ "n": n })).unwrap()
}

async fn store_with(dir: &Path, events: u64) -> EventStore {
    let store = EventStore::open(dir, Upcasters::new()).unwrap();
    for n in 0..events {
        store.append(&StreamName::new("seg-1").unwrap(), ExpectedRevision::Any, vec![event(n)]).await.unwrap();
    }
    store
}

async fn close(store: EventStore) {
    store.close().await.unwrap();
    drop(store);
}

fn last_segment(dir: &Path) -> PathBuf {
    let mut segments: Vec<PathBuf> = std::fs::read_dir(dir.join("log"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    segments.sort();
    segments.pop().unwrap()
}

/// Writes `events` events to a log in `dir` and closes it, then lets `damage` change the
/// bytes of its last segment, given where the data `data` of one event starts.
async fn damage_closed_log(dir: &Path, events: u64, data: &[u8], damage: impl FnOnce(&mut [u8], usize)) {
    close(store_with(dir, events).await).await;
    let path = last_segment(dir);
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.windows(data.len()).position(|w| w == data).unwrap();
    damage(&mut bytes, at);
    std::fs::write(&path, &bytes).unwrap();
}

#[tokio::test]
async fn a_write_cut_short_at_the_end_is_set_aside_and_the_log_carries_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), 5).await;
    let head = store.head();
    close(store).await;
    // A crash in the middle of a write: a frame header promising more bytes than arrived.
    let mut bytes = std::fs::read(last_segment(dir.path())).unwrap();
    bytes.extend_from_slice(&1000u32.to_be_bytes());
    bytes.extend_from_slice(b"partial");
    std::fs::write(last_segment(dir.path()), &bytes).unwrap();

    let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
    assert_eq!(store.head(), head, "the unacknowledged partial event is not part of the log");
    let torn: Vec<_> = std::fs::read_dir(dir.path().join("log"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("torn-6-"))
        .collect();
    assert_eq!(torn.len(), 1, "the cut bytes are kept aside, not destroyed");
    let outcome =
        store.append(&StreamName::new("seg-1").unwrap(), ExpectedRevision::Exact(4), vec![event(5)]).await.unwrap();
    assert_eq!(outcome.last_position, 6);
    assert!(verify_chain(&store, None).await.unwrap().ok);
}

#[tokio::test]
async fn a_damaged_old_record_is_kept_and_reported_by_position_never_dropped() {
    let dir = tempfile::tempdir().unwrap();
    damage_closed_log(dir.path(), 5, br#"{"n":2}"#, |bytes, at| bytes[at + 5] = b'7').await;

    let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
    assert_eq!(store.head().position, 5, "nothing after the damage is lost");
    let report = verify_chain(&store, None).await.unwrap();
    assert!(!report.ok);
    assert_eq!(report.broken_at, Some(3), "{report:?}");
    assert!(verify_chain(&store, Some(2)).await.unwrap().ok);
    assert_eq!(store.read_all(4, 10).await.unwrap().len(), 2);
}

#[tokio::test]
async fn garbage_in_place_of_an_old_record_is_reported_as_corrupt_at_its_position() {
    let dir = tempfile::tempdir().unwrap();
    damage_closed_log(dir.path(), 4, br#"{"n":1}"#, |bytes, at| bytes[at - 30..at].fill(0xff)).await;
    let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
    let err = store.read_all(1, 10).await.unwrap_err();
    assert!(matches!(err, Error::Corrupt { position: 2, .. }), "{err}");
    let report = verify_chain(&store, None).await.unwrap();
    assert_eq!(report.broken_at, Some(2), "{report:?}");
}

#[tokio::test]
async fn events_spread_over_many_segments_read_back_after_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let keys = || Arc::new(FileKeyStore::open_in(dir.path()).unwrap());
    let open = || {
        let backend = SegmentBackend::open_with_segment_size(&dir.path().join("log"), 4096).unwrap();
        EventStore::new(Arc::new(backend), keys(), Upcasters::new())
    };
    let store = open();
    for n in 0..300 {
        let s = StreamName::new(format!("roll-{}", n % 3)).unwrap();
        store.append(&s, ExpectedRevision::Any, vec![event(n)]).await.unwrap();
    }
    close(store).await;
    let segments = std::fs::read_dir(dir.path().join("log")).unwrap().count();
    assert!(segments > 5, "rolled over into {segments} files");
    let store = open();
    assert_eq!(store.read_all(1, 1000).await.unwrap().len(), 300);
    let roll_1 =
        store.read_stream(&StreamName::new("roll-1").unwrap(), u64::MAX, Direction::Backwards, 1000).await.unwrap();
    assert_eq!(roll_1.len(), 100);
    assert_eq!(roll_1[0].data_json().unwrap()["n"], 298);
    assert!(verify_chain(&store, None).await.unwrap().ok);
}

#[tokio::test]
async fn a_data_directory_in_use_cannot_be_opened_a_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let _store = store_with(dir.path(), 1).await;
    let second = SegmentBackend::open(&dir.path().join("log"));
    assert!(matches!(second, Err(Error::Locked)));
}

#[tokio::test]
async fn a_missing_segment_file_stops_the_open_instead_of_hiding_the_loss() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Arc::new(FileKeyStore::open_in(dir.path()).unwrap());
    let backend = SegmentBackend::open_with_segment_size(&dir.path().join("log"), 2048).unwrap();
    let store = EventStore::new(Arc::new(backend), keys, Upcasters::new());
    for n in 0..100 {
        store.append(&StreamName::new("gone-1").unwrap(), ExpectedRevision::Any, vec![event(n)]).await.unwrap();
    }
    close(store).await;
    std::fs::remove_file(dir.path().join("log").join("00000002.seg")).unwrap();
    let reopened = SegmentBackend::open(&dir.path().join("log"));
    assert!(matches!(reopened, Err(Error::Corrupt { .. })));
}

#[tokio::test]
async fn opening_a_directory_with_the_other_backend_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    close(store_with(dir.path(), 1).await).await;
    let err = EventStore::open_embedded(dir.path(), crate::BackendKind::Sled, Upcasters::new()).unwrap_err();
    assert!(err.to_string().contains("set store.backend"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_append_is_under_the_durable_head_and_readable_even_across_segment_rolls() {
    let dir = tempfile::tempdir().unwrap();
    let keys = || Arc::new(FileKeyStore::open_in(dir.path()).unwrap());
    let open = || {
        let backend = SegmentBackend::open_with_segment_size(&dir.path().join("log"), 4096).unwrap();
        EventStore::new(Arc::new(backend), keys(), Upcasters::new())
    };
    let store = open();
    let mut writers = Vec::new();
    for w in 0..16u64 {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            let stream = StreamName::new(format!("ack-{w}")).unwrap();
            for n in 0..25 {
                let expected = if n == 0 { ExpectedRevision::NoStream } else { ExpectedRevision::Exact(n - 1) };
                let outcome = store.append(&stream, expected, vec![event(n)]).await.unwrap();
                assert!(store.head().position >= outcome.last_position, "acknowledged before the head reached it");
                let read = store.read_all(outcome.last_position, 1).await.unwrap();
                assert_eq!(read.len(), 1, "an acknowledged event is readable at once");
                assert_eq!((read[0].stream.as_str(), read[0].revision), (stream.as_str(), n));
                let back = store.read_stream(&stream, u64::MAX, Direction::Backwards, 1).await.unwrap();
                assert!(back.first().is_some_and(|e| e.revision >= n), "a backwards read starts at a durable event");
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    close(store).await;
    let segments = std::fs::read_dir(dir.path().join("log")).unwrap().count();
    assert!(segments > 5, "rolled over into {segments} files");
    let store = open();
    assert_eq!(store.read_all(1, 1000).await.unwrap().len(), 400);
    assert!(verify_chain(&store, None).await.unwrap().ok);
}

/// Lets the test hold every flush of a segment log until it opens the gate.
#[derive(Default)]
struct FlushGate {
    open: std::sync::Mutex<bool>,
    changed: std::sync::Condvar,
    waiting: std::sync::atomic::AtomicU64,
}

impl FlushGate {
    fn wrap(gate: &Arc<FlushGate>) -> crate::segment_backend::WrapFlush {
        let gate = gate.clone();
        Arc::new(move |flush: crate::writer::Flush| {
            let gate = gate.clone();
            Arc::new(move || {
                gate.waiting.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut open = gate.open.lock().unwrap();
                while !*open {
                    open = gate.changed.wait(open).unwrap();
                }
                drop(open);
                gate.waiting.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                flush()
            }) as crate::writer::Flush
        })
    }

    fn set(&self, open: bool) {
        *self.open.lock().unwrap() = open;
        self.changed.notify_all();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_of_the_segment_log_never_show_a_written_group_before_its_flush() {
    let dir = tempfile::tempdir().unwrap();
    let gate = Arc::new(FlushGate::default());
    gate.set(true);
    let backend =
        SegmentBackend::open_with_flush_wrapper(&dir.path().join("log"), 1 << 20, FlushGate::wrap(&gate)).unwrap();
    let keys = Arc::new(FileKeyStore::open_in(dir.path()).unwrap());
    let store = EventStore::new(Arc::new(backend), keys, Upcasters::new());
    let stream = StreamName::new("held-1").unwrap();
    store.append(&stream, ExpectedRevision::NoStream, vec![event(0)]).await.unwrap();

    gate.set(false);
    let pending = {
        let (store, stream) = (store.clone(), stream.clone());
        tokio::spawn(async move { store.append(&stream, ExpectedRevision::Exact(0), vec![event(1), event(2)]).await })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while gate.waiting.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        assert!(std::time::Instant::now() < deadline, "the second append's flush never began");
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    // Written and indexed, not flushed: no read shows it.
    assert_eq!(store.head().position, 1);
    assert_eq!(store.read_all(1, 10).await.unwrap().len(), 1);
    assert_eq!(store.stream_revision(&stream).await.unwrap(), Some(0));
    let last = store.read_stream(&stream, u64::MAX, Direction::Backwards, 1).await.unwrap();
    assert_eq!(last.len(), 1, "a backwards read starts at the last durable event, not at a held one");
    assert_eq!(last[0].revision, 0);
    assert_eq!(store.read_stream(&stream, 0, Direction::Forwards, 10).await.unwrap().len(), 1);
    assert_eq!(store.read_category("held", 1, 10).await.unwrap().len(), 1);
    assert!(!pending.is_finished(), "not acknowledged before its flush");

    gate.set(true);
    let outcome = pending.await.unwrap().unwrap();
    assert_eq!((outcome.first_position, outcome.last_position), (2, 3));
    assert_eq!(store.read_stream(&stream, u64::MAX, Direction::Backwards, 1).await.unwrap()[0].revision, 2);
    assert_eq!(store.read_category("held", 1, 10).await.unwrap().len(), 3);
    close(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_fdatasync_of_the_segment_log_fails_that_append_and_every_later_one_until_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let failing = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let wrap: crate::segment_backend::WrapFlush = {
        let failing = failing.clone();
        Arc::new(move |flush: crate::writer::Flush| {
            let failing = failing.clone();
            Arc::new(move || {
                if failing.load(std::sync::atomic::Ordering::SeqCst) {
                    return Err(Error::Storage { detail: "injected fdatasync failure".into() });
                }
                flush()
            }) as crate::writer::Flush
        })
    };
    let backend = SegmentBackend::open_with_flush_wrapper(&dir.path().join("log"), 1 << 20, wrap).unwrap();
    let keys = Arc::new(FileKeyStore::open_in(dir.path()).unwrap());
    let store = EventStore::new(Arc::new(backend), keys, Upcasters::new());
    let stream = StreamName::new("fail-1").unwrap();
    store.append(&stream, ExpectedRevision::Any, vec![event(0)]).await.unwrap();

    failing.store(true, std::sync::atomic::Ordering::SeqCst);
    let failed = store.append(&stream, ExpectedRevision::Any, vec![event(1)]).await;
    assert!(matches!(failed, Err(Error::Poisoned)), "{failed:?}");
    failing.store(false, std::sync::atomic::Ordering::SeqCst);
    let later = store.append(&stream, ExpectedRevision::Any, vec![event(2)]).await;
    assert!(matches!(later, Err(Error::Poisoned)), "a flush that would now succeed is not trusted: {later:?}");
    assert_eq!(store.head().position, 1, "nothing after the failure is published");
    assert_eq!(store.read_all(1, 10).await.unwrap().len(), 1);
    let _ = store.close().await;
    drop(store);

    let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
    assert!(store.head().position >= 1, "the acknowledged event is still there after a reopen");
    assert!(verify_chain(&store, None).await.unwrap().ok);
    store.append(&stream, ExpectedRevision::Any, vec![event(3)]).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_segment_is_created_only_after_the_full_one_is_synced_behind_its_last_groups() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let segments = || {
        std::fs::read_dir(&log)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "seg"))
            .count()
    };
    let gate = Arc::new(FlushGate::default());
    let backend = SegmentBackend::open_with_flush_wrapper(&log, 2048, FlushGate::wrap(&gate)).unwrap();
    let keys = Arc::new(FileKeyStore::open_in(dir.path()).unwrap());
    let store = EventStore::new(Arc::new(backend), keys, Upcasters::new());
    let stream = StreamName::new("roll-1").unwrap();
    let big = |n: u64| NewEvent::new("Tested", 1, &json!({ "n": n, "pad": "x".repeat(1200) })).unwrap();

    // The first group fills most of the segment and waits for its flush.
    let first = {
        let (store, stream) = (store.clone(), stream.clone());
        tokio::spawn(async move { store.append(&stream, ExpectedRevision::Any, vec![big(0)]).await })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while gate.waiting.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        assert!(std::time::Instant::now() < deadline, "the first flush never began");
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    // The second does not fit: the segment must be synced after the first group before the
    // next segment exists.
    let second = {
        let (store, stream) = (store.clone(), stream.clone());
        tokio::spawn(async move { store.append(&stream, ExpectedRevision::Any, vec![big(1)]).await })
    };
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        assert_eq!(segments(), 1, "no new segment while the full one may still lose its tail");
    }
    assert!(!first.is_finished() && !second.is_finished());

    gate.set(true);
    assert_eq!(first.await.unwrap().unwrap().last_position, 1);
    assert_eq!(second.await.unwrap().unwrap().last_position, 2);
    assert_eq!(segments(), 2);
    close(store).await;
}
