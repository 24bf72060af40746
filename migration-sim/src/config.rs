//! Scenarios: everything a simulation run is driven by.
//!
//! A [`Scenario`] describes the guest (RAM, page classes and how they are
//! written), the link, the host CPU costs, QEMU's migration parameters and
//! capabilities (with the QEMU 10.2 defaults), the devices whose state is
//! saved at switchover, the destination, timed management actions and the
//! seed features. It deserializes from TOML with unknown keys refused
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
//! ```

use std::fmt;
use std::path::Path;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::status::MigrationStatus;
use crate::units::{GIB, KIB, MIB, TIB};

// ---------------------------------------------------------------------------
// Units in scenario files
// ---------------------------------------------------------------------------

/// A size in bytes; in TOML an integer (bytes) or a string with a unit:
/// `"8 GiB"`, `"512M"` (binary, like QEMU's `-m`), `"1.5 KiB"`, `"10 GB"`
/// (decimal). Negative and fractional-byte sizes are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize)]
#[serde(transparent)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// The size in bytes.
    pub fn bytes(self) -> u64 {
        self.0
    }
}

fn size_unit(unit: &str) -> Option<f64> {
    let u = unit.trim();
    Some(match u {
        "" | "B" | "b" => 1.0,
        "K" | "k" | "KiB" | "kiB" | "Ki" => KIB as f64,
        "M" | "m" | "MiB" | "Mi" => MIB as f64,
        "G" | "g" | "GiB" | "Gi" => GIB as f64,
        "T" | "t" | "TiB" | "Ti" => TIB as f64,
        "P" | "PiB" | "Pi" => (TIB * 1024) as f64,
        "KB" | "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        _ => return None,
    })
}

fn split_number(s: &str) -> Option<(f64, &str)> {
    let s = s.trim();
    let end =
        s.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_' || c == '-' || c == '+')).unwrap_or(s.len());
    let (num, unit) = s.split_at(end);
    let num: String = num.chars().filter(|&c| c != '_').collect();
    let v: f64 = num.parse().ok()?;
    Some((v, unit))
}

