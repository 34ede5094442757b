//! Event contracts: this service's events live in `heard_contracts::identity`, where every
//! reader finds them; the domain uses them from there.

pub use heard_contracts::identity::*;
