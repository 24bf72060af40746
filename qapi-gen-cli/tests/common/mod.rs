//! Helpers shared by the integration tests: where QEMU's reference data is.

#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared` beside the checkout, when it is there.
pub fn shared() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    if dir.join("qemu").is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: QEMU reference data not found at {} (../shared beside the checkout)", dir.display());
        None
    }
}

/// The seven real schemas: (path under shared/qemu, needs `--doc-style warn`).
pub const REAL_SCHEMAS: &[(&str, bool)] = &[
    ("9.2/qapi/qapi-schema.json", true),
    ("9.2/qga/qapi-schema.json", true),
    ("10.0/qapi/qapi-schema.json", true),
    ("10.0/qga/qapi-schema.json", true),
    ("10.2/qapi/qapi-schema.json", false),
    ("10.2/qga/qapi-schema.json", false),
    ("10.2/storage-daemon/qapi/qapi-schema.json", false),
];
