//! Injected faults (scenario `[[faults]]`): QEMU's status paths, MIGRATION
//! events and error-desc for a save_setup failure, a link lost in every
//! phase, and a failed destination; the §4.1 invariants hold throughout.

mod common;

use common::{action, assert_invariants, both_engines, small_guest, statuses, trace, Trace};
use migration_sim::config::{ActionKind, ByteSize, DeviceConfig, DeviceKind, FaultConfig, FaultKind, Rate};
use migration_sim::events::{Event, Side};
use migration_sim::units::MIB;
use migration_sim::{EngineKind, MigrationStatus, Scenario};

use MigrationStatus as S;

fn base(name: &str, engine: EngineKind) -> Scenario {
    let mut s = small_guest(name, engine, 64, 20_000.0);
    s.migration.parameters.max_bandwidth = ByteSize(256 * MIB);
    s.time_limit_s = 120.0;
    s
}

fn fault(kind: FaultKind, when: Option<MigrationStatus>, after_ms: Option<f64>) -> FaultConfig {
    FaultConfig { fault: kind, when, after_ms, duration_ms: None, device: None, error: None }
}

fn source_names(t: &Trace) -> Vec<&'static str> {
    t.source_events().map(|e| e.event.name()).collect()
}

fn error(t: &Trace) -> Option<&str> {
    t.last().source.error_desc.as_deref()
}

both_engines!(ram_save_setup_fails, |e| {
    let mut s = base("save-setup-ram", e);
    s.faults.push(FaultConfig { device: Some("ram".into()), ..fault(FaultKind::SaveSetup, None, None) });
    let t = trace(&s, 100);
    assert_invariants(&t);
    // QEMU 10.0.2 (a stream that breaks in setup, exec:false): the setup
    // sync ran, the state went active, then failed.
    assert_eq!(statuses(&t, Side::Source), [S::Setup, S::Active, S::Failed]);
    assert_eq!(source_names(&t), ["MIGRATION", "MIGRATION_PASS", "MIGRATION", "MIGRATION"]);
    assert_eq!(error(&t), Some("ram_save_setup failed: Input/output error"));
    assert_eq!(statuses(&t, Side::Destination), [S::Setup, S::Active, S::Failed]);
    assert!(t.last().source_status.running);
});

both_engines!(vfio_save_setup_fails, |e| {
    let mut s = base("save-setup-vfio", e);
    s.devices.push(DeviceConfig {
        name: "0000:00:06.0/vfio".into(),
        kind: DeviceKind::Vfio,
        initial_bytes: Some(ByteSize(64 * MIB)),
        stop_copy_bytes: Some(ByteSize(128 * MIB)),
        precopy_dirty_rate: Some(Rate(0.0)),
        ..DeviceConfig::default()
    });
    s.faults.push(FaultConfig {
        device: Some("0000:00:06.0/vfio".into()),
        error: Some("vfio 0000:00:06.0: Failed to start DMA logging".into()),
        ..fault(FaultKind::SaveSetup, None, None)
    });
    let t = trace(&s, 100);
    assert_invariants(&t);
    assert_eq!(statuses(&t, Side::Source), [S::Setup, S::Active, S::Failed]);
    assert_eq!(error(&t), Some("vfio 0000:00:06.0: Failed to start DMA logging"));
});

both_engines!(link_lost_before_the_connection, |e| {
    let mut s = base("link-loss-connect", e);
    s.faults.push(fault(FaultKind::LinkLoss, Some(S::Setup), None));
    let t = trace(&s, 100);
    assert_invariants(&t);
    // No migration thread yet: setup -> failed.
    assert_eq!(statuses(&t, Side::Source), [S::Setup, S::Failed]);
    assert!(error(&t).is_some_and(|e| e.starts_with("Failed to connect to '192.0.2.2:4444': ")), "{:?}", error(&t));
});

both_engines!(link_lost_in_the_setup_phase, |e| {
    let mut s = base("link-loss-setup", e);
    // The connection takes 1 ms; the setup phase a few more.
    s.faults.push(fault(FaultKind::LinkLoss, Some(S::Setup), Some(2.0)));
    let t = trace(&s, 100);
    assert_invariants(&t);
    assert_eq!(statuses(&t, Side::Source), [S::Setup, S::Active, S::Failed]);
    assert_eq!(error(&t), Some("Unable to write to socket: Connection reset by peer"));
    assert_eq!(t.outcome.destination_status, S::Failed);
});

