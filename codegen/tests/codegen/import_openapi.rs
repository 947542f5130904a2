//! `import_openapi`: the skeleton is refused until its delivery and auth facts are filled
//! in, and our own OpenAPI fixture round-trips (import -> load -> IR -> JSON Schema ->
//! the same event schemas as the fixture's webhook bodies), and on out through the
//! OpenAPI export (`emit_openapi::document`), whose `webhooks` bodies [`canon`] compares
//! with the fixture's the same way.

use std::collections::{BTreeMap, BTreeSet};

use hookspec_codegen::import_openapi::{self, Options, FILL_IN};
use hookspec_codegen::{emit_openapi, emit_schema, ir, load_str};
use serde_json::{json, Map, Value};

const ACME: &str = include_str!("../fixtures/openapi/acme.yaml");

fn acme() -> import_openapi::Import {
    import_openapi::import(
        ACME,
        &Options {
            provider: "acme".into(),
            ..Options::default()
        },
    )
    .expect("the fixture imports")
}

#[test]
fn skeleton_is_refused_naming_each_missing_fact() {
    let skeleton = acme().yaml;
    let err = load_str("spec/acme.yaml", &skeleton).expect_err("a skeleton must not load");
    let paths: Vec<&str> = err.diagnostics.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "delivery.source_ips",
            "delivery.timeout",
            "delivery.success",
            "delivery.retry.schedule",
            "auth"
        ],
        "{err}"
    );
    let lines: Vec<&str> = skeleton.lines().collect();
    for d in &err.diagnostics {
        assert!(
            d.message
                .starts_with(&format!("{} is not filled in: ", d.path)),
            "{d}"
        );
        assert!(d.hint.is_some(), "{d}");
        // The position is the FILL IN value itself.
        let line = lines[d.pos.line - 1];
        assert_eq!(
            &line[d.pos.column - 1..d.pos.column - 1 + FILL_IN.len() + 1],
            format!("\"{FILL_IN}"),
            "{d}"
        );
    }
}

#[test]
fn one_fill_in_anywhere_is_refused_and_filled_specs_load() {
    let filled = import_openapi::stand_in(&acme().yaml);
    load_str("spec/acme.yaml", &filled).unwrap_or_else(|e| panic!("{e}\n{filled}"));
    // The check is not limited to delivery and auth: any scalar that starts with FILL IN.
    let text = filled.replacen(
        "description: A customer was created.",
        "description: \"FILL IN: what this event means\"",
        1,
    );
    let err = load_str("spec/acme.yaml", &text).unwrap_err();
    assert_eq!(err.diagnostics.len(), 1, "{err}");
    assert_eq!(err.diagnostics[0].path, "events[2].description");
    assert_eq!(
        err.diagnostics[0].message,
        "events[2].description is not filled in: what this event means"
    );
}

#[test]
fn filled_skeleton_generates() {
    let filled = import_openapi::stand_in(&acme().yaml);
    load_str("spec/acme.yaml", &filled).unwrap();
    let module = hookspec_codegen::module::expand("acme.yaml", &filled).unwrap();
    syn::parse_file(&module).expect("the generated module parses as Rust");
    assert!(module.contains("InvoicePaymentFailed"));
}

#[test]
fn clear_errors() {
    let opts = Options {
        provider: "x".into(),
        ..Options::default()
    };
    let e = import_openapi::import("swagger: \"2.0\"\ninfo: {title: X}\npaths: {}\n", &opts)
        .unwrap_err();
    assert!(e.0.contains("Swagger (OpenAPI 2.0)"), "{e}");
    let e = import_openapi::import("{\"name\": \"not openapi\"}", &opts).unwrap_err();
    assert!(e.0.contains("not an OpenAPI document"), "{e}");
    let e = import_openapi::import("a: [\n", &opts).unwrap_err();
    assert!(e.0.contains("not an OpenAPI document"), "{e}");
    let e = import_openapi::import(
        "openapi: 3.0.3\ninfo: {title: X, version: '1'}\ncomponents: {schemas: {Pet: {type: object}}}\n",
        &opts,
    )
    .unwrap_err();
    assert!(
        e.0.contains("no component schema's name matches `*Webhook`") && e.0.contains("--schemas"),
        "{e}"
    );
    let e = import_openapi::import(
        ACME,
        &Options {
            provider: "acme".into(),
            schemas: Some("*Nope".into()),
            ..Options::default()
        },
    )
    .unwrap_err();
    assert!(e.0.contains("drop --schemas"), "{e}");
}

