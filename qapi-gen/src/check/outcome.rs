//! What the expression checks let through to the whole-schema checks.
//!
//! A definition that failed its own checks is left out of the model; so,
//! so that its absence draws no "unknown type" error, is every definition
//! that refers to it, directly or through others. What remains is checked
//! as a whole, so that independent problems are reported in one run.

use std::collections::HashSet;
use std::sync::Arc;

use super::ast::{Checked, Definition};
use crate::doc::Doc;

/// The result of the expression checks.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The definitions (and includes) that passed, in order.
    pub checked: Vec<Checked>,
    /// The names of the definitions that failed.
    failed: HashSet<String>,
    /// The documentation blocks of those definitions.
    failed_docs: Vec<Arc<Doc>>,
    /// A definition failed before its name was known.
    unnamed_failure: bool,
}

/// What the whole-schema checks can run on without knock-on errors.
#[derive(Debug)]
pub struct Independent {
    /// The definitions that passed and refer to none that failed.
    pub checked: Vec<Checked>,
    /// The documentation blocks of the definitions left out: their
    /// descriptions have nothing to be connected to.
    pub left_out_docs: Vec<Arc<Doc>>,
}

impl Outcome {
    /// Notes a definition that failed its checks: its name when it has
    /// one, and its documentation.
    pub(super) fn note_failure(&mut self, name: Option<&str>, doc: Option<&Arc<Doc>>) {
        match name {
            Some(name) => {
                self.failed.insert(name.to_owned());
            }
            None => self.unnamed_failure = true,
        }
        self.failed_docs.extend(doc.cloned());
    }

    /// The definitions the model can be built from without knock-on
    /// errors; `None` when a definition failed before it had a name (a
    /// reference to it can't be told from a mistake).
    pub fn independent(self) -> Option<Independent> {
        if self.unnamed_failure {
            return None;
        }
        let mut left_out = self.failed;
        // Each pass leaves out the definitions that refer to one left out:
        // as many passes as the longest chain of references, which is short.
        loop {
            let more: Vec<&Definition> = definitions(&self.checked)
                .filter(|d| !left_out.contains(&d.name) && d.type_refs().iter().any(|t| left_out.contains(&t.name)))
                .collect();
            if more.is_empty() {
                break;
            }
            let names: Vec<String> = more.iter().map(|d| d.name.clone()).collect();
            left_out.extend(names);
        }
        let mut left_out_docs = self.failed_docs;
        let mut checked = Vec::with_capacity(self.checked.len());
        for c in self.checked {
            match c {
                Checked::Definition(d) if left_out.contains(&d.name) => left_out_docs.extend(d.doc),
                c => checked.push(c),
            }
        }
        Some(Independent { checked, left_out_docs })
    }
}

fn definitions(checked: &[Checked]) -> impl Iterator<Item = &Definition> {
    checked.iter().filter_map(|c| match c {
        Checked::Definition(d) => Some(d),
        Checked::Include { .. } => None,
    })
}
