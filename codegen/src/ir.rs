//! The IR between a validated spec and the emitters.
//!
//! Naming happens here, once: every JSON name gets its Rust identifier (keywords and
//! collisions handled, stable across runs), inline object and enum shapes get type
//! names, structurally identical shapes are emitted once, and the discriminator becomes a
//! dispatch table. Emitters read only this.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{self, Format, Kind, ProviderSpec, Shape};

/// One provider, ready to emit.
#[derive(Debug, Clone, PartialEq)]
pub struct Provider {
    /// Rust module name.
    pub module: String,
    /// Spec name (`plaid`).
    pub name: String,
    /// Human title.
    pub title: String,
    /// Provider description.
    pub description: Option<String>,
    /// Named types in emission order: shared types first, then event payloads.
    pub types: Vec<TypeDef>,
    /// Events in spec order.
    pub events: Vec<EventDef>,
    /// The discriminator fields, in order (JSON names).
    pub discriminator: Vec<String>,
    /// Where the event-specific fields live, when nested (`data`, `content`).
    pub payload_field: Option<String>,
    /// The type a payload may hold instead of the event's fields.
    pub payload_error: Option<String>,
    /// The key whose presence marks a payload as that error type.
    pub payload_error_marker: Option<String>,
    /// The envelope's fields (shared by every event struct).
    pub envelope: Vec<FieldDef>,
    /// The discriminator lowered to a dispatch table, one arm per distinct value tuple.
    pub dispatch: Vec<DispatchArm>,
    /// Whether the provider has its own per-delivery id (else keys hash the raw body).
    pub has_delivery_id: bool,
    /// Whether bodies repeating a key are read with the last copy winning (else refused).
    pub repeated_keys_last_wins: bool,
    /// The provider's API as the webhook flow uses it, when the spec describes one.
    pub api: Option<ApiDef>,
    /// The webhook API version the spec describes, when the provider versions webhooks.
    pub version: Option<String>,
    /// Links to the provider's own documentation.
    pub docs: Vec<String>,
    /// How deliveries are authenticated (core values, emitted as `AUTH`); every one applies.
    pub auth: Vec<model::AuthScheme>,
    /// How the provider delivers: transport, retries, headers and assumed facts.
    pub delivery: model::Delivery,
    /// Dotted paths to what an event is about, tried in order.
    pub subject_paths: Vec<String>,
    /// Dotted path to the provider's own delivery id.
    pub delivery_id_path: Option<String>,
    /// The spec's names of its shared types, in spec order.
    pub shared_type_names: Vec<String>,
    /// Every envelope field in spec order (the payload field included), with its doc text.
    pub envelope_docs: Vec<(String, Option<String>)>,
}

impl Provider {
    /// Whether deliveries are routed from their headers as well as their bodies: an event
    /// is named by a header (`header:X-GitHub-Event`), or by a body field some events'
    /// bodies lack. The one-pass body parser does not apply to such providers.
    pub fn routed_by_headers(&self) -> bool {
        self.discriminator
            .iter()
            .any(|d| model::header_ref(d).is_some())
            || self
                .events
                .iter()
                .any(|e| e.when.iter().any(String::is_empty))
    }

    /// The doc text of envelope field `json`.
    pub fn envelope_doc(&self, json: &str) -> Option<&str> {
        self.envelope_docs
            .iter()
            .find(|(name, _)| name == json)
            .and_then(|(_, doc)| doc.as_deref())
    }
}

/// A named Rust type.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeDef {
    /// A struct for a JSON object.
    Struct(StructDef),
    /// An enum for a string with known values.
    Enum(EnumDef),
}

impl TypeDef {
    /// The Rust name.
    pub fn name(&self) -> &str {
        match self {
            TypeDef::Struct(s) => &s.name,
            TypeDef::Enum(e) => &e.name,
        }
    }
}

/// A struct for a JSON object.
#[derive(Debug, Clone, PartialEq)]
pub struct StructDef {
    /// Rust name.
    pub name: String,
    /// Doc text.
    pub doc: Option<String>,
    /// Fields in spec order.
    pub fields: Vec<FieldDef>,
    /// Whether unknown fields are kept (`true`) or refused.
    pub additional: bool,
}

