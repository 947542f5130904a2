//! OpenAPI 3.1 export: one document per provider, read from the IR only.
//!
//! `generated/openapi/<provider>.openapi.json` holds:
//!
//! - `webhooks`: one POST operation per event, its body the same schema as
//!   `generated/schemas/<provider>/<Event>.schema.json` (named types under
//!   `components.schemas`), the headers the provider sends (signature headers too), the
//!   documented examples, the status the provider counts as delivered and what it does with
//!   any other answer;
//! - `components.schemas.Event`: the union of every event body, with an OpenAPI
//!   `discriminator` where one body field tells the events apart;
//! - `paths`: the provider's API as the webhook flow uses it (follow-up calls, the key
//!   endpoint), with `servers` from its base URLs;
//! - `x-hookspec-*` extensions for what OpenAPI has no word for: source addresses, timeout,
//!   retry schedule, the full auth schemes, assumed facts and notes.
//!
//! OpenAPI 3.1 schemas are JSON Schema 2020-12, so body schemas carry over unchanged apart
//! from `$ref`s, which point into `components.schemas` instead of `$defs`.

use std::path::PathBuf;

use serde_json::{json, Map, Value};

use crate::emit_schema;
use crate::generate::Output;
use crate::ir::{ApiDef, EndpointDef, EventDef, Provider};
use crate::model::{self, ApiAuth, Kind, ParamLocation};
use hookspec_core::{AuthScheme, AuthorizationKind, Success};

/// Directory of the OpenAPI documents, relative to the workspace root.
pub const DIR: &str = "generated/openapi";

/// The OpenAPI version written.
pub const VERSION: &str = "3.1.0";

/// The name of the union of every event body under `components.schemas`.
pub const EVENT_UNION: &str = "Event";

/// The emitted file of one provider.
pub fn output(p: &Provider) -> Output {
    Output {
        path: PathBuf::from(format!("{DIR}/{}.openapi.json", p.name)),
        contents: to_text(&document(p)),
    }
}

/// Pretty JSON with a final newline, as every emitted JSON file.
pub(crate) fn to_text(v: &Value) -> String {
    let mut text = serde_json::to_string_pretty(v).expect("JSON values always serialize");
    text.push('\n');
    text
}

/// The OpenAPI 3.1 document of one provider.
pub fn document(p: &Provider) -> Value {
    let schemas = component_schemas(p, "#/components/schemas/");
    let auth = security_schemes(p);

    let mut webhooks = Map::new();
    for e in &p.events {
        webhooks.insert(
            e.name.clone(),
            json!({ "post": webhook_operation(p, e, &auth) }),
        );
    }

    let mut doc = Map::new();
    doc.insert("openapi".into(), VERSION.into());
    doc.insert("info".into(), info(p));
    if let Some(url) = p.docs.first() {
        doc.insert("externalDocs".into(), json!({ "url": url }));
    }
    let mut security_schemes: Map<String, Value> = auth
        .iter()
        .map(|s| (s.name.clone(), s.openapi.clone()))
        .collect();
    if let Some(api) = &p.api {
        if !api.base_urls.is_empty() {
            let servers: Vec<Value> = api
                .base_urls
                .iter()
                .map(|(env, url)| json!({ "url": url, "description": env }))
                .collect();
            doc.insert("servers".into(), Value::Array(servers));
        }
        let (paths, api_schemes) = paths(p, api);
        security_schemes.extend(api_schemes);
        if paths.as_object().is_some_and(|m| !m.is_empty()) {
            doc.insert("paths".into(), paths);
        }
    }
    doc.insert("webhooks".into(), Value::Object(webhooks));
    let mut components = Map::new();
    components.insert("schemas".into(), Value::Object(schemas));
    if !security_schemes.is_empty() {
        components.insert("securitySchemes".into(), Value::Object(security_schemes));
    }
    doc.insert("components".into(), Value::Object(components));
    for (k, v) in extensions(p) {
        doc.insert(k, v);
    }
    Value::Object(doc)
}

/// `info`, with the generated-file marker as an extension (JSON has no comments).
pub(crate) fn info(p: &Provider) -> Value {
    let mut info = Map::new();
    info.insert("title".into(), format!("{} webhooks", p.title).into());
    info.insert(
        "version".into(),
        p.version
            .clone()
            .unwrap_or_else(|| "unversioned".into())
            .into(),
    );
    if let Some(d) = &p.description {
        info.insert("description".into(), d.trim().into());
    }
    info.insert(
        "x-hookspec-generated".into(),
        emit_schema::generated_comment(p).into(),
    );
    Value::Object(info)
}

