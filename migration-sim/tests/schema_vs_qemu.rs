//! The project schema against QEMU 10.2: every entity both have (by name,
//! in `query-qmp-schema` with type names unmasked and every condition
//! true) has the same meta-type, members, member types, optionality,
//! enum values, variants, command and event signatures and features,
//! except for the seed's deliberate changes, listed below. Any other
//! difference fails the test, and so does a listed change that is no
//! longer there.
//!
//! QEMU's reference is `../shared/qemu/10.2/introspect-qapi.json` (QEMU's
//! own generator's output); the test skips, saying so, without it.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::path::Path;

use qapi_gen::gen::introspect::{introspect, Options};
use serde_json::Value;

/// The seed's changes to QEMU's schema, one line per difference as
/// [`differences`] words them.
const EXPECTED: &[&str] = &[
    // New in 11.0: per-device switchover save times.
    "DeviceSaveStateTime: only in the project",
    "MigrationInfo.device-state-times: only in the project",
    "[DeviceSaveStateTime]: only in the project",
    // New in 11.0: the system-wide remaining.
    "MigrationInfo.remaining: only in the project",
    // Destination statistics: the members only the source can fill are
    // optional since 11.0.
    "MigrationStats.dirty-pages-rate: optional in the project, mandatory in QEMU",
    "MigrationStats.dirty-sync-count: optional in the project, mandatory in QEMU",
    "MigrationStats.dirty-sync-missed-zero-copy: optional in the project, mandatory in QEMU",
    "MigrationStats.downtime-bytes: optional in the project, mandatory in QEMU",
    "MigrationStats.multifd-bytes: optional in the project, mandatory in QEMU",
    "MigrationStats.postcopy-bytes: optional in the project, mandatory in QEMU",
    "MigrationStats.postcopy-requests: optional in the project, mandatory in QEMU",
    "MigrationStats.precopy-bytes: optional in the project, mandatory in QEMU",
];

fn by_name(v: &Value) -> BTreeMap<String, Value> {
    v.as_array()
        .expect("an array of SchemaInfo")
        .iter()
        .map(|e| (e["name"].as_str().expect("a name").to_string(), e.clone()))
        .collect()
}

/// `members` (objects), as name → entry.
fn members(e: &Value) -> BTreeMap<String, Value> {
    e["members"]
        .as_array()
        .map(|ms| ms.iter().map(|m| (m["name"].as_str().unwrap_or("").to_string(), m.clone())).collect())
        .unwrap_or_default()
}

/// Every difference between the project's entry `p` and QEMU's `q` for
/// entity `name`.
fn compare(name: &str, p: &Value, q: &Value, out: &mut Vec<String>) {
    let meta = p["meta-type"].as_str().unwrap_or("");
    if p["meta-type"] != q["meta-type"] {
        out.push(format!("{name}: meta-type {} in the project, {} in QEMU", p["meta-type"], q["meta-type"]));
        return;
    }
    // Keys compared as they are: signatures, element types, enum values
    // (with their features), variants, JSON types, features.
    for key in
        ["arg-type", "ret-type", "allow-oob", "element-type", "values", "tag", "variants", "json-type", "features"]
    {
        if p.get(key) != q.get(key) {
            out.push(format!(
                "{name}: {key} {} in the project, {} in QEMU",
                p.get(key).unwrap_or(&Value::Null),
                q.get(key).unwrap_or(&Value::Null)
            ));
        }
    }
    if meta == "alternate" {
        if p["members"] != q["members"] {
            out.push(format!("{name}: alternate branches {} in the project, {} in QEMU", p["members"], q["members"]));
        }
        return;
    }
    if meta != "object" {
        return;
    }
    let (pm, qm) = (members(p), members(q));
    for (m, pe) in &pm {
        let Some(qe) = qm.get(m) else {
            out.push(format!("{name}.{m}: only in the project"));
            continue;
        };
        if pe["type"] != qe["type"] {
            out.push(format!("{name}.{m}: type {} in the project, {} in QEMU", pe["type"], qe["type"]));
        }
        match (pe.get("default").is_some(), qe.get("default").is_some()) {
            (true, false) => out.push(format!("{name}.{m}: optional in the project, mandatory in QEMU")),
            (false, true) => out.push(format!("{name}.{m}: mandatory in the project, optional in QEMU")),
            _ => {}
        }
        if pe.get("features") != qe.get("features") {
            out.push(format!(
                "{name}.{m}: features {:?} in the project, {:?} in QEMU",
                pe.get("features"),
                qe.get("features")
            ));
        }
    }
    for m in qm.keys().filter(|m| !pm.contains_key(*m)) {
        out.push(format!("{name}.{m}: only in QEMU"));
    }
    let order = |ms: &BTreeMap<String, Value>, e: &Value| -> Vec<String> {
        e["members"]
            .as_array()
            .map(|a| {
                a.iter().filter_map(|m| m["name"].as_str()).filter(|n| ms.contains_key(*n)).map(String::from).collect()
            })
            .unwrap_or_default()
    };
    // Members both have come in the same order (QEMU's wire order).
    let common: BTreeMap<String, Value> =
        pm.iter().filter(|(k, _)| qm.contains_key(*k)).map(|(k, v)| (k.clone(), v.clone())).collect();
    if order(&common, p) != order(&common, q) {
        out.push(format!("{name}: members in another order than QEMU's"));
    }
}

