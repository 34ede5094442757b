//! Commands and queries of the feedback service, over its own projection of the log
//! ([`crate::model`]), kept in memory by a [`LiveModel`] and rebuilt from `$all` on start; the
//! search index is updated by the same follower, in the same order, through its
//! [`AfterApply`] hook ([`Indexer`]).

use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use heard_access::{Actor, Consent};
use heard_api::{ApiError, ApiResult, idempotent};
use heard_contracts::privacy::{
    ErasureReason, FeedbackAttributed, PersonId, RecordKind, RecordRef, RetentionRules, WITHDRAWAL_WINDOW_MONTHS,
};
use heard_contracts::{Event as _, feedback as contract};
use heard_eventstore::{
    AfterApply, EventStore, ExpectedRevision, LiveModel, ModelStore, NewEvent, StreamName, SubjectId,
};
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

use crate::domain::gazetteer::{self, GAZETTEER, Gazetteer, GazetteerEntryAdded, GazetteerEntryRemoved, GazetteerKind};
use crate::domain::safeguarding::{self, Disclosure, FollowUpEvent, NewAction, SAFEGUARDING, SafeguardingOutcome};
use crate::domain::suggest::{self, Suggestion};
use crate::domain::themes::{THEME, ThemeAdded, ThemeMerged, ThemeRenamed};
use crate::domain::{self, *};
use crate::imports::postgres::ImportKey;
use crate::imports::postgres::InPostgres;
use crate::search::{SearchIndex, SearchOutcome, SearchRequest};

pub use crate::model::{Meeting, State};

/// A search hit the asker may see, with the item and which version of it they see.
#[derive(Clone, Debug)]
pub struct VisibleHit {
    pub hit: crate::search::Hit,
    pub item: Item,
    pub view: heard_access::FeedbackView,
}

/// The feedback service.
#[derive(Clone, Debug)]
pub struct FeedbackService {
    inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    model: LiveModel<State>,
    /// Uploaded spreadsheets being looked at, and their imports (`crate::imports`).
    pub(crate) imports: crate::imports::kept::Imports,
    /// The log position the search index has committed (searchable up to here).
    indexed: Arc<watch::Sender<u64>>,
    search: Arc<SearchIndex>,
    /// Each new item, as `(its log position, its id)`, for `feedbackLogged` subscribers.
    logged: broadcast::Sender<(u64, Uuid)>,
}

/// How many new items a `feedbackLogged` subscriber may fall behind by before it is told it
/// lagged (`LAGGED`) and must resume; `[server] subscription_buffer` changes it.
pub const SUBSCRIPTION_BUFFER: usize = 1024;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the search index: {0}")]
    Search(#[from] tantivy::TantivyError),
    #[error(transparent)]
    Store(heard_eventstore::Error),
    #[error("the feedback projection did not catch up with the log")]
    CatchUp,
}

impl From<heard_eventstore::Error> for StartError {
    fn from(error: heard_eventstore::Error) -> Self {
        match error {
            heard_eventstore::Error::CatchUp { .. } => StartError::CatchUp,
            error => StartError::Store(error),
        }
    }
}

pub fn today() -> jiff::civil::Date {
    jiff::Zoned::now().date()
}

/// What an erased item answers to any change that is not new personal text.
const ERASED_ITEM: &str = "this item was erased; nothing more can be done with it";

/// Whether a speaker who withdraws on `today` is within [`WITHDRAWAL_WINDOW_MONTHS`] calendar
/// months of the day they spoke (`said_on`, `YYYY-MM-DD`): the same day six months on still is
/// (31 August → 28 or 29 February). A day that does not parse is not within it.
pub fn within_withdrawal_window(said_on: &str, today: jiff::civil::Date) -> bool {
    let Ok(said) = said_on.parse::<jiff::civil::Date>() else { return false };
    said.checked_add(jiff::Span::new().months(WITHDRAWAL_WINDOW_MONTHS)).is_ok_and(|last| today <= last)
}

impl FeedbackService {
    /// Seeds the themes in a new store, opens the search index, and catches up with the log.
    /// Spreadsheet drafts and jobs are kept in this process's memory: what a server over an
    /// embedded log and the commands run with Heard stopped use.
    pub async fn open(store: EventStore, data_dir: &Path, models: &ModelStore) -> Result<Self, StartError> {
        Self::open_with(store, data_dir, models, None).await
    }

    /// As [`Self::open`]; over a PostgreSQL log and given `import_key` (derived from the server
    /// key), spreadsheet drafts and jobs are kept in the database, sealed under that key, so
    /// that every replica shows them (`crate::imports::postgres`).
    pub async fn open_with(
        store: EventStore,
        data_dir: &Path,
        models: &ModelStore,
        import_key: Option<ImportKey>,
    ) -> Result<Self, StartError> {
        Self::open_buffered(store, data_dir, models, import_key, SUBSCRIPTION_BUFFER).await
    }

    /// As [`Self::open_with`], a `feedbackLogged` subscriber being told it lagged once it is
    /// `buffer` new items behind (at least 1).
    pub async fn open_buffered(
        store: EventStore,
        data_dir: &Path,
        models: &ModelStore,
        import_key: Option<ImportKey>,
        buffer: usize,
    ) -> Result<Self, StartError> {
        seed_themes(&store).await?;
        let search = Arc::new(SearchIndex::open(data_dir)?);
        Self::start_buffered(store, search, models, import_key, buffer).await
    }

    /// Starts over an index (fresh or existing) and the saved model; used by `open` and by a
    /// rebuild. The model is loaded from what it saved only as far as the index has committed:
    /// a fresh index rebuilds both from the log.
    pub async fn start(store: EventStore, search: Arc<SearchIndex>, models: &ModelStore) -> Result<Self, StartError> {
        Self::start_with(store, search, models, None).await
    }

    /// As [`Self::start`], keeping spreadsheet drafts as [`Self::open_with`] says.
    pub async fn start_with(
        store: EventStore,
        search: Arc<SearchIndex>,
        models: &ModelStore,
        import_key: Option<ImportKey>,
    ) -> Result<Self, StartError> {
        Self::start_buffered(store, search, models, import_key, SUBSCRIPTION_BUFFER).await
    }

