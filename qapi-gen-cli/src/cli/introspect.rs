//! `qapi-gen introspect`: the schema's `query-qmp-schema` value as JSON.

use std::io::Write;
use std::process::ExitCode;

use clap::ValueEnum;
use qapi_gen::gen::introspect::{introspect, Conditions, Options};

/// How `if` conditions are treated.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CondArg {
    /// Every condition holds (like QEMU's reference output).
    AllTrue,
    /// Only names given with --define are defined.
    Defined,
}

/// `qapi-gen introspect`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: super::check::Input,
    /// Keep type names instead of masking them as numbers (QEMU's --unmask).
    #[arg(long)]
    pub unmask: bool,
    /// Treat `if` conditions as all true, or evaluate them against the names
    /// given with --define (implied by --define).
    #[arg(long, value_enum)]
    pub conditions: Option<CondArg>,
    /// A defined configuration symbol, e.g. CONFIG_VNC (repeatable).
    #[arg(long = "define", value_name = "NAME")]
    pub defines: Vec<String>,
    /// Describe only this command or event (repeatable, or comma-separated) and the types it
    /// reaches.
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub only: Vec<String>,
}

impl Args {
    fn options(&self) -> Options {
        let evaluate = match self.conditions {
            Some(c) => c == CondArg::Defined,
            None => !self.defines.is_empty(),
        };
        let conditions = if evaluate { Conditions::defined(self.defines.iter().cloned()) } else { Conditions::AllTrue };
        Options::new().unmask(self.unmask).conditions(conditions)
    }
}

/// Prints the introspection of a valid schema on stdout, pretty-printed.
pub fn run(args: &Args) -> ExitCode {
    if args.conditions == Some(CondArg::AllTrue) && !args.defines.is_empty() {
        eprintln!("qapi-gen: --define has no effect with --conditions all-true");
        return ExitCode::from(2);
    }
    let checked = match args.input.load_to_generate() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let schema = match checked.schema.only(&args.only) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("qapi-gen: {e}");
            return ExitCode::from(2);
        }
    };
    let value = introspect(&schema, &args.options());
    let text = match serde_json::to_string_pretty(&value) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("qapi-gen: {e}");
            return ExitCode::from(2);
        }
    };
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("qapi-gen: {e}");
            ExitCode::from(2)
        }
    }
}
