//! The codec against serde_json: same values, same bytes, same
//! decisions; errors that name what and where.

use std::fmt;

use serde_json::Value;

use super::bytes::same;
use super::*;
use crate::decode::ints::QemuInts;

fn round<T: Decode + Encode>(text: &str) -> String {
    to_string(&from_str::<T>(text).unwrap())
}

#[test]
fn same_compares_every_byte_of_every_length() {
    for n in 0..40 {
        let a: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
        assert!(same(&a, &a.clone()));
        for i in 0..n {
            let mut b = a.clone();
            b[i] = b'-';
            assert!(!same(&a, &b), "length {n}, byte {i}");
        }
        assert!(!same(&a, &a[..n.saturating_sub(1)]) || n == 0);
    }
}

#[test]
fn decimals_read_as_serde_json_reads_them() {
    let mut texts: Vec<String> = [
        "0.0",
        "-0.0",
        "0.1",
        "3355.44",
        "1.5e3",
        "9007199254740991.0",
        "900719925474099.15",
        "9007199254740993.0",
        "0.0000000000000000000001",
        "0.00000000000000000000001",
        "123456789012345678.9",
        "-2.2250738585072014",
        "1e400",
        "18446744073709551616.5",
    ]
    .iter()
    .map(|t| t.to_string())
    .collect();
    // Decimals and integers of every length around the fast path's
    // limits (2^53, 2^64, 22 decimals).
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..40_000 {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let mut digits = (x >> (x % 50)).to_string();
        if i % 4 == 0 {
            // Beyond 20 digits: past a u64.
            digits.push_str(&(x >> 7).to_string());
        }
        if i % 8 == 1 {
            texts.push(digits.clone());
        }
        let cut = (x % (digits.len() as u64 + 1)) as usize;
        let zeros = "0".repeat((x >> 60) as usize);
        let sign = if x & 1 == 0 { "" } else { "-" };
        texts.push(format!("{sign}{}.{zeros}{}", &digits[..cut.max(1)], &digits[cut.min(digits.len() - 1)..]));
    }
    for t in &texts {
        let ours = from_str::<f64>(t).map(f64::to_bits).ok();
        let theirs = serde_json::from_str::<f64>(t).map(f64::to_bits).ok();
        assert_eq!(ours, theirs, "{t}");
    }
}

/// `text` read as a `T` by serde_json, with QEMU's rules for integers
/// (what the members of generated types get): the codec's reference.
fn serde_json_qemu<T: crate::serde::de::DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = T::deserialize(QemuInts(&mut de))?;
    de.end().map(|()| value)
}

/// Integers of every length up to past 64 bits, with and without a
/// sign, leading zeros, fractions and exponents, at the end of the
/// text and followed by more (the word-at-a-time path needs eight
/// bytes): read by every integer type as serde_json reads them (with
/// QEMU's rules for integers), and out of range where it is out of
/// range, pointing at the number, in the words of the serde path.
#[test]
fn integers_read_as_serde_json_reads_them() {
    fn check<T>(text: &str)
    where
        T: Decode + crate::serde::de::DeserializeOwned + PartialEq + fmt::Debug,
    {
        let ours = from_str::<T>(text);
        let theirs = serde_json_qemu::<T>(text);
        if let (Err(e), Ok(value)) = (&ours, serde_json::from_str::<Value>(text)) {
            let serde_path = crate::decode::from_value::<T>(&value).map(drop).map_err(|e| e.message());
            assert_eq!(serde_path, Err(e.message()), "{text}");
        }
        match (&ours, &theirs) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{text}"),
            // A number of the wrong kind or out of range is no
            // syntax error, and is pointed at where it starts.
            (Err(e), Err(theirs)) => {
                // serde_json files text that ends early apart; to us it is a syntax error.
                let syntax = theirs.is_syntax() || theirs.is_eof();
                assert_eq!(e.is_syntax(), syntax, "{text}: {e}; serde_json: {theirs}");
                if !e.is_syntax() {
                    let at = text.find(|c: char| c == '-' || c.is_ascii_digit()).unwrap_or(0);
                    assert_eq!(e.position(), Some((1, at + 1)), "{text}: {e}");
                }
            }
            _ => panic!("{text}: ours {ours:?}, serde_json {theirs:?}"),
        }
    }
    let mut numbers = vec!["0".to_owned(), "-0".into(), "00".into(), "01".into(), "-01".into(), "-".into()];
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for len in 1..=22 {
        for _ in 0..40 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let digits: String = (0..len).map(|i| char::from(b'0' + ((x >> (i % 60)) % 10) as u8)).collect();
            let digits = if digits.starts_with('0') && len > 1 { format!("1{}", &digits[1..]) } else { digits };
            numbers.push(digits.clone());
            numbers.push(format!("-{digits}"));
            numbers.push(format!("{digits}.5"));
            numbers.push(format!("{digits}e1"));
        }
    }
    for b in [8, 16, 32, 63, 64] {
        let p = 1u128 << b;
        numbers.extend([(p - 1).to_string(), p.to_string(), format!("-{p}"), format!("-{}", p + 1)]);
    }
    // Single digits, which have a path of their own, before every kind
    // of byte that can follow them.
    numbers.extend(["9", "-9", "0.0", "0e0", "5E1", "7e", "3.", "-0.0"].map(String::from));
    for n in &numbers {
        check::<i64>(n);
        check::<u8>(n);
        for text in [format!("[{n}]"), format!("[{n},          1]"), format!("[ {n} ,\n  1]")] {
            check::<Vec<u8>>(&text);
            check::<Vec<i8>>(&text);
            check::<Vec<u16>>(&text);
            check::<Vec<i16>>(&text);
            check::<Vec<u32>>(&text);
            check::<Vec<i32>>(&text);
            check::<Vec<u64>>(&text);
            check::<Vec<i64>>(&text);
        }
    }
}

