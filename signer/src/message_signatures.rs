//! Signing HTTP messages per RFC 9421: `Signature-Input` and `Signature` members over the
//! signature base that the runtime's verifier rebuilds (one builder, in
//! `hookspec_runtime::verify::message_signatures`).

use std::fmt;

use base64::Engine as _;
use hookspec_runtime::verify::message_signatures::{
    der, pem_decode, signature_base, Algorithm, Message, SignatureError, SignatureParams,
};

use ring::hmac;

/// A key that signs for one RFC 9421 algorithm. Its `Debug` shows no secret.
pub struct SigningKey {
    alg: Algorithm,
    inner: Inner,
}

enum Inner {
    Hmac(hmac::Key),
    /// The same keys and primitives the `signature` scheme signs with.
    Private(crate::private_key::PrivateKey),
}

const fn invalid(reason: &'static str) -> SignatureError {
    SignatureError::InvalidKey { reason }
}

impl SigningKey {
    /// A shared secret for `hmac-sha256`.
    pub fn hmac_sha256(secret: &[u8]) -> Self {
        SigningKey {
            alg: Algorithm::HmacSha256,
            inner: Inner::Hmac(hmac::Key::new(hmac::HMAC_SHA256, secret)),
        }
    }

    /// A private key in DER: PKCS#8 for every algorithm (RSA also under the RSASSA-PSS
    /// OID, as RFC 9421's `test-key-rsa-pss` is), PKCS#1 for RSA, SEC1 for ECDSA, and a
    /// 32-byte seed for Ed25519.
    pub fn from_der(alg: Algorithm, der: &[u8]) -> Result<Self, SignatureError> {
        if alg == Algorithm::HmacSha256 {
            return Err(invalid("use SigningKey::hmac_sha256"));
        }
        let key = crate::private_key::PrivateKey::from_der(alg.model(), der)
            .map_err(|_| invalid("not a private key for this algorithm"))?;
        Ok(SigningKey {
            alg,
            inner: Inner::Private(key),
        })
    }

    /// A private key in PEM (`PRIVATE KEY`, `RSA PRIVATE KEY`, `EC PRIVATE KEY`).
    pub fn from_pem(alg: Algorithm, pem: &str) -> Result<Self, SignatureError> {
        let (_, der) = pem_decode(pem)?;
        SigningKey::from_der(alg, &der)
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The signature of `message` (random for PSS, fixed for the others: ECDSA follows
    /// RFC 6979).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignatureError> {
        let signature = match &self.inner {
            Inner::Hmac(key) => hmac::sign(key, message).as_ref().to_vec(),
            Inner::Private(key) => key.sign(self.alg.model(), message),
        };
        // A signing failure leaves an empty signature (see `PrivateKey::sign`).
        if signature.is_empty() {
            return Err(invalid("signing failed"));
        }
        Ok(signature)
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// A message signature ready to add: one member for each field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSignature {
    /// The `Signature-Input` member (`label=(...);created=...`).
    pub signature_input: String,
    /// The `Signature` member (`label=:base64:`).
    pub signature: String,
    /// The signature base that was signed.
    pub base: String,
    /// The raw signature bytes.
    pub bytes: Vec<u8>,
}

/// Signs `message` under `label` over `params` (components and metadata in order; add
/// `alg` to `params` only when the verifier expects it).
pub fn sign_message(
    message: &Message<'_>,
    label: &str,
    params: &SignatureParams,
    key: &SigningKey,
) -> Result<MessageSignature, SignatureError> {
    let label_ok = label.starts_with(|c: char| c.is_ascii_lowercase() || c == '*')
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.*".contains(&b));
    if !label_ok {
        return Err(SignatureError::Malformed {
            what: "label",
            reason: "not an RFC 8941 key".into(),
        });
    }
    if let Some(claimed) = params.string("alg") {
        if claimed != key.algorithm().name() {
            return Err(SignatureError::AlgorithmMismatch {
                claimed: Algorithm::from_name(claimed).unwrap_or(key.algorithm()),
                key: key.algorithm(),
            });
        }
    }
    let base = signature_base(message, params)?;
    let bytes = key.sign(base.as_bytes())?;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
    Ok(MessageSignature {
        signature_input: format!("{label}={}", params.serialize()?),
        signature: format!("{label}=:{b64}:"),
        base,
        bytes,
    })
}

/// The private key inside a PKCS#8 `PrivateKeyInfo`, whatever its algorithm OID.
pub(crate) fn pkcs8_inner(der: &[u8]) -> Option<&[u8]> {
    let info = der::expect(der, der::SEQUENCE)?;
    let version = der::read(info).filter(|t| t.tag == der::INTEGER)?;
    let alg = der::read(version.rest).filter(|t| t.tag == der::SEQUENCE)?;
    der::expect(alg.rest, der::OCTET_STRING)
}

/// The private scalar and public point of a SEC1 `ECPrivateKey` (RFC 5915).
pub(crate) fn sec1_parts(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let key = der::expect(der, der::SEQUENCE)?;
    let version = der::read(key).filter(|t| t.tag == der::INTEGER)?;
    let private = der::read(version.rest).filter(|t| t.tag == der::OCTET_STRING)?;
    let mut rest = private.rest;
    while let Some(t) = der::read(rest) {
        if t.tag == 0xa1 {
            let bits = der::expect(t.content, der::BIT_STRING)?;
            let (unused, point) = bits.split_first()?;
            return (*unused == 0).then_some((private.content, point));
        }
        rest = t.rest;
    }
    None
}
