//! The commissioning service's events that other services read: answers to a shared feedback
//! item (`answer-<item>`: acknowledged, or "not acted on, because …"), several items
//! acknowledged together (`acknowledgement-<batch>`: one event, so all are or none is) and, of its decisions
//! (`decision-<id>`), the evidence links and status changes that move a feedback item's loop.
//!
//! The decision structs here hold only what the feedback service relies on; the commissioning
//! service's own types hold more, and its tests check that they decode into these.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event;

/// Stream categories this service writes.
pub const DECISION: &str = "decision";
/// The stream category of answers (`answer-<feedback item id>`).
pub const ANSWER: &str = "answer";
/// The stream category of acknowledgements made together (`acknowledgement-<batch id>`).
pub const ACKNOWLEDGEMENT: &str = "acknowledgement";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackAcknowledged {
    pub item: Uuid,
    pub on: Date,
    pub by: Uuid,
}

/// Several shared items acknowledged at once by one commissioner: one event in its own stream,
/// so that every item in it is acknowledged, or none is. The batch id is derived from who
/// acknowledged and which items, so a replayed request finds its stream already there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackAcknowledgedTogether {
    pub batch: Uuid,
    /// The items, none of them acknowledged or answered before (in the order asked).
    pub items: Vec<Uuid>,
    pub on: Date,
    pub by: Uuid,
}

/// "Not acted on, because …".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackAnswered {
    pub item: Uuid,
    pub on: Date,
    pub reason: String,
    pub by: Uuid,
}

/// A link from a decision to its evidence: which decision, which link, and what it points at.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct EvidenceLinked {
    pub decision: Uuid,
    pub link: Uuid,
    pub evidence: EvidenceRef,
}

/// What a link points at, as far as the feedback loop needs: its kind (`feedback_item`,
/// `theme`, `complaint_learning`, `advocacy_theme`) and the item, for a feedback item.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct EvidenceRef {
    pub kind: String,
    #[serde(default)]
    pub item: Option<Uuid>,
}

impl EvidenceRef {
    /// The kind of a link to a feedback item.
    pub const FEEDBACK_ITEM: &str = "feedback_item";

    /// The feedback item linked, if that is what it is.
    pub fn feedback_item(&self) -> Option<Uuid> {
        self.item.filter(|_| self.kind == Self::FEEDBACK_ITEM)
    }
}

/// A link marked as no longer standing (it stays in the decision's history).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct EvidenceUnlinked {
    pub link: Uuid,
}

/// A decision moved: `proposed`, `agreed`, `in_progress`, `done`, `not_taken` or `withdrawn`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct DecisionStatusChanged {
    pub decision: Uuid,
    pub status: String,
}

impl DecisionStatusChanged {
    /// The decision is done: items linked to it have an answer.
    pub fn done(&self) -> bool {
        self.status == "done"
    }

    /// The decision was not taken or was withdrawn: links to it no longer count.
    pub fn set_aside(&self) -> bool {
        matches!(self.status.as_str(), "not_taken" | "withdrawn")
    }
}

event!(FeedbackAcknowledged, ANSWER, "FeedbackAcknowledged", 1);
event!(FeedbackAcknowledgedTogether, ACKNOWLEDGEMENT, "FeedbackAcknowledgedTogether", 1);
event!(FeedbackAnswered, ANSWER, "FeedbackAnswered", 1);
event!(EvidenceLinked, DECISION, "EvidenceLinked", 1);
event!(EvidenceUnlinked, DECISION, "EvidenceUnlinked", 1);
event!(DecisionStatusChanged, DECISION, "DecisionStatusChanged", 1);
