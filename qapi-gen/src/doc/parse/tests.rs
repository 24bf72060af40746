//! Tests of the documentation reader: sections, errors, style rules,
//! and QEMU's own doc-good case.

use super::*;
use crate::doc::style::{is_url_line, single_space_after_sentence};
use crate::source::SourceFile;
use crate::syntax::{parse_file, Item};

/// Parses every documentation block of `text`; the diagnostics as
/// `LINE:COL: message` (`w:` before warnings).
fn run(text: &str, style: DocStyle) -> (Vec<Doc>, Vec<String>) {
    let file = SourceFile::new("t.json".into(), "t.json".into(), text.into());
    let mut diags = Diagnostics::default();
    let mut docs = Vec::new();
    for item in parse_file(&file, &mut diags) {
        if let Item::Doc(block) = item {
            docs.extend(parse(&block, style, &mut diags));
        }
    }
    let msgs = diags
        .iter()
        .map(|d| {
            let (l, c) = d.span.line_col();
            let w = if d.is_error() { "" } else { "w:" };
            format!("{w}{l}:{c}: {}", d.message)
        })
        .collect();
    (docs, msgs)
}

fn ok(text: &str) -> Doc {
    let (mut docs, msgs) = run(text, DocStyle::Error);
    assert!(msgs.is_empty(), "{msgs:?}");
    assert_eq!(docs.len(), 1);
    docs.remove(0)
}

fn err(text: &str) -> String {
    let (docs, msgs) = run(text, DocStyle::Error);
    assert!(docs.is_empty(), "parsed despite {msgs:?}");
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    msgs[0].clone()
}

/// One style error, and the block read all the same.
fn style_err(text: &str) -> String {
    let (docs, msgs) = run(text, DocStyle::Error);
    assert_eq!(docs.len(), 1, "not parsed: {msgs:?}");
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    msgs[0].clone()
}

#[test]
fn splits_definition_block() {
    let doc = ok("##\n\
                  # @cmd:\n\
                  #\n\
                  # Intro line one\n\
                  # line two\n\
                  #\n\
                  # Second paragraph.\n\
                  #\n\
                  # @arg1:\n\
                  #     on a new line,\n\
                  #     indented\n\
                  #\n\
                  # @arg2: on the same line\n\
                  #     indented differently   \n\
                  #\n\
                  # Features:\n\
                  #\n\
                  # @feat: a feature\n\
                  #\n\
                  # Plain after features.\n\
                  #\n\
                  # More plain.\n\
                  #\n\
                  # Returns: @Object\n\
                  #\n\
                  # Errors:\n\
                  #     - If it fails, GenericError\n\
                  #\n\
                  # TODO: frob\n\
                  #\n\
                  # Since: 2.10\n\
                  ##\n");
    assert_eq!(doc.symbol.as_deref(), Some("cmd"));
    assert_eq!(doc.span.line(), 1);
    assert_eq!(doc.body.text, "Intro line one\nline two\n\nSecond paragraph.");
    assert_eq!(doc.body.span.line(), 4);
    let args: Vec<_> = doc.args.iter().map(|(k, s)| (k.as_str(), s.text.as_str(), s.span.line())).collect();
    assert_eq!(
        args,
        [("arg1", "    on a new line,\n    indented", 9), ("arg2", "on the same line\n    indented differently", 13)]
    );
    assert_eq!(doc.args["arg1"].kind, SectionKind::Member);
    assert_eq!(doc.args["arg1"].name.as_deref(), Some("arg1"));
    assert_eq!(doc.features["feat"].text, "a feature");
    assert_eq!(doc.features["feat"].kind, SectionKind::Feature);
    assert_eq!(doc.features["feat"].span.line(), 18);
    let sections: Vec<_> = doc.sections.iter().map(|s| (s.kind, s.text.as_str(), s.span.line())).collect();
    assert_eq!(
        sections,
        [
            (SectionKind::Plain, "Plain after features.\n\nMore plain.", 20),
            (SectionKind::Returns, "@Object", 24),
            (SectionKind::Errors, "    - If it fails, GenericError", 26),
            (SectionKind::Todo, "frob", 29),
            (SectionKind::Since, "2.10", 31),
        ]
    );
    assert_eq!(doc.since(), Some("2.10"));
}