/// A struct field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDef {
    /// JSON name.
    pub json: String,
    /// Rust identifier (may be a raw identifier such as `r#type`).
    pub rust: String,
    /// Value type.
    pub ty: TypeRef,
    /// Must be present.
    pub required: bool,
    /// May be `null`.
    pub nullable: bool,
    /// Doc text.
    pub doc: Option<String>,
    /// The provider marks it deprecated.
    pub deprecated: bool,
    /// Format, for schemas and docs.
    pub format: Option<Format>,
}

/// An enum over known string values.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumDef {
    /// Rust name.
    pub name: String,
    /// Doc text.
    pub doc: Option<String>,
    /// `(json value, Rust variant)` in spec order.
    pub variants: Vec<(String, String)>,
    /// Unknown values are kept in an `Other(String)` variant.
    pub open: bool,
}

/// The type of a value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TypeRef {
    /// Text.
    String,
    /// A whole number.
    Integer,
    /// An exact decimal number.
    Decimal,
    /// `true`/`false`.
    Boolean,
    /// A calendar date.
    Date,
    /// An RFC 3339 date-time.
    DateTime,
    /// Unix time in milliseconds.
    UnixMs,
    /// Unix time in seconds.
    UnixS,
    /// Any JSON.
    Any,
    /// A list.
    Array(Box<TypeRef>),
    /// A map from string keys.
    Map(Box<TypeRef>),
    /// A named type of this provider.
    Named(String),
}

/// One arm of the dispatch table.
#[derive(Debug, Clone, PartialEq)]
pub struct DispatchArm {
    /// Discriminator values, in discriminator order.
    pub when: Vec<String>,
    /// Events (indexes into `Provider::events`) whose `select` is tried first, in spec order.
    pub variants: Vec<usize>,
    /// The event taken when no variant's `select` holds; `None`: such a body is unknown.
    pub default: Option<usize>,
}

/// How to reach a field from an event's body struct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// Struct fields to walk, outermost first.
    pub steps: Vec<Step>,
    /// The leaf's type.
    pub leaf: TypeRef,
}

/// One field on the way to a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Rust field name.
    pub rust: String,
    /// How the value is wrapped.
    pub wrap: Wrap,
}

/// How a field's value is wrapped in Rust.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrap {
    /// Plain.
    None,
    /// `Option<T>`.
    Option,
    /// `Nullable<T>` (optional and nullable).
    Nullable,
    /// `Payload<T, E>` (the payload field of a provider with an error shape).
    Payload,
}

/// One event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventDef {
    /// Spec name (`SyncUpdatesAvailable`), also the `Event` variant.
    pub name: String,
    /// Rust snake-case name for handler methods (`sync_updates_available`).
    pub method: String,
    /// The struct carrying the whole body.
    pub body_type: String,
    /// The struct for the payload field's contents, when the envelope nests them.
    pub payload_type: Option<String>,
    /// Discriminator values in discriminator order.
    pub when: Vec<String>,
    /// Variant selection, when several events share `when`.
    pub select: Option<model::Select>,
    /// Description.
    pub doc: String,
    /// Verbatim examples.
    pub examples: Vec<String>,
    /// Deprecated by the provider.
    pub deprecated: bool,
    /// How to read the id of what the event is about.
    pub subject: Option<Access>,
    /// How to read the provider's own delivery id.
    pub delivery_id: Option<Access>,
    /// The call a receiver makes next, when the spec names one.
    pub follow_up: Option<FollowUpDef>,
    /// How a receiver answers this event itself (a handshake), when the spec says.
    pub respond: Option<hookspec_core::Respond>,
    /// How well the provider documents the event.
    pub documented: model::Documented,
    /// The provider schema the event was taken from, when it has one.
    pub source_schema: Option<String>,
    /// A note on where the event's facts come from.
    pub note: Option<String>,
}

/// A provider's API, lowered from `api:`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiDef {
    /// `(environment, base URL)` in spec order.
    pub base_urls: Vec<(String, String)>,
    /// Where calls carry credentials.
    pub auth: Option<model::ApiAuth>,
    /// `(status, example body)` of the provider's error answer.
    pub error: Option<(u16, String)>,
    /// Endpoints in spec order.
    pub endpoints: Vec<EndpointDef>,
    /// The endpoint serving signature keys.
    pub verification: Option<String>,
    /// How a receiver URL is registered.
    pub registration: model::Registration,
}

