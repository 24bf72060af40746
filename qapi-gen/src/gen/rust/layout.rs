//! Laying out a stretch of code between two forced line breaks (a
//! statement, a match arm, a field, a signature, an attribute) the way
//! prettyplease lays it out.
//!
//! The writer records the stretch as flat text plus the boxes and break
//! points prettyplease's printer would see for the same syntax: a box
//! breaks when what it holds, up to the next break point outside it,
//! does not fit in the room left on the line (89 columns, at least 60
//! after the indentation); a consistent box then breaks at every one of
//! its break points, an inconsistent one only where the next stretch
//! would not fit. Most stretches fit on their line, and their flat text
//! is written as it is; only the others are laid out.

use std::fmt::{self, Write as _};

use super::text::{self, Code};

/// prettyplease's margin and the least room it leaves after indenting.
const MARGIN: isize = text::MARGIN as isize;
const MIN_SPACE: isize = 60;
/// The width of something that can never fit.
const INF: isize = 0xffff;

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
    },
    /// Something infinitely wide: the box around it must break
    /// (prettyplease's struct literals wider than 34 columns).
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
    level: Vec<u8>,
}

impl Unit {
    pub(super) fn new() -> Self {
        Unit::default()
    }

    fn at(&self) -> u32 {
        // Units are a line or a few: far below 4 GiB.
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
        self.toks.push(Tok::Break { at: self.at(), blank, off, pre, post, comma, never });
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
    /// `args` the parameters (types with generic arguments get boxes),
    /// `ret` the return type.
    pub(super) fn sig(&mut self, head: &str, args: &[(&str, &str)], ret: &str) -> &mut Self {
        self.forced(4).s(head).s("(").never().cbox(0).zb();
        for (i, (pat, ty)) in args.iter().enumerate() {
            self.s(pat);
            if !ty.is_empty() {
                self.s(": ").ty(ty);
            }
            self.tc(i + 1 == args.len());
        }
        self.end().s(")").cbox(-4).s(" -> ").ty(ret).end().s(" {").end()
    }

    /// An impl's first line: `impl<generics> Trait for Type {`.
    pub(super) fn impl_head(&mut self, generics: &str, trait_: &str, ty: &str) -> &mut Self {
        self.forced(4).ibox(-4).s("impl").s(generics).s(" ").ty(trait_).sp().s("for ").ty(ty).end().s(" {").end()
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
        let room = (MARGIN - base as isize).max(MIN_SPACE);
        if !self.top_break && !self.inf && (self.text.len() - self.uncounted) as isize <= room {
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
        let (mut w, mut pos, mut lvl) = (0isize, 0usize, 0u8);
        let mut max_lvl = 0u8;
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
        let mut next = vec![total; usize::from(max_lvl) + 1];
        self.size.resize(n, 0);
        for i in (0..n).rev() {
            let l = usize::from(self.level[i]).min(usize::from(max_lvl));
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
        let mut space = (MARGIN - base as isize).max(MIN_SPACE);
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
                        space = (MARGIN - ind).max(MIN_SPACE);
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

/// `u!(unit, "fmt", args...)`: formatted flat text.
macro_rules! u {
    ($unit:expr, $($arg:tt)*) => {
        $unit.fmt(format_args!($($arg)*))
    };
}
pub(super) use u;

/// An attribute on a line of its own (nothing for an empty one).
pub(super) fn attr_line(code: &mut Code, u: &mut Unit, a: &str) {
    if a.is_empty() {
        return;
    }
    let room = (MARGIN - code.indent() as isize).max(MIN_SPACE);
    if a.len() as isize <= room {
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
        let mut code = Code::new();
        code.indent_in();
        code.indent_in();
        code.indent_in();
        let mut u = Unit::new();
        attr_line(&mut code, &mut u, a);
        assert_eq!(
            code.finish(),
            "            #[cfg(\n                all(\n                    all(qapi = \"TEST_IF_EVT\", qapi = \"TEST_IF_STRUCT\"),\n                    qapi = \"TEST_IF_STRUCT\"\n                )\n            )]\n"
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
