//! Unions. One whose base holds only the discriminator is a Rust enum,
//! one variant per branch; otherwise a struct of the base members whose
//! discriminator member holds a `FooBranch` enum. A client keeps the
//! branches it does not know (`Unknown { tag, members }`). Decoding reads
//! the members, then builds the branch once the discriminator is known.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::cond::{allow_deprecated, Deprecation};
use super::cx::Paths;
use super::enums::fallback_name;
use super::names::{self, Scope};
use super::structs::{slot, Field, Head};
use super::{doc, lints, rustdoc, Cx, GenError};
use crate::model::{Branches, Entity, EntityId, EnumType, Member, ObjectType};

/// A branch of a union as generated.
struct Variant {
    ident: Ident,
    wire: String,
    /// The branch type's id and Rust type; `None` for a branch without
    /// members.
    ty: Option<(EntityId, TokenStream)>,
    boxed: bool,
    guard: TokenStream,
    docs: Vec<String>,
    dep: TokenStream,
    /// Its tag value is deprecated.
    deprecated: bool,
    /// Its type is deprecated.
    ty_deprecated: bool,
}

/// What the pieces of a union's code share.
struct Union<'u> {
    e: &'u Entity,
    head: &'u Head,
    name: Ident,
    /// The enum of the branches: the union itself when it is an enum.
    branch_ty: Ident,
    /// The discriminator's enum type.
    tag_ty: Ident,
    /// The discriminator's name on the wire.
    tag_wire: &'u str,
    /// The discriminator's field in the struct.
    tag_field: Ident,
    /// The variant keeping unknown branches (client mode).
    fallback: Option<Ident>,
    as_enum: bool,
    variants: Vec<Variant>,
    /// The base members other than the discriminator.
    fields: Vec<Field>,
    /// The base members, the discriminator included, in wire order.
    base_members: Vec<&'u Member>,
    /// A tag value is generated while its branch is not.
    needs_wildcard: bool,
    /// No branch at all, in server mode: the enum is empty.
    empty: bool,
    /// What the union's code touches that is deprecated.
    dep: Deprecation,
    /// What the code of the branch enum touches that is deprecated.
    branch_dep: Deprecation,
}

