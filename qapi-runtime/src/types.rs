//! What the types `qapi-gen` generates call: serializing an object's
//! members into a map, decoding enums, optional members and union
//! branches the way QEMU does.
//!
//! The decoding helpers are generic over the deserializer, as serde
//! impls are; their errors are [`crate::decode::DecodeError`]s, with
//! QEMU's words, when the deserializer is the runtime's own
//! ([`crate::decode::from_value`]). Members are read through
//! [`crate::decode`]'s integer rules whatever the deserializer.
//!
//! Generated code refers to these through the runtime path it was given
//! (`::qapi_runtime::types::...`); they are public so that it can, and
//! [`ObjectMembers`] is useful on its own: it writes a struct's or union's
//! members into a map that already holds others.

use std::fmt;

use crate::serde::de::{self, DeserializeOwned, Deserializer, MapAccess, Visitor};
use crate::serde::ser::{SerializeMap, Serializer};
use crate::serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::decode::ints::{seed, QemuInts};
use crate::decode::{raise, DecodeError, DecodeErrorKind};
use crate::Error;

/// An object type (a struct or union) whose members can be written into
/// a map that is being serialized: what a union's branch contributes to
/// the union's object.
pub trait ObjectMembers {
    /// Writes every member that is present, in schema order.
    fn serialize_members<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error>;
}

/// Serializes `value` as a JSON object of its members.
pub fn serialize_object<T: ObjectMembers + ?Sized, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(None)?;
    value.serialize_members(&mut map)?;
    map.end()
}

/// Deserializes a present optional member: unlike `Option`'s own impl,
/// `null` is not taken for "absent" (it is an error, or the value of a
/// type that has `null` among its values, like an alternate with a `null`
/// branch). Absence is handled by `#[serde(default)]`.
pub fn deserialize_some<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Deserializes a value of an enum from its wire name: `from_wire` knows
/// the values; an unknown one becomes `unknown(name)` (client mode) or an
/// error (`unknown` is `None`, server mode).
pub fn deserialize_enum<'de, D, T>(
    deserializer: D,
    type_name: &'static str,
    from_wire: fn(&str) -> Option<T>,
    unknown: Option<fn(String) -> T>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    deserializer.deserialize_str(EnumVisitor { type_name, from_wire, unknown })
}

struct EnumVisitor<T> {
    type_name: &'static str,
    from_wire: fn(&str) -> Option<T>,
    unknown: Option<fn(String) -> T>,
}

impl<T> Visitor<'_> for EnumVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a string (a value of {})", self.type_name)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        if let Some(value) = (self.from_wire)(v) {
            return Ok(value);
        }
        match self.unknown {
            Some(keep) => Ok(keep(v.to_owned())),
            None => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
}

/// Decodes the members of a union branch that were collected while
/// looking for the discriminator; an error names the path within the
/// branch.
pub fn branch_from_members<T: DeserializeOwned, E: de::Error>(members: Map<String, Value>) -> Result<T, E> {
    crate::decode::from_value(&Value::Object(members)).map_err(raise)
}

/// Checks that a union branch without members got none: in server mode
/// (`strict`) a member is unexpected; a client ignores what it doesn't
/// know.
pub fn no_members<E: de::Error>(members: &Map<String, Value>, strict: bool) -> Result<(), E> {
    match members.keys().next() {
        Some(key) if strict => Err(E::unknown_field(key, &[])),
        _ => Ok(()),
    }
}

/// Reads the next value of `map` as a member called `name`, failing if
/// `slot` already holds one.
pub fn member<'de, A, T>(map: &mut A, slot: &mut Option<T>, name: &'static str) -> Result<(), A::Error>
where
    A: MapAccess<'de>,
    T: Deserialize<'de>,
{
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value_seed(seed::<T>())?);
    Ok(())
}

