//! The provider's side of a delivery: headers, credentials and signatures.

use std::time::SystemTime;

use bytes::Bytes;
use hookspec_codegen::model::ProviderSpec;

/// What the receiver was configured with, so the suite can send what it accepts.
#[derive(Clone, Default)]
pub struct Credentials {
    /// `Authorization: Basic` user and password.
    pub basic: Option<(String, String)>,
    /// `Authorization: Bearer` token.
    pub bearer: Option<String>,
    /// HMAC signing secrets, newest first.
    pub secrets: Vec<String>,
    /// The account id sent in identifying headers (Vezgo's `x-client-id`).
    pub client_id: Option<String>,
    /// The keys Plaid webhooks are signed with, served by a [`crate::keys::KeyServer`]
    /// the receiver fetches them from. `None`: one fixed test key.
    pub plaid_keys: Option<crate::keys::KeyRing>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("basic", &self.basic.as_ref().map(|_| "[set]"))
            .field("bearer", &self.bearer.as_ref().map(|_| "[set]"))
            .field("secrets", &self.secrets.len())
            .field("client_id", &self.client_id)
            .field("plaid_keys", &self.plaid_keys)
            .finish()
    }
}

/// Signs deliveries of one provider and mounts attacks on its authentication.
pub struct ProviderSide {
    spec: ProviderSpec,
    credentials: Credentials,
}

impl ProviderSide {
    /// The side of `spec`, sending what `credentials` configure.
    pub fn new(spec: ProviderSpec, credentials: Credentials) -> ProviderSide {
        ProviderSide { spec, credentials }
    }

    /// The provider's spec.
    pub fn spec(&self) -> &ProviderSpec {
        &self.spec
    }

    /// Headers of a valid delivery of `body` at `now`, `Content-Type` included.
    pub fn sign(&self, body: &[u8], now: SystemTime) -> Vec<(String, String)> {
        let _ = (body, now);
        let mut headers = vec![(
            "Content-Type".to_owned(),
            self.spec.delivery.content_type.clone(),
        )];
        for h in &self.spec.delivery.headers {
            let value = if h.name.eq_ignore_ascii_case("x-client-id") {
                self.credentials
                    .client_id
                    .clone()
                    .or_else(|| h.example.clone())
            } else {
                h.value.clone().or_else(|| h.example.clone())
            };
            if let Some(v) = value {
                headers.push((h.name.clone(), v));
            }
        }
        headers
    }

    /// Names of the attacks this side can mount with its credentials, in order.
    pub fn attacks(&self) -> Vec<String> {
        Vec::new()
    }

    /// The headers and body of attack `index` on `body`, `Content-Type` included.
    pub fn attack(
        &self,
        index: usize,
        body: &Bytes,
        now: SystemTime,
    ) -> Option<(Vec<(String, String)>, Bytes)> {
        let _ = (index, body, now);
        None
    }

    /// Why no attack can be mounted, when the spec has authentication but none applies.
    pub fn no_attack_reason(&self) -> Option<String> {
        (!self.spec.auth.is_empty() && self.attacks().is_empty())
            .then(|| "no credentials for this provider's authentication were given".to_owned())
    }
}
