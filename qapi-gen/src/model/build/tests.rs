//! Tests of the model builder and QEMU's schema checks, one family per
//! module. Schemas go through the whole front end (`Frontend::check_str`);
//! `direct` builds from hand-made checked definitions.

use crate::diag::Diagnostic;
use crate::model::{EntityKind, Schema};
use crate::Frontend;

/// Checks `text`; returns the model and the errors as `LINE: message`.
fn build(text: &str) -> (Schema, Vec<String>) {
    let out = Frontend::new().check_str("t.json", text);
    let errors = out
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d: &Diagnostic| format!("{}: {}", d.span.line(), d.message))
        .collect();
    (out.schema, errors)
}

fn errors(text: &str) -> Vec<String> {
    build(text).1
}

fn valid(text: &str) -> Schema {
    let (schema, errors) = build(text);
    assert!(errors.is_empty(), "unexpected errors: {errors:#?}");
    schema
}

mod shape {
    use super::*;
    use crate::model::{Builtin, JsonType, ModuleItem};

    #[test]
    fn builtins_come_first_each_with_its_array() {
        let s = valid("{ 'struct': 'Sa', 'data': { 'a': 'int' } }\n");
        let names: Vec<&str> = s.entities().take(6).map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["str", "strList", "number", "numberList", "int", "intList"]);
        let q_empty = s.lookup("q_empty").expect("q_empty");
        assert!(q_empty.is_builtin() && q_empty.is_implicit());
        let qtype = s.lookup("QType").and_then(|e| e.as_enum()).expect("QType");
        assert_eq!(qtype.values.len(), 7);
        assert!(matches!(s.lookup("size").map(|e| &e.kind), Some(EntityKind::Builtin(Builtin::Size))));
        assert_eq!(s.json_type(s.lookup("size").expect("size").id), Some(JsonType::Int));
        for (i, e) in s.entities().enumerate() {
            assert_eq!(e.id.index(), i);
            assert_eq!(s[e.id].name, e.name);
        }
    }

    #[test]
    fn arrays_and_implicit_types_precede_their_user() {
        let s = valid(
            "{ 'struct': 'Sa', 'data': { 'a': ['Ta'] } }\n\
             { 'struct': 'Ta', 'data': {} }\n\
             { 'command': 'c', 'data': { 'x': 'Sa', '*y': ['Sa'] }, 'returns': ['Ta'] }\n",
        );
        let user: Vec<&str> = s.entities().filter(|e| !e.is_builtin()).map(|e| e.name.as_str()).collect();
        assert_eq!(user, ["TaList", "Sa", "Ta", "SaList", "q_obj_c-arg", "c"]);
        let c = s.lookup("c").and_then(|e| e.as_command()).expect("command");
        let arg = &s[c.arg_type.expect("arg type")];
        assert_eq!(arg.name, "q_obj_c-arg");
        assert!(arg.is_implicit());
        let ret = &s[c.ret_type.expect("ret type")];
        assert_eq!(s[ret.as_array().expect("array").element].name, "Ta");
        let args = arg.as_object().expect("object");
        let members: Vec<_> = args.all_members(&s).collect();
        assert_eq!(members.len(), 2);
        assert!(members[1].optional);
        assert_eq!(s[members[1].ty].name, "SaList");
        assert_eq!(members[0].defined_in, arg.id);
    }

    #[test]
    fn members_base_first_and_union_branches() {
        let s = valid(
            "{ 'enum': 'Enu', 'data': [ 'a', 'b', { 'name': 'c', 'if': 'C' } ] }\n\
             { 'struct': 'BaseZero', 'data': { 'zero': 'int' } }\n\
             { 'struct': 'Base', 'base': 'BaseZero', 'data': { 'kind': 'Enu' } }\n\
             { 'struct': 'Aa', 'data': { 'x': 'int' } }\n\
             { 'union': 'Uni', 'base': 'Base', 'discriminator': 'kind', 'data': { 'a': 'Aa' } }\n\
             { 'union': 'Vv', 'base': { 'kind': 'Enu', '*v': 'str' }, 'discriminator': 'kind', \
               'data': { 'b': 'Aa' } }\n",
        );
        let base = s.lookup("Base").and_then(|e| e.as_object()).expect("Base");
        let names: Vec<&str> = base.all_members(&s).map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["zero", "kind"]);
        assert_eq!(base.local_members.len(), 1);
        let u = s.lookup("Uni").expect("Uni");
        assert_eq!(u.meta(), "union");
        let uo = u.as_object().expect("object");
        let br = uo.branches.as_ref().expect("branches");
        assert_eq!(br.tag.name, "kind");
        let cases: Vec<(&str, &str, bool)> =
            br.branches.iter().map(|b| (b.name.as_str(), s[b.ty].name.as_str(), b.is_implied())).collect();
        assert_eq!(cases, [("a", "Aa", false), ("b", "q_empty", true), ("c", "q_empty", true)]);
        assert!(br.branches[2].cond.is_some(), "implied branch takes the value's condition");
        let v = s.lookup("Vv").and_then(|e| e.as_object()).expect("Vv");
        assert_eq!(s[v.base.expect("base")].name, "q_obj_Vv-base");
        assert_eq!(v.all_members(&s).count(), 2);
    }

    #[test]
    fn modules_follow_includes() {
        let dir = std::env::temp_dir().join(format!("qapi-model-mod-{}", std::process::id()));
        let sub = dir.join("sub");
        std::fs::create_dir_all(&sub).expect("dir");
        let root = "{ 'include': 'sub/a.json' }\n{ 'struct': 'Rr', 'data': { 'l': ['Bb'] } }\n";
        std::fs::write(dir.join("root.json"), root).expect("write");
        std::fs::write(sub.join("a.json"), "{ 'include': '../b.json' }\n{ 'struct': 'Aa', 'data': {} }\n")
            .expect("write");
        std::fs::write(dir.join("b.json"), "{ 'struct': 'Bb', 'data': {} }\n").expect("write");
        let out = Frontend::new().check_file(&dir.join("root.json")).expect("readable");
        assert!(out.is_valid(), "{:#?}", out.diagnostics);
        let s = out.schema;
        let names: Vec<&str> = s.modules().iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["./builtin", "root.json", "sub/a.json", "b.json"]);
        assert!(matches!(s.modules()[1].items[0], ModuleItem::Include { module, .. } if module.index() == 2));
        // BbList is created in root.json but belongs to Bb's module.
        let b = &s[s.lookup("BbList").expect("BbList").module];
        assert_eq!(b.name, "b.json");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn docs_are_bound() {
        let s = valid(
            "{ 'pragma': { 'documentation-exceptions': [ 'Sa' ] } }\n\
             ##\n# @Sa:\n#\n# A struct.\n#\n# @a: the a\n#\n# Features:\n# @f: a feature\n##\n\
             { 'struct': 'Sa', 'data': { 'a': 'int', 'b': 'str' }, 'features': [ 'f' ] }\n\
             ##\n# @c:\n#\n# @x: the x\n##\n\
             { 'command': 'c', 'data': { 'x': 'int' } }\n",
        );
        let st = s.lookup("Sa").expect("Sa");
        assert!(st.doc.as_ref().is_some_and(|d| d.symbol.as_deref() == Some("Sa")));
        let o = st.as_object().expect("object");
        assert_eq!(o.local_members[0].doc().map(|d| d.text.as_str()), Some("the a"));
        assert_eq!(o.local_members[1].doc().map(|d| d.text.as_str()), Some(""), "stub for an excepted member");
        assert_eq!(st.features[0].doc().map(|d| d.text.as_str()), Some("a feature"));
        let c = s.lookup("c").and_then(|e| e.as_command()).expect("c");
        let arg = s[c.arg_type.expect("args")].as_object().expect("object");
        assert_eq!(arg.local_members[0].doc().map(|d| d.text.as_str()), Some("the x"));
        assert_eq!(s.docs().len(), 2);
    }
}

