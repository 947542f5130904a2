//! Deterministic test keys and their public JWKs.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::SigningKey;
use sha2::{Digest, Sha256};

/// Prefix hashed with a label into a test key's scalar.
const SEED_PREFIX: &str = "hookspec test key: ";

/// A P-256 key derived from `sha256("hookspec test key: " + label)`. **Not secret**:
/// anyone can derive it from the label. For tests and test vectors only.
pub fn test_signing_key(label: &str) -> SigningKey {
    let mut counter = 0u32;
    loop {
        // A digest is a valid scalar unless it is zero or not below the group order,
        // which is astronomically unlikely; re-hash with a counter if it ever happens.
        let mut hasher = Sha256::new();
        hasher.update(SEED_PREFIX.as_bytes());
        hasher.update(label.as_bytes());
        if counter > 0 {
            hasher.update(counter.to_be_bytes());
        }
        if let Ok(key) = SigningKey::from_bytes(&hasher.finalize()) {
            return key;
        }
        counter += 1;
    }
}

/// The public JWK of `key` in Plaid's shape: `alg`, `crv`, `kid`, `kty`, `use`, `x`,
/// `y`, `created_at` (0: a fixed value for test material) and `expired_at` (`null`).
pub fn public_jwk(key: &SigningKey, kid: &str) -> serde_json::Value {
    let point = key.verifying_key().to_encoded_point(false);
    let coordinate = |c: Option<&p256::FieldBytes>| c.map(|b| URL_SAFE_NO_PAD.encode(b));
    serde_json::json!({
        "alg": "ES256",
        "created_at": 0,
        "crv": "P-256",
        "expired_at": null,
        "kid": kid,
        "kty": "EC",
        "use": "sig",
        "x": coordinate(point.x()),
        "y": coordinate(point.y()),
    })
}

/// The RFC 7638 thumbprint of `key`'s public JWK: base64url of the SHA-256 of its
/// required members in lexicographic order without whitespace
/// (`{"crv":"P-256","kty":"EC","x":…,"y":…}`). Two keys never share one.
pub fn jwk_thumbprint(key: &SigningKey) -> String {
    let point = key.verifying_key().to_encoded_point(false);
    let coordinate = |c: Option<&p256::FieldBytes>| c.map(|b| URL_SAFE_NO_PAD.encode(b));
    let canonical = format!(
        r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
        coordinate(point.x()).unwrap_or_default(),
        coordinate(point.y()).unwrap_or_default()
    );
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// An Ed25519 signing key as a provider hands it out: base64 (standard or URL-safe,
/// padded or not) of the 32-byte seed, or of the 64-byte seed-and-public-key form, after
/// an optional `prefix_` such as Standard Webhooks' `whsk_`. Returns the seed.
pub fn ed25519_seed_from_text(text: &str) -> Result<[u8; 32], String> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let decode = |t: &str| {
        let t = t.trim_end_matches('=');
        STANDARD_NO_PAD
            .decode(t)
            .or_else(|_| URL_SAFE_NO_PAD.decode(t))
            .ok()
            .filter(|k| k.len() == 32 || k.len() == 64)
    };
    let prefixed = text
        .split_once('_')
        .filter(|(prefix, _)| !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_lowercase()))
        .and_then(|(_, rest)| decode(rest));
    let key = prefixed.or_else(|| decode(text)).ok_or_else(|| {
        "an Ed25519 key is base64 of a 32-byte seed or a 64-byte key pair, after an \
         optional `prefix_`"
            .to_owned()
    })?;
    let mut seed = [0u8; 32];
    seed.copy_from_slice(&key[..32]);
    Ok(seed)
}

#[cfg(test)]
mod thumbprint_tests {
    use super::*;

    #[test]
    fn the_thumbprint_hashes_the_canonical_required_members() {
        let key = test_signing_key("thumbprint");
        let jwk = public_jwk(&key, "any");
        // serde_json's map keeps keys sorted, so this is RFC 7638's canonical form.
        let canonical = serde_json::json!({
            "crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"], "y": jwk["y"],
        })
        .to_string();
        assert!(canonical.starts_with(r#"{"crv":"P-256","kty":"EC","x":""#));
        let want = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        assert_eq!(jwk_thumbprint(&key), want);
        assert_eq!(want.len(), 43);
        assert_ne!(
            jwk_thumbprint(&key),
            jwk_thumbprint(&test_signing_key("other"))
        );
    }
}

#[cfg(test)]
mod ed25519_text_tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    #[test]
    fn seeds_are_read_with_or_without_prefix_padding_or_public_half() {
        let seed = [7u8; 32];
        let mut pair = seed.to_vec();
        pair.extend([9u8; 32]);
        for text in [
            STANDARD.encode(seed),
            format!("whsk_{}", STANDARD.encode(seed)),
            format!("whsk_{}", STANDARD.encode(&pair)),
            URL_SAFE_NO_PAD.encode(seed),
        ] {
            assert_eq!(ed25519_seed_from_text(&text), Ok(seed), "{text}");
        }
        assert!(ed25519_seed_from_text("whsk_c2hvcnQ=").is_err());
        assert!(ed25519_seed_from_text("not base64!").is_err());
    }
}
