//! The vocabulary of the store: stream names, expected revisions, events going in and coming out.

use std::fmt;

use serde::Serialize;
use uuid::Uuid;

use crate::error::{Error, Result};
pub use crate::revision::ExpectedRevision;

/// A stream name of the form `category-id`, for example `feedback-0193…`.
///
/// The category is ASCII letters, digits and `_`, starting with a letter. The id is everything
/// after the first `-`: printable ASCII without spaces. Stream names are visible in logs and
/// metrics, so they must never contain personal data: use opaque ids.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamName(String);

const MAX_STREAM_NAME_LEN: usize = 200;

impl StreamName {
    /// Checks and wraps a stream name.
    pub fn new(name: impl Into<String>) -> Result<Self> {
        let name = name.into();
        let invalid = |reason: &str| Error::InvalidStreamName { reason: reason.to_owned() };
        if name.len() > MAX_STREAM_NAME_LEN {
            return Err(invalid("a stream name is at most 200 characters"));
        }
        let Some((category, id)) = name.split_once('-') else {
            return Err(invalid("a stream name looks like category-id"));
        };
        validate_category(category)?;
        if id.is_empty() {
            return Err(invalid("the id after the category must not be empty"));
        }
        if !id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid("the id may hold only printable ASCII without spaces"));
        }
        Ok(StreamName(name))
    }

    /// The stream for one entity of a category, e.g. `StreamName::of("feedback", id)`.
    pub fn of(category: &str, id: impl fmt::Display) -> Result<Self> {
        Self::new(format!("{category}-{id}"))
    }

    /// The part before the first `-`.
    pub fn category(&self) -> &str {
        self.0.split_once('-').map_or(&self.0, |(category, _)| category)
    }

    /// The part after the first `-`.
    pub fn id(&self) -> &str {
        self.0.split_once('-').map_or("", |(_, id)| id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks a category name on its own (for category reads and subscriptions).
pub fn validate_category(category: &str) -> Result<()> {
    let invalid = |reason: &str| Error::InvalidStreamName { reason: reason.to_owned() };
    let mut chars = category.chars();
    match chars.next() {
        Some(first) if first.is_ascii_alphabetic() => {}
        _ => return Err(invalid("the category must start with a letter")),
    }
    if category.len() > 64 || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(invalid("the category may hold only letters, digits and _ (at most 64)"));
    }
    Ok(())
}

impl fmt::Display for StreamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for StreamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StreamName({})", self.0)
    }
}

impl std::str::FromStr for StreamName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::new(s)
    }
}

/// An opaque id for a data subject: the person whose personal fields an event carries.
/// Each subject has its own encryption key; destroying it erases the person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct SubjectId(pub Uuid);

impl SubjectId {
    pub fn new() -> Self {
        SubjectId(Uuid::new_v4())
    }
}

impl Default for SubjectId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for SubjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An event on its way into the store.
#[derive(Clone, Debug)]
pub struct NewEvent {
    /// Unique per event; appending the same id twice is a no-op (idempotency key).
    pub id: Uuid,
    /// Past tense, e.g. `FeedbackLogged`.
    pub event_type: String,
    /// The schema version of `data`; upcasters bring old versions up to date on read.
    pub schema_version: u32,
    /// The non-personal fields, as JSON.
    pub data: serde_json::Value,
    /// Correlation ids and the acting account id. Never personal data.
    pub metadata: serde_json::Value,
    /// Personal fields, encrypted under the subject's key before they reach the log.
    pub personal: Option<PersonalFields>,
}

/// Fields of an event that identify a person, with the person they belong to.
#[derive(Clone, Debug, PartialEq)]
pub struct PersonalFields {
    pub subject: SubjectId,
    pub fields: serde_json::Value,
}

impl NewEvent {
    /// A new event with a fresh id, serialising `data` to JSON.
    pub fn new(event_type: impl Into<String>, schema_version: u32, data: &impl Serialize) -> Result<Self> {
        let data = serde_json::to_value(data)
            .map_err(|error| Error::invalid_event(format!("event data does not serialise: {error}")))?;
        Ok(NewEvent {
            id: Uuid::now_v7(),
            event_type: event_type.into(),
            schema_version,
            data,
            metadata: serde_json::Value::Null,
            personal: None,
        })
    }