/// Parse a size string such as `"8 GiB"`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let (v, unit) =
        split_number(s).ok_or_else(|| format!("invalid size `{s}`: expected a number and a unit such as \"8 GiB\""))?;
    let mult = size_unit(unit).ok_or_else(|| {
        format!("invalid size `{s}`: unknown unit `{}` (use B, KiB, MiB, GiB, TiB, or KB, MB, GB, TB)", unit.trim())
    })?;
    if v < 0.0 {
        return Err(format!("invalid size `{s}`: sizes cannot be negative"));
    }
    let bytes = v * mult;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(format!("invalid size `{s}`: too large"));
    }
    if bytes.fract() != 0.0 {
        return Err(format!("invalid size `{s}`: not a whole number of bytes"));
    }
    Ok(bytes as u64)
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size: a non-negative integer of bytes or a string like \"8 GiB\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ByteSize, E> {
                if v < 0 {
                    return Err(E::custom(format!("invalid size {v}: sizes cannot be negative")));
                }
                Ok(ByteSize(v as u64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ByteSize, E> {
                if v < 0.0 || v.fract() != 0.0 || !v.is_finite() {
                    return Err(E::custom(format!("invalid size {v}: expected a whole, non-negative number of bytes")));
                }
                Ok(ByteSize(v as u64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteSize, E> {
                parse_size(v).map(ByteSize).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// A data rate in bytes per second; in TOML a number (bytes/s) or a string
/// with a unit: `"10 Gbit/s"`, `"10Gbps"`, `"128 MiB/s"`, `"1.25 GB/s"`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, serde::Serialize)]
#[serde(transparent)]
pub struct Rate(pub f64);

impl Rate {
    /// Bytes per second.
    pub fn bytes_per_s(self) -> f64 {
        self.0
    }
}

/// Parse a rate string such as `"10 Gbit/s"` into bytes per second.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let (v, unit) = split_number(s)
        .ok_or_else(|| format!("invalid rate `{s}`: expected a number and a unit such as \"10 Gbit/s\""))?;
    let u = unit.trim();
    let mult = match u {
        "" | "B/s" | "Bps" => 1.0,
        "bit/s" | "bps" => 1.0 / 8.0,
        "Kbit/s" | "kbit/s" | "Kbps" | "kbps" => 1e3 / 8.0,
        "Mbit/s" | "Mbps" => 1e6 / 8.0,
        "Gbit/s" | "Gbps" => 1e9 / 8.0,
        "Tbit/s" | "Tbps" => 1e12 / 8.0,
        _ => match u.strip_suffix("/s") {
            Some(sz) => size_unit(sz).ok_or_else(|| format!("invalid rate `{s}`: unknown unit `{u}`"))?,
            None => return Err(format!("invalid rate `{s}`: unknown unit `{u}` (use e.g. Gbit/s, Mbps, MiB/s, GB/s)")),
        },
    };
    let r = v * mult;
    if !r.is_finite() || r < 0.0 {
        return Err(format!("invalid rate `{s}`: rates cannot be negative"));
    }
    Ok(r)
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Rate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a rate: a non-negative number of bytes/s or a string like \"10 Gbit/s\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Rate, E> {
                if v < 0 {
                    return Err(E::custom(format!("invalid rate {v}: rates cannot be negative")));
                }
                Ok(Rate(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Rate, E> {
                Ok(Rate(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Rate, E> {
                if v.is_nan() || v < 0.0 || !v.is_finite() {
                    return Err(E::custom(format!("invalid rate {v}: expected a finite, non-negative number")));
                }
                Ok(Rate(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Rate, E> {
                parse_rate(v).map(Rate).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------
// The scenario
// ---------------------------------------------------------------------------

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
            features: Features::default(),
        }
    }
}

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

/// QEMU's migration settings for the run.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct MigrationConfig {
    /// The `migrate` URI (only `tcp:HOST:PORT` and `unix:PATH` are modelled).
    pub uri: String,
    /// Issue `migrate` automatically at `start-at-ms`.
    pub auto_start: bool,
    /// When to issue `migrate`, ms of simulated time.
    pub start_at_ms: f64,
    /// `migrate-set-parameters` before the start.
    pub parameters: MigrationParameters,
    /// `migrate-set-capabilities` before the start (source side).
    pub capabilities: Capabilities,
}

impl Default for MigrationConfig {
    fn default() -> Self {
        MigrationConfig {
            uri: "tcp:192.0.2.2:4444".into(),
            auto_start: true,
            start_at_ms: 0.0,
            parameters: MigrationParameters::default(),
            capabilities: Capabilities::default(),
        }
    }
}

/// Multifd compression methods (QAPI `MultiFDCompression`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MultifdCompression {
    /// No compression.
    #[default]
    None,
    /// zlib.
    Zlib,
    /// zstd.
    Zstd,
    /// QAT zip.
    Qatzip,
    /// Intel QPL.
    Qpl,
    /// UADK.
    Uadk,
}

/// Zero page detection (QAPI `ZeroPageDetection`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ZeroPageDetection {
    /// Zero pages are sent as normal pages.
    None,
    /// Detected by the migration thread.
    Legacy,
    /// Detected by the multifd threads (legacy without multifd).
    #[default]
    Multifd,
}

/// Migration mode (QAPI `MigMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MigMode {
    /// Normal live migration.
    #[default]
    Normal,
    /// CPR reboot.
    CprReboot,
    /// CPR transfer.
    CprTransfer,
    /// CPR exec.
    CprExec,
}

/// QEMU's `MigrationParameters`, with the 10.2 defaults (model §1.13).
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct MigrationParameters {
    /// Initial announce delay, ms.
    pub announce_initial: u64,
    /// Maximum announce delay, ms.
    pub announce_max: u64,
    /// Number of announce rounds.
    pub announce_rounds: u64,
    /// Announce step, ms.
    pub announce_step: u64,
    /// Auto-converge trigger, percent of transferred bytes.
    pub throttle_trigger_threshold: u8,
    /// First throttle percentage.
    pub cpu_throttle_initial: u8,
    /// Throttle increment.
    pub cpu_throttle_increment: u8,
    /// Smaller increments near the target.
    pub cpu_throttle_tailslow: bool,
    /// TLS credentials id ("" = no TLS).
    pub tls_creds: String,
    /// TLS hostname.
    pub tls_hostname: String,
    /// TLS authorization object.
    pub tls_authz: String,
    /// Rate limit, bytes/s (0 = unlimited).
    pub max_bandwidth: ByteSize,
    /// Switchover bandwidth to assume, bytes/s (0 = estimate).
    pub avail_switchover_bandwidth: ByteSize,
    /// Maximum tolerated downtime, ms.
    pub downtime_limit: u64,
    /// COLO checkpoint delay, ms.
    pub x_checkpoint_delay: u32,
    /// Number of multifd channels.
    pub multifd_channels: u8,
    /// Multifd compression.
    pub multifd_compression: MultifdCompression,
    /// zlib level.
    pub multifd_zlib_level: u8,
    /// QAT zip level.
    pub multifd_qatzip_level: u8,
    /// zstd level.
    pub multifd_zstd_level: u8,
    /// XBZRLE cache size, bytes.
    pub xbzrle_cache_size: ByteSize,
    /// Postcopy rate limit, bytes/s (0 = unlimited).
    pub max_postcopy_bandwidth: ByteSize,
    /// Maximum throttle percentage.
    pub max_cpu_throttle: u8,
    /// Dirty-limit period, ms.
    pub x_vcpu_dirty_limit_period: u64,
    /// Dirty limit, MB/s.
    pub vcpu_dirty_limit: u64,
    /// Migration mode.
    pub mode: MigMode,
    /// Zero page detection.
    pub zero_page_detection: ZeroPageDetection,
    /// O_DIRECT for file migration.
    pub direct_io: bool,
}

impl Default for MigrationParameters {
    fn default() -> Self {
        MigrationParameters {
            announce_initial: 50,
            announce_max: 550,
            announce_rounds: 5,
            announce_step: 100,
            throttle_trigger_threshold: 50,
            cpu_throttle_initial: 20,
            cpu_throttle_increment: 10,
            cpu_throttle_tailslow: false,
            tls_creds: String::new(),
            tls_hostname: String::new(),
            tls_authz: String::new(),
            max_bandwidth: ByteSize(128 * MIB),
            avail_switchover_bandwidth: ByteSize(0),
            downtime_limit: 300,
            x_checkpoint_delay: 20_000,
            multifd_channels: 2,
            multifd_compression: MultifdCompression::None,
            multifd_zlib_level: 1,
            multifd_qatzip_level: 1,
            multifd_zstd_level: 1,
            xbzrle_cache_size: ByteSize(64 * MIB),
            max_postcopy_bandwidth: ByteSize(0),
            max_cpu_throttle: 99,
            x_vcpu_dirty_limit_period: 1000,
            vcpu_dirty_limit: 1,
            mode: MigMode::Normal,
            zero_page_detection: ZeroPageDetection::Multifd,
            direct_io: false,
        }
    }
}

/// A parameter check failure: the scenario key and QEMU's error text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    /// The kebab-case parameter name.
    pub key: &'static str,
    /// QEMU's error description.
    pub message: String,
}

impl MigrationParameters {
    /// QEMU's `migrate_params_check`: the first violated range, with QEMU's
    /// error text (QEMU 10.2 words these "Option `<c name>` expects ...",
    /// including the misplaced prefix of the max_cpu_throttle message, which
    /// clients may match on and is therefore reproduced as is).
    pub fn check(&self, page_size: u64, caps: &Capabilities) -> Result<(), ParamError> {
        fn err(key: &'static str, message: &str) -> Result<(), ParamError> {
            Err(ParamError { key, message: message.to_string() })
        }
        if !(1..=100).contains(&self.throttle_trigger_threshold) {
            return err(
                "throttle-trigger-threshold",
                "Option throttle_trigger_threshold expects an integer in the range of 1 to 100",
            );
        }
        if !(1..=99).contains(&self.cpu_throttle_initial) {
            return err(
                "cpu-throttle-initial",
                "Option cpu_throttle_initial expects an integer in the range of 1 to 99",
            );
        }
        if !(1..=99).contains(&self.cpu_throttle_increment) {
            return err(
                "cpu-throttle-increment",
                "Option cpu_throttle_increment expects an integer in the range of 1 to 99",
            );
        }
        if self.downtime_limit > 2_000_000 {
            return err(
                "downtime-limit",
                "Option downtime_limit expects an integer in the range of 0 to (2000 * 1000) ms",
            );
        }
        if self.multifd_channels < 1 {
            return err("multifd-channels", "Option multifd_channels expects a value between 1 and 255");
        }
        if self.multifd_zlib_level > 9 {
            return err("multifd-zlib-level", "Option multifd_zlib_level expects a value between 0 and 9");
        }
        if !(1..=9).contains(&self.multifd_qatzip_level) {
            return err("multifd-qatzip-level", "Option multifd_qatzip_level expects a value between 1 and 9");
        }
        if self.multifd_zstd_level > 20 {
            return err("multifd-zstd-level", "Option multifd_zstd_level expects a value between 0 and 20");
        }
        let cache = self.xbzrle_cache_size.0;
        if cache < page_size || !cache.is_power_of_two() {
            return err(
                "xbzrle-cache-size",
                "Option xbzrle_cache_size expects a power of two no less than the target page size",
            );
        }
        if self.max_cpu_throttle < self.cpu_throttle_initial || self.max_cpu_throttle > 99 {
            return err(
                "max-cpu-throttle",
                "max_Option cpu_throttle expects an integer in the range of cpu_throttle_initial to 99",
            );
        }
        if self.announce_initial > 100_000 {
            return err("announce-initial", "Option announce_initial expects a value between 0 and 100000");
        }
        if self.announce_max > 100_000 {
            return err("announce-max", "Option announce_max expects a value between 0 and 100000");
        }
        if self.announce_rounds > 1000 {
            return err("announce-rounds", "Option announce_rounds expects a value between 0 and 1000");
        }
        if !(1..=10_000).contains(&self.announce_step) {
            return err("announce-step", "Option announce_step expects a value between 0 and 10000");
        }
        if caps.zero_copy_send && (self.multifd_compression != MultifdCompression::None || !self.tls_creds.is_empty()) {
            return err("multifd-compression", "Zero copy only available for non-compressed non-TLS multifd migration");
        }
        if caps.mapped_ram && (self.multifd_compression != MultifdCompression::None || !self.tls_creds.is_empty()) {
            return err(
                "multifd-compression",
                "Mapped-ram only available for non-compressed non-TLS multifd migration",
            );
        }
        if !(1..=1000).contains(&self.x_vcpu_dirty_limit_period) {
            return err(
                "x-vcpu-dirty-limit-period",
                "Option x-vcpu-dirty-limit-period expects a value between 1 and 1000",
            );
        }
        if self.vcpu_dirty_limit < 1 {
            return err("vcpu-dirty-limit", "Parameter 'vcpu_dirty_limit' must be greater than 1 MB/s");
        }
        if self.direct_io {
            return err("direct-io", "No build-time support for direct-io");
        }
        Ok(())
    }
}

/// A partial `migrate-set-parameters`: only the members given change.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
#[allow(missing_docs)] // the members mirror MigrationParameters one for one
pub struct ParameterUpdate {
    pub announce_initial: Option<u64>,
    pub announce_max: Option<u64>,
    pub announce_rounds: Option<u64>,
    pub announce_step: Option<u64>,
    pub throttle_trigger_threshold: Option<u8>,
    pub cpu_throttle_initial: Option<u8>,
    pub cpu_throttle_increment: Option<u8>,
    pub cpu_throttle_tailslow: Option<bool>,
    pub tls_creds: Option<String>,
    pub tls_hostname: Option<String>,
    pub tls_authz: Option<String>,
    pub max_bandwidth: Option<ByteSize>,
    pub avail_switchover_bandwidth: Option<ByteSize>,
    pub downtime_limit: Option<u64>,
    pub x_checkpoint_delay: Option<u32>,
    pub multifd_channels: Option<u8>,
    pub multifd_compression: Option<MultifdCompression>,
    pub multifd_zlib_level: Option<u8>,
    pub multifd_qatzip_level: Option<u8>,
    pub multifd_zstd_level: Option<u8>,
    pub xbzrle_cache_size: Option<ByteSize>,
    pub max_postcopy_bandwidth: Option<ByteSize>,
    pub max_cpu_throttle: Option<u8>,
    pub x_vcpu_dirty_limit_period: Option<u64>,
    pub vcpu_dirty_limit: Option<u64>,
    pub mode: Option<MigMode>,
    pub zero_page_detection: Option<ZeroPageDetection>,
    pub direct_io: Option<bool>,
}

impl ParameterUpdate {
    /// The parameters after applying this update to `base`.
    pub fn apply_to(&self, base: &MigrationParameters) -> MigrationParameters {
        let mut p = base.clone();
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = &self.$f { p.$f = v.clone(); } )* };
        }
        set!(
            announce_initial,
            announce_max,
            announce_rounds,
            announce_step,
            throttle_trigger_threshold,
            cpu_throttle_initial,
            cpu_throttle_increment,
            cpu_throttle_tailslow,
            tls_creds,
            tls_hostname,
            tls_authz,
            max_bandwidth,
            avail_switchover_bandwidth,
            downtime_limit,
            x_checkpoint_delay,
            multifd_channels,
            multifd_compression,
            multifd_zlib_level,
            multifd_qatzip_level,
            multifd_zstd_level,
            xbzrle_cache_size,
            max_postcopy_bandwidth,
            max_cpu_throttle,
            x_vcpu_dirty_limit_period,
            vcpu_dirty_limit,
            mode,
            zero_page_detection,
            direct_io
        );
        p
    }
}

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

/// Kinds of timed management actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKind {
    /// `migrate`.
    Migrate,
    /// `migrate_cancel`.
    Cancel,
    /// `migrate-set-parameters` (needs `parameters`).
    SetParameters,
    /// `migrate-start-postcopy`.
    StartPostcopy,
    /// `migrate-continue` (with `state`, default `pre-switchover`).
    Continue,
    /// `migrate` with `resume: true`.
    Resume,
    /// Change the link bandwidth (needs `bandwidth`).
    LinkBandwidth,
    /// Break the link (writes fail from now on).
    LinkFail,
    /// Repair the link.
    LinkRestore,
    /// Change a page class's write rate (needs `class`, `write-rate`).
    SetWriteRate,
}

/// A management action at a given simulated time.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ActionConfig {
    /// When, in ms of simulated time.
    pub at_ms: f64,
    /// What.
    pub action: ActionKind,
    /// For `set-parameters`.
    #[serde(default)]
    pub parameters: Option<ParameterUpdate>,
    /// For `continue`.
    #[serde(default)]
    pub state: Option<MigrationStatus>,
    /// For `link-bandwidth`.
    #[serde(default)]
    pub bandwidth: Option<Rate>,
    /// For `link-fail`: the error text the write reports.
    #[serde(default)]
    pub error: Option<String>,
    /// For `set-write-rate`.
    #[serde(default)]
    pub class: Option<String>,
    /// For `set-write-rate`: page writes per second.
    #[serde(default)]
    pub write_rate: Option<f64>,
}

// ---------------------------------------------------------------------------
// Errors with locations
// ---------------------------------------------------------------------------

/// One segment of a key path in a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSeg {
    /// A table key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// A dotted key path such as `guest.classes[1].size`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyPath(pub Vec<PathSeg>);

impl KeyPath {
    fn from_parts(parts: &[&str]) -> Self {
        KeyPath(parts.iter().map(|p| PathSeg::Key((*p).to_string())).collect())
    }
    fn key(mut self, k: &str) -> Self {
        self.0.push(PathSeg::Key(k.to_string()));
        self
    }
    fn index(mut self, i: usize) -> Self {
        self.0.push(PathSeg::Index(i));
        self
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for seg in &self.0 {
            match seg {
                PathSeg::Key(k) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                PathSeg::Index(i) => write!(f, "[{i}]")?,
            }
            first = false;
        }
        Ok(())
    }
}

/// One problem found in a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The offending key.
    pub key: KeyPath,
    /// What is wrong.
    pub message: String,
    /// 1-based line in the scenario file (0 if unknown).
    pub line: usize,
    /// 1-based column (0 if unknown).
    pub column: usize,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: ", self.line, self.column)?;
        }
        if !self.key.0.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// TOML syntax error, unknown key or mistyped value.
    #[error("{file}:{line}:{column}: {}{message}", key_prefix(key))]
    Parse {
        /// The file (or `<string>`).
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The key at the error, if one could be identified.
        key: Option<String>,
        /// toml's message.
        message: String,
    },
    /// The scenario parsed but is invalid or contradictory.
    #[error("{file}: invalid scenario:{}", render_issues(file, issues))]
    Invalid {
        /// The file (or `<string>`).
        file: String,
        /// Every problem found.
        issues: Vec<Issue>,
    },
}

