//! Whether a member the schema requires may be missing from what a client
//! reads, and what the docs say about conditions.
//!
//! A client with every condition taken to hold ([`CondPolicy::AllTrue`],
//! the default) talks to a QEMU whose build it does not know: a member
//! under an `if` (its own, or its type's) is there only in builds where
//! the condition holds. Where the client reads the member (a type reached
//! from a return value or event data, or from nothing at all), a required
//! one is generated as `Option`; where it only writes it (command
//! arguments), it stays required: a server without it rejects the command
//! whatever the client does. Server mode, [`CondPolicy::Defined`] and
//! [`CondPolicy::Cfg`] know the build and keep the schema's optionality.
//! Enum values and union branches need nothing of the kind: a client
//! keeps values and branches it does not know, and one the server lacks is
//! never sent.

use super::versions::{absent_line, and_list, Gap};
use super::{CondPolicy, Cx, Mode};
use crate::model::{Cond, EntityId, EntityKind, Member, Schema};

/// What is known of a member's presence beyond the schema's `*`.
#[derive(Debug, Default)]
pub(super) struct Presence {
    /// Required by the schema, but the client may not find it.
    pub tolerated: bool,
    /// Doc lines saying when it is there.
    pub notes: Vec<String>,
}

/// For each entity, whether a client reads values of it: reached from a
/// command's return value or an event's data, or not from any command's
/// arguments either (a type no command or event uses may come from
/// anywhere). Indexed by [`EntityId::index`].
pub(super) fn read_types(schema: &Schema) -> Vec<bool> {
    let (mut input, mut output) = (Vec::new(), Vec::new());
    for e in schema.entities() {
        match &e.kind {
            EntityKind::Command(c) => {
                input.extend(c.arg_type);
                output.extend(c.ret_type);
            }
            EntityKind::Event(ev) => output.extend(ev.arg_type),
            _ => {}
        }
    }
    let (written, read) = (schema.reach(input), schema.reach(output));
    read.iter().zip(&written).map(|(&r, &w)| r || !w).collect()
}

impl Cx<'_> {
    /// Whether conditions describe a build this code does not know: a
    /// client with every condition taken to hold.
    fn unknown_build(&self) -> bool {
        self.opts.mode == Mode::Client && self.opts.cond == CondPolicy::AllTrue
    }

    /// Whether a client reads values of object type `id`.
    pub(super) fn reads(&self, id: EntityId) -> bool {
        self.read_types.get(id.index()).copied().unwrap_or(true)
    }

    /// The presence of member `m` of object type `container` (the type
    /// generated, into which base members are inlined). A member whose
    /// condition follows from the container's is there whenever the
    /// container is.
    pub(super) fn presence(&self, container: EntityId, m: &Member) -> Presence {
        let mut p = Presence::default();
        let read = self.reads(container);
        if let Some(cond) = self.extra_cond(&[m.cond.as_ref(), self.type_cond(m.ty)], self.type_cond(container)) {
            if read {
                p.tolerated = !m.optional;
                p.notes.push(format!("Present only when QEMU was built {}.", built(&cond)));
            } else {
                p.notes.push(format!("Known only to QEMU built {}.", built(&cond)));
            }
        }
        self.version_presence(m, read, &mut p);
        p
    }

    /// What the older versions a client also reads do to the presence
    /// of member `m` (of a type the client reads, when `read`).
    fn version_presence(&self, m: &Member, read: bool, p: &mut Presence) {
        let gaps = self.versions.member(m);
        let of = |gap: Gap| gaps.iter().filter(|(g, _)| *g == gap).map(|(_, v)| v.as_str()).collect::<Vec<_>>();
        let (absent, optional, unknown) = (of(Gap::Absent), of(Gap::Optional), of(Gap::Unknown));
        if read && !absent.is_empty() {
            p.tolerated |= !m.optional;
            p.notes.push(absent_line(&absent, m.doc().and_then(|d| d.since_note())));
        }
        if read && !optional.is_empty() {
            p.tolerated |= !m.optional;
            p.notes.push(format!("Optional in QEMU {}.", and_list(&optional)));
        }
        if !unknown.is_empty() {
            p.notes.push(format!("Unknown to QEMU {} (rejected there).", and_list(&unknown)));
        }
    }

    /// A doc line saying under which condition a definition, enum value
    /// or branch exists (`conds` all hold) beyond the condition of what
    /// holds it (`within`), for a client that does not know the build.
    pub(super) fn cond_note(&self, conds: &[Option<&Cond>], within: Option<&Cond>) -> Option<String> {
        self.extra_cond(conds, within).map(|c| format!("Only in QEMU built {}.", built(&c)))
    }

    /// For a client that does not know the build: the condition `conds`
    /// make together, unless it follows from `within`.
    fn extra_cond(&self, conds: &[Option<&Cond>], within: Option<&Cond>) -> Option<Cond> {
        if !self.unknown_build() {
            return None;
        }
        joined(conds).filter(|c| !c.implied_by(within))
    }
}