/// The delivery facts OpenAPI and AsyncAPI cannot express, as `x-hookspec-*` members.
pub(crate) fn extensions(p: &Provider) -> Vec<(String, Value)> {
    let d = &p.delivery;
    let mut out = vec![
        (
            "x-hookspec-provider".to_owned(),
            Value::from(p.name.clone()),
        ),
        (
            "x-hookspec-delivery".to_owned(),
            json!({
                "method": d.method,
                "content_type": d.content_type,
                "source_ips": d.source_ips,
                "timeout": d.timeout,
                "timeout_seconds": d.timeout.get().as_secs_f64(),
                "success": d.success,
            }),
        ),
        (
            "x-hookspec-retry".to_owned(),
            json!({
                "policy": d.retry,
                "delays_seconds": d.retry.delays().iter().map(|x| x.as_secs_f64()).collect::<Vec<_>>(),
            }),
        ),
        (
            "x-hookspec-auth".to_owned(),
            serde_json::to_value(&p.auth).expect("auth schemes serialize"),
        ),
        (
            "x-hookspec-discriminator".to_owned(),
            Value::from(p.discriminator.clone()),
        ),
    ];
    if !d.assumed.is_empty() {
        out.push(("x-hookspec-assumed".to_owned(), json!(d.assumed)));
    }
    if !d.notes.is_empty() {
        out.push(("x-hookspec-notes".to_owned(), json!(d.notes)));
    }
    if p.docs.len() > 1 {
        out.push(("x-hookspec-docs".to_owned(), json!(p.docs)));
    }
    if let Some(reg) = p.api.as_ref().map(|a| &a.registration) {
        out.push(("x-hookspec-registration".to_owned(), json!(reg)));
    }
    out
}

/// Every schema the events need, keyed by name: each event's body under its body type's
/// name, the named types, then [`EVENT_UNION`]; `$ref`s point below `prefix`.
pub(crate) fn component_schemas(p: &Provider, prefix: &str) -> Map<String, Value> {
    let mut bodies = Map::new();
    let mut defs = Map::new();
    for e in &p.events {
        let Value::Object(mut schema) = emit_schema::event_schema(p, e) else {
            unreachable!("an event schema is an object")
        };
        for key in ["$schema", "$id", "$comment"] {
            schema.shift_remove(key);
        }
        if let Some(Value::Object(found)) = schema.shift_remove("$defs") {
            for (name, def) in found {
                // Every event's `$defs` draw on the one set of named types of the IR.
                debug_assert!(defs.get(&name).is_none_or(|d| d == &def), "{name} differs");
                defs.entry(name).or_insert(def);
            }
        }
        bodies.insert(e.body_type.clone(), Value::Object(schema));
    }
    let mut out = bodies;
    assert!(
        !out.contains_key(EVENT_UNION) && !defs.contains_key(EVENT_UNION),
        "a type of {} is named {EVENT_UNION}",
        p.name
    );
    // Named types in the IR's order, so the document reads as the spec does.
    for t in &p.types {
        if let Some(def) = defs.remove(t.name()) {
            out.insert(t.name().to_owned(), def);
        }
    }
    out.insert(EVENT_UNION.into(), event_union(p));
    let mut out = Value::Object(out);
    retarget_refs(&mut out, prefix);
    open_objects(&mut out);
    let Value::Object(out) = out else {
        unreachable!()
    };
    out
}

