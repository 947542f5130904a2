//! `cargo xtask import-openapi`: a spec skeleton from an OpenAPI 3.0/3.1 document.
//!
//! Pure: OpenAPI text in, spec YAML text out, plus a report of what the spec format has no
//! room for. Events come from the document's `webhooks` (3.1: each webhook's POST request
//! body, `application/json`) or, when it has none or a pattern is given, from the
//! `components.schemas` whose names match a glob such as `*Webhook` (Plaid's style). Their
//! discriminator values come from each body's discriminator properties: a single `enum`
//! value, a `const`, an `example`, a description that is one backticked literal
//! (Plaid writes ``description: '`ASSETS`'``), or the schema's own example. Fields carry
//! over types, formats, enums, required-ness, nullability, descriptions, deprecation; the
//! component schemas a body names (`$ref`) become shared `types:` under the same name when
//! they are objects or enums, and are written in place otherwise. Examples are the
//! document's own (`example`, `examples`, `x-examples`); none are made up.
//!
//! What OpenAPI does not carry (delivery and authentication) comes out as values starting
//! with [`FILL_IN`], each under a comment listing the options. The loader refuses any such
//! value, naming each one with its file position and key path, so a skeleton cannot be used
//! by accident before someone looked up the provider's delivery rules.
//!
//! Enums come out closed (`open` unset) unless their description says the provider may add
//! values (see [`says_open`]): a closed enum refuses an unknown value, which an editor then
//! notices, whereas an open one would silently accept a typo.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use indexmap::IndexMap;
use serde_json::{json, Map, Value};

use crate::model::{Format, Kind, Shape};

/// How every value the importer cannot know starts; the loader refuses a spec holding one.
pub const FILL_IN: &str = "FILL IN";

/// What to import and how.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The provider name (`provider:` and the file name).
    pub provider: String,
    /// A glob over `components.schemas` names (`*` matches any run of characters) that
    /// picks the event bodies. When `None`, the document's `webhooks` are used, or
    /// `*Webhook` when it has none.
    pub schemas: Option<String>,
    /// The body fields whose values pick the event. When `None`, the fields that hold one
    /// fixed value in every event body (an `enum` of one value or a `const`) are used.
    pub discriminator: Option<Vec<String>>,
}

/// A finished import.
#[derive(Debug, Clone)]
pub struct Import {
    /// The spec skeleton, YAML text. The loader refuses it until its `FILL IN` values are
    /// replaced.
    pub yaml: String,
    /// Number of events written.
    pub events: usize,
    /// Number of shared types written.
    pub types: usize,
    /// What was left out or approximated, one line each, in document order.
    pub skipped: Vec<String>,
}

/// Why a document cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError(pub String);

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ImportError {}

fn err<T>(msg: impl Into<String>) -> Result<T, ImportError> {
    Err(ImportError(msg.into()))
}

/// Parses an OpenAPI document given as JSON or YAML text.
pub fn parse_document(text: &str) -> Result<Value, ImportError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with('{') {
        return serde_json::from_str(text)
            .map_err(|e| ImportError(format!("the file is not valid JSON: {e}")));
    }
    let node = marked_yaml::parse_yaml_with_options(
        0,
        text,
        marked_yaml::LoaderOptions::default().prevent_coercion(true),
    )
    .map_err(|e| {
        ImportError(format!(
            "the file is neither JSON nor a YAML mapping, so it is not an OpenAPI document: {e}"
        ))
    })?;
    Ok(crate::yaml::to_json(&node).0)
}

/// Imports an OpenAPI 3.0/3.1 document given as text.
pub fn import(text: &str, opts: &Options) -> Result<Import, ImportError> {
    import_value(&parse_document(text)?, opts)
}

/// Imports an already parsed OpenAPI 3.0/3.1 document.
pub fn import_value(doc: &Value, opts: &Options) -> Result<Import, ImportError> {
    check_version(doc)?;
    let mut cx = Cx {
        doc,
        types: IndexMap::new(),
        defining: BTreeSet::new(),
        skipped: Vec::new(),
        formats: BTreeMap::new(),
    };
    let webhooks = doc
        .get("webhooks")
        .and_then(Value::as_object)
        .filter(|w| !w.is_empty());
    let sources = match (&opts.schemas, webhooks) {
        (None, Some(w)) => cx.events_from_webhooks(w)?,
        (pattern, _) => {
            let pattern = pattern.as_deref().unwrap_or("*Webhook");
            cx.events_from_schemas(pattern, opts.discriminator.as_deref(), webhooks.is_some())?
        }
    };
    let discriminator = match &opts.discriminator {
        Some(d) if !d.is_empty() => d.clone(),
        _ => detect_discriminator(&cx, &sources)?,
    };
    let built = cx.build(&sources, &discriminator);
    for (format, n) in &cx.formats {
        cx.skipped.push(format!(
            "format `{format}` ({n} place(s)) has no counterpart in the spec format and was dropped"
        ));
    }
    let yaml = render(doc, opts, &sources, &discriminator, &built, &cx.types);
    Ok(Import {
        yaml,
        events: built.events.len(),
        types: cx.types.len(),
        skipped: cx.skipped,
    })
}

