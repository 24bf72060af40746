//! A documentation block as the reader finds it: its `#` lines, not yet
//! interpreted. The syntax stage produces them; [`parse`](super::parse)
//! reads them.

use crate::source::Span;

/// One `#` line of a documentation block.
#[derive(Debug, Clone)]
pub struct DocLine {
    /// Where the line is: from `#` to the end of the line, newline excluded.
    pub span: Span,
}

impl DocLine {
    /// The line's text, from `#` on.
    pub fn text(&self) -> &str {
        self.span.file.text.get(self.span.start..self.span.end).unwrap_or("")
    }
}

/// A `##` ... `##` documentation block, not yet interpreted.
#[derive(Debug, Clone)]
pub struct DocBlock {
    /// The opening `##` line.
    pub open: DocLine,
    /// The lines between the marks.
    pub lines: Vec<DocLine>,
    /// The closing `##` line; `None` when the block is not closed.
    pub close: Option<DocLine>,
    /// Where the next token after an unclosed block starts.
    pub next_token: Span,
}
