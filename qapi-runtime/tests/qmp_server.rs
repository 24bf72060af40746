//! Scripted QMP sessions against the server: every case of the protocol,
//! each checking the error class and description QEMU gives, and that the
//! connection still answers afterwards.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use std::time::Duration;

use common::{config, rss_kib, start, start_with, Raw};
use qapi_runtime::server::{Listening, Server, ServerConfig};
use qapi_runtime::stream::Limits;
use serde_json::{json, Value};

const GENERIC: &str = "GenericError";
const NOT_FOUND: &str = "CommandNotFound";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn greeting_is_qemus() {
    let t = start().await;
    let mut raw = tokio::net::UnixStream::connect(&t.socket).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::io::AsyncReadExt::read(&mut raw, &mut buf).await.unwrap();
    assert_eq!(
        std::str::from_utf8(&buf[..n]).unwrap(),
        "{\"QMP\": {\"version\": {\"qemu\": {\"major\": 10, \"minor\": 0, \"micro\": 0}, \"package\": \"qapi-runtime-test\"}, \"capabilities\": [\"oob\"]}}\r\n"
    );
    let t = start_with(config().offer_oob(false)).await;
    let (_, greeting) = Raw::connect(&t.socket).await;
    assert_eq!(greeting["QMP"]["capabilities"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negotiation() {
    let t = start().await;
    let (mut c, _) = Raw::connect(&t.socket).await;
    // Only qmp_capabilities before negotiation, known command or not.
    c.send(r#"{"execute": "query-status", "id": 1}"#).await;
    let m = c.expect_error(NOT_FOUND, "Expecting capabilities negotiation with 'qmp_capabilities'").await;
    assert_eq!(m["id"], 1);
    c.send(r#"{"execute": "no-such-command"}"#).await;
    c.expect_error(NOT_FOUND, "Expecting capabilities negotiation with 'qmp_capabilities'").await;
    // Malformed requests keep their own error.
    c.send(r#"{"id": 2}"#).await;
    c.expect_error(GENERIC, "QMP input lacks member 'execute'").await;
    // exec-oob is not a thing yet.
    c.send(r#"{"exec-oob": "qmp_capabilities", "id": 3}"#).await;
    c.expect_error(GENERIC, "QMP input member 'exec-oob' is unexpected").await;
    // Bad arguments to qmp_capabilities, in QEMU's words.
    c.send(r#"{"execute": "qmp_capabilities", "arguments": {"enable": ["foo"]}}"#).await;
    c.expect_error(GENERIC, "Parameter 'null' does not accept value 'foo'").await;
    c.send(r#"{"execute": "qmp_capabilities", "arguments": {"enable": "oob"}}"#).await;
    c.expect_error(GENERIC, "Invalid parameter type for 'enable', expected: array").await;
    c.send(r#"{"execute": "qmp_capabilities", "arguments": {"enable": [1]}}"#).await;
    c.expect_error(GENERIC, "Invalid parameter type for 'enable[0]', expected: string").await;
    c.send(r#"{"execute": "qmp_capabilities", "arguments": {"x": 1}}"#).await;
    c.expect_error(GENERIC, "Parameter 'x' is unexpected").await;
    // Events are not delivered before negotiation.
    t.server.events().emit_value("EARLY", None);
    c.quiet(100).await;
    c.send(r#"{"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}, "id": "neg"}"#).await;
    assert_eq!(c.msg().await, json!({"return": {}, "id": "neg"}));
    // A second negotiation is refused.
    c.send(r#"{"execute": "qmp_capabilities", "id": 4}"#).await;
    let m = c.expect_error(NOT_FOUND, "Capabilities negotiation is already complete, command ignored").await;
    assert_eq!(m["id"], 4);
    c.alive().await;

    // oob cannot be enabled where it is not offered.
    let t = start_with(config().offer_oob(false)).await;
    let (mut c, _) = Raw::connect(&t.socket).await;
    c.send(r#"{"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}}"#).await;
    c.expect_error(GENERIC, "Capability oob not available").await;
    c.send(r#"{"execute": "qmp_capabilities", "arguments": {"enable": []}}"#).await;
    assert_eq!(c.msg().await, json!({"return": {}}));
    c.alive().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_input() {
    let t = start().await;
    let mut c = Raw::negotiated(&t.socket, false).await;
    // Several requests on one line, no separator at all.
    c.send(r#"{"execute":"echo","arguments":{"n":1},"id":1}{"execute":"echo","arguments":{"n":2},"id":2} {"execute":"echo","arguments":{"n":3},"id":3}"#).await;
    for n in 1..=3 {
        assert_eq!(c.msg().await, json!({"return": {"n": n}, "id": n}));
    }
    // One request across lines and across writes.
    for part in ["{\"execute\":\n", "  \"echo\",\r\n \"arguments\": {\"s\": \"a", "b\"},\n", "\"id\": \"split\"", "}"] {
        c.send(part).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(c.msg().await, json!({"return": {"s": "ab"}, "id": "split"}));
    // Byte by byte.
    for b in br#"{"execute": "echo", "arguments": {"b": true}, "id": 9}"# {
        c.send([*b]).await;
    }
    assert_eq!(c.msg().await, json!({"return": {"b": true}, "id": 9}));
    // QEMU's single-quote extension, with \' and unescaped double quotes.
    c.send(r#"{'execute': 'echo', 'arguments': {'s': 'it\'s "quoted"'}, 'id': 'sq'}"#).await;
    assert_eq!(c.msg().await, json!({"return": {"s": "it's \"quoted\""}, "id": "sq"}));
    c.alive().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parse_errors_recover() {
    let t = start().await;
    let mut c = Raw::negotiated(&t.socket, false).await;
    let cases: &[(&str, &[&str])] = &[
        (r#"{"execute": }"#, &["JSON parse error, expecting value"]),
        (r#"{"execute" "x"}"#, &["JSON parse error, missing : in object pair"]),
        (r#"{"execute": x}"#, &["JSON parse error, invalid keyword 'x'"]),
        (r#"{"execute": "x",}"#, &["JSON parse error, expecting value"]),
        (r#"{"a": 1, "a": 2}"#, &["JSON parse error, duplicate key"]),
        (r#"{1: 2}"#, &["JSON parse error, key is not a string in object"]),
        (r#"[1 2]"#, &["JSON parse error, expected separator in list"]),
        (r#"{"execute": "\q"}"#, &["JSON parse error, invalid escape sequence in string"]),
        (r#"{"execute": "\ud800"}"#, &["JSON parse error, \\ud800 is not a valid Unicode character"]),
        ("{\"execute\": \"\u{1}\"}", &["JSON parse error, stray '\"\u{1}'", "JSON parse error, expecting value"]),
        (r#"{"execute": @}"#, &["JSON parse error, stray '@'", "JSON parse error, expecting value"]),
        (r#"]"#, &["JSON parse error, expecting value"]),
    ];
    for (input, errors) in cases {
        c.send(input).await;
        for desc in *errors {
            let m = c.expect_error(GENERIC, desc).await;
            assert!(m.get("id").is_none(), "a parse error has no id: {m}");
        }
        c.alive().await;
    }
    // Invalid UTF-8 inside a string.
    c.send(b"{\"execute\": \"\xc3\"}").await;
    c.expect_error(GENERIC, "JSON parse error, invalid UTF-8 sequence in string").await;
    c.alive().await;
    // A half-sent request is abandoned with a control character, the
    // spec's way back to a known-good state.
    c.send("{\"execute\": \"query-status\"\n{\"execute\": \"echo\"}\n").await;
    c.quiet(100).await;
    c.send("\u{4}").await;
    c.expect_error(GENERIC, "JSON parse error, stray '\u{4}'").await;
    c.alive().await;
    // 0xFF does it too.
    c.send(b"{\"execute\": \xff").await;
    c.expect_error(GENERIC, "JSON parse error, stray '\u{fffd}'").await;
    c.alive().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests() {
    let t = start().await;
    let mut c = Raw::negotiated(&t.socket, false).await;
    let cases: &[(&str, &str, &str, Option<Value>)] = &[
        (r#"[1]"#, GENERIC, "QMP input must be a JSON object", None),
        (r#""query-status""#, GENERIC, "QMP input must be a JSON object", None),
        (r#"42 "#, GENERIC, "QMP input must be a JSON object", None),
        (r#"{"id": 1}"#, GENERIC, "QMP input lacks member 'execute'", Some(json!(1))),
        (r#"{"execute": 1, "id": 2}"#, GENERIC, "QMP input member 'execute' must be a string", Some(json!(2))),
        (r#"{"execute": ["x"], "id": 2}"#, GENERIC, "QMP input member 'execute' must be a string", Some(json!(2))),
        (r#"{"execute": "echo", "foo": 1, "id": 3}"#, GENERIC, "QMP input member 'foo' is unexpected", Some(json!(3))),
        (
            r#"{"execute": "echo", "arguments": [], "id": 4}"#,
            GENERIC,
            "QMP input member 'arguments' must be an object",
            Some(json!(4)),
        ),
        (r#"{"execute": "echo", "arguments": null}"#, GENERIC, "QMP input member 'arguments' must be an object", None),
        (r#"{"execute": "nope", "id": 5}"#, NOT_FOUND, "The command nope has not been found", Some(json!(5))),
        (r#"{"exec-oob": "oob-ping", "id": 6}"#, GENERIC, "QMP input member 'exec-oob' is unexpected", Some(json!(6))),
        (r#"{"execute": "fail", "id": 7}"#, "DeviceNotFound", "Device 'nothing' not found", Some(json!(7))),
    ];
    for (input, class, desc, id) in cases {
        c.send(input).await;
        let m = c.expect_error(class, desc).await;
        assert_eq!(m.get("id"), id.as_ref(), "{input}");
        c.alive().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn argument_errors() {
    let t = start().await;
    let mut c = Raw::negotiated(&t.socket, false).await;
    let cases: &[(&str, &str)] = &[
        (r#"{"execute": "add", "arguments": {}}"#, "Parameter 'a' is missing"),
        (r#"{"execute": "add"}"#, "Parameter 'a' is missing"),
        (r#"{"execute": "add", "arguments": {"a": 1, "c": 2}}"#, "Parameter 'c' is unexpected"),
        (r#"{"execute": "add", "arguments": {"a": "1"}}"#, "Invalid parameter type for 'a', expected: integer"),
        (r#"{"execute": "add", "arguments": {"a": 1, "b": 256}}"#, "Parameter 'b' expects uint8_t"),
        (r#"{"execute": "add", "arguments": {"a": 1, "b": -1}}"#, "Parameter 'b' expects uint8_t"),
        (r#"{"execute": "query-status", "arguments": {"x": 1}}"#, "Parameter 'x' is unexpected"),
        (r#"{"execute": "query-version", "arguments": {"x": 1}}"#, "Parameter 'x' is unexpected"),
        (r#"{"execute": "query-commands", "arguments": {"x": 1}}"#, "Parameter 'x' is unexpected"),
        (r#"{"execute": "query-qmp-schema", "arguments": {"x": 1}}"#, "Parameter 'x' is unexpected"),
    ];
    for (input, desc) in cases {
        c.send(input).await;
        c.expect_error(GENERIC, desc).await;
        c.alive().await;
    }
    c.send(r#"{"execute": "add", "arguments": {"a": 40, "b": 2}, "id": "ok"}"#).await;
    assert_eq!(c.msg().await, json!({"return": 42, "id": "ok"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_are_echoed_verbatim_and_replies_keep_order() {
    let t = start().await;
    let mut c = Raw::negotiated(&t.socket, false).await;
    let ids = [
        json!(1),
        json!(-7),
        json!(18446744073709551615u64),
        json!(2.5),
        json!("x"),
        json!("é😀\u{0}\n"),
        json!(null),
        json!(true),
        json!([1, [2, {"a": null}]]),
        json!({"nested": {"deep": [1, "two"]}, "k": 0}),
        json!({}),
        json!([]),
    ];
    for id in &ids {
        let req = json!({"execute": "query-status", "id": id});
        c.send(serde_json::to_vec(&req).unwrap()).await;
        let m = c.msg().await;
        assert_eq!(&m["id"], id);
        c.send(serde_json::to_vec(&json!({"execute": "nope", "id": id})).unwrap()).await;
        assert_eq!(&c.msg().await["id"], id);
    }
    // Pipelined: replies come in request order.
    let mut batch = String::new();
    for i in 0..2000 {
        batch.push_str(&format!(r#"{{"execute": "add", "arguments": {{"a": {i}}}, "id": {i}}}"#));
    }
    c.send(batch).await;
    for i in 0..2000 {
        assert_eq!(c.msg().await, json!({"return": i, "id": i}));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn out_of_band_execution() {
    let t = start().await;
    let mut c = Raw::negotiated(&t.socket, true).await;
    c.send(r#"{"exec-oob": "query-status", "id": 1}"#).await;
    c.expect_error(GENERIC, "The command query-status does not support OOB").await;
    c.send(r#"{"exec-oob": "qmp_capabilities", "id": 1}"#).await;
    c.expect_error(GENERIC, "The command qmp_capabilities does not support OOB").await;
    c.send(r#"{"exec-oob": "x", "execute": "y", "id": 2}"#).await;
    c.expect_error(GENERIC, "QMP input member 'execute' clashes with 'exec-oob'").await;
    c.send(r#"{"exec-oob": 3, "id": 3}"#).await;
    c.expect_error(GENERIC, "QMP input member 'exec-oob' must be a string").await;
    c.send(r#"{"exec-oob": "oob-ping", "id": 4}"#).await;
    assert_eq!(c.msg().await, json!({"return": "pong", "id": 4}));
    // An out-of-band command overtakes a slow in-band one.
    c.send(r#"{"execute": "sleep", "arguments": {"ms": 400}, "id": "slow"}{"execute": "query-status", "id": "after"}{"exec-oob": "oob-ping", "id": "oob"}"#).await;
    assert_eq!(c.msg().await, json!({"return": "pong", "id": "oob"}));
    assert_eq!(c.msg().await, json!({"return": {}, "id": "slow"}));
    assert_eq!(c.msg().await["id"], "after");
    c.alive().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_success_response() {
    let t = start().await;
    for oob in [false, true] {
        let mut c = Raw::negotiated(&t.socket, oob).await;
        c.send(r#"{"execute": "no-reply", "id": 1}{"execute": "echo", "arguments": {"next": 1}, "id": 2}"#).await;
        assert_eq!(c.msg().await, json!({"return": {"next": 1}, "id": 2}));
        c.send(r#"{"execute": "no-reply", "arguments": {"fail": true}, "id": 3}"#).await;
        let m = c.expect_error(GENERIC, "no-reply was told to fail").await;
        assert_eq!(m["id"], 3);
        c.alive().await;
    }
}

/// Resynchronizes as the QMP spec says (a control character) and returns
/// the descriptions of the errors that came before the answer to a probe.
async fn errors_until_alive(c: &mut common::Raw) -> Vec<String> {
    c.send_reading("\u{1}{\"execute\": \"query-status\", \"id\": \"alive\"}").await;
    let mut descs = Vec::new();
    loop {
        let m = c.msg().await;
        if m["id"] == "alive" {
            assert_eq!(m["return"]["running"], true, "{m}");
            return descs;
        }
        descs.push(m["error"]["desc"].as_str().unwrap_or_default().to_owned());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_keep_connection_and_memory() {
    let limits = Limits { max_depth: 64, max_token_size: 1 << 20, max_message_size: 2 << 20, max_tokens: 100_000 };
    let t = start_with(config().limits(limits)).await;
    let mut c = Raw::negotiated(&t.socket, false).await;
    // Nesting: the bracket over the limit is refused, and what follows is
    // new input (as in QEMU).
    c.send(format!("{}{}", "[".repeat(65), "]".repeat(65))).await;
    c.expect_error(GENERIC, "JSON nesting depth limit exceeded").await;
    for _ in 0..65 {
        c.expect_error(GENERIC, "JSON parse error, expecting value").await;
    }
    c.alive().await;
    c.send(format!(r#"{{"execute": "echo", "arguments": {{"a": {}1{}}}, "id": 1}}"#, "[".repeat(62), "]".repeat(62)))
        .await;
    assert_eq!(c.msg().await["id"], 1);
    // Far deeper than the limit, never closed: one error per 65 brackets.
    let before = rss_kib();
    c.send_reading("[".repeat(4 << 20)).await;
    let errors = errors_until_alive(&mut c).await;
    assert_eq!(errors.len(), (4 << 20) / 65 + 1, "one per 65 brackets, and the control character");
    assert!(errors[..errors.len() - 1].iter().all(|e| e == "JSON nesting depth limit exceeded"));
    // One token too big: a 16 MiB string is cut at 1 MiB (and so is the
    // rest of it, read as keywords).
    c.send(r#"{"execute": "echo", "arguments": {"s": ""#).await;
    c.send_reading("x".repeat(16 << 20)).await;
    c.send(r#""}, "id": 2}"#).await;
    let errors = errors_until_alive(&mut c).await;
    assert_eq!(errors[0], "JSON token size limit exceeded");
    // A message too big in total, made of small tokens.
    let mut big = String::from(r#"{"execute": "echo", "arguments": {"a": ["#);
    for i in 0..30_000 {
        big.push_str(&format!("\"{i:0>90}\","));
    }
    big.push_str("1]}}");
    c.send_reading(&big).await;
    assert_eq!(errors_until_alive(&mut c).await[0], "JSON token size limit exceeded");
    // Too many tokens.
    let mut many = String::from("[");
    for _ in 0..60_000 {
        many.push_str("1,");
    }
    many.push_str("1]");
    c.send_reading(&many).await;
    assert_eq!(errors_until_alive(&mut c).await[0], "JSON token count limit exceeded");
    let grown = rss_kib().saturating_sub(before);
    assert!(grown < 64 * 1024, "memory grew by {grown} KiB");
    // And the server is fine for everyone else.
    let mut other = Raw::negotiated(&t.socket, false).await;
    other.alive().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_broadcast_to_negotiated_clients() {
    let t = start().await;
    let mut a = Raw::negotiated(&t.socket, false).await;
    let mut b = Raw::negotiated(&t.socket, true).await;
    let (mut early, _) = Raw::connect(&t.socket).await;
    let sink = t.server.events();
    assert_eq!(sink.receivers(), 2);
    assert_eq!(sink.emit_value("MIGRATION", Some(json!({"status": "active"}))), 2);
    for c in [&mut a, &mut b] {
        let line = c.line().await;
        assert!(line.starts_with("{\"timestamp\": {\"seconds\": "), "{line}");
        let m: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(m["event"], "MIGRATION");
        assert_eq!(m["data"], json!({"status": "active"}));
        let us = m["timestamp"]["microseconds"].as_i64().unwrap();
        assert!((0..1_000_000).contains(&us));
        assert!(m["timestamp"]["seconds"].as_i64().unwrap() > 1_600_000_000);
    }
    early.quiet(100).await;
    // A typed event without data goes out without "data".
    struct Stop;
    impl qapi_runtime::Event for Stop {
        const NAME: &'static str = "STOP";
        type Data = qapi_runtime::NoArguments;
    }
    sink.emit::<Stop>(&qapi_runtime::NoArguments {}).unwrap();
    let m = a.msg().await;
    assert_eq!(m["event"], "STOP");
    assert!(m.get("data").is_none());
    assert_eq!(b.msg().await["event"], "STOP");
    // An event a command emits comes before the command's reply.
    a.send(r#"{"execute": "stop", "id": "s"}"#).await;
    assert_eq!(a.msg().await["event"], "STOP");
    assert_eq!(a.msg().await, json!({"return": {}, "id": "s"}));
    assert_eq!(b.msg().await["event"], "STOP");
    b.send(r#"{"execute": "emit-event", "arguments": {"name": "X", "count": 3}, "id": 1}"#).await;
    for _ in 0..3 {
        assert_eq!(b.msg().await["event"], "X");
    }
    assert_eq!(b.msg().await, json!({"return": {}, "id": 1}));
    for _ in 0..3 {
        assert_eq!(a.msg().await["event"], "X");
    }
    a.alive().await;
    b.alive().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builtin_commands() {
    let t = start().await;
    let mut c = Raw::negotiated(&t.socket, false).await;
    c.send(r#"{"execute": "query-version"}"#).await;
    assert_eq!(
        c.msg().await,
        json!({"return": {"qemu": {"major": 10, "minor": 0, "micro": 0}, "package": "qapi-runtime-test"}})
    );
    c.send(r#"{"execute": "query-commands"}"#).await;
    let m = c.msg().await;
    let names: Vec<&str> = m["return"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    for n in ["qmp_capabilities", "query-version", "query-commands", "query-qmp-schema", "query-status", "oob-ping"] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    c.send(r#"{"execute": "query-qmp-schema", "id": 1}"#).await;
    let m = c.msg().await;
    assert_eq!(m["return"][0]["name"], "query-status");
    // Without a schema configured, query-qmp-schema is not there.
    let t = start_with(ServerConfig::new()).await;
    let mut c = Raw::negotiated(&t.socket, false).await;
    c.send(r#"{"execute": "query-qmp-schema"}"#).await;
    c.expect_error(NOT_FOUND, "The command query-qmp-schema has not been found").await;
    c.send(r#"{"execute": "query-commands"}"#).await;
    assert!(!c.msg().await.to_string().contains("query-qmp-schema"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_unix_private_and_tcp_loopback() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let t = start().await;
    let meta = std::fs::metadata(&t.socket).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(meta.uid(), std::fs::metadata(t.dir.path()).unwrap().uid());
    // A stale socket is replaced; a regular file is not.
    let again = Server::new(common::Machine::new(), config());
    let stale = t.dir.path().join("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    again.listen_unix(&stale).await.unwrap();
    Raw::negotiated(&stale, false).await.alive().await;
    let file = t.dir.path().join("file");
    std::fs::write(&file, "x").unwrap();
    assert!(again.listen_unix(&file).await.is_err());
    again.shutdown().await;

    let Listening::Tcp(addr) = t.server.listen_loopback(0).await.unwrap() else { panic!("not tcp") };
    assert!(addr.ip().is_loopback());
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let (mut rd, mut wr) = stream.into_split();
    let n = tokio::io::AsyncReadExt::read(&mut rd, &mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"{\"QMP\""));
    tokio::io::AsyncWriteExt::write_all(&mut wr, b"{\"execute\":\"qmp_capabilities\",\"id\":1}").await.unwrap();
    let n = tokio::io::AsyncReadExt::read(&mut rd, &mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"{\"return\": {}, \"id\": 1}\r\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_paths_are_checked() {
    use qapi_runtime::server::MAX_UNIX_PATH;
    let t = start().await;
    // A path a socket address cannot hold is refused, not bound where no
    // client could connect.
    let dir = t.dir.path().display().to_string();
    let fill = |len: usize| format!("{dir}/{}", "s".repeat(len - dir.len() - 1));
    let longest = fill(MAX_UNIX_PATH);
    assert_eq!(longest.len(), 107);
    let e = t.server.listen_unix(fill(MAX_UNIX_PATH + 1)).await.unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    assert!(e.to_string().contains("is 108 bytes long: a socket address holds at most 107"), "{e}");
    assert!(!std::path::Path::new(&fill(MAX_UNIX_PATH + 1)).exists());
    t.server.listen_unix(&longest).await.unwrap();
    Raw::negotiated(std::path::Path::new(&longest), false).await.alive().await;
    // The same path twice, however spelled, through this server or
    // another in the process: the first listener keeps it.
    let alias = t.dir.path().join("..").join(t.dir.path().file_name().unwrap()).join("qmp.sock");
    for path in [&t.socket, &alias] {
        let e = t.server.listen_unix(path).await.unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AddrInUse, "{e}");
    }
    let other = Server::new(common::Machine::new(), config());
    let e = other.listen_unix(&t.socket).await.unwrap_err();
    assert!(e.to_string().contains("this process already listens on"), "{e}");
    Raw::negotiated(&t.socket, false).await.alive().await;
    // Free again once the first server is gone.
    t.server.shutdown().await;
    other.listen_unix(&t.socket).await.unwrap();
    Raw::negotiated(&t.socket, false).await.alive().await;
    other.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_loopback_tcp_needs_an_opt_in() {
    let closed = Server::new(common::Machine::new(), config());
    for addr in ["0.0.0.0:0", "[::]:0"] {
        let e = closed.listen_tcp(addr.parse().unwrap()).await.unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied, "{addr}");
        assert!(e.to_string().contains("QMP has no authentication"), "{e}");
    }
    assert!(closed.listen_tcp("127.0.0.1:0".parse().unwrap()).await.is_ok());
    closed.shutdown().await;
    let open = Server::new(common::Machine::new(), config().allow_non_loopback(true));
    let Listening::Tcp(addr) = open.listen_tcp("0.0.0.0:0".parse().unwrap()).await.unwrap() else { panic!("not tcp") };
    assert!(addr.ip().is_unspecified());
    open.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn graceful_shutdown_answers_what_is_in_flight() {
    let t = start().await;
    let mut inband = Raw::negotiated(&t.socket, false).await;
    let mut queued = Raw::negotiated(&t.socket, true).await;
    let mut batch = String::new();
    for i in 0..50 {
        batch.push_str(&format!(r#"{{"execute": "add", "arguments": {{"a": {i}}}, "id": {i}}}"#));
    }
    // With oob on, requests queue behind a slow one.
    queued.send(format!(r#"{{"execute": "sleep", "arguments": {{"ms": 300}}, "id": "slow"}}{batch}"#)).await;
    inband.send(&batch).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let server = t.server.clone();
    let done = tokio::spawn(async move { server.shutdown().await });
    for c in [&mut inband, &mut queued] {
        let mut got = Vec::new();
        while let Some(line) = c.try_line(Duration::from_secs(5)).await {
            got.push(serde_json::from_str::<Value>(&line).unwrap()["id"].clone());
        }
        let want: Vec<Value> = (0..50).map(|i| json!(i)).collect();
        got.retain(|id| id != "slow");
        assert_eq!(got, want);
    }
    tokio::time::timeout(Duration::from_secs(5), done).await.unwrap().unwrap();
    assert!(!t.socket.exists(), "socket removed on shutdown");
    assert!(tokio::net::UnixStream::connect(&t.socket).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_client_does_not_disturb_others() {
    let t = start().await;
    let mut good = Raw::negotiated(&t.socket, false).await;
    let mut bad = Raw::negotiated(&t.socket, false).await;
    bad.send(b"\xff\xfe{{{{[[[[\"\\u\x00 garbage ]]]]}}}}").await;
    // A client that leaves mid-request.
    let (mut gone, _) = Raw::connect(&t.socket).await;
    gone.send(r#"{"execute": "qmp_capabilities"#).await;
    drop(gone);
    good.alive().await;
    while bad.try_line(Duration::from_millis(200)).await.is_some() {}
    bad.send("\u{1}").await;
    bad.msg().await;
    bad.alive().await;
}

#[tokio::test(flavor = "current_thread")]
async fn works_on_a_current_thread_runtime_and_any_stream() {
    let machine = common::Machine::new();
    let server = Server::new(machine, config());
    let (client, conn) = tokio::io::duplex(1024);
    server.serve(conn);
    let (rd, mut wr) = tokio::io::split(client);
    let mut rd = tokio::io::BufReader::new(rd);
    let mut line = String::new();
    tokio::io::AsyncBufReadExt::read_line(&mut rd, &mut line).await.unwrap();
    assert!(line.ends_with("\r\n"));
    tokio::io::AsyncWriteExt::write_all(&mut wr, b"{'execute': 'qmp_capabilities', 'id': 0}").await.unwrap();
    line.clear();
    tokio::io::AsyncBufReadExt::read_line(&mut rd, &mut line).await.unwrap();
    assert_eq!(line, "{\"return\": {}, \"id\": 0}\r\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_does_not_wait_forever_for_a_client_that_does_not_read() {
    let mut cfg = config();
    cfg.shutdown_grace = Duration::from_millis(200);
    let t = start_with(cfg).await;
    let stuck = Raw::negotiated(&t.socket, false).await;
    // Far more reply bytes than socket buffers hold, never read.
    let big = "y".repeat(60_000);
    let req = format!(r#"{{"execute": "echo", "arguments": {{"s": "{big}"}}}}"#);
    let (_rd, mut wr) = stuck.stream.into_split();
    let writer = tokio::spawn(async move {
        for _ in 0..200 {
            if tokio::io::AsyncWriteExt::write_all(&mut wr, req.as_bytes()).await.is_err() {
                break;
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(5), t.server.shutdown()).await.expect("shutdown in time");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(t.server.connections(), 0);
    writer.abort();
}
