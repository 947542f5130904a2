//! The build-script way: `$OUT_DIR/acme.rs` from the same spec the macro reads, and
//! `$OUT_DIR/fixture.rs` from codegen's emitter fixture (see `emitter_fixture` in lib.rs).

fn main() {
    hookspec_codegen::build::Build::new()
        .spec("acme.yaml")
        .spec("../../codegen/tests/fixtures/emit-fixture.yaml")
        .run();
}
