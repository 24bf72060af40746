//! `qapi-gen generate` speed on QEMU 10.2's full QMP schema, client mode
//! (target: 40 ms for the whole generation; QEMU's Python generator takes
//! about 1.6 s). Each stage's median is printed beside its baseline, the
//! front end alone, measured in the same run (with the system allocator,
//! as a build script runs it); then the wall time of the release CLI as a
//! process (with mimalloc, its default), when it has been built. Run with
//! `cargo build --release -p qapi-gen-cli && cargo bench -p qapi-gen --bench generate`.

mod common;

use common::median;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

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
    let threads = rayon::current_num_threads();
    println!(
        "QEMU 10.2 qapi-schema.json, client mode: {} lines, {} bytes of Rust; median of {runs} runs, {threads} threads",
        code.lines().count(),
        code.len()
    );
    println!("  front end: parse + checks + model (baseline) {:8.2} ms", ms(front));
    println!("  backend alone, checked schema given          {:8.2} ms", ms(backend));
    println!(
        "  whole generate, in process                   {:8.2} ms   (target <= 40 ms; {:.1}x the front end)",
        ms(whole),
        ms(whole) / ms(front)
    );
    match release_cli() {
        Some(cli) => cli_times(&cli, &root, &ms),
        None => println!(
            "  CLI wall time: skipped (build target/release/qapi-gen first: cargo build --release -p qapi-gen-cli)"
        ),
    }
}

/// Median wall time of the release CLI as a process: `check` (baseline)
/// and `generate` to a file in a scratch directory.
fn cli_times(cli: &Path, root: &Path, ms: &dyn Fn(Duration) -> f64) {
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
    println!(
        "  CLI `qapi-gen generate -o FILE` wall         {:8.2} ms   (target <= 40 ms; {:.1}x check)",
        ms(gen),
        ms(gen) / ms(check)
    );
}
