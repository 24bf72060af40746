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

use serde_json::{Map, Number, Value};

use crate::Error;

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

/// Where the lexer is inside a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lex {
    Start,
    /// After a lexical error: skip to a bracket or a control character.
    Recovery,
    Str {
        quote: u8,
        escape: bool,
    },
    Zero,
    Minus,
    Int,
    /// After the decimal point, before any digit.
    Point,
    Frac,
    /// After `e`/`E`.
    Exp,
    /// After the exponent's sign.
    ExpSign,
    ExpDigits,
    Keyword,
}

/// What kind of token the lexer finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    LCurly,
    RCurly,
    LSquare,
    RSquare,
    Comma,
    Colon,
    Str,
    Int,
    Float,
    Keyword,
}

/// How far into an object the parser is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ObjAt {
    KeyOrEnd,
    Key,
    Colon,
    Value,
    CommaOrEnd,
}

/// How far into an array the parser is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArrAt {
    ValueOrEnd,
    Value,
    CommaOrEnd,
}

#[derive(Debug)]
enum Frame {
    Obj { map: Map<String, Value>, key: String, at: ObjAt },
    Arr { items: Vec<Value>, at: ArrAt },
}

/// What the parser makes of one message so far.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    /// Building the value.
    Parsing,
    /// The value is bad: skipping to its end, then reporting this error
    /// (`None` when it was reported already).
    Skipping(Option<String>),
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

    /// Lexes one byte; returns whether it was consumed (false when it ended
    /// the token before it and must be looked at again).
    fn byte(&mut self, b: u8, out: &mut Vec<Result<Value, Error>>) -> bool {
        let lookahead_end = |s: &mut Self, kind: Kind, out: &mut Vec<Result<Value, Error>>| {
            s.token(kind, out);
            s.lex = Lex::Start;
            false
        };
        match self.lex {
            Lex::Start => {
                self.tok.clear();
                self.tok_dropped = false;
                let next = match b {
                    b' ' | b'\t' | b'\r' | b'\n' => return true,
                    b'"' | b'\'' => Lex::Str { quote: b, escape: false },
                    b'0' => Lex::Zero,
                    b'1'..=b'9' => Lex::Int,
                    b'-' => Lex::Minus,
                    b'a'..=b'z' => Lex::Keyword,
                    b'{' | b'}' | b'[' | b']' | b',' | b':' => {
                        self.tok.push(b);
                        let kind = match b {
                            b'{' => Kind::LCurly,
                            b'}' => Kind::RCurly,
                            b'[' => Kind::LSquare,
                            b']' => Kind::RSquare,
                            b',' => Kind::Comma,
                            _ => Kind::Colon,
                        };
                        self.token(kind, out);
                        return true;
                    }
                    _ => {
                        self.tok.push(b);
                        self.lexical_error(out);
                        return true;
                    }
                };
                self.keep(b, out);
                self.lex = next;
                true
            }
            Lex::Recovery => {
                if matches!(b, b'[' | b']' | b'{' | b'}' | 0xFE | 0xFF) || (b < 0x20 && b != b'\t') {
                    self.lex = Lex::Start;
                    false
                } else {
                    true
                }
            }
            Lex::Str { quote, escape } => {
                if !(0x20..=0xFD).contains(&b) {
                    self.keep(b, out);
                    self.lexical_error(out);
                    return true;
                }
                self.keep(b, out);
                if escape {
                    self.lex = Lex::Str { quote, escape: false };
                } else if b == b'\\' {
                    self.lex = Lex::Str { quote, escape: true };
                } else if b == quote {
                    self.lex = Lex::Start;
                    self.token(Kind::Str, out);
                }
                true
            }
            Lex::Zero => match b {
                b'0'..=b'9' => self.bad(b, out),
                b'.' => self.advance(b, Lex::Point, out),
                _ => lookahead_end(self, Kind::Int, out),
            },
            Lex::Minus => match b {
                b'0' => self.advance(b, Lex::Zero, out),
                b'1'..=b'9' => self.advance(b, Lex::Int, out),
                _ => self.bad(b, out),
            },
            Lex::Int => match b {
                b'0'..=b'9' => self.advance(b, Lex::Int, out),
                b'e' | b'E' => self.advance(b, Lex::Exp, out),
                b'.' => self.advance(b, Lex::Point, out),
                _ => lookahead_end(self, Kind::Int, out),
            },
            Lex::Point => match b {
                b'0'..=b'9' => self.advance(b, Lex::Frac, out),
                _ => self.bad(b, out),
            },
            Lex::Frac => match b {
                b'0'..=b'9' => self.advance(b, Lex::Frac, out),
                b'e' | b'E' => self.advance(b, Lex::Exp, out),
                _ => lookahead_end(self, Kind::Float, out),
            },
            Lex::Exp => match b {
                b'+' | b'-' => self.advance(b, Lex::ExpSign, out),
                b'0'..=b'9' => self.advance(b, Lex::ExpDigits, out),
                _ => self.bad(b, out),
            },
            Lex::ExpSign => match b {
                b'0'..=b'9' => self.advance(b, Lex::ExpDigits, out),
                _ => self.bad(b, out),
            },
            Lex::ExpDigits => match b {
                b'0'..=b'9' => self.advance(b, Lex::ExpDigits, out),
                _ => lookahead_end(self, Kind::Float, out),
            },
            Lex::Keyword => match b {
                b'a'..=b'z' => self.advance(b, Lex::Keyword, out),
                _ => lookahead_end(self, Kind::Keyword, out),
            },
        }
    }

    fn advance(&mut self, b: u8, next: Lex, out: &mut Vec<Result<Value, Error>>) -> bool {
        self.keep(b, out);
        self.lex = next;
        true
    }

    /// A byte that cannot continue the token: a lexical error that
    /// consumes it.
    fn bad(&mut self, b: u8, out: &mut Vec<Result<Value, Error>>) -> bool {
        self.keep(b, out);
        self.lexical_error(out);
        true
    }

    /// Appends a byte to the token being lexed, unless the token went over
    /// a limit or the value is being skipped (then only a prefix is kept,
    /// to quote in an error).
    fn keep(&mut self, b: u8, out: &mut Vec<Result<Value, Error>>) {
        if self.tok_dropped {
            if self.tok.len() < SKIP_KEEP {
                self.tok.push(b);
            }
            return;
        }
        if matches!(self.mode, Mode::Skipping(_)) {
            self.tok_dropped = true;
            if self.tok.len() < SKIP_KEEP {
                self.tok.push(b);
            }
            return;
        }
        if !self.fits(self.tok.len() + 1) {
            self.tok_dropped = true;
            self.limit_error("JSON token size limit exceeded", out);
            self.tok.truncate(SKIP_KEEP);
            return;
        }
        self.tok.push(b);
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
                self.limit_error("JSON token size limit exceeded", out);
            } else if self.tokens > self.limits.max_tokens {
                self.limit_error("JSON token count limit exceeded", out);
            } else if (self.braces + self.brackets).max(0) as u64 > self.limits.max_depth as u64 {
                self.limit_error("JSON nesting depth limit exceeded", out);
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

    /// Feeds one token to the parser: a complete value, more to come, or
    /// a syntax error (QEMU's wording, without the prefix).
    fn parse(&mut self, kind: Kind) -> Result<Option<Value>, String> {
        match kind {
            Kind::LCurly | Kind::LSquare => {
                self.expect_value_here()?;
                self.stack.push(if kind == Kind::LCurly {
                    Frame::Obj { map: Map::new(), key: String::new(), at: ObjAt::KeyOrEnd }
                } else {
                    Frame::Arr { items: Vec::new(), at: ArrAt::ValueOrEnd }
                });
                Ok(None)
            }
            Kind::RCurly => match self.stack.last_mut() {
                Some(Frame::Obj { at: ObjAt::KeyOrEnd | ObjAt::CommaOrEnd, .. }) => match self.stack.pop() {
                    Some(Frame::Obj { map, .. }) => self.value(Value::Object(map)),
                    _ => Err("expecting value".into()),
                },
                Some(Frame::Obj { at: ObjAt::Colon, .. }) => Err("missing : in object pair".into()),
                Some(Frame::Arr { at: ArrAt::CommaOrEnd, .. }) => Err("expected separator in list".into()),
                _ => Err("expecting value".into()),
            },
            Kind::RSquare => match self.stack.last_mut() {
                Some(Frame::Arr { at: ArrAt::ValueOrEnd | ArrAt::CommaOrEnd, .. }) => match self.stack.pop() {
                    Some(Frame::Arr { items, .. }) => self.value(Value::Array(items)),
                    _ => Err("expecting value".into()),
                },
                Some(Frame::Obj { at: ObjAt::Colon, .. }) => Err("missing : in object pair".into()),
                Some(Frame::Obj { at: ObjAt::CommaOrEnd, .. }) => Err("expected separator in dict".into()),
                _ => Err("expecting value".into()),
            },
            Kind::Comma => match self.stack.last_mut() {
                Some(Frame::Obj { at: at @ ObjAt::CommaOrEnd, .. }) => {
                    *at = ObjAt::Key;
                    Ok(None)
                }
                Some(Frame::Arr { at: at @ ArrAt::CommaOrEnd, .. }) => {
                    *at = ArrAt::Value;
                    Ok(None)
                }
                Some(Frame::Obj { at: ObjAt::Colon, .. }) => Err("missing : in object pair".into()),
                _ => Err("expecting value".into()),
            },
            Kind::Colon => match self.stack.last_mut() {
                Some(Frame::Obj { at: at @ ObjAt::Colon, .. }) => {
                    *at = ObjAt::Value;
                    Ok(None)
                }
                Some(Frame::Obj { at: ObjAt::CommaOrEnd, .. }) => Err("expected separator in dict".into()),
                Some(Frame::Arr { at: ArrAt::CommaOrEnd, .. }) => Err("expected separator in list".into()),
                _ => Err("expecting value".into()),
            },
            // QEMU reads a token's content only where a value (or a key)
            // may stand: elsewhere the misplacement is the error.
            Kind::Str => {
                if let Some(Frame::Obj { key, at: at @ (ObjAt::KeyOrEnd | ObjAt::Key), .. }) = self.stack.last_mut() {
                    *key = decode_string(&self.tok)?;
                    *at = ObjAt::Colon;
                    return Ok(None);
                }
                self.expect_value_here()?;
                let s = decode_string(&self.tok)?;
                self.value(Value::String(s))
            }
            Kind::Int | Kind::Float => {
                self.expect_value_here()?;
                let v = number(&self.tok, kind == Kind::Int)?;
                self.value(v)
            }
            Kind::Keyword => {
                if !matches!(self.stack.last(), Some(Frame::Obj { at: ObjAt::KeyOrEnd | ObjAt::Key, .. })) {
                    self.expect_value_here()?;
                }
                let v = match self.tok.as_slice() {
                    b"true" => Value::Bool(true),
                    b"false" => Value::Bool(false),
                    b"null" => Value::Null,
                    other => return Err(format!("invalid keyword '{}'", String::from_utf8_lossy(other))),
                };
                self.value(v)
            }
        }
    }

    /// Checks that a value may start here.
    fn expect_value_here(&self) -> Result<(), String> {
        match self.stack.last() {
            None
            | Some(Frame::Obj { at: ObjAt::Value, .. })
            | Some(Frame::Arr { at: ArrAt::ValueOrEnd | ArrAt::Value, .. }) => Ok(()),
            Some(Frame::Obj { at: ObjAt::KeyOrEnd | ObjAt::Key, .. }) => Err("key is not a string in object".into()),
            Some(Frame::Obj { at: ObjAt::Colon, .. }) => Err("missing : in object pair".into()),
            Some(Frame::Obj { at: ObjAt::CommaOrEnd, .. }) => Err("expected separator in dict".into()),
            Some(Frame::Arr { at: ArrAt::CommaOrEnd, .. }) => Err("expected separator in list".into()),
        }
    }

    /// A complete value: stored in its container, or returned when it is
    /// the top-level one.
    fn value(&mut self, v: Value) -> Result<Option<Value>, String> {
        self.expect_value_here()?;
        match self.stack.last_mut() {
            None => Ok(Some(v)),
            Some(Frame::Obj { map, key, at }) => {
                let key = std::mem::take(key);
                if map.contains_key(&key) {
                    return Err("duplicate key".into());
                }
                map.insert(key, v);
                *at = ObjAt::CommaOrEnd;
                Ok(None)
            }
            Some(Frame::Arr { items, at }) => {
                items.push(v);
                *at = ArrAt::CommaOrEnd;
                Ok(None)
            }
        }
    }
}