/// What "the same event schema" means here. Both sides are brought to one canonical form
/// and must be equal:
///
/// - `$ref`s (`#/components/schemas/X` or `#/$defs/X`) are replaced by their target, so
///   naming and nesting do not matter; separately, every object/enum component a body
///   references must be a `$defs` name (the generator may name inline shapes too);
/// - `allOf` parts are merged (properties, `required` as a set);
/// - `null` is one flag, however written: 3.0 `nullable: true`, `type: [x, "null"]`,
///   `anyOf: [x, {type: null}]`, or `null` among enum values;
/// - `const` and one-value `enum` are the same; enum values compare as sets;
/// - an object with only `additionalProperties` is a map of its value schema, one with
///   neither properties nor `additionalProperties` a map of anything;
/// - `type`, `properties`, `required`, `items`, `additionalProperties: false`, `enum`,
///   `description` (trimmed), `deprecated` and the formats the spec format models (`date`,
///   `date-time`, `uuid`, `uri`, `email`, `ipv4`) must agree;
/// - ignored as legitimately different: `$id`, `$schema`, `$comment`, `title`, examples,
///   `x-` extensions, the `pattern`s and `minimum`/`maximum` the generator adds for its
///   date and i64 types, formats the spec format does not model (`int64`, ...), and the
///   value of the discriminator fields (a `const` in the output, compared apart).
pub fn canon(schema: &Value, root: &Value, discriminator: &[&str]) -> Value {
    canon_at(schema, root, discriminator, 0)
}

fn resolve<'a>(root: &'a Value, r: &str) -> &'a Value {
    let p = r.strip_prefix('#').expect("local reference");
    root.pointer(p)
        .unwrap_or_else(|| panic!("`{r}` does not resolve"))
}

