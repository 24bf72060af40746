//! `query-qmp-schema` introspection against QEMU's reference output
//! (`../shared/qemu/*/introspect-*.json`); the conformance script and the
//! CLI's options are tested in qapi-gen-cli.

mod common;

use std::path::Path;

use qapi_gen::gen::introspect::{introspect, Conditions, Options};
use serde_json::Value;

/// The schemas with a reference: (schema under shared/qemu, reference).
const REFERENCES: &[(&str, &str)] = &[
    ("9.2/qapi/qapi-schema.json", "9.2/introspect-qapi.json"),
    ("9.2/qga/qapi-schema.json", "9.2/introspect-qga.json"),
    ("10.0/qapi/qapi-schema.json", "10.0/introspect-qapi.json"),
    ("10.0/qga/qapi-schema.json", "10.0/introspect-qga.json"),
    ("10.2/qapi/qapi-schema.json", "10.2/introspect-qapi.json"),
    ("10.2/qga/qapi-schema.json", "10.2/introspect-qga.json"),
    ("10.2/storage-daemon/qapi/qapi-schema.json", "10.2/introspect-storage-daemon.json"),
];

fn load(path: &Path) -> qapi_gen::Schema {
    let out =
        qapi_gen::Frontend::new().doc_style(qapi_gen::DocStyle::Warn).check_file(path).expect("schema is readable");
    assert!(out.is_valid(), "{} rejected", path.display());
    out.schema
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("reference is readable");
    serde_json::from_str(&text).expect("reference is JSON")
}

/// The conformance script compares entries by name; QEMU's order of
/// entries (and of keys inside them) is matched too.
#[test]
fn entry_and_key_order_match_qemu() {
    let Some(shared) = common::shared() else {
        return;
    };
    for (schema, reference) in REFERENCES {
        let qemu = shared.join("qemu");
        let got = introspect(&load(&qemu.join(schema)), &Options::new().unmask(true));
        let want = read_json(&qemu.join(reference));
        assert!(got == want, "{schema}: entries differ from {reference}");
        let keys = |v: &Value| -> Vec<Vec<String>> {
            v.as_array()
                .into_iter()
                .flatten()
                .map(|e| e.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default())
                .collect()
        };
        assert_eq!(keys(&got), keys(&want), "{schema}: key order differs");
    }
}

/// Replaces every masked name in a masked entry by the unmasked one, using
/// the entries' names to learn the mapping.
fn unmask(masked: &Value, unmasked: &Value, map: &mut std::collections::HashMap<String, String>) -> Value {
    match (masked, unmasked) {
        (Value::String(m), Value::String(u)) => {
            if m != u {
                let known = map.entry(m.clone()).or_insert_with(|| u.clone());
                assert_eq!(known, u, "masked name {m} stands for two types");
            }
            Value::String(u.clone())
        }
        (Value::Array(m), Value::Array(u)) => {
            assert_eq!(m.len(), u.len());
            Value::Array(m.iter().zip(u).map(|(m, u)| unmask(m, u, map)).collect())
        }
        (Value::Object(m), Value::Object(u)) => {
            assert!(m.keys().eq(u.keys()));
            Value::Object(m.iter().zip(u).map(|((k, m), (_, u))| (k.clone(), unmask(m, u, map))).collect())
        }
        (m, u) => {
            assert_eq!(m, u);
            m.clone()
        }
    }
}

#[test]
fn masking_numbers_types_in_order_of_first_use() {
    let Some(shared) = common::shared() else {
        return;
    };
    let schema = load(&shared.join("qemu/10.2/qapi/qapi-schema.json"));
    let start = std::time::Instant::now();
    let masked = introspect(&schema, &Options::new());
    println!("10.2 introspection (masked) took {:?}", start.elapsed());
    let unmasked = introspect(&schema, &Options::new().unmask(true));
    let mut map = std::collections::HashMap::new();
    assert_eq!(unmask(&masked, &unmasked, &mut map), unmasked);
    // Each masked type name is a number, 0..n, each used once: the mapping
    // is a bijection onto the schema's own (non-builtin) type names.
    let mut numbers: Vec<u32> = map
        .keys()
        .filter(|k| !k.starts_with('['))
        .map(|k| k.parse().unwrap_or_else(|_| panic!("{k} is not a number")))
        .collect();
    numbers.sort_unstable();
    assert!(numbers.iter().copied().eq(0..numbers.len() as u32));
    // Builtins keep their names; the first command's types come first.
    let entries = masked.as_array().expect("an array");
    assert_eq!(entries[0]["name"], "query-status");
    assert_eq!(entries[0]["arg-type"], "0");
    assert_eq!(entries[0]["ret-type"], "1");
    assert!(entries.iter().any(|e| e["name"] == "str" && e["meta-type"] == "builtin"));
}

#[test]
fn defined_conditions_drop_disabled_entries() {
    let Some(shared) = common::shared() else {
        return;
    };
    let schema = load(&shared.join("qemu/10.2/qapi/qapi-schema.json"));
    let all = introspect(&schema, &Options::new().unmask(true));
    let none = introspect(&schema, &Options::new().unmask(true).conditions(Conditions::defined::<_, String>([])));
    let has = |v: &Value, name: &str| v.as_array().into_iter().flatten().any(|e| e["name"] == name);
    // query-vnc is `'if': 'CONFIG_VNC'`.
    assert!(has(&all, "query-vnc"));
    assert!(!has(&none, "query-vnc"));
    let with_vnc = introspect(&schema, &Options::new().unmask(true).conditions(Conditions::defined(["CONFIG_VNC"])));
    assert!(has(&with_vnc, "query-vnc"));
    assert!(none.as_array().map(Vec::len) < all.as_array().map(Vec::len));
}

/// The generator writes the JSON text straight from the conditional tree;
/// it must be serde_json's text of the evaluated value, byte for byte.
#[test]
fn written_json_is_serde_jsons_text() {
    let Some(shared) = common::shared() else {
        return;
    };
    let conditions = [
        Conditions::AllTrue,
        Conditions::defined::<_, String>([]),
        Conditions::defined(["CONFIG_VNC", "CONFIG_LINUX", "CONFIG_POSIX", "TARGET_S390X"]),
    ];
    for (schema, _) in REFERENCES {
        let schema = load(&shared.join("qemu").join(schema));
        for unmask in [false, true] {
            let tree = qapi_gen::gen::introspect::introspect_conditional(&schema, unmask);
            for conds in &conditions {
                let mut text = String::new();
                tree.write_json(conds, &mut text);
                let expected = serde_json::to_string(&tree.evaluate(conds)).expect("a Value serializes");
                assert!(text == expected, "written JSON differs from serde_json's ({conds:?}, unmask {unmask})");
            }
        }
    }
    for s in ["plain", "quote\" here", "back\\slash", "tab\t", "bell\u{7}", "del\u{7f}", "é ü"] {
        let leaf = qapi_gen::gen::introspect::CondTree::Value(s.into());
        let mut text = String::new();
        leaf.write_json(&Conditions::AllTrue, &mut text);
        assert_eq!(text, serde_json::to_string(s).expect("a str serializes"));
    }
}
