//! Heard's one access policy.
//!
//! Every service asks [`may`] before it reads or changes anything on someone's behalf; no
//! resolver decides access by itself. The policy is pure: it knows roles and scopes (hubs, a
//! provider, case assignment), never storage or HTTP, so it can be tested as a whole matrix of
//! role × action × scope (see the tests at the bottom of this file).
//!
//! A denial says whether the resource must be **concealed**: for reads of scoped records, a
//! person outside the scope is told "not found", so they cannot even learn that the record
//! exists.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a person does in Heard. An account holds one or more.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Logs feedback heard at forums, drop-ins and one-to-ones for their hub(s).
    HubMember,
    /// Runs a hub: moderates, redacts and decides what leaves the hub.
    HubCoordinator,
    /// Works advocacy cases assigned to them.
    Advocate,
    /// Works Bill of Rights complaints.
    ComplaintsHandler,
    /// Receives shared feedback and records commissioning decisions.
    Commissioner,
    /// Responds, for one provider, to feedback and complaints about it.
    ProviderResponder,
    /// Manages accounts and reference data.
    Administrator,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::HubMember,
        Role::HubCoordinator,
        Role::Advocate,
        Role::ComplaintsHandler,
        Role::Commissioner,
        Role::ProviderResponder,
        Role::Administrator,
    ];

    /// The name used in config, the CLI and events: `hub_coordinator`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::HubMember => "hub_member",
            Role::HubCoordinator => "hub_coordinator",
            Role::Advocate => "advocate",
            Role::ComplaintsHandler => "complaints_handler",
            Role::Commissioner => "commissioner",
            Role::ProviderResponder => "provider_responder",
            Role::Administrator => "administrator",
        }
    }

    /// Whether the role only makes sense with at least one hub.
    pub fn needs_hub(self) -> bool {
        matches!(self, Role::HubMember | Role::HubCoordinator)
    }

    /// Whether the role only makes sense with a provider.
    pub fn needs_provider(self) -> bool {
        matches!(self, Role::ProviderResponder)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    /// Accepts `hub_coordinator`, `hub-coordinator`, `HUB_COORDINATOR` or `hub coordinator`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Role::ALL.into_iter().find(|role| role.as_str() == wanted).ok_or_else(|| {
            let names: Vec<&str> = Role::ALL.iter().map(|role| role.as_str()).collect();
            format!("`{text}` is not a role; use one of {}", names.join(", "))
        })
    }
}

/// Who is asking: an account's roles and scopes, or nobody (not logged in).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Actor {
    /// `None` when nobody is logged in.
    pub account: Option<Uuid>,
    pub roles: BTreeSet<Role>,
    /// Hub ids the account belongs to (hub members and coordinators).
    pub hubs: BTreeSet<String>,
    /// The provider a provider responder answers for.
    pub provider: Option<String>,
}

