//! What the simulated QEMUs report: `query-migrate`, `query-status` (the
//! types generated from the project schema, see [`crate::qapi`]) and HMP
//! `info migrate` / `info status` text (model §1.2, §1.14).
//!
//! The QMP types are not written here: `MigrationInfo`, `MigrationStats`,
//! `XBZRLECacheStats`, `VfioStats`, `DeviceSaveStateTime` and `StatusInfo`
//! are re-exported from the code `build.rs` generates from
//! `schema/migration.json` and `schema/run-state.json`, so what the
//! simulator reports is what the schema says, member for member.

use std::fmt::Write as _;

pub use crate::qapi::{
    DeviceSaveStateTime, InetSocketAddress, MigrationInfo, MigrationStats, SocketAddress, StatusInfo, VfioStats,
    XBZRLECacheStats,
};
use crate::status::{MigrationStatus, RunState};
use crate::units::Nanos;

/// A `SocketAddress` of type `inet` as QEMU reports a destination's
/// listening address: `host`, `port`, and `ipv4` or `ipv6` set to true for
/// a numeric address of that family (QEMU lists the addresses it bound,
/// which are numeric; a host name is kept as given, with neither).
pub fn inet_address(host: impl Into<String>, port: impl Into<String>) -> SocketAddress {
    let host = host.into();
    let family = host.parse::<std::net::IpAddr>().ok();
    SocketAddress::Inet(InetSocketAddress {
        host,
        port: port.into(),
        numeric: None,
        to: None,
        ipv4: family.filter(std::net::IpAddr::is_ipv4).map(|_| true),
        ipv6: family.filter(std::net::IpAddr::is_ipv6).map(|_| true),
        keep_alive: None,
        keep_alive_count: None,
        keep_alive_idle: None,
        keep_alive_interval: None,
        mptcp: None,
    })
}

/// The last completed statistics window of the source (model §1.4). Not a
/// QMP member: exposed so that checkers can verify `mbps` exactly.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct WindowInfo {
    /// ms clock at the window's start.
    pub start_ms: u64,
    /// ms clock at its end (the update).
    pub end_ms: u64,
    /// Bytes transferred during it.
    pub bytes: u64,
    /// Whether the rate budget was exhausted during it.
    pub rate_limited: bool,
    /// Whether any window has completed in this migration.
    pub valid: bool,
}

/// Simulator internals sampled with each snapshot. Not QMP: the invariant
/// checker uses them to verify what QMP shows.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct Internals {
    /// The last statistics window.
    pub window: WindowInfo,
    /// RAM `save_live_iterate` calls (8-byte end-of-section markers).
    pub iterate_calls: u64,
    /// Main-channel bytes that are neither RAM page records nor RAM
    /// markers: stream header, section headers, device state, VFIO data,
    /// vmdesc.
    pub non_ram_bytes: u64,
    /// Device state bytes (vmstate sections and VFIO data) sent so far.
    pub device_bytes: u64,
    /// RAM accounting bytes that are not page records: the 8-byte
    /// end-of-section markers of RAM iterate calls, and with `mapped-ram`
    /// the file's page bitmaps written at completion.
    pub ram_marker_bytes: u64,
    /// Multifd on.
    pub multifd: bool,
    /// Zero pages detected in the multifd threads (not the main channel).
    pub zero_pages_in_channels: bool,
    /// `downtime-limit` at the start of the migration, ms.
    pub downtime_limit_ms: u64,
    /// `cpu-throttle-initial` / `max-cpu-throttle`.
    pub throttle_range: (u8, u8),
    /// `xbzrle-cache-size`.
    pub xbzrle_cache_size: u64,
    /// Throttle increases so far (time ns, new percentage).
    pub throttle_changes: Vec<(Nanos, u8)>,
    /// Entries of `device-state-times` that ran concurrently with others
    /// (multifd device-state transfer) and so do not add up to downtime.
    pub concurrent_entries: Vec<(String, u32)>,
    /// Multifd SYNC rounds (a SYNC packet on every channel) after the one
    /// of the setup: one per complete round of the page scanner, one at
    /// completion.
    pub multifd_syncs: u64,
    /// Dirty bitmap syncs, with their times (ns).
    pub sync_times: Vec<Nanos>,
    /// Heap held by the RAM engine, bytes.
    pub engine_bytes: usize,
    /// The migration thread is in the middle of a burst of writes (the
    /// counters shown are interpolated within it).
    pub sending: bool,
}