    async fn start_buffered(
        store: EventStore,
        search: Arc<SearchIndex>,
        models: &ModelStore,
        import_key: Option<ImportKey>,
        buffer: usize,
    ) -> Result<Self, StartError> {
        let imports = match (store.postgres_pool(), import_key) {
            (Some(pool), Some(key)) => crate::imports::kept::Imports::new(InPostgres::start(pool, key)),
            _ => crate::imports::kept::Imports::default(),
        };
        let indexed = Arc::new(watch::channel(search.applied_position()).0);
        let logged = broadcast::channel(buffer.max(1)).0;
        let indexer = Indexer::start(search.clone(), store.clone(), indexed.clone(), logged.clone());
        // An erasure is done only once the index has purged it too (see `Indexer`).
        store.following("feedback search", indexed.subscribe());
        let model = LiveModel::start_kept("feedback", store, Duration::from_secs(600), indexer, models).await?;
        Ok(FeedbackService { inner: Arc::new(Inner { model, indexed, search, logged, imports }) })
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// Waits for the follower to stop after the store closed (the index has committed by then).
    pub async fn stopped(&self) {
        self.inner.model.stopped().await;
    }

    /// Waits until everything up to `position` is searchable; false after `timeout`.
    pub async fn wait_searchable(&self, position: u64, timeout: Duration) -> bool {
        let mut indexed = self.inner.indexed.subscribe();
        tokio::time::timeout(timeout, indexed.wait_for(|at| *at >= position)).await.is_ok()
    }

    /// How many `feedbackLogged` subscribers are listening now.
    pub fn subscribers(&self) -> usize {
        self.inner.logged.receiver_count()
    }

    pub fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        self.inner.model.read(f)
    }

    /// An item with its words opened now (`None` where the speaker was erased).
    pub fn item(&self, id: Uuid) -> Option<Item> {
        let store = self.store();
        self.read(|state| Some(state.opened(store, state.item(id)?.clone())))
    }

    /// `item` (as the model holds it, without its words) with its words opened now.
    pub fn opened(&self, item: &Item) -> Item {
        let store = self.store();
        self.read(|state| state.opened(store, item.clone()))
    }

    /// A meeting's minutes, opened now; `None` before they are recorded or once erased.
    pub fn minutes(&self, meeting: &Meeting) -> Option<String> {
        let sealed = meeting.minutes.as_ref()?;
        crate::model::unseal(self.store(), sealed).map(|minutes| minutes.minutes)
    }

    /// New items as they are logged, `(log position, id)` in log order, each announced once the
    /// model holds it; the subscriber checks each against the policy. A receiver more than
    /// [`SUBSCRIPTION_BUFFER`] (or the configured buffer) behind is told it lagged.
    pub fn logged_items(&self) -> broadcast::Receiver<(u64, Uuid)> {
        self.inner.logged.subscribe()
    }

    pub fn store(&self) -> &EventStore {
        self.inner.model.store()
    }

    async fn append(&self, stream: &StreamName, expected: ExpectedRevision, events: Vec<NewEvent>) -> ApiResult<u64> {
        Ok(self.inner.model.append(stream, expected, events).await?.last_position)
    }

    fn new_event(event_type: &str, data: &impl serde::Serialize, by: Uuid) -> ApiResult<NewEvent> {
        Ok(NewEvent::new(event_type, 1, data)
            .map_err(ApiError::internal)?
            .with_metadata(serde_json::json!({ "actor": by })))
    }

    /// Resolves theme names or ids to live theme ids, naming the field on an unknown one.
    pub fn resolve_themes(&self, field: &str, themes: &[String]) -> ApiResult<BTreeSet<String>> {
        self.read(|state| {
            themes
                .iter()
                .enumerate()
                .map(|(index, theme)| {
                    state
                        .vocabulary
                        .find(theme)
                        .map(|found| found.id.clone())
                        .ok_or_else(|| ApiError::bad_input(format!("{field}[{index}]"), "there is no such theme"))
                })
                .collect()
        })
    }

    /// Logs one item. `new.hub` must be a known hub; the policy was checked by the caller.
    pub async fn log(&self, by: Uuid, new: NewItem) -> ApiResult<Item> {
        self.log_for(by, new, None).await
    }

    /// Logs one item said by `person` (when given): the item and its attribution are appended
    /// together. An unknown person is refused naming `person`, an erased one with
    /// [`heard_api::erasure::refused_for_erased`].
    pub async fn log_for(&self, by: Uuid, new: NewItem, person: Option<PersonId>) -> ApiResult<Item> {
        self.log_as(Uuid::new_v4(), by, new, person).await
    }

    /// [`Self::log_for`] as the item `id` (from [`idempotent::record_id`]). When `id` was logged
    /// already (the same request sent again), nothing is appended: the item is answered as it
    /// is if `by` logged it with the same details, and otherwise refused
    /// ([`idempotent::sent_differently`]).
    pub async fn log_as(&self, id: Uuid, by: Uuid, mut new: NewItem, person: Option<PersonId>) -> ApiResult<Item> {
        if new.provider.is_none() {
            new.provider = new.about.as_deref().and_then(|about| self.read(|state| state.match_provider(about)));
        }
        if self.read(|state| state.items.contains_key(&id)) {
            return self.logged_again(id, by, new, person);
        }
        if let Some(person) = person {
            self.check_person(person)?;
        }
        let known_hub = self.read(|state| state.reference.hubs.contains_key(&new.hub));
        if !known_hub {
            return Err(ApiError::bad_input("hub", "there is no such hub; see the `hubs` query"));
        }
        if let Some(provider) = &new.provider
            && !self.read(|state| state.reference.providers.contains_key(provider))
        {
            return Err(ApiError::bad_input("provider", "there is no such provider; see the `providers` query"));
        }
        if let Some(meeting) = new.meeting {
            let found = self.read(|state| state.meetings.get(&meeting).map(|m| (m.hub == new.hub, m.is_open())));
            match found {
                Some((true, true)) => {}
                Some((true, false)) if new.import_key.is_some() => {}
                Some((true, false)) => {
                    return Err(ApiError::bad_input("meeting", "this meeting has ended; start a new one to log into"));
                }
                _ => return Err(ApiError::bad_input("meeting", "there is no such meeting of this hub")),
            }
        }
        let again = new.clone();
        let Event::Logged(logged, personal) = domain::log(id, by, new, today()).map_err(ApiError::from)? else {
            return Err(ApiError::internal("log produced another event"));
        };
        let hub = logged.hub.clone();
        let event = Self::new_event(contract::FeedbackLogged::TYPE, &logged, by)?
            .with_personal(SubjectId::new(), &personal)
            .map_err(ApiError::internal)?;
        let mut events = vec![event];
        if let Some(person) = person {
            let attributed = FeedbackAttributed { item: id, person, hub, by };
            events.push(Self::new_event(FeedbackAttributed::TYPE, &attributed, by)?);
        }
        let stream = StreamName::of(FEEDBACK, id).map_err(ApiError::internal)?;
        // The same request sent twice at once: the other one logged it.
        let read = || self.item(id);
        let logged_again = |_| self.logged_again(id, by, again, person);
        idempotent::start_record(&self.inner.model, &stream, events, read, logged_again, ApiError::from).await
    }

