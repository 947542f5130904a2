//! Why an RFC 9421 signature could not be built, parsed or verified.

use std::fmt;

use super::Algorithm;

/// Why a message signature was refused (or a signature base could not be built). Carries
/// no key material; key ids and labels are not secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    /// `Signature-Input` or `Signature` is absent.
    MissingField {
        /// The field.
        field: &'static str,
    },
    /// A field or parameter cannot be parsed as RFC 9421 says it must.
    Malformed {
        /// The field or parameter.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// No signature with an accepted label is in the message.
    NoSignature,
    /// A label is in `Signature-Input` but not in `Signature`.
    MissingSignatureValue {
        /// The label.
        label: String,
    },
    /// The signature names no `keyid`.
    MissingKeyId,
    /// The key lookup does not know the `keyid`.
    UnknownKey {
        /// The key id.
        keyid: String,
    },
    /// `alg` names an algorithm this engine does not know.
    UnknownAlgorithm {
        /// The `alg` as sent, shortened to 32 characters.
        alg: String,
    },
    /// `alg` disagrees with the key's algorithm (refused: no algorithm confusion).
    AlgorithmMismatch {
        /// The algorithm the signature claims.
        claimed: Algorithm,
        /// The key's algorithm.
        key: Algorithm,
    },
    /// A component the caller requires is not covered by the signature.
    MissingRequiredComponent {
        /// The component identifier.
        component: String,
    },
    /// A covered component cannot be given a value (absent field, unknown derived
    /// component, bad parameter, ...): the base cannot be built.
    Component {
        /// The component identifier.
        component: String,
        /// Why.
        reason: String,
    },
    /// The signature has no `created` and the caller requires one.
    MissingCreated,
    /// `created` lies further in the future than the tolerance.
    CreatedInFuture {
        /// Seconds ahead of `now`.
        ahead_secs: u64,
    },
    /// `created` is older than the caller's maximum age.
    TooOld {
        /// Age in seconds.
        age_secs: u64,
    },
    /// `expires` has passed.
    Expired {
        /// Seconds since `expires`.
        since_secs: u64,
    },
    /// The key cannot be used (bad DER/PEM, wrong key type for the algorithm).
    InvalidKey {
        /// Why.
        reason: &'static str,
    },
    /// The signature does not verify under the key.
    BadSignature,
}

impl SignatureError {
    pub(crate) fn malformed(what: &'static str, reason: impl fmt::Display) -> Self {
        SignatureError::Malformed {
            what,
            reason: reason.to_string(),
        }
    }

    pub(crate) fn component(component: impl fmt::Display, reason: impl fmt::Display) -> Self {
        SignatureError::Component {
            component: component.to_string(),
            reason: reason.to_string(),
        }
    }
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use SignatureError::*;
        match self {
            MissingField { field } => write!(f, "missing {field} field"),
            Malformed { what, reason } => write!(f, "malformed {what}: {reason}"),
            NoSignature => f.write_str("no signature with an accepted label"),
            MissingSignatureValue { label } => {
                write!(f, "signature `{label}` has no value in the Signature field")
            }
            MissingKeyId => f.write_str("the signature names no keyid"),
            UnknownKey { keyid } => write!(f, "unknown keyid `{keyid}`"),
            UnknownAlgorithm { alg } => write!(f, "unknown algorithm `{alg}`"),
            AlgorithmMismatch { claimed, key } => {
                write!(f, "alg `{claimed}` does not match the key's `{key}`")
            }
            MissingRequiredComponent { component } => {
                write!(f, "required component {component} is not covered")
            }
            Component { component, reason } => write!(f, "component {component}: {reason}"),
            MissingCreated => f.write_str("the signature has no `created` parameter"),
            CreatedInFuture { ahead_secs } => write!(f, "created {ahead_secs}s in the future"),
            TooOld { age_secs } => write!(f, "signature created {age_secs}s ago is too old"),
            Expired { since_secs } => write!(f, "signature expired {since_secs}s ago"),
            InvalidKey { reason } => write!(f, "invalid key: {reason}"),
            BadSignature => f.write_str("the signature does not verify"),
        }
    }
}

impl std::error::Error for SignatureError {}
