//! Laying out code the way prettyplease lays it out.
//!
//! A [`Unit`] is a stretch of code written as flat text plus the boxes and
//! break points prettyplease's printer would see for the same syntax: a
//! box breaks when what it holds, up to the next break point outside it,
//! does not fit in the room left on the line (89 columns, at least 60
//! after the indentation); a consistent box then breaks at every one of
//! its break points, an inconsistent one only where the next stretch
//! would not fit. Most stretches fit on their line, and their flat text
//! is written as it is; only the others are laid out.
//!
//! Types write units directly; commands, events and the introspection
//! describe expressions, statements and match arms as trees ([`X`],
//! [`St`], [`Arm`]), which [`Unit::x`], [`Unit::stmt`] and [`Unit::arm`]
//! turn into the boxes and breaks prettyplease makes of that syntax.

use std::fmt::{self, Write as _};

use std::borrow::Cow;

use super::text::{w, Code, MARGIN, MIN_SPACE};

/// The width of something that can never fit.
const INF: isize = 0xffff;

/// The room a line indented by `indent` columns has after it.
fn room(indent: isize) -> isize {
    (MARGIN as isize - indent).max(MIN_SPACE as isize)
}

#[derive(Clone, Copy, Debug)]
enum Tok {
    /// A box opens at byte `at` of the text; `forced` boxes are broken
    /// whatever their width (they hold forced line breaks further on).
    Begin {
        at: u32,
        off: i8,
        consistent: bool,
        forced: bool,
    },
    End {
        at: u32,
    },
    /// A break point: `blank` spaces in the flat text (and a `,` after
    /// them if `comma`: a match arm's comma, written only when the arm
    /// stays on one line and, as in prettyplease, not counted in widths);
    /// when broken, `pre` is written before the newline and `post` after
    /// the indentation.
    Break {
        at: u32,
        blank: u8,
        off: i8,
        pre: u8,
        post: u8,
        comma: bool,
        never: bool,
        /// Written as nothing at all when the line has already run past
        /// its room here (prettyplease has then printed the box around
        /// it before it could be kept: an empty struct literal's break).
        lapse: bool,
    },
    /// Something infinitely wide: the boxes around it must break (a
    /// struct literal wider than 34 columns, a hard break's blank).
    Inf {
        at: u32,
    },
}

/// One stretch of code: its flat text and its boxes and break points.
#[derive(Debug, Default)]
pub(super) struct Unit {
    text: String,
    toks: Vec<Tok>,
    /// Indices of the boxes still open.
    open: Vec<usize>,
    /// A break point outside any box, or directly in a forced box: it
    /// breaks even when everything fits.
    top_break: bool,
    /// Bytes of text not counted in widths (arm commas).
    uncounted: usize,
    inf: bool,
    // Scratch space for laying out.
    wpos: Vec<isize>,
    size: Vec<isize>,
    level: Vec<usize>,
}

impl Unit {
    pub(super) fn new() -> Self {
        Unit::default()
    }

    fn at(&self) -> u32 {
        // Units are at most a function body: far below 4 GiB.
        u32::try_from(self.text.len()).unwrap_or(u32::MAX)
    }

