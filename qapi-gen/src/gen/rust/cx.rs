//! What the generators share: the schema, the options, the Rust name of
//! every definition and the Rust type of every QAPI type.

use std::collections::{HashMap, HashSet};

use proc_macro2::{Ident, TokenStream};
use quote::{quote, ToTokens as _};

use super::versions::Versions;
use super::{boxing, names, presence, GenError, Mode, Options};
use crate::model::{Builtin, Entity, EntityId, EntityKind, Event};
use crate::Schema;

/// Who introduced an implicit object type.
#[derive(Debug, Clone, Copy)]
pub(super) enum Owner {
    Command(EntityId),
    Event(EntityId),
}

/// The paths generated code names most often.
pub(super) struct Paths {
    /// The runtime crate, as [`Options::runtime_path`] gives it.
    pub rt: TokenStream,
    /// `::core::option::Option`.
    pub option: TokenStream,
    /// `::core::result::Result`.
    pub result: TokenStream,
    /// `::std::string::String`.
    pub string: TokenStream,
}

/// What the generators share.
pub(crate) struct Cx<'a> {
    pub(super) schema: &'a Schema,
    pub(super) opts: &'a Options,
    /// The runtime path given in the options, white space removed.
    rt_path: String,
    /// The Rust name of each entity that gets one.
    names: HashMap<EntityId, String>,
    /// Implicit argument types and who uses them.
    pub(super) owners: HashMap<EntityId, Owner>,
    /// Member/branch edges (container, contained type) that are boxed.
    boxed: HashSet<(EntityId, EntityId)>,
    /// Whether a client reads values of each type ([`presence::read_types`]).
    pub(super) read_types: Vec<bool>,
    /// What the older versions a client also reads change.
    pub(super) versions: Versions,
}

impl<'a> Cx<'a> {
    pub(super) fn new(schema: &'a Schema, opts: &'a Options) -> Result<Self, GenError> {
        let rt_path = names::rust_path(&opts.runtime_path)
            .filter(|p| syn::parse_str::<syn::Path>(p).is_ok())
            .ok_or_else(|| GenError::RuntimePath(opts.runtime_path.clone()))?;
        if opts.mode == Mode::Server && !opts.also_reads.is_empty() {
            return Err(GenError::AlsoReadsServer);
        }
        if !names::is_identifier(&opts.cfg_key) || syn::parse_str::<Ident>(&opts.cfg_key).is_err() {
            return Err(GenError::CfgKey(opts.cfg_key.clone()));
        }
        let mut cx = Cx {
            schema,
            opts,
            rt_path,
            names: HashMap::new(),
            owners: HashMap::new(),
            boxed: boxing::boxed_edges(schema),
            read_types: presence::read_types(schema),
            versions: Versions::new(schema, &opts.also_reads),
        };
        for e in schema.entities() {
            let (arg, owner) = match &e.kind {
                EntityKind::Command(c) => (c.arg_type, Owner::Command(e.id)),
                EntityKind::Event(ev) => (ev.arg_type, Owner::Event(e.id)),
                _ => continue,
            };
            if let Some(a) = arg.filter(|&a| schema[a].name.starts_with("q_obj_")) {
                cx.owners.insert(a, owner);
            }
        }
        cx.assign_names()?;
        Ok(cx)
    }

