//! Integers as QEMU's QObject input visitor takes them, for every
//! decoding path: a JSON integer is an `int64` if it fits, else a
//! `uint64`, else no integer at all. A signed type takes it if it is an
//! `int64`; an unsigned type takes a `uint64`, and, for backward
//! compatibility, a negative `int64` as its two's complement (-1 is
//! 18446744073709551615). Then the narrower types check their range.
//!
//! [`QemuInts`] brings the unsigned rule to serde deserializers that are
//! not the runtime's own (serde_json's, say), for the members of
//! generated types.

use std::fmt;
use std::marker::PhantomData;

use serde_json::Number;

use super::error::{raise, DecodeError, DecodeErrorKind, Expected, IntType};
use crate::serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};

/// A JSON integer taken for a QAPI integer type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Int {
    /// For a signed type.
    Signed(i64),
    /// For an unsigned type.
    Unsigned(u64),
}

impl IntType {
    /// The smallest and largest values.
    fn bounds(self) -> (i128, i128) {
        match self {
            IntType::Int8 => (i8::MIN.into(), i8::MAX.into()),
            IntType::Int16 => (i16::MIN.into(), i16::MAX.into()),
            IntType::Int32 => (i32::MIN.into(), i32::MAX.into()),
            IntType::Int64 => (i64::MIN.into(), i64::MAX.into()),
            IntType::Uint8 => (0, u8::MAX.into()),
            IntType::Uint16 => (0, u16::MAX.into()),
            IntType::Uint32 => (0, u32::MAX.into()),
            IntType::Uint64 => (0, u64::MAX.into()),
        }
    }

    fn contains(self, v: i128) -> bool {
        let (min, max) = self.bounds();
        (min..=max).contains(&v)
    }
}

/// The JSON integer `value` (`None`: a number with a fraction or an
/// exponent, or beyond 64 bits) taken for type `ty`, or why not.
pub(crate) fn take(value: Option<i128>, ty: IntType) -> Result<Int, DecodeErrorKind> {
    let not_integer = || DecodeErrorKind::InvalidType { expected: Expected::Integer(ty) };
    let v = value.ok_or_else(not_integer)?;
    let taken = if ty.is_signed() {
        Int::Signed(i64::try_from(v).map_err(|_| not_integer())?)
    } else {
        match u64::try_from(v) {
            Ok(u) => Int::Unsigned(u),
            // A negative int64, as its two's complement.
            Err(_) => Int::Unsigned(i64::try_from(v).map_err(|_| not_integer())? as u64),
        }
    };
    let wide = match taken {
        Int::Signed(v) => i128::from(v),
        Int::Unsigned(u) => i128::from(u),
    };
    if ty.contains(wide) {
        Ok(taken)
    } else {
        Err(DecodeErrorKind::OutOfRange { ty })
    }
}

/// [`take`] on a number of a `serde_json::Value`.
pub(crate) fn from_number(n: &Number, ty: IntType) -> Result<Int, DecodeError> {
    let value = n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from));
    take(value, ty).map_err(DecodeError::new)
}

/// A deserializer as it is, except that an unsigned integer, or a list
/// of them, takes a negative number as QEMU does (see the module's
/// documentation), and refuses one out of its type's range in QEMU's
/// words. What the members of generated types are decoded through.
pub(crate) struct QemuInts<D>(pub(crate) D);

/// Forwards `deserialize_NAME` to the wrapped deserializer unchanged.
macro_rules! forward {
    ($($method:ident)*) => {$(
        #[inline]
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.0.$method(visitor)
        }
    )*};
}

