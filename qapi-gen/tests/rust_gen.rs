//! The Rust backend's output, without compiling it (`rust_compile.rs`
//! does that): names, modes, conditions, features, determinism.

mod common;

use std::collections::BTreeSet;

use qapi_gen::gen::rust::{generate, CondPolicy, GenError, Mode, Options};

/// QEMU's test schema, or `None` (said) without `../shared`.
fn test_schema() -> Option<qapi_gen::Schema> {
    let path = common::shared()?.join("qemu/10.2/tests-qapi-schema/qapi-schema-test.json");
    let checked = qapi_gen::Frontend::new().check_file(&path).expect("test schema");
    assert!(checked.is_valid());
    Some(checked.schema)
}

fn gen_str(text: &str, opts: &Options) -> Result<String, GenError> {
    let checked = qapi_gen::Frontend::new().check_str("t.json", text);
    assert!(checked.is_valid(), "{:?}", checked.diagnostics);
    generate(&checked.schema, opts)
}

#[test]
fn client_and_server_shapes() {
    let Some(schema) = test_schema() else { return };
    let client = generate(&schema, &Options::default()).unwrap();
    let server = generate(&schema, &Options { mode: Mode::Server, ..Options::default() }).unwrap();
    for out in [&client, &server] {
        assert!(!out.contains("flatten") && !out.contains("untagged"));
        assert!(!out.contains("#!["), "no inner attributes in include!d code");
        assert!(out.contains("pub struct OrgQemuXStruct {"));
        assert!(out.contains("pub struct UserDefCmd2Arguments {"));
        assert!(out.contains("pub struct UserDefCmd2Command;"));
        assert!(out.contains("type Arguments = UserDefFlatUnion;"), "boxed command");
        assert!(out.contains("pub struct EventCEvent {"));
        assert!(out.contains("pub struct EventEEvent(pub UserDefZero);"));
        assert!(out.contains("pub enum Event {"));
        assert!(out.contains("pub fn has_ud1b(&self) -> bool"));
    }
    assert!(client.contains("Unknown(::std::string::String)"));
    assert!(!server.contains("Unknown(::std::string::String)"));
    assert!(server.contains("pub trait CommandServer"));
    // Unknown members are refused by a server and skipped by a client.
    let strict = "deserialize_struct::<Slots_, D>(deserializer, true)";
    assert!(server.contains(strict) && !client.contains(strict));
    assert!(!client.contains("CommandServer"));
    // No serde derive anywhere: generated code builds without proc macros.
    for out in [&client, &server] {
        assert!(!out.contains("serde::Serialize,") && !out.contains("#[serde("));
    }
}

#[test]
fn output_is_deterministic() {
    let Some(schema) = test_schema() else { return };
    let opts = Options { mode: Mode::Server, cond: CondPolicy::Cfg, ..Options::default() };
    assert_eq!(generate(&schema, &opts).unwrap(), generate(&schema, &opts).unwrap());
}

