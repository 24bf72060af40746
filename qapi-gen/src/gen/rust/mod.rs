//! Rust code for a schema: types with serde impls, commands, events, docs.
//!
//! The contract is the table in the project's design notes (DESIGN.md,
//! "Generated Rust: the contract"). What a user of the generated code
//! sees, for a schema's definitions:
//!
//! - **struct** `Foo` → `pub struct Foo` (QAPI type names are kept when they
//!   are tidy CamelCase, converted otherwise: `__org.qemu_x-Struct` →
//!   `OrgQemuXStruct`), members in wire order with base members inlined,
//!   snake_case fields (`r#type`, `_1` for keywords and leading digits),
//!   optional members `Option<T>` absent from the wire when `None`, with
//!   `has_m()` / `set_m()`.
//! - **enum** → a Rust enum of CamelCase variants with `as_str()` /
//!   `from_wire()`; in [`Mode::Client`] an extra `Unknown(String)` variant
//!   keeps values this side doesn't know and writes them back unchanged
//!   (it is named `UnknownValue` or `Other` if the enum has a value called
//!   `unknown`). `prefix` only shapes QEMU's C constant names; Rust
//!   variants are scoped by their enum, so it changes nothing here.
//! - **union** whose base holds only the discriminator → a Rust enum, one
//!   variant per branch (unit variants for branches without members);
//!   otherwise a struct of the base members where the discriminator member
//!   holds a `FooBranch` enum. `tag()` gives the discriminator value. A
//!   client keeps branches it doesn't know (`Unknown { tag, members }`).
//! - **alternate** → a Rust enum, one variant per branch, decoded by the
//!   JSON type of the value as QEMU does (`null` branches are unit
//!   variants).
//! - **command** `query-foo` → a unit struct `QueryFooCommand`
//!   implementing `Command` (arguments: `QueryFooArguments` for arguments
//!   written in place, the named type otherwise, `NoArguments` for none;
//!   returns: `Empty` when nothing is declared). A command with
//!   `'gen': false`, whose QEMU handler takes the whole arguments object,
//!   gets an `additional` map in its arguments type for the members the
//!   schema does not declare (`device_add`'s device properties). In
//!   [`Mode::Server`] also a `CommandServer` trait (one method per
//!   command, defaulting to `CommandNotFound`) and `CommandDispatcher<S>`
//!   implementing the runtime's `Dispatcher`. [`rust_names`] gives the
//!   Rust name of every definition.
//! - **event** `FOO_BAR` → `FooBarEvent` (its data's members, the named
//!   data type wrapped, or nothing) implementing `Event`, and an `Event`
//!   enum of all of them with `Unknown { name, data }`, `Event::decode`,
//!   `Event::encode` and `Event::name`.
//!
//! - **introspection** → `qmp_schema()`, the schema's `query-qmp-schema`
//!   value (equal to what `qapi-gen introspect` prints for the same
//!   conditions; type names masked unless
//!   [`Options::unmask_introspection`]), for a server to answer that
//!   command with. With conditions evaluated at generation time it is
//!   also there as JSON text, `QMP_SCHEMA_JSON`; with [`CondPolicy::Cfg`]
//!   `qmp_schema()` assembles it under the same `#[cfg]`s as the code.
//!   Items marked `unstable` are listed even when
//!   [`Options::gate_unstable`] leaves them out of the build: the value
//!   describes the schema; a server that hides them filters it.
//!
//! Serialization of structs, unions, alternates and enums is written out
//! by the generator (no `serde(flatten)`, no `serde(untagged)`); structs
//! decode through the runtime's `deserialize_struct`. Nothing uses serde's
//! derive. In server mode structs refuse unknown members, as QEMU does; a
//! client ignores them.
//!
//! **Conditions** ([`CondPolicy`]): an item's condition is its own `if`
//! and the conditions of the types it refers to (a member of a
//! conditional type is as conditional as the type). With
//! [`CondPolicy::Cfg`], items, members, variants, match arms and
//! statements get `#[cfg(...)]`; a conditional `deprecated` feature
//! becomes `#[cfg_attr(..., deprecated)]`. `unstable` features with a
//! condition count as unconditionally unstable for
//! [`Options::gate_unstable`]. The crate including the code declares the
//! cfg names it uses (`cargo::rustc-check-cfg`) and the `unstable` feature.

