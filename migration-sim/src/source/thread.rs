//! The migration thread's setup and loop: connect, setup, each pass's
//! switchover test and iterate calls, the rate-limit sleep (model §1.3,
//! §1.5, §3.6).

use super::counters::Counters;
use super::devices::Vfio;
use super::{
    limit_of, Pc, Shared, Source, BUFFER_DELAY_MS, DIRTY_SYNC_TIMER_NS, MAX_WAIT_NS, MULTIFD_HANDSHAKE,
    MULTIFD_PACKET_HEADER, SECTION_OVERHEAD, VFIO_BUFFER,
};
use crate::destination::DestAction;
use crate::status::MigrationStatus;
use crate::transport::Transport;
use crate::units::{ceil_ns, ms_clock, ms_to_ns, us_to_ns, Nanos, NS_PER_MS};

impl Source {
    /// Run one step of the thread's logic at `now`.
    pub(crate) fn step(&mut self, now: Nanos, sh: &mut Shared) {
        match self.pc {
            Pc::Idle | Pc::WaitContinue | Pc::WaitResume => {}
            Pc::Connected => self.on_connected(now, sh),
            Pc::SetupWork => self.setup_work(now, sh),
            Pc::SetupSynced => self.setup_synced(now, sh),
            Pc::PassStart => self.pass_start(now, sh),
            Pc::IterationRun => self.iteration_run(now, sh),
            Pc::Decide(exact) => self.decide(now, exact, sh),
            Pc::IterateRam => self.iterate_ram(now),
            Pc::IterateVfio(i) => self.iterate_vfio(now, i),
            Pc::IterateDone => self.iterate_done(now),
            Pc::RateLimit => self.rate_limit_step(now),
            Pc::CompleteStopped => self.complete_stopped(now, sh),
            Pc::CompleteRam => self.complete_ram(now, sh),
            Pc::CompleteVfio(i) => self.complete_vfio(now, i, sh),
            Pc::CompleteVcpuSync => self.complete_vcpu_sync(now),
            Pc::CompleteDevice(i) => self.complete_device(now, i, sh),
            Pc::CompleteEof => self.complete_eof(now, sh),
            Pc::CompleteWaitRp => self.complete_wait_rp(now, sh),
            Pc::CompleteFinish | Pc::PostcopyFinish => self.finish(now, sh),
            Pc::PostcopyStopped => self.postcopy_discard(now, sh),
            Pc::PostcopyPackage => self.postcopy_package(now, sh),
            Pc::PostcopyPackageSent => self.postcopy_package_sent(now, sh),
            Pc::PostcopyIterate => self.postcopy_iterate(now),
            Pc::PostcopyComplete => self.postcopy_complete(now, sh),
            Pc::RecoverConnected => self.recover_connected(now, sh),
            Pc::RecoverDone => self.recover_done(now, sh),
            Pc::CleanupCancelled => {
                self.set_status(now, MigrationStatus::Cancelled, sh);
                self.pc = Pc::Idle;
            }
        }
    }

    /// Setup: the first dirty sync, every VFIO device's save_setup.
    pub(super) fn setup_work(&mut self, now: Nanos, sh: &mut Shared) {
        self.do_sync(now, sh);
        for d in &mut self.devices {
            if let Some(v) = &mut d.vfio {
                // save_setup: the device enters PRE_COPY and its stop-copy
                // size is queried once.
                v.in_precopy = v.precopy;
                v.last_update = now;
                v.cached_stop = v.stop_copy_size();
            }
        }
        self.begin(now, self.sync_cost_ns(), Counters::default(), Pc::SetupSynced);
    }

    pub(super) fn setup_synced(&mut self, now: Nanos, sh: &mut Shared) {
        if self.transport == Transport::Exec && !sh.dest.listening {
            // The command started but nothing takes the stream: RAM's setup
            // fails to write (QEMU 10.0.2 with exec:false).
            self.thread_failed(now, "ram_save_setup failed: Input/output error".into(), sh);
            return;
        }
        if let Some(error) = self.save_setup_fault.take() {
            self.thread_failed(now, error, sh);
            return;
        }
        self.set_status(now, MigrationStatus::Active, sh);
        self.run.setup_time_ms = Some(ms_clock(now) - ms_clock(self.run.thread_start_ns));
        self.pc = Pc::PassStart;
    }

