//! QEMU's `MigrationStatus` and `RunState` enumerations, with their wire
//! names, and the edges of the migration state machine (model §1.1).

pub use crate::qapi::{MigrationStatus, RunState};

// The enums are generated from the schema (`crate::qapi`), with their wire
// names (`as_str`, `from_wire`, `Display`); what the state machine needs on
// top of them is added here.
impl MigrationStatus {
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
