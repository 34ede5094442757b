//! Group commit: the appends of one process share transactions.
//!
//! An append joins this process's queue and waits for its answer. Appenders (tasks, at most
//! [`MAX_APPENDERS`] at a time; one is started whenever an append joins and fewer are
//! running) each open a transaction and wait for the `heard_head` row. Whichever is granted the
//! row takes every append queued at that moment (up to [`MAX_GROUP_EVENTS`] events and
//! [`MAX_GROUP_BYTES`]), so the appends that arrived while the previous transaction held the
//! row go in together: one row lock, one commit (one WAL flush), one notification.
//!
//! Holding the row, the appender reads what the group needs (which of its event ids are
//! already in the log, and its streams' last revisions), then decides each append in queue
//! order against those reads and the appends before it in the group, exactly as a lone append
//! would be decided: a retry of a batch already appended (in the log or earlier in the group)
//! is answered with where it lies, a wrong expected revision or a batch that is not a faithful
//! retry is refused, and every other append is numbered and chained from the head as left by
//! the appends before it. Refusals are decided before anything is written, so one append's
//! refusal takes nothing from the others. Then every accepted event is written at once, the
//! head moves, the transaction commits, and each caller gets its own outcome.
//!
//! Should the transaction fail as a whole (the connection is lost, the server refuses), every
//! caller in the group gets the error and nothing of the group is visible. It is not retried
//! one by one here: refusals were decided before writing, so what fails is the database or the
//! connection, which would fail the retries too; and a commit whose answer was lost may have
//! happened, which only the caller, retrying with the same event ids, can settle safely
//! (idempotency answers "already appended").
//!
//! The reads of the appends queued when an appender starts are sent with the row's lock (one
//! round trip, run by PostgreSQL once the lock is granted); those that joined while it waited
//! cost one more round trip. A lone append therefore pays what it did before group commit:
//! `BEGIN`, the lock with its reads, the writes, `COMMIT`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::Ordering;

use tokio::sync::oneshot;
use uuid::Uuid;

use super::{CHANNEL, PostgresBackend, Shared, head_from, pg_error, to_i64};
use crate::error::{Error, Result};
use crate::record::{self, PreparedEvent};
use crate::types::{AppendOutcome, ExpectedRevision, Head, StreamName};
use crate::writer::{KnownEvent, now_micros, retried_outcome};

/// The most events one group's transaction takes (an append larger than this goes alone).
pub(crate) const MAX_GROUP_EVENTS: usize = 1_000;
/// The most bytes of event data one group's transaction takes (an append larger than this goes
/// alone).
pub(crate) const MAX_GROUP_BYTES: usize = 8 << 20;
/// The most appenders (transactions holding or waiting for the head row) one process runs.
/// Six are the least that let the ordering test's five appends wait on the row behind a held
/// one; more would only add turns on the row that find the queue already taken.
pub(crate) const MAX_APPENDERS: usize = 8;

pub(super) const INSERT_EVENTS: &str =
    "INSERT INTO heard_events (position, stream, category, revision, event_id, record)
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::uuid[], $6::bytea[])";
pub(super) const UPSERT_STREAMS: &str = "INSERT INTO heard_streams (stream, revision)
     SELECT * FROM unnest($1::text[], $2::bigint[])
     ON CONFLICT (stream) DO UPDATE SET revision = EXCLUDED.revision";
const LOCK_HEAD: &str = "SELECT position, hash FROM heard_head FOR UPDATE";
const KNOWN_EVENTS: &str = "SELECT event_id, position, revision, stream FROM heard_events WHERE event_id = ANY($1)";
const STREAM_REVISIONS: &str = "SELECT stream, revision FROM heard_streams WHERE stream = ANY($1)";
const MOVE_HEAD: &str = "UPDATE heard_head SET position = $1, hash = $2";
const NOTIFY: &str = "SELECT pg_notify($1, $2)";

