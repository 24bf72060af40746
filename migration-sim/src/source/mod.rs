//! The outgoing QEMU: its migration thread, state machine and statistics
//! (model §1.1–§1.12, §3.6–§3.8).
//!
//! The migration thread is a program counter (`Pc`) stepped by the
//! simulation. A step does the thread's logic at the current instant and
//! either moves on or starts a *segment*: a stretch of simulated time with
//! the counter changes it causes (pages sent, device state written, a
//! sleep). Counters are committed when the segment ends; a query inside a
//! segment interpolates them linearly, so sampling never changes the run.
//! Management commands apply at the instant they are issued; a cancel or a
//! link failure cuts the running segment short.

mod batch;
mod commands;
mod complete;
mod counters;
mod devices;
mod postcopy;
mod query;
mod send;
mod stats;
mod thread;

pub(crate) use counters::Counters;
pub(crate) use devices::Device;

use self::batch::Batch;
use self::counters::Segment;
use self::stats::WindowStats;
use crate::config::{Capabilities, CpuCosts, Features, MigrationParameters, Scenario};
use crate::destination::Destination;
use crate::events::{Event, EventLog, Side};
use crate::memory::MemoryEngine;
use crate::report::DeviceSaveStateTime;
use crate::status::{MigrationStatus, RunState};
use crate::transport::Transport;
use crate::units::{ms_to_ns, Nanos, GIB, MIB, NS_PER_MS, NS_PER_S};

/// Statistics window length (QEMU's BUFFER_DELAY), ms.
const BUFFER_DELAY_MS: u64 = 100;
/// Longest RAM iterate call (QEMU's MAX_WAIT), ns.
const MAX_WAIT_NS: f64 = 50.0 * NS_PER_MS as f64;
/// Auto-converge dirty-sync timer period.
const DIRTY_SYNC_TIMER_NS: Nanos = 5 * NS_PER_S;
/// Multifd packet: header bytes for 4 KiB pages, and pages per packet.
const MULTIFD_PACKET_HEADER: u64 = 1344;
const MULTIFD_PACKET_PAGES: u64 = 128;
/// Multifd per-channel handshake.
const MULTIFD_HANDSHAKE: u64 = 64;
/// VFIO data buffer: one precopy iterate reads at most this much.
const VFIO_BUFFER: u64 = MIB;
/// Section header + footer around a handler's data on the main channel.
const SECTION_OVERHEAD: u64 = 10;

/// Steps of the migration thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pc {
    /// No migration thread.
    Idle,
    /// The main channel connect finished.
    Connected,
    /// Setup work done: first dirty sync.
    SetupWork,
    /// Setup sync done: `active`.
    SetupSynced,
    /// Top of a loop pass.
    PassStart,
    /// Pending estimate and switchover test.
    IterationRun,
    /// Decide on postcopy / completion (`true`: after an exact query).
    Decide(bool),
    /// RAM iterate.
    IterateRam,
    /// VFIO precopy iterate, from device index.
    IterateVfio(usize),
    /// End of the iterate call.
    IterateDone,
    /// Rate-limit step.
    RateLimit,
    /// Switchover: VM stopped.
    CompleteStopped,
    /// Paused in `pre-switchover`, waiting for `migrate-continue`.
    WaitContinue,
    /// Block devices inactivated: iterable phase (RAM).
    CompleteRam,
    /// Iterable phase: VFIO device from index.
    CompleteVfio(usize),
    /// Non-iterable phase: vCPU state sync.
    CompleteVcpuSync,
    /// Non-iterable phase: device from index.
    CompleteDevice(usize),
    /// EOF and VM description.
    CompleteEof,
    /// Return path: wait for the destination's SHUT.
    CompleteWaitRp,
    /// Completion bookkeeping.
    CompleteFinish,
    /// Postcopy: VM stopped.
    PostcopyStopped,
    /// Postcopy: discard sent, build and send the device package.
    PostcopyPackage,
    /// Postcopy: package sent.
    PostcopyPackageSent,
    /// Postcopy: RAM iterate.
    PostcopyIterate,
    /// Postcopy: nothing pending; flush and wait for the destination.
    PostcopyComplete,
    /// Postcopy: completion bookkeeping.
    PostcopyFinish,
    /// `postcopy-paused`, waiting for `migrate resume=true`.
    WaitResume,
    /// Recovery: connected again.
    RecoverConnected,
    /// Recovery: handshake done.
    RecoverDone,
    /// Cleanup bottom half after a cancel.
    CleanupCancelled,
}

