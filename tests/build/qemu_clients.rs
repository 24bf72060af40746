//! The clients `tests/qemu_client.rs` drives a real QEMU 10.0 with,
//! generated from the schemas in `../shared` (beside the checkout):
//!
//! - `qemu_10_0.rs`: QEMU 10.0's schema, for every command whose
//!   arguments are all optional (or that takes none), and
//!   `query-cpu-model-expansion`;
//! - `qemu_10_2.rs`: QEMU 10.2's schema for the same commands (those it
//!   still has), made to also read 10.0's replies (`also_reads`);
//! - `qemu_10_2_plain.rs`: QEMU 10.2's schema alone, for two commands
//!   whose 10.0 replies it cannot read, to show what `also_reads` changes.
//!
//! Each comes with `NAME_calls.rs`: the commands' wire names and a
//! function decoding a reply as the client's type for that command. A
//! subset keeps the build small (the full schema is 120k lines). Without
//! `../shared` the files are stubs with no commands, and the test says it
//! is skipped.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use qapi_gen::builder::write_if_changed;
use qapi_gen::gen::rust::{generate, rust_names, OlderSchema, Options};
use qapi_gen::model::EntityKind;
use qapi_gen::{BuildError, DocStyle, Frontend, Schema};

/// Where `../shared/qemu` is, from this crate's directory.
const SHARED: &str = "../../shared/qemu";

/// Called besides those whose arguments are all optional.
const EXTRA: &[&str] = &["query-cpu-model-expansion"];

/// The plain 10.2 client's commands: 10.2 added required members to what
/// they return (`CpuInfoFast.qom-type`, `BlockDeviceInfo.children`).
const PLAIN: &[&str] = &["query-cpus-fast", "query-named-block-nodes"];

pub fn generate_all(out: &Path) -> Result<(), BuildError> {
    let root = |v: &str| PathBuf::from(format!("{SHARED}/{v}/qapi/qapi-schema.json"));
    if !root("10.0").is_file() || !root("10.2").is_file() {
        // Looked at again on every build until it is there.
        println!("cargo:rerun-if-changed={SHARED}");
        for name in ["qemu_10_0", "qemu_10_2", "qemu_10_2_plain"] {
            write(out, &format!("{name}.rs"), "")?;
            write(out, &format!("{name}_calls.rs"), &calls(&[], &Default::default()))?;
        }
        return Ok(());
    }
    let v10 = load(&root("10.0"))?;
    let v12 = load(&root("10.2"))?;
    let mut wanted = all_optional(&v10);
    wanted.extend(EXTRA.iter().map(|s| (*s).to_owned()));
    let in_12: Vec<String> = wanted.iter().filter(|n| v12.lookup(n).is_some()).cloned().collect();
    let client = Options::default();
    emit(out, "qemu_10_0", &v10, &wanted, &client)?;
    emit(out, "qemu_10_2_plain", &v12, PLAIN, &client)?;
    let multi = Options { also_reads: vec![OlderSchema::new("10.0", Arc::new(v10))], ..Options::default() };
    emit(out, "qemu_10_2", &v12, &in_12, &multi)
}

/// Reads and checks a schema, watching its files.
fn load(path: &Path) -> Result<Schema, BuildError> {
    let checked = Frontend::new().doc_style(DocStyle::Warn).check_file(path)?;
    for f in &checked.files {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    if !checked.is_valid() {
        return Err(BuildError::Invalid { schema: path.to_owned(), diagnostics: checked.diagnostics });
    }
    Ok(checked.schema)
}

/// The commands whose arguments are all optional, or that take none.
fn all_optional(schema: &Schema) -> Vec<String> {
    let optional = |arg: Option<qapi_gen::model::EntityId>| match arg.map(|a| &schema[a].kind) {
        None => true,
        Some(EntityKind::Object(o)) => o.branches.is_none() && o.all_members(schema).all(|m| m.optional),
        Some(_) => false,
    };
    schema
        .entities()
        .filter(|e| matches!(&e.kind, EntityKind::Command(c) if optional(c.arg_type)))
        .map(|e| e.name.clone())
        .collect()
}

/// Generates the client `name` for `commands` of `schema`, and its calls.
fn emit<S: AsRef<str>>(
    out: &Path,
    name: &str,
    schema: &Schema,
    commands: &[S],
    opts: &Options,
) -> Result<(), BuildError> {
    let file = PathBuf::from(format!("{name}.rs"));
    let subset = schema
        .subset(commands.iter().map(AsRef::as_ref))
        .map_err(|source| BuildError::Subset { schema: file.clone(), source })?;
    let code = generate(&subset, opts).map_err(|source| BuildError::Generate { schema: file.clone(), source })?;
    let names = rust_names(&subset, opts).map_err(|source| BuildError::Generate { schema: file, source })?;
    write(out, &format!("{name}.rs"), &code)?;
    let wire: Vec<&str> = commands.iter().map(AsRef::as_ref).collect();
    write(out, &format!("{name}_calls.rs"), &calls(&wire, &names.commands))
}

/// The wire names of `commands` and a `round_trip` function dispatching
/// on them to `crate::round_trip::<RustCommand>`.
fn calls(commands: &[&str], rust: &std::collections::BTreeMap<String, String>) -> String {
    let mut arms = String::new();
    for c in commands {
        if let Some(r) = rust.get(*c) {
            let _ = writeln!(arms, "        {c:?} => crate::round_trip::<{r}>(value),");
        }
    }
    format!(
        "/// The commands this client was generated for.\n\
         pub const CALLS: &[&str] = &{commands:?};\n\n\
         /// Decodes `value` as what command `name` returns, as the client does,\n\
         /// and encodes it back; `None` for a command the client does not have.\n\
         #[allow(deprecated)]\n\
         pub fn round_trip(name: &str, value: &::serde_json::Value) -> Option<Result<::serde_json::Value, String>> {{\n    \
             let _ = value;\n    \
             Some(match name {{\n{arms}        _ => return None,\n    }})\n\
         }}\n"
    )
}

fn write(out: &Path, file: &str, text: &str) -> Result<(), BuildError> {
    let path = out.join(file);
    write_if_changed(&path, text.as_bytes()).map(|_| ()).map_err(|source| BuildError::Write { path, source })
}
