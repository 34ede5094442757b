//! The demo's advocacy cases and Bill of Rights complaints: every state of each lifecycle,
//! some complaints overdue, and enough closed ones that commissioners' roll-ups show numbers
//! as well as suppressed small groups. Names and stories are invented.

use heard_advocacy::domain::case::{
    ActionKind, AdvocacyKind, CaseDomain, CaseOutcome, ClosureReason, ReferralSource, ShareScope,
};
use heard_advocacy::service::{Closure, Referral};
use heard_feedback::demo::Rng;
use heard_feedback::domain::themes::theme_id;
use heard_rights::domain::complaint::{self, Complainant, EscalatedTo, Outcome, Route};
use heard_rights::service::NewComplaint;
use heard_workdays::Calendar;
use jiff::civil::Date;
use uuid::Uuid;

use crate::services::Services;

fn fail(error: heard_api::ApiError) -> anyhow::Error {
    anyhow::anyhow!(error.message())
}

/// `n` working days before `today`.
fn working_days_before(calendar: &Calendar, today: Date, n: u32) -> Date {
    let mut date = today;
    let mut left = n;
    while left > 0 {
        date = date.yesterday().unwrap_or(date);
        if calendar.is_working_day(date).unwrap_or(false) {
            left -= 1;
        }
    }
    date
}

fn after(calendar: &Calendar, date: Date, n: u32, today: Date) -> Date {
    calendar.add_working_days(date, n).unwrap_or(today).min(today)
}

type Decision = Result<complaint::Event, heard_rights::domain::Rejection>;

/// One handler command, boxed so that each step of a demo complaint can be a different closure.
struct Decide(Box<dyn FnOnce(&complaint::Complaint) -> Decision + Send>);

impl Decide {
    fn new(decide: impl FnOnce(&complaint::Complaint) -> Decision + Send + 'static) -> Decide {
        Decide(Box::new(decide))
    }
}

/// Runs handler commands on one demo complaint.
struct Step<'a> {
    rights: &'a heard_rights::service::RightsService,
    id: Uuid,
    handler: Uuid,
}

impl Step<'_> {
    async fn run(self, decide: Decide) -> anyhow::Result<()> {
        self.rights.change(self.id, self.handler, decide.0).await.map_err(fail)?;
        Ok(())
    }
}

/// How far a demo complaint has gone.
#[derive(Clone, Copy, Debug)]
enum Reached {
    Received,
    Acknowledged,
    Investigating,
    EarlyResolution,
    Paused,
    Extended,
    Responded,
    Closed(Outcome),
    Escalated,
    OldAndExplained,
}

const STORIES: [(&str, &str, &[u32]); 8] = [
    (
        "My script was reduced without anyone talking to me first.",
        "A review meeting with my prescriber and my keyworker.",
        &[3, 5],
    ),
    ("Reception staff called me a junkie in front of other people.", "An apology and training for staff.", &[6, 9]),
    ("I was told I could not start treatment until I had stopped using.", "To start treatment now.", &[4, 5]),
    ("Nobody told me my appointment had moved, so I was marked as a no-show.", "Texts when appointments change.", &[2]),
    (
        "After release nobody picked up my care, and I waited three weeks for a script.",
        "A named worker before release.",
        &[10, 7],
    ),
    ("I asked for a woman keyworker and was ignored.", "A choice of keyworker.", &[4]),
    (
        "I raised a concern at the forum and then my key worker was cold with me.",
        "Reassurance that speaking out will not affect my treatment.",
        &[11],
    ),
    ("The pharmacy makes me wait outside until everyone else is served.", "To be served like anyone else.", &[9, 5]),
];

const PROVIDERS: [&str; 4] = ["addaction", "cri", "community-pharmacies", "sussex-partnership"];

