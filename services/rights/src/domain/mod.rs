//! Complaints under a charter of rights, free of storage and web.

pub mod catalogue;
pub mod complaint;

/// A command refused: the input field and what is wrong, or a state conflict (one type for
/// every service, in `heard-contracts`).
pub use heard_contracts::Rejection;

pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Rejection {
    Rejection::Invalid { field: field.to_owned(), message: message.into() }
}

pub use heard_contracts::input::{clean, required};

#[cfg(test)]
mod tests;
