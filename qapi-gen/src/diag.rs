//! Diagnostics: every problem found in a schema, with where it is.

use std::fmt;

use crate::source::Span;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth fixing, but the schema is still accepted.
    Warning,
    /// The schema is invalid.
    Error,
}

/// A problem in a schema: a message, where it is, and in which definition.
///
/// Its [`Display`](fmt::Display) form starts with the GNU-style line
/// `FILE:LINE:COL: error: message`, followed by the definition it is in and
/// the chain of includes that led to the file.
///
/// ```
/// use qapi_gen::{Diagnostic, source::{SourceFile, Span}};
/// let file = SourceFile::new("a.json".into(), "a.json".into(), "{ 'x': 1 }\n".into());
/// let d = Diagnostic::error(Span::new(&file, 7, 8), "stray '1'");
/// assert!(d.to_string().starts_with("a.json:1:8: error: stray '1'"));
/// ```
#[derive(Debug, Clone, thiserror::Error)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Where the problem is.
    pub span: Span,
    /// What is wrong, in QEMU's words where QEMU has words for it.
    pub message: String,
    /// The definition the problem is in, e.g. `struct 'Foo'`.
    pub context: Option<String>,
    /// Further explanation, shown after the message.
    pub help: Option<String>,
    /// A documentation style problem (line length, sentence spacing), an
    /// error or a warning as [`DocStyle`](crate::DocStyle) says.
    pub doc_style: bool,
}

impl Diagnostic {
    /// An error at `span`.
    pub fn error(span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            span,
            message: message.into(),
            context: None,
            help: None,
            doc_style: false,
        }
    }

    /// A warning at `span`.
    pub fn warning(span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            span,
            message: message.into(),
            context: None,
            help: None,
            doc_style: false,
        }
    }

    /// Names the definition the problem is in (`struct 'Foo'`).
    pub fn in_definition(mut self, context: impl Into<String>) -> Self {
        self.context = Some(context.into());
        self
    }

    /// Adds an explanation.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// True for errors, false for warnings.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The include chain, innermost first: `(file, line)` of each include.
    pub fn include_chain(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut at = self.span.file.included_from().cloned();
        while let Some(span) = at {
            let (line, _) = span.line_col();
            out.push(format!("{}:{}", span.file.name, line));
            at = span.file.included_from().cloned();
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}: {}: {}", self.span.location(), kind, self.message)?;
        if let Some(ctx) = &self.context {
            write!(f, "\n  in {ctx}")?;
        }
        for inc in self.include_chain() {
            write!(f, "\n  included from {inc}")?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// Diagnostics collected by a stage that keeps going after errors.
#[derive(Debug, Default)]
pub struct Diagnostics {
    list: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Records one.
    pub fn push(&mut self, d: Diagnostic) {
        self.list.push(d);
    }

    /// True when an error (not just a warning) was recorded.
    pub fn has_errors(&self) -> bool {
        self.list.iter().any(Diagnostic::is_error)
    }

    /// Number recorded.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// True when none was recorded.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// All of them, in the order found.
    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.list
    }

    /// All of them, in the order found.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.list.iter()
    }
}

impl Extend<Diagnostic> for Diagnostics {
    fn extend<T: IntoIterator<Item = Diagnostic>>(&mut self, iter: T) {
        self.list.extend(iter);
    }
}
