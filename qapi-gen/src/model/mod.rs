//! The resolved schema: every entity QEMU's model has, with types resolved.
//!
//! [`Schema::build`] turns the checked definitions into the model QEMU
//! builds in `scripts/qapi/schema.py`, and makes the checks that need the
//! whole schema (unknown types, clashes, cycles, unions, alternates,
//! documentation). Backends read the result:
//!
//! - [`Schema::entities`]: every entity in definition order, built-in types
//!   first, array types where first used, implicit object types (command
//!   arguments `q_obj_NAME-arg`, inline union bases `q_obj_NAME-base`) just
//!   before the definition that needs them;
//! - [`Schema::modules`]: the same grouped by schema file, in the order
//!   QEMU's generators (and its test dump) visit them;
//! - [`Schema::lookup`] / [`Schema::lookup_type`]: by name;
//! - an [`EntityId`] indexes the schema (`schema[id]`); every type reference
//!   ([`Member::ty`], [`ArrayType::element`], [`Command::ret_type`], ...) is
//!   one, and the referenced entity's [`EntityKind`] tells what it is.
//!
//! ```
//! # use qapi_gen::model::{EntityKind, Schema};
//! fn describe(schema: &Schema) {
//!     for entity in schema.entities() {
//!         if let EntityKind::Object(obj) = &entity.kind {
//!             for m in obj.all_members(schema) {
//!                 let ty = &schema[m.ty];
//!                 println!("{}.{}: {} ({})", entity.name, m.name, ty.name, ty.meta());
//!             }
//!         }
//!     }
//! }
//! ```
//!
//! The model is complete only for a valid schema: when `build` reports an
//! error, it returns an empty schema.

mod build;
mod cname;
pub mod dump;
mod subset;

use std::collections::HashMap;
use std::ops::Index;
use std::sync::Arc;

use crate::check::Checked;
pub use crate::cond::Cond;
use crate::diag::Diagnostics;
use crate::doc::{Doc, Section};
use crate::source::Span;
use crate::syntax::load::Loaded;
pub use cname::c_name;
pub use subset::SubsetError;

/// Identifies an entity of a [`Schema`]: its index in
/// [`Schema::entities`]. Index the schema with it: `schema[id]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityId(u32);

impl EntityId {
    /// The position in [`Schema::entities`].
    pub fn index(self) -> usize {
        self.0 as usize
    }

    pub(crate) fn new(i: usize) -> Self {
        EntityId(u32::try_from(i).unwrap_or(u32::MAX))
    }
}

/// Identifies a module: its index in [`Schema::modules`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleId(u32);

impl ModuleId {
    /// The position in [`Schema::modules`].
    pub fn index(self) -> usize {
        self.0 as usize
    }

    pub(crate) fn new(i: usize) -> Self {
        ModuleId(u32::try_from(i).unwrap_or(u32::MAX))
    }
}

/// The resolved schema.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    entities: Vec<Entity>,
    names: HashMap<String, EntityId>,
    modules: Vec<Module>,
    docs: Vec<Arc<Doc>>,
    features: Vec<String>,
}

impl Schema {
    /// Resolves checked definitions into the model, reporting what only the
    /// whole schema can tell (unknown types, clashes, cycles, union and
    /// alternate rules, documentation of members and features).
    ///
    /// `loaded` supplies the pragmas, every documentation block (free-form
    /// ones too) and the root file, whose directory module names are
    /// relative to. On any error the result is an empty schema.
    pub fn build(checked: Vec<Checked>, loaded: Loaded, diags: &mut Diagnostics) -> Schema {
        build::build(checked, loaded, diags)
    }

