//! The serde impls every kind of type shares the shape of: `Serialize`,
//! `Deserialize` (directly or through a local visitor) and the runtime's
//! `ObjectMembers`, each under the type's `#[cfg]`.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::cond::Deprecation;
use super::cx::Paths;
use super::Cx;

impl Cx<'_> {
    /// `impl Serialize for name`, whose `serialize` is `body` (which
    /// reads no member of a deprecated type).
    pub(super) fn serialize_impl(
        &self,
        guard: &TokenStream,
        dep: Deprecation,
        name: &Ident,
        body: TokenStream,
    ) -> TokenStream {
        let Paths { rt, result, .. } = self.paths();
        let allow = dep.header();
        quote! {
            #guard
            #allow
            impl #rt::serde::Serialize for #name {
                fn serialize<S: #rt::serde::Serializer>(
                    &self,
                    serializer: S,
                ) -> #result<S::Ok, S::Error> {
                    #body
                }
            }
        }
    }

    /// `impl Deserialize for name`, whose `deserialize` is `body`, with
    /// `allow` (`#[allow(deprecated)]` or nothing).
    pub(super) fn deserialize_impl(
        &self,
        guard: &TokenStream,
        allow: TokenStream,
        name: &Ident,
        body: TokenStream,
    ) -> TokenStream {
        let Paths { rt, result, .. } = self.paths();
        quote! {
            #guard
            #allow
            impl<'de> #rt::serde::Deserialize<'de> for #name {
                fn deserialize<D: #rt::serde::Deserializer<'de>>(
                    deserializer: D,
                ) -> #result<Self, D::Error> {
                    #body
                }
            }
        }
    }

    /// `impl Deserialize for name` through a local visitor whose methods
    /// are `visit`; `entry` is the `Deserializer` method to call.
    pub(super) fn visitor_impl(
        &self,
        guard: &TokenStream,
        dep: Deprecation,
        name: &Ident,
        expecting: &str,
        entry: &str,
        visit: TokenStream,
    ) -> TokenStream {
        let rt = self.paths().rt;
        let entry = Ident::new(entry, proc_macro2::Span::call_site());
        self.deserialize_impl(
            guard,
            dep.body(),
            name,
            quote! {
                struct Visitor;
                impl<'de> #rt::serde::de::Visitor<'de> for Visitor {
                    type Value = #name;
                    fn expecting(
                        &self,
                        f: &mut ::core::fmt::Formatter<'_>,
                    ) -> ::core::fmt::Result {
                        f.write_str(#expecting)
                    }
                    #visit
                }
                deserializer.#entry(Visitor)
            },
        )
    }

    /// `fn visit_map` of a visitor of `name`, whose body is `body`.
    pub(super) fn visit_map(&self, name: &Ident, body: TokenStream) -> TokenStream {
        let Paths { rt, result, .. } = self.paths();
        quote! {
            fn visit_map<A: #rt::serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> #result<#name, A::Error> {
                #body
            }
        }
    }

    /// `impl ObjectMembers for name`, whose `serialize_members` writes
    /// into `map` with `body` (`uses_map`: `body` names it), with `allow`
    /// (`#[allow(deprecated)]` or nothing).
    pub(super) fn object_members_impl(
        &self,
        guard: &TokenStream,
        allow: TokenStream,
        name: &Ident,
        uses_map: bool,
        body: TokenStream,
    ) -> TokenStream {
        let Paths { rt, result, .. } = self.paths();
        let map = if uses_map { quote!(map) } else { quote!(_map) };
        quote! {
            #guard
            #allow
            impl #rt::types::ObjectMembers for #name {
                fn serialize_members<M: #rt::serde::ser::SerializeMap>(
                    &self,
                    #map: &mut M,
                ) -> #result<(), M::Error> {
                    #body
                }
            }
        }
    }

    /// `ObjectMembers` with `body`, and `Serialize` through it: what a type
    /// serialized as a JSON object has.
    pub(super) fn object_serialize_impls(
        &self,
        guard: &TokenStream,
        dep: Deprecation,
        name: &Ident,
        uses_map: bool,
        body: TokenStream,
    ) -> TokenStream {
        let rt = self.paths().rt;
        let mut out = self.object_members_impl(guard, dep.body(), name, uses_map, body);
        out.extend(self.serialize_impl(guard, dep, name, quote!(#rt::types::serialize_object(self, serializer))));
        out
    }
}
