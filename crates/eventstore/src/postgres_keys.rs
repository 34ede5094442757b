//! [`PostgresKeyStore`]: subject keys in their own table, `heard_subject_keys`, next to the
//! PostgreSQL log (the schema is created by [`postgres_backend::migrate`](crate::postgres_backend::migrate)).
//!
//! - [`get_or_create`](KeyStore::get_or_create) commits a new key in its own transaction
//!   (`INSERT … ON CONFLICT DO NOTHING`, so two processes creating one subject's key at once
//!   agree on one) before it returns. The key is therefore durable before the event it seals is
//!   even planned, and [`make_durable`](KeyStore::make_durable) has nothing left to do. (Doing it
//!   inside the append's transaction would save a commit for a person's first event only, and
//!   would need the key store to know the backend's transaction; a key whose append then fails
//!   seals nothing, as with the key file.)
//! - [`destroy`](KeyStore::destroy) sets the key to NULL with the time it was destroyed (a
//!   tombstone: the subject never gets a key again, [`Error::SubjectErased`]), commits, then
//!   rewrites the table with `VACUUM FULL` so that the old row version, which still holds the
//!   key's bytes, is gone from the table's files (a plain `VACUUM` frees its space in the page
//!   but leaves the bytes there). The rewrite can only drop it once no transaction older than
//!   the destroy is still open, so the destroy first waits (up to 10 s, watching
//!   `pg_stat_activity`) until none is; if a long report on another connection still holds one
//!   then, it answers and goes on waiting in the background (up to an hour) to rewrite the
//!   table once that transaction ends, and says so in the log. An erasure destroys all of a
//!   person's keys at once ([`destroy_all`](KeyStore::destroy_all)): one transaction, one wait,
//!   one rewrite, however many keys. The bytes also stay in
//!   PostgreSQL's write-ahead log until it is recycled (as they stay in the file system's
//!   journal for the key file).
//!
//! The [`KeyStore`] trait is synchronous (it is called while an append is prepared), so the
//! store runs its own thread with its own small runtime and connection pool, and each call waits
//! for that thread's answer. Calling it from any runtime is safe: the answer never needs the
//! caller's runtime to make progress. On a multi-threaded runtime the wait is announced with
//! `block_in_place`, so the worker's other tasks move to another thread instead of stalling
//! behind a round trip to the database.
//!
//! # The cache of live keys
//!
//! Every event read back needs its subject's key, and every replica's followers read every new
//! event, so keys are cached in memory (as the embedded key file holds them all), bounded to
//! [`CACHE_ENTRIES`] and each entry trusted for [`CACHE_FOR`] at most. A page of the log asks
//! for all its subjects in one query ([`KeyStore::get_many`]).
//!
//! A destroyed key must stop opening words at once on every replica. So:
//! - a destroy in this process removes the key from this cache before and after the database
//!   forgets it;
//! - the destroy's transaction sends `NOTIFY heard_key_destroyed` with the subject's id (an
//!   opaque id, never a name); every replica `LISTEN`s on its own connection and drops the key;
//! - while that listener is not connected (or was reconnected, and so may have missed one) the
//!   cache is emptied and not used;
//! - every dropping bumps a generation, and a key read from the database is cached only if no
//!   dropping happened while it was read, so a read that raced a destroy cannot put it back;
//! - and no entry is trusted for longer than [`CACHE_FOR`] in any case.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_postgres::AsyncMessage;

use crate::crypto::{KeyStore, SubjectKey};
use crate::error::{Error, Result};
use crate::postgres_backend::{self, pg_error};
use crate::types::SubjectId;

/// Connections the key thread keeps.
const POOL_SIZE: usize = 4;
/// Live keys kept in memory at most.
pub const CACHE_ENTRIES: usize = 50_000;
/// How long a cached key is trusted without asking the database again.
pub const CACHE_FOR: Duration = Duration::from_secs(1);
/// The channel a destroy notifies every replica on, with the subject's id.
const DESTROYED: &str = "heard_key_destroyed";
/// How long the listener waits before connecting again after losing its connection.
const RECONNECT_AFTER: Duration = Duration::from_millis(500);

