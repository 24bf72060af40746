//! `qapi-gen check` and `qapi-gen dump`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use qapi_gen::{Checked, DocStyle, Frontend};

use super::report::{report, report_generating};

/// How documentation style problems count.
#[derive(Clone, Copy, ValueEnum)]
pub enum StyleArg {
    /// Documentation style problems are errors (QEMU 10.2's rule).
    Error,
    /// Documentation style problems are warnings (for older schemas).
    Warn,
}

/// A schema to read, and how strictly.
#[derive(clap::Args)]
pub struct Input {
    /// The schema's root file.
    pub file: PathBuf,
    /// How documentation style problems (line length, sentence spacing)
    /// count [default: error for check and dump, warn for the verbs that
    /// generate: QEMU's schemas before 10.2 break QEMU 10.2's rules].
    #[arg(long, value_enum)]
    pub doc_style: Option<StyleArg>,
}

impl Input {
    /// How documentation style problems count: as asked, or `default`.
    pub fn doc_style_or(&self, default: DocStyle) -> DocStyle {
        match self.doc_style {
            Some(StyleArg::Error) => DocStyle::Error,
            Some(StyleArg::Warn) => DocStyle::Warn,
            None => default,
        }
    }

    /// The front end these options ask for, for checking: style problems
    /// are errors unless asked otherwise.
    pub fn frontend(&self) -> Frontend {
        Frontend::new().doc_style(self.doc_style_or(DocStyle::Error))
    }

    /// Reads and checks the schema, printing every diagnostic. `Err` holds
    /// the exit status when it can't go on: 2 for I/O, 1 for an invalid schema.
    pub fn load(&self) -> Result<Checked, ExitCode> {
        self.load_with(self.frontend(), report)
    }

    /// Reads and checks the schema to generate from it: style problems are
    /// warnings unless asked otherwise, and counted in one line.
    pub fn load_to_generate(&self) -> Result<Checked, ExitCode> {
        let frontend = Frontend::new().doc_style(self.doc_style_or(DocStyle::Warn));
        self.load_with(frontend, |diags| report_generating(&self.file, diags))
    }

    fn load_with(&self, frontend: Frontend, report: impl Fn(&[qapi_gen::Diagnostic])) -> Result<Checked, ExitCode> {
        let out = match frontend.check_file(&self.file) {
            Ok(out) => out,
            Err(e) => {
                eprintln!("qapi-gen: {e}");
                return Err(ExitCode::from(2));
            }
        };
        report(&out.diagnostics);
        if out.is_valid() {
            Ok(out)
        } else {
            Err(ExitCode::from(1))
        }
    }
}

/// `qapi-gen check`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: Input,
    /// Also check `Since:` versions against X.Y, the release being
    /// developed. One schema can't tell what is new (`qapi-gen compat OLD
    /// NEW --since-current X.Y` can), so this reports what is wrong
    /// whatever is new: a `Since:` or `(Since ...)` note naming a release
    /// later than X.Y (an error), and a documented definition without
    /// `Since:` (a warning).
    #[arg(long, value_name = "X.Y")]
    pub since_current: Option<qapi_gen::compat::Version>,
}

/// Checks a schema; exit 0 when valid (and, with `--since-current`, when
/// no `Since:` names a later release).
pub fn run(args: &Args) -> ExitCode {
    let out = match args.input.load() {
        Ok(out) => out,
        Err(code) => return code,
    };
    let Some(current) = &args.since_current else { return ExitCode::SUCCESS };
    let problems = qapi_gen::compat::since_lint(&out.schema, current);
    let diags: Vec<_> = problems.iter().filter_map(qapi_gen::compat::SinceProblem::to_diagnostic).collect();
    report(&diags);
    if diags.iter().any(qapi_gen::Diagnostic::is_error) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Prints the model in QEMU's test-dump format.
pub fn dump(input: &Input) -> ExitCode {
    match input.load() {
        Ok(out) => {
            print!("{}", qapi_gen::model::dump::dump(&out.schema));
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}
