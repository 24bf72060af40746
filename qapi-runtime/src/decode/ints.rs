//! Integers as every decoding path reads them: a JSON integer that fits
//! the type is taken; one that does not, but is within 64 bits, is out
//! of the type's range; a number with a fraction or an exponent, or
//! beyond 64 bits, is no integer.

use serde_json::Number;

use super::error::{DecodeError, DecodeErrorKind, Expected, IntType};

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
    // Below i64::MIN, JSON parsers (QEMU's, serde_json) read a double.
    let v = value
        .filter(|v| *v >= i128::from(i64::MIN))
        .ok_or(DecodeErrorKind::InvalidType { expected: Expected::Integer(ty) })?;
    if !ty.contains(v) {
        return Err(DecodeErrorKind::OutOfRange { ty });
    }
    // In range, so it fits the 64-bit type of its sign.
    Ok(if ty.is_signed() { Int::Signed(v as i64) } else { Int::Unsigned(v as u64) })
}

/// [`take`] on a number of a `serde_json::Value`.
pub(crate) fn from_number(n: &Number, ty: IntType) -> Result<Int, DecodeError> {
    let value = n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from));
    take(value, ty).map_err(DecodeError::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_taken_in_their_range() {
        use IntType::*;
        let range = |ty| Err(DecodeErrorKind::OutOfRange { ty });
        assert_eq!(take(Some(-1), Uint64), range(Uint64));
        assert_eq!(take(Some(256), Uint8), range(Uint8));
        assert_eq!(take(Some(255), Uint8), Ok(Int::Unsigned(255)));
        assert_eq!(take(Some(u64::MAX.into()), Uint64), Ok(Int::Unsigned(u64::MAX)));
        assert_eq!(take(Some(-32769), Int16), range(Int16));
        assert_eq!(take(Some(i128::from(i64::MAX) + 1), Int64), range(Int64));
        let not_integer = |ty| Err(DecodeErrorKind::InvalidType { expected: Expected::Integer(ty) });
        assert_eq!(take(Some(i128::from(i64::MIN) - 1), Int64), not_integer(Int64));
        assert_eq!(take(None, Int32), not_integer(Int32));
    }
}
