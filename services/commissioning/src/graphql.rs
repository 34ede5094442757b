//! The commissioning service's part of the GraphQL schema (a federation subgraph).
//!
//! Decisions carry no personal data; their evidence is shown as far as each piece allows the
//! asker now: a linked feedback item's words appear only while its consent covers the asker,
//! and a withdrawn consent empties the link's content everywhere while the link itself stays.

use std::sync::Arc;

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use heard_access::{Action, Actor, Resource};
use heard_api::entity::{FeedbackItemKey, Reference, ThemeKey};
use heard_api::idempotent::{self, ClientMutationId};
use heard_api::{
    ApiError, account, authorize, date_arg, date_arg_or_today, optional_date_arg, paginate, period_args, today,
    uuid_arg, viewer,
};
use heard_eventstore::EventStore;
use jiff::civil::Date;
use uuid::Uuid;

use crate::domain::decision::{self, Decision, Evidence, Link, NewDecision, ladder_name, ladder_words};
use crate::model::State;
use crate::report::{ItemOutcome, Report, ReportItem, Response, Scope};
use crate::service::CommissioningService;

fn service<'a>(ctx: &'a Context<'_>) -> &'a CommissioningService {
    ctx.data_unchecked::<CommissioningService>()
}

pub use heard_api::subgraph::register;

heard_api::subgraph_roots!(CommissioningQuery, CommissioningMutation);

/// proposed → agreed → in progress → done, or not taken / withdrawn.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "DecisionStatus", remote = "crate::domain::decision::Status")]
pub enum StatusName {
    Proposed,
    Agreed,
    InProgress,
    Done,
    NotTaken,
    Withdrawn,
}

/// What a piece of evidence is.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvidenceKind {
    /// A feedback item shared with commissioners.
    FeedbackItem,
    Theme,
    /// The learning recorded on a complaint.
    ComplaintLearning,
    /// A systemic theme from advocacy (dimension `domain` or `theme`).
    AdvocacyTheme,
}

fn kind_of(evidence: &Evidence) -> EvidenceKind {
    match evidence {
        Evidence::FeedbackItem { .. } => EvidenceKind::FeedbackItem,
        Evidence::Theme { .. } => EvidenceKind::Theme,
        Evidence::ComplaintLearning { .. } => EvidenceKind::ComplaintLearning,
        Evidence::AdvocacyTheme { .. } => EvidenceKind::AdvocacyTheme,
    }
}

#[derive(SimpleObject, Clone, Debug)]
pub struct Milestone {
    pub id: ID,
    pub title: String,
    pub due: String,
    pub met_on: Option<String>,
}

#[derive(SimpleObject, Clone, Debug)]
pub struct Progress {
    pub percent: u8,
    pub note: String,
    pub on: String,
}

#[derive(SimpleObject, Clone, Debug)]
pub struct StatusChange {
    pub status: StatusName,
    pub on: String,
}

#[derive(SimpleObject, Clone, Debug)]
pub struct OutcomeReview {
    pub on: String,
    pub summary: String,
}

/// One piece of evidence linked to a decision ("you said"), with why it mattered. Links are
/// never edited: a withdrawn one stays, marked with when and why.
#[derive(SimpleObject, Clone, Debug)]
pub struct EvidenceLink {
    pub id: ID,
    pub kind: EvidenceKind,
    pub rationale: String,
    pub linked_on: String,
    pub linked_by: ID,
    pub withdrawn_on: Option<String>,
    pub withdrawn_because: Option<String>,
    /// The feedback item, theme, complaint or advocacy value it points at.
    pub target: String,
    /// What it said, as far as the asker may see it now: the item's shared words (gone once
    /// consent is withdrawn), the theme's name, the complaint's learning, the advocacy theme.
    pub content: Option<String>,
    /// The feedback item, when the evidence is one, as the feedback service shows it to you
    /// now (its shared words, hub and themes); not found when you may not see it.
    pub feedback_item: Option<Reference<FeedbackItemKey>>,
    /// The theme, when the evidence is one, from the feedback service's vocabulary.
    pub theme: Option<Reference<ThemeKey>>,
}

/// A commissioning decision, now or as it was at a point in the log.
pub struct DecisionView {
    decision: Decision,
    links: Vec<EvidenceLink>,
    /// The log position this view was built at.
    position: u64,
    chain_head: String,
}

impl DecisionView {
    /// Builds the view from `at` (the model now, or a replay), checking each item's content
    /// against `now` as well, so that content withdrawn since disappears from old views too.
    /// An item's words are opened now, with the speaker's key in `store` (gone once erased).
    fn new(decision: Decision, at: &State, now: &State, actor: &Actor, store: &EventStore) -> DecisionView {
        let links = decision.links.iter().map(|link| evidence_link(link, at, now, actor, store)).collect();
        DecisionView { decision, links, position: at.position, chain_head: at.chain_head.clone() }
    }
}

