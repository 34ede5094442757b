//! Complaints under a charter of rights, free of storage and web.

pub mod catalogue;
pub mod complaint;

/// A command refused: the input field and what is wrong, or a state conflict (one type for
/// every service, in `heard-contracts`).
pub use heard_contracts::Rejection;

pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Rejection {
    Rejection::Invalid { field: field.to_owned(), message: message.into() }
}

/// Free text with its line endings made `\n`; refused, naming the field, if it holds a
/// control character other than tab and newline (`heard_text`).
pub fn clean(field: &str, text: &str) -> Result<String, Rejection> {
    heard_text::clean(text).map(std::borrow::Cow::into_owned).map_err(|refused| invalid(field, refused.to_string()))
}

#[cfg(test)]
mod tests;
