//! Numbers: integers eight digits at a time, decimals as serde_json
//! computes them.

use super::bytes::{splat, word};
use super::reader::Reader;
use super::Error;
use crate::decode::ints::{self, Int};
use crate::decode::{DecodeErrorKind, Expected, IntType};

impl Reader<'_> {
    /// A number's text: whether it is negative, its magnitude if it is an
    /// integer that fits in a `u64`, and where it starts.
    #[inline]
    fn number(&mut self, expected: Expected) -> Result<(bool, Option<u64>, usize), Error> {
        let bytes = self.bytes();
        let start = self.pos;
        let mut i = start;
        let neg = bytes.get(i) == Some(&b'-');
        if neg {
            i += 1;
        }
        let mut mag: u64 = 0;
        let mut fits = true;
        match bytes.get(i) {
            Some(b'0') => {
                i += 1;
                if let Some(b'0'..=b'9') = bytes.get(i) {
                    self.pos = i;
                    return Err(self.syntax("invalid number"));
                }
            }
            Some(b'1'..=b'9') => {
                let digits = i;
                while let Some(&d @ b'0'..=b'9') = bytes.get(i) {
                    // 19 digits always fit in a u64; beyond, check.
                    if i - digits < 19 {
                        mag = mag * 10 + u64::from(d - b'0');
                    } else {
                        match mag.checked_mul(10).and_then(|m| m.checked_add(u64::from(d - b'0'))) {
                            Some(m) => mag = m,
                            None => fits = false,
                        }
                    }
                    i += 1;
                }
            }
            _ if neg => {
                self.pos = i;
                return Err(self.syntax("invalid number"));
            }
            _ => return Err(self.wrong_type(expected)),
        }
        self.pos = i;
        if let Some(b'.' | b'e' | b'E') = bytes.get(i) {
            self.fraction_and_exponent()?;
            fits = false;
        }
        Ok((neg, fits.then_some(mag), start))
    }

    /// A number's `.digits` and `e±digits`, either optional.
    #[cold]
    fn fraction_and_exponent(&mut self) -> Result<(), Error> {
        let bytes = self.bytes();
        if let Some(b'.') = bytes.get(self.pos) {
            self.pos += 1;
            if !matches!(bytes.get(self.pos), Some(b'0'..=b'9')) {
                return Err(self.syntax("invalid number"));
            }
            while let Some(b'0'..=b'9') = bytes.get(self.pos) {
                self.pos += 1;
            }
        }
        if let Some(b'e' | b'E') = bytes.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = bytes.get(self.pos) {
                self.pos += 1;
            }
            if !matches!(bytes.get(self.pos), Some(b'0'..=b'9')) {
                return Err(self.syntax("invalid number"));
            }
            while let Some(b'0'..=b'9') = bytes.get(self.pos) {
                self.pos += 1;
            }
        }
        Ok(())
    }

    /// An integer of type `T`, whose QAPI type is `ty`, read as QEMU
    /// reads it ([`crate::decode::ints`]). Inlined into each member's
    /// read: a call per integer cost more than the code it adds (QMP
    /// replies are mostly integers).
    #[inline(always)]
    pub(super) fn integer<T: TryFrom<u64> + TryFrom<i64>>(&mut self, ty: IntType) -> Result<T, Error> {
        self.skip_ws();
        let start = self.pos;
        if let Some((neg, mag)) = self.short_integer() {
            // At most 16 digits, so the magnitude fits in an `i64` either
            // way and only `T`'s own bounds are checked.
            let v = if neg { T::try_from(-(mag as i64)).ok() } else { T::try_from(mag).ok() };
            if let Some(v) = v {
                return Ok(v);
            }
            self.pos = start;
        }
        self.integer_slow(ty)
    }

    /// An integer of at most 16 digits not followed by a fraction or an
    /// exponent, consumed: whether it is negative and its magnitude (below
    /// 10^16); `None` for any other text, left unread. These are the byte
    /// counts and times of QMP replies, read without a loop over their
    /// digits.
    #[inline(always)]
    fn short_integer(&mut self) -> Option<(bool, u64)> {
        let bytes = self.bytes();
        let neg = bytes.get(self.pos) == Some(&b'-');
        let start = self.pos + usize::from(neg);
        // A single digit (QMP's many zeros and small counts) without the
        // word's longer chain of operations.
        if let Some(&d @ b'0'..=b'9') = bytes.get(start) {
            let longer = matches!(bytes.get(start + 1), Some(b'0'..=b'9' | b'.' | b'e' | b'E'));
            // `-0` is left to the slow path, as below.
            if !(longer || neg && d == b'0') {
                self.pos = start + 1;
                return Some((neg, u64::from(d - b'0')));
            }
        }
        let w = word(bytes, start)?;
        let n = leading_digits(w);
        // No digit, or a leading zero before more digits: not ours.
        if n == 0 || (n > 1 && w & 0xff == u64::from(b'0')) {
            return None;
        }
        let (mag, end) = if n < 8 {
            (digits_value(w, n), start + n)
        } else {
            let w2 = word(bytes, start + 8)?;
            match leading_digits(w2) {
                0 => (digits_value(w, 8), start + 8),
                8 => return None,
                n2 => (digits_value(w, 8) * POW10_U64[n2] + digits_value(w2, n2), start + 8 + n2),
            }
        };
        if let Some(b'.' | b'e' | b'E') = bytes.get(end) {
            return None;
        }
        // `-0` is left to the slow path: serde_json reads it as -0.0.
        if neg && mag == 0 {
            return None;
        }
        self.pos = end;
        Some((neg, mag))
    }

    /// [`Reader::integer`] for what [`Reader::short_integer`] leaves.
    #[cold]
    #[inline(never)]
    fn integer_slow<T: TryFrom<u64> + TryFrom<i64>>(&mut self, ty: IntType) -> Result<T, Error> {
        let (neg, mag, start) = self.number(Expected::Integer(ty))?;
        // A fraction, an exponent, or beyond 64 bits: JSON numbers that
        // are no integer to QEMU (nor to serde_json); `-0` too, which
        // serde_json reads as the float -0.0.
        let value = mag.filter(|m| !neg || *m != 0).map(|m| if neg { -i128::from(m) } else { i128::from(m) });
        let converted = match ints::take(value, ty) {
            Ok(Int::Signed(v)) => T::try_from(v).ok(),
            Ok(Int::Unsigned(v)) => T::try_from(v).ok(),
            Err(kind) => return Err(self.error(start, kind)),
        };
        converted.ok_or_else(|| self.error(start, DecodeErrorKind::OutOfRange { ty }))
    }

    /// A number, integers included.
    pub fn f64(&mut self) -> Result<f64, Error> {
        self.skip_ws();
        let (neg, mag, start) = self.number(Expected::Number)?;
        // serde_json's conversions (not `str::parse`, which rounds
        // differently in the last bit than serde_json without its
        // `float_roundtrip` feature), so that both decode a text to the
        // same value: an integer is converted as a whole (rounded once
        // beyond 2^53), the rest below.
        if let Some(m) = mag {
            let v = m as f64;
            return Ok(if neg { -v } else { v });
        }
        if let Some(v) = short_decimal(&self.bytes()[start..self.pos]) {
            return Ok(v);
        }
        let text = self.text.get(start..self.pos).unwrap_or_default();
        serde_json::from_str::<f64>(text)
            .map_err(|_| self.error(start, DecodeErrorKind::Syntax { message: "number out of range".into() }))
    }
}

