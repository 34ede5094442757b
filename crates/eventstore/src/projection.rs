//! Projections: read models built from the log, each with a checkpoint that commits atomically
//! with its own state, so a crash can never leave a projection that applied an event twice or
//! skipped one.
//!
//! A [`Projection`] owns its state and its checkpoint. [`SledProjection`] adapts a simple
//! key-value projection ([`KvProjection`]) to a sled tree, writing state and checkpoint in one
//! batch. The [`ProjectionRunner`] feeds it from a catch-up subscription.

use std::collections::BTreeMap;

use tokio::sync::watch;

use crate::error::{Error, Result};
use crate::store::EventStore;
use crate::types::RecordedEvent;

/// A read model fed from the global log.
pub trait Projection: Send + 'static {
    /// A stable name (used for its storage and in logs).
    fn name(&self) -> &str;
    /// The position of the last event applied (0 for none), as stored with the state.
    fn checkpoint(&self) -> Result<u64>;
    /// Applies events in log order and stores the new checkpoint atomically with the state.
    fn apply(&mut self, events: &[RecordedEvent]) -> Result<()>;
}

/// A projection whose state is key-value pairs in one sled tree.
pub trait KvProjection: Send + 'static {
    fn name(&self) -> &str;
    /// Applies one event, reading and writing state through `tx`.
    fn apply(&mut self, event: &RecordedEvent, tx: &mut KvTx<'_>) -> Result<()>;
}

/// Staged writes of one batch, readable before they commit.
pub struct KvTx<'a> {
    tree: &'a sled::Tree,
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl KvTx<'_> {
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        if let Some(staged) = self.writes.get(key) {
            return Ok(staged.clone());
        }
        Ok(self.tree.get(key)?.map(|value| value.to_vec()))
    }

    pub fn insert(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        let key = key.into();
        debug_assert!(key.first() != Some(&0), "keys starting with 0x00 are reserved");
        self.writes.insert(key, Some(value.into()));
    }

    pub fn remove(&mut self, key: impl Into<Vec<u8>>) {
        self.writes.insert(key.into(), None);
    }
}

const CHECKPOINT_KEY: &[u8] = b"\0checkpoint";

/// A [`KvProjection`] stored in its own sled tree together with its checkpoint.
pub struct SledProjection<P> {
    tree: sled::Tree,
    inner: P,
}

impl<P: KvProjection> SledProjection<P> {
    /// Opens the projection's tree (named after it) in `db`.
    pub fn open(db: &sled::Db, inner: P) -> Result<Self> {
        let tree = db.open_tree(format!("projection:{}", inner.name()))?;
        Ok(SledProjection { tree, inner })
    }

    /// The projection's state, for queries.
    pub fn tree(&self) -> &sled::Tree {
        &self.tree
    }

    /// Deletes the state and checkpoint, so the next run rebuilds from the start of the log.
    pub fn reset(&self) -> Result<()> {
        self.tree.clear()?;
        Ok(())
    }
}

impl<P: KvProjection> Projection for SledProjection<P> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn checkpoint(&self) -> Result<u64> {
        match self.tree.get(CHECKPOINT_KEY)? {
            None => Ok(0),
            Some(bytes) => bytes
                .as_ref()
                .try_into()
                .map(u64::from_be_bytes)
                .map_err(|_| Error::corrupt(0, "a projection checkpoint has the wrong length")),
        }
    }

    fn apply(&mut self, events: &[RecordedEvent]) -> Result<()> {
        let Some(last) = events.last() else {
            return Ok(());
        };
        let mut tx = KvTx { tree: &self.tree, writes: BTreeMap::new() };
        for event in events {
            self.inner.apply(event, &mut tx)?;
        }
        let mut batch = sled::Batch::default();
        for (key, value) in tx.writes {
            match value {
                Some(value) => batch.insert(key, value),
                None => batch.remove(key),
            }
        }
        batch.insert(CHECKPOINT_KEY, &last.position.to_be_bytes());
        self.tree.apply_batch(batch)?;
        Ok(())
    }
}

/// Runs a projection: catches up from its checkpoint, then follows the log live.
pub struct ProjectionRunner {
    position: watch::Receiver<u64>,
    task: tokio::task::JoinHandle<Result<()>>,
}

impl std::fmt::Debug for ProjectionRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProjectionRunner").field("position", &*self.position.borrow()).finish()
    }
}

/// How many events a projection applies (and commits) at a time at most.
const PROJECTION_BATCH: usize = 1024;

impl ProjectionRunner {
    /// Starts the projection on the tokio runtime.
    pub fn spawn<P: Projection>(store: EventStore, mut projection: P) -> Result<Self> {
        let start = projection.checkpoint()?;
        let (position_tx, position) = watch::channel(start);
        let task = tokio::spawn(async move {
            let mut subscription = store.subscribe_all(start + 1);
            loop {
                let events = subscription.next_batch(PROJECTION_BATCH).await?;
                let name = projection.name().to_owned();
                // Projections do blocking I/O; keep it off the async workers.
                projection = tokio::task::spawn_blocking(move || projection.apply(&events).map(|()| projection))
                    .await
                    .map_err(Error::storage)?
                    .inspect_err(|error| tracing::error!(projection = %name, %error, "projection stopped"))?;
                position_tx.send_replace(subscription.next_position() - 1);
            }
        });
        Ok(ProjectionRunner { position, task })
    }

    /// The position of the last event applied.
    pub fn position(&self) -> u64 {
        *self.position.borrow()
    }

    /// Waits until the projection has applied everything up to `position`.
    pub async fn wait_for(&self, position: u64) -> Result<()> {
        let mut receiver = self.position.clone();
        receiver.wait_for(|applied| *applied >= position).await.map(|_| ()).map_err(|_| Error::Closed)
    }

    /// Stops the projection.
    pub fn stop(self) {
        self.task.abort();
    }
}

/// Applies the whole log to a projection in the current task (for rebuilds and benchmarks).
/// Returns the number of events applied.
pub async fn rebuild<P: Projection>(store: &EventStore, projection: &mut P) -> Result<u64> {
    let mut from = projection.checkpoint()? + 1;
    let mut applied = 0;
    loop {
        let events = store.read_all(from, PROJECTION_BATCH * 4).await?;
        let Some(last) = events.last() else {
            return Ok(applied);
        };
        from = last.position + 1;
        applied += events.len() as u64;
        projection.apply(&events)?;
    }
}