fn evidence_link(link: &Link, at: &State, now: &State, actor: &Actor, store: &EventStore) -> EvidenceLink {
    let feedback_item = match &link.evidence {
        Evidence::FeedbackItem { item } => Some(Reference::<FeedbackItemKey>::to(item.to_string())),
        _ => None,
    };
    let theme = match &link.evidence {
        Evidence::Theme { theme } => Some(Reference::<ThemeKey>::to(theme.clone())),
        _ => None,
    };
    let (target, content) = match &link.evidence {
        Evidence::FeedbackItem { item } => {
            let then = at.items.get(item).and_then(|found| found.text_for(actor, store));
            // The model now is often the state the view is built from: its words were just opened.
            let allowed_now = || {
                std::ptr::eq(at, now) || now.items.get(item).and_then(|found| found.text_for(actor, store)).is_some()
            };
            (item.to_string(), then.filter(|_| allowed_now()))
        }
        Evidence::Theme { theme } => (theme.clone(), at.reference.theme_name(theme).map(str::to_owned)),
        Evidence::ComplaintLearning { complaint } => {
            (complaint.to_string(), at.learning.get(complaint).map(|learning| learning.statements.join("; ")))
        }
        Evidence::AdvocacyTheme { dimension, value } => {
            let label = if dimension == "theme" { at.reference.theme_name(value).map(str::to_owned) } else { None };
            (format!("{dimension}:{value}"), Some(label.unwrap_or_else(|| value.replace('_', " "))))
        }
    };
    EvidenceLink {
        id: ID(link.link.to_string()),
        kind: kind_of(&link.evidence),
        rationale: link.rationale.clone(),
        linked_on: link.linked_on.to_string(),
        linked_by: ID(link.by.to_string()),
        withdrawn_on: link.unlinked.as_ref().map(|(on, _)| on.to_string()),
        withdrawn_because: link.unlinked.as_ref().map(|(_, why)| why.clone()),
        target,
        content,
        feedback_item,
        theme,
    }
}

#[Object(name = "Decision")]
impl DecisionView {
    async fn id(&self) -> ID {
        ID(self.decision.id.to_string())
    }
    async fn title(&self) -> &str {
        &self.decision.title
    }
    async fn service_area(&self) -> &str {
        &self.decision.service_area
    }
    /// The body that decides, e.g. "DAAT board".
    async fn decided_by(&self) -> &str {
        &self.decision.decided_by
    }
    async fn decision_date(&self) -> String {
        self.decision.decision_date.to_string()
    }
    async fn status(&self) -> StatusName {
        self.decision.status.into()
    }
    async fn status_history(&self) -> Vec<StatusChange> {
        let history = &self.decision.status_history;
        history.iter().map(|(status, on)| StatusChange { status: (*status).into(), on: on.to_string() }).collect()
    }
    /// The rung on Arnstein's ladder at which people who use services were involved (1–8).
    async fn ladder_rung(&self) -> u8 {
        self.decision.ladder_rung
    }
    /// Its name: manipulation, therapy, informing, consultation, placation, partnership,
    /// delegated power, citizen control.
    async fn ladder_name(&self) -> Option<&'static str> {
        ladder_name(self.decision.ladder_rung)
    }
    /// How far people who use services were involved, in plain words ("People's views were
    /// asked for and heard, but the decision stayed with the commissioner."): what to show
    /// people instead of the rung's number and name.
    async fn ladder_words(&self) -> Option<&'static str> {
        ladder_words(self.decision.ladder_rung)
    }
    /// How people who use services were involved.
    async fn involvement(&self) -> &str {
        &self.decision.involvement
    }
    async fn milestones(&self) -> Vec<Milestone> {
        self.decision
            .milestones
            .iter()
            .map(|m| Milestone {
                id: ID(m.id.to_string()),
                title: m.title.clone(),
                due: m.due.to_string(),
                met_on: m.met_on.map(|d| d.to_string()),
            })
            .collect()
    }
    async fn progress(&self) -> Option<Progress> {
        let (percent, note, on) = self.decision.progress.clone()?;
        Some(Progress { percent, note, on: on.to_string() })
    }
    async fn outcome_reviews(&self) -> Vec<OutcomeReview> {
        let reviews = &self.decision.outcome_reviews;
        reviews.iter().map(|(on, summary)| OutcomeReview { on: on.to_string(), summary: summary.clone() }).collect()
    }
    /// Every link ever made, withdrawn ones included (see `withdrawnOn`).
    async fn evidence(&self, #[graphql(default)] include_withdrawn: bool) -> Vec<EvidenceLink> {
        self.links.iter().filter(|link| include_withdrawn || link.withdrawn_on.is_none()).cloned().collect()
    }
    /// The log position this view was computed at.
    async fn position(&self) -> u64 {
        self.position
    }
    /// The chain hash at `position`: `heard verify --at POSITION` confirms it later.
    async fn chain_head(&self) -> &str {
        &self.chain_head
    }
}

