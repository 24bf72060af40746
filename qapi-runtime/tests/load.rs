//! Load: many concurrent clients over unix sockets, each with a window of
//! requests in flight; every reply must match its request's `id`, none
//! lost or duplicated, and memory must stay bounded.
//!
//! The full run (64 clients × 10,000 requests) is `#[ignore]`d for debug
//! builds; `.ci/run` runs it in release:
//! `cargo test --release -p qapi-runtime --test load -- --ignored`.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::Semaphore;

/// Peak resident set size of this process, KiB.
fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn client(socket: std::path::PathBuf, client: u64, requests: u64, window: usize) {
    let stream = UnixStream::connect(&socket).await.expect("connect");
    let (rd, mut wr) = stream.into_split();
    let mut rd = BufReader::new(rd);
    let mut line = String::new();
    rd.read_line(&mut line).await.unwrap();
    wr.write_all(b"{\"execute\": \"qmp_capabilities\"}").await.unwrap();
    line.clear();
    rd.read_line(&mut line).await.unwrap();
    assert_eq!(line, "{\"return\": {}}\r\n");

    let permits = Arc::new(Semaphore::new(window));
    let writer = {
        let permits = permits.clone();
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut i = 0;
            while i < requests {
                // Send as many as the window allows, in one write.
                permits.acquire().await.expect("semaphore").forget();
                let mut batch = 1;
                while batch < 64 && i + batch < requests && permits.try_acquire().map(|p| p.forget()).is_ok() {
                    batch += 1;
                }
                buf.clear();
                for k in i..i + batch {
                    let id = client * 1_000_000 + k;
                    if k % 97 == 0 {
                        buf.extend_from_slice(format!(r#"{{"execute": "nope", "id": {id}}}"#).as_bytes());
                    } else {
                        buf.extend_from_slice(
                            format!(r#"{{"execute": "add", "arguments": {{"a": {k}}}, "id": {id}}}"#).as_bytes(),
                        );
                    }
                }
                wr.write_all(&buf).await.unwrap();
                i += batch;
            }
            wr
        })
    };
    let mut seen = vec![false; requests as usize];
    for _ in 0..requests {
        line.clear();
        let n = rd.read_line(&mut line).await.unwrap();
        assert!(n > 0, "client {client}: connection closed early");
        assert!(line.ends_with("\r\n"));
        let m: Value = serde_json::from_str(&line).unwrap();
        let id = m["id"].as_u64().expect("reply has our id");
        assert_eq!(id / 1_000_000, client, "reply for another client: {line}");
        let k = id % 1_000_000;
        assert!(k < requests, "unknown id {id}");
        assert!(!seen[k as usize], "duplicate reply for {id}");
        seen[k as usize] = true;
        if k % 97 == 0 {
            assert_eq!(m["error"]["class"], "CommandNotFound", "{line}");
        } else {
            assert_eq!(m["return"].as_u64(), Some(k), "{line}");
        }
        permits.add_permits(1);
    }
    assert!(seen.iter().all(|s| *s), "client {client}: replies lost");
    let wr = writer.await.unwrap();
    drop(wr);
    // Nothing more arrives.
    line.clear();
    match tokio::time::timeout(Duration::from_millis(50), rd.read_line(&mut line)).await {
        Err(_) | Ok(Ok(0)) => {}
        Ok(r) => panic!("client {client}: unexpected {r:?}: {line}"),
    }
}

async fn run(clients: u64, requests: u64) {
    let t = common::start().await;
    let before = common::rss_kib();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        tasks.push(tokio::spawn(client(t.socket.clone(), c, requests, 32)));
    }
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(600), task).await.expect("load test in time").expect("client ok");
    }
    let elapsed = started.elapsed();
    let total = clients * requests;
    let after = common::rss_kib();
    println!(
        "load: {clients} clients x {requests} requests = {total} in {:.2} s ({:.0} req/s); RSS {} -> {} KiB, peak {} KiB",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        before,
        after,
        peak_kib()
    );
    assert!(after.saturating_sub(before) < 256 * 1024, "memory grew by {} KiB", after - before);
    t.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_small() {
    run(64, 300).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the full load test: run in release (.ci/run does)"]
async fn load_64_clients_x_10000_requests() {
    run(64, 10_000).await;
}

/// Not a test of its own: the server process of
/// [`hostile_clients_stay_within_the_memory_budget`], which starts this
/// binary again with `QMP_LOAD_SERVER=SOCKET` to run it (so that the
/// server's peak memory is its own). Serves with the default
/// configuration until its standard input closes, then prints its stats.
#[test]
#[ignore = "the server process of the hostile load test"]
fn hostile_load_server_process() {
    let Some(socket) = std::env::var_os("QMP_LOAD_SERVER") else {
        println!("run by hostile_clients_stay_within_the_memory_budget only");
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let machine = common::Machine::new();
        let server = qapi_runtime::server::Server::new(machine.clone(), common::config());
        machine.attach(server.events());
        server.listen_unix(std::path::PathBuf::from(socket)).await.unwrap();
        println!("ready");
        // Until the test closes our standard input.
        let mut stdin = tokio::io::stdin();
        let mut sink = Vec::new();
        let _ = tokio::io::AsyncReadExt::read_to_end(&mut stdin, &mut sink).await;
        let stats = server.stats();
        println!("stats {} {} {}", stats.memory_budget, stats.over_budget, stats.memory_used);
        server.shutdown().await;
    });
}