fn key_prefix(key: &Option<String>) -> String {
    match key {
        Some(k) if !k.is_empty() => format!("{k}: "),
        _ => String::new(),
    }
}

fn render_issues(file: &str, issues: &[Issue]) -> String {
    let mut s = String::new();
    for i in issues {
        s.push_str("\n  ");
        if i.line > 0 {
            s.push_str(&format!("{file}:{}:{}: ", i.line, i.column));
        }
        if !i.key.0.is_empty() {
            s.push_str(&format!("{}: ", i.key));
        }
        s.push_str(&i.message);
    }
    s
}

fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before.iter().rposition(|&b| b == b'\n').map(|p| p + 1).unwrap_or(0);
    let column = src.get(line_start..offset).map(|s| s.chars().count()).unwrap_or(0) + 1;
    (line, column)
}

use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// The byte span of the deepest existing key of `path` in the document.
fn span_of(doc: &Spanned<DeTable<'_>>, path: &KeyPath) -> Option<std::ops::Range<usize>> {
    let mut best: Option<std::ops::Range<usize>> = None;
    let mut table: Option<&DeTable<'_>> = Some(doc.get_ref());
    let mut value: Option<&Spanned<DeValue<'_>>> = None;
    for seg in &path.0 {
        match seg {
            PathSeg::Key(k) => {
                let t = match (table, value) {
                    (Some(t), None) => t,
                    (_, Some(v)) => match v.get_ref() {
                        DeValue::Table(t) => t,
                        _ => break,
                    },
                    (None, None) => break,
                };
                match t.get_key_value(k.as_str()) {
                    Some((key, v)) => {
                        best = Some(key.span());
                        value = Some(v);
                        table = None;
                    }
                    None => break,
                }
            }
            PathSeg::Index(i) => {
                let Some(v) = value else { break };
                match v.get_ref() {
                    DeValue::Array(a) => match a.get(*i) {
                        Some(item) => {
                            best = Some(item.span());
                            value = Some(item);
                        }
                        None => break,
                    },
                    _ => break,
                }
            }
        }
    }
    best
}

