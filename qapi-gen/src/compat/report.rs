//! What a comparison found, and its text form.

use super::version::Version;
use crate::diag::Diagnostic;
use crate::source::Span;
use std::fmt::Write as _;

/// How much a change matters, least first.
///
/// ```
/// use qapi_gen::compat::Severity;
/// assert!(Severity::Breaking > Severity::Warning);
/// assert_eq!(Severity::Allowed.as_str(), "allowed");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
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
    /// the one-schema lint ([`since_lint`](super::since_lint)) reports a missing `Since:` as
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

/// What [`compare`](super::compare) found.
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

/// What [`compare`](super::compare) should check besides compatibility.
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
}
