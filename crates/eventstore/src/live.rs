//! In-memory read models that follow the log.
//!
//! A service's state of the world ([`Fold`]) is rebuilt from `$all` when it starts and then
//! kept up to date by one follower task, in log order. Commands append through
//! [`LiveModel::append`], which waits until the model has applied the new events, so a
//! command's answer always reflects its own write.
//!
//! A service that keeps something beside its model in step with the log (the feedback
//! service's search index) gives [`LiveModel::start_with`] an [`AfterApply`]: the same follower
//! hands it each batch, in order, before the batch counts as applied.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::watch;

use crate::error::{Error, Result};
use crate::model_store::{ModelStore, NotLoaded, Persist};
use crate::store::EventStore;
use crate::types::{AppendOutcome, ExpectedRevision, NewEvent, RecordedEvent, StreamName};

/// A read model built by applying the log's events in order.
pub trait Fold: Default + Send + Sync + 'static {
    /// Applies one event of the global log; events the model does not need are ignored.
    fn apply(&mut self, event: &RecordedEvent) -> Result<()>;
}

/// What a service does with each batch the follower applies, beside its model.
///
/// [`take`](AfterApply::take) runs under the model's write lock, straight after the batch was
/// applied, and should only copy what it needs; [`after`](AfterApply::after) runs outside the
/// lock, before the batch counts as applied (so [`LiveModel::append`] waits for it too);
/// [`closed`](AfterApply::closed) runs once when the log closes, before the follower stops,
/// and says how far what it did is durable then.
pub trait AfterApply<S>: Send + 'static {
    /// What `take` copies out of the model for `after`.
    type Taken: Send;

    fn take(&mut self, state: &mut S, events: &[RecordedEvent]) -> Self::Taken;

    fn after(&mut self, taken: Self::Taken, last: u64) -> impl Future<Output = ()> + Send;

    fn closed(self) -> impl Future<Output = u64> + Send;

    /// The position up to which what `after` did is durable. A model is saved only at a
    /// position the hook has made durable, and a saved model past it is not loaded, so the two
    /// never disagree after a crash.
    fn durable(&self) -> u64 {
        u64::MAX
    }
}

/// Nothing beside the model.
impl<S> AfterApply<S> for () {
    type Taken = ();

    fn take(&mut self, _: &mut S, _: &[RecordedEvent]) {}

    async fn after(&mut self, (): (), _: u64) {}

    async fn closed(self) -> u64 {
        u64::MAX
    }
}

/// A [`Fold`] kept up to date by a follower task.
pub struct LiveModel<S> {
    inner: Arc<Inner<S>>,
}

impl<S> Clone for LiveModel<S> {
    fn clone(&self) -> Self {
        LiveModel { inner: self.inner.clone() }
    }
}

impl<S> std::fmt::Debug for LiveModel<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveModel")
            .field("name", &self.inner.name)
            .field("applied", &*self.inner.applied.borrow())
            .finish()
    }
}

struct Inner<S> {
    name: &'static str,
    store: EventStore,
    state: RwLock<S>,
    applied: watch::Sender<u64>,
    follower: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// Saves a model's state as at a position and hash (see [`LiveModel::start_kept`]).
type Saver<S> = Arc<dyn Fn(&S, u64, [u8; 32]) -> Result<u64> + Send + Sync>;

/// When a kept model is saved while it runs: once this many events follow the last save,
/// and at most every [`SAVE_AT_MOST_EVERY`]; and always when the log closes.
const SAVE_AFTER_EVENTS: u64 = 20_000;
const SAVE_AT_MOST_EVERY: Duration = Duration::from_secs(10);

impl<S: Fold> LiveModel<S> {
    /// Starts following the log and waits until the model has caught up with its head.
    pub async fn start(name: &'static str, store: EventStore, catch_up: Duration) -> Result<Self> {
        Self::start_with(name, store, catch_up, ()).await
    }

