//! [`DecodeError`]: what went wrong, at which member, and where in the
//! text; QEMU's words made from that structure.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;

use crate::serde::de;

/// The integer types of QAPI, for the words of type and range errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntType {
    /// `int8`
    Int8,
    /// `int16`
    Int16,
    /// `int32`
    Int32,
    /// `int64` (and `int`)
    Int64,
    /// `uint8`
    Uint8,
    /// `uint16`
    Uint16,
    /// `uint32`
    Uint32,
    /// `uint64` (and `size`)
    Uint64,
}

impl IntType {
    /// The QAPI name (`uint8`).
    pub fn name(self) -> &'static str {
        match self {
            IntType::Int8 => "int8",
            IntType::Int16 => "int16",
            IntType::Int32 => "int32",
            IntType::Int64 => "int64",
            IntType::Uint8 => "uint8",
            IntType::Uint16 => "uint16",
            IntType::Uint32 => "uint32",
            IntType::Uint64 => "uint64",
        }
    }

    /// Whether it takes negative numbers.
    pub fn is_signed(self) -> bool {
        matches!(self, IntType::Int8 | IntType::Int16 | IntType::Int32 | IntType::Int64)
    }

    /// What QEMU names the type in a range error: the C type of the
    /// narrower ones (`uint8_t`), the QAPI name of the 64-bit ones.
    fn range_word(self) -> &'static str {
        match self {
            IntType::Int8 => "int8_t",
            IntType::Int16 => "int16_t",
            IntType::Int32 => "int32_t",
            IntType::Uint8 => "uint8_t",
            IntType::Uint16 => "uint16_t",
            IntType::Uint32 => "uint32_t",
            IntType::Int64 | IntType::Uint64 => self.name(),
        }
    }
}

/// What a value of the wrong JSON type was expected to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// A JSON object (a struct or union).
    Object,
    /// A JSON array (a list).
    Array,
    /// A string (`str`, an enum).
    String,
    /// `true` or `false`.
    Boolean,
    /// Any number (`number`).
    Number,
    /// `null`.
    Null,
    /// An integer of this type.
    Integer(IntType),
    /// A value of the type named so, which has no branch for the JSON
    /// type given: an alternate.
    Named(Cow<'static, str>),
}

/// What went wrong; [`DecodeError::path`] says at which member.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// A mandatory member is absent (the path ends in it).
    MissingMember,
    /// A member the type does not have (server mode; the path ends in it).
    UnknownMember,
    /// A member given twice.
    DuplicateMember,
    /// A value of another JSON type.
    InvalidType {
        /// What was wanted.
        expected: Expected,
    },
    /// An integer outside its type's range.
    OutOfRange {
        /// The member's type.
        ty: IntType,
    },
    /// A string that is not among the values of an enum (a union's
    /// discriminator included).
    InvalidValue {
        /// The string given.
        value: String,
    },
    /// The text is not JSON.
    Syntax {
        /// What is wrong with it.
        message: String,
    },
    /// Anything else, in the words of whoever found it.
    Custom {
        /// The words.
        message: String,
    },
}

/// One step of a member path: a member's name or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A member of an object.
    Member(Cow<'static, str>),
    /// An element of a list.
    Index(usize),
}

/// Why decoding a value failed: what ([`DecodeErrorKind`]), at which
/// member ([`path`](Self::path)) and, when decoded from text, where in it
/// ([`position`](Self::position)). Every decoding path returns it: the
/// serde impls through [`crate::decode::from_value`] (the server's
/// arguments, the client's replies and events) and the JSON codec
/// ([`crate::json`]). Its [`message`](Self::message) is what QEMU says
/// for the same fault.
///
/// ```
/// use qapi_runtime::decode::{DecodeError, DecodeErrorKind, IntType, Segment};
///
/// let e = DecodeError::new(DecodeErrorKind::OutOfRange { ty: IntType::Uint8 })
///     .within(Segment::Member("level".into()))
///     .within(Segment::Index(2))
///     .within(Segment::Member("steps".into()));
/// assert_eq!(e.path(), "steps[2].level");
/// // QEMU names only the member itself in range errors.
/// assert_eq!(e.message(), "Parameter 'level' expects uint8_t");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(Box<Inner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Inner {
    kind: DecodeErrorKind,
    /// From the innermost segment out: segments are added as the error
    /// travels up.
    path: Vec<Segment>,
    position: Option<(usize, usize)>,
}

impl DecodeError {
    /// An error of `kind` at the value itself (an empty path).
    pub fn new(kind: DecodeErrorKind) -> Self {
        DecodeError(Box::new(Inner { kind, path: Vec::new(), position: None }))
    }

    /// The error for member `name` of the object being decoded.
    pub fn at_member(kind: DecodeErrorKind, name: impl Into<Cow<'static, str>>) -> Self {
        Self::new(kind).within(Segment::Member(name.into()))
    }

