//! What a spec says about authenticating a delivery, as static data the generated provider
//! modules fill in (`plaid::AUTH`, `bridge::AUTH`, ...). The verifiers read only this, so a
//! new provider or a new HMAC layout is a YAML change, not code.

use std::net::IpAddr;
use std::time::Duration;

/// One way a provider authenticates a delivery. Every scheme a provider lists applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    /// A static `Authorization` header the user configures at the provider (Belvo).
    Authorization(AuthorizationScheme),
    /// An HMAC of the request in a header (Bridge).
    Hmac(HmacScheme),
    /// A signed JWT in a header, verified with a fetched public key (Plaid).
    Jwt(JwtScheme),
    /// A header naming the sending account, checked against configured values (Vezgo).
    IdentifyingHeader(IdentifyingHeaderScheme),
}

/// A user-configured `Authorization: Basic|Bearer` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthorizationScheme {
    /// The header carrying the credential.
    pub header: &'static str,
    /// Whether `Basic base64(user:password)` may be configured.
    pub basic: bool,
    /// Whether `Bearer <token>` may be configured.
    pub bearer: bool,
    /// Whether the provider always sends it; `false` when it is optional at the provider.
    pub required: bool,
}

/// Hash function of an HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HmacAlgorithm {
    /// HMAC-SHA-256.
    Sha256,
    /// HMAC-SHA-512.
    Sha512,
    /// HMAC-SHA-1 (legacy providers only).
    Sha1,
}

/// Text encoding of a signature or digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Hexadecimal, upper-case as sent; read case-insensitively.
    HexUpper,
    /// Hexadecimal, lower-case as sent; read case-insensitively.
    HexLower,
    /// Standard base64 with padding.
    Base64,
    /// URL-safe base64 without padding.
    Base64Url,
}

/// Encoding of a configured signing secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretEncoding {
    /// The secret's text is the key.
    Utf8,
    /// The secret is base64 of the key.
    Base64,
}

/// An HMAC signature header, e.g. Bridge's `BridgeApi-Signature: v1=<HEX>,v1=<HEX>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HmacScheme {
    /// Header carrying the signature(s).
    pub header: &'static str,
    /// Hash function.
    pub algorithm: HmacAlgorithm,
    /// How each MAC is written.
    pub encoding: Encoding,
    /// What is signed: a template over `{body}`, `{timestamp}` and `{header:NAME}`.
    pub signed: &'static str,
    /// Separator between entries when several may be sent (`","`).
    pub separator: Option<&'static str>,
    /// Separator between an entry's label and its value (`"="`).
    pub label_separator: Option<&'static str>,
    /// The only label whose entries are checked (`v1`); other labels are ignored.
    pub label: Option<&'static str>,
    /// The signed timestamp, when the scheme has one.
    pub timestamp: Option<SignedTimestamp>,
    /// How the configured secret is written.
    pub secret_encoding: SecretEncoding,
    /// A prefix of the configured secret that is not part of the key (`whsec_`).
    pub secret_prefix: Option<&'static str>,
}

/// Where a signed timestamp is read from and how far it may be from now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedTimestamp {
    /// A header carrying it; `None` when it is an entry of the signature header.
    pub header: Option<&'static str>,
    /// Its entry label in the signature header (Stripe's `t`).
    pub label: Option<&'static str>,
    /// How far in the past or future it may be.
    pub tolerance: Duration,
}

/// JWT signature algorithm. ES256 is the only one there is: anything else a token names
/// is refused before any key is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlgorithm {
    /// ECDSA on P-256 with SHA-256.
    Es256,
}

/// A compact JWT in a header (Plaid's `Plaid-Verification`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JwtScheme {
    /// Header carrying the token.
    pub header: &'static str,
    /// Accepted `alg` values.
    pub algorithms: &'static [JwtAlgorithm],
    /// Claim holding the issue time in Unix seconds (`iat`).
    pub issued_at_claim: &'static str,
    /// How old the token may be.
    pub max_age: Duration,
    /// How far in the future the issue time may be (clock skew).
    pub future_skew: Duration,
    /// Claim holding the digest of the raw body (`request_body_sha256`).
    pub body_hash_claim: &'static str,
    /// How that digest (SHA-256) is written.
    pub body_hash_encoding: Encoding,
    /// Where public keys come from.
    pub key_endpoint: KeyEndpoint,
}

/// A provider endpoint returning one public JWK by key id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyEndpoint {
    /// HTTP method (`POST`).
    pub method: &'static str,
    /// Path below the API base URL (`/webhook_verification_key/get`).
    pub path: &'static str,
    /// JWT header field naming the key (`kid`).
    pub kid_header: &'static str,
    /// Request body field carrying the key id (`key_id`).
    pub request_key_field: &'static str,
    /// Request body fields carrying the caller's credentials (`client_id`, `secret`).
    pub credential_fields: &'static [&'static str],
    /// Response field holding the JWK (`key`).
    pub response_key_field: &'static str,
    /// JWK field that is non-null once the key is retired (`expired_at`).
    pub expired_field: Option<&'static str>,
    /// API base URL per environment, e.g. `("sandbox", "https://sandbox.plaid.com")`.
    pub base_urls: &'static [(&'static str, &'static str)],
}

/// A header naming the sending account (Vezgo's `x-client-id`). Not a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdentifyingHeaderScheme {
    /// Header name.
    pub header: &'static str,
}

/// Which statuses the provider counts as delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuccessStatus {
    /// Any 2xx.
    Any2xx,
    /// Only these (Plaid: 200).
    Only(&'static [u16]),
}

impl SuccessStatus {
    /// The status a receiver answers with when it accepts a delivery.
    pub fn ack(self) -> u16 {
        match self {
            SuccessStatus::Any2xx => 200,
            SuccessStatus::Only(list) => list.first().copied().unwrap_or(200),
        }
    }

    /// Whether the provider counts `status` as delivered.
    pub fn accepts(self, status: u16) -> bool {
        match self {
            SuccessStatus::Any2xx => (200..300).contains(&status),
            SuccessStatus::Only(list) => list.contains(&status),
        }
    }
}

/// The transport facts of a provider's deliveries a receiver acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryRules {
    /// `Content-Type` of the body.
    pub content_type: &'static str,
    /// Addresses deliveries come from; empty when the provider publishes none.
    pub source_ips: &'static [IpAddr],
    /// How long the provider waits for an answer.
    pub timeout: Duration,
    /// Which statuses count as delivered.
    pub success: SuccessStatus,
}
