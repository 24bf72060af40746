//! Strings: the word-at-a-time scan for the closing quote, escapes, and
//! member names compared where they sit.

use std::borrow::Cow;

use super::bytes::{same, splat, word};
use super::reader::Reader;
use super::Error;
use crate::decode::Expected;

impl<'a> Reader<'a> {
    /// Whether the text at the current position, an opening quote, is
    /// the string `name` (a QAPI name: no quote or backslash in it) and
    /// a `:` right after it, as QEMU writes members; if so both are
    /// consumed.
    #[inline(always)]
    pub(super) fn at_key_colon(&mut self, name: &str) -> bool {
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
    pub(super) fn string_at_quote(&mut self) -> Result<Cow<'a, str>, Error> {
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
            _ => Err(self.wrong_type(Expected::String)),
        }
    }
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
