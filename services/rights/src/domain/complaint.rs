//! One complaint, from receipt to outcome, and the commands that move it on.
//!
//! received → acknowledged → early resolution or investigation → response issued → outcome.
//! Withdrawal is possible at any open stage. Extensions and pauses carry reasons and move the
//! working-day clock; a complaint open for six months must carry an explanation.
//!
//! Two ways change how long the response may take, and they mean different things to the
//! person who complained:
//! - an **agreed period** ([`agree_period`]) replaces the usual 20 working days with a period
//!   the person agreed to, counted from the day it was received; agreeing again replaces it.
//! - an **extension** ([`extend`]) adds working days on top of whatever period applies,
//!   because the response needs longer than was said; it records why, and whether the person
//!   agreed to wait (the deadline moves either way: they may take it further if they did not).
//!
//! Acknowledging records how the person was told (phone, letter, email, in person, text
//! message) and on which day; an acknowledgement recorded before Heard asked how has no method.
//! A complaint is worked by one complaints handler at a time: whoever it was assigned to last,
//! or else whoever acknowledged it.

use std::collections::BTreeSet;

use heard_workdays::Calendar;
use heard_workdays::clock::{Clock, Extension, Pause, Reading};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Rejection, clean, invalid, required};
use heard_workdays::uk_day;

pub use heard_contracts::rights::COMPLAINT;
use heard_contracts::{Event as _, rights as contract};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Complainant {
    /// Named; their details are personal fields.
    Named,
    Anonymous,
    /// Relayed by an advocate: the provider never learns who complained.
    RelayedByAdvocate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    Hub,
    Advocate,
    Direct,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Upheld,
    PartlyUpheld,
    NotUpheld,
    ResolvedEarly,
    Withdrawn,
}

impl Outcome {
    /// Its name in reports and on a complaint's steps: `upheld`, `partly_upheld`, …
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Upheld => "upheld",
            Outcome::PartlyUpheld => "partly_upheld",
            Outcome::NotUpheld => "not_upheld",
            Outcome::ResolvedEarly => "resolved_early",
            Outcome::Withdrawn => "withdrawn",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalatedTo {
    ProviderProcess,
    Ombudsman,
}

/// How the person who complained was told their complaint had been received.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AcknowledgementMethod {
    Phone,
    Letter,
    Email,
    InPerson,
    TextMessage,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Received,
    Acknowledged,
    EarlyResolution,
    Investigation,
    ResponseIssued,
    Closed,
}

/// The events of a complaint (non-personal parts; what happened, the outcome wanted and the
/// complainant's details travel as personal fields beside `Received`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    Received {
        complaint: Uuid,
        /// The charter whose articles it cites (`exact`).
        charter: String,
        provider: String,
        service: Option<String>,
        articles: BTreeSet<u32>,
        complainant: Complainant,
        route: Route,
        received_on: Date,
        /// The advocate who relayed it, if any.
        advocate: Option<Uuid>,
    },
    Acknowledged {
        on: Date,
        /// How the person was told; `None` in acknowledgements recorded before Heard asked.
        #[serde(default)]
        method: Option<AcknowledgementMethod>,
    },
    PeriodAgreed {
        working_days: u32,
    },
    EarlyResolutionChosen,
    InvestigationOpened,
    Extended {
        working_days: u32,
        reason: String,
        /// Whether the person agreed to wait longer; `None` in extensions recorded before
        /// Heard asked.
        #[serde(default)]
        person_agreed: Option<bool>,
    },
    Paused {
        on: Date,
        reason: String,
    },
    Resumed {
        on: Date,
    },
    ResponseIssued {
        on: Date,
    },
    OutcomeRecorded {
        outcome: Outcome,
        on: Date,
    },
    Escalated {
        to: EscalatedTo,
        reference: String,
    },
    DelayExplained {
        reason: String,
    },
    LearningRecorded {
        statement: String,
    },
    /// Assigned (or re-assigned) to a complaints handler, who works it from now on.
    Assigned {
        to: Uuid,
    },
    /// A handler wrote the complaint's words as the provider may read them. The words travel
    /// as personal fields, sealed under the complaint's key, so erasure takes them too; the
    /// latest replaces any before.
    RedactedForProvider,
    /// A handler read the complaint's words and found nothing to take out: the provider may read
    /// them as written. Carries nothing personal.
    ReleasedToProvider,
}

