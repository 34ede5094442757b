//! Commands and queries of the rights service, over its model of the log ([`crate::model`]),
//! kept in memory and on disk between starts. It never calls another service.

use std::collections::BTreeMap;
use std::time::Duration;

use heard_api::erasure::refused_for_erased;
use heard_api::{ApiError, ApiResult, idempotent};
use heard_contracts::Event as _;
use heard_contracts::privacy::{ComplaintAttributed, PersonId, RecordKind, RecordRef, RetentionRules};
use heard_contracts::rollup::count_in_every_group;
use heard_eventstore::{EventStore, ExpectedRevision, LiveModel, NewEvent, StreamName, SubjectId};
use heard_workdays::clock::Reading;
use heard_workdays::{Calendar, Period};
use jiff::ToSpan;
use jiff::civil::Date;
use uuid::Uuid;

use crate::domain::Rejection;
use crate::domain::catalogue::{CHARTER, CharterPublished, exact_bill_of_rights};
use crate::domain::complaint::{self, COMPLAINT, Complainant, Complaint, Event, Outcome, Route};

pub use crate::model::{ComplaintPersonal, ComplaintRecord, ProviderWords, RedactedWords, State, Step};
pub use heard_api::persons::Persons;

/// The longest version of a complaint's words written for the provider, in characters (as long
/// as what happened may be).
pub const MAX_REDACTED_CHARS: usize = 5000;

/// The charter complaints cite unless they say otherwise.
pub const DEFAULT_CHARTER: &str = "exact";

/// What a new complaint says.
#[derive(Clone, Debug)]
pub struct NewComplaint {
    pub charter: String,
    pub provider: String,
    pub service: Option<String>,
    pub articles: Vec<u32>,
    pub complainant: Complainant,
    pub name: Option<String>,
    pub contact: Option<String>,
    pub route: Route,
    /// The advocate who relayed it; for a relayed complaint raised by an advocate, themselves.
    pub advocate: Option<Uuid>,
    pub what_happened: String,
    pub outcome_wanted: String,
    pub received_on: Date,
}

/// A complaint that needs attention now: overdue, due within two working days, or open for
/// six months without a recorded explanation.
#[derive(Clone, Debug)]
pub struct Attention {
    pub record: ComplaintRecord,
    pub reading: Reading,
    /// Open six months or more and no explanation recorded yet.
    pub explanation_missing: bool,
}

impl Attention {
    /// Sort key: most urgent first (fewest working days left; a missing explanation counts
    /// as overdue), then the oldest.
    fn urgency(&self) -> (i64, Date) {
        let left = self.reading.working_days_left.unwrap_or(i64::MAX);
        let left = if self.explanation_missing { left.min(-1) } else { left };
        (left, self.record.complaint.clock.received)
    }
}

/// The rights service.
#[derive(Clone, Debug)]
pub struct RightsService {
    model: LiveModel<State>,
    calendar: Calendar,
}

fn text(field: &str, value: &str, max: usize, required: bool) -> ApiResult<Option<String>> {
    let value = crate::domain::clean(field, value).map_err(ApiError::from)?;
    let value = value.trim();
    if value.is_empty() {
        return if required { Err(ApiError::bad_input(field, "this cannot be empty")) } else { Ok(None) };
    }
    if value.chars().count() > max {
        return Err(ApiError::bad_input(field, format!("keep this to {max} characters")));
    }
    Ok(Some(value.to_owned()))
}

impl RightsService {
    /// Publishes the EXACT Bill of Rights in a new store and catches up with the log.
    pub async fn open(
        store: EventStore,
        calendar: Calendar,
        models: &heard_eventstore::ModelStore,
    ) -> heard_eventstore::Result<Self> {
        let exact = exact_bill_of_rights();
        store
            .seed(
                &StreamName::of(CHARTER, &exact.charter)?,
                NewEvent::new(CharterPublished::TYPE, CharterPublished::VERSION, &exact)?,
            )
            .await?;
        // Kept in `models` between starts, and rebuilt from the log when what was saved cannot be used.
        let model = LiveModel::start_kept("rights", store, Duration::from_secs(600), (), models).await?;
        Ok(RightsService { model, calendar })
    }