    /// Flat text.
    pub(super) fn s(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    /// Formatted flat text (see [`u!`]).
    pub(super) fn fmt(&mut self, args: fmt::Arguments<'_>) -> &mut Self {
        // Writing to a String cannot fail.
        let _ = self.text.write_fmt(args);
        self
    }

    fn begin(&mut self, off: i8, consistent: bool, forced: bool) -> &mut Self {
        self.open.push(self.toks.len());
        self.toks.push(Tok::Begin { at: self.at(), off, consistent, forced });
        self
    }

    /// A consistent box (all its breaks break together).
    pub(super) fn cbox(&mut self, off: i8) -> &mut Self {
        self.begin(off, true, false)
    }

    /// An inconsistent box (each break breaks when what follows it does
    /// not fit).
    pub(super) fn ibox(&mut self, off: i8) -> &mut Self {
        self.begin(off, false, false)
    }

    /// A consistent box known to hold a forced line break after the unit
    /// (a block's body).
    pub(super) fn forced(&mut self, off: i8) -> &mut Self {
        self.begin(off, true, true)
    }

    pub(super) fn end(&mut self) -> &mut Self {
        let begin = self.open.pop();
        // An empty box around one break vanishes, as in prettyplease.
        if let (Some(b), [.., Tok::Begin { at: a, .. }, Tok::Break { at: k, blank, comma: false, .. }]) =
            (begin, self.toks.as_slice())
        {
            let (a, k, blank) = (*a as usize, *k as usize, *blank as usize);
            if b + 2 == self.toks.len() && a == k && k + blank == self.text.len() {
                self.text.truncate(k);
                self.toks.truncate(b);
                return self;
            }
        }
        self.toks.push(Tok::End { at: self.at() });
        self
    }

    /// Ends a struct literal's box, which breaks when wider than `max`.
    pub(super) fn end_max(&mut self, max: usize) -> &mut Self {
        if let Some(&b) = self.open.last() {
            if let Tok::Begin { at, .. } = self.toks[b] {
                let at = at as usize;
                let commas = self.toks[b..].iter().filter(|t| matches!(t, Tok::Break { comma: true, .. })).count();
                if self.text.len() - at - commas > max {
                    self.toks.push(Tok::Inf { at: self.at() });
                    self.inf = true;
                }
            }
        }
        self.end()
    }

    fn brk(&mut self, blank: u8, off: i8, pre: u8, post: u8, comma: bool, never: bool) -> &mut Self {
        let top = match self.open.last() {
            None => true,
            Some(&b) => matches!(self.toks[b], Tok::Begin { forced: true, .. }),
        };
        self.top_break |= top && !never;
        self.toks.push(Tok::Break { at: self.at(), blank, off, pre, post, comma, never, lapse: false });
        for _ in 0..blank {
            self.text.push(' ');
        }
        if comma {
            self.text.push(',');
            self.uncounted += 1;
        }
        self
    }

    /// A break point, nothing when not broken.
    pub(super) fn zb(&mut self) -> &mut Self {
        self.brk(0, 0, 0, 0, false, false)
    }

    /// A break point, a space when not broken.
    pub(super) fn sp(&mut self) -> &mut Self {
        self.brk(1, 0, 0, 0, false, false)
    }

    /// A break point that never breaks (it ends the stretches before it).
    pub(super) fn never(&mut self) -> &mut Self {
        self.brk(0, 0, 0, 0, false, true)
    }

    /// A line break that breaks every box around it (between statements);
    /// the line after it `off` columns in.
    fn hard(&mut self, off: i8) -> &mut Self {
        self.brk(0, off, 0, 0, false, false);
        self.toks.push(Tok::Inf { at: self.at() });
        self.inf = true;
        self
    }

    /// After a list element: `, ` (a break), or for the last one a comma
    /// written only when broken and the closing delimiter back one level.
    pub(super) fn tc(&mut self, last: bool) -> &mut Self {
        if last {
            self.brk(0, -4, b',', 0, false, false)
        } else {
            self.s(",").sp()
        }
    }

    /// As [`Unit::tc`], with a space before the closing delimiter when
    /// not broken (struct literals and patterns).
    pub(super) fn tcs(&mut self, last: bool) -> &mut Self {
        if last {
            self.brk(1, -4, b',', 0, false, false)
        } else {
            self.s(",").sp()
        }
    }

    /// What follows `Path {` in a struct literal without fields:
    /// prettyplease drops its break there unless the literal is wider than
    /// its 34 columns, when `Path {` and `}` go on two lines (but not when
    /// the line has already run past its room).
    pub(super) fn empty_lit_break(&mut self, path: &str) -> &mut Self {
        if path.len() + 3 > 34 {
            self.sp_out();
            if let Some(Tok::Break { lapse, .. }) = self.toks.last_mut() {
                *lapse = true;
            }
        }
        self
    }

    /// A break point, a space when not broken, the line after it back one
    /// level (before a pattern's closing brace).
    pub(super) fn sp_out(&mut self) -> &mut Self {
        self.brk(1, -4, 0, 0, false, false)
    }

    /// A match arm whose body is an expression: `pat => ` then, when it
    /// does not fit, the body in braces on lines of its own.
    pub(super) fn arm_open(&mut self) -> &mut Self {
        self.s(" => ").never().cbox(4).brk(0, 0, b'{', 0, false, false)
    }

    /// Ends an arm opened with [`Unit::arm_open`] (`semi`: the body is a
    /// `return`, which gets a `;` in braces).
    pub(super) fn arm_close(&mut self, semi: bool) -> &mut Self {
        self.brk(0, -4, if semi { b';' } else { 0 }, b'}', true, false).end().end()
    }

    /// `(` and a box of arguments.
    pub(super) fn args(&mut self) -> &mut Self {
        self.s("(").cbox(4).zb()
    }

    /// Between two arguments.
    pub(super) fn next(&mut self) -> &mut Self {
        self.s(",").sp()
    }

    /// After the last argument: the box closed and `)`.
    pub(super) fn close(&mut self) -> &mut Self {
        self.tc(true).end().s(")")
    }

    /// A type, with a box around each list of generic arguments.
    pub(super) fn ty(&mut self, t: &str) -> &mut Self {
        let mut rest = t;
        while let Some(i) = rest.find(['<', '>', ',']) {
            self.s(&rest[..i]);
            match rest.as_bytes()[i] {
                b'<' => {
                    self.s("<").cbox(4).zb();
                }
                b'>' => {
                    self.tc(true).end().s(">");
                }
                _ => {
                    self.s(",").sp();
                }
            }
            rest = rest[i + 1..].trim_start_matches(' ');
        }
        self.s(rest)
    }

    /// `::<a, b>` after a path in an expression.
    pub(super) fn turbofish(&mut self, args: &[&str]) -> &mut Self {
        self.s("::<").cbox(4).zb();
        for (i, a) in args.iter().enumerate() {
            self.ty(a).tc(i + 1 == args.len());
        }
        self.end().s(">")
    }

    /// `base.member` as an expression that does not begin a line (a
    /// break point before the dot).
    pub(super) fn field(&mut self, base: &str, member: &str) -> &mut Self {
        self.cbox(4).s(base).zb().s(".").s(member).end()
    }

    /// An attribute such as `#[cfg(all(a = "x", b = "y"))]`, with a box
    /// inside each pair of parentheses.
    pub(super) fn attr(&mut self, a: &str) -> &mut Self {
        let inner = a.strip_prefix("#[").and_then(|a| a.strip_suffix(']')).unwrap_or(a);
        self.s("#[");
        let b = inner.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'(' => {
                    self.s("(").cbox(4).zb();
                    i += 1;
                }
                b')' => {
                    self.brk(0, -4, 0, 0, false, false).end().s(")");
                    i += 1;
                }
                b',' => {
                    self.s(",").sp();
                    i += 1;
                }
                b' ' => i += 1,
                b'=' => {
                    self.s(" = ");
                    i += 1;
                }
                b'"' => {
                    let start = i;
                    i += 1;
                    while i < b.len() && b[i] != b'"' {
                        i += if b[i] == b'\\' { 2 } else { 1 };
                    }
                    i = (i + 1).min(b.len());
                    self.s(&inner[start..i]);
                }
                _ => {
                    let start = i;
                    while i < b.len() && !b"(),= \"".contains(&b[i]) {
                        i += 1;
                    }
                    self.s(&inner[start..i]);
                }
            }
        }
        self.s("]")
    }

    /// A function signature up to its `{`: `head` is `pub fn name<..>`,
    /// then the parameters and the return type.
    pub(super) fn sig<P: Lay>(&mut self, head: &str, params: &[P], ret: Option<&(impl Lay + ?Sized)>) -> &mut Self {
        self.forced(4).s(head).s("(").never().cbox(0).zb();
        for (i, p) in params.iter().enumerate() {
            p.lay(self);
            self.tc(i + 1 == params.len());
        }
        self.end().s(")").cbox(-4);
        if let Some(r) = ret {
            r.lay(self.s(" -> "));
        }
        self.end().s(" {").end()
    }

    /// An impl's first line: `impl<generics> Trait for Type {`.
    pub(super) fn impl_head(&mut self, generics: &str, trait_: &(impl Lay + ?Sized), ty: &str) -> &mut Self {
        self.forced(4).ibox(-4).s("impl").s(generics).s(" ");
        trait_.lay(self);
        self.sp().s("for ").ty(ty).end().s(" {").end()
    }

    fn clear(&mut self) {
        self.text.clear();
        self.toks.clear();
        self.open.clear();
        self.top_break = false;
        self.uncounted = 0;
        self.inf = false;
    }

    /// Writes the unit at `code`'s indentation, then clears it.
    pub(super) fn put(&mut self, code: &mut Code) {
        let base = code.indent();
        if !self.top_break && !self.inf && (self.text.len() - self.uncounted) as isize <= room(base as isize) {
            code.line(&self.text);
        } else {
            self.lay_out(code.buf_mut(), base);
        }
        self.clear();
    }

    /// Writes the unit, breaking lines where prettyplease would.
    fn lay_out(&mut self, out: &mut String, base: usize) {
        let n = self.toks.len();
        self.wpos.clear();
        self.level.clear();
        self.size.clear();
        // Width positions and nesting levels.
        let (mut w, mut pos, mut lvl, mut max_lvl) = (0isize, 0usize, 0usize, 0usize);
        for t in &self.toks {
            let at = tok_at(t);
            w += (at - pos) as isize;
            pos = at;
            self.wpos.push(w);
            match *t {
                Tok::Begin { .. } => {
                    self.level.push(lvl);
                    lvl += 1;
                    max_lvl = max_lvl.max(lvl);
                }
                Tok::End { .. } => {
                    lvl = lvl.saturating_sub(1);
                    self.level.push(lvl);
                }
                Tok::Break { blank, comma, .. } => {
                    self.level.push(lvl);
                    w += isize::from(blank);
                    pos = at + usize::from(blank) + usize::from(comma);
                }
                Tok::Inf { .. } => {
                    self.level.push(lvl);
                    w += INF;
                }
            }
        }
        let total = w + (self.text.len() - pos) as isize;
        // Sizes: from each box's start or break to the next break point at
        // its level or outside it.
        let mut next = vec![total; max_lvl + 1];
        self.size.resize(n, 0);
        for i in (0..n).rev() {
            let l = self.level[i].min(max_lvl);
            match self.toks[i] {
                Tok::Break { .. } => {
                    self.size[i] = next[l] - self.wpos[i];
                    for x in &mut next[l..] {
                        *x = self.wpos[i];
                    }
                }
                Tok::Begin { .. } => self.size[i] = next[l] - self.wpos[i],
                _ => {}
            }
        }
        // Printing.
        struct Frame {
            broken: bool,
            consistent: bool,
            indent: isize,
        }
        let mut frames: Vec<Frame> = Vec::new();
        let mut space = room(base as isize);
        let mut indent = base as isize;
        let mut pending = base;
        let mut pos = 0usize;
        let text = &self.text;
        let flush = |out: &mut String, pending: &mut usize| {
            for _ in 0..*pending {
                out.push(' ');
            }
            *pending = 0;
        };
        for (i, t) in self.toks.iter().enumerate() {
            let at = tok_at(t);
            if at > pos {
                flush(out, &mut pending);
                out.push_str(&text[pos..at]);
                space -= (at - pos) as isize;
                pos = at;
            }
            match *t {
                Tok::Begin { off, consistent, forced, .. } => {
                    if forced || self.size[i] > space {
                        frames.push(Frame { broken: true, consistent, indent });
                        indent += isize::from(off);
                    } else {
                        frames.push(Frame { broken: false, consistent, indent });
                    }
                }
                Tok::End { .. } => {
                    if let Some(f) = frames.pop() {
                        if f.broken {
                            indent = f.indent;
                        }
                    }
                }
                Tok::Inf { .. } => {}
                Tok::Break { lapse: true, blank, comma, .. } if space < 0 => {
                    pos = at + usize::from(blank) + usize::from(comma);
                }
                Tok::Break { blank, off, pre, post, comma, never, .. } => {
                    let fits = never
                        || match frames.last() {
                            None => false,
                            Some(f) if !f.broken => true,
                            Some(f) if f.consistent => false,
                            Some(_) => self.size[i] <= space,
                        };
                    if fits {
                        pending += usize::from(blank);
                        space -= isize::from(blank);
                        if comma {
                            flush(out, &mut pending);
                            out.push(',');
                            space -= 1;
                        }
                    } else {
                        if pre != 0 {
                            flush(out, &mut pending);
                            out.push(char::from(pre));
                        }
                        out.push('\n');
                        let ind = indent + isize::from(off);
                        pending = usize::try_from(ind).unwrap_or(0);
                        space = room(ind);
                        if post != 0 {
                            flush(out, &mut pending);
                            out.push(char::from(post));
                            space -= 1;
                        }
                    }
                    pos = at + usize::from(blank) + usize::from(comma);
                }
            }
        }
        if pos < text.len() {
            flush(out, &mut pending);
            out.push_str(&text[pos..]);
        }
        out.push('\n');
    }
}

