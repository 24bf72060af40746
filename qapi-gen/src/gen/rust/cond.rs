//! Conditions and features as generated code sees them: whether an item
//! is generated at all, and the `#[cfg]` (or `#[cfg_attr(.., deprecated)]`)
//! it carries under [`CondPolicy::Cfg`]. Every condition of the generated
//! code is evaluated or written here, through the model's [`Cond`]
//! (`holds_with`, `to_cfg`), which the other backends use too.

use proc_macro2::TokenStream;
use quote::quote;

use super::{CondPolicy, Cx};
use crate::model::{Cond, Entity, EntityId, EntityKind, Feature, Member};

/// Where generated code touches something deprecated, so that
/// `#[allow(deprecated)]` goes on exactly the items the compiler would
/// warn about: declaring a deprecated item does not warn; naming it,
/// reading its fields or matching its variants does (derives aside).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Deprecation {
    /// The type (command, event) itself.
    pub itself: bool,
    /// One of its members, values or branches.
    pub parts: bool,
    /// A type its declaration names (a member's or branch's type).
    pub types: bool,
}

impl Deprecation {
    /// For the declaration, which names the types.
    pub(super) fn decl(self) -> TokenStream {
        allow_deprecated(self.types)
    }

    /// For an impl that names only the type.
    pub(super) fn header(self) -> TokenStream {
        allow_deprecated(self.itself)
    }

    /// For an impl that reads the members, values or branches.
    pub(super) fn body(self) -> TokenStream {
        allow_deprecated(self.itself || self.parts || self.types)
    }
}

