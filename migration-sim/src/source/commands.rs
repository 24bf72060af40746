//! Management commands on the source (`migrate`, `migrate_cancel`,
//! `migrate-set-parameters`, ...) and the simulator's link controls, with
//! QEMU's refusals (model §3.12).

use super::counters::Counters;
use super::{limit_of, CmdResult, Pc, Run, Shared, Source};
use crate::config::{Capabilities, ParameterUpdate};
use crate::destination::DestAction;
use crate::status::{MigrationStatus, RunState};
use crate::units::{ms_to_ns, Nanos};

impl Source {
    /// `migrate` (not resume).
    pub(crate) fn migrate(&mut self, now: Nanos, sh: &mut Shared) -> CmdResult {
        if self.status.is_running() {
            return Err("There's a migration process in progress".into());
        }
        if self.runstate == RunState::Postmigrate {
            return Err("Can't migrate the vm that was paused due to previous migration".into());
        }
        self.transport.check_capabilities(&self.caps, &self.params)?;
        // A new migration overwrites the old terminal state with `none`
        // silently (no event), then goes `setup`.
        self.status = MigrationStatus::None;
        self.engine.reset(self.params.xbzrle_cache_size.0);
        self.run = Run { start_ns: now, downtime_limit_at_start: self.params.downtime_limit, ..Run::default() };
        for v in self.devices.iter_mut().filter_map(|d| d.vfio.as_mut()) {
            v.reset(now);
        }
        self.vm_old_state = self.runstate;
        self.guest_running = self.runstate == RunState::Running;
        self.write_cursor = now;
        self.set_status(now, MigrationStatus::Setup, sh);
        if !self.transport.is_file() {
            sh.dest.start_incoming(now, &mut sh.events);
        }
        self.begin(now, self.connect_ns, Counters::default(), Pc::Connected);
        Ok(())
    }

    /// `migrate_cancel`.
    pub(crate) fn cancel(&mut self, now: Nanos, sh: &mut Shared) -> CmdResult {
        if self.status.is_postcopy() {
            return Err("Postcopy migration in progress, cannot cancel.".into());
        }
        if !self.status.is_running() || self.status == MigrationStatus::Cancelling {
            return Ok(());
        }
        if self.pc == Pc::Connected {
            // Still connecting: no channel to shut down, straight to
            // cancelled.
            self.seg = None;
            self.set_status(now, MigrationStatus::Cancelled, sh);
            self.pc = Pc::Idle;
            return Ok(());
        }
        self.truncate(now);
        self.flush_writes(now);
        self.set_status(now, MigrationStatus::Cancelling, sh);
        // The socket is shut down: the thread fails its next write and
        // exits; the destination sees the stream break.
        self.thread_exit_restart(now, sh);
        self.dest_stream_broken(now, sh);
        self.run.cleanup_at = now + ms_to_ns(self.costs.cleanup_ms);
        self.begin(now, self.run.cleanup_at - now, Counters::default(), Pc::CleanupCancelled);
        Ok(())
    }

    pub(super) fn dest_stream_broken(&mut self, now: Nanos, sh: &mut Shared) {
        let t = now + self.latency_ns;
        sh.dest.cancel_after(now);
        if sh.dest.status.is_running() || sh.dest.next_time().is_some() {
            sh.dest.schedule(t, DestAction::Fail("load of migration failed: Input/output error".into()));
        }
    }

    /// `migrate-set-parameters`.
    pub(crate) fn set_parameters(&mut self, now: Nanos, u: &ParameterUpdate) -> CmdResult {
        let merged = u.apply_to(&self.params);
        merged.check_update(&self.params, self.page_size, &self.caps).map_err(|e| e.message)?;
        let old = std::mem::replace(&mut self.params, merged);
        let running = self.status.is_running() && self.pc != Pc::Idle;
        if running
            && old.max_bandwidth != self.params.max_bandwidth
            && !self.run.in_postcopy
            && self.rate_limit_enabled()
        {
            self.run.rate_limit = limit_of(self.params.max_bandwidth.0);
        }
        if running && old.max_postcopy_bandwidth != self.params.max_postcopy_bandwidth && self.run.in_postcopy {
            self.run.rate_limit = limit_of(self.params.max_postcopy_bandwidth.0);
        }
        if old.xbzrle_cache_size != self.params.xbzrle_cache_size {
            self.engine.resize_xbzrle_cache(self.params.xbzrle_cache_size.0);
        }
        let _ = now;
        Ok(())
    }

    pub(super) fn rate_limit_enabled(&self) -> bool {
        // During the switchover the limit is off; elsewhere it follows the
        // parameter.
        !matches!(self.status, MigrationStatus::Device | MigrationStatus::PreSwitchover | MigrationStatus::Completed)
    }

    /// `migrate-set-capabilities`.
    pub(crate) fn set_capabilities(&mut self, caps: Capabilities) -> CmdResult {
        if self.status.is_running() {
            return Err("There's a migration process in progress".into());
        }
        caps.check(&self.params, self.dirty_ring_size).map_err(|e| e.message)?;
        if caps.postcopy_ram && self.has_vfio() {
            return Err("VFIO devices do not support postcopy".into());
        }
        self.caps = caps;
        Ok(())
    }

