//! Building the model from checked definitions, with QEMU's schema checks
//! (`scripts/qapi/schema.py`).
//!
//! Three phases, as in QEMU:
//!
//! 1. *define*: built-in types, then each definition in order, creating
//!    array types and implicit object types where they are first needed;
//!    a name defined twice is reported here;
//! 2. *check*: each entity in order resolves its type references and is
//!    checked, then its documentation is connected to its members and
//!    features;
//! 3. *freeze*: the documentation blocks are checked for descriptions of
//!    things that don't exist, entities are assigned to modules, and the
//!    public model is made.
//!
//! Where QEMU stops at the first error, this keeps going: an error makes
//! what depends on it unknown (an unresolved type, an object whose members
//! are incomplete), and checks that would only repeat the error are
//! skipped.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use indexmap::IndexMap;

use super::cname::c_name_into;
use super::{
    AlternateType, ArrayType, Branch, Branches, Builtin, Command, Entity, EntityId, EntityKind, EnumType, EnumValue,
    Event, Feature, Member, Module, ModuleId, ModuleItem, ObjectType, Schema,
};
use crate::check::ast::{self, Checked, Cond, DefKind, Members};
use crate::diag::{Diagnostic, Diagnostics};
use crate::doc::bind::{DocBinder, DocId, Documented, Role};
use crate::doc::Doc;
use crate::source::Span;
use crate::syntax::load::Loaded;

mod checks;
mod docs;
mod freeze;
mod raw;
mod unions;

use freeze::freeze;
use raw::*;

enum Item {
    Include { name: String, span: Span },
    Entity(Id),
}

struct Builder<'a> {
    ents: Vec<RawEntity>,
    names: FastMap<String, Id>,
    items: Vec<Item>,
    /// Feature names, first use first, with where first used.
    features: IndexMap<String, Option<Rc<Origin>>>,
    binder: DocBinder,
    returns_exceptions: HashSet<&'a str>,
    diags: &'a mut Diagnostics,
    /// Objects already reported as containing themselves.
    cycles: HashSet<Id>,
    q_empty: Option<Id>,
    /// Interned C names.
    cnames: FastMap<String, u32>,
    /// A buffer for C names.
    scratch: String,
}

pub(super) fn build(checked: Vec<Checked>, loaded: Loaded, diags: &mut Diagnostics) -> Schema {
    let errors_before = diags.iter().filter(|d| d.is_error()).count();
    let Loaded { docs, pragma, files, .. } = loaded;
    let pragma = &pragma;
    let mut b = Builder {
        ents: Vec::new(),
        names: FastMap::default(),
        items: Vec::new(),
        features: ["deprecated", "unstable"].into_iter().map(|f| (f.to_owned(), None)).collect(),
        binder: DocBinder::new(docs, &pragma.documentation_exceptions),
        returns_exceptions: pragma.command_returns_exceptions.iter().map(String::as_str).collect(),
        diags,
        cycles: HashSet::new(),
        q_empty: None,
        cnames: FastMap::default(),
        scratch: String::new(),
    };
    b.def_predefineds();
    for c in checked {
        match c {
            Checked::Include { name, span } => b.items.push(Item::Include { name, span }),
            Checked::Definition(def) => b.def_definition(def),
        }
    }
    for id in 0..b.ents.len() {
        b.check_entity(id);
        b.connect_doc(id);
    }
    let Builder { ents, names, items, features, binder, diags, .. } = b;
    let docs = binder.finish(diags);
    if features.len() > MAX_FEATURES {
        if let Some((_, Some(o))) = features.get_index(MAX_FEATURES) {
            diags.push(
                Diagnostic::error(o.span.clone(), "Maximum of 64 schema features is permitted")
                    .in_definition(o.context()),
            );
        }
    }
    if diags.iter().filter(|d| d.is_error()).count() > errors_before {
        return Schema::default();
    }
    let root = files.first().map(|f| f.name.clone()).unwrap_or_default();
    freeze(ents, names, items, features.into_keys().collect(), docs, &root)
}