/// The key path whose key or value contains byte `offset`.
fn path_at(doc: &Spanned<DeTable<'_>>, offset: usize) -> KeyPath {
    fn walk_table(t: &DeTable<'_>, offset: usize, path: &mut KeyPath) -> bool {
        for (k, v) in t.iter() {
            let ks = k.span();
            if ks.contains(&offset) {
                path.0.push(PathSeg::Key(k.get_ref().to_string()));
                return true;
            }
            let vs = v.span();
            if vs.contains(&offset) || matches!(v.get_ref(), DeValue::Table(_) | DeValue::Array(_)) {
                path.0.push(PathSeg::Key(k.get_ref().to_string()));
                if walk_value(v, offset, path) || vs.contains(&offset) {
                    return true;
                }
                path.0.pop();
            }
        }
        false
    }
    fn walk_value(v: &Spanned<DeValue<'_>>, offset: usize, path: &mut KeyPath) -> bool {
        match v.get_ref() {
            DeValue::Table(t) => walk_table(t, offset, path),
            DeValue::Array(a) => {
                for (i, item) in a.iter().enumerate() {
                    path.0.push(PathSeg::Index(i));
                    if walk_value(item, offset, path) || item.span().contains(&offset) {
                        return true;
                    }
                    path.0.pop();
                }
                false
            }
            _ => false,
        }
    }
    let mut path = KeyPath::default();
    walk_table(doc.get_ref(), offset, &mut path);
    path
}

