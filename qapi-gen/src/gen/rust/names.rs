//! Rust identifiers for QAPI names: CamelCase types and variants,
//! snake_case members and methods, keywords escaped, leading digits and
//! downstream (`__org.example_`) prefixes handled.

use std::collections::HashMap;

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use super::GenError;

/// Words Rust reserves: strict and reserved keywords of every edition.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn", "else", "enum",
    "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "macro", "match", "mod", "move",
    "mut", "override", "priv", "pub", "ref", "return", "static", "struct", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Keywords that cannot be raw identifiers: they get a trailing `_`.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// Strips the `__RFQDN_` prefix of a downstream extension's name
/// (`__org.qemu_x-Enum` → `x-Enum`), keeping the domain as a word so that
/// downstream names stay apart from upstream ones.
fn words(name: &str) -> String {
    name.trim_start_matches('_').replace('.', "_")
}

/// An identifier from already converted text: keywords escaped (`r#type`,
/// `self_`), a leading digit or an empty name prefixed with `_` (`_1`).
pub fn ident(text: &str) -> String {
    if NOT_RAW.contains(&text) {
        return format!("{text}_");
    }
    if KEYWORDS.contains(&text) {
        return format!("r#{text}");
    }
    if text.is_empty() || text.starts_with(|c: char| c.is_ascii_digit()) {
        return format!("_{text}");
    }
    text.to_owned()
}

/// The identifier token for a name [`ident`] made (`r#type` a raw one).
/// Its text is ASCII letters, digits and `_`: a valid identifier.
pub fn to_ident(text: &str) -> Ident {
    match text.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(text, Span::call_site()),
    }
}

/// The tokens of a path [`rust_path`] accepted.
pub fn path(path: &str) -> TokenStream {
    let (lead, rest) = match path.strip_prefix("::") {
        Some(rest) => (quote!(::), rest),
        None => (TokenStream::new(), path),
    };
    let segments = rest.split("::").map(to_ident);
    quote!(#lead #(#segments)::*)
}

/// `text` is a plain identifier: a letter or `_` then letters, digits and
/// `_`, and not `_` alone (a cfg key, a path segment).
pub fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
        && text != "_"
}

/// `path` as a Rust path to a module or crate (`::qapi_runtime`,
/// `crate::rt`), white space around `::` removed; `None` when it is not
/// one.
pub fn rust_path(path: &str) -> Option<String> {
    let path = path.trim();
    let (lead, rest) = match path.strip_prefix("::") {
        Some(rest) => ("::", rest),
        None => ("", path),
    };
    let segments: Vec<&str> = rest.split("::").map(str::trim).collect();
    segments
        .iter()
        .all(|seg| is_identifier(seg.strip_prefix("r#").unwrap_or(seg)))
        .then(|| format!("{lead}{}", segments.join("::")))
}

/// Checks that converted names don't clash within one type.
pub(super) struct Scope<'s> {
    type_name: &'s str,
    seen: HashMap<String, String>,
}

impl<'s> Scope<'s> {
    pub(super) fn new(type_name: &'s str) -> Self {
        Scope { type_name, seen: HashMap::new() }
    }

    /// Takes the Rust name `rust` for the QAPI name `qapi`.
    pub(super) fn claim(&mut self, rust: &str, qapi: &str) -> Result<(), GenError> {
        if let Some(first) = self.seen.get(rust) {
            return Err(GenError::Clash {
                rust: rust.to_owned(),
                first: format!("'{first}'"),
                second: format!("'{qapi}'"),
                scope: format!(" in '{}'", self.type_name),
            });
        }
        self.seen.insert(rust.to_owned(), qapi.to_owned());
        Ok(())
    }
}

/// The text of a CamelCase name (types, variants) for `name`.
pub fn camel(name: &str) -> String {
    name_text(name, true)
}

/// The text of a snake_case name (members, methods) for `name`.
pub fn snake(name: &str) -> String {
    name_text(name, false)
}

