//! What the receiving side knows: secrets, expected credentials, key source, network trust.

use std::fmt;
use std::time::Duration;

use ipnet::IpNet;

use super::key_cache::{DEFAULT_KEY_REFRESH, DEFAULT_KEY_RETRY};
use super::keys::KeySource;
use super::secret::Secret;

/// Whether deliveries must come from the provider's published addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceIpCheck {
    /// Refuse a request whose client address is neither in the spec's list nor in
    /// [`Credentials::allow_ips`]. Applies when the spec (or `allow_ips`) lists addresses
    /// and the request's peer address is known; a request without a peer address cannot
    /// be checked and passes this check. The default.
    #[default]
    Enforce,
    /// No address check (local development, tests on loopback, or a network layer that
    /// filters already).
    Off,
}

/// The receiver's side of authentication, built up with the methods below. Only what the
/// provider's schemes need must be set; [`Verifier::new`](super::Verifier::new) says what
/// is missing.
#[derive(Default)]
pub struct Credentials {
    pub(crate) basic: Option<(String, Secret)>,
    pub(crate) bearer: Option<Secret>,
    pub(crate) hmac_secrets: Vec<Secret>,
    pub(crate) client_ids: Vec<String>,
    pub(crate) public_keys: Vec<String>,
    pub(crate) key_source: Option<Box<dyn KeySource>>,
    pub(crate) key_refresh: Option<Duration>,
    pub(crate) key_retry: Option<Duration>,
    pub(crate) future_skew: Option<Duration>,
    pub(crate) trusted_proxies: Vec<IpNet>,
    pub(crate) source_ips: SourceIpCheck,
    pub(crate) allow_ips: Vec<IpNet>,
    pub(crate) unverified: bool,
}

impl Credentials {
    /// The keys configured for a signature `algorithm`: the HMAC secrets for an HMAC, the
    /// public keys otherwise.
    pub(crate) fn keys_for(&self, algorithm: hookspec_core::SignatureAlgorithm) -> Vec<&str> {
        if algorithm.is_secret() {
            self.hmac_secrets.iter().map(Secret::expose).collect()
        } else {
            self.public_keys.iter().map(String::as_str).collect()
        }
    }

    /// Nothing configured yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The `Basic` user and password set at the provider (Belvo).
    pub fn basic(mut self, user: impl Into<String>, password: impl Into<Secret>) -> Self {
        self.basic = Some((user.into(), password.into()));
        self
    }

    /// The `Bearer` token set at the provider (Belvo).
    pub fn bearer(mut self, token: impl Into<Secret>) -> Self {
        self.bearer = Some(token.into());
        self
    }

