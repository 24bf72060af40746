//! Splitting a documentation block into sections, the way QEMU 10.2 reads
//! `##` blocks.
//!
//! The block is read one line at a time, in order, and each line is looked
//! at once, as it is read: a problem is reported at the first line where
//! QEMU would see it, with QEMU's column, and nothing after the first error
//! of a block is looked at, style problems aside: they never stop the
//! reading (QEMU stops at them), so that they draw no other error.
//!
//! # What a block holds
//!
//! A block whose first line is `@name:` documents the definition `name`;
//! any other block is free-form text. A definition block is a series of
//! paragraphs, each starting on a non-blank line:
//!
//! - `@member: text` lines (consecutive descriptions, each possibly followed
//!   by indented continuation lines) describe members;
//! - `Features:` followed by `@feature: text` lines describes features;
//! - `Returns:`, `Errors:`, `Since:` and `TODO:` start tagged sections,
//!   continued by indented lines;
//! - anything else is a plain paragraph, which runs to the next blank line.
//!   Plain paragraphs before any other section form the body; later ones
//!   form untagged sections, consecutive paragraphs joined by one blank
//!   line.
//!
//! Section texts keep their lines as written (indentation included, trailing
//! white space removed), joined with `\n`, without leading or trailing blank
//! lines.
//!
//! # Style
//!
//! Outside literal blocks (after a line that is only `::` or
//! `.. qmp-example::`, until the indentation decreases), each line must fit
//! in 70 columns (a line holding only a URL may not) and sentences must be
//! separated by two spaces. Depending on [`DocStyle`], breaking these rules
//! is an error or a warning.

use std::collections::HashSet;

use indexmap::IndexMap;

use super::{Doc, DocStyle, Section, SectionKind};
use super::{DocBlock, DocLine};
use crate::diag::{Diagnostic, Diagnostics};
use crate::source::Span;

/// Parses a documentation block; `None` after reporting an error in it.
/// Style warnings (with [`DocStyle::Warn`]) do not stop it.
pub fn parse(block: &DocBlock, style: DocStyle, diags: &mut Diagnostics) -> Option<Doc> {
    let mut reader = Reader { block, style, diags, next: 0, cur: 0, literal: false, literal_indent: 0 };
    reader.doc().ok()
}

/// An error was reported; the block is abandoned.
struct Stop;

type Res<T> = Result<T, Stop>;

/// Reads the lines of one block, as QEMU's lexer hands them over.
struct Reader<'a> {
    block: &'a DocBlock,
    style: DocStyle,
    diags: &'a mut Diagnostics,
    /// Index of the next token to read: a line, then the closing mark.
    next: usize,
    /// Index of the token read last.
    cur: usize,
    /// Inside a literal block, where style rules don't apply.
    literal: bool,
    /// The indentation of the literal block; 0 until its first line.
    literal_indent: usize,
}

impl<'a> Reader<'a> {
    /// Reports an error and abandons the block.
    fn fail<T>(&mut self, span: Span, msg: impl Into<String>) -> Res<T> {
        self.diags.push(Diagnostic::error(span, msg));
        Err(Stop)
    }

    /// Where the token read last is: its line, or for a block that isn't
    /// closed, the next token after it.
    fn span(&self) -> Span {
        match self.block.lines.get(self.cur) {
            Some(line) => line.span.clone(),
            None => match &self.block.close {
                Some(close) => close.span.clone(),
                None => self.block.next_token.clone(),
            },
        }
    }

    /// Reads the next line: its text after `# `, trailing white space
    /// removed; `None` at the closing `##`.
    fn next_line(&mut self) -> Res<Option<&'a str>> {
        self.cur = self.next;
        self.next = self.next.saturating_add(1);
        let block = self.block;
        let lines = &block.lines;
        let line: &DocLine = match lines.get(self.cur) {
            Some(line) if !text_of(line).starts_with("##") => line,
            Some(line) => return self.end_mark(line),
            None if self.cur == lines.len() => match &block.close {
                Some(close) => return self.end_mark(close),
                None => return self.fail(block.next_token.clone(), "documentation comment must end with '##'"),
            },
            // Past the end: only reachable after the end was returned.
            None => return Ok(None),
        };
        let text = text_of(line);
        let rest = text.strip_prefix('#').unwrap_or(text);
        if rest.is_empty() {
            return Ok(Some(""));
        }
        let Some(rest) = rest.strip_prefix(' ') else {
            return self.fail(line.span.clone(), "missing space after #");
        };
        let rest = rest.trim_end_matches(is_space);

