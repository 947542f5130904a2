//! # hookspec
//!
//! Typed, verified webhook events for fintech aggregators, generated from the provider
//! specs in `spec/*.yaml` by `cargo xtask generate`.
//!
//! The per-provider modules (events, parsing, verification and dispatch) are emitted into
//! this crate by the code generator; until it lands, this crate is empty on purpose.
