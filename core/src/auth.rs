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
    /// A signature of the request in a header, by a shared secret (HMAC) or the
    /// provider's private key (Ed25519, ECDSA, RSA): one model for every such scheme.
    Signature(SignatureAuth),
    /// A signed JWT in a header.
    Jwt(JwtAuth),
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

/// A signature of the request carried in a header, described as data: what is signed
/// (an ordered template of pieces), by which algorithm, how the header lays out one or
/// more signatures, where the signed timestamp is and how the key is written. Stripe-,
/// GitHub-, Svix-, Twilio-, SendGrid- or Discord-style signatures need no code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SignatureAuth {
    /// Header carrying the signature(s).
    pub header: Text,
    /// The signature algorithm; an HMAC's key is a shared secret, the others' a public
    /// key.
    pub algorithm: SignatureAlgorithm,
    /// How a signature is written in the header.
    pub encoding: SignatureEncoding,
    /// What is signed: a template over `{body}`, `{timestamp}`, `{header:NAME}`, `{url}`,
    /// `{method}`, `{path}`, `{form}`, `{form:NAME}` and `{field:PATH}`, e.g. `"{body}"`
    /// or `"{timestamp}.{body}"`.
    pub signed: Text,
    /// How the header value is split into signatures.
    pub format: SignatureFormat,
    /// The header value is a detached JWS (RFC 7515 compact form with the payload left
    /// out, `<protected>..<signature>`) over the signed template: TrueLayer's
    /// `Tl-Signature`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jws: Option<DetachedJws>,
    /// Where the signed timestamp comes from, when the scheme has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<SignedTimestamp>,
    /// How the key (an HMAC secret or a public key) is written when given to the receiver.
    #[serde(default)]
    pub key: SecretFormat,
    /// Key rotation as the provider runs it.
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

/// A detached JWS in the signature header: the JWS signing input is the base64url
/// protected header, a full stop and the base64url of the signed template, and the header
/// names which request headers the template's `{signed_headers}` covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DetachedJws {
    /// The protected-header parameter listing the signed request headers, comma-separated
    /// and in signing order (TrueLayer's `tl_headers`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers_param: Option<Text>,
    /// The headers the provider lists there (a receiver reads the list from each
    /// signature; the signer lists these).
    #[serde(default, skip_serializing_if = "<[_]>::is_empty")]
    pub signs_headers: List<Text>,
    /// Protected-header parameters that must have these values (TrueLayer's
    /// `tl_version: "2"`); `alg` is always checked against the algorithm.
    #[serde(default, skip_serializing_if = "Pairs::is_empty")]
    pub requires: Pairs,
    /// The protected-header parameter naming the URL of the key set (`jku`); when a
    /// signature carries it, it must be one of `key_urls`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_url_param: Option<Text>,
    /// The provider's own key-set URLs: the only ones a signature may name.
    #[serde(default, skip_serializing_if = "<[_]>::is_empty")]
    pub key_urls: List<Text>,
}

/// A signature algorithm. Everything an algorithm means to the model lives here (its
/// name, whether its key is secret, its signature's length); the runtime maps each to a
/// primitive in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum SignatureAlgorithm {
    /// HMAC-SHA-1 (legacy providers only).
    HmacSha1,
    /// HMAC-SHA-256.
    HmacSha256,
    /// HMAC-SHA-512.
    HmacSha512,
    /// Ed25519 (RFC 8032).
    Ed25519,
    /// ECDSA on P-256 with SHA-256, the signature as fixed-size `r || s` (as in JWS).
    EcdsaP256Sha256,
    /// ECDSA on P-256 with SHA-256, the signature DER-encoded (as OpenSSL writes it).
    EcdsaP256Sha256Der,
    /// ECDSA on P-384 with SHA-384, fixed-size `r || s`.
    EcdsaP384Sha384,
    /// ECDSA on P-384 with SHA-384, DER-encoded.
    EcdsaP384Sha384Der,
    /// ECDSA on P-521 with SHA-512, fixed-size `r || s` (JWS `ES512`).
    EcdsaP521Sha512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RsaPkcs1Sha256,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RsaPkcs1Sha512,
    /// RSASSA-PSS with SHA-256 (MGF1 SHA-256, 32-byte salt).
    RsaPssSha256,
    /// RSASSA-PSS with SHA-512 (MGF1 SHA-512, 64-byte salt).
    RsaPssSha512,
}

