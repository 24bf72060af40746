//! Events: formatted once, broadcast to every negotiated client.

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::broadcast;

use crate::stream::{write_json, write_str};
use crate::wire::{EventMessage, Timestamp};
use crate::{Event, NoArguments};

/// Sends events to every client that has completed capabilities
/// negotiation. Cheap to clone; any thread or task may use it.
///
/// ```
/// use qapi_runtime::server::{EventSink, Server, ServerConfig};
/// # use std::sync::Arc;
/// # struct D;
/// # impl qapi_runtime::dispatch::Dispatcher for D {
/// #     fn commands(&self) -> &[qapi_runtime::dispatch::CommandInfo] { &[] }
/// #     fn dispatch(&self, n: &str, _: Option<serde_json::Value>) -> Result<serde_json::Value, qapi_runtime::Error> {
/// #         Err(qapi_runtime::Error::command_not_found(n))
/// #     }
/// # }
/// struct Stop;
/// impl qapi_runtime::Event for Stop {
///     const NAME: &'static str = "STOP";
///     type Data = qapi_runtime::NoArguments;
/// }
/// let server = Server::new(Arc::new(D), ServerConfig::new());
/// let events: EventSink = server.events();
/// // No client yet: nobody receives it.
/// assert_eq!(events.emit::<Stop>(&qapi_runtime::NoArguments {}).unwrap(), 0);
/// ```
#[derive(Clone)]
pub struct EventSink {
    pub(super) tx: broadcast::Sender<Arc<[u8]>>,
}

impl std::fmt::Debug for EventSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSink").field("receivers", &self.tx.receiver_count()).finish()
    }
}

impl EventSink {
    /// Broadcasts `msg`; returns how many clients it was queued for.
    pub fn send(&self, msg: &EventMessage) -> usize {
        let mut line = Vec::with_capacity(128);
        line.extend_from_slice(b"{\"timestamp\": {\"seconds\": ");
        line.extend_from_slice(msg.timestamp.seconds.to_string().as_bytes());
        line.extend_from_slice(b", \"microseconds\": ");
        line.extend_from_slice(msg.timestamp.microseconds.to_string().as_bytes());
        line.extend_from_slice(b"}, \"event\": ");
        write_str(&mut line, &msg.event);
        if let Some(data) = &msg.data {
            line.extend_from_slice(b", \"data\": ");
            write_json(&mut line, data);
        }
        line.extend_from_slice(b"}\r\n");
        self.tx.send(line.into()).unwrap_or(0)
    }

    /// Broadcasts event `name` with `data`, timestamped now.
    pub fn emit_value(&self, name: &str, data: Option<Value>) -> usize {
        self.send(&EventMessage { event: name.to_owned(), data, timestamp: Timestamp::now() })
    }

    /// Broadcasts a typed event, timestamped now. An event whose data type
    /// is [`NoArguments`] goes out without `data`, as QEMU sends it.
    pub fn emit<E: Event>(&self, data: &E::Data) -> Result<usize, serde_json::Error> {
        let data = if std::any::TypeId::of::<E::Data>() == std::any::TypeId::of::<NoArguments>() {
            None
        } else {
            Some(serde_json::to_value(data)?)
        };
        Ok(self.emit_value(E::NAME, data))
    }

    /// How many negotiated clients would receive an event now.
    pub fn receivers(&self) -> usize {
        self.tx.receiver_count()
    }
}
