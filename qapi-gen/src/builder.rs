//! Generating Rust from a build script: [`Builder`].
//!
//! This is the `build.rs` way in, next to the `qapi_macros::include_schema!`
//! macro and the `qapi-gen generate` command. It reads the schema, checks it
//! as QEMU does, generates the Rust module, writes it to `OUT_DIR` (only
//! when its text changed, so that nothing rebuilds for nothing) and tells
//! Cargo to run the build script again when any file the schema is made of
//! changes, included files too.
//!
//! ```no_run
//! // build.rs
//! use qapi_gen::gen::rust::Mode;
//!
//! fn main() -> Result<(), qapi_gen::BuildError> {
//!     qapi_gen::Builder::new("schema/qapi-schema.json").mode(Mode::Client).out_file("qmp.rs").generate()?;
//!     Ok(())
//! }
//! ```
//!
//! and in the crate:
//!
//! ```ignore
//! pub mod qmp {
//!     include!(concat!(env!("OUT_DIR"), "/qmp.rs"));
//! }
//! ```

use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::diag::Diagnostic;
use crate::doc::DocStyle;
use crate::gen::rust::{version_conflicts, CondPolicy, GenError, Mode, OlderSchema, Options, VersionConflict};
use crate::syntax::load::LoadError;
use crate::Frontend;

/// The file name the output gets unless [`Builder::out_file`] says otherwise.
pub const DEFAULT_OUT_FILE: &str = "qapi.rs";

/// Generated code, the schema's warnings, and what the older versions
/// read differ in beyond what the code absorbs.
type Code = (String, Vec<Diagnostic>, Vec<VersionConflict>);

/// Generates Rust code for a schema from a build script.
///
/// Setters take and return `&mut Self`, so a whole configuration fits in
/// one expression. [`generate`](Builder::generate) does the work.
///
/// A complete `build.rs` for a QMP server whose schema uses conditions
/// (`'if': 'CONFIG_VNC'`):
///
/// ```no_run
/// use qapi_gen::gen::rust::Mode;
/// use qapi_gen::{Builder, DocStyle};
///
/// fn main() {
///     let result = Builder::new("schema/qapi-schema.json")
///         .mode(Mode::Server)
///         .define("CONFIG_VNC")
///         .gate_unstable(true)
///         .doc_style(DocStyle::Warn)
///         .out_file("qmp.rs")
///         .generate();
///     if let Err(e) = result {
///         // Every problem, one GNU-style `FILE:LINE:COL: error: ...` line each.
///         eprintln!("{e}");
///         std::process::exit(1);
///     }
/// }
/// ```
///
/// The crate then includes `$OUT_DIR/qmp.rs`, best inside a module of its own:
///
/// ```ignore
/// pub mod qmp {
///     include!(concat!(env!("OUT_DIR"), "/qmp.rs"));
/// }
/// ```
///
/// A schema file that no schema file includes yet is not watched: when a
/// build adds one, the edit to the including file triggers the rerun.
#[derive(Debug, Clone)]
pub struct Builder {
    schema: PathBuf,
    options: Options,
    doc_style: DocStyle,
    out_dir: Option<PathBuf>,
    out_file: PathBuf,
    cargo_output: Option<bool>,
    only: Vec<String>,
    /// Older versions read: (version, root file).
    also_reads: Vec<(String, PathBuf)>,
}

/// The generated code and what it was made from, as [`Builder::render`]
/// returns it.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The generated Rust source.
    pub source: String,
    /// Every schema file read, root first, includes too.
    pub files: Vec<PathBuf>,
    /// The warnings the schema drew (it has no errors, or this would be an
    /// [`BuildError::Invalid`]).
    pub warnings: Vec<Diagnostic>,
    /// Type changes between the schema and the older versions it also
    /// reads ([`Builder::also_reads`]) that the code cannot absorb: it
    /// follows the schema there.
    pub conflicts: Vec<VersionConflict>,
}

