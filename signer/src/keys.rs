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
