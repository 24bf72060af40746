//! `qapi-gen generate` speed on QEMU 10.2's full QMP schema, client mode.
//! Generation is never to be the bottleneck: the target is a whole
//! generation under 5% of the cold release build of the code it writes.
//! Each stage's median is printed beside its baseline, the front end
//! alone, measured in the same run (with the system allocator, as a build
//! script runs it); then the wall time of the release CLI as a process,
//! when it has been built; then, with `QAPI_BENCH_COLD_BUILD=1`, one cold
//! `cargo build --release` of a scratch crate holding the generated code
//! (under `target/generate-bench-cold/`), and generation as a share of
//! it. Run with
//! `cargo build --release -p qapi-gen-cli &&
//! QAPI_BENCH_COLD_BUILD=1 cargo bench -p qapi-gen --features rayon --bench generate`
//! (without `--features rayon`, generation on one thread).

mod common;

use common::median;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use qapi_gen::gen::rust::{generate, Options};
use qapi_gen::Frontend;

/// The release CLI next to this bench's own target directory, if built.
fn release_cli() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    // target/release/deps/generate-HASH → target/release/qapi-gen
    let cli = exe.parent()?.parent()?.join(format!("qapi-gen{}", std::env::consts::EXE_SUFFIX));
    cli.exists().then_some(cli)
}

fn main() {
    let Some(root) = common::qemu_10_2_schema() else { return };
    let runs = 31;
    let checked = match Frontend::new().check_file(&root) {
        Ok(c) if c.is_valid() => c,
        _ => {
            eprintln!("skipped: {} does not check", root.display());
            return;
        }
    };
    let opts = Options::default();
    let code = match generate(&checked.schema, &opts) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("generation failed: {e}");
            std::process::exit(1);
        }
    };

    let front = median(
        || {
            std::hint::black_box(Frontend::new().check_file(&root).ok());
        },
        runs,
    );
    let backend = median(
        || {
            std::hint::black_box(generate(&checked.schema, &opts).ok());
        },
        runs,
    );
    let whole = median(
        || {
            let c = Frontend::new().check_file(&root).ok();
            std::hint::black_box(c.map(|c| generate(&c.schema, &opts).ok()));
        },
        runs,
    );

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let threads = if cfg!(feature = "rayon") { "rayon's threads" } else { "one thread" };
    println!(
        "QEMU 10.2 qapi-schema.json, client mode: {} lines, {} bytes of Rust; median of {runs} runs, {threads}",
        code.lines().count(),
        code.len()
    );
    println!("  front end: parse + checks + model (baseline) {:8.2} ms", ms(front));
    println!("  backend alone, checked schema given          {:8.2} ms", ms(backend));
    println!(
        "  whole generate, in process                   {:8.2} ms   ({:.1}x the front end)",
        ms(whole),
        ms(whole) / ms(front)
    );
    let cli_generate = match release_cli() {
        Some(cli) => Some(cli_times(&cli, &root, &ms)),
        None => {
            println!(
                "  CLI wall time: skipped (build target/release/qapi-gen first: cargo build --release -p qapi-gen-cli)"
            );
            None
        }
    };
    if std::env::var_os("QAPI_BENCH_COLD_BUILD").is_some_and(|v| v != "0") {
        cold_build_share(&code, whole.max(cli_generate.unwrap_or_default()));
    } else {
        println!("  cold build of the generated code: skipped (QAPI_BENCH_COLD_BUILD=1 to time it)");
    }
}

