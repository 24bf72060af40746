//! The reader's position in the text, its errors, and the values it
//! reads without help: literals, and whatever serde_json reads for it.

use super::MAX_DEPTH;
use super::{Decode, Error};
use crate::decode::{DecodeErrorKind, Expected};
use crate::serde::de::DeserializeOwned;

/// A position in JSON text being decoded.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    pub(super) text: &'a str,
    pub(super) pos: usize,
    pub(super) depth: u32,
    /// Just after an object's `{`: its first member takes no comma.
    pub(super) first: bool,
    /// The error an object's decoder left for its caller (see
    /// [`Members`](super::Members)), with the object's depth.
    pub(super) left: Option<(u32, Error)>,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `text`.
    pub fn new(text: &'a str) -> Self {
        Reader { text, pos: 0, depth: 0, first: false, left: None }
    }

    #[inline]
    pub(super) fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    #[inline]
    pub(super) fn skip_ws(&mut self) {
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
    pub(super) fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.bytes().get(self.pos).copied()
    }

    #[cold]
    #[inline(never)]
    pub(super) fn error(&self, at: usize, kind: DecodeErrorKind) -> Error {
        let (line, column) = self.position(at);
        Error::new(kind).at_position(line, column)
    }

    /// The 1-based line and column (in characters) of byte offset `at`.
    #[cold]
    pub(super) fn position(&self, at: usize) -> (usize, usize) {
        let before = &self.bytes()[..at.min(self.bytes().len())];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
        (line, column)
    }

    /// Leaves the error `make` makes for the caller of the decoder of the
    /// object being read, unless that object left one already. One that
    /// an object around it left is dropped: this one is reported first,
    /// when this object ends, and ends the decoding.
    pub(super) fn leave(&mut self, make: impl FnOnce(&Self) -> Error) {
        if !matches!(self.left, Some((depth, _)) if depth == self.depth) {
            self.left = Some((self.depth, make(self)));
        }
    }

    /// After a `T` is decoded: the error it left, if any (see
    /// [`Decode::LEAVES_ERROR`]). The object it read was one level in.
    #[inline(always)]
    pub(super) fn take_left<T: Decode>(&mut self) -> Result<(), Error> {
        if T::LEAVES_ERROR && matches!(self.left, Some((depth, _)) if depth == self.depth + 1) {
            if let Some((_, e)) = self.left.take() {
                return Err(e);
            }
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    pub(super) fn syntax(&self, msg: &str) -> Error {
        self.error(self.pos, DecodeErrorKind::Syntax { message: msg.to_owned() })
    }

    /// The error for a value of the wrong JSON type where `expected` was
    /// wanted, or a syntax error when there is no value at all.
    #[cold]
    #[inline(never)]
    pub(super) fn wrong_type(&self, expected: Expected) -> Error {
        match self.bytes().get(self.pos) {
            Some(b'"' | b'{' | b'[' | b't' | b'f' | b'n' | b'-' | b'0'..=b'9') => {
                self.error(self.pos, DecodeErrorKind::InvalidType { expected })
            }
            Some(_) => self.syntax("expected value"),
            None => self.syntax("EOF while parsing a value"),
        }
    }

    /// Consumes `lit` (`true`, `false`, `null`) or fails.
    pub(super) fn literal(&mut self, lit: &[u8]) -> Result<(), Error> {
        if self.bytes()[self.pos..].starts_with(lit) {
            self.pos += lit.len();
            Ok(())
        } else {
            Err(self.syntax("expected value"))
        }
    }

    pub(super) fn enter(&mut self) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.syntax("recursion limit exceeded"));
        }
        Ok(())
    }

    /// `true` or `false`.
    pub fn bool(&mut self) -> Result<bool, Error> {
        match self.peek() {
            Some(b't') => self.literal(b"true").map(|()| true),
            Some(b'f') => self.literal(b"false").map(|()| false),
            _ => Err(self.wrong_type(Expected::Boolean)),
        }
    }

    /// `null`.
    pub fn null(&mut self) -> Result<(), Error> {
        match self.peek() {
            Some(b'n') => self.literal(b"null"),
            _ => Err(self.wrong_type(Expected::Null)),
        }
    }

    /// The next value, read by serde_json itself in one pass: `any`
    /// values, skipped members and the serde path of unions and
    /// alternates.
    pub(super) fn serde_value<T: DeserializeOwned>(&mut self) -> Result<T, Error> {
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
                Err(self.error(self.pos + at, DecodeErrorKind::Syntax { message: msg.to_owned() }))
            }
            None => Err(self.syntax("EOF while parsing a value")),
        }
    }
}

/// The byte offset of serde_json's 1-based `line` and `column` in `text`.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum();
    (line_start + column.saturating_sub(1)).min(text.len())
}
