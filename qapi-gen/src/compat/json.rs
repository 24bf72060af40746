//! The report as JSON, through serde types: the shape CI tools read.

use serde::Serialize;

use super::report::{Change, ChangeKind, Direction, Report, Severity, SinceProblem};
use crate::source::Span;

impl Report {
    /// The report as JSON, for CI tools. The shape (stable; `format`
    /// changes when it does):
    ///
    /// ```text
    /// { "format": 1,
    ///   "since-current": "11.0" | null,
    ///   "summary": { "breaking": N, "warning": N, "allowed": N,
    ///                "compatible": N, "since": N },
    ///   "changes": [ { "severity": "breaking" | "warning" | "allowed" | "compatible",
    ///                  "allowed-by": "unstable" | "deprecated" | null,
    ///                  "kind": "made-optional" | ...,   (see ChangeKind::as_str)
    ///                  "direction": "input" | "output" | null,
    ///                  "subject": "...", "message": "...", "why": "...",
    ///                  "new": LOCATION | null, "old": LOCATION | null,
    ///                  "paths": [ "..." ], "more-paths": N } ],
    ///   "since": [ { "subject": "...", "message": "...",
    ///                "found": "10.1" | null, "expected": "11.0",
    ///                "location": LOCATION | null } ] }
    /// LOCATION = { "file": "...", "line": N, "column": N }
    /// ```
    ///
    /// `changes` leaves out compatible changes unless `all`; `summary`
    /// always counts them.
    pub fn to_json(&self, all: bool) -> String {
        let doc = JsonReport {
            format: 1,
            since_current: self.since_current.as_ref().map(ToString::to_string),
            summary: Summary {
                breaking: self.count(Severity::Breaking),
                warning: self.count(Severity::Warning),
                allowed: self.count(Severity::Allowed),
                compatible: self.count(Severity::Compatible),
                since: self.since.len(),
            },
            changes: self
                .changes
                .iter()
                .filter(|c| all || c.severity != Severity::Compatible)
                .map(JsonChange::from)
                .collect(),
            since: self.since.iter().map(JsonSince::from).collect(),
        };
        // Strings, numbers and nulls only: serializing cannot fail.
        let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// The document: `format` is bumped when the shape changes.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct JsonReport<'r> {
    format: u32,
    since_current: Option<String>,
    summary: Summary,
    changes: Vec<JsonChange<'r>>,
    since: Vec<JsonSince<'r>>,
}

/// How many changes of each severity, and `Since:` problems.
#[derive(Serialize)]
struct Summary {
    breaking: usize,
    warning: usize,
    allowed: usize,
    compatible: usize,
    since: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct JsonChange<'r> {
    severity: Severity,
    allowed_by: Option<&'static str>,
    kind: ChangeKind,
    direction: Option<Direction>,
    subject: &'r str,
    message: &'r str,
    why: &'r str,
    new: Option<Location<'r>>,
    old: Option<Location<'r>>,
    paths: &'r [String],
    more_paths: usize,
}

impl<'r> From<&'r Change> for JsonChange<'r> {
    fn from(c: &'r Change) -> Self {
        JsonChange {
            severity: c.severity,
            allowed_by: c.allowed_by,
            kind: c.kind,
            direction: c.direction,
            subject: &c.subject,
            message: &c.message,
            why: &c.why,
            new: c.new.as_ref().map(Location::from),
            old: c.old.as_ref().map(Location::from),
            paths: &c.paths,
            more_paths: c.more_paths,
        }
    }
}

#[derive(Serialize)]
struct JsonSince<'r> {
    subject: &'r str,
    message: &'r str,
    found: Option<&'r str>,
    expected: &'r str,
    location: Option<Location<'r>>,
}

impl<'r> From<&'r SinceProblem> for JsonSince<'r> {
    fn from(p: &'r SinceProblem) -> Self {
        JsonSince {
            subject: &p.subject,
            message: &p.message,
            found: p.found.as_deref(),
            expected: &p.expected,
            location: p.span.as_ref().map(Location::from),
        }
    }
}

/// `{ "file": ..., "line": N, "column": N }`
#[derive(Serialize)]
struct Location<'r> {
    file: &'r str,
    line: u32,
    column: u32,
}

impl<'r> From<&'r Span> for Location<'r> {
    fn from(s: &'r Span) -> Self {
        let (line, column) = s.line_col();
        Location { file: &s.file.name, line, column }
    }
}
