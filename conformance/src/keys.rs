//! Plaid's side of webhook verification: `POST /webhook_verification_key/get` on
//! loopback, so a receiver that fetches keys from "Plaid" can be pointed at the suite.
//!
//! The ring holds every key the suite has signed with. Rotation makes a new current key
//! and marks the previous ones expired, as Plaid does with `expired_at`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use p256::ecdsa::SigningKey;
use serde_json::{json, Value};
use tokio::net::TcpListener;

/// Plaid's path of the key endpoint.
pub const KEY_PATH: &str = "/webhook_verification_key/get";

/// The suite's own path that rotates the signing key (answers the new `kid`).
pub const ROTATE_PATH: &str = "/hookspec/rotate";

/// The `kid` of the first key of a ring made by the CLI.
pub const FIRST_KID: &str = "hookspec-plaid-key-1";

/// One key the endpoint serves: its JWK as served, and the signing half when the suite
/// signs with it.
#[derive(Clone)]
struct Entry {
    kid: String,
    jwk: Value,
    key: Option<SigningKey>,
}

/// The keys the endpoint serves; the last one with a signing half is current.
#[derive(Clone)]
pub struct KeyRing {
    entries: Arc<RwLock<Vec<Entry>>>,
    generation: Arc<AtomicU64>,
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
    jwk["expired_at"] = Value::Null;
    jwk
}

impl KeyRing {
    /// A ring whose current key is `key`, named `kid`.
    pub fn new(key: SigningKey, kid: &str) -> KeyRing {
        KeyRing {
            entries: Arc::new(RwLock::new(vec![Entry {
                kid: kid.to_owned(),
                jwk: live_jwk(&key, kid),
                key: Some(key),
            }])),
            generation: Arc::new(AtomicU64::new(1)),
        }
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

    /// Makes `key` current and marks every live key expired; returns the new `kid`.
    pub fn rotate_to(&self, key: SigningKey) -> String {
        let n = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        let now = unix_now();
        let kid = format!("hookspec-plaid-key-{n}");
        if let Ok(mut entries) = self.entries.write() {
            for e in entries.iter_mut() {
                if e.jwk.get("expired_at").is_none_or(Value::is_null) {
                    e.jwk["expired_at"] = json!(now);
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

    /// The public JWK of `kid` as Plaid serves it, `created_at` and `expired_at` included.
    pub fn jwk(&self, kid: &str) -> Option<Value> {
        let entries = self.entries.read().ok()?;
        entries.iter().find(|e| e.kid == kid).map(|e| e.jwk.clone())
    }
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

#[derive(Clone)]
struct ServerState {
    ring: KeyRing,
    requests: Arc<AtomicU64>,
}

/// A running key endpoint.
pub struct KeyServer {
    /// Where it listens.
    pub addr: std::net::SocketAddr,
    serving: crate::serving::Serving,
}

impl KeyServer {
    /// Serves `ring` on `listener` until [`KeyServer::shutdown`] or drop.
    pub fn start(listener: TcpListener, ring: KeyRing) -> std::io::Result<KeyServer> {
        let addr = listener.local_addr()?;
        let state = ServerState {
            ring,
            requests: Arc::new(AtomicU64::new(0)),
        };
        let app = Router::new()
            .route(KEY_PATH, post(get_key))
            .route(ROTATE_PATH, post(rotate))
            .with_state(state);
        Ok(KeyServer {
            addr,
            serving: crate::serving::Serving::start(listener, app)?,
        })
    }

    /// Base URL to configure in the receiver in place of `https://production.plaid.com`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving and waits for the server to end.
    pub async fn shutdown(self) {
        self.serving.shutdown().await;
    }
}

/// Plaid's error body.
fn plaid_error(
    status: StatusCode,
    error_type: &str,
    code: &str,
    message: &str,
    request_id: String,
) -> Response {
    (
        status,
        Json(json!({
            "display_message": null,
            "error_code": code,
            "error_message": message,
            "error_type": error_type,
            "request_id": request_id,
            "suggested_action": null,
        })),
    )
        .into_response()
}

async fn get_key(State(state): State<ServerState>, body: axum::body::Bytes) -> Response {
    let n = state.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let request_id = format!("hookspec{n:07}");
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return plaid_error(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "INVALID_BODY",
            "body could not be parsed as JSON",
            request_id,
        );
    };
    let Some(kid) = request.get("key_id").and_then(Value::as_str) else {
        return plaid_error(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "MISSING_FIELDS",
            "the following required fields are missing: key_id",
            request_id,
        );
    };
    match state.ring.jwk(kid) {
        Some(key) => Json(json!({"key": key, "request_id": request_id})).into_response(),
        None => plaid_error(
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
            "INVALID_WEBHOOK_VERIFICATION_KEY_ID",
            "invalid key_id provided",
            request_id,
        ),
    }
}

async fn rotate(State(state): State<ServerState>) -> Response {
    let kid = state.ring.rotate_to(random_key());
    Json(json!({"kid": kid})).into_response()
}
