//! The backend writes formatted text itself (no token round trip); this
//! checks that the text is exactly what `prettyplease` makes of it, item
//! by item, so that generated code keeps one layout whatever writes it.
//! The real schemas and QEMU's test schema, in every mode and condition
//! policy, cover every shape the backend writes.

mod common;

use std::path::Path;

use qapi_gen::doc::DocStyle;
use qapi_gen::gen::rust::{generate, CondPolicy, Mode, Options};
use qapi_gen::Frontend;

/// `code` laid out again by prettyplease, one item at a time with a blank
/// line between two, after the `@generated` line (a comment, which
/// prettyplease drops).
fn relaid(code: &str) -> String {
    let (header, body) = code.split_once('\n').unwrap_or(("", code));
    let mut file = match syn::parse_file(body) {
        Ok(f) => f,
        Err(e) => panic!("generated code does not parse: {e}"),
    };
    let mut out = format!("{header}\n");
    for item in std::mem::take(&mut file.items) {
        out.push('\n');
        file.items = vec![item];
        out.push_str(&prettyplease::unparse(&file));
    }
    out
}

fn first_difference(a: &str, b: &str) -> String {
    let line = a.lines().zip(b.lines()).position(|(x, y)| x != y).unwrap_or(a.lines().count().min(b.lines().count()));
    let show = |s: &str| s.lines().skip(line.saturating_sub(3)).take(7).collect::<Vec<_>>().join("\n");
    format!("first difference at line {}:\n--- written\n{}\n--- prettyplease\n{}", line + 1, show(a), show(b))
}

fn check(path: &Path, style: DocStyle, options: &[Options]) {
    let checked = Frontend::new().doc_style(style).check_file(path).expect("schema reads");
    assert!(checked.is_valid(), "{}: {:?}", path.display(), checked.diagnostics);
    for opts in options {
        let code = generate(&checked.schema, opts).expect("generates");
        let again = relaid(&code);
        assert!(code == again, "{} {opts:?}: {}", path.display(), first_difference(&code, &again));
    }
}

fn all_modes() -> Vec<Options> {
    vec![
        Options::default(),
        Options { mode: Mode::Server, ..Options::default() },
        Options { mode: Mode::Server, cond: CondPolicy::Cfg, gate_unstable: true, ..Options::default() },
        Options {
            cond: CondPolicy::Cfg,
            cfg_key: "feature".into(),
            unmask_introspection: true,
            runtime_path: "crate::rt".into(),
            ..Options::default()
        },
    ]
}

#[test]
fn test_schema_is_laid_out_as_prettyplease_does() {
    let Some(shared) = common::shared() else { return };
    let path = shared.join("qemu/10.2/tests-qapi-schema/qapi-schema-test.json");
    check(&path, DocStyle::Warn, &all_modes());
}

#[test]
fn real_schemas_are_laid_out_as_prettyplease_does() {
    let Some(shared) = common::shared() else { return };
    for (schema, warn) in common::REAL_SCHEMAS {
        let style = if *warn { DocStyle::Warn } else { DocStyle::Error };
        let path = shared.join("qemu").join(schema);
        let opts = if schema.starts_with("10.2/qapi") { all_modes() } else { vec![Options::default()] };
        check(&path, style, &opts);
    }
}