fn tok_at(t: &Tok) -> usize {
    match *t {
        Tok::Begin { at, .. } | Tok::End { at } | Tok::Break { at, .. } | Tok::Inf { at } => at as usize,
    }
}

/// An expression, pattern or type, as far as its layout is concerned.
pub(super) enum X<'a> {
    /// Text without break points: a path, a literal, `ref name`.
    T(Cow<'a, str>),
    /// A type written as text, its generic arguments in boxes.
    Ty(Cow<'a, str>),
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
    /// `{ stmts }`
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

pub(super) fn ty(s: &str) -> X<'_> {
    X::Ty(Cow::Borrowed(s))
}

/// What signatures and impl heads are given: a tree, text read as a
/// type, or a parameter `(pattern, type)` (no type for `self`).
pub(super) trait Lay {
    fn lay(&self, u: &mut Unit);
}

impl Lay for X<'_> {
    fn lay(&self, u: &mut Unit) {
        u.x(self);
    }
}

impl Lay for str {
    fn lay(&self, u: &mut Unit) {
        u.ty(self);
    }
}

impl Lay for (&str, &str) {
    fn lay(&self, u: &mut Unit) {
        u.s(self.0);
        if !self.1.is_empty() {
            u.s(": ").ty(self.1);
        }
    }
}

