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

use crate::config::{
    Capabilities, CpuCosts, DeviceKind, Features, MigrationParameters, MultifdTransfer, ParameterUpdate, Scenario,
    ZeroPageDetection,
};
use crate::destination::{DestAction, DestStats, Destination};
use crate::events::{Event, EventLog, Side};
use crate::memory::{MemoryEngine, PageCost, SendCosts, TakeOutcome, TakeRequest};
use crate::report::{
    DeviceSaveStateTime, Internals, MigrationInfo, MigrationStats, StatusInfo, VfioStats, WindowInfo, XBZRLECacheStats,
};
use crate::status::{MigrationStatus, RunState};
use crate::units::{ceil_ns, ms_clock, ms_to_ns, us_to_ns, Nanos, GIB, MIB, NS_PER_MS, NS_PER_S};

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

/// Counters the source accumulates (all monotonic within a migration).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    pub transferred: u64,
    pub main_bytes: u64,
    pub multifd_bytes: u64,
    pub precopy_bytes: u64,
    pub downtime_bytes: u64,
    pub postcopy_bytes: u64,
    pub normal: u64,
    pub zero: u64,
    pub xbz_pages: u64,
    pub xbz_bytes: u64,
    pub xbz_miss: u64,
    pub xbz_overflow: u64,
    pub vfio_transferred: u64,
    pub postcopy_requests: u64,
    pub device_bytes: u64,
    pub non_ram_bytes: u64,
    pub ram_marker_bytes: u64,
}

macro_rules! counter_fields {
    ($m:ident) => {
        $m!(
            transferred,
            main_bytes,
            multifd_bytes,
            precopy_bytes,
            downtime_bytes,
            postcopy_bytes,
            normal,
            zero,
            xbz_pages,
            xbz_bytes,
            xbz_miss,
            xbz_overflow,
            vfio_transferred,
            postcopy_requests,
            device_bytes,
            non_ram_bytes,
            ram_marker_bytes
        )
    };
}

impl Counters {
    fn add(&mut self, d: &Counters) {
        macro_rules! add {
            ($($f:ident),*) => { $( self.$f += d.$f; )* };
        }
        counter_fields!(add);
    }

    /// `self × num / den`, each counter floored (the part of a segment's
    /// changes that happened by a given instant).
    fn scaled(&self, num: u64, den: u64) -> Counters {
        let mut out = Counters::default();
        if den == 0 {
            return out;
        }
        macro_rules! sc {
            ($($f:ident),*) => { $( out.$f = ((self.$f as u128 * num as u128) / den as u128) as u64; )* };
        }
        counter_fields!(sc);
        out
    }

    fn pages(&self) -> u64 {
        self.normal + self.zero + self.xbz_pages
    }
}

/// Where the main channel's RAM bytes are accounted (model §1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RamBucket {
    Precopy,
    Downtime,
    Postcopy,
}

/// A stretch of simulated time and the counter changes it brings.
#[derive(Debug, Clone, Copy)]
struct Segment {
    t0: Nanos,
    t1: Nanos,
    delta: Counters,
    /// A fast-forwarded batch of windows: its bytes are spread evenly over
    /// it rather than sent in a burst at the start of each window.
    batch: bool,
    /// VFIO stop-copy data this segment sends: (device index, bytes); the
    /// device's cached stop-copy size (system `remaining`) falls with it.
    vfio_dec: Option<(usize, u64)>,
}

/// Window bookkeeping of a fast-forwarded batch, applied when it ends.
#[derive(Debug, Clone, Copy)]
struct BatchEnd {
    k: u64,
    per_window: u64,
    per_pages: u64,
    last_window: u64,
    last_pages: u64,
    start_ms: u64,
}

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
    precopy: bool,
    initial_bytes: u64,
    dirty_rate: f64,
    stop_only: u64,
    read_bw: f64,
    stop_transition_ns: Nanos,
    config_bytes: u64,
    config_save_ns: Nanos,
    multifd: bool,
    needs_ack: bool,
    // Per migration.
    initial_rem: u64,
    stop_rem: u64,
    dirty_rem: f64,
    cached_stop: u64,
    initial_done: Option<Nanos>,
    last_update: Nanos,
    in_precopy: bool,
    stop_sent: bool,
}

impl Vfio {
    fn stop_copy_size(&self) -> u64 {
        self.initial_rem + self.dirty_rem as u64 + self.stop_rem
    }
    fn estimate(&self) -> u64 {
        if self.precopy && self.in_precopy {
            self.initial_rem + self.dirty_rem as u64
        } else {
            0
        }
    }
}

