//! Signing a delivery as the spec says the provider does, and the attacks on it.

use std::time::SystemTime;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use hookspec_codegen::model::{
    signed_pieces, AuthScheme, AuthorizationKind, HmacAlgorithm, HmacAuth, JwtAuth, ProviderSpec,
    SecretEncoding, SignatureEncoding, SignedPiece,
};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use sha2::{Digest, Sha256, Sha512};

use crate::attack::Attack;
use crate::keys::{public_jwk, test_signing_key};

pub use hookspec_core::{AuthorizationValue, Credentials};

/// What the provider signs with.
#[derive(Clone)]
pub struct SigningCredentials {
    /// The JWT signing key (JWT schemes).
    pub jwt_key: Option<SigningKey>,
    /// The key id the JWT names.
    pub kid: String,
    /// What the provider shares with the receiver: HMAC secrets as the receiver configures
    /// them (prefix and encoding included; one signature entry per secret, as during a
    /// rotation), the `Authorization` value it sends (the first) and its identifying
    /// header's value (the first client id).
    pub shared: Credentials,
}

impl std::fmt::Debug for SigningCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningCredentials")
            .field("jwt_key", &self.jwt_key.is_some())
            .field("kid", &self.kid)
            .field("shared", &self.shared)
            .finish()
    }
}

impl SigningCredentials {
    /// Deterministic **test** credentials for every scheme `provider` has: the JWT key is
    /// [`test_signing_key`]`("<provider> jwt")` under kid `hookspec-test-<provider>-1`,
    /// the HMAC secret is `hookspec test secret for <provider> #1` (encoded as the scheme
    /// expects), Basic `hookspec-test` / `hookspec test password` (or a Bearer token where
    /// Basic is not offered), client id `hookspec-test-client`. Public, not secret.
    pub fn test(provider: &ProviderSpec) -> Self {
        let name = &provider.provider;
        let mut creds = SigningCredentials {
            jwt_key: None,
            kid: format!("hookspec-test-{name}-1"),
            shared: Credentials::default(),
        };
        for scheme in &provider.auth {
            match scheme {
                AuthScheme::Jwt(_) => {
                    creds.jwt_key = Some(test_signing_key(&format!("{name} jwt")))
                }
                AuthScheme::Hmac(h) => {
                    creds.shared.hmac_secrets = vec![test_secret(
                        h,
                        &format!("hookspec test secret for {name} #1"),
                    )]
                }
                AuthScheme::Authorization(a) => {
                    creds.shared.authorization =
                        vec![if a.schemes.contains(&AuthorizationKind::Basic) {
                            AuthorizationValue::Basic {
                                user: "hookspec-test".into(),
                                password: "hookspec test password".into(),
                            }
                        } else {
                            AuthorizationValue::Bearer("hookspec-test-token".into())
                        }]
                }
                AuthScheme::IdentifyingHeader(_) => {
                    creds.shared.client_ids = vec!["hookspec-test-client".into()]
                }
            }
        }
        creds
    }
}

/// `raw` written as a receiver would configure it for `scheme` (prefix, base64).
pub(crate) fn test_secret(scheme: &HmacAuth, raw: &str) -> String {
    let body = match scheme.secret.encoding {
        SecretEncoding::Utf8 => raw.to_owned(),
        SecretEncoding::Base64 => STANDARD.encode(raw),
    };
    format!(
        "{}{body}",
        scheme.secret.strip_prefix.as_deref().unwrap_or("")
    )
}

/// A delivery to send: headers (without `Content-Type`) and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// Headers, in a stable order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The `VerifyError::kind` a correct verifier answers with, for this provider.
    pub expected_error: &'static str,
}

/// Signs deliveries for one provider.
pub struct Signer<'s> {
    spec: &'s ProviderSpec,
    credentials: SigningCredentials,
}

/// How one signed request departs from an honest one.
#[derive(Default)]
struct Tweak {
    jwt_key: Option<SigningKey>,
    kid: Option<String>,
    alg: Option<&'static str>,
    iat_offset: i64,
    hmac_secrets: Option<Vec<String>>,
    hmac_label: Option<String>,
    truncate: bool,
    authorization: Option<AuthorizationValue>,
    client_id: Option<String>,
    drop_header: Option<String>,
}