mod definitions {
    use super::*;

    #[test]
    fn redefinition_names_the_previous_one() {
        let out =
            Frontend::new().check_str("t.json", "{ 'struct': 'Foo', 'data': {} }\n{ 'enum': 'Foo', 'data': [] }\n");
        let d = out.diagnostics.iter().find(|d| d.is_error()).expect("error");
        assert_eq!(d.span.line(), 2);
        assert_eq!(d.message, "'Foo' is already defined");
        assert_eq!(d.context.as_deref(), Some("enum 'Foo'"));
        assert!(d.help.as_deref().is_some_and(|h| h.contains("t.json:1")), "{:?}", d.help);
    }

    #[test]
    fn redefining_a_builtin() {
        assert_eq!(errors("{ 'command': 'int' }\n"), ["1: built-in type 'int' is already defined"]);
        assert_eq!(errors("\n{ 'struct': 'QType', 'data': {} }\n"), ["2: enum type 'QType' is already defined"]);
    }

    #[test]
    fn documented_redefinition_is_not_checked_twice() {
        let e = errors("##\n# @foo:\n##\n{ 'command': 'foo' }\n##\n# @foo:\n# @a: x\n##\n{ 'command': 'foo' }\n");
        assert_eq!(e, ["9: 'foo' is already defined"]);
    }
}