impl Event {
    /// The event type stored in the log.
    pub fn event_type(&self) -> &'static str {
        match self {
            Event::Received { .. } => contract::ComplaintReceived::TYPE,
            Event::Acknowledged { .. } => "ComplaintAcknowledged",
            Event::PeriodAgreed { .. } => "ComplaintPeriodAgreed",
            Event::EarlyResolutionChosen => "ComplaintEarlyResolutionChosen",
            Event::InvestigationOpened => "ComplaintInvestigationOpened",
            Event::Extended { .. } => "ComplaintExtended",
            Event::Paused { .. } => "ComplaintPaused",
            Event::Resumed { .. } => "ComplaintResumed",
            Event::ResponseIssued { .. } => "ComplaintResponseIssued",
            Event::OutcomeRecorded { .. } => "ComplaintOutcomeRecorded",
            Event::Escalated { .. } => "ComplaintEscalated",
            Event::DelayExplained { .. } => "ComplaintDelayExplained",
            Event::LearningRecorded { .. } => contract::ComplaintLearningRecorded::TYPE,
            Event::Assigned { .. } => "ComplaintAssigned",
            Event::RedactedForProvider => "ComplaintRedactedForProvider",
            Event::ReleasedToProvider => "ComplaintReleasedToProvider",
        }
    }
}

/// A complaint as its events have made it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Complaint {
    pub id: Uuid,
    pub charter: String,
    pub provider: String,
    pub service: Option<String>,
    pub advocate: Option<Uuid>,
    pub articles: BTreeSet<u32>,
    pub complainant: Complainant,
    pub route: Route,
    pub stage: Stage,
    #[serde(with = "saved_clock")]
    pub clock: Clock,
    /// How the acknowledgement was made (`None` before it, and for acknowledgements recorded
    /// before Heard asked).
    pub acknowledged_by: Option<AcknowledgementMethod>,
    /// The complaints handler working it: the last one it was assigned to, or else the one who
    /// acknowledged it (see [`Complaint::acknowledged_by_handler`]).
    pub handler: Option<Uuid>,
    pub outcome: Option<Outcome>,
    /// Handled by early resolution (an investigation replaces it).
    pub early_resolution: bool,
    pub escalations: Vec<(EscalatedTo, String)>,
    pub delay_explanations: Vec<String>,
    pub learning: Vec<String>,
}

impl Complaint {
    /// Folds a complaint's events; `None` when the first is not `Received`.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> Option<Complaint> {
        let mut events = events.into_iter();
        let Event::Received {
            complaint,
            charter,
            provider,
            service,
            articles,
            complainant,
            route,
            received_on,
            advocate,
        } = events.next()?
        else {
            return None;
        };
        let mut state = Complaint {
            id: *complaint,
            charter: charter.clone(),
            provider: provider.clone(),
            service: service.clone(),
            advocate: *advocate,
            articles: articles.clone(),
            complainant: *complainant,
            route: *route,
            stage: Stage::Received,
            clock: Clock::new(*received_on),
            acknowledged_by: None,
            handler: None,
            outcome: None,
            early_resolution: false,
            escalations: Vec::new(),
            delay_explanations: Vec::new(),
            learning: Vec::new(),
        };
        for event in events {
            state.apply(event);
        }
        Some(state)
    }

    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::Received { .. } => {}
            Event::Acknowledged { on, method } => {
                self.clock.acknowledged = Some(*on);
                self.acknowledged_by = *method;
                self.stage = Stage::Acknowledged;
            }
            Event::PeriodAgreed { working_days } => self.clock.agreed_working_days = Some(*working_days),
            Event::EarlyResolutionChosen => {
                self.stage = Stage::EarlyResolution;
                self.early_resolution = true;
            }
            Event::InvestigationOpened => {
                self.stage = Stage::Investigation;
                self.early_resolution = false;
            }
            Event::Extended { working_days, reason, person_agreed } => self.clock.extensions.push(Extension {
                working_days: *working_days,
                reason: reason.clone(),
                person_agreed: *person_agreed,
            }),
            Event::Paused { on, reason } => {
                self.clock.pauses.push(Pause { from: *on, until: None, reason: reason.clone() })
            }
            Event::Resumed { on } => {
                if let Some(pause) = self.clock.pauses.iter_mut().find(|pause| pause.until.is_none()) {
                    pause.until = Some(*on);
                }
            }
            Event::ResponseIssued { on } => {
                self.clock.responded = Some(*on);
                self.stage = Stage::ResponseIssued;
            }
            Event::OutcomeRecorded { outcome, on } => {
                self.outcome = Some(*outcome);
                self.stage = Stage::Closed;
                self.clock.responded.get_or_insert(*on);
            }
            Event::Escalated { to, reference } => self.escalations.push((*to, reference.clone())),
            Event::DelayExplained { reason } => self.delay_explanations.push(reason.clone()),
            Event::LearningRecorded { statement } => self.learning.push(statement.clone()),
            Event::Assigned { to } => self.handler = Some(*to),
            Event::RedactedForProvider | Event::ReleasedToProvider => {}
        }
    }

    /// The handler who acknowledged it works it, unless it was assigned to someone first (the
    /// rule since before assignments were recorded). Who acknowledged is the event's actor, which
    /// the model reads from its metadata; `apply` has only the event.
    pub fn acknowledged_by_handler(&mut self, by: Option<Uuid>) {
        if self.handler.is_none() {
            self.handler = by;
        }
    }

    pub fn is_open(&self) -> bool {
        self.stage != Stage::Closed
    }

    /// The clock on `today`.
    pub fn reading(&self, calendar: &Calendar, today: Date) -> Result<Reading, heard_workdays::CalendarError> {
        self.clock.read(calendar, today)
    }
}

