//! Backups: a whole store (its log, its keys and the files a data directory needs besides) in
//! one file, encrypted under a passphrase and checksummed; see `heard backup` and `heard restore`.
//!
//! ## The file
//!
//! ```text
//! "HEARDBAK" ‖ version (u32 BE, 1) ‖ header length (u32 BE) ‖ header (JSON: the key
//! derivation's salt and costs, the chunk size)
//! chunks: length (u32 BE) ‖ ChaCha20-Poly1305 ciphertext of up to 1 MiB of the contents
//! "HEARDEND" ‖ SHA-256 of every byte before "HEARDEND"
//! ```
//!
//! The key is argon2id of the passphrase and a random salt, so each backup has a key of its own
//! and a chunk's nonce is its number. Each chunk's associated data is the SHA-256 of the header,
//! its number and whether it is the last, so chunks cannot be reordered, dropped, moved between
//! backups or cut off at the end without [`Reader`] saying so. The SHA-256 at the end lets
//! anyone check a copy (`sha256sum`-style, with no passphrase): [`checksum_of`].
//!
//! ## The contents, once decrypted
//!
//! A sequence of sections, each `tag (u8) ‖ length (u32 BE) ‖ bytes`:
//! - `M`: the manifest (JSON, [`Manifest`]), first;
//! - `F`: a file of the data directory: name length (u16 BE) ‖ name ‖ bytes (`secret.key`);
//! - `E`: one event record exactly as the log holds it (body, previous hash, hash);
//! - `W`: keys, 77 bytes each: subject (16) ‖ state (1: live, 2: destroyed) ‖ the person's key
//!   sealed under their backup key (60: nonce, key and tag; zeros when destroyed). The backup
//!   keys live in the [`BackupKeyring`] beside the erasure register, never in a backup, and an
//!   erasure destroys them: so no backup gives an erased person's key back, to anyone;
//! - `K` (format 1, still read): keys in the clear, 49 bytes each: subject (16) ‖ state ‖ key (32);
//! - `Z`: the end; nothing may follow it.
//!
//! Keys are written after the events, read after them too: a key is durable before the first
//! event that uses it is written, so every key an event of the backup needs is in it.

use std::io::{Read, Write};

use chacha20poly1305::aead::{Aead, Generate, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::crypto::SubjectKey;
use crate::error::{Error, Result};
use crate::types::SubjectId;

pub use crate::erasure_register::{BackupKeyring, ErasureRegister, WRAPPED_LEN, Wrapped};

const MAGIC: &[u8; 8] = b"HEARDBAK";
const END: &[u8; 8] = b"HEARDEND";
/// The format written: 2 seals every key under the person's backup key (`W`); format 1 (keys
/// in the clear, `K`) is still read.
const VERSION: u32 = 2;
/// Plaintext bytes in a chunk.
const CHUNK: usize = 1 << 20;
/// A ChaCha20-Poly1305 tag.
const TAG: usize = 16;
/// The longest header a reader accepts.
const MAX_HEADER: u32 = 64 * 1024;
/// The longest section a reader accepts (a record is at most 64 MiB).
const MAX_SECTION: u32 = 65 * 1024 * 1024;
const KEY_ENTRY: usize = 49;
const WRAPPED_ENTRY: usize = 17 + WRAPPED_LEN;
/// The key derivation's memory (KiB) and passes: argon2id, well above its defaults, since a
/// backup leaves the machine.
const KDF_MEMORY_KIB: u32 = 64 * 1024;
const KDF_PASSES: u32 = 3;

/// What a backup holds, written first in it and printed by `heard backup` and `heard restore`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    /// When the backup was taken (RFC 3339, UTC).
    pub taken_at: String,
    /// The Heard that took it.
    pub heard_version: String,
    /// The backend of the store it was taken from (`segments`, `sled`, `postgres`).
    pub backend: String,
}

