//! Types: enums, structs, unions, alternates, and where recursion needs a
//! `Box`.

use std::collections::{HashMap, HashSet};

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use super::{doc, names, Cx, GenError, Head, Piece};
use crate::model::{AlternateType, Builtin, Entity, EntityId, EntityKind, EnumType, Member, ObjectType};
use crate::Schema;

/// A struct field (or union base member) as generated.
pub(super) struct Field {
    pub ident: Ident,
    pub wire: String,
    /// The field's type as declared (`Option`, `Box` included).
    pub ty: TokenStream,
    /// The member's type (boxed if need be, no `Option`).
    pub held: TokenStream,
    /// The member's type, never boxed.
    pub inner: TokenStream,
    pub boxed: bool,
    pub optional: bool,
    pub guard: TokenStream,
    pub docs: TokenStream,
    pub dep: TokenStream,
}

/// A branch of a union or alternate as generated.
struct Variant {
    ident: Ident,
    wire: String,
    /// The branch type's id and Rust type; `None` for a union branch
    /// without members.
    ty: Option<(EntityId, TokenStream)>,
    boxed: bool,
    guard: TokenStream,
    docs: TokenStream,
    dep: TokenStream,
}

fn lit(s: &str) -> Literal {
    Literal::string(s)
}

/// Checks that converted names don't clash within one type.
pub(super) struct Scope<'s> {
    type_name: &'s str,
    seen: HashMap<String, String>,
}

impl<'s> Scope<'s> {
    fn new(type_name: &'s str) -> Self {
        Scope { type_name, seen: HashMap::new() }
    }

    fn claim(&mut self, rust: &str, qapi: &str) -> Result<(), GenError> {
        if let Some(first) = self.seen.get(rust) {
            return Err(GenError::Clash {
                rust: rust.to_owned(),
                first: format!("'{first}'"),
                second: format!("'{qapi}'"),
                scope: format!(" in '{}'", self.type_name),
            });
        }
        self.seen.insert(rust.to_owned(), qapi.to_owned());
        Ok(())
    }
}

/// The name of the variant keeping unknown values, one that no value of
/// the enum takes.
pub(super) fn fallback_name(en: &EnumType) -> Ident {
    let taken: HashSet<String> = en.values.iter().map(|v| names::camel(&v.name)).collect();
    let name = ["Unknown", "UnknownValue", "Other", "UnknownQapiValue"]
        .into_iter()
        .find(|n| !taken.contains(*n))
        .unwrap_or("UnknownQapiValue");
    format_ident!("{}", name)
}