/// Everything observable at one simulated instant.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Snapshot {
    /// Simulated time.
    pub time_ns: Nanos,
    /// `query-migrate` on the source.
    pub source: MigrationInfo,
    /// `query-migrate` on the destination.
    pub destination: MigrationInfo,
    /// `query-status` on the source.
    pub source_status: StatusInfo,
    /// `query-status` on the destination.
    pub destination_status: StatusInfo,
    /// Simulator internals.
    pub internals: Internals,
}

/// C's `%.Ng` for a non-negative finite value: `N` significant digits,
/// trailing zeros removed, exponent form when the exponent is < −4 or ≥ N.
pub fn format_g(v: f64, n: usize) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v == 0.0 {
        return "0".to_string();
    }
    let n = n.max(1);
    let sci = format!("{:.*e}", n - 1, v);
    let (mant, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let strip = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if exp < -4 || exp >= n as i32 {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{}{:02}", strip(mant), sign, exp.abs())
    } else {
        let decimals = (n as i32 - 1 - exp).max(0) as usize;
        strip(&format!("{:.*}", decimals, v))
    }
}

/// A size the way QEMU's HMP prints it: three significant digits and a
/// binary unit, switching unit once the value reaches 1000 of the smaller
/// one ("0 B", "4 KiB", "1.01 GiB", "0.977 KiB").
pub fn size_to_str(val: u64) -> String {
    const SUFFIXES: [&str; 7] = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
    let unit = if val == 0 {
        0
    } else {
        // The binary exponent e of val·1024/1000 (value = m·2^e, m in
        // [0.5, 1)); (e − 1) / 10 picks the unit.
        let x = val as f64 * 1.024;
        let e = ((x.to_bits() >> 52) & 0x7ff) as i64 - 1022;
        ((e - 1) / 10).clamp(0, 6) as usize
    };
    let div = (1u64 << (unit * 10)) as f64;
    format!("{} {}B", format_g(val as f64 / div, 3), SUFFIXES[unit])
}

/// The listening address QEMU reports for a migration URI it listens on
/// (`tcp:HOST:PORT`, `unix:PATH`); none for other transports.
pub fn listening_address(uri: &str) -> Option<SocketAddress> {
    let (scheme, rest) = uri.split_once(':')?;
    match scheme {
        "tcp" => {
            // HOST:PORT or [V6HOST]:PORT, options after a comma.
            let addr = rest.split(',').next().unwrap_or(rest);
            let (host, port) = addr.rsplit_once(':')?;
            Some(inet_address(host.trim_start_matches('[').trim_end_matches(']'), port))
        }
        "unix" => Some(SocketAddress::Unix(crate::qapi::UnixSocketAddress {
            path: rest.to_string(),
            r#abstract: None,
            tight: None,
        })),
        _ => None,
    }
}

/// A socket address as a URI, the way HMP lists listening sockets
/// (`tcp:HOST:PORT`, `unix:PATH`, `vsock:CID:PORT`, `fd:NAME`).
pub fn socket_uri(addr: &SocketAddress) -> String {
    match addr {
        SocketAddress::Inet(a) => format!("tcp:{}:{}", a.host, a.port),
        SocketAddress::Unix(a) => format!("unix:{}", a.path),
        SocketAddress::Vsock(a) => format!("vsock:{}:{}", a.cid, a.port),
        SocketAddress::Fd(a) => format!("fd:{}", a.str),
    }
}

/// HMP `info migrate` (10.2 layout); `all` is `info migrate -a`.
///
/// A line made of members `query-migrate` leaves out is not printed: the
/// destination's statistics (a seed extension) have no source-only members,
/// so no `Channels` or `Others` line, where QEMU's HMP (whose members are all
/// mandatory) would print zeros.
pub fn render_info_migrate(info: &MigrationInfo, all: bool) -> String {
    let mut s = String::new();
    if let Some(reasons) = &info.blocked_reasons {
        s.push_str("Outgoing migration blocked:\n");
        for r in reasons {
            let _ = writeln!(s, "  {r}");
        }
    }
    if let Some(status) = info.status {
        render_status(&mut s, info, status);
    }
    if let Some(addrs) = &info.socket_address {
        s.push_str("Sockets: [\n");
        for a in addrs {
            let _ = writeln!(s, "\t{}", socket_uri(a));
        }
        s.push_str("]\n");
    }
    if let Some(ram) = &info.ram {
        render_ram(&mut s, ram, info.vfio.as_ref());
    }
    if all {
        if let Some(x) = &info.xbzrle_cache {
            let _ = writeln!(
                s,
                "XBZRLE: size={}, transferred={}, pages={}, miss={}\n  miss_rate={:.2}, encode_rate={:.2}, overflow={}",
                size_to_str(x.cache_size),
                size_to_str(x.bytes.max(0) as u64),
                x.pages,
                x.cache_miss,
                x.cache_miss_rate,
                x.encoding_rate,
                x.overflow
            );
        }
        if let Some(p) = info.cpu_throttle_percentage {
            let _ = writeln!(s, "CPU Throttle (%): {p}");
        }
    }
    s
}

