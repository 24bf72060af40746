//! Backends: what is generated from a resolved [`Schema`](crate::Schema).

pub mod introspect;
pub mod rust;
