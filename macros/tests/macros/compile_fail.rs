//! A broken spec in `hookspec::provider!` (re-exported from this crate) is a compile error naming the spec's file, line
//! and column.

#[test]
fn broken_specs_do_not_compile() {
    // trybuild builds the cases in a crate of its own; the spec paths stay relative to
    // this one.
    std::env::set_var("HOOKSPEC_MANIFEST_DIR", env!("CARGO_MANIFEST_DIR"));
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
