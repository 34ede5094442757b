//! The feedback service's part of the GraphQL schema (a federation subgraph). Every resolver
//! asks the policy; what an item shows depends on `heard_access::feedback_view`.

use async_graphql::connection::{Connection, ConnectionNameType, DefaultEdgeName, Edge, EmptyFields};
use async_graphql::parser::types::Field;
use async_graphql::{Context, Enum, ID, InputObject, MergedObject, Object, Result, SimpleObject, Subscription};
use async_graphql::{ContextSelectionSet, OutputType, Positioned};
use futures::Stream;
use heard_access::{Action, Actor, Consent, FeedbackView, Resource, feedback_view};
use heard_api::entity::{HubKey, Owners, Reference, Resolved};
use heard_api::idempotent::{self, ClientMutationId};
use heard_api::{ApiError, authorize, paginate, timestamp, uuid_arg, viewer};
use uuid::Uuid;

use crate::domain::gazetteer::{self, GazetteerKind};
use crate::domain::safeguarding::{self, Disclosure, Happened, NewAction, Notes, SafeguardingStep};
use crate::domain::suggest::Suggestion;
use crate::domain::{Channel, Item, LoopState, Moderation, NewItem};
use crate::search::{MAX_RESULTS, SearchRequest, days};
use crate::service::{FeedbackService, Meeting};
use heard_contracts::privacy::PersonId;

mod imports;
mod logged;

fn service<'a>(ctx: &'a Context<'_>) -> &'a FeedbackService {
    ctx.data_unchecked::<FeedbackService>()
}

pub use heard_api::subgraph::register;

heard_api::subgraph_roots!(FeedbackQuery, FeedbackMutation, FeedbackSubscription);

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(name = "Channel", remote = "crate::domain::Channel")]
pub enum ChannelName {
    Forum,
    DropIn,
    OneToOne,
    Survey,
    Online,
    /// Phone or SMS.
    Phone,
}

/// Who may see an item: the speaker's choice.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsentScope {
    Hub,
    Commissioners,
    Public,
}

impl From<ConsentScope> for Consent {
    fn from(scope: ConsentScope) -> Self {
        match scope {
            ConsentScope::Hub => Consent::Hub,
            ConsentScope::Commissioners => Consent::Commissioners,
            ConsentScope::Public => Consent::Public,
        }
    }
}

/// A change of consent: narrowed to a scope, or withdrawn.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsentChange {
    Hub,
    Commissioners,
    Public,
    Withdrawn,
}

/// Consent as it stands.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConsentStatus {
    Hub,
    Commissioners,
    Public,
    Withdrawn,
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "SpeakerType", remote = "crate::domain::SpeakerKind")]
pub enum SpeakerType {
    Anonymous,
    Pseudonymous,
    Named,
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "LoopState", remote = "crate::domain::LoopState")]
pub enum LoopStateName {
    Logged,
    Shared,
    Acknowledged,
    LinkedToDecision,
    NotActedOn,
    /// A decision it fed into is done: "we did".
    DecisionDone,
    FedBack,
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModerationState {
    /// Waiting for a coordinator.
    Pending,
    /// Approved to leave the hub, within consent.
    Shared,
    /// Kept in the hub for now.
    Held,
}

/// Which version of an item the asker sees.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "FeedbackView")]
pub enum ViewName {
    /// The hub's own record.
    Hub,
    /// The redacted version shared outside the hub.
    Shared,
}

/// A feedback item as the asker may see it.
pub struct FeedbackItem {
    item: Item,
    view: FeedbackView,
}

impl FeedbackItem {
    fn hub_view(&self) -> bool {
        self.view == FeedbackView::Hub
    }
}

#[Object]
impl FeedbackItem {
    async fn id(&self) -> ID {
        ID(self.item.logged.item.to_string())
    }
    /// The global log position it was logged at, as a cursor: `feedbackLogged(after:)`
    /// resumes after it.
    async fn position(&self) -> String {
        self.item.position.to_string()
    }
    /// The hub id, e.g. `arun`.
    async fn hub(&self) -> ID {
        ID(self.item.logged.hub.clone())
    }
    async fn hub_name(&self, ctx: &Context<'_>) -> Option<String> {
        service(ctx).read(|state| state.reference.hubs.get(&self.item.logged.hub).cloned())
    }
    /// The hub, as the identity service knows it (its name, kind and area).
    async fn hub_details(&self) -> Option<Reference<HubKey>> {
        Some(Reference::<HubKey>::to(self.item.logged.hub.clone()))
    }
    async fn view(&self) -> ViewName {
        if self.hub_view() { ViewName::Hub } else { ViewName::Shared }
    }
    /// The words. Inside the hub: as said. Outside: with redactions applied. `null` once
    /// consent is withdrawn or the speaker erased.
    async fn text(&self, ctx: &Context<'_>) -> Option<String> {
        let item = service(ctx).opened(&self.item);
        if self.hub_view() { item.hub_text() } else { item.shared_text() }.map(str::to_owned)
    }
    /// For the hub: the version that would leave the hub, when redactions were made.
    async fn redacted_text(&self, ctx: &Context<'_>) -> Option<String> {
        if self.hub_view() && self.item.consent.is_some() {
            service(ctx).opened(&self.item).redacted_text
        } else {
            None
        }
    }
    async fn redacted(&self) -> bool {
        self.item.redacted_text.is_some()
    }
    async fn channel(&self) -> ChannelName {
        self.item.logged.channel.into()
    }
    /// The service as the speaker named it.
    async fn about(&self) -> Option<&str> {
        self.item.logged.about.as_deref()
    }
    /// The provider id, when `about` named a known provider.
    async fn provider(&self) -> Option<ID> {
        self.item.logged.provider.clone().map(ID)
    }
    async fn themes(&self, ctx: &Context<'_>) -> Vec<ThemeRef> {
        service(ctx).read(|state| ThemeRef::all_of(state, &self.item.logged.themes))
    }
    async fn speaker(&self) -> SpeakerType {
        self.item.logged.speaker.into()
    }
    /// The speaker's (chosen) name: for the hub only, never outside it.
    async fn speaker_name(&self, ctx: &Context<'_>) -> Option<String> {
        if self.hub_view() && self.item.consent.is_some() { service(ctx).opened(&self.item).speaker.name } else { None }
    }
    async fn consent(&self) -> ConsentStatus {
        match self.item.consent {
            None => ConsentStatus::Withdrawn,
            Some(Consent::Hub) => ConsentStatus::Hub,
            Some(Consent::Commissioners) => ConsentStatus::Commissioners,
            Some(Consent::Public) => ConsentStatus::Public,
        }
    }
    /// For the hub: why a coordinator is keeping it in the hub, while it is held.
    async fn held_reason(&self) -> Option<&str> {
        if self.hub_view() { self.item.held.as_ref().map(|held| held.reason.as_str()) } else { None }
    }
    /// For the hub: the day it was held (`YYYY-MM-DD`), while it is held.
    async fn held_on(&self) -> Option<String> {
        if self.hub_view() { self.item.held.as_ref().map(|held| crate::domain::day_of(held.at_micros)) } else { None }
    }
    /// For the hub's coordinators: the passages of the words that would leave the hub which
    /// could identify someone (names and places on the hub's gazetteer, and capitalised words
    /// inside a sentence, UK phone numbers and email addresses), for them to confirm with
    /// `redactFeedback`. Never applied by themselves. Anyone else is refused (and gets `null`).
    async fn suggested_redactions(&self, ctx: &Context<'_>) -> Result<Option<Vec<SuggestedRedaction>>> {
        authorize(ctx, Action::ModerateFeedback, &Resource::Feedback(self.item.facts())).await?;
        Ok(Some(service(ctx).suggested_redactions(&self.item).into_iter().map(SuggestedRedaction::from).collect()))
    }
    async fn moderation(&self) -> ModerationState {
        match self.item.moderation {
            Moderation::Pending => ModerationState::Pending,
            Moderation::Shared => ModerationState::Shared,
            Moderation::Held => ModerationState::Held,
        }
    }
    /// Where the item stands: logged → shared → acknowledged → linked to a decision or
    /// answered "not acted on" → the decision done → fed back to the hub.
    async fn loop_state(&self) -> LoopStateName {
        self.item.loop_state.into()
    }
    /// When a coordinator shared it outside the hub.
    async fn shared_at(&self) -> Option<String> {
        self.item.shared_at_micros.map(timestamp)
    }
    /// The day a commissioner acknowledged it (`YYYY-MM-DD`).
    async fn acknowledged_on(&self) -> Option<&str> {
        self.item.loop_facts.acknowledged_on.as_deref()
    }
    /// The commissioner's reason, when they answered that it was not acted on.
    async fn not_acted_on_reason(&self) -> Option<&str> {
        self.item.loop_facts.not_acted_on.as_ref().map(|answer| answer.reason.as_str())
    }
    /// The commissioning decisions it is linked to as evidence now (withdrawn links left out).
    async fn decision_ids(&self) -> Vec<ID> {
        self.item.loop_facts.decisions().into_iter().map(|id| ID(id.to_string())).collect()
    }
    /// The day a hub coordinator recorded that it was reported back to the hub (`YYYY-MM-DD`).
    async fn fed_back_on(&self) -> Option<&str> {
        self.item.loop_facts.fed_back.as_ref().map(|fed| fed.on.as_str())
    }
    /// True when a risk was disclosed (visible only to the coordinator it was routed to).
    async fn safeguarding(&self) -> bool {
        self.item.safeguarding.is_some()
    }
    /// The day it was said.
    async fn said_on(&self) -> &str {
        &self.item.logged.said_on
    }
    async fn logged_at(&self) -> String {
        timestamp(self.item.logged_at_micros)
    }
    async fn meeting(&self) -> Option<ID> {
        self.item.logged.meeting.map(|id| ID(id.to_string()))
    }
    /// Whether you can still undo it ("undo the last one"): you logged it, nobody has
    /// moderated it, and it is at most ten minutes old.
    async fn can_undo(&self, ctx: &Context<'_>) -> bool {
        let now = jiff::Timestamp::now().as_microsecond();
        heard_api::account(ctx).is_ok_and(|me| crate::domain::withdraw(&self.item, me, now).is_ok())
    }
    /// Whether you can still correct its words and themes: you logged it and nobody has
    /// moderated it.
    async fn can_edit(&self, ctx: &Context<'_>) -> bool {
        heard_api::account(ctx).is_ok_and(|me| {
            !self.item.erased && self.item.correctable_by(me).is_ok() && service(ctx).opened(&self.item).text.is_some()
        })
    }
    /// For the hub: the person (an opaque id, never a name) a coordinator said the speaker is
    /// (`attributeFeedback`). `null` outside the hub.
    async fn person(&self) -> Option<ID> {
        if self.hub_view() { self.item.person.map(|person| ID(person.to_string())) } else { None }
    }
    /// The item was erased (the person asked, withdrew within six months of speaking, or its
    /// retention period ended): its facts (hub, dates, themes, where its loop stands) stay,
    /// and its words, speaker, redactions and safeguarding notes are gone (`null`).
    async fn erased(&self) -> bool {
        self.item.erased
    }
}

/// What was done about a disclosure of risk.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "SafeguardingStep", remote = "heard_contracts::feedback::SafeguardingStep")]
pub enum SafeguardingStepName {
    SpokeToPerson,
    /// Referred to the safeguarding lead of the provider the person is with.
    ReferredToProviderLead,
    CalledEmergencyServices,
    /// Something else, said in the notes.
    Other,
}

/// What came of a disclosure, once it is dealt with.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "SafeguardingOutcome", remote = "heard_contracts::feedback::SafeguardingOutcome")]
pub enum SafeguardingOutcomeName {
    SupportInPlace,
    /// Another service (the provider's safeguarding lead, social care) has taken it on.
    ReferredOn,
    EmergencyServicesResponded,
    PersonDeclinedHelp,
    CouldNotReachPerson,
    /// Something else, said in the notes.
    Other,
}

/// How long a disclosure has waited since it was flagged.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "SafeguardingUrgency", remote = "crate::domain::safeguarding::Urgency")]
pub enum UrgencyName {
    /// Flagged today.
    Today,
    /// Flagged in the six days before today.
    ThisWeek,
    /// Flagged a week ago or more.
    Older,
}

/// What one entry of a disclosure's follow-up records.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SafeguardingEntryKind {
    Action,
    HandedOver,
    DealtWith,
}

