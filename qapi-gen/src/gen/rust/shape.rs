//! Laying out expressions, signatures and attributes by width, the way
//! prettyplease does.
//!
//! prettyplease groups tokens in boxes. A box goes on one line when
//! everything from its start up to the next break opportunity outside it
//! fits in the line; otherwise every break in it (the boxes used here are
//! "consistent") starts a new line. Widths are byte lengths, and a line
//! indented by `i` may reach column `max(89, i + 60)`. [`Out`] applies
//! that rule to the few shapes the generator writes, measuring widths up
//! front: `tail` is the width of the text that follows an expression up to
//! the next break outside it, `bi` the indentation of the innermost broken
//! box (a broken box indents its lines from there, not from a column).

use std::borrow::Cow;

use super::text::{limit, Code};

/// Wider than any line: something that never fits (a block).
const INF: usize = usize::MAX / 4;

/// An expression, pattern or type, as far as its layout is concerned.
pub(super) enum X<'a> {
    /// Text without break opportunities: a path, a literal, `ref name`.
    T(Cow<'a, str>),
    /// Glued text before an expression (`&`).
    Pre(&'static str, Box<X<'a>>),
    /// `callee(args)`; also tuple-struct patterns.
    Call(Box<X<'a>>, Vec<X<'a>>),
    /// `prefix<args>`: a generic type, or a turbofish with `prefix`
    /// ending in `::`.
    Angle(Cow<'a, str>, Vec<X<'a>>),
    /// `inner?`
    Try(Box<X<'a>>),
    /// `base.link...`. (At the start of a statement prettyplease glues
    /// the first link to a base of four characters or less; no chain
    /// written here is in that position.)
    Chain(Cow<'a, str>, Vec<Link<'a>>),
    Tuple(Vec<X<'a>>),
    Array(Vec<X<'a>>),
    /// `{ stmts }`; never on one line (blocks here start with a `let`).
    Block(Vec<St<'a>>),
    /// `Path { field: value, shorthand }`.
    Struct(Cow<'a, str>, Vec<(Cow<'a, str>, Option<X<'a>>)>),
    /// `name!(tokens)`, the tokens separated by single spaces where they
    /// may be broken (a `cfg!` predicate).
    Mac(&'static str, Cow<'a, str>),
}

/// A link of a method chain.
pub(super) enum Link<'a> {
    /// `.field`
    Field(Cow<'a, str>),
    /// `.method(args)`
    Method(Cow<'a, str>, Vec<X<'a>>),
}

/// A statement of a block.
pub(super) enum St<'a> {
    /// Lines that never break (attributes on their own line, a short
    /// `let`).
    Lines(Vec<Cow<'a, str>>),
    /// An expression statement, maybe with an attribute and a `;`.
    Expr { attr: Option<Cow<'a, str>>, x: X<'a>, semi: bool },
}

/// A match arm.
pub(super) struct Arm<'a> {
    /// `#[cfg]`, empty for none.
    pub attr: &'a str,
    pub pat: X<'a>,
    pub body: Body<'a>,
}

pub(super) enum Body<'a> {
    Expr(X<'a>),
    Block(Vec<St<'a>>),
}

pub(super) fn t<'a>(s: impl Into<Cow<'a, str>>) -> X<'a> {
    X::T(s.into())
}

/// `callee(args)` with a path as callee.
pub(super) fn call<'a>(callee: impl Into<Cow<'a, str>>, args: Vec<X<'a>>) -> X<'a> {
    X::Call(Box::new(t(callee)), args)
}

pub(super) fn try_<'a>(x: X<'a>) -> X<'a> {
    X::Try(Box::new(x))
}

/// A type written as text (`::std::vec::Vec<Foo>`), its generic
/// arguments as boxes.
pub(super) fn ty(s: &str) -> X<'_> {
    match s.find('<') {
        Some(i) if s.ends_with('>') => {
            X::Angle(Cow::Borrowed(&s[..i]), split_top(&s[i + 1..s.len() - 1]).map(ty).collect())
        }
        _ => t(s),
    }
}

