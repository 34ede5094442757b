//! A backend that keeps the log in PostgreSQL, so that several Heard processes can share it.
//!
//! # Tables (created and migrated by [`migrate`], in the connection's `search_path` schema)
//!
//! ```text
//! heard_schema_version (version, applied_at)          one row per migration applied
//! heard_head           (only_row, position, hash)     ONE row: the sequencer
//! heard_events         (position PK, stream, category, revision, event_id UNIQUE, record)
//! heard_streams        (stream PK, revision)          each stream's last revision
//! heard_subject_keys   (subject PK, key, destroyed_at) see `postgres_keys`
//!
//! what replicas share beside the log (migration 2; read and written by heard-identity):
//! heard_server_key         (only_row, key_id)       which `secret.key` every replica must hold
//! heard_login_failures     (email_key, address_key PK, account, failures, until_micros,
//!                           updated_micros)          failed logins in a row, by keyed hashes
//! heard_address_failures   (address_key, at_micros) failed logins from one address
//! heard_email_reservations (email_key PK, account, reserved_micros) one account an email
//! heard_imports            (migration 3; heard-feedback) spreadsheet drafts and jobs, sealed
//! heard_shown_once         (migration 4; session, slot PK, sealed, kept_micros) a page for
//!                           one view after a form's redirect, sealed
//! ```
//!
//! The shared tables hold no email or address in the clear: every key is an HMAC under the
//! server key (`secret.key`), and each row names the account it concerns, when there is one,
//! so that it can be removed when the account's person is erased.
//!
//! `record` holds the very bytes the embedded backends write (see [`record`]): the body, the
//! previous hash and the chain hash, so a record reads back, verifies and chains exactly as it
//! does on disk, and `heard verify` gives the same answers.
//!
//! # The sequencer
//!
//! Every append is written by a transaction that starts by locking the single `heard_head` row
//! (`SELECT position, hash FROM heard_head FOR UPDATE`). Holding it, the transaction checks
//! idempotency and the expected revision, numbers the events from the head, chains their
//! hashes from the head's hash, inserts them, moves the head and sends `NOTIFY heard_head`,
//! then commits. Appends from every process therefore run one after another: a position is
//! taken only once the transaction that took the one before it has committed (and is visible)
//! or rolled back (and gave the position back). Positions are gapless, and a reader can never
//! see position `n + 1` while `n` is still to come.
//!
//! # Group commit
//!
//! Within one process, appends share those transactions (`postgres_backend/group.rs`): each append joins a
//! queue, and whichever of the process's appenders (at most eight transactions holding or
//! waiting for the row) is granted the row takes every append queued by then, up to 1,000
//! events or 8 MiB, and writes them in one transaction: one row lock, one commit (one WAL
//! flush), one notification. Each append is still decided on its own, in queue order, against
//! the database and the appends before it in the group (expected revision, idempotency by
//! event id), before anything is written, so a refusal takes nothing from the others; if the
//! transaction fails as a whole, every append in it gets the error and none of it is visible.
//! The row is held for three round trips: the lock, with the reads for the appends queued when
//! the transaction began sent behind it (PostgreSQL runs them in order, so the reads see every
//! commit before the lock); every write at once; the commit. Appends that joined the queue
//! while the transaction waited for the row cost a fourth, for their reads.
//!
//! # Waking subscribers
//!
//! One connection per backend `LISTEN`s on `heard_head`; a notification (or, should one be
//! missed, a poll every [`POLL_EVERY`]) re-reads the head row and moves [`Backend::watch_head`] on.
//! This process's own appends move it on as soon as they commit.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use futures::StreamExt;
use tokio::sync::watch;
use tokio_postgres::{AsyncMessage, NoTls};
use uuid::Uuid;

use crate::backend::Backend;
use crate::crypto::KeyStore;
use crate::error::{Error, Result};
use crate::record::{self, PreparedEvent};
use crate::types::{
    AppendOutcome, BackendStats, Direction, ExpectedRevision, Head, RecordedEvent, StreamName, StreamWindow,
};

mod group;
#[cfg(test)]
pub(crate) use group::MAX_GROUP_EVENTS;

/// How often the head is re-read when no notification came.
pub const POLL_EVERY: Duration = Duration::from_millis(500);
/// The channel appends notify on.
const CHANNEL: &str = "heard_head";
/// Connections in the pool.
const POOL_SIZE: usize = 16;