    pub(super) fn iterate_done(&mut self, now: Nanos) {
        if self.run.pass_sent {
            self.pc = Pc::RateLimit;
        } else {
            // Nothing to send: the pass still costs loop time.
            self.begin(now, us_to_ns(self.costs.loop_min_cost_us).max(1), Counters::default(), Pc::RateLimit);
        }
    }

    pub(super) fn on_connected(&mut self, now: Nanos, sh: &mut Shared) {
        match &self.transport {
            Transport::File { path, .. } if !self.link_up => {
                let error = format!("Could not create '{path}': Input/output error");
                self.connect_failed(now, error, sh);
                return;
            }
            Transport::Socket { .. } if !sh.dest.listening || !self.link_up => {
                let errno = if self.link_up { self.connect_error.clone() } else { self.link_error.clone() };
                self.connect_failed(now, format!("Failed to connect to '{}': {errno}", self.uri_target), sh);
                return;
            }
            _ => {}
        }
        self.start_thread(now);
        let mut d = Counters::default();
        // Stream header, configuration section, RAM block list.
        let blocks = self.engine.layout().classes.len() as u64;
        Self::add_non_ram(&mut d, 64 + 32 * blocks);
        for dev in &self.devices {
            if dev.vfio.is_some() {
                Self::add_non_ram(&mut d, 32);
            }
        }
        if self.multifd_active() && !self.mapped_ram() {
            let bytes = self.channels() * (MULTIFD_HANDSHAKE + MULTIFD_PACKET_HEADER);
            d.multifd_bytes += bytes;
            d.transferred += bytes;
        }
        let setup = ms_to_ns(self.costs.setup_fixed_ms + self.costs.setup_ms_per_gib * self.ram_gib);
        let dur = setup.max(self.link_ns(d.main_bytes));
        if !self.transport.is_file() && sh.dest.listening {
            // The destination goes active when the first byte arrives.
            sh.dest.schedule(now + self.latency_ns, DestAction::Status(MigrationStatus::Active));
        }
        self.begin(now, dur, d, Pc::SetupWork);
    }

    /// The main channel could not be opened: the thread never starts.
    fn connect_failed(&mut self, now: Nanos, error: String, sh: &mut Shared) {
        self.run.error_desc = Some(error);
        self.set_status(now, MigrationStatus::Failed, sh);
        self.pc = Pc::Idle;
    }

    /// The migration thread starts: the first statistics window and the
    /// rate limit begin.
    fn start_thread(&mut self, now: Nanos) {
        self.run.thread_start_ns = now;
        let now_ms = ms_clock(now);
        self.run.win_start_ms = now_ms;
        self.run.win_start_bytes = 0;
        self.run.win_start_pages = 0;
        self.run.rate_start_bytes = 0;
        self.run.rate_limit = limit_of(self.params.max_bandwidth.0);
        self.run.win.expected_downtime_ms = self.params.downtime_limit;
        self.run.period_start_ms = now_ms;
        self.run.period_xfer_start = 0;
        self.run.ac_next_tick = now + DIRTY_SYNC_TIMER_NS;
        self.run.ac_count_at_tick = 0;
    }

    pub(super) fn pass_start(&mut self, now: Nanos, sh: &mut Shared) {
        if self.caps.auto_converge && !self.run.in_postcopy {
            // The periodic dirty sync (QEMU 9.2+): a sync every 5 s if no
            // sync happened since the previous tick.
            while now >= self.run.ac_next_tick {
                if self.run.sync_count == self.run.ac_count_at_tick && self.run.sync_count > 1 {
                    self.do_sync(now, sh);
                }
                self.run.ac_count_at_tick = self.run.sync_count;
                self.run.ac_next_tick += DIRTY_SYNC_TIMER_NS;
            }
        }
        self.vfio_update(now);
        self.run.pass_sent = false;
        if self.run.in_postcopy {
            if self.engine.pending_pages() == 0 {
                self.pc = Pc::PostcopyComplete;
            } else if !self.rate_exceeded() {
                self.pc = Pc::PostcopyIterate;
            } else {
                self.pc = Pc::RateLimit;
            }
            return;
        }
        self.pc = if self.rate_exceeded() { Pc::RateLimit } else { Pc::IterationRun };
    }