/// The parts of a comma-separated list, outside brackets and string
/// literals.
fn split_top(s: &str) -> impl Iterator<Item = &str> {
    let mut depth = 0usize;
    let mut quoted = false;
    let mut escaped = false;
    let mut start = 0;
    let mut parts = Vec::new();
    for (i, c) in s.char_indices() {
        if quoted {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => quoted = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            '(' | '[' | '<' => depth += 1,
            ')' | ']' | '>' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = s[start..].trim();
    if !last.is_empty() || !parts.is_empty() {
        parts.push(last);
    }
    parts.into_iter()
}

/// The words of a macro's tokens: split at spaces outside string literals.
fn words(s: &str) -> impl Iterator<Item = &str> {
    let mut quoted = false;
    let mut escaped = false;
    let mut start = 0;
    let mut out = Vec::new();
    for (i, c) in s.char_indices() {
        if quoted {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => quoted = false,
                _ => {}
            }
        } else if c == '"' {
            quoted = true;
        } else if c == ' ' {
            out.push(&s[start..i]);
            start = i + 1;
        }
    }
    out.push(&s[start..]);
    out.into_iter().filter(|w| !w.is_empty())
}

fn width(x: &X) -> usize {
    match x {
        X::T(s) => s.len(),
        X::Pre(p, x) => p.len().saturating_add(width(x)),
        X::Try(x) => width(x).saturating_add(1),
        X::Call(c, a) => width(c).saturating_add(2).saturating_add(list_width(a)),
        X::Angle(p, a) => (p.len() + 2).saturating_add(list_width(a)),
        X::Tuple(a) | X::Array(a) => list_width(a).saturating_add(2),
        X::Chain(b, links) => links.iter().fold(b.len(), |w, l| {
            w.saturating_add(match l {
                Link::Field(f) => 1 + f.len(),
                Link::Method(m, a) => (3 + m.len()).saturating_add(list_width(a)),
            })
        }),
        X::Block(_) => INF,
        X::Struct(p, fields) => {
            let measured = struct_measure(p, fields);
            if measured > 34 {
                INF
            } else if fields.is_empty() {
                measured
            } else {
                // `Path { a: x, b }`
                measured + 1
            }
        }
        X::Mac(n, toks) => n.len() + 3 + toks.len(),
    }
}

/// What prettyplease measures of a struct literal before its `}` (the
/// `Path {` and its fields with the spaces around them): when wider than
/// 34 the literal is broken, one field a line, or `Path {` and `}` on two
/// lines without fields.
fn struct_measure(p: &str, fields: &[(Cow<str>, Option<X>)]) -> usize {
    if fields.is_empty() {
        return p.len() + 3;
    }
    fields.iter().fold((p.len() + 4).saturating_add((fields.len() - 1) * 2), |w, (f, v)| {
        let v = v.as_ref().map_or(0, |v| width(v).saturating_add(2));
        w.saturating_add(f.len()).saturating_add(v)
    })
}

fn list_width(a: &[X]) -> usize {
    a.iter().fold(a.len().saturating_sub(1) * 2, |w, x| w.saturating_add(width(x)))
}

/// Array, struct, tuple and block arguments are not boxed as a call's
/// only argument.
fn blocklike(x: &X) -> bool {
    matches!(x, X::Array(_) | X::Struct(..) | X::Tuple(_) | X::Block(_))
}

/// A writer of laid-out text into a [`Code`], tracking the column as
/// prettyplease does (a string literal spanning lines counts its whole
/// length).
pub(super) struct Out<'c> {
    code: &'c mut Code,
    col: usize,
    lim: usize,
}

impl<'c> Out<'c> {
    /// Starts a line at the code's indentation.
    pub(super) fn line(code: &'c mut Code) -> Self {
        let col = code.start_line();
        Out { code, col, lim: limit(col) }
    }

    /// The indentation of the line started by [`Out::line`].
    pub(super) fn col(&self) -> usize {
        self.col
    }

    /// Ends the current line.
    pub(super) fn end(self) {
        self.code.push("\n");
    }

    pub(super) fn text(&mut self, s: &str) {
        self.code.push(s);
        self.col += s.len();
    }

    fn nl(&mut self, indent: usize) {
        self.code.newline(indent);
        self.col = indent;
        self.lim = limit(indent);
    }

    fn fits(&self, w: usize) -> bool {
        self.col.saturating_add(w) <= self.lim
    }

