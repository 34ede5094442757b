//! Upcasters bring events written under an old schema version up to the current one on read.
//! The log is never rewritten: old bytes stay as they were (and so does the hash chain).

use std::collections::HashMap;
use std::fmt;

use crate::error::{Error, Result};
use crate::types::RecordedEvent;

type UpcastFn = Box<dyn Fn(serde_json::Value) -> Result<serde_json::Value, String> + Send + Sync>;

/// A registry of one-step upcasters, keyed by event type and the version they upgrade from.
#[derive(Default)]
pub struct Upcasters {
    steps: HashMap<(String, u32), UpcastFn>,
}

impl fmt::Debug for Upcasters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upcasters").field("steps", &self.steps.len()).finish()
    }
}

impl Upcasters {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the step from `from_version` to `from_version + 1` for `event_type`.
    pub fn register(
        mut self,
        event_type: &str,
        from_version: u32,
        step: impl Fn(serde_json::Value) -> Result<serde_json::Value, String> + Send + Sync + 'static,
    ) -> Self {
        self.steps.insert((event_type.to_owned(), from_version), Box::new(step));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Applies every step that matches, in version order.
    pub fn apply(&self, event: &mut RecordedEvent) -> Result<()> {
        if self.steps.is_empty() {
            return Ok(());
        }
        let mut data: Option<serde_json::Value> = None;
        while let Some(step) = self.steps.get(&(event.event_type.clone(), event.schema_version)) {
            let current = match data.take() {
                Some(value) => value,
                None => event.data_json()?,
            };
            let upgraded = step(current).map_err(|detail| Error::Upcast {
                event_type: event.event_type.clone(),
                version: event.schema_version,
                detail,
            })?;
            data = Some(upgraded);
            event.schema_version += 1;
        }
        if let Some(value) = data {
            event.data = serde_json::to_vec(&value).map_err(|error| Error::Upcast {
                event_type: event.event_type.clone(),
                version: event.schema_version,
                detail: error.to_string(),
            })?;
        }
        Ok(())
    }
}