/// Whose input a report is about, and when it was said.
#[derive(InputObject, Default)]
pub struct ReportScopeInput {
    /// A hub id, or the Forum's (`west-sussex-forum`).
    pub hub: Option<ID>,
    pub provider: Option<ID>,
    pub theme: Option<ID>,
    /// `YYYY-MM-DD`: items said from this day … (or give the dates as `period`)
    pub from: Option<String>,
    /// … to this day.
    pub to: Option<String>,
}

/// When it was said: `YYYY-MM-DD` days, both included.
#[derive(InputObject, Default)]
pub struct ReportPeriodInput {
    pub from: Option<String>,
    pub to: Option<String>,
}

impl ReportScopeInput {
    fn scope(self, period: ReportPeriodInput) -> Result<Scope, ApiError> {
        if (period.from.is_some() || period.to.is_some()) && (self.from.is_some() || self.to.is_some()) {
            return Err(ApiError::bad_input("period", "give the dates once: in period, or in scope"));
        }
        let (from, to, field) = if period.from.is_some() || period.to.is_some() {
            (period.from, period.to, "period")
        } else {
            (self.from, self.to, "scope")
        };
        let (from, to) = period_args(
            (&format!("{field}.from"), from.as_deref()),
            (&format!("{field}.to"), to.as_deref()),
            "the end of the period cannot be before its start",
        )?;
        Ok(Scope {
            hub: self.hub.map(|id| id.0),
            provider: self.provider.map(|id| id.0),
            theme: self.theme.map(|id| id.0),
            from,
            to,
        })
    }
}

#[derive(SimpleObject)]
pub struct ThemeCountView {
    pub theme: ID,
    pub name: String,
    /// `null` when suppressed: 1 to 4 could identify someone, and a larger count is hidden
    /// where the shared total would give a small one away.
    pub count: Option<u64>,
}

#[derive(SimpleObject)]
pub struct ReportItemView {
    pub id: ID,
    pub hub: ID,
    pub themes: Vec<String>,
    pub text: String,
    pub said_on: Option<String>,
    /// What came of it.
    pub outcome: ItemOutcomeView,
}

impl From<&ReportItem> for ReportItemView {
    fn from(item: &ReportItem) -> Self {
        ReportItemView {
            id: ID(item.item.to_string()),
            hub: ID(item.hub.clone()),
            themes: item.themes.clone(),
            text: item.text.clone(),
            said_on: item.said_on.map(|d| d.to_string()),
            outcome: (&item.outcome).into(),
        }
    }
}

/// What came of one item: the report's decisions it is linked to, a reason it was not acted
/// on, and when a commissioner said they had read it.
#[derive(SimpleObject)]
pub struct ItemOutcomeView {
    /// Ids of decisions in the report's `decisions`.
    pub decision_ids: Vec<ID>,
    pub not_acted_on_reason: Option<String>,
    pub answered_on: Option<String>,
    pub acknowledged_on: Option<String>,
}

impl From<&ItemOutcome> for ItemOutcomeView {
    fn from(outcome: &ItemOutcome) -> Self {
        ItemOutcomeView {
            decision_ids: outcome.decisions.iter().map(|id| ID(id.to_string())).collect(),
            not_acted_on_reason: outcome.not_acted_on.as_ref().map(|(_, why)| why.clone()),
            answered_on: outcome.not_acted_on.as_ref().map(|(on, _)| on.to_string()),
            acknowledged_on: outcome.acknowledged_on.map(|on| on.to_string()),
        }
    }
}

/// One thing done about a theme: a decision of the report (`decisionId`), or a reason given
/// for not acting on it, with the day it was given.
#[derive(SimpleObject)]
pub struct ThemeResponseView {
    pub decision_id: Option<ID>,
    pub not_acted_on_reason: Option<String>,
    pub answered_on: Option<String>,
}

