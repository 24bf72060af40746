//! The example client (`examples/qemu-client`) against a real QEMU
//! (`qemu-system-x86_64`, 10.0.2 here; `$QEMU` to choose another): what
//! `cargo run -p qemu-client` does, with and without a socket given, and
//! the blocking client's generated methods on the same QEMU. Skipped,
//! with a message, where QEMU is not installed.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use qapi_runtime::client::BlockingClient;
use qemu_client::qmp::{self, BlockingCommands as _};
use qemu_client::{Qemu, Report};

fn qemu_installed() -> bool {
    let binary = std::env::var("QEMU").unwrap_or_else(|_| "qemu-system-x86_64".into());
    let found = std::process::Command::new(&binary).arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        qapi_tests::skip(&format!(
            "{binary} is not installed (Debian: apt-get install -t bookworm-backports qemu-system-x86)"
        ));
    }
    found
}

fn check(report: &Report) {
    assert!(report.version.qemu.major >= 2, "{report:?}");
    // A machine-less QEMU runs at once and has not migrated.
    assert_eq!((&report.status.status, report.status.running), (&qmp::RunState::Running, true));
    assert_eq!(report.downtime_limit, Some(500));
    assert_eq!(report.migration.status, None);
    let text = report.to_string();
    assert!(text.starts_with(&format!("QEMU {}.", report.version.qemu.major)), "{text}");
    assert!(text.contains("downtime-limit: 500 ms"), "{text}");
    assert_eq!(report.info_status.trim(), "VM status: running");
}

#[tokio::test(flavor = "current_thread")]
async fn the_example_starts_qemu_and_reports() {
    if !qemu_installed() {
        return;
    }
    let report = qemu_client::run(None).await.unwrap();
    check(&report);
    println!("{report}");
}

#[tokio::test(flavor = "current_thread")]
async fn the_example_talks_to_a_running_qemu() {
    if !qemu_installed() {
        return;
    }
    let qemu = Qemu::start().unwrap();
    check(&qemu_client::run(Some(&qemu.socket)).await.unwrap());
    // QEMU's monitor takes one client at a time; the example's is gone.
    let socket = qemu.socket.clone();
    let blocking = tokio::task::spawn_blocking(move || {
        let client = BlockingClient::connect_unix(&socket).unwrap();
        let status = client.query_status().unwrap();
        let parameters = client.query_migrate_parameters().unwrap();
        client.close().unwrap();
        (status, parameters.downtime_limit)
    });
    let (status, downtime_limit) = blocking.await.unwrap();
    assert!(status.running);
    assert_eq!(downtime_limit, Some(500), "the example's setting holds");
}
