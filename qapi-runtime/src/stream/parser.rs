//! The parser: tokens into values, with QEMU's syntax errors.

use serde_json::{Map, Number, Value};

use super::lexer::Kind;
use super::text::decode_string;
use super::JsonStream;

/// How far into an object the parser is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ObjAt {
    KeyOrEnd,
    Key,
    Colon,
    Value,
    CommaOrEnd,
}

/// How far into an array the parser is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ArrAt {
    ValueOrEnd,
    Value,
    CommaOrEnd,
}

#[derive(Debug)]
pub(super) enum Frame {
    Obj { map: Map<String, Value>, key: String, at: ObjAt },
    Arr { items: Vec<Value>, at: ArrAt },
}

/// What the parser makes of one message so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Mode {
    /// Building the value.
    Parsing,
    /// The value is bad: skipping to its end, then reporting this error.
    Skipping(String),
}

impl JsonStream {
    /// Feeds one token to the parser: a complete value, more to come, or
    /// a syntax error (QEMU's wording, without the prefix).
    pub(super) fn parse(&mut self, kind: Kind) -> Result<Option<Value>, String> {
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
                if matches!(self.stack.last(), Some(Frame::Obj { at: ObjAt::KeyOrEnd | ObjAt::Key, .. })) {
                    let name = self.take_string()?;
                    if let Some(Frame::Obj { key, at, .. }) = self.stack.last_mut() {
                        (*key, *at) = (name, ObjAt::Colon);
                    }
                    return Ok(None);
                }
                self.expect_value_here()?;
                let s = self.take_string()?;
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

    /// The string token just lexed, decoded. A long one is decoded in its
    /// own buffer, which becomes the string: never two copies of a large
    /// string at once.
    fn take_string(&mut self) -> Result<String, String> {
        if self.tok.len() > super::SHORT_STRING {
            decode_string(std::mem::take(&mut self.tok))
        } else {
            decode_string(self.tok.clone())
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