/// The value of a mandatory member read with [`member`].
pub fn required<T, E: de::Error>(slot: Option<T>, name: &'static str) -> Result<T, E> {
    slot.ok_or_else(|| de::Error::missing_field(name))
}

/// Collects a member that is not one of a union's common members, for the
/// branch to decode once the discriminator is known.
pub fn collect<'de, A: MapAccess<'de>>(
    map: &mut A,
    rest: &mut Map<String, Value>,
    key: String,
) -> Result<(), A::Error> {
    let value: Value = map.next_value()?;
    if rest.contains_key(&key) {
        return Err(raise(DecodeError::at_member(DecodeErrorKind::DuplicateMember, key)));
    }
    rest.insert(key, value);
    Ok(())
}

/// The members of a struct being decoded by [`deserialize_struct`]: a
/// generated `Deserialize` impl declares one, local to it, holding an
/// `Option` per member. Moving the loop over the map into this generic
/// code, rather than deriving it per struct, is what keeps the generated
/// code small and quick to compile; the errors are worded as
/// `#[derive(Deserialize)]` words them.
pub trait StructBuilder<'de>: Default {
    /// The struct that is built.
    type Value;
    /// The struct's Rust name (the decoder is told `struct NAME`).
    const NAME: &'static str;
    /// The members' wire names; a member's index is its position here.
    const FIELDS: &'static [&'static str];

    /// Reads member `index` from `value`; `false` if this build has no
    /// such member (it is configured out), after skipping the value.
    fn set<D: Deserializer<'de>>(&mut self, index: usize, value: D) -> Result<bool, D::Error>;

    /// The struct, or the error for the first mandatory member missing.
    fn build<E: de::Error>(self) -> Result<Self::Value, E>;
}

/// Deserializes a struct through its [`StructBuilder`] `B`. Unknown
/// members are errors when `strict` (server mode) and skipped otherwise.
pub fn deserialize_struct<'de, B, D>(deserializer: D, strict: bool) -> Result<B::Value, D::Error>
where
    B: StructBuilder<'de>,
    D: Deserializer<'de>,
{
    deserializer.deserialize_struct(
        B::NAME,
        B::FIELDS,
        StructVisitor::<B> { strict, builder: std::marker::PhantomData },
    )
}

/// Stores a member's value into its slot: the duplicate check is done by
/// [`deserialize_struct`]. Like [`deserialize_some`], `null` is not taken
/// for "absent". Unsigned integers take negative numbers as QEMU's do.
#[inline]
pub fn put<'de, D, T>(slot: &mut Option<T>, value: D) -> Result<bool, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    *slot = Some(T::deserialize(QemuInts(value))?);
    Ok(true)
}

/// Skips the value of a member this build does not have.
pub fn skip<'de, D: Deserializer<'de>>(value: D) -> Result<bool, D::Error> {
    de::IgnoredAny::deserialize(value)?;
    Ok(false)
}

/// Takes JSON objects only: unlike serde's derive it has no `visit_seq`,
/// since QEMU refuses an array where a struct is expected.
struct StructVisitor<B> {
    strict: bool,
    builder: std::marker::PhantomData<fn() -> B>,
}

/// Which members were seen, to refuse duplicates without allocating for
/// structs of up to 128 members.
enum Seen {
    Small(u128),
    Large(Vec<bool>),
}

impl Seen {
    fn new(len: usize) -> Self {
        if len <= 128 {
            Seen::Small(0)
        } else {
            Seen::Large(vec![false; len])
        }
    }

    /// Marks `index`; whether it was already marked.
    #[inline]
    fn insert(&mut self, index: usize) -> bool {
        match self {
            Seen::Small(bits) => {
                let bit = 1u128 << index;
                let was = *bits & bit != 0;
                *bits |= bit;
                was
            }
            Seen::Large(v) => std::mem::replace(&mut v[index], true),
        }
    }
}

