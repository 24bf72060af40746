//! Checks against the closed forms of model §2.5/§2.6 in the classical
//! regime, with the §4.3 tolerances, and L2 (random writes) against L1.

mod common;

use common::{assert_invariants, trace};
use migration_sim::config::{ByteSize, PageClassConfig, Rate, RestContent};
use migration_sim::units::MIB;
use migration_sim::{EngineKind, MigrationStatus, Scenario, Simulation};

const P: f64 = 4096.0;
/// Wire bytes of a normal page on the main channel (header + data).
const C: f64 = 4104.0;

/// A 512 MiB guest of non-zero pages with a uniformly written hot set of
/// 32768 pages, no extra RAM blocks, no devices: the textbook setting.
fn textbook(engine: EngineKind, write_rate: f64, downtime_limit: u64) -> Scenario {
    let mut s = Scenario { name: format!("textbook ({engine:?})"), engine, ..Scenario::default() };
    s.guest.ram = ByteSize(512 * MIB);
    s.guest.extra_ram_blocks = ByteSize(0);
    s.guest.rest = RestContent::Data;
    s.guest.classes = vec![PageClassConfig {
        name: "hot".into(),
        size: ByteSize(128 * MIB),
        write_rate,
        ..PageClassConfig::default()
    }];
    // 32 MiB/s rate limit; the link is a bit faster (40 MiB/s), so that the
    // switchover bandwidth is close to the estimate and RAM dominates the
    // downtime.
    s.migration.parameters.max_bandwidth = ByteSize(32 * MIB);
    s.link.bandwidth = Rate((40 * MIB) as f64);
    s.migration.parameters.downtime_limit = downtime_limit;
    s.migration.capabilities.events = true;
    s.time_limit_s = 600.0;
    s
}

struct ClosedForm {
    rounds: Vec<f64>,
    total_s: f64,
    bytes: f64,
    syncs: i64,
    final_pages: f64,
}

/// §2.6 classical regime (g ≥ Θ_p): rounds drain before the check, QEMU
/// completes at the first N_k ≤ Θ_p. Liu's formulas with V_th = Θ.
fn classical(v_pages: f64, w_pages: f64, w: f64, b_bytes: f64, d_ms: f64, fixed_s: f64) -> ClosedForm {
    let b = b_bytes / C;
    let theta_p = b_bytes * d_ms / 1000.0 / P;
    let t0 = v_pages * C / b_bytes;
    let mut n = w_pages * (1.0 - (-w * t0 / w_pages).exp());
    let mut rounds = vec![n];
    while n > theta_p {
        n = w_pages * (1.0 - (-(w / b) * n / w_pages).exp());
        rounds.push(n);
    }
    let final_pages = n;
    let sent_live: f64 = rounds[..rounds.len() - 1].iter().sum();
    ClosedForm {
        total_s: fixed_s + t0 + sent_live / b,
        bytes: v_pages * C + rounds.iter().sum::<f64>() * C,
        syncs: 1 + rounds.len() as i64 + 1,
        rounds,
        final_pages,
    }
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b
}