impl Scenario {
    /// Parse and validate a scenario from TOML text; `file` names it in
    /// error messages.
    pub fn from_toml_str(src: &str, file: &str) -> Result<Scenario, ConfigError> {
        let scenario: Scenario = match toml::from_str(src) {
            Ok(s) => s,
            Err(e) => {
                let (line, column, key) = match e.span() {
                    Some(span) => {
                        let (l, c) = line_col(src, span.start);
                        let key = DeTable::parse(src).ok().map(|doc| path_at(&doc, span.start).to_string());
                        (l, c, key)
                    }
                    None => (0, 0, None),
                };
                return Err(ConfigError::Parse {
                    file: file.to_string(),
                    line,
                    column,
                    key,
                    message: e.message().trim_end().to_string(),
                });
            }
        };
        if let Err(mut issues) = scenario.validate() {
            if let Ok(doc) = DeTable::parse(src) {
                for issue in &mut issues {
                    if let Some(span) = span_of(&doc, &issue.key) {
                        let (l, c) = line_col(src, span.start);
                        issue.line = l;
                        issue.column = c;
                    }
                }
            }
            return Err(ConfigError::Invalid { file: file.to_string(), issues });
        }
        Ok(scenario)
    }

    /// Read, parse and validate a scenario file.
    pub fn from_file(path: &Path) -> Result<Scenario, ConfigError> {
        let file = path.display().to_string();
        let src = std::fs::read_to_string(path).map_err(|source| ConfigError::Io { file: file.clone(), source })?;
        Scenario::from_toml_str(&src, &file)
    }

