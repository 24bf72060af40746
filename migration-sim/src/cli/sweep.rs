//! `migration-sim sweep`: run every point of a grid of scenarios (in
//! parallel) and print one CSV row per point.
//!
//! A grid point is the base scenario with some of these replaced: guest RAM
//! (page classes scaled along, so the guest keeps its shape), link
//! bandwidth, QEMU's `max-bandwidth`, the guest's dirty rate (page writes ×
//! page size per second, spread over the page classes in their existing
//! proportions), QEMU's `downtime-limit`, and the RAM engine. The axes come
//! from the command line or from a grid file (TOML, the same names as the
//! options; command-line lists win).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use migration_sim::config::{parse_rate, parse_size, ByteSize, Rate};
use migration_sim::{EngineKind, Scenario, Simulation};
use rayon::prelude::*;
use serde::Deserialize;
use serde_json::Value;

use super::{engine_name, fail, int, load_scenario, num, progress_bar, text, CliError, EngineArg, Preset};

/// Options of `sweep`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Base scenario file (TOML); default: the grid file's `scenario`, else
    /// the built-in preset.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Built-in base scenario when no scenario file is given.
    #[arg(long, value_enum, default_value = "default")]
    pub preset: Preset,
    /// Grid file (TOML): `scenario`, `ram`, `link-bandwidth`,
    /// `max-bandwidth`, `dirty-rate`, `downtime-limit`, `engine` (lists) and
    /// `time-limit-s`.
    #[arg(long, value_name = "FILE")]
    pub grid: Option<PathBuf>,
    /// Guest RAM sizes, e.g. `4GiB,8GiB` (page classes are scaled along).
    #[arg(long, value_name = "SIZES", value_delimiter = ',', value_parser = size_arg)]
    pub ram: Vec<u64>,
    /// Link bandwidths, e.g. `1Gbit/s,10Gbit/s`.
    #[arg(long, value_name = "RATES", value_delimiter = ',', value_parser = rate_arg)]
    pub link_bandwidth: Vec<f64>,
    /// QEMU `max-bandwidth` values, e.g. `128MiB/s,1GiB/s` (0 = unlimited).
    #[arg(long, value_name = "RATES", value_delimiter = ',', value_parser = rate_arg)]
    pub max_bandwidth: Vec<f64>,
    /// Guest dirty rates (page writes × page size), e.g. `50MiB/s,200MiB/s`.
    #[arg(long, value_name = "RATES", value_delimiter = ',', value_parser = rate_arg)]
    pub dirty_rate: Vec<f64>,
    /// QEMU `downtime-limit` values, ms.
    #[arg(long, value_name = "MS", value_delimiter = ',')]
    pub downtime_limit: Vec<u64>,
    /// RAM engines.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub engine: Vec<EngineArg>,
    /// Simulated-time limit per scenario, s (default: the scenario's).
    #[arg(long, value_name = "SECONDS")]
    pub time_limit: Option<f64>,
    /// Write the CSV here instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Scenarios run at once (default: one per core).
    #[arg(long, short, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
}

fn size_arg(s: &str) -> Result<u64, String> {
    parse_size(s)
}

fn rate_arg(s: &str) -> Result<f64, String> {
    parse_rate(s)
}

/// A grid file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
struct GridFile {
    /// Base scenario, relative to the grid file.
    scenario: Option<PathBuf>,
    ram: Vec<ByteSize>,
    link_bandwidth: Vec<Rate>,
    max_bandwidth: Vec<Rate>,
    dirty_rate: Vec<Rate>,
    downtime_limit: Vec<u64>,
    engine: Vec<EngineKind>,
    time_limit_s: Option<f64>,
}

fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let before = src.get(..offset.min(src.len())).unwrap_or(src);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Read a grid file; errors name the file, line, column and key.
fn read_grid(path: &Path) -> Result<GridFile, CliError> {
    let file = path.display().to_string();
    let src = std::fs::read_to_string(path).map_err(|source| CliError::Io { path: path.to_path_buf(), source })?;
    let grid: GridFile = toml::from_str(&src).map_err(|e| {
        let Some(span) = e.span() else { return CliError::Grid(format!("{file}: {}", e.message().trim_end())) };
        let (line, column) = line_col(&src, span.start);
        // The grid is one flat table: the key is the top-level entry whose
        // key or value holds the error.
        let key = toml::de::DeTable::parse(&src).ok().and_then(|doc| {
            doc.get_ref().iter().find_map(|(k, v)| {
                let hit = k.span().contains(&span.start) || v.span().contains(&span.start);
                hit.then(|| k.get_ref().to_string())
            })
        });
        let key = key.map(|k| format!("{k}: ")).unwrap_or_default();
        CliError::Grid(format!("{file}:{line}:{column}: {key}{}", e.message().trim_end()))
    })?;
    if let Some(t) = grid.time_limit_s {
        if !(t.is_finite() && t > 0.0) {
            let (line, column) = src.find("time-limit-s").map_or((0, 0), |o| line_col(&src, o));
            return Err(CliError::Grid(format!(
                "{file}:{line}:{column}: time-limit-s: must be a positive number of seconds"
            )));
        }
    }
    Ok(grid)
}