    /// Every entity in definition order: built-in types (each followed by
    /// its array type), `q_empty`, `QType`, then the schema's definitions,
    /// each preceded by the array and implicit object types it introduced.
    pub fn entities(&self) -> std::slice::Iter<'_, Entity> {
        self.entities.iter()
    }

    /// The entity `id` names, if it is one of this schema's.
    pub fn get(&self, id: EntityId) -> Option<&Entity> {
        self.entities.get(id.index())
    }

    /// The entity called `name`: a type, command or event.
    pub fn lookup(&self, name: &str) -> Option<&Entity> {
        self.names.get(name).and_then(|&id| self.get(id))
    }

    /// The type called `name` (commands and events don't count).
    pub fn lookup_type(&self, name: &str) -> Option<&Entity> {
        self.lookup(name).filter(|e| e.is_type())
    }

    /// The modules in the order QEMU visits them: `./builtin`, the root
    /// file, then included files in the order first included.
    pub fn modules(&self) -> &[Module] {
        &self.modules
    }

    /// Every documentation block in source order, free-form ones too, with
    /// empty descriptions added for undocumented members of definitions in
    /// the `documentation-exceptions` pragma.
    pub fn docs(&self) -> &[Arc<Doc>] {
        &self.docs
    }

    /// Every feature name used in the schema, `deprecated` and `unstable`
    /// first, then in order of first use.
    pub fn features(&self) -> &[String] {
        &self.features
    }

    /// The commands, in definition order.
    pub fn commands(&self) -> impl Iterator<Item = (&Entity, &Command)> {
        self.entities.iter().filter_map(|e| match &e.kind {
            EntityKind::Command(c) => Some((e, c)),
            _ => None,
        })
    }

    /// The events, in definition order.
    pub fn events(&self) -> impl Iterator<Item = (&Entity, &Event)> {
        self.entities.iter().filter_map(|e| match &e.kind {
            EntityKind::Event(ev) => Some((e, ev)),
            _ => None,
        })
    }

    /// The JSON type of the values of type `id` (`None` for commands and
    /// events).
    pub fn json_type(&self, id: EntityId) -> Option<JsonType> {
        Some(match &self.get(id)?.kind {
            EntityKind::Builtin(b) => b.json_type(),
            EntityKind::Enum(_) => JsonType::String,
            EntityKind::Array(_) => JsonType::Array,
            EntityKind::Object(_) => JsonType::Object,
            EntityKind::Alternate(_) => JsonType::Value,
            EntityKind::Command(_) | EntityKind::Event(_) => return None,
        })
    }
}

impl Index<EntityId> for Schema {
    type Output = Entity;

    /// # Panics
    ///
    /// When `id` is not an entity of this schema.
    fn index(&self, id: EntityId) -> &Entity {
        &self.entities[id.index()]
    }
}

impl Index<ModuleId> for Schema {
    type Output = Module;

    /// # Panics
    ///
    /// When `id` is not a module of this schema.
    fn index(&self, id: ModuleId) -> &Module {
        &self.modules[id.index()]
    }
}

/// A schema file (or `./builtin`, for the built-in types) and what it
/// defines.
#[derive(Debug, Clone)]
pub struct Module {
    /// The file's path relative to the root file's directory, as QEMU
    /// names modules; `./builtin` for the built-in module.
    pub name: String,
    /// Its include directives and entities, in order.
    pub items: Vec<ModuleItem>,
}

impl Module {
    /// The name of the module of built-in types.
    pub const BUILTIN: &'static str = "./builtin";

    /// True for the module of built-in types.
    pub fn is_builtin(&self) -> bool {
        self.name == Self::BUILTIN
    }
}

/// What a module holds.
#[derive(Debug, Clone)]
pub enum ModuleItem {
    /// `{ 'include': ... }`
    Include {
        /// The included module.
        module: ModuleId,
        /// The directive.
        span: Span,
    },
    /// An entity defined in the module.
    Entity(EntityId),
}

/// A definition: a type, command or event.
#[derive(Debug, Clone)]
pub struct Entity {
    /// Its position in [`Schema::entities`].
    pub id: EntityId,
    /// Its name.
    pub name: String,
    /// The definition; for implicit types the definition that introduced
    /// them; `None` for built-in types (including `q_empty`, `QType` and
    /// arrays of built-in types).
    pub span: Option<Span>,
    /// Its `if` condition. An array type has its element type's.
    pub cond: Option<Cond>,
    /// Its features.
    pub features: Vec<Feature>,
    /// Its documentation block (shared with [`Schema::docs`]).
    pub doc: Option<Arc<Doc>>,
    /// The module it belongs to (for an array type, its element type's).
    pub module: ModuleId,
    /// What it is.
    pub kind: EntityKind,
}

