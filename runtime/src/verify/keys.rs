//! Public keys for JWT verification and where they come from.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::agreement;
use ring::rand::SystemRandom;
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};

/// Length of an uncompressed SEC1 P-256 point: `0x04 || x || y`.
const POINT_LEN: usize = 65;

/// A provider's public key for ES256 tokens (JWK `kty: EC`, `crv: P-256`).
///
/// The point is checked to lie on P-256 once, when the key is made; verification then
/// takes it as valid (ring still re-reads the 65 bytes on each verification, which costs
/// a few field operations next to the signature check's two scalar multiplications).
#[derive(Clone)]
pub struct Jwk {
    kid: String,
    key: UnparsedPublicKey<[u8; POINT_LEN]>,
    created_at: Option<i64>,
    expired: bool,
    expired_at: Option<i64>,
}

impl Jwk {
    /// A current key with this id, from the affine coordinates `x` and `y` of a P-256
    /// point (big-endian, 32 bytes each). Fails when the point is not on the curve.
    pub fn from_coordinates(
        kid: impl Into<String>,
        x: &[u8; 32],
        y: &[u8; 32],
    ) -> Result<Self, KeyError> {
        Ok(Jwk {
            kid: kid.into(),
            key: es256_key(x, y)?,
            created_at: None,
            expired: false,
            expired_at: None,
        })
    }

    /// Reads a JWK object. `expired_field` is the scheme's field that is non-null once the
    /// provider has retired the key (Plaid: `expired_at`); `alg` and `use`, when present,
    /// must be `ES256` and `sig`.
    pub fn from_json(
        value: &serde_json::Value,
        expired_field: Option<&str>,
    ) -> Result<Self, KeyError> {
        let obj = value
            .as_object()
            .ok_or(KeyError::Invalid("the key is not a JSON object"))?;
        let text = |name: &str| obj.get(name).and_then(serde_json::Value::as_str);
        if text("kty") != Some("EC") {
            return Err(KeyError::Invalid("`kty` is not `EC`"));
        }
        if text("crv") != Some("P-256") {
            return Err(KeyError::Invalid("`crv` is not `P-256`"));
        }
        if obj.contains_key("alg") && text("alg") != Some("ES256") {
            return Err(KeyError::Invalid("`alg` is not `ES256`"));
        }
        if obj.contains_key("use") && text("use") != Some("sig") {
            return Err(KeyError::Invalid("`use` is not `sig`"));
        }
        let kid = text("kid").ok_or(KeyError::Invalid("no `kid`"))?;
        let coordinate = |name: &str| -> Result<[u8; 32], KeyError> {
            let mut out = [0u8; 32];
            let bytes = URL_SAFE_NO_PAD
                .decode(text(name).ok_or(KeyError::Invalid("no `x` or `y`"))?)
                .map_err(|_| KeyError::Invalid("`x` or `y` is not base64url"))?;
            if bytes.len() != 32 {
                return Err(KeyError::Invalid("`x` or `y` is not 32 bytes"));
            }
            out.copy_from_slice(&bytes);
            Ok(out)
        };
        let key = es256_key(&coordinate("x")?, &coordinate("y")?)?;
        let int = |name: &str| obj.get(name).and_then(serde_json::Value::as_i64);
        let expired = expired_field.is_some_and(|f| obj.get(f).is_some_and(|v| !v.is_null()));
        Ok(Jwk {
            kid: kid.to_owned(),
            key,
            created_at: int("created_at"),
            expired,
            expired_at: expired_field.and_then(int),
        })
    }

    /// Marks the key retired, as if the provider had set its `expired_at`.
    pub fn retired(mut self, expired_at: Option<i64>) -> Self {
        self.expired = true;
        self.expired_at = expired_at;
        self
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as an uncompressed SEC1 point (`0x04 || x || y`, 65 bytes).
    pub fn public_key(&self) -> &[u8] {
        self.key.as_ref()
    }

    /// Whether `signature` (ES256: `r || s`, 64 bytes) signs `message` under this key.
    pub(crate) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key.verify(message, signature).is_ok()
    }

    /// When the provider made the key (Unix seconds), if it says.
    pub fn created_at(&self) -> Option<i64> {
        self.created_at
    }

    /// Whether the provider has retired the key; tokens signed with it are refused.
    pub fn is_expired(&self) -> bool {
        self.expired
    }

    /// When the key was retired (Unix seconds), if it is and the provider says when.
    pub fn expired_at(&self) -> Option<i64> {
        self.expired_at
    }
}

/// The ES256 verification key for the point `(x, y)`, refused unless the point lies on
/// P-256. ring's point parser (range of the coordinates, curve equation) runs here, the
/// same one its signature verification runs: through an ephemeral key agreement, the one
/// public operation of ring that parses a point without a signature to check.
fn es256_key(x: &[u8; 32], y: &[u8; 32]) -> Result<UnparsedPublicKey<[u8; POINT_LEN]>, KeyError> {
    let mut point = [0u8; POINT_LEN];
    point[0] = 0x04;
    point[1..33].copy_from_slice(x);
    point[33..].copy_from_slice(y);
    let ours =
        agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &SystemRandom::new())
            .map_err(|_| KeyError::Invalid("no randomness to check the point with"))?;
    let theirs = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, &point);
    agreement::agree_ephemeral(ours, &theirs, |_| ())
        .map_err(|_| KeyError::Invalid("the point is not on P-256"))?;
    Ok(UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point))
}