fn check_version(doc: &Value) -> Result<(), ImportError> {
    let Some(obj) = doc.as_object() else {
        return err("not an OpenAPI document: the top level is not a mapping");
    };
    if let Some(v) = obj.get("swagger") {
        return err(format!(
            "this is a Swagger (OpenAPI {}) document; only OpenAPI 3.0 and 3.1 are imported. \
             Convert it first (e.g. with swagger2openapi or editor.swagger.io's converter)",
            scalar_text(v)
        ));
    }
    let Some(v) = obj.get("openapi") else {
        return err("not an OpenAPI document: it has no top-level `openapi: 3.x.y` version key");
    };
    let v = scalar_text(v);
    if !(v.starts_with("3.0") || v.starts_with("3.1")) {
        return err(format!(
            "OpenAPI version `{v}` is not supported; only 3.0 and 3.1 are imported"
        ));
    }
    Ok(())
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether an enum's description says the provider may send values it does not list.
pub fn says_open(description: &str) -> bool {
    let d = description.to_ascii_lowercase();
    [
        "may add",
        "may be added",
        "new values",
        "additional values",
        "not exhaustive",
        "non-exhaustive",
        "may change",
        "subject to change",
        "may expand",
        "may be extended",
        "open enum",
        "more values",
    ]
    .iter()
    .any(|p| d.contains(p))
}

/// Whether `name` matches a glob where `*` stands for any run of characters.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// One event body found in the document, before conversion.
struct Source {
    /// Where it came from, for messages: `webhooks.invoice.paid` or `components.schemas.X`.
    origin: String,
    /// The event's name in the spec.
    name: String,
    /// The component schema's name, for `source_schema`.
    schema_name: Option<String>,
    /// The body schema, `$ref`s still in place.
    schema: Value,
    /// Operation-level description or summary.
    description: Option<String>,
    /// Examples from the media type, then from the schema.
    examples: Vec<Value>,
    /// The operation's HTTP method and the body's media type (webhooks only).
    method: Option<String>,
    content_type: Option<String>,
    deprecated: bool,
}

/// The converted events and envelope.
struct Built {
    envelope: IndexMap<String, Shape>,
    events: Vec<Value>,
}

struct Cx<'d> {
    doc: &'d Value,
    types: IndexMap<String, Shape>,
    defining: BTreeSet<String>,
    skipped: Vec<String>,
    formats: BTreeMap<String, usize>,
}

const SCHEMA_REF: &str = "#/components/schemas/";

