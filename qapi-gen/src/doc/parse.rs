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

use super::{style, Doc, DocStyle, Section, SectionKind};
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
        for d in style::problems(line, text) {
            self.style_problem(d);
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

#[cfg(test)]
mod tests;