/// A disclosure of risk with its follow-up: only ever for the coordinator it is with.
pub struct SafeguardingDisclosure {
    disclosure: Disclosure,
    item: Item,
}

#[Object]
impl SafeguardingDisclosure {
    /// The item's id.
    async fn id(&self) -> ID {
        ID(self.disclosure.item.to_string())
    }
    async fn hub(&self) -> ID {
        ID(self.disclosure.hub.clone())
    }
    async fn hub_name(&self, ctx: &Context<'_>) -> Option<String> {
        service(ctx).read(|state| state.reference.hubs.get(&self.disclosure.hub).cloned())
    }
    /// What was said, in the hub's own version.
    async fn item(&self) -> FeedbackItem {
        FeedbackItem { item: self.item.clone(), view: FeedbackView::Hub }
    }
    async fn flagged_at(&self) -> String {
        timestamp(self.disclosure.flagged_at_micros)
    }
    /// The day it was flagged (`YYYY-MM-DD`).
    async fn flagged_on(&self) -> String {
        self.disclosure.flagged_on.to_string()
    }
    /// The account that flagged it.
    async fn flagged_by(&self) -> ID {
        ID(self.disclosure.flagged_by.to_string())
    }
    /// The coordinator it is with.
    async fn coordinator_id(&self) -> ID {
        ID(self.disclosure.coordinator.to_string())
    }
    async fn urgency(&self) -> UrgencyName {
        self.disclosure.urgency(heard_api::today()).into()
    }
    /// Still waiting to be dealt with.
    async fn open(&self) -> bool {
        self.disclosure.is_open()
    }
    /// What came of it, once dealt with.
    async fn outcome(&self) -> Option<SafeguardingOutcomeName> {
        self.disclosure.outcome.map(Into::into)
    }
    async fn closed_at(&self) -> Option<String> {
        self.disclosure.closed_at_micros().map(timestamp)
    }
    /// The day it was marked dealt with (`YYYY-MM-DD`).
    async fn closed_on(&self) -> Option<String> {
        self.disclosure.closed_at_micros().map(|at| safeguarding::local_day(at).to_string())
    }
    async fn actions_recorded(&self) -> i32 {
        self.disclosure.actions_recorded() as i32
    }
    /// The latest day a step was taken (`YYYY-MM-DD`).
    async fn last_action_on(&self) -> Option<String> {
        self.disclosure.last_action_on().map(|day| day.to_string())
    }
    /// Everything done about it, in the order it was recorded.
    async fn follow_up(&self, ctx: &Context<'_>) -> Vec<SafeguardingEntry> {
        // The notes are opened now, however the disclosure was found.
        let store = service(ctx).store();
        let opened = service(ctx).read(|state| state.opened_disclosure(store, self.disclosure.clone()));
        opened.entries.into_iter().map(SafeguardingEntry).collect()
    }
}

/// One entry of a disclosure's follow-up.
pub struct SafeguardingEntry(safeguarding::Entry);

#[Object]
impl SafeguardingEntry {
    async fn kind(&self) -> SafeguardingEntryKind {
        match self.0.happened {
            Happened::Action { .. } => SafeguardingEntryKind::Action,
            Happened::HandedOver { .. } => SafeguardingEntryKind::HandedOver,
            Happened::Closed { .. } => SafeguardingEntryKind::DealtWith,
        }
    }
    /// For a step: what was done.
    async fn step(&self) -> Option<SafeguardingStepName> {
        match self.0.happened {
            Happened::Action { step, .. } => Some(step.into()),
            _ => None,
        }
    }
    /// The day it happened (`YYYY-MM-DD`): for a step, the day given; otherwise the day it was
    /// recorded.
    async fn on(&self) -> String {
        match self.0.happened {
            Happened::Action { on, .. } => on.to_string(),
            _ => safeguarding::local_day(self.0.at_micros).to_string(),
        }
    }
    /// When it was recorded.
    async fn recorded_at(&self) -> String {
        timestamp(self.0.at_micros)
    }
    /// The coordinator who recorded it.
    async fn by(&self) -> ID {
        ID(self.0.by.to_string())
    }
    /// For a hand-over: the coordinator it went from and the one it went to.
    async fn from_coordinator(&self) -> Option<ID> {
        match self.0.happened {
            Happened::HandedOver { from, .. } => Some(ID(from.to_string())),
            _ => None,
        }
    }
    async fn to_coordinator(&self) -> Option<ID> {
        match self.0.happened {
            Happened::HandedOver { to, .. } => Some(ID(to.to_string())),
            _ => None,
        }
    }
    /// For marking it dealt with: what came of it.
    async fn outcome(&self) -> Option<SafeguardingOutcomeName> {
        match self.0.happened {
            Happened::Closed { outcome } => Some(outcome.into()),
            _ => None,
        }
    }
    async fn notes(&self) -> Option<&str> {
        self.0.notes.text()
    }
    /// The notes were erased with the person who disclosed.
    async fn notes_erased(&self) -> bool {
        self.0.notes == Notes::Erased
    }
}

/// An open disclosure of one of your hubs that is with another coordinator: who has it and
/// how long it has waited, never what was said or done.
#[derive(SimpleObject)]
pub struct SafeguardingAssignment {
    pub hub: ID,
    pub hub_name: Option<String>,
    /// The day it was flagged (`YYYY-MM-DD`).
    pub flagged_on: String,
    pub urgency: UrgencyName,
    /// The coordinator it is with.
    pub coordinator_id: ID,
    pub actions_recorded: i32,
    /// The latest day a step was taken (`YYYY-MM-DD`).
    pub last_action_on: Option<String>,
}

/// A disclosure handed to another coordinator: it is theirs now, and no longer yours to see.
#[derive(SimpleObject)]
pub struct SafeguardingHandover {
    pub item_id: ID,
    pub coordinator_id: ID,
}

/// Finds a disclosure and checks that it is with the asker; for anyone else it does not exist.
async fn disclosure_for(ctx: &Context<'_>, field: &str, id: &ID) -> Result<(Disclosure, Item)> {
    let id = parse_id(field, id)?;
    match opened_disclosure(ctx, id) {
        Some((disclosure, item)) => {
            authorize(ctx, Action::FollowUpSafeguarding, &Resource::Feedback(item.facts())).await?;
            Ok((disclosure, item))
        }
        None => {
            // Something that is no disclosure gets the answer one that is not theirs gets (and
            // the same refusal for someone not logged in): the policy judges it as a disclosure
            // with nobody.
            let nobody = heard_access::FeedbackFacts {
                item: id,
                hub: String::new(),
                provider: None,
                consent: None,
                shared: false,
                safeguarding: None,
            };
            authorize(ctx, Action::FollowUpSafeguarding, &Resource::Feedback(nobody)).await?;
            Err(ApiError::NotFound.into())
        }
    }
}

/// The disclosure about item `id`, its words opened, beside the item; whoever asks.
fn opened_disclosure(ctx: &Context<'_>, id: Uuid) -> Option<(Disclosure, Item)> {
    let store = service(ctx).store();
    service(ctx).read(|state| {
        Some((state.opened_disclosure(store, state.disclosures.get(&id)?.clone()), state.items.get(&id)?.clone()))
    })
}

/// A disclosure with the asker, named by `input.itemId`: its item's id, and the asker's account.
async fn disclosure_to_follow_up(ctx: &Context<'_>, item_id: &ID) -> Result<(Uuid, Uuid)> {
    let (disclosure, _) = disclosure_for(ctx, "input.itemId", item_id).await?;
    Ok((disclosure.item, heard_api::account(ctx)?))
}

fn disclosure_view(ctx: &Context<'_>, id: Uuid) -> Result<SafeguardingDisclosure> {
    opened_disclosure(ctx, id)
        .map(|(disclosure, item)| SafeguardingDisclosure { disclosure, item })
        .ok_or_else(|| ApiError::NotFound.into())
}

