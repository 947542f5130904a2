//! A signature of the request in a header, HMAC or Ed25519, with the layout (template,
//! labels, encoding, timestamp) read from the scheme (Bridge's
//! `BridgeApi-Signature: v1=<HEX>,v1=<HEX>`, Standard Webhooks' `v1,<B64> v1a,<B64>`).

use std::fmt;
use std::time::SystemTime;

use hmac::{Hmac, Mac};
use http::HeaderMap;
use sha1::Sha1;
use sha2::{Sha256, Sha512};
use subtle::ConstantTimeEq;

use super::encoding::{decode_into, DECODE_BUF};
use super::error::{ConfigError, VerifyError};
use super::jwt::check_age;
use super::secret::Secret;
use super::{unix_seconds, Header};
use hookspec_core::{
    signed_pieces, Ed25519Auth, HmacAlgorithm, HmacAuth, SecretFormat, SignatureLayout, SignedPiece,
};

/// Signatures with the accepted label read from one header at most (rotation sends two).
const MAX_ENTRIES: usize = 8;
/// Pieces a signed template may have.
const MAX_PARTS: usize = 16;

/// One piece of the signed template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(&'static str),
    Body,
    Timestamp,
    Header(Header),
}

/// A secret's keyed HMAC state, computed once: each delivery clones it instead of hashing
/// the key again; or an Ed25519 public key.
#[derive(Clone)]
enum Keyed {
    Sha256(Hmac<Sha256>),
    Sha512(Hmac<Sha512>),
    Sha1(Hmac<Sha1>),
    Ed25519(ring::signature::UnparsedPublicKey<Vec<u8>>),
}

impl Keyed {
    /// `None` only if the MAC refused the key length, which HMAC never does.
    fn new(algorithm: HmacAlgorithm, key: &[u8]) -> Option<Self> {
        Some(match algorithm {
            HmacAlgorithm::Sha256 => Keyed::Sha256(Hmac::new_from_slice(key).ok()?),
            HmacAlgorithm::Sha512 => Keyed::Sha512(Hmac::new_from_slice(key).ok()?),
            HmacAlgorithm::Sha1 => Keyed::Sha1(Hmac::new_from_slice(key).ok()?),
        })
    }

    /// The MAC of the concatenated `pieces` into `out`; its length.
    fn tag(&self, pieces: &[&[u8]], out: &mut [u8; DECODE_BUF]) -> usize {
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
            Keyed::Sha256(m) => run(m, pieces, out),
            Keyed::Sha512(m) => run(m, pieces, out),
            Keyed::Sha1(m) => run(m, pieces, out),
            // Never reached: Ed25519 keys verify instead of making a tag.
            Keyed::Ed25519(_) => 0,
        }
    }
}

/// The keys configured for a scheme, decoded as its format says.
fn decode_keys(
    format: &SecretFormat,
    given: &[&str],
    what: &'static str,
    key: impl Fn(&[u8]) -> Option<Keyed>,
) -> Result<Vec<Keyed>, ConfigError> {
    given
        .iter()
        .enumerate()
        .map(|(index, s)| {
            format.key(s).and_then(|bytes| key(&bytes)).ok_or_else(|| {
                ConfigError::BadSecretEncoding {
                    what,
                    index,
                    expected: format.describe(),
                }
            })
        })
        .collect()
}

pub(crate) struct HmacCheck {
    scheme: SignatureLayout<'static>,
    header: Header,
    timestamp_header: Option<Header>,
    parts: Vec<Part>,
    keys: Vec<Keyed>,
    tag_len: usize,
}

