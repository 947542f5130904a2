//! The OpenAPI and AsyncAPI exports of every provider in `spec/`.
//!
//! Without outside tools: every `$ref` resolves, every event is a webhook whose body is the
//! event's JSON Schema, and every documented example validates against the exported body
//! (a tampered one does not). With the ecosystem's tools (installed by
//! `.ci/validate-exports` into `.ci/formats`): openapi-spec-validator and @asyncapi/parser
//! accept every export and refuse a broken one, and openapi-typescript's types for every
//! provider type-check every example, while a wrong discriminator value fails `tsc`.
//! The tool tests skip, saying so, when the tools are missing, unless
//! `HOOKSPEC_REQUIRE_FORMAT_TOOLS` is set (CI sets it).

use std::path::{Path, PathBuf};
use std::process::Command;

use hookspec_codegen::ir::{lower, Provider};
use hookspec_codegen::{emit_asyncapi, emit_openapi, emit_schema, load_dir};
use serde_json::{json, Value};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("codegen lives in the workspace")
        .to_owned()
}

fn providers() -> Vec<Provider> {
    let specs = load_dir(&root().join("spec")).expect("the specs load");
    assert!(specs.len() >= 9, "found only {} specs", specs.len());
    specs.iter().map(|s| lower(&s.spec)).collect()
}

/// Every `$ref` and discriminator `mapping` target in `v`.
fn references(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    ("mapping", Value::Object(map)) => {
                        out.extend(map.values().filter_map(|r| r.as_str().map(str::to_owned)))
                    }
                    _ => references(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| references(x, out)),
        _ => {}
    }
}

/// The value a local JSON pointer reference (`#/a/b`) names in `doc`.
fn resolve<'d>(doc: &'d Value, reference: &str) -> Option<&'d Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

#[test]
fn every_reference_in_the_exports_resolves() {
    for p in providers() {
        for (format, doc) in [
            ("openapi", emit_openapi::document(&p)),
            ("asyncapi", emit_asyncapi::document(&p)),
        ] {
            let mut refs = Vec::new();
            references(&doc, &mut refs);
            assert!(!refs.is_empty(), "{} {format}: no references", p.name);
            for r in refs {
                assert!(
                    resolve(&doc, &r).is_some(),
                    "{} {format}: `{r}` resolves to nothing",
                    p.name
                );
            }
        }
    }
}

#[test]
fn every_event_is_a_webhook_whose_body_is_the_events_json_schema() {
    for p in providers() {
        let doc = emit_openapi::document(&p);
        let webhooks = doc["webhooks"].as_object().expect("webhooks");
        assert_eq!(webhooks.len(), p.events.len(), "{}", p.name);
        for e in &p.events {
            let op = &webhooks[&e.name]["post"];
            let media = &op["requestBody"]["content"][&p.delivery.content_type];
            let body_ref = media["schema"]["$ref"].as_str().expect("a body $ref");
            let body = resolve(&doc, body_ref).expect("the body resolves");
            // The JSON Schema of the same event, its `$defs` references pointed into
            // components: the export must say the same of every property.
            let mut expected = emit_schema::event_schema(&p, e);
            let text = expected
                .to_string()
                .replace("#/$defs/", "#/components/schemas/");
            expected = serde_json::from_str(&text).unwrap();
            let props = expected["properties"].as_object().unwrap();
            assert_eq!(
                body["properties"].as_object().unwrap().len(),
                props.len(),
                "{} {}",
                p.name,
                e.name
            );
            for (name, schema) in props {
                let mut got = body["properties"][name].clone();
                if let Some(m) = got.as_object_mut() {
                    m.remove("additionalProperties");
                }
                let mut want = schema.clone();
                if let Some(m) = want.as_object_mut() {
                    m.remove("additionalProperties");
                }
                assert_eq!(got, want, "{} {} property {name}", p.name, e.name);
            }
            assert_eq!(body["required"], expected["required"], "{}", e.name);
            assert!(
                op["responses"]["default"]["description"]
                    .as_str()
                    .is_some_and(|d| d.contains("failed attempt")),
                "{} {}: what a failed answer means",
                p.name,
                e.name
            );
            let examples = media["examples"].as_object().map_or(0, |m| m.len());
            assert_eq!(examples, e.examples.len(), "{} {}", p.name, e.name);
        }
    }
}