impl Unit {
    /// An expression, pattern or type, with prettyplease's boxes.
    pub(super) fn x(&mut self, x: &X) -> &mut Self {
        match x {
            X::T(s) => self.s(s),
            X::Ty(s) => self.ty(s),
            X::Pre(p, x) => self.s(p).x(x),
            X::Call(c, a) => self.x(c).call_args(a),
            X::Angle(p, a) if a.is_empty() => self.s(p),
            X::Angle(p, a) => self.s(p).s("<").list(a).s(">"),
            X::Try(x) => self.x(x).s("?"),
            X::Chain(base, links) => {
                // One consistent box, a break point before each dot.
                self.cbox(4).s(base);
                for l in links {
                    self.zb().s(".");
                    match l {
                        Link::Field(f) => self.s(f),
                        Link::Method(m, a) => self.s(m).cbox(0).call_args(a).end(),
                    };
                }
                self.end()
            }
            X::Tuple(a) if a.len() == 1 => {
                self.s("(").cbox(4).zb().x(&a[0]).s(",").brk(0, -4, 0, 0, false, false).end().s(")")
            }
            X::Tuple(a) => self.s("(").list(a).s(")"),
            X::Array(a) if a.is_empty() => self.s("[]"),
            X::Array(a) => self.s("[").list(a).s("]"),
            X::Block(stmts) => {
                self.cbox(4).s("{");
                match stmts.as_slice() {
                    [] => {}
                    // A lone value may stay on the line: `{ x }`.
                    [St::Expr { attr: None, x, semi: false }] => {
                        self.sp().ibox(0).x(x).end().brk(1, -4, 0, 0, false, false);
                    }
                    _ => {
                        self.stmts(stmts);
                    }
                }
                self.s("}").end()
            }
            X::Struct(p, fields) => {
                self.cbox(4).s(p).s(" {");
                if fields.is_empty() {
                    self.empty_lit_break(p);
                } else {
                    self.sp();
                }
                for (i, (f, v)) in fields.iter().enumerate() {
                    self.s(f);
                    if let Some(v) = v {
                        self.s(": ").ibox(0).x(v).end();
                    }
                    self.tcs(i + 1 == fields.len());
                }
                self.end_max(34).s("}")
            }
            X::Mac(name, toks) => {
                self.s(name).s("!(");
                if !toks.is_empty() {
                    // The tokens fill lines, breaking at spaces outside
                    // string literals.
                    self.cbox(4).zb().ibox(0);
                    let (mut quoted, mut escaped, mut start) = (false, false, 0);
                    for (i, c) in toks.char_indices() {
                        match c {
                            _ if escaped => escaped = false,
                            '\\' if quoted => escaped = true,
                            '"' => quoted = !quoted,
                            ' ' if !quoted => {
                                if i > start {
                                    self.s(&toks[start..i]).sp();
                                }
                                start = i + 1;
                            }
                            _ => {}
                        }
                    }
                    self.s(&toks[start..]).end().brk(0, -4, 0, 0, false, false).end();
                }
                self.s(")")
            }
        }
    }

