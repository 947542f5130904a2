//! # hookspec
//!
//! Typed, verified webhook events for fintech aggregators, generated from the provider
//! specs in `spec/*.yaml` by `cargo xtask generate`.
//!
//! Each provider is a module ([`belvo`], [`bridge`], [`plaid`], [`vezgo`], ...) with one
//! struct per event and an `Event` enum whose `parse` picks the event by the provider's
//! discriminator. [`runtime`] is the small hand-written part those modules build on.

// Emitted files are formatted by prettyplease when generated; rustfmt would rewrite
// them and make `cargo xtask generate --check` fail.
#[rustfmt::skip]
pub mod providers;
pub mod runtime;

pub use providers::*;
