//! Definitions after the expression checks: typed, normalized, spanned.
//!
//! The checks in [`crate::check`] turn each definition [`Value`] into one
//! of these, with every shorthand spelled out (`'*name': 'type'` becomes a
//! [`Member`] with `optional: true`, a bare enum value string an
//! [`EnumValue`], and so on). The model builder reads only these.
//!
//! [`Value`]: crate::syntax::Value

use crate::doc::Doc;
use crate::source::Span;

pub use crate::cond::Cond;

/// A feature attached to a definition, member, enum value or branch.
#[derive(Debug, Clone)]
pub struct Feature {
    /// The feature's name.
    pub name: String,
    /// Its condition.
    pub cond: Option<Cond>,
    /// Where it is written.
    pub span: Span,
}

/// A reference to a type by name, or to an array of a named type.
#[derive(Debug, Clone)]
pub struct TypeRef {
    /// The element type's name (for `['T']`, `T`).
    pub name: String,
    /// `['T']` rather than `'T'`.
    pub array: bool,
    /// Where it is written.
    pub span: Span,
}

/// A member of a struct, of anonymous arguments or of an inline base.
#[derive(Debug, Clone)]
pub struct Member {
    /// The name without the `*` that marks it optional.
    pub name: String,
    /// Written `'*name'`.
    pub optional: bool,
    /// Its type.
    pub ty: TypeRef,
    /// Its condition.
    pub cond: Option<Cond>,
    /// Its features.
    pub features: Vec<Feature>,
    /// Where the member's key is.
    pub span: Span,
}

/// A value of an enum.
#[derive(Debug, Clone)]
pub struct EnumValue {
    /// The value's name.
    pub name: String,
    /// Its condition.
    pub cond: Option<Cond>,
    /// Its features.
    pub features: Vec<Feature>,
    /// Where it is written.
    pub span: Span,
}

/// A branch of a union or an alternate.
#[derive(Debug, Clone)]
pub struct Branch {
    /// The branch name (a discriminator value for unions).
    pub name: String,
    /// The branch's type.
    pub ty: TypeRef,
    /// Its condition.
    pub cond: Option<Cond>,
    /// Where the branch's key is.
    pub span: Span,
}

/// A type by name, or members written in place (an implicit type).
#[derive(Debug, Clone)]
pub enum Members {
    /// `'data': 'TypeName'`
    Named(TypeRef),
    /// `'data': { ... }`
    Inline(Vec<Member>),
}

/// What kind of definition, with what only that kind has.
#[derive(Debug, Clone)]
pub enum DefKind {
    /// `{ 'enum': ... }`
    Enum {
        /// The values in order.
        values: Vec<EnumValue>,
        /// `'prefix'` for the C names of the values.
        prefix: Option<String>,
    },
    /// `{ 'struct': ... }`
    Struct {
        /// `'base'`: a struct's base is always named.
        base: Option<TypeRef>,
        /// `'data'`
        members: Vec<Member>,
    },
    /// `{ 'union': ... }`
    Union {
        /// `'base'`: named, or members in place.
        base: Members,
        /// `'discriminator'`
        discriminator: String,
        /// `'data'`: the branches.
        branches: Vec<Branch>,
    },
    /// `{ 'alternate': ... }`
    Alternate {
        /// `'data'`: the branches.
        branches: Vec<Branch>,
    },
    /// `{ 'command': ... }`
    Command {
        /// `'data'`: the arguments.
        data: Option<Members>,
        /// `'returns'`
        returns: Option<TypeRef>,
        /// `'boxed'`
        boxed: bool,
        /// `'gen'` (false: no marshalling code is generated)
        gen: bool,
        /// `'success-response'`
        success_response: bool,
        /// `'allow-oob'`
        allow_oob: bool,
        /// `'allow-preconfig'`
        allow_preconfig: bool,
        /// `'coroutine'`
        coroutine: bool,
    },
    /// `{ 'event': ... }`
    Event {
        /// `'data'`: the payload.
        data: Option<Members>,
        /// `'boxed'`
        boxed: bool,
    },
}

impl DefKind {
    /// The keyword QEMU uses for the kind (`struct`, `command`, ...).
    pub fn meta(&self) -> &'static str {
        match self {
            DefKind::Enum { .. } => "enum",
            DefKind::Struct { .. } => "struct",
            DefKind::Union { .. } => "union",
            DefKind::Alternate { .. } => "alternate",
            DefKind::Command { .. } => "command",
            DefKind::Event { .. } => "event",
        }
    }
}

/// One checked top-level definition.
#[derive(Debug, Clone)]
pub struct Definition {
    /// The defined name.
    pub name: String,
    /// What it defines.
    pub kind: DefKind,
    /// Its condition.
    pub cond: Option<Cond>,
    /// Its features.
    pub features: Vec<Feature>,
    /// Its documentation block.
    pub doc: Option<std::sync::Arc<Doc>>,
    /// The whole expression.
    pub span: Span,
}

impl Definition {
    /// Every type the definition names: base, member and branch types,
    /// arguments, return type, event data.
    pub fn type_refs(&self) -> Vec<&TypeRef> {
        fn members(m: &Members) -> Vec<&TypeRef> {
            match m {
                Members::Named(t) => vec![t],
                Members::Inline(ms) => ms.iter().map(|m| &m.ty).collect(),
            }
        }
        match &self.kind {
            DefKind::Enum { .. } => Vec::new(),
            DefKind::Struct { base, members } => base.iter().chain(members.iter().map(|m| &m.ty)).collect(),
            DefKind::Union { base, branches, .. } => {
                let mut refs = members(base);
                refs.extend(branches.iter().map(|b| &b.ty));
                refs
            }
            DefKind::Alternate { branches } => branches.iter().map(|b| &b.ty).collect(),
            DefKind::Command { data, returns, .. } => {
                let mut refs = data.as_ref().map(members).unwrap_or_default();
                refs.extend(returns);
                refs
            }
            DefKind::Event { data, .. } => data.as_ref().map(members).unwrap_or_default(),
        }
    }

    /// `struct 'Foo'`, as diagnostics name a definition.
    pub fn describe(&self) -> String {
        format!("{} '{}'", self.kind.meta(), self.name)
    }
}

/// A checked schema: definitions and include directives in order.
#[derive(Debug, Clone)]
pub enum Checked {
    /// An include directive; `name` as [`crate::syntax::load::Entry::Include`].
    Include {
        /// The included file's name.
        name: String,
        /// The directive.
        span: Span,
    },
    /// A definition.
    Definition(Definition),
}
