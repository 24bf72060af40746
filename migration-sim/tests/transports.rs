//! Migrations over `file:` (with and without `mapped-ram`, multifd) and
//! `exec:` URIs: QEMU's status paths, accounting and refusals (QEMU 10.0.2
//! checked for each), under the §4.1 invariants.

mod common;

use common::{assert_invariants, both_engines, small_guest, timed_statuses, trace};
use migration_sim::config::{ByteSize, MultifdCompression, ParameterUpdate};
use migration_sim::events::{Event, Side};
use migration_sim::units::MIB;
use migration_sim::{EngineKind, MigrationStatus, Scenario};

/// A 1 GiB, 2-vCPU guest with a busy set and the PC devices, migrated to
/// `uri`.
fn base(name: &str, engine: EngineKind, uri: &str) -> Scenario {
    let mut s = small_guest(name, engine, 32, 5000.0);
    s.migration.uri = uri.into();
    s.migration.parameters.max_bandwidth = ByteSize(512 * MIB);
    s.time_limit_s = 120.0;
    s
}

fn only(v: &[(u64, MigrationStatus)]) -> Vec<MigrationStatus> {
    v.iter().map(|(_, s)| *s).collect()
}

/// Bytes of mapped-ram's page bitmaps: a bit a page, whole 64-bit words per
/// RAMBlock (guest RAM and the other blocks).
fn bitmap_bytes(s: &Scenario) -> u64 {
    let ps = s.guest.page_size;
    (s.guest.ram.0 / ps).div_ceil(64) * 8 + (s.guest.extra_ram_blocks.0 / ps).div_ceil(64) * 8
}

both_engines!(file_then_load, |e| {
    let s = base("file", e, "file:/var/lib/vm.mig");
    let t = trace(&s, 100);
    assert_invariants(&t);
    use MigrationStatus as S;
    let src = timed_statuses(&t, Side::Source);
    assert_eq!(only(&src), [S::Setup, S::Active, S::Device, S::Completed]);
    // Nobody receives a file live: the destination (started with -incoming
    // file:PATH) loads it once it is complete.
    let dst = timed_statuses(&t, Side::Destination);
    assert_eq!(only(&dst), [S::Setup, S::Active, S::Completed]);
    assert!(dst[0].0 >= src[3].0, "{dst:?} {src:?}");
    assert!(t.samples.iter().all(|s| s.destination.socket_address.is_none()));
    assert!(t.events.iter().any(|e| e.side == Side::Destination && e.event == Event::Resume));
    assert_eq!(t.last().source_status.status, migration_sim::RunState::Postmigrate);
});

both_engines!(file_mapped_ram, |e| {
    let mut s = base("mapped-ram", e, "file:/var/lib/vm.mig,offset=4096");
    s.migration.capabilities.mapped_ram = true;
    let t = trace(&s, 100);
    assert_invariants(&t);
    assert_eq!(t.outcome.source_status, MigrationStatus::Completed);
    // Every page at its place in the file: whole pages without headers, no
    // zero-page records, the bitmaps at completion.
    let done = t.completed();
    let ram = done.ram.as_ref().expect("ram");
    let acct = ram.precopy_bytes.unwrap_or(0) + ram.downtime_bytes.unwrap_or(0);
    let markers = t.last().internals.ram_marker_bytes;
    assert_eq!(acct, ram.normal as u64 * 4096 + markers, "{ram:?}");
    assert!(ram.downtime_bytes.unwrap_or(0) >= bitmap_bytes(&s));
});

both_engines!(file_mapped_ram_multifd, |e| {
    let mut s = base("mapped-ram-multifd", e, "file:/var/lib/vm.mig");
    s.migration.capabilities.mapped_ram = true;
    s.migration.capabilities.multifd = true;
    let t = trace(&s, 100);
    assert_invariants(&t);
    let ram = t.completed().ram.clone().expect("ram");
    // QEMU 10.0.2: multifd-bytes is the normal pages exactly (no packets,
    // no syncs), downtime-bytes the bitmaps.
    assert_eq!(ram.multifd_bytes, Some(ram.normal as u64 * 4096));
    assert_eq!(ram.downtime_bytes, Some(bitmap_bytes(&s)));
});