fn name_text(name: &str, upper: bool) -> String {
    let w = words(name);
    let s = simple_case(&w, upper).unwrap_or_else(|| if upper { w.to_upper_camel_case() } else { w.to_snake_case() });
    if s.is_empty() || !s.is_ascii() {
        // Nothing alphanumeric, or letters Rust may not take in an
        // identifier: spell the bytes.
        return name.bytes().map(|b| format!("x{b:02x}")).collect();
    }
    s
}

/// What heck makes of `text` when it holds only lowercase ASCII letters,
/// digits, `-` and `_`, as most QAPI names do: its words are then the runs
/// between separators, with no case boundaries to look for, and heck's
/// general (Unicode, formatter-driven) conversion is a tenth of generation
/// time. `None` for any other text.
fn simple_case(text: &str, upper: bool) -> Option<String> {
    if !text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_') {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    for word in text.split(['-', '_']).filter(|w| !w.is_empty()) {
        if upper {
            let (first, rest) = word.split_at(1);
            out.extend(first.chars().map(|c| c.to_ascii_uppercase()));
            out.push_str(rest);
        } else {
            if !out.is_empty() {
                out.push('_');
            }
            out.push_str(word);
        }
    }
    Some(out)
}

/// A type's Rust name: the QAPI name itself when it already is a tidy
/// CamelCase identifier (`MigrationInfo`, `QCryptoTLSCredsEndpoint`), so
/// that QEMU's documentation finds it; otherwise converted
/// (`__org.qemu_x-Struct` → `OrgQemuXStruct`).
pub fn type_name(name: &str) -> String {
    let b = name.as_bytes();
    let tidy = matches!(b.first(), Some(c) if c.is_ascii_uppercase())
        && b.iter().all(u8::is_ascii_alphanumeric)
        && b.iter().any(u8::is_ascii_lowercase);
    if tidy {
        name.to_owned()
    } else {
        camel(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(type_name("MigrationInfo"), "MigrationInfo");
        assert_eq!(type_name("QCryptoTLSCredsEndpoint"), "QCryptoTLSCredsEndpoint");
        assert_eq!(type_name("__org.qemu_x-Struct"), "OrgQemuXStruct");
        assert_eq!(type_name("CPU"), "Cpu");
        assert_eq!(camel("x-colo"), "XColo");
        assert_eq!(camel("1"), "1");
        assert_eq!(snake("tls-creds"), "tls_creds");
        assert_eq!(snake("__org.qemu_x-member1"), "org_qemu_x_member1");
        assert_eq!(ident("type"), "r#type");
        assert_eq!(ident("self"), "self_");
        assert_eq!(ident("Self"), "Self_");
        assert_eq!(ident("1"), "_1");
        assert_eq!(ident(""), "_");
        assert_eq!(camel("x86_64"), "X8664");
    }

    /// Every string of up to six characters from an alphabet with each
    /// kind of character the short cut takes: it must agree with heck.
    #[test]
    fn simple_names_convert_as_heck_does() {
        let alphabet = ['a', 'z', '0', '9', '-', '_'];
        let mut texts = vec![String::new()];
        let mut last = texts.clone();
        for _ in 0..6 {
            last = last.iter().flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}"))).collect();
            texts.extend(last.iter().cloned());
        }
        for t in &texts {
            assert_eq!(simple_case(t, true).as_deref(), Some(t.to_upper_camel_case().as_str()), "{t:?}");
            assert_eq!(simple_case(t, false).as_deref(), Some(t.to_snake_case().as_str()), "{t:?}");
        }
        for other in ["Abc", "a.b", "aB", "é", "a b"] {
            assert_eq!(simple_case(other, true), None, "{other:?}");
        }
    }

    #[test]
    fn paths_and_identifiers() {
        assert_eq!(rust_path("::qapi_runtime").as_deref(), Some("::qapi_runtime"));
        assert_eq!(rust_path("crate :: rt").as_deref(), Some("crate::rt"));
        assert_eq!(rust_path("r#type::x").as_deref(), Some("r#type::x"));
        for bad in ["", "::", "a::", "a::::b", "a-b", "1x", "a b::c", "a::<T>"] {
            assert_eq!(rust_path(bad), None, "{bad:?}");
        }
        assert!(is_identifier("qapi") && is_identifier("_x") && !is_identifier("_") && !is_identifier("a=b"));
    }
}