impl<'d> Cx<'d> {
    fn component(&self, name: &str) -> Option<&'d Value> {
        self.doc.get("components")?.get("schemas")?.get(name)
    }

    /// Follows a local `$ref` (`#/a/b/c`) anywhere in the document.
    fn pointer(&self, r: &str) -> Option<&'d Value> {
        let p = r.strip_prefix('#')?;
        let p = p.replace("~1", "/").replace("~0", "~");
        self.doc.pointer(&p)
    }

    /// `v`, or what its `$ref` chain points at.
    fn deref<'a>(&self, mut v: &'a Value) -> &'a Value
    where
        'd: 'a,
    {
        for _ in 0..32 {
            match v
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| self.pointer(r))
            {
                Some(t) => v = t,
                None => return v,
            }
        }
        v
    }

    fn events_from_webhooks(
        &mut self,
        hooks: &'d Map<String, Value>,
    ) -> Result<Vec<Source>, ImportError> {
        let mut out = Vec::new();
        for (key, item) in hooks {
            let item = self.deref(item);
            let Some((method, op)) = ["post", "put"]
                .iter()
                .find_map(|m| item.get(*m).map(|op| (*m, op)))
            else {
                self.skipped.push(format!(
                    "webhooks.{key}: no POST or PUT operation; not an event"
                ));
                continue;
            };
            let Some(body) = op.get("requestBody").map(|b| self.deref(b)) else {
                self.skipped
                    .push(format!("webhooks.{key}: the operation has no requestBody"));
                continue;
            };
            let content = body.get("content").and_then(Value::as_object);
            let Some((ct, media)) = content.and_then(|c| {
                c.iter()
                    .find(|(k, _)| k.as_str() == "application/json")
                    .or_else(|| c.iter().find(|(k, _)| k.contains("json")))
            }) else {
                self.skipped.push(format!(
                    "webhooks.{key}: the request body has no JSON media type"
                ));
                continue;
            };
            let Some(schema) = media.get("schema") else {
                self.skipped
                    .push(format!("webhooks.{key}: the JSON body has no schema"));
                continue;
            };
            let mut examples = Vec::new();
            if let Some(e) = media.get("example") {
                examples.push(e.clone());
            }
            for e in media
                .get("examples")
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|m| m.values())
            {
                if let Some(v) = self.deref(e).get("value") {
                    examples.push(v.clone());
                }
            }
            let description = text(op, "description").or_else(|| text(op, "summary"));
            let schema_name = schema
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix(SCHEMA_REF))
                .map(str::to_owned);
            out.push(Source {
                origin: format!("webhooks.{key}"),
                name: crate::ir::pascal(key),
                schema_name,
                schema: schema.clone(),
                description,
                examples,
                method: Some(method.to_ascii_uppercase()),
                content_type: Some(ct.clone()),
                deprecated: op.get("deprecated") == Some(&Value::Bool(true)),
            });
        }
        if out.is_empty() {
            return err(
                "the document's `webhooks` hold no operation with a JSON request body, so there \
                 is no event to import; pass --schemas PATTERN to take event bodies from \
                 components.schemas instead",
            );
        }
        Ok(out)
    }

    fn events_from_schemas(
        &mut self,
        pattern: &str,
        discriminator: Option<&[String]>,
        has_webhooks: bool,
    ) -> Result<Vec<Source>, ImportError> {
        let schemas = self
            .doc
            .get("components")
            .and_then(|c| c.get("schemas"))
            .and_then(Value::as_object);
        let mut out = Vec::new();
        let mut matched = 0;
        for (name, schema) in schemas.into_iter().flatten() {
            if !glob_match(pattern, name) {
                continue;
            }
            matched += 1;
            let (props, _, _) = self.flatten_object(schema);
            if props.is_empty() {
                self.skipped.push(format!(
                    "components.schemas.{name}: matches `{pattern}` but has no properties; not an event"
                ));
                continue;
            }
            if let Some(missing) = discriminator
                .into_iter()
                .flatten()
                .find(|d| !props.contains_key(d.as_str()))
            {
                self.skipped.push(format!(
                    "components.schemas.{name}: matches `{pattern}` but has no `{missing}` property; not an event"
                ));
                continue;
            }
            let base = strip_glob(pattern, name);
            let mut event_name = crate::ir::pascal(&base);
            if base.chars().all(|c| c.is_ascii_alphanumeric())
                && base.starts_with(|c: char| c.is_ascii_uppercase())
            {
                event_name = base.clone();
            }
            out.push(Source {
                origin: format!("components.schemas.{name}"),
                name: event_name,
                schema_name: Some(name.clone()),
                schema: json!({ "$ref": format!("{SCHEMA_REF}{name}") }),
                description: None,
                examples: Vec::new(),
                method: None,
                content_type: None,
                deprecated: false,
            });
        }
        if out.is_empty() {
            let why = if matched == 0 {
                format!("no component schema's name matches `{pattern}`")
            } else {
                format!(
                    "the {matched} component schema(s) matching `{pattern}` are not event bodies"
                )
            };
            let webhooks = if has_webhooks {
                "drop --schemas to use its `webhooks`"
            } else {
                "it has no `webhooks` section either; pass --schemas PATTERN naming the event body schemas"
            };
            return err(format!("nothing to import: {why}, and {webhooks}"));
        }
        Ok(out)
    }

    /// The properties, required names and `additionalProperties: false` of an object
    /// schema, through `$ref` and `allOf`.
    fn flatten_object(&self, schema: &Value) -> (Map<String, Value>, BTreeSet<String>, bool) {
        let mut props = Map::new();
        let mut required = BTreeSet::new();
        let mut closed = false;
        let mut stack = vec![schema];
        let mut guard = 0;
        while let Some(s) = stack.pop() {
            guard += 1;
            if guard > 256 {
                break;
            }
            let s = self.deref(s);
            if let Some(p) = s.get("properties").and_then(Value::as_object) {
                for (k, v) in p {
                    props.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
            for r in s
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(r) = r.as_str() {
                    required.insert(r.to_owned());
                }
            }
            closed |= s.get("additionalProperties") == Some(&Value::Bool(false));
            if let Some(all) = s.get("allOf").and_then(Value::as_array) {
                stack.extend(all.iter().rev());
            }
        }
        (props, required, closed)
    }

    /// Defines the shared type for component `name` if it is an object or an enum;
    /// returns whether it did (otherwise the component is written in place).
    fn define(&mut self, name: &str) -> bool {
        if self.types.contains_key(name) || self.defining.contains(name) {
            return true;
        }
        let Some(schema) = self.component(name) else {
            return false;
        };
        let (props, _, _) = self.flatten_object(schema);
        let is_enum = schema.get("enum").is_some_and(|e| {
            e.as_array().is_some_and(|a| {
                a.iter().any(Value::is_string) && a.iter().all(|v| v.is_string() || v.is_null())
            })
        });
        if props.is_empty() && !is_enum {
            return false;
        }
        self.defining.insert(name.to_owned());
        let mut shape = self.shape(schema, &format!("components.schemas.{name}"));
        self.defining.remove(name);
        // Nullability and required-ness belong to each use, not to the type.
        shape.nullable = false;
        shape.required = None;
        self.types.insert(name.to_owned(), shape);
        true
    }

    /// Whether the schema (through `$ref`s) allows `null`.
    fn allows_null(&self, s: &Value) -> bool {
        let s = self.deref(s);
        s.get("nullable") == Some(&Value::Bool(true))
            || s.get("type")
                .and_then(Value::as_array)
                .is_some_and(|t| t.iter().any(|x| x == "null"))
            || s.get("enum")
                .and_then(Value::as_array)
                .is_some_and(|e| e.iter().any(Value::is_null))
    }

    /// The spec shape of an OpenAPI schema. `at` names it in the report.
    fn shape(&mut self, s: &Value, at: &str) -> Shape {
        let description = text(s, "description");
        let deprecated = s.get("deprecated") == Some(&Value::Bool(true));
        let mut out = self.shape_inner(s, at);
        if description.is_some() {
            out.description = description;
        }
        out.deprecated |= deprecated;
        out.nullable |= s.get("nullable") == Some(&Value::Bool(true));
        out
    }

    fn shape_inner(&mut self, s: &Value, at: &str) -> Shape {
        // A reference: a shared type when the component is an object or enum.
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            if let Some(name) = r.strip_prefix(SCHEMA_REF) {
                let target = self.component(name);
                if target.is_some() && self.define(name) {
                    return Shape {
                        reference: Some(name.to_owned()),
                        nullable: target.is_some_and(|t| self.allows_null(t)),
                        ..Shape::default()
                    };
                }
                if let Some(t) = target {
                    return self.shape(t, at);
                }
            }
            match self.pointer(r) {
                Some(t) => return self.shape(t, at),
                None => {
                    self.skipped.push(format!(
                        "{at}: `$ref: {r}` does not resolve; written as `any`"
                    ));
                    return kind(Kind::Any);
                }
            }
        }
        // `allOf`: one reference with siblings is that reference; otherwise merged.
        if let Some(all) = s.get("allOf").and_then(Value::as_array) {
            if all.len() == 1 && s.get("properties").is_none() {
                return self.shape(&all[0], at);
            }
            return self.object(s, at);
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(alts) = s.get(key).and_then(Value::as_array) {
                let non_null: Vec<&Value> = alts
                    .iter()
                    .filter(|a| a.get("type") != Some(&json!("null")))
                    .collect();
                let nullable = non_null.len() < alts.len();
                if non_null.len() == 1 {
                    let mut one = self.shape(non_null[0], at);
                    one.nullable |= nullable;
                    return one;
                }
                self.skipped.push(format!(
                    "{at}: `{key}` over {} alternatives has no counterpart; written as `any`",
                    non_null.len()
                ));
                return Shape {
                    nullable,
                    ..kind(Kind::Any)
                };
            }
        }
        // The type, with 3.1's `null` in a type list lifted to `nullable`.
        let mut nullable = false;
        let ty: Option<String> = match s.get("type") {
            Some(Value::String(t)) => Some(t.clone()),
            Some(Value::Array(ts)) => {
                let non_null: Vec<&str> = ts
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|t| *t != "null")
                    .collect();
                nullable = non_null.len() < ts.len();
                match non_null.as_slice() {
                    [one] => Some((*one).to_owned()),
                    [] => None,
                    many => {
                        self.skipped.push(format!(
                            "{at}: a value of several types ({}) has no counterpart; written as `any`",
                            many.join(", ")
                        ));
                        return Shape {
                            nullable,
                            ..kind(Kind::Any)
                        };
                    }
                }
            }
            _ => None,
        };
        // Enums and constants of strings.
        let values: Option<Vec<Value>> = s
            .get("enum")
            .and_then(Value::as_array)
            .cloned()
            .or_else(|| s.get("const").map(|c| vec![c.clone()]));
        if let Some(values) = values {
            nullable |= values.iter().any(Value::is_null);
            let strings: Vec<String> = values
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            let non_null = values.iter().filter(|v| !v.is_null()).count();
            if !strings.is_empty() && strings.len() == non_null {
                let mut unique = Vec::new();
                for v in strings {
                    if !unique.contains(&v) {
                        unique.push(v);
                    }
                }
                let open = text(s, "description").is_some_and(|d| says_open(&d));
                return Shape {
                    kind: Some(Kind::Enum),
                    values: Some(unique),
                    open: open.then_some(true),
                    nullable,
                    ..Shape::default()
                };
            }
            if non_null > 0 {
                self.skipped.push(format!(
                    "{at}: an enum of non-string values is written as its base type; the values are not kept"
                ));
            }
        }
        let ty = ty.or_else(|| {
            if s.get("properties").is_some() || s.get("additionalProperties").is_some() {
                Some("object".to_owned())
            } else if s.get("items").is_some() {
                Some("array".to_owned())
            } else {
                None
            }
        });
        let mut out = match ty.as_deref() {
            Some("string") => {
                let mut sh = kind(Kind::String);
                sh.format = self.format(s, Kind::String);
                sh
            }
            Some("integer") => {
                let mut sh = kind(Kind::Integer);
                sh.format = self.format(s, Kind::Integer);
                sh
            }
            Some("number") => {
                self.format(s, Kind::Decimal);
                kind(Kind::Decimal)
            }
            Some("boolean") => kind(Kind::Boolean),
            Some("array") => {
                let items = match s.get("items") {
                    Some(i) => self.shape(i, &format!("{at}[]")),
                    None => kind(Kind::Any),
                };
                Shape {
                    items: Some(Box::new(strip_field(items))),
                    ..kind(Kind::Array)
                }
            }
            Some("object") => self.object(s, at),
            Some(other) => {
                self.skipped
                    .push(format!("{at}: type `{other}` is unknown; written as `any`"));
                kind(Kind::Any)
            }
            None => kind(Kind::Any),
        };
        out.nullable |= nullable;
        out
    }

    fn format(&mut self, s: &Value, k: Kind) -> Option<Format> {
        let f = s.get("format").and_then(Value::as_str)?;
        let known = match (k, f) {
            (Kind::String, "uuid") => Some(Format::Uuid),
            (Kind::String, "date") => Some(Format::Date),
            (Kind::String, "date-time") => Some(Format::DateTime),
            (Kind::String, "ipv4") => Some(Format::Ipv4),
            (Kind::String, "uri" | "url") => Some(Format::Uri),
            (Kind::String, "email") => Some(Format::Email),
            // Every integer is an i64 already; a number is exact decimal text.
            (Kind::Integer, "int32" | "int64") => return None,
            (Kind::Decimal, "double" | "float" | "decimal") => return None,
            _ => None,
        };
        if known.is_none() {
            *self.formats.entry(f.to_owned()).or_default() += 1;
        }
        known
    }

    /// An object schema (with `allOf` merged): fields, or a map for a schema that only
    /// has `additionalProperties`.
    fn object(&mut self, s: &Value, at: &str) -> Shape {
        let (props, required, closed) = self.flatten_object(s);
        let extra = s.get("additionalProperties");
        if props.is_empty() {
            let items = match extra {
                Some(v @ Value::Object(_)) => strip_field(self.shape(v, &format!("{at}{{}}"))),
                _ => kind(Kind::Any),
            };
            return Shape {
                items: Some(Box::new(items)),
                ..kind(Kind::Map)
            };
        }
        if matches!(extra, Some(Value::Object(m)) if !m.is_empty()) {
            self.skipped.push(format!(
                "{at}: `additionalProperties` with a schema beside `properties` has no counterpart; unlisted fields are allowed but not typed"
            ));
        }
        let fields = self.fields(&props, &required, at);
        Shape {
            fields: Some(fields),
            additional_fields: closed.then_some(false),
            ..kind(Kind::Object)
        }
    }

    fn fields(
        &mut self,
        props: &Map<String, Value>,
        required: &BTreeSet<String>,
        at: &str,
    ) -> IndexMap<String, Shape> {
        let mut out = IndexMap::new();
        for (k, v) in props {
            let mut f = self.shape(v, &format!("{at}.{k}"));
            f.required = (!required.contains(k)).then_some(false);
            out.insert(k.clone(), f);
        }
        out
    }

    /// The one value a discriminator property holds: `const` or an `enum` of one value;
    /// unless `strict`, also an `example` or a description that is one backticked literal.
    fn fixed_value(&self, prop: &Value, strict: bool) -> Option<String> {
        let p = self.deref(prop);
        if let Some(Value::String(c)) = p.get("const") {
            return Some(c.clone());
        }
        if let Some(Value::Array(e)) = p.get("enum") {
            if let [Value::String(one)] = e.as_slice() {
                return Some(one.clone());
            }
        }
        if strict {
            return None;
        }
        if let Some(Value::String(x)) = p.get("example") {
            return Some(x.clone());
        }
        let d = text(p, "description")?;
        let d = d.trim();
        let inner = d.strip_prefix('`')?.strip_suffix('`')?;
        let inner = inner.trim_matches('"');
        (!inner.is_empty() && !inner.contains(['`', ' '])).then(|| inner.to_owned())
    }

    fn build(&mut self, sources: &[Source], discriminator: &[String]) -> Built {
        // Convert every body first.
        let mut bodies = Vec::new();
        for src in sources {
            let schema = &src.schema;
            let (props, required, closed) = self.flatten_object(schema);
            let fields = self.fields(&props, &required, &src.origin);
            let target = self.deref(schema);
            let mut examples = src.examples.clone();
            examples.extend(schema_examples(target));
            let when: IndexMap<String, String> = discriminator
                .iter()
                .map(|d| {
                    let from_prop = props.get(d).and_then(|p| self.fixed_value(p, false));
                    let from_example = || {
                        examples
                            .iter()
                            .find_map(|e| e.get(d).and_then(Value::as_str).map(str::to_owned))
                    };
                    let v = from_prop.or_else(from_example).unwrap_or_else(|| {
                        format!(
                            "{FILL_IN}: the value of `{d}` that marks this event ({} gives none)",
                            src.origin
                        )
                    });
                    (d.clone(), v)
                })
                .collect();
            let description = src
                .description
                .clone()
                .or_else(|| text(target, "description"))
                .unwrap_or_else(|| {
                    format!(
                        "{FILL_IN}: what this event means ({} has no description)",
                        src.origin
                    )
                });
            bodies.push((src, fields, closed, when, description, examples, target));
        }
        // The envelope: the discriminator, plus fields every event has with the same shape.
        let mut envelope = IndexMap::new();
        for d in discriminator {
            let descs: BTreeSet<Option<String>> = bodies
                .iter()
                .map(|b| b.1.get(d).and_then(|s| s.description.clone()))
                .collect();
            let description = match descs.into_iter().collect::<Vec<_>>().as_slice() {
                [Some(one)] => Some(one.clone()),
                _ => None,
            };
            envelope.insert(
                d.clone(),
                Shape {
                    kind: Some(Kind::String),
                    description,
                    ..Shape::default()
                },
            );
        }
        if bodies.len() > 1 {
            let first = &bodies[0].1;
            for (k, shape) in first {
                if envelope.contains_key(k) {
                    continue;
                }
                if bodies.iter().all(|b| b.1.get(k) == Some(shape)) {
                    envelope.insert(k.clone(), shape.clone());
                }
            }
        }
        let mut names = BTreeSet::new();
        let mut seen_when: BTreeMap<Vec<String>, String> = BTreeMap::new();
        let mut events = Vec::new();
        for (src, fields, closed, when, description, examples, target) in bodies {
            let mut name = src.name.clone();
            let mut n = 2;
            while !names.insert(name.clone()) {
                name = format!("{}{n}", src.name);
                n += 1;
            }
            let key: Vec<String> = when.values().cloned().collect();
            if let Some(other) = seen_when.insert(key, name.clone()) {
                self.skipped.push(format!(
                    "{}: events `{other}` and `{name}` have the same discriminator values; tell them apart with `select` (or drop one)",
                    src.origin
                ));
            }
            let mut e = Map::new();
            e.insert("name".into(), name.into());
            if let Some(s) = &src.schema_name {
                e.insert("source_schema".into(), s.clone().into());
            }
            e.insert("when".into(), serde_json::to_value(&when).expect("strings"));
            e.insert("description".into(), description.into());
            if src.deprecated || target.get("deprecated") == Some(&Value::Bool(true)) {
                e.insert("deprecated".into(), true.into());
            }
            if closed {
                e.insert("additional_fields".into(), false.into());
            }
            let own: IndexMap<String, Shape> = fields
                .into_iter()
                .filter(|(k, _)| !envelope.contains_key(k))
                .collect();
            if !own.is_empty() {
                e.insert(
                    "fields".into(),
                    serde_json::to_value(&own).expect("shapes serialize"),
                );
            }
            if !examples.is_empty() {
                let texts: Vec<Value> = examples
                    .iter()
                    .map(|x| {
                        let mut t = serde_json::to_string_pretty(x).expect("JSON");
                        t.push('\n');
                        Value::String(t)
                    })
                    .collect();
                e.insert("examples".into(), Value::Array(texts));
            }
            events.push(Value::Object(e));
        }
        Built { envelope, events }
    }
}

