//! The conformance suite every backend must pass.
//!
//! Each check is a public async function over a fresh, empty [`EventStore`] built with
//! [`upcasters()`]. A backend's crate instantiates them all with
//! [`conformance_suite!`](crate::conformance_suite):
//!
//! ```ignore
//! async fn fresh_store(upcasters: Upcasters) -> (EventStore, TempDir) { … }
//! heard_eventstore::conformance_suite!(fresh_store);
//! ```

use std::collections::HashSet;
use std::sync::Arc;

use crate::error::Error;
use crate::store::EventStore;
use crate::types::{Direction, ExpectedRevision, NewEvent, Personal, StreamName, SubjectId};
use crate::upcast::Upcasters;
use crate::verify::verify_chain;
use serde_json::json;

/// Generates one `#[tokio::test]` per conformance check, each with a fresh store from
/// `$factory(upcasters) -> (EventStore, guard)`.
#[macro_export]
macro_rules! conformance_suite {
    ($factory:path) => {
        $crate::conformance_suite!(@each $factory;
            appended_events_read_back_in_order_with_gapless_revisions,
            expected_revision_is_enforced_and_a_conflict_reports_the_actual_revision,
            a_failed_batch_leaves_nothing_behind,
            a_retried_batch_succeeds_once_and_adds_nothing,
            reusing_event_ids_in_a_different_batch_is_a_conflict,
            global_positions_are_gapless_and_strictly_increasing_across_streams,
            a_stream_reads_backwards_from_its_end,
            the_global_log_and_a_category_read_from_a_position,
            a_catch_up_subscription_turns_live_without_a_gap_or_a_duplicate,
            a_category_subscription_sees_only_its_category_and_turns_live,
            a_waiting_subscription_ends_when_the_store_closes,
            seeding_a_stream_twice_appends_once,
            personal_fields_are_encrypted_at_rest_and_erasing_the_key_keeps_the_chain_valid,
            old_schema_versions_are_upcast_on_read,
            bad_stream_names_and_events_are_rejected_with_clear_errors,
            concurrent_exact_appends_to_one_stream_have_one_winner_per_revision,
            many_writers_watched_by_a_live_subscriber_give_no_gap_and_no_duplicate,
            the_hash_chain_verifies_and_links_every_event,
            every_append_and_every_commit_is_timed
        );
    };
    (@each $factory:path; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $check() {
                let (store, _guard) = $factory($crate::conformance::upcasters()).await;
                $crate::conformance::$check(&store).await;
                store.close().await.expect("the store closes cleanly");
            }
        )*
    };
}

/// The upcasters every conformance store must be built with: `Renamed` v1 → v2 renames the
/// field `old` to `new`.
pub fn upcasters() -> Upcasters {
    Upcasters::new().register("Renamed", 1, |mut data| {
        let old = data.as_object_mut().and_then(|o| o.remove("old")).ok_or("missing field old")?;
        data["new"] = old;
        Ok(data)
    })
}

fn stream(name: &str) -> StreamName {
    StreamName::new(name).expect("valid stream name")
}

fn event(n: u64) -> NewEvent {
    NewEvent::new("Tested", 1, &json!({ "n": n })).expect("serialisable")
}

fn ns(events: &[crate::RecordedEvent]) -> Vec<u64> {
    events.iter().map(|e| e.data_json().unwrap()["n"].as_u64().unwrap()).collect()
}