/// A statement parameter.
type Param<'a> = &'a (dyn tokio_postgres::types::ToSql + Sync);

/// One append waiting for a group.
pub(super) struct Queued {
    stream: StreamName,
    expected: ExpectedRevision,
    events: Vec<PreparedEvent>,
    bytes: usize,
    reply: oneshot::Sender<Result<AppendOutcome>>,
}

/// This process's appends waiting for a group, and how many appenders run.
#[derive(Default)]
pub(super) struct Queue {
    waiting: VecDeque<Queued>,
    appenders: usize,
}

impl Queue {
    /// How many appends at the front of the queue one group takes: at least one, then as many
    /// as fit the bounds.
    fn group_len(&self) -> usize {
        let (mut events, mut bytes, mut taken) = (0, 0, 0);
        for queued in &self.waiting {
            let fits = events + queued.events.len() <= MAX_GROUP_EVENTS && bytes + queued.bytes <= MAX_GROUP_BYTES;
            if taken > 0 && !fits {
                break;
            }
            events += queued.events.len();
            bytes += queued.bytes;
            taken += 1;
        }
        taken
    }

    fn take_group(&mut self) -> Vec<Queued> {
        let taken = self.group_len();
        self.waiting.drain(..taken).collect()
    }

    /// The event ids and streams of the group that would be taken now.
    fn peek_group(&self) -> Wanted {
        let mut wanted = Wanted::default();
        for queued in self.waiting.iter().take(self.group_len()) {
            wanted.add(queued);
        }
        wanted
    }
}

/// The bytes an event adds to a group, roughly its record's size.
fn size_of(events: &[PreparedEvent]) -> usize {
    events
        .iter()
        .map(|event| {
            96 + event.event_type.len()
                + event.metadata.len()
                + event.data.len()
                + event.sealed.as_ref().map_or(0, |sealed| sealed.ciphertext.len() + 32)
        })
        .sum()
}

/// Event ids and streams to read under the head row.
#[derive(Default)]
struct Wanted {
    ids: Vec<Uuid>,
    streams: Vec<String>,
}

impl Wanted {
    fn add(&mut self, queued: &Queued) {
        self.ids.extend(queued.events.iter().map(|event| event.id));
        if !self.streams.iter().any(|stream| stream == queued.stream.as_str()) {
            self.streams.push(queued.stream.to_string());
        }
    }
}

/// What was read under the head row: where known event ids lie, and streams' last revisions.
#[derive(Default)]
struct Found {
    ids_read: HashSet<Uuid>,
    known: HashMap<Uuid, KnownEvent>,
    /// Every stream read, `None` when it does not exist.
    streams: HashMap<String, Option<u64>>,
}

impl Found {
    fn add(&mut self, wanted: Wanted, known_rows: &[tokio_postgres::Row], stream_rows: &[tokio_postgres::Row]) {
        for row in known_rows {
            let position = u64::try_from(row.get::<_, i64>(1)).unwrap_or(0);
            let revision = u64::try_from(row.get::<_, i64>(2)).unwrap_or(0);
            self.known.insert(row.get(0), KnownEvent { position, revision, stream: row.get(3) });
        }
        self.ids_read.extend(wanted.ids);
        for stream in wanted.streams {
            self.streams.entry(stream).or_insert(None);
        }
        for row in stream_rows {
            let revision = u64::try_from(row.get::<_, i64>(1)).unwrap_or(0);
            self.streams.insert(row.get(0), Some(revision));
        }
    }

    /// What the group needs that was not read yet.
    fn missing(&self, group: &[Queued]) -> Wanted {
        let mut wanted = Wanted::default();
        for queued in group {
            wanted.ids.extend(queued.events.iter().map(|event| event.id).filter(|id| !self.ids_read.contains(id)));
            let stream = queued.stream.as_str();
            if !self.streams.contains_key(stream) && !wanted.streams.iter().any(|s| s == stream) {
                wanted.streams.push(stream.to_owned());
            }
        }
        wanted
    }
}

