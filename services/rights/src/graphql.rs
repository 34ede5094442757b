//! The rights service's part of the GraphQL schema (a federation subgraph).
//!
//! A complaint is shown in one of two versions: the full record (complaints handlers, and the
//! advocate who relayed it), or the provider's version, which never says who complained and
//! holds none of the complaint's words until a complaints handler has reviewed them for the
//! provider (`redactComplaintForProvider`, or `releaseComplaintWordsToProvider` when there is
//! nothing to take out). Every read of a complaint is recorded on the access log.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject, Subscription};
use futures::Stream;
use heard_access::{Action, Resource};
use heard_api::idempotent::{self, ClientMutationId};
use heard_api::rollup::{ReportPeriod, RollupRow, rows};
use heard_api::{
    ApiError, account, allowed, authorize, date_arg_or_today, paginate, period_args, record_read, record_reads, today,
    uuid_arg, viewer,
};
use heard_contracts::privacy::PersonId;
use uuid::Uuid;

use crate::domain::Rejection;
use crate::domain::catalogue::{Article, CharterPublished};
use crate::domain::complaint::{self, Complaint, Event};
use crate::service::{
    Attention, ComplaintPersonal, ComplaintRecord, DEFAULT_CHARTER, NewComplaint, PatternDimension, ProviderWords,
    RightsService, patterns,
};

/// Why a provider responder reads none of a complaint's words yet (`Complaint.wordsWithheld`),
/// a sentence a page can show in their place.
pub const AWAITING_REVIEW: &str = "Awaiting the complaints team's review of the words.";

/// Why nobody reads a complaint's words any more (`Complaint.wordsWithheld`).
pub const ERASED_WORDS: &str = "Erased at the person's request.";

fn service<'a>(ctx: &'a Context<'_>) -> &'a RightsService {
    ctx.data_unchecked::<RightsService>()
}

pub use heard_api::subgraph::register;

heard_api::subgraph_roots!(RightsQuery, RightsMutation, RightsSubscription);

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(name = "ComplainantKind", remote = "crate::domain::complaint::Complainant")]
pub enum ComplainantKind {
    /// The complainant gave their name; only complaints handlers see it.
    Named,
    Anonymous,
    /// Relayed by an advocate: the provider never learns who complained.
    RelayedByAdvocate,
}

/// How the complaint reached Heard.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "ComplaintRoute", remote = "crate::domain::complaint::Route")]
pub enum RouteName {
    Hub,
    Advocate,
    Direct,
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(name = "ComplaintOutcome", remote = "crate::domain::complaint::Outcome")]
pub enum OutcomeName {
    Upheld,
    PartlyUpheld,
    NotUpheld,
    ResolvedEarly,
    Withdrawn,
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "EscalationTarget", remote = "crate::domain::complaint::EscalatedTo")]
pub enum EscalatedToName {
    /// The provider's own complaints process.
    ProviderProcess,
    Ombudsman,
}

/// How the person who complained was told it had been received.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "AcknowledgementMethod", remote = "crate::domain::complaint::AcknowledgementMethod")]
pub enum AcknowledgementMethodName {
    Phone,
    Letter,
    Email,
    InPerson,
    TextMessage,
}

/// received → acknowledged → early resolution or investigation → response issued → closed.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(name = "ComplaintStage", remote = "crate::domain::complaint::Stage")]
pub enum StageName {
    Received,
    Acknowledged,
    EarlyResolution,
    Investigation,
    ResponseIssued,
    Closed,
}

/// Which deadline the clock is counting towards.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "ClockStage", remote = "heard_workdays::clock::Stage")]
pub enum ClockStageName {
    Acknowledgement,
    Response,
    Done,
    Paused,
}

/// What a provider responder reads of a complaint's words (`whatHappened`, `outcomeWanted`).
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "ProviderWords", remote = "crate::model::ProviderWords")]
pub enum ProviderWordsName {
    /// No complaints handler has reviewed the words for the provider yet: a provider responder
    /// reads none of them (`wordsWithheld` says so).
    AwaitingReview,
    /// A complaints handler wrote the words for the provider (`redactComplaintForProvider`): a
    /// provider responder reads those alone as `whatHappened`, and `outcomeWanted` as `null`.
    Redacted,
    /// A complaints handler found nothing to take out (`releaseComplaintWordsToProvider`): a
    /// provider responder reads the words as written.
    AsWritten,
}

/// What complaint patterns can be grouped by.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "ComplaintDimension", remote = "crate::service::PatternDimension")]
pub enum DimensionName {
    Article,
    Provider,
    Outcome,
    Period,
}

/// A charter of rights, in its latest version.
pub struct CharterView(CharterPublished);

