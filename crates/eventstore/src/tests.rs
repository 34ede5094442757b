//! The sled backend against the conformance suite, the model (`tests/model.rs`), and its own disk.

use std::path::Path;

use proptest::prelude::*;
use serde_json::json;
use tempfile::TempDir;

use crate::projection::{self, KvProjection, KvTx, Projection, ProjectionRunner, SledProjection};
use crate::{
    BackendKind, Direction, Error, EventStore, ExpectedRevision, NewEvent, RecordedEvent, Result, StreamName,
    Upcasters, verify_chain,
};

async fn fresh_store(upcasters: Upcasters) -> (EventStore, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = EventStore::open_embedded(dir.path(), BackendKind::Sled, upcasters).unwrap();
    (store, dir)
}

async fn fresh_segment_store(upcasters: Upcasters) -> (EventStore, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = EventStore::open(dir.path(), upcasters).unwrap();
    (store, dir)
}

mod sled_conformance {
    use super::fresh_store;
    crate::conformance_suite!(fresh_store);
}

mod segment_conformance {
    use super::fresh_segment_store;
    crate::conformance_suite!(fresh_segment_store);
}

mod backup;
mod copy;
mod exclusive;
mod kept;
mod keys;
mod model;
mod postgres;
mod segments;

fn event(n: u64) -> NewEvent {
    NewEvent::new("Tested", 1, &json!({ "n": n })).unwrap()
}

async fn reopen(path: &Path, store: EventStore) -> EventStore {
    store.close().await.unwrap();
    drop(store);
    EventStore::open_embedded(path, BackendKind::Sled, Upcasters::new()).unwrap()
}

#[tokio::test]
async fn sled_events_heads_and_idempotency_survive_a_reopen() {
    let (store, dir) = fresh_store(Upcasters::new()).await;
    let s = StreamName::new("keep-1").unwrap();
    let batch = vec![event(0), event(1)];
    store.append(&s, ExpectedRevision::NoStream, batch.clone()).await.unwrap();
    let head = store.head();
    let store = reopen(dir.path(), store).await;
    assert_eq!(store.head(), head);
    assert!(store.append(&s, ExpectedRevision::NoStream, batch).await.unwrap().already_appended);
    store.append(&s, ExpectedRevision::Exact(1), vec![event(2)]).await.unwrap();
    assert_eq!(store.read_stream_to_end(&s).await.unwrap().len(), 3);
    assert!(verify_chain(&store, None).await.unwrap().ok);
}

#[tokio::test]
async fn sled_data_directory_in_use_cannot_be_opened_twice() {
    let (_store, dir) = fresh_store(Upcasters::new()).await;
    let second = EventStore::open_embedded(dir.path(), BackendKind::Sled, Upcasters::new());
    assert!(matches!(second, Err(Error::Locked)), "{second:?}");
}

#[tokio::test]
async fn appends_after_close_fail_with_closed_instead_of_hanging() {
    let (store, _dir) = fresh_store(Upcasters::new()).await;
    store.close().await.unwrap();
    let err = store.append(&StreamName::new("x-1").unwrap(), ExpectedRevision::Any, vec![event(0)]).await;
    assert!(matches!(err, Err(Error::Closed)), "{err:?}");
}

#[tokio::test]
async fn sled_corrupted_bytes_are_reported_with_their_position_not_a_panic() {
    let (store, dir) = fresh_store(Upcasters::new()).await;
    for i in 0..5 {
        store.append(&StreamName::new("c-1").unwrap(), ExpectedRevision::Any, vec![event(i)]).await.unwrap();
    }
    store.close().await.unwrap();
    drop(store);
    rewrite_sled_record(dir.path(), 3, |mut bytes| {
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x01;
        bytes
    });
    let store = EventStore::open_embedded(dir.path(), BackendKind::Sled, Upcasters::new()).unwrap();
    let report = verify_chain(&store, None).await.unwrap();
    assert!(!report.ok);
    assert_eq!(report.broken_at, Some(3), "{report:?}");
    assert_eq!(report.events, 2);
    {
        // Truncated bytes: reads report the position instead of panicking.
        store.close().await.unwrap();
        drop(store);
        rewrite_sled_record(dir.path(), 4, |_| b"\x01short".to_vec());
    }
    let store = EventStore::open_embedded(dir.path(), BackendKind::Sled, Upcasters::new()).unwrap();
    let err = store.read_all(4, 1).await.unwrap_err();
    assert!(matches!(err, Error::Corrupt { position: 4, .. }), "{err}");
}