impl Cx<'_> {
    pub(super) fn union(&self, e: &Entity, obj: &ObjectType, head: &Head) -> Result<TokenStream, GenError> {
        let Some(br) = &obj.branches else { return Ok(TokenStream::new()) };
        let Some(tag_enum) = self.schema[br.tag.ty].as_enum() else { return Ok(TokenStream::new()) };
        let u = self.union_parts(e, obj, br, tag_enum, head)?;
        let dep = u.dep;
        let mut out = TokenStream::new();
        if !u.as_enum {
            out.extend(self.union_struct(&u, br));
        }
        out.extend(self.branch_enum(&u));
        out.extend(self.tag_impl(&u));
        out.extend(self.union_serialize(&u));
        out.extend(self.union_deserialize(&u));
        if !u.as_enum {
            out.extend(self.accessors(&u.name, &head.guard, dep, &u.fields));
        }
        if self.opts.json_codec {
            out.extend(self.codec_via_serde(&u.name, &head.guard, dep));
        }
        Ok(out)
    }

    fn union_parts<'u>(
        &'u self,
        e: &'u Entity,
        obj: &'u ObjectType,
        br: &'u Branches,
        tag_enum: &EnumType,
        head: &'u Head,
    ) -> Result<Union<'u>, GenError> {
        let tag = &br.tag;
        let strict = self.strict();
        let as_enum = self.union_is_enum(e);
        let name = self.ident(e.id);
        let variants = self.union_variants(e, br, tag_enum)?;
        let base_members: Vec<&Member> = obj.all_members(self.schema).collect();
        let mut scope = Scope::new(&e.name);
        let since = self.since_of(e);
        let others = base_members.iter().copied().filter(|m| m.name != tag.name);
        let fields = self.fields(e.id, others, since.as_deref(), &mut scope)?;
        scope.claim(&names::snake(&tag.name), &tag.name)?;
        let branch_dep = Deprecation {
            itself: as_enum && head.deprecated,
            parts: variants.iter().any(|v| v.deprecated),
            types: variants.iter().any(|v| v.ty_deprecated) || self.type_deprecated(tag.ty),
        };
        let dep = Deprecation {
            itself: head.deprecated,
            parts: branch_dep.parts || fields.iter().any(|f| f.deprecated),
            types: branch_dep.types || fields.iter().any(|f| f.ty_deprecated),
        };
        Ok(Union {
            e,
            head,
            branch_ty: if as_enum { name.clone() } else { self.branch_name(e) },
            name,
            tag_ty: self.ident(tag.ty),
            tag_wire: &tag.name,
            tag_field: names::to_ident(&names::ident(&names::snake(&tag.name))),
            fallback: (!strict).then(|| fallback_name(tag_enum)),
            as_enum,
            needs_wildcard: self.needs_wildcard(tag_enum, &variants),
            empty: variants.is_empty() && strict,
            variants,
            fields,
            base_members,
            dep,
            branch_dep,
        })
    }

    /// The branches that are generated.
    fn union_variants(&self, e: &Entity, br: &Branches, tag_enum: &EnumType) -> Result<Vec<Variant>, GenError> {
        let mut scope = Scope::new(&e.name);
        let mut variants = Vec::new();
        for b in &br.branches {
            let value = tag_enum.value(&b.name);
            let value_cond = value.and_then(|v| v.cond.as_ref());
            let value_unstable = value.is_some_and(|v| self.has_feature(&v.features, "unstable"));
            let implied = self.schema[b.ty].name == "q_empty";
            let ty_cond = if implied { None } else { self.type_cond(b.ty) };
            let unstable = value_unstable || (!implied && self.type_unstable(b.ty));
            let Some(guard) = self.guard(&[b.cond.as_ref(), value_cond, ty_cond], unstable) else { continue };
            let text = names::camel(&b.name);
            scope.claim(&text, &b.name)?;
            let mut docs = vec![format!("`{}` is `{}`.", doc::prose(&br.tag.name), doc::prose(&b.name))];
            let value_doc = value.and_then(|v| v.doc()).map(|d| doc::render(&d.text)).unwrap_or_default();
            if !value_doc.is_empty() {
                docs.push(String::new());
                docs.extend(value_doc);
            }
            if let Some(note) = self.cond_note(&[b.cond.as_ref(), value_cond, ty_cond], e.cond.as_ref()) {
                rustdoc::push_line(&mut docs, &note);
            }
            variants.push(Variant {
                ident: names::to_ident(&names::ident(&text)),
                wire: b.name.clone(),
                ty: (!implied).then(|| (b.ty, self.held_ty(e.id, b.ty))),
                boxed: self.is_boxed(e.id, b.ty),
                guard,
                docs,
                dep: value.map(|v| self.deprecated(&v.features)).unwrap_or_default(),
                deprecated: value.is_some_and(|v| self.is_deprecated(&v.features)),
                ty_deprecated: !implied && self.type_deprecated(b.ty),
            });
        }
        Ok(variants)
    }

    /// Whether a tag value is generated while its branch is not (or is
    /// under another condition): decoding then needs a wildcard arm.
    fn needs_wildcard(&self, tag_enum: &EnumType, variants: &[Variant]) -> bool {
        tag_enum.values.iter().any(|v| {
            let vg = self.guard(&[v.cond.as_ref()], self.has_feature(&v.features, "unstable"));
            match (vg, variants.iter().find(|x| x.wire == v.name)) {
                (None, _) => false,
                (Some(_), None) => true,
                (Some(vg), Some(x)) => vg.to_string() != x.guard.to_string(),
            }
        })
    }

    /// The struct of the base members; the discriminator's member holds
    /// the branch.
    fn union_struct(&self, u: &Union<'_>, br: &Branches) -> TokenStream {
        let Head { guard, dep, .. } = u.head;
        let docs = rustdoc::attrs(&u.head.docs);
        let mut tag_lines = br.tag.doc().map(|s| doc::render(&s.text)).unwrap_or_default();
        rustdoc::push_line(
            &mut tag_lines,
            "The discriminator: its value selects the branch, which holds the branch's members.",
        );
        let tag_docs = rustdoc::attrs(&tag_lines);
        let (tag_field, branch_ty, name) = (&u.tag_field, &u.branch_ty, &u.name);
        let fields = self.in_wire_order(u, |f| self.field_decl(f), quote!(#tag_docs pub #tag_field: #branch_ty,));
        let allow = allow_deprecated(u.fields.iter().any(|f| f.ty_deprecated));
        quote! {
            #docs
            #guard
            #dep
            #[derive(Debug, Clone, PartialEq)]
            #allow
            pub struct #name {
                #(#fields)*
            }
        }
    }

    /// `field` of each base member in wire order, and `tag` where the
    /// discriminator is.
    fn in_wire_order(
        &self,
        u: &Union<'_>,
        field: impl Fn(&Field) -> TokenStream,
        tag: TokenStream,
    ) -> Vec<TokenStream> {
        let mut fields = u.fields.iter();
        let mut out = Vec::new();
        for m in &u.base_members {
            if m.name == u.tag_wire {
                out.push(tag.clone());
            } else if self.member_guard(m).is_some() {
                // Members dropped by their guard have no field.
                out.extend(fields.next().map(&field));
            }
        }
        out
    }

    /// The enum of the branches.
    fn branch_enum(&self, u: &Union<'_>) -> TokenStream {
        let Paths { rt, string, .. } = self.paths();
        let guard = &u.head.guard;
        let head = if u.as_enum {
            let docs = rustdoc::attrs(&u.head.docs);
            let dep = &u.head.dep;
            quote!(#docs #guard #dep)
        } else {
            let docs = rustdoc::attrs(&[format!("The branches of `{}`, by the value of `{}`.", u.name, u.tag_wire)]);
            quote!(#docs #guard)
        };
        let variants = u.variants.iter().map(|v| {
            let Variant { ident, guard, dep, .. } = v;
            let docs = rustdoc::attrs(&v.docs);
            let ty = v.ty.as_ref().map(|(_, t)| quote!((#t)));
            quote!(#docs #guard #dep #ident #ty,)
        });
        let fallback = u.fallback.as_ref().map(|f| {
            quote! {
                /// A branch this side does not know: the discriminator's value
                /// and the other members, as received.
                #f {
                    /// The discriminator's value.
                    tag: #string,
                    /// The members other than the common ones.
                    members: #rt::serde_json::Map<#string, #rt::serde_json::Value>,
                },
            }
        });
        let branch_ty = &u.branch_ty;
        let allow = allow_deprecated(u.variants.iter().any(|v| v.ty_deprecated));
        let large = u.variants.iter().any(|v| v.ty.is_some() && !v.boxed);
        let none = TokenStream::new();
        let idents = u.variants.iter().map(|v| (&v.ident, &v.guard)).chain(u.fallback.iter().map(|f| (f, &none)));
        let names = lints::enum_variant_names(branch_ty, idents);
        let lints = lints::allow(&[("large_enum_variant", large), ("enum_variant_names", names)]);
        quote! {
            #head
            #[derive(Debug, Clone, PartialEq)]
            #lints
            #allow
            pub enum #branch_ty {
                #(#variants)*
                #fallback
            }
        }
    }

    /// `tag()`: the discriminator's value for a branch.
    fn tag_impl(&self, u: &Union<'_>) -> TokenStream {
        let (branch_ty, tag_ty, guard) = (&u.branch_ty, &u.tag_ty, &u.head.guard);
        let body = if u.empty {
            quote!(match *self {})
        } else {
            let arms = u.variants.iter().map(|v| {
                let Variant { ident, guard, .. } = v;
                let pat = if v.ty.is_some() { quote!(Self::#ident(..)) } else { quote!(Self::#ident) };
                quote!(#guard #pat => #tag_ty::#ident,)
            });
            let fallback = u
                .fallback
                .as_ref()
                .map(|f| quote!(Self::#f { ref tag, .. } => #tag_ty::#f(::core::clone::Clone::clone(tag)),));
            quote!(match *self { #(#arms)* #fallback })
        };
        let allow = u.branch_dep.body();
        quote! {
            #guard
            #allow
            impl #branch_ty {
                /// The discriminator's value for this branch.
                #[inline]
                pub fn tag(&self) -> #tag_ty {
                    #body
                }
            }
        }
    }

    /// Statements writing the members of the branch `self` holds into
    /// `map`.
    fn branch_members(&self, u: &Union<'_>) -> TokenStream {
        let Paths { rt, result, .. } = self.paths();
        if u.empty {
            return quote! {
                let _ = map;
                match *self {}
            };
        }
        // No branch that is always there writes members.
        let unused = (self.strict() && !u.as_enum && !u.variants.iter().any(|v| v.ty.is_some() && v.guard.is_empty()))
            .then(|| quote!(let _ = &map;));
        let arms = u.variants.iter().map(|v| {
            let Variant { ident, guard, .. } = v;
            match &v.ty {
                Some((id, _)) => {
                    let ty = self.ty(*id);
                    quote! {
                        #guard
                        Self::#ident(ref branch) => <#ty as #rt::types::ObjectMembers>::serialize_members(branch, map)?,
                    }
                }
                None => quote!(#guard Self::#ident => {}),
            }
        });
        let fallback = u.fallback.as_ref().map(|f| {
            quote! {
                Self::#f { ref members, .. } => {
                    for (key, value) in members {
                        map.serialize_entry(key, value)?;
                    }
                }
            }
        });
        quote! {
            #unused
            match *self {
                #(#arms)*
                #fallback
            }
            #result::Ok(())
        }
    }

    /// `ObjectMembers` and `Serialize`: the base members, the
    /// discriminator in its place, then the branch's members.
    fn union_serialize(&self, u: &Union<'_>) -> TokenStream {
        let rt = self.paths().rt;
        let (name, branch_ty, guard, tag_wire) = (&u.name, &u.branch_ty, &u.head.guard, u.tag_wire);
        let branch_members = self.branch_members(u);
        if u.as_enum {
            let tag = (!u.empty).then(|| quote!(map.serialize_entry(#tag_wire, &self.tag())?;));
            return self.object_serialize_impls(guard, u.dep, name, true, quote!(#tag #branch_members));
        }
        let mut out = self.object_members_impl(guard, u.branch_dep.body(), branch_ty, true, branch_members);
        let tag_field = &u.tag_field;
        let entries = self.in_wire_order(
            u,
            |f| self.serialize_fields(std::slice::from_ref(f)),
            quote!(map.serialize_entry(#tag_wire, &self.#tag_field.tag())?;),
        );
        out.extend(self.object_serialize_impls(
            guard,
            u.dep,
            name,
            true,
            quote! {
                #(#entries)*
                <#branch_ty as #rt::types::ObjectMembers>::serialize_members(&self.#tag_field, map)
            },
        ));
        out
    }

    /// `Deserialize`: the members, then the branch once the
    /// discriminator is known.
    fn union_deserialize(&self, u: &Union<'_>) -> TokenStream {
        let Paths { rt, result, .. } = self.paths();
        let (name, tag_wire) = (&u.name, u.tag_wire);
        let tag = format_ident!("tag");
        let read = self.read_members(&u.fields, Some((&tag, tag_wire, &u.tag_ty)), &format_ident!("rest"));
        let required = u.fields.iter().enumerate().filter(|(_, f)| !f.optional).map(|(i, f)| {
            let (guard, wire, m) = (&f.guard, &f.wire, slot(i));
            quote!(#guard let #m = #rt::types::required(#m, #wire)?;)
        });
        let branch = self.branch_from_rest(u);
        let value = if u.as_enum {
            quote!(branch)
        } else {
            let inits = u.fields.iter().enumerate().map(|(i, f)| {
                let (guard, ident, m) = (&f.guard, &f.ident, slot(i));
                quote!(#guard #ident: #m,)
            });
            let tag_field = &u.tag_field;
            quote!(#name { #(#inits)* #tag_field: branch })
        };
        let visit = self.visit_map(
            name,
            quote! {
                #read
                let tag = #rt::types::required(tag, #tag_wire)?;
                #(#required)*
                #branch
                #result::Ok(#value)
            },
        );
        let expecting = format!("an object ({})", u.e.name);
        self.visitor_impl(&u.head.guard, u.dep, name, &expecting, "deserialize_map", visit)
    }

    /// `let branch = match tag { ... };`: the branch for the
    /// discriminator's value, from the members not read yet (`rest`).
    fn branch_from_rest(&self, u: &Union<'_>) -> TokenStream {
        let Paths { rt, result, .. } = self.paths();
        let (branch_ty, tag_ty) = (&u.branch_ty, &u.tag_ty);
        if u.empty {
            return quote! {
                let _ = rest;
                let branch: #branch_ty = match tag {};
            };
        }
        let strict = self.strict();
        let arms = u.variants.iter().map(|v| {
            let Variant { ident, guard, .. } = v;
            if v.ty.is_none() {
                return quote! {
                    #guard
                    #tag_ty::#ident => {
                        #rt::types::no_members(&rest, #strict)?;
                        #branch_ty::#ident
                    }
                };
            }
            let value = quote!(#rt::types::branch_from_members(rest)?);
            let value = if v.boxed { quote!(::std::boxed::Box::new(#value)) } else { value };
            quote!(#guard #tag_ty::#ident => #branch_ty::#ident(#value),)
        });
        let fallback = u.fallback.as_ref().map(|f| quote!(#tag_ty::#f(tag) => #branch_ty::#f { tag, members: rest },));
        let wildcard = u.needs_wildcard.then(|| {
            let msg = format!("the branch of {} for this '{}' is not available", u.e.name, u.tag_wire);
            quote! {
                #[allow(unreachable_patterns)]
                _ => return #result::Err(#rt::serde::de::Error::custom(#msg)),
            }
        });
        quote! {
            let branch = match tag {
                #(#arms)*
                #fallback
                #wildcard
            };
        }
    }
}