/// One endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointDef {
    /// Spec name (`transactions_sync`).
    pub name: String,
    /// Rust constant naming its static description (`ENDPOINT_TRANSACTIONS_SYNC`).
    pub constant: String,
    /// HTTP method.
    pub method: &'static str,
    /// Path template.
    pub path: String,
    /// Description.
    pub doc: String,
    /// Why it is assumed, if it is.
    pub assumed: Option<String>,
    /// Whether calls carry credentials.
    pub authenticated: bool,
    /// Parameters in spec order.
    pub params: Vec<ParamDef>,
    /// Status of the documented answer.
    pub response_status: u16,
    /// The documented answer, JSON text as written in the spec.
    pub response_example: String,
}

/// One endpoint parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamDef {
    /// Name.
    pub name: String,
    /// Where it goes.
    pub location: model::ParamLocation,
    /// Kind of value.
    pub kind: Kind,
    /// Required by the provider.
    pub required: bool,
    /// Description.
    pub doc: String,
}

/// An event's follow-up.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowUpDef {
    /// Endpoint name.
    pub endpoint: String,
    /// `(parameter, source)` in spec order; payload paths are dotted without `$.`.
    pub bindings: Vec<(String, model::Binding)>,
    /// The spec's note.
    pub note: Option<String>,
}

/// What a follow-up parameter should carry for one delivery body: what a mock of the
/// provider checks a receiver's call against.
#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    /// Exactly this value.
    Value(serde_json::Value),
    /// A value only the receiver holds, for the payload value `key` when there is one.
    Caller {
        /// The caller value's name.
        name: String,
        /// The payload value it belongs to.
        key: Option<serde_json::Value>,
    },
    /// `<from>,<to>` dates the receiver tracks; absent on a first notification.
    SincePrevious,
    /// The payload lacks the bound path (a body that breaks the event's shape).
    Missing,
}

impl ApiDef {
    /// The endpoint named `name`, if the API has one.
    pub fn endpoint(&self, name: &str) -> Option<&EndpointDef> {
        self.endpoints.iter().find(|e| e.name == name)
    }
}

impl FollowUpDef {
    /// For each bound parameter, what a call made after `body` should carry.
    pub fn expected(&self, body: &serde_json::Value) -> Vec<(String, Expected)> {
        let at = |path: &str| {
            path.split('.')
                .try_fold(body, |v, k| v.get(k))
                .filter(|v| !v.is_null())
                .cloned()
        };
        self.bindings
            .iter()
            .map(|(name, b)| {
                let e = match b {
                    model::Binding::Payload(path) => {
                        at(path).map_or(Expected::Missing, Expected::Value)
                    }
                    model::Binding::Literal(v) => Expected::Value(v.clone()),
                    model::Binding::Caller(c) => Expected::Caller {
                        name: c.name.clone(),
                        key: c.key.as_deref().and_then(at),
                    },
                    model::Binding::SincePrevious { .. } => Expected::SincePrevious,
                };
                (name.clone(), e)
            })
            .collect()
    }
}

/// A `$.`-path as the dotted path the runtime reads (`$.data.id` -> `data.id`).
fn dotted(path: &str) -> String {
    path.strip_prefix("$.").unwrap_or(path).to_owned()
}

fn lower_binding(b: &model::Binding) -> model::Binding {
    match b {
        model::Binding::Payload(p) => model::Binding::Payload(dotted(p)),
        model::Binding::Caller(c) => model::Binding::Caller(model::CallerValue {
            name: c.name.clone(),
            key: c.key.as_deref().map(dotted),
        }),
        other => other.clone(),
    }
}

fn lower_api(api: &model::Api) -> ApiDef {
    ApiDef {
        base_urls: api
            .base_urls
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        auth: api.auth.clone(),
        error: api.error.as_ref().map(|e| (e.status, e.example.clone())),
        endpoints: api
            .endpoints
            .iter()
            .map(|(name, ep)| EndpointDef {
                name: name.clone(),
                constant: format!("ENDPOINT_{}", name.to_ascii_uppercase()),
                method: ep.method.as_str(),
                path: ep.path.clone(),
                doc: ep.description.clone(),
                assumed: ep.assumed.clone(),
                authenticated: ep.authenticated,
                params: ep
                    .params
                    .iter()
                    .map(|(n, p)| ParamDef {
                        name: n.clone(),
                        location: p.location,
                        kind: p.kind,
                        required: p.required,
                        doc: p.description.clone(),
                    })
                    .collect(),
                response_status: ep.response.status,
                response_example: ep.response.example.clone(),
            })
            .collect(),
        verification: api.verification.clone(),
        registration: api.registration.clone(),
    }
}