#[Object(name = "Charter")]
impl CharterView {
    async fn id(&self) -> ID {
        ID(self.0.charter.clone())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn version(&self) -> u32 {
        self.0.version
    }
    async fn articles(&self) -> Vec<ArticleView> {
        self.0.articles.iter().cloned().map(ArticleView).collect()
    }
}

/// One article of a charter.
pub struct ArticleView(Article);

#[Object(name = "Article")]
impl ArticleView {
    async fn number(&self) -> u32 {
        self.0.number
    }
    /// A short label in plain words.
    async fn label(&self) -> &str {
        &self.0.label
    }
}

/// Where a complaint's clock stands today, in working days (weekends, England and Wales bank
/// holidays and configured closure days do not count).
#[derive(SimpleObject)]
pub struct ComplaintClock {
    pub stage: ClockStageName,
    /// 3 working days after receipt.
    pub acknowledge_by: String,
    pub acknowledged_on: Option<String>,
    /// 20 working days after receipt, or the agreed period, plus extensions and pauses.
    /// `null` while the clock is paused.
    pub respond_by: Option<String>,
    pub responded_on: Option<String>,
    /// Until the current deadline; negative when overdue; `null` when no clock runs.
    pub working_days_left: Option<i64>,
    pub overdue: bool,
    /// Overdue, or due within 2 working days.
    pub urgent: bool,
    pub paused: bool,
    /// The response period in working days, extensions included.
    pub response_period: u32,
    /// Open six months or more: the record must say why.
    pub needs_explanation: bool,
}

/// More working days on top of the response period, because the response needs longer.
#[derive(SimpleObject)]
pub struct ClockExtension {
    pub working_days: u32,
    pub reason: String,
    /// Whether the person who complained agreed to wait longer: `null` for an extension
    /// recorded before Heard asked, and for a provider.
    pub person_agreed: Option<bool>,
}

#[derive(SimpleObject)]
pub struct ClockPause {
    pub from: String,
    /// `null` while still paused.
    pub until: Option<String>,
    pub reason: String,
}

#[derive(SimpleObject)]
pub struct Escalation {
    pub to: EscalatedToName,
    pub reference: String,
}

/// A complaint, as the asker may see it.
pub struct ComplaintView {
    record: ComplaintRecord,
    /// Whether the asker may see who complained.
    full: bool,
    /// The complainant's words, opened when the first field that shows them is resolved and
    /// kept only as long as this answer.
    words: std::sync::OnceLock<Option<ComplaintPersonal>>,
}

impl ComplaintView {
    fn new(record: ComplaintRecord, full: bool) -> Self {
        ComplaintView { record, full, words: std::sync::OnceLock::new() }
    }

    fn complaint(&self) -> &Complaint {
        &self.record.complaint
    }

    /// The complainant's words (`None` once they were erased). A provider reads them only once a
    /// handler found nothing to take out: never before a handler reviewed them, and never once a
    /// handler wrote the words for them (see [`ComplaintView::said`]).
    fn words(&self, ctx: &Context<'_>) -> Option<&ComplaintPersonal> {
        if !self.full && self.record.provider_words != ProviderWords::AsWritten {
            return None;
        }
        self.words.get_or_init(|| service(ctx).words(&self.record)).as_ref()
    }

