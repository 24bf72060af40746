//! Clients for a range of QEMU versions: the schema generated from, and
//! older versions whose replies the client also reads
//! ([`Options::also_reads`](super::Options::also_reads)).
//!
//! Each older version is compared with the schema by the compatibility
//! engine ([`compat::compare`]), the schema as "old" and the older version
//! as "new": what the engine reports as breaking a client of the schema is
//! what a client built from it meets in an older server's replies. Types
//! are matched through the commands and events that reach them, so a type
//! renamed between versions still matches. From the report:
//!
//! - a member the client reads that is required in the schema but absent
//!   or optional in an older version becomes an `Option` (decided in
//!   [`Cx::presence`](super::Cx) with the conditions), documented "Absent
//!   before QEMU 10.1." (the member's own `(since X.Y)` where the docs give
//!   it) or "Absent in QEMU 10.0.";
//! - an argument an older version does not know, and a command or event it
//!   does not have, is documented; nothing else changes;
//! - a change of type that generated code cannot absorb (`int` in one
//!   version, `str` in another; a discriminator changed) is a
//!   [`VersionConflict`]: the code follows the schema, and the
//!   [`Builder`](crate::Builder) and the command line warn. An enum that an
//!   older version has as `str` needs nothing: a client keeps values it
//!   does not know.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::compat::{self, Change, ChangeKind, Direction, Version};
use crate::model::{Builtin, EntityId, EntityKind, Member, Schema};
use crate::source::Span;

/// An older version of the schema whose replies a client also reads.
///
/// ```
/// use std::sync::Arc;
/// use qapi_gen::gen::rust::{generate, OlderSchema, Options};
///
/// let old = "{ 'struct': 'Info', 'data': { 'a': 'int' } }
///            { 'command': 'query-info', 'returns': 'Info' }";
/// let new = "##\n# @Info:\n#\n# @a: A.\n#\n# @b: B.  (Since 10.1)\n##\n\
///            { 'struct': 'Info', 'data': { 'a': 'int', 'b': 'int' } }
///            { 'command': 'query-info', 'returns': 'Info' }";
/// let old = qapi_gen::Frontend::new().check_str("old.json", old).schema;
/// let new = qapi_gen::Frontend::new().check_str("new.json", new).schema;
/// let opts = Options { also_reads: vec![OlderSchema::new("10.0", old)], ..Options::default() };
/// let code = generate(&new, &opts)?;
/// assert!(code.contains("pub b: ::core::option::Option<i64>,"));
/// assert!(code.contains("/// Absent before QEMU 10.1."));
/// # Ok::<(), qapi_gen::gen::rust::GenError>(())
/// ```
#[derive(Debug, Clone)]
pub struct OlderSchema {
    /// How docs and warnings name the version: `10.0` gives "Absent in
    /// QEMU 10.0". A release number (`X.Y`) also lets docs say "before".
    pub version: String,
    /// Its model.
    pub schema: Arc<Schema>,
}

impl OlderSchema {
    /// Version `version` of the schema, `schema`.
    pub fn new(version: impl Into<String>, schema: impl Into<Arc<Schema>>) -> Self {
        OlderSchema { version: version.into(), schema: schema.into() }
    }
}

/// A difference between the schema and older versions that the generated
/// code cannot absorb; the code follows the schema.
///
/// ```
/// use qapi_gen::compat::Direction;
/// use qapi_gen::gen::rust::VersionConflict;
///
/// let c = VersionConflict {
///     versions: vec!["9.2".into(), "10.0".into()],
///     direction: Direction::Output,
///     subject: "Info.level".into(),
///     ours: "int".into(),
///     theirs: "str".into(),
///     path: "query-info → Details.level".into(),
/// };
/// assert_eq!(
///     c.to_string(),
///     "Info.level is int, but str in QEMU 9.2 and 10.0 (query-info → Details.level); replies are read as int"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionConflict {
    /// The [`OlderSchema::version`]s that differ so.
    pub versions: Vec<String>,
    /// Whether the client reads the values ([`Direction::Output`]) or
    /// sends them.
    pub direction: Direction,
    /// What differs, as the schema names it: `Info.level`.
    pub subject: String,
    /// The schema's side: `int`.
    pub ours: String,
    /// The older versions' side: `str`.
    pub theirs: String,
    /// A command or event path to it, as the older version names things:
    /// `query-info → Details.level`.
    pub path: String,
}

impl fmt::Display for VersionConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let versions: Vec<&str> = self.versions.iter().map(String::as_str).collect();
        let what = match self.direction {
            Direction::Output => "replies are read",
            Direction::Input => "arguments are sent",
        };
        write!(
            f,
            "{} is {}, but {} in QEMU {} ({}); {what} as {}",
            self.subject,
            self.ours,
            self.theirs,
            and_list(&versions),
            self.path,
            self.ours
        )
    }
}

