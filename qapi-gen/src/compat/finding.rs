//! What the comparison finds, before the paths to it are known: the
//! graph's nodes and edges, the findings at them, and the helpers that
//! make findings of members, features, conditions and documentation.

use super::classes::{display, special};
use super::report::{ChangeKind, Direction, Severity};
use crate::doc::{Doc, Section};
use crate::model::{Cond, Entity, EntityId, Feature, Member, ModuleItem, Schema};
use crate::source::Span;
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Key {
    pub(super) old: EntityId,
    pub(super) new: EntityId,
    pub(super) dir: Direction,
}

/// A change found at a node, before paths are known.
#[derive(Debug, Clone)]
pub(super) struct Finding {
    pub(super) kind: ChangeKind,
    pub(super) severity: Severity,
    pub(super) direction: Option<Direction>,
    /// Empty: the change is to the type of whatever reaches the node; the
    /// last path step names it and the step's locations place it.
    pub(super) subject: String,
    pub(super) message: String,
    pub(super) why: String,
    pub(super) old: Option<Span>,
    pub(super) new: Option<Span>,
    /// The old element itself is unstable or deprecated.
    pub(super) allowed_by: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub(super) struct Edge {
    pub(super) to: usize,
    /// `MigrationInfo.ram`, `BlockdevOptions(file)`, or empty (arrays).
    pub(super) hop: String,
    pub(super) allowed_by: Option<&'static str>,
    pub(super) old_site: Option<Span>,
    pub(super) new_site: Option<Span>,
}

#[derive(Debug)]
pub(super) struct Node {
    pub(super) key: Key,
    pub(super) findings: Vec<Finding>,
    pub(super) edges: Vec<Edge>,
}

/// Where the walk starts: a command's arguments or return value, an
/// event's data, or a command or event as a whole (no node).
pub(super) struct Root {
    pub(super) label: String,
    pub(super) node: Option<usize>,
    pub(super) allowed_by: Option<&'static str>,
    pub(super) old_site: Option<Span>,
    pub(super) new_site: Option<Span>,
    pub(super) findings: Vec<Finding>,
}

pub(super) fn same_meta(a: &Entity, b: &Entity) -> bool {
    std::mem::discriminant(&a.kind) == std::mem::discriminant(&b.kind)
}

/// A tag value, its old and new branch types, and where the branches are.
pub(super) type VariantPair<'s> = (&'s str, Option<EntityId>, Option<EntityId>, Option<Span>, Option<Span>);

#[derive(Default)]
pub(super) struct Out {
    pub(super) findings: Vec<Finding>,
    pub(super) edges: Vec<Edge>,
}

/// Where the definitions holding the members being compared are.
pub(super) struct Sites<'s> {
    pub(super) owner: &'s str,
    pub(super) old_owner: &'s Option<Span>,
    pub(super) new_owner: &'s Option<Span>,
}

pub(super) fn type_finding(
    kind: ChangeKind,
    severity: Severity,
    dir: Direction,
    message: String,
    why: &str,
) -> Finding {
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

pub(super) fn member_removed(dir: Direction, old: &Schema, om: &Member, sites: &Sites<'_>) -> Finding {
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

pub(super) fn member_added(dir: Direction, new: &Schema, nm: &Member, sites: &Sites<'_>) -> Finding {
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
    pub(super) fn owner_for(&self, old: &Schema, om: &Member) -> String {
        match old.get(om.defined_in) {
            Some(e) if !e.name.starts_with("q_") => e.name.clone(),
            _ => self.owner.to_owned(),
        }
    }
}

pub(super) fn feature_changes(
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

pub(super) fn cond_change(
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
    let text = |c: Option<&Cond>| c.map_or_else(|| "always".to_owned(), |c| format!("if {c}"));
    let (severity, why) = match new {
        Some(c) if !c.implied_by(old) => {
            (Severity::Warning, format!("builds where {c} is false no longer have this {what}"))
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

/// The new schema's file that corresponds to the old module `name`, as a
/// location at its start (for what was removed).
pub(super) fn module_span(schema: &Schema, name: &str) -> Option<Span> {
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
pub(super) fn doc_equal(a: &Doc, b: &Doc) -> bool {
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
