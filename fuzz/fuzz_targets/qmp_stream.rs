//! Fuzzes QMP input end to end without I/O: the streaming JSON reader
//! (whole input vs. arbitrary chunking must agree; a valid JSON document
//! must read as serde_json reads it) and the request decoder and
//! dispatcher behind it (every reply one ASCII JSON object per CRLF line).
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use qapi_runtime::dispatch::{decode_arguments, CommandInfo, Dispatcher};
use qapi_runtime::server::{Server, ServerConfig, Session};
use qapi_runtime::stream::{JsonStream, Limits};
use qapi_runtime::{CommandFlags, Error};
use serde_json::Value;

struct Fuzz;

static COMMANDS: [CommandInfo; 3] = [
    CommandInfo { name: "echo", flags: CommandFlags::DEFAULT },
    CommandInfo { name: "typed", flags: CommandFlags { allow_oob: true, ..CommandFlags::DEFAULT } },
    CommandInfo { name: "quiet", flags: CommandFlags { success_response: false, ..CommandFlags::DEFAULT } },
];

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Typed {
    a: u8,
    b: Option<Vec<i32>>,
    c: Option<String>,
}

impl Dispatcher for Fuzz {
    fn commands(&self) -> &[CommandInfo] {
        &COMMANDS
    }
    fn dispatch(&self, name: &str, args: Option<Value>) -> Result<Value, Error> {
        match name {
            "echo" | "quiet" => Ok(args.unwrap_or(Value::Null)),
            "typed" => decode_arguments::<Typed>(args).map(|_| Value::Bool(true)),
            _ => Err(Error::command_not_found(name)),
        }
    }
}

const LIMITS: Limits = Limits { max_depth: 16, max_token_size: 128, max_message_size: 512, max_tokens: 64 };

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| Server::new(Arc::new(Fuzz), ServerConfig::new().limits(LIMITS)))
}

fn read(input: &[u8], limits: Limits, chunk: usize) -> Vec<Result<Value, Error>> {
    let mut r = JsonStream::new(limits);
    let mut out = Vec::new();
    for c in input.chunks(chunk.max(1)) {
        r.feed(c, &mut out);
    }
    out
}

/// Numbers compared by value, whatever their representation.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        // serde_json (without float_roundtrip) may be an ulp off.
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y || (x - y).abs() <= 1e-15 * x.abs().max(y.abs()),
            _ => false,
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
        }
        _ => a == b,
    }
}

/// Whether a number in `input` may be a zero with an exponent (`0e1`),
/// which QEMU's lexer, unlike RFC 8259, does not accept.
fn zero_exponent(input: &[u8]) -> bool {
    input.windows(2).enumerate().any(|(i, w)| {
        w[0] == b'0' && matches!(w[1], b'e' | b'E') && (i == 0 || !matches!(input[i - 1], b'0'..=b'9' | b'.'))
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, input)) = data.split_first() else { return };

    // Chunking never changes what is read.
    let whole = read(input, LIMITS, usize::MAX);
    let chunked = read(input, LIMITS, usize::from(ctl % 13) + 1);
    assert_eq!(whole, chunked);

    // A JSON document serde_json accepts reads the same here (QEMU's
    // stricter rules excepted: duplicate keys, noncharacters, limits, and
    // no exponent right after a leading zero, as in `0e1`).
    if let (false, Ok(expected)) = (zero_exponent(input), serde_json::from_slice::<Value>(input)) {
        let mut padded = input.to_vec();
        padded.push(b' ');
        let got = read(&padded, Limits::QEMU, usize::MAX);
        match got.as_slice() {
            [Ok(v)] => assert!(same(v, &expected), "{v} != {expected}"),
            // Past a limit QEMU reads the rest of the value as new input.
            [Err(e), ..] if e.desc.contains("limit exceeded") => {}
            [Err(e)] => assert!(
                e.desc.contains("duplicate key")
                    || e.desc.contains("not a valid Unicode character")
                    || e.desc.contains("invalid UTF-8"),
                "rejected valid JSON: {}",
                e.desc
            ),
            other => panic!("one document read as {} results", other.len()),
        }
    }

    // Every result through the protocol: one ASCII JSON object per line.
    let mut session = Session { negotiated: ctl & 0x80 != 0, oob: ctl & 0x40 != 0 };
    let mut out = Vec::new();
    for msg in whole {
        let before = out.len();
        server().handle(&mut session, msg, &mut out);
        let reply = &out[before..];
        if reply.is_empty() {
            continue;
        }
        assert!(reply.ends_with(b"\r\n"));
        let line = &reply[..reply.len() - 2];
        assert!(line.is_ascii() && !line.contains(&b'\n'));
        let v: Value = serde_json::from_slice(line).expect("reply is JSON");
        assert!(v.get("return").is_some() || v.get("error").is_some());
    }
});
