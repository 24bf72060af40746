//! Documentation comments: `##` blocks split into symbol, body, member and
//! feature descriptions, and tagged sections.

use indexmap::IndexMap;

use crate::source::Span;

mod parse;

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
    /// The text, lines joined with `\n`, indentation of continuation lines
    /// removed, no trailing newline.
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

/// The version in a `(Since X.Y)` note at the end of a member or feature
/// description, as QEMU writes them.
///
/// ```
/// assert_eq!(qapi_gen::doc::since_note("The size.  (Since 10.2)"), Some("10.2"));
/// assert_eq!(qapi_gen::doc::since_note("The size."), None);
/// ```
pub fn since_note(text: &str) -> Option<&str> {
    let start = text.rfind("(Since ")? + "(Since ".len();
    let end = start + text[start..].find(')')?;
    let v = text[start..end].trim();
    (!v.is_empty()).then_some(v)
}
