//! A QMP server on tokio that behaves like QEMU's monitor.
//!
//! The server speaks the protocol of QEMU's `docs/interop/qmp-spec`: the
//! greeting, capabilities negotiation (with `oob`), `execute` and
//! `exec-oob`, `id` echoed verbatim, QEMU's error classes and wording for
//! every malformed request, events broadcast to every negotiated client,
//! and output in QEMU's format (ASCII only, lines ending in CRLF). Input
//! is read with [`JsonStream`], so several requests on one line, one
//! request across lines and single-quoted strings all work, and a parse
//! error is answered and the next request served.
//!
//! Schema commands run through a [`Dispatcher`]; the server answers
//! `qmp_capabilities`, `query-version`, `query-commands` and (when given a
//! schema) `query-qmp-schema` itself.
//!
//! ```
//! use std::sync::Arc;
//! use qapi_runtime::dispatch::{CommandInfo, Dispatcher};
//! use qapi_runtime::server::{Server, ServerConfig, VersionInfo};
//! use qapi_runtime::{CommandFlags, Error};
//! use serde_json::{json, Value};
//!
//! struct Ping;
//! impl Dispatcher for Ping {
//!     fn commands(&self) -> &[CommandInfo] {
//!         &[CommandInfo { name: "ping", flags: CommandFlags::DEFAULT }]
//!     }
//!     fn dispatch(&self, name: &str, _args: Option<Value>) -> Result<Value, Error> {
//!         match name {
//!             "ping" => Ok(json!("pong")),
//!             _ => Err(Error::command_not_found(name)),
//!         }
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let config = ServerConfig::new().version(VersionInfo::new(10, 0, 0, "sim"));
//! let server = Server::new(Arc::new(Ping), config);
//! let dir = std::env::temp_dir().join(format!("qmp-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! server.listen_unix(dir.join("qmp.sock")).await?;
//! // ... clients connect; events go out through `server.events()` ...
//! server.shutdown().await;
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```

use std::future::poll_fn;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;

use crate::serde::Serialize;
use serde_json::{Map, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{broadcast, mpsc, watch, Notify};

use crate::dispatch::Dispatcher;
use crate::stream::{write_json, write_str, JsonStream, Limits};
use crate::wire::{EventMessage, Timestamp};
use crate::{CommandFlags, Error, ErrorClass, Event, NoArguments};

/// The built-in commands the server answers itself.
const BUILTINS: [&str; 4] = ["qmp_capabilities", "query-version", "query-commands", "query-qmp-schema"];

/// A `VersionInfo` as `query-version` and the greeting report it.
///
/// ```
/// let v = qapi_runtime::server::VersionInfo::new(10, 0, 2, "sim-1");
/// assert_eq!(
///     serde_json::to_value(&v).unwrap(),
///     serde_json::json!({"qemu": {"major": 10, "minor": 0, "micro": 2}, "package": "sim-1"})
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    /// The version triple.
    pub qemu: VersionTriple,
    /// The package string (`"Debian 1:10.0.2+ds-2"`).
    pub package: String,
}

/// Major, minor and micro version numbers.
///
/// ```
/// let v = qapi_runtime::server::VersionInfo::new(10, 0, 2, "");
/// assert_eq!((v.qemu.major, v.qemu.minor, v.qemu.micro), (10, 0, 2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionTriple {
    /// Major version.
    pub major: i64,
    /// Minor version.
    pub minor: i64,
    /// Micro version.
    pub micro: i64,
}

crate::types::wire_object!(VersionInfo, strict: false, {
    qemu: "qemu" req VersionTriple,
    package: "package" req String,
});
crate::types::wire_object!(VersionTriple, strict: false, {
    major: "major" req i64,
    minor: "minor" req i64,
    micro: "micro" req i64,
});

impl VersionInfo {
    /// A version `major.minor.micro` with a package string.
    pub fn new(major: i64, minor: i64, micro: i64, package: impl Into<String>) -> Self {
        VersionInfo { qemu: VersionTriple { major, minor, micro }, package: package.into() }
    }
}

