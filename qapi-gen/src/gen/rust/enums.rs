//! Enums: a Rust enum of CamelCase variants with `as_str()` /
//! `from_wire()`, serde impls through them, and in client mode a variant
//! keeping the values this side does not know.

use std::collections::HashSet;

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::cond::Deprecation;
use super::names::{self, Scope};
use super::{doc, lints, rustdoc, Cx, GenError};
use crate::model::{Entity, EnumType};

/// A value of an enum as generated.
struct Value {
    guard: TokenStream,
    ident: Ident,
    wire: String,
}

/// The name of the variant keeping unknown values, one that no value of
/// the enum takes.
pub(super) fn fallback_name(en: &EnumType) -> Ident {
    let taken: HashSet<String> = en.values.iter().map(|v| names::camel(&v.name)).collect();
    let name = ["Unknown", "UnknownValue", "Other", "UnknownQapiValue"]
        .into_iter()
        .find(|n| !taken.contains(*n))
        .unwrap_or("UnknownQapiValue");
    format_ident!("{name}")
}

impl Cx<'_> {
    pub(super) fn enum_type(&self, e: &Entity, en: &EnumType) -> Result<TokenStream, GenError> {
        let Some(guard) = self.type_guard(e.id) else { return Ok(TokenStream::new()) };
        let name = self.ident(e.id);
        // Only a client keeps unknown values.
        let fallback = (!self.strict()).then(|| fallback_name(en));
        let mut scope = Scope::new(&e.name);
        let mut values = Vec::new();
        let mut variants = Vec::new();
        for v in &en.values {
            let Some(g) = self.guard(&[v.cond.as_ref()], self.has_feature(&v.features, "unstable")) else {
                continue;
            };
            let text = names::camel(&v.name);
            scope.claim(&text, &v.name)?;
            let ident = names::to_ident(&names::ident(&text));
            let mut lines = v.doc().map(|s| doc::render(&s.text)).unwrap_or_default();
            self.feature_docs(&v.features, &mut lines);
            if let Some(note) = self.cond_note(&[v.cond.as_ref()], e.cond.as_ref()) {
                rustdoc::push_line(&mut lines, &note);
            }
            let docs = rustdoc::attrs(&lines);
            let dep = self.deprecated(&v.features);
            variants.push(quote!(#docs #g #dep #ident,));
            values.push(Value { guard: g, ident, wire: v.name.clone() });
        }
        let docs = rustdoc::attrs(&self.entity_docs(e));
        let dep = self.deprecated(&e.features);
        let deprecation = Deprecation {
            itself: self.is_deprecated(&e.features),
            parts: en.values.iter().any(|v| self.is_deprecated(&v.features)),
            types: false,
        };
        let string = self.paths().string;
        let derive = if fallback.is_some() {
            quote!(Debug, Clone, PartialEq, Eq, Hash)
        } else {
            quote!(Debug, Clone, Copy, PartialEq, Eq, Hash)
        };
        let fallback_variant = fallback.as_ref().map(|f| {
            quote! {
                /// A value this side does not know, kept as received.
                #f(#string),
            }
        });
        let none = TokenStream::new();
        let idents = values.iter().map(|v| (&v.ident, &v.guard)).chain(fallback.iter().map(|f| (f, &none)));
        let allow = lints::allow(&[("enum_variant_names", lints::enum_variant_names(&name, idents))]);
        let mut out = quote! {
            #docs
            #guard
            #dep
            #[derive(#derive)]
            #allow
            pub enum #name {
                #(#variants)*
                #fallback_variant
            }
        };
        out.extend(self.enum_methods(&guard, deprecation, &name, &values, fallback.as_ref()));
        out.extend(self.enum_serde(e, &guard, deprecation, &name, fallback.as_ref()));
        if self.opts.json_codec {
            out.extend(self.codec_enum(&name, &guard, deprecation, fallback.as_ref()));
        }
        Ok(out)
    }

    /// `as_str()` and `from_wire()`.
    fn enum_methods(
        &self,
        guard: &TokenStream,
        dep: Deprecation,
        name: &Ident,
        values: &[Value],
        fallback: Option<&Ident>,
    ) -> TokenStream {
        let option = self.paths().option;
        let as_str = if values.is_empty() && fallback.is_none() {
            quote!(match *self {})
        } else {
            let arms = values.iter().map(|Value { guard, ident, wire }| quote!(#guard Self::#ident => #wire,));
            let fallback = fallback.map(|f| quote!(Self::#f(ref value) => value,));
            quote!(match *self { #(#arms)* #fallback })
        };
        let from_wire = if values.is_empty() {
            quote! {
                let _ = value;
                #option::None
            }
        } else {
            let arms =
                values.iter().map(|Value { guard, ident, wire }| quote!(#guard #wire => #option::Some(Self::#ident),));
            quote!(match value { #(#arms)* _ => #option::None, })
        };
        let allow = dep.body();
        quote! {
            #guard
            #allow
            impl #name {
                /// The wire name of the value.
                #[inline]
                pub fn as_str(&self) -> &str {
                    #as_str
                }
                /// The value with wire name `value`, if this code knows it.
                #[inline]
                pub fn from_wire(value: &str) -> #option<Self> {
                    #from_wire
                }
            }
        }
    }

    /// What decoding does with a value it does not know: keep it in
    /// `fallback` (`Some(Self::Unknown)`), or refuse it (`None`).
    pub(super) fn keep_unknown(&self, fallback: Option<&Ident>) -> TokenStream {
        let option = self.paths().option;
        match fallback {
            Some(f) => quote!(#option::Some(Self::#f)),
            None => quote!(#option::None),
        }
    }

    /// `Serialize`, `Deserialize` and `Display` through the wire name.
    fn enum_serde(
        &self,
        e: &Entity,
        guard: &TokenStream,
        dep: Deprecation,
        name: &Ident,
        fallback: Option<&Ident>,
    ) -> TokenStream {
        let rt = self.paths().rt;
        let keep = self.keep_unknown(fallback);
        let qapi_name = &e.name;
        let mut out = self.serialize_impl(guard, dep, name, quote!(serializer.serialize_str(self.as_str())));
        out.extend(self.deserialize_impl(
            guard,
            dep.header(),
            name,
            quote!(#rt::types::deserialize_enum(deserializer, #qapi_name, Self::from_wire, #keep)),
        ));
        let allow = dep.header();
        out.extend(quote! {
            #guard
            #allow
            impl ::core::fmt::Display for #name {
                #[inline]
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.write_str(self.as_str())
                }
            }
        });
        out
    }
}
