//! `migration-sim run`: migrate one guest to the end and print what both
//! QEMUs report.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use migration_sim::events::{Event, Side};
use migration_sim::units::NS_PER_MS;
use migration_sim::{report, RunOutcome, Scenario, Simulation};
use serde_json::{json, Value};

use super::plot::{self, PlotData, Sample};
use super::{device_times_by_cost, engine_name, fail, int, load_scenario, num, progress_bar, text, CliError};
use super::{DeviceTime, EngineArg, Preset};

/// Options of `run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario file (TOML); errors name the file, line and key.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Built-in scenario to run when no --scenario is given.
    #[arg(long, value_enum, default_value = "default", conflicts_with = "scenario")]
    pub preset: Preset,
    /// RAM engine (overrides the scenario's `engine`).
    #[arg(long, value_enum)]
    pub engine: Option<EngineArg>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Write an SVG plot: remaining bytes, throughput and dirty rate over
    /// time, and the per-device switchover save times.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// Sampling period of the plot's time series, ms of simulated time
    /// (default: about 1000 samples over the migration, at most 100 ms
    /// apart).
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    pub sample_ms: Option<u64>,
}

/// Run the subcommand; exit status 0 when the migration completed, 1 when
/// it ended otherwise (failed, cancelled, time limit), 2 on errors.
pub fn run(args: &Args) -> ExitCode {
    match execute(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => fail(&e),
    }
}

/// What one sample shows, read from the source's `query-migrate`.
fn sample_of(time_ns: u64, source: &Value) -> Option<Sample> {
    let status = text(source, &["status"])?.to_string();
    let ram_remaining = int(source, &["ram", "remaining"]).unwrap_or(0).max(0) as f64;
    let page_size = int(source, &["ram", "page-size"]).unwrap_or(4096).max(0) as f64;
    Some(Sample {
        time_s: time_ns as f64 / 1e9,
        // Without the seed's system-wide member, RAM is all there is.
        remaining: int(source, &["remaining"]).map_or(ram_remaining, |r| r.max(0) as f64),
        ram_remaining,
        mbps: num(source, &["ram", "mbps"]).unwrap_or(0.0),
        // dirty-pages-rate is in pages/s; as Mbit/s it compares directly
        // with the throughput, which is what decides convergence.
        dirty_mbps: int(source, &["ram", "dirty-pages-rate"]).unwrap_or(0).max(0) as f64 * page_size * 8.0 / 1e6,
        throttle: int(source, &["cpu-throttle-percentage"]).unwrap_or(0),
        status,
    })
}