/// How a [`Server`] behaves: what it reports about itself and the limits
/// it applies to every connection.
///
/// ```
/// use qapi_runtime::server::{ServerConfig, VersionInfo};
/// use qapi_runtime::stream::Limits;
/// let config = ServerConfig::new()
///     .version(VersionInfo::new(10, 0, 0, ""))
///     .schema(serde_json::json!([]))
///     .limits(Limits { max_depth: 64, ..Limits::default() })
///     .offer_oob(false);
/// assert!(!config.offer_oob);
/// ```
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// What the greeting and `query-version` report (a `VersionInfo`).
    pub version: Value,
    /// What `query-qmp-schema` returns (generated introspection); when
    /// `None`, the command goes to the dispatcher like any other.
    pub schema: Option<Value>,
    /// Limits on each request's JSON.
    pub limits: Limits,
    /// Whether the greeting offers the `oob` capability (QEMU does).
    pub offer_oob: bool,
    /// How many events may wait for a slow client before it misses the
    /// oldest ones (the bound on memory per client for events).
    pub event_buffer: usize,
    /// How many in-band requests may queue once `oob` is enabled before
    /// the server stops reading (QEMU: 8).
    pub request_queue: usize,
    /// How long [`Server::shutdown`] lets each connection finish its
    /// requests and flush its replies before closing it regardless (a
    /// client that stopped reading cannot hold the server up longer).
    pub shutdown_grace: std::time::Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            version: serde_json::json!({"qemu": {"major": 0, "minor": 0, "micro": 0}, "package": ""}),
            schema: None,
            limits: Limits::default(),
            offer_oob: true,
            event_buffer: 4096,
            request_queue: 8,
            shutdown_grace: std::time::Duration::from_secs(10),
        }
    }
}

impl ServerConfig {
    /// QEMU's defaults: version 0.0.0, no schema, QEMU's limits, `oob`
    /// offered.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the version (any serializable `VersionInfo`).
    pub fn version(mut self, version: impl Serialize) -> Self {
        self.version = serde_json::to_value(version).unwrap_or(Value::Null);
        self
    }

    /// Sets what `query-qmp-schema` returns.
    pub fn schema(mut self, schema: Value) -> Self {
        self.schema = Some(schema);
        self
    }

    /// Sets the limits on request JSON.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets whether `oob` is offered.
    pub fn offer_oob(mut self, offer: bool) -> Self {
        self.offer_oob = offer;
        self
    }

    /// Sets how many in-band requests may queue once `oob` is enabled.
    pub fn request_queue(mut self, n: usize) -> Self {
        self.request_queue = n.max(1);
        self
    }

    /// Sets how many events may wait for a slow client.
    pub fn event_buffer(mut self, n: usize) -> Self {
        self.event_buffer = n.max(1);
        self
    }
}

/// Where a server listens: a unix socket or a TCP address. Parses QEMU's
/// spelling: `unix:PATH`, `tcp:HOST:PORT`, and `tcp::PORT` or `tcp:PORT`
/// for the loopback address.
///
/// ```
/// use qapi_runtime::server::ListenAddr;
/// assert_eq!("tcp::4444".parse::<ListenAddr>().unwrap(), ListenAddr::Tcp("127.0.0.1:4444".parse().unwrap()));
/// assert_eq!("unix:/run/qmp.sock".parse::<ListenAddr>().unwrap(), ListenAddr::Unix("/run/qmp.sock".into()));
/// assert!("udp:1".parse::<ListenAddr>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddr {
    /// A unix socket path (created with mode 0600).
    Unix(PathBuf),
    /// A TCP address.
    Tcp(SocketAddr),
}

impl std::str::FromStr for ListenAddr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(path) = s.strip_prefix("unix:") {
            let path = path.split(',').next().unwrap_or(path);
            return Ok(ListenAddr::Unix(path.into()));
        }
        if let Some(rest) = s.strip_prefix("tcp:") {
            let rest = rest.split(',').next().unwrap_or(rest);
            let port = |p: &str| p.parse::<u16>().map_err(|e| format!("bad port '{p}': {e}"));
            if let Some(p) = rest.strip_prefix(':') {
                return Ok(ListenAddr::Tcp(SocketAddr::from((Ipv4Addr::LOCALHOST, port(p)?))));
            }
            if !rest.contains(':') {
                return Ok(ListenAddr::Tcp(SocketAddr::from((Ipv4Addr::LOCALHOST, port(rest)?))));
            }
            if let Ok(addr) = rest.parse() {
                return Ok(ListenAddr::Tcp(addr));
            }
            let (host, p) = rest.rsplit_once(':').unwrap_or((rest, ""));
            let host = if host == "localhost" { "127.0.0.1" } else { host };
            return format!("{host}:{}", port(p)?)
                .parse()
                .map(ListenAddr::Tcp)
                .map_err(|e| format!("bad address '{rest}': {e}"));
        }
        Err(format!("'{s}' is neither unix:PATH nor tcp:HOST:PORT"))
    }
}

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
    tx: broadcast::Sender<Arc<[u8]>>,
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

