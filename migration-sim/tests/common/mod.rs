//! The §4.1 invariant checker, applied to every sample of a run.
//!
//! A [`Trace`] is a run sampled every `period` of simulated time, plus a
//! snapshot at every source state change, plus the event log. [`check`]
//! returns every violation of the model's invariants 1–17 (each message
//! names the invariant and the sample time); tests assert it is empty.
#![allow(dead_code)]

use std::collections::HashSet;

use migration_sim::events::{Event, EventRecord, Side};
use migration_sim::report::{render_info_migrate, MigrationInfo, MigrationStats, Snapshot};
use migration_sim::sim::RefusedAction;
use migration_sim::{MigrationStatus, RunOutcome, Scenario, Simulation};

/// A 1 GiB, 2-vCPU guest with the PC devices: 256 MiB of data and a hot set
/// of `hot_mib` MiB written `write_rate` times a second; MIGRATION events
/// on. The scenario the fault, transport and feature tests start from.
pub fn small_guest(name: &str, engine: migration_sim::EngineKind, hot_mib: u64, write_rate: f64) -> Scenario {
    use migration_sim::config::{ByteSize, PageClassConfig};
    use migration_sim::units::{GIB, MIB};
    let mut s = Scenario { name: format!("{name} ({engine:?})"), engine, ..Scenario::default() };
    s.guest.ram = ByteSize(GIB);
    s.guest.vcpus = 2;
    s.guest.classes = vec![
        PageClassConfig { name: "data".into(), size: ByteSize(256 * MIB), ..PageClassConfig::default() },
        PageClassConfig { name: "hot".into(), size: ByteSize(hot_mib * MIB), write_rate, ..PageClassConfig::default() },
    ];
    s.devices = migration_sim::presets::pc_devices();
    s.migration.capabilities.events = true;
    s
}

/// A sampled run.
pub struct Trace {
    pub scenario: Scenario,
    pub samples: Vec<Snapshot>,
    pub events: Vec<EventRecord>,
    pub outcome: RunOutcome,
    pub refused: Vec<RefusedAction>,
}

impl Trace {
    /// The last sample.
    pub fn last(&self) -> &Snapshot {
        self.samples.last().expect("at least one sample")
    }

    /// The completed source info of the (last) run.
    pub fn completed(&self) -> &MigrationInfo {
        &self.last().source
    }

    /// Source events of one kind.
    pub fn source_events(&self) -> impl Iterator<Item = &EventRecord> {
        self.events.iter().filter(|e| e.side == Side::Source)
    }
}

/// How long before a sampled boundary the extra sample is taken.
const JUST_BEFORE_NS: u64 = 100_000;

/// Run `scenario` to the end, sampling every `period_ms`, just before each
/// of those instants, at and just before every statistics-window boundary
/// the thread announces (the last window's end + 100 ms), and at every
/// source state change.
pub fn trace(scenario: &Scenario, period_ms: u64) -> Trace {
    let mut sim = Simulation::new(scenario).expect("valid scenario");
    sim.record_transitions(true);
    let period = period_ms * 1_000_000;
    let limit = (scenario.time_limit_s * 1e9) as u64;
    let mut periodic: Vec<Snapshot> = Vec::new();
    let mut t = 0u64;
    let timed_out = loop {
        let next = (t / period + 1) * period;
        let mut targets = Vec::new();
        let boundary =
            periodic.last().map(|s| &s.internals.window).filter(|w| w.valid).map(|w| (w.end_ms + 100) * 1_000_000);
        if let Some(b) = boundary.filter(|&b| b > t + JUST_BEFORE_NS && b < next) {
            targets.extend([b - JUST_BEFORE_NS, b]);
        }
        targets.extend([next - JUST_BEFORE_NS, next]);
        let mut done = None;
        for target in targets {
            if target > limit {
                sim.advance_to(limit);
                periodic.push(sim.snapshot());
                done = Some(sim.next_event_ns().is_some());
                break;
            }
            sim.advance_to(target);
            periodic.push(sim.snapshot());
            t = target;
            if sim.next_event_ns().is_none() {
                done = Some(false);
                break;
            }
        }
        if let Some(timed_out) = done {
            break timed_out;
        }
    };
    let outcome = RunOutcome {
        end_ns: sim.now_ns(),
        source_status: sim.source_status(),
        destination_status: sim.destination_status(),
        timed_out,
    };
    let transitions = sim.transition_snapshots().to_vec();
    // Merge by time; at equal times the state-change snapshot (taken while
    // the instant was being processed) comes first.
    let mut samples = Vec::with_capacity(periodic.len() + transitions.len());
    let (mut i, mut j) = (0, 0);
    while i < transitions.len() || j < periodic.len() {
        let take_t = match (transitions.get(i), periodic.get(j)) {
            (Some(a), Some(b)) => a.time_ns <= b.time_ns,
            (Some(_), None) => true,
            _ => false,
        };
        if take_t {
            samples.push(transitions[i].clone());
            i += 1;
        } else {
            samples.push(periodic[j].clone());
            j += 1;
        }
    }
    Trace {
        scenario: scenario.clone(),
        samples,
        events: sim.events().to_vec(),
        outcome,
        refused: sim.refused_actions().to_vec(),
    }
}

