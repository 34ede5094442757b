//! Per-person encryption of personal fields (the basis of erasure by crypto-shredding).
//!
//! Every data subject has a random 256-bit key, kept in a key store outside the log. Personal
//! fields are sealed with ChaCha20-Poly1305 under that key; the associated data binds the
//! ciphertext to its stream and event id, so it cannot be moved to another event. Destroying
//! the key makes the ciphertext unreadable for good while the log, and its hash chain, stay as
//! they were.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chacha20poly1305::aead::{Aead, Generate, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::types::{SealedPersonal, StreamName, SubjectId};

/// A subject's encryption key.
#[derive(Clone)]
pub struct SubjectKey([u8; 32]);

impl std::fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubjectKey(..)")
    }
}

impl SubjectKey {
    pub(crate) fn generate() -> Self {
        let key = Key::generate();
        let mut bytes = [0; 32];
        bytes.copy_from_slice(key.as_slice());
        SubjectKey(bytes)
    }

    pub(crate) fn from_bytes(bytes: [u8; 32]) -> Self {
        SubjectKey(bytes)
    }

    pub(crate) fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn cipher(&self) -> Result<ChaCha20Poly1305> {
        ChaCha20Poly1305::new_from_slice(&self.0).map_err(|error| Error::Crypto { detail: error.to_string() })
    }
}

/// Where subject keys live: outside the event log, so that they can be destroyed.
///
/// A key created by [`get_or_create`](KeyStore::get_or_create) need not be durable yet: the
/// log's writer calls [`make_durable`](KeyStore::make_durable) once for a whole group of appends
/// before it writes the group, so that new people's keys share one flush and no event reaches
/// the log before the keys its personal fields are sealed with.
pub trait KeyStore: Send + Sync + 'static {
    /// The subject's key, created on first use (durable once [`make_durable`](KeyStore::make_durable)
    /// has returned).
    fn get_or_create(&self, subject: SubjectId) -> Result<SubjectKey>;
    /// Makes every key that [`get_or_create`](KeyStore::get_or_create) has returned so far
    /// durable. Cheap when no key was created since the last call.
    fn make_durable(&self) -> Result<()>;
    /// The subject's key, or `None` once it has been destroyed.
    fn get(&self, subject: SubjectId) -> Result<Option<SubjectKey>>;
    /// The keys of several subjects at once (`None` for a destroyed or unknown one): what a
    /// page of the log read back needs. A store that answers over the network answers in one
    /// round trip; the default asks [`get`](KeyStore::get) for each.
    fn get_many(&self, subjects: &[SubjectId]) -> Result<std::collections::HashMap<SubjectId, Option<SubjectKey>>> {
        subjects.iter().map(|subject| Ok((*subject, self.get(*subject)?))).collect()
    }
    /// Destroys the key durably. Returns whether there was one.
    fn destroy(&self, subject: SubjectId) -> Result<bool>;
    /// Destroys the keys of several subjects (one person's, in an erasure); returns how many
    /// there were. A store whose destruction has a fixed cost (PostgreSQL's wait for older
    /// transactions and its rewrite of the keys table) pays it once; the default destroys each in turn.
    fn destroy_all(&self, subjects: &[SubjectId]) -> Result<usize> {
        let mut destroyed = 0;
        for subject in subjects {
            destroyed += usize::from(self.destroy(*subject)?);
        }
        Ok(destroyed)
    }
    /// Every subject this store knows, with its key, or `None` for a destroyed one (a
    /// tombstone), in no particular order: what [`copy_store`](crate::copy::copy_store) copies.
    fn all_keys(&self) -> Result<Vec<(SubjectId, Option<SubjectKey>)>> {
        Err(Error::storage("this key store cannot list its keys for a copy"))
    }
    /// Stores keys and tombstones exactly as another store holds them (from
    /// [`all_keys`](KeyStore::all_keys)), durably before it returns; a subject this store
    /// already knows is refused and nothing is stored. A tombstone keeps the subject erased here
    /// too: it never gets a key again.
    fn import_keys(&self, keys: &[(SubjectId, Option<SubjectKey>)]) -> Result<()> {
        let _ = keys;
        Err(Error::storage("this key store cannot take copied keys"))
    }
}

/// The error for copied keys naming a subject the destination already knows (never named).
pub(crate) fn already_known() -> Error {
    Error::storage("the destination's key store already holds some of the copied subjects: it must be empty")
}

