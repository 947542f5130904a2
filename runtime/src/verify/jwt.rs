//! A JWT in a header, signed ES256 with a key fetched by `kid` and binding the body by
//! its digest (Plaid's `Plaid-Verification`).

use std::time::SystemTime;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http::HeaderMap;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::encoding::{decode_into, DECODE_BUF};
use super::error::ConfigError;
use super::error::VerifyError;
use super::key_cache::KeyCache;
use super::keys::KeyError;
use super::{unix_seconds, Header};
use hookspec_core::{JwtAlgorithm, JwtAuth};

/// Longest key id looked up; longer ones are refused before reaching the key source.
const MAX_KID_LEN: usize = 256;

pub(crate) struct JwtCheck {
    pub(crate) scheme: &'static JwtAuth,
    header: Header,
    cache: KeyCache,
    /// The scheme's `future_skew` unless the credentials override it.
    future_skew: std::time::Duration,
}

impl JwtCheck {
    pub(crate) fn new(
        scheme: &'static JwtAuth,
        future_skew: std::time::Duration,
        cache: KeyCache,
    ) -> Result<Self, ConfigError> {
        Ok(JwtCheck {
            scheme,
            header: Header::new(&scheme.header)?,
            cache,
            future_skew,
        })
    }

    pub(crate) async fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(), VerifyError> {
        let header: &'static str = &self.scheme.header;
        let malformed = |reason| VerifyError::MalformedHeader { header, reason };
        let token = self.header.text(headers)?;
        let mut parts = token.split('.');
        let (Some(head), Some(claims), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("not a compact JWT (three dot-separated parts)"));
        };
        let signing_input = &token.as_bytes()[..head.len() + 1 + claims.len()];

        // The header is read without trusting it: only to refuse what is not ES256 and to
        // name the key, before any key is looked up.
        let head: serde_json::Value =
            decode_json(head).ok_or(malformed("JWT header is not base64url JSON"))?;
        let alg = head
            .get("alg")
            .and_then(serde_json::Value::as_str)
            .ok_or(malformed("JWT header has no `alg`"))?;
        if !self.accepts(alg) {
            return Err(VerifyError::UnsupportedAlgorithm {
                alg: alg.chars().take(32).collect(),
            });
        }
        if head.get("crit").is_some() {
            return Err(malformed("JWT header has `crit` extensions"));
        }
        let kid = head
            .get(self.scheme.kid_header())
            .and_then(serde_json::Value::as_str)
            .ok_or(malformed("JWT header names no key"))?;
        if kid.is_empty() || kid.len() > MAX_KID_LEN {
            return Err(malformed("JWT key id is empty or too long"));
        }

        // ES256's fixed-width `r || s`; ring refuses r or s outside [1, n) when verifying.
        let mut raw = [0u8; DECODE_BUF];
        let signature = match URL_SAFE_NO_PAD.decode_slice(signature, &mut raw) {
            Ok(64) => &raw[..64],
            _ => return Err(malformed("JWT signature is not 64 bytes of base64url")),
        };

        let key = self.cache.get(kid, now).await.map_err(|e| match e {
            KeyError::NotFound => VerifyError::UnknownKey {
                kid: kid.to_owned(),
            },
            other => VerifyError::KeyUnavailable {
                kid: kid.to_owned(),
                reason: other.to_string(),
            },
        })?;
        if key.is_expired() {
            return Err(VerifyError::ExpiredKey {
                kid: kid.to_owned(),
            });
        }
        if !key.verifies(signing_input, signature) {
            return Err(VerifyError::BadSignature);
        }

        // Signed from here on.
        let claims: serde_json::Value =
            decode_json(claims).ok_or(malformed("JWT claims are not base64url JSON"))?;
        let issued_at = claims
            .get(&*self.scheme.issued_at_claim)
            .and_then(serde_json::Value::as_i64)
            .ok_or(malformed("JWT has no integer issue time"))?;
        check_age(
            issued_at,
            unix_seconds(now),
            self.scheme.max_age.get().as_secs(),
            self.future_skew.as_secs(),
        )?;

        let claimed = claims
            .get(&*self.scheme.body_hash.claim)
            .and_then(serde_json::Value::as_str)
            .ok_or(malformed("JWT has no body digest"))?;
        let mut digest = [0u8; DECODE_BUF];
        let Some(32) = decode_into(
            self.scheme.body_hash.encoding,
            claimed.as_bytes(),
            &mut digest,
        ) else {
            return Err(malformed("JWT body digest is not a SHA-256 digest"));
        };
        let actual = Sha256::digest(body);
        if bool::from(actual.as_slice().ct_eq(&digest[..32])) {
            Ok(())
        } else {
            Err(VerifyError::BodyHashMismatch)
        }
    }

    fn accepts(&self, alg: &str) -> bool {
        self.scheme.algorithms.iter().any(|a| match a {
            JwtAlgorithm::ES256 => alg == "ES256",
        })
    }
}

fn decode_json(part: &str) -> Option<serde_json::Value> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// `issued_at` against `now` (Unix seconds): at most `max_age` old and `future_skew` ahead.
pub(crate) fn check_age(
    issued_at: i64,
    now: i64,
    max_age: u64,
    future_skew: u64,
) -> Result<(), VerifyError> {
    let age = i128::from(now) - i128::from(issued_at);
    if age > i128::from(max_age) {
        return Err(VerifyError::TokenTooOld {
            age_secs: u64::try_from(age).unwrap_or(u64::MAX),
        });
    }
    if -age > i128::from(future_skew) {
        return Err(VerifyError::TokenFromFuture {
            ahead_secs: u64::try_from(-age).unwrap_or(u64::MAX),
        });
    }
    Ok(())
}