/// Live keys this process read or created lately; see the module docs.
#[derive(Default)]
struct Cache {
    entries: std::sync::Mutex<HashMap<SubjectId, (SubjectKey, Instant)>>,
    /// Bumped whenever anything is dropped from the cache.
    generation: AtomicU64,
    /// Whether the listener for other replicas' destroys is connected now.
    listening: AtomicBool,
}

impl Cache {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<SubjectId, (SubjectKey, Instant)>> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn get(&self, subject: SubjectId) -> Option<SubjectKey> {
        if !self.listening.load(Ordering::Acquire) {
            return None;
        }
        let entries = self.entries();
        entries.get(&subject).filter(|(_, at)| at.elapsed() < CACHE_FOR).map(|(key, _)| key.clone())
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Keeps live keys read from the database when nothing was dropped since `generation`.
    fn keep(&self, generation: u64, keys: impl IntoIterator<Item = (SubjectId, SubjectKey)>) {
        if !self.listening.load(Ordering::Acquire) {
            return;
        }
        let mut entries = self.entries();
        if self.generation() != generation {
            return;
        }
        let now = Instant::now();
        for (subject, key) in keys {
            if entries.len() >= CACHE_ENTRIES {
                entries.retain(|_, (_, at)| now.duration_since(*at) < CACHE_FOR);
                if entries.len() >= CACHE_ENTRIES {
                    entries.clear();
                }
            }
            entries.insert(subject, (key, now));
        }
    }

    fn drop_subject(&self, subject: SubjectId) {
        let mut entries = self.entries();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.remove(&subject);
    }

    fn drop_all(&self) {
        let mut entries = self.entries();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }
}

/// Every subject with its key, or `None` once destroyed.
type AllKeys = Vec<(SubjectId, Option<SubjectKey>)>;

enum Request {
    GetOrCreate(SubjectId, std::sync::mpsc::SyncSender<Result<SubjectKey>>),
    Get(SubjectId, std::sync::mpsc::SyncSender<Result<Option<SubjectKey>>>),
    GetMany(Vec<SubjectId>, std::sync::mpsc::SyncSender<Result<Vec<(SubjectId, SubjectKey)>>>),
    Destroy(Vec<SubjectId>, std::sync::mpsc::SyncSender<Result<usize>>),
    All(std::sync::mpsc::SyncSender<Result<AllKeys>>),
    Import(AllKeys, std::sync::mpsc::SyncSender<Result<()>>),
}

/// Subject keys in PostgreSQL; see the module docs.
pub struct PostgresKeyStore {
    requests: mpsc::UnboundedSender<Request>,
    cache: Arc<Cache>,
}

impl std::fmt::Debug for PostgresKeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresKeyStore").finish_non_exhaustive()
    }
}

impl PostgresKeyStore {
    /// Starts the key thread over `config`'s database (whose schema must be migrated).
    pub fn open(config: tokio_postgres::Config) -> Result<Self> {
        // The pool connects lazily, so its connections are driven by the key thread's runtime.
        let pool = postgres_backend::pool(config.clone(), POOL_SIZE)?;
        let (requests, mut incoming) = mpsc::unbounded_channel::<Request>();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(Error::storage)?;
        let cache = Arc::new(Cache::default());
        let listened = Arc::downgrade(&cache);
        let later = Arc::new(LaterRewrite::default());
        std::thread::Builder::new()
            .name("heard-pg-keys".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = tokio::spawn(listen_for_destroys(config, listened));
                    while let Some(request) = incoming.recv().await {
                        let (pool, later) = (pool.clone(), later.clone());
                        tokio::spawn(async move { answer(&pool, &later, request).await });
                    }
                    listener.abort();
                });
            })
            .map_err(Error::storage)?;
        Ok(PostgresKeyStore { requests, cache })
    }

    /// Whether this store holds `subject`'s key in memory (however old), for tests.
    #[cfg(test)]
    pub(crate) fn holds_in_memory(&self, subject: SubjectId) -> bool {
        self.cache.entries().contains_key(&subject)
    }

    /// Whether the listener for other replicas' destroys is connected, for tests.
    #[cfg(test)]
    pub(crate) fn listening(&self) -> bool {
        self.cache.listening.load(Ordering::Acquire)
    }

    /// Opens over a `postgres://` URL.
    pub fn open_url(url: &str) -> Result<Self> {
        Self::open(postgres_backend::parse_url(url)?)
    }

    fn ask<T>(&self, make: impl FnOnce(std::sync::mpsc::SyncSender<Result<T>>) -> Request) -> Result<T> {
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        self.requests.send(make(reply)).map_err(|_| Error::Closed)?;
        let wait = || answer.recv().map_err(|_| Error::storage("the PostgreSQL key store stopped"));
        // On a worker of a multi-threaded runtime, hand the worker's other tasks over while this
        // waits on the database (a current-thread runtime cannot, and a plain thread need not).
        let on_worker = tokio::runtime::Handle::try_current()
            .is_ok_and(|runtime| runtime.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if on_worker { tokio::task::block_in_place(wait)? } else { wait()? }
    }
}

