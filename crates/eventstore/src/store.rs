//! [`EventStore`]: the facade every service uses, over any [`Backend`].

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use uuid::Uuid;

use crate::backend::Backend;
use crate::crypto::{self, KeyStore, SubjectKey};
use crate::error::{Error, Result};
use crate::keyfile::FileKeyStore;
use crate::record::PreparedEvent;
use crate::sealed::Sealed;
use crate::segment_backend::SegmentBackend;
use crate::sled_backend::SledBackend;
use crate::types::BackendStats;
use crate::types::{
    AppendOutcome, Direction, ExpectedRevision, Head, NewEvent, Personal, PersonalFields, RecordedEvent, StreamName,
    StreamWindow, SubjectId,
};
use crate::upcast::Upcasters;

/// Which embedded backend holds the log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// Append-only segment files with in-memory indexes (`data/log`). The default.
    #[default]
    Segments,
    /// Everything in one sled tree (`data/sled-log`): simpler, and several times slower.
    Sled,
    /// A PostgreSQL database (`store.url`), which several Heard processes can share: see
    /// [`EventStore::open_postgres`] and [`EventStore::open_configured`].
    Postgres,
}

impl BackendKind {
    /// Which kind of log a data directory already holds, if any.
    pub fn detect(data_dir: &Path) -> Option<BackendKind> {
        if data_dir.join("log").is_dir() {
            Some(BackendKind::Segments)
        } else if data_dir.join("sled-log").is_dir() {
            Some(BackendKind::Sled)
        } else {
            None
        }
    }
}

impl std::str::FromStr for BackendKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "segments" => Ok(BackendKind::Segments),
            "sled" => Ok(BackendKind::Sled),
            "postgres" => Ok(BackendKind::Postgres),
            other => Err(format!("unknown backend {other:?}: use segments, sled or postgres")),
        }
    }
}

/// Longest event type name accepted.
const MAX_EVENT_TYPE_LEN: usize = 200;
/// Largest event data accepted (JSON bytes), so one bad request cannot fill the disk.
pub const MAX_EVENT_BYTES: usize = 4 * 1024 * 1024;

/// A model following the log, by name, with the position it has applied.
type ModelProgress = (&'static str, tokio::sync::watch::Receiver<u64>);

/// The event store: appends, reads, subscriptions; encrypts personal fields on the way in,
/// decrypts and upcasts on the way out. Cheap to clone.
#[derive(Clone)]
pub struct EventStore {
    backend: Arc<dyn Backend>,
    keys: Arc<dyn KeyStore>,
    upcasters: Arc<Upcasters>,
    /// Turns true on `close`, so that live subscriptions end (and release the store).
    closed: Arc<tokio::sync::watch::Sender<bool>>,
    /// Each model following the log, by name, with the position it has applied.
    models: Arc<std::sync::Mutex<Vec<ModelProgress>>>,
    /// The backend again when it is PostgreSQL: for [`Self::postgres_pool`] and
    /// [`Self::refresh_head`].
    postgres: Option<crate::PostgresBackend>,
    /// This process's mutex per [`Self::exclusive`] name.
    exclusive: Arc<crate::exclusive::Local>,
    /// Where erasures are noted for `heard restore`, when configured.
    register: Arc<std::sync::OnceLock<crate::erasure_register::ErasureRegister>>,
    /// How long each successful [`Self::append`] took, for [`Self::stats`].
    append_seconds: Arc<crate::latency::LatencyHistogram>,
}

impl std::fmt::Debug for EventStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStore").field("head", &self.head().position).finish()
    }
}

impl EventStore {
    /// Builds a store over any backend and key store.
    pub fn new(backend: Arc<dyn Backend>, keys: Arc<dyn KeyStore>, upcasters: Upcasters) -> Self {
        EventStore {
            backend,
            keys,
            upcasters: Arc::new(upcasters),
            closed: Arc::new(tokio::sync::watch::channel(false).0),
            models: Arc::default(),
            postgres: None,
            exclusive: Arc::default(),
            register: Arc::default(),
            append_seconds: Arc::default(),
        }
    }

    /// The embedded default: segment files in `data_dir/log`, subject keys in
    /// `data_dir/keys.heard` ([`FileKeyStore`]).
    pub fn open(data_dir: &Path, upcasters: Upcasters) -> Result<Self> {
        Self::open_embedded(data_dir, BackendKind::Segments, upcasters)
    }

