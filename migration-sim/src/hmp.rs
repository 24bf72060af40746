//! The human monitor (HMP) behind QMP's `human-monitor-command`: the
//! `info` commands migration tooling scrapes, and QEMU's answer to
//! anything else.
//!
//! QEMU's monitor turns every `\n` it prints into `\r\n`, also when the
//! output is captured for `human-monitor-command`, so every answer here
//! ends its lines with CRLF.

use std::fmt::Write as _;

use crate::qapi::{MigrationCapabilityStatus, MigrationParameters, StrOrNull};
use crate::report::{render_info_migrate, render_info_status, MigrationInfo, StatusInfo};

/// What an HMP command can look at on one simulated QEMU.
pub trait HmpContext {
    /// `query-migrate` now.
    fn query_migrate(&mut self) -> MigrationInfo;
    /// `query-status` now.
    fn query_status(&mut self) -> StatusInfo;
    /// `query-migrate-parameters` now.
    fn query_migrate_parameters(&mut self) -> MigrationParameters;
    /// `query-migrate-capabilities` now.
    fn query_migrate_capabilities(&mut self) -> Vec<MigrationCapabilityStatus>;
}

/// The `info` subcommands served, with QEMU's help text.
const INFO_COMMANDS: [(&str, &str, &str); 4] = [
    ("migrate", "[-a]", "show migration status (-a: all the statistics)"),
    ("migrate_capabilities", "", "show current migration capabilities"),
    ("migrate_parameters", "", "show current migration parameters"),
    ("status", "", "show the current VM status (running|paused)"),
];

/// Runs one HMP command line and returns what the monitor prints (lines
/// ending in CRLF; empty for an empty line).
///
/// ```
/// # use migration_sim::hmp::{execute, HmpContext};
/// # use migration_sim::report::{MigrationInfo, StatusInfo};
/// # use migration_sim::status::RunState;
/// # use migration_sim::qapi::{MigrationCapabilityStatus, MigrationParameters};
/// struct Idle;
/// impl HmpContext for Idle {
///     fn query_migrate(&mut self) -> MigrationInfo { MigrationInfo::default() }
///     fn query_status(&mut self) -> StatusInfo { StatusInfo { running: true, status: RunState::Running } }
///     fn query_migrate_parameters(&mut self) -> MigrationParameters { MigrationParameters::default() }
///     fn query_migrate_capabilities(&mut self) -> Vec<MigrationCapabilityStatus> { Vec::new() }
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
        "status" | "migrate_parameters" | "migrate_capabilities" if !sub_rest.trim().is_empty() => {
            format!("{so_far}: extraneous characters at the end of line\n")
        }
        "status" => render_info_status(&ctx.query_status()),
        "migrate_parameters" => render_migrate_parameters(&ctx.query_migrate_parameters()),
        "migrate_capabilities" => render_migrate_capabilities(&ctx.query_migrate_capabilities()),
        _ => unknown(so_far),
    }
}

/// HMP `info migrate_capabilities`: one `name: on|off` line per
/// capability, in `query-migrate-capabilities` order.
pub fn render_migrate_capabilities(caps: &[MigrationCapabilityStatus]) -> String {
    caps.iter().map(|c| format!("{}: {}\n", c.capability, on_off(c.state))).collect()
}

/// HMP `info migrate_parameters` (QEMU 10.2 layout: the parameters in
/// QEMU's order with their units; the compression levels are not shown).
pub fn render_migrate_parameters(p: &MigrationParameters) -> String {
    let mut s = String::new();
    let mut line = |name: &str, value: String| {
        let _ = writeln!(s, "{name}: {value}");
    };
    let n = |v: Option<u64>| v.unwrap_or(0);
    let n8 = |v: Option<u8>| u64::from(v.unwrap_or(0));
    let text = |v: &Option<StrOrNull>| match v {
        Some(StrOrNull::S(t)) => format!("'{t}'"),
        _ => "''".to_string(),
    };
    line("announce-initial", format!("{} ms", n(p.announce_initial)));
    line("announce-max", format!("{} ms", n(p.announce_max)));
    line("announce-rounds", n(p.announce_rounds).to_string());
    line("announce-step", format!("{} ms", n(p.announce_step)));
    line("throttle-trigger-threshold", n8(p.throttle_trigger_threshold).to_string());
    line("cpu-throttle-initial", n8(p.cpu_throttle_initial).to_string());
    line("cpu-throttle-increment", n8(p.cpu_throttle_increment).to_string());
    line("cpu-throttle-tailslow", on_off(p.cpu_throttle_tailslow.unwrap_or(false)).to_string());
    line("max-cpu-throttle", n8(p.max_cpu_throttle).to_string());
    line("tls-creds", text(&p.tls_creds));
    line("tls-hostname", text(&p.tls_hostname));
    line("tls-authz", text(&p.tls_authz));
    line("max-bandwidth", format!("{} bytes/second", n(p.max_bandwidth)));
    line("avail-switchover-bandwidth", format!("{} bytes/second", n(p.avail_switchover_bandwidth)));
    line("max-postcopy-bandwidth", format!("{} bytes/second", n(p.max_postcopy_bandwidth)));
    line("downtime-limit", format!("{} ms", n(p.downtime_limit)));
    line("x-checkpoint-delay", format!("{} ms", p.x_checkpoint_delay.unwrap_or(0)));
    line("multifd-channels", n8(p.multifd_channels).to_string());
    line("multifd-compression", p.multifd_compression.map_or(String::new(), |c| c.to_string()));
    line("zero-page-detection", p.zero_page_detection.map_or(String::new(), |z| z.to_string()));
    line("xbzrle-cache-size", format!("{} bytes", n(p.xbzrle_cache_size)));
    line("x-vcpu-dirty-limit-period", format!("{} ms", n(p.x_vcpu_dirty_limit_period)));
    line("vcpu-dirty-limit", format!("{} MB/s", n(p.vcpu_dirty_limit)));
    line("mode", p.mode.map_or(String::new(), |m| m.to_string()));
    if let Some(d) = p.direct_io {
        line("direct-io", on_off(d).to_string());
    }
    let args: String = p.cpr_exec_command.iter().flatten().map(|a| format!(" {a}")).collect();
    let _ = writeln!(s, "cpr-exec-command:{args}");
    s
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
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
        fn query_migrate_parameters(&mut self) -> MigrationParameters {
            MigrationParameters::default()
        }
        fn query_migrate_capabilities(&mut self) -> Vec<MigrationCapabilityStatus> {
            Vec::new()
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
