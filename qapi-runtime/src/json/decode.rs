//! The [`Decode`] impls of the builtin types.

use std::borrow::Cow;

use serde_json::Value;

use super::error::{Error, Seg};
use super::reader::Reader;
use super::Decode;

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
