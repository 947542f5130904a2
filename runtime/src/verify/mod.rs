//! Verifying that a delivery comes from the provider, driven by the spec's data.
//!
//! A [`Verifier`] is built once from a provider's static schemes (`plaid::AUTH`, ...),
//! its delivery rules and the receiver's [`Credentials`], then checks each delivery's raw
//! body bytes and header map, with the clock passed in:
//!
//! 1. the source address, when the provider publishes addresses (see [`SourceIpCheck`]);
//! 2. every auth scheme the provider lists, in order: a JWT (ES256 only, key by `kid`
//!    through a cached [`KeySource`], issue time, body digest), an HMAC (any configured
//!    secret, any entry with the accepted label), an Ed25519 signature (any configured
//!    public key), a configured `Authorization` value, an identifying header. An optional
//!    signature scheme is checked only when its header is present and the receiver has
//!    keys for it.
//!
//! Failures are typed ([`VerifyError`]) and carry no secret.

mod algorithm;
mod authorization;
mod credentials;
mod encoding;
mod error;
#[cfg(feature = "http-keys")]
mod http_keys;
mod jwt;
mod key_cache;
mod keys;
pub mod message_signatures;
pub mod pieces;
mod secret;
mod signature;
mod source_ip;

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::SystemTime;

use http::{HeaderMap, HeaderName, HeaderValue};

pub use credentials::{Credentials, SourceIpCheck};
pub use error::{ConfigError, VerifyError, ERROR_KINDS};
pub use hookspec_core::{
    AuthScheme, AuthorizationAuth, AuthorizationKind, BodyHash, DeliveryRules,
    IdentifyingHeaderAuth, JwksSource, JwtAlgorithm, JwtAuth, KeyEndpoint, SecretEncoding,
    SignatureAlgorithm, SignatureAuth, SignatureEncoding, SignedTimestamp, Success,
};
#[cfg(feature = "http-keys")]
pub use http_keys::{HttpKeySource, DEFAULT_FETCH_TIMEOUT};
pub use key_cache::{DEFAULT_KEY_REFRESH, DEFAULT_KEY_RETRY};
pub use keys::{Jwk, KeyError, KeyFuture, KeySource, StaticKeys};
pub use secret::Secret;

use authorization::{AuthorizationCheck, IdentifyingCheck};
use jwt::JwtCheck;
use key_cache::KeyCache;
use signature::SignatureCheck;
use source_ip::SourcePolicy;

/// One delivery as received: the header map, the raw body bytes (never a re-serialized
/// body: signatures cover the exact bytes), the socket's peer address when known, and the
/// method and URL for schemes that sign them.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Request headers.
    pub headers: &'a HeaderMap,
    /// The body exactly as received.
    pub body: &'a [u8],
    /// The address of the connecting socket; `None` when the transport does not say.
    pub peer: Option<IpAddr>,
    /// The method and the URL the provider called; `None` when the caller does not say
    /// (a scheme that signs them then fails with [`VerifyError::NoTarget`]).
    pub target: Option<Target<'a>>,
}

/// The request line as the provider sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target<'a> {
    /// The method, upper case.
    pub method: &'a str,
    /// The full URL the provider was configured with and called: scheme, host (and port
    /// when it is written), path and query. Behind a proxy or TLS terminator this is the
    /// public URL, not the one the server sees (see [`public_url`]).
    pub url: &'a str,
}

impl<'a> Request<'a> {
    /// A delivery of `body` with `headers`, from an unknown peer, with no target.
    pub fn new(headers: &'a HeaderMap, body: &'a [u8]) -> Self {
        Request {
            headers,
            body,
            peer: None,
            target: None,
        }
    }

    /// The same delivery from `peer`.
    pub fn peer(mut self, peer: Option<IpAddr>) -> Self {
        self.peer = peer;
        self
    }

    /// The same delivery sent as `method` to `url`.
    pub fn target(mut self, method: &'a str, url: &'a str) -> Self {
        self.target = Some(Target { method, url });
        self
    }
}

/// The URL a provider called, rebuilt from what a server sees: `origin` (scheme and host
/// the provider was given, e.g. `https://hooks.example.com`) when the receiver knows it,
/// else `http://` and the `Host` header; then the request's path and query.
pub fn public_url(origin: Option<&str>, headers: &HeaderMap, path_and_query: &str) -> String {
    let origin = match origin {
        Some(o) => o.trim_end_matches('/').to_owned(),
        None => {
            let host = headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            format!("http://{host}")
        }
    };
    format!("{origin}{path_and_query}")
}

/// Checks deliveries against a provider's schemes. Cheap to clone (shared inside),
/// `Send + Sync`; its `Debug` shows no secret.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    schemes: &'static [AuthScheme],
    delivery: &'static DeliveryRules,
    checks: Vec<Check>,
    source: Option<SourcePolicy>,
    unverified: bool,
    needs_target: bool,
}

enum Check {
    Authorization(AuthorizationCheck),
    Signature(SignatureCheck),
    Jwt(JwtCheck),
    Identifying(IdentifyingCheck),
}

