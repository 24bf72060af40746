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

#[test]
fn limits_report_once_and_skip() {
    let deep = format!("{}{}{{\"ok\":1}}", "[".repeat(1025), "]".repeat(1025));
    assert_eq!(one(&deep), vec![err("JSON nesting depth limit exceeded"), Ok(json!({"ok": 1}))]);
    let fine = format!("{}{}", "[".repeat(1024), "]".repeat(1024));
    assert!(one(&fine)[0].is_ok());
    let small = Limits { max_token_size: 8, max_message_size: 20, max_tokens: 6, max_depth: 4 };
    let big_string = format!("[\"{}\", {{\"x\": 1}}] {{\"ok\":1}}", "y".repeat(100));
    assert_eq!(
        read(&[big_string.as_bytes()], small),
        vec![err("JSON token size limit exceeded"), Ok(json!({"ok": 1}))]
    );
    assert_eq!(read(&[b"[1,2,3,4,5,6] [1]"], small), vec![err("JSON token count limit exceeded"), Ok(json!([1]))]);
    assert_eq!(
        read(&[b"[\"aaaaaa\",\"bbbbbb\",\"cccccc\"] [1]"], small),
        vec![err("JSON token size limit exceeded"), Ok(json!([1]))]
    );
}

#[test]
fn output_is_ascii_in_qemu_style() {
    let mut out = Vec::new();
    write_json(&mut out, &json!({"a": [], "b": {}, "c": "\u{e9}\n", "d": [true, null, -1]}));
    assert_eq!(String::from_utf8(out).unwrap(), r#"{"a": [], "b": {}, "c": "\u00E9\n", "d": [true, null, -1]}"#);
}