impl Actor {
    /// Nobody logged in.
    pub fn anonymous() -> Self {
        Actor::default()
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn is_authenticated(&self) -> bool {
        self.account.is_some()
    }

    fn is_admin(&self) -> bool {
        self.has(Role::Administrator)
    }

    fn is(&self, account: Uuid) -> bool {
        self.account == Some(account)
    }

    /// Coordinates one of `hubs`.
    fn coordinates_any(&self, hubs: &BTreeSet<String>) -> bool {
        self.has(Role::HubCoordinator) && !self.hubs.is_disjoint(hubs)
    }
}

/// What someone wants to do. Later issues add their operations here, and to the matrix test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// See one account (name, email, roles, scopes, lockout).
    ViewAccount,
    /// List accounts; each one listed is then checked with `ViewAccount`.
    ListAccounts,
    /// See the directory of advocates (each one's account id and display name, nothing more),
    /// to hand a case to one of them: advocates and administrators.
    ListAdvocates,
    /// See the coordinators of one hub (each one's account id and display name, nothing more),
    /// to send a disclosure of risk to one of them by name or hand it to another: the hub's
    /// members and coordinators, and administrators.
    ListCoordinators,
    /// See the directory of complaints handlers (each one's account id and display name,
    /// nothing more), to assign a complaint to one of them: complaints handlers only, the
    /// people who may assign.
    ListComplaintHandlers,
    CreateAccount,
    /// Change roles and scopes.
    ChangeRoles,
    /// Lift a lockout after failed logins.
    UnlockAccount,
    /// Deactivate an account (its sessions and API tokens end at once, and it cannot log in)
    /// or reactivate it.
    DeactivateAccount,
    /// Give an account a new one-time password, which the person changes at their next login.
    ResetPassword,
    /// See or end an account's sessions.
    ManageSessions,
    /// See, create or revoke an account's API tokens.
    ManageApiTokens,
    /// Read who viewed or was refused what.
    ViewAccessLog,
    /// Hubs, the Forum and providers.
    ViewReferenceData,
    EditReferenceData,
    /// Log what someone said, for a hub.
    LogFeedback,
    /// Read a feedback item (the policy also says which version: see [`feedback_view`]).
    ViewFeedback,
    /// Redact, share or hold an item before it leaves the hub.
    ModerateFeedback,
    /// Record that the speaker narrowed or withdrew their consent.
    ChangeConsent,
    /// Flag a disclosure of risk, which routes the item to a named coordinator.
    FlagSafeguarding,
    /// See a hub's moderation queue, or your own safeguarding queue.
    ViewQueue,
    /// Follow up disclosures of risk: hub coordinators have the safeguarding page. One
    /// disclosure (its words, its follow-up, recording what was done, handing it over, marking
    /// it dealt with) is for the coordinator it is with, in its hub, alone; a hub's coordinators
    /// see which of the hub's open disclosures are with whom, never what was said.
    FollowUpSafeguarding,
    /// See and change a hub's gazetteer: the names of people and places its coordinators take
    /// out before anything leaves the hub. It never leaves the hub either.
    KeepGazetteer,
    /// Record a forum meeting for a hub.
    RecordMeeting,
    /// Bring a hub's spreadsheet of what people said into Heard: this hub's coordinators only.
    /// The upload, its preview and its progress are for the coordinator who sent it alone.
    ImportFeedback,
    /// Add, rename or merge themes.
    EditThemes,
    /// Open an advocacy case for someone (assigned to an advocate).
    ReferCase,
    /// Read a case file: the client, the issue, the timeline of actions.
    ViewCase,
    /// Accept, decline, record actions and consent, close, reopen or reassign a case.
    WorkCase,
    /// See advocacy rolled up into systemic themes (counts only, small numbers suppressed).
    ViewAdvocacyThemes,
    /// Record a complaint under the charter of rights.
    RaiseComplaint,
    /// Read a complaint (the provider's view withholds who complained: see `ViewComplainant`).
    ViewComplaint,
    /// See who complained: their name and contact details, and the advocate who relayed it.
    ViewComplainant,
    /// Acknowledge, extend, pause, respond, record outcomes and learning, assign to a handler;
    /// see the overdue queue and the complaints assigned to them.
    HandleComplaint,
    /// See complaint patterns by article, provider, outcome and period (counts only).
    ViewComplaintPatterns,
    /// Propose a commissioning decision, change it, and link or unlink its evidence.
    RecordDecision,
    /// Read commissioning decisions (their evidence is shown only as far as each item allows).
    ViewDecision,
    /// Acknowledge a shared feedback item, or answer it "not acted on, because …".
    AnswerFeedback,
    /// Read a "you said, we did" report; without a login, its public version.
    ViewReport,
    /// Build a "you said, we did" report to take to a meeting (the report builder in the web
    /// UI's tasks): commissioners and hub coordinators. Reading a report is `ViewReport`.
    BuildReport,
    /// Pass on a complaint for someone as their advocate (a complaint "relayed by an
    /// advocate"): advocates.
    RelayComplaint,
    /// Answer, for one provider, for what is said about it: the complaints about it, without
    /// who made them. Each complaint is then checked with `ViewComplaint`.
    AnswerForProvider,
    /// Erase everything Heard holds about a person (a data subject) at their request: those who
    /// hold one of the person's records for them (a coordinator of a hub holding one of their
    /// items, the advocate of one of their cases, complaints handlers when they have a complaint,
    /// the advocate who relayed it). The erasure reaches all of the person's records, and tells
    /// the asker only of those the asker may see.
    EraseSubject,
    /// Subject access: see everything Heard holds about a person, to give it to them. The same
    /// people as [`Action::EraseSubject`]; each record in the answer is still checked with its own
    /// rule (`ViewFeedback`, `ViewCase`, `ViewComplaint`), so nobody sees more than before.
    ViewSubjectAccess,
    /// Say that a record you hold is about a person Heard already knows (`attributeFeedback`,
    /// `logFeedback` with a person, `attributeCase`, `attributeComplaint`), judged on who holds
    /// the person's records before it ([`Resource::Attribution`]); the record itself is checked
    /// with its own rule first. Allowed when you may already act for the person
    /// ([`Action::EraseSubject`]), or when nobody holds a record of theirs of the same kind yet
    /// (a link between services, made with the code the person carries). To anyone else the
    /// person is concealed: naming their code must not give someone a say over records another
    /// hub or another advocate holds for them.
    AttributeToPerson,
}

