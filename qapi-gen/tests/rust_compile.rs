//! The generated Rust compiles, passes clippy and rustdoc with warnings
//! denied, and behaves on the wire as QEMU does.
//!
//! Generates QEMU 10.2's schema, its guest agent's, QEMU's test schema and
//! the project's schema (client and server mode; the test schema also
//! with `#[cfg]` conditions and `unstable` gated; QEMU's client module
//! and the `#[cfg]` one with the JSON codec) into a crate under
//! `target/rust-compile/`, then runs `cargo clippy --all-targets -D
//! warnings`, `cargo test` and `cargo doc` with `-Dwarnings` on it, with
//! a target directory of its own so that repeated runs are incremental.
//! The crate's tests:
//!
//! - `behaviour.rs` (from `rust_compile/behaviour.rs`): the wire
//!   behaviour of the generated types, commands and events, the client
//!   methods and the lookup tables;
//! - `introspection.rs`: each module's `qmp_schema()` equals what
//!   `qapi_gen::gen::introspect` makes of its schema under the same
//!   conditions (masked; unmasked for the project's server module);
//! - `qmp_examples.rs` (`rust_compile/qmp_examples.rs` and the dispatch
//!   `rust_compile/examples.rs` writes): every request, reply and event in
//!   the QMP examples of QEMU 10.2's documentation round-trips through the
//!   generated types, in client and server mode; it prints what it
//!   checked and why it skipped what it skipped.
//!
//! It takes minutes, so it is ignored by default:
//! `cargo test -p qapi-gen --test rust_compile -- --ignored --nocapture`.

use std::path::{Path, PathBuf};
use std::process::Command;

use qapi_gen::gen::introspect::{introspect, Conditions};
use qapi_gen::gen::rust::{generate, rust_names, CondPolicy, Mode, Options};

#[path = "rust_compile/examples.rs"]
mod examples;

/// The conditions of QEMU's test schema that hold when the crate is built
/// (`--cfg qapi="..."`); the others do not.
const CFG_DEFINED: &[&str] = &["TEST_IF_STRUCT", "TEST_IF_UNION", "TEST_IF_ALT", "TEST_IF_CMD"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

fn qemu() -> PathBuf {
    root().join("../shared/qemu")
}

fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
}

fn load(schema: &Path) -> qapi_gen::Schema {
    let checked = qapi_gen::Frontend::new()
        .doc_style(qapi_gen::DocStyle::Warn)
        .check_file(schema)
        .unwrap_or_else(|e| panic!("{}: {e}", schema.display()));
    assert!(checked.is_valid(), "{}: {:?}", schema.display(), checked.diagnostics);
    checked.schema
}

/// The introspection `qmp_schema()` must give for code generated with
/// `opts` (and built with the cfgs in [`CFG_DEFINED`]).
fn expected_introspection(schema: &qapi_gen::Schema, opts: &Options) -> String {
    let conditions = match &opts.cond {
        CondPolicy::AllTrue => Conditions::AllTrue,
        CondPolicy::Defined(set) => Conditions::Defined(set.clone()),
        CondPolicy::Cfg => Conditions::defined(CFG_DEFINED.iter().copied()),
    };
    let options = qapi_gen::gen::introspect::Options::new().unmask(opts.unmask_introspection).conditions(conditions);
    serde_json::to_string(&introspect(schema, &options)).expect("JSON")
}

fn cargo(dir: &Path, target: &Path, args: &[&str], rustdocflags: Option<&str>) {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    let cfgs: Vec<String> = CFG_DEFINED.iter().map(|c| format!("--cfg qapi=\"{c}\"")).collect();
    cmd.current_dir(dir)
        .args(args)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("RUSTFLAGS", cfgs.join(" "));
    match rustdocflags {
        Some(f) => cmd.env("RUSTDOCFLAGS", f),
        None => cmd.env_remove("RUSTDOCFLAGS"),
    };
    let status = cmd.status().expect("run cargo");
    assert!(status.success(), "cargo {args:?} failed in {}", dir.display());
}

