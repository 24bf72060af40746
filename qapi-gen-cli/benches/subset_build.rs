//! What subset generation saves a user: the cold build of a crate made of
//! the Rust generated for QEMU 10.2's ten migration commands, against the
//! same crate generated from the whole QMP schema, in the same run.
//!
//! What is measured: the wall time of `cargo build --offline` (dev
//! profile, `CARGO_INCREMENTAL=0`) of a crate whose `src/lib.rs` is the
//! generated module (client mode, the defaults), after `cargo clean -p`
//! of that crate alone. Its dependencies (`qapi-runtime` and what it
//! needs) are built once beforehand, so each timing is the generated
//! crate's own compilation plus Cargo's start-up. Full and subset builds
//! alternate; the median of each is printed (runs: `QAPI_BENCH_RUNS`,
//! default 3).
//!
//! `cargo bench -p qapi-gen-cli --bench subset_build`

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use qapi_gen::gen::rust::{generate, Options};
use qapi_gen::{DocStyle, Frontend};

/// The ten migration commands a migration tool needs.
const MIGRATION: [&str; 10] = [
    "migrate",
    "migrate-incoming",
    "query-migrate",
    "migrate_cancel",
    "migrate-continue",
    "migrate-set-capabilities",
    "query-migrate-capabilities",
    "migrate-set-parameters",
    "query-migrate-parameters",
    "migrate-pause",
];

fn main() {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let schema_path = manifest.join("../../shared/qemu/10.2/qapi/qapi-schema.json");
    if !schema_path.exists() {
        eprintln!("skipped: {} not found (../shared beside the checkout)", schema_path.display());
        return;
    }
    let runs: usize = std::env::var("QAPI_BENCH_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(3).max(1);
    let checked = Frontend::new().doc_style(DocStyle::Warn).check_file(&schema_path).expect("QEMU's schema reads");
    assert!(checked.is_valid(), "QEMU 10.2's schema is invalid");
    let subset = checked.schema.subset(MIGRATION).expect("the migration commands are in the schema");
    let full_code = generate(&checked.schema, &Options::default()).expect("full schema generates");
    let subset_code = generate(&subset, &Options::default()).expect("subset generates");

    let checkout = manifest.join("..").canonicalize().expect("checkout");
    let dir = checkout.join("target/subset-bench");
    let krate = dir.join("crate");
    make_crate(&krate, &checkout);
    let target = dir.join("target");
    // Dependencies first, with an empty crate: not timed.
    std::fs::write(krate.join("src/lib.rs"), "").expect("lib.rs");
    cargo_build(&krate, &target);

    println!("cold build of the generated crate (dev profile, dependencies built), {runs} runs each:");
    let mut full = Vec::new();
    let mut small = Vec::new();
    for _ in 0..runs {
        full.push(timed_build(&krate, &target, &full_code));
        small.push(timed_build(&krate, &target, &subset_code));
    }
    let (full, small) = (median(full), median(small));
    let line = |name: &str, code: &str, t: Duration| {
        println!("  {name:<32} {:>7} lines  median {:>7.2} s", code.lines().count(), t.as_secs_f64());
    };
    line("full QEMU 10.2 schema", &full_code, full);
    line("10 migration commands (--only)", &subset_code, small);
    println!("  subset / full: {:.1}%", 100.0 * small.as_secs_f64() / full.as_secs_f64());
}

/// A crate outside the workspace depending on this checkout's runtime.
fn make_crate(krate: &Path, checkout: &Path) {
    std::fs::create_dir_all(krate.join("src")).expect("crate directory");
    let manifest = format!(
        "[package]\nname = \"qapi-subset-bench\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
         [dependencies]\nqapi-runtime = {{ path = {:?} }}\n\n[workspace]\n",
        checkout.join("qapi-runtime")
    );
    std::fs::write(krate.join("Cargo.toml"), manifest).expect("Cargo.toml");
    std::fs::copy(checkout.join("Cargo.lock"), krate.join("Cargo.lock")).expect("Cargo.lock");
}

/// Builds the crate with `code` as its library, from clean, and times it.
fn timed_build(krate: &Path, target: &Path, code: &str) -> Duration {
    std::fs::write(krate.join("src/lib.rs"), code).expect("lib.rs");
    let clean = cargo(krate, target).args(["clean", "--offline", "--quiet", "-p", "qapi-subset-bench"]).status();
    assert!(clean.is_ok_and(|s| s.success()), "cargo clean failed");
    let start = Instant::now();
    cargo_build(krate, target);
    start.elapsed()
}

fn cargo_build(krate: &Path, target: &Path) {
    let out = cargo(krate, target).args(["build", "--offline", "--quiet"]).output().expect("cargo runs");
    assert!(out.status.success(), "cargo build failed:\n{}", String::from_utf8_lossy(&out.stderr));
}

fn cargo(krate: &Path, target: &Path) -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.current_dir(krate).env("CARGO_TARGET_DIR", target).env("CARGO_INCREMENTAL", "0");
    c
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    let n = times.len();
    if n % 2 == 1 {
        times[n / 2]
    } else {
        (times[n / 2 - 1] + times[n / 2]) / 2
    }
}
