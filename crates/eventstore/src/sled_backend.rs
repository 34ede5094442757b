//! The embedded default backend: one sled tree on disk, written by a single writer thread.
//!
//! # Keys (one tree, so that one `sled::Batch` commits everything atomically)
//!
//! ```text
//! e ‖ position(8)                 → record (see `record`)
//! s ‖ stream ‖ 0x00 ‖ revision(8) → position(8)
//! h ‖ stream                      → last revision(8)
//! i ‖ event id(16)                → position(8) ‖ revision(8) ‖ stream     (idempotency index)
//! c ‖ category ‖ 0x00 ‖ position(8) → ()                                   (category index)
//! m ‖ "head"                      → position(8) ‖ hash(32)
//! ```
//!
//! # Group commit
//!
//! Appends are sent to one writer thread. It takes every request waiting in its queue, checks
//! each against the stream heads (its in-memory cache is authoritative because nobody else
//! writes), assigns positions and hashes, applies all of them as one atomic sled batch and
//! calls `flush` (fsync) once. Only then are the appends acknowledged and the durable head
//! moved on, so readers never see an event that could still be lost.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot, watch};
use uuid::Uuid;

use crate::backend::{Backend, BackendStats};
use crate::error::{Error, Result};
use crate::record::{self, PreparedEvent};
use crate::types::{AppendOutcome, Direction, ExpectedRevision, Head, RecordedEvent, StreamName};

const EVENT: u8 = b'e';
const STREAM: u8 = b's';
const STREAM_HEAD: u8 = b'h';
const EVENT_ID: u8 = b'i';
const CATEGORY: u8 = b'c';
const META_HEAD: &[u8] = b"mhead";

/// How many queued appends one commit takes at most.
const MAX_GROUP: usize = 4096;

struct AppendRequest {
    stream: StreamName,
    expected: ExpectedRevision,
    events: Vec<PreparedEvent>,
    reply: oneshot::Sender<Result<AppendOutcome>>,
}

struct Shared {
    tree: sled::Tree,
    durable_head: AtomicU64,
    head: std::sync::Mutex<Head>,
    head_tx: watch::Sender<u64>,
    poisoned: AtomicBool,
    events_appended: AtomicU64,
    commits: AtomicU64,
}

/// The sled backend. Cheap to clone.
#[derive(Clone)]
pub struct SledBackend {
    shared: Arc<Shared>,
    db: sled::Db,
    sender: Arc<std::sync::Mutex<Option<mpsc::UnboundedSender<AppendRequest>>>>,
    writer: Arc<std::sync::Mutex<Option<std::thread::JoinHandle<()>>>>,
}

impl SledBackend {
    /// Opens (or creates) the log in `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let db = sled::Config::new().path(path).open()?;
        let tree = db.open_tree("log")?;
        let head = load_head(&tree)?;
        let (head_tx, _) = watch::channel(head.position);
        let shared = Arc::new(Shared {
            tree,
            durable_head: AtomicU64::new(head.position),
            head: std::sync::Mutex::new(head),
            head_tx,
            poisoned: AtomicBool::new(false),
            events_appended: AtomicU64::new(0),
            commits: AtomicU64::new(0),
        });
        let (sender, receiver) = mpsc::unbounded_channel();
        let writer_shared = shared.clone();
        let writer_db = db.clone();
        let writer = std::thread::Builder::new()
            .name("heard-log-writer".into())
            .spawn(move || Writer::new(writer_shared, writer_db, head).run(receiver))
            .map_err(Error::storage)?;
        Ok(SledBackend {
            shared,
            db,
            sender: Arc::new(std::sync::Mutex::new(Some(sender))),
            writer: Arc::new(std::sync::Mutex::new(Some(writer))),
        })
    }

    fn durable(&self) -> u64 {
        self.shared.durable_head.load(Ordering::Acquire)
    }

    fn event_at(&self, position: u64) -> Result<RecordedEvent> {
        let bytes =
            self.shared.tree.get(event_key(position))?.ok_or_else(|| {
                Error::corrupt(position, "an indexed event is missing from the log")
            })?;
        record::decode(position, &bytes)
    }
}