impl Action {
    pub const ALL: [Action; 45] = [
        Action::ViewAccount,
        Action::ListAccounts,
        Action::ListAdvocates,
        Action::ListComplaintHandlers,
        Action::ListCoordinators,
        Action::CreateAccount,
        Action::ChangeRoles,
        Action::UnlockAccount,
        Action::DeactivateAccount,
        Action::ResetPassword,
        Action::ManageSessions,
        Action::ManageApiTokens,
        Action::ViewAccessLog,
        Action::ViewReferenceData,
        Action::EditReferenceData,
        Action::LogFeedback,
        Action::ViewFeedback,
        Action::ModerateFeedback,
        Action::ChangeConsent,
        Action::FlagSafeguarding,
        Action::ViewQueue,
        Action::FollowUpSafeguarding,
        Action::KeepGazetteer,
        Action::RecordMeeting,
        Action::ImportFeedback,
        Action::EditThemes,
        Action::ReferCase,
        Action::ViewCase,
        Action::WorkCase,
        Action::ViewAdvocacyThemes,
        Action::RaiseComplaint,
        Action::ViewComplaint,
        Action::ViewComplainant,
        Action::HandleComplaint,
        Action::ViewComplaintPatterns,
        Action::RecordDecision,
        Action::ViewDecision,
        Action::AnswerFeedback,
        Action::ViewReport,
        Action::BuildReport,
        Action::RelayComplaint,
        Action::AnswerForProvider,
        Action::EraseSubject,
        Action::ViewSubjectAccess,
        Action::AttributeToPerson,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::ViewAccount => "view_account",
            Action::ListAccounts => "list_accounts",
            Action::ListAdvocates => "list_advocates",
            Action::ListCoordinators => "list_coordinators",
            Action::ListComplaintHandlers => "list_complaint_handlers",
            Action::CreateAccount => "create_account",
            Action::ChangeRoles => "change_roles",
            Action::UnlockAccount => "unlock_account",
            Action::DeactivateAccount => "deactivate_account",
            Action::ResetPassword => "reset_password",
            Action::ManageSessions => "manage_sessions",
            Action::ManageApiTokens => "manage_api_tokens",
            Action::ViewAccessLog => "view_access_log",
            Action::ViewReferenceData => "view_reference_data",
            Action::EditReferenceData => "edit_reference_data",
            Action::LogFeedback => "log_feedback",
            Action::ViewFeedback => "view_feedback",
            Action::ModerateFeedback => "moderate_feedback",
            Action::ChangeConsent => "change_consent",
            Action::FlagSafeguarding => "flag_safeguarding",
            Action::ViewQueue => "view_queue",
            Action::FollowUpSafeguarding => "follow_up_safeguarding",
            Action::KeepGazetteer => "keep_gazetteer",
            Action::RecordMeeting => "record_meeting",
            Action::ImportFeedback => "import_feedback",
            Action::EditThemes => "edit_themes",
            Action::ReferCase => "refer_case",
            Action::ViewCase => "view_case",
            Action::WorkCase => "work_case",
            Action::ViewAdvocacyThemes => "view_advocacy_themes",
            Action::RaiseComplaint => "raise_complaint",
            Action::ViewComplaint => "view_complaint",
            Action::ViewComplainant => "view_complainant",
            Action::HandleComplaint => "handle_complaint",
            Action::ViewComplaintPatterns => "view_complaint_patterns",
            Action::RecordDecision => "record_decision",
            Action::ViewDecision => "view_decision",
            Action::AnswerFeedback => "answer_feedback",
            Action::ViewReport => "view_report",
            Action::BuildReport => "build_report",
            Action::RelayComplaint => "relay_complaint",
            Action::AnswerForProvider => "answer_for_provider",
            Action::EraseSubject => "erase_subject",
            Action::ViewSubjectAccess => "view_subject_access",
            Action::AttributeToPerson => "attribute_to_person",
        }
    }

    /// Actions about accounts and reference data, which administrators may always take.
    /// Administrators get no content (feedback, cases, complaints) by virtue of the role.
    pub fn is_administrative(self) -> bool {
        matches!(
            self,
            Action::ViewAccount
                | Action::ListAccounts
                | Action::ListAdvocates
                | Action::ListCoordinators
                | Action::CreateAccount
                | Action::ChangeRoles
                | Action::UnlockAccount
                | Action::DeactivateAccount
                | Action::ResetPassword
                | Action::ManageSessions
                | Action::ManageApiTokens
                | Action::ViewAccessLog
                | Action::EditReferenceData
                | Action::EditThemes
        )
    }
}

