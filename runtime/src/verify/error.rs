//! Why a delivery was refused, and why a verifier could not be built.

use std::fmt;
use std::net::IpAddr;

/// Why a delivery was refused. Each variant names the check that failed; none carries a
/// secret (key ids and client ids are not secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// A header the scheme needs is absent.
    MissingHeader {
        /// The header.
        header: &'static str,
    },
    /// A header is present but cannot be read.
    MalformedHeader {
        /// The header.
        header: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The JWT names an algorithm the scheme does not accept (`none`, `HS256`, ...).
    UnsupportedAlgorithm {
        /// The `alg` as sent, shortened to 32 characters.
        alg: String,
    },
    /// The key source does not know the JWT's key id.
    UnknownKey {
        /// The key id.
        kid: String,
    },
    /// The JWT's key has been retired by the provider.
    ExpiredKey {
        /// The key id.
        kid: String,
    },
    /// The key could not be fetched (network, endpoint error); the delivery may be retried.
    KeyUnavailable {
        /// The key id.
        kid: String,
        /// What went wrong (never contains the credentials sent to the key endpoint).
        reason: String,
    },
    /// The signature does not verify under the key.
    BadSignature,
    /// The token or signed timestamp is older than the scheme allows.
    TokenTooOld {
        /// Its age in seconds.
        age_secs: u64,
    },
    /// The token or signed timestamp lies further in the future than the allowed skew.
    TokenFromFuture {
        /// How far ahead of the clock it is, in seconds.
        ahead_secs: u64,
    },
    /// The body's digest differs from the one the token signs: the body was changed.
    BodyHashMismatch,
    /// The signature header has no entry with the accepted label (e.g. only `v0=`).
    NoAcceptedScheme {
        /// The header.
        header: &'static str,
    },
    /// No signature entry matches a configured key (wrong key or changed request).
    NoMatchingSignature,
    /// The scheme signs the request's method or URL, but the caller gave the verifier
    /// none ([`Request::target`](super::Request::target)): a receiver set-up error.
    NoTarget,
    /// The scheme signs fields of the body, and the body is not JSON.
    BodyNotJson,
    /// The signature names a key-set URL (`jku`) that is not one of the provider's.
    KeyUrlNotAllowed,
    /// The `Authorization` header differs from the configured credential.
    WrongCredentials,
    /// The identifying header names a client that is not configured.
    UnknownClient,
    /// The request comes from an address outside the allowlist.
    SourceNotAllowed {
        /// The client address that was checked.
        ip: IpAddr,
    },
}

/// Every [`VerifyError::kind`] with what it means, for documents that name them (the test
/// vectors' JSON Schema).
pub const ERROR_KINDS: [(&str, &str); 18] = [
    ("missing_header", "a header the scheme needs is absent"),
    ("malformed_header", "a header is present but cannot be read (encoding, length, timestamp format, too many entries)"),
    ("unsupported_algorithm", "the JWT names an algorithm the scheme does not accept (none, HS256, ...)"),
    ("unknown_key", "the key source does not know the key id"),
    ("expired_key", "the key has been retired by the provider"),
    ("key_unavailable", "the key could not be fetched; the provider should retry (503)"),
    ("bad_signature", "the JWT's signature does not verify under its key"),
    ("token_too_old", "the signed time is older than the tolerance"),
    ("token_from_future", "the signed time lies further ahead than the tolerance"),
    ("body_hash_mismatch", "the body's digest differs from the signed one"),
    ("no_accepted_scheme", "the signature header has no entry with the accepted label"),
    ("no_matching_signature", "no signature entry verifies under a configured key"),
    ("no_target", "the scheme signs the URL or method, which the receiver did not pass to its verifier (500)"),
    ("body_not_json", "the scheme signs fields of a body that is not JSON"),
    ("key_url_not_allowed", "the signature names a key-set URL (jku) that is not one of the provider's"),
    ("wrong_credentials", "the Authorization value differs from the configured one"),
    ("unknown_client", "the identifying header names a client that is not configured (403)"),
    ("source_not_allowed", "the request comes from an address outside the allowlist (403)"),
];

