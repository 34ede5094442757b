//! Which of a person's cases and complaints the identity service knows of, for the access log's
//! part of subject access ([`crate::held`]): folded with the directory from the attribution
//! events.

use std::collections::HashMap;

use heard_access::{CaseFacts, ComplaintFacts, Resource};
use heard_contracts::Event as _;
use heard_contracts::privacy::{CaseAssigned, CaseAttributed, ComplaintAttributed, PersonId};
use heard_eventstore::RecordedEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Which cases and complaints are about which person (opaque ids only).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct HeldRecords {
    /// Case → its person, and the advocate it is assigned to now.
    pub cases: HashMap<Uuid, (PersonId, Uuid)>,
    /// Complaint → its person, and the advocate who relayed it.
    pub complaints: HashMap<Uuid, (PersonId, Option<Uuid>)>,
}

impl HeldRecords {
    /// Folds the attribution events; every other event leaves it as it is.
    pub fn apply(&mut self, event: &RecordedEvent) -> heard_eventstore::Result<()> {
        let (category, kind) = (event.stream.category(), event.event_type.as_str());
        if category == CaseAttributed::CATEGORY && kind == CaseAttributed::TYPE {
            let data: CaseAttributed = event.decode()?;
            self.cases.insert(data.case, (data.person, data.advocate));
        } else if category == CaseAssigned::CATEGORY && kind == CaseAssigned::TYPE {
            if let Ok(case) = Uuid::parse_str(event.stream.id())
                && let Some((_, advocate)) = self.cases.get_mut(&case)
            {
                let data: CaseAssigned = event.decode()?;
                *advocate = data.advocate;
            }
        } else if category == ComplaintAttributed::CATEGORY && kind == ComplaintAttributed::TYPE {
            let data: ComplaintAttributed = event.decode()?;
            self.complaints.insert(data.complaint, (data.person, data.relayed_by));
        }
        Ok(())
    }

    /// The record `kind`/`id` names, if it is one of `person`'s: the policy's resource for it.
    pub(crate) fn resource_of(&self, person: PersonId, kind: &str, id: &str) -> Option<(Uuid, Resource)> {
        let id = Uuid::parse_str(id).ok()?;
        match kind {
            "case" => {
                let (theirs, advocate) = self.cases.get(&id)?;
                (*theirs == person).then_some((id, Resource::Case(CaseFacts { case: id, advocate: *advocate })))
            }
            "complaint" => {
                let (theirs, relayed_by) = self.complaints.get(&id)?;
                let facts = ComplaintFacts { complaint: id, provider: String::new(), relayed_by: *relayed_by };
                (*theirs == person).then_some((id, Resource::Complaint(facts)))
            }
            _ => None,
        }
    }
}
