//! The provider's private key for a public-key signature scheme, made from a 32-byte seed
//! so test credentials are deterministic, and its public half written as the provider
//! publishes it. A new algorithm is an arm in [`PrivateKey::new`] and [`PrivateKey::sign`].

use hookspec_core::{SecretEncoding, SecretFormat, SignatureAlgorithm};
use hookspec_runtime::verify::message_signatures::pem_decode;

use crate::message_signatures::{pkcs8_inner, sec1_parts};
use p256::ecdsa::signature::Signer as _;
use ring::signature::{self as ring_sig, KeyPair as _};

/// RSA test keys made for hookspec (see `test_keys/README.md`): RSA keys cannot be made
/// from a seed cheaply, so a seed picks one of two. They guard nothing.
const RSA_KEYS: [&str; 2] = [
    include_str!("test_keys/rsa-a.key.pem"),
    include_str!("test_keys/rsa-b.key.pem"),
];

/// A private key for one public-key algorithm.
pub(crate) enum PrivateKey {
    Ed25519(ring_sig::Ed25519KeyPair),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(Box<p521::ecdsa::SigningKey>),
    Rsa(ring_sig::RsaKeyPair),
}

impl PrivateKey {
    /// The key `seed` stands for under `algorithm`; `None` for an HMAC (no private key).
    pub(crate) fn new(algorithm: SignatureAlgorithm, seed: &[u8; 32]) -> Option<Self> {
        use SignatureAlgorithm as A;
        // A seed that is not a valid scalar (zero or above the group order) is
        // astronomically unlikely; one is hashed again until it is.
        let scalar = |mut bytes: [u8; 32], valid: &dyn Fn(&[u8]) -> bool| {
            while !valid(&bytes) {
                bytes = sha2::Digest::finalize(sha2::Digest::chain_update(
                    <sha2::Sha256 as sha2::Digest>::new(),
                    bytes,
                ))
                .into();
            }
            bytes
        };
        Some(match algorithm {
            A::HmacSha1 | A::HmacSha256 | A::HmacSha512 => return None,
            A::Ed25519 => {
                PrivateKey::Ed25519(ring_sig::Ed25519KeyPair::from_seed_unchecked(seed).ok()?)
            }
            A::EcdsaP256Sha256 | A::EcdsaP256Sha256Der => {
                let bytes = scalar(*seed, &|b| p256::ecdsa::SigningKey::from_slice(b).is_ok());
                PrivateKey::P256(p256::ecdsa::SigningKey::from_slice(&bytes).ok()?)
            }
            A::EcdsaP384Sha384 | A::EcdsaP384Sha384Der => {
                // 48 bytes of scalar from the seed and its hash.
                let hash: [u8; 32] = sha2::Digest::finalize(sha2::Digest::chain_update(
                    <sha2::Sha256 as sha2::Digest>::new(),
                    seed,
                ))
                .into();
                let mut bytes = [0u8; 48];
                bytes[..32].copy_from_slice(seed);
                bytes[32..].copy_from_slice(&hash[..16]);
                bytes[0] &= 0x7f; // below the group order
                PrivateKey::P384(p384::ecdsa::SigningKey::from_slice(&bytes).ok()?)
            }
            A::EcdsaP521Sha512 => {
                // 66 bytes of scalar below 2^513 (under the group order), from the seed and
                // two hashes of it.
                let first: [u8; 32] = sha2::Digest::finalize(sha2::Digest::chain_update(
                    <sha2::Sha256 as sha2::Digest>::new(),
                    seed,
                ))
                .into();
                let mut bytes = [0u8; 66];
                bytes[2..34].copy_from_slice(seed);
                bytes[34..].copy_from_slice(&first);
                PrivateKey::P521(Box::new(p521::ecdsa::SigningKey::from_slice(&bytes).ok()?))
            }
            A::RsaPkcs1Sha256 | A::RsaPkcs1Sha512 | A::RsaPssSha256 | A::RsaPssSha512 => {
                let (_, der) = pem_decode(RSA_KEYS[usize::from(seed[0] & 1)]).ok()?;
                let pkcs1 = pkcs8_inner(&der).unwrap_or(&der);
                PrivateKey::Rsa(ring_sig::RsaKeyPair::from_der(pkcs1).ok()?)
            }
        })
    }

