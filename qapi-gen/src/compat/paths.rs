//! Paths from commands and events to findings, and the records that
//! merge them.

use std::collections::HashMap;

use super::engine::Finding;
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
