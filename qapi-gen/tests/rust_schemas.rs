//! Every schema here generates in every mode and condition policy, and
//! the same text each time: the real schemas and QEMU's test schema, a
//! schema of long names, and a synthetic schema with names and
//! conditions of every length (nested conditions deep in the
//! introspection, deprecation notes as long as a line). Generation lays
//! the code out with prettyplease, so it also checks that the code
//! parses.

mod common;

use std::path::Path;

use qapi_gen::doc::DocStyle;
use qapi_gen::gen::rust::{generate, CondPolicy, Mode, Options};
use qapi_gen::Frontend;

/// Generates `schema` twice with each of `options` (a thread each: this
/// is slow in a debug build) and expects the same text.
fn check_schema(name: &str, schema: &qapi_gen::Schema, options: &[Options]) {
    std::thread::scope(|s| {
        for opts in options {
            s.spawn(move || {
                let code = generate(schema, opts).unwrap_or_else(|e| panic!("{name} {opts:?}: {e}"));
                let again = generate(schema, opts).unwrap_or_else(|e| panic!("{name} {opts:?}: {e}"));
                assert!(code == again, "{name} {opts:?}: two runs differ");
            });
        }
    });
}

fn check(path: &Path, style: DocStyle, options: &[Options]) {
    let checked = Frontend::new().doc_style(style).check_file(path).expect("schema reads");
    assert!(checked.is_valid(), "{}: {:?}", path.display(), checked.diagnostics);
    check_schema(&path.display().to_string(), &checked.schema, options);
}

fn all_modes() -> Vec<Options> {
    vec![
        Options::default(),
        Options { mode: Mode::Server, ..Options::default() },
        Options {
            mode: Mode::Server,
            cond: CondPolicy::Cfg,
            gate_unstable: true,
            json_codec: true,
            ..Options::default()
        },
        Options {
            cond: CondPolicy::Cfg,
            json_codec: true,
            cfg_key: "feature".into(),
            unmask_introspection: true,
            runtime_path: "crate::a::runtime::path::long::enough::to::push::the::serde::attribute::past::the::margin"
                .into(),
            ..Options::default()
        },
    ]
}

/// A schema whose names and conditions take every length from short
/// to far wider than a line.
fn schema() -> String {
    let mut s = String::new();
    for n in 1..=110 {
        let x = "x".repeat(n);
        let ab = format!("{}{}", "-ab".repeat(n / 3 + 1), "b".repeat(n % 3));
        let up = format!("{}{}", "_AB".repeat(n / 3 + 1), "B".repeat(n % 3));
        let cond = format!("CONFIG_{}", "C".repeat(n));
        let nested = format!("{{ 'all': [ '{cond}', {{ 'any': [ 'HAVE_{}', {{ 'not': 'B' }} ] }} ] }}", "X".repeat(n));
        s.push_str(&format!("{{ 'struct': 'T{x}', 'data': {{ 'a': 'int' }} }}\n"));
        s.push_str(&format!(
            "{{ 'command': 'c{ab}', 'data': {{ 'a': 'int' }}, 'returns': ['T{x}'], 'if': '{cond}' }}\n"
        ));
        s.push_str(&format!("{{ 'command': 'r{ab}', 'returns': 'T{x}', 'if': {nested} }}\n"));
        s.push_str(&format!(
            "{{ 'command': 'd{ab}', 'data': 'T{x}', 'features': [ 'unstable', {{ 'name': 'deprecated', 'if': '{cond}' }} ] }}\n"
        ));
        s.push_str(&format!("{{ 'event': 'E{up}', 'data': 'T{x}', 'if': {nested} }}\n"));
        s.push_str(&format!("{{ 'event': 'N{up}', 'features': [ 'deprecated' ] }}\n"));
        s.push_str(&format!("{{ 'event': 'I{up}', 'data': {{ 'a': ['T{x}'] }}, 'if': '{cond}' }}\n"));
        // Conditions nested in the introspection value, deeper and deeper.
        let member = |i: usize| {
            format!(
                "'m{i}{x}': {{ 'type': 'int', 'if': '{cond}', 'features': [ {{ 'name': 'f{}', 'if': {nested} }} ] }}",
                // At most 64 feature names in a schema.
                "x".repeat(n % 40)
            )
        };
        s.push_str(&format!(
            "{{ 'struct': 'S{x}', 'data': {{ {}, {}, 'plain': 'int' }}, 'if': {nested} }}\n",
            member(1),
            member(2)
        ));
        s.push_str(&format!(
            "{{ 'enum': 'K{x}', 'data': [ 'a', {{ 'name': 'b{x}', 'if': '{cond}' }} ] }}\n\
             {{ 'union': 'U{x}', 'base': {{ 'k': 'K{x}' }}, 'discriminator': 'k',\
                'data': {{ 'a': 'S{x}', 'b{x}': {{ 'type': 'T{x}', 'if': '{cond}' }} }} }}\n"
        ));
        // A deprecation note as long as the line.
        s.push_str(&format!(
            "##\n# @o{ab}:\n#\n# A command.\n#\n# Features:\n#\n# @deprecated: note\n{}##\n\
             {{ 'command': 'o{ab}', 'features': [ {{ 'name': 'deprecated', 'if': '{cond}' }} ] }}\n",
            "#     word word word word word word word word\n".repeat(n / 16)
        ));
    }
    s.push_str("{ 'event': 'UNKNOWN' }\n{ 'command': 'x-unknown', 'gen': false, 'data': { 'a': 'int' } }\n");
    s
}

#[test]
fn long_names() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/layout/long-names.json");
    check(&path, DocStyle::Warn, &all_modes());
}

#[test]
fn names_of_every_length() {
    let checked = Frontend::new().doc_style(DocStyle::Warn).check_str("long.json", &schema());
    let errors: Vec<_> = checked.diagnostics.iter().filter(|d| d.is_error()).map(|d| &d.message).collect();
    assert!(checked.is_valid(), "{errors:?}");
    check_schema("long.json", &checked.schema, &all_modes());
}

#[test]
fn qemu_test_schema() {
    let Some(shared) = common::shared() else { return };
    let path = shared.join("qemu/10.2/tests-qapi-schema/qapi-schema-test.json");
    check(&path, DocStyle::Warn, &all_modes());
}

#[test]
fn real_schemas() {
    let Some(shared) = common::shared() else { return };
    for (schema, warn) in common::REAL_SCHEMAS {
        let style = if *warn { DocStyle::Warn } else { DocStyle::Error };
        let path = shared.join("qemu").join(schema);
        let opts = if schema.starts_with("10.2/qapi") { all_modes() } else { vec![Options::default()] };
        check(&path, style, &opts);
    }
}