/// Listens for other replicas' destroys and drops their keys from `cache`; while it is not
/// connected the cache is empty and unused. Ends when the store is dropped.
async fn listen_for_destroys(config: tokio_postgres::Config, cache: std::sync::Weak<Cache>) {
    loop {
        let Some(alive) = cache.upgrade() else { return };
        alive.listening.store(false, Ordering::Release);
        alive.drop_all();
        drop(alive);
        match postgres_backend::connect(&config).await {
            Ok((client, mut connection)) => {
                let notified = cache.clone();
                let messages = async move {
                    let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
                    while let Some(message) = messages.next().await {
                        let Some(alive) = notified.upgrade() else { return };
                        match message {
                            Ok(AsyncMessage::Notification(note)) if note.channel() == DESTROYED => {
                                match note.payload().parse::<uuid::Uuid>() {
                                    Ok(subject) => alive.drop_subject(SubjectId(subject)),
                                    // Not ours to read: forget everything rather than guess.
                                    Err(_) => alive.drop_all(),
                                }
                            }
                            Ok(_) => {}
                            Err(_) => return,
                        }
                    }
                };
                let driver = tokio::spawn(messages);
                match client.batch_execute(&format!("LISTEN {DESTROYED}")).await {
                    Ok(()) => {
                        if let Some(alive) = cache.upgrade() {
                            // A read that began before this LISTEN may hold a key destroyed
                            // unheard: the new generation keeps it out of the cache.
                            alive.drop_all();
                            alive.listening.store(true, Ordering::Release);
                        }
                        let _ = driver.await;
                    }
                    Err(error) => {
                        tracing::warn!(error = %pg_error(error), "cannot LISTEN for destroyed keys; not caching keys meanwhile");
                        driver.abort();
                    }
                }
            }
            Err(error) => {
                tracing::warn!(%error, "the key listener cannot connect; not caching keys meanwhile");
            }
        }
        tokio::time::sleep(RECONNECT_AFTER).await;
    }
}

async fn answer(pool: &deadpool_postgres::Pool, later: &Arc<LaterRewrite>, request: Request) {
    match request {
        Request::GetOrCreate(subject, reply) => {
            let _ = reply.send(get_or_create(pool, subject).await);
        }
        Request::Get(subject, reply) => {
            let _ = reply.send(get(pool, subject).await);
        }
        Request::GetMany(subjects, reply) => {
            let _ = reply.send(get_many(pool, &subjects).await);
        }
        Request::Destroy(subjects, reply) => {
            let _ = reply.send(destroy(pool, later, &subjects).await);
        }
        Request::All(reply) => {
            let _ = reply.send(all_keys(pool).await);
        }
        Request::Import(keys, reply) => {
            let _ = reply.send(import_keys(pool, &keys).await);
        }
    }
}

