//! `migration-sim fit` against real QEMU: record a migration of a small
//! guest that dirties memory at a steady rate, fit it, and check that the
//! fit's replay predicts the real run's total time and bytes within 15%;
//! then record runs with a changed parameter and check the fit's what-if
//! predictions (made from the first trace only) against them.
//!
//! The guest is `tests/guest/dirty.s`, assembled and linked here with
//! binutils into a multiboot image that QEMU's `-kernel` boots (TCG; KVM is
//! not needed). Skipped, saying so, when `qemu-system-x86_64`, `as` or `ld`
//! is missing or cannot build a 32-bit image (a failure where
//! `QAPI_REQUIRE_REAL` is set, as `.ci/run` does when it has the tools).
//!
//! The traces are kept in `target/tmp/fit-real/` for a look after a
//! failure.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

/// The guest: a 16 MiB working set written at 1000 random pages a second,
/// in 128 MiB of RAM.
const WS_PAGES: u32 = 4096;
const WRITE_RATE: u32 = 1000;
const RAM_MIB: u32 = 128;
/// The recorded runs: QEMU's rate limit keeps each to a few seconds of a
/// few passes over the working set.
const BASE_BANDWIDTH: u64 = 8 << 20;
const BASE_DOWNTIME_LIMIT: u64 = 300;
/// Tolerance of every prediction (the 15%).
const TOLERANCE: f64 = 0.15;

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

struct Tools {
    qemu: PathBuf,
    assembler: PathBuf,
    linker: PathBuf,
}

fn tools() -> Result<Tools, String> {
    let find = |name: &str, package: &str| {
        on_path(name).ok_or_else(|| format!("{name} is not on the PATH (Debian: apt-get install {package})"))
    };
    Ok(Tools {
        qemu: find("qemu-system-x86_64", "-t bookworm-backports qemu-system-x86")?,
        assembler: find("as", "binutils")?,
        linker: find("ld", "binutils")?,
    })
}

/// Assemble and link the guest; an error means the toolchain cannot build
/// it (say, binutils for another architecture).
fn build_guest(t: &Tools, dir: &Path) -> Result<PathBuf, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guest");
    let (obj, elf) = (dir.join("dirty.o"), dir.join("dirty.elf"));
    let run = |cmd: &mut Command| -> Result<(), String> {
        let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr).trim()))
        }
    };
    run(Command::new(&t.assembler)
        .arg("--32")
        .args(["--defsym", &format!("WS_PAGES={WS_PAGES}"), "--defsym", &format!("WRITE_RATE={WRITE_RATE}")])
        .arg("-o")
        .arg(&obj)
        .arg(src.join("dirty.s")))?;
    run(Command::new(&t.linker)
        .args(["-m", "elf_i386", "-T"])
        .arg(src.join("dirty.ld"))
        .arg("-o")
        .arg(&elf)
        .arg(&obj))?;
    Ok(elf)
}

/// A blocking QMP client: one command at a time, events skipped.
struct Qmp {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Qmp {
    fn connect(socket: &Path) -> Qmp {
        let deadline = Instant::now() + Duration::from_secs(30);
        let stream = loop {
            match UnixStream::connect(socket) {
                Ok(s) => break s,
                Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => panic!("QEMU's QMP socket {}: {e}", socket.display()),
            }
        };
        stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut qmp = Qmp { reader: BufReader::new(stream.try_clone().unwrap()), writer: stream };
        let greeting = qmp.read();
        assert!(greeting.get("QMP").is_some(), "not a QMP greeting: {greeting}");
        qmp.ok("qmp_capabilities", json!({}));
        qmp
    }

    fn read(&mut self) -> Value {
        let mut line = String::new();
        let n = self.reader.read_line(&mut line).expect("read from QMP");
        assert!(n > 0, "QEMU closed its QMP connection");
        serde_json::from_str(&line).expect("QMP sends JSON")
    }

    /// The reply to `command` (`{"return": ...}` or `{"error": ...}`).
    fn execute(&mut self, command: &str, arguments: Value) -> Value {
        let msg = json!({"execute": command, "arguments": arguments});
        writeln!(self.writer, "{msg}").expect("write to QMP");
        loop {
            let v = self.read();
            if v.get("event").is_none() {
                return v;
            }
        }
    }

    fn ok(&mut self, command: &str, arguments: Value) -> Value {
        let reply = self.execute(command, arguments.clone());
        assert!(reply.get("error").is_none(), "{command} {arguments}: {reply}");
        reply
    }
}

/// A QEMU process, killed when dropped.
struct Vm {
    child: Child,
    qmp: Qmp,
}

impl Vm {
    fn start(t: &Tools, guest: &Path, dir: &Path, name: &str, incoming: bool) -> Vm {
        let socket = dir.join(format!("{name}.sock"));
        let _ = std::fs::remove_file(&socket);
        let log = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
        let mut cmd = Command::new(&t.qemu);
        cmd.args(["-machine", "pc", "-accel", "tcg", "-m", &RAM_MIB.to_string(), "-display", "none", "-nodefaults"])
            .arg("-kernel")
            .arg(guest)
            .arg("-qmp")
            .arg(format!("unix:{},server=on,wait=off", socket.display()));
        if incoming {
            cmd.args(["-incoming", "defer"]);
        }
        let child = cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(log).spawn().expect("start QEMU");
        Vm { child, qmp: Qmp::connect(&socket) }
    }

