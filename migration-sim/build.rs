//! Generates the simulator's QMP types from `schema/qapi-schema.json` into
//! `$OUT_DIR/qapi.rs`: Rust types, commands, events, the `CommandServer`
//! trait and `CommandDispatcher` (server mode) and the masked
//! `query-qmp-schema` value, included by `src/lib.rs` as
//! `migration_sim::qapi`.

use qapi_gen::gen::rust::Mode;

fn main() -> Result<(), qapi_gen::BuildError> {
    // The Builder prints `rerun-if-changed` for every schema file it reads.
    qapi_gen::Builder::new("../schema/qapi-schema.json").mode(Mode::Server).out_file("qapi.rs").generate()?;
    Ok(())
}