impl<'s> Signer<'s> {
    /// A signer for `spec` with `credentials`.
    pub fn new(spec: &'s ProviderSpec, credentials: SigningCredentials) -> Self {
        Signer { spec, credentials }
    }

    /// The spec it signs for.
    pub fn spec(&self) -> &'s ProviderSpec {
        self.spec
    }

    /// Its credentials.
    pub fn credentials(&self) -> &SigningCredentials {
        &self.credentials
    }

    /// Every auth header for `body` signed at `now`, plus the spec's fixed delivery
    /// headers (not `Content-Type`).
    pub fn sign(&self, body: &[u8], now: SystemTime) -> Vec<(String, String)> {
        self.headers(body, now, &Tweak::default())
    }

    /// The key id a retired key is served under by [`Signer::public_jwks`].
    pub fn retired_kid(&self) -> String {
        format!("{}-retired", self.credentials.kid)
    }

    /// The JWKs a key endpoint serves for this signer: its current key (`expired_at`
    /// null) and a retired test key (`expired_at` set) used by
    /// [`Attack::ExpiredKey`]. Empty without a JWT key.
    pub fn public_jwks(&self) -> Vec<serde_json::Value> {
        let Some(key) = &self.credentials.jwt_key else {
            return Vec::new();
        };
        let mut retired = public_jwk(&self.retired_key(), &self.retired_kid());
        retired["expired_at"] = serde_json::json!(1);
        vec![public_jwk(key, &self.credentials.kid), retired]
    }

    fn retired_key(&self) -> SigningKey {
        test_signing_key(&format!("{} retired jwt", self.spec.provider))
    }

    /// The attacks that apply to this provider's schemes, in [`Attack::ALL`] order.
    pub fn attacks(&self) -> Vec<Attack> {
        let probe = b"{}";
        Attack::ALL
            .into_iter()
            .filter(|a| self.attack(*a, probe, SystemTime::UNIX_EPOCH).is_some())
            .collect()
    }

    /// `attack` on a delivery of `body` at `now`; `None` when it does not apply here.
    pub fn attack(&self, attack: Attack, body: &[u8], now: SystemTime) -> Option<SignedRequest> {
        let name = &self.spec.provider;
        let jwt = self.spec.auth.iter().find_map(|s| match s {
            AuthScheme::Jwt(j) if self.credentials.jwt_key.is_some() => Some(j),
            _ => None,
        });
        let hmac = self.spec.auth.iter().find_map(|s| match s {
            AuthScheme::Hmac(h) if !self.credentials.shared.hmac_secrets.is_empty() => Some(h),
            _ => None,
        });
        let authorization = self.credentials.shared.authorization.first().filter(|_| {
            self.spec
                .auth
                .iter()
                .any(|s| matches!(s, AuthScheme::Authorization(_)))
        });
        let identifying = self.credentials.shared.client_ids.first().filter(|_| {
            self.spec
                .auth
                .iter()
                .any(|s| matches!(s, AuthScheme::IdentifyingHeader(_)))
        });
        let hmac_timestamp = hmac.and_then(|h| h.timestamp.as_ref());
        let hmac_labelled =
            hmac.filter(|h| h.format.scheme.is_some() && h.format.label_separator.is_some());
        let mut tweak = Tweak::default();
        let body = body.to_vec();
        let mut expected = attack.expected_error();
        match attack {
            Attack::MissingHeader => {
                tweak.drop_header = Some(first_header(self.spec.auth.first()?))
            }
            Attack::WrongKey => {
                jwt?;
                tweak.jwt_key = Some(test_signing_key(&format!("{name} wrong jwt")));
            }
            Attack::WrongSecret => {
                tweak.hmac_secrets = Some(vec![test_secret(hmac?, "hookspec wrong secret")]);
            }
            Attack::WrongCredentials => {
                tweak.authorization = Some(match authorization? {
                    AuthorizationValue::Basic { user, .. } => AuthorizationValue::Basic {
                        user: user.clone(),
                        password: "hookspec wrong password".into(),
                    },
                    AuthorizationValue::Bearer(_) => {
                        AuthorizationValue::Bearer("hookspec-wrong-token".into())
                    }
                })
            }
            Attack::UnknownClient => {
                identifying?;
                tweak.client_id = Some("hookspec-unknown-client".into());
            }
            Attack::TamperedBody => {
                let signs_body = hmac.is_some_and(|h| h.signed.contains("{body}"));
                if jwt.is_none() && !signs_body {
                    return None;
                }
                if jwt.is_none() {
                    expected = "no_matching_signature";
                }
                let signed = self.headers(&body, now, &tweak);
                return Some(SignedRequest {
                    headers: signed,
                    body: tamper(&body),
                    expected_error: expected,
                });
            }
            Attack::ExpiredIat | Attack::FutureIat => {
                let (past, ahead) = match (jwt, hmac_timestamp) {
                    (Some(j), _) => (j.max_age.get().as_secs(), Some(j.future_skew)),
                    (None, Some(t)) => (t.tolerance.get().as_secs(), t.future_tolerance()),
                    (None, None) => return None,
                };
                // A provider that checks only the past sends no timestamp a receiver must
                // refuse for being ahead.
                let ahead = match attack {
                    Attack::FutureIat => ahead?.get().as_secs(),
                    _ => 0,
                };
                tweak.iat_offset = match attack {
                    Attack::ExpiredIat => -(i64::try_from(past).ok()? + 60),
                    _ => i64::try_from(ahead).ok()? + 60,
                };
            }
            Attack::AlgNone => {
                jwt?;
                tweak.alg = Some("none");
            }
            Attack::AlgHs256 => {
                jwt?;
                tweak.alg = Some("HS256");
            }
            Attack::UnknownKid => {
                jwt?;
                tweak.jwt_key = Some(test_signing_key(&format!("{name} unknown jwt")));
                tweak.kid = Some("hookspec-unknown-kid".into());
            }
            Attack::ExpiredKey => {
                jwt?;
                tweak.jwt_key = Some(self.retired_key());
                tweak.kid = Some(self.retired_kid());
            }
            Attack::OtherSchemeOnly => {
                let label = hmac_labelled?.format.scheme.as_deref()?;
                tweak.hmac_label = Some(if label == "v0" { "x0" } else { "v0" }.into());
            }
            Attack::TruncatedSignature => {
                if jwt.is_none() && hmac.is_none() {
                    return None;
                }
                tweak.truncate = true;
            }
        }
        let headers = self.headers(&body, now, &tweak);
        Some(SignedRequest {
            headers,
            body,
            expected_error: expected,
        })
    }

    fn headers(&self, body: &[u8], now: SystemTime, tweak: &Tweak) -> Vec<(String, String)> {
        let creds = &self.credentials;
        let client_id = tweak.client_id.as_ref().or(creds.shared.client_ids.first());
        let identifying: Vec<&str> = self
            .spec
            .auth
            .iter()
            .filter_map(|s| match s {
                AuthScheme::IdentifyingHeader(h) => Some(&*h.header),
                _ => None,
            })
            .collect();
        let mut out: Vec<(String, String)> = Vec::new();
        for h in &self.spec.delivery.headers {
            let value = if identifying.iter().any(|i| i.eq_ignore_ascii_case(&h.name)) {
                client_id.cloned()
            } else {
                h.value.clone().or_else(|| h.example.clone())
            };
            if let Some(v) = value {
                set(&mut out, &h.name, v);
            }
        }
        let now_secs = unix_seconds(now) + tweak.iat_offset;
        for scheme in &self.spec.auth {
            match scheme {
                AuthScheme::Authorization(a) => {
                    if let Some(v) = tweak
                        .authorization
                        .as_ref()
                        .or(creds.shared.authorization.first())
                    {
                        set(&mut out, &a.header, v.header_value());
                    }
                }
                AuthScheme::IdentifyingHeader(h) => {
                    if let Some(id) = client_id {
                        set(&mut out, &h.header, id.clone());
                    }
                }
                AuthScheme::Jwt(j) => {
                    let Some(key) = tweak.jwt_key.as_ref().or(creds.jwt_key.as_ref()) else {
                        continue;
                    };
                    let kid = tweak.kid.as_deref().unwrap_or(&creds.kid);
                    let token = jwt_token(j, key, kid, tweak.alg, now_secs, body, tweak.truncate);
                    set(&mut out, &j.header, token);
                }
                AuthScheme::Hmac(h) => {
                    let secrets = tweak
                        .hmac_secrets
                        .as_ref()
                        .unwrap_or(&creds.shared.hmac_secrets);
                    if secrets.is_empty() {
                        continue;
                    }
                    let label = tweak.hmac_label.as_deref().or(h.format.scheme.as_deref());
                    hmac_headers(&mut out, h, secrets, label, now_secs, body, tweak.truncate);
                }
            }
        }
        if let Some(drop) = &tweak.drop_header {
            out.retain(|(n, _)| !n.eq_ignore_ascii_case(drop));
        }
        out
    }
}

