//! `qapi-gen generate --check`: exit 0 when the output file is up to
//! date, 1 (with a message naming the file) when it is stale or missing,
//! and it never writes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn qapi_gen() -> &'static str {
    env!("CARGO_BIN_EXE_qapi-gen")
}

fn schema() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/commands.json")
}

fn generate(args: &[&str], out: &Path) -> Output {
    Command::new(qapi_gen())
        .arg("generate")
        .arg(schema())
        .arg("-o")
        .arg(out)
        .args(args)
        .output()
        .expect("qapi-gen runs")
}

#[test]
fn check_tells_fresh_from_stale() {
    let dir = std::env::temp_dir().join(format!("qapi-tests-{}-check", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let out = dir.join("qmp.rs");

    // Missing: stale, and not created.
    let r = generate(&["--check"], &out);
    assert_eq!(r.status.code(), Some(1), "{r:?}");
    assert!(String::from_utf8_lossy(&r.stderr).contains("qmp.rs' is stale"), "{r:?}");
    assert!(!out.exists());

    // Written, then checked with the same options: fresh.
    let r = generate(&["--mode", "server"], &out);
    assert_eq!(r.status.code(), Some(0), "{r:?}");
    let fresh = std::fs::read(&out).expect("output written");
    let r = generate(&["--mode", "server", "--check"], &out);
    assert_eq!(r.status.code(), Some(0), "{r:?}");
    assert!(r.stdout.is_empty() && r.stderr.is_empty(), "{r:?}");

    // Other options generate other code: stale, and left alone.
    let r = generate(&["--check"], &out);
    assert_eq!(r.status.code(), Some(1), "{r:?}");
    assert_eq!(std::fs::read(&out).expect("still there"), fresh);

    // Edited by hand: stale, with the line of the first difference.
    let mut edited = fresh.clone();
    edited.extend_from_slice(b"// hand edit\n");
    std::fs::write(&out, &edited).expect("edit");
    let r = generate(&["--mode", "server", "--check"], &out);
    assert_eq!(r.status.code(), Some(1), "{r:?}");
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(stderr.contains("is stale") && stderr.contains("from line"), "{stderr}");
    assert_eq!(std::fs::read(&out).expect("still there"), edited);

    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_without_output_is_a_usage_error() {
    let r = Command::new(qapi_gen()).arg("generate").arg(schema()).arg("--check").output().expect("qapi-gen runs");
    assert_eq!(r.status.code(), Some(2), "{r:?}");
}

#[test]
fn invalid_schema_exits_1_and_writes_nothing() {
    let dir = std::env::temp_dir().join(format!("qapi-tests-{}-invalid", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{ 'struct': 'lower', 'data': {} }\n").expect("schema written");
    let out = dir.join("out.rs");
    let r = Command::new(qapi_gen()).arg("generate").arg(&bad).arg("-o").arg(&out).output().expect("qapi-gen runs");
    assert_eq!(r.status.code(), Some(1), "{r:?}");
    assert!(String::from_utf8_lossy(&r.stderr).contains("bad.json:1:"), "{r:?}");
    assert!(!out.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unmask_introspection_keeps_type_names() {
    let dir = std::env::temp_dir().join(format!("qapi-tests-{}-unmask", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let (masked, unmasked) = (dir.join("masked.rs"), dir.join("unmasked.rs"));
    assert_eq!(generate(&[], &masked).status.code(), Some(0));
    assert_eq!(generate(&["--unmask-introspection"], &unmasked).status.code(), Some(0));
    let read = |p: &Path| std::fs::read_to_string(p).expect("output written");
    let entry = r#"{"arg-type":"q_empty","ret-type":"Status","name":"query-status","meta-type":"command"}"#;
    assert!(read(&unmasked).contains(entry), "no unmasked query-status entry");
    assert!(!read(&masked).contains(entry) && read(&masked).contains(r#""name":"query-status""#));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn only_generates_the_commands_asked_for() {
    let run = |args: &[&str]| {
        let o = Command::new(qapi_gen()).arg("generate").arg(schema()).args(args).output().expect("qapi-gen runs");
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, out, err) = run(&["--only", "query-status"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("\"query-status\"") && !out.contains("\"set-speed\""), "{out}");
    let (code, out, _) = run(&["--only", "query-status,set-speed"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("\"query-status\"") && out.contains("\"set-speed\""), "{out}");
    let (code, _, err) = run(&["--only", "query-status", "--only", "nope"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("'nope' is not a command or event"), "{err}");
}

#[test]
fn also_reads_makes_a_client_of_older_versions_and_warns_of_conflicts() {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests");
    let run = |args: &[&str]| {
        let o = Command::new(qapi_gen())
            .arg("generate")
            .arg(tests.join("golden/versions.json"))
            .args(args)
            .output()
            .expect("qapi-gen runs");
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let older = format!("10.0={}", tests.join("fixtures/versions/10.0.json").display());
    let (code, out, err) = run(&["--also-reads", &older]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("pub size: ::core::option::Option<u64>,"), "{out}");
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("type change not absorbed")).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(warnings[0].contains("Stats.count is int, but str in QEMU 10.0"), "{err}");
    let (code, _, err) = run(&["--also-reads", "10.0"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("VERSION=PATH"), "{err}");
    let (code, _, err) = run(&["--also-reads", &older, "--mode", "server"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("a server serves one version"), "{err}");
}
