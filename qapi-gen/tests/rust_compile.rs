//! The generated Rust compiles, passes clippy and rustdoc with warnings
//! denied, and behaves on the wire as QEMU does.
//!
//! Generates QEMU 10.2's schema, its guest agent's, QEMU's test schema and
//! the project's schema (client and server mode; the test schema also
//! with `#[cfg]` conditions and `unstable` gated) into a crate under
//! `target/rust-compile/`, then runs `cargo clippy --all-targets -D
//! warnings`, `cargo test` (the tests in `rust_compile/behaviour.rs`) and
//! `cargo doc` with `-Dwarnings` on it, with a target directory of its
//! own so that repeated runs are incremental.
//!
//! It takes minutes, so it is ignored by default:
//! `cargo test -p qapi-gen --test rust_compile -- --ignored`.

use std::path::{Path, PathBuf};
use std::process::Command;

use qapi_gen::gen::rust::{generate, CondPolicy, Mode, Options};

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

fn gen(schema: &Path, opts: &Options) -> String {
    let checked = qapi_gen::Frontend::new()
        .doc_style(qapi_gen::DocStyle::Warn)
        .check_file(schema)
        .unwrap_or_else(|e| panic!("{}: {e}", schema.display()));
    assert!(checked.is_valid(), "{}: {:?}", schema.display(), checked.diagnostics);
    generate(&checked.schema, opts).unwrap_or_else(|e| panic!("{}: {e}", schema.display()))
}

fn cargo(dir: &Path, target: &Path, args: &[&str], rustdocflags: Option<&str>) {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(dir).args(args).env("CARGO_TARGET_DIR", target).env_remove("CARGO_ENCODED_RUSTFLAGS").env(
        "RUSTFLAGS",
        r#"--cfg qapi="TEST_IF_STRUCT" --cfg qapi="TEST_IF_UNION" --cfg qapi="TEST_IF_ALT" --cfg qapi="TEST_IF_CMD""#,
    );
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
    let client = Options::default();
    let server = Options { mode: Mode::Server, ..Options::default() };
    let cfg = Options { mode: Mode::Server, cond: CondPolicy::Cfg, gate_unstable: true, ..Options::default() };
    let modules: Vec<(&str, PathBuf, &Options)> = vec![
        ("qemu_client", q.join("10.2/qapi/qapi-schema.json"), &client),
        ("qemu_server", q.join("10.2/qapi/qapi-schema.json"), &server),
        ("qga_client", q.join("10.2/qga/qapi-schema.json"), &client),
        ("qga_server", q.join("10.2/qga/qapi-schema.json"), &server),
        ("test_client", q.join("10.2/tests-qapi-schema/qapi-schema-test.json"), &client),
        ("test_server", q.join("10.2/tests-qapi-schema/qapi-schema-test.json"), &server),
        ("test_cfg", q.join("10.2/tests-qapi-schema/qapi-schema-test.json"), &cfg),
        ("project_client", root().join("schema/qapi-schema.json"), &client),
        ("project_server", root().join("schema/qapi-schema.json"), &server),
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
    for (name, schema, opts) in &modules {
        write_if_changed(&dir.join(format!("src/{name}.rs")), &gen(schema, opts));
        lib.push_str(&format!("/// `{}`\npub mod {name};\n", schema.display()));
    }
    write_if_changed(&dir.join("src/lib.rs"), &lib);
    write_if_changed(&dir.join("tests/behaviour.rs"), include_str!("rust_compile/behaviour.rs"));

    cargo(&dir, &target, &["clippy", "--quiet", "--all-targets", "--", "-D", "warnings"], None);
    cargo(&dir, &target, &["test", "--quiet"], None);
    cargo(&dir, &target, &["doc", "--quiet", "--no-deps"], Some("-Dwarnings"));
}
