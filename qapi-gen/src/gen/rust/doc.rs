//! QAPI documentation (reStructuredText-flavoured) as rustdoc Markdown.
//!
//! rustdoc must accept the result with every warning denied and must not
//! find doctests in it, so:
//! - prose loses its indentation (an indented block would be a Rust code
//!   block), and literal blocks (`::`, `.. qmp-example::`,
//!   `.. code-block::`) become ```` ```text ```` fences;
//! - `[`, `]`, `<` and `>` in prose are escaped (no intra-doc links, no
//!   HTML), bare URLs become `<...>` autolinks;
//! - `@member` and ``` ``literal`` ``` become code spans, reST roles
//!   (`:qapi:type:`) are dropped, admonitions become bold labels.

/// Markdown lines for a piece of QAPI documentation text.
pub fn render(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    render_lines(&lines, &mut out);
    trim_blank(&mut out);
    out
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

/// The lines after `start` that belong to a block introduced at indent
/// `base`: blank or indented deeper. Returns the end index.
fn block_end(lines: &[&str], start: usize, base: usize) -> usize {
    let mut end = start;
    let mut j = start;
    while j < lines.len() {
        if is_blank(lines[j]) {
            j += 1;
            continue;
        }
        if indent_of(lines[j]) <= base {
            break;
        }
        j += 1;
        end = j;
    }
    end
}

/// The lines of a block with their common indentation removed.
fn dedent<'a>(lines: &[&'a str]) -> Vec<&'a str> {
    let min = lines.iter().filter(|l| !is_blank(l)).map(|l| indent_of(l)).min().unwrap_or(0);
    let mut v: Vec<&str> = lines.iter().map(|l| if is_blank(l) { "" } else { &l[min..] }).collect();
    while v.first().is_some_and(|l| l.is_empty()) {
        v.remove(0);
    }
    while v.last().is_some_and(|l| l.is_empty()) {
        v.pop();
    }
    v
}

fn blank_line(out: &mut Vec<String>) {
    if out.last().is_some_and(|l| !l.is_empty()) {
        out.push(String::new());
    }
}

fn fence(body: &[&str], out: &mut Vec<String>) {
    if body.is_empty() {
        return;
    }
    let mark = if body.iter().any(|l| l.contains("```")) { "~~~~" } else { "```" };
    blank_line(out);
    out.push(format!("{mark}text"));
    out.extend(body.iter().map(|l| l.to_string()));
    out.push(mark.to_owned());
    out.push(String::new());
}

/// The width of the list marker a line starts with (`- `, `12. `).
fn list_marker(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let marker = match b.first() {
        Some(b'-' | b'*' | b'+') => 1,
        Some(c) if c.is_ascii_digit() && matches!(b.get(digits), Some(b'.' | b')')) => digits + 1,
        _ => return None,
    };
    let spaces = b[marker..].iter().take_while(|&&c| c == b' ').count();
    (spaces > 0 && marker + spaces < b.len()).then_some(marker + spaces)
}

fn render_lines(lines: &[&str], out: &mut Vec<String>) {
    let mut i = 0;
    // Within a list item's paragraph: the indentation continuation lines
    // need so as not to be lazy continuations.
    let mut item_indent = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim();
        if trimmed.is_empty() {
            blank_line(out);
            item_indent = 0;
            i += 1;
            continue;
        }
        let indent = indent_of(line);
        if let Some((name, arg)) = directive(trimmed) {
            let end = block_end(lines, i + 1, indent);
            let body = dedent(&lines[i + 1..end]);
            render_directive(name, arg, &body, out);
            item_indent = 0;
            i = end;
            continue;
        }
        if let Some(intro) = trimmed.strip_suffix("::") {
            // A paragraph line introducing a literal block.
            let intro = intro.trim_end();
            if !intro.is_empty() {
                let text = prose(&format!("{intro}:"));
                if item_indent > 0 && list_marker(intro).is_none() {
                    out.push(format!("{}{text}", " ".repeat(item_indent)));
                } else {
                    out.push(text);
                }
            }
            let end = block_end(lines, i + 1, indent);
            fence(&dedent(&lines[i + 1..end]), out);
            item_indent = 0;
            i = end;
            continue;
        }
        if let Some(w) = list_marker(trimmed) {
            item_indent = w;
            out.push(prose(trimmed));
        } else if item_indent > 0 && out.last().is_some_and(|l| !l.is_empty()) {
            out.push(format!("{}{}", " ".repeat(item_indent), prose(trimmed)));
        } else {
            item_indent = 0;
            out.push(prose(trimmed));
        }
        i += 1;
    }
}

/// `.. name:: argument`
fn directive(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix(".. ")?;
    let (name, arg) = rest.split_once("::")?;
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b':') {
        return None;
    }
    Some((name, arg.trim()))
}