    /// What happened, as this asker may read it: the complainant's words, or for a provider,
    /// once a handler wrote the words for them, those alone.
    fn said(&self, ctx: &Context<'_>) -> Option<String> {
        if !self.full && self.record.provider_words == ProviderWords::Redacted {
            return service(ctx).redacted_words(&self.record);
        }
        self.words(ctx).map(|p| p.what_happened.clone())
    }
}

#[Object(name = "Complaint")]
impl ComplaintView {
    async fn id(&self) -> ID {
        ID(self.complaint().id.to_string())
    }
    /// The short reference people can quote on the phone, e.g. `EX-2026-0042`.
    async fn reference(&self) -> &str {
        &self.record.reference
    }
    /// The charter whose articles it cites, e.g. `exact`.
    async fn charter(&self) -> ID {
        ID(self.complaint().charter.clone())
    }
    async fn provider(&self) -> ID {
        ID(self.complaint().provider.clone())
    }
    async fn provider_name(&self, ctx: &Context<'_>) -> Option<String> {
        service(ctx).read(|state| state.reference.providers.get(&self.complaint().provider).cloned())
    }
    /// The provider, as the identity service knows it.
    async fn provider_details(&self) -> Option<heard_api::entity::Reference<heard_api::entity::ProviderKey>> {
        Some(heard_api::entity::Reference::<heard_api::entity::ProviderKey>::to(self.complaint().provider.clone()))
    }
    /// The service complained about, in the complainant's words.
    async fn service(&self) -> Option<&str> {
        self.complaint().service.as_deref()
    }
    /// The articles breached.
    async fn articles(&self, ctx: &Context<'_>) -> Vec<ArticleView> {
        let complaint = self.complaint();
        service(ctx).read(|state| {
            complaint
                .articles
                .iter()
                .map(|number| {
                    let label = state.article_label(&complaint.charter, *number).unwrap_or_default();
                    ArticleView(Article { number: *number, label })
                })
                .collect()
        })
    }
    /// Who made it (named, anonymous, relayed by an advocate…): complaints handlers and the
    /// relaying advocate only. A provider sees `null`: even the kind can point at a person.
    async fn complainant_kind(&self) -> Option<ComplainantKind> {
        self.full.then(|| self.complaint().complainant.into())
    }
    /// The complainant's name: complaints handlers only, never the provider.
    async fn complainant_name(&self, ctx: &Context<'_>) -> Option<&str> {
        if self.full { self.words(ctx)?.name.as_deref() } else { None }
    }
    async fn complainant_contact(&self, ctx: &Context<'_>) -> Option<&str> {
        if self.full { self.words(ctx)?.contact.as_deref() } else { None }
    }
    /// The advocate who relayed it (never shown to the provider).
    async fn relayed_by_advocate_id(&self) -> Option<ID> {
        if self.full { self.complaint().advocate.map(|id| ID(id.to_string())) } else { None }
    }
    /// The complaints handler working it: the one it was last assigned to, or else the one who
    /// acknowledged it; `null` while nobody works it, and for a provider. Names are in the
    /// directory of complaints handlers (`complaintHandlers`).
    async fn handler_id(&self) -> Option<ID> {
        if self.full { self.complaint().handler.map(|id| ID(id.to_string())) } else { None }
    }
    /// How the person was told it had been received: `null` until it is acknowledged, for an
    /// acknowledgement recorded before Heard asked how, and for a provider.
    async fn acknowledged_how(&self) -> Option<AcknowledgementMethodName> {
        if self.full { self.complaint().acknowledged_by.map(Into::into) } else { None }
    }
    /// How it came in (directly, through a hub, an advocate…); `null` for a provider.
    async fn route(&self) -> Option<RouteName> {
        self.full.then(|| self.complaint().route.into())
    }
    /// What happened, in the complainant's words; `null` once their data was erased. A provider
    /// reads nothing here until a complaints handler has reviewed the words for them
    /// (`wordsWithheld` says why); then the words the handler wrote for them
    /// (`redactComplaintForProvider`), and never the complainant's own after that, or the words
    /// as written when the handler found nothing to take out (`releaseComplaintWordsToProvider`).
    async fn what_happened(&self, ctx: &Context<'_>) -> Option<String> {
        self.said(ctx)
    }
    /// The outcome the complainant wants, in their words; `null` once erased. A provider reads it
    /// only once a handler found nothing to take out: `null` before a handler reviewed the words,
    /// and once a handler wrote the complaint's words for them (the handler's words say it all).
    async fn outcome_wanted(&self, ctx: &Context<'_>) -> Option<&str> {
        self.words(ctx).map(|p| p.outcome_wanted.as_str())
    }
    /// What a provider responder reads of the complaint's words: nothing while they await a
    /// complaints handler's review, then the words written for them or the words as written.
    async fn provider_words(&self) -> ProviderWordsName {
        self.record.provider_words.into()
    }
    /// Why `whatHappened` and `outcomeWanted` read `null` for you, as a sentence a page can show
    /// in their place: "Awaiting the complaints team's review of the words." for a provider
    /// responder until a complaints handler has reviewed them, "Erased at the person's request."
    /// once erased; `null` while you can read them.
    async fn words_withheld(&self, ctx: &Context<'_>) -> Option<&'static str> {
        if self.record.erased || self.record.is_erased(service(ctx).store()) {
            Some(ERASED_WORDS)
        } else if !self.full && self.record.provider_words == ProviderWords::AwaitingReview {
            Some(AWAITING_REVIEW)
        } else {
            None
        }
    }
    /// The complaint's words as a handler wrote them for the provider; complaints handlers and
    /// the relaying advocate see them here (a provider reads them as `whatHappened`). `null`
    /// until a handler writes them, and once erased.
    async fn redacted_for_provider(&self, ctx: &Context<'_>) -> Option<String> {
        if self.full { service(ctx).redacted_words(&self.record) } else { None }
    }
    /// The person (data subject) the complainant was said to be (`attributeComplaint`): only
    /// for those who may see who complained, never a provider.
    async fn person(&self) -> Option<ID> {
        if self.full { self.record.person.map(|person| ID(person.to_string())) } else { None }
    }
    /// The complainant's data was erased: the complaint stays with its facts (provider,
    /// articles, dates, the stage it reached, outcome, learning) and its words read `null`.
    async fn erased(&self, ctx: &Context<'_>) -> bool {
        self.record.erased || self.record.is_erased(service(ctx).store())
    }
    async fn received_on(&self) -> String {
        self.complaint().clock.received.to_string()
    }
    async fn stage(&self) -> StageName {
        self.complaint().stage.into()
    }
    async fn early_resolution(&self) -> bool {
        self.complaint().early_resolution
    }
    async fn outcome(&self) -> Option<OutcomeName> {
        self.complaint().outcome.map(Into::into)
    }
    async fn closed_on(&self) -> Option<String> {
        self.record.closed_on.map(|d| d.to_string())
    }
    /// The working-day clock as it stands today.
    async fn clock(&self, ctx: &Context<'_>) -> Result<ComplaintClock> {
        let rights = service(ctx);
        let reading = rights.reading(&self.record, today())?;
        let clock = &self.complaint().clock;
        Ok(ComplaintClock {
            stage: reading.stage.into(),
            acknowledge_by: reading.acknowledge_by.to_string(),
            acknowledged_on: clock.acknowledged.map(|d| d.to_string()),
            respond_by: reading.respond_by.map(|d| d.to_string()),
            responded_on: clock.responded.map(|d| d.to_string()),
            working_days_left: reading.working_days_left,
            overdue: reading.overdue,
            urgent: reading.urgent,
            paused: clock.is_paused(),
            response_period: clock.response_period(),
            needs_explanation: reading.needs_explanation,
        })
    }
    /// A response period the person agreed to, replacing the usual 20 working days (counted
    /// from the day it was received; extensions add to it).
    async fn agreed_working_days(&self) -> Option<u32> {
        self.complaint().clock.agreed_working_days
    }
    /// Working days added on top of the response period, each with why and whether the person
    /// agreed.
    async fn extensions(&self) -> Vec<ClockExtension> {
        let extensions = &self.complaint().clock.extensions;
        extensions
            .iter()
            .map(|e| ClockExtension {
                working_days: e.working_days,
                reason: e.reason.clone(),
                person_agreed: if self.full { e.person_agreed } else { None },
            })
            .collect()
    }
    async fn pauses(&self) -> Vec<ClockPause> {
        let pauses = &self.complaint().clock.pauses;
        pauses
            .iter()
            .map(|p| ClockPause {
                from: p.from.to_string(),
                until: p.until.map(|d| d.to_string()),
                reason: p.reason.clone(),
            })
            .collect()
    }
    async fn escalations(&self) -> Vec<Escalation> {
        let escalations = &self.complaint().escalations;
        escalations
            .iter()
            .map(|(to, reference)| Escalation { to: (*to).into(), reference: reference.clone() })
            .collect()
    }
    /// Why it is taking so long (required once open for six months).
    async fn delay_explanations(&self) -> &[String] {
        &self.complaint().delay_explanations
    }
    /// What should change, in non-identifying words.
    async fn learning(&self) -> &[String] {
        &self.complaint().learning
    }
}

/// A complaint that needs attention: overdue, due within 2 working days, or open six months
/// without an explanation.
pub struct AlertView {
    attention: Attention,
    /// The log position the model had applied (at least) when this was worked out.
    position: u64,
}

#[Object(name = "ComplaintAlert")]
impl AlertView {
    /// The global log position this was worked out at (it holds as at that position or a later
    /// one, on today's date), as a cursor: `complaintAlerts(after:)` resumes from it.
    async fn position(&self) -> String {
        self.position.to_string()
    }
    async fn complaint(&self, ctx: &Context<'_>) -> ComplaintView {
        view(ctx, self.attention.record.clone())
    }
    /// Why it needs attention, in plain words.
    async fn reason(&self) -> String {
        alert_reason(&self.attention)
    }
    async fn overdue(&self) -> bool {
        self.attention.reading.overdue
    }
    async fn working_days_left(&self) -> Option<i64> {
        self.attention.reading.working_days_left
    }
    /// Open six months or more with no explanation recorded.
    async fn explanation_missing(&self) -> bool {
        self.attention.explanation_missing
    }
}

fn alert_reason(attention: &Attention) -> String {
    let reading = &attention.reading;
    let what = match reading.stage {
        heard_workdays::clock::Stage::Acknowledgement => "Acknowledgement",
        _ => "Response",
    };
    let days = |n: i64| if n == 1 { "1 working day".to_owned() } else { format!("{n} working days") };
    match reading.working_days_left {
        Some(left) if left < 0 => format!("{what} overdue by {}", days(-left)),
        Some(0) => format!("{what} due today"),
        Some(left) if reading.urgent => format!("{what} due in {}", days(left)),
        _ if attention.explanation_missing => "Open for six months: record why it is taking so long".to_owned(),
        _ => format!("{what} due soon"),
    }
}

/// Reads an existing complaint for `action`, asking the policy; a complaint the asker may not
/// see is `NOT_FOUND`, exactly like one that does not exist.
async fn complaint_for(ctx: &Context<'_>, id: &ID, action: Action) -> Result<ComplaintRecord> {
    complaint_named(ctx, "id", id, action).await
}

/// [`complaint_for`], with the argument named `field`.
async fn complaint_named(ctx: &Context<'_>, field: &str, id: &ID, action: Action) -> Result<ComplaintRecord> {
    let id = uuid_arg(field, id)?;
    // Log in first, so that nobody outside can tell an existing complaint from a missing one.
    account(ctx)?;
    let record = service(ctx).complaint(id).ok_or(ApiError::NotFound)?;
    authorize(ctx, action, &record.resource()).await?;
    Ok(record)
}

fn view(ctx: &Context<'_>, record: ComplaintRecord) -> ComplaintView {
    let full = allowed(ctx, Action::ViewComplainant, &record.resource());
    ComplaintView::new(record, full)
}

#[derive(Default)]
pub struct RightsQuery;

#[Object]
impl RightsQuery {
    /// A charter of rights complaints cite (the EXACT Bill of Rights unless another is named).
    async fn rights(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "ID::from(DEFAULT_CHARTER)")] charter: ID,
    ) -> Result<CharterView> {
        let found = service(ctx).read(|state| state.charters.get(charter.as_str()).cloned());
        Ok(CharterView(found.ok_or(ApiError::NotFound)?))
    }