fn load_head(tree: &sled::Tree) -> Result<Head> {
    let last_event = tree.scan_prefix([EVENT]).next_back().transpose()?;
    let stored = tree.get(META_HEAD)?;
    match (stored, last_event) {
        (None, None) => Ok(Head::EMPTY),
        (Some(bytes), last) => {
            if bytes.len() != 40 {
                return Err(Error::corrupt(0, "the stored head has the wrong length"));
            }
            let position = u64::from_be_bytes(bytes[..8].try_into().unwrap_or_default());
            let mut hash = [0; 32];
            hash.copy_from_slice(&bytes[8..]);
            let last_position = last
                .map(|(key, _)| position_from_event_key(&key))
                .transpose()?
                .unwrap_or(0);
            if last_position != position {
                return Err(Error::corrupt(
                    position,
                    format!("the head says {position} but the last event is at {last_position}"),
                ));
            }
            Ok(Head { position, hash })
        }
        (None, Some((key, _))) => {
            let position = position_from_event_key(&key)?;
            Err(Error::corrupt(
                position,
                "events exist but the head record is missing",
            ))
        }
    }
}

fn event_key(position: u64) -> [u8; 9] {
    let mut key = [EVENT; 9];
    key[1..].copy_from_slice(&position.to_be_bytes());
    key
}

fn position_from_event_key(key: &[u8]) -> Result<u64> {
    key.get(1..9)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| Error::corrupt(0, "an event key has the wrong length"))
}

fn stream_prefix(stream: &StreamName) -> Vec<u8> {
    let mut key = Vec::with_capacity(stream.as_str().len() + 2);
    key.push(STREAM);
    key.extend_from_slice(stream.as_str().as_bytes());
    key.push(0);
    key
}

fn stream_key(stream: &StreamName, revision: u64) -> Vec<u8> {
    let mut key = stream_prefix(stream);
    key.extend_from_slice(&revision.to_be_bytes());
    key
}

fn stream_head_key(stream: &StreamName) -> Vec<u8> {
    let mut key = vec![STREAM_HEAD];
    key.extend_from_slice(stream.as_str().as_bytes());
    key
}

fn category_prefix(category: &str) -> Vec<u8> {
    let mut key = vec![CATEGORY];
    key.extend_from_slice(category.as_bytes());
    key.push(0);
    key
}

fn event_id_key(id: Uuid) -> [u8; 17] {
    let mut key = [EVENT_ID; 17];
    key[1..].copy_from_slice(id.as_bytes());
    key
}

fn be_u64(bytes: &[u8], position: u64) -> Result<u64> {
    bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| Error::corrupt(position, "an index entry has the wrong length"))
}

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// Where an already-appended event id lives.
#[derive(Clone)]
struct KnownEvent {
    position: u64,
    revision: u64,
    stream: String,
}

struct Writer {
    shared: Arc<Shared>,
    db: sled::Db,
    head: Head,
    stream_heads: HashMap<StreamName, Option<u64>>,
}

impl Writer {
    fn new(shared: Arc<Shared>, db: sled::Db, head: Head) -> Self {
        Writer {
            shared,
            db,
            head,
            stream_heads: HashMap::new(),
        }
    }