impl fmt::Debug for HmacCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HmacCheck")
            .field("header", &self.scheme.header)
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl HmacCheck {
    pub(crate) fn header(&self) -> &'static str {
        self.scheme.header
    }

    /// The check of an HMAC scheme with the receiver's secrets.
    pub(crate) fn hmac(scheme: &'static HmacAuth, secrets: &[Secret]) -> Result<Self, ConfigError> {
        if secrets.is_empty() {
            return Err(ConfigError::MissingHmacSecret);
        }
        let given: Vec<&str> = secrets.iter().map(Secret::expose).collect();
        let algorithm = scheme.algorithm;
        let keys = decode_keys(&scheme.secret, &given, "HMAC secret", |key| {
            Keyed::new(algorithm, key)
        })?;
        let tag_len = match algorithm {
            HmacAlgorithm::Sha256 => 32,
            HmacAlgorithm::Sha512 => 64,
            HmacAlgorithm::Sha1 => 20,
        };
        Self::new(scheme.layout(), keys, tag_len)
    }

    /// The check of an Ed25519 scheme with the provider's public keys.
    pub(crate) fn ed25519(
        scheme: &'static Ed25519Auth,
        public_keys: &[String],
    ) -> Result<Self, ConfigError> {
        if public_keys.is_empty() {
            return Err(ConfigError::MissingPublicKey);
        }
        let given: Vec<&str> = public_keys.iter().map(String::as_str).collect();
        let keys = decode_keys(&scheme.public_key, &given, "Ed25519 public key", |key| {
            (key.len() == 32).then(|| {
                Keyed::Ed25519(ring::signature::UnparsedPublicKey::new(
                    &ring::signature::ED25519,
                    key.to_vec(),
                ))
            })
        })?;
        Self::new(scheme.layout(), keys, 64)
    }

    fn new(
        scheme: SignatureLayout<'static>,
        keys: Vec<Keyed>,
        tag_len: usize,
    ) -> Result<Self, ConfigError> {
        let parts = parse_template(scheme.signed)?;
        if parts.contains(&Part::Timestamp) && scheme.timestamp.is_none() {
            return Err(ConfigError::BadTemplate {
                reason: "`{timestamp}` is signed but the scheme says where no timestamp is".into(),
            });
        }
        Ok(HmacCheck {
            scheme,
            header: Header::new(scheme.header)?,
            timestamp_header: scheme
                .timestamp
                .and_then(|t| t.header.as_deref())
                .map(Header::new)
                .transpose()?,
            parts,
            keys,
            tag_len,
        })
    }

    /// The MAC of `value` with the first HMAC key, written in the scheme's encoding
    /// (`None` for Ed25519, which has no secret).
    pub(crate) fn mac_of(&self, value: &[u8]) -> Option<String> {
        let key = self.keys.iter().find(|k| !matches!(k, Keyed::Ed25519(_)))?;
        let mut out = [0u8; DECODE_BUF];
        let len = key.tag(&[value], &mut out);
        Some(super::encoding::encode(self.scheme.encoding, &out[..len]))
    }

    pub(crate) fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(), VerifyError> {
        let scheme = self.scheme;
        let header: &'static str = scheme.header;
        let malformed = |reason| VerifyError::MalformedHeader { header, reason };
        if scheme.optional && !headers.contains_key(&self.header.name) {
            return Ok(());
        }
        // Bytes, not text: the entries are ASCII or invalid, and skipping the UTF-8 check
        // and the substring searcher keeps parsing cheap next to the MAC itself.
        let value = self.header.value(headers)?.as_bytes();

        let mut entries = [[0u8; DECODE_BUF]; MAX_ENTRIES];
        let (mut accepted, mut well_formed) = (0usize, 0usize);
        let mut timestamp: Option<&[u8]> = None;
        let ts_label = scheme
            .timestamp
            .and_then(|t| t.label.as_deref())
            .map(str::as_bytes);
        let want_label = scheme.format.scheme.as_deref().map(str::as_bytes);
        for entry in entries_of(value, scheme.format.separator.as_deref())
            .map(<[u8]>::trim_ascii)
            .filter(|e| !e.is_empty())
        {
            let (label, signature) = match scheme
                .format
                .label_separator
                .as_deref()
                .and_then(|s| split_once(entry, s))
            {
                Some((label, signature)) => (Some(label.trim_ascii()), signature.trim_ascii()),
                None => (None, entry),
            };
            if label.is_some() && label == ts_label {
                timestamp = Some(signature);
                continue;
            }
            if want_label.is_some() && label != want_label {
                continue; // another scheme (`v0=`): never tried, so it cannot weaken the check
            }
            accepted += 1;
            if well_formed == MAX_ENTRIES {
                return Err(malformed("too many signatures"));
            }
            if decode_into(scheme.encoding, signature, &mut entries[well_formed])
                == Some(self.tag_len)
            {
                well_formed += 1;
            }
        }
        if accepted == 0 {
            // An optional scheme may share its header with another (Standard Webhooks'
            // `v1a,` beside `v1,`): no entry of its own means nothing to check.
            if scheme.optional {
                return Ok(());
            }
            return Err(VerifyError::NoAcceptedScheme { header });
        }
        if well_formed == 0 {
            return Err(malformed(
                "no signature has the expected length and encoding",
            ));
        }

        let timestamp = match scheme.timestamp {
            None => None,
            Some(_) => {
                let (text, header) = match &self.timestamp_header {
                    Some(h) => (h.value(headers)?.as_bytes(), h.label()),
                    None => (timestamp.ok_or(malformed("no signed timestamp"))?, header),
                };
                let seconds: i64 = std::str::from_utf8(text)
                    .ok()
                    .and_then(|t| t.trim().parse().ok())
                    .ok_or(VerifyError::MalformedHeader {
                        header,
                        reason: "timestamp is not Unix seconds",
                    })?;
                Some((text, seconds))
            }
        };

        let mut pieces: [&[u8]; MAX_PARTS] = [&[]; MAX_PARTS];
        for (slot, part) in pieces.iter_mut().zip(&self.parts) {
            *slot = match part {
                Part::Literal(text) => text.as_bytes(),
                Part::Body => body,
                Part::Timestamp => timestamp.map_or(&[][..], |(text, _)| text),
                Part::Header(h) => h.value(headers)?.as_bytes(),
            };
        }
        let pieces = &pieces[..self.parts.len()];

        if !self.matches(pieces, &entries[..well_formed]) {
            return Err(VerifyError::NoMatchingSignature);
        }
        if let (Some((_, seconds)), Some(ts)) = (timestamp, scheme.timestamp) {
            let ahead = ts
                .future_tolerance()
                .map_or(u64::MAX, |d| d.get().as_secs());
            check_age(
                seconds,
                unix_seconds(now),
                ts.tolerance.get().as_secs(),
                ahead,
            )?;
        }
        Ok(())
    }
}