        if opens_literal(rest) {
            self.literal = true;
            self.literal_indent = 0;
        } else if self.literal && !rest.is_empty() {
            let indent = indentation(rest);
            if self.literal_indent == 0 {
                self.literal_indent = indent;
            } else if indent < self.literal_indent {
                // Like a reST directive, the block ends where the
                // indentation decreases.
                self.literal = false;
            }
        }
        if !self.literal {
            self.check_style(line, rest);
        }
        Ok(Some(rest))
    }

    /// A line starting with `##` ends the block; it must be exactly `##`.
    fn end_mark(&mut self, line: &'a DocLine) -> Res<Option<&'a str>> {
        if text_of(line) != "##" {
            return self.fail(line.span.clone(), "junk after '##' at end of documentation comment");
        }
        self.literal = false;
        Ok(None)
    }

    /// QEMU 10.2's style rules for one line of text (after `# `).
    fn check_style(&mut self, line: &DocLine, text: &str) {
        if text.chars().count() + 2 > 70 && !is_url_line(text) {
            self.style_problem(Diagnostic::error(line.span.clone(), "documentation line longer than 70 characters"));
        }
        if let Some(at) = single_space_after_sentence(text) {
            // QEMU points at the character after the punctuation, counting
            // from the start of the line as if '#' were in column 1.
            let span = offset_in_line(&line.span, at + 3);
            self.style_problem(
                Diagnostic::error(span, "Use two spaces between sentences")
                    .with_help("If this not the end of a sentence, please report a bug."),
            );
        }
    }

    /// Reports a style problem as an error or as a warning. Either way
    /// the block is read on: its sections are sound, and a definition
    /// must not lose its documentation (and draw "documentation comment
    /// required") over the length of a line.
    fn style_problem(&mut self, mut d: Diagnostic) {
        d.doc_style = true;
        if self.style == DocStyle::Warn {
            d.severity = crate::diag::Severity::Warning;
        }
        self.diags.push(d);
    }

    /// Reads lines after a description or tag line: blank lines, then, if
    /// the first non-blank line is indented, it and the lines after it up
    /// to the next `@name:` line, a less indented line after a blank one,
    /// or the end. Returns the first line not taken.
    fn indented(&mut self, doc: &mut Builder) -> Res<Option<&'a str>> {
        let mut line = self.next_line()?;
        while let Some("") = line {
            doc.append("");
            line = self.next_line()?;
        }
        let Some(first) = line else { return Ok(None) };
        let indent = indentation(first);
        if indent == 0 {
            return Ok(Some(first));
        }
        doc.append(first);
        // QEMU considers every line after the first as if it followed a
        // blank one: only the second line can be de-indented wrongly.
        let mut after_blank = false;
        loop {
            let Some(line) = self.next_line()? else { return Ok(None) };
            if at_name_colon(line).is_some() {
                return Ok(Some(line));
            }
            if !line.is_empty() && indentation(line) < indent {
                if after_blank {
                    return Ok(Some(line));
                }
                return self.fail(self.span(), format!("unexpected de-indent (expected at least {indent} spaces)"));
            }
            doc.append(line);
            after_blank = true;
        }
    }

    /// Reads the lines of a paragraph up to a blank line or the end;
    /// returns the blank line (`""`) or `None`.
    fn paragraph(&mut self, doc: &mut Builder) -> Res<Option<&'a str>> {
        loop {
            match self.next_line()? {
                None => return Ok(None),
                Some(line) if line.is_empty() => return Ok(Some(line)),
                Some(line) => doc.append(line),
            }
        }
    }

    /// A run of `@name: text` descriptions, for members or features.
    fn descriptions(
        &mut self,
        doc: &mut Builder,
        mut line: Option<&'a str>,
        kind: SectionKind,
    ) -> Res<Option<&'a str>> {
        while let Some((name, text)) = line.and_then(at_name_colon) {
            let text = text.to_owned();
            doc.describe(self, name.to_owned(), kind)?;
            if !text.is_empty() {
                doc.append(&text);
            }
            line = self.indented(doc)?;
        }
        Ok(line)
    }

    /// The whole block.
    fn doc(&mut self) -> Res<Doc> {
        let block = self.block;
        let open = &block.open;
        if text_of(open) != "##" {
            return self.fail(open.span.clone(), "junk after '##' at start of documentation comment");
        }
        let info = open.span.clone();
        let mut line = self.next_line()?;
        let mut doc;
        match line {
            Some(first) if first.starts_with('@') => {
                let Some(symbol) = first.strip_suffix(':').map(|s| s.get(1..).unwrap_or("")) else {
                    return self.fail(self.span(), "line should end with ':'");
                };
                if symbol.is_empty() {
                    return self.fail(self.span(), "name required after '@'");
                }
                doc = Builder::new(info, Some(symbol.to_owned()));
                line = self.next_line()?;
                self.definition(&mut doc, line)?;
            }
            _ => {
                doc = Builder::new(info, None);
                doc.untagged(self.span());
                while let Some(text) = line {
                    if let Some((name, _)) = at_name_colon(text) {
                        let msg = format!("'@{name}:' not allowed in free-form documentation");
                        return self.fail(self.span(), msg);
                    }
                    doc.append(text);
                    line = self.next_line()?;
                }
            }
        }
        doc.finish(self)
    }

    /// The lines of a definition block after the symbol line.
    fn definition(&mut self, doc: &mut Builder, mut line: Option<&'a str>) -> Res<()> {
        let mut no_more_args = false;
        loop {
            while let Some("") = line {
                line = self.next_line()?;
            }
            let Some(text) = line else { return Ok(()) };
            if text == "Features:" {
                if !doc.features.is_empty() {
                    return self.fail(self.span(), "duplicated 'Features:' line");
                }
                line = self.next_line()?;
                while let Some("") = line {
                    line = self.next_line()?;
                }
                line = self.descriptions(doc, line, SectionKind::Feature)?;
                if doc.features.is_empty() {
                    return self.fail(self.span(), "feature descriptions expected");
                }
                no_more_args = true;
            } else if let Some((name, _)) = at_name_colon(text) {
                if no_more_args {
                    return self.fail(self.span(), format!("description of '@{name}:' follows a section"));
                }
                line = self.descriptions(doc, Some(text), SectionKind::Member)?;
                no_more_args = true;
            } else if let Some((tag, rest)) = section_tag(text) {
                let kind = match tag {
                    "Returns" => SectionKind::Returns,
                    "Errors" => SectionKind::Errors,
                    "Since" => SectionKind::Since,
                    "TODO" => SectionKind::Todo,
                    note if note.starts_with("Note") => {
                        let msg = format!(
                            "The '{note}' section is no longer supported. Please use rST's '.. note::' or \
                             '.. admonition:: notes' directives, or another suitable admonition instead."
                        );
                        return self.fail(self.span(), msg);
                    }
                    example => {
                        let msg = format!(
                            "The '{example}' section is no longer supported. Please use the \
                             '.. qmp-example::' directive, or other suitable markup instead."
                        );
                        return self.fail(self.span(), msg);
                    }
                };
                doc.tagged(self, kind)?;
                if !rest.is_empty() {
                    doc.append(rest);
                }
                line = self.indented(doc)?;
                no_more_args = true;
            } else {
                doc.untagged(self.span());
                doc.append(text);
                line = self.paragraph(doc)?;
            }
        }
    }
}