async fn all_keys(pool: &deadpool_postgres::Pool) -> Result<AllKeys> {
    let client = client(pool).await?;
    let rows = client.query("SELECT subject, key FROM heard_subject_keys", &[]).await.map_err(pg_error)?;
    rows.iter()
        .map(|row| {
            let subject = SubjectId(row.get(0));
            row.get::<_, Option<Vec<u8>>>(1).map(key_from).transpose().map(|key| (subject, key))
        })
        .collect()
}

/// Inserts every key and tombstone in one autocommitted statement; a subject already there
/// fails it whole (the primary key), and nothing is stored.
async fn import_keys(pool: &deadpool_postgres::Pool, keys: &AllKeys) -> Result<()> {
    let client = client(pool).await?;
    let subjects: Vec<uuid::Uuid> = keys.iter().map(|(subject, _)| subject.0).collect();
    let bytes: Vec<Option<&[u8]>> = keys.iter().map(|(_, key)| key.as_ref().map(|k| k.as_bytes().as_slice())).collect();
    let insert = "INSERT INTO heard_subject_keys (subject, key, destroyed_at)
                  SELECT subject, key, CASE WHEN key IS NULL THEN now() END
                  FROM unnest($1::uuid[], $2::bytea[]) AS copied (subject, key)";
    match client.execute(insert, &[&subjects, &bytes]).await {
        Ok(_) => Ok(()),
        Err(error) if error.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) => {
            Err(crate::crypto::already_known())
        }
        Err(error) => Err(pg_error(error)),
    }
}

async fn client(pool: &deadpool_postgres::Pool) -> Result<deadpool_postgres::Object> {
    pool.get().await.map_err(postgres_backend::pool_error)
}

/// The stored key: `Some(Some(key))` live, `Some(None)` destroyed, `None` never created.
async fn stored(client: &deadpool_postgres::Object, subject: SubjectId) -> Result<Option<Option<SubjectKey>>> {
    let statement =
        client.prepare_cached("SELECT key FROM heard_subject_keys WHERE subject = $1").await.map_err(pg_error)?;
    let row = client.query_opt(&statement, &[&subject.0]).await.map_err(pg_error)?;
    row.map(|row| row.get::<_, Option<Vec<u8>>>(0).map(key_from).transpose()).transpose()
}

fn key_from(bytes: Vec<u8>) -> Result<SubjectKey> {
    let bytes: [u8; 32] =
        bytes.try_into().map_err(|_| Error::Crypto { detail: "a stored key has the wrong length".into() })?;
    Ok(SubjectKey::from_bytes(bytes))
}

async fn get_or_create(pool: &deadpool_postgres::Pool, subject: SubjectId) -> Result<SubjectKey> {
    let client = client(pool).await?;
    match stored(&client, subject).await? {
        Some(Some(key)) => return Ok(key),
        Some(None) => return Err(Error::SubjectErased),
        None => {}
    }
    let fresh = SubjectKey::generate();
    let insert = client
        .prepare_cached(
            "INSERT INTO heard_subject_keys (subject, key) VALUES ($1, $2) ON CONFLICT (subject) DO NOTHING",
        )
        .await
        .map_err(pg_error)?;
    // Autocommit: committed (and, with synchronous_commit on, durable) when this returns.
    let inserted = client.execute(&insert, &[&subject.0, &fresh.as_bytes().as_slice()]).await.map_err(pg_error)?;
    if inserted == 1 {
        return Ok(fresh);
    }
    // Another process created (or destroyed) it first.
    match stored(&client, subject).await? {
        Some(Some(key)) => Ok(key),
        Some(None) => Err(Error::SubjectErased),
        None => Err(Error::storage("a subject key vanished while it was created")),
    }
}

async fn get(pool: &deadpool_postgres::Pool, subject: SubjectId) -> Result<Option<SubjectKey>> {
    let client = client(pool).await?;
    Ok(stored(&client, subject).await?.flatten())
}

