//! Golden files: the code generated for each `golden/*.json` schema must
//! equal the `golden/*.rs` file beside it. `QAPI_BLESS=1` rewrites the
//! golden files instead of failing; review the change with `git diff`.
//! (That the golden files compile is checked by building the library,
//! which includes every one of them.)

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use qapi_gen::gen::rust::{CondPolicy, Mode, OlderSchema, Options};

/// One golden file: its schema, its name and the options it is made with.
struct Case {
    schema: &'static str,
    golden: &'static str,
    options: fn() -> Options,
}

fn client() -> Options {
    Options::default()
}

fn server() -> Options {
    Options { mode: Mode::Server, ..Options::default() }
}

fn gated() -> Options {
    Options { gate_unstable: true, ..Options::default() }
}

fn cfg() -> Options {
    Options { cond: CondPolicy::Cfg, ..Options::default() }
}

fn codec() -> Options {
    Options { json_codec: true, ..Options::default() }
}

fn cfg_codec() -> Options {
    Options { json_codec: true, mode: Mode::Server, ..cfg() }
}

/// A client of golden/versions.json that also reads the older versions in
/// fixtures/versions/.
fn also_reads() -> Options {
    let older = ["9.2", "10.0"].map(|v| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fixtures/versions/{v}.json"));
        let checked = qapi_gen::Frontend::new().check_file(&path).expect("older schema is readable");
        assert!(checked.is_valid(), "{:?}", checked.diagnostics);
        OlderSchema::new(v, checked.schema)
    });
    Options { also_reads: older.into(), ..Options::default() }
}

fn vnc_only() -> Options {
    Options { cond: CondPolicy::Defined(BTreeSet::from(["CONFIG_VNC".to_owned()])), ..Options::default() }
}

const CASES: &[Case] = &[
    Case { schema: "alternates", golden: "alternates", options: client },
    Case { schema: "commands", golden: "commands", options: client },
    Case { schema: "commands", golden: "commands.server", options: server },
    Case { schema: "conditions", golden: "conditions", options: client },
    Case { schema: "conditions", golden: "conditions.server", options: server },
    Case { schema: "conditions", golden: "conditions.cfg", options: cfg },
    Case { schema: "conditions", golden: "conditions.defined", options: vnc_only },
    Case { schema: "conditions", golden: "conditions.cfg.codec", options: cfg_codec },
    Case { schema: "enums", golden: "enums", options: client },
    Case { schema: "enums", golden: "enums.server", options: server },
    Case { schema: "events", golden: "events", options: client },
    Case { schema: "events", golden: "events.codec", options: codec },
    Case { schema: "features", golden: "features", options: client },
    Case { schema: "features", golden: "features.gated", options: gated },
    Case { schema: "structs", golden: "structs", options: client },
    Case { schema: "structs", golden: "structs.codec", options: codec },
    Case { schema: "unions", golden: "unions", options: client },
    Case { schema: "unions", golden: "unions.codec", options: codec },
    Case { schema: "versions", golden: "versions", options: also_reads },
];

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("golden")
}

fn blessing() -> bool {
    std::env::var_os("QAPI_BLESS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Where `a` and `b` first differ, as a hint for the failure message.
fn first_difference(expected: &str, actual: &str) -> String {
    let mut e = expected.lines();
    let mut a = actual.lines();
    let mut line = 1;
    loop {
        match (e.next(), a.next()) {
            (Some(x), Some(y)) if x == y => line += 1,
            (x, y) => {
                return format!(
                    "first difference at line {line}:\n  expected: {}\n  actual:   {}",
                    x.unwrap_or("<end of file>"),
                    y.unwrap_or("<end of file>")
                )
            }
        }
    }
}

fn generate(case: &Case) -> String {
    let path = golden_dir().join(format!("{}.json", case.schema));
    let checked = qapi_gen::Frontend::new().check_file(&path).expect("golden schema is readable");
    let errors: Vec<String> = checked.diagnostics.iter().map(ToString::to_string).collect();
    assert!(errors.is_empty(), "golden schema {} has diagnostics:\n{}", path.display(), errors.join("\n"));
    qapi_gen::gen::rust::generate(&checked.schema, &(case.options)())
        .unwrap_or_else(|e| panic!("no code for {}: {e}", case.golden))
}

#[test]
fn generated_code_matches_the_golden_files() {
    let bless = blessing();
    let mut failures = Vec::new();
    for case in CASES {
        let actual = generate(case);
        let path = golden_dir().join(format!("{}.rs", case.golden));
        let expected = std::fs::read_to_string(&path).unwrap_or_default();
        if expected == actual {
            continue;
        }
        if bless {
            std::fs::write(&path, &actual).expect("golden file is writable");
            eprintln!("blessed {}", path.display());
        } else {
            failures.push(format!("{}: {}", path.display(), first_difference(&expected, &actual)));
        }
    }
    assert!(
        failures.is_empty(),
        "generated code differs from {} golden file(s):\n{}\n\
         If the change is intended, rerun with QAPI_BLESS=1 \
         (QAPI_BLESS=1 cargo test -p qapi-tests --test golden) and review `git diff tests/golden`.",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn generation_is_deterministic() {
    for case in CASES {
        assert_eq!(generate(case), generate(case), "{} differs between two runs", case.golden);
    }
}

#[test]
fn every_golden_file_has_a_case_and_is_compiled() {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).expect("src/lib.rs");
    let names: BTreeSet<&str> = CASES.iter().map(|c| c.golden).collect();
    let schemas: BTreeSet<&str> = CASES.iter().map(|c| c.schema).collect();
    for entry in std::fs::read_dir(golden_dir()).expect("golden/ is readable") {
        let path = entry.expect("golden/ entry").path();
        let file = path.file_name().and_then(|n| n.to_str()).expect("UTF-8 file name").to_owned();
        if let Some(name) = file.strip_suffix(".rs") {
            assert!(names.contains(name), "{file} has no case in tests/golden.rs");
            assert!(
                lib.contains(&format!("include!(\"../golden/{file}\")")),
                "{file} is not included in src/lib.rs, so nothing checks that it compiles"
            );
        } else if let Some(name) = file.strip_suffix(".json") {
            assert!(schemas.contains(name), "{file} has no case in tests/golden.rs");
        }
    }
}
