//! The index snapshot: used when it describes the log on disk, a full scan when it does not,
//! and the same index either way.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use uuid::Uuid;

use super::snapshot::{self, FILE_NAME};
use super::{FullScanReason, Location, SegmentBackend};
use crate::backend::Backend;
use crate::record::PreparedEvent;
use crate::types::{ExpectedRevision, Head, StreamName};

/// Small segments, so that a few dozen events spread over several files.
const SEGMENT_BYTES: u64 = 2048;

fn event(n: u64) -> PreparedEvent {
    PreparedEvent {
        id: Uuid::new_v4(),
        event_type: "Tested".into(),
        schema_version: 1,
        metadata: b"{}".to_vec(),
        data: format!(r#"{{"n":{n}}}"#).into_bytes(),
        sealed: None,
    }
}

fn log_dir(dir: &Path) -> PathBuf {
    dir.join("log")
}

fn open(dir: &Path) -> SegmentBackend {
    SegmentBackend::open_with_segment_size(&log_dir(dir), SEGMENT_BYTES).unwrap()
}

/// Appends `events` events spread over streams of two categories.
async fn append(backend: &SegmentBackend, events: u64) {
    for n in 0..events {
        let category = if n % 3 == 0 { "alpha" } else { "beta" };
        let stream = StreamName::new(format!("{category}-{}", n % 7)).unwrap();
        Backend::append(backend, &stream, ExpectedRevision::Any, vec![event(n)], None).await.unwrap();
    }
}

async fn close(backend: SegmentBackend) {
    Backend::close(&backend).await.unwrap();
    drop(backend);
}

/// Everything the index holds, in a form that compares.
#[derive(Debug, PartialEq)]
struct IndexView {
    head: Head,
    segments: usize,
    locations: Vec<Location>,
    event_ids: Vec<Uuid>,
    stream_names: Vec<String>,
    stream_ids: BTreeMap<String, u32>,
    streams: Vec<Vec<u64>>,
    categories: BTreeMap<String, Vec<u64>>,
    ids: BTreeMap<Uuid, u64>,
}

fn view(backend: &SegmentBackend) -> IndexView {
    let index = backend.read_index().unwrap();
    IndexView {
        head: Backend::head(backend),
        segments: index.segments.len(),
        locations: index.locations.clone(),
        event_ids: index.event_ids.clone(),
        stream_names: index.stream_names.iter().map(ToString::to_string).collect(),
        stream_ids: index.stream_ids.iter().map(|(name, id)| (name.to_string(), *id)).collect(),
        streams: index.streams.clone(),
        categories: index.categories.iter().map(|(name, positions)| (name.clone(), positions.clone())).collect(),
        ids: index.ids.iter().map(|(id, position)| (*id, *position)).collect(),
    }
}

/// The index a full scan of the log in `dir` gives, with no snapshot to start from.
async fn full_scan_view(dir: &Path) -> IndexView {
    std::fs::remove_file(log_dir(dir).join(FILE_NAME)).unwrap();
    let backend = open(dir);
    assert_eq!(backend.recovery().full_scan_reason, Some(FullScanReason::Missing));
    let view = view(&backend);
    close(backend).await;
    view
}

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut segments: Vec<PathBuf> = std::fs::read_dir(log_dir(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    segments.sort();
    segments
}

fn rewrite_snapshot(dir: &Path, change: impl FnOnce(&mut Vec<u8>)) {
    let path = log_dir(dir).join(FILE_NAME);
    let mut bytes = std::fs::read(&path).unwrap();
    change(&mut bytes);
    std::fs::write(&path, bytes).unwrap();
}

/// Opens a log whose snapshot `damage` changed, expects a full scan for `reason`, and checks
/// it gives the same index and head as a full scan with no snapshot at all.
async fn falls_back_to_the_same_index(dir: &Path, reason: FullScanReason) -> IndexView {
    let backend = open(dir);
    assert_eq!(backend.recovery().snapshot_position, None);
    assert_eq!(backend.recovery().full_scan_reason, Some(reason));
    let after_fallback = view(&backend);
    assert_eq!(backend.recovery().records_scanned, after_fallback.head.position, "every record was read");
    close(backend).await;
    assert_eq!(after_fallback, full_scan_view(dir).await);
    after_fallback
}

#[tokio::test]
async fn reopening_after_a_clean_close_loads_the_index_snapshot_and_scans_no_record() {
    let dir = tempfile::tempdir().unwrap();
    let backend = open(dir.path());
    append(&backend, 30).await;
    let head = Backend::head(&backend);
    close(backend).await;

    let backend = open(dir.path());
    let recovery = backend.recovery().clone();
    assert_eq!(recovery.snapshot_position, Some(30));
    assert_eq!(recovery.full_scan_reason, None);
    assert_eq!(recovery.records_scanned, 0);
    assert_eq!(Backend::head(&backend), head);
    assert_eq!(Backend::read_all(&backend, 1, 100).await.unwrap().len(), 30);
    let stream = StreamName::new("alpha-0").unwrap();
    let outcome = Backend::append(&backend, &stream, ExpectedRevision::Any, vec![event(30)], None).await.unwrap();
    assert_eq!(outcome.last_position, 31, "the log carries on from the snapshot's head");
    let loaded = view(&backend);
    close(backend).await;
    let mut reference = full_scan_view(dir.path()).await;
    reference.head = loaded.head;
    assert_eq!(loaded, reference);
}

#[tokio::test]
async fn an_old_snapshot_is_loaded_and_only_the_events_after_it_are_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let backend = open(dir.path());
    append(&backend, 60).await;
    close(backend).await;
    let old_snapshot = std::fs::read(log_dir(dir.path()).join(FILE_NAME)).unwrap();
    let backend = open(dir.path());
    append(&backend, 25).await;
    close(backend).await;
    // As if the process had died without a clean close after the first 60 events.
    std::fs::write(log_dir(dir.path()).join(FILE_NAME), old_snapshot).unwrap();

    let backend = open(dir.path());
    assert_eq!(backend.recovery().snapshot_position, Some(60));
    assert_eq!(backend.recovery().records_scanned, 25);
    let loaded = view(&backend);
    assert_eq!(loaded.head.position, 85);
    assert!(loaded.segments > 3, "the events spread over {} segments", loaded.segments);
    close(backend).await;
    assert_eq!(loaded, full_scan_view(dir.path()).await);
}

#[tokio::test]
async fn a_corrupt_snapshot_falls_back_to_a_full_scan_with_the_same_index_and_head() {
    let dir = tempfile::tempdir().unwrap();
    let backend = open(dir.path());
    append(&backend, 40).await;
    close(backend).await;
    rewrite_snapshot(dir.path(), |bytes| {
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x01;
    });
    let index = falls_back_to_the_same_index(dir.path(), FullScanReason::Corrupt).await;
    assert_eq!(index.head.position, 40);
}

#[tokio::test]
async fn a_snapshot_cut_short_falls_back_to_a_full_scan_with_the_same_index_and_head() {
    let dir = tempfile::tempdir().unwrap();
    let backend = open(dir.path());
    append(&backend, 40).await;
    close(backend).await;
    rewrite_snapshot(dir.path(), |bytes| bytes.truncate(bytes.len() / 3));
    let index = falls_back_to_the_same_index(dir.path(), FullScanReason::Corrupt).await;
    assert_eq!(index.head.position, 40);
}

#[tokio::test]
async fn a_snapshot_of_another_version_falls_back_to_a_full_scan_with_the_same_index_and_head() {
    let dir = tempfile::tempdir().unwrap();
    let backend = open(dir.path());
    append(&backend, 40).await;
    close(backend).await;
    rewrite_snapshot(dir.path(), |bytes| bytes[8..12].copy_from_slice(&(snapshot::VERSION + 1).to_be_bytes()));
    let index = falls_back_to_the_same_index(dir.path(), FullScanReason::WrongVersion).await;
    assert_eq!(index.head.position, 40);
}

#[tokio::test]
async fn a_snapshot_ahead_of_a_log_restored_from_an_older_copy_falls_back_to_a_full_scan() {
    let dir = tempfile::tempdir().unwrap();
    let copy = tempfile::tempdir().unwrap();
    let backend = open(dir.path());
    append(&backend, 40).await;
    close(backend).await;
    for segment in segment_files(dir.path()) {
        std::fs::copy(&segment, copy.path().join(segment.file_name().unwrap())).unwrap();
    }
    let backend = open(dir.path());
    append(&backend, 40).await;
    close(backend).await;
    // The segments go back to the first 40 events; the snapshot still says 80.
    for segment in segment_files(dir.path()) {
        std::fs::remove_file(segment).unwrap();
    }
    for segment in std::fs::read_dir(copy.path()).unwrap() {
        let segment = segment.unwrap().path();
        std::fs::copy(&segment, log_dir(dir.path()).join(segment.file_name().unwrap())).unwrap();
    }
    let index = falls_back_to_the_same_index(dir.path(), FullScanReason::AheadOfTheLog).await;
    assert_eq!(index.head.position, 40, "nothing the snapshot remembers beyond the log appears");
}

#[tokio::test]
async fn a_snapshot_ahead_of_a_log_cut_short_falls_back_and_the_cut_is_set_aside_as_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let backend = open(dir.path());
    append(&backend, 40).await;
    close(backend).await;
    let last = segment_files(dir.path()).pop().unwrap();
    let len = std::fs::metadata(&last).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&last).unwrap().set_len(len - 10).unwrap();

    let index = falls_back_to_the_same_index(dir.path(), FullScanReason::AheadOfTheLog).await;
    assert_eq!(index.head.position, 39, "the cut-short last event is not part of the log");
    let torn = std::fs::read_dir(log_dir(dir.path()))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("torn-40-"))
        .count();
    assert_eq!(torn, 1);
}

