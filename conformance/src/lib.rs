//! # hookspec-conformance
//!
//! Plays a webhook provider against any receiver over HTTP and reports whether the
//! receiver survives what the provider sends. It reads the same validated spec model as
//! the code generator ([`hookspec_codegen`]), so a provider added as YAML is testable
//! with no Rust written.

pub mod cases;
pub mod http;
pub mod specs;

pub use hookspec_codegen::{load_dir, LoadedSpec};