mod types {
    use super::*;

    #[test]
    fn unknown_types() {
        let e = errors(
            "{ 'struct': 'Sa', 'data': { 'm': 'Nope' } }\n\
             { 'struct': 'Ta', 'base': 'Nope' , 'data': {} }\n\
             { 'command': 'c', 'data': 'Nope', 'returns': 'Nope' }\n\
             { 'command': 'd', 'data': { 'p': 'Nope', 'q': ['Nope2'] } }\n\
             { 'event': 'EV', 'data': 'Nope' }\n\
             { 'alternate': 'Alt', 'data': { 'b': 'Nope' } }\n",
        );
        assert_eq!(
            e,
            [
                "1: member 'm' uses unknown type 'Nope'",
                "2: 'base' uses unknown type 'Nope'",
                "3: command's 'data' uses unknown type 'Nope'",
                "3: command's 'returns' uses unknown type 'Nope'",
                "4: command uses unknown type 'Nope2'",
                "4: parameter 'p' uses unknown type 'Nope'",
                "5: event's 'data' uses unknown type 'Nope'",
                "6: branch 'b' uses unknown type 'Nope'",
            ]
        );
    }

    #[test]
    fn a_command_is_not_a_type() {
        assert_eq!(
            errors("{ 'command': 'cmd' }\n{ 'struct': 'Sa', 'data': { 'm': 'cmd' } }\n"),
            ["2: member 'm' uses unknown type 'cmd'"]
        );
    }

    #[test]
    fn wrong_kinds() {
        let e = errors(
            "{ 'enum': 'Enu', 'data': [ 'x' ] }\n\
             { 'struct': 'Sa', 'data': {} }\n\
             { 'union': 'Uni', 'base': { 'kind': 'Enu' }, 'discriminator': 'kind', 'data': { 'x': 'Sa' } }\n\
             { 'alternate': 'Alt', 'data': { 'i': 'int', 's': 'Sa' } }\n\
             { 'struct': 'Ta', 'base': 'Uni', 'data': {} }\n\
             { 'struct': 'Tb', 'base': 'Enu', 'data': {} }\n\
             { 'command': 'c1', 'data': 'Alt' }\n\
             { 'command': 'c2', 'data': 'Uni' }\n\
             { 'command': 'c3', 'returns': 'int' }\n\
             { 'command': 'c4', 'returns': ['Enu'] }\n\
             { 'event': 'EV', 'data': 'Uni' }\n\
             { 'alternate': 'Alt2', 'data': { 'a': 'Alt', 'n': 'any' } }\n",
        );
        assert_eq!(
            e,
            [
                "5: 'base' requires a struct type, union type 'Uni' isn't",
                "6: 'base' requires a struct type, enum type 'Enu' isn't",
                "7: command's 'data' cannot take alternate type 'Alt'",
                "8: command's 'data' can take union type 'Uni' only with 'boxed': true",
                "9: command's 'returns' cannot take built-in type 'int'",
                "10: command's 'returns' cannot take array type ['Enu']",
                "11: event's 'data' can take union type 'Uni' only with 'boxed': true",
                "12: branch 'a' cannot use alternate type 'Alt'",
                "12: branch 'n' cannot use built-in type 'any'",
            ]
        );
    }