fn canon_at(s: &Value, root: &Value, disc: &[&str], depth: usize) -> Value {
    assert!(depth < 64, "reference cycle");
    let mut s = s.as_object().cloned().unwrap_or_default();
    // Siblings of a `$ref` (3.1 / 2020-12) override the target's annotations.
    if let Some(Value::String(r)) = s.remove("$ref") {
        let mut target = resolve(root, &r).as_object().cloned().unwrap_or_default();
        for (k, v) in s {
            target.insert(k, v);
        }
        return canon_at(&Value::Object(target), root, disc, depth + 1);
    }
    if let Some(Value::Array(parts)) = s.remove("allOf") {
        let mut merged = s.clone();
        let mut props = Map::new();
        let mut required = BTreeSet::new();
        for part in parts {
            let part = canon_at(&part, root, disc, depth + 1);
            for (k, v) in part["properties"].as_object().into_iter().flatten() {
                props.insert(k.clone(), v.clone());
            }
            for r in part["required"].as_array().into_iter().flatten() {
                required.insert(r.as_str().unwrap().to_owned());
            }
            if part.get("nullable") == Some(&json!(true)) {
                merged.insert("nullable".into(), true.into());
            }
        }
        let own = canon_at(&Value::Object(s), root, disc, depth + 1);
        for (k, v) in own["properties"].as_object().into_iter().flatten() {
            props.insert(k.clone(), v.clone());
        }
        for r in own["required"].as_array().into_iter().flatten() {
            required.insert(r.as_str().unwrap().to_owned());
        }
        merged.insert("type".into(), "object".into());
        merged.insert("properties".into(), Value::Object(props));
        merged.insert("required".into(), required.into_iter().collect());
        return canon_at(&Value::Object(merged), root, disc, depth + 1);
    }
    let mut nullable = s.remove("nullable") == Some(json!(true));
    if let Some(Value::Array(alts)) = s.remove("anyOf") {
        let mut rest: Vec<Value> = alts
            .into_iter()
            .filter(|a| {
                let null = a.get("type") == Some(&json!("null"));
                nullable |= null;
                !null
            })
            .collect();
        assert_eq!(rest.len(), 1, "only `x or null` unions are compared");
        let mut inner = canon_at(&rest.remove(0), root, disc, depth + 1);
        for k in ["description", "deprecated"] {
            if let Some(v) = s.get(k) {
                inner[k] = v.clone();
            }
        }
        if nullable {
            inner["nullable"] = true.into();
        }
        return inner;
    }
    let mut out = Map::new();
    let mut ty = match s.get("type") {
        Some(Value::Array(ts)) => {
            nullable |= ts.iter().any(|t| t == "null");
            let non_null: Vec<&Value> = ts.iter().filter(|t| *t != "null").collect();
            assert_eq!(non_null.len(), 1, "one type besides null");
            non_null[0].as_str().map(str::to_owned)
        }
        Some(Value::String(t)) => Some(t.clone()),
        _ => None,
    };
    let mut values: Option<Vec<Value>> = s
        .get("enum")
        .and_then(Value::as_array)
        .cloned()
        .or_else(|| s.get("const").map(|c| vec![c.clone()]));
    if let Some(v) = &mut values {
        nullable |= v.iter().any(Value::is_null);
        v.retain(|x| !x.is_null());
        let mut sorted: Vec<String> = v
            .iter()
            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
            .collect();
        sorted.sort();
        sorted.dedup();
        out.insert("enum".into(), sorted.into());
        ty = Some("string".into());
    }
    if ty.is_none() && (s.contains_key("properties") || s.contains_key("additionalProperties")) {
        ty = Some("object".into());
    }
    match ty.as_deref() {
        Some("object") => {
            let props = s.get("properties").and_then(Value::as_object);
            match props {
                Some(p) if !p.is_empty() => {
                    let mut cp = Map::new();
                    for (k, v) in p {
                        let c = if disc.contains(&k.as_str()) {
                            json!("discriminator")
                        } else {
                            canon_at(v, root, &[], depth + 1)
                        };
                        cp.insert(k.clone(), c);
                    }
                    // Properties compare as a map, whatever their order.
                    let sorted: BTreeMap<String, Value> = cp.into_iter().collect();
                    out.insert("type".into(), "object".into());
                    out.insert("properties".into(), json!(sorted));
                    let mut req: Vec<String> = s
                        .get("required")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|r| r.as_str().map(str::to_owned))
                        .collect();
                    req.sort();
                    out.insert("required".into(), req.into());
                    if s.get("additionalProperties") == Some(&json!(false)) {
                        out.insert("additionalProperties".into(), false.into());
                    }
                }
                _ => {
                    let values = match s.get("additionalProperties") {
                        Some(v @ Value::Object(_)) => canon_at(v, root, &[], depth + 1),
                        _ => json!({"type": "any"}),
                    };
                    out.insert("type".into(), "map".into());
                    out.insert("values".into(), values);
                }
            }
        }
        // Already canonical (an `allOf` part): keep the map's value schema.
        Some("map") => {
            out.insert("type".into(), "map".into());
            let values = canon_at(&s["values"], root, &[], depth + 1);
            out.insert("values".into(), values);
        }
        Some("array") => {
            out.insert("type".into(), "array".into());
            let items = s
                .get("items")
                .map(|i| canon_at(i, root, &[], depth + 1))
                .unwrap_or(json!({"type": "any"}));
            out.insert("items".into(), items);
        }
        Some(t) => {
            out.insert("type".into(), t.into());
            if let Some(Value::String(f)) = s.get("format") {
                if ["date", "date-time", "uuid", "uri", "email", "ipv4"].contains(&f.as_str()) {
                    out.insert("format".into(), f.clone().into());
                }
            }
        }
        None => {
            out.insert("type".into(), "any".into());
        }
    }
    if let Some(Value::String(d)) = s.get("description") {
        out.insert("description".into(), d.trim().into());
    }
    if s.get("deprecated") == Some(&json!(true)) {
        out.insert("deprecated".into(), true.into());
    }
    if nullable {
        out.insert("nullable".into(), true.into());
    }
    Value::Object(out)
}

