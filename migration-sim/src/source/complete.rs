//! Precopy completion: VM stop, `pre-switchover`, the iterable phase (RAM,
//! VFIO stop-copy, concurrently over multifd), the non-iterable device
//! sections, EOF and VM description, the return path's SHUT (model §1.11,
//! §3.7).

use super::counters::Counters;
use super::{Pc, Shared, Source, SECTION_OVERHEAD, VFIO_BUFFER};
use crate::destination::{DestAction, DestStats, SavedFile};
use crate::report::DeviceSaveStateTime;
use crate::status::{MigrationStatus, RunState};
use crate::transport::Transport;
use crate::units::{ceil_ns, ms_clock, ms_to_ns, us_to_ns, Nanos};

impl Source {
    pub(super) fn complete_stopped(&mut self, now: Nanos, sh: &mut Shared) {
        if self.caps.pause_before_switchover {
            self.set_status(now, MigrationStatus::PreSwitchover, sh);
            self.pc = Pc::WaitContinue;
        } else {
            self.enter_device(now, sh);
        }
    }

    pub(super) fn complete_vcpu_sync(&mut self, now: Nanos) {
        let dur = us_to_ns(self.costs.vcpu_sync_us * f64::from(self.vcpus));
        self.begin(now, dur, Counters::default(), Pc::CompleteDevice(0));
    }

    pub(super) fn complete_eof(&mut self, now: Nanos, sh: &mut Shared) {
        let mut d = Counters::default();
        let bytes = 1 + self.costs.vmdesc_bytes.0;
        Self::add_non_ram(&mut d, bytes);
        let dur = self.link_ns(bytes);
        self.begin(now, dur, d, Pc::CompleteWaitRp);
        // The destination loads the tail, starts the VM, completes.
        let arrival = now + dur + self.latency_ns;
        let loaded = sh.dest.load(arrival, 0);
        self.run.dest_done_ns = loaded + self.dest_vm_start_ns;
        if !self.transport.is_file() {
            self.schedule_dest_completion(sh, self.run.dest_done_ns);
        }
    }

    pub(super) fn complete_wait_rp(&mut self, now: Nanos, sh: &mut Shared) {
        if self.caps.has_return_path() && self.transport.is_file() {
            // Nothing answers from a file (QEMU 10.0.2 fails here with
            // return-path or postcopy-ram on a file: URI).
            self.thread_failed(now, "Unable to read from file: Bad file descriptor".into(), sh);
            return;
        }
        if self.caps.has_return_path() {
            let shut = self.run.dest_done_ns + self.latency_ns;
            self.begin(now, shut.saturating_sub(now), Counters::default(), Pc::CompleteFinish);
        } else {
            self.pc = Pc::CompleteFinish;
        }
    }

    pub(super) fn complete_start(&mut self, now: Nanos, sh: &mut Shared) {
        self.run.downtime_start_ns = now;
        self.stop_guest(now, sh);
        self.begin(now, ms_to_ns(self.costs.vm_stop_ms), Counters::default(), Pc::CompleteStopped);
    }

    pub(super) fn enter_device(&mut self, now: Nanos, sh: &mut Shared) {
        self.set_status(now, MigrationStatus::Device, sh);
        self.run.rate_limit = None;
        self.begin(now, ms_to_ns(self.costs.block_inactivate_ms), Counters::default(), Pc::CompleteRam);
    }

    pub(super) fn complete_ram(&mut self, now: Nanos, sh: &mut Shared) {
        self.do_sync(now, sh);
        if !self.link_up {
            // The link broke while the thread waited in pre-switchover: its
            // first write fails.
            self.thread_failed(now, self.link_error.clone(), sh);
            return;
        }
        let (mut d, _, send) = self.send_ram_section(f64::INFINITY, f64::INFINITY, self.caps.xbzrle, true);
        if self.mapped_ram() {
            // The file's bitmaps of the pages present, one bit a page and a
            // 64-bit word at least per RAMBlock (QEMU 10.0.2: 2,088 bytes of
            // downtime-bytes for a 64 MiB PC guest).
            let bitmap_bytes = self.ram_blocks().iter().map(|&pages| pages.div_ceil(64) * 8).sum();
            self.add_marker(&mut d, bitmap_bytes);
        }
        // The final flush (counters are sums: its place before or after the
        // section's end marker does not matter).
        self.multifd_sync(&mut d);
        let ram_ns = self.sync_cost_ns() + ceil_ns(send);
        self.run.save_times.push(("ram".into(), 0, ram_ns / 1000));
        // VFIO devices whose state goes over multifd are saved by their own
        // threads in parallel with RAM (QEMU 10.0+).
        let mut phase = ram_ns;
        if self.multifd_active() {
            let ch = self.channels() as f64;
            let mut bytes_total = (d.transferred) as f64;
            for dev in &mut self.devices {
                let Some(v) = dev.vfio.as_mut() else { continue };
                if !v.multifd {
                    continue;
                }
                let bytes = v.stop_copy_size();
                let dur = v.stop_transition_ns
                    + ceil_ns(bytes as f64 * 1e9 / v.read_bw.min(ch * self.costs.multifd_channel_bandwidth.0));
                d.multifd_bytes += bytes + 16 * bytes.div_ceil(VFIO_BUFFER);
                d.transferred += bytes + 16 * bytes.div_ceil(VFIO_BUFFER);
                d.vfio_transferred += bytes;
                d.device_bytes += bytes;
                bytes_total += bytes as f64;
                v.cached_stop = 0;
                v.initial_rem = 0;
                v.dirty_rem = 0.0;
                v.stop_rem = 0;
                v.stop_sent = true;
                v.in_precopy = false;
                phase = phase.max(dur);
                self.run.save_times.push((dev.name.clone(), dev.instance_id, dur / 1000));
                self.run.concurrent.push((dev.name.clone(), dev.instance_id));
            }
            phase = phase.max(ceil_ns(bytes_total * 1e9 / self.link_bw));
        }
        self.begin(now, phase, d, Pc::CompleteVfio(0));
    }

