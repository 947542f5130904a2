//! # hookspec
//!
//! Typed, verified webhook events for fintech aggregators, generated from the provider
//! specs in `spec/*.yaml` by `cargo xtask generate`.
//!
//! Each provider is a module (`belvo`, `bridge`, `plaid`, `vezgo`, ...) with one struct per
//! event and an `Event` enum whose `parse` picks the event by the provider's discriminator.
//! Each module sits behind the cargo feature of its name; all are on by default.
//! [`runtime`] (the `hookspec-runtime` crate) is the small hand-written part those modules
//! build on.
//!
//! A readable catalogue of each provider (delivery and retry rules, how to authenticate a
//! delivery, every event with its fields) is generated into the crate's `docs/` directory:
//! `generated/docs/<provider>.md`, with an index in `generated/docs/README.md`.

// Emitted files are formatted by prettyplease when generated; rustfmt would rewrite
// them and make `cargo xtask generate --check` fail.
#[rustfmt::skip]
pub mod providers;

/// The hand-written runtime the provider modules build on (the `hookspec-runtime` crate).
pub use hookspec_runtime as runtime;

pub use providers::*;

/// `hookspec::provider!("spec/acme.yaml")`: `pub mod acme { ... }` generated from your own
/// spec (the path is relative to your crate's `Cargo.toml`), with the same API as the
/// bundled providers' modules. A broken spec is a compile error at its file:line:column.
#[cfg(feature = "macros")]
pub use hookspec_macros::provider;
