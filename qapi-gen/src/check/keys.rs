//! The keys of an object: those it must have and those it may have.

use super::{Fail, Res, Source};
use crate::source::Span;
use crate::syntax::Object;

/// `'a', 'b'`: keys sorted, quoted, comma-separated.
fn pprint<'a>(keys: impl Iterator<Item = &'a str>) -> String {
    let mut keys: Vec<&str> = keys.collect();
    keys.sort_unstable();
    keys.iter().map(|k| format!("'{k}'")).collect::<Vec<_>>().join(", ")
}

/// Checks that `obj` has every key of `required` and no key outside
/// `required` and `optional`. `at` is the object, for the diagnostic.
pub(crate) fn check_keys(obj: &Object, source: Source<'_>, required: &[&str], optional: &[&str], at: &Span) -> Res<()> {
    let missing = || required.iter().copied().filter(|k| !obj.members.contains_key(*k));
    if missing().next().is_some() {
        let n = missing().count();
        return Err(Fail::at(at, format!("{source} misses key{} {}", if n > 1 { "s" } else { "" }, pprint(missing()))));
    }
    let allowed = |k: &str| required.contains(&k) || optional.contains(&k);
    let unknown = || obj.keys().filter(|k| !allowed(k));
    if let Some(first) = unknown().next() {
        let n = unknown().count();
        let at = obj.key_span(first).unwrap_or(at);
        return Err(Fail::at(
            at,
            format!(
                "{source} has unknown key{} {}\nValid keys are {}.",
                if n > 1 { "s" } else { "" },
                pprint(unknown()),
                pprint(required.iter().chain(optional).copied())
            ),
        ));
    }
    Ok(())
}
