//! Cross-language test vectors: signed deliveries with the outcome a correct verifier
//! reaches, so a receiver in any language can check itself against the same cases.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use hookspec_codegen::model::{
    AuthScheme, ProviderSpec, SecretEncoding, SignatureAuth, SignatureEncoding,
};
use serde_json::{json, Value};

use crate::attack::Attack;
use crate::sign::{test_secret, AuthorizationValue, Signer, SigningCredentials};

/// The clock every vector is signed and checked at: 2023-11-14T22:13:20Z.
pub const VECTOR_CLOCK: u64 = 1_700_000_000;

/// The HTTP status a verifier answers for an error kind (as `VerifyError::status`).
fn status_of(kind: &str) -> u16 {
    match kind {
        "source_not_allowed" | "unknown_client" => 403,
        "key_unavailable" => 503,
        "no_target" => 500,
        _ => 401,
    }
}

/// The test vectors of `spec` as JSON: the test material a verifier is configured with,
/// then one case per positive delivery and per [`Attack`] that applies, each with the
/// headers, body, clock and expected outcome. Deterministic: ES256 signatures follow
/// RFC 6979, the clock is [`VECTOR_CLOCK`] and generated ids are seeded.
pub fn test_vectors(spec: &ProviderSpec) -> Value {
    let credentials = SigningCredentials::test(spec);
    let label = format!("{} test vectors", spec.provider);
    let signer = Signer::new(spec, credentials.clone()).seeded(&label);
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(VECTOR_CLOCK);
    let body = spec
        .events
        .iter()
        .flat_map(|e| e.examples.first())
        .next()
        .cloned()
        .unwrap_or_else(|| "{}".to_owned());

    // Where a scheme signs the request line, each case says where it was sent.
    let target = spec
        .auth
        .iter()
        .filter_map(AuthScheme::as_signature)
        .any(|s| s.signs_target())
        .then(|| signer.target().clone());
    // A detached JWS that lists `Content-Type` signs it, so its cases carry it.
    let content_type = spec
        .auth
        .iter()
        .filter_map(AuthScheme::as_signature)
        .filter_map(|s| s.jws.as_ref())
        .any(|j| {
            j.signs_headers
                .iter()
                .any(|h| h.eq_ignore_ascii_case("content-type"))
        })
        .then(|| {
            (
                "Content-Type".to_owned(),
                spec.delivery.content_type.clone(),
            )
        });
    let mut cases = Vec::new();
    let case = |id: &str,
                description: &str,
                headers: &[(String, String)],
                body: &[u8],
                error: Option<&str>| {
        let expected = match error {
            None => json!({"accept": true}),
            Some(kind) => json!({"accept": false, "error": kind, "status": status_of(kind)}),
        };
        let mut case = json!({
            "id": id,
            "description": description,
            "now": VECTOR_CLOCK,
            "headers": content_type
                .iter()
                .chain(headers)
                .map(|(n, v)| json!([n, v]))
                .collect::<Vec<_>>(),
            "body": String::from_utf8_lossy(body),
            "expected": expected,
        });
        if let Some(t) = &target {
            case["method"] = t.method.clone().into();
            case["url"] = t.url.clone().into();
        }
        case
    };
    if !spec.auth.is_empty() {
        let headers = signer.sign(body.as_bytes(), now);
        cases.push(case(
            "valid",
            "signed as the provider does",
            &headers,
            body.as_bytes(),
            None,
        ));
    }
    for scheme in &spec.auth {
        if let AuthScheme::Signature(h) = scheme {
            if h.rotation.as_ref().is_some_and(|r| r.max_active >= 2)
                && h.format.separator.is_some()
            {
                if !h.algorithm.is_secret() {
                    continue;
                }
                let previous = test_secret(
                    &h.key,
                    format!("hookspec test secret for {} #0", spec.provider).as_bytes(),
                );
                let mut both = credentials.clone();
                both.shared.hmac_secrets =
                    vec![credentials.shared.hmac_secrets[0].clone(), previous.clone()];
                let headers = Signer::new(spec, both)
                    .seeded(&label)
                    .sign(body.as_bytes(), now);
                cases.push(case(
                    "rotation-current-and-previous",
                    "during a rotation: one entry per live secret, the receiver knows the current one",
                    &headers,
                    body.as_bytes(),
                    None,
                ));
                let mut old = credentials.clone();
                old.shared.hmac_secrets = vec![previous];
                let headers = Signer::new(spec, old)
                    .seeded(&label)
                    .sign(body.as_bytes(), now);
                cases.push(case(
                    "rotation-previous-only",
                    "signed only with the previous secret, which the receiver has dropped",
                    &headers,
                    body.as_bytes(),
                    Some("no_matching_signature"),
                ));
            }
        }
    }
    for attack in Attack::ALL {
        if let Some(request) = signer.attack(attack, body.as_bytes(), now) {
            cases.push(case(
                attack.id(),
                attack.description(),
                &request.headers,
                &request.body,
                Some(request.expected_error),
            ));
        }
    }

    if let Some(h) = spec
        .auth
        .iter()
        .filter_map(AuthScheme::as_signature)
        .find(|h| !h.optional)
    {
        let edges = Edges {
            scheme: h,
            signer: &signer,
            body: body.as_bytes(),
            now,
        };
        for e in edges.cases() {
            let mut c = case(e.id, e.description, &e.headers, body.as_bytes(), e.error);
            if let Some(secret) = e.secret {
                c["hmac_secrets"] = json!([secret]);
            }
            cases.push(c);
        }
    }

    let mut material = serde_json::Map::new();
    material.insert(
        "notice".into(),
        "Test keys and secrets made for these vectors. They are derived from public labels, \
         so they are not secret: never use them for anything real."
            .into(),
    );
    let jwks = signer.public_jwks();
    if !jwks.is_empty() {
        material.insert("jwks".into(), jwks.into());
    }
    let shared = &credentials.shared;
    if !shared.hmac_secrets.is_empty() {
        material.insert("hmac_secrets".into(), shared.hmac_secrets.clone().into());
    }
    // Public keys as the provider writes them (Discord: hex), for public-key schemes.
    if !shared.public_keys.is_empty() {
        material.insert("public_keys".into(), shared.public_keys.clone().into());
    }
    if let Some(auth) = shared.authorization.first() {
        let value = match auth {
            AuthorizationValue::Basic { user, password } => {
                json!({"scheme": "basic", "user": user, "password": password})
            }
            AuthorizationValue::Bearer(token) => json!({"scheme": "bearer", "token": token}),
        };
        material.insert("authorization".into(), value);
    }
    if !shared.client_ids.is_empty() {
        material.insert("client_ids".into(), json!(shared.client_ids));
    }

    json!({
        "$schema": crate::VECTORS_SCHEMA_FILE,
        "description": format!(
            "Verification test vectors for {} webhooks, generated by `cargo xtask generate` \
             from spec/{}.yaml. Configure a verifier with test_material (source-address \
             checks off), then run each case at its `now` (Unix seconds): it must accept or \
             refuse it as `expected` says. Headers are [name, value] pairs; the body is the \
             exact bytes as UTF-8.",
            spec.title, spec.provider
        ),
        "provider": spec.provider,
        "schemes": serde_json::to_value(&spec.auth).unwrap_or(Value::Null),
        "test_material": material,
        "cases": cases,
    })
}

