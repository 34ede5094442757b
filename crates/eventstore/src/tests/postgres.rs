//! The PostgreSQL backend against the conformance suite, the model property (`tests/model.rs`),
//! the held-open-transaction ordering test, several processes over one database, and its key
//! store.
//!
//! Each test runs in a schema of its own (`heard_t_<random>`, dropped afterwards), so they run
//! in parallel. They need PostgreSQL at `HEARD_TEST_POSTGRES_URL` (by default
//! `postgres://postgres@127.0.0.1:5432/test`, trust auth); when it does not answer they fail
//! and say how to start it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio_postgres::NoTls;

use crate::postgres_backend::{Hold, PostgresBackend};

mod group;
use crate::{
    Error, EventStore, ExpectedRevision, KeyStore, NewEvent, Personal, PostgresKeyStore, StreamName, SubjectId,
    Upcasters, verify_chain,
};

use crate::testing::{HOW_TO_START, TestSchema, base_url, run_on_the_side};

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = match tokio_postgres::connect(url, NoTls).await {
        Ok(connected) => connected,
        Err(error) => panic!(
            "the PostgreSQL tests need PostgreSQL at 127.0.0.1:5432 (trust auth, database `test`) and it did not answer ({error}): {HOW_TO_START}"
        ),
    };
    tokio::spawn(connection);
    client
}

/// A schema of the test's own (`heard_t_<random>`), dropped with its sessions when this is
/// dropped.
pub(crate) struct Schema(TestSchema);

impl Schema {
    pub(crate) async fn create() -> Schema {
        Schema(TestSchema::create("heard_t"))
    }

    /// The schema's name (the application name of its stores' sessions too).
    pub(crate) fn name(&self) -> &str {
        self.0.name()
    }

    /// The URL of the test database with this schema as the search path; the schema's name is
    /// the application name too, so the test can find its own sessions.
    pub(crate) fn url(&self) -> String {
        self.0.url()
    }
}

/// A database of the test's own, dropped when this is dropped: for what depends on no other
/// session of the database holding an older transaction open (a `VACUUM` removing a destroyed
/// key's old row version), which the tests running beside it in the shared database would.
pub(crate) struct Database {
    name: String,
}

impl Database {
    pub(crate) async fn create() -> Database {
        let name = format!("heard_d_{}", uuid::Uuid::new_v4().simple());
        let client = connect(&base_url()).await;
        client.batch_execute(&format!("CREATE DATABASE {name}")).await.expect("the test database is created");
        Database { name }
    }

    /// The URL of this database: the test server's URL with its database name replaced.
    pub(crate) fn url(&self) -> String {
        let base = base_url();
        let (server_and_database, query) = base.split_once('?').map_or((base.as_str(), None), |(a, q)| (a, Some(q)));
        let server = server_and_database.rsplit_once('/').map_or(server_and_database, |(server, _)| server);
        match query {
            Some(query) => format!("{server}/{}?{query}", self.name),
            None => format!("{server}/{}", self.name),
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = run_on_the_side(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}

async fn fresh_store(upcasters: Upcasters) -> (EventStore, Schema) {
    let schema = Schema::create().await;
    let store = EventStore::open_postgres(&schema.url(), upcasters).await.expect("the PostgreSQL store opens");
    (store, schema)
}

mod postgres_conformance {
    use super::fresh_store;
    crate::conformance_suite!(fresh_store);
}

/// Cases of the model property on PostgreSQL, as many as the embedded backends run: each in a
/// schema of its own, up to 39 appends; the 24 take about 5 s.
const MODEL_CASES: u32 = 24;

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: MODEL_CASES, .. proptest::prelude::ProptestConfig::default() })]
    /// The embedded backends' property (`tests/model.rs`), unchanged, on PostgreSQL.
    #[test]
    fn the_postgresql_store_behaves_like_the_same_simple_in_memory_model(ops in super::model::ops()) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async {
            let (store, _schema) = fresh_store(Upcasters::new()).await;
            super::model::behaves_like_the_model(&store, &ops).await
        })?;
    }
}

