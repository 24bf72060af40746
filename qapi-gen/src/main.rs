//! `qapi-gen`: check QAPI schemas and generate code from them.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use qapi_gen::{Diagnostic, DocStyle, Frontend};

#[derive(Parser)]
#[command(name = "qapi-gen", version, about = "Check QEMU QAPI schemas and generate code from them")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum StyleArg {
    /// Documentation style problems are errors (QEMU 10.2's rule).
    Error,
    /// Documentation style problems are warnings (for older schemas).
    Warn,
}

#[derive(clap::Args)]
struct Input {
    /// The schema's root file.
    file: PathBuf,
    /// How documentation style problems (line length, sentence spacing) count.
    #[arg(long, value_enum, default_value = "error")]
    doc_style: StyleArg,
}

impl Input {
    fn frontend(&self) -> Frontend {
        Frontend::new().doc_style(match self.doc_style {
            StyleArg::Error => DocStyle::Error,
            StyleArg::Warn => DocStyle::Warn,
        })
    }
}

#[derive(Subcommand)]
enum Command {
    /// Check a schema as QEMU does; exit 0 when valid, 1 when not.
    Check(Input),
    /// Print the resolved model in the format of QEMU's schema test dumps.
    Dump(Input),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(input) => check(&input, false),
        Command::Dump(input) => check(&input, true),
    }
}

fn check(input: &Input, dump: bool) -> ExitCode {
    let out = match input.frontend().check_file(&input.file) {
        Ok(out) => out,
        Err(e) => {
            eprintln!("qapi-gen: {e}");
            return ExitCode::from(2);
        }
    };
    report(&out.diagnostics);
    if !out.is_valid() {
        return ExitCode::from(1);
    }
    if dump {
        print!("{}", qapi_gen::model::dump::dump(&out.schema));
    }
    ExitCode::SUCCESS
}

/// Prints each diagnostic: its GNU-style line first, then a source snippet.
fn report(diags: &[Diagnostic]) {
    let handler = miette::GraphicalReportHandler::new_themed(if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    });
    for d in diags {
        eprintln!("{d}");
        let mut snippet = String::new();
        if handler.render_report(&mut snippet, &Snippet(d)).is_ok() {
            eprintln!("{snippet}");
        }
    }
}

/// Adapts a diagnostic to miette for the source snippet only.
#[derive(Debug)]
struct Snippet<'a>(&'a Diagnostic);

impl std::fmt::Display for Snippet<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0.context {
            Some(ctx) => write!(f, "in {ctx}"),
            None => f.write_str(&self.0.message),
        }
    }
}

impl std::error::Error for Snippet<'_> {}

impl miette::Diagnostic for Snippet<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.0.severity {
            qapi_gen::Severity::Error => miette::Severity::Error,
            qapi_gen::Severity::Warning => miette::Severity::Warning,
        })
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.0.span.file.text)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let s = &self.0.span;
        let text_len = s.file.text.len();
        let start = s.start.min(text_len);
        let len = s.end.saturating_sub(start).clamp(1, 80).min(text_len - start);
        Some(Box::new(std::iter::once(miette::LabeledSpan::new(None, start, len))))
    }
}
