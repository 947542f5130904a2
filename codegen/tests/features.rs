//! Every bundled spec has a cargo feature in `hookspec` (generated/Cargo.toml), on by
//! default and turned on by the workspace's `hookspec` dependency; a spec without one is
//! reported.

use std::path::{Path, PathBuf};

use hookspec_codegen::{generate, ir};

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
    let problems = generate::feature_problems(&root(), &providers());
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
    let problems = generate::feature_problems(&dir, &providers());
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(
        problems.iter().all(|p| p.contains("vezgo")),
        "{problems:#?}"
    );
}
