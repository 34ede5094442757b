//! Commissioners' answers to one shared feedback item, in the stream `answer-<item id>`.
//!
//! A commissioner acknowledges an item ("we have read this"), and may answer it "not acted
//! on, because …". Linking the item to a decision is recorded on the decision, not here.
//! Whether the item was shared with commissioners is checked by the service.
//!
//! Several items can be acknowledged at once ([`acknowledge_together`]): one event in its own
//! stream (`acknowledgement-<batch>`), so that all of them are acknowledged or none is.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Rejection, conflict, happened, invalid, required};

use heard_contracts::Event as _;
pub use heard_contracts::commissioning::{
    ACKNOWLEDGEMENT, ANSWER, FeedbackAcknowledged, FeedbackAcknowledgedTogether, FeedbackAnswered,
};

/// Longest reason for not acting, in characters.
pub const MAX_REASON_CHARS: usize = 1000;
/// Most items acknowledged in one request (a page of the shared list holds 20).
pub const MAX_ACKNOWLEDGED_TOGETHER: usize = 100;

/// Every event of an answer. Serialized, an event is its data alone; the type travels beside
/// it as [`Event::event_type`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Event {
    Acknowledged(FeedbackAcknowledged),
    Answered(FeedbackAnswered),
}

impl Event {
    /// The event type stored in the log.
    pub fn event_type(&self) -> &'static str {
        match self {
            Event::Acknowledged(_) => FeedbackAcknowledged::TYPE,
            Event::Answered(_) => FeedbackAnswered::TYPE,
        }
    }

    /// The feedback item the event is about.
    pub fn item(&self) -> Uuid {
        match self {
            Event::Acknowledged(e) => e.item,
            Event::Answered(e) => e.item,
        }
    }
}

/// What commissioners have said about one feedback item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub item: Uuid,
    /// When and by whom it was acknowledged.
    pub acknowledged: Option<(Date, Uuid)>,
    /// When, why it was not acted on, and by whom.
    pub answered: Option<(Date, String, Uuid)>,
    /// The revision of the item's own stream (`answer-<item>`) after the last event applied
    /// there (the first alone is 0); `None` while the stream does not exist (acknowledged only
    /// together with other items).
    pub revision: Option<u64>,
}

impl Answer {
    /// Folds an item's answer events; `None` when there are none.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> Option<Answer> {
        let mut events = events.into_iter();
        let first = events.next()?;
        let mut answer = Answer { item: first.item(), acknowledged: None, answered: None, revision: None };
        answer.apply(first);
        for event in events {
            answer.apply(event);
        }
        Some(answer)
    }

    /// An item acknowledged only as part of a batch: no event in its own stream yet.
    pub fn acknowledged_together(item: Uuid, on: Date, by: Uuid) -> Answer {
        Answer { item, acknowledged: Some((on, by)), answered: None, revision: None }
    }

    /// Records an acknowledgement made together with other items (in another stream: the
    /// revision of the item's own stream does not move). The first acknowledgement stands.
    pub fn acknowledge_in_batch(&mut self, on: Date, by: Uuid) {
        self.acknowledged.get_or_insert((on, by));
    }

    /// Applies a later event.
    pub fn apply(&mut self, event: &Event) {
        self.revision = Some(self.revision.map_or(0, |revision| revision + 1));
        match event {
            Event::Acknowledged(e) => {
                self.acknowledged.get_or_insert((e.on, e.by));
            }
            Event::Answered(e) => self.answered = Some((e.on, e.reason.clone(), e.by)),
        }
    }

    /// The first response of either kind: the earlier of acknowledgement and answer.
    pub fn first_response(&self) -> Option<Date> {
        let acknowledged = self.acknowledged.map(|(on, _)| on);
        let answered = self.answered.as_ref().map(|(on, _, _)| *on);
        match (acknowledged, answered) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

fn same_item(answer: Option<&Answer>, item: Uuid) -> Result<(), Rejection> {
    match answer {
        Some(answer) if answer.item != item => Err(invalid("itemId", "these answers belong to another item")),
        _ => Ok(()),
    }
}

/// Acknowledges a shared item: commissioners have read it.
pub fn acknowledge(answer: Option<&Answer>, item: Uuid, by: Uuid, on: Date, today: Date) -> Result<Event, Rejection> {
    same_item(answer, item)?;
    if answer.is_some_and(|answer| answer.acknowledged.is_some()) {
        return Err(conflict("this feedback has already been acknowledged"));
    }
    if answer.is_some_and(|answer| answer.answered.is_some()) {
        return Err(conflict("this feedback has already been answered"));
    }
    happened("on", on, today)?;
    Ok(Event::Acknowledged(FeedbackAcknowledged { item, on, by }))
}

/// Answers a shared item "not acted on, because …".
pub fn answer_not_acted_on(
    answer: Option<&Answer>,
    item: Uuid,
    reason: &str,
    by: Uuid,
    on: Date,
    today: Date,
) -> Result<Event, Rejection> {
    same_item(answer, item)?;
    if answer.is_some_and(|answer| answer.answered.is_some()) {
        return Err(conflict("this feedback has already been answered"));
    }
    let reason = required("reason", reason, MAX_REASON_CHARS, "say why it was not acted on, in 1–1000 characters")?;
    happened("on", on, today)?;
    if let Some((acknowledged, _)) = answer.and_then(|answer| answer.acknowledged)
        && on < acknowledged
    {
        return Err(invalid("on", "the date cannot be before the feedback was acknowledged"));
    }
    Ok(Event::Answered(FeedbackAnswered { item, on, reason, by }))
}

/// Acknowledges several shared items at once, all or none. `answers` gives what commissioners
/// have already said about each item asked for (the service has checked that each may be
/// answered by the asker). Items already acknowledged or answered are left out, so that the
/// same request made again changes nothing: `Ok(None)` when nothing is left to acknowledge.
pub fn acknowledge_together<'a>(
    items: &[Uuid],
    answers: impl Fn(Uuid) -> Option<&'a Answer>,
    by: Uuid,
    on: Date,
    today: Date,
) -> Result<Option<FeedbackAcknowledgedTogether>, Rejection> {
    if items.is_empty() {
        return Err(invalid("itemIds", "choose at least one item to acknowledge"));
    }
    if items.len() > MAX_ACKNOWLEDGED_TOGETHER {
        return Err(invalid("itemIds", "acknowledge at most 100 items at once"));
    }
    happened("on", on, today)?;
    let mut fresh: Vec<Uuid> = Vec::new();
    for item in items {
        let done = answers(*item).is_some_and(|answer| answer.acknowledged.is_some() || answer.answered.is_some());
        if !done && !fresh.contains(item) {
            fresh.push(*item);
        }
    }
    if fresh.is_empty() {
        return Ok(None);
    }
    let batch = batch_id(by, &fresh);
    Ok(Some(FeedbackAcknowledgedTogether { batch, items: fresh, on, by }))
}

/// The batch's id: the same person acknowledging the same items gets the same id, so a request
/// replayed at the same moment finds the batch's stream already there instead of adding another.
pub fn batch_id(by: Uuid, items: &[Uuid]) -> Uuid {
    let mut sorted = items.to_vec();
    sorted.sort_unstable();
    let mut name = by.as_bytes().to_vec();
    for item in &sorted {
        name.extend_from_slice(item.as_bytes());
    }
    Uuid::new_v5(&Uuid::NAMESPACE_OID, &name)
}