mod api;
mod codec;
mod doc;
mod introspect;
mod layout;
mod names;
mod text;
mod types;

use text::w;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::model::{Builtin, Cond, Entity, EntityId, EntityKind, Feature};
use crate::Schema;

/// Which side of QMP the generated code is for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// A client: enums keep values they don't know, unknown events are
    /// kept, typed calls for every command.
    #[default]
    Client,
    /// A server: input is validated strictly (unknown enum values are
    /// errors); a server trait and a dispatcher are generated.
    Server,
}

/// How `if` conditions are treated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CondPolicy {
    /// Every condition holds (what a client of an unknown build wants).
    #[default]
    AllTrue,
    /// A condition holds when it is true of this set of defined names.
    Defined(BTreeSet<String>),
    /// Conditions become `#[cfg(...)]` attributes: [`Options::cfg_key`] =
    /// the name, e.g. `CONFIG_VNC` → `#[cfg(qapi = "CONFIG_VNC")]`, with
    /// `all`, `any` and `not` kept.
    Cfg,
}

/// What to generate, and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// Client or server.
    pub mode: Mode,
    /// `if` conditions.
    pub cond: CondPolicy,
    /// Put items marked `unstable` behind `#[cfg(feature = "unstable")]`.
    pub gate_unstable: bool,
    /// The path generated code uses for the runtime crate.
    pub runtime_path: String,
    /// The cfg key conditions use with [`CondPolicy::Cfg`] (`qapi`, or
    /// `feature` to map them to Cargo features).
    pub cfg_key: String,
    /// Keep type names in the generated introspection (`QMP_SCHEMA_JSON`,
    /// `qmp_schema()`) instead of masking them as numbers as QEMU does
    /// (QEMU's `--unmask`).
    pub unmask_introspection: bool,
    /// Also implement `qapi_runtime::json`'s `Encode` and `Decode` for
    /// every type: a JSON codec that bypasses serde, several times
    /// faster on QMP replies, for more code to compile.
    pub json_codec: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            mode: Mode::Client,
            cond: CondPolicy::AllTrue,
            gate_unstable: false,
            runtime_path: "::qapi_runtime".into(),
            cfg_key: "qapi".into(),
            unmask_introspection: false,
            json_codec: false,
        }
    }
}

/// Why Rust code could not be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenError {
    /// Two definitions (or members, or variants) map to one Rust name.
    #[error("{first} and {second} both become the Rust name `{rust}`{scope}")]
    Clash {
        /// The Rust name.
        rust: String,
        /// The first QAPI name.
        first: String,
        /// The second QAPI name.
        second: String,
        /// ` in TYPE` for names within a type, empty for top-level items.
        scope: String,
    },
    /// The runtime path is not a Rust path.
    #[error("runtime path `{0}` is not a Rust path")]
    RuntimePath(String),
    /// Something that cannot fail did (a bug in the generator).
    #[error("internal error: {0}")]
    Internal(String),
    /// The cfg key is not an identifier.
    #[error("cfg key `{0}` is not an identifier")]
    CfgKey(String),
}

