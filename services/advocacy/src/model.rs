//! The advocacy service's model of the log (`State`, the `Fold` its `LiveModel` runs): cases,
//! and what it needs from other services' events through `heard-contracts`: the themes,
//! providers and advocates (the shared reference fold) and the charters' articles.
//!
//! Each case event is stored as its non-personal part, with the personal part encrypted under
//! the client's own subject key; the model keeps which subject each client's fields are under.
//!
//! The model holds no client's words: a case is kept as its facts ([`Case`] with every personal
//! part `None`) beside its personal parts still [`Sealed`] ([`CaseWords`]). They are opened
//! ([`KeptCase::open`]) when a query or a command reads them, so destroying the client's key
//! erases them at once, in memory and in the copy of the model kept on disk.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Deref;

use heard_access::Role;
use heard_api::fold::{apply_reference, subject_of};
use heard_contracts::privacy::{CaseAssigned, CaseAttributed, ERASURE, PersonId, RecordKind, SubjectErased};
use heard_contracts::reference::Reference;
use heard_contracts::{Event as _, rights};
use heard_eventstore::{EventStore, Fold, Persist, RecordedEvent, Sealed, SubjectId};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::case::*;

/// The latest version of a charter of rights.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charter {
    pub name: String,
    pub version: u32,
    /// Article number → short label.
    pub articles: BTreeMap<u32, String>,
}

/// The charter whose articles cases cite, when it has been published.
pub const EXACT_CHARTER: &str = "exact";

/// The personal parts of a case's events, still sealed under the client's key, beside the
/// parts of its facts they belong to (`actions[i]` is the note of the case's `actions[i]`, and so
/// on). `None` where the event came without one (erased before the model read it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseWords {
    referral: Option<Sealed<ReferralPersonal>>,
    declined: Option<Sealed<DeclinedPersonal>>,
    actions: Vec<Option<Sealed<ActionPersonal>>>,
    closures: Vec<Option<Sealed<ClosedPersonal>>>,
    reopenings: Vec<Option<Sealed<ReopenedPersonal>>>,
}

/// A case as the model keeps it: its facts, and the client's words sealed.
///
/// It reads as its facts ([`Deref`] to [`Case`]), whose personal parts are always `None` here:
/// ask [`KeptCase::open`] for the words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptCase {
    facts: Case,
    words: CaseWords,
    /// The person the client was said to be (`CaseAttributed`), if anyone said so.
    pub person: Option<PersonId>,
    /// An erasure (`SubjectErased`) covered the case, or its client's person: its words are
    /// never opened again, whether or not the key is gone yet.
    pub erased: bool,
}

impl Deref for KeptCase {
    type Target = Case;

    fn deref(&self) -> &Case {
        &self.facts
    }
}

/// Opens one sealed part: `None` when there is none, when the client's key was destroyed, or
/// when it cannot be read (which the error would say without a word of it; the case then reads
/// as erased there).
fn open<T: DeserializeOwned>(store: &EventStore, sealed: &Option<Sealed<T>>) -> Option<T> {
    sealed.as_ref().and_then(|sealed| store.unseal(sealed).ok().flatten())
}

impl KeptCase {
    /// The case's facts (its personal parts are `None`).
    pub fn facts(&self) -> &Case {
        &self.facts
    }

    /// The case with the client's words, opened now; every part reads `None` once the client's
    /// key was destroyed, or once an erasure covered the case.
    pub fn open(&self, store: &EventStore) -> Case {
        let mut case = self.facts.clone();
        if self.erased {
            return case;
        }
        let words = &self.words;
        case.personal = open(store, &words.referral);
        if let Some((_, personal)) = &mut case.declined {
            *personal = open(store, &words.declined);
        }
        for ((_, personal), sealed) in case.actions.iter_mut().zip(&words.actions) {
            *personal = open(store, sealed);
        }
        for ((_, personal), sealed) in case.closures.iter_mut().zip(&words.closures) {
            *personal = open(store, sealed);
        }
        for ((_, personal), sealed) in case.reopenings.iter_mut().zip(&words.reopenings) {
            *personal = open(store, sealed);
        }
        case
    }

    /// The referral's words alone (who the client is and the issue), opened now.
    pub fn referral(&self, store: &EventStore) -> Option<ReferralPersonal> {
        if self.erased {
            return None;
        }
        open(store, &self.words.referral)
    }

    /// Whether the client's details can no longer be read (an erasure covered the case, or
    /// their key was destroyed), so that nothing personal may be written about them.
    pub fn is_erased(&self, store: &EventStore) -> bool {
        self.referral(store).is_none()
    }
}

/// What this service knows, in memory and saved between starts (see [`Persist`]).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    pub cases: HashMap<Uuid, KeptCase>,
    /// Case ids in the order they were referred (log order).
    pub order: Vec<Uuid>,
    /// Client → the subject their personal fields are encrypted under.
    subjects: HashMap<Uuid, SubjectId>,
    /// Providers, themes (with merges: a merged theme stays valid so old cases keep their
    /// label) and accounts' roles, from the shared fold.
    pub reference: Reference,
    /// Charter id → its latest version.
    pub charters: BTreeMap<String, Charter>,
    /// Every person any service attributed a record to, and those erased.
    pub persons: heard_api::persons::Persons,
    /// Who holds each person's records (from every service's attributions): whether someone
    /// naming a person may, see `heard_api::persons::authorize_naming`.
    pub holders: heard_api::persons::Holders,
}

