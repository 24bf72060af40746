//! The two RAM engines agree (model §4.3): on a table of scenarios
//! (XBZRLE with a small and a large cache, multifd busy and idle, postcopy,
//! auto-converge, a converging busy guest), the bitmap engine's means over
//! ten seeds are within the L1 tolerances of the aggregate engine's
//! deterministic result: ±2 % on times over 1 s and on byte counts, ±1 on
//! the dirty-sync count (each seed within ±2), XBZRLE's miss ratio within
//! 0.05, and in idle cases the multifd SYNC rounds and the sync count
//! exactly.

use migration_sim::config::{ActionConfig, ActionKind, ByteSize, PageClassConfig};
use migration_sim::presets::pc_devices;
use migration_sim::units::{GIB, MIB};
use migration_sim::{EngineKind, Scenario, Simulation};

fn class(name: &str, size: u64, rate: f64) -> PageClassConfig {
    PageClassConfig { name: name.into(), size: ByteSize(size), write_rate: rate, ..PageClassConfig::default() }
}

/// A 1 GiB guest with 384 MiB of cold data and the PC devices.
fn base(name: &str) -> Scenario {
    let mut s = Scenario { name: name.into(), ..Scenario::default() };
    s.guest.ram = ByteSize(GIB);
    s.guest.classes = vec![class("data", 384 * MIB, 0.0)];
    s.devices = pc_devices();
    s.migration.capabilities.events = true;
    s.time_limit_s = 120.0;
    s
}

fn start_postcopy(at_ms: f64) -> ActionConfig {
    ActionConfig {
        at_ms,
        action: ActionKind::StartPostcopy,
        parameters: None,
        state: None,
        bandwidth: None,
        error: None,
        class: None,
        write_rate: None,
    }
}

/// The shared scenario table; `idle` marks the dirty-free ones.
fn table() -> Vec<(Scenario, bool)> {
    let mut v = Vec::new();
    let mut s = base("xbzrle, cache much smaller than the working set");
    s.guest.classes.push(class("hot", 128 * MIB, 8000.0));
    s.migration.capabilities.xbzrle = true;
    s.migration.parameters.xbzrle_cache_size = ByteSize(8 * MIB);
    s.migration.parameters.max_bandwidth = ByteSize(64 * MIB);
    v.push((s, false));
    let mut s = base("xbzrle, cache larger than the working set");
    s.guest.classes.push(class("hot", 32 * MIB, 8000.0));
    s.migration.capabilities.xbzrle = true;
    s.migration.parameters.max_bandwidth = ByteSize(64 * MIB);
    v.push((s, false));
    let mut s = base("multifd");
    s.guest.classes.push(class("hot", 64 * MIB, 20_000.0));
    s.migration.capabilities.multifd = true;
    s.migration.parameters.multifd_channels = 4;
    s.migration.parameters.max_bandwidth = ByteSize(256 * MIB);
    v.push((s, false));
    let mut s = base("multifd, idle");
    s.migration.capabilities.multifd = true;
    v.push((s, true));
    let mut s = base("postcopy");
    s.guest.classes.push(class("hot", 256 * MIB, 100_000.0));
    s.migration.capabilities.postcopy_ram = true;
    s.actions.push(start_postcopy(2000.0));
    v.push((s, false));
    let mut s = base("auto-converge");
    s.guest.classes.push(class("hot", 256 * MIB, 100_000.0));
    s.migration.capabilities.auto_converge = true;
    v.push((s, false));
    let mut s = base("converging busy guest");
    s.guest.classes.push(class("hot", 64 * MIB, 10_000.0));
    s.guest.classes.push(class("warm", 256 * MIB, 2000.0));
    v.push((s, false));
    v
}

/// What is compared of a run.
#[derive(Debug, Clone, Copy, Default)]
struct Result {
    total_time_ms: f64,
    transferred: f64,
    multifd_bytes: f64,
    postcopy_bytes: f64,
    dirty_syncs: f64,
    multifd_syncs: f64,
    xbzrle_miss_ratio: Option<f64>,
}