/// Why [`Builder::generate`] failed.
///
/// `Debug` prints the same report as `Display`, so that a build script's
/// `fn main() -> Result<(), BuildError>` shows readable diagnostics.
///
/// ```
/// let dir = std::env::temp_dir().join("qapi-gen-doc-builderror");
/// std::fs::create_dir_all(&dir)?;
/// let schema = dir.join("bad.json");
/// std::fs::write(&schema, "{ 'struct': 'Foo', 'data': { 'a': 'Nope' } }\n")?;
/// let err = qapi_gen::Builder::new(&schema).out_dir(&dir).generate().unwrap_err();
/// assert!(err.to_string().contains("bad.json:1:"), "{err}");
/// assert_eq!(err.diagnostics().len(), 1);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The schema's root file could not be read.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The schema has errors; every diagnostic, warnings too, is listed.
    #[error("{}", invalid_report(schema, diagnostics))]
    Invalid {
        /// The schema's root file.
        schema: PathBuf,
        /// Every problem found, in the order found.
        diagnostics: Vec<Diagnostic>,
    },
    /// The schema is valid but has no Rust form (two names that become one
    /// Rust name, a bad runtime path).
    #[error("can't generate Rust code for '{}': {source}", schema.display())]
    Generate {
        /// The schema's root file.
        schema: PathBuf,
        /// What the generator said.
        #[source]
        source: GenError,
    },
    /// The output file is relative and there is neither an
    /// [`out_dir`](Builder::out_dir) nor an `OUT_DIR` in the environment
    /// (which Cargo sets for build scripts).
    #[error("no output directory for '{}': OUT_DIR is not set (not run from a build script?) and no out_dir was given", out_file.display())]
    NoOutDir {
        /// The relative output file.
        out_file: PathBuf,
    },
    /// A command or event given to [`Builder::only`] is not in the schema.
    #[error("can't generate a subset of '{}': {source}", schema.display())]
    Subset {
        /// The schema's root file.
        schema: PathBuf,
        /// The name that is not a command or event.
        #[source]
        source: crate::model::SubsetError,
    },
    /// The output could not be written.
    #[error("can't write '{}': {source}", path.display())]
    Write {
        /// The output file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
}

impl BuildError {
    /// The schema's diagnostics, when the schema was invalid; empty otherwise.
    ///
    /// ```
    /// let err = qapi_gen::Builder::new("/nonexistent/qapi-schema.json").out_dir("/tmp").generate().unwrap_err();
    /// assert!(err.diagnostics().is_empty());
    /// ```
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            BuildError::Invalid { diagnostics, .. } => diagnostics,
            _ => &[],
        }
    }
}

impl fmt::Debug for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

fn invalid_report(schema: &Path, diagnostics: &[Diagnostic]) -> String {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let mut out =
        format!("schema '{}' is invalid: {} error{}", schema.display(), errors, if errors == 1 { "" } else { "s" });
    for d in diagnostics {
        out.push('\n');
        out.push_str(&d.to_string());
    }
    out
}

impl Builder {
    /// A builder for the schema whose root file is `schema` (relative paths
    /// are relative to the current directory, which for a build script is
    /// the package's root), with default [`Options`].
    ///
    /// ```
    /// let b = qapi_gen::Builder::new("schema/qapi-schema.json");
    /// assert_eq!(b.options().mode, qapi_gen::gen::rust::Mode::Client);
    /// ```
    pub fn new(schema: impl Into<PathBuf>) -> Self {
        Builder {
            schema: schema.into(),
            options: Options::default(),
            doc_style: DocStyle::Warn,
            out_dir: None,
            out_file: PathBuf::from(DEFAULT_OUT_FILE),
            cargo_output: None,
            only: Vec::new(),
            also_reads: Vec::new(),
        }
    }

    /// Replaces every generator option at once.
    ///
    /// ```
    /// use qapi_gen::gen::rust::{Mode, Options};
    /// let mut b = qapi_gen::Builder::new("s.json");
    /// b.generator_options(Options { mode: Mode::Server, ..Options::default() });
    /// assert_eq!(b.options().mode, Mode::Server);
    /// ```
    pub fn generator_options(&mut self, options: Options) -> &mut Self {
        self.options = options;
        self
    }

