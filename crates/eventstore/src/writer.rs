//! The single writer shared by the embedded backends: pipelined group commit, planning and
//! publication.
//!
//! Appends are queued to one thread, the writer. It takes every request waiting in the queue,
//! checks each one against the written state plus the earlier requests of the same group
//! (expected revision, idempotency), assigns revisions, global positions and chain hashes, makes
//! the group's new subject keys durable, and hands the whole group to the backend's
//! [`LogSink::write`] — one write for all of them. It does not wait for the flush: the group,
//! with its replies and the [`Flush`]es that make it durable, goes to a second thread, the
//! syncer, and the writer goes on to plan and write the next group while this one's
//! `fdatasync` is in flight.
//!
//! The syncer takes every written group waiting for it, runs each distinct flush once, in
//! order, and only then moves the durable head on and acknowledges the groups, in the order
//! they were written. Readers are capped at the durable head, so they never see an event that
//! could still be lost, even though the sink's own lookups already know written events.
//!
//! A failed flush fails its groups and every group after it (whatever they say, they were
//! planned on top of what may be lost), nothing after it is acknowledged, and the store refuses
//! further appends ([`Error::Poisoned`]). A write the disk refuses (a full disk) that the sink
//! could undo ([`Error::NotWritten`]) fails only its own group: nothing was planned on top of
//! it yet, and the writer's state moves on only after a write, so writing resumes as soon as
//! the disk has room. Replies that do not append anything (a wrong expected
//! revision, a retry of an already appended batch) also wait for the groups before them: an
//! answer may depend on a group that is not yet durable.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, oneshot, watch};
use uuid::Uuid;

use crate::crypto::KeyStore;
use crate::error::{Error, Result};
use crate::record::{self, PreparedEvent};
use crate::types::BackendStats;
use crate::types::{AppendOutcome, ExpectedRevision, Head, RecordedEvent, StreamName};

#[cfg(test)]
mod tests;

/// How many queued appends one commit takes at most.
const MAX_GROUP: usize = 4096;

/// One append waiting for the writer.
pub(crate) struct AppendRequest {
    pub stream: StreamName,
    pub expected: ExpectedRevision,
    pub events: Vec<PreparedEvent>,
    /// The key store whose keys sealed personal fields of `events`, if any did.
    pub sealed_with: Option<Arc<dyn KeyStore>>,
    /// Set when the one event of `events` is copied from another store ([`WriterHandle::import`]):
    /// where and when it was recorded there, and its hash, which the copy must reproduce.
    pub as_recorded: Option<AsRecorded>,
    pub reply: oneshot::Sender<Result<AppendOutcome>>,
}

/// Where and when another store recorded an event being copied, and the hash it got there.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AsRecorded {
    pub position: u64,
    pub recorded_at_micros: i64,
    pub hash: [u8; 32],
}

/// Where an already-appended event id lives.
#[derive(Clone, Debug)]
pub(crate) struct KnownEvent {
    pub position: u64,
    pub revision: u64,
    pub stream: String,
}

/// An event with its place in the log and its encoded record.
#[derive(Debug)]
pub(crate) struct PlannedRecord {
    pub position: u64,
    pub revision: u64,
    pub stream: StreamName,
    pub id: Uuid,
    pub bytes: Vec<u8>,
}

/// A group ready to be made durable.
#[derive(Debug)]
pub(crate) struct PlannedGroup {
    pub records: Vec<PlannedRecord>,
    /// The last revision of every stream the group touches.
    pub stream_heads: HashMap<StreamName, u64>,
    /// The global head after the group.
    pub head: Head,
}

/// Makes what a sink wrote durable (for the segment log, an `fdatasync` of one file). Runs on
/// the syncer thread. Groups written to the same file share one, and the syncer runs each
/// distinct flush (by `Arc` identity) once per round.
pub(crate) type Flush = Arc<dyn Fn() -> Result<()> + Send + Sync>;