    /// An embedded store with the chosen backend. Subject keys live in `data_dir/keys.heard`
    /// ([`FileKeyStore`]); an old sled key store in `data_dir/keys/` is moved into it and its
    /// files overwritten and removed.
    pub fn open_embedded(data_dir: &Path, kind: BackendKind, upcasters: Upcasters) -> Result<Self> {
        std::fs::create_dir_all(data_dir).map_err(Error::storage)?;
        if let Some(found) = BackendKind::detect(data_dir).filter(|found| *found != kind) {
            return Err(Error::Storage {
                detail: format!("this data directory holds a {found:?} log, not {kind:?}; set store.backend to match"),
            });
        }
        let backend: Arc<dyn Backend> = match kind {
            BackendKind::Segments => Arc::new(SegmentBackend::open(&data_dir.join("log"))?),
            BackendKind::Sled => Arc::new(SledBackend::open(&data_dir.join("sled-log"))?),
            BackendKind::Postgres => {
                return Err(Error::Storage {
                    detail: "store.backend = \"postgres\" keeps the log in PostgreSQL, not in the data directory: \
                             open it with EventStore::open_configured (store.url)"
                        .into(),
                });
            }
        };
        let keys = FileKeyStore::open_in(data_dir)?;
        Ok(Self::new(backend, Arc::new(keys), upcasters))
    }

    /// The store as configured: `kind` in `data_dir`, or, for [`BackendKind::Postgres`], the
    /// database at `url` (required then, and only then).
    pub async fn open_configured(
        data_dir: &Path,
        kind: BackendKind,
        url: Option<&str>,
        upcasters: Upcasters,
    ) -> Result<Self> {
        match (kind, url) {
            (BackendKind::Postgres, Some(url)) => Self::open_postgres(url, upcasters).await,
            (BackendKind::Postgres, None) => {
                Err(Error::Storage { detail: "store.backend = \"postgres\" needs store.url".into() })
            }
            (_, Some(_)) => {
                Err(Error::Storage { detail: "store.url is only used with store.backend = \"postgres\"".into() })
            }
            (kind, None) => {
                let data_dir = data_dir.to_owned();
                tokio::task::spawn_blocking(move || Self::open_embedded(&data_dir, kind, upcasters))
                    .await
                    .map_err(Error::storage)?
            }
        }
    }

    /// A store in PostgreSQL at `url` (`postgres://user@host:port/database`): the log in
    /// [`PostgresBackend`](crate::PostgresBackend), subject keys in
    /// [`PostgresKeyStore`](crate::PostgresKeyStore). Migrates the schema first. Several
    /// processes may open the same database at once.
    pub async fn open_postgres(url: &str, upcasters: Upcasters) -> Result<Self> {
        let config = crate::postgres_backend::parse_url(url)?;
        let backend = crate::PostgresBackend::open(config.clone()).await?;
        let keys = crate::PostgresKeyStore::open(config)?;
        let mut store = Self::new(Arc::new(backend.clone()), Arc::new(keys), upcasters);
        store.postgres = Some(backend);
        Ok(store)
    }

    /// The PostgreSQL connection pool when the log is in PostgreSQL (`None` for an embedded
    /// log): what several replicas over one database share beside the log lives in tables of
    /// the same schema (see [`crate::postgres_backend`]).
    pub fn postgres_pool(&self) -> Option<deadpool_postgres::Pool> {
        self.postgres.as_ref().map(crate::PostgresBackend::pool)
    }

    /// The head of the log as its storage has it now. For PostgreSQL this asks the database
    /// (and wakes this process's followers up to it), so it includes what other processes
    /// appended a moment ago; for an embedded log it is [`Self::head`]'s position.
    pub async fn refresh_head(&self) -> Result<u64> {
        match &self.postgres {
            Some(backend) => Ok(backend.refresh_head().await?.position),
            None => Ok(self.head().position),
        }
    }

