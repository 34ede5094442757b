//! [`FileKeyStore`]: subject keys in one file of fixed-size slots, where destroying a key
//! overwrites its bytes in place, so that it is gone from the disk and not only from an index.
//!
//! ## The file, `DATA_DIR/keys.heard`
//!
//! A 64-byte header, then 64-byte slots, each at a multiple of 64 (a slot never straddles a disk
//! sector):
//!
//! ```text
//! header  0..8   magic "HEARDKEY"        slot  0..16  subject id (a UUID)
//!         8..12  version (u32 LE, 1)           16..48 key (zeros once destroyed)
//!        12..16  slot length (u32 LE, 64)      48     state: 1 live, 2 destroyed
//!        16..60  zeros                         49..60 zeros
//!        60..64  CRC-32 of 0..60               60..64 CRC-32 of 0..60
//! ```
//!
//! A slot of 64 zero bytes is empty. Slots are only ever appended, except that
//! [`destroy`](KeyStore::destroy) rewrites the subject's live slot in place.
//!
//! ## Durability and destruction
//!
//! - [`get_or_create`](KeyStore::get_or_create) appends a live slot (written, not synced);
//!   [`make_durable`](KeyStore::make_durable), which the log's writer calls once per group before
//!   it writes the group, runs one `fdatasync` for every key created since the last one.
//! - [`destroy`](KeyStore::destroy) appends a tombstone slot and syncs it (from then on the
//!   subject is erased whatever happens next), then overwrites the live slot with the same
//!   tombstone, zeroing the key's bytes, and syncs again before it returns. A tombstoned subject
//!   never gets a key again: [`get_or_create`](KeyStore::get_or_create) returns
//!   [`Error::SubjectErased`].
//!
//! ## Crashes and torn writes
//!
//! Opening never fails because of a slot: a slot whose checksum does not match (a write torn by
//! a crash) is skipped, and the other keys load. A torn slot can only be an append that had not
//! been synced (its key sealed nothing in the log: the writer syncs keys before it writes the
//! group that uses them) or the in-place overwrite of a destroy (whose tombstone was synced
//! before it). So on open:
//! - a live slot of a subject with a tombstone (a destroy cut short between its two writes) and a
//!   torn slot naming a tombstoned subject are overwritten with the tombstone, and synced;
//! - any other torn slot is left as it is and ignored.
//!
//! ## The sled store before it
//!
//! Keys used to live in a sled database in `DATA_DIR/keys/`, which keeps removed values in its
//! files. When that directory exists, [`FileKeyStore::open_in`] copies every key and tombstone
//! it holds that `keys.heard` does not know yet (a tombstone is honoured even for a subject the
//! file knows), syncs the file, then overwrites every sled file with zeros and removes the
//! directory. An open that crashes half-way repeats it the next time.
//!
//! "Physical" means the bytes are overwritten where they are: true on filesystems that write in
//! place (ext4, XFS). Copy-on-write filesystems (btrfs, ZFS) and an SSD's own remapping can keep
//! old copies of a block below the filesystem; encrypt the disk there.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use uuid::Uuid;

use crate::crypto::{KeyStore, SubjectKey};
use crate::error::{Error, Result};
use crate::types::SubjectId;

/// The key file's name inside the data directory.
pub const KEY_FILE_NAME: &str = "keys.heard";
/// The directory of the sled key store that [`FileKeyStore`] replaced.
pub const LEGACY_KEY_DIR: &str = "keys";

const MAGIC: &[u8; 8] = b"HEARDKEY";
const VERSION: u32 = 1;
const HEADER_LEN: u64 = 64;
const SLOT_LEN: usize = 64;
const CHECKED_LEN: usize = 60;
const SUBJECT: std::ops::Range<usize> = 0..16;
const KEY: std::ops::Range<usize> = 16..48;
const STATE: usize = 48;
const LIVE: u8 = 1;
const DESTROYED: u8 = 2;

