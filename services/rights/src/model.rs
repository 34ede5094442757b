//! The rights service's model of the log (`State`, the `Fold` its `LiveModel` runs): the
//! charters, every complaint (its fold, with who handles it, and its encrypted personal part) and the
//! reference data it needs from other services' events through `heard-contracts`: provider
//! names and which accounts are advocates.
//!
//! The model holds no complainant's words: a complaint's personal part stays [`Sealed`] under
//! its own key and is opened ([`ComplaintRecord::words`]) when a query reads it, so destroying
//! the key erases it at once, in memory and in the copy of the model kept on disk.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use heard_api::fold::{apply_reference, subject_of};
use heard_contracts::Event as _;
use heard_contracts::privacy::{ComplaintAttributed, ERASURE, PersonId, RecordKind, SubjectErased};
use heard_contracts::reference::Reference;
use heard_eventstore::{EventStore, Fold, Persist, RecordedEvent, Sealed, SubjectId};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::catalogue::{CHARTER, CharterPublished};
use crate::domain::complaint::{COMPLAINT, Complaint, Event};

/// What a complaint holds that could identify someone, encrypted with a key of its own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplaintPersonal {
    pub name: Option<String>,
    pub contact: Option<String>,
    pub what_happened: String,
    pub outcome_wanted: String,
}

/// A complaint's words as a handler wrote them for the provider, sealed under the complaint's
/// key like the complainant's own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedactedWords {
    pub text: String,
}

/// What a provider responder reads of a complaint's words (what happened, the outcome wanted):
/// nothing until a complaints handler has reviewed them for the provider.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProviderWords {
    /// No handler has reviewed the words yet: the provider reads none of them.
    #[default]
    AwaitingReview,
    /// A handler wrote the words for the provider: the provider reads those alone, and never the
    /// complainant's own again, even when they cannot be opened.
    Redacted,
    /// A handler found nothing to take out: the provider reads the words as written.
    AsWritten,
}

/// One step of a complaint, with its day: when the step names none (an extension, say), the
/// day it was recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// `received`, `acknowledged`, `period_agreed`, `early_resolution`, `investigation_opened`,
    /// `extended`, `paused`, `resumed`, `responded`, `outcome`, `escalated`, `delay_explained`,
    /// `learning_recorded`, `redacted_for_provider` or `released_to_provider`.
    pub step: String,
    pub on: Date,
    /// The facts of the step, and the handler's reasons: never the complainant's words.
    pub detail: Option<String>,
}

/// The step an event is, if it is one a person would want to see in their complaint's history.
fn step_of(event: &Event, recorded_on: Date) -> Option<Step> {
    let step = |name: &str, on: Date, detail: Option<String>| Some(Step { step: name.to_owned(), on, detail });
    match event {
        Event::Received { received_on, .. } => step("received", *received_on, None),
        Event::Acknowledged { on, method } => {
            let method = method.map(|method| serde_json::to_value(method).ok()?.as_str().map(str::to_owned));
            step("acknowledged", *on, method.flatten())
        }
        Event::PeriodAgreed { working_days } => {
            step("period_agreed", recorded_on, Some(format!("{working_days} working days")))
        }
        Event::EarlyResolutionChosen => step("early_resolution", recorded_on, None),
        Event::InvestigationOpened => step("investigation_opened", recorded_on, None),
        Event::Extended { working_days, reason, person_agreed } => {
            let agreed = match person_agreed {
                Some(true) => " (the person agreed)",
                Some(false) => " (the person did not agree)",
                None => "",
            };
            step("extended", recorded_on, Some(format!("{working_days} working days{agreed}: {reason}")))
        }
        Event::Paused { on, reason } => step("paused", *on, Some(reason.clone())),
        Event::Resumed { on } => step("resumed", *on, None),
        Event::ResponseIssued { on } => step("responded", *on, None),
        Event::OutcomeRecorded { outcome, on } => step("outcome", *on, Some(outcome.name().to_owned())),
        Event::Escalated { to, reference } => {
            let to = serde_json::to_value(to).ok().and_then(|to| to.as_str().map(str::to_owned)).unwrap_or_default();
            step("escalated", recorded_on, Some(format!("{to} {reference}")))
        }
        Event::DelayExplained { reason } => step("delay_explained", recorded_on, Some(reason.clone())),
        Event::LearningRecorded { statement } => step("learning_recorded", recorded_on, Some(statement.clone())),
        Event::Assigned { .. } => None,
        Event::RedactedForProvider => step("redacted_for_provider", recorded_on, None),
        Event::ReleasedToProvider => step("released_to_provider", recorded_on, None),
    }
}

