//! Reading scenario files: TOML parsing, and every problem reported with
//! the file, line, column and key it is about.

use std::fmt;
use std::path::Path;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::Scenario;

/// One segment of a key path in a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSeg {
    /// A table key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// A dotted key path such as `guest.classes[1].size`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyPath(pub Vec<PathSeg>);

impl KeyPath {
    pub(crate) fn from_parts(parts: &[&str]) -> Self {
        KeyPath(parts.iter().map(|p| PathSeg::Key((*p).to_string())).collect())
    }
    pub(crate) fn key(mut self, k: &str) -> Self {
        self.0.push(PathSeg::Key(k.to_string()));
        self
    }
    pub(crate) fn index(mut self, i: usize) -> Self {
        self.0.push(PathSeg::Index(i));
        self
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for seg in &self.0 {
            match seg {
                PathSeg::Key(k) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                PathSeg::Index(i) => write!(f, "[{i}]")?,
            }
            first = false;
        }
        Ok(())
    }
}

/// One problem found in a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The offending key.
    pub key: KeyPath,
    /// What is wrong.
    pub message: String,
    /// 1-based line in the scenario file (0 if unknown).
    pub line: usize,
    /// 1-based column (0 if unknown).
    pub column: usize,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: ", self.line, self.column)?;
        }
        if !self.key.0.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// TOML syntax error, unknown key or mistyped value.
    #[error("{file}:{line}:{column}: {}{message}", key_prefix(key))]
    Parse {
        /// The file (or `<string>`).
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The key at the error, if one could be identified.
        key: Option<String>,
        /// toml's message.
        message: String,
    },
    /// The scenario parsed but is invalid or contradictory.
    #[error("{file}: invalid scenario:{}", render_issues(file, issues))]
    Invalid {
        /// The file (or `<string>`).
        file: String,
        /// Every problem found.
        issues: Vec<Issue>,
    },
}

fn key_prefix(key: &Option<String>) -> String {
    match key {
        Some(k) if !k.is_empty() => format!("{k}: "),
        _ => String::new(),
    }
}

fn render_issues(file: &str, issues: &[Issue]) -> String {
    let mut s = String::new();
    for i in issues {
        s.push_str("\n  ");
        if i.line > 0 {
            s.push_str(&format!("{file}:{}:{}: ", i.line, i.column));
        }
        if !i.key.0.is_empty() {
            s.push_str(&format!("{}: ", i.key));
        }
        s.push_str(&i.message);
    }
    s
}

fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before.iter().rposition(|&b| b == b'\n').map(|p| p + 1).unwrap_or(0);
    let column = src.get(line_start..offset).map(|s| s.chars().count()).unwrap_or(0) + 1;
    (line, column)
}
/// The byte span of the deepest existing key of `path` in the document.
fn span_of(doc: &Spanned<DeTable<'_>>, path: &KeyPath) -> Option<std::ops::Range<usize>> {
    let mut best: Option<std::ops::Range<usize>> = None;
    let mut table: Option<&DeTable<'_>> = Some(doc.get_ref());
    let mut value: Option<&Spanned<DeValue<'_>>> = None;
    for seg in &path.0 {
        match seg {
            PathSeg::Key(k) => {
                let t = match (table, value) {
                    (Some(t), None) => t,
                    (_, Some(v)) => match v.get_ref() {
                        DeValue::Table(t) => t,
                        _ => break,
                    },
                    (None, None) => break,
                };
                match t.get_key_value(k.as_str()) {
                    Some((key, v)) => {
                        best = Some(key.span());
                        value = Some(v);
                        table = None;
                    }
                    None => break,
                }
            }
            PathSeg::Index(i) => {
                let Some(v) = value else { break };
                match v.get_ref() {
                    DeValue::Array(a) => match a.get(*i) {
                        Some(item) => {
                            best = Some(item.span());
                            value = Some(item);
                        }
                        None => break,
                    },
                    _ => break,
                }
            }
        }
    }
    best
}

/// The key path whose key or value contains byte `offset`.
fn path_at(doc: &Spanned<DeTable<'_>>, offset: usize) -> KeyPath {
    fn walk_table(t: &DeTable<'_>, offset: usize, path: &mut KeyPath) -> bool {
        for (k, v) in t.iter() {
            let ks = k.span();
            if ks.contains(&offset) {
                path.0.push(PathSeg::Key(k.get_ref().to_string()));
                return true;
            }
            let vs = v.span();
            if vs.contains(&offset) || matches!(v.get_ref(), DeValue::Table(_) | DeValue::Array(_)) {
                path.0.push(PathSeg::Key(k.get_ref().to_string()));
                if walk_value(v, offset, path) || vs.contains(&offset) {
                    return true;
                }
                path.0.pop();
            }
        }
        false
    }
    fn walk_value(v: &Spanned<DeValue<'_>>, offset: usize, path: &mut KeyPath) -> bool {
        match v.get_ref() {
            DeValue::Table(t) => walk_table(t, offset, path),
            DeValue::Array(a) => {
                for (i, item) in a.iter().enumerate() {
                    path.0.push(PathSeg::Index(i));
                    if walk_value(item, offset, path) || item.span().contains(&offset) {
                        return true;
                    }
                    path.0.pop();
                }
                false
            }
            _ => false,
        }
    }
    let mut path = KeyPath::default();
    walk_table(doc.get_ref(), offset, &mut path);
    path
}

impl Scenario {
    /// Parse and validate a scenario from TOML text; `file` names it in
    /// error messages.
    pub fn from_toml_str(src: &str, file: &str) -> Result<Scenario, ConfigError> {
        let scenario: Scenario = match toml::from_str(src) {
            Ok(s) => s,
            Err(e) => {
                let (line, column, key) = match e.span() {
                    Some(span) => {
                        let (l, c) = line_col(src, span.start);
                        let key = DeTable::parse(src).ok().map(|doc| path_at(&doc, span.start).to_string());
                        (l, c, key)
                    }
                    None => (0, 0, None),
                };
                return Err(ConfigError::Parse {
                    file: file.to_string(),
                    line,
                    column,
                    key,
                    message: e.message().trim_end().to_string(),
                });
            }
        };
        if let Err(mut issues) = scenario.validate() {
            if let Ok(doc) = DeTable::parse(src) {
                for issue in &mut issues {
                    if let Some(span) = span_of(&doc, &issue.key) {
                        let (l, c) = line_col(src, span.start);
                        issue.line = l;
                        issue.column = c;
                    }
                }
            }
            return Err(ConfigError::Invalid { file: file.to_string(), issues });
        }
        Ok(scenario)
    }

    /// Read, parse and validate a scenario file.
    pub fn from_file(path: &Path) -> Result<Scenario, ConfigError> {
        let file = path.display().to_string();
        let src = std::fs::read_to_string(path).map_err(|source| ConfigError::Io { file: file.clone(), source })?;
        Scenario::from_toml_str(&src, &file)
    }
}