fn event(n: u64) -> NewEvent {
    NewEvent::new("Tested", 1, &json!({ "n": n })).unwrap()
}

fn stream(name: &str) -> StreamName {
    StreamName::new(name).unwrap()
}

/// A store over a backend the test can hold, with the backend itself.
async fn holdable_store(schema: &Schema) -> (EventStore, PostgresBackend) {
    let config = crate::postgres_backend::parse_url(&schema.url()).unwrap();
    let backend = PostgresBackend::open(config.clone()).await.unwrap();
    let keys = PostgresKeyStore::open(config).unwrap();
    (EventStore::new(Arc::new(backend.clone()), Arc::new(keys), Upcasters::new()), backend)
}

/// A connection of the test's own to the test database, for looking at what others hold.
pub(crate) async fn observer() -> tokio_postgres::Client {
    connect(&base_url()).await
}

/// Polls `condition` until it holds, failing after `within`.
pub(crate) async fn eventually<F, Fut>(within: Duration, what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !condition().await {
        assert!(Instant::now() < deadline, "{what} did not happen within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn sessions_waiting_on_a_lock(observer: &tokio_postgres::Client, schema: &Schema) -> i64 {
    observer
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
            &[&schema.name()],
        )
        .await
        .unwrap()
        .get(0)
}

/// One append holds the head row just before it commits while five more try to append and a
/// live subscriber waits; then it commits (or rolls back). The subscriber sees every committed
/// event once, in position order, with no gap, and nothing while the append is held.
async fn held_open_append(commit: bool) {
    let schema = Schema::create().await;
    let (store, backend) = holdable_store(&schema).await;
    for n in 0..3 {
        store.append(&stream("before-1"), ExpectedRevision::Any, vec![event(n)]).await.unwrap();
    }
    let mut subscription = store.subscribe_all(1);
    for expected in 1..=3 {
        assert_eq!(subscription.next().await.unwrap().position, expected);
    }

    let (holding_tx, holding) = tokio::sync::oneshot::channel();
    let (release, release_rx) = tokio::sync::oneshot::channel();
    backend.hold_next_append(Hold { holding: holding_tx, release: release_rx });
    let held = {
        let store = store.clone();
        tokio::spawn(async move { store.append(&stream("held-1"), ExpectedRevision::Any, vec![event(100)]).await })
    };
    tokio::time::timeout(Duration::from_secs(10), holding).await.expect("the append reaches its hold").unwrap();

    let mut others = Vec::new();
    for writer in 0..5u64 {
        let store = store.clone();
        others.push(tokio::spawn(async move {
            store.append(&stream(&format!("other-{writer}")), ExpectedRevision::Any, vec![event(200 + writer)]).await
        }));
    }
    let observer = connect(&base_url()).await;
    eventually(Duration::from_secs(10), "five appends waiting on the head row", || {
        let observer = &observer;
        let schema = &schema;
        async move { sessions_waiting_on_a_lock(observer, schema).await >= 5 }
    })
    .await;

    // While the first append is open nobody can pass it: neither a reader nor a subscriber.
    let early = tokio::time::timeout(Duration::from_millis(300), subscription.next()).await;
    assert!(early.is_err(), "the subscriber got an event while the head row was held: {early:?}");
    assert!(store.read_all(4, 100).await.unwrap().is_empty(), "a reader sees nothing past the held append");
    assert_eq!(store.head().position, 3);

    release.send(commit).unwrap();
    let held = held.await.unwrap();
    assert_eq!(held.is_ok(), commit, "{held:?}");
    for other in others {
        other.await.unwrap().expect("the waiting appends commit once the head row is free");
    }

    let expected_events = if commit { 6 } else { 5 };
    let mut seen = std::collections::HashSet::new();
    for expected in 4..4 + expected_events {
        let e = tokio::time::timeout(Duration::from_secs(10), subscription.next())
            .await
            .expect("the subscriber goes on once the held append ends")
            .unwrap();
        assert_eq!(e.position, expected, "no gap, no duplicate");
        assert!(seen.insert(e.id));
        let n = e.data_json().unwrap()["n"].as_u64().unwrap();
        assert!(commit || n != 100, "a rolled-back event was delivered");
    }
    let late = tokio::time::timeout(Duration::from_millis(300), subscription.next()).await;
    assert!(late.is_err(), "nothing more than the committed events: {late:?}");
    let all = store.read_all(1, 100).await.unwrap();
    assert_eq!(all.len() as u64, 3 + expected_events);
    assert_eq!(all.iter().any(|e| e.stream.as_str() == "held-1"), commit);
    assert!(verify_chain(&store, None).await.unwrap().ok);
    store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_append_held_open_then_committed_is_passed_by_no_reader_and_leaves_no_gap() {
    held_open_append(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_append_held_open_then_rolled_back_gives_its_position_to_the_next_append() {
    held_open_append(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_over_one_database_share_one_gapless_log_and_wake_each_others_subscribers() {
    let schema = Schema::create().await;
    let a = EventStore::open_postgres(&schema.url(), Upcasters::new()).await.unwrap();
    let b = EventStore::open_postgres(&schema.url(), Upcasters::new()).await.unwrap();
    let mut on_b = b.subscribe_all(1);
    let mut writers = Vec::new();
    for writer in 0..8u64 {
        let store = if writer % 2 == 0 { a.clone() } else { b.clone() };
        writers.push(tokio::spawn(async move {
            for i in 0..25 {
                store.append(&stream(&format!("proc-{writer}")), ExpectedRevision::Any, vec![event(i)]).await.unwrap();
            }
        }));
    }
    // Both processes race for each revision of one stream: one winner per revision.
    let race = stream("race-1");
    let (first, second) = tokio::join!(
        a.append(&race, ExpectedRevision::NoStream, vec![event(0)]),
        b.append(&race, ExpectedRevision::NoStream, vec![event(1)])
    );
    assert!(first.is_ok() != second.is_ok(), "exactly one process wins: {first:?} {second:?}");
    let loser = if first.is_err() { first } else { second };
    assert!(matches!(loser, Err(Error::WrongExpectedRevision { actual: Some(0), .. })), "{loser:?}");

    for expected in 1..=201u64 {
        let e =
            tokio::time::timeout(Duration::from_secs(20), on_b.next()).await.expect("b's subscriber keeps up").unwrap();
        assert_eq!(e.position, expected);
    }
    for writer in writers {
        writer.await.unwrap();
    }
    eventually(Duration::from_secs(5), "a's head reaching b's appends", || async { a.head() == b.head() }).await;
    assert_eq!(a.head().position, 201);
    a.close().await.unwrap();
    b.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_subscriber_that_misses_a_notification_still_sees_the_append_by_polling() {
    let schema = Schema::create().await;
    let (a, backend) = holdable_store(&schema).await;
    backend.stop_notifying();
    let b = EventStore::open_postgres(&schema.url(), Upcasters::new()).await.unwrap();
    let mut on_b = b.subscribe_all(1);
    let waiting = tokio::spawn(async move {
        let mut positions = Vec::new();
        for _ in 0..3 {
            positions.push(on_b.next().await.unwrap().position);
        }
        positions
    });
    for n in 0..3 {
        a.append(&stream("quiet-1"), ExpectedRevision::Any, vec![event(n)]).await.unwrap();
    }
    // Only b's poll can tell b's head about a's appends.
    eventually(Duration::from_secs(5), "b's head reaching a's appends by polling", || async { b.head().position == 3 })
        .await;
    assert_eq!(b.head(), a.head());
    let delivered = tokio::time::timeout(Duration::from_secs(5), waiting).await.expect("b's subscriber wakes");
    assert_eq!(delivered.unwrap(), vec![1, 2, 3]);
    a.close().await.unwrap();
    b.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrating_twice_and_from_two_processes_at_once_leaves_one_schema_version() {
    let schema = Schema::create().await;
    let config = crate::postgres_backend::parse_url(&schema.url()).unwrap();
    let (first, second) =
        tokio::join!(crate::postgres_backend::migrate_with(&config), crate::postgres_backend::migrate_with(&config));
    assert_eq!(first.unwrap(), crate::postgres_backend::SCHEMA_VERSION);
    assert_eq!(second.unwrap(), crate::postgres_backend::SCHEMA_VERSION);
    assert_eq!(crate::postgres_backend::migrate_with(&config).await.unwrap(), crate::postgres_backend::SCHEMA_VERSION);
    let client = connect(&schema.url()).await;
    let versions: Vec<i32> = client
        .query("SELECT version FROM heard_schema_version ORDER BY version", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(versions, (1..=crate::postgres_backend::SCHEMA_VERSION as i32).collect::<Vec<_>>());
    // A database a newer heard migrated is refused, not downgraded.
    client.execute("INSERT INTO heard_schema_version (version) VALUES (9999)", &[]).await.unwrap();
    let refused = EventStore::open_postgres(&schema.url(), Upcasters::new()).await.unwrap_err();
    assert!(refused.to_string().contains("version 9999"), "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bad_url_or_an_unreachable_server_is_an_error_that_never_repeats_the_password() {
    let bad = EventStore::open_postgres("postgres://heard:s3cret-pw@127.0.0.1:notaport/x", Upcasters::new()).await;
    let bad = bad.unwrap_err().to_string();
    assert!(!bad.contains("s3cret-pw"), "{bad}");
    assert!(bad.contains("URL is not valid"), "{bad}");
    let unreachable = EventStore::open_postgres("postgres://heard:s3cret-pw@127.0.0.1:1/x", Upcasters::new()).await;
    let unreachable = unreachable.unwrap_err().to_string();
    assert!(!unreachable.contains("s3cret-pw"), "{unreachable}");
}

#[tokio::test]
async fn a_server_that_accepts_and_never_answers_is_an_error_within_the_connect_timeout_not_a_hang() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut accepted = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            accepted.push(socket);
        }
    });
    let url = format!("postgres://postgres@127.0.0.1:{port}/test?connect_timeout=1");
    let opened =
        tokio::time::timeout(std::time::Duration::from_secs(20), EventStore::open_postgres(&url, Upcasters::new()))
            .await
            .expect("opening gives up by itself");
    let error = opened.unwrap_err().to_string();
    assert!(error.contains("did not answer"), "{error}");
    held.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_destroyed_key_reads_as_erased_is_never_recreated_and_is_gone_from_the_tables_files() {
    // A database of its own: Heard's VACUUM removes the old row version only once no older
    // transaction of the database is open, and the tests beside it hold some on purpose.
    let database = Database::create().await;
    let store = EventStore::open_postgres(&database.url(), Upcasters::new()).await.unwrap();
    let person = SubjectId::new();
    let secret = "Robin Placeholder, 3 Fictional Lane";
    let with_personal = |n: u64| event(n).with_personal(person, &json!({ "name": secret })).unwrap();
    store.append(&stream("case-1"), ExpectedRevision::NoStream, vec![with_personal(0)]).await.unwrap();
    let key = store.key_bytes(person).unwrap().expect("the person has a key");

    let observer = connect(&database.url()).await;
    let table_holds = |needle: Vec<u8>| keys_table_file_holds(&observer, needle);
    assert!(table_holds(key.to_vec()).await, "before erasure the key's bytes are in the table's file");

    assert!(store.forget_subject(person).unwrap());
    assert!(!store.forget_subject(person).unwrap(), "a second destroy finds nothing");
    let read = store.read_stream(&stream("case-1"), 0, crate::Direction::Forwards, 1).await.unwrap();
    assert_eq!(read[0].personal, Personal::Erased { subject: person });
    let again = store.append(&stream("case-1"), ExpectedRevision::Any, vec![with_personal(1)]).await.unwrap_err();
    assert!(matches!(again, Error::SubjectErased), "{again}");
    assert!(
        !table_holds(key.to_vec()).await,
        "after erasure (and Heard's rewrite of the table) the key's bytes are gone"
    );

    // Every heard table, as a dump would see it, holds neither the key nor the words.
    let client = connect(&database.url()).await;
    for table in ["heard_events", "heard_streams", "heard_head", "heard_subject_keys", "heard_schema_version"] {
        let rows = client.query(&format!("SELECT {table}::text FROM {table}"), &[]).await.unwrap();
        let dump: String = rows.iter().map(|row| row.get::<_, String>(0)).collect();
        assert!(!dump.contains("Robin") && !dump.contains("Fictional"), "{table} holds the words");
        assert!(!dump.contains(&hex::encode(key)), "{table} holds the key");
    }
    assert!(verify_chain(&store, None).await.unwrap().ok);
    store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_persons_keys_destroyed_together_leave_no_byte_in_the_keys_file_though_their_page_keeps_other_keys() {
    let database = Database::create().await;
    let store = EventStore::open_postgres(&database.url(), Upcasters::new()).await.unwrap();
    // Twenty people share the table's one page; the person erased has three keys (an item, a
    // case, a complaint), the last three written, so that a plain VACUUM would leave the
    // freed space holding one of them.
    let people: Vec<SubjectId> = (0..20).map(|_| SubjectId::new()).collect();
    for (n, person) in people.iter().enumerate() {
        let personal = event(0).with_personal(*person, &json!({ "name": format!("Person {n}") })).unwrap();
        store.append(&stream(&format!("case-{n}")), ExpectedRevision::NoStream, vec![personal]).await.unwrap();
    }
    let keys: Vec<[u8; 32]> = people.iter().map(|person| store.key_bytes(*person).unwrap().unwrap()).collect();
    let observer = connect(&database.url()).await;
    for key in &keys {
        assert!(keys_table_file_holds(&observer, key.to_vec()).await, "each key is in the table's file to begin with");
    }
    let erased = [people[17], people[18], people[19]];

    let destroyed = tokio::task::spawn_blocking({
        let store = store.clone();
        move || store.forget_subjects(&erased)
    })
    .await
    .unwrap()
    .unwrap();

    assert_eq!(destroyed, 3, "three keys were there to destroy");
    for n in [17, 18, 19] {
        assert!(
            !keys_table_file_holds(&observer, keys[n].to_vec()).await,
            "key {n}'s bytes are gone from the file, not only freed in its page"
        );
        let read = store.read_stream(&stream(&format!("case-{n}")), 0, crate::Direction::Forwards, 1).await.unwrap();
        assert_eq!(read[0].personal, Personal::Erased { subject: people[n] });
    }
    for (n, key) in keys.iter().enumerate().take(17) {
        assert!(keys_table_file_holds(&observer, key.to_vec()).await, "key {n} is kept");
        let read = store.read_stream(&stream(&format!("case-{n}")), 0, crate::Direction::Forwards, 1).await.unwrap();
        assert!(matches!(read[0].personal, Personal::Plain(_)), "person {n}'s words still open");
    }
    let never_keyed = SubjectId::new();
    assert_eq!(store.forget_subjects(&[never_keyed]).unwrap(), 0, "nothing to destroy, but a tombstone is kept");
    let later = event(1).with_personal(never_keyed, &json!({ "name": "Someone" })).unwrap();
    let refused = store.append(&stream("case-x"), ExpectedRevision::Any, vec![later]).await.unwrap_err();
    assert!(matches!(refused, Error::SubjectErased), "a subject erased before it had a key never gets one: {refused}");
    assert!(verify_chain(&store, None).await.unwrap().ok);
    store.close().await.unwrap();
}

/// Whether the keys table's file, as on disk after a checkpoint, holds `needle`.
async fn keys_table_file_holds(observer: &tokio_postgres::Client, needle: Vec<u8>) -> bool {
    observer.batch_execute("CHECKPOINT").await.unwrap();
    let row = observer
        .query_one(
            "SELECT position($1::bytea IN pg_read_binary_file(pg_relation_filepath('public.heard_subject_keys')))",
            &[&needle],
        )
        .await
        .unwrap();
    row.get::<_, i32>(0) > 0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_key_destroyed_while_a_long_report_holds_an_older_transaction_is_gone_from_the_file_once_it_ends() {
    let database = Database::create().await;
    let store = EventStore::open_postgres(&database.url(), Upcasters::new()).await.unwrap();
    let person = SubjectId::new();
    let personal = event(0).with_personal(person, &json!({ "name": "Robin Placeholder" })).unwrap();
    store.append(&stream("case-1"), ExpectedRevision::NoStream, vec![personal]).await.unwrap();
    let key = store.key_bytes(person).unwrap().expect("the person has a key");

    // A long report on another connection: its snapshot is older than the destroy.
    let report = connect(&database.url()).await;
    report.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM heard_events").await.unwrap();
    let destroying = tokio::task::spawn_blocking({
        let store = store.clone();
        move || store.forget_subject(person)
    });
    let observer = connect(&database.url()).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !key_is_destroyed(&observer, person).await {
        assert!(std::time::Instant::now() < deadline, "the key is set to NULL at once");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(!destroying.is_finished(), "the destroy waits for the older transaction before it vacuums");
    report.batch_execute("COMMIT").await.unwrap();
    assert!(destroying.await.unwrap().unwrap());
    assert!(
        !keys_table_file_holds(&observer, key.to_vec()).await,
        "once the report ended, Heard's rewrite of the table removed the key's old row version"
    );
    store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_key_destroyed_while_another_database_has_an_older_write_open_is_gone_from_the_file_once_it_ends() {
    // Another database on the same server (another Heard, or another application) with a
    // writing transaction that began before the destroy: every snapshot in Heard's database,
    // the rewrite's own included, takes it as its horizon, so a rewrite before it ends would
    // keep the destroyed key's row version as "recently dead".
    let database = Database::create().await;
    let elsewhere = Database::create().await;
    let store = EventStore::open_postgres(&database.url(), Upcasters::new()).await.unwrap();
    let person = SubjectId::new();
    let personal = event(0).with_personal(person, &json!({ "name": "Robin Placeholder" })).unwrap();
    store.append(&stream("case-1"), ExpectedRevision::NoStream, vec![personal]).await.unwrap();
    let key = store.key_bytes(person).unwrap().expect("the person has a key");

    let writer = connect(&elsewhere.url()).await;
    writer.batch_execute("BEGIN; SELECT pg_current_xact_id()").await.unwrap();
    let destroying = tokio::task::spawn_blocking({
        let store = store.clone();
        move || store.forget_subject(person)
    });
    let observer = connect(&database.url()).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while !key_is_destroyed(&observer, person).await {
        assert!(Instant::now() < deadline, "the key is set to NULL at once");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!destroying.is_finished(), "the destroy waits for the older write in the other database");
    writer.batch_execute("COMMIT").await.unwrap();
    assert!(destroying.await.unwrap().unwrap());
    assert!(
        !keys_table_file_holds(&observer, key.to_vec()).await,
        "once the other database's write ended, Heard's rewrite of the table removed the key's old row version"
    );
    store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn erasures_while_a_long_report_is_open_share_one_later_rewrite_and_new_people_still_get_keys() {
    let database = Database::create().await;
    let store = EventStore::open_postgres(&database.url(), Upcasters::new()).await.unwrap();
    let people: Vec<SubjectId> = (0..6).map(|_| SubjectId::new()).collect();
    for (n, person) in people.iter().enumerate() {
        let personal = event(0).with_personal(*person, &json!({ "name": format!("Person {n}") })).unwrap();
        store.append(&stream(&format!("case-{n}")), ExpectedRevision::NoStream, vec![personal]).await.unwrap();
    }
    let keys: Vec<[u8; 32]> = people.iter().map(|person| store.key_bytes(*person).unwrap().unwrap()).collect();
    let report = connect(&database.url()).await;
    report.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM heard_events").await.unwrap();

    // The first erasure waits for the report (10 s), then leaves the rewrite to the background;
    // the five after it, more than the key store has connections, answer without waiting.
    let forget = |person: SubjectId| {
        let store = store.clone();
        tokio::task::spawn_blocking(move || store.forget_subject(person))
    };
    assert!(forget(people[0]).await.unwrap().unwrap());
    let started = Instant::now();
    for person in &people[1..] {
        assert!(forget(*person).await.unwrap().unwrap());
    }
    let newcomer = SubjectId::new();
    let personal = event(0).with_personal(newcomer, &json!({ "name": "Someone new" })).unwrap();
    store.append(&stream("case-new"), ExpectedRevision::NoStream, vec![personal]).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "later erasures and a new person's key did not wait behind the report: {:?}",
        started.elapsed()
    );
    let observer = connect(&database.url()).await;
    for person in &people {
        assert!(key_is_destroyed(&observer, *person).await, "every key is NULL at once");
    }

    report.batch_execute("COMMIT").await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    for (n, key) in keys.iter().enumerate() {
        while keys_table_file_holds(&observer, key.to_vec()).await {
            assert!(Instant::now() < deadline, "key {n}'s bytes are gone from the file once the report ends");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    assert!(keys_table_file_holds(&observer, store.key_bytes(newcomer).unwrap().unwrap().to_vec()).await);
    store.close().await.unwrap();
}

async fn key_is_destroyed(observer: &tokio_postgres::Client, person: SubjectId) -> bool {
    let row = observer.query_one("SELECT key IS NULL FROM heard_subject_keys WHERE subject = $1", &[&person.0]).await;
    row.is_ok_and(|row| row.get::<_, bool>(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_key_stores_creating_one_persons_key_at_once_agree_and_an_unknown_destroy_blocks_creation() {
    let schema = Schema::create().await;
    let _store = EventStore::open_postgres(&schema.url(), Upcasters::new()).await.unwrap();
    let a = Arc::new(PostgresKeyStore::open_url(&schema.url()).unwrap());
    let b = Arc::new(PostgresKeyStore::open_url(&schema.url()).unwrap());
    for _ in 0..20 {
        let person = SubjectId::new();
        let (ka, kb) = {
            let (a, b) = (a.clone(), b.clone());
            let ta = std::thread::spawn(move || a.get_or_create(person).unwrap());
            let tb = std::thread::spawn(move || b.get_or_create(person).unwrap());
            (ta.join().unwrap(), tb.join().unwrap())
        };
        assert_eq!(ka.as_bytes(), kb.as_bytes());
        assert_eq!(b.get(person).unwrap().map(|k| *k.as_bytes()), Some(*ka.as_bytes()));
    }
    let never_seen = SubjectId::new();
    assert!(!a.destroy(never_seen).unwrap());
    assert!(matches!(b.get_or_create(never_seen), Err(Error::SubjectErased)));
    assert!(a.get(never_seen).unwrap().is_none());
}

/// Two stores over one schema, as two replicas: `b` reads `person`'s event (and so caches the
/// key) before the test erases them.
async fn a_person_read_on_b(schema: &Schema, secret: &str) -> (EventStore, EventStore, SubjectId, StreamName) {
    let a = EventStore::open_postgres(&schema.url(), Upcasters::new()).await.unwrap();
    let b = EventStore::open_postgres(&schema.url(), Upcasters::new()).await.unwrap();
    let person = SubjectId::new();
    let case = stream(&format!("case-{}", uuid::Uuid::new_v4().simple()));
    let said = event(0).with_personal(person, &json!({ "words": secret })).unwrap();
    a.append(&case, ExpectedRevision::NoStream, vec![said]).await.unwrap();
    let read = b.read_stream(&case, 0, crate::Direction::Forwards, 1).await.unwrap();
    assert!(matches!(&read[0].personal, Personal::Plain(fields) if fields.fields["words"] == secret));
    (a, b, person, case)
}

async fn reads_as_erased(store: &EventStore, case: &StreamName) -> bool {
    let read = store.read_stream(case, 0, crate::Direction::Forwards, 1).await.unwrap();
    matches!(read[0].personal, Personal::Erased { .. })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_person_erased_on_one_replica_stops_reading_on_another_that_had_their_key_in_memory() {
    let schema = Schema::create().await;
    let (a, b, person, case) = a_person_read_on_b(&schema, "I was scared to ask").await;
    assert!(a.forget_subject(person).unwrap());
    // B hears of the destroy through PostgreSQL's notification, not by waiting out its cache.
    eventually(Duration::from_secs(5), "the erasure reaching the other replica", || reads_as_erased(&b, &case)).await;
    let again =
        b.append(&case, ExpectedRevision::Any, vec![event(1).with_personal(person, &json!({ "words": "x" })).unwrap()]);
    assert!(matches!(again.await.unwrap_err(), Error::SubjectErased));
    a.close().await.unwrap();
    b.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_key_destroyed_without_any_notification_is_trusted_from_memory_no_longer_than_the_cache_allows() {
    let schema = Schema::create().await;
    let (a, b, person, case) = a_person_read_on_b(&schema, "the night staff were kind").await;
    // Destroyed behind Heard's back: no notification reaches B.
    connect(&schema.url())
        .await
        .execute("UPDATE heard_subject_keys SET key = NULL, destroyed_at = now() WHERE subject = $1", &[&person.0])
        .await
        .unwrap();
    tokio::time::sleep(crate::postgres_keys::CACHE_FOR + Duration::from_millis(50)).await;
    assert!(reads_as_erased(&b, &case).await, "a cached key outlived the cache's limit");
    a.close().await.unwrap();
    b.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_page_of_the_log_with_many_people_reads_back_each_persons_words_and_erased_ones_as_erased() {
    let schema = Schema::create().await;
    let store = EventStore::open_postgres(&schema.url(), Upcasters::new()).await.unwrap();
    let people: Vec<SubjectId> = (0..40).map(|_| SubjectId::new()).collect();
    for (n, person) in people.iter().enumerate() {
        let said = event(n as u64).with_personal(*person, &json!({ "words": format!("words of person {n}") })).unwrap();
        store.append(&stream(&format!("item-{n}")), ExpectedRevision::NoStream, vec![said]).await.unwrap();
    }
    for person in people.iter().step_by(3) {
        assert!(store.forget_subject(*person).unwrap());
    }
    let page = store.read_all(1, 100).await.unwrap();
    assert_eq!(page.len(), 40);
    for (n, event) in page.iter().enumerate() {
        match &event.personal {
            Personal::Erased { subject } => assert!(n % 3 == 0 && *subject == people[n], "event {n} erased"),
            Personal::Plain(fields) => {
                assert!(n % 3 != 0, "event {n} of an erased person read back");
                assert_eq!(fields.fields["words"], format!("words of person {n}"));
            }
            other => panic!("event {n}: {other:?}"),
        }
    }
    store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_destroy_in_one_process_drops_the_key_from_the_memory_of_every_other_at_once() {
    let schema = Schema::create().await;
    let _store = EventStore::open_postgres(&schema.url(), Upcasters::new()).await.unwrap();
    let a = Arc::new(PostgresKeyStore::open_url(&schema.url()).unwrap());
    let b = Arc::new(PostgresKeyStore::open_url(&schema.url()).unwrap());
    eventually(Duration::from_secs(5), "b listening", || {
        let b = b.clone();
        async move { b.listening() }
    })
    .await;
    let person = SubjectId::new();
    let key = a.get_or_create(person).unwrap();
    assert_eq!(b.get(person).unwrap().map(|k| *k.as_bytes()), Some(*key.as_bytes()));
    assert!(b.holds_in_memory(person), "b keeps the key it read");
    assert!(a.destroy(person).unwrap());
    assert!(!a.holds_in_memory(person));
    // Only the notification removes it from b's memory: its age alone never does.
    eventually(Duration::from_secs(5), "the destroy reaching b's memory", || {
        let b = b.clone();
        async move { !b.holds_in_memory(person) }
    })
    .await;
    assert!(b.get(person).unwrap().is_none());
}
