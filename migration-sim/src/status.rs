//! QEMU's `MigrationStatus` and `RunState` enumerations, with their wire
//! names, and the edges of the migration state machine (model §1.1).

use std::fmt;

/// The states of a migration (QAPI `MigrationStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MigrationStatus {
    /// No migration has been started.
    None,
    /// The migration is being set up.
    Setup,
    /// The migration is being cancelled.
    Cancelling,
    /// The migration has been cancelled.
    Cancelled,
    /// Precopy: RAM and devices are copied while the guest runs.
    Active,
    /// Postcopy started; the destination is still loading devices.
    PostcopyDevice,
    /// Postcopy: the guest runs on the destination.
    PostcopyActive,
    /// Postcopy paused after a channel failure.
    PostcopyPaused,
    /// Recovery of a paused postcopy is being set up.
    PostcopyRecoverSetup,
    /// A paused postcopy is being recovered.
    PostcopyRecover,
    /// The migration completed.
    Completed,
    /// The migration failed.
    Failed,
    /// COLO fault tolerance mode.
    Colo,
    /// Paused before device state is saved, until `migrate-continue`.
    PreSwitchover,
    /// Switchover: the guest is stopped while the rest is sent.
    Device,
    /// Waiting for failover devices to be unplugged.
    WaitUnplug,
}

impl MigrationStatus {
    /// Every status, in schema order.
    pub const ALL: [MigrationStatus; 16] = [
        MigrationStatus::None,
        MigrationStatus::Setup,
        MigrationStatus::Cancelling,
        MigrationStatus::Cancelled,
        MigrationStatus::Active,
        MigrationStatus::PostcopyDevice,
        MigrationStatus::PostcopyActive,
        MigrationStatus::PostcopyPaused,
        MigrationStatus::PostcopyRecoverSetup,
        MigrationStatus::PostcopyRecover,
        MigrationStatus::Completed,
        MigrationStatus::Failed,
        MigrationStatus::Colo,
        MigrationStatus::PreSwitchover,
        MigrationStatus::Device,
        MigrationStatus::WaitUnplug,
    ];

