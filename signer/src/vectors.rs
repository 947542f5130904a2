//! Cross-language test vectors: signed deliveries with the outcome a correct verifier
//! reaches, so a receiver in any language can check itself against the same cases.

use std::time::{Duration, SystemTime};

use hookspec_codegen::model::{AuthScheme, ProviderSpec};
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
            "headers": headers.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
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