/// Times one cold `cargo build --release` of a scratch crate holding
/// `code` (dependencies built first, then the crate alone from clean) and
/// prints `generate` as a share of it.
fn cold_build_share(code: &str, generate: Duration) {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = manifest.join("../target/generate-bench-cold");
    let built = scratch_crate(&dir, manifest, code).and_then(|()| {
        let _ = std::fs::remove_dir_all(dir.join("target"));
        let all = cargo(&dir, &["build", "--release"])?;
        cargo(&dir, &["clean", "--release", "-p", "qapi-gen-bench-cold"])?;
        Ok((all, cargo(&dir, &["build", "--release"])?))
    });
    match built {
        Ok((all, alone)) => {
            let secs = |d: Duration| d.as_secs_f64();
            println!(
                "  cold release build of the generated crate   {:8.2} s   (dependencies included: {:.2} s)",
                secs(alone),
                secs(all)
            );
            println!(
                "  generate as a share of that build           {:8.2} %   (target < 5%; generate {:.2} ms, the slower of in process and CLI)",
                100.0 * secs(generate) / secs(alone),
                secs(generate) * 1e3
            );
        }
        Err(e) => println!("  cold build of the generated code failed: {e}"),
    }
}

/// A crate of `code` using this workspace's `qapi-runtime` and lock file.
fn scratch_crate(dir: &Path, manifest: &Path, code: &str) -> Result<(), String> {
    let runtime = manifest.join("../qapi-runtime").canonicalize().map_err(|e| format!("qapi-runtime: {e}"))?;
    let io = |e: std::io::Error| e.to_string();
    std::fs::create_dir_all(dir.join("src")).map_err(io)?;
    let toml = format!(
        "[package]\nname = \"qapi-gen-bench-cold\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\nqapi-runtime = {{ path = {:?}, default-features = false }}\n\n[workspace]\n",
        runtime.display().to_string()
    );
    std::fs::write(dir.join("Cargo.toml"), toml).map_err(io)?;
    std::fs::write(dir.join("src/qmp.rs"), code).map_err(io)?;
    std::fs::write(dir.join("src/lib.rs"), "//! Generated client code for QEMU 10.2.\ninclude!(\"qmp.rs\");\n")
        .map_err(io)?;
    std::fs::copy(manifest.join("../Cargo.lock"), dir.join("Cargo.lock")).map_err(io)?;
    Ok(())
}

/// Runs cargo in `dir` without the variables `cargo bench` sets, and
/// returns how long it took.
fn cargo(dir: &Path, args: &[&str]) -> Result<Duration, String> {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if (k.starts_with("CARGO_") && k != "CARGO_HOME") || k == "RUSTC_WRAPPER" || k == "OUT_DIR" {
            cmd.env_remove(&k);
        }
    }
    cmd.current_dir(dir).args(args).stdout(Stdio::null()).stderr(Stdio::null());
    let t = Instant::now();
    let status = cmd.status().map_err(|e| format!("cargo: {e}"))?;
    if !status.success() {
        return Err(format!("cargo {} failed in {}", args.join(" "), dir.display()));
    }
    Ok(t.elapsed())
}

/// Median wall time of the release CLI as a process: `check` (baseline)
/// and `generate` to a file in a scratch directory; returns the latter.
fn cli_times(cli: &Path, root: &Path, ms: &dyn Fn(Duration) -> f64) -> Duration {
    let out = std::env::temp_dir().join(format!("qapi-gen-bench-{}.rs", std::process::id()));
    let run = |args: &[&std::ffi::OsStr]| {
        // A fresh output each time: `generate -o` skips the write when unchanged.
        let _ = std::fs::remove_file(&out);
        let status = Command::new(cli).args(args).stdout(Stdio::null()).stderr(Stdio::null()).status();
        if !status.is_ok_and(|s| s.success()) {
            eprintln!("{} {:?} failed", cli.display(), args);
            std::process::exit(1);
        }
    };
    let runs = 21;
    let check = median(|| run(&["check".as_ref(), root.as_os_str()]), runs);
    let gen = median(|| run(&["generate".as_ref(), root.as_os_str(), "-o".as_ref(), out.as_os_str()]), runs);
    let _ = std::fs::remove_file(&out);
    println!("  CLI `qapi-gen check` wall (baseline)         {:8.2} ms   median of {runs} processes", ms(check));
    println!("  CLI `qapi-gen generate -o FILE` wall         {:8.2} ms   ({:.1}x check)", ms(gen), ms(gen) / ms(check));
    gen
}
