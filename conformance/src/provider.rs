//! The provider's side of a delivery: headers, credentials and signatures, made by
//! [`hookspec_signer`] from the spec's auth schemes.

use std::collections::BTreeMap;
use std::time::SystemTime;

use bytes::Bytes;
use hookspec_codegen::model::{AuthScheme, ProviderSpec};
use hookspec_signer::{Attack, AuthorizationValue, Signer, SigningCredentials};

use crate::keys::KeyRing;

/// Whether the provider counts a delivery answered with `code` as acknowledged.
pub fn acknowledged(spec: &ProviderSpec, code: u16) -> bool {
    spec.delivery.success.accepts(code)
}

/// What the receiver was configured with, so the suite can send what it accepts.
#[derive(Clone, Default)]
pub struct Credentials {
    /// `Authorization: Basic` user and password.
    pub basic: Option<(String, String)>,
    /// `Authorization: Bearer` token.
    pub bearer: Option<String>,
    /// HMAC signing secrets as the receiver configures them, newest first.
    pub secrets: Vec<String>,
    /// The account id sent in identifying headers (Vezgo's `x-client-id`).
    pub client_id: Option<String>,
    /// The keys each JWT provider's webhooks are signed with, by provider, served by a
    /// [`crate::keys::KeyServer`] the receiver fetches them from. A JWT provider without
    /// a ring is signed with the signer's fixed test key.
    pub jwt_keys: BTreeMap<String, KeyRing>,
    /// Fill every value not given with hookspec's public test credentials
    /// ([`SigningCredentials::test`]), as the bundled reference receiver expects.
    pub test_defaults: bool,
}

impl Credentials {
    /// hookspec's public test credentials for every provider.
    pub fn test() -> Credentials {
        Credentials {
            test_defaults: true,
            ..Credentials::default()
        }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("basic", &self.basic.as_ref().map(|_| "[set]"))
            .field("bearer", &self.bearer.as_ref().map(|_| "[set]"))
            .field("secrets", &self.secrets.len())
            .field("client_id", &self.client_id)
            .field("jwt_keys", &self.jwt_keys)
            .field("test_defaults", &self.test_defaults)
            .finish()
    }
}

/// Signs deliveries of one provider and mounts attacks on its authentication.
pub struct ProviderSide {
    spec: ProviderSpec,
    base: SigningCredentials,
    keys: Option<KeyRing>,
    /// Whether every scheme has what it needs, so refusals mean something.
    complete: bool,
    attacks: Vec<Attack>,
}

impl ProviderSide {
    /// The side of `spec`, sending what `credentials` configure.
    pub fn new(spec: ProviderSpec, credentials: &Credentials) -> ProviderSide {
        let defaults = SigningCredentials::test(&spec);
        let authorization = match (&credentials.basic, &credentials.bearer) {
            (Some((user, password)), _) => Some(AuthorizationValue::Basic {
                user: user.clone(),
                password: password.clone(),
            }),
            (None, Some(token)) => Some(AuthorizationValue::Bearer(token.clone())),
            (None, None) if credentials.test_defaults => defaults.authorization.clone(),
            (None, None) => None,
        };
        let base = SigningCredentials {
            jwt_key: defaults.jwt_key.clone(),
            kid: defaults.kid.clone(),
            hmac_secrets: if credentials.secrets.is_empty() && credentials.test_defaults {
                defaults.hmac_secrets.clone()
            } else {
                credentials.secrets.clone()
            },
            authorization,
            client_id: credentials.client_id.clone().or_else(|| {
                credentials
                    .test_defaults
                    .then(|| defaults.client_id.clone())
                    .flatten()
            }),
        };
        let complete = spec.auth.iter().all(|scheme| match scheme {
            AuthScheme::Jwt(_) => true,
            AuthScheme::Hmac(_) => !base.hmac_secrets.is_empty(),
            AuthScheme::Authorization(_) => base.authorization.is_some(),
            AuthScheme::IdentifyingHeader(_) => base.client_id.is_some(),
        });
        let keys = credentials.jwt_keys.get(&spec.provider).cloned();
        let mut side = ProviderSide {
            spec,
            base,
            keys,
            complete,
            attacks: Vec::new(),
        };
        if side.complete {
            side.attacks = side.with_signer(|s| s.attacks());
        }
        side
    }

    /// The provider's spec.
    pub fn spec(&self) -> &ProviderSpec {
        &self.spec
    }

    /// Runs `f` with a signer holding the current credentials (the ring's current key, so
    /// a rotation takes effect at the next delivery), after publishing the keys the
    /// signer's attacks name.
    fn with_signer<T>(&self, f: impl FnOnce(&Signer<'_>) -> T) -> T {
        let mut creds = self.base.clone();
        if let Some((key, kid)) = self.keys.as_ref().and_then(KeyRing::current) {
            creds.jwt_key = Some(key);
            creds.kid = kid;
        }
        let signer = Signer::new(&self.spec, creds);
        if let Some(ring) = &self.keys {
            ring.publish(&signer.public_jwks());
        }
        f(&signer)
    }

    /// Headers of a valid delivery of `body` at `now`, `Content-Type` included.
    pub fn sign(&self, body: &[u8], now: SystemTime) -> Vec<(String, String)> {
        let mut headers = vec![(
            "Content-Type".to_owned(),
            self.spec.delivery.content_type.clone(),
        )];
        headers.extend(self.with_signer(|s| s.sign(body, now)));
        headers
    }

    /// Ids of the attacks this side can mount with its credentials, in order.
    pub fn attacks(&self) -> Vec<String> {
        self.attacks.iter().map(|a| a.id().to_owned()).collect()
    }

    /// The headers and body of attack `index` on `body`, `Content-Type` included.
    pub fn attack(
        &self,
        index: usize,
        body: &Bytes,
        now: SystemTime,
    ) -> Option<(Vec<(String, String)>, Bytes)> {
        let attack = *self.attacks.get(index)?;
        let signed = self.with_signer(|s| s.attack(attack, body, now))?;
        let mut headers = vec![(
            "Content-Type".to_owned(),
            self.spec.delivery.content_type.clone(),
        )];
        headers.extend(signed.headers);
        Some((headers, Bytes::from(signed.body)))
    }

    /// Why no attack can be mounted, when the spec has authentication but none applies.
    pub fn no_attack_reason(&self) -> Option<String> {
        if self.spec.auth.is_empty() || !self.attacks.is_empty() {
            return None;
        }
        Some(if self.complete {
            "no attack applies to this provider's authentication".to_owned()
        } else {
            "no credentials for this provider's authentication were given".to_owned()
        })
    }
}
