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

use std::borrow::Cow;
use std::fmt;

use crate::serde::de::DeserializeOwned;
use crate::serde::Serialize;
use serde_json::Value;

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
    /// Reads one value, leading whitespace included.
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error>;
}

// ---- entry points ----------------------------------------------------------

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

// ---- writing ---------------------------------------------------------------

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

// ---- reading ---------------------------------------------------------------

/// A position in JSON text being decoded.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    text: &'a str,
    pos: usize,
    depth: u32,
    /// Just after an object's `{`: its first member takes no comma.
    first: bool,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `text`.
    pub fn new(text: &'a str) -> Self {
        Reader { text, pos: 0, depth: 0, first: false }
    }

    #[inline]
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    #[inline]
    fn skip_ws(&mut self) {
        let bytes = self.bytes();
        // Byte by byte: runs are short (one space after QMP's `:` and
        // `,`), and word-at-a-time skipping measured slower.
        let mut i = self.pos;
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = bytes.get(i) {
            i += 1;
        }
        self.pos = i;
    }

    /// The next byte after whitespace, not consumed.
    #[inline]
    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.bytes().get(self.pos).copied()
    }

    #[cold]
    #[inline(never)]
    fn error(&self, at: usize, kind: ErrorKind) -> Error {
        let before = &self.bytes()[..at.min(self.bytes().len())];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
        Error(Box::new(Inner { kind, path: Vec::new(), line, column }))
    }

    #[cold]
    #[inline(never)]
    fn syntax(&self, msg: &str) -> Error {
        self.error(self.pos, ErrorKind::Syntax(msg.to_owned()))
    }

    /// The error for a value of the wrong JSON type where `expected` was
    /// wanted, or a syntax error when there is no value at all.
    #[cold]
    #[inline(never)]
    fn wrong_type(&self, expected: &'static str) -> Error {
        match self.bytes().get(self.pos) {
            Some(b'"' | b'{' | b'[' | b't' | b'f' | b'n' | b'-' | b'0'..=b'9') => {
                self.error(self.pos, ErrorKind::Type(expected))
            }
            Some(_) => self.syntax("expected value"),
            None => self.syntax("EOF while parsing a value"),
        }
    }

    /// Consumes `lit` (`true`, `false`, `null`) or fails.
    fn literal(&mut self, lit: &[u8]) -> Result<(), Error> {
        if self.bytes()[self.pos..].starts_with(lit) {
            self.pos += lit.len();
            Ok(())
        } else {
            Err(self.syntax("expected value"))
        }
    }

    fn enter(&mut self) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.syntax("recursion limit exceeded"));
        }
        Ok(())
    }

    /// Whether the text at the current position, an opening quote, is
    /// the string `name` (a QAPI name: no quote or backslash in it) and
    /// a `:` right after it, as QEMU writes members; if so both are
    /// consumed.
    #[inline(always)]
    fn at_key_colon(&mut self, name: &str) -> bool {
        let bytes = self.bytes();
        let from = self.pos + 1;
        let end = from + name.len();
        // The closing quote first: it rules out most names at once.
        if bytes.get(end..end + 2) == Some(b"\":") && same(&bytes[from..end], name.as_bytes()) {
            self.pos = end + 2;
            return true;
        }
        false
    }

    /// A string whose opening quote is at the current position.
    #[inline]
    fn string_at_quote(&mut self) -> Result<Cow<'a, str>, Error> {
        let bytes = self.bytes();
        let start = self.pos + 1;
        let i = string_end(bytes, start);
        if bytes.get(i) == Some(&b'"') {
            self.pos = i + 1;
            // Both ends are next to an ASCII quote, so on char boundaries.
            return Ok(Cow::Borrowed(self.text.get(start..i).unwrap_or_default()));
        }
        self.pos = i;
        self.string_slow(start).map(Cow::Owned)
    }

    /// The rest of a string with escapes (or an error), from `start`, just
    /// after its opening quote; the position is on the first `\\` (or the
    /// character at fault).
    #[cold]
    fn string_slow(&mut self, start: usize) -> Result<String, Error> {
        match self.bytes().get(self.pos) {
            Some(b'\\') => self.string_escaped(start),
            Some(_) => Err(self.syntax("control character (\\u0000-\\u001F) found while parsing a string")),
            None => Err(self.syntax("EOF while parsing a string")),
        }
    }

    /// The rest of a string that has escapes, from `start` (just after
    /// its opening quote) with the current position on the first `\`.
    fn string_escaped(&mut self, start: usize) -> Result<String, Error> {
        let bytes = self.bytes();
        let mut s = String::from(self.text.get(start..self.pos).unwrap_or_default());
        let mut run = self.pos;
        loop {
            match bytes.get(self.pos) {
                Some(b'"') => {
                    s.push_str(self.text.get(run..self.pos).unwrap_or_default());
                    self.pos += 1;
                    return Ok(s);
                }
                Some(b'\\') => {
                    s.push_str(self.text.get(run..self.pos).unwrap_or_default());
                    self.pos += 1;
                    let c = match bytes.get(self.pos) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            self.unicode_escape()?
                        }
                        Some(_) => return Err(self.syntax("invalid escape")),
                        None => return Err(self.syntax("EOF while parsing a string")),
                    };
                    self.pos += 1;
                    s.push(c);
                    run = self.pos;
                }
                Some(0..=0x1f) => {
                    return Err(self.syntax("control character (\\u0000-\\u001F) found while parsing a string"))
                }
                Some(_) => self.pos += 1,
                None => return Err(self.syntax("EOF while parsing a string")),
            }
        }
    }

    /// Four hex digits at the current position; leaves the position on
    /// the last of them.
    fn hex4(&mut self) -> Result<u16, Error> {
        let digits = self.bytes().get(self.pos..self.pos + 4);
        let Some(digits) = digits else {
            self.pos = self.bytes().len();
            return Err(self.syntax("EOF while parsing a string"));
        };
        let mut n = 0u16;
        for &d in digits {
            let v = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return Err(self.syntax("invalid escape")),
            };
            n = n * 16 + u16::from(v);
        }
        self.pos += 3;
        Ok(n)
    }

    /// The character of a `\u` escape (a surrogate pair takes two),
    /// leaving the position on its last hex digit.
    fn unicode_escape(&mut self) -> Result<char, Error> {
        let first = self.hex4()?;
        let code = match first {
            0xd800..=0xdbff => {
                if !self.bytes()[self.pos + 1..].starts_with(b"\\u") {
                    return Err(self.syntax("lone leading surrogate in hex escape"));
                }
                self.pos += 3;
                let second = self.hex4()?;
                if !(0xdc00..=0xdfff).contains(&second) {
                    return Err(self.syntax("lone leading surrogate in hex escape"));
                }
                0x10000 + ((u32::from(first) - 0xd800) << 10) + (u32::from(second) - 0xdc00)
            }
            0xdc00..=0xdfff => return Err(self.syntax("lone leading surrogate in hex escape")),
            n => u32::from(n),
        };
        char::from_u32(code).ok_or_else(|| self.syntax("invalid unicode code point"))
    }

    /// A string value.
    #[inline]
    pub fn string(&mut self) -> Result<Cow<'a, str>, Error> {
        match self.peek() {
            Some(b'"') => self.string_at_quote(),
            _ => Err(self.wrong_type("string")),
        }
    }

    /// A number's text: whether it is negative, its magnitude if it is an
    /// integer that fits in a `u64`, and where it starts.
    #[inline]
    fn number(&mut self, expected: &'static str) -> Result<(bool, Option<u64>, usize), Error> {
        let bytes = self.bytes();
        let start = self.pos;
        let mut i = start;
        let neg = bytes.get(i) == Some(&b'-');
        if neg {
            i += 1;
        }
        let mut mag: u64 = 0;
        let mut fits = true;
        match bytes.get(i) {
            Some(b'0') => {
                i += 1;
                if let Some(b'0'..=b'9') = bytes.get(i) {
                    self.pos = i;
                    return Err(self.syntax("invalid number"));
                }
            }
            Some(b'1'..=b'9') => {
                let digits = i;
                while let Some(&d @ b'0'..=b'9') = bytes.get(i) {
                    // 19 digits always fit in a u64; beyond, check.
                    if i - digits < 19 {
                        mag = mag * 10 + u64::from(d - b'0');
                    } else {
                        match mag.checked_mul(10).and_then(|m| m.checked_add(u64::from(d - b'0'))) {
                            Some(m) => mag = m,
                            None => fits = false,
                        }
                    }
                    i += 1;
                }
            }
            _ if neg => {
                self.pos = i;
                return Err(self.syntax("invalid number"));
            }
            _ => return Err(self.wrong_type(expected)),
        }
        self.pos = i;
        if let Some(b'.' | b'e' | b'E') = bytes.get(i) {
            self.fraction_and_exponent()?;
            fits = false;
        }
        Ok((neg, fits.then_some(mag), start))
    }

    /// A number's `.digits` and `e±digits`, either optional.
    #[cold]
    fn fraction_and_exponent(&mut self) -> Result<(), Error> {
        let bytes = self.bytes();
        if let Some(b'.') = bytes.get(self.pos) {
            self.pos += 1;
            if !matches!(bytes.get(self.pos), Some(b'0'..=b'9')) {
                return Err(self.syntax("invalid number"));
            }
            while let Some(b'0'..=b'9') = bytes.get(self.pos) {
                self.pos += 1;
            }
        }
        if let Some(b'e' | b'E') = bytes.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = bytes.get(self.pos) {
                self.pos += 1;
            }
            if !matches!(bytes.get(self.pos), Some(b'0'..=b'9')) {
                return Err(self.syntax("invalid number"));
            }
            while let Some(b'0'..=b'9') = bytes.get(self.pos) {
                self.pos += 1;
            }
        }
        Ok(())
    }

    /// An integer of type `T` (`name` is its QAPI type, for errors).
    /// Inlined into each member's read: a call per integer cost more than
    /// the code it adds (QMP replies are mostly integers).
    #[inline(always)]
    fn integer<T: TryFrom<u64> + TryFrom<i64> + TryFrom<i128>>(&mut self, name: &'static str) -> Result<T, Error> {
        self.skip_ws();
        let start = self.pos;
        if let Some((neg, mag)) = self.short_integer() {
            // At most 16 digits, so the magnitude fits in an `i64` either
            // way and only `T`'s own bounds are checked.
            let v = if neg { T::try_from(-(mag as i64)).ok() } else { T::try_from(mag).ok() };
            if let Some(v) = v {
                return Ok(v);
            }
            self.pos = start;
        }
        self.integer_slow(name)
    }

    /// An integer of at most 16 digits not followed by a fraction or an
    /// exponent, consumed: whether it is negative and its magnitude (below
    /// 10^16); `None` for any other text, left unread. These are the byte
    /// counts and times of QMP replies, read without a loop over their
    /// digits.
    #[inline(always)]
    fn short_integer(&mut self) -> Option<(bool, u64)> {
        let bytes = self.bytes();
        let neg = bytes.get(self.pos) == Some(&b'-');
        let start = self.pos + usize::from(neg);
        // A single digit (QMP's many zeros and small counts) without the
        // word's longer chain of operations.
        if let Some(&d @ b'0'..=b'9') = bytes.get(start) {
            let longer = matches!(bytes.get(start + 1), Some(b'0'..=b'9' | b'.' | b'e' | b'E'));
            // `-0` is left to the slow path, as below.
            if !(longer || neg && d == b'0') {
                self.pos = start + 1;
                return Some((neg, u64::from(d - b'0')));
            }
        }
        let w = word(bytes, start)?;
        let n = leading_digits(w);
        // No digit, or a leading zero before more digits: not ours.
        if n == 0 || (n > 1 && w & 0xff == u64::from(b'0')) {
            return None;
        }
        let (mag, end) = if n < 8 {
            (digits_value(w, n), start + n)
        } else {
            let w2 = word(bytes, start + 8)?;
            match leading_digits(w2) {
                0 => (digits_value(w, 8), start + 8),
                8 => return None,
                n2 => (digits_value(w, 8) * POW10_U64[n2] + digits_value(w2, n2), start + 8 + n2),
            }
        };
        if let Some(b'.' | b'e' | b'E') = bytes.get(end) {
            return None;
        }
        // `-0` is left to the slow path: serde_json reads it as -0.0.
        if neg && mag == 0 {
            return None;
        }
        self.pos = end;
        Some((neg, mag))
    }

    /// [`Reader::integer`] for what [`Reader::short_integer`] leaves.
    #[cold]
    #[inline(never)]
    fn integer_slow<T: TryFrom<i128>>(&mut self, name: &'static str) -> Result<T, Error> {
        let (neg, mag, start) = self.number("integer")?;
        // `-0` too: serde_json reads it as the float -0.0.
        let Some(mag) = mag.filter(|m| !neg || *m != 0) else {
            // A fraction, an exponent, or beyond 64 bits: JSON numbers
            // that are no integer to QEMU (nor to serde_json).
            return Err(self.error(start, ErrorKind::Type("integer")));
        };
        let v = if neg { -i128::from(mag) } else { i128::from(mag) };
        T::try_from(v).map_err(|_| self.error(start, ErrorKind::Range(name)))
    }

    /// A number, integers included.
    pub fn f64(&mut self) -> Result<f64, Error> {
        self.skip_ws();
        let (neg, mag, start) = self.number("number")?;
        // serde_json's conversions (not `str::parse`, which rounds
        // differently in the last bit than serde_json without its
        // `float_roundtrip` feature), so that both decode a text to the
        // same value: an integer is converted as a whole (rounded once
        // beyond 2^53), the rest below.
        if let Some(m) = mag {
            let v = m as f64;
            return Ok(if neg { -v } else { v });
        }
        if let Some(v) = short_decimal(&self.bytes()[start..self.pos]) {
            return Ok(v);
        }
        let text = self.text.get(start..self.pos).unwrap_or_default();
        serde_json::from_str::<f64>(text)
            .map_err(|_| self.error(start, ErrorKind::Syntax("number out of range".into())))
    }

    /// `true` or `false`.
    pub fn bool(&mut self) -> Result<bool, Error> {
        match self.peek() {
            Some(b't') => self.literal(b"true").map(|()| true),
            Some(b'f') => self.literal(b"false").map(|()| false),
            _ => Err(self.wrong_type("boolean")),
        }
    }

    /// `null`.
    pub fn null(&mut self) -> Result<(), Error> {
        match self.peek() {
            Some(b'n') => self.literal(b"null"),
            _ => Err(self.wrong_type("null")),
        }
    }

    /// The next value, read by serde_json itself in one pass: `any`
    /// values, skipped members and the serde path of unions and
    /// alternates.
    fn serde_value<T: DeserializeOwned>(&mut self) -> Result<T, Error> {
        self.skip_ws();
        let rest = self.text.get(self.pos..).unwrap_or_default();
        let mut values = serde_json::Deserializer::from_str(rest).into_iter::<T>();
        match values.next() {
            Some(Ok(value)) => {
                self.pos += values.byte_offset();
                Ok(value)
            }
            Some(Err(e)) => {
                // serde_json counts from `rest`; point into the whole text.
                let at = offset_of(rest, e.line(), e.column());
                let msg = e.to_string();
                let msg = msg.rsplit_once(" at line ").map_or(msg.as_str(), |(m, _)| m);
                Err(self.error(self.pos + at, ErrorKind::Syntax(msg.to_owned())))
            }
            None => Err(self.syntax("EOF while parsing a value")),
        }
    }
}

