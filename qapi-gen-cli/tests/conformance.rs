//! QEMU's own front-end test cases and real schemas, run through the
//! `qapi-gen` binary by `../shared/conformance/qapi-conformance`.

#[path = "../../qapi-gen/tests/common/mod.rs"]
mod common;

use std::process::Command;

fn conformance(check: &str, verb: &str) {
    let Some(shared) = common::shared() else {
        return;
    };
    let out = Command::new(shared.join("conformance/qapi-conformance"))
        .args([check, "--verbose", env!("CARGO_BIN_EXE_qapi-gen"), verb])
        .output()
        .expect("python3 runs the conformance script");
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}");
    assert!(out.status.success(), "{check} conformance failed:\n{stdout}{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn reject_matches_qemu() {
    conformance("reject", "check");
}

#[test]
fn dump_matches_qemu() {
    conformance("dump", "dump");
}

#[test]
fn real_schemas_are_valid() {
    let Some(shared) = common::shared() else {
        return;
    };
    for (path, warn) in common::REAL_SCHEMAS {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_qapi-gen"));
        cmd.arg("check").arg(shared.join("qemu").join(path));
        if *warn {
            cmd.args(["--doc-style", "warn"]);
        }
        let out = cmd.output().expect("qapi-gen runs");
        assert!(
            out.status.success(),
            "{path} rejected:\n{}",
            String::from_utf8_lossy(&out.stderr).lines().take(20).collect::<Vec<_>>().join("\n")
        );
    }
}

#[test]
fn qemu_10_2_schemas_pass_strict_doc_style() {
    let Some(shared) = common::shared() else {
        return;
    };
    for (path, warn) in common::REAL_SCHEMAS {
        if *warn {
            continue;
        }
        let out = Command::new(env!("CARGO_BIN_EXE_qapi-gen"))
            .arg("check")
            .arg(shared.join("qemu").join(path))
            .output()
            .expect("qapi-gen runs");
        assert!(out.stderr.is_empty(), "{path}: {}", String::from_utf8_lossy(&out.stderr));
    }
}