    fn run(mut self, mut receiver: mpsc::UnboundedReceiver<AppendRequest>) {
        while let Some(first) = receiver.blocking_recv() {
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match receiver.try_recv() {
                    Ok(request) => group.push(request),
                    Err(_) => break,
                }
            }
            self.commit_group(group);
        }
        if let Err(error) = self.db.flush() {
            tracing::error!(%error, "final flush of the event log failed");
        }
    }

    fn stream_head(&mut self, stream: &StreamName) -> Result<Option<u64>> {
        if let Some(head) = self.stream_heads.get(stream) {
            return Ok(*head);
        }
        let head = match self.shared.tree.get(stream_head_key(stream))? {
            Some(bytes) => Some(be_u64(&bytes, 0)?),
            None => None,
        };
        self.stream_heads.insert(stream.clone(), head);
        Ok(head)
    }

    fn known_event(
        &self,
        id: Uuid,
        staged: &HashMap<Uuid, KnownEvent>,
    ) -> Result<Option<KnownEvent>> {
        if let Some(known) = staged.get(&id) {
            return Ok(Some(known.clone()));
        }
        let Some(bytes) = self.shared.tree.get(event_id_key(id))? else {
            return Ok(None);
        };
        if bytes.len() < 16 {
            return Err(Error::corrupt(
                0,
                "an idempotency entry has the wrong length",
            ));
        }
        let position = be_u64(&bytes[..8], 0)?;
        let revision = be_u64(&bytes[8..16], position)?;
        let stream = String::from_utf8(bytes[16..].to_vec())
            .map_err(|_| Error::corrupt(position, "an idempotency entry is not UTF-8"))?;
        Ok(Some(KnownEvent {
            position,
            revision,
            stream,
        }))
    }

    fn commit_group(&mut self, group: Vec<AppendRequest>) {
        if self.shared.poisoned.load(Ordering::Acquire) {
            for request in group {
                let _ = request.reply.send(Err(Error::Poisoned));
            }
            return;
        }
        let mut batch = sled::Batch::default();
        let mut staged_heads: HashMap<StreamName, Option<u64>> = HashMap::new();
        let mut staged_ids: HashMap<Uuid, KnownEvent> = HashMap::new();
        let mut head = self.head;
        let recorded_at = now_micros();
        let mut replies = Vec::with_capacity(group.len());
        for request in group {
            let outcome = self.plan(
                &request,
                &mut batch,
                &mut staged_heads,
                &mut staged_ids,
                &mut head,
                recorded_at,
            );
            replies.push((request.reply, outcome));
        }
        let wrote_anything = head.position != self.head.position;
        if wrote_anything {
            for (stream, revision) in &staged_heads {
                if let Some(revision) = revision {
                    batch.insert(stream_head_key(stream), &revision.to_be_bytes());
                }
            }
            let mut head_value = Vec::with_capacity(40);
            head_value.extend_from_slice(&head.position.to_be_bytes());
            head_value.extend_from_slice(&head.hash);
            batch.insert(META_HEAD, head_value);
            let committed = self
                .shared
                .tree
                .apply_batch(batch)
                .and_then(|()| self.db.flush().map(|_| ()));
            if let Err(error) = committed {
                tracing::error!(%error, "event log commit failed; refusing further writes");
                self.shared.poisoned.store(true, Ordering::Release);
                for (reply, outcome) in replies {
                    let _ = reply.send(outcome.and(Err(Error::Poisoned)));
                }
                return;
            }
            let appended = head.position - self.head.position;
            self.head = head;
            self.stream_heads.extend(staged_heads);
            if let Ok(mut shared_head) = self.shared.head.lock() {
                *shared_head = head;
            }
            self.shared
                .durable_head
                .store(head.position, Ordering::Release);
            self.shared
                .events_appended
                .fetch_add(appended, Ordering::Relaxed);
            self.shared.commits.fetch_add(1, Ordering::Relaxed);
            self.shared.head_tx.send_replace(head.position);
        }
        for (reply, outcome) in replies {
            let _ = reply.send(outcome);
        }
    }

    /// Checks one append against the state including earlier appends of the same group, and
    /// stages its writes. Nothing is staged when it fails.
    fn plan(
        &mut self,
        request: &AppendRequest,
        batch: &mut sled::Batch,
        staged_heads: &mut HashMap<StreamName, Option<u64>>,
        staged_ids: &mut HashMap<Uuid, KnownEvent>,
        head: &mut Head,
        recorded_at: i64,
    ) -> Result<AppendOutcome> {
        let stream = &request.stream;
        let current = match staged_heads.get(stream) {
            Some(staged) => *staged,
            None => self.stream_head(stream)?,
        };

        // A retry of a batch that was already appended succeeds without adding anything.
        let mut known = Vec::with_capacity(request.events.len());
        for event in &request.events {
            known.push(self.known_event(event.id, staged_ids)?);
        }
        if known.iter().any(Option::is_some) {
            return retried_outcome(stream, &request.events, &known);
        }

        if !request.expected.accepts(current) {
            return Err(Error::WrongExpectedRevision {
                stream: stream.to_string(),
                expected: request.expected,
                actual: current,
            });
        }

        let first_revision = current.map_or(0, |revision| revision + 1);
        let first_position = head.position + 1;
        let category = category_prefix(stream.category());
        let mut revision = first_revision;
        for event in &request.events {
            let position = head.position + 1;
            let body = record::encode_body(position, stream, revision, recorded_at, event);
            let (bytes, hash) = record::seal_record(body, &head.hash);
            batch.insert(&event_key(position), bytes);
            batch.insert(stream_key(stream, revision), &position.to_be_bytes());
            let mut id_value = Vec::with_capacity(16 + stream.as_str().len());
            id_value.extend_from_slice(&position.to_be_bytes());
            id_value.extend_from_slice(&revision.to_be_bytes());
            id_value.extend_from_slice(stream.as_str().as_bytes());
            batch.insert(&event_id_key(event.id), id_value);
            let mut category_key = category.clone();
            category_key.extend_from_slice(&position.to_be_bytes());
            batch.insert(category_key, &[]);
            staged_ids.insert(
                event.id,
                KnownEvent {
                    position,
                    revision,
                    stream: stream.to_string(),
                },
            );
            *head = Head { position, hash };
            revision += 1;
        }
        let last_revision = revision - 1;
        staged_heads.insert(stream.clone(), Some(last_revision));
        Ok(AppendOutcome {
            next_expected_revision: last_revision,
            first_position,
            last_position: head.position,
            already_appended: false,
        })
    }
}