/// 10^0 to 10^7.
const POW10_U64: [u64; 8] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000];

/// Powers of ten that are exact in an `f64`.
const EXACT_POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22,
];

/// A valid JSON number without exponent whose digits, point aside, make
/// an integer that fits in a `u64`, with at most 22 decimals (`3355.44`,
/// or QEMU's 17-digit `mbps`): that integer converted to `f64`, then
/// divided by a power of ten, exactly as serde_json computes it (both are
/// single IEEE operations, so the result is the same to the bit; below
/// 2^53 it is also the correctly rounded value). `None` for any other
/// number, which serde_json itself then reads.
#[inline]
fn short_decimal(text: &[u8]) -> Option<f64> {
    let (neg, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let mut significand: u64 = 0;
    let mut decimals: Option<usize> = None;
    for &b in digits {
        match b {
            b'0'..=b'9' => {
                significand = significand.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
                if let Some(k) = decimals.as_mut() {
                    *k += 1;
                }
            }
            b'.' => decimals = Some(0),
            _ => return None,
        }
    }
    let v = significand as f64 / EXACT_POW10.get(decimals.unwrap_or(0))?;
    Some(if neg { -v } else { v })
}

/// The eight bytes at `at` as a little-endian word (the first byte
/// lowest), or `None` within eight bytes of the end.
#[inline]
fn word(bytes: &[u8], at: usize) -> Option<u64> {
    let chunk = bytes.get(at..at + 8)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(chunk);
    Some(u64::from_le_bytes(a))
}

/// Where the string from `at` ends, or needs a closer look: the offset of
/// the first `"`, `\\` or control character, or the end of `bytes`.
/// Eight bytes at a time (names and values of QMP are mostly 3 to 30
/// bytes), the rest one at a time.
#[inline(always)]
fn string_end(bytes: &[u8], mut at: usize) -> usize {
    while let Some(w) = word(bytes, at) {
        // Bit 7 of a byte is set where it is a quote, a backslash or below
        // 0x20. A borrow can mark bytes after the first one found, never
        // before it, so the lowest mark is exact.
        let zero = |x: u64| x.wrapping_sub(splat(1)) & !x;
        let found = (zero(w ^ splat(b'"')) | zero(w ^ splat(b'\\')) | (w.wrapping_sub(splat(0x20)) & !w)) & splat(0x80);
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while let Some(&b) = bytes.get(at) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            break;
        }
        at += 1;
    }
    at
}

