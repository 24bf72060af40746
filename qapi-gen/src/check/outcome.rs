//! What the expression checks let through to the whole-schema checks.
//!
//! A definition that failed its own checks is left out of the model, and
//! so is every definition that refers to it, directly or through others,
//! so that its absence draws no "unknown type" error. What remains is
//! checked as a whole, so that independent problems are reported in one
//! run.

use std::collections::{HashMap, HashSet};
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
        // Who refers to whom, once; then what the failed ones reach
        // backwards is left out too.
        let mut users: HashMap<&str, Vec<&str>> = HashMap::new();
        for d in definitions(&self.checked) {
            for t in d.type_refs() {
                users.entry(t.name.as_str()).or_default().push(&d.name);
            }
        }
        let mut left_out: HashSet<String> = self.failed.clone();
        let mut todo: Vec<&str> = self.failed.iter().map(String::as_str).collect();
        while let Some(name) = todo.pop() {
            for &user in users.get(name).into_iter().flatten() {
                if left_out.insert(user.to_owned()) {
                    todo.push(user);
                }
            }
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

impl Independent {
    /// Drops from `docs` the blocks of the definitions left out.
    pub fn drop_left_out_docs(&self, docs: &mut Vec<Arc<Doc>>) {
        let left_out: HashSet<*const Doc> = self.left_out_docs.iter().map(Arc::as_ptr).collect();
        docs.retain(|d| !left_out.contains(&Arc::as_ptr(d)));
    }
}

fn definitions(checked: &[Checked]) -> impl Iterator<Item = &Definition> {
    checked.iter().filter_map(|c| match c {
        Checked::Definition(d) => Some(d),
        Checked::Include { .. } => None,
    })
}