/// The conditions that all hold, as one: `None` when there is none.
fn joined(conds: &[Option<&Cond>]) -> Option<Cond> {
    let mut all: Vec<Cond> = Vec::new();
    for c in conds.iter().flatten() {
        let parts = match c {
            Cond::All(v) => v.as_slice(),
            other => std::slice::from_ref(*other),
        };
        for p in parts {
            if !all.contains(p) {
                all.push(p.clone());
            }
        }
    }
    match all.len() {
        0 => None,
        1 => all.pop(),
        _ => Some(Cond::All(all)),
    }
}

/// A condition as the end of "QEMU was built ...": `with `A``,
/// `without `B``, `with `A` and without `B``, `with `A` or `B``, or the
/// whole expression where it does not read as a list.
fn built(c: &Cond) -> String {
    let term = |c: &Cond| match c {
        Cond::Name(n) => Some(format!("with `{n}`")),
        Cond::Not(inner) => match &**inner {
            Cond::Name(n) => Some(format!("without `{n}`")),
            _ => None,
        },
        _ => None,
    };
    let list = |v: &[Cond], sep: &str| v.iter().map(term).collect::<Option<Vec<_>>>().map(|t| t.join(sep));
    let text = match c {
        Cond::All(v) => list(v, " and "),
        Cond::Any(v) if v.iter().all(|c| matches!(c, Cond::Name(_))) => {
            let names: Vec<String> = v.iter().map(|c| format!("`{c}`")).collect();
            Some(format!("with {}", names.join(" or ")))
        }
        other => term(other),
    };
    text.unwrap_or_else(|| format!("where `{c}` holds"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(n: &str) -> Cond {
        Cond::Name(n.into())
    }

    #[test]
    fn conditions_read_as_build_options() {
        assert_eq!(built(&name("TARGET_S390X")), "with `TARGET_S390X`");
        assert_eq!(built(&Cond::Not(Box::new(name("A")))), "without `A`");
        let both = Cond::All(vec![name("A"), Cond::Not(Box::new(name("B")))]);
        assert_eq!(built(&both), "with `A` and without `B`");
        assert_eq!(built(&Cond::Any(vec![name("A"), name("B")])), "with `A` or `B`");
        let nested = Cond::Any(vec![name("A"), both]);
        assert_eq!(built(&nested), "where `A || (A && !B)` holds");
    }

    #[test]
    fn joined_conditions_are_flat_and_unique() {
        let (a, b) = (name("A"), name("B"));
        assert_eq!(joined(&[None, None]), None);
        assert_eq!(joined(&[Some(&a), Some(&a)]), Some(a.clone()));
        let ab = Cond::All(vec![a.clone(), b.clone()]);
        assert_eq!(joined(&[Some(&ab), Some(&b)]), Some(ab));
    }
}
