//! Commands and queries of the commissioning service, over its model of the log
//! ([`crate::model`]).

use std::time::Duration;

use heard_access::Actor;
use heard_api::{ApiError, ApiResult};
use heard_contracts::Event as _;
use heard_eventstore::{EventStore, ExpectedRevision, Fold, LiveModel, NewEvent, StreamName};
use jiff::civil::Date;
use uuid::Uuid;

use crate::domain::answer::{self, ACKNOWLEDGEMENT, ANSWER, Answer};
use crate::domain::decision::{self, DECISION, Decision, Evidence};
use crate::model::State;

/// What a new decision says.
pub use crate::domain::decision::NewDecision;

/// The commissioning service.
#[derive(Clone, Debug)]
pub struct CommissioningService {
    model: LiveModel<State>,
    calendar: heard_workdays::Calendar,
}

fn stored(event_type: &str, data: &impl serde::Serialize, by: Uuid) -> ApiResult<NewEvent> {
    Ok(NewEvent::new(event_type, 1, data)
        .map_err(ApiError::internal)?
        .with_metadata(serde_json::json!({ "actor": by })))
}

impl CommissioningService {
    pub async fn open(
        store: EventStore,
        calendar: heard_workdays::Calendar,
        models: &heard_eventstore::ModelStore,
    ) -> heard_eventstore::Result<Self> {
        let model = LiveModel::start_kept("commissioning", store, Duration::from_secs(600), (), models).await?;
        Ok(CommissioningService { model, calendar })
    }

    /// Waits (up to 30 s) until the model has applied everything in the log now.
    pub async fn caught_up(&self) -> bool {
        self.model.caught_up(Duration::from_secs(30)).await
    }

    pub fn calendar(&self) -> &heard_workdays::Calendar {
        &self.calendar
    }

