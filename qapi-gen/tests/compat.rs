//! `qapi-gen compat`: each compatibility rule on small schemas, in both
//! directions; the `Since:` lint (the command line: qapi-gen-cli's tests).

use qapi_gen::compat::{self, Change, ChangeKind, Direction, Options, Report, Severity};
use qapi_gen::Frontend;

fn schema(name: &str, text: &str) -> qapi_gen::Checked {
    let out = Frontend::new().check_str(name, text);
    assert!(
        out.is_valid(),
        "{name} is invalid: {:?}",
        out.diagnostics.iter().map(ToString::to_string).collect::<Vec<_>>()
    );
    out
}

fn compare_with(old: &str, new: &str, opts: &Options) -> Report {
    let o = schema("old.json", old);
    let n = schema("new.json", new);
    compat::compare(&o.schema, &n.schema, opts)
}

fn compare(old: &str, new: &str) -> Report {
    compare_with(old, new, &Options::default())
}

/// The changes other than documentation edits, as `severity kind subject`.
fn summary(r: &Report) -> Vec<String> {
    r.changes
        .iter()
        .filter(|c| c.kind != ChangeKind::DocChanged)
        .map(|c| format!("{} {} {}", c.severity.as_str(), c.kind.as_str(), c.subject))
        .collect()
}

fn only<'a>(r: &'a Report, subject: &str) -> &'a Change {
    let found: Vec<&Change> = r.changes.iter().filter(|c| c.subject == subject).collect();
    assert_eq!(found.len(), 1, "{subject}: {:#?}", summary(r));
    found[0]
}

/// A command taking `args` and returning `ret`, both spelled in QAPI.
fn cmd(types: &str, args: &str, ret: &str) -> String {
    format!("{types}\n{{ 'command': 'cmd', 'data': {args}, 'returns': '{ret}' }}\n")
}

// ---------------------------------------------------------------------------
// Commands and events

#[test]
fn command_removed_breaks_added_is_compatible() {
    let r = compare("{ 'command': 'stop' }\n{ 'command': 'cont' }", "{ 'command': 'cont' }\n{ 'command': 'quit' }");
    assert_eq!(summary(&r), ["breaking command-removed stop", "compatible command-added quit"]);
    let c = only(&r, "stop");
    assert_eq!(c.message, "command removed", "no rename hint between commands without arguments or results");
    assert_eq!(c.old.as_ref().map(|s| s.location()).as_deref(), Some("old.json:1:1"));
    assert!(c.new.is_some(), "a removal is placed in the new schema's file");
    assert!(r.is_breaking());
    // Back again: nothing breaks.
    let r = compare(
        "{ 'command': 'cont' }\n{ 'command': 'quit' }",
        "{ 'command': 'stop' }\n{ 'command': 'cont' }\n{ 'command': 'quit' }",
    );
    assert!(!r.is_breaking());
}

#[test]
fn event_removed_breaks_added_is_compatible() {
    let r = compare("{ 'event': 'STOP' }", "{ 'event': 'RESUME' }");
    assert_eq!(summary(&r), ["breaking event-removed STOP", "compatible event-added RESUME"]);
}

#[test]
fn rename_is_a_removal_with_a_hint() {
    let r = compare(
        "{ 'struct': 'Info', 'data': { 'n': 'int' } }\n{ 'command': 'query-x', 'data': { 'id': 'str' }, 'returns': ['Info'] }",
        "{ 'struct': 'XInfo', 'data': { 'n': 'int' } }\n{ 'command': 'x-query', 'data': { 'id': 'str' }, 'returns': ['XInfo'] }",
    );
    let c = only(&r, "query-x");
    assert_eq!(c.severity, Severity::Breaking);
    assert!(c.message.contains("renamed to 'x-query'"), "{}", c.message);
}

