//! QEMU's migration parameters with their 10.2 defaults and QEMU's range
//! checks (model §1.13), and partial updates (`migrate-set-parameters`).

use serde::Deserialize;

use super::{ByteSize, Capabilities};
use crate::units::MIB;

/// QEMU's migration settings for the run.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct MigrationConfig {
    /// The `migrate` URI: `tcp:HOST:PORT`, `unix:PATH`, `exec:COMMAND` or
    /// `file:PATH[,offset=N]` (what the `link` stands for with each:
    /// [`crate::transport`]). The destination listens on it (with
    /// `destination.listening`); for a file it loads the file once a
    /// migration saved it.
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
        self.check_update(self, page_size, caps)
    }

    /// [`Self::check`] of parameters about to replace `current`
    /// (`migrate-set-parameters`): QEMU checks mapped-ram's restriction
    /// against the compression and TLS in force, not the new ones (QEMU
    /// 10.0.2 accepts multifd-compression zlib with mapped-ram on, then
    /// refuses tls-creds, and refuses the migrate: "Cannot use compression
    /// with mapped-ram").
    pub fn check_update(&self, current: &Self, page_size: u64, caps: &Capabilities) -> Result<(), ParamError> {
        first_violation(&self.throttle_and_stream_checks(page_size))?;
        first_violation(&self.announce_and_mode_checks(current, caps))
    }

    /// (violated, parameter, QEMU's text), in QEMU's order of checking.
    fn throttle_and_stream_checks(&self, page_size: u64) -> [(bool, &'static str, &'static str); 10] {
        let cache = self.xbzrle_cache_size.0;
        [
            (
                !(1..=100).contains(&self.throttle_trigger_threshold),
                "throttle-trigger-threshold",
                "Option throttle_trigger_threshold expects an integer in the range of 1 to 100",
            ),
            (
                !(1..=99).contains(&self.cpu_throttle_initial),
                "cpu-throttle-initial",
                "Option cpu_throttle_initial expects an integer in the range of 1 to 99",
            ),
            (
                !(1..=99).contains(&self.cpu_throttle_increment),
                "cpu-throttle-increment",
                "Option cpu_throttle_increment expects an integer in the range of 1 to 99",
            ),
            (
                self.downtime_limit > 2_000_000,
                "downtime-limit",
                "Option downtime_limit expects an integer in the range of 0 to (2000 * 1000) ms",
            ),
            (
                self.multifd_channels < 1,
                "multifd-channels",
                "Option multifd_channels expects a value between 1 and 255",
            ),
            (
                self.multifd_zlib_level > 9,
                "multifd-zlib-level",
                "Option multifd_zlib_level expects a value between 0 and 9",
            ),
            (
                !(1..=9).contains(&self.multifd_qatzip_level),
                "multifd-qatzip-level",
                "Option multifd_qatzip_level expects a value between 1 and 9",
            ),
            (
                self.multifd_zstd_level > 20,
                "multifd-zstd-level",
                "Option multifd_zstd_level expects a value between 0 and 20",
            ),
            (
                cache < page_size || !cache.is_power_of_two(),
                "xbzrle-cache-size",
                "Option xbzrle_cache_size expects a power of two no less than the target page size",
            ),
            (
                self.max_cpu_throttle < self.cpu_throttle_initial || self.max_cpu_throttle > 99,
                "max-cpu-throttle",
                "max_Option cpu_throttle expects an integer in the range of cpu_throttle_initial to 99",
            ),
        ]
    }

    /// The checks that follow [`Self::throttle_and_stream_checks`].
    fn announce_and_mode_checks(&self, current: &Self, caps: &Capabilities) -> [(bool, &'static str, &'static str); 8] {
        let compressed_or_tls = |p: &Self| p.multifd_compression != MultifdCompression::None || !p.tls_creds.is_empty();
        [
            (
                self.announce_initial > 100_000,
                "announce-initial",
                "Option announce_initial expects a value between 0 and 100000",
            ),
            (self.announce_max > 100_000, "announce-max", "Option announce_max expects a value between 0 and 100000"),
            (
                self.announce_rounds > 1000,
                "announce-rounds",
                "Option announce_rounds expects a value between 0 and 1000",
            ),
            (
                !(1..=10_000).contains(&self.announce_step),
                "announce-step",
                "Option announce_step expects a value between 0 and 10000",
            ),
            (
                caps.zero_copy_send && compressed_or_tls(self),
                "multifd-compression",
                "Zero copy only available for non-compressed non-TLS multifd migration",
            ),
            (
                caps.mapped_ram && compressed_or_tls(current),
                "multifd-compression",
                "Mapped-ram only available for non-compressed non-TLS multifd migration",
            ),
            (
                !(1..=1000).contains(&self.x_vcpu_dirty_limit_period),
                "x-vcpu-dirty-limit-period",
                "Option x-vcpu-dirty-limit-period expects a value between 1 and 1000",
            ),
            (self.vcpu_dirty_limit < 1, "vcpu-dirty-limit", "Parameter 'vcpu_dirty_limit' must be greater than 1 MB/s"),
        ]
    }
}

fn first_violation(checks: &[(bool, &'static str, &'static str)]) -> Result<(), ParamError> {
    match checks.iter().find(|c| c.0) {
        Some(&(_, key, message)) => Err(ParamError { key, message: message.to_string() }),
        None => Ok(()),
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