impl Cx<'_> {
    // ---- enums ---------------------------------------------------------

    pub(super) fn enum_type(&self, e: &Entity, en: &EnumType) -> Result<TokenStream, GenError> {
        let Some(guard) = self.type_guard(e.id) else { return Ok(TokenStream::new()) };
        let rt = &self.rt;
        let name = self.name(e.id);
        let docs = doc::attrs(&self.entity_docs(e));
        let dep = self.deprecated(&e.features);
        let mut scope = Scope::new(&e.name);
        let mut variants = Vec::new();
        let mut vguards = Vec::new();
        let mut vidents = Vec::new();
        let mut wires = Vec::new();
        for v in &en.values {
            let Some(g) = self.guard(&[v.cond.as_ref()], self.has_feature(&v.features, "unstable")) else {
                continue;
            };
            let text = names::camel(&v.name);
            scope.claim(&text, &v.name)?;
            let ident = names::ident(&text);
            let mut lines = v.doc().map(|s| doc::render(&s.text)).unwrap_or_default();
            self.feature_docs(&v.features, &mut lines);
            let vdocs = doc::attrs(&lines);
            let vdep = self.deprecated(&v.features);
            variants.push(quote! { #vdocs #g #vdep #ident, });
            vguards.push(g);
            vidents.push(ident);
            wires.push(lit(&v.name));
        }
        let client = !self.strict();
        let fallback = fallback_name(en);
        let (unknown_variant, unknown_arm, unknown_fn, copy) = if client {
            (
                quote! {
                    /// A value this side does not know, kept as received.
                    #fallback(String_),
                },
                quote!(Self::#fallback(ref value) => value,),
                quote!(Option_::Some(Self::#fallback)),
                TokenStream::new(),
            )
        } else {
            (TokenStream::new(), TokenStream::new(), quote!(Option_::None), quote!(Copy,))
        };
        let from_wire_body = if vidents.is_empty() {
            quote! { let _ = value; Option_::None }
        } else {
            quote! {
                match value {
                    #( #vguards #wires => Option_::Some(Self::#vidents), )*
                    _ => Option_::None,
                }
            }
        };
        let qapi_name = lit(&e.name);
        Ok(quote! {
            #docs
            #guard
            #dep
            #[derive(Debug, Clone, #copy PartialEq, Eq, Hash)]
            #[allow(clippy::enum_variant_names)]
            pub enum #name {
                #(#variants)*
                #unknown_variant
            }

            #guard
            #[allow(deprecated)]
            impl #name {
                /// The wire name of the value.
                pub fn as_str(&self) -> &str {
                    match *self {
                        #( #vguards Self::#vidents => #wires, )*
                        #unknown_arm
                    }
                }

                /// The value with wire name `value`, if this code knows it.
                pub fn from_wire(value: &str) -> Option_<Self> {
                    #from_wire_body
                }
            }

            #guard
            #[allow(deprecated)]
            impl #rt::serde::Serialize for #name {
                fn serialize<S: #rt::serde::Serializer>(&self, serializer: S) -> Result_<S::Ok, S::Error> {
                    serializer.serialize_str(self.as_str())
                }
            }

            #guard
            #[allow(deprecated)]
            impl<'de> #rt::serde::Deserialize<'de> for #name {
                fn deserialize<D: #rt::serde::Deserializer<'de>>(deserializer: D) -> Result_<Self, D::Error> {
                    #rt::types::deserialize_enum(deserializer, #qapi_name, Self::from_wire, #unknown_fn)
                }
            }

            #guard
            impl ::core::fmt::Display for #name {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.write_str(self.as_str())
                }
            }
        })
    }

    // ---- structs ---------------------------------------------------------

    /// The fields for `members` of type `container`.
    fn fields<'m>(
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
            let held = self.held_ty(container, m.ty);
            let ty = if m.optional { quote!(Option_<#held>) } else { held.clone() };
            out.push(Field {
                ident: names::ident(&text),
                wire: m.name.clone(),
                ty,
                held,
                inner: self.ty(m.ty),
                boxed: self.is_boxed(container, m.ty),
                optional: m.optional,
                guard,
                docs: doc::attrs(&self.member_docs(m, since)),
                dep: self.deprecated(&m.features),
            });
        }
        Ok(out)
    }

    /// A field declaration.
    fn field_decl(&self, f: &Field) -> TokenStream {
        let Field { ident, ty, guard, docs, dep, .. } = f;
        quote! { #docs #guard #dep pub #ident: #ty, }
    }

    /// Statements writing `fields` of `self` into `map`.
    fn serialize_fields(&self, fields: &[Field]) -> TokenStream {
        let stmts = fields.iter().map(|f| {
            let Field { ident, guard, .. } = f;
            let w = lit(&f.wire);
            if f.optional {
                quote! {
                    #guard
                    if let Option_::Some(value) = &self.#ident {
                        map.serialize_entry(#w, value)?;
                    }
                }
            } else {
                quote! { #guard map.serialize_entry(#w, &self.#ident)?; }
            }
        });
        quote!(#(#stmts)*)
    }

    /// `has_m()` / `set_m()` for the optional fields.
    fn accessors(&self, name: &Ident, guard: &TokenStream, fields: &[Field]) -> TokenStream {
        let methods: Vec<TokenStream> = fields
            .iter()
            .filter(|f| f.optional)
            .map(|f| {
                let Field { ident, inner, guard: g, dep, wire, .. } = f;
                let base = ident.to_string();
                let base = base.trim_start_matches("r#").trim_start_matches('_');
                let has = format_ident!("has_{}", base);
                let set = format_ident!("set_{}", base);
                let value = if f.boxed { quote!(::std::boxed::Box::new(value)) } else { quote!(value) };
                let has_doc = lit(&format!(" Whether `{wire}` is present."));
                let set_doc = lit(&format!(" Sets `{wire}`, making it present."));
                quote! {
                    #[doc = #has_doc]
                    #g #dep
                    pub fn #has(&self) -> bool { self.#ident.is_some() }
                    #[doc = #set_doc]
                    #g #dep
                    pub fn #set(&mut self, value: #inner) -> &mut Self {
                        self.#ident = Option_::Some(#value);
                        self
                    }
                }
            })
            .collect();
        if methods.is_empty() {
            return TokenStream::new();
        }
        quote! {
            #guard
            #[allow(deprecated)]
            impl #name { #(#methods)* }
        }
    }

    /// `ObjectMembers` and `Serialize` for a type whose members `body`
    /// writes into `map`.
    fn serialize_impls(&self, name: &Ident, guard: &TokenStream, body: TokenStream, uses_map: bool) -> TokenStream {
        let rt = &self.rt;
        let map = if uses_map { quote!(map) } else { quote!(_map) };
        quote! {
            #guard
            #[allow(deprecated)]
            impl #rt::types::ObjectMembers for #name {
                fn serialize_members<M: #rt::serde::ser::SerializeMap>(&self, #map: &mut M) -> Result_<(), M::Error> {
                    #body
                }
            }

            #guard
            #[allow(deprecated)]
            impl #rt::serde::Serialize for #name {
                fn serialize<S: #rt::serde::Serializer>(&self, serializer: S) -> Result_<S::Ok, S::Error> {
                    #rt::types::serialize_object(self, serializer)
                }
            }
        }
    }

    /// A `Deserialize` impl through a local visitor: `visit` holds its
    /// `visit_*` methods, `entry` is the `Deserializer` method to call.
    fn deserialize_impl(
        &self,
        name: &Ident,
        guard: &TokenStream,
        expecting: &proc_macro2::Literal,
        entry: TokenStream,
        visit: TokenStream,
    ) -> TokenStream {
        let rt = &self.rt;
        quote! {
            #guard
            #[allow(deprecated)]
            impl<'de> #rt::serde::Deserialize<'de> for #name {
                fn deserialize<D: #rt::serde::Deserializer<'de>>(deserializer: D) -> Result_<Self, D::Error> {
                    struct Visitor;
                    impl<'de> #rt::serde::de::Visitor<'de> for Visitor {
                        type Value = #name;

                        fn expecting(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                            f.write_str(#expecting)
                        }

                        #visit
                    }
                    deserializer.#entry(Visitor)
                }
            }
        }
    }

    pub(super) fn object_type(&self, e: &Entity, obj: &ObjectType) -> Result<Piece, GenError> {
        let Some(guard) = self.type_guard_t(e.id) else { return Ok(Piece::Text(String::new())) };
        let head = Head { guard, docs: self.entity_docs(e), dep: self.deprecated_t(&e.features) };
        if obj.is_union() {
            let (guard, docs, dep) = head.tokens()?;
            return Ok(Piece::Tokens(self.union(e, obj, guard, docs, dep)?));
        }
        let name = self.name(e.id);
        self.struct_item(e, obj, &name, &head)
    }

    /// A struct for object type `e` named `name`.
    pub(super) fn struct_item(
        &self,
        e: &Entity,
        obj: &ObjectType,
        name: &Ident,
        head: &Head,
    ) -> Result<Piece, GenError> {
        let (guard, docs, dep) = head.tokens()?;
        let since = self.since_of(e);
        let mut scope = Scope::new(&e.name);
        let fields = self.fields(e.id, obj.all_members(self.schema), since.as_deref(), &mut scope)?;
        let decls = fields.iter().map(|f| self.field_decl(f));
        let default = if fields.iter().all(|f| f.optional) { quote!(Default,) } else { quote!() };
        let ser = self.serialize_fields(&fields);
        let uses_map = !fields.is_empty();
        let keep_map = if fields.iter().any(|f| !f.guard.is_empty()) { quote!(let _ = &map;) } else { quote!() };
        let body = quote! { #keep_map #ser Result_::Ok(()) };
        let ser_impls = self.serialize_impls(name, &guard, body, uses_map);
        let de_impl = self.struct_deserialize(name, &guard, &fields);
        let accessors = self.accessors(name, &guard, &fields);
        Ok(Piece::Tokens(quote! {
            #docs
            #guard
            #dep
            #[derive(Debug, Clone, PartialEq, #default)]
            #[allow(deprecated)]
            pub struct #name {
                #(#decls)*
            }

            #ser_impls
            #de_impl
            #accessors
        }))
    }

    /// `Deserialize` for a struct of `fields`, through a builder local to
    /// the impl (named `Slots_`, which no converted QAPI name can be) and
    /// the runtime's generic `deserialize_struct`: far less code than
    /// `derive(Deserialize)` expands to, with the same errors.
    /// Every member has an index, configured out or not, so that indices
    /// don't depend on the configuration.
    fn struct_deserialize(&self, name: &Ident, guard: &TokenStream, fields: &[Field]) -> TokenStream {
        let rt = &self.rt;
        let slots: Vec<Ident> = (0..fields.len()).map(|i| format_ident!("m{}", i)).collect();
        let wires = fields.iter().map(|f| lit(&f.wire));
        let slot_decls = fields.iter().zip(&slots).map(|(f, s)| {
            let Field { guard: g, held, .. } = f;
            quote!(#g #s: Option_<#held>,)
        });
        let set_arms = fields.iter().zip(&slots).enumerate().map(|(i, (f, s))| {
            let g = &f.guard;
            let i = Literal::usize_unsuffixed(i);
            quote!(#g #i => #rt::types::put(&mut self.#s, value),)
        });
        let inits = fields.iter().zip(&slots).map(|(f, s)| {
            let Field { ident, guard: g, .. } = f;
            if f.optional {
                quote!(#g #ident: self.#s,)
            } else {
                let w = lit(&f.wire);
                quote!(#g #ident: #rt::types::required(self.#s, #w)?,)
            }
        });
        let unraw = name.to_string();
        let rust_name = lit(unraw.trim_start_matches("r#"));
        let strict = self.strict();
        let index = if fields.is_empty() { quote!(_index) } else { quote!(index) };
        let set_body = if fields.is_empty() {
            quote!(#rt::types::skip(value))
        } else {
            quote! {
                match index {
                    #(#set_arms)*
                    _ => #rt::types::skip(value),
                }
            }
        };
        quote! {
            #guard
            #[allow(deprecated)]
            impl<'de> #rt::serde::Deserialize<'de> for #name {
                fn deserialize<D: #rt::serde::Deserializer<'de>>(deserializer: D) -> Result_<Self, D::Error> {
                    #[derive(Default)]
                    struct Slots_ { #(#slot_decls)* }
                    impl<'de> #rt::types::StructBuilder<'de> for Slots_ {
                        type Value = #name;
                        const NAME: &'static str = #rust_name;
                        const FIELDS: &'static [&'static str] = &[#(#wires),*];
                        fn set<D: #rt::serde::Deserializer<'de>>(&mut self, #index: usize, value: D) -> Result_<bool, D::Error> {
                            #set_body
                        }
                        fn build<E: #rt::serde::de::Error>(self) -> Result_<#name, E> {
                            Result_::Ok(#name { #(#inits)* })
                        }
                    }
                    #rt::types::deserialize_struct::<Slots_, D>(deserializer, #strict)
                }
            }
        }
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
    ) -> Result<Piece, GenError> {
        let (guard, docs, dep) = head.tokens()?;
        let rt = &self.rt;
        let since = self.since_of(e);
        let mut scope = Scope::new(&e.name);
        let fields = self.fields(e.id, obj.all_members(self.schema), since.as_deref(), &mut scope)?;
        scope.claim("additional", "the members the schema does not declare")?;
        let decls = fields.iter().map(|f| self.field_decl(f));
        let default = if fields.iter().all(|f| f.optional) { quote!(Default,) } else { quote!() };
        let ser = self.serialize_fields(&fields);
        let body = quote! {
            #ser
            for (key, value) in &self.additional {
                map.serialize_entry(key, value)?;
            }
            Result_::Ok(())
        };
        let ser_impls = self.serialize_impls(name, &guard, body, true);
        let accessors = self.accessors(name, &guard, &fields);
        let slots: Vec<Ident> = (0..fields.len()).map(|i| format_ident!("m{}", i)).collect();
        let slot_decls = fields.iter().zip(&slots).map(|(f, s)| {
            let g = &f.guard;
            quote!(#g let mut #s = Option_::None;)
        });
        let slot_arms = fields.iter().zip(&slots).map(|(f, s)| {
            let g = &f.guard;
            let w = lit(&f.wire);
            let t = &f.held;
            quote!(#g #w => #rt::types::member::<_, #t>(&mut map, &mut #s, #w)?,)
        });
        let inits = fields.iter().zip(&slots).map(|(f, s)| {
            let Field { ident, guard, .. } = f;
            let w = lit(&f.wire);
            if f.optional {
                quote!(#guard #ident: #s,)
            } else {
                quote!(#guard #ident: #rt::types::required(#s, #w)?,)
            }
        });
        let expecting = lit(&format!("an object ({})", e.name));
        let de_impl = self.deserialize_impl(
            name,
            &guard,
            &expecting,
            quote!(deserialize_map),
            quote! {
                fn visit_map<A: #rt::serde::de::MapAccess<'de>>(self, mut map: A) -> Result_<#name, A::Error> {
                    #(#slot_decls)*
                    let mut additional = #rt::serde_json::Map::new();
                    while let Option_::Some(key) = map.next_key::<String_>()? {
                        match key.as_str() {
                            #(#slot_arms)*
                            _ => #rt::types::collect(&mut map, &mut additional, key)?,
                        }
                    }
                    Result_::Ok(#name { #(#inits)* additional })
                }
            },
        );
        Ok(Piece::Tokens(quote! {
            #docs
            #guard
            #dep
            #[derive(Debug, Clone, PartialEq, #default)]
            #[allow(deprecated)]
            pub struct #name {
                #(#decls)*
                /// Members the schema does not declare, passed on as they are
                /// (the command has `'gen': false`).
                pub additional: #rt::serde_json::Map<String_, #rt::serde_json::Value>,
            }

            #ser_impls

            #de_impl

            #accessors
        }))
    }

    /// The `Since:` of a definition (for implicit types, the command's or
    /// event's).
    pub(super) fn since_of(&self, e: &Entity) -> Option<String> {
        e.doc.as_ref().and_then(|d| d.since()).map(str::to_owned)
    }

    // ---- unions ------------------------------------------------------------

    fn union(
        &self,
        e: &Entity,
        obj: &ObjectType,
        guard: TokenStream,
        docs: TokenStream,
        dep: TokenStream,
    ) -> Result<TokenStream, GenError> {
        let rt = &self.rt;
        let Some(br) = &obj.branches else { return Ok(TokenStream::new()) };
        let tag = &br.tag;
        let tag_enum_id = tag.ty;
        let Some(tag_enum) = self.schema[tag_enum_id].as_enum() else { return Ok(TokenStream::new()) };
        let tag_ty = self.name(tag_enum_id);
        let tag_wire = lit(&tag.name);
        let strict = self.strict();
        let as_enum = self.union_is_enum(e);
        let name = self.name(e.id);
        let branch_ty = if as_enum { name.clone() } else { self.branch_name(e) };
        let fallback = fallback_name(tag_enum);

        // Branches.
        let mut scope = Scope::new(&e.name);
        let mut variants = Vec::new();
        for b in &br.branches {
            let value = tag_enum.value(&b.name);
            let value_cond = value.and_then(|v| v.cond.as_ref());
            let value_unstable = value.is_some_and(|v| self.has_feature(&v.features, "unstable"));
            let implied = self.schema[b.ty].name == "q_empty";
            let ty_cond = if implied { None } else { self.type_cond(b.ty) };
            let unstable = value_unstable || (!implied && self.type_unstable(b.ty));
            let Some(g) = self.guard(&[b.cond.as_ref(), value_cond, ty_cond], unstable) else { continue };
            let text = names::camel(&b.name);
            scope.claim(&text, &b.name)?;
            let mut lines = vec![format!("`{}` is `{}`.", doc::prose(&tag.name), doc::prose(&b.name))];
            let value_doc = value.and_then(|v| v.doc()).map(|d| doc::render(&d.text)).unwrap_or_default();
            if !value_doc.is_empty() {
                lines.push(String::new());
                lines.extend(value_doc);
            }
            variants.push(Variant {
                ident: names::ident(&text),
                wire: b.name.clone(),
                ty: (!implied).then(|| (b.ty, self.held_ty(e.id, b.ty))),
                boxed: self.is_boxed(e.id, b.ty),
                guard: g,
                docs: doc::attrs(&lines),
                dep: value.map(|v| self.deprecated(&v.features)).unwrap_or_default(),
            });
        }
        // Tag values whose branch is not generated while the value is.
        let needs_wildcard = tag_enum.values.iter().any(|v| {
            let vg = self.guard(&[v.cond.as_ref()], self.has_feature(&v.features, "unstable"));
            match (vg, variants.iter().find(|x| x.wire == v.name)) {
                (None, _) => false,
                (Some(_), None) => true,
                (Some(vg), Some(x)) => vg.to_string() != x.guard.to_string(),
            }
        });

        let decl_variants = variants.iter().map(|v| {
            let Variant { ident, guard, docs, dep, .. } = v;
            match &v.ty {
                Some((_, t)) => quote! { #docs #guard #dep #ident(#t), },
                None => quote! { #docs #guard #dep #ident, },
            }
        });
        let unknown_decl = if strict {
            quote!()
        } else {
            quote! {
                /// A branch this side does not know: the discriminator's value
                /// and the other members, as received.
                #fallback {
                    /// The discriminator's value.
                    tag: String_,
                    /// The members other than the common ones.
                    members: #rt::serde_json::Map<String_, #rt::serde_json::Value>,
                },
            }
        };
        let tag_arms = variants.iter().map(|v| {
            let Variant { ident, guard, .. } = v;
            if v.ty.is_some() {
                quote!(#guard Self::#ident(..) => #tag_ty::#ident,)
            } else {
                quote!(#guard Self::#ident => #tag_ty::#ident,)
            }
        });
        let tag_unknown_arm = if strict {
            quote!()
        } else {
            quote!(Self::#fallback { ref tag, .. } => #tag_ty::#fallback(::core::clone::Clone::clone(tag)),)
        };
        let member_arms = variants.iter().map(|v| {
            let Variant { ident, guard, .. } = v;
            match &v.ty {
                Some((id, _)) => {
                    let t = self.ty(*id);
                    quote!(#guard Self::#ident(ref branch) => <#t as #rt::types::ObjectMembers>::serialize_members(branch, map)?,)
                }
                None => quote!(#guard Self::#ident => {}),
            }
        });
        let member_unknown_arm = if strict {
            quote!()
        } else {
            quote! {
                Self::#fallback { ref members, .. } => {
                    for (key, value) in members {
                        map.serialize_entry(key, value)?;
                    }
                }
            }
        };
        let empty = variants.is_empty() && strict;
        let tag_body = quote! { match *self { #(#tag_arms)* #tag_unknown_arm } };
        let branch_members_body = if empty {
            quote! { let _ = map; match *self {} }
        } else {
            quote! { match *self { #(#member_arms)* #member_unknown_arm } Result_::Ok(()) }
        };

        // Decoding the branch once the discriminator is known.
        let decode_arms = variants.iter().map(|v| {
            let Variant { ident, guard, .. } = v;
            match &v.ty {
                Some(_) => {
                    let inner = quote!(#rt::types::branch_from_members(rest)?);
                    let inner = if v.boxed { quote!(::std::boxed::Box::new(#inner)) } else { inner };
                    quote!(#guard #tag_ty::#ident => #branch_ty::#ident(#inner),)
                }
                None => quote! {
                    #guard #tag_ty::#ident => {
                        #rt::types::no_members(&rest, #strict)?;
                        #branch_ty::#ident
                    }
                },
            }
        });
        let decode_unknown = if strict {
            quote!()
        } else {
            quote!(#tag_ty::#fallback(tag) => #branch_ty::#fallback { tag, members: rest },)
        };
        let decode_wild = if needs_wildcard {
            let msg = lit(&format!("the branch of {} for this '{}' is not available", e.name, tag.name));
            quote! {
                #[allow(unreachable_patterns)]
                _ => return Result_::Err(#rt::serde::de::Error::custom(#msg)),
            }
        } else {
            quote!()
        };

        let mut out = TokenStream::new();
        let branch_decl = quote! {
            #[derive(Debug, Clone, PartialEq)]
            #[allow(clippy::large_enum_variant, clippy::enum_variant_names)]
            pub enum #branch_ty {
                #(#decl_variants)*
                #unknown_decl
            }

            #guard
            #[allow(deprecated)]
            impl #branch_ty {
                /// The discriminator's value for this branch.
                pub fn tag(&self) -> #tag_ty {
                    #tag_body
                }
            }
        };

        // Base members other than the tag.
        let mut fscope = Scope::new(&e.name);
        let since = self.since_of(e);
        let base_members: Vec<&Member> = obj.all_members(self.schema).collect();
        let tag_pos = base_members.iter().position(|m| m.name == tag.name).unwrap_or(0);
        let fields = self.fields(
            e.id,
            base_members.iter().copied().filter(|m| m.name != tag.name),
            since.as_deref(),
            &mut fscope,
        )?;
        let tag_field = names::ident(&names::snake(&tag.name));
        fscope.claim(&names::snake(&tag.name), &tag.name)?;

        let slots: Vec<Ident> = (0..fields.len()).map(|i| format_ident!("m{}", i)).collect();
        let slot_decls = fields.iter().zip(&slots).map(|(f, s)| {
            let g = &f.guard;
            quote!(#g let mut #s = Option_::None;)
        });
        let slot_arms = fields.iter().zip(&slots).map(|(f, s)| {
            let g = &f.guard;
            let w = lit(&f.wire);
            let t = &f.held;
            quote!(#g #w => #rt::types::member::<_, #t>(&mut map, &mut #s, #w)?,)
        });
        let slot_required = fields.iter().zip(&slots).filter(|(f, _)| !f.optional).map(|(f, s)| {
            let g = &f.guard;
            let w = lit(&f.wire);
            quote!(#g let #s = #rt::types::required(#s, #w)?;)
        });
        let result = if as_enum {
            quote!(branch)
        } else {
            let inits = fields.iter().zip(&slots).map(|(f, s)| {
                let Field { ident, guard, .. } = f;
                quote!(#guard #ident: #s,)
            });
            quote!(#name { #(#inits)* #tag_field: branch })
        };
        let expecting = lit(&format!("an object ({})", e.name));
        let decode_match = if empty {
            quote! { let _ = rest; let branch: #branch_ty = match tag {}; }
        } else {
            quote! {
                let branch = match tag {
                    #(#decode_arms)*
                    #decode_unknown
                    #decode_wild
                };
            }
        };
        let de_impl = self.deserialize_impl(
            &name,
            &guard,
            &expecting,
            quote!(deserialize_map),
            quote! {
                fn visit_map<A: #rt::serde::de::MapAccess<'de>>(self, mut map: A) -> Result_<#name, A::Error> {
                    let mut tag = Option_::None;
                    #(#slot_decls)*
                    let mut rest = #rt::serde_json::Map::new();
                    while let Option_::Some(key) = map.next_key::<String_>()? {
                        match key.as_str() {
                            #tag_wire => #rt::types::member::<_, #tag_ty>(&mut map, &mut tag, #tag_wire)?,
                            #(#slot_arms)*
                            _ => #rt::types::collect(&mut map, &mut rest, key)?,
                        }
                    }
                    let tag = #rt::types::required(tag, #tag_wire)?;
                    #(#slot_required)*
                    #decode_match
                    Result_::Ok(#result)
                }
            },
        );

        if as_enum {
            let body = quote! {
                map.serialize_entry(#tag_wire, &self.tag())?;
                #branch_members_body
            };
            let body = if empty { quote!(#branch_members_body) } else { body };
            let ser = self.serialize_impls(&name, &guard, body, true);
            out.extend(quote! {
                #docs
                #guard
                #dep
                #branch_decl
                #ser
                #de_impl
            });
            return Ok(out);
        }

        // Struct of the base members; the tag member holds the branch.
        let tag_guard = TokenStream::new();
        let mut tag_lines = tag.doc().map(|s| doc::render(&s.text)).unwrap_or_default();
        push_line(&mut tag_lines, "The discriminator: its value selects the branch, which holds the branch's members.");
        let tag_docs = doc::attrs(&tag_lines);
        let mut decls = Vec::new();
        let mut ser = Vec::new();
        let mut fi = fields.iter();
        for (i, _) in base_members.iter().enumerate() {
            if i == tag_pos {
                decls.push(quote! { #tag_docs #tag_guard pub #tag_field: #branch_ty, });
                ser.push(quote! { map.serialize_entry(#tag_wire, &self.#tag_field.tag())?; });
                continue;
            }
            // Members dropped by their guard have no field.
            let m = base_members[i];
            if self.member_guard(m).is_none() {
                continue;
            }
            if let Some(f) = fi.next() {
                decls.push(self.field_decl(f));
                ser.push(self.serialize_fields(std::slice::from_ref(f)));
            }
        }
        let body = quote! {
            #(#ser)*
            <#branch_ty as #rt::types::ObjectMembers>::serialize_members(&self.#tag_field, map)
        };
        let ser_impls = self.serialize_impls(&name, &guard, body, true);
        let accessors = self.accessors(&name, &guard, &fields);
        let branch_doc = lit(&format!(" The branches of `{name}`, by the value of `{}`.", tag.name));
        out.extend(quote! {
            #docs
            #guard
            #dep
            #[derive(Debug, Clone, PartialEq)]
            #[allow(deprecated)]
            pub struct #name {
                #(#decls)*
            }

            #[doc = #branch_doc]
            #guard
            #branch_decl

            #guard
            #[allow(deprecated)]
            impl #rt::types::ObjectMembers for #branch_ty {
                fn serialize_members<M: #rt::serde::ser::SerializeMap>(&self, map: &mut M) -> Result_<(), M::Error> {
                    #branch_members_body
                }
            }

            #ser_impls
            #de_impl
            #accessors
        });
        Ok(out)
    }

    // ---- alternates ----------------------------------------------------------

    pub(super) fn alternate(&self, e: &Entity, alt: &AlternateType) -> Result<TokenStream, GenError> {
        let Some(guard) = self.type_guard(e.id) else { return Ok(TokenStream::new()) };
        let rt = &self.rt;
        let name = self.name(e.id);
        let docs = doc::attrs(&self.entity_docs(e));
        let dep = self.deprecated(&e.features);
        let mut scope = Scope::new(&e.name);
        let mut decls = Vec::new();
        let mut ser_arms = Vec::new();
        // Visitor methods by JSON type.
        let mut on_str = None;
        let mut on_bool = None;
        let mut on_null = None;
        let mut on_int = None;
        let mut on_number = None;
        let mut on_object = None;
        let mut on_array = None;
        for b in &alt.branches {
            let Some(g) = self.guard(&[b.cond.as_ref(), self.type_cond(b.ty)], self.type_unstable(b.ty)) else {
                continue;
            };
            let text = names::camel(&b.name);
            scope.claim(&text, &b.name)?;
            let ident = names::ident(&text);
            let mut lines = b.doc().map(|s| doc::render(&s.text)).unwrap_or_default();
            if lines.is_empty() {
                lines.push(format!("The `{}` branch.", doc::prose(&b.name)));
            }
            let vdocs = doc::attrs(&lines);
            let target = &self.schema[b.ty];
            let boxed = self.is_boxed(e.id, b.ty);
            let t = self.held_ty(e.id, b.ty);
            let wrap = |inner: TokenStream| if boxed { quote!(::std::boxed::Box::new(#inner)) } else { inner };
            if matches!(target.kind, EntityKind::Builtin(Builtin::Null)) {
                decls.push(quote! { #vdocs #g #ident, });
                ser_arms.push(quote!(#g Self::#ident => serializer.serialize_unit(),));
                on_null = Some(quote! {
                    #g
                    fn visit_unit<E: #rt::serde::de::Error>(self) -> Result_<Self::Value, E> {
                        Result_::Ok(#name::#ident)
                    }
                });
                continue;
            }
            decls.push(quote! { #vdocs #g #ident(#t), });
            ser_arms.push(quote!(#g Self::#ident(ref value) => #rt::serde::Serialize::serialize(value, serializer),));
            let inner_ty = self.ty(b.ty);
            match &target.kind {
                EntityKind::Builtin(Builtin::Str) => {
                    let v = wrap(quote!(::std::borrow::ToOwned::to_owned(value)));
                    on_str = Some(quote! {
                        #g
                        fn visit_str<E: #rt::serde::de::Error>(self, value: &str) -> Result_<Self::Value, E> {
                            Result_::Ok(#name::#ident(#v))
                        }
                    });
                }
                EntityKind::Enum(_) => {
                    let v = wrap(quote! {
                        <#inner_ty as #rt::serde::Deserialize>::deserialize(#rt::serde::de::value::StrDeserializer::<E>::new(value))?
                    });
                    on_str = Some(quote! {
                        #g
                        fn visit_str<E: #rt::serde::de::Error>(self, value: &str) -> Result_<Self::Value, E> {
                            Result_::Ok(#name::#ident(#v))
                        }
                    });
                }
                EntityKind::Builtin(Builtin::Bool) => {
                    let v = wrap(quote!(value));
                    on_bool = Some(quote! {
                        #g
                        fn visit_bool<E: #rt::serde::de::Error>(self, value: bool) -> Result_<Self::Value, E> {
                            Result_::Ok(#name::#ident(#v))
                        }
                    });
                }
                EntityKind::Builtin(Builtin::Number) => {
                    let v = wrap(quote!(value));
                    let vi = wrap(quote!(value as f64));
                    on_number = Some((g.clone(), ident.clone(), v, vi));
                }
                EntityKind::Builtin(_) => {
                    let vi = wrap(quote! {
                        <#inner_ty as #rt::serde::Deserialize>::deserialize(#rt::serde::de::value::I64Deserializer::<E>::new(value))?
                    });
                    let vu = wrap(quote! {
                        <#inner_ty as #rt::serde::Deserialize>::deserialize(#rt::serde::de::value::U64Deserializer::<E>::new(value))?
                    });
                    on_int = Some((g.clone(), ident.clone(), vi, vu));
                }
                EntityKind::Object(_) => {
                    let v = wrap(quote! {
                        <#inner_ty as #rt::serde::Deserialize>::deserialize(#rt::serde::de::value::MapAccessDeserializer::new(map))?
                    });
                    on_object = Some(quote! {
                        #g
                        fn visit_map<A: #rt::serde::de::MapAccess<'de>>(self, map: A) -> Result_<Self::Value, A::Error> {
                            Result_::Ok(#name::#ident(#v))
                        }
                    });
                }
                EntityKind::Array(_) => {
                    let v = wrap(quote! {
                        <#inner_ty as #rt::serde::Deserialize>::deserialize(#rt::serde::de::value::SeqAccessDeserializer::new(seq))?
                    });
                    on_array = Some(quote! {
                        #g
                        fn visit_seq<A: #rt::serde::de::SeqAccess<'de>>(self, seq: A) -> Result_<Self::Value, A::Error> {
                            Result_::Ok(#name::#ident(#v))
                        }
                    });
                }
                _ => {}
            }
        }
        // Integers go to the integer branch, or else to the number branch.
        let mut int_methods = TokenStream::new();
        match (&on_int, &on_number) {
            (Some((g, ident, vi, vu)), _) => {
                int_methods.extend(quote! {
                    #g
                    fn visit_i64<E: #rt::serde::de::Error>(self, value: i64) -> Result_<Self::Value, E> {
                        Result_::Ok(#name::#ident(#vi))
                    }
                    #g
                    fn visit_u64<E: #rt::serde::de::Error>(self, value: u64) -> Result_<Self::Value, E> {
                        Result_::Ok(#name::#ident(#vu))
                    }
                });
            }
            (None, Some((g, ident, _, vi))) => {
                int_methods.extend(quote! {
                    #g
                    fn visit_i64<E: #rt::serde::de::Error>(self, value: i64) -> Result_<Self::Value, E> {
                        Result_::Ok(#name::#ident(#vi))
                    }
                    #g
                    fn visit_u64<E: #rt::serde::de::Error>(self, value: u64) -> Result_<Self::Value, E> {
                        Result_::Ok(#name::#ident(#vi))
                    }
                });
            }
            _ => {}
        }
        if let Some((g, ident, v, _)) = &on_number {
            int_methods.extend(quote! {
                #g
                fn visit_f64<E: #rt::serde::de::Error>(self, value: f64) -> Result_<Self::Value, E> {
                    Result_::Ok(#name::#ident(#v))
                }
            });
        }
        let expecting = lit(&format!("a value of alternate {}", e.name));
        let ser_body = if ser_arms.is_empty() {
            quote! { let _ = serializer; match *self {} }
        } else {
            quote! { match *self { #(#ser_arms)* } }
        };
        let (on_str, on_bool, on_null, on_object, on_array) = (
            on_str.unwrap_or_default(),
            on_bool.unwrap_or_default(),
            on_null.unwrap_or_default(),
            on_object.unwrap_or_default(),
            on_array.unwrap_or_default(),
        );
        let de_impl = self.deserialize_impl(
            &name,
            &guard,
            &expecting,
            quote!(deserialize_any),
            quote! {
                #on_str
                #on_bool
                #on_null
                #int_methods
                #on_object
                #on_array
            },
        );
        Ok(quote! {
            #docs
            #guard
            #dep
            #[derive(Debug, Clone, PartialEq)]
            #[allow(clippy::large_enum_variant, clippy::enum_variant_names)]
            pub enum #name {
                #(#decls)*
            }

            #guard
            #[allow(deprecated)]
            impl #rt::serde::Serialize for #name {
                fn serialize<S: #rt::serde::Serializer>(&self, serializer: S) -> Result_<S::Ok, S::Error> {
                    #ser_body
                }
            }

            #de_impl
        })
    }
}

fn push_line(lines: &mut Vec<String>, line: &str) {
    if !lines.is_empty() {
        lines.push(String::new());
    }
    lines.push(line.to_owned());
}

/// The member and branch edges that get a `Box`: enough to make the
/// containment graph (a member or branch holds its type by value; arrays
/// don't) acyclic, chosen greedily: in each cycle of types, the type with
/// the most cycles through it (in-degree × out-degree within its strongly
/// connected component) gets its incoming edges boxed, until no cycle is
/// left. `BlockdevRef`'s `BlockdevOptions` is boxed, not every `file`.
pub(super) fn boxed_edges(schema: &Schema) -> HashSet<(EntityId, EntityId)> {
    let n = schema.entities().len();
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); n];
    for e in schema.entities() {
        let mut add = |to: EntityId| {
            let t = &schema[to];
            let list = &mut edges[e.id.index()];
            if matches!(t.kind, EntityKind::Object(_) | EntityKind::Alternate(_)) && !list.contains(&to.index()) {
                list.push(to.index());
            }
        };
        match &e.kind {
            EntityKind::Object(o) => {
                for m in o.all_members(schema) {
                    add(m.ty);
                }
                if let Some(b) = &o.branches {
                    for br in &b.branches {
                        add(br.ty);
                    }
                }
            }
            EntityKind::Alternate(a) => {
                for br in &a.branches {
                    add(br.ty);
                }
            }
            _ => {}
        }
    }
    let mut boxed: HashSet<(usize, usize)> = HashSet::new();
    for (from, list) in edges.iter().enumerate() {
        if list.contains(&from) {
            boxed.insert((from, from));
        }
    }
    loop {
        let comp = components(&edges, &boxed);
        let mut size = vec![0usize; n];
        for &c in &comp {
            size[c] += 1;
        }
        // Per component, the node with the most cycles through it.
        let mut indeg = vec![0usize; n];
        let mut outdeg = vec![0usize; n];
        for (from, list) in edges.iter().enumerate() {
            for &to in list {
                if comp[from] == comp[to] && size[comp[from]] > 1 && !boxed.contains(&(from, to)) {
                    outdeg[from] += 1;
                    indeg[to] += 1;
                }
            }
        }
        let mut best: HashMap<usize, (usize, usize)> = HashMap::new();
        for v in 0..n {
            if size[comp[v]] > 1 {
                let score = indeg[v] * outdeg[v];
                let entry = best.entry(comp[v]).or_insert((score, v));
                if score >= entry.0 {
                    *entry = (score, v);
                }
            }
        }
        if best.is_empty() {
            break;
        }
        for &(_, v) in best.values() {
            for (from, list) in edges.iter().enumerate() {
                if comp[from] == comp[v] && list.contains(&v) {
                    boxed.insert((from, v));
                }
            }
        }
    }
    boxed.into_iter().map(|(a, b)| (EntityId::new(a), EntityId::new(b))).collect()
}

/// Strongly connected components (Kosaraju), ignoring `removed` edges:
/// the component number of each node.
fn components(edges: &[Vec<usize>], removed: &HashSet<(usize, usize)>) -> Vec<usize> {
    let n = edges.len();
    let live = |from: usize, to: usize| !removed.contains(&(from, to));
    // First pass: finishing order.
    let mut seen = vec![false; n];
    let mut order = Vec::with_capacity(n);
    for root in 0..n {
        if seen[root] {
            continue;
        }
        seen[root] = true;
        let mut stack = vec![(root, 0usize)];
        while let Some(top) = stack.last_mut() {
            let (node, next) = (top.0, top.1);
            if let Some(&to) = edges[node].get(next) {
                top.1 += 1;
                if live(node, to) && !seen[to] {
                    seen[to] = true;
                    stack.push((to, 0));
                }
            } else {
                order.push(node);
                stack.pop();
            }
        }
    }
    // Second pass on the reversed graph.
    let mut rev: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (from, list) in edges.iter().enumerate() {
        for &to in list {
            if live(from, to) {
                rev[to].push(from);
            }
        }
    }
    let mut comp = vec![usize::MAX; n];
    for &root in order.iter().rev() {
        if comp[root] != usize::MAX {
            continue;
        }
        comp[root] = root;
        let mut stack = vec![root];
        while let Some(node) = stack.pop() {
            for &from in &rev[node] {
                if comp[from] == usize::MAX {
                    comp[from] = root;
                    stack.push(from);
                }
            }
        }
    }
    comp
}