/// What a backend's storage must do for the writer.
pub(crate) trait LogSink: Send + 'static {
    /// The last revision of a stream, counting written groups that may not be durable yet.
    fn stream_head(&mut self, stream: &StreamName) -> Result<Option<u64>>;
    /// Where an event id lives, counting written groups that may not be durable yet.
    fn known_event(&mut self, id: Uuid) -> Result<Option<KnownEvent>>;
    /// Writes the group, all or nothing, so that `stream_head` and `known_event` know it, and
    /// returns the flushes, in order, that make it durable (none when the write itself was
    /// durable). Readers must not see the group before the writer publishes its head. Called
    /// only with at least one record.
    ///
    /// `flush_now` runs a flush on the syncer after every group written before and waits for
    /// it: what must be durable before the write goes on (the segment log syncs a full segment
    /// this way before it starts the next one). An error from it fails the group.
    fn write(&mut self, group: &PlannedGroup, flush_now: &mut dyn FnMut(Flush) -> Result<()>) -> Result<Vec<Flush>>;
    /// Called once when the writer stops, after every flush has run.
    fn close(&mut self) -> Result<()>;
}

/// The durable head and counters, shared between the writer and readers.
pub(crate) struct Published {
    durable_head: AtomicU64,
    head: std::sync::Mutex<Head>,
    head_tx: watch::Sender<u64>,
    poisoned: AtomicBool,
    events_appended: AtomicU64,
    commits: AtomicU64,
    /// How long each flush (or each write durable by itself) took.
    commit_seconds: crate::latency::LatencyHistogram,
}

impl Published {
    pub fn new(head: Head) -> Self {
        let (head_tx, _) = watch::channel(head.position);
        Published {
            durable_head: AtomicU64::new(head.position),
            head: std::sync::Mutex::new(head),
            head_tx,
            poisoned: AtomicBool::new(false),
            events_appended: AtomicU64::new(0),
            commits: AtomicU64::new(0),
            commit_seconds: crate::latency::LatencyHistogram::new(),
        }
    }

    /// The last position readers may see.
    pub fn durable(&self) -> u64 {
        self.durable_head.load(Ordering::Acquire)
    }

    pub fn head(&self) -> Head {
        self.head.lock().map_or(Head::EMPTY, |head| *head)
    }

    pub fn watch(&self) -> watch::Receiver<u64> {
        self.head_tx.subscribe()
    }

    pub fn is_poisoned(&self) -> bool {
        self.poisoned.load(Ordering::Acquire)
    }

    fn poison(&self) {
        self.poisoned.store(true, Ordering::Release);
    }

    pub fn stats(&self) -> BackendStats {
        BackendStats {
            events_appended: self.events_appended.load(Ordering::Relaxed),
            commits: self.commits.load(Ordering::Relaxed),
            commit_seconds: self.commit_seconds.snapshot(),
            append_seconds: Default::default(),
        }
    }

    /// Runs one flush, counting how long it took.
    fn timed_flush(&self, flush: &Flush) -> Result<()> {
        let started = std::time::Instant::now();
        let flushed = flush();
        self.commit_seconds.observe_since(started);
        flushed
    }

    /// Moves the durable head on after `flushes` flushes made `appended` more events durable.
    fn publish(&self, head: Head, appended: u64, flushes: u64) {
        if let Ok(mut shared) = self.head.lock() {
            *shared = head;
        }
        self.durable_head.store(head.position, Ordering::Release);
        self.events_appended.fetch_add(appended, Ordering::Relaxed);
        self.commits.fetch_add(flushes, Ordering::Relaxed);
        self.head_tx.send_replace(head.position);
    }
}

/// The handle backends keep: a queue to the writer thread and the thread itself.
pub(crate) struct WriterHandle {
    sender: std::sync::Mutex<Option<mpsc::UnboundedSender<AppendRequest>>>,
    thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
    published: std::sync::Arc<Published>,
}