/// Replaces the stored record at `position` of the closed sled log in `dir` with what
/// `rewrite` makes of it.
fn rewrite_sled_record(dir: &Path, position: u64, rewrite: impl FnOnce(Vec<u8>) -> Vec<u8>) {
    let db = crate::sled_open::open(sled::Config::new(), &dir.join("sled-log")).unwrap();
    let tree = db.open_tree("log").unwrap();
    let mut key = vec![b'e'];
    key.extend_from_slice(&position.to_be_bytes());
    let bytes = tree.get(&key).unwrap().expect("the record is stored").to_vec();
    tree.insert(&key, rewrite(bytes)).unwrap();
    db.flush().unwrap();
}

/// Counts events per category; fails on demand to prove atomicity.
struct CountPerCategory {
    fail_at: Option<u64>,
}

impl KvProjection for CountPerCategory {
    fn name(&self) -> &str {
        "count-per-category"
    }

    fn apply(&mut self, event: &RecordedEvent, tx: &mut KvTx<'_>) -> Result<()> {
        if self.fail_at == Some(event.position) {
            return Err(Error::Storage { detail: "injected failure".into() });
        }
        let key = event.stream.category().as_bytes().to_vec();
        let count = tx.get(&key)?.map_or(0, |b| u64::from_be_bytes(b.try_into().unwrap()));
        tx.insert(key, (count + 1).to_be_bytes().to_vec());
        Ok(())
    }
}

fn count(projection: &SledProjection<CountPerCategory>, category: &str) -> u64 {
    projection.tree().get(category).unwrap().map_or(0, |b| u64::from_be_bytes(b.as_ref().try_into().unwrap()))
}

#[tokio::test]
async fn a_projection_checkpoint_commits_atomically_with_its_state() {
    let (store, dir) = fresh_store(Upcasters::new()).await;
    for i in 0..10 {
        let category = if i % 2 == 0 { "a" } else { "b" };
        store
            .append(&StreamName::new(format!("{category}-1")).unwrap(), ExpectedRevision::Any, vec![event(i)])
            .await
            .unwrap();
    }
    let db = sled::open(dir.path().join("projections")).unwrap();
    let mut failing = SledProjection::open(&db, CountPerCategory { fail_at: Some(7) }).unwrap();
    assert!(projection::rebuild(&store, &mut failing).await.is_err());
    assert_eq!(failing.checkpoint().unwrap(), 0, "a failed batch moves neither the checkpoint…");
    assert_eq!(count(&failing, "a"), 0, "…nor the state");
    drop(failing);

    let mut healthy = SledProjection::open(&db, CountPerCategory { fail_at: None }).unwrap();
    assert_eq!(projection::rebuild(&store, &mut healthy).await.unwrap(), 10);
    assert_eq!((count(&healthy, "a"), count(&healthy, "b")), (5, 5));
    assert_eq!(healthy.checkpoint().unwrap(), 10);

    // A runner resumes from the checkpoint and follows live appends.
    let runner = ProjectionRunner::spawn(store.clone(), healthy).unwrap();
    store.append(&StreamName::new("a-2").unwrap(), ExpectedRevision::Any, vec![event(10)]).await.unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), runner.wait_for(11)).await.unwrap().unwrap();
    runner.stop();
    let resumed = SledProjection::open(&db, CountPerCategory { fail_at: None }).unwrap();
    assert_eq!(count(&resumed, "a"), 6, "nothing applied twice");
    resumed.reset().unwrap();
    assert_eq!(resumed.checkpoint().unwrap(), 0);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]
    #[test]
    fn the_store_behaves_like_a_simple_in_memory_model(ops in model::ops()) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        for kind in [BackendKind::Segments, BackendKind::Sled] {
            runtime.block_on(async {
                let dir = tempfile::tempdir().unwrap();
                let store = EventStore::open_embedded(dir.path(), kind, Upcasters::new()).unwrap();
                model::behaves_like_the_model(&store, &ops).await
            })?;
        }
    }
}

#[tokio::test]
async fn personal_fields_that_fail_to_decode_give_an_error_that_quotes_none_of_them() {
    let (store, _dir) = fresh_segment_store(Upcasters::new()).await;
    let stream = StreamName::of("case", "1").unwrap();
    let event = NewEvent::new("CaseReferred", 1, &json!({}))
        .unwrap()
        .with_personal(crate::SubjectId::new(), &json!({ "name": "Sam Quartermaine", "phone": "07700 900123" }))
        .unwrap();
    store.append(&stream, ExpectedRevision::NoStream, vec![event]).await.unwrap();
    let read = store.read_stream(&stream, 0, Direction::Forwards, 1).await.unwrap();
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Drifted {
        name: u32,
    }
    let error = read[0].personal_fields::<Drifted>().unwrap_err();
    let text = format!("{error} {error:?}");
    assert!(!text.contains("Sam") && !text.contains("Quartermaine") && !text.contains("07700"), "{text}");
    assert!(matches!(error, Error::Corrupt { position: 1, .. }), "{error:?}");
}