/// The index's mark for a tombstoned subject (in place of a slot number).
const TOMBSTONE: u32 = u32::MAX;
/// Slots read from the file at a time when opening.
const SLOTS_PER_READ: usize = 16 * 1024;

/// Subject keys in `DATA_DIR/keys.heard`; see the module docs.
///
/// Memory: an index of subject id to slot number (20 bytes an entry in a hash table), about
/// 44 MB for a million subjects; the keys themselves are read from the file (the page cache)
/// when asked for.
pub struct FileKeyStore {
    file: File,
    index: RwLock<Index>,
    /// Serialises destroys, so that a second destroy of a subject returns only once the first's
    /// writes are durable.
    destroying: Mutex<()>,
    /// Keys created (slots appended by `get_or_create`), counted under the index's write lock
    /// before the key is handed out.
    created: AtomicU64,
    /// `created` as it was read before the last sync that succeeded.
    durable: AtomicU64,
    syncs: AtomicU64,
    /// Set when a sync failed: the page cache can no longer be trusted to reach the disk, so no
    /// more keys are created or destroyed until a restart (which repairs what was cut short).
    poisoned: AtomicBool,
}

impl std::fmt::Debug for FileKeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileKeyStore").finish_non_exhaustive()
    }
}

struct Index {
    /// Subject to slot number, or [`TOMBSTONE`].
    slots: HashMap<SubjectId, u32>,
    /// The slot the next append writes.
    next: u32,
}

/// What one slot holds, as read back.
#[derive(Debug, PartialEq, Eq)]
enum Slot {
    Empty,
    Live(SubjectId),
    Destroyed(SubjectId),
    /// Checksum mismatch or unknown state; the subject bytes as found.
    Torn(SubjectId),
}

impl FileKeyStore {
    /// Opens (or creates, readable by its owner only) `data_dir/keys.heard`, locking it for this
    /// process, repairing what a crash cut short, and moving in the keys of an old sled store in
    /// `data_dir/keys/`.
    pub fn open_in(data_dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(data_dir).map_err(Error::storage)?;
        let store = Self::open_file(&data_dir.join(KEY_FILE_NAME), None)?;
        let legacy = data_dir.join(LEGACY_KEY_DIR);
        if legacy.is_dir() {
            store.move_in_legacy(&legacy)?;
            scrub_dir(&legacy)?;
            sync_dir(data_dir)?;
        }
        Ok(store)
    }