/// The object and enum component schemas a schema reaches through `$ref`s.
fn named(schema: &Value, root: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match schema {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                if let Some(name) = r.strip_prefix(prefix) {
                    let target = resolve(root, r);
                    let is_named =
                        target.get("properties").is_some() || target.get("enum").is_some();
                    // A named shape is walked once (cycles); an inlined one every time.
                    if !is_named || out.insert(name.to_owned()) {
                        named(target, root, prefix, out);
                    }
                }
            }
            for v in m.values() {
                named(v, root, prefix, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| named(v, root, prefix, out)),
        _ => {}
    }
}

#[test]
fn acme_round_trips_to_the_same_event_schemas() {
    let doc = import_openapi::parse_document(ACME).unwrap();
    let filled = import_openapi::stand_in(&acme().yaml);
    let spec = load_str("spec/acme.yaml", &filled).unwrap_or_else(|e| panic!("{e}"));
    let provider = ir::lower(&spec);
    let exported = emit_openapi::document(&provider);
    let hooks = doc["webhooks"].as_object().unwrap();
    assert_eq!(provider.events.len(), hooks.len());
    assert_eq!(exported["webhooks"].as_object().unwrap().len(), hooks.len());
    let disc: Vec<&str> = provider.discriminator.iter().map(String::as_str).collect();
    assert_eq!(disc, ["type"]);
    for (key, hook) in hooks {
        let op = &hook["post"];
        let body = &op["requestBody"]["content"]["application/json"]["schema"];
        let name = ir::pascal(key);
        let event = provider
            .events
            .iter()
            .find(|e| e.name == name)
            .unwrap_or_else(|| panic!("no event {name} for webhook {key}"));
        let emitted = emit_schema::event_schema(&provider, event);

        // The discriminator's value.
        assert_eq!(emitted["properties"]["type"]["const"], json!(key));
        // The event's description is the operation's.
        assert_eq!(emitted["description"], op["description"]);
        // The schemas.
        let mut ours = canon(body, &doc, &disc);
        let mut theirs = canon(&emitted, &emitted, &disc);
        for v in [&mut ours, &mut theirs] {
            v.as_object_mut().unwrap().remove("description");
        }
        assert_eq!(
            ours,
            theirs,
            "webhook `{key}` differs:\n fixture: {}\n emitted: {}",
            serde_json::to_string_pretty(&ours).unwrap(),
            serde_json::to_string_pretty(&theirs).unwrap()
        );
        // And back out as OpenAPI: the export's webhook body is the fixture's.
        let export_op = &exported["webhooks"][&event.name]["post"];
        let export_body = &export_op["requestBody"]["content"]["application/json"]["schema"];
        let mut back = canon(export_body, &exported, &disc);
        back.as_object_mut().unwrap().remove("description");
        assert_eq!(
            ours,
            back,
            "webhook `{key}` after export:\n fixture: {}\n exported: {}",
            serde_json::to_string_pretty(&ours).unwrap(),
            serde_json::to_string_pretty(&back).unwrap()
        );
        assert_eq!(export_op["description"], op["description"]);
        // The same named shapes.
        let mut a = BTreeSet::new();
        named(body, &doc, "#/components/schemas/", &mut a);
        a.remove("EventBase"); // merged into the body by `allOf`, not a shape of its own
        a.remove("CustomerCreated");
        let mut b = BTreeSet::new();
        named(&emitted, &emitted, "#/$defs/", &mut b);
        // Every component the body names keeps its name; the generator also names inline
        // enums and objects (`Money.currency` becomes `MoneyCurrency`), which are no
        // components of the fixture.
        assert!(a.is_subset(&b), "named types of `{key}`: {a:?} vs {b:?}");
        let components = doc["components"]["schemas"].as_object().unwrap();
        for extra in b.difference(&a) {
            assert!(!components.contains_key(extra), "`{extra}` of `{key}`");
        }
        // Every example of the fixture is an example of the event, verbatim as JSON.
        let mut examples: Vec<Value> = Vec::new();
        if let Some(x) = op["requestBody"]["content"]["application/json"].get("example") {
            examples.push(x.clone());
        }
        let target = match body.get("$ref").and_then(Value::as_str) {
            Some(r) => resolve(&doc, r),
            None => body,
        };
        examples.extend(target["examples"].as_array().cloned().unwrap_or_default());
        let got: Vec<Value> = event
            .examples
            .iter()
            .map(|t| serde_json::from_str(t).unwrap())
            .collect();
        assert_eq!(got, examples, "examples of `{key}`");
    }
}