    /// Names every generated item, reporting clashes.
    fn assign_names(&mut self) -> Result<(), GenError> {
        let mut taken: HashMap<String, String> = HashMap::new();
        let mut claim = |rust: String, qapi: String| -> Result<String, GenError> {
            if let Some(first) = taken.get(&rust) {
                return Err(GenError::Clash { rust, first: first.clone(), second: qapi, scope: String::new() });
            }
            let id = names::ident(&rust);
            taken.insert(rust, qapi);
            Ok(id)
        };
        claim("Event".into(), "the enum of all events".into())?;
        match self.opts.mode {
            Mode::Client => {
                claim("Commands".into(), "the trait of command methods".into())?;
                claim("BlockingCommands".into(), "the trait of blocking command methods".into())?;
            }
            Mode::Server => {
                claim("CommandServer".into(), "the server trait".into())?;
                claim("CommandDispatcher".into(), "the dispatcher".into())?;
            }
        }
        for e in self.schema.entities() {
            if let EntityKind::Object(o) = &e.kind {
                if self.is_plain_type(e) && o.is_union() && !self.union_is_enum(e) {
                    let branch = format!("{}Branch", names::type_name(&e.name));
                    claim(branch, format!("the branches of union '{}'", e.name))?;
                }
            }
            if let Some((rust, qapi)) = self.item_name(e) {
                let id = claim(rust, qapi)?;
                self.names.insert(e.id, id);
            }
        }
        Ok(())
    }

    /// The Rust name of the item an entity generates, if any, and what it
    /// is for messages.
    fn item_name(&self, e: &Entity) -> Option<(String, String)> {
        let camel = |name: &str, suffix: &str| format!("{}{suffix}", names::camel(name));
        match &e.kind {
            EntityKind::Enum(_) | EntityKind::Alternate(_) if !e.is_builtin() => {
                Some((names::type_name(&e.name), format!("type '{}'", e.name)))
            }
            EntityKind::Object(_) if self.is_plain_type(e) => {
                Some((names::type_name(&e.name), format!("type '{}'", e.name)))
            }
            EntityKind::Object(_) => match self.owners.get(&e.id) {
                Some(Owner::Command(c)) => {
                    let c = &self.schema[*c];
                    Some((camel(&c.name, "Arguments"), format!("the arguments of '{}'", c.name)))
                }
                Some(Owner::Event(ev)) => {
                    let ev = &self.schema[*ev];
                    Some((camel(&ev.name, "Event"), format!("event '{}'", ev.name)))
                }
                None => None,
            },
            EntityKind::Command(_) => Some((camel(&e.name, "Command"), format!("command '{}'", e.name))),
            EntityKind::Event(ev) => match ev.arg_type.and_then(|a| self.owners.get(&a)) {
                Some(_) => None,
                None => Some((camel(&e.name, "Event"), format!("event '{}'", e.name))),
            },
            _ => None,
        }
    }

    pub(super) fn entity_count(&self) -> usize {
        self.schema.entities().len()
    }

    /// An object type generated as a type of its own: not `q_empty`, not an
    /// implicit base or argument type.
    pub(super) fn is_plain_type(&self, e: &Entity) -> bool {
        matches!(e.kind, EntityKind::Object(_)) && !e.name.starts_with("q_")
    }

    /// The Rust name of an entity.
    pub(super) fn name(&self, id: EntityId) -> String {
        match self.names.get(&id) {
            Some(n) => n.clone(),
            None => names::ident(&names::type_name(&self.schema[id].name)),
        }
    }

    /// The Rust name of an entity, as an identifier.
    pub(super) fn ident(&self, id: EntityId) -> Ident {
        names::to_ident(&self.name(id))
    }

    /// The name of the branch enum of a union generated as a struct.
    pub(super) fn branch_name(&self, e: &Entity) -> Ident {
        names::to_ident(&names::ident(&format!("{}Branch", names::type_name(&e.name))))
    }

    /// A union whose base has no member but the discriminator: generated
    /// as a Rust enum.
    pub(super) fn union_is_enum(&self, e: &Entity) -> bool {
        let Some(obj) = e.as_object() else { return false };
        let Some(b) = &obj.branches else { return false };
        obj.all_members(self.schema).all(|m| m.name == b.tag.name || self.member_guard(m).is_none())
    }

    pub(super) fn is_boxed(&self, container: EntityId, id: EntityId) -> bool {
        self.boxed.contains(&(container, id))
    }

    /// Client or server: a server refuses what it does not know.
    pub(super) fn strict(&self) -> bool {
        self.opts.mode == Mode::Server
    }

