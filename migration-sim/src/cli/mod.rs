//! The subcommands, one module each, and what they share: scenario loading,
//! error reporting with exit codes, and reading `query-migrate` answers.
//!
//! The answers are read through their JSON form (what a QMP client sees)
//! rather than through the library's Rust structs, so that the CLI keeps
//! working whatever Rust types the reports are built from.

pub mod fit;
pub mod plot;
pub mod run;
pub mod serve;
pub mod sweep;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use migration_sim::fit::FitError;
use migration_sim::{default_scenario, default_vfio_scenario, ConfigError, EngineKind, Scenario, SimError};
use serde_json::Value;

/// Why a subcommand could not do its job (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A scenario file was unreadable, malformed or invalid.
    #[error("{0}")]
    Scenario(#[from] ConfigError),
    /// A scenario built from the command line is invalid.
    #[error("{context}: {source}")]
    Simulation {
        /// Which scenario.
        context: String,
        /// The validation problems.
        #[source]
        source: SimError,
    },
    /// A sweep grid file or list is malformed.
    #[error("{0}")]
    Grid(String),
    /// An output file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The plot could not be drawn.
    #[error("{path}: cannot draw the plot: {message}")]
    Plot {
        /// The SVG file.
        path: PathBuf,
        /// The drawing error.
        message: String,
    },
    /// A trace could not be fitted, or a what-if not replayed.
    #[error("{0}")]
    Fit(#[from] FitError),
    /// A `query-migrate` answer could not be rendered as JSON.
    #[error("cannot render a query-migrate answer as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Print `err` the way every subcommand does and return exit status 2.
pub fn fail(err: &CliError) -> ExitCode {
    // The scenario errors already start with the file name; `Display` of
    // `ConfigError::Invalid` lists one problem per line.
    eprintln!("migration-sim: error: {err}");
    ExitCode::from(2)
}

/// The RAM engine, as chosen on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineArg {
    /// Page classes with closed-form dirtying (fast).
    Aggregate,
    /// A per-page dirty bitmap with seeded random writes (realistic).
    Bitmap,
}

impl From<EngineArg> for EngineKind {
    fn from(e: EngineArg) -> Self {
        match e {
            EngineArg::Aggregate => EngineKind::Aggregate,
            EngineArg::Bitmap => EngineKind::Bitmap,
        }
    }
}

/// The engine's name as scenario files spell it.
pub fn engine_name(e: EngineKind) -> &'static str {
    match e {
        EngineKind::Aggregate => "aggregate",
        EngineKind::Bitmap => "bitmap",
    }
}

/// Built-in scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Preset {
    /// 8 GiB, 4 vCPUs, a hot working set, the usual PC devices, 10 Gbit/s.
    Default,
    /// The default guest plus a VFIO device with 2 GiB of state.
    Vfio,
}

/// The scenario from `--scenario FILE`, or else the preset.
pub fn load_scenario(file: Option<&Path>, preset: Preset) -> Result<Scenario, CliError> {
    match file {
        Some(path) => Ok(Scenario::from_file(path)?),
        None => Ok(match preset {
            Preset::Default => default_scenario(),
            Preset::Vfio => default_vfio_scenario(),
        }),
    }
}

/// A progress bar on stderr; indicatif draws nothing when stderr is not a
/// terminal, so pipes and CI logs stay clean.
pub fn progress_bar(len: u64, template: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    // The templates are constants of this crate; a bad one falls back to
    // indicatif's default look rather than failing the run.
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// A member of a JSON answer by path (`["ram", "remaining"]`).
pub fn member<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

/// An integer member (QMP sizes and times are integers; `mbps` is not).
pub fn int(v: &Value, path: &[&str]) -> Option<i64> {
    member(v, path).and_then(|x| x.as_i64().or_else(|| x.as_u64().map(|u| i64::try_from(u).unwrap_or(i64::MAX))))
}

/// A numeric member as `f64`.
pub fn num(v: &Value, path: &[&str]) -> Option<f64> {
    member(v, path).and_then(Value::as_f64)
}

/// A string member.
pub fn text<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    member(v, path).and_then(Value::as_str)
}

/// One `device-state-times` entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct DeviceTime {
    /// Section id string.
    pub name: String,
    /// Instance id.
    pub instance_id: u32,
    /// Save time, µs.
    pub save_time: u64,
}

/// The source's `device-state-times`, most expensive first (ties in
/// QEMU's save order, which is the list's order).
pub fn device_times_by_cost(source: &Value) -> Vec<DeviceTime> {
    let mut out: Vec<DeviceTime> = member(source, &["device-state-times"])
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|d| {
                    Some(DeviceTime {
                        name: text(d, &["name"])?.to_string(),
                        instance_id: u32::try_from(int(d, &["instance-id"])?).ok()?,
                        save_time: u64::try_from(int(d, &["save-time"])?).ok()?,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    // A stable sort keeps save order among equal costs.
    out.sort_by_key(|d| std::cmp::Reverse(d.save_time));
    out
}
