//! The JSON Schemas in `generated/schemas/` and the Rust types in `generated/src/providers/`
//! are emitted from one IR; these tests prove they accept exactly the same bodies.
//!
//! Every documented example validates against its event's schema and matches exactly one
//! entry, its own, of the provider's `oneOf`. Then every example is mutated field by field
//! (removed, nulled, set to each JSON type, enum values not listed, unknown fields, malformed
//! dates and date-times, integers at and past the `i64` range) and, for every mutation,
//! `hookspec::parse` must succeed exactly when the schemas accept the body.
//!
//! `format` is an annotation only; where the Rust types check text (dates, date-times) the
//! schemas carry a `pattern`, and the mutations below exercise it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use hookspec::runtime::ParseError;
use hookspec_codegen::emit_schema;
use hookspec_codegen::ir::{self, FieldDef, Provider, StructDef, TypeDef, TypeRef};
use hookspec_codegen::model::header_ref;
use serde_json::{json, Value};

use crate::common;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn providers() -> Vec<Provider> {
    let specs = hookspec_codegen::load_dir(&root().join("spec")).unwrap_or_else(|e| panic!("{e}"));
    specs.iter().map(|s| ir::lower(&s.spec)).collect()
}

/// A provider's compiled schemas.
struct Schemas {
    ir: Provider,
    /// `events.schema.json`.
    events: jsonschema::Validator,
    /// `<Event>.schema.json`, by event name.
    by_event: BTreeMap<String, jsonschema::Validator>,
    /// Each `oneOf` entry of `events.schema.json` on its own: (event name, when, validator).
    entries: Vec<(String, Vec<String>, jsonschema::Validator)>,
}

