//! A client for the QEMU Guest Agent (`qemu-ga`), async and blocking.
//!
//! The agent speaks QMP's JSON without its session: no greeting, no
//! capability negotiation, no events, one request at a time. Its channel
//! (a virtio-serial port, or a socket in tests) may hold anything when a
//! client arrives: a half-read request from an earlier client, replies
//! nobody read. So the client synchronizes first, with
//! `guest-sync-delimited`: it sends a `0xFF` byte, which resets the
//! agent's JSON parser, then the command with a random id; the agent puts
//! a `0xFF` byte before its reply, so the client drops everything it
//! receives up to that byte and then reads the reply, which must carry
//! the same id. After a timeout or output it cannot read, the client
//! synchronizes again before its next command.
//!
//! ```no_run
//! use qapi_runtime::client::QgaClient;
//! use qapi_runtime::{Command, CommandFlags, Empty, NoArguments};
//!
//! struct GuestPing;
//! impl Command for GuestPing {
//!     const NAME: &'static str = "guest-ping";
//!     const FLAGS: CommandFlags = CommandFlags::DEFAULT;
//!     type Arguments = NoArguments;
//!     type Returns = Empty;
//! }
//!
//! # async fn run() -> Result<(), qapi_runtime::client::ClientError> {
//! let agent = QgaClient::connect_unix("/run/qga.sock").await?;
//! agent.execute::<GuestPing>(&NoArguments {}).await?;
//! let info = agent.execute_value("guest-info", None).await?;
//! println!("agent {}", info["version"]);
//! # Ok(())
//! # }
//! ```

use std::collections::VecDeque;
use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use super::blocking::runtime;
use super::{arguments_value, decode_return, no_reply, ClientError};
use crate::stream::{JsonStream, Limits};
use crate::{Command, Error};

/// How long a command may take by default before the client gives up on
/// it (and synchronizes again before the next one).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The byte that delimits a `guest-sync-delimited` reply and resets the
/// agent's parser.
const DELIMITER: u8 = 0xFF;

type Reader = Box<dyn AsyncRead + Send + Unpin>;
type Writer = Box<dyn AsyncWrite + Send + Unpin>;

/// How a [`QgaClient`] connects.
///
/// ```
/// let b = qapi_runtime::client::QgaClient::builder().timeout(std::time::Duration::from_secs(5));
/// # let _ = b;
/// ```
#[derive(Debug, Clone, Copy)]
pub struct QgaBuilder {
    timeout: Duration,
}

impl QgaBuilder {
    /// How long a command (and a synchronization) may take
    /// ([`DEFAULT_TIMEOUT`] by default).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Connects to an agent listening on a unix socket and synchronizes.
    ///
    /// The agent serves one client at a time, with a backlog of one: while
    /// it still tears down the previous client, a connect fails with
    /// `EAGAIN`. That is retried until the timeout.
    pub async fn connect_unix(self, path: impl AsRef<Path>) -> Result<QgaClient, ClientError> {
        let deadline = Instant::now() + self.timeout;
        let stream = loop {
            match tokio::net::UnixStream::connect(path.as_ref()).await {
                Ok(s) => break s,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                    tracing::debug!(path = %path.as_ref().display(), "guest agent busy; connecting again");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Err(e) => return Err(e.into()),
            }
        };
        self.connect(stream).await
    }

    /// Talks to an agent over any byte stream (a virtio-serial port
    /// opened by the host, a socket) and synchronizes.
    pub async fn connect<S>(self, stream: S) -> Result<QgaClient, ClientError>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (rd, wr) = tokio::io::split(stream);
        let mut channel = Channel {
            rd: Box::new(rd),
            wr: Box::new(wr),
            reader: JsonStream::new(Limits::default()),
            buf: vec![0u8; 64 << 10],
            received: VecDeque::new(),
            synced: false,
            awaiting_delimiter: false,
            next_id: 0,
        };
        channel.sync(self.timeout).await?;
        Ok(QgaClient { channel: tokio::sync::Mutex::new(channel), timeout: self.timeout })
    }
}

/// A connection to a QEMU Guest Agent. See the [module documentation](self).
pub struct QgaClient {
    channel: tokio::sync::Mutex<Channel>,
    timeout: Duration,
}

impl std::fmt::Debug for QgaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QgaClient").field("timeout", &self.timeout).finish()
    }
}

impl QgaClient {
    /// How to connect, with options.
    pub fn builder() -> QgaBuilder {
        QgaBuilder { timeout: DEFAULT_TIMEOUT }
    }

    /// Connects to an agent listening on a unix socket and synchronizes.
    pub async fn connect_unix(path: impl AsRef<Path>) -> Result<QgaClient, ClientError> {
        Self::builder().connect_unix(path).await
    }

