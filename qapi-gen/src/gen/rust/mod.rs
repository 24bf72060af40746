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
//!   `has_m()` / `set_m()`; `new(required members…)` (strings as
//!   `impl Into<String>`, the optional members `None`) when a member is
//!   required, `Default` when none is.
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
//!   implementing the runtime's `Dispatcher`. In [`Mode::Client`] a
//!   method per command, `client.query_status().await?`, in the traits
//!   `Commands` (for every runtime `Execute`: the async QMP and guest
//!   agent clients) and `BlockingCommands` (every `BlockingExecute`); a
//!   command's method takes nothing, its arguments type, or, when every
//!   argument is optional, `impl Into<Option<&Arguments>>`.
//!   [`rust_names`] gives the Rust name of every definition.
//! - **event** `FOO_BAR` → `FooBarEvent` (its data's members, the named
//!   data type wrapped, or nothing) implementing `Event`, and an `Event`
//!   enum of all of them with `Unknown { name, data }`, `Event::decode`,
//!   `Event::encode` and `Event::name`.
//! - **lookup** → `COMMANDS` and `EVENTS`, the runtime's `CommandSpec`
//!   and `EventSpec` of every command and event in schema order (wire
//!   name, Rust type, flags, arguments, `deprecated`, `unstable`), and
//!   `command(name)` and `event(name)` finding one by wire name.
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
//! **How the code is written**: each kind has a module of `quote!`
//! templates (`enums`, `structs`, `unions`, `alternates`, `commands`,
//! `events`, `server`, the client's `methods`, the `lookup` tables, the
//! `codec` impls and the `introspect`ion), over
//! what they share: `cx` (Rust names and types), `cond` (every condition
//! and `#[cfg]`, and where `#[allow(deprecated)]` goes), `presence` (which
//! required members a client may not find), `versions` (what older
//! versions of the schema a client also reads lack), `rustdoc` (QAPI
//! docs as `#[doc]`, through `doc`'s Markdown), `impls` (serde impl
//! skeletons), `names` and `boxing`. Generated code names everything by
//! its full path and imports nothing. [`generate_tokens`] gives the
//! tokens (the macro's expansion); [`generate`] lays them out with
//! prettyplease for a file a person reads.
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
//! A client with every condition taken to hold (the default) does not know
//! the build it talks to: a required member under a condition its type
//! does not have is an `Option` where the client reads it (return values,
//! event data and what they reach), and the docs of such members, values,
//! branches and definitions say which build has them.
//!
//! **Several versions** ([`Options::also_reads`]): a client generated from
//! one version of a schema can also read the replies of older ones. Each
//! is compared with the schema by [`crate::compat`]; members the client
//! reads that an older version lacks or has optional become `Option`,
//! what it lacks is documented, and type changes that cannot be absorbed
//! are [`VersionConflict`]s.

mod alternates;
mod boxing;
mod codec;
mod commands;
mod cond;
mod cx;
mod doc;
mod enums;
mod events;
mod impls;
mod introspect;
mod lints;
mod lookup;
mod methods;
mod names;
mod presence;
mod rustdoc;
mod server;
mod structs;
mod unions;
mod versions;

pub use versions::{version_conflicts, OlderSchema, VersionConflict};

use proc_macro2::TokenStream;

use cx::Cx;

use std::collections::{BTreeMap, BTreeSet};

use crate::model::EntityKind;
use crate::Schema;

/// Which side of QMP the generated code is for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// A client: enums keep values they don't know, unknown events are
    /// kept, a method per command (the `Commands` traits).
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
    /// Older versions of the schema whose replies a client also reads
    /// (client mode only): members it reads that one of them lacks, or
    /// has optional, become `Option`; see [`OlderSchema`] and
    /// [`version_conflicts`].
    pub also_reads: Vec<OlderSchema>,
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
            also_reads: Vec::new(),
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
    /// Older versions to read were given for a server, which serves one.
    #[error("older versions to also read (`also_reads`) make a client; a server serves one version")]
    AlsoReadsServer,
}

/// The first line of generated files.
const HEADER: &str = "// @generated by qapi-gen. Do not edit.\n";