/// Where a server ended up listening.
///
/// ```
/// # use std::sync::Arc;
/// # struct D;
/// # impl qapi_runtime::dispatch::Dispatcher for D {
/// #     fn commands(&self) -> &[qapi_runtime::dispatch::CommandInfo] { &[] }
/// #     fn dispatch(&self, n: &str, _: Option<serde_json::Value>) -> Result<serde_json::Value, qapi_runtime::Error> {
/// #         Err(qapi_runtime::Error::command_not_found(n))
/// #     }
/// # }
/// use qapi_runtime::server::{Listening, Server};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let server = Server::new(Arc::new(D), Default::default());
/// let Listening::Tcp(addr) = server.listen_loopback(0).await? else { unreachable!() };
/// assert!(addr.ip().is_loopback() && addr.port() != 0);
/// server.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listening {
    /// A unix socket at this path.
    Unix(PathBuf),
    /// A TCP socket at this address (the real port when 0 was asked for).
    Tcp(SocketAddr),
}

/// A QMP server: a dispatcher, a configuration, any number of listeners
/// and connections. Cheap to clone (all clones are the same server).
/// See the [module documentation](self) for a complete example.
///
/// ```
/// # use std::sync::Arc;
/// # struct D;
/// # impl qapi_runtime::dispatch::Dispatcher for D {
/// #     fn commands(&self) -> &[qapi_runtime::dispatch::CommandInfo] { &[] }
/// #     fn dispatch(&self, n: &str, _: Option<serde_json::Value>) -> Result<serde_json::Value, qapi_runtime::Error> {
/// #         Err(qapi_runtime::Error::command_not_found(n))
/// #     }
/// # }
/// let server = qapi_runtime::server::Server::new(Arc::new(D), Default::default());
/// assert!(server.greeting().starts_with(b"{\"QMP\": {\"version\": "));
/// assert!(server.greeting().ends_with(b", \"capabilities\": [\"oob\"]}}\r\n"));
/// assert_eq!(server.connections(), 0);
/// ```
#[derive(Clone)]
pub struct Server {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("connections", &self.connections()).finish()
    }
}

struct Inner {
    dispatcher: Arc<dyn Dispatcher>,
    config: ServerConfig,
    /// `query-commands`' answer.
    commands: Value,
    /// The greeting line.
    greeting: Vec<u8>,
    events: broadcast::Sender<Arc<[u8]>>,
    shutdown: watch::Sender<bool>,
    /// Live connections and listeners, and a wake-up when they reach 0.
    live: AtomicUsize,
    idle: Notify,
    sockets: Mutex<Vec<PathBuf>>,
}

/// Counts a live connection or listener until dropped.
struct LiveGuard(Arc<Inner>);