    /// Opens (or creates, readable by its owner only) a key file at `path` and locks it for this
    /// process: at once, or failing with [`Error::Locked`], when `wait` is `None`; otherwise
    /// waiting up to `wait` for another process to let it go (a key file that two processes
    /// take turns with, such as the backup keyring beside the erasure register).
    pub fn open_file(path: &Path, wait: Option<std::time::Duration>) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(Error::storage)?;
        let deadline = wait.map(|wait| std::time::Instant::now() + wait);
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock)
                    if deadline.is_some_and(|deadline| std::time::Instant::now() < deadline) =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(std::fs::TryLockError::WouldBlock) => return Err(Error::Locked),
                Err(std::fs::TryLockError::Error(error)) => return Err(Error::storage(error)),
            }
        }
        if !header_is_valid(&file)? {
            initialise(&file)?;
            if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
                sync_dir(dir)?;
            }
        }
        Self::load(file)
    }

    /// Whether the file holds a tombstone for `subject` (`Some(true)`), a live key
    /// (`Some(false)`), or nothing at all (`None`).
    pub fn destroyed(&self, subject: SubjectId) -> Result<Option<bool>> {
        Ok(self.read_index()?.slots.get(&subject).map(|slot| *slot == TOMBSTONE))
    }

    /// Reads every slot into the index, finishing destroys that a crash cut short.
    fn load(file: File) -> Result<Self> {
        let len = file.metadata().map_err(Error::storage)?.len();
        let slot_count = len.saturating_sub(HEADER_LEN).div_ceil(SLOT_LEN as u64);
        let slot_count = u32::try_from(slot_count)
            .ok()
            .filter(|count| *count < TOMBSTONE)
            .ok_or_else(|| key_file("it has more slots than can be indexed"))?;
        let mut slots: HashMap<SubjectId, u32> = HashMap::with_capacity(slot_count as usize);
        let mut live_then_destroyed = Vec::new();
        let mut torn = Vec::new();
        let mut buffer = vec![0; SLOTS_PER_READ * SLOT_LEN];
        let mut first = 0;
        while first < slot_count {
            let count = (slot_count - first).min(SLOTS_PER_READ as u32);
            let offset = slot_offset(first);
            let wanted = ((count as u64 * SLOT_LEN as u64).min(len - offset)) as usize;
            buffer[..count as usize * SLOT_LEN].fill(0);
            file.read_exact_at(&mut buffer[..wanted], offset).map_err(Error::storage)?;
            let whole = wanted / SLOT_LEN;
            for (n, bytes) in buffer[..count as usize * SLOT_LEN].chunks_exact(SLOT_LEN).enumerate() {
                let slot = first + n as u32;
                let decoded = if n < whole { decode_slot(bytes) } else { Slot::Torn(subject_of(bytes)) };
                match decoded {
                    Slot::Empty => {}
                    Slot::Torn(subject) => torn.push((slot, subject)),
                    Slot::Live(subject) => match slots.get(&subject) {
                        None => {
                            slots.insert(subject, slot);
                        }
                        Some(&TOMBSTONE) => live_then_destroyed.push((slot, subject)),
                        Some(_) => return Err(key_file("a subject has two live keys")),
                    },
                    Slot::Destroyed(subject) => {
                        if let Some(live) = slots.insert(subject, TOMBSTONE).filter(|slot| *slot != TOMBSTONE) {
                            live_then_destroyed.push((live, subject));
                        }
                    }
                }
            }
            first += count;
        }
        // A torn slot naming a tombstoned subject is a destroy's overwrite cut short.
        live_then_destroyed.extend(torn.iter().filter(|(_, subject)| slots.get(subject) == Some(&TOMBSTONE)).copied());
        let repaired = live_then_destroyed.len();
        for (slot, subject) in live_then_destroyed {
            file.write_all_at(&encode_slot(subject, &[0; 32], DESTROYED), slot_offset(slot)).map_err(Error::storage)?;
        }
        if repaired > 0 {
            file.sync_data().map_err(Error::storage)?;
            tracing::warn!(slots = repaired, "finished destroying subject keys that a crash had cut short");
        }
        let skipped = torn.len() - torn.iter().filter(|(_, subject)| slots.get(subject) == Some(&TOMBSTONE)).count();
        if skipped > 0 {
            tracing::warn!(slots = skipped, "skipped torn slots in the key file (keys that were never made durable)");
        }
        Ok(FileKeyStore {
            file,
            index: RwLock::new(Index { slots, next: slot_count }),
            destroying: Mutex::new(()),
            created: AtomicU64::new(0),
            durable: AtomicU64::new(0),
            syncs: AtomicU64::new(0),
            poisoned: AtomicBool::new(false),
        })
    }

    /// Copies the keys and tombstones of the old sled store that this file does not know yet,
    /// honours every sled tombstone, and syncs.
    fn move_in_legacy(&self, legacy: &Path) -> Result<()> {
        let mut imported = Vec::new();
        let mut tombstones = Vec::new();
        {
            let db = crate::sled_open::open(sled::Config::new(), legacy)?;
            for entry in db.iter() {
                let (id, value) = entry?;
                let id: [u8; 16] = id
                    .as_ref()
                    .try_into()
                    .map_err(|_| key_file("the old key store holds an id of the wrong length"))?;
                let subject = SubjectId(Uuid::from_bytes(id));
                match value.len() {
                    0 => tombstones.push(subject),
                    32 => {
                        let mut key = [0; 32];
                        key.copy_from_slice(&value);
                        imported.push((subject, key));
                    }
                    _ => return Err(key_file("the old key store holds a key of the wrong length")),
                }
            }
        }
        let mut index = self.write_index()?;
        let mut appended = Vec::new();
        let mut overwrite = Vec::new();
        let mut next = index.next;
        for (subject, key) in &imported {
            if !index.slots.contains_key(subject) {
                appended.extend_from_slice(&encode_slot(*subject, key, LIVE));
                index.slots.insert(*subject, next);
                next = next.checked_add(1).filter(|n| *n < TOMBSTONE).ok_or_else(full)?;
            }
        }
        for subject in &tombstones {
            match index.slots.insert(*subject, TOMBSTONE) {
                Some(TOMBSTONE) => continue,
                Some(live) => overwrite.push((live, *subject)),
                None => {}
            }
            appended.extend_from_slice(&encode_slot(*subject, &[0; 32], DESTROYED));
            next = next.checked_add(1).filter(|n| *n < TOMBSTONE).ok_or_else(full)?;
        }
        if !appended.is_empty() {
            self.file.write_all_at(&appended, slot_offset(index.next)).map_err(Error::storage)?;
            index.next = next;
            self.sync()?;
        }
        for (slot, subject) in &overwrite {
            self.file
                .write_all_at(&encode_slot(*subject, &[0; 32], DESTROYED), slot_offset(*slot))
                .map_err(Error::storage)?;
        }
        if !overwrite.is_empty() {
            self.sync()?;
        }
        tracing::info!(
            keys = imported.len(),
            tombstones = tombstones.len(),
            "moved the old sled key store into keys.heard; its files are overwritten and removed next"
        );
        Ok(())
    }

    fn read_index(&self) -> Result<std::sync::RwLockReadGuard<'_, Index>> {
        self.index.read().map_err(|_| Error::storage("the key index lock is poisoned"))
    }

    fn write_index(&self) -> Result<std::sync::RwLockWriteGuard<'_, Index>> {
        self.index.write().map_err(|_| Error::storage("the key index lock is poisoned"))
    }

    /// Reads a live slot's key. Called with the index locked, so a destroy cannot overwrite the
    /// slot meanwhile.
    fn read_key(&self, slot: u32) -> Result<SubjectKey> {
        let mut key = [0; 32];
        self.file.read_exact_at(&mut key, slot_offset(slot) + KEY.start as u64).map_err(Error::storage)?;
        Ok(SubjectKey::from_bytes(key))
    }

    fn refuse_if_poisoned(&self) -> Result<()> {
        if self.poisoned.load(Ordering::SeqCst) { Err(Error::Poisoned) } else { Ok(()) }
    }

    /// `fdatasync`; a failure poisons the store.
    fn sync(&self) -> Result<()> {
        if let Err(error) = self.file.sync_data() {
            self.poisoned.store(true, Ordering::SeqCst);
            tracing::error!(%error, "syncing the key file failed; no more keys are created or destroyed until a restart");
            return Err(Error::storage(error));
        }
        self.syncs.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// About how many bytes the in-memory index takes (the hash table's allocation).
    pub fn index_bytes(&self) -> usize {
        let index = self.index.read().unwrap_or_else(|p| p.into_inner());
        let capacity = index.slots.capacity();
        // hashbrown keeps at most 7/8 of its buckets full, and one control byte per bucket.
        let buckets = if capacity < 8 { capacity + 1 } else { (capacity * 8 / 7).next_power_of_two() };
        buckets * (std::mem::size_of::<(SubjectId, u32)>() + 1)
    }

    /// How many `fdatasync`s the store has run (tests count them).
    #[cfg(test)]
    pub(crate) fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::SeqCst)
    }

    /// How many keys were created since opening, and how many of them are known durable.
    #[cfg(test)]
    pub(crate) fn created_and_durable(&self) -> (u64, u64) {
        (self.created.load(Ordering::SeqCst), self.durable.load(Ordering::SeqCst))
    }
}