impl Entity {
    /// QEMU's word for what it is: `built-in`, `enum`, `array`, `struct`,
    /// `union`, `alternate`, `command` or `event`.
    pub fn meta(&self) -> &'static str {
        match &self.kind {
            EntityKind::Builtin(_) => "built-in",
            EntityKind::Enum(_) => "enum",
            EntityKind::Array(_) => "array",
            EntityKind::Object(o) if o.branches.is_some() => "union",
            EntityKind::Object(_) => "struct",
            EntityKind::Alternate(_) => "alternate",
            EntityKind::Command(_) => "command",
            EntityKind::Event(_) => "event",
        }
    }

    /// A type (as opposed to a command or event).
    pub fn is_type(&self) -> bool {
        !matches!(self.kind, EntityKind::Command(_) | EntityKind::Event(_))
    }

    /// Defined by QEMU rather than by the schema: built-in types,
    /// `q_empty`, `QType` and arrays of built-in types.
    pub fn is_builtin(&self) -> bool {
        self.span.is_none()
    }

    /// Implicit in QEMU's sense: not written as a definition of its own
    /// (built-in and array types, `QType`, and the `q_`-named object types).
    pub fn is_implicit(&self) -> bool {
        match &self.kind {
            EntityKind::Builtin(_) | EntityKind::Array(_) => true,
            EntityKind::Enum(_) => self.name == "QType",
            EntityKind::Object(_) => self.name.starts_with("q_"),
            _ => self.span.is_none(),
        }
    }

    /// The feature `deprecated` is set.
    pub fn is_deprecated(&self) -> bool {
        self.features.iter().any(|f| f.name == "deprecated")
    }

    /// The object type, if it is one.
    pub fn as_object(&self) -> Option<&ObjectType> {
        match &self.kind {
            EntityKind::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The enum type, if it is one.
    pub fn as_enum(&self) -> Option<&EnumType> {
        match &self.kind {
            EntityKind::Enum(e) => Some(e),
            _ => None,
        }
    }

    /// The alternate type, if it is one.
    pub fn as_alternate(&self) -> Option<&AlternateType> {
        match &self.kind {
            EntityKind::Alternate(a) => Some(a),
            _ => None,
        }
    }

    /// The array type, if it is one.
    pub fn as_array(&self) -> Option<&ArrayType> {
        match &self.kind {
            EntityKind::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The command, if it is one.
    pub fn as_command(&self) -> Option<&Command> {
        match &self.kind {
            EntityKind::Command(c) => Some(c),
            _ => None,
        }
    }

    /// The event, if it is one.
    pub fn as_event(&self) -> Option<&Event> {
        match &self.kind {
            EntityKind::Event(e) => Some(e),
            _ => None,
        }
    }
}

/// What an entity is. A type reference resolves to one of the first five.
#[derive(Debug, Clone)]
pub enum EntityKind {
    /// `str`, `int`, ...
    Builtin(Builtin),
    /// An enumeration.
    Enum(EnumType),
    /// `['T']`, named `TList`.
    Array(ArrayType),
    /// A struct, or a union (an object type with branches).
    Object(ObjectType),
    /// An alternate.
    Alternate(AlternateType),
    /// A command.
    Command(Command),
    /// An event.
    Event(Event),
}

/// The built-in types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// `str`
    Str,
    /// `number`
    Number,
    /// `int`
    Int,
    /// `int8`
    Int8,
    /// `int16`
    Int16,
    /// `int32`
    Int32,
    /// `int64`
    Int64,
    /// `uint8`
    Uint8,
    /// `uint16`
    Uint16,
    /// `uint32`
    Uint32,
    /// `uint64`
    Uint64,
    /// `size`
    Size,
    /// `bool`
    Bool,
    /// `any`
    Any,
    /// `null`
    Null,
}

impl Builtin {
    /// Every built-in type, in the order QEMU defines them.
    pub const ALL: [Builtin; 15] = [
        Builtin::Str,
        Builtin::Number,
        Builtin::Int,
        Builtin::Int8,
        Builtin::Int16,
        Builtin::Int32,
        Builtin::Int64,
        Builtin::Uint8,
        Builtin::Uint16,
        Builtin::Uint32,
        Builtin::Uint64,
        Builtin::Size,
        Builtin::Bool,
        Builtin::Any,
        Builtin::Null,
    ];

    /// The type's name in schemas.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Str => "str",
            Builtin::Number => "number",
            Builtin::Int => "int",
            Builtin::Int8 => "int8",
            Builtin::Int16 => "int16",
            Builtin::Int32 => "int32",
            Builtin::Int64 => "int64",
            Builtin::Uint8 => "uint8",
            Builtin::Uint16 => "uint16",
            Builtin::Uint32 => "uint32",
            Builtin::Uint64 => "uint64",
            Builtin::Size => "size",
            Builtin::Bool => "bool",
            Builtin::Any => "any",
            Builtin::Null => "null",
        }
    }

    /// The JSON type of its values.
    pub fn json_type(self) -> JsonType {
        match self {
            Builtin::Str => JsonType::String,
            Builtin::Number => JsonType::Number,
            Builtin::Bool => JsonType::Boolean,
            Builtin::Any => JsonType::Value,
            Builtin::Null => JsonType::Null,
            _ => JsonType::Int,
        }
    }
}

