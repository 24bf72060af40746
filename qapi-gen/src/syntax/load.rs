//! Reading a schema: the root file, its includes, pragmas, and the binding
//! of documentation blocks to the definitions they precede.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
#[cfg(feature = "rayon")]
use std::sync::{Mutex, PoisonError};

use super::{parse_file, Item, Value, ValueKind};
use crate::diag::{Diagnostic, Diagnostics};
use crate::doc::{self, Doc, DocStyle};
use crate::source::{SourceFile, Span};

/// The `pragma` settings of a schema. Pragmas apply to the whole schema,
/// whichever file sets them; a later setting replaces an earlier one.
#[derive(Debug, Clone, Default)]
pub struct Pragma {
    /// Every definition must be documented.
    pub doc_required: bool,
    /// Commands whose names may use `_` or upper case.
    pub command_name_exceptions: Vec<String>,
    /// Commands that may return something other than an object.
    pub command_returns_exceptions: Vec<String>,
    /// Definitions exempt from documentation checks.
    pub documentation_exceptions: Vec<String>,
    /// Types whose member names may use `_` or upper case.
    pub member_name_exceptions: Vec<String>,
}

/// One top-level expression, in the order a depth-first walk of the
/// includes meets it.
#[derive(Debug, Clone)]
pub enum Entry {
    /// `{ 'include': ... }`: `name` is the path relative to the including
    /// file's directory, joined as QEMU joins it.
    Include {
        /// The included file's name as the schema sees it.
        name: String,
        /// The directive.
        span: Span,
    },
    /// A definition (`struct`, `command`, ...), not yet checked.
    Definition {
        /// The expression; an object (anything else was reported).
        expr: Value,
        /// The documentation block just before it, when there is one.
        doc: Option<Arc<Doc>>,
        /// A documentation block was just before it but had an error
        /// (reported): the definition is not also blamed for lacking one.
        doc_failed: bool,
    },
}

/// A schema read from disk, before any check of its definitions.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Every expression, includes followed.
    pub entries: Vec<Entry>,
    /// Every documentation block, definition and free-form, in order.
    pub docs: Vec<Arc<Doc>>,
    /// The pragmas in force.
    pub pragma: Pragma,
    /// Every file read, root first.
    pub files: Vec<Arc<SourceFile>>,
    /// Some definitions could not be read (a file that does not parse, an
    /// include that can't be followed): references to them can't be told
    /// from mistakes, so the whole-schema checks don't run.
    pub incomplete: bool,
}

/// Why a schema could not be read at all (as opposed to being invalid).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The root file could not be read.
    #[error("can't read schema file '{path}': {}", io_reason(.source))]
    Io {
        /// The path given.
        path: String,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
}

/// How deep includes may nest: the root file is at depth 0, a file it
/// includes at 1. QEMU's schemas nest three levels; the bound keeps a
/// hostile chain of includes from exhausting the stack.
pub const MAX_INCLUDE_DEPTH: usize = 100;

/// Options that change what the reader accepts.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions {
    /// How documentation style problems are reported.
    pub doc_style: DocStyle,
}

/// Reads the schema rooted at `path`, following includes. Problems in the
/// schema go to `diags`; only an unreadable root file is an `Err`.
pub fn load(path: &Path, opts: LoadOptions, diags: &mut Diagnostics) -> Result<Loaded, LoadError> {
    let name = path.to_string_lossy().into_owned();
    let root = read_and_parse(name.clone(), path.to_path_buf(), opts)
        .map_err(|source| LoadError::Io { path: name, source })?;
    Ok(walk(root, opts, diags))
}

/// Reads the schema in `text` as if it were the file `name`; includes are
/// resolved relative to `name`'s directory.
pub fn load_str(name: &str, text: &str, opts: LoadOptions, diags: &mut Diagnostics) -> Loaded {
    let file = SourceFile::new(name.to_owned(), PathBuf::from(name), text.to_owned());
    walk(parse(file, Vec::new(), opts), opts, diags)
}