fn render_status(s: &mut String, info: &MigrationInfo, status: MigrationStatus) {
    let _ = write!(s, "Status: \t\t{status}");
    match (&info.error_desc, status) {
        (Some(e), MigrationStatus::Failed | MigrationStatus::PostcopyPaused) => {
            let _ = writeln!(s, " ({e})");
        }
        _ => s.push('\n'),
    }
    if let Some(total) = info.total_time.filter(|&t| t != 0) {
        let _ = write!(s, "Time (ms): \t\ttotal={total}");
        if let Some(v) = info.setup_time {
            let _ = write!(s, ", setup={v}");
        }
        if let Some(v) = info.expected_downtime {
            let _ = write!(s, ", exp_down={v}");
        }
        if let Some(v) = info.downtime {
            let _ = write!(s, ", down={v}");
        }
        s.push('\n');
    }
    // Seed: the system-wide remaining (RAM plus device state), in bytes,
    // whenever query-migrate reports it.
    if let Some(r) = info.remaining {
        let _ = writeln!(s, "Remaining (bytes): \t{r}");
    }
}

fn render_ram(s: &mut String, ram: &MigrationStats, vfio: Option<&VfioStats>) {
    let sz = |v: i64| size_to_str(v.max(0) as u64);
    let _ = writeln!(s, "RAM info:");
    let _ = writeln!(s, "  Throughput (Mbps): \t{:.2}", ram.mbps);
    let _ = writeln!(s, "  Sizes: \t\tpagesize={}, total={}", sz(ram.page_size), sz(ram.total));
    let _ = writeln!(s, "  Transfers: \t\ttransferred={}, remain={}", sz(ram.transferred), sz(ram.remaining));
    let mut channels: Vec<String> =
        [("precopy", ram.precopy_bytes), ("multifd", ram.multifd_bytes), ("postcopy", ram.postcopy_bytes)]
            .into_iter()
            .filter_map(|(name, v)| v.map(|v| format!("{name}={}", size_to_str(v))))
            .collect();
    if let Some(v) = vfio {
        channels.push(format!("vfio={}", sz(v.transferred)));
    }
    if !channels.is_empty() {
        let _ = writeln!(s, "    Channels: \t\t{}", channels.join(", "));
    }
    let _ = writeln!(s, "    Page Types: \tnormal={}, zero={}", ram.normal, ram.duplicate);
    let _ = write!(s, "  Page Rates (pps): \ttransfer={}", ram.pages_per_second);
    if let Some(r) = ram.dirty_pages_rate.filter(|&r| r != 0) {
        let _ = write!(s, ", dirty={r}");
    }
    s.push('\n');
    if let Some(syncs) = ram.dirty_sync_count {
        let _ = write!(s, "  Others: \t\tdirty_syncs={syncs}");
        for (name, v) in [
            ("postcopy_req", ram.postcopy_requests.map(|v| v.max(0) as u64)),
            ("downtime_bytes", ram.downtime_bytes),
            ("zerocopy_fallbacks", ram.dirty_sync_missed_zero_copy),
        ] {
            if let Some(v) = v.filter(|&v| v != 0) {
                let _ = write!(s, ", {name}={v}");
            }
        }
        s.push('\n');
    }
}