/// Shared between the source and the simulation driver.
#[derive(Debug)]
pub(crate) struct Shared {
    pub events: EventLog,
    pub dest: Destination,
    /// Set on every source state change (the driver snapshots there).
    pub status_changed: bool,
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
    c: Counters,
    lost_pages: u64,
    write_cursor: Nanos,

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
    last_window: WindowInfo,
    rate_start_bytes: u64,
    rate_limit: Option<u64>,
    mbps: f64,
    pps: u64,
    threshold: u64,
    expected_downtime_ms: u64,
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
    batch_end: Option<BatchEnd>,
    iterate_calls: u64,
    pass_sent: bool,
    last_arrival_ns: Nanos,
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
        let mut devices: Vec<(i32, usize, Device)> = Vec::new();
        for (idx, d) in s.devices.iter().enumerate() {
            let ids: Vec<u32> = if d.per_vcpu { (0..s.guest.vcpus).collect() } else { vec![d.instance_id] };
            for id in ids {
                let vfio = (d.kind == DeviceKind::Vfio).then(|| Vfio {
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
                });
                let save_us = if d.kind == DeviceKind::Vfio { d.config_save_us.unwrap_or(300.0) } else { d.save_us };
                devices.push((
                    d.priority,
                    idx,
                    Device {
                        name: d.name.clone(),
                        instance_id: id,
                        bytes: d.bytes.0,
                        save_ns: us_to_ns(d.save_us),
                        load_ns: us_to_ns(d.load_us.unwrap_or(save_us)),
                        vfio,
                    },
                ));
            }
        }
        // Handler order: higher priority first, registration order within.
        devices.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let devices: Vec<Device> = devices.into_iter().map(|(_, _, d)| d).collect();
        let vfio_count = devices.iter().filter(|d| d.vfio.is_some()).count();
        let page_size = s.guest.page_size;
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
            runstate: if s.guest.runstate == crate::config::GuestRunState::Paused {
                RunState::Paused
            } else {
                RunState::Running
            },
            guest_running: s.guest.runstate == crate::config::GuestRunState::Running,
            vm_old_state: RunState::Running,
            pc: Pc::Idle,
            seg: None,
            c: Counters::default(),
            lost_pages: 0,
            write_cursor: 0,
            start_ns: 0,
            thread_start_ns: 0,
            setup_time_ms: None,
            total_time_ms: None,
            downtime_ms: None,
            downtime_start_ns: 0,
            win_start_ms: 0,
            win_start_bytes: 0,
            win_start_pages: 0,
            win_exceeded: false,
            last_window: WindowInfo::default(),
            rate_start_bytes: 0,
            rate_limit: None,
            mbps: 0.0,
            pps: 0,
            threshold: 0,
            expected_downtime_ms: 0,
            downtime_limit_at_start: 0,
            sync_count: 0,
            sync_times: Vec::new(),
            period_start_ms: 0,
            period_new: 0,
            period_xfer_start: 0,
            period_pages_start: 0,
            period_xbz_miss_start: 0,
            period_xbz_pages_start: 0,
            period_xbz_bytes_start: 0,
            dirty_pages_rate: 0,
            dirty_bytes_last_sync: 0,
            xbz_miss_rate: 0.0,
            xbz_encoding_rate: 0.0,
            throttle: 0,
            high_count: 0,
            throttle_changes: Vec::new(),
            ac_next_tick: 0,
            ac_count_at_tick: 0,
            postcopy_requested: false,
            in_postcopy: false,
            dest_run_ns: None,
            pong_ns: None,
            requests_from: 0,
            mf_fill: 0,
            mf_flushes: 0,
            batch_end: None,
            iterate_calls: 0,
            pass_sent: false,
            last_arrival_ns: 0,
            dest_done_ns: 0,
            cleanup_at: 0,
            save_times: Vec::new(),
            concurrent: Vec::new(),
            device_state_times: None,
            error_desc: None,
        }
    }

    // -----------------------------------------------------------------------
    // Driver interface
    // -----------------------------------------------------------------------

    /// When the running segment ends, or the next source timer fires.
    pub(crate) fn next_time(&self) -> Option<Nanos> {
        let seg = self.seg.map(|s| s.t1);
        let pong = self.pong_ns.filter(|_| self.status == MigrationStatus::PostcopyDevice);
        match (seg, pong) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Commit the running segment if it ended by `now`.
    pub(crate) fn commit_due(&mut self, now: Nanos) -> bool {
        match self.seg {
            Some(s) if s.t1 <= now => {
                self.c.add(&s.delta);
                self.seg = None;
                self.apply_vfio_dec(s.vfio_dec, 1, 1);
                if let Some(b) = self.batch_end.take() {
                    self.apply_batch_end(b);
                }
                true
            }
            _ => false,
        }
    }

    /// Fire timers due at `now` (the postcopy PONG).
    pub(crate) fn fire_timers(&mut self, now: Nanos, sh: &mut Shared) -> bool {
        if let Some(p) = self.pong_ns {
            if p <= now {
                self.pong_ns = None;
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
    }

    fn begin(&mut self, now: Nanos, dur: Nanos, delta: Counters, next: Pc) {
        self.pc = next;
        if dur == 0 {
            self.c.add(&delta);
            return;
        }
        if delta.transferred > 0 {
            self.last_arrival_ns = now + dur + self.latency_ns;
        }
        self.seg = Some(Segment { t0: now, t1: now + dur, delta, batch: false, vfio_dec: None });
    }

    /// Cut the running segment at `now`, keeping the part that happened.
    fn truncate(&mut self, now: Nanos) {
        self.batch_end = None;
        if let Some(s) = self.seg.take() {
            if now >= s.t1 {
                self.c.add(&s.delta);
                self.apply_vfio_dec(s.vfio_dec, 1, 1);
            } else {
                let (num, den) = (now.saturating_sub(s.t0), s.t1 - s.t0);
                let part = s.delta.scaled(num, den);
                self.lost_pages += s.delta.pages() - part.pages();
                self.c.add(&part);
                self.apply_vfio_dec(s.vfio_dec, num, den);
            }
        }
    }

    fn apply_vfio_dec(&mut self, dec: Option<(usize, u64)>, num: u64, den: u64) {
        if let Some((i, bytes)) = dec {
            if let Some(v) = self.devices.get_mut(i).and_then(|d| d.vfio.as_mut()) {
                let part = (bytes as u128 * num as u128 / den.max(1) as u128) as u64;
                v.cached_stop = v.cached_stop.saturating_sub(part);
            }
        }
    }

    fn flush_writes(&mut self, now: Nanos) {
        if now > self.write_cursor {
            if self.guest_running {
                let scale = (1.0 - f64::from(self.throttle) / 100.0).powf(self.throttle_sensitivity);
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
        self.throttle = 0;
    }

    fn ram_bucket(&self) -> RamBucket {
        if self.guest_running {
            RamBucket::Precopy
        } else if self.in_postcopy {
            RamBucket::Postcopy
        } else {
            RamBucket::Downtime
        }
    }

    fn add_ram_main(&self, d: &mut Counters, bytes: u64) {
        d.main_bytes += bytes;
        d.transferred += bytes;
        match self.ram_bucket() {
            RamBucket::Precopy => d.precopy_bytes += bytes,
            RamBucket::Downtime => d.downtime_bytes += bytes,
            RamBucket::Postcopy => d.postcopy_bytes += bytes,
        }
    }

    fn add_non_ram(d: &mut Counters, bytes: u64) {
        d.main_bytes += bytes;
        d.transferred += bytes;
        d.non_ram_bytes += bytes;
    }

    fn add_marker(&self, d: &mut Counters, bytes: u64) {
        self.add_ram_main(d, bytes);
        d.ram_marker_bytes += bytes;
    }

    fn multifd_active(&self) -> bool {
        self.caps.multifd && !self.in_postcopy
    }

    fn zero_in_channels(&self) -> bool {
        self.multifd_active() && self.params.zero_page_detection == ZeroPageDetection::Multifd
    }

    fn channels(&self) -> u64 {
        u64::from(self.params.multifd_channels.max(1))
    }

    fn send_costs(&self) -> SendCosts {
        let p = self.page_size as f64;
        let ovh = self.costs.page_overhead_us * 1000.0;
        let scan = p * 1e9 / self.costs.zero_scan_bandwidth.0;
        let zero_as_normal = self.params.zero_page_detection == ZeroPageDetection::None;
        let xbzrle_encode_ns = p * 1e9 / self.costs.xbzrle_encode_bandwidth.0;
        if self.multifd_active() {
            let ch = self.channels() as f64;
            let hdr = MULTIFD_PACKET_HEADER as f64 / MULTIFD_PACKET_PAGES as f64;
            let zero = if self.zero_in_channels() {
                PageCost { wire: hdr, thread_ns: ovh, chan_ns: scan }
            } else {
                PageCost { wire: 9.0, thread_ns: ovh + scan, chan_ns: 0.0 }
            };
            SendCosts {
                zero,
                normal: PageCost { wire: p + hdr, thread_ns: ovh, chan_ns: 0.0 },
                zero_as_normal,
                xbzrle_encode_ns,
                xbzrle_record_overhead: 11.0,
                ns_per_wire_byte: 1e9 / self.link_bw.min(ch * self.costs.multifd_channel_bandwidth.0),
                chan_divisor: ch,
            }
        } else {
            SendCosts {
                zero: PageCost { wire: 9.0, thread_ns: ovh + scan, chan_ns: 0.0 },
                normal: PageCost { wire: p + 8.0, thread_ns: ovh, chan_ns: 0.0 },
                zero_as_normal,
                xbzrle_encode_ns,
                xbzrle_record_overhead: 11.0,
                ns_per_wire_byte: 1e9 / self.link_bw.min(self.costs.main_channel_max_bandwidth.0),
                chan_divisor: 1.0,
            }
        }
    }

    /// Account the pages of a take in `d`; returns the send duration.
    fn account_take(&mut self, d: &mut Counters, out: &TakeOutcome) -> f64 {
        let p = self.page_size;
        d.zero += out.zero;
        d.normal += out.normal;
        d.xbz_pages += out.xbz_pages;
        d.xbz_bytes += out.xbz_data_bytes + out.xbz_overflow * p;
        d.xbz_miss += out.xbz_miss;
        d.xbz_overflow += out.xbz_overflow;
        let main_before = d.main_bytes;
        let mf_before = d.multifd_bytes;
        if self.multifd_active() {
            let in_channels = self.zero_in_channels();
            let mf_pages = out.normal + if in_channels { out.zero } else { 0 };
            if mf_pages > 0 {
                let fill = self.mf_fill;
                let packets = (fill + mf_pages).div_ceil(MULTIFD_PACKET_PAGES) - fill.div_ceil(MULTIFD_PACKET_PAGES);
                self.mf_fill = (fill + mf_pages) % MULTIFD_PACKET_PAGES;
                let bytes = packets * MULTIFD_PACKET_HEADER + out.normal * p;
                d.multifd_bytes += bytes;
                d.transferred += bytes;
            }
            if !in_channels {
                self.add_ram_main(d, out.zero * 9);
            }
        } else {
            let bytes = out.zero * 9 + out.normal * (p + 8) + out.xbz_data_bytes + out.xbz_pages * 8;
            self.add_ram_main(d, bytes);
        }
        let main = (d.main_bytes - main_before) as f64;
        let mf = (d.multifd_bytes - mf_before) as f64;
        let mut t = (main * 1e9 / self.link_bw.min(self.costs.main_channel_max_bandwidth.0))
            .max((main + mf) * 1e9 / self.link_bw)
            .max(out.thread_ns);
        if mf > 0.0 || out.chan_ns > 0.0 {
            let ch = self.channels() as f64;
            t = t.max(mf * 1e9 / (ch * self.costs.multifd_channel_bandwidth.0)).max(out.chan_ns / ch);
        }
        t
    }

    /// `sections` RAM save sections as `ram_save_iterate` writes them (more
    /// than one when a batch of rate windows is merged): each section's
    /// header, the pages the engine gives within the limits, a multifd sync
    /// at each wrap of the dirty-bitmap scan, each section's end marker.
    /// Returns the counters, what the engine sent and the send time (ns).
    fn send_ram_sections(
        &mut self,
        sections: u64,
        budget_bytes: f64,
        max_ns: f64,
        xbzrle: bool,
        last_stage: bool,
    ) -> (Counters, TakeOutcome, f64) {
        let req = TakeRequest {
            max_pages: u64::MAX,
            budget_bytes,
            max_ns,
            xbzrle,
            last_stage,
            sync_count: self.sync_count,
            costs: self.send_costs(),
        };
        let out = self.engine.take(&req);
        let mut d = Counters::default();
        Self::add_non_ram(&mut d, SECTION_OVERHEAD * sections);
        let t = self.account_take(&mut d, &out);
        for _ in 0..out.wraps {
            self.multifd_sync(&mut d);
        }
        self.add_marker(&mut d, 8 * sections);
        (d, out, t)
    }

    /// A multifd flush + sync: partial packet out, a SYNC packet per
    /// channel, an 8-byte flush marker on the main channel.
    fn multifd_sync(&mut self, d: &mut Counters) {
        if !self.multifd_active() {
            return;
        }
        self.mf_fill = 0;
        self.mf_flushes += 1;
        let bytes = self.channels() * MULTIFD_PACKET_HEADER;
        d.multifd_bytes += bytes;
        d.transferred += bytes;
        self.add_marker(d, 8);
    }

    fn budget_left(&self) -> f64 {
        match self.rate_limit {
            None => f64::INFINITY,
            Some(l) => l as f64 - (self.c.transferred - self.rate_start_bytes) as f64,
        }
    }

    fn rate_exceeded(&self) -> bool {
        match self.rate_limit {
            None => false,
            Some(l) => self.c.transferred - self.rate_start_bytes > l,
        }
    }

    fn sync_cost_ns(&self) -> Nanos {
        ms_to_ns(self.costs.sync_cost_ms_per_gib * self.ram_gib)
    }

    fn link_ns(&self, bytes: u64) -> Nanos {
        ceil_ns(bytes as f64 * 1e9 / self.link_bw.min(self.costs.main_channel_max_bandwidth.0))
    }

    fn ram_pending_bytes(&self) -> u64 {
        self.engine.pending_pages() * self.page_size
    }

    fn vfio_update(&mut self, now: Nanos) {
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

    fn has_vfio(&self) -> bool {
        self.vfio_count > 0
    }

    /// Switchover allowed (model §1.5 "allowed").
    fn can_switchover(&self, now: Nanos) -> bool {
        if !self.caps.switchover_ack || !self.guest_running {
            return true;
        }
        let mut ack_at = self.thread_start_ns + 2 * self.latency_ns;
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

    // -----------------------------------------------------------------------
    // Statistics (model §1.4, §1.6, §1.7)
    // -----------------------------------------------------------------------

    fn total_pages_sent(&self) -> u64 {
        self.c.pages()
    }

    /// QEMU's `migration_update_counters`: a window closes after ≥ 100 ms.
    fn update_counters(&mut self, now: Nanos) {
        let now_ms = ms_clock(now);
        if now_ms < self.win_start_ms + BUFFER_DELAY_MS {
            return;
        }
        let dt = (now_ms - self.win_start_ms) as f64;
        let db = self.c.transferred - self.win_start_bytes;
        let bw = db as f64 / dt;
        let avail = self.params.avail_switchover_bandwidth.0;
        let e_bw = if avail != 0 { avail as f64 / 1000.0 } else { bw };
        self.threshold = (e_bw * self.params.downtime_limit as f64) as u64;
        self.mbps = (db as f64 * 8.0) / (dt / 1000.0) / 1000.0 / 1000.0;
        let pages = self.total_pages_sent();
        self.pps = ((pages - self.win_start_pages) as f64 / (dt / 1000.0)) as u64;
        if self.dirty_pages_rate != 0 && db > 10_000 && e_bw > 0.0 {
            self.expected_downtime_ms = (self.dirty_bytes_last_sync as f64 / e_bw) as u64;
        }
        self.last_window = WindowInfo {
            start_ms: self.win_start_ms,
            end_ms: now_ms,
            bytes: db,
            rate_limited: self.win_exceeded,
            valid: true,
        };
        self.rate_start_bytes = self.c.transferred;
        self.win_start_ms = now_ms;
        self.win_start_bytes = self.c.transferred;
        self.win_start_pages = pages;
        self.win_exceeded = false;
    }

    /// A RAM dirty bitmap sync (QEMU's `migration_bitmap_sync`).
    fn do_sync(&mut self, now: Nanos, sh: &mut Shared) {
        self.flush_writes(now);
        self.sync_count += 1;
        self.sync_times.push(now);
        if self.caps.events {
            sh.events.emit(Side::Source, now, Event::MigrationPass { pass: self.sync_count });
        }
        let new = self.engine.sync();
        self.period_new += new;
        self.dirty_bytes_last_sync = self.ram_pending_bytes();
        let now_ms = ms_clock(now);
        if now_ms > self.period_start_ms + 1000 {
            let xfer_period = self.c.transferred - self.period_xfer_start;
            let dirty_period = self.period_new * self.page_size;
            let threshold = xfer_period * u64::from(self.params.throttle_trigger_threshold) / 100;
            if dirty_period > threshold {
                self.high_count += 1;
                if self.high_count >= 2 {
                    self.high_count = 0;
                    if self.caps.auto_converge {
                        self.throttle_guest_down(now, dirty_period, threshold);
                    }
                }
            }
            self.dirty_pages_rate = self.period_new * 1000 / (now_ms - self.period_start_ms);
            if self.caps.xbzrle {
                let pages = self.total_pages_sent();
                let handled = pages - self.period_pages_start;
                if handled > 0 {
                    self.xbz_miss_rate = (self.c.xbz_miss - self.period_xbz_miss_start) as f64 / handled as f64;
                    let dp = self.c.xbz_pages - self.period_xbz_pages_start;
                    let db = self.c.xbz_bytes - self.period_xbz_bytes_start;
                    self.xbz_encoding_rate =
                        if dp > 0 && db > 0 { (dp * self.page_size) as f64 / db as f64 } else { 0.0 };
                }
                self.period_pages_start = pages;
                self.period_xbz_miss_start = self.c.xbz_miss;
                self.period_xbz_pages_start = self.c.xbz_pages;
                self.period_xbz_bytes_start = self.c.xbz_bytes;
            }
            self.period_start_ms = now_ms;
            self.period_new = 0;
            self.period_xfer_start = self.c.transferred;
        }
    }

    fn throttle_guest_down(&mut self, now: Nanos, dirty_period: u64, dirty_threshold: u64) {
        let p = &self.params;
        let new = if self.throttle == 0 {
            p.cpu_throttle_initial
        } else {
            let inc = if p.cpu_throttle_tailslow {
                let cpu_now = 100 - u64::from(self.throttle);
                let cpu_ideal = (cpu_now as f64 * (dirty_threshold as f64 / dirty_period as f64)) as u64;
                cpu_now.saturating_sub(cpu_ideal).min(u64::from(p.cpu_throttle_increment))
            } else {
                u64::from(p.cpu_throttle_increment)
            };
            (u64::from(self.throttle) + inc).min(u64::from(p.max_cpu_throttle)) as u8
        };
        let new = new.clamp(1, 99);
        if new != self.throttle {
            self.flush_writes(now);
            self.throttle = new;
            self.throttle_changes.push((now, new));
        }
    }

    // -----------------------------------------------------------------------
    // Commands
    // -----------------------------------------------------------------------

    /// `migrate` (not resume).
    pub(crate) fn migrate(&mut self, now: Nanos, sh: &mut Shared) -> CmdResult {
        if self.status.is_running() {
            return Err("There's a migration process in progress".into());
        }
        // A new migration overwrites the old terminal state with `none`
        // silently (no event), then goes `setup`.
        self.status = MigrationStatus::None;
        self.engine.reset(self.params.xbzrle_cache_size.0);
        self.c = Counters::default();
        self.lost_pages = 0;
        self.setup_time_ms = None;
        self.total_time_ms = None;
        self.downtime_ms = None;
        self.mbps = 0.0;
        self.pps = 0;
        self.threshold = 0;
        self.last_window = WindowInfo::default();
        self.sync_count = 0;
        self.sync_times.clear();
        self.period_new = 0;
        self.dirty_pages_rate = 0;
        self.dirty_bytes_last_sync = 0;
        self.xbz_miss_rate = 0.0;
        self.xbz_encoding_rate = 0.0;
        self.period_pages_start = 0;
        self.period_xbz_miss_start = 0;
        self.period_xbz_pages_start = 0;
        self.period_xbz_bytes_start = 0;
        self.throttle = 0;
        self.high_count = 0;
        self.throttle_changes.clear();
        self.postcopy_requested = false;
        self.in_postcopy = false;
        self.dest_run_ns = None;
        self.pong_ns = None;
        self.mf_fill = 0;
        self.mf_flushes = 0;
        self.iterate_calls = 0;
        self.batch_end = None;
        self.save_times.clear();
        self.concurrent.clear();
        self.device_state_times = None;
        self.error_desc = None;
        self.downtime_limit_at_start = self.params.downtime_limit;
        for d in &mut self.devices {
            if let Some(v) = &mut d.vfio {
                v.initial_rem = v.initial_bytes;
                v.stop_rem = v.stop_only;
                v.dirty_rem = 0.0;
                v.cached_stop = 0;
                v.initial_done = None;
                v.in_precopy = false;
                v.stop_sent = false;
                v.last_update = now;
            }
        }
        self.vm_old_state = self.runstate;
        self.guest_running = self.runstate == RunState::Running;
        self.write_cursor = now;
        self.start_ns = now;
        self.set_status(now, MigrationStatus::Setup, sh);
        sh.dest.start_incoming(now, &mut sh.events);
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
        self.cleanup_at = now + ms_to_ns(self.costs.cleanup_ms);
        self.begin(now, self.cleanup_at - now, Counters::default(), Pc::CleanupCancelled);
        Ok(())
    }

    fn dest_stream_broken(&mut self, now: Nanos, sh: &mut Shared) {
        let t = now + self.latency_ns;
        sh.dest.cancel_after(now);
        if sh.dest.status.is_running() || sh.dest.next_time().is_some() {
            sh.dest.schedule(t, DestAction::Fail("load of migration failed: Input/output error".into()));
        }
    }

    /// `migrate-set-parameters`.
    pub(crate) fn set_parameters(&mut self, now: Nanos, u: &ParameterUpdate) -> CmdResult {
        let merged = u.apply_to(&self.params);
        merged.check(self.page_size, &self.caps).map_err(|e| e.message)?;
        let old = std::mem::replace(&mut self.params, merged);
        let running = self.status.is_running() && self.pc != Pc::Idle;
        if running && old.max_bandwidth != self.params.max_bandwidth && !self.in_postcopy && self.rate_limit_enabled() {
            self.rate_limit = limit_of(self.params.max_bandwidth.0);
        }
        if running && old.max_postcopy_bandwidth != self.params.max_postcopy_bandwidth && self.in_postcopy {
            self.rate_limit = limit_of(self.params.max_postcopy_bandwidth.0);
        }
        if old.xbzrle_cache_size != self.params.xbzrle_cache_size {
            self.engine.resize_xbzrle_cache(self.params.xbzrle_cache_size.0);
        }
        let _ = now;
        Ok(())
    }

    fn rate_limit_enabled(&self) -> bool {
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
        self.postcopy_requested = true;
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
            // Connecting: the connect itself fails when it completes.
            Pc::Connected | Pc::RecoverConnected | Pc::Idle | Pc::WaitResume => {}
            _ if self.status.is_postcopy() => {
                self.truncate(now);
                self.error_desc = Some(error);
                self.set_status(now, MigrationStatus::PostcopyPaused, sh);
                self.pong_ns = None;
                self.pc = Pc::WaitResume;
                sh.dest.cancel_after(now);
                sh.dest.schedule(now + self.latency_ns, DestAction::Status(MigrationStatus::PostcopyPaused));
            }
            _ => {
                self.truncate(now);
                self.flush_writes(now);
                self.error_desc = Some(error);
                self.set_status(now, MigrationStatus::Failed, sh);
                self.thread_exit_restart(now, sh);
                self.dest_stream_broken(now, sh);
                self.pc = Pc::Idle;
            }
        }
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

    // -----------------------------------------------------------------------
    // The migration thread
    // -----------------------------------------------------------------------

    /// Run one step of the thread's logic at `now`.
    pub(crate) fn step(&mut self, now: Nanos, sh: &mut Shared) {
        match self.pc {
            Pc::Idle | Pc::WaitContinue | Pc::WaitResume => {}
            Pc::Connected => self.on_connected(now, sh),
            Pc::SetupWork => {
                self.do_sync(now, sh);
                for d in &mut self.devices {
                    if let Some(v) = &mut d.vfio {
                        // save_setup: the device enters PRE_COPY and its
                        // stop-copy size is queried once.
                        v.in_precopy = v.precopy;
                        v.last_update = now;
                        v.cached_stop = v.stop_copy_size();
                    }
                }
                self.begin(now, self.sync_cost_ns(), Counters::default(), Pc::SetupSynced);
            }
            Pc::SetupSynced => {
                self.set_status(now, MigrationStatus::Active, sh);
                self.setup_time_ms = Some(ms_clock(now) - ms_clock(self.thread_start_ns));
                self.pc = Pc::PassStart;
            }
            Pc::PassStart => self.pass_start(now, sh),
            Pc::IterationRun => self.iteration_run(now, sh),
            Pc::Decide(exact) => self.decide(now, exact, sh),
            Pc::IterateRam => self.iterate_ram(now),
            Pc::IterateVfio(i) => self.iterate_vfio(now, i),
            Pc::IterateDone => {
                if self.pass_sent {
                    self.pc = Pc::RateLimit;
                } else {
                    // Nothing to send: the pass still costs loop time.
                    self.begin(now, us_to_ns(self.costs.loop_min_cost_us).max(1), Counters::default(), Pc::RateLimit);
                }
            }
            Pc::RateLimit => self.rate_limit_step(now),
            Pc::CompleteStopped => {
                if self.caps.pause_before_switchover {
                    self.set_status(now, MigrationStatus::PreSwitchover, sh);
                    self.pc = Pc::WaitContinue;
                } else {
                    self.enter_device(now, sh);
                }
            }
            Pc::CompleteRam => self.complete_ram(now, sh),
            Pc::CompleteVfio(i) => self.complete_vfio(now, i, sh),
            Pc::CompleteVcpuSync => {
                let dur = us_to_ns(self.costs.vcpu_sync_us * f64::from(self.vcpus));
                self.begin(now, dur, Counters::default(), Pc::CompleteDevice(0));
            }
            Pc::CompleteDevice(i) => self.complete_device(now, i, sh),
            Pc::CompleteEof => {
                let mut d = Counters::default();
                let bytes = 1 + self.costs.vmdesc_bytes.0;
                Self::add_non_ram(&mut d, bytes);
                let dur = self.link_ns(bytes);
                self.begin(now, dur, d, Pc::CompleteWaitRp);
                // The destination loads the tail, starts the VM, completes.
                let arrival = now + dur + self.latency_ns;
                let loaded = sh.dest.load(arrival, 0);
                self.dest_done_ns = loaded + self.dest_vm_start_ns;
                self.schedule_dest_completion(sh, self.dest_done_ns);
            }
            Pc::CompleteWaitRp => {
                if self.caps.has_return_path() {
                    let shut = self.dest_done_ns + self.latency_ns;
                    self.begin(now, shut.saturating_sub(now), Counters::default(), Pc::CompleteFinish);
                } else {
                    self.pc = Pc::CompleteFinish;
                }
            }
            Pc::CompleteFinish => self.finish(now, sh),
            Pc::PostcopyStopped => self.postcopy_discard(now, sh),
            Pc::PostcopyPackage => self.postcopy_package(now, sh),
            Pc::PostcopyPackageSent => {
                self.downtime_ms = Some(ms_clock(now) - ms_clock(self.downtime_start_ns));
                self.in_postcopy = true;
                self.rate_limit = limit_of(self.params.max_postcopy_bandwidth.0);
                self.rate_start_bytes = self.c.transferred;
                self.set_status(now, MigrationStatus::PostcopyDevice, sh);
                self.pc = Pc::PassStart;
            }
            Pc::PostcopyIterate => self.postcopy_iterate(now),
            Pc::PostcopyComplete => self.postcopy_complete(now, sh),
            Pc::PostcopyFinish => self.finish(now, sh),
            Pc::RecoverConnected => {
                if !self.link_up {
                    self.set_status(now, MigrationStatus::PostcopyPaused, sh);
                    self.pc = Pc::WaitResume;
                } else {
                    self.set_status(now, MigrationStatus::PostcopyRecover, sh);
                    sh.dest.schedule(now + self.latency_ns, DestAction::Status(MigrationStatus::PostcopyRecover));
                    // The destination sends its received bitmap back.
                    let bitmap = self.engine.total_pages().div_ceil(8);
                    let dur = 2 * self.latency_ns + self.link_ns(bitmap);
                    self.begin(now, dur, Counters::default(), Pc::RecoverDone);
                }
            }
            Pc::RecoverDone => {
                self.set_status(now, MigrationStatus::PostcopyActive, sh);
                sh.dest.schedule(now + self.latency_ns, DestAction::Status(MigrationStatus::PostcopyActive));
                self.error_desc = None;
                self.requests_from = now;
                self.pc = Pc::PassStart;
            }
            Pc::CleanupCancelled => {
                self.set_status(now, MigrationStatus::Cancelled, sh);
                self.pc = Pc::Idle;
            }
        }
    }

    fn on_connected(&mut self, now: Nanos, sh: &mut Shared) {
        if !sh.dest.listening || !self.link_up {
            let errno = if self.link_up { self.connect_error.clone() } else { self.link_error.clone() };
            self.error_desc = Some(format!("Failed to connect to '{}': {errno}", self.uri_target));
            self.set_status(now, MigrationStatus::Failed, sh);
            self.pc = Pc::Idle;
            return;
        }
        // The migration thread starts.
        self.thread_start_ns = now;
        let now_ms = ms_clock(now);
        self.win_start_ms = now_ms;
        self.win_start_bytes = 0;
        self.win_start_pages = 0;
        self.rate_start_bytes = 0;
        self.rate_limit = limit_of(self.params.max_bandwidth.0);
        self.expected_downtime_ms = self.params.downtime_limit;
        self.period_start_ms = now_ms;
        self.period_xfer_start = 0;
        self.ac_next_tick = now + DIRTY_SYNC_TIMER_NS;
        self.ac_count_at_tick = 0;
        let mut d = Counters::default();
        // Stream header, configuration section, RAM block list.
        let blocks = self.engine.layout().classes.len() as u64;
        Self::add_non_ram(&mut d, 64 + 32 * blocks);
        for dev in &self.devices {
            if dev.vfio.is_some() {
                Self::add_non_ram(&mut d, 32);
            }
        }
        if self.multifd_active() {
            let bytes = self.channels() * (MULTIFD_HANDSHAKE + MULTIFD_PACKET_HEADER);
            d.multifd_bytes += bytes;
            d.transferred += bytes;
        }
        let setup = ms_to_ns(self.costs.setup_fixed_ms + self.costs.setup_ms_per_gib * self.ram_gib);
        let dur = setup.max(self.link_ns(d.main_bytes));
        // The destination goes active when the first byte arrives.
        sh.dest.schedule(now + self.latency_ns, DestAction::Status(MigrationStatus::Active));
        self.begin(now, dur, d, Pc::SetupWork);
    }

    fn pass_start(&mut self, now: Nanos, sh: &mut Shared) {
        if self.caps.auto_converge && !self.in_postcopy {
            // The periodic dirty sync (QEMU 9.2+): a sync every 5 s if no
            // sync happened since the previous tick.
            while now >= self.ac_next_tick {
                if self.sync_count == self.ac_count_at_tick && self.sync_count > 1 {
                    self.do_sync(now, sh);
                }
                self.ac_count_at_tick = self.sync_count;
                self.ac_next_tick += DIRTY_SYNC_TIMER_NS;
            }
        }
        self.vfio_update(now);
        self.pass_sent = false;
        if self.in_postcopy {
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

    fn iteration_run(&mut self, now: Nanos, sh: &mut Shared) {
        let mut est = self.ram_pending_bytes();
        if self.vfio_count > 0 {
            est += self.devices.iter().filter_map(|d| d.vfio.as_ref()).map(Vfio::estimate).sum::<u64>();
        }
        if est < self.threshold {
            // Exact query: RAM syncs its bitmap, VFIO reports stop-copy.
            self.do_sync(now, sh);
            self.begin(now, self.sync_cost_ns(), Counters::default(), Pc::Decide(true));
        } else {
            self.pc = Pc::Decide(false);
        }
    }

    fn decide(&mut self, now: Nanos, exact: bool, sh: &mut Shared) {
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
        if self.postcopy_requested && must <= self.threshold && allowed {
            self.postcopy_start(now, sh);
        } else if allowed && pending <= self.threshold {
            self.complete_start(now, sh);
        } else if let Some(k) = self.batch_windows(now) {
            self.iterate_batch(now, k);
        } else {
            self.pc = Pc::IterateRam;
        }
    }

    fn iterate_ram(&mut self, now: Nanos) {
        self.iterate_calls += 1;
        let xbzrle = self.caps.xbzrle && !self.in_postcopy;
        let (d, out, t) = self.send_ram_sections(1, self.budget_left(), MAX_WAIT_NS, xbzrle, false);
        if out.pages() > 0 {
            self.pass_sent = true;
        }
        if self.rate_limit.is_some_and(|l| self.c.transferred + d.transferred - self.rate_start_bytes > l) {
            self.win_exceeded = true;
        }
        self.begin(now, ceil_ns(t), d, Pc::IterateVfio(0));
    }

    fn iterate_vfio(&mut self, now: Nanos, from: usize) {
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
            self.pass_sent = true;
            self.begin(now, dur, d, Pc::IterateVfio(i + 1));
            return;
        }
        self.pc = Pc::IterateDone;
    }

    /// How many steady rate-limited windows can be fast-forwarded from here
    /// in one segment (≥ 2), if any.
    ///
    /// In a rate-limited round every window is alike: the thread sends one
    /// window budget, sleeps to the window's end, and the next pass finds
    /// the pending estimate still above the threshold. When nothing else can
    /// happen (no sync due, no scanner wrap, no VFIO, XBZRLE or postcopy, no
    /// scheduled action or auto-converge tick before the end), the aggregate
    /// engine sends those windows' pages in one take. The windows' statistics
    /// are then identical by construction and the result differs from
    /// window-by-window stepping only in where each window's budget
    /// overshoot (a fraction of a page) falls.
    fn batch_windows(&self, now: Nanos) -> Option<u64> {
        const MAX_BATCH: u64 = 10;
        if !self.batching
            || self.in_postcopy
            || self.postcopy_requested
            || self.caps.xbzrle
            || self.vfio_count > 0
            || !self.guest_running
        {
            return None;
        }
        let l = self.rate_limit? as f64;
        let window_start = self.win_start_ms * NS_PER_MS;
        if now != window_start || self.c.transferred != self.rate_start_bytes {
            return None;
        }
        if !(self.last_window.valid && self.last_window.rate_limited) {
            return None;
        }
        let costs = self.send_costs();
        let (aw, at, ac) = self.engine.average_page_cost(&costs, false)?;
        let ahead = self.engine.pages_before_wrap()?;
        let ppw = (l / aw.max(1.0) + 2.0) * 1.02;
        if costs.time_ns(l, ppw * at, ppw * ac) > 0.8 * MAX_WAIT_NS {
            return None;
        }
        let per = ppw * self.page_size as f64;
        let slack = self.ram_pending_bytes() as f64 - 1.05 * self.threshold as f64;
        if slack < per {
            return None;
        }
        let k_est = 1 + (slack / per) as u64;
        let k_wrap = (ahead as f64 / ppw) as u64;
        let mut horizon = self.horizon_ns;
        if self.caps.auto_converge {
            horizon = horizon.min(self.ac_next_tick);
        }
        let k_time = horizon.saturating_sub(window_start) / (BUFFER_DELAY_MS * NS_PER_MS);
        let k = k_est.min(k_wrap).min(k_time).min(MAX_BATCH);
        (k >= 2).then_some(k)
    }

    /// Send `k` steady windows in one segment ending at the `k`-th window's
    /// end; windows 1..k−1 are closed when it is committed and the `k`-th
    /// by the ordinary rate-limit step that follows.
    fn iterate_batch(&mut self, now: Nanos, k: u64) {
        let Some(l) = self.rate_limit else {
            self.pc = Pc::IterateRam;
            return;
        };
        self.iterate_calls += k;
        let overhead = SECTION_OVERHEAD + 8;
        let budget = (k * l.saturating_sub(overhead)) as f64;
        let (d, _, _) = self.send_ram_sections(k, budget, f64::INFINITY, false, false);
        let per_window = d.transferred / k;
        let per_pages = d.pages() / k;
        let start_ms = self.win_start_ms;
        let end = (start_ms + BUFFER_DELAY_MS * k) * NS_PER_MS;
        self.batch_end = Some(BatchEnd {
            k,
            per_window,
            per_pages,
            last_window: d.transferred - (k - 1) * per_window,
            last_pages: d.pages() - (k - 1) * per_pages,
            start_ms,
        });
        self.win_exceeded = true;
        self.pass_sent = true;
        self.begin(now, end - now, d, Pc::PassStart);
        if let Some(seg) = &mut self.seg {
            seg.batch = true;
        }
    }

    /// Close windows 1..k−1 of a committed batch (QEMU's window update for
    /// each of them gives the same values) and open the `k`-th.
    fn apply_batch_end(&mut self, b: BatchEnd) {
        let dt = BUFFER_DELAY_MS as f64;
        let avail = self.params.avail_switchover_bandwidth.0;
        let bw = b.per_window as f64 / dt;
        let e_bw = if avail != 0 { avail as f64 / 1000.0 } else { bw };
        self.threshold = (e_bw * self.params.downtime_limit as f64) as u64;
        self.mbps = (b.per_window as f64 * 8.0) / (dt / 1000.0) / 1000.0 / 1000.0;
        self.pps = (b.per_pages as f64 / (dt / 1000.0)) as u64;
        if self.dirty_pages_rate != 0 && b.per_window > 10_000 && e_bw > 0.0 {
            self.expected_downtime_ms = (self.dirty_bytes_last_sync as f64 / e_bw) as u64;
        }
        let last_start = b.start_ms + BUFFER_DELAY_MS * (b.k - 1);
        self.last_window = WindowInfo {
            start_ms: last_start - BUFFER_DELAY_MS,
            end_ms: last_start,
            bytes: b.per_window,
            rate_limited: true,
            valid: true,
        };
        self.win_start_ms = last_start;
        self.win_start_bytes = self.c.transferred - b.last_window;
        self.rate_start_bytes = self.win_start_bytes;
        self.win_start_pages = self.total_pages_sent() - b.last_pages;
        self.win_exceeded = true;
    }

    fn rate_limit_step(&mut self, now: Nanos) {
        self.update_counters(now);
        if self.rate_exceeded() {
            self.win_exceeded = true;
            let wake = (self.win_start_ms + BUFFER_DELAY_MS) * NS_PER_MS;
            if wake > now {
                let mut d = Counters::default();
                if self.in_postcopy {
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

    // -----------------------------------------------------------------------
    // Precopy completion (model §1.11, §3.7)
    // -----------------------------------------------------------------------

    fn complete_start(&mut self, now: Nanos, sh: &mut Shared) {
        self.downtime_start_ns = now;
        self.stop_guest(now, sh);
        self.begin(now, ms_to_ns(self.costs.vm_stop_ms), Counters::default(), Pc::CompleteStopped);
    }

    fn enter_device(&mut self, now: Nanos, sh: &mut Shared) {
        self.set_status(now, MigrationStatus::Device, sh);
        self.rate_limit = None;
        self.begin(now, ms_to_ns(self.costs.block_inactivate_ms), Counters::default(), Pc::CompleteRam);
    }

    fn complete_ram(&mut self, now: Nanos, sh: &mut Shared) {
        self.do_sync(now, sh);
        let (mut d, _, send) = self.send_ram_sections(1, f64::INFINITY, f64::INFINITY, self.caps.xbzrle, true);
        // The final flush (counters are sums: its place before or after the
        // section's end marker does not matter).
        self.multifd_sync(&mut d);
        let ram_ns = self.sync_cost_ns() + ceil_ns(send);
        self.save_times.push(("ram".into(), 0, ram_ns / 1000));
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
                self.save_times.push((dev.name.clone(), dev.instance_id, dur / 1000));
                self.concurrent.push((dev.name.clone(), dev.instance_id));
            }
            phase = phase.max(ceil_ns(bytes_total * 1e9 / self.link_bw));
        }
        self.begin(now, phase, d, Pc::CompleteVfio(0));
    }

    fn complete_vfio(&mut self, now: Nanos, from: usize, sh: &mut Shared) {
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
            self.save_times.push((dev.name.clone(), dev.instance_id, dur / 1000));
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
    fn complete_device(&mut self, now: Nanos, i: usize, sh: &mut Shared) {
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
        self.save_times.push((dev.name.clone(), dev.instance_id, dur / 1000));
        sh.dest.load(now + dur + self.latency_ns, dev.load_ns);
        self.begin(now, dur, d, Pc::CompleteDevice(i + 1));
    }

    fn schedule_dest_completion(&mut self, sh: &mut Shared, at: Nanos) {
        let stats = DestStats {
            transferred: self.c.transferred + self.seg.map_or(0, |s| s.delta.transferred),
            normal: self.c.normal,
            zero: self.c.zero,
            xbzrle: self.c.xbz_pages,
        };
        sh.dest.schedule(at, DestAction::VmStart);
        sh.dest.schedule(at, DestAction::Complete(stats));
    }

    fn finish(&mut self, now: Nanos, sh: &mut Shared) {
        let now_ms = ms_clock(now);
        if self.downtime_ms.is_none() {
            self.downtime_ms = Some(now_ms - ms_clock(self.downtime_start_ns));
        }
        let total = now_ms - ms_clock(self.start_ns);
        self.total_time_ms = Some(total);
        let transfer = total.saturating_sub(self.setup_time_ms.unwrap_or(0));
        if transfer > 0 {
            self.mbps = self.c.transferred as f64 * 8.0 / transfer as f64 / 1000.0;
        }
        self.set_status(now, MigrationStatus::Completed, sh);
        self.runstate = RunState::Postmigrate;
        self.throttle = 0;
        if self.features.device_state_times {
            // One entry per (name, instance id), VFIO iterable + config
            // summed, in order of first appearance; zero entries omitted.
            let mut out: Vec<DeviceSaveStateTime> = Vec::new();
            for (name, id, us) in &self.save_times {
                match out.iter_mut().find(|e| &e.name == name && e.instance_id == *id) {
                    Some(e) => e.save_time += us,
                    None => out.push(DeviceSaveStateTime { name: name.clone(), instance_id: *id, save_time: *us }),
                }
            }
            out.retain(|e| e.save_time > 0);
            self.device_state_times = Some(out);
        }
        self.pc = Pc::Idle;
    }

    // -----------------------------------------------------------------------
    // Postcopy (model §1.12, §3.8)
    // -----------------------------------------------------------------------

    fn postcopy_start(&mut self, now: Nanos, sh: &mut Shared) {
        self.downtime_start_ns = now;
        self.stop_guest(now, sh);
        self.set_status(now, MigrationStatus::Device, sh);
        self.rate_limit = None;
        self.begin(now, ms_to_ns(self.costs.vm_stop_ms), Counters::default(), Pc::PostcopyStopped);
    }

    fn postcopy_discard(&mut self, now: Nanos, sh: &mut Shared) {
        self.do_sync(now, sh);
        // One discard record per run of pages dirtied on the source.
        let runs = self.engine.pending_runs();
        let mut d = Counters::default();
        Self::add_non_ram(&mut d, 32 + 16 * runs);
        let dur = self.sync_cost_ns() + self.link_ns(32 + 16 * runs);
        self.begin(now, dur, d, Pc::PostcopyPackage);
    }

    fn postcopy_package(&mut self, now: Nanos, sh: &mut Shared) {
        // The package: LISTEN, every non-iterable device state, pings, RUN.
        let mut d = Counters::default();
        let mut t = us_to_ns(self.costs.vcpu_sync_us * f64::from(self.vcpus));
        let mut load = self.dest_package_load_ns;
        for dev in &self.devices {
            let dur = dev.save_ns + self.link_ns(dev.bytes + SECTION_OVERHEAD);
            Self::add_non_ram(&mut d, dev.bytes + SECTION_OVERHEAD);
            d.device_bytes += dev.bytes;
            self.save_times.push((dev.name.clone(), dev.instance_id, dur / 1000));
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
        self.dest_run_ns = Some(run);
        self.requests_from = run;
        self.pong_ns = Some(run + self.latency_ns);
        self.begin(now, t, d, Pc::PostcopyPackageSent);
    }

    /// Pages the destination guest faults on during `[now, now + dur)`:
    /// requested, and sent urgently ahead of the background stream.
    fn serve_requests(&mut self, now: Nanos, dur: Nanos, d: &mut Counters) -> f64 {
        if self.status == MigrationStatus::PostcopyPaused || !self.link_up {
            return 0.0;
        }
        let from = now.max(self.requests_from);
        let end = now + dur;
        if end <= from {
            return 0.0;
        }
        self.requests_from = end;
        let (zero, other) = self.engine.postcopy_access((end - from) as f64 / NS_PER_S as f64);
        if zero + other == 0 {
            return 0.0;
        }
        d.postcopy_requests += zero + other;
        let out = TakeOutcome { zero, normal: other, ..TakeOutcome::default() };
        self.account_take(d, &out)
    }

    fn postcopy_iterate(&mut self, now: Nanos) {
        self.iterate_calls += 1;
        // Multifd is off in postcopy, so the wrap syncs are no-ops here.
        let (mut d, _, mut t) = self.send_ram_sections(1, self.budget_left(), MAX_WAIT_NS, false, false);
        let dur = ceil_ns(t).max(1);
        t += self.serve_requests(now, dur, &mut d);
        if self.rate_limit.is_some_and(|l| self.c.transferred + d.transferred - self.rate_start_bytes > l) {
            self.win_exceeded = true;
        }
        self.pass_sent = true;
        self.begin(now, ceil_ns(t).max(1), d, Pc::RateLimit);
    }

    fn postcopy_complete(&mut self, now: Nanos, sh: &mut Shared) {
        if self.status == MigrationStatus::PostcopyDevice {
            // Everything is sent before the PONG came back: wait for it.
            if let Some(p) = self.pong_ns {
                self.begin(now, p.saturating_sub(now).max(1), Counters::default(), Pc::PostcopyComplete);
                return;
            }
        }
        let mut d = Counters::default();
        self.add_marker(&mut d, 8);
        Self::add_non_ram(&mut d, 1);
        let dur = self.link_ns(d.main_bytes);
        let arrival = now + dur + self.latency_ns;
        self.dest_done_ns = sh.dest.load(arrival, 0);
        let stats = DestStats {
            transferred: self.c.transferred + d.transferred,
            normal: self.c.normal,
            zero: self.c.zero,
            xbzrle: self.c.xbz_pages,
        };
        sh.dest.schedule(self.dest_done_ns, DestAction::Complete(stats));
        let shut = self.dest_done_ns + self.latency_ns;
        self.begin(now, shut.saturating_sub(now).max(dur).max(1), d, Pc::PostcopyFinish);
    }

    // -----------------------------------------------------------------------
    // Queries
    // -----------------------------------------------------------------------

    /// Counters and pending pages as of `now` (interpolating a running
    /// segment).
    fn counters_at(&self, now: Nanos) -> (Counters, u64) {
        let mut c = self.c;
        let mut pending = self.engine.pending_pages() + self.lost_pages;
        if let Some(s) = self.seg {
            if now > s.t0 && now < s.t1 {
                let part = s.delta.scaled(now - s.t0, s.t1 - s.t0);
                pending += s.delta.pages() - part.pages();
                c.add(&part);
            } else if now <= s.t0 {
                pending += s.delta.pages();
            } else {
                c.add(&s.delta);
            }
        }
        (c, pending.min(self.engine.total_pages()))
    }

    /// `query-status` on the source.
    pub(crate) fn query_status(&self) -> StatusInfo {
        StatusInfo { running: self.runstate == RunState::Running, status: self.runstate }
    }

    /// `query-migrate` on the source at `now` (model §1.2).
    pub(crate) fn query_migrate(&self, now: Nanos) -> MigrationInfo {
        use MigrationStatus as S;
        let mut info = MigrationInfo::default();
        if self.status == S::None {
            return info;
        }
        info.status = Some(self.status);
        info.error_desc = self.error_desc.clone();
        let shows_stats = matches!(self.status, S::Active | S::PreSwitchover | S::Device | S::Cancelling)
            || self.status.is_postcopy()
            || self.status == S::Completed;
        if !shows_stats {
            if self.status != S::Failed {
                info.error_desc = None;
            }
            return info;
        }
        let (c, pending) = self.counters_at(now);
        let completed = self.status == S::Completed;
        info.setup_time = Some(self.setup_time_ms.unwrap_or(0) as i64);
        info.total_time = Some(match self.total_time_ms {
            Some(t) if completed => t as i64,
            _ => (ms_clock(now) - ms_clock(self.start_ns)) as i64,
        });
        if self.status.is_postcopy() || completed {
            info.downtime = self.downtime_ms.map(|d| d as i64);
        } else {
            info.expected_downtime = Some(self.expected_downtime_ms as i64);
        }
        let p = self.page_size;
        info.ram = Some(MigrationStats {
            transferred: c.transferred as i64,
            remaining: if completed { 0 } else { (pending * p) as i64 },
            total: (self.engine.total_pages() * p) as i64,
            duplicate: c.zero as i64,
            normal: c.normal as i64,
            normal_bytes: (c.normal * p) as i64,
            dirty_pages_rate: Some(if completed { 0 } else { self.dirty_pages_rate as i64 }),
            mbps: self.mbps,
            dirty_sync_count: Some(self.sync_count as i64),
            postcopy_requests: Some(c.postcopy_requests as i64),
            page_size: p as i64,
            multifd_bytes: Some(c.multifd_bytes),
            pages_per_second: self.pps,
            precopy_bytes: Some(c.precopy_bytes),
            downtime_bytes: Some(c.downtime_bytes),
            postcopy_bytes: Some(c.postcopy_bytes),
            dirty_sync_missed_zero_copy: Some(0),
        });
        if self.has_vfio() {
            info.vfio = Some(VfioStats { transferred: c.vfio_transferred as i64 });
        }
        if self.caps.xbzrle {
            info.xbzrle_cache = Some(XBZRLECacheStats {
                cache_size: self.params.xbzrle_cache_size.0,
                bytes: c.xbz_bytes as i64,
                pages: c.xbz_pages as i64,
                cache_miss: c.xbz_miss as i64,
                cache_miss_rate: self.xbz_miss_rate,
                encoding_rate: self.xbz_encoding_rate,
                overflow: c.xbz_overflow as i64,
            });
        }
        if self.throttle > 0 {
            info.cpu_throttle_percentage = Some(i64::from(self.throttle));
        }
        if completed {
            if self.features.device_state_times {
                info.device_state_times = self.device_state_times.clone();
            }
            info.error_desc = None;
        }
        if self.features.system_remaining {
            info.remaining = Some(if completed {
                0
            } else {
                let mut vfio: u64 = self.devices.iter().filter_map(|d| d.vfio.as_ref()).map(|v| v.cached_stop).sum();
                if let Some(seg) = self.seg {
                    if let (Some((_, bytes)), true) = (seg.vfio_dec, now > seg.t0) {
                        let done = (bytes as u128 * (now.min(seg.t1) - seg.t0) as u128
                            / (seg.t1 - seg.t0).max(1) as u128) as u64;
                        vfio = vfio.saturating_sub(done);
                    }
                }
                pending * p + vfio
            });
        }
        info
    }

    /// Internals for checkers.
    pub(crate) fn internals(&self, now: Nanos) -> Internals {
        let (c, _) = self.counters_at(now);
        Internals {
            window: self.last_window,
            iterate_calls: self.iterate_calls,
            non_ram_bytes: c.non_ram_bytes,
            device_bytes: c.device_bytes,
            ram_marker_bytes: c.ram_marker_bytes,
            multifd: self.caps.multifd,
            zero_pages_in_channels: self.caps.multifd && self.params.zero_page_detection == ZeroPageDetection::Multifd,
            downtime_limit_ms: self.downtime_limit_at_start,
            throttle_range: (self.params.cpu_throttle_initial, self.params.max_cpu_throttle),
            xbzrle_cache_size: self.params.xbzrle_cache_size.0,
            throttle_changes: self.throttle_changes.clone(),
            concurrent_entries: self.concurrent.clone(),
            sync_times: self.sync_times.clone(),
            engine_bytes: self.engine.footprint_bytes(),
            sending: self.seg.is_some_and(|s| !s.batch && s.delta.transferred > 0 && now > s.t0 && now < s.t1),
            batch_ms: self.seg.filter(|s| s.batch).map(|s| (ms_clock(s.t0), ms_clock(s.t1))),
        }
    }
}

fn limit_of(bandwidth: u64) -> Option<u64> {
    // QEMU's per-window budget: bandwidth / (1000 ms / BUFFER_DELAY).
    (bandwidth != 0).then_some(bandwidth / (1000 / BUFFER_DELAY_MS))
}
