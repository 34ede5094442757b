//! The rights pages, against a small schema of the agreed names.