/// A group's accepted events, numbered and chained from the head in queue order.
struct Planned {
    head: Head,
    positions: Vec<i64>,
    streams: Vec<String>,
    categories: Vec<String>,
    revisions: Vec<i64>,
    ids: Vec<Uuid>,
    records: Vec<Vec<u8>>,
    /// Where each accepted event id lies, for later appends of the group.
    staged_ids: HashMap<Uuid, KnownEvent>,
    /// Each stream's last revision after the group's accepted appends.
    stream_heads: HashMap<String, u64>,
}

impl Planned {
    fn new(head: Head) -> Self {
        Planned {
            head,
            positions: Vec::new(),
            streams: Vec::new(),
            categories: Vec::new(),
            revisions: Vec::new(),
            ids: Vec::new(),
            records: Vec::new(),
            staged_ids: HashMap::new(),
            stream_heads: HashMap::new(),
        }
    }

    /// Decides one append against what was read and the group's earlier appends, and stages its
    /// events when it is accepted. Nothing is staged when it is refused.
    fn plan(&mut self, queued: &Queued, found: &Found, recorded_at: i64) -> Result<AppendOutcome> {
        let stream = &queued.stream;
        let current = match self.stream_heads.get(stream.as_str()) {
            Some(staged) => Some(*staged),
            None => found.streams.get(stream.as_str()).copied().flatten(),
        };

        // A retry of a batch that was already appended succeeds without adding anything.
        let known: Vec<Option<KnownEvent>> = queued
            .events
            .iter()
            .map(|event| self.staged_ids.get(&event.id).or_else(|| found.known.get(&event.id)).cloned())
            .collect();
        if known.iter().any(Option::is_some) {
            return retried_outcome(stream, &queued.events, &known);
        }

        if !queued.expected.accepts(current) {
            return Err(Error::WrongExpectedRevision {
                stream: stream.to_string(),
                expected: queued.expected,
                actual: current,
            });
        }

        let mut head = self.head;
        let mut revision = current.map_or(0, |revision| revision + 1);
        let mut rows = Vec::with_capacity(queued.events.len());
        for event in &queued.events {
            let position = head.position + 1;
            let body = record::encode_body(position, stream, revision, recorded_at, event);
            let (bytes, hash) = record::seal_record(body, &head.hash);
            rows.push((position, revision, to_i64(position)?, to_i64(revision)?, bytes));
            head = Head { position, hash };
            revision += 1;
        }
        let first_position = self.head.position + 1;
        for (event, (position, revision, position_i64, revision_i64, bytes)) in queued.events.iter().zip(rows) {
            self.positions.push(position_i64);
            self.streams.push(stream.to_string());
            self.categories.push(stream.category().to_owned());
            self.revisions.push(revision_i64);
            self.ids.push(event.id);
            self.records.push(bytes);
            self.staged_ids.insert(event.id, KnownEvent { position, revision, stream: stream.to_string() });
        }
        let last_revision = revision - 1;
        self.stream_heads.insert(stream.to_string(), last_revision);
        self.head = head;
        Ok(AppendOutcome {
            next_expected_revision: last_revision,
            first_position,
            last_position: head.position,
            already_appended: false,
        })
    }
}

/// The same error again, for the next caller of a group that failed as a whole.
fn again(error: &Error) -> Error {
    match error {
        Error::Storage { detail } => Error::Storage { detail: detail.clone() },
        Error::Closed => Error::Closed,
        other => Error::Storage { detail: other.to_string() },
    }
}

/// An appender's place among the [`MAX_APPENDERS`]; given back should its task end in a way
/// other than finding the queue empty (a panic, the runtime shutting down).
struct Slot<'a> {
    shared: &'a Shared,
    given_back: bool,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if !self.given_back {
            let mut queue = self.shared.queue.lock().unwrap_or_else(|p| p.into_inner());
            queue.appenders -= 1;
        }
    }
}