impl<'de, B: StructBuilder<'de>> Visitor<'de> for StructVisitor<B> {
    type Value = B::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "struct {}", B::NAME)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<B::Value, A::Error> {
        let mut read =
            Read::<B> { builder: B::default(), seen: Seen::new(B::FIELDS.len()), hint: 0, strict: self.strict };
        match read.members(&mut map)? {
            None => read.builder.build(),
            Some(unknown) => read.after_unknown(map, unknown),
        }
    }
}

/// A struct's members as [`StructVisitor`] reads them.
struct Read<B> {
    builder: B,
    seen: Seen,
    /// Where the next member's name is looked for first.
    hint: usize,
    strict: bool,
}

impl<'de, B: StructBuilder<'de>> Read<B> {
    /// Reads members up to the end of the object, or up to one the type
    /// does not have (server mode), whose name it returns.
    #[inline]
    fn members<A: MapAccess<'de>>(&mut self, map: &mut A) -> Result<Option<String>, A::Error> {
        let fields = B::FIELDS;
        while let Some(key) = map.next_key_seed(KeySeed { fields, strict: self.strict, hint: self.hint })? {
            let index = match key {
                Key::Index(index) => index,
                Key::Skip => {
                    map.next_value::<de::IgnoredAny>()?;
                    continue;
                }
                Key::Unknown(name) => {
                    map.next_value::<de::IgnoredAny>()?;
                    return Ok(Some(name));
                }
            };
            self.hint = index + 1;
            if self.seen.insert(index) {
                return Err(de::Error::duplicate_field(fields[index]));
            }
            let known = map.next_value_seed(SlotSeed { builder: &mut self.builder, index })?;
            if !known && self.strict {
                return Ok(Some(fields[index].to_owned()));
            }
        }
        Ok(None)
    }

    /// The rest of an object that has member `unknown`, which the type
    /// does not have: as QEMU, it is reported once the other members are
    /// read, and only if they are all right.
    #[cold]
    fn after_unknown<A: MapAccess<'de>>(mut self, mut map: A, unknown: String) -> Result<B::Value, A::Error> {
        while self.members(&mut map)?.is_some() {}
        self.builder.build::<A::Error>()?;
        Err(de::Error::unknown_field(&unknown, B::FIELDS))
    }
}

/// A member's name as [`KeySeed`] finds it.
enum Key {
    /// The member at this index of the names.
    Index(usize),
    /// One the type does not have, to skip (client mode).
    Skip,
    /// One the type does not have, to refuse (server mode).
    Unknown(String),
}

/// Finds a member's name among `fields`.
struct KeySeed {
    fields: &'static [&'static str],
    strict: bool,
    /// Where the name is looked for first: after the previous member's.
    /// QEMU sends members in schema order, so this is nearly always the
    /// one, and a lookup costs one comparison.
    hint: usize,
}

impl KeySeed {
    #[inline]
    fn find(&self, matches: impl Fn(&str) -> bool) -> Option<usize> {
        match self.fields.get(self.hint) {
            Some(f) if matches(f) => Some(self.hint),
            _ => self.fields.iter().position(|f| matches(f)),
        }
    }
}

impl<'de> de::DeserializeSeed<'de> for KeySeed {
    type Value = Key;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("field identifier")
    }

    #[inline]
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        match self.find(|f| f == v) {
            Some(index) => Ok(Key::Index(index)),
            None if self.strict => Ok(Key::Unknown(v.to_owned())),
            None => Ok(Key::Skip),
        }
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
        match self.find(|f| f.as_bytes() == v) {
            Some(index) => Ok(Key::Index(index)),
            None if self.strict => Ok(Key::Unknown(String::from_utf8_lossy(v).into_owned())),
            None => Ok(Key::Skip),
        }
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        match usize::try_from(v).ok().filter(|i| *i < self.fields.len()) {
            Some(index) => Ok(Key::Index(index)),
            None if self.strict => Ok(Key::Unknown(v.to_string())),
            None => Ok(Key::Skip),
        }
    }
}

