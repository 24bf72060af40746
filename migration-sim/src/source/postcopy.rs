//! Postcopy: the switch (discard bitmap, device package), background
//! sending with page requests from the destination, completion, and
//! recovery after a paused postcopy (model §1.12, §3.8).

use super::counters::Counters;
use super::{limit_of, Pc, Shared, Source, MAX_WAIT_NS, SECTION_OVERHEAD};
use crate::destination::{DestAction, DestStats};
use crate::memory::TakeOutcome;
use crate::status::MigrationStatus;
use crate::units::{ceil_ns, ms_clock, ms_to_ns, us_to_ns, Nanos, NS_PER_S};

impl Source {
    pub(super) fn postcopy_package_sent(&mut self, now: Nanos, sh: &mut Shared) {
        self.run.downtime_ms = Some(ms_clock(now) - ms_clock(self.run.downtime_start_ns));
        self.run.in_postcopy = true;
        self.run.rate_limit = limit_of(self.params.max_postcopy_bandwidth.0);
        self.run.rate_start_bytes = self.run.c.transferred;
        self.set_status(now, MigrationStatus::PostcopyDevice, sh);
        self.pc = Pc::PassStart;
    }

    pub(super) fn recover_connected(&mut self, now: Nanos, sh: &mut Shared) {
        if !self.link_up {
            self.set_status(now, MigrationStatus::PostcopyPaused, sh);
            self.pc = Pc::WaitResume;
            return;
        }
        self.set_status(now, MigrationStatus::PostcopyRecover, sh);
        sh.dest.schedule(now + self.latency_ns, DestAction::Status(MigrationStatus::PostcopyRecover));
        // The destination sends its received bitmap back.
        let bitmap = self.engine.total_pages().div_ceil(8);
        let dur = 2 * self.latency_ns + self.link_ns(bitmap);
        self.begin(now, dur, Counters::default(), Pc::RecoverDone);
    }

    pub(super) fn recover_done(&mut self, now: Nanos, sh: &mut Shared) {
        self.set_status(now, MigrationStatus::PostcopyActive, sh);
        sh.dest.schedule(now + self.latency_ns, DestAction::Status(MigrationStatus::PostcopyActive));
        self.run.error_desc = None;
        self.run.requests_from = now;
        self.pc = Pc::PassStart;
    }

    pub(super) fn postcopy_start(&mut self, now: Nanos, sh: &mut Shared) {
        self.run.downtime_start_ns = now;
        self.stop_guest(now, sh);
        self.set_status(now, MigrationStatus::Device, sh);
        self.run.rate_limit = None;
        self.begin(now, ms_to_ns(self.costs.vm_stop_ms), Counters::default(), Pc::PostcopyStopped);
    }

    pub(super) fn postcopy_discard(&mut self, now: Nanos, sh: &mut Shared) {
        self.do_sync(now, sh);
        // One discard record per run of pages dirtied on the source.
        let runs = self.engine.pending_runs();
        let mut d = Counters::default();
        Self::add_non_ram(&mut d, 32 + 16 * runs);
        let dur = self.sync_cost_ns() + self.link_ns(32 + 16 * runs);
        self.begin(now, dur, d, Pc::PostcopyPackage);
    }

    pub(super) fn postcopy_package(&mut self, now: Nanos, sh: &mut Shared) {
        // The package: LISTEN, every non-iterable device state, pings, RUN.
        let mut d = Counters::default();
        let mut t = us_to_ns(self.costs.vcpu_sync_us * f64::from(self.vcpus));
        let mut load = self.dest_package_load_ns;
        for dev in &self.devices {
            let dur = dev.save_ns + self.link_ns(dev.bytes + SECTION_OVERHEAD);
            Self::add_non_ram(&mut d, dev.bytes + SECTION_OVERHEAD);
            d.device_bytes += dev.bytes;
            self.run.save_times.push((dev.name.clone(), dev.instance_id, dur / 1000));
            t += dur;
            load += dev.load_ns;
        }
        Self::add_non_ram(&mut d, 64);
        t += self.link_ns(64);
        let arrival = now + t + self.latency_ns;
        // LISTEN arrives first: the destination enters postcopy-device, then
        // loads the package and RUNs the guest; the PONG comes back.
        sh.dest.schedule(now + self.latency_ns, DestAction::Status(MigrationStatus::PostcopyDevice));
        let run = sh.dest.load(arrival, load);
        sh.dest.schedule(run, DestAction::Status(MigrationStatus::PostcopyActive));
        sh.dest.schedule(run, DestAction::VmStart);
        self.run.dest_run_ns = Some(run);
        self.run.requests_from = run;
        self.run.pong_ns = Some(run + self.latency_ns);
        self.begin(now, t, d, Pc::PostcopyPackageSent);
    }

    /// Pages the destination guest faults on during `[now, now + dur)`:
    /// requested, and sent urgently ahead of the background stream.
    pub(super) fn serve_requests(&mut self, now: Nanos, dur: Nanos, d: &mut Counters) -> f64 {
        if self.status == MigrationStatus::PostcopyPaused || !self.link_up {
            return 0.0;
        }
        let from = now.max(self.run.requests_from);
        let end = now + dur;
        if end <= from {
            return 0.0;
        }
        self.run.requests_from = end;
        let (zero, other) = self.engine.postcopy_access((end - from) as f64 / NS_PER_S as f64);
        if zero + other == 0 {
            return 0.0;
        }
        d.postcopy_requests += zero + other;
        let out = TakeOutcome { zero, normal: other, ..TakeOutcome::default() };
        self.account_take(d, &out)
    }

    pub(super) fn postcopy_iterate(&mut self, now: Nanos) {
        self.run.iterate_calls += 1;
        // Multifd is off in postcopy, so the wrap syncs are no-ops here.
        let (mut d, _, mut t) = self.send_ram_section(self.budget_left(), MAX_WAIT_NS, false, false);
        let dur = ceil_ns(t).max(1);
        t += self.serve_requests(now, dur, &mut d);
        if self.run.rate_limit.is_some_and(|l| self.run.c.transferred + d.transferred - self.run.rate_start_bytes > l) {
            self.run.win_exceeded = true;
        }
        self.run.pass_sent = true;
        self.begin(now, ceil_ns(t).max(1), d, Pc::RateLimit);
    }

    pub(super) fn postcopy_complete(&mut self, now: Nanos, sh: &mut Shared) {
        if self.status == MigrationStatus::PostcopyDevice {
            // Everything is sent before the PONG came back: wait for it.
            if let Some(p) = self.run.pong_ns {
                self.begin(now, p.saturating_sub(now).max(1), Counters::default(), Pc::PostcopyComplete);
                return;
            }
        }
        // The RAM section's end marker (not accounted to RAM at completion)
        // and the EOF byte.
        let mut d = Counters::default();
        Self::add_non_ram(&mut d, 8 + 1);
        let dur = self.link_ns(d.main_bytes);
        let arrival = now + dur + self.latency_ns;
        self.run.dest_done_ns = sh.dest.load(arrival, 0);
        let stats = DestStats {
            transferred: self.run.c.transferred + d.transferred,
            normal: self.run.c.normal,
            zero: self.run.c.zero,
            xbzrle: self.run.c.xbz_pages,
        };
        sh.dest.schedule(self.run.dest_done_ns, DestAction::Complete(stats));
        let shut = self.run.dest_done_ns + self.latency_ns;
        self.begin(now, shut.saturating_sub(now).max(dur).max(1), d, Pc::PostcopyFinish);
    }
}