impl SignatureAlgorithm {
    /// Every algorithm, in declaration order.
    pub const ALL: [SignatureAlgorithm; 13] = [
        Self::HmacSha1,
        Self::HmacSha256,
        Self::HmacSha512,
        Self::Ed25519,
        Self::EcdsaP256Sha256,
        Self::EcdsaP256Sha256Der,
        Self::EcdsaP384Sha384,
        Self::EcdsaP384Sha384Der,
        Self::EcdsaP521Sha512,
        Self::RsaPkcs1Sha256,
        Self::RsaPkcs1Sha512,
        Self::RsaPssSha256,
        Self::RsaPssSha512,
    ];

    /// The name a spec writes.
    pub fn name(self) -> &'static str {
        match self {
            Self::HmacSha1 => "hmac-sha1",
            Self::HmacSha256 => "hmac-sha256",
            Self::HmacSha512 => "hmac-sha512",
            Self::Ed25519 => "ed25519",
            Self::EcdsaP256Sha256 => "ecdsa-p256-sha256",
            Self::EcdsaP256Sha256Der => "ecdsa-p256-sha256-der",
            Self::EcdsaP384Sha384 => "ecdsa-p384-sha384",
            Self::EcdsaP384Sha384Der => "ecdsa-p384-sha384-der",
            Self::EcdsaP521Sha512 => "ecdsa-p521-sha512",
            Self::RsaPkcs1Sha256 => "rsa-pkcs1-sha256",
            Self::RsaPkcs1Sha512 => "rsa-pkcs1-sha512",
            Self::RsaPssSha256 => "rsa-pss-sha256",
            Self::RsaPssSha512 => "rsa-pss-sha512",
        }
    }

    /// Whether the key is a secret both sides hold (an HMAC) rather than the provider's
    /// public key.
    pub fn is_secret(self) -> bool {
        matches!(self, Self::HmacSha1 | Self::HmacSha256 | Self::HmacSha512)
    }

    /// What the receiver holds, as reports and docs name it.
    pub fn key_noun(self) -> &'static str {
        if self.is_secret() {
            "HMAC secret"
        } else {
            "public key"
        }
    }

    /// The signature's length in bytes when it is fixed, the longest one otherwise (DER
    /// ECDSA, and RSA up to 4096-bit keys).
    pub fn signature_len(self) -> SignatureLen {
        match self {
            Self::HmacSha1 => SignatureLen::Exactly(20),
            Self::HmacSha256 => SignatureLen::Exactly(32),
            Self::HmacSha512 => SignatureLen::Exactly(64),
            Self::Ed25519 | Self::EcdsaP256Sha256 => SignatureLen::Exactly(64),
            Self::EcdsaP384Sha384 => SignatureLen::Exactly(96),
            Self::EcdsaP521Sha512 => SignatureLen::Exactly(132),
            Self::EcdsaP256Sha256Der => SignatureLen::AtMost(72),
            Self::EcdsaP384Sha384Der => SignatureLen::AtMost(104),
            Self::RsaPkcs1Sha256
            | Self::RsaPkcs1Sha512
            | Self::RsaPssSha256
            | Self::RsaPssSha512 => SignatureLen::AtMost(512),
        }
    }

    /// Its JWS `alg` name (RFC 7518), for algorithms a JWS can carry.
    pub fn jws_name(self) -> Option<&'static str> {
        Some(match self {
            Self::HmacSha256 => "HS256",
            Self::HmacSha512 => "HS512",
            Self::Ed25519 => "EdDSA",
            Self::EcdsaP256Sha256 => "ES256",
            Self::EcdsaP384Sha384 => "ES384",
            Self::EcdsaP521Sha512 => "ES512",
            Self::RsaPkcs1Sha256 => "RS256",
            Self::RsaPkcs1Sha512 => "RS512",
            Self::RsaPssSha256 => "PS256",
            Self::RsaPssSha512 => "PS512",
            Self::HmacSha1 | Self::EcdsaP256Sha256Der | Self::EcdsaP384Sha384Der => return None,
        })
    }

    /// A human name for docs (`HMAC-SHA256`, `ECDSA P-256 / SHA-256 (DER)`).
    pub fn describe(self) -> &'static str {
        match self {
            Self::HmacSha1 => "HMAC-SHA1",
            Self::HmacSha256 => "HMAC-SHA256",
            Self::HmacSha512 => "HMAC-SHA512",
            Self::Ed25519 => "Ed25519",
            Self::EcdsaP256Sha256 => "ECDSA P-256 / SHA-256 (r||s)",
            Self::EcdsaP256Sha256Der => "ECDSA P-256 / SHA-256 (DER)",
            Self::EcdsaP384Sha384 => "ECDSA P-384 / SHA-384 (r||s)",
            Self::EcdsaP384Sha384Der => "ECDSA P-384 / SHA-384 (DER)",
            Self::EcdsaP521Sha512 => "ECDSA P-521 / SHA-512 (r||s)",
            Self::RsaPkcs1Sha256 => "RSA PKCS#1 v1.5 / SHA-256",
            Self::RsaPkcs1Sha512 => "RSA PKCS#1 v1.5 / SHA-512",
            Self::RsaPssSha256 => "RSA-PSS / SHA-256",
            Self::RsaPssSha512 => "RSA-PSS / SHA-512",
        }
    }
}

