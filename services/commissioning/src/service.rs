//! Commands and queries of the commissioning service, over its model of the log
//! ([`crate::model`]).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use heard_access::Actor;
use heard_api::{ApiError, ApiResult, idempotent};
use heard_contracts::Event as _;
use heard_contracts::{feedback, rights};
use heard_eventstore::model_store::HistoryCopy;
use heard_eventstore::{
    AfterApply, EventStore, ExpectedRevision, Fold, LiveModel, ModelStore, NewEvent, RecordedEvent, StreamName,
};
use jiff::civil::Date;
use uuid::Uuid;

use crate::domain::answer::{self, ACKNOWLEDGEMENT, ANSWER, Answer};
use crate::domain::decision::{self, DECISION, Decision, Evidence};
use crate::model::State;

/// What a new decision says.
pub use crate::domain::decision::NewDecision;

/// The model's name in the model store (`model:commissioning`, `history:commissioning`).
const NAME: &str = "commissioning";

/// How the model keeps copies of its past for answers "as at" a position or a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistoryConfig {
    /// A copy is saved once at least this many events follow the last one (at the end of the
    /// batch that reaches it).
    pub every: u64,
    /// At most this many copies are kept: the oldest, the newest, and the rest thinned evenly.
    pub keep: usize,
    /// How many replayed states are kept in memory, most recently asked first.
    pub cached: usize,
}

impl Default for HistoryConfig {
    fn default() -> Self {
        HistoryConfig { every: 20_000, keep: 64, cached: 4 }
    }
}

/// Beside the live model: encodes a copy of it (under its lock) every `every` events, and saves
/// it as a history copy (outside the lock) before the batch counts as applied.
struct History {
    models: ModelStore,
    config: HistoryConfig,
    /// The position of the newest copy.
    last: u64,
}

impl AfterApply<State> for History {
    type Taken = Option<HistoryCopy>;

    fn take(&mut self, state: &mut State, events: &[RecordedEvent]) -> Option<HistoryCopy> {
        let hash = events.last()?.hash;
        if state.position < self.last {
            // Rebuilding from the log: the copies past here are another course of the log's.
            self.last = 0;
        }
        if state.position < self.last.saturating_add(self.config.every) {
            return None;
        }
        match HistoryCopy::encode(state, state.position, hash, state.recorded_until) {
            Ok(copy) => {
                self.last = state.position;
                Some(copy)
            }
            Err(error) => {
                tracing::warn!(model = NAME, %error, "cannot encode a history copy");
                None
            }
        }
    }

    async fn after(&mut self, copy: Option<HistoryCopy>, _: u64) {
        let Some(copy) = copy else { return };
        let (models, keep, position) = (self.models.clone(), self.config.keep, copy.position());
        let saved = tokio::task::spawn_blocking(move || models.save_history(NAME, copy, keep)).await;
        match saved {
            Ok(Ok(bytes)) => tracing::debug!(model = NAME, position, bytes, "saved a history copy"),
            Ok(Err(error)) => tracing::warn!(model = NAME, %error, "cannot save a history copy"),
            Err(error) => tracing::warn!(model = NAME, %error, "cannot save a history copy"),
        }
    }

    async fn closed(self) -> u64 {
        u64::MAX
    }
}

/// What a replay was asked: a position, and the moment when one was given.
type Asked = (u64, Option<i64>);

/// Recently replayed states, most recently asked first.
#[derive(Debug, Default)]
struct Replayed {
    states: VecDeque<(Asked, Arc<State>)>,
}

/// The commissioning service.
#[derive(Clone, Debug)]
pub struct CommissioningService {
    model: LiveModel<State>,
    calendar: heard_workdays::Calendar,
    models: ModelStore,
    history: HistoryConfig,
    replayed: Arc<Mutex<Replayed>>,
}

