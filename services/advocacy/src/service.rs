//! Commands and queries of the advocacy service, over its own model of the log
//! ([`crate::model`]), kept by a [`LiveModel`] in memory and on disk between starts. This
//! service never calls another.
//!
//! Each case event is stored as its non-personal part, with the personal part encrypted under
//! the client's own subject key. Linked cases of one client share that key, so erasing the
//! person erases every case of theirs while the counts and dates stay.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use heard_access::{CaseFacts, Resource, Role};
use heard_api::erasure::refused_for_erased;
use heard_api::{ApiError, ApiResult, idempotent};
use heard_contracts::Event as _;
use heard_contracts::privacy::{CaseAttributed, PersonId, RecordKind, RecordRef, RetentionRules};
use heard_eventstore::{EventStore, ExpectedRevision, LiveModel, NewEvent, StreamName, SubjectId};
use heard_workdays::Period;
use jiff::ToSpan;
use jiff::civil::Date;
use serde::Serialize;
use uuid::Uuid;

use crate::domain::Rejection;
use crate::domain::case::{self, *};
use crate::domain::rollup::{self, Dimension};

pub use crate::model::{CaseWords, Charter, EXACT_CHARTER, KeptCase, State};
pub use heard_api::persons::Persons;

/// What someone asked for when referring a case. Field names in errors are the GraphQL
/// input's (`clientName`, `themes[0]`, `advocateId`).
#[derive(Clone, Debug)]
pub struct Referral {
    pub pseudonym: Option<String>,
    pub client_name: Option<String>,
    pub client_contact: Option<String>,
    pub issue: String,
    pub kind: AdvocacyKind,
    pub source: ReferralSource,
    pub domain: CaseDomain,
    pub themes: Vec<String>,
    pub provider: Option<String>,
    pub articles: Vec<u32>,
    /// An earlier case of the same client; the new case shares its client and subject.
    pub linked_to: Option<Uuid>,
    /// The advocate to work it; `None` is the referrer.
    pub advocate: Option<Uuid>,
    /// `None` is today.
    pub referred_on: Option<Date>,
}

/// Closing a case.
#[derive(Clone, Debug)]
pub struct Closure {
    pub outcome: CaseOutcome,
    pub reason: ClosureReason,
    pub client_view: Option<String>,
    pub on: Date,
}

/// The advocacy service.
#[derive(Clone, Debug)]
pub struct AdvocacyService {
    model: LiveModel<State>,
}

/// The lock ([`EventStore::exclusive`]) held while a client's cases are attributed to a person,
/// and while a further case of a client is referred, so that every case of a client carries the
/// same person: across every replica over one PostgreSQL log, not just within this one.
pub const ATTRIBUTING: &str = "advocacy.attributing";

/// How long the model may take, once [`ATTRIBUTING`] is held, to read what another replica
/// appended before it let go.
const CATCH_UP_WITHIN: Duration = Duration::from_secs(10);

/// The domain names the referral's fields after the case; the client calls them `clientName`
/// and `clientContact`.
fn referral_field(rejection: Rejection) -> Rejection {
    match rejection {
        Rejection::Invalid { field, message } => {
            let field = match field.as_str() {
                "name" => "clientName".to_owned(),
                "contact" => "clientContact".to_owned(),
                _ => field,
            };
            Rejection::Invalid { field, message }
        }
        other => other,
    }
}

fn not_found() -> ApiError {
    ApiError::NotFound
}

/// The field of the client's words an event carries, as the GraphQL input names it; `None`
/// when it carries nothing personal. New words for an erased client are refused on it.
fn personal_field(event: &Event) -> Option<&'static str> {
    match event {
        Event::Referred(..) => Some("linkedTo"),
        Event::Declined(..) | Event::Reopened(..) => Some("reason"),
        Event::ActionRecorded(..) => Some("text"),
        Event::Closed(..) => Some("clientView"),
        Event::Accepted(_) | Event::ConsentRecorded(_) | Event::Assigned(_) => None,
    }
}

