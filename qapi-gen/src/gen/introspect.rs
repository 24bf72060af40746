//! `query-qmp-schema`: the schema's introspection value, as QEMU builds it.
//!
//! [`introspect`] turns a resolved [`Schema`] into the JSON array of
//! `SchemaInfo` objects that QEMU's `query-qmp-schema` command returns
//! (QEMU's generator is `scripts/qapi/introspect.py`; the value's own
//! schema is `qapi/introspect.json`). What it produces follows QEMU's
//! rules:
//!
//! - **What appears.** Every command and event, in the order QEMU visits
//!   them (module by module: the root file, then included files in the
//!   order first included), followed by the types they use, directly or
//!   through other types, in order of first use. A type nothing reaches
//!   is left out, and so is everything of an empty schema.
//! - **Integers.** Every integer type (`int8` ... `uint64`, `size`) is
//!   reported as `int`, and an array of any of them as `[int]`.
//! - **Commands and events without arguments** take the empty object type
//!   `q_empty` as `arg-type`; a command that returns nothing has it as
//!   `ret-type` too. `allow-oob: true` is present only when set.
//! - **Names.** Array types are called `[ELEMENT]`. By default the names of
//!   the schema's own types (enums, objects, alternates) are masked: each
//!   becomes a decimal number, `"0"`, `"1"`, ..., in order of first use, as
//!   QEMU does on the wire. Built-in types keep their names, and an array's
//!   name follows its element's (`[str]`, `[3]`). [`Options::unmask`]
//!   keeps every name (QEMU's `--unmask`).
//! - **Entries.** Each `SchemaInfo` lists its keys in QEMU's order:
//!   what the meta-type has (`json-type`; `members` and `values`;
//!   `element-type`; `members`, `tag`, `variants`; `arg-type`,
//!   `ret-type`, `allow-oob`), then `name`, `meta-type`, and `features`
//!   when there are any. An optional member carries `"default": null`;
//!   a union's members include its base's and its `variants` one per tag
//!   value, `q_empty` for values the schema gives no branch.
//! - **Conditions.** QEMU compiles `if` conditions into the C table, so a
//!   binary reports what its build configuration enables. [`Conditions`]
//!   chooses: every condition true (the default, and what QEMU's
//!   reference output shows), or conditions evaluated against a set of
//!   defined names. Evaluated conditions drop exactly what the C
//!   preprocessor would drop (entries, members, enum values, branches and
//!   features whose condition is false); masked numbers and the set of
//!   types are decided before that, as in QEMU, so a type used only by a
//!   dropped command is still listed. [`introspect_conditional`] keeps the
//!   conditions instead, for code that decides them at compile time.
//!
//! ```
//! use qapi_gen::gen::introspect::{introspect, Options};
//!
//! let schema = "{ 'command': 'ping', 'data': { '*count': 'uint8' } }";
//! let out = qapi_gen::Frontend::new().check_str("ping.json", schema);
//! assert!(out.is_valid());
//!
//! let info = introspect(&out.schema, &Options::new().unmask(true));
//! assert_eq!(
//!     info,
//!     serde_json::json!([
//!         { "arg-type": "q_obj_ping-arg", "ret-type": "q_empty",
//!           "name": "ping", "meta-type": "command" },
//!         { "members": [ { "name": "count", "type": "int", "default": null } ],
//!           "name": "q_obj_ping-arg", "meta-type": "object" },
//!         { "members": [], "name": "q_empty", "meta-type": "object" },
//!         { "json-type": "int", "name": "int", "meta-type": "builtin" },
//!     ])
//! );
//! ```

use std::collections::BTreeSet;

use serde_json::Value;

use crate::model::{Cond, Entity, EntityId, EntityKind, Feature, JsonType, ModuleItem, Schema};

/// How `if` conditions are treated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Conditions {
    /// Every condition holds: the introspection of a QEMU built with
    /// everything enabled (what QEMU's reference output shows).
    #[default]
    AllTrue,
    /// A condition holds when it is true of this set of defined names
    /// (`'CONFIG_X'` holds when `CONFIG_X` is in the set; `all`, `any` and
    /// `not` combine as their names say).
    Defined(BTreeSet<String>),
}

