//! JSON written as QEMU's monitor writes it.

use serde_json::{Number, Value};

/// Appends `v` to `out` formatted as QEMU's monitor formats JSON: `": "`
/// and `", "` between members, ASCII only (anything else as `\uXXXX`
/// with upper-case digits, surrogate pairs beyond the BMP).
///
/// ```
/// let mut out = Vec::new();
/// qapi_runtime::stream::write_json(&mut out, &serde_json::json!({"id": "é", "n": [1, 2.5]}));
/// assert_eq!(out, br#"{"id": "\u00E9", "n": [1, 2.5]}"#);
/// ```
pub fn write_json(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                write_json(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            out.push(b'{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                write_str(out, k);
                out.extend_from_slice(b": ");
                write_json(out, item);
            }
            out.push(b'}');
        }
    }
}

fn write_number(out: &mut Vec<u8>, n: &Number) {
    use std::io::Write;
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{n}");
}

/// Appends `s` as a JSON string in QEMU's ASCII-only style.
///
/// ```
/// let mut out = Vec::new();
/// qapi_runtime::stream::write_str(&mut out, "a\"\u{1}\u{7f}😀");
/// assert_eq!(out, br#""a\"\u0001\u007F\uD83D\uDE00""#);
/// ```
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let u4 = |out: &mut Vec<u8>, u: u32| {
        out.extend_from_slice(b"\\u");
        for shift in [12, 8, 4, 0] {
            out.push(HEX[((u >> shift) & 0xF) as usize]);
        }
    };
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut plain = 0;
    for (i, c) in s.char_indices() {
        let simple = matches!(c, ' '..='~') && c != '"' && c != '\\';
        if simple {
            continue;
        }
        out.extend_from_slice(&bytes[plain..i]);
        plain = i + c.len_utf8();
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    u4(out, u32::from(*unit));
                }
            }
        }
    }
    out.extend_from_slice(&bytes[plain..]);
    out.push(b'"');
}
