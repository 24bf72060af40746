//! Serving the simulation over QMP: a source monitor and a destination
//! monitor, each a `qapi_runtime` server running the generated
//! [`CommandServer`] over one shared [`Simulation`].
//!
//! ```text
//!   QMP client ──▶ Server (source)      ─┐                       ┌─▶ events (source side)
//!                   CommandDispatcher<Monitor{Source}>            │
//!                                        ├─▶ SimHost ─ Simulation ┤
//!   QMP client ──▶ Server (destination) ─┘   (Mutex)              └─▶ events (destination side)
//!                   CommandDispatcher<Monitor{Destination}>
//!                                  ticker task: paces simulated time against the wall clock
//! ```
//!
//! Simulated time follows the wall clock times a speed factor: a tokio task
//! advances the simulation every few milliseconds and sends the events that
//! occurred to the side that emitted them, and every command first brings
//! the simulation up to the present, so answers and events agree.
//!
//! Each side has what QEMU gives each process: its own `events` capability
//! (the destination's capabilities and parameters are kept here; the
//! simulation models the source's), `query-migrate` from its own point of
//! view, and QEMU's refusals with QEMU's wording and error class, checked
//! before anything changes.

use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use qapi_runtime::server::{EventSink, ListenAddr, Listening, Server, ServerConfig, VersionInfo};
use qapi_runtime::wire::{EventMessage, Timestamp};
use qapi_runtime::{Empty, Error};
use serde_json::Value;

mod args;

use crate::config::{Capabilities, MigrationParameters as SimParameters, Scenario};
use crate::events::{Event, Side};
use crate::hmp::{self, HmpContext};
use crate::qapi::{
    CommandDispatcher, CommandServer, HumanMonitorCommandArguments, MigrateArguments, MigrateContinueArguments,
    MigrateIncomingArguments, MigrateRecoverArguments, MigrateSetCapabilitiesArguments, MigrationCapabilityStatus,
    MigrationInfo, MigrationParameters, StatusInfo,
};
use crate::sim::{CommandError, SimError, Simulation};
use crate::status::{MigrationStatus, RunState};
use crate::units::Nanos;
use args::{capabilities_reply, capabilities_update, check_uri, parameter_update, parameters_reply, target_uri};

/// How the simulation is served.
#[derive(Debug, Clone, PartialEq)]
pub struct ServeOptions {
    /// Simulated seconds per wall-clock second (1 = real time).
    pub speed: f64,
    /// The destination was started with `-incoming defer`: it listens
    /// only after `migrate-incoming`. Otherwise it was started with
    /// `-incoming URI` and listens from the start.
    pub defer_incoming: bool,
    /// How often the simulation is advanced and events are sent.
    pub tick: Duration,
    /// Let a `tcp:` monitor listen on an address beyond loopback. QMP has
    /// no authentication: anyone who reaches the port drives the VM.
    pub allow_remote: bool,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions { speed: 1.0, defer_incoming: false, tick: Duration::from_millis(10), allow_remote: false }
    }
}

/// Why serving could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The scenario is invalid.
    #[error(transparent)]
    Scenario(#[from] SimError),
    /// The speed factor is not a positive finite number.
    #[error("the speed factor must be a positive number, not {0}")]
    Speed(f64),
    /// The generated introspection is not valid JSON (a build problem).
    #[error("the generated query-qmp-schema value is not JSON: {0}")]
    Schema(#[from] serde_json::Error),
    /// Both monitors were given the same address.
    #[error("the source and destination monitors cannot both listen on {0}")]
    SameAddress(String),
    /// A monitor socket could not be set up.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: String,
        /// What the system said.
        #[source]
        source: io::Error,
    },
}

/// Wall clock to simulated time.
#[derive(Debug, Clone, Copy)]
struct Pace {
    wall0: Instant,
    sim0: Nanos,
    speed: f64,
}

impl Pace {
    fn target(&self, now: Instant) -> Nanos {
        let dt = now.saturating_duration_since(self.wall0).as_secs_f64() * self.speed * 1e9;
        self.sim0.saturating_add(dt as Nanos)
    }
}

