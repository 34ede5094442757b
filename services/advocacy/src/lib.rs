//! The advocacy service: cases for one person, one issue at a time, worked by an advocate who is
//! independent of the provider, and the systemic themes the cases show to commissioners.
//!
//! - `domain/`: the case lifecycle and the roll-up of themes. Pure.
//! - [`model`]: the model of cases, kept on disk between starts, with the clients' words sealed.
//! - [`service`]: commands and queries over it; the words are opened when they are read.
//! - [`graphql`]: this service's part of the schema; every resolver asks the policy.
//! - [`held`]: what is held about a person in their cases, for subject access.

pub mod domain;
pub mod graphql;
pub mod held;
pub mod model;
pub mod service;

pub use service::AdvocacyService;