    /// The `Since:` of a definition (for implicit types, the command's or
    /// event's).
    pub(super) fn since_of(&self, e: &Entity) -> Option<String> {
        e.doc.as_ref().and_then(|d| d.since()).map(str::to_owned)
    }

    /// The Rust name of an event's payload type.
    pub(super) fn event_payload(&self, e: &Entity, ev: &Event) -> String {
        match ev.arg_type.filter(|a| matches!(self.owners.get(a), Some(Owner::Event(_)))) {
            Some(a) => self.name(a),
            None => self.name(e.id),
        }
    }

    // ---- paths and types ------------------------------------------------

    /// The paths generated code names most often, in full (as prost
    /// writes them): generated code needs nothing from the module that
    /// includes it, and neither QAPI types like `String` nor the module's
    /// own items get in their way. (Derives name their macros bare:
    /// derive macros live in the macro namespace, where no generated item
    /// goes, so a QAPI type called `Debug` does not shadow them.)
    pub(super) fn paths(&self) -> Paths {
        Paths {
            rt: names::path(&self.rt_path),
            option: quote!(::core::option::Option),
            result: quote!(::core::result::Result),
            string: quote!(::std::string::String),
        }
    }

    /// The Rust type of values of type `id`.
    pub(super) fn ty(&self, id: EntityId) -> TokenStream {
        let e = &self.schema[id];
        let Paths { rt, string, .. } = self.paths();
        match &e.kind {
            EntityKind::Builtin(b) => match b {
                Builtin::Str => string,
                Builtin::Number => quote!(f64),
                Builtin::Int | Builtin::Int64 => quote!(i64),
                Builtin::Int8 => quote!(i8),
                Builtin::Int16 => quote!(i16),
                Builtin::Int32 => quote!(i32),
                Builtin::Uint8 => quote!(u8),
                Builtin::Uint16 => quote!(u16),
                Builtin::Uint32 => quote!(u32),
                Builtin::Uint64 | Builtin::Size => quote!(u64),
                Builtin::Bool => quote!(bool),
                Builtin::Any => quote!(#rt::serde_json::Value),
                Builtin::Null => quote!(()),
            },
            EntityKind::Array(a) => {
                let element = self.ty(a.element);
                quote!(::std::vec::Vec<#element>)
            }
            _ => self.ident(id).into_token_stream(),
        }
    }

    /// The type of a member or branch of `container` holding `id`, boxed
    /// where it closes a cycle.
    pub(super) fn held_ty(&self, container: EntityId, id: EntityId) -> TokenStream {
        let t = self.ty(id);
        if self.is_boxed(container, id) {
            quote!(::std::boxed::Box<#t>)
        } else {
            t
        }
    }

    // ---- the module's items ----------------------------------------------

    /// The items for the entities in `start..end`.
    pub(super) fn entity_items(&self, start: usize, end: usize) -> Result<TokenStream, GenError> {
        let mut out = TokenStream::new();
        for e in self.schema.entities().skip(start).take(end - start) {
            out.extend(match &e.kind {
                EntityKind::Enum(en) if !e.is_builtin() => self.enum_type(e, en)?,
                EntityKind::Object(obj) if self.is_plain_type(e) => self.object_type(e, obj)?,
                EntityKind::Alternate(alt) => self.alternate(e, alt)?,
                EntityKind::Command(c) => self.command(e, c)?,
                EntityKind::Event(ev) => self.event(e, ev)?,
                _ => TokenStream::new(),
            });
        }
        Ok(out)
    }

    /// The items after the entities': the event enum, the lookup tables,
    /// in client mode the traits of command methods, in server mode the
    /// server trait and dispatcher, and the introspection.
    pub(super) fn trailing_items(&self) -> Result<TokenStream, GenError> {
        let mut out = self.event_enum()?;
        out.extend(self.lookup()?);
        match self.opts.mode {
            Mode::Client => out.extend(self.client_traits()?),
            Mode::Server => out.extend(self.server()?),
        }
        out.extend(self.introspection()?);
        Ok(out)
    }
}
