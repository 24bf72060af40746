//! Deserialize and serialize of `query-migrate` replies: `qapi-gen`'s
//! types for the project schema against `qapi-qmp` 0.15's `MigrationInfo`,
//! measured in the same run (target: 1.5× its rate). Ours are measured
//! twice: through their serde impls with serde_json, as qapi-qmp's are,
//! and through the generated JSON codec (`qapi_runtime::json`, the
//! `json_codec` option), which is checked to decode to the same value
//! and write the same bytes as serde_json. A payload a side cannot
//! decode, or does not write back unchanged, is reported as such; rates
//! are compared on the payloads both decode. The codec is also set
//! against our own serde impls, on every payload ours decode: the
//! project keeps the codec only while it decodes these payloads at least
//! 1.5x as fast as our serde path.
//!
//! Run with `cargo run --release --bin serde-migrate` in `bench-compare/`.

use std::time::Instant;

use qapi_bench_compare::{median, payloads, project};
use qapi_runtime::json::{self, Decode, Encode};
use qapi_runtime::serde::de::{DeserializeOwned, IgnoredAny};
use qapi_runtime::serde::Serialize;
use serde_json::Value;

/// Calls of a measured operation per timed batch.
const BATCH: usize = 2000;
/// Rounds of batches; medians over them are kept.
const ROUNDS: usize = 41;

/// What one side makes of a payload.
enum Outcome {
    /// Decoded, and written back to equal JSON.
    RoundTrips,
    /// Decoded, but written back without (or with changed) these members.
    Lossy(Vec<String>),
    /// Not decoded.
    Rejected(String),
}

/// The top-level and nested member paths where `a` has something `b` has not (or differs).
fn differences(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                match y.get(k) {
                    Some(w) => differences(v, w, &p, out),
                    None => out.push(format!("{p} (dropped)")),
                }
            }
            for k in y.keys().filter(|k| !x.contains_key(*k)) {
                out.push(format!("{path}.{k} (added)"));
            }
        }
        _ if a != b => out.push(format!("{path} (changed)")),
        _ => {}
    }
}

fn outcome<T: DeserializeOwned + Serialize>(payload: &str) -> Outcome {
    let value: T = match serde_json::from_str(payload) {
        Ok(v) => v,
        Err(e) => return Outcome::Rejected(e.to_string()),
    };
    let back = serde_json::to_value(&value).unwrap_or(Value::Null);
    let orig: Value = serde_json::from_str(payload).unwrap_or(Value::Null);
    let mut diffs = Vec::new();
    differences(&orig, &back, "", &mut diffs);
    if diffs.is_empty() {
        Outcome::RoundTrips
    } else {
        Outcome::Lossy(diffs)
    }
}

