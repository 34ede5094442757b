//! One commissioning decision, from proposal to the review of its outcome, and the commands
//! that move it on.
//!
//! proposed → agreed → in progress → done, or proposed → not taken, or withdrawn from any
//! open status. Done, not taken and withdrawn are final.
//!
//! Evidence links ("you said") are added and withdrawn as events and never edited: an unlink
//! marks the link as withdrawn, with a reason, and the link stays in the history. What a link
//! points at (a feedback item, a theme, a complaint's learning, an advocacy theme) is checked
//! by the service, which also knows whether it is within the commissioners' consent scope.

use jiff::civil::{Date, date};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Rejection, conflict, happened, invalid, required};

/// The stream category of decisions (`decision-<id>`).
pub use heard_contracts::commissioning::DECISION;
use heard_contracts::{Event as _, commissioning as contract};

/// Longest title, service area, body that decides, and milestone title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest description of how people who use services were involved, in characters.
pub const MAX_INVOLVEMENT_CHARS: usize = 2000;
/// Longest rationale, reason or progress note, in characters.
pub const MAX_REASON_CHARS: usize = 1000;
/// Longest outcome review, in characters.
pub const MAX_SUMMARY_CHARS: usize = 4000;

/// The rungs of Arnstein's ladder of citizen participation, lowest first (rung 1 is index 0).
pub const LADDER: [&str; 8] = [
    "Manipulation",
    "Therapy",
    "Informing",
    "Consultation",
    "Placation",
    "Partnership",
    "Delegated power",
    "Citizen control",
];

/// What each rung of the ladder meant for the people who use services, in plain words, lowest
/// first: what a report says instead of "rung 5 of 8: placation".
pub const LADDER_WORDS: [&str; 8] = [
    "People who use services were there to be persuaded, not to be heard.",
    "People who use services were treated as the problem to be fixed, not asked what should change.",
    "People who use services were told what had been decided, but not asked.",
    "People's views were asked for, with no promise that they would change the decision.",
    "People's views were asked for and heard, but the decision stayed with the commissioner.",
    "People who use services shared the planning and the decision with the commissioner.",
    "People who use services held most of the say in the decision.",
    "People who use services made the decision themselves.",
];

/// How far people who use services were involved, in words, for a rung of the ladder.
pub fn ladder_words(rung: u8) -> Option<&'static str> {
    LADDER_WORDS.get(usize::from(rung).checked_sub(1)?).copied()
}

/// The name of a rung of Arnstein's ladder (1 Manipulation … 8 Citizen control).
pub fn ladder_name(rung: u8) -> Option<&'static str> {
    LADDER.get(usize::from(rung).checked_sub(1)?).copied()
}

/// Where a decision stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Proposed,
    Agreed,
    InProgress,
    Done,
    NotTaken,
    Withdrawn,
}

impl Status {
    pub const ALL: [Status; 6] =
        [Status::Proposed, Status::Agreed, Status::InProgress, Status::Done, Status::NotTaken, Status::Withdrawn];

    /// The name stored in events: `in_progress`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Proposed => "proposed",
            Status::Agreed => "agreed",
            Status::InProgress => "in_progress",
            Status::Done => "done",
            Status::NotTaken => "not_taken",
            Status::Withdrawn => "withdrawn",
        }
    }

    /// Plain words: `in progress`.
    pub fn label(self) -> &'static str {
        match self {
            Status::Proposed => "proposed",
            Status::Agreed => "agreed",
            Status::InProgress => "in progress",
            Status::Done => "done",
            Status::NotTaken => "not taken",
            Status::Withdrawn => "withdrawn",
        }
    }

    /// Done, not taken or withdrawn: nothing comes after.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Done | Status::NotTaken | Status::Withdrawn)
    }

    /// Not taken or withdrawn: the decision did not go ahead.
    pub fn is_set_aside(self) -> bool {
        matches!(self, Status::NotTaken | Status::Withdrawn)
    }

    /// The statuses a decision can move to from this one.
    pub fn next(self) -> &'static [Status] {
        match self {
            Status::Proposed => &[Status::Agreed, Status::NotTaken, Status::Withdrawn],
            Status::Agreed => &[Status::InProgress, Status::Done, Status::Withdrawn],
            Status::InProgress => &[Status::Done, Status::Withdrawn],
            Status::Done | Status::NotTaken | Status::Withdrawn => &[],
        }
    }

    pub fn can_move_to(self, next: Status) -> bool {
        self.next().contains(&next)
    }
}