/// What both monitors share.
struct HostState {
    sim: Simulation,
    pace: Pace,
    /// Events of the simulation's log already sent.
    delivered: usize,
    source_sink: Option<EventSink>,
    destination_sink: Option<EventSink>,
    /// The destination's `-incoming` was `defer`.
    deferred: bool,
    /// QEMU's "incoming migration started once" (by `-incoming URI` or
    /// by `migrate-incoming`).
    incoming_started: bool,
    /// The destination's capabilities (its `events` is the simulation's
    /// destination events switch).
    dest_caps: Capabilities,
    /// The destination's parameters.
    dest_params: SimParameters,
    page_size: u64,
    dirty_ring_size: u32,
    /// The URI the destination was started with (`-incoming URI`).
    incoming_uri: String,
}

impl HostState {
    /// Bring simulated time up to the wall clock and send what happened.
    fn catch_up(&mut self) {
        let target = self.pace.target(Instant::now());
        if target > self.sim.now_ns() {
            self.sim.advance_to(target);
        }
        self.deliver();
    }

    /// Send the events not sent yet, each to the monitor of its side.
    fn deliver(&mut self) {
        let log = self.sim.event_log();
        for rec in log.since(self.delivered) {
            let sink = match rec.side {
                Side::Source => &self.source_sink,
                Side::Destination => &self.destination_sink,
            };
            if let Event::Migration { status } = rec.event {
                tracing::info!(side = side_name(rec.side), status = status.as_str(), "migration state");
            }
            if let Some(sink) = sink {
                sink.send(&event_message(&rec.event, rec.timestamp.seconds, rec.timestamp.microseconds));
            }
        }
        self.delivered = log.len();
    }
}

fn event_message(event: &Event, seconds: i64, microseconds: i64) -> EventMessage {
    let data = match event {
        Event::Migration { status } => Some(serde_json::json!({ "status": status.as_str() })),
        Event::MigrationPass { pass } => Some(serde_json::json!({ "pass": pass })),
        Event::Stop | Event::Resume => None,
    };
    EventMessage { event: event.name().to_string(), data, timestamp: Timestamp { seconds, microseconds } }
}

/// A simulation served to two monitors, paced against the wall clock.
pub struct SimHost {
    state: Mutex<HostState>,
    quit: tokio::sync::watch::Sender<bool>,
}

impl std::fmt::Debug for SimHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHost").finish_non_exhaustive()
    }
}

impl SimHost {
    /// A host for `scenario`. The scenario's automatic `migrate` and time
    /// limit are dropped (clients migrate, and the simulation runs as long
    /// as it is served); simulated time 0 is now.
    pub fn new(scenario: &Scenario, options: &ServeOptions) -> Result<Arc<Self>, ServeError> {
        if !(options.speed.is_finite() && options.speed > 0.0) {
            return Err(ServeError::Speed(options.speed));
        }
        let mut sc = scenario.clone();
        sc.migration.auto_start = false;
        sc.start_time_unix = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        if options.defer_incoming {
            sc.destination.listening = false;
        }
        let mut sim = Simulation::new(&sc)?;
        // Commands arrive at any time: no fast-forwarded batches, no end.
        sim.set_batching(false);
        sim.set_time_limit(Nanos::MAX);
        let dest_caps = Capabilities { events: sim.destination_events(), ..Capabilities::default() };
        // Events of the start (the destination's `setup` under
        // `-incoming URI`) happen before any monitor client exists.
        let delivered = sim.event_log().len();
        let state = HostState {
            sim,
            pace: Pace { wall0: Instant::now(), sim0: 0, speed: options.speed },
            delivered,
            source_sink: None,
            destination_sink: None,
            deferred: options.defer_incoming,
            incoming_started: !options.defer_incoming,
            dest_caps,
            dest_params: sc.migration.parameters.clone(),
            page_size: sc.guest.page_size,
            dirty_ring_size: sc.guest.dirty_ring_size,
            incoming_uri: sc.migration.uri.clone(),
        };
        let (quit, _) = tokio::sync::watch::channel(false);
        Ok(Arc::new(SimHost { state: Mutex::new(state), quit }))
    }

    fn lock(&self) -> MutexGuard<'_, HostState> {
        // A panic while holding the lock leaves a simulation that is still
        // consistent between commands; keep serving it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The URI a client gives the source's `migrate`: where the destination
    /// listens (`-incoming URI`); none while a deferred destination waits
    /// for `migrate-incoming`, whose URI it is then.
    pub fn incoming_uri(&self) -> Option<String> {
        let st = self.lock();
        (!st.deferred).then(|| st.incoming_uri.clone())
    }

