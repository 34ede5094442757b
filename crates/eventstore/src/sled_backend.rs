//! A backend that keeps the log and its indexes in one sled tree.
//!
//! Simple and fully transactional, but sled's per-key cost caps it well below the disk (see
//! `BENCHMARKS.md` and ADR 0001); the segment backend is the default. This one stays as a
//! second implementation of the contract and a measured comparison.
//!
//! # Keys (one tree, so that one `sled::Batch` commits a whole group atomically)
//!
//! ```text
//! e ‖ position(8)                   → record (see `record`)
//! s ‖ stream ‖ 0x00 ‖ revision(8)   → position(8)
//! h ‖ stream                        → last revision(8)
//! i ‖ event id(16)                  → position(8) ‖ revision(8) ‖ stream   (idempotency)
//! c ‖ category ‖ 0x00 ‖ position(8) → ()                                 (category index)
//! m ‖ "head"                        → position(8) ‖ hash(32)
//! ```

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

use crate::backend::EmbeddedLog;
use crate::error::{Error, Result};
use crate::record;
use crate::types::{Direction, Head, RecordedEvent, StreamName, StreamWindow};
use crate::writer::{Flush, KnownEvent, LogSink, PlannedGroup, Published, WriterHandle};

const EVENT: u8 = b'e';
const STREAM: u8 = b's';
const STREAM_HEAD: u8 = b'h';
const EVENT_ID: u8 = b'i';
const CATEGORY: u8 = b'c';
const META_HEAD: &[u8] = b"mhead";

/// The sled backend. Cheap to clone.
#[derive(Clone)]
pub struct SledBackend {
    tree: sled::Tree,
    db: sled::Db,
    published: Arc<Published>,
    writer: Arc<WriterHandle>,
}

impl SledBackend {
    /// Opens (or creates) the log in `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let db = crate::sled_open::open(sled::Config::new(), path)?;
        let tree = db.open_tree("log")?;
        let published = Arc::new(Published::new(load_head(&tree)?));
        let sink = SledSink { tree: tree.clone(), db: db.clone() };
        let writer = Arc::new(WriterHandle::spawn(sink, published.clone())?);
        Ok(SledBackend { tree, db, published, writer })
    }

    fn event_at(&self, position: u64) -> Result<RecordedEvent> {
        let bytes = self
            .tree
            .get(event_key(position))?
            .ok_or_else(|| Error::corrupt(position, "an indexed event is missing from the log"))?;
        record::decode(position, &bytes)
    }
}

struct SledSink {
    tree: sled::Tree,
    db: sled::Db,
}

impl LogSink for SledSink {
    fn stream_head(&mut self, stream: &StreamName) -> Result<Option<u64>> {
        self.tree.get(stream_head_key(stream))?.map(|bytes| be_u64(&bytes, 0)).transpose()
    }

    fn known_event(&mut self, id: Uuid) -> Result<Option<KnownEvent>> {
        let Some(bytes) = self.tree.get(event_id_key(id))? else { return Ok(None) };
        if bytes.len() < 16 {
            return Err(Error::corrupt(0, "an idempotency entry has the wrong length"));
        }
        let position = be_u64(&bytes[..8], 0)?;
        let revision = be_u64(&bytes[8..16], position)?;
        let stream = String::from_utf8(bytes[16..].to_vec())
            .map_err(|_| Error::corrupt(position, "an idempotency entry is not UTF-8"))?;
        Ok(Some(KnownEvent { position, revision, stream }))
    }

