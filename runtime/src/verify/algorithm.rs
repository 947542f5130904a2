//! Each [`SignatureAlgorithm`] mapped to its primitive, in one place: HMACs on the
//! RustCrypto `hmac` crate (the keyed state is computed once per secret), the public-key
//! algorithms on `ring`, and P-521 (which `ring` lacks) on RustCrypto's `p521`. A new
//! algorithm is a variant in core and an arm here.

use hmac::{Hmac, Mac};
use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use sha1::Sha1;
use sha2::{Sha256, Sha512};

use super::message_signatures::der;
use hookspec_core::SignatureAlgorithm;

/// A receiver's key for one algorithm, ready to check signatures.
#[derive(Clone)]
pub(crate) enum Keyed {
    /// An HMAC secret's keyed state: each delivery clones it instead of hashing the key
    /// again.
    HmacSha1(Hmac<Sha1>),
    HmacSha256(Hmac<Sha256>),
    HmacSha512(Hmac<Sha512>),
    /// A public key as `ring` takes it.
    Public(UnparsedPublicKey<Vec<u8>>),
    /// A P-521 public key (ECDSA with SHA-512, `r || s`).
    P521(Box<p521::ecdsa::VerifyingKey>),
}

impl Keyed {
    /// The key for `algorithm` from its decoded bytes (a secret, or a public key either
    /// raw or as a SubjectPublicKeyInfo); `None` when they cannot be such a key.
    pub(crate) fn new(algorithm: SignatureAlgorithm, bytes: &[u8]) -> Option<Self> {
        use SignatureAlgorithm as A;
        Some(match algorithm {
            A::HmacSha1 => Keyed::HmacSha1(Hmac::new_from_slice(bytes).ok()?),
            A::HmacSha256 => Keyed::HmacSha256(Hmac::new_from_slice(bytes).ok()?),
            A::HmacSha512 => Keyed::HmacSha512(Hmac::new_from_slice(bytes).ok()?),
            A::EcdsaP521Sha512 => {
                let point = public_key_material(algorithm, bytes)?;
                Keyed::P521(Box::new(
                    p521::ecdsa::VerifyingKey::from_sec1_bytes(&point).ok()?,
                ))
            }
            public => Keyed::Public(UnparsedPublicKey::new(
                ring_algorithm(public)?,
                public_key_material(public, bytes)?,
            )),
        })
    }

    /// The HMAC of the concatenated `pieces` into `out`, its length; `None` for a public
    /// key, which verifies instead of making a tag.
    pub(crate) fn tag(&self, pieces: &[&[u8]], out: &mut [u8]) -> Option<usize> {
        fn run<M: Mac + Clone>(keyed: &M, pieces: &[&[u8]], out: &mut [u8]) -> usize {
            let mut mac = keyed.clone();
            for p in pieces {
                mac.update(p);
            }
            let tag = mac.finalize().into_bytes();
            out[..tag.len()].copy_from_slice(&tag);
            tag.len()
        }
        match self {
            Keyed::HmacSha1(m) => Some(run(m, pieces, out)),
            Keyed::HmacSha256(m) => Some(run(m, pieces, out)),
            Keyed::HmacSha512(m) => Some(run(m, pieces, out)),
            Keyed::Public(_) | Keyed::P521(_) => None,
        }
    }

    /// Whether `signature` is this public key's signature of `message` (false for an
    /// HMAC key).
    pub(crate) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            Keyed::Public(key) => key.verify(message, signature).is_ok(),
            Keyed::P521(key) => {
                use p521::ecdsa::signature::Verifier as _;
                p521::ecdsa::Signature::from_slice(signature)
                    .is_ok_and(|s| key.verify(message, &s).is_ok())
            }
            _ => false,
        }
    }
}

fn ring_algorithm(algorithm: SignatureAlgorithm) -> Option<&'static dyn VerificationAlgorithm> {
    use SignatureAlgorithm as A;
    Some(match algorithm {
        A::HmacSha1 | A::HmacSha256 | A::HmacSha512 => return None,
        A::Ed25519 => &signature::ED25519,
        A::EcdsaP256Sha256 => &signature::ECDSA_P256_SHA256_FIXED,
        A::EcdsaP256Sha256Der => &signature::ECDSA_P256_SHA256_ASN1,
        A::EcdsaP384Sha384 => &signature::ECDSA_P384_SHA384_FIXED,
        A::EcdsaP384Sha384Der => &signature::ECDSA_P384_SHA384_ASN1,
        A::EcdsaP521Sha512 => return None,
        A::RsaPkcs1Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        A::RsaPkcs1Sha512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        A::RsaPssSha256 => &signature::RSA_PSS_2048_8192_SHA256,
        A::RsaPssSha512 => &signature::RSA_PSS_2048_8192_SHA512,
    })
}