#[test]
fn command_flags_taken_away_break() {
    let r = compare(
        "{ 'command': 'a', 'allow-oob': true }\n{ 'command': 'b', 'allow-preconfig': true }\n{ 'command': 'c' }",
        "{ 'command': 'a' }\n{ 'command': 'b' }\n{ 'command': 'c', 'allow-oob': true }",
    );
    assert_eq!(
        summary(&r),
        ["breaking flag-changed a", "breaking flag-changed b", "compatible flag-changed c"],
        "{:#?}",
        r.changes
    );
}

// ---------------------------------------------------------------------------
// Arguments (input)

#[test]
fn argument_added_required_breaks_optional_does_not() {
    let r = compare(
        "{ 'command': 'cmd', 'data': { 'a': 'int' } }",
        "{ 'command': 'cmd', 'data': { 'a': 'int', 'b': 'int', '*c': 'int' } }",
    );
    assert_eq!(summary(&r), ["breaking member-added cmd.b", "compatible member-added cmd.c"]);
    let b = only(&r, "cmd.b");
    assert_eq!(b.direction, Some(Direction::Input));
    assert_eq!(b.message, "added as required");
    assert_eq!(b.paths, ["cmd.b"]);
    assert_eq!(b.new.as_ref().map(|s| s.location()).as_deref(), Some("new.json:1:43"));
}

#[test]
fn argument_optional_to_required_breaks_and_back_does_not() {
    let old = "{ 'command': 'cmd', 'data': { '*a': 'int' } }";
    let new = "{ 'command': 'cmd', 'data': { 'a': 'int' } }";
    assert_eq!(summary(&compare(old, new)), ["breaking made-required cmd.a"]);
    assert_eq!(summary(&compare(new, old)), ["compatible made-optional cmd.a"]);
}

#[test]
fn argument_removed_breaks_senders() {
    let r = compare(
        "{ 'command': 'cmd', 'data': { 'a': 'int', '*b': 'str' } }",
        "{ 'command': 'cmd', 'data': { 'a': 'int' } }",
    );
    let c = only(&r, "cmd.b");
    assert_eq!((c.severity, c.kind), (Severity::Breaking, ChangeKind::MemberRemoved));
    assert!(c.why.contains("send"), "{}", c.why);
    assert_eq!(c.old.as_ref().map(|s| s.location()).as_deref(), Some("old.json:1:43"));
}

#[test]
fn integer_narrowed_breaks_input_widened_breaks_output() {
    let types = "{ 'struct': 'Stats', 'data': { 'n': 'TY' } }";
    let old = cmd(&types.replace("TY", "int"), "{ 's': 'Stats' }", "Stats");
    let new = cmd(&types.replace("TY", "int32"), "{ 's': 'Stats' }", "Stats");
    // int → int32: senders may be rejected; readers are fine.
    let r = compare(&old, &new);
    let c: Vec<&Change> = r.changes.iter().filter(|c| c.subject == "Stats.n").collect();
    assert_eq!(c.len(), 2, "{:#?}", summary(&r));
    let input = c.iter().find(|c| c.direction == Some(Direction::Input)).unwrap();
    let output = c.iter().find(|c| c.direction == Some(Direction::Output)).unwrap();
    assert_eq!((input.severity, input.kind), (Severity::Breaking, ChangeKind::TypeNarrowed));
    assert_eq!(input.message, "int → int32");
    assert_eq!(input.paths, ["cmd.s → Stats.n"]);
    assert_eq!(output.severity, Severity::Compatible);
    // int32 → int: the other way round.
    let r = compare(&new, &old);
    let out: Vec<&Change> = r.changes.iter().filter(|c| c.severity == Severity::Breaking).collect();
    assert_eq!(out.len(), 1, "{:#?}", summary(&r));
    assert_eq!((out[0].kind, out[0].direction), (ChangeKind::TypeWidened, Some(Direction::Output)));
    assert_eq!(out[0].paths, ["cmd → Stats.n"]);
}

#[test]
fn size_and_uint64_are_the_same_wire_type() {
    let r = compare(
        "{ 'struct': 'Stats', 'data': { 'n': 'uint64', 'm': 'int' } }\n{ 'command': 'cmd', 'data': 'Stats', 'returns': 'Stats' }",
        "{ 'struct': 'Stats', 'data': { 'n': 'size', 'm': 'int64' } }\n{ 'command': 'cmd', 'data': 'Stats', 'returns': 'Stats' }",
    );
    assert!(summary(&r).is_empty(), "{:#?}", summary(&r));
}