/// A complaint as the model holds it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ComplaintRecord {
    pub complaint: Complaint,
    /// The short reference people quote on the phone, e.g. `EX-2026-0042`: the charter's first
    /// two letters, the year it was recorded, and its number in that year, in log order.
    pub reference: String,
    /// Still sealed under the complaint's key: read it with [`ComplaintRecord::words`]. `None`
    /// when the complaint came without one, or was erased before the model read it.
    pub personal: Option<Sealed<ComplaintPersonal>>,
    pub raised_by: Option<Uuid>,
    pub revision: u64,
    pub received_at_micros: i64,
    /// When the outcome was recorded.
    pub closed_on: Option<Date>,
    pub(crate) subject: Option<SubjectId>,
    /// The person the complainant was said to be (`ComplaintAttributed`), if anyone said so.
    pub person: Option<PersonId>,
    /// An erasure covered the complaint, or its person: its words are never opened again,
    /// whether or not the key is gone yet.
    pub erased: bool,
    /// The latest words a handler wrote for the provider, still sealed; `None` until there are
    /// any. Once there are, a provider reads these and never the complainant's.
    pub redacted: Option<Sealed<RedactedWords>>,
    /// What a provider reads of the words: none until a handler reviewed them, then the words
    /// written for them or, when there was nothing to take out, the words as written. Once a
    /// handler wrote words for the provider, it stays [`ProviderWords::Redacted`].
    pub provider_words: ProviderWords,
    /// Every step, in log order.
    pub steps: Vec<Step>,
}

impl ComplaintRecord {
    /// The complainant's words, opened now: `None` once an erasure covered the complaint or its
    /// key was destroyed (or when they cannot be read, which reads as erased).
    pub fn words(&self, store: &EventStore) -> Option<ComplaintPersonal> {
        if self.erased {
            return None;
        }
        self.personal.as_ref().and_then(|sealed| store.unseal(sealed).ok().flatten())
    }

    /// The words written for the provider, opened now: `None` when there are none, or once they
    /// were erased with the complaint.
    pub fn redacted_words(&self, store: &EventStore) -> Option<String> {
        if self.erased {
            return None;
        }
        let sealed = self.redacted.as_ref()?;
        store.unseal(sealed).ok().flatten().map(|words: RedactedWords| words.text)
    }

    /// Whether the complaint's words can no longer be read, so that nothing personal may be
    /// written about it.
    pub fn is_erased(&self, store: &EventStore) -> bool {
        self.erased || self.personal.is_none() || self.words(store).is_none()
    }

    pub fn facts(&self) -> heard_access::ComplaintFacts {
        heard_access::ComplaintFacts {
            complaint: self.complaint.id,
            provider: self.complaint.provider.clone(),
            relayed_by: self.complaint.advocate,
        }
    }

    pub fn resource(&self) -> heard_access::Resource {
        heard_access::Resource::Complaint(self.facts())
    }
}

/// What this service knows, in memory and saved between starts (see [`Persist`]).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    /// Charter id → its latest version.
    pub charters: BTreeMap<String, CharterPublished>,
    pub complaints: HashMap<Uuid, ComplaintRecord>,
    /// Complaint ids in the order received.
    pub order: Vec<Uuid>,
    /// Providers and accounts' roles (who is an advocate), from the shared fold.
    pub reference: Reference,
    /// Complaints recorded so far in each year (their references' numbers).
    numbered: HashMap<i16, u32>,
    /// Reference → complaint.
    by_reference: HashMap<String, Uuid>,
    /// Every person any service attributed a record to, and those erased.
    pub persons: heard_api::persons::Persons,
}

impl Persist for State {
    /// 2: complaints know their person, whether an erasure covered them, the words written for
    /// the provider and their steps; the model knows persons. 3: what the provider reads of the
    /// words (none until a handler reviewed them).
    const VERSION: u32 = 3;
}

/// The day an event was recorded, where Heard runs.
fn recorded_on(event: &RecordedEvent) -> Date {
    jiff::Timestamp::from_microsecond(event.recorded_at_micros)
        .map(|at| at.to_zoned(jiff::tz::TimeZone::system()).date())
        .unwrap_or_default()
}

#[derive(Deserialize)]
struct Actor {
    actor: Option<Uuid>,
}

