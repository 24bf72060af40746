//! What-if from a real trace: fit a scenario to the `query-migrate`
//! samples a user polled from a real QEMU, check it by replaying it, then
//! replay it with changed parameters.
//!
//! * [`trace`] reads the samples (JSON lines: bare answers or QMP replies,
//!   optionally with the `query-migrate-parameters` and
//!   `query-migrate-capabilities` answers);
//! * [`estimate`] takes what they tell directly: RAM size and zero pages,
//!   QEMU's settings, the bytes per rate window, the link, the setup time;
//! * [`dirty`] fits the guest's working set and write rate to the pages
//!   each dirty-bitmap sync added;
//! * [`model`] builds the simulator [`Scenario`];
//! * [`replay`] runs it at the trace's sample instants and measures the
//!   error (total time, bytes, downtime, syncs, the `remaining` curve).
//!
//! ```no_run
//! use migration_sim::fit::{fit, Changes, FitOptions, Trace};
//! let trace = Trace::from_file("src.jsonl".as_ref())?;
//! let fitted = fit(&trace, &FitOptions::default())?;
//! println!("total-time off by {:?}", fitted.comparison.total_time_error);
//! let changes = Changes { set: vec![("downtime-limit".into(), "500".into())], caps: vec![("multifd".into(), true)] };
//! let what_if = fitted.what_if(&changes)?;
//! println!("{} in {:?} ms", what_if.totals.status, what_if.totals.total_time_ms);
//! # Ok::<(), migration_sim::fit::FitError>(())
//! ```

pub mod dirty;
pub mod estimate;
pub mod model;
pub mod replay;
pub mod trace;

use serde_json::{Map, Value};

pub use estimate::{Estimates, Origin, Settings};
pub use model::Layout;
pub use replay::{Comparison, Replay, Totals};
pub use trace::{Sample, Trace, TraceError};

use crate::config::{Capabilities, ParameterUpdate, Scenario};
use crate::sim::SimError;

/// Why a fit or a what-if could not be made.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    /// The trace is unreadable or unusable (file and line named).
    #[error(transparent)]
    Trace(#[from] TraceError),
    /// A `--set` or `--cap` change is invalid.
    #[error("{arg}: {message}")]
    Change {
        /// The change as given.
        arg: String,
        /// What is wrong.
        message: String,
    },
    /// The scenario built is refused (a changed parameter out of QEMU's
    /// range, a capability conflict: QEMU's own texts).
    #[error("{0}")]
    Scenario(#[source] SimError),
    /// A simulator answer could not be read back (a bug).
    #[error("internal error: {0}")]
    Internal(String),
}

impl FitError {
    pub(crate) fn trace(file: &str, line: usize, message: String) -> FitError {
        FitError::Trace(TraceError { file: file.to_string(), line, message })
    }
}

/// Options of a fit.
#[derive(Debug, Clone, Default)]
pub struct FitOptions {
    /// The link's bandwidth, bytes/s, when known (a rate-limited trace only
    /// bounds it from below).
    pub link_bandwidth: Option<f64>,
}

/// A fitted trace.
#[derive(Debug, Clone)]
pub struct Fit {
    /// What the trace told.
    pub estimates: Estimates,
    /// The zero-page layout whose replay follows the trace best.
    pub layout: Layout,
    /// Device state added to the scenario to match the non-RAM bytes.
    pub device_bytes: u64,
    /// The trace's last `total-time`, ms.
    pub trace_ms: u64,
    /// The scenario fitted (the simulator's view: `max-bandwidth` is the
    /// value that makes it send what QEMU sent).
    pub scenario: Scenario,
    /// Its replay at the trace's instants.
    pub replay: Replay,
    /// Replay against trace.
    pub comparison: Comparison,
}

/// Fit a scenario to `trace` and replay it. Of the zero-page layouts
/// ([`Layout::candidates`]), the one whose `remaining` curve follows the
/// trace best is kept.
pub fn fit(trace: &Trace, options: &FitOptions) -> Result<Fit, FitError> {
    let estimates = estimate::estimate(trace, options.link_bandwidth)?;
    let times: Vec<u64> = trace.timed().map(|(_, t, _)| t).collect();
    let trace_ms = times.last().copied().unwrap_or(0);
    let mut best: Option<Fit> = None;
    for &layout in Layout::candidates(estimates.total_bytes) {
        let device_bytes = model::device_bytes(&estimates, trace_ms, layout)?;
        let scenario = model::scenario(&estimates, &estimates.settings, trace_ms, layout, device_bytes)?;
        let replay = replay::replay(&scenario, &times)?;
        let comparison = replay::compare(trace, &replay);
        if best.as_ref().is_none_or(|b| comparison.remaining_rms_bytes < b.comparison.remaining_rms_bytes) {
            let estimates = estimates.clone();
            best = Some(Fit { estimates, layout, device_bytes, trace_ms, scenario, replay, comparison });
        }
    }
    best.ok_or_else(|| FitError::Internal("no layout to try".into()))
}

/// A what-if's result.
#[derive(Debug, Clone)]
pub struct WhatIf {
    /// The settings replayed.
    pub settings: Settings,
    /// The scenario replayed.
    pub scenario: Scenario,
    /// Its end.
    pub totals: Totals,
    /// Whether it ran into the time limit without ending.
    pub timed_out: bool,
}

impl Fit {
    /// Replay the fitted guest and link with `changes` to QEMU's settings.
    pub fn what_if(&self, changes: &Changes) -> Result<WhatIf, FitError> {
        let settings = changes.apply(&self.estimates.settings)?;
        let scenario = model::scenario(&self.estimates, &settings, self.trace_ms, self.layout, self.device_bytes)?;
        let r = replay::replay(&scenario, &[])?;
        Ok(WhatIf { totals: Totals::of(&r.end), timed_out: r.timed_out, settings, scenario })
    }
}

/// Changes to QEMU's settings, with QEMU's names (as in scenario files).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// `migrate-set-parameters` members: name and value as given.
    pub set: Vec<(String, String)>,
    /// Capabilities: name and state.
    pub caps: Vec<(String, bool)>,
}

