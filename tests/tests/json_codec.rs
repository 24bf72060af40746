//! The JSON codec (`json_codec`) against the serde impls of the same
//! generated types: on the `query-migrate` replies of the benchmarks, on
//! the schema's own introspection (unions, alternates, lists) and on
//! thousands of mutations of them, both must accept the same texts,
//! decode them to equal values and write them back as the same bytes.

use qapi_runtime::serde::de::{self, DeserializeOwned, Deserializer as _};
use qapi_runtime::{decode, json};
use qapi_tests::codec_agrees;
use qapi_tests::{project_client as client, project_server as server};
use serde_json::Value;

const PAYLOADS: [(&str, &str); 4] = [
    ("active-10.2", include_str!("../../bench-compare/payloads/active-10.2.json")),
    ("active", include_str!("../../bench-compare/payloads/active.json")),
    ("completed", include_str!("../../bench-compare/payloads/completed.json")),
    ("destination", include_str!("../../bench-compare/payloads/destination.json")),
];

/// `text` laid out three more ways: compact (no whitespace at all),
/// with whitespace before every `:`, and with every object's members in
/// reverse order (the codec looks for the next member in schema order
/// first, and for the name after a quote and a colon right after it).
fn layouts(text: &str) -> [String; 4] {
    fn reversed(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => m.iter().rev().map(|(k, v)| (k.clone(), reversed(v))).collect(),
            serde_json::Value::Array(a) => a.iter().map(reversed).collect(),
            v => v.clone(),
        }
    }
    let value: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    let compact = value.to_string();
    let spaced = compact.replace("\":", "\" \t:\n ");
    [text.to_owned(), compact, spaced, serde_json::to_string_pretty(&reversed(&value)).unwrap_or_default()]
}

/// Whether `text` has an object with a member given twice: serde_json's
/// `Value` keeps the last, the codec refuses it.
fn has_duplicate_members(text: &str) -> bool {
    struct Check;
    impl<'de> de::Visitor<'de> for Check {
        type Value = bool;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("JSON")
        }
        fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
            let (mut keys, mut dup) = (std::collections::HashSet::new(), false);
            while let Some(k) = map.next_key::<String>()? {
                dup |= !keys.insert(k) | map.next_value_seed(Check)?;
            }
            Ok(dup)
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
            let mut dup = false;
            while let Some(d) = seq.next_element_seed(Check)? {
                dup |= d;
            }
            Ok(dup)
        }
        fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
            Ok(false)
        }
        fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
            Ok(false)
        }
        fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
            Ok(false)
        }
        fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
            Ok(false)
        }
        fn visit_str<E>(self, _: &str) -> Result<bool, E> {
            Ok(false)
        }
        fn visit_unit<E>(self) -> Result<bool, E> {
            Ok(false)
        }
    }
    impl<'de> de::DeserializeSeed<'de> for Check {
        type Value = bool;
        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
            d.deserialize_any(self)
        }
    }
    serde_json::Deserializer::from_str(text).deserialize_any(Check).unwrap_or(false)
}

/// [`codec_agrees`], and, when `text` is JSON, the codec and the serde
/// path over its `Value` (what a server decodes arguments with, and a
/// client replies) decide alike and word a refusal alike.
fn agree<T>(text: &str) -> bool
where
    T: json::Decode + json::Encode + DeserializeOwned + qapi_runtime::serde::Serialize + PartialEq + std::fmt::Debug,
{
    let accepted = codec_agrees::<T>(text);
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        if !has_duplicate_members(text) {
            let codec = json::from_str::<T>(text).map_err(|e| e.message());
            let serde = decode::from_value::<T>(&value).map_err(|e| e.message());
            assert_eq!(codec.is_ok(), serde.is_ok(), "codec {codec:?}, serde path {serde:?}:\n{text}");
            if let (Err(a), Err(b)) = (codec, serde) {
                assert_eq!(a, b, "codec and serde path word it differently:\n{text}");
            }
        }
    }
    accepted
}

#[test]
fn replies_decode_and_encode_as_serde_does() {
    for (name, text) in PAYLOADS {
        for (i, text) in layouts(text).iter().enumerate() {
            assert!(agree::<client::MigrationInfo>(text), "{name}, layout {i}: client mode rejects it");
            assert!(agree::<server::MigrationInfo>(text), "{name}, layout {i}: server mode rejects it");
        }
    }
}

#[test]
fn introspection_with_unions_and_alternates_agrees() {
    assert!(agree::<Vec<client::SchemaInfo>>(client::QMP_SCHEMA_JSON));
    assert!(agree::<Vec<server::SchemaInfo>>(server::QMP_SCHEMA_JSON));
}

