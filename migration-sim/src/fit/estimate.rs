//! What a trace tells directly: the guest's RAM and its zero pages, the
//! QEMU settings that ruled the run, the rate QEMU actually sent at, the
//! link, the setup time and the non-RAM bytes.

use serde_json::{Map, Value};

use super::dirty::{fit_working_set, harvests, Harvest, WorkingSet};
use super::trace::Trace;
use super::FitError;
use crate::config::{Capabilities, MigrationParameters, ParameterUpdate};
use crate::status::MigrationStatus;

/// Where a setting came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// A `query-migrate-parameters` / `query-migrate-capabilities` line.
    Trace,
    /// Inferred from the samples.
    Inferred,
    /// QEMU's default, nothing in the trace said otherwise.
    Default,
    /// Given on the command line.
    Given,
}

/// QEMU's settings for the traced run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Settings {
    /// Migration parameters.
    pub parameters: MigrationParameters,
    /// Capabilities.
    pub capabilities: Capabilities,
    /// Where `max-bandwidth` came from.
    pub max_bandwidth_origin: Origin,
    /// Where `downtime-limit` came from.
    pub downtime_limit_origin: Origin,
    /// Where the capabilities came from.
    pub capabilities_origin: Origin,
}

/// How the link's bandwidth was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkBasis {
    /// The run was not rate-limited: its throughput is the link's.
    Throughput,
    /// Rate-limited: at least what the switchover sent per ms of downtime.
    SwitchoverLowerBound,
    /// Rate-limited and nothing better known: 10 Gbit/s assumed.
    Assumed,
    /// `--link-bandwidth`.
    Given,
}

/// Everything estimated from a trace.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Estimates {
    /// Target page size.
    pub page_size: u64,
    /// `ram.total`: every RAMBlock.
    pub total_bytes: u64,
    /// Pages whose content is zero at the first pass.
    pub zero_pages: u64,
    /// Pages with data at the first pass.
    pub data_pages: u64,
    /// Zero pages the first pass handled before its first sample, where
    /// that sample shows mostly zeros: they lie before the data.
    pub head_zero_pages: u64,
    /// The fitted working set (`None`: nothing was re-dirtied).
    pub working_set: Option<WorkingSet>,
    /// The syncs' harvests the working set was fitted to.
    pub harvests: Vec<Harvest>,
    /// `setup-time`, ms.
    pub setup_time_ms: u64,
    /// Median bytes QEMU sent per 100 ms statistics window while active.
    pub window_bytes: Option<f64>,
    /// Whether the windows were capped by `max-bandwidth` (not by the link).
    pub rate_limited: bool,
    /// Link bandwidth, bytes/s.
    pub link_bandwidth: f64,
    /// How it was found.
    pub link_basis: LinkBasis,
    /// Bytes on the wire that are not RAM pages (device state, headers),
    /// when the trace tells (completed, no multifd).
    pub non_ram_bytes: Option<u64>,
    /// QEMU's settings.
    pub settings: Settings,
}

/// QEMU's bytes per 100 ms window for a `max-bandwidth`, when it is the
/// limit. QEMU checks the budget (`max-bandwidth / 10`) against bytes
/// already counted, and counts late:
///
/// * main channel: at each QEMUFile flush, every 64 iovecs, i.e. every 32
///   full pages (a header iovec and a page iovec each). A window sends
///   whole flushes until one passes the budget:
///   `(⌊budget / flush⌋ + 1)·flush`. Measured on QEMU 10.0.2: 8 MiB/s gives
///   919,296 bytes a window (7 flushes of 32·4104 bytes), 16 MiB/s 13
///   flushes.
/// * multifd (`Some(channels)`): when a channel thread has written a packet
///   (128 pages of 4 KiB plus a 1344-byte header), so besides the packets
///   that pass the budget, up to one more per channel is on its way:
///   `(⌊budget / packet⌋ + 1 + channels)·packet`, an upper bound. Measured:
///   8 MiB/s with 2 channels gives 3 or 4 packets a window, 16 MiB/s 5 or 6,
///   8 MiB/s with 4 channels 5 or 6.
pub fn qemu_window_bytes(max_bandwidth: u64, page_size: u64, multifd_channels: Option<u8>) -> f64 {
    let budget = max_bandwidth / 10;
    let page_size = page_size.max(1);
    match multifd_channels {
        None => {
            let flush = 32 * (page_size + 8);
            ((budget / flush + 1) * flush) as f64
        }
        Some(channels) => {
            let pages = (512 * 1024 / page_size).max(1);
            let packet = pages * page_size + 320 + 8 * pages;
            ((budget / packet + 1 + u64::from(channels)) * packet) as f64
        }
    }
}

