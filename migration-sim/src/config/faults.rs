//! Injected faults: what breaks, and when (model §3.12).
//!
//! ```toml
//! [[faults]]
//! fault = "link-loss"      # the link breaks: writes fail from then on
//! when = "device"          # once the source enters this state ...
//! after-ms = 0             # ... and this long after (simulated ms)
//! duration-ms = 500        # the link comes back after this long (default: never)
//!
//! [[faults]]
//! fault = "save-setup"     # a handler's save_setup fails in the setup phase
//! device = "ram"           # "ram" or a VFIO device's section name
//!
//! [[faults]]
//! fault = "destination"    # the destination fails to load and exits
//! when = "active"
//! after-ms = 800
//! error = "load of migration failed: Invalid argument"
//! ```
//!
//! Each fault strikes once. QEMU's status paths follow: an error in the
//! setup phase once the migration thread runs goes `setup → active →
//! failed`, a link lost before the connection is up `setup → failed`, in
//! precopy `failed` (the VM runs again if it was stopped, the destination
//! fails), in postcopy `postcopy-paused` on both sides (recover with the
//! `resume` action once the link is back); a failed destination closes the
//! stream, so a source still sending fails (one that already completed
//! without a return path stays completed).

use serde::Deserialize;

use crate::status::MigrationStatus;

/// What breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// The link (network, pipe or storage) breaks.
    LinkLoss,
    /// A handler's `save_setup` fails.
    SaveSetup,
    /// The destination fails to load the stream and exits.
    Destination,
}

/// An injected fault.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FaultConfig {
    /// What breaks.
    pub fault: FaultKind,
    /// `link-loss`, `destination`: the source state that arms the fault
    /// (default `active`).
    #[serde(default)]
    pub when: Option<MigrationStatus>,
    /// `link-loss`, `destination`: how long after entering that state it
    /// strikes, ms.
    #[serde(default)]
    pub after_ms: Option<f64>,
    /// `link-loss`: the link works again after this long, ms.
    #[serde(default)]
    pub duration_ms: Option<f64>,
    /// `save-setup`: the handler that fails, `ram` or a VFIO device's
    /// section name.
    #[serde(default)]
    pub device: Option<String>,
    /// The error text: the failed write's (`link-loss`; default by
    /// transport, e.g. "Unable to write to socket: Connection reset by
    /// peer"), the handler's (`save-setup`; for RAM "ram_save_setup failed:
    /// Input/output error", as QEMU 10.0.2 reports when its stream breaks
    /// in setup), or the destination's (default "load of migration failed:
    /// Invalid argument").
    #[serde(default)]
    pub error: Option<String>,
}

impl FaultConfig {
    /// The states a link-loss or destination fault can be armed by: those
    /// a migration passes through while the thread or the stream runs.
    pub const ARMING_STATES: [MigrationStatus; 7] = [
        MigrationStatus::Setup,
        MigrationStatus::Active,
        MigrationStatus::PreSwitchover,
        MigrationStatus::Device,
        MigrationStatus::PostcopyDevice,
        MigrationStatus::PostcopyActive,
        MigrationStatus::PostcopyRecover,
    ];

    /// The arming state (default `active`).
    pub fn arming_state(&self) -> MigrationStatus {
        self.when.unwrap_or(MigrationStatus::Active)
    }
}
