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
}

impl ComplaintRecord {
    /// The complainant's words, opened now: `None` once their key was destroyed (or when they
    /// cannot be read, which reads as erased).
    pub fn words(&self, store: &EventStore) -> Option<ComplaintPersonal> {
        self.personal.as_ref().and_then(|sealed| store.unseal(sealed).ok().flatten())
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
}

impl Persist for State {
    const VERSION: u32 = 1;
}

#[derive(Deserialize)]
struct Actor {
    actor: Option<Uuid>,
}

impl Fold for State {
    fn apply(&mut self, event: &RecordedEvent) -> heard_eventstore::Result<()> {
        let stream_id = event.stream.id();
        match event.stream.category() {
            COMPLAINT => {
                let Ok(id) = Uuid::parse_str(stream_id) else { return Ok(()) };
                let domain_event: Event = event.decode()?;
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
                        },
                    );
                    self.order.push(id);
                } else if let Some(record) = self.complaints.get_mut(&id) {
                    match &domain_event {
                        Event::Acknowledged { .. } => record.complaint.acknowledged_by_handler(by),
                        Event::OutcomeRecorded { on, .. } => record.closed_on = Some(*on),
                        _ => {}
                    }
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