#[test]
fn conditions() {
    let Some(schema) = test_schema() else { return };
    let all = generate(&schema, &Options::default()).unwrap();
    assert!(all.contains("pub struct TestIfStruct {") && !all.contains("#[cfg("));
    let none =
        generate(&schema, &Options { cond: CondPolicy::Defined(BTreeSet::new()), ..Options::default() }).unwrap();
    assert!(!none.contains("TestIfStruct") && !none.contains("TestIfUnion"));
    let some: BTreeSet<String> = ["TEST_IF_STRUCT".to_owned()].into();
    let some = generate(&schema, &Options { cond: CondPolicy::Defined(some), ..Options::default() }).unwrap();
    assert!(some.contains("pub struct TestIfStruct {") && !some.contains("pub bar: i64"));
    let cfg = generate(&schema, &Options { cond: CondPolicy::Cfg, ..Options::default() }).unwrap();
    assert!(cfg.contains(r#"#[cfg(qapi = "TEST_IF_STRUCT")]"#));
    assert!(cfg.contains(r#"#[cfg(all(qapi = "TEST_IF_UNION", qapi = "TEST_IF_STRUCT"))]"#));
    assert!(cfg.contains(r#"#[cfg_attr(qapi = "TEST_IF_FEATURE_1""#) || !cfg.contains("TEST_IF_FEATURE_1, deprecated"));
}

#[test]
fn a_client_does_not_require_what_the_build_may_lack() {
    let Some(shared) = common::shared() else { return };
    let path = shared.join("qemu/10.0/qapi/qapi-schema.json");
    let checked = qapi_gen::Frontend::new().doc_style(qapi_gen::DocStyle::Warn).check_file(&path).expect("10.0");
    let schema = checked.schema.subset(["query-cpu-model-expansion"]).unwrap();
    // `deprecated-props` is there only when QEMU is built for s390x.
    let field = "pub deprecated_props: ::core::option::Option<::std::vec::Vec<::std::string::String>>,";
    let client = generate(&schema, &Options::default()).unwrap();
    assert!(client.contains(field), "{client}");
    assert!(client.contains("Present only when QEMU was built with `TARGET_S390X`."));
    for exact in [
        Options { mode: Mode::Server, ..Options::default() },
        Options { cond: CondPolicy::Defined(["TARGET_S390X".to_owned()].into()), ..Options::default() },
    ] {
        let out = generate(&schema, &exact).unwrap();
        assert!(out.contains("pub deprecated_props: ::std::vec::Vec<") && !out.contains("Present only"), "{out}");
    }
}

#[test]
fn features() {
    let Some(schema) = test_schema() else { return };
    let out = generate(&schema, &Options { gate_unstable: true, ..Options::default() }).unwrap();
    assert!(out.contains("#[deprecated]\n    pub foo: i64"), "deprecated member");
    assert!(out.contains("#[deprecated]\n    Drei"), "deprecated value");
    let at = out.find("pub struct TestCommandFeatures3Command;").expect("command");
    assert!(out[at - 300..at].contains("#[cfg(feature = \"unstable\")]"));
    let ungated = generate(&schema, &Options::default()).unwrap();
    assert!(!ungated.contains("feature = \"unstable\""));
    assert!(ungated.contains("**Unstable.**") || !ungated.contains("unstable"));
}

#[test]
fn docs_and_names() {
    let text = r#"
##
# @Colour:
#
# A colour, see https://example.org/[x].
#
# @red: like <blood>
#
# @1st: the first
#
# @type: a type
#
# Since: 9.1
##
{ 'enum': 'Colour', 'data': [ 'red', '1st', 'type' ] }

##
# @Paint:
#
# @type: which
#
# @self: the one (since 9.2)
#
# Since: 9.1
##
{ 'struct': 'Paint', 'data': { 'type': 'Colour', '*self': 'int' } }
"#;
    let out = gen_str(text, &Options::default()).unwrap();
    assert!(out.contains("/// A colour, see <https://example.org/[x]>."), "{out}");
    assert!(out.contains("/// like \\<blood\\>"));
    assert!(out.contains("_1st,") && out.contains("Type,"));
    assert!(out.contains("pub r#type: Colour,"));
    assert!(out.contains("pub self_: ::core::option::Option<i64>,"));
    assert!(out.contains("pub fn has_self_(&self)"));
    assert!(out.contains("/// *Since: 9.1*"));
}

#[test]
fn name_clashes_are_errors() {
    let text = "{ 'struct': 'Foo', 'data': { 'a-b': 'int', 'a--b': 'int' } }";
    let err = gen_str(text, &Options::default()).unwrap_err();
    assert!(matches!(err, GenError::Clash { .. }), "{err}");
    assert!(err.to_string().contains("`a_b`"), "{err}");
}

#[test]
fn recursion_is_boxed_once() {
    let text = "
{ 'struct': 'Node', 'data': { '*next': 'Node', 'kids': ['Node'] } }
{ 'alternate': 'Ref', 'data': { 'name': 'str', 'def': 'Def' } }
{ 'struct': 'Def', 'data': { 'a': 'Ref', 'b': 'Ref', '*c': 'Ref' } }
";
    let out = gen_str(text, &Options::default()).unwrap();
    assert!(out.contains("pub next: ::core::option::Option<::std::boxed::Box<Node>>"));
    assert!(out.contains("pub kids: ::std::vec::Vec<Node>"));
    // Declarations only: the slots of a `Deserialize` impl (`m0: ...`)
    // repeat a field's type.
    let slot = |l: &str| l.trim_start().strip_prefix('m').is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()));
    let boxes: usize = out.lines().filter(|l| !slot(l)).map(|l| l.matches("::std::boxed::Box<").count()).sum();
    assert_eq!(boxes, 2, "{out}");
}

#[test]
fn runtime_path_and_cfg_key_are_checked() {
    let schema = "{ 'struct': 'Point', 'data': { 'x': 'int', '*y': { 'type': 'str', 'if': 'CONFIG_Y' } } }";
    // A keyword is no path segment or cfg key.
    for bad in ["", "a b", "crate::", "a-b::c", "::", "a::fn"] {
        let opts = Options { runtime_path: bad.into(), ..Options::default() };
        assert_eq!(gen_str(schema, &opts), Err(GenError::RuntimePath(bad.into())), "{bad:?}");
    }
    let opts = Options { runtime_path: " crate :: rt ".into(), ..Options::default() };
    assert!(gen_str(schema, &opts).unwrap().contains("impl crate::rt::serde::Serialize for Point {"));
    for bad in ["", "a = b", "x\"", "_", "fn"] {
        let opts = Options { cond: CondPolicy::Cfg, cfg_key: bad.into(), ..Options::default() };
        assert_eq!(gen_str(schema, &opts), Err(GenError::CfgKey(bad.into())), "{bad:?}");
    }
    let opts = Options { cond: CondPolicy::Cfg, cfg_key: "feature".into(), ..Options::default() };
    assert!(gen_str(schema, &opts).unwrap().contains("#[cfg(feature = \"CONFIG_Y\")]"));
}

/// The client methods' shapes: nothing, the arguments type, or
/// `impl Into<Option<&Arguments>>` where every argument is optional,
/// except for `'gen': false` arguments (which have no literal of
/// `None`s to send) and arguments the build may lack.
#[test]
fn client_methods_follow_the_arguments() {
    let schema = "{ 'command': 'stop' }
                  { 'command': 'reset', 'data': { '*hard': 'bool' } }
                  { 'command': 'open', 'data': { '*id': 'str' }, 'gen': false }
                  { 'command': 'set', 'data': { 'v': 'int', '*w': 'int' } }
                  { 'struct': 'Show', 'data': { '*a': 'int', 'b': { 'type': 'int', 'if': 'X' } } }
                  { 'command': 'show', 'data': 'Show', 'boxed': true }";
    let client = gen_str(schema, &Options::default()).unwrap();
    assert!(client.contains("fn stop(\n        &self,\n    ) -> impl ::core::future::Future<"), "{client}");
    assert!(client.contains("fn reset<'a>(\n        &'a self,\n        arguments: impl ::core::convert::Into<"));
    assert!(client.contains("fn open(\n        &self,\n        arguments: &OpenArguments,"));
    assert!(client.contains("fn set(\n        &self,\n        arguments: &SetArguments,"));
    assert!(client.contains("fn show(\n        &self,\n        arguments: &Show,"), "required under a condition");
    assert_eq!(client.matches("fn reset<'a>(").count(), 2, "Commands and BlockingCommands");
    assert!(client.contains("arguments: ::qapi_runtime::ArgumentsKind::Optional,"));
    // `new()` for the structs with a required member, strings as `Into<String>`.
    assert!(client.contains("pub fn new(v: i64) -> Self {"));
    assert!(client.contains("A `SetArguments` from its required members"));
    assert!(!client.contains("A `ResetArguments` from its required members"), "all optional: Default, no new()");
    // A server has the lookup tables but no client traits.
    let server = gen_str(schema, &Options { mode: Mode::Server, ..Options::default() }).unwrap();
    assert!(server.contains("pub static COMMANDS") && !server.contains("pub trait Commands"));
}

/// The client traits' names are taken in client mode only.
#[test]
fn client_trait_names_are_taken() {
    let schema = "{ 'struct': 'Commands', 'data': { 'a': 'int' } }";
    let e = gen_str(schema, &Options::default()).unwrap_err();
    assert!(matches!(e, GenError::Clash { ref rust, .. } if rust == "Commands"), "{e}");
    assert!(gen_str(schema, &Options { mode: Mode::Server, ..Options::default() }).is_ok());
}
