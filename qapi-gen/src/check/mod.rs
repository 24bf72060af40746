//! The expression checks: what QEMU enforces on each definition on its own
//! (keys, names, flags, `if`, features), producing typed [`ast`] definitions.

pub mod ast;

use crate::diag::Diagnostics;
use crate::syntax::load::Loaded;

pub use ast::Checked;

/// Checks every expression of `loaded`; definitions that fail are
/// reported to `diags` and left out of the result.
pub fn check_exprs(loaded: &Loaded, diags: &mut Diagnostics) -> Vec<Checked> {
    let _ = (loaded, diags);
    Vec::new()
}
