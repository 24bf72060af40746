//! `qapi-gen generate`: Rust code for a schema, to a file or standard
//! output, or (`--check`) a test that a committed file is up to date.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use qapi_gen::builder::write_if_changed;
use qapi_gen::gen::rust::{CondPolicy, Mode};
use qapi_gen::{BuildError, Builder, DocStyle};

use super::report::{report, report_generating};

/// Which side of QMP the code is for.
#[derive(Clone, Copy, ValueEnum)]
pub enum ModeArg {
    /// Types and typed calls for a QMP client.
    Client,
    /// Strict input, a server trait and a dispatcher for a QMP server.
    Server,
}

/// How `if` conditions are treated.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CondArg {
    /// Every condition holds.
    AllTrue,
    /// A condition holds when it is true of the names given with --define.
    Defined,
    /// Conditions become #[cfg] attributes.
    Cfg,
}

/// `qapi-gen generate`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: super::check::Input,
    /// Write the code to this file (only when it changed) instead of standard output.
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Generate for a QMP client or server.
    #[arg(long, value_enum, default_value = "client")]
    pub mode: ModeArg,
    /// Put items marked 'unstable' behind #[cfg(feature = "unstable")].
    #[arg(long, visible_alias = "unstable")]
    pub gate_unstable: bool,
    /// Define a condition name (repeatable); implies --cond defined.
    #[arg(long, value_name = "NAME")]
    pub define: Vec<String>,
    /// How 'if' conditions are treated [default: all-true, or defined with --define].
    #[arg(long, value_enum)]
    pub cond: Option<CondArg>,
    /// The cfg key of conditions with --cond cfg: #[cfg(KEY = "CONFIG_X")].
    #[arg(long, value_name = "KEY", default_value = "qapi")]
    pub cfg_key: String,
    /// The path generated code uses for the runtime crate.
    #[arg(long, value_name = "PATH", default_value = "::qapi_runtime")]
    pub runtime_path: String,
    /// Keep type names in the generated introspection (qmp_schema()) instead of masking them.
    #[arg(long)]
    pub unmask_introspection: bool,
    /// Also implement qapi_runtime::json's Encode and Decode for every type: a JSON codec that
    /// bypasses serde (faster on QMP replies, more code to compile).
    #[arg(long)]
    pub json_codec: bool,
    /// Generate only this command or event (wire name; repeatable, or comma-separated) and the
    /// types it reaches, instead of the whole schema.
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub only: Vec<String>,
    /// Make a client that also reads the replies of an older version of the schema, given as
    /// VERSION=ROOT (repeatable), e.g. 10.0=qemu-10.0/qapi/qapi-schema.json: members required
    /// here but absent or optional there become Option.
    #[arg(long, value_name = "VERSION=PATH", value_parser = version_and_path)]
    pub also_reads: Vec<(String, PathBuf)>,
    /// Write nothing: exit 0 when OUT is what the schema generates, 1 when it is stale.
    #[arg(long, requires = "output")]
    pub check: bool,
}

impl Args {
    /// The builder these arguments ask for, or a usage error.
    fn builder(&self) -> Result<Builder, String> {
        let cond = match (self.cond, self.define.is_empty()) {
            (None, true) | (Some(CondArg::AllTrue), true) => CondPolicy::AllTrue,
            (None | Some(CondArg::Defined), _) => CondPolicy::Defined(self.define.iter().cloned().collect()),
            (Some(CondArg::Cfg), true) => CondPolicy::Cfg,
            (Some(_), false) => return Err("--define needs --cond defined (or no --cond)".into()),
        };
        let mut b = Builder::new(&self.input.file);
        b.mode(match self.mode {
            ModeArg::Client => Mode::Client,
            ModeArg::Server => Mode::Server,
        })
        .cond(cond)
        .gate_unstable(self.gate_unstable)
        .cfg_key(self.cfg_key.clone())
        .runtime_path(self.runtime_path.clone())
        .unmask_introspection(self.unmask_introspection)
        .json_codec(self.json_codec)
        .only(self.only.iter().cloned())
        .doc_style(self.input.doc_style_or(DocStyle::Warn));
        for (version, path) in &self.also_reads {
            b.also_reads(version.clone(), path.clone());
        }
        Ok(b)
    }
}

/// `--also-reads`: `VERSION=PATH`.
fn version_and_path(arg: &str) -> Result<(String, PathBuf), String> {
    match arg.split_once('=') {
        Some((version, path)) if !version.is_empty() && !path.is_empty() => {
            Ok((version.to_owned(), PathBuf::from(path)))
        }
        _ => Err(format!("'{arg}' is not VERSION=PATH, e.g. 10.0=qemu-10.0/qapi/qapi-schema.json")),
    }
}

/// Generates; exit 0 on success (or an up-to-date `--check`), 1 for an
/// invalid schema or a stale OUT, 2 for usage and I/O errors.
pub fn run(args: &Args) -> ExitCode {
    let builder = match args.builder() {
        Ok(b) => b,
        Err(msg) => {
            eprintln!("qapi-gen: {msg}");
            return ExitCode::from(2);
        }
    };
    let rendered = match builder.render() {
        Ok(r) => r,
        Err(BuildError::Invalid { diagnostics, .. }) => {
            report(&diagnostics);
            return ExitCode::from(1);
        }
        Err(e) => {
            eprintln!("qapi-gen: {e}");
            return ExitCode::from(2);
        }
    };
    report_generating(&args.input.file, &rendered.warnings);
    for c in &rendered.conflicts {
        eprintln!("qapi-gen: warning: type change not absorbed: {c}");
    }
    let code = rendered.source;
    match (&args.output, args.check) {
        (Some(out), true) => check(out, &code),
        (Some(out), false) => match write_if_changed(out, code.as_bytes()) {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("qapi-gen: can't write '{}': {e}", out.display());
                ExitCode::from(2)
            }
        },
        (None, _) => {
            let mut stdout = std::io::stdout().lock();
            match stdout.write_all(code.as_bytes()).and_then(|()| stdout.flush()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("qapi-gen: can't write the code: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}

/// `--check`: compares OUT with `code`, writing nothing.
fn check(out: &std::path::Path, code: &str) -> ExitCode {
    let old = match std::fs::read(out) {
        Ok(old) => old,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("qapi-gen: '{}' is stale: it does not exist; run without --check to write it", out.display());
            return ExitCode::from(1);
        }
        Err(e) => {
            eprintln!("qapi-gen: can't read '{}': {e}", out.display());
            return ExitCode::from(2);
        }
    };
    if old == code.as_bytes() {
        return ExitCode::SUCCESS;
    }
    let old = String::from_utf8_lossy(&old);
    let line = first_difference(&old, code);
    eprintln!(
        "qapi-gen: '{}' is stale: it differs from what the schema generates from line {line} on; \
         run without --check to update it",
        out.display()
    );
    ExitCode::from(1)
}

/// The 1-based number of the first line where `a` and `b` differ.
fn first_difference(a: &str, b: &str) -> usize {
    let mut a_lines = a.split_inclusive('\n');
    let mut b_lines = b.split_inclusive('\n');
    let mut n = 1;
    loop {
        match (a_lines.next(), b_lines.next()) {
            (Some(x), Some(y)) if x == y => n += 1,
            _ => return n,
        }
    }
}
