//! The introspection the generated code carries (`qmp_schema()`,
//! `QMP_SCHEMA_JSON`) equals what `qapi_gen::gen::introspect` makes of the
//! same schema under the same conditions: for every golden file (which
//! this crate compiles), and for the build script's fixture.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::path::Path;

use qapi_gen::gen::introspect::{introspect, Conditions, Options};
use qapi_tests::golden;
use serde_json::Value;

fn expected(schema: &str, conditions: Conditions) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(schema);
    let checked = qapi_gen::Frontend::new().check_file(&path).expect("schema is readable");
    assert!(checked.is_valid(), "{}: {:?}", path.display(), checked.diagnostics);
    introspect(&checked.schema, &Options::new().conditions(conditions))
}

fn golden(name: &str) -> Value {
    expected(&format!("golden/{name}.json"), Conditions::AllTrue)
}

/// A golden schema, and its generated `qmp_schema` and `QMP_SCHEMA_JSON`.
type Case = (&'static str, fn() -> Value, &'static str);

#[test]
fn golden_code_carries_the_schemas_introspection() {
    let cases: &[Case] = &[
        ("alternates", golden::alternates::qmp_schema, golden::alternates::QMP_SCHEMA_JSON),
        ("commands", golden::commands::qmp_schema, golden::commands::QMP_SCHEMA_JSON),
        ("commands", golden::commands_server::qmp_schema, golden::commands_server::QMP_SCHEMA_JSON),
        ("conditions", golden::conditions::qmp_schema, golden::conditions::QMP_SCHEMA_JSON),
        ("enums", golden::enums::qmp_schema, golden::enums::QMP_SCHEMA_JSON),
        ("enums", golden::enums_server::qmp_schema, golden::enums_server::QMP_SCHEMA_JSON),
        ("events", golden::events::qmp_schema, golden::events::QMP_SCHEMA_JSON),
        ("features", golden::features::qmp_schema, golden::features::QMP_SCHEMA_JSON),
        ("features", golden::features_gated::qmp_schema, golden::features_gated::QMP_SCHEMA_JSON),
        ("structs", golden::structs::qmp_schema, golden::structs::QMP_SCHEMA_JSON),
        ("unions", golden::unions::qmp_schema, golden::unions::QMP_SCHEMA_JSON),
    ];
    for (schema, value, text) in cases {
        let want = golden(schema);
        assert_eq!(value(), want, "{schema}");
        let parsed: Value = serde_json::from_str(text).expect("QMP_SCHEMA_JSON parses");
        // The text itself keeps QEMU's order of entries and of keys.
        assert_eq!(serde_json::to_string(&parsed).unwrap(), serde_json::to_string(&want).unwrap(), "{schema}");
    }
    // Schemas with commands or events have entries, masked.
    assert_eq!(golden::commands::qmp_schema()[0]["arg-type"], "0");
}

#[test]
fn conditions_evaluated_at_generation_time() {
    let vnc = Conditions::defined(["CONFIG_VNC"]);
    assert_eq!(golden::conditions_defined::qmp_schema(), expected("golden/conditions.json", vnc));
    assert_ne!(golden::conditions_defined::qmp_schema(), golden::conditions::qmp_schema());
}

#[test]
fn conditions_decided_by_cfg_when_compiled() {
    // This crate is compiled without any `qapi = "..."` cfg: every
    // condition is false, so only unconditional parts are there.
    let none = Conditions::defined(Vec::<String>::new());
    let value = golden::conditions_cfg::qmp_schema();
    assert_eq!(value, expected("golden/conditions.json", none));
    let names: Vec<&str> = value.as_array().unwrap().iter().filter_map(|e| e["name"].as_str()).collect();
    assert!(!names.contains(&"query-vnc") && !names.contains(&"DISPLAY_CHANGED"), "{names:?}");
}

#[test]
fn build_script_fixture_carries_its_introspection() {
    assert_eq!(qapi_tests::fixture::qmp_schema(), expected("fixtures/build/qapi-schema.json", Conditions::AllTrue));
}