    /// Every charter loaded.
    async fn charters(&self, ctx: &Context<'_>) -> Vec<CharterView> {
        service(ctx).read(|state| state.charters.values().cloned().map(CharterView).collect())
    }

    /// One complaint. Reading it is recorded on the access log.
    async fn complaint(&self, ctx: &Context<'_>, id: ID) -> Result<ComplaintView> {
        let record = complaint_for(ctx, &id, Action::ViewComplaint).await?;
        record_read(ctx, Action::ViewComplaint, &record.resource()).await?;
        Ok(view(ctx, record))
    }

    /// The complaints the asker may see, newest first: all of them for complaints handlers,
    /// those about their provider for a provider responder, those they relayed for an
    /// advocate. `reference` finds one by its short reference (`EX-2026-0042`; case and spaces
    /// ignored). `mine` keeps those assigned to the asker, and only complaints handlers may ask
    /// it. Every complaint on the page is recorded on the access log.
    #[allow(clippy::too_many_arguments)]
    async fn complaints(
        &self,
        ctx: &Context<'_>,
        reference: Option<String>,
        #[graphql(default)] mine: bool,
        stage: Option<StageName>,
        provider: Option<ID>,
        open: Option<bool>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, ComplaintView>> {
        let asker = account(ctx)?;
        if mine {
            // Only those who work complaints have any; nobody else learns anything from asking.
            authorize(ctx, Action::HandleComplaint, &Resource::System).await?;
        }
        let stage = stage.map(crate::domain::complaint::Stage::from);
        let actor = viewer(ctx).actor.clone();
        let found = |state: &crate::model::State, record: &ComplaintRecord| {
            reference.as_deref().is_none_or(|wanted| {
                state.by_reference(wanted).is_some_and(|named| named.complaint.id == record.complaint.id)
            })
        };
        let records: Vec<ComplaintRecord> = service(ctx).read(|state| {
            state
                .newest_first()
                .filter(|r| found(state, r))
                .filter(|r| !mine || r.complaint.handler == Some(asker))
                .filter(|r| stage.is_none_or(|stage| r.complaint.stage == stage))
                .filter(|r| provider.as_ref().is_none_or(|p| r.complaint.provider == p.as_str()))
                .filter(|r| open.is_none_or(|open| r.complaint.is_open() == open))
                .filter(|r| heard_access::may(&actor, Action::ViewComplaint, &r.resource()).is_allowed())
                .cloned()
                .collect()
        });
        let views: Vec<ComplaintView> = records.into_iter().map(|record| view(ctx, record)).collect();
        let page = paginate(views, after, before, first, last)?;
        let resources: Vec<Resource> = page.edges.iter().map(|edge| edge.node.record.resource()).collect();
        record_reads(ctx, Action::ViewComplaint, &resources).await?;
        Ok(page)
    }

    /// Open complaints past a due date, due within 2 working days, or open six months without
    /// an explanation, most urgent first. `mine` keeps those the asker handles, plus those
    /// nobody works yet.
    async fn overdue_complaints(&self, ctx: &Context<'_>, #[graphql(default)] mine: bool) -> Result<Vec<AlertView>> {
        authorize(ctx, Action::HandleComplaint, &Resource::System).await?;
        let handler = if mine { Some(account(ctx)?) } else { None };
        // Read before the model: what it then holds is at least as far on.
        let position = *service(ctx).watch_applied().borrow();
        let found = service(ctx).attention(today(), handler)?;
        let resources: Vec<Resource> = found.iter().map(|a| a.record.resource()).collect();
        record_reads(ctx, Action::ViewComplaint, &resources).await?;
        Ok(found.into_iter().map(|attention| AlertView { attention, position }).collect())
    }

    /// Complaint counts by article, provider, outcome and period, for commissioners. Counts
    /// from 1 to 4 are suppressed so that nobody can be recognised, and so is any count that
    /// would let one be worked out from this roll-up and another.
    async fn complaint_patterns(
        &self,
        ctx: &Context<'_>,
        by: Vec<DimensionName>,
        #[graphql(default)] period: ReportPeriod,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<Vec<RollupRow>> {
        authorize(ctx, Action::ViewComplaintPatterns, &Resource::System).await?;
        let dimensions: Vec<PatternDimension> = by.iter().map(|d| (*d).into()).collect();
        if dimensions.is_empty() {
            return Err(ApiError::bad_input("by", "choose at least one thing to group by").into());
        }
        let mut seen = std::collections::BTreeSet::new();
        if !dimensions.iter().all(|d| seen.insert(*d)) {
            return Err(ApiError::bad_input("by", "choose each thing to group by once").into());
        }
        let (from, to) = period_args(
            ("from", from.as_deref()),
            ("to", to.as_deref()),
            "the end of the period cannot be before its start",
        )?;
        let rights = service(ctx);
        let names: Vec<&str> = by.iter().map(|d| dimension_name(*d)).collect();
        let asked: Vec<usize> =
            dimensions.iter().filter_map(|d| PatternDimension::ALL.iter().position(|all| all == d)).collect();
        let period = period.into();
        Ok(rights.read(|state| {
            let count = |subset: &[usize]| {
                let by: Vec<PatternDimension> = subset.iter().map(|index| PatternDimension::ALL[*index]).collect();
                patterns(state, &by, period, from, to)
            };
            rows(PatternDimension::ALL.len(), &asked, &names, count, |index, value| match dimensions.get(index) {
                Some(PatternDimension::Article) => {
                    let number: u32 = value.parse().unwrap_or_default();
                    let label = state.article_label(DEFAULT_CHARTER, number).unwrap_or_default();
                    format!("Article {number}: {label}")
                }
                Some(PatternDimension::Provider) => {
                    state.reference.providers.get(value).cloned().unwrap_or(value.to_owned())
                }
                Some(PatternDimension::Outcome) => outcome_label(value).to_owned(),
                _ => value.to_owned(),
            })
        }))
    }
}

fn dimension_name(dimension: DimensionName) -> &'static str {
    match dimension {
        DimensionName::Article => "ARTICLE",
        DimensionName::Provider => "PROVIDER",
        DimensionName::Outcome => "OUTCOME",
        DimensionName::Period => "PERIOD",
    }
}