#[derive(SimpleObject, Clone, Debug, serde::Serialize)]
pub struct ThemeRef {
    pub id: ID,
    pub name: String,
}

impl ThemeRef {
    /// The themes an item is tagged with, as the vocabulary has them now (a merged theme as the
    /// one it was merged into, once).
    pub(crate) fn all_of(state: &crate::service::State, themes: &std::collections::BTreeSet<String>) -> Vec<ThemeRef> {
        let mut found: Vec<ThemeRef> = themes
            .iter()
            .filter_map(|id| state.vocabulary.resolve(id))
            .map(|theme| ThemeRef { id: ID(theme.id.clone()), name: theme.name.clone() })
            .collect();
        found.dedup_by(|a, b| a.id == b.id);
        found
    }
}

/// Why a passage is suggested for redaction.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::suggest::Reason")]
pub enum RedactionReason {
    /// On the hub's own gazetteer of names and places.
    Gazetteer,
    Email,
    Phone,
    /// A capitalised word inside a sentence: most likely a person or a place.
    Name,
}

/// A passage suggested for redaction: characters `start..end` (end exclusive) of the words
/// that would leave the hub.
#[derive(SimpleObject, Clone, Debug)]
pub struct SuggestedRedaction {
    pub text: String,
    pub start: i32,
    pub end: i32,
    pub reason: RedactionReason,
}

impl From<Suggestion> for SuggestedRedaction {
    fn from(found: Suggestion) -> Self {
        let position = |at: usize| i32::try_from(at).unwrap_or(i32::MAX);
        SuggestedRedaction {
            start: position(found.start),
            end: position(found.end),
            text: found.text,
            reason: found.reason.into(),
        }
    }
}

/// Whether a gazetteer entry names a person or a place.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "GazetteerKind", remote = "crate::domain::gazetteer::GazetteerKind")]
pub enum GazetteerKindName {
    Person,
    Place,
}

/// A name or place on a hub's gazetteer.
#[derive(SimpleObject, Clone, Debug)]
pub struct GazetteerEntry {
    pub id: ID,
    /// `null` once erased.
    pub name: Option<String>,
    pub kind: GazetteerKindName,
    pub added_at: String,
}

impl From<gazetteer::Entry> for GazetteerEntry {
    fn from(entry: gazetteer::Entry) -> Self {
        GazetteerEntry {
            id: ID(entry.id.to_string()),
            name: entry.name,
            kind: entry.kind.into(),
            added_at: timestamp(entry.added_at_micros),
        }
    }
}

/// A theme in the vocabulary.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(name = "Theme")]
pub struct ThemeNode {
    pub id: ID,
    pub name: String,
    pub parent: Option<ID>,
}

/// A forum meeting of a hub or the Forum.
pub struct MeetingView(Meeting);

#[Object(name = "Meeting")]
impl MeetingView {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn hub(&self) -> ID {
        ID(self.0.hub.clone())
    }
    /// The day it was held, `YYYY-MM-DD`.
    async fn held_on(&self) -> &str {
        &self.0.held_on
    }
    /// Where it was held, when it was started in meeting mode.
    async fn place(&self) -> Option<&str> {
        self.0.place.as_deref()
    }
    /// Still going: items can be logged into it until attendance and minutes are recorded.
    async fn is_open(&self) -> bool {
        self.0.is_open()
    }
    /// How many came; `null` while the meeting is still going.
    async fn attendance(&self) -> Option<u32> {
        self.0.attendance
    }
    async fn minutes(&self, ctx: &Context<'_>) -> Option<String> {
        service(ctx).minutes(&self.0)
    }
    /// The items logged into it or recorded with it, in the order they were logged (items
    /// taken back are left out).
    async fn item_ids(&self, ctx: &Context<'_>) -> Vec<ID> {
        service(ctx)
            .read(|state| state.meeting_items(&self.0).iter().map(|item| ID(item.logged.item.to_string())).collect())
    }
    /// Its items as you may see them, in the order they were logged.
    async fn items(&self, ctx: &Context<'_>) -> Vec<FeedbackItem> {
        let actor = viewer(ctx).actor.clone();
        let items: Vec<Item> = service(ctx).read(|state| state.meeting_items(&self.0).into_iter().cloned().collect());
        items.into_iter().filter_map(|item| view_of(&actor, item)).collect()
    }
}

/// Where a search matched, as character ranges (end exclusive) into `fragment`.
#[derive(SimpleObject, Clone, Debug)]
pub struct Highlight {
    pub start: i32,
    pub end: i32,
}

/// One search result.
#[derive(SimpleObject)]
pub struct SearchHit {
    pub item: FeedbackItem,
    pub score: f64,
    /// A passage of the text the asker may see, around the matches.
    pub fragment: String,
    pub highlights: Vec<Highlight>,
}

#[derive(SimpleObject, Clone, Debug)]
pub struct FacetCount {
    /// `hub`, `theme`, `provider`, `channel` or `loop`.
    pub dimension: String,
    /// What to pass as the filter of that dimension to narrow the search to it: a hub,
    /// provider or theme id, or a `Channel` or `LoopState` value.
    pub value: String,
    /// The value as people call it: "Adur & Worthing", "Drop-in", "Shared outside the hub".
    pub name: String,
    pub count: i32,
}

/// Totals and facets of a search, beside its page of results.
#[derive(SimpleObject)]
pub struct SearchSummary {
    /// How many items match (that the asker may see).
    pub total: i32,
    /// Counts by hub, theme, provider, channel and loop state. A dimension whose filter is set
    /// is counted as if it were not, so the other values stay in view with their counts.
    pub facets: Vec<FacetCount>,
    /// False when no item has every word of the search: the results are then the items with
    /// most of them, best first.
    pub matched_every_word: bool,
    /// The search as it was understood, when a misspelt word was taken for a word in the items
    /// you may see ("evning clinc" → "evening clinic"); `null` when every word was found as written.
    pub understood_as: Option<String>,
}

/// Filters shared by lists and search.
#[derive(InputObject, Default)]
pub struct FeedbackFilter {
    pub hub: Option<ID>,
    /// A theme id or name.
    pub theme: Option<String>,
    pub provider: Option<ID>,
    pub channel: Option<ChannelName>,
    pub loop_state: Option<LoopStateName>,
    /// From this day (`YYYY-MM-DD`), inclusive.
    pub from: Option<String>,
    /// To this day, inclusive.
    pub to: Option<String>,
}

/// What a hub's coordinators narrow a moderation queue to.
#[derive(InputObject, Default)]
pub struct ModerationFilter {
    /// Said on this day (`YYYY-MM-DD`) or later.
    pub from: Option<String>,
    /// Said on this day or earlier.
    pub to: Option<String>,
    /// A theme id or name.
    pub theme: Option<String>,
    /// A meeting of the hub: the items logged at it.
    pub meeting: Option<ID>,
}

/// The order of a queue, by the day each item was said (then the order they were logged).
#[derive(Enum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QueueOrder {
    #[default]
    OldestFirst,
    NewestFirst,
}

/// How many items a queue holds under its filters, beside its page.
#[derive(SimpleObject)]
pub struct QueueTotals {
    pub total_count: i32,
}

/// A page of a moderation queue: `FeedbackQueueConnection`, a connection of feedback items with
/// their `totalCount`.
pub struct QueueName;

impl ConnectionNameType for QueueName {
    fn type_name<T: async_graphql::OutputType>() -> String {
        "FeedbackQueueConnection".to_owned()
    }
}

/// A page of a moderation queue.
pub type QueuePage = Connection<String, FeedbackItem, QueueTotals, EmptyFields, QueueName, DefaultEdgeName>;

/// A moderation filter checked against the hub: each bad part refused naming it
/// (`filter.from`, `filter.theme`, …).
struct CheckedFilter {
    from: Option<jiff::civil::Date>,
    to: Option<jiff::civil::Date>,
    theme: Option<String>,
    meeting: Option<Uuid>,
}

impl CheckedFilter {
    fn check(ctx: &Context<'_>, hub: &str, filter: ModerationFilter) -> Result<CheckedFilter> {
        let from = parse_day("filter.from", &filter.from)?;
        let to = parse_day("filter.to", &filter.to)?;
        if let (Some(from), Some(to)) = (from, to)
            && to < from
        {
            return Err(ApiError::bad_input("filter.to", "the last day is before the first day").into());
        }
        let theme = match &filter.theme {
            Some(theme) => Some(
                service(ctx)
                    .read(|state| state.vocabulary.find(theme).map(|found| found.id.clone()))
                    .ok_or_else(|| ApiError::bad_input("filter.theme", "there is no such theme"))?,
            ),
            None => None,
        };
        let meeting = match &filter.meeting {
            Some(id) => {
                let meeting = parse_id("filter.meeting", id)?;
                let of_hub = service(ctx).read(|state| state.meetings.get(&meeting).map(|m| m.hub == hub));
                if of_hub != Some(true) {
                    return Err(ApiError::bad_input("filter.meeting", "there is no such meeting of this hub").into());
                }
                Some(meeting)
            }
            None => None,
        };
        Ok(CheckedFilter { from, to, theme, meeting })
    }

    fn keeps(&self, state: &crate::service::State, item: &Item) -> bool {
        let in_days = said_between(item, self.from, self.to);
        let of_theme = self.theme.as_ref().is_none_or(|theme| has_theme(state, item, theme));
        let at_meeting = self.meeting.is_none_or(|meeting| {
            item.logged.meeting == Some(meeting)
                || state.meetings.get(&meeting).is_some_and(|m| m.recorded_items.contains(&item.logged.item))
        });
        in_days && of_theme && at_meeting
    }
}