/// The passphrase's key derivation, as the header records it.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Header {
    kdf: String,
    salt: String,
    memory_kib: u32,
    passes: u32,
    lanes: u32,
    chunk_bytes: usize,
}

/// What a whole backup held, as [`Reader::finish`] counts it.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub events: u64,
    pub keys: u64,
    pub destroyed: u64,
    pub files: u64,
}

/// One section of a backup's contents, as [`Reader::next`] gives them.
#[derive(Debug)]
pub enum Section {
    Manifest(Manifest),
    File { name: String, bytes: Vec<u8> },
    Event(Vec<u8>),
    Keys(Vec<(SubjectId, BackedUpKey)>),
}

/// A person's key as a backup holds it.
#[derive(Clone, Debug)]
pub enum BackedUpKey {
    /// Sealed under the person's backup key in the keyring.
    Wrapped(Wrapped),
    /// In the clear (a format-1 backup).
    Plain(SubjectKey),
    /// Destroyed before the backup was taken.
    Destroyed,
}

fn derive_key(passphrase: &[u8], salt: &[u8], memory_kib: u32, passes: u32, lanes: u32) -> Result<Key> {
    if passphrase.is_empty() {
        return Err(backup_error("the passphrase is empty"));
    }
    let params = argon2::Params::new(memory_kib, passes, lanes, Some(32))
        .map_err(|_| backup_error("the backup's key derivation costs are not valid"))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = [0u8; 32];
    argon
        .hash_password_into(passphrase, salt, &mut key)
        .map_err(|_| backup_error("the passphrase cannot be turned into a key"))?;
    Ok(Key::from(key))
}

fn backup_error(detail: impl Into<String>) -> Error {
    Error::Backup { detail: detail.into() }
}

fn nonce(chunk: u64) -> Nonce {
    let mut bytes = [0u8; 12];
    bytes[4..].copy_from_slice(&chunk.to_be_bytes());
    Nonce::from(bytes)
}

fn associated(header_hash: &[u8; 32], chunk: u64, last: bool) -> Vec<u8> {
    let mut aad = Vec::with_capacity(41);
    aad.extend_from_slice(header_hash);
    aad.extend_from_slice(&chunk.to_be_bytes());
    aad.push(u8::from(last));
    aad
}

/// Writes a backup: [`Writer::manifest`] first, then files, events and keys, then
/// [`Writer::finish`].
pub struct Writer<W: Write> {
    out: HashingWrite<W>,
    cipher: ChaCha20Poly1305,
    header_hash: [u8; 32],
    chunk: u64,
    buffer: Vec<u8>,
    counts: Counts,
}

struct HashingWrite<W: Write> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> HashingWrite<W> {
    fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        self.hasher.update(bytes);
        self.inner.write_all(bytes).map_err(Error::storage)
    }
}

impl<W: Write> Writer<W> {
    /// Starts a backup into `out`, encrypted under `passphrase` (slow on purpose: argon2id).
    pub fn new(out: W, passphrase: &[u8]) -> Result<Self> {
        let salt = Key::generate();
        let header = Header {
            kdf: "argon2id".into(),
            salt: hex::encode(&salt[..16]),
            memory_kib: KDF_MEMORY_KIB,
            passes: KDF_PASSES,
            lanes: 1,
            chunk_bytes: CHUNK,
        };
        let key = derive_key(passphrase, &salt[..16], header.memory_kib, header.passes, header.lanes)?;
        let header = serde_json::to_vec(&header).map_err(Error::storage)?;
        let mut out = HashingWrite { inner: out, hasher: Sha256::new() };
        out.write_all(MAGIC)?;
        out.write_all(&VERSION.to_be_bytes())?;
        out.write_all(&(header.len() as u32).to_be_bytes())?;
        out.write_all(&header)?;
        Ok(Writer {
            out,
            cipher: ChaCha20Poly1305::new(&key),
            header_hash: Sha256::digest(&header).into(),
            chunk: 0,
            buffer: Vec::with_capacity(CHUNK + 64),
            counts: Counts::default(),
        })
    }