/// Generates the Rust module for `schema`: formatted source text, to be
/// `include!`d (it has no inner attributes), items separated by blank
/// lines. This is [`generate_tokens`] laid out by `prettyplease`, after
/// an `@generated` line, a few entities at a time; with the `rayon`
/// feature, in parallel. The output does not depend on how they are
/// split.
///
/// ```
/// use qapi_gen::gen::rust::{generate, Options};
///
/// let schema = "{ 'struct': 'Point', 'data': { 'x': 'int' } }";
/// let out = qapi_gen::Frontend::new().check_str("point.json", schema);
/// let code = generate(&out.schema, &Options::default())?;
/// assert!(code.contains("pub struct Point {"));
/// # Ok::<(), qapi_gen::gen::rust::GenError>(())
/// ```
///
/// # Errors
///
/// When two definitions map to one Rust name, or an option is not what
/// it must be (see [`GenError`]).
pub fn generate(schema: &Schema, opts: &Options) -> Result<String, GenError> {
    let cx = Cx::new(schema, opts)?;
    let mut out = String::from(HEADER);
    for part in formatted_parts(&cx)? {
        out.push_str(&part);
    }
    Ok(out)
}

/// Generates the Rust module for `schema` as tokens, unformatted: what
/// `include_schema!` expands to. [`generate`] is the same code as text.
///
/// # Errors
///
/// As [`generate`].
pub fn generate_tokens(schema: &Schema, opts: &Options) -> Result<TokenStream, GenError> {
    let cx = Cx::new(schema, opts)?;
    let mut tokens = cx.entity_items(0, schema.entities().len())?;
    tokens.extend(cx.trailing_items()?);
    Ok(tokens)
}

/// Entities generated and formatted at a time. Each chunk's tokens and
/// syntax tree are dropped before the next is built: formatting the whole
/// schema at once spent half its time having the kernel zero fresh pages.
const CHUNK: usize = 32;

/// The entities' items, chunk by chunk, and the trailing items, formatted.
fn formatted_parts(cx: &Cx<'_>) -> Result<Vec<String>, GenError> {
    let n = cx.entity_count();
    let ranges: Vec<(usize, usize)> = (0..n).step_by(CHUNK).map(|s| (s, (s + CHUNK).min(n))).collect();
    let chunk = |(start, end)| format_items(cx.entity_items(start, end)?);
    let trailing = || format_items(cx.trailing_items()?);
    #[cfg(feature = "rayon")]
    let (entities, trailing) = {
        use rayon::prelude::*;
        // Tokens do not cross threads, text does. The trailing items (the
        // introspection above all) go alongside the entities' chunks
        // rather than after them.
        rayon::join(|| ranges.into_par_iter().map(chunk).collect::<Result<Vec<String>, GenError>>(), trailing)
    };
    #[cfg(not(feature = "rayon"))]
    let (entities, trailing) = (ranges.into_iter().map(chunk).collect::<Result<Vec<String>, GenError>>(), trailing());
    let mut parts = entities?;
    parts.push(trailing?);
    Ok(parts)
}

/// Items laid out by prettyplease, each after a blank line.
fn format_items(tokens: TokenStream) -> Result<String, GenError> {
    let mut file: syn::File =
        syn::parse2(tokens).map_err(|e| GenError::Internal(format!("generated code does not parse: {e}")))?;
    let mut out = String::new();
    for item in std::mem::take(&mut file.items) {
        file.items = vec![item];
        out.push('\n');
        out.push_str(&prettyplease::unparse(&file));
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
                names.types.insert(e.name.clone(), cx.name(e.id));
            }
            EntityKind::Object(_) if cx.is_plain_type(e) => {
                names.types.insert(e.name.clone(), cx.name(e.id));
            }
            EntityKind::Command(_) => {
                names.commands.insert(e.name.clone(), cx.name(e.id));
            }
            EntityKind::Event(ev) => {
                names.events.insert(e.name.clone(), cx.event_payload(e, ev));
            }
            _ => {}
        }
    }
    Ok(names)
}