    /// A signing secret (Bridge). Call once per live secret during a rotation; a
    /// signature made with any of them is accepted.
    pub fn hmac_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.hmac_secrets.push(secret.into());
        self
    }

    /// A public key of the provider (Ed25519, ECDSA or RSA, as the scheme's algorithm
    /// says), written as the provider shows it (Standard Webhooks' `whpk_...`, Discord's
    /// hex, SendGrid's base64 DER, a PEM block). Call once per live key during a rotation.
    pub fn public_key(mut self, key: impl Into<String>) -> Self {
        self.public_keys.push(key.into());
        self
    }

    /// A value the identifying header may have (Vezgo's `x-client-id`); call once per
    /// client app.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_ids.push(id.into());
        self
    }

    /// Where JWT keys come from (Plaid). The verifier caches what it returns.
    pub fn key_source(mut self, source: impl KeySource) -> Self {
        self.key_source = Some(Box::new(source));
        self
    }

    /// Puts `wrap` around the key source set so far (to log or count fetches, or to put a
    /// cache of your own in front); nothing happens without one.
    pub fn wrap_key_source(
        mut self,
        wrap: impl FnOnce(Box<dyn KeySource>) -> Box<dyn KeySource>,
    ) -> Self {
        self.key_source = self.key_source.take().map(wrap);
        self
    }

    /// How long a fetched key is trusted before it is fetched again (default one hour):
    /// the longest a key the provider retired is still accepted.
    pub fn key_refresh(mut self, every: Duration) -> Self {
        self.key_refresh = Some(every);
        self
    }

    /// How long a failed key fetch is remembered before the key is asked for again
    /// (default ten seconds).
    pub fn key_retry(mut self, after: Duration) -> Self {
        self.key_retry = Some(after);
        self
    }

    /// Proxies whose `X-Forwarded-For` is believed. Without any (the default) the header
    /// is ignored and the socket's peer address is the client.
    pub fn trusted_proxies(mut self, nets: impl IntoIterator<Item = IpNet>) -> Self {
        self.trusted_proxies.extend(nets);
        self
    }

    /// Whether the source address is checked ([`SourceIpCheck::Enforce`] by default).
    pub fn source_ips(mut self, check: SourceIpCheck) -> Self {
        self.source_ips = check;
        self
    }

    /// Addresses allowed besides the provider's (a test sender, a relay).
    pub fn allow_ips(mut self, nets: impl IntoIterator<Item = IpNet>) -> Self {
        self.allow_ips.extend(nets);
        self
    }

    /// Turns off every signature and credential check: anyone who can reach the endpoint
    /// can post events. Only for local development against a provider's sandbox; never
    /// in production. The source-address check still follows
    /// [`source_ips`](Self::source_ips).
    pub fn unverified(mut self) -> Self {
        self.unverified = true;
        self
    }

    /// How far in the future a JWT's issue time may be, instead of the spec's
    /// `future_skew` (one minute for Plaid). Widen it only for a host whose clock is known
    /// to run behind: every second of it lets a token issued ahead of time be used early.
    pub fn future_skew(mut self, skew: Duration) -> Self {
        self.future_skew = Some(skew);
        self
    }

    /// Everything the provider and the receiver share, for `schemes`: the `Authorization`
    /// values, HMAC secrets and client ids, and, when a scheme is a JWT and a key API is
    /// given, an [`HttpKeySource`](super::HttpKeySource) for that scheme's key source.
    #[cfg(feature = "http-keys")]
    pub fn shared(
        mut self,
        shared: &hookspec_core::Credentials,
        schemes: &'static [hookspec_core::AuthScheme],
    ) -> Result<Self, super::KeyError> {
        for value in &shared.authorization {
            self = match value {
                hookspec_core::AuthorizationValue::Basic { user, password } => {
                    self.basic(user.clone(), password.clone())
                }
                hookspec_core::AuthorizationValue::Bearer(token) => self.bearer(token.clone()),
            };
        }
        for secret in &shared.hmac_secrets {
            self = self.hmac_secret(secret.clone());
        }
        for id in &shared.client_ids {
            self = self.client_id(id.clone());
        }
        for key in &shared.public_keys {
            self = self.public_key(key.clone());
        }
        if let (Some(jwt), Some(api)) = (hookspec_core::jwt_scheme(schemes), &shared.key_api) {
            let mut source = super::HttpKeySource::for_scheme(jwt, &api.base_url)?;
            for (field, value) in &api.credentials {
                source = source.credential(field.clone(), value.clone());
            }
            self = self.key_source(source);
        }
        Ok(self)
    }

    pub(crate) fn refresh_and_retry(&self) -> (Duration, Duration) {
        (
            self.key_refresh.unwrap_or(DEFAULT_KEY_REFRESH),
            self.key_retry.unwrap_or(DEFAULT_KEY_RETRY),
        )
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("basic_user", &self.basic.as_ref().map(|(user, _)| user))
            .field("bearer", &self.bearer.is_some())
            .field("hmac_secrets", &self.hmac_secrets.len())
            .field("client_ids", &self.client_ids)
            .field("public_keys", &self.public_keys.len())
            .field("key_source", &self.key_source.is_some())
            .field("trusted_proxies", &self.trusted_proxies)
            .field("source_ips", &self.source_ips)
            .field("allow_ips", &self.allow_ips)
            .field("unverified", &self.unverified)
            .finish()
    }
}