impl LiveGuard {
    fn new(inner: &Arc<Inner>) -> Self {
        inner.live.fetch_add(1, Ordering::SeqCst);
        LiveGuard(inner.clone())
    }
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        if self.0.live.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl Server {
    /// A server that runs schema commands with `dispatcher`.
    pub fn new(dispatcher: Arc<dyn Dispatcher>, config: ServerConfig) -> Self {
        let mut names: Vec<&str> = dispatcher.commands().iter().map(|c| c.name).collect();
        for b in BUILTINS {
            let have = names.contains(&b);
            let schema_missing = b == "query-qmp-schema" && config.schema.is_none();
            if !have && !schema_missing {
                names.push(b);
            }
        }
        let commands = Value::Array(names.iter().map(|n| serde_json::json!({ "name": n })).collect());
        let mut greeting = Vec::with_capacity(256);
        greeting.extend_from_slice(b"{\"QMP\": {\"version\": ");
        write_json(&mut greeting, &config.version);
        greeting.extend_from_slice(if config.offer_oob {
            b", \"capabilities\": [\"oob\"]}}\r\n".as_slice()
        } else {
            b", \"capabilities\": []}}\r\n".as_slice()
        });
        let (events, _) = broadcast::channel(config.event_buffer.max(1));
        let (shutdown, _) = watch::channel(false);
        Server {
            inner: Arc::new(Inner {
                dispatcher,
                config,
                commands,
                greeting,
                events,
                shutdown,
                live: AtomicUsize::new(0),
                idle: Notify::new(),
                sockets: Mutex::new(Vec::new()),
            }),
        }
    }

    /// The handle that broadcasts events to negotiated clients.
    pub fn events(&self) -> EventSink {
        EventSink { tx: self.inner.events.clone() }
    }

    /// How many connections and listeners are live.
    pub fn connections(&self) -> usize {
        self.inner.live.load(Ordering::SeqCst)
    }

    /// Listens where `addr` says.
    pub async fn listen(&self, addr: &ListenAddr) -> io::Result<Listening> {
        match addr {
            ListenAddr::Unix(path) => self.listen_unix(path).await,
            ListenAddr::Tcp(addr) => self.listen_tcp(*addr).await,
        }
    }

    /// Listens on TCP port `port` of the loopback address (0: any free
    /// port; the returned address says which).
    pub async fn listen_loopback(&self, port: u16) -> io::Result<Listening> {
        self.listen_tcp(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await
    }

    /// Listens on a TCP address, exactly as given (use
    /// [`listen_loopback`](Self::listen_loopback) to stay on the machine).
    pub async fn listen_tcp(&self, addr: SocketAddr) -> io::Result<Listening> {
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        spawn_accept_loop(&self.inner, listener);
        Ok(Listening::Tcp(local))
    }

    /// Listens on a unix socket at `path`, created with mode 0600 (never
    /// reachable with wider permissions). A stale socket there is
    /// replaced, as QEMU does; any other file is an error. The socket is
    /// removed on [`shutdown`](Self::shutdown).
    pub async fn listen_unix(&self, path: impl AsRef<Path>) -> io::Result<Listening> {
        let path = path.as_ref().to_path_buf();
        let listener = bind_private(&path)?;
        if let Ok(mut sockets) = self.inner.sockets.lock() {
            sockets.push(path.clone());
        }
        spawn_accept_loop(&self.inner, listener);
        Ok(Listening::Unix(path))
    }

    /// Serves one client over any byte stream (a socket accepted
    /// elsewhere, stdio, an in-memory pipe) on a new task.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # struct D;
    /// # impl qapi_runtime::dispatch::Dispatcher for D {
    /// #     fn commands(&self) -> &[qapi_runtime::dispatch::CommandInfo] { &[] }
    /// #     fn dispatch(&self, n: &str, _: Option<serde_json::Value>) -> Result<serde_json::Value, qapi_runtime::Error> {
    /// #         Err(qapi_runtime::Error::command_not_found(n))
    /// #     }
    /// # }
    /// use tokio::io::{AsyncReadExt, AsyncWriteExt};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = qapi_runtime::server::Server::new(Arc::new(D), Default::default());
    /// let (client, conn) = tokio::io::duplex(4096);
    /// server.serve(conn);
    /// let (mut rd, mut wr) = tokio::io::split(client);
    /// wr.write_all(b"{'execute': 'qmp_capabilities'}").await.unwrap();
    /// wr.shutdown().await.unwrap();
    /// let mut text = String::new();
    /// rd.read_to_string(&mut text).await.unwrap();
    /// assert!(text.ends_with("{\"return\": {}}\r\n"));
    /// # }
    /// ```
    pub fn serve<S>(&self, stream: S) -> tokio::task::JoinHandle<()>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (rd, wr) = tokio::io::split(stream);
        spawn_connection(&self.inner, rd, wr)
    }

    /// Shuts down gracefully: stops accepting, stops reading new input,
    /// answers every request already received, flushes, closes every
    /// connection and removes the unix sockets. Returns when all is done.
    pub async fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
        loop {
            let idle = self.inner.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.inner.live.load(Ordering::SeqCst) == 0 {
                break;
            }
            idle.await;
        }
        let sockets = self.inner.sockets.lock().map(|mut s| std::mem::take(&mut *s)).unwrap_or_default();
        for path in sockets {
            let _ = std::fs::remove_file(path);
        }
    }

    /// Handles one request from a client in the given session state and
    /// appends the reply (if any) to `out`, CRLF included. This is the
    /// whole protocol logic without I/O; the connection tasks use it, and
    /// so can a fuzzer or a test.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # struct D;
    /// # impl qapi_runtime::dispatch::Dispatcher for D {
    /// #     fn commands(&self) -> &[qapi_runtime::dispatch::CommandInfo] { &[] }
    /// #     fn dispatch(&self, n: &str, _: Option<serde_json::Value>) -> Result<serde_json::Value, qapi_runtime::Error> {
    /// #         Err(qapi_runtime::Error::command_not_found(n))
    /// #     }
    /// # }
    /// use qapi_runtime::server::{Server, Session};
    /// let server = Server::new(Arc::new(D), Default::default());
    /// let mut session = Session::default();
    /// let mut out = Vec::new();
    /// server.handle(&mut session, Ok(serde_json::json!({"execute": "qmp_capabilities", "id": 1})), &mut out);
    /// assert_eq!(out, b"{\"return\": {}, \"id\": 1}\r\n");
    /// assert!(session.negotiated);
    /// ```
    pub fn handle(&self, session: &mut Session, request: Result<Value, Error>, out: &mut Vec<u8>) {
        self.inner.handle(session, request, out)
    }

