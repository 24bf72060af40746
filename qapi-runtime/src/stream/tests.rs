use super::*;
use serde_json::json;

fn read(chunks: &[&[u8]], limits: Limits) -> Vec<Result<Value, String>> {
    let mut r = JsonStream::new(limits);
    let mut out = Vec::new();
    for c in chunks {
        r.feed(c, &mut out);
    }
    out.into_iter().map(|r| r.map_err(|e| e.desc)).collect()
}

fn one(input: &str) -> Vec<Result<Value, String>> {
    read(&[input.as_bytes()], Limits::default())
}

fn err(s: &str) -> Result<Value, String> {
    Err(s.to_owned())
}

#[test]
fn values_across_and_within_chunks() {
    let input =
        br#"{"execute":"a"}{"execute":"b","id":[1,{"x":null}]}  {'execute': 'c', "arguments": {"s": "it\'s \"q\""}}"#;
    let whole = read(&[input], Limits::default());
    let bytewise: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(whole, read(&bytewise, Limits::default()));
    assert_eq!(whole.len(), 3);
    assert_eq!(whole[2], Ok(json!({"execute": "c", "arguments": {"s": "it's \"q\""}})));
}

#[test]
fn syntax_errors_in_qemu_words() {
    let out = one(r#"{"a":1,"a":2}]:,{1:2}{"a" 1}{"a":1 "b":2}[1 2][1,]{"a":1,}{"execute"}{"execute": x}"#);
    let expect = [
        "duplicate key",
        "expecting value",
        "expecting value",
        "expecting value",
        "key is not a string in object",
        "missing : in object pair",
        "expected separator in dict",
        "expected separator in list",
        "expecting value",
        "expecting value",
        "missing : in object pair",
        "invalid keyword 'x'",
    ];
    let got: Vec<_> = out.iter().map(|r| r.clone().unwrap_err()).collect();
    let want: Vec<_> = expect.iter().map(|e| format!("JSON parse error, {e}")).collect();
    assert_eq!(got, want);
}

#[test]
fn lexical_errors_reset_and_recover() {
    assert_eq!(
        one("{\"execute\": @}{\"execute\":\"x\"}"),
        vec![err("JSON parse error, stray '@'"), err("JSON parse error, expecting value"), Ok(json!({"execute": "x"}))]
    );
    // A control character resets a half-read value.
    assert_eq!(
        one("{\"execute\": \"foo\"\n{\"a\":1}\n\u{1}{\"b\":2}"),
        vec![err("JSON parse error, stray '\u{1}'"), Ok(json!({"b": 2}))]
    );
    assert_eq!(
        read(&[b"{\"x\": \xff {\"b\":2}"], Limits::default()),
        vec![err("JSON parse error, stray '\u{fffd}'"), Ok(json!({"b": 2}))]
    );
    assert_eq!(one("0123 [1]"), vec![err("JSON parse error, stray '01'"), Ok(json!([1]))]);
    assert_eq!(one("\"a\tb\" [2]"), vec![err("JSON parse error, stray '\"a\t'"), Ok(json!([2]))]);
}

#[test]
fn strings_and_numbers_as_qemu_reads_them() {
    assert_eq!(
        one(r#"["\u00e9\ud83d\ude00\u0000", "\/"] "\ud800" "\q" "\uFFFF" "\u12""#),
        vec![
            Ok(json!(["é😀\u{0}", "/"])),
            err("JSON parse error, \\ud800 is not a valid Unicode character"),
            err("JSON parse error, invalid escape sequence in string"),
            err("JSON parse error, \\uFFFF is not a valid Unicode character"),
            err("JSON parse error, \\u12\" is not a valid Unicode character"),
        ]
    );
    assert_eq!(read(&[b"\"\xc0\x80\" \"\xed\xa0\x80\""], Limits::default())[0], Ok(json!("\u{0}")));
    assert_eq!(
        read(&[b"\"\xed\xa0\x80\""], Limits::default())[0],
        err("JSON parse error, invalid UTF-8 sequence in string")
    );
    let nums = one("[-0, 0.5, 18446744073709551615, 18446744073709551616, -9223372036854775809, 1E2] ");
    assert_eq!(nums[0], Ok(json!([0, 0.5, u64::MAX, 18446744073709551616.0, -9223372036854775809.0, 100.0])));
}

#[test]
fn misplaced_tokens_before_their_content() {
    // QEMU's lexer ends a number at "0" before an exponent.
    assert_eq!(
        one(r#"{"id":0e1} [0E2] {"a" "\q"} {"a": 1 "\q"} {foo: 1}"#),
        vec![
            err("JSON parse error, expected separator in dict"),
            err("JSON parse error, stray 'E'"),
            err("JSON parse error, expecting value"),
            err("JSON parse error, missing : in object pair"),
            err("JSON parse error, expected separator in dict"),
            err("JSON parse error, invalid keyword 'foo'"),
        ]
    );
}

/// Results as runs: each distinct result and how many times in a row.
fn runs(results: Vec<Result<Value, String>>) -> Vec<(Result<Value, String>, usize)> {
    let mut out: Vec<(Result<Value, String>, usize)> = Vec::new();
    for r in results {
        match out.last_mut() {
            Some((last, n)) if *last == r => *n += 1,
            _ => out.push((r, 1)),
        }
    }
    out
}

const MI: usize = 1 << 20;
const EXPECTING: &str = "JSON parse error, expecting value";
const SIZE: &str = "JSON token size limit exceeded";
const COUNT: &str = "JSON token count limit exceeded";
const DEPTH: &str = "JSON nesting depth limit exceeded";

// The results below at QEMU's own limits are what QEMU 10.0.2 answered
// to the same input (each value sent alone on a QMP monitor).

#[test]
fn nesting_limit_as_qemu() {
    let ok = format!("{}{}", "[".repeat(1024), "]".repeat(1024));
    assert!(one(&ok)[0].is_ok());
    // Past the limit QEMU starts afresh at once: every bracket left over
    // is an error of its own.
    let deep = format!("{}{}{{\"ok\":1}}", "[".repeat(1025), "]".repeat(1025));
    assert_eq!(runs(one(&deep)), vec![(err(DEPTH), 1), (err(EXPECTING), 1025), (Ok(json!({"ok": 1})), 1)]);
}

#[test]
fn token_count_limit_as_qemu() {
    // `[1,1,…]` of n elements is 2n + 1 tokens; `[[],1,…]` makes it even.
    let odd = |n: usize| format!("[1{}]", ",1".repeat(n - 1));
    assert!(one(&odd(MI - 1))[0].is_ok(), "2 Mi - 1 tokens");
    assert!(one(&format!("[[]{}]", ",1".repeat(MI - 2)))[0].is_ok(), "2 Mi tokens");
    assert_eq!(one(&format!("{} [2]", odd(MI))), vec![err(COUNT), Ok(json!([2]))], "2 Mi + 1 tokens");
}

#[test]
fn token_size_limit_as_qemu() {
    // A string alone: its length, quotes included, must stay under 64 Mi.
    let string = |len: usize| format!("\"{}\" [1]", "x".repeat(len - 2));
    assert_eq!(one(&string(64 * MI - 1))[0], Ok(json!("x".repeat(64 * MI - 3))));
    assert_eq!(one(&string(64 * MI)), vec![err(SIZE), Ok(json!([1]))]);
    assert_eq!(one(&string(64 * MI + 1)), vec![err(SIZE), Ok(json!([1]))]);
    // In a value, the total of its tokens: `{"a":"…"}` with a string that
    // keeps the total at 64 Mi - 1 until the closing brace, which is
    // refused, and nothing is left over.
    let object = format!("{{\"a\":\"{}\"}} [1]", "x".repeat(64 * MI - 8));
    assert_eq!(one(&object), vec![err(SIZE), Ok(json!([1]))]);
    // A string that grows past 64 Mi is cut there; the rest is new input.
    let cut = format!("\"{}abc\"x\" [1]", "x".repeat(64 * MI));
    assert_eq!(
        one(&cut),
        vec![err(SIZE), err("JSON parse error, invalid keyword 'abc'"), Ok(json!("x")), Ok(json!([1]))]
    );
}

#[test]
fn limits_compared_as_qemu_compares_them() {
    let limits = |max_token_size, max_message_size, max_tokens, max_depth| Limits {
        max_token_size,
        max_message_size,
        max_tokens,
        max_depth,
    };
    // A token may grow to the limit; one byte more cuts it, and what
    // follows is new input.
    let token = limits(8, 100, 100, 100);
    assert_eq!(read(&[br#""123456" "1234567""#], token), vec![Ok(json!("123456")), err(SIZE)]);
    assert_eq!(read(&[br#""12345678"x" [1]"#], token), vec![err(SIZE), Ok(json!("x")), Ok(json!([1]))]);
    assert_eq!(read(&[b"123456789 [1]"], token), vec![err(SIZE), Ok(json!([1]))]);
    // The tokens of a value total less than the limit.
    let message = limits(100, 20, 100, 100);
    assert_eq!(read(&[br#"["aaaaaa","bbbbbb"]"#], message), vec![Ok(json!(["aaaaaa", "bbbbbb"]))]);
    assert_eq!(read(&[br#"["aaaaaa","bbbbbbb"] [1]"#], message), vec![err(SIZE), Ok(json!([1]))]);
    assert_eq!(read(&[br#"["aaaaaa","bbbbbbbb"] [1]"#], message), vec![err(SIZE), err(EXPECTING), Ok(json!([1]))]);
    // At most this many tokens.
    let count = limits(100, 100, 6, 100);
    assert_eq!(read(&[b"[1,[]]"], count), vec![Ok(json!([1, []]))]);
    assert_eq!(read(&[b"[1,2,3,4] [1]"], count), vec![err(COUNT), Ok(json!(4)), err(EXPECTING), Ok(json!([1]))]);
    // A limit wins over a syntax error earlier in the value (QEMU parses
    // a value only once it is complete).
    assert_eq!(read(&[b"[1 2 3 4 5 6] [1]"], count), vec![err(COUNT), err(EXPECTING), Ok(json!([1]))]);
    // Nesting.
    let depth = limits(100, 100, 100, 2);
    assert_eq!(
        read(&[b"[{}] [[[1]]]"], depth),
        vec![Ok(json!([{}])), err(DEPTH), Ok(json!(1)), err(EXPECTING), err(EXPECTING), err(EXPECTING)]
    );
}

#[test]
fn memory_stays_bounded_by_the_limits() {
    let mut r = JsonStream::new(Limits { max_message_size: 1 << 20, ..Limits::QEMU });
    let mut out = Vec::new();
    // A string that will not fit its value is not stored.
    r.feed(b"[\"", &mut out);
    for _ in 0..64 {
        r.feed(&[b'x'; 64 << 10], &mut out);
    }
    assert!(r.memory() < 4096, "{}", r.memory());
    r.feed(b"\"]", &mut out);
    assert_eq!(out, vec![Err(Error::generic(SIZE)), Err(Error::generic(EXPECTING))]);
    // A long string that fits is held once: its buffer becomes the value.
    let mut r = JsonStream::new(Limits::QEMU);
    let mut out = Vec::new();
    r.feed(b"{\"s\": \"", &mut out);
    for _ in 0..160 {
        r.feed(&[b'y'; 64 << 10], &mut out);
    }
    let held = r.memory();
    assert!((10 * MI..11 * MI + 64).contains(&held), "{held}");
    r.feed(b"\", ", &mut out);
    assert!((10 * MI..11 * MI + 64).contains(&r.memory()), "{}", r.memory());
    r.feed(b"\"t\": 1}", &mut out);
    assert!(r.memory() < 1024, "{}", r.memory());
    assert_eq!(out[0].as_ref().map(|v| v["s"].as_str().map(str::len)), Ok(Some(10 * MI)));
}

#[test]
fn output_is_ascii_in_qemu_style() {
    let mut out = Vec::new();
    write_json(&mut out, &json!({"a": [], "b": {}, "c": "\u{e9}\n", "d": [true, null, -1]}));
    assert_eq!(String::from_utf8(out).unwrap(), r#"{"a": [], "b": {}, "c": "\u00E9\n", "d": [true, null, -1]}"#);
}
