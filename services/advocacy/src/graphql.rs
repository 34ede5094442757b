//! The advocacy service's part of the GraphQL schema (a federation subgraph).
//!
//! A case file is seen and worked only by the advocate it is assigned to; to everyone else it
//! does not exist (`NOT_FOUND`). Every read of a case file is on the access log. Commissioners
//! see only counts, with small numbers suppressed.

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use heard_access::{Action, Resource};
use heard_api::idempotent::{self, ClientMutationId};
use heard_api::rollup::{ReportPeriod, RollupRow, labelled};
use heard_api::suppression::grouped;
use heard_api::{
    ApiError, allowed, authorize, date_arg_or_today, optional_date_arg, paginate, period_args, record_read,
    record_reads, uuid_arg,
};
use heard_contracts::privacy::PersonId;
use jiff::civil::Date;
use uuid::Uuid;

use std::sync::OnceLock;

use crate::domain::case::{self, Case};
use crate::domain::rollup::{self, Dimension};
use crate::model::KeptCase;
use crate::service::{AdvocacyService, Closure, Referral, resource};

fn service<'a>(ctx: &'a Context<'_>) -> &'a AdvocacyService {
    ctx.data_unchecked::<AdvocacyService>()
}

pub use heard_api::subgraph::register;

heard_api::subgraph_roots!(AdvocacyQuery, AdvocacyMutation);

/// Whether the client can tell the advocate what they want.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(remote = "crate::domain::case::AdvocacyKind")]
pub enum AdvocacyKind {
    /// The client says what they want; the advocate speaks up for that.
    Instructed,
    /// The client cannot say; the advocate makes sure their rights and wishes are taken into account.
    NonInstructed,
}

/// Who asked for the advocate.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::case::ReferralSource")]
pub enum ReferralSource {
    /// The client asked themselves.
    SelfReferral,
    Hub,
    Provider,
    Gp,
    Probation,
    Prison,
    Family,
    Other,
}

/// What the issue is about.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(remote = "crate::domain::case::CaseDomain")]
pub enum CaseDomain {
    Housing,
    Benefits,
    Employment,
    ChildProtection,
    /// Criminal justice and release from prison.
    CriminalJustice,
    MentalHealth,
    /// A review of what is prescribed (dose, supervised consumption, reduction).
    PrescribingReview,
    /// Getting into treatment, or back into it.
    TreatmentAccess,
    CarePlan,
    Other,
}

/// Where a case stands.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(remote = "crate::domain::case::CaseState")]
pub enum CaseState {
    Referred,
    Accepted,
    Declined,
    /// Accepted, with at least one action recorded (or reopened).
    Active,
    Closed,
}

/// What the advocate did.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "CaseActionKind", remote = "crate::domain::case::ActionKind")]
pub enum ActionKind {
    Meeting,
    /// Went with the client to an appointment.
    AccompaniedAppointment,
    Letter,
    Call,
    Note,
}

/// Who the client has allowed the advocate to share their information with.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::case::ShareScope")]
pub enum ShareScope {
    /// Nobody but the advocate.
    AdvocateOnly,
    /// Only the services the client named.
    NamedServices,
    /// Every service involved in the issue.
    AllServicesInvolved,
}

/// Whether what the client wanted happened.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::case::CaseOutcome")]
pub enum CaseOutcome {
    Achieved,
    PartlyAchieved,
    NotAchieved,
    NotKnown,
}

/// Why a case closed.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::case::ClosureReason")]
pub enum ClosureReason {
    IssueResolved,
    ClientWithdrew,
    LostContact,
    /// Passed to another service better placed to help.
    ReferredOn,
    Other,
}

/// What advocacy counts can be grouped by.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::rollup::Dimension")]
pub enum AdvocacyDimension {
    /// What the issue is about.
    Domain,
    /// A theme from the shared theme list.
    Theme,
    /// The provider the issue is with.
    Provider,
    /// An article of the charter of rights.
    Article,
    /// The month, quarter or year of the referral.
    Period,
}

fn id_of(id: Uuid) -> ID {
    ID(id.to_string())
}

