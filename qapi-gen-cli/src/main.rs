//! `qapi-gen`: check QAPI schemas and generate code from them.
//!
//! Each verb lives in its own module under `cli/`; exit status 0 means
//! success, 1 an invalid schema (or, for `compat`, a breaking change), 2 a
//! usage or I/O error.

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

// A process that allocates much and lives ~50 ms: see the feature in Cargo.toml.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "qapi-gen", version, about = "Check QEMU QAPI schemas and generate code from them")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a schema as QEMU does; exit 0 when valid, 1 when not.
    Check(cli::check::Args),
    /// Print the resolved model in the format of QEMU's schema test dumps.
    Dump(cli::check::Input),
    /// Print the schema's `query-qmp-schema` introspection as JSON.
    Introspect(cli::introspect::Args),
    /// Generate Rust code for a schema.
    Generate(cli::generate::Args),
    /// Compare two versions of a schema and report changes that break clients.
    Compat(cli::compat::Args),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Check(args) => cli::check::run(&args),
        Command::Dump(input) => cli::check::dump(&input),
        Command::Introspect(args) => cli::introspect::run(&args),
        Command::Generate(args) => cli::generate::run(&args),
        Command::Compat(args) => cli::compat::run(&args),
    }
}
