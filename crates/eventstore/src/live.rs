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
/// [`closed`](AfterApply::closed) runs once when the log closes, before the follower stops.
pub trait AfterApply<S>: Send + 'static {
    /// What `take` copies out of the model for `after`.
    type Taken: Send;

    fn take(&mut self, state: &mut S, events: &[RecordedEvent]) -> Self::Taken;

    fn after(&mut self, taken: Self::Taken, last: u64) -> impl Future<Output = ()> + Send;

    fn closed(self) -> impl Future<Output = ()> + Send;
}

/// Nothing beside the model.
impl<S> AfterApply<S> for () {
    type Taken = ();

    fn take(&mut self, _: &mut S, _: &[RecordedEvent]) {}

    async fn after(&mut self, (): (), _: u64) {}

    async fn closed(self) {}
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
        let inner = Arc::new(Inner {
            name,
            store: store.clone(),
            state: RwLock::new(S::default()),
            applied: watch::channel(0).0,
            follower: Mutex::new(None),
        });
        let follower = tokio::spawn(follow(inner.clone(), hook));
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

async fn follow<S: Fold>(inner: Arc<Inner<S>>, mut hook: impl AfterApply<S>) {
    let mut subscription = inner.store.subscribe_all(1);
    loop {
        let events = match subscription.next_batch(2048).await {
            Ok(events) => events,
            Err(Error::Closed) => {
                hook.closed().await;
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
        hook.after(taken, last).await;
        inner.applied.send_replace(last);
    }
}
