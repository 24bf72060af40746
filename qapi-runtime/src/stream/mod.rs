//! QMP's JSON on the wire: a streaming reader for QEMU's JSON dialect and
//! a writer that formats values the way QEMU's monitor does.
//!
//! QMP input is not line-delimited. The reader takes bytes in chunks of
//! any size and yields one result per top-level JSON value, exactly as
//! QEMU's `json-lexer`/`json-streamer`/`json-parser` trio does:
//!
//! - several values on one line, one value across many lines or chunks;
//! - QEMU's extensions: `'single-quoted'` strings and the `\'` escape;
//! - QEMU's error descriptions (`JSON parse error, expecting value`,
//!   `JSON parse error, stray '@'`, `JSON parse error, duplicate key`, …),
//!   each a [`GenericError`](crate::ErrorClass::GenericError);
//! - QEMU's recovery: after a *syntax* error the rest of the value is
//!   skipped up to its closing bracket and one error is reported; a
//!   *lexical* error (a stray byte, a control character, `0xFF`) resets the
//!   reader at once, skipping input up to the next bracket or control
//!   character, so a client can always get back to a known-good state;
//! - limits on nesting depth, on the size of one token, on the size and
//!   the token count of one value ([`Limits`], QEMU's numbers by default).
//!   A value over a limit is answered with one error and skipped without
//!   being stored, so memory stays bounded whatever the input.
//!
//! One deliberate difference from QEMU 10.0: after a limit error QEMU
//! resets and then reports every leftover closing bracket as a separate
//! `expecting value` error; this reader skips to the end of the oversized
//! value and reports it once, as QEMU's newer streamer does.
//!
//! ```
//! use qapi_runtime::stream::{JsonStream, Limits};
//! use serde_json::json;
//!
//! let mut reader = JsonStream::new(Limits::default());
//! let mut out = Vec::new();
//! reader.feed(b"{'execute': 'stop'} {\"execute\":", &mut out);
//! reader.feed(b" \"cont\", \"id\": 1}\n{\"execute\": @}", &mut out);
//! assert_eq!(out[0].as_ref().unwrap(), &json!({"execute": "stop"}));
//! assert_eq!(out[1].as_ref().unwrap(), &json!({"execute": "cont", "id": 1}));
//! assert_eq!(out[2].as_ref().unwrap_err().desc, "JSON parse error, stray '@'");
//! ```

mod lexer;
mod parser;
mod text;
mod write;

use serde_json::Value;

use crate::Error;
use lexer::{Kind, Lex};
use parser::{Frame, Mode};

pub use write::{write_json, write_str};

/// QEMU's words for a value over [`Limits`].
const TOKEN_SIZE_EXCEEDED: &str = "JSON token size limit exceeded";
const TOKEN_COUNT_EXCEEDED: &str = "JSON token count limit exceeded";
const NESTING_EXCEEDED: &str = "JSON nesting depth limit exceeded";

/// Whether `e` is the error for a value over the [`Limits`] (rather than
/// a mistake in its JSON).
#[cfg(feature = "server")]
pub(crate) fn is_limit_error(e: &Error) -> bool {
    [TOKEN_SIZE_EXCEEDED, TOKEN_COUNT_EXCEEDED, NESTING_EXCEEDED].contains(&e.desc.as_str())
}

/// Limits on one JSON value read from a peer. A value over any of them is
/// answered with a `GenericError` and skipped; the stream goes on.
///
/// ```
/// let l = qapi_runtime::stream::Limits::default();
/// assert_eq!(l.max_depth, 1024);
/// assert_eq!(l, qapi_runtime::stream::Limits::QEMU);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How deeply objects and arrays may nest (QEMU: 1024).
    pub max_depth: usize,
    /// How many bytes one token (a string, a number, a keyword) may take
    /// (QEMU: 64 MiB).
    pub max_token_size: usize,
    /// How many bytes the tokens of one value may take together,
    /// whitespace not counted (QEMU: 64 MiB).
    pub max_message_size: usize,
    /// How many tokens one value may have (QEMU: 2 Mi).
    pub max_tokens: usize,
}

impl Limits {
    /// QEMU's own limits.
    pub const QEMU: Limits =
        Limits { max_depth: 1024, max_token_size: 64 << 20, max_message_size: 64 << 20, max_tokens: 2 << 20 };
}

impl Default for Limits {
    fn default() -> Self {
        Self::QEMU
    }
}

/// How many bytes of a token are kept while skipping (enough to quote a
/// stray token in an error).
const SKIP_KEEP: usize = 64;

/// A streaming reader of QMP's JSON: feed it bytes, get back one result
/// per top-level value. See the [module documentation](self).
///
/// ```
/// use qapi_runtime::stream::{JsonStream, Limits};
///
/// let mut reader = JsonStream::new(Limits { max_depth: 2, ..Limits::default() });
/// let mut out = Vec::new();
/// reader.feed(b"[[[1]]] [[2]]", &mut out);
/// assert_eq!(out[0].as_ref().unwrap_err().desc, "JSON nesting depth limit exceeded");
/// assert_eq!(out[1].as_ref().unwrap(), &serde_json::json!([[2]]));
/// ```
#[derive(Debug)]
pub struct JsonStream {
    limits: Limits,
    lex: Lex,
    /// The text of the token being lexed.
    tok: Vec<u8>,
    /// The token being lexed went over a limit: keep lexing, store nothing.
    tok_dropped: bool,
    mode: Mode,
    stack: Vec<Frame>,
    braces: i64,
    brackets: i64,
    tokens: usize,
    size: usize,
}