pub async fn appended_events_read_back_in_order_with_gapless_revisions(store: &EventStore) {
    let s = stream("order-1");
    let outcome = store.append(&s, ExpectedRevision::NoStream, vec![event(0), event(1), event(2)]).await.unwrap();
    assert_eq!(outcome.next_expected_revision, 2);
    assert_eq!(outcome.last_position - outcome.first_position, 2);
    store.append(&s, ExpectedRevision::Exact(2), vec![event(3)]).await.unwrap();
    let read = store.read_stream(&s, 0, Direction::Forwards, 100).await.unwrap();
    assert_eq!(read.iter().map(|e| e.revision).collect::<Vec<_>>(), vec![0, 1, 2, 3]);
    assert_eq!(ns(&read), vec![0, 1, 2, 3]);
    assert_eq!(store.stream_revision(&s).await.unwrap(), Some(3));
    let from_two = store.read_stream(&s, 2, Direction::Forwards, 1).await.unwrap();
    assert_eq!(from_two.len(), 1);
    assert_eq!(from_two[0].revision, 2);
    assert_eq!(store.stream_revision(&stream("order-2")).await.unwrap(), None);
    assert!(store.read_stream(&stream("order-2"), 0, Direction::Forwards, 10).await.unwrap().is_empty());
}

pub async fn expected_revision_is_enforced_and_a_conflict_reports_the_actual_revision(store: &EventStore) {
    let s = stream("expect-1");
    let err = store.append(&s, ExpectedRevision::StreamExists, vec![event(0)]).await.unwrap_err();
    assert!(matches!(err, Error::WrongExpectedRevision { actual: None, .. }), "{err}");
    let err = store.append(&s, ExpectedRevision::Exact(0), vec![event(0)]).await.unwrap_err();
    assert!(matches!(err, Error::WrongExpectedRevision { actual: None, .. }), "{err}");
    store.append(&s, ExpectedRevision::NoStream, vec![event(0), event(1)]).await.unwrap();
    let err = store.append(&s, ExpectedRevision::NoStream, vec![event(2)]).await.unwrap_err();
    assert!(matches!(err, Error::WrongExpectedRevision { actual: Some(1), .. }), "{err}");
    let err = store.append(&s, ExpectedRevision::Exact(0), vec![event(2)]).await.unwrap_err();
    assert!(matches!(err, Error::WrongExpectedRevision { actual: Some(1), .. }), "{err}");
    assert!(err.to_string().contains("actual 1"), "the message names the actual revision: {err}");
    store.append(&s, ExpectedRevision::StreamExists, vec![event(2)]).await.unwrap();
    store.append(&s, ExpectedRevision::Exact(2), vec![event(3)]).await.unwrap();
    store.append(&s, ExpectedRevision::Any, vec![event(4)]).await.unwrap();
    assert_eq!(store.stream_revision(&s).await.unwrap(), Some(4));
}

pub async fn a_failed_batch_leaves_nothing_behind(store: &EventStore) {
    let s = stream("atomic-1");
    store.append(&s, ExpectedRevision::NoStream, vec![event(0)]).await.unwrap();
    let head = store.head();
    let err = store.append(&s, ExpectedRevision::Exact(7), vec![event(1), event(2), event(3)]).await;
    assert!(err.is_err());
    let duplicate = event(9);
    let err = store.append(&s, ExpectedRevision::Any, vec![duplicate.clone(), duplicate]).await.unwrap_err();
    assert!(matches!(err, Error::InvalidEvent { .. }), "{err}");
    let err = store.append(&s, ExpectedRevision::Any, vec![]).await.unwrap_err();
    assert!(matches!(err, Error::InvalidEvent { .. }), "{err}");
    assert_eq!(store.head(), head);
    assert_eq!(store.read_stream(&s, 0, Direction::Forwards, 10).await.unwrap().len(), 1);
    assert_eq!(store.read_all(1, 100).await.unwrap().len() as u64, head.position);
}

pub async fn a_retried_batch_succeeds_once_and_adds_nothing(store: &EventStore) {
    let s = stream("retry-1");
    let batch = vec![event(0), event(1)];
    let first = store.append(&s, ExpectedRevision::NoStream, batch.clone()).await.unwrap();
    assert!(!first.already_appended);
    let head = store.head();
    let retry = store.append(&s, ExpectedRevision::NoStream, batch.clone()).await.unwrap();
    assert!(retry.already_appended);
    assert_eq!(retry.first_position, first.first_position);
    assert_eq!(retry.last_position, first.last_position);
    assert_eq!(retry.next_expected_revision, 1);
    assert_eq!(store.head(), head);
    store.append(&s, ExpectedRevision::Exact(1), vec![event(2)]).await.unwrap();
    // A late retry still succeeds after other events followed.
    let late = store.append(&s, ExpectedRevision::NoStream, batch).await.unwrap();
    assert!(late.already_appended);
    assert_eq!(ns(&store.read_stream(&s, 0, Direction::Forwards, 10).await.unwrap()), vec![0, 1, 2]);
}

