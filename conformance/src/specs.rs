//! The provider specs compiled into this crate, and loading specs from a directory.

use hookspec_codegen::{ProviderSpec, SpecError};

/// `(provider, file, YAML text)` of every spec in the workspace's `spec/` at build time.
const BUILTIN: &[(&str, &str, &str)] = include!(concat!(env!("OUT_DIR"), "/specs.rs"));

/// Names of the built-in providers, sorted.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(name, _, _)| *name).collect()
}

/// The built-in spec of `provider`, validated; `None` for an unknown provider.
pub fn builtin(provider: &str) -> Option<ProviderSpec> {
    let (_, file, text) = BUILTIN.iter().find(|(name, _, _)| *name == provider)?;
    // The same files pass `cargo xtask generate`; a failure here means a broken build.
    hookspec_codegen::load_str(file, text).ok()
}

/// Every built-in spec, validated, sorted by provider name.
pub fn builtin_all() -> Result<Vec<ProviderSpec>, SpecError> {
    BUILTIN
        .iter()
        .map(|(_, file, text)| hookspec_codegen::load_str(file, text))
        .collect()
}

/// Every spec in `dir`, validated, sorted by provider name.
pub fn load_dir(dir: &std::path::Path) -> Result<Vec<ProviderSpec>, SpecError> {
    let mut specs: Vec<ProviderSpec> = hookspec_codegen::load_dir(dir)?
        .into_iter()
        .map(|l| l.spec)
        .collect();
    specs.sort_by(|a, b| a.provider.cmp(&b.provider));
    Ok(specs)
}
