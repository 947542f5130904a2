//! The shipped specs: they load, their examples validate, the generated outputs are
//! current, and the event catalogue has the size the references document.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use hookspec_codegen::check::{check_event_body, resolve_event};
use hookspec_codegen::generate;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn specs() -> Vec<hookspec_codegen::LoadedSpec> {
    hookspec_codegen::load_dir(&root().join("spec"))
        .unwrap_or_else(|e| panic!("specs must load:\n{e}"))
}

#[test]
fn generated_files_are_current() {
    let (_, outputs) = generate::outputs(&root()).unwrap_or_else(|e| panic!("{e}"));
    let mut stale = generate::stale(&root(), &outputs);
    stale.extend(generate::orphans(&root(), &outputs));
    assert!(
        stale.is_empty(),
        "stale generated files {stale:?}: run `cargo xtask generate` and commit"
    );
}

#[test]
fn generation_is_deterministic() {
    let (_, a) = generate::outputs(&root()).unwrap();
    let (_, b) = generate::outputs(&root()).unwrap();
    assert_eq!(a, b);
}

#[test]
fn every_spec_declares_the_editor_schema() {
    for f in hookspec_codegen::load::spec_files(&root().join("spec")).unwrap() {
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(
            text.starts_with("# yaml-language-server: $schema=provider.schema.json\n"),
            "{} must start with the yaml-language-server schema line",
            f.display()
        );
    }
}

/// Distinct discriminator tuples per provider, as `cargo xtask list-events` prints them.
fn pairs(provider: &str) -> (usize, usize) {
    let specs = specs();
    let spec = &specs
        .iter()
        .find(|s| s.spec.provider == provider)
        .unwrap_or_else(|| panic!("no {provider} spec"))
        .spec;
    let lines = generate::list_events([spec]);
    let distinct: BTreeSet<&str> = lines
        .iter()
        .map(|l| l.rsplit('\t').next().unwrap())
        .collect();
    (lines.len(), distinct.len())
}

#[test]
fn catalogue_sizes_match_the_references() {
    let providers: BTreeSet<String> = specs().into_iter().map(|s| s.spec.provider).collect();
    for (provider, want_pairs) in [("plaid", 83), ("belvo", 35), ("bridge", 11), ("vezgo", 2)] {
        if !providers.contains(provider) {
            panic!("spec/{provider}.yaml is missing");
        }
        let (_, distinct) = pairs(provider);
        assert_eq!(
            distinct, want_pairs,
            "{provider}: distinct discriminator values"
        );
    }
}

#[test]
fn list_events_format_is_stable() {
    let specs = specs();
    let all = generate::list_events(specs.iter().map(|s| &s.spec));
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted, "sorted");
    assert!(
        all.contains(&"vezgo\tSyncError\thook=SyncError".to_owned()),
        "{all:?}"
    );
    for line in &all {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 3, "{line}");
        // A provider with no discriminator (events told apart by `select`) has no values.
        let no_discriminator = specs
            .iter()
            .any(|s| s.spec.provider == cols[0] && s.spec.discriminator.is_empty());
        assert!(
            (no_discriminator && cols[2].is_empty())
                || cols[2].split(';').all(|kv| kv
                    .split_once('=')
                    .is_some_and(|(k, v)| !k.is_empty() && !v.is_empty())),
            "{line}"
        );
    }
}

#[test]
fn every_example_validates_and_dispatches_to_its_event() {
    let mut count = 0;
    for loaded in specs() {
        let spec = &loaded.spec;
        for e in &spec.events {
            for (i, text) in e.examples.iter().enumerate() {
                let body: serde_json::Value = serde_json::from_str(text).unwrap();
                let violations = check_event_body(spec, e, &body);
                assert!(
                    violations.is_empty(),
                    "{} {} example {i}: {violations:?}",
                    spec.provider,
                    e.name
                );
                assert_eq!(
                    resolve_event(spec, &hookspec_codegen::check::when_headers(spec, e), &body)
                        .map(|x| &x.name),
                    Some(&e.name)
                );
                count += 1;
            }
        }
    }
    assert!(count > 0);
}

#[test]
fn a_broken_example_is_caught_with_its_path() {
    let path = root().join("spec/vezgo.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let broken = text.replacen(
        "\"loginName\": \"user@example.com\"",
        "\"loginName\": 42",
        1,
    );
    assert_ne!(
        broken, text,
        "the fixture text must contain the replaced field"
    );
    let err = hookspec_codegen::load_str("spec/vezgo.yaml", &broken).unwrap_err();
    assert_eq!(err.diagnostics.len(), 1, "{err}");
    let d = &err.diagnostics[0];
    assert_eq!(d.path, "events[0].examples[0]");
    assert!(
        d.message.contains("event `SyncAccount` example 0"),
        "{}",
        d.message
    );
    assert!(d.message.contains("$.user.loginName"), "{}", d.message);
    // The diagnostic points at the offending key inside the example's JSON.
    let (row, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("\"loginName\": \"user@example.com\""))
        .unwrap();
    let column = line.find("\"loginName\"").unwrap() + 1;
    assert_eq!((d.pos.line, d.pos.column), (row + 1, column), "{d}");
}

#[test]
fn new_provider_scaffold_validates() {
    let text = hookspec_codegen::scaffold::new_provider("acme_pay");
    let spec =
        hookspec_codegen::load_str("spec/acme_pay.yaml", &text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(spec.provider, "acme_pay");
    assert_eq!(spec.title, "Acme Pay");
    assert!(text.starts_with("# yaml-language-server: $schema=provider.schema.json\n"));
}

#[test]
fn file_name_must_match_provider() {
    let text = hookspec_codegen::scaffold::new_provider("acme");
    let err = hookspec_codegen::load_str("spec/other.yaml", &text).unwrap_err();
    assert!(
        err.to_string()
            .contains("does not match the file name `other.yaml`"),
        "{err}"
    );
}

#[test]
fn provider_schema_accepts_every_spec() {
    let schema: serde_json::Value = serde_json::from_str(&generate::provider_schema()).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let validator = jsonschema::validator_for(&schema).unwrap();
    for loaded in specs() {
        let as_json = serde_json::to_value(&loaded.spec).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&as_json)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", loaded.spec.provider);
    }
}