/// `b` in every byte of a word.
#[inline]
const fn splat(b: u8) -> u64 {
    u64::from_ne_bytes([b; 8])
}

/// How many of the word's bytes, from the first, are ASCII digits (0-8).
#[inline]
fn leading_digits(w: u64) -> usize {
    let low = w & splat(0x7f);
    // Bit 7 of each byte: set when it is at least '0', when it is past '9'.
    let at_least_0 = (low + splat(0x80 - b'0')) & splat(0x80);
    let past_9 = (low + splat(0x80 - b'9' - 1)) & splat(0x80);
    let digit = at_least_0 & !past_9 & !w;
    ((!digit & splat(0x80)).trailing_zeros() / 8) as usize
}

/// The value of the first `n` bytes of `w` (1..=8), all ASCII digits.
#[inline]
fn digits_value(w: u64, n: usize) -> u64 {
    // Drop the bytes past the digits and move the digits up, so that
    // the low bytes are leading zeros.
    let v = w.wrapping_sub(splat(b'0')) << (8 * (8 - n));
    // Pairs, then quads, then the eight: the first digit is the low byte.
    let v = (v.wrapping_mul(10) + (v >> 8)) & 0x00ff_00ff_00ff_00ff;
    let v = (v.wrapping_mul(100) + (v >> 16)) & 0x0000_ffff_0000_ffff;
    (v.wrapping_mul(10_000) + (v >> 32)) & 0xffff_ffff
}