    /// Where each side's events go.
    pub fn set_event_sinks(&self, source: EventSink, destination: EventSink) {
        let mut st = self.lock();
        st.source_sink = Some(source);
        st.destination_sink = Some(destination);
    }

    /// Advance the simulation to the wall clock and send its events.
    pub fn tick(&self) {
        self.lock().catch_up();
    }

    /// Run `f` on the simulation brought up to the present, then send the
    /// events it caused.
    pub fn with_sim<R>(&self, f: impl FnOnce(&mut Simulation) -> R) -> R {
        let mut st = self.lock();
        st.catch_up();
        let r = f(&mut st.sim);
        st.deliver();
        r
    }

    /// The monitor of one side.
    pub fn monitor(self: &Arc<Self>, side: Side) -> Monitor {
        Monitor { host: Arc::clone(self), side }
    }

    /// Resolves once a client sent `quit` to either monitor.
    pub async fn quit_requested(&self) {
        let mut rx = self.quit.subscribe();
        let _ = rx.wait_for(|q| *q).await;
    }

    fn run<R>(&self, f: impl FnOnce(&mut HostState) -> Result<R, Error>) -> Result<R, Error> {
        let mut st = self.lock();
        st.catch_up();
        let r = f(&mut st);
        st.deliver();
        r
    }
}

/// One side's monitor: implements the generated [`CommandServer`].
#[derive(Debug, Clone)]
pub struct Monitor {
    host: Arc<SimHost>,
    side: Side,
}

fn qmp_error(e: CommandError) -> Error {
    // Every refusal the simulator models is a GenericError in QEMU.
    Error::generic(e.desc)
}

impl HostState {
    /// `query-migrate-parameters` of one side.
    fn parameters(&self, side: Side) -> Result<MigrationParameters, Error> {
        match side {
            Side::Source => parameters_reply(self.sim.parameters()),
            Side::Destination => parameters_reply(&self.dest_params),
        }
    }

    /// `query-migrate-capabilities` of one side.
    fn capabilities(&self, side: Side) -> Result<Vec<MigrationCapabilityStatus>, Error> {
        match side {
            Side::Source => capabilities_reply(self.sim.capabilities()),
            Side::Destination => capabilities_reply(&self.dest_caps),
        }
    }
}

struct HmpView<'a> {
    st: &'a HostState,
    side: Side,
}

impl HmpContext for HmpView<'_> {
    fn query_migrate(&mut self) -> MigrationInfo {
        match self.side {
            Side::Source => self.st.sim.query_migrate_source(),
            Side::Destination => self.st.sim.query_migrate_destination(),
        }
    }

    fn query_status(&mut self) -> StatusInfo {
        match self.side {
            Side::Source => self.st.sim.query_status_source(),
            Side::Destination => self.st.sim.query_status_destination(),
        }
    }

    fn query_migrate_parameters(&mut self) -> MigrationParameters {
        // The replies are built from the simulator's own types and cannot
        // fail short of a build problem; HMP shows nothing then.
        self.st.parameters(self.side).unwrap_or_default()
    }

    fn query_migrate_capabilities(&mut self) -> Vec<MigrationCapabilityStatus> {
        self.st.capabilities(self.side).unwrap_or_default()
    }
}

impl Monitor {
    fn is_source(&self) -> bool {
        self.side == Side::Source
    }

    /// Run one QMP command on the shared state, with a trace of it.
    fn run<R>(&self, command: &'static str, f: impl FnOnce(&mut HostState) -> Result<R, Error>) -> Result<R, Error> {
        let side = side_name(self.side);
        tracing::debug!(side, command, "QMP command");
        let r = self.host.run(f);
        if let Err(e) = &r {
            tracing::info!(side, command, error = %e.desc, "QMP command refused");
        }
        r
    }
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Source => "source",
        Side::Destination => "destination",
    }
}

impl CommandServer for Monitor {
    fn query_status(&self) -> Result<StatusInfo, Error> {
        self.run("query-status", |st| {
            Ok(match self.side {
                Side::Source => st.sim.query_status_source(),
                Side::Destination => st.sim.query_status_destination(),
            })
        })
    }

    fn query_migrate(&self) -> Result<MigrationInfo, Error> {
        self.run("query-migrate", |st| {
            Ok(match self.side {
                Side::Source => st.sim.query_migrate_source(),
                Side::Destination => st.sim.query_migrate_destination(),
            })
        })
    }

