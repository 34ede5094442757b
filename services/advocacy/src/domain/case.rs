//! One advocacy case, from referral to closure, and the commands that move it on.
//!
//! A case is for one person, the *client*, and one issue. Several issues for the same person
//! become linked cases that share the same `client` id. The client is known by a pseudonym
//! unless they choose otherwise.
//!
//! referred → accepted or declined; accepted → active (the first action) → closed; a closed
//! case can be reopened (a new event, never an edit) and closed again.
//!
//! Events that carry personal data have two parts: the non-personal data and a personal part,
//! kept apart because the service encrypts the personal part under the client's own key. When
//! the client's data is erased the personal part reads as `None`, and the case shows nothing.

use std::collections::BTreeSet;

use jiff::civil::{Date, date};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Rejection, invalid};
use heard_contracts::input::{optional, required};

/// The stream category of cases (`case-<id>`).
pub use heard_contracts::advocacy::CASE;
use heard_contracts::{Event as _, advocacy as contract};

/// Longest issue, in characters.
pub const MAX_ISSUE_CHARS: usize = 5000;
/// Longest action note, in characters.
pub const MAX_ACTION_CHARS: usize = 10_000;
/// Longest client's view of the outcome, in characters.
pub const MAX_CLIENT_VIEW_CHARS: usize = 2000;

/// Whether the client can tell the advocate what they want.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdvocacyKind {
    /// The client says what they want; the advocate speaks up for that.
    Instructed,
    /// The client cannot say (for example, lacks capacity for this decision); the advocate
    /// makes sure their rights and wishes, as far as known, are taken into account.
    NonInstructed,
}

impl AdvocacyKind {
    pub const ALL: [AdvocacyKind; 2] = [AdvocacyKind::Instructed, AdvocacyKind::NonInstructed];

    pub fn as_str(self) -> &'static str {
        match self {
            AdvocacyKind::Instructed => "instructed",
            AdvocacyKind::NonInstructed => "non_instructed",
        }
    }
}

/// Who asked for the advocate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralSource {
    /// The client asked themselves.
    SelfReferral,
    /// A local service-user hub.
    Hub,
    /// A treatment or other provider.
    Provider,
    Gp,
    Probation,
    Prison,
    Family,
    Other,
}

impl ReferralSource {
    pub const ALL: [ReferralSource; 8] = [
        ReferralSource::SelfReferral,
        ReferralSource::Hub,
        ReferralSource::Provider,
        ReferralSource::Gp,
        ReferralSource::Probation,
        ReferralSource::Prison,
        ReferralSource::Family,
        ReferralSource::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReferralSource::SelfReferral => "self_referral",
            ReferralSource::Hub => "hub",
            ReferralSource::Provider => "provider",
            ReferralSource::Gp => "gp",
            ReferralSource::Probation => "probation",
            ReferralSource::Prison => "prison",
            ReferralSource::Family => "family",
            ReferralSource::Other => "other",
        }
    }
}

/// What the issue is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

impl CaseDomain {
    pub const ALL: [CaseDomain; 10] = [
        CaseDomain::Housing,
        CaseDomain::Benefits,
        CaseDomain::Employment,
        CaseDomain::ChildProtection,
        CaseDomain::CriminalJustice,
        CaseDomain::MentalHealth,
        CaseDomain::PrescribingReview,
        CaseDomain::TreatmentAccess,
        CaseDomain::CarePlan,
        CaseDomain::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseDomain::Housing => "housing",
            CaseDomain::Benefits => "benefits",
            CaseDomain::Employment => "employment",
            CaseDomain::ChildProtection => "child_protection",
            CaseDomain::CriminalJustice => "criminal_justice",
            CaseDomain::MentalHealth => "mental_health",
            CaseDomain::PrescribingReview => "prescribing_review",
            CaseDomain::TreatmentAccess => "treatment_access",
            CaseDomain::CarePlan => "care_plan",
            CaseDomain::Other => "other",
        }
    }
}

/// Where a case stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    Referred,
    Accepted,
    Declined,
    /// Accepted, with at least one action recorded (or reopened).
    Active,
    Closed,
}