    /// Uses a caller-chosen id (for idempotent retries across processes).
    pub fn with_id(mut self, id: Uuid) -> Self {
        self.id = id;
        self
    }

    pub fn with_metadata(mut self, metadata: serde_json::Value) -> Self {
        self.metadata = metadata;
        self
    }

    /// Attaches personal fields, which are encrypted with `subject`'s key.
    pub fn with_personal(mut self, subject: SubjectId, fields: &impl Serialize) -> Result<Self> {
        let fields = serde_json::to_value(fields)
            .map_err(|error| Error::invalid_event(format!("personal fields do not serialise: {error}")))?;
        self.personal = Some(PersonalFields { subject, fields });
        Ok(self)
    }
}

/// Personal fields as they come back from a read.
#[derive(Clone, Debug, PartialEq)]
pub enum Personal {
    /// The event carries no personal fields.
    None,
    /// Decrypted with the subject's key.
    Plain(PersonalFields),
    /// Still encrypted: raw reads, export and verification see this.
    Sealed(SealedPersonal),
    /// The subject's key has been destroyed: the person was erased.
    Erased { subject: SubjectId },
}

/// Personal fields encrypted with a subject's key, bound to the stream and event id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedPersonal {
    pub subject: SubjectId,
    pub nonce: [u8; 12],
    pub ciphertext: Vec<u8>,
}

/// An event as stored in the log.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedEvent {
    /// Position in the global log, from 1, gapless.
    pub position: u64,
    pub stream: StreamName,
    /// Revision within the stream, from 0, gapless.
    pub revision: u64,
    pub id: Uuid,
    pub event_type: String,
    pub schema_version: u32,
    /// Microseconds since the Unix epoch, assigned by the writer.
    pub recorded_at_micros: i64,
    /// JSON bytes.
    pub metadata: Vec<u8>,
    /// JSON bytes of the non-personal fields.
    pub data: Vec<u8>,
    pub personal: Personal,
    /// The personal fields as they are on disk, kept after decryption so that a read model can
    /// hold them sealed ([`RecordedEvent::sealed`]) rather than the words.
    pub sealed_personal: Option<SealedPersonal>,
    /// Hash of the previous event in the global log (zeros for position 1).
    pub prev_hash: [u8; 32],
    /// Hash of this event's content together with `prev_hash`.
    pub hash: [u8; 32],
}

impl RecordedEvent {
    /// Deserialises the non-personal data.
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.data).map_err(|error| {
            Error::corrupt(self.position, format!("{} data does not decode: {}", self.event_type, shape_error(&error)))
        })
    }

    /// The error for this event's data not having the shape a reader expects (decoded by the
    /// reader itself, e.g. through its event contract). `detail` must name no value.
    pub fn corrupt(&self, detail: impl std::fmt::Display) -> Error {
        Error::corrupt(self.position, detail.to_string())
    }

    /// The data as a JSON value.
    pub fn data_json(&self) -> Result<serde_json::Value> {
        self.decode()
    }

    /// The metadata as a JSON value.
    pub fn metadata_json(&self) -> Result<serde_json::Value> {
        serde_json::from_slice(&self.metadata).map_err(|error| {
            Error::corrupt(self.position, format!("metadata does not decode: {}", shape_error(&error)))
        })
    }

    /// Deserialises the decrypted personal fields; `None` when there are none or they were erased.
    pub fn personal_fields<T: serde::de::DeserializeOwned>(&self) -> Result<Option<T>> {
        match &self.personal {
            Personal::Plain(plain) => serde_json::from_value(plain.fields.clone()).map(Some).map_err(|error| {
                Error::corrupt(
                    self.position,
                    format!("personal fields do not decode into the expected shape ({})", shape_error(&error)),
                )
            }),
            _ => Ok(None),
        }
    }
}

/// What went wrong in decoding, without the value that did not fit: serde's own message quotes
/// it ("invalid type: string \"Sam…\""), and a value must never reach an error, and so a log.
/// Only a missing field is named (the name is the reader's, not the data's).
fn shape_error(error: &serde_json::Error) -> String {
    let message = error.to_string();
    if message.starts_with("missing field `") {
        let field = message.split('`').nth(1).unwrap_or_default();
        return format!("missing field `{field}`");
    }
    let at =
        if error.line() > 0 { format!(" at line {} column {}", error.line(), error.column()) } else { String::new() };
    format!("{:?} error{at}", error.classify())
}