#[test]
fn str_to_enum_breaks_input_enum_to_str_breaks_output() {
    let e = "{ 'enum': 'Mode', 'data': [ 'on', 'off' ] }";
    let old = format!("{e}\n{{ 'command': 'set', 'data': {{ 'mode': 'str' }} }}\n{{ 'event': 'CHANGED', 'data': {{ 'mode': 'Mode' }} }}");
    let new = format!("{e}\n{{ 'command': 'set', 'data': {{ 'mode': 'Mode' }} }}\n{{ 'event': 'CHANGED', 'data': {{ 'mode': 'str' }} }}");
    let r = compare(&old, &new);
    assert_eq!(
        summary(&r),
        ["breaking type-narrowed set.mode", "breaking type-widened CHANGED.mode"],
        "{:#?}",
        r.changes
    );
    // Reversed: both directions become compatible.
    assert!(!compare(&new, &old).is_breaking());
}

#[test]
fn any_narrowed_in_input_widened_in_output() {
    let r = compare(
        "{ 'command': 'set', 'data': { 'v': 'any' } }\n{ 'event': 'GOT', 'data': { 'v': 'str' } }",
        "{ 'command': 'set', 'data': { 'v': 'str' } }\n{ 'event': 'GOT', 'data': { 'v': 'any' } }",
    );
    assert_eq!(summary(&r), ["breaking type-narrowed set.v", "breaking type-widened GOT.v"]);
    let r = compare("{ 'command': 'set', 'data': { 'v': 'any' } }", "{ 'command': 'set', 'data': { 'v': 'any' } }");
    assert!(summary(&r).is_empty());
}

// ---------------------------------------------------------------------------
// Returned members and event data (output)

#[test]
fn returned_member_made_optional_breaks_readers() {
    let old = "{ 'struct': 'Info', 'data': { 'a': 'int', '*b': 'int' } }\n{ 'command': 'query', 'returns': 'Info' }";
    let new = "{ 'struct': 'Info', 'data': { '*a': 'int', 'b': 'int' } }\n{ 'command': 'query', 'returns': 'Info' }";
    let r = compare(old, new);
    assert_eq!(summary(&r), ["breaking made-optional Info.a", "compatible made-required Info.b"]);
    assert_eq!(only(&r, "Info.a").paths, ["query → Info.a"]);
    assert_eq!(only(&r, "Info.a").direction, Some(Direction::Output));
}

#[test]
fn returned_member_removed_breaks_optional_one_warns() {
    let old = "{ 'struct': 'Info', 'data': { 'a': 'int', '*b': 'int', 'c': 'int' } }\n{ 'command': 'query', 'returns': 'Info' }";
    let new = "{ 'struct': 'Info', 'data': { 'c': 'int', 'd': 'int' } }\n{ 'command': 'query', 'returns': 'Info' }";
    let r = compare(old, new);
    assert_eq!(
        summary(&r),
        ["breaking member-removed Info.a", "warning member-removed Info.b", "compatible member-added Info.d"]
    );
}

#[test]
fn event_member_made_optional_breaks_readers() {
    let r = compare("{ 'event': 'EV', 'data': { 'id': 'str' } }", "{ 'event': 'EV', 'data': { '*id': 'str' } }");
    assert_eq!(summary(&r), ["breaking made-optional EV.id"]);
    assert_eq!(only(&r, "EV.id").paths, ["EV.id"]);
}