/// How far a speaker agreed their words may go. Ordered: each scope includes the ones before.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Consent {
    /// The hub only.
    Hub,
    /// The hub and commissioners (and the provider it is about).
    Commissioners,
    /// Anyone: published.
    Public,
}

/// What the policy needs to know about a feedback item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedbackFacts {
    pub item: Uuid,
    pub hub: String,
    pub provider: Option<String>,
    /// `None` once the speaker withdrew consent.
    pub consent: Option<Consent>,
    /// A hub coordinator approved it to leave the hub.
    pub shared: bool,
    /// The coordinator whose safeguarding queue holds it, if a risk was disclosed.
    pub safeguarding: Option<Uuid>,
}

/// Which version of a feedback item someone sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedbackView {
    /// The hub's own record: the original words, redactions shown as proposals.
    Hub,
    /// Outside the hub: the redacted words only.
    Shared,
}

/// Which version of an item `actor` may see, if any. The one rule for every list, search,
/// report and subscription that shows feedback.
pub fn feedback_view(actor: &Actor, facts: &FeedbackFacts) -> Option<FeedbackView> {
    let reach = feedback_reach(actor);
    if let Some(coordinator) = facts.safeguarding {
        // A disclosure of risk goes to a person with a duty of care, and nowhere else.
        return (actor.is(coordinator) && actor.has(Role::HubCoordinator)).then_some(FeedbackView::Hub);
    }
    if reach.own_hubs.contains(&facts.hub) {
        return Some(FeedbackView::Hub);
    }
    let consent = facts.consent?;
    if !facts.shared {
        return None;
    }
    let commissioners = consent >= Consent::Commissioners
        && match &reach.shared {
            SharedReach::Commissioners => true,
            SharedReach::Provider(provider) => facts.provider.as_ref() == Some(provider),
            SharedReach::Public => false,
        };
    (commissioners || consent == Consent::Public).then_some(FeedbackView::Shared)
}

/// What an asker may see of feedback as a whole, before any one item's facts: the hubs whose
/// own (unredacted) words they read, and which shared items reach them. Search builds its
/// visibility clauses from this, and [`feedback_view`] judges each item with it, so the two
/// cannot drift apart. Safeguarding items are outside it: they reach only their coordinator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedbackReach {
    /// Hubs whose own words the asker reads (members and coordinators of those hubs).
    pub own_hubs: BTreeSet<String>,
    /// Which shared (redacted) items reach the asker.
    pub shared: SharedReach,
}

/// Which shared items reach an asker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SharedReach {
    /// Only items the speaker agreed to make public.
    Public,
    /// Items shared with commissioners, and public ones.
    Commissioners,
    /// Items about this provider shared with commissioners, and public ones.
    Provider(String),
}

/// The asker's [`FeedbackReach`].
pub fn feedback_reach(actor: &Actor) -> FeedbackReach {
    let in_hubs = actor.has(Role::HubMember) || actor.has(Role::HubCoordinator);
    let own_hubs = if in_hubs { actor.hubs.clone() } else { BTreeSet::new() };
    let shared = if actor.has(Role::Commissioner) {
        SharedReach::Commissioners
    } else if let (true, Some(provider)) = (actor.has(Role::ProviderResponder), &actor.provider) {
        SharedReach::Provider(provider.clone())
    } else {
        SharedReach::Public
    };
    FeedbackReach { own_hubs, shared }
}

/// Whether safeguarding disclosures of `hub` may be routed to the account with these roles and
/// hubs: the people with a duty of care there, its coordinators.
pub fn takes_safeguarding_for(roles: &BTreeSet<Role>, hubs: &BTreeSet<String>, hub: &str) -> bool {
    roles.contains(&Role::HubCoordinator) && hubs.contains(hub)
}

/// Whether advocacy cases may be handed to the account with these roles: it holds the advocate
/// role. The directory of advocates lists exactly these accounts.
pub fn can_be_handed_cases(roles: &BTreeSet<Role>) -> bool {
    roles.contains(&Role::Advocate)
}

/// Whether complaints may be assigned to the account with these roles: it holds the complaints
/// handler role. The directory of complaints handlers lists exactly these accounts.
pub fn can_be_assigned_complaints(roles: &BTreeSet<Role>) -> bool {
    roles.contains(&Role::ComplaintsHandler)
}

