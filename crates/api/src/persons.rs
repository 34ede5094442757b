//! Who a person (a data subject) is, as every service that attributes records folds it; who
//! holds each person's records ([`Holders`], what the policy knows of a person); and the one
//! rule for naming a person when saying a record is theirs ([`authorize_naming`]).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use async_graphql::Context;
use heard_access::{Action, PersonFacts, PersonRecord, Resource};
use heard_contracts::Event as _;
use heard_contracts::privacy::{
    CaseAssigned, CaseAttributed, ComplaintAttributed, FeedbackAttributed, PersonId, RecordKind, RecordRef,
    SubjectErased,
};
use heard_eventstore::RecordedEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
    /// Refused on `person` otherwise. Who may name them is [`authorize_naming`]'s to say.
    pub fn check(&self, person: PersonId) -> ApiResult<()> {
        if self.is_erased(person) {
            return Err(refused_for_erased("person"));
        }
        if !self.is_known(person) {
            return Err(unknown_person("person"));
        }
        Ok(())
    }

    /// What this service knows of `person`, named for a record of `record`'s kind, for
    /// [`authorize_naming`].
    pub fn named(&self, holders: &Holders, person: PersonId, record: PersonRecord) -> Named {
        Named { record, known: self.is_known(person), erased: self.is_erased(person), facts: holders.facts(person) }
    }
}

/// The answer to a person code Heard does not know, on `field`; a person the asker may not name
/// gets exactly this answer too.
pub fn unknown_person(field: &str) -> ApiError {
    ApiError::bad_input(field, "there is no such person; leave it out to say this is a person Heard has not met before")
}

/// A person someone names when saying a record is theirs, as a service's model knows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    /// The kind of record being said to be theirs.
    pub record: PersonRecord,
    /// Someone said a record is theirs before.
    pub known: bool,
    pub erased: bool,
    /// Who holds their records now.
    pub facts: PersonFacts,
}

/// The one rule for naming an existing person when saying a record is theirs (`logFeedback`
/// and `attributeFeedback`, `attributeCase`, `attributeComplaint`), after the record itself was
/// checked with its own rule: the person must be one Heard knows, the viewer must be allowed
/// [`Action::AttributeToPerson`] (they already act for the person, or nobody holds a record of
/// theirs of this kind yet), and the person must not be erased. A person the policy conceals
/// is answered on `field` exactly as a code Heard does not know, and the refusal is on the
/// access log: naming a code neither tells anyone whether it exists nor gives them a say over
/// records others hold for that person.
pub async fn authorize_naming(ctx: &Context<'_>, field: &str, named: Named) -> ApiResult<()> {
    if !named.known {
        return Err(unknown_person(field));
    }
    let resource = Resource::Attribution { person: named.facts, record: named.record };
    match crate::authorize(ctx, Action::AttributeToPerson, &resource).await {
        Err(ApiError::NotFound) => return Err(unknown_person(field)),
        other => other?,
    }
    if named.erased {
        return Err(refused_for_erased(field));
    }
    Ok(())
}

/// What is known about one attributed record: whose it is, and who holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    pub person: PersonId,
    /// A feedback item's hub.
    pub hub: Option<String>,
    /// The advocate a case is assigned to now.
    pub advocate: Option<Uuid>,
    /// The advocate who relayed a complaint.
    pub relayed_by: Option<Uuid>,
}

/// Who holds each person's records, from every service's attribution contract events
/// (`FeedbackAttributed`, `CaseAttributed`, `CaseAssigned` for attributed cases,
/// `ComplaintAttributed`): record → person (a record attributed again moves to its new person),
/// person → records, and the policy's [`PersonFacts`]. The privacy service judges a person's
/// rights with it and the attributing services judge who may name a person, so the two cannot
/// disagree. Opaque ids only.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Holders {
    records: BTreeMap<RecordRef, Held>,
    persons: HashMap<PersonId, BTreeSet<RecordRef>>,
}

impl Holders {
    /// Folds the attribution contract events of any service; `true` when `event` was one of them.
    pub fn apply(&mut self, event: &RecordedEvent) -> heard_eventstore::Result<bool> {
        let category = event.stream.category();
        let kind = event.event_type.as_str();
        if category == FeedbackAttributed::CATEGORY && kind == FeedbackAttributed::TYPE {
            let data: FeedbackAttributed = event.decode()?;
            let record = RecordRef { kind: RecordKind::FeedbackItem, id: data.item };
            self.attribute(record, Held { person: data.person, hub: Some(data.hub), advocate: None, relayed_by: None });
        } else if category == CaseAttributed::CATEGORY && kind == CaseAttributed::TYPE {
            let data: CaseAttributed = event.decode()?;
            let record = RecordRef { kind: RecordKind::Case, id: data.case };
            let held = Held { person: data.person, hub: None, advocate: Some(data.advocate), relayed_by: None };
            self.attribute(record, held);
        } else if category == CaseAssigned::CATEGORY && kind == CaseAssigned::TYPE {
            // Only attributed cases matter here; the case is the stream's id.
            if let Ok(case) = Uuid::parse_str(event.stream.id())
                && let Some(held) = self.records.get_mut(&RecordRef { kind: RecordKind::Case, id: case })
            {
                let data: CaseAssigned = event.decode()?;
                held.advocate = Some(data.advocate);
            }
        } else if category == ComplaintAttributed::CATEGORY && kind == ComplaintAttributed::TYPE {
            let data: ComplaintAttributed = event.decode()?;
            let record = RecordRef { kind: RecordKind::Complaint, id: data.complaint };
            let held = Held { person: data.person, hub: None, advocate: None, relayed_by: data.relayed_by };
            self.attribute(record, held);
        } else {
            return Ok(false);
        }
        Ok(true)
    }

    /// Says `record` is about `held.person`; a record said again to be someone else's moves.
    fn attribute(&mut self, record: RecordRef, held: Held) {
        let person = held.person;
        if let Some(before) = self.records.insert(record, held)
            && before.person != person
            && let Some(theirs) = self.persons.get_mut(&before.person)
        {
            theirs.remove(&record);
        }
        self.persons.entry(person).or_default().insert(record);
    }

    /// What is known about `record`, if it was attributed.
    pub fn held(&self, record: &RecordRef) -> Option<&Held> {
        self.records.get(record)
    }

    /// Whether any record is `person`'s now.
    pub fn has_records(&self, person: PersonId) -> bool {
        self.persons.get(&person).is_some_and(|records| !records.is_empty())
    }

    /// The person's records, in a stable order.
    pub fn records_of(&self, person: PersonId) -> Vec<RecordRef> {
        self.persons.get(&person).map(|records| records.iter().copied().collect()).unwrap_or_default()
    }

    /// What the policy needs to know about `person`: empty for a person Heard does not know,
    /// so that nobody may act for them (the same answer as a person held by someone else).
    pub fn facts(&self, person: PersonId) -> PersonFacts {
        let mut facts = PersonFacts {
            person: person.0,
            hubs: BTreeSet::new(),
            advocates: BTreeSet::new(),
            complained: false,
            relayed_by: BTreeSet::new(),
        };
        for record in self.persons.get(&person).into_iter().flatten() {
            let Some(held) = self.records.get(record) else { continue };
            match record.kind {
                RecordKind::FeedbackItem => facts.hubs.extend(held.hub.clone()),
                RecordKind::Case => facts.advocates.extend(held.advocate),
                RecordKind::Complaint => {
                    facts.complained = true;
                    facts.relayed_by.extend(held.relayed_by);
                }
            }
        }
        facts
    }
}
