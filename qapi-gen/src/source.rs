//! Source files and positions in them.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// One schema file as read from disk.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as the user or the including file named it.
    pub name: String,
    /// The path used to open the file.
    pub path: PathBuf,
    /// The file's text.
    pub text: String,
    line_starts: Vec<usize>,
    /// Where this file was first included from; set when the include is
    /// followed (files may be read ahead, before anyone includes them).
    included_from: OnceLock<Span>,
    /// The path with links resolved: a file's identity for include loops.
    pub canonical: PathBuf,
}

impl SourceFile {
    /// Wraps text read from `path` (displayed as `name`).
    pub fn new(name: String, path: PathBuf, text: String) -> Arc<Self> {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        Arc::new(SourceFile { name, path, text, line_starts, included_from: OnceLock::new(), canonical })
    }

    /// Where this file was included from; `None` for the root file.
    pub fn included_from(&self) -> Option<&Span> {
        self.included_from.get()
    }

    /// Records where this file is included from; only the first call counts.
    pub fn set_included_from(&self, span: Span) {
        let _ = self.included_from.set(span);
    }

    /// The directory relative to which this file's includes resolve.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or_else(|| Path::new(""))
    }

    /// 1-based line and column of a byte offset. Columns count characters,
    /// with tabs advancing to the next multiple of 8, as QEMU counts them.
    pub fn line_col(&self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let mut col = 1u32;
        for ch in self.text.get(start..offset).unwrap_or("").chars() {
            col = if ch == '\t' { col.div_ceil(8) * 8 + 1 } else { col + 1 };
        }
        (line as u32 + 1, col)
    }

    /// Byte offset where 1-based `line` starts.
    pub fn line_start(&self, line: u32) -> usize {
        self.line_starts.get(line.saturating_sub(1) as usize).copied().unwrap_or(self.text.len())
    }
}

/// A byte range in one source file.
#[derive(Debug, Clone)]
pub struct Span {
    /// The file.
    pub file: Arc<SourceFile>,
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
}

impl Span {
    /// A span covering `start..end` of `file`.
    pub fn new(file: &Arc<SourceFile>, start: usize, end: usize) -> Self {
        Span { file: file.clone(), start, end }
    }

    /// 1-based line and column of the start.
    pub fn line_col(&self) -> (u32, u32) {
        self.file.line_col(self.start)
    }

    /// 1-based line of the start.
    pub fn line(&self) -> u32 {
        self.line_col().0
    }

    /// `FILE:LINE:COL` of the start.
    pub fn location(&self) -> String {
        let (l, c) = self.line_col();
        format!("{}:{}:{}", self.file.name, l, c)
    }
}

impl PartialEq for Span {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.file, &other.file) && self.start == other.start && self.end == other.end
    }
}
