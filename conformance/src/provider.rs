//! The provider's side of a delivery: headers, credentials and signatures, made by
//! [`hookspec_signer`] from the spec's auth schemes.

use std::collections::BTreeMap;
use std::time::SystemTime;

use bytes::Bytes;
pub use hookspec_codegen::core::Credentials as SharedCredentials;
use hookspec_codegen::model::{AuthScheme, ProviderSpec};
use hookspec_signer::{Attack, Signer, SigningCredentials};

use crate::keys::KeyRing;

/// Whether the provider counts a delivery answered with `code` as acknowledged.
pub fn acknowledged(spec: &ProviderSpec, code: u16) -> bool {
    spec.delivery.success.accepts(code)
}

/// What the receiver was configured with, so the suite can send what it accepts.
#[derive(Clone, Default)]
pub struct Credentials {
    /// The secrets the receiver shares with the provider: the `Authorization` value to send
    /// (the first), HMAC signing secrets as the receiver configures them (newest first),
    /// the account id sent in identifying headers (the first client id).
    pub shared: SharedCredentials,
    /// The keys each JWT provider's webhooks are signed with, by provider, served by a
    /// [`crate::keys::KeyServer`] the receiver fetches them from. A JWT provider without
    /// a ring is signed with the signer's fixed test key.
    pub jwt_keys: BTreeMap<String, KeyRing>,
    /// The seed of the Ed25519 key deliveries are signed with (`--ed25519-key`);
    /// hookspec's test key when absent.
    pub signing_seed: Option<[u8; 32]>,
    /// The provider's own private key for public-key schemes, a PEM block
    /// (`--private-key`); replaces the seed's.
    pub private_key_pem: Option<String>,
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
            .field("shared", &self.shared)
            .field("jwt_keys", &self.jwt_keys)
            .field("signing_seed", &self.signing_seed.is_some())
            .field("private_key_pem", &self.private_key_pem.is_some())
            .field("test_defaults", &self.test_defaults)
            .finish()
    }
}

/// Signs deliveries of one provider and mounts attacks on its authentication.
#[derive(Clone)]
pub struct ProviderSide {
    spec: ProviderSpec,
    /// Where deliveries go, for schemes that sign the URL; the signer's default otherwise.
    target: Option<hookspec_signer::Target>,
    base: SigningCredentials,
    keys: Option<KeyRing>,
    /// Whether every scheme has what it needs, so refusals mean something.
    complete: bool,
    attacks: Vec<Attack>,
}

impl ProviderSide {
    /// The side of `spec`, sending what `credentials` configure.
    pub fn new(spec: ProviderSpec, credentials: &Credentials) -> ProviderSide {
        let test = SigningCredentials::test(&spec);
        let (defaults, given) = (&test.shared, &credentials.shared);
        // Each value not given falls back to the test default when asked to.
        fn or_default<T: Clone>(given: &[T], default: &[T], fill: bool) -> Vec<T> {
            if given.is_empty() && fill {
                default.to_vec()
            } else {
                given.to_vec()
            }
        }
        let fill = credentials.test_defaults;
        let base = SigningCredentials {
            jwt_key: test.jwt_key.clone(),
            kid: test.kid.clone(),
            // The given key, else the test key (a receiver is given its public key).
            signing_seed: credentials.signing_seed.or(test.signing_seed),
            private_key_pem: None,
            shared: SharedCredentials {
                authorization: or_default(&given.authorization, &defaults.authorization, fill),
                hmac_secrets: or_default(&given.hmac_secrets, &defaults.hmac_secrets, fill),
                client_ids: or_default(&given.client_ids, &defaults.client_ids, fill),
                public_keys: or_default(&given.public_keys, &defaults.public_keys, fill),
                key_api: None,
            },
        };
        // The provider's own key: receivers are given its public half unless keys were
        // given (a PEM that does not fit is reported by `check_credentials`).
        let mut base = base;
        if let Some(pem) = &credentials.private_key_pem {
            base.private_key_pem = Some(pem.clone());
            if given.public_keys.is_empty() {
                if let Ok(keys) = SigningCredentials::public_keys_of(&spec, pem) {
                    base.shared.public_keys = keys;
                }
            }
        }
        let complete = spec.auth.iter().all(|scheme| match scheme {
            _ if scheme.is_optional() => true,
            AuthScheme::Jwt(_) => true,
            AuthScheme::Signature(s) if s.algorithm.is_secret() => {
                !base.shared.hmac_secrets.is_empty()
            }
            AuthScheme::Signature(_) => base.signing_seed.is_some(),
            AuthScheme::Authorization(_) => !base.shared.authorization.is_empty(),
            AuthScheme::IdentifyingHeader(_) => !base.shared.client_ids.is_empty(),
        });
        let keys = credentials.jwt_keys.get(&spec.provider).cloned();
        let mut side = ProviderSide {
            spec,
            target: None,
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

    /// The same side sending to `url` (what a scheme over the URL signs).
    pub fn sending_to(mut self, url: &str) -> Self {
        let method = crate::http::delivery_method(self.spec.delivery.method);
        self.target = Some(hookspec_signer::Target {
            method: method.as_str().to_owned(),
            url: url.to_owned(),
        });
        self
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
        let mut signer = Signer::new(&self.spec, creds);
        if let Some(t) = &self.target {
            signer = signer.to(&t.method, &t.url);
        }
        if let Some(ring) = &self.keys {
            ring.publish(&signer.public_jwks());
        }
        f(&signer)
    }

    /// The provider-side HMAC of `value`, as a `{hmac:…}` handshake answer needs it
    /// ([`Signer::hmac_of`](hookspec_signer::Signer::hmac_of)).
    pub fn hmac_of(&self, value: &[u8]) -> Option<String> {
        self.with_signer(|s| s.hmac_of(value))
    }

    /// Headers of a valid delivery of `body` at `now`, `Content-Type` included; `given`
    /// header values are kept as they are (a redelivery's id, a `--header`).
    pub fn sign(
        &self,
        body: &[u8],
        now: SystemTime,
        given: &[(String, String)],
    ) -> Vec<(String, String)> {
        let mut headers = vec![(
            "Content-Type".to_owned(),
            self.spec.delivery.content_type.clone(),
        )];
        headers.extend(self.with_signer(|s| s.sign_with(body, now, given)));
        headers
    }

    /// The generated ids among `first`'s headers, which a redelivery keeps.
    pub fn redelivery(&self, first: &[(String, String)]) -> Vec<(String, String)> {
        self.with_signer(|s| s.redelivery(first))
    }

    /// What the provider shares with a receiver: the given credentials, test ones where
    /// none were given and defaults were asked for.
    pub fn shared(&self) -> &SharedCredentials {
        &self.base.shared
    }

    /// Whether the credentials are written as the spec says (see
    /// [`SigningCredentials::check`]).
    pub fn check_credentials(&self) -> Result<(), String> {
        self.base.check(&self.spec)
    }

    /// Ids of the attacks this side can mount with its credentials, in order.
    pub fn attacks(&self) -> Vec<String> {
        self.attacks.iter().map(|a| a.id().to_owned()).collect()
    }

    /// Moves to a fresh signing key (a new `kid`, both served); `None` when the suite does
    /// not serve this provider's keys.
    pub fn rotate_key(&self) -> Option<String> {
        Some(self.keys.as_ref()?.rotate_to(crate::keys::random_key()))
    }

    /// Key requests answered from this provider's key ring; `None` when the suite does
    /// not serve its keys.
    pub fn key_fetches(&self) -> Option<u64> {
        Some(self.keys.as_ref()?.fetches())
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