impl KeyStore for FileKeyStore {
    fn get_or_create(&self, subject: SubjectId) -> Result<SubjectKey> {
        match self.read_index()?.slots.get(&subject) {
            Some(&TOMBSTONE) => return Err(Error::SubjectErased),
            Some(&slot) => return self.read_key(slot),
            None => {}
        }
        self.refuse_if_poisoned()?;
        let mut index = self.write_index()?;
        match index.slots.get(&subject) {
            Some(&TOMBSTONE) => return Err(Error::SubjectErased),
            Some(&slot) => return self.read_key(slot),
            None => {}
        }
        let slot = index.next;
        let next = slot.checked_add(1).filter(|n| *n < TOMBSTONE).ok_or_else(full)?;
        let key = SubjectKey::generate();
        // Not synced here: the log's writer makes it durable with the rest of the group.
        self.file
            .write_all_at(&encode_slot(subject, key.as_bytes(), LIVE), slot_offset(slot))
            .map_err(Error::storage)?;
        index.next = next;
        index.slots.insert(subject, slot);
        // Counted before the lock is released, so before anyone can be handed this key.
        self.created.fetch_add(1, Ordering::SeqCst);
        Ok(key)
    }

    fn make_durable(&self) -> Result<()> {
        let created = self.created.load(Ordering::SeqCst);
        if self.durable.load(Ordering::SeqCst) >= created {
            return Ok(());
        }
        self.refuse_if_poisoned()?;
        self.sync()?;
        self.durable.fetch_max(created, Ordering::SeqCst);
        Ok(())
    }