impl WriterHandle {
    /// Starts the writer and syncer threads over `sink`, from the committed `head`.
    pub fn spawn<S: LogSink>(sink: S, published: std::sync::Arc<Published>) -> Result<Self> {
        let (sender, receiver) = mpsc::unbounded_channel();
        let (to_syncer, syncer_queue) = std::sync::mpsc::channel();
        let syncer = Syncer { published: published.clone(), failed: false };
        let syncer = std::thread::Builder::new()
            .name("heard-log-syncer".into())
            .spawn(move || syncer.run(syncer_queue))
            .map_err(Error::storage)?;
        let head = published.head();
        let writer = Writer {
            sink,
            published: published.clone(),
            head,
            stream_heads: HashMap::new(),
            syncer: Some((to_syncer, syncer)),
        };
        let thread = std::thread::Builder::new()
            .name("heard-log-writer".into())
            .spawn(move || writer.run(receiver))
            .map_err(Error::storage)?;
        Ok(WriterHandle {
            sender: std::sync::Mutex::new(Some(sender)),
            thread: std::sync::Mutex::new(Some(thread)),
            published,
        })
    }

    /// The durable head and the counters this writer publishes.
    pub fn published(&self) -> &Published {
        &self.published
    }

    /// Queues an append and waits for its durable outcome.
    pub async fn append(
        &self,
        stream: &StreamName,
        expected: ExpectedRevision,
        events: Vec<PreparedEvent>,
        sealed_with: Option<Arc<dyn KeyStore>>,
    ) -> Result<AppendOutcome> {
        if self.published.is_poisoned() {
            return Err(Error::Poisoned);
        }
        let (reply, response) = oneshot::channel();
        {
            let sender = self.sender.lock().map_err(|_| Error::Closed)?;
            let sender = sender.as_ref().ok_or(Error::Closed)?;
            sender
                .send(AppendRequest { stream: stream.clone(), expected, events, sealed_with, as_recorded: None, reply })
                .map_err(|_| Error::Closed)?;
        }
        response.await.map_err(|_| Error::Closed)?
    }

    /// Writes events recorded by another store exactly as they were there (see
    /// [`Backend::import`](crate::Backend::import)): one request each, all queued at once and
    /// in order (so they share groups and flushes), each checked by the writer against its
    /// recorded position, stream revision and hash before it is staged.
    pub async fn import(&self, events: Vec<RecordedEvent>) -> Result<()> {
        if self.published.is_poisoned() {
            return Err(Error::Poisoned);
        }
        let mut responses = Vec::with_capacity(events.len());
        {
            let sender = self.sender.lock().map_err(|_| Error::Closed)?;
            let sender = sender.as_ref().ok_or(Error::Closed)?;
            for event in events {
                let (reply, response) = oneshot::channel();
                let expected = match event.revision {
                    0 => ExpectedRevision::NoStream,
                    revision => ExpectedRevision::Exact(revision - 1),
                };
                let as_recorded = AsRecorded {
                    position: event.position,
                    recorded_at_micros: event.recorded_at_micros,
                    hash: event.hash,
                };
                let request = AppendRequest {
                    stream: event.stream.clone(),
                    expected,
                    events: vec![record::prepared_of(&event)],
                    sealed_with: None,
                    as_recorded: Some(as_recorded),
                    reply,
                };
                sender.send(request).map_err(|_| Error::Closed)?;
                responses.push((event.position, response));
            }
        }
        for (position, response) in responses {
            let outcome = response.await.map_err(|_| Error::Closed)??;
            if outcome.already_appended {
                return Err(Error::invalid_event(format!(
                    "the event copied to position {position} is already in this log"
                )));
            }
        }
        Ok(())
    }

    /// Stops accepting appends, lets the writer and syncer finish what is queued, and joins them.
    pub async fn close(&self) -> Result<()> {
        drop(self.sender.lock().map_err(|_| Error::Closed)?.take());
        let thread = self.thread.lock().map_err(|_| Error::Closed)?.take();
        if let Some(thread) = thread {
            tokio::task::spawn_blocking(move || thread.join()).await.map_err(Error::storage)?.ok();
        }
        Ok(())
    }
}

