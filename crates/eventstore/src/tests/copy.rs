//! `copy_store`: a whole store copied between backends keeps every event as recorded (and so the
//! chain head and hash), every key, and every erasure.

use std::collections::HashMap;

use serde_json::json;

use super::postgres::Schema;
use crate::copy::{contents, copy_store};
use crate::{
    Error, EventStore, ExpectedRevision, NewEvent, Personal, RecordedEvent, StreamName, SubjectId, Upcasters,
    verify_chain,
};

/// Every event of a store as recorded (personal fields sealed).
pub(super) async fn raw_log(store: &EventStore) -> Vec<RecordedEvent> {
    let mut events = Vec::new();
    loop {
        let page = store.read_all_raw(events.len() as u64 + 1, 1000).await.unwrap();
        if page.is_empty() {
            return events;
        }
        events.extend(page);
    }
}

/// Each subject with its key's bytes, or `None` once destroyed.
pub(super) fn keys_of(store: &EventStore) -> HashMap<SubjectId, Option<[u8; 32]>> {
    store.keys().all_keys().unwrap().into_iter().map(|(subject, key)| (subject, key.map(|k| *k.as_bytes()))).collect()
}

/// Two people's words over three streams, then one person erased, and a tombstone for someone
/// who never had a key.
pub(super) async fn fill(store: &EventStore) -> (SubjectId, SubjectId, SubjectId) {
    let (kept, erased, never) = (SubjectId::new(), SubjectId::new(), SubjectId::new());
    for n in 0..30u64 {
        let stream = StreamName::of("case", n % 3).unwrap();
        let subject = if n % 2 == 0 { kept } else { erased };
        let event = NewEvent::new("CaseNoted", 1, &json!({ "n": n }))
            .unwrap()
            .with_metadata(json!({ "actor": n }))
            .with_personal(subject, &json!({ "words": format!("note {n}") }))
            .unwrap();
        store.append(&stream, ExpectedRevision::Any, vec![event]).await.unwrap();
        let plain = NewEvent::new("CaseCounted", 2, &json!({ "n": n })).unwrap();
        store.append(&StreamName::of("count", n).unwrap(), ExpectedRevision::NoStream, vec![plain]).await.unwrap();
    }
    assert!(store.forget_subject(erased).unwrap());
    assert!(!store.forget_subject(never).unwrap());
    (kept, erased, never)
}

/// What a copy must keep: the raw log event for event, the head, the keys and tombstones.
pub(super) async fn assert_same(from: &EventStore, to: &EventStore) {
    let (source, copy) = (raw_log(from).await, raw_log(to).await);
    assert_eq!(source.len(), 60);
    assert_eq!(copy, source, "every event as recorded: position, stream, revision, id, type, time, data, ciphertext");
    assert_eq!(to.head(), from.head());
    let (checked_source, checked_copy) =
        (verify_chain(from, None).await.unwrap(), verify_chain(to, None).await.unwrap());
    assert!(checked_copy.ok, "{checked_copy:?}");
    assert_eq!(checked_copy, checked_source, "the same chain head and hash");
    assert_eq!(keys_of(to), keys_of(from));
}

/// What a reader sees of each person in `store`.
pub(super) async fn readable(store: &EventStore, kept: SubjectId, erased: SubjectId, never: SubjectId) {
    let events = store.read_all(1, 1000).await.unwrap();
    let words: Vec<_> = events.iter().filter_map(|e| e.personal_fields::<serde_json::Value>().unwrap()).collect();
    assert_eq!(words.len(), 15, "the kept person's words read back");
    assert!(words.contains(&json!({ "words": "note 0" })));
    let gone = events.iter().filter(|e| matches!(e.personal, Personal::Erased { subject } if subject == erased));
    assert_eq!(gone.count(), 15, "the erased person's words stay erased");
    assert!(events.iter().all(|e| !matches!(&e.personal, Personal::Plain(p) if p.subject != kept)));
    // No key comes back for an erased person, nor for the one erased before any key.
    for subject in [erased, never] {
        let more =
            NewEvent::new("CaseNoted", 1, &json!({})).unwrap().with_personal(subject, &json!({ "w": 1 })).unwrap();
        let refused = store.append(&StreamName::new("case-new").unwrap(), ExpectedRevision::Any, vec![more]).await;
        assert!(matches!(refused, Err(Error::SubjectErased)), "{refused:?}");
    }
}

