//! Read models kept on disk between starts, in sled.
//!
//! A [`LiveModel`](crate::LiveModel) whose state is [`Persist`] saves it here, with the
//! position and hash of the last event it applied, in one sled batch: the state and its
//! checkpoint commit together or not at all. A start loads the newest saved state and applies
//! only the events after it. A saved state is thrown away, and the model rebuilt from the log
//! by the same follower that keeps it live, when:
//! - its version is not the model's [`Persist::VERSION`] (the shape or the fold changed);
//! - it does not decode (the files are damaged);
//! - its checkpoint is past the log's head, or the event at its checkpoint has another hash
//!   (the log was restored from an older copy, or replaced).
//!
//! What is saved holds no person's words: models keep personal fields [`Sealed`](crate::Sealed),
//! so destroying a person's key erases them here as it does in the log.
//!
//! Layout of a model's tree `model:NAME`: `meta` → [`Meta`] (MessagePack), and the state's
//! MessagePack bytes in chunks `chunk:00000000`, `chunk:00000001`, … (at most 32 KiB each).
//!
//! Why small chunks: sled 0.34 writes a value larger than a quarter of its segment (128 KiB) to
//! a blob file of its own, and the blob of a value since overwritten is not reclaimed. With
//! 4 MiB chunks, every save of a model left its whole old copy behind (a 1,000,000-event store
//! grew its models to 23 GB). Values well under that size live in sled's segments, whose
//! garbage collection keeps the directory at a bounded multiple of what is saved; a test saves
//! a model many times and holds the directory to that bound. A directory saved in the old
//! layout (no `layout` mark) is emptied once on open, and its models rebuilt from the log.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::store::EventStore;

/// A model that can be saved and loaded (a [`Fold`](crate::Fold) that `LiveModel::start_kept` runs).
pub trait Persist: Serialize + DeserializeOwned + Send + 'static {
    /// Changes whenever the state's shape or the way events fold into it changes; a saved state
    /// of another version is rebuilt from the log.
    const VERSION: u32;
}

const CHUNK_BYTES: usize = 32 << 10;
const META: &[u8] = b"meta";
/// The default tree's mark of the layout in use (see the module docs).
const LAYOUT_KEY: &[u8] = b"layout";
const LAYOUT: &[u8] = b"2: 32 KiB chunks";

#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    version: u32,
    /// The position of the last event applied.
    position: u64,
    /// That event's chain hash.
    #[serde(with = "serde_bytes")]
    hash: Vec<u8>,
    chunks: u32,
    bytes: u64,
}

/// Why a saved model was not used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotLoaded {
    /// Nothing saved yet.
    Missing,
    /// Saved by another version of the model.
    OtherVersion { saved: u32, wanted: u32 },
    /// The saved bytes do not decode.
    Damaged,
    /// The saved checkpoint is not an event of this log (restored, cut short or replaced).
    NotThisLog,
}

impl std::fmt::Display for NotLoaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotLoaded::Missing => f.write_str("nothing was saved yet"),
            NotLoaded::OtherVersion { saved, wanted } => {
                write!(f, "it was saved by version {saved} of the model, and this is version {wanted}")
            }
            NotLoaded::Damaged => f.write_str("the saved files are damaged"),
            NotLoaded::NotThisLog => f.write_str("it was saved from another copy of the log"),
        }
    }
}

/// Where models are saved: one sled database (`DATA_DIR/models`), one tree per model.
#[derive(Clone)]
pub struct ModelStore {
    pub(crate) db: sled::Db,
}

impl std::fmt::Debug for ModelStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ModelStore")
    }
}

impl ModelStore {
    pub fn open(dir: &Path) -> Result<Self> {
        // A small cache: models are read from memory; sled is only where they are saved.
        let open = || crate::sled_open::open(sled::Config::new().cache_capacity(32 << 20), dir);
        let mut db = open()?;
        if db.get(LAYOUT_KEY)?.as_deref() != Some(LAYOUT) {
            if db.tree_names().len() > 1 {
                tracing::info!("the saved models are in an older layout; they are rebuilt from the log");
                drop(db);
                std::fs::remove_dir_all(dir).map_err(Error::storage)?;
                db = open()?;
            }
            db.insert(LAYOUT_KEY, LAYOUT)?;
            db.flush()?;
        }
        Ok(ModelStore { db })
    }

    fn tree(&self, name: &str) -> Result<sled::Tree> {
        Ok(self.db.open_tree(format!("model:{name}"))?)
    }