    /// Wait until the guest has filled its working set and started its
    /// loop: it writes "REDY" at 0x9000 then.
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let r = self.qmp.ok("human-monitor-command", json!({"command-line": "xp /1wx 0x9000"}));
            if r["return"].as_str().is_some_and(|s| s.contains("0x59444552")) {
                return;
            }
            assert!(Instant::now() < deadline, "the guest did not start its loop: {r}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One recorded run's settings.
struct Run {
    name: &'static str,
    max_bandwidth: u64,
    downtime_limit: u64,
}

fn now_stamp() -> Value {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    json!({"seconds": d.as_secs(), "microseconds": d.subsec_micros()})
}

/// Migrate the guest between two QEMUs with `run`'s settings, polling the
/// source's `query-migrate` every 50 ms into a trace (QMP replies with a
/// timestamp, after the parameters and capabilities replies). Returns the
/// trace's path and the final answer.
fn record(t: &Tools, guest: &Path, dir: &Path, run: &Run) -> (PathBuf, Value) {
    let mut src = Vm::start(t, guest, dir, &format!("{}-src", run.name), false);
    let mut dst = Vm::start(t, guest, dir, &format!("{}-dst", run.name), true);
    src.wait_ready();
    dst.qmp.ok("migrate-incoming", json!({"uri": "tcp:127.0.0.1:0"}));
    let listening = dst.qmp.ok("query-migrate", json!({}));
    let port = listening["return"]["socket-address"][0]["port"].as_str().expect("the destination's port").to_string();
    src.qmp.ok(
        "migrate-set-parameters",
        json!({"max-bandwidth": run.max_bandwidth, "downtime-limit": run.downtime_limit}),
    );
    let path = dir.join(format!("{}.jsonl", run.name));
    let mut trace = std::fs::File::create(&path).unwrap();
    for command in ["query-migrate-parameters", "query-migrate-capabilities"] {
        let reply = src.qmp.ok(command, json!({}));
        writeln!(trace, "{reply}").unwrap();
    }
    src.qmp.ok("migrate", json!({"uri": format!("tcp:127.0.0.1:{port}")}));
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut reply = src.qmp.ok("query-migrate", json!({}));
        reply["timestamp"] = now_stamp();
        writeln!(trace, "{reply}").unwrap();
        let status = reply["return"]["status"].as_str().unwrap_or("").to_string();
        if matches!(status.as_str(), "completed" | "failed" | "cancelled") {
            assert_eq!(status, "completed", "{}: the real migration ended {status}", path.display());
            return (path, reply["return"].clone());
        }
        assert!(Instant::now() < deadline, "{}: the real migration did not end in 120 s", path.display());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `migration-sim fit TRACE ARGS... --json`.
fn fit(trace: &Path, args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_migration-sim"))
        .arg("fit")
        .arg(trace)
        .args(args)
        .arg("--json")
        .output()
        .expect("run migration-sim");
    assert!(out.status.success(), "migration-sim fit {}: {}", trace.display(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("fit --json prints JSON")
}

fn int(v: &Value, path: &[&str]) -> f64 {
    let x = path.iter().fold(v, |v, k| &v[*k]);
    x.as_f64().unwrap_or_else(|| panic!("{path:?} missing in {v}"))
}

/// One checked prediction, printed whatever the outcome.
struct Check {
    what: String,
    real: f64,
    predicted: f64,
}

impl Check {
    fn error(&self) -> f64 {
        (self.predicted - self.real) / self.real
    }
}

#[test]
fn fit_predicts_real_qemu_runs() {
    let t = match tools() {
        Ok(t) => t,
        Err(why) => {
            common::skip(&why);
            return;
        }
    };
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fit-real");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let guest = match build_guest(&t, &dir) {
        Ok(g) => g,
        Err(why) => {
            common::skip(&format!("cannot build the 32-bit test guest: {why}"));
            return;
        }
    };

    let base = Run { name: "base", max_bandwidth: BASE_BANDWIDTH, downtime_limit: BASE_DOWNTIME_LIMIT };
    let (trace, real) = record(&t, &guest, &dir, &base);
    let fitted = fit(&trace, &[]);
    let replay = &fitted["fit-error"]["replay"];
    let mut checks = vec![
        Check {
            what: "fit: total-time".into(),
            real: int(&real, &["total-time"]),
            predicted: int(replay, &["total-time-ms"]),
        },
        Check {
            what: "fit: transferred".into(),
            real: int(&real, &["ram", "transferred"]),
            predicted: int(replay, &["transferred"]),
        },
    ];

    // What-ifs from the first trace, each checked against a real run.
    let changed = [
        (Run { name: "max-bandwidth", max_bandwidth: 2 * BASE_BANDWIDTH, ..base }, "max-bandwidth=16777216"),
        (Run { name: "downtime-limit", downtime_limit: 50, ..base }, "downtime-limit=50"),
    ];
    for (run, set) in changed {
        let predicted = fit(&trace, &["--set", set]);
        let p = &predicted["what-if"]["predicted"];
        assert_eq!(p["status"], "completed", "what-if {set}: {predicted}");
        let (_, real) = record(&t, &guest, &dir, &run);
        checks.push(Check {
            what: format!("{set}: total-time"),
            real: int(&real, &["total-time"]),
            predicted: int(p, &["total-time-ms"]),
        });
        checks.push(Check {
            what: format!("{set}: transferred"),
            real: int(&real, &["ram", "transferred"]),
            predicted: int(p, &["transferred"]),
        });
    }

    eprintln!("{:<38}{:>14}{:>14}{:>9}", "prediction from the base trace", "real", "predicted", "error");
    for c in &checks {
        eprintln!("{:<38}{:>14}{:>14}{:>+8.1}%", c.what, c.real, c.predicted, 100.0 * c.error());
    }
    eprintln!("traces in {}", dir.display());
    for c in &checks {
        assert!(c.error().abs() <= TOLERANCE, "{}: predicted {} for a real {}", c.what, c.predicted, c.real);
    }
}
