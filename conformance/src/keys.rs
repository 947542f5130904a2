//! The provider's side of JWT verification: for each JWT provider in a run, the key source
//! its spec describes, served on loopback so a receiver that fetches keys from the
//! provider can be pointed at the suite.
//!
//! One [`KeyServer`] serves every provider's key source, each below `/<provider>` (as the
//! mock API mounts providers), at the path the spec names:
//!
//! - a key endpoint (`key_source: endpoint:`) at its method and path, reading the key id
//!   from the spec's `request_key_field` and answering the JWK in `response_key_field`,
//!   retired keys marked in `expired_field`; the receiver's base URL is
//!   `http://ADDR/<provider>`;
//! - a JSON Web Key Set (`key_source: jwks:`) answered to `GET` at the path of the spec's
//!   first URL; the receiver's key-set URL is `http://ADDR/<provider><path>`.
//!
//! Each provider has its own [`KeyRing`]: every key the suite has signed with. Rotation
//! makes a new current key and retires the previous ones (a key endpoint marks them
//! expired; a key set stops listing them). Key ids derive from the key
//! (`hookspec-<provider>-<RFC 7638 thumbprint>`), so a new key never reuses an id and a
//! receiver that caches keys by id is never served a stale one. Each ring counts the key
//! requests answered from it, so a run can tell whether the receiver ever fetched a key.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use hookspec_codegen::model::{JwtAuth, KeySource, ProviderSpec};
use p256::ecdsa::SigningKey;
use serde_json::{json, Map, Value};
use tokio::net::TcpListener;

/// The suite's own path below a provider's mount that rotates its signing key (answers
/// the new `kid`); see [`rotate_path`].
pub const ROTATE_PATH: &str = "/hookspec/rotate";

/// `POST` here rotates `provider`'s key.
pub fn rotate_path(provider: &str) -> String {
    format!("/{provider}{ROTATE_PATH}")
}

/// The ring field the suite keeps a key's retirement time in; served under the spec's
/// `expired_field` (or left out when the spec names none).
const EXPIRED_AT: &str = "expired_at";

/// The key id the suite serves `key` under for `provider`:
/// `hookspec-<provider>-<RFC 7638 thumbprint>`.
pub fn kid_for(provider: &str, key: &SigningKey) -> String {
    format!(
        "{}{}",
        kid_prefix(provider),
        hookspec_signer::jwk_thumbprint(key)
    )
}

fn kid_prefix(provider: &str) -> String {
    format!("hookspec-{provider}-")
}

/// The key id `sign` names when given a key (`hookspec-<provider>-key-1`): it serves no
/// key itself, so the id must be predictable for whoever serves the key.
pub fn fixed_kid(provider: &str) -> String {
    format!("hookspec-{provider}-key-1")
}

/// The JWT scheme of `spec`, when it signs with one.
pub fn jwt_scheme(spec: &ProviderSpec) -> Option<&JwtAuth> {
    hookspec_codegen::core::jwt_scheme(&spec.auth)
}

/// The path component of an absolute URL (`/` when it has none or does not parse; the
/// loader has checked the spec's URLs).
fn url_path(url: &str) -> String {
    url::Url::parse(url).map_or_else(|_| "/".to_owned(), |u| u.path().to_owned())
}

/// The method and path (below the provider's mount) the key source of `scheme` is
/// served at: the key endpoint's, or `GET` and the path of the key set's first URL.
pub fn served_at(scheme: &JwtAuth) -> (String, String) {
    match &scheme.key_source {
        KeySource::Endpoint(e) => (e.method.to_uppercase(), e.path.to_string()),
        KeySource::Jwks(set) => {
            let first = set.urls.iter().next().map_or("/", |(_, url)| url);
            ("GET".to_owned(), url_path(first))
        }
    }
}

/// What a receiver is configured with for `spec`'s key source when the suite's key server
/// (or a mock mounting providers at `/<provider>`) is at `server_url`: the key endpoint's
/// base URL (`server_url/<provider>`) or the key set's URL. `None` without a JWT scheme.
pub fn base_url(spec: &ProviderSpec, server_url: &str) -> Option<String> {
    let scheme = jwt_scheme(spec)?;
    let mount = format!("{}/{}", server_url.trim_end_matches('/'), spec.provider);
    Some(match &scheme.key_source {
        KeySource::Endpoint(_) => mount,
        KeySource::Jwks(_) => format!("{mount}{}", served_at(scheme).1),
    })
}