impl PartialEq for Jwk {
    fn eq(&self, other: &Self) -> bool {
        self.kid == other.kid
            && self.public_key() == other.public_key()
            && self.created_at == other.created_at
            && self.expired == other.expired
            && self.expired_at == other.expired_at
    }
}

impl Eq for Jwk {}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwk")
            .field("kid", &self.kid)
            .field("created_at", &self.created_at)
            .field("expired", &self.expired)
            .field("expired_at", &self.expired_at)
            .finish_non_exhaustive()
    }
}

/// Why a key source gave no key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The source does not know the key id.
    NotFound,
    /// The source could not be asked (network, HTTP status, timeout). Retried later.
    Unavailable(String),
    /// The source answered with something that is not a usable ES256 key.
    Invalid(&'static str),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::NotFound => f.write_str("no such key"),
            KeyError::Unavailable(reason) => write!(f, "key source unavailable: {reason}"),
            KeyError::Invalid(reason) => write!(f, "invalid key: {reason}"),
        }
    }
}

impl std::error::Error for KeyError {}

/// A boxed future returned by [`KeySource::fetch`].
pub type KeyFuture<'a> = Pin<Box<dyn Future<Output = Result<Jwk, KeyError>> + Send + 'a>>;

/// Where JWT verification keys come from. The verifier wraps it in a cache, so `fetch` is
/// called only for a key id it has not seen, or has not refreshed for a while.
pub trait KeySource: Send + Sync + 'static {
    /// The key named `kid`.
    fn fetch<'a>(&'a self, kid: &'a str) -> KeyFuture<'a>;
}

/// Keys known in advance: for tests, and for users who pin the provider's keys.
#[derive(Debug, Clone, Default)]
pub struct StaticKeys {
    keys: HashMap<String, Jwk>,
}

impl StaticKeys {
    /// A source serving exactly these keys.
    pub fn new(keys: impl IntoIterator<Item = Jwk>) -> Self {
        StaticKeys {
            keys: keys.into_iter().map(|k| (k.kid.clone(), k)).collect(),
        }
    }
}

impl KeySource for StaticKeys {
    fn fetch<'a>(&'a self, kid: &'a str) -> KeyFuture<'a> {
        let found = self.keys.get(kid).cloned().ok_or(KeyError::NotFound);
        Box::pin(std::future::ready(found))
    }
}

#[cfg(test)]
mod tests {
    use ring::rand::SystemRandom;
    use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};

    use super::*;

    fn coordinates(point: &[u8]) -> ([u8; 32], [u8; 32]) {
        let (mut x, mut y) = ([0u8; 32], [0u8; 32]);
        x.copy_from_slice(&point[1..33]);
        y.copy_from_slice(&point[33..65]);
        (x, y)
    }

    fn jwk_json(x: &[u8], y: &[u8]) -> serde_json::Value {
        serde_json::json!({
            "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": "k1",
            "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y),
            "created_at": 1, "expired_at": null,
        })
    }

    #[test]
    fn a_key_verifies_its_signatures_and_nothing_else() {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let (x, y) = coordinates(pair.public_key().as_ref());
        let jwk = Jwk::from_json(&jwk_json(&x, &y), Some("expired_at")).unwrap();
        let made = Jwk::from_coordinates("k1", &x, &y).unwrap();
        assert_eq!(
            (jwk.kid(), jwk.public_key()),
            (made.kid(), made.public_key())
        );
        assert_eq!(jwk.public_key(), pair.public_key().as_ref());
        assert_eq!(jwk.created_at(), Some(1));
        assert!(!jwk.is_expired());

        let signature = pair.sign(&rng, b"header.claims").unwrap();
        assert!(jwk.verifies(b"header.claims", signature.as_ref()));
        assert!(!jwk.verifies(b"header.claimz", signature.as_ref()));
        let mut flipped = signature.as_ref().to_vec();
        flipped[10] ^= 1;
        assert!(!jwk.verifies(b"header.claims", &flipped));
        // Malformed signatures are refused, never a panic.
        for bad in [
            &[][..],
            &[0u8; 63][..],
            &[0u8; 64][..],
            &[0xffu8; 64][..],
            &[1u8; 65][..],
        ] {
            assert!(!jwk.verifies(b"header.claims", bad));
        }
    }

    #[test]
    fn points_off_the_curve_are_refused_when_the_key_is_made() {
        let hex = |s: &str| -> [u8; 32] {
            let mut out = [0u8; 32];
            for (i, b) in out.iter_mut().enumerate() {
                *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
            }
            out
        };
        // The base point G of P-256 is on the curve.
        let gx = hex("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296");
        let gy = hex("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5");
        assert!(Jwk::from_coordinates("g", &gx, &gy).is_ok());

        let mut off = gy;
        off[31] ^= 1;
        let p = hex("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
        let invalid = KeyError::Invalid("the point is not on P-256");
        for (x, y) in [(gx, off), ([0; 32], [0; 32]), (p, gy), (gx, p)] {
            assert_eq!(Jwk::from_coordinates("k", &x, &y), Err(invalid.clone()));
            assert_eq!(
                Jwk::from_json(&jwk_json(&x, &y), None),
                Err(invalid.clone())
            );
        }
        assert_eq!(
            Jwk::from_json(&jwk_json(&gx[..31], &gy), None),
            Err(KeyError::Invalid("`x` or `y` is not 32 bytes"))
        );
    }
}