/// Decides whether a batch whose ids are (partly) known is a faithful retry.
fn retried_outcome(
    stream: &StreamName,
    events: &[PreparedEvent],
    known: &[Option<KnownEvent>],
) -> Result<AppendOutcome> {
    let mut previous: Option<&KnownEvent> = None;
    for (event, known) in events.iter().zip(known) {
        let Some(known) = known else {
            return Err(Error::IdempotencyConflict { event_id: event.id });
        };
        let consecutive = previous
            .is_none_or(|p| known.revision == p.revision + 1 && known.position > p.position);
        if known.stream != stream.as_str() || !consecutive {
            return Err(Error::IdempotencyConflict { event_id: event.id });
        }
        previous = Some(known);
    }
    let (Some(Some(first)), Some(Some(last))) = (known.first(), known.last()) else {
        return Err(Error::invalid_event("an append needs at least one event"));
    };
    Ok(AppendOutcome {
        next_expected_revision: last.revision,
        first_position: first.position,
        last_position: last.position,
        already_appended: true,
    })
}

#[async_trait]
impl Backend for SledBackend {
    async fn append(
        &self,
        stream: &StreamName,
        expected: ExpectedRevision,
        events: Vec<PreparedEvent>,
    ) -> Result<AppendOutcome> {
        if self.shared.poisoned.load(Ordering::Acquire) {
            return Err(Error::Poisoned);
        }
        let (reply, response) = oneshot::channel();
        let request = AppendRequest {
            stream: stream.clone(),
            expected,
            events,
            reply,
        };
        {
            let sender = self.sender.lock().map_err(|_| Error::Closed)?;
            let sender = sender.as_ref().ok_or(Error::Closed)?;
            sender.send(request).map_err(|_| Error::Closed)?;
        }
        response.await.map_err(|_| Error::Closed)?
    }

