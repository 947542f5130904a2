//! A provider of your own, outside hookspec's bundled specs: `acme.yaml` next to this
//! crate's `Cargo.toml` becomes the module [`acme`], with the API of `hookspec::vezgo` and
//! the other bundled providers (`Event::parse`, `Handler`, `config`, `receive`, `router`).

hookspec::provider!("acme.yaml");

/// The same spec the build-script way: `build.rs` writes `$OUT_DIR/acme.rs` with
/// `hookspec_codegen::build`, and this includes it.
pub mod built {
    include!(concat!(env!("OUT_DIR"), "/acme.rs"));
}

/// hookspec-codegen's emitter fixture (a spec that takes every path of the emitter),
/// compiled with every warning an error, both through the macro and as included text
/// (which the lints see as this crate's own code).
#[doc(hidden)]
pub mod emitter_fixture {
    #![deny(warnings)]

    /// Through `hookspec::provider!`.
    pub mod via_macro {
        hookspec::provider!("../../codegen/tests/fixtures/emit-fixture.yaml");
    }

    /// Through `build.rs` and `include!`.
    pub mod via_build {
        include!(concat!(env!("OUT_DIR"), "/fixture.rs"));
    }
}