/// Counters a backend keeps for `/metrics`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BackendStats {
    /// Events appended since the process started.
    pub events_appended: u64,
    /// Durable commits (each one fsync, shared by every append in its group).
    pub commits: u64,
    /// How long each durable commit took: the segment log's `fdatasync` of a file, sled's
    /// flush of a group, PostgreSQL's `COMMIT` of a group's transaction.
    pub commit_seconds: crate::latency::LatencySnapshot,
    /// How long each successful append took, from [`EventStore::append`](crate::EventStore::append)
    /// being called to its acknowledgement (durable). Kept by the store itself, so the same for
    /// every backend; a backend's own `stats` leaves it empty.
    pub append_seconds: crate::latency::LatencySnapshot,
}

/// What an append did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendOutcome {
    /// The stream's last revision after the append.
    pub next_expected_revision: u64,
    /// Global position of the first event of the batch.
    pub first_position: u64,
    /// Global position of the last event of the batch.
    pub last_position: u64,
    /// True when every event was already in the store (a retried batch): nothing was added.
    pub already_appended: bool,
}

/// Which way to read a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Forwards,
    Backwards,
}

/// Which events of a stream a read wants: up to `max` of them from `from_revision`
/// (inclusive) in `direction`. Backwards from `u64::MAX` starts at the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamWindow {
    pub from_revision: u64,
    pub direction: Direction,
    pub max: usize,
}

impl StreamWindow {
    /// The entries of the window, in the order read, from a stream's entries listed by revision.
    pub fn select<T: Copy>(&self, by_revision: &[T]) -> Vec<T> {
        match self.direction {
            Direction::Forwards => {
                let start = usize::try_from(self.from_revision).unwrap_or(usize::MAX).min(by_revision.len());
                by_revision[start..].iter().take(self.max).copied().collect()
            }
            Direction::Backwards => {
                let end = usize::try_from(self.from_revision)
                    .map_or(by_revision.len(), |r| r.saturating_add(1).min(by_revision.len()));
                by_revision[..end].iter().rev().take(self.max).copied().collect()
            }
        }
    }
}

/// The last event of the global log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    /// 0 when the log is empty.
    pub position: u64,
    /// The hash of the event at `position` (zeros when empty).
    pub hash: [u8; 32],
}

impl Head {
    pub const EMPTY: Head = Head { position: 0, hash: [0; 32] };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(data: serde_json::Value, personal: serde_json::Value) -> RecordedEvent {
        RecordedEvent {
            position: 7,
            stream: StreamName::new("feedback-1").unwrap(),
            revision: 0,
            id: Uuid::new_v4(),
            event_type: "FeedbackLogged".into(),
            schema_version: 1,
            recorded_at_micros: 0,
            metadata: br#"{"actor":"Sam Quigley 07700 900123"}"#.to_vec(),
            data: serde_json::to_vec(&data).unwrap(),
            personal: Personal::Plain(PersonalFields { subject: SubjectId::new(), fields: personal }),
            sealed_personal: None,
            prev_hash: [0; 32],
            hash: [0; 32],
        }
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Expected {
        count: u32,
        name: u32,
    }

    #[test]
    fn an_event_that_does_not_decode_says_where_but_never_quotes_the_value() {
        let value = "Sam Quigley 07700 900123";
        let drifted = event(serde_json::json!({ "count": value, "name": 1 }), serde_json::json!({ "name": value }));
        let errors = [
            drifted.decode::<Expected>().unwrap_err().to_string(),
            drifted.personal_fields::<Expected>().unwrap_err().to_string(),
            event(serde_json::json!({ "unknown": value }), serde_json::json!({}))
                .decode::<Expected>()
                .unwrap_err()
                .to_string(),
        ];
        for error in &errors {
            for word in ["Sam", "Quigley", "07700", "900123"] {
                assert!(!error.contains(word), "{error:?} quotes {word}");
            }
        }
        assert!(errors[0].contains("FeedbackLogged data does not decode"), "{}", errors[0]);
        assert!(errors[2].contains("missing field `count`"), "a missing field is named: {}", errors[2]);
    }
}
