//! The devices whose state the source saves: plain vmstate sections and
//! VFIO devices with precopy data, stop-copy state and a config section
//! (model §1.5, §1.11, §3.9).

use super::Source;
use crate::config::{DeviceKind, MultifdTransfer, Scenario};
use crate::units::{ms_to_ns, us_to_ns, Nanos, NS_PER_S};

/// A device in handler order.
#[derive(Debug, Clone)]
pub(crate) struct Device {
    pub name: String,
    pub instance_id: u32,
    pub bytes: u64,
    pub save_ns: Nanos,
    pub load_ns: Nanos,
    pub vfio: Option<Vfio>,
}

/// VFIO device migration state.
#[derive(Debug, Clone)]
pub(crate) struct Vfio {
    pub(super) precopy: bool,
    pub(super) initial_bytes: u64,
    pub(super) dirty_rate: f64,
    pub(super) stop_only: u64,
    pub(super) read_bw: f64,
    pub(super) stop_transition_ns: Nanos,
    pub(super) config_bytes: u64,
    pub(super) config_save_ns: Nanos,
    pub(super) multifd: bool,
    pub(super) needs_ack: bool,
    // Per migration.
    pub(super) initial_rem: u64,
    pub(super) stop_rem: u64,
    pub(super) dirty_rem: f64,
    pub(super) cached_stop: u64,
    pub(super) initial_done: Option<Nanos>,
    pub(super) last_update: Nanos,
    pub(super) in_precopy: bool,
    pub(super) stop_sent: bool,
}

impl Vfio {
    pub(super) fn stop_copy_size(&self) -> u64 {
        self.initial_rem + self.dirty_rem as u64 + self.stop_rem
    }
    pub(super) fn estimate(&self) -> u64 {
        if self.precopy && self.in_precopy {
            self.initial_rem + self.dirty_rem as u64
        } else {
            0
        }
    }
}

impl Vfio {
    /// The VFIO state of a device of the scenario (none for vmstate devices).
    pub(super) fn of(d: &crate::config::DeviceConfig) -> Option<Vfio> {
        (d.kind == DeviceKind::Vfio).then(|| Vfio {
            precopy: d.precopy.unwrap_or(true),
            initial_bytes: d.initial_bytes.map_or(0, |b| b.0),
            dirty_rate: d.precopy_dirty_rate.map_or(0.0, |r| r.0),
            stop_only: d.stop_copy_bytes.map_or(0, |b| b.0),
            read_bw: d.read_bandwidth.map_or(4e9, |r| r.0),
            stop_transition_ns: ms_to_ns(d.stop_transition_ms.unwrap_or(20.0)),
            config_bytes: d.config_bytes.map_or(4096, |b| b.0),
            config_save_ns: us_to_ns(d.config_save_us.unwrap_or(300.0)),
            multifd: d.multifd_transfer.unwrap_or_default() == MultifdTransfer::Auto,
            needs_ack: d.switchover_ack.unwrap_or(true),
            initial_rem: 0,
            stop_rem: 0,
            dirty_rem: 0.0,
            cached_stop: 0,
            initial_done: None,
            last_update: 0,
            in_precopy: false,
            stop_sent: false,
        })
    }

    /// A new migration: all device data is still to be sent.
    pub(super) fn reset(&mut self, now: Nanos) {
        self.initial_rem = self.initial_bytes;
        self.stop_rem = self.stop_only;
        self.dirty_rem = 0.0;
        self.cached_stop = 0;
        self.initial_done = None;
        self.in_precopy = false;
        self.stop_sent = false;
        self.last_update = now;
    }
}

/// The scenario's devices in QEMU's handler order: higher priority first,
/// registration order within a priority; a per-vCPU device once per vCPU.
pub(super) fn handler_order(s: &Scenario) -> Vec<Device> {
    let mut devices: Vec<(i32, usize, Device)> = Vec::new();
    for (idx, d) in s.devices.iter().enumerate() {
        let ids: Vec<u32> = if d.per_vcpu { (0..s.guest.vcpus).collect() } else { vec![d.instance_id] };
        for id in ids {
            let save_us = if d.kind == DeviceKind::Vfio { d.config_save_us.unwrap_or(300.0) } else { d.save_us };
            let device = Device {
                name: d.name.clone(),
                instance_id: id,
                bytes: d.bytes.0,
                save_ns: us_to_ns(d.save_us),
                load_ns: us_to_ns(d.load_us.unwrap_or(save_us)),
                vfio: Vfio::of(d),
            };
            devices.push((d.priority, idx, device));
        }
    }
    devices.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    devices.into_iter().map(|(_, _, d)| d).collect()
}

impl Source {
    pub(super) fn apply_vfio_dec(&mut self, dec: Option<(usize, u64)>, num: u64, den: u64) {
        if let Some((i, bytes)) = dec {
            if let Some(v) = self.devices.get_mut(i).and_then(|d| d.vfio.as_mut()) {
                let part = (bytes as u128 * num as u128 / den.max(1) as u128) as u64;
                v.cached_stop = v.cached_stop.saturating_sub(part);
            }
        }
    }

    pub(super) fn vfio_update(&mut self, now: Nanos) {
        if self.vfio_count == 0 {
            return;
        }
        for d in &mut self.devices {
            if let Some(v) = &mut d.vfio {
                if v.in_precopy && v.dirty_rate > 0.0 && now > v.last_update {
                    let add = v.dirty_rate * (now - v.last_update) as f64 / NS_PER_S as f64;
                    // Device data that changes can never exceed the state.
                    v.dirty_rem = (v.dirty_rem + add).min(v.initial_bytes.max(v.stop_only) as f64);
                }
                v.last_update = now;
            }
        }
    }

    pub(super) fn has_vfio(&self) -> bool {
        self.vfio_count > 0
    }

    /// Switchover allowed (model §1.5 "allowed").
    pub(super) fn can_switchover(&self, now: Nanos) -> bool {
        if !self.caps.switchover_ack || !self.guest_running {
            return true;
        }
        let mut ack_at = self.run.thread_start_ns + 2 * self.latency_ns;
        for d in &self.devices {
            if let Some(v) = &d.vfio {
                if v.needs_ack && v.precopy {
                    match v.initial_done {
                        Some(t) => ack_at = ack_at.max(t + 2 * self.latency_ns),
                        None => return false,
                    }
                }
            }
        }
        now >= ack_at
    }
}