#[test]
#[ignore = "builds large generated crates (minutes); run with --ignored"]
fn generated_code_compiles_and_behaves() {
    let base = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"));
    let base = base.join("rust-compile");
    let dir = base.join("crate");
    let target = base.join("target");
    let q = qemu();
    if !q.join("10.2/qapi/qapi-schema.json").is_file() {
        eprintln!("rust_compile: skipped: QEMU's schemas are not at {} (../shared beside the checkout)", q.display());
        return;
    }
    let client = Options::default();
    let server = Options { mode: Mode::Server, ..Options::default() };
    let unmasked = Options { mode: Mode::Server, unmask_introspection: true, ..Options::default() };
    // The JSON codec (`json_codec`) on the full schema and, with every
    // condition as a `#[cfg]`, on the test schema.
    let codec = Options { json_codec: true, ..Options::default() };
    let cfg = Options {
        mode: Mode::Server,
        cond: CondPolicy::Cfg,
        gate_unstable: true,
        json_codec: true,
        ..Options::default()
    };
    let modules: Vec<(&str, PathBuf, &Options)> = vec![
        ("qemu_client", q.join("10.2/qapi/qapi-schema.json"), &codec),
        ("qemu_server", q.join("10.2/qapi/qapi-schema.json"), &server),
        ("qga_client", q.join("10.2/qga/qapi-schema.json"), &client),
        ("qga_server", q.join("10.2/qga/qapi-schema.json"), &server),
        ("test_client", q.join("10.2/tests-qapi-schema/qapi-schema-test.json"), &client),
        ("test_server", q.join("10.2/tests-qapi-schema/qapi-schema-test.json"), &server),
        ("test_cfg", q.join("10.2/tests-qapi-schema/qapi-schema-test.json"), &cfg),
        ("project_client", root().join("schema/qapi-schema.json"), &client),
        ("project_server", root().join("schema/qapi-schema.json"), &unmasked),
    ];
    let runtime = root().join("qapi-runtime");
    write_if_changed(
        &dir.join("Cargo.toml"),
        &format!(
            r#"[package]
name = "generated"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
qapi-runtime = {{ path = {:?} }}

[features]
unstable = []

[lints.rust]
unexpected_cfgs = {{ level = "warn", check-cfg = ['cfg(qapi, values(any()))'] }}

[workspace]
"#,
            runtime.display().to_string()
        ),
    );
    if let Ok(lock) = std::fs::read_to_string(root().join("Cargo.lock")) {
        if !dir.join("Cargo.lock").exists() {
            write_if_changed(&dir.join("Cargo.lock"), &lock);
        }
    }
    let mut lib = String::from("//! Generated code under test.\n\n");
    let mut introspection = String::from(
        "//! Each module's `qmp_schema()` equals the introspection qapi-gen makes of its schema.\n\n\
         use qapi_runtime::serde_json::{self, Value};\n\n\
         /// Compares, naming the first entry that differs.\n\
         fn check(actual: Value, expected: &str) {\n    \
         let expected: Value = serde_json::from_str(expected).unwrap();\n    \
         let (a, e) = (actual.as_array().unwrap(), expected.as_array().unwrap());\n    \
         for (i, (x, y)) in a.iter().zip(e).enumerate() {\n        \
         assert_eq!(x, y, \"entry {i}\");\n    \
         }\n    \
         assert_eq!(a.len(), e.len(), \"number of entries\");\n\
         }\n\n",
    );
    let mut dispatch = String::new();
    let mut example_tests = String::new();
    let qemu_schema = q.join("10.2/qapi/qapi-schema.json");
    let mut fixture = None;
    for (name, path, opts) in &modules {
        let schema = load(path);
        let code = generate(&schema, opts).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        write_if_changed(&dir.join(format!("src/{name}.rs")), &code);
        lib.push_str(&format!("/// `{}`\npub mod {name};\n", path.display()));
        write_if_changed(&dir.join(format!("tests/introspection/{name}.json")), &expected_introspection(&schema, opts));
        introspection.push_str(&format!(
            "#[test]\nfn {name}() {{\n    \
             check(generated::{name}::qmp_schema(), include_str!(\"introspection/{name}.json\"));\n}}\n\n"
        ));
        if *path == qemu_schema {
            fixture.get_or_insert_with(|| examples::fixture(&schema));
            dispatch.push_str(&examples::dispatch(name, &rust_names(&schema, opts).expect("names")));
            example_tests.push_str(&format!(
                "#[test]\nfn {name}_examples() {{\n    run({name:?}, {name}_command, {name}_event);\n}}\n\n"
            ));
        }
    }
    write_if_changed(&dir.join("src/lib.rs"), &lib);
    write_if_changed(&dir.join("tests/behaviour.rs"), include_str!("rust_compile/behaviour.rs"));
    write_if_changed(&dir.join("tests/introspection.rs"), &introspection);
    let fixture = fixture.expect("QEMU 10.2's schema is among the modules");
    write_if_changed(
        &dir.join("tests/qmp_examples.json"),
        &serde_json::to_string_pretty(&fixture).expect("fixture is JSON"),
    );
    write_if_changed(
        &dir.join("tests/qmp_examples.rs"),
        &format!(
            "{}\nuse generated::*;\n\n{dispatch}{}",
            include_str!("rust_compile/qmp_examples.rs"),
            example_tests.trim_end()
        ),
    );

    // Lint the public modules as the private module a user includes the
    // code into: clippy skips some lints on an exported API.
    write_if_changed(&dir.join("clippy.toml"), "avoid-breaking-exported-api = false\n");
    cargo(&dir, &target, &["clippy", "--quiet", "--all-targets", "--", "-D", "warnings"], None);
    // --nocapture: the QMP example tests print what they checked and skipped.
    cargo(&dir, &target, &["test", "--quiet", "--", "--nocapture"], None);
    cargo(&dir, &target, &["doc", "--quiet", "--no-deps"], Some("-Dwarnings"));
}