#[test]
fn alternate_in_output_widens_in_input_widens_harmlessly() {
    // T → alternate of T and null: fine for what clients send, not for
    // what they read.
    let alt = "{ 'alternate': 'StrOrNull', 'data': { 's': 'str', 'n': 'null' } }";
    let old = format!("{alt}\n{{ 'struct': 'Params', 'data': {{ '*creds': 'str' }} }}\n{{ 'command': 'set', 'data': 'Params' }}\n{{ 'command': 'get', 'returns': 'Params' }}");
    let new = format!("{alt}\n{{ 'struct': 'Params', 'data': {{ '*creds': 'StrOrNull' }} }}\n{{ 'command': 'set', 'data': 'Params' }}\n{{ 'command': 'get', 'returns': 'Params' }}");
    let r = compare(&old, &new);
    let breaking: Vec<&Change> = r.changes.iter().filter(|c| c.severity == Severity::Breaking).collect();
    assert_eq!(breaking.len(), 1, "{:#?}", summary(&r));
    assert_eq!(breaking[0].direction, Some(Direction::Output));
    assert_eq!(breaking[0].subject, "Params.creds");
    assert!(breaking[0].message.starts_with("may now be null"), "{}", breaking[0].message);
    // The alternate losing its null branch again: senders of null break.
    let r = compare(&new, &old);
    let breaking: Vec<&Change> = r.changes.iter().filter(|c| c.severity == Severity::Breaking).collect();
    assert_eq!(breaking.len(), 1, "{:#?}", summary(&r));
    assert_eq!((breaking[0].direction, breaking[0].kind), (Some(Direction::Input), ChangeKind::TypeNarrowed));
}

// ---------------------------------------------------------------------------
// Enums

#[test]
fn enum_value_removed_breaks_input_added_warns_output() {
    let old = "{ 'enum': 'Color', 'data': [ 'a', 'b' ] }\n{ 'command': 'set', 'data': { 'e': 'Color' } }\n{ 'event': 'GOT', 'data': { 'e': 'Color' } }";
    let new = "{ 'enum': 'Color', 'data': [ 'a', 'c' ] }\n{ 'command': 'set', 'data': { 'e': 'Color' } }\n{ 'event': 'GOT', 'data': { 'e': 'Color' } }";
    let r = compare(old, new);
    assert_eq!(
        summary(&r),
        [
            "breaking value-removed Color 'b'",
            "warning value-added Color 'c'",
            "compatible value-removed Color 'b'",
            "compatible value-added Color 'c'"
        ],
        "{:#?}",
        r.changes
    );
    let removed = r.changes.iter().find(|c| c.severity == Severity::Breaking).unwrap();
    assert_eq!(removed.paths, ["set.e → Color 'b'"]);
    assert_eq!(removed.old.as_ref().map(|s| s.location()).as_deref(), Some("old.json:1:35"));
}

// ---------------------------------------------------------------------------
// Unions, alternates, bases

const UNION: &str = "
{ 'enum': 'Kind', 'data': [ 'file', 'net' ] }
{ 'struct': 'FileOpts', 'data': { 'path': 'str' } }
{ 'struct': 'NetOpts', 'data': { 'host': 'str' } }
{ 'union': 'Opts', 'base': { 'kind': 'Kind', '*id': 'str' }, 'discriminator': 'kind',
  'data': { 'file': 'FileOpts', 'net': 'NetOpts' } }
{ 'command': 'add', 'data': 'Opts', 'boxed': true }
{ 'command': 'query', 'returns': ['Opts'] }
";

#[test]
fn union_branch_member_changes_are_reached_through_the_branch() {
    let new = UNION.replace("'data': { 'path': 'str' }", "'data': { 'path': 'str', 'mode': 'str' }");
    let r = compare(UNION, &new);
    assert_eq!(summary(&r), ["breaking member-added FileOpts.mode", "compatible member-added FileOpts.mode"]);
    let c = r.changes.iter().find(|c| c.severity == Severity::Breaking).unwrap();
    assert_eq!(c.paths, ["add → Opts(file) → FileOpts.mode"]);
    // And removing it again breaks readers.
    let r = compare(&new, UNION);
    let c =
        r.changes.iter().find(|c| c.severity == Severity::Breaking && c.direction == Some(Direction::Output)).unwrap();
    assert_eq!(c.kind, ChangeKind::MemberRemoved);
    assert_eq!(c.paths, ["query → Opts(file) → FileOpts.mode"]);
}