    fn migrate_set_capabilities(&self, arguments: MigrateSetCapabilitiesArguments) -> Result<Empty, Error> {
        self.run("migrate-set-capabilities", |st| {
            if self.is_source() {
                let caps = capabilities_update(st.sim.capabilities(), &arguments.capabilities)?;
                st.sim.migrate_set_capabilities(caps).map_err(qmp_error)?;
            } else {
                let caps = capabilities_update(&st.dest_caps, &arguments.capabilities)?;
                caps.check(&st.dest_params, st.dirty_ring_size).map_err(|e| Error::generic(e.message))?;
                st.sim.set_destination_events(caps.events);
                st.dest_caps = caps;
            }
            Ok(Empty {})
        })
    }

    fn query_migrate_capabilities(&self) -> Result<Vec<MigrationCapabilityStatus>, Error> {
        self.run("query-migrate-capabilities", |st| st.capabilities(self.side))
    }

    fn migrate_set_parameters(&self, arguments: MigrationParameters) -> Result<Empty, Error> {
        let update = parameter_update(&arguments)?;
        self.run("migrate-set-parameters", |st| {
            if self.is_source() {
                st.sim.migrate_set_parameters(&update).map_err(qmp_error)?;
            } else {
                let merged = update.apply_to(&st.dest_params);
                merged
                    .check_update(&st.dest_params, st.page_size, &st.dest_caps)
                    .map_err(|e| Error::generic(e.message))?;
                st.dest_params = merged;
            }
            Ok(Empty {})
        })
    }

    fn query_migrate_parameters(&self) -> Result<MigrationParameters, Error> {
        self.run("query-migrate-parameters", |st| st.parameters(self.side))
    }

    fn migrate_start_postcopy(&self) -> Result<Empty, Error> {
        self.run("migrate-start-postcopy", |st| {
            if !self.is_source() {
                return Err(Error::generic("Postcopy must be started after migration has been started"));
            }
            st.sim.migrate_start_postcopy().map_err(qmp_error)?;
            Ok(Empty {})
        })
    }

    fn migrate_cancel(&self) -> Result<Empty, Error> {
        self.run("migrate_cancel", |st| {
            if self.is_source() {
                st.sim.migrate_cancel().map_err(qmp_error)?;
            } else if st.sim.destination_status().is_postcopy() {
                return Err(Error::generic("Postcopy migration in progress, cannot cancel."));
            }
            // On the destination there is no outgoing migration to cancel:
            // QEMU answers success.
            Ok(Empty {})
        })
    }

    fn migrate_continue(&self, arguments: MigrateContinueArguments) -> Result<Empty, Error> {
        self.run("migrate-continue", |st| {
            if self.is_source() {
                st.sim.migrate_continue(arguments.state).map_err(qmp_error)?;
                Ok(Empty {})
            } else {
                Err(Error::generic(format!("Migration not in expected state: {}", MigrationStatus::None)))
            }
        })
    }

    fn migrate(&self, arguments: MigrateArguments) -> Result<Empty, Error> {
        let uri = target_uri("migrate", arguments.uri, arguments.channels)?;
        self.run("migrate", |st| {
            if !self.is_source() {
                return Err(Error::generic(if st.sim.query_status_destination().status == RunState::Inmigrate {
                    "Guest is waiting for an incoming migration"
                } else {
                    "migration-sim: the destination's guest cannot be migrated onwards"
                }));
            }
            if arguments.resume == Some(true) {
                st.sim.migrate_resume().map_err(qmp_error)?;
            } else {
                st.sim.migrate_to(&uri).map_err(qmp_error)?;
            }
            Ok(Empty {})
        })
    }

    fn migrate_incoming(&self, arguments: MigrateIncomingArguments) -> Result<Empty, Error> {
        self.run("migrate-incoming", |st| {
            if self.is_source() {
                // The source QEMU was not started with -incoming.
                return Err(Error::generic("'-incoming' was not specified on the command line"));
            }
            if st.incoming_started || !st.deferred {
                return Err(Error::generic("The incoming migration has already been started"));
            }
            let uri = target_uri("migrate-incoming", arguments.uri, arguments.channels)?;
            check_uri(&uri)?.check_capabilities(&st.dest_caps, &st.dest_params).map_err(Error::generic)?;
            st.sim.migrate_incoming(&uri).map_err(qmp_error)?;
            st.incoming_started = true;
            Ok(Empty {})
        })
    }