impl Persist for State {
    /// 2: cases know their person and whether an erasure covered them; the model knows persons.
    /// 3: the model knows who holds each person's records.
    const VERSION: u32 = 3;
}

impl Fold for State {
    fn apply(&mut self, event: &RecordedEvent) -> heard_eventstore::Result<()> {
        self.persons.apply(event)?;
        self.holders.apply(event)?;
        match event.stream.category() {
            CASE => self.apply_case(event)?,
            ERASURE if event.event_type == SubjectErased::TYPE => self.apply_erasure(&event.decode()?),
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
        if event.event_type == heard_contracts::advocacy::CaseReferred::TYPE {
            let referred: Referred = event.decode()?;
            if let Some(subject) = subject_of(&event.personal) {
                self.subjects.insert(referred.client, subject);
            }
            if let Some(mut facts) = Case::from_events([&Event::Referred(referred, None)]) {
                facts.revision = event.revision;
                let words = CaseWords { referral: event.sealed(), ..CaseWords::default() };
                let kept = KeptCase { facts, words, person: None, erased: false };
                if self.cases.insert(id, kept).is_none() {
                    self.order.push(id);
                }
            }
            return Ok(());
        }
        if event.event_type == CaseAttributed::TYPE {
            let attributed: CaseAttributed = event.decode()?;
            let erased = self.persons.is_erased(attributed.person);
            if let Some(case) = self.cases.get_mut(&id) {
                case.person = Some(attributed.person);
                case.facts.revision = event.revision;
                case.erased |= erased;
            }
            return Ok(());
        }
        // Which of the case's words the event brings, if any.
        enum Words {
            None,
            Declined(Option<Sealed<DeclinedPersonal>>),
            Action(Option<Sealed<ActionPersonal>>),
            Closure(Option<Sealed<ClosedPersonal>>),
            Reopening(Option<Sealed<ReopenedPersonal>>),
        }
        let (domain_event, words) = match event.event_type.as_str() {
            "CaseAccepted" => (Event::Accepted(event.decode()?), Words::None),
            "CaseDeclined" => (Event::Declined(event.decode()?, None), Words::Declined(event.sealed())),
            "CaseActionRecorded" => (Event::ActionRecorded(event.decode()?, None), Words::Action(event.sealed())),
            "CaseConsentRecorded" => (Event::ConsentRecorded(event.decode()?), Words::None),
            "CaseClosed" => (Event::Closed(event.decode()?, None), Words::Closure(event.sealed())),
            "CaseReopened" => (Event::Reopened(event.decode()?, None), Words::Reopening(event.sealed())),
            assigned if assigned == CaseAssigned::TYPE => (Event::Assigned(event.decode()?), Words::None),
            _ => return Ok(()),
        };
        if let Some(case) = self.cases.get_mut(&id) {
            case.facts.apply(&domain_event);
            case.facts.revision = event.revision;
            match words {
                Words::None => {}
                Words::Declined(sealed) => case.words.declined = sealed,
                Words::Action(sealed) => case.words.actions.push(sealed),
                Words::Closure(sealed) => case.words.closures.push(sealed),
                Words::Reopening(sealed) => case.words.reopenings.push(sealed),
            }
        }
        Ok(())
    }

    /// Marks the cases an erasure covers, and every case of an erased person, as erased. A
    /// client's cases share one key, so every case of a client with a case covered goes too.
    fn apply_erasure(&mut self, erased: &SubjectErased) {
        let clients: HashSet<Uuid> = self
            .cases
            .values()
            .filter(|case| {
                erased.covers(RecordKind::Case, case.id) || (erased.person.is_some() && case.person == erased.person)
            })
            .map(|case| case.client)
            .collect();
        for case in self.cases.values_mut() {
            if clients.contains(&case.client) {
                case.erased = true;
            }
        }
    }

    /// The person a client was said to be, if anyone said so (their cases all carry it).
    pub fn person_of(&self, client: Uuid) -> Option<PersonId> {
        self.cases_in_order().filter(|case| case.client == client).find_map(|case| case.person)
    }

    /// Every case of a client, in referral order.
    pub fn cases_of(&self, client: Uuid) -> Vec<&KeptCase> {
        self.cases_in_order().filter(|case| case.client == client).collect()
    }

    /// The subject a client's personal fields are encrypted under (for erasure).
    pub fn subject(&self, client: Uuid) -> Option<SubjectId> {
        self.subjects.get(&client).copied()
    }

    /// Cases in the order they were referred.
    pub fn cases_in_order(&self) -> impl DoubleEndedIterator<Item = &KeptCase> {
        self.order.iter().filter_map(|id| self.cases.get(id))
    }

    /// The other cases of the same client, in referral order.
    pub fn linked_cases(&self, case: &Case) -> Vec<&KeptCase> {
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
