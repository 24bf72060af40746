//! Which names QAPI accepts, and in which case.
//!
//! A name is made of ASCII letters, digits, `-` and `_` and starts with a
//! letter; it may carry the experimental prefix `x-`, and before that a
//! downstream prefix `__RFQDN_`. What remains after the prefixes is the
//! *stem*, on which the case rules work: CamelCase for types, lower case
//! with `-` for commands and members, upper case with `_` for events.

use super::{Fail, Res, Source};

/// True for a character a stem may contain after its first letter.
fn stem_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// True when `s` is a stem: a letter, then letters, digits, `-`, `_`.
fn is_stem(s: &str) -> bool {
    let b = s.as_bytes();
    matches!(b.first(), Some(c) if c.is_ascii_alphabetic()) && b[1..].iter().all(|&c| stem_char(c))
}

/// The stem of `name` when it is a valid QAPI name, without the `__RFQDN_`
/// and `x-` prefixes; `None` when the name is invalid.
pub(crate) fn stem(name: &str) -> Option<&str> {
    let mut rest = name;
    if let Some(after) = name.strip_prefix("__") {
        // The downstream prefix runs up to the first '_' after "__".
        let len = after.bytes().take_while(|&c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-').count();
        if len == 0 || after.as_bytes().get(len) != Some(&b'_') {
            return None;
        }
        rest = &after[len + 1..];
    }
    // 'x-' (either case) is the experimental prefix when what follows is a
    // stem; otherwise it is part of the stem.
    if rest.len() > 2 && rest.as_bytes()[..2].eq_ignore_ascii_case(b"x-") && is_stem(&rest[2..]) {
        return Some(&rest[2..]);
    }
    is_stem(rest).then_some(rest)
}

/// The first characters of `name` as a C identifier (anything but a
/// letter, digit or `_` becomes `_`), compared with `prefix`.
fn c_name_starts_with(name: &str, prefix: &str) -> bool {
    name.len() >= prefix.len()
        && name
            .bytes()
            .zip(prefix.bytes())
            .all(|(c, p)| if c.is_ascii_alphanumeric() || c == b'_' { c == p } else { p == b'_' })
}

/// Checks that `name` is a valid name; returns its stem. The `q_`
/// namespace of C names is reserved for the generator.
pub(crate) fn check_name_str<'n>(name: &'n str, source: Source<'_>) -> Res<&'n str> {
    match stem(name) {
        Some(stem) if !c_name_starts_with(name, "q_") => Ok(stem),
        _ => Err(Fail::new(format!("{source} has an invalid name"))),
    }
}

/// An event name: upper case, `_` between words.
pub(crate) fn check_name_upper(name: &str, source: Source<'_>) -> Res<()> {
    let stem = check_name_str(name, source)?;
    if stem.bytes().any(|c| c.is_ascii_lowercase() || c == b'-') {
        return Err(Fail::new(format!("name of {source} must not use lowercase or '-'")));
    }
    Ok(())
}

/// A command or member name: lower case, `-` between words, unless the
/// schema's pragmas permit upper case or `_`.
pub(crate) fn check_name_lower(name: &str, source: Source<'_>, permit_upper: bool, permit_underscore: bool) -> Res<()> {
    let stem = check_name_str(name, source)?;
    if (!permit_upper && stem.bytes().any(|c| c.is_ascii_uppercase())) || (!permit_underscore && stem.contains('_')) {
        return Err(Fail::new(format!("name of {source} must not use uppercase or '_'")));
    }
    Ok(())
}

/// A type name: CamelCase (an upper-case letter first, letters and digits
/// only, at least one lower-case letter).
pub(crate) fn check_name_camel(name: &str, source: Source<'_>) -> Res<()> {
    let stem = check_name_str(name, source)?;
    let b = stem.as_bytes();
    let camel = matches!(b.first(), Some(c) if c.is_ascii_uppercase())
        && b.iter().all(u8::is_ascii_alphanumeric)
        && b[1..].iter().any(u8::is_ascii_lowercase);
    if !camel {
        return Err(Fail::new(format!("name of {source} must use CamelCase")));
    }
    Ok(())
}

/// True when a member's C name would clash with what the generator adds
/// (`u` for union branches, `has_` for optional members' flags).
pub(crate) fn is_reserved_member(name: &str) -> bool {
    name == "u" || c_name_starts_with(name, "has_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems() {
        assert_eq!(stem("foo-bar"), Some("foo-bar"));
        assert_eq!(stem("x-foo"), Some("foo"));
        assert_eq!(stem("X-foo"), Some("foo"));
        assert_eq!(stem("x-1"), Some("x-1"));
        assert_eq!(stem("__com.redhat_x-foo"), Some("foo"));
        assert_eq!(stem("__com.redhat_foo_bar"), Some("foo_bar"));
        assert_eq!(stem("__com.redhat_"), None);
        assert_eq!(stem("__org.qemu_1x"), None);
        assert_eq!(stem("___foo"), None);
        assert_eq!(stem("_foo"), None);
        assert_eq!(stem(""), None);
        assert_eq!(stem("x-"), Some("x-"));
        assert_eq!(stem("not\\possible"), None);
        assert_eq!(stem("*a"), None);
        assert_eq!(stem("a.b"), None);
        assert_eq!(stem("é"), None);
    }

    #[test]
    fn reserved() {
        let src = Source::Plain("x");
        assert!(check_name_str("q-unix", src).is_err());
        assert!(check_name_str("q_unix", src).is_err());
        assert!(check_name_str("Q-unix", src).is_ok());
        assert!(check_name_str("qunix", src).is_ok());
        assert!(is_reserved_member("u"));
        assert!(is_reserved_member("has-a"));
        assert!(is_reserved_member("has_a"));
        assert!(!is_reserved_member("hasa"));
        assert!(!is_reserved_member("uu"));
    }

    #[test]
    fn cases() {
        let src = Source::Plain("x");
        assert!(check_name_camel("FooBar", src).is_ok());
        assert!(check_name_camel("FOO", src).is_err());
        assert!(check_name_camel("Foo-Bar", src).is_err());
        assert!(check_name_camel("fooBar", src).is_err());
        assert!(check_name_camel("x-FooBar", src).is_ok());
        assert!(check_name_upper("FOO_BAR", src).is_ok());
        assert!(check_name_upper("FOO-BAR", src).is_err());
        assert!(check_name_upper("Foo", src).is_err());
        assert!(check_name_lower("foo-bar", src, false, false).is_ok());
        assert!(check_name_lower("foo_bar", src, false, false).is_err());
        assert!(check_name_lower("foo_bar", src, false, true).is_ok());
        assert!(check_name_lower("fooBar", src, false, true).is_err());
        assert!(check_name_lower("fooBar", src, true, false).is_ok());
        assert!(check_name_lower("__com.Redhat_foo", src, false, false).is_ok());
    }
}