    fn migrate_recover(&self, arguments: MigrateRecoverArguments) -> Result<Empty, Error> {
        self.run("migrate-recover", |st| {
            if self.is_source() || st.sim.destination_status() != MigrationStatus::PostcopyPaused {
                return Err(Error::generic("Migrate recover can only be run when postcopy is paused."));
            }
            check_uri(&arguments.uri)?;
            st.sim.link_restore();
            Ok(Empty {})
        })
    }

    fn migrate_pause(&self) -> Result<Empty, Error> {
        self.run("migrate-pause", |st| {
            let status = match self.side {
                Side::Source => st.sim.source_status(),
                Side::Destination => st.sim.destination_status(),
            };
            if !matches!(status, MigrationStatus::PostcopyActive | MigrationStatus::PostcopyRecover) {
                return Err(Error::generic(
                    "migrate-pause is currently only supported during postcopy-active or postcopy-recover state",
                ));
            }
            // Pausing shuts the channels down: the link breaks.
            st.sim.link_fail("Channel shutdown by migrate-pause");
            Ok(Empty {})
        })
    }

    fn quit(&self) -> Result<Empty, Error> {
        self.host.quit.send_replace(true);
        Ok(Empty {})
    }

    fn human_monitor_command(&self, arguments: HumanMonitorCommandArguments) -> Result<String, Error> {
        self.run("human-monitor-command", |st| {
            Ok(hmp::execute(&arguments.command_line, &mut HmpView { st, side: self.side }))
        })
    }
}

/// The `VersionInfo` both monitors report.
pub fn version_info() -> VersionInfo {
    VersionInfo::new(10, 2, 0, format!("migration-sim {}", env!("CARGO_PKG_VERSION")))
}

/// The two QMP servers of a served simulation and the task pacing it.
#[derive(Debug)]
pub struct Served {
    /// The source's monitor.
    pub source: Server,
    /// The destination's monitor.
    pub destination: Server,
    /// Where the source's monitor listens.
    pub source_addr: Listening,
    /// Where the destination's monitor listens.
    pub destination_addr: Listening,
    /// The simulation.
    pub host: Arc<SimHost>,
    ticker: tokio::task::JoinHandle<()>,
}

impl Served {
    /// Stops pacing and closes both monitors.
    pub async fn shutdown(self) {
        self.ticker.abort();
        self.source.shutdown().await;
        self.destination.shutdown().await;
    }
}

fn listen_name(addr: &ListenAddr) -> String {
    match addr {
        ListenAddr::Unix(p) => format!("unix:{}", p.display()),
        ListenAddr::Tcp(a) => format!("tcp:{a}"),
    }
}

/// Whether two monitor addresses would be the same socket (a TCP port 0 is
/// a fresh port each time).
fn same_address(a: &ListenAddr, b: &ListenAddr) -> bool {
    match (a, b) {
        (ListenAddr::Unix(p), ListenAddr::Unix(q)) => lexical_absolute(p) == lexical_absolute(q),
        (ListenAddr::Tcp(x), ListenAddr::Tcp(y)) => x == y && x.port() != 0,
        _ => false,
    }
}

