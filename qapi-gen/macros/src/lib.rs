//! A one-line include of the Rust code `qapi-gen` generates for a QEMU QAPI
//! schema: [`include_schema!`].
//!
//! This is the convenient way in. A build script with `qapi_gen::Builder`
//! does the same with the generated file visible in `OUT_DIR`, and
//! `qapi-gen generate` writes a file to commit. All three take the same
//! options.
//!
//! ```ignore
//! pub mod qmp {
//!     qapi_macros::include_schema!("schema/qapi-schema.json", mode = "server");
//! }
//! ```

use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream};
use qapi_gen::gen::rust::{generate_tokens, CondPolicy, Mode, OlderSchema, Options};
use qapi_gen::{BuildError, Diagnostic, DocStyle, Frontend};
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{bracketed, Ident, LitBool, LitStr, Token};

/// Expands to the Rust code generated for a QAPI schema.
///
/// The first argument is the schema's root file, relative to the crate's
/// directory (`CARGO_MANIFEST_DIR`). Options follow as `key = value`:
///
/// | option | values | default |
/// | --- | --- | --- |
/// | `mode` | `"client"`, `"server"` | `"client"` |
/// | `gate_unstable` (or `unstable`) | `true`, `false`: items marked `unstable` behind `#[cfg(feature = "unstable")]` | `false` |
/// | `defined` | a list of condition names, e.g. `["CONFIG_VNC"]`: `if` conditions are evaluated against them | |
/// | `cond` | `"all-true"`, `"defined"`, `"cfg"` (conditions become `#[cfg]` attributes) | `"all-true"`, or `"defined"` with `defined` |
/// | `cfg_key` | the key of `#[cfg(KEY = "NAME")]` with `cond = "cfg"`; `"feature"` maps conditions to Cargo features | `"qapi"` |
/// | `doc_style` | `"error"`, `"warn"`: how documentation style problems count (warnings are not shown: `qapi-gen check` lists them) | `"warn"` |
/// | `unmask_introspection` | `true`, `false`: `qmp_schema()` keeps type names instead of QEMU's masked numbers | `false` |
/// | `json_codec` | `true`, `false`: also implement `qapi_runtime::json`'s `Encode`/`Decode`, a JSON codec faster than serde | `false` |
/// | `runtime` | the path of the runtime crate in generated code | `"::qapi_runtime"` |
/// | `only` | a list of command and event names, e.g. `["query-migrate", "MIGRATION"]`: generate only them and the types they reach | everything |
/// | `also_reads` | a list of `"VERSION=PATH"`, e.g. `["10.0=qemu-10.0/qapi/qapi-schema.json"]`: a client that also reads the replies of these older versions of the schema (members required in the schema but absent or optional there become `Option`) | none |
///
/// ```ignore
/// mod qmp {
///     qapi_macros::include_schema!(
///         "schema/qapi-schema.json",
///         mode = "server",
///         gate_unstable = true,
///         defined = ["CONFIG_VNC", "CONFIG_SPICE"],
///     );
/// }
/// ```
///
/// Put it in a module of its own: the generated code defines many items.
/// For instance, with one of this repository's test schemas (the path is
/// relative to this crate's directory):
///
/// ```
/// mod shapes {
///     qapi_macros::include_schema!("../../tests/golden/enums.json", mode = "server");
/// }
///
/// assert_eq!(shapes::Color::LightGreen.as_str(), "light-green");
/// ```
///
/// Every problem in the schema becomes a compile error at the path literal
/// whose message starts with the schema's own `FILE:LINE:COL`; a bad option
/// is an error at the option. Schema warnings are not shown (stable Rust has
/// no way for a macro to emit warnings): run `qapi-gen check` to see them.
///
/// Every schema file read, included ones too, is tracked: editing one
/// rebuilds the crate. A file that no schema file includes yet is not;
/// including it edits a tracked file.
///
/// Test harnesses that compile code elsewhere (trybuild) may set the
/// environment variable `QAPI_MACROS_MANIFEST_DIR` to the directory paths
/// are relative to; it takes precedence over `CARGO_MANIFEST_DIR`.
#[proc_macro]
pub fn include_schema(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    match syn::parse::<Input>(input).and_then(expand) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// The macro's input: the schema path and the options as written.
struct Input {
    path: LitStr,
    options: Vec<Setting>,
}

/// One `key = value`.
struct Setting {
    key: Ident,
    value: Value,
}

/// What an option's value may look like.
enum Value {
    Str(LitStr),
    Bool(LitBool),
    List(Span, Vec<LitStr>),
}

impl Value {
    fn span(&self) -> Span {
        match self {
            Value::Str(s) => s.span(),
            Value::Bool(b) => b.span,
            Value::List(span, _) => *span,
        }
    }
}

impl Parse for Input {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let path: LitStr =
            input.parse().map_err(|e| syn::Error::new(e.span(), "expected the schema's path as a string literal"))?;
        let mut options = Vec::new();
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            options.push(input.parse()?);
        }
        Ok(Input { path, options })
    }
}

