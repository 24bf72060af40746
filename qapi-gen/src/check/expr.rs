//! The checks of each kind of definition, and of what they share: keys,
//! members, type references, features and flags.

use super::ast::{Branch, Cond, DefKind, EnumValue, Feature, Member, Members, TypeRef};
use super::cond::check_if;
use super::keys::check_keys;
use super::names::{check_name_camel, check_name_lower, check_name_upper, is_reserved_member};
use super::{Fail, Res, Source};
use crate::source::Span;
use crate::syntax::load::Pragma;
use crate::syntax::{Object, Value, ValueKind};

/// Checks a definition's name against the rules of its kind.
pub(crate) fn check_defn_name(name: &str, meta: &'static str, pragma: &Pragma) -> Res<()> {
    let source = Source::Plain(meta);
    match meta {
        "event" => check_name_upper(name, source),
        "command" => check_name_lower(name, source, false, pragma.command_name_exceptions.iter().any(|n| n == name)),
        _ => {
            check_name_camel(name, source)?;
            if name.ends_with("List") {
                return Err(Fail::new(format!("{meta} name should not end in 'List'")));
            }
            Ok(())
        }
    }
}

/// Python's truth value of a JSON value, which QEMU's checks sometimes
/// rely on: empty strings, lists and objects and `false` are false.
fn truthy(v: &Value) -> bool {
    match &v.kind {
        ValueKind::Str(s) => !s.is_empty(),
        ValueKind::Bool(b) => *b,
        ValueKind::List(l) => !l.is_empty(),
        ValueKind::Object(o) => !o.is_empty(),
    }
}

/// A value that must be present because [`check_keys`] required it.
fn required<'v>(obj: &'v Object, key: &str, at: &Span) -> Res<&'v Value> {
    obj.get(key).ok_or_else(|| Fail::at(at, format!("misses key '{key}'")))
}

/// `'T'`.
fn type_name(value: &Value, source: Source<'_>) -> Res<TypeRef> {
    match value.as_str() {
        Some(name) => Ok(TypeRef { name: name.to_owned(), array: false, span: value.span.clone() }),
        None => Err(Fail::at(&value.span, format!("{source} should be a type name"))),
    }
}

/// `'T'` or `['T']`.
fn type_name_or_array(value: &Value, source: Source<'_>) -> Res<TypeRef> {
    match &value.kind {
        ValueKind::Str(name) => Ok(TypeRef { name: name.clone(), array: false, span: value.span.clone() }),
        ValueKind::List(elems) => match elems.as_slice() {
            [elem] => match elem.as_str() {
                Some(name) => Ok(TypeRef { name: name.to_owned(), array: true, span: value.span.clone() }),
                None => Err(Fail::at(&value.span, format!("{source}: array type must contain single type name"))),
            },
            _ => Err(Fail::at(&value.span, format!("{source}: array type must contain single type name"))),
        },
        _ => Err(Fail::at(&value.span, format!("{source} should be a type name or array"))),
    }
}

/// Members written in place (`{ 'a': 'int', '*b': { 'type': 'str' } }`).
/// Members of a type named in `member-name-exceptions` (`permissive`) may
/// use upper case and `_`.
fn implicit(value: &Value, source: &'static str, permissive: bool) -> Res<Vec<Member>> {
    let Some(obj) = value.as_object() else {
        return Err(Fail::at(&value.span, format!("{source} should be an object or type name")));
    };
    let mut members = Vec::with_capacity(obj.len());
    for (key, (key_span, arg)) in &obj.members {
        let key_source = Source::Member(source, key);
        let (name, optional) = match key.strip_prefix('*') {
            Some(name) => (name, true),
            None => (key.as_str(), false),
        };
        check_name_lower(name, key_source, permissive, permissive).map_err(|f| f.or_at(key_span))?;
        if is_reserved_member(name) {
            return Err(Fail::at(key_span, format!("{key_source} uses reserved name")));
        }
        let (cond, features, ty) = match arg.as_object() {
            Some(o) => {
                check_keys(o, key_source, &["type"], &["if", "features"], &arg.span)?;
                let cond = check_if(o.get("if"), key_source)?;
                let features = check_features(o.get("features"))?;
                let ty = type_name_or_array(required(o, "type", &arg.span)?, key_source)?;
                (cond, features, ty)
            }
            None => (None, Vec::new(), type_name_or_array(arg, key_source)?),
        };
        members.push(Member { name: name.to_owned(), optional, ty, cond, features, span: key_span.clone() });
    }
    Ok(members)
}