    /// Synchronizes with the agent now (the client does it by itself
    /// when it connects, and after a timeout or unreadable output).
    pub async fn sync(&self) -> Result<(), ClientError> {
        self.channel.lock().await.sync(self.timeout).await
    }

    /// Runs command `C` and decodes what it returns. A command whose
    /// schema says `'success-response': false` (`guest-shutdown`) is sent
    /// and not waited for. The arguments are encoded at once: the future
    /// does not borrow them, and is `Send`.
    pub fn execute<C: Command>(
        &self,
        arguments: &C::Arguments,
    ) -> impl Future<Output = Result<C::Returns, ClientError>> + Send + '_ {
        let args = arguments_value(arguments);
        async move {
            let args = args?;
            let mut channel = self.channel.lock().await;
            if !C::FLAGS.success_response {
                channel.request(C::NAME, args, self.timeout).await?;
                return no_reply();
            }
            let ret = channel.call(C::NAME, args, self.timeout).await?;
            decode_return(ret)
        }
    }

    /// Runs command `name` with `arguments` (an object, or `None`) and
    /// returns what it returned.
    pub async fn execute_value(&self, name: &str, arguments: Option<Value>) -> Result<Value, ClientError> {
        self.channel.lock().await.call(name, arguments, self.timeout).await
    }

    /// Sends raw bytes to the agent, as they are (to test how it and this
    /// client recover from garbage). The client synchronizes again before
    /// its next command.
    pub async fn send_raw(&self, bytes: &[u8]) -> Result<(), ClientError> {
        let mut channel = self.channel.lock().await;
        channel.synced = false;
        channel.write(bytes).await
    }
}

impl crate::Execute for QgaClient {
    type Error = ClientError;

    fn execute<C: Command>(
        &self,
        arguments: &C::Arguments,
    ) -> impl Future<Output = Result<C::Returns, ClientError>> + Send {
        QgaClient::execute::<C>(self, arguments)
    }
}

/// The byte stream to the agent and what has been read from it.
struct Channel {
    rd: Reader,
    wr: Writer,
    reader: JsonStream,
    buf: Vec<u8>,
    /// Values read and not yet looked at.
    received: VecDeque<Result<Value, Error>>,
    /// Whether the last synchronization holds (nothing went wrong since).
    synced: bool,
    /// Synchronizing: what comes before the next delimiter is dropped.
    awaiting_delimiter: bool,
    next_id: u64,
}

impl Channel {
    /// `guest-sync-delimited` with a random id: see the module
    /// documentation. Replies to earlier synchronizations (each after its
    /// own delimiter) are skipped.
    async fn sync(&mut self, timeout: Duration) -> Result<(), ClientError> {
        let id = RandomState::new().hash_one(self.next_id) >> 11; // a JSON-safe integer
        self.synced = false;
        self.received.clear();
        self.awaiting_delimiter = true;
        let mut line = vec![DELIMITER];
        line.extend(serde_json::to_vec(&json!({"execute": "guest-sync-delimited", "arguments": {"id": id}}))?);
        line.push(b'\n');
        self.write(&line).await?;
        let deadline = Instant::now() + timeout;
        loop {
            match self.next_value(deadline).await? {
                Ok(v) if v.get("return").and_then(Value::as_u64) == Some(id) => break,
                other => tracing::debug!(?other, "QGA: skipped while synchronizing"),
            }
        }
        self.awaiting_delimiter = false;
        self.synced = true;
        tracing::debug!(id, "QGA: synchronized");
        Ok(())
    }

    /// Sends a request (synchronizing first when needed); returns its id.
    async fn request(&mut self, name: &str, args: Option<Value>, timeout: Duration) -> Result<u64, ClientError> {
        if !self.synced {
            self.sync(timeout).await?;
        }
        self.next_id += 1;
        let id = self.next_id;
        let mut req = serde_json::Map::new();
        req.insert("execute".into(), Value::String(name.to_owned()));
        if let Some(args) = args {
            req.insert("arguments".into(), args);
        }
        req.insert("id".into(), Value::from(id));
        let mut line = serde_json::to_vec(&req)?;
        line.push(b'\n');
        self.write(&line).await?;
        Ok(id)
    }

