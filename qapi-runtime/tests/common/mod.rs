//! Helpers shared by the QMP tests: a server on a fresh unix socket and a
//! raw client that speaks bytes and checks QEMU's output format.
#![allow(dead_code)]

pub mod machine;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use qapi_runtime::server::{Server, ServerConfig, VersionInfo};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

pub use machine::Machine;

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "qmp-{tag}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running test server.
pub struct TestServer {
    pub server: Server,
    pub machine: Arc<Machine>,
    pub socket: PathBuf,
    pub dir: TempDir,
}

pub fn config() -> ServerConfig {
    ServerConfig::new()
        .version(VersionInfo::new(10, 0, 0, "qapi-runtime-test"))
        .schema(json!([{"name": "query-status", "meta-type": "command", "arg-type": "0", "ret-type": "1"}]))
}

pub async fn start() -> TestServer {
    start_with(config()).await
}

pub async fn start_with(config: ServerConfig) -> TestServer {
    let machine = Machine::new();
    let server = Server::new(machine.clone(), config);
    machine.attach(server.events());
    let dir = TempDir::new("srv");
    let socket = dir.path().join("qmp.sock");
    server.listen_unix(&socket).await.expect("listen");
    TestServer { server, machine, socket, dir }
}

/// A client that speaks raw bytes and reads CRLF-terminated lines.
pub struct Raw {
    pub stream: UnixStream,
    /// Bytes received and not yet returned, from `start` on.
    buf: Vec<u8>,
    start: usize,
}

impl Raw {
    /// Connects and reads the greeting.
    pub async fn connect(path: &Path) -> (Raw, Value) {
        let stream = UnixStream::connect(path).await.expect("connect");
        let mut raw = Raw { stream, buf: Vec::new(), start: 0 };
        let greeting = raw.msg().await;
        (raw, greeting)
    }

    /// Connects and negotiates (with `oob` if asked).
    pub async fn negotiated(path: &Path, oob: bool) -> Raw {
        let (mut raw, _) = Raw::connect(path).await;
        let req = if oob {
            r#"{"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}}"#
        } else {
            r#"{"execute": "qmp_capabilities"}"#
        };
        raw.send(req).await;
        assert_eq!(raw.msg().await, json!({"return": {}}));
        raw
    }

    pub async fn send(&mut self, bytes: impl AsRef<[u8]>) {
        self.stream.write_all(bytes.as_ref()).await.expect("send");
    }

    /// Sends `bytes` while taking in what the server answers meanwhile
    /// (for input that gets many replies: a client that only wrote would
    /// wait on a server waiting for it to read).
    /// Whether all of it was sent (the server may close the connection).
    pub async fn send_reading(&mut self, bytes: impl AsRef<[u8]>) -> bool {
        let (mut rd, mut wr) = self.stream.split();
        let mut got = Vec::new();
        let mut sent = false;
        let write = async {
            sent = wr.write_all(bytes.as_ref()).await.is_ok();
        };
        let read = async {
            let mut chunk = vec![0u8; 65536];
            loop {
                match rd.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&chunk[..n]),
                }
            }
        };
        tokio::select! {
            _ = write => {}
            _ = read => {}
        }
        self.buf.extend_from_slice(&got);
        sent
    }

    /// The next line, which must end in CRLF and be ASCII.
    pub async fn line(&mut self) -> String {
        self.try_line(Duration::from_secs(10)).await.expect("a line before the timeout")
    }

    /// The next line within `timeout`, if any (`None` on EOF too).
    pub async fn try_line(&mut self, timeout: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(pos) = self.buf[self.start..].windows(2).position(|w| w == b"\r\n") {
                let line = self.buf[self.start..self.start + pos + 2].to_vec();
                self.start += pos + 2;
                if self.start > self.buf.len() / 2 {
                    self.buf.drain(..self.start);
                    self.start = 0;
                }
                let text = String::from_utf8(line[..pos].to_vec()).expect("UTF-8");
                assert!(text.is_ascii(), "QMP output must be ASCII: {text}");
                assert!(!text.contains('\n'), "one message per line: {text}");
                return Some(text);
            }
            let mut chunk = vec![0u8; 65536];
            let n = match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Ok(Ok(n)) => n,
                Ok(Err(_)) | Err(_) => return None,
            };
            if n == 0 {
                return None;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    pub async fn msg(&mut self) -> Value {
        let line = self.line().await;
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad JSON from server ({e}): {line}"))
    }

    /// Asserts the next message is an error of `class` with `desc`.
    pub async fn expect_error(&mut self, class: &str, desc: &str) -> Value {
        let m = self.msg().await;
        assert_eq!(m["error"]["class"], class, "{m}");
        assert_eq!(m["error"]["desc"], desc, "{m}");
        m
    }

    /// Asserts the connection still answers.
    pub async fn alive(&mut self) {
        self.send(r#"{"execute": "query-status", "id": "alive"}"#).await;
        let m = self.msg().await;
        assert_eq!(
            m,
            json!({"return": {"status": "running", "running": true}, "id": "alive"}),
            "connection no longer answers"
        );
    }

    /// Asserts nothing arrives within `ms`.
    pub async fn quiet(&mut self, ms: u64) {
        if let Some(line) = self.try_line(Duration::from_millis(ms)).await {
            panic!("unexpected message: {line}");
        }
    }
}

/// This process's resident set size in KiB.
pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// CPU time (user and system) used by this process's threads named
/// `threads`, from /proc.
pub fn cpu_time(threads: &str) -> Duration {
    let mut ticks = 0;
    for task in std::fs::read_dir("/proc/self/task").into_iter().flatten().flatten() {
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // The name is in parentheses; utime and stime are the 12th and
        // 13th fields after it, in clock ticks (100 a second on Linux).
        let Some((head, rest)) = stat.rsplit_once(") ") else { continue };
        if head.split_once(" (").map(|(_, name)| name) != Some(threads) {
            continue;
        }
        ticks += rest.split_whitespace().skip(11).take(2).filter_map(|f| f.parse::<u64>().ok()).sum::<u64>();
    }
    Duration::from_millis(ticks * 10)
}

/// A test that cannot run here (a program it needs is missing) says so and
/// passes, unless `QAPI_REQUIRE_REAL` is set: `.ci/run` sets it where QEMU,
/// qemu-ga and binutils are installed, so that a test meant to run there
/// fails instead of passing unseen.
pub fn skip(why: &str) {
    if std::env::var_os("QAPI_REQUIRE_REAL").is_some_and(|v| !v.is_empty()) {
        panic!("{why}, and QAPI_REQUIRE_REAL is set");
    }
    eprintln!("skipped: {why}");
}