/// A block being put together: its sections in the order written.
struct Builder {
    span: Span,
    symbol: Option<String>,
    /// Every section in order; the body first. The last one's text is in
    /// `open` until the next starts.
    all: Vec<Section>,
    /// The text of the last section so far. One buffer, reused, saves
    /// growing every section's text a line at a time and trimming a copy.
    open: String,
    args: HashSet<String>,
    features: HashSet<String>,
    /// The tagged sections that may appear only once, seen so far.
    unique_seen: Vec<SectionKind>,
}

impl Builder {
    fn new(span: Span, symbol: Option<String>) -> Self {
        let body = Section { kind: SectionKind::Plain, name: None, text: String::new(), span: span.clone() };
        Builder {
            span,
            symbol,
            all: vec![body],
            open: String::new(),
            args: HashSet::new(),
            features: HashSet::new(),
            unique_seen: Vec::new(),
        }
    }

    /// Adds a line to the section being written.
    fn append(&mut self, line: &str) {
        self.open.push_str(line);
        self.open.push('\n');
    }

    /// Ends the last section and starts `next`.
    fn start(&mut self, next: Section) {
        self.close();
        self.all.push(next);
    }

    /// Gives the last section its text, without leading or trailing blank
    /// lines.
    fn close(&mut self) {
        if let Some(last) = self.all.last_mut() {
            last.text = self.open.trim_matches('\n').to_owned();
            self.open.clear();
        }
    }

    /// Continues the plain section being written with a new paragraph, or
    /// starts one at `span`.
    fn untagged(&mut self, span: Span) {
        if let Some(last) = self.all.last_mut().filter(|s| s.kind == SectionKind::Plain) {
            if self.open.is_empty() {
                last.span = span;
            }
            self.open.push('\n');
            return;
        }
        self.start(Section { kind: SectionKind::Plain, name: None, text: String::new(), span });
    }

    /// Starts a tagged section at the current line.
    fn tagged(&mut self, r: &mut Reader<'_>, kind: SectionKind) -> Res<()> {
        let span = r.span();
        if matches!(kind, SectionKind::Returns | SectionKind::Errors | SectionKind::Since) {
            if self.unique_seen.contains(&kind) {
                return r.fail(span, format!("duplicated '{}' section", kind.as_str()));
            }
            self.unique_seen.push(kind);
        }
        self.start(Section { kind, name: None, text: String::new(), span });
        Ok(())
    }

    /// Starts the description of a member or feature at the current line.
    fn describe(&mut self, r: &mut Reader<'_>, name: String, kind: SectionKind) -> Res<()> {
        let span = r.span();
        if name.is_empty() {
            return r.fail(span, "invalid parameter name");
        }
        let names = if kind == SectionKind::Feature { &mut self.features } else { &mut self.args };
        if names.contains(&name) {
            return r.fail(span, format!("'{name}' parameter name duplicated"));
        }
        names.insert(name.clone());
        self.start(Section { kind, name: Some(name), text: String::new(), span });
        Ok(())
    }

    /// Ends the last section, rejects empty tagged sections and
    /// descriptions, and sorts the sections into the [`Doc`].
    fn finish(mut self, r: &mut Reader<'_>) -> Res<Doc> {
        self.close();
        let all = self.all;
        for section in &all {
            if section.kind != SectionKind::Plain && section.text.is_empty() {
                let msg = format!("text required after '{}:'", section.kind.as_str());
                return r.fail(section.span.clone(), msg);
            }
        }
        let mut sections = all.into_iter();
        let body = match sections.next() {
            Some(body) => body,
            None => Section { kind: SectionKind::Plain, name: None, text: String::new(), span: self.span.clone() },
        };
        let mut doc = Doc {
            span: self.span,
            symbol: self.symbol,
            body,
            args: IndexMap::new(),
            features: IndexMap::new(),
            sections: Vec::new(),
        };
        for section in sections {
            match (section.kind, section.name.clone()) {
                (SectionKind::Member, Some(name)) => {
                    doc.args.insert(name, section);
                }
                (SectionKind::Feature, Some(name)) => {
                    doc.features.insert(name, section);
                }
                _ => doc.sections.push(section),
            }
        }
        Ok(doc)
    }
}

