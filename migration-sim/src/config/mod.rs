//! Scenarios: everything a simulation run is driven by.
//!
//! A [`Scenario`] describes the guest (RAM, page classes and how they are
//! written), the link, the host CPU costs, QEMU's migration parameters and
//! capabilities (with the QEMU 10.2 defaults), the devices whose state is
//! saved at switchover, the destination, timed management actions,
//! injected faults ([`FaultConfig`]) and the seed features. It deserializes from TOML with unknown keys refused
//! (`deny_unknown_fields`), and [`Scenario::validate`] applies QEMU's own
//! parameter and capability checks (model §1.13) with QEMU's error texts,
//! plus the simulator's sanity checks. [`Scenario::from_toml_str`] does both
//! and reports the file, line, column and key of every problem.
//!
//! Key names are kebab-case; QEMU's parameters and capabilities keep their
//! QMP names (`max-bandwidth`, `downtime-limit`, `auto-converge`, ...).
//!
//! ```toml
//! seed = 7
//! engine = "aggregate"          # or "bitmap"
//!
//! [guest]
//! ram = "8 GiB"
//! vcpus = 4
//! [[guest.classes]]
//! name = "hot"
//! size = "256 MiB"
//! write-rate = 20000            # page writes per second
//!
//! [link]
//! bandwidth = "10 Gbit/s"
//!
//! [migration.parameters]
//! downtime-limit = 300
//! [migration.capabilities]
//! events = true
//!
//! [[actions]]
//! at-ms = 60000
//! action = "cancel"
//!
//! [[faults]]
//! fault = "link-loss"           # or "save-setup", "destination"
//! when = "device"
//! ```

mod actions;
mod capabilities;
mod devices;
mod faults;
mod guest;
mod load;
mod parameters;
mod units;
mod validate;

use serde::Deserialize;

use actions::action_name;
pub use actions::{ActionConfig, ActionKind};
pub use capabilities::{Capabilities, CapabilityError};
pub use devices::{DestinationConfig, DeviceConfig, DeviceKind, Features, MultifdTransfer};
pub use faults::{FaultConfig, FaultKind};
pub use guest::{CpuCosts, GuestConfig, GuestRunState, LinkConfig, PageClassConfig, RestContent, ZeroLayout};
pub use load::{ConfigError, Issue, KeyPath, PathSeg};
pub use parameters::{
    MigMode, MigrationConfig, MigrationParameters, MultifdCompression, ParamError, ParameterUpdate, ZeroPageDetection,
};
pub use units::{parse_rate, parse_size, ByteSize, Rate};

/// Which RAM engine simulates the guest's pages (model §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EngineKind {
    /// L1: page classes with counts and closed-form dirtying (fast sweeps).
    #[default]
    Aggregate,
    /// L2: per-page bitmaps with seeded random writes (realism).
    Bitmap,
}

/// A whole simulation scenario. See the module documentation for the TOML
/// form; every table and key is optional and defaults to a realistic 8 GiB
/// PC guest on a 10 Gbit/s link with QEMU 10.2's migration defaults.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Scenario {
    /// A label for reports.
    pub name: String,
    /// Seed of every random choice (bitmap engine writes, XBZRLE sizes).
    pub seed: u64,
    /// The RAM engine.
    pub engine: EngineKind,
    /// Simulated-time limit of `run to completion`, in seconds.
    pub time_limit_s: f64,
    /// Unix time (seconds) at simulated time 0, for event timestamps.
    pub start_time_unix: f64,
    /// The guest.
    pub guest: GuestConfig,
    /// The network link between source and destination.
    pub link: LinkConfig,
    /// Host CPU costs of the migration thread (model §3.2 placeholders).
    pub cpu: CpuCosts,
    /// QEMU migration settings.
    pub migration: MigrationConfig,
    /// Devices in handler order (RAM is implicit and comes first).
    pub devices: Vec<DeviceConfig>,
    /// The destination.
    pub destination: DestinationConfig,
    /// Timed management actions.
    pub actions: Vec<ActionConfig>,
    /// Injected faults (see [`FaultConfig`]).
    pub faults: Vec<FaultConfig>,
    /// The seed extensions (all on by default; off = vanilla 10.2 output).
    pub features: Features,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            name: "default".into(),
            seed: 1,
            engine: EngineKind::Aggregate,
            time_limit_s: 3600.0,
            start_time_unix: 1_767_225_600.0,
            guest: GuestConfig::default(),
            link: LinkConfig::default(),
            cpu: CpuCosts::default(),
            migration: MigrationConfig::default(),
            devices: Vec::new(),
            destination: DestinationConfig::default(),
            actions: Vec::new(),
            faults: Vec::new(),
            features: Features::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert_eq!(Scenario::default().validate(), Ok(()));
    }
}
