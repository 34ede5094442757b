//! The rights service: Bill of Rights complaints.
//!
//! - [`domain`]: the rights catalogue (versioned charters, seeded with the 11 articles of the
//!   EXACT Bill of Rights) and the complaint lifecycle with its working-day clock
//!   (`heard-workdays`), pure.
//! - [`model`]: the model of the log, kept on disk between starts, with the complainants' words
//!   sealed.
//! - [`service`]: commands and queries over it, including the overdue list; the words are opened
//!   when they are read.
//! - [`held`]: what is held about a person in their complaints, for subject access.
//! - [`graphql`]: the subgraph: complaints as each role may see them, the overdue queue and
//!   its subscription, and complaint patterns for commissioners with small numbers suppressed.

pub mod domain;
pub mod graphql;
pub mod held;
pub mod model;
pub mod service;
