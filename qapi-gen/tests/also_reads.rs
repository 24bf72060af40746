//! Clients for a range of QEMU versions (`Options::also_reads`) on QEMU's
//! own schemas: a client from 10.2's schema that also reads 9.2 and 10.0.

mod common;

use std::sync::Arc;

use qapi_gen::gen::rust::{generate, version_conflicts, GenError, Mode, OlderSchema, Options};
use qapi_gen::{DocStyle, Frontend, Schema};

fn qemu(version: &str) -> Option<Arc<Schema>> {
    let path = common::shared()?.join(format!("qemu/{version}/qapi/qapi-schema.json"));
    let checked = Frontend::new().doc_style(DocStyle::Warn).check_file(&path).expect("QEMU schema");
    assert!(checked.is_valid());
    Some(Arc::new(checked.schema))
}

#[test]
fn a_10_2_client_reads_what_9_2_and_10_0_leave_out() {
    let (Some(new), Some(v10), Some(v9)) = (qemu("10.2"), qemu("10.0"), qemu("9.2")) else { return };
    let older = vec![OlderSchema::new("10.0", v10), OlderSchema::new("9.2", v9)];
    let subset = new.subset(["query-cpus-fast", "query-named-block-nodes", "blockdev-add"]).unwrap();
    let plain = generate(&subset, &Options::default()).unwrap();
    let opts = Options { also_reads: older.clone(), ..Options::default() };
    let code = generate(&subset, &opts).unwrap();
    // 'qom-type' is new in 10.1, so a 10.0 server leaves it out.
    assert!(plain.contains("pub qom_type: ::std::string::String,"));
    assert!(code.contains("pub qom_type: ::core::option::Option<::std::string::String>,"));
    assert!(code.contains("/// Absent before QEMU 10.1.\n    pub qom_type"), "{code}");
    // 'node-name' was optional before; 'active' is new in 10.0 ('Since'
    // says so), so absent in 9.2 only.
    assert!(code.contains("/// Optional in QEMU 9.2 and 10.0.\n    pub node_name: ::core::option::Option<"));
    assert!(code.contains("/// Absent before QEMU 10.0.\n    pub active: ::core::option::Option<bool>,"));
    // Nothing 10.2 reads changed type since 9.2.
    assert_eq!(version_conflicts(&new, &older), []);
    // A server serves one version.
    let server = Options { mode: Mode::Server, ..opts };
    assert_eq!(generate(&subset, &server), Err(GenError::AlsoReadsServer));
}

#[test]
fn a_10_0_client_of_10_2_warns_of_what_it_cannot_read() {
    let (Some(v10), Some(new)) = (qemu("10.0"), qemu("10.2")) else { return };
    let conflicts = version_conflicts(&v10, &[OlderSchema::new("10.2", new)]);
    let subjects: Vec<&str> = conflicts.iter().map(|c| c.subject.as_str()).collect();
    assert_eq!(
        subjects,
        ["MigrationParameters.tls-creds", "MigrationParameters.tls-hostname", "MigrationParameters.tls-authz"]
    );
    assert_eq!((conflicts[0].ours.as_str(), conflicts[0].theirs.as_str()), ("str", "alternate StrOrNull"));
}