/// One grid point: the axes' values (`None`: the base scenario's).
#[derive(Debug, Clone, Copy, Default)]
struct Point {
    ram: Option<u64>,
    link_bandwidth: Option<f64>,
    max_bandwidth: Option<f64>,
    dirty_rate: Option<f64>,
    downtime_limit: Option<u64>,
    engine: Option<EngineKind>,
}

fn axis<T: Copy>(values: &[T]) -> Vec<Option<T>> {
    if values.is_empty() {
        vec![None]
    } else {
        values.iter().copied().map(Some).collect()
    }
}

/// Every combination, the first axis varying slowest.
fn points(
    ram: &[u64],
    link: &[f64],
    max_bw: &[f64],
    dirty: &[f64],
    downtime: &[u64],
    engine: &[EngineKind],
) -> Vec<Point> {
    let mut out = Vec::new();
    for &ram in &axis(ram) {
        for &link_bandwidth in &axis(link) {
            for &max_bandwidth in &axis(max_bw) {
                for &dirty_rate in &axis(dirty) {
                    for &downtime_limit in &axis(downtime) {
                        for &engine in &axis(engine) {
                            out.push(Point { ram, link_bandwidth, max_bandwidth, dirty_rate, downtime_limit, engine });
                        }
                    }
                }
            }
        }
    }
    out
}

/// The base scenario with a point's values applied.
fn apply(base: &Scenario, p: &Point, time_limit: Option<f64>) -> Result<Scenario, String> {
    let mut s = base.clone();
    let page = s.guest.page_size.max(1);
    if let Some(ram) = p.ram {
        // Keep the guest's shape: every class keeps its share of RAM
        // (rounded down to whole pages).
        let old = s.guest.ram.0.max(1) as f64;
        for c in &mut s.guest.classes {
            let scaled = (c.size.0 as f64 * ram as f64 / old) as u64;
            c.size = ByteSize(scaled / page * page);
        }
        s.guest.ram = ByteSize(ram);
    }
    if let Some(b) = p.link_bandwidth {
        s.link.bandwidth = Rate(b);
    }
    if let Some(b) = p.max_bandwidth {
        s.migration.parameters.max_bandwidth = ByteSize(b.round() as u64);
    }
    if let Some(rate) = p.dirty_rate {
        let total: f64 = s.guest.classes.iter().map(|c| c.write_rate).sum();
        let target = rate / page as f64;
        if total > 0.0 {
            for c in &mut s.guest.classes {
                c.write_rate *= target / total;
            }
        } else if let Some(first) = s.guest.classes.first_mut() {
            first.write_rate = target;
        } else {
            return Err("a dirty rate needs at least one page class ([[guest.classes]]) in the base scenario".into());
        }
    }
    if let Some(d) = p.downtime_limit {
        s.migration.parameters.downtime_limit = d;
    }
    if let Some(e) = p.engine {
        s.engine = e;
    }
    if let Some(t) = time_limit {
        s.time_limit_s = t;
    }
    Ok(s)
}

/// CSV columns: the point's effective parameters, then the outcome.
const HEADER: &[&str] = &[
    "scenario",
    "engine",
    "ram-bytes",
    "link-bandwidth-bytes-per-s",
    "max-bandwidth-bytes-per-s",
    "dirty-rate-bytes-per-s",
    "downtime-limit-ms",
    "status",
    "converged",
    "total-time-ms",
    "setup-time-ms",
    "downtime-ms",
    "expected-downtime-ms",
    "transferred-bytes",
    "remaining-bytes",
    "dirty-sync-count",
    "mbps",
    "cpu-throttle-percentage",
    "simulated-time-ms",
    "timed-out",
];

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// Run one scenario and format its row.
fn row(s: &Scenario) -> Result<String, CliError> {
    let mut sim = Simulation::new(s)
        .map_err(|source| CliError::Simulation { context: format!("scenario '{}'", s.name), source })?;
    let outcome = sim.run_to_completion();
    let src: Value = serde_json::to_value(sim.query_migrate_source())?;
    let status = text(&src, &["status"]).unwrap_or("none");
    let dirty_rate: f64 = s.guest.classes.iter().map(|c| c.write_rate).sum::<f64>() * s.guest.page_size as f64;
    let fields = [
        csv_field(&s.name),
        engine_name(s.engine).to_string(),
        s.guest.ram.0.to_string(),
        format!("{:.0}", s.link.bandwidth.0),
        s.migration.parameters.max_bandwidth.0.to_string(),
        format!("{dirty_rate:.0}"),
        s.migration.parameters.downtime_limit.to_string(),
        status.to_string(),
        (status == "completed").to_string(),
        opt(int(&src, &["total-time"])),
        opt(int(&src, &["setup-time"])),
        opt(int(&src, &["downtime"])),
        opt(int(&src, &["expected-downtime"])),
        opt(int(&src, &["ram", "transferred"])),
        opt(int(&src, &["remaining"]).or_else(|| int(&src, &["ram", "remaining"]))),
        opt(int(&src, &["ram", "dirty-sync-count"])),
        opt(num(&src, &["ram", "mbps"]).map(|m| format!("{m:.2}"))),
        opt(int(&src, &["cpu-throttle-percentage"])),
        (outcome.end_ns / 1_000_000).to_string(),
        outcome.timed_out.to_string(),
    ];
    Ok(fields.join(","))
}

