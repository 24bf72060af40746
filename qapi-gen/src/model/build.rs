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

/// A fast hasher for the builder's maps of names (FxHash's mixing).
#[derive(Debug, Default, Clone, Copy)]
struct FastHasher(u64);

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// QEMU's limit on distinct feature names in a schema.
const MAX_FEATURES: usize = 64;

type Id = usize;

/// The definition an entity comes from, as QEMU's `info` locates it.
#[derive(Debug, Clone)]
struct Origin {
    /// The definition.
    span: Span,
    /// `Foo`
    name: String,
    /// `struct`
    meta: &'static str,
}

impl Origin {
    /// `struct 'Foo'`, as diagnostics name the definition.
    fn context(&self) -> String {
        format!("{} '{}'", self.meta, self.name)
    }
}

#[derive(Debug, Clone)]
struct RawFeature {
    name: String,
    cond: Option<Cond>,
    span: Span,
    doc: Option<DocId>,
}

#[derive(Debug, Clone)]
struct RawMember {
    name: String,
    /// The interned C name.
    ckey: u32,
    ty_name: String,
    ty: Option<Id>,
    optional: bool,
    cond: Option<Cond>,
    features: Vec<RawFeature>,
    span: Span,
    defined_in: Id,
    doc: Option<DocId>,
}

#[derive(Debug, Clone)]
struct RawBranch {
    name: String,
    ty_name: String,
    ty: Option<Id>,
    cond: Option<Cond>,
    /// `None` for a branch implied by a tag value.
    span: Option<Span>,
    doc: Option<DocId>,
}

#[derive(Debug, Clone)]
struct RawValue {
    name: String,
    /// The interned C name.
    ckey: u32,
    cond: Option<Cond>,
    features: Vec<RawFeature>,
    span: Option<Span>,
    doc: Option<DocId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    New,
    InProgress,
    Done,
}

/// A member of an object type: the type defining it and its index there.
type MemberRef = (Id, usize);

#[derive(Debug)]
struct RawBranches {
    tag_name: String,
    tag: Option<MemberRef>,
    list: Vec<RawBranch>,
}

#[derive(Debug)]
struct RawObject {
    base_name: Option<String>,
    /// The base, once resolved; kept only when its check completed, so
    /// base chains never loop.
    base: Option<Id>,
    local: Vec<RawMember>,
    branches: Option<RawBranches>,
    state: State,
    /// Every member is known: the base chain resolved without error.
    complete: bool,
    /// The local members by interned C name.
    local_keys: FastMap<u32, usize>,
}

#[derive(Debug, Clone, Copy)]
struct Flags {
    boxed: bool,
    gen: bool,
    success_response: bool,
    allow_oob: bool,
    allow_preconfig: bool,
    coroutine: bool,
}

#[derive(Debug)]
enum RawKind {
    Builtin(Builtin),
    Enum { values: Vec<RawValue>, prefix: Option<String> },
    Array { elem_name: String, elem: Option<Id> },
    Object(RawObject),
    Alternate { branches: Vec<RawBranch> },
    Command { arg_name: Option<String>, arg: Option<Id>, ret_name: Option<String>, ret: Option<Id>, flags: Flags },
    Event { arg_name: Option<String>, arg: Option<Id>, boxed: bool },
}

#[derive(Debug)]
struct RawEntity {
    name: String,
    /// The entity's own definition; for implicit types, the one that
    /// introduced them; `None` for built-ins.
    origin: Option<Rc<Origin>>,
    cond: Option<Cond>,
    features: Vec<RawFeature>,
    doc: Option<DocId>,
    kind: RawKind,
}

impl RawEntity {
    fn is_type(&self) -> bool {
        !matches!(self.kind, RawKind::Command { .. } | RawKind::Event { .. })
    }

    fn object(&self) -> Option<&RawObject> {
        match &self.kind {
            RawKind::Object(o) => Some(o),
            _ => None,
        }
    }

    fn object_mut(&mut self) -> Option<&mut RawObject> {
        match &mut self.kind {
            RawKind::Object(o) => Some(o),
            _ => None,
        }
    }

    fn is_union(&self) -> bool {
        self.object().is_some_and(|o| o.branches.is_some())
    }

    /// QEMU's `describe()`: `struct type 'Foo'`, `array type ['int']`,
    /// `command 'foo'`.
    fn describe(&self) -> String {
        match &self.kind {
            RawKind::Builtin(_) => format!("built-in type '{}'", self.name),
            RawKind::Enum { .. } => format!("enum type '{}'", self.name),
            RawKind::Array { elem_name, .. } => format!("array type ['{elem_name}']"),
            RawKind::Object(o) if o.branches.is_some() => format!("union type '{}'", self.name),
            RawKind::Object(_) => format!("struct type '{}'", self.name),
            RawKind::Alternate { .. } => format!("alternate type '{}'", self.name),
            RawKind::Command { .. } => format!("command '{}'", self.name),
            RawKind::Event { .. } => format!("event '{}'", self.name),
        }
    }
}

/// A value, branch or feature as QEMU describes it in clash and
/// resolution errors.
#[derive(Debug, Clone)]
struct Described {
    role: &'static str,
    name: String,
    /// The name of what defines it (a type; for member features, the
    /// member, as QEMU has it).
    defined_in: String,
}