    /// Client (default) or server code.
    ///
    /// ```
    /// use qapi_gen::gen::rust::Mode;
    /// let mut b = qapi_gen::Builder::new("s.json");
    /// assert_eq!(b.mode(Mode::Server).options().mode, Mode::Server);
    /// ```
    pub fn mode(&mut self, mode: Mode) -> &mut Self {
        self.options.mode = mode;
        self
    }

    /// How `if` conditions are treated (default: all hold).
    ///
    /// ```
    /// use qapi_gen::gen::rust::CondPolicy;
    /// let mut b = qapi_gen::Builder::new("s.json");
    /// assert_eq!(b.cond(CondPolicy::Cfg).options().cond, CondPolicy::Cfg);
    /// ```
    pub fn cond(&mut self, cond: CondPolicy) -> &mut Self {
        self.options.cond = cond;
        self
    }

    /// Defines a condition name: conditions are then evaluated against the
    /// names defined this way ([`CondPolicy::Defined`]).
    ///
    /// ```
    /// use qapi_gen::gen::rust::CondPolicy;
    /// let mut b = qapi_gen::Builder::new("s.json");
    /// b.define("CONFIG_VNC").define("CONFIG_SPICE");
    /// let CondPolicy::Defined(names) = &b.options().cond else { panic!() };
    /// assert_eq!(names.len(), 2);
    /// ```
    pub fn define(&mut self, name: impl Into<String>) -> &mut Self {
        match &mut self.options.cond {
            CondPolicy::Defined(names) => {
                names.insert(name.into());
            }
            other => *other = CondPolicy::Defined([name.into()].into_iter().collect()),
        }
        self
    }

    /// Puts items marked `unstable` behind `#[cfg(feature = "unstable")]`.
    ///
    /// ```
    /// let mut b = qapi_gen::Builder::new("s.json");
    /// assert!(b.gate_unstable(true).options().gate_unstable);
    /// ```
    pub fn gate_unstable(&mut self, gate: bool) -> &mut Self {
        self.options.gate_unstable = gate;
        self
    }

    /// Also implements `qapi_runtime::json`'s `Encode` and `Decode` for
    /// every type: a JSON codec that bypasses serde, several times faster
    /// on QMP replies, for more code to compile (default off).
    ///
    /// ```
    /// let mut b = qapi_gen::Builder::new("s.json");
    /// assert!(b.json_codec(true).options().json_codec);
    /// ```
    pub fn json_codec(&mut self, on: bool) -> &mut Self {
        self.options.json_codec = on;
        self
    }

    /// The path generated code uses for the runtime crate (default
    /// `::qapi_runtime`), for crates that re-export it.
    ///
    /// ```
    /// let mut b = qapi_gen::Builder::new("s.json");
    /// assert_eq!(b.runtime_path("::my_crate::qapi_runtime").options().runtime_path, "::my_crate::qapi_runtime");
    /// ```
    pub fn runtime_path(&mut self, path: impl Into<String>) -> &mut Self {
        self.options.runtime_path = path.into();
        self
    }

    /// The cfg key conditions use with [`CondPolicy::Cfg`] (default
    /// `qapi`, giving `#[cfg(qapi = "CONFIG_VNC")]`; `feature` maps
    /// conditions to Cargo features).
    ///
    /// ```
    /// use qapi_gen::gen::rust::CondPolicy;
    /// let mut b = qapi_gen::Builder::new("s.json");
    /// assert_eq!(b.cond(CondPolicy::Cfg).cfg_key("feature").options().cfg_key, "feature");
    /// ```
    pub fn cfg_key(&mut self, key: impl Into<String>) -> &mut Self {
        self.options.cfg_key = key.into();
        self
    }