    /// The answer to `logFeedback` sent again for the item `id`: the item, when `by` logged it
    /// with these details (its words and speaker as they were given, compared once opened);
    /// otherwise refused on `clientMutationId`, saying nothing about what the item holds.
    fn logged_again(&self, id: Uuid, by: Uuid, new: NewItem, person: Option<PersonId>) -> ApiResult<Item> {
        let Event::Logged(logged, personal) = domain::log(id, by, new, today()).map_err(ApiError::from)? else {
            return Err(ApiError::internal("log produced another event"));
        };
        let found = self.item(id).filter(|item| !item.erased);
        idempotent::again(found, |item| {
            item.logged == logged
                && item.text.as_deref() == Some(personal.text.as_str())
                && item.speaker == personal.speaker
                && person.is_none_or(|person| item.person == Some(person))
        })
    }

    /// Imports rows already checked by `import::parse`. Rows whose content was imported before
    /// (same import key) are skipped, so a second import of the same file adds nothing, and an
    /// import cut short can simply be run again. Up to 64 rows are appended at once so that
    /// they share fsyncs. Returns (imported, skipped as already there).
    pub async fn import(&self, by: Uuid, rows: Vec<NewItem>) -> ApiResult<(usize, usize)> {
        use futures::StreamExt as _;
        // Two imports of one file at once, on any replicas, must not both find a row new and
        // both add it: one at a time, each reading first what the one before it added.
        let _adding = self.store().exclusive(IMPORTING).await.map_err(ApiError::internal)?;
        let head = self.store().refresh_head().await.map_err(ApiError::internal)?;
        if !self.inner.model.wait_for(head, Duration::from_secs(10)).await {
            return Err(ApiError::internal(format!("the feedback model did not reach position {head} within 10 s")));
        }
        let count = rows.len();
        let mut seen = HashSet::new();
        let mut fresh = Vec::new();
        for row in rows {
            let key = row.import_key.clone().unwrap_or_default();
            let already = self.read(|state| state.import_keys.contains(&key));
            if !already && seen.insert(key) {
                fresh.push(row);
            }
        }
        let total = fresh.len();
        let skipped = count - total;
        let mut appends = futures::stream::iter(fresh.into_iter().map(|row| self.log(by, row))).buffer_unordered(64);
        while let Some(result) = appends.next().await {
            result?;
        }
        Ok((total, skipped))
    }

    /// Appends one event decided from the item's current state, with an exact expected revision
    /// so that two people moderating at once cannot overwrite each other.
    ///
    /// An erased item takes nothing more: new personal text (`personal` names its field) is
    /// refused with [`heard_api::erasure::refused_for_erased`], anything else as a conflict.
    async fn change(
        &self,
        id: Uuid,
        by: Uuid,
        personal: Option<&str>,
        decide: impl FnOnce(&Item) -> Result<Event, Rejection>,
    ) -> ApiResult<Item> {
        let item = self.item(id).ok_or(ApiError::NotFound)?;
        if item.erased {
            return Err(match personal {
                Some(field) => heard_api::erasure::refused_for_erased(field),
                None => ApiError::Conflict(ERASED_ITEM.into()),
            });
        }
        let event = decide(&item).map_err(ApiError::from)?;
        let subject = self.read(|state| state.subjects.get(&id).copied());
        let new_event = match &event {
            Event::Redacted(data, personal) => Self::new_event(event.event_type(), data, by)?
                .with_personal(subject.unwrap_or_default(), personal)
                .map_err(ApiError::internal)?,
            Event::Shared(data) => Self::new_event(event.event_type(), data, by)?,
            Event::Held(data) => Self::new_event(event.event_type(), data, by)?,
            Event::Released(data) => Self::new_event(event.event_type(), data, by)?,
            Event::ConsentChanged(data) => Self::new_event(event.event_type(), data, by)?,
            Event::SafeguardingFlagged(data) => Self::new_event(event.event_type(), data, by)?,
            Event::FedBack(data) => Self::new_event(event.event_type(), data, by)?,
            Event::Withdrawn(data) => Self::new_event(event.event_type(), data, by)?,
            Event::Edited(data, personal) => Self::new_event(event.event_type(), data, by)?
                .with_personal(subject.unwrap_or_default(), personal)
                .map_err(ApiError::internal)?,
            Event::Logged(..) => return Err(ApiError::internal("an item cannot be logged twice")),
        };
        let stream = StreamName::of(FEEDBACK, id).map_err(ApiError::internal)?;
        match self.inner.model.append(&stream, ExpectedRevision::Exact(item.revision), vec![new_event]).await {
            Ok(_) => {}
            // Erased between the check and the append: the store refuses the sealed words.
            Err(heard_eventstore::Error::SubjectErased) => {
                return Err(heard_api::erasure::refused_for_erased(personal.unwrap_or("id")));
            }
            Err(error) => return Err(error.into()),
        }
        // As it stands now, even when this change took it back (`withdraw`).
        let store = self.store();
        self.read(|state| Some(state.opened(store, state.items.get(&id)?.clone()))).ok_or(ApiError::NotFound)
    }

    pub async fn redact(&self, id: Uuid, by: Uuid, passages: &[String]) -> ApiResult<Item> {
        self.change(id, by, Some("passages"), |item| domain::redact(item, by, passages)).await
    }

    pub async fn share(&self, id: Uuid, by: Uuid) -> ApiResult<Item> {
        self.change(id, by, None, |item| domain::share(item, by)).await
    }

    pub async fn hold(&self, id: Uuid, by: Uuid, reason: &str) -> ApiResult<Item> {
        self.change(id, by, None, |item| domain::hold(item, by, reason)).await
    }

    /// Puts a held item back in the hub's queue to moderate.
    pub async fn release(&self, id: Uuid, by: Uuid) -> ApiResult<Item> {
        self.change(id, by, None, |item| domain::release(item, by)).await
    }

    /// Narrows or withdraws consent. A withdrawal within [`WITHDRAWAL_WINDOW_MONTHS`] calendar
    /// months of the day the item was said (that day six months on still counts) erases the
    /// item too, through [`heard_api::erasure::erase`] with
    /// [`ErasureReason::WithdrewWithinSixMonths`], after the change is appended: the answer
    /// comes back erased. Later than that, the item is only hidden; so is an item flagged for
    /// safeguarding, whose disclosure and follow-up must not be lost. If the process stops
    /// between the change and the erasure, [`Self::finish_withdrawals`] erases the item when
    /// Heard starts again.
    pub async fn change_consent(&self, id: Uuid, by: Uuid, consent: Option<Consent>) -> ApiResult<Item> {
        self.change_consent_on(id, by, consent, today()).await
    }

