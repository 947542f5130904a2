//! The spec model: what one `spec/<provider>.yaml` file says.
//!
//! These types are the single truth of the spec format. `spec/provider.schema.json` is
//! derived from them by `schemars`, and the loader deserializes YAML straight into them.
//! Everything here is plain data; rules that span several fields live in `validate`.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use hookspec_core::{
    header_ref, signed_pieces, AuthScheme, AuthorizationAuth, AuthorizationKind, BodyHash,
    DeliveryRules, DetachedJws, DigestAlgorithm, Duration, IdentifyingHeaderAuth, IpRange,
    JwksSource, JwtAlgorithm, JwtAuth, KeyEndpoint, KeySource, Pairs, Rotation, SecretEncoding,
    SecretFormat, SignatureAlgorithm, SignatureAuth, SignatureEncoding, SignatureFormat,
    SignatureLen, SignedPiece, SignedTimestamp, Success, TimestampUnit, ToleranceWindow,
    SIGNED_PLACEHOLDERS,
};

/// One provider's webhooks: delivery rules, authentication and every event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderSpec {
    /// Short lower-case name; also the file name, the Rust module and the URL path segment.
    pub provider: String,
    /// Human name of the provider, e.g. `Plaid`.
    pub title: String,
    /// What the provider is and what its webhooks are for, in our own words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The webhook API version this spec describes, when the provider versions its webhooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Links to the provider's own documentation.
    pub docs: Vec<String>,
    /// How the provider delivers webhooks.
    pub delivery: Delivery,
    /// How a receiver can tell that a request really comes from the provider. Every listed
    /// scheme applies; an empty list means the provider offers no authentication at all.
    #[serde(default)]
    pub auth: Vec<AuthScheme>,
    /// The top-level body fields whose values pick the event, e.g. `[webhook_type, webhook_code]`.
    pub discriminator: Vec<String>,
    /// The fields every event carries.
    pub envelope: Envelope,
    /// Named shapes shared by several events, referenced with `ref: Name`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub types: IndexMap<String, Shape>,
    /// Every event the provider documents.
    pub events: Vec<Event>,
    /// The provider's REST API as far as the webhook flow touches it: base URLs, how calls
    /// authenticate, the follow-up and verification endpoints, and how a receiver URL is
    /// registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<Api>,
}

impl ProviderSpec {
    /// The shape a chain of `ref`s ends at (`s` itself when it is no reference); `None` for
    /// a dangling reference or a cycle of pure aliases.
    pub fn resolve<'s>(&'s self, mut s: &'s Shape) -> Option<&'s Shape> {
        for _ in 0..=self.types.len() {
            match &s.reference {
                Some(name) => s = self.types.get(name)?,
                None => return Some(s),
            }
        }
        None
    }

    /// How bodies name their event and ids, as the runtime routes them.
    pub fn routing(&self) -> hookspec_core::Routing {
        let events: Vec<_> = self
            .events
            .iter()
            .map(|e| {
                let values: Vec<hookspec_core::Text> = self
                    .discriminator
                    .iter()
                    .map(|d| e.when.get(d).cloned().unwrap_or_default().into())
                    .collect();
                (values.into(), e.name.clone().into())
            })
            .collect();
        hookspec_core::Routing {
            discriminator: self.discriminator.iter().cloned().map(Into::into).collect(),
            events: events.into(),
            subject: self
                .envelope
                .subject
                .iter()
                .cloned()
                .map(Into::into)
                .collect(),
            idempotency_key: self.envelope.idempotency_key.clone().map(Into::into),
            responses: self
                .events
                .iter()
                .filter_map(|e| Some((e.name.clone().into(), e.respond.as_ref()?.rule())))
                .collect(),
        }
    }

    /// The key that marks a payload as the provider's error shape: the first field of the
    /// `payload_error` type. Loader, runtime and schemas all decide by it.
    pub fn payload_error_marker(&self) -> Option<&str> {
        let ty = self.types.get(self.envelope.payload_error.as_ref()?)?;
        self.resolve(ty)?
            .fields
            .as_ref()?
            .keys()
            .next()
            .map(String::as_str)
    }
}