    /// The greeting line this server sends (CRLF included).
    pub fn greeting(&self) -> &[u8] {
        &self.inner.greeting
    }
}

/// Binds a unix socket that nobody but this user can ever reach: bound
/// inside a fresh 0700 directory, set to 0600, then moved into place.
fn bind_private(path: &Path) -> io::Result<UnixListener> {
    use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
    static SEQ: AtomicU64 = AtomicU64::new(0);

    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_socket() => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a socket", path.display()),
            ));
        }
        _ => {}
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let dir = parent.join(format!(".qmp{:x}.{}", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed)));
    std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
    let tmp = dir.join("s");
    let result = (|| -> io::Result<UnixListener> {
        let listener = UnixListener::bind(&tmp)?;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
        std::fs::rename(&tmp, path)?;
        Ok(listener)
    })();
    let _ = std::fs::remove_file(&tmp);
    let _ = std::fs::remove_dir(&dir);
    match result {
        Ok(l) => Ok(l),
        // The temporary path may be too long for a socket address where
        // the real one is not: bind in place and narrow the mode at once.
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => {
            let _ = std::fs::remove_file(path);
            let listener = UnixListener::bind(path)?;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
            Ok(listener)
        }
        Err(e) => Err(e),
    }
}

/// The state of one client's session: negotiated yet, and whether `oob`
/// was enabled.
///
/// ```
/// let s = qapi_runtime::server::Session::default();
/// assert!(!s.negotiated && !s.oob);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Session {
    /// `qmp_capabilities` succeeded: all commands allowed, events sent.
    pub negotiated: bool,
    /// The `oob` capability is enabled: `exec-oob` accepted.
    pub oob: bool,
}

/// A request that passed QEMU's checks on its shape.
///
/// ```
/// use qapi_runtime::server::Request;
/// use serde_json::json;
/// let r = Request::from_value(json!({"execute": "stop", "id": [1]}), false).unwrap();
/// assert_eq!((r.name.as_str(), r.oob, r.id), ("stop", false, Some(json!([1]))));
/// let (e, id) = Request::from_value(json!({"exec-oob": "x", "id": 2}), false).unwrap_err();
/// assert_eq!(e.desc, "QMP input member 'exec-oob' is unexpected");
/// assert_eq!(id, Some(json!(2)));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The command to run.
    pub name: String,
    /// Whether it came as `exec-oob`.
    pub oob: bool,
    /// Its `arguments`, if given (always an object).
    pub arguments: Option<Value>,
    /// Its `id`, if given.
    pub id: Option<Value>,
}

impl Request {
    /// Checks a parsed request the way QEMU does (`oob_enabled`: whether
    /// `exec-oob` is allowed), returning the error and the `id` to echo.
    pub fn from_value(value: Value, oob_enabled: bool) -> Result<Request, (Error, Option<Value>)> {
        let Value::Object(mut obj) = value else {
            return Err((Error::generic("QMP input must be a JSON object"), None));
        };
        let id = obj.remove("id");
        let mut exec_key: Option<&str> = None;
        for (key, val) in &obj {
            if key == "execute" || (key == "exec-oob" && oob_enabled) {
                if !val.is_string() {
                    return Err((Error::generic(format!("QMP input member '{key}' must be a string")), id));
                }
                if let Some(prev) = exec_key {
                    return Err((Error::generic(format!("QMP input member '{key}' clashes with '{prev}'")), id));
                }
                exec_key = Some(if key == "execute" { "execute" } else { "exec-oob" });
            } else if key == "arguments" {
                if !val.is_object() {
                    return Err((Error::generic("QMP input member 'arguments' must be an object"), id));
                }
            } else {
                return Err((Error::generic(format!("QMP input member '{key}' is unexpected")), id));
            }
        }
        let Some(exec_key) = exec_key else {
            return Err((Error::generic("QMP input lacks member 'execute'"), id));
        };
        let name = match obj.remove(exec_key) {
            Some(Value::String(s)) => s,
            _ => return Err((Error::generic("QMP input lacks member 'execute'"), id)),
        };
        Ok(Request { name, oob: exec_key == "exec-oob", arguments: obj.remove("arguments"), id })
    }
}

/// Whether a parsed request asks for out-of-band execution (QEMU's test:
/// `exec-oob` present, `execute` absent).
fn is_oob(v: &Result<Value, Error>) -> bool {
    matches!(v, Ok(Value::Object(m)) if m.contains_key("exec-oob") && !m.contains_key("execute"))
}

/// Appends a success reply.
fn write_return(out: &mut Vec<u8>, ret: &Value, id: Option<&Value>) {
    out.extend_from_slice(b"{\"return\": ");
    write_json(out, ret);
    if let Some(id) = id {
        out.extend_from_slice(b", \"id\": ");
        write_json(out, id);
    }
    out.extend_from_slice(b"}\r\n");
}