/// The other import path: an OpenAPI 3.0 document with no `webhooks`, whose bodies are
/// component schemas picked by name (`*Webhook`) and told apart by two fields, as large
/// aggregators publish them (`allOf` over a shared base, 3.0 `nullable`, backticked
/// discriminator values, a shared error object). Each event's schema, as emitted and as
/// exported, is the component's.
#[test]
fn component_schemas_chosen_by_pattern_round_trip_from_openapi_3_0() {
    let text = include_str!("../fixtures/openapi/ledgerly.yaml");
    let import = import_openapi::import(
        text,
        &Options {
            provider: "ledgerly".into(),
            schemas: Some("*Webhook".into()),
            discriminator: Some(vec!["webhook_type".into(), "webhook_code".into()]),
        },
    )
    .expect("the fixture imports");
    assert_eq!((import.events, import.types), (2, 2));
    let filled = import_openapi::stand_in(&import.yaml);
    let spec = load_str("spec/ledgerly.yaml", &filled).unwrap_or_else(|e| panic!("{e}\n{filled}"));
    let provider = ir::lower(&spec);
    let doc = import_openapi::parse_document(text).unwrap();
    let exported = emit_openapi::document(&provider);
    let disc = ["webhook_type", "webhook_code"];
    let mut seen = BTreeSet::new();
    for (event, model) in provider.events.iter().zip(&spec.events) {
        let source = model
            .source_schema
            .as_deref()
            .expect("source_schema is recorded");
        seen.insert(source.to_owned());
        let component = &doc["components"]["schemas"][source];
        // The discriminator values come from a one-value enum or a backticked description.
        let when: Vec<&str> = event.when.iter().map(String::as_str).collect();
        let expected_when = match source {
            "SyncReadyWebhook" => ["LEDGER", "SYNC_READY"],
            "ItemLoginRequiredWebhook" => ["ITEM", "LOGIN_REQUIRED"],
            other => panic!("unexpected event from `{other}`"),
        };
        assert_eq!(when, expected_when);
        let mut ours = canon(component, &doc, &disc);
        let emitted = emit_schema::event_schema(&provider, event);
        let mut theirs = canon(&emitted, &emitted, &disc);
        let body_ref = exported["webhooks"][&event.name]["post"]["requestBody"]["content"]
            ["application/json"]["schema"]
            .clone();
        let mut back = canon(&body_ref, &exported, &disc);
        for v in [&mut ours, &mut theirs, &mut back] {
            v.as_object_mut().unwrap().remove("description");
        }
        assert_eq!(
            ours,
            theirs,
            "`{source}` as emitted:\n component: {}\n emitted: {}",
            serde_json::to_string_pretty(&ours).unwrap(),
            serde_json::to_string_pretty(&theirs).unwrap()
        );
        assert_eq!(ours, back, "`{source}` as exported");
        // The component's example is the event's, verbatim as JSON.
        let example: Value = serde_json::from_str(&event.examples[0]).unwrap();
        assert_eq!(example, component["example"]);
    }
    // Only the `*Webhook` schemas became events; the base and the response did not.
    assert_eq!(
        seen,
        BTreeSet::from([
            "ItemLoginRequiredWebhook".to_owned(),
            "SyncReadyWebhook".to_owned()
        ])
    );
}

// ------------------------------------------------------------- Plaid closeness

/// What is compared of one field.
struct FieldFacts {
    /// The kind, with `array<...>`/`map<...>` spelled out; a `ref` counts as the kind it
    /// names (`enum`, `object`, ...).
    ty: String,
    format: Option<String>,
    required: bool,
    nullable: bool,
    /// An enum's values, as a set, and whether it is open.
    values: Option<(BTreeSet<String>, bool)>,
}

