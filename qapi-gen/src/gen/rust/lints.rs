//! Which clippy `allow`s a generated enum needs: only those whose lint could
//! fire on it, so that no attribute does nothing.
//!
//! The names are QEMU's, so the generator cannot pick others to please
//! clippy. What could fire is worked out from the names with word
//! boundaries at least as fine as clippy's own (every capital letter and
//! every edge of a run of digits): a prefix clippy finds shared, this finds
//! shared too, so an `allow` is never missing where clippy would lint.

use std::collections::HashSet;

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// Whether clippy's `enum_variant_names` could fire on enum `name` with
/// these variants: one starts or ends with the enum's name, or three or
/// more share a first or last word.
pub(super) fn variant_names_may_repeat<S: AsRef<str>>(name: &str, variants: &[S]) -> bool {
    let variants: Vec<&str> = variants.iter().map(AsRef::as_ref).collect();
    if variants.len() < 3 {
        // Clippy's threshold: fewer variants are never linted.
        return false;
    }
    if variants.iter().any(|v| v.starts_with(name) || v.ends_with(name)) {
        return true;
    }
    let split: Vec<Vec<&str>> = variants.iter().map(|v| words(v)).collect();
    if split.iter().any(|w| w.len() < 2) {
        // A one-word variant leaves nothing to share but the whole name.
        return false;
    }
    let first_words: HashSet<&str> = split.iter().map(|w| w[0]).collect();
    let last_words: HashSet<&str> = split.iter().map(|w| w[w.len() - 1]).collect();
    first_words.len() == 1 || last_words.len() == 1
}

/// [`variant_names_may_repeat`] for enum `name` whose variants are given
/// with their `#[cfg]` guards. A guarded variant may be compiled out, which
/// can make the others repeat themselves: then the answer is yes.
pub(super) fn enum_variant_names<'a>(
    name: &Ident,
    variants: impl IntoIterator<Item = (&'a Ident, &'a TokenStream)>,
) -> bool {
    let mut names = Vec::new();
    for (ident, guard) in variants {
        if !guard.is_empty() {
            return true;
        }
        names.push(ident.to_string());
    }
    variant_names_may_repeat(&name.to_string(), &names)
}

/// `name` split before every capital letter and at both edges of every run
/// of digits.
fn words(name: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev: Option<char> = None;
    for (i, c) in name.char_indices() {
        let edge = match prev {
            None => false,
            Some(p) => c.is_uppercase() || c.is_ascii_digit() != p.is_ascii_digit(),
        };
        if edge {
            out.push(&name[start..i]);
            start = i;
        }
        prev = Some(c);
    }
    if start < name.len() {
        out.push(&name[start..]);
    }
    out
}

/// `#[allow(...)]` of the lints named, or nothing when none is.
pub(super) fn allow(lints: &[(&str, bool)]) -> TokenStream {
    let names: Vec<TokenStream> = lints
        .iter()
        .filter(|(_, on)| *on)
        .map(|(lint, _)| {
            let lint = format_ident!("{lint}");
            quote!(clippy::#lint)
        })
        .collect();
    if names.is_empty() {
        TokenStream::new()
    } else {
        quote!(#[allow(#(#names),*)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_at_capitals_and_digits() {
        assert_eq!(words("LightGreen"), ["Light", "Green"]);
        assert_eq!(words("Blue2"), ["Blue", "2"]);
        assert_eq!(words("HTTPServer"), ["H", "T", "T", "P", "Server"]);
        assert_eq!(words("X86_64"), ["X", "86", "_", "64"]);
    }

    #[test]
    fn repeated_names_are_found() {
        assert!(!variant_names_may_repeat("Color", &["Red", "LightGreen", "Blue2", "Unknown"]));
        assert!(!variant_names_may_repeat("Two", &["TwoA", "TwoB"]));
        assert!(variant_names_may_repeat("Color", &["ColorRed", "Blue", "Green"]));
        assert!(variant_names_may_repeat("Kind", &["Red", "Blue", "GreenKind"]));
        assert!(variant_names_may_repeat("Reason", &["HostError", "GuestError", "OtherError"]));
        assert!(variant_names_may_repeat("Mode", &["BlockA", "BlockB", "BlockC"]));
        // A one-word variant ends clippy's prefix search.
        assert!(!variant_names_may_repeat("Mode", &["BlockA", "BlockB", "Block"]));
    }

    #[test]
    fn allow_lists_only_what_is_on() {
        assert!(allow(&[("enum_variant_names", false)]).is_empty());
        let a = allow(&[("large_enum_variant", true), ("enum_variant_names", false)]).to_string();
        assert_eq!(a, "# [allow (clippy :: large_enum_variant)]");
    }
}
