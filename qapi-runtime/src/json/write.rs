//! Writing JSON: the [`Encode`] impls of the builtin types and what
//! generated impls call.

use serde_json::Value;

use super::{Encode, EncodeMembers};
use crate::serde::Serialize;

/// Writes an object of `value`'s members. Each member starts with a
/// comma; the first one's is overwritten with the `{`, so that a member
/// never needs to know whether one was written before it.
#[inline]
pub fn encode_object<T: EncodeMembers + ?Sized>(value: &T, out: &mut Vec<u8>) {
    let start = out.len();
    value.encode_members(out);
    if out.len() == start {
        out.extend_from_slice(b"{}");
    } else {
        out[start] = b'{';
        out.push(b'}');
    }
}

/// Writes a member: `key` is its `,"name":`, already escaped.
#[inline]
pub fn write_member<T: Encode + ?Sized>(out: &mut Vec<u8>, key: &str, value: &T) {
    out.extend_from_slice(key.as_bytes());
    value.encode(out);
}

/// Writes an optional member if it is present.
#[inline]
pub fn write_optional<T: Encode>(out: &mut Vec<u8>, key: &str, value: &Option<T>) {
    if let Some(value) = value {
        write_member(out, key, value);
    }
}

/// Writes `s` as a JSON string, escaped as serde_json escapes it.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 15)]);
        } else {
            out.extend_from_slice(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Writes `value` through its serde impl: what the codec does for the
/// types it has no code of its own for (unions, alternates, `any`).
pub fn write_serde<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    let start = out.len();
    // Writing into a Vec cannot fail, and generated serde impls don't
    // fail either; should one ever, `null` is written rather than half a
    // value.
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.truncate(start);
        out.extend_from_slice(b"null");
    }
}

macro_rules! encode_ints {
    ($($t:ty)*) => {$(
        impl Encode for $t {
            #[inline]
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(itoa::Buffer::new().format(*self).as_bytes());
            }
        }
    )*};
}
encode_ints!(i8 i16 i32 i64 u8 u16 u32 u64);

impl Encode for f64 {
    fn encode(&self, out: &mut Vec<u8>) {
        // serde_json's own formatting (and `null` for NaN and infinities),
        // so that output stays byte-equal to it.
        write_serde(out, self);
    }
}

impl Encode for bool {
    #[inline]
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(if *self { b"true" } else { b"false" });
    }
}

/// QAPI's `null`.
impl Encode for () {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"null");
    }
}

impl Encode for str {
    #[inline]
    fn encode(&self, out: &mut Vec<u8>) {
        write_str(out, self);
    }
}

impl Encode for String {
    #[inline]
    fn encode(&self, out: &mut Vec<u8>) {
        write_str(out, self);
    }
}

/// QAPI's `any`.
impl Encode for Value {
    fn encode(&self, out: &mut Vec<u8>) {
        write_serde(out, self);
    }
}

impl<T: Encode> Encode for [T] {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(b'[');
        for (i, item) in self.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            item.encode(out);
        }
        out.push(b']');
    }
}

impl<T: Encode> Encode for Vec<T> {
    #[inline]
    fn encode(&self, out: &mut Vec<u8>) {
        self.as_slice().encode(out);
    }
}

impl<T: Encode + ?Sized> Encode for Box<T> {
    #[inline]
    fn encode(&self, out: &mut Vec<u8>) {
        (**self).encode(out);
    }
}
