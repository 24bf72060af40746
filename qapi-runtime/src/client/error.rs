//! Why a client call failed.

use std::io;

use crate::Error;

/// Why a client call failed.
///
/// ```
/// use qapi_runtime::client::ClientError;
/// use qapi_runtime::{Error, ErrorClass};
/// let e = ClientError::Qmp(Error::command_not_found("nope"));
/// assert_eq!(e.class(), Some(&ErrorClass::CommandNotFound));
/// assert_eq!(e.to_string(), "CommandNotFound: The command nope has not been found");
/// ```
#[derive(Debug)]
pub enum ClientError {
    /// The server answered with an error.
    Qmp(Error),
    /// The connection failed.
    Io(io::Error),
    /// The connection closed before the reply came.
    Closed,
    /// The server said something QMP does not allow.
    Protocol(String),
    /// The arguments could not be encoded.
    Data(serde_json::Error),
    /// The reply (or an event's data) does not decode as its type.
    Decode(crate::decode::DecodeError),
    /// No reply in time (a QEMU guest agent that is not running, or busy).
    Timeout,
}

// Written out rather than derived with thiserror: the runtime builds
// without proc macros, which is most of a cold build of generated code.
impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Qmp(e) => std::fmt::Display::fmt(e, f),
            ClientError::Io(e) => write!(f, "QMP connection: {e}"),
            ClientError::Closed => f.write_str("QMP connection closed"),
            ClientError::Protocol(m) => write!(f, "QMP protocol: {m}"),
            ClientError::Data(e) => write!(f, "QMP data: {e}"),
            ClientError::Decode(e) => write!(f, "QMP reply: {e}"),
            ClientError::Timeout => f.write_str("QMP reply timed out"),
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClientError::Qmp(e) => e.source(),
            ClientError::Io(e) => Some(e),
            ClientError::Data(e) => Some(e),
            ClientError::Decode(e) => Some(e),
            ClientError::Closed | ClientError::Protocol(_) | ClientError::Timeout => None,
        }
    }
}

impl From<Error> for ClientError {
    fn from(e: Error) -> Self {
        ClientError::Qmp(e)
    }
}

impl From<io::Error> for ClientError {
    fn from(e: io::Error) -> Self {
        ClientError::Io(e)
    }
}

impl From<serde_json::Error> for ClientError {
    fn from(e: serde_json::Error) -> Self {
        ClientError::Data(e)
    }
}

impl From<crate::decode::DecodeError> for ClientError {
    fn from(e: crate::decode::DecodeError) -> Self {
        ClientError::Decode(e)
    }
}

impl ClientError {
    /// The error class when the server answered with an error.
    pub fn class(&self) -> Option<&crate::ErrorClass> {
        match self {
            ClientError::Qmp(e) => Some(&e.class),
            _ => None,
        }
    }
}