/// The end of a day, in microseconds since the epoch (the server's time zone).
pub fn end_of_day(date: Date) -> Option<i64> {
    let next = date.tomorrow().ok()?.to_zoned(jiff::tz::TimeZone::system()).ok()?;
    Some(next.timestamp().as_microsecond() - 1)
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
        Self::open_with(store, calendar, models, HistoryConfig::default()).await
    }

    /// [`open`](Self::open), keeping history copies as `history` says.
    pub async fn open_with(
        store: EventStore,
        calendar: heard_workdays::Calendar,
        models: &heard_eventstore::ModelStore,
        history: HistoryConfig,
    ) -> heard_eventstore::Result<Self> {
        let last = models
            .history(NAME)?
            .iter()
            .filter(|entry| entry.version == <State as heard_eventstore::Persist>::VERSION)
            .map(|entry| entry.position)
            .max()
            .unwrap_or(0);
        let hook = History { models: models.clone(), config: history, last };
        let model = LiveModel::start_kept(NAME, store, Duration::from_secs(600), hook, models).await?;
        Ok(CommissioningService {
            model,
            calendar,
            models: models.clone(),
            history,
            replayed: Arc::new(Mutex::new(Replayed::default())),
        })
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
        self.read(|state| crate::report::build(state, actor, scope, public, &self.calendar, store, None))
    }

    /// "You said, we did" as `actor` may see it, as it stood at the end of `day` (replayed
    /// from the nearest history copy, [`replay`](Self::replay)).
    pub async fn report_as_at(
        &self,
        actor: &Actor,
        scope: &crate::report::Scope,
        public: bool,
        day: Date,
    ) -> ApiResult<crate::report::Report> {
        let head = self.read(|state| state.position);
        let then = self.replay(head, end_of_day(day)).await?;
        let store = self.store();
        Ok(self.read(|now| crate::report::build(&then, actor, scope, public, &self.calendar, store, Some(now))))
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

    /// Records a proposed decision as `new.decision`. When that id was proposed already (the
    /// same request sent again, with an id from [`idempotent::record_id`]), nothing is
    /// appended: it is answered as it stands if the same account proposed it with these
    /// details, and refused otherwise ([`idempotent::sent_differently`]).
    pub async fn propose(&self, new: NewDecision) -> ApiResult<Decision> {
        let id = new.decision;
        let by = new.proposed_by;
        let event = decision::propose(new, heard_api::today()).map_err(ApiError::from)?;
        let again = |found: Option<Decision>| {
            let first = Decision::from_events([&event]);
            idempotent::again(found, |found| {
                first.as_ref().is_some_and(|first| {
                    (&found.title, &found.service_area, &found.decided_by, &found.involvement)
                        == (&first.title, &first.service_area, &first.decided_by, &first.involvement)
                        && (found.decision_date, found.ladder_rung, found.proposed_by)
                            == (first.decision_date, first.ladder_rung, first.proposed_by)
                })
            })
        };
        if let Some(found) = self.decision(id) {
            return again(Some(found));
        }
        let stream = StreamName::of(DECISION, id).map_err(ApiError::internal)?;
        // The same request sent twice at once: the other one proposed it.
        let events = vec![stored(event.event_type(), &event, by)?];
        idempotent::start_record(&self.model, &stream, events, || self.decision(id), again, ApiError::from).await
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
        self.link_evidence_as(Uuid::new_v4(), id, by, evidence, rationale, on).await
    }

    /// [`Self::link_evidence`] as the link `link` (from [`idempotent::child_id`]): when the
    /// decision has it already (the same request sent again), nothing is appended, and the
    /// decision is answered as it stands if `by` made the link with these details, or refused
    /// ([`idempotent::sent_differently`]).
    pub async fn link_evidence_as(
        &self,
        link: Uuid,
        id: Uuid,
        by: Uuid,
        evidence: Evidence,
        rationale: &str,
        on: Date,
    ) -> ApiResult<Decision> {
        let has_it = |found: &Decision| found.link(link).is_some();
        let again = |found: Option<Decision>| {
            let evidence = decision::checked(evidence.clone()).ok();
            let rationale = heard_contracts::input::clean("rationale", rationale).ok();
            idempotent::again(found, |found| {
                found.link(link).is_some_and(|made| {
                    Some(&made.evidence) == evidence.as_ref()
                        && Some(made.rationale.as_str()) == rationale.as_deref().map(str::trim)
                        && (made.linked_on, made.by) == (on, by)
                })
            })
        };
        if let Some(found) = self.decision(id).filter(has_it) {
            return again(Some(found));
        }
        let linked = self
            .change(id, by, |found, state| {
                state.check_evidence(&evidence)?;
                decision::link_evidence(found, link, evidence.clone(), rationale, by, on, heard_api::today())
                    .map_err(ApiError::from)
            })
            .await;
        match linked {
            // The same request, sent twice at once: the other one may have made the link.
            Err(ApiError::Conflict(message)) => {
                idempotent::catch_up(&self.model).await?;
                match self.decision(id).filter(has_it) {
                    Some(found) => again(Some(found)),
                    None => Err(ApiError::Conflict(message)),
                }
            }
            answered => answered,
        }
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

    /// The model as it was at `position`. `until` stops earlier, at the last event recorded up
    /// to that moment (micros since the epoch): the log is read up to the first event recorded
    /// after it. Answered from the nearest history copy at or before `position` (and, with
    /// `until`, whose events were all recorded by then) plus the events after it, never by
    /// replaying the whole log when a copy will do; the same as a replay from the first event.
    /// The last few answers are kept in memory.
    pub async fn replay(&self, position: u64, until: Option<i64>) -> ApiResult<Arc<State>> {
        let asked = (position, until);
        if let Some(found) = self.cached(asked) {
            return Ok(found);
        }
        let store = self.model.store();
        let (mut state, next) = match self.models.nearest_at_or_before::<State>(NAME, store, position, until).await? {
            Some((state, at)) => (state, at + 1),
            None => (State::default(), 1),
        };
        apply_until(store, &mut state, next, position, until).await?;
        let state = Arc::new(state);
        if self.history.cached > 0 {
            let mut replayed = self.replayed.lock().unwrap_or_else(|p| p.into_inner());
            replayed.states.retain(|(key, _)| *key != asked);
            replayed.states.push_front((asked, state.clone()));
            replayed.states.truncate(self.history.cached);
        }
        Ok(state)
    }

    /// What a view of one decision needs of the model as it was at `position`, stopping before
    /// the first event recorded after `until`: the decision, the feedback items and complaints
    /// its links name, the themes, and the position and chain hash the replay would end at.
    /// Read from those streams alone (each is folded on its own, so their events give the same
    /// facts as the whole log would), not from a history copy of the whole model: a handful of
    /// short streams, whatever the size of the log. `None` when `until` is not the end of a
    /// quarter hour or `position` is past the model's, for [`replay`](Self::replay) to answer.
    pub async fn decision_then(&self, decision: Uuid, position: u64, until: Option<i64>) -> ApiResult<Option<State>> {
        let Some(end) = self.read(|now| now.replay_end(position, until)) else {
            return Ok(None);
        };
        let mut then = State::default();
        if end == 0 {
            return Ok(Some(then));
        }
        let store = self.store();
        let stream = StreamName::of(DECISION, decision).map_err(ApiError::internal)?;
        let mut events: Vec<RecordedEvent> = store.read_stream_to_end(&stream).await?;
        events.retain(|event| event.position <= end);
        for event in &events {
            then.apply(event).map_err(ApiError::internal)?;
        }
        let mut streams = Vec::new();
        for link in then.decisions.get(&decision).map(|found| found.links.as_slice()).unwrap_or_default() {
            match &link.evidence {
                Evidence::FeedbackItem { item } => streams.push(StreamName::of(feedback::FEEDBACK, item)),
                Evidence::ComplaintLearning { complaint } => streams.push(StreamName::of(rights::COMPLAINT, complaint)),
                Evidence::Theme { .. } | Evidence::AdvocacyTheme { .. } => {}
            }
        }
        let mut more = Vec::new();
        for stream in streams {
            let stream = stream.map_err(ApiError::internal)?;
            more.extend(store.read_stream_to_end(&stream).await?.into_iter().filter(|event| event.position <= end));
        }
        let mut from = 1;
        loop {
            let page = store.read_category(feedback::THEME, from, 1024).await?;
            let Some(last) = page.last().map(|event| event.position) else { break };
            from = last + 1;
            more.extend(page.into_iter().filter(|event| event.position <= end));
            if last >= end {
                break;
            }
        }
        more.sort_by_key(|event| event.position);
        more.dedup_by_key(|event| event.position);
        for event in &more {
            then.apply(event).map_err(ApiError::internal)?;
        }
        let last = store.read_all_raw(end, 1).await?;
        let last =
            last.first().filter(|event| event.position == end).ok_or_else(|| ApiError::internal("log ends early"))?;
        then.position = end;
        then.chain_head = crate::model::hex_of(&last.hash);
        Ok(Some(then))
    }

    /// The model as it was at `position` (and `until`), replayed from the first event of the
    /// log, without history copies or the cache: what [`replay`](Self::replay) must equal.
    pub async fn replay_from_the_start(&self, position: u64, until: Option<i64>) -> ApiResult<State> {
        let store = self.model.store();
        let mut state = State::default();
        apply_until(store, &mut state, 1, position, until).await?;
        Ok(state)
    }

    fn cached(&self, asked: Asked) -> Option<Arc<State>> {
        let mut replayed = self.replayed.lock().unwrap_or_else(|p| p.into_inner());
        let index = replayed.states.iter().position(|(key, _)| *key == asked)?;
        let found = replayed.states.remove(index)?;
        let state = found.1.clone();
        replayed.states.push_front(found);
        Some(state)
    }
}

/// Applies the log's events from `next` to `state`, up to `position` and before the first event
/// recorded after `until`.
async fn apply_until(
    store: &EventStore,
    state: &mut State,
    mut next: u64,
    position: u64,
    until: Option<i64>,
) -> ApiResult<()> {
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
    Ok(())
}

/// Why one item of several cannot be acknowledged: the same words whether it does not exist,
/// was not shared with commissioners, or is not the asker's to answer.
pub fn cannot_acknowledge(item: Uuid) -> String {
    format!(
        "item {item} cannot be acknowledged: it is not feedback shared with you that you may answer; \
         nothing was acknowledged"
    )
}
