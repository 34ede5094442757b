//! The advocacy service's model of the log (`State`, the `Fold` its `LiveModel` runs): cases,
//! and what it needs from other services' events through `heard-contracts`: the themes,
//! providers and advocates (the shared reference fold) and the charters' articles.
//!
//! Each case event is stored as its non-personal part, with the personal part encrypted under
//! the client's own subject key; the model keeps which subject each client's fields are under.

use std::collections::{BTreeMap, HashMap};

use heard_access::Role;
use heard_api::fold::{apply_reference, subject_of};
use heard_contracts::reference::Reference;
use heard_contracts::{Event as _, rights};
use heard_eventstore::{Fold, RecordedEvent, SubjectId};
use uuid::Uuid;

use crate::domain::case::*;

/// The latest version of a charter of rights.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Charter {
    pub name: String,
    pub version: u32,
    /// Article number → short label.
    pub articles: BTreeMap<u32, String>,
}

/// The charter whose articles cases cite, when it has been published.
pub const EXACT_CHARTER: &str = "exact";

/// What this service knows, in memory.
#[derive(Debug, Default)]
pub struct State {
    pub cases: HashMap<Uuid, Case>,
    /// Case ids in the order they were referred (log order).
    pub order: Vec<Uuid>,
    /// Client → the subject their personal fields are encrypted under.
    subjects: HashMap<Uuid, SubjectId>,
    /// Providers, themes (with merges: a merged theme stays valid so old cases keep their
    /// label) and accounts' roles, from the shared fold.
    pub reference: Reference,
    /// Charter id → its latest version.
    pub charters: BTreeMap<String, Charter>,
}

impl Fold for State {
    fn apply(&mut self, event: &RecordedEvent) -> heard_eventstore::Result<()> {
        match event.stream.category() {
            CASE => self.apply_case(event)?,
            rights::CHARTER if event.event_type == rights::CharterPublished::TYPE => {
                let published: rights::CharterPublished = event.decode()?;
                let newer = self.charters.get(&published.charter).is_none_or(|known| published.version > known.version);
                if newer {
                    let articles =
                        published.articles.into_iter().map(|article| (article.number, article.label)).collect();
                    self.charters.insert(
                        published.charter,
                        Charter { name: published.name, version: published.version, articles },
                    );
                }
            }
            _ => apply_reference(&mut self.reference, event)?,
        }
        Ok(())
    }
}

impl State {
    fn apply_case(&mut self, event: &RecordedEvent) -> heard_eventstore::Result<()> {
        let Ok(id) = Uuid::parse_str(event.stream.id()) else { return Ok(()) };
        let domain_event = match event.event_type.as_str() {
            heard_contracts::advocacy::CaseReferred::TYPE => {
                let referred: Referred = event.decode()?;
                let personal: Option<ReferralPersonal> = event.personal_fields()?;
                if let Some(subject) = subject_of(&event.personal) {
                    self.subjects.insert(referred.client, subject);
                }
                if let Some(mut case) = Case::from_events([&Event::Referred(referred, personal)]) {
                    case.revision = event.revision;
                    if self.cases.insert(id, case).is_none() {
                        self.order.push(id);
                    }
                }
                return Ok(());
            }
            "CaseAccepted" => Event::Accepted(event.decode()?),
            "CaseDeclined" => Event::Declined(event.decode()?, event.personal_fields()?),
            "CaseActionRecorded" => Event::ActionRecorded(event.decode()?, event.personal_fields()?),
            "CaseConsentRecorded" => Event::ConsentRecorded(event.decode()?),
            "CaseClosed" => Event::Closed(event.decode()?, event.personal_fields()?),
            "CaseReopened" => Event::Reopened(event.decode()?, event.personal_fields()?),
            "CaseAssigned" => Event::Assigned(event.decode()?),
            _ => return Ok(()),
        };
        if let Some(case) = self.cases.get_mut(&id) {
            case.apply(&domain_event);
            case.revision = event.revision;
        }
        Ok(())
    }

    /// The subject a client's personal fields are encrypted under (for erasure).
    pub fn subject(&self, client: Uuid) -> Option<SubjectId> {
        self.subjects.get(&client).copied()
    }

    /// Cases in the order they were referred.
    pub fn cases_in_order(&self) -> impl DoubleEndedIterator<Item = &Case> {
        self.order.iter().filter_map(|id| self.cases.get(id))
    }

    /// The other cases of the same client, in referral order.
    pub fn linked_cases(&self, case: &Case) -> Vec<&Case> {
        self.cases_in_order().filter(|other| other.client == case.client && other.id != case.id).collect()
    }

    /// The articles cases may cite: the EXACT charter's, or every charter's when it is absent.
    pub fn articles(&self) -> BTreeMap<u32, String> {
        match self.charters.get(EXACT_CHARTER) {
            Some(exact) => exact.articles.clone(),
            None => {
                let mut articles = BTreeMap::new();
                for charter in self.charters.values() {
                    for (number, label) in &charter.articles {
                        articles.entry(*number).or_insert_with(|| label.clone());
                    }
                }
                articles
            }
        }
    }

    /// The reference data a new case is checked against.
    pub fn known(&self) -> Known {
        Known {
            themes: self.reference.themes.keys().cloned().collect(),
            providers: self.reference.providers.keys().cloned().collect(),
            articles: self.articles().into_keys().collect(),
            advocates: self.reference.holders(Role::Advocate),
        }
    }
}