#[test]
fn body_keeps_default_span_when_empty() {
    let doc = ok("##\n# @Foo:\n#\n# @a: x\n##\n");
    assert_eq!(doc.body.text, "");
    assert_eq!(doc.body.span.line(), 1);
    assert!(doc.sections.is_empty());
}

#[test]
fn continuation_must_be_indented() {
    // An unindented line after a description starts a plain section.
    let doc = ok("##\n# @Foo:\n# @a: one\n# two\n##\n");
    assert_eq!(doc.args["a"].text, "one");
    assert_eq!(doc.sections.len(), 1);
    assert_eq!(doc.sections[0].text, "two");
    assert_eq!(doc.sections[0].span.line(), 4);
    // After the second line, a de-indent ends the description.
    let doc = ok("##\n# @Foo:\n# @a: one\n#   two\n#   three\n# four\n##\n");
    assert_eq!(doc.args["a"].text, "one\n  two\n  three");
    assert_eq!(doc.sections[0].text, "four");
    // A blank line inside a description is kept; trailing ones are not.
    let doc = ok("##\n# @Foo:\n# @a: one\n#\n#   two\n#\n#\n# @b: x\n##\n");
    assert_eq!(doc.args["a"].text, "one\n\n  two");
    assert_eq!(doc.args["b"].text, "x");
    // '@name:' ends a description even when indented text precedes it.
    let doc = ok("##\n# @Foo:\n# @a:\n#  one\n# @b:\n#  two\n##\n");
    assert_eq!(doc.args["a"].text, " one");
    assert_eq!(doc.args["b"].text, " two");
}

#[test]
fn double_colon_is_not_a_tag() {
    let doc = ok("##\n# @Foo:\n#\n# Examples::\n#\n#  - verbatim\n#\n# Note::\n#     pas une note\n##\n");
    assert_eq!(doc.body.text, "Examples::\n\n - verbatim\n\nNote::\n    pas une note");
    assert!(doc.sections.is_empty());
}

#[test]
fn free_form() {
    let doc = ok("##\n# = Heading\n#\n# Text with @ref {x}\n#\n#\n# More\n##\n");
    assert!(doc.symbol.is_none());
    assert_eq!(doc.body.text, "= Heading\n\nText with @ref {x}\n\n\nMore");
    assert_eq!(doc.body.span.line(), 2);
    let doc = ok("##\n##\n");
    assert_eq!(doc.body.text, "");
    assert!(doc.symbol.is_none());
    // Tags mean nothing in free-form text.
    let doc = ok("##\n# Returns: x\n# Note: y\n##\n");
    assert_eq!(doc.body.text, "Returns: x\nNote: y");
}

#[test]
fn block_structure_errors() {
    assert_eq!(err("## x\n##\n"), "1:1: junk after '##' at start of documentation comment");
    assert_eq!(err("##\n# a\n## x\n"), "3:1: junk after '##' at end of documentation comment");
    assert_eq!(err("##\n# a\n#\n"), "3:2: documentation comment must end with '##'");
    assert_eq!(err("##\n# a\n{ 'x': 'y' }\n"), "3:1: documentation comment must end with '##'");
    assert_eq!(err("##\n# a\n#b\n##\n"), "3:1: missing space after #");
    assert_eq!(err("##\n  #b\n##\n"), "2:3: missing space after #");
    assert_eq!(err("##\n#\u{e9}\n##\n"), "2:1: missing space after #");
}