    #[test]
    fn returns_exceptions() {
        let e = errors(
            "{ 'pragma': { 'command-returns-exceptions': [ 'ok' ] } }\n\
             { 'command': 'ok', 'returns': ['int'] }\n\
             { 'command': 'bad', 'returns': ['int'] }\n",
        );
        assert_eq!(e, ["3: command's 'returns' cannot take array type ['int']"]);
    }

    #[test]
    fn conditional_arguments_need_boxed() {
        let e = errors(
            "{ 'struct': 'Sa', 'data': { 'a': { 'type': 'int', 'if': 'X' } } }\n\
             { 'command': 'c1', 'data': 'Sa' }\n\
             { 'command': 'c2', 'data': 'Sa', 'boxed': true }\n\
             { 'command': 'c3', 'data': { 'a': { 'type': 'int', 'if': 'X' } } }\n",
        );
        assert_eq!(
            e,
            [
                "2: conditional command arguments require 'boxed': true",
                "4: conditional command arguments require 'boxed': true",
            ]
        );
    }

    #[test]
    fn special_features_on_types() {
        let e = errors(
            "{ 'struct': 'Sa', 'data': { 'm': { 'type': 'int', 'features': [ 'deprecated' ] } }, \
               'features': [ 'deprecated', 'unstable' ] }\n\
             { 'command': 'c', 'features': [ 'deprecated' ] }\n",
        );
        assert_eq!(
            e,
            ["1: feature 'deprecated' is not supported for types", "1: feature 'unstable' is not supported for types"]
        );
    }

    #[test]
    fn at_most_64_features() {
        let many: Vec<String> = (0..61).map(|i| format!("'f{i}'")).collect();
        let text = format!(
            "{{ 'command': 'a', 'features': [ {} ] }}\n{{ 'command': 'b', 'features': [ 'last' ] }}\n",
            many.join(", ")
        );
        assert!(errors(&text).is_empty(), "64 with deprecated and unstable");
        let text = text.replace("'last'", "'last', 'one-more'");
        assert_eq!(errors(&text), ["2: Maximum of 64 schema features is permitted"]);
    }
}

mod cycles {
    use super::*;

    #[test]
    fn base_cycles() {
        assert_eq!(errors("{ 'struct': 'Loopy', 'base': 'Loopy', 'data': {} }\n"), ["1: object Loopy contains itself"]);
        assert_eq!(
            errors(
                "{ 'struct': 'BaseOne', 'base': 'BaseTwo', 'data': {} }\n\
                 { 'struct': 'BaseTwo', 'base': 'BaseOne', 'data': {} }\n\
                 { 'struct': 'Sub', 'base': 'BaseOne', 'data': { 'x': 'int' } }\n"
            ),
            ["1: object BaseOne contains itself"]
        );
    }

    #[test]
    fn cycle_through_union_branches() {
        let e = errors(
            "{ 'enum': 'Enu', 'data': [ 'a' ] }\n\
             { 'union': 'UnionOne', 'base': { 'k1': 'Enu' }, 'discriminator': 'k1', 'data': { 'a': 'UnionTwo' } }\n\
             { 'union': 'UnionTwo', 'base': { 'k2': 'Enu' }, 'discriminator': 'k2', 'data': { 'a': 'UnionOne' } }\n",
        );
        assert_eq!(e, ["2: object UnionOne contains itself"]);
    }

    #[test]
    fn members_may_refer_to_their_type() {
        valid("{ 'struct': 'Tree', 'data': { 'kids': ['Tree'], '*up': 'Tree' } }\n");
    }

