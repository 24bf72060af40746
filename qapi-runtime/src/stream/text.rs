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

/// Decodes a string token (quotes included) the way QEMU's parser does,
/// in place: the text decoded is never longer than the text it comes
/// from, so it is written over the token, which then becomes the string.
pub(super) fn decode_string(mut tok: Vec<u8>) -> Result<String, String> {
    if tok.len() < 2 {
        return Err("expecting value".into());
    }
    // Between the quotes: read at `r`, written at `w <= r`.
    let end = tok.len() - 1;
    let (mut r, mut w) = (1, 0);
    while r < end {
        let b = tok[r];
        if b == b'\\' {
            let (c, next) = escape(&tok, r, end)?;
            let mut utf8 = [0u8; 4];
            let bytes = c.encode_utf8(&mut utf8).as_bytes();
            tok[w..w + bytes.len()].copy_from_slice(bytes);
            w += bytes.len();
            r = next;
        } else if b < 0x80 {
            tok[w] = b;
            (r, w) = (r + 1, w + 1);
        } else {
            match utf8_char(&tok[r..end]) {
                // Modified UTF-8's C0 80 is U+0000.
                Some((0, _)) => {
                    tok[w] = 0;
                    (r, w) = (r + 2, w + 1);
                }
                Some((cp, len)) if valid_code_point(cp) => {
                    tok.copy_within(r..r + len, w);
                    (r, w) = (r + len, w + len);
                }
                _ => return Err("invalid UTF-8 sequence in string".into()),
            }
        }
    }
    tok.truncate(w);
    // The buffer grew in steps: give back what the string does not use.
    if tok.capacity() - w > 4096 {
        tok.shrink_to_fit();
    }
    String::from_utf8(tok).map_err(|_| "invalid UTF-8 sequence in string".to_owned())
}

/// The escape sequence at `tok[r]` (a backslash) in a string whose text
/// ends before `end`: the character and where the text goes on.
fn escape(tok: &[u8], r: usize, end: usize) -> Result<(char, usize), String> {
    let esc = if r + 1 < end { tok[r + 1] } else { 0 };
    let simple = match esc {
        b'"' => '"',
        b'\'' => '\'',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => return unicode_escape(tok, r, end),
        _ => return Err("invalid escape sequence in string".into()),
    };
    Ok((simple, r + 2))
}

/// A `\uXXXX` escape at `tok[r]`, or a surrogate pair of them.
fn unicode_escape(tok: &[u8], r: usize, end: usize) -> Result<(char, usize), String> {
    let mut next = r + 6;
    let mut cp = hex4(&tok[(r + 2).min(end)..end]);
    if let Some(lead @ 0xD800..=0xDBFF) = cp {
        if next + 1 < end && tok[next] == b'\\' && tok[next + 1] == b'u' {
            cp = match hex4(&tok[(next + 2).min(end)..end]) {
                Some(trail @ 0xDC00..=0xDFFF) => {
                    next += 6;
                    Some(0x10000 + ((lead & 0x3FF) << 10) + (trail & 0x3FF))
                }
                _ => None,
            };
        }
    }
    match cp.filter(|&cp| valid_code_point(cp)).and_then(char::from_u32) {
        Some(c) => Ok((c, next)),
        None => {
            // Quote the escape as written (the closing quote included
            // when it is cut short).
            let text = String::from_utf8_lossy(&tok[r..next.min(tok.len())]);
            Err(format!("{text} is not a valid Unicode character"))
        }
    }
}
