//! Tests of the Builder: Cargo instructions, errors, writing the output.

use super::*;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qapi-gen-builder-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    dir
}

#[test]
fn rerun_lines_name_every_file_read() {
    let dir = temp_dir("rerun");
    std::fs::write(dir.join("root.json"), "{ 'include': 'sub/inc.json' }\n{ 'struct': 'Point', 'data': {} }\n")
        .unwrap();
    std::fs::write(dir.join("sub/inc.json"), "{ 'enum': 'Letter', 'data': ['x'] }\n").unwrap();
    let mut lines = Vec::new();
    let out = Builder::new(dir.join("root.json")).out_dir(&dir).generate_reporting_to(&mut lines).unwrap();
    assert_eq!(out, dir.join(DEFAULT_OUT_FILE));
    let lines = String::from_utf8(lines).unwrap();
    let reruns: Vec<&str> = lines.lines().filter_map(|l| l.strip_prefix("cargo:rerun-if-changed=")).collect();
    assert_eq!(reruns.len(), 2, "{lines}");
    assert!(reruns[0].ends_with("root.json"));
    assert!(reruns[1].ends_with("inc.json"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn invalid_schema_reports_every_diagnostic_and_still_watches_files() {
    let dir = temp_dir("invalid");
    std::fs::write(
        dir.join("root.json"),
        "{ 'include': 'sub/inc.json' }\n{ 'struct': 'A', 'data': { 'm': 'Nope' } }\n",
    )
    .unwrap();
    std::fs::write(dir.join("sub/inc.json"), "{ 'enum': 'E', 'data': ['x'], 'bogus': 1 }\n").unwrap();
    let mut lines = Vec::new();
    let err = Builder::new(dir.join("root.json")).out_dir(&dir).generate_reporting_to(&mut lines).unwrap_err();
    let text = err.to_string();
    assert!(err.diagnostics().len() >= 2, "{text}");
    assert!(text.contains("inc.json:1:"), "{text}");
    assert!(text.contains("root.json:2:"), "{text}");
    assert_eq!(format!("{err:?}"), text);
    let lines = String::from_utf8(lines).unwrap();
    assert!(lines.contains("inc.json"), "{lines}");
    assert!(!dir.join(DEFAULT_OUT_FILE).exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// QEMU's schemas before 10.2 break its documentation style rules: a
/// build generates from them and says so in one line.
#[test]
fn doc_style_problems_are_one_warning_line() {
    let dir = temp_dir("docstyle");
    let long = format!("# {}\n", "x".repeat(70));
    let schema = format!(
        "{{ 'pragma': {{ 'doc-required': true }} }}\n\
         ##\n# @Color:\n#\n# @red: red\n#\n{long}# One. Two.\n##\n{{ 'enum': 'Color', 'data': ['red'] }}\n\
         ##\n# @Shape:\n#\n# @round: round\n#\n{long}##\n{{ 'enum': 'Shape', 'data': ['round'] }}\n"
    );
    std::fs::write(dir.join("root.json"), schema).unwrap();
    let mut lines = Vec::new();
    Builder::new(dir.join("root.json")).out_dir(&dir).generate_reporting_to(&mut lines).unwrap();
    let lines = String::from_utf8(lines).unwrap();
    let warnings: Vec<&str> = lines.lines().filter(|l| l.starts_with("cargo:warning=")).collect();
    let file = dir.join("root.json");
    let file = file.display();
    let want = format!(
        "cargo:warning=qapi-gen: 3 documentation style warnings in {file} (run `qapi-gen check {file}` to list them)"
    );
    assert_eq!(warnings, [want.as_str()], "{lines}");
    // Asked for, they are errors, each listed, and nothing else is.
    let err = Builder::new(dir.join("root.json")).doc_style(DocStyle::Error).out_dir(&dir).render().unwrap_err();
    assert_eq!(err.diagnostics().len(), 3, "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unreadable_root_is_a_load_error_and_watched() {
    let dir = temp_dir("missing");
    let mut lines = Vec::new();
    let err = Builder::new(dir.join("nope.json")).out_dir(&dir).generate_reporting_to(&mut lines).unwrap_err();
    assert!(matches!(err, BuildError::Load(_)), "{err}");
    assert!(String::from_utf8(lines).unwrap().contains("nope.json"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn relative_out_file_needs_a_directory() {
    let b = Builder::new("s.json");
    if std::env::var_os("OUT_DIR").is_none() {
        assert!(matches!(b.out_path(), Err(BuildError::NoOutDir { .. })));
    }
    let mut b = Builder::new("s.json");
    b.out_file("/abs/q.rs");
    assert_eq!(b.out_path().unwrap(), Path::new("/abs/q.rs"));
}

#[test]
fn unchanged_output_is_not_rewritten() {
    let dir = temp_dir("unchanged");
    let path = dir.join("deep/er/out.rs");
    assert!(write_if_changed(&path, b"x").unwrap());
    assert!(!write_if_changed(&path, b"x").unwrap());
    assert!(write_if_changed(&path, b"y").unwrap());
    assert_eq!(std::fs::read(&path).unwrap(), b"y");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_failed_write_leaves_the_old_file_intact() {
    let dir = temp_dir("failed-write");
    let path = dir.join("out.rs");
    assert!(write_if_changed(&path, b"old text").unwrap());
    // Half the text written, then the disk is full.
    let full = |file: &mut std::fs::File, contents: &[u8]| {
        file.write_all(&contents[..contents.len() / 2])?;
        Err(io::Error::new(io::ErrorKind::StorageFull, "No space left on device"))
    };
    let err = write_if_changed_with(&path, b"new and longer text", full).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::StorageFull);
    assert_eq!(std::fs::read(&path).unwrap(), b"old text");
    // And no temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 2, "{names:?}"); // out.rs and sub/
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn large_files_are_compared_to_the_last_byte() {
    let dir = temp_dir("large");
    let path = dir.join("out.rs");
    // Several of the comparison's pieces, and a part of one.
    let text: Vec<u8> = (0..700_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    assert!(write_if_changed(&path, &text).unwrap());
    assert!(!write_if_changed(&path, &text).unwrap());
    for at in [0, 256 * 1024 - 1, 256 * 1024, text.len() - 1] {
        let mut changed = text.clone();
        changed[at] = b'!';
        assert!(holds_exactly(&path, &text));
        assert!(!holds_exactly(&path, &changed), "a change at byte {at} goes unseen");
    }
    assert!(!holds_exactly(&path, &text[1..]));
    assert!(!holds_exactly(&path, &[&text[..], b"!"].concat()));
    assert!(!holds_exactly(&dir.join("missing.rs"), b""));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A client that also reads an older version: the older files are watched,
/// members it lacks become `Option`, and what cannot be absorbed is one
/// warning line.
#[test]
fn also_reads_an_older_version() {
    let dir = temp_dir("also-reads");
    std::fs::write(
        dir.join("new.json"),
        "{ 'struct': 'Stats', 'data': { 'total': 'int', 'rate': 'int' } }\n\
         { 'command': 'query-stats', 'returns': 'Stats' }\n",
    )
    .unwrap();
    std::fs::write(dir.join("sub/old.json"), "{ 'struct': 'Stats', 'data': { 'total': 'str' } }\n").unwrap();
    std::fs::write(
        dir.join("sub/root.json"),
        "{ 'include': 'old.json' }\n{ 'command': 'query-stats', 'returns': 'Stats' }\n",
    )
    .unwrap();
    let mut b = Builder::new(dir.join("new.json"));
    b.out_dir(&dir).also_reads("1.0", dir.join("sub/root.json"));
    let rendered = b.render().unwrap();
    assert!(rendered.source.contains("pub rate: ::core::option::Option<i64>,"), "{}", rendered.source);
    assert!(rendered.source.contains("/// Absent in QEMU 1.0."));
    assert!(rendered.files.iter().any(|f| f.ends_with("sub/old.json")), "{:?}", rendered.files);
    assert_eq!(rendered.conflicts.len(), 1, "{:?}", rendered.conflicts);
    let mut lines = Vec::new();
    b.generate_reporting_to(&mut lines).unwrap();
    let lines = String::from_utf8(lines).unwrap();
    let warnings: Vec<&str> = lines.lines().filter(|l| l.starts_with("cargo:warning=")).collect();
    assert_eq!(warnings.len(), 1, "{lines}");
    assert!(warnings[0].contains("1 type change") && warnings[0].contains("Stats.total is int, but str"), "{lines}");
    assert!(lines.contains("sub/old.json"), "{lines}");
    // An older version that is missing, or invalid, is an error naming it.
    let mut missing = b.clone();
    let err = missing.also_reads("0.9", dir.join("nope.json")).render().unwrap_err();
    assert!(err.to_string().contains("nope.json"), "{err}");
    std::fs::write(dir.join("bad.json"), "{ 'struct': 'S', 'data': { 'm': 'Nope' } }\n").unwrap();
    let err = b.clone().also_reads("0.8", dir.join("bad.json")).render().unwrap_err();
    assert!(matches!(&err, BuildError::Invalid { schema, .. } if schema.ends_with("bad.json")), "{err}");
    // A server serves one version.
    let err = b.clone().mode(Mode::Server).render().unwrap_err();
    assert!(matches!(err, BuildError::Generate { source: GenError::AlsoReadsServer, .. }), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
