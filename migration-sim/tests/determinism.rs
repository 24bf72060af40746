//! Same scenario and seed give the same results, whatever the sampling.

use migration_sim::config::{ByteSize, PageClassConfig};
use migration_sim::units::{GIB, MIB};
use migration_sim::{default_scenario, EngineKind, Scenario, Simulation};

fn small(engine: EngineKind, seed: u64) -> Scenario {
    let mut s = default_scenario();
    s.engine = engine;
    s.seed = seed;
    s.guest.ram = ByteSize(GIB);
    s.guest.classes = vec![
        PageClassConfig {
            name: "hot".into(),
            size: ByteSize(64 * MIB),
            write_rate: 30_000.0,
            ..PageClassConfig::default()
        },
        PageClassConfig { name: "data".into(), size: ByteSize(256 * MIB), ..PageClassConfig::default() },
    ];
    s
}

fn run(s: &Scenario, sample_ms: Option<u64>) -> (String, String) {
    let mut sim = Simulation::new(s).expect("valid");
    match sample_ms {
        Some(p) => {
            sim.run_sampled(p * 1_000_000, |_| {});
        }
        None => {
            sim.run_to_completion();
        }
    }
    let events = format!("{:?}", sim.events());
    let info = format!("{:?} {:?}", sim.query_migrate_source(), sim.query_migrate_destination());
    (events, info)
}

#[test]
fn same_seed_same_results() {
    for e in [EngineKind::Aggregate, EngineKind::Bitmap] {
        let s = small(e, 7);
        assert_eq!(run(&s, None), run(&s, None), "{e:?}");
    }
}

#[test]
fn sampling_does_not_change_the_run() {
    for e in [EngineKind::Aggregate, EngineKind::Bitmap] {
        let s = small(e, 3);
        let free = run(&s, None);
        assert_eq!(free, run(&s, Some(100)), "{e:?}");
        assert_eq!(free, run(&s, Some(37)), "{e:?}");
    }
}

#[test]
fn seeds_matter_for_random_writes_only() {
    assert_ne!(run(&small(EngineKind::Bitmap, 1), None), run(&small(EngineKind::Bitmap, 2), None));
    assert_eq!(run(&small(EngineKind::Aggregate, 1), None), run(&small(EngineKind::Aggregate, 2), None));
}

#[test]
fn advance_to_paces_and_interpolates() {
    let mut sim = Simulation::new(&small(EngineKind::Aggregate, 1)).expect("valid");
    let mut last = 0i64;
    for step in 1..=50u64 {
        sim.advance_to(step * 7_000_000);
        assert_eq!(sim.now_ns(), step * 7_000_000);
        if let Some(r) = sim.query_migrate_source().ram {
            assert!(r.transferred >= last);
            last = r.transferred;
        }
    }
    assert!(last > 0);
}

/// Snapshots of a run at every 10 ms and just before each, with batching on
/// or off.
fn snapshots(s: &Scenario, batching: bool) -> Vec<String> {
    let mut sim = Simulation::new(s).expect("valid");
    sim.set_batching(batching);
    let mut out = Vec::new();
    let mut t = 0u64;
    while sim.next_event_ns().is_some() && t < 60_000_000_000 {
        t += 10_000_000;
        for at in [t - 1_000, t] {
            sim.advance_to(at);
            let snap = sim.snapshot();
            out.push(format!("{at} {:?} {:?} {:?}", snap.source, snap.destination, snap.internals));
        }
    }
    out.push(format!("{:?}", sim.events()));
    out
}

#[test]
fn batching_is_invisible() {
    // Fast-forwarded windows show every burst and every window update where
    // window-by-window stepping shows them.
    for multifd in [false, true] {
        let mut s = small(EngineKind::Aggregate, 5);
        s.link.connect_ms = 0.0;
        s.migration.capabilities.multifd = multifd;
        let stepped = snapshots(&s, false);
        let batched = snapshots(&s, true);
        assert_eq!(stepped.len(), batched.len());
        for (a, b) in stepped.iter().zip(&batched) {
            assert_eq!(a, b, "multifd {multifd}");
        }
    }
}
