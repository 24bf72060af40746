//! The comparison graph, one node per (old type, new type, direction),
//! walked from every command and event; findings become changes with
//! every path that reaches them.

use std::collections::{HashMap, HashSet};

use super::classes::{special, wire_equal};
use super::compare::{cond_change, doc_equal, feature_changes, module_span, same_meta, Out};
use super::paths::{path_hops, render_path, Frame, Record, Step};
use super::report::{Change, ChangeKind, Direction, Severity};
use crate::model::{Entity, EntityId, EntityKind, Member, ObjectType, Schema};
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

pub(super) struct Engine<'a> {
    pub(super) old: &'a Schema,
    pub(super) new: &'a Schema,
    pub(super) old_empty: Option<EntityId>,
    pub(super) new_empty: Option<EntityId>,
    pub(super) nodes: Vec<Node>,
    pub(super) index: HashMap<Key, usize>,
    pub(super) queue: Vec<usize>,
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
