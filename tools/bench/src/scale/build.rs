//! The build phase of `heard-bench scale`: N events written through the services' own commands
//! on a server started in process over the data directory.
//!
//! Shares of the log, as a county's years of use might look (feedback the bulk of it): about
//! 5 % advocacy cases, 5 % complaints, 2.5 % commissioning decisions and their evidence, 1.5 %
//! answers to shared feedback, a few hundred accounts, and feedback for the rest. Feedback is
//! said over the four years before the build; cases, complaints and decisions are dated over
//! the same years. Every plan is drawn from the seed before it runs, so the number of events it
//! appends is known in advance and the log ends at N or a few dozen events past it (the unit
//! that reaches each share may run past it).
//!
//! The store stamps every event with the moment it was appended, so a built store's whole
//! history is recorded on the day it was built. A decision as at a past decision date would
//! then find nothing; the decisions the point-in-time queries ask about are dated the day of
//! the build (`Manifest::recent_decisions`), so each one replays the log up to its end, as a
//! recent decision does in a store whose history was recorded over years.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use heard::Services;
use heard::config::Settings;
use heard_access::{Consent, Role};
use heard_advocacy::domain::case::{
    ActionKind, AdvocacyKind, CaseDomain, CaseOutcome, ClosureReason, ReferralSource, ShareScope,
};
use heard_advocacy::service::{Closure, Referral};
use heard_commissioning::domain::decision::{self, Evidence, NewDecision, Status};
use heard_demo::Rng;
use heard_feedback::domain::NewItem;
use heard_feedback::domain::themes::theme_id;
use heard_identity::NewAccount;
use heard_rights::domain::complaint::{self, AcknowledgementMethod, Complainant, Outcome, Route};
use heard_rights::service::NewComplaint;
use heard_workdays::Calendar;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::feedback::Pool;

/// The file in a built data directory that says what it holds.
pub const MANIFEST: &str = "heard-bench-scale.json";

/// The layout of the manifest and of what the build writes; a directory built by another
/// version is not reused.
const LAYOUT: u32 = 1;

/// Commands in flight at once while building.
const CONCURRENCY: usize = 64;

/// The hub whose coordinator and member the measurements act as, and whose "you said, we did"
/// they ask for.
pub const HUB: &str = "arun";

/// What a built directory holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub layout: u32,
    pub events_asked: u64,
    pub seed: u64,
    /// The log's head once built.
    pub events: u64,
    /// The day it was built: the recent decisions are dated this day.
    pub built_on: String,
    pub build_seconds: f64,
    pub counts: Counts,
    pub tokens: Tokens,
    /// Decisions dated `built_on`, for the point-in-time queries.
    pub recent_decisions: Vec<Uuid>,
    /// Whether this run found the directory already built.
    #[serde(skip)]
    pub reused: bool,
}

/// How much of each thing the store holds.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Counts {
    pub accounts: usize,
    pub feedback_items: usize,
    pub feedback_events: u64,
    pub cases: usize,
    pub case_events: u64,
    pub complaints: usize,
    pub complaint_events: u64,
    pub decisions: usize,
    pub decision_events: u64,
    pub answers: usize,
}

impl Counts {
    fn add(&mut self, unit: &Unit) {
        let events = unit.events();
        match unit {
            Unit::Feedback(_) => {
                self.feedback_items += 1;
                self.feedback_events += events;
            }
            Unit::Case(_) => {
                self.cases += 1;
                self.case_events += events;
            }
            Unit::Complaint(_) => {
                self.complaints += 1;
                self.complaint_events += events;
            }
            Unit::Decision(_) => {
                self.decisions += 1;
                self.decision_events += events;
            }
            Unit::Answer(_) => self.answers += 1,
        }
    }
}

/// API tokens of the accounts the measurements act as (a benchmark store's own).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Tokens {
    pub commissioner: String,
    /// A coordinator of [`HUB`].
    pub coordinator: String,
    pub advocate: String,
    /// A member of [`HUB`], who logs feedback.
    pub hub_member: String,
}

