//! The embedded default backend: the log as append-only segment files, indexes in memory.
//!
//! This is the shape EventStoreDB uses, and what `BENCHMARKS.md` measured to be needed: sled's
//! per-key cost kept the sled backend far below what the disk allows, while appending framed
//! records to a file and calling `fdatasync` once per group comes close to the raw ceiling.
//!
//! # On disk
//!
//! `DIR/00000001.seg`, `00000002.seg`, … each a sequence of frames `len(4, BE) ‖ record`
//! (see `record` for the record, which carries its position and chain hash). A segment is
//! closed at 256 MiB and the next one started; the directory is fsynced when a segment is
//! created.
//!
//! # Indexes
//!
//! Position → (segment, offset, event id), stream → positions, category → positions and event
//! id → position are kept in memory (about 100 bytes an event). They are saved to
//! `DIR/index.snapshot` at every close and, in the background, as the log grows (see
//! `snapshot`); opening the log loads the snapshot and scans only the segments after it. A
//! missing, damaged or out-of-date snapshot, or one that covers more than the log holds, is
//! ignored and the whole log scanned, as before snapshots existed. [`SegmentBackend::recovery`]
//! says which happened.
//!
//! # Recovery
//!
//! A group is acknowledged only after `write` + `fdatasync` of all its frames (the writer
//! writes, the writer's syncer thread flushes, possibly while the next group is written), so
//! anything acknowledged is complete on disk. The in-memory index learns a group when it is
//! written; every read is capped at the durable head, which moves only after the flush. A
//! segment is synced whole, after every group written to it, before the next one is created.
//! On open, an incomplete frame at the end of the last segment (a write cut short by a
//! crash), or a last frame that fails its hash, was never acknowledged: it is copied aside to `torn-<position>-<id>.bin` and cut off. A bad frame anywhere
//! else is kept and reported as corrupt by reads and by `heard verify`; nothing acknowledged is
//! ever removed. A snapshot covers only acknowledged events, so the scan after it still finds
//! and cuts a torn tail.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use uuid::Uuid;

use crate::backend::EmbeddedLog;
use crate::error::{Error, Result};
use crate::record;
use crate::types::{Head, RecordedEvent, StreamName, StreamWindow};
use crate::writer::{Flush, KnownEvent, LogSink, PlannedGroup, Published, WriterHandle};

mod snapshot;
#[cfg(test)]
mod snapshot_tests;

pub use snapshot::{FILE_NAME as INDEX_SNAPSHOT_FILE_NAME, FullScanReason};

/// A segment is closed once it reaches this size.
const SEGMENT_BYTES: u64 = 256 * 1024 * 1024;
/// No single record may claim more than this (guards recovery against a garbage length).
const MAX_FRAME: u32 = 64 * 1024 * 1024;
/// Marks a location whose record could not be decoded.
const UNKNOWN_STREAM: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Location {
    segment: u32,
    /// Offset of the record (after the length prefix).
    offset: u64,
    len: u32,
    stream: u32,
    revision: u64,
}

#[derive(Default)]
struct Index {
    segments: Vec<Arc<File>>,
    /// `locations[p - 1]` is position `p`.
    locations: Vec<Location>,
    /// `event_ids[p - 1]` is the id of the event at position `p` (nil where it did not decode),
    /// so that a snapshot can be copied from the index a range of positions at a time.
    event_ids: Vec<Uuid>,
    stream_names: Vec<StreamName>,
    stream_ids: HashMap<StreamName, u32>,
    /// Positions of each stream, by revision.
    streams: Vec<Vec<u64>>,
    categories: HashMap<String, Vec<u64>>,
    ids: HashMap<Uuid, u64>,
}

impl Index {
    fn add(&mut self, position: u64, location: Location, stream: Option<&StreamName>, id: Option<Uuid>) {
        debug_assert_eq!(self.locations.len() as u64 + 1, position);
        let mut location = location;
        if let Some(stream) = stream {
            let stream_id = match self.stream_ids.get(stream) {
                Some(id) => *id,
                None => {
                    let id = self.stream_names.len() as u32;
                    self.stream_names.push(stream.clone());
                    self.stream_ids.insert(stream.clone(), id);
                    self.streams.push(Vec::new());
                    id
                }
            };
            location.stream = stream_id;
            self.streams[stream_id as usize].push(position);
            self.categories.entry(stream.category().to_owned()).or_default().push(position);
        }
        if let Some(id) = id {
            self.ids.insert(id, position);
        }
        self.locations.push(location);
        self.event_ids.push(id.unwrap_or_default());
    }