/// Appends an error reply (QEMU puts `id` first).
fn write_error(out: &mut Vec<u8>, e: &Error, id: Option<&Value>) {
    out.push(b'{');
    if let Some(id) = id {
        out.extend_from_slice(b"\"id\": ");
        write_json(out, id);
        out.extend_from_slice(b", ");
    }
    out.extend_from_slice(b"\"error\": {\"class\": ");
    write_str(out, e.class.as_str());
    out.extend_from_slice(b", \"desc\": ");
    write_str(out, &e.desc);
    out.extend_from_slice(b"}}\r\n");
}

/// Rejects any argument of a command that takes none.
fn no_arguments(args: &Option<Value>) -> Result<(), Error> {
    match args.as_ref().and_then(Value::as_object).and_then(|m| m.keys().next()) {
        Some(k) => Err(Error::generic(format!("Parameter '{k}' is unexpected"))),
        None => Ok(()),
    }
}

impl Inner {
    fn handle(&self, session: &mut Session, request: Result<Value, Error>, out: &mut Vec<u8>) {
        let value = match request {
            Ok(v) => v,
            Err(e) => return write_error(out, &e, None),
        };
        let req = match Request::from_value(value, session.oob) {
            Ok(r) => r,
            Err((e, id)) => return write_error(out, &e, id.as_ref()),
        };
        let negotiating = !session.negotiated;
        match self.run(session, req.name.as_str(), req.oob, req.arguments) {
            None => {}
            Some(Ok(ret)) => write_return(out, &ret, req.id.as_ref()),
            Some(Err(mut e)) => {
                if negotiating && e.class == ErrorClass::CommandNotFound {
                    e.desc = "Expecting capabilities negotiation with 'qmp_capabilities'".into();
                }
                write_error(out, &e, req.id.as_ref())
            }
        }
    }

    /// Runs a command: `None` when it succeeded without a response.
    fn run(&self, session: &mut Session, name: &str, oob: bool, args: Option<Value>) -> Option<Result<Value, Error>> {
        if !session.negotiated {
            return Some(match name {
                "qmp_capabilities" => self.qmp_capabilities(session, args),
                _ => Err(Error::command_not_found(name)),
            });
        }
        let builtin = match name {
            "qmp_capabilities" | "query-version" | "query-commands" => true,
            "query-qmp-schema" => self.config.schema.is_some(),
            _ => false,
        };
        let flags = if builtin {
            CommandFlags::DEFAULT
        } else {
            match self.dispatcher.command(name) {
                Some(flags) => flags,
                None => return Some(Err(Error::command_not_found(name))),
            }
        };
        if oob && !flags.allow_oob {
            return Some(Err(Error::generic(format!("The command {name} does not support OOB"))));
        }
        if builtin {
            if name == "qmp_capabilities" {
                return Some(self.qmp_capabilities(session, args));
            }
            return Some(no_arguments(&args).map(|()| match name {
                "query-version" => self.config.version.clone(),
                "query-commands" => self.commands.clone(),
                _ => self.config.schema.clone().unwrap_or(Value::Null),
            }));
        }
        match self.dispatcher.dispatch(name, args) {
            Ok(_) if !flags.success_response => None,
            result => Some(result),
        }
    }

    /// `qmp_capabilities`, with QEMU's checks and wording.
    fn qmp_capabilities(&self, session: &mut Session, args: Option<Value>) -> Result<Value, Error> {
        let mut args = match args {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        };
        let mut oob = false;
        let mut unavailable = Vec::new();
        if let Some(enable) = args.remove("enable") {
            let Value::Array(caps) = enable else {
                return Err(Error::generic("Invalid parameter type for 'enable', expected: array"));
            };
            for (i, cap) in caps.iter().enumerate() {
                match cap.as_str() {
                    None => {
                        return Err(Error::generic(format!(
                            "Invalid parameter type for 'enable[{i}]', expected: string"
                        )))
                    }
                    Some("oob") => {
                        oob = true;
                        if !self.config.offer_oob {
                            unavailable.push("oob");
                        }
                    }
                    // QEMU names the list element 'null' here.
                    Some(other) => {
                        return Err(Error::generic(format!("Parameter 'null' does not accept value '{other}'")))
                    }
                }
            }
        }
        if let Some(k) = args.keys().next() {
            return Err(Error::generic(format!("Parameter '{k}' is unexpected")));
        }
        if session.negotiated {
            return Err(Error::new(
                ErrorClass::CommandNotFound,
                "Capabilities negotiation is already complete, command ignored",
            ));
        }
        if !unavailable.is_empty() {
            return Err(Error::generic(format!("Capability {} not available", unavailable.join(", "))));
        }
        session.negotiated = true;
        session.oob = oob;
        Ok(Value::Object(Map::new()))
    }
}

