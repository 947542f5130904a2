//! Generating a provider module from a build script.
//!
//! ```ignore
//! // build.rs (with `hookspec-codegen` as a build-dependency)
//! fn main() {
//!     hookspec_codegen::build::generate("spec/acme.yaml");
//! }
//! ```
//!
//! ```ignore
//! // src/lib.rs: `pub mod acme { ... }`, naming the runtime `::hookspec::runtime`
//! include!(concat!(env!("OUT_DIR"), "/acme.rs"));
//! ```
//!
//! A spec that does not load fails the build with its diagnostics (file:line:column and
//! what is wrong), and Cargo reruns the script when the spec changes.

use std::path::{Path, PathBuf};

use crate::module;

/// Where the generated module finds the runtime when the crate depends on `hookspec`.
pub const HOOKSPEC_RUNTIME: &str = "::hookspec::runtime";

/// Generates the module for each spec given; paths are relative to the crate's
/// `CARGO_MANIFEST_DIR`.
#[derive(Debug, Clone)]
pub struct Build {
    specs: Vec<PathBuf>,
    runtime: String,
}

impl Default for Build {
    fn default() -> Self {
        Build::new()
    }
}

impl Build {
    /// No specs yet; the modules will name the runtime [`HOOKSPEC_RUNTIME`].
    pub fn new() -> Self {
        Build {
            specs: Vec::new(),
            runtime: HOOKSPEC_RUNTIME.to_owned(),
        }
    }

    /// Adds a spec, relative to `CARGO_MANIFEST_DIR`.
    pub fn spec(mut self, path: impl AsRef<Path>) -> Self {
        self.specs.push(path.as_ref().to_owned());
        self
    }

    /// The path the modules name the runtime by: [`HOOKSPEC_RUNTIME`] by default,
    /// [`module::RUNTIME`] for a crate that depends on `hookspec-runtime` itself.
    pub fn runtime(mut self, path: impl Into<String>) -> Self {
        self.runtime = path.into();
        self
    }

    /// Writes `$OUT_DIR/<provider>.rs` for every spec and returns their paths, or the
    /// first spec's diagnostics (or I/O error) as text.
    pub fn try_run(&self) -> Result<Vec<PathBuf>, String> {
        let manifest = env_path("CARGO_MANIFEST_DIR")?;
        let out_dir = env_path("OUT_DIR")?;
        let mut written = Vec::new();
        for spec in &self.specs {
            println!("cargo:rerun-if-changed={}", manifest.join(spec).display());
            let (module, _) = module::from_file(&manifest, spec, &self.runtime)?;
            let path = out_dir.join(format!("{}.rs", module.name.trim_start_matches("r#")));
            std::fs::write(&path, module.source(&spec.display().to_string()))
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            written.push(path);
        }
        Ok(written)
    }

    /// [`Build::try_run`], ending the build script with the diagnostics on failure.
    pub fn run(&self) {
        if let Err(message) = self.try_run() {
            eprintln!("{message}");
            for line in message.lines() {
                println!("cargo:warning={line}");
            }
            std::process::exit(1);
        }
    }
}

/// Generates `$OUT_DIR/<provider>.rs` from one spec (relative to `CARGO_MANIFEST_DIR`),
/// naming the runtime `::hookspec::runtime`; fails the build on a broken spec.
pub fn generate(spec: impl AsRef<Path>) {
    Build::new().spec(spec).run();
}

fn env_path(name: &str) -> Result<PathBuf, String> {
    std::env::var_os(name)
        .map(PathBuf::from)
        .ok_or_else(|| format!("{name} is not set: call hookspec_codegen::build from build.rs"))
}