    /// [`Self::change_consent`] as if today were `today`.
    pub async fn change_consent_on(
        &self,
        id: Uuid,
        by: Uuid,
        consent: Option<Consent>,
        today: jiff::civil::Date,
    ) -> ApiResult<Item> {
        let changed = self.change(id, by, None, |item| domain::change_consent(item, by, consent)).await?;
        // A disclosure of risk is a duty-of-care record that must not be lost: withdrawing hides
        // it like any item, and erasing it is for a person's request (`eraseSubject`), decided
        // by a person.
        if consent.is_some()
            || changed.safeguarding.is_some()
            || !within_withdrawal_window(&changed.logged.said_on, today)
        {
            return Ok(changed);
        }
        self.erase_withdrawn(id, by).await?;
        // Answer once every model and the search index's files hold none of the words.
        self.wait_for_erasures().await;
        let store = self.store();
        self.read(|state| Some(state.opened(store, state.items.get(&id)?.clone()))).ok_or(ApiError::NotFound)
    }

    /// Erases the item `id` whose speaker withdrew within the window, as `by` asked. An
    /// erasure of this item alone that is already on the log (another replica finishing the
    /// same withdrawal at its start) is no failure: the item is erased.
    async fn erase_withdrawn(&self, id: Uuid, by: Uuid) -> ApiResult<()> {
        let record = [RecordRef { kind: RecordKind::FeedbackItem, id }];
        let erasing =
            heard_api::erasure::erase(self.store(), None, &record, Some(by), ErasureReason::WithdrewWithinSixMonths);
        match erasing.await {
            Ok(_) | Err(ApiError::Conflict(_)) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Waits (up to 10 s) until every model, and the search index's files, have applied the
    /// log as it is now.
    async fn wait_for_erasures(&self) {
        let erased_at = self.store().head().position;
        if !self.store().models_reached(erased_at, Duration::from_secs(10)).await {
            tracing::warn!(position = erased_at, "a withdrawal's erasure was not applied everywhere within 10 s");
        }
    }

    /// The items whose speaker withdrew consent within [`WITHDRAWAL_WINDOW_MONTHS`] of speaking
    /// (counted to the day the withdrawal was recorded, as [`Self::change_consent`] counted it)
    /// and that are not erased: a withdrawal whose process stopped after appending the consent
    /// change and before the erasure. Never an item flagged for safeguarding, which a
    /// withdrawal only hides. Oldest first.
    pub fn withdrawals_not_erased(&self) -> Vec<(Uuid, Uuid)> {
        self.read(|state| {
            state
                .order
                .iter()
                .filter_map(|id| state.items.get(id))
                .filter(|item| !item.erased && item.consent.is_none() && item.safeguarding.is_none())
                .filter_map(|item| {
                    let withdrawal = item.consent_history.iter().rev().find(|step| step.consent.is_none())?;
                    let on = domain::day_of(withdrawal.at_micros).parse::<jiff::civil::Date>().ok()?;
                    within_withdrawal_window(&item.logged.said_on, on).then_some((item.logged.item, withdrawal.by))
                })
                .collect()
        })
    }

    /// Finishes every withdrawal that should have erased its item and did not (see
    /// [`Self::withdrawals_not_erased`]): erases each item, as the coordinator who recorded the
    /// withdrawal asked, and waits until every model and the search index have applied the
    /// erasures. `heard serve` calls it at start, before it answers, and with each daily
    /// retention run. Returns how many items it erased.
    pub async fn finish_withdrawals(&self) -> ApiResult<usize> {
        let unfinished = self.withdrawals_not_erased();
        for (id, by) in &unfinished {
            self.erase_withdrawn(*id, *by).await?;
        }
        if !unfinished.is_empty() {
            tracing::info!(erased = unfinished.len(), "finished withdrawals cut short before their erasure");
            self.wait_for_erasures().await;
        }
        Ok(unfinished.len())
    }

    /// Waits (up to 10 s) until the model, and the search index beside it, have applied
    /// everything in the log now.
    pub async fn caught_up(&self) -> bool {
        self.inner.model.caught_up(Duration::from_secs(10)).await
    }

    /// Refuses a person this service cannot attach a record to: unknown (no service ever said a
    /// record is about them), or erased, as every service refuses them
    /// ([`heard_api::persons::Persons::check`]). Who may name a person is asked before, by the
    /// caller ([`heard_api::persons::authorize_naming`]).
    fn check_person(&self, person: PersonId) -> ApiResult<()> {
        self.read(|state| state.persons.check(person))
    }

    /// Says the item's speaker is `person` (a new person when `None`), as the item's hub's
    /// coordinator `by` (the caller checked the policy). An item is about one person at most:
    /// attributing it to another person moves it to them (the latest attribution counts, and
    /// the log keeps both); attributing it to the person it is already about changes nothing.
    pub async fn attribute(&self, id: Uuid, by: Uuid, person: Option<PersonId>) -> ApiResult<Item> {
        let item = self.item(id).ok_or(ApiError::NotFound)?;
        if let Some(person) = person {
            self.check_person(person)?;
        }
        if item.erased {
            return Err(heard_api::erasure::refused_for_erased("itemId"));
        }
        let person = person.unwrap_or_default();
        if item.person != Some(person) {
            let attributed = FeedbackAttributed { item: id, person, hub: item.logged.hub.clone(), by };
            let event = Self::new_event(FeedbackAttributed::TYPE, &attributed, by)?;
            let stream = StreamName::of(FEEDBACK, id).map_err(ApiError::internal)?;
            self.append(&stream, ExpectedRevision::Exact(item.revision), vec![event]).await?;
        }
        self.item(id).ok_or(ApiError::NotFound)
    }

    /// The feedback items whose retention period has ended on `today`: never shared beyond
    /// their hub, not erased, and said more than `feedback_not_shared_days` days before
    /// `today`. Items taken back by the person who logged them count too (their words are
    /// still held). Nothing when the rules keep such items.
    pub fn due_for_retention(&self, today: jiff::civil::Date, rules: &RetentionRules) -> Vec<RecordRef> {
        let Some(days) = rules.feedback_not_shared_days else { return Vec::new() };
        let Ok(cutoff) = today.checked_sub(jiff::Span::new().days(i64::from(days))) else { return Vec::new() };
        self.read(|state| {
            state
                .order
                .iter()
                .filter_map(|id| state.items.get(id))
                .filter(|item| !item.erased && item.shared_at_micros.is_none())
                .filter(|item| item.logged.said_on.parse::<jiff::civil::Date>().is_ok_and(|said| said < cutoff))
                .map(|item| RecordRef { kind: RecordKind::FeedbackItem, id: item.logged.item })
                .collect()
        })
    }

    /// "Undo": the person who logged the item takes it back, within minutes and before anyone
    /// moderated it.
    pub async fn withdraw(&self, id: Uuid, by: Uuid) -> ApiResult<()> {
        let now = jiff::Timestamp::now().as_microsecond();
        self.change(id, by, None, |item| domain::withdraw(item, by, now)).await.map(|_| ())
    }

    /// The person who logged the item corrects its words and themes before anyone moderated it.
    pub async fn edit(&self, id: Uuid, by: Uuid, text: &str, themes: &[String]) -> ApiResult<Item> {
        let themes = self.resolve_themes("themes", themes)?;
        self.change(id, by, Some("text"), |item| domain::edit(item, by, text, themes)).await
    }

    /// Starts meeting mode: a meeting of `hub` on `held_on`, at `place`.
    pub async fn start_meeting(&self, by: Uuid, hub: String, held_on: &str, place: &str) -> ApiResult<Meeting> {
        self.start_meeting_as(Uuid::new_v4(), by, hub, held_on, place).await
    }

    /// [`Self::start_meeting`] as the meeting `meeting` (from [`idempotent::record_id`]): when
    /// it was started already, it is answered as it is if `by` started it with these details,
    /// and nothing is appended.
    pub async fn start_meeting_as(
        &self,
        meeting: Uuid,
        by: Uuid,
        hub: String,
        held_on: &str,
        place: &str,
    ) -> ApiResult<Meeting> {
        let started = domain::start_meeting(meeting, by, hub, held_on, place, today()).map_err(ApiError::from)?;
        let again = |found: Option<Meeting>| {
            idempotent::again(found, |found| {
                found.by == started.by
                    && found.hub == started.hub
                    && found.held_on == started.held_on
                    && found.place.as_deref() == Some(started.place.as_str())
            })
        };
        if let Some(found) = self.meeting(meeting) {
            return again(Some(found));
        }
        if !self.read(|state| state.reference.hubs.contains_key(&started.hub)) {
            return Err(ApiError::bad_input("hub", "there is no such hub; see the `hubs` query"));
        }
        let event = Self::new_event(MeetingStarted::TYPE, &started, by)?;
        let stream = StreamName::of(MEETING, meeting).map_err(ApiError::internal)?;
        let read = || self.meeting(meeting);
        idempotent::start_record(&self.inner.model, &stream, vec![event], read, again, ApiError::from).await
    }

    pub fn meeting(&self, id: Uuid) -> Option<Meeting> {
        self.read(|state| state.meetings.get(&id).cloned())
    }

    /// Ends a meeting started in meeting mode: how many came and the minutes. Its items are
    /// those logged into it.
    pub async fn end_meeting(&self, by: Uuid, id: Uuid, attendance: i64, minutes: &str) -> ApiResult<Meeting> {
        let meeting = self.meeting(id).ok_or(ApiError::NotFound)?;
        if !meeting.is_open() {
            return Err(ApiError::bad_input("meetingId", "this meeting has already been recorded"));
        }
        let items = self.read(|state| state.meeting_items(&meeting).iter().map(|item| item.logged.item).collect());
        let (recorded, personal) =
            domain::record_meeting(id, by, meeting.hub.clone(), &meeting.held_on, attendance, minutes, items, today())
                .map_err(ApiError::from)?;
        let event = Self::new_event(MeetingRecorded::TYPE, &recorded, by)?
            .with_personal(SubjectId::new(), &personal)
            .map_err(ApiError::internal)?;
        let stream = StreamName::of(MEETING, id).map_err(ApiError::internal)?;
        self.append(&stream, ExpectedRevision::Exact(meeting.revision), vec![event]).await?;
        self.meeting(id).ok_or_else(|| ApiError::internal("meeting missing"))
    }

    /// Records that the item was reported back to its hub, at `meeting` (one of the hub's) if
    /// given.
    pub async fn fed_back(&self, id: Uuid, by: Uuid, meeting: Option<Uuid>) -> ApiResult<Item> {
        let hub = self.item(id).map(|item| item.logged.hub).ok_or(ApiError::NotFound)?;
        if let Some(meeting) = meeting {
            let same_hub = self.read(|state| state.meetings.get(&meeting).map(|m| m.hub == hub));
            if same_hub != Some(true) {
                return Err(ApiError::bad_input("meetingId", "there is no such meeting of this hub"));
            }
        }
        self.change(id, by, None, |item| domain::fed_back(item, by, meeting)).await
    }

    /// Routes the item to `coordinator`, who must coordinate the item's hub.
    pub async fn flag_safeguarding(&self, id: Uuid, by: Uuid, coordinator: Uuid) -> ApiResult<Item> {
        let hub = self.item(id).map(|item| item.logged.hub).ok_or(ApiError::NotFound)?;
        if !self.coordinates(coordinator, &hub) {
            return Err(ApiError::bad_input("coordinatorId", "choose a coordinator of this item's hub"));
        }
        self.change(id, by, None, |item| domain::flag_safeguarding(item, by, coordinator)).await
    }

    /// A flagged item's disclosure and its follow-up.
    pub fn disclosure(&self, id: Uuid) -> Option<Disclosure> {
        let store = self.store();
        self.read(|state| Some(state.opened_disclosure(store, state.disclosures.get(&id)?.clone())))
    }

    /// Appends the follow-up event decided from the disclosure as it stands, at its follow-up
    /// stream's exact revision, with its notes sealed under the key of the person who disclosed
    /// (erasing them erases the notes too).
    async fn follow_up(
        &self,
        id: Uuid,
        by: Uuid,
        decide: impl FnOnce(&Disclosure) -> Result<FollowUpEvent, Rejection>,
    ) -> ApiResult<Disclosure> {
        let disclosure = self.disclosure(id).ok_or(ApiError::NotFound)?;
        let erased = self.read(|state| state.items.get(&id).is_some_and(|item| item.erased));
        let event = decide(&disclosure).map_err(ApiError::from)?;
        if erased && event.notes().sealed().is_some() {
            return Err(heard_api::erasure::refused_for_erased("notes"));
        }
        let mut new_event = match &event {
            FollowUpEvent::ActionRecorded(data, _) => Self::new_event(event.event_type(), data, by)?,
            FollowUpEvent::HandedOver(data, _) => Self::new_event(event.event_type(), data, by)?,
            FollowUpEvent::Closed(data, _) => Self::new_event(event.event_type(), data, by)?,
        };
        if let Some(notes) = event.notes().sealed() {
            let subject = self
                .read(|state| state.subjects.get(&id).copied())
                .ok_or_else(|| ApiError::internal("a flagged item has no subject key"))?;
            new_event = new_event.with_personal(subject, &notes).map_err(ApiError::internal)?;
        }
        let expected = match disclosure.revision {
            None => ExpectedRevision::NoStream,
            Some(revision) => ExpectedRevision::Exact(revision),
        };
        let stream = StreamName::of(SAFEGUARDING, id).map_err(ApiError::internal)?;
        match self.inner.model.append(&stream, expected, vec![new_event]).await {
            Ok(_) => {}
            Err(heard_eventstore::Error::SubjectErased) => return Err(heard_api::erasure::refused_for_erased("notes")),
            Err(error) => return Err(error.into()),
        }
        self.disclosure(id).ok_or(ApiError::NotFound)
    }

    /// Records a step taken about a disclosure, on the day it happened.
    pub async fn record_safeguarding_action(&self, id: Uuid, by: Uuid, new: NewAction) -> ApiResult<Disclosure> {
        self.follow_up(id, by, |disclosure| safeguarding::record_action(disclosure, by, new, today())).await
    }

    /// Hands a disclosure to `to`, who must coordinate its hub.
    pub async fn hand_safeguarding_over(
        &self,
        id: Uuid,
        by: Uuid,
        to: Uuid,
        notes: Option<String>,
    ) -> ApiResult<Disclosure> {
        let hub = self.disclosure(id).map(|disclosure| disclosure.hub).ok_or(ApiError::NotFound)?;
        let coordinates = self.coordinates(to, &hub);
        self.follow_up(id, by, |disclosure| safeguarding::hand_over(disclosure, by, to, coordinates, notes)).await
    }

    /// Marks a disclosure dealt with, with what came of it.
    pub async fn close_safeguarding(
        &self,
        id: Uuid,
        by: Uuid,
        outcome: Option<SafeguardingOutcome>,
        notes: Option<String>,
    ) -> ApiResult<Disclosure> {
        self.follow_up(id, by, |disclosure| safeguarding::close(disclosure, by, outcome, notes)).await
    }

    /// Whether `account` coordinates `hub`, and so may receive its disclosures.
    fn coordinates(&self, account: Uuid, hub: &str) -> bool {
        self.read(|state| {
            state
                .reference
                .accounts
                .get(&account)
                .is_some_and(|account| heard_access::takes_safeguarding_for(&account.roles, &account.hubs, hub))
        })
    }

    /// The coordinators of a hub, for choosing who receives a safeguarding item.
    pub fn coordinators_of(&self, hub: &str) -> Vec<Uuid> {
        self.read(|state| {
            let mut found: Vec<Uuid> = state
                .reference
                .accounts
                .iter()
                .filter(|(_, account)| heard_access::takes_safeguarding_for(&account.roles, &account.hubs, hub))
                .map(|(id, _)| *id)
                .collect();
            found.sort();
            found
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn record_meeting(
        &self,
        by: Uuid,
        hub: String,
        held_on: &str,
        attendance: i64,
        minutes: &str,
        items: Vec<Uuid>,
    ) -> ApiResult<Meeting> {
        self.record_meeting_as(Uuid::new_v4(), by, hub, held_on, attendance, minutes, items).await
    }

    /// [`Self::record_meeting`] as the meeting `meeting` (from [`idempotent::record_id`]): when
    /// it was recorded already, it is answered as it is if `by` recorded it with these details
    /// (its minutes compared once opened), and nothing is appended.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_meeting_as(
        &self,
        meeting: Uuid,
        by: Uuid,
        hub: String,
        held_on: &str,
        attendance: i64,
        minutes: &str,
        items: Vec<Uuid>,
    ) -> ApiResult<Meeting> {
        let (recorded, personal) =
            domain::record_meeting(meeting, by, hub, held_on, attendance, minutes, items, today())
                .map_err(ApiError::from)?;
        let again = |found: Option<Meeting>| {
            let found = found.map(|found| {
                let minutes = self.minutes(&found);
                (found, minutes)
            });
            idempotent::again(found, |(found, minutes)| {
                found.by == recorded.by
                    && found.hub == recorded.hub
                    && found.held_on == recorded.held_on
                    && found.place.is_none()
                    && found.attendance == Some(recorded.attendance)
                    && found.recorded_items == recorded.items
                    && minutes.as_deref() == Some(personal.minutes.as_str())
            })
            .map(|(found, _)| found)
        };
        if let Some(found) = self.meeting(meeting) {
            return again(Some(found));
        }
        if !self.read(|state| state.reference.hubs.contains_key(&recorded.hub)) {
            return Err(ApiError::bad_input("hub", "there is no such hub; see the `hubs` query"));
        }
        for (index, item) in recorded.items.iter().enumerate() {
            if self.item(*item).map(|found| found.logged.hub).as_ref() != Some(&recorded.hub) {
                return Err(ApiError::bad_input(format!("itemIds[{index}]"), "this item is not one of this hub's"));
            }
        }
        let event = Self::new_event(MeetingRecorded::TYPE, &recorded, by)?
            .with_personal(SubjectId::new(), &personal)
            .map_err(ApiError::internal)?;
        let stream = StreamName::of(MEETING, meeting).map_err(ApiError::internal)?;
        let read = || self.meeting(meeting);
        idempotent::start_record(&self.inner.model, &stream, vec![event], read, again, ApiError::from).await
    }

    /// The hub's gazetteer as it stands (empty when nothing was ever added).
    pub fn gazetteer(&self, hub: &str) -> Gazetteer {
        let store = self.store();
        self.read(|state| state.opened_gazetteer(store, hub))
    }

    /// Adds a name or place to `hub`'s gazetteer; returns the new entry. The name is sealed
    /// under a key of the entry's own.
    pub async fn add_to_gazetteer(
        &self,
        by: Uuid,
        hub: &str,
        name: &str,
        kind: Option<GazetteerKind>,
    ) -> ApiResult<gazetteer::Entry> {
        if !self.read(|state| state.reference.hubs.contains_key(hub)) {
            return Err(ApiError::bad_input("hub", "there is no such hub; see the `hubs` query"));
        }
        let list = self.gazetteer(hub);
        let entry = Uuid::new_v4();
        let (added, personal) = gazetteer::add(&list, entry, hub, by, name, kind).map_err(ApiError::from)?;
        let event = Self::new_event(GazetteerEntryAdded::TYPE, &added, by)?
            .with_personal(SubjectId::new(), &personal)
            .map_err(ApiError::internal)?;
        self.append_to_gazetteer(hub, &list, event).await?;
        self.gazetteer(hub).entries.remove(&entry).ok_or_else(|| ApiError::internal("a new entry is missing"))
    }

    /// Takes an entry off `hub`'s gazetteer.
    pub async fn remove_from_gazetteer(&self, by: Uuid, hub: &str, entry: Uuid) -> ApiResult<()> {
        let list = self.gazetteer(hub);
        let removed = gazetteer::remove(&list, entry, by).map_err(ApiError::from)?;
        let event = Self::new_event(GazetteerEntryRemoved::TYPE, &removed, by)?;
        self.append_to_gazetteer(hub, &list, event).await
    }

    /// Appends to a hub's gazetteer at the revision `list` was read at, so that two
    /// coordinators changing it at once cannot overwrite each other.
    async fn append_to_gazetteer(&self, hub: &str, list: &Gazetteer, event: NewEvent) -> ApiResult<()> {
        let stream = StreamName::of(GAZETTEER, hub).map_err(ApiError::internal)?;
        let expected = list.revision.map_or(ExpectedRevision::NoStream, ExpectedRevision::Exact);
        self.append(&stream, expected, vec![event]).await.map(|_| ())
    }

    /// The passages of an item's shareable words that could identify someone: its hub's
    /// gazetteer and the detector's findings ([`domain::suggest`]). Nothing once consent is
    /// withdrawn.
    pub fn suggested_redactions(&self, item: &Item) -> Vec<Suggestion> {
        let item = self.opened(item);
        let Some(text) = item.redacted_text.as_deref().or(item.hub_text()).filter(|_| item.consent.is_some()) else {
            return Vec::new();
        };
        let list = self.gazetteer(&item.logged.hub);
        suggest::suggest(text, &list.names())
    }

    pub async fn add_theme(&self, by: Uuid, name: &str, parent: Option<&str>) -> ApiResult<String> {
        let added = self.read(|state| state.vocabulary.add(name, parent)).map_err(ApiError::from)?;
        let theme = added.theme.clone();
        let stream = StreamName::of(THEME, &theme).map_err(ApiError::internal)?;
        self.append(&stream, ExpectedRevision::NoStream, vec![Self::new_event(ThemeAdded::TYPE, &added, by)?]).await?;
        Ok(theme)
    }

    pub async fn rename_theme(&self, by: Uuid, theme: &str, name: &str) -> ApiResult<()> {
        let renamed = self.read(|state| state.vocabulary.rename(theme, name)).map_err(ApiError::from)?;
        let stream = StreamName::of(THEME, theme).map_err(ApiError::internal)?;
        self.append(&stream, ExpectedRevision::StreamExists, vec![Self::new_event(ThemeRenamed::TYPE, &renamed, by)?])
            .await?;
        Ok(())
    }

    pub async fn merge_themes(&self, by: Uuid, from: &str, into: &str) -> ApiResult<()> {
        let merged = self.read(|state| state.vocabulary.merge(from, into)).map_err(ApiError::from)?;
        let stream = StreamName::of(THEME, from).map_err(ApiError::internal)?;
        self.append(&stream, ExpectedRevision::StreamExists, vec![Self::new_event(ThemeMerged::TYPE, &merged, by)?])
            .await?;
        Ok(())
    }

    /// Full-text search as `actor`, every hit checked against the policy once more.
    /// Each hit comes with the item and the version the asker sees; hits the policy would not
    /// show (the index lagging a consent change by a few milliseconds) are dropped.
    pub fn search(&self, actor: &Actor, request: &SearchRequest) -> ApiResult<(SearchOutcome, Vec<VisibleHit>)> {
        let mut outcome = self.inner.search.search(actor, request).map_err(ApiError::internal)?;
        let hits = self.read(|state| {
            std::mem::take(&mut outcome.hits)
                .into_iter()
                .filter_map(|hit| {
                    let item = state.item(hit.item).filter(|item| !item.erased)?.clone();
                    let view = heard_access::feedback_view(actor, &item.facts())?;
                    Some(VisibleHit { hit, item, view })
                })
                .collect()
        });
        Ok((outcome, hits))
    }

    pub fn search_index(&self) -> &SearchIndex {
        &self.inner.search
    }
}

/// The lock an import holds while it checks which rows are new and adds them, across every
/// replica over one PostgreSQL log (`EventStore::exclusive`).
pub const IMPORTING: &str = "feedback.importing";

/// Keeps the search index in step with the model: the feedback model's [`AfterApply`]. Each
/// batch's changed items are written to the index (outside the model's lock) before the batch
/// counts as applied; a committer task makes them searchable at most 200 ms after they arrive
/// (so a new item is searchable well within a second), and at once every 50,000 changes during
/// a long catch-up. New items are announced to `feedbackLogged` subscribers.
///
/// An erasure's batch asks the committer for a purge (commit, merge every segment, drop the old
/// files) instead of purging itself, so the model goes on applying meanwhile: a purge rewrites
/// the whole index, and a retention run erasing hundreds of records one by one would otherwise
/// hold every other write behind one purge each. Erasures that arrive while a purge runs share
/// the next one. The index's position (`indexed`) passes an erasure only once it is purged, and
/// the store counts that position among its followers (`"feedback search"`), so an erasure
/// answers (`EventStore::models_reached`) only when no file of the index holds the words.
struct Indexer {
    search: Arc<SearchIndex>,
    store: EventStore,
    /// The position the index had committed when the service started: the events up to it
    /// are in the index already.
    indexed_at_start: u64,
    logged: broadcast::Sender<(u64, Uuid)>,
    indexed: Arc<watch::Sender<u64>>,
    pending: Arc<watch::Sender<Pending>>,
    committer: tokio::task::JoinHandle<()>,
}

/// What the index holds that is not committed yet.
#[derive(Clone, Copy, Debug, Default)]
struct Pending {
    /// The last position written to the index.
    last: u64,
    /// Documents written since the last commit.
    uncommitted: usize,
    /// The log has closed: commit what is left and stop.
    closing: bool,
    /// Purges asked for by erasures so far, and those done: a purge is owed while they differ.
    purges: u64,
    purged: u64,
}

impl Pending {
    fn owes_purge(&self) -> bool {
        self.purges > self.purged
    }
}

/// Changed items, as they stand (their words still sealed), and the items newly logged.
struct Batch {
    items: Vec<(Item, crate::model::ItemWords)>,
    logged: Vec<(u64, Uuid)>,
    /// The batch erased feedback: the index must lose the words physically, at once.
    purge: bool,
}

impl Indexer {
    fn start(
        search: Arc<SearchIndex>,
        store: EventStore,
        indexed: Arc<watch::Sender<u64>>,
        logged: broadcast::Sender<(u64, Uuid)>,
    ) -> Self {
        let indexed_at_start = search.applied_position();
        let pending = Arc::new(watch::channel(Pending { last: indexed_at_start, ..Pending::default() }).0);
        let committer = tokio::spawn(commit_while_changing(search.clone(), pending.clone(), indexed.clone()));
        Indexer { search, store, indexed_at_start, logged, indexed, pending, committer }
    }
}

impl AfterApply<State> for Indexer {
    type Taken = Batch;

    fn take(&mut self, state: &mut State, events: &[heard_eventstore::RecordedEvent]) -> Batch {
        let touched = state.take_touched();
        let purge = state.take_purge();
        let caught_up = events.last().is_some_and(|last| last.position > self.indexed_at_start);
        let logged = events
            .iter()
            .filter(|event| event.event_type == contract::FeedbackLogged::TYPE)
            .filter_map(|event| Uuid::parse_str(event.stream.id()).ok().map(|id| (event.position, id)))
            .collect();
        Batch { items: if caught_up { touched } else { Vec::new() }, logged, purge: purge && caught_up }
    }

    async fn after(&mut self, batch: Batch, last: u64) {
        let written = batch.items.len();
        if written > 0 {
            let search = self.search.clone();
            let store = self.store.clone();
            let items = batch.items;
            // The words are opened here, outside the model's lock, only to be indexed.
            let wrote = tokio::task::spawn_blocking(move || {
                for (mut item, words) in items {
                    words.open_into(&store, &mut item);
                    search.upsert(&item);
                }
            })
            .await;
            if wrote.is_err() {
                tracing::error!("the search index could not take a batch of changes");
            }
        }
        for logged in batch.logged {
            let _ = self.logged.send(logged);
        }
        // An erasure: the documents were deleted above; the committer commits, merges and drops
        // the old files, and only then does the index's position pass it.
        self.pending.send_modify(|pending| {
            pending.last = last;
            pending.uncommitted += written;
            pending.purges += u64::from(batch.purge);
        });
        let now = *self.pending.borrow();
        if now.uncommitted == 0 && !now.owes_purge() {
            // Nothing waiting to be committed: the index answers for everything up to here.
            move_on(&self.indexed, last);
        }
    }

    async fn closed(self) -> u64 {
        self.pending.send_modify(|pending| pending.closing = true);
        let _ = self.committer.await;
        *self.indexed.borrow()
    }

    /// The index has committed up to here: the model is never saved past it.
    fn durable(&self) -> u64 {
        *self.indexed.borrow()
    }
}

/// Commits the index while changes arrive (see [`Indexer`]) until the log closes.
async fn commit_while_changing(
    search: Arc<SearchIndex>,
    pending: Arc<watch::Sender<Pending>>,
    indexed: Arc<watch::Sender<u64>>,
) {
    const COMMIT_AFTER: Duration = Duration::from_millis(200);
    const COMMIT_AT_ONCE: usize = 50_000;
    let mut changes = pending.subscribe();
    // Failed commits in a row (a full disk): each waits twice as long before the next try, up
    // to 5 s, so a disk that stays full is not hammered. What the index was given is kept until
    // a commit succeeds (see `SearchIndex`), so nothing is lost meanwhile.
    let mut failed: u32 = 0;
    let retry_after = |failed: u32| (COMMIT_AFTER * 2u32.saturating_pow(failed.min(5))).min(Duration::from_secs(5));
    loop {
        if changes.wait_for(|p| p.uncommitted > 0 || p.owes_purge() || p.closing).await.is_err() {
            return;
        }
        // A purge starts at once (erasures arriving meanwhile share the next one); a commit
        // waits a moment for more changes to share it.
        if !pending.borrow().owes_purge() {
            let more = changes.wait_for(|p| p.uncommitted >= COMMIT_AT_ONCE || p.owes_purge() || p.closing);
            let _ = tokio::time::timeout(COMMIT_AFTER, more).await;
        }
        let now = *pending.borrow();
        if now.uncommitted > 0 || now.owes_purge() {
            let index = search.clone();
            let purge = now.owes_purge();
            let done =
                tokio::task::spawn_blocking(move || if purge { index.purge(now.last) } else { index.commit(now.last) });
            match done.await {
                Ok(Ok(())) => {
                    if failed > 0 {
                        tracing::info!(attempts = failed + 1, "the search index commits again");
                        failed = 0;
                    }
                    pending.send_modify(|p| {
                        p.uncommitted -= now.uncommitted;
                        p.purged = now.purges;
                    });
                    // Everything up to `now.last` is committed, and every erasure up to it
                    // purged; and when nothing came since but batches with nothing to write,
                    // everything up to the latest batch.
                    let since = *pending.borrow();
                    let settled = since.uncommitted == 0 && !since.owes_purge();
                    move_on(&indexed, if settled { since.last } else { now.last });
                }
                failure => {
                    match failure {
                        Ok(Err(error)) if purge => {
                            tracing::error!(%error, "the search index could not purge erased items; retrying shortly");
                        }
                        Ok(Err(error)) => {
                            tracing::error!(%error, "the search index could not commit; retrying shortly")
                        }
                        Err(_) => tracing::error!("the search index could not commit; retrying shortly"),
                        Ok(Ok(())) => {}
                    }
                    failed += 1;
                    if !now.closing {
                        tokio::time::sleep(retry_after(failed)).await;
                    }
                }
            }
        }
        if now.closing {
            return;
        }
    }
}

/// Moves the index's position on to `position`, never back (the committer and the follower
/// both move it).
fn move_on(indexed: &watch::Sender<u64>, position: u64) {
    indexed.send_if_modified(|at| {
        let further = position > *at;
        if further {
            *at = position;
        }
        further
    });
}

/// Appends the seed themes to a new store, each as its own stream (idempotent).
async fn seed_themes(store: &EventStore) -> heard_eventstore::Result<()> {
    for theme in crate::domain::themes::seed() {
        store
            .seed(&StreamName::of(THEME, &theme.theme)?, NewEvent::new(ThemeAdded::TYPE, ThemeAdded::VERSION, &theme)?)
            .await?;
    }
    Ok(())
}