/// One key the source serves: its JWK as the ring keeps it, and the signing half when the
/// suite signs with it.
#[derive(Clone)]
struct Entry {
    kid: String,
    jwk: Value,
    key: Option<SigningKey>,
}

/// The keys one provider's source serves; the last one with a signing half is current.
#[derive(Clone)]
pub struct KeyRing {
    entries: Arc<RwLock<Vec<Entry>>>,
    /// Rotated keys are named this followed by their thumbprint.
    prefix: Arc<str>,
    /// Key requests answered from this ring.
    fetches: Arc<AtomicU64>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("kids", &self.kids())
            .finish_non_exhaustive()
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `key`'s JWK, created now and live.
fn live_jwk(key: &SigningKey, kid: &str) -> Value {
    let mut jwk = hookspec_signer::public_jwk(key, kid);
    jwk["created_at"] = json!(unix_now());
    jwk[EXPIRED_AT] = Value::Null;
    jwk
}

fn is_live(jwk: &Value) -> bool {
    jwk.get(EXPIRED_AT).is_none_or(Value::is_null)
}

impl KeyRing {
    /// A ring whose current key is `key`, named `kid`; rotated keys are named by their
    /// RFC 7638 thumbprint.
    pub fn new(key: SigningKey, kid: &str) -> KeyRing {
        KeyRing::with_prefix(key, kid, "")
    }

    fn with_prefix(key: SigningKey, kid: &str, prefix: &str) -> KeyRing {
        KeyRing {
            entries: Arc::new(RwLock::new(vec![Entry {
                kid: kid.to_owned(),
                jwk: live_jwk(&key, kid),
                key: Some(key),
            }])),
            prefix: prefix.into(),
            fetches: Arc::new(AtomicU64::new(0)),
        }
    }

    /// A ring for `provider` whose current key is `key`, under [`kid_for`]; rotated keys
    /// are named the same way.
    pub fn fresh(provider: &str, key: SigningKey) -> KeyRing {
        let kid = kid_for(provider, &key);
        KeyRing::with_prefix(key, &kid, &kid_prefix(provider))
    }

    /// How many key requests were answered from this ring.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// Serves these JWKs too (e.g. a signer's retired key), unless their `kid` is known.
    pub fn publish(&self, jwks: &[Value]) {
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        for jwk in jwks {
            let Some(kid) = jwk.get("kid").and_then(Value::as_str) else {
                continue;
            };
            if !entries.iter().any(|e| e.kid == kid) {
                // Served only: the current key stays the last one that signs.
                entries.insert(
                    0,
                    Entry {
                        kid: kid.to_owned(),
                        jwk: jwk.clone(),
                        key: None,
                    },
                );
            }
        }
    }

    /// The current signing key and its `kid`.
    pub fn current(&self) -> Option<(SigningKey, String)> {
        let entries = self.entries.read().ok()?;
        entries
            .iter()
            .rev()
            .find_map(|e| Some((e.key.clone()?, e.kid.clone())))
    }

    /// Every key id served.
    pub fn kids(&self) -> Vec<String> {
        self.entries
            .read()
            .map(|e| e.iter().map(|e| e.kid.clone()).collect())
            .unwrap_or_default()
    }

    /// Makes `key` current and retires every live key; returns the new `kid`.
    pub fn rotate_to(&self, key: SigningKey) -> String {
        let now = unix_now();
        let kid = format!("{}{}", self.prefix, hookspec_signer::jwk_thumbprint(&key));
        if let Ok(mut entries) = self.entries.write() {
            for e in entries.iter_mut() {
                if is_live(&e.jwk) {
                    e.jwk[EXPIRED_AT] = json!(now);
                }
            }
            entries.push(Entry {
                kid: kid.clone(),
                jwk: live_jwk(&key, &kid),
                key: Some(key),
            });
        }
        kid
    }

    /// The public JWK of `kid` as the ring keeps it, `created_at` and `expired_at`
    /// included (see [`endpoint_jwk`] for a spec's naming).
    pub fn jwk(&self, kid: &str) -> Option<Value> {
        let entries = self.entries.read().ok()?;
        entries.iter().find(|e| e.kid == kid).map(|e| e.jwk.clone())
    }