/// Whether `actor` could act for some person at all (erase them, or see what is held about
/// them): whether the policy would allow [`Action::EraseSubject`] for a person whose records
/// are all within the actor's reach. Each person is still judged with their own facts; this
/// only spares everyone else forms they could never use.
pub fn may_act_for_people(actor: &Actor) -> bool {
    let anyone = PersonFacts {
        person: Uuid::nil(),
        hubs: actor.hubs.clone(),
        advocates: actor.account.into_iter().collect(),
        complained: true,
        relayed_by: BTreeSet::new(),
    };
    may(actor, Action::EraseSubject, &Resource::Person(anyone)).is_allowed()
}

/// Counts below this are never shown in a roll-up, so that nobody can be recognised from a
/// small number ("the one person at Arun who complained about prescribing in March").
pub const SUPPRESS_BELOW: u64 = 5;

/// A count as it may be shown in a roll-up: `None` (suppressed) when it is 1 to 4. Zero is
/// shown, since it identifies nobody.
pub fn publishable_count(count: u64) -> Option<u64> {
    (count == 0 || count >= SUPPRESS_BELOW).then_some(count)
}

/// What an action is about, with the facts the policy needs to judge scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resource {
    /// The system as a whole: lists, the access log, creating accounts.
    System,
    /// One account, with the hubs it belongs to.
    Account { id: Uuid, hubs: BTreeSet<String> },
    /// Something owned by one account: its sessions or API tokens.
    OwnedBy { account: Uuid },
    /// Hubs, the Forum, providers.
    ReferenceData,
    /// One hub: logging feedback for it, its meetings, its moderation queue.
    Hub { hub: String },
    /// One feedback item.
    Feedback(FeedbackFacts),
    /// The theme vocabulary.
    Themes,
    /// One advocacy case.
    Case(CaseFacts),
    /// One complaint.
    Complaint(ComplaintFacts),
    /// One person (a data subject), with who holds their records.
    Person(PersonFacts),
    /// A person someone says a record of theirs, of kind `record`, is about: with who holds the
    /// person's records before it.
    Attribution { person: PersonFacts, record: PersonRecord },
}

/// What the policy needs to know about a person (a data subject): who holds their records.
/// Built from the records said to be about them; a person with no records has empty facts,
/// and nobody may act for them.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PersonFacts {
    pub person: Uuid,
    /// The hubs holding feedback items of theirs.
    pub hubs: BTreeSet<String>,
    /// The advocates their cases are assigned to.
    pub advocates: BTreeSet<Uuid>,
    /// Whether they have a complaint.
    pub complained: bool,
    /// The advocates who relayed a complaint of theirs.
    pub relayed_by: BTreeSet<Uuid>,
}

impl PersonFacts {
    /// Whether someone holds a record of this kind of theirs: a hub an item, an advocate a case,
    /// complaints handlers a complaint.
    pub fn held_as(&self, record: PersonRecord) -> bool {
        match record {
            PersonRecord::FeedbackItem => !self.hubs.is_empty(),
            PersonRecord::Case => !self.advocates.is_empty(),
            PersonRecord::Complaint => self.complained,
        }
    }
}

/// The kinds of record that are said to be a person's, each held in one service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonRecord {
    /// A feedback item, held by its hub.
    FeedbackItem,
    /// An advocacy case, held by the advocate it is assigned to.
    Case,
    /// A complaint, held by complaints handlers (and the advocate who relayed it).
    Complaint,
}

/// What the policy needs to know about an advocacy case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseFacts {
    pub case: Uuid,
    /// The advocate it is assigned to.
    pub advocate: Uuid,
}

/// What the policy needs to know about a complaint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComplaintFacts {
    pub complaint: Uuid,
    /// The provider it is about.
    pub provider: String,
    /// The advocate who relayed it, when the complainant asked one to.
    pub relayed_by: Option<Uuid>,
}

impl Resource {
    /// A non-personal description for the access log: a kind and an opaque id.
    pub fn kind_and_id(&self) -> (&'static str, Option<String>) {
        match self {
            Resource::System => ("system", None),
            Resource::Account { id, .. } => ("account", Some(id.to_string())),
            Resource::OwnedBy { account } => ("account", Some(account.to_string())),
            Resource::ReferenceData => ("reference_data", None),
            Resource::Hub { hub } => ("hub", Some(hub.clone())),
            Resource::Feedback(facts) => ("feedback", Some(facts.item.to_string())),
            Resource::Themes => ("themes", None),
            Resource::Case(facts) => ("case", Some(facts.case.to_string())),
            Resource::Complaint(facts) => ("complaint", Some(facts.complaint.to_string())),
            Resource::Person(facts) | Resource::Attribution { person: facts, .. } => {
                ("person", Some(facts.person.to_string()))
            }
        }
    }
}

