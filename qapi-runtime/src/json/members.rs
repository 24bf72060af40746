//! Objects: the member loop of generated struct decoders, enums, and the
//! serde path for the types the codec has no code of its own for.

use serde_json::Value;

use super::reader::Reader;
use super::{Decode, Error};
use crate::decode::{DecodeErrorKind, Expected, Segment};
use crate::serde::de::DeserializeOwned;

/// Past the `,` before the next member, at its name's opening quote:
/// `false` once the object's `}` is consumed instead.
#[inline]
fn member_start(r: &mut Reader<'_>) -> Result<bool, Error> {
    let first = std::mem::replace(&mut r.first, false);
    match r.peek() {
        Some(b',') if !first => {
            r.pos += 1;
            r.skip_ws();
        }
        Some(b'"') if first => return Ok(true),
        Some(b'}') => {
            r.pos += 1;
            r.depth -= 1;
            return Ok(false);
        }
        _ => return Err(member_start_error(r, first)),
    }
    match r.bytes().get(r.pos) {
        Some(b'"') => Ok(true),
        _ => Err(member_start_error(r, true)),
    }
}

/// What [`member_start`] found instead of a member or the end.
#[cold]
#[inline(never)]
fn member_start_error(r: &Reader<'_>, first: bool) -> Error {
    match r.bytes().get(r.pos) {
        Some(_) if !first => r.syntax("expected `,` or `}`"),
        Some(_) => r.syntax("key must be a string"),
        None => r.syntax("EOF while parsing an object"),
    }
}

/// Consumes the `:` after a member's name.
#[inline]
fn colon(r: &mut Reader<'_>) -> Result<(), Error> {
    match r.peek() {
        Some(b':') => {
            r.pos += 1;
            Ok(())
        }
        _ => Err(r.syntax("expected `:`")),
    }
}

/// Reads the members of an object by their index in a list of names:
/// what a generated `Decode` impl of a struct uses.
///
/// QEMU sends members in schema order, so the name looked for first is
/// the one after the previous member's; it is compared where it sits in
/// the input, without being scanned first, and nearly always matches.
///
/// As QEMU, a member the type does not have (server mode) is reported
/// once the others are read and found complete: its error is left in the
/// reader for the caller of the type's `decode` to report (see
/// [`Decode::LEAVES_ERROR`]).
#[derive(Debug)]
pub struct Members {
    names: &'static [&'static str],
    /// The index of a name in `names`, for a member out of order.
    index: fn(&str) -> Option<usize>,
    /// Where the next name is looked for first.
    at: usize,
    strict: bool,
}

impl Members {
    /// Opens the object (consumes its `{`); members not in `names` will
    /// be skipped, or an error when `strict` (server mode). `index` gives
    /// a name's position in `names` (generated code passes a `match`).
    #[inline]
    pub fn new(
        r: &mut Reader<'_>,
        names: &'static [&'static str],
        index: fn(&str) -> Option<usize>,
        strict: bool,
    ) -> Result<Self, Error> {
        if r.peek() != Some(b'{') {
            return Err(r.wrong_type(Expected::Object));
        }
        r.enter()?;
        r.pos += 1;
        // The first member takes no comma.
        r.first = true;
        Ok(Members { names, index, at: 0, strict })
    }

    /// The index in `names` of the next member, its `:` consumed, or
    /// `None` once the object's `}` is.
    #[inline(always)]
    pub fn next(&mut self, r: &mut Reader<'_>) -> Result<Option<usize>, Error> {
        if !member_start(r)? {
            return Ok(None);
        }
        if let Some(name) = self.names.get(self.at) {
            if r.at_key_colon(name) {
                let found = self.at;
                self.at += 1;
                return Ok(Some(found));
            }
        }
        self.by_name(r)
    }

    /// [`Members::next`] when the member at the current position is not
    /// the one expected: its name is read and looked up, and members not
    /// in `names` are skipped (or an error when strict).
    #[inline(never)]
    fn by_name(&mut self, r: &mut Reader<'_>) -> Result<Option<usize>, Error> {
        loop {
            let key = r.string_at_quote()?;
            colon(r)?;
            if let Some(found) = (self.index)(&key) {
                self.at = found + 1;
                return Ok(Some(found));
            }
            self.unknown(r, &key)?;
            if !member_start(r)? {
                return Ok(None);
            }
        }
    }

    /// A member whose index [`Members::next`] returned but that this
    /// build does not have (it is configured out): like one not in the
    /// names.
    pub fn unavailable(&self, r: &mut Reader<'_>, index: usize) -> Result<(), Error> {
        self.unknown(r, self.names.get(index).copied().unwrap_or_default())
    }

    /// A member the type does not have (or not in this build): skipped,
    /// and left in the reader when `strict` (server mode).
    fn unknown(&self, r: &mut Reader<'_>, key: &str) -> Result<(), Error> {
        if self.strict {
            r.leave(|r| r.error(r.pos, DecodeErrorKind::UnknownMember).within(Segment::Member(key.to_owned().into())));
        }
        r.serde_value::<crate::serde::de::IgnoredAny>().map(drop)
    }
}

