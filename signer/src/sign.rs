//! Signing a delivery as the spec says the provider does, and the attacks on it.

use std::time::SystemTime;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use hookspec_codegen::check::infer_event;
use hookspec_codegen::model::header_ref;
use hookspec_codegen::model::{
    signed_pieces, AuthScheme, AuthorizationKind, Generate, JwtAuth, ProviderSpec, SecretFormat,
    SignatureAlgorithm, SignatureAuth, SignatureEncoding, SignatureLen, SignedPiece,
};

/// The header value that names an event no spec has.
pub const UNKNOWN_EVENT: &str = "hookspec_unknown_event";
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use sha2::{Digest, Sha256, Sha512};

use crate::attack::Attack;
use crate::keys::{public_jwk, test_signing_key};
use crate::private_key::PrivateKey;
use hookspec_runtime::verify::pieces;

pub use hookspec_core::{AuthorizationValue, Credentials};

/// What the provider signs with.
#[derive(Clone)]
pub struct SigningCredentials {
    /// The JWT signing key (JWT schemes).
    pub jwt_key: Option<SigningKey>,
    /// The key id the JWT names.
    pub kid: String,
    /// The seed of the provider's private key (public-key signature schemes: Ed25519,
    /// ECDSA, RSA); its public key goes to the receiver in `shared.public_keys`.
    pub signing_seed: Option<[u8; 32]>,
    /// The provider's own private key as a PEM block (`sign --private-key`), used instead
    /// of the seed's; its public half must be among `shared.public_keys` for a receiver.
    pub private_key_pem: Option<String>,
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
            .field("signing_seed", &self.signing_seed.is_some())
            .field("private_key_pem", &self.private_key_pem.is_some())
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
        Self::from_texts(
            provider,
            &Texts {
                kid: format!("hookspec-test-{name}-1"),
                jwt_label: format!("{name} jwt"),
                hmac_secret: format!("hookspec test secret for {name} #1"),
                signing_label: format!("hookspec test ed25519 key: {name}"),
                user: "hookspec-test".into(),
                password: "hookspec test password".into(),
                token: "hookspec-test-token".into(),
                client_id: "hookspec-test-client".into(),
            },
        )
    }

    /// Credentials like [`SigningCredentials::test`] but every secret, key and id derived
    /// from `label`: two labels give credentials that share nothing, so a test can hold one
    /// set back (a fuzzer that never sees it cannot sign with it).
    pub fn derived(provider: &ProviderSpec, label: &str) -> Self {
        let name = &provider.provider;
        let word = |what: &str| {
            let digest = Sha256::digest(format!("{label}: {what} for {name}"));
            STANDARD.encode(&digest[..18])
        };
        Self::from_texts(
            provider,
            &Texts {
                kid: format!("{name}-{}", word("kid")),
                jwt_label: format!("{label}: {name} jwt"),
                hmac_secret: word("hmac secret"),
                signing_label: format!("{label}: {name} ed25519"),
                user: word("user"),
                password: word("password"),
                token: word("token"),
                client_id: word("client id"),
            },
        )
    }

    fn from_texts(provider: &ProviderSpec, t: &Texts) -> Self {
        let mut creds = SigningCredentials {
            jwt_key: None,
            kid: t.kid.clone(),
            signing_seed: None,
            private_key_pem: None,
            shared: Credentials::default(),
        };
        for scheme in &provider.auth {
            match scheme {
                AuthScheme::Jwt(_) => creds.jwt_key = Some(test_signing_key(&t.jwt_label)),
                AuthScheme::Signature(h) if h.algorithm.is_secret() => {
                    creds.shared.hmac_secrets = vec![test_secret(&h.key, t.hmac_secret.as_bytes())]
                }
                AuthScheme::Signature(h) => {
                    // The label keeps its old wording so Ed25519 test keys stay the same.
                    let seed: [u8; 32] = Sha256::digest(&t.signing_label).into();
                    creds.signing_seed = Some(seed);
                    if let Some(key) = PrivateKey::new(h.algorithm, &seed) {
                        creds.shared.public_keys = vec![key.public_key(&h.key)];
                    }
                }
                AuthScheme::Authorization(a) => {
                    creds.shared.authorization =
                        vec![if a.schemes.contains(&AuthorizationKind::Basic) {
                            AuthorizationValue::Basic {
                                user: t.user.clone(),
                                password: t.password.clone(),
                            }
                        } else {
                            AuthorizationValue::Bearer(t.token.clone())
                        }]
                }
                AuthScheme::IdentifyingHeader(_) => {
                    creds.shared.client_ids = vec![t.client_id.clone()]
                }
            }
        }
        creds
    }
}