fn outcome_label(value: &str) -> &'static str {
    match value {
        "upheld" => "Upheld",
        "partly_upheld" => "Partly upheld",
        "not_upheld" => "Not upheld",
        "resolved_early" => "Resolved early",
        "withdrawn" => "Withdrawn",
        _ => "Still open",
    }
}

/// A new complaint.
#[derive(InputObject)]
pub struct RaiseComplaintInput {
    /// The charter whose articles it cites.
    #[graphql(default_with = "ID::from(DEFAULT_CHARTER)")]
    pub charter: ID,
    /// The provider complained about (see the `providers` query).
    pub provider: ID,
    /// The service, in the complainant's words (e.g. "the Crawley needle exchange").
    pub service: Option<String>,
    /// The articles breached (at least one).
    pub articles: Vec<u32>,
    pub complainant_kind: ComplainantKind,
    /// Required for a named complaint; never shown to the provider.
    pub complainant_name: Option<String>,
    pub complainant_contact: Option<String>,
    pub route: RouteName,
    /// For a relayed complaint recorded by someone else: the advocate who relayed it.
    /// An advocate recording a relayed complaint is taken to be that advocate.
    pub advocate_id: Option<ID>,
    pub what_happened: String,
    pub outcome_wanted: String,
    /// The day it was received (default: today).
    pub received_on: Option<String>,
    /// Your own id for this request (1 to 64 of `A-Z a-z 0-9 _ -`, new for each thing you
    /// create): sent again, with the same details, it answers what the first one created and
    /// adds nothing; with other details it is refused on `input.clientMutationId`.
    pub client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub struct ArticleInput {
    pub number: u32,
    pub label: String,
}

/// A charter, or a new version of one.
#[derive(InputObject)]
pub struct PublishCharterInput {
    /// A short id of lower-case letters and dashes, e.g. `scotland-2024`.
    pub charter: String,
    pub name: String,
    pub version: u32,
    pub articles: Vec<ArticleInput>,
}

#[derive(Default)]
pub struct RightsMutation;

/// Runs one handler command on a complaint the asker may handle.
async fn handle(
    ctx: &Context<'_>,
    id: &ID,
    decide: impl FnOnce(&Complaint) -> Result<Event, Rejection>,
) -> Result<ComplaintView> {
    let record = complaint_for(ctx, id, Action::HandleComplaint).await?;
    let by = account(ctx)?;
    let record = service(ctx).change(record.complaint.id, by, decide).await?;
    Ok(view(ctx, record))
}

#[Object]
impl RightsMutation {
    /// Records a complaint under a charter of rights.
    async fn raise_complaint(&self, ctx: &Context<'_>, input: RaiseComplaintInput) -> Result<ComplaintView> {
        authorize(ctx, Action::RaiseComplaint, &Resource::System).await?;
        let by = account(ctx)?;
        let once = ClientMutationId::optional(input.client_mutation_id.as_deref())?;
        let actor = viewer(ctx).actor.clone();
        let kind = crate::domain::complaint::Complainant::from(input.complainant_kind);
        let mut advocate = input.advocate_id.as_ref().map(|id| uuid_arg("advocateId", id)).transpose()?;
        if kind == crate::domain::complaint::Complainant::RelayedByAdvocate && advocate.is_none() {
            if !heard_access::may(&actor, Action::RelayComplaint, &Resource::System).is_allowed() {
                return Err(
                    ApiError::bad_input("advocateId", "a relayed complaint names the advocate who relayed it").into()
                );
            }
            advocate = Some(by);
        }
        if kind != crate::domain::complaint::Complainant::RelayedByAdvocate && advocate.is_some() {
            return Err(ApiError::bad_input("advocateId", "only a relayed complaint names an advocate").into());
        }
        let new = NewComplaint {
            charter: input.charter.0,
            provider: input.provider.0,
            service: input.service,
            articles: input.articles,
            complainant: kind,
            name: input.complainant_name,
            contact: input.complainant_contact,
            route: input.route.into(),
            advocate,
            what_happened: input.what_happened,
            outcome_wanted: input.outcome_wanted,
            received_on: date_arg_or_today("receivedOn", input.received_on.as_deref())?,
        };
        let id = idempotent::record_id(by, "raiseComplaint", once.as_ref());
        let record = service(ctx).raise_as(id, by, new, today()).await?;
        Ok(view(ctx, record))
    }