#[test]
fn classical_regime_matches_closed_form() {
    // g = 32 MiB/s × 0.1 s / 4104 ≈ 818 pages per pass ≫ Θ_p ≈ 41 pages:
    // a round nearly always drains before the check (a pass that starts
    // with fewer than Θ_p pages left would sync early: a micro-round).
    let s = textbook(EngineKind::Aggregate, 4000.0, 5);
    let t = trace(&s, 100);
    assert_invariants(&t);
    assert_eq!(t.outcome.source_status, MigrationStatus::Completed);
    let info = t.completed();
    let ram = info.ram.clone().expect("ram");
    let b = (32 * MIB) as f64;
    let cf = classical(131_072.0, 32_768.0, 4000.0, b, 5.0, 0.0);
    let total_s = info.total_time.unwrap_or(0) as f64 / 1000.0;
    assert!(rel(total_s, cf.total_s) < 0.05, "total {total_s} s vs {:.3} s ({:?})", cf.total_s, cf.rounds);
    assert!(rel(ram.transferred as f64, cf.bytes) < 0.05, "bytes {} vs {:.0}", ram.transferred, cf.bytes);
    // §4.3: sync counts are exact in the classical regime.
    assert_eq!(ram.dirty_sync_count, Some(cf.syncs), "rounds {:?}", cf.rounds);
    // Downtime: RAM part ≈ N_final·c / B_switchover, within the §2.6
    // bracket (≤ d·B_est/B_sw); the rest is the fixed stop-and-copy cost.
    let link = (40 * MIB) as f64;
    let fixed_ms = 2.0 + 1.0 + 0.25; // vm stop, block inactivate, final sync of 0.5 GiB
    let ram_ms = info.downtime.unwrap_or(0) as f64 - fixed_ms;
    let expect_ms = cf.final_pages * C / link * 1000.0;
    assert!(ram_ms <= 5.0 * b / link + 1.0, "downtime RAM part {ram_ms} ms above the bracket");
    assert!((ram_ms - expect_ms).abs() <= 0.2 * expect_ms + 1.0, "downtime RAM part {ram_ms} ms vs {expect_ms:.1} ms");
}

#[test]
fn non_convergent_dirty_set_settles_at_the_fixed_point() {
    // w = 1.5 b: the dirty set per round tends to x* = W(1 − e^(−1.5 x*/W)),
    // far above the threshold; expected-downtime ≈ x*·P / B_est (§2.5).
    let b = (32 * MIB) as f64;
    let w = 1.5 * b / C;
    // Classical regime (small downtime limit), so that rounds drain as the
    // closed form assumes.
    let mut s = textbook(EngineKind::Aggregate, w, 5);
    s.time_limit_s = 80.0;
    let t = trace(&s, 100);
    assert_invariants(&t);
    assert!(t.outcome.timed_out);
    let mut y = 0.5f64;
    for _ in 0..200 {
        y = 1.0 - (-1.5 * y).exp();
    }
    let x_star = 32_768.0 * y;
    let expect_ms = x_star * P / (b / 1000.0);
    let got = t.last().source.expected_downtime.unwrap_or(0) as f64;
    assert!(rel(got, expect_ms) < 0.05, "expected-downtime {got} ms vs x*·P/B = {expect_ms:.0} ms");
}

#[test]
fn bitmap_engine_agrees_with_aggregate_on_average() {
    // §4.3: L2 means over ≥ 10 seeds within the L1 tolerances (±2 % on
    // times > 1 s and byte counts), sync counts per seed within ±2.
    let l1 = {
        let mut sim = Simulation::new(&textbook(EngineKind::Aggregate, 4000.0, 5)).expect("valid");
        sim.run_to_completion();
        sim.query_migrate_source()
    };
    let l1_ram = l1.ram.clone().expect("ram");
    let mut totals = Vec::new();
    let mut bytes = Vec::new();
    for seed in 1..=10 {
        let mut s = textbook(EngineKind::Bitmap, 4000.0, 5);
        s.seed = seed;
        let mut sim = Simulation::new(&s).expect("valid");
        let out = sim.run_to_completion();
        assert_eq!(out.source_status, MigrationStatus::Completed);
        let info = sim.query_migrate_source();
        let ram = info.ram.expect("ram");
        let d = (ram.dirty_sync_count.unwrap_or(0) - l1_ram.dirty_sync_count.unwrap_or(0)).abs();
        assert!(
            d <= 2,
            "seed {seed}: {} syncs vs {}",
            ram.dirty_sync_count.unwrap_or(0),
            l1_ram.dirty_sync_count.unwrap_or(0)
        );
        totals.push(info.total_time.unwrap_or(0) as f64);
        bytes.push(ram.transferred as f64);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let l1_total = l1.total_time.unwrap_or(0) as f64;
    assert!(rel(mean(&totals), l1_total) < 0.02, "L2 mean total {} vs L1 {l1_total}", mean(&totals));
    assert!(
        rel(mean(&bytes), l1_ram.transferred as f64) < 0.02,
        "L2 mean bytes {} vs L1 {}",
        mean(&bytes),
        l1_ram.transferred
    );
}
