//! Types: enums, structs, unions, alternates, and where recursion needs a
//! `Box`.
//!
//! Written as laid-out text: fixed lines directly, lines whose length
//! depends on names through [`Unit`], which breaks them where
//! prettyplease would.

use std::collections::{HashMap, HashSet};

use super::layout::{attr_line, call, impl_open, t, u, Arm, Body, Unit};
use super::text::{str_lit, w, Code};
use super::{doc, names, Cx, GenError, Head};
use crate::model::{AlternateType, Builtin, Entity, EntityId, EntityKind, EnumType, Member, ObjectType};
use crate::Schema;

/// A struct field (or union base member) as generated.
pub(super) struct Field {
    pub ident: String,
    /// The member's name as a string literal.
    pub lit: String,
    pub wire: String,
    /// The member's type (boxed if need be, no `Option`).
    pub held: String,
    /// The member's type, never boxed.
    pub inner: String,
    pub boxed: bool,
    pub optional: bool,
    /// Its `#[cfg]`, empty when unconditional.
    pub guard: String,
    pub docs: Vec<String>,
    pub dep: String,
}

/// A branch of a union as generated.
struct Variant {
    ident: String,
    wire: String,
    /// The branch type's id and Rust type; `None` for a branch without
    /// members.
    ty: Option<(EntityId, String)>,
    boxed: bool,
    guard: String,
    docs: Vec<String>,
    dep: String,
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
pub(super) fn fallback_name(en: &EnumType) -> &'static str {
    let taken: HashSet<String> = en.values.iter().map(|v| names::camel(&v.name)).collect();
    ["Unknown", "UnknownValue", "Other", "UnknownQapiValue"]
        .into_iter()
        .find(|n| !taken.contains(*n))
        .unwrap_or("UnknownQapiValue")
}

/// Docs, `#[cfg]` and `#[deprecated]` of an item or member.
fn head_lines(c: &mut Code, u: &mut Unit, docs: &[String], guard: &str, dep: &str) {
    c.docs(docs);
    attr_line(c, u, guard);
    attr_line(c, u, dep);
}

/// A signature that never fits on one line at its indentation: `head(`,
/// the parameters one a line, `tail` (`) -> T {`); the body follows.
fn sig_lines(c: &mut Code, head: &str, params: &[&str], tail: &str) {
    c.line(head);
    c.indent_in();
    for p in params {
        c.line(p);
    }
    c.indent_out();
    c.line(tail);
    c.indent_in();
}

/// `fn serialize` of `Serialize`, at the top of an impl.
pub(super) fn serialize_sig(c: &mut Code) {
    sig_lines(
        c,
        "fn serialize<S: qapi_rt_::serde::Serializer>(",
        &["&self,", "serializer: S,"],
        ") -> Result_<S::Ok, S::Error> {",
    );
}

/// `fn deserialize` of `Deserialize`, at the top of an impl.
pub(super) fn deserialize_sig(c: &mut Code) {
    sig_lines(
        c,
        "fn deserialize<D: qapi_rt_::serde::Deserializer<'de>>(",
        &["deserializer: D,"],
        ") -> Result_<Self, D::Error> {",
    );
}

/// `self.ident = Option_::Some(value);` (the value boxed if need be).
fn set_stmt(u: &mut Unit, ident: &str, boxed: bool) {
    u.ibox(0).ibox(0).field("self", ident).s(" = ").never().s("Option_::Some").args();
    if boxed {
        u.s("::std::boxed::Box::new").args().s("value").close();
    } else {
        u.s("value");
    }
    u.close().end().s(";").end();
}

/// `Option_::Some(value)` in `if let` or `while let`: the pattern.
fn some_pat(u: &mut Unit, binding: &str) {
    u.s("Option_::Some(").cbox(4).zb().s(binding).tc(true).end().s(")");
}

/// `#[cfg] map.serialize_entry(lit, <value>)?;`: the statement up to the
/// value, which the caller writes, then [`entry_end`].
fn entry_start<'u>(u: &'u mut Unit, guard: &str, lit: &str) -> &'u mut Unit {
    u.ibox(0);
    if !guard.is_empty() {
        u.attr(guard).sp();
    }
    u.cbox(4).s("map.serialize_entry").cbox(-4).args().s(lit).next()
}

fn entry_end(u: &mut Unit) {
    u.close().end().end().s("?;").end();
}

/// `<ty as trait_>` at the start of a path.
fn qself<'u>(u: &'u mut Unit, ty: &str, trait_: &str) -> &'u mut Unit {
    u.s("<").ty(ty).s(" as ").s(trait_).s(">")
}