    #[test]
    fn long_base_chain() {
        let n = 3000;
        let chain = |last_base: &str| {
            let mut text = String::new();
            for i in 0..n {
                text.push_str(&format!(
                    "{{ 'struct': 'Sa{}', 'base': 'Sa{}', 'data': {{ 'm{i}': 'int' }} }}\n",
                    i,
                    i + 1
                ));
            }
            text.push_str(&format!("{{ 'struct': 'Sa{n}', {last_base}'data': {{}} }}\n"));
            text
        };
        let s = valid(&chain(""));
        let o = s.lookup("Sa0").and_then(|e| e.as_object()).expect("Sa0");
        let members: Vec<_> = o.all_members(&s).collect();
        assert_eq!(members.len(), n);
        assert_eq!(members[0].name, format!("m{}", n - 1));
        assert_eq!(errors(&chain("'base': 'Sa0', ")), ["1: object Sa0 contains itself"]);
    }
}

mod clashes {
    use super::*;

    #[test]
    fn member_clashes() {
        let e = errors(
            "{ 'pragma': { 'member-name-exceptions': [ 'Oops' ] } }\n\
             { 'struct': 'Base', 'data': { 'name': 'str' } }\n\
             { 'struct': 'Sub', 'base': 'Base', 'data': { 'name': 'str' } }\n\
             { 'struct': 'Oops', 'data': { 'a-b': 'str', 'a_b': 'str' } }\n",
        );
        assert_eq!(
            e,
            [
                "3: member 'name' collides with member 'name' of type 'Base'",
                "4: member 'a_b' collides with member 'a-b'"
            ]
        );
    }

    #[test]
    fn enum_and_feature_clashes() {
        let e = errors(
            "{ 'pragma': { 'member-name-exceptions': [ 'Enu' ] } }\n\
             { 'enum': 'Enu', 'data': [ 'one-two', 'one_two' ] }\n\
             { 'struct': 'Sa', 'data': {}, 'features': [ 'fx', 'fx' ] }\n\
             { 'struct': 'Ta', 'data': { 'm': { 'type': 'int', 'features': [ 'g', 'g' ] } } }\n",
        );
        assert_eq!(
            e,
            [
                "2: value 'one_two' collides with value 'one-two'",
                "3: feature 'fx' collides with feature 'fx'",
                "4: feature 'g' of type 'm' collides with feature 'g' of type 'm'",
            ]
        );
    }

    #[test]
    fn union_branch_clashes() {
        let e = errors(
            "{ 'enum': 'Enu', 'data': [ 'a', 'b' ] }\n\
             { 'struct': 'Base', 'data': { 'kind': 'Enu', 'name': 'str' } }\n\
             { 'struct': 'Aa', 'data': { 'name': 'str' } }\n\
             { 'union': 'Uni', 'base': 'Base', 'discriminator': 'kind', 'data': { 'a': 'Aa' } }\n\
             { 'union': 'Ww', 'base': { 'kind': 'Enu', 'x': 'int' }, 'discriminator': 'kind', \
               'data': { 'a': 'Inner' } }\n\
             { 'union': 'Inner', 'base': { 'kind2': 'Enu' }, 'discriminator': 'kind2', \
               'data': { 'b': 'Xx' } }\n\
             { 'struct': 'Xx', 'data': { 'x': 'int' } }\n",
        );
        assert_eq!(
            e,
            [
                "4: member 'name' of type 'Aa' collides with member 'name' of type 'Base'",
                "5: member 'x' of type 'Xx' collides with base member 'x'",
            ]
        );
    }
}

mod nesting {
    use super::*;

    #[test]
    fn union_in_union_clash() {
        let e = errors(
            "{ 'enum': 'Enu', 'data': [ 'a' ] }\n\
             { 'union': 'Outer', 'base': { 'type': 'Enu' }, 'discriminator': 'type', 'data': { 'a': 'Inner' } }\n\
             { 'union': 'Inner', 'base': { 'type': 'Enu' }, 'discriminator': 'type', 'data': { 'a': 'Leaf' } }\n\
             { 'struct': 'Leaf', 'data': {} }\n",
        );
        assert_eq!(e, ["2: base member 'type' of type 'Inner' collides with base member 'type'"]);
    }