    fn get(&self, subject: SubjectId) -> Result<Option<SubjectKey>> {
        match self.read_index()?.slots.get(&subject) {
            None | Some(&TOMBSTONE) => Ok(None),
            Some(&slot) => self.read_key(slot).map(Some),
        }
    }

    fn destroy(&self, subject: SubjectId) -> Result<bool> {
        let _one_at_a_time = self.destroying.lock().unwrap_or_else(|p| p.into_inner());
        self.refuse_if_poisoned()?;
        let tombstone = encode_slot(subject, &[0; 32], DESTROYED);
        let live = {
            let mut index = self.write_index()?;
            let previous = index.slots.get(&subject).copied();
            if previous == Some(TOMBSTONE) {
                return Ok(false);
            }
            let slot = index.next;
            let next = slot.checked_add(1).filter(|n| *n < TOMBSTONE).ok_or_else(full)?;
            self.file.write_all_at(&tombstone, slot_offset(slot)).map_err(Error::storage)?;
            index.next = next;
            // From here on nobody is handed the key, and no read touches its slot.
            index.slots.insert(subject, TOMBSTONE);
            previous
        };
        // The tombstone is durable before the key is overwritten, so a torn overwrite is
        // recognised (and finished) on the next open.
        self.sync()?;
        let Some(live) = live else { return Ok(false) };
        if let Err(error) = self.file.write_all_at(&tombstone, slot_offset(live)) {
            self.poisoned.store(true, Ordering::SeqCst);
            return Err(Error::storage(error));
        }
        self.sync()?;
        Ok(true)
    }

    fn all_keys(&self) -> Result<Vec<(SubjectId, Option<SubjectKey>)>> {
        let index = self.read_index()?;
        index
            .slots
            .iter()
            .map(|(subject, slot)| match *slot {
                TOMBSTONE => Ok((*subject, None)),
                slot => self.read_key(slot).map(|key| (*subject, Some(key))),
            })
            .collect()
    }

