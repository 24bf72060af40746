//! Scripted QMP sessions against the served source and destination
//! monitors (library `migration_sim::qmp`, client `qapi_runtime::client`):
//! a whole migration with its events and both sides' final statistics,
//! each refusal QEMU makes (and that it changes nothing), a deferred
//! incoming migration, HMP texts, and the built-in commands.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::path::PathBuf;

use migration_sim::qmp::{serve, ServeOptions, Served, SimHost};
use migration_sim::{default_scenario, Scenario};
use qapi_runtime::client::{Client, ClientError};
use qapi_runtime::server::{ListenAddr, Listening};
use qapi_runtime::wire::EventMessage;
use qapi_runtime::ErrorClass;
use serde_json::{json, Value};

/// Polls between samples; the bound on their number only keeps a broken
/// build from hanging the test (no timing is asserted).
const POLL_MS: u64 = 5;
const MAX_POLLS: usize = 20_000;

struct Session {
    served: Served,
    src: Client,
    dst: Client,
    dir: PathBuf,
}

/// A small, fast guest: 1 GiB with a hot set, the usual devices.
fn scenario() -> Scenario {
    let mut s = default_scenario();
    s.guest.ram = migration_sim::config::ByteSize(1 << 30);
    for c in &mut s.guest.classes {
        c.size = migration_sim::config::ByteSize(c.size.0.min(64 << 20));
    }
    s
}

