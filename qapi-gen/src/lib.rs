//! Read, check and generate code from QEMU QAPI schemas.
//!
//! The pipeline follows the data: [`syntax`] (pest, includes, pragmas) →
//! [`check`] (QEMU's expression checks) → [`model`] (the resolved schema,
//! with QEMU's schema checks) → backends.
//!
//! ```no_run
//! let out = qapi_gen::Frontend::new().check_file("qapi/qapi-schema.json".as_ref())?;
//! for d in &out.diagnostics {
//!     eprintln!("{d}");
//! }
//! # Ok::<(), qapi_gen::syntax::load::LoadError>(())
//! ```

// pest without its `std` feature (see the workspace manifest) writes its
// parser against `::alloc`.
extern crate alloc;

pub mod builder;
pub mod check;
pub mod compat;
mod cond;
pub mod diag;
pub mod doc;
pub mod gen;
pub mod model;
pub mod source;
pub mod syntax;

use std::path::Path;

pub use builder::{BuildError, Builder};
pub use diag::{Diagnostic, Diagnostics, Severity};
pub use doc::DocStyle;
pub use model::Schema;
use syntax::load::{LoadError, LoadOptions, Loaded};

/// The front end: reads a schema and checks it as QEMU does.
#[derive(Debug, Clone, Default)]
pub struct Frontend {
    opts: LoadOptions,
}

/// What the front end made of a schema.
#[derive(Debug)]
pub struct Checked {
    /// The resolved schema; complete only when there are no errors.
    pub schema: Schema,
    /// Every problem found, errors and warnings, in the order found.
    pub diagnostics: Vec<Diagnostic>,
    /// Every file read, root first (for build scripts' rerun-if-changed).
    pub files: Vec<std::path::PathBuf>,
}

impl Checked {
    /// True when no error (warnings aside) was found.
    pub fn is_valid(&self) -> bool {
        !self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

impl Frontend {
    /// A front end with QEMU 10.2's rules.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets how documentation style problems are reported.
    pub fn doc_style(mut self, style: DocStyle) -> Self {
        self.opts.doc_style = style;
        self
    }

    /// Reads and checks the schema rooted at `path`.
    pub fn check_file(&self, path: &Path) -> Result<Checked, LoadError> {
        let mut diags = Diagnostics::default();
        let loaded = syntax::load::load(path, self.opts, &mut diags)?;
        Ok(self.finish(loaded, diags))
    }

    /// Checks a schema given as text, named `name` in diagnostics.
    pub fn check_str(&self, name: &str, text: &str) -> Checked {
        let mut diags = Diagnostics::default();
        let loaded = syntax::load::load_str(name, text, self.opts, &mut diags);
        self.finish(loaded, diags)
    }

    /// The whole-schema checks run on the definitions that passed their
    /// own checks, so that independent problems are all reported at once;
    /// the schema is complete only when there was no error at all.
    fn finish(&self, mut loaded: Loaded, mut diags: Diagnostics) -> Checked {
        let files = loaded.files.iter().map(|f| f.path.clone()).collect();
        let outcome = check::check_all(&loaded, &mut diags);
        let valid_so_far = !diags.has_errors();
        let schema = match outcome.independent().filter(|_| !loaded.incomplete) {
            Some(ok) => {
                ok.drop_left_out_docs(&mut loaded.docs);
                let schema = Schema::build(ok.checked, loaded, &mut diags);
                if valid_so_far {
                    schema
                } else {
                    Schema::default()
                }
            }
            None => Schema::default(),
        };
        Checked { schema, diagnostics: diags.into_vec(), files }
    }
}
