//! Deserialize and serialize of `query-migrate` replies: `qapi-gen`'s
//! types for the project schema against `qapi-qmp` 0.15's `MigrationInfo`,
//! measured in the same run (target: 1.5× its rate). Ours are measured
//! twice: through their serde impls with serde_json, as qapi-qmp's are,
//! and through the generated JSON codec (`qapi_runtime::json`, the
//! `json_codec` option), which is checked to decode to the same value
//! and write the same bytes as serde_json. A payload a side cannot
//! decode, or does not write back unchanged, is reported as such; rates
//! are compared on the payloads both decode.
//!
//! Run with `cargo run --release --bin serde-migrate` in `bench-compare/`.

use std::time::Duration;

use qapi_bench_compare::{median, payloads, project};
use qapi_runtime::json::{self, Decode, Encode};
use qapi_runtime::serde::de::DeserializeOwned;
use qapi_runtime::serde::Serialize;
use serde_json::Value;

/// Calls of the measured operation per timed sample.
const BATCH: usize = 2000;
/// Timed samples; the median is kept.
const SAMPLES: usize = 31;

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

/// Operations per second for (deserialize, serialize), from medians of batches.
fn rates<T: DeserializeOwned + Serialize>(payload: &str) -> Option<(f64, f64)> {
    let value: T = serde_json::from_str(payload).ok()?;
    let de = median(
        || {
            for _ in 0..BATCH {
                std::hint::black_box(serde_json::from_str::<T>(std::hint::black_box(payload)).ok());
            }
        },
        SAMPLES,
    );
    let mut buf = Vec::with_capacity(payload.len() * 2);
    let ser = median(
        || {
            for _ in 0..BATCH {
                buf.clear();
                std::hint::black_box(serde_json::to_writer(&mut buf, std::hint::black_box(&value)).ok());
            }
        },
        SAMPLES,
    );
    let per_s = |d: Duration| BATCH as f64 / d.as_secs_f64();
    Some((per_s(de), per_s(ser)))
}

/// Operations per second for (decode, encode) through the JSON codec,
/// once it is checked to agree with serde_json on this payload.
fn codec_rates<T: DeserializeOwned + Serialize + Decode + Encode + PartialEq>(
    payload: &str,
) -> Result<(f64, f64), String> {
    let value: T = json::from_str(payload).map_err(|e| format!("codec REJECTED: {e}"))?;
    let via_serde: T = serde_json::from_str(payload).map_err(|e| e.to_string())?;
    if value != via_serde {
        return Err("codec and serde decode different values".into());
    }
    if json::to_vec(&value) != serde_json::to_vec(&value).map_err(|e| e.to_string())? {
        return Err("codec and serde_json write different bytes".into());
    }
    let de = median(
        || {
            for _ in 0..BATCH {
                std::hint::black_box(json::from_str::<T>(std::hint::black_box(payload)).ok());
            }
        },
        SAMPLES,
    );
    let mut buf = Vec::with_capacity(payload.len() * 2);
    let ser = median(
        || {
            for _ in 0..BATCH {
                buf.clear();
                std::hint::black_box(&value).encode(&mut buf);
                std::hint::black_box(&buf);
            }
        },
        SAMPLES,
    );
    let per_s = |d: Duration| BATCH as f64 / d.as_secs_f64();
    Ok((per_s(de), per_s(ser)))
}

/// Deserializations per second into `serde::de::IgnoredAny`: serde_json
/// reading the payload and building nothing. No type decoded through
/// serde_json can go faster, so this bounds what any generated code can
/// reach on this payload.
fn parse_only_rate(payload: &str) -> f64 {
    let d = median(
        || {
            for _ in 0..BATCH {
                std::hint::black_box(
                    serde_json::from_str::<qapi_runtime::serde::de::IgnoredAny>(std::hint::black_box(payload)).ok(),
                );
            }
        },
        SAMPLES,
    );
    BATCH as f64 / d.as_secs_f64()
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
    println!("median of {SAMPLES} samples of {BATCH} operations each\n");
    // (deserialize ratio, serialize ratio, whether both sides round-trip the payload exactly)
    let mut ratios: Vec<(f64, f64, bool)> = Vec::new();
    let mut codec_ratios: Vec<(f64, f64, bool)> = Vec::new();
    for (name, payload) in payloads::ALL {
        let (ours, theirs) = (outcome::<Ours>(payload), outcome::<Theirs>(payload));
        println!("{name} ({} bytes)", payload.len());
        println!("  qapi-gen: {}", describe(&ours));
        println!("  qapi-qmp: {}", describe(&theirs));
        let (Some((ode, oser)), Some((tde, tser))) = (rates::<Ours>(payload), rates::<Theirs>(payload)) else {
            println!("  not compared: only one side decodes it\n");
            continue;
        };
        println!("                      qapi-gen ops/s   qapi-qmp ops/s   ratio");
        println!("  deserialize       {ode:16.0} {tde:16.0} {:7.2}x", ode / tde);
        println!("  serialize         {oser:16.0} {tser:16.0} {:7.2}x", oser / tser);
        let both_exact = matches!((&ours, &theirs), (Outcome::RoundTrips, Outcome::RoundTrips));
        match codec_rates::<Ours>(payload) {
            Ok((cde, cser)) => {
                println!("  decode (codec)    {cde:16.0} {tde:16.0} {:7.2}x", cde / tde);
                println!("  encode (codec)    {cser:16.0} {tser:16.0} {:7.2}x", cser / tser);
                codec_ratios.push((cde / tde, cser / tser, both_exact));
            }
            Err(e) => println!("  codec: {e}"),
        }
        let bound = parse_only_rate(payload);
        println!(
            "  parse only        {bound:16.0}                  {:7.2}x  (serde_json into IgnoredAny: the ceiling of any serde_json decode)",
            bound / tde
        );
        if matches!(theirs, Outcome::Lossy(_)) {
            println!("  (qapi-qmp drops members here, so it serializes less)");
        }
        println!();
        ratios.push((ode / tde, oser / tser, both_exact));
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
}