/// A theme people raised beside what was done about it ("you said" beside "we did").
#[derive(SimpleObject)]
pub struct PairingView {
    /// `null` for feedback with no theme that something was done about.
    pub theme: Option<ID>,
    pub name: String,
    /// `null` when suppressed (and for feedback with no theme, which is never counted).
    pub count: Option<u64>,
    /// Examples in people's own words where consent allows, each with what came of it.
    pub quotes: Vec<ReportItemView>,
    /// Decisions it fed into (newest first), then reasons given for not acting.
    pub responses: Vec<ThemeResponseView>,
}

#[derive(SimpleObject)]
pub struct NotActedOnView {
    pub item: ID,
    /// The item's words, where consent allows.
    pub text: Option<String>,
    pub reason: String,
    pub on: String,
}

/// A "you said, we did" report.
pub struct ReportView {
    report: Report,
    decisions: Vec<DecisionView>,
}

#[Object(name = "YouSaidWeDid")]
impl ReportView {
    /// The whole report as CSV (`section,name,value,detail`), every cell escaped so that no
    /// spreadsheet runs it as a formula. `/reports/you-said-we-did?format=csv` serves this.
    async fn csv(&self) -> String {
        self.report.to_csv()
    }

    /// The public version shows only what people agreed to make public.
    async fn public(&self) -> bool {
        self.report.public
    }
    /// The log position and chain head it was computed at: `heard verify --at POSITION`
    /// confirms later that the evidence behind it has not been rewritten.
    async fn position(&self) -> u64 {
        self.report.position
    }
    async fn chain_head(&self) -> &str {
        &self.report.chain_head
    }
    /// Items shared with commissioners in scope (`null` when 1 to 4, or when it would give a
    /// small count away by subtraction).
    async fn shared_items(&self) -> Option<u64> {
        self.report.shared_items
    }
    /// "You said": counts by theme, most first.
    async fn said(&self) -> Vec<ThemeCountView> {
        let said = &self.report.said;
        said.iter()
            .map(|c| ThemeCountView { theme: ID(c.theme.clone()), name: c.name.clone(), count: c.count })
            .collect()
    }
    /// Examples in people's own words, where their consent allows.
    async fn representative_items(&self) -> Vec<ReportItemView> {
        self.report.representative.iter().map(ReportItemView::from).collect()
    }
    /// "You said, we did" side by side: each theme, in the order of `said`, with examples in
    /// people's own words and what was done about it.
    async fn pairs(&self) -> Vec<PairingView> {
        self.report
            .pairs
            .iter()
            .map(|pair| PairingView {
                theme: pair.theme.clone().map(ID),
                name: pair.name.clone(),
                count: pair.count,
                quotes: pair.quotes.iter().map(ReportItemView::from).collect(),
                responses: pair
                    .responses
                    .iter()
                    .map(|response| match response {
                        Response::Decision(id) => ThemeResponseView {
                            decision_id: Some(ID(id.to_string())),
                            not_acted_on_reason: None,
                            answered_on: None,
                        },
                        Response::NotActedOn { reason, on } => ThemeResponseView {
                            decision_id: None,
                            not_acted_on_reason: Some(reason.clone()),
                            answered_on: Some(on.to_string()),
                        },
                    })
                    .collect(),
            })
            .collect()
    }
    /// "We did": the decisions this input fed into, and what came of them.
    async fn decisions(&self) -> &[DecisionView] {
        &self.decisions
    }
    /// Items answered "not acted on", with the reason.
    async fn not_acted_on(&self) -> Vec<NotActedOnView> {
        self.report
            .not_acted_on
            .iter()
            .map(|answer| NotActedOnView {
                item: ID(answer.item.to_string()),
                text: answer.text.clone(),
                reason: answer.reason.clone(),
                on: answer.on.to_string(),
            })
            .collect()
    }
    /// Items that reached a decision or a reasoned answer (`null` when 1 to 4, when 1 to 4 are
    /// still open, or when it would give another hub's small count away).
    async fn closed_items(&self) -> Option<u64> {
        self.report.closed_items
    }
    /// The share of shared items whose loop closed: a decision or a reasoned answer (`null`
    /// when the shared or the closed count is).
    async fn loop_closure_rate(&self) -> Option<f64> {
        self.report.loop_closure_rate
    }
    /// The median working days from sharing to a commissioner's first response (`null` when
    /// fewer than 5 items had one).
    async fn median_working_days_to_first_response(&self) -> Option<f64> {
        self.report.median_working_days
    }
}

/// The loop figures of a report alone.
#[derive(SimpleObject)]
pub struct LoopMetrics {
    pub shared_items: Option<u64>,
    pub closed_items: Option<u64>,
    pub loop_closure_rate: Option<f64>,
    pub median_working_days_to_first_response: Option<f64>,
    pub position: u64,
    pub chain_head: String,
}