impl Cx<'_> {
    // ---- enums ---------------------------------------------------------

    pub(super) fn enum_type(&self, e: &Entity, en: &EnumType) -> Result<String, GenError> {
        let Some(guard) = self.type_guard(e.id) else { return Ok(String::new()) };
        let name = self.name(e.id);
        let mut scope = Scope::new(&e.name);
        let (mut c, mut u) = (Code::new(), Unit::new());
        let (c, u) = (&mut c, &mut u);
        let client = !self.strict();
        // Only a client keeps unknown values.
        let fallback = if client { fallback_name(en) } else { "" };
        // (guard, variant, wire literal)
        let mut values: Vec<(String, String, String)> = Vec::new();

        c.item();
        head_lines(c, u, &self.entity_docs(e), &guard, &self.deprecated(&e.features));
        c.line(if client {
            "#[derive(Debug, Clone, PartialEq, Eq, Hash)]"
        } else {
            "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]"
        });
        c.line("#[allow(clippy::enum_variant_names)]");
        w!(c, "pub enum {name} {{");
        c.indent_in();
        for v in &en.values {
            let Some(g) = self.guard(&[v.cond.as_ref()], self.has_feature(&v.features, "unstable")) else {
                continue;
            };
            let text = names::camel(&v.name);
            scope.claim(&text, &v.name)?;
            let ident = names::ident(&text);
            let mut lines = v.doc().map(|s| doc::render(&s.text)).unwrap_or_default();
            self.feature_docs(&v.features, &mut lines);
            head_lines(c, u, &lines, &g, &self.deprecated(&v.features));
            w!(c, "{ident},");
            values.push((g, ident, str_lit(&v.name)));
        }
        if client {
            c.line("/// A value this side does not know, kept as received.");
            w!(c, "{fallback}(String_),");
        }
        close_empty(c, &format!("pub enum {name} {{"));

        impl_open(c, u, &guard, true, "", None::<&str>, &name);
        c.line("/// The wire name of the value.");
        c.line("#[inline]");
        c.line("pub fn as_str(&self) -> &str {");
        c.indent_in();
        if values.is_empty() && !client {
            c.line("match *self {}");
        } else {
            c.line("match *self {");
            c.indent_in();
            for (g, ident, lit) in &values {
                attr_line(c, u, g);
                u.ibox(0).s("Self::").s(ident).arm_open().s(lit).arm_close(false).put(c);
            }
            if client {
                w!(c, "Self::{fallback}(ref value) => value,");
            }
            c.close("");
        }
        c.close("");
        c.line("/// The value with wire name `value`, if this code knows it.");
        c.line("#[inline]");
        c.line("pub fn from_wire(value: &str) -> Option_<Self> {");
        c.indent_in();
        if values.is_empty() {
            c.line("let _ = value;");
            c.line("Option_::None");
        } else {
            c.line("match value {");
            c.indent_in();
            for (g, ident, lit) in &values {
                attr_line(c, u, g);
                u.ibox(0).s(lit).arm_open().s("Option_::Some").args().s("Self::").s(ident).close().arm_close(false);
                u.put(c);
            }
            c.line("_ => Option_::None,");
            c.close("");
        }
        c.close("");
        c.close("");

        impl_open(c, u, &guard, true, "", Some("qapi_rt_::serde::Serialize"), &name);
        serialize_sig(c);
        c.line("serializer.serialize_str(self.as_str())");
        c.close("");
        c.close("");

        impl_open(c, u, &guard, true, "<'de>", Some("qapi_rt_::serde::Deserialize<'de>"), &name);
        deserialize_sig(c);
        u.ibox(0).s("qapi_rt_::types::deserialize_enum").args().s("deserializer").next();
        u.s(&str_lit(&e.name)).next().s("Self::from_wire").next();
        if client {
            u.s("Option_::Some").args().s("Self::").s(fallback).close();
        } else {
            u.s("Option_::None");
        }
        u.close().end().put(c);
        c.close("");
        c.close("");

        impl_open(c, u, &guard, false, "", Some("::core::fmt::Display"), &name);
        c.line("#[inline]");
        c.line("fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {");
        c.indent_in();
        c.line("f.write_str(self.as_str())");
        c.close("");
        c.close("");
        if self.opts.json_codec {
            self.codec_enum(c, u, &name, &guard, client.then_some(fallback));
        }
        Ok(std::mem::take(c).finish())
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
            out.push(Field {
                ident: names::ident(&text),
                lit: str_lit(&m.name),
                wire: m.name.clone(),
                held: self.held_ty(container, m.ty),
                inner: self.ty(m.ty),
                boxed: self.is_boxed(container, m.ty),
                optional: m.optional,
                guard,
                docs: self.member_docs(m, since),
                dep: self.deprecated(&m.features),
            });
        }
        Ok(out)
    }

    /// A field declaration.
    fn field_decl(&self, c: &mut Code, u: &mut Unit, f: &Field) {
        head_lines(c, u, &f.docs, &f.guard, &f.dep);
        u.s("pub ").s(&f.ident).s(": ");
        if f.optional {
            u.s("Option_<").cbox(4).zb().ty(&f.held).tc(true).end().s(">");
        } else {
            u.ty(&f.held);
        }
        u.s(",").put(c);
    }

    /// Statements writing `fields` of `self` into `map`.
    fn serialize_fields(&self, c: &mut Code, u: &mut Unit, fields: &[Field]) {
        for f in fields {
            if f.optional {
                attr_line(c, u, &f.guard);
                // `if let Option_::Some(value) = &self.x {`
                u.forced(4).s("if ").cbox(-4).cbox(0).ibox(0).s("let ").ibox(0);
                some_pat(u, "value");
                u.end().s(" = ").never().ibox(0).s("&").field("self", &f.ident).end().end().sp().end().end();
                u.s("{").end().put(c);
                c.indent_in();
                entry_start(u, "", &f.lit).s("value");
                entry_end(u);
                u.put(c);
                c.close("");
            } else {
                entry_start(u, &f.guard, &f.lit).s("&").field("self", &f.ident);
                entry_end(u);
                u.put(c);
            }
        }
    }

    /// `has_m()` / `set_m()` for the optional fields.
    fn accessors(&self, c: &mut Code, u: &mut Unit, name: &str, guard: &str, fields: &[Field]) {
        if !fields.iter().any(|f| f.optional) {
            return;
        }
        impl_open(c, u, guard, true, "", None::<&str>, name);
        for f in fields.iter().filter(|f| f.optional) {
            let base = f.ident.trim_start_matches("r#").trim_start_matches('_');
            w!(c, "/// Whether `{}` is present.", f.wire);
            attr_line(c, u, &f.guard);
            attr_line(c, u, &f.dep);
            c.line("#[inline]");
            u.sig(&format!("pub fn has_{base}"), &[("&self", "")], Some("bool")).put(c);
            c.indent_in();
            u.ibox(0).cbox(4).s("self.").s(&f.ident).zb().s(".is_some()").end().end().put(c);
            c.close("");
            w!(c, "/// Sets `{}`, making it present.", f.wire);
            attr_line(c, u, &f.guard);
            attr_line(c, u, &f.dep);
            c.line("#[inline]");
            u.sig(&format!("pub fn set_{base}"), &[("&mut self", ""), ("value", &f.inner)], Some("&mut Self")).put(c);
            c.indent_in();
            set_stmt(u, &f.ident, f.boxed);
            u.put(c);
            c.line("self");
            c.close("");
        }
        c.close("");
    }

    /// `ObjectMembers` and `Serialize` for a type whose members `body`
    /// writes into `map`.
    fn serialize_impls(
        &self,
        c: &mut Code,
        u: &mut Unit,
        name: &str,
        guard: &str,
        uses_map: bool,
        body: impl FnOnce(&mut Code, &mut Unit),
    ) {
        impl_open(c, u, guard, true, "", Some("qapi_rt_::types::ObjectMembers"), name);
        sig_lines(
            c,
            "fn serialize_members<M: qapi_rt_::serde::ser::SerializeMap>(",
            &["&self,", if uses_map { "map: &mut M," } else { "_map: &mut M," }],
            ") -> Result_<(), M::Error> {",
        );
        body(c, u);
        c.close("");
        c.close("");

        impl_open(c, u, guard, true, "", Some("qapi_rt_::serde::Serialize"), name);
        serialize_sig(c);
        c.line("qapi_rt_::types::serialize_object(self, serializer)");
        c.close("");
        c.close("");
    }

    pub(super) fn object_type(&self, e: &Entity, obj: &ObjectType) -> Result<String, GenError> {
        let Some(guard) = self.type_guard(e.id) else { return Ok(String::new()) };
        let head = Head { guard, docs: self.entity_docs(e), dep: self.deprecated(&e.features) };
        if obj.is_union() {
            return self.union(e, obj, &head);
        }
        let name = self.name(e.id);
        self.struct_item(e, obj, &name, &head)
    }

    /// A struct for object type `e` named `name`.
    pub(super) fn struct_item(
        &self,
        e: &Entity,
        obj: &ObjectType,
        name: &str,
        head: &Head,
    ) -> Result<String, GenError> {
        let name = name.to_string();
        let since = self.since_of(e);
        let mut scope = Scope::new(&e.name);
        let fields = self.fields(e.id, obj.all_members(self.schema), since.as_deref(), &mut scope)?;
        let (mut c, mut u) = (Code::new(), Unit::new());
        let (c, u) = (&mut c, &mut u);
        let guard = head.guard.as_str();
        self.struct_open(c, u, &name, head, &fields);
        close_empty(c, &format!("pub struct {name} {{"));
        self.serialize_impls(c, u, &name, guard, !fields.is_empty(), |c, u| {
            if fields.iter().any(|f| !f.guard.is_empty()) {
                c.line("let _ = &map;");
            }
            self.serialize_fields(c, u, &fields);
            c.line("Result_::Ok(())");
        });
        self.struct_deserialize(c, u, &name, guard, &fields);
        self.accessors(c, u, &name, guard, &fields);
        if self.opts.json_codec {
            self.codec_struct(c, u, &name, guard, &fields);
        }
        Ok(std::mem::take(c).finish())
    }

    /// A struct's docs and attributes, `pub struct Name {` and its
    /// fields, the brace left open.
    fn struct_open(&self, c: &mut Code, u: &mut Unit, name: &str, head: &Head, fields: &[Field]) {
        c.item();
        head_lines(c, u, &head.docs, &head.guard, &head.dep);
        c.line(if fields.iter().all(|f| f.optional) {
            "#[derive(Debug, Clone, PartialEq, Default)]"
        } else {
            "#[derive(Debug, Clone, PartialEq)]"
        });
        c.line("#[allow(deprecated)]");
        w!(c, "pub struct {name} {{");
        c.indent_in();
        for f in fields {
            self.field_decl(c, u, f);
        }
    }

    /// The serde impls of a struct without members (the payload of an
    /// event without data), as [`Cx::struct_item`] writes them.
    pub(super) fn empty_struct_impls(&self, c: &mut Code, guard: &str, name: &str) {
        let mut u = Unit::new();
        self.serialize_impls(c, &mut u, name, guard, false, |c, _| c.line("Result_::Ok(())"));
        self.struct_deserialize(c, &mut u, name, guard, &[]);
    }

    /// `Deserialize` for a struct of `fields`, through a builder local to
    /// the impl (named `Slots_`, which no converted QAPI name can be) and
    /// the runtime's generic `deserialize_struct`: far less code than
    /// `derive(Deserialize)` expands to, with the same errors.
    /// Every member has an index, configured out or not, so that indices
    /// don't depend on the configuration.
    fn struct_deserialize(&self, c: &mut Code, u: &mut Unit, name: &str, guard: &str, fields: &[Field]) {
        impl_open(c, u, guard, true, "<'de>", Some("qapi_rt_::serde::Deserialize<'de>"), name);
        deserialize_sig(c);
        c.line("#[derive(Default)]");
        c.line("struct Slots_ {");
        c.indent_in();
        for (i, f) in fields.iter().enumerate() {
            attr_line(c, u, &f.guard);
            u!(u, "m{i}: ").s("Option_<").cbox(4).zb().ty(&f.held).tc(true).end().s(">,").put(c);
        }
        close_empty(c, "struct Slots_ {");
        c.line("impl<'de> qapi_rt_::types::StructBuilder<'de> for Slots_ {");
        c.indent_in();
        w!(c, "type Value = {name};");
        w!(c, "const NAME: &'static str = {};", str_lit(name.trim_start_matches("r#")));
        wire_names(c, u, "const FIELDS: &'static [&'static str] = ", fields);
        sig_lines(
            c,
            "fn set<D: qapi_rt_::serde::Deserializer<'de>>(",
            &["&mut self,", if fields.is_empty() { "_index: usize," } else { "index: usize," }, "value: D,"],
            ") -> Result_<bool, D::Error> {",
        );
        if fields.is_empty() {
            c.line("qapi_rt_::types::skip(value)");
        } else {
            c.line("match index {");
            c.indent_in();
            for (i, f) in fields.iter().enumerate() {
                attr_line(c, u, &f.guard);
                u!(u.ibox(0), "{i}").arm_open().s("qapi_rt_::types::put").args().s("&mut ");
                u!(u.field("self", &format!("m{i}")).next(), "value").close().arm_close(false).put(c);
            }
            c.line("_ => qapi_rt_::types::skip(value),");
            c.close("");
        }
        c.close("");
        u.sig("fn build<E: qapi_rt_::serde::de::Error>", &[("self", "")], Some(format!("Result_<{name}, E>").as_str()))
            .put(c);
        c.indent_in();
        u.ibox(0).s("Result_::Ok(");
        struct_lit(u, name, fields.iter().enumerate().map(|(i, f)| (f, Init::SelfSlot(i))), None);
        u.s(")").end().put(c);
        c.close("");
        c.close("");
        w!(c, "qapi_rt_::types::deserialize_struct::<Slots_, D>(deserializer, {})", self.strict());
        c.close("");
        c.close("");
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
        name: &str,
        head: &Head,
    ) -> Result<String, GenError> {
        let name = name.to_string();
        let since = self.since_of(e);
        let mut scope = Scope::new(&e.name);
        let fields = self.fields(e.id, obj.all_members(self.schema), since.as_deref(), &mut scope)?;
        scope.claim("additional", "the members the schema does not declare")?;
        let (mut c, mut u) = (Code::new(), Unit::new());
        let (c, u) = (&mut c, &mut u);
        let guard = head.guard.as_str();
        self.struct_open(c, u, &name, head, &fields);
        c.line("/// Members the schema does not declare, passed on as they are");
        c.line("/// (the command has `'gen': false`).");
        c.line("pub additional: qapi_rt_::serde_json::Map<String_, qapi_rt_::serde_json::Value>,");
        c.close("");
        self.serialize_impls(c, u, &name, guard, true, |c, u| {
            self.serialize_fields(c, u, &fields);
            c.line("for (key, value) in &self.additional {");
            c.indent_in();
            c.line("map.serialize_entry(key, value)?;");
            c.close("");
            c.line("Result_::Ok(())");
        });
        deserialize_impl(c, u, &name, guard, &format!("an object ({})", e.name), "deserialize_map", |c, u| {
            visit_map_sig(c, u, &name);
            read_members(c, u, &fields, None, "additional");
            u.ibox(0).s("Result_::Ok(");
            struct_lit(u, &name, fields.iter().enumerate().map(|(i, f)| (f, Init::Slot(i))), Some("additional"));
            u.s(")").end().put(c);
            c.close("");
        });
        self.accessors(c, u, &name, guard, &fields);
        Ok(std::mem::take(c).finish())
    }

    /// The `Since:` of a definition (for implicit types, the command's or
    /// event's).
    pub(super) fn since_of(&self, e: &Entity) -> Option<String> {
        e.doc.as_ref().and_then(|d| d.since()).map(str::to_owned)
    }

    // ---- unions ------------------------------------------------------------

    fn union(&self, e: &Entity, obj: &ObjectType, head: &Head) -> Result<String, GenError> {
        let empty_piece = || Ok(String::new());
        let Some(br) = &obj.branches else { return empty_piece() };
        let tag = &br.tag;
        let tag_enum_id = tag.ty;
        let Some(tag_enum) = self.schema[tag_enum_id].as_enum() else { return empty_piece() };
        let tag_ty = self.name(tag_enum_id);
        let tag_lit = str_lit(&tag.name);
        let strict = self.strict();
        let as_enum = self.union_is_enum(e);
        let name = self.name(e.id);
        let branch_ty = if as_enum { name.clone() } else { self.branch_name(e) };
        let fallback = if strict { "" } else { fallback_name(tag_enum) };
        let guard = head.guard.as_str();

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
                docs: lines,
                dep: value.map(|v| self.deprecated(&v.features)).unwrap_or_default(),
            });
        }
        // Tag values whose branch is not generated while the value is.
        let needs_wildcard = tag_enum.values.iter().any(|v| {
            let vg = self.guard(&[v.cond.as_ref()], self.has_feature(&v.features, "unstable"));
            match (vg, variants.iter().find(|x| x.wire == v.name)) {
                (None, _) => false,
                (Some(_), None) => true,
                (Some(vg), Some(x)) => vg != x.guard,
            }
        });
        let empty = variants.is_empty() && strict;

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

        let (mut c, mut u) = (Code::new(), Unit::new());
        let (c, u) = (&mut c, &mut u);

        if !as_enum {
            // Struct of the base members; the tag member holds the branch.
            c.item();
            head_lines(c, u, &head.docs, guard, &head.dep);
            c.line("#[derive(Debug, Clone, PartialEq)]");
            c.line("#[allow(deprecated)]");
            w!(c, "pub struct {name} {{");
            c.indent_in();
            let mut tag_lines = tag.doc().map(|s| doc::render(&s.text)).unwrap_or_default();
            push_line(
                &mut tag_lines,
                "The discriminator: its value selects the branch, which holds the branch's members.",
            );
            let mut fi = fields.iter();
            for (i, m) in base_members.iter().enumerate() {
                if i == tag_pos {
                    c.docs(&tag_lines);
                    u.s("pub ").s(&tag_field).s(": ").s(&branch_ty).s(",").put(c);
                    continue;
                }
                // Members dropped by their guard have no field.
                if self.member_guard(m).is_none() {
                    continue;
                }
                if let Some(f) = fi.next() {
                    self.field_decl(c, u, f);
                }
            }
            c.close("");
        }

        // The branch enum and its `tag()`.
        c.item();
        if as_enum {
            head_lines(c, u, &head.docs, guard, &head.dep);
        } else {
            w!(c, "/// The branches of `{name}`, by the value of `{}`.", tag.name);
            attr_line(c, u, guard);
        }
        c.line("#[derive(Debug, Clone, PartialEq)]");
        c.line("#[allow(clippy::large_enum_variant, clippy::enum_variant_names)]");
        w!(c, "pub enum {branch_ty} {{");
        c.indent_in();
        for v in &variants {
            head_lines(c, u, &v.docs, &v.guard, &v.dep);
            match &v.ty {
                Some((_, t)) => {
                    u.s(&v.ident).cbox(4).s("(").zb().ty(t).tc(true).s(")").end().s(",").put(c);
                }
                None => w!(c, "{},", v.ident),
            }
        }
        if !strict {
            c.line("/// A branch this side does not know: the discriminator's value");
            c.line("/// and the other members, as received.");
            w!(c, "{fallback} {{");
            c.indent_in();
            c.line("/// The discriminator's value.");
            c.line("tag: String_,");
            c.line("/// The members other than the common ones.");
            c.line("members: qapi_rt_::serde_json::Map<String_, qapi_rt_::serde_json::Value>,");
            c.close(",");
        }
        close_empty(c, &format!("pub enum {branch_ty} {{"));

        impl_open(c, u, guard, true, "", None::<&str>, &branch_ty);
        c.line("/// The discriminator's value for this branch.");
        c.line("#[inline]");
        u.sig("pub fn tag", &[("&self", "")], Some(tag_ty.as_str())).put(c);
        c.indent_in();
        if variants.is_empty() && strict {
            c.line("match *self {}");
        } else {
            c.line("match *self {");
            c.indent_in();
            for v in &variants {
                let path = format!("Self::{}", v.ident);
                let pat = if v.ty.is_some() { call(path, vec![t("..")]) } else { t(path) };
                c.arm(&Arm { attr: &v.guard, pat, body: Body::Expr(t(format!("{tag_ty}::{}", v.ident))) });
            }
            if !strict {
                u.ibox(0).cbox(4).s("Self::").s(fallback).s(" {").sp().s("ref tag").s(",").sp().s("..");
                u.sp_out().end().s("}");
                u.arm_open().s(&tag_ty).s("::").s(fallback).args().s("::core::clone::Clone::clone").args();
                u.s("tag").close().close().arm_close(false).put(c);
            }
            c.close("");
        }
        c.close("");
        c.close("");

        // What the branch holds, as members.
        let branch_members = |c: &mut Code, u: &mut Unit| {
            if empty {
                c.line("let _ = map;");
                c.line("match *self {}");
                return;
            }
            if strict && !as_enum && !variants.iter().any(|v| v.ty.is_some() && v.guard.is_empty()) {
                // No branch that is always there writes members.
                c.line("let _ = &map;");
            }
            c.line("match *self {");
            c.indent_in();
            for v in &variants {
                match &v.ty {
                    Some((id, _)) => {
                        attr_line(c, u, &v.guard);
                        u.ibox(0).s("Self::").s(&v.ident).s("(").cbox(4).zb().s("ref branch").tc(true).end().s(")");
                        u.arm_open();
                        qself(u, &self.ty(*id), "qapi_rt_::types::ObjectMembers").s("::serialize_members");
                        u.args().s("branch").next().s("map").close().s("?").arm_close(false).put(c);
                    }
                    None => {
                        attr_line(c, u, &v.guard);
                        w!(c, "Self::{} => {{}}", v.ident);
                    }
                }
            }
            if !strict {
                w!(c, "Self::{fallback} {{ ref members, .. }} => {{");
                c.indent_in();
                c.line("for (key, value) in members {");
                c.indent_in();
                c.line("map.serialize_entry(key, value)?;");
                c.close("");
                c.close("");
            }
            c.close("");
            c.line("Result_::Ok(())");
        };

        if as_enum {
            self.serialize_impls(c, u, &name, guard, true, |c, u| {
                if !empty {
                    entry_start(u, "", &tag_lit).s("&").cbox(4).s("self").zb().s(".tag()").end();
                    entry_end(u);
                    u.put(c);
                }
                branch_members(c, u);
            });
        } else {
            impl_open(c, u, guard, true, "", Some("qapi_rt_::types::ObjectMembers"), &branch_ty);
            sig_lines(
                c,
                "fn serialize_members<M: qapi_rt_::serde::ser::SerializeMap>(",
                &["&self,", "map: &mut M,"],
                ") -> Result_<(), M::Error> {",
            );
            branch_members(c, u);
            c.close("");
            c.close("");
            self.serialize_impls(c, u, &name, guard, true, |c, u| {
                let mut fi = fields.iter();
                for (i, m) in base_members.iter().enumerate() {
                    if i == tag_pos {
                        entry_start(u, "", &tag_lit).s("&").cbox(4).s("self").zb().s(".").s(&tag_field);
                        u.zb().s(".tag()").end();
                        entry_end(u);
                        u.put(c);
                        continue;
                    }
                    if self.member_guard(m).is_none() {
                        continue;
                    }
                    if let Some(f) = fi.next() {
                        self.serialize_fields(c, u, std::slice::from_ref(f));
                    }
                }
                u.ibox(0);
                qself(u, &branch_ty, "qapi_rt_::types::ObjectMembers").s("::serialize_members").args();
                u.s("&").field("self", &tag_field).next().s("map").close().end().put(c);
            });
        }

        // Decoding: the members, then the branch once the discriminator
        // is known.
        deserialize_impl(c, u, &name, guard, &format!("an object ({})", e.name), "deserialize_map", |c, u| {
            visit_map_sig(c, u, &name);
            read_members(c, u, &fields, Some(("tag", &tag_lit, &tag_ty)), "rest");
            u.ibox(0).s("let tag = ").never();
            u.s("qapi_rt_::types::required").args().s("tag").next().s(&tag_lit).close().s("?").end().s(";").put(c);
            for (i, f) in fields.iter().enumerate().filter(|(_, f)| !f.optional) {
                attr_line(c, u, &f.guard);
                u!(u.ibox(0), "let m{i} = ").never().s("qapi_rt_::types::required").args();
                u!(u, "m{i}").next().s(&f.lit).close().s("?").end().s(";").put(c);
            }
            if empty {
                c.line("let _ = rest;");
                w!(c, "let branch: {branch_ty} = match tag {{}};");
            } else {
                c.line("let branch = match tag {");
                c.indent_in();
                for v in &variants {
                    attr_line(c, u, &v.guard);
                    if v.ty.is_some() {
                        u.ibox(0).s(&tag_ty).s("::").s(&v.ident).arm_open();
                        u.s(&branch_ty).s("::").s(&v.ident).args();
                        if v.boxed {
                            u.s("::std::boxed::Box::new").args();
                        }
                        u.s("qapi_rt_::types::branch_from_members").args().s("rest").close().s("?");
                        if v.boxed {
                            u.close();
                        }
                        u.close().arm_close(false).put(c);
                    } else {
                        w!(c, "{tag_ty}::{} => {{", v.ident);
                        c.indent_in();
                        w!(c, "qapi_rt_::types::no_members(&rest, {strict})?;");
                        w!(c, "{branch_ty}::{}", v.ident);
                        c.close("");
                    }
                }
                if !strict {
                    u.ibox(0).s(&tag_ty).s("::").s(fallback).s("(").cbox(4).zb().s("tag").tc(true).end().s(")");
                    u.arm_open().cbox(4).s(&branch_ty).s("::").s(fallback).s(" {").sp();
                    u.s("tag").tcs(false).s("members: ").ibox(0).s("rest").end().tcs(true).end_max(34).s("}");
                    u.arm_close(false).put(c);
                }
                if needs_wildcard {
                    c.line("#[allow(unreachable_patterns)]");
                    let msg = format!("the branch of {} for this '{}' is not available", e.name, tag.name);
                    u.ibox(0).s("_").arm_open().s("return Result_::Err").args();
                    u.s("qapi_rt_::serde::de::Error::custom").args().s(&str_lit(&msg)).close().close();
                    u.arm_close(true).put(c);
                }
                c.close(";");
            }
            if as_enum {
                u.ibox(0).s("Result_::Ok").args().s("branch").close().end().put(c);
            } else {
                u.ibox(0).s("Result_::Ok(");
                let inits = fields.iter().enumerate().map(|(i, f)| (f, Init::Slot(i)));
                struct_lit_tail(u, &name, inits, &tag_field);
                u.s(")").end().put(c);
            }
            c.close("");
        });

        if !as_enum {
            self.accessors(c, u, &name, guard, &fields);
        }
        if self.opts.json_codec {
            self.codec_via_serde(c, u, &name, guard);
        }
        Ok(std::mem::take(c).finish())
    }

    // ---- alternates ----------------------------------------------------------

    pub(super) fn alternate(&self, e: &Entity, alt: &AlternateType) -> Result<String, GenError> {
        let Some(guard) = self.type_guard(e.id) else { return Ok(String::new()) };
        let name = self.name(e.id);
        let mut scope = Scope::new(&e.name);
        let (mut c, mut u) = (Code::new(), Unit::new());
        let (c, u) = (&mut c, &mut u);
        let guard = guard.as_str();

        /// What a branch is decoded from.
        #[derive(PartialEq, Clone, Copy)]
        enum From {
            Null,
            Str,
            Enum,
            Bool,
            Number,
            Int,
            Object,
            Array,
            Other,
        }
        struct Branch {
            ident: String,
            guard: String,
            from: From,
            /// The branch type, never boxed.
            inner: String,
            boxed: bool,
        }
        let mut branches = Vec::new();

        c.item();
        head_lines(c, u, &self.entity_docs(e), guard, &self.deprecated(&e.features));
        c.line("#[derive(Debug, Clone, PartialEq)]");
        c.line("#[allow(clippy::large_enum_variant, clippy::enum_variant_names)]");
        w!(c, "pub enum {name} {{");
        c.indent_in();
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
            head_lines(c, u, &lines, &g, "");
            let target = &self.schema[b.ty];
            let from = match &target.kind {
                EntityKind::Builtin(Builtin::Null) => From::Null,
                EntityKind::Builtin(Builtin::Str) => From::Str,
                EntityKind::Enum(_) => From::Enum,
                EntityKind::Builtin(Builtin::Bool) => From::Bool,
                EntityKind::Builtin(Builtin::Number) => From::Number,
                EntityKind::Builtin(_) => From::Int,
                EntityKind::Object(_) => From::Object,
                EntityKind::Array(_) => From::Array,
                _ => From::Other,
            };
            if from == From::Null {
                w!(c, "{ident},");
            } else {
                u.s(&ident).cbox(4).s("(").zb().ty(&self.held_ty(e.id, b.ty)).tc(true).s(")").end().s(",").put(c);
            }
            branches.push(Branch { ident, guard: g, from, inner: self.ty(b.ty), boxed: self.is_boxed(e.id, b.ty) });
        }
        close_empty(c, &format!("pub enum {name} {{"));

        impl_open(c, u, guard, true, "", Some("qapi_rt_::serde::Serialize"), &name);
        serialize_sig(c);
        if branches.is_empty() {
            c.line("let _ = serializer;");
            c.line("match *self {}");
        } else {
            c.line("match *self {");
            c.indent_in();
            for b in &branches {
                attr_line(c, u, &b.guard);
                if b.from == From::Null {
                    u.ibox(0).s("Self::").s(&b.ident).arm_open();
                    u.cbox(4).s("serializer").zb().s(".serialize_unit()").end().arm_close(false).put(c);
                } else {
                    u.ibox(0).s("Self::").s(&b.ident).s("(").cbox(4).zb().s("ref value").tc(true).end().s(")");
                    u.arm_open().s("qapi_rt_::serde::Serialize::serialize").args().s("value").next();
                    u.s("serializer").close().arm_close(false).put(c);
                }
            }
            c.close("");
        }
        c.close("");
        c.close("");

        let find = |f: &[From]| branches.iter().rev().find(|b| f.contains(&b.from));
        // A visitor method: its signature after `fn visit_x`, the value
        // written by `value`.
        let method = |c: &mut Code,
                      u: &mut Unit,
                      b: &Branch,
                      head: &str,
                      args: &[(&str, &str)],
                      ret: &str,
                      value: &dyn Fn(&mut Unit)| {
            attr_line(c, u, &b.guard);
            u.sig(head, args, Some(ret)).put(c);
            c.indent_in();
            u.ibox(0).s("Result_::Ok").args().s(&name).s("::").s(&b.ident);
            if b.from != From::Null {
                u.args();
                if b.boxed {
                    u.s("::std::boxed::Box::new").args();
                }
                value(u);
                if b.boxed {
                    u.close();
                }
                u.close();
            }
            u.close().end().put(c);
            c.close("");
        };
        // `<T as Deserialize>::deserialize(source)?`.
        let decode = |u: &mut Unit, b: &Branch, source: &dyn Fn(&mut Unit)| {
            qself(u, &b.inner, "qapi_rt_::serde::Deserialize").s("::deserialize").args();
            source(u);
            u.close().s("?");
        };
        let de_str = |u: &mut Unit, what: &str| {
            u.s("qapi_rt_::serde::de::value::").s(what).turbofish(&["E"]).s("::new").args().s("value").close();
        };
        let e_sig = "<E: qapi_rt_::serde::de::Error>";
        deserialize_impl(c, u, &name, guard, &format!("a value of alternate {}", e.name), "deserialize_any", |c, u| {
            if let Some(b) = find(&[From::Str, From::Enum]) {
                let value = |u: &mut Unit| {
                    if b.from == From::Str {
                        u.s("::std::borrow::ToOwned::to_owned").args().s("value").close();
                    } else {
                        decode(u, b, &|u| de_str(u, "StrDeserializer"));
                    }
                };
                let head = format!("fn visit_str{e_sig}");
                method(c, u, b, &head, &[("self", ""), ("value", "&str")], "Result_<Self::Value, E>", &value);
            }
            if let Some(b) = find(&[From::Bool]) {
                let head = format!("fn visit_bool{e_sig}");
                let args = [("self", ""), ("value", "bool")];
                method(c, u, b, &head, &args, "Result_<Self::Value, E>", &|u| {
                    u.s("value");
                });
            }
            if let Some(b) = find(&[From::Null]) {
                let head = format!("fn visit_unit{e_sig}");
                method(c, u, b, &head, &[("self", "")], "Result_<Self::Value, E>", &|_| {});
            }
            // Integers go to the integer branch, or else to the number
            // branch.
            let int = find(&[From::Int]);
            let number = find(&[From::Number]);
            let cast = |u: &mut Unit| {
                u.ibox(4).s("value").sp().s("as f64").end();
            };
            if let Some(b) = int {
                let head = format!("fn visit_i64{e_sig}");
                let args = [("self", ""), ("value", "i64")];
                method(c, u, b, &head, &args, "Result_<Self::Value, E>", &|u| {
                    decode(u, b, &|u| de_str(u, "I64Deserializer"));
                });
                let head = format!("fn visit_u64{e_sig}");
                let args = [("self", ""), ("value", "u64")];
                method(c, u, b, &head, &args, "Result_<Self::Value, E>", &|u| {
                    decode(u, b, &|u| de_str(u, "U64Deserializer"));
                });
            } else if let Some(b) = number {
                for (head, ty) in [("fn visit_i64", "i64"), ("fn visit_u64", "u64")] {
                    let head = format!("{head}{e_sig}");
                    method(c, u, b, &head, &[("self", ""), ("value", ty)], "Result_<Self::Value, E>", &cast);
                }
            }
            if let Some(b) = number {
                let head = format!("fn visit_f64{e_sig}");
                let args = [("self", ""), ("value", "f64")];
                method(c, u, b, &head, &args, "Result_<Self::Value, E>", &|u| {
                    u.s("value");
                });
            }
            if let Some(b) = find(&[From::Object]) {
                let head = "fn visit_map<A: qapi_rt_::serde::de::MapAccess<'de>>";
                let args = [("self", ""), ("map", "A")];
                method(c, u, b, head, &args, "Result_<Self::Value, A::Error>", &|u| {
                    decode(u, b, &|u| {
                        u.s("qapi_rt_::serde::de::value::MapAccessDeserializer::new").args().s("map").close();
                    });
                });
            }
            if let Some(b) = find(&[From::Array]) {
                let head = "fn visit_seq<A: qapi_rt_::serde::de::SeqAccess<'de>>";
                let args = [("self", ""), ("seq", "A")];
                method(c, u, b, head, &args, "Result_<Self::Value, A::Error>", &|u| {
                    decode(u, b, &|u| {
                        u.s("qapi_rt_::serde::de::value::SeqAccessDeserializer::new").args().s("seq").close();
                    });
                });
            }
        });
        if self.opts.json_codec {
            self.codec_via_serde(c, u, &name, guard);
        }
        Ok(std::mem::take(c).finish())
    }
}