/// Every field of a shape by dotted path (`error.error_type`, `accounts[].id`), with a
/// coarse type: the kind, or for a `ref` the kind of what it names (enum, object, ...).
fn field_types(
    spec: &hookspec_codegen::ProviderSpec,
    fields: &indexmap::IndexMap<String, hookspec_codegen::model::Shape>,
    prefix: &str,
    out: &mut BTreeMap<String, FieldFacts>,
    depth: usize,
) {
    use hookspec_codegen::model::Kind;
    if depth > 8 {
        return;
    }
    for (k, shape) in fields {
        let path = format!("{prefix}{k}");
        let mut s = spec.resolve(shape).unwrap_or(shape);
        let mut p = path.clone();
        let mut ty = String::new();
        // Arrays and maps: type `array<...>`, fields under `[]`.
        loop {
            let kind = s.kind.unwrap_or(Kind::Any);
            let k = hookspec_codegen::model::spelling(kind);
            match kind {
                Kind::Array | Kind::Map => {
                    ty.push_str(&format!("{k}<"));
                    let item = s.items.as_deref().unwrap();
                    s = spec.resolve(item).unwrap_or(item);
                    p.push_str("[]");
                }
                _ => {
                    ty.push_str(&k);
                    break;
                }
            }
        }
        let opened = ty.matches('<').count();
        ty.push_str(&">".repeat(opened));
        out.insert(
            path,
            FieldFacts {
                ty,
                format: s.format.map(hookspec_codegen::model::spelling),
                required: shape.is_required(),
                nullable: shape.nullable || s.nullable,
                values: s
                    .values
                    .as_ref()
                    .map(|v| (v.iter().cloned().collect(), s.open.unwrap_or(false))),
            },
        );
        if let Some(f) = &s.fields {
            field_types(spec, f, &format!("{p}."), out, depth + 1);
        }
    }
}

