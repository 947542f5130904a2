//! Follow-up calls as data: after an event, the request a receiver makes back to the
//! provider (method, URL for an environment, query, JSON body, headers), built from the
//! spec's endpoint and parameter bindings. No HTTP client is involved; credentials and
//! values only the receiver knows stay as `<name>` placeholders until it fills them.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

/// A provider's API as the generated modules describe it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Api {
    /// `(environment, base URL)` pairs, e.g. `("sandbox", "https://sandbox.plaid.com")`.
    pub base_urls: &'static [(&'static str, &'static str)],
    /// Where calls carry the caller's credentials.
    pub auth: ApiAuth,
    /// The provider's answer to a bad call, as `(status, example body)`.
    pub error: Option<(u16, &'static str)>,
    /// Every endpoint the webhook flow uses.
    pub endpoints: &'static [Endpoint],
}

impl Api {
    /// The base URL of an environment.
    pub fn base_url(&self, environment: &str) -> Option<&'static str> {
        self.base_urls
            .iter()
            .find(|(env, _)| *env == environment)
            .map(|(_, url)| *url)
    }

    /// An endpoint by its spec name.
    pub fn endpoint(&self, name: &str) -> Option<&'static Endpoint> {
        self.endpoints.iter().find(|e| e.name == name)
    }
}

/// Where an API call carries credentials; the strings name the credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiAuth {
    /// The API takes no credentials.
    None,
    /// Top-level JSON body fields, each holding the credential of the same name.
    BodyFields(&'static [&'static str]),
    /// HTTP Basic authentication.
    Basic {
        /// The credential used as user name.
        user: &'static str,
        /// The credential used as password.
        password: &'static str,
    },
    /// `(header, credential)` pairs.
    Headers(&'static [(&'static str, &'static str)]),
}

/// One endpoint: enough to build a request, or to serve a mock of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// The spec's name for it.
    pub name: &'static str,
    /// HTTP method.
    pub method: &'static str,
    /// Path template below the base URL; `{name}` marks a path parameter.
    pub path: &'static str,
    /// Its parameters (credentials excluded).
    pub params: &'static [ParamSpec],
    /// Whether calls carry the API's credentials.
    pub authenticated: bool,
    /// Status of the documented successful answer.
    pub response_status: u16,
    /// The documented successful answer, JSON text.
    pub example_response: &'static str,
}

/// One parameter of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamSpec {
    /// Its name.
    pub name: &'static str,
    /// Where it goes.
    pub location: ParamIn,
    /// Its JSON kind, for values the caller supplies as text.
    pub kind: ParamKind,
    /// Whether the provider refuses a call without it.
    pub required: bool,
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamIn {
    /// A `{name}` segment of the path.
    Path,
    /// The query string.
    Query,
    /// A top-level field of the JSON body.
    Body,
}

/// The JSON kind of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// Text.
    String,
    /// A number (integer or decimal).
    Number,
    /// `true`/`false`.
    Boolean,
    /// Arrays, objects or anything.
    Json,
}

/// An event's follow-up: the endpoint and where each parameter's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowUpSpec {
    /// The endpoint called.
    pub endpoint: &'static Endpoint,
    /// `(parameter, source)` pairs.
    pub bindings: &'static [(&'static str, Binding)],
}

/// Where a follow-up parameter's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// The value at a dotted path of the delivery body (`item_id`, `data.id`).
    Payload(&'static str),
    /// A fixed value, JSON text.
    Literal(&'static str),
    /// A value the receiver holds, looked up in [`FollowUpContext::values`]; `key` is the
    /// body path whose value it belongs to (the access token of this `item_id`).
    Caller {
        /// The value's name.
        name: &'static str,
        /// The body path it is looked up by.
        key: Option<&'static str>,
    },
    /// `<from>,<to>` from two caller values; left out when `from` is not supplied.
    SincePrevious {
        /// The caller value of the previous notification's date.
        from: &'static str,
        /// The caller value of this notification's date.
        to: &'static str,
    },
}

/// What the receiver knows when it builds a follow-up: the environment (or a base URL of
/// its own, such as a local mock of the provider) and values only it holds. Credentials
/// do not belong here; fill them with [`FollowUp::fill`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FollowUpContext {
    /// The environment whose base URL is used (`sandbox`, `production`).
    pub environment: String,
    /// A base URL used instead of the environment's.
    pub base_url: Option<String>,
    /// Caller values by name (`cursor`, `start_date`, `previous_notification_date`, ...).
    pub values: BTreeMap<String, String>,
}

impl FollowUpContext {
    /// A context for one of the provider's environments.
    pub fn new(environment: impl Into<String>) -> Self {
        FollowUpContext {
            environment: environment.into(),
            ..Self::default()
        }
    }

