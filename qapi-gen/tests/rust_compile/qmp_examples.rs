// The checks behind `tests/qmp_examples.rs` of the crate `rust_compile.rs`
// generates; that file is this text followed by the generated dispatch
// from wire names to generated types (`rust_compile/examples.rs`).
//
// Every request, reply and event of the QMP examples in QEMU 10.2's schema
// documentation (`tests/qmp_examples.json`, extracted at generation time)
// must decode into the generated type and encode back to equal JSON,
// except the examples listed in `SCHEMA_DISAGREES`, which contradict the
// schema they document and must fail for that reason.
//
// Equal JSON: objects compare without regard to member order; numbers
// compare by value, so an integer written where the type is `number`
// (`"cache-miss-rate": 0` for a double) equals the `0.0` it encodes back
// to. JSON itself has one kind of number (RFC 8259), and QEMU writes a
// double with an integral value without a fraction (`%.17g` gives `0`), so
// the two spellings are the same value on QMP's wire. How often that rule
// was needed is printed.

// Deprecated commands and events have examples too.
#![allow(deprecated)]

use std::collections::BTreeMap;

use qapi_runtime::dispatch::decode;
use qapi_runtime::serde::de::DeserializeOwned;
use qapi_runtime::serde::Serialize;
use qapi_runtime::serde_json::{self, json, Value};
use qapi_runtime::Command;

/// How many numbers compared equal only by value, or what went wrong.
type Outcome = Result<usize, String>;

/// Whether `a` and `b` are equal JSON; numbers in integer and in float
/// notation that have the same value are counted in `loose`.
fn same(a: &Value, b: &Value, path: &str, loose: &mut usize) -> Result<(), String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                let p = format!("{path}.{k}");
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => same(u, v, &p, loose)?,
                    (Some(_), None) => return Err(format!("{p} is lost")),
                    (None, _) => return Err(format!("{p} appears")),
                }
            }
            Ok(())
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().try_for_each(|(i, (u, v))| same(u, v, &format!("{path}[{i}]"), loose))
        }
        (Value::Number(x), Value::Number(y)) if x != y => match (x.as_f64(), y.as_f64()) {
            (Some(u), Some(v)) if u == v && (x.is_f64() || y.is_f64()) => {
                *loose += 1;
                Ok(())
            }
            _ => Err(format!("{path}: {x} became {y}")),
        },
        _ if a == b => Ok(()),
        _ => Err(format!("{path}: {a} became {b}")),
    }
}

/// Decodes `v` as `T` and encodes it back, comparing.
fn round_trip<T: Serialize + DeserializeOwned>(v: &Value) -> Outcome {
    let t: T = decode(v.clone()).map_err(|e| format!("does not decode: {}", e.desc))?;
    let back = serde_json::to_value(&t).map_err(|e| format!("does not encode: {e}"))?;
    let mut loose = 0;
    same(v, &back, "", &mut loose).map_err(|e| format!("encodes differently: {e}"))?;
    Ok(loose)
}

/// A request's arguments (absent: `{}`) and its reply's `return`.
fn check_command<C: Command>(arguments: Option<Value>, ret: Option<Value>) -> Outcome {
    let args = arguments.unwrap_or_else(|| json!({}));
    let mut loose = round_trip::<C::Arguments>(&args).map_err(|e| format!("arguments {e}"))?;
    if let Some(r) = ret {
        loose += round_trip::<C::Returns>(&r).map_err(|e| format!("return {e}"))?;
    }
    Ok(loose)
}

/// An event's data (absent: `{}`, what an event without data decodes from).
fn check_event<E: Serialize + DeserializeOwned>(data: Option<Value>) -> Outcome {
    round_trip::<E>(&data.unwrap_or_else(|| json!({}))).map_err(|e| format!("data {e}"))
}

