//! Generates the QMP client from the project's schema, for the commands
//! the example calls (and the types they reach): `$OUT_DIR/qmp.rs`.

fn main() -> Result<(), qapi_gen::BuildError> {
    // Client mode is the default.
    qapi_gen::Builder::new("../../schema/qapi-schema.json")
        .only([
            "query-version",
            "query-status",
            "human-monitor-command",
            "migrate-set-parameters",
            "query-migrate-parameters",
            "query-migrate",
        ])
        .out_file("qmp.rs")
        .generate()?;
    Ok(())
}