impl Parse for Setting {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key: Ident = input.parse().map_err(|e| syn::Error::new(e.span(), "expected an option: `name = value`"))?;
        input.parse::<Token![=]>()?;
        let value = if input.peek(LitStr) {
            Value::Str(input.parse()?)
        } else if input.peek(LitBool) {
            Value::Bool(input.parse()?)
        } else if input.peek(syn::token::Bracket) {
            let content;
            let bracket = bracketed!(content in input);
            let items = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
            Value::List(bracket.span.join(), items.into_iter().collect())
        } else {
            return Err(input.error("expected a string, `true`, `false` or a list of strings"));
        };
        Ok(Setting { key, value })
    }
}

/// The `cond` option's values.
#[derive(Clone, Copy)]
enum Cond {
    AllTrue,
    Defined,
    Cfg,
}

/// Collects errors so that all of them are reported, not only the first.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// What the options ask for besides the generator's [`Options`].
struct Extra {
    doc_style: DocStyle,
    /// `only`'s names.
    only: Vec<LitStr>,
    /// `also_reads`: each version, its root file, and the literal.
    also_reads: Vec<(String, String, LitStr)>,
}

/// The builder the options ask for.
fn settings(input: &Input, errors: &mut Errors) -> (Options, Extra) {
    let mut opts = Options::default();
    // QEMU's released schemas before 10.2 break its documentation style
    // rules: generation takes them as they are.
    let mut doc_style = DocStyle::Warn;
    let mut seen: Vec<String> = Vec::new();
    let mut defined: Option<&Setting> = None;
    let mut cond: Option<(&Setting, Cond)> = None;
    let mut only = Vec::new();
    let mut also_reads = Vec::new();
    for s in &input.options {
        let mut key = s.key.to_string();
        if key == "unstable" {
            key = "gate_unstable".into();
        }
        if seen.contains(&key) {
            errors.push(syn::Error::new(s.key.span(), format!("option `{key}` is given twice")));
            continue;
        }
        seen.push(key.clone());
        let bad = |what: &str| syn::Error::new(s.value.span(), format!("`{}` must be {what}", s.key));
        match (key.as_str(), &s.value) {
            ("mode", Value::Str(v)) => match v.value().as_str() {
                "client" => opts.mode = Mode::Client,
                "server" => opts.mode = Mode::Server,
                _ => errors.push(bad("\"client\" or \"server\"")),
            },
            ("mode", _) => errors.push(bad("\"client\" or \"server\"")),
            ("gate_unstable", Value::Bool(b)) => opts.gate_unstable = b.value,
            ("gate_unstable", _) => errors.push(bad("`true` or `false`")),
            ("defined", Value::List(..)) => defined = Some(s),
            ("defined", _) => errors.push(bad("a list of condition names, e.g. [\"CONFIG_VNC\"]")),
            ("cond", Value::Str(v)) => match v.value().as_str() {
                "all-true" => cond = Some((s, Cond::AllTrue)),
                "defined" => cond = Some((s, Cond::Defined)),
                "cfg" => cond = Some((s, Cond::Cfg)),
                _ => errors.push(bad("\"all-true\", \"defined\" or \"cfg\"")),
            },
            ("cond", _) => errors.push(bad("\"all-true\", \"defined\" or \"cfg\"")),
            ("doc_style", Value::Str(v)) => match v.value().as_str() {
                "error" => doc_style = DocStyle::Error,
                "warn" => doc_style = DocStyle::Warn,
                _ => errors.push(bad("\"error\" or \"warn\"")),
            },
            ("doc_style", _) => errors.push(bad("\"error\" or \"warn\"")),
            ("cfg_key", Value::Str(v)) => opts.cfg_key = v.value(),
            ("cfg_key", _) => errors.push(bad("a string, e.g. \"feature\"")),
            ("unmask_introspection", Value::Bool(b)) => opts.unmask_introspection = b.value,
            ("unmask_introspection", _) => errors.push(bad("`true` or `false`")),
            ("json_codec", Value::Bool(b)) => opts.json_codec = b.value,
            ("json_codec", _) => errors.push(bad("`true` or `false`")),
            ("runtime", Value::Str(v)) => opts.runtime_path = v.value(),
            ("runtime", _) => errors.push(bad("a path as a string, e.g. \"::qapi_runtime\"")),
            ("only", Value::List(_, items)) => only.clone_from(items),
            ("only", _) => errors.push(bad("a list of command and event names, e.g. [\"query-migrate\"]")),
            ("also_reads", Value::List(_, items)) => also_reads = versions_read(items, errors),
            ("also_reads", _) => errors.push(bad("a list of \"VERSION=PATH\", e.g. [\"10.0=old/qapi-schema.json\"]")),
            _ => errors.push(syn::Error::new(
                s.key.span(),
                format!(
                    "unknown option `{}`; the options are `mode`, `gate_unstable`, `defined`, `cond`, \
                     `cfg_key`, `doc_style`, `unmask_introspection`, `json_codec`, `runtime`, `only` and \
                     `also_reads`",
                    s.key
                ),
            )),
        }
    }
    opts.cond = cond_policy(cond, defined, errors);
    (opts, Extra { doc_style, only, also_reads })
}