    fn stream_positions(&self, stream: &StreamName) -> &[u64] {
        self.stream_ids.get(stream).map_or(&[], |id| &self.streams[*id as usize])
    }
}

/// What opening the log did to rebuild its index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recovery {
    /// The position the index snapshot covered, when it was used.
    pub snapshot_position: Option<u64>,
    /// Why the whole log was scanned instead, when the snapshot was not used.
    pub full_scan_reason: Option<FullScanReason>,
    /// How many records were read from the segments: those after the snapshot, or all.
    pub records_scanned: u64,
}

/// The segment-file backend. Cheap to clone.
#[derive(Clone)]
pub struct SegmentBackend {
    index: Arc<RwLock<Index>>,
    published: Arc<Published>,
    writer: Arc<WriterHandle>,
    recovery: Arc<Recovery>,
}

impl SegmentBackend {
    /// Opens (or creates) the log in `dir`, recovering from an interrupted write.
    pub fn open(dir: &Path) -> Result<Self> {
        Self::open_with_segment_size(dir, SEGMENT_BYTES)
    }

    /// As [`open`](Self::open), closing segments at `segment_bytes` (tests use small ones).
    pub fn open_with_segment_size(dir: &Path, segment_bytes: u64) -> Result<Self> {
        Self::open_with_flush_wrapper(dir, segment_bytes, Arc::new(|flush| flush))
    }

    /// As [`open_with_segment_size`](Self::open_with_segment_size), passing every flush the log
    /// makes through `wrap` (tests hold or fail them).
    pub(crate) fn open_with_flush_wrapper(dir: &Path, segment_bytes: u64, wrap: WrapFlush) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(Error::storage)?;
        let lock = lock_directory(dir)?;
        let (index, head, current, recovery) = recover(dir)?;
        let index = Arc::new(RwLock::new(index));
        let published = Arc::new(Published::new(head));
        let snapshots = snapshot::Snapshotter::spawn(
            dir,
            index.clone(),
            published.clone(),
            recovery.snapshot_position.unwrap_or(0),
        )?;
        let flush = wrap(data_flush(&current.file)?);
        let sink = SegmentSink {
            dir: dir.to_owned(),
            current,
            flush,
            wrap,
            index: index.clone(),
            segment_bytes,
            snapshots,
            _lock: lock,
        };
        let writer = Arc::new(WriterHandle::spawn(sink, published.clone())?);
        Ok(SegmentBackend { index, published, writer, recovery: Arc::new(recovery) })
    }

    /// How the index was rebuilt when this log was opened.
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    fn read_index(&self) -> Result<std::sync::RwLockReadGuard<'_, Index>> {
        self.index.read().map_err(|_| Error::storage("the log index lock is poisoned"))
    }

    /// Reads the records at the given positions (ascending or not), coalescing neighbours.
    fn read_positions(&self, positions: &[u64]) -> Result<Vec<RecordedEvent>> {
        let durable = self.published.durable();
        let wanted: Vec<(u64, Location, Arc<File>)> = {
            let index = self.read_index()?;
            let mut wanted = Vec::with_capacity(positions.len());
            for &position in positions.iter().filter(|p| **p >= 1 && **p <= durable) {
                let location = *index
                    .locations
                    .get(position as usize - 1)
                    .ok_or_else(|| Error::corrupt(position, "the position is not in the log index"))?;
                let file = index.segments[location.segment as usize].clone();
                wanted.push((position, location, file));
            }
            wanted
        };
        let mut events = Vec::with_capacity(wanted.len());
        let mut i = 0;
        while i < wanted.len() {
            // Extend a run of records stored back to back in one segment.
            let (first_position, first, file) = &wanted[i];
            let mut end = first.offset + u64::from(first.len);
            let mut j = i + 1;
            while j < wanted.len()
                && wanted[j].1.segment == first.segment
                && wanted[j].1.offset == end + 4
                && end - first.offset < 4 * 1024 * 1024
            {
                end = wanted[j].1.offset + u64::from(wanted[j].1.len);
                j += 1;
            }
            let mut buffer = vec![0; (end - first.offset) as usize];
            file.read_exact_at(&mut buffer, first.offset)
                .map_err(|error| Error::corrupt(*first_position, format!("cannot read the record: {error}")))?;
            for (position, location, _) in &wanted[i..j] {
                let start = (location.offset - first.offset) as usize;
                let bytes = &buffer[start..start + location.len as usize];
                if location.stream == UNKNOWN_STREAM {
                    record::decode(*position, bytes)?;
                    return Err(Error::corrupt(*position, "the record did not decode when the log was opened"));
                }
                events.push(record::decode(*position, bytes)?);
            }
            i = j;
        }
        Ok(events)
    }
}

