//! The guest machine, its page classes, the link and the host's CPU costs
//! (model §3.2).

use serde::Deserialize;

use super::{ByteSize, Rate};
use crate::units::{GIB, MIB};

/// Content of guest RAM not covered by any page class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestContent {
    /// Never-touched memory: zero pages.
    #[default]
    Zero,
    /// Written once, never again (cold data).
    Data,
}

/// Where a class's zero pages lie within its pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ZeroLayout {
    /// Spread evenly through the class (at 64-page granularity).
    #[default]
    Interleaved,
    /// At the end of the class's address range.
    Tail,
}

/// Whether the guest runs when the migration starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GuestRunState {
    /// Running (the usual live migration).
    #[default]
    Running,
    /// Paused: nothing is dirtied and all RAM bytes count as downtime bytes.
    Paused,
}

/// The guest machine.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct GuestConfig {
    /// Guest RAM (the main RAMBlock).
    pub ram: ByteSize,
    /// Other RAMBlocks: VRAM, ROMs, ACPI tables (≈ 17 MiB on a PC).
    pub extra_ram_blocks: ByteSize,
    /// Share of zero pages in the other RAMBlocks.
    pub extra_zero_fraction: f64,
    /// Target page size.
    pub page_size: u64,
    /// Number of vCPUs.
    pub vcpus: u32,
    /// Run state when the migration starts.
    pub runstate: GuestRunState,
    /// Content of RAM outside the classes.
    pub rest: RestContent,
    /// Placement of zero pages inside classes.
    pub zero_layout: ZeroLayout,
    /// Write rates scale with (1 − throttle)^sensitivity.
    pub throttle_sensitivity: f64,
    /// KVM dirty ring size (0 = dirty bitmap); only checked by dirty-limit.
    pub dirty_ring_size: u32,
    /// Page classes, laid out in this order from guest address 0.
    pub classes: Vec<PageClassConfig>,
}

impl Default for GuestConfig {
    fn default() -> Self {
        GuestConfig {
            ram: ByteSize(8 * GIB),
            extra_ram_blocks: ByteSize(17 * MIB),
            extra_zero_fraction: 0.9,
            page_size: 4096,
            vcpus: 4,
            runstate: GuestRunState::Running,
            rest: RestContent::Zero,
            zero_layout: ZeroLayout::Interleaved,
            throttle_sensitivity: 1.0,
            dirty_ring_size: 0,
            classes: Vec::new(),
        }
    }
}

/// A set of guest pages with uniform behaviour (model §3.4).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct PageClassConfig {
    /// A unique name.
    pub name: String,
    /// Size of the class.
    pub size: ByteSize,
    /// Page writes per second, uniformly over the class's pages.
    pub write_rate: f64,
    /// Share of the class's pages whose content is zero.
    pub zero_fraction: f64,
    /// Bytes changed per write (XBZRLE encoded sizes).
    pub write_bytes: u32,
}

impl Default for PageClassConfig {
    fn default() -> Self {
        PageClassConfig {
            name: String::new(),
            size: ByteSize(0),
            write_rate: 0.0,
            zero_fraction: 0.0,
            write_bytes: 128,
        }
    }
}

/// The network link.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct LinkConfig {
    /// Link bandwidth.
    pub bandwidth: Rate,
    /// One-way latency in milliseconds.
    pub latency_ms: f64,
    /// Time to connect the main channel (TCP + TLS handshakes), ms.
    pub connect_ms: f64,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig { bandwidth: Rate(1.25e9), latency_ms: 0.1, connect_ms: 1.0 }
    }
}

/// Host CPU costs (model §3.2/§3.5); plausible placeholders, not measured.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct CpuCosts {
    /// Ceiling of one socket stream (copies and syscalls).
    pub main_channel_max_bandwidth: Rate,
    /// Zero-page detection speed, per RAM byte scanned.
    pub zero_scan_bandwidth: Rate,
    /// Per-page bookkeeping in the migration thread, µs.
    pub page_overhead_us: f64,
    /// Dirty bitmap sync cost per GiB of RAM, ms.
    pub sync_cost_ms_per_gib: f64,
    /// One loop pass with nothing to send, µs.
    pub loop_min_cost_us: f64,
    /// Ceiling of one multifd channel.
    pub multifd_channel_bandwidth: Rate,
    /// XBZRLE encoder speed (per page byte).
    pub xbzrle_encode_bandwidth: Rate,
    /// Time to stop the vCPUs and drain I/O, ms.
    pub vm_stop_ms: f64,
    /// Time to inactivate block devices, ms.
    pub block_inactivate_ms: f64,
    /// Synchronising one vCPU's state, µs.
    pub vcpu_sync_us: f64,
    /// Size of the VM description JSON at the end of the stream.
    pub vmdesc_bytes: ByteSize,
    /// Fixed part of the setup phase (header, handlers' setup), ms.
    pub setup_fixed_ms: f64,
    /// Setup cost per GiB of RAM (bitmap allocation, start dirty logging), ms.
    pub setup_ms_per_gib: f64,
    /// Time from the thread's exit to the cleanup bottom half, ms.
    pub cleanup_ms: f64,
}

impl Default for CpuCosts {
    fn default() -> Self {
        CpuCosts {
            main_channel_max_bandwidth: Rate(2.5e9),
            zero_scan_bandwidth: Rate(8e9),
            page_overhead_us: 0.2,
            sync_cost_ms_per_gib: 0.5,
            loop_min_cost_us: 200.0,
            multifd_channel_bandwidth: Rate(1.5e9),
            xbzrle_encode_bandwidth: Rate(2e9),
            vm_stop_ms: 2.0,
            block_inactivate_ms: 1.0,
            vcpu_sync_us: 20.0,
            vmdesc_bytes: ByteSize(40_000),
            setup_fixed_ms: 1.5,
            setup_ms_per_gib: 2.5,
            cleanup_ms: 1.0,
        }
    }
}
