//! A QMP server on tokio that behaves like QEMU's monitor.
//!
//! The server speaks the protocol of QEMU's `docs/interop/qmp-spec`: the
//! greeting, capabilities negotiation (with `oob`), `execute` and
//! `exec-oob`, `id` echoed verbatim, QEMU's error classes and wording for
//! every malformed request, events broadcast to every negotiated client,
//! and output in QEMU's format (ASCII only, lines ending in CRLF). Input
//! is read with [`JsonStream`](crate::stream::JsonStream), so several requests on one line, one
//! request across lines and single-quoted strings all work, and a parse
//! error is answered and the next request served.
//!
//! Memory is bounded whatever clients do: QEMU's limits on each request
//! ([`Limits`](crate::stream::Limits)), a bound on the output waiting for
//! each client ([`ServerConfig::reply_queue`]: past it the server stops
//! reading that client and drops its events, counted in
//! [`Server::stats`] and logged) and a budget across all connections
//! ([`ServerConfig::memory_budget`]: a client that would go over it is
//! disconnected). Connections, refused input and lost events are logged
//! through `tracing` (the library installs no subscriber).
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

mod budget;
mod config;
mod connection;
mod events;
mod listen;
mod protocol;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch, Notify};

use crate::dispatch::Dispatcher;
use crate::stream::write_json;
use crate::Error;
use budget::Budget;
use connection::spawn_connection;
use listen::{bind_private, spawn_accept_loop, PathClaim};

pub use listen::MAX_UNIX_PATH;

pub use budget::FREE_PER_CONNECTION;
pub use config::{ListenAddr, Listening, ServerConfig, VersionInfo, VersionTriple};
pub use events::EventSink;
pub use protocol::{Request, Session};

/// The built-in commands the server answers itself.
const BUILTINS: [&str; 4] = ["qmp_capabilities", "query-version", "query-commands", "query-qmp-schema"];

/// What a server holds for its clients and what it has dropped, from
/// [`Server::stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerStats {
    /// Live connections and listeners.
    pub connections: usize,
    /// Bytes of the memory budget in use: what connections hold past
    /// their free [`FREE_PER_CONNECTION`].
    pub memory_used: usize,
    /// The budget ([`ServerConfig::memory_budget`]).
    pub memory_budget: usize,
    /// Events dropped, since the server started, for clients that did
    /// not read them (each loss is also logged).
    pub events_lost: u64,
    /// Clients disconnected for going over the memory budget.
    pub over_budget: u64,
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
    /// The memory budget across connections, and its counters.
    budget: Arc<Budget>,
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
        let config_budget = config.memory_budget;
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
                budget: Arc::new(Budget::new(config_budget)),
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

    /// What the server holds for its clients, and what it has dropped.
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
    /// let stats = server.stats();
    /// assert_eq!((stats.memory_used, stats.events_lost), (0, 0));
    /// assert_eq!(stats.memory_budget, 256 << 20);
    /// ```
    pub fn stats(&self) -> ServerStats {
        let budget = &self.inner.budget;
        ServerStats {
            connections: self.connections(),
            memory_used: budget.used(),
            memory_budget: budget.limit(),
            events_lost: budget.events_lost.load(Ordering::Relaxed),
            over_budget: budget.over_budget.load(Ordering::Relaxed),
        }
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

    /// Listens on a TCP address, exactly as given. QMP has no
    /// authentication: an address other than a loopback one (`0.0.0.0`,
    /// a LAN address) is refused unless the configuration allows it
    /// ([`ServerConfig::allow_non_loopback`]), and logged as a warning
    /// when it does.
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
    /// use qapi_runtime::server::{Server, ServerConfig};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = Server::new(Arc::new(D), ServerConfig::new());
    /// let e = server.listen_tcp("0.0.0.0:0".parse().unwrap()).await.unwrap_err();
    /// assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied);
    /// assert!(server.listen_tcp("127.0.0.1:0".parse().unwrap()).await.is_ok());
    /// server.shutdown().await;
    /// # }
    /// ```
    pub async fn listen_tcp(&self, addr: SocketAddr) -> io::Result<Listening> {
        let loopback = addr.ip().to_canonical().is_loopback();
        if !loopback && !self.inner.config.allow_non_loopback {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "not listening on {addr}: it is not a loopback address, and QMP has no authentication \
                     (ServerConfig::allow_non_loopback allows it)"
                ),
            ));
        }
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        if !loopback {
            tracing::warn!(addr = %local, "QMP server listening on a non-loopback address: QMP has no authentication, \
                 anyone who can reach it controls the server");
        }
        spawn_accept_loop(&self.inner, listener, format!("tcp:{local}"), None);
        Ok(Listening::Tcp(local))
    }

    /// Listens on a unix socket at `path`, created with mode 0600 (never
    /// reachable with wider permissions). A stale socket there is
    /// replaced, as QEMU does; any other file is an error. A path longer
    /// than a socket address holds ([`MAX_UNIX_PATH`] bytes), or one this
    /// process already listens on (through this server or another), is
    /// refused. The socket is removed on [`shutdown`](Self::shutdown).
    pub async fn listen_unix(&self, path: impl AsRef<Path>) -> io::Result<Listening> {
        let path = path.as_ref().to_path_buf();
        let claim = PathClaim::new(&path)?;
        let listener = bind_private(&path)?;
        if let Ok(mut sockets) = self.inner.sockets.lock() {
            sockets.push(path.clone());
        }
        spawn_accept_loop(&self.inner, listener, format!("unix:{}", path.display()), Some(claim));
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
        spawn_connection(&self.inner, rd, wr, "stream".to_owned())
    }

    /// Shuts down gracefully: stops accepting, stops reading new input,
    /// answers every request already received, flushes, closes every
    /// connection and removes the unix sockets. Returns when all is done.
    pub async fn shutdown(&self) {
        tracing::debug!(live = self.connections(), "QMP server shutting down");
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
