//! The `Since:` lint: what is new must say when it came.

use std::collections::{HashMap, HashSet};

use super::classes::{display, implicit_owner, members_of};
use super::finding::same_meta;
use super::report::SinceProblem;
use super::version::Version;
use crate::doc::{Doc, Section, SectionKind};
use crate::model::{Entity, EntityId, EntityKind, Feature, Member, Schema};
use crate::source::Span;

/// The `Since:` lint of one schema, for `qapi-gen check --since-current`:
/// without an older schema it cannot tell what is new, so it reports what
/// can only be wrong: as errors, any `Since:` or `(Since X.Y)` note that
/// names a release newer than `current` (or no version at all); as
/// warnings, documented definitions without a `Since:` section (QEMU has
/// old ones).
///
/// ```
/// use qapi_gen::{compat, Frontend};
/// let s = Frontend::new().check_str("s.json", "##\n# @stop:\n##\n{ 'command': 'stop' }\n");
/// let problems = compat::since_lint(&s.schema, &"11.0".parse().unwrap());
/// assert_eq!(problems[0].message, "no 'Since:' section");
/// ```
pub fn since_lint(schema: &Schema, current: &Version) -> Vec<SinceProblem> {
    let mut out = Vec::new();
    let expected = format!("<= {current}");
    let too_new = |out: &mut Vec<SinceProblem>, subject: String, text: &str, span: &Span, what: &str| {
        match Version::leading(text) {
            Some(v) if v <= *current => {}
            Some(v) => out.push(SinceProblem {
                subject,
                message: format!("{what} {v} is newer than the release being developed ({current})"),
                found: Some(v.to_string()),
                expected: expected.clone(),
                span: Some(span.clone()),
                severity: crate::Severity::Error,
            }),
            None => out.push(SinceProblem {
                subject,
                message: format!("{what} '{text}' names no version"),
                found: Some(text.to_owned()),
                expected: expected.clone(),
                span: Some(span.clone()),
                severity: crate::Severity::Error,
            }),
        }
    };
    for doc in schema.docs() {
        let Some(symbol) = &doc.symbol else { continue };
        match doc.sections.iter().find(|s| s.kind == SectionKind::Since) {
            Some(s) => too_new(&mut out, symbol.clone(), s.text.trim(), &s.span, "'Since:'"),
            None => {
                let colonless = since_without_colon(doc);
                out.push(SinceProblem {
                    subject: symbol.clone(),
                    message: match &colonless {
                        Some((v, _)) => colonless_message(v),
                        None => "no 'Since:' section".to_owned(),
                    },
                    found: colonless.as_ref().map(|(v, _)| (*v).to_owned()),
                    expected: expected.clone(),
                    span: Some(colonless.map_or_else(|| doc.span.clone(), |(_, span)| span)),
                    severity: crate::Severity::Warning,
                });
            }
        }
        for (name, s) in doc.args.iter().chain(doc.features.iter()) {
            if let Some(v) = note_version(s) {
                too_new(&mut out, format!("{symbol}.{name}"), v, &s.span, "'(Since)' note");
            }
        }
    }
    out
}

/// The version a member, value, branch or feature description gives: its
/// last `(Since X.Y)` note, or, for a description that is just `since X.Y`
/// (as some enum values are written), that.
pub(super) fn note_version(s: &Section) -> Option<&str> {
    s.since_note().or_else(|| {
        let t = s.text.trim_start();
        t.get(..5).filter(|p| p.eq_ignore_ascii_case("since"))?;
        let rest = t.get(5..)?;
        let rest = rest.strip_prefix(':').unwrap_or(rest).trim_start();
        let len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let v = rest[..len].trim_end_matches('.');
        v.starts_with(|c: char| c.is_ascii_digit()).then_some(v)
    })
}

/// A line `Since X.Y` without the colon: QEMU reads it as plain text, so
/// the definition has no `Since:` section. The version and where.
pub(super) fn since_without_colon(doc: &Doc) -> Option<(&str, Span)> {
    std::iter::once(&doc.body).chain(doc.sections.iter().filter(|s| s.kind == SectionKind::Plain)).find_map(|s| {
        let v = s.text.lines().find_map(|l| {
            let rest = l.trim().strip_prefix("Since ")?;
            Version::leading(rest).map(|_| rest.trim())
        })?;
        Some((v, s.span.clone()))
    })
}

pub(super) fn colonless_message(v: &str) -> String {
    format!("'Since {v}' lacks the colon: QEMU reads it as plain text, not as a 'Since:' section")
}

/// What the versions of new things must be.
pub(super) enum Expect<'v> {
    Exactly(&'v Version),
    After(Option<Version>),
}

