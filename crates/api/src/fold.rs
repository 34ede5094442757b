//! What every service's model does the same way while it folds the log.

use heard_contracts::reference::Reference;
use heard_eventstore::{Personal, RecordedEvent, SubjectId};

/// Applies an event to the shared reference-data fold; an event of a reference type whose data
/// does not decode is corrupt. Events of other types leave it as it is.
pub fn apply_reference(reference: &mut Reference, event: &RecordedEvent) -> heard_eventstore::Result<()> {
    reference
        .apply(event.stream.category(), event.stream.id(), &event.event_type, &event.data)
        .map_err(|error| event.corrupt(error))?;
    Ok(())
}

/// The subject whose key encrypts an event's personal fields, whether they were read in the
/// clear, still sealed or erased; `None` when the event carries none.
pub fn subject_of(personal: &Personal) -> Option<SubjectId> {
    match personal {
        Personal::Plain(plain) => Some(plain.subject),
        Personal::Sealed(sealed) => Some(sealed.subject),
        Personal::Erased { subject } => Some(*subject),
        Personal::None => None,
    }
}