    /// `(args)` of a call.
    fn call_args(&mut self, a: &[X]) -> &mut Self {
        self.s("(");
        match a {
            // A lone block-like argument gets no box of its own.
            [a @ (X::Array(_) | X::Struct(..) | X::Tuple(_) | X::Block(_))] => self.x(a),
            _ => self.list(a),
        }
        .s(")")
    }

    /// Comma-separated items in a consistent box, one a line with a
    /// trailing comma when broken.
    fn list(&mut self, a: &[X]) -> &mut Self {
        self.cbox(4).zb();
        for (i, x) in a.iter().enumerate() {
            self.x(x).tc(i + 1 == a.len());
        }
        self.end()
    }

    /// Statements one a line after a `{`, the line after them back out.
    fn stmts(&mut self, stmts: &[St]) -> &mut Self {
        for s in stmts {
            self.hard(0).stmt(s);
        }
        if stmts.is_empty() {
            self
        } else {
            self.hard(-4)
        }
    }

    /// A statement.
    pub(super) fn stmt(&mut self, s: &St) -> &mut Self {
        match s {
            St::Lines(lines) => {
                for (i, l) in lines.iter().enumerate() {
                    if i > 0 {
                        self.hard(0);
                    }
                    self.s(l);
                }
                self
            }
            St::Expr { attr, x, semi } => {
                self.ibox(0);
                // The statement joins its attribute's line if it fits.
                if let Some(a) = attr {
                    self.attr(a).sp();
                }
                self.x(x);
                if *semi {
                    self.s(";");
                }
                self.end()
            }
        }
    }