/// How a unit enum of the model is spelled in YAML (`decimal`, `date-time`, `string`).
pub fn spelling<T: Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The transport facts of a delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    /// HTTP method of the delivery request.
    #[serde(default)]
    pub method: HttpMethod,
    /// `Content-Type` of the delivery body.
    pub content_type: String,
    /// Addresses and CIDR ranges the provider sends from. Empty when the provider
    /// publishes none.
    #[serde(default)]
    pub source_ips: Vec<IpRange>,
    /// How long the provider waits for a response before it counts the attempt as failed.
    pub timeout: Duration,
    /// Which response statuses the provider counts as delivered.
    pub success: Success,
    /// What the provider does after a failed attempt.
    pub retry: Retry,
    /// The status (400 to 499) the provider expects for a delivery whose signature or
    /// credentials fail, when it documents one other than 401 (GoCardless: 498). The
    /// generated receiver answers it and the conformance suite insists on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<u16>,
    /// Headers the provider sends with every delivery (besides auth headers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<Header>,
    /// Values above that the provider does not document, keyed by their path in `delivery`
    /// (e.g. `timeout`, `retry.schedule`), each with why the assumed value was chosen.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub assumed: IndexMap<String, String>,
    /// Further delivery facts worth knowing (ordering, duplicates, coalescing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Delivery {
    /// The facts a receiver checks, as the runtime takes them.
    pub fn rules(&self) -> DeliveryRules {
        DeliveryRules {
            content_type: self.content_type.clone().into(),
            source_ips: self.source_ips.clone().into(),
            timeout: self.timeout,
            success: self.success.clone(),
            refusal: self.refusal,
        }
    }
}

/// HTTP method of a delivery.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    /// `POST`, what every known provider uses.
    #[default]
    Post,
    /// `PUT`.
    Put,
}

/// Retry behaviour after a failed attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    /// The delays between attempts.
    pub schedule: Schedule,
    /// The provider stops retrying an endpoint that rejects too much of its traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub circuit_breaker: Option<CircuitBreaker>,
    /// The provider honours a `Retry-After` header on 429, waiting at most this long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_max: Option<Duration>,
}

impl Retry {
    /// The delay before each retry, in order (the first attempt is not delayed).
    pub fn delays(&self) -> Vec<std::time::Duration> {
        use std::time::Duration as D;
        match &self.schedule {
            Schedule::None => Vec::new(),
            Schedule::Fixed { delays } => delays.iter().map(|d| d.get()).collect(),
            Schedule::Linear { step, retries } => (1..=*retries).map(|k| step.get() * k).collect(),
            Schedule::Exponential {
                initial,
                factor,
                max_retries,
                give_up_after,
            } => {
                let mut out = Vec::new();
                let mut delay = initial.get();
                let mut elapsed = D::ZERO;
                // The cap keeps a schedule bounded only by time from looping forever.
                while out.len() < max_retries.map_or(64, |m| m as usize) {
                    elapsed = elapsed.saturating_add(delay);
                    if give_up_after.is_some_and(|g| elapsed > g.get()) {
                        break;
                    }
                    out.push(delay);
                    delay = delay.saturating_mul(*factor);
                }
                out
            }
        }
    }
}

/// A retry schedule as data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    /// No retries: a failed delivery is lost.
    None,
    /// Each delay is `factor` times the previous one, starting at `initial`.
    Exponential {
        /// The first delay.
        initial: Duration,
        /// Multiplier between consecutive delays (at least 2).
        factor: u32,
        /// Stop after this many retries, if the provider caps them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_retries: Option<u32>,
        /// Stop once the next attempt would fall later than this after the first one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        give_up_after: Option<Duration>,
    },
    /// Delays grow by the same step each time: `step`, `2*step`, `3*step`, ...
    Linear {
        /// The first delay and the increment.
        step: Duration,
        /// How many retries follow the first attempt.
        retries: u32,
    },
    /// An explicit list of delays.
    Fixed {
        /// Delay before each retry, in order.
        delays: Vec<Duration>,
    },
}

