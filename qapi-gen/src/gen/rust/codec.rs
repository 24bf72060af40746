//! The JSON codec impls (`Options::json_codec`): `Encode`,
//! `EncodeMembers` and `Decode` of `qapi_runtime::json` for every type.
//!
//! Structs and enums get code of their own, the hot path of QMP replies;
//! unions and alternates go through their serde impls inside the codec,
//! which keeps their QEMU dispatch rules in one place.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::cond::Deprecation;
use super::cx::Paths;
use super::structs::{index, slot, wire_names, Field, Init};
use super::Cx;

/// A member's `,"name":` as the codec writes it.
fn key_text(wire: &str) -> String {
    let json = serde_json::to_string(wire).unwrap_or_else(|_| format!("\"{wire}\""));
    format!(",{json}:")
}

impl Cx<'_> {
    /// `impl trait_ for name` under `guard` and `allow`, with `items`.
    fn codec_impl(
        &self,
        guard: &TokenStream,
        allow: TokenStream,
        trait_: &str,
        name: &Ident,
        items: TokenStream,
    ) -> TokenStream {
        let rt = self.paths().rt;
        let trait_ = Ident::new(trait_, proc_macro2::Span::call_site());
        quote! {
            #guard
            #allow
            impl #rt::json::#trait_ for #name {
                #items
            }
        }
    }

    /// `impl Encode for name` whose `encode` is `body` (which reads no
    /// member).
    fn encode_impl(&self, guard: &TokenStream, dep: Deprecation, name: &Ident, body: TokenStream) -> TokenStream {
        self.codec_impl(
            guard,
            dep.header(),
            "Encode",
            name,
            quote! {
                fn encode(&self, out: &mut ::std::vec::Vec<u8>) {
                    #body
                }
            },
        )
    }

    /// `impl Decode for name` whose `decode` is `body`, with `allow`.
    fn decode_impl(&self, guard: &TokenStream, allow: TokenStream, name: &Ident, body: TokenStream) -> TokenStream {
        let Paths { rt, result, .. } = self.paths();
        self.codec_impl(
            guard,
            allow,
            "Decode",
            name,
            quote! {
                fn decode(r: &mut #rt::json::Reader<'_>) -> #result<Self, #rt::json::Error> {
                    #body
                }
            },
        )
    }

    /// The codec impls of a struct of `fields`.
    pub(super) fn codec_struct(
        &self,
        name: &Ident,
        guard: &TokenStream,
        dep: Deprecation,
        fields: &[Field],
    ) -> TokenStream {
        let rt = self.paths().rt;
        let mut out = self.encode_impl(guard, dep, name, quote!(#rt::json::encode_object(self, out)));
        out.extend(self.codec_impl(guard, dep.body(), "EncodeMembers", name, self.encode_members(fields)));
        out.extend(self.decode_impl(guard, dep.body(), name, self.decode_struct(name, fields)));
        out
    }

    /// `encode_members` of a struct of `fields`.
    fn encode_members(&self, fields: &[Field]) -> TokenStream {
        let rt = self.paths().rt;
        if fields.is_empty() {
            return quote!(
                fn encode_members(&self, _out: &mut ::std::vec::Vec<u8>) {}
            );
        }
        // Every member may be configured out.
        let unused = fields.iter().any(|f| !f.guard.is_empty()).then(|| quote!(let _ = &out;));
        let writes = fields.iter().map(|f| {
            let Field { guard, ident, .. } = f;
            let write = if f.optional { quote!(write_optional) } else { quote!(write_member) };
            let key = key_text(&f.wire);
            quote!(#guard #rt::json::#write(out, #key, &self.#ident);)
        });
        quote! {
            fn encode_members(&self, out: &mut ::std::vec::Vec<u8>) {
                #unused
                #(#writes)*
            }
        }
    }

    /// The body of `decode` for a struct of `fields`.
    fn decode_struct(&self, name: &Ident, fields: &[Field]) -> TokenStream {
        let Paths { rt, option, result, .. } = self.paths();
        let strict = self.strict();
        if fields.is_empty() {
            return quote! {
                #rt::json::empty_object(r, #strict)?;
                #result::Ok(#name {})
            };
        }
        let members = wire_names(fields);
        let index_arms = fields.iter().enumerate().map(|(i, f)| {
            let (wire, i) = (&f.wire, index(i));
            quote!(#wire => #option::Some(#i),)
        });
        let lets = self.slot_lets(fields);
        let read_arms = fields.iter().enumerate().map(|(i, f)| {
            let (guard, wire, m, i) = (&f.guard, &f.wire, slot(i), index(i));
            quote!(#guard #i => #rt::json::read_member(r, &mut #m, #wire)?,)
        });
        let value = self.struct_lit(name, fields, Init::Read, None);
        quote! {
            const MEMBERS: &[&str] = #members;
            // For a member out of schema order: a `match` jumps on the name's
            // length and compares a name or two, where searching MEMBERS
            // would compare lengths one by one.
            fn index_(name: &str) -> #option<usize> {
                match name {
                    #(#index_arms)*
                    _ => #option::None,
                }
            }
            #lets
            let mut members = #rt::json::Members::new(r, MEMBERS, index_, #strict)?;
            while let #option::Some(i) = members.next(r)? {
                match i {
                    #(#read_arms)*
                    _ => members.unavailable(r, i)?,
                }
            }
            #result::Ok(#value)
        }
    }

    /// The codec impls of an enum; `fallback` is the variant keeping
    /// unknown values (client mode).
    pub(super) fn codec_enum(
        &self,
        name: &Ident,
        guard: &TokenStream,
        dep: Deprecation,
        fallback: Option<&Ident>,
    ) -> TokenStream {
        let rt = self.paths().rt;
        let keep = self.keep_unknown(fallback);
        let mut out = self.encode_impl(guard, dep, name, quote!(#rt::json::write_str(out, self.as_str())));
        out.extend(self.decode_impl(
            guard,
            dep.header(),
            name,
            quote!(#rt::json::read_enum(r, Self::from_wire, #keep)),
        ));
        out
    }

    /// The codec impls of a type whose serde impls do the work (unions,
    /// alternates).
    pub(super) fn codec_via_serde(&self, name: &Ident, guard: &TokenStream, dep: Deprecation) -> TokenStream {
        let rt = self.paths().rt;
        let mut out = self.encode_impl(guard, dep, name, quote!(#rt::json::write_serde(out, self)));
        out.extend(self.decode_impl(guard, dep.header(), name, quote!(#rt::json::read_serde(r))));
        out
    }

    /// The codec impls of a newtype struct (the payload of an event
    /// whose data is a named type): the inner value's. (It holds an
    /// object, so it keeps `Decode::LEAVES_ERROR`'s default.)
    pub(super) fn codec_newtype(&self, name: &Ident, guard: &TokenStream, dep: Deprecation) -> TokenStream {
        let rt = self.paths().rt;
        let mut out = self.encode_impl(guard, dep, name, quote!(#rt::json::Encode::encode(&self.0, out)));
        out.extend(self.decode_impl(guard, dep.header(), name, quote!(#rt::json::Decode::decode(r).map(Self))));
        out
    }
}
