//! Alternates: a Rust enum, one variant per branch, decoded by the JSON
//! type of the value as QEMU does (`null` branches are unit variants).

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::cond::Deprecation;
use super::cx::Paths;
use super::names::{self, Scope};
use super::{doc, lints, rustdoc, Cx, GenError};
use crate::model::{AlternateType, Builtin, Entity, EntityKind};

/// What a branch is decoded from.
#[derive(PartialEq, Clone, Copy)]
enum From {
    Null,
    Str,
    Enum,
    Bool,
    Number,
    Int,
    Object,
    Array,
    Other,
}

/// A branch of an alternate as generated.
struct Branch {
    ident: Ident,
    guard: TokenStream,
    from: From,
    /// The branch type, never boxed.
    inner: TokenStream,
    boxed: bool,
}

impl Cx<'_> {
    pub(super) fn alternate(&self, e: &Entity, alt: &AlternateType) -> Result<TokenStream, GenError> {
        let Some(guard) = self.type_guard(e.id) else { return Ok(TokenStream::new()) };
        let name = self.ident(e.id);
        let mut scope = Scope::new(&e.name);
        let mut branches = Vec::new();
        let mut variants = Vec::new();
        let mut types_deprecated = false;
        for b in &alt.branches {
            let Some(g) = self.guard(&[b.cond.as_ref(), self.type_cond(b.ty)], self.type_unstable(b.ty)) else {
                continue;
            };
            let text = names::camel(&b.name);
            scope.claim(&text, &b.name)?;
            let ident = names::to_ident(&names::ident(&text));
            let mut lines = b.doc().map(|s| doc::render(&s.text)).unwrap_or_default();
            if lines.is_empty() {
                lines.push(format!("The `{}` branch.", doc::prose(&b.name)));
            }
            let docs = rustdoc::attrs(&lines);
            let from = self.decoded_from(b.ty);
            let ty = (from != From::Null).then(|| {
                let held = self.held_ty(e.id, b.ty);
                quote!((#held))
            });
            variants.push(quote!(#docs #g #ident #ty,));
            types_deprecated |= from != From::Null && self.type_deprecated(b.ty);
            branches.push(Branch { ident, guard: g, from, inner: self.ty(b.ty), boxed: self.is_boxed(e.id, b.ty) });
        }
        let docs = rustdoc::attrs(&self.entity_docs(e));
        let dep = self.deprecated(&e.features);
        let deprecation =
            Deprecation { itself: self.is_deprecated(&e.features), parts: false, types: types_deprecated };
        let allow = deprecation.decl();
        // Only a struct held inline can make one branch much larger than another.
        let large = branches.iter().any(|b| b.from == From::Object && !b.boxed);
        let names = lints::enum_variant_names(&name, branches.iter().map(|b| (&b.ident, &b.guard)));
        let lints = lints::allow(&[("large_enum_variant", large), ("enum_variant_names", names)]);
        let mut out = quote! {
            #docs
            #guard
            #dep
            #[derive(Debug, Clone, PartialEq)]
            #lints
            #allow
            pub enum #name {
                #(#variants)*
            }
        };
        out.extend(self.serialize_impl(&guard, deprecation, &name, self.alternate_serialize(&branches)));
        let expecting = format!("a value of alternate {}", e.name);
        let visit = self.alternate_visit(&name, &branches);
        out.extend(self.visitor_impl(&guard, deprecation, &name, &expecting, "deserialize_any", visit));
        if self.opts.json_codec {
            out.extend(self.codec_via_serde(&name, &guard, deprecation));
        }
        Ok(out)
    }

    /// What a branch of type `ty` is decoded from.
    fn decoded_from(&self, ty: crate::model::EntityId) -> From {
        match &self.schema[ty].kind {
            EntityKind::Builtin(Builtin::Null) => From::Null,
            EntityKind::Builtin(Builtin::Str) => From::Str,
            EntityKind::Enum(_) => From::Enum,
            EntityKind::Builtin(Builtin::Bool) => From::Bool,
            EntityKind::Builtin(Builtin::Number) => From::Number,
            EntityKind::Builtin(_) => From::Int,
            EntityKind::Object(_) => From::Object,
            EntityKind::Array(_) => From::Array,
            _ => From::Other,
        }
    }

    /// The body of `serialize`: the branch's value as it is.
    fn alternate_serialize(&self, branches: &[Branch]) -> TokenStream {
        let rt = self.paths().rt;
        if branches.is_empty() {
            return quote! {
                let _ = serializer;
                match *self {}
            };
        }
        let arms = branches.iter().map(|b| {
            let Branch { ident, guard, .. } = b;
            if b.from == From::Null {
                quote!(#guard Self::#ident => serializer.serialize_unit(),)
            } else {
                quote!(#guard Self::#ident(ref value) => #rt::serde::Serialize::serialize(value, serializer),)
            }
        });
        quote!(match *self { #(#arms)* })
    }

    /// The visitor's methods: one for each JSON type some branch is
    /// decoded from (the last such branch, as QEMU takes it).
    fn alternate_visit(&self, name: &Ident, branches: &[Branch]) -> TokenStream {
        let Paths { rt, result, .. } = self.paths();
        let find = |f: &[From]| branches.iter().rev().find(|b| f.contains(&b.from));
        let e_err = quote!(<E: #rt::serde::de::Error>);
        let ret = quote!(#result<Self::Value, E>);
        // `<T as Deserialize>::deserialize(source)?`.
        let decode = |b: &Branch, source: TokenStream| {
            let inner = &b.inner;
            quote!(<#inner as #rt::serde::Deserialize>::deserialize(#source)?)
        };
        let de = |what: &str| {
            let what = Ident::new(what, proc_macro2::Span::call_site());
            quote!(#rt::serde::de::value::#what::<E>::new(value))
        };
        let mut out = TokenStream::new();
        if let Some(b) = find(&[From::Str, From::Enum]) {
            let value = if b.from == From::Str {
                quote!(::std::borrow::ToOwned::to_owned(value))
            } else {
                decode(b, de("StrDeserializer"))
            };
            out.extend(self.visit_method(name, b, quote!(visit_str #e_err(self, value: &str) -> #ret), value));
        }
        if let Some(b) = find(&[From::Bool]) {
            out.extend(self.visit_method(name, b, quote!(visit_bool #e_err(self, value: bool) -> #ret), quote!(value)));
        }
        if let Some(b) = find(&[From::Null]) {
            out.extend(self.visit_method(name, b, quote!(visit_unit #e_err(self) -> #ret), TokenStream::new()));
        }
        // Integers go to the integer branch, or else to the number branch.
        let number = find(&[From::Number]);
        if let Some(b) = find(&[From::Int]) {
            let i64_value = decode(b, de("I64Deserializer"));
            out.extend(self.visit_method(name, b, quote!(visit_i64 #e_err(self, value: i64) -> #ret), i64_value));
            let u64_value = decode(b, de("U64Deserializer"));
            out.extend(self.visit_method(name, b, quote!(visit_u64 #e_err(self, value: u64) -> #ret), u64_value));
        } else if let Some(b) = number {
            out.extend(self.visit_method(
                name,
                b,
                quote!(visit_i64 #e_err(self, value: i64) -> #ret),
                quote!(value as f64),
            ));
            out.extend(self.visit_method(
                name,
                b,
                quote!(visit_u64 #e_err(self, value: u64) -> #ret),
                quote!(value as f64),
            ));
        }
        if let Some(b) = number {
            out.extend(self.visit_method(name, b, quote!(visit_f64 #e_err(self, value: f64) -> #ret), quote!(value)));
        }
        if let Some(b) = find(&[From::Object]) {
            let sig =
                quote!(visit_map<A: #rt::serde::de::MapAccess<'de>>(self, map: A) -> #result<Self::Value, A::Error>);
            let value = decode(b, quote!(#rt::serde::de::value::MapAccessDeserializer::new(map)));
            out.extend(self.visit_method(name, b, sig, value));
        }
        if let Some(b) = find(&[From::Array]) {
            let sig =
                quote!(visit_seq<A: #rt::serde::de::SeqAccess<'de>>(self, seq: A) -> #result<Self::Value, A::Error>);
            let value = decode(b, quote!(#rt::serde::de::value::SeqAccessDeserializer::new(seq)));
            out.extend(self.visit_method(name, b, sig, value));
        }
        out
    }

    /// A visitor method `fn sig { Ok(Name::Branch(value)) }` (no value for
    /// a `null` branch).
    fn visit_method(&self, name: &Ident, b: &Branch, sig: TokenStream, value: TokenStream) -> TokenStream {
        let result = self.paths().result;
        let Branch { ident, guard, .. } = b;
        let value = match b.from {
            From::Null => TokenStream::new(),
            _ if b.boxed => quote!((::std::boxed::Box::new(#value))),
            _ => quote!((#value)),
        };
        quote! {
            #guard
            fn #sig {
                #result::Ok(#name::#ident #value)
            }
        }
    }
}
