//! `check` reports every independent problem in one run: the whole-schema
//! checks (unknown types, documentation binding) run on the definitions
//! that passed their own checks, and what refers to a definition that
//! failed draws no knock-on error.

use qapi_gen::Frontend;

/// Four mistakes, each in its own definition and found by a different
/// stage, and definitions that use the broken ones.
const SCHEMA: &str = "\
{ 'struct': 'Alpha', 'data': { 'a': 'int' }, 'bogus': true }
{ 'struct': 'beta', 'data': {} }
{ 'struct': 'Gamma', 'data': { 'g': 'Nope' } }
##
# @Delta:
#
# @d: a member
#
# @e: not a member
##
{ 'struct': 'Delta', 'data': { 'd': 'int' } }
{ 'struct': 'UsesAlpha', 'base': 'Alpha', 'data': { 'b': 'beta' } }
{ 'command': 'use-them', 'data': { 'x': 'UsesAlpha' }, 'returns': 'Delta' }
{ 'event': 'EVENT', 'data': { 'list': ['beta'] } }
{ 'struct': 'Fine', 'data': { 'delta': 'Delta' } }
";

#[test]
fn independent_mistakes_are_all_reported_once() {
    let out = Frontend::new().check_str("t.json", SCHEMA);
    let errors: Vec<(u32, &str)> =
        out.diagnostics.iter().filter(|d| d.is_error()).map(|d| (d.span.line(), d.message.as_str())).collect();
    assert_eq!(
        errors,
        [
            (1, "struct has unknown key 'bogus'\nValid keys are 'base', 'data', 'features', 'if', 'struct'."),
            (2, "name of struct must use CamelCase"),
            (3, "member 'g' uses unknown type 'Nope'"),
            (9, "documented member 'e' does not exist"),
        ],
        "{}",
        out.diagnostics.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
    );
    assert!(!out.is_valid());
}

/// A file that does not parse hides its definitions: what refers to them
/// is not checked as a whole (the references can't be told from mistakes).
#[test]
fn unknown_definitions_stop_the_whole_schema_checks() {
    let out = Frontend::new()
        .check_str("t.json", "{ 'struct': 'Alpha', 'data': { 'x': 'FromBroken' } }\n{ 'include': 'nope.json' }\n");
    let errors: Vec<&str> = out.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.message.as_str()).collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("can't read include file 'nope.json'"), "{errors:?}");
}