impl Conditions {
    /// Conditions evaluated against `names`, the defined configuration
    /// symbols.
    ///
    /// ```
    /// use qapi_gen::gen::introspect::Conditions;
    /// use qapi_gen::model::Cond;
    ///
    /// let conds = Conditions::defined(["CONFIG_VNC"]);
    /// assert!(conds.holds(Some(&Cond::Name("CONFIG_VNC".into()))));
    /// assert!(!conds.holds(Some(&Cond::Name("CONFIG_SPICE".into()))));
    /// assert!(conds.holds(None));
    /// ```
    pub fn defined<I, S>(names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Conditions::Defined(names.into_iter().map(Into::into).collect())
    }

    /// Whether `cond` holds; no condition always does.
    pub fn holds(&self, cond: Option<&Cond>) -> bool {
        match (self, cond) {
            (_, None) | (Conditions::AllTrue, _) => true,
            (Conditions::Defined(names), Some(c)) => c.holds_with(names),
        }
    }
}

/// What [`introspect`] produces: masked or not, and which conditions hold.
///
/// The default is QEMU's: type names masked, every condition true.
///
/// ```
/// use qapi_gen::gen::introspect::{Conditions, Options};
///
/// let opts = Options::new().unmask(true).conditions(Conditions::defined(["CONFIG_VNC"]));
/// assert!(opts.unmask);
/// assert_eq!(Options::default(), Options::new());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Keep type names instead of numbering them (QEMU's `--unmask`).
    pub unmask: bool,
    /// How `if` conditions are treated.
    pub conditions: Conditions,
}

impl Options {
    /// QEMU's defaults: names masked, every condition true.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`unmask`](Self::unmask).
    pub fn unmask(mut self, unmask: bool) -> Self {
        self.unmask = unmask;
        self
    }

    /// Sets [`conditions`](Self::conditions).
    pub fn conditions(mut self, conditions: Conditions) -> Self {
        self.conditions = conditions;
        self
    }
}

/// The `query-qmp-schema` value of `schema`: a JSON array of `SchemaInfo`
/// objects, in QEMU's order and with QEMU's keys (see the
/// [module documentation](self) for the rules).
///
/// ```
/// use qapi_gen::gen::introspect::{introspect, Options};
///
/// let schema = "{ 'enum': 'Color', 'data': ['red', 'blue'] }
///               { 'event': 'PAINTED', 'data': { 'color': 'Color' } }";
/// let out = qapi_gen::Frontend::new().check_str("paint.json", schema);
/// let info = introspect(&out.schema, &Options::new());
/// // Masked: the event's argument type is "0", the enum "1".
/// assert_eq!(info[0]["arg-type"], "0");
/// assert_eq!(info[1]["members"][0]["type"], "1");
/// assert_eq!(info[2]["values"], serde_json::json!(["red", "blue"]));
/// ```
pub fn introspect(schema: &Schema, options: &Options) -> Value {
    introspect_conditional(schema, options.unmask).evaluate(&options.conditions)
}

/// The `query-qmp-schema` value of `schema` with its `if` conditions kept
/// instead of evaluated: what QEMU compiles into its C table, where the
/// preprocessor decides later which entries, members, enum values,
/// branches and features a build has.
///
/// [`CondTree::evaluate`] with some [`Conditions`] gives exactly what
/// [`introspect`] gives with them; a code generator can instead turn the
/// conditions into its own compile-time tests (the Rust backend's
/// `#[cfg]`). Masked numbers do not depend on conditions, as in QEMU.
///
/// ```
/// use qapi_gen::gen::introspect::{introspect, introspect_conditional, Conditions, CondTree, Options};
///
/// let schema = "{ 'command': 'ping', 'if': 'CONFIG_PING' }
///               { 'command': 'quit' }";
/// let out = qapi_gen::Frontend::new().check_str("ping.json", schema);
/// let tree = introspect_conditional(&out.schema, false);
/// let CondTree::Array(entries) = &tree else { unreachable!() };
/// assert!(entries[0].0.is_some() && entries[1].0.is_none());
/// let none = Conditions::defined(Vec::<String>::new());
/// assert_eq!(tree.evaluate(&none), introspect(&out.schema, &Options::new().conditions(none.clone())));
/// assert_eq!(tree.evaluate(&none).as_array().map(Vec::len), Some(2)); // quit and q_empty
/// ```
pub fn introspect_conditional(schema: &Schema, unmask: bool) -> CondTree {
    CondTree::Array(Introspector::new(schema, unmask).run())
}

