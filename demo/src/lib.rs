//! The demo data set behind `heard serve --demo`: a realistic year of Heard for a newcomer to
//! explore, and an account for each role with a known password (printed at start; only ever
//! used with `--demo`).
//!
//! - [`feedback`]: a year of hub meetings and a few hundred feedback items, generated from the
//!   templates and names in `demo/data/*.toml` (read at start-up, checked by this crate's tests);
//!   each hub's gazetteer starts with the towns `hubs.toml` gives it.
//! - `casework`: advocacy cases, Bill of Rights complaints and commissioning decisions in every
//!   state of their lifecycles.
//! - [`Rng`]: the small deterministic generator the demo and the benchmarks vary their data with.
//!
//! Hubs and providers come from the one reference table, `heard_identity::domain::reference`.
//! This crate seeds through the services' own commands, so everything it writes is an ordinary
//! event; it depends on the services, never on the `heard` gateway that calls it.

mod casework;
pub mod feedback;
mod rng;
mod words;

use std::collections::HashMap;

use heard_access::Role;
use heard_advocacy::service::AdvocacyService;
use heard_commissioning::service::CommissioningService;
use heard_feedback::FeedbackService;
use heard_feedback::domain::gazetteer::GazetteerKind;
use heard_identity::{IdentityService, NewAccount};
use heard_rights::service::RightsService;
use uuid::Uuid;

use crate::feedback::generate;
pub use crate::rng::Rng;

/// The services the demo seeds, each already open over the same event store.
#[derive(Clone, Copy, Debug)]
pub struct Services<'a> {
    pub identity: &'a IdentityService,
    pub feedback: &'a FeedbackService,
    pub rights: &'a RightsService,
    pub advocacy: &'a AdvocacyService,
    pub commissioning: &'a CommissioningService,
}