/// A number token as QEMU reads it: a signed 64-bit integer if it fits,
/// else an unsigned one, else a double.
fn number(text: &[u8], integer: bool) -> Result<Value, String> {
    let s = std::str::from_utf8(text).map_err(|_| "expecting value".to_owned())?;
    if integer {
        if let Ok(i) = s.parse::<i64>() {
            return Ok(Value::Number(i.into()));
        }
        if let Ok(u) = s.parse::<u64>() {
            return Ok(Value::Number(u.into()));
        }
    }
    s.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(Value::Number)
        .ok_or_else(|| format!("number {s} is out of range"))
}

/// Whether QEMU accepts code point `cp` in a string.
fn valid_code_point(cp: u32) -> bool {
    !(0xD800..=0xDFFF).contains(&cp) && cp <= 0x10FFFF && !(0xFDD0..=0xFDEF).contains(&cp) && (cp & 0xFFFE) != 0xFFFE
}

/// Four hex digits at `s`, if there are four.
fn hex4(s: &[u8]) -> Option<u32> {
    if s.len() < 4 {
        return None;
    }
    let mut cp = 0;
    for &c in &s[..4] {
        cp = cp << 4 | char::from(c).to_digit(16)?;
    }
    Some(cp)
}

/// Decodes one (modified) UTF-8 sequence at the start of `s`: the code
/// point and its length.
fn utf8_char(s: &[u8]) -> Option<(u32, usize)> {
    let b0 = *s.first()?;
    let (len, min, init) = match b0 {
        0x00..=0x7F => return Some((u32::from(b0), 1)),
        0xC0..=0xDF => (2, 0x80, u32::from(b0 & 0x1F)),
        0xE0..=0xEF => (3, 0x800, u32::from(b0 & 0x0F)),
        0xF0..=0xF7 => (4, 0x10000, u32::from(b0 & 0x07)),
        _ => return None,
    };
    let mut cp = init;
    for i in 1..len {
        let b = *s.get(i)?;
        if b & 0xC0 != 0x80 {
            return None;
        }
        cp = cp << 6 | u32::from(b & 0x3F);
    }
    // Modified UTF-8 spells U+0000 as C0 80; other overlong forms are bad.
    if cp < min && !(len == 2 && cp == 0) {
        return None;
    }
    Some((cp, len))
}

