//! Documentation comments: `##` blocks split into symbol, body, member and
//! feature descriptions, and tagged sections.

use indexmap::IndexMap;

use crate::source::Span;

pub mod bind;
mod block;
mod parse;
mod style;

pub use block::{DocBlock, DocLine};
pub use parse::parse;

/// How documentation style problems (line length, sentence spacing) are
/// reported. QEMU 10.2 made them errors; schemas of older QEMU releases
/// break them, so they can be lowered to warnings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DocStyle {
    /// Style problems are errors, as in QEMU 10.2.
    #[default]
    Error,
    /// Style problems are warnings.
    Warn,
}

/// What a section of a documentation block is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionKind {
    /// Untagged text.
    Plain,
    /// `@name:` describing a member.
    Member,
    /// `@name:` under `Features:`.
    Feature,
    /// `Returns:`
    Returns,
    /// `Errors:`
    Errors,
    /// `Since:`
    Since,
    /// `TODO:`
    Todo,
}

impl SectionKind {
    /// The name QEMU's test dump uses.
    pub fn as_str(self) -> &'static str {
        match self {
            SectionKind::Plain => "Plain",
            SectionKind::Member => "Member",
            SectionKind::Feature => "Feature",
            SectionKind::Returns => "Returns",
            SectionKind::Errors => "Errors",
            SectionKind::Since => "Since",
            SectionKind::Todo => "Todo",
        }
    }
}

/// One section of a documentation block.
#[derive(Debug, Clone)]
pub struct Section {
    /// What it is.
    pub kind: SectionKind,
    /// The member or feature described, for those kinds.
    pub name: Option<String>,
    /// The text, lines joined with `\n` as written (indentation kept,
    /// trailing white space removed; the tag or `@name:` itself left out),
    /// without leading or trailing blank lines, as QEMU 10.2 keeps it.
    pub text: String,
    /// Where the section starts.
    pub span: Span,
}

/// A parsed documentation block.
#[derive(Debug, Clone)]
pub struct Doc {
    /// The opening `##` line.
    pub span: Span,
    /// The definition documented (`@name:` on the first line); `None` for
    /// free-form documentation.
    pub symbol: Option<String>,
    /// The untagged text before any member description or tagged section.
    pub body: Section,
    /// `@member:` descriptions in order.
    pub args: IndexMap<String, Section>,
    /// `Features:` descriptions in order.
    pub features: IndexMap<String, Section>,
    /// Tagged sections and any plain text after the member descriptions,
    /// in order.
    pub sections: Vec<Section>,
}

impl Doc {
    /// The text of the `Since:` section, trimmed.
    pub fn since(&self) -> Option<&str> {
        self.sections.iter().find(|s| s.kind == SectionKind::Since).map(|s| s.text.trim())
    }
}

impl Section {
    /// The version of the last `(Since X.Y)` note in the text; see
    /// [`since_note`].
    pub fn since_note(&self) -> Option<&str> {
        since_note(&self.text)
    }
}

/// The version in the last `(Since X.Y)` note of a member or feature
/// description, as QEMU writes them: `since` in either case, an optional
/// colon, then the version (digits and dots); anything after the version
/// (`; default: ...`, a second clause) is ignored.
///
/// ```
/// use qapi_gen::doc::since_note;
/// assert_eq!(since_note("The size.  (Since 10.2)"), Some("10.2"));
/// assert_eq!(since_note("Foo (since: 5.2;\ndefault: 10)."), Some("5.2"));
/// assert_eq!(since_note("The size."), None);
/// ```
pub fn since_note(text: &str) -> Option<&str> {
    // ASCII lower-casing keeps byte offsets.
    let lower = text.to_ascii_lowercase();
    let mut end = lower.len();
    while let Some(at) = lower.get(..end).and_then(|s| s.rfind("(since")) {
        let rest = &text[at + "(since".len()..];
        let rest = rest.strip_prefix(':').unwrap_or(rest).trim_start();
        let len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let version = rest[..len].trim_end_matches('.');
        if version.starts_with(|c: char| c.is_ascii_digit()) {
            return Some(version);
        }
        end = at;
    }
    None
}
