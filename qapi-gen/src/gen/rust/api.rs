//! Commands and events: `Command` / `Event` impls, the `Event` enum, the
//! server trait and its dispatcher.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use super::{doc, names, Cx, GenError, Head, Owner, Piece};
use crate::model::{Command, Entity, EntityId, Event};

fn lit(s: &str) -> Literal {
    Literal::string(s)
}

/// What the server trait and the event enum need of a command or event.
struct Api {
    ident: Ident,
    wire: String,
    guard: TokenStream,
    pred: Option<TokenStream>,
    docs: TokenStream,
    dep: TokenStream,
}

impl Cx<'_> {
    /// The conditions of a command or event: its own and its types'.
    fn api_pred(&self, e: &Entity, types: &[Option<EntityId>]) -> Option<Option<TokenStream>> {
        let mut conds = vec![e.cond.as_ref()];
        let mut unstable = self.has_feature(&e.features, "unstable");
        for t in types.iter().flatten() {
            conds.push(self.type_cond(*t));
            unstable |= self.type_unstable(*t);
        }
        self.pred(&conds, unstable)
    }

    fn api_guard(&self, e: &Entity, types: &[Option<EntityId>]) -> Option<TokenStream> {
        self.api_pred(e, types).map(|p| match p {
            Some(p) => quote!(#[cfg(#p)]),
            None => TokenStream::new(),
        })
    }

    /// [`Cx::api_guard`] as text (empty when unconditional; the item is
    /// known to be generated).
    fn api_guard_t(&self, e: &Entity, types: &[Option<EntityId>]) -> String {
        let mut conds = vec![e.cond.as_ref()];
        let mut unstable = self.has_feature(&e.features, "unstable");
        for t in types.iter().flatten() {
            conds.push(self.type_cond(*t));
            unstable |= self.type_unstable(*t);
        }
        self.guard_t(&conds, unstable).unwrap_or_default()
    }

    /// The arguments type of a command.
    fn args_ty(&self, c: &Command) -> TokenStream {
        let rt = &self.rt;
        match c.arg_type {
            None => quote!(#rt::NoArguments),
            Some(a) => {
                let n = self.name(a);
                quote!(#n)
            }
        }
    }

    fn returns_ty(&self, c: &Command) -> TokenStream {
        let rt = &self.rt;
        match c.ret_type {
            None => quote!(#rt::Empty),
            Some(r) => self.ty(r),
        }
    }

    pub(super) fn command(&self, e: &Entity, c: &Command) -> Result<Vec<Piece>, GenError> {
        let Some(guard) = self.api_guard(e, &[c.arg_type, c.ret_type]) else { return Ok(Vec::new()) };
        let rt = &self.rt;
        let name = self.name(e.id);
        let docs = doc::attrs(&self.entity_docs(e));
        let dep = self.deprecated(&e.features);
        let mut pieces = Vec::new();
        if let Some(a) = c.arg_type.filter(|a| matches!(self.owners.get(a), Some(Owner::Command(_)))) {
            let ae = &self.schema[a];
            if let Some(obj) = ae.as_object() {
                let mut lines = vec![format!("The arguments of command `{}`.", doc::prose(&e.name))];
                if let Some(since) = self.since_of(e) {
                    lines.push(String::new());
                    lines.push(format!("*Since: {}*", doc::prose(&since)));
                }
                let head = Head {
                    guard: self.api_guard_t(e, &[c.arg_type, c.ret_type]),
                    docs: lines,
                    dep: self.deprecated_t(&e.features),
                };
                let mut item_entity = ae.clone();
                item_entity.doc = e.doc.clone();
                let item = if c.gen {
                    self.struct_item(&item_entity, obj, &self.name(a), &head)?
                } else {
                    self.open_struct_item(&item_entity, obj, &self.name(a), &head)?
                };
                pieces.push(item);
            }
        }
        let args = self.args_ty(c);
        let ret = self.returns_ty(c);
        let wire = lit(&e.name);
        let (boxed, oob, success, preconfig, coroutine) =
            (c.boxed, c.allow_oob, c.success_response, c.allow_preconfig, c.coroutine);
        pieces.push(Piece::Tokens(quote! {
            #docs
            #guard
            #dep
            #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
            pub struct #name;

            #guard
            #[allow(deprecated)]
            impl #rt::Command for #name {
                const NAME: &'static str = #wire;
                const FLAGS: #rt::CommandFlags = #rt::CommandFlags {
                    boxed: #boxed,
                    allow_oob: #oob,
                    success_response: #success,
                    allow_preconfig: #preconfig,
                    coroutine: #coroutine,
                };
                type Arguments = #args;
                type Returns = #ret;
            }
        }));
        Ok(pieces)
    }

    /// The Rust name of an event's payload type.
    pub(super) fn event_payload(&self, e: &Entity, ev: &Event) -> Ident {
        match ev.arg_type.filter(|a| matches!(self.owners.get(a), Some(Owner::Event(_)))) {
            Some(a) => self.name(a),
            None => self.name(e.id),
        }
    }

    pub(super) fn event(&self, e: &Entity, ev: &Event) -> Result<Vec<Piece>, GenError> {
        let Some(guard) = self.api_guard(e, &[ev.arg_type]) else { return Ok(Vec::new()) };
        let rt = &self.rt;
        let name = self.event_payload(e, ev);
        let docs = doc::attrs(&self.entity_docs(e));
        let dep = self.deprecated(&e.features);
        let krate = lit(&format!("{}::serde", self.rt_str));
        let deny = if self.strict() { quote!(#[serde(deny_unknown_fields)]) } else { quote!() };
        let mut pieces = Vec::new();
        let mut out = TokenStream::new();
        match ev.arg_type {
            Some(a) if matches!(self.owners.get(&a), Some(Owner::Event(_))) => {
                let ae = &self.schema[a];
                if let Some(obj) = ae.as_object() {
                    let mut item_entity = ae.clone();
                    item_entity.doc = e.doc.clone();
                    let head = Head {
                        guard: self.api_guard_t(e, &[ev.arg_type]),
                        docs: self.entity_docs(e),
                        dep: self.deprecated_t(&e.features),
                    };
                    pieces.push(self.struct_item(&item_entity, obj, &name, &head)?);
                }
            }
            Some(a) => {
                let t = self.ty(a);
                out.extend(quote! {
                    #docs
                    #guard
                    #dep
                    #[derive(Debug, Clone, PartialEq, #rt::serde::Serialize, #rt::serde::Deserialize)]
                    #[serde(crate = #krate)]
                    #[allow(deprecated)]
                    pub struct #name(pub #t);
                });
            }
            None => {
                out.extend(quote! {
                    #docs
                    #guard
                    #dep
                    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, #rt::serde::Serialize, #rt::serde::Deserialize)]
                    #[serde(crate = #krate)]
                    #deny
                    pub struct #name {}
                });
            }
        }
        let wire = lit(&e.name);
        let variant = names::ident(&names::camel(&e.name));
        out.extend(quote! {
            #guard
            #[allow(deprecated)]
            impl #rt::Event for #name {
                const NAME: &'static str = #wire;
                type Data = Self;
            }

            #guard
            #[allow(deprecated)]
            impl ::core::convert::From<#name> for Event {
                fn from(event: #name) -> Self {
                    Event::#variant(event)
                }
            }
        });
        pieces.push(Piece::Tokens(out));
        Ok(pieces)
    }

    /// The `Event` enum over every event.
    pub(super) fn event_enum(&self) -> Result<TokenStream, GenError> {
        let rt = &self.rt;
        let mut seen = std::collections::HashMap::new();
        let mut variants = Vec::new();
        let mut name_arms = Vec::new();
        let mut decode_arms = Vec::new();
        let mut encode_arms = Vec::new();
        let mut events = Vec::new();
        for (e, ev) in self.schema.events() {
            let Some(pred) = self.api_pred(e, &[ev.arg_type]) else { continue };
            let text = names::camel(&e.name);
            if let Some(first) = seen.insert(text.clone(), e.name.clone()) {
                return Err(GenError::Clash {
                    rust: text,
                    first: format!("event '{first}'"),
                    second: format!("event '{}'", e.name),
                    scope: " in enum Event".into(),
                });
            }
            events.push((e, ev, pred, names::ident(&text)));
        }
        let fallback =
            if seen.contains_key("Unknown") { format_ident!("UnknownEvent") } else { format_ident!("Unknown") };
        for (e, ev, pred, variant) in &events {
            let guard = match pred {
                Some(p) => quote!(#[cfg(#p)]),
                None => TokenStream::new(),
            };
            let payload = self.event_payload(e, ev);
            let wire = lit(&e.name);
            let dep = self.deprecated(&e.features);
            let doc = lit(&format!(" `{}`", e.name));
            variants.push(quote! { #[doc = #doc] #guard #dep #variant(#payload), });
            name_arms.push(quote!(#guard Self::#variant(_) => #wire,));
            decode_arms.push(quote! {
                #guard #wire => Result_::Ok(Self::#variant(#rt::types::decode_data(data)?)),
            });
            let data = if ev.arg_type.is_some() {
                quote!(Option_::Some(#rt::serde_json::to_value(payload)?))
            } else {
                quote! { { let _ = payload; Option_::None } }
            };
            encode_arms.push(quote!(#guard Self::#variant(ref payload) => (#wire, #data),));
        }
        let unknown = quote! {
            Result_::Ok(Self::#fallback { name: ::std::borrow::ToOwned::to_owned(name), data })
        };
        let decode_body = if decode_arms.is_empty() {
            unknown
        } else {
            quote! {
                match name {
                    #(#decode_arms)*
                    _ => #unknown,
                }
            }
        };
        Ok(quote! {
            /// An event of the schema, or one this side does not know.
            #[derive(Debug, Clone, PartialEq)]
            #[allow(clippy::large_enum_variant, deprecated)]
            pub enum Event {
                #(#variants)*
                /// An event this side does not know: its name and data, as
                /// received.
                #fallback {
                    /// The event's name.
                    name: String_,
                    /// Its data, if it has any.
                    data: Option_<#rt::serde_json::Value>,
                },
            }

            #[allow(deprecated)]
            impl Event {
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
                // Inline, like generic code, it is compiled where it is used:
                // it instantiates the decoding of every event's data.
                #[inline]
                pub fn decode(name: &str, data: Option_<#rt::serde_json::Value>) -> Result_<Self, #rt::Error> {
                    #decode_body
                }

                /// The event's name and data (`None` for an event without
                /// data), for an event message.
                ///
                /// # Errors
                ///
                /// When the data doesn't serialize (it always does for the
                /// generated types).
                #[inline]
                pub fn encode(&self) -> Result_<(&str, Option_<#rt::serde_json::Value>), #rt::serde_json::Error> {
                    Result_::Ok(match *self {
                        #(#encode_arms)*
                        Self::#fallback { ref name, ref data } => (name.as_str(), ::core::clone::Clone::clone(data)),
                    })
                }
            }
        })
    }

    /// The server trait and the dispatcher.
    pub(super) fn server(&self) -> Result<TokenStream, GenError> {
        let rt = &self.rt;
        let mut seen = std::collections::HashMap::new();
        let mut methods = Vec::new();
        let mut arms = Vec::new();
        let mut infos = Vec::new();
        for (e, c) in self.schema.commands() {
            let Some(pred) = self.api_pred(e, &[c.arg_type, c.ret_type]) else { continue };
            let text = names::snake(&e.name);
            if let Some(first) = seen.insert(text.clone(), e.name.clone()) {
                return Err(GenError::Clash {
                    rust: text,
                    first: format!("command '{first}'"),
                    second: format!("command '{}'", e.name),
                    scope: " in trait CommandServer".into(),
                });
            }
            let api = Api {
                ident: names::ident(&text),
                wire: e.name.clone(),
                guard: match &pred {
                    Some(p) => quote!(#[cfg(#p)]),
                    None => TokenStream::new(),
                },
                pred,
                docs: doc::attrs(&self.entity_docs(e)),
                dep: self.deprecated(&e.features),
            };
            let Api { ident, guard, docs, dep, .. } = &api;
            let wire = lit(&api.wire);
            let ret = self.returns_ty(c);
            if c.arg_type.is_some() {
                let args = self.args_ty(c);
                methods.push(quote! {
                    #docs #guard #dep
                    fn #ident(&self, arguments: #args) -> Result_<#ret, #rt::Error> {
                        let _ = arguments;
                        Result_::Err(#rt::Error::command_not_found(#wire))
                    }
                });
                arms.push(quote! {
                    #guard #wire => #rt::types::encode_return(self.0.#ident(#rt::dispatch::decode_arguments(arguments)?)?),
                });
            } else {
                methods.push(quote! {
                    #docs #guard #dep
                    fn #ident(&self) -> Result_<#ret, #rt::Error> {
                        Result_::Err(#rt::Error::command_not_found(#wire))
                    }
                });
                arms.push(quote! {
                    #guard #wire => {
                        #rt::dispatch::decode_arguments::<#rt::NoArguments>(arguments)?;
                        #rt::types::encode_return(self.0.#ident()?)
                    }
                });
            }
            let on = match &api.pred {
                Some(p) => quote!(cfg!(#p)),
                None => quote!(true),
            };
            let (boxed, oob, success, preconfig, coroutine) =
                (c.boxed, c.allow_oob, c.success_response, c.allow_preconfig, c.coroutine);
            infos.push(quote! {
                (#on, #rt::dispatch::CommandInfo {
                    name: #wire,
                    flags: #rt::CommandFlags {
                        boxed: #boxed,
                        allow_oob: #oob,
                        success_response: #success,
                        allow_preconfig: #preconfig,
                        coroutine: #coroutine,
                    },
                }),
            });
        }
        let not_found = quote! {
            let _ = arguments;
            Result_::Err(#rt::Error::command_not_found(name))
        };
        // A schema without commands gets no `match` (clippy: match_single_binding).
        let body = if arms.is_empty() {
            not_found
        } else {
            quote! {
                match name {
                    #(#arms)*
                    _ => { #not_found }
                }
            }
        };
        Ok(quote! {
            /// The schema's commands as a server implements them: one method
            /// per command. A method not implemented answers
            /// `CommandNotFound`, so a server implements what it supports.
            #[allow(deprecated)]
            pub trait CommandServer: ::core::marker::Send + ::core::marker::Sync + 'static {
                #(#methods)*
            }

            /// Runs the commands of a `CommandServer`: decodes arguments
            /// (errors name the member at fault, as QEMU words them), calls
            /// the method and encodes what it returns.
            #[derive(Debug, Clone, Default)]
            pub struct CommandDispatcher<S>(pub S);

            #[allow(deprecated)]
            impl<S: CommandServer> #rt::dispatch::Dispatcher for CommandDispatcher<S> {
                fn commands(&self) -> &[#rt::dispatch::CommandInfo] {
                    static COMMANDS: ::std::sync::OnceLock<::std::vec::Vec<#rt::dispatch::CommandInfo>> = ::std::sync::OnceLock::new();
                    COMMANDS.get_or_init(|| {
                        let all: &[(bool, #rt::dispatch::CommandInfo)] = &[#(#infos)*];
                        all.iter().filter(|c| c.0).map(|c| c.1).collect()
                    })
                }

                fn dispatch(
                    &self,
                    name: &str,
                    arguments: Option_<#rt::serde_json::Value>,
                ) -> Result_<#rt::serde_json::Value, #rt::Error> {
                    #body
                }
            }
        })
    }
}