/// Lowers a validated spec to the IR.
pub fn lower(spec: &ProviderSpec) -> Provider {
    let mut l = Lowerer::new(spec);
    // Shared types first, under their own names.
    for name in spec.types.keys() {
        let rust = l.names.type_name(name);
        l.shared.insert(name.clone(), rust);
    }
    for (name, shape) in &spec.types {
        let rust = l.shared[name].clone();
        l.named_def(&rust, shape);
    }
    let envelope: Vec<FieldDef> = spec
        .envelope
        .fields
        .iter()
        .filter(|(k, _)| Some(*k) != spec.envelope.payload_field.as_ref())
        .map(|(k, s)| l.field("Envelope", k, s))
        .collect();
    let mut events = Vec::new();
    for e in &spec.events {
        let body_type = l.names.event_type(&e.name);
        let (payload_type, fields) = match &spec.envelope.payload_field {
            Some(_) => {
                let data_name = l.names.type_name(&format!("{}Data", e.name));
                let fields = e
                    .fields
                    .iter()
                    .map(|(k, s)| l.field(&data_name, k, s))
                    .collect();
                l.push(TypeDef::Struct(StructDef {
                    name: data_name.clone(),
                    doc: Some(format!(
                        "What a `{}` event carries in `{}`.",
                        e.name,
                        spec.envelope.payload_field.as_deref().unwrap_or_default()
                    )),
                    fields,
                    additional: e.additional_fields,
                }));
                (Some(data_name), Vec::new())
            }
            None => (
                None,
                e.fields
                    .iter()
                    .map(|(k, s)| l.field(&body_type, k, s))
                    .collect(),
            ),
        };
        let mut all = envelope.clone();
        all.extend(fields);
        l.push(TypeDef::Struct(StructDef {
            name: body_type.clone(),
            doc: Some(e.description.clone()),
            fields: all,
            additional: e.additional_fields,
        }));
        events.push(EventDef {
            name: e.name.clone(),
            method: snake(&e.name),
            body_type,
            payload_type,
            when: spec
                .discriminator
                .iter()
                .map(|d| e.when.get(d).cloned().unwrap_or_default())
                .collect(),
            select: e.select.clone(),
            doc: e.description.clone(),
            examples: e.examples.clone(),
            deprecated: e.deprecated,
            documented: e.documented,
            source_schema: e.source_schema.clone(),
            note: e.note.clone(),
            subject: None,
            delivery_id: None,
            follow_up: e.follow_up.as_ref().map(|f| FollowUpDef {
                endpoint: f.endpoint.clone(),
                bindings: f
                    .params
                    .iter()
                    .map(|(k, b)| (k.clone(), lower_binding(b)))
                    .collect(),
                note: f.note.clone(),
            }),
            respond: e.respond.as_ref().map(crate::model::Respond::rule),
        });
    }
    for ev in &mut events {
        ev.subject = spec
            .envelope
            .subject
            .iter()
            .find_map(|path| access(spec, &l.out, ev, path));
        ev.delivery_id = spec
            .envelope
            .idempotency_key
            .as_ref()
            .and_then(|path| access(spec, &l.out, ev, path));
    }
    let dispatch = dispatch_table(&events);
    Provider {
        dispatch,
        has_delivery_id: spec.envelope.idempotency_key.is_some(),
        repeated_keys_last_wins: spec.envelope.repeated_keys == model::RepeatedKeys::LastWins,
        api: spec.api.as_ref().map(lower_api),
        module: module_name(&spec.provider),
        name: spec.provider.clone(),
        title: spec.title.clone(),
        description: spec.description.clone(),
        types: l.out,
        events,
        discriminator: spec.discriminator.clone(),
        payload_field: spec.envelope.payload_field.clone(),
        payload_error: spec
            .envelope
            .payload_error
            .as_ref()
            .map(|t| l.shared.get(t).cloned().unwrap_or_else(|| t.clone())),
        payload_error_marker: spec.payload_error_marker().map(str::to_owned),
        envelope,
        version: spec.version.clone(),
        docs: spec.docs.clone(),
        auth: spec.auth.clone(),
        delivery: spec.delivery.clone(),
        subject_paths: spec.envelope.subject.clone(),
        delivery_id_path: spec.envelope.idempotency_key.clone(),
        shared_type_names: spec.types.keys().cloned().collect(),
        envelope_docs: spec
            .envelope
            .fields
            .iter()
            .map(|(k, s)| (k.clone(), s.description.clone()))
            .collect(),
    }
}