/// Stop retrying when too many deliveries were rejected recently.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CircuitBreaker {
    /// Fraction of rejected deliveries (0 to 1) above which retries stop.
    pub rejected_over: f64,
    /// The window the fraction is measured over.
    pub window: Duration,
}

/// A header the provider sends with each delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Header name as the provider spells it.
    pub name: String,
    /// What the header carries.
    pub description: String,
    /// A literal value the header always has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// A typical value, for docs and generated requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
    /// A value the provider makes afresh for each delivery (an id, the send time); a
    /// redelivery of the same event keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate: Option<Generate>,
}

/// How a per-delivery header value is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Generate {
    /// A random UUID (version 4), e.g. GitHub's `X-GitHub-Delivery`.
    Uuid,
    /// The send time in Unix seconds.
    UnixSeconds,
    /// The send time as an RFC 3339 date-time (UTC).
    Rfc3339,
    /// A prefix and random letters and digits, e.g. Standard Webhooks' `msg_...`.
    Token {
        /// Text before the random part.
        #[serde(default)]
        prefix: String,
        /// How many random characters follow the prefix.
        length: u32,
    },
}

/// The part of the body every event shares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Top-level fields of every event.
    pub fields: IndexMap<String, Shape>,
    /// The envelope field that holds the event-specific fields (Belvo `data`, Bridge
    /// `content`). Absent: events' fields sit at the top level beside the envelope's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_field: Option<String>,
    /// A shared type the payload field may hold instead of the event's fields, for any
    /// event (Belvo: `data.errors[]` when retrieval failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_error: Option<String>,
    /// Dotted paths to the id of what an event is about (`item_id`, `data.link_id`,
    /// `account.id`), tried in order; the first one an event has is its subject.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subject: Vec<String>,
    /// Dotted path to the provider's own per-delivery id. Absent: the idempotency key is
    /// derived from the raw body (`sha256:<hex>`), so only byte-identical redeliveries match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// What a body that repeats a key in one object is. `refuse` (the default): a parse
    /// error (400), as I-JSON (RFC 7493) requires, since readers disagree on which copy
    /// counts. `last_wins`: only for a provider documented to send such bodies; every
    /// reader then takes the last copy.
    #[serde(default, skip_serializing_if = "RepeatedKeys::is_refuse")]
    pub repeated_keys: RepeatedKeys,
}

/// How a body that repeats a key in one object is read (`envelope.repeated_keys`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RepeatedKeys {
    /// Refuse the body.
    #[default]
    Refuse,
    /// Read the last copy of each repeated key, on every path.
    LastWins,
}

impl RepeatedKeys {
    fn is_refuse(&self) -> bool {
        *self == RepeatedKeys::Refuse
    }
}

/// One event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// PascalCase name, unique within the provider.
    pub name: String,
    /// The discriminator values that select this event, one per discriminator field.
    pub when: IndexMap<String, String>,
    /// For a second payload shape under the same discriminator values: what tells it apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select: Option<Select>,
    /// What happened, in our own words.
    pub description: String,
    /// Event-specific fields (inside `envelope.payload_field` when that is set).
    #[serde(default)]
    pub fields: IndexMap<String, Shape>,
    /// Whether fields not listed may appear (providers add fields without notice).
    #[serde(default = "yes")]
    pub additional_fields: bool,
    /// Documented payloads, verbatim JSON text, each of which must validate.
    #[serde(default)]
    pub examples: Vec<String>,
    /// How well the provider documents this event.
    #[serde(default)]
    pub documented: Documented,
    /// Why the payload is modelled as it is when it is not fully documented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The provider marks this event as deprecated.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
    /// Name of the shape in the provider's own machine-readable spec, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_schema: Option<String>,
    /// The call back to the provider a receiver makes next, with its parameters bound to
    /// the payload or to values the receiver holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<FollowUp>,
    /// An endpoint-verification handshake: the receiver answers this event itself with
    /// the body stated here (Slack's `url_verification` echoes `challenge`), without
    /// calling a handler.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub respond: Option<Respond>,
}

