//! AsyncAPI 3.0 export: one document per provider, read from the IR only.
//!
//! `generated/asyncapi/<provider>.asyncapi.json` describes the receiver's side: a server
//! for the receiver's URL, one HTTP channel (the endpoint registered at the provider) with a
//! message per event (headers, payload, examples), one `receive` operation per event with
//! the provider's auth as security schemes (`httpApiKey` for signatures and identifying
//! headers, `http` for Basic and Bearer credentials), and the same `x-hookspec-*`
//! extensions as the OpenAPI export for delivery facts AsyncAPI cannot state.
//!
//! Payload schemas are the OpenAPI export's `components.schemas`: the constructs the JSON
//! Schemas use (`const`, `anyOf`, `not`, `type` lists, `examples`) are all JSON Schema
//! draft 07, which AsyncAPI's default schema format extends.

use std::path::PathBuf;

use serde_json::{json, Map, Value};

use crate::emit_openapi::{self as openapi, to_text};
use crate::generate::Output;
use crate::ir::Provider;

/// Directory of the AsyncAPI documents, relative to the workspace root.
pub const DIR: &str = "generated/asyncapi";

/// The AsyncAPI version written.
pub const VERSION: &str = "3.0.0";

/// The HTTP bindings version written.
const HTTP_BINDING: &str = "0.3.0";

/// The emitted file of one provider.
pub fn output(p: &Provider) -> Output {
    Output {
        path: PathBuf::from(format!("{DIR}/{}.asyncapi.json", p.name)),
        contents: to_text(&document(p)),
    }
}

/// The AsyncAPI 3.0 document of one provider.
pub fn document(p: &Provider) -> Value {
    let mut schemas = openapi::component_schemas(p, "#/components/schemas/");
    // AsyncAPI's schema format names the discriminating property with a plain string.
    if let Some(Value::Object(union)) = schemas.get_mut(openapi::EVENT_UNION) {
        if let Some(field) = union
            .get("discriminator")
            .and_then(|d| d.get("propertyName"))
            .cloned()
        {
            union.insert("discriminator".into(), field);
        }
    }
    let auth = openapi::security_schemes(p);

    let mut messages = Map::new();
    let mut channel_messages = Map::new();
    let mut operations = Map::new();
    for e in &p.events {
        let headers = openapi::delivery_headers(p, e);
        let mut properties = Map::new();
        let mut required = Vec::new();
        for h in &headers {
            let mut s = h.schema.clone();
            s["description"] = h.description.clone().into();
            if let Some(x) = &h.example {
                s["examples"] = json!([x]);
            }
            properties.insert(h.name.clone(), s);
            if h.required {
                required.push(Value::from(h.name.clone()));
            }
        }
        let mut message = Map::new();
        message.insert("name".into(), e.name.clone().into());
        message.insert("title".into(), e.name.clone().into());
        message.insert("summary".into(), first_sentence(&e.doc).into());
        message.insert("description".into(), e.doc.trim().into());
        message.insert("contentType".into(), p.delivery.content_type.clone().into());
        if !headers.is_empty() {
            message.insert(
                "headers".into(),
                json!({"type": "object", "properties": properties, "required": required}),
            );
        }
        message.insert(
            "payload".into(),
            json!({ "$ref": format!("#/components/schemas/{}", e.body_type) }),
        );
        let examples: Vec<Value> = openapi::examples(e)
            .into_iter()
            .enumerate()
            .map(|(i, v)| json!({"name": format!("example{}", i + 1), "payload": v}))
            .collect();
        if !examples.is_empty() {
            message.insert("examples".into(), Value::Array(examples));
        }
        if e.deprecated {
            message.insert("x-hookspec-deprecated".into(), true.into());
        }
        message.insert("x-hookspec-when".into(), openapi::when(p, e));
        messages.insert(e.name.clone(), Value::Object(message));
        let message_ref = json!({ "$ref": format!("#/components/messages/{}", e.name) });
        channel_messages.insert(e.name.clone(), message_ref);

        let mut op = Map::new();
        op.insert("action".into(), "receive".into());
        op.insert("channel".into(), json!({"$ref": "#/channels/webhook"}));
        op.insert("summary".into(), format!("Receive {}", e.name).into());
        op.insert(
            "messages".into(),
            json!([{ "$ref": format!("#/channels/webhook/messages/{}", e.name) }]),
        );
        let security: Vec<Value> = auth
            .iter()
            .filter(|s| !s.optional)
            .map(|s| json!({ "$ref": format!("#/components/securitySchemes/{}", s.name) }))
            .collect();
        if !security.is_empty() {
            op.insert("security".into(), Value::Array(security));
        }
        op.insert(
            "bindings".into(),
            json!({"http": {"method": p.delivery.method, "bindingVersion": HTTP_BINDING}}),
        );
        op.insert(
            "x-hookspec-success-status".into(),
            openapi::success_status(&p.delivery.success).into(),
        );
        op.insert(
            "x-hookspec-on-failure".into(),
            openapi::failure_text(p).into(),
        );
        operations.insert(format!("receive{}", e.name), Value::Object(op));
    }

    let mut doc = Map::new();
    doc.insert("asyncapi".into(), VERSION.into());
    doc.insert("id".into(), format!("urn:hookspec:{}", p.name).into());
    let mut info = openapi::info(p);
    if let Some(url) = p.docs.first() {
        info["externalDocs"] = json!({ "url": url });
    }
    doc.insert("info".into(), info);
    doc.insert(
        "defaultContentType".into(),
        p.delivery.content_type.clone().into(),
    );
    doc.insert(
        "servers".into(),
        json!({"receiver": {
            "host": "{host}",
            "protocol": "https",
            "description": format!(
                "Your endpoint, the URL you register at {} for its webhooks.",
                p.title
            ),
            "variables": {"host": {"description": "The host of your receiver."}},
        }}),
    );
    doc.insert(
        "channels".into(),
        json!({"webhook": {
            "address": null,
            "title": format!("{} webhook endpoint", p.title),
            "description": "The path is the one you register; every event arrives on it.",
            "servers": [{"$ref": "#/servers/receiver"}],
            "messages": channel_messages,
        }}),
    );
    doc.insert("operations".into(), Value::Object(operations));
    let mut components = Map::new();
    components.insert("schemas".into(), Value::Object(schemas));
    components.insert("messages".into(), Value::Object(messages));
    if !auth.is_empty() {
        let schemes: Map<String, Value> = auth
            .iter()
            .map(|s| (s.name.clone(), s.asyncapi.clone()))
            .collect();
        components.insert("securitySchemes".into(), Value::Object(schemes));
    }
    doc.insert("components".into(), Value::Object(components));
    for (k, v) in openapi::extensions(p) {
        doc.insert(k, v);
    }
    Value::Object(doc)
}

/// The first sentence of a description, for a one-line summary.
fn first_sentence(text: &str) -> String {
    let text = text.trim();
    match text.find(". ") {
        Some(i) => text[..=i].to_owned(),
        None => text.to_owned(),
    }
}
