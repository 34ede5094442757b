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
//! MessagePack bytes in chunks `chunk:00000000`, `chunk:00000001`, … (at most 4 MiB each).

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::live::Fold;
use crate::store::EventStore;

/// A model that can be saved and loaded.
pub trait Persist: Fold + Serialize + DeserializeOwned {
    /// Changes whenever the state's shape or the way events fold into it changes; a saved state
    /// of another version is rebuilt from the log.
    const VERSION: u32;
}

const CHUNK_BYTES: usize = 4 << 20;
const META: &[u8] = b"meta";

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
        let db = sled::Config::new().path(dir).cache_capacity(32 << 20).open()?;
        Ok(ModelStore { db })
    }

    fn tree(&self, name: &str) -> Result<sled::Tree> {
        Ok(self.db.open_tree(format!("model:{name}"))?)
    }

    /// Loads `name`'s saved state and its position, if it can be trusted with `store`'s log.
    pub async fn load<S: Persist>(&self, name: &str, store: &EventStore) -> Result<std::result::Result<(S, u64), NotLoaded>> {
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
