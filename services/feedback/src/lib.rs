//! The feedback service: what people tell the hubs, in their own words.
//!
//! - `domain/`: items, moderation, consent, safeguarding, meetings, themes. Pure.
//! - [`service`]: commands and the in-memory projection, rebuilt from the log on start.
//! - [`search`]: the tantivy index, a projection too.
//! - [`import`]: CSV spreadsheets from the hubs.
//! - [`graphql`]: this service's part of the schema.

pub mod domain;
pub mod graphql;
pub mod import;
pub mod search;
pub mod service;

pub use service::{FeedbackService, StartError};
