//! The identity domain, free of storage and web: the events, the rules for valid input, and
//! the reference data EXACT starts with.

pub mod events;
pub mod input;
pub mod reference;

pub use events::*;
pub use input::*;
pub use reference::*;
