//! Cold `cargo build --release` of a user crate that includes QEMU 10.2's
//! full QMP schema with `qapi_macros::include_schema!` (client mode), built
//! against this checkout and against the tree before the crate split of
//! issue 17 (the command line moved to `qapi-gen-cli`, the library lost
//! clap, miette, mimalloc and rayon), in the same run.
//!
//! The earlier tree is the parent of the first commit of `qapi-gen-cli/`,
//! unpacked with `git archive` under `target/macro-cold-build/`. Each side
//! gets a crate of its own there (path dependencies on `qapi-macros` and on
//! `qapi-runtime` without its tokio features, its tree's `Cargo.lock`), and
//! every build starts from an empty target directory: the figure is what a
//! user's first build pays, the macro's dependencies, its expansion and the
//! generated code's compilation together. Dependencies are fetched before
//! timing; builds run `--offline`, the order alternating between runs.
//!
//! Run with `cargo run --release --bin macro-cold-build [-- RUNS [REV [SCHEMA]]]`
//! (default 1 run, the tree before the split, and
//! `../../shared/qemu/10.2/qapi/qapi-schema.json`).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use qapi_bench_compare::{cargo, median};

/// One side of the comparison: a checkout and the user crate built against it.
struct Side {
    label: &'static str,
    what: String,
    krate: PathBuf,
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Runs a command and returns its standard output, trimmed.
fn output(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The commit before the crate split: the parent of the oldest commit that
/// touched `qapi-gen-cli/`.
fn before_split(checkout: &Path) -> Result<String, String> {
    let log = output(Command::new("git").arg("-C").arg(checkout).args(["log", "--format=%H", "--", "qapi-gen-cli"]))?;
    let first = log.lines().last().ok_or("no commit touches qapi-gen-cli/")?;
    Ok(format!("{first}^"))
}

/// Unpacks `rev` of the checkout's repository into `dest`; returns its short hash.
fn unpack(checkout: &Path, rev: &str, dest: &Path) -> Result<String, String> {
    let hash = output(Command::new("git").arg("-C").arg(checkout).args(["rev-parse", "--short", rev]))?;
    let _ = std::fs::remove_dir_all(dest);
    std::fs::create_dir_all(dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    let archive = Command::new("git")
        .arg("-C")
        .arg(checkout)
        .args(["archive", "--format=tar", &hash])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("git archive: {e}"))?;
    let stdout = archive.stdout.ok_or("git archive: no output")?;
    output(Command::new("tar").arg("-x").arg("-C").arg(dest).stdin(stdout))?;
    Ok(hash)
}

/// Copies the `.json` files of `from` (QEMU's schema directory is flat).
fn copy_schema(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    for entry in std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if let (Some("json"), Some(name)) = (path.extension().and_then(|e| e.to_str()), path.file_name()) {
            std::fs::copy(&path, to.join(name)).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// Lays out the user crate `dir` against the checkout `tree`; the schema
/// sits in `../schema/`.
fn user_crate(dir: &Path, tree: &Path) -> Result<(), String> {
    let manifest = format!(
        "[package]\nname = \"uses-include-schema\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\nqapi-macros = {{ path = {:?} }}\n\
         qapi-runtime = {{ path = {:?}, default-features = false }}\n\n[workspace]\n",
        tree.join("qapi-gen/macros").display().to_string(),
        tree.join("qapi-runtime").display().to_string(),
    );
    write(&dir.join("Cargo.toml"), &manifest)?;
    write(
        &dir.join("src/lib.rs"),
        "//! QEMU 10.2's QMP schema as client code, through the macro.\n#![allow(warnings)]\n\
         pub mod qmp {\n    qapi_macros::include_schema!(\"../schema/qapi-schema.json\", mode = \"client\");\n}\n",
    )?;
    // The tree's own dependency versions.
    std::fs::copy(tree.join("Cargo.lock"), dir.join("Cargo.lock")).map_err(|e| format!("Cargo.lock: {e}"))?;
    Ok(())
}

/// How many packages `cargo tree` lists for the crate (normal and build dependencies).
fn packages(krate: &Path) -> Result<usize, String> {
    let tree = output(
        Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args(["tree", "--offline", "-e", "normal,build", "--prefix", "none", "--no-dedupe"])
            .current_dir(krate),
    )?;
    let mut lines: Vec<&str> = tree.lines().map(|l| l.trim_end_matches(" (*)")).collect();
    lines.sort_unstable();
    lines.dedup();
    Ok(lines.len())
}

/// The median and the minimum, in seconds.
fn stats(v: &[Duration]) -> (f64, f64) {
    let mut secs: Vec<f64> = v.iter().map(Duration::as_secs_f64).collect();
    let mid = median(&mut secs);
    (mid, secs.first().copied().unwrap_or(f64::NAN))
}

/// Times `runs` cold builds of each side, alternating which goes first.
fn time_builds(dir: &Path, sides: &[Side; 2], runs: usize) -> Result<[Vec<Duration>; 2], String> {
    let mut times = [Vec::new(), Vec::new()];
    for run in 0..runs {
        // Neither side always gets the warmer (or the quieter) machine.
        let order = if run % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            let target = dir.join(format!("target-{}", sides[i].label));
            let _ = std::fs::remove_dir_all(&target);
            let target = target.to_string_lossy().into_owned();
            let took = cargo(&sides[i].krate, &["build", "--release", "--offline", "--target-dir", &target])?;
            eprintln!("  run {}: {}: {:.1} s", run + 1, sides[i].label, took.as_secs_f64());
            times[i].push(took);
        }
    }
    Ok(times)
}

fn run() -> Result<(), String> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let checkout = manifest.join("..").canonicalize().map_err(|e| format!("checkout: {e}"))?;
    let mut args = std::env::args().skip(1);
    let runs: usize = match args.next() {
        Some(n) => n.parse().map_err(|_| format!("RUNS must be a number, not '{n}'"))?,
        None => 1,
    };
    let rev = match args.next() {
        Some(rev) => rev,
        None => before_split(&checkout)?,
    };
    let schema =
        args.next().map(PathBuf::from).unwrap_or_else(|| manifest.join("../../shared/qemu/10.2/qapi/qapi-schema.json"));
    let schema_dir = schema
        .parent()
        .filter(|_| schema.exists())
        .ok_or_else(|| format!("{} not found (../shared beside the checkout)", schema.display()))?;

    let dir = manifest.join("target/macro-cold-build");
    copy_schema(schema_dir, &dir.join("schema"))?;
    let base = dir.join("before-src");
    let hash = unpack(&checkout, &rev, &base)?;
    let sides = [
        Side { label: "current", what: "this checkout's work tree".into(), krate: dir.join("current") },
        Side { label: "before", what: format!("{hash} ({rev}), before the crate split"), krate: dir.join("before") },
    ];
    user_crate(&sides[0].krate, &checkout)?;
    user_crate(&sides[1].krate, &base)?;
    for side in &sides {
        cargo(&side.krate, &["fetch"])?;
    }

    let jobs = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!("cold `cargo build --release` of a crate with include_schema!({}, client)", schema.display());
    println!("{jobs} jobs, {runs} run(s) each, every build from an empty target directory");
    for side in &sides {
        println!("  {:8} {}: {} packages", side.label, side.what, packages(&side.krate)?);
    }
    let times = time_builds(&dir, &sides, runs)?;
    // Hundreds of megabytes each, of no use once timed.
    for side in &sides {
        let _ = std::fs::remove_dir_all(dir.join(format!("target-{}", side.label)));
    }
    let (cm, cn) = stats(&times[0]);
    let (bm, bn) = stats(&times[1]);
    println!("{:10}{:>18}", "", "median / min s");
    println!("  {:8}{cm:11.1} /{cn:6.1}", "current");
    println!("  {:8}{bm:11.1} /{bn:6.1}", "before");
    println!("  current / before: {:.2} (median), {:.2} (min); {:.1} s saved", cm / bm, cn / bn, bm - cm);
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("macro-cold-build: {e}");
            ExitCode::FAILURE
        }
    }
}