    async fn read_stream(
        &self,
        stream: &StreamName,
        from_revision: u64,
        direction: Direction,
        max: usize,
    ) -> Result<Vec<RecordedEvent>> {
        let durable = self.durable();
        let prefix = stream_prefix(stream);
        let from_key = stream_key(stream, from_revision);
        let entries: Box<dyn Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> =
            match direction {
                Direction::Forwards => {
                    Box::new(self.shared.tree.range(from_key..).take_while(move |entry| {
                        entry
                            .as_ref()
                            .map_or(true, |(key, _)| key.starts_with(&prefix))
                    }))
                }
                Direction::Backwards => {
                    Box::new(self.shared.tree.range(prefix.clone()..=from_key).rev())
                }
            };
        let mut events = Vec::new();
        for entry in entries {
            if events.len() >= max {
                break;
            }
            let (_, value) = entry?;
            let position = be_u64(&value, 0)?;
            if position > durable {
                continue;
            }
            events.push(self.event_at(position)?);
        }
        Ok(events)
    }

    async fn read_all(&self, from_position: u64, max: usize) -> Result<Vec<RecordedEvent>> {
        let durable = self.durable();
        let from = from_position.max(1);
        if from > durable || max == 0 {
            return Ok(Vec::new());
        }
        let until = durable.min(from.saturating_add(max as u64 - 1));
        let mut events = Vec::with_capacity((until - from + 1) as usize);
        for entry in self.shared.tree.range(event_key(from)..=event_key(until)) {
            let (key, value) = entry?;
            let position = position_from_event_key(&key)?;
            events.push(record::decode(position, &value)?);
        }
        Ok(events)
    }

    async fn read_category(
        &self,
        category: &str,
        from_position: u64,
        max: usize,
    ) -> Result<Vec<RecordedEvent>> {
        crate::types::validate_category(category)?;
        let durable = self.durable();
        let prefix = category_prefix(category);
        let mut from_key = prefix.clone();
        from_key.extend_from_slice(&from_position.to_be_bytes());
        let mut events = Vec::new();
        for entry in self.shared.tree.range(from_key..) {
            let (key, _) = entry?;
            if !key.starts_with(&prefix) || events.len() >= max {
                break;
            }
            let position = be_u64(&key[prefix.len()..], 0)?;
            if position > durable {
                break;
            }
            events.push(self.event_at(position)?);
        }
        Ok(events)
    }

    async fn stream_revision(&self, stream: &StreamName) -> Result<Option<u64>> {
        let durable = self.durable();
        let last = self.shared.tree.scan_prefix(stream_prefix(stream)).rev();
        for entry in last {
            let (key, value) = entry?;
            if be_u64(&value, 0)? <= durable {
                return be_u64(&key[key.len() - 8..], 0).map(Some);
            }
        }
        Ok(None)
    }

    fn head(&self) -> Head {
        self.shared.head.lock().map_or(Head::EMPTY, |head| *head)
    }

    fn watch_head(&self) -> watch::Receiver<u64> {
        self.shared.head_tx.subscribe()
    }

    fn stats(&self) -> BackendStats {
        BackendStats {
            events_appended: self.shared.events_appended.load(Ordering::Relaxed),
            commits: self.shared.commits.load(Ordering::Relaxed),
        }
    }

    async fn close(&self) -> Result<()> {
        let sender = self.sender.lock().map_err(|_| Error::Closed)?.take();
        drop(sender);
        let writer = self.writer.lock().map_err(|_| Error::Closed)?.take();
        if let Some(writer) = writer {
            tokio::task::spawn_blocking(move || writer.join())
                .await
                .map_err(Error::storage)?
                .ok();
        }
        self.db.flush_async().await?;
        Ok(())
    }
}