/// Seeds complaints in every state, from `handler`'s desk (and relayed by `advocate`).
pub async fn seed_complaints(services: &Services, handler: Uuid, advocate: Uuid, today: Date) -> anyhow::Result<()> {
    let rights = &services.rights;
    let calendar = rights.calendar().clone();
    let mut rng = Rng::new(5);
    let mut plan: Vec<(Reached, u32)> = vec![
        (Reached::Received, 0),
        (Reached::Received, 1),
        (Reached::Received, 2),
        (Reached::Received, 6),
        (Reached::Acknowledged, 8),
        (Reached::Investigating, 19),
        (Reached::Investigating, 26),
        (Reached::EarlyResolution, 4),
        (Reached::Paused, 12),
        (Reached::Extended, 23),
        (Reached::Responded, 21),
        (Reached::Escalated, 60),
        (Reached::OldAndExplained, 140),
        (Reached::Closed(Outcome::PartlyUpheld), 45),
        (Reached::Closed(Outcome::NotUpheld), 50),
        (Reached::Closed(Outcome::ResolvedEarly), 30),
        (Reached::Closed(Outcome::Withdrawn), 35),
    ];
    // A steady history of upheld complaints, so that patterns have groups of five or more.
    for n in 0..14 {
        plan.push((Reached::Closed(Outcome::Upheld), 40 + n * 9));
    }
    for (index, (reached, age)) in plan.into_iter().enumerate() {
        let (what, wanted, articles) = STORIES[rng.index(STORIES.len())];
        let relayed = index % 4 == 1;
        let named = !relayed && index % 3 == 0;
        let received_on = working_days_before(&calendar, today, age);
        let new = NewComplaint {
            charter: "exact".into(),
            provider: if index >= 17 { "addaction".into() } else { PROVIDERS[rng.index(PROVIDERS.len())].into() },
            service: None,
            articles: articles.to_vec(),
            complainant: if relayed {
                Complainant::RelayedByAdvocate
            } else if named {
                Complainant::Named
            } else {
                Complainant::Anonymous
            },
            name: named.then(|| ["Jo Demo", "Alex Sample", "Sam Example"][index % 3].to_owned()),
            contact: named.then(|| "07700 900000".to_owned()),
            route: if relayed {
                Route::Advocate
            } else if index % 2 == 0 {
                Route::Hub
            } else {
                Route::Direct
            },
            advocate: relayed.then_some(advocate),
            what_happened: what.into(),
            outcome_wanted: wanted.into(),
            received_on,
        };
        let id = rights.raise(if relayed { advocate } else { handler }, new, today).await.map_err(fail)?.complaint.id;
        let on = |n| after(&calendar, received_on, n, today);
        let step = |decide| Step { rights, id, handler }.run(decide);
        if matches!(reached, Reached::Received) {
            continue;
        }
        let acknowledged = on(1);
        step(Decide::new(move |c| complaint::acknowledge(c, acknowledged, today))).await?;
        match reached {
            Reached::Acknowledged => continue,
            Reached::EarlyResolution | Reached::Closed(Outcome::ResolvedEarly) => {
                step(Decide::new(complaint::choose_early_resolution)).await?;
            }
            _ => {
                step(Decide::new(complaint::open_investigation)).await?;
            }
        }
        match reached {
            Reached::Paused => {
                let paused = on(6);
                step(Decide::new(move |c| {
                    complaint::pause(c, paused, "Waiting to hear back from the complainant", today)
                }))
                .await?;
                continue;
            }
            Reached::Extended => {
                step(Decide::new(|c| complaint::extend(c, 10, "The prescriber is on leave until next month"))).await?;
                continue;
            }
            Reached::OldAndExplained => {
                step(Decide::new(|c| {
                    complaint::explain_delay(c, "Records had to be requested from the prison healthcare team")
                }))
                .await?;
                continue;
            }
            Reached::Investigating | Reached::EarlyResolution => continue,
            Reached::Closed(Outcome::ResolvedEarly) => {
                let closed = on(3);
                step(Decide::new(move |c| complaint::record_outcome(c, Outcome::ResolvedEarly, closed, today))).await?;
                continue;
            }
            Reached::Closed(Outcome::Withdrawn) => {
                let closed = on(4);
                step(Decide::new(move |c| complaint::record_outcome(c, Outcome::Withdrawn, closed, today))).await?;
                continue;
            }
            _ => {}
        }
        let responded = on(15 + (index as u32 % 5));
        step(Decide::new(move |c| complaint::respond(c, responded, today))).await?;
        let outcome = match reached {
            Reached::Responded => continue,
            Reached::Closed(outcome) => outcome,
            _ => Outcome::NotUpheld,
        };
        let closed = on(20);
        step(Decide::new(move |c| complaint::record_outcome(c, outcome, closed, today))).await?;
        if matches!(reached, Reached::Escalated) {
            step(Decide::new(|c| complaint::escalate(c, EscalatedTo::Ombudsman, "PHSO-DEMO-0042"))).await?;
        }
        if matches!(outcome, Outcome::Upheld | Outcome::PartlyUpheld) {
            let learning = [
                "Changes to a prescription are agreed at a review, never made by letter",
                "Reception staff are trained in person-first language",
                "Care is picked up before release, with a named worker",
            ][index % 3];
            step(Decide::new(move |c| complaint::record_learning(c, learning))).await?;
        }
    }
    Ok(())
}

