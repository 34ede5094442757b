//! The segment log's index on disk, so that opening a long log reads one file and the events
//! after it instead of every segment.
//!
//! # On disk
//!
//! `DIR/index.snapshot`, all integers big-endian:
//!
//! ```text
//! magic "HEARDIDX"(8) version(4) head_position(8) head_hash(32)
//! head_position × [segment(4) offset(8) len(4) stream(4) revision(8) event_id(16)]
//! stream_count(4) stream_count × [name(len16 + bytes)]
//! checksum(32)                      SHA-256 of everything before it
//! ```
//!
//! Entry `p - 1` is position `p`; `stream` is an index into the names, or `UNKNOWN_STREAM`
//! for a record that did not decode. Streams' and categories' positions are not stored: they
//! follow from the entries. The file is written to a temporary name, fsynced, renamed over the
//! old one and the directory fsynced, so a crash leaves the old snapshot or the new one.
//!
//! # Trust
//!
//! A snapshot only ever covers acknowledged events, and acknowledged events are never removed,
//! so a snapshot stays true for as long as the log it was taken from. It is used only when the
//! log on disk still holds what it describes: every segment it covers is there and at least
//! as long as it says (a sealed one exactly as long), the last record of each covered segment
//! is where the snapshot puts it, and the record at its head still carries the head's hash
//! and still matches it. Otherwise the log is scanned in full, as if there were no snapshot.
//!
//! # When
//!
//! At every close of the writer (its last act), and in between by a thread of its own once
//! [`is_due`] says enough events have followed the last one. That thread copies the index a
//! chunk at a time under the read lock, so the writer waits at most for one chunk, never for
//! the file.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, RwLock};

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{Index, Location, UNKNOWN_STREAM, segment_path};
use crate::error::{Error, Result};
use crate::types::{Head, StreamName};
use crate::writer::Published;

/// The snapshot's file name in the log directory.
pub const FILE_NAME: &str = "index.snapshot";
/// Temporary files are named `index.snapshot.tmp-<random>`.
const TEMPORARY_PREFIX: &str = "index.snapshot.tmp-";
const MAGIC: &[u8; 8] = b"HEARDIDX";
/// Bump when the layout changes; a snapshot of another version is ignored (and rewritten).
pub(super) const VERSION: u32 = 1;
const HEADER_LEN: usize = 8 + 4 + 8 + 32;
const ENTRY_LEN: usize = 4 + 8 + 4 + 4 + 8 + 16;
const CHECKSUM_LEN: usize = 32;
/// Index entries copied per hold of the read lock (about 700 KB, well under a millisecond).
const ENTRIES_PER_LOCK: usize = 16 * 1024;

/// A snapshot is taken in the background once this many events follow the last one…
const MIN_EVENTS_BETWEEN: u64 = 50_000;
/// …or, on a longer log, once the events after it reach this fraction (1/8) of it.
const SHARE_BETWEEN: u64 = 8;

/// Whether a background snapshot is due, given the position of the last one and the head.
///
/// Writing a snapshot costs about 44 bytes an event of the whole log, so a fixed interval would
/// cost more per event the longer the log grows; waiting for an eighth of the log keeps that
/// cost at about 350 bytes an event whatever the length, and keeps the scan at open to at most
/// 50,000 events or an eighth of the log.
pub(super) fn is_due(last_snapshot: u64, head: u64) -> bool {
    head.saturating_sub(last_snapshot) >= MIN_EVENTS_BETWEEN.max(last_snapshot / SHARE_BETWEEN)
}

/// Why an open scanned the whole log instead of starting from a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FullScanReason {
    /// There is no snapshot (a new log, or one written before snapshots existed).
    Missing,
    /// The snapshot could not be read.
    Unreadable,
    /// The snapshot was written in another layout.
    WrongVersion,
    /// The snapshot's checksum or structure is wrong.
    Corrupt,
    /// The snapshot covers more of the log than is on disk (segments deleted or cut short).
    AheadOfTheLog,
    /// The log's bytes where the snapshot points are not what it recorded.
    DisagreesWithTheLog,
}