/// Generates the Rust module for `schema`: formatted source text, to be
/// `include!`d (it has no inner attributes), items separated by blank
/// lines. The schema's entities are generated and formatted in parallel
/// chunks; the output does not depend on how they are split.
pub fn generate(schema: &Schema, opts: &Options) -> Result<String, GenError> {
    let cx = Cx::new(schema, opts)?;
    let n = schema.entities().len();
    #[cfg(feature = "rayon")]
    let (entities, trailing) = {
        use rayon::prelude::*;
        // Many small chunks: entities differ widely in size, and the last
        // chunk to finish sets the time (16 a thread measured ~1 ms faster
        // than 4 on QEMU 10.2).
        let chunks = rayon::current_num_threads().max(1) * 16;
        let size = n.div_ceil(chunks).max(1);
        let ranges: Vec<(usize, usize)> = (0..n).step_by(size).map(|s| (s, (s + size).min(n))).collect();
        // The trailing items (the introspection above all) go alongside the
        // entities' chunks rather than after them.
        rayon::join(
            || ranges.into_par_iter().map(|(start, end)| cx.entity_items(start, end)).collect::<Result<Vec<_>, _>>(),
            || cx.trailing_items(),
        )
    };
    #[cfg(not(feature = "rayon"))]
    let (entities, trailing) = (cx.entity_items(0, n).map(|e| vec![e]), cx.trailing_items());
    let mut parts = vec![cx.prelude()];
    parts.extend(entities?);
    parts.push(trailing?);
    const HEADER: &str = "// @generated by qapi-gen. Do not edit.\n";
    let mut out = String::with_capacity(HEADER.len() + parts.iter().map(|p| p.len() + 1).sum::<usize>());
    out.push_str(HEADER);
    for p in parts.iter().filter(|p| !p.is_empty()) {
        out.push('\n');
        out.push_str(p);
    }
    Ok(out)
}

/// The Rust names generated code gives a schema's definitions, for code
/// that refers to generated items by their QAPI names (tests, tools that
/// write code next to the generated module). Every definition is listed
/// whatever its condition; whether the item exists depends on the
/// [`CondPolicy`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RustNames {
    /// Enums, structs, unions and alternates: QAPI type name → Rust type.
    pub types: BTreeMap<String, String>,
    /// Commands: wire name → the unit struct implementing `Command`.
    pub commands: BTreeMap<String, String>,
    /// Events: wire name → the payload type implementing `Event` (the
    /// payload of the `Event` enum's variant).
    pub events: BTreeMap<String, String>,
}

/// The Rust names [`generate`] gives the definitions of `schema` with
/// `opts`.
///
/// ```
/// use qapi_gen::gen::rust::{rust_names, Options};
///
/// let schema = "{ 'struct': 'Point', 'data': { 'x': 'int' } }
///               { 'command': 'query-point', 'returns': 'Point' }
///               { 'event': 'POINT_MOVED', 'data': { 'to': 'Point' } }";
/// let out = qapi_gen::Frontend::new().check_str("point.json", schema);
/// let names = rust_names(&out.schema, &Options::default())?;
/// assert_eq!(names.types["Point"], "Point");
/// assert_eq!(names.commands["query-point"], "QueryPointCommand");
/// assert_eq!(names.events["POINT_MOVED"], "PointMovedEvent");
/// # Ok::<(), qapi_gen::gen::rust::GenError>(())
/// ```
///
/// # Errors
///
/// As [`generate`]: when two definitions map to one Rust name, or the
/// runtime path is not a path.
pub fn rust_names(schema: &Schema, opts: &Options) -> Result<RustNames, GenError> {
    let cx = Cx::new(schema, opts)?;
    let mut names = RustNames::default();
    for e in schema.entities() {
        match &e.kind {
            EntityKind::Enum(_) | EntityKind::Alternate(_) if !e.is_builtin() => {
                names.types.insert(e.name.clone(), cx.name(e.id).to_string());
            }
            EntityKind::Object(_) if cx.is_plain_type(e) => {
                names.types.insert(e.name.clone(), cx.name(e.id).to_string());
            }
            EntityKind::Command(_) => {
                names.commands.insert(e.name.clone(), cx.name(e.id).to_string());
            }
            EntityKind::Event(ev) => {
                names.events.insert(e.name.clone(), cx.event_payload(e, ev).to_string());
            }
            _ => {}
        }
    }
    Ok(names)
}

/// What comes before a type item: its `#[cfg]` (empty when
/// unconditional), doc lines and `#[deprecated]` (empty when not).
pub(super) struct Head {
    pub guard: String,
    pub docs: Vec<String>,
    pub dep: String,
}

