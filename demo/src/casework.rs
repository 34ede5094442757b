//! The demo's advocacy cases, Bill of Rights complaints and commissioning decisions: every
//! state of each lifecycle, some complaints overdue, and enough closed ones that commissioners'
//! roll-ups show numbers as well as suppressed small groups. Their words are in
//! `demo/data/casework.toml`; names and stories are invented.

use heard_advocacy::domain::case::{AdvocacyKind, CaseOutcome, ClosureReason, ReferralSource, ShareScope};
use heard_advocacy::service::{Closure, Referral};
use heard_feedback::domain::themes::theme_id;
use heard_rights::domain::complaint::{self, AcknowledgementMethod, Complainant, EscalatedTo, Outcome, Route};
use heard_rights::service::NewComplaint;
use heard_workdays::Calendar;
use jiff::civil::Date;
use uuid::Uuid;

use crate::words::CASEWORK;
use crate::{Rng, Services};

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

/// How the demo's acknowledgements were made, in turn.
const ACKNOWLEDGED_BY: [AcknowledgementMethod; 5] = [
    AcknowledgementMethod::Phone,
    AcknowledgementMethod::Letter,
    AcknowledgementMethod::Email,
    AcknowledgementMethod::InPerson,
    AcknowledgementMethod::TextMessage,
];

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

/// Seeds complaints in every state, from `handler`'s desk (and relayed by `advocate`); some are
/// assigned to `colleague`, another complaints handler, and one still waiting to be
/// acknowledged is assigned to `handler`. Every acknowledged complaint's words were reviewed
/// for the provider; those still waiting to be acknowledged await the review.
pub async fn seed_complaints(
    services: Services<'_>,
    handler: Uuid,
    colleague: Option<Uuid>,
    advocate: Uuid,
    today: Date,
) -> anyhow::Result<()> {
    let rights = services.rights;
    let words = &CASEWORK.complaints;
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
        let story = &words.stories[rng.index(words.stories.len())];
        let relayed = index % 4 == 1;
        let named = !relayed && index % 3 == 0;
        let received_on = working_days_before(&calendar, today, age);
        let new = NewComplaint {
            charter: "exact".into(),
            provider: if index >= 17 {
                words.providers[0].clone()
            } else {
                words.providers[rng.index(words.providers.len())].clone()
            },
            service: None,
            articles: story.articles.clone(),
            complainant: if relayed {
                Complainant::RelayedByAdvocate
            } else if named {
                Complainant::Named
            } else {
                Complainant::Anonymous
            },
            name: named.then(|| words.named[index % words.named.len()].clone()),
            contact: named.then(|| words.contact.clone()),
            route: if relayed {
                Route::Advocate
            } else if index % 2 == 0 {
                Route::Hub
            } else {
                Route::Direct
            },
            advocate: relayed.then_some(advocate),
            what_happened: story.what_happened.clone(),
            outcome_wanted: story.outcome_wanted.clone(),
            received_on,
        };
        let id = rights.raise(if relayed { advocate } else { handler }, new, today).await.map_err(fail)?.complaint.id;
        let on = |n| after(&calendar, received_on, n, today);
        let step = |decide| Step { rights, id, handler }.run(decide);
        if matches!(reached, Reached::Received) {
            if index == 1 {
                rights.assign(id, handler, handler).await.map_err(fail)?;
            }
            continue;
        }
        let acknowledged = on(1);
        let method = ACKNOWLEDGED_BY[index % ACKNOWLEDGED_BY.len()];
        step(Decide::new(move |c| complaint::acknowledge(c, method, acknowledged, today))).await?;
        // The team reviews the words before the provider reads them: a version of its own where
        // the story could tell the service who complained, the words as written otherwise.
        match &story.for_provider {
            Some(words) => rights.redact_for_provider(id, handler, words).await.map_err(fail)?,
            None => rights.release_to_provider(id, handler).await.map_err(fail)?,
        };
        if let Some(colleague) = colleague.filter(|_| index % 3 == 2) {
            rights.assign(id, handler, colleague).await.map_err(fail)?;
        }
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
                step(Decide::new(move |c| complaint::pause(c, paused, &words.paused_because, today))).await?;
                continue;
            }
            Reached::Extended => {
                step(Decide::new(move |c| complaint::extend(c, 10, &words.extended_because, true))).await?;
                continue;
            }
            Reached::OldAndExplained => {
                step(Decide::new(move |c| complaint::explain_delay(c, &words.delay_explained))).await?;
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
            step(Decide::new(move |c| complaint::escalate(c, EscalatedTo::Ombudsman, &words.ombudsman_reference)))
                .await?;
        }
        if matches!(outcome, Outcome::Upheld | Outcome::PartlyUpheld) {
            let learning = &words.learning[index % words.learning.len()];
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

/// Seeds advocacy cases in every state for `advocate`.
pub async fn seed_cases(services: Services<'_>, advocate: Uuid, today: Date) -> anyhow::Result<()> {
    let advocacy = services.advocacy;
    let words = &CASEWORK.cases;
    let calendar = services.rights.calendar().clone();
    let mut rng = Rng::new(7);
    let stages = [Stage::Referred, Stage::Accepted, Stage::Declined, Stage::Active, Stage::Closed, Stage::Reopened];
    let mut previous: Option<Uuid> = None;
    for index in 0..36usize {
        // Housing and prescribing are common, so their roll-ups reach five; the rest are rare.
        let issue = &words.issues[if index < 24 { index % 2 } else { 2 + index % (words.issues.len() - 2) }];
        let stage = stages[index % stages.len()];
        let referred_on = working_days_before(&calendar, today, 5 + rng.below(120) as u32);
        let linked = (index == 7).then_some(previous).flatten();
        let referral = Referral {
            pseudonym: None,
            client_name: (index % 5 == 0).then(|| words.client_name.clone()),
            client_contact: None,
            issue: issue.issue.clone(),
            kind: if index % 6 == 5 { AdvocacyKind::NonInstructed } else { AdvocacyKind::Instructed },
            source: ReferralSource::ALL[index % ReferralSource::ALL.len()],
            domain: issue.domain,
            themes: vec![theme_id(&issue.theme)],
            provider: issue.provider.clone(),
            articles: issue.articles.clone(),
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
                advocacy.decline(id, advocate, on(1), &words.declined_because).await.map_err(fail)?;
                continue;
            }
            _ => {}
        }
        advocacy.accept(id, advocate, on(1)).await.map_err(fail)?;
        advocacy.record_consent(id, advocate, on(1), Some(ShareScope::NamedServices)).await.map_err(fail)?;
        if matches!(stage, Stage::Accepted) {
            continue;
        }
        for (step, action) in words.timeline.iter().enumerate().take(2 + index % 3) {
            advocacy
                .record_action(id, advocate, on(2 + step as u32 * 3), action.kind, &action.note)
                .await
                .map_err(fail)?;
        }
        if matches!(stage, Stage::Active) {
            continue;
        }
        let closure = Closure {
            outcome: [CaseOutcome::Achieved, CaseOutcome::PartlyAchieved, CaseOutcome::NotAchieved][index % 3],
            reason: ClosureReason::IssueResolved,
            client_view: Some(words.client_view.clone()),
            on: on(14),
        };
        advocacy.close(id, advocate, closure).await.map_err(fail)?;
        if matches!(stage, Stage::Reopened) {
            advocacy.reopen(id, advocate, on(16), &words.reopened_because).await.map_err(fail)?;
        }
    }
    Ok(())
}