/// The live keys among `subjects`, in one query.
async fn get_many(pool: &deadpool_postgres::Pool, subjects: &[SubjectId]) -> Result<Vec<(SubjectId, SubjectKey)>> {
    let client = client(pool).await?;
    let statement = client
        .prepare_cached("SELECT subject, key FROM heard_subject_keys WHERE subject = ANY($1) AND key IS NOT NULL")
        .await
        .map_err(pg_error)?;
    let ids: Vec<uuid::Uuid> = subjects.iter().map(|subject| subject.0).collect();
    let rows = client.query(&statement, &[&ids]).await.map_err(pg_error)?;
    rows.into_iter().map(|row| Ok((SubjectId(row.get(0)), key_from(row.get(1))?))).collect()
}

/// Destroys the keys of `subjects` in one transaction (tombstones for those that had none) and
/// rewrites the table without their old row versions, at once or, while an older transaction
/// is open, later ([`LaterRewrite`]); returns how many keys there were.
async fn destroy(pool: &deadpool_postgres::Pool, later: &Arc<LaterRewrite>, subjects: &[SubjectId]) -> Result<usize> {
    let client = client(pool).await?;
    let ids: Vec<uuid::Uuid> = subjects.iter().map(|subject| subject.0).collect();
    // One statement, so one transaction: the keys go, a tombstone keeps a subject that never had
    // one from getting one later, and every replica is told, on commit.
    let erase = client
        .prepare_cached(
            "WITH destroyed AS (
                 UPDATE heard_subject_keys SET key = NULL, destroyed_at = now()
                 WHERE subject = ANY($1) AND key IS NOT NULL
                 RETURNING subject
             ), tombstones AS (
                 INSERT INTO heard_subject_keys (subject, key, destroyed_at)
                 SELECT unnest($1::uuid[]), NULL, now()
                 ON CONFLICT (subject) DO NOTHING
             )
             SELECT (pg_current_xact_id()::text::bigint % 4294967296)::text, count(*)
             FROM destroyed, LATERAL (SELECT pg_notify($2, destroyed.subject::text)) AS told",
        )
        .await
        .map_err(pg_error)?;
    let row = client.query_one(&erase, &[&ids, &DESTROYED]).await.map_err(pg_error)?;
    let (destroyed_in, destroyed): (String, i64) = (row.get(0), row.get(1));
    if destroyed == 0 {
        return Ok(0);
    }
    let destroyed = usize::try_from(destroyed).unwrap_or(usize::MAX);
    if later.pending() {
        // An older transaction is known to be open: waiting here too would only hold a
        // connection. The rewrite already waiting covers this destroy as well.
        later.after(pool, destroyed_in);
        return Ok(destroyed);
    }
    // The old row version still holds the key's bytes until the table is rewritten without it,
    // which can happen only once no transaction older than the destroy is open.
    match rewrite_once_nothing_older_is_open(&client, &destroyed_in, OLDER_TRANSACTIONS_WAIT).await {
        Ok(true) => return Ok(destroyed),
        Ok(false) => tracing::warn!(
            "a database transaction older than a key's destruction is still open; the key's old row \
             version stays in the table's file until it ends, and Heard rewrites the table then"
        ),
        // The keys are gone from every answer already: the erasure stands, and the rewrite is
        // tried again in the background.
        Err(error) => tracing::warn!(%error, "the keys table could not be rewritten yet; Heard tries again"),
    }
    drop(client);
    later.after(pool, destroyed_in);
    Ok(destroyed)
}

/// The rewrite of the keys table that waits, in the background, for the transactions older
/// than a destroy to end: at most one per key store, holding one connection, however many
/// erasures arrive while a long report is open (each would otherwise hold a connection of the
/// store's small pool for up to an hour, and new people's keys would wait behind them). An
/// erasure meanwhile only moves its target on to its own, newer, transaction: one rewrite
/// after the newest destroy removes every older one's row versions too.
#[derive(Debug, Default)]
struct LaterRewrite {
    /// The newest destroy's transaction id, while a rewrite waits.
    newest: std::sync::Mutex<Option<String>>,
}

