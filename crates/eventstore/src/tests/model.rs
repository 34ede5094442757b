//! The store's property: any sequence of appends and retried batches leaves it holding exactly
//! what a plain in-memory model says, with the chain whole. One definition, run against every
//! backend: the embedded ones (`tests.rs`) and PostgreSQL (`tests/postgres.rs`).

use std::collections::HashMap;

use proptest::prelude::*;
use uuid::Uuid;

use super::event;
use crate::{Direction, Error, EventStore, ExpectedRevision, NewEvent, StreamName, verify_chain};

/// The model: what the store should contain, kept as plainly as possible.
#[derive(Default)]
struct Model {
    streams: HashMap<String, Vec<Uuid>>,
    log: Vec<(String, Uuid)>,
    batches: HashMap<Uuid, (String, Vec<Uuid>)>,
}

#[derive(Clone, Debug)]
pub(crate) enum Op {
    Append { stream: u8, expected: u8, exact: u8, events: u8 },
    RetryBatch { index: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..4, 0u8..4, 0u8..6, 1u8..4).prop_map(|(stream, expected, exact, events)| Op::Append { stream, expected, exact, events }),
        1 => (0usize..100).prop_map(|index| Op::RetryBatch { index }),
    ]
}

/// The operations one case runs: 1 to 39 of them.
pub(crate) fn ops() -> impl Strategy<Value = Vec<Op>> {
    proptest::collection::vec(op(), 1..40)
}

fn expectation(kind: u8, exact: u8) -> ExpectedRevision {
    match kind {
        0 => ExpectedRevision::Any,
        1 => ExpectedRevision::NoStream,
        2 => ExpectedRevision::StreamExists,
        _ => ExpectedRevision::Exact(u64::from(exact)),
    }
}

/// Runs `ops` against `store` (fresh and empty) and against the model, checking every answer,
/// then what the store holds and that its chain verifies; closes the store.
pub(crate) async fn behaves_like_the_model(store: &EventStore, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut model = Model::default();
    let mut sent: Vec<(StreamName, ExpectedRevision, Vec<NewEvent>)> = Vec::new();
    for op in ops.iter().cloned() {
        let (stream, expected, events) = match op {
            Op::Append { stream, expected, exact, events } => {
                let s = StreamName::new(format!("model-{stream}")).unwrap();
                (s, expectation(expected, exact), (0..events).map(|i| event(u64::from(i))).collect::<Vec<_>>())
            }
            Op::RetryBatch { index } => {
                if sent.is_empty() {
                    continue;
                }
                sent[index % sent.len()].clone()
            }
        };
        sent.push((stream.clone(), expected, events.clone()));
        let result = store.append(&stream, expected, events.clone()).await;
        // The model's answer.
        let ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
        let current = model.streams.get(stream.as_str()).map(|v| v.len() as u64 - 1);
        if let Some((batch_stream, batch_ids)) = model.batches.get(&ids[0]) {
            prop_assert!(batch_stream == stream.as_str() && batch_ids == &ids);
            let outcome = result.expect("a retried batch succeeds");
            prop_assert!(outcome.already_appended);
        } else if expected.accepts(current) {
            let outcome = result.expect("the model accepts this append");
            let events = model.streams.entry(stream.to_string()).or_default();
            events.extend(&ids);
            prop_assert_eq!(outcome.next_expected_revision, events.len() as u64 - 1);
            for id in &ids {
                model.log.push((stream.to_string(), *id));
            }
            prop_assert_eq!(outcome.last_position, model.log.len() as u64);
            model.batches.insert(ids[0], (stream.to_string(), ids.clone()));
        } else {
            let is_conflict = matches!(result, Err(Error::WrongExpectedRevision { actual, .. }) if actual == current);
            prop_assert!(is_conflict, "expected a conflict reporting {:?}", current);
        }
    }
    let all = store.read_all(1, 10_000).await.unwrap();
    prop_assert_eq!(all.len(), model.log.len());
    for (event, (stream, id)) in all.iter().zip(&model.log) {
        prop_assert_eq!(event.stream.as_str(), stream.as_str());
        prop_assert_eq!(event.id, *id);
    }
    for (stream, ids) in &model.streams {
        let read = store.read_stream_to_end(&StreamName::new(stream.clone()).unwrap()).await.unwrap();
        prop_assert_eq!(read.iter().map(|e| e.id).collect::<Vec<_>>(), ids.clone());
        let backwards = store
            .read_stream(&StreamName::new(stream.clone()).unwrap(), u64::MAX, Direction::Backwards, 1000)
            .await
            .unwrap();
        prop_assert_eq!(backwards.len(), ids.len());
    }
    prop_assert!(verify_chain(store, None).await.unwrap().ok);
    store.close().await.unwrap();
    Ok(())
}