    /// Keeps type names in the generated introspection (`qmp_schema()`)
    /// instead of masking them as numbers as QEMU does (QEMU's
    /// `--unmask`).
    ///
    /// ```
    /// let mut b = qapi_gen::Builder::new("s.json");
    /// assert!(b.unmask_introspection(true).options().unmask_introspection);
    /// ```
    pub fn unmask_introspection(&mut self, unmask: bool) -> &mut Self {
        self.options.unmask_introspection = unmask;
        self
    }

    /// How documentation style problems (line length, sentence spacing)
    /// count. The default, [`DocStyle::Warn`], generates from any schema
    /// QEMU released (those before 10.2 break the rules QEMU 10.2 made)
    /// and prints one `cargo:warning` line counting them;
    /// [`DocStyle::Error`] refuses such a schema, as `qapi-gen check` does.
    ///
    /// ```
    /// qapi_gen::Builder::new("s.json").doc_style(qapi_gen::DocStyle::Warn);
    /// ```
    pub fn doc_style(&mut self, style: DocStyle) -> &mut Self {
        self.doc_style = style;
        self
    }

    /// Generates only these commands and events (wire names, such as
    /// `query-migrate` or `MIGRATION`) and the types they reach, instead of
    /// the whole schema; the introspection (`qmp_schema()`) describes that
    /// subset. Calls add up; none (the default) means everything.
    ///
    /// A crate that talks to QEMU about migration alone compiles a few
    /// thousand lines instead of the whole QMP schema:
    ///
    /// ```no_run
    /// qapi_gen::Builder::new("qapi/qapi-schema.json")
    ///     .only(["query-migrate", "migrate", "migrate-set-parameters", "MIGRATION"])
    ///     .generate()?;
    /// # Ok::<(), qapi_gen::BuildError>(())
    /// ```
    pub fn only<I, S>(&mut self, names: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.only.extend(names.into_iter().map(Into::into));
        self
    }

    /// Makes a client that also reads the replies of an older version of
    /// the schema: `version` names it in docs and warnings (`10.0`), and
    /// `schema` is its root file (relative paths as for
    /// [`new`](Builder::new)). Members the client reads that are required
    /// in the schema but absent or optional in the older version become
    /// `Option`, documented "Absent before QEMU 10.1." (see
    /// [`OlderSchema`]); type changes the code cannot absorb are counted in
    /// one `cargo:warning` line and left as the schema has them. Calls add
    /// up; client mode only.
    ///
    /// A client of QEMU 10.0 to 10.2 from 10.2's schema:
    ///
    /// ```no_run
    /// qapi_gen::Builder::new("qemu-10.2/qapi/qapi-schema.json")
    ///     .also_reads("10.0", "qemu-10.0/qapi/qapi-schema.json")
    ///     .also_reads("10.1", "qemu-10.1/qapi/qapi-schema.json")
    ///     .generate()?;
    /// # Ok::<(), qapi_gen::BuildError>(())
    /// ```
    pub fn also_reads(&mut self, version: impl Into<String>, schema: impl Into<PathBuf>) -> &mut Self {
        self.also_reads.push((version.into(), schema.into()));
        self
    }

    /// The directory a relative [`out_file`](Builder::out_file) goes in
    /// (default: `OUT_DIR`, which Cargo sets for build scripts).
    ///
    /// ```
    /// qapi_gen::Builder::new("s.json").out_dir("generated");
    /// ```
    pub fn out_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// The output file: a name in the output directory, or an absolute
    /// path (default [`DEFAULT_OUT_FILE`]).
    ///
    /// ```
    /// qapi_gen::Builder::new("s.json").out_file("qmp.rs");
    /// ```
    pub fn out_file(&mut self, file: impl Into<PathBuf>) -> &mut Self {
        self.out_file = file.into();
        self
    }

