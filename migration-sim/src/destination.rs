//! The incoming QEMU (model §3.10).
//!
//! The destination is passive: it goes `active` when the first byte
//! arrives, loads what arrives, starts the VM and completes. Everything it
//! does follows from what the source sent and when, so the source schedules
//! the destination's state changes (with arrival = send time + one-way
//! latency) and the simulation applies them when simulated time reaches
//! them. The source learns back what a return path would tell it
//! (switchover ACK, postcopy PONG, SHUT) from the same schedule.

use crate::events::{Event, EventLog, Side};
use crate::report::{listening_address, MigrationInfo, MigrationStats, SocketAddress, StatusInfo};
use crate::status::{MigrationStatus, RunState};
use crate::units::{ms_clock, Nanos};

/// What the destination received, frozen when its stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DestStats {
    /// Bytes received on all channels.
    pub transferred: u64,
    /// Full pages received.
    pub normal: u64,
    /// Zero pages received.
    pub zero: u64,
    /// XBZRLE records received.
    pub xbzrle: u64,
}

/// A migration saved completely to a file (`file:` URI).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SavedFile {
    /// What a destination loading it receives.
    pub stats: DestStats,
    /// How long loading it takes (read, device loads, VM start).
    pub load_ns: Nanos,
}

/// A scheduled change on the destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DestAction {
    /// A state change (`MIGRATION` event if enabled).
    Status(MigrationStatus),
    /// `vm_start`: `RESUME`, run state `running` (or `paused` without
    /// autostart).
    VmStart,
    /// The incoming migration failed.
    Fail(String),
    /// Final statistics, then `completed`.
    Complete(DestStats),
}

/// The destination QEMU.
#[derive(Debug, Clone)]
pub struct Destination {
    pub(crate) status: MigrationStatus,
    pub(crate) runstate: RunState,
    pub(crate) events_on: bool,
    pub(crate) autostart: bool,
    pub(crate) listening: bool,
    pub(crate) dest_stats: bool,
    page_size: u64,
    total_bytes: u64,
    /// Where it listens (QMP `socket-address`), if on a socket.
    pub(crate) address: Option<SocketAddress>,
    /// Started with `-incoming file:PATH` (or `migrate-incoming file:`):
    /// it loads that file once a migration saved it.
    pub(crate) from_file: Option<String>,
    queue: Vec<(Nanos, u64, DestAction)>,
    seq: u64,
    pub(crate) active_ns: Option<Nanos>,
    pub(crate) completed_ns: Option<Nanos>,
    /// When the destination has finished loading what arrived so far.
    pub(crate) load_cursor: Nanos,
    stats: Option<DestStats>,
    error_desc: Option<String>,
}