    /// The same error one level further out: `segment` is where the
    /// value at fault sits in its container.
    #[must_use]
    pub fn within(mut self, segment: Segment) -> Self {
        self.0.path.push(segment);
        self
    }

    /// The error with the 1-based line and column (in characters) of the
    /// text where it was found.
    #[must_use]
    pub fn at_position(mut self, line: usize, column: usize) -> Self {
        self.0.position = Some((line, column));
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &DecodeErrorKind {
        &self.0.kind
    }

    /// The path's segments, outermost first.
    pub fn segments(&self) -> impl Iterator<Item = &Segment> {
        self.0.path.iter().rev()
    }

    /// The path of the member at fault as QEMU writes it, `a.b[2].c`
    /// (empty for the value itself).
    pub fn path(&self) -> String {
        let mut s = String::new();
        for seg in self.segments() {
            match seg {
                Segment::Member(m) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(m);
                }
                Segment::Index(i) => {
                    s.push('[');
                    s.push_str(itoa::Buffer::new().format(*i));
                    s.push(']');
                }
            }
        }
        s
    }

    /// The 1-based line and column (in characters) in the decoded text,
    /// when it was decoded from text.
    pub fn position(&self) -> Option<(usize, usize)> {
        self.0.position
    }

    /// Whether the input was not JSON at all (rather than JSON that does
    /// not fit the type).
    pub fn is_syntax(&self) -> bool {
        matches!(self.0.kind, DecodeErrorKind::Syntax { .. })
    }

    /// The name QEMU gives the value at fault in the errors it words
    /// with the member's own name rather than its path: the member's
    /// name, `null` for a list element.
    fn local_name(&self) -> &str {
        match self.0.path.first() {
            Some(Segment::Member(m)) => m,
            Some(Segment::Index(_)) | None => "null",
        }
    }

    /// What QEMU says for this fault, without the position.
    pub fn message(&self) -> String {
        use DecodeErrorKind as K;
        let path = self.path();
        match &self.0.kind {
            K::MissingMember => format!("Parameter '{path}' is missing"),
            K::UnknownMember => format!("Parameter '{path}' is unexpected"),
            K::DuplicateMember => format!("Parameter '{path}' is given twice"),
            K::InvalidType { expected: Expected::Named(name) } => {
                format!("Invalid parameter type for '{}', expected: {name}", self.local_name())
            }
            K::InvalidType { expected } if path.is_empty() => {
                format!("Invalid JSON type, expected: {}", json_type(expected))
            }
            // QEMU reads every unsigned type as a uint64 first.
            K::InvalidType { expected: Expected::Integer(ty) } if !ty.is_signed() => {
                format!("Parameter '{path}' expects uint64")
            }
            K::InvalidType { expected } => {
                format!("Invalid parameter type for '{path}', expected: {}", json_type(expected))
            }
            K::OutOfRange { ty } => format!("Parameter '{}' expects {}", self.local_name(), ty.range_word()),
            K::InvalidValue { value } => {
                format!("Parameter '{}' does not accept value '{value}'", self.local_name())
            }
            K::Syntax { message } => format!("JSON parse error: {message}"),
            K::Custom { message } if path.is_empty() => message.clone(),
            K::Custom { message } => format!("Parameter '{path}': {message}"),
        }
    }
}

/// The JSON type QEMU names for `expected` in a type error.
fn json_type(expected: &Expected) -> &str {
    match expected {
        Expected::Object => "object",
        Expected::Array => "array",
        Expected::String => "string",
        Expected::Boolean => "boolean",
        Expected::Number => "number",
        Expected::Null => "null",
        Expected::Integer(_) => "integer",
        Expected::Named(name) => name,
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())?;
        match self.0.position {
            Some((line, column)) => write!(f, " at line {line} column {column}"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for DecodeError {}

impl From<DecodeError> for crate::Error {
    /// A `GenericError` in QEMU's words, as QEMU answers bad arguments.
    fn from(e: DecodeError) -> Self {
        crate::Error::generic(e.message())
    }
}

/// What serde's derive and the generated impls call on errors, mapped to
/// kinds: `missing_field`, `unknown_field`, `duplicate_field`,
/// `invalid_value` of a string and `unknown_variant` (an enum value), and
/// `invalid_type` keep their structure; `custom` keeps the words, or the
/// structure of an error that the runtime carried through an impl generic
/// over the error type.
impl de::Error for DecodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        CARRIED.with(|c| c.borrow_mut().take());
        let message = msg.to_string();
        match CARRIED.with(|c| c.borrow_mut().take()) {
            Some(carried) => carried,
            None => DecodeError::new(DecodeErrorKind::Custom { message }),
        }
    }

    fn invalid_type(_unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        // The decoder words type errors of its own; a visitor refusing a
        // value it was given is an alternate without a branch for it.
        DecodeError::new(DecodeErrorKind::InvalidType { expected: Expected::Named(alternate_name(exp).into()) })
    }

    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        match unexp {
            // What an enum's visitor says of a string that is none of its values.
            de::Unexpected::Str(value) => DecodeError::new(DecodeErrorKind::InvalidValue { value: value.to_owned() }),
            _ => {
                DecodeError::new(DecodeErrorKind::Custom { message: format!("invalid value: {unexp}, expected {exp}") })
            }
        }
    }

    fn unknown_variant(variant: &str, _expected: &'static [&'static str]) -> Self {
        DecodeError::new(DecodeErrorKind::InvalidValue { value: variant.to_owned() })
    }

    fn unknown_field(field: &str, _expected: &'static [&'static str]) -> Self {
        DecodeError::at_member(DecodeErrorKind::UnknownMember, field.to_owned())
    }

    fn missing_field(field: &'static str) -> Self {
        DecodeError::at_member(DecodeErrorKind::MissingMember, field)
    }

    fn duplicate_field(field: &'static str) -> Self {
        DecodeError::at_member(DecodeErrorKind::DuplicateMember, field)
    }
}