impl Changes {
    /// `KEY=VALUE`.
    pub fn parse_set(arg: &str) -> Result<(String, String), String> {
        match arg.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => {
                Ok((k.trim().to_string(), v.trim().to_string()))
            }
            _ => Err(format!("expected KEY=VALUE, got '{arg}'")),
        }
    }

    /// `NAME`, `NAME=on` or `NAME=off` (also `true`/`false`).
    pub fn parse_cap(arg: &str) -> Result<(String, bool), String> {
        let (name, state) = arg.split_once('=').unwrap_or((arg, "on"));
        let state = match state.trim() {
            "on" | "true" => true,
            "off" | "false" => false,
            other => return Err(format!("expected NAME[=on|off], got state '{other}'")),
        };
        if name.trim().is_empty() {
            return Err(format!("expected NAME[=on|off], got '{arg}'"));
        }
        Ok((name.trim().to_string(), state))
    }

    /// Whether there is nothing to change.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.caps.is_empty()
    }

    /// The changes as `key=value` words.
    pub fn describe(&self) -> String {
        let sets = self.set.iter().map(|(k, v)| format!("{k}={v}"));
        let caps = self.caps.iter().map(|(k, on)| format!("{k}={}", if *on { "on" } else { "off" }));
        sets.chain(caps).collect::<Vec<_>>().join(" ")
    }

    /// `settings` with the changes made. QEMU's range and combination
    /// checks come when the scenario is built.
    pub fn apply(&self, settings: &Settings) -> Result<Settings, FitError> {
        let mut out = settings.clone();
        let known = keys(&ParameterUpdate::default())?;
        for (k, v) in &self.set {
            let arg = format!("--set {k}={v}");
            if !known.contains_key(k) {
                let names = known.keys().cloned().collect::<Vec<_>>().join(", ");
                return Err(FitError::Change { arg, message: format!("unknown parameter '{k}' (known: {names})") });
            }
            // Numbers and booleans as such; anything else (sizes such as
            // "16MiB", enum names) as a string.
            let value = serde_json::from_str::<Value>(v).unwrap_or_else(|_| Value::String(v.clone()));
            let one: ParameterUpdate = serde_json::from_value(Value::Object(Map::from_iter([(k.clone(), value)])))
                .map_err(|e| FitError::Change { arg, message: e.to_string() })?;
            out.parameters = one.apply_to(&out.parameters);
            if k == "max-bandwidth" {
                out.max_bandwidth_origin = Origin::Given;
            }
            if k == "downtime-limit" {
                out.downtime_limit_origin = Origin::Given;
            }
        }
        let mut caps = keys(&out.capabilities)?;
        for (name, on) in &self.caps {
            let arg = format!("--cap {name}={}", if *on { "on" } else { "off" });
            match caps.get_mut(name) {
                Some(v) => *v = Value::Bool(*on),
                None => {
                    let names = caps.keys().cloned().collect::<Vec<_>>().join(", ");
                    return Err(FitError::Change {
                        arg,
                        message: format!("unknown capability '{name}' (known: {names})"),
                    });
                }
            }
        }
        if !self.caps.is_empty() {
            out.capabilities = serde_json::from_value::<Capabilities>(Value::Object(caps))
                .map_err(|e| FitError::Internal(e.to_string()))?;
            out.capabilities_origin = Origin::Given;
        }
        Ok(out)
    }
}

/// The members of a serializable settings struct, by QMP name.
fn keys<T: serde::Serialize>(v: &T) -> Result<Map<String, Value>, FitError> {
    match serde_json::to_value(v) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(FitError::Internal("settings did not serialize to an object".into())),
        Err(e) => Err(FitError::Internal(e.to_string())),
    }
}

#[cfg(test)]
mod tests;