impl CaseState {
    pub const ALL: [CaseState; 5] =
        [CaseState::Referred, CaseState::Accepted, CaseState::Declined, CaseState::Active, CaseState::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Referred => "referred",
            CaseState::Accepted => "accepted",
            CaseState::Declined => "declined",
            CaseState::Active => "active",
            CaseState::Closed => "closed",
        }
    }
}

/// What the advocate did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Meeting,
    /// Went with the client to an appointment.
    AccompaniedAppointment,
    Letter,
    Call,
    Note,
}

impl ActionKind {
    pub const ALL: [ActionKind; 5] = [
        ActionKind::Meeting,
        ActionKind::AccompaniedAppointment,
        ActionKind::Letter,
        ActionKind::Call,
        ActionKind::Note,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Meeting => "meeting",
            ActionKind::AccompaniedAppointment => "accompanied_appointment",
            ActionKind::Letter => "letter",
            ActionKind::Call => "call",
            ActionKind::Note => "note",
        }
    }
}

/// Who the client has allowed the advocate to share their information with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareScope {
    /// Nobody but the advocate.
    AdvocateOnly,
    /// Only the services the client named.
    NamedServices,
    /// Every service involved in the issue.
    AllServicesInvolved,
}

impl ShareScope {
    pub const ALL: [ShareScope; 3] =
        [ShareScope::AdvocateOnly, ShareScope::NamedServices, ShareScope::AllServicesInvolved];

    pub fn as_str(self) -> &'static str {
        match self {
            ShareScope::AdvocateOnly => "advocate_only",
            ShareScope::NamedServices => "named_services",
            ShareScope::AllServicesInvolved => "all_services_involved",
        }
    }
}

/// Whether what the client wanted happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseOutcome {
    Achieved,
    PartlyAchieved,
    NotAchieved,
    NotKnown,
}

impl CaseOutcome {
    pub const ALL: [CaseOutcome; 4] =
        [CaseOutcome::Achieved, CaseOutcome::PartlyAchieved, CaseOutcome::NotAchieved, CaseOutcome::NotKnown];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseOutcome::Achieved => "achieved",
            CaseOutcome::PartlyAchieved => "partly_achieved",
            CaseOutcome::NotAchieved => "not_achieved",
            CaseOutcome::NotKnown => "not_known",
        }
    }
}

/// Why a case closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosureReason {
    IssueResolved,
    ClientWithdrew,
    LostContact,
    /// Passed to another service better placed to help.
    ReferredOn,
    Other,
}

impl ClosureReason {
    pub const ALL: [ClosureReason; 5] = [
        ClosureReason::IssueResolved,
        ClosureReason::ClientWithdrew,
        ClosureReason::LostContact,
        ClosureReason::ReferredOn,
        ClosureReason::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ClosureReason::IssueResolved => "issue_resolved",
            ClosureReason::ClientWithdrew => "client_withdrew",
            ClosureReason::LostContact => "lost_contact",
            ClosureReason::ReferredOn => "referred_on",
            ClosureReason::Other => "other",
        }
    }
}

/// A case opened for a client (the non-personal part).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referred {
    pub case: Uuid,
    /// The person the case is for; linked cases share it.
    pub client: Uuid,
    /// Another case for the same client, when this is a further issue.
    pub linked_to: Option<Uuid>,
    pub kind: AdvocacyKind,
    pub source: ReferralSource,
    pub domain: CaseDomain,
    /// Theme ids from the shared theme list.
    pub themes: BTreeSet<String>,
    /// The provider id the issue is with, if any.
    pub provider: Option<String>,
    /// Articles of the charter of rights the issue touches.
    pub articles: BTreeSet<u32>,
    pub advocate: Uuid,
    pub referred_by: Uuid,
    pub referred_on: Date,
}

/// Who the client is and what the issue is, in their words. Encrypted under the client's key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralPersonal {
    /// How the case names the client: chosen by them, or "Client 3F2A".
    pub pseudonym: String,
    pub name: Option<String>,
    pub contact: Option<String>,
    pub issue: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    pub on: Date,
    pub by: Uuid,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Declined {
    pub on: Date,
    pub by: Uuid,
}

/// Why the case was declined (it may say things about the client).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclinedPersonal {
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRecorded {
    pub action: Uuid,
    pub on: Date,
    pub kind: ActionKind,
    pub by: Uuid,
}

/// The advocate's note of the action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionPersonal {
    pub text: String,
}