/// Keys in their own sled database (a separate directory from the log): the key store before
/// [`FileKeyStore`](crate::FileKeyStore), which replaced it.
///
/// Not used by [`EventStore::open`](crate::EventStore::open) any more: sled keeps removed values
/// in its files, so a destroyed key could still be read from `keys/db` afterwards. A data
/// directory that still has a `keys/` sled store is converted to `keys.heard` when it is opened,
/// and the sled files are overwritten and removed. Kept only for tools that open a store by hand;
/// new code uses [`FileKeyStore::open_in`](crate::FileKeyStore::open_in).
#[derive(Clone)]
pub struct SledKeyStore {
    db: sled::Db,
    pending: Arc<PendingKeys>,
}

/// Which created keys may still be only in sled's memory.
///
/// A creation counts itself in `creating` before its insert and in `created` after it, so a
/// flush that starts after `make_durable` has read both covers every key anyone could have been
/// handed: a finished creation is counted in `created`, and one whose key another caller already
/// found is still counted in `creating` (then the flush happens whatever the counts say).
#[derive(Default)]
struct PendingKeys {
    creating: AtomicU64,
    created: AtomicU64,
    /// `created` as it was read before the last flush that succeeded.
    durable: AtomicU64,
    flushes: AtomicU64,
}

impl SledKeyStore {
    pub fn open(path: &Path) -> Result<Self> {
        let db = crate::sled_open::open(sled::Config::new(), path)?;
        Ok(SledKeyStore { db, pending: Arc::default() })
    }

    fn create(&self, subject: SubjectId) -> Result<SubjectKey> {
        let fresh = SubjectKey::generate();
        let swapped = self.db.compare_and_swap(subject.0.as_bytes(), None as Option<&[u8]>, Some(&fresh.0[..]));
        match swapped? {
            Ok(()) => Ok(fresh),
            Err(conflict) => key_from_stored(conflict.current.as_deref().unwrap_or(TOMBSTONE)),
        }
    }