pub async fn reusing_event_ids_in_a_different_batch_is_a_conflict(store: &EventStore) {
    let s = stream("reuse-1");
    let a = event(0);
    let b = event(1);
    store.append(&s, ExpectedRevision::Any, vec![a.clone()]).await.unwrap();
    let head = store.head();
    let err = store.append(&s, ExpectedRevision::Any, vec![a.clone(), b]).await.unwrap_err();
    assert!(matches!(err, Error::IdempotencyConflict { event_id } if event_id != a.id), "{err}");
    let err = store.append(&stream("reuse-2"), ExpectedRevision::Any, vec![a.clone()]).await.unwrap_err();
    assert!(matches!(err, Error::IdempotencyConflict { event_id } if event_id == a.id), "{err}");
    assert_eq!(store.head(), head);
}

pub async fn global_positions_are_gapless_and_strictly_increasing_across_streams(store: &EventStore) {
    for i in 0..30u64 {
        let s = stream(&format!("gapless-{}", i % 4));
        store.append(&s, ExpectedRevision::Any, vec![event(i), event(i + 100)]).await.unwrap();
    }
    let all = store.read_all(1, 1000).await.unwrap();
    assert_eq!(all.len(), 60);
    for (index, e) in all.iter().enumerate() {
        assert_eq!(e.position, index as u64 + 1);
    }
    assert_eq!(store.head().position, 60);
    assert_eq!(store.head().hash, all[59].hash);
}

pub async fn a_stream_reads_backwards_from_its_end(store: &EventStore) {
    let s = stream("back-1");
    store.append(&s, ExpectedRevision::Any, (0..5).map(event).collect()).await.unwrap();
    store.append(&stream("back-10"), ExpectedRevision::Any, vec![event(99)]).await.unwrap();
    let all = store.read_stream(&s, u64::MAX, Direction::Backwards, 100).await.unwrap();
    assert_eq!(ns(&all), vec![4, 3, 2, 1, 0]);
    let two = store.read_stream(&s, 3, Direction::Backwards, 2).await.unwrap();
    assert_eq!(ns(&two), vec![3, 2]);
    let forwards = store.read_stream(&s, 0, Direction::Forwards, 100).await.unwrap();
    assert_eq!(forwards.len(), 5, "a stream whose name prefixes another's reads only its own events");
}

pub async fn the_global_log_and_a_category_read_from_a_position(store: &EventStore) {
    for i in 0..10u64 {
        let category = if i % 2 == 0 { "even" } else { "odd" };
        store.append(&stream(&format!("{category}-{i}")), ExpectedRevision::Any, vec![event(i)]).await.unwrap();
    }
    let from_five = store.read_all(5, 3).await.unwrap();
    assert_eq!(from_five.iter().map(|e| e.position).collect::<Vec<_>>(), vec![5, 6, 7]);
    let even = store.read_category("even", 1, 100).await.unwrap();
    assert_eq!(ns(&even), vec![0, 2, 4, 6, 8]);
    let odd_later = store.read_category("odd", 5, 100).await.unwrap();
    assert_eq!(ns(&odd_later), vec![5, 7, 9]);
    assert!(store.read_category("none", 1, 100).await.unwrap().is_empty());
    assert!(store.read_all(11, 10).await.unwrap().is_empty());
}

