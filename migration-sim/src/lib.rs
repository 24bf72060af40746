//! A QEMU live-migration simulator that reports what QEMU 10.2 reports.
//!
//! The fidelity model is `docs/migration-model.md` (shared docs): QEMU's
//! migration state machine, how every `query-migrate` member is computed,
//! the switchover test, auto-converge, XBZRLE, multifd, postcopy, the
//! stop-and-copy order and the seed extensions (`device-state-times`,
//! destination statistics, system-wide `remaining`).
//!
//! The data flow follows QEMU's own:
//!
//! ```text
//! Scenario (config) ──▶ Simulation (sim) ──▶ Source (migration thread) ──▶ MemoryEngine (RAM pages)
//!                                   │                │                        ├ aggregate: page classes (L1)
//!                                   │                │                        └ bitmap: per-page bits (L2)
//!                                   │                └──▶ Destination (incoming side)
//!                                   └──▶ EventLog (MIGRATION, MIGRATION_PASS, STOP, RESUME)
//!                                   └──▶ Snapshot (report: query-migrate, query-status, HMP text)
//! ```
//!
//! Simulated time is an integer number of nanoseconds, decoupled from wall
//! time: [`Simulation::run_to_completion`] runs as fast as the machine
//! allows, [`Simulation::advance_to`] lets a server pace it.
//!
//! ```
//! use migration_sim::{default_scenario, Simulation};
//! let mut sim = Simulation::new(&default_scenario()).expect("valid scenario");
//! let outcome = sim.run_to_completion();
//! assert!(outcome.source_status.is_terminal());
//! let info = sim.query_migrate_source();
//! println!("{}", migration_sim::report::render_info_migrate(&info, false));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod destination;
pub mod events;
pub mod memory;
pub mod presets;
pub mod report;
pub mod rng;
pub mod sim;
pub mod source;
pub mod status;
pub mod units;

pub use config::{ConfigError, EngineKind, Scenario};
pub use events::{Event, EventLog, EventRecord, Side};
pub use memory::MemoryEngine;
pub use presets::{default_scenario, default_vfio_scenario};
pub use report::{MigrationInfo, MigrationStats, Snapshot};
pub use sim::{CommandError, RunOutcome, SimError, Simulation};
pub use status::{MigrationStatus, RunState};