    /// Check the scenario: QEMU's parameter and capability checks with
    /// QEMU's texts, and every size, rate and cross-setting the simulator
    /// relies on. Returns every problem found (without line numbers; the
    /// loader adds them).
    pub fn validate(&self) -> Result<(), Vec<Issue>> {
        let mut issues = Vec::new();
        let mut bad = |key: KeyPath, message: String| issues.push(Issue { key, message, line: 0, column: 0 });
        let finite_nonneg = |v: f64| v.is_finite() && v >= 0.0;

        if !(self.time_limit_s.is_finite() && self.time_limit_s > 0.0) {
            bad(KeyPath::from_parts(&["time-limit-s"]), "must be a positive number of seconds".into());
        }
        if !finite_nonneg(self.start_time_unix) {
            bad(KeyPath::from_parts(&["start-time-unix"]), "must be a non-negative number of seconds".into());
        }

        // Guest.
        let g = &self.guest;
        let gk = KeyPath::from_parts(&["guest"]);
        let ps = g.page_size;
        let ps_ok = ps.is_power_of_two() && (512..=65536).contains(&ps);
        if !ps_ok {
            bad(gk.clone().key("page-size"), format!("{ps} is not a power of two between 512 and 65536"));
        }
        if g.ram.0 == 0 {
            bad(gk.clone().key("ram"), "the guest needs some RAM".into());
        } else if ps_ok && g.ram.0 % ps != 0 {
            bad(gk.clone().key("ram"), format!("{} bytes is not a multiple of the page size {ps}", g.ram.0));
        }
        if ps_ok && g.extra_ram_blocks.0 % ps != 0 {
            bad(
                gk.clone().key("extra-ram-blocks"),
                format!("{} bytes is not a multiple of the page size {ps}", g.extra_ram_blocks.0),
            );
        }
        if !(0.0..=1.0).contains(&g.extra_zero_fraction) {
            bad(gk.clone().key("extra-zero-fraction"), "must be between 0 and 1".into());
        }
        if g.vcpus == 0 || g.vcpus > 4096 {
            bad(gk.clone().key("vcpus"), "must be between 1 and 4096".into());
        }
        if !(g.throttle_sensitivity.is_finite() && g.throttle_sensitivity >= 0.0) {
            bad(gk.clone().key("throttle-sensitivity"), "must be a non-negative number".into());
        }
        let mut class_total: u64 = 0;
        let mut names = std::collections::HashSet::new();
        for (i, c) in g.classes.iter().enumerate() {
            let ck = gk.clone().key("classes").index(i);
            if c.name.is_empty() {
                bad(ck.clone().key("name"), "every page class needs a name".into());
            } else if !names.insert(c.name.as_str()) {
                bad(ck.clone().key("name"), format!("duplicate page class name `{}`", c.name));
            }
            if c.size.0 == 0 {
                bad(ck.clone().key("size"), "a page class cannot be empty".into());
            } else if ps_ok && c.size.0 % ps != 0 {
                bad(ck.clone().key("size"), format!("{} bytes is not a multiple of the page size {ps}", c.size.0));
            }
            class_total = class_total.saturating_add(c.size.0);
            if !finite_nonneg(c.write_rate) {
                bad(
                    ck.clone().key("write-rate"),
                    "must be a finite, non-negative number of page writes per second".into(),
                );
            }
            if !(0.0..=1.0).contains(&c.zero_fraction) {
                bad(ck.clone().key("zero-fraction"), "must be between 0 and 1".into());
            }
            if c.zero_fraction > 0.0 && c.write_rate > 0.0 && c.zero_fraction >= 1.0 {
                bad(ck.clone().key("zero-fraction"), "a written class cannot consist of zero pages only".into());
            }
            if c.write_bytes == 0 || (ps_ok && u64::from(c.write_bytes) > ps) {
                bad(ck.clone().key("write-bytes"), format!("must be between 1 and the page size {ps}"));
            }
        }
        if class_total > g.ram.0 {
            bad(
                gk.clone().key("classes"),
                format!(
                    "the page classes add up to {class_total} bytes, more than the guest's {} bytes of RAM",
                    g.ram.0
                ),
            );
        }

        // Link and CPU costs.
        let lk = KeyPath::from_parts(&["link"]);
        if !(self.link.bandwidth.0 > 0.0 && self.link.bandwidth.0.is_finite()) {
            bad(lk.clone().key("bandwidth"), "the link needs a positive bandwidth".into());
        }
        if !finite_nonneg(self.link.latency_ms) {
            bad(lk.clone().key("latency-ms"), "must be a non-negative number of milliseconds".into());
        }
        if !finite_nonneg(self.link.connect_ms) {
            bad(lk.clone().key("connect-ms"), "must be a non-negative number of milliseconds".into());
        }
        let ck = KeyPath::from_parts(&["cpu"]);
        let cpu = &self.cpu;
        for (k, v) in [
            ("main-channel-max-bandwidth", cpu.main_channel_max_bandwidth.0),
            ("zero-scan-bandwidth", cpu.zero_scan_bandwidth.0),
            ("multifd-channel-bandwidth", cpu.multifd_channel_bandwidth.0),
            ("xbzrle-encode-bandwidth", cpu.xbzrle_encode_bandwidth.0),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                bad(ck.clone().key(k), "must be a positive rate".into());
            }
        }
        for (k, v) in [
            ("page-overhead-us", cpu.page_overhead_us),
            ("sync-cost-ms-per-gib", cpu.sync_cost_ms_per_gib),
            ("vm-stop-ms", cpu.vm_stop_ms),
            ("block-inactivate-ms", cpu.block_inactivate_ms),
            ("vcpu-sync-us", cpu.vcpu_sync_us),
            ("setup-fixed-ms", cpu.setup_fixed_ms),
            ("setup-ms-per-gib", cpu.setup_ms_per_gib),
            ("cleanup-ms", cpu.cleanup_ms),
        ] {
            if !finite_nonneg(v) {
                bad(ck.clone().key(k), "must be a finite, non-negative number".into());
            }
        }
        if !(cpu.loop_min_cost_us.is_finite() && cpu.loop_min_cost_us > 0.0) {
            // A pass that sends nothing must still take time, or the
            // migration thread would spin without simulated time passing.
            bad(ck.clone().key("loop-min-cost-us"), "must be a positive number of microseconds".into());
        }

