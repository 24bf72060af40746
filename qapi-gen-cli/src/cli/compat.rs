//! `qapi-gen compat OLD NEW`: the changes between two versions of a schema
//! that break a QMP peer, and the `Since:` lint of what is new.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use qapi_gen::compat::{self, Version};

use super::check::{Input, StyleArg};

/// How the report is printed.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// GNU-style lines (`NEW_FILE:LINE:COL: breaking: ...`), then a summary.
    Text,
    /// One JSON document (shape in the README and `qapi_gen::compat::Report::to_json`).
    Json,
}

const AFTER_HELP: &str = "\
Both schemas are read from their root files, includes followed, and compared
through their resolved models by wire shape (type names don't matter).
Command arguments are checked as input (what old clients send must still be
accepted), return values and event data as output (what the server sends must
still be readable by old clients). Changes under the 'unstable' feature, or to
what the old schema marks 'deprecated', are reported as allowed.

Since lint: everything new in NEW (definitions, members, enum values, alternate
branches, features) must carry 'Since: X.Y' or a '(Since X.Y)' note. With
--since-current X.Y the version must be exactly X.Y and problems fail the run;
without it, it must be at least the newest version OLD names, and problems
are only reported.

Front-end warnings of OLD (a released schema) are not shown; those of NEW are.

Exit status: 0 nothing breaks, 1 something breaks (or a Since problem with
--since-current, or an invalid schema), 2 usage or I/O error.";

/// `qapi-gen compat`.
#[derive(clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub struct Args {
    /// The baseline schema's root file (the last release).
    pub old: PathBuf,
    /// The edited schema's root file.
    pub new: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Also list changes that cannot break anyone (new commands, new
    /// optional arguments, documentation edits, ...).
    #[arg(long)]
    pub all: bool,
    /// The release being developed: everything new must say exactly this
    /// version in its `Since:` or `(Since X.Y)` note.
    #[arg(long, value_name = "X.Y")]
    pub since_current: Option<Version>,
    /// How documentation style problems count when reading the schemas
    /// (`warn` by default: released schemas predate QEMU 10.2's rules).
    #[arg(long, value_enum, default_value = "warn")]
    pub doc_style: StyleArg,
}

/// Compares the schemas and prints the report; see [`AFTER_HELP`] for the
/// exit status.
pub fn run(args: &Args) -> ExitCode {
    let old_input = Input { file: args.old.clone(), doc_style: Some(args.doc_style) };
    let new_input = Input { file: args.new.clone(), doc_style: Some(args.doc_style) };
    let old = match load_quiet(&old_input) {
        Ok(out) => out,
        Err(code) => return code,
    };
    let new = match new_input.load() {
        Ok(out) => out,
        Err(code) => return code,
    };
    let opts = compat::Options { since_current: args.since_current.clone() };
    let report = compat::compare(&old.schema, &new.schema, &opts);
    match args.format {
        Format::Text => print!("{}", report.render_text(args.all)),
        Format::Json => print!("{}", report.to_json(args.all)),
    }
    if report.fails() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Reads the baseline: only its errors are worth showing (it was released
/// as it is).
fn load_quiet(input: &Input) -> Result<qapi_gen::Checked, ExitCode> {
    let out = match input.frontend().check_file(&input.file) {
        Ok(out) => out,
        Err(e) => {
            eprintln!("qapi-gen: {e}");
            return Err(ExitCode::from(2));
        }
    };
    if out.is_valid() {
        return Ok(out);
    }
    let errors: Vec<_> = out.diagnostics.iter().filter(|d| d.is_error()).cloned().collect();
    super::report::report(&errors);
    Err(ExitCode::from(1))
}
