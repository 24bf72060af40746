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