    /// The JSON Web Key Set of the live keys: `{"keys": [...]}`, each with `kid`, `kty`,
    /// `crv`, `x`, `y`, `alg` and `use`. Retired keys are left out, as a provider drops
    /// them from its published set.
    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> = self
            .entries
            .read()
            .map(|entries| {
                entries
                    .iter()
                    .filter(|e| is_live(&e.jwk))
                    .map(|e| {
                        let mut out = Map::new();
                        for field in ["kid", "kty", "crv", "x", "y", "alg", "use"] {
                            if let Some(v) = e.jwk.get(field) {
                                out.insert(field.to_owned(), v.clone());
                            }
                        }
                        Value::Object(out)
                    })
                    .collect()
            })
            .unwrap_or_default();
        json!({ "keys": keys })
    }
}

/// `jwk` as a key endpoint serves it: the retirement time under the spec's
/// `expired_field`, or left out when the spec names none.
pub fn endpoint_jwk(mut jwk: Value, expired_field: Option<&str>) -> Value {
    if let Some(map) = jwk.as_object_mut() {
        let expired = map.remove(EXPIRED_AT).unwrap_or(Value::Null);
        if let Some(field) = expired_field {
            map.insert(field.to_owned(), expired);
        }
    }
    jwk
}

/// One ring per JWT provider of `specs`, each signing with `key_for(provider)` or a fresh
/// random key, under its [`kid_for`].
pub fn rings(
    specs: &[ProviderSpec],
    mut key_for: impl FnMut(&str) -> Option<SigningKey>,
) -> BTreeMap<String, KeyRing> {
    specs
        .iter()
        .filter(|s| jwt_scheme(s).is_some())
        .map(|s| {
            let key = key_for(&s.provider).unwrap_or_else(random_key);
            (s.provider.clone(), KeyRing::fresh(&s.provider, key))
        })
        .collect()
}

/// A fresh random P-256 key.
pub fn random_key() -> SigningKey {
    SigningKey::random(&mut rand_core::OsRng)
}

/// Reads a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) or SEC1 PEM (`EC PRIVATE KEY`) key.
pub fn key_from_pem(pem: &str) -> Result<SigningKey, String> {
    use p256::pkcs8::DecodePrivateKey;
    if let Ok(k) = SigningKey::from_pkcs8_pem(pem) {
        return Ok(k);
    }
    p256::SecretKey::from_sec1_pem(pem)
        .map(SigningKey::from)
        // The parser's message could quote key material; say only what was expected.
        .map_err(|_| "not a P-256 private key in PKCS#8 or SEC1 PEM form".to_owned())
}

/// One provider's key source as the server serves it.
#[derive(Clone)]
pub struct ProviderKeys {
    spec: Arc<ProviderSpec>,
    scheme: JwtAuth,
    ring: KeyRing,
}

impl ProviderKeys {
    /// `spec`'s key source serving `ring`; `None` when `spec` has no JWT scheme.
    pub fn new(spec: &ProviderSpec, ring: KeyRing) -> Option<ProviderKeys> {
        Some(ProviderKeys {
            scheme: jwt_scheme(spec)?.clone(),
            spec: Arc::new(spec.clone()),
            ring,
        })
    }

    /// The provider.
    pub fn provider(&self) -> &str {
        &self.spec.provider
    }

    /// The ring served.
    pub fn ring(&self) -> &KeyRing {
        &self.ring
    }
}

/// The key sources of every spec of `specs` that has a ring in `rings`.
pub fn sources(specs: &[ProviderSpec], rings: &BTreeMap<String, KeyRing>) -> Vec<ProviderKeys> {
    specs
        .iter()
        .filter_map(|s| ProviderKeys::new(s, rings.get(&s.provider)?.clone()))
        .collect()
}

struct ServerState {
    providers: BTreeMap<String, ProviderKeys>,
    requests: AtomicU64,
}

/// A running server of JWT providers' key sources, each below `/<provider>`.
pub struct KeyServer {
    /// Where it listens.
    pub addr: std::net::SocketAddr,
    providers: Vec<ProviderKeys>,
    serving: crate::serving::Serving,
}

