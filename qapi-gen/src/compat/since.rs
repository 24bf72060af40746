//! The `Since:` lint: what is new must say when it came.

use std::collections::{HashMap, HashSet};

use super::classes::{display, implicit_owner};
use super::compare::same_meta;
use super::engine::members_of;
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
    let mut out = Vec::new();
    let mut done: HashSet<String> = HashSet::new();
    // A type paired with an old one of another name continues it (renamed)
    // when its `Since:` says it is older; otherwise it is new.
    let claims_older = |ne: &Entity| -> bool {
        let Some(v) = ne.doc.as_ref().and_then(|d| d.since()).and_then(Version::leading) else { return false };
        match &expect {
            Expect::Exactly(cur) => v < **cur,
            Expect::After(Some(last)) => v < *last,
            Expect::After(None) => true,
        }
    };
    let counterpart = |ne: &Entity| -> Option<&Entity> {
        match old.lookup(&ne.name) {
            Some(oe) if same_meta(oe, ne) => Some(oe),
            _ => renamed.get(&ne.id).filter(|_| claims_older(ne)).and_then(|&o| old.get(o)),
        }
    };
    // Whether the entity that defines a new member is itself new (its
    // `Since:` then covers the member).
    let is_new_def = |id: EntityId| -> bool {
        let Some(e) = new.get(id) else { return false };
        match implicit_owner(&e.name) {
            Some(owner) if e.name.starts_with("q_obj_") => old.lookup(owner).is_none(),
            _ => !e.is_builtin() && counterpart(e).is_none(),
        }
    };
    let mut push =
        |out: &mut Vec<SinceProblem>, subject: String, found: Option<&str>, what: &str, span: Option<Span>| {
            let key = format!("{subject}\u{1}{}", span.as_ref().map(Span::location).unwrap_or_default());
            if !done.insert(key) {
                return;
            }
            if let Some((message, found)) = expect.problem(found, what) {
                out.push(SinceProblem {
                    subject,
                    message,
                    found,
                    expected: expect.text(),
                    span,
                    severity: crate::Severity::Error,
                });
            }
        };
    for ne in new.entities() {
        if ne.is_builtin() || ne.is_implicit() {
            continue;
        }
        let Some(oe) = counterpart(ne) else {
            let span = ne
                .doc
                .as_ref()
                .and_then(|d| d.sections.iter().find(|s| s.kind == SectionKind::Since).map(|s| s.span.clone()));
            let found = ne.doc.as_ref().and_then(|d| d.since());
            if let (None, Some((v, at))) = (found, ne.doc.as_deref().and_then(since_without_colon)) {
                out.push(SinceProblem {
                    subject: ne.name.clone(),
                    message: colonless_message(v),
                    found: Some(v.to_owned()),
                    expected: expect.text(),
                    span: Some(at),
                    severity: crate::Severity::Error,
                });
                continue;
            }
            push(
                &mut out,
                ne.name.clone(),
                found,
                &format!("definition ({})", ne.meta()),
                span.or_else(|| ne.span.clone()),
            );
            continue;
        };
        // Members, values and branches new to the definition.
        let mut new_members: Vec<&Member> = Vec::new();
        let mut old_features: HashSet<&str> = oe.features.iter().map(|f| f.name.as_str()).collect();
        let mut new_features: Vec<&Feature> = ne.features.iter().collect();
        match (&oe.kind, &ne.kind) {
            (EntityKind::Object(oo), EntityKind::Object(no)) => {
                let old_names: HashSet<&str> = oo.all_members(old).map(|m| m.name.as_str()).collect();
                for m in oo.all_members(old) {
                    old_features.extend(m.features.iter().map(|f| f.name.as_str()));
                }
                for m in no.all_members(new) {
                    new_features.extend(m.features.iter());
                    if !old_names.contains(m.name.as_str()) {
                        new_members.push(m);
                    }
                }
            }
            (EntityKind::Command(_), EntityKind::Command(_)) | (EntityKind::Event(_), EntityKind::Event(_)) => {
                let args = |e: &Entity| match &e.kind {
                    EntityKind::Command(c) => c.arg_type,
                    EntityKind::Event(ev) => ev.arg_type,
                    _ => None,
                };
                let implicit = |s: &Schema, id: Option<EntityId>| {
                    id.and_then(|i| s.get(i)).is_some_and(|e| e.name.starts_with("q_obj_"))
                };
                let (oa, na) = (args(oe), args(ne));
                let old_members = oa.map(|i| members_of(old, i)).unwrap_or_default();
                for m in &old_members {
                    old_features.extend(m.features.iter().map(|f| f.name.as_str()));
                }
                if implicit(new, na) {
                    for m in na.map(|i| members_of(new, i)).unwrap_or_default() {
                        new_features.extend(m.features.iter());
                        if !old_members.iter().any(|o| o.name == m.name) {
                            new_members.push(m);
                        }
                    }
                }
            }
            (EntityKind::Enum(ov), EntityKind::Enum(nv)) => {
                for v in &ov.values {
                    old_features.extend(v.features.iter().map(|f| f.name.as_str()));
                }
                for v in &nv.values {
                    new_features.extend(v.features.iter());
                    if ov.value(&v.name).is_none() {
                        let found = v.doc().and_then(note_version);
                        push(&mut out, format!("{} '{}'", ne.name, v.name), found, "enum value", v.span.clone());
                    }
                }
            }
            (EntityKind::Alternate(oa), EntityKind::Alternate(na)) => {
                for b in &na.branches {
                    if !oa.branches.iter().any(|o| o.name == b.name) {
                        let found = b.doc().and_then(note_version);
                        push(&mut out, format!("{}.{}", ne.name, b.name), found, "branch", b.span.clone());
                    }
                }
            }
            _ => {}
        }
        for m in new_members {
            if is_new_def(m.defined_in) && m.defined_in != ne.id {
                continue;
            }
            let found = m.doc().and_then(note_version);
            let owner = display(new, m.defined_in);
            push(&mut out, format!("{owner}.{}", m.name), found, "member", m.span.clone());
        }
        let mut seen_features = HashSet::new();
        for f in new_features {
            if old_features.contains(f.name.as_str()) || !seen_features.insert(f.name.as_str()) {
                continue;
            }
            let found = f.doc().and_then(note_version);
            push(&mut out, format!("{} feature '{}'", ne.name, f.name), found, "feature", f.span.clone());
        }
    }
    let pos = |s: &Option<Span>| s.as_ref().map(|s| (s.file.name.clone(), s.start));
    out.sort_by(|a, b| pos(&a.span).cmp(&pos(&b.span)).then_with(|| a.subject.cmp(&b.subject)));
    out
}