/// A `Deserialize` impl through a local visitor: `visit` writes its
/// `visit_*` methods, `entry` is the `Deserializer` method to call.
fn deserialize_impl(
    c: &mut Code,
    u: &mut Unit,
    name: &str,
    guard: &str,
    expecting: &str,
    entry: &str,
    visit: impl FnOnce(&mut Code, &mut Unit),
) {
    impl_open(c, u, guard, true, "<'de>", Some("qapi_rt_::serde::Deserialize<'de>"), name);
    deserialize_sig(c);
    c.line("struct Visitor;");
    c.line("impl<'de> qapi_rt_::serde::de::Visitor<'de> for Visitor {");
    c.indent_in();
    w!(c, "type Value = {name};");
    sig_lines(c, "fn expecting(", &["&self,", "f: &mut ::core::fmt::Formatter<'_>,"], ") -> ::core::fmt::Result {");
    u.ibox(0).cbox(4).s("f.write_str").cbox(-4).args().s(&str_lit(expecting)).close().end().end().end().put(c);
    c.close("");
    visit(c, u);
    c.close("");
    w!(c, "deserializer.{entry}(Visitor)");
    c.close("");
    c.close("");
}

/// How a struct literal's field gets its value from slot `i`.
#[derive(Clone, Copy)]
pub(super) enum Init {
    /// `self.mI` of the builder (`required(...)?` unless optional).
    SelfSlot(usize),
    /// The local `mI` (`required(...)?` unless optional).
    Slot(usize),
    /// The local `mI` read by the JSON codec (`required(r, ...)?`
    /// unless optional).
    Read(usize),
}