    fn section(&mut self, tag: u8, parts: &[&[u8]]) -> Result<()> {
        let len: usize = parts.iter().map(|part| part.len()).sum();
        self.buffer.push(tag);
        self.buffer.extend_from_slice(&(len as u32).to_be_bytes());
        for part in parts {
            self.buffer.extend_from_slice(part);
        }
        while self.buffer.len() > CHUNK {
            let rest = self.buffer.split_off(CHUNK);
            self.seal(false)?;
            self.buffer = rest;
        }
        Ok(())
    }

    fn seal(&mut self, last: bool) -> Result<()> {
        let aad = associated(&self.header_hash, self.chunk, last);
        let sealed = self
            .cipher
            .encrypt(&nonce(self.chunk), Payload { msg: &self.buffer, aad: &aad })
            .map_err(|_| backup_error("a chunk could not be encrypted"))?;
        self.out.write_all(&(sealed.len() as u32).to_be_bytes())?;
        self.out.write_all(&sealed)?;
        self.chunk += 1;
        self.buffer.clear();
        Ok(())
    }

    pub fn manifest(&mut self, manifest: &Manifest) -> Result<()> {
        let json = serde_json::to_vec(manifest).map_err(Error::storage)?;
        self.section(b'M', &[&json])
    }

    /// A file of the data directory, by name (no folders).
    pub fn file(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        self.counts.files += 1;
        self.section(b'F', &[&(name.len() as u16).to_be_bytes(), name.as_bytes(), bytes])
    }

    /// One record exactly as the log holds it.
    pub fn event(&mut self, record: &[u8]) -> Result<()> {
        self.counts.events += 1;
        self.section(b'E', &[record])
    }

    /// Every key and tombstone, each live key sealed under the person's backup key in
    /// `keyring` (a person the keyring says was erased is written as destroyed). The backup keys
    /// made for it are durable before this returns.
    pub fn keys(&mut self, keys: &[(SubjectId, Option<SubjectKey>)], keyring: &BackupKeyring) -> Result<()> {
        for batch in keys.chunks(4096) {
            let mut bytes = Vec::with_capacity(batch.len() * WRAPPED_ENTRY);
            for (subject, key) in batch {
                bytes.extend_from_slice(subject.0.as_bytes());
                match key.as_ref().map(|key| keyring.wrap(*subject, key)).transpose()?.flatten() {
                    Some(wrapped) => {
                        self.counts.keys += 1;
                        bytes.push(1);
                        bytes.extend_from_slice(&wrapped);
                    }
                    None => {
                        self.counts.destroyed += 1;
                        bytes.push(2);
                        bytes.extend_from_slice(&[0; WRAPPED_LEN]);
                    }
                }
            }
            self.section(b'W', &[&bytes])?;
        }
        keyring.make_durable()
    }

    /// Ends the contents, writes the checksum and returns the writer, what was written and the
    /// checksum (hex).
    pub fn finish(mut self) -> Result<(W, Counts, String)> {
        self.section(b'Z', &[])?;
        self.seal(true)?;
        let checksum: [u8; 32] = self.out.hasher.clone().finalize().into();
        self.out.inner.write_all(END).map_err(Error::storage)?;
        self.out.inner.write_all(&checksum).map_err(Error::storage)?;
        self.out.inner.flush().map_err(Error::storage)?;
        Ok((self.out.inner, self.counts, hex::encode(checksum)))
    }
}