/// Decodes a string token (quotes included) the way QEMU's parser does.
fn decode_string(tok: &[u8]) -> Result<String, String> {
    let inner = match tok {
        [_, inner @ .., _] => inner,
        _ => return Err("expecting value".into()),
    };
    let mut s = String::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        let b = inner[i];
        if b == b'\\' {
            let beg = i;
            let esc = inner.get(i + 1).copied().unwrap_or(0);
            i += 2;
            let c = match esc {
                b'"' => '"',
                b'\'' => '\'',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => {
                    let mut cp = hex4(&inner[i.min(inner.len())..]);
                    i += 4;
                    if let Some(lead @ 0xD800..=0xDBFF) = cp {
                        if inner.get(i) == Some(&b'\\') && inner.get(i + 1) == Some(&b'u') {
                            cp = match hex4(&inner[(i + 2).min(inner.len())..]) {
                                Some(trail @ 0xDC00..=0xDFFF) => {
                                    i += 6;
                                    Some(0x10000 + ((lead & 0x3FF) << 10) + (trail & 0x3FF))
                                }
                                _ => None,
                            };
                        }
                    }
                    match cp.filter(|&cp| valid_code_point(cp)).and_then(char::from_u32) {
                        Some(c) => c,
                        None => {
                            // Quote the escape as written (the closing
                            // quote included when it is cut short).
                            let end = i.min(tok.len() - 1);
                            let text = String::from_utf8_lossy(&tok[1 + beg..1 + end]);
                            return Err(format!("{text} is not a valid Unicode character"));
                        }
                    }
                }
                _ => return Err("invalid escape sequence in string".into()),
            };
            s.push(c);
            continue;
        }
        if b < 0x80 {
            s.push(char::from(b));
            i += 1;
            continue;
        }
        match utf8_char(&inner[i..]) {
            Some((cp, len)) if valid_code_point(cp) || cp == 0 => {
                s.push(char::from_u32(cp).ok_or_else(|| "invalid UTF-8 sequence in string".to_owned())?);
                i += len;
            }
            _ => return Err("invalid UTF-8 sequence in string".into()),
        }
    }
    Ok(s)
}