/// A scheduled action of `kind` at `at_ms`, with no arguments.
pub fn action(at_ms: f64, kind: migration_sim::config::ActionKind) -> migration_sim::config::ActionConfig {
    migration_sim::config::ActionConfig {
        at_ms,
        action: kind,
        parameters: None,
        state: None,
        bandwidth: None,
        error: None,
        class: None,
        write_rate: None,
    }
}

/// The statuses of one side's MIGRATION events, with their times.
pub fn timed_statuses(t: &Trace, side: Side) -> Vec<(u64, MigrationStatus)> {
    t.events
        .iter()
        .filter(|e| e.side == side)
        .filter_map(|e| match e.event {
            Event::Migration { status } => Some((e.time_ns, status)),
            _ => None,
        })
        .collect()
}

/// The statuses of one side's MIGRATION events.
pub fn statuses(t: &Trace, side: Side) -> Vec<MigrationStatus> {
    timed_statuses(t, side).into_iter().map(|(_, s)| s).collect()
}

/// Check a trace; panics listing every violation.
pub fn assert_invariants(t: &Trace) {
    let v = check(t);
    if !v.is_empty() {
        let shown: Vec<&String> = v.iter().take(40).collect();
        panic!(
            "{} invariant violation(s) in scenario '{}':\n{}",
            v.len(),
            t.scenario.name,
            shown.iter().map(|s| format!("  {s}")).collect::<Vec<_>>().join("\n")
        );
    }
}

fn ms(t: u64) -> f64 {
    t as f64 / 1e6
}

/// Every violation of invariants 1–17 in the trace.
pub fn check(t: &Trace) -> Vec<String> {
    let mut v = Vec::new();
    check_events(t, &mut v);
    let runs = split_runs(&t.samples);
    for run in &runs {
        check_run(t, run, &mut v);
    }
    check_destination(t, &mut v);
    v
}

fn migration_events(t: &Trace, side: Side) -> Vec<(u64, MigrationStatus)> {
    t.events
        .iter()
        .filter(|e| e.side == side)
        .filter_map(|e| match e.event {
            Event::Migration { status } => Some((e.time_ns, status)),
            _ => None,
        })
        .collect()
}

/// Invariant 1 (edges, one event per change, no event for the silent reset)
/// and invariant 10's event half, over the whole trace.
fn check_events(t: &Trace, v: &mut Vec<String>) {
    let src_events_on = t.scenario.migration.capabilities.events;
    let dst_events_on = t.scenario.destination.events.unwrap_or(src_events_on);
    for (side, on) in [(Side::Source, src_events_on), (Side::Destination, dst_events_on)] {
        let evs = migration_events(t, side);
        if !on {
            if !evs.is_empty() {
                v.push(format!("inv 1: {side:?} emitted MIGRATION events with the events capability off"));
            }
            continue;
        }
        let mut prev = MigrationStatus::None;
        for &(time, st) in &evs {
            if st == MigrationStatus::None {
                v.push(format!("inv 1 @ {:.3} ms: {side:?} emitted MIGRATION none", ms(time)));
            }
            let silent_reset = prev.is_terminal() && st == MigrationStatus::Setup;
            let ok = match side {
                Side::Source => MigrationStatus::is_source_edge(prev, st),
                Side::Destination => MigrationStatus::is_destination_edge(prev, st),
            };
            if !(ok || silent_reset) {
                v.push(format!("inv 1 @ {:.3} ms: {side:?} edge {prev} -> {st} is not in the state machine", ms(time)));
            }
            if prev == st {
                v.push(format!("inv 1 @ {:.3} ms: {side:?} MIGRATION {st} twice in a row", ms(time)));
            }
            prev = st;
        }
        // Every sample shows the status of the latest event at or before it.
        for s in &t.samples {
            let info = match side {
                Side::Source => &s.source,
                Side::Destination => &s.destination,
            };
            let Some(status) = info.status else {
                continue;
            };
            let upto: Vec<&(u64, MigrationStatus)> = evs.iter().filter(|(et, _)| *et <= s.time_ns).collect();
            let Some(last_t) = upto.last().map(|(et, _)| *et) else {
                v.push(format!("inv 1 @ {:.3} ms: {side:?} shows {status} before any MIGRATION event", ms(s.time_ns)));
                continue;
            };
            let candidates: Vec<MigrationStatus> =
                upto.iter().filter(|(et, _)| *et == last_t).map(|(_, st)| *st).collect();
            if !candidates.contains(&status) {
                v.push(format!(
                    "inv 1 @ {:.3} ms: {side:?} shows {status} but its latest MIGRATION event says {:?}",
                    ms(s.time_ns),
                    candidates
                ));
            }
        }
    }
    // MIGRATION_PASS values count up by one from 1 in each migration.
    if src_events_on {
        let mut expect = 1;
        for e in t.source_events() {
            match e.event {
                Event::Migration { status: MigrationStatus::Setup } => expect = 1,
                Event::MigrationPass { pass } => {
                    if pass != expect {
                        v.push(format!("inv 10 @ {:.3} ms: MIGRATION_PASS {pass}, expected {expect}", ms(e.time_ns)));
                    }
                    expect = pass + 1;
                }
                _ => {}
            }
        }
    }
}