/// A page of one of a hub's moderation queues, for its coordinators: the items in `moderation`
/// (none flagged for safeguarding, each consented beyond the hub) that `filter` keeps, in
/// `order` (oldest first when not given), each as the asker may see it, with how many there are
/// in all.
async fn moderation_page(
    ctx: &Context<'_>,
    hub: &ID,
    moderation: Moderation,
    filter: Option<ModerationFilter>,
    order: Option<QueueOrder>,
    page: (Option<String>, Option<i32>),
) -> Result<QueuePage> {
    authorize(ctx, Action::ViewQueue, &Resource::Hub { hub: hub.0.clone() }).await?;
    let filter = CheckedFilter::check(ctx, hub, filter.unwrap_or_default())?;
    let actor = viewer(ctx).actor.clone();
    let mut items: Vec<FeedbackItem> = service(ctx).read(|state| {
        state
            .items_in_order()
            .filter(|item| {
                item.logged.hub == hub.as_str()
                    && item.moderation == moderation
                    && item.safeguarding.is_none()
                    && item.consent.is_some_and(|c| c > Consent::Hub)
                    && filter.keeps(state, item)
            })
            .filter_map(|item| view_of(&actor, item.clone()))
            .collect()
    });
    // A stable sort: items said on the same day stay in the order they were logged.
    items.sort_by(|a, b| a.item.logged.said_on.cmp(&b.item.logged.said_on));
    if order.unwrap_or_default() == QueueOrder::NewestFirst {
        items.reverse();
    }
    let total_count = i32::try_from(items.len()).unwrap_or(i32::MAX);
    let (after, first) = page;
    let cut: Connection<String, FeedbackItem, EmptyFields> = paginate(items, after, None, first, None)?;
    let mut connection =
        Connection::with_additional_fields(cut.has_previous_page, cut.has_next_page, QueueTotals { total_count });
    connection.edges.extend(cut.edges.into_iter().map(|edge| Edge::new(edge.cursor, edge.node)));
    Ok(connection)
}

/// Whether the item was said within `from` and `to` (either day included; no bound when absent).
fn said_between(item: &Item, from: Option<jiff::civil::Date>, to: Option<jiff::civil::Date>) -> bool {
    let day = item.logged.said_on.parse::<jiff::civil::Date>().ok();
    from.is_none_or(|from| day.is_some_and(|d| d >= from)) && to.is_none_or(|to| day.is_some_and(|d| d <= to))
}

/// Whether one of the item's themes is (or was merged into) the theme with id `theme`.
fn has_theme(state: &crate::service::State, item: &Item, theme: &str) -> bool {
    item.logged.themes.iter().any(|t| state.vocabulary.resolve(t).is_some_and(|found| found.id == theme))
}

fn parse_day(field: &str, text: &Option<String>) -> Result<Option<jiff::civil::Date>> {
    Ok(heard_api::optional_date_arg(field, text.as_deref())?)
}

/// A search's words and filters, checked: a filter naming a hub, provider or theme Heard does
/// not have is refused naming it, never searched for nothing.
fn search_request(ctx: &Context<'_>, query: String, filter: Option<FeedbackFilter>) -> Result<SearchRequest> {
    let filter = filter.unwrap_or_default();
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_input("query", format!("a search is at most {MAX_QUERY_CHARS} characters")).into());
    }
    let (hub_known, provider_known) = service(ctx).read(|state| {
        (
            filter.hub.as_ref().is_none_or(|hub| state.reference.hubs.contains_key(hub.as_str())),
            filter.provider.as_ref().is_none_or(|provider| state.reference.providers.contains_key(provider.as_str())),
        )
    });
    if !hub_known {
        return Err(ApiError::bad_input("filter.hub", "there is no such hub; see the `hubs` query").into());
    }
    if !provider_known {
        return Err(
            ApiError::bad_input("filter.provider", "there is no such provider; see the `providers` query").into()
        );
    }
    let theme = match &filter.theme {
        Some(theme) => service(ctx)
            .resolve_themes("filter.theme", std::slice::from_ref(theme))
            .map_err(|_| ApiError::bad_input("filter.theme", "there is no such theme; see the `themes` query"))?
            .into_iter()
            .next(),
        None => None,
    };
    Ok(SearchRequest {
        text: query,
        hub: filter.hub.map(|h| h.0),
        theme,
        provider: filter.provider.map(|p| p.0),
        channel: filter.channel.map(|c| Channel::from(c).as_str().to_owned()),
        loop_state: filter.loop_state.map(|l| LoopState::from(l).as_str().to_owned()),
        from_day: parse_day("filter.from", &filter.from)?.map(days),
        to_day: parse_day("filter.to", &filter.to)?.map(days),
        ..SearchRequest::default()
    })
}

/// The longest search, in characters.
const MAX_QUERY_CHARS: usize = 500;

/// The index's facet counts with the names people know them by, each value as its filter takes it.
fn facet_counts(ctx: &Context<'_>, facets: Vec<(String, String, u64)>) -> Vec<FacetCount> {
    service(ctx).read(|state| {
        facets
            .into_iter()
            .map(|(dimension, value, count)| {
                let (value, name) = match dimension.as_str() {
                    "hub" => {
                        let name = state.reference.hubs.get(&value).cloned().unwrap_or_else(|| value.clone());
                        (value, name)
                    }
                    "provider" => {
                        let name = state.reference.providers.get(&value).cloned().unwrap_or_else(|| value.clone());
                        (value, name)
                    }
                    "theme" => {
                        let name = state.vocabulary.resolve(&value).map(|theme| theme.name.clone());
                        let name = name.unwrap_or_else(|| value.clone());
                        (value, name)
                    }
                    "channel" => match Channel::parse(&value) {
                        Some(channel) => (channel_value(channel).to_owned(), channel_words(channel).to_owned()),
                        None => (value.clone(), value),
                    },
                    "loop" => match LOOP_STATES.into_iter().find(|state| state.as_str() == value) {
                        Some(state) => (loop_value(state).to_owned(), loop_words(state).to_owned()),
                        None => (value.clone(), value),
                    },
                    _ => (value.clone(), value),
                };
                FacetCount { dimension, value, name, count: i32::try_from(count).unwrap_or(i32::MAX) }
            })
            .collect()
    })
}

/// A channel as the `Channel` enum names it.
fn channel_value(channel: Channel) -> &'static str {
    match channel {
        Channel::Forum => "FORUM",
        Channel::DropIn => "DROP_IN",
        Channel::OneToOne => "ONE_TO_ONE",
        Channel::Survey => "SURVEY",
        Channel::Online => "ONLINE",
        Channel::Phone => "PHONE",
    }
}

/// How it was heard, in words.
fn channel_words(channel: Channel) -> &'static str {
    match channel {
        Channel::Forum => "Forum meeting",
        Channel::DropIn => "Drop-in",
        Channel::OneToOne => "One-to-one",
        Channel::Survey => "Survey",
        Channel::Online => "Online",
        Channel::Phone => "Phone or text",
    }
}

const LOOP_STATES: [LoopState; 7] = [
    LoopState::Logged,
    LoopState::Shared,
    LoopState::Acknowledged,
    LoopState::LinkedToDecision,
    LoopState::NotActedOn,
    LoopState::DecisionDone,
    LoopState::FedBack,
];

/// A loop state as the `LoopState` enum names it.
fn loop_value(state: LoopState) -> &'static str {
    match state {
        LoopState::Logged => "LOGGED",
        LoopState::Shared => "SHARED",
        LoopState::Acknowledged => "ACKNOWLEDGED",
        LoopState::LinkedToDecision => "LINKED_TO_DECISION",
        LoopState::NotActedOn => "NOT_ACTED_ON",
        LoopState::DecisionDone => "DECISION_DONE",
        LoopState::FedBack => "FED_BACK",
    }
}

/// Where an item's loop stands, in words.
fn loop_words(state: LoopState) -> &'static str {
    match state {
        LoopState::Logged => "Logged in the hub",
        LoopState::Shared => "Shared outside the hub",
        LoopState::Acknowledged => "Acknowledged by commissioners",
        LoopState::LinkedToDecision => "Fed into a decision",
        LoopState::NotActedOn => "Not acted on",
        LoopState::DecisionDone => "A decision it fed into is done",
        LoopState::FedBack => "Reported back to the hub",
    }
}

/// Who the speaker agreed may see it, in words.
fn consent_words(consent: Option<Consent>) -> &'static str {
    match consent {
        None => "Withdrawn",
        Some(Consent::Hub) => "The hub only",
        Some(Consent::Commissioners) => "The hub and commissioners",
        Some(Consent::Public) => "Anyone (public)",
    }
}

/// One row of a search's CSV.
struct CsvRow {
    id: String,
    said_on: String,
    hub: String,
    themes: String,
    channel: String,
    provider: String,
    consent: String,
    loop_state: String,
    text: String,
}