/// `also_reads`' items, each `VERSION=PATH`.
fn versions_read(items: &[LitStr], errors: &mut Errors) -> Vec<(String, String, LitStr)> {
    let mut out = Vec::new();
    for item in items {
        match item.value().split_once('=') {
            Some((v, p)) if !v.is_empty() && !p.is_empty() => out.push((v.to_owned(), p.to_owned(), item.clone())),
            _ => errors.push(syn::Error::new(
                item.span(),
                "each of `also_reads` must be \"VERSION=PATH\", e.g. \"10.0=qemu-10.0/qapi/qapi-schema.json\"",
            )),
        }
    }
    out
}

/// What `cond` and `defined` ask for together.
fn cond_policy(cond: Option<(&Setting, Cond)>, defined: Option<&Setting>, errors: &mut Errors) -> CondPolicy {
    let names = || match defined {
        Some(Setting { value: Value::List(_, items), .. }) => items.iter().map(LitStr::value).collect(),
        _ => Default::default(),
    };
    match (cond, defined) {
        (None, None) | (Some((_, Cond::AllTrue)), None) => CondPolicy::AllTrue,
        (Some((_, Cond::Cfg)), None) => CondPolicy::Cfg,
        (None, Some(_)) | (Some((_, Cond::Defined)), _) => CondPolicy::Defined(names()),
        (Some((c, _)), Some(d)) => {
            let mut e = syn::Error::new(d.key.span(), "`defined` needs `cond = \"defined\"` (or no `cond`)");
            e.combine(syn::Error::new(c.value.span(), "`cond` given here"));
            errors.push(e);
            CondPolicy::AllTrue
        }
    }
}

fn expand(input: Input) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let (mut options, Extra { doc_style, only, also_reads }) = settings(&input, &mut errors);
    errors.finish()?;

    let base = manifest_dir().map_err(|msg| syn::Error::new(input.path.span(), msg))?;
    let schema = base.join(input.path.value());
    let checked = match Frontend::new().doc_style(doc_style).check_file(&schema) {
        Ok(checked) => checked,
        Err(e) => return Err(schema_errors(&BuildError::from(e), &base, input.path.span())),
    };
    if !checked.is_valid() {
        let e = BuildError::Invalid { schema, diagnostics: checked.diagnostics };
        return Err(schema_errors(&e, &base, input.path.span()));
    }
    let names: Vec<String> = only.iter().map(LitStr::value).collect();
    let schema_model = checked.schema.only(&names).map_err(|e| {
        let at = only.iter().find(|l| l.value() == e.name()).map_or(input.path.span(), LitStr::span);
        syn::Error::new(at, e.to_string())
    })?;
    let mut files = checked.files;
    for (version, path, lit) in &also_reads {
        let (older, read) = older_schema(&base, version, path, lit.span())?;
        options.also_reads.push(older);
        files.extend(read);
    }
    let code = generate_tokens(&schema_model, &options).map_err(|source| {
        schema_errors(&BuildError::Generate { schema: schema.clone(), source }, &base, input.path.span())
    })?;
    let tracked = files.iter().map(|f| {
        let path = if f.is_absolute() { f.clone() } else { base.join(f) };
        LitStr::new(&path.to_string_lossy(), Span::call_site())
    });
    Ok(quote! {
        #(const _: &[u8] = ::core::include_bytes!(#tracked);)*
        #code
    })
}