/// The answer a receiver gives to a handshake event. Exactly one of `text` and `json`;
/// placeholders `{body:dotted.path}` and `{header:NAME}` are filled from the request (in
/// `json`, inside its strings), and `{hmac:body:…}` / `{hmac:header:…}` with that value's
/// HMAC under the provider's `hmac` scheme and the receiver's secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Respond {
    /// The status; the provider's success status when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The answer's `Content-Type`; `text/plain` for `text`, `application/json` for
    /// `json` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// A text answer, e.g. `"{body:challenge}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// A JSON answer, e.g. `{challenge: "{body:challenge}"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<serde_json::Value>,
}

impl Respond {
    /// The rule as receivers apply it: a JSON answer written out as compact text.
    pub fn rule(&self) -> hookspec_core::Respond {
        let (body, json) = match (&self.text, &self.json) {
            (_, Some(value)) => (value.to_string(), true),
            (Some(text), None) => (text.clone(), false),
            (None, None) => (String::new(), false),
        };
        let content_type = self.content_type.clone().unwrap_or_else(|| {
            if json {
                "application/json"
            } else {
                "text/plain"
            }
            .to_owned()
        });
        hookspec_core::Respond {
            status: self.status,
            content_type: content_type.into(),
            body: body.into(),
            json,
        }
    }
}

fn yes() -> bool {
    true
}

/// The provider's REST API as the webhook flow touches it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Api {
    /// Absolute http(s) base URL per environment (`sandbox`, `production`, ...).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub base_urls: IndexMap<String, String>,
    /// How calls to the API carry the caller's credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<ApiAuth>,
    /// What the API answers to a bad call (missing or wrong parameter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiResponse>,
    /// How a receiver URL is registered with the provider.
    pub registration: Registration,
    /// Endpoints the webhook flow uses, by a snake_case name that events' `follow_up`,
    /// `registration.calls` and `verification` refer to.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub endpoints: IndexMap<String, Endpoint>,
    /// The endpoint that serves the keys webhook signatures are verified with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<String>,
}

/// Where an API call carries the caller's credentials. Values name credentials the
/// caller fills in (they are never in the spec).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ApiAuth {
    /// Top-level JSON body fields, each holding the credential of the same name (Plaid:
    /// `client_id`, `secret`).
    BodyFields(Vec<String>),
    /// HTTP Basic authentication with two credentials.
    Basic {
        /// The credential used as user name.
        user: String,
        /// The credential used as password.
        password: String,
    },
    /// Headers, each holding the named credential.
    Headers(IndexMap<String, String>),
}

impl ApiAuth {
    /// The credential names, in order.
    pub fn credentials(&self) -> Vec<&str> {
        match self {
            ApiAuth::BodyFields(f) => f.iter().map(String::as_str).collect(),
            ApiAuth::Basic { user, password } => vec![user.as_str(), password.as_str()],
            ApiAuth::Headers(h) => h.values().map(String::as_str).collect(),
        }
    }
}

/// How a receiver URL gets registered, and what the URL must satisfy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// The steps in our own words (dashboard, API, per environment, ...).
    pub description: String,
    /// Where the dashboard page for it is, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dashboard: Option<String>,
    /// What the URL must satisfy (scheme, certificate, plan).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requirements: Vec<String>,
    /// API calls that set the URL, when the provider has them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<RegistrationCall>,
}

/// An API call that registers or changes a receiver URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationCall {
    /// The endpoint, by its name in `api.endpoints`.
    pub endpoint: String,
    /// The endpoint parameter that carries the receiver URL.
    pub param: String,
    /// When to use this call.
    pub description: String,
}

/// HTTP method of an API call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum ApiMethod {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `PATCH`.
    Patch,
    /// `DELETE`.
    Delete,
}

impl ApiMethod {
    /// The method as sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiMethod::Get => "GET",
            ApiMethod::Post => "POST",
            ApiMethod::Put => "PUT",
            ApiMethod::Patch => "PATCH",
            ApiMethod::Delete => "DELETE",
        }
    }
}