/// The server process: this test binary again, serving on `socket`.
struct ServerProcess {
    child: std::process::Child,
    stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl ServerProcess {
    fn start(socket: &std::path::Path) -> ServerProcess {
        use std::io::BufRead;
        use std::process::{Command, Stdio};
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "hostile_load_server_process", "--ignored", "--nocapture", "--test-threads=1"])
            .env("QMP_LOAD_SERVER", socket)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the server process");
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        // (After libtest's "test NAME ... " on the same line.)
        while !line.contains("ready") {
            line.clear();
            assert!(stdout.read_line(&mut line).unwrap() > 0, "the server process ended");
        }
        ServerProcess { child, stdout }
    }

    /// `VmRSS` or `VmHWM` (peak) of the server process, KiB.
    fn kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim_start_matches(':').split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// Ends the server; its stats: budget, clients over it, memory held.
    fn stop(mut self) -> Vec<u64> {
        use std::io::BufRead;
        drop(self.child.stdin.take());
        let mut line = String::new();
        while !line.contains("stats ") {
            line.clear();
            assert!(self.stdout.read_line(&mut line).unwrap() > 0, "the server process ended without its stats");
        }
        let _ = self.child.wait();
        let at = line.find("stats ").unwrap_or(0);
        line[at..].split_whitespace().skip(1).map(|n| n.parse().unwrap()).collect()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends a 64 MiB string token (over QEMU's limit) while reading what
/// comes back; returns whether the server kept the connection.
async fn token_client(socket: std::path::PathBuf, token: Arc<Vec<u8>>) -> bool {
    let mut c = common::Raw::negotiated(&socket, false).await;
    c.send(r#"{"execute": "echo", "arguments": {"s": ""#).await;
    let kept = c.send_reading(token.as_slice()).await && c.send_reading("\"}}\u{1}").await;
    // What is left to read: errors, or nothing when disconnected.
    while c.try_line(Duration::from_millis(500)).await.is_some() {}
    kept
}

/// Negotiates `oob`, then sends out-of-band pings and in-band echoes and
/// never reads, until the server stops reading it. Returns the stream, to
/// keep the client connected.
async fn silent_client(socket: std::path::PathBuf) -> UnixStream {
    let c = common::Raw::negotiated(&socket, true).await;
    let mut stream = c.stream;
    let batch = format!(
        "{}{{\"execute\": \"echo\", \"arguments\": {{\"s\": \"{}\"}}}}",
        r#"{"exec-oob": "oob-ping", "id": 1}"#.repeat(200),
        "e".repeat(32 << 10)
    );
    loop {
        match tokio::time::timeout(Duration::from_millis(500), stream.write_all(batch.as_bytes())).await {
            Ok(Ok(())) => {}
            _ => return stream,
        }
    }
}

/// Issue 18's load: 8 clients each sending a 64 MiB token and 10 clients
/// with `oob` that never read, against a server in a process of its own
/// with the default configuration. Its peak resident memory must stay
/// under the documented bound (see `ServerConfig::memory_budget`), some
/// token clients must be cut off, and an unrelated client must be answered
/// meanwhile.
/// Asserting its latency (median under 50 ms) is only done here, in a
/// release build run on purpose (`.ci/run` does); the numbers are printed.
#[test]
#[ignore = "hostile load: run in release (.ci/run does)"]
fn hostile_clients_stay_within_the_memory_budget() {
    let dir = common::TempDir::new("hostile");
    let socket = dir.path().join("qmp.sock");
    let server = ServerProcess::start(&socket);
    let baseline = server.kib("VmRSS");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (kept, latencies) = rt.block_on(async {
        let mut probe = common::Raw::negotiated(&socket, false).await;
        let token = Arc::new(vec![b'x'; 64 << 20]);
        let mut silent = Vec::new();
        for _ in 0..10 {
            silent.push(tokio::spawn(silent_client(socket.clone())));
        }
        let tokens: Vec<_> = (0..8).map(|_| tokio::spawn(token_client(socket.clone(), token.clone()))).collect();
        // Probe the whole time the token clients run.
        let mut latencies = Vec::new();
        while !tokens.iter().all(|t| t.is_finished()) {
            let started = Instant::now();
            probe.alive().await;
            latencies.push(started.elapsed());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut kept = 0;
        for t in tokens {
            kept += usize::from(t.await.unwrap());
        }
        for s in silent {
            drop(s.await.unwrap());
        }
        (kept, latencies)
    });
    let peak = server.kib("VmHWM");
    let stats = server.stop();
    let (budget_kib, over_budget) = (stats[0] / 1024, stats[1]);
    let mut sorted = latencies.clone();
    sorted.sort();
    let median = sorted[sorted.len() / 2];
    let max = sorted[sorted.len() - 1];
    println!(
        "hostile load: server peak RSS {} MiB (baseline {} MiB, budget {} MiB); {kept} of 8 token clients kept, \
         {over_budget} disconnected over budget; unrelated client: {} probes, median {:.1} ms, max {:.1} ms",
        peak / 1024,
        baseline / 1024,
        budget_kib / 1024,
        latencies.len(),
        median.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3
    );
    // The documented bound (ServerConfig::memory_budget): what the budget
    // counts, the fixed 256 KiB of each connection, and the allocator's
    // slack, at most 1/32 of the budget.
    let bound = baseline + budget_kib + 19 * 256 + budget_kib / 32;
    assert!(peak < bound, "peak RSS {peak} KiB over the documented bound {bound} KiB");
    assert!(over_budget > 0, "8 tokens of 64 MiB do not fit a 256 MiB budget: some client must be cut off");
    assert!(!latencies.is_empty());
    assert!(median < Duration::from_millis(50), "median latency {median:?}");
}
