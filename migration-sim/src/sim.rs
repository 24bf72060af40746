//! The discrete-event driver (model §3.3).
//!
//! Simulated time is an integer number of nanoseconds, decoupled from wall
//! time. [`Simulation::advance_to`] processes everything due up to a given
//! instant (the source's segment ends, destination changes, scheduled
//! management actions) in a fixed order, so the same scenario and seed give
//! the same results whatever the sampling: queries inside a segment
//! interpolate and never split it.

use crate::config::{ActionKind, Capabilities, EngineKind, FaultConfig, FaultKind, Issue, ParameterUpdate, Scenario};
use crate::destination::Destination;
use crate::events::{EventLog, EventRecord};
use crate::memory::aggregate::AggregateEngine;
use crate::memory::bitmap::BitmapEngine;
use crate::memory::{MemoryEngine, MemoryLayout};
use crate::report::{MigrationInfo, Snapshot, StatusInfo};
use crate::source::{Shared, Source};
use crate::status::MigrationStatus;
use crate::transport::Transport;
use crate::units::{ms_to_ns, Nanos, NS_PER_S};

/// A simulation could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The scenario failed validation.
    #[error("invalid scenario:{}", issues.iter().map(|i| format!("\n  {i}")).collect::<String>())]
    Invalid {
        /// The problems.
        issues: Vec<Issue>,
    },
}

/// A refused management command, as QMP reports it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{desc}")]
pub struct CommandError {
    /// QMP error class (`GenericError` for everything migration refuses).
    pub class: &'static str,
    /// QEMU's error description.
    pub desc: String,
}

impl CommandError {
    fn generic(desc: String) -> Self {
        CommandError { class: "GenericError", desc }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOutcome {
    /// Simulated time at the end.
    pub end_ns: Nanos,
    /// Source status at the end.
    pub source_status: MigrationStatus,
    /// Destination status at the end.
    pub destination_status: MigrationStatus,
    /// Stopped by the scenario's time limit with work still scheduled.
    pub timed_out: bool,
}

/// A management action from the scenario, resolved.
#[derive(Debug, Clone)]
enum Command {
    Migrate,
    Cancel,
    SetParameters(Box<ParameterUpdate>),
    StartPostcopy,
    Continue(MigrationStatus),
    Resume,
    LinkBandwidth(f64),
    /// The link breaks; the write's error (default: by transport).
    LinkFail(Option<String>),
    LinkRestore,
    SetWriteRate(usize, f64),
    Cont,
    /// An injected fault: the destination fails with this error.
    DestinationFail(String),
}

/// A record of a scheduled action that QEMU refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedAction {
    /// When.
    pub time_ns: Nanos,
    /// The action's index in the scenario (`None`: the automatic migrate).
    pub action: Option<usize>,
    /// The error.
    pub error: CommandError,
}

/// A running simulation: source, destination, event log, schedule.
pub struct Simulation {
    now: Nanos,
    src: Source,
    sh: Shared,
    actions: Vec<(Nanos, Option<usize>, Command)>,
    next_action: usize,
    time_limit_ns: Nanos,
    record_transitions: bool,
    transitions: Vec<Snapshot>,
    refused: Vec<RefusedAction>,
    /// Injected faults not armed yet.
    faults: Vec<FaultConfig>,
}

impl Simulation {
    /// Build a simulation of `scenario` with the engine it names.
    pub fn new(scenario: &Scenario) -> Result<Self, SimError> {
        scenario.validate().map_err(|issues| SimError::Invalid { issues })?;
        let layout = MemoryLayout::from_guest(&scenario.guest, scenario.seed);
        let engine: Box<dyn MemoryEngine> = match scenario.engine {
            EngineKind::Aggregate => Box::new(AggregateEngine::new(layout)),
            EngineKind::Bitmap => Box::new(BitmapEngine::new(layout)),
        };
        Ok(Self::with_engine(scenario, engine))
    }

