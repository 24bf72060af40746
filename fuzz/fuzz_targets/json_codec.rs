//! The JSON codec against serde on arbitrary text: for the project's
//! `MigrationInfo` (client and server mode) and the introspection's
//! `SchemaInfo` (a union with lists and alternates), both must accept
//! the same texts, decode them to equal values and write equal bytes;
//! neither may panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use qapi_runtime::json;
use qapi_tests::codec_agrees as agree;
use qapi_tests::{project_client as client, project_server as server};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        assert!(json::from_slice::<client::MigrationInfo>(data).is_err());
        return;
    };
    agree::<client::MigrationInfo>(text);
    agree::<server::MigrationInfo>(text);
    agree::<Vec<client::SchemaInfo>>(text);
});
