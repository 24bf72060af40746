//! An async QMP client on tokio, for QEMU or any server that speaks QMP.
//!
//! [`Client`] connects over a unix socket, TCP or any byte stream, reads
//! the greeting, negotiates capabilities, and then runs commands: typed
//! ([`Client::execute`] for any [`Command`] generated from a schema) or
//! untyped ([`Client::execute_value`]). Any number of commands may be in
//! flight at once from any number of tasks; replies are matched to
//! requests by `id`. Events are queued from the moment negotiation ends,
//! whatever else is going on (a command in flight, nobody reading), so
//! none is ever lost; read them with [`Client::next_event`]. An error
//! reply is a typed value: [`ClientError::Qmp`] holding the server's
//! [`Error`] with its [`ErrorClass`](crate::ErrorClass).
//!
//! ```no_run
//! use qapi_runtime::client::Client;
//! use qapi_runtime::{Command, CommandFlags, NoArguments};
//!
//! struct QueryStatus;
//! impl Command for QueryStatus {
//!     const NAME: &'static str = "query-status";
//!     const FLAGS: CommandFlags = CommandFlags::DEFAULT;
//!     type Arguments = NoArguments;
//!     type Returns = serde_json::Value;
//! }
//!
//! # async fn run() -> Result<(), qapi_runtime::client::ClientError> {
//! let client = Client::connect_unix("/run/qemu/qmp.sock").await?;
//! println!("QEMU {}", client.greeting().qmp.version["qemu"]["major"]);
//! let status = client.execute::<QueryStatus>(&NoArguments {}).await?;
//! println!("{status}");
//! while let Some(event) = client.next_event().await {
//!     println!("{} at {}", event.event, event.timestamp.seconds);
//! }
//! # Ok(())
//! # }
//! ```

mod blocking;
mod error;
pub mod qga;
mod reader;

use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

use crate::stream::{JsonStream, Limits};
use crate::wire::{EventMessage, Greeting};
use crate::{Command, Error, Event};
use reader::{read_loop, Pending, Shared};

pub use blocking::BlockingClient;
pub use error::ClientError;
pub use qga::{BlockingQgaClient, QgaClient};

/// How a [`Client`] connects.
///
/// ```
/// let b = qapi_runtime::client::Client::builder().oob(true).negotiate(true);
/// # let _ = b;
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ClientBuilder {
    oob: bool,
    negotiate: bool,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder { oob: false, negotiate: true }
    }
}

impl ClientBuilder {
    /// Enables the `oob` capability when the server offers it (off by
    /// default).
    pub fn oob(mut self, oob: bool) -> Self {
        self.oob = oob;
        self
    }

    /// Whether to run `qmp_capabilities` on connecting (on by default;
    /// off for a QEMU guest agent).
    pub fn negotiate(mut self, negotiate: bool) -> Self {
        self.negotiate = negotiate;
        self
    }

    /// Connects to a unix socket.
    pub async fn connect_unix(self, path: impl AsRef<Path>) -> Result<Client, ClientError> {
        let stream = tokio::net::UnixStream::connect(path).await?;
        self.connect(stream).await
    }

    /// Connects over TCP.
    pub async fn connect_tcp(self, addr: SocketAddr) -> Result<Client, ClientError> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        self.connect(stream).await
    }

    /// Talks QMP over any byte stream.
    pub async fn connect<S>(self, stream: S) -> Result<Client, ClientError>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (mut rd, wr) = tokio::io::split(stream);
        let mut reader = JsonStream::new(Limits::default());
        let mut msgs = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        while msgs.is_empty() {
            let n = rd.read(&mut buf).await?;
            if n == 0 {
                return Err(ClientError::Closed);
            }
            reader.feed(&buf[..n], &mut msgs);
        }
        let mut msgs: VecDeque<_> = msgs.into();
        let first = msgs.pop_front().ok_or(ClientError::Closed)?;
        let first = first.map_err(|e| ClientError::Protocol(format!("bad greeting: {}", e.desc)))?;
        let greeting: Greeting =
            serde_json::from_value(first).map_err(|e| ClientError::Protocol(format!("bad greeting: {e}")))?;
        let (event_tx, event_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending::default()),
            events: Mutex::new(None),
            next_id: AtomicU64::new(0),
        });
        let task = tokio::spawn(read_loop(rd, reader, buf, msgs, shared.clone()));
        let client = Client {
            greeting,
            shared,
            writer: tokio::sync::Mutex::new(Box::new(wr)),
            events: tokio::sync::Mutex::new(event_rx),
            task,
        };
        if self.negotiate {
            let mut args = serde_json::Map::new();
            if self.oob && client.greeting.qmp.capabilities.iter().any(|c| c == "oob") {
                args.insert("enable".into(), serde_json::json!(["oob"]));
            }
            // Events count from here: QMP sends none before negotiation.
            client.set_event_sink(event_tx);
            client.execute_value("qmp_capabilities", Some(Value::Object(args))).await?;
        } else {
            client.set_event_sink(event_tx);
        }
        Ok(client)
    }
}

