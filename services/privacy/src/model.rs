//! The privacy service's model of the log (`State`, the `Fold` its `LiveModel` runs): which
//! records are about which person, what the policy needs to know about each person
//! ([`PersonFacts`]: the hubs holding their items, the advocates of their cases, whether they
//! complained and who relayed it), and every erasure.
//!
//! It learns all of this from the contract events other services append on their records'
//! streams (`FeedbackAttributed`, `CaseAttributed`, `CaseAssigned`, `ComplaintAttributed`) and
//! from `SubjectErased`. It holds opaque ids only, never a word anyone said.
//!
//! Beside the model runs [`DestroyKeys`], the hook that destroys the keys every `SubjectErased`
//! names as the follower applies it: an erasure whose process died after appending the event and
//! before destroying the keys completes when Heard next starts, before the model counts as
//! caught up (and so before Heard answers).

use std::collections::{BTreeSet, HashMap};

use heard_access::{Actor, CaseFacts, ComplaintFacts, Consent, FeedbackFacts, PersonFacts, Resource};
use heard_contracts::Event as _;
use heard_contracts::privacy::{PersonId, RecordKind, RecordRef, SubjectErased};
use heard_eventstore::{AfterApply, EventStore, Fold, Persist, RecordedEvent};
use serde::{Deserialize, Serialize};

pub use heard_api::persons::{Held, Holders};

/// One erasure, as the model keeps it (opaque ids only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureRecord {
    pub position: u64,
    pub at_micros: i64,
    pub erased: SubjectErased,
}

/// What this service knows, in memory and saved between starts (see [`Persist`]).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    /// Every attributed record, whose it is and who holds it: the same fold the attributing
    /// services judge who may name a person with.
    pub holders: Holders,
    /// Persons erased as a whole, and when (the first erasure).
    pub erased: HashMap<PersonId, i64>,
    /// Records erased, alone or with their person.
    pub erased_records: BTreeSet<RecordRef>,
    /// Every erasure, in log order.
    pub erasures: Vec<ErasureRecord>,
}

impl Persist for State {
    /// 2: who holds each record is `heard_api::persons::Holders`.
    const VERSION: u32 = 2;
}

impl Fold for State {
    fn apply(&mut self, event: &RecordedEvent) -> heard_eventstore::Result<()> {
        if self.holders.apply(event)? {
            return Ok(());
        }
        let category = event.stream.category();
        let kind = event.event_type.as_str();
        if category == SubjectErased::CATEGORY && kind == SubjectErased::TYPE {
            let erased: SubjectErased = event.decode()?;
            if let Some(person) = erased.person {
                self.erased.entry(person).or_insert(event.recorded_at_micros);
            }
            self.erased_records.extend(erased.records.iter().copied());
            self.erasures.push(ErasureRecord { position: event.position, at_micros: event.recorded_at_micros, erased });
        }
        Ok(())
    }
}

impl State {
    /// Whether Heard holds any record of `person` (or erased them).
    pub fn knows(&self, person: PersonId) -> bool {
        self.holders.has_records(person) || self.erased.contains_key(&person)
    }

    /// The person's records, in a stable order.
    pub fn records_of(&self, person: PersonId) -> Vec<RecordRef> {
        self.holders.records_of(person)
    }

    /// What the policy needs to know about `person`: empty for a person Heard does not know,
    /// so that nobody may act for them (the same answer as a person held by someone else).
    pub fn facts(&self, person: PersonId) -> PersonFacts {
        self.holders.facts(person)
    }

    /// When `person` was erased, if they were.
    pub fn erased_at(&self, person: PersonId) -> Option<i64> {
        self.erased.get(&person).copied()
    }

    /// Whether `actor` may see `record` under that record's own rule (`None`: the operator at
    /// the command line, who sees everything): an item in one of their hubs (the hub's view),
    /// a case assigned to them, a complaint whose complainant they may see (complaints
    /// handlers, the advocate who relayed it).
    pub fn visible_to(&self, record: &RecordRef, actor: Option<&Actor>) -> bool {
        let Some(actor) = actor else { return true };
        let Some(held) = self.holders.held(record) else { return false };
        match record.kind {
            RecordKind::FeedbackItem => {
                let Some(hub) = held.hub.clone() else { return false };
                let facts = FeedbackFacts {
                    item: record.id,
                    hub,
                    provider: None,
                    consent: Some(Consent::Hub),
                    shared: false,
                    safeguarding: None,
                };
                heard_access::feedback_view(actor, &facts) == Some(heard_access::FeedbackView::Hub)
            }
            RecordKind::Case => held.advocate.is_some_and(|advocate| {
                let resource = Resource::Case(CaseFacts { case: record.id, advocate });
                heard_access::may(actor, heard_access::Action::ViewCase, &resource).is_allowed()
            }),
            RecordKind::Complaint => {
                let resource = Resource::Complaint(ComplaintFacts {
                    complaint: record.id,
                    provider: String::new(),
                    relayed_by: held.relayed_by,
                });
                heard_access::may(actor, heard_access::Action::ViewComplainant, &resource).is_allowed()
            }
        }
    }
}

/// Destroys the keys of every `SubjectErased` the follower applies, before the batch counts as
/// applied. Destroying a key twice does nothing, so an erasure that already destroyed its keys
/// costs only a look. A key that cannot be destroyed (the key store failed) keeps the model from
/// being saved past that erasure, so the next start applies it, and tries, again.
pub struct DestroyKeys {
    store: EventStore,
    /// The position before the first erasure whose keys could not be destroyed.
    failed_before: Option<u64>,
}

impl DestroyKeys {
    pub fn new(store: EventStore) -> Self {
        DestroyKeys { store, failed_before: None }
    }
}

impl AfterApply<State> for DestroyKeys {
    type Taken = Vec<(u64, SubjectErased)>;

    fn take(&mut self, _: &mut State, events: &[RecordedEvent]) -> Self::Taken {
        events
            .iter()
            .filter(|event| {
                event.stream.category() == SubjectErased::CATEGORY && event.event_type == SubjectErased::TYPE
            })
            .filter_map(|event| event.decode::<SubjectErased>().ok().map(|erased| (event.position, erased)))
            .collect()
    }

    async fn after(&mut self, taken: Self::Taken, _: u64) {
        for (position, erased) in taken {
            if heard_api::erasure::destroy_keys(&self.store, &erased).await.is_err() {
                // The error was logged (with a reference, and no personal data) by heard-api.
                tracing::error!(position, "cannot destroy the keys of an erasure; the next start tries again");
                self.failed_before.get_or_insert(position.saturating_sub(1));
            }
        }
    }

    async fn closed(self) -> u64 {
        self.durable()
    }

    fn durable(&self) -> u64 {
        self.failed_before.unwrap_or(u64::MAX)
    }
}