/// A JSON value some of whose array elements hold only under a condition:
/// the shape of QEMU's introspection before the C preprocessor runs (see
/// [`introspect_conditional`]). Conditions sit only on array elements:
/// entries, members, enum values, branches and features.
#[derive(Debug, Clone, PartialEq)]
pub enum CondTree {
    /// A value without conditional parts.
    Value(Value),
    /// An object, its keys in QEMU's order.
    Object(Vec<(String, CondTree)>),
    /// An array; each element is present when its condition holds (`None`:
    /// always).
    Array(Vec<(Option<Cond>, CondTree)>),
}

impl CondTree {
    /// The JSON value when the conditions are decided by `conditions`.
    ///
    /// ```
    /// use qapi_gen::gen::introspect::{Conditions, CondTree};
    /// use qapi_gen::model::Cond;
    ///
    /// let t = CondTree::Array(vec![
    ///     (None, CondTree::Value("a".into())),
    ///     (Some(Cond::Name("B".into())), CondTree::Value("b".into())),
    /// ]);
    /// assert_eq!(t.evaluate(&Conditions::AllTrue), serde_json::json!(["a", "b"]));
    /// assert_eq!(t.evaluate(&Conditions::defined(["C"])), serde_json::json!(["a"]));
    /// ```
    pub fn evaluate(&self, conditions: &Conditions) -> Value {
        match self {
            CondTree::Value(v) => v.clone(),
            CondTree::Object(members) => {
                Value::Object(members.iter().map(|(k, t)| (k.clone(), t.evaluate(conditions))).collect())
            }
            CondTree::Array(elements) => Value::Array(
                elements
                    .iter()
                    .filter(|(c, _)| conditions.holds(c.as_ref()))
                    .map(|(_, t)| t.evaluate(conditions))
                    .collect(),
            ),
        }
    }

    /// Appends the JSON text of [`evaluate`](Self::evaluate)'s value to
    /// `out`, compact, exactly as `serde_json::to_string` writes it, without
    /// building the value (which for a whole schema means copying every
    /// string and hashing every key).
    ///
    /// ```
    /// use qapi_gen::gen::introspect::{Conditions, CondTree};
    /// use qapi_gen::model::Cond;
    ///
    /// let t = CondTree::Object(vec![(
    ///     "values".into(),
    ///     CondTree::Array(vec![
    ///         (None, CondTree::Value("a\"b".into())),
    ///         (Some(Cond::Name("B".into())), CondTree::Value(2.into())),
    ///     ]),
    /// )]);
    /// let mut text = String::new();
    /// t.write_json(&Conditions::defined(["C"]), &mut text);
    /// assert_eq!(text, r#"{"values":["a\"b"]}"#);
    /// ```
    pub fn write_json(&self, conditions: &Conditions, out: &mut String) {
        match self {
            CondTree::Value(Value::String(s)) => write_json_str(s, out),
            CondTree::Value(v) => out.push_str(&v.to_string()),
            CondTree::Object(members) => {
                out.push('{');
                for (i, (k, t)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_json_str(k, out);
                    out.push(':');
                    t.write_json(conditions, out);
                }
                out.push('}');
            }
            CondTree::Array(elements) => {
                let held = elements.iter().filter(|(c, _)| conditions.holds(c.as_ref())).map(|(_, t)| t);
                write_json_array(held, conditions, false, out);
            }
        }
    }

    /// Whether any part of the tree is conditional.
    ///
    /// ```
    /// use qapi_gen::gen::introspect::CondTree;
    /// assert!(!CondTree::Object(vec![("a".into(), CondTree::Value(1.into()))]).is_conditional());
    /// ```
    pub fn is_conditional(&self) -> bool {
        match self {
            CondTree::Value(_) => false,
            CondTree::Object(members) => members.iter().any(|(_, t)| t.is_conditional()),
            CondTree::Array(elements) => elements.iter().any(|(c, t)| c.is_some() || t.is_conditional()),
        }
    }
}