/// Runs `ops` in `ROUNDS` rounds, every op one batch per round, the
/// order rotating from round to round, so that all of them see the same
/// machine (a shared machine's speed drifts by tens of percent within a
/// run, which timing one op after the other would read as a difference
/// between them). Returns each op's nanoseconds per call, per round.
fn interleaved(ops: &mut [Box<dyn FnMut() + '_>]) -> Vec<Vec<f64>> {
    let mut times = vec![Vec::with_capacity(ROUNDS); ops.len()];
    // One untimed round first: caches, branch predictors, allocator.
    ops.iter_mut().for_each(|op| op());
    for round in 0..ROUNDS {
        for k in 0..ops.len() {
            let i = (round + k) % ops.len();
            let t = Instant::now();
            ops[i]();
            times[i].push(t.elapsed().as_nanos() as f64 / BATCH as f64);
        }
    }
    times
}

/// The median over rounds of `base`'s time divided by `ours`': how many
/// times `ours`' rate is `base`'s, round by round.
fn ratio(ours: &[f64], base: &[f64]) -> f64 {
    let mut r: Vec<f64> = ours.iter().zip(base).map(|(o, b)| b / o).collect();
    median(&mut r)
}

/// Operations per second from nanoseconds per call, the median round.
fn rate(ns: &[f64]) -> f64 {
    1e9 / median(&mut ns.to_vec())
}

/// `BATCH` calls of `f` on `x`, the result kept from the optimizer.
fn batch<'a, X: ?Sized, R>(x: &'a X, f: impl Fn(&X) -> R + 'a) -> Box<dyn FnMut() + 'a> {
    Box::new(move || {
        for _ in 0..BATCH {
            std::hint::black_box(f(std::hint::black_box(x)));
        }
    })
}

/// A batch of serializations into a reused buffer.
fn write_batch<'a, X: ?Sized>(x: &'a X, f: impl Fn(&X, &mut Vec<u8>) + 'a) -> Box<dyn FnMut() + 'a> {
    let mut buf = Vec::with_capacity(4096);
    Box::new(move || {
        for _ in 0..BATCH {
            buf.clear();
            f(std::hint::black_box(x), &mut buf);
            std::hint::black_box(&buf);
        }
    })
}

/// Whether the codec decodes `payload` to the value serde does and
/// writes the bytes serde_json writes; why not if not.
fn codec_agrees<T: DeserializeOwned + Serialize + Decode + Encode + PartialEq>(payload: &str) -> Result<(), String> {
    let value: T = json::from_str(payload).map_err(|e| format!("codec REJECTED: {e}"))?;
    let via_serde: T = serde_json::from_str(payload).map_err(|e| e.to_string())?;
    if value != via_serde {
        return Err("codec and serde decode different values".into());
    }
    if json::to_vec(&value) != serde_json::to_vec(&value).map_err(|e| e.to_string())? {
        return Err("codec and serde_json write different bytes".into());
    }
    Ok(())
}

/// Times our decode and encode through the codec against our serde
/// impls on a payload qapi-qmp does not decode, and prints the ratios;
/// `None` when the codec is not checked equal to serde on it.
fn codec_against_serde<T>(payload: &str) -> Option<(f64, f64)>
where
    T: DeserializeOwned + Serialize + Decode + Encode + PartialEq,
{
    let value: T = serde_json::from_str(payload).ok()?;
    if let Err(e) = codec_agrees::<T>(payload) {
        println!("  codec: {e}");
        return None;
    }
    let mut ops: Vec<Box<dyn FnMut() + '_>> = vec![
        batch(payload, |p| serde_json::from_str::<T>(p).ok()),
        write_batch(&value, |v, out| serde_json::to_writer(out, v).unwrap_or_default()),
        batch(payload, |p| json::from_str::<T>(p).ok()),
        write_batch(&value, |v, out| v.encode(out)),
    ];
    let t = interleaved(&mut ops);
    let (de, ser) = (ratio(&t[2], &t[0]), ratio(&t[3], &t[1]));
    println!("  codec vs our serde impls: decode {de:.2}x, encode {ser:.2}x");
    Some((de, ser))
}

fn describe(o: &Outcome) -> String {
    match o {
        Outcome::RoundTrips => "decodes, writes back equal JSON".into(),
        Outcome::Lossy(d) => format!("decodes, but LOSSY on write-back: {}", d.join(", ")),
        Outcome::Rejected(e) => format!("REJECTED: {e}"),
    }
}

