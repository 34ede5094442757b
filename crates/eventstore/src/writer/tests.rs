//! The pipelined group commit against a sink whose flushes the test holds, lets through or fails.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use uuid::Uuid;

use super::{Flush, KnownEvent, LogSink, PlannedGroup, Published, Syncer, WriterHandle, Written};
use crate::error::{Error, Result};
use crate::record::PreparedEvent;
use crate::types::{AppendOutcome, ExpectedRevision, Head, StreamName};

/// What the test lets the sink's flushes do.
#[derive(Default)]
struct GateState {
    /// Flushes that may still succeed; a flush waits while there are none.
    permits: u64,
    /// Every flush from now on fails.
    fail: bool,
    /// Flushes begun so far.
    started: u64,
}

#[derive(Default)]
struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
}

impl Gate {
    fn flush(&self) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        state.started += 1;
        self.changed.notify_all();
        while state.permits == 0 && !state.fail {
            state = self.changed.wait(state).unwrap();
        }
        if state.fail {
            return Err(Error::storage("injected fdatasync failure"));
        }
        state.permits -= 1;
        Ok(())
    }

    fn allow(&self, flushes: u64) {
        self.state.lock().unwrap().permits += flushes;
        self.changed.notify_all();
    }

    fn fail_from_now_on(&self) {
        self.state.lock().unwrap().fail = true;
        self.changed.notify_all();
    }

    fn started(&self) -> u64 {
        self.state.lock().unwrap().started
    }
}

/// What the fake sink has written: enough to answer the writer's lookups.
#[derive(Default)]
struct OnDisk {
    heads: Vec<u64>,
    streams: HashMap<StreamName, u64>,
    ids: HashMap<Uuid, KnownEvent>,
}

struct FakeSink {
    written: Arc<Mutex<OnDisk>>,
    flush: Flush,
}

impl LogSink for FakeSink {
    fn stream_head(&mut self, stream: &StreamName) -> Result<Option<u64>> {
        Ok(self.written.lock().unwrap().streams.get(stream).copied())
    }

    fn known_event(&mut self, id: Uuid) -> Result<Option<KnownEvent>> {
        Ok(self.written.lock().unwrap().ids.get(&id).cloned())
    }

    fn write(&mut self, group: &PlannedGroup, _flush_now: &mut dyn FnMut(Flush) -> Result<()>) -> Result<Vec<Flush>> {
        let mut written = self.written.lock().unwrap();
        for record in &group.records {
            let known =
                KnownEvent { position: record.position, revision: record.revision, stream: record.stream.to_string() };
            written.ids.insert(record.id, known);
        }
        written.streams.extend(group.stream_heads.iter().map(|(stream, revision)| (stream.clone(), *revision)));
        written.heads.push(group.head.position);
        Ok(vec![self.flush.clone()])
    }

    fn close(&mut self) -> Result<()> {
        Ok(())
    }
}

struct Harness {
    writer: Arc<WriterHandle>,
    published: Arc<Published>,
    gate: Arc<Gate>,
    written: Arc<Mutex<OnDisk>>,
}

impl Harness {
    fn start() -> Self {
        let gate = Arc::new(Gate::default());
        let written = Arc::new(Mutex::new(OnDisk::default()));
        let flush: Flush = {
            let gate = gate.clone();
            Arc::new(move || gate.flush())
        };
        let published = Arc::new(Published::new(Head::EMPTY));
        let sink = FakeSink { written: written.clone(), flush };
        let writer = Arc::new(WriterHandle::spawn(sink, published.clone()).unwrap());
        Harness { writer, published, gate, written }
    }

    fn append(&self, stream: &str, id: Uuid) -> tokio::task::JoinHandle<Result<AppendOutcome>> {
        let writer = self.writer.clone();
        let stream = StreamName::new(stream).unwrap();
        tokio::spawn(async move { writer.append(&stream, ExpectedRevision::Any, vec![prepared(id)], None).await })
    }

    fn groups_written(&self) -> usize {
        self.written.lock().unwrap().heads.len()
    }
}

