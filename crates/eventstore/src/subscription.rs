//! Catch-up subscriptions.
//!
//! A subscription reads the log page by page from its position; once a read comes back empty
//! it waits on the durable head and reads again. Because positions are gapless and only durable
//! events are readable, the switch from catching up to live delivery can neither skip nor
//! repeat an event.

use std::collections::VecDeque;

use futures::Stream;
use tokio::sync::watch;

use crate::error::{Error, Result};
use crate::store::EventStore;
use crate::types::RecordedEvent;

const PAGE: usize = 1024;

/// A subscription to the global log, or to one category of it.
pub struct Subscription {
    store: EventStore,
    next_position: u64,
    category: Option<String>,
    buffer: VecDeque<RecordedEvent>,
    head: watch::Receiver<u64>,
    closed: watch::Receiver<bool>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription").field("next_position", &self.next_position).finish()
    }
}

/// Subscriptions are opened from the store; they live here so that the store need not know them.
impl EventStore {
    /// A catch-up subscription to the global log from `from_position` (inclusive) that turns
    /// live once it has caught up.
    pub fn subscribe_all(&self, from_position: u64) -> Subscription {
        Subscription::new(self.clone(), from_position, None)
    }

    /// A catch-up subscription to one category.
    pub fn subscribe_category(&self, category: &str, from_position: u64) -> Result<Subscription> {
        crate::types::validate_category(category)?;
        Ok(Subscription::new(self.clone(), from_position, Some(category.to_owned())))
    }
}

impl Subscription {
    fn new(store: EventStore, from_position: u64, category: Option<String>) -> Self {
        let head = store.watch_head();
        let closed = store.watch_closed();
        Subscription { store, next_position: from_position.max(1), category, buffer: VecDeque::new(), head, closed }
    }

    /// The next position this subscription will read from.
    pub fn next_position(&self) -> u64 {
        self.next_position
    }

    /// Up to `max` events, waiting until at least one is available.
    pub async fn next_batch(&mut self, max: usize) -> Result<Vec<RecordedEvent>> {
        loop {
            if !self.buffer.is_empty() {
                let take = self.buffer.len().min(max.max(1));
                return Ok(self.buffer.drain(..take).collect());
            }
            // Nothing is readable past the head: read only when it has moved past what this
            // subscription has read (a read that comes back empty costs a round trip on
            // PostgreSQL, and every follower would pay it after each event).
            if *self.head.borrow() >= self.next_position {
                self.fill().await?;
            }
            if self.buffer.is_empty() {
                let wanted = self.next_position;
                tokio::select! {
                    arrived = self.head.wait_for(|head| *head >= wanted) => { arrived.map_err(|_| Error::Closed)?; }
                    _ = self.closed.wait_for(|closed| *closed) => return Err(Error::Closed),
                }
            }
        }
    }

    /// The next event, waiting for it if need be.
    pub async fn next(&mut self) -> Result<RecordedEvent> {
        let mut one = self.next_batch(1).await?;
        one.pop().ok_or(Error::Closed)
    }

    /// Reads whatever is available now into the buffer without waiting.
    async fn fill(&mut self) -> Result<()> {
        match &self.category {
            None => {
                let page = self.store.read_all(self.next_position, PAGE).await?;
                if let Some(last) = page.last() {
                    self.next_position = last.position + 1;
                }
                self.buffer.extend(page);
            }
            Some(category) => {
                // Read the head first: every event of the category up to it is in the page.
                let head_before_read = *self.head.borrow();
                let page = self.store.read_category(category, self.next_position, PAGE).await?;
                match page.last() {
                    Some(last) => self.next_position = last.position + 1,
                    // Nothing more in this category up to the head: skip ahead.
                    None => self.next_position = self.next_position.max(head_before_read + 1),
                }
                self.buffer.extend(page);
            }
        }
        Ok(())
    }

    /// The subscription as a `Stream` (ends at the first error).
    pub fn into_stream(self) -> impl Stream<Item = Result<RecordedEvent>> + Send {
        futures::stream::unfold(Some(self), |state| async move {
            let mut subscription = state?;
            match subscription.next().await {
                Ok(event) => Some((Ok(event), Some(subscription))),
                Err(error) => Some((Err(error), None)),
            }
        })
    }
}
