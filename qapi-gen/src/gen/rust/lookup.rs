//! Commands and events by wire name: `COMMANDS` and `EVENTS`, tables of
//! the runtime's `CommandSpec` and `EventSpec` in schema order, and
//! `command(name)` and `event(name)` looking them up. For tools that take
//! names from people or from the wire (a QMP shell, an event logger).
//! Entries carry the `#[cfg]` of their command or event.

use proc_macro2::TokenStream;
use quote::quote;

use super::methods::Shape;
use super::{Cx, GenError};

impl Cx<'_> {
    /// The tables and their lookup functions.
    pub(super) fn lookup(&self) -> Result<TokenStream, GenError> {
        let rt = self.paths().rt;
        let option = self.paths().option;
        let mut commands = Vec::new();
        for (e, c) in self.schema.commands() {
            let Some(guard) = self.api_guard(e, &[c.arg_type, c.ret_type]) else { continue };
            let (wire, rust, flags) = (&e.name, self.name(e.id), self.flags(c));
            let arguments = match self.shape(c)? {
                Shape::None => quote!(None),
                Shape::Optional(_) => quote!(Optional),
                Shape::Required => quote!(Required),
            };
            let (deprecated, unstable) = (self.is_deprecated(&e.features), self.has_feature(&e.features, "unstable"));
            commands.push(quote! {
                #guard
                #rt::CommandSpec {
                    name: #wire,
                    rust_name: #rust,
                    flags: #flags,
                    arguments: #rt::ArgumentsKind::#arguments,
                    deprecated: #deprecated,
                    unstable: #unstable,
                },
            });
        }
        let mut events = Vec::new();
        for (e, ev) in self.schema.events() {
            let Some(guard) = self.api_guard(e, &[ev.arg_type]) else { continue };
            let (wire, rust, has_data) = (&e.name, self.event_payload(e, ev), ev.arg_type.is_some());
            let (deprecated, unstable) = (self.is_deprecated(&e.features), self.has_feature(&e.features, "unstable"));
            events.push(quote! {
                #guard
                #rt::EventSpec {
                    name: #wire,
                    rust_name: #rust,
                    has_data: #has_data,
                    deprecated: #deprecated,
                    unstable: #unstable,
                },
            });
        }
        Ok(quote! {
            /// Every command of the schema that this code has, in schema
            /// order: its wire name, Rust type, flags and arguments.
            pub static COMMANDS: &[#rt::CommandSpec] = &[#(#commands)*];

            /// The command called `name` on the wire, if this code has it.
            pub fn command(name: &str) -> #option<&'static #rt::CommandSpec> {
                COMMANDS.iter().find(|c| c.name == name)
            }

            /// Every event of the schema that this code has, in schema
            /// order: its wire name and Rust type (the payload of its
            /// variant of `Event`, which decodes it by name).
            pub static EVENTS: &[#rt::EventSpec] = &[#(#events)*];

            /// The event called `name` on the wire, if this code has it.
            pub fn event(name: &str) -> #option<&'static #rt::EventSpec> {
                EVENTS.iter().find(|e| e.name == name)
            }
        })
    }
}