    pub(super) fn iteration_run(&mut self, now: Nanos, sh: &mut Shared) {
        let mut est = self.ram_pending_bytes();
        if self.vfio_count > 0 {
            est += self.devices.iter().filter_map(|d| d.vfio.as_ref()).map(Vfio::estimate).sum::<u64>();
        }
        if est < self.run.win.threshold {
            // Exact query: RAM syncs its bitmap, VFIO reports stop-copy.
            self.do_sync(now, sh);
            self.begin(now, self.sync_cost_ns(), Counters::default(), Pc::Decide(true));
        } else {
            self.pc = Pc::Decide(false);
        }
    }

    pub(super) fn decide(&mut self, now: Nanos, exact: bool, sh: &mut Shared) {
        self.vfio_update(now);
        let ram = self.ram_pending_bytes();
        let mut vfio = 0u64;
        let devices = if self.vfio_count > 0 { &mut self.devices[..] } else { &mut [] };
        for d in devices {
            if let Some(v) = &mut d.vfio {
                if exact {
                    v.cached_stop = v.stop_copy_size();
                    vfio += v.cached_stop;
                } else {
                    vfio += v.estimate();
                }
            }
        }
        let pending = ram + vfio;
        let must = vfio + if self.caps.postcopy_ram { 0 } else { ram };
        let allowed = self.can_switchover(now);
        if self.run.postcopy_requested && must <= self.run.win.threshold && allowed {
            self.postcopy_start(now, sh);
        } else if allowed && pending <= self.run.win.threshold {
            self.complete_start(now, sh);
        } else if let Some(k) = self.batch_windows(now) {
            self.iterate_batch(now, k);
        } else {
            self.pc = Pc::IterateRam;
        }
    }

    pub(super) fn iterate_ram(&mut self, now: Nanos) {
        self.run.iterate_calls += 1;
        let xbzrle = self.caps.xbzrle && !self.run.in_postcopy;
        let (d, out, t) = self.send_ram_section(self.budget_left(), MAX_WAIT_NS, xbzrle, false);
        if out.pages() > 0 {
            self.run.pass_sent = true;
        }
        if self.run.rate_limit.is_some_and(|l| self.run.c.transferred + d.transferred - self.run.rate_start_bytes > l) {
            self.run.win_exceeded = true;
        }
        self.begin(now, ceil_ns(t), d, Pc::IterateVfio(0));
    }

    pub(super) fn iterate_vfio(&mut self, now: Nanos, from: usize) {
        let end = if self.vfio_count > 0 { self.devices.len() } else { 0 };
        for i in from..end {
            if self.rate_exceeded() {
                break;
            }
            let link = self.link_bw.min(self.costs.main_channel_max_bandwidth.0);
            let Some(v) = self.devices[i].vfio.as_mut() else { continue };
            if !(v.precopy && v.in_precopy) {
                continue;
            }
            let avail = v.initial_rem + v.dirty_rem as u64;
            if avail == 0 {
                continue;
            }
            let chunk = avail.min(VFIO_BUFFER);
            let from_initial = chunk.min(v.initial_rem);
            v.initial_rem -= from_initial;
            v.dirty_rem = (v.dirty_rem - (chunk - from_initial) as f64).max(0.0);
            let dur = ceil_ns(chunk as f64 * 1e9 / v.read_bw.min(link));
            if from_initial > 0 && v.initial_rem == 0 {
                v.initial_done = Some(now + dur);
            }
            let mut d = Counters::default();
            Self::add_non_ram(&mut d, chunk + SECTION_OVERHEAD + 16);
            d.vfio_transferred += chunk;
            d.device_bytes += chunk;
            self.run.pass_sent = true;
            self.begin(now, dur, d, Pc::IterateVfio(i + 1));
            return;
        }
        self.pc = Pc::IterateDone;
    }

    pub(super) fn rate_limit_step(&mut self, now: Nanos) {
        self.update_counters(now);
        if self.rate_exceeded() {
            self.run.win_exceeded = true;
            let wake = (self.run.win_start_ms + BUFFER_DELAY_MS) * NS_PER_MS;
            if wake > now {
                let mut d = Counters::default();
                if self.run.in_postcopy {
                    // Page requests wake the thread early; serve them over
                    // the sleep.
                    self.serve_requests(now, wake - now, &mut d);
                }
                self.begin(now, wake - now, d, Pc::PassStart);
                return;
            }
        }
        self.pc = Pc::PassStart;
    }
}