impl Cx<'_> {
    /// Short private names for what the generated code names most often,
    /// instead of a full path each time (a quarter less code to parse,
    /// format and compile). They end in `_`, which no converted QAPI
    /// name does, and they are renamed imports, so neither QAPI types
    /// like `String` nor the including module's own imports (a `use
    /// std::fmt::Result`) get in their way. Rustdoc shows the types
    /// themselves. Derives name their macros bare (`derive(Debug)`):
    /// derive macros live in the macro namespace, where no generated item
    /// goes, so a QAPI type called `Debug` does not shadow them.
    fn prelude(&self) -> String {
        let mut code = text::Code::new();
        let runtime = format!("{} as qapi_rt_", self.rt_str);
        for import in [
            "::core::option::Option as Option_",
            "::core::result::Result as Result_",
            "::std::string::String as String_",
            &runtime,
        ] {
            code.item();
            code.line("#[allow(unused_imports)]");
            w!(code, "use {import};");
        }
        code.finish()
    }

    /// The items for the entities in `start..end`.
    fn entity_items(&self, start: usize, end: usize) -> Result<String, GenError> {
        // A generous 4 KiB per entity: capacity beyond what is written is
        // reserved, never touched, so over-estimating costs nothing.
        let mut code = text::Code::with_capacity((end - start) * 4096);
        for e in self.schema.entities().skip(start).take(end - start) {
            match &e.kind {
                EntityKind::Enum(en) if !e.is_builtin() => code.items(&self.enum_type(e, en)?),
                EntityKind::Object(obj) if self.is_plain_type(e) => code.items(&self.object_type(e, obj)?),
                EntityKind::Alternate(alt) => code.items(&self.alternate(e, alt)?),
                EntityKind::Command(c) => code.items(&self.command(e, c)?),
                EntityKind::Event(ev) => code.items(&self.event(e, ev)?),
                _ => {}
            }
        }
        Ok(code.finish())
    }

    /// The items after the entities': the event enum, in server mode the
    /// server trait and dispatcher, and the introspection.
    fn trailing_items(&self) -> Result<String, GenError> {
        let mut code = text::Code::new();
        self.event_enum(&mut code)?;
        if self.opts.mode == Mode::Server {
            self.server(&mut code)?;
        }
        self.introspection(&mut code)?;
        Ok(code.finish())
    }
}

/// Who introduced an implicit object type.
#[derive(Debug, Clone, Copy)]
enum Owner {
    Command(EntityId),
    Event(EntityId),
}

/// What the generators share.
pub(crate) struct Cx<'a> {
    schema: &'a Schema,
    opts: &'a Options,
    /// The runtime path given in the options, white space removed; the
    /// prelude imports it as `qapi_rt_`, the name generated code uses.
    rt_str: String,
    /// The Rust name of each entity that gets one.
    names: HashMap<EntityId, String>,
    /// Implicit argument types and who uses them.
    owners: HashMap<EntityId, Owner>,
    /// Member/branch edges (container, contained type) that are boxed.
    boxed: HashSet<(EntityId, EntityId)>,
    /// `cfg` predicate key.
    cfg_key: String,
}

