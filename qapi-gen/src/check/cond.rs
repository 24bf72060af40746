//! `if` conditions: a configuration symbol, or `all`, `any`, `not` of
//! conditions.

use super::ast::Cond;
use super::keys::check_keys;
use super::{Fail, Res, Source};
use crate::syntax::{Value, ValueKind};

/// True for a configuration symbol: an upper-case letter, then upper-case
/// letters, digits and `_`.
fn is_symbol(s: &str) -> bool {
    let b = s.as_bytes();
    matches!(b.first(), Some(c) if c.is_ascii_uppercase())
        && b[1..].iter().all(|&c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_')
}

/// Checks the `if` member of something described by `source`.
pub(crate) fn check_if(value: Option<&Value>, source: Source<'_>) -> Res<Option<Cond>> {
    value.map(|v| cond(v, source)).transpose()
}

fn cond(value: &Value, source: Source<'_>) -> Res<Cond> {
    let obj = match &value.kind {
        ValueKind::Str(s) => {
            if !is_symbol(s) {
                return Err(Fail::at(
                    &value.span,
                    format!("'if' condition '{s}' of {source} is not a valid identifier"),
                ));
            }
            return Ok(Cond::Name(s.clone()));
        }
        ValueKind::Object(obj) => obj,
        _ => return Err(Fail::at(&value.span, format!("'if' condition of {source} must be a string or an object"))),
    };
    check_keys(obj, Source::IfOf(&source), &[], &["all", "any", "not"], &value.span)?;
    let mut entries = obj.iter();
    let (op, operand) = match (entries.next(), entries.next()) {
        (Some(only), None) => only,
        _ => return Err(Fail::at(&value.span, format!("'if' condition of {source} has conflicting keys"))),
    };
    if op == "not" {
        return Ok(Cond::Not(Box::new(cond(operand, source)?)));
    }
    let Some(list) = operand.as_list() else {
        return Err(Fail::at(&operand.span, format!("'{op}' condition of {source} must be an array")));
    };
    if list.is_empty() {
        return Err(Fail::at(&operand.span, format!("'if' condition [] of {source} is useless")));
    }
    let conds = list.iter().map(|c| cond(c, source)).collect::<Res<Vec<_>>>()?;
    Ok(if op == "all" { Cond::All(conds) } else { Cond::Any(conds) })
}

#[cfg(test)]
mod tests {
    use crate::check::tests::{errors, first_error};
    use crate::check::{ast::Cond, ast::DefKind, Checked};

    fn cond_of(schema: &str) -> Option<Cond> {
        let mut diags = crate::Diagnostics::default();
        let loaded = crate::syntax::load::load_str("t.json", schema, Default::default(), &mut diags);
        let checked = crate::check::check_exprs(&loaded, &mut diags);
        assert!(!diags.has_errors(), "{:?}", diags.into_vec());
        match checked.into_iter().next() {
            Some(Checked::Definition(d)) => {
                assert!(matches!(d.kind, DefKind::Struct { .. }));
                d.cond
            }
            _ => None,
        }
    }

    #[test]
    fn conditions_are_converted() {
        assert_eq!(cond_of("{ 'struct': 'Str', 'data': {}, 'if': 'CONFIG_A' }"), Some(Cond::Name("CONFIG_A".into())));
        assert_eq!(
            cond_of(
                "{ 'struct': 'Str', 'data': {}, \
                 'if': { 'all': [ 'A', { 'not': 'B' }, { 'any': [ 'C', 'D_1' ] } ] } }"
            ),
            Some(Cond::All(vec![
                Cond::Name("A".into()),
                Cond::Not(Box::new(Cond::Name("B".into()))),
                Cond::Any(vec![Cond::Name("C".into()), Cond::Name("D_1".into())]),
            ]))
        );
    }

    #[test]
    fn bad_conditions() {
        let cases = [
            ("'if': ''", "'if' condition '' of struct is not a valid identifier"),
            ("'if': 'foo'", "'if' condition 'foo' of struct is not a valid identifier"),
            ("'if': ['A']", "'if' condition of struct must be a string or an object"),
            (
                "'if': { 'value': 'A' }",
                "'if' condition of struct has unknown key 'value'\nValid keys are 'all', 'any', 'not'.",
            ),
            ("'if': { 'all': ['A'], 'any': ['B'] }", "'if' condition of struct has conflicting keys"),
            ("'if': {}", "'if' condition of struct has conflicting keys"),
            ("'if': { 'all': 'A' }", "'all' condition of struct must be an array"),
            ("'if': { 'any': [] }", "'if' condition [] of struct is useless"),
            ("'if': { 'not': { 'any': [ 'a' ] } }", "'if' condition 'a' of struct is not a valid identifier"),
        ];
        for (cond, msg) in cases {
            let schema = format!("{{ 'struct': 'Str', 'data': {{}}, {cond} }}");
            assert_eq!(first_error(&schema), (1, msg.to_owned()), "{cond}");
        }
    }

    #[test]
    fn member_conditions_name_their_member() {
        let e = errors(
            "{ 'struct': 'Str',\n  'data': { 'm': { 'type': 'int', 'if': 'x' } } }\n\
             { 'enum': 'Enu', 'data': [ { 'name': 'v', 'if': true } ] }\n\
             { 'alternate': 'Alt', 'data': { 'b': { 'type': 'int', 'if': ' ' } } }\n\
             { 'struct': 'Fea', 'data': {}, 'features': [ { 'name': 'f', 'if': [] } ] }\n",
        );
        assert_eq!(
            e,
            vec![
                (1, "'if' condition 'x' of 'data' member 'm' is not a valid identifier".into()),
                (3, "'if' condition of 'data' member 'v' must be a string or an object".into()),
                (4, "'if' condition ' ' of 'data' member 'b' is not a valid identifier".into()),
                (5, "'if' condition of 'features' member 'f' must be a string or an object".into()),
            ]
        );
    }
}
