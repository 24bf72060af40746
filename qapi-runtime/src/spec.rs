//! What a schema's commands and events are, by wire name: the entries of
//! the `COMMANDS` and `EVENTS` tables that generated code has, which its
//! `command(name)` and `event(name)` look up. For tools that take names
//! from people or from the wire: a QMP shell (which commands exist, which
//! need arguments, which answer nothing, which may run out of band), an
//! event logger, a dispatcher.

use crate::CommandFlags;

/// What a command takes as arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArgumentsKind {
    /// None at all (`NoArguments`).
    None,
    /// Some, every one optional: the command may be run without.
    Optional,
    /// Some, at least one required (or the arguments are a union).
    Required,
}

/// A command of a schema, as generated code describes it.
///
/// ```
/// use qapi_runtime::{ArgumentsKind, CommandFlags, CommandSpec};
///
/// static COMMANDS: &[CommandSpec] = &[CommandSpec {
///     name: "query-status",
///     rust_name: "QueryStatusCommand",
///     flags: CommandFlags::DEFAULT,
///     arguments: ArgumentsKind::None,
///     deprecated: false,
///     unstable: false,
/// }];
/// let spec = COMMANDS.iter().find(|c| c.name == "query-status").unwrap();
/// assert!(spec.flags.success_response && spec.arguments == ArgumentsKind::None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CommandSpec {
    /// The wire name (`query-status`).
    pub name: &'static str,
    /// The Rust type implementing [`crate::Command`] (`QueryStatusCommand`).
    pub rust_name: &'static str,
    /// Its flags (`success_response` false: no reply comes).
    pub flags: CommandFlags,
    /// Whether it needs arguments.
    pub arguments: ArgumentsKind,
    /// The schema marks it `deprecated`.
    pub deprecated: bool,
    /// The schema marks it `unstable`.
    pub unstable: bool,
}

/// An event of a schema, as generated code describes it.
///
/// ```
/// use qapi_runtime::EventSpec;
///
/// let stop = EventSpec { name: "STOP", rust_name: "StopEvent", has_data: false, deprecated: false, unstable: false };
/// assert_eq!(stop.name, "STOP");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventSpec {
    /// The wire name (`MIGRATION`).
    pub name: &'static str,
    /// The Rust type implementing [`crate::Event`], the payload of the
    /// generated `Event` enum's variant (`MigrationEvent`).
    pub rust_name: &'static str,
    /// Whether the event carries `data`.
    pub has_data: bool,
    /// The schema marks it `deprecated`.
    pub deprecated: bool,
    /// The schema marks it `unstable`.
    pub unstable: bool,
}