/// The rows as CSV, every cell through `heard_api::spreadsheet::escape_cell`.
fn to_csv(rows: &[CsvRow]) -> std::result::Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "id",
        "said on",
        "hub",
        "themes",
        "how it was heard",
        "provider",
        "consent",
        "where it stands",
        "words",
    ])?;
    for row in rows {
        let cells = [
            &row.id,
            &row.said_on,
            &row.hub,
            &row.themes,
            &row.channel,
            &row.provider,
            &row.consent,
            &row.loop_state,
            &row.text,
        ];
        writer.write_record(cells.map(|cell| heard_api::spreadsheet::escape_cell(cell.as_str())))?;
    }
    let bytes = writer.into_inner().map_err(|error| error.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Whether the policy lets `actor` follow up a disclosure about `item`.
fn may_follow_up(actor: &Actor, item: &Item) -> bool {
    heard_access::may(actor, Action::FollowUpSafeguarding, &Resource::Feedback(item.facts())).is_allowed()
}

fn view_of(actor: &Actor, item: Item) -> Option<FeedbackItem> {
    let view = feedback_view(actor, &item.facts())?;
    Some(FeedbackItem { item, view })
}

/// A page forward through a queue: the items `keep` picks, oldest first, each as the asker may
/// see it (one they may not see is left out).
fn queue_page(
    ctx: &Context<'_>,
    after: Option<String>,
    first: Option<i32>,
    keep: impl Fn(&Item) -> bool,
) -> Result<Connection<String, FeedbackItem>> {
    let actor = viewer(ctx).actor.clone();
    let items: Vec<FeedbackItem> = service(ctx).read(|state| {
        state.items_in_order().filter(|item| keep(item)).filter_map(|item| view_of(&actor, item.clone())).collect()
    });
    Ok(paginate(items, after, None, first, None)?)
}

fn parse_id(field: &str, id: &ID) -> Result<Uuid> {
    Ok(uuid_arg(field, id)?)
}

/// Finds an item and checks the policy for `action`; out of scope looks like not found.
async fn item_for(ctx: &Context<'_>, field: &str, id: &ID, action: Action) -> Result<Item> {
    let id = parse_id(field, id)?;
    match service(ctx).item(id) {
        Some(item) => {
            authorize(ctx, action, &Resource::Feedback(item.facts())).await?;
            Ok(item)
        }
        None => Err(ApiError::NotFound.into()),
    }
}

/// The item `id` names, once the policy lets the asker take `action` on it, and the asker's
/// account.
async fn item_and_asker(ctx: &Context<'_>, field: &str, id: &ID, action: Action) -> Result<(Item, Uuid)> {
    let item = item_for(ctx, field, id, action).await?;
    Ok((item, heard_api::account(ctx)?))
}

/// An item to take back or correct: one the asker may see, of a hub they may log for; and the
/// asker's account.
async fn item_to_correct(ctx: &Context<'_>, id: &ID) -> Result<(Item, Uuid)> {
    let item = item_for(ctx, "id", id, Action::ViewFeedback).await?;
    authorize(ctx, Action::LogFeedback, &Resource::Hub { hub: item.logged.hub.clone() }).await?;
    Ok((item, heard_api::account(ctx)?))
}

/// Whether the asker may say an item is `person`'s (the one rule every attributing service
/// asks: [`heard_api::persons::authorize_naming`]); refused on `field` otherwise.
async fn may_name(ctx: &Context<'_>, field: &str, person: PersonId) -> Result<()> {
    let named = service(ctx)
        .read(|state| state.persons.named(&state.holders, person, heard_access::PersonRecord::FeedbackItem));
    Ok(heard_api::persons::authorize_naming(ctx, field, named).await?)
}

/// A meeting the asker may record meetings for (members of its hub); any other is not found.
async fn meeting_for(ctx: &Context<'_>, field: &str, id: &ID) -> Result<Meeting> {
    let id = parse_id(field, id)?;
    let meeting = service(ctx).meeting(id).ok_or(ApiError::NotFound)?;
    let allowed =
        heard_access::may(&viewer(ctx).actor, Action::RecordMeeting, &Resource::Hub { hub: meeting.hub.clone() });
    if !allowed.is_allowed() {
        return Err(ApiError::NotFound.into());
    }
    Ok(meeting)
}

/// One item, in the version the asker may see; an item they may not see, or an erased one, is
/// not found.
async fn one_item(ctx: &Context<'_>, id: &ID) -> Result<FeedbackItem> {
    let item = item_for(ctx, "id", id, Action::ViewFeedback).await?;
    if item.erased {
        return Err(ApiError::NotFound.into());
    }
    shown(ctx, item)
}

/// The single process's answer for a feedback item another service references: what the
/// federation gateway gets from [`ItemsQuery::find_feedback_item_by_id`].
pub fn owners(owners: Owners) -> Owners {
    fn resolve<'a>(ctx: &'a ContextSelectionSet<'a>, field: &'a Positioned<Field>, id: &'a str) -> Resolved<'a> {
        Box::pin(async move {
            match one_item(&ctx.with_field(field), &ID(id.to_owned())).await {
                Ok(item) => OutputType::resolve(&item, ctx, field).await,
                Err(error) => Err(error.into_server_error(field.pos)),
            }
        })
    }
    fn theme<'a>(ctx: &'a ContextSelectionSet<'a>, field: &'a Positioned<Field>, id: &'a str) -> Resolved<'a> {
        Box::pin(async move {
            let theme = theme_with_id(&ctx.with_field(field), &ID(id.to_owned()));
            OutputType::resolve(&theme, ctx, field).await
        })
    }
    owners.with("FeedbackItem", std::sync::Arc::new(resolve)).with("Theme", std::sync::Arc::new(theme))
}

/// The theme whose id is `id` in the vocabulary, merged or not (a reference's key stays its
/// own: [`theme_node`] follows a merge).
fn theme_with_id(ctx: &Context<'_>, id: &ID) -> Option<ThemeNode> {
    service(ctx).read(|state| {
        state.vocabulary.themes.get(id.as_str()).map(|theme| ThemeNode {
            id: ID(theme.id.clone()),
            name: theme.name.clone(),
            parent: theme.parent.clone().map(ID),
        })
    })
}

fn shown(ctx: &Context<'_>, item: Item) -> Result<FeedbackItem> {
    view_of(&viewer(ctx).actor, item).ok_or_else(|| ApiError::NotFound.into())
}

/// This service's queries: items, moderation, safeguarding, meetings, themes, search and
/// spreadsheet imports.
#[derive(MergedObject, Default)]
pub struct FeedbackQuery(ItemsQuery, imports::ImportQuery);

/// This service's mutations.
#[derive(MergedObject, Default)]
pub struct FeedbackMutation(ItemsMutation, imports::ImportMutation);

#[derive(Default)]
pub struct ItemsQuery;

#[Object]
impl ItemsQuery {
    /// One item, in the version you may see. Items you may not see are not found.
    /// An erased item is not found either: no query shows it again.
    async fn feedback_item(&self, ctx: &Context<'_>, id: ID) -> Result<FeedbackItem> {
        one_item(ctx, &id).await
    }

    /// The theme another service references (a decision's evidence), for the federation
    /// gateway: anyone may read the vocabulary. A merged theme answers as it was named.
    #[graphql(entity)]
    async fn find_theme_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<ThemeNode> {
        theme_with_id(ctx, &id).ok_or_else(|| ApiError::NotFound.into())
    }

    /// The item another service references (a decision's evidence), for the federation
    /// gateway: the same answer as `feedbackItem`.
    #[graphql(entity)]
    async fn find_feedback_item_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<FeedbackItem> {
        one_item(ctx, &id).await
    }

    /// Items you may see, newest first, with filters.
    #[allow(clippy::too_many_arguments)]
    async fn feedback_items(
        &self,
        ctx: &Context<'_>,
        filter: Option<FeedbackFilter>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Connection<String, FeedbackItem>> {
        let filter = filter.unwrap_or_default();
        let actor = viewer(ctx).actor.clone();
        let from = parse_day("filter.from", &filter.from)?;
        let to = parse_day("filter.to", &filter.to)?;
        let theme = match &filter.theme {
            Some(theme) => {
                Some(service(ctx).resolve_themes("filter.theme", std::slice::from_ref(theme))?.into_iter().next())
            }
            None => None,
        }
        .flatten();
        let items: Vec<FeedbackItem> = service(ctx).read(|state| {
            state
                .items_in_order()
                .rev()
                .filter(|item| filter.hub.as_ref().is_none_or(|hub| item.logged.hub == hub.as_str()))
                .filter(|item| {
                    filter.provider.as_ref().is_none_or(|p| item.logged.provider.as_deref() == Some(p.as_str()))
                })
                .filter(|item| filter.channel.is_none_or(|c| item.logged.channel == Channel::from(c)))
                .filter(|item| filter.loop_state.is_none_or(|l| item.loop_state == LoopState::from(l)))
                .filter(|item| theme.as_ref().is_none_or(|theme| has_theme(state, item, theme)))
                .filter(|item| said_between(item, from, to))
                .filter_map(|item| view_of(&actor, item.clone()))
                .collect()
        });
        Ok(paginate(items, after, before, first, last)?)
    }

    /// Full-text search over the feedback you may see: words and "quoted phrases", every one
    /// needed first; when no item has them all, the items with most of them, best first. One
    /// letter wrong in a word of four letters or more still matches. With highlights, filters
    /// and facets.
    async fn search_feedback(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] query: String,
        filter: Option<FeedbackFilter>,
        #[graphql(desc = "Results per page (at most 100)", default = 20)] first: i32,
        #[graphql(desc = "A cursor from a previous page")] after: Option<String>,
    ) -> Result<Connection<String, SearchHit, SearchSummary>> {
        if !(1..=100).contains(&first) {
            return Err(ApiError::bad_input("first", "must be between 1 and 100").into());
        }
        let offset = match &after {
            Some(cursor) => cursor
                .strip_prefix("s:")
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n < MAX_RESULTS)
                .map(|n| n + 1)
                .ok_or_else(|| {
                    ApiError::bad_input(
                        "after",
                        format!("is not a cursor this search gave out (a search pages through its first {MAX_RESULTS} results)"),
                    )
                })?,
            None => 0,
        };
        let mut request = search_request(ctx, query, filter)?;
        request.offset = offset;
        request.limit = first as usize;
        let actor = viewer(ctx).actor.clone();
        let (outcome, hits) = service(ctx).search(&actor, &request)?;
        let reachable = outcome.total.min(MAX_RESULTS);
        let summary = SearchSummary {
            total: outcome.total as i32,
            facets: facet_counts(ctx, outcome.facets),
            matched_every_word: outcome.every_word,
            understood_as: outcome.understood_as,
        };
        let has_next = offset + (first as usize) < reachable;
        let mut connection = Connection::with_additional_fields(offset > 0, has_next, summary);
        for (index, visible) in hits.into_iter().enumerate() {
            let (hit, item) = (visible.hit, FeedbackItem { item: visible.item, view: visible.view });
            let node = SearchHit {
                item,
                score: f64::from(hit.score),
                fragment: hit.fragment,
                highlights: hit
                    .highlights
                    .into_iter()
                    .map(|(start, end)| Highlight { start: start as i32, end: end as i32 })
                    .collect(),
            };
            connection.edges.push(Edge::new(format!("s:{}", offset + index), node));
        }
        Ok(connection)
    }

    /// The items the same search finds, every one you may see (best first, at most 10,000), as
    /// CSV: one row per item with its id, the day it was said, hub, themes, how it was heard,
    /// provider, consent, where its loop stands and its words in the version you see. Every cell
    /// that a spreadsheet would run as a formula starts with a quote.
    async fn search_feedback_csv(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] query: String,
        filter: Option<FeedbackFilter>,
    ) -> Result<String> {
        let mut request = search_request(ctx, query, filter)?;
        request.limit = MAX_RESULTS;
        request.items_only = true;
        let actor = viewer(ctx).actor.clone();
        let (_, hits) = service(ctx).search(&actor, &request)?;
        let rows: Vec<CsvRow> = service(ctx).read(|state| {
            hits.iter()
                .map(|visible| {
                    let item = &visible.item;
                    let themes: Vec<String> = item
                        .logged
                        .themes
                        .iter()
                        .filter_map(|id| state.vocabulary.resolve(id).map(|theme| theme.name.clone()))
                        .collect();
                    let item = &state.opened(service(ctx).store(), item.clone());
                    let text = match visible.view {
                        FeedbackView::Hub => item.hub_text(),
                        FeedbackView::Shared => item.shared_text(),
                    };
                    CsvRow {
                        id: item.logged.item.to_string(),
                        said_on: item.logged.said_on.clone(),
                        hub: state
                            .reference
                            .hubs
                            .get(&item.logged.hub)
                            .cloned()
                            .unwrap_or_else(|| item.logged.hub.clone()),
                        themes: themes.join("; "),
                        channel: channel_words(item.logged.channel).to_owned(),
                        provider: item
                            .logged
                            .provider
                            .as_ref()
                            .map(|id| state.reference.providers.get(id).cloned().unwrap_or_else(|| id.clone()))
                            .unwrap_or_default(),
                        consent: consent_words(item.consent).to_owned(),
                        loop_state: loop_words(item.loop_state).to_owned(),
                        text: text.unwrap_or_default().to_owned(),
                    }
                })
                .collect()
        });
        to_csv(&rows).map_err(|error| ApiError::internal(error).into())
    }

    /// A hub's items waiting for moderation (not held, not shared), oldest first unless asked
    /// otherwise, narrowed by `filter`; `totalCount` counts them all. Its coordinators only.
    #[allow(clippy::too_many_arguments)]
    async fn moderation_queue(
        &self,
        ctx: &Context<'_>,
        hub: ID,
        filter: Option<ModerationFilter>,
        order: Option<QueueOrder>,
        after: Option<String>,
        first: Option<i32>,
    ) -> Result<QueuePage> {
        moderation_page(ctx, &hub, Moderation::Pending, filter, order, (after, first)).await
    }

    /// A hub's held items, each with the reason it was held (`heldReason`), until a
    /// coordinator releases it back to the queue (`releaseFeedback`) or the speaker narrows
    /// their consent to the hub. Filters and order as `moderationQueue`. Its coordinators only.
    #[allow(clippy::too_many_arguments)]
    async fn held_feedback(
        &self,
        ctx: &Context<'_>,
        hub: ID,
        filter: Option<ModerationFilter>,
        order: Option<QueueOrder>,
        after: Option<String>,
        first: Option<i32>,
    ) -> Result<QueuePage> {
        moderation_page(ctx, &hub, Moderation::Held, filter, order, (after, first)).await
    }

    /// The hub's gazetteer: the names of people and places its coordinators take out before
    /// anything leaves the hub, by name. Its coordinators only; it never leaves the hub.
    async fn gazetteer(&self, ctx: &Context<'_>, hub: ID) -> Result<Vec<GazetteerEntry>> {
        authorize(ctx, Action::KeepGazetteer, &Resource::Hub { hub: hub.0.clone() }).await?;
        let list = service(ctx).gazetteer(&hub);
        Ok(list.by_name().into_iter().cloned().map(GazetteerEntry::from).collect())
    }

    /// Items routed to you because a risk was disclosed. Hub coordinators only.
    async fn safeguarding_queue(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
    ) -> Result<Connection<String, FeedbackItem>> {
        authorize(ctx, Action::ViewQueue, &Resource::System).await?;
        let me = viewer(ctx).actor.account;
        queue_page(ctx, after, first, |item| item.safeguarding.is_some() && item.safeguarding == me)
    }

    /// The disclosures of risk that are with you, most urgent first (flagged today, this week,
    /// then earlier; those with nothing done yet first), or those you marked dealt with, most
    /// recent first. Hub coordinators only; each read is on the access log.
    async fn safeguarding_disclosures(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] dealt_with: bool,
    ) -> Result<Vec<SafeguardingDisclosure>> {
        authorize(ctx, Action::FollowUpSafeguarding, &Resource::System).await?;
        let actor = viewer(ctx).actor.clone();
        let today = heard_api::today();
        let mut found: Vec<SafeguardingDisclosure> = service(ctx).read(|state| {
            state
                .disclosures
                .values()
                .filter(|disclosure| disclosure.is_open() != dealt_with)
                .filter_map(|disclosure| Some((disclosure, state.items.get(&disclosure.item)?)))
                .filter(|(_, item)| may_follow_up(&actor, item))
                .map(|(disclosure, item)| SafeguardingDisclosure { disclosure: disclosure.clone(), item: item.clone() })
                .collect()
        });
        if dealt_with {
            found.sort_by_key(|found| std::cmp::Reverse(found.disclosure.closed_at_micros()));
        } else {
            found.sort_by(|a, b| safeguarding::most_urgent_first(&a.disclosure, &b.disclosure, today));
        }
        let read: Vec<Resource> = found.iter().map(|found| Resource::Feedback(found.item.facts())).collect();
        heard_api::record_reads(ctx, Action::FollowUpSafeguarding, &read).await?;
        Ok(found)
    }

    /// How many disclosures of risk are open with you: a number for the menu and the home page,
    /// which reads nothing of them (and so records no read). Hub coordinators only.
    async fn safeguarding_open_count(&self, ctx: &Context<'_>) -> Result<i32> {
        authorize(ctx, Action::FollowUpSafeguarding, &Resource::System).await?;
        let actor = viewer(ctx).actor.clone();
        let open = service(ctx).read(|state| {
            state
                .disclosures
                .values()
                .filter(|disclosure| disclosure.is_open() && actor.account == Some(disclosure.coordinator))
                .filter_map(|disclosure| state.items.get(&disclosure.item))
                .filter(|item| may_follow_up(&actor, item))
                .count()
        });
        Ok(open as i32)
    }

    /// One disclosure of risk with its follow-up, for the coordinator it is with. To anyone
    /// else it is not found. The read is on the access log.
    async fn safeguarding_disclosure(&self, ctx: &Context<'_>, id: ID) -> Result<SafeguardingDisclosure> {
        let (disclosure, item) = disclosure_for(ctx, "id", &id).await?;
        heard_api::record_read(ctx, Action::FollowUpSafeguarding, &Resource::Feedback(item.facts())).await?;
        Ok(SafeguardingDisclosure { disclosure, item })
    }

    /// The open disclosures of your hubs that are with another coordinator: who has each and how
    /// long it has waited, most urgent first; never what was said or done. Hub coordinators only.
    async fn safeguarding_with_others(&self, ctx: &Context<'_>) -> Result<Vec<SafeguardingAssignment>> {
        authorize(ctx, Action::FollowUpSafeguarding, &Resource::System).await?;
        let actor = viewer(ctx).actor.clone();
        let today = heard_api::today();
        let hubs: Vec<String> = actor
            .hubs
            .iter()
            .filter(|hub| {
                heard_access::may(&actor, Action::FollowUpSafeguarding, &Resource::Hub { hub: (*hub).clone() })
                    .is_allowed()
            })
            .cloned()
            .collect();
        Ok(service(ctx).read(|state| {
            let mut open: Vec<&Disclosure> = state
                .disclosures
                .values()
                .filter(|disclosure| disclosure.is_open() && hubs.contains(&disclosure.hub))
                .filter(|disclosure| actor.account != Some(disclosure.coordinator))
                .collect();
            open.sort_by(|a, b| safeguarding::most_urgent_first(a, b, today));
            open.into_iter()
                .map(|disclosure| SafeguardingAssignment {
                    hub: ID(disclosure.hub.clone()),
                    hub_name: state.reference.hubs.get(&disclosure.hub).cloned(),
                    flagged_on: disclosure.flagged_on.to_string(),
                    urgency: disclosure.urgency(today).into(),
                    coordinator_id: ID(disclosure.coordinator.to_string()),
                    actions_recorded: disclosure.actions_recorded() as i32,
                    last_action_on: disclosure.last_action_on().map(|day| day.to_string()),
                })
                .collect()
        }))
    }

    /// The theme vocabulary (merged themes left out), by name.
    async fn themes(&self, ctx: &Context<'_>) -> Vec<ThemeNode> {
        service(ctx).read(|state| {
            state
                .vocabulary
                .live()
                .into_iter()
                .map(|theme| ThemeNode {
                    id: ID(theme.id.clone()),
                    name: theme.name.clone(),
                    parent: theme.parent.clone().map(ID),
                })
                .collect()
        })
    }

    /// Meetings of a hub, newest first. Members of the hub only.
    async fn meetings(
        &self,
        ctx: &Context<'_>,
        hub: ID,
        after: Option<String>,
        first: Option<i32>,
    ) -> Result<Connection<String, MeetingView>> {
        authorize(ctx, Action::RecordMeeting, &Resource::Hub { hub: hub.0.clone() }).await?;
        let mut meetings: Vec<Meeting> =
            service(ctx).read(|state| state.meetings.values().filter(|m| m.hub == hub.as_str()).cloned().collect());
        // Meetings still going first, then the newest.
        meetings.sort_by(|a, b| b.is_open().cmp(&a.is_open()).then_with(|| b.held_on.cmp(&a.held_on)));
        Ok(paginate(meetings.into_iter().map(MeetingView).collect(), after, None, first, None)?)
    }

    /// One meeting, for members of its hub. Another hub's meeting is not found, exactly like
    /// one that does not exist.
    async fn meeting(&self, ctx: &Context<'_>, id: ID) -> Result<MeetingView> {
        let meeting = meeting_for(ctx, "id", &id).await?;
        Ok(MeetingView(meeting))
    }

    /// Coordinators of a hub who can receive a safeguarding item (account ids).
    async fn hub_coordinators(&self, ctx: &Context<'_>, hub: ID) -> Result<Vec<ID>> {
        authorize(ctx, Action::LogFeedback, &Resource::Hub { hub: hub.0.clone() }).await?;
        Ok(service(ctx).coordinators_of(&hub).into_iter().map(|id| ID(id.to_string())).collect())
    }
}

