//! Generates the project's own schema (`../schema/qapi-schema.json`, which
//! has `query-migrate` with `device-state-times`, the system-wide
//! `remaining` and the destination's optional RAM members) as client code.

fn main() -> Result<(), qapi_gen::BuildError> {
    qapi_gen::Builder::new("../schema/qapi-schema.json").json_codec(true).out_file("project.rs").generate()?;
    Ok(())
}
