//! A mock of each provider's REST API, built from the spec's `api:` section alone, so a
//! receiver that calls the provider back after a webhook runs its whole flow offline.
//!
//! One server mounts every provider at `/<provider>`: a receiver's base URL for Belvo is
//! `http://ADDR/belvo`. Each `api.endpoints` entry is served at its path template with its
//! documented example answer, once the call passes the checks the spec allows: the
//! credentials of `api.auth` (body fields, HTTP Basic or headers), every required
//! parameter present in its place (path, query or JSON body), and each value plausible for
//! its type and format. A call that fails a check is answered with the provider's error
//! shape (`api.error`, its message naming what was wrong) and recorded as refused. The
//! endpoint named by `api.verification` (a JWT provider's key endpoint or key set) is
//! answered from the provider's [`KeyRing`] when one is given, as its `auth:` key source
//! describes, so one base URL serves both.
//!
//! Every call is recorded in a [`CallLog`] (credentials left out) for the suite to judge.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine as _;
use hookspec_codegen::check::check_format;
use hookspec_codegen::model::{ApiAuth, Endpoint, Kind, Param, ParamLocation, ProviderSpec};
use serde::Serialize;
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;

use crate::keys::KeyRing;

/// How the mock judged a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// It passed every check and got the endpoint's example answer.
    Served,
    /// It failed a check and got the provider's error answer; the text says why.
    Refused(String),
}

/// One call the mock received.
#[derive(Debug, Clone, Serialize)]
pub struct Call {
    /// Provider mount (`belvo`), or the first path segment when no provider matched.
    pub provider: String,
    /// The endpoint's spec name, when the method and path matched one.
    pub endpoint: Option<String>,
    /// HTTP method.
    pub method: String,
    /// Path below the provider's mount, as sent (`/api/accounts/`).
    pub path: String,
    /// Parameters the endpoint declares that the call carried, by name: path and query
    /// values as JSON strings, body values as sent. Credentials are never recorded.
    pub params: BTreeMap<String, Value>,
    /// Where each recorded parameter was found.
    pub locations: BTreeMap<String, ParamLocation>,
    /// The mock's verdict.
    pub verdict: Verdict,
    /// When it arrived (for the suite's waiting, not serialized).
    #[serde(skip)]
    pub at: Instant,
}

/// Every call the mock received, in arrival order. Cloning shares the log.
#[derive(Debug, Clone, Default)]
pub struct CallLog(Arc<Mutex<Vec<Call>>>);

impl CallLog {
    fn lock(&self) -> MutexGuard<'_, Vec<Call>> {
        // Each update is one push: a poisoned lock still holds a consistent list.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, call: Call) {
        self.lock().push(call);
    }

    /// How many calls arrived so far: a cursor for [`CallLog::since`].
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no call arrived yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The calls that arrived after the first `cursor` ones.
    pub fn since(&self, cursor: usize) -> Vec<Call> {
        self.lock().iter().skip(cursor).cloned().collect()
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.since(0)
    }
}

/// The credential values a mock accepts, by the names `api.auth` gives them.
#[derive(Clone, Default)]
pub struct MockCredentials(BTreeMap<String, String>);

impl std::fmt::Debug for MockCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl MockCredentials {
    /// The suite's test values for every credential any of `specs` names:
    /// `hookspec-test-<name>` with `_` as `-` (`client_id` -> `hookspec-test-client-id`).
    pub fn test(specs: &[ProviderSpec]) -> MockCredentials {
        let mut out = BTreeMap::new();
        for spec in specs {
            let Some(auth) = spec.api.as_ref().and_then(|a| a.auth.as_ref()) else {
                continue;
            };
            for name in auth.credentials() {
                out.insert(name.to_owned(), test_credential(name));
            }
        }
        MockCredentials(out)
    }

    /// Accepts `value` for the credential `name` instead.
    pub fn set(mut self, name: &str, value: &str) -> MockCredentials {
        self.0.insert(name.to_owned(), value.to_owned());
        self
    }