    /// "You said, we did" as `actor` may see it, now.
    pub fn report(&self, actor: &Actor, scope: &crate::report::Scope, public: bool) -> crate::report::Report {
        let store = self.store();
        self.read(|state| crate::report::build(state, actor, scope, public, &self.calendar, store))
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

    pub fn decision(&self, id: Uuid) -> Option<Decision> {
        self.read(|state| state.decisions.get(&id).cloned())
    }

    pub async fn propose(&self, new: NewDecision) -> ApiResult<Decision> {
        let id = new.decision;
        let by = new.proposed_by;
        let event = decision::propose(new, heard_api::today()).map_err(ApiError::from)?;
        let stream = StreamName::of(DECISION, id).map_err(ApiError::internal)?;
        self.model.append(&stream, ExpectedRevision::NoStream, vec![stored(event.event_type(), &event, by)?]).await?;
        self.decision(id).ok_or_else(|| ApiError::internal("a new decision is missing from the model"))
    }

    /// Appends one event decided from the decision as it stands, at its exact revision.
    pub async fn change(
        &self,
        id: Uuid,
        by: Uuid,
        decide: impl FnOnce(&Decision, &State) -> ApiResult<decision::Event>,
    ) -> ApiResult<Decision> {
        let (event, revision) = self.read(|state| {
            let found = state.decisions.get(&id).ok_or(ApiError::NotFound)?;
            Ok::<_, ApiError>((decide(found, state)?, found.revision))
        })?;
        let stream = StreamName::of(DECISION, id).map_err(ApiError::internal)?;
        self.model
            .append(&stream, ExpectedRevision::Exact(revision), vec![stored(event.event_type(), &event, by)?])
            .await?;
        self.decision(id).ok_or(ApiError::NotFound)
    }

    /// Runs a pure decision command ([`crate::domain::decision`]) on the decision as it stands
    /// and appends its event; a refusal is the command's.
    pub async fn decide(
        &self,
        id: Uuid,
        by: Uuid,
        command: impl FnOnce(&Decision) -> Result<decision::Event, crate::domain::Rejection>,
    ) -> ApiResult<Decision> {
        self.change(id, by, |found, _| command(found).map_err(ApiError::from)).await
    }

    pub async fn link_evidence(
        &self,
        id: Uuid,
        by: Uuid,
        evidence: Evidence,
        rationale: &str,
        on: Date,
    ) -> ApiResult<Decision> {
        self.change(id, by, |found, state| {
            state.check_evidence(&evidence)?;
            decision::link_evidence(found, Uuid::new_v4(), evidence, rationale, by, on, heard_api::today())
                .map_err(ApiError::from)
        })
        .await
    }

    /// Acknowledges a shared item, or answers it "not acted on" when `reason` is given.
    pub async fn answer(&self, item: Uuid, by: Uuid, reason: Option<&str>, on: Date) -> ApiResult<Answer> {
        let (event, revision) = self.read(|state| {
            let found = state.items.get(&item).filter(|found| found.for_commissioners());
            if found.is_none() {
                return Err(ApiError::NotFound);
            }
            let current = state.answers.get(&item);
            let today = heard_api::today();
            let event = match reason {
                None => answer::acknowledge(current, item, by, on, today),
                Some(reason) => answer::answer_not_acted_on(current, item, reason, by, on, today),
            }
            .map_err(ApiError::from)?;
            Ok((event, current.and_then(|a| a.revision)))
        })?;
        let stream = StreamName::of(ANSWER, item).map_err(ApiError::internal)?;
        let expected = revision.map_or(ExpectedRevision::NoStream, ExpectedRevision::Exact);
        self.model.append(&stream, expected, vec![stored(event.event_type(), &event, by)?]).await?;
        self.read(|state| state.answers.get(&item).cloned()).ok_or_else(|| ApiError::internal("answer missing"))
    }

    /// Acknowledges several shared items at once, in one event: all of them or none. The
    /// caller has checked that the asker may answer each. Items already acknowledged or
    /// answered are left out, so a replayed request changes nothing; the answer is every item's
    /// answer as it stands afterwards, in the order asked.
    pub async fn acknowledge_together(&self, items: &[Uuid], by: Uuid, on: Date) -> ApiResult<Vec<Answer>> {
        let event = self.read(|state| {
            if let Some(index) =
                items.iter().position(|item| !state.items.get(item).is_some_and(|f| f.for_commissioners()))
            {
                return Err(ApiError::bad_input(format!("itemIds[{index}]"), cannot_acknowledge(items[index])));
            }
            answer::acknowledge_together(items, |item| state.answers.get(&item), by, on, heard_api::today())
                .map_err(ApiError::from)
        })?;
        if let Some(event) = event {
            let stream = StreamName::of(ACKNOWLEDGEMENT, event.batch).map_err(ApiError::internal)?;
            let stored = stored(answer::FeedbackAcknowledgedTogether::TYPE, &event, by)?;
            match self.model.append(&stream, ExpectedRevision::NoStream, vec![stored]).await {
                Ok(_) => {}
                // The same request, made at the same moment, got there first: its batch is ours.
                Err(heard_eventstore::Error::WrongExpectedRevision { .. }) => {
                    self.caught_up().await;
                }
                Err(other) => return Err(other.into()),
            }
        }
        self.read(|state| {
            items
                .iter()
                .map(|item| state.answers.get(item).cloned().ok_or_else(|| ApiError::internal("answer missing")))
                .collect()
        })
    }

    /// The model as it was at `position`, replayed from the log (never from a copy). `until`
    /// stops earlier, at the last event recorded up to that moment (micros since the epoch).
    pub async fn replay(&self, position: u64, until: Option<i64>) -> ApiResult<State> {
        let store = self.model.store();
        let mut state = State::default();
        let mut next = 1;
        'pages: while next <= position {
            let page = store.read_all(next, 4096).await?;
            if page.is_empty() {
                break;
            }
            for event in &page {
                if event.position > position || until.is_some_and(|until| event.recorded_at_micros > until) {
                    break 'pages;
                }
                state.apply(event).map_err(ApiError::internal)?;
                next = event.position + 1;
            }
        }
        Ok(state)
    }
}

/// Why one item of several cannot be acknowledged: the same words whether it does not exist,
/// was not shared with commissioners, or is not the asker's to answer.
pub fn cannot_acknowledge(item: Uuid) -> String {
    format!(
        "item {item} cannot be acknowledged: it is not feedback shared with you that you may answer; \
         nothing was acknowledged"
    )
}