pub async fn a_catch_up_subscription_turns_live_without_a_gap_or_a_duplicate(store: &EventStore) {
    let s = stream("sub-1");
    store.append(&s, ExpectedRevision::Any, (0..50).map(event).collect()).await.unwrap();
    let mut subscription = store.subscribe_all(1);
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for i in 50..150 {
                store.append(&stream("sub-1"), ExpectedRevision::Any, vec![event(i)]).await.unwrap();
            }
        })
    };
    for expected in 1..=150u64 {
        let e = tokio::time::timeout(std::time::Duration::from_secs(20), subscription.next())
            .await
            .expect("the subscription delivers within 20 s")
            .unwrap();
        assert_eq!(e.position, expected);
    }
    writer.await.unwrap();
    let mut from_middle = store.subscribe_all(100);
    assert_eq!(from_middle.next().await.unwrap().position, 100);
}

pub async fn a_category_subscription_sees_only_its_category_and_turns_live(store: &EventStore) {
    store.append(&stream("wanted-1"), ExpectedRevision::Any, vec![event(0)]).await.unwrap();
    store.append(&stream("other-1"), ExpectedRevision::Any, vec![event(1)]).await.unwrap();
    let mut subscription = store.subscribe_category("wanted", 1).unwrap();
    assert_eq!(ns(&[subscription.next().await.unwrap()]), vec![0]);
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for i in 2..40u64 {
                let category = if i % 2 == 0 { "wanted" } else { "other" };
                store.append(&stream(&format!("{category}-1")), ExpectedRevision::Any, vec![event(i)]).await.unwrap();
            }
        })
    };
    for expected in (2..40).step_by(2) {
        let e = tokio::time::timeout(std::time::Duration::from_secs(20), subscription.next()).await.unwrap().unwrap();
        assert_eq!(e.stream.category(), "wanted");
        assert_eq!(ns(&[e]), vec![expected]);
    }
    writer.await.unwrap();
}

pub async fn a_waiting_subscription_ends_when_the_store_closes(store: &EventStore) {
    let mut subscription = store.subscribe_all(1);
    let waiting = tokio::spawn(async move { subscription.next_batch(10).await });
    tokio::task::yield_now().await;
    store.close().await.unwrap();
    let ended = tokio::time::timeout(std::time::Duration::from_secs(5), waiting).await;
    assert!(matches!(ended, Ok(Ok(Err(Error::Closed)))), "the subscription did not end: {ended:?}");
}

pub async fn seeding_a_stream_twice_appends_once(store: &EventStore) {
    let stream = StreamName::new("hub-arun").unwrap();
    let event = || NewEvent::new("HubAdded", 1, &json!({ "hub": "arun" })).unwrap();
    assert!(store.seed(&stream, event()).await.unwrap(), "the first seed appends");
    assert!(!store.seed(&stream, event()).await.unwrap(), "the second adds nothing");
    assert_eq!(store.stream_revision(&stream).await.unwrap(), Some(0));
}

pub async fn personal_fields_are_encrypted_at_rest_and_erasing_the_key_keeps_the_chain_valid(store: &EventStore) {
    let person = SubjectId::new();
    let s = stream("case-1");
    let secret = "Jordan Example, 12 Hypothetical Road";
    let e = NewEvent::new("CaseReferred", 1, &json!({ "domain": "housing" }))
        .unwrap()
        .with_personal(person, &json!({ "name": secret }))
        .unwrap();
    store.append(&s, ExpectedRevision::NoStream, vec![e]).await.unwrap();
    store.append(&stream("other-1"), ExpectedRevision::Any, vec![event(1)]).await.unwrap();

    let read = store.read_stream(&s, 0, Direction::Forwards, 1).await.unwrap();
    let fields: serde_json::Value = read[0].personal_fields().unwrap().unwrap();
    assert_eq!(fields["name"], secret);

    let raw = store.read_all_raw(1, 1).await.unwrap();
    let Personal::Sealed(sealed) = &raw[0].personal else { panic!("raw reads see ciphertext") };
    assert!(!String::from_utf8_lossy(&sealed.ciphertext).contains("Jordan"));
    assert!(!String::from_utf8_lossy(&raw[0].data).contains("Jordan"));

    assert!(store.forget_subject(person).unwrap());
    let read = store.read_stream(&s, 0, Direction::Forwards, 1).await.unwrap();
    assert_eq!(read[0].personal, Personal::Erased { subject: person });
    assert_eq!(read[0].data_json().unwrap()["domain"], "housing", "non-personal data survives erasure");
    let report = verify_chain(store, None).await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.events, 2);
}

