//! Advocacy cases and their roll-up, free of storage and web.

pub mod case;
pub mod rollup;

/// A command refused: the input field and what is wrong, or a state conflict (one type for
/// every service, in `heard-contracts`).
pub use heard_contracts::Rejection;

pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Rejection {
    Rejection::Invalid { field: field.to_owned(), message: message.into() }
}

#[cfg(test)]
mod tests;