fn reason(field: &str, text: &str) -> Result<String, Rejection> {
    required(field, text, 1000, "give a reason in 1–1000 characters")
}

fn not_before_receipt(complaint: &Complaint, field: &str, on: Date, today: Date) -> Result<(), Rejection> {
    if on < complaint.clock.received {
        return Err(invalid(field, "the date cannot be before the complaint was received"));
    }
    if on > today {
        return Err(invalid(field, "the date cannot be in the future"));
    }
    Ok(())
}

/// The day of the acknowledgement: not before the complaint was received and not in the
/// future, refused in words that name the days it must lie between.
fn acknowledgement_day(complaint: &Complaint, on: Date, today: Date) -> Result<(), Rejection> {
    if on < complaint.clock.received {
        let received = uk_day(complaint.clock.received);
        return Err(invalid(
            "on",
            format!("the acknowledgement cannot be before the complaint was received on {received}"),
        ));
    }
    if on > today {
        return Err(invalid("on", format!("the acknowledgement cannot be in the future (after {})", uk_day(today))));
    }
    Ok(())
}

fn conflict(message: &str) -> Rejection {
    Rejection::Conflict(message.to_owned())
}

/// What a new complaint needs, checked.
#[allow(clippy::too_many_arguments)]
pub fn receive(
    complaint: Uuid,
    charter: &str,
    provider: &str,
    service: Option<&str>,
    articles: &[u32],
    known_articles: &BTreeSet<u32>,
    complainant: Complainant,
    route: Route,
    advocate: Option<Uuid>,
    received_on: Date,
    today: Date,
) -> Result<Event, Rejection> {
    let provider = clean("provider", provider)?;
    let service = service.map(|service| clean("service", service)).transpose()?;
    if provider.trim().is_empty() {
        return Err(invalid("provider", "choose the provider the complaint is about"));
    }
    if articles.is_empty() {
        return Err(invalid("articles", "choose at least one article of the charter"));
    }
    for (index, article) in articles.iter().enumerate() {
        if !known_articles.contains(article) {
            return Err(invalid(&format!("articles[{index}]"), "the charter has no such article"));
        }
    }
    if received_on > today {
        return Err(invalid("receivedOn", "the date cannot be in the future"));
    }
    if complainant == Complainant::RelayedByAdvocate && advocate.is_none() {
        return Err(invalid("advocate", "a relayed complaint names the advocate who relayed it"));
    }
    Ok(Event::Received {
        complaint,
        charter: charter.to_owned(),
        provider: provider.trim().to_owned(),
        service: service.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
        articles: articles.iter().copied().collect(),
        complainant,
        route,
        received_on,
        advocate,
    })
}

/// Records that the person was told, how and on which day.
pub fn acknowledge(
    complaint: &Complaint,
    method: AcknowledgementMethod,
    on: Date,
    today: Date,
) -> Result<Event, Rejection> {
    if complaint.stage != Stage::Received {
        return Err(conflict("this complaint has already been acknowledged"));
    }
    acknowledgement_day(complaint, on, today)?;
    Ok(Event::Acknowledged { on, method: Some(method) })
}

