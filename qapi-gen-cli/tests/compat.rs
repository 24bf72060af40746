//! `qapi-gen compat` and `qapi-gen check --since-current` on the command
//! line: exit status, text and JSON reports (the rules themselves are
//! tested in qapi-gen's tests/compat.rs).

use std::path::PathBuf;
use std::process::{Command, Output};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../qapi-gen/tests/compat").join(name)
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qapi-gen")).args(args).output().expect("qapi-gen runs")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The seed change: eight `MigrationStats` members, source-only, made
/// optional. Each breaks a reader of `query-migrate`.
#[test]
fn seed_change_reports_each_of_the_eight_members() {
    let (old, new) = (data("seed-old.json"), data("seed-new.json"));
    let o = run(&["compat", old.to_str().unwrap(), new.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}{}", text(&o), String::from_utf8_lossy(&o.stderr));
    let out = text(&o);
    let members = [
        "dirty-pages-rate",
        "dirty-sync-count",
        "postcopy-requests",
        "multifd-bytes",
        "precopy-bytes",
        "downtime-bytes",
        "postcopy-bytes",
        "dirty-sync-missed-zero-copy",
    ];
    let lines: Vec<&str> = out.lines().filter(|l| l.contains(": breaking: ")).collect();
    assert_eq!(lines.len(), 8, "{out}");
    for (line, m) in lines.iter().zip(members) {
        assert!(
            line.ends_with(&format!(
                ": breaking: query-migrate → MigrationInfo.ram → MigrationStats.{m}: required → optional"
            )),
            "{line}"
        );
        assert!(line.contains("seed-new.json:"), "{line}");
    }
    assert!(out.contains("  was ") && out.contains("seed-old.json:51:35"), "{out}");
    assert!(out.ends_with("8 breaking, 0 warnings, 0 allowed (0 compatible; 0 Since problems)\n"), "{out}");
    // The other way round nothing breaks.
    let o = run(&["compat", new.to_str().unwrap(), old.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn json_output_has_the_documented_shape() {
    let (old, new) = (data("seed-old.json"), data("seed-new.json"));
    let o =
        run(&["compat", "--format", "json", "--since-current", "11.0", old.to_str().unwrap(), new.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out: serde_json::Value = serde_json::from_str(&text(&o)).expect("the report is JSON");
    let summary = serde_json::json!({ "breaking": 8, "warning": 0, "allowed": 0, "compatible": 0, "since": 0 });
    assert_eq!((&out["format"], &out["since-current"], &out["summary"]), (&1.into(), &"11.0".into(), &summary));
    let changes = out["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 8);
    let first = &changes[0];
    assert_eq!(
        (&first["kind"], &first["direction"], &first["severity"]),
        (&"made-optional".into(), &"output".into(), &"breaking".into())
    );
    let subjects: Vec<&str> = changes.iter().filter_map(|c| c["subject"].as_str()).collect();
    assert!(subjects.contains(&"MigrationStats.dirty-sync-count"), "{subjects:?}");
    let c = changes.iter().find(|c| c["subject"] == "MigrationStats.dirty-sync-count").expect("the change");
    assert_eq!(c["paths"], serde_json::json!(["query-migrate → MigrationInfo.ram → MigrationStats.dirty-sync-count"]));
    assert_eq!(c["old"]["file"].as_str().map(|f| f.ends_with("seed-old.json")), Some(true));
    assert!(c["new"]["line"].is_u64() && c["new"]["column"].is_u64(), "{c}");
    assert_eq!(out["since"], serde_json::json!([]));
}

#[test]
fn same_schema_exits_zero_missing_file_two() {
    let old = data("seed-old.json");
    let o = run(&["compat", old.to_str().unwrap(), old.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(text(&o), "0 breaking, 0 warnings, 0 allowed (0 compatible; 0 Since problems)\n");
    let o = run(&["compat", old.to_str().unwrap(), "/nonexistent/schema.json"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn check_since_current_fails_only_on_later_versions() {
    let dir = std::env::temp_dir().join(format!("qapi-gen-compat-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("s.json");
    std::fs::write(&f, "##\n# @a:\n#\n# Since: 11.0\n##\n{ 'command': 'a' }\n\n##\n# @b:\n##\n{ 'command': 'b' }\n")
        .unwrap();
    let f = f.to_str().unwrap();
    let o = run(&["check", "--since-current", "11.0", f]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("s.json:8:1: warning: b: no 'Since:' section"));
    let o = run(&["check", "--since-current", "10.2", f]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("s.json:4:1: error: a: 'Since:' 11.0 is newer"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = run(&["check", f]);
    assert_eq!(o.status.code(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}