/// One endpoint of the provider's API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// HTTP method.
    pub method: ApiMethod,
    /// Path below the base URL, starting with `/`; `{name}` marks a `path` parameter.
    pub path: String,
    /// What the endpoint returns, in our own words.
    pub description: String,
    /// A link to the provider's reference for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs: Option<String>,
    /// Why the endpoint (or part of it) is assumed, when the provider's reference does not
    /// list it as written here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assumed: Option<String>,
    /// Whether the call carries `api.auth` credentials. Defaults to `true`.
    #[serde(default = "yes")]
    pub authenticated: bool,
    /// Parameters by name (credentials from `api.auth` are not listed).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub params: IndexMap<String, Param>,
    /// A documented successful answer.
    pub response: ApiResponse,
}

impl Endpoint {
    /// The `{name}` segments of the path template, in order; `Err` says what is malformed.
    pub fn template_params(&self) -> Result<Vec<&str>, String> {
        let mut out = Vec::new();
        let mut rest = self.path.as_str();
        while let Some(start) = rest.find(['{', '}']) {
            if rest[start..].starts_with('}') {
                return Err("`}` closes nothing".to_owned());
            }
            let Some(len) = rest[start..].find('}') else {
                return Err("unclosed `{`".to_owned());
            };
            let name = &rest[start + 1..start + len];
            let ident = name.starts_with(|c: char| c.is_ascii_lowercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !ident {
                return Err(format!("`{{{name}}}` must name a snake_case parameter"));
            }
            out.push(name);
            rest = &rest[start + len + 1..];
        }
        Ok(out)
    }
}

/// One request parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// Where it goes.
    #[serde(rename = "in")]
    pub location: ParamLocation,
    /// The kind of value.
    #[serde(rename = "type")]
    pub kind: Kind,
    /// Finer kind of a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Format>,
    /// Whether the provider refuses a call without it. Defaults to `true`.
    #[serde(default = "yes")]
    pub required: bool,
    /// What it means, in our own words.
    pub description: String,
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParamLocation {
    /// A `{name}` segment of the path.
    Path,
    /// The query string.
    Query,
    /// A top-level field of the JSON body.
    Body,
}

/// A documented answer: status, shape and an example that must match the shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiResponse {
    /// HTTP status. Defaults to 200.
    #[serde(default = "ok_status")]
    pub status: u16,
    /// The body's shape.
    pub shape: Shape,
    /// An example body, JSON text.
    pub example: String,
}

fn ok_status() -> u16 {
    200
}

/// The call a receiver makes after an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    /// The endpoint, by its name in `api.endpoints`.
    pub endpoint: String,
    /// A value for each parameter the call sends, by parameter name.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub params: IndexMap<String, Binding>,
    /// Why this call, or what to do with its answer, when that is not obvious.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Where a follow-up parameter's value comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Binding {
    /// The value at a JSON path of the delivery body, e.g. `$.item_id`, `$.data.id`.
    Payload(String),
    /// A fixed value.
    Literal(serde_json::Value),
    /// A value only the receiver holds (an access token it stored for the item, the last
    /// cursor it read). Left as a placeholder when the receiver does not supply it.
    Caller(CallerValue),
    /// `<from>,<to>`: the range from the receiver's previous notification of this kind to
    /// this one, both caller values. Left out when there is no previous notification.
    SincePrevious {
        /// The caller value holding the previous notification's date.
        from: String,
        /// The caller value holding this notification's date.
        to: String,
    },
}

/// A value the receiver supplies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallerValue {
    /// Its name, snake_case (`access_token`, `cursor`).
    pub name: String,
    /// The payload path the value belongs to, when it is looked up by one (the access
    /// token of the `$.item_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// How an event is documented.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Documented {
    /// In the provider's public docs with its payload.
    #[default]
    Public,
    /// Listed by the provider, but its payload is not documented; fields are assumed.
    PayloadAssumed,
    /// In the provider's machine-readable spec but hidden from its public docs.
    Hidden,
    /// Known only from third-party material.
    ThirdParty,
}

/// Tells apart events that share discriminator values. Every condition must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Select {
    /// Top-level fields that must be present.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub present: Vec<String>,
    /// Top-level fields that must be absent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub absent: Vec<String>,
    /// Top-level fields whose JSON value must have this type.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub json_type: IndexMap<String, JsonType>,
}

