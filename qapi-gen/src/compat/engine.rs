//! The comparison graph, one node per (old type, new type, direction),
//! walked from every command and event; findings become changes with
//! every path that reaches them.

use std::collections::{HashMap, HashSet};

use super::classes::{special, wire_equal};
use super::finding::{cond_change, doc_equal, feature_changes, module_span, same_meta, Finding, Key, Node, Out, Root};
use super::paths::{Collector, Record};
use super::report::{Change, ChangeKind, Direction, Severity};
use crate::model::{Command, Entity, EntityId, EntityKind, Schema};

pub(super) struct Engine<'a> {
    pub(super) old: &'a Schema,
    pub(super) new: &'a Schema,
    pub(super) old_empty: Option<EntityId>,
    pub(super) new_empty: Option<EntityId>,
    pub(super) nodes: Vec<Node>,
    pub(super) index: HashMap<Key, usize>,
    pub(super) queue: Vec<usize>,
}

impl<'a> Engine<'a> {
    pub(super) fn new(old: &'a Schema, new: &'a Schema) -> Self {
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

    pub(super) fn node(&mut self, old: EntityId, new: EntityId, dir: Direction) -> usize {
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

    pub(super) fn run(&mut self) {
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
    pub(super) fn roots(&mut self) -> Vec<Root> {
        let (old, new) = (self.old, self.new);
        let mut roots = Vec::new();
        for oe in old.entities().filter(|e| !e.is_type()) {
            self.old_roots(oe, &mut roots);
        }
        for ne in new.entities().filter(|e| !e.is_type()) {
            if old.lookup(&ne.name).is_none_or(|oe| oe.meta() != ne.meta()) {
                roots.push(added_root(ne));
            }
        }
        roots
    }

    /// The roots of a command or event of the old schema: its own
    /// findings (removed, features, condition, flags), and one root a
    /// type it takes or gives.
    fn old_roots(&mut self, oe: &'a Entity, roots: &mut Vec<Root>) {
        let what = oe.meta();
        let ne = self.new.lookup(&oe.name).filter(|ne| ne.meta() == oe.meta());
        let allowed_by = special(&oe.features);
        let root = |node, findings| Root {
            label: oe.name.clone(),
            node,
            allowed_by,
            old_site: oe.span.clone(),
            new_site: ne.and_then(|n| n.span.clone()),
            findings,
        };
        let Some(ne) = ne else {
            roots.push(root(None, vec![self.removed(oe)]));
            return;
        };
        let mut findings = feature_changes(&oe.name, &oe.features, &ne.features, oe.span.as_ref(), ne.span.as_ref());
        findings.extend(cond_change(&oe.name, oe.cond.as_ref(), ne.cond.as_ref(), what, &oe.span, &ne.span));
        let mut nodes = Vec::new();
        let empty = |id: Option<EntityId>, fallback| id.or(fallback);
        match (&oe.kind, &ne.kind) {
            (EntityKind::Command(oc), EntityKind::Command(nc)) => {
                findings.extend(flag_changes(oe, ne, oc, nc, allowed_by));
                if let (Some(oa), Some(na)) = (empty(oc.arg_type, self.old_empty), empty(nc.arg_type, self.new_empty)) {
                    nodes.push(self.node(oa, na, Direction::Input));
                }
                if let (Some(or), Some(nr)) = (empty(oc.ret_type, self.old_empty), empty(nc.ret_type, self.new_empty)) {
                    nodes.push(self.node(or, nr, Direction::Output));
                }
            }
            (EntityKind::Event(oev), EntityKind::Event(nev)) => {
                if let (Some(oa), Some(na)) = (empty(oev.arg_type, self.old_empty), empty(nev.arg_type, self.new_empty))
                {
                    nodes.push(self.node(oa, na, Direction::Output));
                }
            }
            _ => {}
        }
        roots.extend(nodes.into_iter().map(|node| root(Some(node), Vec::new())));
        roots.push(root(None, findings));
    }

    /// The finding of a command or event the new schema no longer has.
    fn removed(&self, oe: &Entity) -> Finding {
        let (kind, why) = if matches!(oe.kind, EntityKind::Command(_)) {
            (ChangeKind::CommandRemoved, "clients that execute it get an error")
        } else {
            (ChangeKind::EventRemoved, "clients that wait for it never see it")
        };
        let what = oe.meta();
        Finding {
            kind,
            severity: Severity::Breaking,
            direction: None,
            subject: oe.name.clone(),
            message: match self.renamed_to(oe) {
                Some(n) => format!("{what} removed (renamed to '{n}'? it has the same wire shape)"),
                None => format!("{what} removed"),
            },
            why: why.to_owned(),
            old: oe.span.clone(),
            new: self.old.modules().get(oe.module.index()).and_then(|m| module_span(self.new, &m.name)),
            allowed_by: special(&oe.features),
        }
    }

    /// A command or event of the new schema, absent from the old one, with
    /// the same wire shape as `oe`.
    pub(super) fn renamed_to(&self, oe: &Entity) -> Option<String> {
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
    /// Walks from every root to every finding, recording up to
    /// [`MAX_PATHS`] paths per finding; then turns findings into changes.
    pub(super) fn collect(&self, roots: &[Root]) -> Vec<Change> {
        let mut c = Collector::new(&self.nodes);
        // Root findings (commands and events as a whole).
        for root in roots {
            for f in &root.findings {
                let mut record = Record::new(f.clone());
                record.add_path(root.label.clone(), root.allowed_by);
                c.records.push(record);
            }
        }
        for root in roots {
            c.walk(root);
        }
        c.records.into_iter().map(Record::into_change).collect()
    }

    /// Documentation edits of commands, events and the types compared.
    pub(super) fn doc_changes(&self) -> Vec<Change> {
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
    pub(super) fn renamed(&self) -> HashMap<EntityId, EntityId> {
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

/// The root of a command or event that only the new schema has.
fn added_root(ne: &Entity) -> Root {
    let kind =
        if matches!(ne.kind, EntityKind::Command(_)) { ChangeKind::CommandAdded } else { ChangeKind::EventAdded };
    Root {
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
            message: format!("{} added", ne.meta()),
            why: String::new(),
            old: None,
            new: ne.span.clone(),
            allowed_by: None,
        }],
    }
}

/// The command flags the new schema changed: taking `allow-oob` or
/// `allow-preconfig` away breaks, as does giving `success-response` up
/// either way.
fn flag_changes(
    oe: &Entity,
    ne: &Entity,
    oc: &Command,
    nc: &Command,
    allowed_by: Option<&'static str>,
) -> Vec<Finding> {
    let flag = |name: &str, o: bool, n: bool, lost_why: &str, gained: Severity| {
        (o != n).then(|| Finding {
            kind: ChangeKind::FlagChanged,
            severity: if o { Severity::Breaking } else { gained },
            direction: None,
            subject: oe.name.clone(),
            message: format!("'{name}': {o} → {n}"),
            why: if o { lost_why.to_owned() } else { String::new() },
            old: oe.span.clone(),
            new: ne.span.clone(),
            allowed_by,
        })
    };
    let oob = "clients that execute it out-of-band (exec-oob) get an error";
    let preconfig = "clients that execute it before the machine is built (--preconfig) get an error";
    let mut out: Vec<Finding> = [
        flag("allow-oob", oc.allow_oob, nc.allow_oob, oob, Severity::Compatible),
        flag("allow-preconfig", oc.allow_preconfig, nc.allow_preconfig, preconfig, Severity::Compatible),
    ]
    .into_iter()
    .flatten()
    .collect();
    let waits = "clients waiting for the success response wait forever";
    if let Some(mut f) = flag("success-response", oc.success_response, nc.success_response, waits, Severity::Breaking) {
        if !oc.success_response {
            f.why = "clients that do not expect a response get an unexpected one".to_owned();
        }
        out.push(f);
    }
    out
}