/// `'T'` or members written in place.
fn type_name_or_implicit(value: &Value, source: &'static str, permissive: bool) -> Res<Members> {
    match &value.kind {
        ValueKind::Str(name) => {
            Ok(Members::Named(TypeRef { name: name.clone(), array: false, span: value.span.clone() }))
        }
        _ => implicit(value, source, permissive).map(Members::Inline),
    }
}

/// The `features` of a definition, member or enum value.
fn check_features(value: Option<&Value>) -> Res<Vec<Feature>> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let Some(list) = value.as_list() else {
        return Err(Fail::at(&value.span, "'features' must be an array"));
    };
    let source = Source::Plain("'features' member");
    let mut features = Vec::with_capacity(list.len());
    for f in list {
        let (name_value, obj) = match f.as_object() {
            Some(o) => {
                check_keys(o, source, &["name"], &["if"], &f.span)?;
                (required(o, "name", &f.span)?, Some(o))
            }
            None => (f, None),
        };
        let Some(name) = name_value.as_str() else {
            return Err(Fail::at(&name_value.span, format!("{source} requires a string name")));
        };
        let source = Source::Member("'features'", name);
        check_name_lower(name, source, false, false).map_err(|e| e.or_at(&name_value.span))?;
        let cond = check_if(obj.and_then(|o| o.get("if")), source)?;
        features.push(Feature { name: name.to_owned(), cond, span: f.span.clone() });
    }
    Ok(features)
}

/// Checks the rest of a definition by its kind (`meta`), then its `if`,
/// features and flags, in QEMU's order.
pub(crate) fn check_kind(
    obj: &Object,
    meta: &'static str,
    name: &str,
    pragma: &Pragma,
    at: &Span,
) -> Res<(DefKind, Option<Cond>, Vec<Feature>)> {
    let source = Source::Plain(meta);
    let permissive = || pragma.member_name_exceptions.iter().any(|n| n == name);
    let kind = match meta {
        "enum" => {
            check_keys(obj, source, &["enum", "data"], &["if", "features", "prefix"], at)?;
            check_enum(obj, permissive(), at)?
        }
        "union" => {
            check_keys(obj, source, &["union", "base", "discriminator", "data"], &["if", "features"], at)?;
            check_union(obj, permissive(), at)?
        }
        "alternate" => {
            check_keys(obj, source, &["alternate", "data"], &["if", "features"], at)?;
            check_alternate(obj, at)?
        }
        "struct" => {
            check_keys(obj, source, &["struct", "data"], &["base", "if", "features"], at)?;
            let members = implicit(required(obj, "data", at)?, "'data'", permissive())?;
            let base = obj.get("base").map(|b| type_name(b, Source::Plain("'base'"))).transpose()?;
            DefKind::Struct { base, members }
        }
        "command" => {
            check_keys(
                obj,
                source,
                &["command"],
                &[
                    "data",
                    "returns",
                    "boxed",
                    "if",
                    "features",
                    "gen",
                    "success-response",
                    "allow-oob",
                    "allow-preconfig",
                    "coroutine",
                ],
                at,
            )?;
            let data = check_arguments(obj)?;
            let returns = obj.get("returns").map(|r| type_name_or_array(r, Source::Plain("'returns'"))).transpose()?;
            DefKind::Command {
                data,
                returns,
                boxed: obj.members.contains_key("boxed"),
                gen: !obj.members.contains_key("gen"),
                success_response: !obj.members.contains_key("success-response"),
                allow_oob: obj.members.contains_key("allow-oob"),
                allow_preconfig: obj.members.contains_key("allow-preconfig"),
                coroutine: obj.members.contains_key("coroutine"),
            }
        }
        _ => {
            check_keys(obj, source, &["event"], &["data", "boxed", "if", "features"], at)?;
            DefKind::Event { data: check_arguments(obj)?, boxed: obj.members.contains_key("boxed") }
        }
    };
    let cond = check_if(obj.get("if"), source)?;
    let features = check_features(obj.get("features"))?;
    check_flags(obj)?;
    Ok((kind, cond, features))
}

