//! The feedback service.

pub mod domain;