    /// Acknowledges a complaint (due within 3 working days of receipt): how the person was told,
    /// and the day (default today; not before it was received, not in the future). Unless it
    /// was assigned to someone already, the person who acknowledges it becomes its handler.
    async fn acknowledge_complaint(
        &self,
        ctx: &Context<'_>,
        id: ID,
        how: AcknowledgementMethodName,
        on: Option<String>,
    ) -> Result<ComplaintView> {
        let on = date_arg_or_today("on", on.as_deref())?;
        handle(ctx, &id, |c| complaint::acknowledge(c, how.into(), on, today())).await
    }

    /// Assigns a complaint to a complaints handler (see `complaintHandlers`), or re-assigns it
    /// to another; they work it from now on. Anyone else is refused, naming `handlerId`.
    async fn assign_complaint(&self, ctx: &Context<'_>, id: ID, handler_id: ID) -> Result<ComplaintView> {
        let record = complaint_for(ctx, &id, Action::HandleComplaint).await?;
        let to = uuid_arg("handlerId", &handler_id)?;
        let by = account(ctx)?;
        let record = service(ctx).assign(record.complaint.id, by, to).await?;
        Ok(view(ctx, record))
    }

    /// Records a response period the person agreed to, replacing the usual 20 working days
    /// (counted from the day it was received; agreeing again replaces it, and extensions add
    /// to it). Open until the response is issued.
    async fn agree_complaint_period(&self, ctx: &Context<'_>, id: ID, working_days: u32) -> Result<ComplaintView> {
        handle(ctx, &id, |c| complaint::agree_period(c, working_days)).await
    }

