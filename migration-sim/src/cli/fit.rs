//! `migration-sim fit TRACE`: fit a scenario to a real QEMU's
//! `query-migrate` samples, print how well its replay matches them, and
//! replay it with changed parameters.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use migration_sim::config::parse_rate;
use migration_sim::fit::estimate::LinkBasis;
use migration_sim::fit::{self, Changes, Comparison, Fit, FitError, FitOptions, Layout, Origin, Totals, Trace, WhatIf};
use serde_json::json;

use super::run::human_bytes;
use super::CliError;

/// Options of `fit`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The trace: query-migrate answers polled from the source QEMU, one
    /// JSON object a line (bare, or QMP replies; optionally with a
    /// `timestamp` member and the query-migrate-parameters and
    /// query-migrate-capabilities answers).
    #[arg(value_name = "TRACE")]
    pub trace: PathBuf,
    /// Change a migration parameter for the what-if (QEMU's name, as in
    /// scenario files): `--set downtime-limit=500`, `--set max-bandwidth=64MiB`.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = Changes::parse_set)]
    pub set: Vec<(String, String)>,
    /// Turn a capability on or off for the what-if: `--cap multifd`,
    /// `--cap auto-converge=off`.
    #[arg(long = "cap", value_name = "NAME[=on|off]", value_parser = Changes::parse_cap)]
    pub cap: Vec<(String, bool)>,
    /// The link's bandwidth when known, e.g. `10Gbit/s` (a rate-limited
    /// trace only bounds it from below).
    #[arg(long, value_name = "RATE", value_parser = parse_rate)]
    pub link_bandwidth: Option<f64>,
    /// Write the fitted scenario (TOML, for `run --scenario`); its
    /// max-bandwidth is the simulator's value that sends what QEMU sent.
    #[arg(long, value_name = "FILE")]
    pub write_scenario: Option<PathBuf>,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Run the subcommand: exit status 0, or 2 on errors.
pub fn run(args: &Args) -> ExitCode {
    match execute(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => super::fail(&e),
    }
}

