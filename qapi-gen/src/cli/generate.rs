//! `qapi-gen generate` (not written yet).

use std::process::ExitCode;

/// `qapi-gen generate`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: super::check::Input,
}

/// Not available yet: says so and exits 2.
pub fn run(_args: &Args) -> ExitCode {
    eprintln!("qapi-gen: 'generate' is not available yet");
    ExitCode::from(2)
}