/// How long a signature of an algorithm is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureLen {
    /// Always this many bytes.
    Exactly(usize),
    /// Up to this many bytes.
    AtMost(usize),
}

impl SignatureLen {
    /// Whether a decoded signature of `len` bytes can be one.
    pub fn admits(self, len: usize) -> bool {
        match self {
            SignatureLen::Exactly(n) => len == n,
            SignatureLen::AtMost(n) => len > 0 && len <= n,
        }
    }

    /// The longest signature.
    pub fn max(self) -> usize {
        match self {
            SignatureLen::Exactly(n) | SignatureLen::AtMost(n) => n,
        }
    }
}

/// One piece of a `signed` template, in order.
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
    /// `{url}`: the full URL the provider called (scheme, host, path and query), as the
    /// provider wrote it.
    Url,
    /// `{method}`: the request method, upper case.
    Method,
    /// `{path}`: the URL's path, without the query.
    Path,
    /// `{form}`: every parameter of a form body, sorted by name (then value), each
    /// written as its name then its value with no separator (Twilio's scheme).
    Form,
    /// `{form:NAME}`: that form parameter's value (empty when absent).
    FormParam(&'a str),
    /// `{field:PATH}`: a JSON body's field at the dotted `PATH`, strings without quotes
    /// and other values as JSON (empty when absent).
    Field(&'a str),
    /// `{signed_headers}`: each header the signature itself lists (a detached JWS's
    /// `headers_param`), as `Name: value` and a line feed, in the listed order.
    SignedHeaders,
    /// Any other `{...}`, by its inside.
    Unknown(&'a str),
    /// A `{` that is never closed, with everything from it on; always the last piece.
    Unclosed(&'a str),
}

impl SignedPiece<'_> {
    /// Whether the piece reads the request line (method or URL), which a verifier must be
    /// given.
    pub fn needs_target(&self) -> bool {
        matches!(self, Self::Url | Self::Method | Self::Path)
    }

    /// Whether signing the piece protects the payload (all of it, or the fields named).
    pub fn covers_body(&self) -> bool {
        matches!(self, Self::Body | Self::Form | Self::Field(_))
    }

    /// Whether the piece is a placeholder a verifier can fill (not an unknown or unclosed
    /// one); literal text counts as known.
    pub fn is_known(&self) -> bool {
        match self {
            Self::Unknown(_) | Self::Unclosed(_) => false,
            Self::Field(path) => path.split('.').all(|s| !s.is_empty()),
            _ => true,
        }
    }

    /// What the placeholder stands for, as the generated docs explain it; `None` for
    /// literal text and unknown placeholders.
    pub fn meaning(&self) -> Option<&'static str> {
        Some(match self {
            Self::Body => {
                "`{body}` is the raw request body exactly as received (never a re-serialized copy)"
            }
            Self::Timestamp => "`{timestamp}` is the timestamp text exactly as sent",
            Self::Header(_) => "`{header:NAME}` is the value of the request header `NAME`",
            Self::Url => {
                "`{url}` is the full URL the provider called (scheme, host, path and query), \
                 as configured at the provider"
            }
            Self::Method => "`{method}` is the request method",
            Self::Path => "`{path}` is the URL's path without the query",
            Self::Form => {
                "`{form}` is every form parameter of the body, sorted by name (then value), \
                 each written as its name followed by its value with no separator"
            }
            Self::FormParam(_) => {
                "`{form:NAME}` is the value of the form parameter `NAME` (empty when absent)"
            }
            Self::Field(_) => {
                "`{field:PATH}` is the body's JSON field at the dotted `PATH`, a string without \
                 its quotes and any other value as JSON (empty when absent)"
            }
            Self::SignedHeaders => {
                "`{signed_headers}` is each header the signature lists, in its order, written \
                 as the listed name, a colon, a space, the value and a line feed"
            }
            Self::Literal(_) | Self::Unknown(_) | Self::Unclosed(_) => return None,
        })
    }
}

/// The placeholders a template may use, as a loader names them in errors.
pub const SIGNED_PLACEHOLDERS: &str = "{body}, {timestamp}, {header:NAME}, {url}, {method}, \
     {path}, {form}, {form:NAME}, {field:PATH}, {signed_headers}";

/// A [`SignatureAuth::signed`] template split into its pieces: the one reading of the
/// template that validation, the verifier and the signer share.
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
        let inside = &rest[open + 1..close];
        pieces.push(match inside.split_once(':') {
            None => match inside {
                "body" => SignedPiece::Body,
                "timestamp" => SignedPiece::Timestamp,
                "url" => SignedPiece::Url,
                "method" => SignedPiece::Method,
                "path" => SignedPiece::Path,
                "form" => SignedPiece::Form,
                "signed_headers" => SignedPiece::SignedHeaders,
                _ => SignedPiece::Unknown(inside),
            },
            Some((_, "")) => SignedPiece::Unknown(inside),
            Some(("header", name)) => SignedPiece::Header(name),
            Some(("form", name)) => SignedPiece::FormParam(name),
            Some(("field", path)) => SignedPiece::Field(path),
            Some(_) => SignedPiece::Unknown(inside),
        });
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        pieces.push(SignedPiece::Literal(rest));
    }
    pieces
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
    /// How the time is written: Unix seconds (the default), Unix milliseconds or RFC 3339.
    #[serde(default, skip_serializing_if = "TimestampUnit::is_unix_seconds")]
    pub unit: TimestampUnit,
}