    /// The accepted value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// `(name, value)` pairs, for configuring a receiver that must pass.
    pub fn pairs(&self) -> Vec<(String, String)> {
        self.0.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

/// The suite's test value of a credential.
pub fn test_credential(name: &str) -> String {
    format!("hookspec-test-{}", name.replace('_', "-"))
}

struct Mounted {
    spec: ProviderSpec,
}

struct Shared {
    providers: BTreeMap<String, Mounted>,
    credentials: MockCredentials,
    keys: BTreeMap<String, KeyRing>,
    log: CallLog,
    requests: AtomicU64,
}

/// A running mock API.
pub struct MockApiServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Every call it received.
    pub log: CallLog,
    providers: Vec<String>,
    serving: crate::serving::Serving,
}

impl MockApiServer {
    /// Serves the API of every spec in `specs` that has `api.endpoints`, on `listener`,
    /// until [`MockApiServer::shutdown`] or drop. `keys`: by provider, the ring its
    /// verification endpoint answers from.
    pub fn start(
        listener: TcpListener,
        specs: &[ProviderSpec],
        credentials: MockCredentials,
        keys: BTreeMap<String, KeyRing>,
    ) -> std::io::Result<MockApiServer> {
        let addr = listener.local_addr()?;
        let log = CallLog::default();
        let providers: BTreeMap<String, Mounted> = specs
            .iter()
            .filter(|s| s.api.as_ref().is_some_and(|a| !a.endpoints.is_empty()))
            .map(|s| (s.provider.clone(), Mounted { spec: s.clone() }))
            .collect();
        let names = providers.keys().cloned().collect();
        let shared = Arc::new(Shared {
            providers,
            credentials,
            keys,
            log: log.clone(),
            requests: AtomicU64::new(0),
        });
        let app = Router::new().fallback(handle).with_state(shared);
        Ok(MockApiServer {
            addr,
            log,
            providers: names,
            serving: crate::serving::Serving::start(listener, app)?,
        })
    }

    /// `http://ADDR`; each provider is below it at `/<provider>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The base URL a receiver uses for `provider` in place of the provider's own.
    pub fn base_url(&self, provider: &str) -> String {
        format!("{}/{provider}", self.url())
    }

    /// The providers served (those whose spec lists endpoints).
    pub fn providers(&self) -> &[String] {
        &self.providers
    }

    /// Stops serving and waits for the server to end.
    pub async fn shutdown(self) {
        self.serving.shutdown().await;
    }
}

/// Bodies above this are refused: follow-up calls are small.
const BODY_LIMIT: usize = 1 << 20;

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, BODY_LIMIT).await.ok();
    let n = shared.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let request_id = format!("hookspecmock{n:07}");
    let full = parts.uri.path();
    let (provider, path) = match full.trim_start_matches('/').split_once('/') {
        Some((p, rest)) => (p.to_owned(), format!("/{rest}")),
        None => (full.trim_start_matches('/').to_owned(), "/".to_owned()),
    };
    let mut call = Call {
        provider: provider.clone(),
        endpoint: None,
        method: parts.method.to_string(),
        path: path.clone(),
        params: BTreeMap::new(),
        locations: BTreeMap::new(),
        verdict: Verdict::Served,
        at: Instant::now(),
    };
    let Some(mounted) = shared.providers.get(&provider) else {
        let why = format!(
            "no provider is mounted at /{provider} (mounted: {})",
            shared
                .providers
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        );
        call.verdict = Verdict::Refused(why.clone());
        shared.log.push(call);
        return (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({ "error": why })),
        )
            .into_response();
    };
    let spec = &mounted.spec;
    let incoming = Incoming {
        method: &parts.method,
        path: &path,
        query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        body: body.as_ref(),
    };
    let answer = serve(spec, &shared, &incoming, &mut call, &request_id);
    shared.log.push(call);
    answer
}

/// One request as the checks see it.
struct Incoming<'a> {
    method: &'a Method,
    path: &'a str,
    query: &'a str,
    headers: &'a HeaderMap,
    body: Option<&'a Bytes>,
}

/// A refused call: the status and what was wrong (naming the parameter at fault).
struct Refusal {
    status: StatusCode,
    message: String,
    field: Option<String>,
}