impl Destination {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        listening: bool,
        events_on: bool,
        autostart: bool,
        dest_stats: bool,
        page_size: u64,
        total_bytes: u64,
        uri: &str,
    ) -> Self {
        Destination {
            status: MigrationStatus::None,
            runstate: RunState::Inmigrate,
            events_on,
            autostart,
            listening,
            dest_stats,
            page_size,
            total_bytes,
            address: listening_address(uri),
            from_file: file_path(uri),
            queue: Vec::new(),
            seq: 0,
            active_ns: None,
            completed_ns: None,
            load_cursor: 0,
            stats: None,
            error_desc: None,
        }
    }

    /// `migrate-incoming`: a fresh incoming state listening for a stream
    /// (a destination process is used once; a new migration gets a new one).
    pub(crate) fn start_incoming(&mut self, now: Nanos, events: &mut EventLog) {
        // A destination reading a file starts when the file is complete.
        if !self.listening || self.from_file.is_some() {
            return;
        }
        self.restart(now, events);
    }

    /// A fresh incoming state in `setup`.
    fn restart(&mut self, now: Nanos, events: &mut EventLog) {
        if self.status != MigrationStatus::None && !self.status.is_terminal() {
            return;
        }
        self.queue.clear();
        self.active_ns = None;
        self.completed_ns = None;
        self.load_cursor = 0;
        self.stats = None;
        self.error_desc = None;
        self.runstate = RunState::Inmigrate;
        self.status = MigrationStatus::None;
        self.set_status(now, MigrationStatus::Setup, events);
    }

    /// A migration saved `path` completely: a destination waiting for that
    /// file loads it.
    pub(crate) fn file_saved(&mut self, now: Nanos, path: &str, file: SavedFile, events: &mut EventLog) {
        if self.listening && self.from_file.as_deref() == Some(path) {
            self.load_file(now, file, events);
        }
    }

    /// Load a saved migration from its file: `setup`, `active` as it opens
    /// it, `completed` once everything is loaded and the VM started.
    pub(crate) fn load_file(&mut self, now: Nanos, file: SavedFile, events: &mut EventLog) {
        self.restart(now, events);
        self.schedule(now, DestAction::Status(MigrationStatus::Active));
        let done = now + file.load_ns;
        self.schedule(done, DestAction::VmStart);
        self.schedule(done, DestAction::Complete(file.stats));
    }

    fn set_status(&mut self, now: Nanos, to: MigrationStatus, events: &mut EventLog) {
        if self.status == to {
            return;
        }
        self.status = to;
        if self.events_on {
            events.emit(Side::Destination, now, Event::Migration { status: to });
        }
    }

    pub(crate) fn schedule(&mut self, t: Nanos, action: DestAction) {
        self.seq += 1;
        self.queue.push((t, self.seq, action));
    }

    /// The destination fails now (an injected fault: its load fails and
    /// the process exits, so nothing listens any more).
    pub(crate) fn fail_now(&mut self, now: Nanos, error: String, events: &mut EventLog) {
        self.listening = false;
        if self.status.is_running() {
            self.queue.clear();
            self.error_desc = Some(error);
            self.set_status(now, MigrationStatus::Failed, events);
        }
    }

    /// Drop what was scheduled after `t` (the stream broke).
    pub(crate) fn cancel_after(&mut self, t: Nanos) {
        self.queue.retain(|(at, _, _)| *at <= t);
    }

    /// Load something that arrives at `arrival` and takes `load` to load;
    /// loads are sequential. Returns when it is loaded.
    pub(crate) fn load(&mut self, arrival: Nanos, load: Nanos) -> Nanos {
        self.load_cursor = self.load_cursor.max(arrival) + load;
        self.load_cursor
    }

    /// The earliest scheduled change.
    pub(crate) fn next_time(&self) -> Option<Nanos> {
        self.queue.iter().map(|(t, _, _)| *t).min()
    }

    /// Apply every change due at `now`; returns whether anything happened.
    pub(crate) fn process(&mut self, now: Nanos, events: &mut EventLog) -> bool {
        let mut any = false;
        loop {
            let due = self
                .queue
                .iter()
                .enumerate()
                .filter(|(_, (t, _, _))| *t <= now)
                .min_by_key(|(_, (t, s, _))| (*t, *s))
                .map(|(i, _)| i);
            let Some(i) = due else { break };
            let (t, _, action) = self.queue.remove(i);
            any = true;
            match action {
                DestAction::Status(s) => {
                    if s == MigrationStatus::Active {
                        self.active_ns = Some(t);
                    }
                    self.set_status(t, s, events);
                }
                DestAction::VmStart => {
                    if self.autostart {
                        self.runstate = RunState::Running;
                        events.emit(Side::Destination, t, Event::Resume);
                    } else {
                        self.runstate = RunState::Paused;
                    }
                }
                DestAction::Fail(e) => {
                    if self.status.is_running() {
                        self.error_desc = Some(e);
                        self.set_status(t, MigrationStatus::Failed, events);
                        self.queue.clear();
                    }
                }
                DestAction::Complete(stats) => {
                    self.stats = Some(stats);
                    self.completed_ns = Some(t);
                    self.set_status(t, MigrationStatus::Completed, events);
                }
            }
        }
        any
    }

    /// `query-status` on the destination.
    pub fn query_status(&self) -> StatusInfo {
        StatusInfo { running: self.runstate == RunState::Running, status: self.runstate }
    }

    /// `query-migrate` on the destination at `now`.
    pub fn query_migrate(&self, _now: Nanos) -> MigrationInfo {
        let mut info = MigrationInfo::default();
        if self.status == MigrationStatus::None {
            return info;
        }
        info.status = Some(self.status);
        let listening =
            matches!(self.status, MigrationStatus::Setup | MigrationStatus::Active) || self.status.is_postcopy();
        if listening {
            info.socket_address = self.address.clone().map(|a| vec![a]);
        }
        if self.status == MigrationStatus::Failed {
            info.error_desc = self.error_desc.clone();
        }
        if self.status == MigrationStatus::Completed && self.dest_stats {
            if let (Some(stats), Some(active), Some(done)) = (self.stats, self.active_ns, self.completed_ns) {
                let total_ms = ms_clock(done).saturating_sub(ms_clock(active));
                let (mbps, pps) = if total_ms > 0 {
                    (
                        stats.transferred as f64 * 8.0 / total_ms as f64 / 1000.0,
                        (stats.normal + stats.xbzrle + stats.zero) * 1000 / total_ms,
                    )
                } else {
                    (0.0, 0)
                };
                info.total_time = Some(total_ms as i64);
                info.ram = Some(MigrationStats {
                    transferred: stats.transferred as i64,
                    remaining: 0,
                    total: self.total_bytes as i64,
                    duplicate: stats.zero as i64,
                    normal: stats.normal as i64,
                    normal_bytes: (stats.normal * self.page_size) as i64,
                    mbps,
                    page_size: self.page_size as i64,
                    pages_per_second: pps,
                    // Source-only members: the destination cannot fill them.
                    dirty_pages_rate: None,
                    dirty_sync_count: None,
                    postcopy_requests: None,
                    multifd_bytes: None,
                    precopy_bytes: None,
                    downtime_bytes: None,
                    postcopy_bytes: None,
                    dirty_sync_missed_zero_copy: None,
                });
            }
        }
        info
    }
}

/// The file of a `file:PATH[,offset=N]` URI.
fn file_path(uri: &str) -> Option<String> {
    match crate::transport::Transport::parse(uri) {
        Ok(crate::transport::Transport::File { path, .. }) => Some(path),
        _ => None,
    }
}
