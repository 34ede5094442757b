//! A disclosure of risk and what was done about it, free of storage and web.
//!
//! Flagging an item (`SafeguardingFlagged`, on the item's own stream) makes it a
//! [`Disclosure`], with the coordinator of its hub who has the duty of care. Its follow-up is
//! a stream of its own, `safeguarding-<item id>`: each step taken (spoke to the person,
//! referred to the provider's safeguarding lead, called emergency services, something else)
//! on the day it happened, handing it to another coordinator of the same hub, and marking it
//! dealt with, with an outcome. Every entry may carry notes, which are about the person who
//! disclosed and are sealed with their key. [`Disclosure::apply`] folds the follow-up; the
//! commands ([`record_action`], [`hand_over`], [`close`]) return its next event or a
//! [`Rejection`] naming the field.
//!
//! Nothing here ever leaves the hub: no other service reads these events, and no report,
//! search or export counts them.

use std::cmp::Ordering;

use jiff::civil::Date;
use uuid::Uuid;

pub use heard_contracts::feedback::{
    SAFEGUARDING, SafeguardingActionRecorded, SafeguardingClosed, SafeguardingFlagged, SafeguardingHandedOver,
    SafeguardingNotes, SafeguardingOutcome, SafeguardingStep,
};
use heard_contracts::{Event as _, Rejection};

/// The longest notes one entry holds, in characters.
pub const MAX_NOTES_CHARS: usize = 5000;

/// An entry's notes, as the log gives them back.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Notes {
    /// None were written.
    None,
    Written(String),
    /// The person who disclosed was erased, and their key with them.
    Erased,
}

impl Notes {
    /// The words to seal into the log, if any.
    pub fn sealed(&self) -> Option<SafeguardingNotes> {
        match self {
            Notes::Written(notes) => Some(SafeguardingNotes { notes: notes.clone() }),
            Notes::None | Notes::Erased => None,
        }
    }

    pub fn text(&self) -> Option<&str> {
        match self {
            Notes::Written(notes) => Some(notes),
            Notes::None | Notes::Erased => None,
        }
    }
}

/// Every follow-up event, with its notes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FollowUpEvent {
    ActionRecorded(SafeguardingActionRecorded, Notes),
    HandedOver(SafeguardingHandedOver, Notes),
    Closed(SafeguardingClosed, Notes),
}

impl FollowUpEvent {
    pub fn event_type(&self) -> &'static str {
        match self {
            FollowUpEvent::ActionRecorded(..) => SafeguardingActionRecorded::TYPE,
            FollowUpEvent::HandedOver(..) => SafeguardingHandedOver::TYPE,
            FollowUpEvent::Closed(..) => SafeguardingClosed::TYPE,
        }
    }

    pub fn notes(&self) -> &Notes {
        match self {
            FollowUpEvent::ActionRecorded(_, notes)
            | FollowUpEvent::HandedOver(_, notes)
            | FollowUpEvent::Closed(_, notes) => notes,
        }
    }
}

/// What one entry of the follow-up says happened.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Happened {
    /// A step taken, on the day it happened.
    Action {
        step: SafeguardingStep,
        on: Date,
    },
    HandedOver {
        from: Uuid,
        to: Uuid,
    },
    Closed {
        outcome: SafeguardingOutcome,
    },
}

/// One entry of a disclosure's follow-up, in the order it was recorded.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    pub happened: Happened,
    /// Who recorded it: the coordinator the disclosure was with.
    pub by: Uuid,
    pub notes: Notes,
    /// When it was recorded, in microseconds since the epoch.
    pub at_micros: i64,
}

/// A disclosure as its flag and its follow-up have made it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Disclosure {
    pub item: Uuid,
    pub hub: String,
    /// Who flagged it, and when.
    pub flagged_by: Uuid,
    pub flagged_at_micros: i64,
    /// The day it was flagged, where the server is: no step can have happened before it.
    pub flagged_on: Date,
    /// The coordinator it is with now.
    pub coordinator: Uuid,
    pub entries: Vec<Entry>,
    /// Set once it is dealt with.
    pub outcome: Option<SafeguardingOutcome>,
    /// The revision of its follow-up stream; `None` before anything was followed up.
    pub revision: Option<u64>,
}

