//! Who a person (a data subject) is, as every service that attributes records folds it.

use std::collections::HashSet;

use heard_contracts::Event as _;
use heard_contracts::privacy::{CaseAttributed, ComplaintAttributed, FeedbackAttributed, PersonId, SubjectErased};
use heard_eventstore::RecordedEvent;
use serde::{Deserialize, Serialize};

use crate::erasure::refused_for_erased;
use crate::{ApiError, ApiResult};

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
            return Err(refused_for_erased("person"));
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
