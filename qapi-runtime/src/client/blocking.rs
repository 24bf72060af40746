//! The blocking QMP client: the async [`Client`] on a runtime of its own.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::{Client, ClientBuilder, ClientError};
use crate::wire::{EventMessage, Greeting};
use crate::Command;

/// A QMP client for code without an async runtime: the same typed
/// [`execute`](Self::execute) as [`Client`], each call blocking until
/// its reply. It owns a single-threaded tokio runtime, which reads from
/// the server while a call runs; events that arrive in between wait in
/// the socket until the next call or [`next_event`](Self::next_event).
/// Calls may come from several threads. Not for use inside an async
/// runtime (use [`Client`] there).
///
/// ```no_run
/// use qapi_runtime::client::BlockingClient;
/// use qapi_runtime::{Command, CommandFlags, NoArguments};
///
/// struct QueryStatus;
/// impl Command for QueryStatus {
///     const NAME: &'static str = "query-status";
///     const FLAGS: CommandFlags = CommandFlags::DEFAULT;
///     type Arguments = NoArguments;
///     type Returns = serde_json::Value;
/// }
///
/// # fn main() -> Result<(), qapi_runtime::client::ClientError> {
/// let qemu = BlockingClient::connect_unix("/run/qemu/qmp.sock")?;
/// let status = qemu.execute::<QueryStatus>(&NoArguments {})?;
/// println!("{status}");
/// if let Some(event) = qemu.next_event(std::time::Duration::from_secs(1)) {
///     println!("{}", event.event);
/// }
/// # Ok(())
/// # }
/// ```
pub struct BlockingClient {
    // Dropped before the runtime it runs on.
    client: Client,
    rt: tokio::runtime::Runtime,
}

impl std::fmt::Debug for BlockingClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingClient").field("client", &self.client).finish()
    }
}

/// A runtime for one blocking client.
pub(super) fn runtime() -> Result<tokio::runtime::Runtime, ClientError> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

impl crate::BlockingExecute for BlockingClient {
    type Error = ClientError;

    fn execute<C: Command>(&self, arguments: &C::Arguments) -> Result<C::Returns, ClientError> {
        BlockingClient::execute::<C>(self, arguments)
    }
}

impl BlockingClient {
    /// Connects to a unix socket and negotiates (without `oob`).
    pub fn connect_unix(path: impl AsRef<Path>) -> Result<Self, ClientError> {
        Self::connect_unix_with(Client::builder(), path)
    }

    /// Connects over TCP and negotiates (without `oob`).
    pub fn connect_tcp(addr: SocketAddr) -> Result<Self, ClientError> {
        Self::connect_tcp_with(Client::builder(), addr)
    }

    /// Connects to a unix socket with the builder's options.
    pub fn connect_unix_with(builder: ClientBuilder, path: impl AsRef<Path>) -> Result<Self, ClientError> {
        let rt = runtime()?;
        let client = rt.block_on(builder.connect_unix(path))?;
        Ok(BlockingClient { client, rt })
    }

    /// Connects over TCP with the builder's options.
    pub fn connect_tcp_with(builder: ClientBuilder, addr: SocketAddr) -> Result<Self, ClientError> {
        let rt = runtime()?;
        let client = rt.block_on(builder.connect_tcp(addr))?;
        Ok(BlockingClient { client, rt })
    }

    /// The server's greeting.
    pub fn greeting(&self) -> &Greeting {
        self.client.greeting()
    }

    /// Runs command `C` and decodes what it returns (see
    /// [`Client::execute`]).
    pub fn execute<C: Command>(&self, arguments: &C::Arguments) -> Result<C::Returns, ClientError> {
        self.rt.block_on(self.client.execute::<C>(arguments))
    }

    /// Runs command `C` out of band (see [`Client::execute_oob`]).
    pub fn execute_oob<C: Command>(&self, arguments: &C::Arguments) -> Result<C::Returns, ClientError> {
        self.rt.block_on(self.client.execute_oob::<C>(arguments))
    }

    /// Runs command `name` untyped (see [`Client::execute_value`]).
    pub fn execute_value(&self, name: &str, arguments: Option<Value>) -> Result<Value, ClientError> {
        self.rt.block_on(self.client.execute_value(name, arguments))
    }

    /// The next event, waiting at most `timeout`; `None` when none came
    /// (or the connection has closed and every event was read).
    pub fn next_event(&self, timeout: Duration) -> Option<EventMessage> {
        self.rt.block_on(async { tokio::time::timeout(timeout, self.client.next_event()).await.ok().flatten() })
    }

    /// Closes the connection.
    pub fn close(self) -> Result<(), ClientError> {
        let BlockingClient { client, rt } = self;
        rt.block_on(client.close())
    }
}