/// A validator for the schema `name` under `components.schemas` of `doc`.
fn body_validator(doc: &Value, name: &str) -> jsonschema::Validator {
    let root = json!({
        "$schema": emit_schema::DRAFT,
        "$ref": format!("#/components/schemas/{name}"),
        "components": {"schemas": doc["components"]["schemas"]},
    });
    jsonschema::validator_for(&root).expect("the exported schemas compile")
}

#[test]
fn every_documented_example_validates_against_its_exported_body_and_a_tampered_one_does_not() {
    let mut checked = 0;
    for p in providers() {
        let openapi = emit_openapi::document(&p);
        let asyncapi = emit_asyncapi::document(&p);
        for e in &p.events {
            let validators = [
                body_validator(&openapi, &e.body_type),
                body_validator(&asyncapi, &e.body_type),
            ];
            // The first body discriminator the event pins, to tamper with.
            let pinned = p
                .discriminator
                .iter()
                .zip(&e.when)
                .find(|(d, v)| !d.starts_with("header:") && !v.is_empty());
            for text in &e.examples {
                let example: Value = serde_json::from_str(text).unwrap();
                for v in &validators {
                    let errors: Vec<String> =
                        v.iter_errors(&example).map(|x| x.to_string()).collect();
                    assert!(errors.is_empty(), "{} {}: {errors:?}", p.name, e.name);
                }
                checked += 1;
                if let Some((field, value)) = pinned {
                    let mut bad = example.clone();
                    if let Some(slot) = dotted_mut(&mut bad, field) {
                        *slot = format!("{value}-not").into();
                        for v in &validators {
                            assert!(!v.is_valid(&bad), "{} {}: tampered body", p.name, e.name);
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} examples");
}

fn dotted_mut<'v>(v: &'v mut Value, path: &str) -> Option<&'v mut Value> {
    path.split('.').try_fold(v, |v, k| v.get_mut(k))
}

// ---------------------------------------------------------------- the ecosystem's tools

/// Where `.ci/validate-exports` installs the tools, when they are there; else skips (or
/// fails, when `HOOKSPEC_REQUIRE_FORMAT_TOOLS` is set).
fn tools(test: &str) -> Option<PathBuf> {
    let dir = root().join(".ci/formats");
    let ready = dir.join("node_modules/.bin/tsc").exists()
        && dir.join("venv/bin/python").exists()
        && Command::new("node").arg("--version").output().is_ok();
    if ready {
        return Some(dir);
    }
    assert!(
        std::env::var_os("HOOKSPEC_REQUIRE_FORMAT_TOOLS").is_none(),
        "{test}: the format tools are missing from {} (run .ci/validate-exports)",
        dir.display()
    );
    eprintln!(
        "SKIPPED {test}: the format tools are not installed in {}; run .ci/validate-exports",
        dir.display()
    );
    None
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("open-formats")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_json(path: &Path, v: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(v).unwrap()).unwrap();
}

/// Runs `cmd`, returning whether it succeeded and what it printed.
fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().expect("the tool starts");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn openapi_spec_validator_accepts_every_export_and_refuses_a_broken_one() {
    let Some(tools) = tools("openapi_spec_validator") else {
        return;
    };
    let dir = scratch("openapi");
    let mut files = Vec::new();
    for p in providers() {
        let path = dir.join(format!("{}.openapi.json", p.name));
        write_json(&path, &emit_openapi::document(&p));
        files.push(path);
    }
    let python = tools.join("venv/bin/python");
    let (ok, text) = run(Command::new(&python)
        .args(["-m", "openapi_spec_validator"])
        .args(&files));
    assert!(ok, "{text}");
    assert_eq!(text.matches(": OK").count(), files.len(), "{text}");

    // A header parameter without a schema is not OpenAPI: the validator must say so.
    let mut broken = emit_openapi::document(&providers()[0]);
    let first = broken["webhooks"]
        .as_object_mut()
        .unwrap()
        .values_mut()
        .next()
        .unwrap();
    first["post"]["parameters"] = json!([{"name": "X-Broken", "in": "header"}]);
    let path = dir.join("broken.openapi.json");
    write_json(&path, &broken);
    let (ok, text) = run(Command::new(&python)
        .args(["-m", "openapi_spec_validator"])
        .arg(&path));
    assert!(!ok, "the broken document passed: {text}");
}

#[test]
fn asyncapi_parser_accepts_every_export_and_refuses_a_broken_one() {
    let Some(tools) = tools("asyncapi_parser") else {
        return;
    };
    let dir = scratch("asyncapi");
    let mut files = Vec::new();
    for p in providers() {
        let path = dir.join(format!("{}.asyncapi.json", p.name));
        write_json(&path, &emit_asyncapi::document(&p));
        files.push(path);
    }
    let mut broken = emit_asyncapi::document(&providers()[0]);
    broken["operations"]
        .as_object_mut()
        .unwrap()
        .values_mut()
        .next()
        .unwrap()["action"] = "listen".into();
    let broken_path = dir.join("broken.asyncapi.json");
    write_json(&broken_path, &broken);
    let script = tools.join("validate-asyncapi.mjs");
    let (ok, text) = run(Command::new("node").arg(&script).args(&files));
    assert!(ok, "{text}");
    assert_eq!(text.matches(": OK").count(), files.len(), "{text}");
    let (ok, text) = run(Command::new("node").arg(&script).arg(&broken_path));
    assert!(
        !ok && text.contains("INVALID"),
        "the broken document passed: {text}"
    );
}

#[test]
fn typescript_types_generated_from_the_openapi_export_type_check_every_example() {
    let Some(tools) = tools("typescript_types") else {
        return;
    };
    let dir = scratch("typescript");
    let bin = tools.join("node_modules/.bin");
    let mut sources = Vec::new();
    let mut examples = 0;
    for p in providers() {
        let doc = emit_openapi::document(&p);
        let spec_path = dir.join(format!("{}.openapi.json", p.module));
        write_json(&spec_path, &doc);
        let (ok, text) = run(Command::new(bin.join("openapi-typescript"))
            .arg(&spec_path)
            .arg("-o")
            .arg(dir.join(format!("{}.d.ts", p.module))));
        assert!(ok, "openapi-typescript on {}: {text}", p.name);
        let mut ts = format!("import type {{ components }} from \"./{}\";\n", p.module);
        for (i, e) in p.events.iter().enumerate() {
            for (j, text) in e.examples.iter().enumerate() {
                let value: Value = serde_json::from_str(text).unwrap();
                ts.push_str(&format!(
                    "export const e{i}_{j}: components[\"schemas\"][\"{}\"] = {value};\n",
                    e.body_type
                ));
                examples += 1;
            }
        }
        let source = dir.join(format!("{}_examples.ts", p.module));
        std::fs::write(&source, ts).unwrap();
        sources.push(source);
    }
    let tsc = |files: &[PathBuf]| {
        run(Command::new(bin.join("tsc"))
            .args([
                "--noEmit",
                "--strict",
                "--skipLibCheck",
                "--target",
                "es2020",
            ])
            .args(files))
    };
    let (ok, text) = tsc(&sources);
    assert!(ok, "tsc refused the documented examples:\n{text}");
    assert!(examples > 100, "only {examples} examples");

    // The same types refuse a body whose discriminator names another event.
    let p = providers().into_iter().find(|p| p.name == "vezgo").unwrap();
    let mut body: Value = serde_json::from_str(&p.events[0].examples[0]).unwrap();
    body["hook"] = p.events[1].when[0].clone().into();
    let bad = dir.join("wrong_event.ts");
    std::fs::write(
        &bad,
        format!(
            "import type {{ components }} from \"./vezgo\";\nexport const e: components[\"schemas\"][\"{}\"] = {body};\n",
            p.events[0].body_type
        ),
    )
    .unwrap();
    let (ok, text) = tsc(&[bad]);
    assert!(
        !ok && text.contains("TS2322"),
        "tsc took a wrong event: {text}"
    );
}
