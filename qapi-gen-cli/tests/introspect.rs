//! `qapi-gen introspect`: QEMU's reference output through the conformance
//! script, and the CLI's masking and condition options.

#[path = "../../qapi-gen/tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

#[test]
fn introspect_matches_qemu() {
    let Some(shared) = common::shared() else {
        return;
    };
    let out = Command::new(shared.join("conformance/qapi-conformance"))
        .args([
            "introspect",
            "--verbose",
            env!("CARGO_BIN_EXE_qapi-gen"),
            "introspect",
            "--unmask",
            "--doc-style",
            "warn",
        ])
        .output()
        .expect("python3 runs the conformance script");
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}");
    assert!(out.status.success(), "introspect conformance failed:\n{stdout}{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn cli_masks_by_default_and_evaluates_defines() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let file = dir.join("introspect-cli.json");
    std::fs::write(
        &file,
        "{ 'struct': 'Info', 'data': { 'x': 'str' } }\n\
         { 'command': 'query-info', 'returns': 'Info' }\n\
         { 'command': 'query-vnc', 'returns': 'Info', 'if': 'CONFIG_VNC' }\n",
    )
    .expect("temp dir is writable");
    let run = |extra: &[&str]| -> Value {
        let out = Command::new(env!("CARGO_BIN_EXE_qapi-gen"))
            .arg("introspect")
            .args(extra)
            .arg(&file)
            .output()
            .expect("qapi-gen runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("JSON on stdout")
    };
    let names = |v: &Value| -> Vec<String> {
        v.as_array().into_iter().flatten().filter_map(|e| e["name"].as_str().map(str::to_owned)).collect()
    };
    assert_eq!(names(&run(&[])), ["query-info", "query-vnc", "0", "1", "str"]);
    assert_eq!(names(&run(&["--unmask"])), ["query-info", "query-vnc", "q_empty", "Info", "str"]);
    assert_eq!(names(&run(&["--unmask", "--conditions", "defined"])), ["query-info", "q_empty", "Info", "str"]);
    assert_eq!(
        names(&run(&["--unmask", "--define", "CONFIG_VNC"])),
        ["query-info", "query-vnc", "q_empty", "Info", "str"]
    );
    // Deterministic output.
    let once = Command::new(env!("CARGO_BIN_EXE_qapi-gen")).arg("introspect").arg(&file).output().expect("runs");
    let twice = Command::new(env!("CARGO_BIN_EXE_qapi-gen")).arg("introspect").arg(&file).output().expect("runs");
    assert_eq!(once.stdout, twice.stdout);
}
