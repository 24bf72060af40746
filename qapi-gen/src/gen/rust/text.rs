//! Writing generated Rust as formatted text.
//!
//! The backend writes source text directly, laid out the way
//! `prettyplease` lays out the same items (four-space indents, one
//! attribute per line, doc attributes as `///` comments, long signatures
//! and lists broken at its margin, see the `layout` module): building
//! tokens with `quote`, parsing them with `syn` and printing them with
//! `prettyplease` took nine tenths of the generation time. A test checks
//! that the output is a fixed point of `prettyplease` for schemas with
//! names of every length, so the two never drift apart.

use std::fmt::{self, Write as _};

/// prettyplease's line width (its `MARGIN`).
pub(super) const MARGIN: usize = 89;

/// The width every line may use after its indentation, however deep
/// (prettyplease's `MIN_SPACE`).
pub(super) const MIN_SPACE: usize = 60;

/// Source text under construction: lines at an indentation depth.
#[derive(Debug, Default)]
pub(super) struct Code {
    buf: String,
    depth: usize,
}

impl Code {
    pub(super) fn new() -> Self {
        Code::default()
    }

    /// Code expected to grow to about `bytes`: big buffers grown by
    /// doubling touch twice their size in fresh memory, and page faults
    /// are a good part of generating a large schema.
    pub(super) fn with_capacity(bytes: usize) -> Self {
        Code { buf: String::with_capacity(bytes), depth: 0 }
    }

    /// The current indentation, in columns.
    pub(super) fn indent(&self) -> usize {
        self.depth * 4
    }

    fn pad(&mut self) {
        for _ in 0..self.depth {
            self.buf.push_str("    ");
        }
    }

    /// One line at the current depth.
    pub(super) fn line(&mut self, s: &str) {
        self.pad();
        self.buf.push_str(s);
        self.buf.push('\n');
    }

    /// One formatted line at the current depth (see [`w!`]).
    pub(super) fn line_fmt(&mut self, args: fmt::Arguments<'_>) {
        self.pad();
        // Writing to a String cannot fail.
        let _ = self.buf.write_fmt(args);
        self.buf.push('\n');
    }

    /// `head {` and one level deeper.
    pub(super) fn open(&mut self, head: &str) {
        self.pad();
        self.buf.push_str(head);
        self.buf.push_str(" {\n");
        self.depth += 1;
    }

    /// One level out and `}` followed by `tail` (`,`, `;`, `)`...).
    pub(super) fn close(&mut self, tail: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.pad();
        self.buf.push('}');
        self.buf.push_str(tail);
        self.buf.push('\n');
    }

    /// One level deeper, without writing anything.
    pub(super) fn indent_in(&mut self) {
        self.depth += 1;
    }

    /// One level out, without writing anything.
    pub(super) fn indent_out(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Doc comment lines (`///`), as prettyplease prints `#[doc = " l"]`.
    pub(super) fn docs(&mut self, lines: &[String]) {
        for l in lines {
            self.pad();
            self.buf.push_str("///");
            let l = l.trim_end_matches(' ');
            if !l.is_empty() {
                self.buf.push(' ');
                self.buf.push_str(l);
            }
            self.buf.push('\n');
        }
    }

    /// Starts a top-level item: a blank line after the previous one.
    pub(super) fn item(&mut self) {
        if !self.buf.is_empty() {
            self.buf.push('\n');
        }
    }

    /// Appends text that is already laid out (top-level items).
    pub(super) fn items(&mut self, text: &str) {
        if !text.is_empty() {
            self.item();
            self.buf.push_str(text);
        }
    }

    /// The text so far, for writers that lay out lines themselves.
    pub(super) fn buf_mut(&mut self) -> &mut String {
        &mut self.buf
    }

    pub(super) fn finish(self) -> String {
        self.buf
    }
}

/// `w!(code, "fmt", args...)`: one formatted line.
macro_rules! w {
    ($code:expr, $($arg:tt)*) => {
        $code.line_fmt(format_args!($($arg)*))
    };
}
pub(super) use w;

/// A Rust string literal for `s`, escaped as `proc_macro2` escapes it
/// (what the token-based backend printed).
pub(super) fn str_lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\0' if chars.as_str().starts_with(|n: char| ('0'..='7').contains(&n)) => out.push_str("\\x00"),
            '\0' => out.push_str("\\0"),
            '\'' => out.push('\''),
            c => out.extend(c.escape_debug()),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_escape_as_proc_macro2_does() {
        for s in ["plain", "a \"quoted\" word", "it's", "tab\there", "nul\0x", "nul\x001", "é ü 🦀", "back\\slash"]
        {
            assert_eq!(str_lit(s), proc_macro2::Literal::string(s).to_string(), "{s:?}");
        }
    }

    #[test]
    fn layout() {
        let mut c = Code::new();
        c.item();
        c.docs(&["A thing.".into(), String::new(), "More.  ".into()]);
        c.open("pub struct A");
        w!(c, "pub {}: {},", "x", "i64");
        c.close("");
        c.item();
        c.line("use x;");
        assert_eq!(c.finish(), "/// A thing.\n///\n/// More.\npub struct A {\n    pub x: i64,\n}\n\nuse x;\n");
    }
}