/// Reads the log in `dir` as its segment files hold it now, without taking its lock, so that
/// `heard backup` can copy the log of a running Heard: calls `each` with every record's bytes
/// in order from position 1, after checking its position, its hash and that it follows the
/// one before (the chain). Stops at the end of the last segment, or at a frame there that is
/// not whole yet (a group being written as it is read); a bad frame anywhere else is an error.
/// Returns the head it read to.
pub fn read_unlocked(dir: &Path, mut each: impl FnMut(&[u8]) -> Result<()>) -> Result<Head> {
    let numbers = segment_numbers(dir)?;
    let mut head = Head::EMPTY;
    for (i, number) in numbers.iter().enumerate() {
        let is_last = i + 1 == numbers.len();
        let path = segment_path(dir, *number);
        let file = File::open(&path).map_err(Error::storage)?;
        let len = file.metadata().map_err(Error::storage)?.len();
        let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
        let mut at = 0u64;
        let mut record = Vec::new();
        while at < len {
            let position = head.position + 1;
            let damaged = |reason: &str| Error::corrupt(position, format!("segment {number:08} is damaged: {reason}"));
            let mut header = [0; 4];
            if len - at < 4 || reader.read_exact(&mut header).is_err() {
                if is_last {
                    break;
                }
                return Err(damaged("incomplete frame"));
            }
            let frame = u32::from_be_bytes(header);
            if frame == 0 || frame > MAX_FRAME || len - at - 4 < u64::from(frame) {
                if is_last {
                    break;
                }
                return Err(damaged("incomplete frame"));
            }
            record.resize(frame as usize, 0);
            reader.read_exact(&mut record).map_err(Error::storage)?;
            at += 4 + u64::from(frame);
            let follows = record.len() >= 64 && record[record.len() - 64..record.len() - 32] == head.hash;
            let event = record::decode(position, &record).ok().filter(|_| follows && record::hash_matches(&record));
            let Some(event) = event else {
                if is_last && at == len {
                    // The last frame of the log, written but not yet whole on disk.
                    break;
                }
                return Err(damaged("a record fails its hash or does not follow the one before"));
            };
            each(&record)?;
            head = Head { position, hash: event.hash };
        }
    }
    Ok(head)
}

/// Holds an exclusive lock on the directory for the life of the process.
fn lock_directory(dir: &Path) -> Result<File> {
    let path = dir.join("LOCK");
    let file = OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(Error::storage)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Locked),
        Err(std::fs::TryLockError::Error(error)) => Err(Error::storage(error)),
    }
}

fn segment_path(dir: &Path, number: u32) -> PathBuf {
    dir.join(format!("{number:08}.seg"))
}

fn segment_numbers(dir: &Path) -> Result<Vec<u32>> {
    let mut numbers = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(Error::storage)? {
        let name = entry.map_err(Error::storage)?.file_name();
        let name = name.to_string_lossy();
        if let Some(number) = name.strip_suffix(".seg").and_then(|n| n.parse::<u32>().ok()) {
            numbers.push(number);
        }
    }
    numbers.sort_unstable();
    if numbers.iter().enumerate().any(|(i, n)| *n != i as u32 + 1) {
        return Err(Error::corrupt(0, "a segment file of the log is missing"));
    }
    Ok(numbers)
}

/// The segment being appended to.
struct CurrentSegment {
    number: u32,
    file: File,
    len: u64,
}