fn day(date: Date) -> String {
    date.to_string()
}

/// One thing the advocate did.
#[derive(SimpleObject, Clone, Debug)]
pub struct CaseAction {
    pub id: ID,
    /// `YYYY-MM-DD`.
    pub on: String,
    pub kind: ActionKind,
    /// The advocate's note; `null` once the client's data was erased.
    pub text: Option<String>,
    pub by_id: ID,
}

/// The client's authority to share, as recorded on a day.
#[derive(SimpleObject, Clone, Debug)]
pub struct CaseConsent {
    /// `null` when consent was withdrawn.
    pub scope: Option<ShareScope>,
    pub recorded_on: String,
}

impl From<&case::ConsentRecorded> for CaseConsent {
    fn from(consent: &case::ConsentRecorded) -> Self {
        CaseConsent { scope: consent.scope.map(Into::into), recorded_on: day(consent.on) }
    }
}

/// A closed case opened again.
#[derive(SimpleObject, Clone, Debug)]
pub struct CaseReopening {
    pub on: String,
    /// `null` once the client's data was erased.
    pub reason: Option<String>,
}

/// A case closed, with its outcome: one for every closure, even after the case was reopened.
#[derive(SimpleObject, Clone, Debug)]
pub struct CaseClosure {
    /// `YYYY-MM-DD`.
    pub on: String,
    pub outcome: CaseOutcome,
    pub reason: ClosureReason,
}

/// A case handed to another advocate (the caller may no longer see it).
#[derive(SimpleObject, Clone, Debug)]
pub struct CaseAssignment {
    pub case_id: ID,
    pub advocate_id: ID,
}

/// An advocacy case file. Only the advocate it is assigned to sees it.
///
/// Its facts are read from the model; the client's words are opened when the first field that
/// shows them is resolved, and kept only as long as this answer.
#[allow(clippy::large_enum_variant)] // one per case in an answer, never stored
pub enum CaseNode {
    /// A case whose words a command has just opened.
    Opened(Case),
    /// A case as the model keeps it, its words opened on demand.
    Kept(KeptCase, OnceLock<Case>),
}

impl CaseNode {
    fn kept(kept: KeptCase) -> Self {
        CaseNode::Kept(kept, OnceLock::new())
    }

    /// The person the client was said to be, and whether an erasure covered the case, as the
    /// model has them now.
    fn person_and_erased(&self, ctx: &Context<'_>) -> (Option<PersonId>, bool) {
        match self {
            CaseNode::Kept(kept, _) => (kept.person, kept.erased),
            CaseNode::Opened(case) => service(ctx)
                .read(|state| state.cases.get(&case.id).map(|kept| (kept.person, kept.erased)))
                .unwrap_or_default(),
        }
    }

    /// The case's facts (no words).
    fn facts(&self) -> &Case {
        match self {
            CaseNode::Opened(case) => case,
            CaseNode::Kept(kept, _) => kept.facts(),
        }
    }

    /// The case with the client's words (each `None` once they were erased).
    fn words(&self, ctx: &Context<'_>) -> &Case {
        match self {
            CaseNode::Opened(case) => case,
            CaseNode::Kept(kept, opened) => opened.get_or_init(|| service(ctx).open_case(kept)),
        }
    }
}