/// The migrations, in order: migration `n` (from 1) is `MIGRATIONS[n - 1]`. Append only.
const MIGRATIONS: &[&str] = &[
    // 1: the log, its sequencer and the subject keys.
    r"
    CREATE TABLE heard_head (
        only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
        position bigint NOT NULL CHECK (position >= 0),
        hash bytea NOT NULL CHECK (length(hash) = 32)
    );
    INSERT INTO heard_head (position, hash) VALUES (0, decode(repeat('00', 32), 'hex'));
    CREATE TABLE heard_events (
        position bigint PRIMARY KEY CHECK (position >= 1),
        stream text NOT NULL,
        category text NOT NULL,
        revision bigint NOT NULL CHECK (revision >= 0),
        event_id uuid NOT NULL UNIQUE,
        record bytea NOT NULL,
        UNIQUE (stream, revision)
    );
    CREATE INDEX heard_events_by_category ON heard_events (category, position);
    CREATE TABLE heard_streams (
        stream text PRIMARY KEY,
        revision bigint NOT NULL CHECK (revision >= 0)
    );
    CREATE TABLE heard_subject_keys (
        subject uuid PRIMARY KEY,
        key bytea CHECK (key IS NULL OR length(key) = 32),
        destroyed_at timestamptz,
        CHECK ((key IS NULL) = (destroyed_at IS NOT NULL))
    );
    ",
    // 2: what several `heard serve` replicas over this database must share beside the log
    // (heard-identity's `PostgresShared`): login throttling, email reservations and which
    // server key they all hold. No email or address in the clear: keys are HMACs.
    r"
    CREATE TABLE heard_server_key (
        only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
        key_id text NOT NULL
    );
    CREATE TABLE heard_login_failures (
        email_key text NOT NULL,
        address_key text NOT NULL,
        account uuid,
        failures integer NOT NULL CHECK (failures >= 0),
        until_micros bigint NOT NULL DEFAULT 0,
        updated_micros bigint NOT NULL,
        PRIMARY KEY (email_key, address_key)
    );
    CREATE INDEX heard_login_failures_by_account ON heard_login_failures (account);
    CREATE INDEX heard_login_failures_by_update ON heard_login_failures (updated_micros);
    CREATE TABLE heard_address_failures (
        address_key text NOT NULL,
        at_micros bigint NOT NULL
    );
    CREATE INDEX heard_address_failures_by_address ON heard_address_failures (address_key, at_micros);
    CREATE INDEX heard_address_failures_by_time ON heard_address_failures (at_micros);
    CREATE TABLE heard_email_reservations (
        email_key text PRIMARY KEY,
        account uuid NOT NULL,
        reserved_micros bigint NOT NULL
    );
    CREATE INDEX heard_email_reservations_by_account ON heard_email_reservations (account);
    ",
    // 3: spreadsheet imports (heard-feedback's `imports::postgres`): each uploaded draft and the
    // job it becomes, so that any replica shows them. The file, its name and the column
    // choices are sealed under a key derived from the server key, which is not in the
    // database; the hub, the state and the counts are not personal.
    r"
    CREATE TABLE heard_imports (
        id uuid PRIMARY KEY,
        owner uuid NOT NULL,
        hub text NOT NULL,
        state text NOT NULL CHECK (state IN ('draft', 'running', 'finished', 'failed')),
        name bytea NOT NULL,
        file bytea,
        reading bytea,
        revision bigint NOT NULL DEFAULT 0,
        progress jsonb,
        rejects bytea,
        touched_micros bigint NOT NULL,
        lease_micros bigint
    );
    CREATE INDEX heard_imports_by_owner ON heard_imports (owner);
    CREATE INDEX heard_imports_by_touch ON heard_imports (touched_micros);
    ",
    // 4: what a page shows once after a form's redirect (heard-identity's `shared`): a refused
    // form's page with what was typed, a new one-time password or API token, for the session
    // that posted it, on whichever replica the browser's next request reaches. Sealed under a
    // key derived from the server key; gone when taken or after ten minutes.
    r"
    CREATE TABLE heard_shown_once (
        session uuid NOT NULL,
        slot text NOT NULL,
        sealed bytea NOT NULL,
        kept_micros bigint NOT NULL,
        PRIMARY KEY (session, slot)
    );
    CREATE INDEX heard_shown_once_by_time ON heard_shown_once (kept_micros);
    ",
];

