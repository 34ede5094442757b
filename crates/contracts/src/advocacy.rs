//! The advocacy service's events that other services read: a case was referred
//! (`case-<id>`, `CaseReferred`), with the domain it is in, which commissioning offers as
//! advocacy-theme evidence. The client and the issue travel as personal fields and are never
//! part of this contract.

use serde::Deserialize;

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