#[tokio::test]
async fn a_snapshot_ahead_of_a_log_missing_its_last_segment_falls_back_to_a_full_scan() {
    let dir = tempfile::tempdir().unwrap();
    let backend = open(dir.path());
    append(&backend, 40).await;
    close(backend).await;
    let mut segments = segment_files(dir.path());
    assert!(segments.len() > 2);
    let last = segments.pop().unwrap();
    let remaining_len = std::fs::metadata(segments.last().unwrap()).unwrap().len();
    std::fs::remove_file(last).unwrap();

    let index = falls_back_to_the_same_index(dir.path(), FullScanReason::AheadOfTheLog).await;
    assert!(index.head.position < 40);
    let last_location = index.locations.last().unwrap();
    assert_eq!(last_location.offset + u64::from(last_location.len), remaining_len);
}

#[tokio::test]
async fn a_snapshot_whose_last_event_was_damaged_since_is_distrusted_and_the_damage_cut_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let backend = open(dir.path());
    append(&backend, 20).await;
    close(backend).await;
    let last = segment_files(dir.path()).pop().unwrap();
    let mut bytes = std::fs::read(&last).unwrap();
    let end = bytes.len();
    bytes[end - 40] ^= 0xff;
    std::fs::write(&last, bytes).unwrap();

    let index = falls_back_to_the_same_index(dir.path(), FullScanReason::DisagreesWithTheLog).await;
    assert_eq!(index.head.position, 19, "a last record that fails its hash is cut, snapshot or not");
}

