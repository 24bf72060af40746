//! Binding documentation blocks to what they describe.
//!
//! A definition's documentation block describes the definition, its
//! members (enum values, struct members, command arguments, alternate
//! branches) and its features. Once the model knows every member, each one
//! is connected to its description here, with the checks QEMU makes only
//! at that point:
//!
//! - a member without a description is an error unless the definition is
//!   listed in the `documentation-exceptions` pragma; it then gets an empty
//!   description, so that every member has one;
//! - a feature without a description is always an error;
//! - a description of a member or feature that does not exist is an error;
//! - `Returns:` belongs to commands that return something, `Errors:` to
//!   commands.
//!
//! The [`DocBinder`] owns every documentation block of the schema while the
//! model is built and hands them back, completed, at the end.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::{Doc, Section, SectionKind};
use crate::diag::{Diagnostic, Diagnostics};
use crate::source::Span;

/// Which documentation block: an index into the blocks given to
/// [`DocBinder::new`], in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocId(pub usize);

/// What a described member is, as QEMU names it in diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A member of a struct or union base, or a command or event argument.
    Member,
    /// A value of an enum.
    Value,
    /// A branch of an alternate.
    Branch,
}

impl Role {
    /// `member`, `value` or `branch`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Value => "value",
            Role::Branch => "branch",
        }
    }
}

/// What the definition a block documents is, for the checks of its
/// `Returns:` and `Errors:` sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Documented {
    /// A command; `returns` tells whether it returns something.
    Command {
        /// The command has `'returns'`.
        returns: bool,
    },
    /// Any other definition.
    Other,
}

#[derive(Debug, Default)]
struct Bound {
    /// Which of `args` (by index) are connected to a member.
    args: Vec<bool>,
    /// Which of `features` (by index) are connected to a feature.
    features: Vec<bool>,
    /// The block's definition was dropped: don't check the block.
    skip: bool,
}

/// Connects documentation blocks to members and features, and checks what
/// only the connection can tell.
#[derive(Debug)]
pub struct DocBinder {
    /// Shared with the definitions that carry them; a block is copied only
    /// when a description has to be added to it.
    docs: Vec<Arc<Doc>>,
    bound: Vec<Bound>,
    by_position: HashMap<(usize, usize), usize>,
    exceptions: HashSet<String>,
}

