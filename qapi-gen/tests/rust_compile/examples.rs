//! The QMP exchanges in a schema's documentation examples
//! (`.. qmp-example::` blocks, and the older `Example::` sections), as a
//! JSON fixture for the generated crate's `tests/qmp_examples.rs`, and the
//! dispatch from wire names to generated types that test needs.
//!
//! An example is a series of messages: `-> ` starts what the client sends,
//! `<- ` what the server sends; a message runs on over the lines indented
//! deeper than its arrow. Each message is parsed as JSON. Requests
//! (`execute` / `exec-oob`) are paired with the next reply (`return` or
//! `error`) of their example; events (`event`) stand alone. What cannot
//! be checked is kept with the reason, so the test can say why.

use std::fmt::Write as _;

use qapi_gen::gen::rust::RustNames;
use qapi_gen::Schema;
use serde_json::{json, Value};

/// One message of an example.
struct Message {
    /// `->` or `<-`.
    from_client: bool,
    text: String,
    /// Where it is: file:line.
    place: String,
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The messages of the example blocks in `text` (a documentation section
/// starting at `line0` of `file`).
fn messages_in(text: &str, file: &str, line0: u32, out: &mut Vec<Vec<Message>>) {
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let head = lines[i].trim();
        if !(head.starts_with(".. qmp-example::") || head == "Example::" || head == "Examples::") {
            i += 1;
            continue;
        }
        let base = indent(lines[i]);
        let mut end = i + 1;
        while end < lines.len() && (lines[end].trim().is_empty() || indent(lines[end]) > base) {
            end += 1;
        }
        let mut block: Vec<Message> = Vec::new();
        let mut current: Option<(usize, Message)> = None;
        for (j, line) in lines.iter().enumerate().take(end).skip(i + 1) {
            let t = line.trim();
            let arrow = t.starts_with("->") || t.starts_with("<-");
            if let Some((ind, msg)) = current.as_mut() {
                if !arrow && (t.is_empty() || indent(line) >= *ind) {
                    msg.text.push('\n');
                    msg.text.push_str(t);
                    continue;
                }
            }
            if let Some((_, m)) = current.take() {
                block.push(m);
            }
            if arrow {
                let place = format!("{file}:{}", line0 as usize + j);
                let msg = Message { from_client: t.starts_with("->"), text: t[2..].to_owned(), place };
                current = Some((indent(line), msg));
            }
        }
        if let Some((_, m)) = current.take() {
            block.push(m);
        }
        if !block.is_empty() {
            out.push(block);
        }
        i = end;
    }
}

/// A message's JSON object, or why there is none.
fn parse(text: &str) -> Result<Value, String> {
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let parsed = stream.next();
    let rest = text[stream.byte_offset()..].trim();
    match parsed {
        Some(Ok(v)) if rest.is_empty() && v.is_object() => Ok(v),
        Some(Ok(_)) if rest.is_empty() => Err("not a JSON object".into()),
        _ if !text.trim_start().starts_with('{') => Err("not a JSON message (notation or prose)".into()),
        _ if text.contains("...") => Err("elided with `...`".into()),
        Some(Ok(_)) => Err("text after the JSON object (a mistake in the example)".into()),
        _ => Err("not valid JSON (a mistake in the example)".into()),
    }
}

/// A request waiting for its reply.
enum Pending {
    /// A request that is checked: where, the command, its arguments.
    Checked(String, String, Option<Value>),
    /// A request that is skipped (its reason is recorded already).
    Skipped,
}

/// Records a request that got no reply in its example: it is checked alone.
fn flush(items: &mut Vec<Value>, pending: &mut Option<Pending>) {
    if let Some(Pending::Checked(place, command, arguments)) = pending.take() {
        items.push(json!({"kind": "request", "place": place, "command": command, "arguments": arguments}));
    }
}

fn skip(items: &mut Vec<Value>, place: &str, reason: &str) {
    items.push(json!({"kind": "skipped", "place": place, "reason": reason}));
}

/// The fixture: every request/reply pair, request without a reply, and
/// event found in the examples, and every message that cannot be checked
/// with the reason.
pub fn fixture(schema: &Schema) -> Value {
    let mut blocks = Vec::new();
    for doc in schema.docs() {
        for s in std::iter::once(&doc.body).chain(&doc.sections) {
            let (line, _) = s.span.line_col();
            let file = std::path::Path::new(&s.span.file.name).file_name().and_then(|n| n.to_str());
            messages_in(&s.text, file.unwrap_or(&s.span.file.name), line, &mut blocks);
        }
    }
    let mut items = Vec::new();
    for block in blocks {
        let mut pending: Option<Pending> = None;
        for m in block {
            let parsed = parse(&m.text);
            if m.from_client {
                flush(&mut items, &mut pending);
                let request = parsed.and_then(|v| {
                    let name = v.get("execute").or_else(|| v.get("exec-oob")).and_then(Value::as_str);
                    match name {
                        Some(name) => Ok((name.to_owned(), v.get("arguments").cloned())),
                        None => Err("a request without `execute`".to_owned()),
                    }
                });
                pending = Some(match request {
                    Ok((name, arguments)) => Pending::Checked(m.place, name, arguments),
                    Err(reason) => {
                        skip(&mut items, &m.place, &reason);
                        Pending::Skipped
                    }
                });
                continue;
            }
            let v = match parsed {
                Ok(v) => v,
                Err(reason) => {
                    skip(&mut items, &m.place, &reason);
                    continue;
                }
            };
            if let Some(event) = v.get("event").and_then(Value::as_str) {
                items.push(json!({"kind": "event", "place": m.place, "event": event, "data": v.get("data")}));
                continue;
            }
            if v.get("return").is_none() && v.get("error").is_none() {
                skip(
                    &mut items,
                    &m.place,
                    "a server message that is neither reply nor event (a mistake in the example)",
                );
                continue;
            }
            match (pending.take(), v.get("return")) {
                (Some(Pending::Checked(place, command, arguments)), Some(ret)) => items.push(json!({
                    "kind": "pair", "place": place, "command": command, "arguments": arguments, "return": ret,
                })),
                (Some(Pending::Checked(place, command, arguments)), None) => {
                    let mut p = Some(Pending::Checked(place, command, arguments));
                    flush(&mut items, &mut p);
                    skip(&mut items, &m.place, "an error reply (no type to check; its request is checked)");
                }
                (Some(Pending::Skipped), _) => skip(&mut items, &m.place, "a reply to a request that is skipped"),
                (None, _) => skip(&mut items, &m.place, "a reply without a request in its example"),
            }
        }
        flush(&mut items, &mut pending);
    }
    Value::Array(items)
}

/// Functions `{module}_command` and `{module}_event` mapping a wire name to
/// the generated type of module `module` and checking a message with it.
pub fn dispatch(module: &str, names: &RustNames) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "/// Checks a request (and reply) of a command of `{module}`; `None` for a name it lacks.\n\
         fn {module}_command(name: &str, arguments: Option<Value>, ret: Option<Value>) -> Option<Outcome> {{\n    \
         Some(match name {{"
    );
    for (wire, rust) in &names.commands {
        let _ = writeln!(out, "        {wire:?} => check_command::<{module}::{rust}>(arguments, ret),");
    }
    let _ = writeln!(out, "        _ => return None,\n    }})\n}}\n");
    let _ = writeln!(
        out,
        "/// Checks the data of an event of `{module}`; `None` for a name it lacks.\n\
         fn {module}_event(name: &str, data: Option<Value>) -> Option<Outcome> {{\n    \
         Some(match name {{"
    );
    for (wire, rust) in &names.events {
        let _ = writeln!(out, "        {wire:?} => check_event::<{module}::{rust}>(data),");
    }
    let _ = writeln!(out, "        _ => return None,\n    }})\n}}\n");
    out
}