struct Lowerer<'s> {
    spec: &'s ProviderSpec,
    names: Names,
    /// Spec type name -> Rust type name.
    shared: BTreeMap<String, String>,
    /// Structural key of an inline shape -> the type emitted for it (deduplication).
    inline: BTreeMap<String, String>,
    out: Vec<TypeDef>,
}

impl<'s> Lowerer<'s> {
    fn new(spec: &'s ProviderSpec) -> Self {
        let mut names = Names::default();
        for reserved in [
            "Event",
            "ParseError",
            "Handler",
            "Unknown",
            "Payload",
            "Config",
            "FollowUp",
            "Webhooks",
            "AUTH",
            "DELIVERY",
            "KEY_ENDPOINT",
        ] {
            names.taken.insert(reserved.to_owned());
        }
        // Event body structs have first claim on their names, so shared types that
        // collide are the ones renamed.
        names.events = spec.events.iter().map(|e| e.name.clone()).collect();
        Lowerer {
            spec,
            names,
            shared: BTreeMap::new(),
            inline: BTreeMap::new(),
            out: Vec::new(),
        }
    }

    fn push(&mut self, def: TypeDef) {
        self.out.push(def);
    }

    /// Emits a shared type under its resolved name.
    fn named_def(&mut self, rust: &str, shape: &Shape) {
        match (shape.kind, &shape.reference) {
            (Some(Kind::Object), _) => {
                let fields = shape
                    .fields
                    .iter()
                    .flatten()
                    .map(|(k, s)| self.field(rust, k, s))
                    .collect();
                self.push(TypeDef::Struct(StructDef {
                    name: rust.to_owned(),
                    doc: shape.description.clone(),
                    fields,
                    additional: shape.additional_fields.unwrap_or(true),
                }));
            }
            (Some(Kind::Enum), _) => {
                let def = enum_def(rust, shape);
                self.push(TypeDef::Enum(def));
            }
            // Shared scalars, arrays and aliases become plain type references where used.
            _ => {}
        }
    }

    fn field(&mut self, owner: &str, json: &str, s: &Shape) -> FieldDef {
        let ty = self.type_ref(&format!("{owner}{}", pascal(json)), s);
        let resolved = self.resolve(s);
        FieldDef {
            json: json.to_owned(),
            rust: field_ident(json),
            ty,
            required: s.is_required(),
            nullable: s.nullable || resolved.is_some_and(|r| r.nullable),
            doc: s
                .description
                .clone()
                .or_else(|| resolved.and_then(|r| r.description.clone())),
            deprecated: s.deprecated,
            format: s.format.or_else(|| resolved.and_then(|r| r.format)),
        }
    }