/// Something whose C name must be unique among its peers.
#[derive(Debug, Clone)]
enum Who {
    /// A member of an object type.
    Member(MemberRef),
    /// A value of an enum type: the type and the value's index.
    Value(Id, usize),
    /// Anything else.
    Named(Described),
}

impl Described {
    /// QEMU's `QAPISchemaMember.describe()`, relative to the definition
    /// being checked.
    fn describe(&self, defn_name: &str) -> String {
        let mut role = self.role.to_owned();
        let mut meta = "type";
        let mut owner = self.defined_in.as_str();
        if let Some(rest) = owner.strip_prefix("q_obj_") {
            owner = rest;
            if let Some(cmd) = rest.strip_suffix("-arg") {
                role = "parameter".to_owned();
                meta = "command";
                owner = cmd;
            } else if let Some(union) = rest.strip_suffix("-base") {
                role = format!("base {role}");
                owner = union;
            }
        }
        if owner != defn_name {
            format!("{role} '{}' of {meta} '{owner}'", self.name)
        } else {
            format!("{role} '{}'", self.name)
        }
    }
}

/// Members seen so far, by (interned) C name.
type Seen = IndexMap<u32, Who>;

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

    // ---- phase 2: checks ------------------------------------------------

    fn check_entity(&mut self, id: Id) {
        let Some(origin) = self.ents[id].origin.clone() else {
            // Built-ins are right by construction, but q_empty still needs
            // its (empty) member list, and arrays their element.
            match &self.ents[id].kind {
                RawKind::Object(_) => self.check_object(id),
                RawKind::Array { elem_name, .. } => {
                    let elem = self.lookup_type(&elem_name.clone());
                    if let RawKind::Array { elem: e, .. } = &mut self.ents[id].kind {
                        *e = elem;
                    }
                }
                _ => {}
            }
            return;
        };
        self.check_features(id, &origin);
        match &self.ents[id].kind {
            RawKind::Builtin(_) => {}
            RawKind::Enum { .. } => self.check_enum(id, &origin),
            RawKind::Array { .. } => self.check_array(id, &origin),
            RawKind::Object(_) => self.check_object(id),
            RawKind::Alternate { .. } => self.check_alternate(id, &origin),
            RawKind::Command { .. } => self.check_command(id, &origin),
            RawKind::Event { .. } => self.check_event(id, &origin),
        }
    }

    /// Feature clashes, and the special features types can't have.
    fn check_features(&mut self, id: Id, origin: &Origin) {
        let ent = &self.ents[id];
        let is_type = ent.is_type();
        let described: Vec<Described> = ent
            .features
            .iter()
            .map(|f| Described { role: "feature", name: f.name.clone(), defined_in: ent.name.clone() })
            .collect();
        let mut seen = Seen::new();
        for d in described {
            if is_type && matches!(d.name.as_str(), "deprecated" | "unstable") {
                self.error_at(origin, format!("feature '{}' is not supported for types", d.name));
            }
            self.check_clash(Who::Named(d), origin, &mut seen);
        }
    }

    /// The interned C name of `name`.
    fn ckey(&mut self, name: &str) -> u32 {
        c_name_into(name, &mut self.scratch);
        if let Some(&k) = self.cnames.get(self.scratch.as_str()) {
            return k;
        }
        let next = u32::try_from(self.cnames.len()).unwrap_or(u32::MAX);
        self.cnames.insert(self.scratch.clone(), next);
        next
    }

    fn who_key(&mut self, w: &Who) -> u32 {
        match w {
            Who::Member(r) => self.member(*r).map_or(u32::MAX, |m| m.ckey),
            Who::Value(e, i) => match &self.ents[*e].kind {
                RawKind::Enum { values, .. } => values.get(*i).map_or(u32::MAX, |v| v.ckey),
                _ => u32::MAX,
            },
            Who::Named(d) => self.ckey(&d.name),
        }
    }

    fn describe_who(&self, w: &Who, defn_name: &str) -> String {
        match w {
            Who::Member(r) => self.described_member(*r).map(|d| d.describe(defn_name)).unwrap_or_default(),
            Who::Value(e, i) => match &self.ents[*e].kind {
                RawKind::Enum { values, .. } => values
                    .get(*i)
                    .map(|v| {
                        Described { role: "value", name: v.name.clone(), defined_in: self.ents[*e].name.clone() }
                            .describe(defn_name)
                    })
                    .unwrap_or_default(),
                _ => String::new(),
            },
            Who::Named(d) => d.describe(defn_name),
        }
    }

    /// Records `w` in `seen` unless its C name is taken, which is reported.
    fn check_clash(&mut self, w: Who, origin: &Origin, seen: &mut Seen) -> bool {
        let key = self.who_key(&w);
        if let Some(prev) = seen.get(&key) {
            let msg = format!(
                "{} collides with {}",
                self.describe_who(&w, &origin.name),
                self.describe_who(prev, &origin.name)
            );
            self.error_at(origin, msg);
            return false;
        }
        seen.insert(key, w);
        true
    }

    fn check_enum(&mut self, id: Id, origin: &Origin) {
        let RawKind::Enum { values, .. } = &self.ents[id].kind else {
            return;
        };
        let count = values.len();
        let mut seen = Seen::new();
        for i in 0..count {
            self.check_clash(Who::Value(id, i), origin, &mut seen);
        }
    }

    fn check_array(&mut self, id: Id, origin: &Origin) {
        let RawKind::Array { elem_name, .. } = &self.ents[id].kind else {
            return;
        };
        let elem_name = elem_name.clone();
        let elem = self.lookup_type(&elem_name);
        if elem.is_none() {
            self.error_at(origin, format!("{} uses unknown type '{elem_name}'", origin.meta));
        }
        if let RawKind::Array { elem: e, .. } = &mut self.ents[id].kind {
            *e = elem;
        }
    }

    /// Resolves a member's type; reports an unknown one.
    fn resolve(&mut self, name: &str, what: impl FnOnce() -> String, origin: &Origin) -> Option<Id> {
        let found = self.lookup_type(name);
        if found.is_none() {
            let msg = format!("{} uses unknown type '{name}'", what());
            self.error_at(origin, msg);
        }
        found
    }

    /// Checks object type `root` and every object type its C struct
    /// contains (base and branches), depth first without recursion,
    /// reporting cycles.
    fn check_object(&mut self, root: Id) {
        if self.state(root) != Some(State::New) {
            return;
        }
        let deps = self.start_object(root);
        let mut stack: Vec<(Id, Vec<Id>, usize)> = vec![(root, deps, 0)];
        while let Some(top) = stack.last_mut() {
            if let Some(&dep) = top.1.get(top.2) {
                top.2 += 1;
                match self.state(dep) {
                    Some(State::New) => {
                        let deps = self.start_object(dep);
                        stack.push((dep, deps, 0));
                    }
                    Some(State::InProgress) => self.report_cycle(dep),
                    _ => {}
                }
            } else {
                let id = top.0;
                stack.pop();
                self.finish_object(id);
            }
        }
    }

    fn state(&self, id: Id) -> Option<State> {
        self.ents.get(id)?.object().map(|o| o.state)
    }

    fn report_cycle(&mut self, id: Id) {
        if !self.cycles.insert(id) {
            return;
        }
        if let Some(o) = self.ents[id].origin.clone() {
            let msg = format!("object {} contains itself", self.ents[id].name);
            self.error_at(&o, msg);
        }
    }

    /// Marks `id` in progress, resolves its base and branch types, and
    /// returns the object types it contains.
    fn start_object(&mut self, id: Id) -> Vec<Id> {
        let origin = self.ents[id].origin.clone();
        let Some(obj) = self.ents[id].object_mut() else {
            return Vec::new();
        };
        obj.state = State::InProgress;
        let base_name = obj.base_name.clone();
        let branches: Vec<String> =
            obj.branches.as_ref().map(|b| b.list.iter().map(|v| v.ty_name.clone()).collect()).unwrap_or_default();
        let Some(origin) = origin else {
            return Vec::new();
        };
        let mut deps = Vec::new();
        let mut base = None;
        let mut complete = true;
        if let Some(name) = base_name {
            match self.resolve(&name, || "'base'".to_owned(), &origin) {
                None => complete = false,
                Some(b) if self.ents[b].object().is_none() || self.ents[b].is_union() => {
                    let msg = format!("'base' requires a struct type, {} isn't", self.ents[b].describe());
                    self.error_at(&origin, msg);
                    complete = false;
                }
                Some(b) => {
                    base = Some(b);
                    deps.push(b);
                }
            }
        }
        let mut resolved = Vec::new();
        for (i, ty_name) in branches.iter().enumerate() {
            let name = self.branch_name(id, i);
            let defined_in = self.ents[id].name.clone();
            let ty = self.resolve(
                ty_name,
                || Described { role: "branch", name, defined_in }.describe(&origin.name),
                &origin,
            );
            if let Some(t) = ty {
                if self.ents[t].object().is_some() {
                    deps.push(t);
                }
            }
            resolved.push(ty);
        }
        if let Some(obj) = self.ents[id].object_mut() {
            obj.base = base;
            obj.complete = complete;
            if let Some(br) = &mut obj.branches {
                for (v, ty) in br.list.iter_mut().zip(resolved) {
                    v.ty = ty;
                }
            }
        }
        deps
    }

    fn branch_name(&self, id: Id, i: usize) -> String {
        self.ents[id]
            .object()
            .and_then(|o| o.branches.as_ref())
            .and_then(|b| b.list.get(i))
            .map(|v| v.name.clone())
            .unwrap_or_default()
    }

    fn described_member(&self, (owner, idx): MemberRef) -> Option<Described> {
        let ent = self.ents.get(owner)?;
        let m = ent.object()?.local.get(idx)?;
        Some(Described { role: "member", name: m.name.clone(), defined_in: ent.name.clone() })
    }

    fn member(&self, (owner, idx): MemberRef) -> Option<&RawMember> {
        self.ents.get(owner)?.object()?.local.get(idx)
    }

    /// Computes the members of `id`, whose base and branch types are done
    /// (or part of a reported cycle), and checks them.
    fn finish_object(&mut self, id: Id) {
        let Some(origin) = self.ents[id].origin.clone() else {
            if let Some(o) = self.ents[id].object_mut() {
                o.state = State::Done;
            }
            return;
        };
        let Some(obj) = self.ents[id].object() else {
            return;
        };
        let mut complete = obj.complete;
        let mut base = obj.base;
        let local_count = obj.local.len();
        if let Some(b) = base {
            match self.ents[b].object() {
                Some(bo) if bo.state == State::Done => complete &= bo.complete,
                _ => {
                    // Part of a reported cycle.
                    complete = false;
                    base = None;
                }
            }
        }
        let mut keys: FastMap<u32, usize> = FastMap::default();
        for i in 0..local_count {
            let ty = self.member((id, i)).and_then(|m| self.lookup_type(&m.ty_name));
            let Some(m) = self.ents[id].object().and_then(|o| o.local.get(i)) else {
                continue;
            };
            let key = m.ckey;
            if ty.is_none() {
                let msg = format!(
                    "{} uses unknown type '{}'",
                    self.describe_who(&Who::Member((id, i)), &origin.name),
                    m.ty_name
                );
                self.diags.push(Diagnostic::error(origin.span.clone(), msg).in_definition(origin.context()));
            }
            if !m.features.is_empty() {
                let features: Vec<Described> = m
                    .features
                    .iter()
                    .map(|f| Described { role: "feature", name: f.name.clone(), defined_in: m.name.clone() })
                    .collect();
                let mut fseen = Seen::new();
                for f in features {
                    self.check_clash(Who::Named(f), &origin, &mut fseen);
                }
            }
            if let Some(m) = self.ents[id].object_mut().and_then(|o| o.local.get_mut(i)) {
                m.ty = ty;
            }
            let prev = match keys.get(&key) {
                Some(&j) => Some((id, j)),
                None => base.and_then(|b| self.find_member(b, key)),
            };
            match prev {
                Some(p) => self.report_clash(&Who::Member((id, i)), &Who::Member(p), &origin),
                None => {
                    keys.insert(key, i);
                }
            }
        }
        if let Some(o) = self.ents[id].object_mut() {
            o.base = base;
            o.complete = complete;
            o.local_keys = keys;
        }
        if self.ents[id].is_union() {
            self.check_branches(id, complete, &origin);
        }
        if let Some(o) = self.ents[id].object_mut() {
            o.state = State::Done;
        }
    }

    /// The member of object `id` (local or inherited) whose interned C
    /// name is `key`.
    fn find_member(&self, id: Id, key: u32) -> Option<MemberRef> {
        let mut at = Some(id);
        let mut steps = 0;
        while let Some(t) = at {
            let o = self.ents.get(t)?.object()?;
            if let Some(&i) = o.local_keys.get(&key) {
                return Some((t, i));
            }
            steps += 1;
            if steps > self.ents.len() {
                return None;
            }
            at = o.base;
        }
        None
    }

    /// Every member of object `id`: the base's (recursively) first.
    fn all_members(&self, id: Id) -> Vec<MemberRef> {
        let mut chain = Vec::new();
        let mut at = Some(id);
        while let Some(t) = at {
            let Some(o) = self.ents.get(t).and_then(RawEntity::object) else {
                break;
            };
            if chain.len() > self.ents.len() {
                break;
            }
            chain.push((t, o.local.len()));
            at = o.base;
        }
        chain.into_iter().rev().flat_map(|(t, n)| (0..n).map(move |i| (t, i))).collect()
    }

    fn report_clash(&mut self, w: &Who, prev: &Who, origin: &Origin) {
        let msg =
            format!("{} collides with {}", self.describe_who(w, &origin.name), self.describe_who(prev, &origin.name));
        self.error_at(origin, msg);
    }

    /// A union's tag and branches.
    fn check_branches(&mut self, id: Id, complete: bool, origin: &Origin) {
        let Some(br) = self.ents[id].object().and_then(|o| o.branches.as_ref()) else {
            return;
        };
        let tag_name = br.tag_name.clone();
        let key = self.ckey(&tag_name);
        let tag = self.find_member(id, key).filter(|&r| self.member(r).is_some_and(|m| m.name == tag_name));
        let mut tag_enum = None;
        match tag {
            None => {
                if complete {
                    self.error_at(origin, format!("discriminator '{tag_name}' is not a member of 'base'"));
                }
            }
            Some(r) => {
                let owner = &self.ents[r.0];
                let base = if owner.name.starts_with("q_") {
                    "'base'".to_owned()
                } else {
                    format!("base type '{}'", owner.name)
                };
                let (ty, optional, cond) = match self.member(r) {
                    Some(m) => (m.ty, m.optional, m.cond.is_some()),
                    None => (None, false, false),
                };
                match ty {
                    Some(t) if matches!(self.ents[t].kind, RawKind::Enum { .. }) => {
                        tag_enum = Some(t);
                    }
                    Some(_) => self
                        .error_at(origin, format!("discriminator member '{tag_name}' of {base} must be of enum type")),
                    None => {}
                }
                if optional {
                    self.error_at(origin, format!("discriminator member '{tag_name}' of {base} must not be optional"));
                }
                if cond {
                    self.error_at(
                        origin,
                        format!("discriminator member '{tag_name}' of {base} must not be conditional"),
                    );
                }
            }
        }
        // Tag values without a branch get an empty one.
        if let Some(e) = tag_enum {
            let implied: Vec<RawBranch> = match &self.ents[e].kind {
                RawKind::Enum { values, .. } => {
                    let written: HashSet<&str> = self.ents[id]
                        .object()
                        .and_then(|o| o.branches.as_ref())
                        .map(|b| b.list.iter().map(|v| v.name.as_str()).collect())
                        .unwrap_or_default();
                    values
                        .iter()
                        .filter(|v| !written.contains(v.name.as_str()))
                        .map(|v| RawBranch {
                            name: v.name.clone(),
                            ty_name: "q_empty".to_owned(),
                            ty: self.q_empty,
                            cond: v.cond.clone(),
                            span: None,
                            doc: None,
                        })
                        .collect()
                }
                _ => Vec::new(),
            };
            if let Some(br) = self.ents[id].object_mut().and_then(|o| o.branches.as_mut()) {
                br.tag = tag;
                br.list.extend(implied);
            }
        }
        let list: Vec<(String, Option<Id>)> = self.ents[id]
            .object()
            .and_then(|o| o.branches.as_ref())
            .map(|br| br.list.iter().map(|v| (v.name.clone(), v.ty)).collect())
            .unwrap_or_default();
        if tag_enum.is_some() && list.is_empty() {
            self.error_at(origin, "union has no branches");
        }
        let enum_values: Option<HashSet<String>> = tag_enum.and_then(|e| match &self.ents[e].kind {
            RawKind::Enum { values, .. } => Some(values.iter().map(|v| v.name.clone()).collect()),
            _ => None,
        });
        let union_name = self.ents[id].name.clone();
        let mut clash_roots = Vec::new();
        for (name, ty) in list {
            if let (Some(values), Some(e)) = (&enum_values, tag_enum) {
                if !values.contains(&name) {
                    let msg = format!("branch '{name}' is not a value of {}", self.ents[e].describe());
                    self.error_at(origin, msg);
                }
            }
            let Some(t) = ty else {
                continue;
            };
            if self.ents[t].object().is_none() {
                let d = Described { role: "branch", name, defined_in: union_name.clone() };
                let msg = format!("{} cannot use {}", d.describe(&origin.name), self.ents[t].describe());
                self.error_at(origin, msg);
                continue;
            }
            clash_roots.push(t);
        }
        if tag.is_some() {
            self.branches_clash(id, &clash_roots, origin);
        }
    }

    /// Checks that the members of the branch types of `union`, and of
    /// their branch types in turn, don't clash with the union's members.
    ///
    /// QEMU checks each nested branch against every union on the path to
    /// it; a clash with an inner union is already reported when that union
    /// is checked (before the outer one), so checking each type reachable
    /// once, against `union` only, reports the same first error without
    /// exponential work.
    fn branches_clash(&mut self, union: Id, roots: &[Id], origin: &Origin) {
        let mut visited: HashSet<Id> = HashSet::new();
        let mut work: Vec<Id> = roots.iter().rev().copied().collect();
        while let Some(t) = work.pop() {
            if t == union || !visited.insert(t) {
                continue;
            }
            let Some(o) = self.ents[t].object() else {
                continue;
            };
            if o.state != State::Done || !o.complete {
                continue;
            }
            let nested: Vec<Id> = o
                .branches
                .as_ref()
                .map(|b| b.list.iter().filter_map(|v| v.ty).filter(|&v| self.ents[v].object().is_some()).collect())
                .unwrap_or_default();
            for r in self.all_members(t) {
                let Some(key) = self.member(r).map(|m| m.ckey) else {
                    continue;
                };
                if let Some(prev) = self.find_member(union, key) {
                    self.report_clash(&Who::Member(r), &Who::Member(prev), origin);
                }
            }
            work.extend(nested.into_iter().rev());
        }
    }

    fn check_alternate(&mut self, id: Id, origin: &Origin) {
        let RawKind::Alternate { branches } = &self.ents[id].kind else {
            return;
        };
        let name = self.ents[id].name.clone();
        let list: Vec<(String, String)> = branches.iter().map(|b| (b.name.clone(), b.ty_name.clone())).collect();
        let described = |n: &str| Described { role: "branch", name: n.to_owned(), defined_in: name.clone() };
        let mut resolved = Vec::new();
        for (n, ty_name) in &list {
            let what = described(n).describe(&origin.name);
            resolved.push(self.resolve(ty_name, || what, origin));
        }
        if let RawKind::Alternate { branches } = &mut self.ents[id].kind {
            for (b, ty) in branches.iter_mut().zip(&resolved) {
                b.ty = *ty;
            }
        }
        let mut seen = Seen::new();
        let mut types_seen: HashMap<QType, String> = HashMap::new();
        for ((n, _), ty) in list.iter().zip(resolved) {
            let d = described(n);
            let desc = d.describe(&origin.name);
            self.check_clash(Who::Named(d), origin, &mut seen);
            let Some(t) = ty else {
                continue;
            };
            let Some(qtype) = self.alternate_qtype(t) else {
                let msg = format!("{desc} cannot use {}", self.ents[t].describe());
                self.error_at(origin, msg);
                continue;
            };
            let mut conflicting = vec![qtype];
            if qtype == QType::String {
                match &self.ents[t].kind {
                    RawKind::Enum { values, .. } => {
                        for v in values {
                            if v.name == "on" || v.name == "off" {
                                conflicting.push(QType::Bool);
                            }
                            if v.name.starts_with(['-', '+', '.', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9']) {
                                conflicting.push(QType::Num);
                            }
                        }
                    }
                    _ => {
                        conflicting.push(QType::Num);
                        conflicting.push(QType::Bool);
                    }
                }
            }
            let mut reported = false;
            let mut unique = Vec::with_capacity(conflicting.len());
            for qt in conflicting {
                if !unique.contains(&qt) {
                    unique.push(qt);
                }
            }
            for qt in unique {
                if let Some(other) = types_seen.get(&qt) {
                    if !reported {
                        let msg = format!("{desc} can't be distinguished from '{other}'");
                        self.error_at(origin, msg);
                        reported = true;
                    }
                    continue;
                }
                types_seen.insert(qt, n.clone());
            }
        }
    }

    /// How an alternate tells a value of type `t` apart.
    fn alternate_qtype(&self, t: Id) -> Option<QType> {
        Some(match &self.ents[t].kind {
            RawKind::Builtin(b) => match b {
                Builtin::Str => QType::String,
                Builtin::Bool => QType::Bool,
                Builtin::Null => QType::Null,
                Builtin::Any => return None,
                _ => QType::Num,
            },
            RawKind::Enum { .. } => QType::String,
            RawKind::Array { .. } => QType::List,
            RawKind::Object(_) => QType::Dict,
            _ => return None,
        })
    }

    /// The argument type of a command or event: must be an object type, a
    /// union only when boxed; conditional members only when boxed.
    fn check_args(&mut self, name: &str, boxed: bool, what: &str, origin: &Origin) -> Option<Id> {
        let t = self.resolve(name, || format!("{what}'s 'data'"), origin)?;
        if self.ents[t].object().is_none() {
            let msg = format!("{what}'s 'data' cannot take {}", self.ents[t].describe());
            self.error_at(origin, msg);
            return None;
        }
        if self.ents[t].is_union() && !boxed {
            let msg = format!("{what}'s 'data' can take {} only with 'boxed': true", self.ents[t].describe());
            self.error_at(origin, msg);
        }
        self.check_object(t);
        let conditional = self.all_members(t).into_iter().any(|r| self.member(r).is_some_and(|m| m.cond.is_some()));
        if conditional && !boxed {
            self.error_at(origin, format!("conditional {what} arguments require 'boxed': true"));
        }
        Some(t)
    }

    fn check_command(&mut self, id: Id, origin: &Origin) {
        let RawKind::Command { arg_name, ret_name, flags, .. } = &self.ents[id].kind else {
            return;
        };
        let (arg_name, ret_name, boxed) = (arg_name.clone(), ret_name.clone(), flags.boxed);
        let arg = arg_name.and_then(|n| self.check_args(&n, boxed, "command", origin));
        let mut ret = None;
        if let Some(n) = ret_name {
            ret = self.resolve(&n, || "command's 'returns'".to_owned(), origin);
            if let Some(r) = ret {
                if !self.returns_exceptions.contains(origin.name.as_str()) {
                    let elem = match &self.ents[r].kind {
                        RawKind::Array { elem, .. } => *elem,
                        _ => Some(r),
                    };
                    if let Some(e) = elem {
                        if self.ents[e].object().is_none() {
                            let msg = format!("command's 'returns' cannot take {}", self.ents[r].describe());
                            self.error_at(origin, msg);
                        }
                    }
                }
            }
        }
        if let RawKind::Command { arg: a, ret: r, .. } = &mut self.ents[id].kind {
            *a = arg;
            *r = ret;
        }
    }

    fn check_event(&mut self, id: Id, origin: &Origin) {
        let RawKind::Event { arg_name, boxed, .. } = &self.ents[id].kind else {
            return;
        };
        let (arg_name, boxed) = (arg_name.clone(), *boxed);
        let arg = arg_name.and_then(|n| self.check_args(&n, boxed, "event", origin));
        if let RawKind::Event { arg: a, .. } = &mut self.ents[id].kind {
            *a = arg;
        }
    }

    // ---- documentation --------------------------------------------------

    /// Connects the entity's documentation to its features and members,
    /// as QEMU's `connect_doc()`.
    fn connect_doc(&mut self, id: Id) {
        let (Some(doc), Some(origin)) = (self.ents[id].doc, self.ents[id].origin.clone()) else {
            return;
        };
        let what = match &self.ents[id].kind {
            RawKind::Command { ret_name, .. } => Documented::Command { returns: ret_name.is_some() },
            _ => Documented::Other,
        };
        self.binder.check_sections(doc, what, self.diags);
        self.connect_features(id, None, doc, &origin);
        match &self.ents[id].kind {
            RawKind::Enum { values, .. } => {
                let names: Vec<String> = values.iter().map(|v| v.name.clone()).collect();
                for (i, n) in names.iter().enumerate() {
                    self.binder.connect_member(doc, Role::Value, n, &origin.span, || origin.context(), self.diags);
                    if let RawKind::Enum { values, .. } = &mut self.ents[id].kind {
                        if let Some(v) = values.get_mut(i) {
                            v.doc = Some(doc);
                        }
                    }
                    self.connect_features(id, Some(i), doc, &origin);
                }
            }
            RawKind::Object(o) => {
                if let Some(b) = o.base {
                    if self.ents[b].name.starts_with("q_") {
                        self.connect_members(b, doc, &origin);
                    }
                }
                self.connect_members(id, doc, &origin);
            }
            RawKind::Alternate { branches } => {
                let names: Vec<String> = branches.iter().map(|v| v.name.clone()).collect();
                for (i, n) in names.iter().enumerate() {
                    self.binder.connect_member(doc, Role::Branch, n, &origin.span, || origin.context(), self.diags);
                    if let RawKind::Alternate { branches } = &mut self.ents[id].kind {
                        if let Some(v) = branches.get_mut(i) {
                            v.doc = Some(doc);
                        }
                    }
                }
            }
            RawKind::Command { arg, .. } | RawKind::Event { arg, .. } => {
                if let Some(a) = *arg {
                    if self.ents[a].name.starts_with("q_") {
                        self.connect_members(a, doc, &origin);
                    }
                }
            }
            RawKind::Builtin(_) | RawKind::Array { .. } => {}
        }
    }

    /// Connects the local members of object `id` (and their features).
    fn connect_members(&mut self, id: Id, doc: DocId, origin: &Origin) {
        let names: Vec<String> = match self.ents[id].object() {
            Some(o) => o.local.iter().map(|m| m.name.clone()).collect(),
            None => return,
        };
        for (i, n) in names.iter().enumerate() {
            self.binder.connect_member(doc, Role::Member, n, &origin.span, || origin.context(), self.diags);
            if let Some(m) = self.ents[id].object_mut().and_then(|o| o.local.get_mut(i)) {
                m.doc = Some(doc);
            }
            self.connect_member_features(id, i, doc, origin);
        }
    }

    /// Connects the features of entity `id`, or of its enum value `value`.
    fn connect_features(&mut self, id: Id, value: Option<usize>, doc: DocId, origin: &Origin) {
        let ent = &mut self.ents[id];
        let features = match value {
            Some(i) => match &mut ent.kind {
                RawKind::Enum { values, .. } => match values.get_mut(i) {
                    Some(v) => &mut v.features,
                    None => return,
                },
                _ => return,
            },
            None => &mut ent.features,
        };
        for f in features.iter_mut() {
            self.binder.connect_feature(doc, &f.name, &origin.span, || origin.context(), self.diags);
            f.doc = Some(doc);
        }
    }

    fn connect_member_features(&mut self, id: Id, member: usize, doc: DocId, origin: &Origin) {
        let Some(m) = self.ents[id].object_mut().and_then(|o| o.local.get_mut(member)) else {
            return;
        };
        for f in m.features.iter_mut() {
            self.binder.connect_feature(doc, &f.name, &origin.span, || origin.context(), self.diags);
            f.doc = Some(doc);
        }
    }
}