    /// The provider's own key for `algorithm`, from a PEM block: PKCS#8 (`PRIVATE KEY`) for
    /// every algorithm, SEC1 (`EC PRIVATE KEY`) for ECDSA, PKCS#1 (`RSA PRIVATE KEY`) for
    /// RSA. An error names what is wrong, never the key.
    pub(crate) fn from_pem(algorithm: SignatureAlgorithm, pem: &str) -> Result<Self, String> {
        let (_, der) = pem_decode(pem).map_err(|e| format!("not a PEM private key: {e}"))?;
        Self::from_der(algorithm, &der)
    }

    /// [`PrivateKey::from_pem`]'s DER; for Ed25519 also the bare 32-byte seed.
    pub(crate) fn from_der(algorithm: SignatureAlgorithm, der: &[u8]) -> Result<Self, String> {
        use SignatureAlgorithm as A;
        if algorithm == A::Ed25519 && der.len() == 32 {
            return ring_sig::Ed25519KeyPair::from_seed_unchecked(der)
                .map(PrivateKey::Ed25519)
                .map_err(|_| "not an Ed25519 seed".to_owned());
        }
        let inner = pkcs8_inner(der);
        // The private scalar of an EC key, under PKCS#8 or bare SEC1.
        let scalar = || sec1_parts(inner.unwrap_or(der)).map(|(private, _)| private);
        let wrong = |what: &str| format!("not {what} private key for {}", algorithm.name());
        Ok(match algorithm {
            A::HmacSha1 | A::HmacSha256 | A::HmacSha512 => {
                return Err("an HMAC has a secret, not a private key".into())
            }
            A::Ed25519 => PrivateKey::Ed25519(
                ring_sig::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
                    .map_err(|_| wrong("a PKCS#8 Ed25519"))?,
            ),
            A::EcdsaP256Sha256 | A::EcdsaP256Sha256Der => PrivateKey::P256(
                scalar()
                    .and_then(|d| p256::ecdsa::SigningKey::from_slice(d).ok())
                    .ok_or_else(|| wrong("a P-256"))?,
            ),
            A::EcdsaP384Sha384 | A::EcdsaP384Sha384Der => PrivateKey::P384(
                scalar()
                    .and_then(|d| p384::ecdsa::SigningKey::from_slice(d).ok())
                    .ok_or_else(|| wrong("a P-384"))?,
            ),
            A::EcdsaP521Sha512 => PrivateKey::P521(Box::new(
                scalar()
                    .and_then(|d| p521::ecdsa::SigningKey::from_slice(d).ok())
                    .ok_or_else(|| wrong("a P-521"))?,
            )),
            A::RsaPkcs1Sha256 | A::RsaPkcs1Sha512 | A::RsaPssSha256 | A::RsaPssSha512 => {
                PrivateKey::Rsa(
                    ring_sig::RsaKeyPair::from_der(inner.unwrap_or(der))
                        .map_err(|_| wrong("an RSA (2048 bits or more)"))?,
                )
            }
        })
    }