#[test]
fn union_branch_removed_breaks_senders() {
    let new = UNION.replace("[ 'file', 'net' ]", "[ 'file' ]").replace(", 'net': 'NetOpts'", "");
    let r = compare(UNION, &new);
    assert_eq!(summary(&r), ["breaking value-removed Kind 'net'", "compatible value-removed Kind 'net'"]);
    // A branch added: a new tag value readers may not know.
    let r = compare(&new, UNION);
    assert_eq!(summary(&r), ["warning value-added Kind 'net'", "compatible value-added Kind 'net'"]);
}

#[test]
fn union_base_member_removed_breaks_both_ways() {
    let new = UNION.replace(", '*id': 'str'", "");
    let r = compare(UNION, &new);
    assert_eq!(summary(&r), ["breaking member-removed Opts.id", "warning member-removed Opts.id"]);
}

#[test]
fn union_discriminator_changed_breaks() {
    let new =
        UNION.replace("'kind': 'Kind'", "'type': 'Kind'").replace("'discriminator': 'kind'", "'discriminator': 'type'");
    let r = compare(UNION, &new);
    assert!(summary(&r).contains(&"breaking discriminator-changed Opts".to_owned()), "{:#?}", summary(&r));
}

#[test]
fn struct_becoming_union_keeps_old_values_valid() {
    // A struct turned into a union whose branches add only optional
    // members: old clients' values are still accepted.
    let old = "{ 'enum': 'Kind', 'data': [ 'a', 'b' ] }
{ 'struct': 'Opts', 'data': { 'kind': 'Kind', 'id': 'str' } }
{ 'command': 'add', 'data': 'Opts' }";
    let new = "{ 'enum': 'Kind', 'data': [ 'a', 'b' ] }
{ 'struct': 'OptsB', 'data': { '*extra': 'int' } }
{ 'union': 'Opts', 'base': { 'kind': 'Kind', 'id': 'str' }, 'discriminator': 'kind', 'data': { 'b': 'OptsB' } }
{ 'command': 'add', 'data': 'Opts', 'boxed': true }";
    let r = compare(old, new);
    assert!(!r.is_breaking(), "{:#?}", summary(&r));
    assert_eq!(summary(&r), ["compatible member-added OptsB.extra"]);
}

#[test]
fn alternate_branch_removed_breaks_senders_added_breaks_readers() {
    let old = "{ 'struct': 'Def', 'data': { 'x': 'int' } }
{ 'alternate': 'Ref', 'data': { 'def': 'Def', 'name': 'str' } }
{ 'command': 'set', 'data': { 'r': 'Ref' } }
{ 'struct': 'Holder', 'data': { 'r': 'Ref' } }
{ 'command': 'get', 'returns': 'Holder' }";
    let new = old.replace(", 'name': 'str'", "");
    let r = compare(old, &new);
    assert_eq!(summary(&r), ["breaking type-narrowed set.r"], "{:#?}", r.changes);
    assert!(r.changes[0].message.starts_with("no longer accepts a string"), "{}", r.changes[0].message);
    let r = compare(&new, old);
    assert_eq!(summary(&r), ["breaking type-widened Holder.r"], "{:#?}", r.changes);
}

#[test]
fn alternate_branch_changed_is_reached_through_it() {
    let old = "{ 'struct': 'Def', 'data': { 'x': 'int' } }
{ 'alternate': 'Ref', 'data': { 'def': 'Def', 'name': 'str' } }
{ 'command': 'set', 'data': { 'r': 'Ref' } }";
    let new = old.replace("'x': 'int'", "'x': 'int', 'y': 'int'");
    let r = compare(old, &new);
    assert_eq!(summary(&r), ["breaking member-added Def.y"]);
    assert_eq!(r.changes[0].paths, ["set.r → Ref(def) → Def.y"]);
}

// ---------------------------------------------------------------------------
// Wire shape, not names

