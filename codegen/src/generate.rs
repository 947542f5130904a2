//! Everything `cargo xtask generate` writes, computed in memory so that `--check` and the
//! tests can compare it with the files on disk.

use std::path::{Path, PathBuf};

use crate::emit_docs;
use crate::emit_rust;
use crate::emit_schema;
use crate::ir::{lower, Provider};
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
            path: PathBuf::from(format!("generated/src/providers/{}.rs", p.name)),
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
    Ok((specs, outputs))
}

/// Directories whose `@generated` files all come from [`outputs`]; a marked file there
/// that is no longer produced is stale too.
pub const GENERATED_DIRS: &[&str] = &[
    "generated/src/providers",
    "generated/docs",
    emit_schema::DIR,
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
            // JSON has no comments: every `.json` file under the schema directory is ours.
            let marked = if rel.starts_with(emit_schema::DIR) {
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
                let when = s
                    .discriminator
                    .iter()
                    .map(|d| format!("{d}={}", e.when.get(d).map(String::as_str).unwrap_or("")))
                    .collect::<Vec<_>>()
                    .join(";");
                format!("{}\t{}\t{}", s.provider, e.name, when)
            })
        })
        .collect();
    lines.sort();
    lines
}

/// What is wrong with the `hookspec` crate's cargo features (`generated/Cargo.toml`) for
/// these providers: each needs a feature named after it (see
/// [`crate::emit_rust::feature`]) that is on by default, and the workspace's `hookspec`
/// dependency (root `Cargo.toml`) turns every one on. Empty when all is well.
pub fn feature_problems(root: &Path, providers: &[Provider]) -> Vec<String> {
    let mut problems = Vec::new();
    let crate_toml = root.join("generated/Cargo.toml");
    let text = std::fs::read_to_string(&crate_toml).unwrap_or_default();
    let features = toml_section(&text, "features");
    let default = toml_list(&features, "default");
    let workspace = std::fs::read_to_string(root.join("Cargo.toml")).unwrap_or_default();
    let workspace_dep = workspace
        .lines()
        .find(|l| l.trim_start().starts_with("hookspec = "))
        .unwrap_or_default();
    for p in providers {
        let f = crate::emit_rust::feature(p);
        if toml_list(&features, f).is_none() {
            problems.push(format!(
                "generated/Cargo.toml: spec/{}.yaml has no feature: add `{f} = []` under [features]",
                p.name
            ));
        }
        if !default.as_ref().is_some_and(|d| d.iter().any(|x| x == f)) {
            problems.push(format!(
                "generated/Cargo.toml: the default features lack \"{f}\" (spec/{}.yaml)",
                p.name
            ));
        }
        if !workspace_dep.contains(&format!("\"{f}\"")) {
            problems.push(format!(
                "Cargo.toml: the workspace's `hookspec` dependency does not turn on \"{f}\" (spec/{}.yaml)",
                p.name
            ));
        }
    }
    problems
}

/// The lines of one `[section]` of a Cargo manifest.
fn toml_section(text: &str, name: &str) -> String {
    let header = format!("[{name}]");
    let mut inside = false;
    let mut out = String::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') && !t.starts_with("[\"") && t.ends_with(']') && !t.contains('=') {
            inside = t == header;
            continue;
        }
        if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The quoted strings of `key = [...]` in a section (the list may span lines), or `None`
/// when the key is absent.
fn toml_list(section: &str, key: &str) -> Option<Vec<String>> {
    let start = section.lines().find(|l| {
        l.split_once('=')
            .is_some_and(|(k, _)| k.trim() == key && !l.trim_start().starts_with('#'))
    })?;
    let at = section.find(start)? + start.find('=')? + 1;
    let rest = &section[at..];
    let end = rest.find(']').unwrap_or(rest.len());
    Some(
        rest[..end]
            .split('"')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect(),
    )
}