fn prepared(id: Uuid) -> PreparedEvent {
    PreparedEvent {
        id,
        event_type: "Tested".into(),
        schema_version: 1,
        metadata: b"{}".to_vec(),
        data: b"{}".to_vec(),
        sealed: None,
    }
}

/// Polls `done` every millisecond until it holds, failing the test after ten seconds.
async fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Lets the runtime run whatever is ready, so that an acknowledgement sent by mistake would arrive.
async fn settle_briefly() {
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_group_is_written_while_the_flush_of_the_one_before_is_in_flight() {
    let h = Harness::start();
    let first = h.append("pipe-1", Uuid::new_v4());
    eventually("the first group's flush has begun", || h.gate.started() == 1).await;
    let second = h.append("pipe-1", Uuid::new_v4());
    eventually("the second group is written under the first one's flush", || h.groups_written() == 2).await;
    assert_eq!(h.gate.started(), 1, "the second group did not wait for a flush of its own before being written");
    h.gate.allow(2);
    assert_eq!(first.await.unwrap().unwrap().last_position, 1);
    assert_eq!(second.await.unwrap().unwrap().last_position, 2);
    assert_eq!(h.published.durable(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_group_is_acknowledged_in_order_and_only_after_its_own_flush() {
    let h = Harness::start();
    let first = h.append("pipe-1", Uuid::new_v4());
    eventually("the first group's flush has begun", || h.gate.started() == 1).await;
    let second = h.append("pipe-2", Uuid::new_v4());
    eventually("the second group is written", || h.groups_written() == 2).await;
    settle_briefly().await;
    assert!(!first.is_finished() && !second.is_finished(), "nothing is acknowledged before its flush");

    // Let the first flush through only: the second group still waits for its own.
    h.gate.allow(1);
    let first = first.await.unwrap().unwrap();
    assert_eq!((first.first_position, first.last_position), (1, 1));
    eventually("the second group's flush has begun", || h.gate.started() == 2).await;
    settle_briefly().await;
    assert!(!second.is_finished(), "the second group is not acknowledged by the first one's flush");

    h.gate.allow(1);
    let second = second.await.unwrap().unwrap();
    assert_eq!((second.first_position, second.last_position), (2, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_durable_head_never_passes_a_group_whose_flush_has_not_finished() {
    let h = Harness::start();
    let mut heads = h.published.watch();
    let first = h.append("pipe-1", Uuid::new_v4());
    eventually("the first group's flush has begun", || h.gate.started() == 1).await;
    let second = h.append("pipe-1", Uuid::new_v4());
    eventually("the second group is written", || h.groups_written() == 2).await;
    settle_briefly().await;
    assert_eq!(h.published.durable(), 0, "written is not durable");
    assert_eq!(h.published.head(), Head::EMPTY);
    assert!(!heads.has_changed().unwrap(), "watchers are not woken for a group still being flushed");

    h.gate.allow(1);
    first.await.unwrap().unwrap();
    assert_eq!(h.published.durable(), 1, "the head moves to the first group and no further");
    assert_eq!(*heads.borrow_and_update(), 1);
    eventually("the second group's flush has begun", || h.gate.started() == 2).await;
    settle_briefly().await;
    assert_eq!(h.published.durable(), 1);

    h.gate.allow(1);
    second.await.unwrap().unwrap();
    assert_eq!(h.published.durable(), 2);
    assert_eq!(h.published.head().position, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_flush_fails_its_group_and_every_later_one_and_nothing_after_it_is_acknowledged() {
    let h = Harness::start();
    let first_id = Uuid::new_v4();
    let first = h.append("pipe-1", first_id);
    eventually("the first group's flush has begun", || h.gate.started() == 1).await;
    // Written under the failing flush: a new event, and a retry of the first append that the
    // writer answers from the group still in flight.
    let second = h.append("pipe-2", Uuid::new_v4());
    eventually("the second group is written", || h.groups_written() == 2).await;
    let retry = h.append("pipe-1", first_id);
    settle_briefly().await;

    h.gate.fail_from_now_on();
    assert!(matches!(first.await.unwrap(), Err(Error::Poisoned)), "the group whose flush failed fails");
    assert!(matches!(second.await.unwrap(), Err(Error::Poisoned)), "a group written after it fails too");
    assert!(
        matches!(retry.await.unwrap(), Err(Error::Poisoned)),
        "a retry of the lost append is not reported as already appended"
    );
    assert_eq!(h.published.durable(), 0, "nothing after the failure is published");
    assert!(h.published.is_poisoned());

    let later = h.append("pipe-3", Uuid::new_v4()).await.unwrap();
    assert!(matches!(later, Err(Error::Poisoned)), "the store refuses further appends");
    assert_eq!(h.groups_written(), 2, "nothing more reaches the log");
    assert_eq!(h.published.durable(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_writer_flushes_and_acknowledges_what_was_written() {
    let h = Harness::start();
    let appends: Vec<_> = (0..20).map(|n| h.append(&format!("pipe-{}", n % 3), Uuid::new_v4())).collect();
    eventually("all twenty are written", || h.written.lock().unwrap().heads.last() == Some(&20)).await;
    let closing = {
        let writer = h.writer.clone();
        tokio::spawn(async move { writer.close().await })
    };
    settle_briefly().await;
    assert!(!closing.is_finished(), "closing waits for the flushes in flight");
    h.gate.allow(u64::MAX / 2);
    closing.await.unwrap().unwrap();
    for append in appends {
        append.await.unwrap().unwrap();
    }
    assert_eq!(h.published.durable(), 20);
    assert!(h.published.stats().commits <= h.gate.started());
}

// The syncer on its own: a round of written groups in, flushes run, the head published, replies out.

struct Sent {
    written: Written,
    answer: oneshot::Receiver<Result<AppendOutcome>>,
}

fn written(position: u64, flushes: Vec<Flush>) -> Sent {
    let (reply, answer) = oneshot::channel();
    let outcome = AppendOutcome {
        next_expected_revision: 0,
        first_position: position,
        last_position: position,
        already_appended: false,
    };
    let head = Head { position, hash: [position as u8; 32] };
    Sent { written: Written { flushes, appended: Some((head, 1)), replies: vec![(reply, Ok(outcome))] }, answer }
}

fn counting_flush(runs: &Arc<AtomicU64>, fails: bool) -> Flush {
    let runs = runs.clone();
    Arc::new(move || {
        runs.fetch_add(1, Ordering::SeqCst);
        if fails { Err(Error::storage("injected fdatasync failure")) } else { Ok(()) }
    })
}

fn settle(syncer: &mut Syncer, sent: Vec<Sent>) -> Vec<Result<AppendOutcome>> {
    let (round, answers): (Vec<_>, Vec<_>) = sent.into_iter().map(|s| (s.written, s.answer)).unzip();
    syncer.settle(round);
    answers
        .into_iter()
        .map(|mut answer| answer.try_recv().expect("every reply is sent when its round settles"))
        .collect()
}

#[test]
fn the_syncer_runs_a_flush_shared_by_a_round_once_and_publishes_the_last_head() {
    let published = Arc::new(Published::new(Head::EMPTY));
    let mut syncer = Syncer { published: published.clone(), failed: false };
    let runs = Arc::new(AtomicU64::new(0));
    let file = counting_flush(&runs, false);
    let answers = settle(&mut syncer, (1..=3).map(|p| written(p, vec![file.clone()])).collect());
    assert!(answers.iter().all(Result::is_ok));
    assert_eq!(runs.load(Ordering::SeqCst), 1, "one fdatasync for the three groups");
    assert_eq!(published.durable(), 3);
    assert_eq!(published.stats().commits, 1);
    assert_eq!(published.stats().events_appended, 3);
}

#[test]
fn after_a_failed_flush_the_syncer_fails_every_later_round_without_flushing_or_publishing() {
    let published = Arc::new(Published::new(Head::EMPTY));
    let mut syncer = Syncer { published: published.clone(), failed: false };
    let good_runs = Arc::new(AtomicU64::new(0));
    let bad_runs = Arc::new(AtomicU64::new(0));
    let good = counting_flush(&good_runs, false);
    let bad = counting_flush(&bad_runs, true);

    let answers = settle(&mut syncer, vec![written(1, vec![good.clone()])]);
    assert!(answers[0].is_ok());
    assert_eq!(published.durable(), 1);

    // A round whose first flush fails: the flush after it is not even tried.
    let answers = settle(&mut syncer, vec![written(2, vec![good.clone()]), written(3, vec![bad, good.clone()])]);
    assert!(answers.iter().all(|a| matches!(a, Err(Error::Poisoned))), "the whole round fails");
    assert_eq!(bad_runs.load(Ordering::SeqCst), 1);
    assert_eq!(good_runs.load(Ordering::SeqCst), 2, "the flushes of a round run in order and stop at the failure");
    assert!(published.is_poisoned());

    let answers = settle(&mut syncer, vec![written(4, vec![good.clone()])]);
    assert!(matches!(answers[0], Err(Error::Poisoned)), "a later round fails although its flush would succeed");
    assert_eq!(good_runs.load(Ordering::SeqCst), 2, "and its flush is not run");
    assert_eq!(published.durable(), 1, "the head stays at the last durable group");
}

#[test]
fn a_reply_that_appends_nothing_keeps_its_own_answer_and_waits_for_the_groups_before_it() {
    let published = Arc::new(Published::new(Head::EMPTY));
    let mut syncer = Syncer { published: published.clone(), failed: false };
    let runs = Arc::new(AtomicU64::new(0));
    let (reply, answer) = oneshot::channel();
    let conflict = Err(Error::WrongExpectedRevision {
        stream: "pipe-1".into(),
        expected: ExpectedRevision::NoStream,
        actual: Some(0),
    });
    let nothing =
        Sent { written: Written { flushes: Vec::new(), appended: None, replies: vec![(reply, conflict)] }, answer };
    let answers = settle(&mut syncer, vec![written(1, vec![counting_flush(&runs, false)]), nothing]);
    assert!(answers[0].is_ok());
    assert!(matches!(answers[1], Err(Error::WrongExpectedRevision { .. })));
    assert_eq!(published.durable(), 1);
    assert_eq!(published.stats().commits, 1, "a round without records of its own adds no flush");
}

#[test]
fn a_flush_the_writer_waits_for_runs_after_the_groups_before_it_and_its_failure_fails_the_ones_after() {
    let published = Arc::new(Published::new(Head::EMPTY));
    let (to_syncer, queue) = std::sync::mpsc::channel();
    let syncer = Syncer { published: published.clone(), failed: false };
    let thread = std::thread::spawn(move || syncer.run(queue));
    let runs = Arc::new(AtomicU64::new(0));
    let good = counting_flush(&runs, false);

    let first = written(1, vec![good.clone()]);
    to_syncer.send(super::ToSyncer::Written(first.written)).unwrap();
    let (done, outcome) = std::sync::mpsc::sync_channel(1);
    let durable_when_run = Arc::new(AtomicU64::new(u64::MAX));
    let failing_sync: Flush = {
        let (published, seen) = (published.clone(), durable_when_run.clone());
        Arc::new(move || {
            seen.store(published.durable(), Ordering::SeqCst);
            Err(Error::storage("injected fsync failure of a full segment"))
        })
    };
    to_syncer.send(super::ToSyncer::FlushNow(failing_sync, done)).unwrap();
    assert!(outcome.recv().unwrap().is_err(), "the writer hears of the failure");
    assert_eq!(durable_when_run.load(Ordering::SeqCst), 1, "the group before it was settled first");

    let later = written(2, vec![good.clone()]);
    to_syncer.send(super::ToSyncer::Written(later.written)).unwrap();
    drop(to_syncer);
    thread.join().unwrap();
    let mut first_answer = first.answer;
    let mut later_answer = later.answer;
    assert!(first_answer.try_recv().unwrap().is_ok());
    assert!(matches!(later_answer.try_recv().unwrap(), Err(Error::Poisoned)));
    assert_eq!(runs.load(Ordering::SeqCst), 1, "no flush runs after the failure");
    assert_eq!(published.durable(), 1);
}