    /// The signature of `message` as `algorithm` writes it (deterministic for Ed25519,
    /// ECDSA (RFC 6979) and PKCS#1 v1.5; PSS is salted).
    pub(crate) fn sign(&self, algorithm: SignatureAlgorithm, message: &[u8]) -> Vec<u8> {
        use SignatureAlgorithm as A;
        match self {
            PrivateKey::Ed25519(pair) => pair.sign(message).as_ref().to_vec(),
            PrivateKey::P256(key) => {
                let signature: p256::ecdsa::Signature = key.sign(message);
                match algorithm {
                    A::EcdsaP256Sha256Der => signature.to_der().as_bytes().to_vec(),
                    _ => signature.to_bytes().to_vec(),
                }
            }
            PrivateKey::P384(key) => {
                let signature: p384::ecdsa::Signature = key.sign(message);
                match algorithm {
                    A::EcdsaP384Sha384Der => signature.to_der().as_bytes().to_vec(),
                    _ => signature.to_bytes().to_vec(),
                }
            }
            PrivateKey::P521(key) => {
                use p521::ecdsa::signature::RandomizedSigner as _;
                // p521 has no RFC 6979 signing; nonces drawn from the key and the message
                // keep test signatures (and so the test vectors) the same on every run.
                let mut nonces = Nonces::new(&key.to_bytes(), message);
                let signature: p521::ecdsa::Signature = key.sign_with_rng(&mut nonces, message);
                signature.to_bytes().to_vec()
            }
            PrivateKey::Rsa(pair) => {
                let padding: &dyn ring_sig::RsaEncoding = match algorithm {
                    A::RsaPkcs1Sha512 => &ring_sig::RSA_PKCS1_SHA512,
                    A::RsaPssSha256 => &ring_sig::RSA_PSS_SHA256,
                    A::RsaPssSha512 => &ring_sig::RSA_PSS_SHA512,
                    _ => &ring_sig::RSA_PKCS1_SHA256,
                };
                let mut out = vec![0; pair.public().modulus_len()];
                let rng = ring::rand::SystemRandom::new();
                // Signing with a valid key pair into a buffer of the modulus length does
                // not fail; an empty signature would be refused, never accepted.
                if pair.sign(padding, &rng, message, &mut out).is_err() {
                    out.clear();
                }
                out
            }
        }
    }

    /// The public key as the provider hands it to receivers, written in `format`: the raw
    /// 32 bytes for Ed25519 (as providers publish them), a SubjectPublicKeyInfo for ECDSA
    /// and RSA and for any key written as PEM.
    pub(crate) fn public_key(&self, format: &SecretFormat) -> String {
        let spki = match self {
            PrivateKey::Ed25519(pair) => {
                let raw = pair.public_key().as_ref();
                if format.encoding != SecretEncoding::Pem {
                    return format.write(raw);
                }
                spki(&[0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70], raw)
            }
            PrivateKey::P256(key) => spki(
                &[
                    0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
                    0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
                ],
                key.verifying_key().to_encoded_point(false).as_bytes(),
            ),
            PrivateKey::P384(key) => spki(
                &[
                    0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05,
                    0x2b, 0x81, 0x04, 0x00, 0x22,
                ],
                key.verifying_key().to_encoded_point(false).as_bytes(),
            ),
            PrivateKey::P521(key) => spki(
                &[
                    0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05,
                    0x2b, 0x81, 0x04, 0x00, 0x23,
                ],
                p521::ecdsa::VerifyingKey::from(&**key)
                    .to_encoded_point(false)
                    .as_bytes(),
            ),
            PrivateKey::Rsa(pair) => spki(
                &[
                    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
                    0x05, 0x00,
                ],
                pair.public().as_ref(),
            ),
        };
        format.write(&spki)
    }
}

/// A deterministic stream of bytes from a key and a message (SHA-512 in counter mode):
/// the same nonce for the same key and message, a different one otherwise. For test keys.
struct Nonces {
    seed: [u8; 64],
    counter: u64,
    buffer: Vec<u8>,
}

impl Nonces {
    fn new(key: &[u8], message: &[u8]) -> Self {
        use sha2::Digest as _;
        let seed = sha2::Sha512::new()
            .chain_update(b"hookspec test nonce")
            .chain_update(key)
            .chain_update(message)
            .finalize()
            .into();
        Nonces {
            seed,
            counter: 0,
            buffer: Vec::new(),
        }
    }
}

impl rand_core::RngCore for Nonces {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        use sha2::Digest as _;
        for byte in dest {
            if self.buffer.is_empty() {
                self.buffer = sha2::Sha512::new()
                    .chain_update(self.seed)
                    .chain_update(self.counter.to_le_bytes())
                    .finalize()
                    .to_vec();
                self.counter += 1;
            }
            *byte = self.buffer.pop().unwrap_or_default();
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand_core::CryptoRng for Nonces {}

/// A SubjectPublicKeyInfo: the algorithm identifier's DER, then the key as a BIT STRING.
fn spki(algorithm_id: &[u8], key: &[u8]) -> Vec<u8> {
    let mut bits = vec![0u8];
    bits.extend_from_slice(key);
    let bit_string = tlv(0x03, &bits);
    tlv(0x30, &[algorithm_id, &bit_string].concat())
}

/// One DER element.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(content);
    out
}
