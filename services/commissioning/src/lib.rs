//! The commissioning service: decisions and "you said, we did".
//!
//! - [`domain`]: commissioning decisions (status, milestones, progress, the rung on Arnstein's
//!   ladder, evidence links that are added and withdrawn but never edited, the outcome review),
//!   commissioners' answers to shared feedback, and the loop metrics of the reports, pure.
//! - [`model`]: the model of the log (decisions, answers, and what feedback, complaints and
//!   cases have shared), folded by `LiveModel`.
//! - [`service`]: commands, and the replay behind point-in-time views.
//! - [`report`]: "you said, we did", computed once for GraphQL, the printable page and CSV.
//! - [`graphql`]: the subgraph.

pub mod domain;
pub mod graphql;
pub mod model;
pub mod report;
pub mod service;

#[cfg(test)]
mod kept_tests;
