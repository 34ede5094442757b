//! Advocacy cases and their roll-up, free of storage and web.

pub mod case;
pub mod rollup;

/// A command refused: the input field and what is wrong, or a state conflict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    Invalid { field: String, message: String },
    Conflict(String),
}

pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Rejection {
    Rejection::Invalid { field: field.to_owned(), message: message.into() }
}

#[cfg(test)]
mod tests;
