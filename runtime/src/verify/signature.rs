//! A signature of the request in a header, by any [`SignatureAlgorithm`], with the
//! layout (template, labels, encoding, timestamp) read from the scheme (Bridge's
//! `BridgeApi-Signature: v1=<HEX>,v1=<HEX>`, Standard Webhooks' `v1,<B64> v1a,<B64>`,
//! Twilio's URL and form parameters, SendGrid's DER ECDSA).

use std::borrow::Cow;
use std::fmt;
use std::time::SystemTime;

use subtle::ConstantTimeEq;

use super::algorithm::Keyed;
use super::encoding::decode_into;
use super::error::{ConfigError, VerifyError};
use super::jwt::check_age;
use super::{pieces, unix_seconds, Header, Request};
use hookspec_core::{
    signed_pieces, SignatureAuth, SignedPiece, TimestampUnit, SIGNED_PLACEHOLDERS,
};

/// Signatures with the accepted label read from one header at most (rotation sends two).
const MAX_ENTRIES: usize = 8;
/// Pieces a signed template may have.
const MAX_PARTS: usize = 16;
/// The longest detached JWS read (its protected header is parsed as JSON).
const MAX_JWS: usize = 4096;
/// Room for the longest decoded signature (RSA-4096, 512 bytes) and base64's
/// conservative length estimate.
const SIGNATURE_BUF: usize = 520;

