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

/// Free text with its line endings made `\n`; refused, naming the field, if it holds a
/// control character other than tab and newline (`heard_text`).
pub(crate) fn clean(field: &str, text: &str) -> Result<String, Rejection> {
    heard_text::clean(text).map(std::borrow::Cow::into_owned).map_err(|refused| invalid(field, refused.to_string()))
}

/// Trimmed text of 1 to `max` characters, without control characters.
pub(crate) fn required(field: &str, text: &str, max: usize, message: &str) -> Result<String, Rejection> {
    let text = clean(field, text)?;
    let text = text.trim();
    if text.is_empty() || text.chars().count() > max {
        return Err(invalid(field, message));
    }
    Ok(text.to_owned())
}

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