fn execute(args: &Args) -> Result<bool, CliError> {
    let mut scenario = load_scenario(args.scenario.as_deref(), args.preset)?;
    if let Some(engine) = args.engine {
        scenario.engine = engine.into();
    }
    let mut sim = Simulation::new(&scenario)
        .map_err(|source| CliError::Simulation { context: format!("scenario '{}'", scenario.name), source })?;

    let wall = Instant::now();
    let (outcome, samples) = run_with_progress(&mut sim, sample_period(args, &scenario), args.plot.is_some());
    let wall = wall.elapsed();

    let source = serde_json::to_value(sim.query_migrate_source())?;
    let destination = serde_json::to_value(sim.query_migrate_destination())?;
    let devices = device_times_by_cost(&source);
    let info_migrate = report::render_info_migrate(&sim.query_migrate_source(), false);
    let status = text(&source, &["status"]).unwrap_or("none").to_string();

    if let Some(path) = &args.plot {
        let switchover_s = sim
            .events()
            .iter()
            .find(|e| e.side == Side::Source && e.event == Event::Stop)
            .map(|e| e.time_ns as f64 / 1e9);
        let data = PlotData {
            title: format!("migration-sim: {} ({} engine), {status}", scenario.name, engine_name(scenario.engine)),
            samples,
            devices: devices.clone(),
            switchover_s,
            downtime_ms: int(&source, &["downtime"]),
            total_time_ms: int(&source, &["total-time"]),
        };
        plot::render(path, &data)?;
    }

    let refused = refused_actions(&sim, &scenario);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let io = |source| CliError::Io { path: PathBuf::from("<stdout>"), source };
    if args.json {
        let doc = json!({
            "scenario": scenario.name,
            "engine": engine_name(scenario.engine),
            "outcome": {
                "source-status": status,
                "destination-status": text(&destination, &["status"]),
                "timed-out": outcome.timed_out,
            },
            "source": source,
            "destination": destination,
            "device-save-times-by-cost": devices,
            "refused-actions": refused,
            "info-migrate": info_migrate,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?).map_err(io)?;
    } else {
        write_text(&mut out, &source, &destination, &devices, &info_migrate, &sim).map_err(io)?;
    }
    out.flush().map_err(io)?;
    drop(out);

    if !args.json {
        eprintln!(
            "migration-sim: {:.3} s of simulated time in {:.3} s of wall time",
            outcome.end_ns as f64 / 1e9,
            wall.as_secs_f64()
        );
    }
    report_on_stderr(&refused, &status, outcome.timed_out);
    Ok(status == "completed")
}

/// The sampling period of the time series, ns of simulated time.
fn sample_period(args: &Args, scenario: &Scenario) -> u64 {
    match (args.sample_ms, &args.plot) {
        (Some(ms), _) => ms.saturating_mul(NS_PER_MS),
        // Runs are deterministic whatever the sampling, so a quick unsampled
        // run tells how long the migration lasts; a short one then gets
        // finer samples than 100 ms, which would make its plot a few dots.
        (None, Some(_)) => match Simulation::new(scenario) {
            Ok(mut probe) => (probe.run_to_completion().end_ns / 1000).clamp(NS_PER_MS, 100 * NS_PER_MS),
            Err(_) => 100 * NS_PER_MS,
        },
        (None, None) => 100 * NS_PER_MS,
    }
}

/// Runs the migration to its end, showing progress on a terminal; keeps the
/// samples when asked (for the plot).
fn run_with_progress(sim: &mut Simulation, period_ns: u64, keep_samples: bool) -> (RunOutcome, Vec<Sample>) {
    // `wide_msg` is cut to the terminal's width, so the bar never wraps.
    let bar = progress_bar(1000, "{spinner} [{bar:20}] {percent:>3}% {wide_msg}");
    let mut samples: Vec<Sample> = Vec::new();
    let outcome = sim.run_sampled(period_ns, |snap| {
        let Ok(source) = serde_json::to_value(&snap.source) else { return };
        let Some(s) = sample_of(snap.time_ns, &source) else { return };
        if !bar.is_hidden() {
            // Progress is the share of the guest no longer pending; it goes
            // back when the guest dirties pages faster than they are sent,
            // which is what a watcher should see.
            let total = int(&source, &["ram", "total"]).unwrap_or(0).max(0) as f64;
            let total = total.max(s.remaining);
            let done = if total > 0.0 { 1.0 - s.remaining / total } else { 0.0 };
            bar.set_position((done * 1000.0) as u64);
            bar.set_message(format!(
                "{:.1}s {}, {} left, {:.0} Mbit/s",
                s.time_s,
                s.status,
                human_bytes(s.remaining),
                s.mbps
            ));
        }
        if keep_samples {
            samples.push(s);
        }
    });
    bar.finish_and_clear();
    (outcome, samples)
}

/// Scheduled actions QEMU refused (a `migrate-start-postcopy` after the
/// migration completed, say): part of the result, not errors.
fn refused_actions(sim: &Simulation, scenario: &Scenario) -> Vec<Value> {
    sim.refused_actions()
        .iter()
        .map(|r| {
            json!({
                "time-ms": r.time_ns / NS_PER_MS,
                "action": r.action.and_then(|i| scenario.actions.get(i)).map(|a| serde_json::to_value(a.action).unwrap_or(Value::Null)),
                "class": r.error.class,
                "desc": r.error.desc,
            })
        })
        .collect()
}

/// Tells on stderr what did not go as scheduled.
fn report_on_stderr(refused: &[Value], status: &str, timed_out: bool) {
    for r in refused {
        let action = r.get("action").and_then(Value::as_str).unwrap_or("migrate");
        eprintln!(
            "migration-sim: the scheduled {action} at {} ms was refused: {}",
            r.get("time-ms").unwrap_or(&Value::Null),
            r.get("desc").and_then(Value::as_str).unwrap_or("")
        );
    }
    if status != "completed" {
        let why = if timed_out { " (the scenario's time limit was reached)" } else { "" };
        eprintln!("migration-sim: the migration did not complete: status {status}{why}");
    }
}

fn write_text(
    out: &mut impl std::io::Write,
    source: &Value,
    destination: &Value,
    devices: &[DeviceTime],
    info_migrate: &str,
    sim: &Simulation,
) -> std::io::Result<()> {
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("<{e}>"));
    writeln!(out, "== source: query-migrate")?;
    writeln!(out, "{}", pretty(source))?;
    writeln!(out)?;
    writeln!(out, "== destination: query-migrate")?;
    writeln!(out, "{}", pretty(destination))?;
    writeln!(out)?;
    writeln!(out, "== device save times at switchover, most expensive first")?;
    if devices.is_empty() {
        writeln!(out, "(none reported: device-state-times appears once a migration completes)")?;
    } else {
        let width = devices.iter().map(|d| d.name.len()).max().unwrap_or(6).max(6);
        writeln!(out, "{:>14}  {:<width$}  {:>8}", "save-time (µs)", "device", "instance")?;
        for d in devices {
            writeln!(out, "{:>14}  {:<width$}  {:>8}", d.save_time, d.name, d.instance_id)?;
        }
        let total: u64 = devices.iter().map(|d| d.save_time).sum();
        writeln!(out, "{total:>14}  {:<width$}", format!("total of {} sections", devices.len()))?;
    }
    writeln!(out)?;
    writeln!(out, "== source: info migrate")?;
    write!(out, "{info_migrate}")?;
    write!(out, "{}", report::render_info_status(&sim.query_status_source()))?;
    writeln!(out)?;
    writeln!(out, "== destination: info status")?;
    write!(out, "{}", report::render_info_status(&sim.query_status_destination()))?;
    Ok(())
}

/// Bytes with a binary unit and three significant digits, for the
/// progress line.
pub fn human_bytes(b: f64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = b.max(0.0);
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{v:.0} B")
    } else {
        format!("{v:.2} {}", UNITS[u])
    }
}
