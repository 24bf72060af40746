//! Old model vs new model: the changes that break a QMP peer, and the
//! `Since:` lint.
//!
//! [`compare`] walks both resolved schemas from their commands and events,
//! the way bytes travel on the wire:
//!
//! - a command's arguments, and every type they reach, are **input**
//!   (client → server): the new schema must still accept everything a
//!   client built against the old one sends;
//! - a command's return value and an event's data, and every type they
//!   reach, are **output** (server → client): everything the new schema
//!   may send must still make sense to a client built against the old one.
//!
//! A type used both ways is analysed both ways. Types are compared by
//! wire shape, never by name: renaming a type, splitting members into a
//! base, or turning named arguments into an implicit `q_obj_*` type
//! changes nothing on the wire and is not reported. Each change is
//! reported once, at the member, value or definition it concerns, with
//! every command or event path that reaches it
//! (`query-migrate → MigrationInfo.ram → MigrationStats.dirty-sync-count`).
//!
//! What a change means depends on its direction ([`Severity`]):
//!
//! | change | input | output |
//! | --- | --- | --- |
//! | member removed | breaking | breaking (optional: warning) |
//! | member added | breaking when required | compatible |
//! | optional → required | breaking | compatible |
//! | required → optional | compatible | breaking |
//! | enum value removed | breaking | compatible |
//! | enum value added | compatible | warning |
//! | type narrowed (`int` → `int32`, `str` → enum, alternate loses a branch) | breaking | compatible |
//! | type widened (`int32` → `int`, enum → `str`, `T` → alternate of `T`) | compatible | breaking |
//!
//! Commands and events removed, union discriminators changed, and the
//! `allow-oob`, `allow-preconfig` and `success-response` flags taken away
//! are breaking too. A change that would break but sits under a command,
//! event, member or enum value that has feature `unstable`, or `deprecated`,
//! in the old schema is [`Severity::Allowed`]: QEMU's policy lets such
//! interfaces change or go.
//!
//! The `Since:` lint ([`Options::since_current`], [`since_lint`]) checks that
//! what is new carries the version of the release being developed.
//!
//! ```
//! use qapi_gen::{compat, Frontend};
//!
//! let old = Frontend::new().check_str("old.json", "
//! { 'struct': 'Stats', 'data': { 'total': 'int' } }
//! { 'command': 'query-stats', 'returns': 'Stats' }
//! ");
//! let new = Frontend::new().check_str("new.json", "
//! { 'struct': 'Stats', 'data': { '*total': 'int' } }
//! { 'command': 'query-stats', 'returns': 'Stats' }
//! ");
//! let report = compat::compare(&old.schema, &new.schema, &compat::Options::default());
//! assert!(report.is_breaking());
//! let change = &report.changes[0];
//! assert_eq!(change.subject, "Stats.total");
//! assert_eq!(change.message, "required → optional");
//! assert_eq!(change.paths[0], "query-stats → Stats.total");
//! ```

use std::collections::{HashMap, HashSet};
use std::fmt::{self, Write as _};
use std::str::FromStr;

use crate::diag::Diagnostic;
use crate::doc::{Doc, Section, SectionKind};
use crate::model::{Builtin, Cond, Entity, EntityId, EntityKind, Feature, Member, ModuleItem, ObjectType, Schema};
use crate::source::Span;

// ---------------------------------------------------------------------------
// Public types

/// A release version as `Since:` sections write it: `10.2`, `2.12.0`.
///
/// Versions compare numerically, trailing zeros aside (`10.2` equals
/// `10.2.0`, and is older than `10.10`).
///
/// ```
/// use qapi_gen::compat::Version;
/// let v: Version = "10.2".parse().unwrap();
/// assert!(v < "10.10".parse().unwrap());
/// assert_eq!(v, "10.2.0".parse().unwrap());
/// assert_eq!(Version::leading("10.1 (x-foo)").unwrap().to_string(), "10.1");
/// ```
#[derive(Debug, Clone)]
pub struct Version {
    parts: Vec<u32>,
}

impl Version {
    /// The version a text starts with (`10.1`, `v2.12`, `2.12.0;`), if it
    /// starts with one.
    pub fn leading(text: &str) -> Option<Version> {
        let t = text.trim_start();
        let t = t.strip_prefix('v').unwrap_or(t);
        let len = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
        t[..len].trim_end_matches('.').parse().ok()
    }

    fn significant(&self) -> &[u32] {
        let n = self.parts.iter().rposition(|&p| p != 0).map_or(0, |i| i + 1);
        &self.parts[..n]
    }
}

impl FromStr for Version {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Result<Vec<u32>, _> = s.split('.').map(str::parse::<u32>).collect();
        match parts {
            Ok(parts) if !parts.is_empty() && parts.len() <= 4 && !s.contains('+') => Ok(Version { parts }),
            _ => Err(format!("'{s}' is not a version like 10.2")),
        }
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.significant() == other.significant()
    }
}

impl Eq for Version {}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.significant().cmp(other.significant())
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for p in &self.parts {
            if !first {
                f.write_str(".")?;
            }
            first = false;
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// How much a change matters, least first.
///
/// ```
/// use qapi_gen::compat::Severity;
/// assert!(Severity::Breaking > Severity::Warning);
/// assert_eq!(Severity::Allowed.as_str(), "allowed");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Cannot break anyone (new optional arguments, new commands, doc
    /// edits); listed only on request.
    Compatible,
    /// Would break or warn, but only touches what the old schema marked
    /// `unstable` or `deprecated`.
    Allowed,
    /// May break some clients: a closed client that rejects enum values it
    /// does not know, or one that made use of an optional member.
    Warning,
    /// Breaks a peer built against the old schema.
    Breaking,
}

impl Severity {
    /// `compatible`, `allowed`, `warning` or `breaking`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Compatible => "compatible",
            Severity::Allowed => "allowed",
            Severity::Warning => "warning",
            Severity::Breaking => "breaking",
        }
    }
}

/// Which way the values whose shape changed travel.
///
/// ```
/// use qapi_gen::compat::Direction;
/// assert_eq!(Direction::Input.as_str(), "input");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Client to server: command arguments.
    Input,
    /// Server to client: command return values and event data.
    Output,
}

impl Direction {
    /// `input` or `output`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Input => "input",
            Direction::Output => "output",
        }
    }
}

/// What changed.
///
/// ```
/// use qapi_gen::compat::ChangeKind;
/// assert_eq!(ChangeKind::MadeOptional.as_str(), "made-optional");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// A command was removed (or renamed).
    CommandRemoved,
    /// A command was added.
    CommandAdded,
    /// An event was removed (or renamed).
    EventRemoved,
    /// An event was added.
    EventAdded,
    /// A member (argument, returned or event data member) was removed.
    MemberRemoved,
    /// A member was added.
    MemberAdded,
    /// A required member became optional.
    MadeOptional,
    /// An optional member became required.
    MadeRequired,
    /// An enum value was removed.
    ValueRemoved,
    /// An enum value was added.
    ValueAdded,
    /// A type now accepts or holds fewer values.
    TypeNarrowed,
    /// A type now accepts or holds more values.
    TypeWidened,
    /// A union's discriminator member changed.
    DiscriminatorChanged,
    /// A command flag (`allow-oob`, `allow-preconfig`, `success-response`)
    /// changed.
    FlagChanged,
    /// A feature was added.
    FeatureAdded,
    /// A feature was removed.
    FeatureRemoved,
    /// An `if` condition changed.
    ConditionChanged,
    /// The documentation changed.
    DocChanged,
}

impl ChangeKind {
    /// The kebab-case name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::CommandRemoved => "command-removed",
            ChangeKind::CommandAdded => "command-added",
            ChangeKind::EventRemoved => "event-removed",
            ChangeKind::EventAdded => "event-added",
            ChangeKind::MemberRemoved => "member-removed",
            ChangeKind::MemberAdded => "member-added",
            ChangeKind::MadeOptional => "made-optional",
            ChangeKind::MadeRequired => "made-required",
            ChangeKind::ValueRemoved => "value-removed",
            ChangeKind::ValueAdded => "value-added",
            ChangeKind::TypeNarrowed => "type-narrowed",
            ChangeKind::TypeWidened => "type-widened",
            ChangeKind::DiscriminatorChanged => "discriminator-changed",
            ChangeKind::FlagChanged => "flag-changed",
            ChangeKind::FeatureAdded => "feature-added",
            ChangeKind::FeatureRemoved => "feature-removed",
            ChangeKind::ConditionChanged => "condition-changed",
            ChangeKind::DocChanged => "doc-changed",
        }
    }
}

/// One change between the old and the new schema.
///
/// ```
/// # use qapi_gen::{compat, Frontend};
/// # let old = Frontend::new().check_str("o.json", "{ 'command': 'stop' }");
/// # let new = Frontend::new().check_str("n.json", "{ 'command': 'cont' }");
/// let report = compat::compare(&old.schema, &new.schema, &compat::Options::default());
/// let c = &report.changes[0];
/// assert_eq!((c.kind, c.severity), (compat::ChangeKind::CommandRemoved, compat::Severity::Breaking));
/// assert_eq!(c.old.as_ref().map(|s| s.location()).as_deref(), Some("o.json:1:1"));
/// ```
#[derive(Debug, Clone)]
pub struct Change {
    /// How much it matters (after `unstable`/`deprecated` allowances).
    pub severity: Severity,
    /// When [`Severity::Allowed`]: `unstable` or `deprecated`, the feature
    /// of the old schema that allows it.
    pub allowed_by: Option<&'static str>,
    /// What changed.
    pub kind: ChangeKind,
    /// Which way the affected values travel; `None` for changes to a
    /// command or event as a whole, features, conditions and docs.
    pub direction: Option<Direction>,
    /// What changed, named by the new schema where it still exists:
    /// `MigrationStats.dirty-sync-count`, `MigrationStatus 'wait-unplug'`,
    /// `query-migrate`. For a change to a member's type, the member.
    pub subject: String,
    /// The change itself: `required → optional`, `removed`, `int → uint64`.
    pub message: String,
    /// Who it breaks and how.
    pub why: String,
    /// Where it is in the new schema (for something removed: where it
    /// would be, the definition or file that held it).
    pub new: Option<Span>,
    /// Where it was in the old schema (for something added: the definition
    /// that gained it).
    pub old: Option<Span>,
    /// The command and event paths that reach it, as
    /// `query-migrate → MigrationInfo.ram → MigrationStats.total`; at most
    /// [`MAX_PATHS`] of them.
    pub paths: Vec<String>,
    /// How many more paths reach it than [`paths`](Self::paths) lists.
    pub more_paths: usize,
}

