//! The fit on traces the simulator itself produces: it must recover the
//! guest it was given, replay the trace closely, and predict what the
//! simulator does with changed settings.

use super::*;
use crate::config::{ByteSize, PageClassConfig};
use crate::units::{MIB, NS_PER_MS};
use crate::Simulation;

/// A max-bandwidth whose window budget is one byte short of `flushes`
/// QEMU flushes of 32 full pages: QEMU's overshoot is then one byte, like
/// the simulator's fraction of a page, so a simulated trace is a fair
/// stand-in for a real one.
fn flush_aligned_bandwidth(flushes: u64) -> u64 {
    (flushes * 32 * 4104 - 1) * 10
}

/// 256 MiB: 2 MiB of cold data, a 24 MiB working set written 1500 times a
/// second, zeros; rate-limited to 8.8 MiB/s.
fn truth() -> Scenario {
    let mut s = Scenario::default();
    s.guest.ram = ByteSize(256 * MIB);
    s.guest.extra_ram_blocks = ByteSize(0);
    s.guest.vcpus = 1;
    s.guest.classes = vec![
        PageClassConfig { name: "cold".into(), size: ByteSize(2 * MIB), ..PageClassConfig::default() },
        PageClassConfig {
            name: "hot".into(),
            size: ByteSize(24 * MIB),
            write_rate: 1500.0,
            ..PageClassConfig::default()
        },
    ];
    s.migration.parameters.max_bandwidth = ByteSize(flush_aligned_bandwidth(7));
    s
}

/// The trace a user would record from `scenario`: the parameters answer,
/// then `query-migrate` every 50 ms.
fn record(scenario: &Scenario) -> Trace {
    let mut sim = Simulation::new(scenario).unwrap();
    let params = serde_json::to_value(&scenario.migration.parameters).unwrap();
    let mut lines = vec![serde_json::json!({ "return": params }).to_string()];
    sim.run_sampled(50 * NS_PER_MS, |snap| {
        lines.push(serde_json::json!({ "return": snap.source }).to_string());
    });
    Trace::parse(&lines.join("\n"), "simulated").unwrap()
}

fn close(what: &str, got: f64, want: f64, tolerance: f64) {
    assert!((got / want - 1.0).abs() <= tolerance, "{what}: got {got}, want {want} (±{:.1}%)", tolerance * 100.0);
}

#[test]
fn recovers_the_simulated_guest() {
    let trace = record(&truth());
    let f = fit(&trace, &FitOptions::default()).unwrap();
    let e = &f.estimates;
    assert_eq!(e.total_bytes, 256 * MIB);
    assert_eq!(e.data_pages, 26 * MIB / 4096, "{e:?}");
    assert!(e.rate_limited);
    assert_eq!(e.settings.max_bandwidth_origin, Origin::Trace);
    assert_eq!(e.settings.parameters.downtime_limit, 300);
    let ws = e.working_set.unwrap();
    close("working set", ws.pages as f64, (24 * MIB / 4096) as f64, 0.05);
    close("write rate", ws.write_rate, 1500.0, 0.05);
    let c = &f.comparison;
    assert_eq!(c.replay.status, "completed");
    assert!(c.total_time_error.unwrap().abs() < 0.03, "{c:?}");
    assert!(c.transferred_error.unwrap().abs() < 0.03, "{c:?}");
}

#[test]
fn what_if_predicts_the_simulator() {
    let base = truth();
    let f = fit(&record(&base), &FitOptions::default()).unwrap();
    let faster = flush_aligned_bandwidth(13);
    for (key, value) in [("max-bandwidth", faster.to_string()), ("downtime-limit", "60".to_string())] {
        let changes = Changes { set: vec![(key.to_string(), value)], caps: Vec::new() };
        let predicted = f.what_if(&changes).unwrap().totals;
        let mut real = base.clone();
        real.migration.parameters = changes.apply(&f.estimates.settings).unwrap().parameters;
        let mut sim = Simulation::new(&real).unwrap();
        sim.run_to_completion();
        let end = serde_json::to_value(sim.query_migrate_source()).unwrap();
        let end = trace::sample_of(&end).unwrap();
        let want = Totals::of(&end);
        assert_eq!(predicted.status, "completed", "{key}");
        close(key, predicted.total_time_ms.unwrap() as f64, want.total_time_ms.unwrap() as f64, 0.05);
        close(key, predicted.transferred as f64, want.transferred as f64, 0.05);
    }
}

