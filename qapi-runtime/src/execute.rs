//! Running a [`Command`] through whatever carries it: the traits that a
//! schema's generated per-command methods (`client.query_status()`) are
//! written against.
//!
//! The QMP clients implement them ([`Execute`]: `client::Client` and
//! `client::QgaClient`; [`BlockingExecute`]: `client::BlockingClient` and
//! `client::BlockingQgaClient`), and so can anything else that runs
//! commands: a test double, a connection pool, a client that logs. Code
//! generated in client mode then gives every implementation one method per
//! command, through its `Commands` and `BlockingCommands` extension
//! traits. The traits need no client feature: generated code compiles
//! without tokio.

use core::future::Future;

use crate::Command;

/// Runs commands asynchronously: the one method an async client needs for
/// a schema's generated `Commands` trait (one method per command) to work
/// on it.
///
/// The future is `Send`, whatever the command: an implementation encodes
/// the arguments before it returns the future rather than holding on to
/// them, so that calls can be made from spawned tasks.
///
/// ```
/// use std::future::Future;
/// use qapi_runtime::{Command, CommandFlags, Execute, NoArguments};
///
/// /// Answers every command with `{}` (a test double).
/// struct Null;
/// impl Execute for Null {
///     type Error = qapi_runtime::decode::DecodeError;
///     fn execute<C: Command>(
///         &self,
///         _arguments: &C::Arguments,
///     ) -> impl Future<Output = Result<C::Returns, Self::Error>> + Send {
///         std::future::ready(qapi_runtime::decode::from_value(&serde_json::json!({})))
///     }
/// }
///
/// struct Stop;
/// impl Command for Stop {
///     const NAME: &'static str = "stop";
///     const FLAGS: CommandFlags = CommandFlags::DEFAULT;
///     type Arguments = NoArguments;
///     type Returns = qapi_runtime::Empty;
/// }
///
/// let reply = Null.execute::<Stop>(&NoArguments {});
/// # let _ = reply;
/// ```
pub trait Execute {
    /// Why a call failed.
    type Error;

    /// Runs command `C` with `arguments` and decodes what it returns.
    fn execute<C: Command>(
        &self,
        arguments: &C::Arguments,
    ) -> impl Future<Output = Result<C::Returns, Self::Error>> + Send;
}

/// Runs commands, blocking until each is done: what a blocking client
/// needs for a schema's generated `BlockingCommands` trait to work on it.
///
/// ```
/// use qapi_runtime::{BlockingExecute, Command, CommandFlags, Empty, NoArguments};
///
/// /// Answers every command with `{}` (a test double).
/// struct Null;
/// impl BlockingExecute for Null {
///     type Error = qapi_runtime::decode::DecodeError;
///     fn execute<C: Command>(&self, _arguments: &C::Arguments) -> Result<C::Returns, Self::Error> {
///         qapi_runtime::decode::from_value(&serde_json::json!({}))
///     }
/// }
///
/// struct Stop;
/// impl Command for Stop {
///     const NAME: &'static str = "stop";
///     const FLAGS: CommandFlags = CommandFlags::DEFAULT;
///     type Arguments = NoArguments;
///     type Returns = Empty;
/// }
///
/// assert_eq!(Null.execute::<Stop>(&NoArguments {}), Ok(Empty {}));
/// ```
pub trait BlockingExecute {
    /// Why a call failed.
    type Error;

    /// Runs command `C` with `arguments` and decodes what it returns.
    fn execute<C: Command>(&self, arguments: &C::Arguments) -> Result<C::Returns, Self::Error>;
}