#[test]
fn renamed_types_and_refactored_bases_are_not_changes() {
    let old = "{ 'struct': 'Stats', 'data': { 'a': 'int', 'b': 'str' } }
{ 'enum': 'Mode', 'data': [ 'x', 'y' ] }
{ 'command': 'query', 'data': { 'mode': 'Mode' }, 'returns': 'Stats' }";
    let new = "{ 'struct': 'StatsBase', 'data': { 'a': 'int' } }
{ 'struct': 'RamStats', 'base': 'StatsBase', 'data': { 'b': 'str' } }
{ 'enum': 'QueryMode', 'data': [ 'y', 'x' ] }
{ 'struct': 'QueryArgs', 'data': { 'mode': 'QueryMode' } }
{ 'command': 'query', 'data': 'QueryArgs', 'returns': 'RamStats' }";
    let r = compare(old, new);
    assert!(summary(&r).is_empty(), "{:#?}", summary(&r));
}

#[test]
fn a_struct_is_reported_once_with_every_path_in_and_out() {
    let old = "{ 'struct': 'Stats', 'data': { 'n': 'int' } }
{ 'struct': 'Info', 'data': { 'ram': 'Stats', 'disk': 'Stats' } }
{ 'command': 'query', 'returns': 'Info' }
{ 'command': 'set', 'data': { 'stats': 'Stats' } }
{ 'event': 'DONE', 'data': { 'info': 'Info' } }";
    let new = old.replace("'n': 'int'", "'n': 'int', 'm': 'int'");
    // m is required: senders of 'set' break, readers don't.
    let r = compare(old, &new);
    assert_eq!(summary(&r), ["breaking member-added Stats.m", "compatible member-added Stats.m"]);
    // Now remove n: both ways break, and every path is listed.
    let new = old.replace("'n': 'int'", "'*x': 'int'");
    let r = compare(old, &new);
    let out = r.changes.iter().find(|c| c.subject == "Stats.n" && c.direction == Some(Direction::Output)).unwrap();
    assert_eq!(out.severity, Severity::Breaking);
    assert_eq!(
        out.paths,
        [
            "query → Info.ram → Stats.n",
            "query → Info.disk → Stats.n",
            "DONE.info → Info.ram → Stats.n",
            "DONE.info → Info.disk → Stats.n"
        ]
    );
    let inp = r.changes.iter().find(|c| c.subject == "Stats.n" && c.direction == Some(Direction::Input)).unwrap();
    assert_eq!(inp.paths, ["set.stats → Stats.n"]);
}

#[test]
fn recursive_types_terminate() {
    let old = "{ 'struct': 'Node', 'data': { 'name': 'str', '*kids': ['Node'], '*alt': 'Ref' } }
{ 'alternate': 'Ref', 'data': { 'node': 'Node', 'name': 'str' } }
{ 'command': 'tree', 'data': { 'root': 'Node' }, 'returns': 'Node' }";
    let new = old.replace("'name': 'str', '*kids'", "'*name': 'str', '*kids'");
    let r = compare(old, &new);
    assert_eq!(summary(&r), ["breaking made-optional Node.name", "compatible made-optional Node.name"]);
    let c = &r.changes[0];
    assert_eq!(c.paths[0], "tree → Node.name");
}

// ---------------------------------------------------------------------------
// unstable and deprecated

#[test]
fn changes_under_unstable_or_deprecated_are_allowed() {
    let old = "{ 'enum': 'Color', 'data': [ 'a', { 'name': 'b', 'features': [ 'deprecated' ] } ] }
{ 'struct': 'Stats', 'data': { 'n': 'int' } }
{ 'command': 'x-debug', 'returns': 'Stats', 'features': [ 'unstable' ] }
{ 'command': 'old-thing', 'features': [ 'deprecated' ] }
{ 'command': 'set', 'data': { 'e': 'Color', '*legacy': { 'type': 'int', 'features': [ 'deprecated' ] } } }";
    let new = "{ 'enum': 'Color', 'data': [ 'a' ] }
{ 'struct': 'Stats', 'data': { '*n': 'int' } }
{ 'command': 'x-debug', 'returns': 'Stats', 'features': [ 'unstable' ] }
{ 'command': 'set', 'data': { 'e': 'Color' } }";
    let r = compare(old, new);
    assert_eq!(
        summary(&r),
        [
            "allowed value-removed Color 'b'",
            "allowed command-removed old-thing",
            "allowed made-optional Stats.n",
            "allowed member-removed set.legacy"
        ],
        "{:#?}",
        r.changes
    );
    assert_eq!(only(&r, "Stats.n").allowed_by, Some("unstable"));
    assert_eq!(only(&r, "old-thing").allowed_by, Some("deprecated"));
    assert!(!r.is_breaking());
    assert_eq!(r.count(Severity::Allowed), 4);
}