/// A line's text; a trailing carriage return (CRLF files) is not part of it,
/// as Python's universal newlines make it for QEMU.
fn text_of(line: &DocLine) -> &str {
    let text = line.text();
    text.strip_suffix('\r').unwrap_or(text)
}

/// White space as Python's `str.isspace` sees it.
fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Number of leading white-space characters.
fn indentation(line: &str) -> usize {
    line.chars().take_while(|&c| is_space(c)).count()
}

/// `@name: text`: the name (anything up to the first colon, possibly
/// empty) and the text after the colon and any spaces.
fn at_name_colon(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('@')?;
    let colon = rest.find(':')?;
    let name = rest.get(..colon)?;
    let text = rest.get(colon + 1..)?.trim_start_matches(' ');
    Some((name, text))
}

/// A section tag at the start of a line (`Returns:`, but not `Returns::`,
/// which is reST markup): the tag and the text after it and any spaces.
fn section_tag(line: &str) -> Option<(&'static str, &str)> {
    const TAGS: [&str; 8] = ["Returns", "Errors", "Since", "Notes", "Note", "Examples", "Example", "TODO"];
    TAGS.iter().find_map(|&tag| {
        let after = line.strip_prefix(tag)?;
        if after.starts_with("::") {
            return None;
        }
        Some((tag, after.strip_prefix(':')?.trim_start_matches(' ')))
    })
}

/// A line that starts a literal block: `::` or `.. qmp-example::` alone.
fn opens_literal(line: &str) -> bool {
    let only_colons = |s: &str| s.trim_start_matches(' ') == "::";
    let directive = line
        .strip_prefix("..")
        .filter(|r| r.starts_with(' '))
        .and_then(|r| r.trim_start_matches(' ').strip_prefix("qmp-example"));
    directive.is_some_and(only_colons) || only_colons(line)
}

/// A line that is nothing but a URL, which can't be broken.
fn is_url_line(line: &str) -> bool {
    let s = line.trim_start_matches(' ');
    let rest = ["http://", "https://", "ftp://"].iter().find_map(|p| s.strip_prefix(p));
    rest.is_some_and(|r| !r.contains(' '))
}

