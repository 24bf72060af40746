//! Client mode: a method per command, `client.query_status().await?`, in
//! two extension traits: `Commands` for every `Execute` of the runtime
//! (the async QMP and guest agent clients) and `BlockingCommands` for
//! every `BlockingExecute`. Each method runs the command's type through
//! the runtime trait, so it is exactly `execute::<QueryStatusCommand>`.
//!
//! The shape of a method follows the command's arguments:
//!
//! - none: `query_status()`;
//! - some required (or a union): `migrate_incoming(&arguments)`;
//! - every one optional: `migrate_set_parameters(&arguments)`, or
//!   `query_named_block_nodes(None)` to send none (the parameter is
//!   `impl Into<Option<&Arguments>>`).
//!
//! Why the arguments type rather than the members one by one: QAPI
//! arguments are named, and a struct keeps the names at the call site
//! (`new()` builds one from the required members; optional ones are set
//! by name), where positional parameters of the same type (`qom-get`'s two
//! strings) could be swapped unnoticed; a union or a boxed struct has no
//! members to spread; and an optional argument that a newer schema adds
//! changes no signature.
//!
//! Why commands whose arguments are all optional take them too, rather
//! than nothing (with a `_with` variant taking them): a third of those
//! commands do nothing useful without (in QEMU 10.2, 7 of 19: `migrate`,
//! `migrate-incoming` and `migrate-set-parameters` among them), and
//! QEMU makes required arguments optional over time (`migrate`'s `uri`
//! in 8.2), which must not move a call to another method. `None` keeps
//! the calls that send nothing short.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::cond::allow_deprecated;
use super::cx::Paths;
use super::names::{self, Scope};
use super::structs::Field;
use super::{doc, rustdoc, Cx, GenError};
use crate::model::{Command, Entity};

/// What a command takes, as the methods and the lookup table see it.
pub(super) enum Shape {
    /// No arguments at all.
    None,
    /// Arguments, every one optional. `fields` are the struct's, for a
    /// literal of nothing but `None`s (sent for `None`); `None` when the
    /// struct holds more than its members (`'gen': false`) and has no
    /// such literal: its methods take the arguments.
    Optional(Option<Vec<Field>>),
    /// Arguments, some required, or a union.
    Required,
}

/// A command's methods.
struct Method<'e> {
    e: &'e Entity,
    c: &'e Command,
    guard: TokenStream,
    ident: Ident,
    shape: Shape,
}