/// The name of the alternate whose visitor refused a value: what the
/// visitor says it expects. Generated code says `a value of alternate
/// NAME` there; the prefix is dropped, and a visitor that says just the
/// name is taken at its word.
fn alternate_name(exp: &dyn de::Expected) -> String {
    let text = exp.to_string();
    match text.strip_prefix("a value of alternate ") {
        Some(name) => name.to_owned(),
        None => text,
    }
}

thread_local! {
    /// The structured error a [`Carried`] being formatted hands to
    /// [`DecodeError`]'s `custom`: the one way through an impl that is
    /// generic over the error type (`E: de::Error`) and so can build it
    /// only from words.
    static CARRIED: RefCell<Option<DecodeError>> = const { RefCell::new(None) };
}

/// A [`DecodeError`] on its way through `E::custom`: displays as its
/// words, and leaves the error itself for `DecodeError::custom`, which
/// formats it at once.
struct Carried(DecodeError);

impl fmt::Display for Carried {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        CARRIED.with(|c| *c.borrow_mut() = Some(self.0.clone()));
        f.write_str(&self.0.message())
    }
}

/// `err` as an error of any serde error type `E`: itself when `E` is
/// [`DecodeError`], its words otherwise. For the runtime's helpers that
/// generated impls call with their own error type.
pub(crate) fn raise<E: de::Error>(err: DecodeError) -> E {
    E::custom(Carried(err))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serde::de::Error as _;

    #[test]
    fn words_follow_qemu() {
        let at = |kind, path: &[Segment]| {
            path.iter().rev().fold(DecodeError::new(kind), |e, s| e.within(s.clone())).message()
        };
        let m = |s: &str| Segment::Member(s.to_owned().into());
        let deep = [m("a"), Segment::Index(0), m("b")];
        let in_list = [m("a"), Segment::Index(3)];
        let ty = |expected| DecodeErrorKind::InvalidType { expected };
        assert_eq!(at(DecodeErrorKind::MissingMember, &deep), "Parameter 'a[0].b' is missing");
        assert_eq!(
            at(ty(Expected::Integer(IntType::Int16)), &deep),
            "Invalid parameter type for 'a[0].b', expected: integer"
        );
        assert_eq!(at(ty(Expected::Integer(IntType::Uint8)), &deep), "Parameter 'a[0].b' expects uint64");
        assert_eq!(
            at(ty(Expected::Named("StrOrNull".into())), &deep),
            "Invalid parameter type for 'b', expected: StrOrNull"
        );
        assert_eq!(
            at(ty(Expected::Named("StrOrNull".into())), &in_list),
            "Invalid parameter type for 'null', expected: StrOrNull"
        );
        assert_eq!(at(DecodeErrorKind::OutOfRange { ty: IntType::Int32 }, &deep), "Parameter 'b' expects int32_t");
        assert_eq!(
            at(DecodeErrorKind::OutOfRange { ty: IntType::Uint16 }, &in_list),
            "Parameter 'null' expects uint16_t"
        );
        assert_eq!(
            at(DecodeErrorKind::InvalidValue { value: "x".into() }, &deep),
            "Parameter 'b' does not accept value 'x'"
        );
        assert_eq!(at(ty(Expected::Array), &[]), "Invalid JSON type, expected: array");
    }

    #[test]
    fn custom_recovers_a_carried_error_and_only_that() {
        let inner = DecodeError::at_member(DecodeErrorKind::MissingMember, "port");
        assert_eq!(raise::<DecodeError>(inner.clone()), inner);
        // Another error type gets the words.
        assert_eq!(raise::<serde_json::Error>(inner.clone()).to_string(), "Parameter 'port' is missing");
        // What that left behind is not taken for the next message.
        let plain = DecodeError::custom("no such thing");
        assert_eq!(plain.kind(), &DecodeErrorKind::Custom { message: "no such thing".into() });
    }
}
