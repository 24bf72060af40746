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
