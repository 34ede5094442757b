//! The commissioning service: decisions and "you said, we did".
//!
//! - [`domain`]: commissioning decisions (status, milestones, progress, the rung on Arnstein's
//!   ladder, evidence links that are added and withdrawn but never edited, the outcome review),
//!   commissioners' answers to shared feedback, and the loop metrics of the reports, pure.

pub mod domain;
