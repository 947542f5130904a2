//! Fetching JWT keys as the scheme's key source describes: from the provider's key
//! endpoint one key at a time (Plaid's `/webhook_verification_key/get`), or from a
//! published JSON Web Key Set (RFC 7517).

use std::fmt;
use std::time::Duration;

use super::keys::{Jwk, KeyError, KeyFuture, KeySource};
use super::secret::Secret;
use hookspec_core::{JwtAuth, KeyEndpoint, KeySource as SpecKeySource};

/// How long one key request may take before it counts as failed.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Fetches a key by id from where the scheme says: the provider's key endpoint (the key
/// id in `request_key_field`, plus each of `credential_fields`, sent to the base URL +
/// path; the JWK read from `response_key_field`), or a published key set (`GET`, the
/// member with the `kid`).
///
/// A 4xx answer other than 401, 403, 408 and 429 means the provider does not know the key
/// ([`KeyError::NotFound`]); those four, 5xx and network errors are
/// [`KeyError::Unavailable`] and are retried later.
#[derive(Clone)]
pub struct HttpKeySource {
    client: reqwest::Client,
    kind: Kind,
    url: String,
    credentials: Vec<(String, Secret)>,
}

/// What is asked for at the URL.
#[derive(Clone, Copy)]
enum Kind {
    /// One key by id, from the provider's API.
    Endpoint(&'static KeyEndpoint),
    /// The whole set, with `GET`; the key is the member with the asked-for `kid`.
    Jwks,
}

impl HttpKeySource {
    /// A source for whatever `scheme`'s key source is: the key endpoint below `base_url`
    /// (the API's base URL), or the key set at `base_url` (the set's URL).
    pub fn for_scheme(scheme: &'static JwtAuth, base_url: &str) -> Result<Self, KeyError> {
        match &scheme.key_source {
            SpecKeySource::Endpoint(endpoint) => Self::new(endpoint, base_url),
            SpecKeySource::Jwks(_) => Self::jwks(base_url),
        }
    }

    /// A source reading the JSON Web Key Set at `url` (or a local stand-in).
    pub fn jwks(url: &str) -> Result<Self, KeyError> {
        Ok(HttpKeySource {
            client: client()?,
            kind: Kind::Jwks,
            url: url.to_owned(),
            credentials: Vec::new(),
        })
    }

    /// A source calling `base_url` (e.g. `https://sandbox.plaid.com`, or a local mock)
    /// with a client that gives up after [`DEFAULT_FETCH_TIMEOUT`].
    pub fn new(endpoint: &'static KeyEndpoint, base_url: &str) -> Result<Self, KeyError> {
        Ok(Self::with_client(endpoint, base_url, client()?))
    }

    /// The same with the scheme's base URL for `environment` (`sandbox`, `production`);
    /// `None` when the spec names no such environment.
    pub fn for_environment(
        endpoint: &'static KeyEndpoint,
        environment: &str,
    ) -> Option<Result<Self, KeyError>> {
        let base = endpoint.base_urls.get(environment)?;
        Some(Self::new(endpoint, base))
    }

    /// A source using `client` (its timeouts, proxies and TLS settings).
    pub fn with_client(
        endpoint: &'static KeyEndpoint,
        base_url: &str,
        client: reqwest::Client,
    ) -> Self {
        HttpKeySource {
            client,
            kind: Kind::Endpoint(endpoint),
            url: format!("{}{}", base_url.trim_end_matches('/'), endpoint.path),
            credentials: Vec::new(),
        }
    }

    /// The value of one of the scheme's credential fields (Plaid: `client_id`, `secret`).
    pub fn credential(mut self, field: impl Into<String>, value: impl Into<Secret>) -> Self {
        self.credentials.push((field.into(), value.into()));
        self
    }

    async fn request(&self, kid: &str) -> Result<Jwk, KeyError> {
        match self.kind {
            Kind::Endpoint(endpoint) => self.fetch_one(endpoint, kid).await,
            Kind::Jwks => self.fetch_set(kid).await,
        }
    }

    async fn fetch_set(&self, kid: &str) -> Result<Jwk, KeyError> {
        let response = self
            .client
            .get(&self.url)
            .send()
            .await
            .map_err(|e| KeyError::Unavailable(describe(&e)))?;
        let answer = read_json(response).await?;
        let keys = answer
            .get("keys")
            .and_then(serde_json::Value::as_array)
            .ok_or(KeyError::Invalid("the key set has no `keys` array"))?;
        let key = keys
            .iter()
            .find(|k| k.get("kid").and_then(serde_json::Value::as_str) == Some(kid))
            .ok_or(KeyError::NotFound)?;
        Jwk::from_json(key, None)
    }

    async fn fetch_one(&self, endpoint: &'static KeyEndpoint, kid: &str) -> Result<Jwk, KeyError> {
        let mut body = serde_json::Map::new();
        for field in endpoint.credential_fields.iter() {
            let (_, value) = self
                .credentials
                .iter()
                .find(|(name, _)| name == field)
                .ok_or_else(|| {
                    KeyError::Unavailable(format!("credential `{field}` is not configured"))
                })?;
            body.insert(field.to_string(), value.expose().into());
        }
        body.insert(endpoint.request_key_field.to_string(), kid.into());
        let method = reqwest::Method::from_bytes(endpoint.method.as_bytes())
            .map_err(|_| KeyError::Unavailable("the scheme's HTTP method is invalid".into()))?;
        let body = serde_json::to_vec(&body).map_err(|_| KeyError::Invalid("request body"))?;
        let response = self
            .client
            .request(method, &self.url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            // Without the URL: it is not secret, but the error text is all that is needed.
            .map_err(|e| KeyError::Unavailable(describe(&e)))?;
        let answer = read_json(response).await?;
        let key = answer
            .get(&*endpoint.response_key_field)
            .ok_or(KeyError::Invalid("the answer holds no key"))?;
        Jwk::from_json(key, endpoint.expired_field.as_deref())
    }
}

fn client() -> Result<reqwest::Client, KeyError> {
    reqwest::Client::builder()
        .timeout(DEFAULT_FETCH_TIMEOUT)
        .build()
        .map_err(|e| KeyError::Unavailable(format!("HTTP client: {e}")))
}

/// The answer's JSON, with the status mapped: a 4xx other than 401, 403, 408 and 429 means
/// the key is unknown; those, 5xx and network errors are worth retrying later.
async fn read_json(response: reqwest::Response) -> Result<serde_json::Value, KeyError> {
    let status = response.status();
    if status.is_client_error() && ![401, 403, 408, 429].contains(&status.as_u16()) {
        return Err(KeyError::NotFound);
    }
    if !status.is_success() {
        return Err(KeyError::Unavailable(format!(
            "key endpoint answered {status}"
        )));
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| KeyError::Unavailable(describe(&e)))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| KeyError::Invalid("the key endpoint did not answer JSON"))
}

fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "could not read the answer"
    } else {
        "request failed"
    };
    format!("key endpoint {what}")
}

impl KeySource for HttpKeySource {
    fn fetch<'a>(&'a self, kid: &'a str) -> KeyFuture<'a> {
        Box::pin(self.request(kid))
    }
}

impl fmt::Debug for HttpKeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<&str> = self.credentials.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("HttpKeySource")
            .field("url", &self.url)
            .field("credential_fields", &fields)
            .finish_non_exhaustive()
    }
}