fn render_directive(name: &str, arg: &str, body: &[&str], out: &mut Vec<String>) {
    match name {
        "qmp-example" | "code-block" | "code" | "sourcecode" => {
            let mut title = None;
            let mut annotated = false;
            let mut k = 0;
            while k < body.len() && body[k].starts_with(':') {
                let opt = body[k];
                if let Some(t) = opt.strip_prefix(":title:") {
                    title = Some(t.trim());
                } else if opt.starts_with(":annotated:") {
                    annotated = true;
                }
                k += 1;
            }
            let rest = &body[k..];
            if name == "qmp-example" {
                blank_line(out);
                out.push(match title {
                    Some(t) => prose(&format!("Example: {t}")),
                    None => "Example:".to_owned(),
                });
            }
            if annotated {
                blank_line(out);
                render_lines(rest, out);
                blank_line(out);
            } else {
                fence(&dedent(rest), out);
            }
        }
        "todo" => {}
        _ => {
            let label = match name {
                "admonition" if !arg.is_empty() => arg.to_owned(),
                "seealso" => "See also".to_owned(),
                _ => {
                    let mut c = name.chars();
                    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
                }
            };
            blank_line(out);
            let arg_text =
                if name == "admonition" || arg.is_empty() { String::new() } else { format!(" {}", prose(arg)) };
            out.push(format!("**{}:**{arg_text}", prose(&label)));
            render_lines(body, out);
            blank_line(out);
        }
    }
}

fn trim_blank(out: &mut Vec<String>) {
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    while out.first().is_some_and(|l| l.is_empty()) {
        out.remove(0);
    }
    // Collapse runs of blank lines.
    out.dedup_by(|a, b| a.is_empty() && b.is_empty());
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'
}

/// Writes `s` as a code span.
fn code_span(s: &str, out: &mut String) {
    let s = s.trim();
    if s.is_empty() {
        return;
    }
    if s.contains('`') {
        out.push_str("`` ");
        out.push_str(s);
        out.push_str(" ``");
    } else {
        out.push('`');
        out.push_str(s);
        out.push('`');
    }
}

fn escape_char(c: char, out: &mut String) {
    match c {
        '[' | ']' | '<' | '>' | '`' | '\\' | '|' => {
            out.push('\\');
            out.push(c);
        }
        _ => out.push(c),
    }
}

/// Whether the byte `b`, the first of `at`, may start inline markup or a
/// character [`escape_char`] escapes: what [`prose`] cannot copy as it is.
fn starts_markup(b: u8, at: &[u8]) -> bool {
    match b {
        b'`' | b':' | b'@' | b'<' | b'>' | b'[' | b']' | b'\\' | b'|' => true,
        b'h' => at.starts_with(b"http://") || at.starts_with(b"https://"),
        _ => false,
    }
}

/// Where a bare URL starting at `s` ends.
fn url_len(s: &str) -> usize {
    let mut end = s.find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | '`')).unwrap_or(s.len());
    while let Some(last) = s[..end].chars().last() {
        let unbalanced = last == ')' && s[..end].matches('(').count() < s[..end].matches(')').count();
        if matches!(last, '.' | ',' | ';' | ':' | '!' | '?') || unbalanced {
            end -= last.len_utf8();
        } else {
            break;
        }
    }
    end
}

/// One line of prose, inline markup converted and Markdown escaped.
pub fn prose(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut rest = line;
    // Block-level markers a line must not start with.
    let setext = !rest.is_empty() && rest.bytes().all(|b| b == b'-');
    if rest.starts_with('#') || rest.starts_with('=') || setext {
        out.push('\\');
    }
    let mut prev: Option<char> = None;
    while let Some(c) = rest.chars().next() {
        // A run of characters that are neither markup nor escaped is copied
        // whole. Every byte that can start either is ASCII, so the run
        // ends on a character boundary.
        let run =
            rest.bytes().enumerate().position(|(i, b)| starts_markup(b, &rest.as_bytes()[i..])).unwrap_or(rest.len());
        if run > 0 {
            out.push_str(&rest[..run]);
            prev = rest[..run].chars().next_back();
            rest = &rest[run..];
            continue;
        }
        if let Some((after, last)) = markup(rest, c, prev, &mut out) {
            rest = after;
            prev = last.or(prev);
            continue;
        }
        escape_char(c, &mut out);
        prev = Some(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// What a piece of inline markup leaves: the text after it, and the
/// character it counts as ending with (`None`: the one before it).
type Markup<'r> = Option<(&'r str, Option<char>)>;

/// The inline markup `rest` starts with (its first character `c`, after
/// `prev`), written to `out`.
fn markup<'r>(rest: &'r str, c: char, prev: Option<char>, out: &mut String) -> Markup<'r> {
    let after_word = prev.is_some_and(|p| p.is_alphanumeric());
    match c {
        '`' => literal(rest, out).or_else(|| interpreted(rest, out)),
        ':' if !after_word => role(rest),
        '@' if !after_word => member(rest, out),
        '<' => autolink(rest, out),
        'h' if rest.starts_with("http://") || rest.starts_with("https://") => {
            let n = url_len(rest);
            out.push('<');
            out.push_str(&rest[..n]);
            out.push('>');
            Some((&rest[n..], Some('>')))
        }
        _ => None,
    }
}

