//! Rendering diagnostics for the terminal: the GNU-style line, then a
//! source snippet (miette).

use qapi_gen::Diagnostic;

/// Prints each diagnostic: its GNU-style line first, then a source snippet.
pub fn report(diags: &[Diagnostic]) {
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

/// Prints the diagnostics of a schema being generated from: those that
/// are errors, and warnings other than documentation style ones, in full;
/// documentation style warnings counted in one line.
pub fn report_generating(schema: &std::path::Path, diags: &[Diagnostic]) {
    if let Some(summary) = qapi_gen::builder::doc_style_summary(schema, diags) {
        eprintln!("{summary}");
    }
    let listed: Vec<Diagnostic> = diags.iter().filter(|d| d.is_error() || !d.doc_style).cloned().collect();
    report(&listed);
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
        // Underline the first line only: a whole definition is too much.
        let line_end = s.file.text.get(start..).and_then(|t| t.find('\n')).map_or(text_len, |i| start + i);
        let len = s.end.min(line_end).saturating_sub(start).max(1).min(text_len - start);
        Some(Box::new(std::iter::once(miette::LabeledSpan::new(None, start, len))))
    }
}
