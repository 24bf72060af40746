//! A serde `Deserializer` over a `serde_json::Value` whose error is
//! [`DecodeError`]: it knows what each call asked for (a `u8`, an
//! object), so that it words type and range errors itself, as QEMU's
//! input visitor does, and it adds each member's name or list index to
//! the path of an error coming out of it.

use serde_json::{Map, Number, Value};

use super::error::{DecodeError, DecodeErrorKind, Expected, IntType, Segment};
use super::ints;
use crate::serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

/// Deserializes from a borrowed [`Value`].
#[derive(Debug, Clone, Copy)]
pub struct ValueDeserializer<'a>(pub &'a Value);

type Result<T> = std::result::Result<T, DecodeError>;

fn wrong_type(expected: Expected) -> DecodeError {
    DecodeError::new(DecodeErrorKind::InvalidType { expected })
}

impl<'a> ValueDeserializer<'a> {
    /// The value as an integer of type `ty`, read as QEMU reads it.
    fn integer(self, ty: IntType) -> Result<ints::Int> {
        let Value::Number(n) = self.0 else {
            return Err(wrong_type(Expected::Integer(ty)));
        };
        ints::from_number(n, ty)
    }

    fn object(self) -> Result<&'a Map<String, Value>> {
        match self.0 {
            Value::Object(m) => Ok(m),
            _ => Err(wrong_type(Expected::Object)),
        }
    }

    fn array(self) -> Result<&'a [Value]> {
        match self.0 {
            Value::Array(a) => Ok(a),
            _ => Err(wrong_type(Expected::Array)),
        }
    }

    fn str(self) -> Result<&'a str> {
        match self.0 {
            Value::String(s) => Ok(s),
            _ => Err(wrong_type(Expected::String)),
        }
    }
}

/// `deserialize_NAME` for each integer type, visited as the 64-bit value
/// that QEMU's rules made of the number.
macro_rules! integers {
    ($($method:ident: $ty:ident,)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            match self.integer(IntType::$ty)? {
                ints::Int::Signed(v) => visitor.visit_i64(v),
                ints::Int::Unsigned(v) => visitor.visit_u64(v),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for ValueDeserializer<'de> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => visit_number(n, visitor),
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(a) => visitor.visit_seq(Elements::new(a)),
            Value::Object(m) => visitor.visit_map(Members::new(m)),
        }
    }

    integers! {
        deserialize_i8: Int8,
        deserialize_i16: Int16,
        deserialize_i32: Int32,
        deserialize_i64: Int64,
        deserialize_u8: Uint8,
        deserialize_u16: Uint16,
        deserialize_u32: Uint32,
        deserialize_u64: Uint64,
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            Value::Number(n) => visit_number(n, visitor),
            _ => Err(wrong_type(Expected::Number)),
        }
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            Value::Bool(b) => visitor.visit_bool(*b),
            _ => Err(wrong_type(Expected::Boolean)),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_borrowed_str(self.str()?)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            _ => Err(wrong_type(Expected::Null)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_seq(Elements::new(self.array()?))
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_map(Members::new(self.object()?))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_map(visitor)
    }

    /// An enum of Rust (not a QAPI enum, which is a string to serde):
    /// a string for a unit variant.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_enum(self.str()?.into_deserializer())
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }
}

/// A number as serde_json's own `Value` deserializer visits it.
fn visit_number<'de, V: Visitor<'de>>(n: &Number, visitor: V) -> Result<V::Value> {
    if let Some(u) = n.as_u64() {
        visitor.visit_u64(u)
    } else if let Some(i) = n.as_i64() {
        visitor.visit_i64(i)
    } else {
        visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// The members of an object, in their order there; an error in a value
/// gets the member's name on its path.
struct Members<'a> {
    iter: serde_json::map::Iter<'a>,
    value: Option<(&'a str, &'a Value)>,
}

impl<'a> Members<'a> {
    fn new(map: &'a Map<String, Value>) -> Self {
        Members { iter: map.iter(), value: None }
    }
}

impl<'de> de::MapAccess<'de> for Members<'de> {
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        let Some((key, value)) = self.iter.next() else {
            return Ok(None);
        };
        self.value = Some((key, value));
        seed.deserialize(de::value::BorrowedStrDeserializer::new(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let Some((key, value)) = self.value.take() else {
            return Err(de::Error::custom("a member's value asked for before its name"));
        };
        seed.deserialize(ValueDeserializer(value)).map_err(|e| e.within(Segment::Member(key.to_owned().into())))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// The elements of an array; an error in one gets its index on its path.
struct Elements<'a> {
    iter: std::iter::Enumerate<std::slice::Iter<'a, Value>>,
}

impl<'a> Elements<'a> {
    fn new(items: &'a [Value]) -> Self {
        Elements { iter: items.iter().enumerate() }
    }
}

impl<'de> de::SeqAccess<'de> for Elements<'de> {
    type Error = DecodeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        let Some((i, item)) = self.iter.next() else {
            return Ok(None);
        };
        seed.deserialize(ValueDeserializer(item)).map(Some).map_err(|e| e.within(Segment::Index(i)))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}
