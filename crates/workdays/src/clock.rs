//! The clock of one complaint: acknowledgement within 3 working days of receipt, a response
//! within 20 (or an agreed period), extensions and pauses with reasons, and the six-month rule.

use jiff::ToSpan;
use jiff::civil::Date;

use crate::{Calendar, CalendarError};

pub const ACKNOWLEDGE_WITHIN: u32 = 3;
pub const RESPOND_WITHIN: u32 = 20;
/// Items due within this many working days count as urgent, beside the overdue ones.
pub const DUE_SOON: i64 = 2;

/// A pause of the response clock (e.g. waiting for the complainant), with its reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pause {
    pub from: Date,
    /// `None` while still paused.
    pub until: Option<Date>,
    pub reason: String,
}

/// An extension of the response period, in working days, with its reason. It moves the
/// deadline whether or not the person who complained agreed to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extension {
    pub working_days: u32,
    pub reason: String,
    /// Whether the person who complained agreed to wait longer; `None` for an extension
    /// recorded before Heard asked.
    pub person_agreed: Option<bool>,
}

/// Everything the clock of one complaint depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clock {
    pub received: Date,
    pub acknowledged: Option<Date>,
    pub responded: Option<Date>,
    /// A period agreed with the complainant, replacing the default 20 working days.
    pub agreed_working_days: Option<u32>,
    pub extensions: Vec<Extension>,
    pub pauses: Vec<Pause>,
}

/// Which deadline a complaint is working towards now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Acknowledgement,
    Response,
    /// Responded: no clock running.
    Done,
    /// Paused: the response deadline moves on day by day.
    Paused,
}

/// Where a clock stands on a given day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reading {
    pub stage: Stage,
    pub acknowledge_by: Date,
    /// `None` while paused (it depends on when the pause ends).
    pub respond_by: Option<Date>,
    /// Working days left until the current deadline; negative when overdue.
    pub working_days_left: Option<i64>,
    pub overdue: bool,
    /// Overdue, or due within 2 working days.
    pub urgent: bool,
    /// Open for six months or more: the record must say why.
    pub needs_explanation: bool,
}

impl Clock {
    pub fn new(received: Date) -> Clock {
        Clock {
            received,
            acknowledged: None,
            responded: None,
            agreed_working_days: None,
            extensions: Vec::new(),
            pauses: Vec::new(),
        }
    }

    /// Working days the response clock has been stopped, counting pauses up to `today`.
    fn paused_working_days(&self, calendar: &Calendar, today: Date) -> Result<i64, CalendarError> {
        let mut total = 0;
        for pause in &self.pauses {
            let until = pause.until.unwrap_or(today);
            total += calendar.working_days_between(pause.from, until)?.max(0);
        }
        Ok(total)
    }

    pub fn is_paused(&self) -> bool {
        self.pauses.iter().any(|pause| pause.until.is_none())
    }

    /// The response period in working days: agreed or 20, plus every extension.
    pub fn response_period(&self) -> u32 {
        self.agreed_working_days.unwrap_or(RESPOND_WITHIN) + self.extensions.iter().map(|e| e.working_days).sum::<u32>()
    }

    /// Reads the clock on `today`.
    pub fn read(&self, calendar: &Calendar, today: Date) -> Result<Reading, CalendarError> {
        let acknowledge_by = calendar.add_working_days(self.received, ACKNOWLEDGE_WITHIN)?;
        let paused = self.paused_working_days(calendar, today)?;
        let respond_by = if self.is_paused() {
            None
        } else {
            Some(calendar.add_working_days(self.received, self.response_period() + paused as u32)?)
        };
        let open = self.responded.is_none();
        let needs_explanation = open && today >= self.received.checked_add(6.months()).unwrap_or(Date::MAX);
        let (stage, deadline) = if !open {
            (Stage::Done, None)
        } else if self.acknowledged.is_none() {
            (Stage::Acknowledgement, Some(acknowledge_by))
        } else if self.is_paused() {
            (Stage::Paused, None)
        } else {
            (Stage::Response, respond_by)
        };
        let working_days_left = match deadline {
            Some(deadline) => Some(calendar.working_days_between(today, deadline)?),
            None => None,
        };
        let overdue = deadline.is_some_and(|deadline| today > deadline);
        let urgent = working_days_left.is_some_and(|left| left <= DUE_SOON);
        Ok(Reading { stage, acknowledge_by, respond_by, working_days_left, overdue, urgent, needs_explanation })
    }
}
