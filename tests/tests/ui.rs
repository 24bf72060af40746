//! The `include_schema!` macro's compile errors (trybuild): a missing
//! file, a syntax error, semantic errors (in an included file too), bad
//! options. Each `.stderr` shows the schema's own `FILE:LINE:COL`.
//! `TRYBUILD=overwrite` rewrites the expectations.

#[test]
fn macro_errors() {
    // trybuild compiles the cases in a scratch crate of its own: make the
    // macro resolve schema paths against this crate's directory instead.
    std::env::set_var("QAPI_MACROS_MANIFEST_DIR", env!("CARGO_MANIFEST_DIR"));
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/fail/*.rs");
    t.pass("ui/pass/*.rs");
}