both_engines!(file_has_no_return_path, |e| {
    let mut s = base("file-return-path", e, "file:/var/lib/vm.mig");
    s.migration.capabilities.return_path = true;
    let t = trace(&s, 100);
    assert_invariants(&t);
    use MigrationStatus as S;
    // QEMU 10.0.2 sends everything, then fails waiting for the return path
    // and runs the VM again.
    assert_eq!(only(&timed_statuses(&t, Side::Source)), [S::Setup, S::Active, S::Device, S::Failed]);
    assert_eq!(t.last().source.error_desc.as_deref(), Some("Unable to read from file: Bad file descriptor"));
    assert!(t.last().source_status.running);
    assert!(timed_statuses(&t, Side::Destination).is_empty());
});

both_engines!(exec_is_a_pipe_to_the_destination, |e| {
    let s = base("exec", e, "exec:ssh dst qemu-incoming");
    let t = trace(&s, 100);
    assert_invariants(&t);
    use MigrationStatus as S;
    assert_eq!(only(&timed_statuses(&t, Side::Source)), [S::Setup, S::Active, S::Device, S::Completed]);
    assert_eq!(only(&timed_statuses(&t, Side::Destination)), [S::Setup, S::Active, S::Completed]);
    assert!(t.samples.iter().all(|s| s.destination.socket_address.is_none()));
});

both_engines!(exec_to_nobody_fails_in_setup, |e| {
    let mut s = base("exec-nobody", e, "exec:false");
    s.destination.listening = false;
    let t = trace(&s, 100);
    assert_invariants(&t);
    use MigrationStatus as S;
    // QEMU 10.0.2 with exec:false.
    assert_eq!(only(&timed_statuses(&t, Side::Source)), [S::Setup, S::Active, S::Failed]);
    assert_eq!(t.last().source.error_desc.as_deref(), Some("ram_save_setup failed: Input/output error"));
});

#[test]
fn transports_refuse_what_they_cannot_do() {
    let refused = |s: &Scenario| match s.validate() {
        Err(issues) => issues.iter().map(|i| format!("{}: {}", i.key, i.message)).collect::<Vec<_>>(),
        Ok(()) => Vec::new(),
    };
    let mut s = base("mapped-ram-tcp", EngineKind::Aggregate, "tcp:192.0.2.2:4444");
    s.migration.capabilities.mapped_ram = true;
    assert_eq!(refused(&s), ["migration.uri: Migration requires seekable transport (e.g. file)"]);
    let mut s = base("multifd-file", EngineKind::Aggregate, "file:/m");
    s.migration.capabilities.multifd = true;
    assert_eq!(refused(&s), ["migration.uri: Migration requires multi-channel URIs (e.g. tcp)"]);
    let mut s = base("multifd-exec", EngineKind::Aggregate, "exec:cat");
    s.migration.capabilities.multifd = true;
    assert_eq!(refused(&s), ["migration.uri: Migration requires multi-channel URIs (e.g. tcp)"]);
    let s = base("bad-offset", EngineKind::Aggregate, "file:/m,offset=x");
    assert_eq!(refused(&s), ["migration.uri: file URI has bad offset x: Invalid argument"]);
    // A QMP migrate is refused the same way, and changes nothing.
    let mut s = base("qmp", EngineKind::Aggregate, "tcp:192.0.2.2:4444");
    s.migration.auto_start = false;
    let mut sim = migration_sim::Simulation::new(&s).expect("valid");
    let mut caps = sim.capabilities().clone();
    caps.mapped_ram = true;
    sim.migrate_set_capabilities(caps).expect("mapped-ram alone is accepted");
    let err = sim.migrate_to("tcp:192.0.2.2:4444").expect_err("not seekable");
    assert_eq!(err.desc, "Migration requires seekable transport (e.g. file)");
    assert_eq!(sim.source_status(), MigrationStatus::None);
    sim.migrate_to("file:/m").expect("a file is seekable");
    sim.run_to_completion();
    assert_eq!(sim.source_status(), MigrationStatus::Completed);
    sim.cont().expect("cont");
    // QEMU 10.0.2 checks mapped-ram's restriction against the compression
    // in force: zlib is accepted, TLS then refused, and so is the migrate.
    let zlib = ParameterUpdate { multifd_compression: Some(MultifdCompression::Zlib), ..ParameterUpdate::default() };
    sim.migrate_set_parameters(&zlib).expect("accepted");
    let tls = ParameterUpdate { tls_creds: Some("tls0".into()), ..ParameterUpdate::default() };
    assert_eq!(
        sim.migrate_set_parameters(&tls).expect_err("refused").desc,
        "Mapped-ram only available for non-compressed non-TLS multifd migration"
    );
    assert_eq!(sim.migrate_to("file:/m").expect_err("refused").desc, "Cannot use compression with mapped-ram");
    assert_eq!(sim.source_status(), MigrationStatus::Completed, "the last migration's state is kept");
}
