//! Aggregate (L1) engine throughput: complete 8 GiB migrations per second.
//!
//! Runs the default scenario (8 GiB guest, hot working set, PC devices,
//! QEMU 10.2 defaults) end to end, repeatedly, without sampling, and prints
//! the median rate over several rounds, next to a baseline measured in the
//! same run: an idle 8 GiB guest (one pass, nothing re-dirtied), which
//! bounds what the driver and engine cost per loop pass.
#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use migration_sim::{default_scenario, Scenario, Simulation};

fn rate(scenario: &Scenario, min_time: Duration) -> (f64, u64) {
    let mut n = 0u64;
    let start = Instant::now();
    let mut passes = 0;
    while start.elapsed() < min_time {
        let mut sim = Simulation::new(scenario).expect("valid scenario");
        let out = sim.run_to_completion();
        assert!(out.source_status.is_terminal());
        passes = sim.events().len() as u64;
        n += 1;
    }
    (n as f64 / start.elapsed().as_secs_f64(), passes)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let busy = default_scenario();
    let mut idle = default_scenario();
    for c in &mut idle.guest.classes {
        c.write_rate = 0.0;
    }
    let rounds = 5;
    let dur = Duration::from_millis(400);
    let mut busy_rates = Vec::new();
    let mut idle_rates = Vec::new();
    for _ in 0..rounds {
        busy_rates.push(rate(&busy, dur).0);
        idle_rates.push(rate(&idle, dur).0);
    }
    let b = median(busy_rates);
    let i = median(idle_rates);
    println!("aggregate engine, 8 GiB guest, run to completion (single thread), median of {rounds}:");
    println!("  baseline idle guest:      {i:>10.0} scenarios/s");
    println!("  default (busy) scenario:  {b:>10.0} scenarios/s  (target >= 10000)");
}