/// Checks a backup file's checksum without its passphrase; returns the checksum (hex). Says
/// whether the file is not a backup, cut short, or damaged.
pub fn checksum_of(mut file: impl Read) -> Result<String> {
    const TRAILER: usize = 40;
    let mut hasher = Sha256::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut buffer = vec![0; 1 << 20];
    let mut read = 0usize;
    loop {
        let n = file.read(&mut buffer).map_err(Error::storage)?;
        if n == 0 {
            break;
        }
        let start = read.min(MAGIC.len());
        let upto = (read + n).min(MAGIC.len());
        if buffer[..upto - start] != MAGIC[start..upto] {
            return Err(backup_error("the file is not a Heard backup"));
        }
        read += n;
        pending.extend_from_slice(&buffer[..n]);
        if pending.len() > TRAILER {
            let keep = pending.split_off(pending.len() - TRAILER);
            hasher.update(&pending);
            pending = keep;
        }
    }
    if read < MAGIC.len() + TRAILER || pending[..8] != END[..] {
        return Err(backup_error("the file is cut short: it does not end as a Heard backup ends"));
    }
    let checksum: [u8; 32] = hasher.finalize().into();
    if checksum[..] != pending[8..] {
        return Err(backup_error("the file is damaged: its checksum does not match its contents"));
    }
    Ok(hex::encode(checksum))
}

/// Reads a backup's contents, a section at a time; every chunk is authenticated before any of
/// its bytes are given out.
pub struct Reader<R: Read> {
    input: R,
    cipher: ChaCha20Poly1305,
    header_hash: [u8; 32],
    chunk: u64,
    plain: Vec<u8>,
    at: usize,
    ended: bool,
    saw_end: bool,
    counts: Counts,
}

impl<R: Read> Reader<R> {
    /// Opens a backup with its passphrase: a wrong passphrase is refused here, before anything
    /// is read.
    pub fn new(mut input: R, passphrase: &[u8]) -> Result<Self> {
        let mut start = [0u8; 16];
        input.read_exact(&mut start).map_err(|_| backup_error("the file is not a Heard backup"))?;
        if &start[..8] != MAGIC {
            return Err(backup_error("the file is not a Heard backup"));
        }
        let version = u32::from_be_bytes(start[8..12].try_into().unwrap_or_default());
        if !(1..=VERSION).contains(&version) {
            return Err(backup_error(format!(
                "the backup has format version {version}; this heard reads versions 1 to {VERSION}"
            )));
        }
        let header_len = u32::from_be_bytes(start[12..16].try_into().unwrap_or_default());
        if header_len == 0 || header_len > MAX_HEADER {
            return Err(backup_error("the backup's header is damaged"));
        }
        let mut header_bytes = vec![0; header_len as usize];
        input.read_exact(&mut header_bytes).map_err(|_| backup_error("the file is cut short"))?;
        let header: Header =
            serde_json::from_slice(&header_bytes).map_err(|_| backup_error("the backup's header is damaged"))?;
        if header.kdf != "argon2id" || header.chunk_bytes != CHUNK || header.memory_kib > 4 * 1024 * 1024 {
            return Err(backup_error("the backup's header names a key derivation this heard does not know"));
        }
        let salt = hex::decode(&header.salt).map_err(|_| backup_error("the backup's header is damaged"))?;
        let key = derive_key(passphrase, &salt, header.memory_kib, header.passes, header.lanes)?;
        let mut reader = Reader {
            input,
            cipher: ChaCha20Poly1305::new(&key),
            header_hash: Sha256::digest(&header_bytes).into(),
            chunk: 0,
            plain: Vec::new(),
            at: 0,
            ended: false,
            saw_end: false,
            counts: Counts::default(),
        };
        if !reader.next_chunk()? {
            return Err(backup_error("the backup holds nothing"));
        }
        Ok(reader)
    }