/// A response period the person agreed to, replacing the usual 20 working days (extensions
/// still add to it). Open until the response is issued.
pub fn agree_period(complaint: &Complaint, working_days: u32) -> Result<Event, Rejection> {
    if !complaint.is_open() || complaint.stage == Stage::ResponseIssued {
        return Err(conflict("the response has already been issued"));
    }
    if !(1..=130).contains(&working_days) {
        return Err(invalid("workingDays", "agree a period of 1 to 130 working days"));
    }
    Ok(Event::PeriodAgreed { working_days })
}

pub fn choose_early_resolution(complaint: &Complaint) -> Result<Event, Rejection> {
    match complaint.stage {
        Stage::Acknowledged => Ok(Event::EarlyResolutionChosen),
        Stage::Received => Err(conflict("acknowledge the complaint first")),
        _ => Err(conflict("the way this complaint is handled has already been chosen")),
    }
}

pub fn open_investigation(complaint: &Complaint) -> Result<Event, Rejection> {
    match complaint.stage {
        // An early resolution that did not work can still become an investigation.
        Stage::Acknowledged | Stage::EarlyResolution => Ok(Event::InvestigationOpened),
        Stage::Received => Err(conflict("acknowledge the complaint first")),
        Stage::Investigation => Err(conflict("an investigation is already open")),
        _ => Err(conflict("this complaint is past investigation")),
    }
}

/// More working days on top of the period that applies, with why and whether the person
/// agreed to wait. Open once acknowledged, until the response is issued.
pub fn extend(complaint: &Complaint, working_days: u32, why: &str, person_agreed: bool) -> Result<Event, Rejection> {
    if !matches!(complaint.stage, Stage::Acknowledged | Stage::EarlyResolution | Stage::Investigation) {
        return Err(conflict("only an acknowledged complaint still waiting for its response can be extended"));
    }
    if !(1..=60).contains(&working_days) {
        return Err(invalid("workingDays", "extend by 1 to 60 working days"));
    }
    Ok(Event::Extended { working_days, reason: reason("reason", why)?, person_agreed: Some(person_agreed) })
}

pub fn pause(complaint: &Complaint, on: Date, why: &str, today: Date) -> Result<Event, Rejection> {
    if !matches!(complaint.stage, Stage::Acknowledged | Stage::EarlyResolution | Stage::Investigation) {
        return Err(conflict("only an acknowledged complaint still waiting for its response can be paused"));
    }
    if complaint.clock.is_paused() {
        return Err(conflict("the clock is already paused"));
    }
    not_before_receipt(complaint, "on", on, today)?;
    Ok(Event::Paused { on, reason: reason("reason", why)? })
}

pub fn resume(complaint: &Complaint, on: Date, today: Date) -> Result<Event, Rejection> {
    let Some(pause) = complaint.clock.pauses.iter().find(|pause| pause.until.is_none()) else {
        return Err(conflict("the clock is not paused"));
    };
    if on < pause.from {
        return Err(invalid("on", "the clock cannot resume before it was paused"));
    }
    not_before_receipt(complaint, "on", on, today)?;
    Ok(Event::Resumed { on })
}

pub fn respond(complaint: &Complaint, on: Date, today: Date) -> Result<Event, Rejection> {
    match complaint.stage {
        Stage::EarlyResolution | Stage::Investigation => {}
        Stage::Received | Stage::Acknowledged => {
            return Err(conflict("choose early resolution or investigation before responding"));
        }
        _ => return Err(conflict("the response has already been issued")),
    }
    if complaint.clock.is_paused() {
        return Err(conflict("resume the clock before responding"));
    }
    not_before_receipt(complaint, "on", on, today)?;
    Ok(Event::ResponseIssued { on })
}

pub fn record_outcome(complaint: &Complaint, outcome: Outcome, on: Date, today: Date) -> Result<Event, Rejection> {
    if complaint.stage == Stage::Closed {
        return Err(conflict("an outcome has already been recorded"));
    }
    match outcome {
        Outcome::Withdrawn => {}
        Outcome::ResolvedEarly if !complaint.early_resolution => {
            return Err(invalid("outcome", "only a complaint handled by early resolution can be resolved early"));
        }
        Outcome::ResolvedEarly => {}
        _ if complaint.stage != Stage::ResponseIssued => {
            return Err(conflict("issue the response before recording the outcome"));
        }
        _ => {}
    }
    not_before_receipt(complaint, "on", on, today)?;
    Ok(Event::OutcomeRecorded { outcome, on })
}

