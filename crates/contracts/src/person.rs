//! A person (a data subject) as every service names them: see [`crate::privacy`].

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A data subject: the opaque id a hub or service holds for one person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonId(pub Uuid);

impl PersonId {
    pub fn new() -> Self {
        PersonId(Uuid::new_v4())
    }
}

impl Default for PersonId {
    fn default() -> Self {
        PersonId::new()
    }
}

impl fmt::Display for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