impl KeyServer {
    /// Serves `sources` on `listener` until [`KeyServer::shutdown`] or drop.
    pub fn start(listener: TcpListener, sources: Vec<ProviderKeys>) -> std::io::Result<KeyServer> {
        let addr = listener.local_addr()?;
        let state = Arc::new(ServerState {
            providers: sources
                .iter()
                .map(|p| (p.provider().to_owned(), p.clone()))
                .collect(),
            requests: AtomicU64::new(0),
        });
        let app = Router::new().fallback(dispatch).with_state(state);
        Ok(KeyServer {
            addr,
            providers: sources,
            serving: crate::serving::Serving::start(listener, app)?,
        })
    }

    /// Serves `spec`'s key source from `ring` (`None`-free shorthand for one provider).
    pub fn for_spec(
        listener: TcpListener,
        spec: &ProviderSpec,
        ring: KeyRing,
    ) -> std::io::Result<KeyServer> {
        let sources = ProviderKeys::new(spec, ring).into_iter().collect();
        KeyServer::start(listener, sources)
    }

    /// `http://ADDR`; each provider's key source is below it at `/<provider>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What to configure the receiver with for `provider` in place of the provider's own
    /// (see [`base_url`]).
    pub fn base_url(&self, provider: &str) -> Option<String> {
        let p = self.providers.iter().find(|p| p.provider() == provider)?;
        base_url(&p.spec, &self.url())
    }

    /// [`KeyServer::base_url`] of every provider served.
    pub fn base_urls(&self) -> BTreeMap<String, String> {
        self.providers
            .iter()
            .filter_map(|p| Some((p.provider().to_owned(), self.base_url(p.provider())?)))
            .collect()
    }

    /// One line per provider: the method and URL its key source is served at, and what
    /// to configure the receiver with.
    pub fn announcement(&self) -> Vec<String> {
        self.providers
            .iter()
            .map(|p| {
                let (method, path) = served_at(&p.scheme);
                let url = format!("{}/{}{path}", self.url(), p.provider());
                let base = self.base_url(p.provider()).unwrap_or_default();
                match &p.scheme.key_source {
                    KeySource::Endpoint(_) => format!(
                        "{} key endpoint: {method} {url}; point the receiver's {} API base URL at {base}",
                        p.provider(),
                        p.provider()
                    ),
                    KeySource::Jwks(_) => format!(
                        "{} key set (JWKS): {method} {url}; point the receiver's {} JWKS URL here",
                        p.provider(),
                        p.provider()
                    ),
                }
            })
            .collect()
    }

    /// Stops serving and waits for the server to end.
    pub async fn shutdown(self) {
        self.serving.shutdown().await;
    }
}

/// Why a key request got no key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRequestError {
    /// The request names no key id in the scheme's `request_key_field` (named here).
    Missing(String),
    /// The ring has no key with the requested id; the field it was read from.
    Unknown {
        /// The request field holding the key id.
        field: String,
        /// The id asked for.
        kid: String,
    },
}

/// What `scheme`'s key source answers to `request` from `ring`: the key set (JWKS), or
/// the key named by the request's `request_key_field`, under `response_key_field` with its
/// retirement in `expired_field`, and `request_id`. The one answer the key server and the
/// mock API both give.
pub fn answer_key_request(
    scheme: &JwtAuth,
    ring: &KeyRing,
    request: &Value,
    request_id: &str,
) -> Result<Value, KeyRequestError> {
    ring.fetches.fetch_add(1, Ordering::Relaxed);
    let endpoint = match &scheme.key_source {
        KeySource::Jwks(_) => return Ok(ring.jwks()),
        KeySource::Endpoint(e) => e,
    };
    let field = &*endpoint.request_key_field;
    let kid = request
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| KeyRequestError::Missing(field.to_owned()))?;
    let key = ring.jwk(kid).ok_or_else(|| KeyRequestError::Unknown {
        field: field.to_owned(),
        kid: kid.to_owned(),
    })?;
    let mut answer = Map::new();
    answer.insert(
        endpoint.response_key_field.to_string(),
        endpoint_jwk(key, endpoint.expired_field.as_deref()),
    );
    answer.insert("request_id".to_owned(), json!(request_id));
    Ok(Value::Object(answer))
}

