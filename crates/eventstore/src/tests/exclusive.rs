//! `EventStore::exclusive`: one holder of a name at a time, in one process over an embedded
//! log, and across processes (two stores over one PostgreSQL schema) with an advisory lock that
//! no pooled connection keeps once its guard is gone.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::postgres::Schema;
use crate::{EventStore, Upcasters};

/// A bound for what must happen promptly; a test that hits it failed, it does not measure.
const BOUND: Duration = Duration::from_secs(20);

/// Takes `name` on `store` `rounds` times from each of `callers` tasks, and checks that nobody
/// else is inside while one holds it. Alternate rounds release by dropping the guard.
async fn take_turns(stores: &[EventStore], name: &'static str, callers: usize, rounds: usize) {
    let inside = Arc::new(AtomicUsize::new(0));
    let entered = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for caller in 0..callers {
        let store = stores[caller % stores.len()].clone();
        let (inside, entered) = (inside.clone(), entered.clone());
        tasks.push(tokio::spawn(async move {
            for round in 0..rounds {
                let guard = store.exclusive(name).await.expect("the lock is taken");
                assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "nobody else holds {name}");
                entered.fetch_add(1, Ordering::SeqCst);
                for _ in 0..3 {
                    tokio::task::yield_now().await;
                }
                // A round trip to the store, so that others run meanwhile.
                store.refresh_head().await.unwrap();
                inside.fetch_sub(1, Ordering::SeqCst);
                if round % 2 == 0 {
                    guard.release().await;
                } else {
                    drop(guard);
                }
            }
        }));
    }
    for task in tasks {
        tokio::time::timeout(BOUND, task).await.expect("every caller gets its turns").unwrap();
    }
    assert_eq!(entered.load(Ordering::SeqCst), callers * rounds);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_an_embedded_log_one_caller_holds_a_name_at_a_time_and_other_names_stay_free() {
    let dir = tempfile::tempdir().unwrap();
    let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
    take_turns(std::slice::from_ref(&store), "test.turns", 6, 10).await;

    let held = store.exclusive("test.held").await.unwrap();
    let other = tokio::time::timeout(BOUND, store.clone().exclusive("test.other")).await;
    assert!(other.is_ok_and(|taken| taken.is_ok()), "another name is not held up by this one");
    let waiting = tokio::spawn({
        let store = store.clone();
        async move { store.exclusive("test.held").await.map(|guard| guard.name()) }
    });
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
    assert!(!waiting.is_finished(), "a second caller waits while the name is held");
    drop(held);
    let taken = tokio::time::timeout(BOUND, waiting).await.expect("it is taken once the guard drops").unwrap();
    assert_eq!(taken.unwrap(), "test.held");
}

#[tokio::test]
async fn a_name_that_is_not_a_plain_constant_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
    let refused = store.exclusive("Sam's cases").await.expect_err("refused");
    assert!(refused.to_string().contains("lock name"), "{refused}");
    assert!(!refused.to_string().contains("Sam"), "the error does not repeat the name: {refused}");
}

/// Advisory locks held (granted) and waited for by the sessions of `schema`'s stores.
async fn advisory_locks(observer: &tokio_postgres::Client, schema: &Schema) -> (i64, i64) {
    let row = observer
        .query_one(
            "SELECT count(*) FILTER (WHERE l.granted), count(*) FILTER (WHERE NOT l.granted)
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'advisory' AND a.application_name = $1",
            &[&schema.name()],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

async fn eventually_locks(observer: &tokio_postgres::Client, schema: &Schema, want: (i64, i64), what: &str) {
    super::postgres::eventually(BOUND, what, || async { advisory_locks(observer, schema).await == want }).await;
}

/// Two stores over one fresh schema, as two `heard serve` processes are, and an observer.
async fn two_processes() -> (EventStore, EventStore, tokio_postgres::Client, Schema) {
    let schema = Schema::create().await;
    let a = EventStore::open_postgres(&schema.url(), Upcasters::new()).await.unwrap();
    let b = EventStore::open_postgres(&schema.url(), Upcasters::new()).await.unwrap();
    let observer = super::postgres::observer().await;
    (a, b, observer, schema)
}

#[tokio::test]
async fn a_second_process_taking_a_held_name_waits_until_the_first_guard_drops() {
    let (a, b, observer, schema) = two_processes().await;
    let on_a = a.exclusive("test.attributing").await.unwrap();
    let waiting = tokio::spawn(async move { b.exclusive("test.attributing").await });
    eventually_locks(&observer, &schema, (1, 1), "the second process waiting on the lock").await;
    assert!(!waiting.is_finished(), "b waits while a holds the name");

    drop(on_a);
    let on_b = tokio::time::timeout(BOUND, waiting).await.expect("b takes it once a's guard drops").unwrap().unwrap();
    // a's connection went back to its pool without the lock: b's is the only one held.
    eventually_locks(&observer, &schema, (1, 0), "a's release").await;
    on_b.release().await;
    assert_eq!(advisory_locks(&observer, &schema).await, (0, 0), "released when release returns");
    // a takes it again at once, on whichever pooled connection it gets.
    let again = tokio::time::timeout(BOUND, a.exclusive("test.attributing")).await.expect("free").unwrap();
    assert_eq!(advisory_locks(&observer, &schema).await, (1, 0));
    drop(again);
    eventually_locks(&observer, &schema, (0, 0), "the dropped guard's release").await;
}

#[tokio::test]
async fn a_caller_that_gives_up_waiting_leaves_no_lock_held_behind_it() {
    let (a, b, observer, schema) = two_processes().await;
    let on_a = a.exclusive("test.abandoned").await.unwrap();
    let b_waiting = {
        let b = b.clone();
        tokio::spawn(async move { b.exclusive("test.abandoned").await })
    };
    eventually_locks(&observer, &schema, (1, 1), "b waiting on the lock").await;
    // The request on b is cancelled while PostgreSQL still waits for the lock on its behalf.
    b_waiting.abort();
    assert!(b_waiting.await.unwrap_err().is_cancelled());
    on_a.release().await;
    // The abandoned connection was closed, not returned: its session ends and holds nothing.
    eventually_locks(&observer, &schema, (0, 0), "the abandoned wait ending").await;
    let on_b = tokio::time::timeout(BOUND, b.exclusive("test.abandoned")).await.expect("b can take it").unwrap();
    let on_a_again = tokio::spawn(async move { a.exclusive("test.abandoned").await });
    eventually_locks(&observer, &schema, (1, 1), "a waiting for b now").await;
    on_b.release().await;
    tokio::time::timeout(BOUND, on_a_again).await.expect("a takes it after b").unwrap().unwrap().release().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_on_two_processes_never_hold_one_name_at_once() {
    let (a, b, observer, schema) = two_processes().await;
    take_turns(&[a, b], "test.turns", 6, 6).await;
    eventually_locks(&observer, &schema, (0, 0), "every release").await;
}

#[tokio::test]
async fn the_same_name_over_another_schema_is_another_lock() {
    let (a, _, _, _schema) = two_processes().await;
    let other_schema = Schema::create().await;
    let other = EventStore::open_postgres(&other_schema.url(), Upcasters::new()).await.unwrap();
    let _held = a.exclusive("test.shared-name").await.unwrap();
    let taken = tokio::time::timeout(BOUND, other.exclusive("test.shared-name")).await;
    assert!(taken.is_ok_and(|taken| taken.is_ok()), "another Heard in the same database is not held up");
}