fn kind(k: Kind) -> Shape {
    Shape {
        kind: Some(k),
        ..Shape::default()
    }
}

/// A shape used as an array item or map value: `required` does not apply there.
fn strip_field(mut s: Shape) -> Shape {
    s.required = None;
    s
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The part of `name` the glob's first `*` matched (`AssetsErrorWebhook` by `*Webhook`
/// gives `AssetsError`); the whole name for other patterns.
fn strip_glob(pattern: &str, name: &str) -> String {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 2 && glob_match(pattern, name) {
        let inner = &name[parts[0].len()..name.len() - parts[1].len()];
        if !inner.is_empty() {
            return inner.to_owned();
        }
    }
    name.to_owned()
}

/// The examples a schema carries: `example`, 3.1 `examples` (a list), `x-examples` (a map).
fn schema_examples(s: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(e) = s.get("example") {
        out.push(e.clone());
    }
    if let Some(Value::Array(a)) = s.get("examples") {
        out.extend(a.iter().cloned());
    }
    if let Some(Value::Object(m)) = s.get("x-examples") {
        out.extend(m.values().cloned());
    }
    out
}

/// The body fields that hold one fixed value (an `enum` of one, or a `const`) in every
/// event and do not hold the same value in all of them.
fn detect_discriminator(cx: &Cx<'_>, sources: &[Source]) -> Result<Vec<String>, ImportError> {
    let bodies: Vec<Map<String, Value>> = sources
        .iter()
        .map(|s| cx.flatten_object(&s.schema).0)
        .collect();
    let mut out = Vec::new();
    let Some(first) = bodies.first() else {
        return Ok(out);
    };
    for k in first.keys() {
        let values: Option<BTreeSet<String>> = bodies
            .iter()
            .map(|b| cx.fixed_value(b.get(k)?, true))
            .collect();
        if values.is_some_and(|v| v.len() > 1 || bodies.len() == 1) {
            out.push(k.clone());
        }
    }
    if out.is_empty() {
        return err(
            "cannot tell which body field names the event: no property holds one fixed value \
             (an `enum` of one value or a `const`) in every event body; pass \
             --discriminator FIELD[,FIELD]",
        );
    }
    Ok(out)
}

// ------------------------------------------------------------------ rendering

/// A stand-in for each `FILL IN` value of a skeleton: a spec that loads, for checking the
/// rest of an import (and for tests). The values are placeholders, not facts: a
/// provider's real spec must say what the provider documents.
pub fn stand_in(skeleton: &str) -> String {
    let mut out = String::new();
    for line in skeleton.lines() {
        let Some(at) = line.find(&format!("\"{FILL_IN}")) else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let head = &line[..at];
        let key = head
            .trim_end()
            .trim_end_matches(':')
            .trim_start()
            .trim_start_matches('-')
            .trim_start();
        let value = match key {
            "method" => "POST",
            "content_type" => "application/json",
            "source_ips" => "[]",
            "timeout" => "10s",
            "success" => "any2xx",
            "schedule" => "none",
            "auth" => "[]",
            "docs" => "[https://example.com/docs/webhooks]",
            // A list item: the only one written is a link under `docs`.
            "" => "https://example.com/docs/webhooks",
            _ => "\"stand-in\"",
        };
        out.push_str(head);
        out.push_str(value);
        out.push('\n');
    }
    out
}

fn render(
    doc: &Value,
    opts: &Options,
    sources: &[Source],
    discriminator: &[String],
    built: &Built,
    types: &IndexMap<String, Shape>,
) -> String {
    let info = doc.get("info");
    let title = info
        .and_then(|i| text(i, "title"))
        .unwrap_or_else(|| crate::ir::pascal(&opts.provider));
    let version = info.and_then(|i| i.get("version")).map(scalar_text);
    let docs: Vec<String> = doc
        .get("externalDocs")
        .and_then(|d| text(d, "url"))
        .into_iter()
        .collect();
    let same = |f: &dyn Fn(&Source) -> Option<String>| -> Option<String> {
        let all: BTreeSet<Option<String>> = sources.iter().map(f).collect();
        match all.into_iter().collect::<Vec<_>>().as_slice() {
            [Some(one)] => Some(one.clone()),
            _ => None,
        }
    };
    let method = same(&|s| s.method.clone());
    let content_type = same(&|s| s.content_type.clone());

    let mut y = String::new();
    y.push_str("# yaml-language-server: $schema=provider.schema.json\n");
    y.push_str(&format!(
        "# Imported from an OpenAPI document by `cargo xtask import-openapi`. Fields, types and\n\
         # examples come from the document; everything marked `{FILL_IN}` is a fact OpenAPI does not\n\
         # carry: the loader refuses this file, naming each one, until you replace them with what\n\
         # the provider documents (where it documents nothing, pick a value and say why under\n\
         # `delivery.assumed`). Then write our own descriptions and run `cargo xtask generate`.\n"
    ));
    y.push_str(&format!("provider: {}\n", scalar(&opts.provider)));
    y.push_str(&format!("title: {}\n", scalar(&title)));
    if let Some(v) = version {
        y.push_str(&format!("version: {}\n", scalar(&v)));
    }
    y.push_str("docs:\n");
    if docs.is_empty() {
        y.push_str(&format!(
            "  - \"{FILL_IN}: a link to the provider's webhook documentation\"\n"
        ));
    }
    for d in &docs {
        y.push_str(&format!("  - {}\n", scalar(d)));
    }
    y.push('\n');
    let fill = |what: &str| format!("\"{FILL_IN}: {what}\"");
    y.push_str("delivery:\n");
    match &method {
        Some(m) => y.push_str(&format!("  method: {m}\n")),
        None => {
            y.push_str("  # POST or PUT: the HTTP method of each delivery.\n");
            y.push_str(&format!(
                "  method: {}\n",
                fill("the HTTP method of a delivery (POST or PUT), from the provider's webhook guide")
            ));
        }
    }
    match &content_type {
        Some(c) => y.push_str(&format!("  content_type: {}\n", scalar(c))),
        None => y.push_str(&format!(
            "  content_type: {}\n",
            fill("the Content-Type header of a delivery (usually application/json), from the webhook guide or a sample request")
        )),
    }
    y.push_str(&format!(
        "  # Addresses and CIDR ranges the provider sends from, e.g. [52.21.26.131, 10.0.0.0/8];\n\
         \x20 # `[]` if it publishes none.\n\
         \x20 source_ips: {}\n\
         \x20 # How long the provider waits for your response, e.g. 10s.\n\
         \x20 timeout: {}\n\
         \x20 # `any2xx`, or `{{only: [200]}}` when only some statuses count as delivered.\n\
         \x20 success: {}\n\
         \x20 retry:\n\
         \x20   # none | {{exponential: {{initial, factor, max_retries?, give_up_after?}}}}\n\
         \x20   #      | {{linear: {{step, retries}}}} | {{fixed: {{delays: [...]}}}}\n\
         \x20   schedule: {}\n\
         \x20 # Each value above the provider does not document, with the reason for the guess:\n\
         \x20 # assumed:\n\
         \x20 #   timeout: The provider does not document a timeout; 10 s is a common default.\n\n",
        fill("the addresses the provider sends from; providers list them in the webhook guide or a security/IP allowlist page"),
        fill("how long the provider waits for a response before it counts the attempt as failed; usually in the webhook guide's retry or best-practice section"),
        fill("which response statuses count as delivered (any2xx or {only: [200]}); usually next to the retry rules"),
        fill("what the provider does after a failed attempt (how often, how long apart, for how long); usually in the webhook guide's retry section"),
    ));
    y.push_str(&format!(
        "# How to tell a request really comes from the provider: a list of authorization,\n\
         # signature, jwt or identifying_header entries (see spec/vezgo.yaml, spec/plaid.yaml and\n\
         # the README's spec format); `[]` means the provider offers no authentication at all.\n\
         # E.g.\n\
         #   - signature:\n\
         #       header: X-Signature\n\
         #       algorithm: hmac-sha256\n\
         #       encoding: hex-lower\n\
         #       signed: \"{{body}}\"\n\
         #       format: {{}}\n\
         auth: {}\n\n",
        fill("how a receiver verifies a delivery (signature header, algorithm, what is signed, key source), from the provider's webhook security or verification page")
    ));
    y.push_str("# Top-level body fields whose values pick the event.\n");
    y.push_str(&format!(
        "discriminator: [{}]\n\n",
        discriminator
            .iter()
            .map(|d| scalar(d))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    y.push_str("envelope:\n  fields:\n");
    emit(
        &mut y,
        &serde_json::to_value(&built.envelope).expect("shapes"),
        4,
    );
    y.push('\n');
    if !types.is_empty() {
        y.push_str("# Component schemas the events name, under their OpenAPI names.\ntypes:\n");
        emit(&mut y, &serde_json::to_value(types).expect("shapes"), 2);
        y.push('\n');
    }
    y.push_str("events:\n");
    for e in &built.events {
        y.push('\n');
        emit_item(&mut y, e, 2);
    }
    y
}

/// Whether a string can be written as a plain YAML scalar and read back as the same string.
fn plain_ok(s: &str) -> bool {
    if s.is_empty() || s != s.trim() {
        return false;
    }
    let first = s.chars().next().expect("not empty");
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        return false;
    }
    if s.contains(": ")
        || s.contains(" #")
        || s.ends_with(':')
        || s.contains('\n')
        || s.contains('\t')
    {
        return false;
    }
    if s.chars().any(|c| c.is_control()) {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "true" | "false" | "null" | "~" | "yes" | "no" | "on" | "off" | "y" | "n"
    ) {
        return false;
    }
    let numeric = s
        .chars()
        .all(|c| c.is_ascii_digit() || "+-.eE_xXoO".contains(c));
    !numeric && !s.starts_with(|c: char| c.is_ascii_digit() && s.contains('.'))
}

fn scalar(s: &str) -> String {
    if plain_ok(s) {
        s.to_owned()
    } else {
        serde_json::to_string(s).expect("strings serialize")
    }
}

fn key(k: &str) -> String {
    scalar(k)
}

fn scalar_value(v: &Value) -> String {
    match v {
        Value::String(s) => scalar(s),
        Value::Null => "null".to_owned(),
        Value::Object(m) if m.is_empty() => "{}".to_owned(),
        Value::Array(a) if a.is_empty() => "[]".to_owned(),
        other => other.to_string(),
    }
}

fn is_block(v: &Value) -> bool {
    matches!(v, Value::Object(m) if !m.is_empty()) || matches!(v, Value::Array(a) if !a.is_empty())
}

/// Writes a mapping's entries at `indent`.
fn emit(y: &mut String, v: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) => {
            if m.is_empty() {
                return;
            }
            for (k, val) in m {
                emit_entry(y, &pad, k, val, indent);
            }
        }
        Value::Array(a) => {
            for item in a {
                emit_item(y, item, indent);
            }
        }
        other => {
            y.push_str(&pad);
            y.push_str(&scalar_value(other));
            y.push('\n');
        }
    }
}