    /// Whether [`generate`](Builder::generate) prints Cargo instructions:
    /// `cargo:rerun-if-changed=` for every schema file read,
    /// one `cargo:warning=` counting documentation style warnings (see
    /// [`doc_style`](Builder::doc_style)) and, with
    /// [`CondPolicy::Cfg`], `cargo::rustc-check-cfg=` declaring the cfg key
    /// (unless it is `feature`: declare those features in `Cargo.toml`). By default it does when
    /// run by Cargo as a build script (`CARGO` and `OUT_DIR` are set).
    ///
    /// Note that once a build script prints one `rerun-if-changed`, Cargo
    /// no longer reruns it for other changes in the package.
    ///
    /// ```
    /// qapi_gen::Builder::new("s.json").cargo_output(false);
    /// ```
    pub fn cargo_output(&mut self, on: bool) -> &mut Self {
        self.cargo_output = Some(on);
        self
    }

    /// The generator options set so far.
    ///
    /// ```
    /// assert!(!qapi_gen::Builder::new("s.json").options().gate_unstable);
    /// ```
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Where [`generate`](Builder::generate) writes: the output file,
    /// joined to the output directory when relative.
    ///
    /// ```
    /// let p = qapi_gen::Builder::new("s.json").out_dir("/tmp/x").out_file("q.rs").out_path()?;
    /// assert_eq!(p, std::path::Path::new("/tmp/x/q.rs"));
    /// # Ok::<(), qapi_gen::BuildError>(())
    /// ```
    pub fn out_path(&self) -> Result<PathBuf, BuildError> {
        if self.out_file.is_absolute() {
            return Ok(self.out_file.clone());
        }
        let dir = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or_else(|| BuildError::NoOutDir { out_file: self.out_file.clone() })?,
        };
        Ok(dir.join(&self.out_file))
    }

    /// Reads and checks the schema and generates the code, writing nothing
    /// and printing nothing. On success, the code and the files read.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join("qapi-gen-doc-render");
    /// std::fs::create_dir_all(&dir)?;
    /// std::fs::write(dir.join("s.json"), "{ 'enum': 'Color', 'data': ['red'] }\n")?;
    /// let out = qapi_gen::Builder::new(dir.join("s.json")).render()?;
    /// assert_eq!(out.files.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn render(&self) -> Result<Rendered, BuildError> {
        let (files, result) = self.render_inner();
        result.map(|(source, warnings, conflicts)| Rendered { source, files, warnings, conflicts })
    }

    /// What `render` does: the files read (even on failure, for
    /// `rerun-if-changed`), and the code with the schema's warnings.
    fn render_inner(&self) -> (Vec<PathBuf>, Result<Code, BuildError>) {
        let checked = match Frontend::new().doc_style(self.doc_style).check_file(&self.schema) {
            Ok(checked) => checked,
            Err(e) => return (vec![self.schema.clone()], Err(e.into())),
        };
        if !checked.is_valid() {
            let invalid = BuildError::Invalid { schema: self.schema.clone(), diagnostics: checked.diagnostics };
            return (checked.files, Err(invalid));
        }
        let schema = match checked.schema.only(&self.only) {
            Ok(s) => s,
            Err(source) => return (checked.files, Err(BuildError::Subset { schema: self.schema.clone(), source })),
        };
        let mut files = checked.files;
        let mut options = self.options.clone();
        match self.load_older(&mut files) {
            Ok(older) => options.also_reads.extend(older),
            Err(e) => return (files, Err(e)),
        }
        let result = crate::gen::rust::generate(&schema, &options)
            .map(|source| (source, checked.diagnostics, version_conflicts(&schema, &options.also_reads)))
            .map_err(|source| BuildError::Generate { schema: self.schema.clone(), source });
        (files, result)
    }

    /// Reads and checks the older versions given to
    /// [`also_reads`](Builder::also_reads), adding the files read to
    /// `files`. Their documentation style is not held against them:
    /// QEMU's older schemas break the rules QEMU 10.2 made.
    fn load_older(&self, files: &mut Vec<PathBuf>) -> Result<Vec<OlderSchema>, BuildError> {
        let mut out = Vec::new();
        for (version, path) in &self.also_reads {
            let checked = Frontend::new().doc_style(DocStyle::Warn).check_file(path).inspect_err(|_| {
                files.push(path.clone());
            })?;
            files.extend(checked.files.iter().cloned());
            if !checked.is_valid() {
                return Err(BuildError::Invalid { schema: path.clone(), diagnostics: checked.diagnostics });
            }
            out.push(OlderSchema::new(version.clone(), checked.schema));
        }
        Ok(out)
    }

    /// Reads, checks, generates and writes the output file (only when its
    /// text changed); returns the file's path. Prints Cargo instructions
    /// to standard output as [`cargo_output`](Builder::cargo_output) says.
    ///
    /// See the [`Builder`] documentation for a complete `build.rs`.
    ///
    /// ```no_run
    /// let path = qapi_gen::Builder::new("schema/qapi-schema.json").generate()?;
    /// println!("wrote {}", path.display());
    /// # Ok::<(), qapi_gen::BuildError>(())
    /// ```
    pub fn generate(&self) -> Result<PathBuf, BuildError> {
        let under_cargo = std::env::var_os("CARGO").is_some() && std::env::var_os("OUT_DIR").is_some();
        if self.cargo_output.unwrap_or(under_cargo) {
            self.generate_reporting_to(&mut io::stdout().lock())
        } else {
            self.generate_reporting_to(&mut io::sink())
        }
    }

    /// Like [`generate`](Builder::generate), but writes the Cargo
    /// instructions to `cargo`, whatever the environment and
    /// [`cargo_output`](Builder::cargo_output) say: for tools that drive
    /// build scripts, and for tests.
    ///
    /// The `rerun-if-changed` lines name every file the front end read,
    /// also when the schema turns out invalid (a fix then reruns the build
    /// script); for an unreadable root file, the root file.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join("qapi-gen-doc-reporting");
    /// std::fs::create_dir_all(&dir)?;
    /// std::fs::write(dir.join("root.json"), "{ 'include': 'sub.json' }\n")?;
    /// std::fs::write(dir.join("sub.json"), "{ 'enum': 'Color', 'data': ['red'] }\n")?;
    /// let mut lines = Vec::new();
    /// qapi_gen::Builder::new(dir.join("root.json")).out_dir(&dir).generate_reporting_to(&mut lines)?;
    /// let lines = String::from_utf8(lines)?;
    /// assert!(lines.contains("cargo:rerun-if-changed=") && lines.contains("sub.json"), "{lines}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn generate_reporting_to(&self, cargo: &mut dyn Write) -> Result<PathBuf, BuildError> {
        let out = self.out_path()?;
        let (files, result) = self.render_inner();
        // Cargo instructions are best effort: failing to print them must
        // not hide the schema's errors.
        let _ = rerun_if_changed(cargo, &files);
        let (source, warnings, conflicts) = result?;
        let wrote = write_if_changed(&out, source.as_bytes());
        if self.options.cond == CondPolicy::Cfg && self.options.cfg_key != "feature" {
            // Declares the key, or rustc warns about every condition.
            let _ = writeln!(cargo, "cargo::rustc-check-cfg=cfg({}, values(any()))", self.options.cfg_key);
        }
        if let Some(summary) = doc_style_summary(&self.schema, &warnings) {
            let _ = writeln!(cargo, "cargo:warning={summary}");
        }
        if let Some(summary) = conflict_summary(&self.schema, &conflicts) {
            let _ = writeln!(cargo, "cargo:warning={summary}");
        }
        for w in warnings.iter().filter(|w| !w.doc_style) {
            let _ = writeln!(cargo, "cargo:warning={}", w.to_string().replace('\n', ";"));
        }
        wrote.map_err(|source| BuildError::Write { path: out.clone(), source })?;
        Ok(out)
    }
}

