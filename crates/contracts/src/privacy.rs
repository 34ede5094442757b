//! A person's rights over their data, across services: which records are about one person
//! (a *data subject*), and their erasure.
//!
//! **A person** is an opaque id ([`PersonId`]) that the hub or service holds in its own records:
//! never a name, and never part of a stream name. A record is said to be about a person by the
//! service that owns the record, on the record's own stream:
//! - feedback ([`FeedbackAttributed`], on `feedback-<item>`): a hub's coordinator says a named
//!   or pseudonymous speaker's items are the same person's;
//! - advocacy ([`CaseAttributed`], on `case-<case>`): an advocate's client, one event on each of
//!   the client's cases;
//! - rights ([`ComplaintAttributed`], on `complaint-<complaint>`): a complaints handler says the
//!   complainant is a person the hub or service already knows.
//!
//! Each attribution carries the facts the policy needs to say who may act for that person (the
//! item's hub, the case's advocate, who relayed the complaint), so the privacy service can judge
//! without reading another service's model. Attributing never widens who sees a record: every
//! record keeps its own rule.
//!
//! **An erasure** ([`SubjectErased`], on its own stream `erasure-<id>`) names the records it
//! erases and the subject keys destroyed with it, who asked and why, and nothing personal. The
//! service that appends it destroys the keys at once; the privacy service's follower destroys
//! them again on every start, so an erasure whose process died before the keys went still
//! completes. Every model folds it: facts that are not personal (dates, themes, counts, the
//! stage a complaint reached) stay, and the words, which were sealed under the destroyed keys,
//! can no longer be read by anyone.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event;

pub use crate::advocacy::{CaseAssigned, CaseAttributed};
pub use crate::feedback::FeedbackAttributed;
pub use crate::person::PersonId;
pub use crate::rights::ComplaintAttributed;

/// Erasures go to a stream of their own each: `erasure-<id>`.
pub const ERASURE: &str = "erasure";

/// What kind of record an erasure or an attribution is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// A feedback item (`feedback-<id>`, with its safeguarding stream `safeguarding-<id>`).
    FeedbackItem,
    /// An advocacy case (`case-<id>`).
    Case,
    /// A complaint (`complaint-<id>`).
    Complaint,
}

impl RecordKind {
    /// The stream categories that hold this record's events, each `CATEGORY-<record id>`.
    pub fn categories(self) -> &'static [&'static str] {
        match self {
            RecordKind::FeedbackItem => &[crate::feedback::FEEDBACK, crate::feedback::SAFEGUARDING],
            RecordKind::Case => &[crate::advocacy::CASE],
            RecordKind::Complaint => &[crate::rights::COMPLAINT],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::FeedbackItem => "feedback_item",
            RecordKind::Case => "case",
            RecordKind::Complaint => "complaint",
        }
    }
}

/// One record: its kind and id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RecordRef {
    pub kind: RecordKind,
    pub id: Uuid,
}

/// Why something was erased: a closed list, so that no free text (which could name someone)
/// reaches the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasureReason {
    /// The person asked for their data to be erased (UK GDPR article 17).
    PersonAsked,
    /// The speaker withdrew within six months of speaking, as the seed research promised.
    WithdrewWithinSixMonths,
    /// The retention period for this kind of record ended.
    RetentionPeriodEnded,
}

impl ErasureReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ErasureReason::PersonAsked => "person_asked",
            ErasureReason::WithdrewWithinSixMonths => "withdrew_within_six_months",
            ErasureReason::RetentionPeriodEnded => "retention_period_ended",
        }
    }
}

/// Records were erased: their subject keys were destroyed. Opaque ids only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectErased {
    /// The person, when a person's records were erased together; `None` when one record was
    /// erased alone (a withdrawal, a retention period).
    pub person: Option<PersonId>,
    /// Every record erased.
    pub records: Vec<RecordRef>,
    /// Every subject key destroyed (random ids, not personal).
    pub subjects: Vec<Uuid>,
    /// Who asked; `None` for Heard's own retention job.
    pub asked_by: Option<Uuid>,
    pub reason: ErasureReason,
}

impl SubjectErased {
    /// Whether this erasure covers `record`.
    pub fn covers(&self, kind: RecordKind, id: Uuid) -> bool {
        self.records.iter().any(|record| record.kind == kind && record.id == id)
    }
}

/// How long each kind of record is kept before Heard's retention job erases it (through the
/// same path as a person's request, with [`ErasureReason::RetentionPeriodEnded`]). `None` keeps
/// that kind until it is erased by hand. Set in the `[retention]` section of the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionRules {
    /// Feedback items never shared beyond their hub, counted from the day they were said.
    pub feedback_not_shared_days: Option<u32>,
    /// Advocacy cases, counted from the day the client's last case was closed (a client's cases
    /// share one key, so they go together, once every one of them is closed and due).
    pub cases_closed_days: Option<u32>,
    /// Complaints, counted from the day their outcome was recorded.
    pub complaints_after_outcome_days: Option<u32>,
}

impl Default for RetentionRules {
    /// Two years for feedback that never left the hub; six years for closed cases and for
    /// complaints after their outcome.
    fn default() -> Self {
        RetentionRules {
            feedback_not_shared_days: Some(730),
            cases_closed_days: Some(2190),
            complaints_after_outcome_days: Some(2190),
        }
    }
}

/// A speaker may withdraw within this many months of speaking, and their item is then erased,
/// not only hidden.
pub const WITHDRAWAL_WINDOW_MONTHS: i8 = 6;

event!(SubjectErased, ERASURE, "SubjectErased", 1);
