//! The JSON codec against serde on arbitrary text: for the project's
//! `MigrationInfo` (client and server mode) and the introspection's
//! `SchemaInfo` (a union with lists and alternates), both must accept
//! the same texts, decode them to equal values and write equal bytes;
//! neither may panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use qapi_runtime::json::{self, Decode, Encode};
use qapi_runtime::serde::de::DeserializeOwned;
use qapi_runtime::serde::Serialize;
use qapi_tests::{project_client as client, project_server as server};

fn agree<T>(text: &str)
where
    T: Decode + Encode + DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
{
    match (json::from_str::<T>(text), serde_json::from_str::<T>(text)) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b);
            assert_eq!(json::to_vec(&a), serde_json::to_vec(&b).expect("serde writes it"));
        }
        (Err(_), Err(_)) => {}
        (Ok(_), Err(e)) => panic!("the codec accepts what serde rejects ({e})"),
        (Err(e), Ok(_)) => panic!("the codec rejects ({e}) what serde accepts"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        assert!(json::from_slice::<client::MigrationInfo>(data).is_err());
        return;
    };
    agree::<client::MigrationInfo>(text);
    agree::<server::MigrationInfo>(text);
    agree::<Vec<client::SchemaInfo>>(text);
});
