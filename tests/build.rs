//! Generates `$OUT_DIR/fixture.rs` from `fixtures/build/qapi-schema.json`
//! (which includes `sub/common.json`) with `qapi_gen::Builder`, the way a
//! crate's build script would.

fn main() -> Result<(), qapi_gen::BuildError> {
    // golden/conditions.cfg.rs turns conditions into `#[cfg(qapi = "...")]`.
    println!("cargo::rustc-check-cfg=cfg(qapi, values(any()))");
    qapi_gen::Builder::new("fixtures/build/qapi-schema.json").out_file("fixture.rs").generate()?;
    Ok(())
}
