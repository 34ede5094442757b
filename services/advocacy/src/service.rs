//! Commands and queries of the advocacy service, over its own model of the log
//! ([`crate::model`]), kept by a [`LiveModel`] in memory and on disk between starts. This
//! service never calls another.
//!
//! Each case event is stored as its non-personal part, with the personal part encrypted under
//! the client's own subject key. Linked cases of one client share that key, so erasing the
//! person erases every case of theirs while the counts and dates stay.

use std::collections::BTreeMap;
use std::time::Duration;

use heard_access::Role;
use heard_api::{ApiError, ApiResult};
use heard_eventstore::{EventStore, ExpectedRevision, LiveModel, NewEvent, StreamName, SubjectId};
use heard_workdays::Period;
use jiff::civil::Date;
use serde::Serialize;
use uuid::Uuid;

use crate::domain::Rejection;
use crate::domain::case::{self, *};
use crate::domain::rollup::{self, Dimension};

pub use crate::model::{CaseWords, Charter, EXACT_CHARTER, KeptCase, State};

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

/// The client's details were erased: their key is gone, so nothing personal can be added.
fn erased() -> ApiError {
    ApiError::Conflict(
        "this client's details were erased, so nothing more can be written about them here; refer them again as a new client"
            .into(),
    )
}

fn carries_personal(event: &Event) -> bool {
    matches!(
        event,
        Event::Referred(..) | Event::Declined(..) | Event::ActionRecorded(..) | Event::Closed(..) | Event::Reopened(..)
    )
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
    pub async fn refer(&self, by: Uuid, referral: Referral) -> ApiResult<Case> {
        let id = Uuid::new_v4();
        let today = heard_api::today();
        let store = self.store();
        let (event, subject) = self.read(|state| {
            let kept = match referral.linked_to {
                Some(linked) => Some(state.cases.get(&linked).ok_or_else(not_found)?),
                None => None,
            };
            if kept.is_some_and(|kept| kept.is_erased(store)) {
                return Err(erased());
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
            let event = case::refer(new, &state.known(), today).map_err(referral_field).map_err(ApiError::from)?;
            Ok::<_, ApiError>((event, subject))
        })?;
        let new_event = to_new_event(&event, subject, by)?;
        self.model.append(&stream(id)?, ExpectedRevision::NoStream, vec![new_event]).await?;
        self.case(id).ok_or_else(|| ApiError::internal("a new case is missing from the model"))
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
            if carries_personal(&event) && kept.is_erased(store) {
                return Err(erased());
            }
            let subject =
                state.subject(case.client).ok_or_else(|| ApiError::internal("a case's client has no subject"))?;
            Ok::<_, ApiError>((event, case.revision, subject))
        })?;
        let new_event = to_new_event(&event, subject, by)?;
        self.model.append(&stream(id)?, ExpectedRevision::Exact(revision), vec![new_event]).await?;
        self.case(id).ok_or_else(not_found)
    }

    pub async fn accept(&self, id: Uuid, by: Uuid, on: Date) -> ApiResult<Case> {
        self.change(id, by, |case, _| case::accept(case, by, on, heard_api::today())).await
    }

    pub async fn decline(&self, id: Uuid, by: Uuid, on: Date, reason: &str) -> ApiResult<Case> {
        self.change(id, by, |case, _| case::decline(case, by, on, reason, heard_api::today())).await
    }

    pub async fn record_action(&self, id: Uuid, by: Uuid, on: Date, kind: ActionKind, text: &str) -> ApiResult<Case> {
        let action = Uuid::new_v4();
        self.change(id, by, |case, _| case::record_action(case, action, by, on, kind, text, heard_api::today())).await
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