/// How a signed timestamp is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum TimestampUnit {
    /// Whole seconds since 1970 (`1700000000`).
    #[default]
    UnixSeconds,
    /// Milliseconds since 1970 (`1700000000000`).
    UnixMilliseconds,
    /// An RFC 3339 date and time (`2023-11-14T22:13:20Z`).
    Rfc3339,
}

impl TimestampUnit {
    fn is_unix_seconds(&self) -> bool {
        *self == TimestampUnit::UnixSeconds
    }

    /// The Unix seconds `text` stands for; `None` when it is not written this way.
    pub fn parse(self, text: &str) -> Option<i64> {
        let text = text.trim();
        match self {
            Self::UnixSeconds => text.parse().ok(),
            Self::UnixMilliseconds => text.parse::<i64>().ok().map(|ms| ms.div_euclid(1000)),
            Self::Rfc3339 => {
                time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                    .ok()
                    .map(time::OffsetDateTime::unix_timestamp)
            }
        }
    }

    /// `unix_seconds` written this way.
    pub fn write(self, unix_seconds: i64) -> String {
        match self {
            Self::UnixSeconds => unix_seconds.to_string(),
            Self::UnixMilliseconds => (unix_seconds * 1000).to_string(),
            Self::Rfc3339 => time::OffsetDateTime::from_unix_timestamp(unix_seconds)
                .ok()
                .and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_default(),
        }
    }