/// Run the subcommand: exit status 0 when every row was written, 2 on
/// errors (nothing is run unless every grid point is a valid scenario).
pub fn run(args: &Args) -> ExitCode {
    match execute(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn execute(args: &Args) -> Result<(), CliError> {
    let grid = match &args.grid {
        Some(path) => read_grid(path)?,
        None => GridFile::default(),
    };
    let grid_base = match (&args.grid, &grid.scenario) {
        (Some(g), Some(s)) => Some(g.parent().unwrap_or(Path::new(".")).join(s)),
        _ => None,
    };
    let base = load_scenario(args.scenario.as_deref().or(grid_base.as_deref()), args.preset)?;

    let pick =
        |cli: &[f64], file: &[Rate]| if cli.is_empty() { file.iter().map(|r| r.0).collect() } else { cli.to_vec() };
    let ram: Vec<u64> = if args.ram.is_empty() { grid.ram.iter().map(|b| b.0).collect() } else { args.ram.clone() };
    let link = pick(&args.link_bandwidth, &grid.link_bandwidth);
    let max_bw = pick(&args.max_bandwidth, &grid.max_bandwidth);
    let dirty = pick(&args.dirty_rate, &grid.dirty_rate);
    let downtime =
        if args.downtime_limit.is_empty() { grid.downtime_limit.clone() } else { args.downtime_limit.clone() };
    let engine: Vec<EngineKind> =
        if args.engine.is_empty() { grid.engine.clone() } else { args.engine.iter().map(|&e| e.into()).collect() };
    let time_limit = args.time_limit.or(grid.time_limit_s);
    if let Some(t) = time_limit {
        if !(t.is_finite() && t > 0.0) {
            return Err(CliError::Grid("--time-limit: must be a positive number of seconds".into()));
        }
    }

    // Build and check every scenario before running any, so that a typo in
    // one value does not cost the whole sweep.
    let mut scenarios = Vec::new();
    for p in points(&ram, &link, &max_bw, &dirty, &downtime, &engine) {
        let s = apply(&base, &p, time_limit).map_err(CliError::Grid)?;
        if let Err(issues) = s.validate() {
            let mut msg = format!("grid point {} is not a valid scenario:", describe(&p));
            for i in issues {
                let _ = write!(msg, "\n  {i}");
            }
            return Err(CliError::Grid(msg));
        }
        scenarios.push(s);
    }

    let bar = progress_bar(scenarios.len() as u64, "{spinner} {elapsed:>4} [{bar:30}] {pos}/{len} scenarios");
    let run_all = || -> Vec<Result<String, CliError>> {
        scenarios
            .par_iter()
            .map(|s| {
                let r = row(s);
                bar.inc(1);
                r
            })
            .collect()
    };
    let rows = match args.jobs {
        Some(j) => rayon::ThreadPoolBuilder::new()
            .num_threads(usize::from(j))
            .build()
            .map_err(|e| CliError::Grid(format!("cannot start {j} worker threads: {e}")))?
            .install(run_all),
        None => run_all(),
    };
    bar.finish_and_clear();

    let mut csv = HEADER.join(",");
    csv.push('\n');
    for r in rows {
        csv.push_str(&r?);
        csv.push('\n');
    }
    match &args.output {
        Some(path) => std::fs::write(path, csv).map_err(|source| CliError::Io { path: path.clone(), source }),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(csv.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|source| CliError::Io { path: PathBuf::from("<stdout>"), source })
        }
    }
}

/// A grid point in words, for error messages.
fn describe(p: &Point) -> String {
    let mut parts = Vec::new();
    if let Some(v) = p.ram {
        parts.push(format!("ram={v}"));
    }
    if let Some(v) = p.link_bandwidth {
        parts.push(format!("link-bandwidth={v}"));
    }
    if let Some(v) = p.max_bandwidth {
        parts.push(format!("max-bandwidth={v}"));
    }
    if let Some(v) = p.dirty_rate {
        parts.push(format!("dirty-rate={v}"));
    }
    if let Some(v) = p.downtime_limit {
        parts.push(format!("downtime-limit={v}"));
    }
    if let Some(v) = p.engine {
        parts.push(format!("engine={}", engine_name(v)));
    }
    if parts.is_empty() {
        "(base scenario)".to_string()
    } else {
        format!("[{}]", parts.join(" "))
    }
}