/// How many paths a [`Change`] lists at most; [`Change::more_paths`]
/// counts the rest.
///
/// ```
/// # use qapi_gen::{compat, Frontend};
/// # let old = Frontend::new().check_str("o.json", "{ 'command': 'stop' }");
/// # let new = Frontend::new().check_str("n.json", "");
/// let report = compat::compare(&old.schema, &new.schema, &compat::Options::default());
/// assert!(report.changes.iter().all(|c| c.paths.len() <= compat::MAX_PATHS));
/// ```
pub const MAX_PATHS: usize = 16;

/// A `Since:` that is missing or says the wrong version.
///
/// ```
/// # use qapi_gen::{compat, Frontend};
/// let s = Frontend::new().check_str("s.json", "##\n# @stop:\n#\n# Since: 12.0\n##\n{ 'command': 'stop' }\n");
/// let problems = compat::since_lint(&s.schema, &"11.0".parse().unwrap());
/// assert_eq!(problems[0].found.as_deref(), Some("12.0"));
/// assert!(problems[0].to_diagnostic().is_some());
/// ```
#[derive(Debug, Clone)]
pub struct SinceProblem {
    /// The definition, member, value, branch or feature concerned.
    pub subject: String,
    /// What is wrong.
    pub message: String,
    /// The version written, if any.
    pub found: Option<String>,
    /// What was expected: `11.0`, or `>= 10.2` when the release being
    /// developed was not given, or `<= 11.0` for the one-schema lint.
    pub expected: String,
    /// Where: the `Since:` section, the member's description, or the
    /// definition.
    pub span: Option<Span>,
    /// [`Severity::Error`](crate::Severity::Error) for a wrong version;
    /// the one-schema lint ([`since_lint`]) reports a missing `Since:` as
    /// a warning (schemas have old definitions without one).
    pub severity: crate::Severity,
}

impl SinceProblem {
    /// The problem as a diagnostic (`None` without a location).
    pub fn to_diagnostic(&self) -> Option<Diagnostic> {
        let span = self.span.clone()?;
        let message = format!("{}: {}", self.subject, self.message);
        Some(match self.severity {
            crate::Severity::Error => Diagnostic::error(span, message),
            crate::Severity::Warning => Diagnostic::warning(span, message),
        })
    }
}

/// What [`compare`] found.
///
/// ```
/// use qapi_gen::{compat, Frontend};
/// let old = Frontend::new().check_str("o.json", "{ 'enum': 'Mode', 'data': [ 'a', 'b' ] }
/// { 'command': 'set', 'data': { 'mode': 'Mode' } }");
/// let new = Frontend::new().check_str("n.json", "{ 'enum': 'Mode', 'data': [ 'a' ] }
/// { 'command': 'set', 'data': { 'mode': 'Mode' } }");
/// let report = compat::compare(&old.schema, &new.schema, &compat::Options::default());
/// assert_eq!(report.count(compat::Severity::Breaking), 1);
/// assert!(report.is_breaking() && report.fails());
/// assert_eq!(report.summary(), "1 breaking, 0 warnings, 0 allowed (0 compatible; 0 Since problems)");
/// let text = report.render_text(false);
/// assert!(text.starts_with("n.json:1:1: breaking: set.mode → Mode 'b': value removed\n  was o.json:1:34\n"));
/// assert!(report.to_json(false).contains("\"kind\": \"value-removed\""));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Every change, breaking ones first, then by location.
    pub changes: Vec<Change>,
    /// `Since:` problems of what is new in the new schema.
    pub since: Vec<SinceProblem>,
    /// The release being developed, when given ([`Options::since_current`]).
    pub since_current: Option<Version>,
}

/// What [`compare`] should check besides compatibility.
///
/// ```
/// let opts = qapi_gen::compat::Options { since_current: Some("11.0".parse().unwrap()) };
/// # let _ = opts;
/// ```
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The release being developed. With it, everything new must say
    /// exactly this version; without it, a version at least as new as the
    /// newest the old schema names (a development tree may already name
    /// the coming release).
    pub since_current: Option<Version>,
}

impl Report {
    /// How many changes have this severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.changes.iter().filter(|c| c.severity == severity).count()
    }

    /// True when some change breaks a peer.
    pub fn is_breaking(&self) -> bool {
        self.changes.iter().any(|c| c.severity == Severity::Breaking)
    }

    /// True when the check fails: a breaking change, or a `Since:` problem
    /// when the release being developed was given.
    pub fn fails(&self) -> bool {
        self.is_breaking() || (self.since_current.is_some() && !self.since.is_empty())
    }

    /// The summary line: `N breaking, M warnings, K allowed`, then the
    /// compatible changes and the `Since:` problems.
    pub fn summary(&self) -> String {
        let w = self.count(Severity::Warning);
        format!(
            "{} breaking, {} warning{}, {} allowed ({} compatible; {} Since problem{})",
            self.count(Severity::Breaking),
            w,
            if w == 1 { "" } else { "s" },
            self.count(Severity::Allowed),
            self.count(Severity::Compatible),
            self.since.len(),
            if self.since.len() == 1 { "" } else { "s" },
        )
    }

    /// The report for people and editors: per change a GNU-style line
    /// `NEW_FILE:LINE:COL: breaking: PATH: MESSAGE`, then `  was
    /// OLD_FILE:LINE:COL`, `  why: ...` and further paths; grouped by
    /// severity; then the `Since:` problems and the summary. Compatible
    /// changes only when `all`.
    pub fn render_text(&self, all: bool) -> String {
        let mut out = String::new();
        let mut last = None;
        for c in self.changes.iter().filter(|c| all || c.severity != Severity::Compatible) {
            if last.is_some_and(|s| s != c.severity) {
                out.push('\n');
            }
            last = Some(c.severity);
            let at = c.new.as_ref().or(c.old.as_ref()).map_or_else(|| "<schema>".to_owned(), Span::location);
            let mut paths = c.paths.iter();
            let head = paths.next().map_or(c.subject.as_str(), String::as_str);
            let _ = writeln!(out, "{at}: {}: {head}: {}", c.severity.as_str(), c.message);
            if let (Some(old), Some(_)) = (&c.old, &c.new) {
                let _ = writeln!(out, "  was {}", old.location());
            }
            if c.severity == Severity::Allowed {
                let _ = writeln!(out, "  allowed: '{}' in the old schema", c.allowed_by.unwrap_or("unstable"));
            }
            if !c.why.is_empty() {
                let _ = writeln!(out, "  why: {}", c.why);
            }
            for p in paths.by_ref().take(4) {
                let _ = writeln!(out, "  also via {p}");
            }
            let more = paths.count() + c.more_paths;
            if more > 0 {
                let _ = writeln!(out, "  and {more} more path{}", if more == 1 { "" } else { "s" });
            }
        }
        if !self.since.is_empty() {
            if last.is_some() {
                out.push('\n');
            }
            for p in &self.since {
                let at = p.span.as_ref().map_or_else(|| "<schema>".to_owned(), Span::location);
                let _ = writeln!(out, "{at}: since: {}: {}", p.subject, p.message);
            }
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&self.summary());
        out.push('\n');
        out
    }

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
        let mut o = String::from("{\n  \"format\": 1,\n  \"since-current\": ");
        match &self.since_current {
            Some(v) => json_str(&mut o, &v.to_string()),
            None => o.push_str("null"),
        }
        let _ = write!(
            o,
            ",\n  \"summary\": {{ \"breaking\": {}, \"warning\": {}, \"allowed\": {}, \"compatible\": {}, \"since\": {} }},\n  \"changes\": [",
            self.count(Severity::Breaking),
            self.count(Severity::Warning),
            self.count(Severity::Allowed),
            self.count(Severity::Compatible),
            self.since.len()
        );
        let mut first = true;
        for c in self.changes.iter().filter(|c| all || c.severity != Severity::Compatible) {
            o.push_str(if first { "\n    { " } else { ",\n    { " });
            first = false;
            o.push_str("\"severity\": ");
            json_str(&mut o, c.severity.as_str());
            o.push_str(", \"allowed-by\": ");
            json_opt(&mut o, c.allowed_by);
            o.push_str(", \"kind\": ");
            json_str(&mut o, c.kind.as_str());
            o.push_str(", \"direction\": ");
            json_opt(&mut o, c.direction.map(Direction::as_str));
            o.push_str(",\n      \"subject\": ");
            json_str(&mut o, &c.subject);
            o.push_str(", \"message\": ");
            json_str(&mut o, &c.message);
            o.push_str(", \"why\": ");
            json_str(&mut o, &c.why);
            o.push_str(",\n      \"new\": ");
            json_loc(&mut o, c.new.as_ref());
            o.push_str(", \"old\": ");
            json_loc(&mut o, c.old.as_ref());
            o.push_str(",\n      \"paths\": [");
            for (i, p) in c.paths.iter().enumerate() {
                if i > 0 {
                    o.push_str(", ");
                }
                json_str(&mut o, p);
            }
            let _ = write!(o, "], \"more-paths\": {} }}", c.more_paths);
        }
        o.push_str(if first { "],\n  \"since\": [" } else { "\n  ],\n  \"since\": [" });
        for (i, p) in self.since.iter().enumerate() {
            o.push_str(if i == 0 { "\n    { " } else { ",\n    { " });
            o.push_str("\"subject\": ");
            json_str(&mut o, &p.subject);
            o.push_str(", \"message\": ");
            json_str(&mut o, &p.message);
            o.push_str(", \"found\": ");
            json_opt(&mut o, p.found.as_deref());
            o.push_str(", \"expected\": ");
            json_str(&mut o, &p.expected);
            o.push_str(", \"location\": ");
            json_loc(&mut o, p.span.as_ref());
            o.push_str(" }");
        }
        o.push_str(if self.since.is_empty() { "]\n}\n" } else { "\n  ]\n}\n" });
        o
    }
}

fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_opt(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => json_str(out, s),
        None => out.push_str("null"),
    }
}

fn json_loc(out: &mut String, span: Option<&Span>) {
    match span {
        Some(s) => {
            let (line, col) = s.line_col();
            out.push_str("{ \"file\": ");
            json_str(out, &s.file.name);
            let _ = write!(out, ", \"line\": {line}, \"column\": {col} }}");
        }
        None => out.push_str("null"),
    }
}

// ---------------------------------------------------------------------------
// Entry points

