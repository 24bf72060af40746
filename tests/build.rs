//! Generates `$OUT_DIR/fixture.rs` from `fixtures/build/qapi-schema.json`
//! (which includes `sub/common.json`) with `qapi_gen::Builder`, the way a
//! crate's build script would, and the project's own schema with the JSON
//! codec in both modes (`project_client.rs`, `project_server.rs`), and
//! the clients of QEMU's schemas `tests/qemu_client.rs` uses
//! (`build/qemu_clients.rs`).

use qapi_gen::gen::rust::Mode;

#[path = "build/qemu_clients.rs"]
mod qemu_clients;

fn main() -> Result<(), qapi_gen::BuildError> {
    // golden/conditions.cfg.rs turns conditions into `#[cfg(qapi = "...")]`.
    println!("cargo::rustc-check-cfg=cfg(qapi, values(any()))");
    qapi_gen::Builder::new("fixtures/build/qapi-schema.json").out_file("fixture.rs").generate()?;
    for (mode, file) in [(Mode::Client, "project_client.rs"), (Mode::Server, "project_server.rs")] {
        qapi_gen::Builder::new("../schema/qapi-schema.json").mode(mode).json_codec(true).out_file(file).generate()?;
    }
    let out = std::env::var_os("OUT_DIR")
        .ok_or_else(|| qapi_gen::BuildError::NoOutDir { out_file: "qemu_10_0.rs".into() })?;
    qemu_clients::generate_all(std::path::Path::new(&out))
}
