//! Group commit on PostgreSQL: appends queued while another holds the head row go into one
//! transaction together, each keeping its own expected revision, idempotency and outcome.
//!
//! Each test holds one append on the head row (`hold_next_append`), queues appends behind it
//! one at a time (so their queue order is known) and then lets it commit: whichever appender
//! is granted the row next takes the whole queue.

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{Hold, PostgresBackend, Schema, event, eventually, holdable_store, stream};
use crate::postgres_backend::MAX_GROUP_EVENTS;
use crate::{AppendOutcome, Error, EventStore, ExpectedRevision, NewEvent, Result, StreamName, verify_chain};
use std::time::Duration;

type Append = (StreamName, ExpectedRevision, Vec<NewEvent>);

/// A held append's grip: told once it holds the head row, and what releases it.
struct Held {
    task: JoinHandle<Result<AppendOutcome>>,
    release: oneshot::Sender<bool>,
}

/// Makes the next group stop just before its commit and waits until it does.
async fn hold_next(backend: &PostgresBackend) -> (oneshot::Receiver<()>, oneshot::Sender<bool>) {
    let (holding_tx, holding) = oneshot::channel();
    let (release, release_rx) = oneshot::channel();
    backend.hold_next_append(Hold { holding: holding_tx, release: release_rx });
    (holding, release)
}

/// Appends one event to `held-1` and holds it on the head row, just before its commit.
async fn hold_an_append(store: &EventStore, backend: &PostgresBackend) -> Held {
    let (holding, release) = hold_next(backend).await;
    let task = {
        let store = store.clone();
        tokio::spawn(async move { store.append(&stream("held-1"), ExpectedRevision::Any, vec![event(1_000)]).await })
    };
    tokio::time::timeout(Duration::from_secs(10), holding).await.expect("the append reaches its hold").unwrap();
    Held { task, release }
}

/// Queues `appends` in order behind the held one: each joins the queue before the next starts.
async fn queue_behind(
    store: &EventStore,
    backend: &PostgresBackend,
    appends: Vec<Append>,
) -> Vec<JoinHandle<Result<AppendOutcome>>> {
    let mut tasks = Vec::new();
    for (n, (stream, expected, events)) in appends.into_iter().enumerate() {
        let store = store.clone();
        tasks.push(tokio::spawn(async move { store.append(&stream, expected, events).await }));
        eventually(Duration::from_secs(10), "the append joining the queue", || async { backend.queued() == n + 1 })
            .await;
    }
    tasks
}

async fn outcomes(tasks: Vec<JoinHandle<Result<AppendOutcome>>>) -> Vec<Result<AppendOutcome>> {
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes
            .push(tokio::time::timeout(Duration::from_secs(20), task).await.expect("the append is answered").unwrap());
    }
    outcomes
}