    /// Sends the call to `base_url` instead (no trailing `/`).
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// Supplies a caller value.
    pub fn with_value(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.values.insert(name.into(), value.into());
        self
    }
}

/// Where a placeholder sits in a [`FollowUp`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A path segment of the URL (the parameter's name).
    Path(&'static str),
    /// A query pair.
    Query(&'static str),
    /// A top-level body field.
    Body(&'static str),
    /// A header.
    Header(&'static str),
    /// The Basic user name.
    BasicUser,
    /// The Basic password.
    BasicPassword,
}

/// A value the request still needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    /// Its name (`client_id`, `access_token`, `cursor`).
    pub name: &'static str,
    /// The payload value it belongs to, when it is looked up by one (the `item_id`).
    pub key: Option<String>,
    /// Whether it is a credential (kept out of `Debug` output once filled).
    pub credential: bool,
    /// Where it goes.
    pub at: Location,
}

/// A request to make after an event. Values not yet known read `<name>` and are listed in
/// `placeholders`; [`FollowUp::fill`] puts them in.
#[derive(Clone, PartialEq)]
pub struct FollowUp {
    /// The spec's name of the endpoint.
    pub endpoint: &'static str,
    /// HTTP method.
    pub method: &'static str,
    /// Base URL and path, path parameters filled and percent-encoded; no query.
    pub url: String,
    /// Query pairs, not encoded (see [`FollowUp::url_with_query`]).
    pub query: Vec<(String, String)>,
    /// The JSON body, for endpoints that take one.
    pub json_body: Option<Value>,
    /// Headers to send (`Content-Type` included when there is a body).
    pub headers: Vec<(String, String)>,
    /// `(user, password)` for HTTP Basic authentication.
    pub basic_auth: Option<(String, String)>,
    /// Values still to fill.
    pub placeholders: Vec<Placeholder>,
    /// Locations holding filled credentials, redacted in `Debug`.
    secrets: Vec<Location>,
}

/// The placeholder text of a value named `name`.
pub fn placeholder(name: &str) -> String {
    format!("<{name}>")
}

impl FollowUp {
    /// Builds the request for an event whose body serializes to `body`.
    pub fn build(api: &Api, spec: &FollowUpSpec, body: &Value, ctx: &FollowUpContext) -> Self {
        let ep = spec.endpoint;
        let base = match &ctx.base_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => api
                .base_url(&ctx.environment)
                .map(str::to_owned)
                .unwrap_or_else(|| placeholder("base_url")),
        };
        let mut req = FollowUp {
            endpoint: ep.name,
            method: ep.method,
            url: format!("{base}{}", ep.path),
            query: Vec::new(),
            json_body: ep
                .params
                .iter()
                .any(|p| p.location == ParamIn::Body)
                .then(|| Value::Object(serde_json::Map::new())),
            headers: Vec::new(),
            basic_auth: None,
            placeholders: Vec::new(),
            secrets: Vec::new(),
        };
        if ep.authenticated {
            req.add_credentials(api.auth);
        }
        if req.json_body.is_some() {
            req.headers
                .push(("Content-Type".to_owned(), "application/json".to_owned()));
        }
        for (name, binding) in spec.bindings {
            let Some(param) = ep.params.iter().find(|p| p.name == *name) else {
                continue;
            };
            req.bind(param, binding, body, ctx);
        }
        if base.starts_with('<') {
            req.placeholders.push(Placeholder {
                name: "base_url",
                key: None,
                credential: false,
                at: Location::Path("base_url"),
            });
        }
        req
    }

    fn add_credentials(&mut self, auth: ApiAuth) {
        let mut add = |name: &'static str, at: Location| {
            self.placeholders.push(Placeholder {
                name,
                key: None,
                credential: true,
                at,
            });
        };
        match auth {
            ApiAuth::None => {}
            ApiAuth::BodyFields(fields) => {
                for f in fields {
                    add(f, Location::Body(f));
                }
                let body = self
                    .json_body
                    .get_or_insert_with(|| Value::Object(serde_json::Map::new()));
                if let Value::Object(map) = body {
                    for f in fields {
                        map.insert((*f).to_owned(), Value::String(placeholder(f)));
                    }
                }
            }
            ApiAuth::Basic { user, password } => {
                add(user, Location::BasicUser);
                add(password, Location::BasicPassword);
                self.basic_auth = Some((placeholder(user), placeholder(password)));
            }
            ApiAuth::Headers(headers) => {
                for (h, cred) in headers {
                    add(cred, Location::Header(h));
                    self.headers.push(((*h).to_owned(), placeholder(cred)));
                }
            }
        }
    }

    fn bind(&mut self, param: &ParamSpec, binding: &Binding, body: &Value, ctx: &FollowUpContext) {
        let value = match binding {
            Binding::Payload(path) => match value_at(body, path) {
                Some(v) => v.clone(),
                None => return self.leave(param, path, None),
            },
            Binding::Literal(text) => match serde_json::from_str(text) {
                Ok(v) => v,
                Err(_) => Value::String((*text).to_owned()),
            },
            Binding::Caller { name, key } => {
                let key = key.and_then(|k| value_at(body, k)).map(text_of);
                match ctx.values.get(*name) {
                    Some(v) => typed(param.kind, v),
                    // An optional value the caller lacks is simply not sent (a first
                    // `/transactions/sync` has no cursor).
                    None if !param.required => return,
                    None => return self.leave(param, name, key),
                }
            }
            Binding::SincePrevious { from, to } => match ctx.values.get(*from) {
                None => return,
                Some(previous) => {
                    let to = ctx.values.get(*to).cloned().unwrap_or_else(|| {
                        self.placeholders.push(Placeholder {
                            name: to,
                            key: None,
                            credential: false,
                            at: at(param),
                        });
                        placeholder(to)
                    });
                    Value::String(format!("{previous},{to}"))
                }
            },
        };
        self.set(param, value);
    }

    /// Records a value the request cannot know yet and writes its placeholder.
    fn leave(&mut self, param: &ParamSpec, name: &'static str, key: Option<String>) {
        self.placeholders.push(Placeholder {
            name,
            key,
            credential: false,
            at: at(param),
        });
        self.set(param, Value::String(placeholder(name)));
    }

    fn set(&mut self, param: &ParamSpec, value: Value) {
        match param.location {
            ParamIn::Path => {
                let segment = format!("{{{}}}", param.name);
                let encoded = if value.as_str().is_some_and(|s| s.starts_with('<')) {
                    text_of(&value)
                } else {
                    encode(&text_of(&value))
                };
                self.url = self.url.replacen(&segment, &encoded, 1);
            }
            ParamIn::Query => self.query.push((param.name.to_owned(), text_of(&value))),
            ParamIn::Body => {
                if let Some(Value::Object(map)) = &mut self.json_body {
                    map.insert(param.name.to_owned(), value);
                }
            }
        }
    }

    /// Puts `value` wherever the placeholder `name` is; returns how many places took it.
    pub fn fill(&mut self, name: &str, value: &str) -> usize {
        let (hits, rest): (Vec<Placeholder>, Vec<Placeholder>) =
            std::mem::take(&mut self.placeholders)
                .into_iter()
                .partition(|p| p.name == name);
        self.placeholders = rest;
        let marker = placeholder(name);
        for p in &hits {
            match &p.at {
                Location::Path(_) => {
                    let encoded = if p.name == "base_url" {
                        value.trim_end_matches('/').to_owned()
                    } else {
                        encode(value)
                    };
                    self.url = self.url.replacen(&marker, &encoded, 1);
                }
                Location::Query(q) => {
                    for (k, v) in &mut self.query {
                        if k == q && v.contains(&marker) {
                            *v = v.replace(&marker, value);
                        }
                    }
                }
                Location::Body(field) => {
                    if let Some(Value::Object(map)) = &mut self.json_body {
                        if let Some(slot) = map.get_mut(*field) {
                            *slot = Value::String(value.to_owned());
                        }
                    }
                }
                Location::Header(h) => {
                    for (k, v) in &mut self.headers {
                        if k == h {
                            *v = value.to_owned();
                        }
                    }
                }
                Location::BasicUser => {
                    if let Some((user, _)) = &mut self.basic_auth {
                        *user = value.to_owned();
                    }
                }
                Location::BasicPassword => {
                    if let Some((_, password)) = &mut self.basic_auth {
                        *password = value.to_owned();
                    }
                }
            }
            if p.credential {
                self.secrets.push(p.at.clone());
            }
        }
        hits.len()
    }

    /// Whether every placeholder has been filled.
    pub fn is_complete(&self) -> bool {
        self.placeholders.is_empty()
    }

    /// The query value of `name`, if the request has one.
    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `url` with the query pairs percent-encoded and appended.
    pub fn url_with_query(&self) -> String {
        if self.query.is_empty() {
            return self.url.clone();
        }
        let pairs: Vec<String> = self
            .query
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        format!("{}?{}", self.url, pairs.join("&"))
    }
}