impl HmacCheck {
    /// Whether any well-formed entry is a signature of `pieces` by any configured key.
    /// HMAC tags are compared in constant time, all of them, whatever matched first.
    fn matches(&self, pieces: &[&[u8]], entries: &[[u8; DECODE_BUF]]) -> bool {
        let n = self.tag_len;
        let mut message: Option<Vec<u8>> = None;
        let mut tag = [0u8; DECODE_BUF];
        let mut matched = subtle::Choice::from(0);
        for key in &self.keys {
            match key {
                Keyed::Ed25519(public) => {
                    let message = message.get_or_insert_with(|| pieces.concat());
                    for entry in entries {
                        if public.verify(message, &entry[..n]).is_ok() {
                            matched |= subtle::Choice::from(1);
                        }
                    }
                }
                hmac => {
                    let n = hmac.tag(pieces, &mut tag);
                    for entry in entries {
                        matched |= tag[..n].ct_eq(&entry[..n]);
                    }
                }
            }
        }
        bool::from(matched)
    }
}

/// The entries of a header value: split on `separator`, or the whole value.
fn entries_of<'v>(
    value: &'v [u8],
    separator: Option<&'static str>,
) -> impl Iterator<Item = &'v [u8]> {
    let mut rest = Some(value);
    std::iter::from_fn(move || {
        let current = rest?;
        match separator.and_then(|s| split_once(current, s)) {
            Some((entry, more)) => {
                rest = Some(more);
                Some(entry)
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

/// `s` split at the first `sep` (an empty separator never splits).
fn split_once<'v>(s: &'v [u8], sep: &str) -> Option<(&'v [u8], &'v [u8])> {
    let sep = sep.as_bytes();
    let i = match sep {
        [] => return None,
        [b] => s.iter().position(|c| c == b)?,
        _ => s.windows(sep.len()).position(|w| w == sep)?,
    };
    Some((&s[..i], &s[i + sep.len()..]))
}

/// The signed template as the verifier walks it, from the one reading of templates
/// ([`signed_pieces`]) that validation and the signer share.
fn parse_template(template: &'static str) -> Result<Vec<Part>, ConfigError> {
    let bad = |reason: String| ConfigError::BadTemplate { reason };
    let mut parts = Vec::new();
    for piece in signed_pieces(template) {
        parts.push(match piece {
            SignedPiece::Literal(text) => Part::Literal(text),
            SignedPiece::Body => Part::Body,
            SignedPiece::Timestamp => Part::Timestamp,
            SignedPiece::Header(name) => Part::Header(Header::new(name)?),
            SignedPiece::Unknown(name) => {
                return Err(bad(format!("unknown placeholder `{{{name}}}`")))
            }
            SignedPiece::Unclosed(_) => return Err(bad(format!("unclosed `{{` in `{template}`"))),
        });
    }
    if parts.len() > MAX_PARTS {
        return Err(bad(format!("more than {MAX_PARTS} pieces")));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        assert_eq!(parse_template("{body}").unwrap(), vec![Part::Body]);
        assert_eq!(
            parse_template("v0:{timestamp}:{body}").unwrap(),
            vec![
                Part::Literal("v0:"),
                Part::Timestamp,
                Part::Literal(":"),
                Part::Body
            ]
        );
        assert_eq!(
            parse_template("{header:webhook-id}.{body}").unwrap(),
            vec![
                Part::Header(Header::new("webhook-id").unwrap()),
                Part::Literal("."),
                Part::Body
            ]
        );
        assert!(parse_template("{body").is_err());
        assert!(parse_template("{nonce}.{body}").is_err());
        assert!(parse_template("{header:}").is_err());
    }

    /// RFC 8032, section 7.1, TEST 2: a one-byte message (0x72) signed with Ed25519.
    #[test]
    fn ed25519_verifies_the_rfc_8032_vector() {
        use base64::Engine;
        use hookspec_core::{SecretEncoding, SignatureEncoding, SignatureFormat};
        let public = hex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
        let signature = "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da\
                         085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";
        let scheme: &'static Ed25519Auth = Box::leak(Box::new(Ed25519Auth {
            header: "signature".into(),
            encoding: SignatureEncoding::HexLower,
            signed: "{body}".into(),
            format: SignatureFormat {
                separator: None,
                label_separator: None,
                scheme: None,
            },
            timestamp: None,
            public_key: SecretFormat {
                encoding: SecretEncoding::Base64,
                strip_prefix: Some("whpk_".into()),
            },
            optional: false,
            description: None,
        }));
        let key = format!(
            "whpk_{}",
            base64::engine::general_purpose::STANDARD.encode(&public)
        );
        let check = HmacCheck::ed25519(scheme, &[key]).unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("signature", signature.parse().unwrap());
        let now = SystemTime::UNIX_EPOCH;
        assert!(check.verify(&headers, &[0x72], now).is_ok());
        assert_eq!(
            check.verify(&headers, &[0x73], now),
            Err(VerifyError::NoMatchingSignature)
        );
        // A key of the wrong length is refused when the verifier is built.
        let short = format!(
            "whpk_{}",
            base64::engine::general_purpose::STANDARD.encode([1u8; 31])
        );
        assert!(matches!(
            HmacCheck::ed25519(scheme, &[short]),
            Err(ConfigError::BadSecretEncoding { index: 0, .. })
        ));
    }

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn splitting_on_one_several_or_no_bytes() {
        assert_eq!(split_once(b"v1=ab", "="), Some((&b"v1"[..], &b"ab"[..])));
        assert_eq!(
            split_once(b"a::b::c", "::"),
            Some((&b"a"[..], &b"b::c"[..]))
        );
        assert_eq!(split_once(b"abc", ""), None);
        assert_eq!(split_once(b"abc", ","), None);
        let all: Vec<&[u8]> = entries_of(b"a, b,,c", Some(",")).collect();
        assert_eq!(all, [&b"a"[..], b" b", b"", b"c"]);
    }
}