/// Replies flush to the socket once this much is buffered.
const FLUSH_AT: usize = 64 * 1024;

/// A listening socket whose clients [`spawn_accept_loop`] serves.
trait Listener: Send + 'static {
    type Read: AsyncRead + Send + Unpin + 'static;
    type Write: AsyncWrite + Send + Unpin + 'static;

    /// The next client, split into its two halves.
    fn accept_split(&self) -> impl std::future::Future<Output = io::Result<(Self::Read, Self::Write)>> + Send;
}

impl Listener for TcpListener {
    type Read = tokio::net::tcp::OwnedReadHalf;
    type Write = tokio::net::tcp::OwnedWriteHalf;

    async fn accept_split(&self) -> io::Result<(Self::Read, Self::Write)> {
        let (stream, _) = self.accept().await?;
        // Replies are small and a client waits for each: don't let Nagle hold them.
        let _ = stream.set_nodelay(true);
        Ok(stream.into_split())
    }
}

impl Listener for UnixListener {
    type Read = tokio::net::unix::OwnedReadHalf;
    type Write = tokio::net::unix::OwnedWriteHalf;

    async fn accept_split(&self) -> io::Result<(Self::Read, Self::Write)> {
        let (stream, _) = self.accept().await?;
        Ok(stream.into_split())
    }
}

/// Accepts clients on `listener` until shutdown, each on a task of its
/// own. A failed accept (out of file descriptors, say) is retried after a
/// pause rather than ending the listener.
fn spawn_accept_loop<L: Listener>(inner: &Arc<Inner>, listener: L) {
    let inner = inner.clone();
    let guard = LiveGuard::new(&inner);
    let mut stop = inner.shutdown.subscribe();
    tokio::spawn(async move {
        let _guard = guard;
        loop {
            tokio::select! {
                _ = stopped(&mut stop) => break,
                accepted = listener.accept_split() => match accepted {
                    Ok((rd, wr)) => {
                        spawn_connection(&inner, rd, wr);
                    }
                    Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
                },
            }
        }
    });
}

fn spawn_connection<R, W>(inner: &Arc<Inner>, rd: R, wr: W) -> tokio::task::JoinHandle<()>
where
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    let guard = LiveGuard::new(inner);
    let inner = inner.clone();
    tokio::spawn(async move {
        let _guard = guard;
        let mut stop = inner.shutdown.subscribe();
        let grace = inner.config.shutdown_grace;
        let conn = Connection::new(inner, rd, wr).run();
        tokio::select! {
            // An I/O error only ends this connection.
            _ = conn => {}
            _ = async {
                stopped(&mut stop).await;
                tokio::time::sleep(grace).await;
            } => {}
        }
    })
}

/// The in-band executor of a session with `oob` enabled.
struct Executor {
    requests: Option<mpsc::Sender<Result<Value, Error>>>,
    replies: mpsc::UnboundedReceiver<Vec<u8>>,
}

struct Connection<R, W> {
    inner: Arc<Inner>,
    rd: R,
    wr: W,
    session: Session,
    reader: JsonStream,
    out: Vec<u8>,
    events: Option<broadcast::Receiver<Arc<[u8]>>>,
    executor: Option<Executor>,
}