/// What a link points at: the input that shaped the decision ("you said").
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    /// A feedback item shared with commissioners.
    FeedbackItem { item: Uuid },
    /// A theme (its id in the shared theme list).
    Theme { theme: String },
    /// The learning recorded on a complaint.
    ComplaintLearning { complaint: Uuid },
    /// A systemic theme from advocacy cases, e.g. dimension `domain`, value `housing`.
    AdvocacyTheme { dimension: String, value: String },
}

impl Evidence {
    /// The kind stored in events: `feedback_item`, `theme`, `complaint_learning`, `advocacy_theme`.
    pub fn kind(&self) -> &'static str {
        match self {
            Evidence::FeedbackItem { .. } => "feedback_item",
            Evidence::Theme { .. } => "theme",
            Evidence::ComplaintLearning { .. } => "complaint_learning",
            Evidence::AdvocacyTheme { .. } => "advocacy_theme",
        }
    }

    /// The feedback item, when this is one.
    pub fn feedback_item(&self) -> Option<Uuid> {
        match self {
            Evidence::FeedbackItem { item } => Some(*item),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionProposed {
    pub decision: Uuid,
    pub title: String,
    pub service_area: String,
    /// The body that decides, e.g. "DAAT board".
    pub decided_by: String,
    /// When it was or will be decided (a planned decision has a date ahead).
    pub decision_date: Date,
    /// The rung on Arnstein's ladder at which people who use services were involved (1–8).
    pub ladder_rung: u8,
    /// How they were involved, in a few sentences.
    pub involvement: String,
    pub proposed_by: Uuid,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionStatusChanged {
    pub decision: Uuid,
    pub status: Status,
    pub on: Date,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MilestoneAdded {
    pub decision: Uuid,
    pub milestone: Uuid,
    pub title: String,
    pub due: Date,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MilestoneMet {
    pub decision: Uuid,
    pub milestone: Uuid,
    pub on: Date,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressRecorded {
    pub decision: Uuid,
    pub percent: u8,
    pub note: String,
    pub on: Date,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceLinked {
    pub decision: Uuid,
    pub link: Uuid,
    pub evidence: Evidence,
    /// Why this evidence mattered to the decision.
    pub rationale: String,
    pub by: Uuid,
    pub on: Date,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceUnlinked {
    pub decision: Uuid,
    pub link: Uuid,
    pub reason: String,
    pub by: Uuid,
    pub on: Date,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeReviewed {
    pub decision: Uuid,
    pub on: Date,
    pub summary: String,
}

/// Every event of a decision. Serialized, an event is its data alone (the JSON of the inner
/// struct); the type travels beside it as [`Event::event_type`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Event {
    Proposed(DecisionProposed),
    StatusChanged(DecisionStatusChanged),
    MilestoneAdded(MilestoneAdded),
    MilestoneMet(MilestoneMet),
    ProgressRecorded(ProgressRecorded),
    EvidenceLinked(EvidenceLinked),
    EvidenceUnlinked(EvidenceUnlinked),
    OutcomeReviewed(OutcomeReviewed),
}

impl Event {
    /// The event type stored in the log.
    pub fn event_type(&self) -> &'static str {
        match self {
            Event::Proposed(_) => "DecisionProposed",
            Event::StatusChanged(_) => contract::DecisionStatusChanged::TYPE,
            Event::MilestoneAdded(_) => "MilestoneAdded",
            Event::MilestoneMet(_) => "MilestoneMet",
            Event::ProgressRecorded(_) => "ProgressRecorded",
            Event::EvidenceLinked(_) => contract::EvidenceLinked::TYPE,
            Event::EvidenceUnlinked(_) => contract::EvidenceUnlinked::TYPE,
            Event::OutcomeReviewed(_) => "OutcomeReviewed",
        }
    }

    /// The decision the event belongs to.
    pub fn decision(&self) -> Uuid {
        match self {
            Event::Proposed(e) => e.decision,
            Event::StatusChanged(e) => e.decision,
            Event::MilestoneAdded(e) => e.decision,
            Event::MilestoneMet(e) => e.decision,
            Event::ProgressRecorded(e) => e.decision,
            Event::EvidenceLinked(e) => e.decision,
            Event::EvidenceUnlinked(e) => e.decision,
            Event::OutcomeReviewed(e) => e.decision,
        }
    }
}

/// A step towards carrying the decision out ("we did").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Milestone {
    pub id: Uuid,
    pub title: String,
    pub due: Date,
    pub met_on: Option<Date>,
}

/// Evidence linked to a decision. Never edited or removed: an unlink only sets `unlinked`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub link: Uuid,
    pub evidence: Evidence,
    pub rationale: String,
    pub linked_on: Date,
    pub by: Uuid,
    /// When and why it was withdrawn.
    pub unlinked: Option<(Date, String)>,
}

impl Link {
    pub fn is_active(&self) -> bool {
        self.unlinked.is_none()
    }
}

/// A decision as its events have made it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub id: Uuid,
    pub title: String,
    pub service_area: String,
    pub decided_by: String,
    pub decision_date: Date,
    pub ladder_rung: u8,
    pub involvement: String,
    pub proposed_by: Uuid,
    pub status: Status,
    /// Every change of status with its date, oldest first (the proposal itself is not listed).
    pub status_history: Vec<(Status, Date)>,
    /// In the order they were added.
    pub milestones: Vec<Milestone>,
    /// The latest progress: percent, note, date.
    pub progress: Option<(u8, String, Date)>,
    /// Every link ever made, in the order made, withdrawn ones included.
    pub links: Vec<Link>,
    /// Reviews of the outcome (date, summary), oldest first.
    pub outcome_reviews: Vec<(Date, String)>,
    /// The stream revision of the last event applied (the proposal alone is 0).
    pub revision: u64,
}

impl Decision {
    /// Folds a decision's events; `None` when the first is not `Proposed`.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> Option<Decision> {
        let mut events = events.into_iter();
        let Event::Proposed(proposed) = events.next()? else {
            return None;
        };
        let mut decision = Decision {
            id: proposed.decision,
            title: proposed.title.clone(),
            service_area: proposed.service_area.clone(),
            decided_by: proposed.decided_by.clone(),
            decision_date: proposed.decision_date,
            ladder_rung: proposed.ladder_rung,
            involvement: proposed.involvement.clone(),
            proposed_by: proposed.proposed_by,
            status: Status::Proposed,
            status_history: Vec::new(),
            milestones: Vec::new(),
            progress: None,
            links: Vec::new(),
            outcome_reviews: Vec::new(),
            revision: 0,
        };
        for event in events {
            decision.apply(event);
        }
        Some(decision)
    }

    /// Applies a later event. (`Proposed` starts a decision: see [`Decision::from_events`].)
    pub fn apply(&mut self, event: &Event) {
        self.revision += 1;
        match event {
            Event::Proposed(_) => {}
            Event::StatusChanged(changed) => {
                self.status = changed.status;
                self.status_history.push((changed.status, changed.on));
            }
            Event::MilestoneAdded(added) => self.milestones.push(Milestone {
                id: added.milestone,
                title: added.title.clone(),
                due: added.due,
                met_on: None,
            }),
            Event::MilestoneMet(met) => {
                if let Some(milestone) = self.milestones.iter_mut().find(|m| m.id == met.milestone) {
                    milestone.met_on = Some(met.on);
                }
            }
            Event::ProgressRecorded(progress) => {
                self.progress = Some((progress.percent, progress.note.clone(), progress.on));
            }
            Event::EvidenceLinked(linked) => self.links.push(Link {
                link: linked.link,
                evidence: linked.evidence.clone(),
                rationale: linked.rationale.clone(),
                linked_on: linked.on,
                by: linked.by,
                unlinked: None,
            }),
            Event::EvidenceUnlinked(unlinked) => {
                if let Some(link) = self.links.iter_mut().find(|l| l.link == unlinked.link && l.is_active()) {
                    link.unlinked = Some((unlinked.on, unlinked.reason.clone()));
                }
            }
            Event::OutcomeReviewed(review) => self.outcome_reviews.push((review.on, review.summary.clone())),
        }
    }

    /// The links in force: made and not withdrawn.
    pub fn active_links(&self) -> impl Iterator<Item = &Link> {
        self.links.iter().filter(|link| link.is_active())
    }

    pub fn link(&self, id: Uuid) -> Option<&Link> {
        self.links.iter().find(|link| link.link == id)
    }

    pub fn milestone(&self, id: Uuid) -> Option<&Milestone> {
        self.milestones.iter().find(|milestone| milestone.id == id)
    }

    /// The name of the rung of Arnstein's ladder.
    pub fn ladder_name(&self) -> Option<&'static str> {
        ladder_name(self.ladder_rung)
    }

    /// The day the decision was marked done, while it is done.
    pub fn done_on(&self) -> Option<Date> {
        if self.status != Status::Done {
            return None;
        }
        self.status_history.iter().rev().find(|(status, _)| *status == Status::Done).map(|(_, on)| *on)
    }

    /// The latest outcome review (date, summary).
    pub fn latest_review(&self) -> Option<&(Date, String)> {
        self.outcome_reviews.last()
    }
}

/// What someone typed to propose a decision: the fields of the proposal, not yet checked
/// ([`propose`] checks them and trims the text).
pub type NewDecision = DecisionProposed;

const SET_ASIDE: &str = "this decision was not taken or was withdrawn";

fn not_set_aside(decision: &Decision) -> Result<(), Rejection> {
    if decision.status.is_set_aside() { Err(conflict(SET_ASIDE)) } else { Ok(()) }
}

fn reason(field: &str, text: &str) -> Result<String, Rejection> {
    required(field, text, MAX_REASON_CHARS, "give a reason in 1–1000 characters")
}

/// Records a decision, taken or planned.
pub fn propose(new: NewDecision, today: Date) -> Result<Event, Rejection> {
    let title = required("title", &new.title, MAX_TITLE_CHARS, "give the decision a title of 1–200 characters")?;
    let service_area =
        required("serviceArea", &new.service_area, MAX_TITLE_CHARS, "name the service area in 1–200 characters")?;
    let decided_by = required("decidedBy", &new.decided_by, MAX_TITLE_CHARS, "name who decides, in 1–200 characters")?;
    if new.decision_date < date(2000, 1, 1) {
        return Err(invalid("decisionDate", "the date cannot be before 2000"));
    }
    if today.checked_add(jiff::Span::new().years(10)).is_ok_and(|limit| new.decision_date > limit) {
        return Err(invalid("decisionDate", "a planned decision cannot be more than ten years ahead"));
    }
    if ladder_name(new.ladder_rung).is_none() {
        return Err(invalid(
            "ladderRung",
            "choose a rung of Arnstein's ladder from 1 (manipulation) to 8 (citizen control)",
        ));
    }
    let involvement = required(
        "involvement",
        &new.involvement,
        MAX_INVOLVEMENT_CHARS,
        "say how people who use services were involved, in 1–2000 characters",
    )?;
    Ok(Event::Proposed(DecisionProposed { title, service_area, decided_by, involvement, ..new }))
}

/// Moves a decision on: agreed, in progress, done, not taken or withdrawn.
pub fn change_status(decision: &Decision, status: Status, on: Date, today: Date) -> Result<Event, Rejection> {
    if decision.status.is_final() {
        return Err(conflict("this decision is closed"));
    }
    if decision.status == status {
        return Err(Rejection::Conflict(format!("this decision is already {}", status.label())));
    }
    if !decision.status.can_move_to(status) {
        let next: Vec<&str> = decision.status.next().iter().map(|next| next.label()).collect();
        return Err(Rejection::Conflict(format!(
            "a decision that is {} cannot become {}; it can become {}",
            decision.status.label(),
            status.label(),
            next.join(", "),
        )));
    }
    happened("on", on, today)?;
    if let Some((_, last)) = decision.status_history.last()
        && on < *last
    {
        return Err(invalid("on", "the date cannot be before the last change of status"));
    }
    Ok(Event::StatusChanged(DecisionStatusChanged { decision: decision.id, status, on }))
}

/// Adds a step towards carrying the decision out, with the date it is due.
pub fn add_milestone(decision: &Decision, milestone: Uuid, title: &str, due: Date) -> Result<Event, Rejection> {
    not_set_aside(decision)?;
    if decision.milestone(milestone).is_some() {
        return Err(conflict("this milestone is already recorded"));
    }
    let title = required("title", title, MAX_TITLE_CHARS, "give the milestone a title of 1–200 characters")?;
    if due < date(2000, 1, 1) {
        return Err(invalid("due", "the date cannot be before 2000"));
    }
    Ok(Event::MilestoneAdded(MilestoneAdded { decision: decision.id, milestone, title, due }))
}

/// Records that a milestone was met.
pub fn meet_milestone(decision: &Decision, milestone: Uuid, on: Date, today: Date) -> Result<Event, Rejection> {
    not_set_aside(decision)?;
    let Some(found) = decision.milestone(milestone) else {
        return Err(invalid("milestoneId", "this decision has no such milestone"));
    };
    if found.met_on.is_some() {
        return Err(conflict("this milestone has already been met"));
    }
    happened("on", on, today)?;
    Ok(Event::MilestoneMet(MilestoneMet { decision: decision.id, milestone, on }))
}

/// Records how far the decision has been carried out, with an optional note.
pub fn record_progress(
    decision: &Decision,
    percent: u8,
    note: &str,
    on: Date,
    today: Date,
) -> Result<Event, Rejection> {
    if !matches!(decision.status, Status::Agreed | Status::InProgress) {
        return Err(conflict("record progress once the decision is agreed, and before it is done"));
    }
    if percent > 100 {
        return Err(invalid("percent", "give the progress as a percentage from 0 to 100"));
    }
    let note = super::clean("note", note)?;
    let note = note.trim();
    if note.chars().count() > MAX_REASON_CHARS {
        return Err(invalid("note", "keep the note to 1000 characters"));
    }
    happened("on", on, today)?;
    Ok(Event::ProgressRecorded(ProgressRecorded { decision: decision.id, percent, note: note.to_owned(), on }))
}

/// Evidence with its text trimmed; blank text is refused.
pub(crate) fn checked(evidence: Evidence) -> Result<Evidence, Rejection> {
    let text = |text: &str, message: &str| required("evidence", text, MAX_TITLE_CHARS, message);
    Ok(match evidence {
        Evidence::Theme { theme } => Evidence::Theme { theme: text(&theme, "choose the theme")? },
        Evidence::AdvocacyTheme { dimension, value } => Evidence::AdvocacyTheme {
            dimension: text(&dimension, "choose the advocacy theme")?,
            value: text(&value, "choose the advocacy theme")?,
        },
        other @ (Evidence::FeedbackItem { .. } | Evidence::ComplaintLearning { .. }) => other,
    })
}

/// Links evidence to the decision, saying why it mattered ("you said").
pub fn link_evidence(
    decision: &Decision,
    link: Uuid,
    evidence: Evidence,
    rationale: &str,
    by: Uuid,
    on: Date,
    today: Date,
) -> Result<Event, Rejection> {
    not_set_aside(decision)?;
    if decision.link(link).is_some() {
        return Err(conflict("this link is already recorded"));
    }
    let evidence = checked(evidence)?;
    if decision.active_links().any(|active| active.evidence == evidence) {
        return Err(conflict("this is already linked to the decision"));
    }
    let rationale =
        required("rationale", rationale, MAX_REASON_CHARS, "say why this evidence mattered, in 1–1000 characters")?;
    happened("on", on, today)?;
    Ok(Event::EvidenceLinked(EvidenceLinked { decision: decision.id, link, evidence, rationale, by, on }))
}

/// Withdraws a link, saying why. The link stays in the history, marked as withdrawn.
pub fn unlink_evidence(
    decision: &Decision,
    link: Uuid,
    why: &str,
    by: Uuid,
    on: Date,
    today: Date,
) -> Result<Event, Rejection> {
    let Some(found) = decision.link(link) else {
        return Err(invalid("linkId", "this decision has no such link"));
    };
    if !found.is_active() {
        return Err(conflict("this link has already been withdrawn"));
    }
    let reason = reason("reason", why)?;
    happened("on", on, today)?;
    if on < found.linked_on {
        return Err(invalid("on", "the date cannot be before the link was made"));
    }
    Ok(Event::EvidenceUnlinked(EvidenceUnlinked { decision: decision.id, link, reason, by, on }))
}

/// Reviews what came of a decision once it is done. A decision can be reviewed more than once.
pub fn review_outcome(decision: &Decision, summary: &str, on: Date, today: Date) -> Result<Event, Rejection> {
    let Some(done_on) = decision.done_on() else {
        return Err(conflict("review the outcome once the decision is done"));
    };
    let summary =
        required("summary", summary, MAX_SUMMARY_CHARS, "say what came of the decision, in 1–4000 characters")?;
    happened("on", on, today)?;
    if on < done_on {
        return Err(invalid("on", "the date cannot be before the decision was done"));
    }
    Ok(Event::OutcomeReviewed(OutcomeReviewed { decision: decision.id, on, summary }))
}
