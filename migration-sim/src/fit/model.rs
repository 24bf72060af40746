//! From estimates to a simulator [`Scenario`].
//!
//! The guest is one page class for the working set, one for the other
//! data, the rest zero pages; the link and setup time are the estimated
//! ones; QEMU's parameters and capabilities are the run's (or the
//! what-if's). Two quantities are matched to what QEMU does rather than
//! copied: the bytes a rate-limited window carries (QEMU overshoots its
//! budget by up to a flush, see [`qemu_window_bytes`]), and the non-RAM
//! bytes of the stream (device state), each by a probe run of the
//! simulator.

use super::estimate::{multifd_channels, qemu_window_bytes, Estimates, Origin, Settings};
use super::FitError;
use crate::config::{ByteSize, DeviceConfig, EngineKind, PageClassConfig, Rate, RestContent, Scenario};
use crate::sim::Simulation;
use crate::units::{GIB, NS_PER_MS};

/// Where the guest's zero pages lie, as far as the scan is concerned. It
/// shapes the first pass's `remaining` curve and decides how much is
/// still pending when a pass crosses the switchover threshold (zeros at
/// the end of a pass go in a flash).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// Data together: the zeros the first sample saw first, then the
    /// working set and the other data, then the other zeros (the bitmap
    /// engine, which scans in address order as QEMU does).
    Ordered,
    /// Zeros spread evenly among the data (the class engine's uniform
    /// interleaving).
    Interleaved,
}

impl Layout {
    /// The layouts worth trying for a guest of `total_bytes`: the bitmap
    /// engine is not worth its memory beyond 64 GiB.
    pub fn candidates(total_bytes: u64) -> &'static [Layout] {
        if total_bytes <= 64 * GIB {
            &[Layout::Ordered, Layout::Interleaved]
        } else {
            &[Layout::Interleaved]
        }
    }
}

/// The scenario for `settings` (the traced run's, or changed ones) before
/// any calibration: `max-bandwidth` as QEMU was given it, no devices.
fn base(est: &Estimates, settings: &Settings, trace_ms: u64, layout: Layout) -> Scenario {
    let mut s = Scenario { name: "fit".into(), ..Scenario::default() };
    s.engine = match layout {
        Layout::Ordered => EngineKind::Bitmap,
        Layout::Interleaved => EngineKind::Aggregate,
    };
    // Long enough for a what-if that converges much later than the trace.
    s.time_limit_s = (trace_ms as f64 / 1000.0 * 20.0).clamp(60.0, 3600.0);
    let g = &mut s.guest;
    g.page_size = est.page_size;
    g.ram = ByteSize(est.total_bytes);
    g.extra_ram_blocks = ByteSize(0);
    g.vcpus = 1;
    g.rest = RestContent::Zero;
    // In address order: zeros the first pass met before any data, the
    // working set, the other data, then (the layout's `rest`) zeros.
    if est.head_zero_pages > 0 && layout == Layout::Ordered {
        g.classes.push(PageClassConfig {
            name: "zero-head".into(),
            size: ByteSize(est.head_zero_pages * est.page_size),
            zero_fraction: 1.0,
            ..PageClassConfig::default()
        });
    }
    let ws_pages = est.working_set.map_or(0, |w| w.pages.min(est.data_pages));
    if let Some(ws) = est.working_set.filter(|_| ws_pages > 0) {
        g.classes.push(PageClassConfig {
            name: "working-set".into(),
            size: ByteSize(ws_pages * est.page_size),
            write_rate: ws.write_rate,
            ..PageClassConfig::default()
        });
    }
    let cold = est.data_pages.saturating_sub(ws_pages);
    if cold > 0 {
        g.classes.push(PageClassConfig {
            name: "data".into(),
            size: ByteSize(cold * est.page_size),
            ..PageClassConfig::default()
        });
    }
    s.link.bandwidth = Rate(est.link_bandwidth);
    // QEMU's setup-time is truncated to the ms: half a ms on top centres it.
    s.cpu.setup_fixed_ms = est.setup_time_ms as f64 + 0.5;
    s.cpu.setup_ms_per_gib = 0.0;
    s.migration.parameters = settings.parameters.clone();
    s.migration.capabilities = settings.capabilities.clone();
    s.features.device_state_times = false;
    s.features.dest_stats = false;
    s.features.system_remaining = false;
    s
}