fn check_enum(obj: &Object, permissive: bool, at: &Span) -> Res<DefKind> {
    let data = required(obj, "data", at)?;
    let Some(list) = data.as_list() else {
        return Err(Fail::at(&data.span, "'data' must be an array"));
    };
    let prefix = match obj.get("prefix") {
        None => None,
        Some(p) => match p.as_str() {
            Some(p) => Some(p.to_owned()),
            None => return Err(Fail::at(&p.span, "'prefix' must be a string")),
        },
    };
    let source = Source::Plain("'data' member");
    let mut values = Vec::with_capacity(list.len());
    for v in list {
        let (name_value, obj) = match v.as_object() {
            Some(o) => {
                check_keys(o, source, &["name"], &["if", "features"], &v.span)?;
                (required(o, "name", &v.span)?, Some(o))
            }
            None => (v, None),
        };
        let Some(name) = name_value.as_str() else {
            return Err(Fail::at(&name_value.span, format!("{source} requires a string name")));
        };
        let source = Source::Member("'data'", name);
        // Enum values may start with a digit: check them as if they
        // started with a letter.
        let checked = if name.starts_with(|c: char| c.is_ascii_digit()) {
            check_name_lower(&format!("d{name}"), source, permissive, permissive)
        } else {
            check_name_lower(name, source, permissive, permissive)
        };
        checked.map_err(|e| e.or_at(&name_value.span))?;
        let cond = check_if(obj.and_then(|o| o.get("if")), source)?;
        let features = check_features(obj.and_then(|o| o.get("features")))?;
        values.push(EnumValue { name: name.to_owned(), cond, features, span: v.span.clone() });
    }
    Ok(DefKind::Enum { values, prefix })
}

fn check_union(obj: &Object, permissive: bool, at: &Span) -> Res<DefKind> {
    let base = type_name_or_implicit(required(obj, "base", at)?, "'base'", permissive)?;
    let disc = required(obj, "discriminator", at)?;
    let Some(discriminator) = disc.as_str() else {
        return Err(Fail::at(&disc.span, "'discriminator' requires a string name"));
    };
    let data = required(obj, "data", at)?;
    let Some(members) = data.as_object() else {
        return Err(Fail::at(&data.span, "'data' must be an object"));
    };
    let mut branches = Vec::with_capacity(members.len());
    for (key, (key_span, value)) in &members.members {
        let source = Source::Member("'data'", key);
        let (cond, ty) = match value.as_object() {
            Some(o) => {
                check_keys(o, source, &["type"], &["if"], &value.span)?;
                let cond = check_if(o.get("if"), source)?;
                (cond, type_name(required(o, "type", &value.span)?, source)?)
            }
            None => (None, type_name(value, source)?),
        };
        branches.push(Branch { name: key.clone(), ty, cond, span: key_span.clone() });
    }
    Ok(DefKind::Union { base, discriminator: discriminator.to_owned(), branches })
}

fn check_alternate(obj: &Object, at: &Span) -> Res<DefKind> {
    let data = required(obj, "data", at)?;
    if !truthy(data) {
        return Err(Fail::at(&data.span, "'data' must not be empty"));
    }
    let Some(members) = data.as_object() else {
        return Err(Fail::at(&data.span, "'data' must be an object"));
    };
    let mut branches = Vec::with_capacity(members.len());
    for (key, (key_span, value)) in &members.members {
        let source = Source::Member("'data'", key);
        check_name_lower(key, source, false, false).map_err(|e| e.or_at(key_span))?;
        let (cond, ty) = match value.as_object() {
            Some(o) => {
                check_keys(o, source, &["type"], &["if"], &value.span)?;
                let cond = check_if(o.get("if"), source)?;
                let ty = type_name_or_array(required(o, "type", &value.span)?, source)?;
                (cond, ty)
            }
            None => (None, type_name_or_array(value, source)?),
        };
        branches.push(Branch { name: key.clone(), ty, cond, span: key_span.clone() });
    }
    Ok(DefKind::Alternate { branches })
}

/// The `data` of a command or event: a type name when `boxed`, else a type
/// name or members in place.
fn check_arguments(obj: &Object) -> Res<Option<Members>> {
    let data = obj.get("data");
    // QEMU tests the truth of 'boxed' here; check_flags rejects any value
    // but true later.
    if obj.get("boxed").is_some_and(truthy) {
        let Some(data) = data else {
            return Err(Fail::new("'boxed': true requires 'data'"));
        };
        return type_name(data, Source::Plain("'data'")).map(|t| Some(Members::Named(t)));
    }
    data.map(|d| type_name_or_implicit(d, "'data'", false)).transpose()
}