/// The client's authority to share, given or changed; `scope: None` means withdrawn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecorded {
    pub on: Date,
    pub scope: Option<ShareScope>,
    pub by: Uuid,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closed {
    pub on: Date,
    pub outcome: CaseOutcome,
    pub reason: ClosureReason,
    pub by: Uuid,
}

/// The client's own view of the outcome, when they gave one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedPersonal {
    pub client_view: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reopened {
    pub on: Date,
    pub by: Uuid,
}

/// Why the case was reopened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReopenedPersonal {
    pub reason: String,
}

/// The case handed to another advocate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assigned {
    pub advocate: Uuid,
    pub by: Uuid,
}

/// Every event of a case. A personal part is always `Some` when a command makes it; `None` means
/// the client's data was erased.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Referred(Referred, Option<ReferralPersonal>),
    Accepted(Accepted),
    Declined(Declined, Option<DeclinedPersonal>),
    ActionRecorded(ActionRecorded, Option<ActionPersonal>),
    ConsentRecorded(ConsentRecorded),
    Closed(Closed, Option<ClosedPersonal>),
    Reopened(Reopened, Option<ReopenedPersonal>),
    Assigned(Assigned),
}

impl Event {
    pub fn event_type(&self) -> &'static str {
        match self {
            Event::Referred(..) => contract::CaseReferred::TYPE,
            Event::Accepted(_) => "CaseAccepted",
            Event::Declined(..) => "CaseDeclined",
            Event::ActionRecorded(..) => "CaseActionRecorded",
            Event::ConsentRecorded(_) => "CaseConsentRecorded",
            Event::Closed(..) => "CaseClosed",
            Event::Reopened(..) => "CaseReopened",
            Event::Assigned(_) => heard_contracts::privacy::CaseAssigned::TYPE,
        }
    }
}

/// A case as its events have made it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub id: Uuid,
    pub client: Uuid,
    pub linked_to: Option<Uuid>,
    pub kind: AdvocacyKind,
    pub source: ReferralSource,
    pub domain: CaseDomain,
    pub themes: BTreeSet<String>,
    pub provider: Option<String>,
    pub articles: BTreeSet<u32>,
    /// The advocate working the case now.
    pub advocate: Uuid,
    pub referred_by: Uuid,
    pub referred_on: Date,
    pub state: CaseState,
    /// `None` once the client's data was erased.
    pub personal: Option<ReferralPersonal>,
    pub accepted_on: Option<Date>,
    pub declined: Option<(Declined, Option<DeclinedPersonal>)>,
    pub actions: Vec<(ActionRecorded, Option<ActionPersonal>)>,
    /// The latest consent recorded (its `scope` is `None` when withdrawn).
    pub consent: Option<ConsentRecorded>,
    pub consent_history: Vec<ConsentRecorded>,
    /// Every closure, oldest first.
    pub closures: Vec<(Closed, Option<ClosedPersonal>)>,
    pub reopenings: Vec<(Reopened, Option<ReopenedPersonal>)>,
    pub assignments: Vec<Assigned>,
    /// The stream revision of the last event applied (the referral alone is 0).
    pub revision: u64,
}