fn serve(
    spec: &ProviderSpec,
    shared: &Shared,
    incoming: &Incoming<'_>,
    call: &mut Call,
    request_id: &str,
) -> Response {
    let Some(api) = spec.api.as_ref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let by_path: Vec<(&String, &Endpoint, BTreeMap<String, String>)> = api
        .endpoints
        .iter()
        .filter_map(|(name, ep)| match_path(&ep.path, incoming.path).map(|p| (name, ep, p)))
        .collect();
    let Some((name, endpoint, path_params)) = by_path
        .iter()
        .find(|(_, ep, _)| ep.method.as_str() == incoming.method.as_str())
        .cloned()
    else {
        let refusal = if by_path.is_empty() {
            Refusal {
                status: StatusCode::NOT_FOUND,
                message: format!("no endpoint at {}", incoming.path),
                field: None,
            }
        } else {
            let allowed: Vec<&str> = by_path.iter().map(|(_, e, _)| e.method.as_str()).collect();
            Refusal {
                status: StatusCode::METHOD_NOT_ALLOWED,
                message: format!(
                    "{} is not allowed at {} (allowed: {})",
                    incoming.method,
                    incoming.path,
                    allowed.join(", ")
                ),
                field: None,
            }
        };
        return refuse(spec, call, refusal, request_id);
    };
    call.endpoint = Some(name.clone());
    match check_call(spec, shared, endpoint, incoming, &path_params, call) {
        Err(refusal) => refuse(spec, call, refusal, request_id),
        Ok(body) => {
            if api.verification.as_deref() == Some(name.as_str()) {
                let scheme = crate::keys::jwt_scheme(spec);
                if let (Some(ring), Some(scheme)) = (shared.keys.get(&spec.provider), scheme) {
                    return serve_key(spec, scheme, ring, &body, call, request_id);
                }
            }
            example_answer(endpoint.response.status, &endpoint.response.example)
        }
    }
}

/// Checks credentials and parameters; on success, the JSON body (an empty object when
/// none was sent).
fn check_call(
    spec: &ProviderSpec,
    shared: &Shared,
    endpoint: &Endpoint,
    incoming: &Incoming<'_>,
    path_params: &BTreeMap<String, String>,
    call: &mut Call,
) -> Result<Map<String, Value>, Refusal> {
    let auth = spec.api.as_ref().and_then(|a| a.auth.as_ref());
    let bad = |message: String, field: Option<&str>| Refusal {
        status: StatusCode::BAD_REQUEST,
        message,
        field: field.map(str::to_owned),
    };
    let body_len = incoming.body.map_or(0, |b| b.len());
    let body: Map<String, Value> = if body_len == 0 {
        Map::new()
    } else {
        match incoming
            .body
            .map(|b| serde_json::from_slice::<Value>(b))
            .transpose()
        {
            Ok(Some(Value::Object(map))) => map,
            Ok(_) => return Err(bad("the body must be a JSON object".to_owned(), None)),
            Err(_) => return Err(bad("the body is not valid JSON".to_owned(), None)),
        }
    };
    let query = parse_query(incoming.query);
    for (name, value) in path_params {
        call.params
            .insert(name.clone(), Value::String(value.clone()));
        call.locations.insert(name.clone(), ParamLocation::Path);
    }
    let credentials: Vec<&str> = auth.map(ApiAuth::credentials).unwrap_or_default();
    for (name, value) in &query {
        if endpoint.params.contains_key(name) && !credentials.contains(&name.as_str()) {
            call.params
                .insert(name.clone(), Value::String(value.clone()));
            call.locations.insert(name.clone(), ParamLocation::Query);
        }
    }
    for (name, value) in &body {
        if endpoint.params.contains_key(name) && !credentials.contains(&name.as_str()) {
            call.params.insert(name.clone(), value.clone());
            call.locations.insert(name.clone(), ParamLocation::Body);
        }
    }
    if endpoint.authenticated {
        if let Some(auth) = auth {
            check_auth(auth, &shared.credentials, incoming.headers, &body)?;
        }
    }
    for (name, param) in &endpoint.params {
        let found = match param.location {
            ParamLocation::Path => path_params.get(name).map(|v| Value::String(v.clone())),
            ParamLocation::Query => query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| Value::String(v.clone())),
            ParamLocation::Body => body.get(name).cloned(),
        };
        let Some(value) = found else {
            if !param.required {
                continue;
            }
            let elsewhere = [
                (ParamLocation::Query, query.iter().any(|(k, _)| k == name)),
                (ParamLocation::Body, body.contains_key(name)),
            ]
            .into_iter()
            .find_map(|(at, here)| here.then_some(at));
            let message = match elsewhere {
                Some(at) => format!(
                    "`{name}` belongs in the {}, found in the {}",
                    place(param.location),
                    place(at)
                ),
                None => format!("`{name}` is required (in the {})", place(param.location)),
            };
            return Err(bad(message, Some(name)));
        };
        if let Err(why) = plausible(param, &value) {
            return Err(bad(format!("`{name}` {why}"), Some(name)));
        }
    }
    Ok(body)
}

fn place(at: ParamLocation) -> &'static str {
    match at {
        ParamLocation::Path => "path",
        ParamLocation::Query => "query",
        ParamLocation::Body => "body",
    }
}