impl Expect<'_> {
    pub(super) fn text(&self) -> String {
        match self {
            Expect::Exactly(v) => v.to_string(),
            Expect::After(Some(v)) => format!(">= {v}"),
            Expect::After(None) => "a version".to_owned(),
        }
    }

    /// What is wrong with `found` (the text after `Since:` or in the note).
    pub(super) fn problem(&self, found: Option<&str>, what: &str) -> Option<(String, Option<String>)> {
        let Some(text) = found else {
            return Some((
                format!(
                    "new {what}, but no {}",
                    if what.starts_with("definition") { "'Since:'" } else { "'(Since X.Y)' note" }
                ),
                None,
            ));
        };
        let Some(v) = Version::leading(text) else {
            return Some((format!("'{text}' names no version"), Some(text.to_owned())));
        };
        let msg = match self {
            Expect::Exactly(cur) if v < **cur => format!("new {what}, but says since {v}, an older release than {cur}"),
            Expect::Exactly(cur) if v > **cur => format!("new {what}, but says since {v}, a later release than {cur}"),
            Expect::After(Some(last)) if v < *last => {
                format!("new {what}, but says since {v}, older than {last}, which the old schema already names")
            }
            _ => return None,
        };
        Some((msg, Some(v.to_string())))
    }
}

/// The newest version any `Since:` or note of the schema names.
pub(super) fn newest_version(schema: &Schema) -> Option<Version> {
    let mut max: Option<Version> = None;
    for d in schema.docs() {
        let notes = d.args.values().chain(d.features.values()).filter_map(note_version);
        for v in d.since().into_iter().chain(notes).filter_map(Version::leading) {
            if max.as_ref().is_none_or(|m| v > *m) {
                max = Some(v);
            }
        }
    }
    max
}

pub(super) fn since_compat(
    old: &Schema,
    new: &Schema,
    renamed: &HashMap<EntityId, EntityId>,
    current: Option<&Version>,
) -> Vec<SinceProblem> {
    let expect = match current {
        Some(v) => Expect::Exactly(v),
        None => Expect::After(newest_version(old)),
    };
    let mut check = SinceCheck { old, new, renamed, expect, out: Vec::new(), done: HashSet::new() };
    for ne in new.entities().filter(|e| !e.is_builtin() && !e.is_implicit()) {
        match check.counterpart(ne) {
            Some(oe) => check.changed_definition(oe, ne),
            None => check.new_definition(ne),
        }
    }
    let mut out = check.out;
    let pos = |s: &Option<Span>| s.as_ref().map(|s| (s.file.name.clone(), s.start));
    out.sort_by(|a, b| pos(&a.span).cmp(&pos(&b.span)).then_with(|| a.subject.cmp(&b.subject)));
    out
}

/// The `Since:` lint of what is new, as it goes.
struct SinceCheck<'s, 'v> {
    old: &'s Schema,
    new: &'s Schema,
    renamed: &'s HashMap<EntityId, EntityId>,
    expect: Expect<'v>,
    out: Vec<SinceProblem>,
    /// Subjects and places already reported.
    done: HashSet<String>,
}

/// What a definition has that its old counterpart had not.
#[derive(Default)]
struct News<'s> {
    members: Vec<&'s Member>,
    old_features: HashSet<&'s str>,
    features: Vec<&'s Feature>,
}

