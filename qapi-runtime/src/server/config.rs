//! What a server is told and reports: its version, limits and addresses.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use crate::serde::Serialize;
use serde_json::Value;

use crate::stream::Limits;

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

/// How a [`Server`](super::Server) behaves: what it reports about itself and the limits
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
    /// How many events the broadcast to clients holds before the slowest
    /// client misses the oldest ones.
    pub event_buffer: usize,
    /// How many bytes of replies and events may wait for a client to read
    /// them: past this the server stops reading the client's input (as
    /// QEMU stops reading a monitor whose request queue is full) and drops
    /// the events meant for it, counting them
    /// ([`ServerStats::events_lost`](super::ServerStats)). Default 1 MiB.
    pub reply_queue: usize,
    /// How many bytes all clients together may make the server hold, past
    /// a free [`FREE_PER_CONNECTION`](super::FREE_PER_CONNECTION) each:
    /// input being read, requests waiting to run, replies and events not
    /// yet written. A client whose input or reply would go over it is
    /// disconnected (and logged); others go on. Default 256 MiB, about
    /// four values at QEMU's 64 MiB limit (of eight clients sending one
    /// each, the first few get QEMU's error, the others are cut off). The
    /// server's resident memory stays under its baseline, plus this, plus
    /// 256 KiB per connection (its read buffer, free allowance and task),
    /// plus the allocator's slack, at most 1/32 of the budget (checked by
    /// the load test `hostile_clients_stay_within_the_memory_budget`).
    pub memory_budget: usize,
    /// How many in-band requests may queue once `oob` is enabled before
    /// the server stops reading (QEMU: 8).
    pub request_queue: usize,
    /// How long [`Server::shutdown`](super::Server::shutdown) lets each connection finish its
    /// requests and flush its replies before closing it regardless (a
    /// client that stopped reading cannot hold the server up longer).
    pub shutdown_grace: std::time::Duration,
    /// Whether [`Server::listen_tcp`](super::Server::listen_tcp) may
    /// listen on an address other than a loopback one (off by default:
    /// QMP has no authentication).
    pub allow_non_loopback: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            version: serde_json::json!({"qemu": {"major": 0, "minor": 0, "micro": 0}, "package": ""}),
            schema: None,
            limits: Limits::default(),
            offer_oob: true,
            event_buffer: 4096,
            reply_queue: 1 << 20,
            memory_budget: 256 << 20,
            request_queue: 8,
            shutdown_grace: std::time::Duration::from_secs(10),
            allow_non_loopback: false,
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

    /// Allows listening on TCP addresses other than loopback ones
    /// (`0.0.0.0`, a LAN address). QMP has no authentication: whoever
    /// reaches the port controls the server. Each such listener is logged
    /// as a warning.
    ///
    /// ```
    /// let config = qapi_runtime::server::ServerConfig::new().allow_non_loopback(true);
    /// assert!(config.allow_non_loopback);
    /// ```
    pub fn allow_non_loopback(mut self, allow: bool) -> Self {
        self.allow_non_loopback = allow;
        self
    }

    /// Sets how many bytes of output may wait for a client to read them.
    pub fn reply_queue(mut self, bytes: usize) -> Self {
        self.reply_queue = bytes.max(1);
        self
    }

    /// Sets the memory budget across all connections.
    ///
    /// ```
    /// let config = qapi_runtime::server::ServerConfig::new().memory_budget(64 << 20);
    /// assert_eq!(config.memory_budget, 64 << 20);
    /// ```
    pub fn memory_budget(mut self, bytes: usize) -> Self {
        self.memory_budget = bytes;
        self
    }

    /// Sets how many events the broadcast to clients holds.
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
