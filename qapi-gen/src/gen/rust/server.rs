//! Server mode: the `CommandServer` trait (one method per command,
//! answering `CommandNotFound` unless implemented) and
//! `CommandDispatcher`, the runtime's `Dispatcher` over it.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::cond::{allow_deprecated, cfg_attr, cfg_value};
use super::cx::Paths;
use super::{names, rustdoc, Cx, GenError};
use crate::model::{Command, Entity};

/// A command of the server trait.
struct Method<'e> {
    e: &'e Entity,
    c: &'e Command,
    /// Its `cfg` predicate, if it has one.
    pred: Option<TokenStream>,
    ident: Ident,
}

impl Method<'_> {
    fn guard(&self) -> TokenStream {
        cfg_attr(self.pred.clone())
    }
}

impl Cx<'_> {
    /// The commands that are generated, reporting clashes of their
    /// method names.
    fn server_methods(&self) -> Result<Vec<Method<'_>>, GenError> {
        let mut seen = std::collections::HashMap::new();
        let mut commands = Vec::new();
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
            commands.push(Method { e, c, pred, ident: names::to_ident(&names::ident(&text)) });
        }
        Ok(commands)
    }

    /// The server trait and the dispatcher.
    pub(super) fn server(&self) -> Result<TokenStream, GenError> {
        let commands = self.server_methods()?;
        let methods = commands.iter().map(|m| self.server_method(m));
        let commands_fn = self.dispatcher_commands(&commands);
        let dispatch_fn = self.dispatcher_dispatch(&commands);
        let rt = self.paths().rt;
        // The trait names the commands' types; the dispatcher also calls
        // the deprecated commands' methods.
        let types_deprecated = commands.iter().any(|m| self.command_types_deprecated(m.e, m.c));
        let trait_allow = allow_deprecated(types_deprecated);
        let dispatcher_allow =
            allow_deprecated(types_deprecated || commands.iter().any(|m| self.is_deprecated(&m.e.features)));
        Ok(quote! {
            /// The schema's commands as a server implements them: one method
            /// per command. A method not implemented answers
            /// `CommandNotFound`, so a server implements what it supports.
            #trait_allow
            pub trait CommandServer: ::core::marker::Send + ::core::marker::Sync + 'static {
                #(#methods)*
            }

            /// Runs the commands of a `CommandServer`: decodes arguments
            /// (errors name the member at fault, as QEMU words them), calls
            /// the method and encodes what it returns.
            #[derive(Debug, Clone, Default)]
            pub struct CommandDispatcher<S>(pub S);

            #dispatcher_allow
            impl<S: CommandServer> #rt::dispatch::Dispatcher for CommandDispatcher<S> {
                #commands_fn
                #dispatch_fn
            }
        })
    }

    /// A method of the server trait, answering `CommandNotFound`.
    fn server_method(&self, m: &Method<'_>) -> TokenStream {
        let Paths { rt, result, .. } = self.paths();
        let (ident, wire, c) = (&m.ident, &m.e.name, m.c);
        let docs = rustdoc::attrs(&self.entity_docs(m.e));
        let guard = m.guard();
        let dep = self.deprecated(&m.e.features);
        let ret = self.returns_ty(c);
        let (param, unused) = match c.arg_type {
            Some(_) => {
                let args = self.args_ty(c);
                (quote!(, arguments: #args), quote!(let _ = arguments;))
            }
            None => (TokenStream::new(), TokenStream::new()),
        };
        quote! {
            #docs
            #guard
            #dep
            fn #ident(&self #param) -> #result<#ret, #rt::Error> {
                #unused
                #result::Err(#rt::Error::command_not_found(#wire))
            }
        }
    }

    /// The dispatcher's `commands()`: every command generated, and those
    /// whose `cfg` holds.
    fn dispatcher_commands(&self, commands: &[Method<'_>]) -> TokenStream {
        let rt = self.paths().rt;
        let entries = commands.iter().map(|m| {
            let on = cfg_value(m.pred.as_ref());
            let (wire, flags) = (&m.e.name, self.flags(m.c));
            quote! {
                (
                    #on,
                    #rt::dispatch::CommandInfo {
                        name: #wire,
                        flags: #flags,
                    },
                ),
            }
        });
        quote! {
            fn commands(&self) -> &[#rt::dispatch::CommandInfo] {
                static COMMANDS: ::std::sync::OnceLock<::std::vec::Vec<#rt::dispatch::CommandInfo>> =
                    ::std::sync::OnceLock::new();
                COMMANDS.get_or_init(|| {
                    let all: &[(bool, #rt::dispatch::CommandInfo)] = &[#(#entries)*];
                    all.iter().filter(|c| c.0).map(|c| c.1).collect()
                })
            }
        }
    }

    /// The dispatcher's `dispatch()`: decodes the arguments, calls the
    /// method, encodes its return value.
    fn dispatcher_dispatch(&self, commands: &[Method<'_>]) -> TokenStream {
        let Paths { rt, option, result, .. } = self.paths();
        let not_found = quote! {
            let _ = arguments;
            #result::Err(#rt::Error::command_not_found(name))
        };
        // A schema without commands gets no `match` (clippy: match_single_binding).
        let body = if commands.is_empty() {
            not_found
        } else {
            let arms = commands.iter().map(|m| {
                let (guard, wire, ident) = (m.guard(), &m.e.name, &m.ident);
                if m.c.arg_type.is_some() {
                    quote! {
                        #guard
                        #wire => #rt::types::encode_return(self.0.#ident(#rt::dispatch::decode_arguments(arguments)?)?),
                    }
                } else {
                    quote! {
                        #guard
                        #wire => {
                            #rt::dispatch::decode_arguments::<#rt::NoArguments>(arguments)?;
                            #rt::types::encode_return(self.0.#ident()?)
                        }
                    }
                }
            });
            quote! {
                match name {
                    #(#arms)*
                    _ => {
                        #not_found
                    }
                }
            }
        };
        quote! {
            fn dispatch(
                &self,
                name: &str,
                arguments: #option<#rt::serde_json::Value>,
            ) -> #result<#rt::serde_json::Value, #rt::Error> {
                #body
            }
        }
    }
}