fn walk(root: Parsed, opts: LoadOptions, diags: &mut Diagnostics) -> Loaded {
    let ahead = read_ahead(&root, opts);
    let mut loader = Loader { opts, out: Loaded::default(), seen: HashSet::new(), ahead, depth: 0 };
    loader.seen.insert(root.file.canonical.clone());
    loader.file(root, diags);
    loader.out
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// A file read and parsed, its diagnostics kept for when the walk over
/// the includes reaches it (so that they come out in schema order).
struct Parsed {
    file: Arc<SourceFile>,
    /// Problems with the file as a whole: bad UTF-8, syntax errors.
    diags: Vec<Diagnostic>,
    items: Vec<ParsedItem>,
}

enum ParsedItem {
    /// A documentation block, parsed, with the problems found in it.
    Doc(Option<Arc<Doc>>, Vec<Diagnostic>),
    Expr(Value),
}

/// Reads, parses and splits the documentation of one file.
fn read_and_parse(name: String, path: PathBuf, opts: LoadOptions) -> std::io::Result<Parsed> {
    let (file, diags) = read_file(name, path)?;
    Ok(parse(file, diags, opts))
}

fn parse(file: Arc<SourceFile>, diags: Vec<Diagnostic>, opts: LoadOptions) -> Parsed {
    let mut file_diags = Diagnostics::default();
    file_diags.extend(diags);
    let items = parse_file(&file, &mut file_diags)
        .into_iter()
        .map(|item| match item {
            Item::Doc(block) => {
                let mut d = Diagnostics::default();
                let doc = doc::parse(&block, opts.doc_style, &mut d);
                ParsedItem::Doc(doc.map(Arc::new), d.into_vec())
            }
            Item::Expr(v) => ParsedItem::Expr(v),
        })
        .collect();
    Parsed { file, diags: file_diags.into_vec(), items }
}

/// The file an include directive names.
struct Target {
    /// Its name as diagnostics show it.
    name: String,
    /// Where it is read from.
    path: PathBuf,
    /// Its identity: the path with links and `..` resolved. Two spellings
    /// of one file (`a.json`, `x/../a.json`) are one file, read once.
    canonical: PathBuf,
}

fn include_target(from: &SourceFile, rel: &str) -> Target {
    let name = Path::new(&from.name).parent().unwrap_or(Path::new("")).join(rel).to_string_lossy().into_owned();
    let path = from.dir().join(rel);
    Target { name, canonical: canonical(&path), path }
}

/// The well-formed include directives of a parsed file.
#[cfg(feature = "rayon")]
fn includes(parsed: &Parsed) -> impl Iterator<Item = &str> {
    parsed.items.iter().filter_map(|item| match item {
        ParsedItem::Expr(Value { kind: ValueKind::Object(obj), .. }) if obj.len() == 1 => obj.get("include")?.as_str(),
        _ => None,
    })
}

/// Reads and parses every file the schema includes, in parallel. Parsing
/// is most of the front end's work and files are independent; the walk
/// then takes them in schema order. Each file's includes are queued as
/// soon as it is parsed, not level by level: QEMU's largest file
/// (`block-core.json`) sits a level below the root's includes, and would
/// otherwise be parsed alone after all of them.
#[cfg(feature = "rayon")]
fn read_ahead(root: &Parsed, opts: LoadOptions) -> HashMap<PathBuf, std::io::Result<Parsed>> {
    let queued = Mutex::new([root.file.canonical.clone()].into_iter().collect());
    let ahead = Ahead { opts, queued, done: Mutex::new(HashMap::new()) };
    rayon::scope(|s| {
        for target in includes(root).map(|rel| include_target(&root.file, rel)) {
            ahead.read(s, target, 1);
        }
    });
    ahead.done.into_inner().unwrap_or_else(PoisonError::into_inner)
}

/// Without rayon nothing is read ahead: the walk reads each file when it
/// reaches it.
#[cfg(not(feature = "rayon"))]
fn read_ahead(_root: &Parsed, _opts: LoadOptions) -> HashMap<PathBuf, std::io::Result<Parsed>> {
    HashMap::new()
}

/// The files [`read_ahead`] has queued and those it has parsed.
#[cfg(feature = "rayon")]
struct Ahead {
    opts: LoadOptions,
    /// Canonical paths.
    queued: Mutex<HashSet<PathBuf>>,
    done: Mutex<HashMap<PathBuf, std::io::Result<Parsed>>>,
}

#[cfg(feature = "rayon")]
impl Ahead {
    /// Reads and parses `target` (unless already queued, or deeper than
    /// includes may go) as a task of `s`, then its includes.
    fn read<'s>(&'s self, s: &rayon::Scope<'s>, target: Target, depth: usize) {
        if depth > MAX_INCLUDE_DEPTH
            || !self.queued.lock().unwrap_or_else(PoisonError::into_inner).insert(target.canonical.clone())
        {
            return;
        }
        s.spawn(move |s| {
            let parsed = read_and_parse(target.name, target.path, self.opts);
            if let Ok(p) = &parsed {
                for next in includes(p).map(|rel| include_target(&p.file, rel)) {
                    self.read(s, next, depth + 1);
                }
            }
            self.done.lock().unwrap_or_else(PoisonError::into_inner).insert(target.canonical, parsed);
        });
    }
}