/// The JSON type of a type's values, as QEMU classifies them (introspection
/// calls them `json-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JsonType {
    /// A string (`str`, enums).
    String,
    /// A number (`number`).
    Number,
    /// An integer (`int`, `size`, ...).
    Int,
    /// `true` or `false`.
    Boolean,
    /// `null`.
    Null,
    /// Any JSON value (`any`, alternates).
    Value,
    /// An array.
    Array,
    /// An object (structs and unions).
    Object,
}

impl JsonType {
    /// QEMU's name for it: `string`, `number`, `int`, `boolean`, `null`,
    /// `value`, `array`, `object`.
    pub fn as_str(self) -> &'static str {
        match self {
            JsonType::String => "string",
            JsonType::Number => "number",
            JsonType::Int => "int",
            JsonType::Boolean => "boolean",
            JsonType::Null => "null",
            JsonType::Value => "value",
            JsonType::Array => "array",
            JsonType::Object => "object",
        }
    }
}

/// A feature of a definition, member or enum value.
#[derive(Debug, Clone)]
pub struct Feature {
    /// The feature's name.
    pub name: String,
    /// Its condition.
    pub cond: Option<Cond>,
    /// Where it is written.
    pub span: Option<Span>,
    /// The documentation block of the definition it belongs to.
    pub doc_block: Option<Arc<Doc>>,
}

impl Feature {
    /// Its description (under `Features:`) in the definition's
    /// documentation.
    pub fn doc(&self) -> Option<&Section> {
        self.doc_block.as_ref()?.features.get(&self.name)
    }

    /// `deprecated` or `unstable`: the features with a meaning across
    /// schemas.
    pub fn is_special(&self) -> bool {
        matches!(self.name.as_str(), "deprecated" | "unstable")
    }
}

/// An enumeration.
#[derive(Debug, Clone)]
pub struct EnumType {
    /// The values in order.
    pub values: Vec<EnumValue>,
    /// `'prefix'` for the C names of the values.
    pub prefix: Option<String>,
}

impl EnumType {
    /// The value called `name`.
    pub fn value(&self, name: &str) -> Option<&EnumValue> {
        self.values.iter().find(|v| v.name == name)
    }
}

/// A value of an enumeration.
#[derive(Debug, Clone)]
pub struct EnumValue {
    /// The value's name.
    pub name: String,
    /// Its condition.
    pub cond: Option<Cond>,
    /// Its features.
    pub features: Vec<Feature>,
    /// Where it is written (`None` for `QType`'s).
    pub span: Option<Span>,
    /// The enum's documentation block.
    pub doc_block: Option<Arc<Doc>>,
}

impl EnumValue {
    /// Its description in the enum's documentation.
    pub fn doc(&self) -> Option<&Section> {
        self.doc_block.as_ref()?.args.get(&self.name)
    }
}

/// `['T']`.
#[derive(Debug, Clone)]
pub struct ArrayType {
    /// `T`.
    pub element: EntityId,
}

/// A struct or union: QEMU's object type.
#[derive(Debug, Clone)]
pub struct ObjectType {
    /// The base type, a struct.
    pub base: Option<EntityId>,
    /// The members the type itself defines; see
    /// [`all_members`](Self::all_members) for inherited ones too.
    pub local_members: Vec<Member>,
    /// A union's branches.
    pub branches: Option<Branches>,
}