/// A case derived from the scheme's model for the mistakes real verifiers make: the
/// tolerance's edges, a valid entry after a wrong one, hex in the other case, and the
/// secret read the wrong way.
struct Edge {
    id: &'static str,
    description: &'static str,
    headers: Vec<(String, String)>,
    error: Option<&'static str>,
    /// A secret of the case's own, replacing the test material's.
    secret: Option<String>,
}

struct Edges<'a> {
    scheme: &'a SignatureAuth,
    signer: &'a Signer<'a>,
    body: &'a [u8],
    now: SystemTime,
}

impl Edges<'_> {
    fn edge(
        &self,
        id: &'static str,
        description: &'static str,
        headers: Vec<(String, String)>,
        error: Option<&'static str>,
    ) -> Edge {
        Edge {
            id,
            description,
            headers,
            error,
            secret: None,
        }
    }

    fn cases(&self) -> Vec<Edge> {
        let mut out = Vec::new();
        let h = self.scheme;
        let honest = self.signer.sign(self.body, self.now);
        if let Some(ts) = &h.timestamp {
            let tolerance = ts.tolerance.get();
            let signed_at = |d: Duration, ahead: bool| {
                let at = if ahead { self.now + d } else { self.now - d };
                self.signer.sign(self.body, at)
            };
            out.push(self.edge(
                "timestamp-at-tolerance",
                "signed exactly the tolerance ago: still accepted",
                signed_at(tolerance, false),
                None,
            ));
            out.push(self.edge(
                "timestamp-past-tolerance",
                "signed the tolerance and one second ago: refused",
                signed_at(tolerance + Duration::from_secs(1), false),
                Some("token_too_old"),
            ));
            match ts.future_tolerance() {
                Some(ahead) => {
                    out.push(self.edge(
                        "timestamp-ahead-at-tolerance",
                        "dated exactly the tolerance ahead of the clock: still accepted",
                        signed_at(ahead.get(), true),
                        None,
                    ));
                    out.push(self.edge(
                        "timestamp-ahead-past-tolerance",
                        "dated the tolerance and one second ahead: refused",
                        signed_at(ahead.get() + Duration::from_secs(1), true),
                        Some("token_from_future"),
                    ));
                }
                None => out.push(self.edge(
                    "timestamp-far-ahead",
                    "dated a day ahead: accepted, as the provider checks only the past (a receiver clock running behind)",
                    signed_at(Duration::from_secs(86_400), true),
                    None,
                )),
            }
        }
        if let Some(headers) = self.valid_after_wrong(&honest) {
            out.push(self.edge(
                "valid-entry-after-a-wrong-one",
                "a wrong signature first, the valid one second: accepted (every entry is tried)",
                headers,
                None,
            ));
        }
        if let Some(headers) = self.hex_other_case(&honest) {
            out.push(self.edge(
                "hex-in-the-other-case",
                "the hex signature in the other letter case: accepted (hex is compared case-insensitively)",
                headers,
                None,
            ));
        }
        out.extend(self.misread_secret());
        out
    }

    /// The signature header's value in `headers`.
    fn value<'h>(&self, headers: &'h [(String, String)]) -> Option<&'h str> {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(&self.scheme.header))
            .map(|(_, v)| v.as_str())
    }

    fn with_value(&self, headers: &[(String, String)], value: String) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(n, v)| {
                if n.eq_ignore_ascii_case(&self.scheme.header) {
                    (n.clone(), value.clone())
                } else {
                    (n.clone(), v.clone())
                }
            })
            .collect()
    }

    /// Whether a header entry is a signature of the accepted label.
    fn is_signature(&self, entry: &str) -> bool {
        match (
            &self.scheme.format.scheme,
            &self.scheme.format.label_separator,
        ) {
            (Some(label), Some(sep)) => entry.trim().starts_with(&format!("{label}{sep}")),
            _ => true,
        }
    }

    fn valid_after_wrong(&self, honest: &[(String, String)]) -> Option<Vec<(String, String)>> {
        let sep = self.scheme.format.separator.as_deref()?;
        let wrong = self
            .signer
            .attack(Attack::WrongSecret, self.body, self.now)?;
        let (right, wrong) = (self.value(honest)?, self.value(&wrong.headers)?);
        let rights: Vec<&str> = right.split(sep).collect();
        let wrongs: Vec<&str> = wrong
            .split(sep)
            .filter(|e| self.is_signature(e) && !rights.contains(e))
            .collect();
        if wrongs.is_empty() {
            return None;
        }
        let others = rights.iter().filter(|e| !self.is_signature(e));
        let sigs = rights.iter().filter(|e| self.is_signature(e));
        let entries: Vec<&str> = others.chain(&wrongs).chain(sigs).copied().collect();
        Some(self.with_value(honest, entries.join(sep)))
    }

    fn hex_other_case(&self, honest: &[(String, String)]) -> Option<Vec<(String, String)>> {
        let flip: fn(&str) -> String = match self.scheme.encoding {
            SignatureEncoding::HexLower => str::to_ascii_uppercase,
            SignatureEncoding::HexUpper => str::to_ascii_lowercase,
            _ => return None,
        };
        let value = self.value(honest)?;
        let label_sep = self.scheme.format.label_separator.as_deref();
        let flip_entry = |e: &str| -> String {
            if !self.is_signature(e) {
                return e.to_owned();
            }
            match label_sep.and_then(|s| e.split_once(s).map(|(l, v)| (l, s, v))) {
                Some((label, s, sig)) => format!("{label}{s}{}", flip(sig)),
                None => flip(e),
            }
        };
        let flipped = match self.scheme.format.separator.as_deref() {
            Some(sep) => value
                .split(sep)
                .map(flip_entry)
                .collect::<Vec<_>>()
                .join(sep),
            None => flip_entry(value),
        };
        (flipped != value).then(|| self.with_value(honest, flipped))
    }

    /// The secret read the wrong way. A text secret (the key is its UTF-8 bytes) gets a
    /// case secret shaped like an encoded one (`whsec_` and base64), signed with its text
    /// (accepted) and with its base64 decoded (refused); an encoded secret is signed with
    /// its undecoded text (refused).
    fn misread_secret(&self) -> Vec<Edge> {
        let h = self.scheme;
        if !h.algorithm.is_secret() {
            return Vec::new();
        }
        let Some(given) = self.signer.credentials().shared.hmac_secrets.first() else {
            return Vec::new();
        };
        match h.key.encoding {
            SecretEncoding::Utf8 => {
                let raw: Vec<u8> = (0u8..24).map(|i| i.wrapping_mul(37) ^ 0x5a).collect();
                let encoded = base64::engine::general_purpose::STANDARD.encode(&raw);
                let prefix = h.key.strip_prefix.as_deref().unwrap_or("");
                let secret = format!("{prefix}whsec_{encoded}");
                let text_key = h.key.strip(&secret).as_bytes().to_vec();
                let mut accepted = self.edge(
                    "secret-text-is-the-key",
                    "a secret that looks encoded (`whsec_` and base64) is used as its text: accepted",
                    self.signer.sign_with_key_bytes(self.body, self.now, &text_key),
                    None,
                );
                accepted.secret = Some(secret.clone());
                let mut refused = self.edge(
                    "secret-decoded-by-mistake",
                    "signed with that secret's base64 decoded, which the provider never does: refused",
                    self.signer.sign_with_key_bytes(self.body, self.now, &raw),
                    Some("no_matching_signature"),
                );
                refused.secret = Some(secret);
                vec![accepted, refused]
            }
            _ => {
                let text = h.key.strip(given).as_bytes().to_vec();
                if h.key.key(given).as_deref() == Some(&text[..]) {
                    return Vec::new();
                }
                vec![self.edge(
                    "secret-used-undecoded",
                    "signed with the secret's text instead of the bytes it encodes: refused",
                    self.signer.sign_with_key_bytes(self.body, self.now, &text),
                    Some("no_matching_signature"),
                )]
            }
        }
    }
}