fn main() {
    type Ours = project::MigrationInfo;
    type Theirs = qapi_qmp::MigrationInfo;
    println!("query-migrate replies: qapi-gen (project schema, client mode) vs qapi-qmp 0.15.0 MigrationInfo");
    println!(
        "{ROUNDS} rounds of one batch of {BATCH} operations of each kind, interleaved; rates are medians over the rounds,\n\
         ratios the median of the rounds' ratios\n"
    );
    // (deserialize ratio, serialize ratio, whether both sides round-trip the payload exactly)
    let mut ratios: Vec<(f64, f64, bool)> = Vec::new();
    let mut codec_ratios: Vec<(f64, f64, bool)> = Vec::new();
    // The codec against our own serde impls: (decode, encode) per payload.
    let mut codec_vs_serde: Vec<(f64, f64)> = Vec::new();
    for (name, payload) in payloads::ALL {
        let (ours, theirs) = (outcome::<Ours>(payload), outcome::<Theirs>(payload));
        println!("{name} ({} bytes)", payload.len());
        println!("  qapi-gen: {}", describe(&ours));
        println!("  qapi-qmp: {}", describe(&theirs));
        let (Ok(ours_v), Ok(theirs_v)) =
            (serde_json::from_str::<Ours>(payload), serde_json::from_str::<Theirs>(payload))
        else {
            println!("  not compared with qapi-qmp: only one side decodes it");
            if let Some(r) = codec_against_serde::<Ours>(payload) {
                codec_vs_serde.push(r);
            }
            println!();
            continue;
        };
        let codec = codec_agrees::<Ours>(payload);
        if let Err(e) = &codec {
            println!("  codec: {e}");
        }
        // Ops, by index: theirs (0, 1), ours through serde (2, 3), parse
        // only (4), ours through the codec (5, 6).
        let mut ops: Vec<Box<dyn FnMut() + '_>> = vec![
            batch(payload, |p| serde_json::from_str::<Theirs>(p).ok()),
            write_batch(&theirs_v, |v, out| serde_json::to_writer(out, v).unwrap_or_default()),
            batch(payload, |p| serde_json::from_str::<Ours>(p).ok()),
            write_batch(&ours_v, |v, out| serde_json::to_writer(out, v).unwrap_or_default()),
            batch(payload, |p| serde_json::from_str::<IgnoredAny>(p).ok()),
        ];
        if codec.is_ok() {
            ops.push(batch(payload, |p| json::from_str::<Ours>(p).ok()));
            ops.push(write_batch(&ours_v, |v, out| v.encode(out)));
        }
        let t = interleaved(&mut ops);
        let both_exact = matches!((&ours, &theirs), (Outcome::RoundTrips, Outcome::RoundTrips));
        println!("                      qapi-gen ops/s   qapi-qmp ops/s   ratio");
        // Prints a row; returns its ratio.
        let row = |label: &str, ours: &[f64], base: &[f64]| {
            let r = ratio(ours, base);
            println!("  {label:16}{:16.0} {:16.0} {r:7.2}x", rate(ours), rate(base));
            r
        };
        ratios.push((row("deserialize", &t[2], &t[0]), row("serialize", &t[3], &t[1]), both_exact));
        if codec.is_ok() {
            codec_ratios.push((row("decode (codec)", &t[5], &t[0]), row("encode (codec)", &t[6], &t[1]), both_exact));
            let (de, ser) = (ratio(&t[5], &t[2]), ratio(&t[6], &t[3]));
            println!("  codec vs our serde impls: decode {de:.2}x, encode {ser:.2}x");
            codec_vs_serde.push((de, ser));
        }
        println!(
            "  parse only      {:16.0}                  {:7.2}x  (serde_json into IgnoredAny: the ceiling of any serde_json decode)",
            rate(&t[4]),
            ratio(&t[4], &t[0])
        );
        if matches!(theirs, Outcome::Lossy(_)) {
            println!("  (qapi-qmp drops members here, so it serializes less)");
        }
        println!();
    }
    let geo = |r: &[f64]| (r.iter().map(|x| x.ln()).sum::<f64>() / r.len().max(1) as f64).exp();
    let summary = |ratios: &[(f64, f64, bool)], label: &str, exact_only: bool| {
        let kept: Vec<_> = ratios.iter().filter(|r| r.2 || !exact_only).collect();
        let de: Vec<f64> = kept.iter().map(|r| r.0).collect();
        let ser: Vec<f64> = kept.iter().map(|r| r.1).collect();
        println!(
            "geometric mean over {} payload(s) {label}: deserialize {:.2}x, serialize {:.2}x (target >= 1.5x)",
            kept.len(),
            geo(&de),
            geo(&ser)
        );
    };
    summary(&ratios, "both decode, serde", false);
    summary(&ratios, "both round-trip exactly, serde", true);
    summary(&codec_ratios, "both decode, codec", false);
    summary(&codec_ratios, "both round-trip exactly, codec", true);
    let de: Vec<f64> = codec_vs_serde.iter().map(|r| r.0).collect();
    let ser: Vec<f64> = codec_vs_serde.iter().map(|r| r.1).collect();
    println!(
        "geometric mean over {} payload(s), the codec against our serde impls: decode {:.2}x, encode {:.2}x \
         (the codec is kept while decode >= 1.5x)",
        de.len(),
        geo(&de),
        geo(&ser)
    );
}