/// A reply and the outcome it will carry once the groups up to its own are durable.
type Reply = (oneshot::Sender<Result<AppendOutcome>>, Result<AppendOutcome>);

/// What the writer hands the syncer, in order.
enum ToSyncer {
    Written(Written),
    /// Settle everything before, then run this flush alone and say how it went.
    FlushNow(Flush, std::sync::mpsc::SyncSender<Result<()>>),
}

/// A group the writer has written (or failed to plan, write or make keys durable for), on its
/// way to the syncer.
struct Written {
    /// What makes the group durable; empty when nothing was written or the write was durable.
    flushes: Vec<Flush>,
    /// The head after the group and how many events it appended, when it appended any.
    appended: Option<(Head, u64)>,
    replies: Vec<Reply>,
}

struct Writer<S> {
    sink: S,
    published: std::sync::Arc<Published>,
    /// The head of what has been written (durable or not).
    head: Head,
    /// Written stream heads seen so far (the writer is the only one who changes them).
    stream_heads: HashMap<StreamName, Option<u64>>,
    syncer: Option<(std::sync::mpsc::Sender<ToSyncer>, std::thread::JoinHandle<()>)>,
}

impl<S: LogSink> Writer<S> {
    fn run(mut self, mut receiver: mpsc::UnboundedReceiver<AppendRequest>) {
        while let Some(first) = receiver.blocking_recv() {
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match receiver.try_recv() {
                    Ok(request) => group.push(request),
                    Err(_) => break,
                }
            }
            let written = self.write_group(group);
            self.hand_to_syncer(written);
        }
        // Every flush runs (and every reply is sent) before the sink closes.
        if let Some((sender, thread)) = self.syncer.take() {
            drop(sender);
            let _ = thread.join();
        }
        if let Err(error) = self.sink.close() {
            tracing::error!(%error, "closing the event log failed");
        }
    }

    fn hand_to_syncer(&mut self, written: Written) {
        let Some((sender, _)) = &self.syncer else { return };
        if let Err(std::sync::mpsc::SendError(ToSyncer::Written(written))) = sender.send(ToSyncer::Written(written)) {
            // The syncer is gone (it panicked): nothing can be made durable any more.
            tracing::error!("the event log's syncer stopped; refusing further writes");
            self.published.poison();
            for (reply, outcome) in written.replies {
                let _ = reply.send(outcome.and(Err(Error::Poisoned)));
            }
        }
    }

    fn committed_stream_head(&mut self, stream: &StreamName) -> Result<Option<u64>> {
        if let Some(head) = self.stream_heads.get(stream) {
            return Ok(*head);
        }
        let head = self.sink.stream_head(stream)?;
        self.stream_heads.insert(stream.clone(), head);
        Ok(head)
    }

    /// Plans the group, makes its new keys durable and writes it, without waiting for the flush.
    fn write_group(&mut self, group: Vec<AppendRequest>) -> Written {
        let nothing_written = |replies| Written { flushes: Vec::new(), appended: None, replies };
        if self.published.is_poisoned() {
            return nothing_written(group.into_iter().map(|request| (request.reply, Err(Error::Poisoned))).collect());
        }
        let mut planned = PlannedGroup { records: Vec::new(), stream_heads: HashMap::new(), head: self.head };
        let mut staged_ids: HashMap<Uuid, KnownEvent> = HashMap::new();
        let recorded_at = now_micros();
        let mut replies = Vec::with_capacity(group.len());
        let mut key_stores: Vec<Arc<dyn KeyStore>> = Vec::new();
        for request in group {
            let outcome = self.plan(&request, &mut planned, &mut staged_ids, recorded_at);
            if let (Some(keys), Ok(_)) = (request.sealed_with, &outcome)
                && !key_stores.iter().any(|known| Arc::ptr_eq(known, &keys))
            {
                key_stores.push(keys);
            }
            replies.push((request.reply, outcome));
        }
        // New people's keys are made durable once for the whole group, and before the log is
        // written: no event may reach the log before the key its personal fields need.
        if let Err(error) = key_stores.iter().try_for_each(|keys| keys.make_durable()) {
            tracing::error!(%error, "making new subject keys durable failed; the group is not appended");
            return nothing_written(
                replies.into_iter().map(|(reply, outcome)| (reply, outcome.and(Err(Error::storage(&error))))).collect(),
            );
        }
        if planned.records.is_empty() {
            return nothing_written(replies);
        }
        let syncer = self.syncer.as_ref().map(|(sender, _)| sender);
        let mut flush_now = |flush: Flush| -> Result<()> {
            let (done, outcome) = std::sync::mpsc::sync_channel(1);
            syncer.ok_or(Error::Poisoned)?.send(ToSyncer::FlushNow(flush, done)).map_err(|_| Error::Poisoned)?;
            outcome.recv().map_err(|_| Error::Poisoned)?
        };
        let started = std::time::Instant::now();
        let flushes = match self.sink.write(&planned, &mut flush_now) {
            Ok(flushes) => {
                // A write durable by itself (sled flushes on the writer) is its group's commit.
                if flushes.is_empty() {
                    self.published.commit_seconds.observe_since(started);
                }
                flushes
            }
            Err(Error::NotWritten { detail }) => {
                // The sink undid it: the log is as it was before this group, and so is the
                // writer's state (it moves on only after a write), so later groups go on.
                return nothing_written(
                    replies
                        .into_iter()
                        .map(|(reply, outcome)| (reply, outcome.and(Err(Error::NotWritten { detail: detail.clone() }))))
                        .collect(),
                );
            }
            Err(error) => {
                tracing::error!(%error, "event log write failed; refusing further writes");
                self.published.poison();
                return nothing_written(
                    replies.into_iter().map(|(reply, outcome)| (reply, outcome.and(Err(Error::Poisoned)))).collect(),
                );
            }
        };
        let appended = planned.head.position - self.head.position;
        self.head = planned.head;
        for (stream, revision) in planned.stream_heads {
            self.stream_heads.insert(stream, Some(revision));
        }
        Written { flushes, appended: Some((self.head, appended)), replies }
    }

    /// Checks one append against the written state and the group so far, and stages its
    /// records. Nothing is staged when it fails.
    fn plan(
        &mut self,
        request: &AppendRequest,
        planned: &mut PlannedGroup,
        staged_ids: &mut HashMap<Uuid, KnownEvent>,
        recorded_at: i64,
    ) -> Result<AppendOutcome> {
        let stream = &request.stream;
        let current = match planned.stream_heads.get(stream) {
            Some(staged) => Some(*staged),
            None => self.committed_stream_head(stream)?,
        };

        // A retry of a batch that was already appended succeeds without adding anything.
        let mut known = Vec::with_capacity(request.events.len());
        for event in &request.events {
            let found = match staged_ids.get(&event.id) {
                Some(staged) => Some(staged.clone()),
                None => self.sink.known_event(event.id)?,
            };
            known.push(found);
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

        let first_position = planned.head.position + 1;
        let mut revision = current.map_or(0, |revision| revision + 1);
        let recorded_at = request.as_recorded.map_or(recorded_at, |copied| copied.recorded_at_micros);
        for event in &request.events {
            let position = planned.head.position + 1;
            let body = record::encode_body(position, stream, revision, recorded_at, event);
            let (bytes, hash) = record::seal_record(body, &planned.head.hash);
            if let Some(copied) = request.as_recorded {
                // Only one event a request: nothing of it is staged yet.
                if request.events.len() != 1 || copied.position != position || copied.hash != hash {
                    return Err(not_as_recorded(copied.position, position));
                }
            }
            planned.records.push(PlannedRecord { position, revision, stream: stream.clone(), id: event.id, bytes });
            staged_ids.insert(event.id, KnownEvent { position, revision, stream: stream.to_string() });
            planned.head = Head { position, hash };
            revision += 1;
        }
        let last_revision = revision - 1;
        planned.stream_heads.insert(stream.clone(), last_revision);
        Ok(AppendOutcome {
            next_expected_revision: last_revision,
            first_position,
            last_position: planned.head.position,
            already_appended: false,
        })
    }
}