impl Case {
    /// Folds a case's events; `None` when the first is not `Referred`.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> Option<Case> {
        let mut events = events.into_iter();
        let Event::Referred(referred, personal) = events.next()? else {
            return None;
        };
        let mut case = Case {
            id: referred.case,
            client: referred.client,
            linked_to: referred.linked_to,
            kind: referred.kind,
            source: referred.source,
            domain: referred.domain,
            themes: referred.themes.clone(),
            provider: referred.provider.clone(),
            articles: referred.articles.clone(),
            advocate: referred.advocate,
            referred_by: referred.referred_by,
            referred_on: referred.referred_on,
            state: CaseState::Referred,
            personal: personal.clone(),
            accepted_on: None,
            declined: None,
            actions: Vec::new(),
            consent: None,
            consent_history: Vec::new(),
            closures: Vec::new(),
            reopenings: Vec::new(),
            assignments: Vec::new(),
            revision: 0,
        };
        for event in events {
            case.apply(event);
        }
        Some(case)
    }

    /// Applies a later event. (`Referred` starts a case: see [`Case::from_events`].)
    pub fn apply(&mut self, event: &Event) {
        self.revision += 1;
        match event {
            Event::Referred(..) => {}
            Event::Accepted(accepted) => {
                self.state = CaseState::Accepted;
                self.accepted_on = Some(accepted.on);
            }
            Event::Declined(declined, personal) => {
                self.state = CaseState::Declined;
                self.declined = Some((declined.clone(), personal.clone()));
            }
            Event::ActionRecorded(action, personal) => {
                self.actions.push((action.clone(), personal.clone()));
                if self.state == CaseState::Accepted {
                    self.state = CaseState::Active;
                }
            }
            Event::ConsentRecorded(consent) => {
                self.consent = Some(consent.clone());
                self.consent_history.push(consent.clone());
            }
            Event::Closed(closed, personal) => {
                self.state = CaseState::Closed;
                self.closures.push((closed.clone(), personal.clone()));
            }
            Event::Reopened(reopened, personal) => {
                self.state = CaseState::Active;
                self.reopenings.push((reopened.clone(), personal.clone()));
            }
            Event::Assigned(assigned) => {
                self.advocate = assigned.advocate;
                self.assignments.push(assigned.clone());
            }
        }
    }

    /// Still being worked: referred, accepted or active.
    pub fn is_open(&self) -> bool {
        matches!(self.state, CaseState::Referred | CaseState::Accepted | CaseState::Active)
    }

    /// The day the case closed, while it is closed.
    pub fn closed_on(&self) -> Option<Date> {
        self.current_closure().map(|(closed, _)| closed.on)
    }

    /// The closure in force: the last one, while the case is closed (`None` once reopened).
    pub fn current_closure(&self) -> Option<&(Closed, Option<ClosedPersonal>)> {
        if self.state == CaseState::Closed { self.closures.last() } else { None }
    }

    /// The client's authority to share now (`None`: never given, or withdrawn).
    pub fn consent_in_force(&self) -> Option<ShareScope> {
        self.consent.as_ref().and_then(|consent| consent.scope)
    }
}

/// Reference data a new case is checked against.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Known {
    pub themes: BTreeSet<String>,
    pub providers: BTreeSet<String>,
    pub articles: BTreeSet<u32>,
    pub advocates: BTreeSet<Uuid>,
}

/// What someone typed to refer a case.
#[derive(Clone, Debug)]
pub struct NewCase<'a> {
    pub case: Uuid,
    pub client: Uuid,
    /// The client's earlier case, when this is a further issue for the same person.
    pub linked_to: Option<&'a Case>,
    pub kind: AdvocacyKind,
    pub source: ReferralSource,
    pub domain: CaseDomain,
    pub themes: Vec<String>,
    pub provider: Option<String>,
    pub articles: Vec<u32>,
    pub advocate: Uuid,
    pub referred_by: Uuid,
    pub referred_on: Date,
    /// Blank or absent: "Client " and the first four characters of the client id.
    pub pseudonym: Option<String>,
    pub name: Option<String>,
    pub contact: Option<String>,
    pub issue: String,
}

/// The pseudonym a client gets when they do not choose one: `Client 3F2A`.
pub fn default_pseudonym(client: Uuid) -> String {
    let hex = client.simple().to_string();
    format!("Client {}", hex[..4].to_uppercase())
}

fn conflict(message: &str) -> Rejection {
    Rejection::Conflict(message.to_owned())
}

fn reason(text: &str) -> Result<String, Rejection> {
    required("reason", text, 1000, "give a reason in 1–1000 characters")
}

/// A date on the case: not before the referral and not in the future.
fn on_the_case(case: &Case, on: Date, today: Date) -> Result<(), Rejection> {
    if on < case.referred_on {
        return Err(invalid("on", "the date cannot be before the case was referred"));
    }
    if on > today {
        return Err(invalid("on", "the date cannot be in the future"));
    }
    Ok(())
}

/// A day as people in the UK write it: `3 November 2026` (the one wording every service uses).
pub use heard_workdays::uk_day;

/// The day an action happened: not before the referral and not in the future, refused in words
/// that name the field and the days it must lie between.
fn action_day(case: &Case, on: Date, today: Date) -> Result<(), Rejection> {
    if on < case.referred_on {
        let referred = uk_day(case.referred_on);
        return Err(invalid(
            "on",
            format!("the date of the action cannot be before the case was referred on {referred}"),
        ));
    }
    if on > today {
        return Err(invalid("on", format!("the date of the action cannot be in the future (after {})", uk_day(today))));
    }
    Ok(())
}