    /// Waits (up to 30 s) until the model has applied everything in the log now.
    pub async fn caught_up(&self) -> bool {
        self.model.caught_up(Duration::from_secs(30)).await
    }

    pub async fn stopped(&self) {
        self.model.stopped().await
    }

    pub fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        self.model.read(f)
    }

    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    pub fn complaint(&self, id: Uuid) -> Option<ComplaintRecord> {
        self.read(|state| state.complaints.get(&id).cloned())
    }

    /// The complainant's words of a complaint, opened now: `None` once they were erased.
    pub fn words(&self, record: &ComplaintRecord) -> Option<ComplaintPersonal> {
        record.words(self.model.store())
    }

    /// The words a handler wrote for the provider, opened now: `None` when there are none or
    /// once they were erased.
    pub fn redacted_words(&self, record: &ComplaintRecord) -> Option<String> {
        record.redacted_words(self.model.store())
    }

    pub fn store(&self) -> &EventStore {
        self.model.store()
    }

    /// Changes of the model, for subscriptions.
    pub fn watch_applied(&self) -> tokio::sync::watch::Receiver<u64> {
        self.model.watch_applied()
    }

    /// The clock of a complaint today.
    pub fn reading(&self, record: &ComplaintRecord, today: Date) -> ApiResult<Reading> {
        record.complaint.reading(&self.calendar, today).map_err(ApiError::internal)
    }

    /// Publishes a charter, or a new version of one (reference data).
    pub async fn publish_charter(&self, by: Uuid, charter: CharterPublished) -> ApiResult<CharterPublished> {
        let current = self.read(|state| state.charters.get(&charter.charter).map(|c| c.version));
        let charter = crate::domain::catalogue::publish(charter, current).map_err(ApiError::from)?;
        let stream = StreamName::of(CHARTER, &charter.charter).map_err(ApiError::internal)?;
        let expected = if current.is_some() { ExpectedRevision::StreamExists } else { ExpectedRevision::NoStream };
        let event = NewEvent::new(CharterPublished::TYPE, CharterPublished::VERSION, &charter)
            .map_err(ApiError::internal)?
            .with_metadata(serde_json::json!({ "actor": by }));
        self.model.append(&stream, expected, vec![event]).await?;
        Ok(charter)
    }

    /// Records a new complaint.
    pub async fn raise(&self, by: Uuid, new: NewComplaint, today: Date) -> ApiResult<ComplaintRecord> {
        self.raise_as(Uuid::new_v4(), by, new, today).await
    }

    /// [`Self::raise`] as the complaint `id` (from [`idempotent::record_id`]): when it was
    /// recorded already (the same request sent again), nothing is appended, and it is answered
    /// as it is if `by` raised it with these details (its words compared once opened), or
    /// refused ([`idempotent::sent_differently`]).
    pub async fn raise_as(&self, id: Uuid, by: Uuid, new: NewComplaint, today: Date) -> ApiResult<ComplaintRecord> {
        let (known_articles, known_provider, advocate_ok) = self.read(|state| {
            (
                state.articles_of(&new.charter),
                state.reference.providers.contains_key(&new.provider),
                new.advocate.is_none_or(|advocate| state.reference.holds(advocate, heard_access::Role::Advocate)),
            )
        });
        if known_articles.is_empty() {
            return Err(ApiError::bad_input("charter", "there is no such charter; see the `rights` query"));
        }
        if !new.provider.trim().is_empty() && !known_provider {
            return Err(ApiError::bad_input("provider", "there is no such provider; see the `providers` query"));
        }
        if !advocate_ok {
            return Err(ApiError::bad_input("advocateId", "choose the advocate who relayed the complaint"));
        }
        if let Err(error) = self.calendar.is_working_day(new.received_on) {
            return Err(ApiError::bad_input("receivedOn", error.to_string()));
        }
        let named = new.complainant == Complainant::Named;
        let name = text("complainantName", new.name.as_deref().unwrap_or_default(), 200, named)?;
        let contact = text("complainantContact", new.contact.as_deref().unwrap_or_default(), 200, false)?;
        if !named && (name.is_some() || contact.is_some()) {
            return Err(ApiError::bad_input(
                if name.is_some() { "complainantName" } else { "complainantContact" },
                "only a named complaint records who made it; leave this empty, or choose NAMED",
            ));
        }
        let personal = ComplaintPersonal {
            name,
            contact,
            what_happened: text("whatHappened", &new.what_happened, 5000, true)?.unwrap_or_default(),
            outcome_wanted: text("outcomeWanted", &new.outcome_wanted, 2000, true)?.unwrap_or_default(),
        };
        let event = complaint::receive(
            id,
            &new.charter,
            &new.provider,
            new.service.as_deref(),
            &new.articles,
            &known_articles,
            new.complainant,
            new.route,
            new.advocate,
            new.received_on,
            today,
        )
        .map_err(ApiError::from)?;
        if let Some(service) = &new.service {
            text("service", service, 200, false)?;
        }
        let again = |found: Option<ComplaintRecord>| {
            let first = Complaint::from_events([&event]);
            let found = found.filter(|found| !found.erased);
            idempotent::again(found, |found| {
                let (was, now) = (&found.complaint, first.as_ref());
                now.is_some_and(|now| {
                    found.raised_by == Some(by)
                        && (&was.charter, &was.provider, &was.service, &was.advocate, &was.articles)
                            == (&now.charter, &now.provider, &now.service, &now.advocate, &now.articles)
                        && (was.complainant, was.route, was.clock.received)
                            == (now.complainant, now.route, now.clock.received)
                        && self.words(found).as_ref() == Some(&personal)
                })
            })
        };
        if let Some(found) = self.complaint(id) {
            return again(Some(found));
        }
        let new_event = NewEvent::new(event.event_type(), 1, &event)
            .map_err(ApiError::internal)?
            .with_metadata(serde_json::json!({ "actor": by }))
            .with_personal(SubjectId::new(), &personal)
            .map_err(ApiError::internal)?;
        let stream = StreamName::of(COMPLAINT, id).map_err(ApiError::internal)?;
        // The same request sent twice at once: the other one recorded it.
        let read = || self.complaint(id);
        idempotent::start_record(&self.model, &stream, vec![new_event], read, again, ApiError::from).await
    }

    /// Appends one event decided from the complaint's current state, at its exact revision.
    pub async fn change(
        &self,
        id: Uuid,
        by: Uuid,
        decide: impl FnOnce(&Complaint) -> Result<Event, Rejection>,
    ) -> ApiResult<ComplaintRecord> {
        let record = self.complaint(id).ok_or(ApiError::NotFound)?;
        let event = decide(&record.complaint).map_err(ApiError::from)?;
        let new_event = NewEvent::new(event.event_type(), 1, &event)
            .map_err(ApiError::internal)?
            .with_metadata(serde_json::json!({ "actor": by }));
        let stream = StreamName::of(COMPLAINT, id).map_err(ApiError::internal)?;
        self.model.append(&stream, ExpectedRevision::Exact(record.revision), vec![new_event]).await?;
        self.complaint(id).ok_or(ApiError::NotFound)
    }

    /// Says the complainant of complaint `id` is `person` (a new person when `None`): appends
    /// one `ComplaintAttributed`, carrying the advocate who relayed it. The policy (a complaints
    /// handler) was checked by the caller.
    ///
    /// Attributing again to the same person changes nothing; a complaint already attributed to
    /// someone else is a conflict. An unknown person is refused on `person`, an erased one with
    /// [`refused_for_erased`]; so is an erased complaint (on `complaintId`).
    pub async fn attribute(&self, id: Uuid, by: Uuid, person: Option<PersonId>) -> ApiResult<ComplaintRecord> {
        let store = self.store();
        let (record, person) = self.read(|state| {
            let record = state.complaints.get(&id).ok_or(ApiError::NotFound)?;
            if record.is_erased(store) {
                return Err(refused_for_erased("complaintId"));
            }
            let person = match (person, record.person) {
                (Some(person), Some(already)) if person == already => return Ok((record.clone(), None)),
                (_, Some(_)) => {
                    return Err(ApiError::Conflict(
                        "this complaint is already said to be another person's; nothing was changed".into(),
                    ));
                }
                (Some(person), None) => {
                    state.persons.check(person)?;
                    person
                }
                (None, None) => PersonId::new(),
            };
            Ok((record.clone(), Some(person)))
        })?;
        let Some(person) = person else { return Ok(record) };
        let attributed = ComplaintAttributed { complaint: id, person, relayed_by: record.complaint.advocate, by };
        let event = NewEvent::new(ComplaintAttributed::TYPE, ComplaintAttributed::VERSION, &attributed)
            .map_err(ApiError::internal)?
            .with_metadata(serde_json::json!({ "actor": by }));
        let stream = StreamName::of(COMPLAINT, id).map_err(ApiError::internal)?;
        self.model.append(&stream, ExpectedRevision::Exact(record.revision), vec![event]).await?;
        self.complaint(id).ok_or(ApiError::NotFound)
    }

    /// Records the complaint's words as the provider may read them (`text`, checked like any
    /// free text and refused on `text`), sealed under the complaint's own key so that erasure
    /// takes them too. From then on a provider responder reads these words, and never the
    /// complainant's own (even after the words were released as written: writing them is the
    /// stricter review). The policy (a complaints handler) was checked by the caller.
    pub async fn redact_for_provider(&self, id: Uuid, by: Uuid, text: &str) -> ApiResult<ComplaintRecord> {
        let words = self::text("text", text, MAX_REDACTED_CHARS, true)?.unwrap_or_default();
        let record = self.complaint(id).ok_or(ApiError::NotFound)?;
        if record.is_erased(self.store()) {
            return Err(refused_for_erased("text"));
        }
        let subject = record.subject.ok_or_else(|| ApiError::internal("a complaint has no subject key"))?;
        let event = Event::RedactedForProvider;
        let new_event = NewEvent::new(event.event_type(), 1, &event)
            .map_err(ApiError::internal)?
            .with_metadata(serde_json::json!({ "actor": by }))
            .with_personal(subject, &RedactedWords { text: words })
            .map_err(ApiError::internal)?;
        let stream = StreamName::of(COMPLAINT, id).map_err(ApiError::internal)?;
        self.model.append(&stream, ExpectedRevision::Exact(record.revision), vec![new_event]).await.map_err(
            |error| match error {
                heard_eventstore::Error::SubjectErased => refused_for_erased("text"),
                other => ApiError::from(other),
            },
        )?;
        self.complaint(id).ok_or(ApiError::NotFound)
    }

    /// Says a complaints handler read the complaint's words and found nothing to take out before
    /// the provider reads them: appends one `ComplaintReleasedToProvider` (nothing personal in
    /// it), and from then on a provider responder reads the words as written. The policy (a
    /// complaints handler) was checked by the caller.
    ///
    /// Saying it again changes nothing. Once a handler wrote the words for the provider it is a
    /// conflict: the provider never reads the complainant's own words after that. An erased
    /// complaint is refused with [`refused_for_erased`] on `complaintId`.
    pub async fn release_to_provider(&self, id: Uuid, by: Uuid) -> ApiResult<ComplaintRecord> {
        let record = self.complaint(id).ok_or(ApiError::NotFound)?;
        if record.is_erased(self.store()) {
            return Err(refused_for_erased("complaintId"));
        }
        match record.provider_words {
            ProviderWords::AsWritten => return Ok(record),
            ProviderWords::Redacted => {
                return Err(ApiError::Conflict(
                    "the provider already reads the words written for them, and never the complainant's own after \
                     that; to change what they read, write the words for the provider again"
                        .into(),
                ));
            }
            ProviderWords::AwaitingReview => {}
        }
        let event = Event::ReleasedToProvider;
        let new_event = NewEvent::new(event.event_type(), 1, &event)
            .map_err(ApiError::internal)?
            .with_metadata(serde_json::json!({ "actor": by }));
        let stream = StreamName::of(COMPLAINT, id).map_err(ApiError::internal)?;
        self.model.append(&stream, ExpectedRevision::Exact(record.revision), vec![new_event]).await?;
        self.complaint(id).ok_or(ApiError::NotFound)
    }

    /// The complaints whose retention period ended by `today` and that are not erased yet:
    /// those whose outcome was recorded more than `rules.complaints_after_outcome_days` days
    /// before `today`. In the order received; none when the rules keep complaints.
    pub fn due_for_retention(&self, today: Date, rules: &RetentionRules) -> Vec<RecordRef> {
        let Some(days) = rules.complaints_after_outcome_days else { return Vec::new() };
        self.read(|state| {
            state
                .order
                .iter()
                .filter_map(|id| state.complaints.get(id))
                .filter(|record| !record.erased)
                .filter(|record| {
                    record
                        .closed_on
                        .is_some_and(|on| on.checked_add(i64::from(days).days()).is_ok_and(|until| until < today))
                })
                .map(|record| RecordRef { kind: RecordKind::Complaint, id: record.complaint.id })
                .collect()
        })
    }

    /// Assigns a complaint to the complaints handler `to` (or re-assigns it), checked against
    /// who holds the complaints handler role now, at the complaint's exact revision.
    pub async fn assign(&self, id: Uuid, by: Uuid, to: Uuid) -> ApiResult<ComplaintRecord> {
        let to_is_handler = self.read(|state| {
            state
                .reference
                .accounts
                .get(&to)
                .is_some_and(|account| heard_access::can_be_assigned_complaints(&account.roles))
        });
        self.change(id, by, |complaint| complaint::assign(complaint, to, to_is_handler)).await
    }

    /// Open complaints that need attention on `today`, most urgent first. `handler` narrows
    /// them to the complaints that handler works, plus those nobody works yet.
    pub fn attention(&self, today: Date, handler: Option<Uuid>) -> ApiResult<Vec<Attention>> {
        let open: Vec<ComplaintRecord> = self.read(|state| {
            state
                .newest_first()
                .filter(|r| r.complaint.is_open())
                .filter(|r| handler.is_none() || r.complaint.handler.is_none() || r.complaint.handler == handler)
                .cloned()
                .collect()
        });
        let mut found = Vec::new();
        for record in open {
            let reading = self.reading(&record, today)?;
            let explanation_missing = reading.needs_explanation && record.complaint.delay_explanations.is_empty();
            if reading.urgent || explanation_missing {
                found.push(Attention { record, reading, explanation_missing });
            }
        }
        found.sort_by_key(Attention::urgency);
        Ok(found)
    }

    /// Complaint counts by the chosen dimensions, for complaints received in `[from, to]`.
    pub fn patterns(
        &self,
        by: &[PatternDimension],
        period: Period,
        from: Option<Date>,
        to: Option<Date>,
    ) -> BTreeMap<Vec<String>, u64> {
        self.read(|state| patterns(state, by, period, from, to))
    }

    /// The subject whose key encrypts a complaint's personal part (for erasure).
    pub fn subject_of(&self, id: Uuid) -> Option<SubjectId> {
        self.read(|state| state.complaints.get(&id).and_then(|r| r.subject))
    }
}