/// `Name { #[cfg] field: value, ... }` followed by `tail` (a shorthand
/// field) if any.
pub(super) fn struct_lit<'f>(
    u: &mut Unit,
    name: &str,
    inits: impl Iterator<Item = (&'f Field, Init)>,
    tail: Option<&str>,
) {
    let inits: Vec<(&Field, Init)> = inits.collect();
    u.cbox(4).s(name).s(" {");
    let n = inits.len() + usize::from(tail.is_some());
    if n > 0 {
        u.sp();
    } else {
        u.empty_lit_break(name);
    }
    for (k, (f, init)) in inits.iter().enumerate() {
        if !f.guard.is_empty() {
            u.attr(&f.guard).sp();
        }
        u.s(&f.ident).s(": ").ibox(0);
        let (base, slot) = match *init {
            Init::SelfSlot(i) => (true, i),
            Init::Slot(i) | Init::Read(i) => (false, i),
        };
        let slot_expr = |u: &mut Unit| {
            if base {
                u!(u.cbox(4).s("self").zb(), ".m{slot}").end();
            } else {
                u!(u, "m{slot}");
            }
        };
        if f.optional {
            slot_expr(u);
        } else {
            if let Init::Read(_) = init {
                u.s("qapi_rt_::json::required").args().s("r").next();
            } else {
                u.s("qapi_rt_::types::required").args();
            }
            slot_expr(u);
            u.next().s(&f.lit).close().s("?");
        }
        u.end().tcs(k + 1 == n);
    }
    if let Some(t) = tail {
        u.s(t).tcs(true);
    }
    u.end_max(34).s("}");
}