const DECLINED: &str = "this case was declined; refer it again if things have changed";

/// Refuses anything but an accepted or active case: a referred or a closed one in the words
/// given, a declined one as declined.
fn being_worked(case: &Case, when_referred: &str, when_closed: &str) -> Result<(), Rejection> {
    match case.state {
        CaseState::Accepted | CaseState::Active => Ok(()),
        CaseState::Referred => Err(conflict(when_referred)),
        CaseState::Declined => Err(conflict(DECLINED)),
        CaseState::Closed => Err(conflict(when_closed)),
    }
}

/// Opens a case, checked against the reference data.
pub fn refer(new: NewCase, known: &Known, today: Date) -> Result<Event, Rejection> {
    if let Some(linked) = new.linked_to {
        if linked.id == new.case {
            return Err(invalid("linkedTo", "a case cannot be linked to itself"));
        }
        if linked.client != new.client {
            return Err(invalid("linkedTo", "a linked case must be for the same client"));
        }
    }
    let issue = required("issue", &new.issue, MAX_ISSUE_CHARS, "describe the issue in 1–5000 characters")?;
    let pseudonym = match optional("pseudonym", new.pseudonym.as_deref(), 60, "keep the pseudonym to 60 characters")? {
        Some(pseudonym) => pseudonym,
        None => default_pseudonym(new.client),
    };
    let name = optional("name", new.name.as_deref(), 200, "keep the name to 200 characters")?;
    let contact = optional("contact", new.contact.as_deref(), 200, "keep the contact details to 200 characters")?;
    let mut themes = BTreeSet::new();
    for (index, theme) in new.themes.iter().enumerate() {
        let theme = theme.trim();
        if !known.themes.contains(theme) {
            return Err(invalid(&format!("themes[{index}]"), "there is no such theme"));
        }
        themes.insert(theme.to_owned());
    }
    let provider = new.provider.as_deref().map(str::trim).filter(|provider| !provider.is_empty());
    if let Some(provider) = provider
        && !known.providers.contains(provider)
    {
        return Err(invalid("provider", "there is no such provider; choose one from the list"));
    }
    for (index, article) in new.articles.iter().enumerate() {
        if !known.articles.contains(article) {
            return Err(invalid(&format!("articles[{index}]"), "the charter has no such article"));
        }
    }
    if !known.advocates.contains(&new.advocate) {
        return Err(invalid("advocateId", "choose an advocate"));
    }
    if new.referred_on > today {
        return Err(invalid("referredOn", "the date cannot be in the future"));
    }
    if new.referred_on < date(2000, 1, 1) {
        return Err(invalid("referredOn", "the date cannot be before 2000"));
    }
    Ok(Event::Referred(
        Referred {
            case: new.case,
            client: new.client,
            linked_to: new.linked_to.map(|linked| linked.id),
            kind: new.kind,
            source: new.source,
            domain: new.domain,
            themes,
            provider: provider.map(str::to_owned),
            articles: new.articles.into_iter().collect(),
            advocate: new.advocate,
            referred_by: new.referred_by,
            referred_on: new.referred_on,
        },
        Some(ReferralPersonal { pseudonym, name, contact, issue }),
    ))
}

/// Takes on a referred case.
pub fn accept(case: &Case, by: Uuid, on: Date, today: Date) -> Result<Event, Rejection> {
    match case.state {
        CaseState::Referred => {}
        CaseState::Declined => return Err(conflict(DECLINED)),
        _ => return Err(conflict("this case has already been accepted")),
    }
    on_the_case(case, on, today)?;
    Ok(Event::Accepted(Accepted { on, by }))
}

/// Turns down a referred case, saying why.
pub fn decline(case: &Case, by: Uuid, on: Date, why: &str, today: Date) -> Result<Event, Rejection> {
    match case.state {
        CaseState::Referred => {}
        CaseState::Declined => return Err(conflict("this case has already been declined")),
        CaseState::Closed => return Err(conflict("this case is closed")),
        CaseState::Accepted | CaseState::Active => return Err(conflict("this case has already been accepted")),
    }
    on_the_case(case, on, today)?;
    Ok(Event::Declined(Declined { on, by }, Some(DeclinedPersonal { reason: reason(why)? })))
}