    #[test]
    fn shared_branches_are_checked_once() {
        // Two unions per level, each with both unions of the next level as
        // branches: 2^40 paths, 80 types.
        let levels = 40;
        let mut text = String::from("{ 'enum': 'Enu', 'data': [ 'a', 'b' ] }\n");
        for i in 0..levels {
            for side in ["Left", "Right"] {
                text.push_str(&format!(
                    "{{ 'union': '{side}{i}', 'base': {{ 'k-{l}{i}': 'Enu' }}, 'discriminator': 'k-{l}{i}', \
                     'data': {{ 'a': 'Left{n}', 'b': 'Right{n}' }} }}\n",
                    n = i + 1,
                    l = side.to_lowercase()
                ));
            }
        }
        text.push_str(&format!(
            "{{ 'struct': 'Left{levels}', 'data': {{}} }}\n{{ 'struct': 'Right{levels}', 'data': {{}} }}\n"
        ));
        valid(&text);
    }

    #[test]
    fn long_union_chain() {
        let n = 500;
        let mut text = String::from("{ 'enum': 'Enu', 'data': [ 'a' ] }\n");
        for i in 0..n {
            text.push_str(&format!(
                "{{ 'union': 'Un{i}', 'base': {{ 'k{i}': 'Enu' }}, 'discriminator': 'k{i}', 'data': {{ 'a': 'Un{}' }} }}\n",
                i + 1
            ));
        }
        text.push_str(&format!("{{ 'struct': 'Un{n}', 'data': {{}} }}\n"));
        valid(&text);
    }
}

mod unions {
    use super::*;

    const PRELUDE: &str = "{ 'enum': 'Enu', 'data': [ 'a', 'b' ] }\n{ 'struct': 'Sa', 'data': {} }\n";

    #[test]
    fn discriminator_rules() {
        let e = errors(&format!(
            "{PRELUDE}\
             {{ 'union': 'UnionOne', 'base': {{ 'kind': 'Enu' }}, 'discriminator': 'nope', 'data': {{ 'a': 'Sa' }} }}\n\
             {{ 'union': 'UnionTwo', 'base': {{ 'kind': 'str' }}, 'discriminator': 'kind', 'data': {{ 'a': 'Sa' }} }}\n\
             {{ 'union': 'UnionThree', 'base': {{ '*kind': 'Enu' }}, 'discriminator': 'kind', 'data': {{ 'a': 'Sa' }} }}\n\
             {{ 'union': 'UnionFour', 'base': {{ 'kind': {{ 'type': 'Enu', 'if': 'X' }} }}, 'discriminator': 'kind', \
                'data': {{ 'a': 'Sa' }} }}\n\
             {{ 'union': 'UnionFive', 'base': {{ 'kind': 'Enu' }}, 'discriminator': 'kind', 'data': {{ 'c': 'Sa' }} }}\n\
             {{ 'union': 'UnionSix', 'base': {{ 'kind': 'Enu' }}, 'discriminator': 'kind', 'data': {{ 'a': 'int' }} }}\n\
             {{ 'struct': 'Bb', 'data': {{ 'kind': 'str' }} }}\n\
             {{ 'union': 'UnionSeven', 'base': 'Bb', 'discriminator': 'kind', 'data': {{ 'a': 'Sa' }} }}\n\
             {{ 'union': 'UnionEight', 'base': {{ 'kind': 'Nope' }}, 'discriminator': 'kind', 'data': {{ 'a': 'Sa' }} }}\n"
        ));
        assert_eq!(
            e,
            [
                "3: discriminator 'nope' is not a member of 'base'",
                "4: discriminator member 'kind' of 'base' must be of enum type",
                "5: discriminator member 'kind' of 'base' must not be optional",
                "6: discriminator member 'kind' of 'base' must not be conditional",
                "7: branch 'c' is not a value of enum type 'Enu'",
                "8: branch 'a' cannot use built-in type 'int'",
                "10: discriminator member 'kind' of base type 'Bb' must be of enum type",
                "11: base member 'kind' uses unknown type 'Nope'",
            ]
        );
    }