/// What someone said, to log.
#[derive(InputObject)]
pub struct LogFeedbackInput {
    pub hub: ID,
    /// In the speaker's own words.
    pub text: String,
    pub channel: ChannelName,
    /// The day it was said, `YYYY-MM-DD`.
    pub said_on: String,
    /// The service or provider it is about, as the speaker named it.
    pub about: Option<String>,
    /// A provider id, if known.
    pub provider: Option<ID>,
    /// Theme ids or names.
    #[graphql(default)]
    pub themes: Vec<String>,
    pub speaker: SpeakerType,
    /// For pseudonymous or named speakers: the name they agreed to.
    pub speaker_name: Option<String>,
    pub speaker_contact: Option<String>,
    pub consent: ConsentScope,
    /// The meeting it was raised at.
    pub meeting: Option<ID>,
    /// The person (a `person` id from `attributeFeedback` or another service) who said it,
    /// when the hub knows them: their items can then be found and erased together.
    pub person: Option<ID>,
    /// Your own id for this request (1 to 64 of `A-Z a-z 0-9 _ -`, new for each thing you
    /// create): sent again, with the same details, it answers what the first one created and
    /// adds nothing; with other details it is refused on `input.clientMutationId`.
    pub client_mutation_id: Option<String>,
}

/// Meeting mode: the meeting first, then its items are logged into it.
#[derive(InputObject)]
pub struct StartMeetingInput {
    pub hub: ID,
    /// The day it is held: `YYYY-MM-DD`, or as people in the UK write it.
    pub held_on: String,
    /// Where it is held: a venue, not a person.
    pub place: String,
    /// Your own id for this request (1 to 64 of `A-Z a-z 0-9 _ -`, new for each thing you
    /// create): sent again, with the same details, it answers what the first one created and
    /// adds nothing; with other details it is refused on `input.clientMutationId`.
    pub client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub struct RecordMeetingInput {
    /// A meeting started in meeting mode, to end now: its items are those logged into it, and
    /// its hub and day are the ones it was started with.
    pub meeting_id: Option<ID>,
    pub hub: ID,
    /// `YYYY-MM-DD`.
    pub held_on: String,
    pub attendance: i32,
    #[graphql(default)]
    pub minutes: String,
    /// Items raised at the meeting.
    #[graphql(default)]
    pub item_ids: Vec<ID>,
    /// Your own id for this request (1 to 64 of `A-Z a-z 0-9 _ -`, new for each thing you
    /// create): sent again, with the same details, it answers what the first one created and
    /// adds nothing; with other details it is refused on `input.clientMutationId`.
    /// Not used when ending a meeting started in meeting mode: that can happen once only.
    pub client_mutation_id: Option<String>,
}

/// A step taken about a disclosure.
#[derive(InputObject)]
pub struct RecordSafeguardingActionInput {
    /// The flagged item.
    pub item_id: ID,
    /// What was done (required: there is no default).
    pub step: Option<SafeguardingStepName>,
    /// The day it happened (`2026-12-04`, `4/12/2026` or `4 December 2026`): not before the
    /// flag, not in the future. Today when left out.
    pub on: Option<String>,
    /// What was done, heard and agreed. Required for `OTHER`.
    pub notes: Option<String>,
}

/// Handing a disclosure to another coordinator of its hub.
#[derive(InputObject)]
pub struct HandSafeguardingOverInput {
    pub item_id: ID,
    pub coordinator_id: ID,
    /// What the next coordinator needs to know.
    pub notes: Option<String>,
}

/// Marking a disclosure dealt with.
#[derive(InputObject)]
pub struct CloseSafeguardingInput {
    pub item_id: ID,
    /// What came of it (required: there is no default).
    pub outcome: Option<SafeguardingOutcomeName>,
    /// Required for `OTHER`.
    pub notes: Option<String>,
}

/// A name or place for a hub's gazetteer.
#[derive(InputObject)]
pub struct AddGazetteerEntryInput {
    pub hub: ID,
    pub name: String,
    pub kind: Option<GazetteerKindName>,
}

#[derive(InputObject)]
pub struct RemoveGazetteerEntryInput {
    pub hub: ID,
    pub id: ID,
}

#[derive(Default)]
pub struct ItemsMutation;

#[Object]
impl ItemsMutation {
    /// Logs one point someone made, for a hub you belong to.
    async fn log_feedback(&self, ctx: &Context<'_>, input: LogFeedbackInput) -> Result<FeedbackItem> {
        authorize(ctx, Action::LogFeedback, &Resource::Hub { hub: input.hub.0.clone() }).await?;
        let by = heard_api::account(ctx)?;
        let once = ClientMutationId::optional(input.client_mutation_id.as_deref())?;
        let themes = service(ctx).resolve_themes("input.themes", &input.themes)?;
        let meeting = input.meeting.as_ref().map(|id| parse_id("input.meeting", id)).transpose()?;
        let person = input.person.as_ref().map(|id| parse_id("input.person", id).map(PersonId)).transpose()?;
        if let Some(person) = person {
            may_name(ctx, "input.person", person).await?;
        }
        let new = NewItem {
            hub: input.hub.0,
            meeting,
            channel: Some(input.channel.into()),
            about: input.about,
            provider: input.provider.map(|p| p.0),
            themes,
            speaker: Some(input.speaker.into()),
            speaker_name: input.speaker_name,
            speaker_contact: input.speaker_contact,
            consent: Some(input.consent.into()),
            said_on: input.said_on,
            text: input.text,
            import_key: None,
        };
        let id = idempotent::record_id(by, "logFeedback", once.as_ref());
        let item = service(ctx).log_as(id, by, new, person).await.map_err(prefix_input)?;
        shown(ctx, item)
    }

