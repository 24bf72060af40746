//! The expression checks: what QEMU enforces on each definition on its own
//! (keys, names, flags, `if`, features), producing typed [`ast`] definitions.
//!
//! The checks and their order are those of QEMU's `scripts/qapi/expr.py`:
//! within a definition the first problem found is reported, as QEMU does;
//! unlike QEMU, checking goes on with the next definition. Problems are
//! reported where QEMU reports them, at the definition's first line, or at
//! the offending key or value when that is on the same line.
//! What needs the whole schema (unknown types, clashes, cycles) is left to
//! [`crate::model`].

pub mod ast;
mod cond;
mod expr;
mod keys;
mod names;
mod outcome;

use std::fmt;
use std::sync::Arc;

use crate::diag::{Diagnostic, Diagnostics};
use crate::doc::{Doc, SectionKind};
use crate::source::Span;
use crate::syntax::load::{Entry, Loaded, Pragma};
use crate::syntax::Value;

pub use ast::Checked;
pub use outcome::{Independent, Outcome};

/// The keys that say what a definition defines.
const METAS: [&str; 6] = ["enum", "struct", "union", "alternate", "command", "event"];

/// Checks every expression of `loaded`; definitions that fail are
/// reported to `diags` and left out of the result.
pub fn check_exprs(loaded: &Loaded, diags: &mut Diagnostics) -> Vec<Checked> {
    check_all(loaded, diags).checked
}

/// Checks every expression of `loaded` as [`check_exprs`] does, and keeps
/// what failed, for [`Outcome::independent`].
pub fn check_all(loaded: &Loaded, diags: &mut Diagnostics) -> Outcome {
    let mut out = Outcome::default();
    for entry in &loaded.entries {
        match entry {
            Entry::Include { name, span } => {
                out.checked.push(Checked::Include { name: name.clone(), span: span.clone() })
            }
            Entry::Definition { expr, doc, doc_failed } => {
                match check_definition(expr, doc.as_ref(), *doc_failed, &loaded.pragma) {
                    Ok(Some(def)) => out.checked.push(Checked::Definition(def)),
                    Ok(None) => {}
                    Err(d) => {
                        diags.push(*d);
                        out.note_failure(definition_name(expr), doc.as_ref());
                    }
                }
            }
        }
    }
    out
}

/// The name a definition gives itself, when it gives one.
fn definition_name(expr: &Value) -> Option<&str> {
    let obj = expr.as_object()?;
    let mut names = METAS.iter().filter_map(|m| obj.get(m));
    match (names.next(), names.next()) {
        (Some(name), None) => name.as_str(),
        _ => None,
    }
}

/// What a check found wrong: a message, and where exactly when known.
#[derive(Debug)]
pub(crate) struct Fail {
    msg: String,
    at: Option<Span>,
}

/// The result of a check.
pub(crate) type Res<T> = Result<T, Fail>;

impl Fail {
    /// A problem with the definition as a whole.
    pub(crate) fn new(msg: impl Into<String>) -> Self {
        Fail { msg: msg.into(), at: None }
    }

    /// A problem with what is written at `span`.
    pub(crate) fn at(span: &Span, msg: impl Into<String>) -> Self {
        Fail { msg: msg.into(), at: Some(span.clone()) }
    }

    /// Adds the place when none is known yet.
    pub(crate) fn or_at(mut self, span: &Span) -> Self {
        if self.at.is_none() {
            self.at = Some(span.clone());
        }
        self
    }

    /// The diagnostic for a failure in the definition `expr`: reported at
    /// the precise place when that is on the definition's first line (where
    /// QEMU reports it), else at the definition.
    fn into_diagnostic(self, expr: &Span) -> Diagnostic {
        let span = match self.at {
            Some(at) if Arc::ptr_eq(&at.file, &expr.file) && at.line() == expr.line() => at,
            _ => expr.clone(),
        };
        Diagnostic::error(span, self.msg)
    }
}

/// What a message says is wrong, in QEMU's words: `'data' member 'x'`,
/// `'features' member`, `struct`, ...
#[derive(Debug, Clone, Copy)]
pub(crate) enum Source<'a> {
    /// Said as is.
    Plain(&'static str),
    /// `PARENT member 'NAME'`.
    Member(&'static str, &'a str),
    /// `'if' condition of SOURCE`.
    IfOf(&'a Source<'a>),
}

impl fmt::Display for Source<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Plain(s) => f.write_str(s),
            Source::Member(parent, name) => write!(f, "{parent} member '{name}'"),
            Source::IfOf(of) => write!(f, "'if' condition of {of}"),
        }
    }
}