impl Fold for State {
    fn apply(&mut self, event: &RecordedEvent) -> heard_eventstore::Result<()> {
        self.persons.apply(event)?;
        let stream_id = event.stream.id();
        match event.stream.category() {
            COMPLAINT if event.event_type == ComplaintAttributed::TYPE => {
                let attributed: ComplaintAttributed = event.decode()?;
                let erased = self.persons.is_erased(attributed.person);
                if let Ok(id) = Uuid::parse_str(stream_id)
                    && let Some(record) = self.complaints.get_mut(&id)
                {
                    record.person = Some(attributed.person);
                    record.erased |= erased;
                    record.revision = event.revision;
                }
            }
            ERASURE if event.event_type == SubjectErased::TYPE => {
                let erased: SubjectErased = event.decode()?;
                for record in self.complaints.values_mut() {
                    let id = record.complaint.id;
                    if erased.covers(RecordKind::Complaint, id)
                        || (erased.person.is_some() && record.person == erased.person)
                    {
                        record.erased = true;
                    }
                }
            }
            COMPLAINT => {
                let Ok(id) = Uuid::parse_str(stream_id) else { return Ok(()) };
                let domain_event: Event = event.decode()?;
                let step = step_of(&domain_event, recorded_on(event));
                let by = event.metadata_json().ok().and_then(|m| serde_json::from_value::<Actor>(m).ok()?.actor);
                if matches!(domain_event, Event::Received { .. }) {
                    let Some(complaint) = Complaint::from_events([&domain_event]) else { return Ok(()) };
                    let subject = subject_of(&event.personal);
                    let reference = self.next_reference(&complaint.charter, event.recorded_at_micros);
                    self.by_reference.insert(reference.clone(), id);
                    self.complaints.insert(
                        id,
                        ComplaintRecord {
                            reference,
                            complaint,
                            personal: event.sealed(),
                            raised_by: by,
                            revision: event.revision,
                            received_at_micros: event.recorded_at_micros,
                            closed_on: None,
                            subject,
                            person: None,
                            erased: false,
                            redacted: None,
                            provider_words: ProviderWords::AwaitingReview,
                            steps: step.into_iter().collect(),
                        },
                    );
                    self.order.push(id);
                } else if let Some(record) = self.complaints.get_mut(&id) {
                    match &domain_event {
                        Event::Acknowledged { .. } => record.complaint.acknowledged_by_handler(by),
                        Event::OutcomeRecorded { on, .. } => record.closed_on = Some(*on),
                        Event::RedactedForProvider => {
                            record.redacted = event.sealed();
                            record.provider_words = ProviderWords::Redacted;
                        }
                        Event::ReleasedToProvider if record.provider_words == ProviderWords::AwaitingReview => {
                            record.provider_words = ProviderWords::AsWritten;
                        }
                        _ => {}
                    }
                    record.steps.extend(step);
                    record.complaint.apply(&domain_event);
                    record.revision = event.revision;
                }
            }
            CHARTER if event.event_type == CharterPublished::TYPE => {
                let charter: CharterPublished = event.decode()?;
                self.charters.insert(charter.charter.clone(), charter);
            }
            _ => apply_reference(&mut self.reference, event)?,
        }
        Ok(())
    }
}

impl State {
    /// The next reference for a complaint under `charter` recorded at `micros`.
    fn next_reference(&mut self, charter: &str, micros: i64) -> String {
        let year =
            jiff::Timestamp::from_microsecond(micros).map_or(0, |at| at.to_zoned(jiff::tz::TimeZone::UTC).year());
        let number = self.numbered.entry(year).or_insert(0);
        *number += 1;
        let prefix: String =
            charter.chars().filter(char::is_ascii_alphabetic).take(2).collect::<String>().to_uppercase();
        format!("{prefix}-{year}-{number:04}")
    }

    /// The complaint a reference names, however it was typed (case and spaces ignored).
    pub fn by_reference(&self, reference: &str) -> Option<&ComplaintRecord> {
        let wanted: String = reference.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
        self.complaints.get(self.by_reference.get(&wanted)?)
    }

    /// The article numbers of a charter.
    pub fn articles_of(&self, charter: &str) -> BTreeSet<u32> {
        self.charters.get(charter).map(|c| c.articles.iter().map(|a| a.number).collect()).unwrap_or_default()
    }

    /// An article's label, e.g. "The right to speak out".
    pub fn article_label(&self, charter: &str, number: u32) -> Option<String> {
        let charter = self.charters.get(charter)?;
        charter.articles.iter().find(|a| a.number == number).map(|a| a.label.clone())
    }

    /// Complaints, newest first.
    pub fn newest_first(&self) -> impl Iterator<Item = &ComplaintRecord> {
        self.order.iter().rev().filter_map(|id| self.complaints.get(id))
    }
}