    /// Build a simulation of an already validated `scenario` with a given
    /// RAM engine (for engines outside this crate, or comparisons).
    pub fn with_engine(scenario: &Scenario, engine: Box<dyn MemoryEngine>) -> Self {
        let page_size = scenario.guest.page_size;
        let total_bytes = engine.total_pages() * page_size;
        let src = Source::new(scenario, engine);
        let dest = Destination::new(
            scenario.destination.listening,
            scenario.destination.events.unwrap_or(scenario.migration.capabilities.events),
            scenario.destination.autostart,
            scenario.features.dest_stats,
            page_size,
            total_bytes,
            &scenario.migration.uri,
        );
        let sh = Shared {
            events: EventLog::new(scenario.start_time_unix),
            dest,
            saved_files: std::collections::BTreeMap::new(),
            status_changed: false,
            entered: Vec::new(),
        };
        let actions = scheduled_actions(scenario, src.engine.layout());
        let (save_setup, faults): (Vec<FaultConfig>, Vec<FaultConfig>) =
            scenario.faults.iter().cloned().partition(|f| f.fault == FaultKind::SaveSetup);
        let mut sim = Simulation {
            now: 0,
            src,
            sh,
            actions,
            next_action: 0,
            time_limit_ns: (scenario.time_limit_s * NS_PER_S as f64) as Nanos,
            record_transitions: false,
            transitions: Vec::new(),
            refused: Vec::new(),
            faults,
        };
        sim.src.save_setup_fault = save_setup.first().map(|f| {
            f.error.clone().unwrap_or_else(|| match f.device.as_deref() {
                Some("ram") | None => "ram_save_setup failed: Input/output error".into(),
                Some(d) => format!("{d}: save_setup failed"),
            })
        });
        // The destination was started with -incoming before the source
        // migrates: it listens from time 0.
        sim.sh.dest.start_incoming(0, &mut sim.sh.events);
        sim
    }

    /// Current simulated time.
    pub fn now_ns(&self) -> Nanos {
        self.now
    }

    /// Take a snapshot at every source state change (from now on).
    pub fn record_transitions(&mut self, on: bool) {
        self.record_transitions = on;
    }

    /// Snapshots taken at source state changes.
    pub fn transition_snapshots(&self) -> &[Snapshot] {
        &self.transitions
    }

    /// Fast-forward steady rate-limited windows in one step (on by default).
    ///
    /// A batch makes the takes window-by-window stepping makes and shows
    /// every burst and window update where stepping shows them, so batching
    /// never changes what is reported; it ends before a scheduled action.
    /// A command issued through the methods below in the middle of a batch
    /// that changes how the thread sends (parameters, link bandwidth, write
    /// rates) takes effect when the batch ends (within a second); a cancel
    /// or a link failure cuts it at once. A server that takes commands at
    /// arbitrary times should turn batching off.
    pub fn set_batching(&mut self, on: bool) {
        self.src.batching = on;
    }

    /// Scheduled actions QEMU refused.
    pub fn refused_actions(&self) -> &[RefusedAction] {
        &self.refused
    }

    /// All events so far.
    pub fn events(&self) -> &[EventRecord] {
        self.sh.events.records()
    }

    /// The event log.
    pub fn event_log(&self) -> &EventLog {
        &self.sh.events
    }

    /// The RAM engine.
    pub fn engine(&self) -> &dyn MemoryEngine {
        self.src.engine.as_ref()
    }

    /// `query-migrate` on the source now.
    pub fn query_migrate_source(&self) -> MigrationInfo {
        self.src.query_migrate(self.now)
    }

    /// `query-migrate` on the destination now.
    pub fn query_migrate_destination(&self) -> MigrationInfo {
        self.sh.dest.query_migrate(self.now)
    }

    /// `query-status` on the source.
    pub fn query_status_source(&self) -> StatusInfo {
        self.src.query_status()
    }

    /// `query-status` on the destination.
    pub fn query_status_destination(&self) -> StatusInfo {
        self.sh.dest.query_status()
    }