    /// Starts following the log with `hook` beside the model, and waits until both have
    /// caught up with its head.
    pub async fn start_with(
        name: &'static str,
        store: EventStore,
        catch_up: Duration,
        hook: impl AfterApply<S>,
    ) -> Result<Self> {
        Self::launch(name, store, catch_up, hook, S::default(), 0, None).await
    }

    async fn launch(
        name: &'static str,
        store: EventStore,
        catch_up: Duration,
        hook: impl AfterApply<S>,
        state: S,
        applied: u64,
        saver: Option<Saver<S>>,
    ) -> Result<Self> {
        let inner = Arc::new(Inner {
            name,
            store: store.clone(),
            state: RwLock::new(state),
            applied: watch::channel(applied).0,
            follower: Mutex::new(None),
        });
        store.following(name, inner.applied.subscribe());
        let follower = tokio::spawn(follow(inner.clone(), hook, saver, applied));
        *inner.follower.lock().unwrap_or_else(|p| p.into_inner()) = Some(follower);
        let model = LiveModel { inner };
        if !model.wait_for(store.head().position, catch_up).await {
            return Err(Error::CatchUp { model: name });
        }
        Ok(model)
    }

    /// Reads the model.
    pub fn read<T>(&self, f: impl FnOnce(&S) -> T) -> T {
        f(&self.inner.state.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Waits until the model has applied everything up to `position`; false after `timeout`.
    pub async fn wait_for(&self, position: u64, timeout: Duration) -> bool {
        let mut applied = self.inner.applied.subscribe();
        tokio::time::timeout(timeout, applied.wait_for(|at| *at >= position)).await.is_ok()
    }

    /// Waits until the model has applied everything in the log as it is now; false after
    /// `timeout`.
    pub async fn caught_up(&self, timeout: Duration) -> bool {
        self.wait_for(self.inner.store.head().position, timeout).await
    }

    /// The position applied so far, changing as the model moves on.
    pub fn watch_applied(&self) -> watch::Receiver<u64> {
        self.inner.applied.subscribe()
    }

    /// Appends, then waits (up to 10 s) until the model reflects the new events.
    pub async fn append(
        &self,
        stream: &StreamName,
        expected: ExpectedRevision,
        events: Vec<NewEvent>,
    ) -> Result<AppendOutcome> {
        let outcome = self.inner.store.append(stream, expected, events).await?;
        self.wait_for(outcome.last_position, Duration::from_secs(10)).await;
        Ok(outcome)
    }

    pub fn store(&self) -> &EventStore {
        &self.inner.store
    }

    /// Waits for the follower to stop after the store closed.
    pub async fn stopped(&self) {
        let follower = self.inner.follower.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(follower) = follower {
            let _ = follower.await;
        }
    }
}

impl<S: Fold + Persist> LiveModel<S> {
    /// Starts a model kept in `models`: from what it saved, when that can be trusted, and
    /// otherwise rebuilt from the log by the same follower (with its progress in the log and
    /// in [`EventStore::catch_up_progress`]). It is saved as it runs and when the log closes.
    pub async fn start_kept(
        name: &'static str,
        store: EventStore,
        catch_up: Duration,
        hook: impl AfterApply<S>,
        models: &ModelStore,
    ) -> Result<Self> {
        let (state, applied) = match models.load::<S>(name, &store).await? {
            Ok((state, at)) if at <= hook.durable() => (state, at),
            loaded => {
                let missing = loaded.as_ref().err() == Some(&NotLoaded::Missing);
                let why = match loaded {
                    Err(why) => why.to_string(),
                    Ok(_) => "what is beside it is not saved as far".to_owned(),
                };
                if !missing || store.head().position > 0 {
                    tracing::info!(model = name, events = store.head().position, reason = %why, "rebuilding the model from the log");
                }
                (S::default(), 0)
            }
        };
        if applied > 0 {
            tracing::info!(model = name, position = applied, "loaded the saved model");
        }
        let kept = models.clone();
        let saver: Saver<S> = Arc::new(move |state, position, hash| kept.save(name, state, position, hash));
        Self::launch(name, store, catch_up, hook, state, applied, Some(saver)).await
    }
}

async fn follow<S: Fold>(inner: Arc<Inner<S>>, mut hook: impl AfterApply<S>, saver: Option<Saver<S>>, start: u64) {
    let mut subscription = inner.store.subscribe_all(start + 1);
    let mut saved = Saved { position: start, at: std::time::Instant::now(), last: start, last_hash: None };
    let mut rebuilding = Progress::new(inner.name, start, inner.store.head().position);
    loop {
        let events = match subscription.next_batch(2048).await {
            Ok(events) => events,
            Err(Error::Closed) => {
                let durable = hook.closed().await;
                if let Some(saver) = &saver {
                    save(&inner, saver, &mut saved, durable).await;
                }
                return;
            }
            Err(error) => {
                tracing::error!(model = inner.name, %error, "cannot read the log; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        let Some(last) = events.last().map(|event| event.position) else { continue };
        let taken = {
            let mut state = inner.state.write().unwrap_or_else(|p| p.into_inner());
            for event in &events {
                if let Err(error) = state.apply(event) {
                    tracing::error!(model = inner.name, position = event.position, %error, "skipped an event");
                }
            }
            hook.take(&mut state, &events)
        };
        saved.last = last;
        saved.last_hash = events.last().map(|event| event.hash);
        hook.after(taken, last).await;
        inner.applied.send_replace(last);
        rebuilding.applied(last);
        if let Some(saver) = &saver
            && last - saved.position >= SAVE_AFTER_EVENTS
            && saved.at.elapsed() >= SAVE_AT_MOST_EVERY
        {
            save(&inner, saver, &mut saved, hook.durable()).await;
        }
    }
}

/// What the follower last saved, and what it has applied since.
struct Saved {
    position: u64,
    at: std::time::Instant,
    last: u64,
    last_hash: Option<[u8; 32]>,
}

/// Saves the model as at the last batch applied, unless nothing changed or the hook has not
/// made that batch durable yet. It is encoded on a blocking thread under the model's read lock
/// (readers go on; the follower waits for it, so the state saved is the state at `position`).
async fn save<S: Fold>(inner: &Arc<Inner<S>>, saver: &Saver<S>, saved: &mut Saved, durable: u64) {
    let (Some(hash), true) = (saved.last_hash, saved.last > saved.position && saved.last <= durable) else {
        return;
    };
    let position = saved.last;
    let started = std::time::Instant::now();
    let (model, saver) = (inner.clone(), saver.clone());
    let outcome = tokio::task::spawn_blocking(move || {
        let state = model.state.read().unwrap_or_else(|p| p.into_inner());
        saver(&state, position, hash)
    })
    .await
    .map_err(Error::storage)
    .and_then(|saved| saved);
    match outcome {
        Ok(bytes) => {
            let ms = started.elapsed().as_millis() as u64;
            tracing::debug!(model = inner.name, position, bytes, ms, "saved the model");
            *saved = Saved { position, at: std::time::Instant::now(), last: position, last_hash: Some(hash) };
        }
        Err(error) => {
            tracing::warn!(model = inner.name, %error, "cannot save the model; a start will apply the log from its last save");
        }
    }
}

/// Logs a long catch-up's progress every few seconds.
struct Progress {
    name: &'static str,
    target: u64,
    from: u64,
    last_said: std::time::Instant,
    started: std::time::Instant,
}

impl Progress {
    fn new(name: &'static str, from: u64, target: u64) -> Self {
        let now = std::time::Instant::now();
        Progress { name, target, from, last_said: now, started: now }
    }

    fn applied(&mut self, at: u64) {
        if self.target == 0 || at < self.from {
            return;
        }
        if at >= self.target {
            if self.target - self.from >= SAVE_AFTER_EVENTS {
                tracing::info!(
                    model = self.name,
                    events = self.target - self.from,
                    seconds = self.started.elapsed().as_secs_f64(),
                    "caught up with the log"
                );
            }
            self.target = 0;
        } else if self.last_said.elapsed() >= Duration::from_secs(5) {
            self.last_said = std::time::Instant::now();
            tracing::info!(model = self.name, applied = at, of = self.target, "catching up with the log");
        }
    }
}