#[Object(name = "Case")]
impl CaseNode {
    async fn id(&self) -> ID {
        id_of(self.facts().id)
    }
    /// The client, as an opaque id: linked cases of the same person share it.
    async fn client_ref(&self) -> ID {
        id_of(self.facts().client)
    }
    /// The person (data subject) the client was said to be (`attributeCase`); every case of
    /// the client carries the same one.
    async fn person(&self, ctx: &Context<'_>) -> Option<ID> {
        self.person_and_erased(ctx).0.map(|person| ID(person.to_string()))
    }
    /// The client's data was erased: the facts of the case stay (domain, dates, stage, counts)
    /// and every field of their words reads `null`.
    async fn erased(&self, ctx: &Context<'_>) -> bool {
        let (_, erased) = self.person_and_erased(ctx);
        erased || self.words(ctx).personal.is_none()
    }
    /// The case this one was opened as a further issue of.
    async fn linked_to(&self) -> Option<ID> {
        self.facts().linked_to.map(id_of)
    }
    /// How the case names the client. `null` once their data was erased.
    async fn pseudonym(&self, ctx: &Context<'_>) -> Option<&str> {
        self.words(ctx).personal.as_ref().map(|personal| personal.pseudonym.as_str())
    }
    async fn client_name(&self, ctx: &Context<'_>) -> Option<&str> {
        self.words(ctx).personal.as_ref().and_then(|personal| personal.name.as_deref())
    }
    async fn client_contact(&self, ctx: &Context<'_>) -> Option<&str> {
        self.words(ctx).personal.as_ref().and_then(|personal| personal.contact.as_deref())
    }
    /// The issue, in the client's words. `null` once their data was erased.
    async fn issue(&self, ctx: &Context<'_>) -> Option<&str> {
        self.words(ctx).personal.as_ref().map(|personal| personal.issue.as_str())
    }
    async fn kind(&self) -> AdvocacyKind {
        self.facts().kind.into()
    }
    async fn referral_source(&self) -> ReferralSource {
        self.facts().source.into()
    }
    async fn domain(&self) -> CaseDomain {
        self.facts().domain.into()
    }
    /// Theme ids.
    async fn themes(&self) -> Vec<ID> {
        self.facts().themes.iter().cloned().map(ID).collect()
    }
    /// The provider id the issue is with.
    async fn provider(&self) -> Option<ID> {
        self.facts().provider.clone().map(ID)
    }
    async fn provider_name(&self, ctx: &Context<'_>) -> Option<String> {
        let provider = self.facts().provider.as_ref()?;
        service(ctx).read(|state| state.reference.providers.get(provider).cloned())
    }
    /// The provider, as the identity service knows it.
    async fn provider_details(&self) -> Option<heard_api::entity::Reference<heard_api::entity::ProviderKey>> {
        self.facts().provider.clone().map(heard_api::entity::Reference::<heard_api::entity::ProviderKey>::to)
    }
    /// Articles of the charter of rights the issue touches.
    async fn articles(&self) -> Vec<i32> {
        self.facts().articles.iter().map(|number| *number as i32).collect()
    }
    /// The advocate working the case now.
    async fn advocate_id(&self) -> ID {
        id_of(self.facts().advocate)
    }
    async fn state(&self) -> CaseState {
        self.facts().state.into()
    }
    async fn referred_on(&self) -> String {
        day(self.facts().referred_on)
    }
    async fn accepted_on(&self) -> Option<String> {
        self.facts().accepted_on.map(day)
    }
    /// Why the case was declined; `null` if it was not, or once the client's data was erased.
    async fn decline_reason(&self, ctx: &Context<'_>) -> Option<&str> {
        self.words(ctx)
            .declined
            .as_ref()
            .and_then(|(_, personal)| personal.as_ref())
            .map(|personal| personal.reason.as_str())
    }
    /// What the advocate did, in date order.
    async fn actions(&self, ctx: &Context<'_>) -> Vec<CaseAction> {
        let mut actions: Vec<CaseAction> = self
            .words(ctx)
            .actions
            .iter()
            .map(|(action, personal)| CaseAction {
                id: id_of(action.action),
                on: day(action.on),
                kind: action.kind.into(),
                text: personal.as_ref().map(|personal| personal.text.clone()),
                by_id: id_of(action.by),
            })
            .collect();
        actions.sort_by(|a, b| a.on.cmp(&b.on));
        actions
    }
    /// The latest consent recorded (`scope: null` when withdrawn); `null` if none ever was.
    async fn consent(&self) -> Option<CaseConsent> {
        self.facts().consent.as_ref().map(CaseConsent::from)
    }
    /// Every consent recorded, oldest first.
    async fn consent_history(&self) -> Vec<CaseConsent> {
        self.facts().consent_history.iter().map(CaseConsent::from).collect()
    }
    /// While the case is closed: whether what the client wanted happened.
    async fn outcome(&self) -> Option<CaseOutcome> {
        self.facts().current_closure().map(|(closed, _)| closed.outcome.into())
    }
    async fn closure_reason(&self) -> Option<ClosureReason> {
        self.facts().current_closure().map(|(closed, _)| closed.reason.into())
    }
    /// The client's own view of the outcome.
    async fn client_view(&self, ctx: &Context<'_>) -> Option<&str> {
        self.words(ctx).current_closure().and_then(|(_, personal)| personal.as_ref()?.client_view.as_deref())
    }
    async fn closed_on(&self) -> Option<String> {
        self.facts().closed_on().map(day)
    }
    /// Every closure with its outcome, oldest first (the closure in force is the last, while
    /// the case is closed).
    async fn closures(&self) -> Vec<CaseClosure> {
        self.facts()
            .closures
            .iter()
            .map(|(closed, _)| CaseClosure {
                on: day(closed.on),
                outcome: closed.outcome.into(),
                reason: closed.reason.into(),
            })
            .collect()
    }
    async fn reopenings(&self, ctx: &Context<'_>) -> Vec<CaseReopening> {
        self.words(ctx)
            .reopenings
            .iter()
            .map(|(reopened, personal)| CaseReopening {
                on: day(reopened.on),
                reason: personal.as_ref().map(|personal| personal.reason.clone()),
            })
            .collect()
    }
    /// Other cases of the same client that you may see.
    async fn linked_cases(&self, ctx: &Context<'_>) -> Vec<ID> {
        let linked: Vec<Resource> =
            service(ctx).read(|state| state.linked_cases(self.facts()).into_iter().map(|c| resource(c)).collect());
        linked
            .into_iter()
            .filter(|linked| allowed(ctx, Action::ViewCase, linked))
            .filter_map(|linked| match linked {
                Resource::Case(facts) => Some(id_of(facts.case)),
                _ => None,
            })
            .collect()
    }
}