/// How long a disclosure has waited since it was flagged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Urgency {
    /// Flagged today.
    Today,
    /// Flagged in the six days before today.
    ThisWeek,
    /// Flagged a week ago or more.
    Older,
}

/// The day (where the server is) of a moment in microseconds since the epoch.
pub fn local_day(micros: i64) -> Date {
    jiff::Timestamp::from_microsecond(micros)
        .map(|at| at.to_zoned(jiff::tz::TimeZone::system()).date())
        .unwrap_or(Date::MIN)
}

/// A day as people in the UK write it: `4 December 2026`.
pub fn uk_day(day: Date) -> String {
    heard_contracts::day::written(day)
}

impl Disclosure {
    /// An item of `hub` was flagged at `at_micros`.
    pub fn flagged(item: Uuid, hub: String, flagged: &SafeguardingFlagged, at_micros: i64) -> Disclosure {
        Disclosure {
            item,
            hub,
            flagged_by: flagged.by,
            flagged_at_micros: at_micros,
            flagged_on: local_day(at_micros),
            coordinator: flagged.coordinator,
            entries: Vec::new(),
            outcome: None,
            revision: None,
        }
    }

    /// Applies the next follow-up event, recorded at `at_micros`.
    pub fn apply(&mut self, event: &FollowUpEvent, at_micros: i64) {
        self.revision = Some(self.revision.map_or(0, |revision| revision + 1));
        let (happened, by) = match event {
            FollowUpEvent::ActionRecorded(recorded, _) => {
                let on = recorded.on.parse().unwrap_or(self.flagged_on);
                (Happened::Action { step: recorded.step, on }, recorded.by)
            }
            FollowUpEvent::HandedOver(handed, _) => {
                self.coordinator = handed.to;
                (Happened::HandedOver { from: handed.from, to: handed.to }, handed.by)
            }
            FollowUpEvent::Closed(closed, _) => {
                self.outcome = Some(closed.outcome);
                (Happened::Closed { outcome: closed.outcome }, closed.by)
            }
        };
        self.entries.push(Entry { happened, by, notes: event.notes().clone(), at_micros });
    }

    pub fn is_open(&self) -> bool {
        self.outcome.is_none()
    }

    /// How many steps were recorded.
    pub fn actions_recorded(&self) -> usize {
        self.entries.iter().filter(|entry| matches!(entry.happened, Happened::Action { .. })).count()
    }

    /// The latest day a step happened, if any was recorded.
    pub fn last_action_on(&self) -> Option<Date> {
        self.entries
            .iter()
            .filter_map(|entry| match entry.happened {
                Happened::Action { on, .. } => Some(on),
                _ => None,
            })
            .max()
    }

    /// When it was marked dealt with.
    pub fn closed_at_micros(&self) -> Option<i64> {
        self.entries.iter().rev().find(|entry| matches!(entry.happened, Happened::Closed { .. })).map(|e| e.at_micros)
    }

    /// How long it has waited, seen on `today`.
    pub fn urgency(&self, today: Date) -> Urgency {
        let days = (today - self.flagged_on).get_days();
        match days {
            ..=0 => Urgency::Today,
            1..=6 => Urgency::ThisWeek,
            _ => Urgency::Older,
        }
    }
}

/// Most urgent first: flagged today, then this week, then earlier; within each, those with no
/// step recorded yet first, then the one waiting longest.
pub fn most_urgent_first(a: &Disclosure, b: &Disclosure, today: Date) -> Ordering {
    a.urgency(today)
        .cmp(&b.urgency(today))
        .then((a.actions_recorded() > 0).cmp(&(b.actions_recorded() > 0)))
        .then(a.flagged_at_micros.cmp(&b.flagged_at_micros))
        .then(a.item.cmp(&b.item))
}

fn invalid(field: &str, message: impl Into<String>) -> Rejection {
    Rejection::invalid(field, message)
}