/// What QEMU would send per 100 ms with these settings, when it is
/// rate-limited; `None` leaves the simulator's own rate limiting alone.
///
/// The traced run's settings get what the trace shows. Changed ones get
/// QEMU's arithmetic ([`qemu_window_bytes`]) scaled by how far the trace
/// was from it in the same mode (main channel, or multifd with as many
/// channels). The arithmetic gives QEMU's bytes a window exactly (the
/// steps of `transferred` show them), so the ratio is how much longer than
/// 100 ms the windows lasted: on a busy host the migration thread wakes
/// late, and multifd's channel threads race its budget check.
fn target_window(est: &Estimates, settings: &Settings) -> Option<f64> {
    let mb = settings.parameters.max_bandwidth.0;
    if mb == 0 {
        return None;
    }
    let mode = multifd_channels(settings);
    let formula = qemu_window_bytes(mb, est.page_size, mode);
    let traced = &est.settings;
    let (Some(w), true) = (est.window_bytes, est.rate_limited) else { return Some(formula) };
    if mode != multifd_channels(traced) {
        return Some(formula);
    }
    if mb == traced.parameters.max_bandwidth.0 {
        return Some(w);
    }
    if traced.max_bandwidth_origin != Origin::Trace {
        return Some(formula);
    }
    let ratio = w / qemu_window_bytes(traced.parameters.max_bandwidth.0, est.page_size, mode);
    Some(formula * if (0.5..=1.05).contains(&ratio) { ratio } else { 1.0 })
}

/// The median bytes of the simulator's rate-limited windows in its first
/// second, or `None` when it had none.
fn simulated_window(s: &Scenario) -> Result<Option<f64>, FitError> {
    let mut sim = Simulation::new(s).map_err(FitError::Scenario)?;
    sim.set_batching(false);
    let mut seen: Vec<(u64, f64)> = Vec::new();
    for step in 1..=10u64 {
        sim.advance_to(step * 100 * NS_PER_MS + NS_PER_MS);
        let w = sim.snapshot().internals.window;
        if w.valid && w.rate_limited && seen.last().is_none_or(|(start, _)| *start != w.start_ms) {
            seen.push((w.start_ms, w.bytes as f64));
        }
    }
    let mut v: Vec<f64> = seen.into_iter().map(|(_, b)| b).collect();
    v.sort_by(f64::total_cmp);
    Ok(v.get(v.len() / 2).copied())
}

/// The simulator's `max-bandwidth` that makes its windows carry `target`
/// bytes: one probe, then the difference taken off (the simulator
/// overshoots a budget by a fraction of a page, QEMU by up to a flush).
fn calibrated_max_bandwidth(s: &Scenario, target: f64) -> Result<u64, FitError> {
    let mut probe = s.clone();
    probe.migration.parameters.max_bandwidth = ByteSize((target * 10.0) as u64);
    Ok(match simulated_window(&probe)? {
        Some(got) => ((2.0 * target - got) * 10.0).max(10.0 * s.guest.page_size as f64) as u64,
        None => (target * 10.0) as u64,
    })
}

/// The scenario for `settings`: rate limiting matched to QEMU's and the
/// device state added (`device_bytes`, see [`device_bytes`]).
pub fn scenario(
    est: &Estimates,
    settings: &Settings,
    trace_ms: u64,
    layout: Layout,
    device_bytes: u64,
) -> Result<Scenario, FitError> {
    let mut s = base(est, settings, trace_ms, layout);
    if device_bytes > 0 {
        s.devices.push(DeviceConfig {
            name: "device-state".into(),
            bytes: ByteSize(device_bytes),
            save_us: 100.0,
            ..DeviceConfig::default()
        });
    }
    if let Some(target) = target_window(est, settings) {
        s.migration.parameters.max_bandwidth = ByteSize(calibrated_max_bandwidth(&s, target)?);
    }
    Ok(s)
}

/// The device state to add so that the simulated stream carries as many
/// non-RAM bytes as the traced one (0 when the trace does not tell).
pub fn device_bytes(est: &Estimates, trace_ms: u64, layout: Layout) -> Result<u64, FitError> {
    let Some(real) = est.non_ram_bytes else { return Ok(0) };
    let s = scenario(est, &est.settings, trace_ms, layout, 0)?;
    let Some(r) = super::replay::replay(&s, &[])?.end.ram else { return Ok(0) };
    let simulated = r.transferred.saturating_sub(r.precopy_bytes + r.downtime_bytes + r.postcopy_bytes);
    Ok(real.saturating_sub(simulated))
}
