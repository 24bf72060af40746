//! String tokens decoded as QEMU's parser decodes them.

/// Whether QEMU accepts code point `cp` in a string.
fn valid_code_point(cp: u32) -> bool {
    !(0xD800..=0xDFFF).contains(&cp) && cp <= 0x10FFFF && !(0xFDD0..=0xFDEF).contains(&cp) && (cp & 0xFFFE) != 0xFFFE
}

/// Four hex digits at `s`, if there are four.
fn hex4(s: &[u8]) -> Option<u32> {
    if s.len() < 4 {
        return None;
    }
    let mut cp = 0;
    for &c in &s[..4] {
        cp = cp << 4 | char::from(c).to_digit(16)?;
    }
    Some(cp)
}

/// Decodes one (modified) UTF-8 sequence at the start of `s`: the code
/// point and its length.
fn utf8_char(s: &[u8]) -> Option<(u32, usize)> {
    let b0 = *s.first()?;
    let (len, min, init) = match b0 {
        0x00..=0x7F => return Some((u32::from(b0), 1)),
        0xC0..=0xDF => (2, 0x80, u32::from(b0 & 0x1F)),
        0xE0..=0xEF => (3, 0x800, u32::from(b0 & 0x0F)),
        0xF0..=0xF7 => (4, 0x10000, u32::from(b0 & 0x07)),
        _ => return None,
    };
    let mut cp = init;
    for i in 1..len {
        let b = *s.get(i)?;
        if b & 0xC0 != 0x80 {
            return None;
        }
        cp = cp << 6 | u32::from(b & 0x3F);
    }
    // Modified UTF-8 spells U+0000 as C0 80; other overlong forms are bad.
    if cp < min && !(len == 2 && cp == 0) {
        return None;
    }
    Some((cp, len))
}

/// Decodes a string token (quotes included) the way QEMU's parser does.
pub(super) fn decode_string(tok: &[u8]) -> Result<String, String> {
    let inner = match tok {
        [_, inner @ .., _] => inner,
        _ => return Err("expecting value".into()),
    };
    let mut s = String::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        let b = inner[i];
        if b == b'\\' {
            let beg = i;
            let esc = inner.get(i + 1).copied().unwrap_or(0);
            i += 2;
            let c = match esc {
                b'"' => '"',
                b'\'' => '\'',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => {
                    let mut cp = hex4(&inner[i.min(inner.len())..]);
                    i += 4;
                    if let Some(lead @ 0xD800..=0xDBFF) = cp {
                        if inner.get(i) == Some(&b'\\') && inner.get(i + 1) == Some(&b'u') {
                            cp = match hex4(&inner[(i + 2).min(inner.len())..]) {
                                Some(trail @ 0xDC00..=0xDFFF) => {
                                    i += 6;
                                    Some(0x10000 + ((lead & 0x3FF) << 10) + (trail & 0x3FF))
                                }
                                _ => None,
                            };
                        }
                    }
                    match cp.filter(|&cp| valid_code_point(cp)).and_then(char::from_u32) {
                        Some(c) => c,
                        None => {
                            // Quote the escape as written (the closing
                            // quote included when it is cut short).
                            let end = i.min(tok.len() - 1);
                            let text = String::from_utf8_lossy(&tok[1 + beg..1 + end]);
                            return Err(format!("{text} is not a valid Unicode character"));
                        }
                    }
                }
                _ => return Err("invalid escape sequence in string".into()),
            };
            s.push(c);
            continue;
        }
        if b < 0x80 {
            s.push(char::from(b));
            i += 1;
            continue;
        }
        match utf8_char(&inner[i..]) {
            Some((cp, len)) if valid_code_point(cp) || cp == 0 => {
                s.push(char::from_u32(cp).ok_or_else(|| "invalid UTF-8 sequence in string".to_owned())?);
                i += len;
            }
            _ => return Err("invalid UTF-8 sequence in string".into()),
        }
    }
    Ok(s)
}