impl fmt::Debug for FollowUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Filled credentials never reach logs.
        let mut shown = self.clone();
        for at in &self.secrets {
            match at {
                Location::Body(field) => {
                    if let Some(Value::Object(map)) = &mut shown.json_body {
                        map.insert((*field).to_owned(), Value::String("[redacted]".to_owned()));
                    }
                }
                Location::Header(h) => {
                    for (k, v) in &mut shown.headers {
                        if k == h {
                            *v = "[redacted]".to_owned();
                        }
                    }
                }
                Location::BasicUser | Location::BasicPassword => {
                    shown.basic_auth = Some(("[redacted]".to_owned(), "[redacted]".to_owned()));
                }
                Location::Path(_) | Location::Query(_) => {}
            }
        }
        f.debug_struct("FollowUp")
            .field("endpoint", &shown.endpoint)
            .field("method", &shown.method)
            .field("url", &shown.url)
            .field("query", &shown.query)
            .field("json_body", &shown.json_body)
            .field("headers", &shown.headers)
            .field("basic_auth", &shown.basic_auth)
            .field("placeholders", &shown.placeholders)
            .finish()
    }
}

fn at(param: &ParamSpec) -> Location {
    match param.location {
        ParamIn::Path => Location::Path(param.name),
        ParamIn::Query => Location::Query(param.name),
        ParamIn::Body => Location::Body(param.name),
    }
}