/// Compares two resolved schemas: every change that can break a peer
/// built against `old`, what the `unstable`/`deprecated` policy allows,
/// the compatible rest, and the `Since:` lint of what is new.
///
/// Both schemas should be valid (an empty model compares as "everything
/// removed" or "everything added").
///
/// ```
/// use qapi_gen::{compat, Frontend};
/// let old = Frontend::new().check_str("o.json", "{ 'command': 'set', 'data': { 'n': 'int' } }");
/// let new = Frontend::new().check_str("n.json", "{ 'command': 'set', 'data': { 'n': 'int8' } }");
/// let report = compat::compare(&old.schema, &new.schema, &compat::Options::default());
/// assert_eq!(report.changes[0].kind, compat::ChangeKind::TypeNarrowed);
/// assert_eq!(report.changes[0].paths[0], "set.n");
/// ```
pub fn compare(old: &Schema, new: &Schema, opts: &Options) -> Report {
    let mut engine = Engine::new(old, new);
    let roots = engine.roots();
    engine.run();
    let mut changes = engine.collect(&roots);
    changes.extend(engine.doc_changes());
    let changes = merge(changes);
    let since = since_compat(old, new, &engine.renamed(), opts.since_current.as_ref());
    Report { changes, since, since_current: opts.since_current.clone() }
}

/// The `Since:` lint of one schema, for `qapi-gen check --since-current`:
/// without an older schema it cannot tell what is new, so it reports what
/// can only be wrong: as errors, any `Since:` or `(Since X.Y)` note that
/// names a release newer than `current` (or no version at all); as
/// warnings, documented definitions without a `Since:` section (QEMU has
/// old ones).
///
/// ```
/// use qapi_gen::{compat, Frontend};
/// let s = Frontend::new().check_str("s.json", "##\n# @stop:\n##\n{ 'command': 'stop' }\n");
/// let problems = compat::since_lint(&s.schema, &"11.0".parse().unwrap());
/// assert_eq!(problems[0].message, "no 'Since:' section");
/// ```
pub fn since_lint(schema: &Schema, current: &Version) -> Vec<SinceProblem> {
    let mut out = Vec::new();
    let expected = format!("<= {current}");
    let too_new = |out: &mut Vec<SinceProblem>, subject: String, text: &str, span: &Span, what: &str| {
        match Version::leading(text) {
            Some(v) if v <= *current => {}
            Some(v) => out.push(SinceProblem {
                subject,
                message: format!("{what} {v} is newer than the release being developed ({current})"),
                found: Some(v.to_string()),
                expected: expected.clone(),
                span: Some(span.clone()),
                severity: crate::Severity::Error,
            }),
            None => out.push(SinceProblem {
                subject,
                message: format!("{what} '{text}' names no version"),
                found: Some(text.to_owned()),
                expected: expected.clone(),
                span: Some(span.clone()),
                severity: crate::Severity::Error,
            }),
        }
    };
    for doc in schema.docs() {
        let Some(symbol) = &doc.symbol else { continue };
        match doc.sections.iter().find(|s| s.kind == SectionKind::Since) {
            Some(s) => too_new(&mut out, symbol.clone(), s.text.trim(), &s.span, "'Since:'"),
            None => {
                let colonless = since_without_colon(doc);
                out.push(SinceProblem {
                    subject: symbol.clone(),
                    message: match &colonless {
                        Some((v, _)) => colonless_message(v),
                        None => "no 'Since:' section".to_owned(),
                    },
                    found: colonless.as_ref().map(|(v, _)| (*v).to_owned()),
                    expected: expected.clone(),
                    span: Some(colonless.map_or_else(|| doc.span.clone(), |(_, span)| span)),
                    severity: crate::Severity::Warning,
                });
            }
        }
        for (name, s) in doc.args.iter().chain(doc.features.iter()) {
            if let Some(v) = note_version(s) {
                too_new(&mut out, format!("{symbol}.{name}"), v, &s.span, "'(Since)' note");
            }
        }
    }
    out
}

/// The version a member, value, branch or feature description gives: its
/// last `(Since X.Y)` note, or, for a description that is just `since X.Y`
/// (as some enum values are written), that.
fn note_version(s: &Section) -> Option<&str> {
    s.since_note().or_else(|| {
        let t = s.text.trim_start();
        t.get(..5).filter(|p| p.eq_ignore_ascii_case("since"))?;
        let rest = t.get(5..)?;
        let rest = rest.strip_prefix(':').unwrap_or(rest).trim_start();
        let len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let v = rest[..len].trim_end_matches('.');
        v.starts_with(|c: char| c.is_ascii_digit()).then_some(v)
    })
}

/// A line `Since X.Y` without the colon: QEMU reads it as plain text, so
/// the definition has no `Since:` section. The version and where.
fn since_without_colon(doc: &Doc) -> Option<(&str, Span)> {
    std::iter::once(&doc.body).chain(doc.sections.iter().filter(|s| s.kind == SectionKind::Plain)).find_map(|s| {
        let v = s.text.lines().find_map(|l| {
            let rest = l.trim().strip_prefix("Since ")?;
            Version::leading(rest).map(|_| rest.trim())
        })?;
        Some((v, s.span.clone()))
    })
}

fn colonless_message(v: &str) -> String {
    format!("'Since {v}' lacks the colon: QEMU reads it as plain text, not as a 'Since:' section")
}

// ---------------------------------------------------------------------------
// Type classes

/// What a type's values are, for comparing shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Str,
    Enum,
    Int(i128, i128),
    Number,
    Bool,
    Null,
    Any,
    Array,
    Object,
    Alternate,
}

/// JSON kinds as alternates dispatch on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wire {
    String,
    Num,
    Bool,
    Null,
    Array,
    Object,
    Any,
}

impl Class {
    fn wire(self) -> Wire {
        match self {
            Class::Str | Class::Enum => Wire::String,
            Class::Int(..) | Class::Number => Wire::Num,
            Class::Bool => Wire::Bool,
            Class::Null => Wire::Null,
            Class::Array => Wire::Array,
            Class::Object => Wire::Object,
            Class::Any | Class::Alternate => Wire::Any,
        }
    }
}

impl Wire {
    fn describe(self) -> &'static str {
        match self {
            Wire::String => "a string",
            Wire::Num => "a number",
            Wire::Bool => "a boolean",
            Wire::Null => "null",
            Wire::Array => "an array",
            Wire::Object => "an object",
            Wire::Any => "any JSON value",
        }
    }
}

fn int_range(b: Builtin) -> Option<(i128, i128)> {
    Some(match b {
        Builtin::Int | Builtin::Int64 => (i64::MIN.into(), i64::MAX.into()),
        Builtin::Int8 => (i8::MIN.into(), i8::MAX.into()),
        Builtin::Int16 => (i16::MIN.into(), i16::MAX.into()),
        Builtin::Int32 => (i32::MIN.into(), i32::MAX.into()),
        Builtin::Uint8 => (0, u8::MAX.into()),
        Builtin::Uint16 => (0, u16::MAX.into()),
        Builtin::Uint32 => (0, u32::MAX.into()),
        Builtin::Uint64 | Builtin::Size => (0, u64::MAX.into()),
        _ => return None,
    })
}

fn class(schema: &Schema, id: EntityId) -> Class {
    match schema.get(id).map(|e| &e.kind) {
        Some(EntityKind::Builtin(b)) => match b {
            Builtin::Str => Class::Str,
            Builtin::Number => Class::Number,
            Builtin::Bool => Class::Bool,
            Builtin::Null => Class::Null,
            Builtin::Any => Class::Any,
            other => int_range(*other).map_or(Class::Any, |(lo, hi)| Class::Int(lo, hi)),
        },
        Some(EntityKind::Enum(_)) => Class::Enum,
        Some(EntityKind::Array(_)) => Class::Array,
        Some(EntityKind::Object(_)) => Class::Object,
        Some(EntityKind::Alternate(_)) => Class::Alternate,
        _ => Class::Any,
    }
}

/// A type as the wire sees it: its alternatives (an alternate's branches,
/// or the type itself).
struct Comp<'s> {
    id: EntityId,
    branch: Option<&'s str>,
    class: Class,
}

fn components(schema: &Schema, id: EntityId) -> Vec<Comp<'_>> {
    match schema.get(id).map(|e| &e.kind) {
        Some(EntityKind::Alternate(a)) => a
            .branches
            .iter()
            .map(|b| Comp { id: b.ty, branch: Some(b.name.as_str()), class: class(schema, b.ty) })
            .map(|c| if c.class == Class::Alternate { Comp { class: Class::Any, ..c } } else { c })
            .collect(),
        _ => vec![Comp { id, branch: None, class: class(schema, id) }],
    }
}

/// `q_obj_NAME-arg` → `NAME`: implicit types are shown as what introduced
/// them.
fn implicit_owner(name: &str) -> Option<&str> {
    let rest = name.strip_prefix("q_obj_")?;
    Some(
        rest.strip_suffix("-arg")
            .or_else(|| rest.strip_suffix("-base"))
            .or_else(|| rest.strip_suffix("-wrapper"))
            .unwrap_or(rest),
    )
}

/// How a type is shown in paths and subjects.
fn display(schema: &Schema, id: EntityId) -> String {
    let Some(e) = schema.get(id) else { return "?".to_owned() };
    match &e.kind {
        EntityKind::Array(a) => format!("{}[]", schema.get(a.element).map_or("?", |e| e.name.as_str())),
        _ => implicit_owner(&e.name).unwrap_or(&e.name).to_owned(),
    }
}

/// How a type is named in messages.
fn type_name(schema: &Schema, id: EntityId) -> String {
    let Some(e) = schema.get(id) else { return "?".to_owned() };
    match &e.kind {
        EntityKind::Builtin(b) => b.name().to_owned(),
        EntityKind::Array(a) => format!("[{}]", type_name(schema, a.element)),
        _ if e.name.starts_with("q_") => e.meta().to_owned(),
        _ => format!("{} {}", e.meta(), e.name),
    }
}

/// `unstable` or `deprecated`, whichever the features include (unstable
/// first).
fn special(features: &[Feature]) -> Option<&'static str> {
    if features.iter().any(|f| f.name == "unstable") {
        Some("unstable")
    } else if features.iter().any(|f| f.name == "deprecated") {
        Some("deprecated")
    } else {
        None
    }
}

fn cond_text(c: &Cond) -> String {
    match c {
        Cond::Name(n) => n.clone(),
        Cond::Not(c) => match &**c {
            Cond::Name(n) => format!("!{n}"),
            other => format!("!({})", cond_text(other)),
        },
        Cond::All(v) | Cond::Any(v) => {
            let op = if matches!(c, Cond::All(_)) { " && " } else { " || " };
            let parts: Vec<String> = v
                .iter()
                .map(|x| match x {
                    Cond::All(_) | Cond::Any(_) => format!("({})", cond_text(x)),
                    _ => cond_text(x),
                })
                .collect();
            parts.join(op)
        }
    }
}

