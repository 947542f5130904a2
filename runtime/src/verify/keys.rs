//! Public keys for JWT verification and where they come from.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::VerifyingKey;
use p256::EncodedPoint;

/// A provider's public key for ES256 tokens (JWK `kty: EC`, `crv: P-256`).
#[derive(Clone, PartialEq, Eq)]
pub struct Jwk {
    kid: String,
    key: VerifyingKey,
    created_at: Option<i64>,
    expired: bool,
    expired_at: Option<i64>,
}

impl Jwk {
    /// A current key with this id.
    pub fn new(kid: impl Into<String>, key: VerifyingKey) -> Self {
        Jwk {
            kid: kid.into(),
            key,
            created_at: None,
            expired: false,
            expired_at: None,
        }
    }

    /// Reads a JWK object. `expired_field` is the scheme's field that is non-null once the
    /// provider has retired the key (Plaid: `expired_at`); `alg` and `use`, when present,
    /// must be `ES256` and `sig`.
    pub fn from_json(
        value: &serde_json::Value,
        expired_field: Option<&str>,
    ) -> Result<Self, KeyError> {
        let obj = value
            .as_object()
            .ok_or(KeyError::Invalid("the key is not a JSON object"))?;
        let text = |name: &str| obj.get(name).and_then(serde_json::Value::as_str);
        if text("kty") != Some("EC") {
            return Err(KeyError::Invalid("`kty` is not `EC`"));
        }
        if text("crv") != Some("P-256") {
            return Err(KeyError::Invalid("`crv` is not `P-256`"));
        }
        if obj.contains_key("alg") && text("alg") != Some("ES256") {
            return Err(KeyError::Invalid("`alg` is not `ES256`"));
        }
        if obj.contains_key("use") && text("use") != Some("sig") {
            return Err(KeyError::Invalid("`use` is not `sig`"));
        }
        let kid = text("kid").ok_or(KeyError::Invalid("no `kid`"))?;
        let coordinate = |name: &str| -> Result<[u8; 32], KeyError> {
            let mut out = [0u8; 32];
            let bytes = URL_SAFE_NO_PAD
                .decode(text(name).ok_or(KeyError::Invalid("no `x` or `y`"))?)
                .map_err(|_| KeyError::Invalid("`x` or `y` is not base64url"))?;
            if bytes.len() != 32 {
                return Err(KeyError::Invalid("`x` or `y` is not 32 bytes"));
            }
            out.copy_from_slice(&bytes);
            Ok(out)
        };
        let (x, y) = (coordinate("x")?, coordinate("y")?);
        let point = EncodedPoint::from_affine_coordinates(&x.into(), &y.into(), false);
        let key = VerifyingKey::from_encoded_point(&point)
            .map_err(|_| KeyError::Invalid("the point is not on P-256"))?;
        let int = |name: &str| obj.get(name).and_then(serde_json::Value::as_i64);
        let expired = expired_field.is_some_and(|f| obj.get(f).is_some_and(|v| !v.is_null()));
        Ok(Jwk {
            kid: kid.to_owned(),
            key,
            created_at: int("created_at"),
            expired,
            expired_at: expired_field.and_then(int),
        })
    }

    /// Marks the key retired, as if the provider had set its `expired_at`.
    pub fn retired(mut self, expired_at: Option<i64>) -> Self {
        self.expired = true;
        self.expired_at = expired_at;
        self
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// When the provider made the key (Unix seconds), if it says.
    pub fn created_at(&self) -> Option<i64> {
        self.created_at
    }

    /// Whether the provider has retired the key; tokens signed with it are refused.
    pub fn is_expired(&self) -> bool {
        self.expired
    }

    /// When the key was retired (Unix seconds), if it is and the provider says when.
    pub fn expired_at(&self) -> Option<i64> {
        self.expired_at
    }
}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwk")
            .field("kid", &self.kid)
            .field("created_at", &self.created_at)
            .field("expired", &self.expired)
            .field("expired_at", &self.expired_at)
            .finish_non_exhaustive()
    }
}

/// Why a key source gave no key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The source does not know the key id.
    NotFound,
    /// The source could not be asked (network, HTTP status, timeout). Retried later.
    Unavailable(String),
    /// The source answered with something that is not a usable ES256 key.
    Invalid(&'static str),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::NotFound => f.write_str("no such key"),
            KeyError::Unavailable(reason) => write!(f, "key source unavailable: {reason}"),
            KeyError::Invalid(reason) => write!(f, "invalid key: {reason}"),
        }
    }
}

impl std::error::Error for KeyError {}

/// A boxed future returned by [`KeySource::fetch`].
pub type KeyFuture<'a> = Pin<Box<dyn Future<Output = Result<Jwk, KeyError>> + Send + 'a>>;

/// Where JWT verification keys come from. The verifier wraps it in a cache, so `fetch` is
/// called only for a key id it has not seen, or has not refreshed for a while.
pub trait KeySource: Send + Sync + 'static {
    /// The key named `kid`.
    fn fetch<'a>(&'a self, kid: &'a str) -> KeyFuture<'a>;
}

/// Keys known in advance: for tests, and for users who pin the provider's keys.
#[derive(Debug, Clone, Default)]
pub struct StaticKeys {
    keys: HashMap<String, Jwk>,
}

impl StaticKeys {
    /// A source serving exactly these keys.
    pub fn new(keys: impl IntoIterator<Item = Jwk>) -> Self {
        StaticKeys {
            keys: keys.into_iter().map(|k| (k.kid.clone(), k)).collect(),
        }
    }
}

impl KeySource for StaticKeys {
    fn fetch<'a>(&'a self, kid: &'a str) -> KeyFuture<'a> {
        let found = self.keys.get(kid).cloned().ok_or(KeyError::NotFound);
        Box::pin(std::future::ready(found))
    }
}
