//! In-memory read models that follow the log.
//!
//! A service's state of the world ([`Fold`]) is rebuilt from `$all` when it starts and then
//! kept up to date by one follower task, in log order. Commands append through
//! [`LiveModel::append`], which waits until the model has applied the new events, so a
//! command's answer always reflects its own write.

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
        let inner = Arc::new(Inner {
            name,
            store: store.clone(),
            state: RwLock::new(S::default()),
            applied: watch::channel(0).0,
            follower: Mutex::new(None),
        });
        let follower = tokio::spawn(follow(inner.clone()));
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

async fn follow<S: Fold>(inner: Arc<Inner<S>>) {
    let mut subscription = inner.store.subscribe_all(1);
    loop {
        let events = match subscription.next_batch(2048).await {
            Ok(events) => events,
            Err(Error::Closed) => return,
            Err(error) => {
                tracing::error!(model = inner.name, %error, "cannot read the log; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        let Some(last) = events.last().map(|event| event.position) else { continue };
        {
            let mut state = inner.state.write().unwrap_or_else(|p| p.into_inner());
            for event in &events {
                if let Err(error) = state.apply(event) {
                    tracing::error!(model = inner.name, position = event.position, %error, "skipped an event");
                }
            }
        }
        inner.applied.send_replace(last);
    }
}