/// Whether `a` and `b` hold the same bytes: for the short names of QAPI
/// members, a few overlapping word compares instead of a call to `memcmp`.
#[inline(always)]
fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let w4 = |s: &[u8], at: usize| {
        let mut w = [0u8; 4];
        w.copy_from_slice(&s[at..at + 4]);
        u32::from_le_bytes(w)
    };
    // Both have `n` bytes, so `word` finds eight at each offset used.
    let w8 = |s: &[u8], at: usize| word(s, at).unwrap_or_default();
    match n {
        0 => true,
        // Bytes 0, n/2 and n-1 are all of them.
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => w4(a, 0) == w4(b, 0) && w4(a, n - 4) == w4(b, n - 4),
        8..=16 => w8(a, 0) == w8(b, 0) && w8(a, n - 8) == w8(b, n - 8),
        // The first 16 bytes and the last 16 cover it.
        17..=32 => {
            w8(a, 0) == w8(b, 0)
                && w8(a, 8) == w8(b, 8)
                && w8(a, n - 16) == w8(b, n - 16)
                && w8(a, n - 8) == w8(b, n - 8)
        }
        _ => a == b,
    }
}

/// The byte offset of serde_json's 1-based `line` and `column` in `text`.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum();
    (line_start + column.saturating_sub(1)).min(text.len())
}

/// Past the `,` before the next member, at its name's opening quote:
/// `false` once the object's `}` is consumed instead.
#[inline]
fn member_start(r: &mut Reader<'_>) -> Result<bool, Error> {
    let first = std::mem::replace(&mut r.first, false);
    match r.peek() {
        Some(b',') if !first => {
            r.pos += 1;
            r.skip_ws();
        }
        Some(b'"') if first => return Ok(true),
        Some(b'}') => {
            r.pos += 1;
            r.depth -= 1;
            return Ok(false);
        }
        _ => return Err(member_start_error(r, first)),
    }
    match r.bytes().get(r.pos) {
        Some(b'"') => Ok(true),
        _ => Err(member_start_error(r, true)),
    }
}

