//! Authentication schemes as data: what a spec says about proving a delivery comes from
//! the provider. The spec model embeds these types, generated modules state them as
//! constants, and the verifiers, the signer and the conformance suite read them.

use serde::{Deserialize, Serialize};

use crate::{Duration, List, Pairs, Text};

/// One way to authenticate a delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthScheme {
    /// A static `Authorization` header whose value the user configures at the provider.
    Authorization(AuthorizationAuth),
    /// An HMAC signature of the request in a header.
    Hmac(HmacAuth),
    /// A signed JWT in a header.
    Jwt(JwtAuth),
    /// An Ed25519 signature of the request in a header, checked with the provider's public
    /// key (Standard Webhooks' `v1a,`).
    Ed25519(Ed25519Auth),
    /// A header that identifies the sender's account (not a secret), e.g. `x-client-id`.
    IdentifyingHeader(IdentifyingHeaderAuth),
}

/// A user-configured `Authorization` header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AuthorizationAuth {
    /// The header carrying the credential.
    #[serde(default = "authorization_header")]
    pub header: Text,
    /// The schemes the user may pick.
    pub schemes: List<AuthorizationKind>,
    /// Whether the user must configure it. `false`: deliveries come without it unless set up.
    #[serde(default)]
    pub required: bool,
    /// What the receiver should know about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
}

fn authorization_header() -> Text {
    Text::Borrowed("Authorization")
}

/// HTTP authorization scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuthorizationKind {
    /// `Basic base64(user:password)`.
    Basic,
    /// `Bearer <token>`.
    Bearer,
}

/// An HMAC signature scheme, described as data so Stripe-, GitHub- or Svix-style
/// signatures need no code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct HmacAuth {
    /// Header carrying the signature(s).
    pub header: Text,
    /// Hash function of the HMAC.
    pub algorithm: HmacAlgorithm,
    /// How the MAC is written in the header.
    pub encoding: SignatureEncoding,
    /// What is signed: a template over `{body}`, `{timestamp}` and `{header:NAME}`,
    /// e.g. `"{body}"` or `"{timestamp}.{body}"`.
    pub signed: Text,
    /// How the header value is split into signatures.
    pub format: SignatureFormat,
    /// Where the signed timestamp comes from, when the scheme has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<SignedTimestamp>,
    /// How the secret is given to the receiver.
    #[serde(default)]
    pub secret: SecretFormat,
    /// Secret rotation as the provider runs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<Rotation>,
    /// The provider sends it but a receiver need not check it (GitHub's legacy SHA-1
    /// header): checked only when its header is present.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
    /// What the receiver should know about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
}

/// An Ed25519 signature scheme: laid out in its header as an HMAC is, but verified with
/// the provider's public key instead of a shared secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Ed25519Auth {
    /// Header carrying the signature(s).
    pub header: Text,
    /// How the 64-byte signature is written in the header.
    pub encoding: SignatureEncoding,
    /// What is signed: a template over `{body}`, `{timestamp}` and `{header:NAME}`.
    pub signed: Text,
    /// How the header value is split into signatures.
    pub format: SignatureFormat,
    /// Where the signed timestamp comes from, when the scheme has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<SignedTimestamp>,
    /// How the 32-byte public key is written when given to the receiver.
    #[serde(default)]
    pub public_key: SecretFormat,
    /// The provider sends it but a receiver need not check it: checked only when its
    /// header is present.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
    /// What the receiver should know about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
}

/// The layout HMAC and Ed25519 schemes share: where the signature is, how it is written
/// and what it covers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SignatureLayout<'a> {
    /// Header carrying the signature(s).
    pub header: &'a str,
    /// How a signature is written.
    pub encoding: SignatureEncoding,
    /// The signed template.
    pub signed: &'a str,
    /// How the header value is split into signatures.
    pub format: &'a SignatureFormat,
    /// The signed timestamp, when there is one.
    pub timestamp: Option<&'a SignedTimestamp>,
    /// The scheme is checked only when its header is present.
    pub optional: bool,
}

impl HmacAuth {
    /// Where the signature is and what it covers.
    pub fn layout(&self) -> SignatureLayout<'_> {
        SignatureLayout {
            header: &self.header,
            encoding: self.encoding,
            signed: &self.signed,
            format: &self.format,
            timestamp: self.timestamp.as_ref(),
            optional: self.optional,
        }
    }
}