both_engines!(link_lost_while_iterating, |e| {
    let mut s = base("link-loss-active", e);
    s.faults.push(fault(FaultKind::LinkLoss, Some(S::Active), Some(700.0)));
    let t = trace(&s, 100);
    assert_invariants(&t);
    assert_eq!(statuses(&t, Side::Source), [S::Setup, S::Active, S::Failed]);
    assert_eq!(statuses(&t, Side::Destination), [S::Setup, S::Active, S::Failed]);
    let at = |status| t.source_events().find(|e| e.event == Event::Migration { status }).expect("event").time_ns;
    assert_eq!(at(S::Failed) - at(S::Active), 700_000_000, "700 ms after active");
});

both_engines!(link_lost_during_the_switchover, |e| {
    let mut s = base("link-loss-device", e);
    s.faults.push(fault(FaultKind::LinkLoss, Some(S::Device), None));
    let t = trace(&s, 100);
    assert_invariants(&t);
    assert_eq!(statuses(&t, Side::Source), [S::Setup, S::Active, S::Device, S::Failed]);
    // The VM stopped for the switchover runs again.
    let names = source_names(&t);
    let stop = names.iter().position(|n| *n == "STOP").expect("STOP");
    assert_eq!(names.last(), Some(&"RESUME"), "{names:?}");
    assert!(stop < names.len() - 1);
    assert!(t.last().source_status.running);
    assert_eq!(t.outcome.destination_status, S::Failed);
});

both_engines!(link_lost_in_postcopy_and_recovered, |e| {
    let mut s = base("link-loss-postcopy", e);
    s.guest.classes[1].write_rate = 200_000.0;
    s.migration.capabilities.postcopy_ram = true;
    s.migration.parameters.max_bandwidth = ByteSize(64 * MIB);
    s.actions.push(action(400.0, ActionKind::StartPostcopy));
    s.faults.push(FaultConfig {
        duration_ms: Some(300.0),
        ..fault(FaultKind::LinkLoss, Some(S::PostcopyActive), Some(100.0))
    });
    s.actions.push(action(3_000.0, ActionKind::Resume));
    let t = trace(&s, 100);
    assert_invariants(&t);
    let src = statuses(&t, Side::Source);
    assert!(src.windows(2).any(|w| w == [S::PostcopyActive, S::PostcopyPaused]), "{src:?}");
    assert_eq!(src.last(), Some(&S::Completed), "{src:?}");
    assert!(statuses(&t, Side::Destination).contains(&S::PostcopyPaused));
    assert!(t.samples.iter().any(|x| x.source.status == Some(S::PostcopyPaused)
        && x.source.error_desc.as_deref() == Some("Unable to write to socket: Connection reset by peer")));
});

both_engines!(destination_fails_while_the_source_sends, |e| {
    let mut s = base("destination-active", e);
    s.faults.push(fault(FaultKind::Destination, Some(S::Active), Some(500.0)));
    let t = trace(&s, 100);
    assert_invariants(&t);
    assert_eq!(statuses(&t, Side::Source), [S::Setup, S::Active, S::Failed]);
    assert_eq!(error(&t), Some("Unable to write to socket: Connection reset by peer"));
    assert_eq!(statuses(&t, Side::Destination), [S::Setup, S::Active, S::Failed]);
    assert_eq!(t.last().destination.error_desc.as_deref(), Some("load of migration failed: Invalid argument"));
});

both_engines!(destination_fails_after_the_source_completed, |e| {
    // Without a return path the source completes as soon as it has written
    // everything: a destination failing to load the last device states
    // leaves a completed source and a failed destination.
    let mut s = base("destination-after", e);
    s.faults.push(FaultConfig {
        error: Some("error while loading state section id 2(ram)".into()),
        ..fault(FaultKind::Destination, Some(S::Device), Some(30.0))
    });
    let t = trace(&s, 100);
    assert_invariants(&t);
    assert_eq!(t.outcome.source_status, S::Completed);
    assert_eq!(statuses(&t, Side::Destination), [S::Setup, S::Active, S::Failed]);
});

#[test]
fn faults_are_checked() {
    let mut s = base("bad-faults", EngineKind::Aggregate);
    s.faults.push(fault(FaultKind::SaveSetup, Some(S::Active), None));
    s.faults.push(FaultConfig { device: Some("cpu".into()), ..fault(FaultKind::SaveSetup, None, None) });
    s.faults.push(fault(FaultKind::LinkLoss, Some(S::Completed), Some(-1.0)));
    let issues: Vec<String> = s.validate().expect_err("invalid").iter().map(|i| i.to_string()).collect();
    assert_eq!(
        issues,
        [
            "faults[0].when: not used by a save-setup fault",
            "faults[0].fault: a save-setup fault needs `device` (ram or a VFIO device)",
            "faults[1].device: no VFIO device `cpu`: only RAM and VFIO devices have a save_setup",
            "faults[2].when: must be one of setup, active, pre-switchover, device, postcopy-device, postcopy-active, postcopy-recover",
            "faults[2].after-ms: must be a non-negative number of milliseconds",
        ]
    );
}