/// The value of member `index`, stored into `builder`.
struct SlotSeed<'b, B> {
    builder: &'b mut B,
    index: usize,
}

impl<'de, B: StructBuilder<'de>> de::DeserializeSeed<'de> for SlotSeed<'_, B> {
    type Value = bool;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        self.builder.set(self.index, deserializer)
    }
}

/// `Serialize` and `Deserialize` for the runtime's own wire structs, on
/// the same [`ObjectMembers`] / [`StructBuilder`] machinery generated code
/// uses, so that the runtime needs no derive macro (and no `syn`) to
/// build. Members are listed in wire order, each `req` (mandatory) or
/// `opt` (an `Option` left out when `None`; `null` reads as absent, as
/// serde's derive reads it).
macro_rules! wire_object {
    ($name:ident, strict: $strict:expr, { $($field:ident: $wire:literal $kind:ident $ty:ty),* $(,)? }) => {
        impl $crate::types::ObjectMembers for $name {
            #[allow(unused_variables)]
            fn serialize_members<M: $crate::serde::ser::SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
                $( $crate::types::wire_object!(@ser $kind map $wire self.$field); )*
                Ok(())
            }
        }

        impl $crate::serde::Serialize for $name {
            fn serialize<S: $crate::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                $crate::types::serialize_object(self, serializer)
            }
        }

        impl<'de> $crate::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                #[derive(Default)]
                struct Slots {
                    $( $field: Option<$ty>, )*
                }
                impl<'de> $crate::types::StructBuilder<'de> for Slots {
                    type Value = $name;
                    const NAME: &'static str = stringify!($name);
                    const FIELDS: &'static [&'static str] = &[$($wire),*];
                    #[allow(unused_mut, unused_variables, unused_assignments)]
                    fn set<D: $crate::serde::Deserializer<'de>>(&mut self, index: usize, value: D) -> Result<bool, D::Error> {
                        let mut i = 0;
                        $(
                            if index == i {
                                return $crate::types::put(&mut self.$field, value);
                            }
                            i += 1;
                        )*
                        $crate::types::skip(value)
                    }
                    fn build<E: $crate::serde::de::Error>(self) -> Result<$name, E> {
                        Ok($name { $( $field: $crate::types::wire_object!(@build $kind self.$field, $wire), )* })
                    }
                }
                $crate::types::deserialize_struct::<Slots, D>(deserializer, $strict)
            }
        }
    };
    (@ser req $map:ident $wire:literal $value:expr) => {
        $crate::serde::ser::SerializeMap::serialize_entry($map, $wire, &$value)?
    };
    (@ser opt $map:ident $wire:literal $value:expr) => {
        if let Some(value) = &$value {
            $crate::serde::ser::SerializeMap::serialize_entry($map, $wire, value)?;
        }
    };
    (@build req $slot:expr, $wire:literal) => {
        $crate::types::required($slot, $wire)?
    };
    (@build opt $slot:expr, $wire:literal) => {
        $slot.flatten()
    };
}
pub(crate) use wire_object;

/// Encodes what a command returns as the reply's `return` value.
pub fn encode_return<T: Serialize>(value: T) -> Result<Value, Error> {
    serde_json::to_value(value).map_err(|e| Error::generic(e.to_string()))
}