    /// Reads and opens the next chunk; false at the end of the chunks.
    fn next_chunk(&mut self) -> Result<bool> {
        if self.ended {
            return Ok(false);
        }
        let mut len = [0u8; 4];
        self.input.read_exact(&mut len).map_err(|_| cut_short())?;
        if &len == b"HEAR" {
            return Err(cut_short());
        }
        let len = u32::from_be_bytes(len) as usize;
        if !(TAG..=CHUNK + TAG).contains(&len) {
            return Err(backup_error("the file is damaged: a chunk's length is not possible"));
        }
        let mut sealed = vec![0; len];
        self.input.read_exact(&mut sealed).map_err(|_| cut_short())?;
        let open = |last: bool| {
            let aad = associated(&self.header_hash, self.chunk, last);
            self.cipher.decrypt(&nonce(self.chunk), Payload { msg: &sealed, aad: &aad })
        };
        let (plain, last) = match open(false) {
            Ok(plain) => (plain, false),
            Err(_) => match open(true) {
                Ok(plain) => (plain, true),
                Err(_) if self.chunk == 0 => {
                    return Err(backup_error("the passphrase is not this backup's, or the file is damaged"));
                }
                Err(_) => return Err(backup_error("the file is damaged: a chunk does not open")),
            },
        };
        self.chunk += 1;
        self.plain.drain(..self.at);
        self.at = 0;
        self.plain.extend_from_slice(&plain);
        if last {
            self.ended = true;
            let mut end = [0u8; 8];
            self.input.read_exact(&mut end).map_err(|_| cut_short())?;
            if &end != END {
                return Err(backup_error("the file is damaged: something follows its last chunk"));
            }
        }
        Ok(true)
    }

    fn take(&mut self, n: usize) -> Result<Vec<u8>> {
        while self.plain.len() - self.at < n {
            if !self.next_chunk()? {
                return Err(cut_short());
            }
        }
        let bytes = self.plain[self.at..self.at + n].to_vec();
        self.at += n;
        Ok(bytes)
    }

    /// The next section, or `None` after the end section.
    pub fn next_section(&mut self) -> Result<Option<Section>> {
        if self.saw_end {
            return Ok(None);
        }
        let head = self.take(5)?;
        let len = u32::from_be_bytes(head[1..5].try_into().unwrap_or_default());
        if len > MAX_SECTION {
            return Err(backup_error("the backup's contents are damaged: a section is too long"));
        }
        let bytes = self.take(len as usize)?;
        let damaged = || backup_error("the backup's contents are damaged");
        Ok(Some(match head[0] {
            b'M' => Section::Manifest(serde_json::from_slice(&bytes).map_err(|_| damaged())?),
            b'F' => {
                let name_len =
                    u16::from_be_bytes(bytes.get(..2).ok_or_else(damaged)?.try_into().map_err(|_| damaged())?);
                let name = bytes.get(2..2 + name_len as usize).ok_or_else(damaged)?;
                let name = String::from_utf8(name.to_vec()).map_err(|_| damaged())?;
                if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
                    return Err(damaged());
                }
                self.counts.files += 1;
                Section::File { name, bytes: bytes[2 + name_len as usize..].to_vec() }
            }
            b'E' => {
                self.counts.events += 1;
                Section::Event(bytes)
            }
            b'K' => Section::Keys(self.key_entries(&bytes, KEY_ENTRY, |key| {
                key.try_into().ok().map(|key| BackedUpKey::Plain(SubjectKey::from_bytes(key)))
            })?),
            b'W' => Section::Keys(
                self.key_entries(&bytes, WRAPPED_ENTRY, |key| key.try_into().ok().map(BackedUpKey::Wrapped))?,
            ),
            b'Z' => {
                if self.at != self.plain.len() || !self.ended {
                    return Err(backup_error("the backup's contents are damaged: something follows their end"));
                }
                self.saw_end = true;
                return Ok(None);
            }
            _ => return Err(damaged()),
        }))
    }

    /// A keys section's entries of `len` bytes: subject (16) ‖ state (1) ‖ what `live` reads
    /// as the key.
    fn key_entries(
        &mut self,
        bytes: &[u8],
        len: usize,
        live: impl Fn(&[u8]) -> Option<BackedUpKey>,
    ) -> Result<Vec<(SubjectId, BackedUpKey)>> {
        let damaged = || backup_error("the backup's contents are damaged");
        if !bytes.len().is_multiple_of(len) {
            return Err(damaged());
        }
        let mut keys = Vec::with_capacity(bytes.len() / len);
        for entry in bytes.chunks_exact(len) {
            let subject = SubjectId(Uuid::from_bytes(entry[..16].try_into().map_err(|_| damaged())?));
            let key = live(&entry[17..]).ok_or_else(damaged)?;
            keys.push((subject, self.counted(entry[16], key)?));
        }
        Ok(keys)
    }

    /// A key entry's state (1 live, 2 destroyed), counted.
    fn counted(&mut self, state: u8, live: BackedUpKey) -> Result<BackedUpKey> {
        match state {
            1 => {
                self.counts.keys += 1;
                Ok(live)
            }
            2 => {
                self.counts.destroyed += 1;
                Ok(BackedUpKey::Destroyed)
            }
            _ => Err(backup_error("the backup's contents are damaged")),
        }
    }

    /// What was read, once [`Self::next_section`] has returned `None`.
    pub fn counts(&self) -> &Counts {
        &self.counts
    }
}