/// Appends the JSON text of an array of `elements` (each written as
/// [`CondTree::write_json`] writes it) to `out`; with `lines`, one element
/// a line, but `[]` when there are none.
pub(crate) fn write_json_array<'t>(
    elements: impl Iterator<Item = &'t CondTree>,
    conditions: &Conditions,
    lines: bool,
    out: &mut String,
) {
    out.push('[');
    let mut any = false;
    for e in elements {
        out.push_str(match (any, lines) {
            (false, true) => "\n",
            (false, false) => "",
            (true, true) => ",\n",
            (true, false) => ",",
        });
        e.write_json(conditions, out);
        any = true;
    }
    if lines && any {
        out.push('\n');
    }
    out.push(']');
}

/// Appends `s` as a JSON string. Schema text rarely needs escapes; when it
/// does, serde_json writes them, so that the text is always its own.
fn write_json_str(s: &str, out: &mut String) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&Value::from(s).to_string());
    }
}

/// An object's keys and values, in order.
type Fields = Vec<(String, CondTree)>;

fn leaf(v: impl Into<Value>) -> CondTree {
    CondTree::Value(v.into())
}

/// Builds the entries; mirrors the walk QEMU's generator makes, so that the
/// order of entries and of masked numbers is the same.
struct Introspector<'a> {
    schema: &'a Schema,
    unmask: bool,
    /// The work list: types in order of first use.
    used: Vec<EntityId>,
    /// `used` as a set, by entity index.
    is_used: Vec<bool>,
    /// Masked names, by entity index.
    masked: Vec<Option<u32>>,
    next_mask: u32,
    int: Option<EntityId>,
    int_list: Option<EntityId>,
    empty: Option<EntityId>,
    out: Vec<(Option<Cond>, CondTree)>,
}

impl<'a> Introspector<'a> {
    fn new(schema: &'a Schema, unmask: bool) -> Self {
        let n = schema.entities().len();
        let id_of = |name: &str| schema.lookup_type(name).map(|e| e.id);
        Introspector {
            schema,
            unmask,
            used: Vec::new(),
            is_used: vec![false; n],
            masked: vec![None; n],
            next_mask: 0,
            int: id_of("int"),
            int_list: id_of("intList"),
            empty: id_of("q_empty"),
            out: Vec::new(),
        }
    }

    fn run(mut self) -> Vec<(Option<Cond>, CondTree)> {
        let schema = self.schema;
        for module in schema.modules() {
            for item in &module.items {
                let ModuleItem::Entity(id) = *item else { continue };
                let Some(entity) = schema.get(id) else { continue };
                match &entity.kind {
                    EntityKind::Command(c) => {
                        let mut obj = Fields::new();
                        let arg = self.use_or_empty(c.arg_type);
                        obj.push(("arg-type".into(), leaf(arg)));
                        let ret = self.use_or_empty(c.ret_type);
                        obj.push(("ret-type".into(), leaf(ret)));
                        if c.allow_oob {
                            obj.push(("allow-oob".into(), leaf(true)));
                        }
                        self.push(entity, entity.name.clone(), "command", obj);
                    }
                    EntityKind::Event(ev) => {
                        let mut obj = Fields::new();
                        let arg = self.use_or_empty(ev.arg_type);
                        obj.push(("arg-type".into(), leaf(arg)));
                        self.push(entity, entity.name.clone(), "event", obj);
                    }
                    _ => {}
                }
            }
        }
        // The work list grows while it is walked.
        let mut i = 0;
        while let Some(&id) = self.used.get(i) {
            i += 1;
            if let Some(entity) = schema.get(id) {
                self.visit_type(entity);
            }
        }
        self.out
    }