#[tokio::test]
async fn a_write_cut_short_after_the_snapshot_is_set_aside_as_it_is_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let backend = open(dir.path());
    append(&backend, 20).await;
    let head = Backend::head(&backend);
    close(backend).await;
    let last = segment_files(dir.path()).pop().unwrap();
    let mut bytes = std::fs::read(&last).unwrap();
    bytes.extend_from_slice(&1000u32.to_be_bytes());
    bytes.extend_from_slice(b"partial");
    std::fs::write(&last, bytes).unwrap();

    let backend = open(dir.path());
    assert_eq!(backend.recovery().snapshot_position, Some(20));
    assert_eq!(backend.recovery().records_scanned, 0);
    assert_eq!(Backend::head(&backend), head);
    let torn = std::fs::read_dir(log_dir(dir.path()))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("torn-21-"))
        .count();
    assert_eq!(torn, 1, "the cut bytes are kept aside");
    let loaded = view(&backend);
    close(backend).await;
    assert_eq!(loaded, full_scan_view(dir.path()).await);
}

#[tokio::test]
async fn a_snapshot_interrupted_by_a_crash_leaves_the_previous_one_in_use_and_no_litter() {
    let dir = tempfile::tempdir().unwrap();
    let backend = open(dir.path());
    append(&backend, 10).await;
    close(backend).await;
    let leftover = log_dir(dir.path()).join("index.snapshot.tmp-0123456789abcdef");
    std::fs::write(&leftover, b"HEARDIDX half written").unwrap();

    let backend = open(dir.path());
    assert_eq!(backend.recovery().snapshot_position, Some(10));
    assert!(!leftover.exists());
    close(backend).await;
}

#[test]
fn a_background_snapshot_waits_for_fifty_thousand_events_or_an_eighth_of_the_log() {
    assert!(!snapshot::is_due(0, 49_999));
    assert!(snapshot::is_due(0, 50_000));
    assert!(!snapshot::is_due(200_000, 249_999));
    assert!(snapshot::is_due(200_000, 250_000));
    assert!(!snapshot::is_due(800_000, 899_999));
    assert!(snapshot::is_due(800_000, 900_000));
}
