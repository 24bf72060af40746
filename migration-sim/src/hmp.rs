//! The human monitor (HMP) behind QMP's `human-monitor-command`: the
//! `info` commands migration tooling scrapes, and QEMU's answer to
//! anything else.
//!
//! QEMU's monitor turns every `\n` it prints into `\r\n`, also when the
//! output is captured for `human-monitor-command`, so every answer here
//! ends its lines with CRLF.

use crate::report::{render_info_migrate, render_info_status, MigrationInfo, StatusInfo};

/// What an HMP command can look at on one simulated QEMU.
pub trait HmpContext {
    /// `query-migrate` now.
    fn query_migrate(&mut self) -> MigrationInfo;
    /// `query-status` now.
    fn query_status(&mut self) -> StatusInfo;
}

/// The `info` subcommands served, with QEMU's help text.
const INFO_COMMANDS: [(&str, &str, &str); 2] = [
    ("migrate", "[-a]", "show migration status (-a: all the statistics)"),
    ("status", "", "show the current VM status (running|paused)"),
];

/// Runs one HMP command line and returns what the monitor prints (lines
/// ending in CRLF; empty for an empty line).
///
/// ```
/// # use migration_sim::hmp::{execute, HmpContext};
/// # use migration_sim::report::{MigrationInfo, StatusInfo};
/// # use migration_sim::status::RunState;
/// struct Idle;
/// impl HmpContext for Idle {
///     fn query_migrate(&mut self) -> MigrationInfo { MigrationInfo::default() }
///     fn query_status(&mut self) -> StatusInfo { StatusInfo { running: true, status: RunState::Running } }
/// }
/// assert_eq!(execute("info status", &mut Idle), "VM status: running\r\n");
/// assert_eq!(execute("foo bar", &mut Idle), "unknown command: 'foo'\r\n");
/// assert_eq!(execute("info foo", &mut Idle), "unknown command: 'info foo'\r\n");
/// ```
pub fn execute(command_line: &str, ctx: &mut dyn HmpContext) -> String {
    crlf(&run(command_line, ctx))
}

fn run(line: &str, ctx: &mut dyn HmpContext) -> String {
    let line = line.trim_start();
    let Some((name, rest)) = command_name(line) else {
        return String::new();
    };
    if name != "info" {
        return unknown(name);
    }
    let args = rest.trim_start();
    let Some((sub, sub_rest)) = command_name(args) else {
        return info_help();
    };
    // QEMU names the whole command so far ("info foo") when the
    // subcommand is unknown.
    let so_far = &line[..line.len() - sub_rest.len()];
    match sub {
        "migrate" => {
            let flags: Vec<&str> = sub_rest.split_whitespace().collect();
            match flags.as_slice() {
                [] => render_info_migrate(&ctx.query_migrate(), false),
                ["-a"] => render_info_migrate(&ctx.query_migrate(), true),
                [other, ..] if other.starts_with('-') => {
                    format!("{so_far}: unsupported option {other}\n")
                }
                _ => format!("{so_far}: extraneous characters at the end of line\n"),
            }
        }
        "status" => {
            if sub_rest.trim().is_empty() {
                render_info_status(&ctx.query_status())
            } else {
                format!("{so_far}: extraneous characters at the end of line\n")
            }
        }
        _ => unknown(so_far),
    }
}

/// The command name at the start of `s` (up to white space), as QEMU's
/// monitor splits it, and the rest of the line.
fn command_name(s: &str) -> Option<(&str, &str)> {
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    if end == 0 {
        return None;
    }
    Some((&s[..end], &s[end..]))
}

fn unknown(name: &str) -> String {
    format!("unknown command: '{name}'\n")
}

fn info_help() -> String {
    INFO_COMMANDS
        .iter()
        .map(|(name, args, help)| {
            let usage = if args.is_empty() { format!("info {name}") } else { format!("info {name} {args}") };
            format!("{usage} -- {help}\n")
        })
        .collect()
}

/// QEMU's monitor output conversion: every `\n` becomes `\r\n`.
fn crlf(s: &str) -> String {
    s.replace('\n', "\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{MigrationStatus, RunState};

    struct Fixed(MigrationInfo, StatusInfo);
    impl HmpContext for Fixed {
        fn query_migrate(&mut self) -> MigrationInfo {
            self.0.clone()
        }
        fn query_status(&mut self) -> StatusInfo {
            self.1.clone()
        }
    }

    fn ctx() -> Fixed {
        let info = MigrationInfo {
            status: Some(MigrationStatus::Failed),
            error_desc: Some("boom".into()),
            ..MigrationInfo::default()
        };
        Fixed(info, StatusInfo { running: false, status: RunState::Postmigrate })
    }

    #[test]
    fn known_commands() {
        let mut c = ctx();
        assert_eq!(execute("info status", &mut c), "VM status: paused (postmigrate)\r\n");
        assert_eq!(execute("  info   migrate  ", &mut c), "Status: \t\tfailed (boom)\r\n");
        assert_eq!(execute("info migrate -a", &mut c), "Status: \t\tfailed (boom)\r\n");
        assert_eq!(execute("", &mut c), "");
        assert!(execute("info", &mut c).starts_with("info migrate [-a] -- "));
    }

    #[test]
    fn unknown_commands_are_named_as_qemu_names_them() {
        let mut c = ctx();
        assert_eq!(execute("foo", &mut c), "unknown command: 'foo'\r\n");
        assert_eq!(execute("migrate_cancel now", &mut c), "unknown command: 'migrate_cancel'\r\n");
        assert_eq!(execute("info  bar baz", &mut c), "unknown command: 'info  bar'\r\n");
    }
}