    /// Says which person (data subject) said the item: `person`, or a new person when left
    /// out (its id comes back as `person`). The item's hub's coordinators only; to anyone else
    /// the item is not found (or refused). An item is about one person at most: attributing it
    /// to another person moves it to them. An unknown person is refused naming `person`, an
    /// erased one too; an erased item cannot be attributed. So is a person whose items another
    /// hub holds, unless you coordinate one of their hubs (or hold another record of theirs):
    /// exactly as an unknown person.
    async fn attribute_feedback(&self, ctx: &Context<'_>, item_id: ID, person: Option<ID>) -> Result<FeedbackItem> {
        let (item, by) = item_and_asker(ctx, "itemId", &item_id, Action::ModerateFeedback).await?;
        let person = person.as_ref().map(|id| parse_id("person", id).map(PersonId)).transpose()?;
        if let Some(person) = person {
            may_name(ctx, "person", person).await?;
        }
        shown(ctx, service(ctx).attribute(item.logged.item, by, person).await?)
    }

    /// Takes passages (names, places) out of the version that leaves the hub. The original
    /// stays, for the hub alone.
    async fn redact_feedback(&self, ctx: &Context<'_>, id: ID, passages: Vec<String>) -> Result<FeedbackItem> {
        let (item, by) = item_and_asker(ctx, "id", &id, Action::ModerateFeedback).await?;
        shown(ctx, service(ctx).redact(item.logged.item, by, &passages).await?)
    }

    /// Approves the item to leave the hub, within the speaker's consent.
    async fn share_feedback(&self, ctx: &Context<'_>, id: ID) -> Result<FeedbackItem> {
        let (item, by) = item_and_asker(ctx, "id", &id, Action::ModerateFeedback).await?;
        shown(ctx, service(ctx).share(item.logged.item, by).await?)
    }

    /// Keeps the item in the hub for now, with a reason.
    async fn hold_feedback(&self, ctx: &Context<'_>, id: ID, reason: String) -> Result<FeedbackItem> {
        let (item, by) = item_and_asker(ctx, "id", &id, Action::ModerateFeedback).await?;
        shown(ctx, service(ctx).hold(item.logged.item, by, &reason).await?)
    }

    /// Puts a held item back in the hub's queue to moderate. Its coordinators only.
    async fn release_feedback(&self, ctx: &Context<'_>, id: ID) -> Result<FeedbackItem> {
        let (item, by) = item_and_asker(ctx, "id", &id, Action::ModerateFeedback).await?;
        shown(ctx, service(ctx).release(item.logged.item, by).await?)
    }

    /// Adds a name or place to the hub's gazetteer, so that suggested redactions find it.
    async fn add_gazetteer_entry(&self, ctx: &Context<'_>, input: AddGazetteerEntryInput) -> Result<GazetteerEntry> {
        authorize(ctx, Action::KeepGazetteer, &Resource::Hub { hub: input.hub.0.clone() }).await?;
        let by = heard_api::account(ctx)?;
        let kind = input.kind.map(GazetteerKind::from);
        let entry = service(ctx).add_to_gazetteer(by, &input.hub, &input.name, kind).await.map_err(prefix_input)?;
        Ok(entry.into())
    }

    /// Takes an entry off the hub's gazetteer.
    async fn remove_gazetteer_entry(&self, ctx: &Context<'_>, input: RemoveGazetteerEntryInput) -> Result<bool> {
        authorize(ctx, Action::KeepGazetteer, &Resource::Hub { hub: input.hub.0.clone() }).await?;
        let by = heard_api::account(ctx)?;
        let entry = parse_id("input.id", &input.id)?;
        service(ctx).remove_from_gazetteer(by, &input.hub, entry).await.map_err(prefix_input)?;
        Ok(true)
    }

