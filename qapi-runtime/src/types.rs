//! What the types `qapi-gen` generates call: serializing an object's
//! members into a map, decoding enums, optional members and union
//! branches the way QEMU does.
//!
//! Generated code refers to these through the runtime path it was given
//! (`::qapi_runtime::types::...`); they are public so that it can, and
//! [`ObjectMembers`] is useful on its own: it writes a struct's or union's
//! members into a map that already holds others.

use std::fmt;

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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
            None => Err(E::custom(format_args!("does not accept value '{v}'"))),
        }
    }
}

/// Decodes the members of a union branch that were collected while
/// looking for the discriminator. The error names the path within the
/// branch, worded as [`crate::dispatch::decode`] words it.
pub fn branch_from_members<T: DeserializeOwned, E: de::Error>(members: Map<String, Value>) -> Result<T, E> {
    crate::dispatch::decode(Value::Object(members)).map_err(|e| E::custom(e.desc))
}

/// Checks that a union branch without members got none: in server mode
/// (`strict`) a member is unexpected; a client ignores what it doesn't
/// know.
pub fn no_members<E: de::Error>(members: &Map<String, Value>, strict: bool) -> Result<(), E> {
    match members.keys().next() {
        Some(key) if strict => Err(E::custom(format_args!("Parameter '{key}' is unexpected"))),
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
    *slot = Some(map.next_value()?);
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
    if rest.insert(key.clone(), value).is_some() {
        return Err(de::Error::custom(format_args!("duplicate member '{key}'")));
    }
    Ok(())
}

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
        assert_eq!(err.to_string(), "does not accept value 'blue'");
        assert_eq!(deserialize_enum(&json!("red"), "Color", from_wire, None).unwrap(), Color::Red);
    }

    #[test]
    fn null_is_not_absent() {
        let some: Option<Value> = deserialize_some(&json!(null)).unwrap();
        assert_eq!(some, Some(Value::Null));
        assert!(deserialize_some::<_, String>(&json!(null)).is_err());
    }
}
