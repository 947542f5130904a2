//! Static credentials: a configured `Authorization` value (Belvo) and identifying
//! headers (Vezgo's `x-client-id`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http::HeaderMap;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::credentials::Credentials;
use super::error::{ConfigError, VerifyError};
use super::Header;
use hookspec_core::{AuthorizationAuth, AuthorizationKind, IdentifyingHeaderAuth};

pub(crate) struct AuthorizationCheck {
    pub(crate) scheme: &'static AuthorizationAuth,
    header: Header,
    // SHA-256 of each accepted header value: comparing digests of equal length keeps the
    // comparison constant-time without leaking the credential's length.
    expected: Vec<[u8; 32]>,
}

impl AuthorizationCheck {
    pub(crate) fn new(
        scheme: &'static AuthorizationAuth,
        credentials: &Credentials,
    ) -> Result<Self, ConfigError> {
        let mut expected = Vec::new();
        if let Some((user, password)) = &credentials.basic {
            if !scheme.schemes.contains(&AuthorizationKind::Basic) {
                return Err(ConfigError::AuthorizationNotAllowed { kind: "basic" });
            }
            let pair = format!("{user}:{}", password.expose());
            expected.push(digest(
                format!("Basic {}", STANDARD.encode(pair)).as_bytes(),
            ));
        }
        if let Some(token) = &credentials.bearer {
            if !scheme.schemes.contains(&AuthorizationKind::Bearer) {
                return Err(ConfigError::AuthorizationNotAllowed { kind: "bearer" });
            }
            expected.push(digest(format!("Bearer {}", token.expose()).as_bytes()));
        }
        if expected.is_empty() {
            return Err(ConfigError::MissingAuthorization);
        }
        Ok(AuthorizationCheck {
            scheme,
            header: Header::new(&scheme.header)?,
            expected,
        })
    }

    pub(crate) fn verify(&self, headers: &HeaderMap) -> Result<(), VerifyError> {
        let value = self.header.value(headers)?;
        let got = digest(value.as_bytes());
        let mut matched = subtle::Choice::from(0);
        for want in &self.expected {
            matched |= got.ct_eq(want);
        }
        if bool::from(matched) {
            Ok(())
        } else {
            Err(VerifyError::WrongCredentials)
        }
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

pub(crate) struct IdentifyingCheck {
    pub(crate) scheme: &'static IdentifyingHeaderAuth,
    header: Header,
    client_ids: Vec<String>,
}

impl IdentifyingCheck {
    pub(crate) fn new(
        scheme: &'static IdentifyingHeaderAuth,
        credentials: &Credentials,
    ) -> Result<Self, ConfigError> {
        if credentials.client_ids.is_empty() {
            return Err(ConfigError::MissingClientId);
        }
        Ok(IdentifyingCheck {
            scheme,
            header: Header::new(&scheme.header)?,
            client_ids: credentials.client_ids.clone(),
        })
    }

    pub(crate) fn verify(&self, headers: &HeaderMap) -> Result<(), VerifyError> {
        // Not a secret, so a plain comparison is enough.
        let value = self.header.text(headers)?.trim();
        if self.client_ids.iter().any(|id| id == value) {
            Ok(())
        } else {
            Err(VerifyError::UnknownClient)
        }
    }
}
