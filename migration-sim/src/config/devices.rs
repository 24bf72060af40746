//! Devices whose state is saved at switchover, the destination, and the
//! seed extensions.

use serde::Deserialize;

use super::{ByteSize, Rate};

/// What kind of state a device has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceKind {
    /// A plain vmstate section, saved once in the non-iterable phase.
    #[default]
    Vmstate,
    /// A VFIO device: iterable device data plus a config-space section.
    Vfio,
}

/// Whether VFIO stop-copy data travels over multifd channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MultifdTransfer {
    /// Over multifd when multifd is on.
    #[default]
    Auto,
    /// Always on the main channel.
    Off,
}

/// A device whose state is saved at switchover.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct DeviceConfig {
    /// Section id string, e.g. `"0000:00:03.0/virtio-net"` or `"cpu"`.
    pub name: String,
    /// Instance id (ignored with `per-vcpu`).
    pub instance_id: u32,
    /// One instance per vCPU, instance ids 0..vcpus-1.
    pub per_vcpu: bool,
    /// Kind of state.
    pub kind: DeviceKind,
    /// Migration priority; higher is saved first (APIC, PCI bus, ...).
    pub priority: i32,
    /// State size (vmstate devices).
    pub bytes: ByteSize,
    /// Save time, µs (vmstate devices).
    pub save_us: f64,
    /// Load time on the destination, µs (default: the save time).
    pub load_us: Option<f64>,
    /// VFIO: supports PRE_COPY.
    pub precopy: Option<bool>,
    /// VFIO: precopy initial bytes.
    pub initial_bytes: Option<ByteSize>,
    /// VFIO: device data generated per second during precopy.
    pub precopy_dirty_rate: Option<Rate>,
    /// VFIO: state only readable in STOP_COPY.
    pub stop_copy_bytes: Option<ByteSize>,
    /// VFIO: device read speed.
    pub read_bandwidth: Option<Rate>,
    /// VFIO: transition to STOP_COPY, ms.
    pub stop_transition_ms: Option<f64>,
    /// VFIO: config space section size.
    pub config_bytes: Option<ByteSize>,
    /// VFIO: config space save time, µs.
    pub config_save_us: Option<f64>,
    /// VFIO: device-state transfer over multifd.
    pub multifd_transfer: Option<MultifdTransfer>,
    /// VFIO: the destination must ACK before switchover (switchover-ack).
    pub switchover_ack: Option<bool>,
}

impl Default for DeviceConfig {
    fn default() -> Self {
        DeviceConfig {
            name: String::new(),
            instance_id: 0,
            per_vcpu: false,
            kind: DeviceKind::Vmstate,
            priority: 0,
            bytes: ByteSize(0),
            save_us: 0.0,
            load_us: None,
            precopy: None,
            initial_bytes: None,
            precopy_dirty_rate: None,
            stop_copy_bytes: None,
            read_bandwidth: None,
            stop_transition_ms: None,
            config_bytes: None,
            config_save_us: None,
            multifd_transfer: None,
            switchover_ack: None,
        }
    }
}

/// The destination QEMU.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct DestinationConfig {
    /// Whether a destination listens at the URI (false: connect fails).
    pub listening: bool,
    /// The connect failure's errno text.
    pub connect_error: String,
    /// The destination's `events` capability (default: same as the source).
    pub events: Option<bool>,
    /// Start the VM when the migration completes (`-S` absent).
    pub autostart: bool,
    /// `vm_start` time, ms.
    pub vm_start_ms: f64,
    /// Time to load the postcopy device package beyond device loads, ms.
    pub package_load_ms: f64,
}

impl Default for DestinationConfig {
    fn default() -> Self {
        DestinationConfig {
            listening: true,
            connect_error: "Connection refused".into(),
            events: None,
            autostart: true,
            vm_start_ms: 2.0,
            package_load_ms: 1.0,
        }
    }
}

/// The seed extensions (model §3.11).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Features {
    /// Per-device save times in `completed`.
    pub device_state_times: bool,
    /// Destination statistics in its `completed`.
    pub dest_stats: bool,
    /// System-wide top-level `remaining`.
    pub system_remaining: bool,
}

impl Default for Features {
    fn default() -> Self {
        Features { device_state_times: true, dest_stats: true, system_remaining: true }
    }
}