/// Decodes an event's `data` (absent: an empty object), naming the path
/// of a bad member.
pub fn decode_data<T: DeserializeOwned>(data: Option<Value>) -> Result<T, Error> {
    crate::dispatch::decode_arguments(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, PartialEq)]
    enum Color {
        Red,
        Other(String),
    }

    fn from_wire(s: &str) -> Option<Color> {
        (s == "red").then_some(Color::Red)
    }

    #[test]
    fn enums_keep_or_refuse_unknown_values() {
        let v = json!("blue");
        let kept = deserialize_enum(&v, "Color", from_wire, Some(Color::Other)).unwrap();
        assert_eq!(kept, Color::Other("blue".into()));
        let err = deserialize_enum(&v, "Color", from_wire, None).unwrap_err();
        assert_eq!(err.to_string(), "invalid value: string \"blue\", expected a string (a value of Color)");
        let err = deserialize_enum(crate::decode::ValueDeserializer(&v), "Color", from_wire, None).unwrap_err();
        assert_eq!(err.kind(), &DecodeErrorKind::InvalidValue { value: "blue".into() });
        assert_eq!(deserialize_enum(&json!("red"), "Color", from_wire, None).unwrap(), Color::Red);
    }

    /// `{ "a": int, "*b": str }`, as a generated impl declares it.
    #[derive(Debug, PartialEq)]
    struct Ab {
        a: i64,
        b: Option<String>,
    }

    #[derive(Default)]
    struct AbSlots(Option<i64>, Option<String>);

    impl<'de> StructBuilder<'de> for AbSlots {
        type Value = Ab;
        const NAME: &'static str = "Ab";
        const FIELDS: &'static [&'static str] = &["a", "b"];
        fn set<D: Deserializer<'de>>(&mut self, index: usize, value: D) -> Result<bool, D::Error> {
            match index {
                0 => put(&mut self.0, value),
                1 => put(&mut self.1, value),
                _ => skip(value),
            }
        }
        fn build<E: de::Error>(self) -> Result<Ab, E> {
            Ok(Ab { a: required(self.0, "a")?, b: self.1 })
        }
    }

    fn ab(text: &str, strict: bool) -> Result<Ab, String> {
        let mut de = serde_json::Deserializer::from_str(text);
        deserialize_struct::<AbSlots, _>(&mut de, strict).map_err(|e| e.to_string())
    }

    #[test]
    fn structs_decode_as_derived() {
        assert_eq!(ab(r#"{"a": 1, "x": [1]}"#, false), Ok(Ab { a: 1, b: None }));
        assert_eq!(ab(r#"{"b": "s", "a": 2}"#, true), Ok(Ab { a: 2, b: Some("s".into()) }));
        // QEMU takes only objects for structs (serde's derive would take this array).
        let err = ab(r#"[3]"#, true).unwrap_err();
        assert!(err.starts_with("invalid type: sequence, expected struct Ab"), "{err}");
        let err = ab(r#"{"a": 1, "x": 2}"#, true).unwrap_err();
        assert!(err.starts_with("unknown field `x`, expected `a` or `b`"), "{err}");
        let err = ab(r#"{"a": 1, "a": 2}"#, false).unwrap_err();
        assert!(err.starts_with("duplicate field `a`"), "{err}");
        let err = ab(r#"{"b": "s"}"#, false).unwrap_err();
        assert!(err.starts_with("missing field `a`"), "{err}");
        // As QEMU, a member the type does not have is reported after the
        // others are read: after a missing one, and after a bad value.
        let err = ab(r#"{"x": 2, "b": "s"}"#, true).unwrap_err();
        assert!(err.starts_with("missing field `a`"), "{err}");
        let err = ab(r#"{"x": 2, "a": "s"}"#, true).unwrap_err();
        assert!(err.starts_with("invalid type: string"), "{err}");
        let err = ab(r#"{"a": 1, "b": null}"#, false).unwrap_err();
        assert!(err.starts_with("invalid type: null"), "{err}");
        let err = ab(r#""a""#, false).unwrap_err();
        assert!(err.starts_with("invalid type: string \"a\", expected struct Ab"), "{err}");
    }

    #[test]
    fn null_is_not_absent() {
        let some: Option<Value> = deserialize_some(&json!(null)).unwrap();
        assert_eq!(some, Some(Value::Null));
        assert!(deserialize_some::<_, String>(&json!(null)).is_err());
    }
}