fn report_view(ctx: &Context<'_>, report: Report) -> ReportView {
    let actor = viewer(ctx).actor.clone();
    let reader = if report.public { Actor::anonymous() } else { actor };
    let store = service(ctx).store();
    let decisions = service(ctx).read(|state| {
        let view = |found: &crate::report::ReportDecision| {
            DecisionView::new(found.decision.clone(), state, state, &reader, store)
        };
        report.decisions.iter().map(view).collect()
    });
    ReportView { report, decisions }
}

use crate::service::end_of_day as end_of;

/// A day a report is asked "as at": not after today (what was known by the end of a day that
/// has not ended is the report as it stands, which is asked without `asAt`).
fn as_at_day(text: Option<&str>) -> heard_api::ApiResult<Option<Date>> {
    let Some(day) = optional_date_arg("asAt", text)? else { return Ok(None) };
    if day > today() {
        return Err(ApiError::bad_input(
            "asAt",
            "is after today; a report as at a day shows what was known by its end: leave asAt out for the report as it stands",
        ));
    }
    Ok(Some(day))
}

#[derive(Default)]
pub struct CommissioningQuery;

#[Object]
impl CommissioningQuery {
    /// One decision: as it stands, or "as at" a log position, a date, or its own decision
    /// date, replayed from the log to show exactly the evidence linked then and what it said.
    async fn decision(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(desc = "A global log position, e.g. from a report")] at_position: Option<u64>,
        #[graphql(desc = "A day, YYYY-MM-DD: the decision as it stood at the end of it")] as_at: Option<String>,
        #[graphql(default, desc = "As it stood at the end of its own decision date")] as_at_decision_date: bool,
    ) -> Result<DecisionView> {
        authorize(ctx, Action::ViewDecision, &Resource::System).await?;
        let id = uuid_arg("id", &id)?;
        let commissioning = service(ctx);
        let current = commissioning.decision(id).ok_or(ApiError::NotFound)?;
        let actor = viewer(ctx).actor.clone();
        let as_at = optional_date_arg("asAt", as_at.as_deref())?;
        let day = if as_at_decision_date { Some(current.decision_date) } else { as_at };
        if at_position.is_none() && day.is_none() {
            let store = commissioning.store();
            return Ok(commissioning.read(|state| DecisionView::new(current, state, state, &actor, store)));
        }
        let head = commissioning.read(|state| state.position);
        let position = at_position.unwrap_or(head);
        if position > head {
            return Err(ApiError::bad_input("atPosition", format!("the log ends at position {head}")).into());
        }
        let until = day.and_then(end_of);
        let then = match commissioning.decision_then(id, position, until).await? {
            Some(then) => Arc::new(then),
            None => commissioning.replay(position, until).await?,
        };
        let decision = then.decisions.get(&id).cloned().ok_or(ApiError::NotFound)?;
        let store = commissioning.store();
        Ok(commissioning.read(|now| DecisionView::new(decision, &then, now, &actor, store)))
    }

    /// Decisions, newest first.
    async fn decisions(
        &self,
        ctx: &Context<'_>,
        status: Option<StatusName>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, DecisionView>> {
        authorize(ctx, Action::ViewDecision, &Resource::System).await?;
        let actor = viewer(ctx).actor.clone();
        let status = status.map(decision::Status::from);
        let store = service(ctx).store();
        let views = service(ctx).read(|state| {
            state
                .newest_first()
                .filter(|d| status.is_none_or(|status| d.status == status))
                .map(|d| DecisionView::new(d.clone(), state, state, &actor, store))
                .collect::<Vec<_>>()
        });
        Ok(paginate(views, after, before, first, last)?)
    }

    /// "You said, we did" for a hub, the Forum, a provider, a theme and/or a period. Without a
    /// login (or with `public: true`) only what people agreed to make public is shown. With
    /// `asAt`, the report as it stood at the end of that day (consent and words as they are
    /// now still decide what is shown).
    async fn you_said_we_did(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] scope: ReportScopeInput,
        #[graphql(default)] period: ReportPeriodInput,
        #[graphql(default)] public: bool,
        #[graphql(desc = "A day, YYYY-MM-DD, not after today: the report as it stood at the end of it")] as_at: Option<
            String,
        >,
    ) -> Result<ReportView> {
        authorize(ctx, Action::ViewReport, &Resource::System).await?;
        let as_at = as_at_day(as_at.as_deref())?;
        let public = public || viewer(ctx).actor.account.is_none();
        let scope = known_scope(ctx, scope.scope(period)?)?;
        let report = match as_at {
            None => service(ctx).report(&viewer(ctx).actor, &scope, public),
            Some(day) => service(ctx).report_as_at(&viewer(ctx).actor, &scope, public, day).await?,
        };
        Ok(report_view(ctx, report))
    }

    /// The loop figures alone: shared, closed, the closure rate and the median working days
    /// to a first response.
    async fn loop_metrics(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] scope: ReportScopeInput,
        #[graphql(default)] period: ReportPeriodInput,
    ) -> Result<LoopMetrics> {
        authorize(ctx, Action::ViewReport, &Resource::System).await?;
        let public = viewer(ctx).actor.account.is_none();
        let scope = known_scope(ctx, scope.scope(period)?)?;
        let report = service(ctx).report(&viewer(ctx).actor, &scope, public);
        Ok(LoopMetrics {
            shared_items: report.shared_items,
            closed_items: report.closed_items,
            loop_closure_rate: report.loop_closure_rate,
            median_working_days_to_first_response: report.median_working_days,
            position: report.position,
            chain_head: report.chain_head,
        })
    }
}