/// What [`member_start`] found instead of a member or the end.
#[cold]
#[inline(never)]
fn member_start_error(r: &Reader<'_>, first: bool) -> Error {
    match r.bytes().get(r.pos) {
        Some(_) if !first => r.syntax("expected `,` or `}`"),
        Some(_) => r.syntax("key must be a string"),
        None => r.syntax("EOF while parsing an object"),
    }
}

/// Consumes the `:` after a member's name.
#[inline]
fn colon(r: &mut Reader<'_>) -> Result<(), Error> {
    match r.peek() {
        Some(b':') => {
            r.pos += 1;
            Ok(())
        }
        _ => Err(r.syntax("expected `:`")),
    }
}

/// Reads the members of an object by their index in a list of names:
/// what a generated `Decode` impl of a struct uses.
///
/// QEMU sends members in schema order, so the name looked for first is
/// the one after the previous member's; it is compared where it sits in
/// the input, without being scanned first, and nearly always matches.
#[derive(Debug)]
pub struct Members {
    names: &'static [&'static str],
    /// The index of a name in `names`, for a member out of order.
    index: fn(&str) -> Option<usize>,
    /// Where the next name is looked for first.
    at: usize,
    strict: bool,
}

impl Members {
    /// Opens the object (consumes its `{`); members not in `names` will
    /// be skipped, or an error when `strict` (server mode). `index` gives
    /// a name's position in `names` (generated code passes a `match`).
    #[inline]
    pub fn new(
        r: &mut Reader<'_>,
        names: &'static [&'static str],
        index: fn(&str) -> Option<usize>,
        strict: bool,
    ) -> Result<Self, Error> {
        if r.peek() != Some(b'{') {
            return Err(r.wrong_type("object"));
        }
        r.enter()?;
        r.pos += 1;
        // The first member takes no comma.
        r.first = true;
        Ok(Members { names, index, at: 0, strict })
    }

    /// The index in `names` of the next member, its `:` consumed, or
    /// `None` once the object's `}` is.
    #[inline(always)]
    pub fn next(&mut self, r: &mut Reader<'_>) -> Result<Option<usize>, Error> {
        if !member_start(r)? {
            return Ok(None);
        }
        if let Some(name) = self.names.get(self.at) {
            if r.at_key_colon(name) {
                let found = self.at;
                self.at += 1;
                return Ok(Some(found));
            }
        }
        self.by_name(r)
    }

    /// [`Members::next`] when the member at the current position is not
    /// the one expected: its name is read and looked up, and members not
    /// in `names` are skipped (or an error when strict).
    #[inline(never)]
    fn by_name(&mut self, r: &mut Reader<'_>) -> Result<Option<usize>, Error> {
        loop {
            let key = r.string_at_quote()?;
            colon(r)?;
            if let Some(found) = (self.index)(&key) {
                self.at = found + 1;
                return Ok(Some(found));
            }
            unknown(r, &key, self.strict)?;
            if !member_start(r)? {
                return Ok(None);
            }
        }
    }

    /// A member whose index [`Members::next`] returned but that this
    /// build does not have (it is configured out): like one not in the
    /// names.
    pub fn unavailable(&self, r: &mut Reader<'_>, index: usize) -> Result<(), Error> {
        unknown(r, self.names.get(index).copied().unwrap_or_default(), self.strict)
    }
}

/// Reads an object whose type has no members: each member is skipped,
/// or an error when `strict`.
pub fn empty_object(r: &mut Reader<'_>, strict: bool) -> Result<(), Error> {
    let mut members = Members::new(r, &[], |_| None, strict)?;
    while members.next(r)?.is_some() {}
    Ok(())
}

/// Reads the value of member `name` into `slot`; a second value for it is
/// an error, and errors within the value get `name` on their path.
#[inline(always)]
pub fn read_member<T: Decode>(r: &mut Reader<'_>, slot: &mut Option<T>, name: &'static str) -> Result<(), Error> {
    if slot.is_some() {
        return Err(r.error(r.pos, ErrorKind::Duplicate).within(Seg::Member(name.into())));
    }
    match T::decode(r) {
        Ok(v) => {
            *slot = Some(v);
            Ok(())
        }
        Err(e) => Err(e.within(Seg::Member(name.into()))),
    }
}

/// A member the type does not have (or not in this build): an error when
/// `strict` (server mode), skipped otherwise.
fn unknown(r: &mut Reader<'_>, key: &str, strict: bool) -> Result<(), Error> {
    if strict {
        return Err(r.error(r.pos, ErrorKind::Unexpected).within(Seg::Member(key.to_owned().into())));
    }
    r.serde_value::<crate::serde::de::IgnoredAny>().map(drop)
}

/// The value of a mandatory member once the object is read.
#[inline]
pub fn required<T>(r: &Reader<'_>, slot: Option<T>, name: &'static str) -> Result<T, Error> {
    match slot {
        Some(v) => Ok(v),
        None => Err(r.error(r.pos, ErrorKind::Missing).within(Seg::Member(name.into()))),
    }
}

/// A value of an enum from its wire name: `from_wire` knows the values;
/// an unknown one becomes `unknown(name)` (client mode) or an error
/// (`unknown` is `None`, server mode).
pub fn read_enum<T>(
    r: &mut Reader<'_>,
    from_wire: fn(&str) -> Option<T>,
    unknown: Option<fn(String) -> T>,
) -> Result<T, Error> {
    r.skip_ws();
    let start = r.pos;
    let s = r.string()?;
    if let Some(v) = from_wire(&s) {
        return Ok(v);
    }
    match unknown {
        Some(keep) => Ok(keep(s.into_owned())),
        None => Err(r.error(start, ErrorKind::Value(s.into_owned()))),
    }
}