// ---------------------------------------------------------------------------
// The comparison graph: one node per (old type, new type, direction)

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    old: EntityId,
    new: EntityId,
    dir: Direction,
}

/// A change found at a node, before paths are known.
#[derive(Debug, Clone)]
struct Finding {
    kind: ChangeKind,
    severity: Severity,
    direction: Option<Direction>,
    /// Empty: the change is to the type of whatever reaches the node; the
    /// last path step names it and the step's locations place it.
    subject: String,
    message: String,
    why: String,
    old: Option<Span>,
    new: Option<Span>,
    /// The old element itself is unstable or deprecated.
    allowed_by: Option<&'static str>,
}

#[derive(Debug, Clone)]
struct Edge {
    to: usize,
    /// `MigrationInfo.ram`, `BlockdevOptions(file)`, or empty (arrays).
    hop: String,
    allowed_by: Option<&'static str>,
    old_site: Option<Span>,
    new_site: Option<Span>,
}

#[derive(Debug)]
struct Node {
    key: Key,
    findings: Vec<Finding>,
    edges: Vec<Edge>,
}

/// Where the walk starts: a command's arguments or return value, an
/// event's data, or a command or event as a whole (no node).
struct Root {
    label: String,
    node: Option<usize>,
    allowed_by: Option<&'static str>,
    old_site: Option<Span>,
    new_site: Option<Span>,
    findings: Vec<Finding>,
}

struct Engine<'a> {
    old: &'a Schema,
    new: &'a Schema,
    old_empty: Option<EntityId>,
    new_empty: Option<EntityId>,
    nodes: Vec<Node>,
    index: HashMap<Key, usize>,
    queue: Vec<usize>,
}

/// The members of an object type as the wire sees them.
struct View<'s> {
    common: Vec<&'s Member>,
    tag: Option<&'s Member>,
    /// Tag value → branch type (`q_empty` for a value without a branch).
    variants: Vec<(&'s str, EntityId, Option<Span>)>,
    branch_members: HashSet<&'s str>,
}

fn view<'s>(schema: &'s Schema, obj: &'s ObjectType) -> View<'s> {
    let common: Vec<&Member> = obj.all_members(schema).collect();
    let mut variants = Vec::new();
    let mut branch_members = HashSet::new();
    let tag = obj.branches.as_ref().map(|b| &b.tag);
    if let Some(br) = &obj.branches {
        for b in &br.branches {
            variants.push((b.name.as_str(), b.ty, b.span.clone()));
            if let Some(o) = schema.get(b.ty).and_then(Entity::as_object) {
                branch_members.extend(o.all_members(schema).map(|m| m.name.as_str()));
            }
        }
    }
    View { common, tag, variants, branch_members }
}

fn members_of(schema: &Schema, id: EntityId) -> Vec<&Member> {
    schema.get(id).and_then(Entity::as_object).map(|o| o.all_members(schema).collect()).unwrap_or_default()
}

impl<'a> Engine<'a> {
    fn new(old: &'a Schema, new: &'a Schema) -> Self {
        Engine {
            old,
            new,
            old_empty: old.lookup_type("q_empty").map(|e| e.id),
            new_empty: new.lookup_type("q_empty").map(|e| e.id),
            nodes: Vec::new(),
            index: HashMap::new(),
            queue: Vec::new(),
        }
    }

    fn node(&mut self, old: EntityId, new: EntityId, dir: Direction) -> usize {
        let key = Key { old, new, dir };
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        let i = self.nodes.len();
        self.nodes.push(Node { key, findings: Vec::new(), edges: Vec::new() });
        self.index.insert(key, i);
        self.queue.push(i);
        i
    }

    fn run(&mut self) {
        while let Some(i) = self.queue.pop() {
            let key = self.nodes[i].key;
            let mut out = Out::default();
            self.compute(key, &mut out);
            self.nodes[i].findings = out.findings;
            self.nodes[i].edges = out.edges;
        }
    }

    /// The commands and events: their own changes, and the nodes of their
    /// arguments, return values and data.
    fn roots(&mut self) -> Vec<Root> {
        let (old, new) = (self.old, self.new);
        let mut roots = Vec::new();
        for oe in old.entities() {
            let is_cmd = match &oe.kind {
                EntityKind::Command(_) => true,
                EntityKind::Event(_) => false,
                _ => continue,
            };
            let what = if is_cmd { "command" } else { "event" };
            let ne = new.lookup(&oe.name).filter(|ne| ne.meta() == oe.meta());
            let allowed_by = special(&oe.features);
            let mut root = Root {
                label: oe.name.clone(),
                node: None,
                allowed_by,
                old_site: oe.span.clone(),
                new_site: ne.and_then(|n| n.span.clone()),
                findings: Vec::new(),
            };
            let Some(ne) = ne else {
                let renamed = self.renamed_to(oe);
                let (kind, why) = if is_cmd {
                    (ChangeKind::CommandRemoved, "clients that execute it get an error")
                } else {
                    (ChangeKind::EventRemoved, "clients that wait for it never see it")
                };
                root.findings.push(Finding {
                    kind,
                    severity: Severity::Breaking,
                    direction: None,
                    subject: oe.name.clone(),
                    message: match renamed {
                        Some(n) => format!("{what} removed (renamed to '{n}'? it has the same wire shape)"),
                        None => format!("{what} removed"),
                    },
                    why: why.to_owned(),
                    old: oe.span.clone(),
                    new: old.modules().get(oe.module.index()).and_then(|m| module_span(new, &m.name)),
                    allowed_by,
                });
                roots.push(root);
                continue;
            };
            root.findings.extend(feature_changes(
                &oe.name,
                &oe.features,
                &ne.features,
                oe.span.as_ref(),
                ne.span.as_ref(),
            ));
            root.findings.extend(cond_change(&oe.name, oe.cond.as_ref(), ne.cond.as_ref(), what, &oe.span, &ne.span));
            let span_pair = (oe.span.clone(), ne.span.clone());
            let mut sub = Vec::new();
            match (&oe.kind, &ne.kind) {
                (EntityKind::Command(oc), EntityKind::Command(nc)) => {
                    let flag =
                        |name: &str, o: bool, n: bool, lost_why: &str, severity_gain: Severity| -> Option<Finding> {
                            (o != n).then(|| Finding {
                                kind: ChangeKind::FlagChanged,
                                severity: if o { Severity::Breaking } else { severity_gain },
                                direction: None,
                                subject: oe.name.clone(),
                                message: format!("'{name}': {o} → {n}"),
                                why: if o { lost_why.to_owned() } else { String::new() },
                                old: span_pair.0.clone(),
                                new: span_pair.1.clone(),
                                allowed_by,
                            })
                        };
                    root.findings.extend(flag(
                        "allow-oob",
                        oc.allow_oob,
                        nc.allow_oob,
                        "clients that execute it out-of-band (exec-oob) get an error",
                        Severity::Compatible,
                    ));
                    root.findings.extend(flag(
                        "allow-preconfig",
                        oc.allow_preconfig,
                        nc.allow_preconfig,
                        "clients that execute it before the machine is built (--preconfig) get an error",
                        Severity::Compatible,
                    ));
                    root.findings.extend(flag(
                        "success-response",
                        oc.success_response,
                        nc.success_response,
                        "clients waiting for the success response wait forever",
                        Severity::Breaking,
                    ));
                    if let Some(f) = root.findings.last_mut() {
                        if f.message.starts_with("'success-response': false") {
                            f.why = "clients that do not expect a response get an unexpected one".to_owned();
                        }
                    }
                    if let (Some(oa), Some(na)) = (oc.arg_type.or(self.old_empty), nc.arg_type.or(self.new_empty)) {
                        sub.push((self.node(oa, na, Direction::Input), ""));
                    }
                    if let (Some(or), Some(nr)) = (oc.ret_type.or(self.old_empty), nc.ret_type.or(self.new_empty)) {
                        sub.push((self.node(or, nr, Direction::Output), ""));
                    }
                }
                (EntityKind::Event(oev), EntityKind::Event(nev)) => {
                    if let (Some(oa), Some(na)) = (oev.arg_type.or(self.old_empty), nev.arg_type.or(self.new_empty)) {
                        sub.push((self.node(oa, na, Direction::Output), ""));
                    }
                }
                _ => {}
            }
            for (node, _) in sub {
                roots.push(Root {
                    label: oe.name.clone(),
                    node: Some(node),
                    allowed_by,
                    old_site: oe.span.clone(),
                    new_site: ne.span.clone(),
                    findings: Vec::new(),
                });
            }
            roots.push(root);
        }
        for ne in new.entities() {
            let (kind, what) = match &ne.kind {
                EntityKind::Command(_) => (ChangeKind::CommandAdded, "command"),
                EntityKind::Event(_) => (ChangeKind::EventAdded, "event"),
                _ => continue,
            };
            if old.lookup(&ne.name).is_some_and(|oe| oe.meta() == ne.meta()) {
                continue;
            }
            roots.push(Root {
                label: ne.name.clone(),
                node: None,
                allowed_by: None,
                old_site: None,
                new_site: ne.span.clone(),
                findings: vec![Finding {
                    kind,
                    severity: Severity::Compatible,
                    direction: None,
                    subject: ne.name.clone(),
                    message: format!("{what} added"),
                    why: String::new(),
                    old: None,
                    new: ne.span.clone(),
                    allowed_by: None,
                }],
            });
        }
        roots
    }

    /// A command or event of the new schema, absent from the old one, with
    /// the same wire shape as `oe`.
    fn renamed_to(&self, oe: &Entity) -> Option<String> {
        let (old, new) = (self.old, self.new);
        let shape = |e: &Entity, empty: Option<EntityId>| -> (Option<EntityId>, Option<EntityId>) {
            match &e.kind {
                EntityKind::Command(c) => (c.arg_type.or(empty), c.ret_type.or(empty)),
                EntityKind::Event(ev) => (ev.arg_type.or(empty), None),
                _ => (None, None),
            }
        };
        let (oa, or) = shape(oe, self.old_empty);
        // Without arguments or data, every such command looks the same.
        let empty = |id: Option<EntityId>| {
            id.is_none_or(|i| old.get(i).and_then(Entity::as_object).is_some_and(|o| o.is_empty(old)))
        };
        if empty(oa) && empty(or) {
            return None;
        }
        new.entities()
            .filter(|ne| ne.meta() == oe.meta() && old.lookup(&ne.name).is_none())
            .find(|ne| {
                let (na, nr) = shape(ne, self.new_empty);
                let same = |o: Option<EntityId>, n: Option<EntityId>| match (o, n) {
                    (Some(o), Some(n)) => wire_equal(old, new, o, n),
                    (None, None) => true,
                    _ => false,
                };
                same(oa, na) && same(or, nr)
            })
            .map(|ne| ne.name.clone())
    }