/// Complaint counts by the chosen dimensions, for complaints received in `[from, to]`, in one
/// state (so that several groupings of the same complaints agree).
pub fn patterns(
    state: &State,
    by: &[PatternDimension],
    period: Period,
    from: Option<Date>,
    to: Option<Date>,
) -> BTreeMap<Vec<String>, u64> {
    let mut counts = BTreeMap::new();
    for record in state.complaints.values() {
        let complaint = &record.complaint;
        let received = complaint.clock.received;
        if from.is_some_and(|from| received < from) || to.is_some_and(|to| received > to) {
            continue;
        }
        let labels: Vec<Vec<String>> = by
            .iter()
            .map(|dimension| match dimension {
                PatternDimension::Article => complaint.articles.iter().map(u32::to_string).collect(),
                PatternDimension::Provider => vec![complaint.provider.clone()],
                PatternDimension::Outcome => vec![complaint.outcome.map_or("open", Outcome::name).to_owned()],
                PatternDimension::Period => vec![period.label(received)],
            })
            .collect();
        count_in_every_group(&mut counts, &labels);
    }
    counts
}

/// The dimensions complaint patterns can be grouped by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PatternDimension {
    Article,
    Provider,
    Outcome,
    Period,
}

impl PatternDimension {
    pub const ALL: [PatternDimension; 4] =
        [PatternDimension::Article, PatternDimension::Provider, PatternDimension::Outcome, PatternDimension::Period];
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