/// Shared between the source and the simulation driver.
#[derive(Debug)]
pub(crate) struct Shared {
    pub events: EventLog,
    pub dest: Destination,
    /// Files migrations were saved to, completely (`file:` URIs).
    pub saved_files: std::collections::BTreeMap<String, crate::destination::SavedFile>,
    /// Set on every source state change (the driver snapshots there).
    pub status_changed: bool,
    /// The source states entered since the driver last looked (faults
    /// armed by a state).
    pub entered: Vec<(Nanos, MigrationStatus)>,
}

/// Why a command was refused (QEMU's error text).
pub(crate) type CmdResult = Result<(), String>;

/// The outgoing QEMU.
pub struct Source {
    // Configuration.
    page_size: u64,
    vcpus: u32,
    ram_gib: f64,
    costs: CpuCosts,
    link_bw: f64,
    latency_ns: Nanos,
    connect_ns: Nanos,
    link_up: bool,
    link_error: String,
    connect_error: String,
    pub(crate) uri_target: String,
    /// What the `migrate` URI opens.
    pub(crate) transport: Transport,
    throttle_sensitivity: f64,
    features: Features,
    dest_vm_start_ns: Nanos,
    dest_package_load_ns: Nanos,
    pub(crate) devices: Vec<Device>,
    vfio_count: usize,
    /// Fast-forward steady rate-limited windows (see `batch_windows`).
    pub(crate) batching: bool,
    /// Next externally scheduled instant (actions, time limit): batches end
    /// before it.
    pub(crate) horizon_ns: Nanos,
    pub(crate) params: MigrationParameters,
    pub(crate) caps: Capabilities,
    pub(crate) dirty_ring_size: u32,
    pub(crate) engine: Box<dyn MemoryEngine>,

    // Machine state.
    pub(crate) status: MigrationStatus,
    pub(crate) runstate: RunState,
    guest_running: bool,
    /// Run state when `migrate` was issued (QEMU's `vm_old_state`).
    vm_old_state: RunState,
    pc: Pc,
    seg: Option<Segment>,
    write_cursor: Nanos,
    /// What the current (or last) migration accumulated.
    run: Run,
    /// An injected save_setup failure still to strike: its error text.
    pub(crate) save_setup_fault: Option<String>,
}

/// The state of one migration: everything `migrate` resets.
#[derive(Debug, Default)]
struct Run {
    c: Counters,
    lost_pages: u64,

    // Times.
    start_ns: Nanos,
    thread_start_ns: Nanos,
    setup_time_ms: Option<u64>,
    total_time_ms: Option<u64>,
    downtime_ms: Option<u64>,
    downtime_start_ns: Nanos,

    // Statistics window and rate limit (model §1.4).
    win_start_ms: u64,
    win_start_bytes: u64,
    win_start_pages: u64,
    win_exceeded: bool,
    /// What the last window update left (mbps, threshold, ...).
    win: WindowStats,
    rate_start_bytes: u64,
    rate_limit: Option<u64>,
    downtime_limit_at_start: u64,

    // Dirty tracking (model §1.6).
    sync_count: u64,
    sync_times: Vec<Nanos>,
    period_start_ms: u64,
    period_new: u64,
    period_xfer_start: u64,
    period_pages_start: u64,
    period_xbz_miss_start: u64,
    period_xbz_pages_start: u64,
    period_xbz_bytes_start: u64,
    dirty_pages_rate: u64,
    dirty_bytes_last_sync: u64,
    xbz_miss_rate: f64,
    xbz_encoding_rate: f64,