/// Reads a value through its serde impl: what the codec does for the
/// types it has no code of its own for (unions, alternates). Errors name
/// the member path as [`crate::dispatch::decode`] names it.
pub fn read_serde<T: DeserializeOwned>(r: &mut Reader<'_>) -> Result<T, Error> {
    r.skip_ws();
    let start = r.pos;
    let value: Value = r.serde_value()?;
    crate::dispatch::decode(value).map_err(|e| r.error(start, ErrorKind::Other(e.desc)))
}

macro_rules! decode_ints {
    ($($t:ty: $name:literal)*) => {$(
        impl Decode for $t {
            #[inline]
            fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
                r.integer($name)
            }
        }
    )*};
}
decode_ints!(i8: "int8" i16: "int16" i32: "int32" i64: "int64" u8: "uint8" u16: "uint16" u32: "uint32" u64: "uint64");

impl Decode for f64 {
    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        r.f64()
    }
}

impl Decode for bool {
    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        r.bool()
    }
}

impl Decode for () {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        r.null()
    }
}

impl Decode for String {
    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        r.string().map(Cow::into_owned)
    }
}

impl Decode for Value {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        r.serde_value()
    }
}

impl<T: Decode> Decode for Vec<T> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        match r.peek() {
            Some(b'[') => {}
            _ => return Err(r.wrong_type("array")),
        }
        r.enter()?;
        r.pos += 1;
        let mut items = Vec::new();
        if r.peek() == Some(b']') {
            r.pos += 1;
            r.depth -= 1;
            return Ok(items);
        }
        loop {
            match T::decode(r) {
                Ok(v) => items.push(v),
                Err(e) => return Err(e.within(Seg::Index(items.len()))),
            }
            match r.peek() {
                Some(b',') => r.pos += 1,
                Some(b']') => {
                    r.pos += 1;
                    r.depth -= 1;
                    return Ok(items);
                }
                Some(_) => return Err(r.syntax("expected `,` or `]`")),
                None => return Err(r.syntax("EOF while parsing a list")),
            }
        }
    }
}

impl<T: Decode> Decode for Box<T> {
    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        T::decode(r).map(Box::new)
    }
}

// ---- errors ----------------------------------------------------------------

/// Why decoding failed, where, and at which member.
///
/// Displays in QEMU's wording with the position:
/// `Parameter 'ram.total' expects uint64 at line 4 column 14`.
#[derive(Debug, Clone, PartialEq)]
pub struct Error(Box<Inner>);

