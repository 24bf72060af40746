//! pest parsing and lowering into [`Value`] / [`DocBlock`].

use std::sync::Arc;

use indexmap::IndexMap;
use pest::iterators::Pair;
use pest::Parser as _;

use super::{DocBlock, DocLine, Item, Object, Value, ValueKind};
use crate::diag::{Diagnostic, Diagnostics};
use crate::source::{SourceFile, Span};

#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
struct QapiParser;

/// Deepest nesting of `{` / `[` accepted. Real schemas nest about six
/// levels; the bound keeps the recursive-descent parser's stack use small.
pub const MAX_NESTING: usize = 128;

/// Parses one file into its top-level items.
///
/// Syntax errors stop the parse (what follows cannot be trusted); errors in
/// tokens the grammar accepted, such as a bad escape or a duplicate key, are
/// all reported and parsing goes on.
pub fn parse_file(file: &Arc<SourceFile>, diags: &mut Diagnostics) -> Vec<Item> {
    if let Some(d) = check_nesting(file) {
        diags.push(d);
        return Vec::new();
    }
    let pairs = match QapiParser::parse(Rule::schema, &file.text) {
        Ok(p) => p,
        Err(e) => {
            diags.push(syntax_error(file, &e));
            return Vec::new();
        }
    };
    let mut items = Vec::new();
    let lower = Lower { file };
    for pair in pairs.flatten().take(1).flat_map(|schema| schema.into_inner()) {
        match pair.as_rule() {
            Rule::EOI => {}
            Rule::doc_block => items.push(Item::Doc(lower.doc_block(pair))),
            _ => {
                if let Some(v) = lower.value(pair, diags) {
                    items.push(Item::Expr(v));
                }
            }
        }
    }
    items
}

struct Lower<'a> {
    file: &'a Arc<SourceFile>,
}