    // Auto-converge (model §1.7).
    throttle: u8,
    high_count: u32,
    throttle_changes: Vec<(Nanos, u8)>,
    ac_next_tick: Nanos,
    ac_count_at_tick: u64,

    // Postcopy.
    postcopy_requested: bool,
    in_postcopy: bool,
    dest_run_ns: Option<Nanos>,
    pong_ns: Option<Nanos>,
    requests_from: Nanos,

    // Multifd.
    mf_fill: u64,
    mf_flushes: u64,

    // Loop bookkeeping.
    /// The windows of a fast-forwarded batch in flight.
    batch: Option<Batch>,
    iterate_calls: u64,
    pass_sent: bool,
    dest_done_ns: Nanos,
    cleanup_at: Nanos,

    // Switchover results.
    save_times: Vec<(String, u32, u64)>,
    concurrent: Vec<(String, u32)>,
    device_state_times: Option<Vec<DeviceSaveStateTime>>,
    error_desc: Option<String>,
}

impl Source {
    pub(crate) fn new(s: &Scenario, engine: Box<dyn MemoryEngine>) -> Self {
        let devices = devices::handler_order(s);
        let vfio_count = devices.iter().filter(|d| d.vfio.is_some()).count();
        let page_size = s.guest.page_size;
        let paused = s.guest.runstate == crate::config::GuestRunState::Paused;
        Source {
            page_size,
            vcpus: s.guest.vcpus,
            ram_gib: (engine.total_pages() * page_size) as f64 / GIB as f64,
            costs: s.cpu.clone(),
            link_bw: s.link.bandwidth.0,
            latency_ns: ms_to_ns(s.link.latency_ms),
            connect_ns: ms_to_ns(s.link.connect_ms),
            link_up: true,
            link_error: String::new(),
            connect_error: s.destination.connect_error.clone(),
            uri_target: s.migration.uri.split_once(':').map_or(String::new(), |(_, t)| t.to_string()),
            // A scenario's URI was validated.
            transport: Transport::parse(&s.migration.uri).unwrap_or(Transport::Socket { multi_channel: true }),
            throttle_sensitivity: s.guest.throttle_sensitivity,
            features: s.features.clone(),
            dest_vm_start_ns: ms_to_ns(s.destination.vm_start_ms),
            dest_package_load_ns: ms_to_ns(s.destination.package_load_ms),
            devices,
            vfio_count,
            batching: true,
            horizon_ns: Nanos::MAX,
            params: s.migration.parameters.clone(),
            caps: s.migration.capabilities.clone(),
            dirty_ring_size: s.guest.dirty_ring_size,
            engine,
            status: MigrationStatus::None,
            runstate: if paused { RunState::Paused } else { RunState::Running },
            guest_running: !paused,
            vm_old_state: RunState::Running,
            pc: Pc::Idle,
            seg: None,
            write_cursor: 0,
            run: Run::default(),
            save_setup_fault: None,
        }
    }

    // -----------------------------------------------------------------------
    // Driver interface
    // -----------------------------------------------------------------------

