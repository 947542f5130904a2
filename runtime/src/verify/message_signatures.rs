//! HTTP Message Signatures (RFC 9421): a self-contained verifier, and the signature
//! base builder that `hookspec-signer` shares.
//!
//! A [`Message`] is a borrowed view of a request (method, target URI, header lines) or a
//! response (status, header lines, optionally the request it answers). [`verify`]
//! parses `Signature-Input` and `Signature` (RFC 8941 dictionaries, via `sfv`), keeps
//! the labels the caller accepts, and for each one: checks the components the caller
//! requires are covered, checks `created`/`expires` against the caller's clock, looks up
//! the key by `keyid`, refuses an `alg` that differs from the key's algorithm, rebuilds
//! the [`signature_base`] and verifies it with `ring`.
//!
//! Not supported: trailers (`;tr`) and the `Accept-Signature` negotiation.

mod base;
mod components;
mod error;
mod keys;

use std::time::{Duration, SystemTime};

pub use base::{signature_base, FieldType, Message};
pub use components::{ComponentId, ParamValue, Params, SignatureParams};
pub use error::SignatureError;
pub use keys::{der, pem_decode, Algorithm, VerifyingKey};

/// What the caller accepts; build with [`VerifyOptions::new`] and set fields.
#[derive(Debug, Clone)]
pub struct VerifyOptions<'a> {
    /// Labels to verify; empty means every signature in the message.
    pub labels: &'a [&'a str],
    /// Components each verified signature must cover, written as in a signature base
    /// (`"@query-param";name="Pet"`) or as a bare name (`@method`, `content-digest`).
    pub required_components: &'a [&'a str],
    /// The clock.
    pub now: SystemTime,
    /// Allowed clock skew for `created` in the future and for `expires`.
    pub tolerance: Duration,
    /// Oldest `created` accepted; `None` checks no age.
    pub max_age: Option<Duration>,
    /// Whether a signature without `created` is refused.
    pub require_created: bool,
}

impl<'a> VerifyOptions<'a> {
    /// Every label, no required component, 60 s tolerance, no maximum age, `created`
    /// required.
    pub fn new(now: SystemTime) -> Self {
        VerifyOptions {
            labels: &[],
            required_components: &[],
            now,
            tolerance: Duration::from_secs(60),
            max_age: None,
            require_created: true,
        }
    }
}

/// One signature that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Its label.
    pub label: String,
    /// The key's algorithm.
    pub algorithm: Algorithm,
    /// Its covered components and metadata parameters.
    pub params: SignatureParams,
}

/// Verifies every signature of `message` whose label `options` accepts (at least one
/// must be present); `keys` maps a `keyid` to its key. All selected signatures must
/// verify.
pub fn verify(
    message: &Message<'_>,
    keys: impl Fn(&str) -> Option<VerifyingKey>,
    options: &VerifyOptions<'_>,
) -> Result<Vec<Verified>, SignatureError> {
    let inputs = signature_inputs(message)?;
    let values = components::parse_signature(&combined(message, "signature", "Signature")?)?;
    let required = options
        .required_components
        .iter()
        .map(|c| ComponentId::parse(c))
        .collect::<Result<Vec<_>, _>>()?;
    let mut verified = Vec::new();
    for (label, params) in inputs {
        if !options.labels.is_empty() && !options.labels.contains(&label.as_str()) {
            continue;
        }
        let Some((_, sig)) = values.iter().find(|(l, _)| *l == label) else {
            return Err(SignatureError::MissingSignatureValue { label });
        };
        if let Some(missing) = required
            .iter()
            .find(|r| !params.components.iter().any(|c| c.same_as(r)))
        {
            return Err(SignatureError::MissingRequiredComponent {
                component: missing.to_string(),
            });
        }
        check_times(&params, options)?;
        let keyid = params.string("keyid").ok_or(SignatureError::MissingKeyId)?;
        let key = keys(keyid).ok_or_else(|| SignatureError::UnknownKey {
            keyid: keyid.to_owned(),
        })?;
        if let Some(alg) = params
            .params
            .iter()
            .find(|(k, _)| k == "alg")
            .map(|(_, v)| v)
        {
            let claimed = match alg {
                ParamValue::String(s) => {
                    Algorithm::from_name(s).ok_or_else(|| SignatureError::UnknownAlgorithm {
                        alg: s.chars().take(32).collect(),
                    })?
                }
                _ => return Err(SignatureError::malformed("alg", "not a string")),
            };
            if claimed != key.algorithm() {
                return Err(SignatureError::AlgorithmMismatch {
                    claimed,
                    key: key.algorithm(),
                });
            }
        }
        let base = signature_base(message, &params)?;
        if !key.verify(base.as_bytes(), sig) {
            return Err(SignatureError::BadSignature);
        }
        verified.push(Verified {
            label,
            algorithm: key.algorithm(),
            params,
        });
    }
    if verified.is_empty() {
        return Err(SignatureError::NoSignature);
    }
    Ok(verified)
}

/// The labeled signature parameters of `message`'s `Signature-Input` field(s), in order.
pub fn signature_inputs(
    message: &Message<'_>,
) -> Result<Vec<(String, SignatureParams)>, SignatureError> {
    components::parse_signature_input(&combined(message, "signature-input", "Signature-Input")?)
}

/// All lines of a field joined as one structured-field value.
fn combined(
    message: &Message<'_>,
    name: &str,
    field: &'static str,
) -> Result<String, SignatureError> {
    let lines: Vec<&str> = message.header_values(name).collect();
    if lines.is_empty() {
        return Err(SignatureError::MissingField { field });
    }
    Ok(lines.join(", "))
}

fn check_times(
    params: &SignatureParams,
    options: &VerifyOptions<'_>,
) -> Result<(), SignatureError> {
    let now = unix_seconds(options.now);
    let tolerance = i64::try_from(options.tolerance.as_secs()).unwrap_or(i64::MAX);
    let bad_int = |name| {
        params
            .params
            .iter()
            .any(|(k, v)| k == name && !matches!(v, ParamValue::Integer(_)))
    };
    if bad_int("created") || bad_int("expires") {
        return Err(SignatureError::malformed(
            "signature parameters",
            "created/expires not integers",
        ));
    }
    match params.integer("created") {
        None if options.require_created => return Err(SignatureError::MissingCreated),
        None => {}
        Some(created) => {
            let ahead = created.saturating_sub(now);
            if ahead > tolerance {
                return Err(SignatureError::CreatedInFuture {
                    ahead_secs: ahead.unsigned_abs(),
                });
            }
            if let Some(max_age) = options.max_age {
                let age = now.saturating_sub(created);
                if age
                    > i64::try_from(max_age.as_secs())
                        .unwrap_or(i64::MAX)
                        .saturating_add(tolerance)
                {
                    return Err(SignatureError::TooOld {
                        age_secs: age.unsigned_abs(),
                    });
                }
            }
        }
    }
    if let Some(expires) = params.integer("expires") {
        let since = now.saturating_sub(expires);
        if since > tolerance {
            return Err(SignatureError::Expired {
                since_secs: since.unsigned_abs(),
            });
        }
    }
    Ok(())
}

/// `now` in Unix seconds (negative before 1970).
fn unix_seconds(now: SystemTime) -> i64 {
    match now.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}