impl Builder<'_> {
    fn error(&mut self, span: &Span, msg: impl Into<String>, context: &str) {
        self.diags.push(Diagnostic::error(span.clone(), msg).in_definition(context));
    }

    fn error_at(&mut self, origin: &Origin, msg: impl Into<String>) {
        self.error(&origin.span, msg, &origin.context());
    }

    fn lookup_type(&self, name: &str) -> Option<Id> {
        self.names.get(name).copied().filter(|&id| self.ents[id].is_type())
    }

    // ---- phase 1: definitions -------------------------------------------

    /// Adds an entity, unless its name is taken.
    fn define(&mut self, ent: RawEntity) -> Option<Id> {
        if let Some(&prev) = self.names.get(&ent.name) {
            self.report_redefinition(&ent, prev);
            return None;
        }
        let id = self.ents.len();
        self.names.insert(ent.name.clone(), id);
        self.ents.push(ent);
        self.items.push(Item::Entity(id));
        Some(id)
    }

    fn report_redefinition(&mut self, ent: &RawEntity, prev: Id) {
        let Some(o) = &ent.origin else {
            return;
        };
        let p = &self.ents[prev];
        let d = match &p.origin {
            Some(po) => Diagnostic::error(o.span.clone(), format!("'{}' is already defined", ent.name))
                .in_definition(o.context())
                .with_help(format!("previous definition: {} at {}", po.context(), po.span.location())),
            None => Diagnostic::error(o.span.clone(), format!("{} is already defined", p.describe()))
                .in_definition(o.context()),
        };
        self.diags.push(d);
    }

    fn def_predefineds(&mut self) {
        for b in Builtin::ALL {
            self.define(RawEntity {
                name: b.name().to_owned(),
                origin: None,
                cond: None,
                features: Vec::new(),
                doc: None,
                kind: RawKind::Builtin(b),
            });
            self.make_array(b.name(), None);
        }
        self.q_empty = self.define(RawEntity {
            name: "q_empty".to_owned(),
            origin: None,
            cond: None,
            features: Vec::new(),
            doc: None,
            kind: RawKind::Object(RawObject::new(None, Vec::new(), None)),
        });
        let values = ["none", "qnull", "qnum", "qstring", "qdict", "qlist", "qbool"]
            .into_iter()
            .map(|n| RawValue {
                name: n.to_owned(),
                ckey: self.ckey(n),
                cond: None,
                features: Vec::new(),
                span: None,
                doc: None,
            })
            .collect();
        self.define(RawEntity {
            name: "QType".to_owned(),
            origin: None,
            cond: None,
            features: Vec::new(),
            doc: None,
            kind: RawKind::Enum { values, prefix: None },
        });
    }

    /// The name of the array type of `elem`, defining it on first use.
    fn make_array(&mut self, elem: &str, origin: Option<&Rc<Origin>>) -> String {
        let name = format!("{elem}List");
        if self.lookup_type(&name).is_none() {
            self.define(RawEntity {
                name: name.clone(),
                origin: origin.cloned(),
                cond: None,
                features: Vec::new(),
                doc: None,
                kind: RawKind::Array { elem_name: elem.to_owned(), elem: None },
            });
        }
        name
    }

    fn type_name(&mut self, ty: ast::TypeRef, origin: &Rc<Origin>) -> String {
        if ty.array {
            self.make_array(&ty.name, Some(origin))
        } else {
            ty.name
        }
    }

    fn make_features(&mut self, features: Vec<ast::Feature>, origin: &Rc<Origin>) -> Vec<RawFeature> {
        features
            .into_iter()
            .map(|f| {
                if !self.features.contains_key(&f.name) {
                    self.features.insert(f.name.clone(), Some(origin.clone()));
                }
                RawFeature { name: f.name, cond: f.cond, span: f.span, doc: None }
            })
            .collect()
    }

    fn make_members(&mut self, members: Vec<ast::Member>, origin: &Rc<Origin>) -> Vec<RawMember> {
        members
            .into_iter()
            .map(|m| {
                let ty_name = self.type_name(m.ty, origin);
                let features = self.make_features(m.features, origin);
                RawMember {
                    ckey: self.ckey(&m.name),
                    name: m.name,
                    ty_name,
                    ty: None,
                    optional: m.optional,
                    cond: m.cond,
                    features,
                    span: m.span,
                    defined_in: usize::MAX,
                    doc: None,
                }
            })
            .collect()
    }

    fn make_branches(&mut self, branches: Vec<ast::Branch>, origin: &Rc<Origin>) -> Vec<RawBranch> {
        branches
            .into_iter()
            .map(|b| RawBranch {
                ty_name: self.type_name(b.ty, origin),
                name: b.name,
                ty: None,
                cond: b.cond,
                span: Some(b.span),
                doc: None,
            })
            .collect()
    }

    /// Defines an object type; its members learn who defines them.
    fn define_object(&mut self, mut ent: RawEntity) -> Option<Id> {
        let id = self.ents.len();
        if let Some(o) = ent.object_mut() {
            for m in &mut o.local {
                m.defined_in = id;
            }
        }
        let got = self.define(ent)?;
        debug_assert_eq!(got, id);
        Some(got)
    }

    /// The implicit object type `q_obj_NAME-ROLE` for members written in
    /// place; none when there are no members.
    fn make_implicit_object(
        &mut self,
        role: &str,
        members: Vec<RawMember>,
        cond: &Option<Cond>,
        origin: &Rc<Origin>,
    ) -> Option<String> {
        if members.is_empty() {
            return None;
        }
        let name = format!("q_obj_{}-{}", origin.name, role);
        if !self.names.contains_key(&name) {
            self.define_object(RawEntity {
                name: name.clone(),
                origin: Some(origin.clone()),
                cond: cond.clone(),
                features: Vec::new(),
                doc: None,
                kind: RawKind::Object(RawObject::new(None, members, None)),
            });
        }
        Some(name)
    }

    fn def_definition(&mut self, def: ast::Definition) {
        let origin = Rc::new(Origin { span: def.span.clone(), name: def.name.clone(), meta: def.kind.meta() });
        let doc = def.doc.as_ref().map(|d| self.binder.find(d));
        if let Some(&prev) = self.names.get(&def.name) {
            let placeholder = RawEntity {
                name: def.name.clone(),
                origin: Some(origin),
                cond: None,
                features: Vec::new(),
                doc: None,
                kind: RawKind::Builtin(Builtin::Any),
            };
            self.report_redefinition(&placeholder, prev);
            if let Some(d) = doc {
                self.binder.skip(d);
            }
            return;
        }
        let features = self.make_features(def.features, &origin);
        let cond = def.cond;
        let kind = match def.kind {
            DefKind::Enum { values, prefix } => {
                let values = values
                    .into_iter()
                    .map(|v| RawValue {
                        features: self.make_features(v.features, &origin),
                        ckey: self.ckey(&v.name),
                        name: v.name,
                        cond: v.cond,
                        span: Some(v.span),
                        doc: None,
                    })
                    .collect();
                RawKind::Enum { values, prefix }
            }
            DefKind::Struct { base, members } => {
                let local = self.make_members(members, &origin);
                RawKind::Object(RawObject::new(base.map(|b| b.name), local, None))
            }
            DefKind::Union { base, discriminator, branches } => {
                let base_name = match base {
                    Members::Named(t) => Some(t.name),
                    Members::Inline(ms) => {
                        let members = self.make_members(ms, &origin);
                        self.make_implicit_object("base", members, &cond, &origin)
                    }
                };
                let list = self.make_branches(branches, &origin);
                let branches = RawBranches { tag_name: discriminator, tag: None, list };
                RawKind::Object(RawObject::new(base_name, Vec::new(), Some(branches)))
            }
            DefKind::Alternate { branches } => RawKind::Alternate { branches: self.make_branches(branches, &origin) },
            DefKind::Command { data, returns, boxed, gen, success_response, allow_oob, allow_preconfig, coroutine } => {
                let arg_name = self.make_args(data, &cond, &origin);
                let ret_name = returns.map(|r| self.type_name(r, &origin));
                RawKind::Command {
                    arg_name,
                    arg: None,
                    ret_name,
                    ret: None,
                    flags: Flags { boxed, gen, success_response, allow_oob, allow_preconfig, coroutine },
                }
            }
            DefKind::Event { data, boxed } => {
                RawKind::Event { arg_name: self.make_args(data, &cond, &origin), arg: None, boxed }
            }
        };
        let ent = RawEntity { name: def.name, origin: Some(origin), cond, features, doc, kind };
        if self.define_object(ent).is_none() {
            if let Some(d) = doc {
                self.binder.skip(d);
            }
        }
    }

    fn make_args(&mut self, data: Option<Members>, cond: &Option<Cond>, origin: &Rc<Origin>) -> Option<String> {
        match data? {
            Members::Named(t) => Some(t.name),
            Members::Inline(ms) => {
                let members = self.make_members(ms, origin);
                self.make_implicit_object("arg", members, cond, origin)
            }
        }
    }
}

#[cfg(test)]
mod tests;