impl<'s> SinceCheck<'s, '_> {
    /// A type paired with an old one of another name continues it (renamed)
    /// when its `Since:` says it is older; otherwise it is new.
    fn claims_older(&self, ne: &Entity) -> bool {
        let Some(v) = ne.doc.as_ref().and_then(|d| d.since()).and_then(Version::leading) else { return false };
        match &self.expect {
            Expect::Exactly(cur) => v < **cur,
            Expect::After(Some(last)) => v < *last,
            Expect::After(None) => true,
        }
    }

    /// The old definition `ne` continues, if any.
    fn counterpart(&self, ne: &Entity) -> Option<&'s Entity> {
        match self.old.lookup(&ne.name) {
            Some(oe) if same_meta(oe, ne) => Some(oe),
            _ => self.renamed.get(&ne.id).filter(|_| self.claims_older(ne)).and_then(|&o| self.old.get(o)),
        }
    }

    /// Whether the entity that defines a new member is itself new (its
    /// `Since:` then covers the member).
    fn is_new_def(&self, id: EntityId) -> bool {
        let Some(e) = self.new.get(id) else { return false };
        match implicit_owner(&e.name) {
            Some(owner) if e.name.starts_with("q_obj_") => self.old.lookup(owner).is_none(),
            _ => !e.is_builtin() && self.counterpart(e).is_none(),
        }
    }

    /// Reports `subject` (once per place) when `found` is not what is
    /// expected.
    fn push(&mut self, subject: String, found: Option<&str>, what: &str, span: Option<Span>) {
        let key = format!("{subject}\u{1}{}", span.as_ref().map(Span::location).unwrap_or_default());
        if !self.done.insert(key) {
            return;
        }
        if let Some((message, found)) = self.expect.problem(found, what) {
            let expected = self.expect.text();
            self.out.push(SinceProblem { subject, message, found, expected, span, severity: crate::Severity::Error });
        }
    }

    /// A definition the old schema has no counterpart of: its `Since:`.
    fn new_definition(&mut self, ne: &Entity) {
        let doc = ne.doc.as_deref();
        let span = doc.and_then(|d| d.sections.iter().find(|s| s.kind == SectionKind::Since).map(|s| s.span.clone()));
        let found = doc.and_then(Doc::since);
        if let (None, Some((v, at))) = (found, doc.and_then(since_without_colon)) {
            self.out.push(SinceProblem {
                subject: ne.name.clone(),
                message: colonless_message(v),
                found: Some(v.to_owned()),
                expected: self.expect.text(),
                span: Some(at),
                severity: crate::Severity::Error,
            });
            return;
        }
        let what = format!("definition ({})", ne.meta());
        self.push(ne.name.clone(), found, &what, span.or_else(|| ne.span.clone()));
    }

    /// A definition the old schema has: the notes of its new members,
    /// values, branches and features.
    fn changed_definition(&mut self, oe: &'s Entity, ne: &'s Entity) {
        let news = self.news(oe, ne);
        for m in news.members {
            if self.is_new_def(m.defined_in) && m.defined_in != ne.id {
                continue;
            }
            let found = m.doc().and_then(note_version);
            let owner = display(self.new, m.defined_in);
            self.push(format!("{owner}.{}", m.name), found, "member", m.span.clone());
        }
        let mut seen_features = HashSet::new();
        for f in news.features {
            if news.old_features.contains(f.name.as_str()) || !seen_features.insert(f.name.as_str()) {
                continue;
            }
            let found = f.doc().and_then(note_version);
            self.push(format!("{} feature '{}'", ne.name, f.name), found, "feature", f.span.clone());
        }
    }

    /// The new members and features of `ne` against `oe`; new enum values
    /// and alternate branches are reported on the way.
    fn news(&mut self, oe: &'s Entity, ne: &'s Entity) -> News<'s> {
        let mut news = News { old_features: oe.features.iter().map(|f| f.name.as_str()).collect(), ..News::default() };
        news.features.extend(ne.features.iter());
        match (&oe.kind, &ne.kind) {
            (EntityKind::Object(oo), EntityKind::Object(no)) => {
                let old_members: Vec<&Member> = oo.all_members(self.old).collect();
                news.add_members(&old_members, no.all_members(self.new));
            }
            (EntityKind::Command(_), EntityKind::Command(_)) | (EntityKind::Event(_), EntityKind::Event(_)) => {
                let (oa, na) = (arg_type(oe), arg_type(ne));
                let old_members = oa.map(|i| members_of(self.old, i)).unwrap_or_default();
                let implicit = na.and_then(|i| self.new.get(i)).is_some_and(|e| e.name.starts_with("q_obj_"));
                let new_members = if implicit { na.map(|i| members_of(self.new, i)) } else { None };
                news.add_members(&old_members, new_members.unwrap_or_default().into_iter());
            }
            (EntityKind::Enum(ov), EntityKind::Enum(nv)) => {
                news.old_features.extend(ov.values.iter().flat_map(|v| &v.features).map(|f| f.name.as_str()));
                for v in &nv.values {
                    news.features.extend(v.features.iter());
                    if ov.value(&v.name).is_none() {
                        let found = v.doc().and_then(note_version);
                        self.push(format!("{} '{}'", ne.name, v.name), found, "enum value", v.span.clone());
                    }
                }
            }
            (EntityKind::Alternate(oa), EntityKind::Alternate(na)) => {
                for b in na.branches.iter().filter(|b| !oa.branches.iter().any(|o| o.name == b.name)) {
                    let found = b.doc().and_then(note_version);
                    self.push(format!("{}.{}", ne.name, b.name), found, "branch", b.span.clone());
                }
            }
            _ => {}
        }
        news
    }
}

impl<'s> News<'s> {
    /// Notes the members of `new` that `old` lacks, and both sides'
    /// member features.
    fn add_members(&mut self, old: &[&'s Member], new: impl Iterator<Item = &'s Member>) {
        self.old_features.extend(old.iter().flat_map(|m| &m.features).map(|f| f.name.as_str()));
        for m in new {
            self.features.extend(m.features.iter());
            if !old.iter().any(|o| o.name == m.name) {
                self.members.push(m);
            }
        }
    }
}

/// The arguments of a command or the data of an event.
fn arg_type(e: &Entity) -> Option<EntityId> {
    match &e.kind {
        EntityKind::Command(c) => c.arg_type,
        EntityKind::Event(ev) => ev.arg_type,
        _ => None,
    }
}