/// Reads a file; bytes that are not UTF-8 are reported where they are.
fn read_file(name: String, path: PathBuf) -> std::io::Result<(Arc<SourceFile>, Vec<Diagnostic>)> {
    // Only regular files: a device or a FIFO named by an include would
    // never end (think '/dev/zero').
    let meta = std::fs::metadata(&path)?;
    if meta.is_dir() {
        return Err(std::io::ErrorKind::IsADirectory.into());
    }
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let bytes = std::fs::read(&path)?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok((SourceFile::new(name, path, text), Vec::new())),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let file = SourceFile::new(name, path, text);
            // Offsets up to the bad byte are the same in the lossy text.
            let d = Diagnostic::error(Span::new(&file, at, at + 1), "invalid UTF-8 in schema file");
            Ok((file, vec![d]))
        }
    }
}

struct Loader {
    opts: LoadOptions,
    out: Loaded,
    seen: HashSet<PathBuf>,
    /// Files read ahead, by canonical path; each is taken when the walk
    /// reaches it.
    ahead: HashMap<PathBuf, std::io::Result<Parsed>>,
    /// How deep in includes the walk is.
    depth: usize,
}

impl Loader {
    fn file(&mut self, parsed: Parsed, diags: &mut Diagnostics) {
        let Parsed { file, diags: file_diags, items } = parsed;
        self.out.files.push(file.clone());
        let syntax_failed = file_diags.iter().any(Diagnostic::is_error) && items.is_empty();
        diags.extend(file_diags);
        if syntax_failed {
            self.out.incomplete = true;
            return;
        }
        let mut pending: Option<Arc<Doc>> = None;
        // The block before the next expression had an error.
        let mut pending_failed = false;
        for item in items {
            let expr = match item {
                ParsedItem::Doc(doc, doc_diags) => {
                    reject_pending(pending.take(), diags);
                    diags.extend(doc_diags);
                    pending_failed = doc.is_none();
                    if let Some(doc) = doc {
                        self.out.docs.push(doc.clone());
                        pending = Some(doc);
                    }
                    continue;
                }
                ParsedItem::Expr(expr) => expr,
            };
            let doc_failed = std::mem::take(&mut pending_failed);
            let ValueKind::Object(obj) = &expr.kind else {
                diags.push(Diagnostic::error(expr.span.clone(), "top-level expression must be an object"));
                pending = None;
                continue;
            };
            if let Some(inc) = obj.get("include") {
                reject_pending(pending.take(), diags);
                if obj.len() != 1 {
                    diags.push(Diagnostic::error(expr.span.clone(), "invalid 'include' directive"));
                    self.out.incomplete = true;
                    continue;
                }
                let Some(rel) = inc.as_str() else {
                    diags.push(Diagnostic::error(expr.span.clone(), "value of 'include' must be a string"));
                    self.out.incomplete = true;
                    continue;
                };
                self.include(&file, rel, &expr.span, diags);
            } else if let Some(p) = obj.get("pragma") {
                reject_pending(pending.take(), diags);
                if obj.len() != 1 {
                    diags.push(Diagnostic::error(expr.span.clone(), "invalid 'pragma' directive"));
                    continue;
                }
                let Some(settings) = p.as_object() else {
                    diags.push(Diagnostic::error(expr.span.clone(), "value of 'pragma' must be an object"));
                    continue;
                };
                for (name, value) in settings.iter() {
                    if let Err(msg) = self.pragma(name, value) {
                        diags.push(Diagnostic::error(expr.span.clone(), msg));
                    }
                }
            } else {
                let doc = pending.take();
                let free_form = doc.as_ref().filter(|d| d.symbol.is_none());
                if let Some(d) = free_form {
                    diags.push(Diagnostic::error(d.span.clone(), "definition documentation required"));
                }
                let doc_failed = doc_failed || free_form.is_some();
                self.out.entries.push(Entry::Definition { expr, doc: doc.filter(|d| d.symbol.is_some()), doc_failed });
            }
        }
        reject_pending(pending, diags);
    }

