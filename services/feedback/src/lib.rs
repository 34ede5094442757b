//! The feedback service: what people tell the hubs, in their own words.
//!
//! - `domain/`: items, moderation, consent, safeguarding, meetings, themes. Pure.
//! - [`model`]: the in-memory projection, rebuilt from the log on start.
//! - [`service`]: commands and queries over the model's `LiveModel`, and the hook on its
//!   follower that keeps the search index in step.
//! - [`search`]: the tantivy index, a projection too.
//! - [`import`]: reading the hubs' spreadsheets (Excel, OpenDocument, CSV). Pure.
//! - [`imports`]: an uploaded spreadsheet's preview and its import in the background.
//! - [`held`]: what this service holds about a person, for a subject access request.
//! - [`graphql`]: this service's part of the schema.

pub mod domain;
pub mod graphql;
pub mod held;
pub mod import;
pub mod imports;
pub mod model;
pub mod search;
pub mod service;

pub use service::{FeedbackService, StartError};

#[cfg(test)]
mod rights_tests;