    fn compute(&mut self, key: Key, out: &mut Out) {
        let (old, new) = (self.old, self.new);
        let (Some(o), Some(n)) = (old.get(key.old), new.get(key.new)) else { return };
        match (&o.kind, &n.kind) {
            (EntityKind::Object(oo), EntityKind::Object(no)) => self.objects(key, oo, no, out),
            (EntityKind::Array(oa), EntityKind::Array(na)) => {
                let to = self.node(oa.element, na.element, key.dir);
                out.edges.push(Edge { to, hop: String::new(), allowed_by: None, old_site: None, new_site: None });
            }
            _ => self.values(key, out),
        }
    }

    /// Two types at least one of which is not an object or array: compare
    /// the JSON kinds they accept or produce, then each matching pair.
    fn values(&mut self, key: Key, out: &mut Out) {
        let (old, new) = (self.old, self.new);
        let ocs = components(old, key.old);
        let ncs = components(new, key.new);
        let accepts = |a: Class, b: Class| a.wire() == Wire::Any || a.wire() == b.wire();
        let mut pairs = Vec::new();
        match key.dir {
            Direction::Input => {
                for oc in &ocs {
                    match ncs.iter().find(|nc| accepts(nc.class, oc.class)) {
                        Some(nc) => pairs.push((oc, nc)),
                        None => out.findings.push(type_finding(
                            ChangeKind::TypeNarrowed,
                            Severity::Breaking,
                            key.dir,
                            format!(
                                "no longer accepts {} ({} → {})",
                                oc.class.wire().describe(),
                                type_name(old, key.old),
                                type_name(new, key.new)
                            ),
                            "clients that send such a value are now rejected",
                        )),
                    }
                }
            }
            Direction::Output => {
                for nc in &ncs {
                    match ocs.iter().find(|oc| accepts(oc.class, nc.class)) {
                        Some(oc) => pairs.push((oc, nc)),
                        None => out.findings.push(type_finding(
                            ChangeKind::TypeWidened,
                            Severity::Breaking,
                            key.dir,
                            format!(
                                "may now be {} ({} → {})",
                                nc.class.wire().describe(),
                                type_name(old, key.old),
                                type_name(new, key.new)
                            ),
                            "clients that expect the old type cannot read such a value",
                        )),
                    }
                }
            }
        }
        for (oc, nc) in pairs {
            if oc.id == key.old && nc.id == key.new {
                self.scalars(key, oc.class, nc.class, out);
            } else {
                let to = self.node(oc.id, nc.id, key.dir);
                let hop = match (nc.branch, oc.branch) {
                    (Some(b), _) => format!("{}({b})", display(new, key.new)),
                    (None, Some(b)) => format!("{}({b})", display(old, key.old)),
                    (None, None) => String::new(),
                };
                out.edges.push(Edge { to, hop, allowed_by: None, old_site: None, new_site: None });
            }
        }
    }

    /// Two non-alternate types of the same JSON kind.
    fn scalars(&mut self, key: Key, oc: Class, nc: Class, out: &mut Out) {
        let (old, new) = (self.old, self.new);
        let (on, nn) = (type_name(old, key.old), type_name(new, key.new));
        let input = key.dir == Direction::Input;
        // (narrower in the new schema?, wider?)
        let (narrowed, widened) = match (oc, nc) {
            (Class::Enum, Class::Enum) => {
                self.enums(key, out);
                return;
            }
            (Class::Int(ol, oh), Class::Int(nl, nh)) => (nl > ol || nh < oh, nl < ol || nh > oh),
            (Class::Any, Class::Any) => (false, false),
            (Class::Str, Class::Enum) | (Class::Number, Class::Int(..)) | (Class::Any, _) => (true, false),
            (Class::Enum, Class::Str) | (Class::Int(..), Class::Number) | (_, Class::Any) => (false, true),
            _ => (false, false),
        };
        if !narrowed && !widened {
            return;
        }
        let msg = format!("{on} → {nn}");
        let (kind, sev, why) = match (input, narrowed, widened) {
            (true, true, _) => (
                ChangeKind::TypeNarrowed,
                Severity::Breaking,
                format!("clients that send values {nn} does not accept are now rejected"),
            ),
            (false, _, true) => (
                ChangeKind::TypeWidened,
                Severity::Breaking,
                format!("clients that read it as {on} may receive values {on} cannot hold"),
            ),
            (true, false, true) => (ChangeKind::TypeWidened, Severity::Compatible, String::new()),
            _ => (ChangeKind::TypeNarrowed, Severity::Compatible, String::new()),
        };
        out.findings.push(type_finding(kind, sev, key.dir, msg, &why));
    }

    fn enums(&mut self, key: Key, out: &mut Out) {
        let (old, new) = (self.old, self.new);
        let (Some(oe), Some(ne)) = (old.get(key.old), new.get(key.new)) else { return };
        let (Some(ov), Some(nv)) = (oe.as_enum(), ne.as_enum()) else { return };
        let name = display(new, key.new);
        for v in &ov.values {
            let subject = format!("{name} '{}'", v.name);
            match nv.value(&v.name) {
                None => out.findings.push(match key.dir {
                    Direction::Input => Finding {
                        kind: ChangeKind::ValueRemoved,
                        severity: Severity::Breaking,
                        direction: Some(key.dir),
                        subject,
                        message: "value removed".to_owned(),
                        why: "clients that send it are now rejected".to_owned(),
                        old: v.span.clone(),
                        new: ne.span.clone(),
                        allowed_by: special(&v.features),
                    },
                    Direction::Output => Finding {
                        kind: ChangeKind::ValueRemoved,
                        severity: Severity::Compatible,
                        direction: Some(key.dir),
                        subject,
                        message: "value no longer sent".to_owned(),
                        why: String::new(),
                        old: v.span.clone(),
                        new: ne.span.clone(),
                        allowed_by: None,
                    },
                }),
                Some(n) => {
                    out.findings.extend(feature_changes(
                        &subject,
                        &v.features,
                        &n.features,
                        v.span.as_ref(),
                        n.span.as_ref(),
                    ));
                }
            }
        }
        for v in &nv.values {
            if ov.value(&v.name).is_some() {
                continue;
            }
            let output = key.dir == Direction::Output;
            out.findings.push(Finding {
                kind: ChangeKind::ValueAdded,
                severity: if output { Severity::Warning } else { Severity::Compatible },
                direction: Some(key.dir),
                subject: format!("{name} '{}'", v.name),
                message: "value added".to_owned(),
                why: if output {
                    "clients that accept only the values they know may fail on it".to_owned()
                } else {
                    String::new()
                },
                old: oe.span.clone(),
                new: v.span.clone(),
                allowed_by: None,
            });
        }
    }