/// Reads an object whose type has no members: each member is skipped,
/// or an error when `strict`.
pub fn empty_object(r: &mut Reader<'_>, strict: bool) -> Result<(), Error> {
    let mut members = Members::new(r, &[], |_| None, strict)?;
    while members.next(r)?.is_some() {}
    Ok(())
}

/// Reads the value of member `name` into `slot`; a second value for it is
/// an error, and errors within the value get `name` on their path.
#[inline(always)]
pub fn read_member<T: Decode>(r: &mut Reader<'_>, slot: &mut Option<T>, name: &'static str) -> Result<(), Error> {
    if slot.is_some() {
        let e = r.error(r.pos, DecodeErrorKind::DuplicateMember);
        return Err(e.within(Segment::Member(name.into())));
    }
    match T::decode(r).and_then(|v| r.take_left::<T>().map(|()| v)) {
        Ok(v) => {
            *slot = Some(v);
            Ok(())
        }
        Err(e) => Err(e.within(Segment::Member(name.into()))),
    }
}

/// The value of a mandatory member once the object is read.
#[inline]
pub fn required<T>(r: &Reader<'_>, slot: Option<T>, name: &'static str) -> Result<T, Error> {
    match slot {
        Some(v) => Ok(v),
        None => Err(r.error(r.pos, DecodeErrorKind::MissingMember).within(Segment::Member(name.into()))),
    }
}

/// A value of an enum from its wire name: `from_wire` knows the values;
/// an unknown one becomes `unknown(name)` (client mode) or an error
/// (`unknown` is `None`, server mode).
pub fn read_enum<T>(
    r: &mut Reader<'_>,
    from_wire: fn(&str) -> Option<T>,
    unknown: Option<fn(String) -> T>,
) -> Result<T, Error> {
    r.skip_ws();
    let start = r.pos;
    let s = r.string()?;
    if let Some(v) = from_wire(&s) {
        return Ok(v);
    }
    match unknown {
        Some(keep) => Ok(keep(s.into_owned())),
        None => Err(r.error(start, DecodeErrorKind::InvalidValue { value: s.into_owned() })),
    }
}

/// Reads a value through its serde impl: what the codec does for the
/// types it has no code of its own for (unions, alternates). An error
/// is the serde path's ([`crate::decode::from_value`]), placed where the
/// value starts.
pub fn read_serde<T: DeserializeOwned>(r: &mut Reader<'_>) -> Result<T, Error> {
    r.skip_ws();
    let start = r.pos;
    let value: Value = r.serde_value()?;
    crate::decode::from_value(&value).map_err(|e| {
        let (line, column) = r.position(start);
        e.at_position(line, column)
    })
}
