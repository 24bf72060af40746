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

mod classes;
mod compare;
mod engine;
mod finding;
mod json;
mod paths;
mod report;
mod since;
mod version;

pub use report::{Change, ChangeKind, Direction, Options, Report, Severity, SinceProblem, MAX_PATHS};
pub use since::since_lint;
pub use version::Version;

use self::engine::Engine;
use self::paths::merge;
use self::since::since_compat;
use crate::model::Schema;

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
