//! Heard's event store: the one source of truth.
//!
//! Every feedback item, advocacy case, complaint and decision is an append-only stream of
//! events. This crate stores them and guarantees (see `ARCHITECTURE.md` and the conformance
//! suite in [`conformance`]):
//!
//! - streams named `category-id` with gapless revisions from 0, optimistic concurrency
//!   ([`ExpectedRevision`]) and atomic batches;
//! - idempotent appends keyed by event id;
//! - a strictly increasing, gapless global position (from 1), assigned by one writer;
//! - durability: an append is acknowledged only after its batch is on disk, and concurrent
//!   appends share one flush (group commit);
//! - reads of a stream, of the global log (`$all`) and of a category; catch-up subscriptions
//!   ([`Subscription`]) that turn live without a gap or a duplicate;
//! - projections whose checkpoint commits atomically with their state ([`projection`]);
//! - schema versions with upcasting on read ([`Upcasters`]);
//! - a hash chain over the global log ([`verify_chain`]);
//! - personal fields encrypted with a key per person, kept outside the log, so that erasing a
//!   person destroys a key and leaves the chain verifiable ([`crypto`]); the keys live in one
//!   file of fixed-size slots where a destroyed key is overwritten in place ([`keyfile`]);
//! - named locks that hold across every process over one store ([`EventStore::exclusive`],
//!   [`exclusive`]).
//!
//! The embedded default backend keeps the log as append-only segment files
//! ([`SegmentBackend`]); a backend that keeps everything in sled ([`SledBackend`]) is the
//! measured alternative. Every backend implements [`Backend`] and passes the same conformance
//! suite.

pub mod backend;
pub mod backup;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod copy;
pub mod crypto;
pub mod erasure_register;
pub mod error;
pub mod exclusive;
pub mod keyfile;
pub mod latency;
pub mod live;
pub mod model_store;
pub mod postgres_backend;
pub mod postgres_keys;
pub mod projection;
pub mod record;
pub mod revision;
pub mod sealed;
pub mod segment_backend;
pub mod sled_backend;
mod sled_open;
pub mod store;
pub mod subscription;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod types;
pub mod upcast;
pub mod verify;
mod writer;

#[cfg(test)]
mod tests;

pub use backend::Backend;
pub use crypto::{KeyStore, SledKeyStore};
pub use error::{Error, Result};
pub use exclusive::Exclusive;
pub use keyfile::FileKeyStore;
pub use latency::{LatencyHistogram, LatencySnapshot};
pub use live::{AfterApply, Fold, LiveModel};
pub use model_store::{ModelStore, NotLoaded, Persist};
pub use postgres_backend::PostgresBackend;
pub use postgres_keys::PostgresKeyStore;
pub use projection::{KvProjection, KvTx, Projection, ProjectionRunner, SledProjection};
pub use revision::ExpectedRevision;
pub use sealed::Sealed;
pub use segment_backend::SegmentBackend;
pub use sled_backend::SledBackend;
pub use store::{BackendKind, EventStore};
pub use subscription::Subscription;
pub use types::{
    AppendOutcome, BackendStats, Direction, Head, NewEvent, Personal, PersonalFields, RecordedEvent, SealedPersonal,
    StreamName, StreamWindow, SubjectId,
};
pub use upcast::Upcasters;
pub use verify::{ChainReport, verify_chain};