    /// Records that the speaker narrowed or withdrew their consent. Every view obeys it at once.
    /// A withdrawal within six calendar months of the day the item was said (that day six
    /// months on included) erases the item as well, as the person was promised: its words and
    /// speaker are destroyed, it leaves every list and search, and the answer comes back with
    /// `erased: true` (its facts stay in counts and reports). Later than that, the item is only
    /// hidden; so is an item flagged for safeguarding (a disclosure of risk must not be lost).
    async fn change_consent(&self, ctx: &Context<'_>, id: ID, consent: ConsentChange) -> Result<FeedbackItem> {
        let (item, by) = item_and_asker(ctx, "id", &id, Action::ChangeConsent).await?;
        let consent = match consent {
            ConsentChange::Hub => Some(Consent::Hub),
            ConsentChange::Commissioners => Some(Consent::Commissioners),
            ConsentChange::Public => Some(Consent::Public),
            ConsentChange::Withdrawn => None,
        };
        shown(ctx, service(ctx).change_consent(item.logged.item, by, consent).await?)
    }

    /// Records that the item was reported back to its hub, at one of the hub's meetings if
    /// given. Its coordinators only, once commissioners have answered it.
    async fn record_fed_back(&self, ctx: &Context<'_>, id: ID, meeting_id: Option<ID>) -> Result<FeedbackItem> {
        let (item, by) = item_and_asker(ctx, "id", &id, Action::ModerateFeedback).await?;
        let meeting = meeting_id.as_ref().map(|meeting| parse_id("meetingId", meeting)).transpose()?;
        shown(ctx, service(ctx).fed_back(item.logged.item, by, meeting).await?)
    }

    /// Routes an item that discloses a risk to a named coordinator of its hub. It leaves every
    /// other view, list, report and search at once.
    async fn flag_safeguarding(&self, ctx: &Context<'_>, id: ID, coordinator_id: ID) -> Result<bool> {
        let (item, by) = item_and_asker(ctx, "id", &id, Action::FlagSafeguarding).await?;
        let coordinator = parse_id("coordinatorId", &coordinator_id)?;
        service(ctx).flag_safeguarding(item.logged.item, by, coordinator).await?;
        Ok(true)
    }

    /// Records a step taken about a disclosure with you, on the day it happened. Only the
    /// coordinator it is with; to anyone else it is not found.
    async fn record_safeguarding_action(
        &self,
        ctx: &Context<'_>,
        input: RecordSafeguardingActionInput,
    ) -> Result<SafeguardingDisclosure> {
        let (id, by) = disclosure_to_follow_up(ctx, &input.item_id).await?;
        let new = NewAction { step: input.step.map(SafeguardingStep::from), on: input.on, notes: input.notes };
        service(ctx).record_safeguarding_action(id, by, new).await.map_err(prefix_input)?;
        disclosure_view(ctx, id)
    }

    /// Hands a disclosure with you to another coordinator of its hub: from then on it is theirs
    /// alone to see and follow up.
    async fn hand_safeguarding_over(
        &self,
        ctx: &Context<'_>,
        input: HandSafeguardingOverInput,
    ) -> Result<SafeguardingHandover> {
        let (id, by) = disclosure_to_follow_up(ctx, &input.item_id).await?;
        let to = parse_id("input.coordinatorId", &input.coordinator_id)?;
        service(ctx).hand_safeguarding_over(id, by, to, input.notes).await.map_err(prefix_input)?;
        Ok(SafeguardingHandover { item_id: ID(id.to_string()), coordinator_id: ID(to.to_string()) })
    }

    /// Marks a disclosure with you dealt with, with what came of it.
    async fn close_safeguarding(
        &self,
        ctx: &Context<'_>,
        input: CloseSafeguardingInput,
    ) -> Result<SafeguardingDisclosure> {
        let (id, by) = disclosure_to_follow_up(ctx, &input.item_id).await?;
        let outcome = input.outcome.map(Into::into);
        service(ctx).close_safeguarding(id, by, outcome, input.notes).await.map_err(prefix_input)?;
        disclosure_view(ctx, id)
    }

    /// Starts meeting mode for a hub you belong to: the day and where. Items are then logged
    /// into it (`logFeedback` with `meeting`), and `recordMeeting` with `meetingId` ends it.
    async fn start_meeting(&self, ctx: &Context<'_>, input: StartMeetingInput) -> Result<MeetingView> {
        authorize(ctx, Action::RecordMeeting, &Resource::Hub { hub: input.hub.0.clone() }).await?;
        let by = heard_api::account(ctx)?;
        let once = ClientMutationId::optional(input.client_mutation_id.as_deref())?;
        let id = idempotent::record_id(by, "startMeeting", once.as_ref());
        let meeting = service(ctx)
            .start_meeting_as(id, by, input.hub.0, &input.held_on, &input.place)
            .await
            .map_err(prefix_input)?;
        Ok(MeetingView(meeting))
    }

    /// "Undo the last one": takes back an item you logged, within ten minutes and before
    /// anyone moderated it. It leaves every list, count and search; the log keeps that it
    /// happened.
    async fn undo_feedback(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let (item, by) = item_to_correct(ctx, &id).await?;
        service(ctx).withdraw(item.logged.item, by).await?;
        Ok(true)
    }

    /// Corrects the words and themes of an item you logged, before anyone moderated it.
    async fn edit_feedback(
        &self,
        ctx: &Context<'_>,
        id: ID,
        text: String,
        #[graphql(default)] themes: Vec<String>,
    ) -> Result<FeedbackItem> {
        let (item, by) = item_to_correct(ctx, &id).await?;
        shown(ctx, service(ctx).edit(item.logged.item, by, &text, &themes).await?)
    }

    /// Records a meeting: date, attendance, minutes and the items raised. With `meetingId`,
    /// ends a meeting started in meeting mode.
    async fn record_meeting(&self, ctx: &Context<'_>, input: RecordMeetingInput) -> Result<MeetingView> {
        authorize(ctx, Action::RecordMeeting, &Resource::Hub { hub: input.hub.0.clone() }).await?;
        let by = heard_api::account(ctx)?;
        let once = ClientMutationId::optional(input.client_mutation_id.as_deref())?;
        if let Some(id) = &input.meeting_id {
            let meeting = meeting_for(ctx, "input.meetingId", id).await?;
            if meeting.hub != input.hub.as_str() {
                return Err(ApiError::bad_input("input.meetingId", "this meeting is not one of this hub's").into());
            }
            let meeting = service(ctx)
                .end_meeting(by, meeting.id, i64::from(input.attendance), &input.minutes)
                .await
                .map_err(prefix_input)?;
            return Ok(MeetingView(meeting));
        }
        let items = input
            .item_ids
            .iter()
            .enumerate()
            .map(|(index, id)| parse_id(&format!("input.itemIds[{index}]"), id))
            .collect::<Result<Vec<_>>>()?;
        let id = idempotent::record_id(by, "recordMeeting", once.as_ref());
        let meeting = service(ctx)
            .record_meeting_as(id, by, input.hub.0, &input.held_on, i64::from(input.attendance), &input.minutes, items)
            .await
            .map_err(prefix_input)?;
        Ok(MeetingView(meeting))
    }

    /// Adds a theme, optionally under a parent theme.
    async fn add_theme(&self, ctx: &Context<'_>, name: String, parent: Option<String>) -> Result<ThemeNode> {
        authorize(ctx, Action::EditThemes, &Resource::Themes).await?;
        let by = heard_api::account(ctx)?;
        let id = service(ctx).add_theme(by, &name, parent.as_deref()).await?;
        theme_node(ctx, &id)
    }

    async fn rename_theme(&self, ctx: &Context<'_>, id: ID, name: String) -> Result<ThemeNode> {
        authorize(ctx, Action::EditThemes, &Resource::Themes).await?;
        let by = heard_api::account(ctx)?;
        service(ctx).rename_theme(by, &id, &name).await?;
        theme_node(ctx, &id)
    }

    /// Merges `from` into `into`: items tagged `from` count under `into` from now on.
    async fn merge_themes(&self, ctx: &Context<'_>, from: ID, into: ID) -> Result<ThemeNode> {
        authorize(ctx, Action::EditThemes, &Resource::Themes).await?;
        let by = heard_api::account(ctx)?;
        service(ctx).merge_themes(by, &from, &into).await?;
        theme_node(ctx, &into)
    }
}

fn theme_node(ctx: &Context<'_>, id: &str) -> Result<ThemeNode> {
    service(ctx)
        .read(|state| state.vocabulary.resolve(id).cloned())
        .map(|theme| ThemeNode { id: ID(theme.id), name: theme.name, parent: theme.parent.map(ID) })
        .ok_or_else(|| ApiError::NotFound.into())
}

/// Domain field names are the input's; in a mutation they sit under `input.`.
fn prefix_input(error: ApiError) -> ApiError {
    match error {
        ApiError::BadUserInput { field, message } if !field.starts_with("input.") => {
            ApiError::BadUserInput { field: format!("input.{field}"), message }
        }
        other => other,
    }
}

#[derive(Default)]
pub struct FeedbackSubscription;

#[Subscription]
impl FeedbackSubscription {
    /// Each new item, as it is logged, if (and in the version) the subscriber may see it, with
    /// the log `position` it was logged at. Given `after` (the last `position` it got, or a
    /// `LAGGED` error's `resumeAfter`), first every item logged after that position which the
    /// subscriber may see now, in log order, then each new one: none missed, none twice. A
    /// subscriber that falls too far behind (the server's `subscription_buffer`) gets one error
    /// with `extensions.code` `LAGGED` and `extensions.resumeAfter`, and the subscription ends:
    /// subscribe again `after` it for the rest.
    async fn feedback_logged(
        &self,
        ctx: &Context<'_>,
        hub: Option<ID>,
        after: Option<String>,
    ) -> Result<impl Stream<Item = Result<FeedbackItem>>> {
        let feedback = service(ctx).clone();
        let after = match after {
            Some(after) => {
                let head = feedback.store().refresh_head().await.map_err(ApiError::from)?;
                heard_api::resume::after_arg("after", Some(&after), head)?
            }
            None => None,
        };
        let actor = viewer(ctx).actor.clone();
        let logged = logged::Logged::start(feedback, actor, hub, after);
        Ok(futures::stream::unfold(logged, |mut logged| async move {
            let next = logged.next().await?;
            Some((next, logged))
        }))
    }
}