    /// Appends one slot a key or tombstone, in one write, and syncs once.
    fn import_keys(&self, keys: &[(SubjectId, Option<SubjectKey>)]) -> Result<()> {
        self.refuse_if_poisoned()?;
        let mut index = self.write_index()?;
        let mut seen = std::collections::HashSet::with_capacity(keys.len());
        if keys.iter().any(|(subject, _)| index.slots.contains_key(subject) || !seen.insert(*subject)) {
            return Err(crate::crypto::already_known());
        }
        let first = index.next;
        let count = u32::try_from(keys.len()).map_err(|_| full())?;
        let next = first.checked_add(count).filter(|n| *n < TOMBSTONE).ok_or_else(full)?;
        let mut slots = Vec::with_capacity(keys.len() * SLOT_LEN);
        for (subject, key) in keys {
            match key {
                Some(key) => slots.extend_from_slice(&encode_slot(*subject, key.as_bytes(), LIVE)),
                None => slots.extend_from_slice(&encode_slot(*subject, &[0; 32], DESTROYED)),
            }
        }
        self.file.write_all_at(&slots, slot_offset(first)).map_err(Error::storage)?;
        self.sync()?;
        index.next = next;
        for (n, (subject, key)) in keys.iter().enumerate() {
            index.slots.insert(*subject, if key.is_some() { first + n as u32 } else { TOMBSTONE });
        }
        Ok(())
    }
}

fn full() -> Error {
    Error::storage("the key file is full")
}

/// Every key and tombstone in `data_dir/keys.heard` as the file holds them now, read without
/// taking its lock, so that `heard backup` can read the keys of a running Heard. The file is
/// only appended to, except that a destroy overwrites a live slot with its tombstone, so a read
/// sees each slot whole or torn: a torn slot is skipped (a key not yet made durable, whose events
/// are not in the log either), and a tombstone anywhere wins over a live slot of its subject.
pub fn read_unlocked(data_dir: &Path) -> Result<Vec<(SubjectId, Option<SubjectKey>)>> {
    if data_dir.join(LEGACY_KEY_DIR).is_dir() {
        return Err(key_file("its keys are still in the old sled store: start heard on it once to move them"));
    }
    let path = data_dir.join(KEY_FILE_NAME);
    let file = match File::open(&path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(Error::storage(error)),
    };
    if !header_is_valid(&file)? {
        return Ok(Vec::new());
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut &file, &mut bytes).map_err(Error::storage)?;
    let mut keys: HashMap<SubjectId, Option<SubjectKey>> = HashMap::new();
    for slot in bytes.get(HEADER_LEN as usize..).unwrap_or_default().chunks_exact(SLOT_LEN) {
        match decode_slot(slot) {
            Slot::Empty | Slot::Torn(_) => {}
            Slot::Live(subject) => {
                let mut key = [0; 32];
                key.copy_from_slice(&slot[KEY]);
                keys.entry(subject).or_insert(Some(SubjectKey::from_bytes(key)));
            }
            Slot::Destroyed(subject) => {
                keys.insert(subject, None);
            }
        }
    }
    let mut keys: Vec<_> = keys.into_iter().collect();
    keys.sort_by_key(|(subject, _)| subject.0);
    Ok(keys)
}

fn slot_offset(slot: u32) -> u64 {
    HEADER_LEN + u64::from(slot) * SLOT_LEN as u64
}

fn encode_slot(subject: SubjectId, key: &[u8; 32], state: u8) -> [u8; SLOT_LEN] {
    let mut slot = [0; SLOT_LEN];
    slot[SUBJECT].copy_from_slice(subject.0.as_bytes());
    slot[KEY].copy_from_slice(key);
    slot[STATE] = state;
    let crc = crc32fast::hash(&slot[..CHECKED_LEN]);
    slot[CHECKED_LEN..].copy_from_slice(&crc.to_le_bytes());
    slot
}

fn subject_of(bytes: &[u8]) -> SubjectId {
    let mut id = [0; 16];
    id.copy_from_slice(&bytes[SUBJECT]);
    SubjectId(Uuid::from_bytes(id))
}

fn decode_slot(bytes: &[u8]) -> Slot {
    if bytes.iter().all(|b| *b == 0) {
        return Slot::Empty;
    }
    let subject = subject_of(bytes);
    let crc = u32::from_le_bytes(bytes[CHECKED_LEN..SLOT_LEN].try_into().unwrap_or_default());
    if crc != crc32fast::hash(&bytes[..CHECKED_LEN]) || bytes[STATE + 1..CHECKED_LEN].iter().any(|b| *b != 0) {
        return Slot::Torn(subject);
    }
    match bytes[STATE] {
        LIVE => Slot::Live(subject),
        DESTROYED if bytes[KEY].iter().all(|b| *b == 0) => Slot::Destroyed(subject),
        _ => Slot::Torn(subject),
    }
}

