//! [`InPostgres`] against a real PostgreSQL (127.0.0.1:5432, trust auth, database `test`), two
//! stores over one fresh schema standing for two replicas. Each test's schema is dropped after.

use std::collections::BTreeSet;

use heard_eventstore::testing::TestSchema;
use heard_eventstore::{EventStore, Upcasters};

use super::*;

/// A schema of the test's own, dropped (with its sessions) when this is dropped.
struct Schema(TestSchema);

impl Schema {
    async fn create() -> Schema {
        Schema(TestSchema::create("heard_shared"))
    }

    fn url(&self) -> String {
        self.0.url()
    }

    /// A replica's shared state over this schema (migrated by opening the store).
    async fn replica(&self) -> (EventStore, InPostgres) {
        let store = EventStore::open_postgres(&self.url(), Upcasters::new())
            .await
            .expect("PostgreSQL at 127.0.0.1:5432 (trust auth, database `test`); scripts/test starts it");
        let pool = store.postgres_pool().expect("a PostgreSQL store has a pool");
        (store.clone(), InPostgres::new(store, pool))
    }

    async fn count(&self, sql: &str) -> i64 {
        let (client, connection) = tokio_postgres::connect(&self.url(), tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(connection);
        client.query_one(sql, &[]).await.unwrap().get(0)
    }
}

const POLICY: Policy =
    Policy { max_failures: 5, first_wait: Duration::from_secs(60), longest_wait: Duration::from_secs(15 * 60) };

fn attempt(email: &str, address: &str) -> Attempt {
    Attempt { email_key: email.to_owned(), address_key: address.to_owned() }
}

#[tokio::test]
async fn failed_logins_counted_on_two_replicas_at_once_are_one_run_each_number_seen_once() {
    let schema = Schema::create().await;
    let (_, a) = schema.replica().await;
    let (_, b) = schema.replica().await;
    let key = attempt("k-email", "k-address");
    let now = 1_800_000_000_000_000;
    let counted = futures::future::join_all((0..20).map(|n| {
        let replica = if n % 2 == 0 { &a } else { &b };
        replica.count_failure(&key, None, now, POLICY)
    }))
    .await;
    let seen: BTreeSet<u32> = counted.iter().map(|backoff| backoff.as_ref().unwrap().failures).collect();
    assert_eq!(seen, (1..=20).collect(), "every failure counted once, whichever replica counted it");
    let run = b.backoff(&key).await.unwrap().unwrap();
    assert_eq!(run.failures, 20);
    assert_eq!(run.until_micros, now + micros(POLICY.longest_wait), "the longest wait, no more");
    assert_eq!(a.address_failures("k-address", now - 1).await.unwrap(), 20, "the address counted 20 times");
    assert_eq!(a.address_failures("k-address", now).await.unwrap(), 0, "none after the window's start");
}

#[tokio::test]
async fn the_wait_starts_at_the_fifth_failure_doubles_and_a_success_or_an_unlock_forgets_it() {
    let schema = Schema::create().await;
    let (_, a) = schema.replica().await;
    let (_, b) = schema.replica().await;
    let now = 1_800_000_000_000_000;
    let here = attempt("email-1", "address-1");
    let elsewhere = attempt("email-1", "address-2");
    for n in 1..=4 {
        let run = a.count_failure(&here, None, now, POLICY).await.unwrap();
        assert_eq!(run, Backoff { failures: n, until_micros: 0 }, "no wait before the fifth");
    }
    let fifth = b.count_failure(&here, None, now, POLICY).await.unwrap();
    assert_eq!(fifth.until_micros, now + 60_000_000, "a minute");
    let sixth = b.count_failure(&here, None, now, POLICY).await.unwrap();
    assert_eq!(sixth.until_micros, now + 120_000_000, "then twice as long");
    b.count_failure(&elsewhere, None, now, POLICY).await.unwrap();
    assert_eq!(a.backoff(&elsewhere).await.unwrap().unwrap().failures, 1, "another address is its own run");

    a.clear(&here).await.unwrap();
    assert_eq!(b.backoff(&here).await.unwrap(), None, "a success on A is seen on B");
    assert!(b.backoff(&elsewhere).await.unwrap().is_some(), "only that address's run");
    b.count_failure(&here, None, now, POLICY).await.unwrap();
    a.unlock("email-1").await.unwrap();
    assert_eq!(schema.count("SELECT count(*) FROM heard_login_failures").await, 0, "unlock forgets every address");
}

#[tokio::test]
async fn an_email_is_reserved_for_one_account_until_it_is_released_or_taken_over_from_its_holder() {
    let schema = Schema::create().await;
    let (_, a) = schema.replica().await;
    let (_, b) = schema.replica().await;
    let (first, second, third) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    assert!(matches!(a.reserve_email("email-key", first, 10).await.unwrap(), Reservation::Held(None)));
    match b.reserve_email("email-key", second, 20).await.unwrap() {
        Reservation::HeldBy(holder) => assert_eq!(holder, Holder { account: first, since_micros: 10 }),
        Reservation::Held(_) => panic!("two accounts were given one email"),
    }
    assert!(!b.take_over_email("email-key", third, second, 30).await.unwrap(), "only from the holder");
    assert!(b.take_over_email("email-key", first, second, 30).await.unwrap());
    assert!(!a.take_over_email("email-key", first, third, 40).await.unwrap(), "taken over once");
    a.release_email("email-key", first).await.unwrap();
    assert!(matches!(a.reserve_email("email-key", third, 50).await.unwrap(), Reservation::HeldBy(_)), "not first's");
    b.release_email("email-key", second).await.unwrap();
    assert!(matches!(a.reserve_email("email-key", third, 60).await.unwrap(), Reservation::Held(None)));

    let reservations = futures::future::join_all((0..10).map(|n| {
        let replica = if n % 2 == 0 { &a } else { &b };
        replica.reserve_email("raced", Uuid::new_v4(), 70)
    }))
    .await;
    let held = reservations.iter().filter(|r| matches!(r, Ok(Reservation::Held(_)))).count();
    assert_eq!(held, 1, "ten creations at once: one holds the email");
}

#[tokio::test]
async fn forgetting_an_account_removes_its_reservation_and_its_failed_logins_and_nothing_else() {
    let schema = Schema::create().await;
    let (_, a) = schema.replica().await;
    let (gone, kept) = (Uuid::new_v4(), Uuid::new_v4());
    a.reserve_email("gone-email", gone, 1).await.unwrap();
    a.reserve_email("kept-email", kept, 1).await.unwrap();
    a.count_failure(&attempt("gone-email", "x"), Some(gone), 1, POLICY).await.unwrap();
    a.count_failure(&attempt("kept-email", "x"), Some(kept), 1, POLICY).await.unwrap();
    a.forget_account(gone).await.unwrap();
    let about_gone = format!(
        "SELECT (SELECT count(*) FROM heard_email_reservations WHERE account = '{gone}')
              + (SELECT count(*) FROM heard_login_failures WHERE account = '{gone}')"
    );
    assert_eq!(schema.count(&about_gone).await, 0);
    assert_eq!(schema.count("SELECT count(*) FROM heard_email_reservations").await, 1, "the other's stays");
    assert_eq!(schema.count("SELECT count(*) FROM heard_login_failures").await, 1);
}

#[tokio::test]
async fn the_first_replica_records_its_server_key_and_one_with_another_key_is_told_so() {
    let schema = Schema::create().await;
    let (_, a) = schema.replica().await;
    let (_, b) = schema.replica().await;
    let key = crate::secrets::Secrets::from_key([7; 32]).key_id();
    let other = crate::secrets::Secrets::from_key([8; 32]).key_id();
    assert!(a.server_key_matches(&key).await.unwrap());
    assert!(b.server_key_matches(&key).await.unwrap());
    assert!(!b.server_key_matches(&other).await.unwrap());
    assert_eq!(key.len(), 32, "a name of the key, not the key");
}

#[tokio::test]
async fn what_a_replica_keeps_in_one_process_counts_the_same_way() {
    let one = InProcess::default();
    let key = attempt("email", "address");
    for n in 1..=5 {
        assert_eq!(one.count_failure(&key, None, 100, POLICY).await.unwrap().failures, n);
    }
    assert_eq!(one.backoff(&key).await.unwrap().unwrap().until_micros, 100 + 60_000_000);
    assert_eq!(one.address_failures("address", 99).await.unwrap(), 5);
    one.unlock("email").await.unwrap();
    assert_eq!(one.backoff(&key).await.unwrap(), None);
}

/// What one view shows, kept by one replica, taken by the other: once, only within its time,
/// and no more than [`ONCE_PER_SESSION`] a session. The same checks hold in one process.
async fn kept_once_on(a: &dyn SharedState, b: &dyn SharedState) {
    let (mine, theirs) = (Uuid::new_v4(), Uuid::new_v4());
    let now = 1_800_000_000_000_000;
    a.keep_once(mine, "refused-1", b"sealed page".to_vec(), now, now - 600_000_000).await.unwrap();
    assert_eq!(b.take_once(theirs, "refused-1", now - 1).await.unwrap(), None, "another session finds nothing");
    assert_eq!(b.take_once(mine, "refused-2", now - 1).await.unwrap(), None, "nor another slot");
    assert_eq!(b.take_once(mine, "refused-1", now - 1).await.unwrap().as_deref(), Some(&b"sealed page"[..]));
    assert_eq!(a.take_once(mine, "refused-1", now - 1).await.unwrap(), None, "taken once, on either replica");

    a.keep_once(mine, "account-1", b"old".to_vec(), now, now - 600_000_000).await.unwrap();
    assert_eq!(b.take_once(mine, "account-1", now).await.unwrap(), None, "kept at or before the expiry: gone");

    for n in 0..(ONCE_PER_SESSION + 5) {
        let at = now + i64::try_from(n).unwrap();
        a.keep_once(mine, &format!("slot-{n}"), vec![1], at, now - 600_000_000).await.unwrap();
    }
    a.keep_once(theirs, "slot-0", vec![2], now, now - 600_000_000).await.unwrap();
    for n in 0..5 {
        assert_eq!(b.take_once(mine, &format!("slot-{n}"), now - 1).await.unwrap(), None, "the oldest went first");
    }
    for n in 5..(ONCE_PER_SESSION + 5) {
        assert!(b.take_once(mine, &format!("slot-{n}"), now - 1).await.unwrap().is_some(), "slot {n} kept");
    }
    assert!(b.take_once(theirs, "slot-0", now - 1).await.unwrap().is_some(), "another session's are not counted");
}

#[tokio::test]
async fn what_one_view_shows_is_kept_by_one_replica_and_taken_once_by_the_other_within_its_time() {
    let schema = Schema::create().await;
    let (_, a) = schema.replica().await;
    let (_, b) = schema.replica().await;
    kept_once_on(&a, &b).await;
    let one = InProcess::default();
    kept_once_on(&one, &one).await;
}

#[tokio::test]
async fn one_process_keeps_no_more_than_a_thousand_pages_for_one_view_however_many_sessions_keep_them() {
    let one = InProcess::default();
    let now = 1_800_000_000_000_000;
    let first = Uuid::new_v4();
    one.keep_once(first, "refused-1", vec![1], now, now - 600_000_000).await.unwrap();
    for n in 1..=ONCE_IN_ALL {
        let at = now + i64::try_from(n).unwrap();
        one.keep_once(Uuid::new_v4(), "refused-1", vec![1], at, now - 600_000_000).await.unwrap();
    }
    assert_eq!(one.once.lock().unwrap().len(), ONCE_IN_ALL);
    assert_eq!(one.take_once(first, "refused-1", now - 1).await.unwrap(), None, "the oldest went first");
}