/// The scope, when every hub, provider and theme it names exists; otherwise the refusal names
/// the part that does not (`scope.hub`, …), as the CSV download and the page do, rather than
/// answering with an empty report.
fn known_scope(ctx: &Context<'_>, scope: Scope) -> Result<Scope> {
    match service(ctx).read(|state| scope.unknown(state)) {
        Some((field, message)) => Err(ApiError::bad_input(format!("scope.{field}"), message).into()),
        None => Ok(scope),
    }
}

#[derive(InputObject)]
pub struct ProposeDecisionInput {
    pub title: String,
    pub service_area: String,
    /// The body that decides, e.g. "DAAT board".
    pub decided_by: String,
    /// `YYYY-MM-DD`.
    pub decision_date: String,
    /// Arnstein's ladder, 1 (manipulation) to 8 (citizen control).
    pub ladder_rung: u8,
    /// How people who use services were involved.
    pub involvement: String,
    /// Your own id for this request (1 to 64 of `A-Z a-z 0-9 _ -`, new for each thing you
    /// create): sent again, with the same details, it answers what the first one created and
    /// adds nothing; with other details it is refused on `input.clientMutationId`.
    pub client_mutation_id: Option<String>,
}

/// What to link: give the field that matches `kind`.
#[derive(InputObject)]
pub struct LinkEvidenceInput {
    pub kind: EvidenceKind,
    pub item_id: Option<ID>,
    pub theme: Option<ID>,
    pub complaint_id: Option<ID>,
    /// For advocacy themes: `domain` or `theme`.
    pub dimension: Option<String>,
    pub value: Option<String>,
    /// Why this evidence mattered to the decision.
    pub rationale: String,
    pub on: Option<String>,
    /// Your own id for this request (1 to 64 of `A-Z a-z 0-9 _ -`, new for each thing you
    /// create): sent again, with the same details, it answers what the first one created and
    /// adds nothing; with other details it is refused on `input.clientMutationId`.
    pub client_mutation_id: Option<String>,
}

impl LinkEvidenceInput {
    fn evidence(&self) -> Result<Evidence, ApiError> {
        let missing =
            |field: &str| ApiError::bad_input(format!("input.{field}"), "give this for this kind of evidence");
        Ok(match self.kind {
            EvidenceKind::FeedbackItem => Evidence::FeedbackItem {
                item: uuid_arg("input.itemId", self.item_id.as_ref().ok_or_else(|| missing("itemId"))?)?,
            },
            EvidenceKind::Theme => Evidence::Theme { theme: self.theme.clone().ok_or_else(|| missing("theme"))?.0 },
            EvidenceKind::ComplaintLearning => Evidence::ComplaintLearning {
                complaint: uuid_arg(
                    "input.complaintId",
                    self.complaint_id.as_ref().ok_or_else(|| missing("complaintId"))?,
                )?,
            },
            EvidenceKind::AdvocacyTheme => Evidence::AdvocacyTheme {
                dimension: self.dimension.clone().ok_or_else(|| missing("dimension"))?,
                value: self.value.clone().ok_or_else(|| missing("value"))?,
            },
        })
    }
}

/// Names a field of the `input` argument as the client spelled it: `title` → `input.title`,
/// and evidence errors by the input field that holds the evidence.
fn in_input(error: ApiError, evidence_field: &str) -> ApiError {
    match error {
        ApiError::BadUserInput { field, message } => {
            let field = match field.as_str() {
                "evidence" | "evidence.item" => format!("input.{evidence_field}"),
                "evidence.dimension" => "input.dimension".to_owned(),
                other if other.starts_with("input.") => other.to_owned(),
                other => format!("input.{other}"),
            };
            ApiError::BadUserInput { field, message }
        }
        other => other,
    }
}