    fn visit_type(&mut self, entity: &'a Entity) {
        let schema = self.schema;
        let mut obj = Fields::new();
        let mtype = match &entity.kind {
            EntityKind::Builtin(b) => {
                obj.push(("json-type".into(), leaf(b.json_type().as_str())));
                self.push(entity, entity.name.clone(), "builtin", obj);
                return;
            }
            EntityKind::Array(a) => {
                let element = self.use_type(a.element);
                obj.push(("element-type".into(), leaf(element.clone())));
                self.push(entity, format!("[{element}]"), "array", obj);
                return;
            }
            EntityKind::Enum(e) => {
                let mut members = Vec::new();
                let mut values = Vec::new();
                for v in &e.values {
                    let mut m = vec![("name".to_owned(), leaf(v.name.clone()))];
                    add_features(&mut m, &v.features);
                    members.push((v.cond.clone(), CondTree::Object(m)));
                    values.push((v.cond.clone(), leaf(v.name.clone())));
                }
                obj.push(("members".into(), CondTree::Array(members)));
                obj.push(("values".into(), CondTree::Array(values)));
                "enum"
            }
            EntityKind::Object(o) => {
                let mut members = Vec::new();
                for m in o.all_members(schema) {
                    // Use the type whatever the member's condition: QEMU
                    // decides the types and their numbers before the C
                    // preprocessor sees the conditions.
                    let ty = self.use_type(m.ty);
                    let mut v = vec![("name".to_owned(), leaf(m.name.clone())), ("type".to_owned(), leaf(ty))];
                    if m.optional {
                        v.push(("default".into(), leaf(Value::Null)));
                    }
                    add_features(&mut v, &m.features);
                    members.push((m.cond.clone(), CondTree::Object(v)));
                }
                obj.push(("members".into(), CondTree::Array(members)));
                if let Some(br) = &o.branches {
                    obj.push(("tag".into(), leaf(br.tag.name.clone())));
                    let mut variants = Vec::new();
                    for b in &br.branches {
                        let ty = self.use_type(b.ty);
                        let v = vec![("case".to_owned(), leaf(b.name.clone())), ("type".to_owned(), leaf(ty))];
                        variants.push((b.cond.clone(), CondTree::Object(v)));
                    }
                    obj.push(("variants".into(), CondTree::Array(variants)));
                }
                "object"
            }
            EntityKind::Alternate(a) => {
                let mut members = Vec::new();
                for b in &a.branches {
                    let ty = self.use_type(b.ty);
                    members.push((b.cond.clone(), CondTree::Object(vec![("type".to_owned(), leaf(ty))])));
                }
                obj.push(("members".into(), CondTree::Array(members)));
                "alternate"
            }
            EntityKind::Command(_) | EntityKind::Event(_) => return,
        };
        let name = self.name(entity);
        self.push(entity, name, mtype, obj);
    }

    /// Appends an entry with `name`, `meta-type` and the entity's features
    /// after what `obj` already holds, under the entity's condition.
    fn push(&mut self, entity: &Entity, name: String, mtype: &str, mut obj: Fields) {
        obj.push(("name".into(), leaf(name)));
        obj.push(("meta-type".into(), leaf(mtype)));
        add_features(&mut obj, &entity.features);
        self.out.push((entity.cond.clone(), CondTree::Object(obj)));
    }

    /// The name of a type as a reference to it, queueing the type for an
    /// entry of its own.
    fn use_type(&mut self, id: EntityId) -> String {
        let schema = self.schema;
        let is_int = |id: EntityId| schema.json_type(id) == Some(JsonType::Int);
        let Some(mut entity) = schema.get(id) else { return String::new() };
        let replacement = match &entity.kind {
            _ if is_int(id) => self.int,
            EntityKind::Array(a) if is_int(a.element) => self.int_list,
            _ => None,
        };
        if let Some(e) = replacement.and_then(|r| schema.get(r)) {
            entity = e;
        }
        if let Some(seen) = self.is_used.get_mut(entity.id.index()) {
            if !*seen {
                *seen = true;
                self.used.push(entity.id);
            }
        }
        match &entity.kind {
            EntityKind::Builtin(_) => entity.name.clone(),
            EntityKind::Array(a) => format!("[{}]", self.use_type(a.element)),
            _ => self.name(entity),
        }
    }

