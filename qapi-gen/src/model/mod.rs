//! The resolved schema: every entity QEMU's model has, with types resolved.

pub mod dump;

use crate::check::Checked;
use crate::diag::Diagnostics;
use crate::syntax::load::Pragma;

/// The resolved schema.
#[derive(Debug, Default)]
pub struct Schema {}

impl Schema {
    /// Resolves checked definitions into the model, reporting what only the
    /// whole schema can tell (unknown types, clashes, cycles).
    pub fn build(checked: Vec<Checked>, pragma: &Pragma, diags: &mut Diagnostics) -> Schema {
        let _ = (checked, pragma, diags);
        Schema {}
    }
}