#[test]
fn symbol_errors() {
    assert_eq!(err("##\n# @foo\n##\n"), "2:1: line should end with ':'");
    assert_eq!(err("##\n# @\n##\n"), "2:1: line should end with ':'");
    assert_eq!(err("##\n# @:\n##\n"), "2:1: name required after '@'");
    assert_eq!(err("##\n# x\n# @a: b\n##\n"), "3:1: '@a:' not allowed in free-form documentation");
    assert_eq!(err("##\n# x\n# @: b\n##\n"), "3:1: '@:' not allowed in free-form documentation");
}

#[test]
fn description_errors() {
    assert_eq!(err("##\n# @foo:\n# @a: x\n# @a: y\n##\n"), "4:1: 'a' parameter name duplicated");
    assert_eq!(err("##\n# @foo:\n# @: x\n##\n"), "3:1: invalid parameter name");
    assert_eq!(err("##\n# @foo:\n# @a:\n##\n"), "3:1: text required after 'Member:'");
    assert_eq!(err("##\n# @foo:\n# Features:\n# @f:\n##\n"), "4:1: text required after 'Feature:'");
    assert_eq!(err("##\n# @foo:\n# @a: x\n#   y\n# z\n##\n"), "5:1: unexpected de-indent (expected at least 2 spaces)");
    assert_eq!(
        err("##\n# @foo:\n# @a: x\n#\n# Since: 1\n#\n# @b: y\n##\n"),
        "7:1: description of '@b:' follows a section"
    );
    // Plain text after descriptions is a section, too.
    assert_eq!(err("##\n# @foo:\n# @a: x\n#\n# text\n#\n# @b: y\n##\n"), "7:1: description of '@b:' follows a section");
    // Before any description, it is the body.
    let doc = ok("##\n# @foo:\n# text\n#\n# @b: y\n##\n");
    assert_eq!((doc.body.text.as_str(), doc.args["b"].text.as_str()), ("text", "y"));
    // After 'Features:', '@name:' lines describe features, blank
    // lines or not; a member description after them follows a section.
    let doc = ok("##\n# @foo:\n# Features:\n# @f: x\n#\n# @b: y\n##\n");
    assert_eq!(doc.features.keys().collect::<Vec<_>>(), ["f", "b"]);
    assert_eq!(
        err("##\n# @foo:\n# Features:\n# @f: x\n#\n# text\n#\n# @b: y\n##\n"),
        "8:1: description of '@b:' follows a section"
    );
}

#[test]
fn feature_errors() {
    assert_eq!(err("##\n# @foo:\n# Features:\n#\n# nope\n##\n"), "5:1: feature descriptions expected");
    assert_eq!(err("##\n# @foo:\n# Features:\n##\n"), "4:1: feature descriptions expected");
    assert_eq!(err("##\n# @foo:\n# Features:\n# @f: x\n#\n# Features:\n##\n"), "6:1: duplicated 'Features:' line");
    assert_eq!(err("##\n# @foo:\n# Features:\n# @f: x\n# @f: y\n##\n"), "5:1: 'f' parameter name duplicated");
    // Members and features are separate name spaces.
    let doc = ok("##\n# @foo:\n# @f: x\n#\n# Features:\n# @f: y\n##\n");
    assert_eq!((doc.args["f"].text.as_str(), doc.features["f"].text.as_str()), ("x", "y"));
}