    /// Takes the lock `name` (a constant of the code), waiting for whoever holds it, and holds
    /// it until the guard drops: within this process for an embedded log, and across every
    /// process over the database for PostgreSQL (a session advisory lock; see
    /// [`crate::exclusive`]). Fails after waiting [`crate::exclusive::WAIT_AT_MOST`].
    ///
    /// The lock says nothing about what the holder before appended: read up to the database's
    /// head ([`Self::refresh_head`]) once it is held, before deciding anything from a model.
    pub async fn exclusive(&self, name: &'static str) -> Result<crate::Exclusive> {
        let pool = self.postgres.as_ref().map(crate::PostgresBackend::pool);
        crate::exclusive::take(&self.exclusive, pool, name).await
    }

    /// Appends a batch of events to one stream, atomically. Acknowledged only once durable.
    pub async fn append(
        &self,
        stream: &StreamName,
        expected: ExpectedRevision,
        events: Vec<NewEvent>,
    ) -> Result<AppendOutcome> {
        if events.is_empty() {
            return Err(Error::invalid_event("an append needs at least one event"));
        }
        let started = std::time::Instant::now();
        let mut prepared = Vec::with_capacity(events.len());
        let mut ids = std::collections::HashSet::with_capacity(events.len());
        for event in events {
            if !ids.insert(event.id) {
                return Err(Error::invalid_event(format!("event id {} appears twice in one batch", event.id)));
            }
            prepared.push(self.prepare(stream, event)?);
        }
        let sealed_with = prepared.iter().any(|event| event.sealed.is_some()).then(|| self.keys.clone());
        let outcome = self.backend.append(stream, expected, prepared, sealed_with).await;
        if outcome.is_ok() {
            self.append_seconds.observe_since(started);
        }
        outcome
    }

    /// Starts `stream` with `event` unless it already exists: for seeding reference data. The
    /// event gets an id derived from the stream name, so two processes seeding at once, or a
    /// seed retried after a crash, add it once. Returns whether it was appended now.
    pub async fn seed(&self, stream: &StreamName, event: NewEvent) -> Result<bool> {
        if self.stream_revision(stream).await?.is_some() {
            return Ok(false);
        }
        let event = event.with_id(Uuid::new_v5(&Uuid::NAMESPACE_URL, stream.as_str().as_bytes()));
        match self.append(stream, ExpectedRevision::NoStream, vec![event]).await {
            Ok(outcome) => Ok(!outcome.already_appended),
            Err(Error::WrongExpectedRevision { .. }) => Ok(false),
            Err(error) => Err(error),
        }
    }

    fn prepare(&self, stream: &StreamName, event: NewEvent) -> Result<PreparedEvent> {
        let valid_type = !event.event_type.is_empty()
            && event.event_type.len() <= MAX_EVENT_TYPE_LEN
            && event.event_type.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
        if !valid_type {
            return Err(Error::invalid_event("an event type is 1–200 letters, digits, _ or ."));
        }
        let data = serde_json::to_vec(&event.data).map_err(|error| Error::invalid_event(error.to_string()))?;
        let metadata = serde_json::to_vec(&event.metadata).map_err(|error| Error::invalid_event(error.to_string()))?;
        if data.len() + metadata.len() > MAX_EVENT_BYTES {
            return Err(Error::invalid_event("an event is larger than 4 MiB"));
        }
        let sealed = match event.personal {
            None => None,
            Some(PersonalFields { subject, fields }) => {
                let key = self.keys.get_or_create(subject)?;
                Some(crypto::seal(&key, subject, stream, event.id, &fields)?)
            }
        };
        Ok(PreparedEvent {
            id: event.id,
            event_type: event.event_type,
            schema_version: event.schema_version,
            metadata,
            data,
            sealed,
        })
    }

    /// Upcasts and decrypts a raw record, its subject's key taken from `keys` (from
    /// [`KeyStore::get_many`], for every subject of the page being read).
    fn finish(&self, mut event: RecordedEvent, keys: &HashMap<SubjectId, Option<SubjectKey>>) -> Result<RecordedEvent> {
        self.upcasters.apply(&mut event)?;
        if let Personal::Sealed(sealed) = std::mem::replace(&mut event.personal, Personal::None) {
            let key = match keys.get(&sealed.subject) {
                Some(key) => key.clone(),
                None => self.keys.get(sealed.subject)?,
            };
            event.personal = match key {
                None => Personal::Erased { subject: sealed.subject },
                Some(key) => {
                    let fields = crypto::open(&key, &sealed, &event.stream, event.id)?;
                    let subject = sealed.subject;
                    event.sealed_personal = Some(sealed);
                    Personal::Plain(PersonalFields { subject, fields })
                }
            };
        }
        Ok(event)
    }