/// The policy's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny(Denial),
}

/// Why an action was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Denial {
    /// Plain words, safe to show (no personal data).
    pub reason: &'static str,
    /// Whether to answer as if the resource did not exist (`NOT_FOUND`) rather than `FORBIDDEN`.
    pub conceal: bool,
    /// Whether the asker is not logged in at all (`UNAUTHENTICATED`).
    pub unauthenticated: bool,
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        matches!(self, Decision::Allow)
    }

    fn deny(reason: &'static str) -> Decision {
        Decision::Deny(Denial { reason, conceal: false, unauthenticated: false })
    }

    fn conceal(reason: &'static str) -> Decision {
        Decision::Deny(Denial { reason, conceal: true, unauthenticated: false })
    }

    fn login() -> Decision {
        Decision::Deny(Denial { reason: "you need to log in first", conceal: false, unauthenticated: true })
    }
}

/// May `actor` do `action` to `resource`? The only place in Heard that decides.
pub fn may(actor: &Actor, action: Action, resource: &Resource) -> Decision {
    use Action::*;
    if matches!(action, ViewReferenceData | ViewReport) {
        // Hub and provider names are public, and so is "you said, we did": each report shows
        // only what the asker may see (the public version to someone not logged in).
        return Decision::Allow;
    }
    if let (ViewFeedback, Resource::Feedback(facts)) = (action, resource) {
        // Public feedback needs no login; anything else not visible is concealed.
        return match feedback_view(actor, facts) {
            Some(_) => Decision::Allow,
            None => Decision::conceal("this feedback is not shared with you"),
        };
    }
    if !actor.is_authenticated() {
        return Decision::login();
    }
    if actor.is_admin() && action.is_administrative() {
        return Decision::Allow;
    }
    let in_hub = |hub: &String, roles: &[Role]| actor.hubs.contains(hub) && roles.iter().any(|role| actor.has(*role));
    const HUB_ROLES: [Role; 2] = [Role::HubMember, Role::HubCoordinator];
    match (action, resource) {
        (ViewAccount, Resource::Account { id, hubs }) => {
            if actor.is(*id) || actor.coordinates_any(hubs) {
                Decision::Allow
            } else {
                Decision::conceal("this account is outside your hubs")
            }
        }
        (ListAccounts, Resource::System) if actor.has(Role::HubCoordinator) => Decision::Allow,
        (ListAccounts, _) => Decision::deny("only administrators and hub coordinators can list accounts"),
        (ListAdvocates, Resource::System) if actor.has(Role::Advocate) => Decision::Allow,
        (ListAdvocates, _) => Decision::deny("only advocates and administrators can see the directory of advocates"),
        (ListCoordinators, Resource::Hub { hub }) if in_hub(hub, &HUB_ROLES) => Decision::Allow,
        (ListCoordinators, _) => Decision::deny("only this hub's members and coordinators can see who coordinates it"),
        (ListComplaintHandlers, Resource::System) if actor.has(Role::ComplaintsHandler) => Decision::Allow,
        (ListComplaintHandlers, _) => {
            Decision::deny("only complaints handlers can see the directory of complaints handlers")
        }
        (ManageSessions | ManageApiTokens, Resource::OwnedBy { account }) if actor.is(*account) => Decision::Allow,
        (ManageSessions | ManageApiTokens, Resource::OwnedBy { .. }) => {
            Decision::conceal("only administrators can manage another account's sessions and tokens")
        }
        (CreateAccount | ChangeRoles | UnlockAccount | DeactivateAccount | ResetPassword, _) => {
            Decision::deny("only administrators can manage accounts")
        }
        (ViewAccessLog, _) => Decision::deny("only administrators can read the access log"),
        (EditReferenceData, _) => Decision::deny("only administrators can change hubs and providers"),
        (LogFeedback | RecordMeeting, Resource::Hub { hub }) if in_hub(hub, &HUB_ROLES) => Decision::Allow,
        // Whether logging feedback is part of what they do at all (for some hub of theirs).
        (LogFeedback, Resource::System) if HUB_ROLES.iter().any(|role| actor.has(*role)) => Decision::Allow,
        (LogFeedback | RecordMeeting, _) => Decision::deny("only members of this hub can do this"),
        (ViewQueue, Resource::Hub { hub }) if in_hub(hub, &[Role::HubCoordinator]) => Decision::Allow,
        (ViewQueue, Resource::System) if actor.has(Role::HubCoordinator) => Decision::Allow,
        (ViewQueue, _) => Decision::deny("only this hub's coordinators can see its queues"),
        (FollowUpSafeguarding, Resource::System) if actor.has(Role::HubCoordinator) => Decision::Allow,
        (FollowUpSafeguarding, Resource::Hub { hub }) if in_hub(hub, &[Role::HubCoordinator]) => Decision::Allow,
        (FollowUpSafeguarding, Resource::Feedback(facts)) => {
            // A disclosure is with one coordinator of its hub; to everyone else it does not exist.
            let with_them = facts.safeguarding.is_some_and(|coordinator| actor.is(coordinator))
                && in_hub(&facts.hub, &[Role::HubCoordinator]);
            if with_them { Decision::Allow } else { Decision::conceal("this disclosure is not with you") }
        }
        (FollowUpSafeguarding, _) => Decision::deny("only a hub's coordinators follow up its disclosures of risk"),
        (KeepGazetteer, Resource::Hub { hub }) if in_hub(hub, &[Role::HubCoordinator]) => Decision::Allow,
        (KeepGazetteer, _) => Decision::deny("only this hub's coordinators keep its names and places"),
        (ImportFeedback, Resource::Hub { hub }) if in_hub(hub, &[Role::HubCoordinator]) => Decision::Allow,
        // Whether importing is part of what they do at all (for some hub of theirs).
        (ImportFeedback, Resource::System) if actor.has(Role::HubCoordinator) => Decision::Allow,
        (ImportFeedback, _) => Decision::deny("only this hub's coordinators can import its spreadsheets"),
        (ModerateFeedback | ChangeConsent | FlagSafeguarding, Resource::Feedback(facts)) => {
            if feedback_view(actor, facts) != Some(FeedbackView::Hub) {
                return Decision::conceal("this feedback is not shared with you");
            }
            match action {
                ModerateFeedback if !in_hub(&facts.hub, &[Role::HubCoordinator]) => {
                    Decision::deny("only this hub's coordinators can moderate its feedback")
                }
                _ => Decision::Allow,
            }
        }
        (EditThemes, _) if actor.has(Role::HubCoordinator) => Decision::Allow,
        (EditThemes, _) => Decision::deny("only hub coordinators and administrators can change themes"),
        // Advocacy: a case file is seen by the advocate it is assigned to, and nobody else.
        (ReferCase, Resource::System) if actor.has(Role::Advocate) => Decision::Allow,
        (ReferCase, _) => Decision::deny("only advocates can open advocacy cases"),
        (ViewCase | WorkCase, Resource::Case(facts)) if actor.has(Role::Advocate) && actor.is(facts.advocate) => {
            Decision::Allow
        }
        (ViewCase | WorkCase, Resource::Case(_)) => Decision::conceal("this case is not assigned to you"),
        (ViewCase | WorkCase, _) => Decision::deny("only advocates work advocacy cases"),
        (ViewAdvocacyThemes, Resource::System) if actor.has(Role::Commissioner) || actor.has(Role::Advocate) => {
            Decision::Allow
        }
        (ViewAdvocacyThemes, _) => Decision::deny("only commissioners and advocates can see advocacy themes"),
        // Complaints: the handler sees everything; the provider sees complaints about itself,
        // never who made them; an advocate follows the complaints they relayed.
        (RaiseComplaint, Resource::System)
            if [Role::ComplaintsHandler, Role::Advocate, Role::HubMember, Role::HubCoordinator]
                .iter()
                .any(|role| actor.has(*role)) =>
        {
            Decision::Allow
        }
        (RaiseComplaint, _) => {
            Decision::deny("complaints are recorded by complaints handlers, advocates and hub members")
        }
        (ViewComplaint | ViewComplainant | HandleComplaint, Resource::Complaint(facts)) => {
            let handler = actor.has(Role::ComplaintsHandler);
            let relayed_it = actor.has(Role::Advocate) && facts.relayed_by.is_some_and(|advocate| actor.is(advocate));
            let provider = actor.has(Role::ProviderResponder) && actor.provider.as_ref() == Some(&facts.provider);
            match action {
                _ if handler => Decision::Allow,
                ViewComplaint | ViewComplainant if relayed_it => Decision::Allow,
                HandleComplaint if relayed_it => Decision::deny("only complaints handlers work complaints"),
                ViewComplaint if provider => Decision::Allow,
                ViewComplainant | HandleComplaint if provider => {
                    Decision::deny("a provider does not see who complained, nor handle the complaint")
                }
                _ => Decision::conceal("this complaint is not shared with you"),
            }
        }
        (HandleComplaint, _) if actor.has(Role::ComplaintsHandler) => Decision::Allow,
        (ViewComplaint | ViewComplainant | HandleComplaint, _) => {
            Decision::deny("only complaints handlers work complaints")
        }
        (ViewComplaintPatterns, Resource::System)
            if actor.has(Role::Commissioner) || actor.has(Role::ComplaintsHandler) =>
        {
            Decision::Allow
        }
        (ViewComplaintPatterns, _) => {
            Decision::deny("only commissioners and complaints handlers can see complaint patterns")
        }
        // Commissioning: commissioners decide; everyone who works in Heard can follow what was
        // decided (administrators get no content by virtue of their role).
        (RecordDecision, _) if actor.has(Role::Commissioner) => Decision::Allow,
        (RecordDecision, _) => Decision::deny("only commissioners record commissioning decisions"),
        (ViewDecision, _) if actor.roles.iter().any(|role| *role != Role::Administrator) => Decision::Allow,
        (ViewDecision, _) => Decision::deny("administrators manage accounts, not commissioning content"),
        (AnswerFeedback, Resource::Feedback(facts)) => match feedback_view(actor, facts) {
            None => Decision::conceal("this feedback is not shared with you"),
            Some(_) if actor.has(Role::Commissioner) => Decision::Allow,
            Some(_) => Decision::deny("only commissioners answer shared feedback"),
        },
        (AnswerFeedback, _) => Decision::deny("only commissioners answer shared feedback"),
        (BuildReport, Resource::System) if actor.has(Role::Commissioner) || actor.has(Role::HubCoordinator) => {
            Decision::Allow
        }
        (BuildReport, _) => Decision::deny("reports are built by commissioners and hub coordinators"),
        (RelayComplaint, Resource::System) if actor.has(Role::Advocate) => Decision::Allow,
        (RelayComplaint, _) => Decision::deny("only advocates relay complaints"),
        (AnswerForProvider, Resource::System) if actor.has(Role::ProviderResponder) => Decision::Allow,
        (AnswerForProvider, _) => Decision::deny("only provider responders answer for a provider"),
        // A person's rights: those who hold a record of theirs act for them; to anyone else the
        // person does not exist.
        (EraseSubject | ViewSubjectAccess, Resource::Person(facts)) => {
            if acts_for(actor, facts) {
                Decision::Allow
            } else {
                Decision::conceal("no record of this person is held by you")
            }
        }
        (EraseSubject | ViewSubjectAccess, _) => {
            Decision::deny("a person's rights are exercised for one person, by those who hold their records")
        }
        // Saying a record is a person's must not widen who may act for them: only someone who
        // already may, or the first of a kind (a person a hub knows becomes an advocate's client).
        (AttributeToPerson, Resource::Attribution { person, record }) => {
            if acts_for(actor, person) || !person.held_as(*record) {
                Decision::Allow
            } else {
                Decision::conceal("no record of this person is held by you")
            }
        }
        (AttributeToPerson, _) => Decision::deny("a record is said to be one person's at a time"),
        _ => Decision::deny("this is not something your role can do"),
    }
}

