//! The privacy service: a person's rights over their data (issue #18).
//!
//! - [`model`]: which records are about which person (from the attribution events other
//!   services append on their records' streams), what the policy needs to know about each
//!   person, and every erasure; beside it, the hook that destroys an erasure's keys as the
//!   follower applies it, so an erasure interrupted by a crash completes on the next start.
//! - [`service`]: erasing a person (through the one erase path, `heard_api::erasure::erase`),
//!   and the privacy part of subject access.
//! - [`retention`]: erasing records whose retention period has ended.
//! - [`graphql`]: `eraseSubject`, and the privacy part of `subjectAccess`.

pub mod graphql;
pub mod model;
pub mod retention;
pub mod service;

pub use service::PrivacyService;

#[cfg(test)]
mod service_tests;