    /// A match arm, without its attribute (see [`Code::arm`]).
    fn arm(&mut self, arm: &Arm) -> &mut Self {
        self.ibox(0).x(&arm.pat);
        match &arm.body {
            Body::Expr(x) => self.arm_open().x(x).arm_close(false),
            Body::Block(stmts) => self.s(" => {").never().cbox(4).stmts(stmts).end().s("}").end(),
        }
    }
}

impl Code {
    /// An attribute line at the current depth (nothing for an empty one).
    pub(super) fn attr(&mut self, a: &str) {
        attr_line(self, &mut Unit::new(), a);
    }

    /// A statement at the current depth.
    pub(super) fn stmt(&mut self, s: &St) {
        Unit::new().stmt(s).put(self);
    }

    /// A match arm at the current depth.
    pub(super) fn arm(&mut self, arm: &Arm) {
        self.attr(arm.attr);
        Unit::new().arm(arm).put(self);
    }
}

/// `u!(unit, "fmt", args...)`: formatted flat text.
macro_rules! u {
    ($unit:expr, $($arg:tt)*) => {
        $unit.fmt(format_args!($($arg)*))
    };
}
pub(super) use u;

/// Opens an impl of a generated item: a blank line, its `#[cfg]` (if
/// any), `#[allow(deprecated)]` when `allow`, then `impl<generics> trait_
/// for ty {` laid out (`impl ty {` when `trait_` is `None`, which has no
/// place to break), one level in.
pub(super) fn impl_open<T: Lay + ?Sized>(
    code: &mut Code,
    u: &mut Unit,
    guard: &str,
    allow: bool,
    generics: &str,
    trait_: Option<&T>,
    ty: &str,
) {
    code.item();
    attr_line(code, u, guard);
    if allow {
        code.line("#[allow(deprecated)]");
    }
    match trait_ {
        Some(t) => u.impl_head(generics, t, ty).put(code),
        None => w!(code, "impl{generics} {ty} {{"),
    }
    code.indent_in();
}

