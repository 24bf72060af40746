//! Structs: members in wire order (base members inlined), optional ones
//! as `Option` with `has_*` / `set_*`, serde impls written out (members
//! through `ObjectMembers`, decoding through the runtime's
//! `deserialize_struct`). Also the fields that unions and the JSON codec
//! share with structs.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use super::cond::Deprecation;
use super::cx::Paths;
use super::names::{self, Scope};
use super::{lints, rustdoc, Cx, GenError};
use crate::model::{Builtin, Entity, EntityId, EntityKind, Member, ObjectType};

/// A struct field (or union base member) as generated.
pub(super) struct Field {
    pub ident: Ident,
    /// The member's name on the wire.
    pub wire: String,
    /// The member's type (boxed if need be, no `Option`).
    pub held: TokenStream,
    /// The member's type, never boxed.
    pub inner: TokenStream,
    pub boxed: bool,
    pub optional: bool,
    /// The member is a `str` (a constructor takes `impl Into<String>`).
    pub string: bool,
    /// Its `#[cfg]`, empty when unconditional.
    pub guard: TokenStream,
    pub docs: Vec<String>,
    pub dep: TokenStream,
    /// The member is deprecated.
    pub deprecated: bool,
    /// Its type is deprecated.
    pub ty_deprecated: bool,
}

/// What comes before a type item: its `#[cfg]` (empty when
/// unconditional), doc lines and `#[deprecated]` (empty when not).
pub(super) struct Head {
    pub guard: TokenStream,
    pub docs: Vec<String>,
    pub dep: TokenStream,
    /// The item is deprecated.
    pub deprecated: bool,
}

/// How a struct literal's field gets its value from slot `i`.
#[derive(Clone, Copy)]
pub(super) enum Init {
    /// `self.mI` of the builder (`required(...)?` unless optional).
    SelfSlot,
    /// The local `mI` (`required(...)?` unless optional).
    Slot,
    /// The local `mI` read by the JSON codec (`required(r, ...)?`
    /// unless optional).
    Read,
}

/// The local (or builder field) holding member `i` while decoding.
pub(super) fn slot(i: usize) -> Ident {
    format_ident!("m{i}")
}

/// An index as an unsuffixed literal (`0`, not `0usize`).
pub(super) fn index(i: usize) -> Literal {
    Literal::usize_unsuffixed(i)
}