impl JsonStream {
    /// A reader with these limits.
    pub fn new(limits: Limits) -> Self {
        JsonStream {
            limits,
            lex: Lex::Start,
            tok: Vec::new(),
            tok_dropped: false,
            mode: Mode::Parsing,
            stack: Vec::new(),
            braces: 0,
            brackets: 0,
            tokens: 0,
            size: 0,
        }
    }

    /// The limits this reader applies.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// True when no value is partly read: every byte fed so far belongs to
    /// a value already returned (or to whitespace).
    ///
    /// ```
    /// let mut r = qapi_runtime::stream::JsonStream::new(Default::default());
    /// let mut out = Vec::new();
    /// r.feed(b"{\"a\":", &mut out);
    /// assert!(!r.is_idle());
    /// r.feed(b" 1}", &mut out);
    /// assert!(r.is_idle());
    /// ```
    pub fn is_idle(&self) -> bool {
        matches!(self.lex, Lex::Start | Lex::Recovery)
            && self.stack.is_empty()
            && self.mode == Mode::Parsing
            && self.braces == 0
            && self.brackets == 0
    }

    /// Reads `input` and appends one result per value it completes to
    /// `out`: the value, or the error QEMU would report for it.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<Result<Value, Error>>) {
        let mut i = 0;
        while i < input.len() {
            if self.lex == Lex::Start {
                // Fast path: whitespace and structural characters.
                match input[i] {
                    b' ' | b'\t' | b'\r' | b'\n' => {
                        i += 1;
                        continue;
                    }
                    b'{' | b'}' | b'[' | b']' | b',' | b':' => {
                        let kind = match input[i] {
                            b'{' => Kind::LCurly,
                            b'}' => Kind::RCurly,
                            b'[' => Kind::LSquare,
                            b']' => Kind::RSquare,
                            b',' => Kind::Comma,
                            _ => Kind::Colon,
                        };
                        self.tok.clear();
                        self.tok.push(input[i]);
                        self.token(kind, out);
                        i += 1;
                        continue;
                    }
                    b'"' | b'\'' => {
                        // Fast path: a whole string in this chunk.
                        let quote = input[i];
                        let rest = &input[i + 1..];
                        let end = rest.iter().position(|&b| b == quote || b == b'\\' || !(0x20..=0xFD).contains(&b));
                        if let Some(n) = end {
                            if rest[n] == quote && self.fits(n + 2) {
                                self.tok.clear();
                                self.tok.extend_from_slice(&input[i..i + n + 2]);
                                self.token(Kind::Str, out);
                                i += n + 2;
                                continue;
                            }
                        }
                    }
                    _ => {}
                }
            }
            if self.byte(input[i], out) {
                i += 1;
            }
        }
    }

    /// Whether a token of `len` bytes fits the limits of the value being
    /// read.
    fn fits(&self, len: usize) -> bool {
        len <= self.limits.max_token_size && self.size.saturating_add(len) <= self.limits.max_message_size
    }

    /// A lexical error: report the stray text and reset everything, as
    /// QEMU does; the lexer then skips to a resynchronization point.
    fn lexical_error(&mut self, out: &mut Vec<Result<Value, Error>>) {
        let text = String::from_utf8_lossy(&self.tok).into_owned();
        out.push(Err(Error::generic(format!("JSON parse error, stray '{text}'"))));
        self.reset();
        self.lex = Lex::Recovery;
    }

    /// Reports a limit error at once and skips the rest of the value.
    fn limit_error(&mut self, desc: &str, out: &mut Vec<Result<Value, Error>>) {
        out.push(Err(Error::generic(desc)));
        self.mode = Mode::Skipping(None);
        self.stack.clear();
    }

    /// Forgets the value being read.
    fn reset(&mut self) {
        self.tok.clear();
        self.tok_dropped = false;
        self.mode = Mode::Parsing;
        self.stack.clear();
        self.braces = 0;
        self.brackets = 0;
        self.tokens = 0;
        self.size = 0;
    }

    /// One complete token (its text in `self.tok`).
    fn token(&mut self, kind: Kind, out: &mut Vec<Result<Value, Error>>) {
        match kind {
            Kind::LCurly => self.braces += 1,
            Kind::RCurly => self.braces -= 1,
            Kind::LSquare => self.brackets += 1,
            Kind::RSquare => self.brackets -= 1,
            _ => {}
        }
        if self.mode == Mode::Parsing {
            self.tokens += 1;
            self.size = self.size.saturating_add(self.tok.len());
            if self.tok_dropped {
                // Reported when the token went over the limit.
            } else if self.size > self.limits.max_message_size {
                self.limit_error(TOKEN_SIZE_EXCEEDED, out);
            } else if self.tokens > self.limits.max_tokens {
                self.limit_error(TOKEN_COUNT_EXCEEDED, out);
            } else if (self.braces + self.brackets).max(0) as u64 > self.limits.max_depth as u64 {
                self.limit_error(NESTING_EXCEEDED, out);
            } else {
                match self.parse(kind) {
                    Ok(Some(v)) => {
                        out.push(Ok(v));
                        self.reset();
                        return;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        self.mode = Mode::Skipping(Some(e));
                        self.stack.clear();
                    }
                }
            }
        }
        self.tok.clear();
        self.tok_dropped = false;
        // The value ends when its brackets balance (or a closing one has
        // no opening one), as in QEMU's streamer.
        if (self.braces <= 0 && self.brackets <= 0) || self.braces < 0 || self.brackets < 0 {
            if let Mode::Skipping(Some(desc)) = std::mem::replace(&mut self.mode, Mode::Parsing) {
                out.push(Err(Error::generic(format!("JSON parse error, {desc}"))));
            }
            self.reset();
        }
    }
}

#[cfg(test)]
mod tests;