    fn objects(&mut self, key: Key, oo: &'a ObjectType, no: &'a ObjectType, out: &mut Out) {
        let (old, new) = (self.old, self.new);
        let ov = view(old, oo);
        let nv = view(new, no);
        let owner = if self.new_empty == Some(key.new) { display(old, key.old) } else { display(new, key.new) };
        let old_owner = old.get(key.old).and_then(|e| e.span.clone());
        let new_owner = new.get(key.new).and_then(|e| e.span.clone());
        let sites = Sites { owner: &owner, old_owner: &old_owner, new_owner: &new_owner };

        // Members common to every variant.
        for om in &ov.common {
            match nv.common.iter().find(|nm| nm.name == om.name) {
                Some(nm) => self.member_pair(key, om, nm, &owner, None, out),
                None if !nv.branch_members.contains(om.name.as_str()) => {
                    out.findings.push(member_removed(key.dir, old, om, &sites));
                }
                None => {}
            }
        }
        for nm in &nv.common {
            if !ov.common.iter().any(|om| om.name == nm.name) && !ov.branch_members.contains(nm.name.as_str()) {
                out.findings.push(member_added(key.dir, new, nm, &sites));
            }
        }

        // Variants.
        let old_tag_enum = ov.tag.and_then(|t| old.get(t.ty)).and_then(Entity::as_enum);
        let pairs: Vec<VariantPair<'_>> = match (ov.tag, nv.tag) {
            (Some(ot), Some(nt)) if ot.name != nt.name => {
                out.findings.push(Finding {
                    kind: ChangeKind::DiscriminatorChanged,
                    severity: Severity::Breaking,
                    direction: Some(key.dir),
                    subject: owner.clone(),
                    message: format!("discriminator '{}' → '{}'", ot.name, nt.name),
                    why: "values are told apart by a different member".to_owned(),
                    old: ot.span.clone(),
                    new: nt.span.clone(),
                    allowed_by: None,
                });
                Vec::new()
            }
            (Some(_), Some(_)) => nv
                .variants
                .iter()
                .filter_map(|(name, nty, nspan)| {
                    let (_, oty, ospan) = ov.variants.iter().find(|(o, _, _)| o == name)?;
                    Some((*name, Some(*oty), Some(*nty), ospan.clone(), nspan.clone()))
                })
                .collect(),
            (None, Some(_)) => {
                nv.variants.iter().map(|(n, t, s)| (*n, self.old_empty, Some(*t), None, s.clone())).collect()
            }
            (Some(_), None) => {
                ov.variants.iter().map(|(n, t, s)| (*n, Some(*t), self.new_empty, s.clone(), None)).collect()
            }
            (None, None) => Vec::new(),
        };
        for (value, ob, nb, ospan, nspan) in pairs {
            let (Some(ob), Some(nb)) = (ob, nb) else { continue };
            let old_branch = members_of(old, ob);
            let new_branch = members_of(new, nb);
            let moved =
                ov.common.iter().any(|m| {
                    !nv.common.iter().any(|n| n.name == m.name) && new_branch.iter().any(|n| n.name == m.name)
                }) || nv.common.iter().any(|m| {
                    !ov.common.iter().any(|o| o.name == m.name) && old_branch.iter().any(|o| o.name == m.name)
                });
            let variant_allowed = old_tag_enum.and_then(|e| e.value(value)).and_then(|v| special(&v.features));
            let hop = format!("{owner}({value})");
            if !moved {
                let to = self.node(ob, nb, key.dir);
                out.edges.push(Edge { to, hop, allowed_by: variant_allowed, old_site: ospan, new_site: nspan });
                continue;
            }
            // Members moved between the common part and this branch:
            // compare the whole variant, leaving out what both common
            // parts have (compared above).
            let both_common =
                |name: &str| ov.common.iter().any(|m| m.name == name) && nv.common.iter().any(|m| m.name == name);
            let old_eff: Vec<&Member> = ov.common.iter().copied().chain(old_branch.iter().copied()).collect();
            let new_eff: Vec<&Member> = nv.common.iter().copied().chain(new_branch.iter().copied()).collect();
            for om in &old_eff {
                if both_common(&om.name) {
                    continue;
                }
                match new_eff.iter().find(|nm| nm.name == om.name) {
                    Some(nm) => self.member_pair(key, om, nm, &hop, variant_allowed, out),
                    None => out.findings.push(member_removed(key.dir, old, om, &sites)),
                }
            }
            for nm in &new_eff {
                if !both_common(&nm.name) && !old_eff.iter().any(|om| om.name == nm.name) {
                    out.findings.push(member_added(key.dir, new, nm, &sites));
                }
            }
        }
    }

    fn member_pair(
        &mut self,
        key: Key,
        om: &Member,
        nm: &Member,
        owner: &str,
        allowed: Option<&'static str>,
        out: &mut Out,
    ) {
        let new = self.new;
        let subject = format!("{}.{}", display(new, nm.defined_in), nm.name);
        let allowed_by = special(&om.features);
        let f = |kind, severity, message: &str, why: &str| Finding {
            kind,
            severity,
            direction: Some(key.dir),
            subject: subject.clone(),
            message: message.to_owned(),
            why: why.to_owned(),
            old: om.span.clone(),
            new: nm.span.clone(),
            allowed_by,
        };
        match (key.dir, om.optional, nm.optional) {
            (Direction::Input, true, false) => out.findings.push(f(
                ChangeKind::MadeRequired,
                Severity::Breaking,
                "optional → required",
                "clients that leave it out are now rejected",
            )),
            (Direction::Input, false, true) => {
                out.findings.push(f(ChangeKind::MadeOptional, Severity::Compatible, "required → optional", ""));
            }
            (Direction::Output, false, true) => out.findings.push(f(
                ChangeKind::MadeOptional,
                Severity::Breaking,
                "required → optional",
                "clients that read it may rely on it being present, and it may now be absent",
            )),
            (Direction::Output, true, false) => {
                out.findings.push(f(ChangeKind::MadeRequired, Severity::Compatible, "optional → required", ""));
            }
            _ => {}
        }
        out.findings.extend(feature_changes(&subject, &om.features, &nm.features, om.span.as_ref(), nm.span.as_ref()));
        out.findings.extend(cond_change(&subject, om.cond.as_ref(), nm.cond.as_ref(), "member", &om.span, &nm.span));
        let to = self.node(om.ty, nm.ty, key.dir);
        out.edges.push(Edge {
            to,
            hop: format!("{owner}.{}", nm.name),
            allowed_by: allowed_by.or(allowed),
            old_site: om.span.clone(),
            new_site: nm.span.clone(),
        });
    }

    /// Walks from every root to every finding, recording up to
    /// [`MAX_PATHS`] paths per finding; then turns findings into changes.
    fn collect(&self, roots: &[Root]) -> Vec<Change> {
        // Only nodes that lead to a finding are worth walking into.
        let n = self.nodes.len();
        let mut below = vec![false; n];
        let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, node) in self.nodes.iter().enumerate() {
            for e in &node.edges {
                preds[e.to].push(i);
            }
        }
        let mut work: Vec<usize> = (0..n).filter(|&i| !self.nodes[i].findings.is_empty()).collect();
        for &i in &work {
            below[i] = true;
        }
        while let Some(i) = work.pop() {
            for &p in &preds[i] {
                if !below[p] {
                    below[p] = true;
                    work.push(p);
                }
            }
        }

        let mut records: Vec<Record> = Vec::new();
        let mut record_index: HashMap<(usize, usize, String), usize> = HashMap::new();

        // Root findings (commands and events as a whole).
        for root in roots {
            for f in &root.findings {
                let i = records.len();
                records.push(Record::new(f.clone()));
                records[i].add_path(root.label.clone(), root.allowed_by);
            }
        }

        const VISITS: u32 = 4;
        let mut on_path = vec![false; n];
        let mut visits: HashMap<(usize, bool), u32> = HashMap::new();
        for root in roots {
            let Some(start) = root.node else { continue };
            if !below[start] {
                continue;
            }
            visits.clear();
            let mut frames: Vec<Frame> = vec![Frame {
                node: start,
                parent: None,
                hop: "",
                allowed_by: root.allowed_by,
                old_site: root.old_site.as_ref(),
                new_site: root.new_site.as_ref(),
            }];
            let mut stack = vec![Step::Enter(0)];
            while let Some(step) = stack.pop() {
                let fi = match step {
                    Step::Exit(node) => {
                        on_path[node] = false;
                        continue;
                    }
                    Step::Enter(fi) => fi,
                };
                let (node, allowed_by) = (frames[fi].node, frames[fi].allowed_by);
                if on_path[node] {
                    continue;
                }
                let count = visits.entry((node, allowed_by.is_some())).or_insert(0);
                if *count >= VISITS {
                    continue;
                }
                *count += 1;
                let findings = &self.nodes[node].findings;
                if !findings.is_empty() {
                    let hops = path_hops(&frames, fi, &root.label);
                    for (k, f) in findings.iter().enumerate() {
                        let own = !f.subject.is_empty();
                        let site = if own {
                            String::new()
                        } else {
                            format!(
                                "{}|{}",
                                frames[fi].old_site.map(Span::location).unwrap_or_default(),
                                frames[fi].new_site.map(Span::location).unwrap_or_default()
                            )
                        };
                        let r = *record_index.entry((node, k, site)).or_insert_with(|| {
                            let mut f = f.clone();
                            if !own {
                                f.subject = hops.last().cloned().unwrap_or_else(|| root.label.clone());
                                f.old = frames[fi].old_site.cloned();
                                f.new = frames[fi].new_site.cloned();
                            }
                            records.push(Record::new(f));
                            records.len() - 1
                        });
                        let path = render_path(&hops, own.then_some(f.subject.as_str()));
                        records[r].add_path(path, allowed_by);
                    }
                }
                on_path[node] = true;
                stack.push(Step::Exit(node));
                for e in self.nodes[node].edges.iter().rev() {
                    if !below[e.to] || on_path[e.to] {
                        continue;
                    }
                    frames.push(Frame {
                        node: e.to,
                        parent: Some(fi),
                        hop: &e.hop,
                        allowed_by: allowed_by.or(e.allowed_by),
                        old_site: e.old_site.as_ref().or(frames[fi].old_site),
                        new_site: e.new_site.as_ref().or(frames[fi].new_site),
                    });
                    stack.push(Step::Enter(frames.len() - 1));
                }
            }
        }
        records.into_iter().map(Record::into_change).collect()
    }

    /// Documentation edits of commands, events and the types compared.
    fn doc_changes(&self) -> Vec<Change> {
        let (old, new) = (self.old, self.new);
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        let mut pairs: Vec<(EntityId, EntityId)> = self.nodes.iter().map(|n| (n.key.old, n.key.new)).collect();
        for oe in old.entities().filter(|e| !e.is_type()) {
            if let Some(ne) = new.lookup(&oe.name).filter(|n| n.meta() == oe.meta()) {
                pairs.push((oe.id, ne.id));
            }
        }
        for (o, n) in pairs {
            let (Some(oe), Some(ne)) = (old.get(o), new.get(n)) else { continue };
            if oe.is_builtin() || ne.is_builtin() || oe.is_implicit() || ne.is_implicit() || !seen.insert((o, n)) {
                continue;
            }
            let (Some(od), Some(nd)) = (&oe.doc, &ne.doc) else { continue };
            if !doc_equal(od, nd) {
                out.push(Change {
                    severity: Severity::Compatible,
                    allowed_by: None,
                    kind: ChangeKind::DocChanged,
                    direction: None,
                    subject: ne.name.clone(),
                    message: "documentation changed".to_owned(),
                    why: String::new(),
                    new: Some(nd.span.clone()),
                    old: Some(od.span.clone()),
                    paths: Vec::new(),
                    more_paths: 0,
                });
            }
        }
        out
    }

    /// New named types the walk paired with an old named type of another
    /// name: renamed, or replacing it on the wire.
    fn renamed(&self) -> HashMap<EntityId, EntityId> {
        let (old, new) = (self.old, self.new);
        let mut out = HashMap::new();
        for n in &self.nodes {
            let (Some(oe), Some(ne)) = (old.get(n.key.old), new.get(n.key.new)) else { continue };
            let user = |e: &Entity| !e.is_builtin() && !e.is_implicit();
            if user(oe) && user(ne) && oe.name != ne.name && same_meta(oe, ne) {
                out.entry(ne.id).or_insert(oe.id);
            }
        }
        out
    }
}

fn same_meta(a: &Entity, b: &Entity) -> bool {
    std::mem::discriminant(&a.kind) == std::mem::discriminant(&b.kind)
}

/// A tag value, its old and new branch types, and where the branches are.
type VariantPair<'s> = (&'s str, Option<EntityId>, Option<EntityId>, Option<Span>, Option<Span>);

#[derive(Default)]
struct Out {
    findings: Vec<Finding>,
    edges: Vec<Edge>,
}

/// Where the definitions holding the members being compared are.
struct Sites<'s> {
    owner: &'s str,
    old_owner: &'s Option<Span>,
    new_owner: &'s Option<Span>,
}

fn type_finding(kind: ChangeKind, severity: Severity, dir: Direction, message: String, why: &str) -> Finding {
    Finding {
        kind,
        severity,
        direction: Some(dir),
        subject: String::new(),
        message,
        why: why.to_owned(),
        old: None,
        new: None,
        allowed_by: None,
    }
}

fn member_removed(dir: Direction, old: &Schema, om: &Member, sites: &Sites<'_>) -> Finding {
    let subject = format!("{}.{}", sites.owner_for(old, om), om.name);
    let (severity, message, why) = match (dir, om.optional) {
        (Direction::Input, _) => (Severity::Breaking, "removed", "clients that send it are now rejected"),
        (Direction::Output, false) => (Severity::Breaking, "removed", "clients that read it find it missing"),
        (Direction::Output, true) => (
            Severity::Warning,
            "optional member removed",
            "clients had to cope with its absence, but lose what it reported",
        ),
    };
    Finding {
        kind: ChangeKind::MemberRemoved,
        severity,
        direction: Some(dir),
        subject,
        message: message.to_owned(),
        why: why.to_owned(),
        old: om.span.clone(),
        new: sites.new_owner.clone(),
        allowed_by: special(&om.features),
    }
}