    /// `migrate-start-postcopy`.
    pub(crate) fn start_postcopy(&mut self) -> CmdResult {
        if !self.caps.postcopy_ram {
            return Err("Enable postcopy with migrate_set_capability before the start of migration".into());
        }
        if !self.status.is_running() {
            return Err("Postcopy must be started after migration has been started".into());
        }
        self.run.postcopy_requested = true;
        Ok(())
    }

    /// `migrate-continue`.
    pub(crate) fn migrate_continue(&mut self, now: Nanos, state: MigrationStatus, sh: &mut Shared) -> CmdResult {
        if self.status != state {
            return Err(format!("Migration not in expected state: {}", self.status));
        }
        if self.pc == Pc::WaitContinue {
            self.enter_device(now, sh);
        }
        Ok(())
    }

    /// `migrate` with `resume: true`.
    pub(crate) fn resume(&mut self, now: Nanos, sh: &mut Shared) -> CmdResult {
        if self.status != MigrationStatus::PostcopyPaused {
            return Err("Cannot resume if there is no paused migration".into());
        }
        self.set_status(now, MigrationStatus::PostcopyRecoverSetup, sh);
        self.begin(now, self.connect_ns, Counters::default(), Pc::RecoverConnected);
        Ok(())
    }

    /// The link breaks: writes fail from now on.
    pub(crate) fn link_fail(&mut self, now: Nanos, error: String, sh: &mut Shared) {
        self.link_up = false;
        self.link_error = error.clone();
        if !self.status.is_running() || self.status == MigrationStatus::Cancelling {
            return;
        }
        match self.pc {
            // Connecting: the connect itself fails when it completes. Paused
            // before the switchover: the thread waits for migrate-continue
            // and finds the link broken when it writes again.
            Pc::Connected | Pc::RecoverConnected | Pc::Idle | Pc::WaitResume | Pc::WaitContinue => {}
            _ if self.status.is_postcopy() => self.postcopy_pause(now, error, sh),
            _ => self.thread_failed(now, error, sh),
        }
    }

    /// The migration thread failed on an error (QEMU's `migrate_set_error`
    /// and the thread's exit): the VM restarts if it stopped it, the
    /// destination sees its stream break. An error in the setup phase is
    /// only acted on when the setup returns, after the state went `active`.
    pub(super) fn thread_failed(&mut self, now: Nanos, error: String, sh: &mut Shared) {
        self.truncate(now);
        self.flush_writes(now);
        self.run.error_desc = Some(error);
        if self.status == MigrationStatus::Setup {
            self.set_status(now, MigrationStatus::Active, sh);
        }
        self.set_status(now, MigrationStatus::Failed, sh);
        self.thread_exit_restart(now, sh);
        self.dest_stream_broken(now, sh);
        self.pc = Pc::Idle;
    }

    /// A channel error in postcopy: the migration pauses (RAM is split
    /// between the two hosts, so it cannot fail).
    fn postcopy_pause(&mut self, now: Nanos, error: String, sh: &mut Shared) {
        self.truncate(now);
        self.run.error_desc = Some(error);
        self.set_status(now, MigrationStatus::PostcopyPaused, sh);
        self.run.pong_ns = None;
        self.pc = Pc::WaitResume;
        sh.dest.cancel_after(now);
        sh.dest.schedule(now + self.latency_ns, DestAction::Status(MigrationStatus::PostcopyPaused));
    }

    /// `cont`: a VM paused, or stopped by a completed migration, runs
    /// again (a VM the migration thread stops for its switchover is left
    /// alone: the simulator does not model `cont` racing the switchover).
    pub(crate) fn cont(&mut self, now: Nanos, sh: &mut Shared) -> CmdResult {
        if matches!(self.runstate, RunState::Paused | RunState::Postmigrate) {
            self.runstate = RunState::Running;
            self.guest_running = true;
            self.write_cursor = now;
            sh.events.emit(crate::events::Side::Source, now, crate::events::Event::Resume);
        }
        Ok(())
    }

    /// The destination failed and closed the stream (the network is fine):
    /// a source still writing fails as on a broken connection.
    pub(crate) fn peer_lost(&mut self, now: Nanos, sh: &mut Shared) {
        let (up, error) = (self.link_up, self.link_error.clone());
        self.link_fail(now, self.transport.write_error().to_string(), sh);
        self.link_up = up;
        self.link_error = error;
    }

    /// The link works again.
    pub(crate) fn link_restore(&mut self) {
        self.link_up = true;
    }

    /// Change the link bandwidth.
    pub(crate) fn set_link_bandwidth(&mut self, bw: f64) {
        if bw > 0.0 && bw.is_finite() {
            self.link_bw = bw;
        }
    }

    /// Change a page class's write rate.
    pub(crate) fn set_write_rate(&mut self, now: Nanos, class: usize, rate: f64) {
        self.flush_writes(now);
        self.engine.set_write_rate(class, rate);
    }
}