/// A decision just changed, shown to the asker as it stands now.
fn as_it_stands(ctx: &Context<'_>, decision: Decision) -> DecisionView {
    let actor = viewer(ctx).actor.clone();
    let store = service(ctx).store();
    service(ctx).read(|state| DecisionView::new(decision, state, state, &actor, store))
}

/// Runs one decision command as a commissioner and shows the decision after it.
async fn decide(
    ctx: &Context<'_>,
    id: &ID,
    command: impl FnOnce(&Decision, Uuid) -> Result<decision::Event, crate::domain::Rejection>,
) -> Result<DecisionView> {
    authorize(ctx, Action::RecordDecision, &Resource::System).await?;
    let by = account(ctx)?;
    let id = uuid_arg("id", id)?;
    let commissioning = service(ctx);
    let decision = commissioning.decide(id, by, |found| command(found, by)).await?;
    Ok(as_it_stands(ctx, decision))
}

/// Finds a feedback item commissioning knows, and asks the policy whether the asker may
/// answer it (concealed when they may not even see it).
async fn answerable(ctx: &Context<'_>, item: &ID) -> Result<Uuid> {
    account(ctx)?;
    let item = uuid_arg("itemId", item)?;
    let facts = service(ctx).read(|state| state.items.get(&item).map(|found| found.facts()));
    let facts = facts.ok_or(ApiError::NotFound)?;
    authorize(ctx, Action::AnswerFeedback, &Resource::Feedback(facts)).await?;
    Ok(item)
}

/// Where a commissioner's answer to an item stands.
#[derive(SimpleObject)]
pub struct FeedbackAnswer {
    pub item_id: ID,
    pub acknowledged_on: Option<String>,
    pub not_acted_on_reason: Option<String>,
    pub answered_on: Option<String>,
}

impl From<crate::domain::answer::Answer> for FeedbackAnswer {
    fn from(answer: crate::domain::answer::Answer) -> Self {
        FeedbackAnswer {
            item_id: ID(answer.item.to_string()),
            acknowledged_on: answer.acknowledged.map(|(on, _)| on.to_string()),
            not_acted_on_reason: answer.answered.as_ref().map(|(_, reason, _)| reason.clone()),
            answered_on: answer.answered.map(|(on, _, _)| on.to_string()),
        }
    }
}

#[derive(Default)]
pub struct CommissioningMutation;

#[Object]
impl CommissioningMutation {
    async fn propose_decision(&self, ctx: &Context<'_>, input: ProposeDecisionInput) -> Result<DecisionView> {
        authorize(ctx, Action::RecordDecision, &Resource::System).await?;
        let by = account(ctx)?;
        let once = ClientMutationId::optional(input.client_mutation_id.as_deref())?;
        let new = NewDecision {
            decision: idempotent::record_id(by, "proposeDecision", once.as_ref()),
            title: input.title,
            service_area: input.service_area,
            decided_by: input.decided_by,
            decision_date: date_arg("input.decisionDate", &input.decision_date)?,
            ladder_rung: input.ladder_rung,
            involvement: input.involvement,
            proposed_by: by,
        };
        let commissioning = service(ctx);
        let decision = commissioning.propose(new).await.map_err(|error| in_input(error, "title"))?;
        Ok(as_it_stands(ctx, decision))
    }

    async fn update_decision_status(
        &self,
        ctx: &Context<'_>,
        id: ID,
        status: StatusName,
        on: Option<String>,
    ) -> Result<DecisionView> {
        let on = date_arg_or_today("on", on.as_deref())?;
        decide(ctx, &id, |found, _| decision::change_status(found, status.into(), on, today())).await
    }

    async fn add_milestone(&self, ctx: &Context<'_>, id: ID, title: String, due: String) -> Result<DecisionView> {
        let due = date_arg("due", &due)?;
        decide(ctx, &id, |found, _| decision::add_milestone(found, Uuid::new_v4(), &title, due)).await
    }

    async fn meet_milestone(
        &self,
        ctx: &Context<'_>,
        id: ID,
        milestone_id: ID,
        on: Option<String>,
    ) -> Result<DecisionView> {
        let milestone = uuid_arg("milestoneId", &milestone_id)?;
        let on = date_arg_or_today("on", on.as_deref())?;
        decide(ctx, &id, |found, _| decision::meet_milestone(found, milestone, on, today())).await
    }

    async fn record_progress(
        &self,
        ctx: &Context<'_>,
        id: ID,
        percent: u8,
        #[graphql(default)] note: String,
        on: Option<String>,
    ) -> Result<DecisionView> {
        let on = date_arg_or_today("on", on.as_deref())?;
        decide(ctx, &id, |found, _| decision::record_progress(found, percent, &note, on, today())).await
    }