/// Records what the advocate did (a meeting, an appointment they went to, a letter, a call, a
/// note) on the day it happened, which may be earlier than the day it is recorded.
pub fn record_action(
    case: &Case,
    action: Uuid,
    by: Uuid,
    on: Date,
    kind: ActionKind,
    text: &str,
    today: Date,
) -> Result<Event, Rejection> {
    being_worked(case, "accept the case before recording actions", "this case is closed; reopen it to record more")?;
    if case.actions.iter().any(|(recorded, _)| recorded.action == action) {
        return Err(conflict("this action is already recorded"));
    }
    action_day(case, on, today)?;
    let text = required("text", text, MAX_ACTION_CHARS, "write the note in 1–10000 characters")?;
    Ok(Event::ActionRecorded(ActionRecorded { action, on, kind, by }, Some(ActionPersonal { text })))
}

/// Records the client's authority to share (`scope`), or its withdrawal (`None`).
pub fn record_consent(
    case: &Case,
    by: Uuid,
    on: Date,
    scope: Option<ShareScope>,
    today: Date,
) -> Result<Event, Rejection> {
    match scope {
        Some(_) if case.state == CaseState::Declined => return Err(conflict(DECLINED)),
        Some(_) if case.state == CaseState::Closed => {
            return Err(conflict("this case is closed; reopen it to record consent"));
        }
        Some(scope) if case.consent_in_force() == Some(scope) => {
            return Err(conflict("this consent is already recorded"));
        }
        // Withdrawal is always possible, even on a closed case, as long as there is something to withdraw.
        None if case.consent_in_force().is_none() => {
            return Err(conflict("there is no consent in force to withdraw"));
        }
        _ => {}
    }
    on_the_case(case, on, today)?;
    Ok(Event::ConsentRecorded(ConsentRecorded { on, scope, by }))
}

/// Closes an accepted case with its outcome. For instructed advocacy the client's own view of
/// the outcome is required; a client of non-instructed advocacy may be unable to give one.
pub fn close(
    case: &Case,
    by: Uuid,
    on: Date,
    outcome: CaseOutcome,
    reason: ClosureReason,
    client_view: Option<&str>,
    today: Date,
) -> Result<Event, Rejection> {
    being_worked(case, "accept or decline the case first", "this case is already closed")?;
    on_the_case(case, on, today)?;
    if let Some((reopened, _)) = case.reopenings.last()
        && on < reopened.on
    {
        return Err(invalid("on", "the date cannot be before the case was reopened"));
    }
    let client_view =
        optional("clientView", client_view, MAX_CLIENT_VIEW_CHARS, "keep the client's view to 2000 characters")?;
    if client_view.is_none() && case.kind == AdvocacyKind::Instructed {
        return Err(invalid("clientView", "record the client's own view of the outcome"));
    }
    Ok(Event::Closed(Closed { on, outcome, reason, by }, Some(ClosedPersonal { client_view })))
}

/// Reopens a closed case, saying why. The closure stays on record.
pub fn reopen(case: &Case, by: Uuid, on: Date, why: &str, today: Date) -> Result<Event, Rejection> {
    match case.state {
        CaseState::Closed => {}
        CaseState::Declined => return Err(conflict(DECLINED)),
        _ => return Err(conflict("this case is open; only a closed case can be reopened")),
    }
    on_the_case(case, on, today)?;
    if let Some((closed, _)) = case.closures.last()
        && on < closed.on
    {
        return Err(invalid("on", "the date cannot be before the case was closed"));
    }
    Ok(Event::Reopened(Reopened { on, by }, Some(ReopenedPersonal { reason: reason(why)? })))
}

/// Hands an open case to another advocate.
pub fn assign(case: &Case, by: Uuid, advocate: Uuid, known_advocates: &BTreeSet<Uuid>) -> Result<Event, Rejection> {
    if !case.is_open() {
        return Err(conflict("this case is closed"));
    }
    if !known_advocates.contains(&advocate) {
        return Err(invalid("advocateId", "choose one of the advocates listed; that account is not an advocate"));
    }
    if case.advocate == advocate {
        return Err(conflict("this case is already assigned to that advocate"));
    }
    Ok(Event::Assigned(Assigned { advocate, by }))
}
