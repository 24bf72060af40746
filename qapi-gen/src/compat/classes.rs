//! What types are on the wire: their classes, for comparing shapes, and
//! wire equality, for "renamed?" hints.

use std::collections::HashSet;

use crate::model::{Builtin, Entity, EntityId, EntityKind, Feature, Member, ObjectType, Schema};
use crate::source::Span;

/// What a type's values are, for comparing shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
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
pub(super) enum Wire {
    String,
    Num,
    Bool,
    Null,
    Array,
    Object,
    Any,
}

impl Class {
    pub(super) fn wire(self) -> Wire {
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
    pub(super) fn describe(self) -> &'static str {
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

pub(super) fn int_range(b: Builtin) -> Option<(i128, i128)> {
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

pub(super) fn class(schema: &Schema, id: EntityId) -> Class {
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
pub(super) struct Comp<'s> {
    pub(super) id: EntityId,
    pub(super) branch: Option<&'s str>,
    pub(super) class: Class,
}

pub(super) fn components(schema: &Schema, id: EntityId) -> Vec<Comp<'_>> {
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
pub(super) fn implicit_owner(name: &str) -> Option<&str> {
    let rest = name.strip_prefix("q_obj_")?;
    Some(
        rest.strip_suffix("-arg")
            .or_else(|| rest.strip_suffix("-base"))
            .or_else(|| rest.strip_suffix("-wrapper"))
            .unwrap_or(rest),
    )
}

/// How a type is shown in paths and subjects.
pub(super) fn display(schema: &Schema, id: EntityId) -> String {
    let Some(e) = schema.get(id) else { return "?".to_owned() };
    match &e.kind {
        EntityKind::Array(a) => format!("{}[]", schema.get(a.element).map_or("?", |e| e.name.as_str())),
        _ => implicit_owner(&e.name).unwrap_or(&e.name).to_owned(),
    }
}

/// How a type is named in messages.
pub(super) fn type_name(schema: &Schema, id: EntityId) -> String {
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
pub(super) fn special(features: &[Feature]) -> Option<&'static str> {
    if features.iter().any(|f| f.name == "unstable") {
        Some("unstable")
    } else if features.iter().any(|f| f.name == "deprecated") {
        Some("deprecated")
    } else {
        None
    }
}

/// Whether two types have the same wire shape, recursively; a pair met
/// again while comparing counts as equal (the types are recursive).
pub(super) fn wire_equal(old: &Schema, new: &Schema, o: EntityId, n: EntityId) -> bool {
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

/// The members of an object type as the wire sees them.
pub(super) struct View<'s> {
    pub(super) common: Vec<&'s Member>,
    pub(super) tag: Option<&'s Member>,
    /// Tag value → branch type (`q_empty` for a value without a branch).
    pub(super) variants: Vec<(&'s str, EntityId, Option<Span>)>,
    pub(super) branch_members: HashSet<&'s str>,
}

pub(super) fn view<'s>(schema: &'s Schema, obj: &'s ObjectType) -> View<'s> {
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

pub(super) fn members_of(schema: &Schema, id: EntityId) -> Vec<&Member> {
    schema.get(id).and_then(Entity::as_object).map(|o| o.all_members(schema).collect()).unwrap_or_default()
}