/// ``` ``literal`` ```
fn literal<'r>(rest: &'r str, out: &mut String) -> Markup<'r> {
    let after = rest.strip_prefix("``")?;
    let end = after.find("``")?;
    code_span(&after[..end], out);
    Some((&after[end + 2..], Some('`')))
}

/// `:role:` before `` `text` ``: dropped, the text stays.
fn role(rest: &str) -> Markup<'_> {
    let n = rest[1..].find(|c: char| !(c.is_ascii_lowercase() || c == ':' || c == '-'))?;
    let role = &rest[..n + 1];
    (n > 0 && role.ends_with(':') && rest[n + 1..].starts_with('`')).then(|| (&rest[n + 1..], None))
}

/// `` `interpreted text` `` (a code span), `` `link <url>`_ ``.
fn interpreted<'r>(rest: &'r str, out: &mut String) -> Markup<'r> {
    let end = rest[1..].find('`')?;
    let inner = &rest[1..1 + end];
    let after = &rest[end + 2..];
    let is_link = after.starts_with('_');
    let after = after.trim_start_matches('_');
    let (text, target) = match inner.rfind('<') {
        Some(lt) if inner.ends_with('>') => (inner[..lt].trim(), Some(&inner[lt + 1..inner.len() - 1])),
        _ => (inner, None),
    };
    match target {
        Some(t) if is_link && (t.starts_with("http://") || t.starts_with("https://")) => {
            text.chars().for_each(|ch| escape_char(ch, out));
            out.push_str(" (<");
            out.push_str(t);
            out.push_str(">)");
        }
        _ if is_link => text.chars().for_each(|ch| escape_char(ch, out)),
        _ => code_span(text, out),
    }
    Some((after, Some('`')))
}

/// `@member`: a code span.
fn member<'r>(rest: &'r str, out: &mut String) -> Markup<'r> {
    let name_len = rest[1..].find(|c: char| !is_name_char(c)).unwrap_or(rest.len() - 1);
    let name = rest[1..1 + name_len].trim_end_matches(['.', '-']);
    if name.is_empty() {
        return None;
    }
    code_span(name, out);
    Some((&rest[1 + name.len()..], Some('`')))
}

/// `<https://...>` stays an autolink.
fn autolink<'r>(rest: &'r str, out: &mut String) -> Markup<'r> {
    if !(rest[1..].starts_with("http://") || rest[1..].starts_with("https://")) {
        return None;
    }
    let end = rest.find('>')?;
    let url = &rest[1..end];
    if url.contains(char::is_whitespace) {
        return None;
    }
    out.push('<');
    out.push_str(url);
    out.push('>');
    Some((&rest[end + 1..], Some('>')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_markup() {
        assert_eq!(prose("Set @tls-creds to ``\"\"``."), "Set `tls-creds` to `\"\"`.");
        assert_eq!(prose("a [b] <c>"), "a \\[b\\] \\<c\\>");
        assert_eq!(prose("see https://qemu.org/docs."), "see <https://qemu.org/docs>.");
        assert_eq!(prose("see <https://x.org/a>"), "see <https://x.org/a>");
        assert_eq!(prose("the :qapi:type:`Foo` type"), "the `Foo` type");
        assert_eq!(prose("`QEMU <https://qemu.org>`_ rocks"), "QEMU (<https://qemu.org>) rocks");
        assert_eq!(prose("mail foo@bar.org"), "mail foo@bar.org");
        assert_eq!(prose("# not a heading"), "\\# not a heading");
        // Markup right after a run of plain text, multi-byte characters
        // included: the character before decides, as one at a time.
        assert_eq!(prose("é@foo and ü @bar"), "é@foo and ü `bar`");
        assert_eq!(prose("naïve:qapi:type:`T` é :qapi:type:`T`"), "naïve:qapi:type:`T` é `T`");
        assert_eq!(prose("seehttp://x.org/a. end"), "see<http://x.org/a>. end");
        assert_eq!(prose("ahhh|h"), "ahhh\\|h");
    }

    #[test]
    fn literal_blocks_are_fenced() {
        let text = "Example::\n\n    -> { \"execute\": \"x\" }\n    <- { \"return\": {} }\n\nAfter.";
        assert_eq!(
            render(text),
            ["Example:", "", "```text", "-> { \"execute\": \"x\" }", "<- { \"return\": {} }", "```", "", "After."]
        );
    }

    #[test]
    fn qmp_examples_and_notes() {
        let text = "Text.\n\n.. qmp-example::\n   :title: Foo\n\n   -> {}\n   <- {}\n\n.. note:: Careful\n   now.\n";
        let out = render(text);
        assert_eq!(
            out,
            ["Text.", "", "Example: Foo", "", "```text", "-> {}", "<- {}", "```", "", "**Note:** Careful", "now."]
        );
    }

    #[test]
    fn list_items_continue_indented() {
        assert_eq!(render("- If x,\n  DeviceNotFound\n- y\n\nz"), ["- If x,", "  DeviceNotFound", "- y", "", "z"]);
        assert_eq!(render("1. one\n   more"), ["1. one", "   more"]);
    }

    #[test]
    fn indentation_is_dropped_in_prose() {
        assert_eq!(render("First\n    continued"), ["First", "continued"]);
    }
}