/// Whether `value` could be a value of `param`: text from the path or query must parse as
/// the kind; body values must have the kind's JSON type. Formats are checked on strings.
fn plausible(param: &Param, value: &Value) -> Result<(), String> {
    let from_text = param.location != ParamLocation::Body;
    let kind_ok = match (param.kind, value) {
        (Kind::Any, _) => true,
        (_, Value::String(s)) if from_text => match param.kind {
            Kind::Integer => s.parse::<i64>().is_ok(),
            Kind::Decimal => s.parse::<f64>().is_ok_and(f64::is_finite),
            Kind::Boolean => s == "true" || s == "false",
            _ => true,
        },
        (Kind::String | Kind::Enum, Value::String(_)) => true,
        (Kind::Integer, Value::Number(n)) => n.is_i64() || n.is_u64(),
        (Kind::Decimal, Value::Number(_)) => true,
        (Kind::Boolean, Value::Bool(_)) => true,
        (Kind::Array, Value::Array(_)) => true,
        (Kind::Object | Kind::Map, Value::Object(_)) => true,
        _ => false,
    };
    if !kind_ok {
        return Err(format!(
            "must be {}, got {}",
            kind_words(param.kind),
            json_words(value)
        ));
    }
    if let (Some(format), Value::String(s)) = (param.format, value) {
        check_format(s, format)?;
    }
    if let Value::String(s) = value {
        if s.is_empty() && param.required {
            return Err("must not be empty".to_owned());
        }
    }
    Ok(())
}

fn kind_words(kind: Kind) -> &'static str {
    match kind {
        Kind::String | Kind::Enum => "a string",
        Kind::Integer => "an integer",
        Kind::Decimal => "a number",
        Kind::Boolean => "a boolean",
        Kind::Array => "an array",
        Kind::Object | Kind::Map => "an object",
        Kind::Any => "any value",
    }
}

