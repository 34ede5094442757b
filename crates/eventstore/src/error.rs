//! The one error type of the event store boundary.
//!
//! Messages never carry event data: only stream names (which by invariant hold no personal
//! data), positions, revisions and event ids.

use crate::revision::ExpectedRevision;

/// Everything that can go wrong when talking to the event store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A stream name that does not look like `category-id`.
    #[error("invalid stream name: {reason}")]
    InvalidStreamName { reason: String },

    /// An event that cannot be stored as given (empty batch, bad type name, duplicate id …).
    #[error("invalid event: {reason}")]
    InvalidEvent { reason: String },

    /// The stream was not in the state the caller expected.
    #[error(
        "wrong expected revision on stream {stream}: expected {expected}, actual {}",
        actual.map_or_else(|| "no stream".to_owned(), |revision| revision.to_string())
    )]
    WrongExpectedRevision {
        stream: String,
        expected: ExpectedRevision,
        /// The stream's actual last revision, `None` when the stream does not exist.
        actual: Option<u64>,
    },

    /// Some, but not all, of a batch's event ids were already appended, or they were appended
    /// to a different stream: this is not a retry of the same batch.
    #[error("event {event_id} was already appended as part of a different batch")]
    IdempotencyConflict { event_id: uuid::Uuid },

    /// Bytes on disk that do not decode or do not match their hash.
    #[error("corrupt event data at position {position}: {detail}")]
    Corrupt { position: u64, detail: String },

    /// Encrypting or decrypting personal fields failed (not: the key was erased).
    #[error("personal data could not be processed: {detail}")]
    Crypto { detail: String },

    /// New personal fields for a subject whose key was destroyed: the person was erased, and
    /// nothing more may be recorded about them under that subject. No event of the batch was
    /// appended.
    #[error("this person's records have been erased; nothing more can be recorded about them")]
    SubjectErased,

    /// The subject key file (or the old key store it replaces) holds bytes that cannot be
    /// trusted, in a way that a crash cannot explain: heard refuses to start rather than lose or
    /// invent keys. Never names a subject.
    #[error("the subject key file is damaged: {detail}")]
    KeyFile { detail: String },

    /// A backup file cannot be written or read as one: not a backup, a wrong passphrase, cut
    /// short or damaged. Never quotes the file's contents.
    #[error("backup: {detail}")]
    Backup { detail: String },

    /// An upcaster could not bring an old event to its current schema version.
    #[error("event type {event_type} version {version} could not be upcast: {detail}")]
    Upcast { event_type: String, version: u32, detail: String },

    /// The data directory is already open in another process.
    #[error("the data directory is in use by another heard process")]
    Locked,

    /// A write the disk refused (most often because it is full) and that the store undid:
    /// nothing of the batch is in the log, everything before it is, and the store takes writes
    /// again as soon as the disk does.
    #[error("nothing was written: the disk refused the write and it was undone ({detail})")]
    NotWritten { detail: String },

    /// The store refuses writes after a write it could not make durable; restart to recover.
    #[error("the event store stopped accepting writes after a failed disk write; restart heard")]
    Poisoned,

    /// The store has been shut down.
    #[error("the event store is closed")]
    Closed,

    /// A read model did not catch up with the log in time when starting.
    #[error("the {model} read model did not catch up with the log")]
    CatchUp { model: &'static str },

    /// Anything else the storage engine reports: disk full, I/O errors.
    #[error("storage error: {detail}")]
    Storage { detail: String },
}

impl Error {
    pub(crate) fn storage(error: impl std::fmt::Display) -> Self {
        Error::Storage { detail: error.to_string() }
    }

    pub(crate) fn corrupt(position: u64, detail: impl Into<String>) -> Self {
        Error::Corrupt { position, detail: detail.into() }
    }

    pub(crate) fn invalid_event(reason: impl Into<String>) -> Self {
        Error::InvalidEvent { reason: reason.into() }
    }
}

impl From<sled::Error> for Error {
    fn from(error: sled::Error) -> Self {
        match &error {
            sled::Error::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock => Error::Locked,
            sled::Error::Io(io) if io.to_string().contains("lock") => Error::Locked,
            sled::Error::Corruption { .. } => Error::Corrupt { position: 0, detail: error.to_string() },
            _ => Error::storage(error),
        }
    }
}

/// The store's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