/// One piece of the signed template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(&'static str),
    Body,
    Timestamp,
    Header(Header),
    Url,
    Method,
    Path,
    Form,
    FormParam(&'static str),
    Field(&'static str),
    SignedHeaders,
}

pub(crate) struct SignatureCheck {
    scheme: &'static SignatureAuth,
    header: Header,
    timestamp_header: Option<Header>,
    parts: Vec<Part>,
    keys: Vec<Keyed>,
}

impl fmt::Debug for SignatureCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignatureCheck")
            .field("header", &self.scheme.header)
            .field("algorithm", &self.scheme.algorithm)
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl SignatureCheck {
    pub(crate) fn header(&self) -> &'static str {
        &self.scheme.header
    }

    pub(crate) fn signs_target(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Url | Part::Method | Part::Path))
    }

    /// The check of `scheme` with the receiver's keys, as configured (an HMAC's secrets or
    /// the provider's public keys, prefix and encoding included).
    pub(crate) fn new(scheme: &'static SignatureAuth, given: &[&str]) -> Result<Self, ConfigError> {
        let algorithm = scheme.algorithm;
        if given.is_empty() {
            return Err(if algorithm.is_secret() {
                ConfigError::MissingHmacSecret
            } else {
                ConfigError::MissingPublicKey { algorithm }
            });
        }
        let keys = given
            .iter()
            .enumerate()
            .map(|(index, text)| {
                scheme
                    .key
                    .key(text)
                    .and_then(|bytes| Keyed::new(algorithm, &bytes))
                    .ok_or_else(|| ConfigError::BadSecretEncoding {
                        what: algorithm.key_noun(),
                        index,
                        expected: if algorithm.is_secret() {
                            scheme.key.describe()
                        } else {
                            format!("{}, an {} key", scheme.key.describe(), algorithm.name())
                        },
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let parts = parse_template(&scheme.signed)?;
        if parts.contains(&Part::Timestamp) && scheme.timestamp.is_none() {
            return Err(ConfigError::BadTemplate {
                reason: "`{timestamp}` is signed but the scheme says where no timestamp is".into(),
            });
        }
        Ok(SignatureCheck {
            scheme,
            header: Header::new(&scheme.header)?,
            timestamp_header: scheme
                .timestamp
                .as_ref()
                .and_then(|t| t.header.as_deref())
                .map(Header::new)
                .transpose()?,
            parts,
            keys,
        })
    }

    /// The MAC of `value` with the first HMAC key, written in the scheme's encoding
    /// (`None` for a public-key scheme, which has no secret).
    pub(crate) fn mac_of(&self, value: &[u8]) -> Option<String> {
        let mut out = [0u8; SIGNATURE_BUF];
        let len = self.keys.first()?.tag(&[value], &mut out)?;
        Some(super::encoding::encode(self.scheme.encoding, &out[..len]))
    }

    pub(crate) fn verify(&self, request: &Request<'_>, now: SystemTime) -> Result<(), VerifyError> {
        let scheme = self.scheme;
        let headers = request.headers;
        let header: &'static str = &scheme.header;
        let malformed = |reason| VerifyError::MalformedHeader { header, reason };
        if scheme.optional && !headers.contains_key(&self.header.name) {
            return Ok(());
        }
        // Bytes, not text: the entries are ASCII or invalid, and skipping the UTF-8 check
        // and the substring searcher keeps parsing cheap next to the MAC itself.
        let value = self.header.value(headers)?.as_bytes();
        if scheme.jws.is_some() {
            return self.verify_jws(request, value, now);
        }

        let length = scheme.algorithm.signature_len();
        let mut entries = [[0u8; SIGNATURE_BUF]; MAX_ENTRIES];
        let mut lengths = [0usize; MAX_ENTRIES];
        let (mut accepted, mut well_formed) = (0usize, 0usize);
        let mut timestamp: Option<&[u8]> = None;
        let ts_label = scheme
            .timestamp
            .as_ref()
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
            if let Some(n) = decode_into(scheme.encoding, signature, &mut entries[well_formed])
                .filter(|n| length.admits(*n))
            {
                lengths[well_formed] = n;
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

        let timestamp = self.timestamp(request, timestamp)?;
        let owned = self.pieces(request, timestamp.map(|(text, _)| text), &[])?;
        let mut pieces: [&[u8]; MAX_PARTS] = [&[]; MAX_PARTS];
        for (slot, piece) in pieces.iter_mut().zip(&owned) {
            *slot = piece;
        }
        let pieces = &pieces[..self.parts.len()];

        let mut signatures: [&[u8]; MAX_ENTRIES] = [&[]; MAX_ENTRIES];
        for ((slot, entry), n) in signatures.iter_mut().zip(&entries).zip(&lengths) {
            *slot = &entry[..*n];
        }
        if !self.matches(pieces, &signatures[..well_formed]) {
            return Err(VerifyError::NoMatchingSignature);
        }
        self.check_fresh(timestamp, now)
    }

    /// The signed timestamp's text and Unix seconds, from its own header or the entry
    /// `in_header` found; `None` when the scheme has none.
    fn timestamp<'r>(
        &self,
        request: &Request<'r>,
        in_header: Option<&'r [u8]>,
    ) -> Result<Option<(&'r [u8], i64)>, VerifyError> {
        let Some(ts) = &self.scheme.timestamp else {
            return Ok(None);
        };
        let (text, header) = match &self.timestamp_header {
            Some(h) => (h.value(request.headers)?.as_bytes(), h.label()),
            None => {
                let header: &'static str = &self.scheme.header;
                let text = in_header.ok_or(VerifyError::MalformedHeader {
                    header,
                    reason: "no signed timestamp",
                })?;
                (text, header)
            }
        };
        let reason = match ts.unit {
            TimestampUnit::UnixSeconds => "timestamp is not Unix seconds",
            TimestampUnit::UnixMilliseconds => "timestamp is not Unix milliseconds",
            TimestampUnit::Rfc3339 => "timestamp is not an RFC 3339 date and time",
        };
        let seconds = std::str::from_utf8(text)
            .ok()
            .and_then(|t| ts.unit.parse(t))
            .ok_or(VerifyError::MalformedHeader { header, reason })?;
        Ok(Some((text, seconds)))
    }

    /// Refuses a signed time outside the tolerance (checked after the signature, so a
    /// forger learns nothing about the clock).
    fn check_fresh(
        &self,
        timestamp: Option<(&[u8], i64)>,
        now: SystemTime,
    ) -> Result<(), VerifyError> {
        if let (Some((_, seconds)), Some(ts)) = (timestamp, &self.scheme.timestamp) {
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

    /// The template's pieces filled from `request`; `listed` are the headers a detached
    /// JWS names for `{signed_headers}`.
    fn pieces<'r>(
        &self,
        request: &'r Request<'r>,
        timestamp: Option<&'r [u8]>,
        listed: &[&str],
    ) -> Result<[Cow<'r, [u8]>; MAX_PARTS], VerifyError> {
        let headers = request.headers;
        let target = || request.target.as_ref().ok_or(VerifyError::NoTarget);
        // A body whose fields are signed is parsed once, however many fields.
        let mut json: Option<serde_json::Value> = None;
        let mut owned: [Cow<'r, [u8]>; MAX_PARTS] = std::array::from_fn(|_| Cow::Borrowed(&[][..]));
        for (slot, part) in owned.iter_mut().zip(&self.parts) {
            *slot = match part {
                Part::Literal(text) => Cow::Borrowed(text.as_bytes()),
                Part::Body => Cow::Borrowed(request.body),
                Part::Timestamp => Cow::Borrowed(timestamp.unwrap_or_default()),
                Part::Header(h) => Cow::Borrowed(h.value(headers)?.as_bytes()),
                Part::Url => Cow::Borrowed(target()?.url.as_bytes()),
                Part::Method => Cow::Borrowed(target()?.method.as_bytes()),
                Part::Path => Cow::Borrowed(pieces::url_path(target()?.url).as_bytes()),
                Part::Form => Cow::Owned(pieces::sorted_form(request.body)),
                Part::FormParam(name) => Cow::Owned(pieces::form_param(request.body, name)),
                Part::Field(path) => {
                    let body = match &mut json {
                        Some(body) => body,
                        None => json.insert(
                            serde_json::from_slice(request.body)
                                .map_err(|_| VerifyError::BodyNotJson)?,
                        ),
                    };
                    Cow::Owned(pieces::json_field(body, path))
                }
                Part::SignedHeaders => {
                    let mut out = Vec::new();
                    for name in listed {
                        let value = headers.get(*name).ok_or(VerifyError::MalformedHeader {
                            header: &self.scheme.header,
                            reason: "a header the signature lists is missing",
                        })?;
                        pieces::listed_header(&mut out, name, value.as_bytes());
                    }
                    Cow::Owned(out)
                }
            };
        }
        Ok(owned)
    }

    /// A detached JWS (`<protected>..<signature>`): the protected header names an `alg`
    /// that must be the scheme's (never the other way round: no algorithm confusion),
    /// carries the required parameters and lists the signed headers; the signing input is
    /// the protected part, a full stop and the base64url of the filled template.
    fn verify_jws(
        &self,
        request: &Request<'_>,
        value: &[u8],
        now: SystemTime,
    ) -> Result<(), VerifyError> {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine as _;
        let scheme = self.scheme;
        let Some(jws) = &scheme.jws else {
            return Err(VerifyError::NoMatchingSignature);
        };
        let header: &'static str = &scheme.header;
        let malformed = |reason| VerifyError::MalformedHeader { header, reason };
        if value.len() > MAX_JWS {
            return Err(malformed("the JWS is too long"));
        }
        let text = std::str::from_utf8(value).map_err(|_| malformed("not visible ASCII"))?;
        let (protected_b64, signature_b64) = text
            .trim()
            .split_once("..")
            .ok_or(malformed("not a detached JWS (`<header>..<signature>`)"))?;
        let protected: serde_json::Map<String, serde_json::Value> = URL_SAFE_NO_PAD
            .decode(protected_b64)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or(malformed("the JWS header is not base64url JSON"))?;
        let alg = protected.get("alg").and_then(|a| a.as_str()).unwrap_or("");
        if Some(alg) != scheme.algorithm.jws_name() {
            return Err(VerifyError::UnsupportedAlgorithm {
                alg: alg.chars().take(32).collect(),
            });
        }
        if let Some(param) = jws.key_url_param.as_deref() {
            // A key set the provider does not publish could hold any key.
            if let Some(url) = protected.get(param) {
                let allowed = url
                    .as_str()
                    .is_some_and(|u| jws.key_urls.iter().any(|k| **k == *u));
                if !allowed {
                    return Err(VerifyError::KeyUrlNotAllowed);
                }
            }
        }
        for (name, want) in jws.requires.iter() {
            if protected.get(name).and_then(|v| v.as_str()) != Some(want) {
                return Err(malformed(
                    "the JWS header lacks a parameter the scheme requires",
                ));
            }
        }
        let listed: Vec<&str> = match jws.headers_param.as_deref().map(|p| protected.get(p)) {
            Some(Some(serde_json::Value::String(list))) => list
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .collect(),
            Some(Some(_)) => return Err(malformed("the JWS header's list of headers is not text")),
            Some(None) | None => Vec::new(),
        };
        if listed.len() > MAX_PARTS {
            return Err(malformed("the JWS lists too many headers"));
        }
        // A timestamp the signature does not cover could be replaced at will.
        if let Some(ts) = self.timestamp_header.as_ref() {
            if !listed.iter().any(|n| n.eq_ignore_ascii_case(ts.label())) {
                return Err(malformed(
                    "the signature does not cover the timestamp header",
                ));
            }
        }
        let mut signature = [0u8; SIGNATURE_BUF];
        let n = decode_into(scheme.encoding, signature_b64.as_bytes(), &mut signature)
            .filter(|n| scheme.algorithm.signature_len().admits(*n))
            .ok_or(malformed(
                "no signature has the expected length and encoding",
            ))?;
        let timestamp = self.timestamp(request, None)?;
        let pieces = self.pieces(request, timestamp.map(|(text, _)| text), &listed)?;
        let payload: Vec<u8> = pieces[..self.parts.len()].concat();
        let input = format!("{protected_b64}.{}", URL_SAFE_NO_PAD.encode(payload));
        if !self.matches(&[input.as_bytes()], &[&signature[..n]]) {
            return Err(VerifyError::NoMatchingSignature);
        }
        self.check_fresh(timestamp, now)
    }

    /// Whether any well-formed entry is a signature of `pieces` by any configured key.
    /// HMAC tags are compared in constant time, all of them, whatever matched first.
    fn matches(&self, pieces: &[&[u8]], entries: &[&[u8]]) -> bool {
        let mut message: Option<Vec<u8>> = None;
        let mut tag = [0u8; SIGNATURE_BUF];
        let mut matched = subtle::Choice::from(0);
        for key in &self.keys {
            match key.tag(pieces, &mut tag) {
                Some(n) => {
                    for entry in entries {
                        matched |= tag[..n].ct_eq(entry);
                    }
                }
                None => {
                    let message = message.get_or_insert_with(|| pieces.concat());
                    for entry in entries {
                        if key.verifies(message, entry) {
                            matched |= subtle::Choice::from(1);
                        }
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
            SignedPiece::Url => Part::Url,
            SignedPiece::Method => Part::Method,
            SignedPiece::Path => Part::Path,
            SignedPiece::Form => Part::Form,
            SignedPiece::FormParam(name) => Part::FormParam(name),
            SignedPiece::Field(path) => Part::Field(path),
            SignedPiece::SignedHeaders => Part::SignedHeaders,
            SignedPiece::Unknown(name) => {
                return Err(bad(format!(
                    "unknown placeholder `{{{name}}}` (known: {SIGNED_PLACEHOLDERS})"
                )))
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
        use hookspec_core::{
            SecretEncoding, SecretFormat, SignatureAlgorithm, SignatureEncoding, SignatureFormat,
        };
        let public = hex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
        let signature = "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da\
                         085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";
        let scheme: &'static SignatureAuth = Box::leak(Box::new(SignatureAuth {
            header: "signature".into(),
            algorithm: SignatureAlgorithm::Ed25519,
            encoding: SignatureEncoding::HexLower,
            signed: "{body}".into(),
            format: SignatureFormat {
                separator: None,
                label_separator: None,
                scheme: None,
            },
            jws: None,
            timestamp: None,
            key: SecretFormat {
                encoding: SecretEncoding::Base64,
                strip_prefix: Some("whpk_".into()),
            },
            rotation: None,
            optional: false,
            description: None,
        }));
        let key = format!(
            "whpk_{}",
            base64::engine::general_purpose::STANDARD.encode(&public)
        );
        let check = SignatureCheck::new(scheme, &[&key]).unwrap();
        let mut headers = http::HeaderMap::new();
        headers.insert("signature", signature.parse().unwrap());
        let now = SystemTime::UNIX_EPOCH;
        let request = |body: &'static [u8]| Request::new(&headers, body);
        assert!(check.verify(&request(&[0x72]), now).is_ok());
        assert_eq!(
            check.verify(&request(&[0x73]), now),
            Err(VerifyError::NoMatchingSignature)
        );
        // A key of the wrong length is refused when the verifier is built.
        let short = format!(
            "whpk_{}",
            base64::engine::general_purpose::STANDARD.encode([1u8; 31])
        );
        assert!(matches!(
            SignatureCheck::new(scheme, &[&short]),
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