pub fn escalate(complaint: &Complaint, to: EscalatedTo, reference: &str) -> Result<Event, Rejection> {
    if !matches!(complaint.stage, Stage::ResponseIssued | Stage::Closed) {
        return Err(conflict("a complaint is escalated after its response"));
    }
    let reference = required("reference", reference, 100, "give the reference the other body gave (1–100 characters)")?;
    Ok(Event::Escalated { to, reference })
}

pub fn explain_delay(complaint: &Complaint, why: &str) -> Result<Event, Rejection> {
    if !complaint.is_open() {
        return Err(conflict("this complaint is closed"));
    }
    Ok(Event::DelayExplained { reason: reason("reason", why)? })
}

/// A short, non-identifying statement of what should change.
pub fn record_learning(complaint: &Complaint, statement: &str) -> Result<Event, Rejection> {
    if complaint.outcome.is_none() {
        return Err(conflict("record the outcome before the learning"));
    }
    let statement = required("statement", statement, 500, "say what should change in 1–500 characters")?;
    if statement.contains('@') || statement.chars().filter(char::is_ascii_digit).count() >= 7 {
        return Err(invalid("statement", "learning must not identify anyone: leave out emails and phone numbers"));
    }
    Ok(Event::LearningRecorded { statement })
}

/// Assigns an open complaint to a complaints handler (`to_is_handler`: whether the account
/// holds the complaints handler role now), or re-assigns it to another.
pub fn assign(complaint: &Complaint, to: Uuid, to_is_handler: bool) -> Result<Event, Rejection> {
    if !complaint.is_open() {
        return Err(conflict("this complaint is closed"));
    }
    if !to_is_handler {
        return Err(invalid("handlerId", "choose someone from the complaints team"));
    }
    if complaint.handler == Some(to) {
        return Err(invalid("handlerId", "the complaint is already with them; choose someone else"));
    }
    Ok(Event::Assigned { to })
}

/// A complaint's clock as a saved model writes it (the clock's own type is not serialisable).
mod saved_clock {
    use heard_workdays::clock::{Clock, Extension, Pause};
    use jiff::civil::Date;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct SavedClock {
        received: Date,
        acknowledged: Option<Date>,
        responded: Option<Date>,
        agreed_working_days: Option<u32>,
        extensions: Vec<SavedExtension>,
        pauses: Vec<SavedPause>,
    }

    #[derive(Serialize, Deserialize)]
    struct SavedExtension {
        working_days: u32,
        reason: String,
        person_agreed: Option<bool>,
    }

    #[derive(Serialize, Deserialize)]
    struct SavedPause {
        from: Date,
        until: Option<Date>,
        reason: String,
    }

    pub fn serialize<S: Serializer>(clock: &Clock, serializer: S) -> Result<S::Ok, S::Error> {
        SavedClock {
            received: clock.received,
            acknowledged: clock.acknowledged,
            responded: clock.responded,
            agreed_working_days: clock.agreed_working_days,
            extensions: clock
                .extensions
                .iter()
                .map(|e| SavedExtension {
                    working_days: e.working_days,
                    reason: e.reason.clone(),
                    person_agreed: e.person_agreed,
                })
                .collect(),
            pauses: clock
                .pauses
                .iter()
                .map(|p| SavedPause { from: p.from, until: p.until, reason: p.reason.clone() })
                .collect(),
        }
        .serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Clock, D::Error> {
        let saved = SavedClock::deserialize(deserializer)?;
        let clock = Clock {
            received: saved.received,
            acknowledged: saved.acknowledged,
            responded: saved.responded,
            agreed_working_days: saved.agreed_working_days,
            extensions: saved
                .extensions
                .into_iter()
                .map(|e| Extension { working_days: e.working_days, reason: e.reason, person_agreed: e.person_agreed })
                .collect(),
            pauses: saved
                .pauses
                .into_iter()
                .map(|p| Pause { from: p.from, until: p.until, reason: p.reason })
                .collect(),
        };
        Ok(clock)
    }
}
