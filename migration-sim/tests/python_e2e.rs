//! End to end with QEMU's own Python client: `migration-sim serve` runs as
//! a process, and `tests/python/migrate_e2e.py` (qemu.qmp) sets
//! parameters and capabilities on both monitors, migrates, polls
//! `query-migrate` until completed while collecting MIGRATION events, reads
//! both sides' final statistics and ends the server with `quit`.
//!
//! Needs a Python with `qemu.qmp` installed, named by `QMP_PYTHON`
//! (`.ci/run` makes a virtual environment and sets it); skipped, saying
//! so, without one.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn python() -> Option<PathBuf> {
    let p = PathBuf::from(std::env::var_os("QMP_PYTHON")?);
    p.is_file().then_some(p)
}

/// Kills the server if the test fails half way.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits (bounded, so that a broken build cannot hang the test) until
/// `cond` holds.
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..6000 {
        if cond() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("gave up waiting for {what}");
}

#[test]
fn qemu_qmp_drives_a_served_migration() {
    let Some(python) = python() else {
        eprintln!("skipped: set QMP_PYTHON to a python with qemu.qmp installed (.ci/run does)");
        return;
    };
    let dir = std::env::temp_dir().join(format!("msim-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (src, dst) = (dir.join("src.sock"), dir.join("dst.sock"));
    let child = Command::new(env!("CARGO_BIN_EXE_migration-sim"))
        .arg("serve")
        .arg("--qmp")
        .arg(format!("unix:{}", src.display()))
        .arg("--dest-qmp")
        .arg(format!("unix:{}", dst.display()))
        .args(["--speed", "20"])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start migration-sim serve");
    let mut server = Server(child);
    wait_for("the monitor sockets", || src.exists() && dst.exists());

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/migrate_e2e.py");
    let out = Command::new(&python).arg(&script).arg(&src).arg(&dst).output().expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}{stderr}");
    assert!(out.status.success(), "migrate_e2e.py failed: {stderr}");
    assert!(stdout.contains("migrate e2e: ok:"), "{stdout}");

    // `quit` ends the server, successfully.
    let mut status = None;
    wait_for("the server to exit after quit", || {
        status = server.0.try_wait().expect("wait for the server");
        status.is_some()
    });
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
