//! Syntax: schema text to a spanned tree of values and documentation blocks.
//!
//! pest recognises the dialect; its pairs are lowered at once into [`Value`]
//! and [`DocBlock`], which carry a [`Span`] everywhere, so that no later stage
//! sees pest.

pub mod load;
mod parse;

use indexmap::IndexMap;

use crate::source::Span;

pub use crate::doc::{DocBlock, DocLine};
pub use parse::{parse_file, MAX_NESTING};

/// A JSON-like value of the QAPI dialect, with where it is.
#[derive(Debug, Clone)]
pub struct Value {
    /// The value itself.
    pub kind: ValueKind,
    /// From its first to its last character.
    pub span: Span,
}

/// The four kinds of value the dialect has.
#[derive(Debug, Clone)]
pub enum ValueKind {
    /// `'text'`
    Str(String),
    /// `true` / `false`
    Bool(bool),
    /// `[ ... ]`
    List(Vec<Value>),
    /// `{ 'key': value, ... }`
    Object(Object),
}

/// An object: members in source order, keys unique.
#[derive(Debug, Clone, Default)]
pub struct Object {
    /// Key to (span of the key, value).
    pub members: IndexMap<String, (Span, Value), rustc_hash::FxBuildHasher>,
}

impl Object {
    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.members.get(key).map(|(_, v)| v)
    }

    /// The span of `key` itself, if present.
    pub fn key_span(&self, key: &str) -> Option<&Span> {
        self.members.get(key).map(|(s, _)| s)
    }

    /// Keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.members.keys().map(String::as_str)
    }

    /// Members in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.members.iter().map(|(k, (_, v))| (k.as_str(), v))
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// True when there are no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

impl Value {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            ValueKind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self.kind {
            ValueKind::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The elements, if this is a list.
    pub fn as_list(&self) -> Option<&[Value]> {
        match &self.kind {
            ValueKind::List(l) => Some(l),
            _ => None,
        }
    }

    /// The object, if this is one.
    pub fn as_object(&self) -> Option<&Object> {
        match &self.kind {
            ValueKind::Object(o) => Some(o),
            _ => None,
        }
    }
}

/// A top-level item of a schema file.
#[derive(Debug, Clone)]
pub enum Item {
    /// A documentation block.
    Doc(DocBlock),
    /// An expression: a definition or a directive.
    Expr(Value),
}