    pub(super) fn complete_vfio(&mut self, now: Nanos, from: usize, sh: &mut Shared) {
        let link = self.link_bw.min(self.costs.main_channel_max_bandwidth.0);
        for i in from..self.devices.len() {
            let latency = self.latency_ns;
            let dev = &mut self.devices[i];
            let Some(v) = dev.vfio.as_mut() else { continue };
            if v.stop_sent {
                continue;
            }
            v.in_precopy = false;
            let bytes = v.stop_copy_size();
            let dur = v.stop_transition_ns + ceil_ns(bytes as f64 * 1e9 / v.read_bw.min(link));
            v.initial_rem = 0;
            v.dirty_rem = 0.0;
            v.stop_rem = 0;
            // The cached size is what the last exact query said; it falls
            // as the stop-copy data goes out (see `Segment::vfio_dec`).
            let dec = v.cached_stop;
            v.stop_sent = true;
            let mut d = Counters::default();
            Self::add_non_ram(&mut d, bytes + SECTION_OVERHEAD + 16 * bytes.div_ceil(VFIO_BUFFER));
            d.vfio_transferred += bytes;
            d.device_bytes += bytes;
            self.run.save_times.push((dev.name.clone(), dev.instance_id, dur / 1000));
            // The destination resumes the device as the data arrives.
            sh.dest.load(now + dur + latency, 0);
            self.begin(now, dur, d, Pc::CompleteVfio(i + 1));
            if let Some(seg) = &mut self.seg {
                seg.vfio_dec = Some((i, dec));
            } else {
                self.apply_vfio_dec(Some((i, dec)), 1, 1);
            }
            return;
        }
        self.pc = Pc::CompleteVcpuSync;
    }

    /// Non-iterable sections: every vmstate device, and each VFIO device's
    /// config space, in handler order.
    pub(super) fn complete_device(&mut self, now: Nanos, i: usize, sh: &mut Shared) {
        let Some(dev) = self.devices.get(i) else {
            self.pc = Pc::CompleteEof;
            return;
        };
        let (bytes, save_ns) = match &dev.vfio {
            Some(v) => (v.config_bytes, v.config_save_ns),
            None => (dev.bytes, dev.save_ns),
        };
        let dur = save_ns + self.link_ns(bytes + SECTION_OVERHEAD);
        let mut d = Counters::default();
        Self::add_non_ram(&mut d, bytes + SECTION_OVERHEAD);
        d.device_bytes += bytes;
        self.run.save_times.push((dev.name.clone(), dev.instance_id, dur / 1000));
        sh.dest.load(now + dur + self.latency_ns, dev.load_ns);
        self.begin(now, dur, d, Pc::CompleteDevice(i + 1));
    }

    pub(super) fn schedule_dest_completion(&mut self, sh: &mut Shared, at: Nanos) {
        let stats = self.dest_stats();
        sh.dest.schedule(at, DestAction::VmStart);
        sh.dest.schedule(at, DestAction::Complete(stats));
    }

    /// What the destination will have received when the stream ends.
    fn dest_stats(&self) -> DestStats {
        DestStats {
            transferred: self.run.c.transferred + self.seg.map_or(0, |s| s.delta.transferred),
            normal: self.run.c.normal,
            zero: self.run.c.zero,
            xbzrle: self.run.c.xbz_pages,
        }
    }

    /// How long a destination takes to load the saved file: read it at the
    /// storage's speed, load every device, start the VM.
    fn file_load_ns(&self) -> Nanos {
        let read = self.link_ns(self.run.c.transferred);
        let devices: Nanos = self.devices.iter().map(|d| d.load_ns).sum();
        read + devices + self.dest_vm_start_ns
    }

    pub(super) fn finish(&mut self, now: Nanos, sh: &mut Shared) {
        let now_ms = ms_clock(now);
        if self.run.downtime_ms.is_none() {
            self.run.downtime_ms = Some(now_ms - ms_clock(self.run.downtime_start_ns));
        }
        let total = now_ms - ms_clock(self.run.start_ns);
        self.run.total_time_ms = Some(total);
        let transfer = total.saturating_sub(self.run.setup_time_ms.unwrap_or(0));
        if transfer > 0 {
            self.run.win.mbps = self.run.c.transferred as f64 * 8.0 / transfer as f64 / 1000.0;
        }
        self.set_status(now, MigrationStatus::Completed, sh);
        self.runstate = RunState::Postmigrate;
        self.run.throttle = 0;
        if let Transport::File { path, .. } = &self.transport {
            let saved = SavedFile { stats: self.dest_stats(), load_ns: self.file_load_ns() };
            sh.saved_files.insert(path.clone(), saved);
            sh.dest.file_saved(now, path, saved, &mut sh.events);
        }
        if self.features.device_state_times {
            // One entry per (name, instance id), VFIO iterable + config
            // summed, in order of first appearance; zero entries omitted.
            let mut out: Vec<DeviceSaveStateTime> = Vec::new();
            for (name, id, us) in &self.run.save_times {
                match out.iter_mut().find(|e| &e.name == name && e.instance_id == *id) {
                    Some(e) => e.save_time += us,
                    None => out.push(DeviceSaveStateTime { name: name.clone(), instance_id: *id, save_time: *us }),
                }
            }
            out.retain(|e| e.save_time > 0);
            self.run.device_state_times = Some(out);
        }
        self.pc = Pc::Idle;
    }
}