fn cut_short() -> Error {
    backup_error("the file is cut short: it ends before the backup does")
}

/// Events read or imported at a time.
const PAGE: usize = 4096;

/// Writes the events and keys of an open store (PostgreSQL, which several processes share, or
/// an embedded store this process holds) into `writer`: every event up to the head as it is
/// when the backup starts, then every key and tombstone. Returns that head.
pub async fn back_up_store<W: Write>(
    store: &crate::EventStore,
    writer: &mut Writer<W>,
    keyring: &std::path::Path,
) -> Result<crate::Head> {
    let head = crate::copy::current_head(store).await?;
    let mut next = 1;
    let mut previous = crate::Head::EMPTY;
    while next <= head.position {
        let page = store.read_all_raw(next, PAGE).await?;
        if page.is_empty() {
            return Err(Error::corrupt(next, "the log ends before its head"));
        }
        for event in page.into_iter().take_while(|event| event.position <= head.position) {
            if event.prev_hash != previous.hash {
                return Err(Error::corrupt(event.position, "the event does not follow the one before"));
            }
            let (record, hash) = crate::record::seal_record(crate::record::encode_body_of(&event), &event.prev_hash);
            if hash != event.hash {
                return Err(Error::corrupt(event.position, "the event fails its hash"));
            }
            writer.event(&record)?;
            previous = crate::Head { position: event.position, hash };
            next = event.position + 1;
        }
    }
    let keys = store.keys().clone();
    let keys = tokio::task::spawn_blocking(move || keys.all_keys()).await.map_err(Error::storage)??;
    // The keyring is held only while the keys are sealed, so erasures meanwhile wait briefly.
    writer.keys(&keys, &BackupKeyring::open(keyring)?)?;
    Ok(head)
}

/// Writes the log and keys of the segment store in `data_dir` into `writer` without opening it,
/// so while a Heard is running on it: the log as its files hold it (up to the last whole
/// record), then the key file as it is after that. Returns the head read to.
pub fn back_up_segments_unlocked<W: Write>(
    data_dir: &std::path::Path,
    writer: &mut Writer<W>,
    keyring: &std::path::Path,
) -> Result<crate::Head> {
    let head = crate::segment_backend::read_unlocked(&data_dir.join("log"), |record| writer.event(record))?;
    let keys = crate::keyfile::read_unlocked(data_dir)?;
    writer.keys(&keys, &BackupKeyring::open(keyring)?)?;
    Ok(head)
}

/// What [`restore`] restored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Restored {
    pub manifest: Manifest,
    pub head: crate::Head,
    pub counts: Counts,
    /// Keys live in the backup of people erased since (their backup key is destroyed, or the
    /// erasure register names them): destroyed by the restore.
    pub erased_again: u64,
}

