//! The rights service: Bill of Rights complaints.
//!
//! - [`domain`]: the rights catalogue (versioned charters, seeded with the 11 articles of the
//!   EXACT Bill of Rights) and the complaint lifecycle with its working-day clock
//!   (`heard-workdays`), pure.
//! - [`service`]: commands and the in-memory model of the log, including the overdue list.
//! - [`graphql`]: the subgraph: complaints as each role may see them, the overdue queue and
//!   its subscription, and complaint patterns for commissioners with small numbers suppressed.

pub mod domain;
pub mod graphql;
pub mod model;
pub mod service;
