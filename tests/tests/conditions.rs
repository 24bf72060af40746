//! What generated code does with what the schema puts under an `if`
//! (`golden/conditions.json`), when reading a reply from a QEMU whose build
//! it does not know.
//!
//! A client with every condition taken to hold (the default) tolerates
//! members, enum values and branches that a build lacks; a server, and a
//! client told which conditions hold (`defined`), keep the schema's exact
//! shape.

use qapi_runtime::serde_json::{self, json, Value};
use qapi_tests::golden::{conditions as client, conditions_defined as defined, conditions_server as server};
use qapi_tests::round_trip;

/// What a QEMU built without `CONFIG_OPENGL` and `CONFIG_VNC` replies to
/// `query-display`: no `opengl` (a base member), no `vnc` (a member whose
/// type is conditional), no `gl-version`.
fn bare_display() -> Value {
    json!({ "backend": "none" })
}

#[test]
fn a_client_reads_replies_without_conditional_members() {
    let info: client::DisplayInfo = round_trip(bare_display());
    assert_eq!((info.opengl, info.vnc, info.gl_version), (None, None, None));
    let full = json!({ "opengl": true, "backend": "vnc", "vnc": { "port": 5900 }, "gl-version": "4.6" });
    let info: client::DisplayInfo = round_trip(full);
    assert_eq!(info.vnc.map(|v| v.port), Some(5900));
    assert_eq!(info.gl_version.as_deref(), Some("4.6"));
    // Event data too.
    let state: client::GlState = round_trip(json!({}));
    assert_eq!(state.renderer, None);
    let event = client::Event::decode("GL_CHANGED", Some(json!({}))).expect("GL_CHANGED without renderer");
    assert!(matches!(event, client::Event::GlChanged(_)), "{event:?}");
}

#[test]
fn a_client_still_writes_conditional_arguments_it_requires() {
    // Only written: a server without CONFIG_OPENGL rejects the command
    // whatever the client sends, so the member stays required.
    let args = client::DisplaySettings { backend: client::Backend::None, gl: true };
    assert_eq!(serde_json::to_value(&args).unwrap(), json!({ "backend": "none", "gl": true }));
    assert!(serde_json::from_value::<client::DisplaySettings>(json!({ "backend": "none" })).is_err());
}

#[test]
fn a_server_and_a_client_that_knows_the_build_keep_them_required() {
    let err = serde_json::from_value::<server::DisplayInfo>(bare_display()).unwrap_err();
    assert!(err.to_string().contains("opengl"), "{err}");
    assert!(serde_json::from_value::<server::GlState>(json!({})).is_err());
    // Built with CONFIG_VNC: `vnc` is always there; the OpenGL members
    // are not generated at all.
    let err = serde_json::from_value::<defined::DisplayInfo>(bare_display()).unwrap_err();
    assert!(err.to_string().contains("vnc"), "{err}");
    let _: defined::DisplayInfo = round_trip(json!({ "backend": "vnc", "vnc": { "port": 1 } }));
}

#[test]
fn a_client_tolerates_absent_and_unknown_conditional_values_and_branches() {
    // A build without VNC never sends `vnc`; one with a backend this
    // schema does not know sends a value and a branch it keeps.
    let display: client::Display = round_trip(json!({ "backend": "none" }));
    assert_eq!(display.backend, client::DisplayBranch::None);
    let display: client::Display = round_trip(json!({ "backend": "vnc", "port": 1 }));
    assert!(matches!(display.backend, client::DisplayBranch::Vnc(client::VncOptions { port: 1, .. })));
    let display: client::Display = round_trip(json!({ "backend": "sdl", "gl": true }));
    let client::DisplayBranch::Unknown { tag, members } = &display.backend else { panic!("{display:?}") };
    assert_eq!((tag.as_str(), members.len()), ("sdl", 1));
    assert_eq!(round_trip::<client::Backend>(json!("sdl")), client::Backend::Unknown("sdl".into()));
    // A client built for a configuration without SPICE keeps the value
    // and its branch as unknown ones.
    assert_eq!(round_trip::<defined::Backend>(json!("spice")), defined::Backend::Unknown("spice".into()));
    let display: defined::Display = round_trip(json!({ "backend": "spice" }));
    assert!(matches!(display.backend, defined::DisplayBranch::Unknown { .. }), "{display:?}");
}
