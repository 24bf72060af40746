//! What a user's crate pulls in (issue 17): a crate that only uses
//! `qapi_macros::include_schema!`, and one that only runs
//! `qapi_gen::Builder` in its build script, each laid out outside the
//! workspace with path dependencies on it. `cargo tree` of either shows no
//! command-line crates (clap, miette's `fancy` feature, mimalloc), no rayon
//! (an opt-in feature) and one major version of syn.
//!
//! `cargo tree` resolves without building, offline, from a copy of the
//! workspace's lock file: the test takes a second or two. Where cargo
//! cannot resolve offline (a registry cache without these crates), it says
//! it was skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Crates the library must not bring into a user's build.
const FORBIDDEN: &[&str] =
    &["clap", "clap_builder", "clap_derive", "mimalloc", "libmimalloc-sys", "rayon", "rayon-core"];

fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().expect("checkout")
}

/// One crate of a scratch workspace of its own in the system's temporary
/// directory (outside this workspace, whose lock and features it must not
/// share); removed when dropped.
struct UserCrate {
    dir: PathBuf,
}

impl UserCrate {
    fn new(name: &str, dependencies: &str, build_dependencies: &str, build_rs: Option<&str>, lib_rs: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("qapi-deps-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("src")).expect("scratch crate");
        let manifest = format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\n{dependencies}\n[build-dependencies]\n{build_dependencies}\n[workspace]\n"
        );
        std::fs::write(dir.join("Cargo.toml"), manifest).expect("Cargo.toml");
        // The workspace's versions, so that cargo needs no network.
        std::fs::copy(checkout().join("Cargo.lock"), dir.join("Cargo.lock")).expect("Cargo.lock");
        if let Some(build_rs) = build_rs {
            std::fs::write(dir.join("build.rs"), build_rs).expect("build.rs");
        }
        std::fs::write(dir.join("src/lib.rs"), lib_rs).expect("lib.rs");
        UserCrate { dir }
    }

    /// `cargo tree --offline -e normal,build` with `{p}|{f}` lines (package,
    /// then its features), or why cargo could not resolve.
    fn tree(&self) -> Result<Vec<(String, String, String)>, String> {
        let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args(["tree", "--offline", "-e", "normal,build", "--prefix", "none", "-f", "{p}|{f}"])
            .current_dir(&self.dir)
            .env_remove("CARGO_TARGET_DIR")
            .output()
            .map_err(|e| format!("cargo: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        let text = String::from_utf8(out.stdout).expect("UTF-8");
        Ok(text.lines().filter_map(parse_line).collect())
    }
}

impl Drop for UserCrate {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `name vX.Y.Z (path)|feature,feature (*)` to (name, version, features).
fn parse_line(line: &str) -> Option<(String, String, String)> {
    let (package, features) = line.split_once('|')?;
    let mut words = package.split_whitespace();
    let name = words.next()?.to_owned();
    let version = words.next()?.trim_start_matches('v').to_owned();
    let features = features.trim_end_matches(" (*)").trim().to_owned();
    Some((name, version, features))
}

/// The assertions of issue 17's done-when, on one crate's tree.
fn check(what: &str, krate: &UserCrate) {
    let tree = match krate.tree() {
        Ok(tree) => tree,
        Err(why) => {
            eprintln!("skipped: cargo cannot resolve {what} offline: {why}");
            return;
        }
    };
    assert!(tree.iter().any(|(n, _, _)| n == "qapi-gen"), "{what}: qapi-gen not in the tree: {tree:?}");
    for (name, version, features) in &tree {
        assert!(!FORBIDDEN.contains(&name.as_str()), "{what}: {name} {version} is in the tree");
        if name == "miette" {
            assert!(!features.split(',').any(|f| f == "fancy"), "{what}: miette with 'fancy': {features}");
        }
    }
    let mut syn_majors: Vec<&str> =
        tree.iter().filter(|(n, _, _)| n == "syn").map(|(_, v, _)| v.split('.').next().unwrap_or(v)).collect();
    syn_majors.sort_unstable();
    syn_majors.dedup();
    assert!(syn_majors.len() <= 1, "{what}: syn versions {syn_majors:?}");
    let count = {
        let mut names: Vec<&(String, String, String)> = tree.iter().collect();
        names.sort();
        names.dedup();
        names.len()
    };
    println!("{what}: {count} packages, syn {syn_majors:?}, none of {FORBIDDEN:?}, no miette 'fancy'");
}

#[test]
fn include_schema_user_pulls_in_no_cli_crates() {
    let root = checkout();
    let krate = UserCrate::new(
        "uses-include-schema",
        &format!(
            "qapi-macros = {{ path = {:?} }}\nqapi-runtime = {{ path = {:?} }}\n",
            root.join("qapi-gen/macros"),
            root.join("qapi-runtime")
        ),
        "",
        None,
        "mod qmp {\n    qapi_macros::include_schema!(\"schema/qapi-schema.json\");\n}\n",
    );
    check("a crate using include_schema!", &krate);
}

#[test]
fn builder_user_pulls_in_no_cli_crates() {
    let root = checkout();
    let krate = UserCrate::new(
        "uses-builder",
        &format!("qapi-runtime = {{ path = {:?} }}\n", root.join("qapi-runtime")),
        &format!("qapi-gen = {{ path = {:?} }}\n", root.join("qapi-gen")),
        Some("fn main() {\n    qapi_gen::Builder::new(\"schema/qapi-schema.json\").generate().unwrap();\n}\n"),
        "pub mod qmp {\n    include!(concat!(env!(\"OUT_DIR\"), \"/qapi.rs\"));\n}\n",
    );
    check("a crate using qapi_gen::Builder in build.rs", &krate);
}