#[test]
fn a_stable_path_to_the_same_change_still_breaks() {
    let old = "{ 'struct': 'Stats', 'data': { 'n': 'int' } }
{ 'command': 'x-debug', 'returns': 'Stats', 'features': [ 'unstable' ] }
{ 'command': 'query', 'returns': 'Stats' }";
    let new = old.replace("'n': 'int'", "'*n': 'int'");
    let r = compare(old, &new);
    let c = only(&r, "Stats.n");
    assert_eq!(c.severity, Severity::Breaking);
    assert_eq!(c.paths.len(), 2);
}

// ---------------------------------------------------------------------------
// Conditions, features, documentation

#[test]
fn condition_narrowed_warns_widened_does_not() {
    let old = "{ 'command': 'a', 'if': 'CONFIG_X' }\n{ 'command': 'b' }";
    let new = "{ 'command': 'a', 'if': { 'any': [ 'CONFIG_X', 'CONFIG_Y' ] } }\n{ 'command': 'b', 'if': 'CONFIG_Y' }";
    let r = compare(old, new);
    assert_eq!(summary(&r), ["warning condition-changed b", "compatible condition-changed a"]);
}

#[test]
fn custom_feature_removed_warns() {
    let r =
        compare("{ 'command': 'a', 'features': [ 'fast-path' ] }", "{ 'command': 'a', 'features': [ 'deprecated' ] }");
    assert_eq!(summary(&r), ["warning feature-removed a", "compatible feature-added a"]);
}

#[test]
fn doc_edits_are_listed_only_with_all() {
    let old = "##\n# @stop:\n#\n# Stop it.\n#\n# Since: 1.0\n##\n{ 'command': 'stop' }\n";
    let new = "##\n# @stop:\n#\n# Stop the guest.\n#\n# Since: 1.0\n##\n{ 'command': 'stop' }\n";
    let r = compare(old, new);
    assert_eq!(r.changes.len(), 1);
    assert_eq!((r.changes[0].kind, r.changes[0].severity), (ChangeKind::DocChanged, Severity::Compatible));
    assert!(!r.render_text(false).contains("documentation changed"));
    assert!(
        r.render_text(true).contains("new.json:1:1: compatible: stop: documentation changed"),
        "{}",
        r.render_text(true)
    );
    assert!(r.render_text(false).ends_with("0 breaking, 0 warnings, 0 allowed (1 compatible; 0 Since problems)\n"));
}

// ---------------------------------------------------------------------------
// Since lint

const OLD_DOC: &str = "##
# @Stats:
#
# @a: a
#
# Since: 10.0
##
{ 'struct': 'Stats', 'data': { 'a': 'int' } }

##
# @Mode:
#
# @x: x
#
# Since: 10.0
##
{ 'enum': 'Mode', 'data': [ 'x' ] }

##
# @query:
#
# @mode: the mode
#
# Since: 10.0
##
{ 'command': 'query', 'data': { 'mode': 'Mode' }, 'returns': 'Stats' }
";

