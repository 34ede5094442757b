//! New people's keys join the log's group commit: made durable once per group, before the group
//! is written, so that no event is acknowledged or read before its key would survive a crash.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::json;
use tempfile::TempDir;

use crate::crypto::SubjectKey;
use crate::{
    BackendKind, EventStore, ExpectedRevision, KeyStore, NewEvent, Personal, Result, SegmentBackend, SledBackend,
    StreamName, SubjectId, Upcasters,
};

/// A key store that models a crash: a key is only in memory until `make_durable`, and `crash`
/// forgets every key that was not made durable. Reading a key that is still only in memory is
/// recorded: it means an event was readable before its key was durable.
#[derive(Default)]
struct VolatileKeys {
    state: Mutex<KeysState>,
}

#[derive(Default)]
struct KeysState {
    /// The key and whether it is durable.
    keys: HashMap<SubjectId, (SubjectKey, bool)>,
    flushes: u64,
    read_before_durable: u64,
}

impl VolatileKeys {
    fn crash(&self) {
        self.state.lock().unwrap().keys.retain(|_, (_, durable)| *durable);
    }

    fn flushes(&self) -> u64 {
        self.state.lock().unwrap().flushes
    }

    fn read_before_durable(&self) -> u64 {
        self.state.lock().unwrap().read_before_durable
    }
}

impl KeyStore for VolatileKeys {
    fn get_or_create(&self, subject: SubjectId) -> Result<SubjectKey> {
        let mut state = self.state.lock().unwrap();
        Ok(state.keys.entry(subject).or_insert_with(|| (SubjectKey::generate(), false)).0.clone())
    }

    fn make_durable(&self) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        if state.keys.values().any(|(_, durable)| !durable) {
            state.keys.values_mut().for_each(|(_, durable)| *durable = true);
            state.flushes += 1;
        }
        Ok(())
    }

    fn get(&self, subject: SubjectId) -> Result<Option<SubjectKey>> {
        let mut state = self.state.lock().unwrap();
        let found = state.keys.get(&subject).cloned();
        if found.as_ref().is_some_and(|(_, durable)| !durable) {
            state.read_before_durable += 1;
        }
        Ok(found.map(|(key, _)| key))
    }

    fn destroy(&self, subject: SubjectId) -> Result<bool> {
        Ok(self.state.lock().unwrap().keys.remove(&subject).is_some())
    }
}

fn store_over(kind: BackendKind, keys: Arc<VolatileKeys>) -> (EventStore, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let backend: Arc<dyn crate::Backend> = match kind {
        BackendKind::Segments => Arc::new(SegmentBackend::open(&dir.path().join("log")).unwrap()),
        BackendKind::Sled => Arc::new(SledBackend::open(&dir.path().join("sled-log")).unwrap()),
        BackendKind::Postgres => unreachable!("these tests model an embedded log's crash"),
    };
    (EventStore::new(backend, keys, Upcasters::new()), dir)
}

/// Many writers each log items about new people while a live subscriber reads them; then the
/// keys that were not made durable are lost, as in a crash.
async fn every_acknowledged_personal_field_survives_a_crash_of_the_key_store(kind: BackendKind) {
    const WRITERS: u64 = 8;
    const EACH: u64 = 25;
    let keys = Arc::new(VolatileKeys::default());
    let (store, _dir) = store_over(kind, keys.clone());
    let mut subscription = store.subscribe_all(1);
    let reader = tokio::spawn(async move {
        for _ in 0..WRITERS * EACH {
            let event = subscription.next().await.unwrap();
            assert!(matches!(event.personal, Personal::Plain(_)), "a live reader sees the fields");
        }
    });
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            let stream = StreamName::new(format!("item-{writer}")).unwrap();
            for n in 0..EACH {
                let event = NewEvent::new("Logged", 1, &json!({ "n": n }))
                    .unwrap()
                    .with_personal(SubjectId::new(), &json!({ "words": format!("item {writer}.{n}") }))
                    .unwrap();
                store.append(&stream, ExpectedRevision::Any, vec![event]).await.unwrap();
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    reader.await.unwrap();
    assert_eq!(keys.read_before_durable(), 0, "no event is readable before its key is durable");

    keys.crash();
    let events = store.read_all(1, 1000).await.unwrap();
    assert_eq!(events.len() as u64, WRITERS * EACH);
    for event in &events {
        let fields: serde_json::Value = event.personal_fields().unwrap().expect("the key survived the crash");
        let expected = format!("item {}.{}", event.stream.id(), event.data_json().unwrap()["n"]);
        assert!(fields["words"] == expected.as_str(), "the fields of position {} decrypt", event.position);
    }
    store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_new_persons_key_is_durable_before_the_segment_log_acknowledges_or_shows_their_event() {
    every_acknowledged_personal_field_survives_a_crash_of_the_key_store(BackendKind::Segments).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_new_persons_key_is_durable_before_the_sled_log_acknowledges_or_shows_their_event() {
    every_acknowledged_personal_field_survives_a_crash_of_the_key_store(BackendKind::Sled).await;
}

#[tokio::test]
async fn appends_without_personal_fields_never_flush_the_key_store() {
    let keys = Arc::new(VolatileKeys::default());
    let (store, _dir) = store_over(BackendKind::Segments, keys.clone());
    keys.get_or_create(SubjectId::new()).unwrap();
    for n in 0..5 {
        let event = NewEvent::new("Logged", 1, &json!({ "n": n })).unwrap();
        store.append(&StreamName::new("plain-1").unwrap(), ExpectedRevision::Any, vec![event]).await.unwrap();
    }
    assert_eq!(keys.flushes(), 0);
    store.close().await.unwrap();
}
