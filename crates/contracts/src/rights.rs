//! The rights service's events that other services read: charters of rights
//! (`charter-<id>`, `CharterPublished`, whose articles advocacy cases cite) and, of a complaint
//! (`complaint-<id>`), what it was about when received and the non-identifying learning
//! recorded on it (for commissioning's evidence).
//!
//! A complaint's events are stored externally tagged (`{"Received": {…}}`); the structs here
//! read only the part others rely on, and the rights service's tests check that its own events
//! decode into them.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event;

/// Stream categories this service writes.
pub const CHARTER: &str = "charter";
pub const COMPLAINT: &str = "complaint";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Article {
    pub number: u32,
    /// A short label in plain words.
    pub label: String,
}

/// A charter, or a new version of one. The latest version is the one complaints cite.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CharterPublished {
    pub charter: String,
    pub name: String,
    pub version: u32,
    pub articles: Vec<Article>,
}

/// A complaint was received: the provider it is about and the articles it cites.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ComplaintReceived {
    #[serde(rename = "Received")]
    pub received: Received,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Received {
    pub provider: String,
    pub articles: BTreeSet<u32>,
}

/// Non-identifying learning recorded on a complaint.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ComplaintLearningRecorded {
    #[serde(rename = "LearningRecorded")]
    pub learning: Learning,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Learning {
    pub statement: String,
}

event!(CharterPublished, CHARTER, "CharterPublished", 1);
event!(ComplaintReceived, COMPLAINT, "ComplaintReceived", 1);
event!(ComplaintLearningRecorded, COMPLAINT, "ComplaintLearningRecorded", 1);

/// A complaints handler said the complainant is this person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplaintAttributed {
    pub complaint: Uuid,
    pub person: crate::person::PersonId,
    /// The advocate who relayed the complaint, if one did.
    pub relayed_by: Option<Uuid>,
    pub by: Uuid,
}
event!(ComplaintAttributed, COMPLAINT, "ComplaintAttributed", 1);