/// [`struct_lit`] for a union: the locals `mI`, then `tag_field: branch`.
fn struct_lit_tail<'f>(u: &mut Unit, name: &str, inits: impl Iterator<Item = (&'f Field, Init)>, tag_field: &str) {
    let inits: Vec<(&Field, Init)> = inits.collect();
    u.cbox(4).s(name).s(" {").sp();
    for (f, init) in &inits {
        if !f.guard.is_empty() {
            u.attr(&f.guard).sp();
        }
        let (Init::Slot(i) | Init::SelfSlot(i) | Init::Read(i)) = *init;
        u!(u.s(&f.ident).s(": ").ibox(0), "m{i}").end().tcs(false);
    }
    u.s(tag_field).s(": ").ibox(0).s("branch").end().tcs(true);
    u.end_max(34).s("}");
}

/// The loop of a `visit_map` that reads `fields` into locals `mI` (and
/// `first`, a `(local, wire literal, type)` read before them, into its
/// own local), and collects every other member into the map `rest`.
fn read_members(c: &mut Code, u: &mut Unit, fields: &[Field], first: Option<(&str, &str, &str)>, rest: &str) {
    if let Some((slot, _, _)) = first {
        w!(c, "let mut {slot} = Option_::None;");
    }
    slot_lets(c, u, fields);
    w!(c, "let mut {rest} = qapi_rt_::serde_json::Map::new();");
    c.line("while let Option_::Some(key) = map.next_key::<String_>()? {");
    c.indent_in();
    c.line("match key.as_str() {");
    c.indent_in();
    if let Some((slot, lit, ty)) = first {
        member_arm(c, u, "", lit, ty, slot);
    }
    for (i, f) in fields.iter().enumerate() {
        member_arm(c, u, &f.guard, &f.lit, &f.held, &format!("m{i}"));
    }
    w!(c, "_ => qapi_rt_::types::collect(&mut map, &mut {rest}, key)?,");
    c.close("");
    c.close("");
}

