//! Commands and queries of the privacy service, over its model of the log ([`crate::model`]),
//! kept in memory and on disk between starts. It never calls another service: it erases
//! through the one erase path (`heard_api::erasure::erase`), which reads the records' streams.

use std::collections::BTreeMap;
use std::time::Duration;

use heard_access::{Action, Actor, Decision, PersonFacts, Resource};
use heard_api::{ApiError, ApiResult};
use heard_contracts::privacy::{ErasureReason, PersonId, RecordKind, RecordRef, SubjectErased};
use heard_eventstore::{EventStore, LiveModel, ModelStore};
use serde::Serialize;
use uuid::Uuid;

use crate::model::{DestroyKeys, State};

/// The privacy service.
#[derive(Clone, Debug)]
pub struct PrivacyService {
    model: LiveModel<State>,
    /// One erasure at a time, so that a person is never erased twice by two requests at once.
    erasing: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// A person's records erased, as the asker is told of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Erased {
    pub person: PersonId,
    pub erased_at_micros: i64,
    /// How many of the erased records the asker may see (all of them for the operator).
    pub visible: usize,
    /// The erasure as appended (opaque ids only).
    pub event: SubjectErased,
}

/// The privacy service's part of a subject access answer: the same shape as the GraphQL object
/// (camelCase), so `heard subject-access` prints the same JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivacyPart {
    pub person: String,
    pub requested_at: String,
    pub erased: bool,
    pub erased_at: Option<String>,
}

impl PrivacyService {
    /// Catches up with the log (its model kept in `models` between starts), destroying the keys
    /// of any erasure it applies on the way.
    pub async fn open(store: EventStore, models: &ModelStore) -> heard_eventstore::Result<Self> {
        let hook = DestroyKeys::new(store.clone());
        let model = LiveModel::start_kept("privacy", store, Duration::from_secs(600), hook, models).await?;
        Ok(PrivacyService { model, erasing: Default::default() })
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

    pub fn store(&self) -> &EventStore {
        self.model.store()
    }

    /// What the policy needs to know about `person` (empty for an unknown person).
    pub fn facts(&self, person: PersonId) -> PersonFacts {
        self.read(|state| state.facts(person))
    }

    /// The resource the policy judges for `person`.
    pub fn resource(&self, person: PersonId) -> Resource {
        Resource::Person(self.facts(person))
    }

    /// Whether Heard holds any record of `person`, or erased them.
    pub fn knows(&self, person: PersonId) -> bool {
        self.read(|state| state.knows(person))
    }

    pub fn records_of(&self, person: PersonId) -> Vec<RecordRef> {
        self.read(|state| state.records_of(person))
    }

    /// When `person` was erased, if they were.
    pub fn erased_at(&self, person: PersonId) -> Option<i64> {
        self.read(|state| state.erased_at(person))
    }

    /// How many of `records` `actor` may see (`None`: the operator, all of them).
    pub fn visible_count(&self, records: &[RecordRef], actor: Option<&Actor>) -> usize {
        self.read(|state| records.iter().filter(|record| state.visible_to(record, actor)).count())
    }

    /// Erases every record of `person` at their request, after the caller checked that the
    /// asker may (`EraseSubject`); `asker` is `None` for the operator at the command line, who
    /// is recorded as the nil account (as `heard import` is). The keys are destroyed before
    /// this returns. Refused with `CONFLICT` when the person was already erased, and
    /// `NOT_FOUND` when Heard holds no record of them.
    pub async fn erase_person(&self, person: PersonId, asker: Option<&Actor>) -> ApiResult<Erased> {
        let _one_at_a_time = self.erasing.lock().await;
        if !self.caught_up().await {
            return Err(ApiError::internal("the privacy model is not caught up with the log"));
        }
        if self.erased_at(person).is_some() {
            return Err(ApiError::Conflict(
                "this person's records have already been erased; there is nothing more to erase".into(),
            ));
        }
        let records = self.records_of(person);
        if records.is_empty() {
            return Err(ApiError::not_found());
        }
        let asked_by = asker.map_or(Some(Uuid::nil()), |actor| actor.account);
        let event =
            heard_api::erasure::erase(self.store(), Some(person), &records, asked_by, ErasureReason::PersonAsked)
                .await?;
        if !self.caught_up().await {
            return Err(ApiError::internal("the privacy model did not apply an erasure"));
        }
        // Answer only once every model and the search index hold none of it.
        let erased_at_position = self.store().head().position;
        if !self.store().models_reached(erased_at_position, std::time::Duration::from_secs(10)).await {
            tracing::warn!(position = erased_at_position, "an erasure was not applied by every model within 10 s");
        }
        let erased_at_micros =
            self.erased_at(person).ok_or_else(|| ApiError::internal("an erasure is missing from the privacy model"))?;
        let visible = self.visible_count(&event.records, asker);
        Ok(Erased { person, erased_at_micros, visible, event })
    }

    /// Records that `actor` asked for everything Heard holds about `person` (allowed), on the
    /// access log. The operator at the command line is recorded as the nil account.
    pub async fn record_subject_access(&self, person: PersonId, actor: Option<&Actor>) -> ApiResult<()> {
        let operator = Actor { account: Some(Uuid::nil()), ..Actor::anonymous() };
        let actor = actor.unwrap_or(&operator);
        heard_api::record(self.store(), actor, Action::ViewSubjectAccess, &self.resource(person), Decision::Allow).await
    }

    /// The privacy part of what Heard holds about `person`, as asked for now. The asker was
    /// already allowed `ViewSubjectAccess`; nothing here depends on who they are.
    pub fn held_about(&self, person: PersonId, _actor: Option<&Actor>) -> PrivacyPart {
        let erased_at = self.erased_at(person);
        PrivacyPart {
            person: person.to_string(),
            requested_at: heard_api::timestamp(jiff::Timestamp::now().as_microsecond()),
            erased: erased_at.is_some(),
            erased_at: erased_at.map(heard_api::timestamp),
        }
    }
}

/// How many records of each kind, by the names the command line prints
/// (`feedback_item`, `case`, `complaint`).
pub fn count_by_kind(records: &[RecordRef]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for kind in [RecordKind::FeedbackItem, RecordKind::Case, RecordKind::Complaint] {
        counts.insert(kind.as_str(), records.iter().filter(|record| record.kind == kind).count());
    }
    counts
}