/// Loads the index snapshot, or else starts from nothing, and scans the segments after it,
/// rebuilding the rest of the index and cutting off a torn tail.
fn recover(dir: &Path) -> Result<(Index, Head, CurrentSegment, Recovery)> {
    let numbers = segment_numbers(dir)?;
    snapshot::remove_leftovers(dir)?;
    let (mut index, mut head, resume_at, mut recovery) = match snapshot::load(dir, &numbers) {
        Ok(loaded) => {
            let recovery =
                Recovery { snapshot_position: Some(loaded.head.position), full_scan_reason: None, records_scanned: 0 };
            (loaded.index, loaded.head, loaded.resume_at, recovery)
        }
        Err(reason) => {
            if reason == FullScanReason::Missing {
                tracing::info!(%reason, "scanning the whole log to rebuild its index");
            } else {
                tracing::warn!(%reason, "scanning the whole log to rebuild its index");
            }
            let recovery = Recovery { snapshot_position: None, full_scan_reason: Some(reason), records_scanned: 0 };
            (Index::default(), Head::EMPTY, (1, 0), recovery)
        }
    };
    let last_number = numbers.last().copied().unwrap_or(1);
    for &number in numbers.iter().filter(|number| **number >= resume_at.0) {
        let path = segment_path(dir, number);
        let start = if number == resume_at.0 { resume_at.1 } else { 0 };
        let mut bytes = Vec::new();
        File::open(&path)
            .and_then(|mut f| f.seek(SeekFrom::Start(start)).and_then(|_| f.read_to_end(&mut bytes)))
            .map_err(Error::storage)?;
        let is_last = number == last_number;
        let mut at = 0usize;
        while at < bytes.len() {
            let position = head.position + 1;
            let frame = read_frame(&bytes, at);
            let torn_reason = match &frame {
                None => Some("incomplete frame"),
                Some((record_bytes, next)) if is_last && *next == bytes.len() => {
                    let valid = record::decode(position, record_bytes).is_ok() && record::hash_matches(record_bytes);
                    (!valid).then_some("last frame fails its hash")
                }
                Some(_) => None,
            };
            if let Some(reason) = torn_reason {
                if !is_last {
                    return Err(Error::corrupt(position, format!("segment {number:08} is damaged: {reason}")));
                }
                cut_torn_tail(dir, &path, &bytes[at..], start + at as u64, position)?;
                tracing::warn!(
                    position,
                    reason,
                    "discarded an unacknowledged, partly written event at the end of the log"
                );
                bytes.truncate(at);
                break;
            }
            let Some((record_bytes, next)) = frame else { break };
            let location = Location {
                segment: number - 1,
                offset: start + at as u64 + 4,
                len: record_bytes.len() as u32,
                stream: UNKNOWN_STREAM,
                revision: 0,
            };
            match record::decode(position, record_bytes) {
                Ok(event) => {
                    let location = Location { revision: event.revision, ..location };
                    index.add(position, location, Some(&event.stream), Some(event.id));
                    head = Head { position, hash: event.hash };
                }
                Err(error) => {
                    tracing::error!(position, %error, "a record in the log does not decode");
                    index.add(position, location, None, None);
                    // Keep the chain going from the stored trailer if it is there.
                    let hash = record_bytes.len().checked_sub(32).and_then(|s| record_bytes[s..].try_into().ok());
                    head = Head { position, hash: hash.unwrap_or([0; 32]) };
                }
            }
            recovery.records_scanned += 1;
            at = next;
        }
        // A segment the snapshot covered is open already.
        if index.segments.len() < number as usize {
            let file = OpenOptions::new().read(true).open(&path).map_err(Error::storage)?;
            index.segments.push(Arc::new(file));
        }
    }
    let current = if numbers.is_empty() {
        create_segment(dir, 1, &mut index)?
    } else {
        let path = segment_path(dir, last_number);
        let mut file = OpenOptions::new().read(true).write(true).open(&path).map_err(Error::storage)?;
        let len = file.seek(SeekFrom::End(0)).map_err(Error::storage)?;
        CurrentSegment { number: last_number, file, len }
    };
    tracing::info!(
        position = head.position,
        snapshot_position = recovery.snapshot_position,
        records_scanned = recovery.records_scanned,
        "opened the event log"
    );
    Ok((index, head, current, recovery))
}