/// The changes between `schema` and the older versions in `older` that
/// generated code cannot absorb, for a warning: what
/// [`generate`](super::generate) with [`Options::also_reads`](super::Options::also_reads)
/// leaves as `schema` has it.
pub fn version_conflicts(schema: &Schema, older: &[OlderSchema]) -> Vec<VersionConflict> {
    Versions::new(schema, older).conflicts
}

/// How a member of the schema differs in an older version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Gap {
    /// Required here, absent there (in what the client reads).
    Absent,
    /// Required here, optional there (in what the client reads).
    Optional,
    /// An argument there is no such member for.
    Unknown,
}

/// What the older versions change in the generated code.
#[derive(Debug, Default)]
pub(super) struct Versions {
    /// Members by (defining type, name): how each older version differs.
    members: HashMap<(EntityId, String), Vec<(Gap, String)>>,
    /// Commands and events: the older versions without them.
    absent: HashMap<EntityId, Vec<String>>,
    conflicts: Vec<VersionConflict>,
}

/// Members of a schema by where they are written.
type ByPlace<'s> = HashMap<(PathBuf, usize), &'s Member>;

fn members_by_place(schema: &Schema) -> ByPlace<'_> {
    let mut out = HashMap::new();
    for obj in schema.entities().filter_map(|e| e.as_object()) {
        for m in &obj.local_members {
            if let Some(s) = &m.span {
                out.insert((s.file.path.clone(), s.start), m);
            }
        }
    }
    out
}

/// The member written at `span`.
fn at<'s>(by: &ByPlace<'s>, span: &Option<Span>) -> Option<&'s Member> {
    span.as_ref().and_then(|s| by.get(&(s.file.path.clone(), s.start)).copied())
}

impl Versions {
    pub(super) fn new(schema: &Schema, older: &[OlderSchema]) -> Self {
        let mut out = Versions::default();
        if older.is_empty() {
            return out;
        }
        let ours = members_by_place(schema);
        for o in older {
            let theirs = members_by_place(&o.schema);
            let report = compat::compare(schema, &o.schema, &compat::Options::default());
            for c in &report.changes {
                out.add(schema, (&ours, &theirs), o, c);
            }
        }
        out
    }

    /// Takes in one change between the schema ("old") and version `o`.
    fn add(&mut self, schema: &Schema, (ours, theirs): (&ByPlace<'_>, &ByPlace<'_>), o: &OlderSchema, c: &Change) {
        let gap = match (c.kind, c.direction) {
            (ChangeKind::MemberRemoved, Some(Direction::Output)) => Gap::Absent,
            (ChangeKind::MadeOptional, Some(Direction::Output)) => Gap::Optional,
            (ChangeKind::MemberRemoved, Some(Direction::Input)) => Gap::Unknown,
            (ChangeKind::CommandRemoved | ChangeKind::EventRemoved, _) => {
                if let Some(e) = schema.lookup(&c.subject) {
                    self.absent.entry(e.id).or_default().push(o.version.clone());
                }
                return;
            }
            (ChangeKind::TypeWidened, Some(Direction::Output))
            | (ChangeKind::TypeNarrowed, Some(Direction::Input))
            | (ChangeKind::DiscriminatorChanged, _) => {
                let (our, their) = (at(ours, &c.old), at(theirs, &c.new));
                let absorbed = c.kind == ChangeKind::TypeWidened
                    && our.is_some_and(|m| is_enum(schema, m.ty))
                    && their.is_some_and(|m| is_str(&o.schema, m.ty));
                if !absorbed && c.severity != compat::Severity::Compatible {
                    let subject = match our {
                        Some(m) => format!("{}.{}", owner_name(schema, m), m.name),
                        None => c.subject.clone(),
                    };
                    self.conflict(subject, o, c);
                }
                return;
            }
            _ => return,
        };
        let Some(m) = at(ours, &c.old) else { return };
        if gap != Gap::Unknown && m.optional {
            return;
        }
        let gaps = self.members.entry((m.defined_in, m.name.clone())).or_default();
        if !gaps.iter().any(|(g, v)| *g == gap && *v == o.version) {
            gaps.push((gap, o.version.clone()));
        }
    }

    /// Records a type change, merged with the same change in another
    /// version.
    fn conflict(&mut self, subject: String, o: &OlderSchema, c: &Change) {
        let (ours, theirs) = sides(&c.message);
        let direction = c.direction.unwrap_or(Direction::Output);
        let same = |k: &&mut VersionConflict| {
            k.subject == subject && k.direction == direction && k.ours == ours && k.theirs == theirs
        };
        match self.conflicts.iter_mut().find(same) {
            Some(k) => k.versions.push(o.version.clone()),
            None => self.conflicts.push(VersionConflict {
                versions: vec![o.version.clone()],
                direction,
                subject,
                ours,
                theirs,
                path: c.paths.first().cloned().unwrap_or_else(|| c.subject.clone()),
            }),
        }
    }