#[test]
fn changes_are_checked() {
    let settings = Settings {
        parameters: Default::default(),
        capabilities: Default::default(),
        max_bandwidth_origin: Origin::Default,
        downtime_limit_origin: Origin::Default,
        capabilities_origin: Origin::Default,
    };
    let apply = |set: &[&str], caps: &[&str]| {
        let changes = Changes {
            set: set.iter().map(|s| Changes::parse_set(s).unwrap()).collect(),
            caps: caps.iter().map(|s| Changes::parse_cap(s).unwrap()).collect(),
        };
        changes.apply(&settings)
    };
    let s = apply(&["downtime-limit=500", "max-bandwidth=64MiB"], &["multifd", "events=off"]).unwrap();
    assert_eq!(s.parameters.downtime_limit, 500);
    assert_eq!(s.parameters.max_bandwidth.0, 64 * MIB);
    assert!(s.capabilities.multifd && !s.capabilities.events);
    assert_eq!(s.max_bandwidth_origin, Origin::Given);

    let err = |set: &[&str], caps: &[&str]| apply(set, caps).unwrap_err().to_string();
    assert!(err(&["downtime-limt=5"], &[]).starts_with("--set downtime-limt=5: unknown parameter 'downtime-limt'"));
    assert!(err(&["downtime-limit=-5"], &[]).starts_with("--set downtime-limit=-5: invalid value"));
    assert!(err(&["max-bandwidth=fast"], &[]).starts_with("--set max-bandwidth=fast: invalid size `fast`"));
    assert!(err(&[], &["multifdd"]).starts_with("--cap multifdd=on: unknown capability 'multifdd'"));
    assert_eq!(Changes::parse_set("x").unwrap_err(), "expected KEY=VALUE, got 'x'");
    assert_eq!(Changes::parse_cap("multifd=maybe").unwrap_err(), "expected NAME[=on|off], got state 'maybe'");
}

#[test]
fn qemu_window_arithmetic_matches_measurements() {
    use estimate::qemu_window_bytes;
    // QEMU 10.0.2, TCG, 4 KiB pages: the per-window bytes its mbps showed.
    assert_eq!(qemu_window_bytes(8 * MIB, 4096, None), 919_296.0);
    assert_eq!(qemu_window_bytes(16 * MIB, 4096, None), 1_707_264.0);
    // Multifd, 2 channels: 3 or 4 packets of 525,632 bytes were seen; 4 is
    // the bound.
    assert_eq!(qemu_window_bytes(8 * MIB, 4096, Some(2)), 4.0 * 525_632.0);
    assert_eq!(qemu_window_bytes(16 * MIB, 4096, Some(2)), 6.0 * 525_632.0);
}

/// The simulator's steady window bytes for `settings` after calibration.
fn calibrated_window(est: &Estimates, settings: &Settings) -> f64 {
    let s = model::scenario(est, settings, 5000, Layout::Ordered, 0).unwrap();
    let mut sim = Simulation::new(&s).unwrap();
    sim.set_batching(false);
    sim.advance_to(450 * NS_PER_MS);
    let w = sim.snapshot().internals.window;
    assert!(w.rate_limited);
    w.bytes as f64
}

#[test]
fn simulated_windows_carry_what_qemu_sends() {
    let trace = record(&truth());
    let mut est = estimate::estimate(&trace, None).unwrap();
    // As if QEMU had been given 8 MiB/s and sent its 919,296-byte windows.
    est.settings.parameters.max_bandwidth = ByteSize(8 * MIB);
    est.window_bytes = Some(919_296.0);
    close("simulated window", calibrated_window(&est, &est.settings), 919_296.0, 0.005);

    // A busy host: QEMU's windows lasted 1/0.85 of 100 ms. A what-if at
    // 16 MiB/s keeps that.
    est.window_bytes = Some(0.85 * 919_296.0);
    let mut faster = est.settings.clone();
    faster.parameters.max_bandwidth = ByteSize(16 * MIB);
    close("stretched window", calibrated_window(&est, &faster), 0.85 * 1_707_264.0, 0.005);
}
