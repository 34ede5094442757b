//! What every service's model does the same way while it folds the log.

use std::collections::HashSet;

use heard_contracts::Event as _;
use heard_contracts::privacy::{CaseAttributed, ComplaintAttributed, FeedbackAttributed, PersonId, SubjectErased};
use heard_contracts::reference::Reference;
use heard_eventstore::{Personal, RecordedEvent, SubjectId};
use serde::{Deserialize, Serialize};

use crate::{ApiError, ApiResult};

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

/// The people (data subjects) a service has heard of, from every service's attributions, and
/// those erased: what every service that attributes records folds the same way. An attribution
/// may only name a person someone already attributed a record to; an erased person gets nothing
/// new.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Persons {
    known: HashSet<PersonId>,
    erased: HashSet<PersonId>,
}

impl Persons {
    /// Folds the attribution and erasure contract events of any service; `true` when `event`
    /// was one of them.
    pub fn apply(&mut self, event: &RecordedEvent) -> heard_eventstore::Result<bool> {
        let category = event.stream.category();
        let person = match event.event_type.as_str() {
            FeedbackAttributed::TYPE if category == FeedbackAttributed::CATEGORY => {
                event.decode::<FeedbackAttributed>()?.person
            }
            CaseAttributed::TYPE if category == CaseAttributed::CATEGORY => event.decode::<CaseAttributed>()?.person,
            ComplaintAttributed::TYPE if category == ComplaintAttributed::CATEGORY => {
                event.decode::<ComplaintAttributed>()?.person
            }
            SubjectErased::TYPE if category == SubjectErased::CATEGORY => {
                if let Some(person) = event.decode::<SubjectErased>()?.person {
                    self.erased.insert(person);
                }
                return Ok(true);
            }
            _ => return Ok(false),
        };
        self.known.insert(person);
        Ok(true)
    }

    pub fn is_known(&self, person: PersonId) -> bool {
        self.known.contains(&person)
    }

    pub fn is_erased(&self, person: PersonId) -> bool {
        self.erased.contains(&person)
    }

    /// A person named by someone attributing a record: one Heard has heard of, and not erased.
    /// Refused on `person` otherwise.
    pub fn check(&self, person: PersonId) -> ApiResult<()> {
        if self.is_erased(person) {
            return Err(crate::erasure::refused_for_erased("person"));
        }
        if !self.is_known(person) {
            return Err(ApiError::bad_input(
                "person",
                "there is no such person; leave it out to say this is a person Heard has not met before",
            ));
        }
        Ok(())
    }
}