impl LaterRewrite {
    fn newest(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.newest.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a rewrite is waiting now.
    fn pending(&self) -> bool {
        self.newest().is_some()
    }

    /// Makes sure a rewrite follows the destroy in transaction `xid`: starts one, or moves the
    /// waiting one on to `xid`.
    fn after(self: &Arc<Self>, pool: &deadpool_postgres::Pool, xid: String) {
        {
            let mut newest = self.newest();
            if let Some(waiting) = newest.as_mut() {
                // Destroys answer in any order: keep the newest transaction (by its number,
                // which wraps only every four billion transactions).
                let number = |xid: &str| xid.parse::<u64>().unwrap_or(0);
                if number(&xid) > number(waiting) {
                    *waiting = xid;
                }
                return;
            }
            *newest = Some(xid);
        }
        let (this, pool) = (self.clone(), pool.clone());
        tokio::spawn(async move {
            let deadline = Instant::now() + OLDER_TRANSACTIONS_LATER;
            loop {
                let Some(xid) = this.newest().clone() else { return };
                let left = deadline.saturating_duration_since(Instant::now());
                let outcome = match client(&pool).await {
                    Ok(client) => rewrite_once_nothing_older_is_open(&client, &xid, left).await,
                    Err(error) => Err(error),
                };
                match outcome {
                    Ok(true) => {
                        let mut newest = this.newest();
                        if newest.as_deref() == Some(xid.as_str()) {
                            *newest = None;
                            return tracing::info!(
                                "the destroyed keys' old row versions are gone from the table's file"
                            );
                        }
                        // A newer destroy arrived meanwhile: once more, for it.
                    }
                    Ok(false) => {
                        *this.newest() = None;
                        return tracing::error!(
                            "a database transaction has stayed open for an hour since a key was destroyed; \
                             the key's old row version goes at the next erasure's rewrite after it ends"
                        );
                    }
                    Err(error) if Instant::now() < deadline => {
                        tracing::warn!(%error, "the keys table could not be rewritten yet; Heard tries again");
                        tokio::time::sleep(REWRITE_LOCK_WAIT).await;
                    }
                    Err(error) => {
                        *this.newest() = None;
                        return tracing::error!(%error, "cannot rewrite the keys table");
                    }
                }
            }
        });
    }
}

/// Rewrites the keys table without its dead row versions: `VACUUM FULL`, which copies the live
/// rows into new files and truncates the old ones. A plain `VACUUM` is not enough: it frees a
/// dead row's space in its page but leaves the bytes there until a later row happens to
/// overwrite them, so a destroyed key would stay readable in the table's file.
///
/// The rewrite holds the table exclusively for as long as it takes (a key for each person, so
/// milliseconds for thousands and about a second for a million), and waits at most
/// [`REWRITE_LOCK_WAIT`] for a reader holding it; past that it gives up with an error, and the
/// caller's background retry or the next erasure rewrites it.
async fn rewrite_keys_table(client: &deadpool_postgres::Object) -> Result<()> {
    client
        .batch_execute(&format!("SET lock_timeout = '{}ms'", REWRITE_LOCK_WAIT.as_millis()))
        .await
        .map_err(pg_error)?;
    let rewritten = client.batch_execute("VACUUM FULL heard_subject_keys").await.map_err(pg_error);
    client.batch_execute("RESET lock_timeout").await.map_err(pg_error)?;
    rewritten
}

/// How long the rewrite of the keys table waits for someone else's lock on it.
const REWRITE_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// How long an erasure waits for older transactions before it answers.
const OLDER_TRANSACTIONS_WAIT: std::time::Duration = std::time::Duration::from_secs(10);
/// How long Heard goes on waiting after that, in the background.
const OLDER_TRANSACTIONS_LATER: Duration = Duration::from_secs(3600);

/// Waits (up to `patience`) until no transaction that began before transaction `xid` is still
/// open, then rewrites the keys table ([`rewrite_keys_table`]); false when one still was.
///
/// Two kinds of older transaction keep the destroyed row version alive through `VACUUM FULL`:
/// a snapshot or transaction in this database older than the destroy (a long report), and a
/// writing transaction in *any* database of the server that began before it. The second does
/// not hold this database's rows directly, but every new snapshot here, the rewrite's own
/// included, takes the oldest running transaction of the whole server as its horizon, so the
/// rewrite would keep the old version as "recently dead". `pg_current_snapshot()`'s xmin sees
/// those, without the privileges `pg_stat_activity` needs to show other users' sessions.
async fn rewrite_once_nothing_older_is_open(
    client: &deadpool_postgres::Object,
    xid: &str,
    patience: std::time::Duration,
) -> Result<bool> {
    let deadline = std::time::Instant::now() + patience;
    let older = client
        .prepare_cached(
            "SELECT (SELECT count(*) FROM pg_stat_activity
                     WHERE datname = current_database() AND pid <> pg_backend_pid()
                       AND ((backend_xmin IS NOT NULL AND age(backend_xmin) >= age($1::text::xid))
                         OR (backend_xid IS NOT NULL AND age(backend_xid) >= age($1::text::xid))))
                  + (age((pg_snapshot_xmin(pg_current_snapshot())::text::bigint % 4294967296)::text::xid)
                       >= age($1::text::xid))::int",
        )
        .await
        .map_err(pg_error)?;
    let nothing_older = loop {
        let open: i64 = client.query_one(&older, &[&xid]).await.map_err(pg_error)?.get(0);
        if open == 0 {
            break true;
        }
        if std::time::Instant::now() >= deadline {
            break false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    rewrite_keys_table(client).await?;
    Ok(nothing_older)
}

impl KeyStore for PostgresKeyStore {
    fn get_or_create(&self, subject: SubjectId) -> Result<SubjectKey> {
        if let Some(key) = self.cache.get(subject) {
            return Ok(key);
        }
        let generation = self.cache.generation();
        let key = self.ask(|reply| Request::GetOrCreate(subject, reply))?;
        self.cache.keep(generation, [(subject, key.clone())]);
        Ok(key)
    }

    /// Nothing to do: [`get_or_create`](KeyStore::get_or_create) commits each new key itself.
    fn make_durable(&self) -> Result<()> {
        Ok(())
    }

    fn get(&self, subject: SubjectId) -> Result<Option<SubjectKey>> {
        if let Some(key) = self.cache.get(subject) {
            return Ok(Some(key));
        }
        let generation = self.cache.generation();
        let key = self.ask(|reply| Request::Get(subject, reply))?;
        if let Some(key) = &key {
            self.cache.keep(generation, [(subject, key.clone())]);
        }
        Ok(key)
    }

    fn get_many(&self, subjects: &[SubjectId]) -> Result<HashMap<SubjectId, Option<SubjectKey>>> {
        let mut found = HashMap::with_capacity(subjects.len());
        let mut missing = Vec::new();
        for subject in subjects {
            match self.cache.get(*subject) {
                Some(key) => {
                    found.insert(*subject, Some(key));
                }
                None => missing.push(*subject),
            }
        }
        if !missing.is_empty() {
            let generation = self.cache.generation();
            let live = self.ask(|reply| Request::GetMany(missing.clone(), reply))?;
            self.cache.keep(generation, live.iter().cloned());
            for subject in missing {
                found.insert(subject, None);
            }
            found.extend(live.into_iter().map(|(subject, key)| (subject, Some(key))));
        }
        Ok(found)
    }

    fn destroy(&self, subject: SubjectId) -> Result<bool> {
        Ok(self.destroy_all(&[subject])? > 0)
    }

    /// All in one transaction, with one wait for older transactions and one rewrite.
    fn destroy_all(&self, subjects: &[SubjectId]) -> Result<usize> {
        for subject in subjects {
            self.cache.drop_subject(*subject);
        }
        let destroyed = self.ask(|reply| Request::Destroy(subjects.to_vec(), reply));
        for subject in subjects {
            self.cache.drop_subject(*subject);
        }
        destroyed
    }

    fn all_keys(&self) -> Result<AllKeys> {
        self.ask(Request::All)
    }

    fn import_keys(&self, keys: &[(SubjectId, Option<SubjectKey>)]) -> Result<()> {
        self.ask(|reply| Request::Import(keys.to_vec(), reply))
    }
}