    /// Applies and flushes the group on the writer thread, so nothing is left for the syncer:
    /// sled's `flush` writes whatever the tree holds, and this backend is not pipelined.
    fn write(&mut self, group: &PlannedGroup, _flush_now: &mut dyn FnMut(Flush) -> Result<()>) -> Result<Vec<Flush>> {
        let mut batch = sled::Batch::default();
        for record in &group.records {
            let position = record.position.to_be_bytes();
            batch.insert(&event_key(record.position), record.bytes.as_slice());
            batch.insert(stream_key(&record.stream, record.revision), &position);
            let mut id_value = Vec::with_capacity(16 + record.stream.as_str().len());
            id_value.extend_from_slice(&position);
            id_value.extend_from_slice(&record.revision.to_be_bytes());
            id_value.extend_from_slice(record.stream.as_str().as_bytes());
            batch.insert(&event_id_key(record.id), id_value);
            let mut category_key = category_prefix(record.stream.category());
            category_key.extend_from_slice(&position);
            batch.insert(category_key, &[]);
        }
        for (stream, revision) in &group.stream_heads {
            batch.insert(stream_head_key(stream), &revision.to_be_bytes());
        }
        let mut head_value = Vec::with_capacity(40);
        head_value.extend_from_slice(&group.head.position.to_be_bytes());
        head_value.extend_from_slice(&group.head.hash);
        batch.insert(META_HEAD, head_value);
        self.tree.apply_batch(batch)?;
        self.db.flush()?;
        Ok(Vec::new())
    }

    fn close(&mut self) -> Result<()> {
        self.db.flush()?;
        Ok(())
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
            let position = be_u64(&bytes[..8], 0)?;
            let mut hash = [0; 32];
            hash.copy_from_slice(&bytes[8..]);
            let last_position = last.map(|(key, _)| position_from_event_key(&key)).transpose()?.unwrap_or(0);
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
            Err(Error::corrupt(position, "events exist but the head record is missing"))
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

#[async_trait]
impl EmbeddedLog for SledBackend {
    fn writer(&self) -> &WriterHandle {
        &self.writer
    }

    async fn read_stream(&self, stream: &StreamName, window: StreamWindow) -> Result<Vec<RecordedEvent>> {
        let durable = self.published.durable();
        let prefix = stream_prefix(stream);
        let from_key = stream_key(stream, window.from_revision);
        let entries: Box<dyn Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> = match window.direction {
            Direction::Forwards => Box::new(
                self.tree
                    .range(from_key..)
                    .take_while(move |entry| entry.as_ref().map_or(true, |(key, _)| key.starts_with(&prefix))),
            ),
            Direction::Backwards => Box::new(self.tree.range(prefix.clone()..=from_key).rev()),
        };
        let mut events = Vec::new();
        for entry in entries {
            if events.len() >= window.max {
                break;
            }
            let (_, value) = entry?;
            let position = be_u64(&value, 0)?;
            if position <= durable {
                events.push(self.event_at(position)?);
            }
        }
        Ok(events)
    }

    async fn read_all(&self, from_position: u64, max: usize) -> Result<Vec<RecordedEvent>> {
        let durable = self.published.durable();
        let from = from_position.max(1);
        if from > durable || max == 0 {
            return Ok(Vec::new());
        }
        let until = durable.min(from.saturating_add(max as u64 - 1));
        let mut events = Vec::with_capacity((until - from + 1) as usize);
        for entry in self.tree.range(event_key(from)..=event_key(until)) {
            let (key, value) = entry?;
            events.push(record::decode(position_from_event_key(&key)?, &value)?);
        }
        Ok(events)
    }

    async fn read_category(&self, category: &str, from_position: u64, max: usize) -> Result<Vec<RecordedEvent>> {
        crate::types::validate_category(category)?;
        let durable = self.published.durable();
        let prefix = category_prefix(category);
        let mut from_key = prefix.clone();
        from_key.extend_from_slice(&from_position.to_be_bytes());
        let mut events = Vec::new();
        for entry in self.tree.range(from_key..) {
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
        let durable = self.published.durable();
        for entry in self.tree.scan_prefix(stream_prefix(stream)).rev() {
            let (key, value) = entry?;
            if be_u64(&value, 0)? <= durable {
                return be_u64(&key[key.len() - 8..], 0).map(Some);
            }
        }
        Ok(None)
    }

    async fn flush_after_writer(&self) -> Result<()> {
        self.db.flush_async().await?;
        Ok(())
    }
}
