//! The forged or broken deliveries a receiver must refuse.

/// One way to forge or break a delivery. [`Signer::attacks`](crate::Signer::attacks)
/// lists those that apply to a provider's schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Attack {
    /// The auth header of the first scheme is left out.
    MissingHeader,
    /// A JWT signed by another key under the provider's key id.
    WrongKey,
    /// An HMAC made with a secret the receiver does not have.
    WrongSecret,
    /// An `Authorization` value other than the configured one.
    WrongCredentials,
    /// An identifying header naming another client.
    UnknownClient,
    /// The body changed after signing.
    TamperedBody,
    /// A JWT (or signed timestamp) older than the scheme allows.
    ExpiredIat,
    /// A JWT (or signed timestamp) further ahead than the allowed clock skew.
    FutureIat,
    /// A JWT without its issue-time claim, so its age cannot be judged.
    MissingIat,
    /// A JWT with `alg: none` and no signature.
    AlgNone,
    /// A JWT with `alg: HS256`, MACed with the public key's bytes (SEC1, uncompressed) as
    /// the secret: the classic algorithm-confusion forgery.
    AlgHs256,
    /// A JWT naming a key id the provider does not have.
    UnknownKid,
    /// A JWT signed with a key the provider has retired (`expired_at` set).
    ExpiredKey,
    /// Only entries of another label (`v0=`, a valid MAC) and none of the accepted one.
    OtherSchemeOnly,
    /// The signature cut to half its length.
    TruncatedSignature,
    /// A detached JWS naming a key-set URL (`jku`) that is not the provider's.
    KeyUrlNotAllowed,
}

impl Attack {
    /// Every attack, in a stable order.
    pub const ALL: [Attack; 16] = [
        Attack::MissingHeader,
        Attack::WrongKey,
        Attack::WrongSecret,
        Attack::WrongCredentials,
        Attack::UnknownClient,
        Attack::TamperedBody,
        Attack::ExpiredIat,
        Attack::FutureIat,
        Attack::MissingIat,
        Attack::AlgNone,
        Attack::AlgHs256,
        Attack::UnknownKid,
        Attack::ExpiredKey,
        Attack::OtherSchemeOnly,
        Attack::TruncatedSignature,
        Attack::KeyUrlNotAllowed,
    ];

    /// A stable kebab-case id (`tampered-body`, `alg-none`, ...).
    pub fn id(&self) -> &'static str {
        match self {
            Attack::MissingHeader => "missing-header",
            Attack::WrongKey => "wrong-key",
            Attack::WrongSecret => "wrong-secret",
            Attack::WrongCredentials => "wrong-credentials",
            Attack::UnknownClient => "unknown-client",
            Attack::TamperedBody => "tampered-body",
            Attack::ExpiredIat => "expired-iat",
            Attack::FutureIat => "future-iat",
            Attack::MissingIat => "missing-iat",
            Attack::AlgNone => "alg-none",
            Attack::AlgHs256 => "alg-hs256",
            Attack::UnknownKid => "unknown-kid",
            Attack::ExpiredKey => "expired-key",
            Attack::OtherSchemeOnly => "other-scheme-only",
            Attack::TruncatedSignature => "truncated-signature",
            Attack::KeyUrlNotAllowed => "key-url-outside-allow-list",
        }
    }

    /// The `VerifyError::kind` the attack produces. One exception depends on the scheme:
    /// a [`TamperedBody`](Attack::TamperedBody) against a JWT is `body_hash_mismatch`,
    /// but an HMAC cannot tell a changed body from a wrong secret and reports
    /// `no_matching_signature`; [`SignedRequest::expected_error`](crate::SignedRequest)
    /// always has the exact kind for the provider.
    pub fn expected_error(&self) -> &'static str {
        match self {
            Attack::MissingHeader => "missing_header",
            Attack::WrongKey => "bad_signature",
            Attack::WrongSecret => "no_matching_signature",
            Attack::WrongCredentials => "wrong_credentials",
            Attack::UnknownClient => "unknown_client",
            Attack::TamperedBody => "body_hash_mismatch",
            Attack::ExpiredIat => "token_too_old",
            Attack::FutureIat => "token_from_future",
            Attack::MissingIat => "malformed_header",
            Attack::AlgNone | Attack::AlgHs256 => "unsupported_algorithm",
            Attack::UnknownKid => "unknown_key",
            Attack::ExpiredKey => "expired_key",
            Attack::OtherSchemeOnly => "no_accepted_scheme",
            Attack::TruncatedSignature => "malformed_header",
            Attack::KeyUrlNotAllowed => "key_url_not_allowed",
        }
    }

    /// What the attack does, in one sentence (for reports and test vectors).
    pub fn description(&self) -> &'static str {
        match self {
            Attack::MissingHeader => "the authentication header is missing",
            Attack::WrongKey => "the JWT is signed by another key under the provider's key id",
            Attack::WrongSecret => "the HMAC is made with a secret the receiver does not have",
            Attack::WrongCredentials => "the Authorization value is not the configured one",
            Attack::UnknownClient => "the identifying header names another client",
            Attack::TamperedBody => "the body was changed after signing",
            Attack::ExpiredIat => "the signature's issue time is older than allowed",
            Attack::FutureIat => "the signature's issue time is further ahead than the skew",
            Attack::MissingIat => "the JWT carries no issue time, so its age cannot be judged",
            Attack::AlgNone => "the JWT says alg none and carries no signature",
            Attack::AlgHs256 => "the JWT says HS256, MACed with the public key as secret",
            Attack::UnknownKid => "the JWT names a key id the provider does not have",
            Attack::ExpiredKey => "the JWT is signed with a key the provider has retired",
            Attack::OtherSchemeOnly => "only signatures with another label are sent",
            Attack::TruncatedSignature => "the signature is cut to half its length",
            Attack::KeyUrlNotAllowed => "the JWS names a key-set URL outside the provider's own",
        }
    }
}
