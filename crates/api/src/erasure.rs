//! Erasure: the one path by which Heard forgets a person, or one record of theirs.
//!
//! Every service that erases (the privacy service at a person's request or when a retention
//! period ends, feedback when a speaker withdraws within six months) goes through [`erase`]:
//! 1. it reads each record's streams and collects every subject key their personal fields are
//!    sealed under (a record's streams are `CATEGORY-<id>` for each of
//!    [`RecordKind::categories`]);
//! 2. it appends one [`SubjectErased`] naming the records and keys, who asked and why, and
//!    nothing personal, on a stream of its own (`erasure-<id>`): for a person, an id derived
//!    from theirs (a UUID v5, so the person's code is not in the stream name), and for one
//!    record erased alone (a withdrawal, a retention period's end) an id derived from the
//!    record's; appended only if the stream is new, so two replicas erasing one person or one
//!    record at once give one erasure and one `CONFLICT`;
//! 3. it destroys the keys.
//!
//! If the process dies between 2 and 3, the privacy service's follower destroys the keys named
//! by every `SubjectErased` it folds ([`destroy_keys`]), on every start, so the erasure still
//! completes before Heard answers again. Destroying a key twice does nothing.

use heard_contracts::Event as _;
use heard_contracts::privacy::{ErasureReason, PersonId, RecordRef, SubjectErased};
use heard_eventstore::{EventStore, ExpectedRevision, NewEvent, StreamName, SubjectId};
use uuid::Uuid;

use crate::fold::subject_of;
use crate::{ApiError, ApiResult};

/// Erases `records` (of `person`, when a person's records are erased together): appends the
/// [`SubjectErased`] and destroys every key their personal fields were sealed under. Returns
/// the event as appended. Records with no streams (an id Heard never gave out) are skipped, so
/// an erasure never names a record that does not exist.
pub async fn erase(
    store: &EventStore,
    person: Option<PersonId>,
    records: &[RecordRef],
    asked_by: Option<Uuid>,
    reason: ErasureReason,
) -> ApiResult<SubjectErased> {
    let mut found = Vec::new();
    let mut subjects = Vec::new();
    for record in records {
        let mut exists = false;
        for category in record.kind.categories() {
            let stream = StreamName::of(category, record.id).map_err(ApiError::internal)?;
            let events = store.read_stream_to_end(&stream).await.map_err(ApiError::internal)?;
            exists |= !events.is_empty();
            for event in &events {
                if let Some(subject) = subject_of(&event.personal)
                    && !subjects.contains(&subject.0)
                {
                    subjects.push(subject.0);
                }
            }
        }
        if exists && !found.contains(record) {
            found.push(*record);
        }
    }
    let erased = SubjectErased { person, records: found, subjects, asked_by, reason };
    let mut event = NewEvent::new(SubjectErased::TYPE, SubjectErased::VERSION, &erased).map_err(ApiError::internal)?;
    if let Some(by) = asked_by {
        event = event.with_metadata(serde_json::json!({ "by": by }));
    }
    let stream = StreamName::of(SubjectErased::CATEGORY, erasure_id(person, records)).map_err(ApiError::internal)?;
    store.append(&stream, ExpectedRevision::NoStream, vec![event]).await.map_err(|error| match error {
        heard_eventstore::Error::WrongExpectedRevision { .. } => {
            ApiError::Conflict("this person's records have already been erased; there is nothing more to erase".into())
        }
        other => ApiError::internal(other),
    })?;
    destroy_keys(store, &erased).await?;
    Ok(erased)
}

/// The id of the stream an erasure is recorded on: one per person (derived, not their code),
/// one per record erased alone, or a fresh one for several records without a person.
fn erasure_id(person: Option<PersonId>, records: &[RecordRef]) -> Uuid {
    /// The namespace of erasure stream ids (a fixed random UUID).
    const ERASURES: Uuid = Uuid::from_u128(0x6c1f_0c2e_94a8_4d5b_9b0e_3f61_27d4_a9c3);
    match (person, records) {
        (Some(person), _) => Uuid::new_v5(&ERASURES, person.0.as_bytes()),
        (None, [record]) => Uuid::new_v5(&ERASURES, format!("{}:{}", record.kind.as_str(), record.id).as_bytes()),
        (None, _) => Uuid::new_v4(),
    }
}

/// Destroys every key an erasure names (again: destroying a key twice does nothing), on a
/// blocking thread: it syncs files, and may wait for a backup holding the backup keyring.
pub async fn destroy_keys(store: &EventStore, erased: &SubjectErased) -> ApiResult<()> {
    let subjects: Vec<SubjectId> = erased.subjects.iter().copied().map(SubjectId).collect();
    let store = store.clone();
    tokio::task::spawn_blocking(move || store.forget_subjects(&subjects))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(())
}

/// Whether an error from sealing personal fields says the subject was erased: new personal
/// text for an erased person is refused, with this answer on `field`.
pub fn refused_for_erased(field: &str) -> ApiError {
    ApiError::bad_input(field, "this person's records have been erased; nothing more can be recorded about them")
}