impl<'a> Cx<'a> {
    fn new(schema: &'a Schema, opts: &'a Options) -> Result<Self, GenError> {
        let rt_str =
            names::rust_path(&opts.runtime_path).ok_or_else(|| GenError::RuntimePath(opts.runtime_path.clone()))?;
        if !names::is_identifier(&opts.cfg_key) {
            return Err(GenError::CfgKey(opts.cfg_key.clone()));
        }
        let mut cx = Cx {
            schema,
            opts,
            rt_str,
            names: HashMap::new(),
            owners: HashMap::new(),
            boxed: HashSet::new(),
            cfg_key: opts.cfg_key.clone(),
        };
        for e in schema.entities() {
            match &e.kind {
                EntityKind::Command(c) => {
                    if let Some(a) = c.arg_type.filter(|&a| schema[a].name.starts_with("q_obj_")) {
                        cx.owners.insert(a, Owner::Command(e.id));
                    }
                }
                EntityKind::Event(ev) => {
                    if let Some(a) = ev.arg_type.filter(|&a| schema[a].name.starts_with("q_obj_")) {
                        cx.owners.insert(a, Owner::Event(e.id));
                    }
                }
                _ => {}
            }
        }
        cx.assign_names()?;
        cx.boxed = types::boxed_edges(schema);
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
        if self.opts.mode == Mode::Server {
            claim("CommandServer".into(), "the server trait".into())?;
            claim("CommandDispatcher".into(), "the dispatcher".into())?;
        }
        for e in self.schema.entities() {
            let name = match &e.kind {
                EntityKind::Enum(_) | EntityKind::Alternate(_) if !e.is_builtin() => {
                    Some((names::type_name(&e.name), format!("type '{}'", e.name)))
                }
                EntityKind::Object(o) if self.is_plain_type(e) => {
                    if o.is_union() && !self.union_is_enum(e) {
                        let branch = format!("{}Branch", names::type_name(&e.name));
                        claim(branch, format!("the branches of union '{}'", e.name))?;
                    }
                    Some((names::type_name(&e.name), format!("type '{}'", e.name)))
                }
                EntityKind::Object(_) => match self.owners.get(&e.id) {
                    Some(Owner::Command(c)) => {
                        let c = &self.schema[*c];
                        Some((format!("{}Arguments", names::camel(&c.name)), format!("the arguments of '{}'", c.name)))
                    }
                    Some(Owner::Event(ev)) => {
                        let ev = &self.schema[*ev];
                        Some((format!("{}Event", names::camel(&ev.name)), format!("event '{}'", ev.name)))
                    }
                    None => None,
                },
                EntityKind::Command(_) => {
                    Some((format!("{}Command", names::camel(&e.name)), format!("command '{}'", e.name)))
                }
                EntityKind::Event(ev) => match ev.arg_type.and_then(|a| self.owners.get(&a)) {
                    Some(_) => None,
                    None => Some((format!("{}Event", names::camel(&e.name)), format!("event '{}'", e.name))),
                },
                _ => None,
            };
            if let Some((rust, qapi)) = name {
                let id = claim(rust, qapi)?;
                self.names.insert(e.id, id);
            }
        }
        Ok(())
    }

    /// An object type generated as a type of its own: not `q_empty`, not an
    /// implicit base or argument type.
    fn is_plain_type(&self, e: &Entity) -> bool {
        matches!(e.kind, EntityKind::Object(_)) && !e.name.starts_with("q_")
    }

    /// The Rust name of an entity.
    fn name(&self, id: EntityId) -> String {
        match self.names.get(&id) {
            Some(n) => n.clone(),
            None => names::ident(&names::type_name(&self.schema[id].name)),
        }
    }

    /// The name of the branch enum of a union generated as a struct.
    fn branch_name(&self, e: &Entity) -> String {
        names::ident(&format!("{}Branch", names::type_name(&e.name)))
    }

    /// A union whose base has no member but the discriminator: generated
    /// as a Rust enum.
    fn union_is_enum(&self, e: &Entity) -> bool {
        let Some(obj) = e.as_object() else { return false };
        let Some(b) = &obj.branches else { return false };
        obj.all_members(self.schema).all(|m| m.name == b.tag.name || self.member_guard(m).is_none())
    }

    fn is_boxed(&self, container: EntityId, id: EntityId) -> bool {
        self.boxed.contains(&(container, id))
    }

    // ---- conditions and features -------------------------------------