impl RawObject {
    fn new(base_name: Option<String>, local: Vec<RawMember>, branches: Option<RawBranches>) -> Self {
        RawObject {
            base_name,
            base: None,
            local,
            branches,
            state: State::New,
            complete: true,
            local_keys: FastMap::default(),
        }
    }
}

/// What tells the branches of an alternate apart: the JSON value's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum QType {
    Null,
    Num,
    String,
    Bool,
    List,
    Dict,
}

// ---- phase 3: the public model --------------------------------------------

/// Module names by file name, relative to the root file's directory.
struct ModuleNames {
    dir: PathBuf,
    cwd: PathBuf,
    cache: HashMap<String, String>,
}

impl ModuleNames {
    fn new(root: &str) -> Self {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        let dir = Path::new(root).parent().unwrap_or(Path::new("")).to_path_buf();
        ModuleNames { dir, cwd, cache: HashMap::new() }
    }

    /// QEMU's module name for a file: its path relative to the root
    /// file's directory (`./`-prefixed names are taken as they are).
    fn name(&mut self, file: &str) -> String {
        if let Some(n) = self.cache.get(file) {
            return n.clone();
        }
        let name =
            if file.starts_with("./") { file.to_owned() } else { relpath(&self.cwd, Path::new(file), &self.dir) };
        self.cache.insert(file.to_owned(), name.clone());
        name
    }
}