#[test]
fn tagged_section_errors() {
    assert_eq!(err("##\n# @foo:\n#\n# Errors:\n##\n"), "4:1: text required after 'Errors:'");
    assert_eq!(err("##\n# @foo:\n# TODO:\n#\n##\n"), "3:1: text required after 'Todo:'");
    assert_eq!(err("##\n# @foo:\n# Returns: a\n# Returns: b\n##\n"), "4:1: duplicated 'Returns' section");
    assert_eq!(err("##\n# @foo:\n# Since: 1\n#\n# Since: 2\n##\n"), "5:1: duplicated 'Since' section");
    assert_eq!(err("##\n# @foo:\n# Errors: 1\n#\n# Errors: 2\n##\n"), "5:1: duplicated 'Errors' section");
    // Several TODO sections are fine.
    let doc = ok("##\n# @foo:\n# TODO: 1\n#\n# TODO: 2\n##\n");
    assert_eq!(doc.sections.len(), 2);
    for (tag, what) in [("Note", "Note"), ("Notes", "Notes"), ("Example", "Example"), ("Examples", "Examples")] {
        let msg = err(&format!("##\n# @foo:\n#\n# {tag}: x\n##\n"));
        assert!(msg.starts_with(&format!("4:1: The '{what}' section is no longer supported.")), "{msg}");
    }
}

#[test]
fn empty_tagged_section_is_reported_after_other_errors_of_the_block() {
    // QEMU checks for empty sections when the block is complete, so a
    // later error in the block comes first.
    assert_eq!(err("##\n# @foo:\n# Errors:\n#\n# @a: x\n##\n"), "5:1: description of '@a:' follows a section");
}

const LONG: &str = "# This line has exactly 71 chars, including the leading hash and space.";

#[test]
fn style_errors() {
    assert_eq!(LONG.chars().count(), 71);
    assert_eq!(
        style_err(&format!("##\n# @foo:\n#\n{LONG}\n##\n")),
        "4:1: documentation line longer than 70 characters"
    );
    // 70 characters are fine, multi-byte ones count once.
    ok(&format!("##\n# {}\n##\n", "\u{e9}".repeat(68)));
    // Trailing white space does not count.
    ok(&format!("##\n# {}    \n##\n", "x".repeat(68)));
    assert_eq!(
        style_err("##\n# @foo:\n#\n# Sentences should be separated by two spaces. But here is only one.\n##\n"),
        "4:47: Use two spaces between sentences"
    );
    assert_eq!(style_err("##\n# Is it? Yes\n##\n"), "2:9: Use two spaces between sentences");
    assert_eq!(style_err("##\n# Is it! (yes)\n##\n"), "2:9: Use two spaces between sentences");
    // The column counts from the start of the line, like QEMU's.
    assert_eq!(style_err("##\n  # Is it? Yes\n##\n"), "2:9: Use two spaces between sentences");
    // Not sentence ends.
    ok("##\n# Use e.g. FLAT here.  Or i.e. this.  (Since 2.1)\n##\n");
    ok("##\n#  1. Numbered item\n#    2. x\n# v1.2 is fine.\n##\n");
    // A digit may start a sentence.
    assert_eq!(style_err("##\n# ver. 2\n##\n"), "2:7: Use two spaces between sentences");
    let msg = style_err("##\n# x 1. Not a list item\n##\n");
    assert_eq!(msg, "2:7: Use two spaces between sentences");
}

#[test]
fn style_exemptions() {
    // URL lines may be long.
    ok(&format!("##\n#   https://example.com/{}\n##\n", "x".repeat(80)));
    assert!(style_err(&format!("##\n# see https://example.com/{}\n##\n", "x".repeat(80))).contains("longer than 70"));
    // Literal blocks are exempt until their indentation decreases.
    let text =
        format!("##\n# @foo:\n#\n# .. qmp-example::\n#\n#    {LONG}\n#    A. B\n#\n# Back to text.  Fine.\n##\n");
    let doc = ok(&text);
    assert!(doc.body.text.contains(".. qmp-example::"));
    ok(&format!("##\n# Text\n#\n# ::\n#\n#   {LONG}\n#     A. B\n##\n"));
    // The literal block ends at a smaller indentation, and that line is
    // checked.
    assert_eq!(
        style_err(&format!("##\n# Text\n#\n# ::\n#\n#     x\n#   {LONG}\n##\n")),
        "7:1: documentation line longer than 70 characters"
    );
    // "text::" at the end of a line does not start a literal block.
    assert!(style_err(&format!("##\n# Text::\n#\n#   {LONG}\n##\n")).contains("longer than 70"));
    // Nor does a literal block carry over to the next block.
    let (docs, msgs) = run(&format!("##\n# ::\n##\n##\n#   {LONG}\n##\n"), DocStyle::Error);
    assert_eq!(
        (docs.len(), msgs.as_slice()),
        (2, ["5:1: documentation line longer than 70 characters".to_owned()].as_slice())
    );
}