/// How far a demo case has gone.
#[derive(Clone, Copy, Debug)]
enum Stage {
    Referred,
    Accepted,
    Declined,
    Active,
    Closed,
    Reopened,
}

/// A demo issue: domain, theme name, the issue in the client's words, provider, articles.
type Issue = (CaseDomain, &'static str, &'static str, Option<&'static str>, &'static [u32]);

/// Seeds advocacy cases in every state for `advocate`.
pub async fn seed_cases(services: &Services, advocate: Uuid, today: Date) -> anyhow::Result<()> {
    let advocacy = &services.advocacy;
    let calendar = services.rights.calendar().clone();
    let mut rng = Rng::new(7);
    let issues: [Issue; 7] = [
        (
            CaseDomain::Housing,
            "Housing and ghettoisation",
            "Facing eviction from supported housing after a relapse.",
            Some("housing-services"),
            &[6],
        ),
        (
            CaseDomain::PrescribingReview,
            "Prescribing and OAT administration",
            "Wants a review of a methadone dose reduced without discussion.",
            Some("addaction"),
            &[3, 5],
        ),
        (
            CaseDomain::CriminalJustice,
            "Through-care and prison release",
            "Released on a Friday with no script arranged.",
            Some("cri"),
            &[10],
        ),
        (
            CaseDomain::Benefits,
            "Meaningful activity and employment",
            "Universal Credit sanction after missing an appointment while in hospital.",
            None,
            &[],
        ),
        (
            CaseDomain::ChildProtection,
            "Family and children",
            "Wants support at a child protection conference.",
            None,
            &[7],
        ),
        (
            CaseDomain::MentalHealth,
            "Dual diagnosis (mental health)",
            "Turned away by the mental health team until drug use stops.",
            Some("sussex-partnership"),
            &[9],
        ),
        (
            CaseDomain::TreatmentAccess,
            "Access and waiting times",
            "Waiting list for detox keeps being extended.",
            Some("addaction"),
            &[5],
        ),
    ];
    let stages = [Stage::Referred, Stage::Accepted, Stage::Declined, Stage::Active, Stage::Closed, Stage::Reopened];
    let mut previous: Option<Uuid> = None;
    for index in 0..36usize {
        // Housing and prescribing are common, so their roll-ups reach five; the rest are rare.
        let (domain, theme, issue, provider, articles) = issues[if index < 24 { index % 2 } else { 2 + index % 5 }];
        let stage = stages[index % stages.len()];
        let referred_on = working_days_before(&calendar, today, 5 + rng.below(120) as u32);
        let linked = (index == 7).then_some(previous).flatten();
        let referral = Referral {
            pseudonym: None,
            client_name: (index % 5 == 0).then(|| "Chris Demo".to_owned()),
            client_contact: None,
            issue: issue.into(),
            kind: if index % 6 == 5 { AdvocacyKind::NonInstructed } else { AdvocacyKind::Instructed },
            source: ReferralSource::ALL[index % ReferralSource::ALL.len()],
            domain,
            themes: vec![theme_id(theme)],
            provider: provider.map(str::to_owned),
            articles: articles.to_vec(),
            linked_to: linked,
            advocate: Some(advocate),
            referred_on: Some(referred_on),
        };
        let id = advocacy.refer(advocate, referral).await.map_err(fail)?.id;
        previous = Some(id);
        let on = |n| after(&calendar, referred_on, n, today);
        match stage {
            Stage::Referred => continue,
            Stage::Declined => {
                advocacy
                    .decline(id, advocate, on(1), "Outside what independent advocacy can help with")
                    .await
                    .map_err(fail)?;
                continue;
            }
            _ => {}
        }
        advocacy.accept(id, advocate, on(1)).await.map_err(fail)?;
        advocacy.record_consent(id, advocate, on(1), Some(ShareScope::NamedServices)).await.map_err(fail)?;
        if matches!(stage, Stage::Accepted) {
            continue;
        }
        let timeline = [
            (ActionKind::Meeting, "First meeting: agreed what the client wants to happen."),
            (ActionKind::Letter, "Wrote to the service asking for a review meeting."),
            (ActionKind::AccompaniedAppointment, "Went with the client to the review."),
            (ActionKind::Call, "Called the service to chase the written outcome."),
        ];
        for (step, (kind, text)) in timeline.iter().enumerate().take(2 + index % 3) {
            advocacy.record_action(id, advocate, on(2 + step as u32 * 3), *kind, text).await.map_err(fail)?;
        }
        if matches!(stage, Stage::Active) {
            continue;
        }
        let closure = Closure {
            outcome: [CaseOutcome::Achieved, CaseOutcome::PartlyAchieved, CaseOutcome::NotAchieved][index % 3],
            reason: ClosureReason::IssueResolved,
            client_view: Some("Felt listened to for the first time.".into()),
            on: on(14),
        };
        advocacy.close(id, advocate, closure).await.map_err(fail)?;
        if matches!(stage, Stage::Reopened) {
            advocacy.reopen(id, advocate, on(16), "The agreed review did not happen").await.map_err(fail)?;
        }
    }
    Ok(())
}