/// `#[allow(deprecated)]` when `touches`, nothing otherwise.
pub(super) fn allow_deprecated(touches: bool) -> TokenStream {
    if touches {
        quote!(#[allow(deprecated)])
    } else {
        TokenStream::new()
    }
}

impl Cx<'_> {
    /// `features` include `deprecated`, and its condition can hold.
    pub(super) fn is_deprecated(&self, features: &[Feature]) -> bool {
        self.has_feature(features, "deprecated")
    }

    /// Type `id` is deprecated (an array if its element is).
    pub(super) fn type_deprecated(&self, id: EntityId) -> bool {
        let e = &self.schema[id];
        match &e.kind {
            EntityKind::Array(a) => self.type_deprecated(a.element),
            _ => self.is_deprecated(&e.features),
        }
    }

    /// The condition of type `id` (an array's is its element's).
    pub(super) fn type_cond(&self, id: EntityId) -> Option<&Cond> {
        let e = &self.schema[id];
        match &e.kind {
            EntityKind::Array(a) => self.type_cond(a.element),
            _ => e.cond.as_ref(),
        }
    }

    /// Type `id` is marked `unstable` (an array if its element is).
    pub(super) fn type_unstable(&self, id: EntityId) -> bool {
        let e = &self.schema[id];
        match &e.kind {
            EntityKind::Array(a) => self.type_unstable(a.element),
            _ => self.has_feature(&e.features, "unstable"),
        }
    }

    /// `features` has `name`, and its condition can hold.
    pub(super) fn has_feature(&self, features: &[Feature], name: &str) -> bool {
        features.iter().any(|f| f.name == name && (self.eval(f.cond.as_ref()) != Some(false)))
    }

    /// The value of a condition at generation time; `None` when it is
    /// decided at compile time ([`CondPolicy::Cfg`]). No condition holds.
    fn eval(&self, cond: Option<&Cond>) -> Option<bool> {
        let Some(c) = cond else { return Some(true) };
        match &self.opts.cond {
            CondPolicy::AllTrue => Some(true),
            CondPolicy::Defined(names) => Some(c.holds_with(names)),
            CondPolicy::Cfg => None,
        }
    }

    /// The `cfg` predicate for a condition, as the model writes it
    /// ([`Cond::to_cfg`]): `KEY = "NAME"`, `all(..)`, `any(..)`, `not(..)`.
    pub(super) fn cfg_pred(&self, c: &Cond) -> TokenStream {
        // Condition names are identifiers (the front end checks them) and
        // the key is one (`Cx::new` checks it), so the text always lexes;
        // were it not to, `any()` (never) leaves the item out.
        c.to_cfg(&self.opts.cfg_key).parse().unwrap_or_else(|_| quote!(any()))
    }

    /// Whether something with these conditions (and `unstable` marking)
    /// is generated (`Some`), and the `cfg` predicate it needs if any.
    pub(super) fn pred(&self, conds: &[Option<&Cond>], unstable: bool) -> Option<Option<TokenStream>> {
        let mut uniq: Vec<&Cond> = Vec::new();
        for c in conds.iter().flatten() {
            if !uniq.contains(c) {
                uniq.push(c);
            }
        }
        let mut preds = Vec::new();
        for c in &uniq {
            match self.eval(Some(c)) {
                Some(true) => {}
                Some(false) => return None,
                None => preds.push(self.cfg_pred(c)),
            }
        }
        if unstable && self.opts.gate_unstable {
            preds.push(quote!(feature = "unstable"));
        }
        Some(match preds.len() {
            0 => None,
            1 => preds.pop(),
            _ => Some(quote!(all(#(#preds),*))),
        })
    }

    /// Whether something with these conditions (and `unstable` marking)
    /// is generated, and its `#[cfg]` if it is (empty when it is
    /// generated unconditionally).
    pub(super) fn guard(&self, conds: &[Option<&Cond>], unstable: bool) -> Option<TokenStream> {
        self.pred(conds, unstable).map(cfg_attr)
    }

    /// The guard of a type definition.
    pub(super) fn type_guard(&self, id: EntityId) -> Option<TokenStream> {
        self.guard(&[self.type_cond(id)], self.type_unstable(id))
    }

    /// The guard of a member: its own condition and its type's.
    pub(super) fn member_guard(&self, m: &Member) -> Option<TokenStream> {
        self.guard(
            &[m.cond.as_ref(), self.type_cond(m.ty)],
            self.has_feature(&m.features, "unstable") || self.type_unstable(m.ty),
        )
    }

    /// The conditions of a command or event: its own and its types'.
    pub(super) fn api_pred(&self, e: &Entity, types: &[Option<EntityId>]) -> Option<Option<TokenStream>> {
        let mut conds = vec![e.cond.as_ref()];
        let mut unstable = self.has_feature(&e.features, "unstable");
        for t in types.iter().flatten() {
            conds.push(self.type_cond(*t));
            unstable |= self.type_unstable(*t);
        }
        self.pred(&conds, unstable)
    }

    /// The `#[cfg]` of a command or event (empty when unconditional), or
    /// `None` when it is not generated.
    pub(super) fn api_guard(&self, e: &Entity, types: &[Option<EntityId>]) -> Option<TokenStream> {
        self.api_pred(e, types).map(cfg_attr)
    }

    /// `#[deprecated]` for `features` that include `deprecated` (empty
    /// when not deprecated).
    pub(super) fn deprecated(&self, features: &[Feature]) -> TokenStream {
        let Some(f) = features.iter().find(|f| f.name == "deprecated") else { return TokenStream::new() };
        let note = f.doc().map(|s| one_line(&s.text)).filter(|s| !s.is_empty());
        let attr = match &note {
            Some(n) => quote!(deprecated(note = #n)),
            None => quote!(deprecated),
        };
        match (self.eval(f.cond.as_ref()), &f.cond) {
            (Some(false), _) => TokenStream::new(),
            (None, Some(c)) => {
                let pred = self.cfg_pred(c);
                quote!(#[cfg_attr(#pred, #attr)])
            }
            _ => quote!(#[#attr]),
        }
    }
}

/// `#[cfg(pred)]`, or nothing without a predicate.
pub(super) fn cfg_attr(pred: Option<TokenStream>) -> TokenStream {
    pred.map(|p| quote!(#[cfg(#p)])).unwrap_or_default()
}

/// Whether `pred` holds, as an expression: `cfg!(pred)`, or `true`
/// without a predicate.
pub(super) fn cfg_value(pred: Option<&TokenStream>) -> TokenStream {
    pred.map(|p| quote!(cfg!(#p))).unwrap_or_else(|| quote!(true))
}

/// Text on one line, white space collapsed.
pub(super) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