/// One line counting the documentation style warnings among `warnings`,
/// for a build that should not list them all; `None` when there are none.
///
/// ```
/// assert_eq!(qapi_gen::builder::doc_style_summary("s.json".as_ref(), &[]), None);
/// ```
pub fn doc_style_summary(schema: &Path, warnings: &[Diagnostic]) -> Option<String> {
    let n = warnings.iter().filter(|w| w.doc_style && !w.is_error()).count();
    let s = if n == 1 { "" } else { "s" };
    let file = schema.display();
    (n > 0).then(|| {
        format!("qapi-gen: {n} documentation style warning{s} in {file} (run `qapi-gen check {file}` to list them)")
    })
}

/// One line counting the type changes between a schema and the older
/// versions it also reads that generated code cannot absorb, naming the
/// first; `None` when there are none.
///
/// ```
/// assert_eq!(qapi_gen::builder::conflict_summary("s.json".as_ref(), &[]), None);
/// ```
pub fn conflict_summary(schema: &Path, conflicts: &[VersionConflict]) -> Option<String> {
    let first = conflicts.first()?;
    let n = conflicts.len();
    let (s, more) = if n == 1 { ("", String::new()) } else { ("s", format!(", and {} more", n - 1)) };
    let file = schema.display();
    Some(format!(
        "qapi-gen: {n} type change{s} between {file} and the older versions read cannot be absorbed, \
         the code follows {file}: {first}{more} (`qapi-gen generate --also-reads` lists them)"
    ))
}

