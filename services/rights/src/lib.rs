//! The rights service (issue #5, in progress): Bill of Rights complaints.
//!
//! So far: the pure domain (the rights catalogue and the complaint lifecycle, with its
//! working-day clock from `heard-workdays`). The projection, GraphQL and policy rows follow.

pub mod domain;