fn member_added(dir: Direction, new: &Schema, nm: &Member, sites: &Sites<'_>) -> Finding {
    let required_input = dir == Direction::Input && !nm.optional;
    Finding {
        kind: ChangeKind::MemberAdded,
        severity: if required_input { Severity::Breaking } else { Severity::Compatible },
        direction: Some(dir),
        subject: format!("{}.{}", display(new, nm.defined_in), nm.name),
        message: if required_input {
            "added as required".to_owned()
        } else if nm.optional {
            "optional member added".to_owned()
        } else {
            "member added".to_owned()
        },
        why: if required_input { "clients that don't send it are now rejected".to_owned() } else { String::new() },
        old: sites.old_owner.clone(),
        new: nm.span.clone(),
        allowed_by: None,
    }
}

impl Sites<'_> {
    /// The name shown for the type that held a removed member: where the
    /// old schema defined it, unless that was implicit.
    fn owner_for(&self, old: &Schema, om: &Member) -> String {
        match old.get(om.defined_in) {
            Some(e) if !e.name.starts_with("q_") => e.name.clone(),
            _ => self.owner.to_owned(),
        }
    }
}

fn feature_changes(
    subject: &str,
    old: &[Feature],
    new: &[Feature],
    old_span: Option<&Span>,
    new_span: Option<&Span>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for f in old {
        if new.iter().any(|n| n.name == f.name) {
            continue;
        }
        let (severity, why) = if f.is_special() {
            (Severity::Compatible, String::new())
        } else {
            (Severity::Warning, "clients that look for it in introspection no longer find it".to_owned())
        };
        out.push(Finding {
            kind: ChangeKind::FeatureRemoved,
            severity,
            direction: None,
            subject: subject.to_owned(),
            message: format!("feature '{}' removed", f.name),
            why,
            old: f.span.clone().or_else(|| old_span.cloned()),
            new: new_span.cloned(),
            allowed_by: None,
        });
    }
    for f in new {
        if old.iter().any(|o| o.name == f.name) {
            continue;
        }
        out.push(Finding {
            kind: ChangeKind::FeatureAdded,
            severity: Severity::Compatible,
            direction: None,
            subject: subject.to_owned(),
            message: format!("feature '{}' added", f.name),
            why: String::new(),
            old: old_span.cloned(),
            new: f.span.clone().or_else(|| new_span.cloned()),
            allowed_by: None,
        });
    }
    out
}

fn cond_change(
    subject: &str,
    old: Option<&Cond>,
    new: Option<&Cond>,
    what: &str,
    old_span: &Option<Span>,
    new_span: &Option<Span>,
) -> Option<Finding> {
    if old == new {
        return None;
    }
    let text = |c: Option<&Cond>| c.map_or_else(|| "always".to_owned(), |c| format!("if {}", cond_text(c)));
    let (severity, why) = match new {
        Some(c) if !implies(old, c) => {
            (Severity::Warning, format!("builds where {} is false no longer have this {what}", cond_text(c)))
        }
        _ => (Severity::Compatible, String::new()),
    };
    Some(Finding {
        kind: ChangeKind::ConditionChanged,
        severity,
        direction: None,
        subject: subject.to_owned(),
        message: format!("condition: {} → {}", text(old), text(new)),
        why,
        old: old_span.clone(),
        new: new_span.clone(),
        allowed_by: None,
    })
}

/// Whether every build that has `old` (`None`: every build) has `new`;
/// conditions over more than 16 names are assumed not to.
fn implies(old: Option<&Cond>, new: &Cond) -> bool {
    fn names<'c>(c: &'c Cond, out: &mut Vec<&'c str>) {
        match c {
            Cond::Name(n) => {
                if !out.contains(&n.as_str()) {
                    out.push(n);
                }
            }
            Cond::Not(c) => names(c, out),
            Cond::All(v) | Cond::Any(v) => v.iter().for_each(|c| names(c, out)),
        }
    }
    fn eval(c: &Cond, vars: &[&str], bits: u32) -> bool {
        match c {
            Cond::Name(n) => vars.iter().position(|v| v == n).is_some_and(|i| bits & (1 << i) != 0),
            Cond::Not(c) => !eval(c, vars, bits),
            Cond::All(v) => v.iter().all(|c| eval(c, vars, bits)),
            Cond::Any(v) => v.iter().any(|c| eval(c, vars, bits)),
        }
    }
    let mut vars = Vec::new();
    if let Some(o) = old {
        names(o, &mut vars);
    }
    names(new, &mut vars);
    if vars.len() > 16 {
        return false;
    }
    (0..1u32 << vars.len()).all(|bits| !old.is_none_or(|o| eval(o, &vars, bits)) || eval(new, &vars, bits))
}

/// The new schema's file that corresponds to the old module `name`, as a
/// location at its start (for what was removed).
fn module_span(schema: &Schema, name: &str) -> Option<Span> {
    let modules = schema.modules();
    let module = modules.iter().find(|m| m.name == name).or_else(|| modules.iter().find(|m| !m.is_builtin()))?;
    module.items.iter().find_map(|item| {
        let span = match item {
            ModuleItem::Include { span, .. } => Some(span.clone()),
            ModuleItem::Entity(id) => schema.get(*id).and_then(|e| e.span.clone()),
        }?;
        Some(Span::new(&span.file, 0, 0))
    })
}

/// Whether two documentation blocks say the same, white space aside.
fn doc_equal(a: &Doc, b: &Doc) -> bool {
    let same = |x: &Section, y: &Section| x.kind == y.kind && x.text.split_whitespace().eq(y.text.split_whitespace());
    let same_map = |x: &indexmap::IndexMap<String, Section>, y: &indexmap::IndexMap<String, Section>| {
        x.len() == y.len() && x.iter().zip(y.iter()).all(|((xn, xs), (yn, ys))| xn == yn && same(xs, ys))
    };
    same(&a.body, &b.body)
        && same_map(&a.args, &b.args)
        && same_map(&a.features, &b.features)
        && a.sections.len() == b.sections.len()
        && a.sections.iter().zip(&b.sections).all(|(x, y)| same(x, y))
}

// ---------------------------------------------------------------------------
// Paths and records

struct Frame<'e> {
    node: usize,
    parent: Option<usize>,
    hop: &'e str,
    allowed_by: Option<&'static str>,
    old_site: Option<&'e Span>,
    new_site: Option<&'e Span>,
}

enum Step {
    Enter(usize),
    Exit(usize),
}

/// The root label and the non-empty hops from the root to frame `fi`.
fn path_hops(frames: &[Frame<'_>], fi: usize, root: &str) -> Vec<String> {
    let mut hops = Vec::new();
    let mut at = Some(fi);
    while let Some(i) = at {
        if !frames[i].hop.is_empty() {
            hops.push(frames[i].hop.to_owned());
        }
        at = frames[i].parent;
    }
    hops.push(root.to_owned());
    hops.reverse();
    hops
}

/// Joins path steps with ` → `, leaving out a step that the next one
/// repeats (`migrate → migrate.uri` is `migrate.uri`).
fn render_path(hops: &[String], subject: Option<&str>) -> String {
    let steps: Vec<&str> = hops.iter().map(String::as_str).chain(subject).collect();
    let mut out: Vec<&str> = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let repeated = steps.get(i + 1).is_some_and(|next| {
            next.strip_prefix(s)
                .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('(') || rest.starts_with(' '))
        });
        if !repeated {
            out.push(s);
        }
    }
    out.join(" → ")
}

struct Record {
    finding: Finding,
    severity: Severity,
    allowed_by: Option<&'static str>,
    paths: Vec<String>,
    more: usize,
}

impl Record {
    fn new(finding: Finding) -> Self {
        Record { severity: Severity::Compatible, allowed_by: None, finding, paths: Vec::new(), more: 0 }
    }

    fn add_path(&mut self, path: String, path_allowed: Option<&'static str>) {
        let base = self.finding.severity;
        let allowed = self.finding.allowed_by.or(path_allowed);
        let sev = match (base, allowed) {
            (Severity::Breaking | Severity::Warning, Some(_)) => Severity::Allowed,
            _ => base,
        };
        if sev == Severity::Allowed && self.severity <= Severity::Allowed {
            self.allowed_by = self.allowed_by.or(allowed);
        }
        self.severity = self.severity.max(sev);
        if self.paths.contains(&path) {
            return;
        }
        if self.paths.len() < MAX_PATHS {
            self.paths.push(path);
        } else {
            self.more += 1;
        }
    }

    fn into_change(self) -> Change {
        let f = self.finding;
        Change {
            severity: self.severity,
            allowed_by: if self.severity == Severity::Allowed { self.allowed_by } else { None },
            kind: f.kind,
            direction: f.direction,
            subject: f.subject,
            message: f.message,
            why: f.why,
            new: f.new,
            old: f.old,
            paths: self.paths,
            more_paths: self.more,
        }
    }
}

/// Merges changes that are the same change reached from different nodes
/// (a base type shared by several structs), then sorts them.
fn merge(changes: Vec<Change>) -> Vec<Change> {
    let mut out: Vec<Change> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for c in changes {
        let key = format!(
            "{}\u{1}{:?}\u{1}{}\u{1}{}\u{1}{}\u{1}{}",
            c.kind.as_str(),
            c.direction,
            c.subject,
            c.message,
            c.old.as_ref().map(Span::location).unwrap_or_default(),
            c.new.as_ref().map(Span::location).unwrap_or_default()
        );
        match index.get(&key) {
            Some(&i) => {
                let m = &mut out[i];
                if c.severity > m.severity {
                    m.severity = c.severity;
                    m.allowed_by = c.allowed_by;
                }
                for p in c.paths {
                    if m.paths.contains(&p) {
                        continue;
                    }
                    if m.paths.len() < MAX_PATHS {
                        m.paths.push(p);
                    } else {
                        m.more_paths += 1;
                    }
                }
                m.more_paths += c.more_paths;
            }
            None => {
                index.insert(key, out.len());
                out.push(c);
            }
        }
    }
    let pos = |s: &Option<Span>| s.as_ref().map(|s| (s.file.name.clone(), s.start));
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| pos(&a.new).cmp(&pos(&b.new)))
            .then_with(|| pos(&a.old).cmp(&pos(&b.old)))
            .then_with(|| a.subject.cmp(&b.subject))
    });
    out
}

// ---------------------------------------------------------------------------
// Wire equality (for "renamed?" hints)