/// Samples of one migration: from its `setup` to the next `setup`.
fn split_runs(samples: &[Snapshot]) -> Vec<&[Snapshot]> {
    let mut runs = Vec::new();
    let mut start = None;
    let mut prev = MigrationStatus::None;
    for (i, s) in samples.iter().enumerate() {
        let st = s.source.status.unwrap_or(MigrationStatus::None);
        if st == MigrationStatus::Setup && prev != MigrationStatus::Setup {
            if let Some(b) = start {
                runs.push(&samples[b..i]);
            }
            start = Some(i);
        }
        prev = st;
    }
    if let Some(b) = start {
        runs.push(&samples[b..]);
    }
    runs
}

const SOURCE_ONLY: &str = "dirty-pages-rate, dirty-sync-count, postcopy-requests, multifd-bytes, precopy-bytes, \
                           downtime-bytes, postcopy-bytes, dirty-sync-missed-zero-copy";

fn has_source_only(r: &MigrationStats) -> bool {
    r.dirty_pages_rate.is_some()
        || r.dirty_sync_count.is_some()
        || r.postcopy_requests.is_some()
        || r.multifd_bytes.is_some()
        || r.precopy_bytes.is_some()
        || r.downtime_bytes.is_some()
        || r.postcopy_bytes.is_some()
        || r.dirty_sync_missed_zero_copy.is_some()
}

fn ram_acct(r: &MigrationStats) -> u64 {
    r.precopy_bytes.unwrap_or(0) + r.downtime_bytes.unwrap_or(0) + r.postcopy_bytes.unwrap_or(0)
}