#[test]
fn style_problems_do_not_stop_parsing() {
    let text = format!("##\n# @foo:\n#\n{LONG}\n# One. Two.  Three. Four\n#\n# Since: 1\n##\n");
    for (style, w) in [(DocStyle::Warn, "w:"), (DocStyle::Error, "")] {
        let (docs, msgs) = run(&text, style);
        assert_eq!(
            msgs,
            [
                format!("{w}4:1: documentation line longer than 70 characters"),
                format!("{w}5:7: Use two spaces between sentences")
            ]
        );
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].since(), Some("1"));
        assert!(docs[0].body.text.ends_with("One. Two.  Three. Four"));
    }
    // Real errors still are errors.
    let (docs, msgs) = run("##\n# @foo:\n#x\n##\n", DocStyle::Warn);
    assert!(docs.is_empty());
    assert_eq!(msgs, ["3:1: missing space after #"]);
}

#[test]
fn odd_input_does_not_panic() {
    for text in [
        "##\n",
        "##",
        "##\n#\n#\n",
        "##\n# @\u{e9}:\n# @\u{e9}\u{e9}: \u{e9}\n#  \u{e9}\n##\n{ 'x': 'y' }\n",
        "##\n# @a:\n# @b:\t\n#\t\tx\n# \u{3000}\n##\n",
        "##\r\n# @a:\r\n# @b: x\r\n#\r\n##\r\n",
        "##\n# \u{2028}\u{85}\n##\n",
        "##\n# ...\n# . A\n# e.g. Ae.g. B\n# e.g.\n# .\n##\n",
        "##\n# Returns\n# Returns:: x\n# Since:\n##\n",
    ] {
        let _ = run(text, DocStyle::Error);
        let _ = run(text, DocStyle::Warn);
    }
    let long = format!("##\n# {}. {}\n##\n", "x".repeat(100_000), "Y".repeat(10));
    let (_, msgs) = run(&long, DocStyle::Warn);
    assert_eq!(msgs.len(), 2);
}

#[test]
fn crlf_lines() {
    let doc = ok("##\r\n# @a:\r\n# @b: x\r\n#\r\n# Since: 1\r\n##\r\n{ 'struct': 'a' }\r\n");
    assert_eq!(doc.symbol.as_deref(), Some("a"));
    assert_eq!(doc.args["b"].text, "x");
    assert_eq!(doc.since(), Some("1"));
}

#[test]
fn helpers() {
    assert_eq!(at_name_colon("@a b: c"), Some(("a b", "c")));
    assert_eq!(at_name_colon("@a:b"), Some(("a", "b")));
    assert_eq!(at_name_colon("@a b"), None);
    assert_eq!(at_name_colon(" @a:"), None);
    assert_eq!(section_tag("Returns:x"), Some(("Returns", "x")));
    assert_eq!(section_tag("Notes: y"), Some(("Notes", "y")));
    assert_eq!(section_tag("Notes:: y"), None);
    assert_eq!(section_tag("Note:: y"), None);
    assert_eq!(section_tag("Returns :"), None);
    assert_eq!(section_tag(" Since: 1"), None);
    assert!(opens_literal("::"));
    assert!(opens_literal("  ::"));
    assert!(opens_literal(".. qmp-example::"));
    assert!(opens_literal("..   qmp-example  ::"));
    assert!(!opens_literal("..qmp-example::"));
    assert!(!opens_literal(".. qmp-example:: x"));
    assert!(!opens_literal("Example::"));
    assert!(is_url_line("  https://x.org/a\tb"));
    assert!(!is_url_line("https://x.org/a b"));
    assert!(!is_url_line("see ftp://x"));
    assert_eq!(single_space_after_sentence("a. B"), Some(1));
    assert_eq!(single_space_after_sentence("a.  B"), None);
    assert_eq!(single_space_after_sentence("a. b"), None);
    assert_eq!(single_space_after_sentence("the.e.g. A"), None);
    assert_eq!(single_space_after_sentence("thee.g. A"), Some(6));
    assert_eq!(single_space_after_sentence("1. A. B"), Some(4));
}