/// The schema version this heard migrates to.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Parses a `postgres://` URL (or key=value string). The error never repeats the URL, which
/// may hold a password.
pub fn parse_url(url: &str) -> Result<tokio_postgres::Config> {
    let mut config = tokio_postgres::Config::from_str(url).map_err(|_| Error::Storage {
        detail: "the PostgreSQL URL is not valid (postgres://user@host:port/database)".into(),
    })?;
    // A server that does not answer is an error after a while, not a request that hangs; the
    // URL's own `connect_timeout` wins.
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    Ok(config)
}

/// Connects with `config`, the whole handshake bounded by its `connect_timeout` (a server that
/// accepts the connection and never answers is an error too, not a start that hangs).
pub(crate) async fn connect(
    config: &tokio_postgres::Config,
) -> Result<(
    tokio_postgres::Client,
    tokio_postgres::Connection<tokio_postgres::Socket, tokio_postgres::tls::NoTlsStream>,
)> {
    let limit = config.get_connect_timeout().copied().unwrap_or(CONNECT_TIMEOUT);
    match tokio::time::timeout(limit, config.connect(NoTls)).await {
        Ok(connected) => connected.map_err(pg_error),
        Err(_) => Err(Error::Storage { detail: format!("PostgreSQL did not answer within {} s", limit.as_secs_f32()) }),
    }
}

/// How long connecting to PostgreSQL may take, unless the URL says otherwise.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// How long a request waits for a pooled connection before it fails.
const POOL_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// A PostgreSQL error as the store reports it: the server's message and code, never the
/// connection string.
pub fn pg_error(error: tokio_postgres::Error) -> Error {
    match error.as_db_error() {
        Some(db) => Error::Storage { detail: format!("PostgreSQL: {} ({})", db.message(), db.code().code()) },
        // The cause (e.g. "Connection refused") but never the connection string.
        None => match std::error::Error::source(&error) {
            Some(cause) => Error::Storage { detail: format!("PostgreSQL: {error}: {cause}") },
            None => Error::Storage { detail: format!("PostgreSQL: {error}") },
        },
    }
}

/// A pool's failure to give a connection, as the store reports it.
pub fn pool_error(error: deadpool_postgres::PoolError) -> Error {
    use deadpool_postgres::{PoolError, TimeoutType};
    match error {
        PoolError::Backend(error) => pg_error(error),
        PoolError::Timeout(TimeoutType::Create | TimeoutType::Recycle) => {
            Error::Storage { detail: "PostgreSQL did not answer within the connect timeout".into() }
        }
        PoolError::Timeout(TimeoutType::Wait) => {
            Error::Storage { detail: format!("no PostgreSQL connection was free within {} s", POOL_WAIT.as_secs()) }
        }
        other => Error::Storage { detail: format!("PostgreSQL connection pool: {other}") },
    }
}

pub(crate) fn pool(config: tokio_postgres::Config, size: usize) -> Result<Pool> {
    let connect_limit = config.get_connect_timeout().copied().unwrap_or(CONNECT_TIMEOUT);
    let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
    Pool::builder(manager)
        .max_size(size)
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .wait_timeout(Some(POOL_WAIT))
        .create_timeout(Some(connect_limit))
        .recycle_timeout(Some(connect_limit))
        .build()
        .map_err(|error| Error::Storage { detail: format!("PostgreSQL connection pool: {error}") })
}