fn appended(first_position: u64, last_position: u64, next_expected_revision: u64) -> AppendOutcome {
    AppendOutcome { next_expected_revision, first_position, last_position, already_appended: false }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_appends_queued_behind_a_held_one_commit_in_one_transaction_each_with_its_own_outcome() {
    let schema = Schema::create().await;
    let (store, backend) = holdable_store(&schema).await;
    store.append(&stream("shared-1"), ExpectedRevision::NoStream, vec![event(0)]).await.unwrap();
    let before = store.stats();

    let held = hold_an_append(&store, &backend).await;
    // Distinct streams and one shared stream, interleaved; each append to the shared stream
    // expects the revision the one before it in the group leaves.
    let appends: Vec<Append> = (0..30u64)
        .map(|n| match n % 3 {
            0 => (stream("shared-1"), ExpectedRevision::Exact(n / 3), vec![event(n)]),
            _ => (stream(&format!("solo-{n}")), ExpectedRevision::NoStream, vec![event(n)]),
        })
        .collect();
    let queued = queue_behind(&store, &backend, appends).await;
    held.release.send(true).unwrap();
    assert_eq!(held.task.await.unwrap().unwrap(), appended(2, 2, 0));

    for (n, outcome) in outcomes(queued).await.into_iter().enumerate() {
        let n = n as u64;
        let revision = if n.is_multiple_of(3) { n / 3 + 1 } else { 0 };
        // Positions follow the queue order, from just after the held append.
        assert_eq!(outcome.unwrap(), appended(3 + n, 3 + n, revision), "append {n}");
    }
    let after = store.stats();
    assert_eq!(after.commits - before.commits, 2, "the held append, then one transaction for all thirty");
    assert_eq!(after.events_appended - before.events_appended, 31);
    let all = store.read_all(1, 100).await.unwrap();
    assert_eq!(all.iter().map(|e| e.position).collect::<Vec<_>>(), (1..=32).collect::<Vec<_>>());
    let shared = store.read_stream(&stream("shared-1"), 0, crate::Direction::Forwards, 100).await.unwrap();
    assert_eq!(shared.iter().map(|e| e.revision).collect::<Vec<_>>(), (0..=10).collect::<Vec<_>>());
    assert_eq!(store.head().position, 32);
    assert!(verify_chain(&store, None).await.unwrap().ok);
    store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refusals_inside_a_group_leave_the_other_appends_of_the_group_appended() {
    let schema = Schema::create().await;
    let (store, backend) = holdable_store(&schema).await;
    let before = store.stats();
    let held = hold_an_append(&store, &backend).await;

    let (first, second) = (event(1), event(2));
    let batch = vec![first.clone(), second.clone()];
    let appends: Vec<Append> = vec![
        // Accepted: positions 2 and 3, revisions 0 and 1.
        (stream("case-1"), ExpectedRevision::NoStream, batch.clone()),
        // Refused: the append before it in the group created the stream.
        (stream("case-1"), ExpectedRevision::NoStream, vec![event(3)]),
        // Accepted: it expects the revision the first append left.
        (stream("case-1"), ExpectedRevision::Exact(1), vec![event(4)]),
        // A retry of the first batch, in the same group: answered with where it lies.
        (stream("case-1"), ExpectedRevision::NoStream, batch),
        // The first batch's event id in another stream: not a retry.
        (stream("other-1"), ExpectedRevision::Any, vec![event(5).with_id(first.id)]),
        // Refused: the stream does not exist.
        (stream("empty-1"), ExpectedRevision::Exact(0), vec![event(6)]),
        // Accepted, after every refusal above.
        (stream("other-1"), ExpectedRevision::NoStream, vec![event(7)]),
    ];
    let queued = queue_behind(&store, &backend, appends).await;
    held.release.send(true).unwrap();
    held.task.await.unwrap().unwrap();

    let mut outcomes = outcomes(queued).await.into_iter();
    assert_eq!(outcomes.next().unwrap().unwrap(), appended(2, 3, 1));
    let refused = outcomes.next().unwrap();
    assert!(matches!(refused, Err(Error::WrongExpectedRevision { actual: Some(1), .. })), "{refused:?}");
    assert_eq!(outcomes.next().unwrap().unwrap(), appended(4, 4, 2));
    let retried = outcomes.next().unwrap().unwrap();
    assert_eq!(retried, AppendOutcome { already_appended: true, ..appended(2, 3, 1) });
    let conflict = outcomes.next().unwrap();
    assert!(matches!(conflict, Err(Error::IdempotencyConflict { event_id }) if event_id == first.id), "{conflict:?}");
    let missing = outcomes.next().unwrap();
    assert!(matches!(missing, Err(Error::WrongExpectedRevision { actual: None, .. })), "{missing:?}");
    assert_eq!(outcomes.next().unwrap().unwrap(), appended(5, 5, 0));

    assert_eq!(store.stats().commits - before.commits, 2, "the held append, then one transaction for the group");
    let all = store.read_all(1, 100).await.unwrap();
    let ids: Vec<_> = all.iter().map(|e| (e.position, e.stream.to_string(), e.revision)).collect();
    assert_eq!(
        ids,
        vec![
            (1, "held-1".into(), 0),
            (2, "case-1".into(), 0),
            (3, "case-1".into(), 1),
            (4, "case-1".into(), 2),
            (5, "other-1".into(), 0),
        ]
    );
    assert_eq!((all[1].id, all[2].id), (first.id, second.id));
    assert_eq!(store.stream_revision(&stream("empty-1")).await.unwrap(), None);
    assert!(verify_chain(&store, None).await.unwrap().ok);
    store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_group_whose_transaction_fails_answers_every_append_in_it_with_an_error_and_writes_none_of_it() {
    let schema = Schema::create().await;
    let (store, backend) = holdable_store(&schema).await;
    let held = hold_an_append(&store, &backend).await;
    let appends: Vec<Append> = vec![
        (stream("lost-1"), ExpectedRevision::NoStream, vec![event(1), event(2)]),
        (stream("lost-1"), ExpectedRevision::Exact(1), vec![event(3)]),
        (stream("lost-2"), ExpectedRevision::Any, vec![event(4)]),
    ];
    let queued = queue_behind(&store, &backend, appends.clone()).await;
    // The group after the held append is held too, and then rolled back.
    let (group_holding, group_release) = hold_next(&backend).await;
    held.release.send(true).unwrap();
    held.task.await.unwrap().unwrap();
    tokio::time::timeout(Duration::from_secs(10), group_holding).await.expect("the group reaches its hold").unwrap();
    group_release.send(false).unwrap();

    for outcome in outcomes(queued).await {
        assert!(matches!(outcome, Err(Error::Storage { .. })), "{outcome:?}");
    }
    assert_eq!(store.read_all(1, 100).await.unwrap().len(), 1, "nothing of the failed group is visible");
    assert_eq!(store.head().position, 1);
    assert_eq!(store.stream_revision(&stream("lost-1")).await.unwrap(), None);

    // Each retried with the same events is appended as if the group had never been tried.
    let mut position = 2;
    for (stream, expected, events) in appends {
        let count = events.len() as u64;
        let outcome = store.append(&stream, expected, events).await.unwrap();
        assert!(!outcome.already_appended);
        assert_eq!((outcome.first_position, outcome.last_position), (position, position + count - 1));
        position += count;
    }
    assert!(verify_chain(&store, None).await.unwrap().ok);
    store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_group_takes_at_most_a_thousand_events_so_three_queued_appends_of_four_hundred_commit_twice() {
    assert_eq!(MAX_GROUP_EVENTS, 1_000);
    let schema = Schema::create().await;
    let (store, backend) = holdable_store(&schema).await;
    let before = store.stats();
    let held = hold_an_append(&store, &backend).await;
    let appends: Vec<Append> = (0..3u64)
        .map(|n| (stream(&format!("bulk-{n}")), ExpectedRevision::NoStream, (0..400).map(event).collect()))
        .collect();
    let queued = queue_behind(&store, &backend, appends).await;
    held.release.send(true).unwrap();
    held.task.await.unwrap().unwrap();

    for (n, outcome) in outcomes(queued).await.into_iter().enumerate() {
        let first = 2 + 400 * n as u64;
        assert_eq!(outcome.unwrap(), appended(first, first + 399, 399));
    }
    assert_eq!(store.stats().commits - before.commits, 3, "the held append, then 800 events, then 400");
    assert_eq!(store.head().position, 1_201);
    assert!(verify_chain(&store, None).await.unwrap().ok);
    store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_caller_that_stops_waiting_does_not_stop_the_group_it_joined() {
    let schema = Schema::create().await;
    let (store, backend) = holdable_store(&schema).await;
    let held = hold_an_append(&store, &backend).await;
    let abandoned = event(1);
    let appends: Vec<Append> = vec![
        (stream("gone-1"), ExpectedRevision::NoStream, vec![abandoned.clone()]),
        (stream("stays-1"), ExpectedRevision::NoStream, vec![event(2)]),
    ];
    let mut queued = queue_behind(&store, &backend, appends).await;
    let gone = queued.remove(0);
    gone.abort();
    assert!(gone.await.unwrap_err().is_cancelled());
    held.release.send(true).unwrap();
    held.task.await.unwrap().unwrap();

    let stays = outcomes(queued).await.pop().unwrap().unwrap();
    assert_eq!(stays, appended(3, 3, 0), "the group went on, in queue order");
    // The abandoned append was in the group: like an answer lost on the way, a retry with the
    // same event id finds it appended.
    let all = store.read_all(1, 100).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[1].id, abandoned.id);
    let retried = store.append(&stream("gone-1"), ExpectedRevision::NoStream, vec![abandoned]).await.unwrap();
    assert_eq!(retried, AppendOutcome { already_appended: true, ..appended(2, 2, 0) });
    assert!(verify_chain(&store, None).await.unwrap().ok);
    store.close().await.unwrap();
}