impl Schemas {
    fn load(ir: Provider) -> Schemas {
        let outputs = emit_schema::provider_schemas(&ir);
        let mut builder = jsonschema::Registry::new();
        let mut docs = BTreeMap::new();
        for o in &outputs {
            let text = std::fs::read_to_string(root().join(&o.path))
                .unwrap_or_else(|e| panic!("{}: {e}", o.path.display()));
            assert!(
                text == o.contents,
                "{} is stale: run `cargo xtask generate`",
                o.path.display()
            );
            let value: Value = serde_json::from_str(&text).unwrap();
            let id = value["$id"].as_str().unwrap().to_owned();
            builder = builder.add(&id, value.clone()).unwrap();
            docs.insert(id, value);
        }
        let registry = builder.prepare().unwrap();
        let build = |target: String| {
            jsonschema::options()
                .with_registry(&registry)
                .should_validate_formats(false)
                .offline()
                .build(&json!({
                    "$schema": emit_schema::DRAFT,
                    "$ref": target,
                }))
                .unwrap_or_else(|e| panic!("{e}"))
        };
        let events_id = emit_schema::schema_id(&ir, "events.schema.json");
        let events = build(events_id.clone());
        let by_event = ir
            .events
            .iter()
            .map(|e| {
                let id = emit_schema::schema_id(&ir, &format!("{}.schema.json", e.name));
                (e.name.clone(), build(id))
            })
            .collect();
        // `anyOf` where a header picks the event (a body may then match several entries).
        let keyword = if ir.routed_by_headers() {
            "anyOf"
        } else {
            "oneOf"
        };
        let entries = docs[&events_id][keyword]
            .as_array()
            .unwrap_or_else(|| panic!("{}: no {keyword}", ir.name))
            .iter()
            .enumerate()
            .map(|(i, entry)| {
                let name = entry["title"].as_str().unwrap().to_owned();
                let event = ir.events.iter().find(|e| e.name == name).unwrap();
                // A header's value is not in the body schema: it is the event's own. A
                // body field an event leaves out is pinned absent (`false`): "".
                let when = ir
                    .discriminator
                    .iter()
                    .zip(&event.when)
                    .map(|(d, own)| match header_ref(d) {
                        Some(_) => own.clone(),
                        None => entry["properties"][d]["const"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                    })
                    .collect();
                (name, when, build(format!("{events_id}#/{keyword}/{i}")))
            })
            .collect();
        Schemas {
            ir,
            events,
            by_event,
            entries,
        }
    }
}

fn all_schemas() -> Vec<Schemas> {
    providers().into_iter().map(Schemas::load).collect()
}

/// What the Rust parser made of a body: the event it dispatched to (`None`: unknown to
/// the spec, or refused before dispatch) and whether it parsed.
#[derive(Debug, PartialEq)]
struct Rust {
    event: Option<String>,
    ok: bool,
    error: Option<String>,
}

/// Parses `body` as delivered with the headers that name `event` (for providers that name
/// events in headers; others get none).
fn rust(p: &Provider, event: &str, body: &Value) -> Rust {
    let bytes = serde_json::to_vec(body).unwrap();
    let own = p.events.iter().find(|e| e.name == event).unwrap();
    let named: Vec<(String, String)> = p
        .discriminator
        .iter()
        .zip(&own.when)
        .filter_map(|(d, value)| Some((header_ref(d)?.to_owned(), value.clone())))
        .collect();
    let headers = common::header_map(&named);
    match hookspec::parse_delivery(&p.name, &headers, &bytes).expect("provider exists") {
        Ok(e) if e.name() == "Unknown" => Rust {
            event: None,
            ok: true,
            error: None,
        },
        Ok(e) => Rust {
            event: Some(e.name().to_owned()),
            ok: true,
            error: None,
        },
        Err(ParseError::Event {
            event,
            path,
            message,
        }) => Rust {
            event: Some(event.to_owned()),
            ok: false,
            error: Some(format!("{path}: {message}")),
        },
        Err(e) => Rust {
            event: None,
            ok: false,
            error: Some(e.to_string()),
        },
    }
}

#[test]
fn every_example_matches_its_event_schema_and_one_entry_of_the_provider_schema() {
    let mut checked = 0;
    for s in all_schemas() {
        for e in &s.ir.events {
            for (i, text) in e.examples.iter().enumerate() {
                let label = format!("{} {} example {i}", s.ir.name, e.name);
                let body: Value = serde_json::from_str(text).unwrap();
                let errors: Vec<String> = s.by_event[&e.name]
                    .iter_errors(&body)
                    .map(|err| format!("{} at {}", err, err.instance_path()))
                    .collect();
                assert!(errors.is_empty(), "{label}: {errors:#?}");
                assert!(s.events.is_valid(&body), "{label}: provider schema");
                // Where a header picks the event, its entry is the one for that header.
                let by_headers = s.ir.routed_by_headers();
                let matching: Vec<&str> = s
                    .entries
                    .iter()
                    .filter(|(_, w, v)| (!by_headers || w == &e.when) && v.is_valid(&body))
                    .map(|(n, _, _)| n.as_str())
                    .collect();
                assert_eq!(matching, [e.name.as_str()], "{label}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 100, "only {checked} examples");
}

// ---------------------------------------------------------------------------- mutations

#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone)]
enum Op {
    Remove,
    Set(Value),
}

#[derive(Debug, Clone)]
struct Mutation {
    kind: &'static str,
    path: Vec<Seg>,
    op: Op,
}

fn path_text(path: &[Seg]) -> String {
    let mut out = String::new();
    for s in path {
        match s {
            Seg::Key(k) => {
                let _ = write!(out, "/{k}");
            }
            Seg::Index(i) => {
                let _ = write!(out, "/{i}");
            }
        }
    }
    out
}

fn apply(body: &Value, m: &Mutation) -> Value {
    let mut out = body.clone();
    let (last, parents) = m.path.split_last().expect("never the root");
    let mut cur = &mut out;
    for s in parents {
        cur = match s {
            Seg::Key(k) => cur.get_mut(k.as_str()).expect("path exists"),
            Seg::Index(i) => cur.get_mut(*i).expect("path exists"),
        };
    }
    match (last, &m.op) {
        (Seg::Key(k), Op::Remove) => {
            cur.as_object_mut().unwrap().shift_remove(k.as_str());
        }
        (Seg::Key(k), Op::Set(v)) => {
            cur.as_object_mut().unwrap().insert(k.clone(), v.clone());
        }
        (Seg::Index(i), Op::Set(v)) => cur[*i] = v.clone(),
        (Seg::Index(_), Op::Remove) => unreachable!("array items are not removed"),
    }
    out
}

fn v(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// One value of each JSON type (two numbers: integral and not).
fn samples() -> Vec<Value> {
    ["\"x\"", "7", "1.5", "true", "[]", "{}"]
        .iter()
        .map(|t| v(t))
        .collect()
}

/// Integers at and past the `i64` range, and numbers an `i64` never holds.
///
/// Not `-9223372036854775809`: the schemas refuse it (`minimum`), but the `jsonschema`
/// crate compares integers below `i64::MIN` as `f64`, where it equals `i64::MIN`, and its
/// exact `arbitrary-precision` feature is not available here. Further below is fine.
const INTEGER_EDGES: &[&str] = &[
    "0",
    "-1",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "18446744073709551616",
    "-18446744073709551616",
    "0.5",
    "-0.5",
    "1e400",
];

/// Dates, valid and not, as `runtime::Date` reads them.
const DATES: &[&str] = &[
    "2023-01-03",
    "2024-02-29",
    "2000-02-29",
    "0000-02-29",
    "9999-12-31",
    "2023-02-29",
    "1900-02-29",
    "2023-04-31",
    "2023-13-01",
    "2023-00-10",
    "2023-01-00",
    "2023-1-03",
    "20230103",
    "+2023-01-03",
    "-2023-01-03",
    "2023-01-03T00:00:00Z",
    " 2023-01-03",
    "2023-01-03 ",
    "२०२३-01-03",
    "",
];

/// Date-times, valid and not, as `runtime::DateTime` reads them (RFC 3339 per `time`).
const DATE_TIMES: &[&str] = &[
    "2024-12-26T10:45:58.000Z",
    "2024-12-26T10:45:58Z",
    "2024-12-26t10:45:58z",
    "2024-12-26 10:45:58Z",
    "2024-12-26x10:45:58Z",
    "2024-12-26é10:45:58Z",
    "2024-12-26T10:45:58+05:30",
    "2024-12-26T10:45:58-23:59",
    "2024-12-26T10:45:58+24:00",
    "2024-12-26T10:45:58+05:60",
    "2024-12-26T10:45:58.123456789123Z",
    "2024-12-26T10:45:58.Z",
    "2024-12-26T10:45:58",
    "2024-12-26T10:45Z",
    "2024-12-26T24:00:00Z",
    "2024-12-26T10:60:00Z",
    "2024-12-26T10:45:61Z",
    "2024-02-30T10:45:58Z",
    "2024-02-29T10:45:58Z",
    "2016-12-31T23:59:60Z",
    "2016-12-31T23:59:60.5-00:00",
    "2016-12-30T23:59:60Z",
    "2016-12-31T22:59:60Z",
    "2024-02-29T23:59:60Z",
    "2024-02-28T23:59:60Z",
    "2023-02-28T23:59:60Z",
    "2024-12-26T10:45:58+05:30:00",
    "2024-12-26",
    "+2024-12-26T10:45:58Z",
];

struct Walker<'p> {
    p: &'p Provider,
    out: Vec<Mutation>,
}

impl Walker<'_> {
    fn push(&mut self, kind: &'static str, path: &[Seg], op: Op) {
        self.out.push(Mutation {
            kind,
            path: path.to_vec(),
            op,
        });
    }

    fn strukt(&self, name: &str) -> Option<&StructDef> {
        self.p.types.iter().find_map(|t| match t {
            TypeDef::Struct(s) if s.name == name => Some(s),
            _ => None,
        })
    }

    /// Mutations of one value of type `ty` at `path`, and of everything inside it.
    fn value(&mut self, ty: &TypeRef, value: &Value, path: &[Seg]) {
        match ty {
            TypeRef::Named(n) => match self.p.types.iter().find(|t| t.name() == n) {
                Some(TypeDef::Struct(s)) => {
                    let s = s.clone();
                    if value.is_object() {
                        self.object(&s.fields, s.additional, value, path, &[]);
                    }
                }
                Some(TypeDef::Enum(e)) => {
                    let kind = if e.open {
                        "open enum: value not listed"
                    } else {
                        "closed enum: value not listed"
                    };
                    self.push(kind, path, Op::Set(json!("HOOKSPEC_NOT_LISTED")));
                    for (listed, _) in &e.variants {
                        self.push("enum: listed value", path, Op::Set(json!(listed)));
                    }
                }
                None => panic!("`{n}` is not a type of the IR"),
            },
            TypeRef::Array(item) => {
                for s in samples().into_iter().chain([Value::Null]) {
                    self.push(
                        "array: one item of each JSON type",
                        path,
                        Op::Set(json!([s])),
                    );
                }
                for (i, elem) in value.as_array().into_iter().flatten().enumerate() {
                    let mut at = path.to_vec();
                    at.push(Seg::Index(i));
                    self.push("item: null", &at, Op::Set(Value::Null));
                    for s in samples() {
                        self.push("item: each JSON type", &at, Op::Set(s));
                    }
                    self.value(item, elem, &at);
                }
            }
            TypeRef::Map(item) => {
                for s in samples().into_iter().chain([Value::Null]) {
                    self.push(
                        "map: one value of each JSON type",
                        path,
                        Op::Set(json!({"k": s})),
                    );
                }
                for (k, elem) in value.as_object().into_iter().flatten() {
                    let mut at = path.to_vec();
                    at.push(Seg::Key(k.clone()));
                    self.push("map value: null", &at, Op::Set(Value::Null));
                    for s in samples() {
                        self.push("map value: each JSON type", &at, Op::Set(s));
                    }
                    self.value(item, elem, &at);
                }
            }
            TypeRef::Integer | TypeRef::UnixMs | TypeRef::UnixS => {
                for t in INTEGER_EDGES {
                    self.push("integer: range edges", path, Op::Set(v(t)));
                }
            }
            TypeRef::Decimal => {
                for t in ["-0", "1e400", "12345678901234567890.000000001"] {
                    self.push("decimal: extreme numbers", path, Op::Set(v(t)));
                }
            }
            TypeRef::Date => {
                for t in DATES {
                    self.push("date: text", path, Op::Set(json!(t)));
                }
            }
            TypeRef::DateTime => {
                for t in DATE_TIMES {
                    self.push("date-time: text", path, Op::Set(json!(t)));
                }
            }
            TypeRef::String | TypeRef::Boolean | TypeRef::Any => {}
        }
    }

    /// Mutations of an object's fields. `skip`: fields left alone (the discriminator).
    fn object(
        &mut self,
        fields: &[FieldDef],
        additional: bool,
        value: &Value,
        path: &[Seg],
        skip: &[String],
    ) {
        let obj = value.as_object().expect("an object");
        let mut at = path.to_vec();
        at.push(Seg::Key("hookspec_unknown_field".to_owned()));
        let kind = if additional {
            "unknown field (additional fields kept)"
        } else {
            "unknown field (additional fields refused)"
        };
        self.push(kind, &at, Op::Set(json!("x")));
        for f in fields.iter().filter(|f| !skip.contains(&f.json)) {
            let mut at = path.to_vec();
            at.push(Seg::Key(f.json.clone()));
            match obj.get(&f.json) {
                Some(current) => {
                    let kind = if f.required {
                        "remove required field"
                    } else {
                        "remove optional field"
                    };
                    self.push(kind, &at, Op::Remove);
                    let kind = if f.nullable {
                        "null (nullable field)"
                    } else {
                        "null (non-nullable field)"
                    };
                    self.push(kind, &at, Op::Set(Value::Null));
                    for s in samples() {
                        self.push("each JSON type", &at, Op::Set(s));
                    }
                    self.value(&f.ty, current, &at);
                }
                None => {
                    // Absent from the example: add it, in every JSON type and as null.
                    for s in samples().into_iter().chain([Value::Null]) {
                        self.push("absent field added, each JSON type", &at, Op::Set(s));
                    }
                }
            }
        }
    }

    /// Every mutation of one example body of event `e`.
    fn body(p: &Provider, e: &ir::EventDef, body: &Value) -> Vec<Mutation> {
        let mut w = Walker { p, out: Vec::new() };
        let s = w.strukt(&e.body_type).expect("body struct").clone();
        w.object(&s.fields, s.additional, body, &[], &p.discriminator);
        if let Some(field) = &p.payload_field {
            let at = vec![Seg::Key(field.clone())];
            w.push("remove required field", &at, Op::Remove);
            w.push("null (non-nullable field)", &at, Op::Set(Value::Null));
            for s in samples() {
                w.push("each JSON type", &at, Op::Set(s));
            }
            let data = &body[field.as_str()];
            // As `runtime::Payload` decides: an object with `errors` is the error shape.
            let ty = match (&p.payload_error, data.get("errors")) {
                (Some(err), Some(_)) => err.clone(),
                _ => e.payload_type.clone().expect("payload type"),
            };
            w.value(&TypeRef::Named(ty), data, &at);
            if p.payload_error.is_some() {
                // The other shape in its place.
                let other = if data.get("errors").is_some() {
                    json!({})
                } else {
                    json!({"errors": []})
                };
                w.push("payload: the other shape", &at, Op::Set(other));
            }
        }
        w.out
    }
}

fn group(what: &str, m: &Mutation) -> String {
    let op = match &m.op {
        Op::Remove => "remove".to_owned(),
        Op::Set(v) => format!("set {v}"),
    };
    format!("{what}: {} ({op})", m.kind)
}

#[derive(Default)]
struct Tally {
    total: usize,
    both_accept: usize,
    both_refuse: usize,
    redispatched: usize,
}

#[test]
fn rust_types_and_schemas_accept_the_same_bodies() {
    let mut tallies: BTreeMap<&'static str, Tally> = BTreeMap::new();
    let mut disagreements: Vec<(String, String)> = Vec::new();
    let mut examples = 0;
    for s in all_schemas() {
        let p = &s.ir;
        for e in &p.events {
            for (i, text) in e.examples.iter().enumerate() {
                examples += 1;
                let example: Value = serde_json::from_str(text).unwrap();
                for m in Walker::body(p, e, &example) {
                    let body = apply(&example, &m);
                    let r = rust(p, &e.name, &body);
                    let t = tallies.entry(m.kind).or_default();
                    t.total += 1;
                    let label = || {
                        format!(
                            "{} {} example {i}, {} at {}: {:?} -> rust {:?}",
                            p.name,
                            e.name,
                            m.kind,
                            path_text(&m.path),
                            m.op,
                            r
                        )
                    };
                    // The provider schema: some entry matches exactly when Rust parsed a
                    // known event.
                    // Where a header picks the event, the schema's say is its entry's.
                    let known = r.ok && r.event.is_some();
                    let schema_accepts = if p.routed_by_headers() {
                        s.entries
                            .iter()
                            .any(|(_, w, v)| w == &e.when && v.is_valid(&body))
                    } else {
                        s.events.is_valid(&body)
                    };
                    if schema_accepts != known {
                        disagreements.push((group("provider schema", &m), label()));
                        continue;
                    }
                    match &r.event {
                        Some(chosen) => {
                            if chosen != &e.name {
                                t.redispatched += 1;
                            }
                            // The event Rust dispatched to: its schema agrees with the parse.
                            if s.by_event[chosen].is_valid(&body) != r.ok {
                                disagreements.push((group("event schema", &m), label()));
                                continue;
                            }
                            if r.ok {
                                // ... and exactly its entry of the provider schema matches.
                                let when = &e.when;
                                let matching: Vec<&str> = s
                                    .entries
                                    .iter()
                                    .filter(|(_, w, v)| w == when && v.is_valid(&body))
                                    .map(|(n, _, _)| n.as_str())
                                    .collect();
                                if matching != [chosen.as_str()] {
                                    disagreements.push((
                                        group(&format!("entries {matching:?}"), &m),
                                        label(),
                                    ));
                                    continue;
                                }
                            }
                        }
                        None => {
                            // Unknown to the spec (or refused before dispatch): the event's
                            // own schema has nothing to say; the provider schema refused it.
                        }
                    }
                    if r.ok {
                        t.both_accept += 1;
                    } else {
                        t.both_refuse += 1;
                    }
                }
            }
        }
    }
    let mut report = format!(
        "{examples} examples; {} mutations\n{:<46} {:>7} {:>7} {:>7} {:>7}\n",
        tallies.values().map(|t| t.total).sum::<usize>(),
        "kind",
        "total",
        "accept",
        "refuse",
        "other"
    );
    for (k, t) in &tallies {
        let _ = writeln!(
            report,
            "{k:<46} {:>7} {:>7} {:>7} {:>7}",
            t.total, t.both_accept, t.both_refuse, t.redispatched
        );
    }
    println!("{report}");
    // One line per kind of disagreement (mutation kind and value), with a count.
    let mut grouped: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for (key, text) in &disagreements {
        let g = grouped.entry(key.clone()).or_insert((0, text.clone()));
        g.0 += 1;
    }
    let text: Vec<String> = grouped
        .iter()
        .map(|(k, (n, example))| format!("{n} x {k}\n    e.g. {example}"))
        .collect();
    assert!(
        disagreements.is_empty(),
        "{} disagreement(s):\n{}",
        disagreements.len(),
        text.join("\n")
    );
    assert!(examples >= 100, "only {examples} examples");
}

// ------------------------------------------------------------------ known disagreements

/// The first mutation of `kind` over all examples: (provider, example body, mutation,
/// event).
fn first_mutation(schemas: &[Schemas], kind: &str) -> (usize, Value, Mutation, String) {
    for (i, s) in schemas.iter().enumerate() {
        for e in &s.ir.events {
            for text in &e.examples {
                let example: Value = serde_json::from_str(text).unwrap();
                if let Some(m) = Walker::body(&s.ir, e, &example)
                    .into_iter()
                    .find(|m| m.kind == kind)
                {
                    return (i, example, m, e.name.clone());
                }
            }
        }
    }
    panic!("no example has a mutation of kind `{kind}`")
}

fn value_at<'v>(body: &'v Value, path: &[Seg]) -> &'v Value {
    path.iter().fold(body, |v, s| match s {
        Seg::Key(k) => &v[k.as_str()],
        Seg::Index(i) => &v[*i],
    })
}

/// What the Rust types and JSON Schema cannot agree on, pinned so that a change on either
/// side shows up here. The mutations above stay clear of exactly these cases.
#[test]
fn known_disagreements_are_pinned() {
    let schemas = all_schemas();

    // 1. (Fixed) A closed enum written as a one-entry object `{"<value>": null}`: serde's
    //    derived enum read it as the unit variant; the generated enums now take strings
    //    only, so Rust and the schema both refuse it.
    let (i, example, m, event) = first_mutation(&schemas, "closed enum: value not listed");
    let listed = value_at(&example, &m.path).as_str().unwrap().to_owned();
    let p = &schemas[i].ir;
    let body = apply(
        &example,
        &Mutation {
            op: Op::Set(json!({ listed: null })),
            ..m.clone()
        },
    );
    let r = rust(p, &event, &body);
    assert!(!r.ok, "closed enum as a map: {r:?}");
    assert!(!schemas[i].events.is_valid(&body));

    // 2. An integer written with a fraction or an exponent (`7.0`, `7e0`): `i64` refuses the
    //    text; JSON Schema's `integer` is about the value, so the schema accepts it.
    let (i, example, m, event) = first_mutation(&schemas, "integer: range edges");
    let p = &schemas[i].ir;
    for text in ["7.0", "7e0"] {
        let body = apply(
            &example,
            &Mutation {
                op: Op::Set(v(text)),
                ..m.clone()
            },
        );
        let r = rust(p, &event, &body);
        assert!(!r.ok, "{text}: {r:?}");
        assert!(schemas[i].events.is_valid(&body), "{text}");
    }

    // 3. A leap second written in a non-zero offset that falls at the end of a month in UTC:
    //    `time` accepts it; the schema's `pattern` takes leap seconds in UTC only.
    let (i, example, m, event) = first_mutation(&schemas, "date-time: text");
    let p = &schemas[i].ir;
    let body = apply(
        &example,
        &Mutation {
            op: Op::Set(json!("2017-01-01T00:59:60+01:00")),
            ..m.clone()
        },
    );
    let r = rust(p, &event, &body);
    assert!(r.ok, "leap second at +01:00: {r:?}");
    assert!(!schemas[i].events.is_valid(&body));

    // 4. A field given twice: serde refuses a duplicate field; JSON Schema sees the parsed
    //    object (one value per key) and accepts.
    let s = &schemas[0];
    let e = s.ir.events.iter().find(|e| !e.examples.is_empty()).unwrap();
    let text = e.examples[0].trim_start();
    let example: Value = serde_json::from_str(text).unwrap();
    let (key, value) = example
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| !s.ir.discriminator.contains(k))
        .unwrap();
    let doubled = format!("{{{}: {value},{}", json!(key), &text[1..]);
    let r = hookspec::parse(&s.ir.name, doubled.as_bytes()).unwrap();
    assert!(r.is_err(), "duplicate `{key}`: {r:?}");
    let parsed: Value = serde_json::from_str(&doubled).unwrap();
    assert!(s.events.is_valid(&parsed));
}