/// Prints the documentation part of QEMU's test dump for `docs`.
fn dump(docs: &[Doc]) -> String {
    let mut out = String::new();
    for doc in docs {
        match &doc.symbol {
            Some(s) => out += &format!("doc symbol={s}\n"),
            None => out += "doc freeform\n",
        }
        out += &format!("    body=\n{}\n", doc.body.text);
        for (name, s) in &doc.args {
            out += &format!("    arg={name}\n{}\n", s.text);
        }
        for (name, s) in &doc.features {
            out += &format!("    feature={name}\n{}\n", s.text);
        }
        for s in &doc.sections {
            out += &format!("    section={}\n{}\n", s.kind.as_str(), s.text);
        }
    }
    out
}

/// The section texts are those of QEMU's `doc-good.out`, but for the
/// empty descriptions the model adds for undocumented members.
#[test]
fn doc_good_matches_qemu() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/qemu/10.2/tests-qapi-schema/");
    let (Ok(json), Ok(out)) =
        (std::fs::read_to_string(format!("{dir}doc-good.json")), std::fs::read_to_string(format!("{dir}doc-good.out")))
    else {
        eprintln!("QEMU test data not found; skipped");
        return;
    };
    let (docs, msgs) = run(&json, DocStyle::Error);
    assert!(msgs.is_empty(), "{msgs:?}");
    let start = out.find("doc freeform").unwrap_or(out.len());
    let lines: Vec<&str> = out[start..].lines().collect();
    let mut expected = String::new();
    let mut i = 0;
    while i < lines.len() {
        let stub = lines[i].starts_with("    arg=")
            && lines.get(i + 1) == Some(&"")
            && lines.get(i + 2).is_none_or(|l| l.starts_with("    ") || l.starts_with("doc "));
        if stub {
            i += 2;
            continue;
        }
        expected += lines[i];
        expected.push('\n');
        i += 1;
    }
    let got = dump(&docs);
    let trim = |s: &str| s.lines().map(str::trim_end).collect::<Vec<_>>().join("\n");
    assert_eq!(trim(&got), trim(&expected));
    // Spans: where each section starts.
    let cmd = docs.iter().find(|d| d.symbol.as_deref() == Some("cmd"));
    let lines_of = |d: &Doc| d.sections.iter().map(|s| s.span.line()).collect::<Vec<_>>();
    assert_eq!(cmd.map(lines_of), Some(vec![168, 170, 172, 174, 176, 200]));
}

#[test]
fn since_notes() {
    let doc = ok("##\n# @foo:\n# @a: The size.  (since 8.2)\n# @b: B.\n#     (Since: 9.0; default: x)\n##\n");
    assert_eq!(doc.args["a"].since_note(), Some("8.2"));
    assert_eq!(doc.args["b"].since_note(), Some("9.0"));
    assert_eq!(crate::doc::since_note("(Since 2.4 (`drive-backup`), 3.1)"), Some("2.4"));
    assert_eq!(crate::doc::since_note("x (since 10.0) and (since when?)"), Some("10.0"));
    assert_eq!(crate::doc::since_note("since 1.0"), None);
}
