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
    for spec in specs() {
        let a = Signer::new(&spec, SigningCredentials::test(&spec));
        let b = Signer::new(&spec, SigningCredentials::test(&spec));
        assert_eq!(a.sign(b"{}", now), b.sign(b"{}", now), "{}", spec.provider);
        let binds_body = spec.auth.iter().any(|s| {
            use hookspec_codegen::model::AuthScheme;
            matches!(s, AuthScheme::Jwt(_) | AuthScheme::Hmac(_))
        });
        assert_eq!(
            a.sign(b"{}", now) != a.sign(b"{ }", now),
            binds_body,
            "{}: the body is bound exactly when the provider signs it",
            spec.provider
        );
        assert_eq!(test_vectors(&spec), test_vectors(&spec));
        for attack in a.attacks() {
            assert_eq!(a.attack(attack, b"{}", now), b.attack(attack, b"{}", now));
        }
    }
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
