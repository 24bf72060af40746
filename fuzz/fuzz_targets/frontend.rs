//! Any bytes through the whole front end: parser, includes, pragmas,
//! documentation, checks and model; and a schema it accepts through the
//! Rust generator (documentation text reaches it as written). Neither may
//! panic, hang or blow up.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let checked = qapi_gen::Frontend::new().check_str("fuzz.json", &text);
    for d in &checked.diagnostics {
        // Rendering touches every span: it must stay inside the text.
        let _ = d.to_string();
    }
    if checked.is_valid() {
        let _ = qapi_gen::gen::rust::generate(&checked.schema, &qapi_gen::gen::rust::Options::default());
    }
});