    /// Loads `name`'s saved state and its position, if it can be trusted with `store`'s log.
    pub async fn load<S: Persist>(
        &self,
        name: &str,
        store: &EventStore,
    ) -> Result<std::result::Result<(S, u64), NotLoaded>> {
        let tree = self.tree(name)?;
        let Some(meta) = tree.get(META)? else { return Ok(Err(NotLoaded::Missing)) };
        let Ok(meta) = rmp_serde::from_slice::<Meta>(&meta) else { return Ok(Err(NotLoaded::Damaged)) };
        if meta.version != S::VERSION {
            return Ok(Err(NotLoaded::OtherVersion { saved: meta.version, wanted: S::VERSION }));
        }
        if meta.position > 0 {
            let at = store.read_all_raw(meta.position, 1).await?;
            if at.first().is_none_or(|event| event.position != meta.position || event.hash[..] != meta.hash[..]) {
                return Ok(Err(NotLoaded::NotThisLog));
            }
        }
        let tree_for_read = tree.clone();
        let decoded = tokio::task::spawn_blocking(move || -> Result<Option<S>> {
            let mut bytes = Vec::with_capacity(usize::try_from(meta.bytes).unwrap_or(0).min(1 << 34));
            for chunk in 0..meta.chunks {
                let Some(part) = tree_for_read.get(chunk_key(chunk))? else { return Ok(None) };
                bytes.extend_from_slice(&part);
            }
            if bytes.len() as u64 != meta.bytes {
                return Ok(None);
            }
            Ok(rmp_serde::from_slice::<S>(&bytes).ok())
        })
        .await
        .map_err(Error::storage)??;
        Ok(decoded.map(|state| (state, meta.position)).ok_or(NotLoaded::Damaged))
    }

    /// Saves `state` as at `position` (whose chain hash is `hash`), replacing what was saved,
    /// atomically, and flushes it.
    pub fn save<S: Persist>(&self, name: &str, state: &S, position: u64, hash: [u8; 32]) -> Result<u64> {
        let bytes = rmp_serde::to_vec(state).map_err(|error| Error::Storage {
            // The encoder's message names a type, never a value.
            detail: format!("cannot save the {name} model: {error}"),
        })?;
        let tree = self.tree(name)?;
        let old_chunks = match tree.get(META)? {
            Some(meta) => rmp_serde::from_slice::<Meta>(&meta).map_or(0, |meta| meta.chunks),
            None => 0,
        };
        let chunks = u32::try_from(bytes.len().div_ceil(CHUNK_BYTES)).map_err(Error::storage)?;
        let mut batch = sled::Batch::default();
        for (i, part) in bytes.chunks(CHUNK_BYTES).enumerate() {
            batch.insert(chunk_key(i as u32).as_slice(), part);
        }
        for stale in chunks..old_chunks {
            batch.remove(chunk_key(stale).as_slice());
        }
        let meta = Meta { version: S::VERSION, position, hash: hash.to_vec(), chunks, bytes: bytes.len() as u64 };
        batch.insert(META, rmp_serde::to_vec(&meta).map_err(Error::storage)?);
        tree.apply_batch(batch)?;
        self.db.flush()?;
        Ok(bytes.len() as u64)
    }

    /// Throws away what `name` saved, so that its next start rebuilds it from the log.
    pub fn forget(&self, name: &str) -> Result<()> {
        self.db.drop_tree(format!("model:{name}"))?;
        self.db.flush()?;
        Ok(())
    }

    /// The position each saved model is at, by name.
    pub fn saved(&self) -> Result<Vec<(String, u64)>> {
        let mut out = Vec::new();
        for name in self.db.tree_names() {
            let Some(model) = name.strip_prefix(b"model:") else { continue };
            let tree = self.db.open_tree(&name)?;
            if let Some(meta) = tree.get(META)?.and_then(|meta| rmp_serde::from_slice::<Meta>(&meta).ok()) {
                out.push((String::from_utf8_lossy(model).into_owned(), meta.position));
            }
        }
        Ok(out)
    }
}

fn chunk_key(chunk: u32) -> Vec<u8> {
    format!("chunk:{chunk:08}").into_bytes()
}

// ---------------------------------------------------------------------------------------------
// History: saved copies of a model as at earlier positions, for answers "as at" a position or
// a moment without replaying the whole log.
//
// Layout of the tree `history:NAME`: `m` + position (big-endian u64) → [`HistoryMeta`]
// (MessagePack), and the state's MessagePack bytes in chunks `c` + position + chunk number
// (big-endian u32), at most 4 MiB each. One copy's meta and chunks are written, and the copies it
// thins out removed, in one sled batch.

