//! `migration-sim`: migrate simulated QEMU guests and report what QEMU
//! reports.
//!
//! Each subcommand lives in its own module under `cli/`. Exit status: 0
//! success, 1 the simulated migration did not complete (`run`), 2 a usage,
//! scenario or I/O error.
#![forbid(unsafe_code)]

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "migration-sim", version, about = "Simulate QEMU live migrations and report what QEMU reports")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate one guest to completion and print both sides' final statistics.
    Run(cli::run::Args),
    /// Run a grid of scenarios and print one CSV row per scenario.
    Sweep(cli::sweep::Args),
    /// Serve a source and a destination QMP monitor over one simulated migration.
    Serve(cli::serve::Args),
    /// Fit a scenario to query-migrate samples of a real QEMU, and replay it with changes.
    Fit(cli::fit::Args),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Run(args) => cli::run::run(&args),
        Command::Sweep(args) => cli::sweep::run(&args),
        Command::Serve(args) => cli::serve::run(&args),
        Command::Fit(args) => cli::fit::run(&args),
    }
}