/// Appends `v` to `out` formatted as QEMU's monitor formats JSON: `": "`
/// and `", "` between members, ASCII only (anything else as `\uXXXX`
/// with upper-case digits, surrogate pairs beyond the BMP).
///
/// ```
/// let mut out = Vec::new();
/// qapi_runtime::stream::write_json(&mut out, &serde_json::json!({"id": "é", "n": [1, 2.5]}));
/// assert_eq!(out, br#"{"id": "\u00E9", "n": [1, 2.5]}"#);
/// ```
pub fn write_json(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                write_json(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            out.push(b'{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                write_str(out, k);
                out.extend_from_slice(b": ");
                write_json(out, item);
            }
            out.push(b'}');
        }
    }
}

fn write_number(out: &mut Vec<u8>, n: &Number) {
    use std::io::Write;
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{n}");
}

/// Appends `s` as a JSON string in QEMU's ASCII-only style.
///
/// ```
/// let mut out = Vec::new();
/// qapi_runtime::stream::write_str(&mut out, "a\"\u{1}\u{7f}😀");
/// assert_eq!(out, br#""a\"\u0001\u007F\uD83D\uDE00""#);
/// ```
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let u4 = |out: &mut Vec<u8>, u: u32| {
        out.extend_from_slice(b"\\u");
        for shift in [12, 8, 4, 0] {
            out.push(HEX[((u >> shift) & 0xF) as usize]);
        }
    };
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut plain = 0;
    for (i, c) in s.char_indices() {
        let simple = matches!(c, ' '..='~') && c != '"' && c != '\\';
        if simple {
            continue;
        }
        out.extend_from_slice(&bytes[plain..i]);
        plain = i + c.len_utf8();
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    u4(out, u32::from(*unit));
                }
            }
        }
    }
    out.extend_from_slice(&bytes[plain..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(chunks: &[&[u8]], limits: Limits) -> Vec<Result<Value, String>> {
        let mut r = JsonStream::new(limits);
        let mut out = Vec::new();
        for c in chunks {
            r.feed(c, &mut out);
        }
        out.into_iter().map(|r| r.map_err(|e| e.desc)).collect()
    }

    fn one(input: &str) -> Vec<Result<Value, String>> {
        read(&[input.as_bytes()], Limits::default())
    }

    fn err(s: &str) -> Result<Value, String> {
        Err(s.to_owned())
    }

    #[test]
    fn values_across_and_within_chunks() {
        let input = br#"{"execute":"a"}{"execute":"b","id":[1,{"x":null}]}  {'execute': 'c', "arguments": {"s": "it\'s \"q\""}}"#;
        let whole = read(&[input], Limits::default());
        let bytewise: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(whole, read(&bytewise, Limits::default()));
        assert_eq!(whole.len(), 3);
        assert_eq!(whole[2], Ok(json!({"execute": "c", "arguments": {"s": "it's \"q\""}})));
    }

    #[test]
    fn syntax_errors_in_qemu_words() {
        let out = one(r#"{"a":1,"a":2}]:,{1:2}{"a" 1}{"a":1 "b":2}[1 2][1,]{"a":1,}{"execute"}{"execute": x}"#);
        let expect = [
            "duplicate key",
            "expecting value",
            "expecting value",
            "expecting value",
            "key is not a string in object",
            "missing : in object pair",
            "expected separator in dict",
            "expected separator in list",
            "expecting value",
            "expecting value",
            "missing : in object pair",
            "invalid keyword 'x'",
        ];
        let got: Vec<_> = out.iter().map(|r| r.clone().unwrap_err()).collect();
        let want: Vec<_> = expect.iter().map(|e| format!("JSON parse error, {e}")).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn lexical_errors_reset_and_recover() {
        assert_eq!(
            one("{\"execute\": @}{\"execute\":\"x\"}"),
            vec![
                err("JSON parse error, stray '@'"),
                err("JSON parse error, expecting value"),
                Ok(json!({"execute": "x"}))
            ]
        );
        // A control character resets a half-read value.
        assert_eq!(
            one("{\"execute\": \"foo\"\n{\"a\":1}\n\u{1}{\"b\":2}"),
            vec![err("JSON parse error, stray '\u{1}'"), Ok(json!({"b": 2}))]
        );
        assert_eq!(
            read(&[b"{\"x\": \xff {\"b\":2}"], Limits::default()),
            vec![err("JSON parse error, stray '\u{fffd}'"), Ok(json!({"b": 2}))]
        );
        assert_eq!(one("0123 [1]"), vec![err("JSON parse error, stray '01'"), Ok(json!([1]))]);
        assert_eq!(one("\"a\tb\" [2]"), vec![err("JSON parse error, stray '\"a\t'"), Ok(json!([2]))]);
    }

    #[test]
    fn strings_and_numbers_as_qemu_reads_them() {
        assert_eq!(
            one(r#"["\u00e9\ud83d\ude00\u0000", "\/"] "\ud800" "\q" "\uFFFF" "\u12""#),
            vec![
                Ok(json!(["é😀\u{0}", "/"])),
                err("JSON parse error, \\ud800 is not a valid Unicode character"),
                err("JSON parse error, invalid escape sequence in string"),
                err("JSON parse error, \\uFFFF is not a valid Unicode character"),
                err("JSON parse error, \\u12\" is not a valid Unicode character"),
            ]
        );
        assert_eq!(read(&[b"\"\xc0\x80\" \"\xed\xa0\x80\""], Limits::default())[0], Ok(json!("\u{0}")));
        assert_eq!(
            read(&[b"\"\xed\xa0\x80\""], Limits::default())[0],
            err("JSON parse error, invalid UTF-8 sequence in string")
        );
        let nums = one("[-0, 0.5, 18446744073709551615, 18446744073709551616, -9223372036854775809, 1E2] ");
        assert_eq!(nums[0], Ok(json!([0, 0.5, u64::MAX, 18446744073709551616.0, -9223372036854775809.0, 100.0])));
    }

    #[test]
    fn misplaced_tokens_before_their_content() {
        // QEMU's lexer ends a number at "0" before an exponent.
        assert_eq!(
            one(r#"{"id":0e1} [0E2] {"a" "\q"} {"a": 1 "\q"} {foo: 1}"#),
            vec![
                err("JSON parse error, expected separator in dict"),
                err("JSON parse error, stray 'E'"),
                err("JSON parse error, expecting value"),
                err("JSON parse error, missing : in object pair"),
                err("JSON parse error, expected separator in dict"),
                err("JSON parse error, invalid keyword 'foo'"),
            ]
        );
    }

    #[test]
    fn limits_report_once_and_skip() {
        let deep = format!("{}{}{{\"ok\":1}}", "[".repeat(1025), "]".repeat(1025));
        assert_eq!(one(&deep), vec![err("JSON nesting depth limit exceeded"), Ok(json!({"ok": 1}))]);
        let fine = format!("{}{}", "[".repeat(1024), "]".repeat(1024));
        assert!(one(&fine)[0].is_ok());
        let small = Limits { max_token_size: 8, max_message_size: 20, max_tokens: 6, max_depth: 4 };
        let big_string = format!("[\"{}\", {{\"x\": 1}}] {{\"ok\":1}}", "y".repeat(100));
        assert_eq!(
            read(&[big_string.as_bytes()], small),
            vec![err("JSON token size limit exceeded"), Ok(json!({"ok": 1}))]
        );
        assert_eq!(read(&[b"[1,2,3,4,5,6] [1]"], small), vec![err("JSON token count limit exceeded"), Ok(json!([1]))]);
        assert_eq!(
            read(&[b"[\"aaaaaa\",\"bbbbbb\",\"cccccc\"] [1]"], small),
            vec![err("JSON token size limit exceeded"), Ok(json!([1]))]
        );
    }

    #[test]
    fn output_is_ascii_in_qemu_style() {
        let mut out = Vec::new();
        write_json(&mut out, &json!({"a": [], "b": {}, "c": "\u{e9}\n", "d": [true, null, -1]}));
        assert_eq!(String::from_utf8(out).unwrap(), r#"{"a": [], "b": {}, "c": "\u00E9\n", "d": [true, null, -1]}"#);
    }
}