fn run(s: &Scenario, engine: EngineKind, seed: u64) -> Result {
    let mut s = s.clone();
    s.engine = engine;
    s.seed = seed;
    let mut sim = Simulation::new(&s).expect("valid scenario");
    let out = sim.run_to_completion();
    assert!(!out.timed_out && out.source_status == migration_sim::MigrationStatus::Completed, "{}: {out:?}", s.name);
    let q = sim.query_migrate_source();
    let r = q.ram.expect("ram");
    Result {
        total_time_ms: q.total_time.unwrap_or(0) as f64,
        transferred: r.transferred as f64,
        multifd_bytes: r.multifd_bytes.unwrap_or(0) as f64,
        postcopy_bytes: r.postcopy_bytes.unwrap_or(0) as f64,
        dirty_syncs: r.dirty_sync_count.unwrap_or(0) as f64,
        multifd_syncs: sim.snapshot().internals.multifd_syncs as f64,
        xbzrle_miss_ratio: q.xbzrle_cache.map(|x| {
            let handled = x.cache_miss + x.pages + x.overflow;
            x.cache_miss as f64 / handled.max(1) as f64
        }),
    }
}

fn within(name: &str, what: &str, l1: f64, l2: f64, rel: f64, problems: &mut Vec<String>) {
    if l1 == 0.0 && l2 == 0.0 {
        return;
    }
    let d = (l2 - l1).abs() / l1.abs().max(l2.abs());
    if d > rel {
        problems.push(format!("{name}: {what}: aggregate {l1:.0}, bitmap mean {l2:.1} ({:.2} % apart)", d * 100.0));
    }
}

#[test]
fn engines_agree_on_the_scenario_table() {
    const SEEDS: u64 = 10;
    let mut problems = Vec::new();
    for (s, idle) in table() {
        let l1 = run(&s, EngineKind::Aggregate, 1);
        let seeds: Vec<Result> = (1..=SEEDS).map(|seed| run(&s, EngineKind::Bitmap, seed)).collect();
        let mean = |f: &dyn Fn(&Result) -> f64| seeds.iter().map(f).sum::<f64>() / SEEDS as f64;
        let name = s.name.as_str();
        if l1.total_time_ms > 1000.0 {
            within(name, "total-time", l1.total_time_ms, mean(&|r| r.total_time_ms), 0.02, &mut problems);
        }
        within(name, "transferred", l1.transferred, mean(&|r| r.transferred), 0.02, &mut problems);
        within(name, "multifd-bytes", l1.multifd_bytes, mean(&|r| r.multifd_bytes), 0.02, &mut problems);
        within(name, "postcopy-bytes", l1.postcopy_bytes, mean(&|r| r.postcopy_bytes), 0.02, &mut problems);
        let syncs = mean(&|r| r.dirty_syncs);
        if (syncs - l1.dirty_syncs).abs() > 1.0 {
            problems.push(format!("{name}: dirty-sync-count: aggregate {}, bitmap mean {syncs}", l1.dirty_syncs));
        }
        for (seed, r) in seeds.iter().enumerate() {
            if (r.dirty_syncs - l1.dirty_syncs).abs() > 2.0 {
                problems.push(format!(
                    "{name}: seed {}: dirty-sync-count {} vs {}",
                    seed + 1,
                    r.dirty_syncs,
                    l1.dirty_syncs
                ));
            }
            if idle && (r.dirty_syncs, r.multifd_syncs) != (l1.dirty_syncs, l1.multifd_syncs) {
                problems.push(format!(
                    "{name}: seed {}: (dirty syncs, multifd SYNC rounds) {:?} vs {:?}",
                    seed + 1,
                    (r.dirty_syncs, r.multifd_syncs),
                    (l1.dirty_syncs, l1.multifd_syncs)
                ));
            }
        }
        if let Some(m1) = l1.xbzrle_miss_ratio {
            let m2 = mean(&|r| r.xbzrle_miss_ratio.unwrap_or(0.0));
            if (m1 - m2).abs() > 0.05 {
                problems.push(format!("{name}: XBZRLE miss ratio: aggregate {m1:.3}, bitmap mean {m2:.3}"));
            }
        }
    }
    assert!(problems.is_empty(), "the engines disagree:\n  {}", problems.join("\n  "));
}