fn check_run(t: &Trace, run: &[Snapshot], v: &mut Vec<String>) {
    use MigrationStatus as S;
    let sc = &t.scenario;
    let caps = &sc.migration.capabilities;
    let feats = &sc.features;
    let has_vfio = sc.devices.iter().any(|d| d.kind == migration_sim::config::DeviceKind::Vfio);
    let src_events_on = caps.events;
    let pass_events: Vec<(u64, u64)> = t
        .source_events()
        .filter_map(|e| match e.event {
            Event::MigrationPass { pass } => Some((e.time_ns, pass)),
            _ => None,
        })
        .collect();
    let run_start = run.first().map_or(0, |s| s.time_ns);
    let mut prev: Option<&Snapshot> = None;
    let mut setup_time: Option<i64> = None;
    let mut page_size: Option<i64> = None;
    let mut total: Option<i64> = None;
    let mut seen_dirty_rate = false;
    let mut first_active_checked = false;
    let mut postcopy_downtime: Option<i64> = None;
    let mut last_before_completion: Option<&Snapshot> = None;
    let mut first_postcopy: Option<&Snapshot> = None;

    for s in run {
        let at = ms(s.time_ns);
        let info = &s.source;
        let Some(st) = info.status else {
            continue;
        };
        let ctx = |n: u32, msg: String| format!("inv {n} @ {at:.3} ms [{st}]: {msg}");

        // ---- 2. presence --------------------------------------------------
        let running_row = matches!(st, S::Active | S::PreSwitchover | S::Device | S::Cancelling);
        let postcopy = st.is_postcopy();
        let completed = st == S::Completed;
        let stats_row = running_row || postcopy || completed;
        if !stats_row {
            let extra = info.ram.is_some()
                || info.vfio.is_some()
                || info.xbzrle_cache.is_some()
                || info.total_time.is_some()
                || info.setup_time.is_some()
                || info.expected_downtime.is_some()
                || info.downtime.is_some()
                || info.cpu_throttle_percentage.is_some()
                || info.device_state_times.is_some()
                || info.remaining.is_some();
            if extra {
                v.push(ctx(2, "members beyond status/error-desc present".into()));
            }
            if st == S::Failed && info.error_desc.is_none() {
                v.push(ctx(2, "failed without error-desc".into()));
            }
            if matches!(st, S::Setup | S::Cancelled) && info.error_desc.is_some() {
                v.push(ctx(2, "unexpected error-desc".into()));
            }
            prev = Some(s);
            continue;
        }
        let Some(ram) = info.ram.as_ref() else {
            v.push(ctx(2, "ram missing".into()));
            prev = Some(s);
            continue;
        };
        for (name, present) in [("setup-time", info.setup_time.is_some()), ("total-time", info.total_time.is_some())] {
            if !present {
                v.push(ctx(2, format!("{name} missing")));
            }
        }
        if running_row {
            if info.expected_downtime.is_none() {
                v.push(ctx(2, "expected-downtime missing".into()));
            }
            if info.downtime.is_some() {
                v.push(ctx(2, "downtime present before completion/postcopy".into()));
            }
        } else {
            if info.expected_downtime.is_some() {
                v.push(ctx(2, "expected-downtime present".into()));
            }
            if info.downtime.is_none() {
                v.push(ctx(2, "downtime missing".into()));
            }
        }
        if info.vfio.is_some() != has_vfio {
            v.push(ctx(2, format!("vfio present={} with VFIO devices={has_vfio}", info.vfio.is_some())));
        }
        if info.xbzrle_cache.is_some() != caps.xbzrle {
            v.push(ctx(14, "xbzrle-cache presence does not follow the capability".into()));
        }
        if completed {
            if info.cpu_throttle_percentage.is_some() {
                v.push(ctx(12, "cpu-throttle-percentage present when completed".into()));
            }
            if info.device_state_times.is_some() != feats.device_state_times {
                v.push(ctx(16, "device-state-times presence does not follow the feature".into()));
            }
            if info.error_desc.is_some() {
                v.push(ctx(2, "error-desc when completed".into()));
            }
        } else if info.device_state_times.is_some() {
            v.push(ctx(16, "device-state-times outside completed".into()));
        }
        if info.remaining.is_some() != feats.system_remaining {
            v.push(ctx(16, "top-level remaining presence does not follow the feature".into()));
        }
        if has_source_only(ram) && ram.dirty_sync_count.is_none() {
            v.push(ctx(2, "source ram lacks members".into()));
        }
        for (name, present) in [
            ("dirty-pages-rate", ram.dirty_pages_rate.is_some()),
            ("dirty-sync-count", ram.dirty_sync_count.is_some()),
            ("postcopy-requests", ram.postcopy_requests.is_some()),
            ("multifd-bytes", ram.multifd_bytes.is_some()),
            ("precopy-bytes", ram.precopy_bytes.is_some()),
            ("downtime-bytes", ram.downtime_bytes.is_some()),
            ("postcopy-bytes", ram.postcopy_bytes.is_some()),
            ("dirty-sync-missed-zero-copy", ram.dirty_sync_missed_zero_copy.is_some()),
        ] {
            if !present {
                v.push(ctx(2, format!("source ram.{name} missing")));
            }
        }

        // ---- 4. identities ------------------------------------------------
        if ram.normal_bytes != ram.normal * ram.page_size {
            v.push(ctx(4, format!("normal-bytes {} != normal {} x page-size", ram.normal_bytes, ram.normal)));
        }
        if *page_size.get_or_insert(ram.page_size) != ram.page_size {
            v.push(ctx(4, "page-size changed".into()));
        }
        if *total.get_or_insert(ram.total) != ram.total {
            v.push(ctx(4, "total changed".into()));
        }

        // ---- 5. remaining ------------------------------------------------
        if ram.remaining < 0 || ram.remaining > ram.total {
            v.push(ctx(5, format!("remaining {} outside [0, total {}]", ram.remaining, ram.total)));
        }
        if ram.remaining % ram.page_size != 0 {
            v.push(ctx(5, "remaining not a multiple of the page size".into()));
        }
        if st == S::Active && !first_active_checked {
            first_active_checked = true;
            if ram.normal + ram.duplicate == 0 && ram.remaining != ram.total {
                v.push(ctx(5, format!("first active sample: remaining {} != total {}", ram.remaining, ram.total)));
            }
        }

        // ---- 6, 7. byte accounting ---------------------------------------
        let mf = ram.multifd_bytes.unwrap_or(0);
        let xfer = ram.transferred.max(0) as u64;
        if mf > xfer {
            v.push(ctx(6, "multifd-bytes > transferred".into()));
        }
        if !caps.multifd && mf != 0 {
            v.push(ctx(6, "multifd-bytes without multifd".into()));
        }
        let acct = ram_acct(ram);
        if acct > xfer {
            v.push(ctx(6, "precopy+downtime+postcopy > transferred".into()));
        }
        let internals = &s.internals;
        if !caps.multifd {
            if xfer - acct.min(xfer) < internals.device_bytes {
                v.push(ctx(6, format!("non-RAM overhead {} < device bytes {}", xfer - acct, internals.device_bytes)));
            }
        } else if internals.zero_pages_in_channels && ram.postcopy_bytes == Some(0) {
            // Pages and zero pages go over the channels: what is accounted
            // to RAM on the main channel is each iterate call's 8-byte end
            // marker, nothing else (QEMU 10.0.2: precopy-bytes 8 and
            // downtime-bytes 0 after a one-pass multifd migration).
            // (A call's marker is interpolated over its burst; mapped-ram
            // adds its bitmaps at completion.)
            let over = acct > 8 * internals.iterate_calls && !caps.mapped_ram;
            if over || acct != internals.ram_marker_bytes {
                v.push(ctx(
                    6,
                    format!("multifd: main-channel RAM bytes {acct} > 8 x {} iterate calls", internals.iterate_calls),
                ));
            }
        }
        if (ram.normal * ram.page_size) as u64 > xfer {
            v.push(ctx(7, "normal x page-size > transferred".into()));
        }
        if let Some(vf) = &info.vfio {
            if vf.transferred as u64 > xfer {
                v.push(ctx(7, "vfio.transferred > transferred".into()));
            }
        }

        // ---- 8. setup-time -----------------------------------------------
        if let (Some(stp), Some(tt)) = (info.setup_time, info.total_time) {
            match setup_time {
                None => setup_time = Some(stp),
                Some(first) if first != stp => v.push(ctx(8, format!("setup-time changed {first} -> {stp}"))),
                _ => {}
            }
            if stp > tt {
                v.push(ctx(8, format!("setup-time {stp} > total-time {tt}")));
            }
        }

        // ---- 9. expected-downtime ----------------------------------------
        let dpr = ram.dirty_pages_rate.unwrap_or(0);
        if dpr != 0 {
            seen_dirty_rate = true;
        }
        if matches!(st, S::Active | S::Device)
            && !seen_dirty_rate
            && info.expected_downtime != Some(internals.downtime_limit_ms as i64)
        {
            v.push(ctx(
                9,
                format!(
                    "expected-downtime {:?} != downtime-limit {} before any dirty-rate period",
                    info.expected_downtime, internals.downtime_limit_ms
                ),
            ));
        }

        // ---- 10. dirty-sync-count ----------------------------------------
        let dsc = ram.dirty_sync_count.unwrap_or(0);
        if st == S::Active && dsc < 1 {
            v.push(ctx(10, "dirty-sync-count < 1 in active".into()));
        }
        if src_events_on {
            let passes: Vec<&(u64, u64)> =
                pass_events.iter().filter(|(et, _)| *et >= run_start && *et <= s.time_ns).collect();
            if passes.len() as i64 != dsc {
                v.push(ctx(10, format!("{} MIGRATION_PASS events but dirty-sync-count {dsc}", passes.len())));
            }
            if let Some((_, last)) = passes.last() {
                if *last as i64 != dsc {
                    v.push(ctx(10, format!("last MIGRATION_PASS {last} != dirty-sync-count {dsc}")));
                }
            }
        }

        // ---- 11. mbps is the last window's rate --------------------------
        if st == S::Active {
            let w = &internals.window;
            let expect = if w.valid {
                (w.bytes as f64 * 8.0) / ((w.end_ms - w.start_ms) as f64 / 1000.0) / 1000.0 / 1000.0
            } else {
                0.0
            };
            if ram.mbps != expect {
                v.push(ctx(11, format!("mbps {} != window rate {expect}", ram.mbps)));
            }
            if w.valid && w.end_ms - w.start_ms < 100 {
                v.push(ctx(11, "window shorter than 100 ms".into()));
            }
        }

        // ---- 12. completed -------------------------------------------------
        if completed {
            if ram.remaining != 0 {
                v.push(ctx(12, "remaining != 0".into()));
            }
            if dpr != 0 {
                v.push(ctx(12, "dirty-pages-rate != 0".into()));
            }
            let tt = info.total_time.unwrap_or(0);
            let stp = info.setup_time.unwrap_or(0);
            let expect = ram.transferred as f64 * 8.0 / (tt - stp) as f64 / 1000.0;
            if ((ram.mbps - expect) / expect).abs() > 1e-9 {
                v.push(ctx(12, format!("mbps {} != transferred*8/(total-setup)/1000 = {expect}", ram.mbps)));
            }
            let dt = info.downtime.unwrap_or(0);
            if !(dt > 0 && dt <= tt - stp) {
                v.push(ctx(12, format!("downtime {dt} not in (0, total-setup = {}]", tt - stp)));
            }
            if let Some(p) = last_before_completion {
                let before = p.source.ram.as_ref().map_or(0, |r| r.pages_per_second);
                // In postcopy the windows keep closing until the stream ends,
                // possibly after the last sample; precopy stops updating at
                // the switchover (`device`), which is always sampled.
                if p.source.status == Some(S::Device) && before != ram.pages_per_second {
                    v.push(ctx(12, format!("pages-per-second {} != last value {before}", ram.pages_per_second)));
                }
            }
            if feats.system_remaining && info.remaining != Some(0) {
                v.push(ctx(16, "top-level remaining != 0 when completed".into()));
            }
            if let Some(list) = &info.device_state_times {
                let mut seen = HashSet::new();
                let mut sequential = 0u64;
                for e in list {
                    if e.save_time == 0 {
                        v.push(ctx(16, format!("zero save-time for {}", e.name)));
                    }
                    if !seen.insert((e.name.clone(), e.instance_id)) {
                        v.push(ctx(16, format!("duplicate entry {} {}", e.name, e.instance_id)));
                    }
                    if !internals.concurrent_entries.contains(&(e.name.clone(), e.instance_id)) {
                        sequential += e.save_time;
                    }
                }
                if sequential > dt as u64 * 1000 + 1000 {
                    v.push(ctx(16, format!("sequential save times {sequential} us > downtime {dt} ms + 1 ms")));
                }
            }
        } else {
            last_before_completion = Some(s);
        }

        // ---- 13. throttle --------------------------------------------------
        if let Some(p) = info.cpu_throttle_percentage {
            let (lo, hi) = internals.throttle_range;
            if p < i64::from(lo) || p > i64::from(hi) {
                v.push(ctx(13, format!("cpu-throttle-percentage {p} outside [{lo}, {hi}]")));
            }
        }
        let changes = &internals.throttle_changes;
        for w in changes.windows(2) {
            if w[1].0 - w[0].0 <= 2_000_000_000 {
                v.push(ctx(13, format!("throttle increases {:.0} ms apart", ms(w[1].0 - w[0].0))));
            }
        }
        for (tc, _) in changes {
            if !internals.sync_times.contains(tc) {
                v.push(ctx(13, format!("throttle change at {:.3} ms is not at a sync", ms(*tc))));
            }
        }

        // ---- 14. xbzrle ------------------------------------------------------
        if let Some(x) = &info.xbzrle_cache {
            if x.cache_size != internals.xbzrle_cache_size {
                v.push(ctx(14, "cache-size != parameter".into()));
            }
            if !(0.0..=1.0).contains(&x.cache_miss_rate) {
                v.push(ctx(14, format!("cache-miss-rate {} outside [0, 1]", x.cache_miss_rate)));
            }
            if x.overflow > x.pages {
                v.push(ctx(14, format!("overflow {} > pages {}", x.overflow, x.pages)));
            }
            if !(x.encoding_rate == 0.0 || x.encoding_rate > 1.0) {
                v.push(ctx(14, format!("encoding-rate {} neither 0 nor > 1", x.encoding_rate)));
            }
        }

        // ---- 16. system remaining -----------------------------------------
        if let Some(r) = info.remaining {
            if (r as i64) < ram.remaining {
                v.push(ctx(16, format!("top-level remaining {r} < ram.remaining {}", ram.remaining)));
            }
        }

        // ---- 17. HMP text --------------------------------------------------
        check_hmp(info, &ctx, v);

        // ---- pairwise: 3 (monotonic), 13 (increase at a sync), 15 (postcopy) -
        if let Some(p) = prev {
            if let (Some(pr), Some(pst)) = (p.source.ram.as_ref(), p.source.status) {
                check_monotonic(p, s, pr, ram, pst, st, &ctx, v);
                if let (Some(a), Some(b)) = (p.source.cpu_throttle_percentage, info.cpu_throttle_percentage) {
                    if b > a && ram.dirty_sync_count == pr.dirty_sync_count {
                        v.push(ctx(13, "throttle increased without a sync in the interval".into()));
                    }
                }
                if pst.is_postcopy() && postcopy {
                    if info.downtime != p.source.downtime {
                        v.push(ctx(15, "downtime changed in postcopy".into()));
                    }
                    if ram.dirty_sync_count != pr.dirty_sync_count {
                        v.push(ctx(15, "dirty-sync-count changed in postcopy".into()));
                    }
                    if ram.remaining > pr.remaining {
                        v.push(ctx(15, "remaining increased in postcopy".into()));
                    }
                    if ram.precopy_bytes != pr.precopy_bytes {
                        v.push(ctx(15, "precopy-bytes changed in postcopy".into()));
                    }
                }
            }
        }
        if postcopy {
            match postcopy_downtime {
                None => postcopy_downtime = info.downtime,
                Some(d) if Some(d) != info.downtime => v.push(ctx(15, "downtime not constant in postcopy".into())),
                _ => {}
            }
            if first_postcopy.is_none() {
                first_postcopy = Some(s);
            }
        }
        prev = Some(s);
    }

    // 15: postcopy-bytes grew over the postcopy phase.
    if let Some(fp) = first_postcopy {
        let end = run.iter().rev().find(|s| s.source.status.is_some_and(|st| st.is_postcopy() || st == S::Completed));
        if let (Some(a), Some(b)) = (fp.source.ram.as_ref(), end.and_then(|e| e.source.ram.as_ref())) {
            if b.postcopy_bytes <= a.postcopy_bytes {
                v.push("inv 15: postcopy-bytes did not increase during postcopy".to_string());
            }
        }
    }

    // 11: over any 1 s span of steady rate-limited windows the observed
    // rate is within 2 % of mbps.
    for (a, b) in steady_spans(run) {
        let (Some(ra), Some(rb)) = (a.source.ram.as_ref(), b.source.ram.as_ref()) else { continue };
        let observed = (rb.transferred - ra.transferred) as f64 * 8.0 / 1e6;
        if ((observed - rb.mbps) / rb.mbps).abs() > 0.02 {
            v.push(format!(
                "inv 11 @ {:.0}-{:.0} ms: observed {observed:.2} Mbps vs mbps {:.2}",
                ms(a.time_ns),
                ms(b.time_ns),
                rb.mbps
            ));
        }
    }
}