/// HMP `info status`.
pub fn render_info_status(st: &StatusInfo) -> String {
    if st.running {
        "VM status: running\n".to_string()
    } else if st.status == RunState::Paused {
        "VM status: paused\n".to_string()
    } else {
        format!("VM status: paused ({})\n", st.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_qemu() {
        assert_eq!(size_to_str(0), "0 B");
        assert_eq!(size_to_str(4096), "4 KiB");
        assert_eq!(size_to_str(999), "999 B");
        assert_eq!(size_to_str(1000), "0.977 KiB");
        assert_eq!(size_to_str(1023), "0.999 KiB");
        assert_eq!(size_to_str(1_084_227_584), "1.01 GiB");
        assert_eq!(size_to_str(8 << 30), "8 GiB");
        assert_eq!(size_to_str(286_334_976), "273 MiB");
    }

    #[test]
    fn info_status() {
        let st = |running, status| render_info_status(&StatusInfo { running, status });
        assert_eq!(st(true, RunState::Running), "VM status: running\n");
        assert_eq!(st(false, RunState::Postmigrate), "VM status: paused (postmigrate)\n");
        assert_eq!(st(false, RunState::FinishMigrate), "VM status: paused (finish-migrate)\n");
        assert_eq!(st(false, RunState::Paused), "VM status: paused\n");
    }

    #[test]
    fn info_migrate_layout() {
        let info = MigrationInfo {
            status: Some(MigrationStatus::Failed),
            error_desc: Some("Unable to write to socket: Broken pipe".into()),
            ..MigrationInfo::default()
        };
        assert_eq!(render_info_migrate(&info, false), "Status: \t\tfailed (Unable to write to socket: Broken pipe)\n");
        assert_eq!(render_info_migrate(&MigrationInfo::default(), true), "");
        let info = MigrationInfo {
            status: Some(MigrationStatus::Active),
            total_time: Some(1500),
            setup_time: Some(2),
            expected_downtime: Some(300),
            remaining: Some(2_147_483_648),
            ..MigrationInfo::default()
        };
        assert_eq!(
            render_info_migrate(&info, false),
            "Status: \t\tactive\nTime (ms): \t\ttotal=1500, setup=2, exp_down=300\nRemaining (bytes): \t2147483648\n"
        );
    }

    #[test]
    fn listening_addresses_as_qemu_reports_them() {
        // QEMU 10.0.2 with -incoming tcp:0.0.0.0:P, tcp:[::1]:P, unix:PATH.
        let json = |uri: &str| serde_json::to_value(listening_address(uri)).unwrap_or_default();
        assert_eq!(
            json("tcp:0.0.0.0:44442"),
            serde_json::json!({ "type": "inet", "host": "0.0.0.0", "port": "44442", "ipv4": true })
        );
        assert_eq!(
            json("tcp:[::1]:44445"),
            serde_json::json!({ "type": "inet", "host": "::1", "port": "44445", "ipv6": true })
        );
        assert_eq!(json("unix:/tmp/mig.sock"), serde_json::json!({ "type": "unix", "path": "/tmp/mig.sock" }));
        assert_eq!(listening_address("exec:cat"), None);
        assert_eq!(socket_uri(&listening_address("tcp:[::1]:44445").expect("inet")), "tcp:::1:44445");
    }

    #[test]
    fn destination_statistics_print_only_their_members() {
        // What a destination reports at completion with the seed's
        // statistics: no source-only member, so no Channels or Others line.
        let ram = MigrationStats {
            transferred: 1_000_000,
            remaining: 0,
            total: 554_508_288,
            duplicate: 130_000,
            normal: 200,
            normal_bytes: 819_200,
            dirty_pages_rate: None,
            mbps: 97.96,
            dirty_sync_count: None,
            postcopy_requests: None,
            page_size: 4096,
            multifd_bytes: None,
            pages_per_second: 1_440_234,
            precopy_bytes: None,
            downtime_bytes: None,
            postcopy_bytes: None,
            dirty_sync_missed_zero_copy: None,
        };
        let info = MigrationInfo {
            status: Some(MigrationStatus::Completed),
            total_time: Some(94),
            ram: Some(ram),
            ..MigrationInfo::default()
        };
        let text = render_info_migrate(&info, true);
        assert!(!text.contains("Channels") && !text.contains("dirty_syncs"), "{text}");
        assert!(text.contains("Time (ms): \t\ttotal=94\n") && text.contains("transfer=1440234\n"), "{text}");
    }

    #[test]
    fn g_format() {
        assert_eq!(format_g(999.7, 3), "1e+03");
        assert_eq!(format_g(0.000_012_34, 3), "1.23e-05");
        assert_eq!(format_g(12.5, 3), "12.5");
        assert_eq!(format_g(100.0, 3), "100");
    }
}
