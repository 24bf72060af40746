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
//! - QEMU's limits on nesting depth, on the size of one token, on the
//!   size and the token count of one value ([`Limits`]), with QEMU's
//!   comparisons, and what QEMU does past them: one error, then the reader
//!   starts afresh *at that point*, so the rest of the refused value is
//!   read as new input (each leftover closing bracket is an `expecting
//!   value` error of its own). A token that grows past the size limit is
//!   cut there, as QEMU's lexer cuts it. Nothing over a limit is stored,
//!   so memory stays bounded whatever the input.
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

/// Limits on one JSON value read from a peer, compared as QEMU's
/// `json-streamer` and `json-lexer` compare them. A value over any of them
/// is answered with a `GenericError` and dropped; the stream goes on.
///
/// With QEMU's numbers, a value of 1,024 nested arrays is read and one of
/// 1,025 is refused; one of 2 Mi tokens is read and one of 2 Mi + 1
/// refused; a string of 64 Mi - 1 bytes (quotes included) alone is read
/// and one of 64 Mi bytes refused.
///
/// ```
/// let l = qapi_runtime::stream::Limits::default();
/// assert_eq!(l.max_depth, 1024);
/// assert_eq!(l, qapi_runtime::stream::Limits::QEMU);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How deeply objects and arrays may nest: a bracket that opens one
    /// level more is refused (QEMU: 1024).
    pub max_depth: usize,
    /// How long one token (a string with its quotes, a number, a keyword)
    /// may grow: at one byte more it is cut and refused (QEMU: 64 MiB).
    pub max_token_size: usize,
    /// The tokens of one value, whitespace not counted, must total less
    /// than this: a token that brings the total to it is refused (QEMU:
    /// 64 MiB).
    pub max_message_size: usize,
    /// How many tokens one value may have: one more is refused (QEMU:
    /// 2 Mi).
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

/// The token buffer grows by at most this much at a time (doubling up to
/// it), so that its capacity stays close to what it holds.
const TOK_STEP: usize = 1 << 20;

/// A token buffer with more capacity than this is freed once its token
/// is done, rather than kept for the next one.
const TOK_KEEP: usize = 16 << 10;

/// A string token up to this long is decoded into a copy (its buffer is
/// kept for the next token); a longer one becomes the string.
const SHORT_STRING: usize = 256;

/// What [`JsonStream::memory`] counts for each token stored in a value
/// being built, beyond the token's own text (a `Value`, a map or list
/// slot).
pub(crate) const STORED_TOKEN_COST: usize = 48;

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
/// // As in QEMU, what follows the bracket over the limit is new input.
/// assert_eq!(out[1].as_ref().unwrap(), &serde_json::json!(1));
/// assert_eq!(out[2].as_ref().unwrap_err().desc, "JSON parse error, expecting value");
/// assert_eq!(out[5].as_ref().unwrap(), &serde_json::json!([[2]]));
/// ```
#[derive(Debug)]
pub struct JsonStream {
    limits: Limits,
    lex: Lex,
    /// The text of the token being lexed.
    tok: Vec<u8>,
    /// The length of the token being lexed (`tok` may hold less).
    tok_len: usize,
    /// The token being lexed cannot end up in a value: `tok` keeps only a
    /// prefix.
    tok_dropped: bool,
    mode: Mode,
    stack: Vec<Frame>,
    braces: i64,
    brackets: i64,
    /// Tokens of the value being read, and their total length.
    tokens: usize,
    size: usize,
    /// What the values stored in `stack` hold, roughly (for [`memory`](Self::memory)).
    held: usize,
}

impl JsonStream {
    /// A reader with these limits.
    pub fn new(limits: Limits) -> Self {
        JsonStream {
            limits,
            lex: Lex::Start,
            tok: Vec::new(),
            tok_len: 0,
            tok_dropped: false,
            mode: Mode::Parsing,
            stack: Vec::new(),
            braces: 0,
            brackets: 0,
            tokens: 0,
            size: 0,
            held: 0,
        }
    }

    /// The limits this reader applies.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Roughly how many bytes of memory the reader holds for the value it
    /// is reading (its token buffer and what it has stored of the value),
    /// for a server that budgets memory across connections. It never
    /// grows by more than about 50 times the bytes fed since it was last
    /// asked (many one-byte tokens), plus 1 MiB.
    ///
    /// ```
    /// let mut r = qapi_runtime::stream::JsonStream::new(Default::default());
    /// let mut out = Vec::new();
    /// r.feed(&[b'"'; 1], &mut out);
    /// r.feed(&[b'x'; 100_000], &mut out);
    /// assert!((100_000..200_000).contains(&r.memory()));
    /// r.feed(b"\"", &mut out);
    /// assert_eq!(out.len(), 1);
    /// assert!(r.memory() < 1024);
    /// ```
    pub fn memory(&self) -> usize {
        self.tok.capacity() + self.held
    }