/// Number of 1 s spans of steady rate-limited sending in the trace (the
/// second half of invariant 11 applies to these).
pub fn steady_span_count(t: &Trace) -> usize {
    split_runs(&t.samples).iter().map(|r| steady_spans(r).len()).sum()
}

/// Pairs of periodic samples 1 s apart between which every statistics
/// window was observed, rate limited, alike, without a sync, and at whose
/// ends the thread was between bursts.
fn steady_spans(run: &[Snapshot]) -> Vec<(&Snapshot, &Snapshot)> {
    use MigrationStatus as S;
    let mut out = Vec::new();
    let periodic: Vec<&Snapshot> = run.iter().filter(|s| s.time_ns % 100_000_000 == 0).collect();
    for (i, a) in periodic.iter().enumerate() {
        let Some(b) = periodic.iter().skip(i).find(|b| b.time_ns == a.time_ns + 1_000_000_000) else {
            continue;
        };
        let span: Vec<&&Snapshot> =
            periodic.iter().filter(|s| s.time_ns >= a.time_ns && s.time_ns <= b.time_ns).collect();
        let steady = span.iter().all(|s| {
            s.source.status == Some(S::Active)
                && s.internals.window.valid
                && s.internals.window.rate_limited
                && s.source.ram.as_ref().and_then(|r| r.dirty_sync_count)
                    == a.source.ram.as_ref().and_then(|r| r.dirty_sync_count)
        }) && span.windows(2).all(|p| {
            // Consecutive windows: none went unobserved between samples.
            let (w0, w1) = (&p[0].internals.window, &p[1].internals.window);
            w1.start_ms == w0.end_ms || w1 == w0
        }) && span.iter().all(|s| {
            let w = s.internals.window.bytes as f64;
            let w0 = a.internals.window.bytes as f64;
            (w - w0).abs() <= 0.01 * w0
        });
        // Sending is bursty within a window (budget at link or CPU speed,
        // then a sleep): compare spans whose ends are both between bursts.
        if steady && !a.internals.sending && !b.internals.sending {
            out.push((*a, *b));
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn check_monotonic(
    p: &Snapshot,
    s: &Snapshot,
    pr: &MigrationStats,
    r: &MigrationStats,
    pst: MigrationStatus,
    st: MigrationStatus,
    ctx: &dyn Fn(u32, String) -> String,
    v: &mut Vec<String>,
) {
    let pairs: [(&str, i64, i64); 10] = [
        ("transferred", pr.transferred, r.transferred),
        ("duplicate", pr.duplicate, r.duplicate),
        ("normal", pr.normal, r.normal),
        ("dirty-sync-count", pr.dirty_sync_count.unwrap_or(0), r.dirty_sync_count.unwrap_or(0)),
        ("multifd-bytes", pr.multifd_bytes.unwrap_or(0) as i64, r.multifd_bytes.unwrap_or(0) as i64),
        ("precopy-bytes", pr.precopy_bytes.unwrap_or(0) as i64, r.precopy_bytes.unwrap_or(0) as i64),
        ("downtime-bytes", pr.downtime_bytes.unwrap_or(0) as i64, r.downtime_bytes.unwrap_or(0) as i64),
        ("postcopy-bytes", pr.postcopy_bytes.unwrap_or(0) as i64, r.postcopy_bytes.unwrap_or(0) as i64),
        ("postcopy-requests", pr.postcopy_requests.unwrap_or(0), r.postcopy_requests.unwrap_or(0)),
        (
            "vfio.transferred",
            p.source.vfio.as_ref().map_or(0, |x| x.transferred),
            s.source.vfio.as_ref().map_or(0, |x| x.transferred),
        ),
    ];
    for (name, a, b) in pairs {
        if b < a {
            v.push(ctx(3, format!("{name} decreased {a} -> {b}")));
        }
    }
    if let (Some(xa), Some(xb)) = (&p.source.xbzrle_cache, &s.source.xbzrle_cache) {
        for (name, a, b) in [
            ("xbzrle.pages", xa.pages, xb.pages),
            ("xbzrle.bytes", xa.bytes, xb.bytes),
            ("xbzrle.cache-miss", xa.cache_miss, xb.cache_miss),
            ("xbzrle.overflow", xa.overflow, xb.overflow),
        ] {
            if b < a {
                v.push(ctx(3, format!("{name} decreased {a} -> {b}")));
            }
        }
    }
    if let (Some(a), Some(b)) = (p.source.cpu_throttle_percentage, s.source.cpu_throttle_percentage) {
        if b < a {
            v.push(ctx(3, format!("cpu-throttle-percentage decreased {a} -> {b}")));
        }
    }
    let (ta, tb) = (p.source.total_time.unwrap_or(0), s.source.total_time.unwrap_or(0));
    if pst == MigrationStatus::Completed && st == MigrationStatus::Completed {
        if ta != tb {
            v.push(ctx(3, "total-time changed after completion".into()));
        }
    } else if st != MigrationStatus::Completed {
        let advanced = s.time_ns / 1_000_000 > p.time_ns / 1_000_000;
        if tb < ta || (advanced && tb == ta) {
            v.push(ctx(3, format!("total-time not increasing with time: {ta} -> {tb}")));
        }
    }
}

/// An independent rendering of QEMU's HMP sizes: three significant digits,
/// unit switched once the value reaches 1000 of the smaller one.
pub fn hmp_size(val: u64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut i = 0usize;
    while i < 6 && u128::from(val) >= 1000u128 << (10 * i as u32) {
        i += 1;
    }
    let x = val as f64 / (1u64 << (10 * i)) as f64;
    let decimals = if x < 1.0 {
        3
    } else if x < 10.0 {
        2
    } else if x < 100.0 {
        1
    } else {
        0
    };
    let mut s = format!("{x:.decimals$}");
    if s.contains('.') {
        s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    if s == "1000" {
        s = "1e+03".into();
    }
    format!("{s} {}", UNITS[i])
}

/// Invariant 17: `info migrate` shows the same values.
fn check_hmp(info: &MigrationInfo, ctx: &dyn Fn(u32, String) -> String, v: &mut Vec<String>) {
    let text = render_info_migrate(info, true);
    let mut expect: Vec<String> = Vec::new();
    if let Some(st) = info.status {
        expect.push(match (&info.error_desc, st) {
            (Some(e), MigrationStatus::Failed | MigrationStatus::PostcopyPaused) => format!("Status: \t\t{st} ({e})"),
            _ => format!("Status: \t\t{st}"),
        });
    }
    if let Some(tt) = info.total_time.filter(|&t| t != 0) {
        let mut l = format!("Time (ms): \t\ttotal={tt}");
        if let Some(x) = info.setup_time {
            l += &format!(", setup={x}");
        }
        if let Some(x) = info.expected_downtime {
            l += &format!(", exp_down={x}");
        }
        if let Some(x) = info.downtime {
            l += &format!(", down={x}");
        }
        expect.push(l);
    }
    if let Some(r) = info.remaining {
        expect.push(format!("Remaining (bytes): \t{r}"));
    }
    if let Some(r) = &info.ram {
        expect.push(format!("  Throughput (Mbps): \t{:.2}", r.mbps));
        expect.push(format!(
            "  Sizes: \t\tpagesize={}, total={}",
            hmp_size(r.page_size as u64),
            hmp_size(r.total as u64)
        ));
        expect.push(format!(
            "  Transfers: \t\ttransferred={}, remain={}",
            hmp_size(r.transferred as u64),
            hmp_size(r.remaining as u64)
        ));
        let mut ch = format!(
            "    Channels: \t\tprecopy={}, multifd={}, postcopy={}",
            hmp_size(r.precopy_bytes.unwrap_or(0)),
            hmp_size(r.multifd_bytes.unwrap_or(0)),
            hmp_size(r.postcopy_bytes.unwrap_or(0))
        );
        if let Some(vf) = &info.vfio {
            ch += &format!(", vfio={}", hmp_size(vf.transferred as u64));
        }
        expect.push(ch);
        expect.push(format!("    Page Types: \tnormal={}, zero={}", r.normal, r.duplicate));
        let mut pr = format!("  Page Rates (pps): \ttransfer={}", r.pages_per_second);
        if let Some(d) = r.dirty_pages_rate.filter(|&d| d != 0) {
            pr += &format!(", dirty={d}");
        }
        expect.push(pr);
        let mut o = format!("  Others: \t\tdirty_syncs={}", r.dirty_sync_count.unwrap_or(0));
        if let Some(x) = r.postcopy_requests.filter(|&x| x != 0) {
            o += &format!(", postcopy_req={x}");
        }
        if let Some(x) = r.downtime_bytes.filter(|&x| x != 0) {
            o += &format!(", downtime_bytes={x}");
        }
        expect.push(o);
    }
    if let Some(p) = info.cpu_throttle_percentage {
        expect.push(format!("CPU Throttle (%): {p}"));
    }
    if let Some(x) = &info.xbzrle_cache {
        expect.push(format!(
            "XBZRLE: size={}, transferred={}, pages={}, miss={}",
            hmp_size(x.cache_size),
            hmp_size(x.bytes as u64),
            x.pages,
            x.cache_miss
        ));
        expect.push(format!(
            "  miss_rate={:.2}, encode_rate={:.2}, overflow={}",
            x.cache_miss_rate, x.encoding_rate, x.overflow
        ));
    }
    let lines: Vec<&str> = text.lines().collect();
    for e in expect {
        if !lines.contains(&e.as_str()) {
            v.push(ctx(17, format!("HMP line {e:?} missing from:\n{text}")));
        }
    }
}

/// Destination samples: presence (2), and the seed's statistics (16).
fn check_destination(t: &Trace, v: &mut Vec<String>) {
    let sc = &t.scenario;
    let src_completed_xbz = t
        .samples
        .iter()
        .rev()
        .find(|s| s.source.status == Some(MigrationStatus::Completed))
        .and_then(|s| s.source.xbzrle_cache.as_ref().map(|x| x.pages))
        .unwrap_or(0);
    for s in &t.samples {
        let d = &s.destination;
        let at = ms(s.time_ns);
        let Some(st) = d.status else {
            continue;
        };
        if st != MigrationStatus::Completed || !sc.features.dest_stats {
            if d.ram.is_some() || d.total_time.is_some() {
                v.push(format!("inv 2 @ {at:.3} ms [dest {st}]: ram/total-time present"));
            }
            continue;
        }
        let (Some(ram), Some(tt)) = (d.ram.as_ref(), d.total_time) else {
            v.push(format!("inv 16 @ {at:.3} ms [dest completed]: ram or total-time missing"));
            continue;
        };
        if ram.remaining != 0 {
            v.push(format!("inv 16 @ {at:.3} ms: dest remaining != 0"));
        }
        if ram.normal_bytes != ram.normal * ram.page_size {
            v.push(format!("inv 16 @ {at:.3} ms: dest normal-bytes != normal x page-size"));
        }
        if has_source_only(ram) {
            v.push(format!("inv 16 @ {at:.3} ms: dest ram has source-only members ({SOURCE_ONLY})"));
        }
        if d.expected_downtime.is_some() || d.downtime.is_some() || d.setup_time.is_some() {
            v.push(format!("inv 16 @ {at:.3} ms: dest has source-only times"));
        }
        if tt > 0 {
            let expect = ram.transferred as f64 * 8.0 / tt as f64 / 1000.0;
            if ((ram.mbps - expect) / expect).abs() > 1e-9 {
                v.push(format!("inv 16 @ {at:.3} ms: dest mbps {} != {expect}", ram.mbps));
            }
            let pps = (ram.normal + ram.duplicate + src_completed_xbz) as u64 * 1000 / tt as u64;
            if ram.pages_per_second != pps {
                v.push(format!("inv 16 @ {at:.3} ms: dest pages-per-second {} != {pps}", ram.pages_per_second));
            }
        }
    }
}

/// `both_engines!(name, |engine| { ... })`: the test `name::aggregate` and
/// `name::bitmap`, the body run with each memory engine (`EngineKind` must
/// be in scope where it is used).
#[allow(unused_macros)]
macro_rules! both_engines {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[test]
            fn aggregate() {
                ($body)(EngineKind::Aggregate)
            }
            #[test]
            fn bitmap() {
                ($body)(EngineKind::Bitmap)
            }
        }
    };
}
#[allow(unused_imports)]
pub(crate) use both_engines;

/// A test that cannot run here (a program it needs is missing) says so and
/// passes, unless `QAPI_REQUIRE_REAL` is set: `.ci/run` sets it where QEMU,
/// qemu-ga and binutils are installed, so that a test meant to run there
/// fails instead of passing unseen.
pub fn skip(why: &str) {
    if std::env::var_os("QAPI_REQUIRE_REAL").is_some_and(|v| !v.is_empty()) {
        panic!("{why}, and QAPI_REQUIRE_REAL is set");
    }
    eprintln!("skipped: {why}");
}