    /// The condition of type `id` (an array's is its element's).
    fn type_cond(&self, id: EntityId) -> Option<&'a Cond> {
        let schema: &'a Schema = self.schema;
        let e = &schema[id];
        match &e.kind {
            EntityKind::Array(a) => self.type_cond(a.element),
            _ => e.cond.as_ref(),
        }
    }

    /// Type `id` is marked `unstable` (an array if its element is).
    fn type_unstable(&self, id: EntityId) -> bool {
        let e = &self.schema[id];
        match &e.kind {
            EntityKind::Array(a) => self.type_unstable(a.element),
            _ => self.has_feature(&e.features, "unstable"),
        }
    }

    /// `features` has `name`, and its condition can hold.
    fn has_feature(&self, features: &[Feature], name: &str) -> bool {
        features.iter().any(|f| f.name == name && (self.eval(f.cond.as_ref()) != Some(false)))
    }

    /// The value of a condition under [`CondPolicy::Defined`]; `None`
    /// when it is decided at compile time ([`CondPolicy::Cfg`]).
    fn eval(&self, cond: Option<&Cond>) -> Option<bool> {
        let Some(c) = cond else { return Some(true) };
        match &self.opts.cond {
            CondPolicy::AllTrue => Some(true),
            CondPolicy::Defined(set) => Some(holds(c, set)),
            CondPolicy::Cfg => None,
        }
    }

    /// The Rust type of values of type `id`.
    fn ty(&self, id: EntityId) -> String {
        let e = &self.schema[id];
        match &e.kind {
            EntityKind::Builtin(b) => match b {
                Builtin::Str => "String_",
                Builtin::Number => "f64",
                Builtin::Int | Builtin::Int64 => "i64",
                Builtin::Int8 => "i8",
                Builtin::Int16 => "i16",
                Builtin::Int32 => "i32",
                Builtin::Uint8 => "u8",
                Builtin::Uint16 => "u16",
                Builtin::Uint32 => "u32",
                Builtin::Uint64 | Builtin::Size => "u64",
                Builtin::Bool => "bool",
                Builtin::Any => "qapi_rt_::serde_json::Value",
                Builtin::Null => "()",
            }
            .to_owned(),
            EntityKind::Array(a) => format!("::std::vec::Vec<{}>", self.ty(a.element)),
            _ => self.name(id),
        }
    }

    /// The type of a member or branch of `container` holding `id`, boxed
    /// where it closes a cycle.
    fn held_ty(&self, container: EntityId, id: EntityId) -> String {
        let t = self.ty(id);
        if self.boxed.contains(&(container, id)) {
            format!("::std::boxed::Box<{t}>")
        } else {
            t
        }
    }

    /// The `cfg` predicate for a condition: `KEY = "NAME"`, `all(..)`,
    /// `any(..)`, `not(..)`.
    fn cfg_pred(&self, c: &Cond) -> String {
        let list = |v: &[Cond]| v.iter().map(|c| self.cfg_pred(c)).collect::<Vec<_>>().join(", ");
        match c {
            Cond::Name(n) => format!("{} = {}", self.cfg_key, text::str_lit(n)),
            Cond::All(v) => format!("all({})", list(v)),
            Cond::Any(v) => format!("any({})", list(v)),
            Cond::Not(c) => format!("not({})", self.cfg_pred(c)),
        }
    }

    /// Whether something with these conditions (and `unstable` marking)
    /// is generated (`Some`), and the `cfg` predicate it needs if any.
    fn pred(&self, conds: &[Option<&Cond>], unstable: bool) -> Option<Option<String>> {
        let mut uniq: Vec<&Cond> = Vec::new();
        for c in conds.iter().flatten() {
            if !uniq.contains(c) {
                uniq.push(c);
            }
        }
        let mut preds = Vec::new();
        for c in &uniq {
            match self.eval(Some(c)) {
                Some(true) => {}
                Some(false) => return None,
                None => preds.push(self.cfg_pred(c)),
            }
        }
        if unstable && self.opts.gate_unstable {
            preds.push("feature = \"unstable\"".to_owned());
        }
        Some(match preds.len() {
            0 => None,
            1 => preds.pop(),
            _ => Some(format!("all({})", preds.join(", "))),
        })
    }

    /// Whether something with these conditions (and `unstable` marking)
    /// is generated, and its `#[cfg]` if it is (`Some("")` when it is
    /// generated unconditionally).
    fn guard(&self, conds: &[Option<&Cond>], unstable: bool) -> Option<String> {
        self.pred(conds, unstable).map(|p| p.map(|p| format!("#[cfg({p})]")).unwrap_or_default())
    }

    /// The guard of a type definition.
    fn type_guard(&self, id: EntityId) -> Option<String> {
        self.guard(&[self.type_cond(id)], self.type_unstable(id))
    }

    /// The guard of a member: its own condition and its type's.
    fn member_guard(&self, m: &crate::model::Member) -> Option<String> {
        self.guard(
            &[m.cond.as_ref(), self.type_cond(m.ty)],
            self.has_feature(&m.features, "unstable") || self.type_unstable(m.ty),
        )
    }

    /// `#[deprecated]` for `features` that include `deprecated` (empty
    /// when not deprecated).
    fn deprecated(&self, features: &[Feature]) -> String {
        let Some(f) = features.iter().find(|f| f.name == "deprecated") else { return String::new() };
        let note = f.doc().map(|s| one_line(&s.text)).filter(|s| !s.is_empty());
        let attr = match &note {
            Some(n) => format!("deprecated(note = {})", text::str_lit(n)),
            None => "deprecated".to_owned(),
        };
        match self.eval(f.cond.as_ref()) {
            Some(true) => format!("#[{attr}]"),
            Some(false) => String::new(),
            None => match &f.cond {
                Some(c) => format!("#[cfg_attr({}, {attr})]", self.cfg_pred(c)),
                None => format!("#[{attr}]"),
            },
        }
    }

    // ---- documentation ---------------------------------------------------

    /// Docs of a definition: description, sections, features, `Since:`.
    fn entity_docs(&self, e: &Entity) -> Vec<String> {
        let mut lines = Vec::new();
        if let Some(d) = &e.doc {
            lines.extend(doc::render(&d.body.text));
            for s in &d.sections {
                use crate::doc::SectionKind as K;
                let heading = match s.kind {
                    K::Returns => Some("# Returns"),
                    K::Errors => Some("# Errors"),
                    K::Since | K::Todo | K::Member | K::Feature => continue,
                    K::Plain => None,
                };
                push_para(&mut lines, heading.map(str::to_owned));
                lines.extend(doc::render(&s.text));
            }
        }
        self.feature_docs(&e.features, &mut lines);
        if let Some(since) = e.doc.as_ref().and_then(|d| d.since()) {
            push_para(&mut lines, Some(format!("*Since: {}*", doc::prose(&one_line(since)))));
        }
        trim_end(&mut lines);
        lines
    }

    /// Notes for special features and a list of the others.
    fn feature_docs(&self, features: &[Feature], lines: &mut Vec<String>) {
        for f in features {
            let text = f.doc().map(|s| doc::render(&s.text)).unwrap_or_default();
            let label = match f.name.as_str() {
                "deprecated" => "**Deprecated.**".to_owned(),
                "unstable" => "**Unstable.**".to_owned(),
                n => format!("**Feature `{n}`.**"),
            };
            push_para(lines, None);
            match text.split_first() {
                Some((first, rest)) => {
                    lines.push(format!("{label} {first}"));
                    lines.extend(rest.iter().cloned());
                }
                None => lines.push(label),
            }
        }
    }

    /// Docs of a member: its description, features, and a `Since:` unless
    /// the description says since when.
    fn member_docs(&self, m: &crate::model::Member, since: Option<&str>) -> Vec<String> {
        let mut lines = Vec::new();
        let mut noted = false;
        if let Some(s) = m.doc() {
            lines.extend(doc::render(&s.text));
            noted = s.since_note().is_some();
        }
        self.feature_docs(&m.features, &mut lines);
        if !noted {
            if let Some(since) = since {
                push_para(&mut lines, Some(format!("*Since: {}*", doc::prose(&one_line(since)))));
            }
        }
        trim_end(&mut lines);
        lines
    }

    /// The guard and attributes common to every generated type item.
    fn strict(&self) -> bool {
        self.opts.mode == Mode::Server
    }
}

/// Starts a new paragraph (optionally with a first line).
fn push_para(lines: &mut Vec<String>, first: Option<String>) {
    if lines.last().is_some_and(|l| !l.is_empty()) {
        lines.push(String::new());
    }
    if let Some(f) = first {
        lines.push(f);
        lines.push(String::new());
    }
}

fn trim_end(lines: &mut Vec<String>) {
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
}

/// Text on one line, white space collapsed.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `c` holds when the names in `set` are defined.
fn holds(c: &Cond, set: &BTreeSet<String>) -> bool {
    match c {
        Cond::Name(n) => set.contains(n),
        Cond::All(v) => v.iter().all(|c| holds(c, set)),
        Cond::Any(v) => v.iter().any(|c| holds(c, set)),
        Cond::Not(c) => !holds(c, set),
    }
}