impl DocBinder {
    /// Takes every documentation block of the schema (definition and
    /// free-form, in order) and the names of the definitions exempt from
    /// the "lacks documentation" check.
    pub fn new<'a>(docs: Vec<Arc<Doc>>, exceptions: impl IntoIterator<Item = &'a String>) -> Self {
        let by_position = docs.iter().enumerate().map(|(i, d)| (position(&d.span), i)).collect();
        let bound = docs.iter().map(|_| Bound::default()).collect();
        DocBinder { docs, bound, by_position, exceptions: exceptions.into_iter().cloned().collect() }
    }

    /// The block `doc` (one of those given to [`DocBinder::new`], compared
    /// by position); a block not among them is added at the end.
    pub fn find(&mut self, doc: &Arc<Doc>) -> DocId {
        let key = position(&doc.span);
        if let Some(&i) = self.by_position.get(&key) {
            return DocId(i);
        }
        self.docs.push(doc.clone());
        self.bound.push(Bound::default());
        self.by_position.insert(key, self.docs.len() - 1);
        DocId(self.docs.len() - 1)
    }

    /// The block as bound so far.
    pub fn doc(&self, id: DocId) -> Option<&Doc> {
        self.docs.get(id.0).map(|d| &**d)
    }

    /// Leaves the block out of the final checks (its definition was not
    /// accepted, so its descriptions can't be connected).
    pub fn skip(&mut self, id: DocId) {
        if let Some(b) = self.bound.get_mut(id.0) {
            b.skip = true;
        }
    }

    /// Connects member `name` of the definition documented by `id`. `at`
    /// and `context` (called only then) locate the definition for a
    /// "lacks documentation" error. An undocumented member of an excepted definition gets an
    /// empty description, after the others.
    pub fn connect_member(
        &mut self,
        id: DocId,
        role: Role,
        name: &str,
        at: &Span,
        context: impl FnOnce() -> String,
        diags: &mut Diagnostics,
    ) {
        let Some(shared) = self.docs.get_mut(id.0) else {
            return;
        };
        let index = if let Some(i) = shared.args.get_index_of(name) {
            i
        } else {
            let doc = Arc::make_mut(shared);
            let excepted = doc.symbol.as_ref().is_some_and(|s| self.exceptions.contains(s));
            if !excepted {
                diags.push(
                    Diagnostic::error(at.clone(), format!("{} '{}' lacks documentation", role.as_str(), name))
                        .in_definition(context()),
                );
            }
            let stub = Section {
                kind: SectionKind::Member,
                name: Some(name.to_owned()),
                text: String::new(),
                span: doc.span.clone(),
            };
            doc.args.insert(name.to_owned(), stub);
            doc.args.len() - 1
        };
        if let Some(b) = self.bound.get_mut(id.0) {
            mark(&mut b.args, index);
        }
    }

    /// Connects feature `name` of the definition documented by `id`;
    /// reports it at `at` when the block does not describe it.
    pub fn connect_feature(
        &mut self,
        id: DocId,
        name: &str,
        at: &Span,
        context: impl FnOnce() -> String,
        diags: &mut Diagnostics,
    ) {
        let Some(doc) = self.docs.get(id.0) else {
            return;
        };
        let Some(index) = doc.features.get_index_of(name) else {
            diags.push(
                Diagnostic::error(at.clone(), format!("feature '{name}' lacks documentation")).in_definition(context()),
            );
            return;
        };
        if let Some(b) = self.bound.get_mut(id.0) {
            mark(&mut b.features, index);
        }
    }

    /// Checks the block's `Returns:` and `Errors:` sections against what
    /// it documents.
    pub fn check_sections(&self, id: DocId, what: Documented, diags: &mut Diagnostics) {
        let Some(doc) = self.docs.get(id.0) else {
            return;
        };
        let find = |kind| doc.sections.iter().find(|s| s.kind == kind);
        match what {
            Documented::Command { returns } => {
                if let (Some(s), false) = (find(SectionKind::Returns), returns) {
                    diags.push(Diagnostic::error(
                        s.span.clone(),
                        "'Returns' section, but command doesn't return anything",
                    ));
                }
            }
            Documented::Other => {
                if let Some(s) = find(SectionKind::Returns) {
                    diags.push(Diagnostic::error(s.span.clone(), "'Returns' section is only valid for commands"));
                }
                if let Some(s) = find(SectionKind::Errors) {
                    diags.push(Diagnostic::error(s.span.clone(), "'Errors' section is only valid for commands"));
                }
            }
        }
    }

    /// Reports descriptions of members and features that were never
    /// connected (they don't exist), and hands back every block, with the
    /// descriptions added for undocumented members.
    pub fn finish(self, diags: &mut Diagnostics) -> Vec<Arc<Doc>> {
        for (doc, bound) in self.docs.iter().zip(&self.bound) {
            if bound.skip {
                continue;
            }
            bogus(&doc.args, &bound.args, "member", diags);
            bogus(&doc.features, &bound.features, "feature", diags);
        }
        self.docs
    }
}

fn mark(v: &mut Vec<bool>, index: usize) {
    if v.len() <= index {
        v.resize(index + 1, false);
    }
    v[index] = true;
}

fn position(span: &Span) -> (usize, usize) {
    (std::sync::Arc::as_ptr(&span.file) as usize, span.start)
}