/// The key family a public-key algorithm needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Ed25519,
    P256,
    P384,
    P521,
    Rsa,
}

pub(crate) fn family(algorithm: SignatureAlgorithm) -> Option<Family> {
    use SignatureAlgorithm as A;
    match algorithm {
        A::HmacSha1 | A::HmacSha256 | A::HmacSha512 => None,
        A::Ed25519 => Some(Family::Ed25519),
        A::EcdsaP256Sha256 | A::EcdsaP256Sha256Der => Some(Family::P256),
        A::EcdsaP384Sha384 | A::EcdsaP384Sha384Der => Some(Family::P384),
        A::EcdsaP521Sha512 => Some(Family::P521),
        A::RsaPkcs1Sha256 | A::RsaPkcs1Sha512 | A::RsaPssSha256 | A::RsaPssSha512 => {
            Some(Family::Rsa)
        }
    }
}

// DER of the algorithm OIDs a SubjectPublicKeyInfo may carry.
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_RSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const OID_P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// The key family and the public key bits of a SubjectPublicKeyInfo; `None` when `der`
/// is not one or names a key type none of the algorithms use.
pub(crate) fn spki(der: &[u8]) -> Option<(Family, &[u8])> {
    let outer = der::read(der).filter(|t| t.tag == der::SEQUENCE && t.rest.is_empty())?;
    let alg_id = der::read(outer.content).filter(|t| t.tag == der::SEQUENCE)?;
    let oid = der::expect(alg_id.content, der::OID)?;
    let curve = der::read(alg_id.content)
        .and_then(|t| der::read(t.rest))
        .filter(|t| t.tag == der::OID)
        .map(|t| t.content);
    let family = match (oid, curve) {
        (OID_RSA | OID_RSA_PSS, _) => Family::Rsa,
        (OID_EC, Some(OID_P256)) => Family::P256,
        (OID_EC, Some(OID_P384)) => Family::P384,
        (OID_EC, Some(OID_P521)) => Family::P521,
        (OID_ED25519, _) => Family::Ed25519,
        _ => return None,
    };
    let bits = der::read(alg_id.rest).filter(|t| t.tag == der::BIT_STRING && t.rest.is_empty())?;
    match bits.content.split_first() {
        Some((0, key)) => Some((family, key)),
        _ => None,
    }
}

/// What `ring` takes for `algorithm` from a configured public key: a SubjectPublicKeyInfo
/// of the right type, or the raw key (32 bytes for Ed25519, an uncompressed point for
/// ECDSA, PKCS#1 `RSAPublicKey` DER for RSA). Nothing else is accepted.
pub(crate) fn public_key_material(algorithm: SignatureAlgorithm, bytes: &[u8]) -> Option<Vec<u8>> {
    let want = family(algorithm)?;
    let raw = match spki(bytes) {
        Some((family, key)) if family == want => key,
        Some(_) => return None,
        None => bytes,
    };
    let fits = match want {
        Family::Ed25519 => raw.len() == 32,
        Family::P256 => raw.len() == 65 && raw[0] == 4,
        Family::P384 => raw.len() == 97 && raw[0] == 4,
        Family::P521 => raw.len() == 133 && raw[0] == 4,
        Family::Rsa => rsa_public_key(raw),
    };
    fits.then(|| raw.to_vec())
}

/// Whether `der` is a PKCS#1 `RSAPublicKey`: a SEQUENCE of two INTEGERs and nothing else.
fn rsa_public_key(der: &[u8]) -> bool {
    let Some(seq) = der::read(der).filter(|t| t.tag == der::SEQUENCE && t.rest.is_empty()) else {
        return false;
    };
    der::read(seq.content)
        .filter(|n| n.tag == der::INTEGER)
        .and_then(|n| der::read(n.rest))
        .is_some_and(|e| e.tag == der::INTEGER && e.rest.is_empty())
}