/// `p` made absolute, `.` and `..` resolved without looking at the file
/// system (the sockets do not exist yet).
fn lexical_absolute(p: &std::path::Path) -> std::path::PathBuf {
    use std::path::Component;
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut out = std::path::PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Serves `host` on two monitors (call inside a tokio runtime): QMP
/// built-ins from the runtime, `query-qmp-schema` from the generated
/// introspection, everything else from [`Monitor`]; a task advances the
/// simulation every `options.tick`.
pub async fn serve(
    host: Arc<SimHost>,
    source_addr: &ListenAddr,
    destination_addr: &ListenAddr,
    options: &ServeOptions,
) -> Result<Served, ServeError> {
    if same_address(source_addr, destination_addr) {
        return Err(ServeError::SameAddress(listen_name(source_addr)));
    }
    let schema: Value = serde_json::from_str(crate::QMP_SCHEMA_JSON)?;
    let config = ServerConfig::new().version(version_info()).schema(schema).allow_non_loopback(options.allow_remote);
    let source = Server::new(Arc::new(CommandDispatcher(host.monitor(Side::Source))), config.clone());
    let destination = Server::new(Arc::new(CommandDispatcher(host.monitor(Side::Destination))), config);
    host.set_event_sinks(source.events(), destination.events());
    let listen = |server: &Server, addr: &ListenAddr| {
        let server = server.clone();
        let addr = addr.clone();
        async move { server.listen(&addr).await.map_err(|source| ServeError::Listen { addr: listen_name(&addr), source }) }
    };
    let source_listening = listen(&source, source_addr).await?;
    tracing::info!(side = "source", addr = %listen_name(source_addr), "QMP monitor listening");
    let destination_listening = match listen(&destination, destination_addr).await {
        Ok(l) => {
            tracing::info!(side = "destination", addr = %listen_name(destination_addr), "QMP monitor listening");
            l
        }
        Err(e) => {
            source.shutdown().await;
            return Err(e);
        }
    };
    let tick = options.tick.max(Duration::from_millis(1));
    let pacer = Arc::downgrade(&host);
    let ticker = tokio::spawn(async move {
        let mut interval = tokio::time::interval(tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            let Some(host) = pacer.upgrade() else { break };
            // Advancing may take a while on a big guest: off the reactor.
            let _ = tokio::task::spawn_blocking(move || host.tick()).await;
        }
    });
    Ok(Served {
        source,
        destination,
        source_addr: source_listening,
        destination_addr: destination_listening,
        host,
        ticker,
    })
}

#[cfg(test)]
mod tests {
    use super::args::channels_uri;
    use super::*;
    use crate::qapi::StrOrNull;
    use crate::qapi::{MigrationAddress, MigrationCapability, MigrationChannel, MigrationChannelType};

    #[test]
    fn uris_are_checked_as_qemu_checks_them() {
        assert!(check_uri("tcp:192.0.2.2:4444").is_ok());
        assert_eq!(check_uri("tcp:192.0.2.2").unwrap_err().desc, "error parsing address '192.0.2.2'");
        assert_eq!(check_uri("foo:bar").unwrap_err().desc, "unknown migration protocol: foo:bar");
    }

    #[test]
    fn parameters_round_trip_through_the_schema_types() {
        let p = SimParameters::default();
        let reply = parameters_reply(&p).unwrap();
        assert_eq!(reply.downtime_limit, Some(300));
        assert_eq!(reply.max_bandwidth, Some(128 << 20));
        assert_eq!(reply.tls_creds, Some(StrOrNull::S(String::new())));
        let update = parameter_update(&reply).unwrap();
        assert_eq!(update.apply_to(&SimParameters::default()), p);
    }

    #[test]
    fn capabilities_are_listed_in_schema_order() {
        let caps = Capabilities { events: true, ..Capabilities::default() };
        let list = capabilities_reply(&caps).unwrap();
        assert_eq!(list.len(), 21);
        assert_eq!(list[0].capability, MigrationCapability::Xbzrle);
        assert!(list.iter().any(|c| c.capability == MigrationCapability::Events && c.state));
        let back = capabilities_update(&Capabilities::default(), &list).unwrap();
        assert_eq!(back, caps);
    }

    #[test]
    fn both_monitors_cannot_share_an_address() {
        let unix = |p: &str| ListenAddr::Unix(p.into());
        assert!(same_address(&unix("/tmp/m.sock"), &unix("/tmp/m.sock")));
        assert!(same_address(&unix("/tmp/../tmp/./m.sock"), &unix("/tmp/m.sock")));
        assert!(!same_address(&unix("/tmp/a.sock"), &unix("/tmp/b.sock")));
        let tcp = |s: &str| ListenAddr::Tcp(s.parse().unwrap());
        assert!(same_address(&tcp("127.0.0.1:4444"), &tcp("127.0.0.1:4444")));
        assert!(!same_address(&tcp("127.0.0.1:0"), &tcp("127.0.0.1:0")));
    }

    #[test]
    fn channels_name_their_main_address() {
        let ch = vec![MigrationChannel {
            channel_type: MigrationChannelType::Main,
            addr: MigrationAddress::Socket(crate::report::inet_address("192.0.2.7", "4446")),
        }];
        assert_eq!(channels_uri(&ch).unwrap(), "tcp:192.0.2.7:4446");
        assert_eq!(channels_uri(&[]).unwrap_err().desc, "Channel list has no main entry");
    }
}
