//! A client generated from `golden/versions.json` ("10.2") that also reads
//! the older versions in `fixtures/versions/` ("9.2", "10.0"): replies of
//! the older servers decode, and encode back as they were.

use qapi_runtime::serde_json::{self, json};
use qapi_tests::golden::versions::{Event, Info, Mode, SetInfoArguments, Stats};
use qapi_tests::round_trip;

#[test]
fn replies_of_older_versions_decode() {
    // 10.0's query-info (its type was called Details): no 'size' (since
    // 10.1), no 'name' (optional then), 'mode' any string.
    let infos: Vec<Info> = round_trip(json!([{ "id": 1, "level": 2, "mode": "turbo" }]));
    let info = &infos[0];
    assert_eq!((info.size, info.name.as_deref()), (None, None));
    assert_eq!(info.mode, Mode::Unknown("turbo".into()));
    // 10.2's still does, with everything.
    let infos: Vec<Info> =
        round_trip(json!([{ "id": 1, "size": 9, "name": "n", "level": 2, "mode": "safe", "tag": "t" }]));
    assert_eq!((infos[0].size, infos[0].mode.clone()), (Some(9), Mode::Safe));
    // 9.2's INFO_CHANGED has no 'reason'.
    let Event::InfoChanged(event) = Event::decode("INFO_CHANGED", Some(json!({ "id": 3 }))).expect("9.2 event") else {
        panic!("not INFO_CHANGED")
    };
    assert_eq!((event.id, event.reason), (3, None));
}

#[test]
fn what_cannot_be_absorbed_and_what_is_sent_stays_as_the_schema_has_it() {
    // Stats.count is a string in 9.2 and 10.0: the code follows 10.2 (and
    // the generator warned).
    assert!(serde_json::from_value::<Stats>(json!({ "count": "7" })).is_err());
    assert_eq!(round_trip::<Stats>(json!({ "count": 7 })).count, 7);
    // Arguments are what this client sends: 'force' stays required,
    // 'colour' (unknown to 9.2 and 10.0) stays optional.
    let args = SetInfoArguments { id: 1, colour: None, force: true };
    assert_eq!(serde_json::to_value(&args).expect("encodes"), json!({ "id": 1, "force": true }));
}