/// `deserialize_NAME` of an unsigned type through [`Unsigned`].
macro_rules! unsigned {
    ($($method:ident: $ty:ident)*) => {$(
        #[inline]
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.0.$method(Unsigned { visitor, ty: IntType::$ty })
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for QemuInts<D> {
    type Error = D::Error;

    forward! {
        deserialize_any deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_f32 deserialize_f64 deserialize_char deserialize_str deserialize_string
        deserialize_bytes deserialize_byte_buf deserialize_option deserialize_unit deserialize_map
        deserialize_identifier deserialize_ignored_any
    }

    unsigned! {
        deserialize_u8: Uint8 deserialize_u16: Uint16 deserialize_u32: Uint32 deserialize_u64: Uint64
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_seq(List(visitor))
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_unit_struct(name, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_newtype_struct(name, visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple(len, visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple_struct(name, len, visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_struct(name, fields, visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

/// The visitor of an unsigned integer, given a negative number as its
/// two's complement; everything else goes to it unchanged (and what it
/// does not take it refuses in its own words).
struct Unsigned<V> {
    visitor: V,
    ty: IntType,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Unsigned<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(f)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<V::Value, E> {
        if v >= 0 {
            return self.visitor.visit_i64(v);
        }
        match take(Some(v.into()), self.ty) {
            Ok(Int::Unsigned(u)) => self.visitor.visit_u64(u),
            Ok(Int::Signed(v)) => self.visitor.visit_i64(v),
            Err(kind) => Err(raise(DecodeError::new(kind))),
        }
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<V::Value, E> {
        self.visitor.visit_u64(v)
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<V::Value, E> {
        self.visitor.visit_i128(v)
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<V::Value, E> {
        self.visitor.visit_u128(v)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<V::Value, E> {
        self.visitor.visit_f64(v)
    }
}

/// The visitor of a list, whose elements are read through [`QemuInts`].
struct List<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for List<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.0.visit_seq(Elements(seq))
    }
}

struct Elements<A>(A);

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Elements<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(Element(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

/// A seed whose deserializer is wrapped in [`QemuInts`]: how
/// [`crate::types::member`] reads a union's common member, and how a
/// list's elements are read.
pub(crate) struct Element<S>(pub(crate) S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Element<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(QemuInts(deserializer))
    }
}

/// The seed of a plain `T`.
pub(crate) fn seed<T>() -> Element<PhantomData<T>> {
    Element(PhantomData)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taken(v: i128, ty: IntType) -> Result<Int, DecodeErrorKind> {
        take(Some(v), ty)
    }

    #[test]
    fn integers_are_taken_as_qemu_takes_them() {
        use IntType::*;
        let range = |ty| Err(DecodeErrorKind::OutOfRange { ty });
        let not_integer = |ty| Err(DecodeErrorKind::InvalidType { expected: Expected::Integer(ty) });
        assert_eq!(taken(-1, Uint64), Ok(Int::Unsigned(u64::MAX)));
        assert_eq!(taken(i64::MIN.into(), Uint64), Ok(Int::Unsigned(1 << 63)));
        assert_eq!(taken(u64::MAX.into(), Uint64), Ok(Int::Unsigned(u64::MAX)));
        assert_eq!(taken(-1, Uint8), range(Uint8));
        assert_eq!(taken(256, Uint8), range(Uint8));
        assert_eq!(taken(255, Uint8), Ok(Int::Unsigned(255)));
        assert_eq!(taken(i128::from(i64::MIN) - 1, Uint32), not_integer(Uint32));
        assert_eq!(taken(-32769, Int16), range(Int16));
        assert_eq!(taken(i128::from(i64::MAX) + 1, Int64), not_integer(Int64));
        assert_eq!(taken(i128::from(i64::MAX) + 1, Int8), not_integer(Int8));
        assert_eq!(take(None, Int32), not_integer(Int32));
    }

    #[test]
    fn serde_json_deserializers_take_negative_unsigned_numbers() {
        let mut de = serde_json::Deserializer::from_str("[-1, 5]");
        let v: Vec<u64> = de::Deserialize::deserialize(QemuInts(&mut de)).unwrap();
        assert_eq!(v, [u64::MAX, 5]);
        let mut de = serde_json::Deserializer::from_str("-1");
        let e = <u16 as de::Deserialize>::deserialize(QemuInts(&mut de)).unwrap_err();
        assert!(e.to_string().starts_with("Parameter 'null' expects uint16_t"), "{e}");
        let v: Vec<i8> = de::Deserialize::deserialize(QemuInts(&serde_json::json!([-1]))).unwrap();
        assert_eq!(v, [-1]);
    }
}