/// Whether two types have the same wire shape, recursively; a pair met
/// again while comparing counts as equal (the types are recursive).
fn wire_equal(old: &Schema, new: &Schema, o: EntityId, n: EntityId) -> bool {
    let mut seen = HashSet::new();
    let mut work = vec![(o, n)];
    while let Some((o, n)) = work.pop() {
        if !seen.insert((o, n)) {
            continue;
        }
        let (Some(oe), Some(ne)) = (old.get(o), new.get(n)) else { return false };
        match (&oe.kind, &ne.kind) {
            (EntityKind::Builtin(a), EntityKind::Builtin(b)) => {
                if a != b && (int_range(*a).is_none() || int_range(*a) != int_range(*b)) {
                    return false;
                }
            }
            (EntityKind::Enum(a), EntityKind::Enum(b)) => {
                if a.values.len() != b.values.len() || a.values.iter().any(|v| b.value(&v.name).is_none()) {
                    return false;
                }
            }
            (EntityKind::Array(a), EntityKind::Array(b)) => work.push((a.element, b.element)),
            (EntityKind::Alternate(a), EntityKind::Alternate(b)) => {
                if a.branches.len() != b.branches.len() {
                    return false;
                }
                for ab in &a.branches {
                    let wire = class(old, ab.ty).wire();
                    match b.branches.iter().find(|bb| class(new, bb.ty).wire() == wire) {
                        Some(bb) => work.push((ab.ty, bb.ty)),
                        None => return false,
                    }
                }
            }
            (EntityKind::Object(a), EntityKind::Object(b)) => {
                let (va, vb) = (view(old, a), view(new, b));
                let same_members = |x: &[&Member], y: &[&Member], work: &mut Vec<(EntityId, EntityId)>| {
                    x.len() == y.len()
                        && x.iter().all(|m| match y.iter().find(|n| n.name == m.name) {
                            Some(n) if n.optional == m.optional => {
                                work.push((m.ty, n.ty));
                                true
                            }
                            _ => false,
                        })
                };
                if !same_members(&va.common, &vb.common, &mut work)
                    || va.tag.map(|t| &t.name) != vb.tag.map(|t| &t.name)
                    || va.variants.len() != vb.variants.len()
                {
                    return false;
                }
                for (name, ot, _) in &va.variants {
                    match vb.variants.iter().find(|(n, _, _)| n == name) {
                        Some((_, nt, _)) => work.push((*ot, *nt)),
                        None => return false,
                    }
                }
            }
            _ => return false,
        }
    }
    true
}

// ---------------------------------------------------------------------------
// The Since lint of what is new

/// What the versions of new things must be.
enum Expect<'v> {
    Exactly(&'v Version),
    After(Option<Version>),
}

impl Expect<'_> {
    fn text(&self) -> String {
        match self {
            Expect::Exactly(v) => v.to_string(),
            Expect::After(Some(v)) => format!(">= {v}"),
            Expect::After(None) => "a version".to_owned(),
        }
    }

    /// What is wrong with `found` (the text after `Since:` or in the note).
    fn problem(&self, found: Option<&str>, what: &str) -> Option<(String, Option<String>)> {
        let Some(text) = found else {
            return Some((
                format!(
                    "new {what}, but no {}",
                    if what.starts_with("definition") { "'Since:'" } else { "'(Since X.Y)' note" }
                ),
                None,
            ));
        };
        let Some(v) = Version::leading(text) else {
            return Some((format!("'{text}' names no version"), Some(text.to_owned())));
        };
        let msg = match self {
            Expect::Exactly(cur) if v < **cur => format!("new {what}, but says since {v}, an older release than {cur}"),
            Expect::Exactly(cur) if v > **cur => format!("new {what}, but says since {v}, a later release than {cur}"),
            Expect::After(Some(last)) if v < *last => {
                format!("new {what}, but says since {v}, older than {last}, which the old schema already names")
            }
            _ => return None,
        };
        Some((msg, Some(v.to_string())))
    }
}

/// The newest version any `Since:` or note of the schema names.
fn newest_version(schema: &Schema) -> Option<Version> {
    let mut max: Option<Version> = None;
    for d in schema.docs() {
        let notes = d.args.values().chain(d.features.values()).filter_map(note_version);
        for v in d.since().into_iter().chain(notes).filter_map(Version::leading) {
            if max.as_ref().is_none_or(|m| v > *m) {
                max = Some(v);
            }
        }
    }
    max
}

fn since_compat(
    old: &Schema,
    new: &Schema,
    renamed: &HashMap<EntityId, EntityId>,
    current: Option<&Version>,
) -> Vec<SinceProblem> {
    let expect = match current {
        Some(v) => Expect::Exactly(v),
        None => Expect::After(newest_version(old)),
    };
    let mut out = Vec::new();
    let mut done: HashSet<String> = HashSet::new();
    // A type paired with an old one of another name continues it (renamed)
    // when its `Since:` says it is older; otherwise it is new.
    let claims_older = |ne: &Entity| -> bool {
        let Some(v) = ne.doc.as_ref().and_then(|d| d.since()).and_then(Version::leading) else { return false };
        match &expect {
            Expect::Exactly(cur) => v < **cur,
            Expect::After(Some(last)) => v < *last,
            Expect::After(None) => true,
        }
    };
    let counterpart = |ne: &Entity| -> Option<&Entity> {
        match old.lookup(&ne.name) {
            Some(oe) if same_meta(oe, ne) => Some(oe),
            _ => renamed.get(&ne.id).filter(|_| claims_older(ne)).and_then(|&o| old.get(o)),
        }
    };
    // Whether the entity that defines a new member is itself new (its
    // `Since:` then covers the member).
    let is_new_def = |id: EntityId| -> bool {
        let Some(e) = new.get(id) else { return false };
        match implicit_owner(&e.name) {
            Some(owner) if e.name.starts_with("q_obj_") => old.lookup(owner).is_none(),
            _ => !e.is_builtin() && counterpart(e).is_none(),
        }
    };
    let mut push =
        |out: &mut Vec<SinceProblem>, subject: String, found: Option<&str>, what: &str, span: Option<Span>| {
            let key = format!("{subject}\u{1}{}", span.as_ref().map(Span::location).unwrap_or_default());
            if !done.insert(key) {
                return;
            }
            if let Some((message, found)) = expect.problem(found, what) {
                out.push(SinceProblem {
                    subject,
                    message,
                    found,
                    expected: expect.text(),
                    span,
                    severity: crate::Severity::Error,
                });
            }
        };
    for ne in new.entities() {
        if ne.is_builtin() || ne.is_implicit() {
            continue;
        }
        let Some(oe) = counterpart(ne) else {
            let span = ne
                .doc
                .as_ref()
                .and_then(|d| d.sections.iter().find(|s| s.kind == SectionKind::Since).map(|s| s.span.clone()));
            let found = ne.doc.as_ref().and_then(|d| d.since());
            if let (None, Some((v, at))) = (found, ne.doc.as_deref().and_then(since_without_colon)) {
                out.push(SinceProblem {
                    subject: ne.name.clone(),
                    message: colonless_message(v),
                    found: Some(v.to_owned()),
                    expected: expect.text(),
                    span: Some(at),
                    severity: crate::Severity::Error,
                });
                continue;
            }
            push(
                &mut out,
                ne.name.clone(),
                found,
                &format!("definition ({})", ne.meta()),
                span.or_else(|| ne.span.clone()),
            );
            continue;
        };
        // Members, values and branches new to the definition.
        let mut new_members: Vec<&Member> = Vec::new();
        let mut old_features: HashSet<&str> = oe.features.iter().map(|f| f.name.as_str()).collect();
        let mut new_features: Vec<&Feature> = ne.features.iter().collect();
        match (&oe.kind, &ne.kind) {
            (EntityKind::Object(oo), EntityKind::Object(no)) => {
                let old_names: HashSet<&str> = oo.all_members(old).map(|m| m.name.as_str()).collect();
                for m in oo.all_members(old) {
                    old_features.extend(m.features.iter().map(|f| f.name.as_str()));
                }
                for m in no.all_members(new) {
                    new_features.extend(m.features.iter());
                    if !old_names.contains(m.name.as_str()) {
                        new_members.push(m);
                    }
                }
            }
            (EntityKind::Command(_), EntityKind::Command(_)) | (EntityKind::Event(_), EntityKind::Event(_)) => {
                let args = |e: &Entity| match &e.kind {
                    EntityKind::Command(c) => c.arg_type,
                    EntityKind::Event(ev) => ev.arg_type,
                    _ => None,
                };
                let implicit = |s: &Schema, id: Option<EntityId>| {
                    id.and_then(|i| s.get(i)).is_some_and(|e| e.name.starts_with("q_obj_"))
                };
                let (oa, na) = (args(oe), args(ne));
                let old_members = oa.map(|i| members_of(old, i)).unwrap_or_default();
                for m in &old_members {
                    old_features.extend(m.features.iter().map(|f| f.name.as_str()));
                }
                if implicit(new, na) {
                    for m in na.map(|i| members_of(new, i)).unwrap_or_default() {
                        new_features.extend(m.features.iter());
                        if !old_members.iter().any(|o| o.name == m.name) {
                            new_members.push(m);
                        }
                    }
                }
            }
            (EntityKind::Enum(ov), EntityKind::Enum(nv)) => {
                for v in &ov.values {
                    old_features.extend(v.features.iter().map(|f| f.name.as_str()));
                }
                for v in &nv.values {
                    new_features.extend(v.features.iter());
                    if ov.value(&v.name).is_none() {
                        let found = v.doc().and_then(note_version);
                        push(&mut out, format!("{} '{}'", ne.name, v.name), found, "enum value", v.span.clone());
                    }
                }
            }
            (EntityKind::Alternate(oa), EntityKind::Alternate(na)) => {
                for b in &na.branches {
                    if !oa.branches.iter().any(|o| o.name == b.name) {
                        let found = b.doc().and_then(note_version);
                        push(&mut out, format!("{}.{}", ne.name, b.name), found, "branch", b.span.clone());
                    }
                }
            }
            _ => {}
        }
        for m in new_members {
            if is_new_def(m.defined_in) && m.defined_in != ne.id {
                continue;
            }
            let found = m.doc().and_then(note_version);
            let owner = display(new, m.defined_in);
            push(&mut out, format!("{owner}.{}", m.name), found, "member", m.span.clone());
        }
        let mut seen_features = HashSet::new();
        for f in new_features {
            if old_features.contains(f.name.as_str()) || !seen_features.insert(f.name.as_str()) {
                continue;
            }
            let found = f.doc().and_then(note_version);
            push(&mut out, format!("{} feature '{}'", ne.name, f.name), found, "feature", f.span.clone());
        }
    }
    let pos = |s: &Option<Span>| s.as_ref().map(|s| (s.file.name.clone(), s.start));
    out.sort_by(|a, b| pos(&a.span).cmp(&pos(&b.span)).then_with(|| a.subject.cmp(&b.subject)));
    out
}