    /// Opens personal fields a read model kept sealed; `None` once the person was erased.
    /// The error names no value: a field that does not fit `T` is named by its shape only.
    pub fn unseal<T: serde::de::DeserializeOwned>(&self, sealed: &Sealed<T>) -> Result<Option<T>> {
        let Some(key) = self.keys.get(sealed.subject())? else {
            return Ok(None);
        };
        let (stream, parts) = sealed.parts();
        let stream = StreamName::new(stream)?;
        let fields = crypto::open(&key, &parts, &stream, sealed.event())?;
        serde_json::from_value(fields).map(Some).map_err(|error| Error::Crypto {
            detail: format!("kept personal fields do not fit: {:?}", error.classify()),
        })
    }

    /// Upcasts and decrypts a page of raw records, asking the key store once for every subject
    /// in it (one round trip on PostgreSQL, not one per event).
    fn finish_all(&self, events: Vec<RecordedEvent>) -> Result<Vec<RecordedEvent>> {
        let mut subjects: Vec<SubjectId> = events
            .iter()
            .filter_map(|event| match &event.personal {
                Personal::Sealed(sealed) => Some(sealed.subject),
                _ => None,
            })
            .collect();
        subjects.sort_unstable();
        subjects.dedup();
        let keys = if subjects.is_empty() { HashMap::new() } else { self.keys.get_many(&subjects)? };
        events.into_iter().map(|event| self.finish(event, &keys)).collect()
    }

    /// Reads a stream from `from_revision` (inclusive) in the given direction.
    pub async fn read_stream(
        &self,
        stream: &StreamName,
        from_revision: u64,
        direction: Direction,
        max: usize,
    ) -> Result<Vec<RecordedEvent>> {
        let raw = self.backend.read_stream(stream, StreamWindow { from_revision, direction, max }).await?;
        self.finish_all(raw)
    }

    /// Reads a whole stream forwards.
    pub async fn read_stream_to_end(&self, stream: &StreamName) -> Result<Vec<RecordedEvent>> {
        let mut events = Vec::new();
        loop {
            let from = events.last().map_or(0, |e: &RecordedEvent| e.revision + 1);
            let page = self.read_stream(stream, from, Direction::Forwards, 1024).await?;
            let done = page.len() < 1024;
            events.extend(page);
            if done {
                return Ok(events);
            }
        }
    }

    /// Reads the global log from `from_position` (inclusive; positions start at 1).
    pub async fn read_all(&self, from_position: u64, max: usize) -> Result<Vec<RecordedEvent>> {
        let raw = self.backend.read_all(from_position, max).await?;
        self.finish_all(raw)
    }

    /// Reads the global log without decrypting or upcasting: what is on disk.
    pub async fn read_all_raw(&self, from_position: u64, max: usize) -> Result<Vec<RecordedEvent>> {
        self.backend.read_all(from_position, max).await
    }

    /// Reads one category (every stream `category-*`) from `from_position` (inclusive).
    pub async fn read_category(&self, category: &str, from_position: u64, max: usize) -> Result<Vec<RecordedEvent>> {
        let raw = self.backend.read_category(category, from_position, max).await?;
        self.finish_all(raw)
    }

    /// The stream's last revision, `None` if it does not exist.
    pub async fn stream_revision(&self, stream: &StreamName) -> Result<Option<u64>> {
        self.backend.stream_revision(stream).await
    }

    pub fn head(&self) -> Head {
        self.backend.head()
    }

    pub fn watch_head(&self) -> tokio::sync::watch::Receiver<u64> {
        self.backend.watch_head()
    }

    /// The backend's counters, with how long this store's appends took (every clone of it
    /// counts into the same histogram). Lock-free: for `/metrics`.
    pub fn stats(&self) -> BackendStats {
        BackendStats { append_seconds: self.append_seconds.snapshot(), ..self.backend.stats() }
    }

    /// Destroys a person's key: every personal field sealed under it reads as erased from now
    /// on, while the log and its chain are unchanged.
    pub fn forget_subject(&self, subject: SubjectId) -> Result<bool> {
        self.note_erasures(&[subject])?;
        let destroyed = self.keys.destroy(subject)?;
        self.destroy_backup_keys(&[subject])?;
        Ok(destroyed)
    }