/// The multifd channel count when multifd is on.
pub fn multifd_channels(settings: &Settings) -> Option<u8> {
    settings.capabilities.multifd.then_some(settings.parameters.multifd_channels)
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}

/// The settings: from the trace's parameter and capability lines where it
/// has them, else inferred from the samples, else QEMU's defaults.
fn settings(trace: &Trace) -> Result<Settings, FitError> {
    let mut parameters = MigrationParameters::default();
    let mut max_bandwidth_origin = Origin::Default;
    let mut downtime_limit_origin = Origin::Default;
    if let Some((line, map)) = &trace.parameters {
        let update = parameter_update(map).map_err(|m| FitError::trace(&trace.file, *line, m))?;
        max_bandwidth_origin = if update.max_bandwidth.is_some() { Origin::Trace } else { Origin::Default };
        downtime_limit_origin = if update.downtime_limit.is_some() { Origin::Trace } else { Origin::Default };
        parameters = update.apply_to(&parameters);
    }
    if downtime_limit_origin == Origin::Default {
        // expected-downtime equals downtime-limit until the first dirty-rate
        // period closes with new pages (model §1.4).
        if let Some(d) = trace.timed().find_map(|(s, _, _)| s.expected_downtime_ms) {
            parameters.downtime_limit = d;
            downtime_limit_origin = Origin::Inferred;
        }
    }
    let (capabilities, capabilities_origin) = match &trace.capabilities {
        Some((line, on)) => (capabilities_from(on).map_err(|m| FitError::trace(&trace.file, *line, m))?, Origin::Trace),
        None => (inferred_capabilities(trace), Origin::Inferred),
    };
    Ok(Settings { parameters, capabilities, max_bandwidth_origin, downtime_limit_origin, capabilities_origin })
}

