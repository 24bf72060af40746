//! `Schema::subset`: the commands and events asked for and the types they
//! reach, in definition order; the introspection of a subset describes it.

mod common;

use std::path::Path;

use qapi_gen::gen::introspect::{introspect, Options};
use qapi_gen::model::SubsetError;
use qapi_gen::{DocStyle, Frontend, Schema};
use serde_json::Value;

/// The ten migration commands of the subset benchmark.
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

fn load(path: &Path) -> Schema {
    let out = Frontend::new().doc_style(DocStyle::Warn).check_file(path).expect("schema is readable");
    assert!(out.is_valid(), "{} rejected", path.display());
    out.schema
}

fn unmasked(schema: &Schema) -> Vec<Value> {
    match introspect(schema, &Options::new().unmask(true)) {
        Value::Array(entries) => entries,
        other => panic!("introspection is not an array: {other}"),
    }
}

const SMALL: &str = "\
{ 'enum': 'Mode', 'data': ['a', 'b'] }
{ 'struct': 'Base', 'data': { 'mode': 'Mode' } }
{ 'struct': 'Leaf', 'data': { 'x': 'int' } }
{ 'union': 'Choice', 'base': 'Base', 'discriminator': 'mode', 'data': { 'a': 'Leaf' } }
{ 'struct': 'Unused', 'data': { 'y': 'str' } }
{ 'alternate': 'Alt', 'data': { 'n': 'int', 'l': 'Leaf' } }
{ 'command': 'pick', 'data': { 'c': 'Choice' }, 'returns': ['Leaf'] }
{ 'command': 'other', 'data': { 'unused': 'Unused' } }
{ 'event': 'CHANGED', 'data': { 'alt': 'Alt' } }
";

fn small() -> Schema {
    let out = Frontend::new().check_str("s.json", SMALL);
    assert!(out.is_valid(), "{:?}", out.diagnostics.iter().map(ToString::to_string).collect::<Vec<_>>());
    out.schema
}

#[test]
fn a_subset_keeps_what_its_roots_reach_in_order() {
    let schema = small();
    let pick = schema.subset(["pick"]).expect("pick is a command");
    let defined: Vec<&str> =
        pick.entities().filter(|e| e.span.is_some() && !e.is_implicit()).map(|e| e.name.as_str()).collect();
    assert_eq!(defined, ["Mode", "Base", "Leaf", "Choice", "pick"]);
    let event = schema.subset(["CHANGED"]).expect("CHANGED is an event");
    let defined: Vec<&str> =
        event.entities().filter(|e| e.span.is_some() && !e.is_implicit()).map(|e| e.name.as_str()).collect();
    assert_eq!(defined, ["Leaf", "Alt", "CHANGED"]);
    // References point into the subset.
    for e in pick.entities() {
        assert_eq!(pick[e.id].name, e.name);
    }
    assert_eq!(pick.lookup("Leaf").map(|e| e.id), pick.entities().find(|e| e.name == "Leaf").map(|e| e.id));
}

#[test]
fn names_that_are_not_commands_or_events_are_errors() {
    let schema = small();
    assert_eq!(schema.subset(["pick", "nope"]).unwrap_err(), SubsetError::Unknown("nope".into()));
    let err = schema.subset(["Leaf"]).unwrap_err();
    assert_eq!(err, SubsetError::NotCommandOrEvent { name: "Leaf".into(), meta: "struct" });
    assert!(err.to_string().starts_with("'Leaf' is a struct, not a command or event"), "{err}");
}

/// QEMU's introspection lists what commands and events reach: the subset
/// of every command and event introspects as the whole schema, and the
/// migration subset as the entries of the whole that it reaches.
#[test]
fn introspection_of_a_subset_describes_the_subset() {
    let Some(shared) = common::shared() else { return };
    let schema = load(&shared.join("qemu/10.2/qapi/qapi-schema.json"));
    let roots: Vec<String> = schema.entities().filter(|e| !e.is_type()).map(|e| e.name.clone()).collect();
    let everything = schema.subset(&roots).expect("every command and event");
    let full = unmasked(&schema);
    assert_eq!(unmasked(&everything), full);

    let migration = schema.subset(MIGRATION).expect("migration commands");
    let entries = unmasked(&migration);
    let commands: Vec<&str> =
        entries.iter().filter(|e| e["meta-type"] == "command").filter_map(|e| e["name"].as_str()).collect();
    assert_eq!(commands.len(), MIGRATION.len());
    for e in &entries {
        assert!(full.contains(e), "not an entry of the whole schema: {e}");
    }
    assert!(migration.lookup("MigrationInfo").is_some() && migration.lookup("BlockdevOptions").is_none());
    let (small, big) = (migration.entities().len(), schema.entities().len());
    assert!(small * 10 < big, "{small} of {big} entities");
}
