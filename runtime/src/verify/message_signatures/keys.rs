//! The algorithms RFC 9421 registers and the verifying keys for them (on the primitives
//! of `verify/algorithm.rs`, which the `signature` scheme uses too), with
//! the small PEM/DER reading both the verifier and the signer need.

use std::fmt;

use base64::Engine as _;

use super::SignatureError;

/// An algorithm from RFC 9421's HTTP Signature Algorithms registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `rsa-pss-sha512`: RSASSA-PSS, SHA-512, MGF1 SHA-512, 64-byte salt.
    RsaPssSha512,
    /// `rsa-v1_5-sha256`: RSASSA-PKCS1-v1_5 with SHA-256.
    RsaV15Sha256,
    /// `hmac-sha256`.
    HmacSha256,
    /// `ecdsa-p256-sha256`: fixed-size `r || s`.
    EcdsaP256Sha256,
    /// `ecdsa-p384-sha384`: fixed-size `r || s`.
    EcdsaP384Sha384,
    /// `ed25519`.
    Ed25519,
}

impl Algorithm {
    /// Every registered algorithm.
    pub const ALL: [Algorithm; 6] = [
        Algorithm::RsaPssSha512,
        Algorithm::RsaV15Sha256,
        Algorithm::HmacSha256,
        Algorithm::EcdsaP256Sha256,
        Algorithm::EcdsaP384Sha384,
        Algorithm::Ed25519,
    ];