impl VerifyError {
    /// The HTTP status to answer with: 403 for a sender that is not allowed (source
    /// address, unknown client), 503 when the key could not be fetched (so the provider
    /// retries later), 401 for every other failed check.
    pub fn status(&self) -> u16 {
        match self {
            VerifyError::SourceNotAllowed { .. } | VerifyError::UnknownClient => 403,
            VerifyError::KeyUnavailable { .. } => 503,
            VerifyError::NoTarget => 500,
            _ => 401,
        }
    }

    /// A stable snake_case id of the failed check, as used in the test vectors.
    pub fn kind(&self) -> &'static str {
        match self {
            VerifyError::MissingHeader { .. } => "missing_header",
            VerifyError::MalformedHeader { .. } => "malformed_header",
            VerifyError::UnsupportedAlgorithm { .. } => "unsupported_algorithm",
            VerifyError::UnknownKey { .. } => "unknown_key",
            VerifyError::ExpiredKey { .. } => "expired_key",
            VerifyError::KeyUnavailable { .. } => "key_unavailable",
            VerifyError::BadSignature => "bad_signature",
            VerifyError::TokenTooOld { .. } => "token_too_old",
            VerifyError::TokenFromFuture { .. } => "token_from_future",
            VerifyError::BodyHashMismatch => "body_hash_mismatch",
            VerifyError::NoAcceptedScheme { .. } => "no_accepted_scheme",
            VerifyError::NoMatchingSignature => "no_matching_signature",
            VerifyError::NoTarget => "no_target",
            VerifyError::BodyNotJson => "body_not_json",
            VerifyError::KeyUrlNotAllowed => "key_url_not_allowed",
            VerifyError::WrongCredentials => "wrong_credentials",
            VerifyError::UnknownClient => "unknown_client",
            VerifyError::SourceNotAllowed { .. } => "source_not_allowed",
        }
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::MissingHeader { header } => write!(f, "missing header `{header}`"),
            VerifyError::MalformedHeader { header, reason } => {
                write!(f, "malformed header `{header}`: {reason}")
            }
            VerifyError::UnsupportedAlgorithm { alg } => {
                write!(f, "JWT algorithm `{alg}` is not accepted")
            }
            VerifyError::UnknownKey { kid } => write!(f, "unknown key id `{kid}`"),
            VerifyError::ExpiredKey { kid } => write!(f, "key `{kid}` has expired"),
            VerifyError::KeyUnavailable { kid, reason } => {
                write!(f, "key `{kid}` could not be fetched: {reason}")
            }
            VerifyError::BadSignature => f.write_str("the signature does not verify"),
            VerifyError::TokenTooOld { age_secs } => {
                write!(f, "the signature is too old ({age_secs} s)")
            }
            VerifyError::TokenFromFuture { ahead_secs } => {
                write!(f, "the signature is {ahead_secs} s in the future")
            }
            VerifyError::BodyHashMismatch => {
                f.write_str("the body does not match the signed digest")
            }
            VerifyError::NoAcceptedScheme { header } => {
                write!(f, "`{header}` has no signature with the accepted label")
            }
            VerifyError::NoMatchingSignature => {
                f.write_str("no signature matches a configured key")
            }
            VerifyError::NoTarget => f.write_str(
                "the scheme signs the request's URL or method, which the receiver did not pass \
                 to the verifier",
            ),
            VerifyError::BodyNotJson => {
                f.write_str("the scheme signs fields of the body, which is not JSON")
            }
            VerifyError::KeyUrlNotAllowed => {
                f.write_str("the signature names a key-set URL that is not the provider's")
            }
            VerifyError::WrongCredentials => f.write_str("wrong credentials"),
            VerifyError::UnknownClient => f.write_str("unknown client id"),
            VerifyError::SourceNotAllowed { ip } => {
                write!(f, "source address {ip} is not allowed")
            }
        }
    }
}

impl std::error::Error for VerifyError {}

