//! QMP errors: the classes QEMU uses and the error a command returns.

use crate::types::wire_object;

/// The `class` of a QMP error reply, as QEMU defines them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Anything else; the description says what.
    GenericError,
    /// The requested command does not exist (or is not allowed yet).
    CommandNotFound,
    /// A device exists but has no driver or medium.
    DeviceNotActive,
    /// The named device does not exist.
    DeviceNotFound,
    /// KVM lacks a needed capability.
    KVMMissingCap,
    /// A class this side does not know, kept as received.
    Other(String),
}

impl ErrorClass {
    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorClass::GenericError => "GenericError",
            ErrorClass::CommandNotFound => "CommandNotFound",
            ErrorClass::DeviceNotActive => "DeviceNotActive",
            ErrorClass::DeviceNotFound => "DeviceNotFound",
            ErrorClass::KVMMissingCap => "KVMMissingCap",
            ErrorClass::Other(s) => s,
        }
    }
}

impl ErrorClass {
    /// The class with wire name `name`, if it is one of QEMU's.
    pub fn from_wire(name: &str) -> Option<Self> {
        Some(match name {
            "GenericError" => ErrorClass::GenericError,
            "CommandNotFound" => ErrorClass::CommandNotFound,
            "DeviceNotActive" => ErrorClass::DeviceNotActive,
            "DeviceNotFound" => ErrorClass::DeviceNotFound,
            "KVMMissingCap" => ErrorClass::KVMMissingCap,
            _ => return None,
        })
    }
}

impl crate::serde::Serialize for ErrorClass {
    fn serialize<S: crate::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> crate::serde::Deserialize<'de> for ErrorClass {
    fn deserialize<D: crate::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::types::deserialize_enum(deserializer, "ErrorClass", Self::from_wire, Some(ErrorClass::Other))
    }
}

impl std::fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A QMP error: what a command fails with, and what an `error` reply holds.
///
/// ```
/// let e = qapi_runtime::Error::generic("Parameter 'uri' is missing");
/// assert_eq!(e.to_string(), "GenericError: Parameter 'uri' is missing");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The error class.
    pub class: ErrorClass,
    /// A human-readable description.
    pub desc: String,
}

wire_object!(Error, strict: false, { class: "class" req ErrorClass, desc: "desc" req String });

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.class, self.desc)
    }
}

impl std::error::Error for Error {}

impl Error {
    /// An error of class `class`.
    pub fn new(class: ErrorClass, desc: impl Into<String>) -> Self {
        Error { class, desc: desc.into() }
    }

    /// A `GenericError`.
    pub fn generic(desc: impl Into<String>) -> Self {
        Self::new(ErrorClass::GenericError, desc)
    }

    /// `CommandNotFound` for `name`, worded as QEMU words it.
    pub fn command_not_found(name: &str) -> Self {
        Self::new(ErrorClass::CommandNotFound, format!("The command {name} has not been found"))
    }
}