fn emit_entry(y: &mut String, pad: &str, k: &str, val: &Value, indent: usize) {
    match val {
        Value::String(s) if s.contains('\n') && literal_ok(s) => {
            literal_block(y, &format!("{pad}{}: ", key(k)), pad, s)
        }
        v if is_block(v) => {
            y.push_str(&format!("{pad}{}:\n", key(k)));
            emit(y, v, indent + 2);
        }
        v => y.push_str(&format!("{pad}{}: {}\n", key(k), scalar_value(v))),
    }
}

/// A list item at `indent` (`- ` then the value).
fn emit_item(y: &mut String, v: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) if !m.is_empty() => {
            let inner = " ".repeat(indent + 2);
            for (i, (k, val)) in m.iter().enumerate() {
                let lead = if i == 0 {
                    format!("{pad}- ")
                } else {
                    inner.clone()
                };
                let mut part = String::new();
                emit_entry(&mut part, "", k, val, indent + 2);
                // Re-indent the continuation lines the entry wrote at `indent + 2`.
                let mut lines = part.lines();
                if let Some(first) = lines.next() {
                    y.push_str(&lead);
                    y.push_str(first);
                    y.push('\n');
                }
                for l in lines {
                    if l.is_empty() {
                        y.push('\n');
                    } else if l.starts_with(' ') {
                        y.push_str(l);
                        y.push('\n');
                    } else {
                        y.push_str(&inner);
                        y.push_str(l);
                        y.push('\n');
                    }
                }
            }
        }
        Value::String(s) if s.contains('\n') && literal_ok(s) => {
            literal_block(y, &format!("{pad}- "), &pad, s)
        }
        Value::Array(a) if !a.is_empty() => {
            y.push_str(&format!("{pad}-\n"));
            emit(y, v, indent + 2);
        }
        other => y.push_str(&format!("{pad}- {}\n", scalar_value(other))),
    }
}