/// Finds a case (its words still sealed) and checks the policy for `action`; another
/// advocate's case is not found.
async fn case_for(ctx: &Context<'_>, field: &str, id: &ID, action: Action) -> Result<KeptCase> {
    let id = uuid_arg(field, id)?;
    // Log in first, so that nobody outside can tell an existing case from a missing one.
    heard_api::account(ctx)?;
    let case = service(ctx).kept(id).ok_or(ApiError::NotFound)?;
    authorize(ctx, action, &resource(&case)).await?;
    Ok(case)
}

/// The id of a case the asker may work (found as [`case_for`] finds it), and the asker.
async fn work_on(ctx: &Context<'_>, id: &ID) -> Result<(Uuid, Uuid)> {
    let case = case_for(ctx, "id", id, Action::WorkCase).await?;
    Ok((case.id, heard_api::account(ctx)?))
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

/// A dimension's value in plain words.
fn label(ctx: &Context<'_>, dimension: Dimension, value: &str) -> String {
    if value == rollup::NONE {
        return "Not recorded".to_owned();
    }
    match dimension {
        Dimension::Domain => {
            let words = value.replace('_', " ");
            let mut chars = words.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => words,
            }
        }
        Dimension::Theme => service(ctx)
            .read(|state| state.reference.themes.get(value).map(|theme| theme.name.clone()))
            .unwrap_or_else(|| value.to_owned()),
        Dimension::Provider => {
            service(ctx).read(|state| state.reference.providers.get(value).cloned()).unwrap_or_else(|| value.to_owned())
        }
        Dimension::Article => format!("Article {value}"),
        Dimension::Period => value.to_owned(),
    }
}

#[derive(Default)]
pub struct AdvocacyQuery;

#[Object]
impl AdvocacyQuery {
    /// One case file. Only the advocate it is assigned to finds it; the read is logged.
    async fn case(&self, ctx: &Context<'_>, id: ID) -> Result<CaseNode> {
        let case = case_for(ctx, "id", &id, Action::ViewCase).await?;
        record_read(ctx, Action::ViewCase, &resource(&case)).await?;
        Ok(CaseNode::kept(case))
    }