/// 10^0 to 10^7.
const POW10_U64: [u64; 8] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000];

/// Powers of ten that are exact in an `f64`.
const EXACT_POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22,
];

/// A valid JSON number without exponent whose digits, point aside, make
/// an integer that fits in a `u64`, with at most 22 decimals (`3355.44`,
/// or QEMU's 17-digit `mbps`): that integer converted to `f64`, then
/// divided by a power of ten, exactly as serde_json computes it (both are
/// single IEEE operations, so the result is the same to the bit; below
/// 2^53 it is also the correctly rounded value). `None` for any other
/// number, which serde_json itself then reads.
#[inline]
fn short_decimal(text: &[u8]) -> Option<f64> {
    let (neg, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let mut significand: u64 = 0;
    let mut decimals: Option<usize> = None;
    for &b in digits {
        match b {
            b'0'..=b'9' => {
                significand = significand.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
                if let Some(k) = decimals.as_mut() {
                    *k += 1;
                }
            }
            b'.' => decimals = Some(0),
            _ => return None,
        }
    }
    let v = significand as f64 / EXACT_POW10.get(decimals.unwrap_or(0))?;
    Some(if neg { -v } else { v })
}

/// How many of the word's bytes, from the first, are ASCII digits (0-8).
#[inline]
fn leading_digits(w: u64) -> usize {
    let low = w & splat(0x7f);
    // Bit 7 of each byte: set when it is at least '0', when it is past '9'.
    let at_least_0 = (low + splat(0x80 - b'0')) & splat(0x80);
    let past_9 = (low + splat(0x80 - b'9' - 1)) & splat(0x80);
    let digit = at_least_0 & !past_9 & !w;
    ((!digit & splat(0x80)).trailing_zeros() / 8) as usize
}

/// The value of the first `n` bytes of `w` (1..=8), all ASCII digits.
#[inline]
fn digits_value(w: u64, n: usize) -> u64 {
    // Drop the bytes past the digits and move the digits up, so that
    // the low bytes are leading zeros.
    let v = w.wrapping_sub(splat(b'0')) << (8 * (8 - n));
    // Pairs, then quads, then the eight: the first digit is the low byte.
    let v = (v.wrapping_mul(10) + (v >> 8)) & 0x00ff_00ff_00ff_00ff;
    let v = (v.wrapping_mul(100) + (v >> 16)) & 0x0000_ffff_0000_ffff;
    (v.wrapping_mul(10_000) + (v >> 32)) & 0xffff_ffff
}