/// `#[cfg] "wire" => qapi_rt_::types::member::<_, T>(&mut map, &mut slot, "wire")?,`
fn member_arm(c: &mut Code, u: &mut Unit, guard: &str, lit: &str, ty: &str, slot: &str) {
    attr_line(c, u, guard);
    u.ibox(0).s(lit).arm_open().s("qapi_rt_::types::member").turbofish(&["_", ty]).args();
    u.s("&mut map").next().s("&mut ").s(slot).next().s(lit).close().s("?").arm_close(false).put(c);
}

/// `head` (`const NAMES: T = `) and the array of the wire names of
/// `fields`, configured out or not, so that a member's index does not
/// depend on the configuration.
pub(super) fn wire_names(c: &mut Code, u: &mut Unit, head: &str, fields: &[Field]) {
    if fields.is_empty() {
        w!(c, "{head}&[];");
        return;
    }
    u.cbox(0).s(head).never().s("&[").cbox(4).zb();
    for (i, f) in fields.iter().enumerate() {
        u.s(&f.lit).tc(i + 1 == fields.len());
    }
    u.end().s("];").end().put(c);
}

/// `let mut mI = Option_::None;` for each of `fields`, with its `#[cfg]`.
pub(super) fn slot_lets(c: &mut Code, u: &mut Unit, fields: &[Field]) {
    for (i, f) in fields.iter().enumerate() {
        attr_line(c, u, &f.guard);
        w!(c, "let mut m{i} = Option_::None;");
    }
}

