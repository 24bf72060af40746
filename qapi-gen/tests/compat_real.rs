//! `compat` on QEMU's real history and on the project's schema: what it
//! reports is what the review found (every breaking change explained).
//! How fast it is: `cargo bench -p qapi-gen --bench frontend`.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use qapi_gen::compat::{self, Options, Report, Severity};
use qapi_gen::{DocStyle, Frontend};

fn load(path: &Path) -> qapi_gen::Checked {
    let out = Frontend::new().doc_style(DocStyle::Warn).check_file(path).expect("schema readable");
    assert!(out.is_valid(), "{} is invalid", path.display());
    out
}

/// Compares two schemas; also returns how long the comparison alone took.
fn compare(old: &Path, new: &Path) -> (Report, Duration) {
    let (o, n) = (load(old), load(new));
    let start = Instant::now();
    let r = compat::compare(&o.schema, &n.schema, &Options::default());
    (r, start.elapsed())
}

/// `severity kind subject` of every change that is not compatible.
fn notable(r: &Report) -> Vec<String> {
    r.changes
        .iter()
        .filter(|c| c.severity != Severity::Compatible)
        .map(|c| format!("{} {} {}", c.severity.as_str(), c.kind.as_str(), c.subject))
        .collect()
}

fn history(old: &str, new: &str) -> Option<(Report, Duration)> {
    let qemu = common::shared()?.join("qemu");
    let (r, t) = compare(&qemu.join(old).join("qapi-schema.json"), &qemu.join(new).join("qapi-schema.json"));
    eprintln!("{old} → {new}: compared in {t:?}; {}", r.summary());
    Some((r, t))
}

#[test]
fn qemu_9_2_to_10_0() {
    let Some((r, _)) = history("9.2/qapi", "10.0/qapi") else { return };
    assert_eq!(notable(&r), ["warning value-added MigMode 'cpr-transfer'"], "{}", r.render_text(false));
    let Some((r, _)) = history("9.2/qga", "10.0/qga") else { return };
    assert!(notable(&r).is_empty(), "{}", r.render_text(false));
}

#[test]
fn qemu_10_0_to_10_2() {
    let Some((r, _)) = history("10.0/qapi", "10.2/qapi") else { return };
    assert_eq!(
        notable(&r),
        [
            // Made optional in 10.1 when the member stopped being s390x-only.
            "breaking made-optional CpuModelExpansionInfo.deprecated-props",
            // MigrationParameters now shares StrOrNull with
            // migrate-set-parameters: the schema lets the query return null.
            "breaking type-widened MigrationParameters.tls-creds",
            "breaking type-widened MigrationParameters.tls-hostname",
            "breaking type-widened MigrationParameters.tls-authz",
            // The ignored 'detach' argument dropped without a deprecation.
            "breaking member-removed migrate.detach",
            "warning value-added SysEmuTarget 'hexagon'",
            "warning value-added MigrationStatus 'postcopy-device'",
            "warning value-added MigMode 'cpr-exec'",
            "warning value-added GuestPanicInformationType 'tdx'",
            "warning value-added GuestPanicInformationType 'sev'",
            "allowed member-removed ChardevSocket.reconnect",
            "allowed command-removed x-query-opcount",
            "allowed command-removed query-migrationthreads",
            "allowed value-removed MigrationCapability 'zero-blocks'",
            "allowed member-removed NetdevStreamOptions.reconnect",
        ],
        "{}",
        r.render_text(false)
    );
    let Some((r, _)) = history("10.0/qga", "10.2/qga") else { return };
    assert!(notable(&r).is_empty(), "{}", r.render_text(false));
}

/// The seed change on the real schemas: QEMU 10.2 against the project's
/// schema. The project's schema is a subset, so commands and events are
/// missing; apart from those, exactly the eight members break readers.
#[test]
fn seed_change_against_qemu_10_2() {
    let Some(shared) = common::shared() else { return };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let (r, _) = compare(&shared.join("qemu/10.2/qapi/qapi-schema.json"), &root.join("schema/qapi-schema.json"));
    let breaking: Vec<String> = r
        .changes
        .iter()
        .filter(|c| c.severity == Severity::Breaking)
        .filter(|c| !matches!(c.kind, compat::ChangeKind::CommandRemoved | compat::ChangeKind::EventRemoved))
        .map(|c| format!("{}: {}", c.paths.join(" | "), c.message))
        .collect();
    let expected: Vec<String> = [
        "dirty-pages-rate",
        "dirty-sync-count",
        "postcopy-requests",
        "multifd-bytes",
        "precopy-bytes",
        "downtime-bytes",
        "postcopy-bytes",
        "dirty-sync-missed-zero-copy",
    ]
    .iter()
    .map(|m| format!("query-migrate → MigrationInfo.ram → MigrationStats.{m}: required → optional"))
    .collect();
    assert_eq!(breaking, expected, "{}", r.render_text(false));
    // Nothing else is even a warning: the rest of the subset is QEMU 10.2's
    // wire protocol, plus the 11.0 additions (optional, new).
    assert_eq!(r.count(Severity::Warning), 0, "{}", r.render_text(false));
    assert!(r.since.is_empty(), "{:#?}", r.since);
    // And with the release being developed, the additions say 11.0.
    let o = load(&shared.join("qemu/10.2/qapi/qapi-schema.json"));
    let n = load(&root.join("schema/qapi-schema.json"));
    let r = compat::compare(&o.schema, &n.schema, &Options { since_current: Some("11.0".parse().unwrap()) });
    assert!(r.since.is_empty(), "{:#?}", r.since);
}