/// The store in `dir` if it was built for `events` events with `seed`; otherwise builds one
/// there. Refuses a directory that holds anything else.
pub async fn build_or_reuse(dir: &Path, events: u64, seed: u64) -> anyhow::Result<Manifest> {
    let manifest_path = dir.join(MANIFEST);
    if manifest_path.is_file() {
        let text = std::fs::read_to_string(&manifest_path)?;
        let mut manifest: Manifest = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a manifest this heard-bench wrote", manifest_path.display()))?;
        anyhow::ensure!(
            manifest.layout == LAYOUT && manifest.events_asked == events && manifest.seed == seed,
            "{} holds a store of {} events (seed {}, layout {}), not {events} (seed {seed}, layout {LAYOUT}); \
             give another --data directory",
            dir.display(),
            manifest.events_asked,
            manifest.seed,
            manifest.layout,
        );
        eprintln!("scale: reusing the store of {} events in {}", manifest.events, dir.display());
        manifest.reused = true;
        return Ok(manifest);
    }
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        anyhow::bail!(
            "{} is not empty and holds no {MANIFEST}: give an empty or new directory to build in",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    match build(dir, events, seed).await {
        Ok(manifest) => {
            std::fs::write(&manifest_path, serde_json::to_string_pretty(&manifest)?)?;
            Ok(manifest)
        }
        Err(error) => {
            // It was empty or missing: leave it so, not half built.
            let _ = std::fs::remove_dir_all(dir);
            Err(error)
        }
    }
}

fn fail(error: heard_api::ApiError) -> anyhow::Error {
    anyhow::anyhow!("{}", error.message())
}

/// Builds the store: accounts, then feedback, cases and complaints interleaved, then decisions
/// and answers, then feedback again until the log holds `events`.
async fn build(dir: &Path, events: u64, seed: u64) -> anyhow::Result<Manifest> {
    let started = Instant::now();
    let settings = Settings { data_dir: dir.to_owned(), listen: "127.0.0.1:0".into(), ..Settings::default() };
    let server = heard::server::start(&settings).await?;
    let services = server.services.clone();
    let today = jiff::Zoned::now().date();
    let mut plans = Planner::new(seed, today, services.rights.calendar().clone());
    let mut counts = Counts::default();

    let people = create_accounts(&services, &mut plans.rng).await?;
    counts.accounts = people.count;
    let tokens = create_tokens(&services, &people).await?;
    let head = || server.store.head().position;
    eprintln!("scale: {} accounts in {:.1} s", people.count, started.elapsed().as_secs_f64());

    // Feedback, cases and complaints, interleaved in their shares of the log, drawn as they
    // are run so that the plans of a million events are never all in memory at once.
    let case_quota = events / 20;
    let complaint_quota = events / 20;
    let decision_quota = events / 40;
    let answer_quota = events * 3 / 200;
    let feedback_quota = events.saturating_sub(head() + case_quota + complaint_quota + decision_quota + answer_quota);
    let quotas = [feedback_quota, case_quota, complaint_quota];
    let mut planned = [0u64; 3];
    let mut progress = Progress::new("feedback, cases and complaints", quotas.iter().sum());
    let units = std::iter::from_fn(|| {
        let kind = (0..3)
            .filter(|&kind| planned[kind] < quotas[kind])
            .min_by_key(|&kind| planned[kind] * 1_000_000 / quotas[kind].max(1))?;
        let unit = match kind {
            0 => Unit::Feedback(plans.feedback(&people)),
            1 => Unit::Case(plans.case(&people)),
            _ => Unit::Complaint(plans.complaint(&people)),
        };
        planned[kind] += unit.events();
        counts.add(&unit);
        Some(unit)
    });
    run_units(&services, units, &mut progress).await?;

    // Decisions with evidence, and answers, over what is shared with commissioners now. The
    // recent decisions are dated the day they are appended, even if the build began the day
    // before.
    services.commissioning.caught_up().await;
    let shared = Shared::snapshot(&services);
    plans.today = jiff::Zoned::now().date();
    let built_on = plans.today;
    let (decisions, answers) = plans.decisions_and_answers(&people, shared, decision_quota, answer_quota);
    let recent_decisions: Vec<Uuid> =
        decisions.iter().filter(|plan| plan.new.decision_date == built_on).map(|plan| plan.new.decision).collect();
    let units: Vec<Unit> =
        decisions.into_iter().map(Unit::Decision).chain(answers.into_iter().map(Unit::Answer)).collect();
    units.iter().for_each(|unit| counts.add(unit));
    let mut progress = Progress::new("decisions and answers", units.iter().map(Unit::events).sum());
    run_units(&services, units.into_iter(), &mut progress).await?;

    // Feedback again until the log holds `events`.
    let missing = events.saturating_sub(head());
    let mut planned = 0;
    let mut progress = Progress::new("feedback to fill up", missing);
    let units = std::iter::from_fn(|| {
        (planned < missing).then(|| {
            let unit = Unit::Feedback(plans.feedback(&people));
            planned += unit.events();
            counts.add(&unit);
            unit
        })
    });
    run_units(&services, units, &mut progress).await?;

    let searchable = services.feedback.wait_searchable(head(), Duration::from_secs(120)).await;
    anyhow::ensure!(searchable, "the search index did not catch up with the log within two minutes");
    let events_now = head();
    server.shutdown().await?;
    let build_seconds = crate::store::round(started.elapsed().as_secs_f64());
    eprintln!("scale: built {events_now} events in {build_seconds:.1} s");
    Ok(Manifest {
        layout: LAYOUT,
        events_asked: events,
        seed,
        events: events_now,
        built_on: built_on.to_string(),
        build_seconds,
        counts,
        tokens,
        recent_decisions,
        reused: false,
    })
}

/// Prints how far a phase has gone, every ten seconds.
struct Progress {
    phase: &'static str,
    total: u64,
    done: u64,
    started: Instant,
    last: Instant,
}

impl Progress {
    fn new(phase: &'static str, total: u64) -> Progress {
        Progress { phase, total, done: 0, started: Instant::now(), last: Instant::now() }
    }

    fn add(&mut self, events: u64) {
        self.done += events;
        let finished = self.done >= self.total && self.done - events < self.total;
        if self.last.elapsed() >= Duration::from_secs(10) || finished {
            self.last = Instant::now();
            let seconds = self.started.elapsed().as_secs_f64();
            eprintln!(
                "scale: {}: {} of {} events in {seconds:.0} s ({:.0}/s)",
                self.phase,
                self.done,
                self.total,
                self.done as f64 / seconds.max(0.001)
            );
        }
    }
}

/// Runs every unit, [`CONCURRENCY`] at once, each unit's commands in order.
async fn run_units(
    services: &Services,
    units: impl Iterator<Item = Unit>,
    progress: &mut Progress,
) -> anyhow::Result<()> {
    let mut running = JoinSet::new();
    for unit in units {
        if running.len() >= CONCURRENCY {
            let done = running.join_next().await.context("a unit went missing")???;
            progress.add(done);
        }
        running.spawn(unit.run(services.clone()));
    }
    while let Some(done) = running.join_next().await {
        progress.add(done??);
    }
    Ok(())
}

/// The accounts the build acts as.
struct People {
    count: usize,
    coordinators: BTreeMap<String, Vec<Uuid>>,
    members: BTreeMap<String, Vec<Uuid>>,
    advocates: Vec<Uuid>,
    handlers: Vec<Uuid>,
    commissioners: Vec<Uuid>,
}

impl People {
    fn coordinator(&self, hub: &str, rng: &mut Rng) -> Uuid {
        let list = &self.coordinators[hub];
        list[rng.index(list.len())]
    }

    /// Who logs an item heard at `hub`: a member mostly, a coordinator sometimes.
    fn logger(&self, hub: &str, rng: &mut Rng) -> Uuid {
        let members = &self.members[hub];
        if rng.permille(800) { members[rng.index(members.len())] } else { self.coordinator(hub, rng) }
    }
}

/// (role, hubs, provider) of each of the 300 accounts: per hub two coordinators and a share of
/// 245 members; 30 advocates; 10 complaints handlers; 15 commissioners; two responders per
/// provider; one administrator.
fn account_plan() -> Vec<(Role, Option<String>, Option<String>)> {
    let hubs: Vec<String> = heard_identity::domain::exact_hubs().into_iter().map(|hub| hub.hub).collect();
    let providers: Vec<String> =
        heard_identity::domain::seed_providers().into_iter().map(|provider| provider.provider).collect();
    let mut plan = vec![(Role::Administrator, None, None)];
    for hub in &hubs {
        plan.push((Role::HubCoordinator, Some(hub.clone()), None));
        plan.push((Role::HubCoordinator, Some(hub.clone()), None));
    }
    plan.extend((0..30).map(|_| (Role::Advocate, None, None)));
    plan.extend((0..10).map(|_| (Role::ComplaintsHandler, None, None)));
    plan.extend((0..15).map(|_| (Role::Commissioner, None, None)));
    for provider in &providers {
        plan.push((Role::ProviderResponder, None, Some(provider.clone())));
        plan.push((Role::ProviderResponder, None, Some(provider.clone())));
    }
    let mut n = 0;
    while plan.len() < 300 {
        plan.push((Role::HubMember, Some(hubs[n % hubs.len()].clone()), None));
        n += 1;
    }
    plan
}

async fn create_accounts(services: &Services, rng: &mut Rng) -> anyhow::Result<People> {
    let plan = account_plan();
    let email = |index: usize, role: Role| format!("{}.{index}@scale.heard.example", role.as_str().replace('_', "-"));
    let mut running = JoinSet::new();
    for (index, (role, hub, provider)) in plan.iter().cloned().enumerate() {
        if running.len() >= 8 {
            running.join_next().await.context("an account went missing")???;
        }
        let identity = services.identity.clone();
        let new = NewAccount {
            email: email(index, role),
            display_name: format!("Scale {} {index}", role.as_str().replace('_', " ")),
            roles: vec![role],
            hubs: hub.into_iter().collect(),
            provider,
            password: Some(format!("a long scale bench passphrase {}", rng.below(1_000_000))),
        };
        running.spawn(async move { identity.create_account(None, new).await.map(|_| ()).map_err(fail) });
    }
    while let Some(done) = running.join_next().await {
        done??;
    }
    let directory = services.identity.directory();
    let mut ids = Vec::with_capacity(plan.len());
    for (index, (role, _, _)) in plan.iter().enumerate() {
        let email = email(index, *role);
        let id = directory.read(|state| state.by_email.get(&email).copied());
        ids.push(id.with_context(|| format!("account {index} is missing"))?);
    }
    let mut people = People {
        count: plan.len(),
        coordinators: BTreeMap::new(),
        members: BTreeMap::new(),
        advocates: Vec::new(),
        handlers: Vec::new(),
        commissioners: Vec::new(),
    };
    for ((role, hub, _), id) in plan.into_iter().zip(ids) {
        match role {
            Role::HubCoordinator => people.coordinators.entry(hub.unwrap_or_default()).or_default().push(id),
            Role::HubMember => people.members.entry(hub.unwrap_or_default()).or_default().push(id),
            Role::Advocate => people.advocates.push(id),
            Role::ComplaintsHandler => people.handlers.push(id),
            Role::Commissioner => people.commissioners.push(id),
            _ => {}
        }
    }
    Ok(people)
}

async fn create_tokens(services: &Services, people: &People) -> anyhow::Result<Tokens> {
    let token = |account: Uuid| {
        let identity = services.identity.clone();
        async move {
            let (_, secret) = identity.create_token(account, account, "scale bench").await.map_err(fail)?;
            anyhow::Ok(secret)
        }
    };
    Ok(Tokens {
        commissioner: token(people.commissioners[0]).await?,
        coordinator: token(people.coordinators[HUB][0]).await?,
        advocate: token(people.advocates[0]).await?,
        hub_member: token(people.members[HUB][0]).await?,
    })
}

/// One piece of work: a thing and the commands that bring it to where its plan says.
enum Unit {
    Feedback(FeedbackPlan),
    Case(CasePlan),
    Complaint(ComplaintPlan),
    Decision(DecisionPlan),
    Answer(AnswerPlan),
}

impl Unit {
    fn events(&self) -> u64 {
        match self {
            Unit::Feedback(plan) => plan.events(),
            Unit::Case(plan) => plan.events(),
            Unit::Complaint(plan) => plan.events(),
            Unit::Decision(plan) => plan.events(),
            Unit::Answer(_) => 1,
        }
    }

    /// Runs the unit's commands; returns how many events they appended.
    async fn run(self, services: Services) -> anyhow::Result<u64> {
        let events = self.events();
        match self {
            Unit::Feedback(plan) => plan.run(&services).await.context("logging and moderating feedback")?,
            Unit::Case(plan) => plan.run(&services).await.context("working a case")?,
            Unit::Complaint(plan) => plan.run(&services).await.context("handling a complaint")?,
            Unit::Decision(plan) => plan.run(&services).await.context("recording a decision")?,
            Unit::Answer(plan) => plan.run(&services).await.context("answering feedback")?,
        }
        Ok(events)
    }
}

/// What happens to an item after it is logged.
enum Moderated {
    /// Waiting in the hub's queue, or kept to the hub.
    Nothing,
    Safeguarding,
    ConsentWithdrawn,
    Held,
    /// Shared beyond the hub, after redacting these passages (if any).
    Shared(Vec<String>),
}

struct FeedbackPlan {
    logger: Uuid,
    coordinator: Uuid,
    item: NewItem,
    then: Moderated,
}

impl FeedbackPlan {
    fn events(&self) -> u64 {
        1 + match &self.then {
            Moderated::Nothing => 0,
            Moderated::Shared(passages) => 1 + u64::from(!passages.is_empty()),
            _ => 1,
        }
    }

    async fn run(self, services: &Services) -> anyhow::Result<()> {
        let feedback = &services.feedback;
        let coordinator = self.coordinator;
        let id = feedback.log(self.logger, self.item).await.map_err(fail)?.logged.item;
        match self.then {
            Moderated::Nothing => {}
            Moderated::Safeguarding => {
                feedback.flag_safeguarding(id, coordinator, coordinator).await.map_err(fail)?;
            }
            Moderated::ConsentWithdrawn => {
                feedback.change_consent(id, coordinator, None).await.map_err(fail)?;
            }
            Moderated::Held => {
                feedback.hold(id, coordinator, HELD_BECAUSE).await.map_err(fail)?;
            }
            Moderated::Shared(passages) => {
                if !passages.is_empty() {
                    feedback.redact(id, coordinator, &passages).await.map_err(fail)?;
                }
                feedback.share(id, coordinator).await.map_err(fail)?;
            }
        }
        Ok(())
    }
}

const HELD_BECAUSE: &str = "Checking with the person that they are happy for this to go further";

/// A step of a case after its referral.
enum CaseStep {
    Accept(Date),
    Decline(Date),
    Consent(Date, ShareScope),
    Action(Date, ActionKind, &'static str),
    Close(Closure),
    Reopen(Date),
}

struct CasePlan {
    advocate: Uuid,
    referral: Referral,
    steps: Vec<CaseStep>,
}

impl CasePlan {
    fn events(&self) -> u64 {
        1 + self.steps.len() as u64
    }

    async fn run(self, services: &Services) -> anyhow::Result<()> {
        let advocacy = &services.advocacy;
        let by = self.advocate;
        let id = advocacy.refer(by, self.referral).await.map_err(fail)?.id;
        for step in self.steps {
            match step {
                CaseStep::Accept(on) => advocacy.accept(id, by, on).await,
                CaseStep::Decline(on) => advocacy.decline(id, by, on, DECLINED_BECAUSE).await,
                CaseStep::Consent(on, scope) => advocacy.record_consent(id, by, on, Some(scope)).await,
                CaseStep::Action(on, kind, text) => advocacy.record_action(id, by, on, kind, text).await,
                CaseStep::Close(closure) => advocacy.close(id, by, closure).await,
                CaseStep::Reopen(on) => advocacy.reopen(id, by, on, REOPENED_BECAUSE).await,
            }
            .map_err(fail)?;
        }
        Ok(())
    }
}

/// The person's own view of the outcome, which every instructed case records at its close.
const CLIENT_VIEWS: [&str; 3] = [
    "Felt listened to for the first time.",
    "Glad it is sorted, though it took too long.",
    "Not what they hoped for, but they know where they stand now.",
];

const DECLINED_BECAUSE: &str = "Outside what independent advocacy can help with; signposted to the right service";
const REOPENED_BECAUSE: &str = "What was agreed did not happen";

/// What an advocacy case is about.
#[derive(Clone, Copy)]
struct CaseIssue {
    domain: CaseDomain,
    /// A theme's name.
    theme: &'static str,
    /// In the person's words.
    issue: &'static str,
    provider: Option<&'static str>,
    articles: &'static [u32],
}

const CASE_ISSUES: [CaseIssue; 8] = [
    CaseIssue {
        domain: CaseDomain::Housing,
        theme: "Housing and ghettoisation",
        issue: "Facing eviction from supported housing after a relapse.",
        provider: Some("housing-services"),
        articles: &[6],
    },
    CaseIssue {
        domain: CaseDomain::PrescribingReview,
        theme: "Prescribing and OAT administration",
        issue: "Wants a review of a dose that was reduced without a conversation.",
        provider: Some("addaction"),
        articles: &[3, 5],
    },
    CaseIssue {
        domain: CaseDomain::CriminalJustice,
        theme: "Through-care and prison release",
        issue: "Released on a Friday afternoon with no script arranged for the weekend.",
        provider: Some("cri"),
        articles: &[10],
    },
    CaseIssue {
        domain: CaseDomain::Benefits,
        theme: "Meaningful activity and employment",
        issue: "Benefits stopped after missing an appointment while in hospital.",
        provider: None,
        articles: &[],
    },
    CaseIssue {
        domain: CaseDomain::ChildProtection,
        theme: "Family and children",
        issue: "Wants someone alongside at a child protection conference.",
        provider: None,
        articles: &[7],
    },
    CaseIssue {
        domain: CaseDomain::MentalHealth,
        theme: "Dual diagnosis (mental health)",
        issue: "Told the mental health team will not help until drug use stops.",
        provider: Some("sussex-partnership"),
        articles: &[9],
    },
    CaseIssue {
        domain: CaseDomain::TreatmentAccess,
        theme: "Access and waiting times",
        issue: "The wait for a detox bed keeps being put back.",
        provider: Some("addaction"),
        articles: &[5],
    },
    CaseIssue {
        domain: CaseDomain::CarePlan,
        theme: "Access and waiting times",
        issue: "Has not seen their care plan and does not know what is in it.",
        provider: Some("cri"),
        articles: &[2, 4],
    },
];

const CASE_ACTIONS: [(ActionKind, &str); 5] = [
    (ActionKind::Meeting, "First meeting: agreed what the person wants to happen."),
    (ActionKind::Letter, "Wrote to the service asking for a review meeting."),
    (ActionKind::AccompaniedAppointment, "Went with the person to the review."),
    (ActionKind::Call, "Called the service to chase the written outcome."),
    (ActionKind::Note, "The person is happy with what was agreed and wants to see it happen."),
];

/// A step of a complaint after it was raised, run by its handler.
enum ComplaintStep {
    Assign(Uuid),
    Acknowledge(Date, AcknowledgementMethod),
    EarlyResolution,
    Investigate,
    Respond(Date),
    Outcome(Outcome, Date),
    Learning(&'static str),
}

struct ComplaintPlan {
    /// Who raises it: the handler, or the advocate who relayed it.
    raised_by: Uuid,
    handler: Uuid,
    new: NewComplaint,
    steps: Vec<ComplaintStep>,
}

impl ComplaintPlan {
    fn events(&self) -> u64 {
        1 + self.steps.len() as u64
    }

    async fn run(self, services: &Services) -> anyhow::Result<()> {
        let rights = &services.rights;
        let today = jiff::Zoned::now().date();
        let id = rights.raise(self.raised_by, self.new, today).await.map_err(fail)?.complaint.id;
        let handler = self.handler;
        for step in self.steps {
            match step {
                ComplaintStep::Assign(to) => rights.assign(id, handler, to).await,
                ComplaintStep::Acknowledge(on, method) => {
                    rights.change(id, handler, move |c| complaint::acknowledge(c, method, on, today)).await
                }
                ComplaintStep::EarlyResolution => rights.change(id, handler, complaint::choose_early_resolution).await,
                ComplaintStep::Investigate => rights.change(id, handler, complaint::open_investigation).await,
                ComplaintStep::Respond(on) => {
                    rights.change(id, handler, move |c| complaint::respond(c, on, today)).await
                }
                ComplaintStep::Outcome(outcome, on) => {
                    rights.change(id, handler, move |c| complaint::record_outcome(c, outcome, on, today)).await
                }
                ComplaintStep::Learning(statement) => {
                    rights.change(id, handler, move |c| complaint::record_learning(c, statement)).await
                }
            }
            .map_err(fail)?;
        }
        Ok(())
    }
}

/// (what happened, what the person wants, articles)
const COMPLAINT_STORIES: [(&str, &str, &[u32]); 6] = [
    ("My script was reduced without anyone talking to me first.", "A review with my prescriber.", &[3, 5]),
    ("Staff spoke about my drug use in front of other people in the waiting room.", "An apology.", &[6, 9]),
    ("I was told I could not start treatment until I had stopped using.", "To start treatment now.", &[4, 5]),
    ("Nobody told me my appointment had moved, so I was marked as not attending.", "A text when it moves.", &[2]),
    ("After release nobody picked up my care for three weeks.", "A named worker before release.", &[10, 7]),
    ("The pharmacy makes me wait outside until everyone else is served.", "To be served like anyone else.", &[9]),
];

const LEARNING: [&str; 3] = [
    "Changes to a prescription are agreed at a review, never made by letter",
    "Reception staff are trained in person-first language",
    "Care is picked up before release, with a named worker",
];

struct DecisionPlan {
    commissioner: Uuid,
    new: NewDecision,
    links: Vec<(Evidence, &'static str, Date)>,
    statuses: Vec<(Status, Date)>,
    progress: Option<(u8, Date)>,
    review: Option<Date>,
    /// Items linked here that their hub reported back: (item, a coordinator of its hub).
    fed_back: Vec<(Uuid, Uuid)>,
}

impl DecisionPlan {
    fn events(&self) -> u64 {
        1 + self.links.len() as u64
            + self.statuses.len() as u64
            + u64::from(self.progress.is_some())
            + u64::from(self.review.is_some())
            + self.fed_back.len() as u64
    }

    async fn run(self, services: &Services) -> anyhow::Result<()> {
        let commissioning = &services.commissioning;
        let by = self.commissioner;
        let today = jiff::Zoned::now().date();
        let id = commissioning.propose(self.new).await.map_err(fail)?.id;
        for (evidence, rationale, on) in self.links {
            commissioning.link_evidence(id, by, evidence, rationale, on).await.map_err(fail)?;
        }
        for (status, on) in self.statuses {
            commissioning
                .decide(id, by, |found| decision::change_status(found, status, on, today))
                .await
                .map_err(fail)?;
        }
        if let Some((percent, on)) = self.progress {
            commissioning
                .decide(id, by, |found| decision::record_progress(found, percent, PROGRESS, on, today))
                .await
                .map_err(fail)?;
        }
        if let Some(on) = self.review {
            commissioning
                .decide(id, by, |found| decision::review_outcome(found, REVIEW, on, today))
                .await
                .map_err(fail)?;
        }
        if !self.fed_back.is_empty() {
            // The feedback service learns of the links from the log; wait until it has.
            let head = services.feedback.store().head().position;
            services.feedback.wait_searchable(head, Duration::from_secs(60)).await;
            for (item, coordinator) in self.fed_back {
                services.feedback.fed_back(item, coordinator, None).await.map_err(fail)?;
            }
        }
        Ok(())
    }
}

const DECISION_TITLES: [&str; 6] = [
    "Evening clinic twice a week",
    "Travel costs paid for appointments out of town",
    "Review of how dose changes are agreed",
    "Peer mentors at the front desk",
    "A named worker before prison release",
    "Text reminders when an appointment moves",
];
const SERVICE_AREA: &str = "Adult drug and alcohol treatment";
const DECIDED_BY: &str = "DAAT board";
const INVOLVEMENT: &str = "People who use the service raised it at hub meetings and sat on the working group.";
const THEME_EVIDENCE: &str = "Raised again and again at hub meetings this year";
const ITEM_EVIDENCE: &str = "Says in their own words what the change would mean";
const OTHER_EVIDENCE: &str = "Points the same way as the feedback";
const PROGRESS: &str = "Half of what was agreed is in place";
const REVIEW: &str = "People say it made a difference; the hubs will keep an eye on it";
const NOT_ACTED_ON_BECAUSE: &str = "The contract does not allow it this year; it is on the list for the next one";

struct AnswerPlan {
    commissioner: Uuid,
    item: Uuid,
    reason: Option<&'static str>,
    on: Date,
}

impl AnswerPlan {
    async fn run(self, services: &Services) -> anyhow::Result<()> {
        services.commissioning.answer(self.item, self.commissioner, self.reason, self.on).await.map_err(fail)?;
        Ok(())
    }
}

/// What is shared with commissioners once feedback, cases and complaints are in.
struct Shared {
    /// Per theme: (item, hub, said on), in a stable order.
    by_theme: BTreeMap<String, Vec<(Uuid, String, Date)>>,
    complaints_with_learning: Vec<Uuid>,
    advocacy_domains: Vec<String>,
}

impl Shared {
    fn snapshot(services: &Services) -> Shared {
        services.commissioning.read(|state| {
            let mut by_theme: BTreeMap<String, Vec<(Uuid, String, Date)>> = BTreeMap::new();
            for item in state.items.values().filter(|item| item.for_commissioners()) {
                let said_on = item.said_on.unwrap_or_else(|| jiff::Zoned::now().date());
                if let Some(theme) = item.themes.iter().next() {
                    by_theme.entry(theme.clone()).or_default().push((item.item, item.hub.clone(), said_on));
                }
            }
            for items in by_theme.values_mut() {
                items.sort_by_key(|(item, _, said_on)| (*said_on, *item));
            }
            let mut complaints_with_learning: Vec<Uuid> = state
                .learning
                .iter()
                .filter(|(_, learning)| !learning.statements.is_empty())
                .map(|(complaint, _)| *complaint)
                .collect();
            complaints_with_learning.sort();
            Shared {
                by_theme,
                complaints_with_learning,
                advocacy_domains: state.advocacy_domains.iter().cloned().collect(),
            }
        })
    }
}

/// Draws every plan from one seeded generator.
struct Planner {
    rng: Rng,
    pool: Pool,
    today: Date,
    /// The first day of the four years before today.
    first_day: Date,
    calendar: Calendar,
}

impl Planner {
    fn new(seed: u64, today: Date, calendar: Calendar) -> Planner {
        let first_day = today.checked_sub(jiff::Span::new().years(4)).unwrap_or(today);
        Planner { rng: Rng::new(seed), pool: Pool::new(seed), today, first_day, calendar }
    }

    /// A day of the four years before today (today left out).
    fn day(&mut self) -> Date {
        let span = self.first_day.until(self.today).map(|span| span.get_days()).unwrap_or(1).max(1);
        let days = self.rng.below(span as u64) as i64;
        self.after(self.first_day, days)
    }

    /// `days` after `from`, never after today.
    fn after(&self, from: Date, days: i64) -> Date {
        from.checked_add(jiff::Span::new().days(days)).unwrap_or(self.today).min(self.today)
    }

    /// `base` days and up to `spread` more after `from`, never after today.
    fn later(&mut self, from: Date, base: i64, spread: u64) -> Date {
        let days = base + self.rng.below(spread) as i64;
        self.after(from, days)
    }

    /// `base` working days and up to `spread` more after `from`, never after today.
    fn working_later(&mut self, from: Date, base: u32, spread: u64) -> Date {
        let days = base + self.rng.below(spread) as u32;
        self.working_days_after(from, days)
    }

    /// `n` working days after `from`, never after today.
    fn working_days_after(&self, from: Date, n: u32) -> Date {
        self.calendar.add_working_days(from, n).unwrap_or(self.today).min(self.today)
    }

    /// A working day of the four years before today.
    fn working_day(&mut self) -> Date {
        let mut day = self.day();
        while !self.calendar.is_working_day(day).unwrap_or(true) {
            day = day.yesterday().unwrap_or(day);
        }
        day
    }

    /// An item in the demo's words, spread over the hubs, themes, providers and channels of
    /// the demo; consent 30 % hub only, 45 % commissioners, 25 % public. Of those that may
    /// leave the hub, three in five shared (redacted first when they name someone); one in a
    /// hundred flagged for safeguarding, one in two hundred with consent withdrawn, two in a
    /// hundred held.
    fn feedback(&mut self, people: &People) -> FeedbackPlan {
        let (text, source, passages) = self.pool.compose(&mut self.rng);
        let mut item = source.item.clone();
        item.text = text;
        let said_on = self.day();
        item.said_on = said_on.to_string();
        let roll = self.rng.index(100);
        item.consent = Some(if roll < 30 {
            Consent::Hub
        } else if roll < 75 {
            Consent::Commissioners
        } else {
            Consent::Public
        });
        item.meeting = None;
        item.import_key = None;
        let hub = item.hub.clone();
        let logger = people.logger(&hub, &mut self.rng);
        let coordinator = people.coordinator(&hub, &mut self.rng);
        let then = if self.rng.permille(10) {
            Moderated::Safeguarding
        } else if self.rng.permille(5) {
            Moderated::ConsentWithdrawn
        } else if self.rng.permille(20) {
            Moderated::Held
        } else if item.consent != Some(Consent::Hub) && self.rng.permille(600) {
            Moderated::Shared(passages)
        } else {
            Moderated::Nothing
        };
        FeedbackPlan { logger, coordinator, item, then }
    }

    /// A case: one in ten only referred, one in twelve declined; the rest accepted with the
    /// person's consent to share, one to five actions, and (for three in five of them) closed,
    /// a few reopened.
    fn case(&mut self, people: &People) -> CasePlan {
        let advocate = people.advocates[self.rng.index(people.advocates.len())];
        let CaseIssue { domain, theme, issue, provider, articles } = CASE_ISSUES[self.rng.index(CASE_ISSUES.len())];
        let referred_on = self.day();
        let index = self.rng.index(1000);
        let referral = Referral {
            pseudonym: None,
            client_name: index.is_multiple_of(5).then(|| "Jo Sample".to_owned()),
            client_contact: None,
            issue: issue.to_owned(),
            kind: if index.is_multiple_of(7) { AdvocacyKind::NonInstructed } else { AdvocacyKind::Instructed },
            source: ReferralSource::ALL[self.rng.index(ReferralSource::ALL.len())],
            domain,
            themes: vec![theme_id(theme)],
            provider: provider.map(str::to_owned),
            articles: articles.to_vec(),
            linked_to: None,
            advocate: Some(advocate),
            referred_on: Some(referred_on),
        };
        let mut steps = Vec::new();
        let roll = self.rng.index(100);
        if roll < 10 {
            return CasePlan { advocate, referral, steps };
        }
        if roll < 18 {
            steps.push(CaseStep::Decline(self.after(referred_on, 2)));
            return CasePlan { advocate, referral, steps };
        }
        let accepted = self.later(referred_on, 1, 5);
        steps.push(CaseStep::Accept(accepted));
        steps.push(CaseStep::Consent(accepted, ShareScope::ALL[self.rng.index(ShareScope::ALL.len())]));
        let mut on = accepted;
        for (kind, text) in CASE_ACTIONS.iter().take(1 + self.rng.index(CASE_ACTIONS.len())) {
            on = self.later(on, 1, 10);
            steps.push(CaseStep::Action(on, *kind, text));
        }
        if self.rng.permille(600) {
            let closed = self.later(on, 3, 20);
            steps.push(CaseStep::Close(Closure {
                outcome: CaseOutcome::ALL[self.rng.index(CaseOutcome::ALL.len())],
                reason: ClosureReason::ALL[self.rng.index(ClosureReason::ALL.len())],
                client_view: Some(CLIENT_VIEWS[self.rng.index(CLIENT_VIEWS.len())].to_owned()),
                on: closed,
            }));
            if self.rng.permille(50) {
                steps.push(CaseStep::Reopen(self.after(closed, 10)));
            }
        }
        CasePlan { advocate, referral, steps }
    }

    /// A complaint: a quarter relayed by an advocate, a third of the rest named; one in twelve
    /// only received, one in ten only acknowledged, the rest through early resolution or an
    /// investigation to a response and an outcome, with learning when upheld.
    fn complaint(&mut self, people: &People) -> ComplaintPlan {
        let handler = people.handlers[self.rng.index(people.handlers.len())];
        let advocate = people.advocates[self.rng.index(people.advocates.len())];
        let (what_happened, outcome_wanted, articles) = COMPLAINT_STORIES[self.rng.index(COMPLAINT_STORIES.len())];
        let providers = heard_identity::domain::seed_providers();
        let provider = providers[self.rng.index(providers.len())].provider.clone();
        let received_on = self.working_day();
        let relayed = self.rng.permille(250);
        let named = !relayed && self.rng.permille(333);
        let new = NewComplaint {
            charter: "exact".into(),
            provider,
            service: None,
            articles: articles.to_vec(),
            complainant: if relayed {
                Complainant::RelayedByAdvocate
            } else if named {
                Complainant::Named
            } else {
                Complainant::Anonymous
            },
            name: named.then(|| "Sam Example".to_owned()),
            contact: None,
            route: if relayed {
                Route::Advocate
            } else if self.rng.permille(500) {
                Route::Hub
            } else {
                Route::Direct
            },
            advocate: relayed.then_some(advocate),
            what_happened: what_happened.to_owned(),
            outcome_wanted: outcome_wanted.to_owned(),
            received_on,
        };
        let raised_by = if relayed { advocate } else { handler };
        let mut steps = Vec::new();
        let roll = self.rng.index(100);
        if roll < 8 {
            return ComplaintPlan { raised_by, handler, new, steps };
        }
        if self.rng.permille(300) {
            steps.push(ComplaintStep::Assign(people.handlers[self.rng.index(people.handlers.len())]));
        }
        let methods = [
            AcknowledgementMethod::Phone,
            AcknowledgementMethod::Letter,
            AcknowledgementMethod::Email,
            AcknowledgementMethod::InPerson,
            AcknowledgementMethod::TextMessage,
        ];
        let acknowledged = self.working_later(received_on, 1, 3);
        steps.push(ComplaintStep::Acknowledge(acknowledged, methods[self.rng.index(methods.len())]));
        if roll < 18 {
            return ComplaintPlan { raised_by, handler, new, steps };
        }
        let early = self.rng.permille(250);
        steps.push(if early { ComplaintStep::EarlyResolution } else { ComplaintStep::Investigate });
        if roll < 28 {
            return ComplaintPlan { raised_by, handler, new, steps };
        }
        if early && self.rng.permille(600) {
            let closed = self.working_later(acknowledged, 2, 5);
            steps.push(ComplaintStep::Outcome(Outcome::ResolvedEarly, closed));
            return ComplaintPlan { raised_by, handler, new, steps };
        }
        let responded = self.working_later(acknowledged, 10, 15);
        steps.push(ComplaintStep::Respond(responded));
        let outcome =
            [Outcome::Upheld, Outcome::PartlyUpheld, Outcome::NotUpheld, Outcome::NotUpheld, Outcome::Withdrawn]
                [self.rng.index(5)];
        steps.push(ComplaintStep::Outcome(outcome, self.working_days_after(responded, 5)));
        if matches!(outcome, Outcome::Upheld | Outcome::PartlyUpheld) {
            steps.push(ComplaintStep::Learning(LEARNING[self.rng.index(LEARNING.len())]));
        }
        ComplaintPlan { raised_by, handler, new, steps }
    }

    /// Decisions until their events reach `decision_quota`, each on a theme with up to eight
    /// shared items of it (each item linked once), sometimes a complaint's learning or an
    /// advocacy theme, and a status path; one in ten dated today. Then answers to other shared
    /// items until `answer_quota`, a third of them "not acted on".
    fn decisions_and_answers(
        &mut self,
        people: &People,
        mut shared: Shared,
        decision_quota: u64,
        answer_quota: u64,
    ) -> (Vec<DecisionPlan>, Vec<AnswerPlan>) {
        let themes: Vec<String> = shared.by_theme.keys().cloned().collect();
        let mut decisions = Vec::new();
        let mut planned = 0;
        while planned < decision_quota && !themes.is_empty() {
            let commissioner = people.commissioners[self.rng.index(people.commissioners.len())];
            let recent = decisions.len() % 10 == 0;
            let decision_date = if recent { self.today } else { self.day() };
            let theme = themes[self.rng.index(themes.len())].clone();
            let new = NewDecision {
                decision: self.rng.uuid(),
                title: DECISION_TITLES[self.rng.index(DECISION_TITLES.len())].to_owned(),
                service_area: SERVICE_AREA.to_owned(),
                decided_by: DECIDED_BY.to_owned(),
                decision_date,
                ladder_rung: 3 + self.rng.below(5) as u8,
                involvement: INVOLVEMENT.to_owned(),
                proposed_by: commissioner,
            };
            let mut links = vec![(Evidence::Theme { theme: theme.clone() }, THEME_EVIDENCE, decision_date)];
            let mut fed_back = Vec::new();
            let items = shared.by_theme.get_mut(&theme).map(std::mem::take).unwrap_or_default();
            let take = (1 + self.rng.index(8)).min(items.len());
            let (linked, rest) = items.split_at(take);
            for (item, hub, _) in linked {
                links.push((Evidence::FeedbackItem { item: *item }, ITEM_EVIDENCE, decision_date));
                if self.rng.permille(300) {
                    fed_back.push((*item, people.coordinator(hub, &mut self.rng)));
                }
            }
            shared.by_theme.insert(theme, rest.to_vec());
            if !shared.complaints_with_learning.is_empty() && self.rng.permille(200) {
                let complaint = shared.complaints_with_learning[self.rng.index(shared.complaints_with_learning.len())];
                links.push((Evidence::ComplaintLearning { complaint }, OTHER_EVIDENCE, decision_date));
            }
            if !shared.advocacy_domains.is_empty() && self.rng.permille(200) {
                let value = shared.advocacy_domains[self.rng.index(shared.advocacy_domains.len())].clone();
                links.push((
                    Evidence::AdvocacyTheme { dimension: "domain".into(), value },
                    OTHER_EVIDENCE,
                    decision_date,
                ));
            }
            let path: &[Status] = match self.rng.index(10) {
                0 => &[],
                1 => &[Status::NotTaken],
                2 | 3 => &[Status::Agreed],
                4..=6 => &[Status::Agreed, Status::InProgress],
                _ => &[Status::Agreed, Status::InProgress, Status::Done],
            };
            let mut on = decision_date;
            let mut statuses = Vec::new();
            for status in path {
                on = self.later(on, 0, 30);
                statuses.push((*status, on));
            }
            let progress = (path.last() == Some(&Status::InProgress)).then(|| (60, self.later(on, 0, 20)));
            let review = (path.last() == Some(&Status::Done)).then(|| self.after(on, 30));
            // The feedback service reports back only what commissioners have answered; an
            // item linked to a decision that was not taken stays as it is.
            if matches!(path, [] | [Status::NotTaken]) {
                fed_back.clear();
            }
            let plan = DecisionPlan { commissioner, new, links, statuses, progress, review, fed_back };
            planned += plan.events();
            decisions.push(plan);
        }
        let mut rest: Vec<(Uuid, String, Date)> = shared.by_theme.into_values().flatten().collect();
        rest.sort_by_key(|(item, _, said_on)| (*said_on, *item));
        let mut answers = Vec::new();
        while (answers.len() as u64) < answer_quota && !rest.is_empty() {
            let (item, _, said_on) = rest.swap_remove(self.rng.index(rest.len()));
            let commissioner = people.commissioners[self.rng.index(people.commissioners.len())];
            let reason = self.rng.permille(333).then_some(NOT_ACTED_ON_BECAUSE);
            let on = self.later(said_on, 7, 60);
            answers.push(AnswerPlan { commissioner, item, reason, on });
        }
        (decisions, answers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people() -> People {
        let mut rng = Rng::new(99);
        let hubs: Vec<String> = heard_identity::domain::exact_hubs().into_iter().map(|hub| hub.hub).collect();
        let mut many = |n: usize| (0..n).map(|_| rng.uuid()).collect::<Vec<_>>();
        People {
            count: 0,
            coordinators: hubs.iter().map(|hub| (hub.clone(), many(2))).collect(),
            members: hubs.iter().map(|hub| (hub.clone(), many(5))).collect(),
            advocates: many(3),
            handlers: many(3),
            commissioners: many(2),
        }
    }

    /// What a unit would do, written out.
    fn describe(unit: &Unit) -> String {
        match unit {
            Unit::Feedback(plan) => format!("{:?} {}", plan.item, plan.events()),
            Unit::Case(plan) => format!("{:?} {}", plan.referral, plan.events()),
            Unit::Complaint(plan) => format!("{:?} {}", plan.new, plan.events()),
            Unit::Decision(plan) => format!("{:?} {}", plan.new, plan.events()),
            Unit::Answer(plan) => format!("{} {:?} {}", plan.item, plan.reason, plan.on),
        }
    }

    fn plan_some(seed: u64) -> Vec<String> {
        let today = jiff::civil::date(2026, 12, 6);
        let people = people();
        let mut plans = Planner::new(seed, today, Calendar::england_and_wales());
        let mut units = Vec::new();
        for _ in 0..200 {
            units.push(Unit::Feedback(plans.feedback(&people)));
            units.push(Unit::Case(plans.case(&people)));
            units.push(Unit::Complaint(plans.complaint(&people)));
        }
        units.iter().map(describe).collect()
    }

    #[test]
    fn the_same_seed_plans_the_same_store() {
        assert_eq!(plan_some(3), plan_some(3));
        assert_ne!(plan_some(3), plan_some(4));
    }

    #[test]
    fn everything_planned_happened_in_the_four_years_before_the_build() {
        let today = jiff::civil::date(2026, 12, 6);
        let people = people();
        let mut plans = Planner::new(1, today, Calendar::england_and_wales());
        for _ in 0..500 {
            let said_on: Date = plans.feedback(&people).item.said_on.parse().expect("a day");
            assert!(said_on < today && said_on >= jiff::civil::date(2022, 12, 6), "{said_on}");
            let received_on = plans.complaint(&people).new.received_on;
            assert!(received_on < today, "{received_on}");
            let case = plans.case(&people);
            let referred_on = case.referral.referred_on.expect("a referral day");
            for step in &case.steps {
                let on = match step {
                    CaseStep::Accept(on) | CaseStep::Decline(on) | CaseStep::Consent(on, _) | CaseStep::Reopen(on) => {
                        *on
                    }
                    CaseStep::Action(on, _, _) => *on,
                    CaseStep::Close(closure) => closure.on,
                };
                assert!(on >= referred_on && on <= today);
            }
        }
    }

    #[tokio::test]
    async fn a_built_store_holds_the_events_asked_for_and_is_found_again() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let data = dir.path().join("data");
        let built = build_or_reuse(&data, 2_500, 1).await.expect("the store builds");
        assert!((2_500..2_530).contains(&built.events), "{} events", built.events);
        assert!(!built.reused);
        let counts = &built.counts;
        assert_eq!(counts.accounts, 300);
        assert!(counts.feedback_events > 1_500 && counts.case_events > 0 && counts.complaint_events > 0);
        assert!(counts.decisions > 0 && !built.recent_decisions.is_empty());
        assert!(counts.answers > 0);

        let found = build_or_reuse(&data, 2_500, 1).await.expect("the store is found again");
        assert!(found.reused);
        assert_eq!(found.events, built.events);
        let other = build_or_reuse(&data, 3_000, 1).await;
        assert!(other.is_err(), "a store of another size is not taken for this one");
    }
}
