//! QEMU's migration capabilities and QEMU's checks of their combinations
//! (model §1.13).

use serde::Deserialize;

use super::{MigrationParameters, MultifdCompression};

/// QEMU's migration capabilities (all off by default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
#[allow(missing_docs)] // QEMU's capability names; see qapi/migration.json
pub struct Capabilities {
    pub xbzrle: bool,
    pub rdma_pin_all: bool,
    pub auto_converge: bool,
    pub events: bool,
    pub postcopy_ram: bool,
    pub x_colo: bool,
    pub release_ram: bool,
    pub return_path: bool,
    pub pause_before_switchover: bool,
    pub multifd: bool,
    pub dirty_bitmaps: bool,
    pub postcopy_blocktime: bool,
    pub late_block_activate: bool,
    pub x_ignore_shared: bool,
    pub validate_uuid: bool,
    pub background_snapshot: bool,
    pub zero_copy_send: bool,
    pub postcopy_preempt: bool,
    pub switchover_ack: bool,
    pub dirty_limit: bool,
    pub mapped_ram: bool,
}

/// A capability check failure: the offending capability and QEMU's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapabilityError {
    /// The capability's QMP name.
    pub key: &'static str,
    /// QEMU's error description (or the simulator's, for unmodelled ones).
    pub message: String,
}

impl Capabilities {
    /// QEMU's `migrate_caps_check` for the combinations the model names
    /// (§1.13), plus refusals of capabilities the simulator does not model.
    pub fn check(&self, params: &MigrationParameters, dirty_ring_size: u32) -> Result<(), CapabilityError> {
        fn err(key: &'static str, message: &str) -> Result<(), CapabilityError> {
            Err(CapabilityError { key, message: message.to_string() })
        }
        if self.x_colo {
            return err("x-colo", "QEMU compiled without replication module can't enable COLO");
        }
        if self.postcopy_ram && self.x_ignore_shared {
            return err("x-ignore-shared", "Postcopy is not compatible with ignore-shared");
        }
        if self.background_snapshot {
            return err("background-snapshot", "Background-snapshot is not supported by host kernel");
        }
        if self.zero_copy_send
            && (!self.multifd
                || self.xbzrle
                || params.multifd_compression != MultifdCompression::None
                || !params.tls_creds.is_empty())
        {
            return err("zero-copy-send", "Zero copy only available for non-compressed non-TLS multifd migration");
        }
        if self.postcopy_preempt && !self.postcopy_ram {
            return err("postcopy-preempt", "Postcopy preempt requires postcopy-ram");
        }
        if self.switchover_ack && !self.return_path {
            return err("switchover-ack", "Capability 'switchover-ack' requires capability 'return-path'");
        }
        if self.dirty_limit {
            if self.auto_converge {
                return err(
                    "dirty-limit",
                    "dirty-limit conflicts with auto-converge either of then available currently",
                );
            }
            if dirty_ring_size == 0 {
                return err("dirty-limit", "dirty-limit requires KVM with accelerator property 'dirty-ring-size' set");
            }
        }
        if self.multifd && self.xbzrle {
            return err("xbzrle", "Multifd is not compatible with xbzrle");
        }
        if self.mapped_ram {
            if self.xbzrle {
                return err("mapped-ram", "Mapped-ram migration is incompatible with xbzrle");
            }
            if self.postcopy_ram {
                return err("mapped-ram", "Mapped-ram migration is incompatible with postcopy");
            }
        }
        Ok(())
    }

    /// Whether a return path is opened (explicitly, or required by postcopy).
    pub fn has_return_path(&self) -> bool {
        self.return_path || self.postcopy_ram
    }
}