    /// Sends a request and waits for the reply that carries its id
    /// (skipping stale ones); out of sync after a timeout.
    async fn call(&mut self, name: &str, args: Option<Value>, timeout: Duration) -> Result<Value, ClientError> {
        let id = self.request(name, args, timeout).await?;
        let deadline = Instant::now() + timeout;
        loop {
            let value = match self.next_value(deadline).await {
                Ok(Ok(v)) => v,
                Ok(Err(e)) => {
                    tracing::warn!(desc = %e.desc, "QGA: agent sent bad JSON; skipped");
                    continue;
                }
                Err(e) => {
                    self.synced = false;
                    return Err(e);
                }
            };
            if value.get("id").and_then(Value::as_u64) != Some(id) {
                tracing::debug!(%value, "QGA: reply to another request; skipped");
                continue;
            }
            return match crate::wire::ServerMessage::from_value(value)? {
                crate::wire::ServerMessage::Return(r) => Ok(r.ret),
                crate::wire::ServerMessage::Error(e) => Err(ClientError::Qmp(e.error)),
                other => Err(ClientError::Protocol(format!("not a reply: {other:?}"))),
            };
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        let written = async {
            self.wr.write_all(bytes).await?;
            self.wr.flush().await
        };
        written.await.map_err(|e| {
            self.synced = false;
            ClientError::Io(e)
        })
    }

    /// The next value the agent sent, waiting until `deadline`. While
    /// synchronizing, input up to a delimiter is dropped, and each
    /// delimiter starts the reading afresh.
    async fn next_value(&mut self, deadline: Instant) -> Result<Result<Value, Error>, ClientError> {
        loop {
            if let Some(v) = self.received.pop_front() {
                return Ok(v);
            }
            let n = match tokio::time::timeout_at(deadline, self.rd.read(&mut self.buf)).await {
                Err(_) => return Err(ClientError::Timeout),
                Ok(Ok(0)) => return Err(ClientError::Closed),
                Ok(Ok(n)) => n,
                Ok(Err(e)) => return Err(ClientError::Io(e)),
            };
            let mut start = 0;
            if self.awaiting_delimiter || !self.synced {
                match self.buf[..n].iter().rposition(|&b| b == DELIMITER) {
                    Some(at) => {
                        self.reader = JsonStream::new(Limits::default());
                        self.received.clear();
                        self.awaiting_delimiter = false;
                        start = at + 1;
                    }
                    None if self.awaiting_delimiter => continue,
                    None => {}
                }
            }
            let mut got = Vec::new();
            self.reader.feed(&self.buf[start..n], &mut got);
            self.received.extend(got);
        }
    }
}

/// A QEMU Guest Agent client for code without an async runtime: the same
/// calls as [`QgaClient`], each blocking until its reply (or the
/// timeout). It owns a single-threaded tokio runtime.
///
/// ```no_run
/// use qapi_runtime::client::BlockingQgaClient;
///
/// # fn main() -> Result<(), qapi_runtime::client::ClientError> {
/// let agent = BlockingQgaClient::connect_unix("/run/qga.sock")?;
/// let nanoseconds = agent.execute_value("guest-get-time", None)?;
/// println!("guest time {nanoseconds}");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct BlockingQgaClient {
    // Dropped before the runtime it runs on.
    client: QgaClient,
    rt: tokio::runtime::Runtime,
}

impl crate::BlockingExecute for BlockingQgaClient {
    type Error = ClientError;

    fn execute<C: Command>(&self, arguments: &C::Arguments) -> Result<C::Returns, ClientError> {
        BlockingQgaClient::execute::<C>(self, arguments)
    }
}

impl BlockingQgaClient {
    /// Connects to an agent listening on a unix socket and synchronizes.
    pub fn connect_unix(path: impl AsRef<Path>) -> Result<Self, ClientError> {
        Self::connect_unix_with(QgaClient::builder(), path)
    }

    /// Connects with the builder's options.
    pub fn connect_unix_with(builder: QgaBuilder, path: impl AsRef<Path>) -> Result<Self, ClientError> {
        let rt = runtime()?;
        let client = rt.block_on(builder.connect_unix(path))?;
        Ok(BlockingQgaClient { client, rt })
    }

    /// Synchronizes with the agent now (see [`QgaClient::sync`]).
    pub fn sync(&self) -> Result<(), ClientError> {
        self.rt.block_on(self.client.sync())
    }

    /// Runs command `C` and decodes what it returns.
    pub fn execute<C: Command>(&self, arguments: &C::Arguments) -> Result<C::Returns, ClientError> {
        self.rt.block_on(self.client.execute::<C>(arguments))
    }

    /// Runs command `name` untyped.
    pub fn execute_value(&self, name: &str, arguments: Option<Value>) -> Result<Value, ClientError> {
        self.rt.block_on(self.client.execute_value(name, arguments))
    }

    /// Sends raw bytes (see [`QgaClient::send_raw`]).
    pub fn send_raw(&self, bytes: &[u8]) -> Result<(), ClientError> {
        self.rt.block_on(self.client.send_raw(bytes))
    }
}
