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
//!   dropped command is still listed.
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

use serde_json::{Map, Value};

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
            (Conditions::Defined(names), Some(c)) => eval(c, names),
        }
    }
}

fn eval(cond: &Cond, names: &BTreeSet<String>) -> bool {
    match cond {
        Cond::Name(n) => names.contains(n),
        Cond::All(cs) => cs.iter().all(|c| eval(c, names)),
        Cond::Any(cs) => cs.iter().any(|c| eval(c, names)),
        Cond::Not(c) => !eval(c, names),
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
    Value::Array(Introspector::new(schema, options).run())
}

/// Builds the entries; mirrors the walk QEMU's generator makes, so that the
/// order of entries and of masked numbers is the same.
struct Introspector<'a> {
    schema: &'a Schema,
    opts: &'a Options,
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
    out: Vec<Value>,
}

impl<'a> Introspector<'a> {
    fn new(schema: &'a Schema, opts: &'a Options) -> Self {
        let n = schema.entities().len();
        let id_of = |name: &str| schema.lookup_type(name).map(|e| e.id);
        Introspector {
            schema,
            opts,
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

    fn run(mut self) -> Vec<Value> {
        let schema = self.schema;
        for module in schema.modules() {
            for item in &module.items {
                let ModuleItem::Entity(id) = *item else { continue };
                let Some(entity) = schema.get(id) else { continue };
                match &entity.kind {
                    EntityKind::Command(c) => {
                        let mut obj = Map::new();
                        let arg = self.use_or_empty(c.arg_type);
                        obj.insert("arg-type".into(), arg.into());
                        let ret = self.use_or_empty(c.ret_type);
                        obj.insert("ret-type".into(), ret.into());
                        if c.allow_oob {
                            obj.insert("allow-oob".into(), true.into());
                        }
                        self.push(entity, entity.name.clone(), "command", obj);
                    }
                    EntityKind::Event(ev) => {
                        let mut obj = Map::new();
                        let arg = self.use_or_empty(ev.arg_type);
                        obj.insert("arg-type".into(), arg.into());
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
        let mut obj = Map::new();
        let mtype = match &entity.kind {
            EntityKind::Builtin(b) => {
                obj.insert("json-type".into(), b.json_type().as_str().into());
                self.push(entity, entity.name.clone(), "builtin", obj);
                return;
            }
            EntityKind::Array(a) => {
                let element = self.use_type(a.element);
                obj.insert("element-type".into(), element.clone().into());
                self.push(entity, format!("[{element}]"), "array", obj);
                return;
            }
            EntityKind::Enum(e) => {
                let mut members = Vec::new();
                let mut values = Vec::new();
                for v in &e.values {
                    if !self.holds(v.cond.as_ref()) {
                        continue;
                    }
                    let mut m = Map::new();
                    m.insert("name".into(), v.name.clone().into());
                    self.add_features(&mut m, &v.features);
                    members.push(Value::Object(m));
                    values.push(Value::from(v.name.clone()));
                }
                obj.insert("members".into(), members.into());
                obj.insert("values".into(), values.into());
                "enum"
            }
            EntityKind::Object(o) => {
                let mut members = Vec::new();
                for m in o.all_members(schema) {
                    // Use the type even when the member is dropped: QEMU
                    // decides the types and their numbers before the C
                    // preprocessor sees the conditions.
                    let ty = self.use_type(m.ty);
                    if !self.holds(m.cond.as_ref()) {
                        continue;
                    }
                    let mut v = Map::new();
                    v.insert("name".into(), m.name.clone().into());
                    v.insert("type".into(), ty.into());
                    if m.optional {
                        v.insert("default".into(), Value::Null);
                    }
                    self.add_features(&mut v, &m.features);
                    members.push(Value::Object(v));
                }
                obj.insert("members".into(), members.into());
                if let Some(br) = &o.branches {
                    obj.insert("tag".into(), br.tag.name.clone().into());
                    let mut variants = Vec::new();
                    for b in &br.branches {
                        let ty = self.use_type(b.ty);
                        if !self.holds(b.cond.as_ref()) {
                            continue;
                        }
                        let mut v = Map::new();
                        v.insert("case".into(), b.name.clone().into());
                        v.insert("type".into(), ty.into());
                        variants.push(Value::Object(v));
                    }
                    obj.insert("variants".into(), variants.into());
                }
                "object"
            }
            EntityKind::Alternate(a) => {
                let mut members = Vec::new();
                for b in &a.branches {
                    let ty = self.use_type(b.ty);
                    if !self.holds(b.cond.as_ref()) {
                        continue;
                    }
                    let mut v = Map::new();
                    v.insert("type".into(), ty.into());
                    members.push(Value::Object(v));
                }
                obj.insert("members".into(), members.into());
                "alternate"
            }
            EntityKind::Command(_) | EntityKind::Event(_) => return,
        };
        let name = self.name(entity);
        self.push(entity, name, mtype, obj);
    }

    /// Appends an entry with `name`, `meta-type` and the entity's features
    /// after what `obj` already holds, unless its condition is false.
    fn push(&mut self, entity: &Entity, name: String, mtype: &str, mut obj: Map<String, Value>) {
        if !self.holds(entity.cond.as_ref()) {
            return;
        }
        obj.insert("name".into(), name.into());
        obj.insert("meta-type".into(), mtype.into());
        self.add_features(&mut obj, &entity.features);
        self.out.push(Value::Object(obj));
    }

    /// `features`, when there are any (the list itself keeps only those
    /// whose condition holds, as QEMU's C table does).
    fn add_features(&self, obj: &mut Map<String, Value>, features: &[Feature]) {
        if features.is_empty() {
            return;
        }
        let list = features.iter().filter(|f| self.holds(f.cond.as_ref())).map(|f| Value::from(f.name.clone()));
        obj.insert("features".into(), list.collect::<Vec<_>>().into());
    }

    fn holds(&self, cond: Option<&Cond>) -> bool {
        self.opts.conditions.holds(cond)
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
        if self.opts.unmask {
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