/// Version `version` of the schema at `path` (relative to `base`) and the
/// files read; its errors at `at`. Its documentation style is not held
/// against it: QEMU's older schemas break the rules QEMU 10.2 made.
fn older_schema(base: &Path, version: &str, path: &str, at: Span) -> syn::Result<(OlderSchema, Vec<PathBuf>)> {
    let file = base.join(path);
    let checked = Frontend::new()
        .doc_style(DocStyle::Warn)
        .check_file(&file)
        .map_err(|e| schema_errors(&BuildError::from(e), base, at))?;
    if !checked.is_valid() {
        return Err(schema_errors(&BuildError::Invalid { schema: file, diagnostics: checked.diagnostics }, base, at));
    }
    Ok((OlderSchema::new(version, checked.schema), checked.files))
}

/// The directory schema paths are relative to.
fn manifest_dir() -> Result<PathBuf, &'static str> {
    std::env::var_os("QAPI_MACROS_MANIFEST_DIR")
        .or_else(|| std::env::var_os("CARGO_MANIFEST_DIR"))
        .map(PathBuf::from)
        .ok_or("CARGO_MANIFEST_DIR is not set: schema paths are relative to it (is this built by Cargo?)")
}

/// One compile error per diagnostic (or one for an unreadable schema), all
/// at the schema literal, with file names relative to `base`.
fn schema_errors(e: &BuildError, base: &Path, at: Span) -> syn::Error {
    let prefix = format!("{}{}", base.display(), std::path::MAIN_SEPARATOR);
    let relative = |text: String| text.replace(&prefix, "");
    let mut errors = Errors::default();
    if e.diagnostics().is_empty() {
        errors.push(syn::Error::new(at, relative(e.to_string())));
    }
    for d in e.diagnostics().iter().filter(|d| d.is_error()) {
        errors.push(syn::Error::new(at, relative(render(d))));
    }
    match errors.0 {
        Some(e) => e,
        None => syn::Error::new(at, relative(e.to_string())),
    }
}

/// A diagnostic as a compile error's message: `FILE:LINE:COL: message`
/// (rustc says `error:` already), the definition and include chain, then
/// the offending line with a caret under the problem.
fn render(d: &Diagnostic) -> String {
    let location = d.span.location();
    let full = d.to_string();
    // What Display adds after the message: definition, includes, help.
    let kind = if d.is_error() { "error" } else { "warning" };
    let Some(tail) = full.strip_prefix(&format!("{location}: {kind}: {}", d.message)) else {
        return full + &snippet(d);
    };
    format!("{location}: {}{tail}{}", d.message, snippet(d))
}

