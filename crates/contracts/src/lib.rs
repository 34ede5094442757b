//! Heard's event contracts: what one service publishes and another may read.
//!
//! Services never depend on each other's crates. What they share travels through the log, and
//! its shape is written down once, here: one module per publishing service, each event with its
//! stream category, event type and schema version ([`Event`]). The publisher appends with these
//! names and the readers match on them, so renaming an event in one place changes both sides.
//! Where another service needs only part of an event, the struct here holds that part (the
//! publisher's own type may hold more); the publisher's tests check that its events still decode
//! into it.
//!
//! Besides the events: [`reference::Reference`], the one fold of reference data (hubs,
//! providers, themes and their merges, accounts' roles and hubs) that every service keeps,
//! [`Rejection`], the one way a pure command refuses, and [`input`], the checks on free text
//! that commands share.
//!
//! No upcasters exist yet: every event is still at schema version 1. When one is needed it
//! belongs beside its event here.
//!
//! This crate is pure: serde, uuid, jiff, `heard-text` and the access policy's types, no
//! storage, web or GraphQL crate.

pub mod access;
pub mod advocacy;
pub mod commissioning;
pub mod day;
pub mod feedback;
pub mod identity;
pub mod input;
pub mod person;
pub mod privacy;
pub mod reference;
pub mod rights;
pub mod rollup;
#[cfg(feature = "testing")]
pub mod testing;

use serde::de::DeserializeOwned;

/// An event as published in the log: its stream category, event type and schema version.
pub trait Event {
    /// The stream category (`feedback` for streams `feedback-<id>`).
    const CATEGORY: &'static str;
    /// The event type stored beside the data.
    const TYPE: &'static str;
    /// The schema version appended now.
    const VERSION: u32;

    /// Whether a recorded event (its stream's category and its type) is this one.
    fn is(category: &str, event_type: &str) -> bool {
        category == Self::CATEGORY && event_type == Self::TYPE
    }
}

/// Implements [`Event`] for a struct: `event!(Type, CATEGORY, "TypeName", version)`.
macro_rules! event {
    ($type:ty, $category:expr, $name:literal, $version:literal) => {
        impl $crate::Event for $type {
            const CATEGORY: &'static str = $category;
            const TYPE: &'static str = $name;
            const VERSION: u32 = $version;
        }
    };
}
pub(crate) use event;

/// An event's data that does not have the shape its contract says. It names the event type and
/// the kind of mismatch, never a value: data can hold words someone typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    pub event_type: String,
    /// serde's classification: `Data`, `Syntax`, `Eof` or `Io`.
    pub kind: &'static str,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} data does not decode into its contract ({} error)", self.event_type, self.kind)
    }
}

impl std::error::Error for DecodeError {}

/// Decodes an event's JSON data into its contract.
pub fn decode<T: DeserializeOwned>(event_type: &str, data: &[u8]) -> Result<T, DecodeError> {
    serde_json::from_slice(data).map_err(|error| DecodeError {
        event_type: event_type.to_owned(),
        kind: match error.classify() {
            serde_json::error::Category::Io => "Io",
            serde_json::error::Category::Syntax => "Syntax",
            serde_json::error::Category::Data => "Data",
            serde_json::error::Category::Eof => "Eof",
        },
    })
}

/// Why a pure command refused: the field and what is wrong with it, or a state that does not
/// allow it. Every service's domain returns this; `heard-api` turns it into its `ApiError`
/// (`BAD_USER_INPUT` naming the field, or `CONFLICT`). Messages say what to do; they never
/// repeat what was typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    Invalid {
        field: String,
        message: String,
    },
    /// The state does not allow it (e.g. sharing a safeguarding item).
    Conflict(String),
}

impl Rejection {
    /// A refused field: its name (as the GraphQL input spells it) and what to do.
    pub fn invalid(field: &str, message: impl Into<String>) -> Rejection {
        Rejection::Invalid { field: field.to_owned(), message: message.into() }
    }

    /// A state that does not allow the command.
    pub fn conflict(message: impl Into<String>) -> Rejection {
        Rejection::Conflict(message.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decode_error_names_the_type_never_the_value() {
        let error = decode::<feedback::ConsentChanged>("ConsentChanged", br#"{"consent":"Sam Example"}"#).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("ConsentChanged"), "{text}");
        assert!(!text.contains("Sam"), "{text}");
    }

    #[test]
    fn an_event_is_known_by_category_and_type() {
        assert!(feedback::FeedbackLogged::is("feedback", "FeedbackLogged"));
        assert!(!feedback::FeedbackLogged::is("meeting", "FeedbackLogged"));
        assert!(!feedback::FeedbackLogged::is("feedback", "FeedbackShared"));
    }
}