impl Lower<'_> {
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.file, s.start(), s.end())
    }

    /// Lowers a value; `None` after reporting a bad token.
    fn value(&self, pair: Pair<'_, Rule>, diags: &mut Diagnostics) -> Option<Value> {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::string => ValueKind::Str(self.string(&pair, diags)?),
            Rule::boolean => ValueKind::Bool(pair.as_str() == "true"),
            Rule::array => {
                let mut list = Vec::new();
                let mut ok = true;
                for p in pair.into_inner() {
                    if matches!(p.as_rule(), Rule::lbrack | Rule::rbrack | Rule::comma) {
                        continue;
                    }
                    match self.value(p, diags) {
                        Some(v) => list.push(v),
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                ValueKind::List(list)
            }
            Rule::object => {
                let mut members = IndexMap::default();
                let mut ok = true;
                for m in pair.into_inner().filter(|p| p.as_rule() == Rule::member) {
                    let mut inner = m.into_inner();
                    let (Some(k), Some(_colon), Some(v)) = (inner.next(), inner.next(), inner.next()) else {
                        continue;
                    };
                    let key_span = self.span(&k);
                    let key = self.value(k, diags);
                    let val = self.value(v, diags);
                    match (key, val) {
                        (Some(Value { kind: ValueKind::Str(key), .. }), Some(val)) => {
                            if members.contains_key(&key) {
                                diags.push(Diagnostic::error(val.span.clone(), format!("duplicate key '{key}'")));
                                ok = false;
                            } else {
                                members.insert(key, (key_span, val));
                            }
                        }
                        _ => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                ValueKind::Object(Object { members })
            }
            Rule::unterminated => {
                diags.push(Diagnostic::error(span, "missing terminating \"'\""));
                return None;
            }
            _ => {
                diags.push(Diagnostic::error(span, format!("stray '{}'", pair.as_str())));
                return None;
            }
        };
        Some(Value { kind, span })
    }

    /// Decodes a string token: only `\\` is an escape, and only printable
    /// ASCII is allowed, as in QEMU.
    fn string(&self, pair: &Pair<'_, Rule>, diags: &mut Diagnostics) -> Option<String> {
        let span = self.span(pair);
        match decode_string(pair.as_str()) {
            Ok(s) => Some(s),
            Err(msg) => {
                diags.push(Diagnostic::error(span, msg));
                None
            }
        }
    }

    /// Splits a documentation block token into its `#` lines.
    fn doc_block(&self, pair: Pair<'_, Rule>) -> DocBlock {
        let span = pair.as_span();
        let (start, end) = (span.start(), span.end());
        let mut lines = Vec::new();
        let mut offset = start;
        for raw in pair.as_str().split('\n') {
            let text = raw.trim_start_matches([' ', '\t', '\r', '\x0b', '\x0c']);
            if text.starts_with('#') {
                let at = offset + (raw.len() - text.len());
                lines.push(DocLine { span: Span::new(self.file, at, at + text.len()) });
            }
            offset += raw.len() + 1;
        }
        // The grammar guarantees the opening mark; a second '##' line closes.
        let mut lines = lines.into_iter();
        let open = lines.next().unwrap_or_else(|| DocLine { span: Span::new(self.file, start, start) });
        let mut lines: Vec<DocLine> = lines.collect();
        let close = if lines.last().is_some_and(|l| l.text().starts_with("##")) { lines.pop() } else { None };
        let next = next_token(&self.file.text, end);
        DocBlock { open, lines, close, next_token: Span::new(self.file, next, next) }
    }
}

/// Decodes the text of a quoted string token (quotes included).
fn decode_string(token: &str) -> Result<String, String> {
    let body = token.get(1..token.len().saturating_sub(1)).unwrap_or("");
    // Nearly every string is plain printable ASCII: take it as it is.
    if body.bytes().all(|b| (b' '..=b'~').contains(&b) && b != b'\\') {
        return Ok(body.to_owned());
    }
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(ch) = chars.next() {
        let ch = if ch == '\\' {
            match chars.next() {
                Some('\\') => '\\',
                Some(other) => return Err(format!("unknown escape \\{other}")),
                None => return Err("missing terminating \"'\"".into()),
            }
        } else {
            ch
        };
        if !(' '..='~').contains(&ch) {
            return Err("funny character in string".into());
        }
        out.push(ch);
    }
    Ok(out)
}

/// Offset of the next token at or after `pos`, skipping white space and
/// comments; at the end of the text, the final newline, where QEMU reports
/// an unexpected end of input.
fn next_token(text: &str, mut pos: usize) -> usize {
    let bytes = text.as_bytes();
    while pos < bytes.len() {
        match bytes[pos] {
            b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c => pos += 1,
            b'#' if !text[pos..].starts_with("##") => {
                pos = text[pos..].find('\n').map_or(bytes.len(), |i| pos + i);
            }
            _ => return pos,
        }
    }
    if text.ends_with('\n') {
        text.len() - 1
    } else {
        text.len()
    }
}

fn is_structural(ch: char) -> bool {
    matches!(ch, '[' | ']' | '{' | '}' | ':' | ',' | '\'') || ch.is_whitespace()
}

/// Turns a pest failure into QEMU's message for the token found there.
fn syntax_error(file: &Arc<SourceFile>, err: &pest::error::Error<Rule>) -> Diagnostic {
    let at = match err.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((p, _)) => p,
    };
    let text = &file.text;
    let pos = next_token(text, at);
    let rest = text.get(pos..).unwrap_or("");
    let here = |msg: String| Diagnostic::error(Span::new(file, pos, pos + 1), msg);

    if rest.starts_with('\'') {
        let line = rest.split('\n').next().unwrap_or("");
        let mut esc = false;
        let mut close = None;
        for (i, ch) in line.char_indices().skip(1) {
            if esc {
                esc = false;
            } else if ch == '\\' {
                esc = true;
            } else if ch == '\'' {
                close = Some(i);
                break;
            }
        }
        match close {
            None => return here("missing terminating \"'\"".into()),
            Some(i) => {
                if let Err(msg) = decode_string(&line[..=i]) {
                    return here(msg);
                }
            }
        }
    } else if let Some(ch) = rest.chars().next() {
        if ch == '#' && rest.starts_with("##") {
            // Documentation inside an expression.
        } else if !is_structural(ch) && !rest.starts_with("true") && !rest.starts_with("false") {
            let word: String = rest.chars().take_while(|&c| !is_structural(c)).collect();
            return here(format!("stray '{word}'"));
        }
    }

    let expected: Vec<Rule> = match &err.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => positives.clone(),
        pest::error::ErrorVariant::CustomError { .. } => Vec::new(),
    };
    if std::env::var_os("QAPI_GEN_DEBUG_PEST").is_some() {
        eprintln!("pest: {err:?}");
    }
    let has = |r: Rule| expected.contains(&r);
    let wants_key = has(Rule::member) || has(Rule::string);
    let msg = if has(Rule::lbrace) || has(Rule::lbrack) || has(Rule::EOI) {
        if has(Rule::rbrack) {
            "expected '{', '[', ']', string, or boolean"
        } else {
            "expected '{', '[', string, or boolean"
        }
    } else if has(Rule::colon) {
        "expected ':'"
    } else if has(Rule::comma) && has(Rule::rbrace) {
        "expected ',' or '}'"
    } else if has(Rule::comma) && has(Rule::rbrack) {
        "expected ',' or ']'"
    } else if wants_key && has(Rule::rbrace) {
        "expected string or '}'"
    } else if wants_key {
        "expected string"
    } else {
        "syntax error"
    };
    here(msg.to_owned())
}

/// Rejects nesting deeper than [`MAX_NESTING`] before the recursive parser
/// sees it.
fn check_nesting(file: &Arc<SourceFile>) -> Option<Diagnostic> {
    let bytes = file.text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'\'' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'\'' && bytes[i] != b'\n' {
                    // An escape never hides a newline: an unclosed string
                    // ends at the end of its line.
                    if bytes[i] == b'\\' && bytes.get(i + 1).is_some_and(|&b| b != b'\n') {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(Diagnostic::error(
                        Span::new(file, i, i + 1),
                        format!("nesting deeper than {MAX_NESTING} levels"),
                    ));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}