    /// The cases assigned to you, newest referral first. The reads are logged.
    #[allow(clippy::too_many_arguments)]
    async fn cases(
        &self,
        ctx: &Context<'_>,
        state: Option<CaseState>,
        domain: Option<CaseDomain>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, CaseNode>> {
        heard_api::account(ctx)?;
        let state = state.map(case::CaseState::from);
        let domain = domain.map(case::CaseDomain::from);
        let mut cases: Vec<KeptCase> = service(ctx).read(|model| {
            model
                .cases_in_order()
                .rev()
                .filter(|case| state.is_none_or(|state| case.state == state))
                .filter(|case| domain.is_none_or(|domain| case.domain == domain))
                .filter(|case| allowed(ctx, Action::ViewCase, &resource(case)))
                .cloned()
                .collect()
        });
        cases.sort_by_key(|case| std::cmp::Reverse(case.referred_on));
        let page = paginate(cases.into_iter().map(CaseNode::kept).collect(), after, before, first, last)?;
        let read: Vec<Resource> = page.edges.iter().map(|edge| resource(edge.node.facts())).collect();
        record_reads(ctx, Action::ViewCase, &read).await?;
        Ok(page)
    }

    /// How many cases there were, grouped by what they were about, who with and when, for
    /// commissioners and advocates. Never who the clients are; counts of 1 to 4 are suppressed,
    /// and so is any count that would let one be worked out from this roll-up and another.
    /// Declined cases are left out; `from` and `to` (`YYYY-MM-DD`, both included) bound the
    /// referral date.
    async fn advocacy_themes(
        &self,
        ctx: &Context<'_>,
        by: Vec<AdvocacyDimension>,
        #[graphql(default)] period: ReportPeriod,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<Vec<RollupRow>> {
        authorize(ctx, Action::ViewAdvocacyThemes, &Resource::System).await?;
        let by: Vec<Dimension> = by.into_iter().map(Dimension::from).collect();
        if by.is_empty() {
            return Err(ApiError::bad_input("by", "choose at least one dimension").into());
        }
        for (index, dimension) in by.iter().enumerate() {
            if by[..index].contains(dimension) {
                return Err(ApiError::bad_input("by", "name each dimension once").into());
            }
        }
        let (from, to) =
            period_args(("from", from.as_deref()), ("to", to.as_deref()), "the end cannot be before the start")?;
        let period = period.into();
        let asked: Vec<usize> = by.iter().filter_map(|d| Dimension::ALL.iter().position(|all| all == d)).collect();
        // Every grouping from one state, so that they agree.
        let shown = service(ctx).read(|state| {
            grouped(Dimension::ALL.len(), &asked, |subset| {
                let by: Vec<Dimension> = subset.iter().map(|index| Dimension::ALL[*index]).collect();
                rollup::systemic_themes(state.cases.values().map(KeptCase::facts), &by, period, from, to)
            })
        });
        let names: Vec<&str> = by.iter().map(|dimension| AdvocacyDimension::from(*dimension).name()).collect();
        Ok(labelled(&names, shown, |index, value| label(ctx, by[index], value)))
    }
}

impl AdvocacyDimension {
    fn name(self) -> &'static str {
        match self {
            AdvocacyDimension::Domain => "DOMAIN",
            AdvocacyDimension::Theme => "THEME",
            AdvocacyDimension::Provider => "PROVIDER",
            AdvocacyDimension::Article => "ARTICLE",
            AdvocacyDimension::Period => "PERIOD",
        }
    }
}