/// Whether `found` (opened) is the case the referral `event` would open, as far as the person
/// referring gave it: everything but the client's id (new for each attempt), the pseudonym
/// made up from it when none was given, and the advocate once someone else was assigned.
fn same_referral(found: &Case, event: &Event) -> bool {
    let Event::Referred(referred, Some(personal)) = event else { return false };
    let Some(words) = &found.personal else { return false };
    let made_up = personal.pseudonym == case::default_pseudonym(referred.client);
    (found.linked_to, found.kind, found.source, found.domain, &found.themes, &found.provider, &found.articles)
        == (
            referred.linked_to,
            referred.kind,
            referred.source,
            referred.domain,
            &referred.themes,
            &referred.provider,
            &referred.articles,
        )
        && (found.referred_by, found.referred_on) == (referred.referred_by, referred.referred_on)
        && (!found.assignments.is_empty() || found.advocate == referred.advocate)
        && (&words.name, &words.contact, &words.issue) == (&personal.name, &personal.contact, &personal.issue)
        && (made_up || words.pseudonym == personal.pseudonym)
}

/// An append refused because the subject's key was destroyed meanwhile: refused on `field`.
fn refused_on(field: &'static str) -> impl Fn(heard_eventstore::Error) -> ApiError {
    move |error| match error {
        heard_eventstore::Error::SubjectErased => refused_for_erased(field),
        other => ApiError::from(other),
    }
}

/// One `CaseAttributed` for the store: no personal fields, the actor in the metadata.
fn attribution(case: &Case, person: PersonId, by: Uuid) -> ApiResult<NewEvent> {
    let attributed = CaseAttributed { case: case.id, person, advocate: case.advocate, by };
    Ok(NewEvent::new(CaseAttributed::TYPE, CaseAttributed::VERSION, &attributed)
        .map_err(ApiError::internal)?
        .with_metadata(serde_json::json!({ "actor": by })))
}

/// What the policy needs to know about a case.
pub fn resource(case: &Case) -> Resource {
    Resource::Case(CaseFacts { case: case.id, advocate: case.advocate })
}

fn stream(id: Uuid) -> ApiResult<StreamName> {
    StreamName::of(CASE, id).map_err(ApiError::internal)
}

/// One event for the store: the non-personal part as data, the personal part (if any)
/// encrypted under `subject`, the actor in the metadata.
fn stored<D: Serialize, P: Serialize>(
    event_type: &str,
    data: &D,
    personal: Option<&P>,
    subject: SubjectId,
    by: Uuid,
) -> ApiResult<NewEvent> {
    let event = NewEvent::new(event_type, 1, data)
        .map_err(ApiError::internal)?
        .with_metadata(serde_json::json!({ "actor": by }));
    match personal {
        Some(personal) => event.with_personal(subject, personal).map_err(ApiError::internal),
        None => Ok(event),
    }
}

fn to_new_event(event: &Event, subject: SubjectId, by: Uuid) -> ApiResult<NewEvent> {
    let kind = event.event_type();
    let none = None::<&()>;
    match event {
        Event::Referred(data, personal) => stored(kind, data, personal.as_ref(), subject, by),
        Event::Accepted(data) => stored(kind, data, none, subject, by),
        Event::Declined(data, personal) => stored(kind, data, personal.as_ref(), subject, by),
        Event::ActionRecorded(data, personal) => stored(kind, data, personal.as_ref(), subject, by),
        Event::ConsentRecorded(data) => stored(kind, data, none, subject, by),
        Event::Closed(data, personal) => stored(kind, data, personal.as_ref(), subject, by),
        Event::Reopened(data, personal) => stored(kind, data, personal.as_ref(), subject, by),
        Event::Assigned(data) => stored(kind, data, none, subject, by),
    }
}

impl AdvocacyService {
    /// Starts following the log and waits (up to 10 minutes) until the model has caught up.
    /// The model is kept in `models` between starts, and rebuilt from the log when what was
    /// saved cannot be used.
    pub async fn open(
        store: EventStore,
        models: &heard_eventstore::ModelStore,
    ) -> Result<Self, heard_eventstore::Error> {
        let model = LiveModel::start_kept("advocacy", store, Duration::from_secs(600), (), models).await?;
        Ok(AdvocacyService { model })
    }

    /// Waits for the follower to stop after the store closed.
    /// Waits (up to 30 s) until the model has applied everything in the log now.
    pub async fn caught_up(&self) -> bool {
        self.model.caught_up(Duration::from_secs(30)).await
    }

    pub async fn stopped(&self) {
        self.model.stopped().await;
    }