    /// The QAPI wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            MigrationStatus::None => "none",
            MigrationStatus::Setup => "setup",
            MigrationStatus::Cancelling => "cancelling",
            MigrationStatus::Cancelled => "cancelled",
            MigrationStatus::Active => "active",
            MigrationStatus::PostcopyDevice => "postcopy-device",
            MigrationStatus::PostcopyActive => "postcopy-active",
            MigrationStatus::PostcopyPaused => "postcopy-paused",
            MigrationStatus::PostcopyRecoverSetup => "postcopy-recover-setup",
            MigrationStatus::PostcopyRecover => "postcopy-recover",
            MigrationStatus::Completed => "completed",
            MigrationStatus::Failed => "failed",
            MigrationStatus::Colo => "colo",
            MigrationStatus::PreSwitchover => "pre-switchover",
            MigrationStatus::Device => "device",
            MigrationStatus::WaitUnplug => "wait-unplug",
        }
    }

    /// Parse a wire name.
    pub fn from_wire(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|st| st.as_str() == s)
    }

    /// A migration that ended (the next `migrate` silently resets it).
    pub fn is_terminal(self) -> bool {
        matches!(self, MigrationStatus::Completed | MigrationStatus::Failed | MigrationStatus::Cancelled)
    }

    /// QEMU's "migration is running": neither `none` nor ended.
    pub fn is_running(self) -> bool {
        !matches!(self, MigrationStatus::None) && !self.is_terminal()
    }

    /// One of the postcopy states (where `migrate_cancel` is refused).
    pub fn is_postcopy(self) -> bool {
        matches!(
            self,
            MigrationStatus::PostcopyDevice
                | MigrationStatus::PostcopyActive
                | MigrationStatus::PostcopyPaused
                | MigrationStatus::PostcopyRecoverSetup
                | MigrationStatus::PostcopyRecover
        )
    }

    /// Whether `from → to` is an edge of the source-side state machine the
    /// simulator implements (model §1.1). The silent reset of a terminal
    /// state to `none` is deliberately not an edge: it emits nothing.
    pub fn is_source_edge(from: MigrationStatus, to: MigrationStatus) -> bool {
        use MigrationStatus as S;
        matches!(
            (from, to),
            (S::None, S::Setup)
                | (S::Setup, S::Active)
                | (S::Setup, S::WaitUnplug)
                | (S::WaitUnplug, S::Active)
                | (S::Setup, S::Failed)
                | (S::Setup, S::Cancelled)
                | (S::Setup, S::Cancelling)
                | (S::Active, S::PreSwitchover)
                | (S::Active, S::Device)
                | (S::PreSwitchover, S::Device)
                | (S::Device, S::Completed)
                | (S::Device, S::Colo)
                | (S::Device, S::PostcopyDevice)
                | (S::Device, S::PostcopyActive)
                | (S::PostcopyDevice, S::PostcopyActive)
                | (S::PostcopyDevice, S::PostcopyPaused)
                | (S::PostcopyActive, S::Completed)
                | (S::PostcopyActive, S::PostcopyPaused)
                | (S::PostcopyPaused, S::PostcopyRecoverSetup)
                | (S::PostcopyRecoverSetup, S::PostcopyRecover)
                | (S::PostcopyRecoverSetup, S::PostcopyPaused)
                | (S::PostcopyRecover, S::PostcopyActive)
                | (S::PostcopyRecover, S::PostcopyPaused)
                | (S::Active, S::Cancelling)
                | (S::PreSwitchover, S::Cancelling)
                | (S::Device, S::Cancelling)
                | (S::WaitUnplug, S::Cancelling)
                | (S::Cancelling, S::Cancelled)
                | (S::Cancelling, S::Failed)
                | (S::Active, S::Failed)
                | (S::PreSwitchover, S::Failed)
                | (S::Device, S::Failed)
                | (S::WaitUnplug, S::Failed)
        )
    }

    /// Whether `from → to` is an edge of the destination state machine.
    pub fn is_destination_edge(from: MigrationStatus, to: MigrationStatus) -> bool {
        use MigrationStatus as S;
        matches!(
            (from, to),
            (S::None, S::Setup)
                | (S::Setup, S::Active)
                | (S::Setup, S::Failed)
                | (S::Active, S::Completed)
                | (S::Active, S::Failed)
                | (S::Active, S::PostcopyDevice)
                | (S::Active, S::PostcopyActive)
                | (S::PostcopyDevice, S::PostcopyActive)
                | (S::PostcopyDevice, S::Failed)
                | (S::PostcopyActive, S::Completed)
                | (S::PostcopyActive, S::PostcopyPaused)
                | (S::PostcopyPaused, S::PostcopyRecover)
                | (S::PostcopyRecover, S::PostcopyActive)
                | (S::PostcopyRecover, S::PostcopyPaused)
        )
    }
}

impl fmt::Display for MigrationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// QEMU's VM run state (QAPI `RunState`), the subset migration moves through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunState {
    /// Waiting for an incoming migration.
    Inmigrate,
    /// Paused by the user (or never started).
    Paused,
    /// Stopped for the switchover.
    FinishMigrate,
    /// Stopped after a completed outgoing migration.
    Postmigrate,
    /// Loaded but not started (destination without autostart).
    Prelaunch,
    /// Running.
    Running,
}

impl RunState {
    /// The QAPI wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Inmigrate => "inmigrate",
            RunState::Paused => "paused",
            RunState::FinishMigrate => "finish-migrate",
            RunState::Postmigrate => "postmigrate",
            RunState::Prelaunch => "prelaunch",
            RunState::Running => "running",
        }
    }
}

impl fmt::Display for RunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