impl PostgresBackend {
    /// Queues the append and waits for the outcome its group gave it.
    pub(super) async fn append_grouped(
        &self,
        stream: &StreamName,
        expected: ExpectedRevision,
        events: Vec<PreparedEvent>,
    ) -> Result<AppendOutcome> {
        let (reply, answer) = oneshot::channel();
        let bytes = size_of(&events);
        let start_appender = {
            let mut queue = self.shared.queue.lock().unwrap_or_else(|p| p.into_inner());
            queue.waiting.push_back(Queued { stream: stream.clone(), expected, events, bytes, reply });
            let start = queue.appenders < MAX_APPENDERS;
            if start {
                queue.appenders += 1;
            }
            start
        };
        if start_appender {
            // A task of its own: a caller that stops waiting must not stop the group it is in.
            tokio::spawn(self.clone().appender());
        }
        answer.await.map_err(|_| Error::Closed)?
    }

    /// How many appends wait for a group (for tests).
    #[cfg(test)]
    pub(crate) fn queued(&self) -> usize {
        self.shared.queue.lock().unwrap().waiting.len()
    }

    /// Runs groups until it finds the queue empty. The emptiness check and giving back the slot
    /// happen under one lock, so an append that joins finds either this appender still running
    /// or a free slot to start another.
    async fn appender(self) {
        let shared = self.shared.clone();
        let mut slot = Slot { shared: &shared, given_back: false };
        loop {
            let wanted = {
                let mut queue = shared.queue.lock().unwrap_or_else(|p| p.into_inner());
                if queue.waiting.is_empty() {
                    queue.appenders -= 1;
                    slot.given_back = true;
                    return;
                }
                queue.peek_group()
            };
            let mut group = Vec::new();
            match self.group_transaction(wanted, &mut group).await {
                Ok(outcomes) => {
                    for (queued, outcome) in group.into_iter().zip(outcomes) {
                        let _ = queued.reply.send(outcome);
                    }
                }
                Err(error) => {
                    if group.is_empty() {
                        // It failed before taking its group (no connection, no lock): the
                        // appends it would have taken get the error rather than wait on.
                        group = self.take_group();
                    }
                    tracing::warn!(%error, appends = group.len(), "a group of appends failed as a whole; none of it was written");
                    for queued in group {
                        let _ = queued.reply.send(Err(again(&error)));
                    }
                }
            }
        }
    }

    fn take_group(&self) -> Vec<Queued> {
        self.shared.queue.lock().unwrap_or_else(|p| p.into_inner()).take_group()
    }