/// `lead` then a `|` block holding `s`, its lines indented two past `pad`.
fn literal_block(y: &mut String, lead: &str, pad: &str, s: &str) {
    y.push_str(lead);
    y.push_str("|\n");
    for line in s.lines() {
        if line.is_empty() {
            y.push('\n');
        } else {
            y.push_str(&format!("{pad}  {line}\n"));
        }
    }
}

/// Whether a multi-line string survives a `|` block (no leading blank or indented first
/// line, no trailing spaces, no tabs or control characters).
fn literal_ok(s: &str) -> bool {
    s.ends_with('\n')
        && !s.starts_with([' ', '\n'])
        && !s.ends_with("\n\n")
        && s.lines().all(|l| l == l.trim_end())
        && !s.chars().any(|c| c.is_control() && c != '\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*Webhook", "AssetsErrorWebhook"));
        assert!(!glob_match("*Webhook", "Webhooks"));
        assert!(glob_match("Acme*Event", "AcmeInvoiceEvent"));
        assert!(glob_match("*", "x"));
        assert_eq!(strip_glob("*Webhook", "AssetsErrorWebhook"), "AssetsError");
    }

    #[test]
    fn scalars_round_trip() {
        for s in [
            "a",
            "1",
            "1.5",
            "true",
            "a: b",
            "#x",
            "- x",
            "",
            " x",
            "2021-01-01",
            "x'y",
        ] {
            let text = format!("k: {}\n", scalar(s));
            let doc = parse_document(&text).unwrap();
            assert_eq!(doc["k"], Value::String(s.to_owned()), "{text}");
        }
    }

    #[test]
    fn versions_and_non_documents_are_refused_clearly() {
        let e = import("swagger: '2.0'\ninfo: {title: x}\n", &Options::default()).unwrap_err();
        assert!(e.0.contains("Swagger"), "{e}");
        let e = import("title: x\n", &Options::default()).unwrap_err();
        assert!(e.0.contains("not an OpenAPI document"), "{e}");
        let e = import("- a\n- b\n", &Options::default()).unwrap_err();
        assert!(e.0.contains("not an OpenAPI document"), "{e}");
        let e = import("openapi: 3.1.0\ninfo: {title: x}\n", &Options::default()).unwrap_err();
        assert!(
            e.0.contains("no component schema's name matches `*Webhook`"),
            "{e}"
        );
        assert!(e.0.contains("--schemas"), "{e}");
    }

    #[test]
    fn open_enums_are_told_by_their_description() {
        assert!(says_open("New values may be added at any time."));
        assert!(!says_open("The status of the payment."));
    }
}