    /// Everything observable now.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            time_ns: self.now,
            source: self.src.query_migrate(self.now),
            destination: self.sh.dest.query_migrate(self.now),
            source_status: self.src.query_status(),
            destination_status: self.sh.dest.query_status(),
            internals: self.src.internals(self.now),
        }
    }

    /// The earliest instant at which something is scheduled.
    pub fn next_event_ns(&self) -> Option<Nanos> {
        let a = self.actions.get(self.next_action).map(|(t, _, _)| *t);
        [self.src.next_time(), self.sh.dest.next_time(), a].into_iter().flatten().min()
    }

    /// Process everything due at the current instant.
    fn process_due(&mut self) {
        let now = self.now;
        loop {
            let mut progressed = self.src.commit_due(now);
            progressed |= self.src.fire_timers(now, &mut self.sh);
            self.snapshot_if_changed();
            progressed |= self.sh.dest.process(now, &mut self.sh.events);
            while let Some((t, _, _)) = self.actions.get(self.next_action) {
                if *t > now {
                    break;
                }
                let (_, idx, cmd) = self.actions[self.next_action].clone();
                self.next_action += 1;
                if let Err(error) = self.apply(cmd) {
                    self.refused.push(RefusedAction { time_ns: now, action: idx, error });
                }
                self.snapshot_if_changed();
                progressed = true;
            }
            // Guard against a thread that would loop without time passing.
            let mut steps = 0u32;
            while self.src.ready() && steps < 10_000 {
                self.src.horizon_ns =
                    self.actions.get(self.next_action).map_or(self.time_limit_ns, |a| a.0.min(self.time_limit_ns));
                self.src.step(now, &mut self.sh);
                self.snapshot_if_changed();
                steps += 1;
                progressed = true;
            }
            if !progressed {
                break;
            }
        }
    }

    fn snapshot_if_changed(&mut self) {
        if self.sh.status_changed {
            self.sh.status_changed = false;
            if self.record_transitions {
                let s = self.snapshot();
                self.transitions.push(s);
            }
        }
        for (t, status) in std::mem::take(&mut self.sh.entered) {
            self.arm_faults(t, status);
        }
    }

    /// Schedule the faults `status` arms, each once.
    fn arm_faults(&mut self, t: Nanos, status: MigrationStatus) {
        let (armed, rest): (Vec<FaultConfig>, Vec<FaultConfig>) =
            std::mem::take(&mut self.faults).into_iter().partition(|f| f.arming_state() == status);
        self.faults = rest;
        for f in armed {
            let at = t + ms_to_ns(f.after_ms.unwrap_or(0.0));
            match f.fault {
                FaultKind::LinkLoss => {
                    self.schedule(at, Command::LinkFail(f.error.clone()));
                    if let Some(d) = f.duration_ms {
                        self.schedule(at + ms_to_ns(d), Command::LinkRestore);
                    }
                }
                FaultKind::Destination => {
                    let error = f.error.clone().unwrap_or_else(|| "load of migration failed: Invalid argument".into());
                    self.schedule(at, Command::DestinationFail(error));
                }
                FaultKind::SaveSetup => {}
            }
        }
    }

    /// Insert a command among the pending actions (after those due at the
    /// same instant).
    fn schedule(&mut self, at: Nanos, cmd: Command) {
        let pending = &self.actions[self.next_action..];
        let pos = self.next_action + pending.partition_point(|(t, _, _)| *t <= at);
        self.actions.insert(pos, (at, None, cmd));
    }

    /// Advance simulated time to `t`, processing everything due up to and
    /// including `t`. A `t` in the past is ignored.
    pub fn advance_to(&mut self, t: Nanos) {
        self.process_due();
        while let Some(next) = self.next_event_ns() {
            if next > t {
                break;
            }
            self.now = next.max(self.now);
            self.process_due();
        }
        if t > self.now {
            self.now = t;
            self.process_due();
        }
    }

    /// Advance by `dt`.
    pub fn advance_by(&mut self, dt: Nanos) {
        self.advance_to(self.now.saturating_add(dt));
    }

    fn outcome(&self, timed_out: bool) -> RunOutcome {
        RunOutcome {
            end_ns: self.now,
            source_status: self.src.status,
            destination_status: self.sh.dest.status,
            timed_out,
        }
    }

    /// Run until nothing more is scheduled (the migration ended, or waits
    /// for a command no action will give) or the scenario's time limit.
    pub fn run_to_completion(&mut self) -> RunOutcome {
        self.process_due();
        while let Some(next) = self.next_event_ns() {
            if next > self.time_limit_ns {
                self.advance_to(self.time_limit_ns);
                return self.outcome(true);
            }
            self.now = next.max(self.now);
            self.process_due();
        }
        self.outcome(false)
    }

    /// Run like [`Simulation::run_to_completion`], calling `sample` with a
    /// snapshot every `period_ns` of simulated time (and once at the end).
    pub fn run_sampled(&mut self, period_ns: Nanos, mut sample: impl FnMut(&Snapshot)) -> RunOutcome {
        let period = period_ns.max(1);
        let mut t = self.now;
        loop {
            t = t.saturating_add(period);
            if t > self.time_limit_ns {
                self.advance_to(self.time_limit_ns);
                sample(&self.snapshot());
                return self.outcome(self.next_event_ns().is_some());
            }
            self.advance_to(t);
            sample(&self.snapshot());
            if self.next_event_ns().is_none() {
                return self.outcome(false);
            }
        }
    }

    fn apply(&mut self, cmd: Command) -> Result<(), CommandError> {
        let now = self.now;
        let r = match cmd {
            Command::Migrate => self.src.migrate(now, &mut self.sh),
            Command::Cancel => self.src.cancel(now, &mut self.sh),
            Command::SetParameters(u) => self.src.set_parameters(now, &u),
            Command::StartPostcopy => self.src.start_postcopy(),
            Command::Continue(s) => self.src.migrate_continue(now, s, &mut self.sh),
            Command::Resume => self.src.resume(now, &mut self.sh),
            Command::LinkBandwidth(b) => {
                self.src.set_link_bandwidth(b);
                Ok(())
            }
            Command::LinkFail(e) => {
                let error = e.unwrap_or_else(|| self.src.transport.write_error().to_string());
                self.src.link_fail(now, error, &mut self.sh);
                Ok(())
            }
            Command::DestinationFail(e) => {
                self.sh.dest.fail_now(now, e, &mut self.sh.events);
                self.src.peer_lost(now, &mut self.sh);
                Ok(())
            }
            Command::LinkRestore => {
                self.src.link_restore();
                Ok(())
            }
            Command::SetWriteRate(c, r) => {
                self.src.set_write_rate(now, c, r);
                Ok(())
            }
            Command::Cont => self.src.cont(now, &mut self.sh),
        };
        r.map_err(CommandError::generic)
    }

    fn command(&mut self, cmd: Command) -> Result<(), CommandError> {
        self.process_due();
        let r = self.apply(cmd);
        self.snapshot_if_changed();
        self.process_due();
        r
    }

    /// QMP `migrate` now.
    pub fn migrate(&mut self) -> Result<(), CommandError> {
        self.command(Command::Migrate)
    }

    /// QMP `migrate` with `resume: true` now.
    pub fn migrate_resume(&mut self) -> Result<(), CommandError> {
        self.command(Command::Resume)
    }

    /// `cont` on the source now: a VM paused, or in `postmigrate` after a
    /// completed migration, runs again. (`cont` is not in the project
    /// schema; this is for library users and scenario actions.)
    pub fn cont(&mut self) -> Result<(), CommandError> {
        self.command(Command::Cont)
    }

    /// QMP `migrate_cancel` now.
    pub fn migrate_cancel(&mut self) -> Result<(), CommandError> {
        self.command(Command::Cancel)
    }

    /// QMP `migrate-set-parameters` now.
    pub fn migrate_set_parameters(&mut self, update: &ParameterUpdate) -> Result<(), CommandError> {
        self.command(Command::SetParameters(Box::new(update.clone())))
    }

    /// QMP `migrate-set-capabilities` now (the full set after the change).
    pub fn migrate_set_capabilities(&mut self, caps: Capabilities) -> Result<(), CommandError> {
        self.process_due();
        self.src.set_capabilities(caps).map_err(CommandError::generic)
    }

    /// QMP `query-migrate-capabilities`.
    pub fn capabilities(&self) -> &Capabilities {
        &self.src.caps
    }

    /// QMP `query-migrate-parameters`.
    pub fn parameters(&self) -> &crate::config::MigrationParameters {
        &self.src.params
    }

    /// QMP `migrate-start-postcopy` now.
    pub fn migrate_start_postcopy(&mut self) -> Result<(), CommandError> {
        self.command(Command::StartPostcopy)
    }

    /// QMP `migrate-continue` now.
    pub fn migrate_continue(&mut self, state: MigrationStatus) -> Result<(), CommandError> {
        self.command(Command::Continue(state))
    }

    /// QMP `migrate` to `uri` now: like [`Simulation::migrate`], with the
    /// URI's target (what follows the scheme) named in connection errors.
    /// A refused command changes nothing, the target included.
    pub fn migrate_to(&mut self, uri: &str) -> Result<(), CommandError> {
        self.process_due();
        if self.src.status.is_running() {
            return Err(CommandError::generic("There's a migration process in progress".into()));
        }
        let transport = Transport::parse(uri).map_err(CommandError::generic)?;
        let target = uri.split_once(':').map_or(String::new(), |(_, t)| t.to_string());
        let old_target = std::mem::replace(&mut self.src.uri_target, target);
        let old_transport = std::mem::replace(&mut self.src.transport, transport);
        let r = self.command(Command::Migrate);
        if r.is_err() {
            self.src.uri_target = old_target;
            self.src.transport = old_transport;
        }
        r
    }

    /// The source's migration status.
    pub fn source_status(&self) -> MigrationStatus {
        self.src.status
    }

    /// The destination's migration status.
    pub fn destination_status(&self) -> MigrationStatus {
        self.sh.dest.status
    }

    /// Whether the destination listens for an incoming migration (started
    /// with `-incoming URI`, or after `migrate-incoming`).
    pub fn destination_listening(&self) -> bool {
        self.sh.dest.listening
    }

    /// QMP `migrate-incoming` on a destination started with
    /// `-incoming defer`: start listening on `uri` now. The caller checks
    /// QEMU's preconditions (deferred, not started yet); a socket URI
    /// becomes the reported listening address. A `file:` URI loads a file a
    /// migration of this simulation saved completely (QEMU's error when
    /// there is no such file).
    pub fn migrate_incoming(&mut self, uri: &str) -> Result<(), CommandError> {
        self.process_due();
        let transport = Transport::parse(uri).map_err(CommandError::generic)?;
        let saved = match &transport {
            Transport::File { path, .. } => match self.sh.saved_files.get(path) {
                Some(file) => Some(*file),
                None => {
                    return Err(CommandError::generic(format!("Could not open '{path}': No such file or directory")))
                }
            },
            _ => None,
        };
        self.sh.dest.address = crate::report::listening_address(uri);
        self.sh.dest.listening = true;
        match (saved, transport) {
            (Some(file), Transport::File { path, .. }) => {
                self.sh.dest.from_file = Some(path);
                self.sh.dest.load_file(self.now, file, &mut self.sh.events);
            }
            _ => {
                self.sh.dest.from_file = None;
                self.sh.dest.start_incoming(self.now, &mut self.sh.events);
            }
        }
        self.snapshot_if_changed();
        self.process_due();
        Ok(())
    }

    /// The destination's `events` capability (each side has its own).
    pub fn set_destination_events(&mut self, on: bool) {
        self.sh.dest.events_on = on;
    }

    /// The destination's `events` capability.
    pub fn destination_events(&self) -> bool {
        self.sh.dest.events_on
    }

    /// Change the time after which [`Simulation::run_to_completion`] stops
    /// (a server pacing the simulation runs without one).
    pub fn set_time_limit(&mut self, limit_ns: Nanos) {
        self.time_limit_ns = limit_ns;
    }

    /// Break the link now (simulator control).
    pub fn link_fail(&mut self, error: &str) {
        let _ = self.command(Command::LinkFail(Some(error.to_string())));
    }

    /// Repair the link (simulator control).
    pub fn link_restore(&mut self) {
        let _ = self.command(Command::LinkRestore);
    }

    /// Change the link bandwidth, bytes/s (simulator control).
    pub fn set_link_bandwidth(&mut self, bytes_per_s: f64) {
        let _ = self.command(Command::LinkBandwidth(bytes_per_s));
    }

    /// Change a page class's write rate (simulator control).
    pub fn set_write_rate(&mut self, class: &str, page_writes_per_s: f64) -> Result<(), CommandError> {
        let ci = self
            .src
            .engine
            .layout()
            .class_index(class)
            .ok_or_else(|| CommandError::generic(format!("no page class named '{class}'")))?;
        self.command(Command::SetWriteRate(ci, page_writes_per_s))
    }
}