/// One error for all the descriptions of things that don't exist, at the
/// first of them.
fn bogus(described: &indexmap::IndexMap<String, Section>, connected: &[bool], what: &str, diags: &mut Diagnostics) {
    let names: Vec<(&String, &Section)> = described
        .iter()
        .enumerate()
        .filter(|(i, _)| !connected.get(*i).copied().unwrap_or(false))
        .map(|(_, entry)| entry)
        .collect();
    let Some((_, first)) = names.first() else {
        return;
    };
    let list = names.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join("', '");
    let msg = if names.len() > 1 {
        format!("documented {what}s '{list}' do not exist")
    } else {
        format!("documented {what} '{list}' does not exist")
    };
    diags.push(Diagnostic::error(first.span.clone(), msg));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;
    use indexmap::IndexMap;
    use std::sync::Arc;

    fn file() -> Arc<SourceFile> {
        SourceFile::new("t.json".into(), "t.json".into(), "##\n# @Foo:\n# @a: x\n# @b: y\n##\n{}\n".into())
    }

    fn section(file: &Arc<SourceFile>, line: u32, kind: SectionKind, name: Option<&str>) -> Section {
        let at = file.line_start(line);
        Section { kind, name: name.map(str::to_owned), text: "text".into(), span: Span::new(file, at, at + 1) }
    }

    fn doc(file: &Arc<SourceFile>) -> Doc {
        let mut args = IndexMap::new();
        args.insert("a".into(), section(file, 3, SectionKind::Member, Some("a")));
        args.insert("b".into(), section(file, 4, SectionKind::Member, Some("b")));
        Doc {
            span: Span::new(file, 0, 2),
            symbol: Some("Foo".into()),
            body: section(file, 1, SectionKind::Plain, None),
            args,
            features: IndexMap::new(),
            sections: Vec::new(),
        }
    }

    fn at(file: &Arc<SourceFile>) -> Span {
        let s = file.line_start(6);
        Span::new(file, s, s + 2)
    }

    #[test]
    fn bogus_members_reported_once_at_first() {
        let f = file();
        let d = doc(&f);
        let mut diags = Diagnostics::default();
        let d = Arc::new(d);
        let mut b = DocBinder::new(vec![d.clone()], &[]);
        let id = b.find(&d);
        assert_eq!(id, DocId(0));
        b.finish(&mut diags);
        let v = diags.into_vec();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].message, "documented members 'a', 'b' do not exist");
        assert_eq!(v[0].span.line(), 3);
    }

    #[test]
    fn undocumented_member_is_error_unless_excepted() {
        let f = file();
        let d = doc(&f);
        let mut diags = Diagnostics::default();
        let d = Arc::new(d);
        let mut b = DocBinder::new(vec![d.clone()], &[]);
        let id = b.find(&d);
        b.connect_member(id, Role::Member, "a", &at(&f), || "struct 'Foo'".into(), &mut diags);
        b.connect_member(id, Role::Member, "b", &at(&f), || "struct 'Foo'".into(), &mut diags);
        b.connect_member(id, Role::Value, "c", &at(&f), || "struct 'Foo'".into(), &mut diags);
        let docs = b.finish(&mut diags);
        let v = diags.into_vec();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].message, "value 'c' lacks documentation");
        assert_eq!(v[0].span.line(), 6);
        assert_eq!(docs[0].args.len(), 3);

        let exceptions = vec!["Foo".to_owned()];
        let mut diags = Diagnostics::default();
        let mut b = DocBinder::new(vec![d.clone()], &exceptions);
        let id = b.find(&d);
        for n in ["a", "b", "c"] {
            b.connect_member(id, Role::Member, n, &at(&f), || "struct 'Foo'".into(), &mut diags);
        }
        let docs = b.finish(&mut diags);
        assert!(diags.is_empty());
        let names: Vec<_> = docs[0].args.keys().cloned().collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(docs[0].args["c"].text, "");
    }

    #[test]
    fn features_and_sections() {
        let f = file();
        let mut d = doc(&f);
        d.features.insert("feat".into(), section(&f, 4, SectionKind::Feature, Some("feat")));
        d.sections.push(section(&f, 5, SectionKind::Returns, None));
        let mut diags = Diagnostics::default();
        let mut b = DocBinder::new(vec![], &[]);
        let id = b.find(&Arc::new(d));
        b.connect_feature(id, "other", &at(&f), || "command 'foo'".into(), &mut diags);
        b.check_sections(id, Documented::Command { returns: false }, &mut diags);
        b.check_sections(id, Documented::Command { returns: true }, &mut diags);
        b.check_sections(id, Documented::Other, &mut diags);
        b.skip(id);
        b.finish(&mut diags);
        let msgs: Vec<_> = diags.iter().map(|d| d.message.clone()).collect();
        assert_eq!(
            msgs,
            [
                "feature 'other' lacks documentation",
                "'Returns' section, but command doesn't return anything",
                "'Returns' section is only valid for commands",
            ]
        );
    }
}