/// Seeds commissioning decisions linked to shared feedback, so that the loop is visibly closed
/// for some items (decided, done, reported back) and open for others (acknowledged only, or
/// answered "not acted on", or not answered yet).
pub async fn seed_decisions(
    services: Services<'_>,
    commissioner: Uuid,
    coordinators: &std::collections::HashMap<String, Uuid>,
    today: Date,
) -> anyhow::Result<()> {
    use heard_commissioning::domain::decision::{self, Evidence, NewDecision, Status};
    let commissioning = services.commissioning;
    let words = &CASEWORK.decisions;
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
    let mut linked: std::collections::HashSet<Uuid> = std::collections::HashSet::new();
    // Each decision's items in the order they were linked, so that what is reported back below
    // leaves every decision with items still waiting to hear.
    let mut linked_by_decision: Vec<Vec<Uuid>> = Vec::new();
    for (index, (plan, (theme, items))) in words.plans.iter().zip(themes.iter()).enumerate() {
        let status = plan.status;
        let decided = working_days_before(&calendar, today, 40 - index as u32 * 8);
        let new = NewDecision {
            decision: Uuid::new_v4(),
            title: plan.title.clone(),
            service_area: words.service_area.clone(),
            decided_by: words.decided_by.clone(),
            decision_date: decided,
            ladder_rung: plan.ladder_rung,
            involvement: words.involvement.clone(),
            proposed_by: commissioner,
        };
        let id = commissioning.propose(new).await.map_err(fail)?.id;
        let on = |n| after(&calendar, decided, n, today);
        commissioning
            .link_evidence(id, commissioner, Evidence::Theme { theme: theme.clone() }, &words.theme_evidence, today)
            .await
            .map_err(fail)?;
        let chosen: Vec<Uuid> =
            items.iter().map(|(item, _)| *item).filter(|item| !linked.contains(item)).take(4).collect();
        linked_by_decision.push(chosen.clone());
        for item in chosen {
            commissioning
                .link_evidence(id, commissioner, Evidence::FeedbackItem { item }, &words.item_evidence, today)
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
                .decide(id, commissioner, |found| decision::change_status(found, *next, moved_on, today))
                .await
                .map_err(fail)?;
        }
        if matches!(status, Status::InProgress) {
            let progress_on = on(13);
            commissioning
                .decide(id, commissioner, |found| {
                    decision::record_progress(found, 60, &words.progress, progress_on, today)
                })
                .await
                .map_err(fail)?;
        }
        if matches!(status, Status::Done) {
            let reviewed = on(13);
            commissioning
                .decide(id, commissioner, |found| {
                    decision::review_outcome(found, &words.outcome_review, reviewed, today)
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
        let reason = (index % 3 == 0).then_some(words.not_acted_on_because.as_str());
        commissioning.answer(*item, commissioner, reason, answered_on).await.map_err(fail)?;
    }
    // The hubs reported half of each decision's items back at a meeting; the rest still wait,
    // so a done decision always has items whose loop stands at "decision done".
    let feedback = services.feedback;
    feedback.wait_searchable(commissioning.store().head().position, std::time::Duration::from_secs(30)).await;
    let reported = linked_by_decision.iter().flat_map(|items| items.iter().take(items.len() / 2));
    for item in reported {
        let Some(found) = feedback.item(*item) else { continue };
        let Some(coordinator) = coordinators.get(&found.logged.hub) else { continue };
        feedback.fed_back(*item, *coordinator, None).await.map_err(fail)?;
    }
    Ok(())
}