    /// Destroys the keys of several subjects at once (one person's, in an erasure), paying a
    /// key store's fixed cost of destruction once; returns how many keys there were.
    ///
    /// The register's note comes first (a restore can always erase them again), then their
    /// keys, then their backup keys in the keyring: should the keyring be held too long or fail,
    /// their words are gone all the same, and the error says so for the caller to try again
    /// (destroying twice does nothing).
    pub fn forget_subjects(&self, subjects: &[SubjectId]) -> Result<usize> {
        self.note_erasures(subjects)?;
        let destroyed = self.keys.destroy_all(subjects)?;
        self.destroy_backup_keys(subjects)?;
        Ok(destroyed)
    }

    /// From now on, every key this store destroys is first noted in the erasure register at
    /// `path` (see [`crate::erasure_register::ErasureRegister`]); fails if it cannot be opened for writing.
    pub fn keep_erasure_register(&self, path: &std::path::Path) -> Result<()> {
        let register = crate::erasure_register::ErasureRegister::open(path)?;
        let _ = self.register.set(register);
        Ok(())
    }

    fn note_erasures(&self, subjects: &[SubjectId]) -> Result<()> {
        match self.register.get() {
            Some(register) => register.note(subjects),
            None => Ok(()),
        }
    }

    fn destroy_backup_keys(&self, subjects: &[SubjectId]) -> Result<()> {
        match self.register.get() {
            Some(register) => register.destroy_backup_keys(subjects),
            None => Ok(()),
        }
    }

    /// The backend, for [`copy_store`](crate::copy::copy_store).
    pub(crate) fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// The key store, for [`copy_store`](crate::copy::copy_store).
    pub(crate) fn keys(&self) -> &Arc<dyn KeyStore> {
        &self.keys
    }

    /// The subject's key bytes, for tests that look for them on disk.
    #[cfg(test)]
    pub(crate) fn key_bytes(&self, subject: SubjectId) -> Result<Option<[u8; 32]>> {
        Ok(self.keys.get(subject)?.map(|key| *key.as_bytes()))
    }

    /// Flushes and stops the writer. Further appends fail with [`Error::Closed`].
    /// Live subscriptions end with [`Error::Closed`].
    pub async fn close(&self) -> Result<()> {
        let closed = self.backend.close().await;
        self.closed.send_replace(true);
        closed
    }

    /// Counts `name` among what follows this log, with the position it has `applied`: shown
    /// in [`Self::catch_up_progress`] and waited for by [`Self::models_reached`]. Every
    /// [`LiveModel`](crate::LiveModel) is counted; a service adds what else must have caught up
    /// before an erasure answers (the search index).
    pub fn following(&self, name: &'static str, applied: tokio::sync::watch::Receiver<u64>) {
        let mut models = self.models.lock().unwrap_or_else(|p| p.into_inner());
        models.retain(|(known, _)| *known != name);
        models.push((name, applied));
    }

    /// Each model following this log, with the position it has applied, in the order they
    /// started: while a model catches up after a start, this says how far it is.
    pub fn catch_up_progress(&self) -> Vec<(&'static str, u64)> {
        let models = self.models.lock().unwrap_or_else(|p| p.into_inner());
        models.iter().map(|(name, applied)| (*name, *applied.borrow())).collect()
    }

    /// Waits until every model following this log has applied `position`; `false` if one has
    /// not within `within`, or has stopped. An erasure answers only once this is true, so that
    /// no model and no search index still shows what it erased when the person asking is told
    /// it is done. The search index is counted by the
    /// feedback service, at the position it has committed and purged.
    pub async fn models_reached(&self, position: u64, within: std::time::Duration) -> bool {
        let following: Vec<ModelProgress> = {
            let models = self.models.lock().unwrap_or_else(|p| p.into_inner());
            models.clone()
        };
        let every = async {
            for (_, mut applied) in following {
                if applied.wait_for(|at| *at >= position).await.is_err() {
                    return false;
                }
            }
            true
        };
        tokio::time::timeout(within, every).await.unwrap_or(false)
    }

    /// Changes to `true` once the store is closed.
    pub fn watch_closed(&self) -> tokio::sync::watch::Receiver<bool> {
        self.closed.subscribe()
    }
}