        // QEMU's own checks.
        let mk = KeyPath::from_parts(&["migration"]);
        let m = &self.migration;
        if !(m.uri.starts_with("tcp:") || m.uri.starts_with("unix:")) {
            bad(
                mk.clone().key("uri"),
                format!("unsupported migration URI `{}` (use tcp:HOST:PORT or unix:PATH)", m.uri),
            );
        }
        if !finite_nonneg(m.start_at_ms) {
            bad(mk.clone().key("start-at-ms"), "must be a non-negative number of milliseconds".into());
        }
        if ps_ok {
            if let Err(e) = m.parameters.check(ps, &m.capabilities) {
                bad(mk.clone().key("parameters").key(e.key), e.message);
            }
        }
        if let Err(e) = m.capabilities.check(&m.parameters, g.dirty_ring_size) {
            bad(mk.clone().key("capabilities").key(e.key), e.message);
        }
        let unmodelled = [
            ("rdma-pin-all", m.capabilities.rdma_pin_all),
            ("mapped-ram", m.capabilities.mapped_ram),
            ("dirty-limit", m.capabilities.dirty_limit),
            ("dirty-bitmaps", m.capabilities.dirty_bitmaps),
            ("release-ram", m.capabilities.release_ram),
        ];
        for (k, on) in unmodelled {
            if on {
                bad(mk.clone().key("capabilities").key(k), "this capability is not simulated".into());
            }
        }
        if m.parameters.multifd_compression != MultifdCompression::None {
            bad(mk.clone().key("parameters").key("multifd-compression"), "compression is not simulated".into());
        }
        if m.parameters.mode != MigMode::Normal {
            bad(mk.clone().key("parameters").key("mode"), "only the normal migration mode is simulated".into());
        }

        // Devices.
        let mut seen = std::collections::HashSet::new();
        let mut has_vfio = false;
        for (i, d) in self.devices.iter().enumerate() {
            let dk = KeyPath::from_parts(&["devices"]).index(i);
            if d.name.is_empty() {
                bad(dk.clone().key("name"), "every device needs a section name".into());
            }
            let ids: Vec<u32> = if d.per_vcpu { (0..g.vcpus).collect() } else { vec![d.instance_id] };
            for id in ids {
                if !seen.insert((d.name.clone(), id)) {
                    bad(dk.clone().key("name"), format!("duplicate device section `{}` instance {id}", d.name));
                }
            }
            if !finite_nonneg(d.save_us) {
                bad(dk.clone().key("save-us"), "must be a finite, non-negative number of microseconds".into());
            }
            if let Some(l) = d.load_us {
                if !finite_nonneg(l) {
                    bad(dk.clone().key("load-us"), "must be a finite, non-negative number of microseconds".into());
                }
            }
            let vfio_keys: [(&str, bool); 10] = [
                ("precopy", d.precopy.is_some()),
                ("initial-bytes", d.initial_bytes.is_some()),
                ("precopy-dirty-rate", d.precopy_dirty_rate.is_some()),
                ("stop-copy-bytes", d.stop_copy_bytes.is_some()),
                ("read-bandwidth", d.read_bandwidth.is_some()),
                ("stop-transition-ms", d.stop_transition_ms.is_some()),
                ("config-bytes", d.config_bytes.is_some()),
                ("config-save-us", d.config_save_us.is_some()),
                ("multifd-transfer", d.multifd_transfer.is_some()),
                ("switchover-ack", d.switchover_ack.is_some()),
            ];
            match d.kind {
                DeviceKind::Vmstate => {
                    for (k, set) in vfio_keys {
                        if set {
                            bad(dk.clone().key(k), "only valid for kind = \"vfio\"".into());
                        }
                    }
                }
                DeviceKind::Vfio => {
                    has_vfio = true;
                    if d.per_vcpu {
                        bad(dk.clone().key("per-vcpu"), "a VFIO device is not per vCPU".into());
                    }
                    if d.bytes.0 != 0 {
                        bad(
                            dk.clone().key("bytes"),
                            "VFIO devices give initial-bytes and stop-copy-bytes instead".into(),
                        );
                    }
                    if let Some(r) = d.read_bandwidth {
                        if r.0 <= 0.0 {
                            bad(dk.clone().key("read-bandwidth"), "must be a positive rate".into());
                        }
                    }
                    if let Some(v) = d.stop_transition_ms {
                        if !finite_nonneg(v) {
                            bad(dk.clone().key("stop-transition-ms"), "must be a non-negative number".into());
                        }
                    }
                    if let Some(v) = d.config_save_us {
                        if !finite_nonneg(v) {
                            bad(dk.clone().key("config-save-us"), "must be a non-negative number".into());
                        }
                    }
                    if d.precopy == Some(false)
                        && (d.initial_bytes.is_some_and(|b| b.0 > 0) || d.precopy_dirty_rate.is_some_and(|r| r.0 > 0.0))
                    {
                        bad(dk.clone().key("precopy"), "a device without PRE_COPY support has no precopy data".into());
                    }
                }
            }
        }
        if has_vfio && m.capabilities.postcopy_ram {
            bad(
                mk.clone().key("capabilities").key("postcopy-ram"),
                "VFIO devices do not support postcopy; remove postcopy-ram or the VFIO device".into(),
            );
        }