/// (email, role, hubs, provider, the hub whose safeguarding disclosures it takes)
type DemoAccount = (String, Role, Vec<&'static str>, Option<&'static str>, Option<&'static str>);

fn demo_accounts() -> Vec<DemoAccount> {
    let mut accounts = vec![
        ("admin@demo.heard.example".to_owned(), Role::Administrator, vec![], None, None),
        ("member.arun@demo.heard.example".to_owned(), Role::HubMember, vec!["arun"], None, None),
        ("advocate@demo.heard.example".to_owned(), Role::Advocate, vec![], None, None),
        // A second advocate, so a case can be handed over by name.
        (ADVOCATE_COLLEAGUE.to_owned(), Role::Advocate, vec![], None, None),
        ("complaints@demo.heard.example".to_owned(), Role::ComplaintsHandler, vec![], None, None),
        // A colleague in the complaints team, so complaints can be assigned from one to another.
        (COLLEAGUE.to_owned(), Role::ComplaintsHandler, vec![], None, None),
        ("commissioner@demo.heard.example".to_owned(), Role::Commissioner, vec![], None, None),
        ("provider@demo.heard.example".to_owned(), Role::ProviderResponder, vec![], Some("addaction"), None),
    ];
    for hub in words::hub_ids() {
        accounts.push((
            format!("coordinator.{hub}@demo.heard.example"),
            Role::HubCoordinator,
            vec![hub],
            None,
            Some(hub),
        ));
    }
    accounts
}

/// The second complaints handler.
const COLLEAGUE: &str = "complaints.colleague@demo.heard.example";

/// The second advocate.
const ADVOCATE_COLLEAGUE: &str = "advocate.colleague@demo.heard.example";

/// The name an account is chosen by in a directory.
fn demo_display_name(email: &str, role: Role) -> String {
    if email == COLLEAGUE {
        return "Demo colleague in the complaints team".to_owned();
    }
    if email == ADVOCATE_COLLEAGUE {
        return "Demo colleague in the advocacy team".to_owned();
    }
    format!("Demo {}", role.as_str().replace('_', " "))
}

fn demo_password(email: &str) -> String {
    format!("heard demo {}", email.split('@').next().unwrap_or_default())
}

/// Some follow-up on the demo's disclosures of risk (item, coordinator, whether it is the first
/// of Arun's, which its coordinator is always given): of the others, one dealt with and one
/// with a step taken and still open; the rest, Arun's first among them, wait for a first step.
async fn follow_up_disclosures(feedback: &FeedbackService, disclosures: &[(Uuid, Uuid, bool)]) -> anyhow::Result<()> {
    use heard_feedback::domain::safeguarding::{NewAction, SafeguardingOutcome, SafeguardingStep};
    let error = |e: heard_api::ApiError| anyhow::anyhow!(e.message());
    let others = disclosures.iter().filter(|(_, _, first)| !first);
    for (index, (id, coordinator, _)) in others.enumerate().take(2) {
        let spoke = NewAction {
            step: Some(SafeguardingStep::SpokeToPerson),
            on: None,
            notes: Some(
                "Rang them the same day. They are staying with a friend this week and agreed to see their \
                 keyworker on Monday."
                    .into(),
            ),
        };
        feedback.record_safeguarding_action(*id, *coordinator, spoke).await.map_err(error)?;
        if index == 0 {
            let referred = NewAction {
                step: Some(SafeguardingStep::ReferredToProviderLead),
                on: None,
                notes: Some("Passed to the safeguarding lead at the service they use, with their agreement.".into()),
            };
            feedback.record_safeguarding_action(*id, *coordinator, referred).await.map_err(error)?;
            let outcome = Some(SafeguardingOutcome::ReferredOn);
            feedback.close_safeguarding(*id, *coordinator, outcome, None).await.map_err(error)?;
        }
    }
    Ok(())
}

/// Seeds the demo set into a store without feedback, and returns (email, role, password).
pub async fn seed(services: Services<'_>) -> anyhow::Result<Vec<(String, String, String)>> {
    let (identity, feedback) = (services.identity, services.feedback);
    let mut coordinators: HashMap<String, Uuid> = HashMap::new();
    let mut first_of: HashMap<Role, Uuid> = HashMap::new();
    let mut colleague = None;
    let mut printed = Vec::new();
    let fresh = feedback.read(|state| state.items.is_empty());
    for (email, role, hubs, provider, coordinates) in demo_accounts() {
        let password = demo_password(&email);
        let existing = identity.directory().read(|state| state.by_email.get(&email).copied());
        let id = match existing {
            Some(id) => id,
            None if fresh => {
                let new = NewAccount {
                    email: email.clone(),
                    display_name: demo_display_name(&email, role),
                    roles: vec![role],
                    hubs: hubs.iter().map(|h| h.to_string()).collect(),
                    provider: provider.map(str::to_owned),
                    password: Some(password.clone()),
                };
                identity.create_account(None, new).await.map_err(|e| anyhow::anyhow!(e.message()))?.0.id
            }
            None => continue,
        };
        if let Some(hub) = coordinates {
            coordinators.insert(hub.to_owned(), id);
        }
        first_of.entry(role).or_insert(id);
        if email == COLLEAGUE {
            colleague = Some(id);
        }
        printed.push((email, role.as_str().to_owned(), password));
    }
    let today = heard_api::today();
    if let (Some(handler), Some(advocate)) = (first_of.get(&Role::ComplaintsHandler), first_of.get(&Role::Advocate)) {
        if services.rights.read(|state| state.complaints.is_empty()) {
            crate::casework::seed_complaints(services, *handler, colleague, *advocate, today).await?;
        }
        if services.advocacy.read(|state| state.cases.is_empty()) {
            crate::casework::seed_cases(services, *advocate, today).await?;
        }
    }
    if !fresh {
        return Ok(printed);
    }
    let data = generate(2026, heard_feedback::service::today());
    let mut ids = Vec::with_capacity(data.items.len());
    let mut disclosures: Vec<(Uuid, Uuid, bool)> = Vec::new();
    for demo in &data.items {
        let hub = demo.item.hub.clone();
        let coordinator = *coordinators.get(&hub).ok_or_else(|| anyhow::anyhow!("no demo coordinator for {hub}"))?;
        let item = feedback.log(coordinator, demo.item.clone()).await.map_err(|e| anyhow::anyhow!(e.message()))?;
        let id = item.logged.item;
        if demo.safeguarding {
            feedback.flag_safeguarding(id, coordinator, coordinator).await.map_err(|e| anyhow::anyhow!(e.message()))?;
            let arun_first = hub == crate::feedback::FIRST_DISCLOSURE_HUB && !disclosures.iter().any(|d| d.2);
            disclosures.push((id, coordinator, arun_first));
        } else if demo.share {
            if !demo.redact.is_empty() {
                feedback.redact(id, coordinator, &demo.redact).await.map_err(|e| anyhow::anyhow!(e.message()))?;
            }
            feedback.share(id, coordinator).await.map_err(|e| anyhow::anyhow!(e.message()))?;
        }
        ids.push(id);
    }
    follow_up_disclosures(feedback, &disclosures).await?;
    for meeting in &data.meetings {
        let coordinator = coordinators[&meeting.hub];
        let items = meeting.items.iter().filter_map(|index| ids.get(*index).copied()).collect();
        feedback
            .record_meeting(
                coordinator,
                meeting.hub.clone(),
                &meeting.held_on.to_string(),
                i64::from(meeting.attendance),
                &meeting.minutes,
                items,
            )
            .await
            .map_err(|e| anyhow::anyhow!(e.message()))?;
    }
    // Each hub's gazetteer starts with the towns its speakers mention, so the moderation
    // queue suggests taking them out.
    for hub in &crate::words::WORDS.hubs {
        let Some(coordinator) = coordinators.get(&hub.id) else { continue };
        for town in &hub.towns {
            feedback
                .add_to_gazetteer(*coordinator, &hub.id, town, Some(GazetteerKind::Place))
                .await
                .map_err(|e| anyhow::anyhow!(e.message()))?;
        }
    }
    if let Some(commissioner) = first_of.get(&Role::Commissioner)
        && services.commissioning.read(|state| state.decisions.is_empty())
    {
        crate::casework::seed_decisions(services, *commissioner, &coordinators, today).await?;
    }
    Ok(printed)
}