/// The parameters the simulator models, from a `query-migrate-parameters`
/// answer (members it does not model, such as `block-bitmap-mapping`, are
/// left out).
fn parameter_update(map: &Map<String, Value>) -> Result<ParameterUpdate, String> {
    let known = serde_json::to_value(ParameterUpdate::default()).map_err(|e| e.to_string())?;
    let known = known.as_object().cloned().unwrap_or_default();
    let kept: Map<String, Value> = map
        .iter()
        .filter(|(k, v)| known.contains_key(*k) && !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    serde_json::from_value(Value::Object(kept)).map_err(|e| format!("query-migrate-parameters: {e}"))
}

/// Capabilities from the names set on; ones the simulator does not model
/// (QEMU 10.0's `zero-blocks`) are left out.
pub fn capabilities_from(on: &[String]) -> Result<Capabilities, String> {
    let mut caps = serde_json::to_value(Capabilities::default()).map_err(|e| e.to_string())?;
    if let Some(obj) = caps.as_object_mut() {
        for name in on {
            if let Some(v) = obj.get_mut(name) {
                *v = Value::Bool(true);
            }
        }
    }
    serde_json::from_value(caps).map_err(|e| format!("query-migrate-capabilities: {e}"))
}

fn inferred_capabilities(trace: &Trace) -> Capabilities {
    let mut caps = Capabilities::default();
    for s in &trace.samples {
        caps.xbzrle |= s.xbzrle;
        caps.auto_converge |= s.throttle_percent.is_some();
        caps.postcopy_ram |= s.status.is_postcopy();
        caps.multifd |= s.ram.is_some_and(|r| r.multifd_bytes > 0);
    }
    caps
}

/// Data and zero pages at the first pass. Pages dirtied again are data
/// (a guest writes something), so once the first pass is over the zero
/// pages are the `duplicate` count; before that, the pages still pending
/// are counted in the proportions of those handled.
fn first_pass(trace: &Trace) -> (u64, u64) {
    let Some((_, _, r)) = trace.timed().last() else { return (0, 0) };
    let total = r.total / r.page_size;
    let zero = if r.dirty_sync_count >= 2 {
        r.duplicate
    } else {
        let handled = r.pages_sent() as f64;
        let share = if handled > 0.0 { r.duplicate as f64 / handled } else { 0.0 };
        r.duplicate + ((r.remaining / r.page_size) as f64 * share).round() as u64
    };
    let zero = zero.min(total);
    (total - zero, zero)
}

/// The median bytes of the active samples' statistics windows, and
/// whether `max-bandwidth` capped them (not the link). Without the
/// setting in the trace, steady windows say it did, and it is set to them.
fn rate_windows(trace: &Trace, settings: &mut Settings) -> (Option<f64>, bool) {
    // A window's bytes: mbps·10^6/8 bytes a second, a tenth of it per window.
    let active: Vec<f64> = trace
        .timed()
        .filter(|(s, _, r)| s.status == MigrationStatus::Active && r.mbps > 0.0)
        .map(|(_, _, r)| r.mbps * 1e6 / 8.0 / 10.0)
        .collect();
    let window = median(active.clone());
    let limit = settings.parameters.max_bandwidth.0;
    let rate_limited = match (window, settings.max_bandwidth_origin) {
        (None, _) => false,
        (Some(_), _) if limit == 0 => false,
        // A link slower than the limit leaves windows short of the budget.
        (Some(w), Origin::Trace) => w >= 0.95 * (limit / 10) as f64,
        // Capped windows all carry the same bytes.
        (Some(w), _) => active.iter().filter(|x| (*x / w - 1.0).abs() < 0.01).count() * 2 >= active.len(),
    };
    if let (Some(w), true, false) = (window, rate_limited, settings.max_bandwidth_origin == Origin::Trace) {
        settings.parameters.max_bandwidth.0 = (w * 10.0) as u64;
        settings.max_bandwidth_origin = Origin::Inferred;
    }
    (window, rate_limited)
}

/// The link: the throughput when nothing else capped it; else at least
/// what the switchover (unlimited) sent per ms of downtime; else 10 Gbit/s.
fn link(trace: &Trace, window: Option<f64>, rate_limited: bool) -> (f64, LinkBasis) {
    if let (Some(w), false) = (window, rate_limited) {
        return (w * 10.0, LinkBasis::Throughput);
    }
    match trace.last().and_then(|s| Some((s.downtime_ms?, s.ram?.downtime_bytes))) {
        Some((d, bytes)) if d > 0 && bytes > 0 => {
            let floor = window.unwrap_or(0.0) * 10.0 * 1.05;
            ((bytes as f64 * 1000.0 / d as f64).max(floor), LinkBasis::SwitchoverLowerBound)
        }
        _ => (1.25e9, LinkBasis::Assumed),
    }
}

/// Estimate everything a trace tells. `link_bandwidth` overrides the link.
pub fn estimate(trace: &Trace, link_bandwidth: Option<f64>) -> Result<Estimates, FitError> {
    let mut settings = settings(trace)?;
    let Some((_, _, first)) = trace.timed().next() else {
        return Err(FitError::trace(&trace.file, 0, "no sample with total-time and RAM statistics".into()));
    };
    let (page_size, total_bytes) = (first.page_size, first.total);
    let setup_time_ms = trace.samples.iter().find_map(|s| s.setup_time_ms).unwrap_or(0);
    let (data_pages, zero_pages) = first_pass(trace);
    let head_zero_pages = Some(first)
        .filter(|r| r.dirty_sync_count <= 1 && r.duplicate > r.normal)
        .map_or(0, |r| r.duplicate.min(zero_pages));
    let hs = harvests(trace, setup_time_ms as f64);
    let working_set = fit_working_set(&hs, data_pages.max(1));
    let (window_bytes, rate_limited) = rate_windows(trace, &mut settings);
    let (link_bandwidth, link_basis) = match link_bandwidth {
        Some(l) => (l, LinkBasis::Given),
        None => link(trace, window_bytes, rate_limited),
    };
    let non_ram_bytes = trace.last().filter(|s| s.status == MigrationStatus::Completed).and_then(|s| {
        let r = s.ram?;
        (r.multifd_bytes == 0)
            .then(|| r.transferred.saturating_sub(r.precopy_bytes + r.downtime_bytes + r.postcopy_bytes))
    });
    Ok(Estimates {
        page_size,
        total_bytes,
        zero_pages,
        data_pages,
        head_zero_pages,
        working_set,
        harvests: hs,
        setup_time_ms,
        window_bytes,
        rate_limited,
        link_bandwidth,
        link_basis,
        non_ram_bytes,
        settings,
    })
}