/// Restores a backup into `to`, which must be empty: every event exactly as recorded (each
/// checked against the chain as it is written), then every key, opened with the person's
/// backup key from `keyring`, destroyed where that backup key was destroyed or `erased` (the
/// subjects an erasure register names) holds the person. Files of the data directory are
/// handed to `file`. A backup's own tombstones stay tombstones. A backup whose keys are sealed
/// needs the keyring: without one nothing is restored.
pub async fn restore<R: Read + Send>(
    reader: &mut Reader<R>,
    to: &crate::EventStore,
    erased: &[SubjectId],
    keyring: Option<&std::path::Path>,
    mut file: impl FnMut(&str, &[u8]) -> Result<()>,
) -> Result<Restored> {
    let (events, keys) = crate::copy::contents(to).await?;
    if events > 0 || keys > 0 {
        return Err(backup_error(format!(
            "the destination already holds {events} event(s) and {keys} key(s): restore only into an empty store"
        )));
    }
    let mut manifest = None;
    let mut page = Vec::with_capacity(PAGE);
    let mut backed_up: Vec<(SubjectId, BackedUpKey)> = Vec::new();
    let mut position = 0u64;
    while let Some(section) = reader.next_section()? {
        match section {
            Section::Manifest(found) if manifest.is_none() => manifest = Some(found),
            _ if manifest.is_none() => return Err(backup_error("the backup's contents do not start with a manifest")),
            Section::Manifest(_) => return Err(backup_error("the backup's contents hold two manifests")),
            Section::File { name, bytes } => file(&name, &bytes)?,
            Section::Event(record) => {
                position += 1;
                if !crate::record::hash_matches(&record) {
                    return Err(Error::corrupt(position, "the backed-up event fails its hash"));
                }
                page.push(crate::record::decode(position, &record)?);
                if page.len() == PAGE {
                    to.backend().import(std::mem::take(&mut page)).await?;
                }
            }
            Section::Keys(more) => backed_up.extend(more),
        }
    }
    let manifest = manifest.ok_or_else(|| backup_error("the backup holds no manifest"))?;
    if !page.is_empty() {
        to.backend().import(page).await?;
    }
    let erased: std::collections::HashSet<SubjectId> = erased.iter().copied().collect();
    let mut erased_again = 0;
    // Opened (never made) only now: held while the keys are opened.
    let keyring = match keyring {
        Some(path) if !backed_up.is_empty() => BackupKeyring::open_existing(path)?,
        _ => None,
    };
    let mut keys: Vec<(SubjectId, Option<SubjectKey>)> = Vec::with_capacity(backed_up.len());
    for (subject, backed_up) in backed_up {
        let key = match backed_up {
            BackedUpKey::Destroyed => {
                keys.push((subject, None));
                continue;
            }
            // A format-1 key in the clear: erased all the same if the keyring says so.
            BackedUpKey::Plain(key) => match &keyring {
                Some(keyring) if keyring.erased(subject)? => None,
                _ => Some(key),
            },
            BackedUpKey::Wrapped(wrapped) => {
                let keyring = keyring.as_ref().ok_or_else(|| {
                    backup_error(
                        "the backup's keys are sealed under the backup keyring beside the erasure register \
                         (REGISTER.keys), and there is none: name the register the backups were taken \
                         with",
                    )
                })?;
                keyring.unwrap(subject, &wrapped)?
            }
        };
        let key = key.filter(|_| !erased.contains(&subject));
        erased_again += u64::from(key.is_none());
        keys.push((subject, key));
    }
    let destination = to.keys().clone();
    let counts = reader.counts().clone();
    tokio::task::spawn_blocking(move || destination.import_keys(&keys)).await.map_err(Error::storage)??;
    let head = to.head();
    if head.position != position {
        return Err(backup_error(format!(
            "the restore ends at position {} but the backup at {position}",
            head.position
        )));
    }
    Ok(Restored { manifest, head, counts, erased_again })
}
