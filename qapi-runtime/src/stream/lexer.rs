//! The lexer: bytes into tokens, as QEMU's `json-lexer` cuts them.

use serde_json::Value;

use super::parser::Mode;
use super::{JsonStream, SKIP_KEEP};
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
            self.limit_error(super::TOKEN_SIZE_EXCEEDED, out);
            self.tok.truncate(SKIP_KEEP);
            return;
        }
        self.tok.push(b);
    }
}