/// How close an import of Plaid's public OpenAPI comes to `spec/plaid.yaml`: events
/// matched by discriminator values, the share of fields (dotted paths, nested included)
/// both have, and the share of those whose types agree. Needs the OpenAPI file, which is
/// not in the repository: `HOOKSPEC_PLAID_OPENAPI=/path/plaid.yml cargo test -p
/// hookspec-codegen --test import_openapi -- --ignored --nocapture`.
#[test]
#[ignore = "needs HOOKSPEC_PLAID_OPENAPI (Plaid's OpenAPI document, not in the repository)"]
fn plaid_closeness() {
    let Ok(path) = std::env::var("HOOKSPEC_PLAID_OPENAPI") else {
        eprintln!("skipped: set HOOKSPEC_PLAID_OPENAPI to the path of Plaid's OpenAPI YAML");
        return;
    };
    let text = std::fs::read_to_string(&path).expect("read the Plaid OpenAPI document");
    let done = import_openapi::import(
        &text,
        &Options {
            provider: "plaid".into(),
            schemas: Some("*Webhook".into()),
            discriminator: Some(vec!["webhook_type".into(), "webhook_code".into()]),
        },
    )
    .expect("Plaid's document imports");
    // The import is loaded as a model without validation (it has shared discriminator
    // values, which validation refuses until `select` is written); the model's shapes are
    // what is compared.
    let ours = stand_in_model(&done.yaml);
    let theirs = hookspec_codegen::load_file(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/plaid.yaml"),
    )
    .unwrap()
    .spec;
    let (a, b) = (index(&ours), index(&theirs));
    let pairs = |s: &hookspec_codegen::ProviderSpec| {
        s.events
            .iter()
            .map(|e| e.when.values().cloned().collect::<Vec<_>>())
            .collect::<BTreeSet<_>>()
    };
    let (pa, pb) = (pairs(&ours), pairs(&theirs));
    println!(
        "  discriminator pairs: ours {}, spec {}, in both {}",
        pa.len(),
        pb.len(),
        pa.intersection(&pb).count()
    );
    let both: Vec<_> = a.keys().filter(|k| b.contains_key(*k)).cloned().collect();
    let only_ours: Vec<_> = a.keys().filter(|k| !b.contains_key(*k)).collect();
    let only_theirs: Vec<_> = b.keys().filter(|k| !a.contains_key(*k)).collect();
    let (mut fa, mut fb, mut common, mut agree) = (0, 0, 0, 0);
    let (mut same_format, mut same_required, mut same_nullable) = (0, 0, 0);
    let (mut enums, mut same_values, mut same_open) = (0, 0, 0);
    let mut only_spec_fields: BTreeMap<String, usize> = BTreeMap::new();
    let mut disagreements: BTreeMap<String, usize> = BTreeMap::new();
    for k in &both {
        let mut x = BTreeMap::new();
        let mut y = BTreeMap::new();
        let mut fields_a = ours.envelope.fields.clone();
        fields_a.extend(a[k].fields.clone());
        let mut fields_b = theirs.envelope.fields.clone();
        fields_b.extend(b[k].fields.clone());
        field_types(&ours, &fields_a, "", &mut x, 0);
        field_types(&theirs, &fields_b, "", &mut y, 0);
        fa += x.len();
        fb += y.len();
        for (p, t) in &x {
            if let Some(u) = y.get(p) {
                common += 1;
                if t.ty == u.ty {
                    agree += 1;
                } else {
                    *disagreements
                        .entry(format!("{} vs {}", t.ty, u.ty))
                        .or_default() += 1;
                }
                same_format += usize::from(t.format == u.format);
                same_required += usize::from(t.required == u.required);
                same_nullable += usize::from(t.nullable == u.nullable);
                if let (Some((va, oa)), Some((vb, ob))) = (&t.values, &u.values) {
                    enums += 1;
                    same_values += usize::from(va == vb);
                    same_open += usize::from(oa == ob);
                }
            }
        }
        for p in y.keys().filter(|p| !x.contains_key(*p)) {
            *only_spec_fields.entry(format!("{k:?} {p}")).or_default() += 1;
        }
    }
    let union = fa + fb - common;
    println!("Plaid import vs spec/plaid.yaml");
    println!(
        "  events: ours {}, spec {}, matched {}, only ours {}, only spec {}",
        a.len(),
        b.len(),
        both.len(),
        only_ours.len(),
        only_theirs.len()
    );
    for k in &only_ours {
        println!("    only ours: {k:?}");
    }
    for k in &only_theirs {
        println!("    only spec: {k:?}");
    }
    println!(
        "  fields of matched events (dotted paths): ours {fa}, spec {fb}, in both {common} \
         ({:.1}% of the union, {:.1}% of the spec's)",
        100.0 * common as f64 / union as f64,
        100.0 * common as f64 / fb as f64
    );
    println!(
        "  types agree on {agree} of {common} common fields ({:.1}%)",
        100.0 * agree as f64 / common as f64
    );
    for (d, n) in &disagreements {
        println!("    {n:4} x ours {d} spec");
    }
    let pct = |n: usize| 100.0 * n as f64 / common as f64;
    println!(
        "  of the common fields: same format {same_format} ({:.1}%), same required-ness \
         {same_required} ({:.1}%), same nullability {same_nullable} ({:.1}%)",
        pct(same_format),
        pct(same_required),
        pct(same_nullable)
    );
    println!(
        "  enum fields in both: {enums}; same values {same_values}, same open/closed {same_open}"
    );
    for p in only_spec_fields.keys() {
        println!("    field only in the spec: {p}");
    }
    println!("  skipped by the importer: {}", done.skipped.len());
}

type Key = (Vec<String>, String);

/// Events by discriminator values; variants sharing values are told apart by the schema
/// they come from (`source_schema`, which `spec/plaid.yaml` records).
fn index(s: &hookspec_codegen::ProviderSpec) -> BTreeMap<Key, &hookspec_codegen::model::Event> {
    s.events
        .iter()
        .map(|e| {
            let when: Vec<String> = s
                .discriminator
                .iter()
                .map(|d| e.when.get(d).cloned().unwrap_or_default())
                .collect();
            ((when, e.source_schema.clone().unwrap_or_default()), e)
        })
        .collect()
}

/// The imported skeleton with stand-in facts, read as a model without validation.
fn stand_in_model(yaml: &str) -> hookspec_codegen::ProviderSpec {
    let text = import_openapi::stand_in(yaml);
    let node = marked_yaml::parse_yaml_with_options(
        0,
        &text,
        marked_yaml::LoaderOptions::default().prevent_coercion(true),
    )
    .unwrap();
    let (value, _) = hookspec_codegen::yaml::to_json(&node);
    serde_json::from_value(value).expect("the import deserializes as a spec model")
}