/// The flags of commands and events: `gen` and `success-response` may
/// only be false, the others only true; `allow-oob` excludes `coroutine`.
fn check_flags(obj: &Object) -> Res<()> {
    for key in ["gen", "success-response"] {
        if let Some(v) = obj.get(key) {
            if v.as_bool() != Some(false) {
                return Err(Fail::at(&v.span, format!("flag '{key}' may only use false value")));
            }
        }
    }
    for key in ["boxed", "allow-oob", "allow-preconfig", "coroutine"] {
        if let Some(v) = obj.get(key) {
            if v.as_bool() != Some(true) {
                return Err(Fail::at(&v.span, format!("flag '{key}' may only use true value")));
            }
        }
    }
    if obj.members.contains_key("allow-oob") && obj.members.contains_key("coroutine") {
        return Err(Fail::new("flags 'allow-oob' and 'coroutine' are incompatible"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::check::ast::{Checked, DefKind, Definition, Members};
    use crate::check::tests::{errors, first_error};

    /// The definitions of a schema that must check without error.
    fn defs(schema: &str) -> Vec<Definition> {
        let mut diags = crate::Diagnostics::default();
        let loaded = crate::syntax::load::load_str("t.json", schema, Default::default(), &mut diags);
        let checked = crate::check::check_exprs(&loaded, &mut diags);
        assert!(!diags.has_errors(), "{:?}", diags.into_vec());
        checked
            .into_iter()
            .filter_map(|c| match c {
                Checked::Definition(d) => Some(d),
                Checked::Include { .. } => None,
            })
            .collect()
    }

    fn err(schema: &str) -> String {
        first_error(schema).1
    }

    #[test]
    fn keys() {
        assert_eq!(
            err("{ 'struct': 'Bar', 'data': {}, 'phony': '1', 'bogus': 'x' }"),
            "struct has unknown keys 'bogus', 'phony'\n\
             Valid keys are 'base', 'data', 'features', 'if', 'struct'."
        );
        assert_eq!(
            err("{ 'alternate': 'Alt', 'base': 'B', 'data': { 'a': 'int' } }"),
            "alternate has unknown key 'base'\nValid keys are 'alternate', 'data', 'features', 'if'."
        );
        assert_eq!(err("{ 'enum': 'MyEnum' }"), "enum misses key 'data'");
        assert_eq!(err("{ 'union': 'Uni', 'data': {} }"), "union misses keys 'base', 'discriminator'");
        assert_eq!(err("{ 'union': 'Uni', 'base': 'B', 'data': { 'a': 'Int' } }"), "union misses key 'discriminator'");
        assert_eq!(
            err("{ 'command': 'c', 'bogus': true }"),
            "command has unknown key 'bogus'\nValid keys are 'allow-oob', 'allow-preconfig', 'boxed', \
             'command', 'coroutine', 'data', 'features', 'gen', 'if', 'returns', 'success-response'."
        );
        assert_eq!(
            err("{ 'event': 'EV', 'returns': 'X' }"),
            "event has unknown key 'returns'\nValid keys are 'boxed', 'data', 'event', 'features', 'if'."
        );
    }

    #[test]
    fn definition_names() {
        let cases = [
            ("{ 'struct': '*oops', 'data': {} }", "struct has an invalid name"),
            ("{ 'struct': 'not-a-camel', 'data': {} }", "name of struct must use CamelCase"),
            ("{ 'struct': 'FooList', 'data': {} }", "struct name should not end in 'List'"),
            ("{ 'enum': 'ABC', 'data': [] }", "name of enum must use CamelCase"),
            ("{ 'event': 'oops' }", "name of event must not use lowercase or '-'"),
            ("{ 'event': 'OOPS-X' }", "name of event must not use lowercase or '-'"),
            ("{ 'command': 'q-unix' }", "command has an invalid name"),
            ("{ 'command': 'Foo' }", "name of command must not use uppercase or '_'"),
            ("{ 'command': 'foo_bar' }", "name of command must not use uppercase or '_'"),
        ];
        for (schema, msg) in cases {
            assert_eq!(err(schema), msg, "{schema}");
        }
        assert!(errors("{ 'struct': '__com.redhat_x-FooBar', 'data': {} }").is_empty());
        assert!(errors("{ 'event': 'x-FOO_BAR' }").is_empty());
        assert!(errors("{ 'command': '__org.qemu_x-do-it' }").is_empty());
        assert!(
            errors("{ 'pragma': { 'command-name-exceptions': [ 'foo_bar' ] } }\n{ 'command': 'foo_bar' }").is_empty()
        );
    }

    #[test]
    fn members() {
        let cases = [
            ("{ 'struct': 'Foo', 'data': 'Bar' }", "'data' should be an object or type name"),
            ("{ 'struct': 'Foo', 'data': { 'a': {} } }", "'data' member 'a' misses key 'type'"),
            ("{ 'struct': 'Foo', 'data': { '*a': { 'typ': 'int' } } }", "'data' member '*a' misses key 'type'"),
            (
                "{ 'struct': 'Foo', 'data': { 'a': { 'type': 'int', 'x': 'y' } } }",
                "'data' member 'a' has unknown key 'x'\nValid keys are 'features', 'if', 'type'.",
            ),
            (
                "{ 'struct': 'Foo', 'data': { 'a': { 'type': {} } } }",
                "'data' member 'a' should be a type name or array",
            ),
            ("{ 'struct': 'Foo', 'data': { 'a': true } }", "'data' member 'a' should be a type name or array"),
            ("{ 'struct': 'Foo', 'data': { 'a': [] } }", "'data' member 'a': array type must contain single type name"),
            (
                "{ 'struct': 'Foo', 'data': { 'a': [ 'int', 'str' ] } }",
                "'data' member 'a': array type must contain single type name",
            ),
            (
                "{ 'struct': 'Foo', 'data': { 'a': [ ['int'] ] } }",
                "'data' member 'a': array type must contain single type name",
            ),
            ("{ 'struct': 'Foo', 'data': { '*u': 'int' } }", "'data' member '*u' uses reserved name"),
            ("{ 'struct': 'Foo', 'data': { 'has-a': 'int' } }", "'data' member 'has-a' uses reserved name"),
            ("{ 'struct': 'Foo', 'data': { 'q-unix': 'int' } }", "'data' member 'q-unix' has an invalid name"),
            ("{ 'struct': 'Foo', 'data': { '_oops': 'int' } }", "'data' member '_oops' has an invalid name"),
            ("{ 'struct': 'Foo', 'data': { '**a': 'int' } }", "'data' member '**a' has an invalid name"),
            (
                "{ 'struct': 'Foo', 'data': { 'Arg': 'int' } }",
                "name of 'data' member 'Arg' must not use uppercase or '_'",
            ),
            ("{ 'struct': 'Foo', 'data': {}, 'base': {} }", "'base' should be a type name"),
            ("{ 'command': 'foo', 'data': ['Foo'] }", "'data' should be an object or type name"),
            (
                "{ 'event': 'EV', 'data': { 'a': { 'type': { 'b': 'int' } } } }",
                "'data' member 'a' should be a type name or array",
            ),
            ("{ 'command': 'oops', 'data': { 'has-a': 'int' } }", "'data' member 'has-a' uses reserved name"),
        ];
        for (schema, msg) in cases {
            assert_eq!(err(schema), msg, "{schema}");
        }
        // member-name-exceptions lets a type's members use upper case and '_'.
        assert!(errors(
            "{ 'pragma': { 'member-name-exceptions': [ 'Foo' ] } }\n\
             { 'struct': 'Foo', 'data': { 'Arg_x': 'int' } }\n\
             { 'enum': 'Bar', 'data': [ 'a' ] }"
        )
        .is_empty());
        assert_eq!(
            first_error(
                "{ 'pragma': { 'member-name-exceptions': [ 'Foo' ] } }\n\
                 { 'struct': 'Foo', 'data': { 'u': 'int' } }"
            ),
            (2, "'data' member 'u' uses reserved name".into())
        );
    }

    #[test]
    fn members_are_normalized() {
        let d = defs(
            "{ 'struct': 'Foo', 'base': 'Base',\n\
               'data': { 'a': 'int', '*b': ['str'], 'c': { 'type': 'Bar', 'if': 'X', 'features': ['f'] } } }",
        );
        let DefKind::Struct { base, members } = &d[0].kind else { panic!("not a struct") };
        assert_eq!(base.as_ref().map(|b| b.name.as_str()), Some("Base"));
        let shape: Vec<_> = members
            .iter()
            .map(|m| (m.name.as_str(), m.optional, m.ty.name.as_str(), m.ty.array, m.cond.is_some(), m.features.len()))
            .collect();
        assert_eq!(
            shape,
            [
                ("a", false, "int", false, false, 0),
                ("b", true, "str", true, false, 0),
                ("c", false, "Bar", false, true, 1)
            ]
        );
        assert_eq!(members[2].span.line_col(), (2, 38));
    }

    #[test]
    fn enums() {
        let cases = [
            ("{ 'enum': 'MyEnum', 'data': { 'a': 'b' } }", "'data' must be an array"),
            ("{ 'enum': 'MyEnum', 'data': [], 'prefix': ['x'] }", "'prefix' must be a string"),
            ("{ 'enum': 'MyEnum', 'data': [ [ ] ] }", "'data' member requires a string name"),
            ("{ 'enum': 'MyEnum', 'data': [ { 'name': true } ] }", "'data' member requires a string name"),
            ("{ 'enum': 'MyEnum', 'data': [ { 'if': 'X' } ] }", "'data' member misses key 'name'"),
            (
                "{ 'enum': 'MyEnum', 'data': [ { 'name': 'a', 'bad-key': 'x' } ] }",
                "'data' member has unknown key 'bad-key'\nValid keys are 'features', 'if', 'name'.",
            ),
            (
                "{ 'enum': 'MyEnum', 'data': [ 'not\\\\possible' ] }",
                "'data' member 'not\\possible' has an invalid name",
            ),
            (
                "{ 'enum': 'MyEnum', 'data': [ 'Value' ] }",
                "name of 'data' member 'Value' must not use uppercase or '_'",
            ),
            ("{ 'enum': 'MyEnum', 'data': [ 'q-Unix' ] }", "'data' member 'q-Unix' has an invalid name"),
            ("{ 'enum': 'MyEnum', 'data': [ '' ] }", "'data' member '' has an invalid name"),
            ("{ 'enum': 'MyEnum', 'data': [ { 'name': 'a', 'features': 'f' } ] }", "'features' must be an array"),
        ];
        for (schema, msg) in cases {
            assert_eq!(err(schema), msg, "{schema}");
        }
        let d = defs("{ 'enum': 'MyEnum', 'prefix': 'PFX', 'data': [ '1st', 'two', { 'name': 'three', 'if': 'X', 'features': [ 'f' ] } ] }");
        let DefKind::Enum { values, prefix } = &d[0].kind else { panic!("not an enum") };
        assert_eq!(prefix.as_deref(), Some("PFX"));
        let names: Vec<_> = values.iter().map(|v| (v.name.as_str(), v.cond.is_some(), v.features.len())).collect();
        assert_eq!(names, [("1st", false, 0), ("two", false, 0), ("three", true, 1)]);
    }

    #[test]
    fn unions() {
        let cases = [
            ("{ 'union': 'Uni', 'base': 'B', 'discriminator': 'k', 'data': [] }", "'data' must be an object"),
            ("{ 'union': 'Uni', 'base': 'B', 'discriminator': {}, 'data': {} }", "'discriminator' requires a string name"),
            ("{ 'union': 'Uni', 'base': ['B'], 'discriminator': 'k', 'data': {} }", "'base' should be an object or type name"),
            ("{ 'union': 'Uni', 'base': { 'Bad': 'E' }, 'discriminator': 'k', 'data': {} }", "name of 'base' member 'Bad' must not use uppercase or '_'"),
            ("{ 'union': 'Uni', 'base': 'B', 'discriminator': 'k', 'data': { 'a': ['T'] } }", "'data' member 'a' should be a type name"),
            ("{ 'union': 'Uni', 'base': 'B', 'discriminator': 'k', 'data': { 'a': { 'type': 'T', 'features': [] } } }", "'data' member 'a' has unknown key 'features'\nValid keys are 'if', 'type'."),
            ("{ 'union': 'Uni', 'base': 'B', 'discriminator': 'k', 'data': { 'a': { 'if': '' } } }", "'data' member 'a' misses key 'type'"),
            ("{ 'union': 'Uni', 'base': 'B', 'discriminator': 'k', 'data': { 'a': { 'type': 'T', 'if': '' } } }", "'if' condition '' of 'data' member 'a' is not a valid identifier"),
        ];
        for (schema, msg) in cases {
            assert_eq!(err(schema), msg, "{schema}");
        }
        // Branch names are checked against the discriminator's enum later,
        // not here.
        let d = defs(
            "{ 'union': 'Uni', 'base': { 'kind': 'Kind', '*x': 'int' }, 'discriminator': 'kind',\n\
               'data': { 'value_1': 'A', 'b': { 'type': 'B', 'if': 'CONFIG_B' } } }",
        );
        let DefKind::Union { base, discriminator, branches } = &d[0].kind else { panic!("not a union") };
        assert!(matches!(base, Members::Inline(m) if m.len() == 2 && m[1].optional));
        assert_eq!(discriminator, "kind");
        let b: Vec<_> = branches.iter().map(|b| (b.name.as_str(), b.ty.name.as_str(), b.cond.is_some())).collect();
        assert_eq!(b, [("value_1", "A", false), ("b", "B", true)]);
    }

    #[test]
    fn alternates() {
        let cases = [
            ("{ 'alternate': 'Alt', 'data': {} }", "'data' must not be empty"),
            ("{ 'alternate': 'Alt', 'data': '' }", "'data' must not be empty"),
            ("{ 'alternate': 'Alt', 'data': [ 'a' ] }", "'data' must be an object"),
            (
                "{ 'alternate': 'Alt', 'data': { 'a_b': 'int' } }",
                "name of 'data' member 'a_b' must not use uppercase or '_'",
            ),
            ("{ 'alternate': 'Alt', 'data': { '*a': 'int' } }", "'data' member '*a' has an invalid name"),
            ("{ 'alternate': 'Alt', 'data': { 'a': { 'typ': 'int' } } }", "'data' member 'a' misses key 'type'"),
            ("{ 'alternate': 'Alt', 'data': { 'a': {} } }", "'data' member 'a' misses key 'type'"),
            (
                "{ 'alternate': 'Alt', 'data': { 'a': [] } }",
                "'data' member 'a': array type must contain single type name",
            ),
        ];
        for (schema, msg) in cases {
            assert_eq!(err(schema), msg, "{schema}");
        }
        let d = defs("{ 'alternate': 'Alt', 'data': { 'a': 'int', 'l': ['str'] } }");
        let DefKind::Alternate { branches } = &d[0].kind else { panic!("not an alternate") };
        assert!(branches[1].ty.array && branches[1].ty.name == "str");
    }

    #[test]
    fn commands_and_events() {
        let cases = [
            ("{ 'command': 'foo', 'boxed': true }", "'boxed': true requires 'data'"),
            ("{ 'event': 'FOO', 'boxed': true }", "'boxed': true requires 'data'"),
            ("{ 'command': 'foo', 'boxed': 'yes' }", "'boxed': true requires 'data'"),
            ("{ 'command': 'foo', 'boxed': true, 'data': { 'a': 'int' } }", "'data' should be a type name"),
            ("{ 'command': 'foo', 'boxed': false, 'data': { 'a': 'int' } }", "flag 'boxed' may only use true value"),
            ("{ 'command': 'foo', 'boxed': false }", "flag 'boxed' may only use true value"),
            ("{ 'command': 'foo', 'data': true }", "'data' should be an object or type name"),
            ("{ 'command': 'foo', 'returns': { 'a': 'int' } }", "'returns' should be a type name or array"),
            ("{ 'command': 'foo', 'returns': [] }", "'returns': array type must contain single type name"),
            ("{ 'command': 'foo', 'gen': true }", "flag 'gen' may only use false value"),
            ("{ 'command': 'foo', 'success-response': 'no' }", "flag 'success-response' may only use false value"),
            ("{ 'command': 'foo', 'allow-oob': false }", "flag 'allow-oob' may only use true value"),
            ("{ 'command': 'foo', 'allow-preconfig': 'true' }", "flag 'allow-preconfig' may only use true value"),
            ("{ 'command': 'foo', 'coroutine': false }", "flag 'coroutine' may only use true value"),
            (
                "{ 'command': 'foo', 'allow-oob': true, 'coroutine': true }",
                "flags 'allow-oob' and 'coroutine' are incompatible",
            ),
            // 'if' comes after the kind's own checks, features after 'if',
            // flags last.
            (
                "{ 'command': 'foo', 'gen': true, 'features': '1', 'if': '' }",
                "'if' condition '' of command is not a valid identifier",
            ),
            ("{ 'command': 'foo', 'gen': true, 'features': 'f' }", "'features' must be an array"),
        ];
        for (schema, msg) in cases {
            assert_eq!(err(schema), msg, "{schema}");
        }
        let d = defs(
            "{ 'command': 'c1', 'data': 'Args', 'boxed': true, 'returns': ['Info'], 'gen': false,\n\
               'success-response': false, 'allow-oob': true, 'allow-preconfig': true }\n\
             { 'command': 'c2', 'data': { '*a': 'int' }, 'coroutine': true }\n\
             { 'event': 'EV', 'data': 'Args', 'boxed': true }\n\
             { 'event': 'EV2' }",
        );
        let DefKind::Command { data, returns, boxed, gen, success_response, allow_oob, allow_preconfig, coroutine } =
            &d[0].kind
        else {
            panic!("not a command")
        };
        assert!(matches!(data, Some(Members::Named(t)) if t.name == "Args"));
        assert!(matches!(returns, Some(t) if t.array && t.name == "Info"));
        assert!(*boxed && !*gen && !*success_response && *allow_oob && *allow_preconfig && !*coroutine);
        let DefKind::Command { data, returns, boxed, gen, success_response, coroutine, .. } = &d[1].kind else {
            panic!("not a command")
        };
        assert!(matches!(data, Some(Members::Inline(m)) if m.len() == 1 && m[0].optional));
        assert!(returns.is_none() && !*boxed && *gen && *success_response && *coroutine);
        assert!(matches!(&d[2].kind, DefKind::Event { data: Some(Members::Named(_)), boxed: true }));
        assert!(matches!(&d[3].kind, DefKind::Event { data: None, boxed: false }));
    }

    #[test]
    fn features() {
        let cases = [
            ("{ 'struct': 'Foo', 'data': {}, 'features': 'f' }", "'features' must be an array"),
            ("{ 'struct': 'Foo', 'data': {}, 'features': [ ['f'] ] }", "'features' member requires a string name"),
            (
                "{ 'struct': 'Foo', 'data': {}, 'features': [ { 'name': {} } ] }",
                "'features' member requires a string name",
            ),
            ("{ 'struct': 'Foo', 'data': {}, 'features': [ { 'if': 'X' } ] }", "'features' member misses key 'name'"),
            (
                "{ 'struct': 'Foo', 'data': {}, 'features': [ { 'name': 'f', 'colour': 'x' } ] }",
                "'features' member has unknown key 'colour'\nValid keys are 'if', 'name'.",
            ),
            (
                "{ 'struct': 'Foo', 'data': {}, 'features': [ 'Bad' ] }",
                "name of 'features' member 'Bad' must not use uppercase or '_'",
            ),
            ("{ 'struct': 'Foo', 'data': {}, 'features': [ 'q-x' ] }", "'features' member 'q-x' has an invalid name"),
            (
                "{ 'struct': 'Foo', 'data': {}, 'features': [ { 'name': 'f', 'if': true } ] }",
                "'if' condition of 'features' member 'f' must be a string or an object",
            ),
        ];
        for (schema, msg) in cases {
            assert_eq!(err(schema), msg, "{schema}");
        }
        let d = defs("{ 'struct': 'Foo', 'data': {}, 'features': [ 'deprecated', { 'name': 'x-f', 'if': 'X' } ] }");
        let f: Vec<_> = d[0].features.iter().map(|f| (f.name.as_str(), f.cond.is_some())).collect();
        assert_eq!(f, [("deprecated", false), ("x-f", true)]);
    }

    #[test]
    fn reported_at_the_first_line_or_on_it() {
        // QEMU reports at the definition's first line: a precise place is
        // used only when it is on that line.
        let out = crate::Frontend::new().check_str(
            "t.json",
            "{ 'struct': 'Foo',\n  'data': { 'a': 'int',\n            'Bad': 'str' } }\n{ 'command': 'c', 'gen': true }\n",
        );
        let at: Vec<_> = out.diagnostics.iter().map(|d| d.span.line_col()).collect();
        assert_eq!(at, [(1, 1), (4, 26)]);
    }
}