/// An attribute on a line of its own (nothing for an empty one).
pub(super) fn attr_line(code: &mut Code, u: &mut Unit, a: &str) {
    if a.is_empty() {
        return;
    }
    if a.len() as isize <= room(code.indent() as isize) {
        code.line(a);
    } else {
        u.attr(a).put(code);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lay(indent: usize, f: impl FnOnce(&mut Unit)) -> String {
        let mut code = Code::new();
        for _ in 0..indent / 4 {
            code.indent_in();
        }
        let mut u = Unit::new();
        f(&mut u);
        u.put(&mut code);
        code.finish()
    }

    #[test]
    fn calls_break_their_arguments() {
        let out = lay(8, |u| {
            u.ibox(0).s("qapi_rt_::types::deserialize_enum").args().s("deserializer").next();
            u.s("\"SocketAddressType\"").next().s("Self::from_wire").next();
            u.s("Option_::Some").args().s("Self::Unknown").close().close().end();
        });
        assert_eq!(
            out,
            "        qapi_rt_::types::deserialize_enum(\n            deserializer,\n            \"SocketAddressType\",\n            Self::from_wire,\n            Option_::Some(Self::Unknown),\n        )\n"
        );
    }

    #[test]
    fn long_attributes_break_inside_parentheses() {
        let a = "#[cfg(all(all(qapi = \"TEST_IF_EVT\", qapi = \"TEST_IF_STRUCT\"), qapi = \"TEST_IF_STRUCT\"))]";
        let at = |depth| {
            let mut code = Code::new();
            for _ in 0..depth {
                code.indent_in();
            }
            code.attr(a);
            code.finish()
        };
        assert_eq!(at(0), format!("{a}\n"));
        assert_eq!(
            at(1),
            "    #[cfg(\n        all(all(qapi = \"TEST_IF_EVT\", qapi = \"TEST_IF_STRUCT\"), qapi = \"TEST_IF_STRUCT\")\n    )]\n"
        );
        assert_eq!(
            at(3),
            "            #[cfg(\n                all(\n                    all(qapi = \"TEST_IF_EVT\", qapi = \"TEST_IF_STRUCT\"),\n                    qapi = \"TEST_IF_STRUCT\"\n                )\n            )]\n"
        );
    }

    #[test]
    fn macro_tokens_fill_lines() {
        let m = X::Mac(
            "cfg",
            "all(all(qapi = \"TEST_IF_CMD\", qapi = \"TEST_IF_STRUCT\"), qapi = \"TEST_IF_STRUCT\")".into(),
        );
        assert_eq!(
            lay(24, |u| {
                u.x(&m).s(",");
            }),
            concat!(
                "                        cfg!(\n",
                "                            all(all(qapi = \"TEST_IF_CMD\", qapi = \"TEST_IF_STRUCT\"), qapi\n",
                "                            = \"TEST_IF_STRUCT\")\n",
                "                        ),\n"
            )
        );
    }

    #[test]
    fn blocks_break_everything_around_them() {
        let block = X::Block(vec![
            St::Lines(vec!["let mut object = Map::new();".into()]),
            St::Expr { attr: None, x: t("Value::Object(object)"), semi: false },
        ]);
        let extend = X::Chain("array".into(), vec![Link::Method("extend".into(), vec![X::Array(vec![block])])]);
        let mut code = Code::new();
        code.stmt(&St::Expr { attr: Some("#[cfg(a)]".into()), x: extend, semi: true });
        assert_eq!(
            code.finish(),
            concat!(
                "#[cfg(a)]\n",
                "array\n",
                "    .extend([\n",
                "        {\n",
                "            let mut object = Map::new();\n",
                "            Value::Object(object)\n",
                "        },\n",
                "    ]);\n"
            )
        );
    }

    #[test]
    fn impl_heads_break_before_for() {
        let out = lay(0, |u| {
            u.impl_head("<'de>", "qapi_rt_::serde::Deserialize<'de>", "BlockdevSnapshotDeleteInternalSyncArguments");
        });
        assert_eq!(
            out,
            "impl<'de> qapi_rt_::serde::Deserialize<'de>\nfor BlockdevSnapshotDeleteInternalSyncArguments {\n"
        );
    }
}