/// Seeds commissioning decisions linked to shared feedback, so that the loop is visibly closed
/// for some items (decided, done, reported back) and open for others (acknowledged only, or
/// answered "not acted on", or not answered yet).
pub async fn seed_decisions(
    services: &Services,
    commissioner: Uuid,
    coordinators: &std::collections::HashMap<String, Uuid>,
    today: Date,
) -> anyhow::Result<()> {
    use heard_commissioning::domain::decision::{self, Evidence, NewDecision, Status};
    let commissioning = &services.commissioning;
    let calendar = commissioning.calendar().clone();
    commissioning.caught_up().await;
    // Shared items by theme, most-mentioned themes first.
    let mut by_theme: std::collections::BTreeMap<String, Vec<(Uuid, String)>> = std::collections::BTreeMap::new();
    commissioning.read(|state| {
        for item in state.items.values().filter(|item| item.for_commissioners()) {
            for theme in &item.themes {
                by_theme.entry(theme.clone()).or_default().push((item.item, item.hub.clone()));
            }
        }
    });
    let mut themes: Vec<(String, Vec<(Uuid, String)>)> = by_theme.into_iter().collect();
    themes.sort_by_key(|(theme, items)| (std::cmp::Reverse(items.len()), theme.clone()));
    let plans = [
        ("Evening and weekend opening at the Crawley and Worthing hubs", Status::Done, 6),
        ("A named worker for everyone leaving prison, before release", Status::InProgress, 5),
        ("Person-first language training for reception and pharmacy staff", Status::Agreed, 4),
        ("Peer mentors in every treatment service", Status::Proposed, 3),
    ];
    let mut linked: std::collections::HashSet<Uuid> = std::collections::HashSet::new();
    for (index, ((title, status, ladder), (theme, items))) in plans.iter().zip(themes.iter()).enumerate() {
        let decided = working_days_before(&calendar, today, 40 - index as u32 * 8);
        let new = NewDecision {
            decision: Uuid::new_v4(),
            title: (*title).to_owned(),
            service_area: "Adult drug and alcohol treatment".into(),
            decided_by: "West Sussex DAAT board".into(),
            decision_date: decided,
            ladder_rung: *ladder,
            involvement: "Hub members raised it at forums; two peer representatives sat on the working group.".into(),
            proposed_by: commissioner,
        };
        let id = commissioning.propose(new).await.map_err(fail)?.id;
        let on = |n| after(&calendar, decided, n, today);
        commissioning
            .link_evidence(
                id,
                commissioner,
                Evidence::Theme { theme: theme.clone() },
                "The theme raised most often at forums",
                today,
            )
            .await
            .map_err(fail)?;
        let chosen: Vec<Uuid> =
            items.iter().map(|(item, _)| *item).filter(|item| !linked.contains(item)).take(4).collect();
        for item in chosen {
            commissioning
                .link_evidence(
                    id,
                    commissioner,
                    Evidence::FeedbackItem { item },
                    "Said in people's own words at the hub",
                    today,
                )
                .await
                .map_err(fail)?;
            linked.insert(item);
        }
        let path: &[Status] = match status {
            Status::Done => &[Status::Agreed, Status::InProgress, Status::Done],
            Status::InProgress => &[Status::Agreed, Status::InProgress],
            Status::Agreed => &[Status::Agreed],
            _ => &[],
        };
        for (step, next) in path.iter().enumerate() {
            let moved_on = on(2 + step as u32 * 5);
            commissioning
                .change(id, commissioner, |found, _| {
                    decision::change_status(found, *next, moved_on, today).map_err(heard_api::ApiError::from)
                })
                .await
                .map_err(fail)?;
        }
        if matches!(status, Status::InProgress) {
            let progress_on = on(13);
            commissioning
                .change(id, commissioner, |found, _| {
                    decision::record_progress(
                        found,
                        60,
                        "Recruitment of two link workers under way",
                        progress_on,
                        today,
                    )
                    .map_err(heard_api::ApiError::from)
                })
                .await
                .map_err(fail)?;
        }
        if matches!(status, Status::Done) {
            let reviewed = on(13);
            commissioning
                .change(id, commissioner, |found, _| {
                    decision::review_outcome(
                        found,
                        "Evening sessions run twice a week; attendance by people in work doubled.",
                        reviewed,
                        today,
                    )
                    .map_err(heard_api::ApiError::from)
                })
                .await
                .map_err(fail)?;
        }
    }
    // Other shared items: some acknowledged, some answered "not acted on", the rest waiting.
    let waiting: Vec<(Uuid, String)> =
        themes.iter().flat_map(|(_, items)| items.iter().cloned()).filter(|(item, _)| !linked.contains(item)).collect();
    let mut seen = std::collections::HashSet::new();
    let waiting: Vec<(Uuid, String)> = waiting.into_iter().filter(|(item, _)| seen.insert(*item)).collect();
    // Sharing happened as the demo was seeded (today), so the answers are dated today too.
    let answered_on = today;
    for (index, (item, _)) in waiting.iter().enumerate().take(12) {
        let reason = (index % 3 == 0).then_some(
            "The service is commissioned nationally; we have passed this on to NHS England's regional team.",
        );
        commissioning.answer(*item, commissioner, reason, answered_on).await.map_err(fail)?;
    }
    // The hubs reported some of the decided items back at a meeting.
    let feedback = &services.feedback;
    feedback.wait_searchable(commissioning.store().head().position, std::time::Duration::from_secs(30)).await;
    for item in linked.iter().take(6) {
        let Some(found) = feedback.item(*item) else { continue };
        let Some(coordinator) = coordinators.get(&found.logged.hub) else { continue };
        feedback.fed_back(*item, *coordinator, None).await.map_err(fail)?;
    }
    Ok(())
}