    /// How older versions differ in member `m`.
    pub(super) fn member(&self, m: &Member) -> &[(Gap, String)] {
        self.members.get(&(m.defined_in, m.name.clone())).map_or(&[], Vec::as_slice)
    }

    /// The older versions without command or event `id`.
    pub(super) fn absent(&self, id: EntityId) -> &[String] {
        self.absent.get(&id).map_or(&[], Vec::as_slice)
    }
}

/// The name of the type defining member `m`, or for an implicit type the
/// command or event it belongs to (`q_obj_set-info-arg` → `set-info`).
fn owner_name(schema: &Schema, m: &Member) -> String {
    let name = &schema[m.defined_in].name;
    match name.strip_prefix("q_obj_") {
        Some(rest) => rest.strip_suffix("-arg").or_else(|| rest.strip_suffix("-base")).unwrap_or(rest).to_owned(),
        None => name.clone(),
    }
}

/// The two sides of a compatibility message, the schema's first: `int →
/// str` in `may now be a string (int → str)`, or `'a' → 'b'` in
/// `discriminator 'a' → 'b'`; the whole message and nothing when it has
/// no arrow.
fn sides(message: &str) -> (String, String) {
    let inner = message
        .strip_suffix(')')
        .and_then(|m| m.rfind('(').map(|i| &m[i + 1..]))
        .filter(|m| m.contains(" → "))
        .unwrap_or(message);
    let inner = inner.strip_prefix("discriminator ").unwrap_or(inner);
    match inner.split_once(" → ") {
        Some((a, b)) => (a.to_owned(), b.to_owned()),
        None => (message.to_owned(), "different".to_owned()),
    }
}

/// Type `id` is an enum, or an array of one.
fn is_enum(schema: &Schema, id: EntityId) -> bool {
    match &schema[id].kind {
        EntityKind::Enum(_) => true,
        EntityKind::Array(a) => is_enum(schema, a.element),
        _ => false,
    }
}

/// Type `id` is `str`, or an array of it.
fn is_str(schema: &Schema, id: EntityId) -> bool {
    match &schema[id].kind {
        EntityKind::Builtin(Builtin::Str) => true,
        EntityKind::Array(a) => is_str(schema, a.element),
        _ => false,
    }
}

/// A doc line for something the `versions` lack: "Absent before QEMU
/// `since`." when `since` is a release after all of them, "Absent in QEMU
/// 9.2 and 10.0." otherwise.
pub(super) fn absent_line(versions: &[&str], since: Option<&str>) -> String {
    let since_version = since.and_then(Version::leading);
    let before =
        since_version.as_ref().is_some_and(|s| versions.iter().all(|v| v.parse::<Version>().is_ok_and(|v| v < *s)));
    match (before, since_version) {
        (true, Some(s)) => format!("Absent before QEMU {s}."),
        _ => format!("Absent in QEMU {}.", and_list(versions)),
    }
}

/// Versions, oldest first (those that are no release number last, as
/// given): `9.2 and 10.0`, `9.2, 10.0 and 10.1`.
pub(super) fn and_list(versions: &[&str]) -> String {
    let mut v = versions.to_vec();
    v.sort_by(|a, b| match (a.parse::<Version>(), b.parse::<Version>()) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
        (Err(_), Err(_)) => std::cmp::Ordering::Equal,
    });
    match v.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absence_is_dated_by_the_since_note_where_it_can_be() {
        assert_eq!(absent_line(&["10.0"], Some("10.1")), "Absent before QEMU 10.1.");
        assert_eq!(absent_line(&["9.2", "10.0"], Some("10.1")), "Absent before QEMU 10.1.");
        assert_eq!(absent_line(&["10.0"], None), "Absent in QEMU 10.0.");
        // Present in 2.0, removed, back in 10.1: "before" would be wrong.
        assert_eq!(absent_line(&["10.0", "9.2"], Some("2.0")), "Absent in QEMU 9.2 and 10.0.");
        assert_eq!(absent_line(&["old"], Some("10.1")), "Absent in QEMU old.");
        assert_eq!(and_list(&["10.1", "old", "9.2", "10.0"]), "9.2, 10.0, 10.1 and old");
    }

    #[test]
    fn conflicts_name_both_sides() {
        let s = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        assert_eq!(sides("may now be a string (int → str)"), s("int", "str"));
        assert_eq!(sides("int32 → int"), s("int32", "int"));
        assert_eq!(sides("discriminator 'a' → 'b'"), s("'a'", "'b'"));
        assert_eq!(sides("no longer accepts a number (int)"), s("no longer accepts a number (int)", "different"));
    }
}
