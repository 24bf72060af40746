//! The [`Decode`] impls of the builtin types.

use std::borrow::Cow;

use serde_json::Value;

use super::reader::Reader;
use super::{Decode, Error};
use crate::decode::{Expected, IntType, Segment};

macro_rules! decode_ints {
    ($($t:ty: $ty:ident)*) => {$(
        impl Decode for $t {
            const LEAVES_ERROR: bool = false;

            #[inline]
            fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
                r.integer(IntType::$ty)
            }
        }
    )*};
}
decode_ints!(i8: Int8 i16: Int16 i32: Int32 i64: Int64 u8: Uint8 u16: Uint16 u32: Uint32 u64: Uint64);

impl Decode for f64 {
    const LEAVES_ERROR: bool = false;

    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        r.f64()
    }
}

impl Decode for bool {
    const LEAVES_ERROR: bool = false;

    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        r.bool()
    }
}

impl Decode for () {
    const LEAVES_ERROR: bool = false;

    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        r.null()
    }
}

impl Decode for String {
    const LEAVES_ERROR: bool = false;

    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        r.string().map(Cow::into_owned)
    }
}

impl Decode for Value {
    const LEAVES_ERROR: bool = false;

    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        r.serde_value()
    }
}

impl<T: Decode> Decode for Vec<T> {
    // Each element's is reported as it is read.
    const LEAVES_ERROR: bool = false;

    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        match r.peek() {
            Some(b'[') => {}
            _ => return Err(r.wrong_type(Expected::Array)),
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
            match T::decode(r).and_then(|v| r.take_left::<T>().map(|()| v)) {
                Ok(v) => items.push(v),
                Err(e) => return Err(e.within(Segment::Index(items.len()))),
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
    const LEAVES_ERROR: bool = T::LEAVES_ERROR;

    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        T::decode(r).map(Box::new)
    }
}