/// States `additionalProperties: true` on every object whose unknown fields the parser
/// keeps. JSON Schema implies it, but generators read its absence as "closed" (TypeScript
/// types without an index signature would refuse a body with a field the spec omits).
fn open_objects(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.contains_key("properties") && !m.contains_key("additionalProperties") {
                m.insert("additionalProperties".into(), true.into());
            }
            for (key, child) in m.iter_mut() {
                match (key.as_str(), child) {
                    // Keyed by field name: each value is a schema, the map itself is not.
                    ("properties", Value::Object(fields)) => {
                        fields.values_mut().for_each(open_objects)
                    }
                    // Values, not schemas.
                    ("const" | "enum" | "examples" | "required", _) => {}
                    (_, child) => open_objects(child),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(open_objects),
        _ => {}
    }
}

/// `#/$defs/X` becomes `{prefix}X`.
fn retarget_refs(v: &mut Value, prefix: &str) {
    match v {
        Value::Object(m) => {
            // A discriminator's `mapping` holds references as plain strings.
            for (key, v) in m.iter_mut() {
                let targets: Vec<&mut Value> = match (key.as_str(), v) {
                    ("$ref", r) => vec![r],
                    ("mapping", Value::Object(map)) => map.values_mut().collect(),
                    _ => continue,
                };
                for r in targets {
                    if let Some(name) = r.as_str().and_then(|r| r.strip_prefix("#/$defs/")) {
                        *r = format!("{prefix}{name}").into();
                    }
                }
            }
            m.values_mut().for_each(|x| retarget_refs(x, prefix));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| retarget_refs(x, prefix)),
        _ => {}
    }
}

/// The union of every event body. Where every event has its own values of one body field
/// the union is a `oneOf` with an OpenAPI `discriminator`; otherwise (several fields, a
/// header, or events told apart by `select`) it is an `anyOf` and the bodies' own `const`s
/// tell the events apart.
fn event_union(p: &Provider) -> Value {
    let refs: Vec<Value> = p
        .events
        .iter()
        .map(|e| json!({ "$ref": format!("#/$defs/{}", e.body_type) }))
        .collect();
    let description = format!("Any {} webhook body.", p.title);
    let single_field = match p.discriminator.as_slice() {
        [one] if model::header_ref(one).is_none() => Some(one),
        _ => None,
    };
    let unique = p
        .dispatch
        .iter()
        .all(|arm| arm.variants.is_empty() && arm.default.is_some() && !arm.when[0].is_empty());
    match single_field {
        Some(field) if unique => {
            let mapping: Map<String, Value> = p
                .dispatch
                .iter()
                .filter_map(|arm| {
                    let e = &p.events[arm.default?];
                    Some((
                        arm.when[0].clone(),
                        format!("#/$defs/{}", e.body_type).into(),
                    ))
                })
                .collect();
            json!({
                "description": description,
                "oneOf": refs,
                "discriminator": { "propertyName": field, "mapping": mapping },
            })
        }
        _ => json!({ "description": description, "anyOf": refs }),
    }
}

/// A security scheme for one of the provider's delivery auth schemes.
pub(crate) struct Scheme {
    /// Its key under `components.securitySchemes`.
    pub name: String,
    /// The OpenAPI security scheme object.
    pub openapi: Value,
    /// The AsyncAPI 3 security scheme object.
    pub asyncapi: Value,
    /// Whether a delivery may come without it.
    pub optional: bool,
}

/// One security scheme per delivery auth scheme, named after its kind and header.
pub(crate) fn security_schemes(p: &Provider) -> Vec<Scheme> {
    p.auth
        .iter()
        .map(|a| {
            let header = a.headers().first().copied().unwrap_or("Authorization");
            let (kind, text, optional) = match a {
                AuthScheme::Authorization(x) => (
                    "authorization",
                    x.description.as_deref().map(str::to_owned).unwrap_or_else(|| {
                        format!("A credential you configure at {}, sent as is.", p.title)
                    }),
                    !x.required,
                ),
                AuthScheme::Signature(x) => (
                    if x.algorithm.is_secret() {
                        "hmac"
                    } else {
                        x.algorithm.name()
                    },
                    x.description.as_deref().map(str::to_owned).unwrap_or_else(|| {
                        let key = if x.algorithm.is_secret() {
                            "the shared secret".to_owned()
                        } else {
                            format!("{}'s key", p.title)
                        };
                        format!(
                            "{} signature of `{}` with {key}, in `{}`.",
                            x.algorithm.describe(),
                            &*x.signed,
                            &*x.header
                        )
                    }),
                    x.optional,
                ),
                AuthScheme::Jwt(x) => (
                    "jwt",
                    x.description.as_deref().map(str::to_owned).unwrap_or_else(|| {
                        format!("A JWT signed by {}, in `{}`.", p.title, &*x.header)
                    }),
                    false,
                ),
                AuthScheme::IdentifyingHeader(x) => ("identifying_header", x.description.to_string(), false),
            };
            let description = format!(
                "{}\n\nThe exact scheme is under `x-hookspec-auth`.",
                text.trim()
            );
            let name = format!("{kind}_{header}");
            let (openapi, asyncapi) = match a {
                AuthScheme::Authorization(x) if x.schemes.len() == 1 && &*x.header == "Authorization" => {
                    let scheme = match x.schemes[0] {
                        AuthorizationKind::Basic => "basic",
                        AuthorizationKind::Bearer => "bearer",
                    };
                    (
                        json!({"type": "http", "scheme": scheme, "description": description}),
                        json!({"type": "http", "scheme": scheme, "description": description}),
                    )
                }
                _ => (
                    json!({"type": "apiKey", "in": "header", "name": header, "description": description}),
                    json!({"type": "httpApiKey", "in": "header", "name": header, "description": description}),
                ),
            };
            Scheme {
                name,
                openapi,
                asyncapi,
                optional,
            }
        })
        .collect()
}

/// A header a delivery carries.
pub(crate) struct DeliveryHeader {
    /// Its name as the provider spells it.
    pub name: String,
    /// What it carries.
    pub description: String,
    /// Its schema (a `const` where the value is fixed or names the event).
    pub schema: Value,
    /// Whether every delivery has it.
    pub required: bool,
    /// A typical value.
    pub example: Option<String>,
}

/// The headers a delivery of `e` carries: the provider's own, those of its auth schemes,
/// and the headers naming the event. `Content-Type` and `Authorization` are left out: the
/// request body and the security schemes state them.
pub(crate) fn delivery_headers(p: &Provider, e: &EventDef) -> Vec<DeliveryHeader> {
    let mut out: Vec<DeliveryHeader> = Vec::new();
    let mut push = |h: DeliveryHeader| {
        let skip = ["content-type", "authorization"]
            .iter()
            .any(|n| h.name.eq_ignore_ascii_case(n));
        match out
            .iter_mut()
            .find(|o| o.name.eq_ignore_ascii_case(&h.name))
        {
            // A header named by the discriminator is also listed among the provider's
            // own: the event's `const` is the more precise schema.
            Some(o) if h.schema.get("const").is_some() => o.schema = h.schema,
            Some(_) => {}
            None if skip => {}
            None => out.push(h),
        }
    };
    for h in &p.delivery.headers {
        let schema = match &h.value {
            Some(v) => json!({"type": "string", "const": v}),
            None => json!({"type": "string"}),
        };
        push(DeliveryHeader {
            name: h.name.clone(),
            description: h.description.trim().to_owned(),
            schema,
            required: true,
            example: h.example.clone().or_else(|| h.value.clone()),
        });
    }
    for a in &p.auth {
        let optional = a.is_optional() || matches!(a, AuthScheme::Authorization(x) if !x.required);
        for (i, name) in a.headers().into_iter().enumerate() {
            let description = if i == 0 {
                "The delivery's signature or credential; see the security scheme.".to_owned()
            } else {
                "The signed timestamp; see the security scheme.".to_owned()
            };
            push(DeliveryHeader {
                name: name.to_owned(),
                description,
                schema: json!({"type": "string"}),
                required: !optional,
                example: None,
            });
        }
    }
    for (d, value) in p.discriminator.iter().zip(&e.when) {
        if let (Some(header), false) = (model::header_ref(d), value.is_empty()) {
            push(DeliveryHeader {
                name: header.to_owned(),
                description: format!("Names the event: `{value}` for {}.", e.name),
                schema: json!({"type": "string", "const": value}),
                required: true,
                example: Some(value.clone()),
            });
        }
    }
    out
}

/// An event's documented examples, parsed (the spec loader has checked they are JSON).
pub(crate) fn examples(e: &EventDef) -> Vec<Value> {
    e.examples
        .iter()
        .map(|x| serde_json::from_str(x).expect("the loader checked every example is JSON"))
        .collect()
}

/// The discriminator values that pick `e`, by field (those it leaves out omitted).
pub(crate) fn when(p: &Provider, e: &EventDef) -> Value {
    let values: Map<String, Value> = p
        .discriminator
        .iter()
        .zip(&e.when)
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.clone(), v.clone().into()))
        .collect();
    Value::Object(values)
}