const HISTORY_META: u8 = b'm';
const HISTORY_CHUNK: u8 = b'c';

#[derive(Debug, Serialize, Deserialize)]
struct HistoryMeta {
    version: u32,
    /// The position of the last event applied.
    position: u64,
    /// That event's chain hash.
    #[serde(with = "serde_bytes")]
    hash: Vec<u8>,
    /// The latest recorded-at time (micros since the epoch) of the events applied.
    recorded_until: i64,
    chunks: u32,
    bytes: u64,
}

/// A model's state encoded as at a position, to be saved as a history copy
/// ([`ModelStore::save_history`]). Encoding is separate from saving so that a model can be
/// encoded while it is locked and written after it is released.
pub struct HistoryCopy {
    version: u32,
    position: u64,
    hash: [u8; 32],
    recorded_until: i64,
    bytes: Vec<u8>,
}

impl std::fmt::Debug for HistoryCopy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HistoryCopy").field("position", &self.position).field("bytes", &self.bytes.len()).finish()
    }
}

impl HistoryCopy {
    /// Encodes `state` as at `position` (whose chain hash is `hash`); `recorded_until` is the
    /// latest recorded-at time of the events it has applied.
    pub fn encode<S: Persist>(state: &S, position: u64, hash: [u8; 32], recorded_until: i64) -> Result<Self> {
        let bytes = rmp_serde::to_vec(state).map_err(|error| Error::Storage {
            // The encoder's message names a type, never a value.
            detail: format!("cannot encode a history copy: {error}"),
        })?;
        Ok(HistoryCopy { version: S::VERSION, position, hash, recorded_until, bytes })
    }

    pub fn position(&self) -> u64 {
        self.position
    }
}

/// One history copy as listed by [`ModelStore::history`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    pub version: u32,
    pub position: u64,
    pub recorded_until: i64,
    pub bytes: u64,
}

fn history_meta_key(position: u64) -> [u8; 9] {
    let mut key = [HISTORY_META; 9];
    key[1..].copy_from_slice(&position.to_be_bytes());
    key
}

fn history_chunk_prefix(position: u64) -> [u8; 9] {
    let mut key = [HISTORY_CHUNK; 9];
    key[1..].copy_from_slice(&position.to_be_bytes());
    key
}

fn history_chunk_key(position: u64, chunk: u32) -> [u8; 13] {
    let mut key = [0; 13];
    key[..9].copy_from_slice(&history_chunk_prefix(position));
    key[9..].copy_from_slice(&chunk.to_be_bytes());
    key
}

fn position_of_meta_key(key: &[u8]) -> Option<u64> {
    (key.len() == 9 && key[0] == HISTORY_META).then(|| u64::from_be_bytes(key[1..].try_into().unwrap_or_default()))
}

/// Which of `positions` (ascending, the last being the newest copy) to remove so that at most
/// `keep` remain, spread as evenly as they can be: the oldest and the newest always stay, and
/// each removal takes the copy whose neighbours are closest together.
fn thin(positions: &[u64], keep: usize) -> Vec<u64> {
    let keep = keep.max(1);
    let mut left: Vec<u64> = positions.to_vec();
    let mut removed = Vec::new();
    while left.len() > keep {
        if left.len() <= 2 {
            removed.push(left.remove(0));
            continue;
        }
        let (index, _) = (1..left.len() - 1)
            .map(|i| (i, left[i + 1] - left[i - 1]))
            .min_by_key(|&(i, gap)| (gap, i))
            .unwrap_or((1, 0));
        removed.push(left.remove(index));
    }
    removed
}

impl ModelStore {
    fn history_tree(&self, name: &str) -> Result<sled::Tree> {
        Ok(self.db.open_tree(format!("history:{name}"))?)
    }