/// The line the diagnostic points into and a caret line under its span.
fn snippet(d: &Diagnostic) -> String {
    let file = &d.span.file;
    let (line, col) = d.span.line_col();
    let start = file.line_start(line);
    let text = file.text.get(start..).unwrap_or("");
    let text = text.split('\n').next().unwrap_or("").trim_end_matches('\r');
    if text.trim().is_empty() {
        return String::new();
    }
    // Tabs expand to the next multiple of 8, as columns count them.
    let mut shown = String::new();
    for ch in text.chars() {
        if ch == '\t' {
            shown.push(' ');
            while shown.chars().count() % 8 != 0 {
                shown.push(' ');
            }
        } else {
            shown.push(ch);
        }
    }
    let on_line = d.span.end.min(start + text.len()).saturating_sub(d.span.start);
    let width = file.text.get(d.span.start..d.span.start + on_line).map_or(1, |s| s.chars().count()).max(1);
    let number = line.to_string();
    let pad = " ".repeat(number.len());
    format!(
        "\n{pad} |\n{number} | {shown}\n{pad} | {}{}",
        " ".repeat(col.saturating_sub(1) as usize),
        "^".repeat(width)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expands `input` (the macro's arguments); `Err` holds every message.
    fn expand_str(input: &str) -> Result<String, Vec<String>> {
        let input: Input = syn::parse_str(input).map_err(|e| vec![e.to_string()])?;
        expand(input).map(|t| t.to_string()).map_err(|e| e.into_iter().map(|e| e.to_string()).collect())
    }

    #[test]
    fn every_schema_file_read_is_tracked() {
        let out = expand_str(r#""../../tests/fixtures/build/qapi-schema.json""#).unwrap();
        let tracked: Vec<&str> = out.match_indices("include_bytes").map(|(i, _)| &out[i..]).collect();
        assert_eq!(tracked.len(), 2, "{out}");
        assert!(tracked[0].split(')').next().unwrap().contains("fixtures/build/qapi-schema.json"));
        assert!(tracked[1].split(')').next().unwrap().contains("fixtures/build/sub/common.json"));
        assert!(out.contains("FixtureColor"), "{out}");
    }

    #[test]
    fn every_schema_error_is_reported_relative_to_the_crate() {
        let errors = expand_str(r#""../../tests/ui/schemas/semantic.json""#).unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:#?}");
        assert!(errors[0].starts_with("../../tests/ui/schemas/semantic-included.json:3:11: "), "{errors:#?}");
        assert!(errors[0].contains("included from ../../tests/ui/schemas/semantic.json:3"), "{errors:#?}");
        assert!(errors[2].starts_with("../../tests/ui/schemas/semantic.json:9:14: "), "{errors:#?}");
        assert!(errors[2].ends_with("\n  |              ^^^^^^^^^^^"), "{errors:#?}");
    }

    #[test]
    fn only_generates_a_subset_and_names_an_unknown_command() {
        let out = expand_str(r#""../../tests/fixtures/build/qapi-schema.json", only = ["query-fixture"]"#).unwrap();
        assert!(out.contains("FixtureColor"), "{out}");
        let errors = expand_str(r#""../../tests/fixtures/build/qapi-schema.json", only = ["query-fixture", "nope"]"#)
            .unwrap_err();
        assert_eq!(errors, ["'nope' is not a command or event of the schema"]);
    }

    #[test]
    fn also_reads_older_versions_and_tracks_their_files() {
        let out = expand_str(
            r#""../../tests/golden/versions.json", also_reads = ["10.0=../../tests/fixtures/versions/10.0.json"]"#,
        )
        .unwrap();
        assert!(out.contains("fixtures/versions/10.0.json"), "{out}");
        assert!(out.contains("Absent before QEMU 10.1."), "{out}");
        let errors = expand_str(r#""../../tests/golden/versions.json", also_reads = ["10.0"]"#).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(errors[0].contains("VERSION=PATH"), "{errors:#?}");
        let errors = expand_str(r#""../../tests/golden/versions.json", also_reads = ["10.0=nope.json"]"#).unwrap_err();
        assert!(errors[0].contains("nope.json"), "{errors:#?}");
    }

    #[test]
    fn every_bad_option_is_reported() {
        let errors = expand_str(r#""x.json", mode = "browser", gate_unstable = 1"#).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:#?}");
        let errors = expand_str(r#""x.json", mode = "browser", gate_unstable = "no", colour = "red""#).unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:#?}");
        let errors = expand_str(r#""x.json", mode = "client", mode = "server""#).unwrap_err();
        assert_eq!(errors, ["option `mode` is given twice"]);
    }

    #[test]
    fn options_reach_the_generator() {
        let input: Input = syn::parse_str(
            r#""s.json", mode = "server", unstable = true, defined = ["A", "B"], doc_style = "error", runtime = "::rt",
              unmask_introspection = true,"#,
        )
        .unwrap();
        let mut errors = Errors::default();
        let (opts, Extra { doc_style: style, .. }) = settings(&input, &mut errors);
        assert!(errors.finish().is_ok());
        assert_eq!(opts.mode, Mode::Server);
        assert!(opts.gate_unstable);
        assert_eq!(opts.cond, CondPolicy::Defined(["A".to_owned(), "B".to_owned()].into()));
        assert_eq!(style, DocStyle::Error);
        assert_eq!(opts.runtime_path, "::rt");
        assert!(opts.unmask_introspection);
    }
}