/// Replaces a header of the same name (case-insensitive) or appends it.
fn set(headers: &mut Vec<(String, String)>, name: &str, value: String) {
    match headers
        .iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
    {
        Some(slot) => slot.1 = value,
        None => headers.push((name.to_owned(), value)),
    }
}

fn first_header(scheme: &AuthScheme) -> String {
    scheme.headers()[0].to_owned()
}

/// The body with a field added after its opening brace (or a space appended when it is
/// not a JSON object): same meaning to a lax reader, different bytes.
fn tamper(body: &[u8]) -> Vec<u8> {
    match body.iter().position(|b| !b.is_ascii_whitespace()) {
        Some(i) if body[i] == b'{' => {
            let rest = &body[i + 1..];
            let empty = rest.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'}');
            let insert: &[u8] = if empty {
                b"\"tampered\":true"
            } else {
                b"\"tampered\":true,"
            };
            [&body[..=i], insert, rest].concat()
        }
        _ => [body, b" "].concat(),
    }
}

fn unix_seconds(now: SystemTime) -> i64 {
    match now.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

fn encode(encoding: SignatureEncoding, bytes: &[u8]) -> String {
    match encoding {
        SignatureEncoding::HexUpper => hex(bytes).to_ascii_uppercase(),
        SignatureEncoding::HexLower => hex(bytes),
        SignatureEncoding::Base64 => STANDARD.encode(bytes),
        SignatureEncoding::Base64url => URL_SAFE_NO_PAD.encode(bytes),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A compact JWT as the scheme describes (`alg` overridden for the confusion attacks).
fn jwt_token(
    scheme: &JwtAuth,
    key: &SigningKey,
    kid: &str,
    alg: Option<&str>,
    iat: i64,
    body: &[u8],
    truncate: bool,
) -> String {
    let kid_field = scheme.kid_header();
    let alg = alg.unwrap_or("ES256");
    let mut head = serde_json::Map::new();
    head.insert("alg".into(), alg.into());
    head.insert(kid_field.into(), kid.into());
    head.insert("typ".into(), "JWT".into());
    let mut claims = serde_json::Map::new();
    claims.insert(scheme.issued_at_claim.to_string(), iat.into());
    claims.insert(
        scheme.body_hash.claim.to_string(),
        encode(scheme.body_hash.encoding, &Sha256::digest(body)).into(),
    );
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::Value::Object(head).to_string()),
        URL_SAFE_NO_PAD.encode(serde_json::Value::Object(claims).to_string())
    );
    let signature: Vec<u8> = match alg {
        "none" => Vec::new(),
        "HS256" => {
            let public = key.verifying_key().to_encoded_point(false);
            let mut mac =
                Hmac::<Sha256>::new_from_slice(public.as_bytes()).expect("HMAC takes any key");
            mac.update(input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        _ => {
            let signature: Signature = key.sign(input.as_bytes());
            signature.to_bytes().to_vec()
        }
    };
    let mut signature = URL_SAFE_NO_PAD.encode(signature);
    if truncate {
        signature.truncate(signature.len() / 2);
    }
    format!("{input}.{signature}")
}

/// The HMAC header(s): one entry per secret, plus the timestamp where the scheme has one.
fn hmac_headers(
    out: &mut Vec<(String, String)>,
    scheme: &HmacAuth,
    secrets: &[String],
    label: Option<&str>,
    now_secs: i64,
    body: &[u8],
    truncate: bool,
) {
    let timestamp = now_secs.to_string();
    let mut entries = Vec::new();
    if let Some(ts) = &scheme.timestamp {
        match (&ts.header, &ts.label) {
            (Some(name), _) => set(out, name, timestamp.clone()),
            (None, Some(l)) => entries.push(format!(
                "{l}{}{timestamp}",
                scheme.format.label_separator.as_deref().unwrap_or("=")
            )),
            (None, None) => {}
        }
    }
    let message = render(&scheme.signed, body, &timestamp, out);
    for secret in secrets {
        let key = secret_key(scheme, secret);
        let mut signature = encode(scheme.encoding, &mac(scheme.algorithm, &key, &message));
        if truncate {
            signature.truncate(signature.len() / 2);
        }
        entries.push(match (label, &scheme.format.label_separator) {
            (Some(l), Some(sep)) => format!("{l}{sep}{signature}"),
            _ => signature,
        });
        if scheme.format.separator.is_none() {
            break; // one signature per header
        }
    }
    let joined = entries.join(scheme.format.separator.as_deref().unwrap_or(""));
    set(out, &scheme.header, joined);
}

/// The signed template with `{body}`, `{timestamp}` and `{header:NAME}` filled in.
fn render(template: &str, body: &[u8], timestamp: &str, headers: &[(String, String)]) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in signed_pieces(template) {
        match piece {
            SignedPiece::Literal(text) | SignedPiece::Unclosed(text) => {
                out.extend_from_slice(text.as_bytes())
            }
            SignedPiece::Body => out.extend_from_slice(body),
            SignedPiece::Timestamp => out.extend_from_slice(timestamp.as_bytes()),
            SignedPiece::Header(name) | SignedPiece::Unknown(name) => {
                if let Some((_, v)) = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
                    out.extend_from_slice(v.as_bytes());
                }
            }
        }
    }
    out
}

fn secret_key(scheme: &HmacAuth, secret: &str) -> Vec<u8> {
    // A secret not in the provider's encoding signs with its text, so the receiver refuses it.
    scheme
        .secret
        .key(secret)
        .unwrap_or_else(|| scheme.secret.strip(secret).as_bytes().to_vec())
}

fn mac(algorithm: HmacAlgorithm, key: &[u8], message: &[u8]) -> Vec<u8> {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
        let mut mac =
            <M as hmac::digest::KeyInit>::new_from_slice(key).expect("HMAC takes any key");
        mac.update(message);
        mac.finalize().into_bytes().to_vec()
    }
    match algorithm {
        HmacAlgorithm::Sha256 => run::<Hmac<Sha256>>(key, message),
        HmacAlgorithm::Sha512 => run::<Hmac<Sha512>>(key, message),
        HmacAlgorithm::Sha1 => run::<Hmac<sha1::Sha1>>(key, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tamper_changes_bytes_and_keeps_json_objects_json() {
        let t = tamper(b"{\n  \"a\": 1\n}");
        assert_eq!(t, b"{\"tampered\":true,\n  \"a\": 1\n}");
        assert_eq!(tamper(b"{}"), b"{\"tampered\":true}");
        assert_eq!(tamper(b"[1]"), b"[1] ");
    }

    #[test]
    fn render_fills_every_placeholder() {
        let headers = vec![("Webhook-Id".to_owned(), "msg_1".to_owned())];
        let out = render(
            "{header:webhook-id}.{timestamp}.{body}",
            b"{}",
            "17",
            &headers,
        );
        assert_eq!(out, b"msg_1.17.{}");
    }
}