    fn include(&mut self, from: &Arc<SourceFile>, rel: &str, span: &Span, diags: &mut Diagnostics) {
        let Target { name, path, canonical } = include_target(from, rel);
        self.out.entries.push(Entry::Include { name: name.clone(), span: span.clone() });
        let mut at = Some(from.clone());
        while let Some(f) = at {
            if f.canonical == canonical {
                diags.push(Diagnostic::error(span.clone(), format!("inclusion loop for {rel}")));
                return;
            }
            at = f.included_from().map(|s| s.file.clone());
        }
        if self.depth >= MAX_INCLUDE_DEPTH {
            let msg = format!("can't include '{rel}': includes nest deeper than {MAX_INCLUDE_DEPTH} levels");
            diags.push(Diagnostic::error(span.clone(), msg));
            self.out.incomplete = true;
            return;
        }
        if !self.seen.insert(canonical.clone()) {
            return;
        }
        let parsed = match self.ahead.remove(&canonical) {
            // Read ahead under another spelling (whichever thread came
            // first): read again, so that diagnostics name the file as the
            // walk first meets it, the same in every run.
            Some(Ok(p)) if p.file.name != name => read_and_parse(name, path, self.opts),
            Some(p) => p,
            None => read_and_parse(name, path, self.opts),
        };
        match parsed {
            Ok(parsed) => {
                parsed.file.set_included_from(span.clone());
                self.depth += 1;
                self.file(parsed, diags);
                self.depth -= 1;
            }
            Err(e) => {
                let msg = format!("can't read include file '{rel}': {}", io_reason(&e));
                diags.push(Diagnostic::error(span.clone(), msg));
                self.out.incomplete = true;
            }
        }
    }

    fn pragma(&mut self, name: &str, value: &Value) -> Result<(), String> {
        let list = |value: &Value| -> Result<Vec<String>, String> {
            value
                .as_list()
                .and_then(|l| l.iter().map(|v| v.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>())
                .ok_or_else(|| format!("pragma {name} must be a list of strings"))
        };
        let p = &mut self.out.pragma;
        match name {
            "doc-required" => {
                p.doc_required = value.as_bool().ok_or("pragma 'doc-required' must be boolean")?;
            }
            "command-name-exceptions" => p.command_name_exceptions = list(value)?,
            "command-returns-exceptions" => p.command_returns_exceptions = list(value)?,
            "documentation-exceptions" => p.documentation_exceptions = list(value)?,
            "member-name-exceptions" => p.member_name_exceptions = list(value)?,
            _ => return Err(format!("unknown pragma '{name}'")),
        }
        Ok(())
    }
}

fn reject_pending(doc: Option<Arc<Doc>>, diags: &mut Diagnostics) {
    if let Some(doc) = doc {
        if let Some(sym) = &doc.symbol {
            diags.push(Diagnostic::error(
                doc.span.clone(),
                format!("documentation for '{sym}' is not followed by the definition"),
            ));
        }
    }
}

/// The system's reason without Rust's "(os error N)" suffix.
pub(crate) fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "Permission denied".into(),
        std::io::ErrorKind::IsADirectory => "Is a directory".into(),
        _ => {
            let s = e.to_string();
            s.split(" (os error").next().unwrap_or(&s).to_owned()
        }
    }
}