impl Ed25519Auth {
    /// Where the signature is and what it covers.
    pub fn layout(&self) -> SignatureLayout<'_> {
        SignatureLayout {
            header: &self.header,
            encoding: self.encoding,
            signed: &self.signed,
            format: &self.format,
            timestamp: self.timestamp.as_ref(),
            optional: self.optional,
        }
    }
}

/// One piece of an HMAC `signed` template, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedPiece<'a> {
    /// Text signed as written.
    Literal(&'a str),
    /// `{body}`: the raw body.
    Body,
    /// `{timestamp}`: the signed timestamp.
    Timestamp,
    /// `{header:NAME}`: that header's value (`NAME` as written, not yet checked).
    Header(&'a str),
    /// Any other `{...}`, by its inside.
    Unknown(&'a str),
    /// A `{` that is never closed, with everything from it on; always the last piece.
    Unclosed(&'a str),
}

/// A [`HmacAuth::signed`] template split into its pieces: the one reading of the template
/// that validation and the signer share.
pub fn signed_pieces(template: &str) -> Vec<SignedPiece<'_>> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            pieces.push(SignedPiece::Literal(&rest[..open]));
        }
        let Some(close) = rest[open..].find('}').map(|c| c + open) else {
            pieces.push(SignedPiece::Unclosed(&rest[open..]));
            return pieces;
        };
        pieces.push(match &rest[open + 1..close] {
            "body" => SignedPiece::Body,
            "timestamp" => SignedPiece::Timestamp,
            inside => match inside.strip_prefix("header:") {
                Some(name) if !name.is_empty() => SignedPiece::Header(name),
                _ => SignedPiece::Unknown(inside),
            },
        });
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        pieces.push(SignedPiece::Literal(rest));
    }
    pieces
}

/// Hash function of an HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum HmacAlgorithm {
    /// HMAC-SHA-256.
    Sha256,
    /// HMAC-SHA-512.
    Sha512,
    /// HMAC-SHA-1 (legacy providers only).
    Sha1,
}

/// Text encoding of a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum SignatureEncoding {
    /// Hexadecimal, upper-case as sent; compared case-insensitively.
    HexUpper,
    /// Hexadecimal, lower-case as sent; compared case-insensitively.
    HexLower,
    /// Standard base64 with padding.
    Base64,
    /// URL-safe base64 without padding.
    Base64url,
}

/// How one header value carries one or more signatures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SignatureFormat {
    /// Separator between entries when several are allowed (e.g. `","` or `" "`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub separator: Option<Text>,
    /// Separator between an entry's scheme label and its value (e.g. `"="`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_separator: Option<Text>,
    /// The scheme label that is accepted (e.g. `v1`); entries with other labels are ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<Text>,
}

/// Where a signed timestamp is read from, and how stale it may be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SignedTimestamp {
    /// A header carrying it, or absent when it is an entry of the signature header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<Text>,
    /// The entry label in the signature header (e.g. Stripe's `t`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<Text>,
    /// How far in the past the timestamp may be (and, checked both ways, in the future).
    pub tolerance: Duration,
    /// Which way the provider's own library applies the tolerance: both ways (the
    /// default), or to old timestamps only (Stripe's), so a receiver whose clock runs
    /// behind is not refused.
    #[serde(default, skip_serializing_if = "ToleranceWindow::is_both_ways")]
    pub window: ToleranceWindow,
}

/// Which way a signed timestamp's tolerance applies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ToleranceWindow {
    /// Refuse timestamps further than the tolerance in the past or in the future.
    #[default]
    BothWays,
    /// Refuse only timestamps older than the tolerance.
    PastOnly,
}

impl ToleranceWindow {
    fn is_both_ways(&self) -> bool {
        *self == ToleranceWindow::BothWays
    }
}

impl SignedTimestamp {
    /// How far ahead of now the timestamp may be; `None` when the future is not checked.
    pub fn future_tolerance(&self) -> Option<Duration> {
        match self.window {
            ToleranceWindow::BothWays => Some(self.tolerance),
            ToleranceWindow::PastOnly => None,
        }
    }
}

/// How a signing secret is written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SecretFormat {
    /// Encoding of the secret's bytes.
    #[serde(default)]
    pub encoding: SecretEncoding,
    /// A prefix that is not part of the key (e.g. `whsec_`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strip_prefix: Option<Text>,
}