    /// An expression on one line.
    fn flat(&mut self, x: &X, bi: usize) {
        match x {
            X::T(s) => self.text(s),
            X::Pre(p, x) => {
                self.text(p);
                self.flat(x, bi);
            }
            X::Try(x) => {
                self.flat(x, bi);
                self.text("?");
            }
            X::Call(c, a) => {
                self.flat(c, bi);
                self.flat_list("(", a, ")", bi);
            }
            X::Angle(p, a) => {
                self.text(p);
                self.flat_list("<", a, ">", bi);
            }
            X::Tuple(a) => self.flat_list("(", a, ")", bi),
            X::Array(a) => self.flat_list("[", a, "]", bi),
            X::Chain(b, links) => {
                self.text(b);
                for l in links {
                    self.text(".");
                    match l {
                        Link::Field(f) => self.text(f),
                        Link::Method(m, a) => {
                            self.text(m);
                            self.flat_list("(", a, ")", bi);
                        }
                    }
                }
            }
            X::Struct(p, fields) => {
                self.text(p);
                self.text(" {");
                for (i, (f, v)) in fields.iter().enumerate() {
                    self.text(if i == 0 { " " } else { ", " });
                    self.text(f);
                    if let Some(v) = v {
                        self.text(": ");
                        self.flat(v, bi);
                    }
                }
                self.text(if fields.is_empty() { "}" } else { " }" });
            }
            X::Mac(n, toks) => {
                self.text(n);
                self.text("!(");
                self.text(toks);
                self.text(")");
            }
            // Never flat; laid out as a block wherever it is.
            X::Block(_) => self.expr(x, bi, 0),
        }
    }

    fn flat_list(&mut self, open: &str, a: &[X], close: &str, bi: usize) {
        self.text(open);
        for (i, x) in a.iter().enumerate() {
            if i > 0 {
                self.text(", ");
            }
            self.flat(x, bi);
        }
        self.text(close);
    }

    /// An expression starting at the current column, inside a box
    /// indented by `bi`, followed by `tail` columns of text.
    pub(super) fn expr(&mut self, x: &X, bi: usize, tail: usize) {
        match x {
            X::T(s) => self.text(s),
            X::Pre(p, x) => {
                self.text(p);
                self.expr(x, bi, tail);
            }
            X::Try(x) => {
                self.expr(x, bi, tail + 1);
                self.text("?");
            }
            X::Call(c, a) => {
                self.expr(c, bi, list_width(a).saturating_add(2 + tail));
                self.text("(");
                self.args(a, bi, tail + 1);
                self.text(")");
            }
            X::Angle(p, a) => {
                self.text(p);
                self.text("<");
                self.list(a, bi, tail + 1);
                self.text(">");
            }
            X::Tuple(a) => {
                self.text("(");
                self.list(a, bi, tail + 1);
                self.text(")");
            }
            X::Array(a) => {
                self.text("[");
                self.list(a, bi, tail + 1);
                self.text("]");
            }
            X::Chain(b, links) => {
                if self.fits(width(x).saturating_add(tail)) {
                    return self.flat(x, bi);
                }
                // Every link on a line of its own, one level in.
                let mi = bi + 4;
                self.text(b);
                for (i, l) in links.iter().enumerate() {
                    self.nl(mi);
                    self.text(".");
                    match l {
                        Link::Field(f) => self.text(f),
                        Link::Method(m, a) => {
                            self.text(m);
                            self.text("(");
                            let after = if i + 1 == links.len() { tail } else { 0 };
                            self.args(a, mi, after + 1);
                            self.text(")");
                        }
                    }
                }
            }
            X::Block(stmts) => {
                self.text("{");
                for s in stmts {
                    self.nl(bi + 4);
                    self.stmt(s, bi + 4);
                }
                self.nl(bi);
                self.text("}");
            }
            X::Struct(p, fields) => {
                let narrow = struct_measure(p, fields) <= 34;
                if fields.is_empty() {
                    // `Path {}` breaks only when wider than 34, and not
                    // when `Path {` already passes the line's end:
                    // prettyplease has then printed the box before
                    // measuring it, and drops the break left empty.
                    if narrow || !self.fits(p.len() + 2) {
                        return self.flat(x, bi);
                    }
                } else if narrow && self.fits(width(x).saturating_add(tail)) {
                    return self.flat(x, bi);
                }
                self.text(p);
                self.text(" {");
                for (i, (f, v)) in fields.iter().enumerate() {
                    self.nl(bi + 4);
                    self.text(f);
                    if let Some(v) = v {
                        self.text(": ");
                        self.expr(v, bi + 4, usize::from(i + 1 < fields.len()));
                    }
                    self.text(",");
                }
                self.nl(bi);
                self.text("}");
            }
            X::Mac(n, toks) => {
                self.text(n);
                self.text("!(");
                if self.fits(toks.len() + 1 + tail) {
                    self.text(toks);
                } else {
                    // The tokens fill lines one level in.
                    let ind = bi + 4;
                    self.nl(ind);
                    for (i, w) in words(toks).enumerate() {
                        if i > 0 {
                            if self.fits(1 + w.len()) {
                                self.text(" ");
                            } else {
                                self.nl(ind);
                            }
                        }
                        self.text(w);
                    }
                    self.nl(bi);
                }
                self.text(")");
            }
        }
    }