/// Whether `actor` holds one of the person's records for them, and so acts for them: a
/// coordinator of a hub holding one of their items, the advocate of one of their cases or who
/// relayed one of their complaints, complaints handlers when they have a complaint.
fn acts_for(actor: &Actor, facts: &PersonFacts) -> bool {
    actor.coordinates_any(&facts.hubs)
        || (actor.has(Role::Advocate)
            && actor.account.is_some_and(|me| facts.advocates.contains(&me) || facts.relayed_by.contains(&me)))
        || (actor.has(Role::ComplaintsHandler) && facts.complained)
}

/// The longest id the access log keeps as it was sent; Heard's own ids are at most 36.
pub const MAX_RECORDED_ID: usize = 64;

/// An id as the access log keeps it. Ids come from the caller, so one that is long, or holds
/// anything but letters, digits, `-`, `_` and `.`, is not an id Heard gave out: it is kept as
/// `sha256:` and the first 16 hex digits of its hash, so that the log neither grows with what
/// a caller sends nor keeps text someone typed (which could be a name).
pub fn recordable_id(id: &str) -> String {
    let plain = id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if plain && !id.is_empty() && id.len() <= MAX_RECORDED_ID {
        return id.to_owned();
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(id.as_bytes());
    format!("sha256:{}", hex::encode(&digest[..8]))
}

#[cfg(test)]
mod tests;
