//! The seed features — `device-state-times`, system-wide `remaining`,
//! destination statistics — on both engines, and vanilla 10.2 output when
//! they are off.

mod common;

use common::{assert_invariants, both_engines, small_guest, trace};
use migration_sim::config::{ByteSize, DeviceConfig, DeviceKind, MultifdTransfer, Rate};
use migration_sim::units::MIB;
use migration_sim::{EngineKind, MigrationStatus, Scenario, Simulation};

fn base(name: &str, engine: EngineKind) -> Scenario {
    let mut s = small_guest(name, engine, 32, 10_000.0);
    // A device whose state takes no measurable time: omitted from the list.
    s.devices.push(DeviceConfig { name: "0000:00:07.0/empty".into(), ..DeviceConfig::default() });
    s.devices.push(DeviceConfig {
        name: "0000:00:06.0/vfio".into(),
        kind: DeviceKind::Vfio,
        initial_bytes: Some(ByteSize(64 * MIB)),
        stop_copy_bytes: Some(ByteSize(192 * MIB)),
        read_bandwidth: Some(Rate(2e9)),
        config_save_us: Some(400.0),
        multifd_transfer: Some(MultifdTransfer::Off),
        ..DeviceConfig::default()
    });
    s.migration.parameters.max_bandwidth = ByteSize(512 * MIB);
    s.migration.parameters.avail_switchover_bandwidth = ByteSize(1_250_000_000);
    s.migration.parameters.downtime_limit = 1000;
    s
}

both_engines!(device_state_times, |e| {
    let s = base("device-state-times", e);
    let t = trace(&s, 100);
    assert_invariants(&t);
    // Only in completed.
    for smp in &t.samples {
        let completed = smp.source.status == Some(MigrationStatus::Completed);
        assert_eq!(smp.source.device_state_times.is_some(), completed, "at {} ns", smp.time_ns);
    }
    let list = t.completed().device_state_times.clone().expect("times");
    // RAM's iterable save comes first; zero entries are left out; one entry
    // per (name, instance id).
    assert_eq!(list[0].name, "ram");
    assert!(!list.iter().any(|d| d.name == "0000:00:07.0/empty"));
    let cpus: Vec<u32> = list.iter().filter(|d| d.name == "cpu").map(|d| d.instance_id).collect();
    assert_eq!(cpus, [0, 1]);
    // VFIO: the iterable stop-copy and the config section summed into one
    // entry: 20 ms transition + 192+ MiB at 2 GB/s + 400 us of config.
    let vfio: Vec<_> = list.iter().filter(|d| d.name == "0000:00:06.0/vfio").collect();
    assert_eq!(vfio.len(), 1);
    let min_us = 20_000 + (192 * MIB) * 1_000_000 / 2_000_000_000 + 400;
    assert!(vfio[0].save_time >= min_us, "{:?} < {min_us}", vfio[0]);
    // APIC (raised priority) is saved before the CPUs.
    let pos = |n: &str| list.iter().position(|d| d.name == n).expect(n);
    assert!(pos("apic") < pos("cpu"));
});

both_engines!(device_state_times_reset_at_next_migrate, |e| {
    let s = base("dst-reset", e);
    let mut sim = Simulation::new(&s).expect("valid");
    sim.run_to_completion();
    let first = sim.query_migrate_source().device_state_times.expect("first run");
    assert!(!first.is_empty());
    // QEMU refuses to migrate the stopped (postmigrate) VM again until it
    // runs. A second migration (to a fresh destination) after `cont`: the
    // list is cleared at `migrate` and filled again only when it completes.
    let err = sim.migrate().expect_err("postmigrate");
    assert_eq!(err.desc, "Can't migrate the vm that was paused due to previous migration");
    assert!(sim.query_migrate_source().device_state_times.is_some());
    sim.cont().expect("cont");
    sim.migrate().expect("migrate again");
    let info = sim.query_migrate_source();
    assert_eq!(info.status, Some(MigrationStatus::Setup));
    assert!(info.device_state_times.is_none());
    let t = sim.now_ns();
    sim.advance_to(t + 100_000_000);
    assert!(sim.query_migrate_source().status.is_some_and(|s| s.is_running()));
    assert!(sim.query_migrate_source().device_state_times.is_none());
    let out = sim.run_to_completion();
    assert_eq!(out.source_status, MigrationStatus::Completed);
    let second = sim.query_migrate_source();
    assert!(second.device_state_times.is_some_and(|l| !l.is_empty()));
});

both_engines!(system_remaining, |e| {
    let s = base("system-remaining", e);
    let t = trace(&s, 100);
    assert_invariants(&t);
    let mut saw_vfio_part = false;
    for smp in &t.samples {
        let (Some(r), Some(ram)) = (smp.source.remaining, smp.source.ram.as_ref()) else { continue };
        assert!(r as i64 >= ram.remaining);
        if smp.source.status == Some(MigrationStatus::Active) {
            // RAM pending plus the VFIO stop-copy size cached at the last
            // exact query (at least the 192 MiB that only stop-copy reads).
            let vfio = r - ram.remaining as u64;
            assert!(vfio >= 192 * MIB, "vfio part {vfio}");
            saw_vfio_part = true;
        }
        if smp.source.status == Some(MigrationStatus::Completed) {
            assert_eq!(r, 0);
        }
    }
    assert!(saw_vfio_part);
});

both_engines!(destination_statistics, |e| {
    let s = base("dest-stats", e);
    let t = trace(&s, 100);
    assert_invariants(&t);
    let src = t.completed().ram.clone().expect("source ram");
    let dst = t.last().destination.clone();
    assert_eq!(dst.status, Some(MigrationStatus::Completed));
    let ram = dst.ram.expect("dest ram");
    assert_eq!(ram.total, src.total);
    assert_eq!(ram.normal, src.normal);
    assert_eq!(ram.duplicate, src.duplicate);
    assert_eq!(ram.transferred, src.transferred);
    assert_eq!(ram.page_size, 4096);
    assert!(dst.total_time.is_some_and(|tt| tt > 0));
    assert!(ram.dirty_sync_count.is_none() && ram.precopy_bytes.is_none() && ram.multifd_bytes.is_none());
    // Before completing, the destination reports its status only.
    let early = t.samples.iter().find(|s| s.destination.status == Some(MigrationStatus::Active)).expect("active");
    assert!(early.destination.ram.is_none() && early.destination.total_time.is_none());
});

both_engines!(vanilla_output_without_features, |e| {
    let mut s = base("vanilla", e);
    s.features.device_state_times = false;
    s.features.dest_stats = false;
    s.features.system_remaining = false;
    let t = trace(&s, 100);
    assert_invariants(&t);
    for smp in &t.samples {
        assert!(smp.source.device_state_times.is_none());
        assert!(smp.source.remaining.is_none());
        assert!(smp.destination.ram.is_none() && smp.destination.total_time.is_none());
    }
    assert_eq!(t.outcome.source_status, MigrationStatus::Completed);
});