impl FullScanReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FullScanReason::Missing => "there is no index snapshot",
            FullScanReason::Unreadable => "the index snapshot cannot be read",
            FullScanReason::WrongVersion => "the index snapshot is of another version",
            FullScanReason::Corrupt => "the index snapshot fails its checksum",
            FullScanReason::AheadOfTheLog => "the index snapshot covers more than the log holds",
            FullScanReason::DisagreesWithTheLog => "the log does not hold what the index snapshot recorded",
        }
    }
}

impl std::fmt::Display for FullScanReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A snapshot read from disk and checked against the log.
pub(super) struct Loaded {
    /// The index up to the snapshot's head, with every covered segment open.
    pub index: Index,
    pub head: Head,
    /// Where the log after the snapshot starts: (segment number from 1, byte offset).
    pub resume_at: (u32, u64),
}

/// Reads `DIR/index.snapshot` and checks it against the segments `numbers` (1, 2, … n).
pub(super) fn load(dir: &Path, numbers: &[u32]) -> std::result::Result<Loaded, FullScanReason> {
    let bytes = match std::fs::read(dir.join(FILE_NAME)) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Err(FullScanReason::Missing),
        Err(_) => return Err(FullScanReason::Unreadable),
    };
    let parsed = parse(&bytes)?;
    drop(bytes);
    check_against_log(dir, numbers, parsed)
}

/// What the file says, before it is checked against the log.
struct Parsed {
    head: Head,
    entries: Vec<(Location, Uuid)>,
    stream_names: Vec<StreamName>,
}

fn parse(bytes: &[u8]) -> std::result::Result<Parsed, FullScanReason> {
    if bytes.len() < HEADER_LEN + 4 + CHECKSUM_LEN || bytes[..8] != MAGIC[..] {
        return Err(FullScanReason::Corrupt);
    }
    // The version comes before the checksum: another version may checksum differently.
    if u32::from_be_bytes(array(&bytes[8..12])) != VERSION {
        return Err(FullScanReason::WrongVersion);
    }
    let (content, checksum) = bytes.split_at(bytes.len() - CHECKSUM_LEN);
    if Sha256::digest(content).as_slice() != checksum {
        return Err(FullScanReason::Corrupt);
    }
    let position = u64::from_be_bytes(array(&content[12..20]));
    let head = Head { position, hash: array(&content[20..52]) };
    let entries_len = usize::try_from(position).ok().and_then(|p| p.checked_mul(ENTRY_LEN));
    let Some(entries_end) = entries_len
        .and_then(|len| len.checked_add(HEADER_LEN))
        .filter(|end| content.len().checked_sub(4).is_some_and(|room| *end <= room))
    else {
        return Err(FullScanReason::Corrupt);
    };
    let mut entries = Vec::with_capacity(position as usize);
    for entry in content[HEADER_LEN..entries_end].chunks_exact(ENTRY_LEN) {
        let location = Location {
            segment: u32::from_be_bytes(array(&entry[0..4])),
            offset: u64::from_be_bytes(array(&entry[4..12])),
            len: u32::from_be_bytes(array(&entry[12..16])),
            stream: u32::from_be_bytes(array(&entry[16..20])),
            revision: u64::from_be_bytes(array(&entry[20..28])),
        };
        entries.push((location, Uuid::from_bytes(array(&entry[28..44]))));
    }
    let mut at = entries_end;
    let stream_count = u32::from_be_bytes(array(&content[at..at + 4]));
    at += 4;
    let mut stream_names = Vec::with_capacity(stream_count as usize);
    for _ in 0..stream_count {
        let len = content.get(at..at + 2).map(|b| u16::from_be_bytes(array(b))).ok_or(FullScanReason::Corrupt)?;
        let name = content.get(at + 2..at + 2 + len as usize).ok_or(FullScanReason::Corrupt)?;
        let name = std::str::from_utf8(name).map_err(|_| FullScanReason::Corrupt)?;
        stream_names.push(StreamName::new(name).map_err(|_| FullScanReason::Corrupt)?);
        at += 2 + len as usize;
    }
    if at != content.len() {
        return Err(FullScanReason::Corrupt);
    }
    let streams_are_known = entries.iter().all(|(l, _)| l.stream == UNKNOWN_STREAM || l.stream < stream_count);
    if !streams_are_known {
        return Err(FullScanReason::Corrupt);
    }
    Ok(Parsed { head, entries, stream_names })
}

fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(bytes);
    out
}

/// Checks the snapshot against the segments on disk and builds the index from it.
fn check_against_log(dir: &Path, numbers: &[u32], parsed: Parsed) -> std::result::Result<Loaded, FullScanReason> {
    let Parsed { head, entries, stream_names } = parsed;
    let Some((last, _)) = entries.last() else { return Err(FullScanReason::Corrupt) };
    let covered = last.segment as usize + 1;
    if numbers.len() < covered {
        return Err(FullScanReason::AheadOfTheLog);
    }
    // Where each covered segment's last record is, and that they come in log order.
    let mut last_in_segment: Vec<Option<(u64, Location)>> = vec![None; covered];
    let mut previous: Option<Location> = None;
    for (i, (location, _)) in entries.iter().enumerate() {
        // Frames follow one another from the start of each segment, and no segment is skipped.
        let in_order = match previous {
            None => location.segment == 0 && location.offset == 4,
            Some(p) => {
                (location.segment == p.segment && location.offset == p.offset + u64::from(p.len) + 4)
                    || (location.segment == p.segment + 1 && location.offset == 4)
            }
        };
        if !in_order || location.segment as usize >= covered {
            return Err(FullScanReason::Corrupt);
        }
        last_in_segment[location.segment as usize] = Some((i as u64 + 1, *location));
        previous = Some(*location);
    }
    let mut segments = Vec::with_capacity(numbers.len());
    for (segment, last) in last_in_segment.iter().enumerate() {
        let Some((position, location)) = last else { return Err(FullScanReason::Corrupt) };
        let file = File::open(segment_path(dir, segment as u32 + 1)).map_err(|_| FullScanReason::Unreadable)?;
        let on_disk = file.metadata().map_err(|_| FullScanReason::Unreadable)?.len();
        let end = location.offset + u64::from(location.len);
        let sealed = segment + 1 < covered;
        if on_disk < end || (sealed && on_disk != end) {
            return Err(FullScanReason::AheadOfTheLog);
        }
        let record = read_record(&file, location)?;
        let is_head = *position == head.position;
        if is_head {
            let hash_is_the_heads = record.len() >= 32 && record[record.len() - 32..] == head.hash;
            if !hash_is_the_heads || !crate::record::hash_matches(&record) {
                return Err(FullScanReason::DisagreesWithTheLog);
            }
        }
        let claimed_position = record.get(1..9).map(|b| u64::from_be_bytes(array(b)));
        if location.stream != UNKNOWN_STREAM && claimed_position != Some(*position) {
            return Err(FullScanReason::DisagreesWithTheLog);
        }
        segments.push(Arc::new(file));
    }
    let resume_at = (last.segment + 1, last.offset + u64::from(last.len));
    let index = build_index(segments, entries, stream_names);
    Ok(Loaded { index, head, resume_at })
}

/// The record at `location`, after checking its length prefix agrees.
fn read_record(file: &File, location: &Location) -> std::result::Result<Vec<u8>, FullScanReason> {
    use std::os::unix::fs::FileExt;
    let mut frame = vec![0; location.len as usize + 4];
    file.read_exact_at(&mut frame, location.offset - 4).map_err(|_| FullScanReason::AheadOfTheLog)?;
    if u32::from_be_bytes(array(&frame[..4])) != location.len {
        return Err(FullScanReason::DisagreesWithTheLog);
    }
    frame.drain(..4);
    Ok(frame)
}