    /// `id`'s type, or `q_empty` for none.
    fn use_or_empty(&mut self, id: Option<EntityId>) -> String {
        match id.or(self.empty) {
            Some(id) => self.use_type(id),
            None => "q_empty".into(),
        }
    }

    /// The (possibly masked) name of a schema-defined type.
    fn name(&mut self, entity: &Entity) -> String {
        if self.unmask {
            return entity.name.clone();
        }
        let Some(slot) = self.masked.get_mut(entity.id.index()) else { return entity.name.clone() };
        let n = *slot.get_or_insert_with(|| {
            let n = self.next_mask;
            self.next_mask += 1;
            n
        });
        n.to_string()
    }
}

/// `features`, when there are any, each under its condition (the list
/// itself is there even when no feature's condition holds, as in QEMU's C
/// table).
fn add_features(obj: &mut Fields, features: &[Feature]) {
    if features.is_empty() {
        return;
    }
    let list = features.iter().map(|f| (f.cond.clone(), leaf(f.name.clone()))).collect();
    obj.push(("features".into(), CondTree::Array(list)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema(text: &str) -> Schema {
        let out = crate::Frontend::new().check_str("test.json", text);
        assert!(out.is_valid(), "{:?}", out.diagnostics);
        out.schema
    }

    fn names(v: &Value) -> Vec<&str> {
        v.as_array().into_iter().flatten().filter_map(|e| e["name"].as_str()).collect()
    }

    const SCHEMA: &str = "
        { 'pragma': { 'command-returns-exceptions': [ 'paint' ] } }
        { 'enum': 'Color', 'data': [ 'red', { 'name': 'blue', 'if': 'CONFIG_BLUE' } ] }
        { 'struct': 'Paint', 'data': { 'color': 'Color', '*coats': ['uint8'],
                                       '*shine': { 'type': 'number', 'if': 'CONFIG_SHINE' } },
          'features': [ { 'name': 'glossy', 'if': 'CONFIG_SHINE' } ] }
        { 'struct': 'Unused', 'data': { 'x': 'str' } }
        { 'command': 'paint', 'data': { 'what': 'Paint', 'also': ['Paint'] },
          'returns': 'Color' }
        { 'command': 'spray', 'data': { 'can': 'Color' }, 'if': 'CONFIG_SPRAY' }
        { 'event': 'DRY', 'data': { 'paint': 'Paint' }, 'features': [ 'unstable' ] }
    ";

    #[test]
    fn masked_names_follow_first_use() {
        let s = schema(SCHEMA);
        let v = introspect(&s, &Options::new());
        // Commands and events first use q_obj_paint-arg (0), Color (1),
        // q_obj_spray-arg (2), q_empty (3), q_obj_DRY-arg (4); the types'
        // entries then reach Paint (5).
        assert_eq!(names(&v), ["paint", "spray", "DRY", "0", "1", "2", "3", "4", "5", "[5]", "[int]", "int", "number"]);
        assert_eq!(v[0], json!({ "arg-type": "0", "ret-type": "1", "name": "paint", "meta-type": "command" }));
        assert_eq!(v[1]["ret-type"], "3");
        assert_eq!(v[2], json!({ "arg-type": "4", "name": "DRY", "meta-type": "event", "features": ["unstable"] }));
        assert_eq!(v[3]["members"], json!([ { "name": "what", "type": "5" }, { "name": "also", "type": "[5]" } ]));
        // Integer types become int, integer arrays [int]; builtins keep
        // their names.
        assert_eq!(
            v[8]["members"],
            json!([ { "name": "color", "type": "1" }, { "name": "coats", "type": "[int]", "default": null },
                    { "name": "shine", "type": "number", "default": null } ])
        );
        assert_eq!(v[9], json!({ "element-type": "5", "name": "[5]", "meta-type": "array" }));
        assert_eq!(v[10], json!({ "element-type": "int", "name": "[int]", "meta-type": "array" }));
        assert_eq!(v[11], json!({ "json-type": "int", "name": "int", "meta-type": "builtin" }));
    }

    #[test]
    fn unmasked_keeps_names() {
        let s = schema(SCHEMA);
        let v = introspect(&s, &Options::new().unmask(true));
        assert_eq!(
            names(&v),
            [
                "paint",
                "spray",
                "DRY",
                "q_obj_paint-arg",
                "Color",
                "q_obj_spray-arg",
                "q_empty",
                "q_obj_DRY-arg",
                "Paint",
                "[Paint]",
                "[int]",
                "int",
                "number",
            ]
        );
        assert_eq!(
            v[4],
            json!({ "members": [ { "name": "red" }, { "name": "blue" } ], "values": ["red", "blue"],
                    "name": "Color", "meta-type": "enum" })
        );
        assert_eq!(v[8]["features"], json!(["glossy"]));
        assert!(!names(&v).contains(&"Unused"));
    }

    #[test]
    fn defined_conditions_drop_what_is_false() {
        let s = schema(SCHEMA);
        let v = introspect(&s, &Options::new().conditions(Conditions::defined(["CONFIG_OTHER"])));
        // spray is dropped, and so is its argument type (it has the
        // command's condition), but the numbers stay those of the full
        // schema, as in a QEMU built without CONFIG_SPRAY.
        assert_eq!(names(&v), ["paint", "DRY", "0", "1", "3", "4", "5", "[5]", "[int]", "int", "number"]);
        let color = &v[3];
        assert_eq!(color["values"], json!(["red"]));
        assert_eq!(color["members"], json!([ { "name": "red" } ]));
        let paint = &v[6];
        assert_eq!(paint["members"].as_array().map(Vec::len), Some(2));
        assert_eq!(paint["features"], json!([]));

        let everything = Conditions::defined(["CONFIG_BLUE", "CONFIG_SHINE", "CONFIG_SPRAY"]);
        assert_eq!(introspect(&s, &Options::new().conditions(everything)), introspect(&s, &Options::new()));
    }

    #[test]
    fn condition_operators() {
        let name = |n: &str| Cond::Name(n.into());
        let c = Conditions::defined(["A"]);
        assert!(c.holds(Some(&Cond::Any(vec![name("A"), name("B")]))));
        assert!(!c.holds(Some(&Cond::All(vec![name("A"), name("B")]))));
        assert!(c.holds(Some(&Cond::Not(Box::new(name("B"))))));
        assert!(Conditions::AllTrue.holds(Some(&name("B"))));
    }

    #[test]
    fn unions_alternates_and_oob() {
        let s = schema(
            "{ 'enum': 'Kind', 'data': [ 'a', 'b' ] }
             { 'struct': 'Branch', 'data': { 'n': 'int' } }
             { 'union': 'Choice', 'base': { 'kind': 'Kind' }, 'discriminator': 'kind',
               'data': { 'a': 'Branch' } }
             { 'alternate': 'Alt', 'data': { 'u': 'Choice', 's': 'str' } }
             { 'command': 'go', 'data': { 'x': 'Alt' }, 'allow-oob': true }",
        );
        let v = introspect(&s, &Options::new().unmask(true));
        let find = |n: &str| v.as_array().into_iter().flatten().find(|e| e["name"] == n).cloned();
        assert_eq!(
            find("go"),
            Some(json!({ "arg-type": "q_obj_go-arg", "ret-type": "q_empty", "allow-oob": true,
                         "name": "go", "meta-type": "command" }))
        );
        assert_eq!(
            find("Alt"),
            Some(
                json!({ "members": [ { "type": "Choice" }, { "type": "str" } ], "name": "Alt", "meta-type": "alternate" })
            )
        );
        assert_eq!(
            find("Choice"),
            Some(json!({ "members": [ { "name": "kind", "type": "Kind" } ], "tag": "kind",
                         "variants": [ { "case": "a", "type": "Branch" }, { "case": "b", "type": "q_empty" } ],
                         "name": "Choice", "meta-type": "object" }))
        );
        assert_eq!(find("str"), Some(json!({ "json-type": "string", "name": "str", "meta-type": "builtin" })));
    }

    #[test]
    fn empty_schema_is_empty() {
        let s = schema("{ 'struct': 'Nothing', 'data': {} }");
        assert_eq!(introspect(&s, &Options::new()), json!([]));
    }
}