/// Notes as typed: cleaned, trimmed, at most [`MAX_NOTES_CHARS`]; empty is none.
fn notes(text: Option<String>) -> Result<Notes, Rejection> {
    let Some(text) = text else { return Ok(Notes::None) };
    let text = heard_contracts::input::clean("notes", &text)?.trim().to_owned();
    if text.chars().count() > MAX_NOTES_CHARS {
        return Err(invalid("notes", format!("notes are at most {MAX_NOTES_CHARS} characters")));
    }
    Ok(if text.is_empty() { Notes::None } else { Notes::Written(text) })
}

fn still_open(disclosure: &Disclosure) -> Result<(), Rejection> {
    if disclosure.is_open() {
        Ok(())
    } else {
        Err(Rejection::conflict("this disclosure is already marked dealt with; nothing more can be added to it"))
    }
}

/// What a coordinator typed to record a step.
#[derive(Clone, Debug, Default)]
pub struct NewAction {
    pub step: Option<SafeguardingStep>,
    /// The day it happened, as someone typed it (`2026-12-04`, `4/12/2026`, `4 December 2026`);
    /// none or empty is today.
    pub on: Option<String>,
    pub notes: Option<String>,
}

/// Records a step taken about an open disclosure, on a day between the flag and today.
pub fn record_action(
    disclosure: &Disclosure,
    by: Uuid,
    new: NewAction,
    today: Date,
) -> Result<FollowUpEvent, Rejection> {
    still_open(disclosure)?;
    let step = new.step.ok_or_else(|| invalid("step", "choose what was done"))?;
    let on = match new.on.as_deref().map(str::trim).filter(|on| !on.is_empty()) {
        None => today,
        Some(typed) => heard_contracts::day::parse(typed).map_err(|wrong| invalid("on", wrong.to_string()))?,
    };
    if on < disclosure.flagged_on {
        let flagged = uk_day(disclosure.flagged_on);
        return Err(invalid(
            "on",
            format!("the day it happened cannot be before the disclosure was flagged on {flagged}"),
        ));
    }
    if on > today {
        return Err(invalid("on", format!("the day it happened cannot be in the future (after {})", uk_day(today))));
    }
    let notes = notes(new.notes)?;
    if step == SafeguardingStep::Other && notes == Notes::None {
        return Err(invalid("notes", "say in the notes what was done"));
    }
    Ok(FollowUpEvent::ActionRecorded(SafeguardingActionRecorded { step, on: on.to_string(), by }, notes))
}

/// Hands an open disclosure to `to`, who must coordinate its hub (`to_coordinates_hub`, which
/// the service looks up) and is not the coordinator it is with already.
pub fn hand_over(
    disclosure: &Disclosure,
    by: Uuid,
    to: Uuid,
    to_coordinates_hub: bool,
    typed_notes: Option<String>,
) -> Result<FollowUpEvent, Rejection> {
    still_open(disclosure)?;
    if !to_coordinates_hub {
        return Err(invalid("coordinatorId", "choose a coordinator of this disclosure's hub"));
    }
    if to == disclosure.coordinator {
        return Err(invalid("coordinatorId", "it is with this coordinator already; choose another"));
    }
    let notes = notes(typed_notes)?;
    Ok(FollowUpEvent::HandedOver(SafeguardingHandedOver { from: disclosure.coordinator, to, by }, notes))
}

/// Marks an open disclosure dealt with: the outcome must be chosen (there is no default).
pub fn close(
    disclosure: &Disclosure,
    by: Uuid,
    outcome: Option<SafeguardingOutcome>,
    typed_notes: Option<String>,
) -> Result<FollowUpEvent, Rejection> {
    still_open(disclosure)?;
    let outcome = outcome.ok_or_else(|| invalid("outcome", "choose what came of it"))?;
    let notes = notes(typed_notes)?;
    if outcome == SafeguardingOutcome::Other && notes == Notes::None {
        return Err(invalid("notes", "say in the notes what came of it"));
    }
    Ok(FollowUpEvent::Closed(SafeguardingClosed { outcome, by }, notes))
}

#[cfg(test)]
mod tests;