/// Checks one definition; `Ok(None)` for an expression that is not an
/// object (the reader has reported it already). `doc_failed`: the block
/// before it had an error, reported already.
fn check_definition(
    expr: &Value,
    doc: Option<&std::sync::Arc<Doc>>,
    doc_failed: bool,
    pragma: &Pragma,
) -> Result<Option<ast::Definition>, Box<Diagnostic>> {
    let Some(obj) = expr.as_object() else {
        return Ok(None);
    };
    let mut metas = METAS.iter().filter(|m| obj.members.contains_key(**m));
    let meta = match (metas.next(), metas.next()) {
        (Some(meta), None) => *meta,
        _ => {
            return Err(Box::new(Diagnostic::error(
                expr.span.clone(),
                "expression must have exactly one key \
                 'enum', 'struct', 'union', 'alternate', 'command', 'event'",
            )))
        }
    };
    let Some(name_value) = obj.get(meta) else {
        return Ok(None);
    };
    let Some(name) = name_value.as_str() else {
        return Err(Box::new(
            Fail::at(&name_value.span, format!("'{meta}' requires a string name")).into_diagnostic(&expr.span),
        ));
    };
    let context = || format!("{meta} '{name}'");
    let in_defn = |f: Fail| Box::new(f.into_diagnostic(&expr.span).in_definition(context()));

    expr::check_defn_name(name, meta, pragma).map_err(|f| f.or_at(&name_value.span)).map_err(in_defn)?;

    match doc {
        Some(doc) => {
            let symbol = doc.symbol.as_deref().unwrap_or_default();
            if symbol != name {
                return Err(in_defn(Fail::new(format!("documentation comment is for '{symbol}'"))));
            }
            check_doc_sections(doc, meta, obj.members.contains_key("returns"))?;
        }
        None if pragma.doc_required && !doc_failed => {
            return Err(in_defn(Fail::new("documentation comment required")));
        }
        None => {}
    }

    let (kind, cond, features) = expr::check_kind(obj, meta, name, pragma, &expr.span).map_err(in_defn)?;
    Ok(Some(ast::Definition {
        name: name.to_owned(),
        kind,
        cond,
        features,
        doc: doc.cloned(),
        span: expr.span.clone(),
    }))
}

