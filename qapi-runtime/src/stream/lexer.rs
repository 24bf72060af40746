//! The lexer: bytes into tokens, as QEMU's `json-lexer` cuts them.

use serde_json::Value;

use super::parser::Mode;
use super::{JsonStream, SKIP_KEEP, TOK_STEP};
use crate::Error;

/// Where the lexer is inside a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lex {
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
pub(super) enum Kind {
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

impl Kind {
    /// The kind of a one-byte structural token (`{}[],:`).
    pub(super) fn structural(b: u8) -> Kind {
        match b {
            b'{' => Kind::LCurly,
            b'}' => Kind::RCurly,
            b'[' => Kind::LSquare,
            b']' => Kind::RSquare,
            b',' => Kind::Comma,
            _ => Kind::Colon,
        }
    }
}

impl JsonStream {
    /// Lexes one byte; returns whether it was consumed (false when it ended
    /// the token before it and must be looked at again).
    pub(super) fn byte(&mut self, b: u8, out: &mut Vec<Result<Value, Error>>) -> bool {
        let lookahead_end = |s: &mut Self, kind: Kind, out: &mut Vec<Result<Value, Error>>| {
            s.token(kind, out);
            s.lex = Lex::Start;
            false
        };
        match self.lex {
            Lex::Start => {
                let next = match b {
                    b' ' | b'\t' | b'\r' | b'\n' => return true,
                    b'"' | b'\'' => Lex::Str { quote: b, escape: false },
                    b'0' => Lex::Zero,
                    b'1'..=b'9' => Lex::Int,
                    b'-' => Lex::Minus,
                    b'a'..=b'z' => Lex::Keyword,
                    b'{' | b'}' | b'[' | b']' | b',' | b':' => {
                        self.structural(b, out);
                        return true;
                    }
                    _ => {
                        self.push(b);
                        self.lexical_error(out);
                        return true;
                    }
                };
                self.advance(b, next, out)
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
                    return self.bad(b, out);
                }
                if b == quote && !escape {
                    self.push(b);
                    self.lex = Lex::Start;
                    self.token(Kind::Str, out);
                    return true;
                }
                self.advance(b, Lex::Str { quote, escape: !escape && b == b'\\' }, out)
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

    /// A byte that continues the token, which then goes on in state
    /// `next`. QEMU's lexer cuts a token that grows past the token size
    /// limit: the value is refused at once and lexing starts afresh with
    /// the next byte.
    fn advance(&mut self, b: u8, next: Lex, out: &mut Vec<Result<Value, Error>>) -> bool {
        self.lex = next;
        self.push(b);
        if self.tok_len > self.limits.max_token_size {
            self.limit_error(super::TOKEN_SIZE_EXCEEDED, out);
        }
        true
    }

    /// A byte that cannot continue the token: a lexical error that
    /// consumes it.
    fn bad(&mut self, b: u8, out: &mut Vec<Result<Value, Error>>) -> bool {
        self.push(b);
        self.lexical_error(out);
        true
    }

    /// A one-byte structural token (`{}[],:`): its text is never looked
    /// at, only its length counts.
    pub(super) fn structural(&mut self, b: u8, out: &mut Vec<Result<Value, Error>>) {
        self.tok_len = 1;
        self.token(Kind::structural(b), out);
    }

    /// Appends one byte to the token being lexed.
    pub(super) fn push(&mut self, b: u8) {
        self.push_bytes(&[b]);
    }

    /// Appends bytes to the token being lexed. Where the token cannot end
    /// up in a value (the value is being skipped after a syntax error, or
    /// the token will not fit its value's size limit when it ends), only
    /// a prefix is kept, to quote in an error: a client cannot make the
    /// reader hold more than the limits allow. The buffer grows by at
    /// most [`TOK_STEP`] at a time, so its capacity stays close to its
    /// length.
    pub(super) fn push_bytes(&mut self, bytes: &[u8]) {
        self.tok_len += bytes.len();
        if !self.tok_dropped
            && (matches!(self.mode, Mode::Skipping(_))
                || self.size.saturating_add(self.tok_len) >= self.limits.max_message_size)
        {
            self.tok_dropped = true;
            self.tok = self.tok.get(..SKIP_KEEP).unwrap_or(&self.tok).to_vec();
        }
        if self.tok_dropped {
            let room = SKIP_KEEP.saturating_sub(self.tok.len());
            self.tok.extend_from_slice(&bytes[..room.min(bytes.len())]);
            return;
        }
        let need = self.tok.len() + bytes.len();
        if need > self.tok.capacity() {
            let cap = self.tok.capacity();
            let target = need.max(cap + cap.clamp(64, TOK_STEP));
            self.tok.reserve_exact(target - self.tok.len());
        }
        self.tok.extend_from_slice(bytes);
    }
}