    /// The shape a reference chain ends at (`None` when `s` is no reference).
    fn resolve(&self, s: &Shape) -> Option<&'s Shape> {
        s.reference.as_ref()?;
        self.spec
            .resolve(self.spec.types.get(s.reference.as_ref()?)?)
    }

    fn type_ref(&mut self, suggested: &str, s: &Shape) -> TypeRef {
        if let Some(name) = &s.reference {
            let target = &self.spec.types[name];
            return match target.kind {
                Some(Kind::Object) | Some(Kind::Enum) => TypeRef::Named(self.shared[name].clone()),
                _ => self.type_ref(suggested, target),
            };
        }
        match s.kind.unwrap_or(Kind::Any) {
            Kind::String => match s.format {
                Some(Format::Date) => TypeRef::Date,
                Some(Format::DateTime) => TypeRef::DateTime,
                _ => TypeRef::String,
            },
            Kind::Integer => match s.format {
                Some(Format::UnixMs) => TypeRef::UnixMs,
                Some(Format::UnixS) => TypeRef::UnixS,
                _ => TypeRef::Integer,
            },
            Kind::Decimal => TypeRef::Decimal,
            Kind::Boolean => TypeRef::Boolean,
            Kind::Any => TypeRef::Any,
            Kind::Array => {
                let item = s.items.as_deref().cloned().unwrap_or_default();
                TypeRef::Array(Box::new(self.type_ref(&format!("{suggested}Item"), &item)))
            }
            Kind::Map => {
                let item = s.items.as_deref().cloned().unwrap_or_default();
                TypeRef::Map(Box::new(self.type_ref(&format!("{suggested}Value"), &item)))
            }
            Kind::Object => {
                let key = format!("object:{}", structural_key(s));
                if let Some(existing) = self.inline.get(&key) {
                    return TypeRef::Named(existing.clone());
                }
                let name = self.names.type_name(suggested);
                self.inline.insert(key, name.clone());
                let fields = s
                    .fields
                    .iter()
                    .flatten()
                    .map(|(k, f)| self.field(&name, k, f))
                    .collect();
                self.push(TypeDef::Struct(StructDef {
                    name: name.clone(),
                    doc: s.description.clone(),
                    fields,
                    additional: s.additional_fields.unwrap_or(true),
                }));
                TypeRef::Named(name)
            }
            Kind::Enum => {
                let key = format!("enum:{}", structural_key(s));
                if let Some(existing) = self.inline.get(&key) {
                    return TypeRef::Named(existing.clone());
                }
                let name = self.names.type_name(suggested);
                self.inline.insert(key, name.clone());
                self.push(TypeDef::Enum(enum_def(&name, s)));
                TypeRef::Named(name)
            }
        }
    }
}

fn dispatch_table(events: &[EventDef]) -> Vec<DispatchArm> {
    let mut arms: Vec<DispatchArm> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let pos = match arms.iter().position(|a| a.when == e.when) {
            Some(pos) => pos,
            None => {
                arms.push(DispatchArm {
                    when: e.when.clone(),
                    variants: Vec::new(),
                    default: None,
                });
                arms.len() - 1
            }
        };
        match e.select {
            Some(_) => arms[pos].variants.push(i),
            None => arms[pos].default = Some(i),
        }
    }
    arms
}

/// The walk from an event's body struct to the field at a dotted JSON path.
fn access(spec: &ProviderSpec, types: &[TypeDef], e: &EventDef, path: &str) -> Option<Access> {
    let find = |name: &str| {
        types.iter().find_map(|t| match t {
            TypeDef::Struct(s) if s.name == name => Some(s),
            _ => None,
        })
    };
    let mut current = find(&e.body_type)?;
    let mut steps = Vec::new();
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        if spec.envelope.payload_field.as_deref() == Some(part) {
            let wrap = if spec.envelope.payload_error.is_some() {
                Wrap::Payload
            } else {
                Wrap::None
            };
            steps.push(Step {
                rust: field_ident(part),
                wrap,
            });
            current = find(e.payload_type.as_deref()?)?;
            continue;
        }
        let f = current.fields.iter().find(|f| f.json == part)?;
        let wrap = match (f.required, f.nullable) {
            (true, false) => Wrap::None,
            (false, true) => Wrap::Nullable,
            _ => Wrap::Option,
        };
        steps.push(Step {
            rust: f.rust.clone(),
            wrap,
        });
        if parts.peek().is_none() {
            return Some(Access {
                steps,
                leaf: f.ty.clone(),
            });
        }
        match &f.ty {
            TypeRef::Named(n) => current = find(n)?,
            _ => return None,
        }
    }
    None
}

fn enum_def(name: &str, s: &Shape) -> EnumDef {
    let mut taken = BTreeSet::from(["Other".to_owned()]);
    let variants = s
        .values
        .iter()
        .flatten()
        .map(|v| {
            let base = pascal(v);
            let base = if base.is_empty() || base.starts_with(|c: char| c.is_ascii_digit()) {
                format!("V{base}")
            } else {
                base
            };
            (v.clone(), unique(&base, &mut taken))
        })
        .collect();
    EnumDef {
        name: name.to_owned(),
        doc: s.description.clone(),
        variants,
        open: s.open.unwrap_or(false),
    }
}

/// A key that is equal for structurally identical shapes (descriptions included, so two
/// shapes documented differently stay two types).
fn structural_key(s: &Shape) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