/// The type of a JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JsonType {
    /// `null`.
    Null,
    /// `true`/`false`.
    Boolean,
    /// A number.
    Number,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
}

/// The shape of a value: a field, a shared type, an array item or a map value.
///
/// Give either `type` or `ref`. Keys that belong to other kinds are refused by validation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Shape {
    /// The kind of value.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    /// Name of a shared type in `types`.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// What the value means, in our own words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// As a field: whether it is always present. Defaults to `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// Whether `null` is allowed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nullable: bool,
    /// Finer kind of a `string` or `integer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Format>,
    /// `array`: the item shape; `map`: the value shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Box<Shape>>,
    /// `object`: its fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<IndexMap<String, Shape>>,
    /// `object`: whether unlisted fields may appear. Defaults to `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_fields: Option<bool>,
    /// `enum`: the known values, spelled exactly as the provider's JSON spells them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
    /// `enum`: whether the provider may send values not listed (kept, not rejected).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<bool>,
    /// The provider marks this field as deprecated.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
}

impl Shape {
    /// Whether the field must be present (the default).
    pub fn is_required(&self) -> bool {
        self.required.unwrap_or(true)
    }
}

/// Kinds of values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A JSON string.
    String,
    /// A JSON number without fraction or exponent.
    Integer,
    /// A JSON number kept as its exact decimal text (money, counters sent as numbers).
    Decimal,
    /// `true` or `false`.
    Boolean,
    /// A JSON array of `items`.
    Array,
    /// A JSON object with known `fields`.
    Object,
    /// A JSON object with arbitrary keys and values of shape `items`.
    Map,
    /// A string from a list of `values`.
    Enum,
    /// Any JSON value.
    Any,
}

/// Finer kinds of strings and integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// `string`: an RFC 4122 UUID.
    Uuid,
    /// `string`: a calendar date `YYYY-MM-DD`.
    Date,
    /// `string`: an RFC 3339 date-time.
    DateTime,
    /// `string`: a dotted IPv4 address.
    Ipv4,
    /// `string`: an absolute URI.
    Uri,
    /// `string`: an e-mail address.
    Email,
    /// `integer`: Unix time in milliseconds.
    UnixMs,
    /// `integer`: Unix time in seconds.
    UnixS,
}

impl Format {
    /// The kind a format applies to.
    pub fn applies_to(self) -> Kind {
        match self {
            Format::UnixMs | Format::UnixS => Kind::Integer,
            _ => Kind::String,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_templates_split_into_pieces() {
        use SignedPiece::*;
        assert_eq!(
            signed_pieces("v0:{timestamp}.{header:Webhook-Id}{body}"),
            [
                Literal("v0:"),
                Timestamp,
                Literal("."),
                Header("Webhook-Id"),
                Body
            ]
        );
        assert_eq!(
            signed_pieces("{header:}{nope}x{body"),
            [
                Unknown("header:"),
                Unknown("nope"),
                Literal("x"),
                Unclosed("{body")
            ]
        );
    }

    fn d(s: &str) -> Duration {
        s.parse().unwrap()
    }

    #[test]
    fn plaid_schedule_stops_within_a_day() {
        let r = Retry {
            schedule: Schedule::Exponential {
                initial: d("30s"),
                factor: 4,
                max_retries: None,
                give_up_after: Some(d("24h")),
            },
            circuit_breaker: None,
            retry_after_max: None,
        };
        let mins: Vec<u64> = r.delays().iter().map(|x| x.as_secs()).collect();
        assert_eq!(mins, vec![30, 120, 480, 1920, 7680, 30720]);
    }

    #[test]
    fn linear_and_fixed() {
        let r = Retry {
            schedule: Schedule::Linear {
                step: d("1m"),
                retries: 3,
            },
            circuit_breaker: None,
            retry_after_max: None,
        };
        assert_eq!(
            r.delays(),
            vec![
                std::time::Duration::from_secs(60),
                std::time::Duration::from_secs(120),
                std::time::Duration::from_secs(180)
            ]
        );
        let r = Retry {
            schedule: Schedule::None,
            circuit_breaker: None,
            retry_after_max: None,
        };
        assert!(r.delays().is_empty());
    }
}