/// A case to open: one person, one issue.
#[derive(InputObject)]
pub struct ReferCaseInput {
    /// How the case names the client; blank gives "Client 3F2A".
    pub pseudonym: Option<String>,
    pub client_name: Option<String>,
    pub client_contact: Option<String>,
    /// The issue, in the client's words.
    pub issue: String,
    pub kind: AdvocacyKind,
    pub referral_source: ReferralSource,
    pub domain: CaseDomain,
    /// Theme ids.
    #[graphql(default)]
    pub themes: Vec<ID>,
    /// The provider id the issue is with.
    pub provider: Option<ID>,
    /// Article numbers of the charter of rights.
    #[graphql(default)]
    pub articles: Vec<i32>,
    /// An earlier case of the same client (one you work), when this is a further issue.
    pub linked_to: Option<ID>,
    /// The advocate to work it; you when absent.
    pub advocate_id: Option<ID>,
    /// `YYYY-MM-DD`; today when absent.
    pub referred_on: Option<String>,
    /// Your own id for this request (1 to 64 of `A-Z a-z 0-9 _ -`, new for each thing you
    /// create): sent again, with the same details, it answers what the first one created and
    /// adds nothing; with other details it is refused on `input.clientMutationId`.
    pub client_mutation_id: Option<String>,
}

/// Something the advocate did.
#[derive(InputObject)]
pub struct RecordCaseActionInput {
    pub kind: ActionKind,
    /// The note.
    pub text: String,
    /// `YYYY-MM-DD`; today when absent.
    pub on: Option<String>,
    /// Your own id for this request (1 to 64 of `A-Z a-z 0-9 _ -`, new for each thing you
    /// create): sent again, with the same details, it answers what the first one created and
    /// adds nothing; with other details it is refused on `input.clientMutationId`.
    pub client_mutation_id: Option<String>,
}

/// How a case ended.
#[derive(InputObject)]
pub struct CloseCaseInput {
    pub outcome: CaseOutcome,
    pub reason: ClosureReason,
    /// The client's own view of the outcome (required for instructed advocacy).
    pub client_view: Option<String>,
    /// `YYYY-MM-DD`; today when absent.
    pub on: Option<String>,
}

#[derive(Default)]
pub struct AdvocacyMutation;

#[Object]
impl AdvocacyMutation {
    /// Opens a case. Advocates only. The answer shows the referrer the case as referred, even
    /// when it is assigned to another advocate; from then on only that advocate sees it.
    async fn refer_case(&self, ctx: &Context<'_>, input: ReferCaseInput) -> Result<CaseNode> {
        authorize(ctx, Action::ReferCase, &Resource::System).await?;
        let by = heard_api::account(ctx)?;
        let once = ClientMutationId::optional(input.client_mutation_id.as_deref())?;
        let linked_to = match &input.linked_to {
            Some(id) => Some(case_for(ctx, "input.linkedTo", id, Action::WorkCase).await?.id),
            None => None,
        };
        let articles = input
            .articles
            .iter()
            .enumerate()
            .map(|(index, number)| {
                u32::try_from(*number).map_err(|_| {
                    ApiError::bad_input(format!("input.articles[{index}]"), "the charter has no such article")
                })
            })
            .collect::<Result<Vec<u32>, ApiError>>()?;
        let advocate = input.advocate_id.as_ref().map(|id| uuid_arg("input.advocateId", id)).transpose()?;
        let referred_on = optional_date_arg("input.referredOn", input.referred_on.as_deref())?;
        let referral = Referral {
            pseudonym: input.pseudonym,
            client_name: input.client_name,
            client_contact: input.client_contact,
            issue: input.issue,
            kind: input.kind.into(),
            source: input.referral_source.into(),
            domain: input.domain.into(),
            themes: input.themes.into_iter().map(|theme| theme.0).collect(),
            provider: input.provider.map(|provider| provider.0),
            articles,
            linked_to,
            advocate,
            referred_on,
        };
        let id = idempotent::record_id(by, "referCase", once.as_ref());
        let case = service(ctx).refer_as(id, by, referral).await.map_err(prefix_input)?;
        Ok(CaseNode::Opened(case))
    }

    /// Takes on a referred case.
    async fn accept_case(&self, ctx: &Context<'_>, id: ID, on: Option<String>) -> Result<CaseNode> {
        let (case, by) = work_on(ctx, &id).await?;
        let on = date_arg_or_today("on", on.as_deref())?;
        Ok(CaseNode::Opened(service(ctx).accept(case, by, on).await?))
    }