#[derive(Default)]
struct Names {
    /// Names handed out.
    taken: BTreeSet<String>,
    /// Event names: reserved for the events' own body structs.
    events: BTreeSet<String>,
}

impl Names {
    /// An event's body struct: the event's own (validated PascalCase) name.
    fn event_type(&mut self, event: &str) -> String {
        self.taken.insert(event.to_owned());
        event.to_owned()
    }

    /// A unique PascalCase type name close to `wanted`, never an event's name.
    fn type_name(&mut self, wanted: &str) -> String {
        let base = if wanted.starts_with(|c: char| c.is_ascii_uppercase())
            && wanted.chars().all(|c| c.is_ascii_alphanumeric())
        {
            wanted.to_owned()
        } else {
            pascal(wanted)
        };
        let base = if self.events.contains(&base) {
            format!("{base}Type")
        } else {
            base
        };
        unique(&base, &mut self.taken)
    }
}

fn unique(base: &str, taken: &mut BTreeSet<String>) -> String {
    let mut name = base.to_owned();
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{base}{n}");
        n += 1;
    }
    taken.insert(name.clone());
    name
}

/// `webhook_code`, `loginName`, `item.account.created`, `not-started` -> PascalCase.
pub fn pascal(s: &str) -> String {
    words(s)
        .iter()
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + &c.as_str().to_ascii_lowercase(),
                None => String::new(),
            }
        })
        .collect()
}

/// PascalCase or camelCase or anything -> snake_case.
pub fn snake(s: &str) -> String {
    words(s)
        .iter()
        .map(|w| w.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join("_")
}

/// Splits on non-alphanumerics and on lower->upper and acronym->word boundaries.
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        let boundary = c.is_ascii_uppercase()
            && prev.is_some_and(|p| {
                p.is_ascii_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_ascii_uppercase() && next.is_some_and(|n| n.is_ascii_lowercase()))
            });
        if boundary && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// A snake_case Rust identifier for a JSON field name; keywords become raw identifiers.
pub fn field_ident(json: &str) -> String {
    let s = snake(json);
    let s = if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("f_{s}")
    } else {
        s
    };
    rust_ident(&s)
}

/// The Rust module of a provider: its spec name with `-` spelled `_` (a kebab-case
/// `belvo-institution-status` is the module `belvo_institution_status`), keywords escaped.
pub fn module_name(provider: &str) -> String {
    rust_ident(&provider.replace('-', "_"))
}

/// The file a provider's module is emitted to, `<module>.rs` without a raw-identifier
/// prefix (`mod r#type;` reads `type.rs`).
pub fn module_file(p: &Provider) -> String {
    format!("{}.rs", p.module.trim_start_matches("r#"))
}

/// `s` as an identifier; keywords that cannot be raw (`self`, `crate`, ...) get a `_`.
pub fn rust_ident(s: &str) -> String {
    match s {
        "self" | "Self" | "crate" | "super" => format!("{s}_"),
        k if KEYWORDS.contains(&k) => format!("r#{k}"),
        _ => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(pascal("item.account.created"), "ItemAccountCreated");
        assert_eq!(pascal("webhook_code"), "WebhookCode");
        assert_eq!(pascal("not-started"), "NotStarted");
        assert_eq!(
            pascal("PAYMENT_STATUS_INPUT_NEEDED"),
            "PaymentStatusInputNeeded"
        );
        assert_eq!(snake("loginName"), "login_name");
        assert_eq!(snake("SyncUpdatesAvailable"), "sync_updates_available");
        assert_eq!(snake("HTTPServer2Go"), "http_server2_go");
        assert_eq!(field_ident("type"), "r#type");
        assert_eq!(field_ident("self"), "self_");
        assert_eq!(field_ident("2fa"), "f_2fa");
    }

    #[test]
    fn unique_names_are_stable() {
        let mut n = Names::default();
        assert_eq!(n.type_name("Account"), "Account");
        assert_eq!(n.type_name("Account"), "Account2");
        assert_eq!(n.type_name("account"), "Account3");
        n.events.insert("SyncError".to_owned());
        assert_eq!(n.type_name("SyncError"), "SyncErrorType");
        assert_eq!(n.event_type("SyncError"), "SyncError");
    }
}