/// Creates the schema or brings it up to [`SCHEMA_VERSION`]; returns the version it is at.
/// Safe to run from several processes at once (they take turns on an advisory lock).
pub async fn migrate(client: &mut tokio_postgres::Client) -> Result<u32> {
    let tx = client.transaction().await.map_err(pg_error)?;
    tx.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.heard_migrate'))", &[])
        .await
        .map_err(pg_error)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS heard_schema_version (
             version integer PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .await
    .map_err(pg_error)?;
    let current: i32 =
        tx.query_one("SELECT coalesce(max(version), 0) FROM heard_schema_version", &[]).await.map_err(pg_error)?.get(0);
    let current = u32::try_from(current).unwrap_or(0);
    if current > SCHEMA_VERSION {
        return Err(Error::Storage {
            detail: format!(
                "the database's heard schema is version {current}; this heard knows up to {SCHEMA_VERSION} (a newer heard migrated it)"
            ),
        });
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = index as i32 + 1;
        tx.batch_execute(migration).await.map_err(pg_error)?;
        tx.execute("INSERT INTO heard_schema_version (version) VALUES ($1)", &[&version]).await.map_err(pg_error)?;
        tracing::info!(version, "migrated the PostgreSQL event store schema");
    }
    tx.commit().await.map_err(pg_error)?;
    Ok(SCHEMA_VERSION)
}

/// Connects once with `config`, runs [`migrate`] and returns the schema version.
pub async fn migrate_with(config: &tokio_postgres::Config) -> Result<u32> {
    let (mut client, connection) = connect(config).await?;
    let driver = tokio::spawn(connection);
    let migrated = migrate(&mut client).await;
    drop(client);
    let _ = driver.await;
    migrated
}

/// What the backend and its listener share.
struct Shared {
    pool: Pool,
    head: std::sync::Mutex<Head>,
    head_tx: watch::Sender<u64>,
    events_appended: AtomicU64,
    commits: AtomicU64,
    /// How long each group's `COMMIT` took.
    commit_seconds: crate::latency::LatencyHistogram,
    /// This process's appends waiting for a group (see `group.rs`).
    queue: std::sync::Mutex<group::Queue>,
}

impl Shared {
    /// Moves the known head on to `head` if it is further (heads only ever grow).
    fn publish(&self, head: Head) {
        let mut known = self.head.lock().unwrap_or_else(|p| p.into_inner());
        if head.position > known.position {
            *known = head;
            self.head_tx.send_replace(head.position);
        }
    }

    async fn read_head(&self) -> Result<Head> {
        let client = self.pool.get().await.map_err(pool_error)?;
        read_head(&client).await
    }
}

async fn read_head(client: &tokio_postgres::Client) -> Result<Head> {
    let row = client.query_one("SELECT position, hash FROM heard_head", &[]).await.map_err(pg_error)?;
    head_from(row.get(0), row.get(1))
}

fn head_from(position: i64, hash: Vec<u8>) -> Result<Head> {
    let position = u64::try_from(position).map_err(|_| Error::corrupt(0, "the head position is negative"))?;
    let hash: [u8; 32] = hash.try_into().map_err(|_| Error::corrupt(position, "the head hash has the wrong length"))?;
    Ok(Head { position, hash })
}

/// A test's grip on one append, held just before it commits (see `hold_next_append`).
#[cfg(test)]
pub(crate) struct Hold {
    /// Told once the append holds the head row and has written its events.
    pub holding: tokio::sync::oneshot::Sender<()>,
    /// `true` to commit, `false` to roll back.
    pub release: tokio::sync::oneshot::Receiver<bool>,
}

/// The PostgreSQL backend. Cheap to clone.
#[derive(Clone)]
pub struct PostgresBackend {
    shared: Arc<Shared>,
    closed: Arc<AtomicBool>,
    /// Dropped (or sent `true`) to stop the listener.
    stop: Arc<watch::Sender<bool>>,
    #[cfg(test)]
    hold: Arc<std::sync::Mutex<Option<Hold>>>,
    /// Set by a test: appends send no notification (as if every one were missed).
    #[cfg(test)]
    silent: Arc<AtomicBool>,
}

impl PostgresBackend {
    /// Connects, migrates the schema and starts listening for other processes' appends.
    pub async fn open(config: tokio_postgres::Config) -> Result<Self> {
        let pool = pool(config.clone(), POOL_SIZE)?;
        {
            let mut client = pool.get().await.map_err(pool_error)?;
            let client: &mut tokio_postgres::Client = &mut client;
            migrate(client).await?;
        }
        let head = {
            let client = pool.get().await.map_err(pool_error)?;
            read_head(&client).await?
        };
        let (head_tx, _) = watch::channel(head.position);
        let shared = Arc::new(Shared {
            pool,
            head: std::sync::Mutex::new(head),
            head_tx,
            events_appended: AtomicU64::new(0),
            commits: AtomicU64::new(0),
            commit_seconds: crate::latency::LatencyHistogram::new(),
            queue: std::sync::Mutex::default(),
        });
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(listen(config, Arc::downgrade(&shared), stopped));
        Ok(PostgresBackend {
            shared,
            closed: Arc::new(AtomicBool::new(false)),
            stop: Arc::new(stop),
            #[cfg(test)]
            hold: Arc::default(),
            #[cfg(test)]
            silent: Arc::default(),
        })
    }

    /// Makes the next append stop just before its commit, holding the head row, until the test
    /// releases it.
    #[cfg(test)]
    pub(crate) fn hold_next_append(&self, hold: Hold) {
        *self.hold.lock().unwrap() = Some(hold);
    }

    /// Makes this backend's appends send no notification, so others only find them by polling.
    #[cfg(test)]
    pub(crate) fn stop_notifying(&self) {
        self.silent.store(true, Ordering::Release);
    }

    /// The connection pool, for what replicas share beside the log (heard-identity's tables
    /// from migration 2). Nothing else should write the log's own tables through it.
    pub fn pool(&self) -> Pool {
        self.shared.pool.clone()
    }

    /// Reads the head as the database has it now and moves this backend's head on to it,
    /// waking every subscription: after this returns, whatever any process had committed
    /// before the call is visible to this process's followers.
    pub async fn refresh_head(&self) -> Result<Head> {
        let head = self.shared.read_head().await?;
        self.shared.publish(head);
        Ok(head)
    }

    async fn client(&self) -> Result<deadpool_postgres::Object> {
        self.shared.pool.get().await.map_err(pool_error)
    }

    async fn events(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<RecordedEvent>> {
        let client = self.client().await?;
        let statement = client.prepare_cached(sql).await.map_err(pg_error)?;
        let rows = client.query(&statement, params).await.map_err(pg_error)?;
        rows.iter()
            .map(|row| {
                let position: i64 = row.get(0);
                let bytes: &[u8] = row.get(1);
                record::decode(u64::try_from(position).unwrap_or(0), bytes)
            })
            .collect()
    }
}

impl PostgresBackend {
    /// [`Backend::import`] in one transaction: holding the head row, checks that every event
    /// comes next and chains to its recorded hash, then inserts them all at once.
    async fn import_in_transaction(&self, events: &[RecordedEvent]) -> Result<Option<Head>> {
        let Some(last) = events.last() else { return Ok(None) };
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg_error)?;
        let lock = tx.prepare_cached("SELECT position, hash FROM heard_head FOR UPDATE").await.map_err(pg_error)?;
        let row = tx.query_one(&lock, &[]).await.map_err(pg_error)?;
        let mut head = head_from(row.get(0), row.get(1))?;

        let mut streams: Vec<&str> = events.iter().map(|event| event.stream.as_str()).collect();
        streams.sort_unstable();
        streams.dedup();
        let revisions = tx
            .prepare_cached("SELECT stream, revision FROM heard_streams WHERE stream = ANY($1)")
            .await
            .map_err(pg_error)?;
        let mut stream_heads: std::collections::HashMap<String, u64> = tx
            .query(&revisions, &[&streams])
            .await
            .map_err(pg_error)?
            .iter()
            .map(|row| (row.get::<_, String>(0), u64::try_from(row.get::<_, i64>(1)).unwrap_or(0)))
            .collect();

        let mut positions = Vec::with_capacity(events.len());
        let mut revisions = Vec::with_capacity(events.len());
        let mut records = Vec::with_capacity(events.len());
        for event in events {
            let stream = event.stream.as_str();
            let current = stream_heads.get(stream).copied();
            let expected = match event.revision {
                0 => ExpectedRevision::NoStream,
                revision => ExpectedRevision::Exact(revision - 1),
            };
            if !expected.accepts(current) {
                return Err(Error::WrongExpectedRevision { stream: stream.to_owned(), expected, actual: current });
            }
            let position = head.position + 1;
            let (bytes, hash) = record::seal_record(record::encode_body_of(event), &head.hash);
            if event.position != position || hash != event.hash {
                return Err(crate::writer::not_as_recorded(event.position, position));
            }
            positions.push(to_i64(position)?);
            revisions.push(to_i64(event.revision)?);
            records.push(bytes);
            stream_heads.insert(stream.to_owned(), event.revision);
            head = Head { position, hash };
        }
        let stream_names: Vec<&str> = events.iter().map(|event| event.stream.as_str()).collect();
        let categories: Vec<&str> = events.iter().map(|event| event.stream.category()).collect();
        let ids: Vec<Uuid> = events.iter().map(|event| event.id).collect();
        let insert = tx.prepare_cached(group::INSERT_EVENTS).await.map_err(pg_error)?;
        tx.execute(&insert, &[&positions, &stream_names, &categories, &revisions, &ids, &records])
            .await
            .map_err(pg_error)?;
        // Every stream of the page is in `stream_heads` now, at its last revision.
        let last_revisions: Vec<i64> = streams
            .iter()
            .map(|stream| stream_heads.get(*stream).map_or(Ok(0), |revision| to_i64(*revision)))
            .collect::<Result<_>>()?;
        let upsert = tx.prepare_cached(group::UPSERT_STREAMS).await.map_err(pg_error)?;
        tx.execute(&upsert, &[&streams, &last_revisions]).await.map_err(pg_error)?;
        let update = tx.prepare_cached("UPDATE heard_head SET position = $1, hash = $2").await.map_err(pg_error)?;
        tx.execute(&update, &[&to_i64(head.position)?, &head.hash.as_slice()]).await.map_err(pg_error)?;
        let notify = tx.prepare_cached("SELECT pg_notify($1, $2)").await.map_err(pg_error)?;
        tx.execute(&notify, &[&CHANNEL, &head.position.to_string()]).await.map_err(pg_error)?;
        tx.commit().await.map_err(pg_error)?;
        debug_assert_eq!(head.position, last.position);
        Ok(Some(head))
    }
}

/// Whether the database at `url` holds a Heard log (its schema was migrated), without
/// creating anything: for commands that must not turn a wrong URL into an empty store.
pub async fn holds_log(url: &str) -> Result<bool> {
    let config = parse_url(url)?;
    let (client, connection) = config.connect(NoTls).await.map_err(pg_error)?;
    let driver = tokio::spawn(connection);
    let found = client
        .query_one("SELECT to_regclass('heard_head') IS NOT NULL AND to_regclass('heard_events') IS NOT NULL", &[])
        .await
        .map_err(pg_error)
        .map(|row| row.get::<_, bool>(0));
    drop(client);
    let _ = driver.await;
    found
}

fn to_i64(n: u64) -> Result<i64> {
    i64::try_from(n).map_err(|_| Error::storage("a position or revision is beyond what PostgreSQL stores"))
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Follows other processes' appends: `LISTEN` on one connection, and a poll every
/// [`POLL_EVERY`] in case a notification was missed (or the connection dropped). Stops when the
/// backend closes or is dropped.
async fn listen(config: tokio_postgres::Config, shared: std::sync::Weak<Shared>, mut stop: watch::Receiver<bool>) {
    // Each notification's head position, when it names one.
    let (woken_tx, mut woken) = tokio::sync::mpsc::unbounded_channel::<Option<u64>>();
    let mut listener: Option<(tokio_postgres::Client, tokio::task::JoinHandle<()>)> = None;
    let mut poll = tokio::time::interval(POLL_EVERY);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if listener.as_ref().is_none_or(|(client, _)| client.is_closed()) {
            listener = connect_listener(&config, woken_tx.clone()).await;
        }
        let notified = tokio::select! {
            _ = stop.changed() => break,
            notified = woken.recv() => notified.flatten(),
            _ = poll.tick() => None,
        };
        if *stop.borrow() {
            break;
        }
        let Some(shared) = shared.upgrade() else { break };
        // This process's own appends (and anything already read) need no read of the head.
        let known = shared.head.lock().unwrap_or_else(|p| p.into_inner()).position;
        if notified.is_some_and(|position| position <= known) {
            continue;
        }
        match shared.read_head().await {
            Ok(head) => shared.publish(head),
            Err(error) => tracing::warn!(%error, "reading the PostgreSQL log head failed; retrying"),
        }
    }
    if let Some((_, driver)) = listener {
        driver.abort();
    }
}

async fn connect_listener(
    config: &tokio_postgres::Config,
    woken: tokio::sync::mpsc::UnboundedSender<Option<u64>>,
) -> Option<(tokio_postgres::Client, tokio::task::JoinHandle<()>)> {
    let (client, mut connection) = match connect(config).await {
        Ok(connected) => connected,
        Err(error) => {
            tracing::warn!(%error, "the PostgreSQL listener could not connect; polling meanwhile");
            return None;
        }
    };
    let driver = tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(note)) => {
                    if woken.send(note.payload().parse().ok()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    if let Err(error) = client.batch_execute(&format!("LISTEN {CHANNEL}")).await {
        tracing::warn!(error = %pg_error(error), "LISTEN failed; polling meanwhile");
        driver.abort();
        return None;
    }
    Some((client, driver))
}

#[async_trait]
impl Backend for PostgresBackend {
    async fn append(
        &self,
        stream: &StreamName,
        expected: ExpectedRevision,
        events: Vec<PreparedEvent>,
        sealed_with: Option<Arc<dyn KeyStore>>,
    ) -> Result<AppendOutcome> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        if events.is_empty() {
            return Err(Error::invalid_event("an append needs at least one event"));
        }
        // Keys are committed on their own before the event's transaction starts: see
        // `PostgresKeyStore`. For another key store this is where its keys become durable.
        if let Some(keys) = &sealed_with {
            keys.make_durable()?;
        }
        self.append_grouped(stream, expected, events).await
    }

    async fn import(&self, events: Vec<RecordedEvent>) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        if let Some(head) = self.import_in_transaction(&events).await? {
            self.shared.events_appended.fetch_add(events.len() as u64, Ordering::Relaxed);
            self.shared.commits.fetch_add(1, Ordering::Relaxed);
            self.shared.publish(head);
        }
        Ok(())
    }

    async fn read_stream(&self, stream: &StreamName, window: StreamWindow) -> Result<Vec<RecordedEvent>> {
        let max = clamp(window.max as u64);
        let from = clamp(window.from_revision);
        let sql = match window.direction {
            Direction::Forwards => {
                "SELECT position, record FROM heard_events WHERE stream = $1 AND revision >= $2
                 ORDER BY revision LIMIT $3"
            }
            Direction::Backwards => {
                "SELECT position, record FROM heard_events WHERE stream = $1 AND revision <= $2
                 ORDER BY revision DESC LIMIT $3"
            }
        };
        self.events(sql, &[&stream.as_str(), &from, &max]).await
    }

    async fn read_all(&self, from_position: u64, max: usize) -> Result<Vec<RecordedEvent>> {
        let sql = "SELECT position, record FROM heard_events WHERE position >= $1 ORDER BY position LIMIT $2";
        self.events(sql, &[&clamp(from_position), &clamp(max as u64)]).await
    }

    async fn read_category(&self, category: &str, from_position: u64, max: usize) -> Result<Vec<RecordedEvent>> {
        crate::types::validate_category(category)?;
        let sql = "SELECT position, record FROM heard_events WHERE category = $1 AND position >= $2
                   ORDER BY position LIMIT $3";
        self.events(sql, &[&category, &clamp(from_position), &clamp(max as u64)]).await
    }

    async fn stream_revision(&self, stream: &StreamName) -> Result<Option<u64>> {
        let client = self.client().await?;
        let statement =
            client.prepare_cached("SELECT revision FROM heard_streams WHERE stream = $1").await.map_err(pg_error)?;
        let row = client.query_opt(&statement, &[&stream.as_str()]).await.map_err(pg_error)?;
        Ok(row.map(|row| u64::try_from(row.get::<_, i64>(0)).unwrap_or(0)))
    }

    fn head(&self) -> Head {
        *self.shared.head.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn watch_head(&self) -> watch::Receiver<u64> {
        self.shared.head_tx.subscribe()
    }

    fn stats(&self) -> BackendStats {
        BackendStats {
            events_appended: self.shared.events_appended.load(Ordering::Relaxed),
            commits: self.shared.commits.load(Ordering::Relaxed),
            commit_seconds: self.shared.commit_seconds.snapshot(),
            append_seconds: Default::default(),
        }
    }

    async fn close(&self) -> Result<()> {
        self.closed.store(true, Ordering::Release);
        self.stop.send_replace(true);
        Ok(())
    }
}
