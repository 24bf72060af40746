//! `migration-sim serve`: a source and a destination QMP monitor over one
//! simulated migration, paced against the wall clock, for real QMP
//! clients (libvirt-style tooling, `qemu.qmp`, `qmp-shell`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use migration_sim::qmp::{serve, ServeError, ServeOptions, SimHost};
use qapi_runtime::server::{ListenAddr, Listening};

use super::{fail, load_scenario, Preset};

/// `migration-sim serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The source QEMU's monitor: unix:PATH or tcp:HOST:PORT.
    #[arg(long, value_name = "ADDR", value_parser = parse_addr)]
    pub qmp: ListenAddr,
    /// The destination QEMU's monitor: unix:PATH or tcp:HOST:PORT.
    #[arg(long = "dest-qmp", value_name = "ADDR", value_parser = parse_addr)]
    pub dest_qmp: ListenAddr,
    /// Simulated seconds per wall-clock second.
    #[arg(long, default_value_t = 1.0, value_name = "N")]
    pub speed: f64,
    /// The guest, link and devices, from a scenario file (TOML); its
    /// automatic migrate and time limit are ignored: clients migrate.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// The built-in guest to serve when no scenario file is given.
    #[arg(long, value_enum, default_value = "default")]
    pub preset: Preset,
    /// Start the destination as with `-incoming defer`: it listens only
    /// after `migrate-incoming`.
    #[arg(long)]
    pub defer_incoming: bool,
    /// Allow a tcp: monitor on an address other than loopback (e.g.
    /// 0.0.0.0). QMP has no authentication: whoever reaches the port
    /// controls the simulated VM, so this is refused unless asked for.
    #[arg(long)]
    pub allow_remote: bool,
}

fn parse_addr(s: &str) -> Result<ListenAddr, String> {
    s.parse()
}

fn describe(l: &Listening) -> String {
    match l {
        Listening::Unix(p) => format!("unix:{}", p.display()),
        Listening::Tcp(a) => format!("tcp:{a}"),
    }
}

/// Reports why serving could not start, as every subcommand reports its
/// errors (exit status 2).
fn serve_failed(e: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("migration-sim: error: {e}");
    ExitCode::from(2)
}

/// Logs to stderr, filtered by `RUST_LOG` (default: `info`: monitors,
/// refused commands, migration state changes; `debug` adds every command).
fn install_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Fails only if a subscriber is already installed: keep that one.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).try_init();
}

/// SIGINT, SIGTERM and SIGHUP, caught from creation on (so that a signal
/// arriving before the server waits for one is not lost).
struct StopSignals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn new() -> std::io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(StopSignals {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    /// The next of them, by name.
    async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.int.recv() => "SIGINT",
            _ = self.term.recv() => "SIGTERM",
            _ = self.hup.recv() => "SIGHUP",
        }
    }
}

/// Runs the monitors until SIGINT, SIGTERM or SIGHUP, or until a client
/// sends `quit`; then answers the requests in flight, closes the monitors
/// and removes their sockets.
pub fn run(args: &Args) -> ExitCode {
    install_logging();
    let scenario = match load_scenario(args.scenario.as_deref(), args.preset) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    let options = ServeOptions {
        speed: args.speed,
        defer_incoming: args.defer_incoming,
        tick: Duration::from_millis(10),
        allow_remote: args.allow_remote,
    };
    let host = match SimHost::new(&scenario, &options) {
        Ok(h) => h,
        Err(e) => return serve_failed(&e),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return serve_failed(&e),
    };
    runtime.block_on(async {
        let mut signals = match StopSignals::new() {
            Ok(s) => s,
            Err(e) => return serve_failed(&e),
        };
        let served = match serve(host.clone(), &args.qmp, &args.dest_qmp, &options).await {
            Ok(s) => s,
            Err(e) => {
                let code = serve_failed(&e);
                if let ServeError::Listen { source, .. } = &e {
                    if source.kind() == std::io::ErrorKind::PermissionDenied && !args.allow_remote {
                        eprintln!("migration-sim: --allow-remote lets a tcp: monitor listen beyond loopback");
                    }
                }
                return code;
            }
        };
        eprintln!(
            "migration-sim: source QMP on {}, destination QMP on {} (speed {}x{})",
            describe(&served.source_addr),
            describe(&served.destination_addr),
            args.speed,
            if args.defer_incoming { ", destination waits for migrate-incoming" } else { "" }
        );
        match host.incoming_uri() {
            Some(uri) => eprintln!("migration-sim: the destination listens on {uri}: give that URI to the source's migrate"),
            None => eprintln!(
                "migration-sim: the destination listens once given migrate-incoming: give the source's migrate the same URI"
            ),
        }
        let why = tokio::select! {
            signal = signals.recv() => signal,
            () = host.quit_requested() => "quit",
        };
        tracing::info!(reason = why, "shutting down");
        served.shutdown().await;
        ExitCode::SUCCESS
    })
}