        // Destination.
        let dk = KeyPath::from_parts(&["destination"]);
        if !finite_nonneg(self.destination.vm_start_ms) {
            bad(dk.clone().key("vm-start-ms"), "must be a non-negative number of milliseconds".into());
        }
        if !finite_nonneg(self.destination.package_load_ms) {
            bad(dk.clone().key("package-load-ms"), "must be a non-negative number of milliseconds".into());
        }

        // Actions.
        for (i, a) in self.actions.iter().enumerate() {
            let ak = KeyPath::from_parts(&["actions"]).index(i);
            if !finite_nonneg(a.at_ms) {
                bad(ak.clone().key("at-ms"), "must be a non-negative number of milliseconds".into());
            }
            let needs = |k: &str, has: bool| if has { None } else { Some(k.to_string()) };
            let missing = match a.action {
                ActionKind::SetParameters => needs("parameters", a.parameters.is_some()),
                ActionKind::LinkBandwidth => needs("bandwidth", a.bandwidth.is_some()),
                ActionKind::SetWriteRate => {
                    needs("class", a.class.is_some()).or(needs("write-rate", a.write_rate.is_some()))
                }
                _ => None,
            };
            if let Some(k) = missing {
                bad(ak.clone().key("action"), format!("action `{}` needs `{k}`", action_name(a.action)));
            }
            let extra = [
                ("parameters", a.parameters.is_some(), a.action == ActionKind::SetParameters),
                ("state", a.state.is_some(), a.action == ActionKind::Continue),
                ("bandwidth", a.bandwidth.is_some(), a.action == ActionKind::LinkBandwidth),
                ("error", a.error.is_some(), a.action == ActionKind::LinkFail),
                ("class", a.class.is_some(), a.action == ActionKind::SetWriteRate),
                ("write-rate", a.write_rate.is_some(), a.action == ActionKind::SetWriteRate),
            ];
            for (k, set, allowed) in extra {
                if set && !allowed {
                    bad(ak.clone().key(k), format!("not used by action `{}`", action_name(a.action)));
                }
            }
            if let Some(b) = a.bandwidth {
                if b.0 <= 0.0 {
                    bad(ak.clone().key("bandwidth"), "the link needs a positive bandwidth".into());
                }
            }
            if let (Some(c), ActionKind::SetWriteRate) = (&a.class, a.action) {
                if !g.classes.iter().any(|cl| &cl.name == c) {
                    bad(ak.clone().key("class"), format!("no page class named `{c}`"));
                }
            }
            if let Some(w) = a.write_rate {
                if !finite_nonneg(w) {
                    bad(ak.clone().key("write-rate"), "must be a finite, non-negative number".into());
                }
            }
            if let (Some(u), true) = (&a.parameters, ps_ok) {
                let merged = u.apply_to(&m.parameters);
                if let Err(e) = merged.check(ps, &m.capabilities) {
                    bad(ak.clone().key("parameters").key(e.key), e.message);
                }
            }
        }

        if issues.is_empty() {
            Ok(())
        } else {
            Err(issues)
        }
    }
}

fn action_name(a: ActionKind) -> &'static str {
    match a {
        ActionKind::Migrate => "migrate",
        ActionKind::Cancel => "cancel",
        ActionKind::SetParameters => "set-parameters",
        ActionKind::StartPostcopy => "start-postcopy",
        ActionKind::Continue => "continue",
        ActionKind::Resume => "resume",
        ActionKind::LinkBandwidth => "link-bandwidth",
        ActionKind::LinkFail => "link-fail",
        ActionKind::LinkRestore => "link-restore",
        ActionKind::SetWriteRate => "set-write-rate",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("8 GiB"), Ok(8 * GIB));
        assert_eq!(parse_size("512M"), Ok(512 * MIB));
        assert_eq!(parse_size("1.5KiB"), Ok(1536));
        assert_eq!(parse_size("10 GB"), Ok(10_000_000_000));
        assert!(parse_size("-1 GiB").is_err());
        assert!(parse_size("0.3 B").is_err());
        assert!(parse_size("3 parsecs").is_err());
        assert_eq!(parse_rate("10 Gbit/s"), Ok(1.25e9));
        assert_eq!(parse_rate("128 MiB/s"), Ok((128 * MIB) as f64));
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(Scenario::default().validate(), Ok(()));
    }
}
