//! The one end-to-end test binary. Each module is one area; every test talks to real parts:
//! a server on port 0, the real `heard` binary, a sled store on disk.

mod access;
mod advocacy;
mod attacks;
mod browser;
mod casework_rights;
mod cli;
mod commissioning;
mod config;
mod copy;
mod crash;
mod crash_postgres;
mod erasure;
mod feedback;
mod feedback_erasure;
mod identity;
mod import;
mod loop_state;
mod meetings;
mod models_crash;
mod moderation;
mod on_postgres;
mod privacy;
mod privacy_rights;
mod replicas;
mod reports;
mod rights;
mod safeguarding;
mod schema;
mod search;
mod server;
mod tidy;
mod web;
mod web_import;
mod web_rights;