/// `path` relative to `start`, both taken relative to `cwd` when not
/// absolute, without touching the file system (Python's `os.path.relpath`).
fn relpath(cwd: &Path, path: &Path, start: &Path) -> String {
    let abs = |p: &Path| -> Vec<String> {
        let joined = if p.is_absolute() { p.to_path_buf() } else { cwd.join(p) };
        let mut parts: Vec<String> = Vec::new();
        for c in joined.components() {
            match c {
                Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
                Component::ParentDir => {
                    parts.pop();
                }
                Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
            }
        }
        parts
    };
    let p = abs(path);
    let s = abs(start);
    let common = p.iter().zip(&s).take_while(|(a, b)| a == b).count();
    let mut out: Vec<&str> = vec![".."; s.len() - common];
    out.extend(p[common..].iter().map(String::as_str));
    if out.is_empty() {
        ".".to_owned()
    } else {
        out.join("/")
    }
}

fn freeze(
    ents: Vec<RawEntity>,
    names: FastMap<String, Id>,
    items: Vec<Item>,
    features: Vec<String>,
    docs: Vec<Arc<Doc>>,
    root: &str,
) -> Schema {
    // Modules: built-in, root, then included files in order of inclusion.
    let mut module_names = ModuleNames::new(root);
    let mut modules: IndexMap<String, Vec<ModuleItem>> = IndexMap::new();
    modules.insert(Module::BUILTIN.to_owned(), Vec::new());
    if !root.is_empty() {
        modules.insert(module_names.name(root), Vec::new());
    }
    let file_of = |id: Id| -> Option<&Span> {
        let e = ents.get(id)?;
        let owner = match &e.kind {
            RawKind::Array { elem, .. } => ents.get((*elem)?)?,
            _ => e,
        };
        owner.origin.as_ref().map(|o| &o.span)
    };
    // QEMU creates every included module before assigning entities to
    // modules, so an array type can land in a module included later.
    for item in &items {
        if let Item::Include { name, .. } = item {
            modules.entry(module_names.name(name)).or_default();
        }
    }
    let mut entity_module = vec![ModuleId::new(0); ents.len()];
    for item in items {
        let (here, entry) = match item {
            Item::Include { name, span } => {
                let sub = modules.get_index_of(&module_names.name(&name)).unwrap_or(0);
                (module_names.name(&span.file.name), ModuleItem::Include { module: ModuleId::new(sub), span })
            }
            Item::Entity(id) => {
                let here = match file_of(id) {
                    Some(s) => module_names.name(&s.file.name),
                    None => Module::BUILTIN.to_owned(),
                };
                (here, ModuleItem::Entity(EntityId::new(id)))
            }
        };
        let slot = modules.entry(here);
        let index = slot.index();
        if let ModuleItem::Entity(id) = &entry {
            if let Some(m) = entity_module.get_mut(id.index()) {
                *m = ModuleId::new(index);
            }
        }
        slot.or_default().push(entry);
    }

    let block = |doc: Option<DocId>| docs.get(doc?.0).cloned();
    let features_of = |fs: Vec<RawFeature>| -> Vec<Feature> {
        fs.into_iter()
            .map(|f| Feature { doc_block: block(f.doc), name: f.name, cond: f.cond, span: Some(f.span) })
            .collect()
    };
    let unknown = EntityId::new(usize::MAX);
    let resolved = |t: Option<Id>| t.map_or(unknown, EntityId::new);
    let member_of = |m: RawMember| Member {
        doc_block: block(m.doc),
        ty: resolved(m.ty),
        optional: m.optional,
        cond: m.cond,
        features: features_of(m.features),
        span: Some(m.span),
        defined_in: EntityId::new(m.defined_in),
        name: m.name,
    };
    let branch_of =
        |b: RawBranch| Branch { doc_block: block(b.doc), ty: resolved(b.ty), cond: b.cond, span: b.span, name: b.name };

    let mut tags: Vec<(Id, MemberRef)> = Vec::new();
    let mut entities = Vec::with_capacity(ents.len());
    for (id, e) in ents.into_iter().enumerate() {
        let kind = match e.kind {
            RawKind::Builtin(b) => EntityKind::Builtin(b),
            RawKind::Enum { values, prefix } => EntityKind::Enum(EnumType {
                values: values
                    .into_iter()
                    .map(|v| EnumValue {
                        doc_block: block(v.doc),
                        name: v.name,
                        cond: v.cond,
                        features: features_of(v.features),
                        span: v.span,
                    })
                    .collect(),
                prefix,
            }),
            RawKind::Array { elem, .. } => EntityKind::Array(ArrayType { element: resolved(elem) }),
            RawKind::Object(o) => {
                if let Some(tag) = o.branches.as_ref().and_then(|b| b.tag) {
                    tags.push((id, tag));
                }
                EntityKind::Object(ObjectType {
                    base: o.base.map(EntityId::new),
                    local_members: o.local.into_iter().map(&member_of).collect(),
                    branches: o.branches.map(|b| Branches {
                        tag: placeholder_member(unknown),
                        branches: b.list.into_iter().map(&branch_of).collect(),
                    }),
                })
            }
            RawKind::Alternate { branches } => {
                EntityKind::Alternate(AlternateType { branches: branches.into_iter().map(&branch_of).collect() })
            }
            RawKind::Command { arg, ret, flags, .. } => EntityKind::Command(Command {
                arg_type: arg.map(EntityId::new),
                ret_type: ret.map(EntityId::new),
                boxed: flags.boxed,
                gen: flags.gen,
                success_response: flags.success_response,
                allow_oob: flags.allow_oob,
                allow_preconfig: flags.allow_preconfig,
                coroutine: flags.coroutine,
            }),
            RawKind::Event { arg, boxed, .. } => EntityKind::Event(Event { arg_type: arg.map(EntityId::new), boxed }),
        };
        let cond = e.cond;
        entities.push(Entity {
            id: EntityId::new(id),
            name: e.name,
            span: e.origin.map(|o| o.span.clone()),
            cond,
            features: features_of(e.features),
            doc: block(e.doc),
            module: entity_module.get(id).copied().unwrap_or(ModuleId::new(0)),
            kind,
        });
    }
    // An array type has its element type's condition.
    for i in 0..entities.len() {
        if let EntityKind::Array(a) = &entities[i].kind {
            let cond = entities.get(a.element.index()).and_then(|e| e.cond.clone());
            entities[i].cond = cond;
        }
    }
    // Union tags: members of the base.
    for (id, (owner, idx)) in tags {
        let tag = entities.get(owner).and_then(Entity::as_object).and_then(|o| o.local_members.get(idx)).cloned();
        if let (Some(EntityKind::Object(o)), Some(t)) = (entities.get_mut(id).map(|e| &mut e.kind), tag) {
            if let Some(b) = &mut o.branches {
                b.tag = t;
            }
        }
    }

    Schema {
        entities,
        names: names.into_iter().map(|(n, id)| (n, EntityId::new(id))).collect(),
        modules: modules.into_iter().map(|(name, items)| Module { name, items }).collect(),
        docs,
        features,
    }
}

fn placeholder_member(unknown: EntityId) -> Member {
    Member {
        name: String::new(),
        ty: unknown,
        optional: false,
        cond: None,
        features: Vec::new(),
        span: None,
        defined_in: unknown,
        doc_block: None,
    }
}

#[cfg(test)]
mod tests;