impl SecretFormat {
    /// A configured secret without the prefix that is not part of the key.
    pub fn strip<'s>(&self, secret: &'s str) -> &'s str {
        self.strip_prefix
            .as_deref()
            .and_then(|p| secret.strip_prefix(p))
            .unwrap_or(secret)
    }

    /// The key bytes a configured secret stands for: prefix removed, then decoded; `None`
    /// when it is not written in the encoding the provider uses.
    pub fn key(&self, secret: &str) -> Option<Vec<u8>> {
        self.encoding.decode(self.strip(secret))
    }

    /// A key's bytes written as the provider gives them to a receiver (prefix included).
    pub fn write(&self, raw: &[u8]) -> String {
        let prefix = self.strip_prefix.as_deref().unwrap_or("");
        format!("{prefix}{}", self.encoding.encode(raw))
    }

    /// How a report names what a secret must look like (`base64 after the prefix `whsec_``).
    pub fn describe(&self) -> String {
        let encoding = self.encoding.describe();
        match &self.strip_prefix {
            Some(p) => format!("{encoding} after the prefix `{p}`"),
            None => encoding.to_owned(),
        }
    }
}

/// Encoding of a secret's (or a public key's) bytes. Everything an encoding means lives
/// here — decoding, encoding, how reports and docs name it — so a new one is one variant
/// and its arms below; emitters name a variant by its `Debug` name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum SecretEncoding {
    /// The secret's text is the key.
    #[default]
    Utf8,
    /// The secret is base64 of the key (standard alphabet, padded or not).
    Base64,
    /// The secret is URL-safe base64 of the key (`-` and `_`, padded or not).
    Base64url,
    /// The secret is hex of the key, in either case (Discord's public keys, Adyen's HMAC
    /// keys).
    Hex,
}

impl SecretEncoding {
    /// The bytes `text` stands for; `None` when it is not written this way. Base64 is
    /// accepted with or without padding, since providers' dashboards show both.
    pub fn decode(self, text: &str) -> Option<Vec<u8>> {
        use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
        use base64::{alphabet, Engine};
        const ANY_PADDING: GeneralPurposeConfig =
            GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
        match self {
            Self::Utf8 => Some(text.as_bytes().to_vec()),
            Self::Base64 => GeneralPurpose::new(&alphabet::STANDARD, ANY_PADDING)
                .decode(text)
                .ok(),
            Self::Base64url => GeneralPurpose::new(&alphabet::URL_SAFE, ANY_PADDING)
                .decode(text)
                .ok(),
            Self::Hex => hex::decode(text).ok(),
        }
    }

    /// `raw` written this way (hex in lower case, base64 padded).
    pub fn encode(self, raw: &[u8]) -> String {
        use base64::engine::general_purpose::{STANDARD, URL_SAFE};
        use base64::Engine;
        match self {
            Self::Utf8 => String::from_utf8_lossy(raw).into_owned(),
            Self::Base64 => STANDARD.encode(raw),
            Self::Base64url => URL_SAFE.encode(raw),
            Self::Hex => hex::encode(raw),
        }
    }

    /// A short name for reports.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Utf8 => "text",
            Self::Base64 => "base64 (standard alphabet, padding optional)",
            Self::Base64url => "URL-safe base64 (padding optional)",
            Self::Hex => "hex (either case)",
        }
    }

    /// What a receiver does with the configured text, as the generated docs say it.
    pub fn explain(self) -> &'static str {
        match self {
            Self::Utf8 => "its text, as UTF-8 bytes, is the key",
            Self::Base64 => "it is base64 (padded or not); its decoded bytes are the key",
            Self::Base64url => {
                "it is URL-safe base64 (padded or not); its decoded bytes are the key"
            }
            Self::Hex => "it is hex (either case); its decoded bytes are the key",
        }
    }
}

/// Secret rotation rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    /// How many secrets can be valid at once.
    pub max_active: u32,
    /// How long the previous secret stays valid after a rotation.
    pub overlap: Duration,
}

/// A JWT carried in a header and verified with a public key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct JwtAuth {
    /// Header carrying the compact JWT.
    pub header: Text,
    /// Accepted `alg` values; anything else is refused.
    pub algorithms: List<JwtAlgorithm>,
    /// Claim holding the issue time, in Unix seconds.
    pub issued_at_claim: Text,
    /// How old the token may be.
    pub max_age: Duration,
    /// How far in the future `iat` may be, for clock skew.
    pub future_skew: Duration,
    /// The claim binding the token to the body.
    pub body_hash: BodyHash,
    /// Where the public key comes from.
    pub key_source: KeySource,
    /// What the receiver should know about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
}

/// JWT signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum JwtAlgorithm {
    /// ECDSA on P-256 with SHA-256.
    ES256,
}