    /// Turns down a referred case, saying why.
    async fn decline_case(&self, ctx: &Context<'_>, id: ID, reason: String, on: Option<String>) -> Result<CaseNode> {
        let (case, by) = work_on(ctx, &id).await?;
        let on = date_arg_or_today("on", on.as_deref())?;
        Ok(CaseNode::Opened(service(ctx).decline(case, by, on, &reason).await?))
    }

    /// Records a meeting, an accompanied appointment, a letter, a call or a note.
    async fn record_case_action(&self, ctx: &Context<'_>, id: ID, input: RecordCaseActionInput) -> Result<CaseNode> {
        let (case, by) = work_on(ctx, &id).await?;
        let once = ClientMutationId::optional(input.client_mutation_id.as_deref())?;
        let on = date_arg_or_today("input.on", input.on.as_deref())?;
        let action = idempotent::child_id(by, "recordCaseAction", case, once.as_ref());
        let case = service(ctx).record_action_as(action, case, by, on, input.kind.into(), &input.text).await;
        Ok(CaseNode::Opened(case.map_err(prefix_input)?))
    }

    /// Records the client's authority to share; `scope: null` records its withdrawal.
    async fn record_consent(
        &self,
        ctx: &Context<'_>,
        id: ID,
        scope: Option<ShareScope>,
        on: Option<String>,
    ) -> Result<CaseNode> {
        let (case, by) = work_on(ctx, &id).await?;
        let on = date_arg_or_today("on", on.as_deref())?;
        Ok(CaseNode::Opened(service(ctx).record_consent(case, by, on, scope.map(Into::into)).await?))
    }

    /// Closes an accepted case with its outcome and the client's view of it.
    async fn close_case(&self, ctx: &Context<'_>, id: ID, input: CloseCaseInput) -> Result<CaseNode> {
        let (case, by) = work_on(ctx, &id).await?;
        let closure = Closure {
            outcome: input.outcome.into(),
            reason: input.reason.into(),
            client_view: input.client_view,
            on: date_arg_or_today("input.on", input.on.as_deref())?,
        };
        Ok(CaseNode::Opened(service(ctx).close(case, by, closure).await.map_err(prefix_input)?))
    }

    /// Reopens a closed case, saying why. The closure stays on record.
    async fn reopen_case(&self, ctx: &Context<'_>, id: ID, reason: String, on: Option<String>) -> Result<CaseNode> {
        let (case, by) = work_on(ctx, &id).await?;
        let on = date_arg_or_today("on", on.as_deref())?;
        Ok(CaseNode::Opened(service(ctx).reopen(case, by, on, &reason).await?))
    }

    /// Says the client of a case you work is a person (a data subject), so that their records
    /// across Heard can be found and erased together: `person` is one already known to Heard,
    /// or left out for a new person. Every case of the client is attributed at once, and their
    /// later cases too. Who sees the case does not change. A person whose case another advocate
    /// works is refused exactly as an unknown person, unless you already hold a record of theirs.
    async fn attribute_case(&self, ctx: &Context<'_>, case_id: ID, person: Option<ID>) -> Result<CaseNode> {
        let case = case_for(ctx, "caseId", &case_id, Action::WorkCase).await?;
        let by = heard_api::account(ctx)?;
        let person = person.as_ref().map(|person| uuid_arg("person", person).map(PersonId)).transpose()?;
        if let Some(person) = person {
            let named = service(ctx)
                .read(|state| state.persons.named(&state.holders, person, heard_access::PersonRecord::Case));
            heard_api::persons::authorize_naming(ctx, "person", named).await?;
        }
        Ok(CaseNode::Opened(service(ctx).attribute(case.id, by, person).await?))
    }

    /// Hands an open case to another advocate. You no longer see it afterwards.
    async fn assign_case(&self, ctx: &Context<'_>, id: ID, advocate_id: ID) -> Result<CaseAssignment> {
        let (case, by) = work_on(ctx, &id).await?;
        let advocate = uuid_arg("advocateId", &advocate_id)?;
        let case = service(ctx).assign(case, by, advocate).await?;
        Ok(CaseAssignment { case_id: id_of(case.id), advocate_id: id_of(case.advocate) })
    }
}
