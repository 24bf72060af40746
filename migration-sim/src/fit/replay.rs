//! Replaying a scenario at a trace's sample instants, and how far the
//! replay is from the trace.

use super::trace::{sample_of, RamSample, Sample, Trace};
use super::FitError;
use crate::config::Scenario;
use crate::sim::Simulation;
use crate::units::NS_PER_MS;

/// The end of a migration, as its last `query-migrate` shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Totals {
    /// Final status.
    pub status: String,
    /// `total-time`, ms.
    pub total_time_ms: Option<u64>,
    /// `setup-time`, ms.
    pub setup_time_ms: Option<u64>,
    /// `downtime`, ms.
    pub downtime_ms: Option<u64>,
    /// Bytes transferred.
    pub transferred: u64,
    /// Dirty-bitmap syncs (setup, one per iteration, final).
    pub dirty_syncs: u64,
    /// Pages sent in full.
    pub normal: u64,
    /// Zero pages sent.
    pub duplicate: u64,
}

impl Totals {
    /// The totals a final sample shows.
    pub fn of(s: &Sample) -> Totals {
        let r = s.ram.unwrap_or_default();
        Totals {
            status: s.status.as_str().to_string(),
            total_time_ms: s.total_time_ms,
            setup_time_ms: s.setup_time_ms,
            downtime_ms: s.downtime_ms,
            transferred: r.transferred,
            dirty_syncs: r.dirty_sync_count,
            normal: r.normal,
            duplicate: r.duplicate,
        }
    }
}

/// A replay: the simulated samples at the trace's instants and the end.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    /// One sample per requested instant.
    pub samples: Vec<(u64, Sample)>,
    /// The last sample, when the simulation ended (or hit its time limit).
    pub end: Sample,
    /// Whether the simulation hit the scenario's time limit.
    pub timed_out: bool,
}

/// The source's `query-migrate` now, read back like a trace line.
fn query(sim: &Simulation) -> Result<Sample, FitError> {
    let v = serde_json::to_value(sim.query_migrate_source()).map_err(|e| FitError::Internal(e.to_string()))?;
    sample_of(&v).map_err(FitError::Internal)
}

/// Run `scenario` (its `migrate` at time 0, as `total-time` counts from
/// it), sampling the source at each of `at_ms`, then to its end.
pub fn replay(scenario: &Scenario, at_ms: &[u64]) -> Result<Replay, FitError> {
    let mut sim = Simulation::new(scenario).map_err(FitError::Scenario)?;
    let mut samples = Vec::with_capacity(at_ms.len());
    for &t in at_ms {
        sim.advance_to(t.saturating_mul(NS_PER_MS));
        samples.push((t, query(&sim)?));
    }
    let outcome = sim.run_to_completion();
    Ok(Replay { samples, end: query(&sim)?, timed_out: outcome.timed_out })
}

/// How far a replay is from its trace.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Comparison {
    /// The trace's end.
    pub trace: Totals,
    /// The replay's end.
    pub replay: Totals,
    /// (replay − trace) / trace of `total-time` (both ended).
    pub total_time_error: Option<f64>,
    /// (replay − trace) / trace of the bytes transferred.
    pub transferred_error: Option<f64>,
    /// replay − trace downtime, ms.
    pub downtime_difference_ms: Option<i64>,
    /// replay − trace dirty syncs.
    pub dirty_syncs_difference: i64,
    /// Root mean square of the difference of `ram.remaining` at the
    /// trace's active samples, bytes.
    pub remaining_rms_bytes: f64,
    /// The same as a share of the trace's mean `remaining` there.
    pub remaining_rms_share: f64,
    /// Samples compared.
    pub samples: usize,
}

fn rel(sim: f64, real: f64) -> Option<f64> {
    (real > 0.0).then(|| (sim - real) / real)
}

/// Compare a replay with the trace it was sampled at (see [`replay`]:
/// at the instants of [`Trace::timed`]).
pub fn compare(trace: &Trace, replay: &Replay) -> Comparison {
    let real_end = trace.last().cloned().unwrap_or_else(|| replay.end.clone());
    let (t, r) = (Totals::of(&real_end), Totals::of(&replay.end));
    let ended = real_end.status.is_terminal() && replay.end.status.is_terminal();
    let total_time_error = match (t.total_time_ms, r.total_time_ms) {
        (Some(a), Some(b)) if ended => rel(b as f64, a as f64),
        _ => None,
    };
    let transferred_error = ended.then(|| rel(r.transferred as f64, t.transferred as f64)).flatten();
    let downtime_difference_ms = match (t.downtime_ms, r.downtime_ms) {
        (Some(a), Some(b)) => Some(b as i64 - a as i64),
        _ => None,
    };
    let remaining = |s: &Sample| s.ram.map_or(0.0, |r: RamSample| r.remaining as f64);
    // The replay was sampled at the trace's timed samples, in order.
    let pairs: Vec<(f64, f64)> = trace
        .timed()
        .zip(&replay.samples)
        .filter(|((s, at, _), (t, _))| !s.status.is_terminal() && at == t)
        .map(|((s, _, _), (_, sim))| (remaining(s), remaining(sim)))
        .collect();
    let n = pairs.len().max(1) as f64;
    let rms = (pairs.iter().map(|(a, b)| (b - a) * (b - a)).sum::<f64>() / n).sqrt();
    let mean = pairs.iter().map(|(a, _)| a).sum::<f64>() / n;
    Comparison {
        total_time_error,
        transferred_error,
        downtime_difference_ms,
        dirty_syncs_difference: r.dirty_syncs as i64 - t.dirty_syncs as i64,
        remaining_rms_bytes: rms,
        remaining_rms_share: if mean > 0.0 { rms / mean } else { 0.0 },
        samples: pairs.len(),
        trace: t,
        replay: r,
    }
}