/// Why a [`Verifier`](super::Verifier) cannot be built from a scheme and credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The spec has a JWT scheme but no key source was configured.
    MissingKeySource,
    /// The spec has an HMAC scheme but no secret was configured.
    MissingHmacSecret,
    /// The spec has an `Authorization` scheme but neither Basic nor Bearer was configured.
    MissingAuthorization,
    /// A credential kind the scheme does not allow (e.g. Bearer where only Basic exists).
    AuthorizationNotAllowed {
        /// `basic` or `bearer`.
        kind: &'static str,
    },
    /// The spec has an identifying header but no client id was configured.
    MissingClientId,
    /// The spec has a required public-key signature scheme but no public key was
    /// configured.
    MissingPublicKey {
        /// The scheme's algorithm.
        algorithm: hookspec_core::SignatureAlgorithm,
    },
    /// The n-th configured secret or public key (from 0) is not written as the scheme says.
    BadSecretEncoding {
        /// `HMAC secret` or `public key`.
        what: &'static str,
        /// Its position among the configured ones.
        index: usize,
        /// How the scheme says it is written (`base64 after the prefix `whsec_``).
        expected: String,
    },
    /// A header name in the scheme is not a valid HTTP header name.
    BadHeaderName {
        /// The name.
        header: &'static str,
    },
    /// The scheme's signed template has a placeholder that cannot be filled.
    BadTemplate {
        /// What is wrong.
        reason: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::MissingKeySource => {
                f.write_str("the provider signs with a JWT: configure a key source")
            }
            ConfigError::MissingHmacSecret => {
                f.write_str("the provider signs with an HMAC: configure its secret")
            }
            ConfigError::MissingAuthorization => f.write_str(
                "the provider sends an Authorization header: configure the Basic or Bearer \
                 credential set at the provider",
            ),
            ConfigError::AuthorizationNotAllowed { kind } => {
                write!(f, "the provider does not send `{kind}` authorization")
            }
            ConfigError::MissingClientId => {
                f.write_str("the provider sends an identifying header: configure your client id")
            }
            ConfigError::MissingPublicKey { algorithm } => write!(
                f,
                "the provider signs with {}: configure its public key",
                algorithm.describe()
            ),
            ConfigError::BadSecretEncoding {
                what,
                index,
                expected,
            } => {
                write!(f, "{what} #{index} is not written as the provider writes them: expected {expected}")
            }
            ConfigError::BadHeaderName { header } => {
                write!(f, "`{header}` is not a valid header name")
            }
            ConfigError::BadTemplate { reason } => write!(f, "signed template: {reason}"),
        }
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_listed_once() {
        let every = [
            VerifyError::MissingHeader { header: "h" },
            VerifyError::MalformedHeader {
                header: "h",
                reason: "r",
            },
            VerifyError::UnsupportedAlgorithm { alg: "none".into() },
            VerifyError::UnknownKey { kid: "k".into() },
            VerifyError::ExpiredKey { kid: "k".into() },
            VerifyError::KeyUnavailable {
                kid: "k".into(),
                reason: "r".into(),
            },
            VerifyError::BadSignature,
            VerifyError::TokenTooOld { age_secs: 1 },
            VerifyError::TokenFromFuture { ahead_secs: 1 },
            VerifyError::BodyHashMismatch,
            VerifyError::NoAcceptedScheme { header: "h" },
            VerifyError::NoMatchingSignature,
            VerifyError::NoTarget,
            VerifyError::BodyNotJson,
            VerifyError::KeyUrlNotAllowed,
            VerifyError::WrongCredentials,
            VerifyError::UnknownClient,
            VerifyError::SourceNotAllowed {
                ip: std::net::Ipv4Addr::LOCALHOST.into(),
            },
        ];
        let kinds: Vec<&str> = every.iter().map(VerifyError::kind).collect();
        let listed: Vec<&str> = ERROR_KINDS.iter().map(|(k, _)| *k).collect();
        assert_eq!(kinds, listed);
    }
}