impl ObjectType {
    /// Every member, base members first (recursively), then local ones:
    /// the members of a value of the type, in wire order.
    pub fn all_members<'a>(&'a self, schema: &'a Schema) -> impl Iterator<Item = &'a Member> + 'a {
        let mut chain = vec![self];
        let mut at = self.base;
        while let Some(b) = at {
            match schema.get(b).and_then(Entity::as_object) {
                Some(o) if chain.len() <= schema.entities.len() => {
                    chain.push(o);
                    at = o.base;
                }
                _ => break,
            }
        }
        chain.into_iter().rev().flat_map(|o| o.local_members.iter())
    }

    /// The member called `name`, local or inherited.
    pub fn member<'a>(&'a self, schema: &'a Schema, name: &str) -> Option<&'a Member> {
        self.all_members(schema).find(|m| m.name == name)
    }

    /// A union: the type has branches.
    pub fn is_union(&self) -> bool {
        self.branches.is_some()
    }

    /// No members (local or inherited) and no branches.
    pub fn is_empty(&self, schema: &Schema) -> bool {
        self.branches.is_none() && self.all_members(schema).next().is_none()
    }
}

/// A member of an object type.
#[derive(Debug, Clone)]
pub struct Member {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: EntityId,
    /// Written `'*name'`.
    pub optional: bool,
    /// Its condition.
    pub cond: Option<Cond>,
    /// Its features.
    pub features: Vec<Feature>,
    /// Where it is written.
    pub span: Option<Span>,
    /// The object type that defines it.
    pub defined_in: EntityId,
    /// The documentation block that describes it: the defining type's, or
    /// for an implicit type's member the command's, event's or union's.
    pub doc_block: Option<Arc<Doc>>,
}

impl Member {
    /// Its description (`@name:`).
    pub fn doc(&self) -> Option<&Section> {
        self.doc_block.as_ref()?.args.get(&self.name)
    }
}

/// A union's tag member and branches.
#[derive(Debug, Clone)]
pub struct Branches {
    /// The discriminator: a member of the base, of enum type.
    pub tag: Member,
    /// One branch per value of the tag's enum: the written ones in order,
    /// then one of type `q_empty` for each value without a branch.
    pub branches: Vec<Branch>,
}

/// A branch of a union or alternate.
#[derive(Debug, Clone)]
pub struct Branch {
    /// For a union, the tag value; for an alternate, the branch name.
    pub name: String,
    /// The branch's type.
    pub ty: EntityId,
    /// Its condition (for an implied union branch, the enum value's).
    pub cond: Option<Cond>,
    /// Where it is written; `None` for an implied union branch.
    pub span: Option<Span>,
    /// For an alternate branch, the alternate's documentation block.
    pub doc_block: Option<Arc<Doc>>,
}

impl Branch {
    /// An alternate branch's description in the alternate's documentation
    /// (union branches are not documented).
    pub fn doc(&self) -> Option<&Section> {
        self.doc_block.as_ref()?.args.get(&self.name)
    }

    /// A union branch the schema does not write: a tag value without a
    /// branch, of type `q_empty`.
    pub fn is_implied(&self) -> bool {
        self.span.is_none()
    }
}

/// An alternate: a value of one of several types told apart by their JSON
/// type.
#[derive(Debug, Clone)]
pub struct AlternateType {
    /// The branches in order.
    pub branches: Vec<Branch>,
}

/// A command.
#[derive(Debug, Clone)]
pub struct Command {
    /// The arguments: an object type (implicit `q_obj_NAME-arg` when the
    /// schema writes them in place); `None` without arguments.
    pub arg_type: Option<EntityId>,
    /// What it returns.
    pub ret_type: Option<EntityId>,
    /// `'boxed'`: the arguments are passed as one object.
    pub boxed: bool,
    /// `'gen'`: QEMU generates marshalling code.
    pub gen: bool,
    /// `'success-response'`
    pub success_response: bool,
    /// `'allow-oob'`
    pub allow_oob: bool,
    /// `'allow-preconfig'`
    pub allow_preconfig: bool,
    /// `'coroutine'`
    pub coroutine: bool,
}

/// An event.
#[derive(Debug, Clone)]
pub struct Event {
    /// The payload: an object type (implicit `q_obj_NAME-arg` when the
    /// schema writes it in place); `None` without data.
    pub arg_type: Option<EntityId>,
    /// `'boxed'`
    pub boxed: bool,
}
