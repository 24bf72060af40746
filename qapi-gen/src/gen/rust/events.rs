//! Events: a payload type per event implementing the runtime's `Event`
//! (its data's members, the named data type wrapped, or nothing), and the
//! `Event` enum of all of them, which keeps events it does not know.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::cond::{allow_deprecated, Deprecation};
use super::cx::{Owner, Paths};
use super::structs::Head;
use super::{lints, names, rustdoc, Cx, GenError};
use crate::model::{Entity, Event};

/// An event of the `Event` enum.
struct Variant<'e> {
    e: &'e Entity,
    ev: &'e Event,
    guard: TokenStream,
    ident: Ident,
    payload: Ident,
}

impl Cx<'_> {
    pub(super) fn event(&self, e: &Entity, ev: &Event) -> Result<TokenStream, GenError> {
        let Some(guard) = self.api_guard(e, &[ev.arg_type]) else { return Ok(TokenStream::new()) };
        let Paths { rt, .. } = self.paths();
        let name = names::to_ident(&self.event_payload(e, ev));
        let mut out = self.event_payload_type(e, ev, &guard, &name)?;
        let variant = names::to_ident(&names::ident(&names::camel(&e.name)));
        let wire = &e.name;
        let allow = allow_deprecated(self.is_deprecated(&e.features));
        out.extend(quote! {
            #guard
            #allow
            impl #rt::Event for #name {
                const NAME: &'static str = #wire;
                type Data = Self;
            }

            #guard
            #allow
            impl ::core::convert::From<#name> for Event {
                #[inline]
                fn from(event: #name) -> Self {
                    Event::#variant(event)
                }
            }
        });
        Ok(out)
    }

    /// The payload type of an event and its serde impls.
    fn event_payload_type(
        &self,
        e: &Entity,
        ev: &Event,
        guard: &TokenStream,
        name: &Ident,
    ) -> Result<TokenStream, GenError> {
        let dep = self.deprecated(&e.features);
        let deprecated = self.is_deprecated(&e.features);
        let docs = self.entity_docs(e);
        match ev.arg_type {
            Some(a) if matches!(self.owners.get(&a), Some(Owner::Event(_))) => {
                let ae = &self.schema[a];
                let Some(obj) = ae.as_object() else { return Ok(TokenStream::new()) };
                // The members are documented with the event.
                let mut item_entity = ae.clone();
                item_entity.doc = e.doc.clone();
                let head = Head { guard: guard.clone(), docs, dep, deprecated };
                self.struct_item(&item_entity, obj, name, &head)
            }
            Some(a) => {
                let docs = rustdoc::attrs(&docs);
                let field = self.ty(a);
                let allow = allow_deprecated(self.type_deprecated(a));
                let mut out = quote! {
                    #docs
                    #guard
                    #dep
                    #[derive(Debug, Clone, PartialEq)]
                    #allow
                    pub struct #name(pub #field);
                };
                out.extend(self.newtype_impls(guard, deprecated, name));
                if self.opts.json_codec {
                    out.extend(self.codec_newtype(
                        name,
                        guard,
                        Deprecation { itself: deprecated, ..Default::default() },
                    ));
                }
                Ok(out)
            }
            None => {
                let docs = rustdoc::attrs(&docs);
                let mut out = quote! {
                    #docs
                    #guard
                    #dep
                    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
                    pub struct #name {}
                };
                out.extend(self.empty_struct_impls(guard, deprecated, name));
                if self.opts.json_codec {
                    out.extend(self.codec_struct(
                        name,
                        guard,
                        Deprecation { itself: deprecated, ..Default::default() },
                        &[],
                    ));
                }
                Ok(out)
            }
        }
    }

    /// `Serialize` and `Deserialize` for the payload of an event whose
    /// data is a named type, as serde's derive makes them for a newtype
    /// struct: JSON has the inner value.
    fn newtype_impls(&self, guard: &TokenStream, deprecated: bool, name: &Ident) -> TokenStream {
        let rt = self.paths().rt;
        let lit = name.to_string();
        let dep = Deprecation { itself: deprecated, ..Deprecation::default() };
        let mut out = self.serialize_impl(guard, dep, name, quote!(serializer.serialize_newtype_struct(#lit, &self.0)));
        out.extend(self.deserialize_impl(
            guard,
            dep.header(),
            name,
            quote!(#rt::serde::Deserialize::deserialize(deserializer).map(Self)),
        ));
        out
    }

    /// The events that are generated, reporting clashes of their variant
    /// names.
    fn event_variants(&self) -> Result<Vec<Variant<'_>>, GenError> {
        let mut seen = std::collections::HashMap::new();
        let mut events = Vec::new();
        for (e, ev) in self.schema.events() {
            let Some(guard) = self.api_guard(e, &[ev.arg_type]) else { continue };
            let text = names::camel(&e.name);
            if let Some(first) = seen.insert(text.clone(), e.name.clone()) {
                return Err(GenError::Clash {
                    rust: text,
                    first: format!("event '{first}'"),
                    second: format!("event '{}'", e.name),
                    scope: " in enum Event".into(),
                });
            }
            let ident = names::to_ident(&names::ident(&text));
            events.push(Variant { e, ev, guard, ident, payload: names::to_ident(&self.event_payload(e, ev)) });
        }
        Ok(events)
    }

    /// The `Event` enum over every event.
    pub(super) fn event_enum(&self) -> Result<TokenStream, GenError> {
        let Paths { rt, option, string, .. } = self.paths();
        let events = self.event_variants()?;
        let fallback_ident = if events.iter().any(|v| v.ident == "Unknown") {
            format_ident!("UnknownEvent")
        } else {
            format_ident!("Unknown")
        };
        let fallback = quote!(#fallback_ident);
        let variants = events.iter().map(|Variant { e, guard, ident, payload, .. }| {
            let docs = rustdoc::attrs(&[format!("`{}`", e.name)]);
            let dep = self.deprecated(&e.features);
            quote!(#docs #guard #dep #ident(#payload),)
        });
        let methods = self.event_methods(&events, &fallback);
        // A deprecated event's payload type and variant are deprecated.
        let allow = allow_deprecated(events.iter().any(|v| self.is_deprecated(&v.e.features)));
        let none = TokenStream::new();
        let idents = events.iter().map(|v| (&v.ident, &v.guard)).chain([(&fallback_ident, &none)]);
        let names = lints::enum_variant_names(&format_ident!("Event"), idents);
        // Every event's data is held inline.
        let lints = lints::allow(&[("large_enum_variant", !events.is_empty()), ("enum_variant_names", names)]);
        Ok(quote! {
            /// An event of the schema, or one this side does not know.
            #[derive(Debug, Clone, PartialEq)]
            #lints
            #allow
            pub enum Event {
                #(#variants)*
                /// An event this side does not know: its name and data, as
                /// received.
                #fallback {
                    /// The event's name.
                    name: #string,
                    /// Its data, if it has any.
                    data: #option<#rt::serde_json::Value>,
                },
            }

            #allow
            impl Event {
                #methods
            }
        })
    }

    /// `name()`, `decode()` and `encode()` of the `Event` enum.
    fn event_methods(&self, events: &[Variant<'_>], fallback: &TokenStream) -> TokenStream {
        let Paths { rt, option, result, .. } = self.paths();
        let name_arms = events.iter().map(|Variant { e, guard, ident, .. }| {
            let wire = &e.name;
            quote!(#guard Self::#ident(_) => #wire,)
        });
        let unknown = quote! {
            #result::Ok(Self::#fallback {
                name: ::std::borrow::ToOwned::to_owned(name),
                data,
            })
        };
        let decode = if events.is_empty() {
            unknown
        } else {
            let arms = events.iter().map(|Variant { e, guard, ident, .. }| {
                let wire = &e.name;
                quote!(#guard #wire => #result::Ok(Self::#ident(#rt::types::decode_data(data)?)),)
            });
            quote!(match name { #(#arms)* _ => #unknown, })
        };
        let encode_arms = events.iter().map(|Variant { e, ev, guard, ident, .. }| {
            let wire = &e.name;
            let data = if ev.arg_type.is_some() {
                quote!(#option::Some(#rt::serde_json::to_value(payload)?))
            } else {
                quote! {
                    {
                        let _ = payload;
                        #option::None
                    }
                }
            };
            quote!(#guard Self::#ident(ref payload) => (#wire, #data),)
        });
        quote! {
            /// The event's wire name.
            pub fn name(&self) -> &str {
                match *self {
                    #(#name_arms)*
                    Self::#fallback { ref name, .. } => name,
                }
            }
            /// Decodes an event from an event message's `event` and `data`;
            /// an event this code doesn't know is kept as it is.
            ///
            /// # Errors
            ///
            /// When the data of a known event doesn't decode: the error
            /// names the member at fault.
            #[inline]
            pub fn decode(
                name: &str,
                data: #option<#rt::serde_json::Value>,
            ) -> #result<Self, #rt::Error> {
                #decode
            }
            /// The event's name and data (`None` for an event without
            /// data), for an event message.
            ///
            /// # Errors
            ///
            /// When the data doesn't serialize (it always does for the
            /// generated types).
            #[inline]
            pub fn encode(
                &self,
            ) -> #result<(&str, #option<#rt::serde_json::Value>), #rt::serde_json::Error> {
                #result::Ok(match *self {
                    #(#encode_arms)*
                    Self::#fallback { ref name, ref data } => {
                        (name.as_str(), ::core::clone::Clone::clone(data))
                    }
                })
            }
        }
    }
}
