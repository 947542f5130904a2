//! The `hookspec` crate's cargo features against the specs: each provider module sits
//! behind a feature named after it (`hookspec_codegen::emit_rust::feature`), which the
//! hand-written manifests must declare, turn on by default and turn on for the workspace.

use std::path::Path;

use hookspec_codegen::ir::Provider;

/// What is wrong with `generated/Cargo.toml` and the workspace's `hookspec` dependency
/// (root `Cargo.toml`) for these providers; empty when all is well.
pub fn problems(root: &Path, providers: &[Provider]) -> Vec<String> {
    let read = |path: &str| -> toml::Table {
        std::fs::read_to_string(root.join(path))
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or_default()
    };
    let crate_toml = read("generated/Cargo.toml");
    let workspace = read("Cargo.toml");
    let features = crate_toml.get("features").and_then(toml::Value::as_table);
    let names = |list: Option<&toml::Value>| -> Vec<String> {
        list.and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    let default = names(features.and_then(|f| f.get("default")));
    let workspace_dep = names(
        workspace
            .get("workspace")
            .and_then(|w| w.get("dependencies"))
            .and_then(|d| d.get("hookspec"))
            .and_then(|h| h.get("features")),
    );
    let mut problems = Vec::new();
    for p in providers {
        let f = hookspec_codegen::emit_rust::feature(p);
        if !features.is_some_and(|t| t.contains_key(f)) {
            problems.push(format!(
                "generated/Cargo.toml: spec/{}.yaml has no feature: add `{f} = []` under [features]",
                p.name
            ));
        }
        if !default.iter().any(|x| x == f) {
            problems.push(format!(
                "generated/Cargo.toml: the default features lack \"{f}\" (spec/{}.yaml)",
                p.name
            ));
        }
        if !workspace_dep.iter().any(|x| x == f) {
            problems.push(format!(
                "Cargo.toml: the workspace's `hookspec` dependency does not turn on \"{f}\" (spec/{}.yaml)",
                p.name
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use hookspec_codegen::ir;

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .to_owned()
    }

    fn providers() -> Vec<ir::Provider> {
        hookspec_codegen::load_dir(&root().join("spec"))
            .unwrap_or_else(|e| panic!("specs must load:\n{e}"))
            .iter()
            .map(|s| ir::lower(&s.spec))
            .collect()
    }

    #[test]
    fn every_spec_has_a_default_feature() {
        let problems = super::problems(&root(), &providers());
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn a_spec_without_a_feature_is_reported() {
        let dir = std::env::temp_dir().join(format!("hookspec-features-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("generated")).unwrap();
        // The real manifests, minus Vezgo's feature and its place in both lists.
        let crate_toml = std::fs::read_to_string(root().join("generated/Cargo.toml")).unwrap();
        let crate_toml = crate_toml
            .replace("\nvezgo = []", "")
            .replace(", \"vezgo\"", "");
        std::fs::write(dir.join("generated/Cargo.toml"), crate_toml).unwrap();
        let workspace = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
        std::fs::write(dir.join("Cargo.toml"), workspace.replace(", \"vezgo\"", "")).unwrap();
        let problems = super::problems(&dir, &providers());
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(
            problems.iter().all(|p| p.contains("vezgo")),
            "{problems:#?}"
        );
    }
}
