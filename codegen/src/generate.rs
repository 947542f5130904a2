//! Everything `cargo xtask generate` writes, computed in memory so that `--check` and the
//! tests can compare it with the files on disk.

use std::path::{Path, PathBuf};

use crate::emit_asyncapi;
use crate::emit_docs;
use crate::emit_openapi;
use crate::emit_rust;
use crate::emit_schema;
use crate::ir::{lower, module_file, Provider};
use crate::load::{load_dir, LoadedSpec};
use crate::model::ProviderSpec;
use crate::SpecError;

/// One generated file: its path relative to the workspace root and its full contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Path relative to the workspace root.
    pub path: PathBuf,
    /// Full file contents.
    pub contents: String,
}

/// The spec format's own JSON Schema, derived from [`ProviderSpec`].
pub fn provider_schema() -> String {
    let schema = schemars::schema_for!(ProviderSpec);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema always serializes");
    text.push('\n');
    text
}

/// Loads every spec under `root/spec` and computes every output of the pipeline.
pub fn outputs(root: &Path) -> Result<(Vec<LoadedSpec>, Vec<Output>), SpecError> {
    let specs = load_dir(&root.join("spec"))?;
    let mut outputs = vec![Output {
        path: PathBuf::from("spec/provider.schema.json"),
        contents: provider_schema(),
    }];
    let providers: Vec<Provider> = specs.iter().map(|s| lower(&s.spec)).collect();
    for p in &providers {
        outputs.push(Output {
            path: PathBuf::from(format!("generated/src/providers/{}", module_file(p))),
            contents: emit_rust::provider_module(p),
        });
    }
    outputs.push(Output {
        path: PathBuf::from("generated/src/providers/mod.rs"),
        contents: emit_rust::providers_mod(&providers),
    });
    for p in &providers {
        outputs.extend(emit_schema::provider_schemas(p));
    }
    for p in &providers {
        outputs.push(Output {
            path: PathBuf::from(format!("generated/docs/{}.md", p.name)),
            contents: emit_docs::provider_doc(p),
        });
    }
    outputs.push(Output {
        path: PathBuf::from("generated/docs/README.md"),
        contents: emit_docs::index(&providers),
    });
    outputs.extend(providers.iter().map(emit_openapi::output));
    outputs.extend(providers.iter().map(emit_asyncapi::output));
    Ok((specs, outputs))
}

/// Directories whose `@generated` files all come from [`outputs`]; a marked file there
/// that is no longer produced is stale too.
pub const GENERATED_DIRS: &[&str] = &[
    "generated/src/providers",
    "generated/docs",
    emit_schema::DIR,
    emit_openapi::DIR,
    emit_asyncapi::DIR,
];

/// Files under [`GENERATED_DIRS`] marked `@generated` that `outputs` no longer produces.
pub fn orphans(root: &Path, outputs: &[Output]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for dir in GENERATED_DIRS {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        // The files of `dir` and of its subdirectories (schemas sit in one per provider).
        let mut files = Vec::new();
        for entry in entries.flatten() {
            let rel = Path::new(dir).join(entry.file_name());
            if entry.path().is_dir() {
                let inner = std::fs::read_dir(entry.path())
                    .into_iter()
                    .flatten()
                    .flatten();
                files.extend(inner.map(|e| (rel.join(e.file_name()), e.path())));
            } else {
                files.push((rel, entry.path()));
            }
        }
        for (rel, full) in files {
            // JSON has no comments: every `.json` file under the JSON directories is ours.
            let marked = if [emit_schema::DIR, emit_openapi::DIR, emit_asyncapi::DIR]
                .iter()
                .any(|d| rel.starts_with(d))
            {
                rel.extension().is_some_and(|x| x == "json")
            } else {
                std::fs::read_to_string(&full)
                    .ok()
                    .is_some_and(|t| t.lines().next().is_some_and(|l| l.contains("@generated")))
            };
            if marked && !outputs.iter().any(|o| o.path == rel) {
                found.push(rel);
            }
        }
    }
    found.sort();
    found
}

/// What differs between `outputs` and the files under `root`.
pub fn stale(root: &Path, outputs: &[Output]) -> Vec<PathBuf> {
    outputs
        .iter()
        .filter(|o| {
            std::fs::read_to_string(root.join(&o.path)).ok().as_deref() != Some(o.contents.as_str())
        })
        .map(|o| o.path.clone())
        .collect()
}

/// `provider<TAB>Event<TAB>field=value;field=value` per event, sorted.
pub fn list_events<'a>(specs: impl IntoIterator<Item = &'a ProviderSpec>) -> Vec<String> {
    let mut lines: Vec<String> = specs
        .into_iter()
        .flat_map(|s| {
            s.events.iter().map(move |e| {
                // A discriminator the event leaves out (absent from its bodies) is not listed.
                let when = s
                    .discriminator
                    .iter()
                    .filter_map(|d| Some(format!("{d}={}", e.when.get(d)?)))
                    .collect::<Vec<_>>()
                    .join(";");
                format!("{}\t{}\t{}", s.provider, e.name, when)
            })
        })
        .collect();
    lines.sort();
    lines
}