impl<R, W> Connection<R, W>
where
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    fn new(inner: Arc<Inner>, rd: R, wr: W) -> Self {
        let reader = JsonStream::new(inner.config.limits);
        Connection { inner, rd, wr, session: Session::default(), reader, out: Vec::new(), events: None, executor: None }
    }

    async fn run(mut self) -> io::Result<()> {
        let mut stop = self.inner.shutdown.subscribe();
        self.out.extend_from_slice(&self.inner.greeting);
        self.flush().await?;
        let mut buf = vec![0u8; 64 * 1024];
        let mut msgs = Vec::new();
        let mut eof = *stop.borrow();
        while !eof {
            tokio::select! {
                biased;
                _ = stopped(&mut stop) => {
                    // Answer what the client has sent already.
                    loop {
                        let mut rb = ReadBuf::new(&mut buf);
                        let ready = poll_fn(|cx| match std::pin::Pin::new(&mut self.rd).poll_read(cx, &mut rb) {
                            Poll::Pending => Poll::Ready(None),
                            Poll::Ready(r) => Poll::Ready(Some(r)),
                        })
                        .await;
                        let n = match ready {
                            Some(Ok(_)) => rb.filled().len(),
                            _ => 0,
                        };
                        if n == 0 {
                            break;
                        }
                        self.reader.feed(&buf[..n], &mut msgs);
                        self.process(&mut msgs).await?;
                    }
                    eof = true;
                }
                ev = recv_event(&mut self.events) => {
                    if let Some(line) = ev {
                        self.out.extend_from_slice(&line);
                    }
                }
                reply = recv_reply(&mut self.executor) => {
                    self.drain_events();
                    self.out.extend_from_slice(&reply);
                }
                n = self.rd.read(&mut buf) => {
                    let n = n.unwrap_or(0);
                    if n == 0 {
                        eof = true;
                    } else {
                        self.reader.feed(&buf[..n], &mut msgs);
                        self.process(&mut msgs).await?;
                    }
                }
            }
            self.flush().await?;
        }
        // Finish the in-band requests still queued.
        if let Some(mut exec) = self.executor.take() {
            exec.requests = None;
            while let Some(reply) = exec.replies.recv().await {
                self.drain_events();
                self.out.extend_from_slice(&reply);
                if self.out.len() >= FLUSH_AT {
                    self.flush().await?;
                }
            }
        }
        self.drain_events();
        self.flush().await?;
        self.wr.shutdown().await
    }

    /// Handles parsed requests: in line, or through the executor once
    /// `oob` is on (`exec-oob` requests still run at once).
    async fn process(&mut self, msgs: &mut Vec<Result<Value, Error>>) -> io::Result<()> {
        for msg in msgs.drain(..) {
            if let Some(exec) = &self.executor {
                if !is_oob(&msg) {
                    if let Some(tx) = &exec.requests {
                        if tx.send(msg).await.is_err() {
                            return Err(io::ErrorKind::BrokenPipe.into());
                        }
                    }
                    continue;
                }
            }
            let mut reply = Vec::new();
            let was_negotiated = self.session.negotiated;
            self.inner.handle(&mut self.session, msg, &mut reply);
            if !was_negotiated && self.session.negotiated {
                self.events = Some(self.inner.events.subscribe());
                if self.session.oob {
                    self.executor = Some(spawn_executor(&self.inner, self.session));
                }
            }
            self.drain_events();
            self.out.extend_from_slice(&reply);
            if self.out.len() >= FLUSH_AT {
                self.flush().await?;
            }
        }
        Ok(())
    }

    /// Moves events already emitted into the output, so that an event a
    /// command emits goes out before the command's reply, as in QEMU.
    fn drain_events(&mut self) {
        if let Some(rx) = &mut self.events {
            loop {
                match rx.try_recv() {
                    Ok(line) => self.out.extend_from_slice(&line),
                    Err(broadcast::error::TryRecvError::Lagged(_)) => continue,
                    Err(_) => break,
                }
            }
        }
    }

    async fn flush(&mut self) -> io::Result<()> {
        if !self.out.is_empty() {
            self.wr.write_all(&self.out).await?;
            self.wr.flush().await?;
            self.out.clear();
            if self.out.capacity() > 4 * FLUSH_AT {
                self.out.shrink_to(FLUSH_AT);
            }
        }
        Ok(())
    }
}

/// Returns once shutdown has been asked for.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await.map(|_| ());
}

/// The next event for a negotiated session (never, before negotiation).
async fn recv_event(rx: &mut Option<broadcast::Receiver<Arc<[u8]>>>) -> Option<Arc<[u8]>> {
    match rx {
        Some(rx) => loop {
            match rx.recv().await {
                Ok(line) => return Some(line),
                // A client too slow to read misses the oldest events.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
            }
        },
        None => std::future::pending().await,
    }
}

/// The next in-band reply (never, without an executor).
async fn recv_reply(exec: &mut Option<Executor>) -> Vec<u8> {
    match exec {
        Some(exec) => match exec.replies.recv().await {
            Some(r) => r,
            None => std::future::pending().await,
        },
        None => std::future::pending().await,
    }
}

fn spawn_executor(inner: &Arc<Inner>, session: Session) -> Executor {
    let (tx, mut rx) = mpsc::channel::<Result<Value, Error>>(inner.config.request_queue.max(1));
    let (reply_tx, replies) = mpsc::unbounded_channel();
    let inner = inner.clone();
    tokio::spawn(async move {
        let mut session = session;
        while let Some(msg) = rx.recv().await {
            let mut out = Vec::new();
            inner.handle(&mut session, msg, &mut out);
            if !out.is_empty() && reply_tx.send(out).is_err() {
                break;
            }
        }
    });
    Executor { requests: Some(tx), replies }
}