/// `#[cfg] I => qapi_rt_::json::read_member(r, &mut mI, "wire")?,`
pub(super) fn read_arm(c: &mut Code, u: &mut Unit, guard: &str, i: usize, lit: &str) {
    attr_line(c, u, guard);
    u!(u.ibox(0), "{i}").arm_open().s("qapi_rt_::json::read_member").args().s("r").next();
    u!(u, "&mut m{i}").next().s(lit).close().s("?").arm_close(false).put(c);
}

/// `fn visit_map(self, mut map: A) -> Result_<Name, A::Error> {`.
fn visit_map_sig(c: &mut Code, u: &mut Unit, name: &str) {
    u.sig(
        "fn visit_map<A: qapi_rt_::serde::de::MapAccess<'de>>",
        &[("self", ""), ("mut map", "A")],
        Some(format!("Result_<{name}, A::Error>").as_str()),
    )
    .put(c);
    c.indent_in();
}

/// Closes a `{` block; one opened by `head` and left empty becomes
/// `head}` on one line, as prettyplease writes it.
fn close_empty(c: &mut Code, head: &str) {
    let buf = c.buf_mut();
    if buf.strip_suffix('\n').is_some_and(|b| b.ends_with(head)) {
        buf.pop();
        buf.push_str("}\n");
        c.indent_out();
    } else {
        c.close("");
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