    /// Handles the complaint by early resolution.
    async fn choose_early_resolution(&self, ctx: &Context<'_>, id: ID) -> Result<ComplaintView> {
        handle(ctx, &id, complaint::choose_early_resolution).await
    }

    /// Opens an investigation (also after an early resolution that did not work).
    async fn open_investigation(&self, ctx: &Context<'_>, id: ID) -> Result<ComplaintView> {
        handle(ctx, &id, complaint::open_investigation).await
    }

    /// Adds working days on top of the response period because the response needs longer,
    /// with why and whether the person agreed to wait (the deadline moves either way). Open
    /// once acknowledged, until the response is issued.
    async fn extend_complaint(
        &self,
        ctx: &Context<'_>,
        id: ID,
        working_days: u32,
        reason: String,
        person_agreed: bool,
    ) -> Result<ComplaintView> {
        handle(ctx, &id, |c| complaint::extend(c, working_days, &reason, person_agreed)).await
    }

    /// Stops the response clock (e.g. waiting to hear from the complainant), with a reason.
    async fn pause_complaint(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
        on: Option<String>,
    ) -> Result<ComplaintView> {
        let on = date_arg_or_today("on", on.as_deref())?;
        handle(ctx, &id, |c| complaint::pause(c, on, &reason, today())).await
    }

    /// Starts the response clock again.
    async fn resume_complaint(&self, ctx: &Context<'_>, id: ID, on: Option<String>) -> Result<ComplaintView> {
        let on = date_arg_or_today("on", on.as_deref())?;
        handle(ctx, &id, |c| complaint::resume(c, on, today())).await
    }

    /// Records that the response was issued.
    async fn respond_to_complaint(&self, ctx: &Context<'_>, id: ID, on: Option<String>) -> Result<ComplaintView> {
        let on = date_arg_or_today("on", on.as_deref())?;
        handle(ctx, &id, |c| complaint::respond(c, on, today())).await
    }

    /// Records the outcome, closing the complaint.
    async fn record_complaint_outcome(
        &self,
        ctx: &Context<'_>,
        id: ID,
        outcome: OutcomeName,
        on: Option<String>,
    ) -> Result<ComplaintView> {
        let on = date_arg_or_today("on", on.as_deref())?;
        handle(ctx, &id, |c| complaint::record_outcome(c, outcome.into(), on, today())).await
    }

    /// Records that the complaint went on to the provider's own process or the ombudsman.
    async fn escalate_complaint(
        &self,
        ctx: &Context<'_>,
        id: ID,
        to: EscalatedToName,
        reference: String,
    ) -> Result<ComplaintView> {
        handle(ctx, &id, |c| complaint::escalate(c, to.into(), &reference)).await
    }

    /// Records why a complaint is taking so long (required once it is open six months).
    async fn explain_complaint_delay(&self, ctx: &Context<'_>, id: ID, reason: String) -> Result<ComplaintView> {
        handle(ctx, &id, |c| complaint::explain_delay(c, &reason)).await
    }

    /// Records what should change, in a short statement that identifies nobody.
    async fn record_learning(&self, ctx: &Context<'_>, id: ID, statement: String) -> Result<ComplaintView> {
        handle(ctx, &id, |c| complaint::record_learning(c, &statement)).await
    }

    /// Says the complainant is a person (a data subject) Heard already knows, or a new person
    /// when `person` is left out, so that their records across Heard can be found and erased
    /// together. Complaints handlers only. Who sees the complaint does not change.
    async fn attribute_complaint(
        &self,
        ctx: &Context<'_>,
        complaint_id: ID,
        person: Option<ID>,
    ) -> Result<ComplaintView> {
        let record = complaint_named(ctx, "complaintId", &complaint_id, Action::HandleComplaint).await?;
        let by = account(ctx)?;
        let person = person.as_ref().map(|person| uuid_arg("person", person).map(PersonId)).transpose()?;
        let record = service(ctx).attribute(record.complaint.id, by, person).await?;
        Ok(view(ctx, record))
    }

    /// Writes the complaint's words as the provider may read them (leaving out whatever could
    /// identify the person), as coordinators redact feedback before it leaves the hub. Until a
    /// handler does this (or says there is nothing to take out:
    /// `releaseComplaintWordsToProvider`), a provider responder reads none of the words; from
    /// then on only these, in place of the complainant's own; writing them again replaces them.
    /// Complaints handlers only.
    async fn redact_complaint_for_provider(
        &self,
        ctx: &Context<'_>,
        complaint_id: ID,
        text: String,
    ) -> Result<ComplaintView> {
        let record = complaint_named(ctx, "complaintId", &complaint_id, Action::HandleComplaint).await?;
        let by = account(ctx)?;
        let record = service(ctx).redact_for_provider(record.complaint.id, by, &text).await?;
        Ok(view(ctx, record))
    }

