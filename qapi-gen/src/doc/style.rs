//! QEMU 10.2's style rules for documentation text: lines of at most 70
//! columns (a URL alone on its line aside), two spaces between
//! sentences. Literal blocks are exempt; the reader knows where they are.

use super::DocLine;
use crate::diag::Diagnostic;
use crate::source::Span;

/// The style problems of one line of text (after `# `), as errors; the
/// reader lowers them to warnings as asked.
pub(super) fn problems(line: &DocLine, text: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if text.chars().count() + 2 > 70 && !is_url_line(text) {
        out.push(Diagnostic::error(line.span.clone(), "documentation line longer than 70 characters"));
    }
    if let Some(at) = single_space_after_sentence(text) {
        // QEMU points at the character after the punctuation, counting
        // from the start of the line as if '#' were in column 1.
        let span = offset_in_line(&line.span, at + 3);
        out.push(
            Diagnostic::error(span, "Use two spaces between sentences")
                .with_help("If this not the end of a sentence, please report a bug."),
        );
    }
    out
}

/// A line that is nothing but a URL, which can't be broken.
pub(super) fn is_url_line(line: &str) -> bool {
    let s = line.trim_start_matches(' ');
    let rest = ["http://", "https://", "ftp://"].iter().find_map(|p| s.strip_prefix(p));
    rest.is_some_and(|r| !r.contains(' '))
}

/// The character index of the first sentence end followed by a single
/// space and what looks like the start of a sentence. "e.g. X" and list
/// numbers ("1. X" at the start) are not sentence ends.
pub(super) fn single_space_after_sentence(line: &str) -> Option<usize> {
    // Every character the rule looks at is ASCII, so bytes will do; the
    // result is turned into a character index only when there is one.
    let b = line.as_bytes();
    let at = |i: usize| b.get(i).copied();
    let starts_sentence = |i: usize| at(i).is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'(');
    // A word character, as far as the boundary before "e.g." is concerned:
    // non-ASCII bytes belong to letters.
    let is_word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
    let mut p = 0;
    // "  1. X" at the start of the line is a list item, not a sentence end.
    let q = b.iter().take_while(|&&c| c == b' ').count();
    if at(q).is_some_and(|c| c.is_ascii_digit())
        && at(q + 1) == Some(b'.')
        && at(q + 2) == Some(b' ')
        && starts_sentence(q + 3)
    {
        p = q + 4;
    }
    while p < b.len() {
        let c = b[p];
        if c == b'e' && b[p..].starts_with(b"e.g. ") && (p == 0 || !is_word(b[p - 1])) && starts_sentence(p + 5) {
            p += 6;
            continue;
        }
        if matches!(c, b'.' | b'!' | b'?') && at(p + 1) == Some(b' ') && starts_sentence(p + 2) {
            return Some(line.get(..p).map_or(p, |s| s.chars().count()));
        }
        p += 1;
    }
    None
}

/// A span at the `n`th character of the line `span` is on, counting from
/// the start of that line.
fn offset_in_line(span: &Span, n: usize) -> Span {
    let file = &span.file;
    let start = file.line_start(span.line());
    let text = file.text.get(start..).unwrap_or("");
    let line = text.split('\n').next().unwrap_or("");
    let at = line.char_indices().nth(n).map_or(line.len(), |(i, _)| i);
    let len = line.get(at..).and_then(|s| s.chars().next()).map_or(0, char::len_utf8);
    Span::new(file, start + at, start + at + len)
}
