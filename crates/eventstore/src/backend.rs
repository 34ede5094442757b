//! The storage seam. A backend stores already-sealed events and hands back raw records; the
//! [`EventStore`](crate::EventStore) facade does encryption, decryption and upcasting on top,
//! so every backend gets them the same way.

use async_trait::async_trait;
use tokio::sync::watch;

use std::sync::Arc;

use crate::crypto::KeyStore;
use crate::error::Result;
use crate::record::PreparedEvent;
use crate::types::{AppendOutcome, BackendStats, ExpectedRevision, Head, RecordedEvent, StreamName, StreamWindow};
use crate::writer::WriterHandle;

/// What every backend must provide (see the conformance suite).
///
/// Reads return only durable events: an event becomes visible when, and only when, its append
/// has been acknowledged.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Appends a batch atomically. Idempotent by event id.
    ///
    /// `sealed_with` is the key store whose keys sealed the batch's personal fields, if any
    /// were: the backend calls its [`KeyStore::make_durable`] after the batch is planned and
    /// before any of it is written, so that no event reaches the log (let alone is
    /// acknowledged or read) before its key is durable.
    async fn append(
        &self,
        stream: &StreamName,
        expected: ExpectedRevision,
        events: Vec<PreparedEvent>,
        sealed_with: Option<Arc<dyn KeyStore>>,
    ) -> Result<AppendOutcome>;

    /// Writes raw records another store recorded (as [`read_all`](Backend::read_all) returns
    /// them, personal fields sealed), exactly as they were there: the same position, stream,
    /// revision, id, type, time, metadata, data, ciphertext and chain hash. Each must come
    /// next, at the head's next position and its stream's next revision, and must chain to its
    /// own recorded hash; the first that does not is refused with an error saying why, and
    /// nothing after it is written. Durable when it returns. Only
    /// [`copy_store`](crate::copy::copy_store) calls it: services append through
    /// [`EventStore::append`](crate::EventStore::append), which never reaches it.
    async fn import(&self, events: Vec<RecordedEvent>) -> Result<()>;

    /// Reads the events of a stream in `window`.
    async fn read_stream(&self, stream: &StreamName, window: StreamWindow) -> Result<Vec<RecordedEvent>>;

    /// Reads up to `max` events of the global log from `from_position` (inclusive).
    async fn read_all(&self, from_position: u64, max: usize) -> Result<Vec<RecordedEvent>>;

    /// Reads up to `max` events of one category from `from_position` (inclusive).
    async fn read_category(&self, category: &str, from_position: u64, max: usize) -> Result<Vec<RecordedEvent>>;

    /// The stream's last revision, `None` when it does not exist.
    async fn stream_revision(&self, stream: &StreamName) -> Result<Option<u64>>;

    /// The durable head of the global log.
    fn head(&self) -> Head;

    /// Changes to the durable head position, for live subscriptions.
    fn watch_head(&self) -> watch::Receiver<u64>;

    fn stats(&self) -> BackendStats;

    /// Flushes and stops accepting appends.
    async fn close(&self) -> Result<()>;
}

/// The storage half of an embedded backend (segments or sled): it reads what the single writer
/// appended through its sink. [`Backend`] is implemented once for them all: appends go to the
/// writer, and the head and the counters are what the writer published.
#[async_trait]
pub(crate) trait EmbeddedLog: Send + Sync + 'static {
    /// The writer that appends to this log.
    fn writer(&self) -> &WriterHandle;

    async fn read_stream(&self, stream: &StreamName, window: StreamWindow) -> Result<Vec<RecordedEvent>>;

    async fn read_all(&self, from_position: u64, max: usize) -> Result<Vec<RecordedEvent>>;

    async fn read_category(&self, category: &str, from_position: u64, max: usize) -> Result<Vec<RecordedEvent>>;

    async fn stream_revision(&self, stream: &StreamName) -> Result<Option<u64>>;

    /// Flushes what the writer's sink leaves for later, once the writer has stopped.
    async fn flush_after_writer(&self) -> Result<()> {
        Ok(())
    }
}

#[async_trait]
impl<Log: EmbeddedLog> Backend for Log {
    async fn append(
        &self,
        stream: &StreamName,
        expected: ExpectedRevision,
        events: Vec<PreparedEvent>,
        sealed_with: Option<Arc<dyn KeyStore>>,
    ) -> Result<AppendOutcome> {
        self.writer().append(stream, expected, events, sealed_with).await
    }

    async fn import(&self, events: Vec<RecordedEvent>) -> Result<()> {
        self.writer().import(events).await
    }

    async fn read_stream(&self, stream: &StreamName, window: StreamWindow) -> Result<Vec<RecordedEvent>> {
        EmbeddedLog::read_stream(self, stream, window).await
    }

    async fn read_all(&self, from_position: u64, max: usize) -> Result<Vec<RecordedEvent>> {
        EmbeddedLog::read_all(self, from_position, max).await
    }

    async fn read_category(&self, category: &str, from_position: u64, max: usize) -> Result<Vec<RecordedEvent>> {
        EmbeddedLog::read_category(self, category, from_position, max).await
    }

    async fn stream_revision(&self, stream: &StreamName) -> Result<Option<u64>> {
        EmbeddedLog::stream_revision(self, stream).await
    }

    fn head(&self) -> Head {
        self.writer().published().head()
    }

    fn watch_head(&self) -> watch::Receiver<u64> {
        self.writer().published().watch()
    }

    fn stats(&self) -> BackendStats {
        self.writer().published().stats()
    }

    async fn close(&self) -> Result<()> {
        self.writer().close().await?;
        self.flush_after_writer().await
    }
}
