//! Ready-made scenarios: what `migration-sim run` uses without arguments.

use crate::config::{ByteSize, DeviceConfig, DeviceKind, MultifdTransfer, PageClassConfig, Rate, Scenario};
use crate::units::{GIB, KIB, MIB};

fn vmstate(name: &str, bytes: u64, save_us: f64) -> DeviceConfig {
    DeviceConfig { name: name.into(), bytes: ByteSize(bytes), save_us, ..DeviceConfig::default() }
}

fn class(name: &str, size: u64, write_rate: f64, zero_fraction: f64) -> PageClassConfig {
    PageClassConfig { name: name.into(), size: ByteSize(size), write_rate, zero_fraction, write_bytes: 128 }
}

/// The device sections of a q35 PC guest with the usual devices, in QEMU's
/// handler order (APIC and PCI bus have raised priorities). Sizes and save
/// times are plausible figures, not measurements.
pub fn pc_devices() -> Vec<DeviceConfig> {
    let per_vcpu = |mut d: DeviceConfig| {
        d.per_vcpu = true;
        d
    };
    let prio = |mut d: DeviceConfig, p: i32| {
        d.priority = p;
        d
    };
    vec![
        vmstate("timer", 24, 2.0),
        per_vcpu(vmstate("cpu", 6 * KIB, 25.0)),
        prio(per_vcpu(vmstate("apic", KIB, 4.0)), 5),
        vmstate("kvmclock", 40, 20.0),
        vmstate("fw_cfg", 8, 1.0),
        prio(vmstate("PCIBUS", 200, 3.0), 3),
        vmstate("mc146818rtc", 130, 5.0),
        vmstate("i8259", 50, 3.0),
        DeviceConfig { instance_id: 1, ..vmstate("i8259", 50, 3.0) },
        vmstate("ioapic", 400, 8.0),
        vmstate("hpet", 300, 5.0),
        vmstate("i8254", 200, 10.0),
        vmstate("0000:00:1f.0/ICH9LPC", 400, 10.0),
        vmstate("0000:00:1f.2/ich9_ahci", 3 * KIB, 40.0),
        vmstate("0000:00:1f.3/ich9_smb", 300, 5.0),
        vmstate("0000:00:01.0/qxl", 20 * KIB, 250.0),
        vmstate("0000:00:02.0/virtio-net", 1500, 60.0),
        vmstate("0000:00:03.0/virtio-blk", 800, 40.0),
        vmstate("0000:00:04.0/xhci", 6 * KIB, 80.0),
        vmstate("0000:00:04.0/1/usb-ptr", 200, 5.0),
        vmstate("0000:00:05.0/virtio-balloon", 200, 15.0),
        vmstate("acpi_build", 4, 1.0),
    ]
}

/// A realistic default: an 8 GiB, 4-vCPU q35 guest with a 128 MiB hot
/// working set, a warm heap, kernel data and page cache (the rest of RAM
/// never touched, i.e. zero pages), the usual PC devices, a 10 Gbit/s link,
/// QEMU 10.2's migration defaults and the `events` capability on both sides.
/// It converges in a few passes and completes in about 35 s.
pub fn default_scenario() -> Scenario {
    let mut s = Scenario { name: "default".into(), ..Scenario::default() };
    s.guest.ram = ByteSize(8 * GIB);
    s.guest.vcpus = 4;
    s.guest.classes = vec![
        class("hot", 128 * MIB, 15_000.0, 0.0),
        class("heap", GIB, 2_000.0, 0.01),
        class("kernel", 512 * MIB, 1_000.0, 0.02),
        class("page-cache", 2 * GIB, 300.0, 0.05),
    ];
    s.devices = pc_devices();
    s.migration.capabilities.events = true;
    s
}

/// The default guest plus a VFIO device (a vGPU-like function with 2 GiB of
/// device state, PRE_COPY support and 512 MiB of precopy data) and the usual
/// way to make such a migration converge: `avail-switchover-bandwidth` set
/// to the link speed and a downtime limit that admits the device state.
pub fn default_vfio_scenario() -> Scenario {
    let mut s = default_scenario();
    s.name = "default-vfio".into();
    s.devices.push(DeviceConfig {
        name: "0000:00:06.0/vfio".into(),
        kind: DeviceKind::Vfio,
        precopy: Some(true),
        initial_bytes: Some(ByteSize(512 * MIB)),
        precopy_dirty_rate: Some(Rate(4.0 * MIB as f64)),
        stop_copy_bytes: Some(ByteSize(3 * GIB / 2)),
        read_bandwidth: Some(Rate(4e9)),
        stop_transition_ms: Some(20.0),
        config_bytes: Some(ByteSize(4 * KIB)),
        config_save_us: Some(300.0),
        multifd_transfer: Some(MultifdTransfer::Auto),
        switchover_ack: Some(true),
        ..DeviceConfig::default()
    });
    s.migration.parameters.avail_switchover_bandwidth = ByteSize(1_250_000_000);
    s.migration.parameters.downtime_limit = 2500;
    s
}