/// Examples in QEMU 10.2's documentation that disagree with its own schema
/// (QEMU does not check its examples): where, and what the error must
/// mention (one of these). Each must fail to round-trip, with that error;
/// every other example must pass.
const SCHEMA_DISAGREES: &[(&str, &[&str], &str)] = &[
    ("block-core.json:865", &["[0].inserted."], "lacks node-name; `image` has backing_file, not backing-filename"),
    ("block-core.json:2051", &["[0].children", "[0].image.backing_file"], "lacks children; same backing_file"),
    ("machine.json:115", &["qom-type"], "lacks the mandatory qom-type"),
    ("migration.json:350", &["ram.dirty-pages-rate"], "lacks the mandatory dirty-pages-rate"),
    ("migration.json:377", &["ram.dirty-pages-rate"], "lacks the mandatory dirty-pages-rate"),
    ("migration.json:399", &["ram.dirty-pages-rate"], "lacks the mandatory dirty-pages-rate"),
    ("migration.json:1442", &["offset"], "gives the uint64 offset as the string \"0x1000\""),
    ("trace.json:58", &["[0].vcpu"], "has vcpu, which TraceEventInfo no longer has"),
    ("misc.json:116", &["poll-max-ns"], "lacks poll-max-ns and the other polling members"),
    ("misc.json:565", &["qom-path"], "lacks the mandatory qom-path"),
    ("misc-i386.json:138", &["sev-type"], "lacks the discriminator sev-type"),
    ("misc-i386.json:360", &["section"], "has section where the schema says sections"),
    ("pci.json:189", &["irq_pin"], "lacks the mandatory irq_pin"),
    ("virtio.json:275", &["legacy-check"], "has disabled-legacy-check where the schema says disable-legacy-check"),
];

type CommandCheck = fn(&str, Option<Value>, Option<Value>) -> Option<Outcome>;
type EventCheck = fn(&str, Option<Value>) -> Option<Outcome>;

/// Checks every message of the fixture with one module's types and prints
/// what was checked and what was skipped, and why.
fn run(module: &str, command: CommandCheck, event: EventCheck) {
    let items: Vec<Value> = serde_json::from_str(include_str!("qmp_examples.json")).expect("fixture");
    let (mut pairs, mut alone, mut events, mut loose) = (0, 0, 0, 0);
    let mut skipped: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut failures = Vec::new();
    for item in &items {
        let text = |k: &str| item[k].as_str().unwrap_or_default().to_owned();
        let opt = |k: &str| item.get(k).filter(|v| !v.is_null()).cloned();
        let (outcome, counter, what) = match item["kind"].as_str() {
            Some("pair") => (command(&text("command"), opt("arguments"), opt("return")), &mut pairs, "command"),
            Some("request") => (command(&text("command"), opt("arguments"), None), &mut alone, "command"),
            Some("event") => (event(&text("event"), opt("data")), &mut events, "event"),
            _ => {
                skipped.entry(text("reason")).or_default().push(text("place"));
                continue;
            }
        };
        let name = if what == "event" { text("event") } else { text("command") };
        let place = text("place");
        if let Some((_, mentions, why)) = SCHEMA_DISAGREES.iter().find(|(p, ..)| *p == place) {
            match outcome {
                Some(Err(e)) if mentions.iter().any(|m| e.contains(m)) => {
                    let reason = format!("the example disagrees with the schema: {what} {name} {why}");
                    skipped.entry(reason).or_default().push(format!("{place} ({e})"));
                }
                Some(Err(e)) => failures.push(format!("{place}: {what} {name}: not the known disagreement: {e}")),
                _ => failures.push(format!("{place}: {what} {name} is listed as disagreeing but passes")),
            }
            continue;
        }
        match outcome {
            Some(Ok(n)) => {
                *counter += 1;
                loose += n;
            }
            Some(Err(e)) => failures.push(format!("{place}: {what} {name}: {e}")),
            None => failures.push(format!("{place}: no {what} {name} in the schema")),
        }
    }
    let skips: usize = skipped.values().map(Vec::len).sum();
    // One print, so that tests running in parallel don't interleave lines.
    let mut report = format!(
        "{module}: qmp-examples: {pairs} request/reply pairs, {alone} requests without a checkable reply and \
         {events} events round-tripped; {skips} messages skipped; {loose} numbers equal across integer/float notation\n"
    );
    for (reason, places) in &skipped {
        report.push_str(&format!("  skipped {}: {reason}: {}\n", places.len(), places.join(", ")));
    }
    print!("{report}");
    assert!(failures.is_empty(), "{module}: {} examples fail:\n{}", failures.len(), failures.join("\n"));
    // An extraction that finds nothing must not pass.
    assert!(pairs > 0 && skips * 4 < pairs + alone + events, "{module}: too little was checked");
}
