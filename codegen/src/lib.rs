//! hookspec's code generator: the spec model, its loader with diagnostics, validation,
//! and (in later stages) the IR and emitters.
//!
//! Data flows one way: YAML -> [`model`] -> [`validate`]d spec -> emitters -> files.

pub mod build;
pub mod check;
pub mod diagnostic;
pub mod load;
pub mod model;
pub mod validate;
pub mod yaml;

pub use diagnostic::{Diagnostic, SpecError};
pub use hookspec_core as core;
pub use load::{load_dir, load_file, load_str, LoadedSpec};
pub use model::ProviderSpec;
pub mod emit_asyncapi;
pub mod emit_core;
pub mod emit_docs;
pub mod emit_follow_up;
pub mod emit_handler;
pub mod emit_openapi;
pub mod emit_rust;
pub mod emit_schema;
pub mod generate;
pub mod import_openapi;
pub mod ir;
pub mod module;
pub mod scaffold;
