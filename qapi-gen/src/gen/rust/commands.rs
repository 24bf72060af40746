//! Commands: a unit struct implementing the runtime's `Command` (its wire
//! name, flags, arguments and return types), after the arguments type of
//! a command whose arguments are written in place.

use proc_macro2::TokenStream;
use quote::quote;

use super::cond::allow_deprecated;
use super::cx::{Owner, Paths};
use super::structs::Head;
use super::{doc, rustdoc, Cx, GenError};
use crate::model::{Command, Entity};

impl Cx<'_> {
    /// The arguments type of a command.
    pub(super) fn args_ty(&self, c: &Command) -> TokenStream {
        let rt = self.paths().rt;
        match c.arg_type {
            None => quote!(#rt::NoArguments),
            Some(a) => {
                let name = self.ident(a);
                quote!(#name)
            }
        }
    }

    /// The return type of a command.
    pub(super) fn returns_ty(&self, c: &Command) -> TokenStream {
        let rt = self.paths().rt;
        match c.ret_type {
            None => quote!(#rt::Empty),
            Some(r) => self.ty(r),
        }
    }

    /// The arguments type of a command written in place (not a named
    /// type).
    fn implicit_args(&self, c: &Command) -> Option<crate::model::EntityId> {
        c.arg_type.filter(|a| matches!(self.owners.get(a), Some(Owner::Command(_))))
    }

    /// Whether a command's arguments or return type are deprecated
    /// (arguments written in place are as deprecated as the command).
    pub(super) fn command_types_deprecated(&self, e: &Entity, c: &Command) -> bool {
        let args = match c.arg_type {
            Some(_) if self.implicit_args(c).is_some() => self.is_deprecated(&e.features),
            Some(a) => self.type_deprecated(a),
            None => false,
        };
        args || c.ret_type.is_some_and(|r| self.type_deprecated(r))
    }

    /// The flags of a command, as a `CommandFlags` value.
    pub(super) fn flags(&self, c: &Command) -> TokenStream {
        let rt = self.paths().rt;
        let Command { boxed, allow_oob, success_response, allow_preconfig, coroutine, .. } = c;
        quote! {
            #rt::CommandFlags {
                boxed: #boxed,
                allow_oob: #allow_oob,
                success_response: #success_response,
                allow_preconfig: #allow_preconfig,
                coroutine: #coroutine,
            }
        }
    }

    pub(super) fn command(&self, e: &Entity, c: &Command) -> Result<TokenStream, GenError> {
        let Some(guard) = self.api_guard(e, &[c.arg_type, c.ret_type]) else { return Ok(TokenStream::new()) };
        let Paths { rt, .. } = self.paths();
        let name = self.ident(e.id);
        let dep = self.deprecated(&e.features);
        let mut out = self.command_arguments(e, c, &guard, &dep)?;
        let docs = rustdoc::attrs(&self.entity_docs(e));
        let wire = &e.name;
        let (flags, args, returns) = (self.flags(c), self.args_ty(c), self.returns_ty(c));
        let allow = allow_deprecated(self.is_deprecated(&e.features) || self.command_types_deprecated(e, c));
        out.extend(quote! {
            #docs
            #guard
            #dep
            #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
            pub struct #name;

            #guard
            #allow
            impl #rt::Command for #name {
                const NAME: &'static str = #wire;
                const FLAGS: #rt::CommandFlags = #flags;
                type Arguments = #args;
                type Returns = #returns;
            }
        });
        Ok(out)
    }

    /// The arguments type of a command whose arguments are written in
    /// place (empty for the others).
    fn command_arguments(
        &self,
        e: &Entity,
        c: &Command,
        guard: &TokenStream,
        dep: &TokenStream,
    ) -> Result<TokenStream, GenError> {
        let Some(a) = self.implicit_args(c) else {
            return Ok(TokenStream::new());
        };
        let ae = &self.schema[a];
        let Some(obj) = ae.as_object() else { return Ok(TokenStream::new()) };
        let mut docs = vec![format!("The arguments of command `{}`.", doc::prose(&e.name))];
        if let Some(since) = self.since_of(e) {
            docs.push(String::new());
            docs.push(format!("*Since: {}*", doc::prose(&since)));
        }
        let head = Head { guard: guard.clone(), docs, dep: dep.clone(), deprecated: self.is_deprecated(&e.features) };
        // The members are documented with the command.
        let mut item_entity = ae.clone();
        item_entity.doc = e.doc.clone();
        if c.gen {
            self.struct_item(&item_entity, obj, &self.ident(a), &head)
        } else {
            self.open_struct_item(&item_entity, obj, &self.ident(a), &head)
        }
    }
}