    /// The registered name (the `alg` parameter's value).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::RsaPssSha512 => "rsa-pss-sha512",
            Algorithm::RsaV15Sha256 => "rsa-v1_5-sha256",
            Algorithm::HmacSha256 => "hmac-sha256",
            Algorithm::EcdsaP256Sha256 => "ecdsa-p256-sha256",
            Algorithm::EcdsaP384Sha384 => "ecdsa-p384-sha384",
            Algorithm::Ed25519 => "ed25519",
        }
    }

    /// The algorithm with this registered name.
    pub fn from_name(name: &str) -> Option<Self> {
        Algorithm::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The same algorithm in the spec model.
    pub fn model(self) -> hookspec_core::SignatureAlgorithm {
        use hookspec_core::SignatureAlgorithm as M;
        match self {
            Algorithm::RsaPssSha512 => M::RsaPssSha512,
            Algorithm::RsaV15Sha256 => M::RsaPkcs1Sha256,
            Algorithm::HmacSha256 => M::HmacSha256,
            Algorithm::EcdsaP256Sha256 => M::EcdsaP256Sha256,
            Algorithm::EcdsaP384Sha384 => M::EcdsaP384Sha384,
            Algorithm::Ed25519 => M::Ed25519,
        }
    }

    fn is_rsa(self) -> bool {
        matches!(self, Algorithm::RsaPssSha512 | Algorithm::RsaV15Sha256)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A key that verifies one algorithm's signatures, on the same primitives as the
/// `signature` scheme (`verify/algorithm.rs`). Its `Debug` shows no secret.
#[derive(Clone)]
pub struct VerifyingKey {
    alg: Algorithm,
    key: crate::verify::algorithm::Keyed,
}

impl VerifyingKey {
    /// A shared secret for `hmac-sha256`.
    pub fn hmac_sha256(secret: &[u8]) -> Self {
        VerifyingKey {
            alg: Algorithm::HmacSha256,
            key: crate::verify::algorithm::Keyed::new(Algorithm::HmacSha256.model(), secret)
                .expect("HMAC takes a key of any length"),
        }
    }

    /// A public key as the provider gives it for `alg`: PKCS#1 RSAPublicKey DER for RSA,
    /// the uncompressed point for ECDSA, 32 raw bytes for Ed25519 (not for HMAC). A key of
    /// the wrong shape is refused here, not at the first verification.
    pub fn from_raw(alg: Algorithm, public_key: &[u8]) -> Result<Self, SignatureError> {
        if alg == Algorithm::HmacSha256 {
            return Err(SignatureError::InvalidKey {
                reason: "an HMAC key is a secret, not a public key",
            });
        }
        let key = crate::verify::algorithm::Keyed::new(alg.model(), public_key).ok_or(
            SignatureError::InvalidKey {
                reason: "the key's bytes do not suit the algorithm",
            },
        )?;
        Ok(VerifyingKey { alg, key })
    }

    /// A SubjectPublicKeyInfo (`PUBLIC KEY`) DER whose key type must suit `alg` (read by
    /// the one SPKI reader the `signature` scheme uses too).
    pub fn from_spki_der(alg: Algorithm, der: &[u8]) -> Result<Self, SignatureError> {
        let bad = |reason| SignatureError::InvalidKey { reason };
        let (family, bits) = crate::verify::algorithm::spki(der)
            .ok_or(bad("not a SubjectPublicKeyInfo of a known key type"))?;
        if crate::verify::algorithm::family(alg.model()) != Some(family) {
            return Err(bad("the key type does not suit the algorithm"));
        }
        VerifyingKey::from_raw(alg, bits)
    }

    /// A PEM `PUBLIC KEY` (SubjectPublicKeyInfo) or, for RSA, `RSA PUBLIC KEY` (PKCS#1).
    pub fn from_pem(alg: Algorithm, pem: &str) -> Result<Self, SignatureError> {
        let (label, der) = pem_decode(pem)?;
        match label.as_str() {
            "PUBLIC KEY" => VerifyingKey::from_spki_der(alg, &der),
            "RSA PUBLIC KEY" if alg.is_rsa() => VerifyingKey::from_raw(alg, &der),
            _ => Err(SignatureError::InvalidKey {
                reason: "unexpected PEM label for this algorithm",
            }),
        }
    }

    /// The algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// Whether `signature` is this key's signature of `message`. HMAC tags are compared
    /// in constant time.
    pub fn verify(&self, message: &[u8], sig: &[u8]) -> bool {
        use subtle::ConstantTimeEq as _;
        let mut tag = [0u8; 64];
        match self.key.tag(&[message], &mut tag) {
            Some(n) => bool::from(tag[..n].ct_eq(sig)),
            None => self.key.verifies(message, sig),
        }
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// The label and DER bytes of the first PEM block in `pem` (`-----BEGIN X-----`).
pub fn pem_decode(pem: &str) -> Result<(String, Vec<u8>), SignatureError> {
    let bad = |reason| SignatureError::InvalidKey { reason };
    let start = pem.find("-----BEGIN ").ok_or(bad("no PEM block"))? + "-----BEGIN ".len();
    let rest = &pem[start..];
    let (label, rest) = rest.split_once("-----").ok_or(bad("bad PEM header"))?;
    let end = rest
        .find("-----END ")
        .ok_or(bad("unterminated PEM block"))?;
    let body: String = rest[..end]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| bad("PEM body is not base64"))?;
    Ok((label.to_owned(), der))
}

/// A minimal DER reader: enough to find keys inside SubjectPublicKeyInfo, PKCS#8 and
/// SEC1 structures (shared with hookspec-signer).
pub mod der {
    /// Tag of a SEQUENCE.
    pub const SEQUENCE: u8 = 0x30;
    /// Tag of an OBJECT IDENTIFIER.
    pub const OID: u8 = 0x06;
    /// Tag of a BIT STRING.
    pub const BIT_STRING: u8 = 0x03;
    /// Tag of an OCTET STRING.
    pub const OCTET_STRING: u8 = 0x04;
    /// Tag of an INTEGER.
    pub const INTEGER: u8 = 0x02;

    /// One tag-length-value and what follows it.
    #[derive(Debug, Clone, Copy)]
    pub struct Tlv<'a> {
        /// The tag byte.
        pub tag: u8,
        /// The value.
        pub content: &'a [u8],
        /// The bytes after this element.
        pub rest: &'a [u8],
    }

    /// The first element of `input`; `None` when it is truncated or uses forms DER
    /// forbids (indefinite length, lengths over 4 bytes).
    pub fn read(input: &[u8]) -> Option<Tlv<'_>> {
        let (&tag, rest) = input.split_first()?;
        let (&first, mut rest) = rest.split_first()?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return None;
            }
            let len = rest[..n]
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            rest = &rest[n..];
            len
        };
        if rest.len() < len {
            return None;
        }
        Some(Tlv {
            tag,
            content: &rest[..len],
            rest: &rest[len..],
        })
    }

    /// The content of the first element of `input` when it has tag `tag`.
    pub fn expect(input: &[u8], tag: u8) -> Option<&[u8]> {
        read(input).filter(|t| t.tag == tag).map(|t| t.content)
    }
}