fn encode_header() -> [u8; HEADER_LEN as usize] {
    let mut header = [0; HEADER_LEN as usize];
    header[..8].copy_from_slice(MAGIC);
    header[8..12].copy_from_slice(&VERSION.to_le_bytes());
    header[12..16].copy_from_slice(&(SLOT_LEN as u32).to_le_bytes());
    let crc = crc32fast::hash(&header[..CHECKED_LEN]);
    header[CHECKED_LEN..].copy_from_slice(&crc.to_le_bytes());
    header
}

/// Whether the file starts with a valid header. An empty file, or a header torn while the file
/// was being created (nothing written after it), is not valid and may be initialised; a newer
/// version, or a damaged header with slots behind it, is an error (never started afresh: that
/// would lose keys).
fn header_is_valid(file: &File) -> Result<bool> {
    let len = file.metadata().map_err(Error::storage)?.len();
    let mut header = [0; HEADER_LEN as usize];
    let present = len.min(HEADER_LEN) as usize;
    file.read_exact_at(&mut header[..present], 0).map_err(Error::storage)?;
    let crc = u32::from_le_bytes(header[CHECKED_LEN..].try_into().unwrap_or_default());
    if len >= HEADER_LEN && header[..8] == MAGIC[..] && crc == crc32fast::hash(&header[..CHECKED_LEN]) {
        let version = u32::from_le_bytes(header[8..12].try_into().unwrap_or_default());
        let slot_len = u32::from_le_bytes(header[12..16].try_into().unwrap_or_default());
        if version != VERSION || slot_len != SLOT_LEN as u32 {
            return Err(Error::Storage {
                detail: format!(
                    "the key file has format version {version}; this heard reads version {VERSION} (a newer heard wrote it)"
                ),
            });
        }
        return Ok(true);
    }
    if len > HEADER_LEN {
        return Err(key_file("its header is damaged; refusing to start a new key file over it"));
    }
    Ok(false)
}

/// Writes a fresh header over an empty (or torn, header-only) file and syncs it.
fn initialise(file: &File) -> Result<()> {
    file.set_len(0).map_err(Error::storage)?;
    file.write_all_at(&encode_header(), 0).map_err(Error::storage)?;
    file.sync_all().map_err(Error::storage)
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(Error::storage)
}

/// Overwrites every file under `dir` with zeros, syncs it, removes it, then removes `dir`.
fn scrub_dir(dir: &Path) -> Result<()> {
    let zeros = vec![0; 64 * 1024];
    for entry in std::fs::read_dir(dir).map_err(Error::storage)? {
        let path = entry.map_err(Error::storage)?.path();
        let kind = std::fs::symlink_metadata(&path).map_err(Error::storage)?.file_type();
        if kind.is_dir() {
            scrub_dir(&path)?;
            continue;
        }
        if kind.is_file() {
            let file = OpenOptions::new().write(true).open(&path).map_err(Error::storage)?;
            let len = file.metadata().map_err(Error::storage)?.len();
            let mut at = 0;
            while at < len {
                let n = (len - at).min(zeros.len() as u64) as usize;
                file.write_all_at(&zeros[..n], at).map_err(Error::storage)?;
                at += n as u64;
            }
            file.sync_all().map_err(Error::storage)?;
        }
        std::fs::remove_file(&path).map_err(Error::storage)?;
    }
    sync_dir(dir)?;
    std::fs::remove_dir(dir).map_err(Error::storage)
}

fn key_file(detail: &str) -> Error {
    Error::KeyFile { detail: detail.to_owned() }
}

#[cfg(test)]
mod tests;