/// What happens after an answer that is not a success, in words.
pub(crate) fn failure_text(p: &Provider) -> String {
    let d = &p.delivery;
    let delays = d.retry.delays();
    let retries = if delays.is_empty() {
        "The provider does not retry: the delivery is lost.".to_owned()
    } else {
        let list: Vec<String> = delays
            .iter()
            .take(8)
            .map(|x| humantime::format_duration(*x).to_string())
            .collect();
        let more = if delays.len() > 8 { ", ..." } else { "" };
        format!(
            "The provider retries up to {} times, after {}{more} (`x-hookspec-retry`).",
            delays.len(),
            list.join(", ")
        )
    };
    format!(
        "Any other status, or no answer within {}, is a failed attempt. {retries}",
        humantime::format_duration(d.timeout.get())
    )
}

/// The status key of the success answer: `2XX` or the first accepted status.
pub(crate) fn success_status(s: &Success) -> String {
    match s {
        Success::Any2xx => "2XX".to_owned(),
        Success::Only(list) => list.first().copied().unwrap_or(200).to_string(),
    }
}

fn webhook_operation(p: &Provider, e: &EventDef, auth: &[Scheme]) -> Value {
    let mut op = Map::new();
    op.insert(
        "operationId".into(),
        format!("{}_{}", p.module, e.method).into(),
    );
    op.insert("summary".into(), e.name.clone().into());
    op.insert("description".into(), e.doc.trim().into());
    if e.deprecated {
        op.insert("deprecated".into(), true.into());
    }
    let parameters: Vec<Value> = delivery_headers(p, e)
        .into_iter()
        .map(|h| {
            let mut m = Map::new();
            m.insert("name".into(), h.name.into());
            m.insert("in".into(), "header".into());
            m.insert("description".into(), h.description.into());
            m.insert("required".into(), h.required.into());
            m.insert("schema".into(), h.schema);
            if let Some(x) = h.example {
                m.insert("example".into(), x.into());
            }
            Value::Object(m)
        })
        .collect();
    if !parameters.is_empty() {
        op.insert("parameters".into(), Value::Array(parameters));
    }
    let mut media = Map::new();
    media.insert(
        "schema".into(),
        json!({ "$ref": format!("#/components/schemas/{}", e.body_type) }),
    );
    let examples: Map<String, Value> = examples(e)
        .into_iter()
        .enumerate()
        .map(|(i, v)| (format!("example{}", i + 1), json!({ "value": v })))
        .collect();
    if !examples.is_empty() {
        media.insert("examples".into(), Value::Object(examples));
    }
    op.insert(
        "requestBody".into(),
        json!({
            "required": true,
            "content": { p.delivery.content_type.clone(): Value::Object(media) },
        }),
    );
    let mut responses = Map::new();
    let success = match &e.respond {
        Some(r) => {
            let status = r
                .status
                .map_or_else(|| success_status(&p.delivery.success), |s| s.to_string());
            let mut content = Map::new();
            content.insert(
                "example".into(),
                if r.json {
                    serde_json::from_str(&r.body).unwrap_or_else(|_| r.body.to_string().into())
                } else {
                    r.body.to_string().into()
                },
            );
            (
                status,
                json!({
                    "description": "The receiver's answer to this handshake event.",
                    "content": { r.content_type.to_string(): content },
                }),
            )
        }
        None => (
            success_status(&p.delivery.success),
            json!({ "description": format!(
                "Acknowledged: {} counts the delivery as done ({}).",
                p.title,
                p.delivery.success.describe()
            )}),
        ),
    };
    responses.insert(success.0, success.1);
    responses.insert("default".into(), json!({ "description": failure_text(p) }));
    op.insert("responses".into(), Value::Object(responses));
    let required: Map<String, Value> = auth
        .iter()
        .filter(|s| !s.optional)
        .map(|s| (s.name.clone(), json!([])))
        .collect();
    // An empty list says outright that the provider authenticates nothing.
    let security = if auth.is_empty() {
        json!([])
    } else {
        json!([required])
    };
    op.insert("security".into(), security);
    op.insert("x-hookspec-event".into(), e.name.clone().into());
    op.insert("x-hookspec-when".into(), when(p, e));
    if let Some(s) = &e.select {
        op.insert("x-hookspec-select".into(), json!(s));
    }
    if let Some(f) = &e.follow_up {
        op.insert("x-hookspec-follow-up".into(), f.endpoint.clone().into());
    }
    Value::Object(op)
}