fn execute(args: &Args) -> Result<(), CliError> {
    let trace = Trace::from_file(&args.trace).map_err(FitError::from)?;
    let fitted = fit::fit(&trace, &FitOptions { link_bandwidth: args.link_bandwidth })?;
    let changes = Changes { set: args.set.clone(), caps: args.cap.clone() };
    let what_if = if changes.is_empty() { None } else { Some(fitted.what_if(&changes)?) };
    if let Some(path) = &args.write_scenario {
        let text = toml::to_string(&fitted.scenario)
            .map_err(|e| FitError::Internal(format!("the fitted scenario as TOML: {e}")))?;
        std::fs::write(path, text).map_err(|source| CliError::Io { path: path.clone(), source })?;
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let io = |source| CliError::Io { path: PathBuf::from("<stdout>"), source };
    if args.json {
        let doc = json!({
            "trace": trace.file,
            "samples": trace.samples.len(),
            "estimates": fitted.estimates,
            "layout": fitted.layout,
            "device-bytes": fitted.device_bytes,
            "fit-error": fitted.comparison,
            "what-if": what_if.as_ref().map(|w| json!({
                "changes": changes.describe(),
                "predicted": w.totals,
                "timed-out": w.timed_out,
            })),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?).map_err(io)?;
    } else {
        write_fit(&mut out, &trace, &fitted).map_err(io)?;
        write_error(&mut out, &fitted.comparison).map_err(io)?;
        if let Some(w) = &what_if {
            write_what_if(&mut out, &changes, w).map_err(io)?;
        }
    }
    out.flush().map_err(io)
}

fn origin(o: Origin) -> &'static str {
    match o {
        Origin::Trace => "from the trace",
        Origin::Inferred => "inferred",
        Origin::Default => "QEMU's default",
        Origin::Given => "given",
    }
}

fn rate(bytes_per_s: f64) -> String {
    format!("{}/s", human_bytes(bytes_per_s))
}

fn write_fit(out: &mut impl std::io::Write, trace: &Trace, f: &Fit) -> std::io::Result<()> {
    let e = &f.estimates;
    let p = &e.settings.parameters;
    let ps = e.page_size as f64;
    let status = trace.last().map_or("none", |s| s.status.as_str());
    writeln!(out, "trace {}: {} samples, {status} at {} ms", trace.file, trace.samples.len(), f.trace_ms)?;
    writeln!(out, "== fitted")?;
    writeln!(
        out,
        "  RAM            {} ({} pages of {} B)",
        human_bytes(e.total_bytes as f64),
        e.total_bytes / e.page_size,
        e.page_size
    )?;
    writeln!(
        out,
        "  zero pages     {} ({:.1}%), {}",
        e.zero_pages,
        100.0 * e.zero_pages as f64 / (e.total_bytes as f64 / ps),
        match f.layout {
            Layout::Ordered => "mostly after the data (ordered layout)",
            Layout::Interleaved => "spread among the data (interleaved layout)",
        }
    )?;
    match e.working_set {
        Some(ws) => writeln!(
            out,
            "  working set    {} ({} pages), {:.0} page writes/s ({}), fitted to {} syncs (residual {:.1}%)",
            human_bytes(ws.pages as f64 * ps),
            ws.pages,
            ws.write_rate,
            rate(ws.write_rate * ps),
            e.harvests.len(),
            100.0 * ws.residual
        )?,
        None => writeln!(out, "  working set    none (no page was dirtied again)")?,
    }
    writeln!(out, "  other data     {} pages", e.data_pages.saturating_sub(e.working_set.map_or(0, |w| w.pages)))?;
    let budget = p.max_bandwidth.0 as f64 / 10.0;
    let window = match e.window_bytes {
        None => "no full window".to_string(),
        // An inferred max-bandwidth is the windows' own rate.
        Some(w) if budget > 0.0 && e.settings.max_bandwidth_origin != Origin::Inferred => {
            format!("{w:.0} B per 100 ms window ({:+.1}% over its budget)", 100.0 * (w / budget - 1.0))
        }
        Some(w) => format!("{w:.0} B per 100 ms window"),
    };
    let limited = if e.rate_limited { "rate-limited" } else { "not rate-limited" };
    writeln!(
        out,
        "  max-bandwidth  {} ({}); QEMU sent {window}, {limited}",
        rate(p.max_bandwidth.0 as f64),
        origin(e.settings.max_bandwidth_origin)
    )?;
    writeln!(out, "  downtime-limit {} ms ({})", p.downtime_limit, origin(e.settings.downtime_limit_origin))?;
    let basis = match e.link_basis {
        LinkBasis::Throughput => "the run's throughput",
        LinkBasis::SwitchoverLowerBound => "at least: switchover bytes per ms of downtime; --link-bandwidth to set",
        LinkBasis::Assumed => "assumed: the run was rate-limited; --link-bandwidth to set",
        LinkBasis::Given => "given",
    };
    writeln!(out, "  link           {} ({basis})", rate(e.link_bandwidth))?;
    let non_ram = e.non_ram_bytes.map_or("unknown".to_string(), |b| format!("{b} B"));
    writeln!(out, "  setup-time     {} ms; non-RAM bytes (device state, headers) {non_ram}", e.setup_time_ms)?;
    let caps = serde_json::to_value(&e.settings.capabilities).unwrap_or_default();
    let on: Vec<&str> = caps
        .as_object()
        .map_or(Vec::new(), |m| m.iter().filter(|(_, v)| v.as_bool() == Some(true)).map(|(k, _)| k.as_str()).collect());
    let on = if on.is_empty() { "none".to_string() } else { on.join(", ") };
    writeln!(out, "  capabilities   {on} ({})", origin(e.settings.capabilities_origin))
}

fn opt<T: std::fmt::Display>(v: Option<T>, unit: &str) -> String {
    v.map_or("-".to_string(), |v| format!("{v}{unit}"))
}

fn pct(v: Option<f64>) -> String {
    v.map_or("-".to_string(), |v| format!("{:+.1}%", 100.0 * v))
}

fn write_error(out: &mut impl std::io::Write, c: &Comparison) -> std::io::Result<()> {
    let (t, r) = (&c.trace, &c.replay);
    writeln!(out, "== fit error: the fitted scenario replayed against the trace")?;
    writeln!(out, "  {:<14}{:>16}{:>16}{:>10}", "", "trace", "replay", "error")?;
    writeln!(out, "  {:<14}{:>16}{:>16}", "status", t.status, r.status)?;
    let row = |name: &str, a: String, b: String, err: String| format!("  {name:<14}{a:>16}{b:>16}{err:>10}");
    writeln!(
        out,
        "{}",
        row("total-time", opt(t.total_time_ms, " ms"), opt(r.total_time_ms, " ms"), pct(c.total_time_error))
    )?;
    writeln!(
        out,
        "{}",
        row("transferred", t.transferred.to_string(), r.transferred.to_string(), pct(c.transferred_error))
    )?;
    let dd = c.downtime_difference_ms.map_or("-".to_string(), |d| format!("{d:+} ms"));
    writeln!(out, "{}", row("downtime", opt(t.downtime_ms, " ms"), opt(r.downtime_ms, " ms"), dd))?;
    let ds = format!("{:+}", c.dirty_syncs_difference);
    writeln!(out, "{}", row("dirty syncs", t.dirty_syncs.to_string(), r.dirty_syncs.to_string(), ds))?;
    writeln!(
        out,
        "  remaining      RMS difference {} over {} samples ({:.1}% of the trace's mean)",
        human_bytes(c.remaining_rms_bytes),
        c.samples,
        100.0 * c.remaining_rms_share
    )
}

fn write_what_if(out: &mut impl std::io::Write, changes: &Changes, w: &WhatIf) -> std::io::Result<()> {
    let t: &Totals = &w.totals;
    writeln!(out, "== what-if: {}", changes.describe())?;
    let limit = if w.timed_out { " (the simulation's time limit was reached)" } else { "" };
    writeln!(out, "  status         {}{limit}", t.status)?;
    writeln!(out, "  total-time     {}", opt(t.total_time_ms, " ms"))?;
    writeln!(out, "  downtime       {}", opt(t.downtime_ms, " ms"))?;
    writeln!(out, "  transferred    {} ({})", t.transferred, human_bytes(t.transferred as f64))?;
    let passes = t.dirty_syncs.saturating_sub(1);
    let plural = if passes == 1 { "" } else { "es" };
    writeln!(out, "  dirty syncs    {} ({passes} precopy pass{plural})", t.dirty_syncs)
}
