//! Against a real QEMU, when `qemu-system-x86_64` is on the PATH: the
//! client drives it, and QEMU serves as the oracle for the server (the
//! same scripted sessions sent to both must get the same bytes back).
//! Skipped, saying so, when QEMU is absent.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

use common::{Raw, TempDir};
use qapi_runtime::client::{Client, ClientError};
use qapi_runtime::server::VersionInfo;
use qapi_runtime::{Command, CommandFlags, Empty, ErrorClass, NoArguments};
use serde::{Deserialize, Serialize};
use serde_json::json;

fn find_qemu() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join("qemu-system-x86_64")).find(|p| p.is_file())
}

/// A QEMU with nothing but a QMP monitor; killed when dropped.
struct Qemu {
    child: Child,
    socket: PathBuf,
    _dir: TempDir,
}

impl Qemu {
    fn start(binary: &Path) -> Qemu {
        let dir = TempDir::new("qemu");
        let socket = dir.path().join("qmp.sock");
        let child = Process::new(binary)
            .args(["-machine", "none", "-nodefaults", "-display", "none", "-qmp"])
            .arg(format!("unix:{},server=on,wait=off", socket.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start QEMU");
        // The socket file appears when QEMU binds it, a moment before it
        // listens: wait until a connection is accepted.
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            assert!(Instant::now() < deadline, "QEMU did not listen on its QMP socket");
            std::thread::sleep(Duration::from_millis(20));
        }
        Qemu { child, socket, _dir: dir }
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

macro_rules! qemu_or_skip {
    () => {
        match find_qemu() {
            Some(q) => q,
            None => {
                common::skip("qemu-system-x86_64 is not on the PATH (Debian: apt-get install -t bookworm-backports qemu-system-x86)");
                return;
            }
        }
    };
}

struct QueryVersion;
impl Command for QueryVersion {
    const NAME: &'static str = "query-version";
    const FLAGS: CommandFlags = CommandFlags::DEFAULT;
    type Arguments = NoArguments;
    type Returns = VersionInfo;
}

#[derive(Debug, Deserialize, Serialize)]
struct StatusInfo {
    running: bool,
    status: String,
}
struct QueryStatus;
impl Command for QueryStatus {
    const NAME: &'static str = "query-status";
    const FLAGS: CommandFlags = CommandFlags::DEFAULT;
    type Arguments = NoArguments;
    type Returns = StatusInfo;
}

struct Stop;
impl Command for Stop {
    const NAME: &'static str = "stop";
    const FLAGS: CommandFlags = CommandFlags::DEFAULT;
    type Arguments = NoArguments;
    type Returns = Empty;
}

struct Cont;
impl Command for Cont {
    const NAME: &'static str = "cont";
    const FLAGS: CommandFlags = CommandFlags::DEFAULT;
    type Arguments = NoArguments;
    type Returns = Empty;
}

struct MigratePause;
impl Command for MigratePause {
    const NAME: &'static str = "migrate-pause";
    const FLAGS: CommandFlags = CommandFlags { allow_oob: true, ..CommandFlags::DEFAULT };
    type Arguments = NoArguments;
    type Returns = Empty;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_drives_real_qemu() {
    let binary = qemu_or_skip!();
    let qemu = Qemu::start(&binary);
    let client = Client::builder().oob(true).connect_unix(&qemu.socket).await.expect("connect to QEMU");
    let version = client.execute::<QueryVersion>(&NoArguments {}).await.unwrap();
    eprintln!("QEMU {}.{}.{} ({})", version.qemu.major, version.qemu.minor, version.qemu.micro, version.package);
    assert_eq!(serde_json::to_value(&version).unwrap()["qemu"], client.greeting().qmp.version["qemu"]);
    assert!(version.qemu.major >= 7);
    let status = client.execute::<QueryStatus>(&NoArguments {}).await.unwrap();
    assert!(status.running, "{status:?}");
    // Typed errors.
    let e = client.execute_value("no-such-command", None).await.unwrap_err();
    assert_eq!(e.class(), Some(&ErrorClass::CommandNotFound));
    let e = client.execute_value("query-status", Some(json!({"bogus": 1}))).await.unwrap_err();
    let ClientError::Qmp(err) = e else { panic!("{e:?}") };
    assert_eq!(err.desc, "Parameter 'bogus' is unexpected");
    // Out of band: QEMU runs it and says why it cannot pause.
    let e = client.execute_oob::<MigratePause>(&NoArguments {}).await.unwrap_err();
    assert_eq!(e.class(), Some(&ErrorClass::GenericError));
    // Events that arrive while the command is pending are kept.
    client.execute::<Stop>(&NoArguments {}).await.unwrap();
    let ev = tokio::time::timeout(Duration::from_secs(5), client.next_event()).await.unwrap().unwrap();
    assert_eq!(ev.event, "STOP");
    assert!(ev.timestamp.seconds > 0);
    assert!(!client.execute::<QueryStatus>(&NoArguments {}).await.unwrap().running);
    client.execute::<Cont>(&NoArguments {}).await.unwrap();
    let ev = tokio::time::timeout(Duration::from_secs(5), client.next_event()).await.unwrap().unwrap();
    assert_eq!(ev.event, "RESUME");
    assert_eq!(client.execute::<QueryStatus>(&NoArguments {}).await.unwrap().status, "running");
    let cmds = client.execute_value("query-commands", None).await.unwrap();
    assert!(cmds.as_array().unwrap().iter().any(|c| c["name"] == "query-status"));
}

/// Sends `script` after negotiating and collects every line up to the
/// reply to a final marker request.
async fn session(socket: &Path, oob: bool, script: &[u8]) -> Vec<String> {
    let mut c = Raw::negotiated(socket, oob).await;
    c.send(script).await;
    c.send(br#"{"execute": "query-status", "id": "end"}"#).await;
    let mut lines = Vec::new();
    loop {
        let line = c.line().await;
        if line.ends_with(r#""id": "end"}"#) {
            return lines;
        }
        lines.push(line);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_answers_byte_for_byte_like_qemu() {
    let binary = qemu_or_skip!();
    let qemu = Qemu::start(&binary);
    let ours = common::start().await;

    // The greeting's shape (the version differs).
    let (_, greeting) = Raw::connect(&qemu.socket).await;
    let (_, mine) = Raw::connect(&ours.socket).await;
    assert_eq!(greeting["QMP"]["capabilities"], mine["QMP"]["capabilities"]);

    let scripts: &[(bool, &[u8])] = &[
        // Parse errors and recovery.
        (false, br#"{"execute": }{"execute" "x"}{"execute": x}{"a": 1, "a": 2}{1: 2}[1 2][1,]{"a":1,}]:,"#),
        (false, br#"{"execute": "\q"}{"execute": "\ud800"}{"execute": "\uFFFF"}{"execute": "\u12"}"#),
        (false, br#"{"execute": "query-status", "id": 0e1}[0E2]{"a" "\q"}{"a": 1 "\q"}{foo: 1}[true false]"#),
        (false, b"{\"execute\": @}{\"execute\": \"x\x01\"}0123 [1]\"a\tb\" [2]"),
        (false, b"{\"execute\": \"query-status\"\n{\"execute\":\"query-status\"}\n\x01{\"execute\":\"query-status\", \"id\": 1}"),
        (false, b"{\"execute\": \xff {\"execute\": \"query-status\", \"id\": \"\xc3\xa9\"}\"\xc3\""),
        // Malformed requests.
        (false, br#"[1] "abc" 42 true null {"id": 1} {"execute": 1, "id": 2} {"execute": "query-status", "foo": 1, "id": 3}"#),
        (false, br#"{"execute": "query-status", "arguments": [], "id": 4}{"execute": "query-status", "arguments": null}"#),
        (false, br#"{"execute": "nope", "id": 5}{"exec-oob": "query-status", "id": 6}{"execute": "query-status", "arguments": {"x": 1}}"#),
        (false, br#"{"execute": "query-version", "arguments": {"x": 1}}{"execute": "query-commands", "arguments": {"x": 1}}"#),
        (false, br#"{"execute": "qmp_capabilities", "id": 7}{"execute": "qmp_capabilities", "arguments": {"x": 1}}"#),
        // Ids and quoting.
        (false, br#"{"execute": "query-status", "id": {"a": [1, 2.5, null, true, "\u00e9\ud83d\ude00\u007f", -3]}}"#),
        (false, br#"{'execute': 'query-status', 'id': 'it\'s "x"'}"#),
        // With oob on.
        // (Out-of-band replies may overtake in-band ones: one of each.)
        (true, br#"{"exec-oob": "query-status", "id": 1}{"exec-oob": 3, "id": 4}"#),
        (true, br#"{"exec-oob": "x", "execute": "y", "id": 2}"#),
        (true, br#"{"exec-oob": "qmp_capabilities", "id": 5}{"execute": "nope"}"#),
    ];
    for (oob, script) in scripts {
        let want = session(&qemu.socket, *oob, script).await;
        let got = session(&ours.socket, *oob, script).await;
        assert_eq!(got, want, "script: {}", String::from_utf8_lossy(script));
    }

    // Before negotiation.
    for script in [&br#"{"execute": "query-status", "id": 1}{"execute": "nope"}{"id": 2}{"exec-oob": "x"}"#[..],
        br#"{"execute": "qmp_capabilities", "arguments": {"enable": ["foo"]}}{"execute": "qmp_capabilities", "arguments": {"enable": "oob"}}"#,
        br#"{"execute": "qmp_capabilities", "arguments": {"enable": [1]}}{"execute": "qmp_capabilities", "arguments": {"x": []}}"#]
    {
        let mut lines = Vec::new();
        for socket in [&qemu.socket, &ours.socket] {
            let (mut c, _) = Raw::connect(socket).await;
            c.send(script).await;
            let mut got = Vec::new();
            while let Some(l) = c.try_line(Duration::from_millis(300)).await {
                got.push(l);
            }
            lines.push(got);
        }
        assert!(!lines[0].is_empty());
        assert_eq!(lines[1], lines[0], "script: {}", String::from_utf8_lossy(script));
    }
}

/// QEMU's JSON limits at their boundaries: the same answers, in the same
/// order, including how the input after a value over a limit is read.
/// (The 64 MiB token size boundary takes QEMU minutes to read, a byte at a
/// time: `stream::tests` holds the answers QEMU 10.0.2 gave to it.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_limits_answer_like_qemu() {
    let binary = qemu_or_skip!();
    let qemu = Qemu::start(&binary);
    let ours = common::start_with(common::config()).await;
    const MI: usize = 1 << 20;
    let scripts = [
        format!("{}{}", "[".repeat(1024), "]".repeat(1024)),
        format!("{}{}", "[".repeat(1025), "]".repeat(1025)),
        format!("{{\"execute\": {}{}}}", "{\"a\": ".repeat(1024), "}".repeat(1024)),
        // 2 Mi tokens, then 2 Mi + 1.
        format!("[[]{}]", ",1".repeat(MI - 2)),
        format!("[1{}] [2]", ",1".repeat(MI - 1)),
    ];
    for script in &scripts {
        let want = session(&qemu.socket, false, script.as_bytes()).await;
        let got = session(&ours.socket, false, script.as_bytes()).await;
        assert!(!want.is_empty());
        assert_eq!(got, want, "script of {} bytes: {}...", script.len(), &script[..40]);
    }
}
