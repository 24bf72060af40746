//! The rustdoc of generated items: a definition's or member's QAPI
//! documentation (made Markdown by [`super::doc`]), its features and its
//! `Since:`, as `#[doc]` attributes.

use proc_macro2::TokenStream;
use quote::quote;

use super::cond::one_line;
use super::{doc, versions, Cx};
use crate::model::{Entity, Feature, Member};

/// `#[doc]` attributes for `lines`, one each (prettyplease prints them as
/// `///` comments).
pub(super) fn attrs<S: AsRef<str>>(lines: &[S]) -> TokenStream {
    let lines = lines.iter().map(|l| {
        let l = l.as_ref().trim_end_matches(' ');
        if l.is_empty() {
            String::new()
        } else {
            format!(" {l}")
        }
    });
    quote!(#(#[doc = #lines])*)
}

impl Cx<'_> {
    /// Docs of a definition: description, sections, features, `Since:`.
    pub(super) fn entity_docs(&self, e: &Entity) -> Vec<String> {
        let mut lines = Vec::new();
        if let Some(d) = &e.doc {
            lines.extend(doc::render(&d.body.text));
            for s in &d.sections {
                use crate::doc::SectionKind as K;
                let heading = match s.kind {
                    K::Returns => Some("# Returns"),
                    K::Errors => Some("# Errors"),
                    K::Since | K::Todo | K::Member | K::Feature => continue,
                    K::Plain => None,
                };
                push_para(&mut lines, heading.map(str::to_owned));
                lines.extend(doc::render(&s.text));
            }
        }
        self.feature_docs(&e.features, &mut lines);
        if let Some(note) = self.cond_note(&[e.cond.as_ref()], None) {
            push_para(&mut lines, None);
            lines.push(note);
        }
        let absent: Vec<&str> = self.versions.absent(e.id).iter().map(String::as_str).collect();
        if !absent.is_empty() {
            push_para(&mut lines, None);
            lines.push(versions::absent_line(&absent, e.doc.as_ref().and_then(|d| d.since())));
        }
        if let Some(since) = e.doc.as_ref().and_then(|d| d.since()) {
            push_para(&mut lines, Some(since_line(since)));
        }
        trim_end(&mut lines);
        lines
    }

    /// Notes for special features and a list of the others.
    pub(super) fn feature_docs(&self, features: &[Feature], lines: &mut Vec<String>) {
        for f in features {
            let text = f.doc().map(|s| doc::render(&s.text)).unwrap_or_default();
            let label = match f.name.as_str() {
                "deprecated" => "**Deprecated.**".to_owned(),
                "unstable" => "**Unstable.**".to_owned(),
                n => format!("**Feature `{n}`.**"),
            };
            push_para(lines, None);
            match text.split_first() {
                Some((first, rest)) => {
                    lines.push(format!("{label} {first}"));
                    lines.extend(rest.iter().cloned());
                }
                None => lines.push(label),
            }
        }
    }

    /// Docs of a member: its description, features, `notes` (each a
    /// paragraph), and a `Since:` unless the description says since when.
    pub(super) fn member_docs(&self, m: &Member, since: Option<&str>, notes: &[String]) -> Vec<String> {
        let mut lines = Vec::new();
        let mut noted = false;
        if let Some(s) = m.doc() {
            lines.extend(doc::render(&s.text));
            noted = s.since_note().is_some();
        }
        self.feature_docs(&m.features, &mut lines);
        for note in notes {
            push_para(&mut lines, None);
            lines.push(note.clone());
        }
        if !noted {
            if let Some(since) = since {
                push_para(&mut lines, Some(since_line(since)));
            }
        }
        trim_end(&mut lines);
        lines
    }
}

/// The `Since:` line of an item.
pub(super) fn since_line(since: &str) -> String {
    format!("*Since: {}*", doc::prose(&one_line(since)))
}

/// Starts a new paragraph (optionally with a first line).
fn push_para(lines: &mut Vec<String>, first: Option<String>) {
    if lines.last().is_some_and(|l| !l.is_empty()) {
        lines.push(String::new());
    }
    if let Some(f) = first {
        lines.push(f);
        lines.push(String::new());
    }
}

fn trim_end(lines: &mut Vec<String>) {
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
}

/// Adds `line` as a paragraph of its own.
pub(super) fn push_line(lines: &mut Vec<String>, line: &str) {
    if !lines.is_empty() {
        lines.push(String::new());
    }
    lines.push(line.to_owned());
}