/// A small deterministic generator (xorshift64*), so that a failure
/// reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// `text` with one to three edits: bytes deleted, inserted, replaced, or
/// a stretch repeated. Inserted bytes are ASCII that matters to JSON, so
/// the text stays UTF-8.
fn mutate(text: &str, rng: &mut Rng) -> String {
    const BYTES: &[u8] = b"{}[]\",: 0123456789.eE+-truefalsnl\\/u\n\tx";
    let mut b = text.as_bytes().to_vec();
    for _ in 0..1 + rng.below(3) {
        let at = rng.below(b.len() + 1);
        match rng.below(4) {
            0 if at < b.len() => {
                b.remove(at);
            }
            1 => b.insert(at, BYTES[rng.below(BYTES.len())]),
            2 if at < b.len() => b[at] = BYTES[rng.below(BYTES.len())],
            _ => {
                let end = (at + 1 + rng.below(40)).min(b.len());
                let piece = b[at..end].to_vec();
                b.splice(at..at, piece);
            }
        }
    }
    String::from_utf8(b).unwrap_or_default()
}

#[test]
fn mutated_replies_are_accepted_or_rejected_alike() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut accepted, mut total) = (0, 0);
    for (_, text) in PAYLOADS {
        for _ in 0..4000 {
            let m = mutate(text, &mut rng);
            accepted += usize::from(agree::<client::MigrationInfo>(&m));
            agree::<server::MigrationInfo>(&m);
            total += 1;
        }
    }
    println!("{total} mutated replies, {accepted} accepted by both, the rest rejected by both");
    // Mutations that keep the text valid (whitespace, digits) must be among them.
    assert!(accepted > total / 20, "only {accepted} of {total} accepted: the mutations test little");
}

#[test]
fn mutated_introspection_is_accepted_or_rejected_alike() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let text = client::QMP_SCHEMA_JSON;
    let mut accepted = 0;
    for _ in 0..300 {
        accepted += usize::from(agree::<Vec<client::SchemaInfo>>(&mutate(text, &mut rng)));
    }
    assert!(accepted > 0);
}

#[test]
fn errors_name_the_member_path_line_and_column() {
    let e = |t: &str| json::from_str::<server::MigrationInfo>(t).unwrap_err().to_string();
    assert_eq!(
        e("{\"ram\": {\"transferred\": true}}"),
        "Invalid parameter type for 'ram.transferred', expected: integer at line 1 column 25"
    );
    assert_eq!(
        e("{\n  \"status\": \"flying\"\n}"),
        "Parameter 'status' does not accept value 'flying' at line 2 column 13"
    );
    assert_eq!(e("{\"bogus\": 1}"), "Parameter 'bogus' is unexpected at line 1 column 10");
    assert_eq!(
        e("{\"status\": \"active\", \"status\": \"active\"}"),
        "Parameter 'status' is given twice at line 1 column 31"
    );
    let text = "{\"device-state-times\": [{\"name\": \"ram\", \"instance-id\": 0}]}";
    assert_eq!(e(text), "Parameter 'device-state-times[0].save-time' is missing at line 1 column 58");
    let text = "{\"device-state-times\": [{\"name\": \"ram\", \"instance-id\": 4294967296, \"save-time\": 1}]}";
    // QEMU names only the member in a range error.
    assert_eq!(e(text), "Parameter 'instance-id' expects uint32_t at line 1 column 56");
    // And takes a negative number for an unsigned one as its two's complement.
    let text = "{\"device-state-times\": [{\"name\": \"ram\", \"instance-id\": 0, \"save-time\": -1}]}";
    let info = json::from_str::<server::MigrationInfo>(text).unwrap();
    assert_eq!(info.device_state_times.unwrap()[0].save_time, u64::MAX);
    // A member the type does not have is reported after missing ones.
    let text = "{\"device-state-times\": [{\"name\": \"ram\", \"bogus\": 0, \"save-time\": 1}]}";
    assert_eq!(e(text), "Parameter 'device-state-times[0].instance-id' is missing at line 1 column 68");
    // A client keeps what it does not know.
    let info: client::MigrationInfo = json::from_str("{\"status\": \"flying\", \"bogus\": [1]}").unwrap();
    assert_eq!(json::to_string(&info), "{\"status\":\"flying\"}");
}

/// Types without members have the codec too: events without data (and
/// events whose data is a named type), and the
/// runtime's `Empty` (what a command without `returns` answers) and
/// `NoArguments`. A client skips members it does not know; a server and
/// `NoArguments` refuse them.
#[test]
fn memberless_types_have_the_codec() {
    assert!(codec_agrees::<client::StopEvent>("{}"));
    assert!(codec_agrees::<client::StopEvent>(r#"{"reason": "later QEMU"}"#));
    assert!(!codec_agrees::<server::StopEvent>(r#"{"reason": "later QEMU"}"#));
    assert!(!codec_agrees::<client::ResumeEvent>("[]"));
    assert!(codec_agrees::<qapi_runtime::Empty>(r#"{ "x": {"y": [1]} }"#));
    assert!(codec_agrees::<qapi_runtime::NoArguments>(" {} "));
    assert!(!codec_agrees::<qapi_runtime::NoArguments>(r#"{"x": 1}"#));
    // An event whose data is a named type: the type's.
    use qapi_tests::golden::events_codec::MovedEvent;
    assert!(codec_agrees::<MovedEvent>(r#"{"place": "here"}"#));
    assert!(!codec_agrees::<MovedEvent>(r#"{"place": 1}"#));
}
