//! `migration-sim fit` as a user runs it, on a trace the simulator writes
//! (the real-QEMU test is `fit_real.rs`): the report's sections, `--json`,
//! `--write-scenario`, and errors that name the trace line or the change.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use migration_sim::config::{ByteSize, PageClassConfig};
use migration_sim::units::{MIB, NS_PER_MS};
use migration_sim::{Scenario, Simulation};
use serde_json::{json, Value};

fn dir() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fit-cli");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A QMP log of a simulated 64 MiB guest: the parameters and capabilities
/// answers, then `query-migrate` replies every 50 ms with timestamps.
fn write_trace(path: &Path) {
    let mut s = Scenario::default();
    s.guest.ram = ByteSize(64 * MIB);
    s.guest.classes = vec![PageClassConfig {
        name: "hot".into(),
        size: ByteSize(8 * MIB),
        write_rate: 800.0,
        ..PageClassConfig::default()
    }];
    s.migration.parameters.max_bandwidth = ByteSize(4 * MIB);
    let mut sim = Simulation::new(&s).unwrap();
    let mut lines = vec![
        json!({"QMP": {"version": {}, "capabilities": []}}).to_string(),
        json!({"return": s.migration.parameters}).to_string(),
        json!({"return": [{"capability": "xbzrle", "state": false}, {"capability": "events", "state": true}]})
            .to_string(),
    ];
    sim.run_sampled(50 * NS_PER_MS, |snap| {
        let t = snap.time_ns as f64 / 1e9;
        lines.push(json!({"return": snap.source, "timestamp": {"seconds": t as u64, "microseconds": 0}}).to_string());
    });
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

fn fit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migration-sim")).arg("fit").args(args).output().expect("run migration-sim")
}

fn trace(name: &str) -> PathBuf {
    let path = dir().join(format!("{name}.jsonl"));
    write_trace(&path);
    path
}

#[test]
fn report_and_what_if() {
    let trace = trace("report");
    let t = trace.to_str().unwrap();
    let scenario = dir().join("fitted.toml");
    let out =
        fit(&[t, "--set", "downtime-limit=50", "--cap", "events=off", "--write-scenario", scenario.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    for want in ["== fitted", "working set", "== fit error", "total-time", "== what-if: downtime-limit=50 events=off"] {
        assert!(text.contains(want), "no '{want}' in:\n{text}");
    }
    // The fitted scenario is one `run` accepts.
    let run = Command::new(env!("CARGO_BIN_EXE_migration-sim"))
        .args(["run", "--json", "--scenario"])
        .arg(&scenario)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));

    let out = fit(&[t, "--set", "max-bandwidth=8MiB", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let e = &doc["fit-error"];
    assert!(e["total-time-error"].as_f64().unwrap().abs() < 0.05, "{e}");
    assert!(e["transferred-error"].as_f64().unwrap().abs() < 0.05, "{e}");
    let base = e["replay"]["total-time-ms"].as_u64().unwrap();
    let faster = doc["what-if"]["predicted"]["total-time-ms"].as_u64().unwrap();
    assert!(faster < base, "twice the bandwidth: {faster} ms, not less than {base} ms");
    assert_eq!(doc["estimates"]["settings"]["capabilities"]["events"], true);
}

fn error_of(args: &[&str]) -> String {
    let out = fit(args);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn errors_name_the_line_or_the_change() {
    let bad = dir().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"return\": {\"status\": \"setup\"}}\n\n{\"return\": {\"status\": \"active\", \"total-time\": 5, \"ram\": {\"transferred\": -1}}}\n",
    )
    .unwrap();
    let b = bad.to_str().unwrap();
    assert_eq!(
        error_of(&[b]),
        format!("migration-sim: error: {b}:3: ram.transferred: expected a non-negative integer, found -1\n")
    );
    std::fs::write(&bad, "{\"return\": {\"status\": \"setup\"}}\nnot json\n").unwrap();
    assert!(error_of(&[b]).starts_with(&format!("migration-sim: error: {b}:2: not JSON: ")));
    let missing = dir().join("missing.jsonl");
    assert!(error_of(&[missing.to_str().unwrap()]).contains("missing.jsonl: No such file"));

    let trace = trace("errors");
    let t = trace.to_str().unwrap();
    let e = error_of(&[t, "--set", "downtime-limit=3000000"]);
    assert!(
        e.contains("Option downtime_limit expects an integer in the range of 0 to (2000 * 1000) ms"),
        "QEMU's own text: {e}"
    );
    let e = error_of(&[t, "--set", "no-such-thing=1"]);
    assert!(e.starts_with("migration-sim: error: --set no-such-thing=1: unknown parameter 'no-such-thing'"), "{e}");
    let e = error_of(&[t, "--cap", "multifd", "--cap", "xbzrle"]);
    assert!(e.contains("Multifd is not compatible with xbzrle"), "{e}");
}