    /// How reports and docs name it.
    pub fn describe(self) -> &'static str {
        match self {
            Self::UnixSeconds => "Unix seconds",
            Self::UnixMilliseconds => "Unix milliseconds",
            Self::Rfc3339 => "an RFC 3339 date and time",
        }
    }
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
    /// A PEM block (`-----BEGIN PUBLIC KEY-----` ...): the key is its DER (public keys).
    Pem,
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
            Self::Pem => pem_der(text),
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
            Self::Pem => {
                let b64 = STANDARD.encode(raw);
                let lines: Vec<&str> = b64
                    .as_bytes()
                    .chunks(64)
                    .map(|c| std::str::from_utf8(c).unwrap_or_default())
                    .collect();
                format!(
                    "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
                    lines.join("\n")
                )
            }
        }
    }

    /// A short name for reports.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Utf8 => "text",
            Self::Base64 => "base64 (standard alphabet, padding optional)",
            Self::Base64url => "URL-safe base64 (padding optional)",
            Self::Hex => "hex (either case)",
            Self::Pem => "a PEM block",
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
            Self::Pem => {
                "it is a PEM block (`PUBLIC KEY`, or `RSA PUBLIC KEY` for RSA); its DER is the key"
            }
        }
    }
}

/// The DER inside the first PEM block of `text` (any label; the verifier checks the key
/// type). `None` without a complete block or with bad base64.
fn pem_der(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let start = text.find("-----BEGIN ")?;
    let after = &text[start + "-----BEGIN ".len()..];
    let label_end = after.find("-----")?;
    let label = &after[..label_end];
    let body = &after[label_end + 5..];
    let end = body.find(&format!("-----END {label}-----"))?;
    let b64: String = body[..end].split_ascii_whitespace().collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
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
            AuthScheme::Signature(s) => s.headers(),
            AuthScheme::Jwt(j) => vec![&j.header],
            AuthScheme::IdentifyingHeader(i) => vec![&i.header],
        }
    }

    /// The signature scheme, when this is one.
    pub fn as_signature(&self) -> Option<&SignatureAuth> {
        match self {
            AuthScheme::Signature(s) => Some(s),
            _ => None,
        }
    }

    /// Whether a receiver may skip the scheme when its header is absent (an optional
    /// signature scheme).
    pub fn is_optional(&self) -> bool {
        self.as_signature().is_some_and(|s| s.optional)
    }

    /// The JWT scheme, when this is one.
    pub fn as_jwt(&self) -> Option<&JwtAuth> {
        match self {
            AuthScheme::Jwt(j) => Some(j),
            _ => None,
        }
    }
}

impl SignatureAuth {
    /// The signature header, then the timestamp header when it has its own.
    pub fn headers(&self) -> Vec<&str> {
        let mut out = vec![&*self.header];
        if let Some(t) = self.timestamp.as_ref().and_then(|t| t.header.as_deref()) {
            out.push(t);
        }
        out
    }

    /// Whether the signed template reads the request's method or URL.
    pub fn signs_target(&self) -> bool {
        signed_pieces(&self.signed)
            .iter()
            .any(SignedPiece::needs_target)
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
