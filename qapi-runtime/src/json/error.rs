//! Why decoding failed, where, and at which member.

use std::borrow::Cow;
use std::fmt;

/// Why decoding failed, where, and at which member.
///
/// Displays in QEMU's wording with the position:
/// `Parameter 'ram.total' expects uint64 at line 4 column 14`.
#[derive(Debug, Clone, PartialEq)]
pub struct Error(Box<Inner>);

#[derive(Debug, Clone, PartialEq)]
struct Inner {
    kind: ErrorKind,
    /// From the innermost segment out.
    path: Vec<Seg>,
    line: usize,
    column: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum ErrorKind {
    /// Not JSON.
    Syntax(String),
    /// A value of another JSON type than this one.
    Type(&'static str),
    /// An integer outside this QAPI type's range.
    Range(&'static str),
    /// A mandatory member is absent.
    Missing,
    /// A member the type does not have (server mode).
    Unexpected,
    /// A member given twice.
    Duplicate,
    /// A string that is no value of the enum.
    Value(String),
    /// Worded already (by the serde path).
    Other(String),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Seg {
    Member(Cow<'static, str>),
    Index(usize),
}

impl Error {
    pub(super) fn new(kind: ErrorKind, line: usize, column: usize) -> Self {
        Error(Box::new(Inner { kind, path: Vec::new(), line, column }))
    }

    pub(super) fn within(mut self, seg: Seg) -> Self {
        self.0.path.push(seg);
        self
    }

    /// The path of the member at fault, `a.b[2].c` (empty for the value
    /// itself).
    pub fn path(&self) -> String {
        let mut s = String::new();
        for seg in self.0.path.iter().rev() {
            match seg {
                Seg::Member(m) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(m);
                }
                Seg::Index(i) => {
                    s.push('[');
                    s.push_str(&i.to_string());
                    s.push(']');
                }
            }
        }
        s
    }

    /// The 1-based line of the input where it went wrong.
    pub fn line(&self) -> usize {
        self.0.line
    }

    /// The 1-based column (in characters) where it went wrong.
    pub fn column(&self) -> usize {
        self.0.column
    }

    /// Whether the input was not JSON at all (rather than JSON that does
    /// not fit the type).
    pub fn is_syntax(&self) -> bool {
        matches!(self.0.kind, ErrorKind::Syntax(_))
    }

    /// The message in QEMU's wording, without the position.
    pub fn message(&self) -> String {
        let path = self.path();
        match &self.0.kind {
            ErrorKind::Syntax(m) => format!("JSON parse error: {m}"),
            ErrorKind::Type(t) if path.is_empty() => format!("Invalid JSON type, expected: {t}"),
            ErrorKind::Type(t) => format!("Invalid parameter type for '{path}', expected: {t}"),
            ErrorKind::Range(t) => format!("Parameter '{path}' expects {t}"),
            ErrorKind::Missing => format!("Parameter '{path}' is missing"),
            ErrorKind::Unexpected => format!("Parameter '{path}' is unexpected"),
            ErrorKind::Duplicate => format!("Parameter '{path}' is given twice"),
            ErrorKind::Value(v) if path.is_empty() => format!("Value '{v}' is not accepted"),
            ErrorKind::Value(v) => format!("Parameter '{path}' does not accept value '{v}'"),
            ErrorKind::Other(m) if path.is_empty() => m.clone(),
            ErrorKind::Other(m) => format!("{m} (within '{path}')"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at line {} column {}", self.message(), self.0.line, self.0.column)
    }
}

impl std::error::Error for Error {}

impl From<Error> for crate::Error {
    fn from(e: Error) -> Self {
        crate::Error::generic(e.message())
    }
}
