//! The advocacy service's events that other services read: a case was referred
//! (`case-<id>`, `CaseReferred`), with the domain it is in, which commissioning offers as
//! advocacy-theme evidence. The client and the issue travel as personal fields and are never
//! part of this contract.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event;

/// The stream category of cases (`case-<id>`).
pub const CASE: &str = "case";

/// A case was referred: what others may read of it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct CaseReferred {
    /// The advocacy domain, e.g. `housing`.
    pub domain: String,
}

event!(CaseReferred, CASE, "CaseReferred", 1);

/// An advocate said a case's client is this person. Appended on each of the client's cases.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseAttributed {
    pub case: Uuid,
    pub person: crate::person::PersonId,
    /// The advocate the case is assigned to when it was attributed; later changes travel as
    /// [`CaseAssigned`].
    pub advocate: Uuid,
    pub by: Uuid,
}

/// A case was handed to another advocate: what others may read of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseAssigned {
    /// The advocate it is assigned to now.
    pub advocate: Uuid,
}
event!(CaseAttributed, CASE, "CaseAttributed", 1);
event!(CaseAssigned, CASE, "CaseAssigned", 1);