/// Rebuilds streams, categories and event ids from the snapshot's entries.
fn build_index(segments: Vec<Arc<File>>, entries: Vec<(Location, Uuid)>, stream_names: Vec<StreamName>) -> Index {
    let mut category_numbers: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let category_of_stream: Vec<usize> = stream_names
        .iter()
        .map(|name| {
            let next = category_numbers.len();
            *category_numbers.entry(name.category()).or_insert(next)
        })
        .collect();
    let mut categories: Vec<Vec<u64>> = vec![Vec::new(); category_numbers.len()];
    let mut streams: Vec<Vec<u64>> = vec![Vec::new(); stream_names.len()];
    let mut ids = std::collections::HashMap::with_capacity(entries.len());
    let mut locations = Vec::with_capacity(entries.len());
    let mut event_ids = Vec::with_capacity(entries.len());
    for (i, (location, id)) in entries.into_iter().enumerate() {
        let position = i as u64 + 1;
        if location.stream != UNKNOWN_STREAM {
            streams[location.stream as usize].push(position);
            categories[category_of_stream[location.stream as usize]].push(position);
            ids.insert(id, position);
        }
        locations.push(location);
        event_ids.push(id);
    }
    let mut category_names = vec![String::new(); category_numbers.len()];
    for (name, number) in category_numbers {
        category_names[number] = name.to_owned();
    }
    let categories = category_names.into_iter().zip(categories).filter(|(_, p)| !p.is_empty()).collect();
    let stream_ids = stream_names.iter().enumerate().map(|(id, name)| (name.clone(), id as u32)).collect();
    Index { segments, locations, event_ids, stream_names, stream_ids, streams, categories, ids }
}

/// Writes a snapshot of the index up to `head` (which must be in the index), holding the read
/// lock for one chunk of entries at a time.
pub(super) fn write(dir: &Path, index: &RwLock<Index>, head: Head) -> Result<()> {
    let temporary = dir.join(format!("{TEMPORARY_PREFIX}{}", Uuid::new_v4().simple()));
    let written = write_to(&temporary, index, head);
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
        return written;
    }
    std::fs::rename(&temporary, dir.join(FILE_NAME)).map_err(Error::storage)?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(Error::storage)
}

fn write_to(path: &Path, index: &RwLock<Index>, head: Head) -> Result<()> {
    let file = OpenOptions::new().create_new(true).write(true).open(path).map_err(Error::storage)?;
    let mut out = HashingWriter { inner: BufWriter::with_capacity(1 << 20, file), hasher: Sha256::new() };
    let read = || index.read().map_err(|_| Error::storage("the log index lock is poisoned"));
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&VERSION.to_be_bytes());
    header.extend_from_slice(&head.position.to_be_bytes());
    header.extend_from_slice(&head.hash);
    out.put(&header)?;
    // Entries only ever grow at the end, so copying them a chunk at a time still gives the
    // index as it was at `head`.
    let count = usize::try_from(head.position).map_err(Error::storage)?;
    let mut streams_used = 0u32;
    let mut chunk = Vec::with_capacity(ENTRIES_PER_LOCK * ENTRY_LEN);
    let mut from = 0;
    while from < count {
        let until = count.min(from + ENTRIES_PER_LOCK);
        chunk.clear();
        {
            let index = read()?;
            if index.locations.len() < until {
                return Err(Error::storage("the log index is behind the head it is snapshotted at"));
            }
            for (location, id) in index.locations[from..until].iter().zip(&index.event_ids[from..until]) {
                chunk.extend_from_slice(&location.segment.to_be_bytes());
                chunk.extend_from_slice(&location.offset.to_be_bytes());
                chunk.extend_from_slice(&location.len.to_be_bytes());
                chunk.extend_from_slice(&location.stream.to_be_bytes());
                chunk.extend_from_slice(&location.revision.to_be_bytes());
                chunk.extend_from_slice(id.as_bytes());
                if location.stream != UNKNOWN_STREAM {
                    streams_used = streams_used.max(location.stream + 1);
                }
            }
        }
        out.put(&chunk)?;
        from = until;
    }
    out.put(&streams_used.to_be_bytes())?;
    let mut from = 0;
    while from < streams_used as usize {
        let until = (streams_used as usize).min(from + ENTRIES_PER_LOCK);
        chunk.clear();
        {
            let index = read()?;
            for name in &index.stream_names[from..until] {
                let name = name.as_str().as_bytes();
                chunk.extend_from_slice(&(name.len() as u16).to_be_bytes());
                chunk.extend_from_slice(name);
            }
        }
        out.put(&chunk)?;
        from = until;
    }
    let checksum = out.hasher.finalize_reset();
    out.inner.write_all(&checksum).map_err(Error::storage)?;
    let file = out.inner.into_inner().map_err(|error| Error::storage(error.into_error()))?;
    file.sync_all().map_err(Error::storage)
}