/// The provider's documented error body (`api.error`) when it has one, else a plain
/// object, with `error_type`, `error_code`, the message and a fresh `request_id`.
fn key_error(
    spec: &ProviderSpec,
    status: StatusCode,
    error_type: &str,
    code: &str,
    message: &str,
    request_id: &str,
) -> Response {
    let mut body = crate::mock_api::error_body(spec, message, None, request_id);
    if spec.api.as_ref().and_then(|a| a.error.as_ref()).is_none() {
        body = json!({ "error_message": message, "request_id": request_id });
    }
    if let Some(map) = body.as_object_mut() {
        // The documented example's links are about its own error, not this one.
        map.retain(|k, _| !k.ends_with("_url"));
        map.insert("error_type".to_owned(), json!(error_type));
        map.insert("error_code".to_owned(), json!(code));
    }
    (status, Json(body)).into_response()
}

/// Bodies above this are refused: key requests are small.
const BODY_LIMIT: usize = 64 * 1024;

async fn dispatch(State(state): State<Arc<ServerState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let full = parts.uri.path();
    let (provider, path) = match full.trim_start_matches('/').split_once('/') {
        Some((p, rest)) => (p, format!("/{rest}")),
        None => (full.trim_start_matches('/'), "/".to_owned()),
    };
    let Some(keys) = state.providers.get(provider) else {
        let known: Vec<&str> = state.providers.keys().map(String::as_str).collect();
        let why = format!(
            "no key source at /{provider} (serving: {})",
            known.join(", ")
        );
        return (StatusCode::NOT_FOUND, Json(json!({ "error": why }))).into_response();
    };
    if path == ROTATE_PATH && parts.method == Method::POST {
        let kid = keys.ring.rotate_to(random_key());
        return Json(json!({ "kid": kid })).into_response();
    }
    let (method, served) = served_at(&keys.scheme);
    if path != served {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": format!("no key source at {path}") })),
        )
            .into_response();
    }
    if parts.method.as_str() != method {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(axum::http::header::ALLOW, method.clone())],
            Json(json!({ "error": format!("{} is not allowed here (allowed: {method})", parts.method) })),
        )
            .into_response();
    }
    let n = state.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let request_id = format!("hookspec{n:07}");
    let spec = &keys.spec;
    // A key set is read with GET and has no body; a key endpoint's body is JSON.
    let request = match &keys.scheme.key_source {
        KeySource::Jwks(_) => Value::Null,
        KeySource::Endpoint(_) => {
            let body = axum::body::to_bytes(body, BODY_LIMIT)
                .await
                .unwrap_or_default();
            let Ok(request) = serde_json::from_slice::<Value>(&body) else {
                return key_error(
                    spec,
                    StatusCode::BAD_REQUEST,
                    "INVALID_REQUEST",
                    "INVALID_BODY",
                    "body could not be parsed as JSON",
                    &request_id,
                );
            };
            request
        }
    };
    match answer_key_request(&keys.scheme, &keys.ring, &request, &request_id) {
        Ok(answer) => Json(answer).into_response(),
        Err(KeyRequestError::Missing(field)) => key_error(
            spec,
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "MISSING_FIELDS",
            &format!("the following required fields are missing: {field}"),
            &request_id,
        ),
        Err(KeyRequestError::Unknown { field, .. }) => key_error(
            spec,
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
            "INVALID_WEBHOOK_VERIFICATION_KEY_ID",
            &format!("invalid {field} provided"),
            &request_id,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_paths() {
        assert_eq!(url_path("https://a.example/x/y.json?v=1"), "/x/y.json");
        assert_eq!(url_path("https://a.example"), "/");
        assert_eq!(url_path("https://a.example/"), "/");
    }

    #[test]
    fn kids_are_thumbprints_so_a_new_key_never_reuses_one() {
        let (first, second) = (random_key(), random_key());
        let ring = KeyRing::fresh("x", first.clone());
        let kid = ring.current().unwrap().1;
        assert_eq!(
            kid,
            format!("hookspec-x-{}", hookspec_signer::jwk_thumbprint(&first))
        );
        assert_eq!(KeyRing::fresh("x", first).current().unwrap().1, kid);
        let rotated = ring.rotate_to(second.clone());
        assert_eq!(
            rotated,
            format!("hookspec-x-{}", hookspec_signer::jwk_thumbprint(&second))
        );
        assert_ne!(rotated, kid);
        let mine = KeyRing::new(random_key(), "mine");
        assert_eq!(
            mine.rotate_to(second.clone()),
            hookspec_signer::jwk_thumbprint(&second)
        );
    }
}