    pub fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        self.model.read(f)
    }

    /// A case with the client's words, opened now.
    pub fn case(&self, id: Uuid) -> Option<Case> {
        let kept = self.kept(id)?;
        Some(kept.open(self.store()))
    }

    /// A case as the model keeps it: its facts, and the client's words still sealed.
    pub fn kept(&self, id: Uuid) -> Option<KeptCase> {
        self.read(|state| state.cases.get(&id).cloned())
    }

    /// Opens the client's words of a case kept by the model.
    pub fn open_case(&self, kept: &KeptCase) -> Case {
        kept.open(self.store())
    }

    pub fn store(&self) -> &EventStore {
        self.model.store()
    }

    /// Opens a case. A new client gets a new id and subject; a linked case shares the client
    /// (and subject) of the case it is linked to. The policy was checked by the caller,
    /// including that `linked_to` is a case they may work.
    ///
    /// A further case of a client who was attributed to a person carries the same person: its
    /// `CaseAttributed` is appended with the referral, in one batch.
    pub async fn refer(&self, by: Uuid, referral: Referral) -> ApiResult<Case> {
        self.refer_as(Uuid::new_v4(), by, referral).await
    }

    /// [`Self::refer`] as the case `id` (from [`idempotent::record_id`]): when it was opened
    /// already (the same request sent again), nothing is appended, and it is answered as it is
    /// if `by` referred it with these details (the client's words compared once opened), or
    /// refused ([`idempotent::sent_differently`]).
    pub async fn refer_as(&self, id: Uuid, by: Uuid, referral: Referral) -> ApiResult<Case> {
        let today = heard_api::today();
        let store = self.store();
        let _attributing = match referral.linked_to {
            Some(_) => Some(self.attributing().await?),
            None => None,
        };
        let (event, subject, person) = self.read(|state| {
            let kept = match referral.linked_to {
                Some(linked) => Some(state.cases.get(&linked).ok_or_else(not_found)?),
                None => None,
            };
            if kept.is_some_and(|kept| kept.is_erased(store)) {
                return Err(refused_for_erased("linkedTo"));
            }
            let linked = kept.map(KeptCase::facts);
            let (client, subject) = match linked {
                Some(linked) => {
                    let subject = state
                        .subject(linked.client)
                        .ok_or_else(|| ApiError::internal("a linked case's client has no subject"))?;
                    (linked.client, subject)
                }
                None => (Uuid::new_v4(), SubjectId::new()),
            };
            let new = NewCase {
                case: id,
                client,
                linked_to: linked,
                kind: referral.kind,
                source: referral.source,
                domain: referral.domain,
                themes: referral.themes,
                provider: referral.provider,
                articles: referral.articles,
                advocate: referral.advocate.unwrap_or(by),
                referred_by: by,
                referred_on: referral.referred_on.unwrap_or(today),
                pseudonym: referral.pseudonym,
                name: referral.client_name,
                contact: referral.client_contact,
                issue: referral.issue,
            };
            let person = linked.and_then(|linked| state.person_of(linked.client));
            if person.is_some_and(|person| state.persons.is_erased(person)) {
                return Err(refused_for_erased("linkedTo"));
            }
            let event = case::refer(new, &state.known(), today).map_err(referral_field).map_err(ApiError::from)?;
            Ok::<_, ApiError>((event, subject, person))
        })?;
        let mut events = vec![to_new_event(&event, subject, by)?];
        if let Some(person) = person
            && let Some(facts) = Case::from_events([&event])
        {
            events.push(attribution(&facts, person, by)?);
        }
        // Answered as the first answer showed it, as referred: what came after is for the
        // advocate working it, who may be someone else by now.
        let again = |found: Option<Case>| {
            let found = found.filter(|found| found.personal.is_some());
            let found = idempotent::again(found, |found| same_referral(found, &event))?;
            let mut referred =
                Case::from_events([&event]).ok_or_else(|| ApiError::internal("a referral opens no case"))?;
            referred.client = found.client;
            referred.personal = found.personal;
            Ok(referred)
        };
        if self.kept(id).is_some() {
            return again(self.case(id));
        }
        // The same request sent twice at once: the other one opened it.
        idempotent::start_record(&self.model, &stream(id)?, events, || self.case(id), again, refused_on("linkedTo"))
            .await
    }

    /// Takes [`ATTRIBUTING`], then reads the log up to where the database is now, so that what
    /// another replica attributed while it held the lock is in the model before anything is
    /// decided from it. Unavailable (internal) if either cannot be done in time.
    async fn attributing(&self) -> ApiResult<heard_eventstore::Exclusive> {
        let held = self.store().exclusive(ATTRIBUTING).await?;
        let head = self.store().refresh_head().await?;
        if !self.model.wait_for(head, CATCH_UP_WITHIN).await {
            return Err(ApiError::internal(format!("the advocacy model did not reach position {head} within 10 s")));
        }
        Ok(held)
    }

    /// Says the client of case `id` is `person` (a new person when `None`): appends one
    /// `CaseAttributed` on every case of that client, and answers the case. The policy (the
    /// case's advocate) was checked by the caller.
    ///
    /// A client is one person: attributing again to the same person only completes what is
    /// missing (say, after a crash half-way), and a client already attributed to someone else
    /// is a conflict. An unknown person is refused on `person`, an erased one with
    /// [`refused_for_erased`]; so is a case whose client was erased (on `caseId`).
    pub async fn attribute(&self, id: Uuid, by: Uuid, person: Option<PersonId>) -> ApiResult<Case> {
        let _attributing = self.attributing().await?;
        let store = self.store();
        let (person, missing) = self.read(|state| {
            let kept = state.cases.get(&id).ok_or_else(not_found)?;
            if kept.is_erased(store) {
                return Err(refused_for_erased("caseId"));
            }
            let already = state.person_of(kept.client);
            let person = match (person, already) {
                (Some(person), Some(already)) if person == already => person,
                (_, Some(_)) => {
                    return Err(ApiError::Conflict(
                        "this client is already said to be another person; nothing was changed".into(),
                    ));
                }
                (Some(person), None) => {
                    state.persons.check(person)?;
                    person
                }
                (None, None) => PersonId::new(),
            };
            let missing: Vec<Case> = state
                .cases_of(kept.client)
                .into_iter()
                .filter(|case| case.person != Some(person))
                .map(|case| case.facts().clone())
                .collect();
            Ok::<_, ApiError>((person, missing))
        })?;
        for case in &missing {
            // Nothing personal is appended, and the lock keeps other attributions out, so the
            // case's own commands may go on meanwhile.
            let event = attribution(case, person, by)?;
            self.model.append(&stream(case.id)?, ExpectedRevision::StreamExists, vec![event]).await?;
        }
        self.case(id).ok_or_else(not_found)
    }

    /// Appends one event decided from the case as it stands, expecting its exact revision so
    /// that two people working the case at once cannot overwrite each other.
    async fn change(
        &self,
        id: Uuid,
        by: Uuid,
        decide: impl FnOnce(&Case, &State) -> Result<Event, Rejection>,
    ) -> ApiResult<Case> {
        let store = self.store();
        let (event, revision, subject) = self.read(|state| {
            let kept = state.cases.get(&id).ok_or_else(not_found)?;
            let case = kept.facts();
            let event = decide(case, state).map_err(ApiError::from)?;
            // The words are opened only to see whether they can still be read.
            if let Some(field) = personal_field(&event)
                && kept.is_erased(store)
            {
                return Err(refused_for_erased(field));
            }
            let subject =
                state.subject(case.client).ok_or_else(|| ApiError::internal("a case's client has no subject"))?;
            Ok::<_, ApiError>((event, case.revision, subject))
        })?;
        let new_event = to_new_event(&event, subject, by)?;
        let appended = self.model.append(&stream(id)?, ExpectedRevision::Exact(revision), vec![new_event]).await;
        appended.map_err(refused_on(personal_field(&event).unwrap_or("id")))?;
        self.case(id).ok_or_else(not_found)
    }

    pub async fn accept(&self, id: Uuid, by: Uuid, on: Date) -> ApiResult<Case> {
        self.change(id, by, |case, _| case::accept(case, by, on, heard_api::today())).await
    }

    pub async fn decline(&self, id: Uuid, by: Uuid, on: Date, reason: &str) -> ApiResult<Case> {
        self.change(id, by, |case, _| case::decline(case, by, on, reason, heard_api::today())).await
    }

    pub async fn record_action(&self, id: Uuid, by: Uuid, on: Date, kind: ActionKind, text: &str) -> ApiResult<Case> {
        self.record_action_as(Uuid::new_v4(), id, by, on, kind, text).await
    }

    /// [`Self::record_action`] as the action `action` (from [`idempotent::child_id`]): when the
    /// case has it already (the same request sent again), nothing is appended, and the case is
    /// answered as it is if `by` recorded it with these details, or refused
    /// ([`idempotent::sent_differently`]).
    pub async fn record_action_as(
        &self,
        action: Uuid,
        id: Uuid,
        by: Uuid,
        on: Date,
        kind: ActionKind,
        text: &str,
    ) -> ApiResult<Case> {
        let has_it = |case: &Case| case.actions.iter().any(|(recorded, _)| recorded.action == action);
        let again = |found: Option<Case>| {
            let text = heard_contracts::input::clean("text", text).ok();
            let text = text.as_deref().map(str::trim);
            idempotent::again(found, |case| {
                case.actions.iter().any(|(recorded, words)| {
                    recorded.action == action
                        && (recorded.on, recorded.kind, recorded.by) == (on, kind, by)
                        && words.as_ref().map(|words| words.text.as_str()) == text
                })
            })
        };
        if let Some(found) = self.case(id).filter(has_it) {
            return again(Some(found));
        }
        let today = heard_api::today();
        match self.change(id, by, |case, _| case::record_action(case, action, by, on, kind, text, today)).await {
            // The same request, sent twice at once: the other one may have recorded it.
            Err(ApiError::Conflict(message)) => {
                idempotent::catch_up(&self.model).await?;
                match self.case(id).filter(has_it) {
                    Some(found) => again(Some(found)),
                    None => Err(ApiError::Conflict(message)),
                }
            }
            answered => answered,
        }
    }

    /// Records the client's authority to share, or its withdrawal (`scope: None`).
    pub async fn record_consent(&self, id: Uuid, by: Uuid, on: Date, scope: Option<ShareScope>) -> ApiResult<Case> {
        self.change(id, by, |case, _| case::record_consent(case, by, on, scope, heard_api::today())).await
    }

    pub async fn close(&self, id: Uuid, by: Uuid, closure: Closure) -> ApiResult<Case> {
        self.change(id, by, |case, _| {
            case::close(
                case,
                by,
                closure.on,
                closure.outcome,
                closure.reason,
                closure.client_view.as_deref(),
                heard_api::today(),
            )
        })
        .await
    }

    pub async fn reopen(&self, id: Uuid, by: Uuid, on: Date, reason: &str) -> ApiResult<Case> {
        self.change(id, by, |case, _| case::reopen(case, by, on, reason, heard_api::today())).await
    }

    /// Hands an open case to another advocate.
    pub async fn assign(&self, id: Uuid, by: Uuid, advocate: Uuid) -> ApiResult<Case> {
        self.change(id, by, |case, state| case::assign(case, by, advocate, &state.reference.holders(Role::Advocate)))
            .await
    }

    /// The cases whose retention period ended by `today` and that are not erased yet: every
    /// case of a client whose cases have all ended (closed, or declined), the last of them more
    /// than `rules.cases_closed_days` days before `today`. A client's cases share one key, so
    /// they go together or not at all: one open case keeps every case of theirs. One record
    /// per case, in referral order; none when the rules keep cases.
    pub fn due_for_retention(&self, today: Date, rules: &RetentionRules) -> Vec<RecordRef> {
        let Some(days) = rules.cases_closed_days else { return Vec::new() };
        self.read(|state| {
            // Client → the day their last case ended, or `None` while one is still open.
            let mut ended: HashMap<Uuid, Option<Date>> = HashMap::new();
            for case in state.cases_in_order() {
                let on = case.closed_on().or_else(|| case.declined.as_ref().map(|(declined, _)| declined.on));
                let last = ended.entry(case.client).or_insert(on);
                *last = match (*last, on) {
                    (Some(last), Some(on)) => Some(last.max(on)),
                    _ => None,
                };
            }
            let due = |client: &Uuid| {
                ended
                    .get(client)
                    .copied()
                    .flatten()
                    .is_some_and(|last| last.checked_add(i64::from(days).days()).is_ok_and(|until| until < today))
            };
            state
                .cases_in_order()
                .filter(|case| !case.erased && due(&case.client))
                .map(|case| RecordRef { kind: RecordKind::Case, id: case.id })
                .collect()
        })
    }

    /// Counts of cases (declined ones left out) referred between `from` and `to`, grouped by
    /// `by`. Small numbers are not suppressed here; the GraphQL layer does that.
    pub fn systemic_themes(
        &self,
        by: &[Dimension],
        period: Period,
        from: Option<Date>,
        to: Option<Date>,
    ) -> BTreeMap<Vec<String>, u64> {
        self.read(|state| rollup::systemic_themes(state.cases.values().map(KeptCase::facts), by, period, from, to))
    }
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
