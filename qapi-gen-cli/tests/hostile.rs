//! Hostile input: each gives a diagnostic and an exit status, never a
//! panic, a hang or a crash.

use std::path::Path;
use std::process::{Command, Output};

fn check(path: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qapi-gen")).arg("check").arg(path).output().expect("qapi-gen runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh directory, removed when dropped (the deep include chain alone
/// is 40 MB of files).
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn join(&self, name: impl AsRef<Path>) -> std::path::PathBuf {
        self.0.join(name)
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(name: &str) -> TempDir {
    let dir = std::env::temp_dir().join(format!("qapi-gen-hostile-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    TempDir(dir)
}

#[test]
fn deep_nesting_is_a_diagnostic() {
    let dir = temp_dir("nest");
    let f = dir.join("deep.json");
    let text = format!("{{ 'x': {}{} }}\n", "[".repeat(100_000), "]".repeat(100_000));
    std::fs::write(&f, text).expect("write");
    let o = check(&f);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("deep.json:1:"), "{}", stderr(&o));
    assert!(stderr(&o).contains("nesting deeper than"), "{}", stderr(&o));
}

#[test]
fn invalid_utf8_is_located() {
    let dir = temp_dir("utf8");
    let f = dir.join("bad.json");
    std::fs::write(&f, b"{ 'enum': 'E',\n  'data': [ '\xff\xfe' ] }\n").expect("write");
    let o = check(&f);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with("bad.json:2:14:") || stderr(&o).contains("bad.json:2:"), "{}", stderr(&o));
}

#[test]
fn empty_file_is_valid() {
    let dir = temp_dir("empty");
    let f = dir.join("empty.json");
    std::fs::write(&f, "").expect("write");
    let o = check(&f);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn directory_is_an_io_error() {
    let dir = temp_dir("dir");
    let o = check(&dir);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("Is a directory"), "{}", stderr(&o));
}

#[test]
fn missing_file_is_an_io_error() {
    let o = check(Path::new("/nonexistent/schema.json"));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("No such file or directory"), "{}", stderr(&o));
}

#[test]
fn self_include_is_a_loop() {
    let dir = temp_dir("self");
    let f = dir.join("me.json");
    std::fs::write(&f, "{ 'include': 'me.json' }\n").expect("write");
    let o = check(&f);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("me.json:1:1: error: inclusion loop for me.json"), "{}", stderr(&o));
}

#[test]
fn include_of_a_directory_is_reported_at_the_include() {
    let dir = temp_dir("incdir");
    std::fs::create_dir_all(dir.join("sub")).expect("mkdir");
    let f = dir.join("root.json");
    std::fs::write(&f, "\n{ 'include': 'sub' }\n").expect("write");
    let o = check(&f);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("root.json:2:1: error: can't read include file 'sub'"), "{}", stderr(&o));
}

/// Each of 21 files includes the next twice, through two directories
/// (`x/../f1.json`, `y/../f1.json`): 2^20 spellings of the last file, one
/// file. Read by spelling, this took minutes and gigabytes; each file is
/// now read once. QEMU's rule holds: a file included again is skipped.
#[test]
fn aliased_includes_are_read_once() {
    let dir = temp_dir("alias");
    for sub in ["x", "y"] {
        std::fs::create_dir_all(dir.join(sub)).expect("mkdir");
    }
    let last = 20;
    for i in 0..last {
        let next = i + 1;
        let text = format!("{{ 'include': 'x/../f{next}.json' }}\n{{ 'include': 'y/../f{next}.json' }}\n");
        std::fs::write(dir.join(format!("f{i}.json")), text).expect("write");
    }
    std::fs::write(dir.join(format!("f{last}.json")), "{ 'enum': 'Letter', 'data': [ 'a' ] }\n").expect("write");
    let o = Command::new(env!("CARGO_BIN_EXE_qapi-gen"))
        .arg("dump")
        .arg(dir.join("f0.json"))
        .output()
        .expect("qapi-gen runs");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let dump = String::from_utf8_lossy(&o.stdout);
    assert_eq!(dump.matches("enum Letter").count(), 1, "{dump}");
}

/// A chain of 10,000 includes stops at the include that goes too deep,
/// with a diagnostic there, instead of overflowing the stack.
#[test]
fn deep_include_chain_is_a_diagnostic() {
    let dir = temp_dir("deepinc");
    let files = 10_000;
    for i in 0..files {
        let text = if i + 1 < files {
            format!("\n  {{ 'include': 'd{}.json' }}\n", i + 1)
        } else {
            "{ 'enum': 'Letter', 'data': [ 'a' ] }\n".to_owned()
        };
        std::fs::write(dir.join(format!("d{i}.json")), text).expect("write");
    }
    let o = check(&dir.join("d0.json"));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let depth = 100; // qapi_gen::syntax::load::MAX_INCLUDE_DEPTH
    let want = format!("/d{depth}.json:2:3: error: can't include 'd{}.json': includes nest deeper than", depth + 1);
    let first = stderr(&o).lines().next().unwrap_or("").to_owned();
    assert!(first.contains(&want), "{first}");
    assert!(stderr(&o).contains("/d0.json:2\n"), "{}", stderr(&o));
}

/// A file included under two spellings is named in diagnostics as the
/// walk over the includes first meets it (through `a.json`), though the
/// parallel read-ahead reaches the other spelling (the root's) first.
#[test]
fn an_aliased_file_is_named_as_first_included() {
    let dir = temp_dir("alias-name");
    std::fs::create_dir_all(dir.join("x")).expect("mkdir");
    std::fs::write(dir.join("root.json"), "{ 'include': 'a.json' }\n{ 'include': 'bad.json' }\n").expect("write");
    std::fs::write(dir.join("a.json"), "{ 'include': 'x/../bad.json' }\n").expect("write");
    std::fs::write(dir.join("bad.json"), "{ 'enum': 'lower', 'data': [] }\n").expect("write");
    for _ in 0..10 {
        let o = check(&dir.join("root.json"));
        assert_eq!(o.status.code(), Some(1));
        assert!(stderr(&o).contains("/x/../bad.json:1:11: error:"), "{}", stderr(&o));
    }
}