    /// Says the complaint's words hold nothing to take out before the provider reads them (no
    /// names, places or details that could tell the service who complained): from then on a
    /// provider responder reads them as written (`whatHappened`, `outcomeWanted`). Until a
    /// handler says this or writes the words for the provider (`redactComplaintForProvider`), a
    /// provider reads none of them. Saying it again changes nothing; once words were written for
    /// the provider it is refused (`CONFLICT`): the provider never reads the complainant's own
    /// words after that. Complaints handlers only.
    async fn release_complaint_words_to_provider(&self, ctx: &Context<'_>, complaint_id: ID) -> Result<ComplaintView> {
        let record = complaint_named(ctx, "complaintId", &complaint_id, Action::HandleComplaint).await?;
        let by = account(ctx)?;
        let record = service(ctx).release_to_provider(record.complaint.id, by).await?;
        Ok(view(ctx, record))
    }

    /// Loads another network's charter, or a new version of one (administrators).
    async fn publish_charter(&self, ctx: &Context<'_>, input: PublishCharterInput) -> Result<CharterView> {
        authorize(ctx, Action::EditReferenceData, &Resource::ReferenceData).await?;
        let by = account(ctx)?;
        let charter = CharterPublished {
            charter: input.charter.trim().to_owned(),
            name: input.name.trim().to_owned(),
            version: input.version,
            articles: input.articles.into_iter().map(|a| Article { number: a.number, label: a.label }).collect(),
        };
        if charter.name.is_empty() || charter.name.chars().count() > 200 {
            return Err(ApiError::bad_input("name", "give the charter a name of 1–200 characters").into());
        }
        Ok(CharterView(service(ctx).publish_charter(by, charter).await?))
    }
}

#[derive(Default)]
pub struct RightsSubscription;

/// What one subscriber to `complaintAlerts` has been told so far.
struct Alerts {
    rights: RightsService,
    handler: Option<Uuid>,
    applied: tokio::sync::watch::Receiver<u64>,
    /// Complaint → the reason last sent, so each change is told once.
    told: HashMap<Uuid, String>,
    /// Alerts to send, each with the position it was worked out at.
    pending: VecDeque<(Attention, u64)>,
    started: bool,
    /// Resuming: nothing is worked out before the model has applied this position.
    after: Option<u64>,
}

#[Subscription]
impl RightsSubscription {
    /// The complaints handler's notifications: every complaint that needs attention now, then
    /// each one that starts to need attention (or whose reason changes) as the log moves on
    /// and the days pass. Each alert's `position` is the log position it was worked out at.
    ///
    /// An alert says how a complaint stands now; it is not an event of the log. Resuming with
    /// `after` (a `position` delivered before) therefore tells again every complaint that needs
    /// attention now, worked out as at that position or later (a replica that has not applied
    /// it yet waits for it, up to 10 s), which includes every one whose attention started or
    /// changed while the subscriber was away; one it was told before may come again (keep the
    /// latest alert of each complaint). Nothing is lost, and a resumed subscriber is never told
    /// something older than what it had seen.
    async fn complaint_alerts(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] mine: bool,
        after: Option<String>,
    ) -> Result<impl Stream<Item = AlertView>> {
        authorize(ctx, Action::HandleComplaint, &Resource::System).await?;
        let handler = if mine { Some(account(ctx)?) } else { None };
        let after = match after {
            Some(after) => {
                let head = service(ctx).store().refresh_head().await.map_err(ApiError::from)?;
                heard_api::resume::after_arg("after", Some(&after), head)?
            }
            None => None,
        };
        let state = Alerts {
            rights: service(ctx).clone(),
            handler,
            applied: service(ctx).watch_applied(),
            told: HashMap::new(),
            pending: VecDeque::new(),
            started: false,
            after,
        };
        Ok(futures::stream::unfold(state, |mut alerts| async move {
            if let Some(after) = alerts.after.take() {
                let reached = alerts.applied.wait_for(|at| *at >= after);
                let _ = tokio::time::timeout(Duration::from_secs(10), reached).await;
            }
            loop {
                if let Some((attention, position)) = alerts.pending.pop_front() {
                    return Some((AlertView { attention, position }, alerts));
                }
                if alerts.started {
                    tokio::select! {
                        changed = alerts.applied.changed() => {
                            if changed.is_err() {
                                return None;
                            }
                            // Busy logs (a spreadsheet import) move on thousands of times a
                            // second: look again at most twice a second.
                            tokio::time::sleep(Duration::from_millis(500)).await;
                            alerts.applied.mark_unchanged();
                        }
                        _ = tokio::time::sleep(Duration::from_secs(60)) => {}
                    }
                }
                alerts.started = true;
                // Read before the model: what it then holds is at least as far on.
                let position = *alerts.applied.borrow();
                let Ok(found) = alerts.rights.attention(today(), alerts.handler) else { continue };
                for attention in found {
                    let reason = alert_reason(&attention);
                    if alerts.told.get(&attention.record.complaint.id) != Some(&reason) {
                        alerts.told.insert(attention.record.complaint.id, reason);
                        alerts.pending.push_back((attention, position));
                    }
                }
            }
        }))
    }
}
