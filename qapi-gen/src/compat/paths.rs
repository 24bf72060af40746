//! Paths from commands and events to findings, and the records that
//! merge them.

use std::collections::HashMap;

use super::finding::{Finding, Node, Root};
use super::report::{Change, Severity, MAX_PATHS};
use crate::source::Span;

pub(super) struct Frame<'e> {
    pub(super) node: usize,
    pub(super) parent: Option<usize>,
    pub(super) hop: &'e str,
    pub(super) allowed_by: Option<&'static str>,
    pub(super) old_site: Option<&'e Span>,
    pub(super) new_site: Option<&'e Span>,
}

pub(super) enum Step {
    Enter(usize),
    Exit(usize),
}

/// The root label and the non-empty hops from the root to frame `fi`.
pub(super) fn path_hops(frames: &[Frame<'_>], fi: usize, root: &str) -> Vec<String> {
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
pub(super) fn render_path(hops: &[String], subject: Option<&str>) -> String {
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

pub(super) struct Record {
    pub(super) finding: Finding,
    pub(super) severity: Severity,
    pub(super) allowed_by: Option<&'static str>,
    pub(super) paths: Vec<String>,
    pub(super) more: usize,
}

impl Record {
    pub(super) fn new(finding: Finding) -> Self {
        Record { severity: Severity::Compatible, allowed_by: None, finding, paths: Vec::new(), more: 0 }
    }

    pub(super) fn add_path(&mut self, path: String, path_allowed: Option<&'static str>) {
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

    pub(super) fn into_change(self) -> Change {
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
pub(super) fn merge(changes: Vec<Change>) -> Vec<Change> {
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

/// How often the walk from one root enters a node (with and without an
/// allowance): enough for distinct paths, bounded for schemas whose types
/// are reached many ways.
const VISITS: u32 = 4;

/// Walks from roots to findings, recording the paths.
pub(super) struct Collector<'e> {
    nodes: &'e [Node],
    /// Nodes that lead to a finding.
    below: Vec<bool>,
    pub(super) records: Vec<Record>,
    /// The record of a (node, finding, site) already met.
    index: HashMap<(usize, usize, String), usize>,
    on_path: Vec<bool>,
    visits: HashMap<(usize, bool), u32>,
}

impl<'e> Collector<'e> {
    pub(super) fn new(nodes: &'e [Node]) -> Self {
        Collector {
            nodes,
            below: leads_to_finding(nodes),
            records: Vec::new(),
            index: HashMap::new(),
            on_path: vec![false; nodes.len()],
            visits: HashMap::new(),
        }
    }

    /// Walks depth first from `root`'s node, recording every finding met
    /// with the path that reached it.
    pub(super) fn walk(&mut self, root: &'e Root) {
        let Some(start) = root.node.filter(|&n| self.below[n]) else { return };
        self.visits.clear();
        let mut frames: Vec<Frame<'e>> = vec![Frame {
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
                    self.on_path[node] = false;
                    continue;
                }
                Step::Enter(fi) => fi,
            };
            let (node, allowed_by) = (frames[fi].node, frames[fi].allowed_by);
            if self.on_path[node] {
                continue;
            }
            let count = self.visits.entry((node, allowed_by.is_some())).or_insert(0);
            if *count >= VISITS {
                continue;
            }
            *count += 1;
            self.record(&frames, fi, &root.label);
            self.on_path[node] = true;
            stack.push(Step::Exit(node));
            for e in self.nodes[node].edges.iter().rev() {
                if !self.below[e.to] || self.on_path[e.to] {
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

    /// Records the findings of the node of `frames[fi]` with the path to it.
    /// A finding of a type change has no subject of its own: it is about
    /// the member that led there, so it is recorded per site.
    fn record(&mut self, frames: &[Frame<'_>], fi: usize, root: &str) {
        let frame = &frames[fi];
        let findings = &self.nodes[frame.node].findings;
        if findings.is_empty() {
            return;
        }
        let hops = path_hops(frames, fi, root);
        for (k, f) in findings.iter().enumerate() {
            let own = !f.subject.is_empty();
            let site = if own {
                String::new()
            } else {
                let loc = |s: Option<&Span>| s.map(Span::location).unwrap_or_default();
                format!("{}|{}", loc(frame.old_site), loc(frame.new_site))
            };
            let records = &mut self.records;
            let r = *self.index.entry((frame.node, k, site)).or_insert_with(|| {
                let mut f = f.clone();
                if !own {
                    f.subject = hops.last().cloned().unwrap_or_else(|| root.to_owned());
                    f.old = frame.old_site.cloned();
                    f.new = frame.new_site.cloned();
                }
                records.push(Record::new(f));
                records.len() - 1
            });
            let path = render_path(&hops, own.then_some(f.subject.as_str()));
            self.records[r].add_path(path, frame.allowed_by);
        }
    }
}

/// Which nodes lead to a finding (theirs or one below them): only those
/// are worth walking into.
fn leads_to_finding(nodes: &[Node]) -> Vec<bool> {
    let n = nodes.len();
    let mut below = vec![false; n];
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, node) in nodes.iter().enumerate() {
        for e in &node.edges {
            preds[e.to].push(i);
        }
    }
    let mut work: Vec<usize> = (0..n).filter(|&i| !nodes[i].findings.is_empty()).collect();
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
    below
}
