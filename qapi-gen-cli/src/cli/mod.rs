//! The verbs of the `qapi-gen` command line, one module each.

pub mod check;
pub mod compat;
pub mod generate;
pub mod introspect;
pub mod report;
