//! The server's memory bounds: a client that does not read, the budget
//! across connections. Apart from `qmp_server`, whose memory checks would
//! see these tests' memory.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use std::time::Duration;

use common::{config, start_with, Raw};
use qapi_runtime::server::Server;
use serde_json::json;

/// Waits up to 5 s for the server's stats to satisfy `ok`.
async fn stats_until(server: &Server, ok: impl Fn(&qapi_runtime::server::ServerStats) -> bool) {
    for _ in 0..100 {
        if ok(&server.stats()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("stats never got there: {:?}", server.stats());
}

/// The server of this test runs on threads of its own name, so that the
/// CPU they use can be told apart.
const THREADS: &str = "silent-server";

#[test]
fn a_client_that_does_not_read_is_bounded_and_loses_events() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(THREADS)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(not_reading());
}

async fn not_reading() {
    let t = start_with(config().reply_queue(256 << 10)).await;
    let mut reading = Raw::negotiated(&t.socket, false).await;
    // A client with oob on that sends and never reads: replies to
    // out-of-band pings, in-band echoes of 30 KiB, events.
    let silent = Raw::negotiated(&t.socket, true).await;
    let (_rd, mut wr) = silent.stream.into_split();
    let echo = format!(r#"{{"execute": "echo", "arguments": {{"s": "{}"}}}}"#, "e".repeat(30 << 10));
    let writer = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        for _ in 0..2000 {
            let batch = format!("{}{echo}", r#"{"exec-oob": "oob-ping", "id": 1}"#.repeat(100));
            if tokio::time::timeout(Duration::from_secs(1), wr.write_all(batch.as_bytes())).await.is_err() {
                break; // the server stopped reading it
            }
        }
        wr
    });
    // And one that sends in-band requests only (they queue for the
    // executor while its output is full).
    let inband = Raw::negotiated(&t.socket, true).await;
    let (_inband_rd, mut inband_wr) = inband.stream.into_split();
    let batch = format!(r#"{{"execute": "echo", "arguments": {{"s": "{}"}}}}"#, "i".repeat(2 << 10)).repeat(64);
    let inband_writer = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        while let Ok(Ok(())) = tokio::time::timeout(Duration::from_secs(1), inband_wr.write_all(batch.as_bytes())).await
        {
        }
        inband_wr
    });
    let sink = t.server.events();
    for i in 0..200 {
        sink.emit_value("TICK", Some(json!({ "i": i, "pad": "p".repeat(4096) })));
        let m = reading.msg().await;
        assert_eq!((m["event"].as_str(), m["data"]["i"].as_i64()), (Some("TICK"), Some(i)), "{m}");
    }
    let wr = writer.await.unwrap();
    let inband_wr = inband_writer.await.unwrap();
    // Each silent client's output stays at the bound, plus what it sent
    // before the server stopped reading it (a read's worth of requests,
    // 8 in-band ones queued, their replies); the events it could not take
    // are counted; the reading client gets every event and is answered.
    let stats = t.server.stats();
    assert!(stats.memory_used < 2 << 20, "{stats:?}");
    // Waiting for it costs no CPU (this process is the server).
    let cpu = common::cpu_time(THREADS);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let spent = common::cpu_time(THREADS) - cpu;
    assert!(spent < Duration::from_millis(200), "{spent:?} of CPU in 500 ms waiting for a client");
    assert!(stats.events_lost > 0, "{stats:?}");
    reading.alive().await;
    // Gone, it leaves nothing behind.
    drop((wr, _rd, inband_wr, _inband_rd));
    stats_until(&t.server, |s| s.memory_used == 0 && s.connections == 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_memory_budget_disconnects_the_client_over_it() {
    let t = start_with(config().memory_budget(8 << 20)).await;
    let mut first = Raw::negotiated(&t.socket, false).await;
    let mut second = Raw::negotiated(&t.socket, false).await;
    let mut small = Raw::negotiated(&t.socket, false).await;
    let start = r#"{"execute": "echo", "arguments": {"s": ""#;
    // The first client's 5 MiB string fits the budget.
    first.send_reading(format!("{start}{}", "a".repeat(5 << 20))).await;
    stats_until(&t.server, |s| s.memory_used > 4 << 20).await;
    // The second one's does not: it is disconnected.
    assert!(!second.send_reading(format!("{start}{}", "b".repeat(5 << 20))).await, "cut off while sending");
    assert_eq!(second.try_line(Duration::from_secs(5)).await, None, "disconnected");
    assert_eq!(t.server.stats().over_budget, 1);
    // Others are served, the first client's request included.
    small.alive().await;
    first.send(r#""}, "id": "big"}"#).await;
    let m = first.msg().await;
    assert_eq!((m["id"].as_str(), m["return"]["s"].as_str().map(str::len)), (Some("big"), Some(5 << 20)));
    first.alive().await;
    stats_until(&t.server, |s| s.memory_used == 0).await;
}