type Writer = Box<dyn AsyncWrite + Send + Unpin>;

/// A connected, negotiated QMP client. See the [module documentation](self).
///
/// ```no_run
/// # async fn run() -> Result<(), qapi_runtime::client::ClientError> {
/// use qapi_runtime::client::Client;
/// let client = Client::builder().oob(true).connect_tcp("127.0.0.1:4444".parse().unwrap()).await?;
/// match client.execute_value("no-such-command", None).await {
///     Err(e) => assert_eq!(e.class(), Some(&qapi_runtime::ErrorClass::CommandNotFound)),
///     Ok(_) => unreachable!(),
/// }
/// let version = client.execute_value("query-version", None).await?;
/// # let _ = version;
/// # Ok(())
/// # }
/// ```
pub struct Client {
    greeting: Greeting,
    shared: Arc<Shared>,
    writer: tokio::sync::Mutex<Writer>,
    events: tokio::sync::Mutex<mpsc::UnboundedReceiver<EventMessage>>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("greeting", &self.greeting).finish()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Client {
    /// How to connect, with options.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Connects to a unix socket and negotiates (without `oob`).
    pub async fn connect_unix(path: impl AsRef<Path>) -> Result<Client, ClientError> {
        ClientBuilder::default().connect_unix(path).await
    }

    /// Connects over TCP and negotiates (without `oob`).
    pub async fn connect_tcp(addr: SocketAddr) -> Result<Client, ClientError> {
        ClientBuilder::default().connect_tcp(addr).await
    }

    /// The server's greeting.
    pub fn greeting(&self) -> &Greeting {
        &self.greeting
    }

    fn set_event_sink(&self, tx: mpsc::UnboundedSender<EventMessage>) {
        if let Ok(mut events) = self.shared.events.lock() {
            *events = Some(tx);
        }
    }

    /// Runs command `C` and decodes what it returns. A command whose
    /// schema says `'success-response': false` is sent and not waited for.
    /// The arguments are encoded at once, so the future does not borrow
    /// them and is `Send` (code generated from a schema has a method per
    /// command for this: see [`Execute`](crate::Execute)).
    pub fn execute<C: Command>(
        &self,
        arguments: &C::Arguments,
    ) -> impl Future<Output = Result<C::Returns, ClientError>> + Send + '_ {
        let args = arguments_value(arguments);
        async move {
            let args = args?;
            if !C::FLAGS.success_response {
                self.send(C::NAME, args, false, None).await?;
                return no_reply();
            }
            let ret = self.execute_value(C::NAME, args).await?;
            decode_return(ret)
        }
    }