#[test]
fn builtins_read_and_write_as_serde_json_does() {
    assert_eq!(round::<i64>(" -42 "), "-42");
    assert_eq!(round::<u64>("18446744073709551615"), "18446744073709551615");
    for n in [0u64, 7, 12345678, 123456789, 1891236782, 99999999999999999, u64::MAX / 3] {
        assert_eq!(from_str::<u64>(&n.to_string()).unwrap(), n);
        let negative = i64::try_from(n).ok().filter(|v| *v != 0).map(|v| -v);
        assert_eq!(from_str::<i64>(&format!("-{n}")).ok(), negative);
    }
    // serde_json reads `-0` as a float, so neither takes it for an integer.
    assert!(serde_json::from_str::<i64>("-0").is_err() && from_str::<i64>("-0").is_err());
    assert!(from_str::<u64>("1234567:").is_err());
    assert!(from_str::<u64>("12345678/1").is_err());
    assert_eq!(round::<f64>("3362.1987235555557"), "3362.1987235555557");
    assert_eq!(round::<f64>("5"), "5.0");
    assert_eq!(round::<f64>("-1e3"), "-1000.0");
    assert_eq!(round::<bool>("true"), "true");
    assert_eq!(round::<()>("null"), "null");
    assert_eq!(round::<Vec<u8>>("[ 1 , 2,3 ]"), "[1,2,3]");
    assert_eq!(round::<Vec<u8>>("[]"), "[]");
    assert_eq!(round::<Value>(r#"{"a": [1, {"b": null}]}"#), r#"{"a":[1,{"b":null}]}"#);
    let s = "q\"b\\s/\u{1}\u{8}\u{c}\n\r\t é 😀 \u{7f}";
    let text = serde_json::to_string(s).unwrap();
    assert_eq!(from_str::<String>(&text).unwrap(), s);
    assert_eq!(to_string(s), text);
    assert_eq!(from_str::<String>(r#""\u00e9\ud83d\ude00\/""#).unwrap(), "é😀/");
}

#[test]
fn bad_input_names_what_and_where() {
    let e = |t: &str| from_str::<Vec<u8>>(t).unwrap_err().to_string();
    assert_eq!(e("[1,\n 256]"), "Parameter 'null' expects uint8_t at line 2 column 2");
    assert_eq!(e("[1.5]"), "Parameter '[0]' expects uint64 at line 1 column 2");
    assert_eq!(e("[-1]"), "Parameter 'null' expects uint8_t at line 1 column 2");
    assert_eq!(from_str::<Vec<u64>>("[-1]").unwrap(), [u64::MAX]);
    let e16 = from_str::<Vec<i16>>("[1.5, 40000]").unwrap_err().to_string();
    assert_eq!(e16, "Invalid parameter type for '[0]', expected: integer at line 1 column 2");
    assert_eq!(e("{}"), "Invalid JSON type, expected: array at line 1 column 1");
    assert_eq!(e("[1"), "JSON parse error: EOF while parsing a list at line 1 column 3");
    assert_eq!(e("[1] x"), "JSON parse error: trailing characters at line 1 column 5");
    assert_eq!(e("[01]"), "JSON parse error: invalid number at line 1 column 3");
    assert!(from_str::<String>(r#""\ud800""#).unwrap_err().is_syntax());
    assert!(from_str::<String>("\"a\nb\"").unwrap_err().is_syntax());
    let big = from_str::<u64>("18446744073709551616").unwrap_err().to_string();
    assert_eq!(big, "Invalid JSON type, expected: integer at line 1 column 1");
    assert!(from_str::<f64>("1e400").unwrap_err().is_syntax());
}

/// A recursive type, as `{ 'struct': 'Node', 'data': { '*next': 'Node' } }` generates it.
#[derive(Debug)]
struct Node(Option<Box<Node>>);

impl Decode for Node {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        let mut next = None;
        let mut members = Members::new(r, &["next"], |name| (name == "next").then_some(0), true)?;
        while let Some(i) = members.next(r)? {
            match i {
                0 => read_member(r, &mut next, "next")?,
                _ => members.unavailable(r, i)?,
            }
        }
        Ok(Node(next))
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = "{\"next\": ".repeat(100_000);
    let e = from_str::<Node>(&deep).unwrap_err();
    assert!(e.to_string().contains("recursion limit"), "{e}");
    let fine = format!("{}{{}}{}", "{\"next\": ".repeat(100), "}".repeat(100));
    let mut node = &from_str::<Node>(&fine).unwrap();
    let mut depth = 0;
    while let Some(next) = &node.0 {
        node = next;
        depth += 1;
    }
    assert_eq!(depth, 100);
    assert!(from_str::<Value>(&"[".repeat(100_000)).is_err());
}

#[test]
fn strings_read_as_serde_json_reads_them_wherever_the_special_byte_sits() {
    // Strings are scanned eight bytes at a time: put a byte that ends
    // or interrupts the scan at every offset of the first three words
    // and of the tail.
    let specials =
        ["\\\"", "\\\\", "\\n", "\\u00e9", "\\ud83d\\ude00", "\\x", "é", "€", "\u{1}", "\t", "\u{7f}", "\u{1f}"];
    for len in 0..28 {
        for at in 0..len {
            for special in specials {
                let body: String = (0..len).map(|i| if i == at { special } else { "a" }).collect();
                for text in [format!("[\"{body}\", \"b\"]"), format!("[\"{body}"), format!("[\"{body}\"")] {
                    let ours = from_str::<Vec<String>>(&text);
                    let theirs = serde_json::from_str::<Vec<String>>(&text);
                    match (&ours, &theirs) {
                        (Ok(a), Ok(b)) => assert_eq!(a, b, "{text:?}"),
                        (Err(e), Err(_)) => assert!(e.is_syntax(), "{text:?}: {e}"),
                        _ => panic!("{text:?}: ours {ours:?}, serde_json {theirs:?}"),
                    }
                }
            }
        }
    }
}

#[test]
fn escapes_match_serde_json_for_every_ascii_byte() {
    for b in 0u8..0x80 {
        let s = String::from(char::from(b));
        assert_eq!(to_string(s.as_str()), serde_json::to_string(&s).unwrap(), "byte {b:#x}");
    }
}

#[test]
fn memberless_objects_decode_as_their_serde_impls_do() {
    use crate::{Empty, NoArguments};
    assert_eq!(to_string(&Empty {}), "{}");
    assert_eq!(to_string(&NoArguments {}), "{}");
    assert_eq!(from_str::<Empty>(" { } ").unwrap(), Empty {});
    // A reply may carry members this side does not know; arguments may not.
    assert_eq!(from_str::<Empty>(r#"{"new": [1]}"#).unwrap(), Empty {});
    assert!(serde_json::from_str::<Empty>(r#"{"new": [1]}"#).is_ok());
    let e = from_str::<NoArguments>(r#"{"x": 1}"#).unwrap_err();
    let s = crate::decode::from_value::<NoArguments>(&serde_json::json!({"x": 1})).unwrap_err();
    assert!(e.to_string().starts_with("Parameter 'x' is unexpected"), "{e}");
    assert_eq!(s.to_string(), "Parameter 'x' is unexpected");
    assert!(from_str::<Empty>("[]").is_err());
}
