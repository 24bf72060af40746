//! A JSON codec for generated types that does not go through serde: what
//! `qapi-gen` emits with its `json_codec` option ([`Encode`], [`Decode`]
//! and [`EncodeMembers`] impls) calls the functions here.
//!
//! Generated serde impls must work with any serde format, so they pay for
//! serde's visitor protocol on every member. Knowing the format is JSON
//! lets the codec write each member's `,"name":` as one pre-escaped copy,
//! compare member names as they sit in the input, and build values
//! without going through visitors. The output is byte for byte what
//! `serde_json` writes for the same value, and the input accepted is
//! what the serde impls accept, with the same meaning; errors use QEMU's
//! wording and give the line and column.
//!
//! ```
//! use qapi_runtime::json::{self, Decode, Encode, EncodeMembers, Reader};
//!
//! // By hand what qapi-gen generates for `{ 'struct': 'Point', 'data': { 'x': 'int', '*y': 'int' } }`.
//! #[derive(Debug, PartialEq)]
//! struct Point { x: i64, y: Option<i64> }
//!
//! impl EncodeMembers for Point {
//!     fn encode_members(&self, out: &mut Vec<u8>) {
//!         json::write_member(out, ",\"x\":", &self.x);
//!         json::write_optional(out, ",\"y\":", &self.y);
//!     }
//! }
//! impl Encode for Point {
//!     fn encode(&self, out: &mut Vec<u8>) {
//!         json::encode_object(self, out)
//!     }
//! }
//! impl Decode for Point {
//!     fn decode(r: &mut Reader<'_>) -> Result<Self, json::Error> {
//!         const MEMBERS: &[&str] = &["x", "y"];
//!         fn index(name: &str) -> Option<usize> {
//!             MEMBERS.iter().position(|m| *m == name)
//!         }
//!         let (mut m0, mut m1) = (None, None);
//!         let mut members = json::Members::new(r, MEMBERS, index, false)?;
//!         while let Some(i) = members.next(r)? {
//!             match i {
//!                 0 => json::read_member(r, &mut m0, "x")?,
//!                 1 => json::read_member(r, &mut m1, "y")?,
//!                 _ => members.unavailable(r, i)?,
//!             }
//!         }
//!         Ok(Point { x: json::required(r, m0, "x")?, y: m1 })
//!     }
//! }
//!
//! let p: Point = json::from_str(r#"{ "y": 2, "x": 1 }"#).unwrap();
//! assert_eq!(p, Point { x: 1, y: Some(2) });
//! assert_eq!(json::to_string(&p), r#"{"x":1,"y":2}"#);
//! let e = json::from_str::<Point>("{\n  \"x\": true\n}").unwrap_err();
//! assert_eq!(e.to_string(), "Invalid parameter type for 'x', expected: integer at line 2 column 8");
//! ```

mod bytes;
mod decode;
mod members;
mod numbers;
mod reader;
mod strings;
#[cfg(test)]
mod tests;
mod write;

/// Why decoding failed: the same error as every decoding path's.
pub use crate::decode::DecodeError as Error;
pub use members::{empty_object, read_enum, read_member, read_serde, required, Members};
pub use reader::Reader;
pub use write::{encode_object, write_member, write_optional, write_serde, write_str};

/// How deeply objects and arrays may nest in decoded input (serde_json's
/// limit too): deeper input is an error, not a stack overflow.
const MAX_DEPTH: u32 = 128;

/// A value that can be written as JSON.
pub trait Encode {
    /// Appends the value's JSON text to `out`.
    fn encode(&self, out: &mut Vec<u8>);
}

/// An object type whose members can be written into an object being
/// written: what a union's branch contributes to the union's object.
pub trait EncodeMembers {
    /// Appends `,"name":value` for every member that is present, in
    /// schema order (see [`encode_object`] for the leading comma).
    fn encode_members(&self, out: &mut Vec<u8>);
}

/// A value that can be read from JSON.
pub trait Decode: Sized {
    /// Whether `decode` may succeed and yet leave an error for its caller
    /// to report: a member that an object (this one, or one within it)
    /// does not have, which QEMU reports only once the rest of the
    /// object is found complete, after the checks of the members that
    /// are missing. [`read_member`], lists and [`from_str`] report it.
    /// `false` for the types that hold no object, which spares them the
    /// check.
    const LEAVES_ERROR: bool = true;

    /// Reads one value, leading whitespace included.
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error>;
}

/// The JSON text of `value`, as bytes.
pub fn to_vec<T: Encode + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    value.encode(&mut out);
    out
}

/// The JSON text of `value`.
pub fn to_string<T: Encode + ?Sized>(value: &T) -> String {
    // Everything written is UTF-8: `str` slices and ASCII.
    String::from_utf8(to_vec(value)).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Reads a `T` from `text`, which must hold exactly one JSON value
/// (whitespace around it allowed).
pub fn from_str<T: Decode>(text: &str) -> Result<T, Error> {
    let mut r = Reader::new(text);
    // The decoded result is returned as it is, not unpacked and packed
    // again, and not reassigned on the error path: either made the
    // compiler copy large values (a `MigrationInfo` is 640 bytes) once
    // more.
    let decoded = T::decode(&mut r);
    if decoded.is_ok() {
        r.skip_ws();
        if r.pos < r.bytes().len() {
            drop(decoded);
            return Err(r.syntax("trailing characters"));
        }
        if let Err(e) = r.take_left::<T>() {
            drop(decoded);
            return Err(e);
        }
    }
    decoded
}

/// [`from_str`] on bytes, which must be UTF-8.
pub fn from_slice<T: Decode>(bytes: &[u8]) -> Result<T, Error> {
    match std::str::from_utf8(bytes) {
        Ok(text) => from_str(text),
        Err(e) => {
            let mut r = Reader::new(std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default());
            r.pos = e.valid_up_to();
            Err(r.syntax("invalid UTF-8"))
        }
    }
}

/// `{}`, and the members (none) of the runtime's memberless objects; read
/// with the same leniency as their serde impls: [`crate::NoArguments`]
/// refuses members (a command that takes none), [`crate::Empty`] skips
/// them (a reply from a newer QEMU may have some).
macro_rules! empty_codec {
    ($($t:ident: $strict:literal),*) => {$(
        impl EncodeMembers for crate::$t {
            fn encode_members(&self, _out: &mut Vec<u8>) {}
        }

        impl Encode for crate::$t {
            fn encode(&self, out: &mut Vec<u8>) {
                encode_object(self, out)
            }
        }

        impl Decode for crate::$t {
            fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
                empty_object(r, $strict)?;
                Ok(crate::$t {})
            }
        }
    )*};
}

empty_codec!(NoArguments: true, Empty: false);