#[tokio::test]
async fn a_store_copied_from_segments_to_postgresql_and_back_keeps_every_event_the_chain_head_the_keys_and_every_erasure()
 {
    let first = tempfile::tempdir().unwrap();
    let source = EventStore::open(first.path(), Upcasters::new()).unwrap();
    let (kept, erased, never) = fill(&source).await;

    let schema = Schema::create().await;
    let postgres = EventStore::open_postgres(&schema.url(), Upcasters::new()).await.unwrap();
    let mut seen = Vec::new();
    let report = copy_store(&source, &postgres, |copied, total| seen.push((copied, total))).await.unwrap();
    assert_eq!((report.events, report.keys, report.destroyed), (60, 1, 2));
    assert_eq!(report.head, source.head());
    assert_eq!(seen.last(), Some(&(60, 60)), "progress ends at the head");
    assert_same(&source, &postgres).await;

    let back = tempfile::tempdir().unwrap();
    let copy = EventStore::open(back.path(), Upcasters::new()).unwrap();
    copy_store(&postgres, &copy, |_, _| {}).await.unwrap();
    assert_same(&source, &copy).await;
    // It is on disk, not only in memory.
    copy.close().await.unwrap();
    drop(copy);
    let copy = EventStore::open(back.path(), Upcasters::new()).unwrap();
    assert_same(&source, &copy).await;

    readable(&postgres, kept, erased, never).await;
    readable(&copy, kept, erased, never).await;
    for store in [source, postgres, copy] {
        store.close().await.unwrap();
    }
}

#[tokio::test]
async fn a_copy_into_a_store_that_holds_anything_is_refused_and_adds_nothing() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let source = EventStore::open(a.path(), Upcasters::new()).unwrap();
    fill(&source).await;
    let holding_events = EventStore::open(b.path(), Upcasters::new()).unwrap();
    holding_events
        .append(&StreamName::new("x-1").unwrap(), ExpectedRevision::Any, vec![super::event(1)])
        .await
        .unwrap();
    let refused = copy_store(&source, &holding_events, |_, _| {}).await.unwrap_err();
    assert!(refused.to_string().contains("already holds 1 event(s)"), "{refused}");
    assert_eq!(contents(&holding_events).await.unwrap(), (1, 0));

    // A key alone (a person erased before any event) makes a store not empty either.
    let schema = Schema::create().await;
    let holding_a_key = EventStore::open_postgres(&schema.url(), Upcasters::new()).await.unwrap();
    holding_a_key.forget_subject(SubjectId::new()).unwrap();
    let refused = copy_store(&source, &holding_a_key, |_, _| {}).await.unwrap_err();
    assert!(refused.to_string().contains("0 event(s) and 1 key(s)"), "{refused}");
    assert_eq!(contents(&holding_a_key).await.unwrap(), (0, 1));
}

#[tokio::test]
async fn an_imported_event_that_would_not_chain_to_its_recorded_hash_is_refused_by_every_backend() {
    let a = tempfile::tempdir().unwrap();
    let source = EventStore::open(a.path(), Upcasters::new()).unwrap();
    fill(&source).await;
    let whole = raw_log(&source).await;
    let mut log = whole[..3].to_vec();
    log[2].data = br#"{"n":99}"#.to_vec();

    let b = tempfile::tempdir().unwrap();
    let schema = Schema::create().await;
    let embedded = EventStore::open(b.path(), Upcasters::new()).unwrap();
    let postgres = EventStore::open_postgres(&schema.url(), Upcasters::new()).await.unwrap();
    for store in [&embedded, &postgres] {
        let refused = store.backend().import(log.clone()).await.unwrap_err();
        assert!(matches!(refused, Error::Corrupt { position: 3, .. }), "{refused:?}");
        // An event out of place (the first of its stream, after a gap) is refused too, naming
        // where it would have gone.
        let refused = store.backend().import(whole[5..6].to_vec()).await.unwrap_err();
        assert!(refused.to_string().contains("recorded at position 6 would be copied to position"), "{refused}");
    }
    // The embedded writer takes each event on its own: the two before the bad one are there.
    assert_eq!(raw_log(&embedded).await, raw_log(&source).await[..2]);
    // PostgreSQL takes a page in one transaction: nothing of it is there.
    assert!(raw_log(&postgres).await.is_empty());
}