    /// Links evidence ("you said") to a decision, with why it mattered. Only feedback shared
    /// with commissioners, with the speaker's consent, can be linked.
    async fn link_evidence(&self, ctx: &Context<'_>, id: ID, input: LinkEvidenceInput) -> Result<DecisionView> {
        authorize(ctx, Action::RecordDecision, &Resource::System).await?;
        let by = account(ctx)?;
        let id = uuid_arg("id", &id)?;
        let once = ClientMutationId::optional(input.client_mutation_id.as_deref())?;
        let evidence = input.evidence()?;
        let on = date_arg_or_today("input.on", input.on.as_deref())?;
        let commissioning = service(ctx);
        let evidence_field = match input.kind {
            EvidenceKind::FeedbackItem => "itemId",
            EvidenceKind::Theme => "theme",
            EvidenceKind::ComplaintLearning => "complaintId",
            EvidenceKind::AdvocacyTheme => "value",
        };
        let link = idempotent::child_id(by, "linkEvidence", id, once.as_ref());
        let decision = commissioning
            .link_evidence_as(link, id, by, evidence, &input.rationale, on)
            .await
            .map_err(|error| in_input(error, evidence_field))?;
        Ok(as_it_stands(ctx, decision))
    }

    /// Withdraws a link. It stays in the decision's history, marked withdrawn with the reason.
    async fn unlink_evidence(
        &self,
        ctx: &Context<'_>,
        id: ID,
        link_id: ID,
        reason: String,
        on: Option<String>,
    ) -> Result<DecisionView> {
        let link = uuid_arg("linkId", &link_id)?;
        let on = date_arg_or_today("on", on.as_deref())?;
        decide(ctx, &id, |found, by| decision::unlink_evidence(found, link, &reason, by, on, today())).await
    }

    async fn review_outcome(
        &self,
        ctx: &Context<'_>,
        id: ID,
        summary: String,
        on: Option<String>,
    ) -> Result<DecisionView> {
        let on = date_arg_or_today("on", on.as_deref())?;
        decide(ctx, &id, |found, _| decision::review_outcome(found, &summary, on, today())).await
    }

    /// Tells the hub a commissioner has seen a shared item.
    async fn acknowledge_feedback(&self, ctx: &Context<'_>, item_id: ID, on: Option<String>) -> Result<FeedbackAnswer> {
        let item = answerable(ctx, &item_id).await?;
        let on = date_arg_or_today("on", on.as_deref())?;
        Ok(service(ctx).answer(item, account(ctx)?, None, on).await?.into())
    }

    /// Acknowledges several shared items at once: all of them, or none. An item the asker may
    /// not answer (not shared with commissioners, not theirs to see, or no such item) refuses
    /// the whole request, naming it (`itemIds[2]`). Items already acknowledged or answered are
    /// left as they are, so the same request sent again changes nothing.
    async fn acknowledge_feedback_items(
        &self,
        ctx: &Context<'_>,
        item_ids: Vec<ID>,
        on: Option<String>,
    ) -> Result<Vec<FeedbackAnswer>> {
        let by = account(ctx)?;
        let mut items = Vec::with_capacity(item_ids.len());
        for (index, id) in item_ids.iter().enumerate() {
            let field = format!("itemIds[{index}]");
            let item = uuid_arg(&field, id)?;
            let facts = service(ctx).read(|state| state.items.get(&item).map(|found| found.facts()));
            let refused = || ApiError::bad_input(field.clone(), crate::service::cannot_acknowledge(item));
            let facts = facts.ok_or_else(refused)?;
            match authorize(ctx, Action::AnswerFeedback, &Resource::Feedback(facts)).await {
                Ok(()) => {}
                Err(ApiError::Unauthenticated(message)) => return Err(ApiError::Unauthenticated(message).into()),
                Err(_) => return Err(refused().into()),
            }
            items.push(item);
        }
        let on = date_arg_or_today("on", on.as_deref())?;
        let answers = service(ctx).acknowledge_together(&items, by, on).await?;
        Ok(answers.into_iter().map(FeedbackAnswer::from).collect())
    }

    /// Answers a shared item "not acted on, because …".
    async fn answer_feedback(
        &self,
        ctx: &Context<'_>,
        item_id: ID,
        reason: String,
        on: Option<String>,
    ) -> Result<FeedbackAnswer> {
        let item = answerable(ctx, &item_id).await?;
        let on = date_arg_or_today("on", on.as_deref())?;
        Ok(service(ctx).answer(item, account(ctx)?, Some(&reason), on).await?.into())
    }
}