impl Cx<'_> {
    /// What command `c` takes. Members configured out (under a condition
    /// that does not hold) do not count.
    pub(super) fn shape(&self, c: &Command) -> Result<Shape, GenError> {
        let Some(a) = c.arg_type else { return Ok(Shape::None) };
        let ae = &self.schema[a];
        let Some(obj) = ae.as_object().filter(|o| !o.is_union()) else { return Ok(Shape::Required) };
        let members: Vec<_> = obj.all_members(self.schema).filter(|m| self.member_guard(m).is_some()).collect();
        // The schema's `*`, not the client's `Option`: a member the client
        // tolerates missing from a reply is still one the server needs.
        if members.iter().any(|m| !m.optional) {
            return Ok(Shape::Required);
        }
        if !c.gen {
            return Ok(Shape::Optional(None));
        }
        let fields = self.fields(a, members.into_iter(), None, &mut Scope::new(&ae.name))?;
        Ok(Shape::Optional(Some(fields)))
    }

    /// The commands that get methods, reporting clashes of method names.
    fn client_methods(&self) -> Result<Vec<Method<'_>>, GenError> {
        let mut scope = Scope::new("trait Commands");
        let mut methods = Vec::new();
        for (e, c) in self.schema.commands() {
            let Some(guard) = self.api_guard(e, &[c.arg_type, c.ret_type]) else { continue };
            let text = names::snake(&e.name);
            scope.claim(&text, &e.name)?;
            let shape = self.shape(c)?;
            methods.push(Method { e, c, guard, ident: names::to_ident(&names::ident(&text)), shape });
        }
        Ok(methods)
    }

    /// The `Commands` and `BlockingCommands` traits.
    pub(super) fn client_traits(&self) -> Result<TokenStream, GenError> {
        let rt = self.paths().rt;
        let methods = self.client_methods()?;
        let asyncs = methods.iter().map(|m| self.client_method(m, true));
        let blockings = methods.iter().map(|m| self.client_method(m, false));
        // The methods name deprecated commands and types, and build
        // arguments of deprecated members.
        let allow = allow_deprecated(methods.iter().any(|m| self.touches_deprecated(m)));
        Ok(quote! {
            /// The schema's commands as methods of every async client: of
            /// whatever implements the runtime's `Execute` (its QMP and
            /// guest agent clients). A command without arguments has a
            /// method without parameters; the others take their arguments
            /// type (see its `new()`), or `None` where every argument is
            /// optional.
            #allow
            pub trait Commands: #rt::Execute {
                #(#asyncs)*
            }

            #allow
            impl<T: #rt::Execute + ?::core::marker::Sized> Commands for T {}

            /// The schema's commands as methods of every blocking client (an
            /// implementation of the runtime's `BlockingExecute`), shaped as
            /// [`Commands`]' are.
            #allow
            pub trait BlockingCommands: #rt::BlockingExecute {
                #(#blockings)*
            }

            #allow
            impl<T: #rt::BlockingExecute + ?::core::marker::Sized> BlockingCommands for T {}
        })
    }

    /// Whether a command's methods touch something deprecated: the
    /// command's type, its arguments or return type, or the members an
    /// arguments literal names.
    fn touches_deprecated(&self, m: &Method<'_>) -> bool {
        let fields = match &m.shape {
            Shape::Optional(Some(fields)) => fields.iter().any(|f| f.deprecated),
            _ => false,
        };
        fields || self.is_deprecated(&m.e.features) || self.command_types_deprecated(m.e, m.c)
    }

    /// A command's method(s) for an async (`asynchronous`) or a blocking
    /// trait.
    fn client_method(&self, m: &Method<'_>, asynchronous: bool) -> TokenStream {
        let Paths { rt, result, option, .. } = self.paths();
        let name = self.ident(m.e.id);
        let ret = self.returns_ty(m.c);
        let output = quote!(#result<#ret, Self::Error>);
        let output = if asynchronous {
            quote!(impl ::core::future::Future<Output = #output> + ::core::marker::Send)
        } else {
            output
        };
        let trait_ = if asynchronous { quote!(#rt::Execute) } else { quote!(#rt::BlockingExecute) };
        let call = |args: TokenStream| quote!(<Self as #trait_>::execute::<#name>(self, #args));
        let (guard, dep, ident) = (&m.guard, self.deprecated(&m.e.features), &m.ident);
        let item = |docs: Vec<String>, param: TokenStream, args: TokenStream, named: bool| {
            let docs = rustdoc::attrs(&docs);
            let body = call(args);
            // `impl Into<Option<&T>>` needs its lifetime named.
            let (lifetime, this) =
                if named { (quote!(<'a>), quote!(&'a self)) } else { (TokenStream::new(), quote!(&self)) };
            quote! {
                #docs
                #guard
                #dep
                fn #ident #lifetime(#this #param) -> #output {
                    #body
                }
            }
        };
        let args_ty = self.args_ty(m.c);
        let taking = quote!(, arguments: &#args_ty);
        match &m.shape {
            Shape::None => item(self.method_docs(m, "."), TokenStream::new(), quote!(&#rt::NoArguments {}), false),
            Shape::Required | Shape::Optional(None) => {
                item(self.method_docs(m, " with `arguments`."), taking, quote!(arguments), false)
            }
            Shape::Optional(Some(fields)) => {
                let inits = fields.iter().map(|f| {
                    let Field { guard, ident, .. } = f;
                    quote!(#guard #ident: #option::None,)
                });
                // A literal of `None`s is a constant: the reference to it
                // is `'static` (promoted), so the future may hold it.
                let args = quote! {
                    #option::unwrap_or(::core::convert::Into::into(arguments), &#args_ty { #(#inits)* })
                };
                let param = quote!(, arguments: impl ::core::convert::Into<#option<&'a #args_ty>>);
                let docs = self.method_docs(m, " with `arguments`, or without any (`None`).");
                item(docs, param, args, true)
            }
        }
    }

    /// A method's docs: the first paragraph of the command's, which
    /// command it runs (`how`, the end of that sentence), when QEMU has
    /// it, and its `Since:`.
    fn method_docs(&self, m: &Method<'_>, how: &str) -> Vec<String> {
        let e = m.e;
        let mut lines: Vec<String> = match &e.doc {
            Some(d) => doc::render(&d.body.text).into_iter().take_while(|l| !l.is_empty()).collect(),
            None => Vec::new(),
        };
        if lines.first().is_some_and(|l| l.starts_with("```")) {
            lines.clear();
        }
        rustdoc::push_line(&mut lines, &format!("Runs [`{}`] (`{}`){how}", self.name(e.id), e.name));
        if let Some(note) = self.cond_note(&[e.cond.as_ref()], None) {
            rustdoc::push_line(&mut lines, &note);
        }
        let absent: Vec<&str> = self.versions.absent(e.id).iter().map(String::as_str).collect();
        if !absent.is_empty() {
            let since = e.doc.as_ref().and_then(|d| d.since());
            rustdoc::push_line(&mut lines, &super::versions::absent_line(&absent, since));
        }
        if let Some(since) = e.doc.as_ref().and_then(|d| d.since()) {
            rustdoc::push_line(&mut lines, &rustdoc::since_line(since));
        }
        lines
    }
}