#[derive(Debug, Clone, PartialEq)]
struct Inner {
    kind: ErrorKind,
    /// From the innermost segment out.
    path: Vec<Seg>,
    line: usize,
    column: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum ErrorKind {
    /// Not JSON.
    Syntax(String),
    /// A value of another JSON type than this one.
    Type(&'static str),
    /// An integer outside this QAPI type's range.
    Range(&'static str),
    /// A mandatory member is absent.
    Missing,
    /// A member the type does not have (server mode).
    Unexpected,
    /// A member given twice.
    Duplicate,
    /// A string that is no value of the enum.
    Value(String),
    /// Worded already (by the serde path).
    Other(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Member(Cow<'static, str>),
    Index(usize),
}

impl Error {
    fn within(mut self, seg: Seg) -> Self {
        self.0.path.push(seg);
        self
    }

    /// The path of the member at fault, `a.b[2].c` (empty for the value
    /// itself).
    pub fn path(&self) -> String {
        let mut s = String::new();
        for seg in self.0.path.iter().rev() {
            match seg {
                Seg::Member(m) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(m);
                }
                Seg::Index(i) => {
                    s.push('[');
                    s.push_str(&i.to_string());
                    s.push(']');
                }
            }
        }
        s
    }

    /// The 1-based line of the input where it went wrong.
    pub fn line(&self) -> usize {
        self.0.line
    }

    /// The 1-based column (in characters) where it went wrong.
    pub fn column(&self) -> usize {
        self.0.column
    }

    /// Whether the input was not JSON at all (rather than JSON that does
    /// not fit the type).
    pub fn is_syntax(&self) -> bool {
        matches!(self.0.kind, ErrorKind::Syntax(_))
    }

    /// The message in QEMU's wording, without the position.
    pub fn message(&self) -> String {
        let path = self.path();
        match &self.0.kind {
            ErrorKind::Syntax(m) => format!("JSON parse error: {m}"),
            ErrorKind::Type(t) if path.is_empty() => format!("Invalid JSON type, expected: {t}"),
            ErrorKind::Type(t) => format!("Invalid parameter type for '{path}', expected: {t}"),
            ErrorKind::Range(t) => format!("Parameter '{path}' expects {t}"),
            ErrorKind::Missing => format!("Parameter '{path}' is missing"),
            ErrorKind::Unexpected => format!("Parameter '{path}' is unexpected"),
            ErrorKind::Duplicate => format!("Parameter '{path}' is given twice"),
            ErrorKind::Value(v) if path.is_empty() => format!("Value '{v}' is not accepted"),
            ErrorKind::Value(v) => format!("Parameter '{path}' does not accept value '{v}'"),
            ErrorKind::Other(m) if path.is_empty() => m.clone(),
            ErrorKind::Other(m) => format!("{m} (within '{path}')"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at line {} column {}", self.message(), self.0.line, self.0.column)
    }
}

impl std::error::Error for Error {}

impl From<Error> for crate::Error {
    fn from(e: Error) -> Self {
        crate::Error::generic(e.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round<T: Decode + Encode>(text: &str) -> String {
        to_string(&from_str::<T>(text).unwrap())
    }

    #[test]
    fn same_compares_every_byte_of_every_length() {
        for n in 0..40 {
            let a: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(same(&a, &a.clone()));
            for i in 0..n {
                let mut b = a.clone();
                b[i] = b'-';
                assert!(!same(&a, &b), "length {n}, byte {i}");
            }
            assert!(!same(&a, &a[..n.saturating_sub(1)]) || n == 0);
        }
    }

    #[test]
    fn decimals_read_as_serde_json_reads_them() {
        let mut texts: Vec<String> = [
            "0.0",
            "-0.0",
            "0.1",
            "3355.44",
            "1.5e3",
            "9007199254740991.0",
            "900719925474099.15",
            "9007199254740993.0",
            "0.0000000000000000000001",
            "0.00000000000000000000001",
            "123456789012345678.9",
            "-2.2250738585072014",
            "1e400",
            "18446744073709551616.5",
        ]
        .iter()
        .map(|t| t.to_string())
        .collect();
        // Decimals and integers of every length around the fast path's
        // limits (2^53, 2^64, 22 decimals).
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..40_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let mut digits = (x >> (x % 50)).to_string();
            if i % 4 == 0 {
                // Beyond 20 digits: past a u64.
                digits.push_str(&(x >> 7).to_string());
            }
            if i % 8 == 1 {
                texts.push(digits.clone());
            }
            let cut = (x % (digits.len() as u64 + 1)) as usize;
            let zeros = "0".repeat((x >> 60) as usize);
            let sign = if x & 1 == 0 { "" } else { "-" };
            texts.push(format!("{sign}{}.{zeros}{}", &digits[..cut.max(1)], &digits[cut.min(digits.len() - 1)..]));
        }
        for t in &texts {
            let ours = from_str::<f64>(t).map(f64::to_bits).ok();
            let theirs = serde_json::from_str::<f64>(t).map(f64::to_bits).ok();
            assert_eq!(ours, theirs, "{t}");
        }
    }

    /// Integers of every length up to past 64 bits, with and without a
    /// sign, leading zeros, fractions and exponents, at the end of the
    /// text and followed by more (the word-at-a-time path needs eight
    /// bytes): read by every integer type as serde_json reads them, and
    /// out of range where it is out of range, pointing at the number.
    #[test]
    fn integers_read_as_serde_json_reads_them() {
        fn check<T>(text: &str)
        where
            T: Decode + crate::serde::de::DeserializeOwned + PartialEq + fmt::Debug,
        {
            let ours = from_str::<T>(text);
            let theirs = serde_json::from_str::<T>(text);
            match (&ours, &theirs) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{text}"),
                // A number of the wrong kind or out of range is no
                // syntax error, and is pointed at where it starts.
                (Err(e), Err(theirs)) => {
                    // serde_json files text that ends early apart; to us it is a syntax error.
                    let syntax = theirs.is_syntax() || theirs.is_eof();
                    assert_eq!(e.is_syntax(), syntax, "{text}: {e}; serde_json: {theirs}");
                    if !e.is_syntax() {
                        let at = text.find(|c: char| c == '-' || c.is_ascii_digit()).unwrap_or(0);
                        assert_eq!((e.line(), e.column()), (1, at + 1), "{text}: {e}");
                    }
                }
                _ => panic!("{text}: ours {ours:?}, serde_json {theirs:?}"),
            }
        }
        let mut numbers = vec!["0".to_owned(), "-0".into(), "00".into(), "01".into(), "-01".into(), "-".into()];
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for len in 1..=22 {
            for _ in 0..40 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let digits: String = (0..len).map(|i| char::from(b'0' + ((x >> (i % 60)) % 10) as u8)).collect();
                let digits = if digits.starts_with('0') && len > 1 { format!("1{}", &digits[1..]) } else { digits };
                numbers.push(digits.clone());
                numbers.push(format!("-{digits}"));
                numbers.push(format!("{digits}.5"));
                numbers.push(format!("{digits}e1"));
            }
        }
        for b in [8, 16, 32, 63, 64] {
            let p = 1u128 << b;
            numbers.extend([(p - 1).to_string(), p.to_string(), format!("-{p}"), format!("-{}", p + 1)]);
        }
        // Single digits, which have a path of their own, before every kind
        // of byte that can follow them.
        numbers.extend(["9", "-9", "0.0", "0e0", "5E1", "7e", "3.", "-0.0"].map(String::from));
        for n in &numbers {
            check::<i64>(n);
            check::<u8>(n);
            for text in [format!("[{n}]"), format!("[{n},          1]"), format!("[ {n} ,\n  1]")] {
                check::<Vec<u8>>(&text);
                check::<Vec<i8>>(&text);
                check::<Vec<u16>>(&text);
                check::<Vec<i16>>(&text);
                check::<Vec<u32>>(&text);
                check::<Vec<i32>>(&text);
                check::<Vec<u64>>(&text);
                check::<Vec<i64>>(&text);
            }
        }
    }

    #[test]
    fn builtins_read_and_write_as_serde_json_does() {
        assert_eq!(round::<i64>(" -42 "), "-42");
        assert_eq!(round::<u64>("18446744073709551615"), "18446744073709551615");
        for n in [0u64, 7, 12345678, 123456789, 1891236782, 99999999999999999, u64::MAX / 3] {
            assert_eq!(from_str::<u64>(&n.to_string()).unwrap(), n);
            let negative = i64::try_from(n).ok().filter(|v| *v != 0).map(|v| -v);
            assert_eq!(from_str::<i64>(&format!("-{n}")).ok(), negative);
        }
        // serde_json reads `-0` as a float, so neither takes it for an integer.
        assert!(serde_json::from_str::<i64>("-0").is_err() && from_str::<i64>("-0").is_err());
        assert!(from_str::<u64>("1234567:").is_err());
        assert!(from_str::<u64>("12345678/1").is_err());
        assert_eq!(round::<f64>("3362.1987235555557"), "3362.1987235555557");
        assert_eq!(round::<f64>("5"), "5.0");
        assert_eq!(round::<f64>("-1e3"), "-1000.0");
        assert_eq!(round::<bool>("true"), "true");
        assert_eq!(round::<()>("null"), "null");
        assert_eq!(round::<Vec<u8>>("[ 1 , 2,3 ]"), "[1,2,3]");
        assert_eq!(round::<Vec<u8>>("[]"), "[]");
        assert_eq!(round::<Value>(r#"{"a": [1, {"b": null}]}"#), r#"{"a":[1,{"b":null}]}"#);
        let s = "q\"b\\s/\u{1}\u{8}\u{c}\n\r\t é 😀 \u{7f}";
        let text = serde_json::to_string(s).unwrap();
        assert_eq!(from_str::<String>(&text).unwrap(), s);
        assert_eq!(to_string(s), text);
        assert_eq!(from_str::<String>(r#""\u00e9\ud83d\ude00\/""#).unwrap(), "é😀/");
    }

    #[test]
    fn bad_input_names_what_and_where() {
        let e = |t: &str| from_str::<Vec<u8>>(t).unwrap_err().to_string();
        assert_eq!(e("[1,\n 256]"), "Parameter '[1]' expects uint8 at line 2 column 2");
        assert_eq!(e("[1.5]"), "Invalid parameter type for '[0]', expected: integer at line 1 column 2");
        assert_eq!(e("{}"), "Invalid JSON type, expected: array at line 1 column 1");
        assert_eq!(e("[1"), "JSON parse error: EOF while parsing a list at line 1 column 3");
        assert_eq!(e("[1] x"), "JSON parse error: trailing characters at line 1 column 5");
        assert_eq!(e("[01]"), "JSON parse error: invalid number at line 1 column 3");
        assert!(from_str::<String>(r#""\ud800""#).unwrap_err().is_syntax());
        assert!(from_str::<String>("\"a\nb\"").unwrap_err().is_syntax());
        assert!(from_str::<u64>("18446744073709551616").unwrap_err().to_string().contains("expected: integer"));
        assert!(from_str::<f64>("1e400").unwrap_err().is_syntax());
    }

    /// A recursive type, as `{ 'struct': 'Node', 'data': { '*next': 'Node' } }` generates it.
    #[derive(Debug)]
    struct Node(Option<Box<Node>>);

    impl Decode for Node {
        fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
            let mut next = None;
            let mut members = Members::new(r, &["next"], |name| (name == "next").then_some(0), true)?;
            while let Some(i) = members.next(r)? {
                match i {
                    0 => read_member(r, &mut next, "next")?,
                    _ => members.unavailable(r, i)?,
                }
            }
            Ok(Node(next))
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "{\"next\": ".repeat(100_000);
        let e = from_str::<Node>(&deep).unwrap_err();
        assert!(e.to_string().contains("recursion limit"), "{e}");
        let fine = format!("{}{{}}{}", "{\"next\": ".repeat(100), "}".repeat(100));
        let mut node = &from_str::<Node>(&fine).unwrap();
        let mut depth = 0;
        while let Some(next) = &node.0 {
            node = next;
            depth += 1;
        }
        assert_eq!(depth, 100);
        assert!(from_str::<Value>(&"[".repeat(100_000)).is_err());
    }

    #[test]
    fn strings_read_as_serde_json_reads_them_wherever_the_special_byte_sits() {
        // Strings are scanned eight bytes at a time: put a byte that ends
        // or interrupts the scan at every offset of the first three words
        // and of the tail.
        let specials =
            ["\\\"", "\\\\", "\\n", "\\u00e9", "\\ud83d\\ude00", "\\x", "é", "€", "\u{1}", "\t", "\u{7f}", "\u{1f}"];
        for len in 0..28 {
            for at in 0..len {
                for special in specials {
                    let body: String = (0..len).map(|i| if i == at { special } else { "a" }).collect();
                    for text in [format!("[\"{body}\", \"b\"]"), format!("[\"{body}"), format!("[\"{body}\"")] {
                        let ours = from_str::<Vec<String>>(&text);
                        let theirs = serde_json::from_str::<Vec<String>>(&text);
                        match (&ours, &theirs) {
                            (Ok(a), Ok(b)) => assert_eq!(a, b, "{text:?}"),
                            (Err(e), Err(_)) => assert!(e.is_syntax(), "{text:?}: {e}"),
                            _ => panic!("{text:?}: ours {ours:?}, serde_json {theirs:?}"),
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn escapes_match_serde_json_for_every_ascii_byte() {
        for b in 0u8..0x80 {
            let s = String::from(char::from(b));
            assert_eq!(to_string(s.as_str()), serde_json::to_string(&s).unwrap(), "byte {b:#x}");
        }
    }
}