fn rerun_if_changed(cargo: &mut dyn Write, files: &[PathBuf]) -> io::Result<()> {
    for f in files {
        writeln!(cargo, "cargo:rerun-if-changed={}", f.display())?;
    }
    cargo.flush()
}

/// Writes `contents` to `path` unless the file already holds exactly that,
/// creating missing parent directories; returns whether it wrote. Keeping
/// an unchanged file untouched keeps its modification time, so nothing
/// that depends on it rebuilds.
///
/// The text goes to a temporary file beside `path`, which then replaces
/// it: a write that fails halfway (a full disk) leaves the old file as it
/// was, and no reader ever sees half a file.
///
/// ```
/// let path = std::env::temp_dir().join("qapi-gen-doc-wic").join("out.rs");
/// let _ = std::fs::remove_file(&path);
/// assert!(qapi_gen::builder::write_if_changed(&path, b"// a\n")?);
/// assert!(!qapi_gen::builder::write_if_changed(&path, b"// a\n")?);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_if_changed(path: &Path, contents: &[u8]) -> io::Result<bool> {
    write_if_changed_with(path, contents, |file, contents| file.write_all(contents))
}

/// [`write_if_changed`] with the writing of the temporary file given, so
/// that tests can make it fail.
fn write_if_changed_with(
    path: &Path,
    contents: &[u8],
    write: impl FnOnce(&mut std::fs::File, &[u8]) -> io::Result<()>,
) -> io::Result<bool> {
    if holds_exactly(path, contents) {
        return Ok(false);
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    // A name of our own in the same directory (a rename does not cross
    // file systems). Written by hand rather than with the tempfile crate,
    // which would add its dependencies to every user's build script.
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let written = std::fs::File::create(&temp).and_then(|mut file| {
        write(&mut file, contents)?;
        file.flush()
    });
    match written.and_then(|()| std::fs::rename(&temp, path)) {
        Ok(()) => Ok(true),
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            Err(e)
        }
    }
}

/// Whether the file at `path` holds exactly `contents`. A file of another
/// length is not read at all, and one of the same length is compared a
/// piece at a time rather than read whole: generated code for a large
/// schema runs to megabytes.
fn holds_exactly(path: &Path, mut contents: &[u8]) -> bool {
    use std::io::Read;
    let Ok(mut file) = std::fs::File::open(path) else { return false };
    if !file.metadata().is_ok_and(|m| m.len() == contents.len() as u64) {
        return false;
    }
    let mut piece = vec![0; 256 * 1024];
    loop {
        match file.read(&mut piece) {
            Ok(0) => return contents.is_empty(),
            Ok(n) => match contents.split_at_checked(n) {
                Some((head, rest)) if head == &piece[..n] => contents = rest,
                _ => return false,
            },
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

#[cfg(test)]
mod tests;