    /// Saves `copy` as one of `name`'s history copies, atomically, and flushes it. In the same
    /// batch it removes the copies it replaces (at or after its position: another course of the
    /// log), copies of another version or whose meta does not decode, and, when more than
    /// `keep` would remain, the ones that leave the rest most evenly spread (the oldest and the
    /// newest always stay). Answers the bytes written.
    pub fn save_history(&self, name: &str, copy: HistoryCopy, keep: usize) -> Result<u64> {
        let tree = self.history_tree(name)?;
        let mut batch = sled::Batch::default();
        let mut kept = Vec::new();
        let mut remove = Vec::new();
        for entry in tree.scan_prefix([HISTORY_META]) {
            let (key, value) = entry?;
            let Some(position) = position_of_meta_key(&key) else {
                batch.remove(key);
                continue;
            };
            match rmp_serde::from_slice::<HistoryMeta>(&value) {
                Ok(meta) if meta.version == copy.version && position < copy.position => kept.push(position),
                _ => remove.push(position),
            }
        }
        kept.push(copy.position);
        remove.extend(thin(&kept, keep));
        for position in remove {
            batch.remove(history_meta_key(position).as_slice());
            for key in tree.scan_prefix(history_chunk_prefix(position)).keys() {
                batch.remove(key?);
            }
        }
        let chunks = u32::try_from(copy.bytes.len().div_ceil(CHUNK_BYTES)).map_err(Error::storage)?;
        for (i, part) in copy.bytes.chunks(CHUNK_BYTES).enumerate() {
            batch.insert(history_chunk_key(copy.position, i as u32).as_slice(), part);
        }
        let meta = HistoryMeta {
            version: copy.version,
            position: copy.position,
            hash: copy.hash.to_vec(),
            recorded_until: copy.recorded_until,
            chunks,
            bytes: copy.bytes.len() as u64,
        };
        batch.insert(history_meta_key(copy.position).as_slice(), rmp_serde::to_vec(&meta).map_err(Error::storage)?);
        tree.apply_batch(batch)?;
        self.db.flush()?;
        Ok(copy.bytes.len() as u64)
    }

    /// `name`'s history copies whose meta decodes, oldest first (whatever their version).
    pub fn history(&self, name: &str) -> Result<Vec<HistoryEntry>> {
        let tree = self.history_tree(name)?;
        let mut out = Vec::new();
        for entry in tree.scan_prefix([HISTORY_META]) {
            let (_, value) = entry?;
            if let Ok(meta) = rmp_serde::from_slice::<HistoryMeta>(&value) {
                out.push(HistoryEntry {
                    version: meta.version,
                    position: meta.position,
                    recorded_until: meta.recorded_until,
                    bytes: meta.bytes,
                });
            }
        }
        Ok(out)
    }

    /// The newest of `name`'s history copies at or before `position` that can be trusted with
    /// `store`'s log, and, when `until` is given, whose events were all recorded by then (micros
    /// since the epoch): the state and its position. A copy of another version, one whose
    /// checkpoint is not an event of this log, and a damaged one are skipped for an earlier one;
    /// `None` when no copy will do (start from nothing).
    pub async fn nearest_at_or_before<S: Persist>(
        &self,
        name: &str,
        store: &EventStore,
        position: u64,
        until: Option<i64>,
    ) -> Result<Option<(S, u64)>> {
        let tree = self.history_tree(name)?;
        let metas: Vec<HistoryMeta> = tree
            .range(history_meta_key(0)..=history_meta_key(position))
            .rev()
            .filter_map(|entry| entry.ok())
            .filter_map(|(key, value)| {
                let meta = rmp_serde::from_slice::<HistoryMeta>(&value).ok()?;
                (position_of_meta_key(&key) == Some(meta.position)).then_some(meta)
            })
            .collect();
        for meta in metas {
            if meta.version != S::VERSION || until.is_some_and(|until| meta.recorded_until > until) {
                continue;
            }
            if meta.position > 0 {
                let at = store.read_all_raw(meta.position, 1).await?;
                if at.first().is_none_or(|event| event.position != meta.position || event.hash[..] != meta.hash[..]) {
                    tracing::debug!(
                        model = name,
                        position = meta.position,
                        "a history copy is not of this log; skipped"
                    );
                    continue;
                }
            }
            let tree_for_read = tree.clone();
            let (chunks, bytes, at) = (meta.chunks, meta.bytes, meta.position);
            let decoded = tokio::task::spawn_blocking(move || -> Result<Option<S>> {
                let mut out = Vec::with_capacity(usize::try_from(bytes).unwrap_or(0).min(1 << 34));
                for chunk in 0..chunks {
                    let Some(part) = tree_for_read.get(history_chunk_key(at, chunk))? else { return Ok(None) };
                    out.extend_from_slice(&part);
                }
                if out.len() as u64 != bytes {
                    return Ok(None);
                }
                Ok(rmp_serde::from_slice::<S>(&out).ok())
            })
            .await
            .map_err(Error::storage)??;
            match decoded {
                Some(state) => return Ok(Some((state, meta.position))),
                None => tracing::warn!(model = name, position = meta.position, "a history copy is damaged; skipped"),
            }
        }
        Ok(None)
    }

    /// Throws away `name`'s history copies.
    pub fn forget_history(&self, name: &str) -> Result<()> {
        self.db.drop_tree(format!("history:{name}"))?;
        self.db.flush()?;
        Ok(())
    }
}
