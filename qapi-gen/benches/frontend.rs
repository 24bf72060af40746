//! Front-end speed on QEMU 10.2's full QMP schema (about 26,000 lines in
//! 40 files): the median of many runs of each stage, each stage a baseline
//! for the next. Run with `cargo bench -p qapi-gen --bench frontend`.

mod common;

use common::median;

use std::path::{Path, PathBuf};
use std::time::Duration;

use qapi_gen::diag::Diagnostics;
use qapi_gen::syntax::load::{load, LoadOptions};
use qapi_gen::Frontend;

fn main() {
    let Some(root) = common::qemu_10_2_schema() else { return };
    let runs = 51;
    let dir = root.parent().unwrap_or(Path::new("."));
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "json")).collect()
        })
        .unwrap_or_default();
    let lines: usize = files.iter().map(|f| std::fs::read_to_string(f).map(|t| t.lines().count()).unwrap_or(0)).sum();

    let read = median(
        || {
            for f in &files {
                std::hint::black_box(std::fs::read_to_string(f).ok());
            }
        },
        runs,
    );
    let syntax = median(
        || {
            let mut d = Diagnostics::default();
            std::hint::black_box(load(&root, LoadOptions::default(), &mut d).ok());
        },
        runs,
    );
    let full = median(
        || {
            std::hint::black_box(Frontend::new().check_file(&root).ok());
        },
        runs,
    );
    // Beside 10.2/qapi/: 10.0/qapi/ (joined to the directory: a path through
    // the file name itself does not resolve).
    let old_root = dir.join("../../10.0/qapi/qapi-schema.json");
    let compat = match (
        Frontend::new().doc_style(qapi_gen::DocStyle::Warn).check_file(&old_root),
        Frontend::new().check_file(&root),
    ) {
        (Ok(old), Ok(new)) => Some(median(
            || {
                std::hint::black_box(qapi_gen::compat::compare(&old.schema, &new.schema, &Default::default()));
            },
            runs,
        )),
        _ => None,
    };
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("QEMU 10.2 qapi-schema.json: {} files, {lines} lines, median of {runs} runs", files.len());
    println!("  read files only (baseline)      {:8.2} ms", ms(read));
    println!("  parse + includes + doc blocks   {:8.2} ms", ms(syntax));
    println!("  parse + all checks + model      {:8.2} ms   (target <= 20 ms)", ms(full));
    if let Some(c) = compat {
        println!("  compat 10.0 -> 10.2, models built {:8.2} ms   (target: well under 1 s)", ms(c));
    }
    hostile_includes(ms(full));
}

/// Schemas built to hurt the include walk (issue 16.7): 21 files each
/// including the next under two spellings (`x/../f1.json`, `y/../f1.json`:
/// 2^20 walks if includes were told apart by the path as written), and a
/// chain of 10,000 includes (stopped at the depth limit). Each must give its
/// answer in well under 1 s; the full 10.2 check above is the baseline.
fn hostile_includes(baseline_ms: f64) {
    let dir = std::env::temp_dir().join(format!("qapi-gen-bench-includes-{}", std::process::id()));
    let write = |name: String, text: String| std::fs::write(dir.join(name), text).expect("write the bench's schema");
    for sub in ["x", "y"] {
        std::fs::create_dir_all(dir.join(sub)).expect("create the bench's directory");
    }
    for i in 0..20 {
        let next = i + 1;
        write(
            format!("a{i}.json"),
            format!("{{ 'include': 'x/../a{next}.json' }}\n{{ 'include': 'y/../a{next}.json' }}\n"),
        );
    }
    write("a20.json".into(), "{ 'enum': 'Letter', 'data': [ 'a' ] }\n".into());
    let depth = 10_000;
    for i in 0..depth {
        write(format!("d{i}.json"), format!("{{ 'include': 'd{}.json' }}\n", i + 1));
    }
    write(format!("d{depth}.json"), "{ 'enum': 'Letter', 'data': [ 'a' ] }\n".into());

    let runs = 11;
    let check = |root: &Path| {
        median(
            || {
                std::hint::black_box(Frontend::new().check_file(root).ok());
            },
            runs,
        )
    };
    let aliased = check(&dir.join("a0.json")).as_secs_f64() * 1e3;
    let deep = check(&dir.join("d0.json")).as_secs_f64() * 1e3;
    println!("hostile includes, median of {runs} runs (target < 1000 ms each; full 10.2 check {baseline_ms:.2} ms)");
    println!("  21 files, each included twice by aliases  {aliased:8.2} ms");
    println!("  a chain of {depth} includes (diagnostic)  {deep:8.2} ms");
    let _ = std::fs::remove_dir_all(&dir);
}