/// The value at a dotted path (`item_id`, `data.id`).
pub(crate) fn value_at<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    let v = path.split('.').try_fold(value, |v, k| v.get(k))?;
    (!v.is_null()).then_some(v)
}

/// A JSON value as query or path text: strings unquoted, numbers as written.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A caller's text as the parameter's JSON kind (a number stays a number in the body).
fn typed(kind: ParamKind, text: &str) -> Value {
    let parsed = match kind {
        ParamKind::Number => serde_json::from_str::<serde_json::Number>(text)
            .ok()
            .map(Value::Number),
        ParamKind::Boolean => text.parse::<bool>().ok().map(Value::Bool),
        ParamKind::Json => serde_json::from_str(text).ok(),
        ParamKind::String => None,
    };
    parsed.unwrap_or_else(|| Value::String(text.to_owned()))
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARAMS: &[ParamSpec] = &[
        ParamSpec {
            name: "id",
            location: ParamIn::Path,
            kind: ParamKind::String,
            required: true,
        },
        ParamSpec {
            name: "range",
            location: ParamIn::Query,
            kind: ParamKind::String,
            required: false,
        },
    ];
    const EP: Endpoint = Endpoint {
        name: "thing_get",
        method: "GET",
        path: "/things/{id}/",
        params: PARAMS,
        authenticated: true,
        response_status: 200,
        example_response: "{}",
    };
    const API: Api = Api {
        base_urls: &[("sandbox", "https://sandbox.example.com")],
        auth: ApiAuth::Basic {
            user: "key_id",
            password: "key_secret",
        },
        error: None,
        endpoints: &[EP],
    };
    const SPEC: FollowUpSpec = FollowUpSpec {
        endpoint: &EP,
        bindings: &[
            ("id", Binding::Payload("data.id")),
            (
                "range",
                Binding::SincePrevious {
                    from: "prev",
                    to: "now",
                },
            ),
        ],
    };

    #[test]
    fn path_values_are_encoded_and_basic_auth_filled() {
        let body = serde_json::json!({"data": {"id": "a b/c"}});
        let mut f = FollowUp::build(&API, &SPEC, &body, &FollowUpContext::new("sandbox"));
        assert_eq!(f.url, "https://sandbox.example.com/things/a%20b%2Fc/");
        assert!(f.query.is_empty(), "no previous notification, no range");
        assert_eq!(f.placeholders.len(), 2);
        assert_eq!(f.fill("key_secret", "hunter2"), 1);
        assert_eq!(f.fill("key_id", "id-1"), 1);
        assert!(f.is_complete());
        assert_eq!(
            f.basic_auth,
            Some(("id-1".to_owned(), "hunter2".to_owned()))
        );
        let debug = format!("{f:?}");
        assert!(
            !debug.contains("hunter2") && !debug.contains("id-1"),
            "{debug}"
        );
    }

    #[test]
    fn missing_payload_values_and_unknown_environments_become_placeholders() {
        let ctx = FollowUpContext::new("nowhere")
            .with_value("prev", "2024-05-01")
            .with_value("now", "2024-06-01");
        let mut f = FollowUp::build(&API, &SPEC, &serde_json::json!({}), &ctx);
        assert_eq!(f.url, "<base_url>/things/<data.id>/");
        assert_eq!(f.query_value("range"), Some("2024-05-01,2024-06-01"));
        assert_eq!(
            f.url_with_query(),
            "<base_url>/things/<data.id>/?range=2024-05-01%2C2024-06-01"
        );
        f.fill("base_url", "http://127.0.0.1:9/");
        f.fill("data.id", "x");
        assert_eq!(f.url, "http://127.0.0.1:9/things/x/");
    }

    #[test]
    fn caller_numbers_stay_numbers() {
        assert_eq!(typed(ParamKind::Number, "42"), serde_json::json!(42));
        assert_eq!(typed(ParamKind::Number, "x"), serde_json::json!("x"));
        assert_eq!(typed(ParamKind::String, "42"), serde_json::json!("42"));
    }
}