    #[test]
    fn union_without_branches() {
        assert_eq!(
            errors(
                "{ 'enum': 'Empty', 'data': [] }\n\
                 { 'union': 'Uni', 'base': { 'k': 'Empty' }, 'discriminator': 'k', 'data': {} }\n"
            ),
            ["2: union has no branches"]
        );
    }
}

mod alternates {
    use super::*;

    #[test]
    fn ambiguity() {
        let e = errors(
            "{ 'enum': 'Num', 'data': [ '1', '2' ] }\n\
             { 'enum': 'OnOff', 'data': [ 'on', 'off' ] }\n\
             { 'enum': 'Plain', 'data': [ 'x' ] }\n\
             { 'struct': 'Sa', 'data': {} }\n\
             { 'alternate': 'AltOne', 'data': { 'one': 'str', 'two': 'int' } }\n\
             { 'alternate': 'AltTwo', 'data': { 'one': 'Num', 'two': 'number' } }\n\
             { 'alternate': 'AltThree', 'data': { 'one': 'bool', 'two': 'OnOff' } }\n\
             { 'alternate': 'AltFour', 'data': { 'one': ['int'], 'two': ['str'] } }\n\
             { 'alternate': 'AltFive', 'data': { 'one': 'Sa', 'two': 'Sa' } }\n\
             { 'alternate': 'Fine', 'data': { 'e': 'Plain', 'i': 'int', 'b': 'bool', 'n': 'null', \
               'l': ['int'], 'o': 'Sa' } }\n",
        );
        assert_eq!(
            e,
            [
                "5: branch 'two' can't be distinguished from 'one'",
                "6: branch 'two' can't be distinguished from 'one'",
                "7: branch 'two' can't be distinguished from 'one'",
                "8: branch 'two' can't be distinguished from 'one'",
                "9: branch 'two' can't be distinguished from 'one'",
            ]
        );
    }
}

mod docs {
    use super::*;

    #[test]
    fn documented_things_must_exist() {
        let e = errors(
            "##\n# @foo:\n# @a: a\n# @b: b\n# @c: c\n#\n# Features:\n# @f: f\n##\n\
             { 'command': 'foo', 'data': { 'a': 'int' } }\n",
        );
        assert_eq!(e, ["4: documented members 'b', 'c' do not exist", "8: documented feature 'f' does not exist"]);
    }

    #[test]
    fn everything_must_be_documented() {
        let e = errors(
            "##\n# @foo:\n#\n# Features:\n# @doc: documented\n##\n\
             { 'command': 'foo', 'data': { 'a': 'int' }, 'features': [ 'undoc', 'doc' ] }\n\
             ##\n# @Enu:\n##\n{ 'enum': 'Enu', 'data': [ 'v' ] }\n\
             ##\n# @Alt:\n##\n{ 'alternate': 'Alt', 'data': { 'i': 'int' } }\n",
        );
        assert_eq!(
            e,
            [
                "7: feature 'undoc' lacks documentation",
                "7: member 'a' lacks documentation",
                "11: value 'v' lacks documentation",
                "15: branch 'i' lacks documentation",
            ]
        );
    }

    #[test]
    fn boxed_arguments_are_documented_with_their_type() {
        let e = errors(
            "##\n# @Args:\n# @a: an argument\n##\n{ 'struct': 'Args', 'data': { 'a': 'int' } }\n\
             ##\n# @cmd-boxed:\n# @a: bogus\n##\n{ 'command': 'cmd-boxed', 'boxed': true, 'data': 'Args' }\n",
        );
        assert_eq!(e, ["8: documented member 'a' does not exist"]);
    }

    #[test]
    fn union_documents_its_inline_base_only() {
        let e = errors(
            "{ 'enum': 'Enu', 'data': [ 'a' ] }\n{ 'struct': 'Sa', 'data': {} }\n\
             ##\n# @Uni:\n# @kind: the tag\n##\n\
             { 'union': 'Uni', 'base': { 'kind': 'Enu' }, 'discriminator': 'kind', 'data': { 'a': 'Sa' } }\n",
        );
        assert!(e.is_empty(), "{e:?}");
    }