/// The record at `at` and the offset after it, or `None` when the frame is incomplete.
fn read_frame(bytes: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let header: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
    let len = u32::from_be_bytes(header);
    if len == 0 || len > MAX_FRAME {
        return None;
    }
    let end = at + 4 + len as usize;
    Some((bytes.get(at + 4..end)?, end))
}

/// Copies `torn`, the bytes of the segment at `path` from offset `at`, aside and cuts them off.
fn cut_torn_tail(dir: &Path, path: &Path, torn: &[u8], at: u64, position: u64) -> Result<()> {
    let aside = dir.join(format!("torn-{position}-{}.bin", Uuid::new_v4().simple()));
    std::fs::write(&aside, torn).map_err(Error::storage)?;
    let file = OpenOptions::new().write(true).open(path).map_err(Error::storage)?;
    file.set_len(at).map_err(Error::storage)?;
    file.sync_all().map_err(Error::storage)?;
    Ok(())
}

fn create_segment(dir: &Path, number: u32, index: &mut Index) -> Result<CurrentSegment> {
    let path = segment_path(dir, number);
    let file = OpenOptions::new().create_new(true).read(true).write(true).open(&path).map_err(Error::storage)?;
    file.sync_all().map_err(Error::storage)?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(Error::storage)?;
    let reader = OpenOptions::new().read(true).open(&path).map_err(Error::storage)?;
    index.segments.push(Arc::new(reader));
    Ok(CurrentSegment { number, file, len: 0 })
}

/// Wraps each flush the segment sink makes; the identity outside tests.
pub(crate) type WrapFlush = Arc<dyn Fn(Flush) -> Flush + Send + Sync>;

/// `fdatasync` of the segment `file` (through a handle of the same open file), for the syncer.
fn data_flush(file: &File) -> Result<Flush> {
    let file = file.try_clone().map_err(Error::storage)?;
    Ok(Arc::new(move || file.sync_data().map_err(Error::storage)))
}

struct SegmentSink {
    dir: PathBuf,
    segment_bytes: u64,
    current: CurrentSegment,
    /// Flushes `current`; shared by every group written to it, so the syncer runs it once for
    /// all the groups waiting.
    flush: Flush,
    wrap: WrapFlush,
    index: Arc<RwLock<Index>>,
    /// Keeps `index.snapshot` close behind the head; writes the last one at close.
    snapshots: snapshot::Snapshotter,
    _lock: File,
}

impl SegmentSink {
    fn write_index(&self) -> Result<std::sync::RwLockWriteGuard<'_, Index>> {
        self.index.write().map_err(|_| Error::storage("the log index lock is poisoned"))
    }

    /// Undoes a group's write that the disk refused (a full disk stops a write part way):
    /// cuts the segment back to where the group began and writes from there again, so the
    /// log holds exactly what it held before the group and the store can go on taking writes
    /// once the disk has room ([`Error::NotWritten`]). Cutting a file back needs no free space.
    /// When even that fails, the segment's end is unknown: the store stops taking writes.
    fn undo_write(&mut self, refused: std::io::Error) -> Error {
        let start = self.current.len;
        let undone = self.current.file.set_len(start).and_then(|()| self.current.file.seek(SeekFrom::Start(start)));
        match undone {
            Ok(_) => {
                tracing::warn!(error = %refused, "the disk refused a write to the event log; it was undone");
                Error::NotWritten { detail: refused.to_string() }
            }
            Err(error) => {
                tracing::error!(error = %refused, undo = %error, "a refused write to the event log could not be undone");
                Error::storage(refused)
            }
        }
    }
}

impl LogSink for SegmentSink {
    fn stream_head(&mut self, stream: &StreamName) -> Result<Option<u64>> {
        let index = self.index.read().map_err(|_| Error::storage("the log index lock is poisoned"))?;
        Ok((index.stream_positions(stream).len() as u64).checked_sub(1))
    }

    fn known_event(&mut self, id: Uuid) -> Result<Option<KnownEvent>> {
        let index = self.index.read().map_err(|_| Error::storage("the log index lock is poisoned"))?;
        let Some(&position) = index.ids.get(&id) else { return Ok(None) };
        let location = index.locations[position as usize - 1];
        let stream = index.stream_names[location.stream as usize].to_string();
        Ok(Some(KnownEvent { position, revision: location.revision, stream }))
    }