/// The scenario's timed actions as commands, in time order (the automatic
/// `migrate` first among equals).
fn scheduled_actions(
    scenario: &Scenario,
    layout: &crate::memory::MemoryLayout,
) -> Vec<(Nanos, Option<usize>, Command)> {
    let mut actions = Vec::new();
    if scenario.migration.auto_start {
        actions.push((ms_to_ns(scenario.migration.start_at_ms), None, Command::Migrate));
    }
    for (i, a) in scenario.actions.iter().enumerate() {
        let cmd = match a.action {
            ActionKind::Migrate => Command::Migrate,
            ActionKind::Cancel => Command::Cancel,
            ActionKind::SetParameters => Command::SetParameters(Box::new(a.parameters.clone().unwrap_or_default())),
            ActionKind::StartPostcopy => Command::StartPostcopy,
            ActionKind::Continue => Command::Continue(a.state.unwrap_or(MigrationStatus::PreSwitchover)),
            ActionKind::Resume => Command::Resume,
            ActionKind::LinkBandwidth => Command::LinkBandwidth(a.bandwidth.map_or(0.0, |b| b.0)),
            ActionKind::LinkFail => Command::LinkFail(a.error.clone()),
            ActionKind::LinkRestore => Command::LinkRestore,
            ActionKind::Cont => Command::Cont,
            ActionKind::SetWriteRate => {
                let Some(ci) = a.class.as_deref().and_then(|c| layout.class_index(c)) else { continue };
                Command::SetWriteRate(ci, a.write_rate.unwrap_or(0.0))
            }
        };
        actions.push((ms_to_ns(a.at_ms), Some(i), cmd));
    }
    // Stable: actions at the same instant keep scenario order.
    actions.sort_by_key(|(t, _, _)| *t);
    actions
}