    fn flush(&self) -> Result<()> {
        self.db.flush()?;
        self.pending.flushes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// Keys that existed once are tombstoned with an empty value, so a destroyed key can never be
/// silently recreated for the same subject.
const TOMBSTONE: &[u8] = b"";

impl KeyStore for SledKeyStore {
    fn get_or_create(&self, subject: SubjectId) -> Result<SubjectKey> {
        let id = subject.0.as_bytes();
        if let Some(existing) = self.db.get(id)? {
            return key_from_stored(&existing);
        }
        // Not flushed here: the log's writer makes it durable with the rest of the group.
        self.pending.creating.fetch_add(1, Ordering::SeqCst);
        let created = self.create(subject);
        self.pending.created.fetch_add(1, Ordering::SeqCst);
        self.pending.creating.fetch_sub(1, Ordering::SeqCst);
        created
    }

    fn make_durable(&self) -> Result<()> {
        let creating = self.pending.creating.load(Ordering::SeqCst);
        let created = self.pending.created.load(Ordering::SeqCst);
        if creating == 0 && self.pending.durable.load(Ordering::SeqCst) >= created {
            return Ok(());
        }
        self.flush()?;
        self.pending.durable.fetch_max(created, Ordering::SeqCst);
        Ok(())
    }

    fn get(&self, subject: SubjectId) -> Result<Option<SubjectKey>> {
        match self.db.get(subject.0.as_bytes())? {
            None => Ok(None),
            Some(stored) if stored.as_ref() == TOMBSTONE => Ok(None),
            Some(stored) => key_from_stored(&stored).map(Some),
        }
    }

    fn destroy(&self, subject: SubjectId) -> Result<bool> {
        let previous = self.db.insert(subject.0.as_bytes(), TOMBSTONE)?;
        self.flush()?;
        Ok(previous.is_some_and(|p| p.as_ref() != TOMBSTONE))
    }
}

fn key_from_stored(stored: &[u8]) -> Result<SubjectKey> {
    if stored == TOMBSTONE {
        return Err(Error::SubjectErased);
    }
    let bytes: [u8; 32] =
        stored.try_into().map_err(|_| Error::Crypto { detail: "a stored key has the wrong length".into() })?;
    Ok(SubjectKey(bytes))
}

fn associated_data(stream: &StreamName, event_id: Uuid) -> Vec<u8> {
    let mut aad = Vec::with_capacity(stream.as_str().len() + 17);
    aad.extend_from_slice(stream.as_str().as_bytes());
    aad.push(0);
    aad.extend_from_slice(event_id.as_bytes());
    aad
}

/// Encrypts personal fields for one event.
pub fn seal(
    key: &SubjectKey,
    subject: SubjectId,
    stream: &StreamName,
    event_id: Uuid,
    fields: &serde_json::Value,
) -> Result<SealedPersonal> {
    let plaintext = serde_json::to_vec(fields).map_err(|error| Error::Crypto { detail: error.to_string() })?;
    let nonce = Nonce::generate();
    let aad = associated_data(stream, event_id);
    let ciphertext = key
        .cipher()?
        .encrypt(&nonce, Payload { msg: &plaintext, aad: &aad })
        .map_err(|_| Error::Crypto { detail: "encryption failed".into() })?;
    let mut nonce_bytes = [0; 12];
    nonce_bytes.copy_from_slice(nonce.as_slice());
    Ok(SealedPersonal { subject, nonce: nonce_bytes, ciphertext })
}

/// Seals `bytes` under `key` with `aad`: nonce (12) ‖ ciphertext and tag.
pub(crate) fn seal_bytes(key: &SubjectKey, bytes: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
    let nonce = Nonce::generate();
    let ciphertext = key
        .cipher()?
        .encrypt(&nonce, Payload { msg: bytes, aad })
        .map_err(|_| Error::Crypto { detail: "encryption failed".into() })?;
    let mut sealed = nonce.as_slice().to_vec();
    sealed.extend_from_slice(&ciphertext);
    Ok(sealed)
}

/// Opens what [`seal_bytes`] sealed; fails if it was altered or sealed with another `aad`.
pub(crate) fn open_bytes(key: &SubjectKey, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
    let (nonce, ciphertext) =
        sealed.split_at_checked(12).ok_or_else(|| Error::Crypto { detail: "bad nonce".into() })?;
    let nonce = Nonce::try_from(nonce).map_err(|_| Error::Crypto { detail: "bad nonce".into() })?;
    key.cipher()?
        .decrypt(&nonce, Payload { msg: ciphertext, aad })
        .map_err(|_| Error::Crypto { detail: "a sealed key failed authentication".into() })
}

/// Decrypts personal fields; fails if the ciphertext was moved to another stream or event.
pub fn open(
    key: &SubjectKey,
    sealed: &SealedPersonal,
    stream: &StreamName,
    event_id: Uuid,
) -> Result<serde_json::Value> {
    let aad = associated_data(stream, event_id);
    let nonce = Nonce::try_from(&sealed.nonce[..]).map_err(|_| Error::Crypto { detail: "bad nonce".into() })?;
    let plaintext = key
        .cipher()?
        .decrypt(&nonce, Payload { msg: &sealed.ciphertext, aad: &aad })
        .map_err(|_| Error::Crypto { detail: "personal fields failed authentication".into() })?;
    serde_json::from_slice(&plaintext).map_err(|error| Error::Crypto { detail: error.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_fields_open_only_for_the_same_stream_and_event() {
        let key = SubjectKey::generate();
        let subject = SubjectId::new();
        let stream = StreamName::new("case-1").unwrap();
        let id = Uuid::new_v4();
        let fields = serde_json::json!({"name": "Sam"});
        let sealed = seal(&key, subject, &stream, id, &fields).unwrap();
        assert_eq!(open(&key, &sealed, &stream, id).unwrap(), fields);
        let other_stream = StreamName::new("case-2").unwrap();
        assert!(open(&key, &sealed, &other_stream, id).is_err());
        assert!(open(&key, &sealed, &stream, Uuid::new_v4()).is_err());
    }

    #[test]
    fn a_destroyed_key_is_gone_and_cannot_be_recreated() {
        let dir = tempfile::tempdir().unwrap();
        let keys = SledKeyStore::open(dir.path()).unwrap();
        let subject = SubjectId::new();
        keys.get_or_create(subject).unwrap();
        assert!(keys.get(subject).unwrap().is_some());
        assert!(keys.destroy(subject).unwrap());
        assert!(keys.get(subject).unwrap().is_none());
        assert!(keys.get_or_create(subject).is_err());
    }

    #[test]
    fn new_keys_share_one_flush_and_a_flush_with_nothing_new_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let keys = SledKeyStore::open(dir.path()).unwrap();
        let subjects: Vec<SubjectId> = (0..50).map(|_| SubjectId::new()).collect();
        let created: Vec<SubjectKey> = subjects.iter().map(|s| keys.get_or_create(*s).unwrap()).collect();
        assert_eq!(keys.pending.flushes.load(Ordering::SeqCst), 0, "creating a key does not flush");
        keys.make_durable().unwrap();
        assert_eq!(keys.pending.flushes.load(Ordering::SeqCst), 1);
        keys.make_durable().unwrap();
        keys.get_or_create(subjects[0]).unwrap();
        keys.make_durable().unwrap();
        assert_eq!(keys.pending.flushes.load(Ordering::SeqCst), 1, "nothing new, nothing to flush");
        drop(keys);
        let reopened = SledKeyStore::open(dir.path()).unwrap();
        for (subject, key) in subjects.iter().zip(&created) {
            assert_eq!(reopened.get(*subject).unwrap().map(|k| k.0), Some(key.0));
        }
    }
}
