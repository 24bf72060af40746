//! `qemu-client [SOCKET]`: prints what a QEMU answers to `query-version`,
//! `query-status`, HMP's `info status`, `query-migrate-parameters` and
//! `query-migrate`, after setting `downtime-limit` with
//! `migrate-set-parameters`. Without a
//! socket it starts `qemu-system-x86_64` (or `$QEMU`) for the purpose.

use std::path::PathBuf;
use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let socket = std::env::args_os().nth(1).map(PathBuf::from);
    match qemu_client::run(socket.as_deref()).await {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("qemu-client: {e}");
            ExitCode::FAILURE
        }
    }
}