/// The tagged sections a definition's documentation may have: `Returns`
/// only for a command that returns something, `Errors` only for commands.
/// Reported at the section, as QEMU does.
fn check_doc_sections(doc: &Doc, meta: &str, returns: bool) -> Result<(), Box<Diagnostic>> {
    let first = |kind| doc.sections.iter().find(|s| s.kind == kind);
    let problem = if meta == "command" {
        first(SectionKind::Returns)
            .filter(|_| !returns)
            .map(|s| (s, "'Returns' section, but command doesn't return anything"))
    } else {
        first(SectionKind::Returns)
            .map(|s| (s, "'Returns' section is only valid for commands"))
            .or_else(|| first(SectionKind::Errors).map(|s| (s, "'Errors' section is only valid for commands")))
    };
    match problem {
        Some((section, msg)) => Err(Box::new(Diagnostic::error(section.span.clone(), msg))),
        None => Ok(()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::Frontend;

    /// Every error of checking `schema` (as `t.json`): line and message.
    pub(crate) fn errors(schema: &str) -> Vec<(u32, String)> {
        Frontend::new()
            .check_str("t.json", schema)
            .diagnostics
            .into_iter()
            .filter(|d| d.is_error())
            .map(|d| (d.span.line(), d.message))
            .collect()
    }

    /// The first error of checking `schema`.
    pub(crate) fn first_error(schema: &str) -> (u32, String) {
        errors(schema).into_iter().next().unwrap_or((0, "no error".into()))
    }

    #[test]
    fn meta_keyword() {
        let e = errors(
            "{ 'struct': 'A', 'union': 'B', 'data': {} }\n\
             { 'data': {} }\n\
             { 'struct': true, 'data': {} }\n\
             { 'command': { } }\n",
        );
        let one_key = "expression must have exactly one key \
                       'enum', 'struct', 'union', 'alternate', 'command', 'event'";
        assert_eq!(
            e,
            vec![
                (1, one_key.into()),
                (2, one_key.into()),
                (3, "'struct' requires a string name".into()),
                (4, "'command' requires a string name".into()),
            ]
        );
    }

    #[test]
    fn context_and_span() {
        let out = Frontend::new().check_str(
            "t.json",
            "{ 'struct': 'Foo', 'data': { 'a': 'int', 'Bad': 'str' } }\n\
             { 'struct': 'Bar',\n  'data': { 'Bad': 'str' } }\n",
        );
        let d: Vec<_> = out.diagnostics.iter().collect();
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].context.as_deref(), Some("struct 'Foo'"));
        assert_eq!(d[0].span.line_col(), (1, 42));
        assert_eq!(d[1].context.as_deref(), Some("struct 'Bar'"));
        assert_eq!(d[1].span.line_col(), (2, 1));
    }

    #[test]
    fn every_definition_is_checked() {
        let e = errors("{ 'struct': 'a' }\n{ 'include': 'nonexistent.json' }\n{ 'enum': 'Enu', 'data': 'x' }\n");
        assert_eq!(e.len(), 3, "{e:?}");
        assert!(e.contains(&(1, "name of struct must use CamelCase".into())));
        assert!(e.contains(&(3, "'data' must be an array".into())));
    }

    #[test]
    fn documentation() {
        assert_eq!(
            first_error("##\n# @food:\n##\n{ 'command': 'foo' }\n"),
            (4, "documentation comment is for 'food'".into())
        );
        assert_eq!(
            first_error("{ 'pragma': { 'doc-required': true } }\n\n{ 'command': 'undocumented' }\n"),
            (3, "documentation comment required".into())
        );
        assert!(errors("##\n# @foo:\n##\n{ 'command': 'foo' }\n").is_empty());
    }

    /// A documentation block with an error is reported once: the
    /// definition after it is not also "undocumented".
    #[test]
    fn a_bad_doc_block_draws_no_second_error() {
        let long = format!("# {}\n", "x".repeat(70));
        let cases = [
            (format!("##\n# @foo:\n#\n{long}##\n"), "documentation line longer than 70 characters"),
            ("##\n# @foo:\n#x\n##\n".to_owned(), "missing space after #"),
            ("##\n# Free text.\n##\n".to_owned(), "definition documentation required"),
        ];
        for (doc, msg) in cases {
            let schema = format!("{{ 'pragma': {{ 'doc-required': true }} }}\n{doc}{{ 'command': 'foo' }}\n");
            let e = errors(&schema);
            assert_eq!(e.iter().map(|(_, m)| m.as_str()).collect::<Vec<_>>(), [msg], "{schema}");
        }
    }

    #[test]
    fn returns_and_errors_sections() {
        use crate::doc::{Doc, Section, SectionKind};
        use crate::source::{SourceFile, Span};
        let file = SourceFile::new("t.json".into(), "t.json".into(), "##\n# @foo:\n# Returns: x\n##\n".into());
        let section = |kind, line: u32| Section {
            kind,
            name: None,
            text: String::new(),
            span: Span::new(&file, file.line_start(line), file.line_start(line) + 1),
        };
        let doc = |sections| Doc {
            span: Span::new(&file, 0, 2),
            symbol: Some("foo".into()),
            body: section(SectionKind::Plain, 2),
            args: Default::default(),
            features: Default::default(),
            sections,
        };
        let returns = doc(vec![section(SectionKind::Since, 2), section(SectionKind::Returns, 3)]);
        let errors = doc(vec![section(SectionKind::Errors, 2)]);
        let msg = |r: Result<(), Box<crate::Diagnostic>>| r.map_err(|d| (d.span.line(), d.message)).err();
        assert_eq!(msg(super::check_doc_sections(&returns, "command", true)), None);
        assert_eq!(msg(super::check_doc_sections(&errors, "command", false)), None);
        assert_eq!(
            msg(super::check_doc_sections(&returns, "command", false)),
            Some((3, "'Returns' section, but command doesn't return anything".into()))
        );
        assert_eq!(
            msg(super::check_doc_sections(&returns, "struct", false)),
            Some((3, "'Returns' section is only valid for commands".into()))
        );
        assert_eq!(
            msg(super::check_doc_sections(&errors, "event", false)),
            Some((2, "'Errors' section is only valid for commands".into()))
        );
    }

    #[test]
    fn includes_are_kept_in_order() {
        let mut diags = crate::Diagnostics::default();
        let dir = std::env::temp_dir().join(format!("qapi-check-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let sub = dir.join("sub.json");
        std::fs::write(&sub, "{ 'enum': 'Enu', 'data': [ 'a' ] }\n").expect("write");
        let root = dir.join("root.json");
        std::fs::write(&root, "{ 'struct': 'Str', 'data': {} }\n{ 'include': 'sub.json' }\n{ 'command': 'c' }\n")
            .expect("write");
        let loaded = crate::syntax::load::load(&root, Default::default(), &mut diags).expect("load");
        let checked = super::check_exprs(&loaded, &mut diags);
        let _ = std::fs::remove_dir_all(&dir);
        assert!(!diags.has_errors());
        let shape: Vec<String> = checked
            .iter()
            .map(|c| match c {
                super::Checked::Include { name, .. } => format!("include {name}"),
                super::Checked::Definition(d) => d.describe(),
            })
            .collect();
        assert_eq!(shape.len(), 4);
        assert_eq!(shape[0], "struct 'Str'");
        assert!(shape[1].starts_with("include ") && shape[1].ends_with("sub.json"));
        assert_eq!(shape[2], "enum 'Enu'");
        assert_eq!(shape[3], "command 'c'");
    }
}
