//! The QEMU Guest Agent client, async and blocking, against a real
//! `qemu-ga` started by the test (`--method unix-listen`); skipped, saying
//! so, where `qemu-ga` is absent. Also against a fake agent, for what a
//! real one does not do on demand (never answering).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

use common::TempDir;
use qapi_runtime::client::{BlockingQgaClient, ClientError, QgaClient};
use qapi_runtime::{Command, CommandFlags, Empty, ErrorClass, NoArguments};
use serde::{Deserialize, Serialize};

fn find_qemu_ga() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::env::split_paths(&path).chain(["/usr/sbin".into(), "/usr/bin".into()]);
    dirs.map(|d: PathBuf| d.join("qemu-ga")).find(|p| p.is_file())
}

macro_rules! qemu_ga_or_skip {
    () => {
        match find_qemu_ga() {
            Some(q) => q,
            None => {
                common::skip(
                    "qemu-ga is not installed (Debian: apt-get install -t bookworm-backports qemu-guest-agent)",
                );
                return;
            }
        }
    };
}

/// A `qemu-ga` listening on a unix socket; killed when dropped.
struct Agent {
    child: Child,
    socket: PathBuf,
    _dir: TempDir,
}

impl Agent {
    fn start(binary: &Path) -> Agent {
        let dir = TempDir::new("qga");
        let socket = dir.path().join("qga.sock");
        let child = Process::new(binary)
            .args(["--method", "unix-listen", "--path"])
            .arg(&socket)
            .arg("--statedir")
            .arg(dir.path())
            .arg("--pidfile")
            .arg(dir.path().join("qga.pid"))
            .arg("--logfile")
            .arg(dir.path().join("qga.log"))
            .stdin(Stdio::null())
            .spawn()
            .expect("start qemu-ga");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            assert!(Instant::now() < deadline, "qemu-ga did not listen on {}", socket.display());
            std::thread::sleep(Duration::from_millis(20));
        }
        Agent { child, socket, _dir: dir }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// QGA's commands, declared by hand (their types from qga/qapi-schema.json).

struct GuestPing;
impl Command for GuestPing {
    const NAME: &'static str = "guest-ping";
    const FLAGS: CommandFlags = CommandFlags::DEFAULT;
    type Arguments = NoArguments;
    type Returns = Empty;
}

#[derive(Debug, Deserialize, Serialize)]
struct GuestAgentCommandInfo {
    name: String,
    enabled: bool,
    #[serde(rename = "success-response")]
    success_response: bool,
}

#[derive(Debug, Deserialize, Serialize)]
struct GuestAgentInfo {
    version: String,
    supported_commands: Vec<GuestAgentCommandInfo>,
}

struct GuestInfo;
impl Command for GuestInfo {
    const NAME: &'static str = "guest-info";
    const FLAGS: CommandFlags = CommandFlags::DEFAULT;
    type Arguments = NoArguments;
    type Returns = GuestAgentInfo;
}

struct GuestGetTime;
impl Command for GuestGetTime {
    const NAME: &'static str = "guest-get-time";
    const FLAGS: CommandFlags = CommandFlags::DEFAULT;
    type Arguments = NoArguments;
    type Returns = i64;
}

#[derive(Debug, Deserialize, Serialize)]
struct SyncArgs {
    id: serde_json::Value,
}

struct GuestSync;
impl Command for GuestSync {
    const NAME: &'static str = "guest-sync";
    const FLAGS: CommandFlags = CommandFlags::DEFAULT;
    type Arguments = SyncArgs;
    type Returns = i64;
}

/// Nanoseconds since the epoch, now.
fn now_ns() -> i64 {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    i64::try_from(d.as_nanos()).unwrap()
}

fn qmp_error(e: ClientError) -> (ErrorClass, String) {
    match e {
        ClientError::Qmp(e) => (e.class, e.desc),
        other => panic!("not an error reply: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_client_against_qemu_ga() {
    let binary = qemu_ga_or_skip!();
    let agent = Agent::start(&binary);
    // Leftovers of an earlier client on the channel: a half request.
    {
        let mut raw = tokio::net::UnixStream::connect(&agent.socket).await.unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut raw, b"{\"execute\": \"guest-ping\", \"arguments\": {").await.unwrap();
    }
    let qga = QgaClient::connect_unix(&agent.socket).await.expect("connect and synchronize");
    qga.execute::<GuestPing>(&NoArguments {}).await.unwrap();
    let info = qga.execute::<GuestInfo>(&NoArguments {}).await.unwrap();
    eprintln!("qemu-ga {} with {} commands", info.version, info.supported_commands.len());
    assert!(info.supported_commands.iter().any(|c| c.name == "guest-sync-delimited" && c.enabled));
    let time = qga.execute::<GuestGetTime>(&NoArguments {}).await.unwrap();
    assert!((time - now_ns()).abs() < 60_000_000_000, "guest time {time} is not now");
    // Error replies, typed.
    let (class, desc) = qmp_error(qga.execute_value("guest-no-such-command", None).await.unwrap_err());
    assert_eq!(
        (class, desc.as_str()),
        (ErrorClass::CommandNotFound, "The command guest-no-such-command has not been found")
    );
    let (class, desc) = qmp_error(qga.execute::<GuestSync>(&SyncArgs { id: "x".into() }).await.unwrap_err());
    assert_eq!(
        (class, desc.as_str()),
        (ErrorClass::GenericError, "Invalid parameter type for 'id', expected: integer")
    );
    assert_eq!(qga.execute::<GuestSync>(&SyncArgs { id: 5.into() }).await.unwrap(), 5);
    // Garbage, a half request and a request whose reply nobody reads: the
    // client synchronizes again and gets its own reply.
    qga.send_raw(b"garbage \x01 {\"execute\": [").await.unwrap();
    qga.execute::<GuestPing>(&NoArguments {}).await.unwrap();
    qga.send_raw(b"{\"execute\": \"guest-info\", \"id\": 123456}").await.unwrap();
    assert_eq!(qga.execute::<GuestGetTime>(&NoArguments {}).await.map(|t| t > 0).ok(), Some(true));
    qga.sync().await.unwrap();
    qga.execute::<GuestPing>(&NoArguments {}).await.unwrap();
    // Through `Execute`, as generated `Commands` methods call it.
    assert!(time_via(&qga).await.unwrap() > 0);
}

/// What a generated method does: `Execute::execute`, on any client.
async fn time_via<E: qapi_runtime::Execute>(client: &E) -> Result<i64, E::Error> {
    client.execute::<GuestPing>(&NoArguments {}).await?;
    client.execute::<GuestGetTime>(&NoArguments {}).await
}

/// The same through `BlockingExecute`.
fn time_via_blocking<E: qapi_runtime::BlockingExecute>(client: &E) -> Result<i64, E::Error> {
    client.execute::<GuestPing>(&NoArguments {})?;
    client.execute::<GuestGetTime>(&NoArguments {})
}

#[test]
fn blocking_client_against_qemu_ga() {
    let binary = qemu_ga_or_skip!();
    let agent = Agent::start(&binary);
    let qga = BlockingQgaClient::connect_unix(&agent.socket).unwrap();
    qga.execute::<GuestPing>(&NoArguments {}).unwrap();
    assert!(!qga.execute::<GuestInfo>(&NoArguments {}).unwrap().version.is_empty());
    assert!((qga.execute::<GuestGetTime>(&NoArguments {}).unwrap() - now_ns()).abs() < 60_000_000_000);
    let (class, _) = qmp_error(qga.execute_value("guest-no-such-command", None).unwrap_err());
    assert_eq!(class, ErrorClass::CommandNotFound);
    qga.send_raw(b"\x00\x01{{{{").unwrap();
    qga.execute::<GuestPing>(&NoArguments {}).unwrap();
    assert!(time_via_blocking(&qga).unwrap() > 0);
}

/// An agent that never answers: connecting times out; one that answers
/// late is synchronized with again, its stale reply skipped.
#[tokio::test(flavor = "current_thread")]
async fn timeouts_and_stale_replies() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (ours, _silent) = tokio::io::duplex(4096);
    let e = QgaClient::builder().timeout(Duration::from_millis(100)).connect(ours).await.unwrap_err();
    assert!(matches!(e, ClientError::Timeout), "{e:?}");

    // A fake agent: answers each sync after a stale delimited reply of an
    // earlier one, and a ping only after the client gave up on it.
    let (ours, theirs) = tokio::io::duplex(4096);
    let agent = tokio::spawn(async move {
        let (mut rd, mut wr) = tokio::io::split(theirs);
        let mut buf = vec![0u8; 4096];
        let mut seen = Vec::new();
        loop {
            let n = rd.read(&mut buf).await.unwrap();
            if n == 0 {
                return;
            }
            seen.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&seen).into_owned();
            if let Some(at) = text.rfind("\"id\":") {
                if !text.ends_with('\n') {
                    continue;
                }
                let id: String = text[at + 5..].chars().filter(char::is_ascii_digit).collect();
                seen.clear();
                if text.contains("guest-sync-delimited") {
                    wr.write_all(b"\xff{\"return\": 1}\n").await.unwrap();
                    let mut reply = b"\x01junk\xff".to_vec();
                    reply.extend_from_slice(format!("{{\"return\": {id}}}\n").as_bytes());
                    wr.write_all(&reply).await.unwrap();
                } else {
                    tokio::time::sleep(Duration::from_millis(150)).await;
                    wr.write_all(format!("{{\"return\": {{}}, \"id\": {id}}}\n").as_bytes()).await.unwrap();
                }
            }
        }
    });
    let qga = QgaClient::builder().timeout(Duration::from_millis(100)).connect(ours).await.unwrap();
    let e = qga.execute::<GuestPing>(&NoArguments {}).await.unwrap_err();
    assert!(matches!(e, ClientError::Timeout), "{e:?}");
    // The late reply arrives; the next call synchronizes first and skips it.
    tokio::time::sleep(Duration::from_millis(100)).await;
    qga.sync().await.unwrap();
    drop(qga);
    agent.await.unwrap();
}