/// `paths` for the API endpoints, and the security schemes their calls use.
fn paths(p: &Provider, api: &ApiDef) -> (Value, Map<String, Value>) {
    let mut schemes = Map::new();
    let requirement: Option<Map<String, Value>> = match &api.auth {
        Some(ApiAuth::Basic { user, password }) => {
            schemes.insert(
                "api_basic".into(),
                json!({"type": "http", "scheme": "basic",
                       "description": format!("`{user}` as user name, `{password}` as password.")}),
            );
            Some([("api_basic".to_owned(), json!([]))].into_iter().collect())
        }
        Some(ApiAuth::Headers(h)) => {
            let mut req = Map::new();
            for (header, credential) in h {
                let name = format!("api_{header}");
                schemes.insert(
                    name.clone(),
                    json!({"type": "apiKey", "in": "header", "name": header,
                           "description": format!("Your `{credential}`.")}),
                );
                req.insert(name, json!([]));
            }
            Some(req)
        }
        // Credentials in the body are body properties, not a security scheme.
        Some(ApiAuth::BodyFields(_)) | None => None,
    };
    let mut paths: Map<String, Value> = Map::new();
    for ep in &api.endpoints {
        let op = endpoint_operation(p, api, ep, requirement.as_ref());
        let item = paths
            .entry(ep.path.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        item.as_object_mut()
            .expect("path items are objects")
            .insert(ep.method.to_ascii_lowercase(), op);
    }
    (Value::Object(paths), schemes)
}

fn kind_schema(kind: Kind) -> Value {
    match kind {
        Kind::String | Kind::Enum => json!({"type": "string"}),
        Kind::Integer => json!({"type": "integer"}),
        Kind::Decimal => json!({"type": "number"}),
        Kind::Boolean => json!({"type": "boolean"}),
        Kind::Array => json!({"type": "array"}),
        Kind::Object | Kind::Map => json!({"type": "object"}),
        Kind::Any => json!({}),
    }
}

fn endpoint_operation(
    p: &Provider,
    api: &ApiDef,
    ep: &EndpointDef,
    requirement: Option<&Map<String, Value>>,
) -> Value {
    let mut op = Map::new();
    op.insert(
        "operationId".into(),
        format!("{}_{}", p.module, ep.name).into(),
    );
    op.insert("description".into(), ep.doc.trim().into());
    let mut parameters = Vec::new();
    let mut body_props = Map::new();
    let mut body_required = Vec::new();
    if let (true, Some(ApiAuth::BodyFields(fields))) = (ep.authenticated, &api.auth) {
        for f in fields {
            body_props.insert(
                f.clone(),
                json!({"type": "string", "description": format!("Your `{f}` credential.")}),
            );
            body_required.push(Value::from(f.clone()));
        }
    }
    for param in &ep.params {
        match param.location {
            ParamLocation::Path | ParamLocation::Query => {
                let place = if param.location == ParamLocation::Path {
                    "path"
                } else {
                    "query"
                };
                parameters.push(json!({
                    "name": param.name,
                    "in": place,
                    "required": param.required || place == "path",
                    "description": param.doc.trim(),
                    "schema": kind_schema(param.kind),
                }));
            }
            ParamLocation::Body => {
                let mut s = kind_schema(param.kind);
                s["description"] = param.doc.trim().into();
                body_props.insert(param.name.clone(), s);
                if param.required {
                    body_required.push(param.name.clone().into());
                }
            }
        }
    }
    if !parameters.is_empty() {
        op.insert("parameters".into(), Value::Array(parameters));
    }
    if !body_props.is_empty() {
        op.insert(
            "requestBody".into(),
            json!({"required": true, "content": {"application/json": {"schema": {
                "type": "object", "properties": body_props, "required": body_required,
            }}}}),
        );
    }
    let mut responses = Map::new();
    let example = |text: &str| -> Value {
        serde_json::from_str(text).unwrap_or_else(|_| Value::from(text.to_owned()))
    };
    responses.insert(
        ep.response_status.to_string(),
        json!({"description": "The documented answer.",
               "content": {"application/json": {"example": example(&ep.response_example)}}}),
    );
    if let Some((status, body)) = &api.error {
        responses.insert(
            status.to_string(),
            json!({"description": "The provider's error answer.",
                   "content": {"application/json": {"example": example(body)}}}),
        );
    }
    op.insert("responses".into(), Value::Object(responses));
    match requirement {
        Some(r) if ep.authenticated => {
            op.insert("security".into(), json!([r]));
        }
        _ => {
            op.insert("security".into(), json!([]));
        }
    }
    if let Some(a) = &ep.assumed {
        op.insert("x-hookspec-assumed".into(), a.clone().into());
    }
    if api.verification.as_deref() == Some(ep.name.as_str()) {
        op.insert("x-hookspec-verification-key".into(), true.into());
    }
    let used_by: Vec<Value> = p
        .events
        .iter()
        .filter(|e| e.follow_up.as_ref().is_some_and(|f| f.endpoint == ep.name))
        .map(|e| e.name.clone().into())
        .collect();
    if !used_by.is_empty() {
        op.insert("x-hookspec-follow-up-of".into(), Value::Array(used_by));
    }
    Value::Object(op)
}