/// The syncer thread: flushes written groups and only then publishes and acknowledges them.
struct Syncer {
    published: Arc<Published>,
    /// A flush failed: every later group fails too.
    failed: bool,
}

impl Syncer {
    fn run(mut self, queue: std::sync::mpsc::Receiver<ToSyncer>) {
        while let Ok(first) = queue.recv() {
            let mut round = Vec::new();
            let mut next = Some(first);
            let mut flush_now = None;
            while let Some(message) = next {
                match message {
                    ToSyncer::Written(written) => round.push(written),
                    ToSyncer::FlushNow(flush, done) => {
                        flush_now = Some((flush, done));
                        break;
                    }
                }
                next = queue.try_recv().ok();
            }
            if !round.is_empty() {
                self.settle(round);
            }
            if let Some((flush, done)) = flush_now {
                let _ = done.send(self.flush_alone(&flush));
            }
        }
    }

    /// Runs one flush after everything before it has settled; a failure fails every later group.
    fn flush_alone(&mut self, flush: &Flush) -> Result<()> {
        if self.failed {
            return Err(Error::Poisoned);
        }
        self.published.timed_flush(flush).inspect_err(|error| {
            tracing::error!(%error, "flushing the event log failed; refusing further writes");
            self.failed = true;
            self.published.poison();
        })
    }

