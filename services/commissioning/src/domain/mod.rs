//! Commissioning decisions, answers to shared feedback and loop metrics, free of storage and web.

pub mod answer;
pub mod decision;
pub mod metrics;

use jiff::civil::{Date, date};

/// A command refused: the input field and what is wrong, or a state conflict (one type for
/// every service, in `heard-contracts`).
pub use heard_contracts::Rejection;

pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Rejection {
    Rejection::Invalid { field: field.to_owned(), message: message.into() }
}

pub(crate) fn conflict(message: &str) -> Rejection {
    Rejection::Conflict(message.to_owned())
}

pub(crate) use heard_contracts::input::{clean, required};

/// A date something happened: not in the future and not before 2000.
pub(crate) fn happened(field: &str, on: Date, today: Date) -> Result<(), Rejection> {
    if on > today {
        return Err(invalid(field, "the date cannot be in the future"));
    }
    if on < date(2000, 1, 1) {
        return Err(invalid(field, "the date cannot be before 2000"));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
