//! Generates the simulator's QMP types from `schema/qapi-schema.json`:
//!
//! - `$OUT_DIR/qapi.rs`: Rust types, commands, events, the `CommandServer`
//!   trait and `CommandDispatcher` (server mode), included by `src/lib.rs`
//!   as `migration_sim::qapi`;
//! - `$OUT_DIR/qmp-schema.json`: what `query-qmp-schema` returns, with type
//!   names masked as QEMU does on the wire.

use std::path::PathBuf;
use std::process::ExitCode;

use qapi_gen::gen::introspect::{introspect, Options};
use qapi_gen::gen::rust::Mode;

const SCHEMA: &str = "../schema/qapi-schema.json";

fn main() -> ExitCode {
    // The Builder prints `rerun-if-changed` for every schema file it reads.
    if let Err(e) = qapi_gen::Builder::new(SCHEMA).mode(Mode::Server).out_file("qapi.rs").generate() {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    let checked = match qapi_gen::Frontend::new().check_file(SCHEMA.as_ref()) {
        Ok(c) if c.is_valid() => c,
        Ok(c) => {
            for d in &c.diagnostics {
                eprintln!("{d}");
            }
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let value = introspect(&checked.schema, &Options::new());
    let Some(out_dir) = std::env::var_os("OUT_DIR").map(PathBuf::from) else {
        eprintln!("OUT_DIR is not set: run by Cargo");
        return ExitCode::FAILURE;
    };
    let text = match serde_json::to_string(&value) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = qapi_gen::builder::write_if_changed(&out_dir.join("qmp-schema.json"), text.as_bytes()) {
        eprintln!("can't write qmp-schema.json: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
