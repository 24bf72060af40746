//! One decoding model for every path into typed values: the serde impls
//! of generated types (a QMP server's arguments, a client's replies and
//! events) and the JSON codec ([`crate::json`]) both fail with a
//! [`DecodeError`], which says what went wrong, at which member and (from
//! text) where, and words it as QEMU does.
//!
//! The serde path decodes a `serde_json::Value` through a deserializer of
//! the runtime's own ([`ValueDeserializer`]), whose error type is
//! `DecodeError`: serde's `missing_field`, `unknown_field` and the like
//! build its kinds, and type and range errors are found by the
//! deserializer, which knows what each call asked for. Integers follow
//! QEMU's input visitor on every path (see [`IntType`]).
//!
//! ```
//! use qapi_runtime::decode::{self, DecodeErrorKind, IntType};
//! use serde_json::json;
//!
//! let e = decode::from_value::<Vec<u8>>(&json!([1, 300])).unwrap_err();
//! assert_eq!(e.kind(), &DecodeErrorKind::OutOfRange { ty: IntType::Uint8 });
//! assert_eq!(e.path(), "[1]");
//! // An unsigned type takes a negative number as QEMU does.
//! assert_eq!(decode::from_value::<u64>(&json!(-1)).unwrap(), u64::MAX);
//! ```

mod error;
pub(crate) mod ints;
mod value;

use serde_json::Value;

use crate::serde::Deserialize;

pub(crate) use error::raise;
pub use error::{DecodeError, DecodeErrorKind, Expected, IntType, Segment};
pub use value::ValueDeserializer;

/// Decodes `value` as a `T`.
pub fn from_value<'a, T: Deserialize<'a>>(value: &'a Value) -> Result<T, DecodeError> {
    T::deserialize(ValueDeserializer(value))
}