struct HashingWriter {
    inner: BufWriter<File>,
    hasher: Sha256,
}

impl HashingWriter {
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.hasher.update(bytes);
        self.inner.write_all(bytes).map_err(Error::storage)
    }
}

/// Removes temporary files a crash left in the middle of writing a snapshot.
pub(super) fn remove_leftovers(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(Error::storage)? {
        let entry = entry.map_err(Error::storage)?;
        if entry.file_name().to_string_lossy().starts_with(TEMPORARY_PREFIX) {
            std::fs::remove_file(entry.path()).map_err(Error::storage)?;
        }
    }
    Ok(())
}

const RUNNING: u8 = 0;
/// Write a last snapshot, then stop.
const FINISHING: u8 = 1;
/// Stop without writing (the backend was dropped without a clean close).
const ABANDONED: u8 = 2;

/// The thread that keeps the snapshot close behind the head. Owned by the writer's sink, so
/// that the last snapshot is written while the directory is still locked.
pub(super) struct Snapshotter {
    state: Arc<AtomicU8>,
    wake: Arc<tokio::sync::Notify>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Snapshotter {
    /// Starts the thread; `last_snapshot` is the position the snapshot on disk covers.
    pub fn spawn(dir: &Path, index: Arc<RwLock<Index>>, published: Arc<Published>, last_snapshot: u64) -> Result<Self> {
        let state = Arc::new(AtomicU8::new(RUNNING));
        let wake = Arc::new(tokio::sync::Notify::new());
        let keeper =
            Keeper { dir: dir.to_owned(), index, published, last_snapshot, state: state.clone(), wake: wake.clone() };
        let thread = std::thread::Builder::new()
            .name("heard-log-snapshot".into())
            .spawn(move || keeper.run())
            .map_err(Error::storage)?;
        Ok(Snapshotter { state, wake, thread: Some(thread) })
    }

    /// Writes a snapshot at the head (unless the one on disk is already there) and stops.
    pub fn finish(&mut self) {
        self.state.store(FINISHING, Ordering::Release);
        self.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Snapshotter {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.state.store(ABANDONED, Ordering::Release);
            self.wake.notify_one();
        }
    }
}

struct Keeper {
    dir: std::path::PathBuf,
    index: Arc<RwLock<Index>>,
    published: Arc<Published>,
    /// The position of the snapshot on disk (or of the last attempt).
    last_snapshot: u64,
    state: Arc<AtomicU8>,
    wake: Arc<tokio::sync::Notify>,
}

impl Keeper {
    fn run(mut self) {
        let mut heads = self.published.watch();
        loop {
            match self.state.load(Ordering::Acquire) {
                ABANDONED => return,
                FINISHING => {
                    self.snapshot_if(|last, head| head > last);
                    return;
                }
                _ => self.snapshot_if(is_due),
            }
            let woken = futures::executor::block_on(async {
                let changed = std::pin::pin!(heads.changed());
                let told = std::pin::pin!(self.wake.notified());
                match futures::future::select(changed, told).await {
                    futures::future::Either::Left((changed, _)) => changed.is_ok(),
                    futures::future::Either::Right(_) => true,
                }
            });
            if !woken {
                return;
            }
        }
    }

    fn snapshot_if(&mut self, wanted: impl Fn(u64, u64) -> bool) {
        let head = self.published.head();
        if !wanted(self.last_snapshot, head.position) || head.position == 0 {
            return;
        }
        match write(&self.dir, &self.index, head) {
            Ok(()) => tracing::debug!(position = head.position, "wrote the log index snapshot"),
            Err(error) => tracing::warn!(%error, position = head.position, "writing the log index snapshot failed"),
        }
        // After a failure, wait for as many events again before the next attempt.
        self.last_snapshot = head.position;
    }
}