/// The texts test credentials are made from.
struct Texts {
    kid: String,
    jwt_label: String,
    hmac_secret: String,
    signing_label: String,
    user: String,
    password: String,
    token: String,
    client_id: String,
}

impl SigningCredentials {
    /// The public halves of `pem` (the provider's own key) as `spec`'s public-key schemes
    /// write them for a receiver; an error when the key does not fit a scheme.
    pub fn public_keys_of(spec: &ProviderSpec, pem: &str) -> Result<Vec<String>, String> {
        spec.auth
            .iter()
            .filter_map(AuthScheme::as_signature)
            .filter(|h| !h.algorithm.is_secret())
            .map(|h| {
                PrivateKey::from_pem(h.algorithm, pem)
                    .map(|key| key.public_key(&h.key))
                    .map_err(|e| format!("{} private key: {e}", spec.provider))
            })
            .collect()
    }

    /// Whether every secret and key is written as `spec` says, so nothing is signed with
    /// a key the receiver would read differently: the message names the secret and the
    /// encoding expected.
    pub fn check(&self, spec: &ProviderSpec) -> Result<(), String> {
        for scheme in &spec.auth {
            let Some(h) = scheme.as_signature() else {
                continue;
            };
            let given = if h.algorithm.is_secret() {
                &self.shared.hmac_secrets
            } else {
                &self.shared.public_keys
            };
            let (what, format) = (h.algorithm.key_noun(), &h.key);
            if let (Some(pem), false) = (&self.private_key_pem, h.algorithm.is_secret()) {
                PrivateKey::from_pem(h.algorithm, pem)
                    .map_err(|e| format!("{} private key: {e}", spec.provider))?;
            }
            for (i, secret) in given.iter().enumerate() {
                if format.key(secret).is_none() {
                    return Err(format!(
                        "{} {what} #{i} is not written as the provider writes them: expected {}",
                        spec.provider,
                        format.describe()
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Key bytes written as a receiver would configure them for `format` (prefix, base64).
pub(crate) fn test_secret(format: &SecretFormat, raw: &[u8]) -> String {
    format.write(raw)
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
    ids: IdSource,
    target: Target,
}

/// The request line a signature over the URL or method covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The method, upper case.
    pub method: String,
    /// The full URL the delivery is sent to.
    pub url: String,
}

impl Target {
    /// Where a signer sends when not told: `POST https://receiver.example/webhooks/<provider>`.
    pub fn default_for(provider: &str) -> Self {
        Target {
            method: "POST".into(),
            url: format!("https://receiver.example/webhooks/{provider}"),
        }
    }
}

/// Where generated ids come from: the system's random generator, or (for files that must
/// be the same on every run, such as test vectors) a hash of a label and a counter.
enum IdSource {
    Random,
    Seeded {
        label: String,
        counter: std::sync::atomic::AtomicU64,
    },
}

impl IdSource {
    fn fill(&self, out: &mut [u8]) {
        match self {
            IdSource::Random => {
                use ring::rand::SecureRandom as _;
                // The system's generator does not fail on supported platforms; zeros would
                // only make ids repeat, which the idempotency tests would notice.
                let _ = ring::rand::SystemRandom::new().fill(out);
            }
            IdSource::Seeded { label, counter } => {
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                for (block, chunk) in out.chunks_mut(32).enumerate() {
                    let digest = Sha256::new()
                        .chain_update(label.as_bytes())
                        .chain_update(n.to_be_bytes())
                        .chain_update((block as u64).to_be_bytes())
                        .finalize();
                    chunk.copy_from_slice(&digest[..chunk.len()]);
                }
            }
        }
    }
}

/// How one signed request departs from an honest one.
#[derive(Default)]
struct Tweak {
    jwt_key: Option<SigningKey>,
    kid: Option<String>,
    alg: Option<&'static str>,
    iat_offset: i64,
    omit_iat: bool,
    hmac_secrets: Option<Vec<String>>,
    hmac_key_bytes: Option<Vec<u8>>,
    signing_seed: Option<[u8; 32]>,
    hmac_label: Option<String>,
    truncate: bool,
    key_url: Option<String>,
    authorization: Option<AuthorizationValue>,
    client_id: Option<String>,
    drop_header: Option<String>,
}

impl<'s> Signer<'s> {
    /// A signer for `spec` with `credentials`.
    pub fn new(spec: &'s ProviderSpec, credentials: SigningCredentials) -> Self {
        Signer {
            spec,
            credentials,
            ids: IdSource::Random,
            target: Target::default_for(&spec.provider),
        }
    }

    /// The same signer sending as `method` to `url` (what a scheme over the URL signs).
    pub fn to(self, method: &str, url: &str) -> Self {
        Signer {
            target: Target {
                method: method.to_owned(),
                url: url.to_owned(),
            },
            ..self
        }
    }

    /// Where it sends.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The same signer with generated ids (UUIDs, tokens) derived from `label` and a
    /// counter instead of drawn at random, so a fixed sequence of calls signs the same
    /// headers on every run (test vectors, snapshots). Never for real deliveries.
    pub fn seeded(self, label: &str) -> Self {
        Signer {
            ids: IdSource::Seeded {
                label: label.to_owned(),
                counter: 0.into(),
            },
            ..self
        }
    }

    /// The spec it signs for.
    pub fn spec(&self) -> &'s ProviderSpec {
        self.spec
    }

    /// Its credentials.
    pub fn credentials(&self) -> &SigningCredentials {
        &self.credentials
    }

    /// Every auth header for `body` signed at `now`, plus the spec's delivery headers
    /// (not `Content-Type`), generated ones made afresh.
    pub fn sign(&self, body: &[u8], now: SystemTime) -> Vec<(String, String)> {
        self.headers(body, now, &Tweak::default(), &[])
    }

    /// As [`Signer::sign`], with `given` header values used as they are (a published test
    /// vector's id and timestamp, or a redelivery's id): a signed template reads them, and
    /// a given timestamp header is the time signed.
    pub fn sign_with(
        &self,
        body: &[u8],
        now: SystemTime,
        given: &[(String, String)],
    ) -> Vec<(String, String)> {
        self.headers(body, now, &Tweak::default(), given)
    }

    /// As [`Signer::sign`], with every HMAC keyed by `key` exactly (no decoding): what a
    /// receiver that reads the configured secret the wrong way would check against.
    pub fn sign_with_key_bytes(
        &self,
        body: &[u8],
        now: SystemTime,
        key: &[u8],
    ) -> Vec<(String, String)> {
        let tweak = Tweak {
            hmac_key_bytes: Some(key.to_vec()),
            ..Tweak::default()
        };
        self.headers(body, now, &tweak, &[])
    }

    /// The generated ids among the headers of a first delivery, which a redelivery of the
    /// same event keeps (pass them to [`Signer::sign_with`]); times are made afresh.
    pub fn redelivery(&self, first: &[(String, String)]) -> Vec<(String, String)> {
        self.spec
            .delivery
            .headers
            .iter()
            .filter(|h| matches!(h.generate, Some(Generate::Uuid | Generate::Token { .. })))
            .filter_map(|h| first.iter().find(|(n, _)| n.eq_ignore_ascii_case(&h.name)))
            .cloned()
            .collect()
    }

    /// The provider-side HMAC of `value` (the first `hmac` scheme's algorithm and
    /// signature encoding, the first shared secret): what a receiver holding the secret
    /// puts in a `{hmac:…}` handshake answer. `None` without an HMAC scheme or secret.
    pub fn hmac_of(&self, value: &[u8]) -> Option<String> {
        let scheme = self
            .spec
            .auth
            .iter()
            .filter_map(AuthScheme::as_signature)
            .find(|s| s.algorithm.is_secret())?;
        let secret = self.credentials.shared.hmac_secrets.first()?;
        let key = secret_key(&scheme.key, secret);
        Some(encode(scheme.encoding, &mac(scheme.algorithm, &key, value)))
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
        // The first required signature scheme the signer can sign.
        let layout = self
            .spec
            .auth
            .iter()
            .filter_map(AuthScheme::as_signature)
            .find(|h| {
                !h.optional
                    && if h.algorithm.is_secret() {
                        !self.credentials.shared.hmac_secrets.is_empty()
                    } else {
                        self.credentials.signing_seed.is_some()
                    }
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
        let signed_timestamp = layout.and_then(|l| l.timestamp.as_ref());
        let labelled =
            layout.filter(|l| l.format.scheme.is_some() && l.format.label_separator.is_some());
        let mut tweak = Tweak::default();
        let body = body.to_vec();
        let mut expected = attack.expected_error();
        match attack {
            Attack::MissingHeader => {
                let required = self.spec.auth.iter().find(|s| !s.is_optional())?;
                tweak.drop_header = Some(first_header(required))
            }
            Attack::WrongKey => {
                jwt?;
                tweak.jwt_key = Some(test_signing_key(&format!("{name} wrong jwt")));
            }
            Attack::WrongSecret => {
                let h = layout?;
                if h.algorithm.is_secret() {
                    tweak.hmac_secrets = Some(vec![test_secret(&h.key, b"hookspec wrong secret")]);
                } else {
                    // Another key of the same kind (the first byte's parity picks the
                    // other RSA test key).
                    let mut seed = self.credentials.signing_seed?;
                    seed[0] ^= 1;
                    tweak.signing_seed = Some(seed);
                }
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
                let signs_body = layout.is_some_and(|l| {
                    signed_pieces(&l.signed).iter().any(|p| {
                        matches!(
                            p,
                            SignedPiece::Body | SignedPiece::Form | SignedPiece::Field(_)
                        )
                    })
                });
                if jwt.is_none() && !signs_body {
                    return None;
                }
                if jwt.is_none() {
                    expected = "no_matching_signature";
                }
                let signed = self.headers(&body, now, &tweak, &[]);
                return Some(SignedRequest {
                    headers: signed,
                    body: tamper(&body),
                    expected_error: expected,
                });
            }
            Attack::ExpiredIat | Attack::FutureIat => {
                let (past, ahead) = match (jwt, signed_timestamp) {
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
            Attack::MissingIat => {
                jwt?;
                tweak.omit_iat = true;
            }
            // A JWT or a detached JWS claiming another algorithm than the scheme's.
            Attack::AlgNone => {
                if jwt.is_none() && layout.is_none_or(|l| l.jws.is_none()) {
                    return None;
                }
                tweak.alg = Some("none");
            }
            Attack::AlgHs256 => {
                if jwt.is_none() && layout.is_none_or(|l| l.jws.is_none()) {
                    return None;
                }
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
                let label = labelled?.format.scheme.as_deref()?;
                tweak.hmac_label = Some(if label == "v0" { "x0" } else { "v0" }.into());
            }
            Attack::KeyUrlNotAllowed => {
                layout?.jws.as_ref()?.key_url_param.as_ref()?;
                tweak.key_url = Some("https://keys.attacker.example/.well-known/jwks".into());
            }
            Attack::TruncatedSignature => {
                if jwt.is_none() && layout.is_none() {
                    return None;
                }
                // A signature of no fixed length (DER ECDSA, RSA) one byte short is still
                // well formed: it is refused as not matching.
                if jwt.is_none()
                    && layout.is_some_and(|l| {
                        matches!(l.algorithm.signature_len(), SignatureLen::AtMost(_))
                    })
                {
                    expected = "no_matching_signature";
                }
                tweak.truncate = true;
            }
        }
        let headers = self.headers(&body, now, &tweak, &[]);
        Some(SignedRequest {
            headers,
            body,
            expected_error: expected,
        })
    }

    fn headers(
        &self,
        body: &[u8],
        now: SystemTime,
        tweak: &Tweak,
        given: &[(String, String)],
    ) -> Vec<(String, String)> {
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
            } else if let Some(g) = &h.generate {
                Some(generate(g, now, &self.ids))
            } else {
                h.value.clone().or_else(|| h.example.clone())
            };
            if let Some(v) = value {
                set(&mut out, &h.name, v);
            }
        }
        // Where the provider names events in headers, the body's event sets them (a body of
        // no known event gets a name no event has).
        if self
            .spec
            .discriminator
            .iter()
            .any(|d| header_ref(d).is_some())
        {
            let event = serde_json::from_slice(body)
                .ok()
                .and_then(|v| infer_event(self.spec, &v));
            for d in &self.spec.discriminator {
                if let Some(name) = header_ref(d) {
                    let value = event
                        .and_then(|e| e.when.get(d))
                        .map_or(UNKNOWN_EVENT, |v| v);
                    set(&mut out, name, value.to_owned());
                }
            }
        }
        for (name, value) in given {
            set(&mut out, name, value.clone());
        }
        // A given timestamp header is the time signed, read in the scheme's unit.
        let given_time = |ts: Option<&hookspec_codegen::model::SignedTimestamp>| {
            let ts = ts?;
            let header = ts.header.as_deref()?;
            let (_, v) = given.iter().find(|(n, _)| n.eq_ignore_ascii_case(header))?;
            ts.unit.parse(v)
        };
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
                    let iat = (!tweak.omit_iat).then_some(now_secs);
                    let token = jwt_token(j, key, kid, tweak.alg, iat, body, tweak.truncate);
                    set(&mut out, &j.header, token);
                }
                AuthScheme::Signature(h) => {
                    let keys: Vec<Key> = if let (Some(bytes), true) =
                        (&tweak.hmac_key_bytes, h.algorithm.is_secret())
                    {
                        vec![Key::Hmac(h.algorithm, bytes.clone())]
                    } else if h.algorithm.is_secret() {
                        tweak
                            .hmac_secrets
                            .as_ref()
                            .unwrap_or(&creds.shared.hmac_secrets)
                            .iter()
                            .map(|s| Key::Hmac(h.algorithm, secret_key(&h.key, s)))
                            .collect()
                    } else {
                        // An attack's other key, else the provider's own, else the seed's.
                        let own = || {
                            creds
                                .private_key_pem
                                .as_deref()
                                .and_then(|pem| PrivateKey::from_pem(h.algorithm, pem).ok())
                        };
                        let seeded = |seed: Option<[u8; 32]>| {
                            seed.and_then(|seed| PrivateKey::new(h.algorithm, &seed))
                        };
                        seeded(tweak.signing_seed)
                            .or_else(own)
                            .or_else(|| seeded(creds.signing_seed))
                            .map(|k| Key::Private(h.algorithm, Box::new(k)))
                            .into_iter()
                            .collect()
                    };
                    if keys.is_empty() {
                        continue;
                    }
                    let label = tweak.hmac_label.as_deref().or(h.format.scheme.as_deref());
                    let time = given_time(h.timestamp.as_ref()).unwrap_or(now_secs);
                    let request = Signed {
                        body,
                        target: &self.target,
                        content_type: &self.spec.delivery.content_type,
                        kid: tweak.kid.as_deref().unwrap_or(&creds.kid),
                        alg: tweak.alg,
                        key_url: tweak.key_url.as_deref(),
                        truncate: tweak.truncate,
                    };
                    signature_headers(&mut out, h, &keys, label, time, &request);
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
    iat: Option<i64>,
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
    if let Some(iat) = iat {
        claims.insert(scheme.issued_at_claim.to_string(), iat.into());
    }
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

/// A key a signature header is made with.
enum Key {
    Hmac(SignatureAlgorithm, Vec<u8>),
    Private(SignatureAlgorithm, Box<PrivateKey>),
}

impl Key {
    fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            Key::Hmac(algorithm, key) => mac(*algorithm, key, message),
            Key::Private(algorithm, key) => key.sign(*algorithm, message),
        }
    }
}

/// What a signature covers beyond headers: the body and the request line; and how an
/// attack bends it.
struct Signed<'a> {
    body: &'a [u8],
    target: &'a Target,
    /// The `Content-Type` sent (the signer's headers leave it out, a JWS may list it).
    content_type: &'a str,
    /// The key id a JWS names.
    kid: &'a str,
    /// An `alg` a JWS claims instead of the scheme's (`none`: no signature).
    alg: Option<&'static str>,
    /// A key-set URL a JWS names instead of the provider's first.
    key_url: Option<&'a str>,
    truncate: bool,
}

/// A signature header: one entry per key, plus the timestamp where the scheme has one.
/// A header another scheme already wrote (Standard Webhooks puts `v1,` and `v1a,` in one)
/// gets the new entries appended.
fn signature_headers(
    out: &mut Vec<(String, String)>,
    scheme: &SignatureAuth,
    keys: &[Key],
    label: Option<&str>,
    now_secs: i64,
    request: &Signed<'_>,
) {
    let timestamp = scheme
        .timestamp
        .as_ref()
        .map_or_else(|| now_secs.to_string(), |t| t.unit.write(now_secs));
    let mut entries = Vec::new();
    if let Some(jws) = &scheme.jws {
        if let Some(ts) = scheme.timestamp.as_ref().and_then(|t| t.header.as_deref()) {
            set(out, ts, timestamp.clone());
        }
        let listed: Vec<&str> = jws.signs_headers.iter().map(|h| &**h).collect();
        let payload = render(&scheme.signed, request, &timestamp, out, &listed);
        let value = detached_jws(scheme, jws, &keys[0], &listed, &payload, request);
        set(out, &scheme.header, value);
        return;
    }
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
    let message = render(&scheme.signed, request, &timestamp, out, &[]);
    for key in keys {
        let mut bytes = key.sign(&message);
        let variable = matches!(scheme.algorithm.signature_len(), SignatureLen::AtMost(_));
        if request.truncate && variable {
            bytes.pop();
        }
        let mut signature = encode(scheme.encoding, &bytes);
        if request.truncate && !variable {
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
    let separator = scheme.format.separator.as_deref().unwrap_or("");
    let mut joined = entries.join(separator);
    if let Some((_, earlier)) = out
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(&scheme.header))
        .filter(|_| !separator.is_empty())
    {
        joined = format!("{earlier}{separator}{joined}");
    }
    set(out, &scheme.header, joined);
}

/// A detached JWS over `payload`: the protected header (the scheme's `alg` unless an
/// attack claims another, the key id, the required parameters, the listed headers), two
/// full stops and the signature of `<protected>.<base64url(payload)>`.
fn detached_jws(
    scheme: &SignatureAuth,
    jws: &hookspec_codegen::model::DetachedJws,
    key: &Key,
    listed: &[&str],
    payload: &[u8],
    request: &Signed<'_>,
) -> String {
    let mut protected = serde_json::Map::new();
    let alg = request
        .alg
        .or(scheme.algorithm.jws_name())
        .unwrap_or("none");
    protected.insert("alg".into(), alg.into());
    protected.insert("kid".into(), request.kid.into());
    for (name, value) in jws.requires.iter() {
        protected.insert(name.into(), value.into());
    }
    if let Some(param) = &jws.headers_param {
        protected.insert(param.to_string(), listed.join(",").into());
    }
    if let Some(param) = &jws.key_url_param {
        let url = request.key_url.or(jws.key_urls.first().map(|u| &**u));
        if let Some(url) = url {
            protected.insert(param.to_string(), url.into());
        }
    }
    let protected = URL_SAFE_NO_PAD.encode(serde_json::Value::Object(protected).to_string());
    let input = format!("{protected}.{}", URL_SAFE_NO_PAD.encode(payload));
    let signature = if alg == "none" {
        Vec::new()
    } else {
        key.sign(input.as_bytes())
    };
    let mut signature = encode(scheme.encoding, &signature);
    if request.truncate {
        signature.truncate(signature.len() / 2);
    }
    format!("{protected}..{signature}")
}

/// A fresh value for a generated header.
fn generate(how: &Generate, now: SystemTime, ids: &IdSource) -> String {
    let length = match how {
        Generate::Token { length, .. } => *length as usize,
        _ => 16,
    };
    let mut random = vec![0u8; length];
    ids.fill(&mut random);
    match how {
        Generate::Uuid => {
            let bytes: [u8; 16] = random[..16].try_into().unwrap_or_default();
            uuid::Builder::from_random_bytes(bytes)
                .into_uuid()
                .to_string()
        }
        Generate::UnixSeconds => unix_seconds(now).to_string(),
        Generate::Rfc3339 => time::OffsetDateTime::from(now)
            .replace_nanosecond(0)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default(),
        Generate::Token { prefix, .. } => {
            const ALPHABET: &[u8; 62] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
            // 256 = 4 * 62 + 8: the slight bias does not matter for test ids.
            let random = random
                .iter()
                .map(|b| char::from(ALPHABET[usize::from(*b) % 62]));
            prefix.chars().chain(random).collect()
        }
    }
}

/// The signed template filled in from the request: body, timestamp, headers, request line,
/// form parameters and JSON fields.
fn render(
    template: &str,
    request: &Signed<'_>,
    timestamp: &str,
    headers: &[(String, String)],
    listed: &[&str],
) -> Vec<u8> {
    let body = request.body;
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
            SignedPiece::Url => out.extend_from_slice(request.target.url.as_bytes()),
            SignedPiece::Method => out.extend_from_slice(request.target.method.as_bytes()),
            SignedPiece::Path => {
                out.extend_from_slice(pieces::url_path(&request.target.url).as_bytes())
            }
            SignedPiece::Form => out.extend_from_slice(&pieces::sorted_form(body)),
            SignedPiece::FormParam(name) => out.extend_from_slice(&pieces::form_param(body, name)),
            SignedPiece::SignedHeaders => {
                for name in listed {
                    let value = headers
                        .iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case(name))
                        .map(|(_, v)| v.as_str())
                        .or_else(|| {
                            name.eq_ignore_ascii_case("content-type")
                                .then_some(request.content_type)
                        })
                        .unwrap_or("");
                    pieces::listed_header(&mut out, name, value.as_bytes());
                }
            }
            SignedPiece::Field(path) => {
                // A body that is not JSON signs no field (the verifier refuses it).
                if let Ok(value) = serde_json::from_slice(body) {
                    out.extend_from_slice(&pieces::json_field(&value, path));
                }
            }
        }
    }
    out
}

fn secret_key(format: &SecretFormat, secret: &str) -> Vec<u8> {
    // Front ends check secrets first (`SigningCredentials::check`); one that still slips
    // through signs with its text, which the receiver refuses, rather than aborting a run.
    format
        .key(secret)
        .unwrap_or_else(|| format.strip(secret).as_bytes().to_vec())
}

fn mac(algorithm: SignatureAlgorithm, key: &[u8], message: &[u8]) -> Vec<u8> {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
        let mut mac =
            <M as hmac::digest::KeyInit>::new_from_slice(key).expect("HMAC takes any key");
        mac.update(message);
        mac.finalize().into_bytes().to_vec()
    }
    match algorithm {
        SignatureAlgorithm::HmacSha512 => run::<Hmac<Sha512>>(key, message),
        SignatureAlgorithm::HmacSha1 => run::<Hmac<sha1::Sha1>>(key, message),
        // Only HMAC algorithms reach here (`Key::Hmac`).
        _ => run::<Hmac<Sha256>>(key, message),
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
        let target = Target {
            method: "POST".into(),
            url: "https://h.example/cb?x=1".into(),
        };
        let request = |body: &'static [u8]| Signed {
            body,
            target: &target,
            content_type: "application/json",
            kid: "k",
            alg: None,
            key_url: None,
            truncate: false,
        };
        let out = render(
            "{header:webhook-id}.{timestamp}.{body}",
            &request(b"{}"),
            "17",
            &headers,
            &[],
        );
        assert_eq!(out, b"msg_1.17.{}");
        let out = render(
            "{method} {path}|{url}{form}|{form:b}",
            &request(b"b=2&a=1+x&a=0"),
            "17",
            &headers,
            &[],
        );
        assert_eq!(out, b"POST /cb|https://h.example/cb?x=1a0a1 xb2|2");
        let out = render(
            "{field:a.b}:{field:n}:{field:none}",
            &request(br#"{"a":{"b":"s"},"n":1.50}"#),
            "17",
            &headers,
            &[],
        );
        assert_eq!(out, b"s:1.50:");
    }
}
