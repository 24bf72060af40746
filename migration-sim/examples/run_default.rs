//! Run the default scenario (or its bitmap-engine twin with `bitmap`) and
//! print what `info migrate` and the event log show.
#![forbid(unsafe_code)]

use migration_sim::{default_scenario, report, EngineKind, Simulation};

fn main() {
    let mut scenario = default_scenario();
    if std::env::args().nth(1).as_deref() == Some("bitmap") {
        scenario.engine = EngineKind::Bitmap;
    }
    let mut sim = match Simulation::new(&scenario) {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let start = std::time::Instant::now();
    let outcome = sim.run_sampled(5_000_000_000, |s| {
        print!("--- t = {} ms\n{}", s.time_ns / 1_000_000, report::render_info_migrate(&s.source, false));
    });
    println!("--- {outcome:?} in {:?} of wall time", start.elapsed());
    print!("{}", report::render_info_migrate(&sim.query_migrate_source(), true));
    print!("{}", report::render_info_status(&sim.query_status_source()));
    for e in sim.events() {
        println!("{:?} {:>12.3} ms {:?}", e.side, e.time_ns as f64 / 1e6, e.event);
    }
}
