//! The messages of the QMP wire protocol (QEMU's `docs/interop/qmp-spec`).

use serde_json::Value;

use crate::decode::{from_value, DecodeError};
use crate::types::wire_object;
use crate::Error;

/// The greeting a server sends when a client connects.
#[derive(Debug, Clone, PartialEq)]
pub struct Greeting {
    /// The one member of the greeting object.
    pub qmp: GreetingBody,
}

/// What the greeting says: the server's version and capabilities.
#[derive(Debug, Clone, PartialEq)]
pub struct GreetingBody {
    /// A `VersionInfo` object.
    pub version: Value,
    /// The capabilities a client may enable (`oob`).
    pub capabilities: Vec<String>,
}

wire_object!(Greeting, strict: false, { qmp: "QMP" req GreetingBody });
wire_object!(GreetingBody, strict: false, {
    version: "version" req Value,
    capabilities: "capabilities" req Vec<String>,
});

/// A successful reply.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnReply {
    /// What the command returned.
    pub ret: Value,
    /// The request's `id`, echoed verbatim.
    pub id: Option<Value>,
}

wire_object!(ReturnReply, strict: false, { ret: "return" req Value, id: "id" opt Option<Value> });

/// A failed reply.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorReply {
    /// Why it failed.
    pub error: Error,
    /// The request's `id`, echoed verbatim.
    pub id: Option<Value>,
}

wire_object!(ErrorReply, strict: false, { error: "error" req Error, id: "id" opt Option<Value> });

/// When an event happened: seconds and microseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    /// Whole seconds.
    pub seconds: i64,
    /// Microseconds within the second.
    pub microseconds: i64,
}

wire_object!(Timestamp, strict: false, { seconds: "seconds" req i64, microseconds: "microseconds" req i64 });

impl Timestamp {
    /// The current wall-clock time.
    pub fn now() -> Self {
        let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Timestamp { seconds: d.as_secs() as i64, microseconds: i64::from(d.subsec_micros()) }
    }
}

/// An event message.
#[derive(Debug, Clone, PartialEq)]
pub struct EventMessage {
    /// The event's name.
    pub event: String,
    /// Its data; absent for events without data.
    pub data: Option<Value>,
    /// When it happened.
    pub timestamp: Timestamp,
}

wire_object!(EventMessage, strict: false, {
    event: "event" req String,
    data: "data" opt Option<Value>,
    timestamp: "timestamp" req Timestamp,
});

/// Anything a server sends.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerMessage {
    /// The greeting.
    Greeting(Greeting),
    /// A successful reply.
    Return(ReturnReply),
    /// A failed reply.
    Error(ErrorReply),
    /// An event.
    Event(EventMessage),
}

impl ServerMessage {
    /// Classifies a JSON object a server sent by its distinguishing key.
    pub fn from_value(v: Value) -> Result<Self, DecodeError> {
        let key = |k: &str| v.get(k).is_some();
        if key("return") {
            from_value(&v).map(ServerMessage::Return)
        } else if key("error") {
            from_value(&v).map(ServerMessage::Error)
        } else if key("event") {
            from_value(&v).map(ServerMessage::Event)
        } else {
            from_value(&v).map(ServerMessage::Greeting)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_round_trip() {
        let text =
            r#"{"error":{"class":"CommandNotFound","desc":"The command x has not been found"},"id":[1,{"a":null}]}"#;
        let msg = ServerMessage::from_value(serde_json::from_str(text).unwrap()).unwrap();
        let ServerMessage::Error(e) = msg else { panic!("not an error: {msg:?}") };
        assert_eq!(e.error.class, crate::ErrorClass::CommandNotFound);
        assert_eq!(serde_json::to_string(&e).unwrap(), text);
    }

    #[test]
    fn unknown_error_class_is_kept() {
        let e: Error = serde_json::from_str(r#"{"class":"NewClass","desc":"d"}"#).unwrap();
        assert_eq!(e.class, crate::ErrorClass::Other("NewClass".into()));
        assert_eq!(serde_json::to_string(&e).unwrap(), r#"{"class":"NewClass","desc":"d"}"#);
    }
}
