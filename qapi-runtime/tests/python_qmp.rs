//! QEMU's own Python client (`qemu.qmp`) and `qmp-shell` against this
//! crate's server. Needs a Python with `qemu.qmp` installed, named by
//! `QMP_PYTHON` (`.ci/run` makes a virtual environment and sets it);
//! skipped, saying so, without one.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

fn python() -> Option<PathBuf> {
    let p = PathBuf::from(std::env::var_os("QMP_PYTHON")?);
    p.is_file().then_some(p)
}

macro_rules! python_or_skip {
    () => {
        match python() {
            Some(p) => p,
            None => {
                eprintln!("skipped: set QMP_PYTHON to a python with qemu.qmp installed (.ci/run does)");
                return;
            }
        }
    };
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/qmp_check.py")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qemu_qmp_python_client() {
    let python = python_or_skip!();
    let t = common::start().await;
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        Command::new(&python).arg(script()).arg(&t.socket).kill_on_drop(true).output(),
    )
    .await
    .expect("python finished in time")
    .expect("python ran");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}{stderr}");
    assert!(out.status.success(), "qemu.qmp check failed: {stderr}");
    assert!(stdout.contains("qemu.qmp: 9 checks passed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qmp_shell_drives_the_server() {
    let python = python_or_skip!();
    let shell = python.with_file_name("qmp-shell");
    assert!(shell.is_file(), "qmp-shell not installed beside {}", python.display());
    let t = common::start().await;
    let mut child = Command::new(&shell)
        .arg(&t.socket)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start qmp-shell");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(b"query-status\nadd a=40 b=2\nno-such-command\nemit-event name=SHELL_EVENT\n\nquery-version\n")
        .await
        .unwrap();
    drop(stdin);
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("qmp-shell finished in time")
        .expect("qmp-shell ran");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("Connected to QEMU 10.0.0"), "{stdout}");
    assert!(stdout.contains(r#"{"return": {"status": "running", "running": true}}"#), "{stdout}");
    assert!(stdout.contains(r#"{"return": 42}"#), "{stdout}");
    assert!(
        stdout.contains(
            r#"{"error": {"class": "CommandNotFound", "desc": "The command no-such-command has not been found"}}"#
        ),
        "{stdout}"
    );
    assert!(stdout.contains("SHELL_EVENT"), "{stdout}");
    assert!(stdout.contains(r#""package": "qapi-runtime-test""#), "{stdout}");
}