    /// A call's arguments after its `(`.
    fn args(&mut self, a: &[X], bi: usize, tail: usize) {
        match a {
            [x] if blocklike(x) => self.expr(x, bi, tail),
            _ => self.list(a, bi, tail),
        }
    }

    /// Comma-separated items after their opening delimiter: on one line,
    /// or one a line with a trailing comma, one level in.
    fn list(&mut self, a: &[X], bi: usize, tail: usize) {
        // prettyplease drops a box holding nothing but its break.
        if a.is_empty() {
            return;
        }
        if self.fits(list_width(a).saturating_add(tail)) {
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    self.text(", ");
                }
                self.flat(x, bi);
            }
            return;
        }
        let ni = bi + 4;
        for (i, x) in a.iter().enumerate() {
            self.nl(ni);
            self.expr(x, ni, usize::from(i + 1 < a.len()));
            self.text(",");
        }
        self.nl(bi);
    }

    /// A statement at the start of a line indented by `bi`.
    pub(super) fn stmt(&mut self, s: &St, bi: usize) {
        match s {
            St::Lines(lines) => {
                for (i, l) in lines.iter().enumerate() {
                    if i > 0 {
                        self.nl(bi);
                    }
                    self.text(l);
                }
            }
            St::Expr { attr, x, semi } => {
                let semi = usize::from(*semi);
                if let Some(a) = attr {
                    self.attr(a, bi);
                    // The statement joins its attribute's line if it fits.
                    if self.fits(width(x).saturating_add(1 + semi)) {
                        self.text(" ");
                    } else {
                        self.nl(bi);
                    }
                }
                self.expr(x, bi, semi);
                if semi == 1 {
                    self.text(";");
                }
            }
        }
    }

    /// A match arm at the start of a line indented by `bi`.
    pub(super) fn arm(&mut self, arm: &Arm) {
        let bi = self.col;
        if !arm.attr.is_empty() {
            self.attr(arm.attr, bi);
            self.nl(bi);
        }
        self.expr(&arm.pat, bi, 4);
        self.text(" => ");
        match &arm.body {
            // The trailing comma is not measured.
            Body::Expr(x) if self.fits(width(x)) => {
                self.flat(x, bi);
                self.text(",");
            }
            Body::Expr(x) => {
                self.text("{");
                self.nl(bi + 4);
                self.expr(x, bi + 4, 0);
                self.nl(bi);
                self.text("}");
            }
            Body::Block(stmts) => {
                self.text("{");
                for s in stmts {
                    self.nl(bi + 4);
                    self.stmt(s, bi + 4);
                }
                self.nl(bi);
                self.text("}");
            }
        }
    }

    /// An outer attribute (`#[...]`) at the current column, in a box
    /// indented by `bi`: its parenthesized lists break one item a line.
    pub(super) fn attr(&mut self, a: &str, bi: usize) {
        if self.fits(a.len()) {
            return self.text(a);
        }
        match a.strip_prefix("#[").and_then(|a| a.strip_suffix(']')) {
            Some(meta) => {
                self.text("#[");
                self.meta(meta, bi, 1);
                self.text("]");
            }
            None => self.text(a),
        }
    }

    fn meta(&mut self, m: &str, bi: usize, tail: usize) {
        let Some(open) = list_start(m) else { return self.text(m) };
        self.text(&m[..=open]);
        let items = &m[open + 1..m.len() - 1];
        if self.fits(items.len() + 1 + tail) {
            self.text(items);
        } else {
            let parts: Vec<&str> = split_top(items).collect();
            for (i, p) in parts.iter().enumerate() {
                let last = i + 1 == parts.len();
                self.nl(bi + 4);
                self.meta(p, bi + 4, usize::from(!last));
                if !last {
                    self.text(",");
                }
            }
            self.nl(bi);
        }
        self.text(")");
    }

    /// `head(params) -> ret {` for a function at the start of the line.
    pub(super) fn signature(&mut self, head: &str, params: &[X], ret: Option<&X>) {
        let i = self.col;
        let rw = ret.map_or(0, |r| width(r).saturating_add(4));
        self.text(head);
        self.text("(");
        if params.is_empty() || self.fits(list_width(params).saturating_add(rw).saturating_add(3)) {
            for (n, p) in params.iter().enumerate() {
                if n > 0 {
                    self.text(", ");
                }
                self.flat(p, i);
            }
            self.text(")");
            if let Some(r) = ret {
                // Without parameters, the return type can still break.
                self.text(" -> ");
                self.expr(r, i, 2);
            }
        } else {
            for (n, p) in params.iter().enumerate() {
                self.nl(i + 4);
                self.expr(p, i + 4, usize::from(n + 1 < params.len()));
                self.text(",");
            }
            self.nl(i);
            self.text(")");
            if let Some(r) = ret {
                self.text(" -> ");
                self.expr(r, i, 2);
            }
        }
        self.text(" {");
    }

    /// `head trait_ for ty {` for an impl at the start of the line.
    pub(super) fn impl_header(&mut self, head: &str, trait_: &X, ty: &X) {
        let i = self.col;
        self.text(head);
        self.text(" ");
        self.expr(trait_, i, 0);
        if self.fits(width(ty).saturating_add(7)) {
            self.text(" ");
        } else {
            self.nl(i);
        }
        self.text("for ");
        self.expr(ty, i, 2);
        self.text(" {");
    }
}