    /// Runs command `C` out of band (`exec-oob`; needs the `oob`
    /// capability, see [`ClientBuilder::oob`]).
    pub fn execute_oob<C: Command>(
        &self,
        arguments: &C::Arguments,
    ) -> impl Future<Output = Result<C::Returns, ClientError>> + Send + '_ {
        let args = serde_json::to_value(arguments);
        async move {
            let ret = self.call(C::NAME, Some(args?), true).await?;
            decode_return(ret)
        }
    }

    /// Runs command `name` with `arguments` (an object, or `None`) and
    /// returns what it returned.
    pub async fn execute_value(&self, name: &str, arguments: Option<Value>) -> Result<Value, ClientError> {
        self.call(name, arguments, false).await
    }

    async fn call(&self, name: &str, arguments: Option<Value>, oob: bool) -> Result<Value, ClientError> {
        let (tx, rx) = oneshot::channel();
        self.send(name, arguments, oob, Some(tx)).await?;
        match rx.await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(ClientError::Qmp(e)),
            Err(_) => Err(ClientError::Closed),
        }
    }

    async fn send(
        &self,
        name: &str,
        arguments: Option<Value>,
        oob: bool,
        reply: Option<oneshot::Sender<Result<Value, Error>>>,
    ) -> Result<(), ClientError> {
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let mut req = serde_json::Map::new();
        req.insert((if oob { "exec-oob" } else { "execute" }).into(), Value::String(name.to_owned()));
        if let Some(args) = arguments {
            req.insert("arguments".into(), args);
        }
        req.insert("id".into(), Value::from(id));
        let mut line = serde_json::to_vec(&req)?;
        line.push(b'\n');
        if let Some(reply) = reply {
            let mut p = self.shared.pending.lock().map_err(|_| ClientError::Closed)?;
            if p.closed {
                return Err(ClientError::Closed);
            }
            p.waiting.insert(id, reply);
            p.order.push_back(id);
        }
        let mut wr = self.writer.lock().await;
        let written = async {
            wr.write_all(&line).await?;
            wr.flush().await
        }
        .await;
        if let Err(e) = written {
            if let Ok(mut p) = self.shared.pending.lock() {
                p.waiting.remove(&id);
            }
            return Err(ClientError::Io(e));
        }
        Ok(())
    }

    /// The next event, waiting for one; `None` once the connection has
    /// closed and every event received has been read.
    pub async fn next_event(&self) -> Option<EventMessage> {
        self.events.lock().await.recv().await
    }

    /// The next event if one has arrived, without waiting.
    pub fn try_next_event(&self) -> Option<EventMessage> {
        self.events.try_lock().ok()?.try_recv().ok()
    }

    /// Closes the connection (pending calls fail with
    /// [`ClientError::Closed`]).
    pub async fn close(self) -> Result<(), ClientError> {
        let mut wr = self.writer.lock().await;
        wr.shutdown().await?;
        Ok(())
    }
}

impl crate::Execute for Client {
    type Error = ClientError;

    fn execute<C: Command>(
        &self,
        arguments: &C::Arguments,
    ) -> impl Future<Output = Result<C::Returns, ClientError>> + Send {
        Client::execute::<C>(self, arguments)
    }
}

/// Decodes an event's data as event `E`'s, if the event is `E`.
///
/// ```
/// use qapi_runtime::client::event_data;
/// use qapi_runtime::wire::{EventMessage, Timestamp};
/// struct Shutdown;
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct ShutdownData { guest: bool }
/// impl qapi_runtime::Event for Shutdown {
///     const NAME: &'static str = "SHUTDOWN";
///     type Data = ShutdownData;
/// }
/// let msg = EventMessage {
///     event: "SHUTDOWN".into(),
///     data: Some(serde_json::json!({"guest": true})),
///     timestamp: Timestamp { seconds: 1, microseconds: 2 },
/// };
/// assert!(event_data::<Shutdown>(&msg).unwrap().unwrap().guest);
/// ```
pub fn event_data<E: Event>(msg: &EventMessage) -> Option<Result<E::Data, crate::decode::DecodeError>> {
    if msg.event != E::NAME {
        return None;
    }
    Some(match &msg.data {
        Some(data) => crate::decode::from_value(data),
        None => crate::decode::from_value(&Value::Object(Default::default())),
    })
}

/// A command's arguments as they go on the wire: none for an empty object.
fn arguments_value(arguments: &impl crate::serde::Serialize) -> Result<Option<Value>, ClientError> {
    Ok(match serde_json::to_value(arguments)? {
        Value::Object(m) if m.is_empty() => None,
        other => Some(other),
    })
}

/// What a command that sends no reply on success "returns": an empty
/// object, decoded.
fn no_reply<T: DeserializeOwned>() -> Result<T, ClientError> {
    decode_return(Value::Object(Default::default()))
}

/// Decodes a JSON value as `T`, the way [`Client::execute`] decodes
/// returns; handy with [`Client::execute_value`].
///
/// ```
/// let v: Vec<u8> = qapi_runtime::client::decode_return(serde_json::json!([1, 2])).unwrap();
/// assert_eq!(v, [1, 2]);
/// ```
pub fn decode_return<T: DeserializeOwned>(value: Value) -> Result<T, ClientError> {
    Ok(crate::decode::from_value(&value)?)
}