    /// One group in one transaction: `BEGIN`; the head row's lock with the reads for `wanted`
    /// (the appends queued when it started); once the row is granted, the group is taken from
    /// the queue into `group`, and what it needs beyond `wanted` is read; every append is
    /// decided; every write is sent at once; `COMMIT`. Returns each append's outcome, in
    /// `group`'s order. On an error nothing of the group was committed.
    async fn group_transaction(&self, wanted: Wanted, group: &mut Vec<Queued>) -> Result<Vec<Result<AppendOutcome>>> {
        let mut client = self.client().await?;
        let lock = client.prepare_cached(LOCK_HEAD).await.map_err(pg_error)?;
        let known_events = client.prepare_cached(KNOWN_EVENTS).await.map_err(pg_error)?;
        let stream_revisions = client.prepare_cached(STREAM_REVISIONS).await.map_err(pg_error)?;
        let insert = client.prepare_cached(INSERT_EVENTS).await.map_err(pg_error)?;
        let upsert = client.prepare_cached(UPSERT_STREAMS).await.map_err(pg_error)?;
        let move_head = client.prepare_cached(MOVE_HEAD).await.map_err(pg_error)?;
        let notify = client.prepare_cached(NOTIFY).await.map_err(pg_error)?;

        let tx = client.transaction().await.map_err(pg_error)?;
        // One round trip: polled together, the three are sent at once, in this order, and
        // PostgreSQL runs the reads once the lock is granted, each seeing every commit before.
        let (ids, streams): ([Param; 1], [Param; 1]) = ([&wanted.ids], [&wanted.streams]);
        let (row, known_rows, stream_rows) = futures::try_join!(
            tx.query_one(&lock, &[]),
            tx.query(&known_events, &ids),
            tx.query(&stream_revisions, &streams),
        )
        .map_err(pg_error)?;
        let head = head_from(row.get(0), row.get(1))?;
        let mut found = Found::default();
        found.add(wanted, &known_rows, &stream_rows);

        *group = self.take_group();
        if group.is_empty() {
            // Another appender took them while this one waited for the row.
            tx.rollback().await.map_err(pg_error)?;
            return Ok(Vec::new());
        }
        let missing = found.missing(group);
        if !missing.ids.is_empty() || !missing.streams.is_empty() {
            let (ids, streams): ([Param; 1], [Param; 1]) = ([&missing.ids], [&missing.streams]);
            let (known_rows, stream_rows) =
                futures::try_join!(tx.query(&known_events, &ids), tx.query(&stream_revisions, &streams),)
                    .map_err(pg_error)?;
            found.add(missing, &known_rows, &stream_rows);
        }

        let recorded_at = now_micros();
        let mut planned = Planned::new(head);
        let outcomes: Vec<Result<AppendOutcome>> =
            group.iter().map(|queued| planned.plan(queued, &found, recorded_at)).collect();
        if planned.ids.is_empty() {
            // Only retries and refusals: nothing to write.
            tx.rollback().await.map_err(pg_error)?;
            return Ok(outcomes);
        }

        let (stream_names, last_revisions): (Vec<&str>, Vec<i64>) = planned
            .stream_heads
            .iter()
            .map(|(stream, revision)| Ok((stream.as_str(), to_i64(*revision)?)))
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .unzip();
        let head_position = to_i64(planned.head.position)?;
        let head_hash = planned.head.hash.as_slice();
        let head_text = planned.head.position.to_string();
        #[cfg(test)]
        let notify_now = !self.silent.load(Ordering::Acquire);
        #[cfg(not(test))]
        let notify_now = true;

        // One round trip: every write, sent at once, in order. Should one fail, PostgreSQL
        // refuses the rest of the transaction and the first error is the one returned.
        let insert_params: [Param; 6] = [
            &planned.positions,
            &planned.streams,
            &planned.categories,
            &planned.revisions,
            &planned.ids,
            &planned.records,
        ];
        let upsert_params: [Param; 2] = [&stream_names, &last_revisions];
        let head_params: [Param; 2] = [&head_position, &head_hash];
        let inserted = tx.execute(&insert, &insert_params);
        let streams_moved = tx.execute(&upsert, &upsert_params);
        let head_moved = tx.execute(&move_head, &head_params);
        let notified =
            async { if notify_now { tx.execute(&notify, &[&CHANNEL, &head_text]).await.map(|_| ()) } else { Ok(()) } };
        futures::try_join!(inserted, streams_moved, head_moved, notified).map_err(pg_error)?;

        #[cfg(test)]
        {
            let hold = self.hold.lock().unwrap().take();
            if let Some(hold) = hold {
                let _ = hold.holding.send(());
                if !hold.release.await.unwrap_or(false) {
                    tx.rollback().await.map_err(pg_error)?;
                    return Err(Error::Storage { detail: "rolled back by the test".into() });
                }
            }
        }

        let committing = std::time::Instant::now();
        tx.commit().await.map_err(pg_error)?;
        self.shared.commit_seconds.observe_since(committing);
        self.shared.events_appended.fetch_add(planned.ids.len() as u64, Ordering::Relaxed);
        self.shared.commits.fetch_add(1, Ordering::Relaxed);
        self.shared.publish(planned.head);
        Ok(outcomes)
    }
}