/// Every difference, sorted; entities only QEMU has are not differences
/// (the project serves a subset).
fn differences(project: &Value, qemu: &Value) -> Vec<String> {
    let (p, q) = (by_name(project), by_name(qemu));
    let mut out = Vec::new();
    for (name, pe) in &p {
        match q.get(name) {
            Some(qe) => compare(name, pe, qe, &mut out),
            None => out.push(format!("{name}: only in the project")),
        }
    }
    out.sort();
    out
}

#[test]
fn project_schema_matches_qemu_10_2_but_for_the_seed() {
    let reference = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/qemu/10.2/introspect-qapi.json");
    let Ok(text) = std::fs::read_to_string(&reference) else {
        eprintln!("skipped: QEMU reference data not found at {} (../shared beside the checkout)", reference.display());
        return;
    };
    let qemu: Value = serde_json::from_str(&text).expect("QEMU's introspection is JSON");
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/qapi-schema.json");
    let checked = qapi_gen::Frontend::new().check_file(&schema).expect("schema readable");
    assert!(checked.is_valid(), "{:?}", checked.diagnostics);
    let project = introspect(&checked.schema, &Options::new().unmask(true));

    let found = differences(&project, &qemu);
    let expected: Vec<String> = {
        let mut e: Vec<String> = EXPECTED.iter().map(|s| s.to_string()).collect();
        e.sort();
        e
    };
    let unexpected: Vec<&String> = found.iter().filter(|d| !expected.contains(d)).collect();
    let missing: Vec<&String> = expected.iter().filter(|d| !found.contains(d)).collect();
    assert!(
        unexpected.is_empty() && missing.is_empty(),
        "differences from QEMU 10.2 that are not the seed's:\n  {}\nseed changes not found:\n  {}",
        unexpected.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n  "),
        missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n  ")
    );
    // The comparison covered what the simulator serves.
    let (p, q) = (by_name(&project), by_name(&qemu));
    let shared = p.keys().filter(|n| q.contains_key(*n)).count();
    eprintln!("{shared} entities compared with QEMU 10.2, {} seed differences", found.len());
    for name in ["query-migrate", "MigrationInfo", "MigrationStats", "MigrationParameters", "MIGRATION", "SchemaInfo"] {
        assert!(p.contains_key(name) && q.contains_key(name), "{name} not compared");
    }
}

#[test]
fn the_comparison_notices_a_difference() {
    let qemu = serde_json::json!([
        { "name": "S", "meta-type": "object", "members": [ { "name": "a", "type": "int" }, { "name": "b", "type": "str" } ] }
    ]);
    let project = serde_json::json!([
        { "name": "S", "meta-type": "object",
          "members": [ { "name": "b", "type": "int", "default": null }, { "name": "a", "type": "int" }, { "name": "c", "type": "str" } ] }
    ]);
    assert_eq!(
        differences(&project, &qemu),
        [
            "S.b: optional in the project, mandatory in QEMU",
            "S.b: type \"int\" in the project, \"str\" in QEMU",
            "S.c: only in the project",
            "S: members in another order than QEMU's",
        ]
    );
}