pub async fn old_schema_versions_are_upcast_on_read(store: &EventStore) {
    let s = stream("upcast-1");
    let old = NewEvent::new("Renamed", 1, &json!({ "old": "value" })).unwrap();
    let current = NewEvent::new("Renamed", 2, &json!({ "new": "other" })).unwrap();
    store.append(&s, ExpectedRevision::Any, vec![old, current]).await.unwrap();
    let read = store.read_stream(&s, 0, Direction::Forwards, 10).await.unwrap();
    assert_eq!(read[0].schema_version, 2);
    assert_eq!(read[0].data_json().unwrap(), json!({ "new": "value" }));
    assert_eq!(read[1].data_json().unwrap(), json!({ "new": "other" }));
    let raw = store.read_all_raw(1, 1).await.unwrap();
    assert_eq!(raw[0].schema_version, 1, "the log itself is never rewritten");
    assert!(verify_chain(store, None).await.unwrap().ok);
}

pub async fn bad_stream_names_and_events_are_rejected_with_clear_errors(store: &EventStore) {
    for bad in ["", "nodash", "-id", "1abc-x", "cat-", "cat-has space", "ca t-x", "cat-\u{e9}"] {
        let err = StreamName::new(bad).unwrap_err();
        assert!(matches!(err, Error::InvalidStreamName { .. }), "{bad:?}: {err}");
    }
    assert!(StreamName::new("a".repeat(201)).is_err());
    let good = StreamName::new("feedback-0193e0a4-7c1d").unwrap();
    assert_eq!(good.category(), "feedback");
    assert_eq!(good.id(), "0193e0a4-7c1d");
    let bad_type = NewEvent::new("has space", 1, &json!({})).unwrap();
    let err = store.append(&stream("valid-1"), ExpectedRevision::Any, vec![bad_type]).await.unwrap_err();
    assert!(matches!(err, Error::InvalidEvent { .. }), "{err}");
    let huge = NewEvent::new("Huge", 1, &json!({ "x": "y".repeat(crate::store::MAX_EVENT_BYTES) })).unwrap();
    let err = store.append(&stream("valid-1"), ExpectedRevision::Any, vec![huge]).await.unwrap_err();
    assert!(matches!(err, Error::InvalidEvent { .. }), "{err}");
    assert!(store.read_category("not valid", 1, 1).await.is_err());
    assert_eq!(store.head().position, 0);
}