    /// Makes a round of written groups durable with one run of each distinct flush, then moves
    /// the durable head on and acknowledges them in the order they were written; or, when a
    /// flush fails now or failed before, fails them all.
    fn settle(&mut self, round: Vec<Written>) {
        let mut flushes: Vec<&Flush> = Vec::new();
        for flush in round.iter().flat_map(|written| &written.flushes) {
            if !flushes.iter().any(|known| Arc::ptr_eq(known, flush)) {
                flushes.push(flush);
            }
        }
        if !self.failed
            && let Err(error) = flushes.iter().try_for_each(|flush| self.published.timed_flush(flush))
        {
            tracing::error!(%error, "flushing the event log failed; refusing further writes");
            self.failed = true;
            self.published.poison();
        }
        if self.failed {
            for (reply, outcome) in round.into_iter().flat_map(|written| written.replies) {
                let _ = reply.send(outcome.and(Err(Error::Poisoned)));
            }
            return;
        }
        let appended = round.iter().filter_map(|written| written.appended).map(|(_, events)| events).sum();
        if let Some((head, _)) = round.iter().rev().find_map(|written| written.appended) {
            // A group whose write was durable by itself counts as one flush of its own.
            let durable_on_write =
                round.iter().filter(|written| written.appended.is_some() && written.flushes.is_empty()).count();
            self.published.publish(head, appended, (flushes.len() + durable_on_write) as u64);
        }
        for (reply, outcome) in round.into_iter().flat_map(|written| written.replies) {
            let _ = reply.send(outcome);
        }
    }
}

/// Decides whether a batch whose ids are (partly) known is a faithful retry.
pub(crate) fn retried_outcome(
    stream: &StreamName,
    events: &[PreparedEvent],
    known: &[Option<KnownEvent>],
) -> Result<AppendOutcome> {
    let mut previous: Option<&KnownEvent> = None;
    for (event, known) in events.iter().zip(known) {
        let Some(known) = known else {
            return Err(Error::IdempotencyConflict { event_id: event.id });
        };
        let consecutive = previous.is_none_or(|p| known.revision == p.revision + 1 && known.position > p.position);
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

/// A copied event that would not land where, or chain as, it was recorded.
pub(crate) fn not_as_recorded(recorded_at: u64, would_be: u64) -> Error {
    if recorded_at != would_be {
        Error::Storage {
            detail: format!(
                "the event recorded at position {recorded_at} would be copied to position {would_be}: the destination must be empty"
            ),
        }
    } else {
        Error::corrupt(recorded_at, "the copy does not reproduce the event's chain hash")
    }
}

pub(crate) fn now_micros() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}
