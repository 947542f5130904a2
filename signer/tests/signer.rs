//! Determinism and shapes of what the signer makes (that it verifies is tested in the
//! `hookspec` crate against the real verifier).

use std::time::{Duration, SystemTime};

use hookspec_signer::{
    public_jwk, test_signing_key, test_vectors, Attack, Signer, SigningCredentials,
};

fn specs() -> Vec<hookspec_codegen::model::ProviderSpec> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    hookspec_codegen::load_dir(&dir)
        .unwrap()
        .into_iter()
        .map(|s| s.spec)
        .collect()
}

#[test]
fn signing_and_vectors_are_deterministic() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    fn seeded(spec: &hookspec_codegen::model::ProviderSpec) -> Signer<'_> {
        Signer::new(spec, SigningCredentials::test(spec)).seeded("determinism")
    }
    for spec in specs() {
        let (a, b) = (seeded(&spec), seeded(&spec));
        assert_eq!(a.sign(b"{}", now), b.sign(b"{}", now), "{}", spec.provider);
        let binds_body = spec.auth.iter().any(|s| {
            use hookspec_codegen::model::AuthScheme;
            matches!(s, AuthScheme::Jwt(_) | AuthScheme::Signature(_))
        });
        assert_eq!(
            seeded(&spec).sign(b"{}", now) != seeded(&spec).sign(b"{ }", now),
            binds_body,
            "{}: the body is bound exactly when the provider signs it",
            spec.provider
        );
        assert_eq!(test_vectors(&spec), test_vectors(&spec));
        for attack in a.attacks() {
            assert_eq!(
                seeded(&spec).attack(attack, b"{}", now),
                seeded(&spec).attack(attack, b"{}", now)
            );
        }
    }
}

#[test]
fn generated_ids_are_fresh_per_delivery_unless_seeded() {
    use hookspec_codegen::model::Generate;
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let mut providers = 0;
    for spec in specs() {
        let ids: Vec<&str> = spec
            .delivery
            .headers
            .iter()
            .filter(|h| matches!(h.generate, Some(Generate::Uuid | Generate::Token { .. })))
            .map(|h| h.name.as_str())
            .collect();
        if ids.is_empty() {
            continue;
        }
        providers += 1;
        let value = |headers: &[(String, String)], name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("{}: {name} is sent", spec.provider))
        };
        let random = Signer::new(&spec, SigningCredentials::test(&spec));
        let seeded = Signer::new(&spec, SigningCredentials::test(&spec)).seeded("x");
        let (first, second) = (random.sign(b"{}", now), random.sign(b"{}", now));
        let (s1, s2) = (seeded.sign(b"{}", now), seeded.sign(b"{}", now));
        for name in &ids {
            assert_ne!(
                value(&first, name),
                value(&second, name),
                "{}",
                spec.provider
            );
            assert_ne!(value(&s1, name), value(&s2, name), "{}", spec.provider);
            // A redelivery keeps the first delivery's id.
            let again = random.sign_with(b"{}", now, &random.redelivery(&first));
            assert_eq!(
                value(&first, name),
                value(&again, name),
                "{}",
                spec.provider
            );
        }
    }
    assert!(
        providers > 0,
        "no spec generates ids; the test checks nothing"
    );
}

#[test]
fn test_keys_depend_only_on_their_label() {
    assert_eq!(
        test_signing_key("x").to_bytes(),
        test_signing_key("x").to_bytes()
    );
    assert_ne!(
        test_signing_key("x").to_bytes(),
        test_signing_key("y").to_bytes()
    );
    let jwk = public_jwk(&test_signing_key("x"), "kid-1");
    let keys: Vec<&str> = jwk
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "alg",
            "created_at",
            "crv",
            "expired_at",
            "kid",
            "kty",
            "use",
            "x",
            "y"
        ]
    );
    assert_eq!(
        jwk["x"].as_str().unwrap().len(),
        43,
        "32 bytes of base64url"
    );
    assert!(jwk["expired_at"].is_null());
}

#[test]
fn attack_ids_are_unique_kebab_case() {
    let mut ids: Vec<&str> = Attack::ALL.iter().map(Attack::id).collect();
    assert!(ids.iter().all(|id| id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit())));
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), Attack::ALL.len());
}

#[test]
fn hmac_of_is_the_schemes_mac_of_the_value() {
    use hookspec_codegen::model::{AuthScheme, SignatureEncoding};
    let mut checked = 0;
    for mut spec in specs() {
        let Some(AuthScheme::Signature(scheme)) = spec.auth.iter_mut().find(|s| {
            matches!(s, AuthScheme::Signature(h)
                if h.algorithm == hookspec_codegen::model::SignatureAlgorithm::HmacSha256)
        }) else {
            continue;
        };
        // The well-known HMAC-SHA256 vector: key "key", the quick brown fox.
        scheme.encoding = SignatureEncoding::Base64;
        scheme.key = Default::default();
        let mut credentials = SigningCredentials::test(&spec);
        credentials.shared.hmac_secrets = vec!["key".into()];
        let signer = Signer::new(&spec, credentials);
        assert_eq!(
            signer
                .hmac_of(b"The quick brown fox jumps over the lazy dog")
                .as_deref(),
            Some("97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg="),
            "{}",
            spec.provider
        );
        checked += 1;
    }
    assert!(checked > 0, "no spec has an HMAC-SHA256 scheme");
}