async fn start(scenario: &Scenario, defer_incoming: bool, name: &str) -> Session {
    let dir = std::env::temp_dir().join(format!("msim-qmp-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let options = ServeOptions { speed: 50.0, defer_incoming, ..ServeOptions::default() };
    let host = SimHost::new(scenario, &options).unwrap();
    let served =
        serve(host, &ListenAddr::Unix(dir.join("src.sock")), &ListenAddr::Unix(dir.join("dst.sock")), &options)
            .await
            .unwrap();
    let path = |l: &Listening| match l {
        Listening::Unix(p) => p.clone(),
        Listening::Tcp(a) => panic!("unexpected tcp {a}"),
    };
    let src = Client::connect_unix(path(&served.source_addr)).await.unwrap();
    let dst = Client::connect_unix(path(&served.destination_addr)).await.unwrap();
    Session { served, src, dst, dir }
}

impl Session {
    async fn stop(self) {
        self.src.close().await.unwrap();
        self.dst.close().await.unwrap();
        self.served.shutdown().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn exec(c: &Client, name: &str, args: Value) -> Result<Value, ClientError> {
    let args = if args.is_null() { None } else { Some(args) };
    c.execute_value(name, args).await
}

async fn ok(c: &Client, name: &str, args: Value) -> Value {
    exec(c, name, args).await.unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The error of a refused command: must be a GenericError.
async fn refused(c: &Client, name: &str, args: Value) -> String {
    match exec(c, name, args).await {
        Ok(v) => panic!("{name} succeeded: {v}"),
        Err(ClientError::Qmp(e)) => {
            assert_eq!(e.class, ErrorClass::GenericError, "{name}: {}", e.desc);
            e.desc
        }
        Err(e) => panic!("{name}: {e}"),
    }
}

async fn hmp(c: &Client, line: &str) -> String {
    ok(c, "human-monitor-command", json!({ "command-line": line })).await.as_str().unwrap().to_string()
}

fn drain(c: &Client, into: &mut Vec<EventMessage>) {
    while let Some(e) = c.try_next_event() {
        into.push(e);
    }
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

async fn events_on(c: &Client) {
    ok(c, "migrate-set-capabilities", json!({ "capabilities": [ { "capability": "events", "state": true } ] })).await;
}

async fn sleep() {
    tokio::time::sleep(std::time::Duration::from_millis(POLL_MS)).await;
}

/// Polls `query-migrate` on `c` until `status` reads `want`, returning
/// every sample (the last one has `want`).
async fn poll_until(c: &Client, want: &str, events: &mut Vec<EventMessage>) -> Vec<Value> {
    let mut samples = Vec::new();
    for _ in 0..MAX_POLLS {
        let s = ok(c, "query-migrate", Value::Null).await;
        drain(c, events);
        let done = s["status"] == want;
        samples.push(s);
        if done {
            return samples;
        }
        sleep().await;
    }
    panic!("status never became {want}: last {:?}", samples.last());
}

fn statuses(events: &[EventMessage]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e.event == "MIGRATION")
        .map(|e| e.data.as_ref().unwrap()["status"].as_str().unwrap().to_string())
        .collect()
}

fn names(events: &[EventMessage]) -> Vec<&str> {
    events.iter().map(|e| e.event.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_migration_with_events_and_both_sides_statistics() {
    let s = start(&scenario(), false, "full").await;
    events_on(&s.src).await;
    events_on(&s.dst).await;
    ok(&s.src, "migrate-set-parameters", json!({ "downtime-limit": 500, "max-bandwidth": 1u64 << 30 })).await;
    let params = ok(&s.src, "query-migrate-parameters", Value::Null).await;
    assert_eq!(params["downtime-limit"], 500);
    assert_eq!(params["max-bandwidth"], 1u64 << 30);
    let caps = ok(&s.src, "query-migrate-capabilities", Value::Null).await;
    assert!(caps.as_array().unwrap().contains(&json!({ "capability": "events", "state": true })));
    // Before any migration: an empty answer on both sides (the destination
    // was started with -incoming URI and already listens).
    assert_eq!(ok(&s.src, "query-migrate", Value::Null).await, json!({}));
    assert_eq!(ok(&s.dst, "query-migrate", Value::Null).await["status"], "setup");

    ok(&s.src, "migrate", json!({ "uri": "tcp:192.0.2.2:4444" })).await;
    let mut src_events = Vec::new();
    let mut dst_events = Vec::new();
    let samples = poll_until(&s.src, "completed", &mut src_events).await;
    let dst_samples = poll_until(&s.dst, "completed", &mut dst_events).await;
    // The RESUME and any event still in flight.
    for _ in 0..20 {
        sleep().await;
        drain(&s.src, &mut src_events);
        drain(&s.dst, &mut dst_events);
    }

    // Source events: QEMU's sequence, one MIGRATION per edge, one
    // MIGRATION_PASS per sync, STOP before the switchover.
    assert_eq!(statuses(&src_events), ["setup", "active", "device", "completed"], "{:?}", names(&src_events));
    let passes: Vec<i64> = src_events
        .iter()
        .filter(|e| e.event == "MIGRATION_PASS")
        .map(|e| e.data.as_ref().unwrap()["pass"].as_i64().unwrap())
        .collect();
    let last = samples.last().unwrap();
    let syncs = last["ram"]["dirty-sync-count"].as_i64().unwrap();
    assert_eq!(passes, (1..=syncs).collect::<Vec<_>>());
    let pos = |name: &str, status: Option<&str>| {
        src_events
            .iter()
            .position(|e| e.event == name && status.is_none_or(|st| e.data.as_ref().is_some_and(|d| d["status"] == st)))
            .unwrap_or_else(|| panic!("no {name} {status:?}: {:?}", names(&src_events)))
    };
    assert!(pos("MIGRATION_PASS", None) < pos("MIGRATION", Some("active")), "pass 1 comes while in setup");
    assert!(pos("STOP", None) < pos("MIGRATION", Some("device")));
    assert!(!names(&src_events).contains(&"RESUME"));
    // Timestamps follow the simulated clock: never decreasing.
    let ts: Vec<(i64, i64)> = src_events.iter().map(|e| (e.timestamp.seconds, e.timestamp.microseconds)).collect();
    assert!(ts.windows(2).all(|w| w[0] <= w[1]), "{ts:?}");
    // Destination: its own events (its setup happened when it started,
    // before any client), then RESUME when its VM starts.
    assert_eq!(statuses(&dst_events), ["active", "completed"], "{:?}", names(&dst_events));
    assert!(names(&dst_events).contains(&"RESUME"));
    assert!(!names(&dst_events).contains(&"MIGRATION_PASS"));

    // device-state-times and the completed-only members.
    for sm in &samples[..samples.len() - 1] {
        assert!(sm.get("device-state-times").is_none(), "device-state-times before completion: {sm}");
        if sm.get("ram").is_some() {
            let sys = sm["remaining"].as_u64().unwrap();
            assert!(sys >= sm["ram"]["remaining"].as_u64().unwrap(), "{sm}");
        }
    }
    let times = last["device-state-times"].as_array().unwrap();
    assert!(!times.is_empty());
    for t in times {
        assert_eq!(keys(t), set(&["name", "instance-id", "save-time"]));
        assert!(t["save-time"].as_u64().unwrap() > 0, "{t}");
    }
    assert_eq!(last["remaining"], 0);
    assert_eq!(last["ram"]["remaining"], 0);
    assert!(last.get("downtime").is_some() && last.get("expected-downtime").is_none(), "{last}");
    for m in ["dirty-pages-rate", "dirty-sync-count", "precopy-bytes", "downtime-bytes", "multifd-bytes"] {
        assert!(last["ram"].get(m).is_some(), "source lacks {m}: {last}");
    }

    // Destination's final statistics: exactly the seed's members.
    let d = dst_samples.last().unwrap();
    assert_eq!(keys(d), set(&["status", "total-time", "ram"]), "{d}");
    let ram = &d["ram"];
    assert_eq!(
        keys(ram),
        set(&[
            "transferred",
            "remaining",
            "total",
            "page-size",
            "normal",
            "normal-bytes",
            "duplicate",
            "mbps",
            "pages-per-second"
        ]),
        "{ram}"
    );
    let total_ms = d["total-time"].as_i64().unwrap();
    assert!(total_ms > 0);
    let int = |k: &str| ram[k].as_i64().unwrap();
    assert_eq!(int("remaining"), 0);
    assert_eq!(int("total"), last["ram"]["total"].as_i64().unwrap());
    assert_eq!(int("page-size"), 4096);
    assert_eq!(int("normal-bytes"), int("normal") * 4096);
    assert!(int("transferred") > 0 && int("transferred") <= last["ram"]["transferred"].as_i64().unwrap());
    let mbps = ram["mbps"].as_f64().unwrap();
    let expect = int("transferred") as f64 * 8.0 / total_ms as f64 / 1000.0;
    assert!((mbps - expect).abs() <= 1e-9 * expect.max(1.0), "{mbps} vs {expect}");
    // No XBZRLE here: pages-per-second = (normal + zero)·1000/total-time.
    assert_eq!(int("pages-per-second"), (int("normal") + int("duplicate")) * 1000 / total_ms);
    assert!(dst_samples[..dst_samples.len() - 1].iter().all(|x| x.get("ram").is_none()));

    // Run states and HMP.
    assert_eq!(ok(&s.src, "query-status", Value::Null).await, json!({ "running": false, "status": "postmigrate" }));
    assert_eq!(ok(&s.dst, "query-status", Value::Null).await, json!({ "running": true, "status": "running" }));
    assert_eq!(hmp(&s.src, "info status").await, "VM status: paused (postmigrate)\r\n");
    assert_eq!(hmp(&s.dst, "info status").await, "VM status: running\r\n");
    assert_eq!(hmp(&s.src, "foo").await, "unknown command: 'foo'\r\n");
    assert_eq!(hmp(&s.src, "info foo").await, "unknown command: 'info foo'\r\n");
    let text = hmp(&s.src, "info migrate").await;
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(lines[0], "Status: \t\tcompleted");
    assert!(lines[1].starts_with(&format!("Time (ms): \t\ttotal={}, setup=", last["total-time"])), "{text}");
    assert_eq!(lines[2], "Remaining (bytes): \t0");
    assert!(lines.contains(&"RAM info:"), "{text}");
    assert!(lines.contains(&format!("  Others: \t\tdirty_syncs={syncs}").as_str()) || text.contains("dirty_syncs="));
    assert!(!text.contains("\n\n") && !text.replace("\r\n", "").contains('\n'), "bare LF in {text:?}");
    let dtext = hmp(&s.dst, "info migrate").await;
    assert!(dtext.starts_with("Status: \t\tcompleted\r\nTime (ms): \t\ttotal="), "{dtext}");
    assert!(!dtext.contains("Remaining (bytes)"), "{dtext}");
    assert!(!dtext.contains("Channels") && !dtext.contains("dirty_syncs"), "{dtext}");
    s.stop().await;
}

/// `info migrate_parameters` as QEMU 10.2 prints it: QEMU 10.0.2 prints
/// the same names, values and units (for max-postcopy-bandwidth none yet,
/// and tls-authz and max-postcopy-bandwidth after xbzrle-cache-size).
const DEFAULT_PARAMETERS_HMP: &str = "announce-initial: 50 ms\r\n\
announce-max: 550 ms\r\n\
announce-rounds: 5\r\n\
announce-step: 100 ms\r\n\
throttle-trigger-threshold: 50\r\n\
cpu-throttle-initial: 20\r\n\
cpu-throttle-increment: 10\r\n\
cpu-throttle-tailslow: off\r\n\
max-cpu-throttle: 99\r\n\
tls-creds: ''\r\n\
tls-hostname: ''\r\n\
tls-authz: ''\r\n\
max-bandwidth: 134217728 bytes/second\r\n\
avail-switchover-bandwidth: 0 bytes/second\r\n\
max-postcopy-bandwidth: 0 bytes/second\r\n\
downtime-limit: 500 ms\r\n\
x-checkpoint-delay: 20000 ms\r\n\
multifd-channels: 2\r\n\
multifd-compression: none\r\n\
zero-page-detection: multifd\r\n\
xbzrle-cache-size: 67108864 bytes\r\n\
x-vcpu-dirty-limit-period: 1000 ms\r\n\
vcpu-dirty-limit: 1 MB/s\r\n\
mode: normal\r\n\
direct-io: off\r\n\
cpr-exec-command:\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hmp_parameters_and_capabilities() {
    let s = start(&scenario(), false, "hmp-params").await;
    ok(&s.src, "migrate-set-parameters", json!({ "downtime-limit": 500 })).await;
    assert_eq!(hmp(&s.src, "info migrate_parameters").await, DEFAULT_PARAMETERS_HMP);
    // Each side has its own.
    assert!(hmp(&s.dst, "info migrate_parameters").await.contains("\r\ndowntime-limit: 300 ms\r\n"));
    ok(
        &s.src,
        "migrate-set-capabilities",
        json!({ "capabilities": [ { "capability": "auto-converge", "state": true } ] }),
    )
    .await;
    let caps = hmp(&s.src, "info migrate_capabilities").await;
    let lines: Vec<&str> = caps.split("\r\n").collect();
    assert_eq!(lines.len(), 22, "{caps}");
    assert_eq!(
        lines[..5],
        ["xbzrle: off", "rdma-pin-all: off", "auto-converge: on", "events: on", "postcopy-ram: off"]
    );
    assert_eq!(lines[20], "mapped-ram: off");
    assert!(hmp(&s.dst, "info migrate_capabilities").await.contains("\r\nauto-converge: off\r\n"));
    assert_eq!(
        hmp(&s.src, "info migrate_parameters x").await,
        "info migrate_parameters: extraneous characters at the end of line\r\n"
    );
    s.stop().await;
}

/// Parameters, capabilities and both sides' `query-migrate` are as before.
async fn unchanged(s: &Session, before: [Value; 4]) {
    assert_eq!(ok(&s.src, "query-migrate-parameters", Value::Null).await, before[0]);
    assert_eq!(ok(&s.src, "query-migrate-capabilities", Value::Null).await, before[1]);
    assert_eq!(ok(&s.src, "query-migrate", Value::Null).await, before[2]);
    assert_eq!(ok(&s.dst, "query-migrate", Value::Null).await, before[3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_use_qemu_words_and_change_nothing() {
    let s = start(&scenario(), false, "refuse").await;
    let params = ok(&s.src, "query-migrate-parameters", Value::Null).await;
    let caps = ok(&s.src, "query-migrate-capabilities", Value::Null).await;
    let src_before = ok(&s.src, "query-migrate", Value::Null).await;
    let dst_before = ok(&s.dst, "query-migrate", Value::Null).await;
    let before = [params.clone(), caps.clone(), src_before.clone(), dst_before.clone()];

    // Bad URIs.
    assert_eq!(refused(&s.src, "migrate", json!({ "uri": "foo:bar" })).await, "unknown migration protocol: foo:bar");
    assert_eq!(
        refused(&s.src, "migrate", json!({ "uri": "tcp:192.0.2.2" })).await,
        "error parsing address '192.0.2.2'"
    );
    assert_eq!(refused(&s.src, "migrate", json!({})).await, "Need either 'uri' or 'channels' argument");
    unchanged(&s, before.clone()).await;

    // Parameters out of QEMU's range, by the schema's type or QEMU's check.
    assert_eq!(
        refused(&s.src, "migrate-set-parameters", json!({ "cpu-throttle-initial": 100 })).await,
        "Option cpu_throttle_initial expects an integer in the range of 1 to 99"
    );
    assert_eq!(
        refused(&s.src, "migrate-set-parameters", json!({ "downtime-limit": 2_000_001, "max-bandwidth": 1 })).await,
        "Option downtime_limit expects an integer in the range of 0 to (2000 * 1000) ms"
    );
    assert_eq!(
        refused(&s.src, "migrate-set-parameters", json!({ "multifd-channels": 256 })).await,
        "Parameter 'multifd-channels' expects uint8_t"
    );
    assert_eq!(
        refused(&s.src, "migrate-set-parameters", json!({ "xbzrle-cache-size": 5000 })).await,
        "Option xbzrle_cache_size expects a power of two no less than the target page size"
    );
    assert_eq!(
        refused(&s.dst, "migrate-set-parameters", json!({ "throttle-trigger-threshold": 0 })).await,
        "Option throttle_trigger_threshold expects an integer in the range of 1 to 100"
    );
    unchanged(&s, before.clone()).await;

    // migrate-incoming without -incoming defer, and on the source.
    assert_eq!(
        refused(&s.dst, "migrate-incoming", json!({ "uri": "tcp:0.0.0.0:4444" })).await,
        "The incoming migration has already been started"
    );
    assert_eq!(
        refused(&s.src, "migrate-incoming", json!({ "uri": "tcp:0.0.0.0:4444" })).await,
        "'-incoming' was not specified on the command line"
    );
    unchanged(&s, before.clone()).await;

    // migrate while one runs: a slow migration (1 MiB/s) is still active.
    ok(&s.src, "migrate-set-parameters", json!({ "max-bandwidth": 1 << 20 })).await;
    ok(&s.src, "migrate", json!({ "uri": "tcp:192.0.2.2:4444" })).await;
    let mut ev = Vec::new();
    let first = poll_until(&s.src, "active", &mut ev).await.pop().unwrap();
    let params = ok(&s.src, "query-migrate-parameters", Value::Null).await;
    assert_eq!(
        refused(&s.src, "migrate", json!({ "uri": "tcp:192.0.2.9:4444" })).await,
        "There's a migration process in progress"
    );
    assert_eq!(
        refused(
            &s.src,
            "migrate-set-capabilities",
            json!({ "capabilities": [ { "capability": "xbzrle", "state": true } ] })
        )
        .await,
        "There's a migration process in progress"
    );
    let after = ok(&s.src, "query-migrate", Value::Null).await;
    assert_eq!(after["status"], "active");
    assert_eq!(after["setup-time"], first["setup-time"], "the running migration is the same one");
    assert!(after["total-time"].as_i64() >= first["total-time"].as_i64());
    assert!(after["ram"]["transferred"].as_i64() >= first["ram"]["transferred"].as_i64());
    assert_eq!(ok(&s.src, "query-migrate-parameters", Value::Null).await, params);
    assert!(ok(&s.src, "query-migrate-capabilities", Value::Null)
        .await
        .as_array()
        .unwrap()
        .contains(&json!({ "capability": "xbzrle", "state": false })));
    // A cancelled migration ends as QEMU's does; the destination fails.
    ok(&s.src, "migrate_cancel", Value::Null).await;
    poll_until(&s.src, "cancelled", &mut ev).await;
    poll_until(&s.dst, "failed", &mut ev).await;
    assert_eq!(ok(&s.src, "query-status", Value::Null).await["status"], "running");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deferred_incoming_waits_for_migrate_incoming() {
    let s = start(&scenario(), true, "defer").await;
    events_on(&s.dst).await;
    assert_eq!(ok(&s.dst, "query-migrate", Value::Null).await, json!({}));
    assert_eq!(ok(&s.dst, "query-status", Value::Null).await, json!({ "running": false, "status": "inmigrate" }));
    assert_eq!(
        refused(&s.dst, "migrate-incoming", json!({ "uri": "nope:1" })).await,
        "unknown migration protocol: nope:1"
    );
    assert_eq!(ok(&s.dst, "query-migrate", Value::Null).await, json!({}));
    ok(&s.dst, "migrate-incoming", json!({ "uri": "tcp:0.0.0.0:4446" })).await;
    let d = ok(&s.dst, "query-migrate", Value::Null).await;
    assert_eq!(
        d,
        json!({ "status": "setup",
                "socket-address": [ { "type": "inet", "host": "0.0.0.0", "port": "4446", "ipv4": true } ] })
    );
    assert_eq!(
        refused(&s.dst, "migrate-incoming", json!({ "uri": "tcp:0.0.0.0:4446" })).await,
        "The incoming migration has already been started"
    );
    assert!(hmp(&s.dst, "info migrate").await.contains("Sockets: [\r\n\ttcp:0.0.0.0:4446\r\n]\r\n"));
    ok(
        &s.src,
        "migrate",
        json!({ "channels": [ { "channel-type": "main",
                                "addr": { "transport": "socket", "type": "inet", "host": "192.0.2.2", "port": "4446" } } ] }),
    )
    .await;
    let mut dst_events = Vec::new();
    poll_until(&s.dst, "completed", &mut dst_events).await;
    assert_eq!(statuses(&dst_events), ["setup", "active", "completed"]);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builtins_and_introspection() {
    let s = start(&scenario(), false, "builtins").await;
    let v = ok(&s.src, "query-version", Value::Null).await;
    assert_eq!(v["qemu"], json!({ "major": 10, "minor": 2, "micro": 0 }));
    let cmds: BTreeSet<String> = ok(&s.dst, "query-commands", Value::Null)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    for c in [
        "qmp_capabilities",
        "query-version",
        "query-commands",
        "query-qmp-schema",
        "query-status",
        "human-monitor-command",
        "migrate",
        "migrate-incoming",
        "migrate_cancel",
        "migrate-set-parameters",
        "query-migrate-parameters",
        "migrate-set-capabilities",
        "query-migrate-capabilities",
        "query-migrate",
    ] {
        assert!(cmds.contains(c), "{c} missing from {cmds:?}");
    }
    let schema = ok(&s.src, "query-qmp-schema", Value::Null).await;
    let entries = schema.as_array().unwrap();
    let find = |name: &str| entries.iter().find(|e| e["name"] == name).unwrap_or_else(|| panic!("{name}"));
    assert_eq!(find("query-migrate")["meta-type"], "command");
    assert_eq!(find("MIGRATION")["meta-type"], "event");
    // Type names are masked as QEMU masks them.
    let ret = find("query-migrate")["ret-type"].as_str().unwrap();
    assert!(ret.parse::<u32>().is_ok(), "{ret}");
    let info = find(ret);
    let members: Vec<&str> = info["members"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert!(members.contains(&"device-state-times") && members.contains(&"remaining"), "{members:?}");
    assert!(entries.iter().all(|e| e["name"] != "MigrationInfo"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_to_a_file_and_load_it() {
    let s = start(&scenario(), true, "file").await;
    events_on(&s.dst).await;
    // mapped-ram needs a seekable transport, on either side (QEMU 10.0.2).
    ok(
        &s.dst,
        "migrate-set-capabilities",
        json!({ "capabilities": [ { "capability": "mapped-ram", "state": true } ] }),
    )
    .await;
    assert_eq!(
        refused(&s.dst, "migrate-incoming", json!({ "uri": "tcp:0.0.0.0:4446" })).await,
        "Migration requires seekable transport (e.g. file)"
    );
    ok(
        &s.src,
        "migrate-set-capabilities",
        json!({ "capabilities": [ { "capability": "mapped-ram", "state": true } ] }),
    )
    .await;
    assert_eq!(
        refused(&s.src, "migrate", json!({ "uri": "exec:cat > /tmp/vm" })).await,
        "Migration requires seekable transport (e.g. file)"
    );
    assert_eq!(
        refused(&s.dst, "migrate-incoming", json!({ "uri": "file:/tmp/vm.mig" })).await,
        "Could not open '/tmp/vm.mig': No such file or directory"
    );
    ok(
        &s.src,
        "migrate",
        json!({ "channels": [ { "channel-type": "main",
                                "addr": { "transport": "file", "filename": "/tmp/vm.mig", "offset": 0 } } ] }),
    )
    .await;
    let mut ev = Vec::new();
    poll_until(&s.src, "completed", &mut ev).await;
    // Nothing listened for the save.
    assert_eq!(ok(&s.dst, "query-migrate", Value::Null).await, json!({}));
    ok(&s.dst, "migrate-incoming", json!({ "uri": "file:/tmp/vm.mig,offset=0" })).await;
    let mut dst_events = Vec::new();
    let samples = poll_until(&s.dst, "completed", &mut dst_events).await;
    assert!(samples.iter().all(|x| x.get("socket-address").is_none()));
    assert_eq!(statuses(&dst_events), ["setup", "active", "completed"]);
    assert_eq!(ok(&s.dst, "query-status", Value::Null).await["status"], "running");
    s.stop().await;
}
