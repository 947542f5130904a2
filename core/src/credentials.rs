//! The secrets a provider and a receiver share: what the provider signs or authenticates
//! with, and what the receiver checks against. The signer, the runtime's verifiers, the
//! reference receiver and the conformance suite all hold them in this one shape.

use std::fmt;

/// A static `Authorization` value.
#[derive(Clone, PartialEq, Eq)]
pub enum AuthorizationValue {
    /// `Basic base64(user:password)`.
    Basic {
        /// User name.
        user: String,
        /// Password.
        password: String,
    },
    /// `Bearer <token>`.
    Bearer(String),
}

impl AuthorizationValue {
    /// The header value: `Basic base64(user:password)` or `Bearer <token>`.
    pub fn header_value(&self) -> String {
        use base64::Engine;
        match self {
            AuthorizationValue::Basic { user, password } => format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            ),
            AuthorizationValue::Bearer(token) => format!("Bearer {token}"),
        }
    }
}

impl fmt::Debug for AuthorizationValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthorizationValue::Basic { user, .. } => write!(f, "Basic {{ user: {user:?}, .. }}"),
            AuthorizationValue::Bearer(_) => f.write_str("Bearer(..)"),
        }
    }
}

/// A provider API that serves JWT verification keys, and what a call to it carries.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct KeyApi {
    /// Base URL of the API (or of the JWKS), e.g. the conformance suite's stand-in.
    pub base_url: String,
    /// The API credentials a key request carries (`client_id`, `secret` for Plaid).
    pub credentials: Vec<(String, String)>,
}

impl fmt::Debug for KeyApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.credentials.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("KeyApi")
            .field("base_url", &self.base_url)
            .field("credentials", &names)
            .finish()
    }
}

/// The shared secrets of one provider, as a receiver configures them. Only what the
/// provider's schemes use needs to be set. `Debug` shows no secret.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// `Authorization` values the provider sends (Basic or Bearer).
    pub authorization: Vec<AuthorizationValue>,
    /// HMAC signing secrets as written at the provider (prefix and encoding included),
    /// newest first; several during a rotation.
    pub hmac_secrets: Vec<String>,
    /// Identifying-header values (client ids).
    pub client_ids: Vec<String>,
    /// Ed25519 public keys as the provider shows them (prefix and encoding included),
    /// newest first.
    pub public_keys: Vec<String>,
    /// Where JWT verification keys come from.
    pub key_api: Option<KeyApi>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("authorization", &self.authorization)
            .field("hmac_secrets", &self.hmac_secrets.len())
            .field("client_ids", &self.client_ids)
            .field("public_keys", &self.public_keys.len())
            .field("key_api", &self.key_api)
            .finish()
    }
}