pub async fn concurrent_exact_appends_to_one_stream_have_one_winner_per_revision(store: &EventStore) {
    let s = stream("race-1");
    store.append(&s, ExpectedRevision::NoStream, vec![event(0)]).await.unwrap();
    let wins = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for task in 0..16u64 {
        let store = store.clone();
        let wins = wins.clone();
        tasks.push(tokio::spawn(async move {
            let s = stream("race-1");
            for attempt in 0..40u64 {
                let current = store.stream_revision(&s).await.unwrap().unwrap();
                let n = 1000 * (task + 1) + attempt;
                match store.append(&s, ExpectedRevision::Exact(current), vec![event(n)]).await {
                    Ok(outcome) => wins.lock().unwrap().push((outcome.next_expected_revision, n)),
                    Err(Error::WrongExpectedRevision { actual: Some(actual), .. }) => assert!(actual > current),
                    Err(other) => panic!("unexpected error {other}"),
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let mut wins = wins.lock().unwrap().clone();
    wins.sort();
    let revisions: Vec<u64> = wins.iter().map(|(revision, _)| *revision).collect();
    let expected: Vec<u64> = (1..=revisions.len() as u64).collect();
    assert_eq!(revisions, expected, "exactly one winner per revision, no gaps");
    let read = store.read_stream_to_end(&s).await.unwrap();
    assert_eq!(read.len(), wins.len() + 1);
    for (revision, n) in wins {
        assert_eq!(ns(&read[revision as usize..=revision as usize]), vec![n], "the winner's event is stored");
    }
}

pub async fn many_writers_watched_by_a_live_subscriber_give_no_gap_and_no_duplicate(store: &EventStore) {
    const WRITERS: u64 = 16;
    const PER_WRITER: u64 = 60;
    let mut subscription = store.subscribe_all(1);
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let s = stream(&format!("writer-{writer}"));
            for i in 0..PER_WRITER {
                store.append(&s, ExpectedRevision::Any, vec![event(writer * 1000 + i)]).await.unwrap();
            }
        }));
    }
    let mut seen = HashSet::new();
    let mut per_stream_last: std::collections::HashMap<String, u64> = Default::default();
    for expected in 1..=WRITERS * PER_WRITER {
        let e = tokio::time::timeout(std::time::Duration::from_secs(30), subscription.next())
            .await
            .expect("live delivery keeps up")
            .unwrap();
        assert_eq!(e.position, expected, "no gap, no duplicate");
        assert!(seen.insert(e.id));
        let last = per_stream_last.insert(e.stream.to_string(), e.revision);
        assert_eq!(last.map_or(0, |l| l + 1), e.revision, "stream order is kept");
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert!(store.stats().commits <= WRITERS * PER_WRITER);
}

pub async fn the_hash_chain_verifies_and_links_every_event(store: &EventStore) {
    let empty = verify_chain(store, None).await.unwrap();
    assert!(empty.ok);
    assert_eq!(empty.events, 0);
    for i in 0..20u64 {
        store.append(&stream(&format!("chain-{}", i % 3)), ExpectedRevision::Any, vec![event(i)]).await.unwrap();
    }
    let all = store.read_all_raw(1, 100).await.unwrap();
    assert_eq!(all[0].prev_hash, [0; 32]);
    for pair in all.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }
    let report = verify_chain(store, None).await.unwrap();
    assert!(report.ok);
    assert_eq!(report.events, 20);
    assert_eq!(report.head, hex::encode(store.head().hash));
    let partial = verify_chain(store, Some(10)).await.unwrap();
    assert!(partial.ok);
    assert_eq!(partial.head, hex::encode(all[9].hash));
    let beyond = verify_chain(store, Some(21)).await.unwrap();
    assert!(!beyond.ok);
}

/// `/metrics` reads how long appends and commits take from [`EventStore::stats`]: every
/// acknowledged append is timed once, every durable commit once, and a refused append not at all.
pub async fn every_append_and_every_commit_is_timed(store: &EventStore) {
    let before = store.stats();
    for i in 0..5u64 {
        store.append(&stream("timed-1"), ExpectedRevision::Any, vec![event(i)]).await.unwrap();
    }
    let refused = store.append(&stream("timed-1"), ExpectedRevision::NoStream, vec![event(99)]).await;
    assert!(matches!(refused, Err(Error::WrongExpectedRevision { .. })), "{refused:?}");
    let stats = store.stats();
    assert_eq!(stats.append_seconds.count() - before.append_seconds.count(), 5, "{stats:?}");
    let commits = stats.commits - before.commits;
    assert!(commits >= 1, "{stats:?}");
    assert_eq!(stats.commit_seconds.count() - before.commit_seconds.count(), commits, "one timing a commit");
    assert!(stats.append_seconds.sum_micros > 0, "appends take some time: {stats:?}");
    let last = stats.append_seconds.cumulative().last().unwrap();
    assert_eq!(last, (None, stats.append_seconds.count()), "+Inf holds every append");
}