fn since_new(a_note: &str, value_note: &str, cmd_since: &str, arg_note: &str) -> String {
    OLD_DOC
        .replace("# @a: a\n", &format!("# @a: a\n#\n# @b: b{a_note}\n"))
        .replace("'a': 'int' }", "'a': 'int', '*b': 'int' }")
        .replace("# @x: x\n", &format!("# @x: x\n#\n# @y: y{value_note}\n"))
        .replace("[ 'x' ]", "[ 'x', 'y' ]")
        .replace("# @mode: the mode\n", &format!("# @mode: the mode\n#\n# @verbose: more{arg_note}\n"))
        .replace("'mode': 'Mode' }", "'mode': 'Mode', '*verbose': 'bool' }")
        + &format!("\n##\n# @reset:\n#{cmd_since}\n##\n{{ 'command': 'reset' }}\n")
}

#[test]
fn since_lint_accepts_the_current_release() {
    let new = since_new("  (Since 10.2)", "  (since 10.2)", "\n# Since: 10.2", "  (Since: 10.2)");
    let r = compare_with(OLD_DOC, &new, &Options { since_current: Some("10.2".parse().unwrap()) });
    assert!(r.since.is_empty(), "{:#?}", r.since);
    assert!(!r.fails());
}

#[test]
fn since_lint_reports_missing_and_older_versions() {
    let new = since_new("", "  (Since 10.1)", "\n# Since: 9.0", "  (Since 10.2)");
    let r = compare_with(OLD_DOC, &new, &Options { since_current: Some("10.2".parse().unwrap()) });
    let got: Vec<String> = r.since.iter().map(|p| format!("{} {:?} {}", p.subject, p.found, p.expected)).collect();
    assert_eq!(
        got,
        ["Stats.b None 10.2", "Mode 'y' Some(\"10.1\") 10.2", "reset Some(\"9.0\") 10.2"],
        "{:#?}",
        r.since
    );
    assert!(r.since[0].message.contains("no '(Since X.Y)' note"), "{}", r.since[0].message);
    assert!(r.fails(), "with --since-current, Since problems fail the run");
    assert!(!r.is_breaking());
    // Without the current release: new things may not claim to be older
    // than the old schema's newest version (10.0).
    let new = since_new("  (Since 9.2)", "  (Since 10.1)", "\n# Since: 10.1", "  (Since 10.1)");
    let r = compare(OLD_DOC, &new);
    let got: Vec<String> = r.since.iter().map(|p| format!("{} {}", p.subject, p.expected)).collect();
    assert_eq!(got, ["Stats.b >= 10.0"]);
    assert!(!r.fails(), "without --since-current, Since problems are only reported");
}

#[test]
fn since_lint_reports_new_features_and_colonless_since() {
    let old = "##\n# @stop:\n#\n# Since: 1.0\n##\n{ 'command': 'stop' }\n";
    let new = "##\n# @stop:\n#\n# Features:\n#\n# @deprecated: Use cont.\n#\n# Since: 1.0\n##\n{ 'command': 'stop', 'features': [ 'deprecated' ] }\n\n##\n# @cont:\n#\n# Since 2.0\n##\n{ 'command': 'cont' }\n";
    let r = compare_with(old, new, &Options { since_current: Some("2.0".parse().unwrap()) });
    let got: Vec<&str> = r.since.iter().map(|p| p.subject.as_str()).collect();
    assert_eq!(got, ["stop feature 'deprecated'", "cont"], "{:#?}", r.since);
    assert!(r.since[1].message.contains("lacks the colon"), "{}", r.since[1].message);
}

#[test]
fn since_lint_of_one_schema() {
    let s = schema(
        "one.json",
        "##\n# @a:\n#\n# @x: x (Since 12.0)\n#\n# Since: 11.0\n##\n{ 'command': 'a', 'data': { '*x': 'int' } }\n\n##\n# @b:\n##\n{ 'command': 'b' }\n",
    );
    let p = compat::since_lint(&s.schema, &"11.0".parse().unwrap());
    let got: Vec<(String, qapi_gen::Severity)> = p.iter().map(|p| (p.subject.clone(), p.severity)).collect();
    assert_eq!(got, [("a.x".to_owned(), qapi_gen::Severity::Error), ("b".to_owned(), qapi_gen::Severity::Warning)]);
    assert!(p[0].to_diagnostic().unwrap().to_string().starts_with("one.json:4:1: error: a.x:"), "{:?}", p[0]);
}