/// Where the item list of an attribute's `path(...)` starts: a `(` before
/// any `=` or literal, closed at the end.
fn list_start(m: &str) -> Option<usize> {
    let open = m.find(['(', '=', '"'])?;
    (m.as_bytes()[open] == b'(' && m.ends_with(')')).then_some(open)
}

impl Code {
    /// An attribute line at the current depth.
    pub(super) fn attr(&mut self, a: &str) {
        if a.is_empty() {
            return;
        }
        let mut o = Out::line(self);
        let bi = o.col();
        o.attr(a, bi);
        o.end();
    }

    /// A statement line at the current depth.
    pub(super) fn stmt(&mut self, s: &St) {
        let mut o = Out::line(self);
        let bi = o.col();
        o.stmt(s, bi);
        o.end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `f` writes on a line indented by `depth` levels.
    fn lay(depth: usize, f: impl FnOnce(&mut Out, usize)) -> String {
        let mut c = Code::new();
        for _ in 0..depth {
            c.indent_in();
        }
        let mut o = Out::line(&mut c);
        let bi = o.col();
        f(&mut o, bi);
        o.end();
        c.finish()
    }

    #[test]
    fn attributes_break_their_lists() {
        let long = "#[cfg(all(all(qapi = \"TEST_IF_EVT\", qapi = \"TEST_IF_STRUCT\"), qapi = \"TEST_IF_STRUCT\"))]";
        assert_eq!(lay(0, |o, bi| o.attr(long, bi)), format!("{long}\n"));
        assert_eq!(
            lay(1, |o, bi| o.attr(long, bi)),
            "    #[cfg(\n        all(all(qapi = \"TEST_IF_EVT\", qapi = \"TEST_IF_STRUCT\"), qapi = \"TEST_IF_STRUCT\")\n    )]\n"
        );
        assert_eq!(
            lay(3, |o, bi| o.attr(long, bi)),
            concat!(
                "            #[cfg(\n",
                "                all(\n",
                "                    all(qapi = \"TEST_IF_EVT\", qapi = \"TEST_IF_STRUCT\"),\n",
                "                    qapi = \"TEST_IF_STRUCT\"\n",
                "                )\n",
                "            )]\n"
            )
        );
    }

    #[test]
    fn macro_tokens_fill_lines() {
        let m = X::Mac(
            "cfg",
            "all(all(qapi = \"TEST_IF_CMD\", qapi = \"TEST_IF_STRUCT\"), qapi = \"TEST_IF_STRUCT\")".into(),
        );
        assert_eq!(
            lay(6, |o, bi| o.expr(&m, bi, 1)),
            concat!(
                "                        cfg!(\n",
                "                            all(all(qapi = \"TEST_IF_CMD\", qapi = \"TEST_IF_STRUCT\"), qapi\n",
                "                            = \"TEST_IF_STRUCT\")\n",
                "                        )\n"
            )
        );
    }

    #[test]
    fn types_split_into_boxes() {
        assert_eq!(
            lay(0, |o, bi| o.flat(&ty("Result_<::std::vec::Vec<A>, B>"), bi)),
            "Result_<::std::vec::Vec<A>, B>\n"
        );
        assert_eq!(split_top("a, b(c, \"d,\"), e").collect::<Vec<_>>(), ["a", "b(c, \"d,\")", "e"]);
    }
}