fn json_words(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {:?}", s.chars().take(40).collect::<String>()),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

/// Checks the call's credentials in constant time. Messages name the credential, never a
/// value.
fn check_auth(
    auth: &ApiAuth,
    accepted: &MockCredentials,
    headers: &HeaderMap,
    body: &Map<String, Value>,
) -> Result<(), Refusal> {
    let unauthorized = |message: String, field: Option<&str>| Refusal {
        status: StatusCode::UNAUTHORIZED,
        message,
        field: field.map(str::to_owned),
    };
    let matches = |name: &str, got: &str| {
        accepted
            .get(name)
            .is_some_and(|want| bool::from(want.as_bytes().ct_eq(got.as_bytes())))
    };
    match auth {
        ApiAuth::BodyFields(fields) => {
            for f in fields {
                match body.get(f).and_then(Value::as_str) {
                    None => {
                        return Err(unauthorized(
                            format!("the credential `{f}` is missing from the JSON body"),
                            Some(f),
                        ))
                    }
                    Some(got) if !matches(f, got) => {
                        return Err(unauthorized(
                            format!("the credential `{f}` is wrong"),
                            Some(f),
                        ))
                    }
                    Some(_) => {}
                }
            }
        }
        ApiAuth::Basic { user, password } => {
            let decoded = headers
                .get(axum::http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Basic "))
                .and_then(|b| {
                    base64::engine::general_purpose::STANDARD
                        .decode(b.trim())
                        .ok()
                })
                .and_then(|b| String::from_utf8(b).ok());
            let Some(decoded) = decoded else {
                return Err(unauthorized(
                    format!("HTTP Basic credentials (`{user}`, `{password}`) are missing"),
                    None,
                ));
            };
            let (u, p) = decoded.split_once(':').unwrap_or((decoded.as_str(), ""));
            // Both compared before deciding, so timing says nothing about which was wrong.
            let ok_user = matches(user, u);
            let ok_password = matches(password, p);
            if !(ok_user && ok_password) {
                return Err(unauthorized(
                    format!("HTTP Basic credentials (`{user}`, `{password}`) are wrong"),
                    None,
                ));
            }
        }
        ApiAuth::Headers(map) => {
            for (header, name) in map {
                match headers.get(header.as_str()).and_then(|v| v.to_str().ok()) {
                    None => {
                        return Err(unauthorized(
                            format!("the header `{header}` (credential `{name}`) is missing"),
                            Some(name),
                        ))
                    }
                    Some(got) if !matches(name, got) => {
                        return Err(unauthorized(
                            format!("the header `{header}` (credential `{name}`) is wrong"),
                            Some(name),
                        ))
                    }
                    Some(_) => {}
                }
            }
        }
    }
    Ok(())
}

fn refuse(spec: &ProviderSpec, call: &mut Call, refusal: Refusal, request_id: &str) -> Response {
    call.verdict = Verdict::Refused(refusal.message.clone());
    let body = error_body(spec, &refusal.message, refusal.field.as_deref(), request_id);
    (refusal.status, axum::Json(body)).into_response()
}

/// The provider's documented error body with our message in it: fields whose name says
/// "message" carry it, a `field` field names the parameter, a `request_id` is fresh.
pub fn error_body(
    spec: &ProviderSpec,
    message: &str,
    field: Option<&str>,
    request_id: &str,
) -> Value {
    let example = spec
        .api
        .as_ref()
        .and_then(|a| a.error.as_ref())
        .and_then(|e| serde_json::from_str::<Value>(&e.example).ok());
    fn fill(v: &mut Value, message: &str, field: Option<&str>, request_id: &str) {
        match v {
            Value::Array(items) => {
                items.truncate(1);
                for item in items {
                    fill(item, message, field, request_id);
                }
            }
            Value::Object(map) => {
                // An optional `field` is left out rather than null when no parameter is at fault.
                if field.is_none() {
                    map.remove("field");
                }
                for (k, slot) in map.iter_mut() {
                    if k.contains("message") && !k.starts_with("display") {
                        *slot = Value::String(message.to_owned());
                    } else if let (true, Some(f)) = (k == "field", field) {
                        *slot = Value::String(f.to_owned());
                    } else if k == "request_id" {
                        *slot = Value::String(request_id.to_owned());
                    }
                }
            }
            _ => {}
        }
    }
    match example {
        Some(mut v) => {
            fill(&mut v, message, field, request_id);
            v
        }
        None => serde_json::json!({ "message": message, "request_id": request_id }),
    }
}

fn example_answer(status: u16, example: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        example.to_owned(),
    )
        .into_response()
}

/// The provider's key source from the ring, as its JWT scheme names it: a key set
/// (`{"keys": [...]}`), or the key named by the request's `request_key_field`, answered in
/// `response_key_field` with retirement in `expired_field`.
fn serve_key(
    spec: &ProviderSpec,
    scheme: &hookspec_codegen::model::JwtAuth,
    ring: &KeyRing,
    body: &Map<String, Value>,
    call: &mut Call,
    request_id: &str,
) -> Response {
    let request = Value::Object(body.clone());
    match crate::keys::answer_key_request(scheme, ring, &request, request_id) {
        Ok(answer) => axum::Json(answer).into_response(),
        Err(e) => {
            let (field, kid) = match e {
                crate::keys::KeyRequestError::Missing(field) => (field, String::new()),
                crate::keys::KeyRequestError::Unknown { field, kid } => (field, kid),
            };
            refuse(
                spec,
                call,
                Refusal {
                    status: StatusCode::BAD_REQUEST,
                    message: format!("no key with id `{kid}`"),
                    field: Some(field),
                },
                request_id,
            )
        }
    }
}

/// Path parameters when `path` matches `template` segment by segment (`{name}` matches
/// one non-empty segment; a trailing `/` must match too).
pub fn match_path(template: &str, path: &str) -> Option<BTreeMap<String, String>> {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    if t.len() != p.len() {
        return None;
    }
    let mut out = BTreeMap::new();
    for (t, p) in t.iter().zip(&p) {
        match t.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) if !p.is_empty() => {
                out.insert(name.to_owned(), percent_decode(p));
            }
            Some(_) => return None,
            None if t == p => {}
            None => return None,
        }
    }
    Some(out)
}

/// Query pairs, percent-decoded (`+` as space), in order.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_segment_by_segment() {
        let p = match_path("/api/links/{id}/", "/api/links/a%20b/").unwrap_or_default();
        assert_eq!(p.get("id").map(String::as_str), Some("a b"));
        assert!(match_path("/api/links/{id}/", "/api/links//").is_none());
        assert!(match_path("/api/links/{id}/", "/api/links/x").is_none());
        assert!(match_path("/api/accounts/", "/api/accounts/").is_some());
        assert!(match_path("/api/accounts/", "/api/accounts").is_none());
    }

    #[test]
    fn queries_are_decoded() {
        assert_eq!(
            parse_query("link=a%2Cb&x=1+2&flag"),
            vec![
                ("link".to_owned(), "a,b".to_owned()),
                ("x".to_owned(), "1 2".to_owned()),
                ("flag".to_owned(), String::new()),
            ]
        );
    }
}