impl Cx<'_> {
    pub(super) fn object_type(&self, e: &Entity, obj: &ObjectType) -> Result<TokenStream, GenError> {
        let Some(guard) = self.type_guard(e.id) else { return Ok(TokenStream::new()) };
        let head = Head {
            guard,
            docs: self.entity_docs(e),
            dep: self.deprecated(&e.features),
            deprecated: self.is_deprecated(&e.features),
        };
        if obj.is_union() {
            return self.union(e, obj, &head);
        }
        self.struct_item(e, obj, &self.ident(e.id), &head)
    }

    /// The fields for `members` of type `container`.
    pub(super) fn fields<'m>(
        &self,
        container: EntityId,
        members: impl Iterator<Item = &'m Member>,
        since: Option<&str>,
        scope: &mut Scope<'_>,
    ) -> Result<Vec<Field>, GenError> {
        let mut out = Vec::new();
        for m in members {
            let Some(guard) = self.member_guard(m) else { continue };
            let text = names::snake(&m.name);
            scope.claim(&text, &m.name)?;
            // The one place a member's optionality is decided.
            let presence = self.presence(container, m);
            out.push(Field {
                ident: names::to_ident(&names::ident(&text)),
                wire: m.name.clone(),
                held: self.held_ty(container, m.ty),
                inner: self.ty(m.ty),
                boxed: self.is_boxed(container, m.ty),
                optional: m.optional || presence.tolerated,
                string: matches!(self.schema[m.ty].kind, EntityKind::Builtin(Builtin::Str)),
                guard,
                docs: self.member_docs(m, since, &presence.notes),
                dep: self.deprecated(&m.features),
                deprecated: self.is_deprecated(&m.features),
                ty_deprecated: self.type_deprecated(m.ty),
            });
        }
        Ok(out)
    }

    /// The fields of object type `e`'s members.
    fn all_fields(&self, e: &Entity, obj: &ObjectType, scope: &mut Scope<'_>) -> Result<Vec<Field>, GenError> {
        self.fields(e.id, obj.all_members(self.schema), self.since_of(e).as_deref(), scope)
    }

    /// A field declaration.
    pub(super) fn field_decl(&self, f: &Field) -> TokenStream {
        let Field { ident, held, guard, dep, .. } = f;
        let docs = rustdoc::attrs(&f.docs);
        let option = self.paths().option;
        let ty = if f.optional { quote!(#option<#held>) } else { held.clone() };
        quote!(#docs #guard #dep pub #ident: #ty,)
    }

    /// A struct's docs, attributes and declaration, with `extra` after
    /// the fields.
    fn struct_decl(&self, name: &Ident, head: &Head, fields: &[Field], extra: TokenStream) -> TokenStream {
        let Head { guard, dep, .. } = head;
        let allow = struct_deprecation(head, fields).decl();
        let docs = rustdoc::attrs(&head.docs);
        let derive = if fields.iter().all(|f| f.optional) {
            quote!(Debug, Clone, PartialEq, Default)
        } else {
            quote!(Debug, Clone, PartialEq)
        };
        let fields = fields.iter().map(|f| self.field_decl(f));
        quote! {
            #docs
            #guard
            #dep
            #[derive(#derive)]
            #allow
            pub struct #name {
                #(#fields)*
                #extra
            }
        }
    }

    /// A struct for object type `e` named `name`.
    pub(super) fn struct_item(
        &self,
        e: &Entity,
        obj: &ObjectType,
        name: &Ident,
        head: &Head,
    ) -> Result<TokenStream, GenError> {
        let fields = self.all_fields(e, obj, &mut Scope::new(&e.name))?;
        let guard = &head.guard;
        let dep = struct_deprecation(head, &fields);
        let result = self.paths().result;
        let mut out = self.struct_decl(name, head, &fields, TokenStream::new());
        let configured = fields.iter().any(|f| !f.guard.is_empty()).then(|| quote!(let _ = &map;));
        let entries = self.serialize_fields(&fields);
        out.extend(self.object_serialize_impls(
            guard,
            dep,
            name,
            !fields.is_empty(),
            quote! {
                #configured
                #entries
                #result::Ok(())
            },
        ));
        out.extend(self.struct_deserialize(name, guard, dep, &fields));
        out.extend(self.accessors(name, guard, dep, &fields));
        out.extend(self.constructor(name, guard, dep, &fields, TokenStream::new()));
        if self.opts.json_codec {
            out.extend(self.codec_struct(name, guard, dep, &fields));
        }
        Ok(out)
    }

    /// `new()` taking the required members of a struct of `fields` (in
    /// wire order; strings as `impl Into<String>`), the optional ones
    /// absent, and `tail` (initializers of fields beyond the members).
    /// None when every member is optional: the struct is `Default` then.
    pub(super) fn constructor(
        &self,
        name: &Ident,
        guard: &TokenStream,
        dep: Deprecation,
        fields: &[Field],
        tail: TokenStream,
    ) -> TokenStream {
        let required: Vec<&Field> = fields.iter().filter(|f| !f.optional).collect();
        if required.is_empty() {
            return TokenStream::new();
        }
        let Paths { option, string, .. } = self.paths();
        let params = required.iter().map(|f| {
            let Field { guard, ident, inner, .. } = f;
            let ty = if f.string { quote!(impl ::core::convert::Into<#string>) } else { inner.clone() };
            quote!(#guard #ident: #ty)
        });
        let inits = fields.iter().map(|f| {
            let Field { guard, ident, .. } = f;
            let value = match (f.optional, f.string, f.boxed) {
                (true, _, _) => quote!(#option::None),
                (false, true, _) => quote!(::core::convert::Into::into(#ident)),
                (false, false, true) => quote!(::std::boxed::Box::new(#ident)),
                (false, false, false) => return quote!(#guard #ident,),
            };
            quote!(#guard #ident: #value,)
        });
        let docs = rustdoc::attrs(&[format!(
            "A `{name}` from its required members, in schema order; the optional ones are absent."
        )]);
        let lints = lints::allow(&[
            // Past seven, clippy wants fewer parameters; the schema decides.
            ("too_many_arguments", required.len() > 7),
            // A build without every required member has a `new()` of nothing.
            ("new_without_default", required.iter().all(|f| !f.guard.is_empty())),
            // Parameters are named after members, whatever clippy thinks of
            // the names (its default `disallowed-names`; QEMU's test schema
            // has a `foo`).
            (
                "disallowed_names",
                required.iter().any(|f| ["foo", "baz", "quux"].contains(&f.ident.to_string().as_str())),
            ),
        ]);
        let allow = dep.body();
        quote! {
            #guard
            #allow
            impl #name {
                #docs
                #lints
                #[inline]
                pub fn new(#(#params),*) -> Self {
                    #name { #(#inits)* #tail }
                }
            }
        }
    }

    /// Statements writing `fields` of `self` into `map`.
    pub(super) fn serialize_fields(&self, fields: &[Field]) -> TokenStream {
        let option = self.paths().option;
        let entries = fields.iter().map(|f| {
            let Field { ident, wire, guard, .. } = f;
            if f.optional {
                quote! {
                    #guard
                    if let #option::Some(value) = &self.#ident {
                        map.serialize_entry(#wire, value)?;
                    }
                }
            } else {
                quote!(#guard map.serialize_entry(#wire, &self.#ident)?;)
            }
        });
        quote!(#(#entries)*)
    }

    /// `has_m()` / `set_m()` for the optional fields.
    pub(super) fn accessors(
        &self,
        name: &Ident,
        guard: &TokenStream,
        dep: Deprecation,
        fields: &[Field],
    ) -> TokenStream {
        if !fields.iter().any(|f| f.optional) {
            return TokenStream::new();
        }
        let option = self.paths().option;
        let methods = fields.iter().filter(|f| f.optional).map(|f| {
            let Field { ident, wire, inner, guard, dep, .. } = f;
            let base = ident.to_string();
            let base = base.trim_start_matches("r#").trim_start_matches('_');
            let (has, set) = (format_ident!("has_{base}"), format_ident!("set_{base}"));
            let has_doc = rustdoc::attrs(&[format!("Whether `{wire}` is present.")]);
            let set_doc = rustdoc::attrs(&[format!("Sets `{wire}`, making it present.")]);
            let value = if f.boxed { quote!(::std::boxed::Box::new(value)) } else { quote!(value) };
            quote! {
                #has_doc
                #guard
                #dep
                #[inline]
                pub fn #has(&self) -> bool {
                    self.#ident.is_some()
                }
                #set_doc
                #guard
                #dep
                #[inline]
                pub fn #set(&mut self, value: #inner) -> &mut Self {
                    self.#ident = #option::Some(#value);
                    self
                }
            }
        });
        let allow = dep.body();
        quote! {
            #guard
            #allow
            impl #name {
                #(#methods)*
            }
        }
    }

    /// The serde impls of a struct without members (the payload of an
    /// event without data), as [`Cx::struct_item`] writes them.
    pub(super) fn empty_struct_impls(&self, guard: &TokenStream, deprecated: bool, name: &Ident) -> TokenStream {
        let result = self.paths().result;
        let dep = Deprecation { itself: deprecated, ..Deprecation::default() };
        let mut out = self.object_serialize_impls(guard, dep, name, false, quote!(#result::Ok(())));
        out.extend(self.struct_deserialize(name, guard, dep, &[]));
        out
    }

    /// `Deserialize` for a struct of `fields`, through a builder local to
    /// the impl (named `Slots_`, which no converted QAPI name can be) and
    /// the runtime's generic `deserialize_struct`: far less code than
    /// `derive(Deserialize)` expands to, with the same errors.
    /// Every member has an index, configured out or not, so that indices
    /// don't depend on the configuration.
    fn struct_deserialize(&self, name: &Ident, guard: &TokenStream, dep: Deprecation, fields: &[Field]) -> TokenStream {
        let Paths { rt, option, result, .. } = self.paths();
        let slots = fields.iter().enumerate().map(|(i, f)| {
            let (guard, held, m) = (&f.guard, &f.held, slot(i));
            quote!(#guard #m: #option<#held>,)
        });
        let qapi_name = name.to_string();
        let qapi_name = qapi_name.trim_start_matches("r#");
        let wire_names = wire_names(fields);
        let index_param = if fields.is_empty() { quote!(_index) } else { quote!(index) };
        let set = if fields.is_empty() {
            quote!(#rt::types::skip(value))
        } else {
            let arms = fields.iter().enumerate().map(|(i, f)| {
                let (guard, m, i) = (&f.guard, slot(i), index(i));
                quote!(#guard #i => #rt::types::put(&mut self.#m, value),)
            });
            quote!(match index { #(#arms)* _ => #rt::types::skip(value), })
        };
        let value = self.struct_lit(name, fields, Init::SelfSlot, None);
        let strict = self.strict();
        self.deserialize_impl(
            guard,
            dep.body(),
            name,
            quote! {
                #[derive(Default)]
                struct Slots_ {
                    #(#slots)*
                }
                impl<'de> #rt::types::StructBuilder<'de> for Slots_ {
                    type Value = #name;
                    const NAME: &'static str = #qapi_name;
                    const FIELDS: &'static [&'static str] = #wire_names;
                    fn set<D: #rt::serde::Deserializer<'de>>(
                        &mut self,
                        #index_param: usize,
                        value: D,
                    ) -> #result<bool, D::Error> {
                        #set
                    }
                    fn build<E: #rt::serde::de::Error>(self) -> #result<#name, E> {
                        #result::Ok(#value)
                    }
                }
                #rt::types::deserialize_struct::<Slots_, D>(deserializer, #strict)
            },
        )
    }

    /// The arguments of a command with `'gen': false`: QEMU hands its
    /// handler the whole `arguments` object, so members the schema does
    /// not declare are accepted (`device_add` takes the device's
    /// properties). The declared members are fields as in a struct; the
    /// others are kept in `additional`, in both modes, and written back
    /// after the declared ones.
    pub(super) fn open_struct_item(
        &self,
        e: &Entity,
        obj: &ObjectType,
        name: &Ident,
        head: &Head,
    ) -> Result<TokenStream, GenError> {
        let mut scope = Scope::new(&e.name);
        let fields = self.all_fields(e, obj, &mut scope)?;
        scope.claim("additional", "the members the schema does not declare")?;
        let Paths { rt, result, string, .. } = self.paths();
        let guard = &head.guard;
        let dep = struct_deprecation(head, &fields);
        let mut out = self.struct_decl(
            name,
            head,
            &fields,
            quote! {
                /// Members the schema does not declare, passed on as they are
                /// (the command has `'gen': false`).
                pub additional: #rt::serde_json::Map<#string, #rt::serde_json::Value>,
            },
        );
        let entries = self.serialize_fields(&fields);
        out.extend(self.object_serialize_impls(
            guard,
            dep,
            name,
            true,
            quote! {
                #entries
                for (key, value) in &self.additional {
                    map.serialize_entry(key, value)?;
                }
                #result::Ok(())
            },
        ));
        let additional = format_ident!("additional");
        let read = self.read_members(&fields, None, &additional);
        let value = self.struct_lit(name, &fields, Init::Slot, Some(&additional));
        let visit = self.visit_map(
            name,
            quote! {
                #read
                #result::Ok(#value)
            },
        );
        let expecting = format!("an object ({})", e.name);
        out.extend(self.visitor_impl(guard, dep, name, &expecting, "deserialize_map", visit));
        out.extend(self.accessors(name, guard, dep, &fields));
        out.extend(self.constructor(name, guard, dep, &fields, quote!(additional: #rt::serde_json::Map::new(),)));
        if self.opts.json_codec {
            out.extend(self.codec_via_serde(name, guard, dep));
        }
        Ok(out)
    }

    /// `Name { #[cfg] field: value, ... }` with `tail` (a shorthand field)
    /// last if any.
    pub(super) fn struct_lit(&self, name: &Ident, fields: &[Field], init: Init, tail: Option<&Ident>) -> TokenStream {
        let rt = self.paths().rt;
        let inits = fields.iter().enumerate().map(|(i, f)| {
            let (guard, ident, wire, m) = (&f.guard, &f.ident, &f.wire, slot(i));
            let value = match init {
                Init::SelfSlot if f.optional => quote!(self.#m),
                Init::SelfSlot => quote!(#rt::types::required(self.#m, #wire)?),
                Init::Slot | Init::Read if f.optional => quote!(#m),
                Init::Slot => quote!(#rt::types::required(#m, #wire)?),
                Init::Read => quote!(#rt::json::required(r, #m, #wire)?),
            };
            quote!(#guard #ident: #value,)
        });
        quote!(#name { #(#inits)* #tail })
    }

    /// The loop of a `visit_map` that reads `fields` into locals `mI` (and
    /// `first`, a `(local, wire name, type)` read before them, into its
    /// own local), and collects every other member into the map `rest`.
    pub(super) fn read_members(
        &self,
        fields: &[Field],
        first: Option<(&Ident, &str, &Ident)>,
        rest: &Ident,
    ) -> TokenStream {
        let Paths { rt, option, string, .. } = self.paths();
        let member = |guard: &TokenStream, wire: &str, ty: &TokenStream, slot: &Ident| quote!(#guard #wire => #rt::types::member::<_, #ty>(&mut map, &mut #slot, #wire)?,);
        let first_let = first.map(|(slot, _, _)| quote!(let mut #slot = #option::None;));
        let first_arm = first.map(|(slot, wire, ty)| member(&TokenStream::new(), wire, &quote!(#ty), slot));
        let arms = fields.iter().enumerate().map(|(i, f)| member(&f.guard, &f.wire, &f.held, &slot(i)));
        let lets = self.slot_lets(fields);
        quote! {
            #first_let
            #lets
            let mut #rest = #rt::serde_json::Map::new();
            while let #option::Some(key) = map.next_key::<#string>()? {
                match key.as_str() {
                    #first_arm
                    #(#arms)*
                    _ => #rt::types::collect(&mut map, &mut #rest, key)?,
                }
            }
        }
    }

    /// `let mut mI = None;` for each of `fields`, with its `#[cfg]`.
    pub(super) fn slot_lets(&self, fields: &[Field]) -> TokenStream {
        let option = self.paths().option;
        let lets = fields.iter().enumerate().map(|(i, f)| {
            let (guard, m) = (&f.guard, slot(i));
            quote!(#guard let mut #m = #option::None;)
        });
        quote!(#(#lets)*)
    }
}

/// What the code of a struct with `head` and `fields` touches that is
/// deprecated.
pub(super) fn struct_deprecation(head: &Head, fields: &[Field]) -> Deprecation {
    Deprecation {
        itself: head.deprecated,
        parts: fields.iter().any(|f| f.deprecated),
        types: fields.iter().any(|f| f.ty_deprecated),
    }
}

/// The array of the wire names of `fields`, configured out or not, so
/// that a member's index does not depend on the configuration.
pub(super) fn wire_names(fields: &[Field]) -> TokenStream {
    let names = fields.iter().map(|f| &f.wire);
    quote!(&[#(#names),*])
}