    /// When the running segment ends, or the next source timer fires.
    pub(crate) fn next_time(&self) -> Option<Nanos> {
        let seg = self.seg.map(|s| s.t1);
        let pong = self.run.pong_ns.filter(|_| self.status == MigrationStatus::PostcopyDevice);
        match (seg, pong) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Commit the running segment if it ended by `now`.
    pub(crate) fn commit_due(&mut self, now: Nanos) -> bool {
        match self.seg {
            Some(s) if s.t1 <= now => {
                self.run.c.add(&s.delta);
                self.seg = None;
                self.apply_vfio_dec(s.vfio_dec, 1, 1);
                if let Some(b) = self.run.batch.take() {
                    self.batch_done(&b, s.t1);
                }
                true
            }
            _ => false,
        }
    }

    /// Fire timers due at `now` (the postcopy PONG).
    pub(crate) fn fire_timers(&mut self, now: Nanos, sh: &mut Shared) -> bool {
        if let Some(p) = self.run.pong_ns {
            if p <= now {
                self.run.pong_ns = None;
                if self.status == MigrationStatus::PostcopyDevice {
                    self.set_status(p, MigrationStatus::PostcopyActive, sh);
                    return true;
                }
            }
        }
        false
    }

    /// Whether the thread has logic to run at this instant.
    pub(crate) fn ready(&self) -> bool {
        self.seg.is_none() && !matches!(self.pc, Pc::Idle | Pc::WaitContinue | Pc::WaitResume)
    }

    fn set_status(&mut self, now: Nanos, to: MigrationStatus, sh: &mut Shared) {
        self.status = to;
        if self.caps.events {
            sh.events.emit(Side::Source, now, Event::Migration { status: to });
        }
        sh.status_changed = true;
        sh.entered.push((now, to));
    }

    fn begin(&mut self, now: Nanos, dur: Nanos, delta: Counters, next: Pc) {
        self.pc = next;
        if dur == 0 {
            self.run.c.add(&delta);
            return;
        }
        self.seg = Some(Segment { t0: now, t1: now + dur, delta, batch: false, vfio_dec: None });
    }

    /// Cut the running segment at `now`, keeping the part that happened.
    fn truncate(&mut self, now: Nanos) {
        let batch = self.run.batch.take();
        let Some(s) = self.seg.take() else { return };
        let end = now.min(s.t1);
        let part = self.segment_part(&s, batch.as_ref(), end);
        self.run.lost_pages += s.delta.pages() - part.pages();
        self.run.c.add(&part);
        self.apply_vfio_dec(s.vfio_dec, end.saturating_sub(s.t0), s.t1 - s.t0);
        if let Some(b) = &batch {
            self.batch_done(b, end);
        }
    }

    /// The part of segment `s` done by `now` (a batch's from its windows'
    /// bursts, any other linearly).
    fn segment_part(&self, s: &Segment, batch: Option<&Batch>, now: Nanos) -> Counters {
        match batch {
            Some(b) if s.batch => b.part_at(now),
            _ if now >= s.t1 => s.delta,
            _ if now <= s.t0 => Counters::default(),
            _ => s.delta.scaled(now - s.t0, s.t1 - s.t0),
        }
    }

    fn flush_writes(&mut self, now: Nanos) {
        if now > self.write_cursor {
            if self.guest_running {
                let scale = (1.0 - f64::from(self.run.throttle) / 100.0).powf(self.throttle_sensitivity);
                self.engine.add_writes((now - self.write_cursor) as f64 / NS_PER_S as f64, scale);
            }
            self.write_cursor = now;
        }
    }

    fn stop_guest(&mut self, now: Nanos, sh: &mut Shared) {
        self.flush_writes(now);
        if self.guest_running {
            sh.events.emit(Side::Source, now, Event::Stop);
        }
        self.guest_running = false;
        self.runstate = RunState::FinishMigrate;
    }

    /// The migration thread ended without completing: restart a VM it
    /// stopped, stop throttling.
    fn thread_exit_restart(&mut self, now: Nanos, sh: &mut Shared) {
        if self.runstate == RunState::FinishMigrate {
            if self.vm_old_state == RunState::Running {
                self.runstate = RunState::Running;
                self.guest_running = true;
                self.write_cursor = now;
                sh.events.emit(Side::Source, now, Event::Resume);
            } else {
                self.runstate = self.vm_old_state;
            }
        }
        self.run.throttle = 0;
    }
}

fn limit_of(bandwidth: u64) -> Option<u64> {
    // QEMU's per-window budget: bandwidth / (1000 ms / BUFFER_DELAY).
    (bandwidth != 0).then_some(bandwidth / (1000 / BUFFER_DELAY_MS))
}