    /// Writes the group's frames with one `write` and indexes them; the syncer's `fdatasync`
    /// makes them durable. Readers are capped at the durable head, so the index may run ahead.
    fn write(&mut self, group: &PlannedGroup, flush_now: &mut dyn FnMut(Flush) -> Result<()>) -> Result<Vec<Flush>> {
        let size: usize = group.records.iter().map(|r| r.bytes.len() + 4).sum();
        if self.current.len > 0 && self.current.len + size as u64 > self.segment_bytes {
            // Groups written to the old segment may still wait for their flush. The old
            // segment is synced whole (data and metadata), on the syncer after them, before the
            // next one exists: only the last segment may ever end in a torn write.
            let old = self.current.file.try_clone().map_err(Error::storage)?;
            flush_now((self.wrap)(Arc::new(move || old.sync_all().map_err(Error::storage))))?;
            let next = self.current.number + 1;
            let mut index = self.write_index()?;
            let segment = create_segment(&self.dir, next, &mut index)?;
            drop(index);
            self.flush = (self.wrap)(data_flush(&segment.file)?);
            self.current = segment;
        }
        let mut buffer = Vec::with_capacity(size);
        let mut locations = Vec::with_capacity(group.records.len());
        for record in &group.records {
            let len = u32::try_from(record.bytes.len()).map_err(|_| Error::invalid_event("an event is too large"))?;
            buffer.extend_from_slice(&len.to_be_bytes());
            let offset = self.current.len + buffer.len() as u64;
            buffer.extend_from_slice(&record.bytes);
            locations.push(Location {
                segment: self.current.number - 1,
                offset,
                len,
                stream: UNKNOWN_STREAM,
                revision: record.revision,
            });
        }
        if let Err(error) = self.current.file.write_all(&buffer) {
            return Err(self.undo_write(error));
        }
        self.current.len += buffer.len() as u64;
        let mut index = self.write_index()?;
        for (record, location) in group.records.iter().zip(locations) {
            index.add(record.position, location, Some(&record.stream), Some(record.id));
        }
        Ok(vec![self.flush.clone()])
    }

    fn close(&mut self) -> Result<()> {
        self.current.file.sync_all().map_err(Error::storage)?;
        // Still holding the directory lock: the next open reads this snapshot.
        self.snapshots.finish();
        Ok(())
    }
}

#[async_trait]
impl EmbeddedLog for SegmentBackend {
    fn writer(&self) -> &WriterHandle {
        &self.writer
    }

    async fn read_stream(&self, stream: &StreamName, window: StreamWindow) -> Result<Vec<RecordedEvent>> {
        let durable = self.published.durable();
        let positions = {
            let index = self.read_index()?;
            let all = index.stream_positions(stream);
            // The index also holds written groups still waiting for their flush.
            window.select(&all[..all.partition_point(|p| *p <= durable)])
        };
        self.read_positions(&positions)
    }

    async fn read_all(&self, from_position: u64, max: usize) -> Result<Vec<RecordedEvent>> {
        let from = from_position.max(1);
        let durable = self.published.durable();
        if from > durable || max == 0 {
            return Ok(Vec::new());
        }
        let until = durable.min(from.saturating_add(max as u64 - 1));
        let positions: Vec<u64> = (from..=until).collect();
        self.read_positions(&positions)
    }

    async fn read_category(&self, category: &str, from_position: u64, max: usize) -> Result<Vec<RecordedEvent>> {
        crate::types::validate_category(category)?;
        let durable = self.published.durable();
        let positions: Vec<u64> = {
            let index = self.read_index()?;
            let all = index.categories.get(category).map_or(&[][..], Vec::as_slice);
            let start = all.partition_point(|p| *p < from_position);
            all[start..].iter().take(max).take_while(|p| **p <= durable).copied().collect()
        };
        self.read_positions(&positions)
    }

    async fn stream_revision(&self, stream: &StreamName) -> Result<Option<u64>> {
        let durable = self.published.durable();
        let index = self.read_index()?;
        let positions = index.stream_positions(stream);
        Ok((positions.partition_point(|p| *p <= durable) as u64).checked_sub(1))
    }
}