    /// An upper bound of [`memory`](Self::memory) once `n` more bytes are
    /// fed: what a budget must allow before feeding them.
    ///
    /// ```
    /// let mut r = qapi_runtime::stream::JsonStream::new(Default::default());
    /// let mut out = Vec::new();
    /// let input = b"[1,2,3,4,5,6,7,8,9,10,11,\"twelve\",{\"thirteen\": 13}";
    /// let bound = r.memory_bound(input.len());
    /// r.feed(input, &mut out);
    /// assert!(r.memory() <= bound);
    /// ```
    pub fn memory_bound(&self, n: usize) -> usize {
        // Each byte may end a stored token, whose text moves from the token
        // buffer into the value (a short one is copied); the buffer may grow
        // past what it must hold by one step.
        let cap = self.tok.capacity();
        let need = self.tok.len() + n;
        let growth = if need <= cap { 0 } else { need - cap + need.clamp(64, TOK_STEP) };
        self.memory() + n + SHORT_STRING + (n + 1).saturating_mul(STORED_TOKEN_COST) + growth
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
                        self.structural(input[i], out);
                        i += 1;
                        continue;
                    }
                    _ => {}
                }
            }
            if let Lex::Str { quote, escape: false } = self.lex {
                let n = self.string_run(quote, &input[i..], out);
                if n > 0 {
                    i += n;
                    continue;
                }
            }
            if self.byte(input[i], out) {
                i += 1;
            }
        }
    }

    /// Fast path: takes the plain run of a string at the start of `rest`
    /// whole (up to its quote, a backslash or a byte a string may not
    /// hold) and returns how many bytes it took.
    fn string_run(&mut self, quote: u8, rest: &[u8], out: &mut Vec<Result<Value, Error>>) -> usize {
        let n = rest.iter().position(|&b| b == quote || b == b'\\' || !(0x20..=0xFD).contains(&b));
        let n = n.unwrap_or(rest.len());
        let room = self.limits.max_token_size.saturating_sub(self.tok_len);
        if n > room {
            // The token grows past the limit inside this run: cut it at
            // that byte, as byte by byte would.
            self.push_bytes(&rest[..room + 1]);
            self.limit_error(TOKEN_SIZE_EXCEEDED, out);
            return room + 1;
        }
        self.push_bytes(&rest[..n]);
        n
    }

    /// A lexical error: report the stray text and reset everything, as
    /// QEMU does; the lexer then skips to a resynchronization point.
    fn lexical_error(&mut self, out: &mut Vec<Result<Value, Error>>) {
        let text = String::from_utf8_lossy(&self.tok).into_owned();
        out.push(Err(Error::generic(format!("JSON parse error, stray '{text}'"))));
        self.reset();
        self.lex = Lex::Recovery;
    }

    /// Reports a limit error and forgets the value, as QEMU does: what
    /// follows is read as new input, from the start state.
    fn limit_error(&mut self, desc: &str, out: &mut Vec<Result<Value, Error>>) {
        out.push(Err(Error::generic(desc)));
        self.reset();
        self.lex = Lex::Start;
    }

    /// Forgets the value being read.
    fn reset(&mut self) {
        self.end_token();
        self.mode = Mode::Parsing;
        self.stack = Vec::new();
        self.braces = 0;
        self.brackets = 0;
        self.tokens = 0;
        self.size = 0;
        self.held = 0;
    }

    /// Forgets the token just lexed, freeing a large buffer.
    fn end_token(&mut self) {
        if self.tok.capacity() > TOK_KEEP {
            self.tok = Vec::new();
        } else {
            self.tok.clear();
        }
        self.tok_len = 0;
        self.tok_dropped = false;
    }

    /// The limit a token would take the value over, as QEMU's streamer
    /// checks them (after counting the token's bracket).
    fn over_limit(&self) -> Option<&'static str> {
        let l = &self.limits;
        if self.tok_len > l.max_token_size || self.size.saturating_add(self.tok_len) >= l.max_message_size {
            Some(TOKEN_SIZE_EXCEEDED)
        } else if self.tokens >= l.max_tokens {
            Some(TOKEN_COUNT_EXCEEDED)
        } else if self.braces + self.brackets > i64::try_from(l.max_depth).unwrap_or(i64::MAX) {
            Some(NESTING_EXCEEDED)
        } else {
            None
        }
    }

    /// One complete token (its text in `self.tok`). QEMU's streamer
    /// checks the limits on every token and parses a value only once it is
    /// complete, so a limit error wins over a syntax error earlier in the
    /// same value.
    fn token(&mut self, kind: Kind, out: &mut Vec<Result<Value, Error>>) {
        match kind {
            Kind::LCurly => self.braces += 1,
            Kind::RCurly => self.braces -= 1,
            Kind::LSquare => self.brackets += 1,
            Kind::RSquare => self.brackets -= 1,
            _ => {}
        }
        if let Some(desc) = self.over_limit() {
            return self.limit_error(desc, out);
        }
        self.tokens += 1;
        self.size += self.tok_len;
        if self.mode == Mode::Parsing {
            match self.parse(kind) {
                Ok(Some(v)) => {
                    out.push(Ok(v));
                    return self.reset();
                }
                Ok(None) => self.held += self.tok_len + STORED_TOKEN_COST,
                Err(e) => {
                    self.mode = Mode::Skipping(e);
                    self.stack = Vec::new();
                    self.held = 0;
                }
            }
        }
        self.end_token();
        // The value ends when its brackets balance (or a closing one has
        // no opening one), as in QEMU's streamer.
        if (self.braces <= 0 && self.brackets <= 0) || self.braces < 0 || self.brackets < 0 {
            if let Mode::Skipping(desc) = std::mem::replace(&mut self.mode, Mode::Parsing) {
                out.push(Err(Error::generic(format!("JSON parse error, {desc}"))));
            }
            self.reset();
        }
    }
}

#[cfg(test)]
mod tests;
