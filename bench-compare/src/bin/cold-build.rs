//! Cold `cargo build --release` of a crate holding `qapi-gen`'s client code
//! for QEMU 10.2's full QMP schema, against the same of the `qapi-qmp`
//! 0.15.0 crate from crates.io, on this machine in this run (target: ours
//! in at most half its time).
//!
//! Both crates sit in one scratch workspace under `target/cold-build/`
//! that reuses this crate's `Cargo.lock`, so serde and friends are the same
//! versions for both. Each build starts from an empty target directory of
//! its own and counts everything (dependencies, build scripts: qapi-qmp
//! generates its code in a build script, ours was generated before);
//! then, dependencies built, the crate alone is cleaned and built again.
//!
//! Run with `cargo run --release --bin cold-build [-- RUNS [SCHEMA]]`
//! (default 2 runs and `../../shared/qemu/10.2/qapi/qapi-schema.json`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use qapi_bench_compare::{cargo, median};

const OURS: &str = "qapi-gen-qmp-10-2";
const THEIRS: &str = "qapi-qmp-0-15";

fn write(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)
}

/// Lays out the scratch workspace; returns the size of the generated code in lines.
fn scratch(dir: &Path, schema: &Path, manifest: &Path) -> Result<usize, String> {
    let runtime = manifest.join("../qapi-runtime").canonicalize().map_err(|e| format!("qapi-runtime: {e}"))?;
    let code = qapi_gen::Builder::new(schema).render().map_err(|e| e.to_string())?.source;
    let io = |e: std::io::Error| e.to_string();
    write(&dir.join("Cargo.toml"), &format!("[workspace]\nresolver = \"2\"\nmembers = [\"{OURS}\", \"{THEIRS}\"]\n"))
        .map_err(io)?;
    write(
        &dir.join(OURS).join("Cargo.toml"),
        &format!(
            "[package]\nname = \"{OURS}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\nqapi-runtime = {{ path = {:?}, default-features = false }}\n",
            runtime.display().to_string()
        ),
    )
    .map_err(io)?;
    write(&dir.join(OURS).join("src/qmp.rs"), &code).map_err(io)?;
    write(
        &dir.join(OURS).join("src/lib.rs"),
        "//! qapi-gen's client code for QEMU 10.2's QMP schema.\ninclude!(\"qmp.rs\");\n",
    )
    .map_err(io)?;
    write(
        &dir.join(THEIRS).join("Cargo.toml"),
        &format!(
            "[package]\nname = \"{THEIRS}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\nqapi-qmp = \"=0.15.0\"\n"
        ),
    )
    .map_err(io)?;
    write(&dir.join(THEIRS).join("src/lib.rs"), "//! The qapi-qmp crate.\npub use qapi_qmp;\n").map_err(io)?;
    // The same dependency versions as this crate's lock file.
    std::fs::copy(manifest.join("Cargo.lock"), dir.join("Cargo.lock")).map_err(io)?;
    Ok(code.lines().count())
}

/// The median (the mean of the middle two for an even count) and the minimum, in seconds.
fn stats(v: Vec<Duration>) -> (f64, f64) {
    let mut secs: Vec<f64> = v.iter().map(Duration::as_secs_f64).collect();
    let mid = median(&mut secs);
    (mid, secs.first().copied().unwrap_or(f64::NAN))
}

fn run() -> Result<(), String> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut args = std::env::args().skip(1);
    let runs: usize = match args.next() {
        Some(n) => n.parse().map_err(|_| format!("RUNS must be a number, not '{n}'"))?,
        None => 2,
    };
    let schema =
        args.next().map(PathBuf::from).unwrap_or_else(|| manifest.join("../../shared/qemu/10.2/qapi/qapi-schema.json"));
    if !schema.exists() {
        return Err(format!("{} not found (../shared beside the checkout)", schema.display()));
    }
    let dir = manifest.join("target/cold-build");
    let lines = scratch(&dir, &schema, &manifest)?;
    cargo(&dir, &["fetch"])?;
    let jobs = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!("cold `cargo build --release`, {jobs} jobs, {runs} run(s) each");
    println!("  {OURS}: qapi-gen client code for {} ({lines} lines)", schema.display());
    println!("  {THEIRS}: qapi-qmp 0.15.0 from crates.io (its build script generates its code)");

    let mut full = [Vec::new(), Vec::new()];
    let mut alone = [Vec::new(), Vec::new()];
    for run in 0..runs {
        // Alternate which goes first, so that neither always gets the warmer machine.
        let order = if run % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            let krate = [OURS, THEIRS][i];
            let target = dir.join(format!("target-{krate}"));
            let _ = std::fs::remove_dir_all(&target);
            let target = target.to_string_lossy().into_owned();
            let build = ["build", "--release", "--offline", "-p", krate, "--target-dir", &target];
            let t_full = cargo(&dir, &build)?;
            // qapi-qmp itself, not only the crate that wraps it (whose build is trivial).
            let clean = if krate == THEIRS { "qapi-qmp" } else { krate };
            cargo(&dir, &["clean", "--release", "--offline", "-p", clean, "-p", krate, "--target-dir", &target])?;
            let t_alone = cargo(&dir, &build)?;
            eprintln!(
                "  run {}: {krate}: {:.1} s with dependencies, {:.1} s alone",
                run + 1,
                t_full.as_secs_f64(),
                t_alone.as_secs_f64()
            );
            full[i].push(t_full);
            alone[i].push(t_alone);
        }
    }
    // Other work on the machine only ever adds time, so the minimum is shown beside the median.
    let rows = [("everything from scratch", &full), ("the crate alone, dependencies built", &alone)];
    println!("{:38}{:>18}{:>18}{:>16}", "", "qapi-gen", "qapi-qmp (base)", "ratio");
    println!("{:38}{:>18}{:>18}{:>16}", "", "median / min s", "median / min s", "median / min");
    for (label, v) in rows {
        let (om, on) = stats(v[0].clone());
        let (tm, tn) = stats(v[1].clone());
        println!("  {label:36}{om:9.1} /{on:6.1}{tm:10.1} /{tn:6.1}{:9.2} /{:5.2}", om / tm, on / tn);
    }
    println!("  target: ratio <= 0.50");
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cold-build: {e}");
            ExitCode::FAILURE
        }
    }
}