/// The character index of the first sentence end followed by a single
/// space and what looks like the start of a sentence. "e.g. X" and list
/// numbers ("1. X" at the start) are not sentence ends.
fn single_space_after_sentence(line: &str) -> Option<usize> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;
    use crate::syntax::{parse_file, Item};

    /// Parses every documentation block of `text`; the diagnostics as
    /// `LINE:COL: message` (`w:` before warnings).
    fn run(text: &str, style: DocStyle) -> (Vec<Doc>, Vec<String>) {
        let file = SourceFile::new("t.json".into(), "t.json".into(), text.into());
        let mut diags = Diagnostics::default();
        let mut docs = Vec::new();
        for item in parse_file(&file, &mut diags) {
            if let Item::Doc(block) = item {
                docs.extend(parse(&block, style, &mut diags));
            }
        }
        let msgs = diags
            .iter()
            .map(|d| {
                let (l, c) = d.span.line_col();
                let w = if d.is_error() { "" } else { "w:" };
                format!("{w}{l}:{c}: {}", d.message)
            })
            .collect();
        (docs, msgs)
    }

    fn ok(text: &str) -> Doc {
        let (mut docs, msgs) = run(text, DocStyle::Error);
        assert!(msgs.is_empty(), "{msgs:?}");
        assert_eq!(docs.len(), 1);
        docs.remove(0)
    }

    fn err(text: &str) -> String {
        let (docs, msgs) = run(text, DocStyle::Error);
        assert!(docs.is_empty(), "parsed despite {msgs:?}");
        assert_eq!(msgs.len(), 1, "{msgs:?}");
        msgs[0].clone()
    }

    /// One style error, and the block read all the same.
    fn style_err(text: &str) -> String {
        let (docs, msgs) = run(text, DocStyle::Error);
        assert_eq!(docs.len(), 1, "not parsed: {msgs:?}");
        assert_eq!(msgs.len(), 1, "{msgs:?}");
        msgs[0].clone()
    }

    #[test]
    fn splits_definition_block() {
        let doc = ok("##\n\
                      # @cmd:\n\
                      #\n\
                      # Intro line one\n\
                      # line two\n\
                      #\n\
                      # Second paragraph.\n\
                      #\n\
                      # @arg1:\n\
                      #     on a new line,\n\
                      #     indented\n\
                      #\n\
                      # @arg2: on the same line\n\
                      #     indented differently   \n\
                      #\n\
                      # Features:\n\
                      #\n\
                      # @feat: a feature\n\
                      #\n\
                      # Plain after features.\n\
                      #\n\
                      # More plain.\n\
                      #\n\
                      # Returns: @Object\n\
                      #\n\
                      # Errors:\n\
                      #     - If it fails, GenericError\n\
                      #\n\
                      # TODO: frob\n\
                      #\n\
                      # Since: 2.10\n\
                      ##\n");
        assert_eq!(doc.symbol.as_deref(), Some("cmd"));
        assert_eq!(doc.span.line(), 1);
        assert_eq!(doc.body.text, "Intro line one\nline two\n\nSecond paragraph.");
        assert_eq!(doc.body.span.line(), 4);
        let args: Vec<_> = doc.args.iter().map(|(k, s)| (k.as_str(), s.text.as_str(), s.span.line())).collect();
        assert_eq!(
            args,
            [
                ("arg1", "    on a new line,\n    indented", 9),
                ("arg2", "on the same line\n    indented differently", 13)
            ]
        );
        assert_eq!(doc.args["arg1"].kind, SectionKind::Member);
        assert_eq!(doc.args["arg1"].name.as_deref(), Some("arg1"));
        assert_eq!(doc.features["feat"].text, "a feature");
        assert_eq!(doc.features["feat"].kind, SectionKind::Feature);
        assert_eq!(doc.features["feat"].span.line(), 18);
        let sections: Vec<_> = doc.sections.iter().map(|s| (s.kind, s.text.as_str(), s.span.line())).collect();
        assert_eq!(
            sections,
            [
                (SectionKind::Plain, "Plain after features.\n\nMore plain.", 20),
                (SectionKind::Returns, "@Object", 24),
                (SectionKind::Errors, "    - If it fails, GenericError", 26),
                (SectionKind::Todo, "frob", 29),
                (SectionKind::Since, "2.10", 31),
            ]
        );
        assert_eq!(doc.since(), Some("2.10"));
    }

    #[test]
    fn body_keeps_default_span_when_empty() {
        let doc = ok("##\n# @Foo:\n#\n# @a: x\n##\n");
        assert_eq!(doc.body.text, "");
        assert_eq!(doc.body.span.line(), 1);
        assert!(doc.sections.is_empty());
    }

    #[test]
    fn continuation_must_be_indented() {
        // An unindented line after a description starts a plain section.
        let doc = ok("##\n# @Foo:\n# @a: one\n# two\n##\n");
        assert_eq!(doc.args["a"].text, "one");
        assert_eq!(doc.sections.len(), 1);
        assert_eq!(doc.sections[0].text, "two");
        assert_eq!(doc.sections[0].span.line(), 4);
        // After the second line, a de-indent ends the description.
        let doc = ok("##\n# @Foo:\n# @a: one\n#   two\n#   three\n# four\n##\n");
        assert_eq!(doc.args["a"].text, "one\n  two\n  three");
        assert_eq!(doc.sections[0].text, "four");
        // A blank line inside a description is kept; trailing ones are not.
        let doc = ok("##\n# @Foo:\n# @a: one\n#\n#   two\n#\n#\n# @b: x\n##\n");
        assert_eq!(doc.args["a"].text, "one\n\n  two");
        assert_eq!(doc.args["b"].text, "x");
        // '@name:' ends a description even when indented text precedes it.
        let doc = ok("##\n# @Foo:\n# @a:\n#  one\n# @b:\n#  two\n##\n");
        assert_eq!(doc.args["a"].text, " one");
        assert_eq!(doc.args["b"].text, " two");
    }

    #[test]
    fn double_colon_is_not_a_tag() {
        let doc = ok("##\n# @Foo:\n#\n# Examples::\n#\n#  - verbatim\n#\n# Note::\n#     pas une note\n##\n");
        assert_eq!(doc.body.text, "Examples::\n\n - verbatim\n\nNote::\n    pas une note");
        assert!(doc.sections.is_empty());
    }

    #[test]
    fn free_form() {
        let doc = ok("##\n# = Heading\n#\n# Text with @ref {x}\n#\n#\n# More\n##\n");
        assert!(doc.symbol.is_none());
        assert_eq!(doc.body.text, "= Heading\n\nText with @ref {x}\n\n\nMore");
        assert_eq!(doc.body.span.line(), 2);
        let doc = ok("##\n##\n");
        assert_eq!(doc.body.text, "");
        assert!(doc.symbol.is_none());
        // Tags mean nothing in free-form text.
        let doc = ok("##\n# Returns: x\n# Note: y\n##\n");
        assert_eq!(doc.body.text, "Returns: x\nNote: y");
    }

    #[test]
    fn block_structure_errors() {
        assert_eq!(err("## x\n##\n"), "1:1: junk after '##' at start of documentation comment");
        assert_eq!(err("##\n# a\n## x\n"), "3:1: junk after '##' at end of documentation comment");
        assert_eq!(err("##\n# a\n#\n"), "3:2: documentation comment must end with '##'");
        assert_eq!(err("##\n# a\n{ 'x': 'y' }\n"), "3:1: documentation comment must end with '##'");
        assert_eq!(err("##\n# a\n#b\n##\n"), "3:1: missing space after #");
        assert_eq!(err("##\n  #b\n##\n"), "2:3: missing space after #");
        assert_eq!(err("##\n#\u{e9}\n##\n"), "2:1: missing space after #");
    }

    #[test]
    fn symbol_errors() {
        assert_eq!(err("##\n# @foo\n##\n"), "2:1: line should end with ':'");
        assert_eq!(err("##\n# @\n##\n"), "2:1: line should end with ':'");
        assert_eq!(err("##\n# @:\n##\n"), "2:1: name required after '@'");
        assert_eq!(err("##\n# x\n# @a: b\n##\n"), "3:1: '@a:' not allowed in free-form documentation");
        assert_eq!(err("##\n# x\n# @: b\n##\n"), "3:1: '@:' not allowed in free-form documentation");
    }

    #[test]
    fn description_errors() {
        assert_eq!(err("##\n# @foo:\n# @a: x\n# @a: y\n##\n"), "4:1: 'a' parameter name duplicated");
        assert_eq!(err("##\n# @foo:\n# @: x\n##\n"), "3:1: invalid parameter name");
        assert_eq!(err("##\n# @foo:\n# @a:\n##\n"), "3:1: text required after 'Member:'");
        assert_eq!(err("##\n# @foo:\n# Features:\n# @f:\n##\n"), "4:1: text required after 'Feature:'");
        assert_eq!(
            err("##\n# @foo:\n# @a: x\n#   y\n# z\n##\n"),
            "5:1: unexpected de-indent (expected at least 2 spaces)"
        );
        assert_eq!(
            err("##\n# @foo:\n# @a: x\n#\n# Since: 1\n#\n# @b: y\n##\n"),
            "7:1: description of '@b:' follows a section"
        );
        // Plain text after descriptions is a section, too.
        assert_eq!(
            err("##\n# @foo:\n# @a: x\n#\n# text\n#\n# @b: y\n##\n"),
            "7:1: description of '@b:' follows a section"
        );
        // Before any description, it is the body.
        let doc = ok("##\n# @foo:\n# text\n#\n# @b: y\n##\n");
        assert_eq!((doc.body.text.as_str(), doc.args["b"].text.as_str()), ("text", "y"));
        // After 'Features:', '@name:' lines describe features, blank
        // lines or not; a member description after them follows a section.
        let doc = ok("##\n# @foo:\n# Features:\n# @f: x\n#\n# @b: y\n##\n");
        assert_eq!(doc.features.keys().collect::<Vec<_>>(), ["f", "b"]);
        assert_eq!(
            err("##\n# @foo:\n# Features:\n# @f: x\n#\n# text\n#\n# @b: y\n##\n"),
            "8:1: description of '@b:' follows a section"
        );
    }

    #[test]
    fn feature_errors() {
        assert_eq!(err("##\n# @foo:\n# Features:\n#\n# nope\n##\n"), "5:1: feature descriptions expected");
        assert_eq!(err("##\n# @foo:\n# Features:\n##\n"), "4:1: feature descriptions expected");
        assert_eq!(err("##\n# @foo:\n# Features:\n# @f: x\n#\n# Features:\n##\n"), "6:1: duplicated 'Features:' line");
        assert_eq!(err("##\n# @foo:\n# Features:\n# @f: x\n# @f: y\n##\n"), "5:1: 'f' parameter name duplicated");
        // Members and features are separate name spaces.
        let doc = ok("##\n# @foo:\n# @f: x\n#\n# Features:\n# @f: y\n##\n");
        assert_eq!((doc.args["f"].text.as_str(), doc.features["f"].text.as_str()), ("x", "y"));
    }

    #[test]
    fn tagged_section_errors() {
        assert_eq!(err("##\n# @foo:\n#\n# Errors:\n##\n"), "4:1: text required after 'Errors:'");
        assert_eq!(err("##\n# @foo:\n# TODO:\n#\n##\n"), "3:1: text required after 'Todo:'");
        assert_eq!(err("##\n# @foo:\n# Returns: a\n# Returns: b\n##\n"), "4:1: duplicated 'Returns' section");
        assert_eq!(err("##\n# @foo:\n# Since: 1\n#\n# Since: 2\n##\n"), "5:1: duplicated 'Since' section");
        assert_eq!(err("##\n# @foo:\n# Errors: 1\n#\n# Errors: 2\n##\n"), "5:1: duplicated 'Errors' section");
        // Several TODO sections are fine.
        let doc = ok("##\n# @foo:\n# TODO: 1\n#\n# TODO: 2\n##\n");
        assert_eq!(doc.sections.len(), 2);
        for (tag, what) in [("Note", "Note"), ("Notes", "Notes"), ("Example", "Example"), ("Examples", "Examples")] {
            let msg = err(&format!("##\n# @foo:\n#\n# {tag}: x\n##\n"));
            assert!(msg.starts_with(&format!("4:1: The '{what}' section is no longer supported.")), "{msg}");
        }
    }

    #[test]
    fn empty_tagged_section_is_reported_after_other_errors_of_the_block() {
        // QEMU checks for empty sections when the block is complete, so a
        // later error in the block comes first.
        assert_eq!(err("##\n# @foo:\n# Errors:\n#\n# @a: x\n##\n"), "5:1: description of '@a:' follows a section");
    }

    const LONG: &str = "# This line has exactly 71 chars, including the leading hash and space.";

    #[test]
    fn style_errors() {
        assert_eq!(LONG.chars().count(), 71);
        assert_eq!(
            style_err(&format!("##\n# @foo:\n#\n{LONG}\n##\n")),
            "4:1: documentation line longer than 70 characters"
        );
        // 70 characters are fine, multi-byte ones count once.
        ok(&format!("##\n# {}\n##\n", "\u{e9}".repeat(68)));
        // Trailing white space does not count.
        ok(&format!("##\n# {}    \n##\n", "x".repeat(68)));
        assert_eq!(
            style_err("##\n# @foo:\n#\n# Sentences should be separated by two spaces. But here is only one.\n##\n"),
            "4:47: Use two spaces between sentences"
        );
        assert_eq!(style_err("##\n# Is it? Yes\n##\n"), "2:9: Use two spaces between sentences");
        assert_eq!(style_err("##\n# Is it! (yes)\n##\n"), "2:9: Use two spaces between sentences");
        // The column counts from the start of the line, like QEMU's.
        assert_eq!(style_err("##\n  # Is it? Yes\n##\n"), "2:9: Use two spaces between sentences");
        // Not sentence ends.
        ok("##\n# Use e.g. FLAT here.  Or i.e. this.  (Since 2.1)\n##\n");
        ok("##\n#  1. Numbered item\n#    2. x\n# v1.2 is fine.\n##\n");
        // A digit may start a sentence.
        assert_eq!(style_err("##\n# ver. 2\n##\n"), "2:7: Use two spaces between sentences");
        let msg = style_err("##\n# x 1. Not a list item\n##\n");
        assert_eq!(msg, "2:7: Use two spaces between sentences");
    }

    #[test]
    fn style_exemptions() {
        // URL lines may be long.
        ok(&format!("##\n#   https://example.com/{}\n##\n", "x".repeat(80)));
        assert!(
            style_err(&format!("##\n# see https://example.com/{}\n##\n", "x".repeat(80))).contains("longer than 70")
        );
        // Literal blocks are exempt until their indentation decreases.
        let text =
            format!("##\n# @foo:\n#\n# .. qmp-example::\n#\n#    {LONG}\n#    A. B\n#\n# Back to text.  Fine.\n##\n");
        let doc = ok(&text);
        assert!(doc.body.text.contains(".. qmp-example::"));
        ok(&format!("##\n# Text\n#\n# ::\n#\n#   {LONG}\n#     A. B\n##\n"));
        // The literal block ends at a smaller indentation, and that line is
        // checked.
        assert_eq!(
            style_err(&format!("##\n# Text\n#\n# ::\n#\n#     x\n#   {LONG}\n##\n")),
            "7:1: documentation line longer than 70 characters"
        );
        // "text::" at the end of a line does not start a literal block.
        assert!(style_err(&format!("##\n# Text::\n#\n#   {LONG}\n##\n")).contains("longer than 70"));
        // Nor does a literal block carry over to the next block.
        let (docs, msgs) = run(&format!("##\n# ::\n##\n##\n#   {LONG}\n##\n"), DocStyle::Error);
        assert_eq!(
            (docs.len(), msgs.as_slice()),
            (2, ["5:1: documentation line longer than 70 characters".to_owned()].as_slice())
        );
    }

    #[test]
    fn style_problems_do_not_stop_parsing() {
        let text = format!("##\n# @foo:\n#\n{LONG}\n# One. Two.  Three. Four\n#\n# Since: 1\n##\n");
        for (style, w) in [(DocStyle::Warn, "w:"), (DocStyle::Error, "")] {
            let (docs, msgs) = run(&text, style);
            assert_eq!(
                msgs,
                [
                    format!("{w}4:1: documentation line longer than 70 characters"),
                    format!("{w}5:7: Use two spaces between sentences")
                ]
            );
            assert_eq!(docs.len(), 1);
            assert_eq!(docs[0].since(), Some("1"));
            assert!(docs[0].body.text.ends_with("One. Two.  Three. Four"));
        }
        // Real errors still are errors.
        let (docs, msgs) = run("##\n# @foo:\n#x\n##\n", DocStyle::Warn);
        assert!(docs.is_empty());
        assert_eq!(msgs, ["3:1: missing space after #"]);
    }

    #[test]
    fn odd_input_does_not_panic() {
        for text in [
            "##\n",
            "##",
            "##\n#\n#\n",
            "##\n# @\u{e9}:\n# @\u{e9}\u{e9}: \u{e9}\n#  \u{e9}\n##\n{ 'x': 'y' }\n",
            "##\n# @a:\n# @b:\t\n#\t\tx\n# \u{3000}\n##\n",
            "##\r\n# @a:\r\n# @b: x\r\n#\r\n##\r\n",
            "##\n# \u{2028}\u{85}\n##\n",
            "##\n# ...\n# . A\n# e.g. Ae.g. B\n# e.g.\n# .\n##\n",
            "##\n# Returns\n# Returns:: x\n# Since:\n##\n",
        ] {
            let _ = run(text, DocStyle::Error);
            let _ = run(text, DocStyle::Warn);
        }
        let long = format!("##\n# {}. {}\n##\n", "x".repeat(100_000), "Y".repeat(10));
        let (_, msgs) = run(&long, DocStyle::Warn);
        assert_eq!(msgs.len(), 2);
    }

    #[test]
    fn crlf_lines() {
        let doc = ok("##\r\n# @a:\r\n# @b: x\r\n#\r\n# Since: 1\r\n##\r\n{ 'struct': 'a' }\r\n");
        assert_eq!(doc.symbol.as_deref(), Some("a"));
        assert_eq!(doc.args["b"].text, "x");
        assert_eq!(doc.since(), Some("1"));
    }

    #[test]
    fn helpers() {
        assert_eq!(at_name_colon("@a b: c"), Some(("a b", "c")));
        assert_eq!(at_name_colon("@a:b"), Some(("a", "b")));
        assert_eq!(at_name_colon("@a b"), None);
        assert_eq!(at_name_colon(" @a:"), None);
        assert_eq!(section_tag("Returns:x"), Some(("Returns", "x")));
        assert_eq!(section_tag("Notes: y"), Some(("Notes", "y")));
        assert_eq!(section_tag("Notes:: y"), None);
        assert_eq!(section_tag("Note:: y"), None);
        assert_eq!(section_tag("Returns :"), None);
        assert_eq!(section_tag(" Since: 1"), None);
        assert!(opens_literal("::"));
        assert!(opens_literal("  ::"));
        assert!(opens_literal(".. qmp-example::"));
        assert!(opens_literal("..   qmp-example  ::"));
        assert!(!opens_literal("..qmp-example::"));
        assert!(!opens_literal(".. qmp-example:: x"));
        assert!(!opens_literal("Example::"));
        assert!(is_url_line("  https://x.org/a\tb"));
        assert!(!is_url_line("https://x.org/a b"));
        assert!(!is_url_line("see ftp://x"));
        assert_eq!(single_space_after_sentence("a. B"), Some(1));
        assert_eq!(single_space_after_sentence("a.  B"), None);
        assert_eq!(single_space_after_sentence("a. b"), None);
        assert_eq!(single_space_after_sentence("the.e.g. A"), None);
        assert_eq!(single_space_after_sentence("thee.g. A"), Some(6));
        assert_eq!(single_space_after_sentence("1. A. B"), Some(4));
    }

    /// Prints the documentation part of QEMU's test dump for `docs`.
    fn dump(docs: &[Doc]) -> String {
        let mut out = String::new();
        for doc in docs {
            match &doc.symbol {
                Some(s) => out += &format!("doc symbol={s}\n"),
                None => out += "doc freeform\n",
            }
            out += &format!("    body=\n{}\n", doc.body.text);
            for (name, s) in &doc.args {
                out += &format!("    arg={name}\n{}\n", s.text);
            }
            for (name, s) in &doc.features {
                out += &format!("    feature={name}\n{}\n", s.text);
            }
            for s in &doc.sections {
                out += &format!("    section={}\n{}\n", s.kind.as_str(), s.text);
            }
        }
        out
    }

    /// The section texts are those of QEMU's `doc-good.out`, but for the
    /// empty descriptions the model adds for undocumented members.
    #[test]
    fn doc_good_matches_qemu() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/qemu/10.2/tests-qapi-schema/");
        let (Ok(json), Ok(out)) = (
            std::fs::read_to_string(format!("{dir}doc-good.json")),
            std::fs::read_to_string(format!("{dir}doc-good.out")),
        ) else {
            eprintln!("QEMU test data not found; skipped");
            return;
        };
        let (docs, msgs) = run(&json, DocStyle::Error);
        assert!(msgs.is_empty(), "{msgs:?}");
        let start = out.find("doc freeform").unwrap_or(out.len());
        let lines: Vec<&str> = out[start..].lines().collect();
        let mut expected = String::new();
        let mut i = 0;
        while i < lines.len() {
            let stub = lines[i].starts_with("    arg=")
                && lines.get(i + 1) == Some(&"")
                && lines.get(i + 2).is_none_or(|l| l.starts_with("    ") || l.starts_with("doc "));
            if stub {
                i += 2;
                continue;
            }
            expected += lines[i];
            expected.push('\n');
            i += 1;
        }
        let got = dump(&docs);
        let trim = |s: &str| s.lines().map(str::trim_end).collect::<Vec<_>>().join("\n");
        assert_eq!(trim(&got), trim(&expected));
        // Spans: where each section starts.
        let cmd = docs.iter().find(|d| d.symbol.as_deref() == Some("cmd"));
        let lines_of = |d: &Doc| d.sections.iter().map(|s| s.span.line()).collect::<Vec<_>>();
        assert_eq!(cmd.map(lines_of), Some(vec![168, 170, 172, 174, 176, 200]));
    }

    #[test]
    fn since_notes() {
        let doc = ok("##\n# @foo:\n# @a: The size.  (since 8.2)\n# @b: B.\n#     (Since: 9.0; default: x)\n##\n");
        assert_eq!(doc.args["a"].since_note(), Some("8.2"));
        assert_eq!(doc.args["b"].since_note(), Some("9.0"));
        assert_eq!(crate::doc::since_note("(Since 2.4 (`drive-backup`), 3.1)"), Some("2.4"));
        assert_eq!(crate::doc::since_note("x (since 10.0) and (since when?)"), Some("10.0"));
        assert_eq!(crate::doc::since_note("since 1.0"), None);
    }
}