impl Verifier {
    /// A verifier for a provider's `schemes` and `delivery` rules with the receiver's
    /// `credentials`. Fails when a scheme needs something the credentials lack (unless
    /// they are [`unverified`](Credentials::unverified)).
    pub fn new(
        schemes: &'static [AuthScheme],
        delivery: &'static DeliveryRules,
        mut credentials: Credentials,
    ) -> Result<Self, ConfigError> {
        let source = match credentials.source_ips {
            SourceIpCheck::Enforce => SourcePolicy::new(
                &delivery.source_ips,
                &credentials.allow_ips,
                &credentials.trusted_proxies,
            ),
            SourceIpCheck::Off => None,
        };
        let unverified = credentials.unverified;
        let (refresh, retry) = credentials.refresh_and_retry();
        let mut key_source = credentials.key_source.take();
        let mut checks = Vec::new();
        for scheme in schemes.iter().filter(|_| !unverified) {
            // An optional scheme the receiver has no credentials for is not checked.
            let configured = match scheme {
                AuthScheme::Signature(s) => !credentials.keys_for(s.algorithm).is_empty(),
                _ => true,
            };
            if scheme.is_optional() && !configured {
                continue;
            }
            checks.push(match scheme {
                AuthScheme::Authorization(s) => {
                    Check::Authorization(AuthorizationCheck::new(s, &credentials)?)
                }
                AuthScheme::Signature(s) => {
                    Check::Signature(SignatureCheck::new(s, &credentials.keys_for(s.algorithm))?)
                }
                AuthScheme::Jwt(s) => Check::Jwt(JwtCheck::new(
                    s,
                    credentials.future_skew.unwrap_or(s.future_skew.get()),
                    KeyCache::new(
                        key_source.take().ok_or(ConfigError::MissingKeySource)?,
                        refresh,
                        retry,
                    ),
                )?),
                AuthScheme::IdentifyingHeader(s) => {
                    Check::Identifying(IdentifyingCheck::new(s, &credentials)?)
                }
            });
        }
        let needs_target = checks
            .iter()
            .any(|c| matches!(c, Check::Signature(s) if s.signs_target()));
        Ok(Verifier {
            inner: Arc::new(Inner {
                schemes,
                delivery,
                checks,
                source,
                unverified,
                needs_target,
            }),
        })
    }

    /// Whether `request` comes from the provider, judged at `now`. Checks the source
    /// address, then every scheme in the spec's order, and stops at the first failure.
    pub async fn verify(&self, request: &Request<'_>, now: SystemTime) -> Result<(), VerifyError> {
        let inner = &*self.inner;
        if let Some(source) = &inner.source {
            source.check(request.headers, request.peer)?;
        }
        for check in &inner.checks {
            match check {
                Check::Authorization(c) => c.verify(request.headers)?,
                Check::Signature(c) => c.verify(request, now)?,
                Check::Jwt(c) => c.verify(request.headers, request.body, now).await?,
                Check::Identifying(c) => c.verify(request.headers)?,
            }
        }
        Ok(())
    }

    /// The receiver's HMAC of `value` (the first HMAC scheme's algorithm and encoding, its
    /// first secret), for handshake answers that prove the receiver holds the secret;
    /// `None` when it checks no HMAC scheme.
    pub fn answer_mac(&self, value: &[u8]) -> Option<String> {
        self.inner.checks.iter().find_map(|c| match c {
            Check::Signature(c) => c.mac_of(value),
            _ => None,
        })
    }

    /// The schemes this verifier checks.
    pub fn schemes(&self) -> &'static [AuthScheme] {
        self.inner.schemes
    }

    /// The provider's delivery rules it was built with.
    pub fn delivery(&self) -> &'static DeliveryRules {
        self.inner.delivery
    }

    /// Whether a scheme it checks signs the request's method or URL, so the caller must
    /// pass [`Request::target`] (asked per request: worked out once, when built).
    pub fn needs_target(&self) -> bool {
        self.inner.needs_target
    }

    /// Whether signature and credential checks were turned off with
    /// [`Credentials::unverified`].
    pub fn is_unverified(&self) -> bool {
        self.inner.unverified
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let checks: Vec<&str> = self
            .inner
            .checks
            .iter()
            .map(|c| match c {
                Check::Authorization(c) => &*c.scheme.header,
                Check::Signature(c) => c.header(),
                Check::Jwt(c) => &*c.scheme.header,
                Check::Identifying(c) => &*c.scheme.header,
            })
            .collect();
        f.debug_struct("Verifier")
            .field("checked_headers", &checks)
            .field("source_ips", &self.inner.source)
            .field("unverified", &self.inner.unverified)
            .finish()
    }
}

/// A header a check reads: its name parsed once (lookups then only hash it) and its
/// spelling in the spec, for errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    name: HeaderName,
    label: &'static str,
}

impl Header {
    pub(crate) fn new(label: &'static str) -> Result<Self, ConfigError> {
        HeaderName::from_bytes(label.as_bytes())
            .map(|name| Header { name, label })
            .map_err(|_| ConfigError::BadHeaderName { header: label })
    }

    pub(crate) fn label(&self) -> &'static str {
        self.label
    }

    /// The raw value; a missing header is a typed error.
    pub(crate) fn value<'h>(&self, headers: &'h HeaderMap) -> Result<&'h HeaderValue, VerifyError> {
        headers
            .get(&self.name)
            .ok_or(VerifyError::MissingHeader { header: self.label })
    }

    /// The value as text; missing or non-ASCII headers are typed errors.
    pub(crate) fn text<'h>(&self, headers: &'h HeaderMap) -> Result<&'h str, VerifyError> {
        self.value(headers)?
            .to_str()
            .map_err(|_| VerifyError::MalformedHeader {
                header: self.label,
                reason: "not visible ASCII",
            })
    }
}

/// `now` in Unix seconds (negative before 1970).
fn unix_seconds(now: SystemTime) -> i64 {
    match now.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}
