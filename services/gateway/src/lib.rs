//! The `heard` binary's library: the CLI, configuration, telemetry, and the server that
//! composes every Heard service behind one GraphQL endpoint.
//!
//! Apart from the demo (`demo/`) and the benchmarks (`tools/bench`), this is the only crate
//! allowed to depend on every service: it is wiring, not domain. See `ARCHITECTURE.md` for the
//! codemap.

pub mod auth;
pub mod backup;
pub mod cli;
pub mod config;
pub mod data_dir;
pub mod edge;
pub mod graphiql;
pub mod graphql;
pub mod hsts;
pub mod metrics;
pub mod reports;
pub mod request_id;
pub mod scrape;
pub mod server;
pub mod services;
pub mod state;
pub mod subgraphs;
pub mod telemetry;
pub mod web;
pub mod web_split;

pub use config::Settings;
pub use server::{RunningServer, start};
pub use services::Services;