/// A claim holding a digest of the raw body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BodyHash {
    /// Claim name.
    pub claim: Text,
    /// Digest algorithm.
    pub algorithm: DigestAlgorithm,
    /// Text encoding of the digest.
    pub encoding: SignatureEncoding,
}

/// Digest algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum DigestAlgorithm {
    /// SHA-256.
    Sha256,
}

/// Where verification keys come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum KeySource {
    /// Fetched one at a time from a provider endpoint, by the JWT header's `kid`.
    Endpoint(KeyEndpoint),
    /// A JSON Web Key Set (RFC 7517) the provider publishes at a URL; the key is the
    /// set's member whose `kid` the JWT header names.
    Jwks(JwksSource),
}

/// A published JSON Web Key Set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct JwksSource {
    /// JWT header field naming the key (`kid`).
    #[serde(default = "kid")]
    pub kid_header: Text,
    /// The set's absolute https URL per environment (`production`, `sandbox`, ...).
    pub urls: Pairs,
}

fn kid() -> Text {
    Text::Borrowed("kid")
}

/// A provider endpoint that returns a JWK for a key id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct KeyEndpoint {
    /// HTTP method.
    pub method: Text,
    /// Path below the provider's API base URL.
    pub path: Text,
    /// JWT header field naming the key.
    pub kid_header: Text,
    /// Request body field that carries the key id.
    pub request_key_field: Text,
    /// Request body fields holding the caller's credentials.
    #[serde(default, skip_serializing_if = "<[_]>::is_empty")]
    pub credential_fields: List<Text>,
    /// Response field (top level) holding the JWK.
    pub response_key_field: Text,
    /// JWK field that is non-null once the key has been retired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired_field: Option<Text>,
    /// Base URLs per environment.
    pub base_urls: Pairs,
}

/// A header identifying the sending account; checked against configured values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct IdentifyingHeaderAuth {
    /// Header name.
    pub header: Text,
    /// What the value is.
    pub description: Text,
}

impl AuthScheme {
    /// The headers a delivery carries for this scheme (signature, timestamp, token or
    /// credential), in the order the provider sends them.
    pub fn headers(&self) -> Vec<&str> {
        match self {
            AuthScheme::Authorization(a) => vec![&a.header],
            AuthScheme::Hmac(h) => h.layout().headers(),
            AuthScheme::Ed25519(e) => e.layout().headers(),
            AuthScheme::Jwt(j) => vec![&j.header],
            AuthScheme::IdentifyingHeader(i) => vec![&i.header],
        }
    }

    /// The signature layout, for an HMAC or Ed25519 scheme.
    pub fn layout(&self) -> Option<SignatureLayout<'_>> {
        match self {
            AuthScheme::Hmac(h) => Some(h.layout()),
            AuthScheme::Ed25519(e) => Some(e.layout()),
            _ => None,
        }
    }

    /// Whether a receiver may skip the scheme when its header is absent (an optional
    /// signature scheme).
    pub fn is_optional(&self) -> bool {
        self.layout().is_some_and(|l| l.optional)
    }

    /// The JWT scheme, when this is one.
    pub fn as_jwt(&self) -> Option<&JwtAuth> {
        match self {
            AuthScheme::Jwt(j) => Some(j),
            _ => None,
        }
    }
}

impl<'a> SignatureLayout<'a> {
    /// The signature header, then the timestamp header when it has its own.
    pub fn headers(&self) -> Vec<&'a str> {
        let mut out = vec![self.header];
        if let Some(t) = self.timestamp.and_then(|t| t.header.as_deref()) {
            out.push(t);
        }
        out
    }
}

/// The JWT scheme among `schemes`, when a provider signs with one.
pub fn jwt_scheme(schemes: &[AuthScheme]) -> Option<&JwtAuth> {
    schemes.iter().find_map(AuthScheme::as_jwt)
}

impl JwtAuth {
    /// The key endpoint, when keys are fetched one by one from the provider's API.
    pub fn key_endpoint(&self) -> Option<&KeyEndpoint> {
        match &self.key_source {
            KeySource::Endpoint(e) => Some(e),
            KeySource::Jwks(_) => None,
        }
    }

    /// The JWT header field naming the key, whatever the key source.
    pub fn kid_header(&self) -> &str {
        match &self.key_source {
            KeySource::Endpoint(e) => &e.kid_header,
            KeySource::Jwks(j) => &j.kid_header,
        }
    }
}