    #[test]
    fn returns_and_errors_sections() {
        let e = errors(
            "##\n# @FOO:\n#\n# Returns: blah\n##\n{ 'event': 'FOO' }\n\
             ##\n# @foo:\n#\n# Returns: blah\n##\n{ 'command': 'foo' }\n\
             ##\n# @Sa:\n#\n# Errors: blah\n##\n{ 'struct': 'Sa', 'data': {} }\n",
        );
        assert_eq!(
            e,
            [
                "4: 'Returns' section is only valid for commands",
                "10: 'Returns' section, but command doesn't return anything",
                "16: 'Errors' section is only valid for commands",
            ]
        );
    }
}

mod independent_errors {
    use super::*;

    #[test]
    fn all_are_reported_without_cascades() {
        let e = errors(
            "{ 'struct': 'Aa', 'base': 'Missing', 'data': { 'x': 'MissingToo' } }\n\
             { 'struct': 'Bb', 'base': 'Aa', 'data': { 'y': 'int' } }\n\
             { 'union': 'Uni', 'base': 'Aa', 'discriminator': 'x', 'data': { 'q': 'Bb' } }\n\
             { 'command': 'c', 'returns': 'MissingAgain' }\n",
        );
        assert_eq!(
            e,
            [
                "1: 'base' uses unknown type 'Missing'",
                "1: member 'x' uses unknown type 'MissingToo'",
                "4: command's 'returns' uses unknown type 'MissingAgain'",
            ]
        );
    }

    #[test]
    fn errors_leave_an_empty_model() {
        let (s, e) = build("{ 'struct': 'Aa', 'data': { 'x': 'Missing' } }\n");
        assert_eq!(e.len(), 1);
        assert_eq!(s.entities().count(), 0);
    }
}

mod direct {
    use std::sync::Arc;

    use crate::check::ast::{Checked, DefKind, Definition, Member, TypeRef};
    use crate::diag::Diagnostics;
    use crate::model::Schema;
    use crate::source::{SourceFile, Span};
    use crate::syntax::load::Loaded;

    fn span(file: &Arc<SourceFile>, line: u32) -> Span {
        let at = file.line_start(line);
        Span::new(file, at, at + 1)
    }

    #[test]
    fn from_checked_definitions() {
        let file = SourceFile::new("d.json".into(), "d.json".into(), "{}\n{}\n{}\n".into());
        let member = |name: &str, ty: &str, line| Member {
            name: name.into(),
            optional: false,
            ty: TypeRef { name: ty.into(), array: false, span: span(&file, line) },
            cond: None,
            features: Vec::new(),
            span: span(&file, line),
        };
        let def = |name: &str, kind, line| {
            Checked::Definition(Definition {
                name: name.into(),
                kind,
                cond: None,
                features: Vec::new(),
                doc: None,
                span: span(&file, line),
            })
        };
        let checked = vec![
            def("A", DefKind::Struct { base: None, members: vec![member("a", "int", 1)] }, 1),
            def(
                "B",
                DefKind::Struct {
                    base: Some(TypeRef { name: "A".into(), array: false, span: span(&file, 2) }),
                    members: vec![member("b", "A", 2)],
                },
                2,
            ),
            def(
                "C",
                DefKind::Struct {
                    base: Some(TypeRef { name: "B".into(), array: false, span: span(&file, 3) }),
                    members: vec![member("a", "str", 3)],
                },
                3,
            ),
        ];
        let loaded = Loaded { files: vec![file.clone()], ..Loaded::default() };
        let mut diags = Diagnostics::default();
        let schema = Schema::build(checked, loaded, &mut diags);
        let msgs: Vec<String> = diags.iter().map(|d| format!("{}: {}", d.span.line(), d.message)).collect();
        assert_eq!(msgs, ["3: member 'a' collides with member 'a' of type 'A'"]);
        assert_eq!(schema.entities().count(), 0);
    }
}
