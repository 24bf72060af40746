//! Event payloads on the wire, from the golden `events` schema (client
//! mode): an event without data is `{}`, one whose data is a named type is
//! that type's value.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use qapi_tests::golden::events::{Event, MovedEvent, ResumedEvent, Where};
use serde_json::{from_value, json, to_value};

#[test]
fn an_event_without_data_is_an_empty_object() {
    assert_eq!(to_value(ResumedEvent {}).unwrap(), json!({}));
    assert_eq!(from_value::<ResumedEvent>(json!({})).unwrap(), ResumedEvent {});
    // A client ignores members it does not know.
    assert_eq!(from_value::<ResumedEvent>(json!({ "new": 1 })).unwrap(), ResumedEvent {});
    // An object only, as QEMU sends it.
    assert!(from_value::<ResumedEvent>(json!([])).is_err());
    assert!(from_value::<ResumedEvent>(json!(null)).is_err());
    assert!(from_value::<ResumedEvent>(json!("RESUMED")).is_err());

    assert_eq!(Event::decode("RESUMED", None).unwrap(), Event::Resumed(ResumedEvent {}));
    assert_eq!(Event::Resumed(ResumedEvent {}).encode().unwrap(), ("RESUMED", None));
}

#[test]
fn an_event_with_a_named_type_is_its_value() {
    let moved = MovedEvent(Where { place: "here".into() });
    assert_eq!(to_value(&moved).unwrap(), json!({ "place": "here" }));
    assert_eq!(from_value::<MovedEvent>(json!({ "place": "here" })).unwrap(), moved);
    assert!(from_value::<MovedEvent>(json!({})).is_err());

    let event = Event::decode("MOVED", Some(json!({ "place": "here" }))).unwrap();
    assert_eq!(event, Event::Moved(moved));
    assert_eq!(event.encode().unwrap(), ("MOVED", Some(json!({ "place": "here" }))));
}
