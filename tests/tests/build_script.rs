//! The build script (`build.rs`) generates `$OUT_DIR/fixture.rs` with
//! `qapi_gen::Builder` from `fixtures/build/qapi-schema.json`, which
//! includes `fixtures/build/sub/common.json`.

use std::path::{Path, PathBuf};

use qapi_gen::Builder;
use qapi_tests::fixture::{Fixture, FixtureColor};

const ROOT: &str = "fixtures/build/qapi-schema.json";
const INCLUDED: &str = "fixtures/build/sub/common.json";

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qapi-tests-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

#[test]
fn generated_types_from_root_and_included_file_exist() {
    // `FixtureColor` is defined in the included file, the rest in the root.
    let mut fixture = Fixture { color: FixtureColor::Green, label: None };
    assert!(!fixture.has_label());
    fixture.set_label("left".to_owned());
    let json = serde_json::to_value(&fixture).expect("serializes");
    assert_eq!(json, serde_json::json!({ "color": "green", "label": "left" }));
    let back: Fixture = serde_json::from_value(json).expect("deserializes");
    assert_eq!(back, fixture);
    // The command is there too, whatever the generator names its type.
    let code = include_str!(concat!(env!("OUT_DIR"), "/fixture.rs"));
    assert!(code.contains("const NAME: &'static str = \"query-fixture\";"), "{code}");
}

#[test]
fn rerun_if_changed_covers_the_include() {
    let out = scratch("rerun");
    let mut lines = Vec::new();
    let path = Builder::new(manifest_dir().join(ROOT))
        .out_dir(&out)
        .out_file("fixture.rs")
        .generate_reporting_to(&mut lines)
        .expect("fixture schema generates");
    let lines = String::from_utf8(lines).expect("UTF-8");
    let watched: Vec<&str> = lines.lines().filter_map(|l| l.strip_prefix("cargo:rerun-if-changed=")).collect();
    assert_eq!(watched.len(), 2, "{lines}");
    assert!(Path::new(watched[0]).ends_with(ROOT), "{lines}");
    assert!(Path::new(watched[1]).ends_with(INCLUDED), "{lines}");
    // The same builder as build.rs's makes the same code.
    let made = std::fs::read_to_string(&path).expect("output written");
    assert_eq!(made, include_str!(concat!(env!("OUT_DIR"), "/fixture.rs")));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn build_script_told_cargo_about_every_schema_file() {
    // Cargo keeps what a build script printed in `output`, beside OUT_DIR.
    let output = Path::new(env!("OUT_DIR")).with_file_name("output");
    let Ok(text) = std::fs::read_to_string(&output) else {
        eprintln!("skipped: Cargo's build script output is not at {}", output.display());
        return;
    };
    assert!(text.contains(&format!("cargo:rerun-if-changed={ROOT}\n")), "{text}");
    assert!(text.contains(&format!("cargo:rerun-if-changed={INCLUDED}\n")), "{text}");
}

#[test]
fn unchanged_output_is_left_alone() {
    let out = scratch("unchanged");
    let mut b = Builder::new(manifest_dir().join(ROOT));
    b.out_dir(&out).cargo_output(false);
    let path = b.generate().expect("generates");
    let before = std::fs::metadata(&path).and_then(|m| m.modified()).expect("mtime");
    std::thread::sleep(std::time::Duration::from_millis(20));
    b.generate().expect("generates again");
    let after = std::fs::metadata(&path).and_then(|m| m.modified()).expect("mtime");
    assert_eq!(before, after, "an unchanged output file was rewritten");
    let _ = std::fs::remove_dir_all(&out);
}

/// README's build.rs example, copied unchanged into a new crate outside
/// the workspace (path dependencies on this checkout), builds against the
/// QMP schemas of QEMU 9.2, 10.0 and 10.2 as released, printing at most
/// one warning line. Each build compiles the whole generated module, so
/// this runs on request:
/// `cargo test -p qapi-tests --test build_script -- --ignored --nocapture`.
#[test]
#[ignore = "builds a crate for each of three QEMU schemas (minutes)"]
fn readme_build_script_builds_qemu_schemas() {
    let shared = manifest_dir().join("../../shared/qemu");
    if !shared.is_dir() {
        eprintln!("skipped: QEMU reference data not found at {} (../shared beside the checkout)", shared.display());
        return;
    }
    let readme = std::fs::read_to_string(manifest_dir().join("../README.md")).expect("README.md");
    let build_rs = readme_build_rs(&readme);
    let krate = Path::new(env!("CARGO_TARGET_TMPDIR")).join("readme-build-script");
    let _ = std::fs::remove_dir_all(&krate);
    std::fs::create_dir_all(krate.join("src")).expect("crate directory");
    let checkout = manifest_dir().join("..").canonicalize().expect("checkout");
    let manifest = format!(
        "[package]\nname = \"readme-build-script\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
         [dependencies]\nqapi-runtime = {{ path = {runtime:?} }}\n\n\
         [build-dependencies]\nqapi-gen = {{ path = {gen:?} }}\n\n[workspace]\n",
        runtime = checkout.join("qapi-runtime"),
        gen = checkout.join("qapi-gen"),
    );
    std::fs::write(krate.join("Cargo.toml"), manifest).expect("Cargo.toml");
    // The workspace's lock file: the same versions, and no network.
    std::fs::copy(checkout.join("Cargo.lock"), krate.join("Cargo.lock")).expect("Cargo.lock");
    std::fs::write(krate.join("build.rs"), build_rs).expect("build.rs");
    std::fs::write(
        krate.join("src/lib.rs"),
        "pub mod qmp {\n    include!(concat!(env!(\"OUT_DIR\"), \"/qapi.rs\"));\n}\n",
    )
    .expect("lib.rs");
    for version in ["9.2", "10.0", "10.2"] {
        let schema = krate.join("schema");
        let _ = std::fs::remove_dir_all(&schema);
        copy_json_files(&shared.join(version).join("qapi"), &schema);
        let out = std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args(["build", "--offline"])
            .current_dir(&krate)
            .env("CARGO_TARGET_DIR", checkout.join("target/readme-build-script"))
            .output()
            .expect("cargo runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "QEMU {version}: the README's build.rs failed:\n{stderr}");
        // Cargo's own lines ("Compiling ...") aside, only warnings are printed.
        let warnings: Vec<&str> = stderr.lines().filter(|l| l.starts_with("warning")).collect();
        println!("QEMU {version}: built; warnings: {warnings:?}");
        assert!(warnings.len() <= 1, "QEMU {version}: more than one warning line:\n{stderr}");
    }
}

/// The README's build.rs example: the code block that starts `// build.rs`.
fn readme_build_rs(readme: &str) -> String {
    let start = readme.find("```rust\n// build.rs").expect("README has a build.rs example") + "```rust\n".len();
    let len = readme[start..].find("```").expect("the example's code block ends");
    readme[start..start + len].to_owned()
}

/// Copies the `.json` files of `from` (QEMU's schema directory is flat).
fn copy_json_files(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("schema directory");
    for entry in std::fs::read_dir(from).expect("schema directory") {
        let path = entry.expect("directory entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            std::fs::copy(&path, to.join(path.file_name().expect("file name"))).expect("copy");
        }
    }
}
