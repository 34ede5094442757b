//! The identity service: accounts with roles and scopes, sessions, API tokens, login
//! throttling, and the reference data (hubs, the Forum, providers) other services refer to.
//!
//! - `domain/`: events, input rules and seed data; pure.
//! - [`directory`]: this service's projection of the log, kept on disk between starts.
//! - [`service`]: commands and authentication.
//! - [`secrets`]: the server key, cookie signing, CSRF tokens, token and password hashing.
//! - [`shared`]: what replicas over one database share beside the log (login throttling,
//!   email reservations, the server key's name), in memory or in PostgreSQL.
//! - [`graphql`]: its part of the schema, a federation subgraph.
//! - [`held`]: its part of subject access: who read or was refused a person's cases and
//!   complaints, and when.

pub mod cookies;
pub mod directory;
pub mod domain;
pub mod graphql;
pub mod held;
mod held_records;
mod once;
pub mod secrets;
pub mod service;
pub mod shared;

#[cfg(test)]
mod held_tests;
#[cfg(test)]
mod kept_tests;

pub use cookies::FLASH_COOKIE;
pub use graphql::PasswordChangeGate;
pub use graphql::{CSRF_COOKIE, CSRF_HEADER, IdentityMutation, IdentityQuery, LOGIN_COOKIE, SESSION_COOKIE};
pub use service::{IdentityConfig, IdentityService, LoggedIn, LoginCounts, NewAccount, PasswordChange, StartError};
