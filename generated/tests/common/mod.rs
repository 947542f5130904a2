//! Shared by the verification tests: the specs, and a spec's auth data as the static
//! scheme types the generated modules carry (leaked), for specs changed in a test; the
//! real providers' schemes are the emitted `hookspec::auth`/`hookspec::delivery`.

#![allow(dead_code)]

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use hookspec::runtime::verify as rt;
use hookspec_codegen::model as m;

pub fn specs() -> &'static [m::ProviderSpec] {
    static SPECS: OnceLock<Vec<m::ProviderSpec>> = OnceLock::new();
    SPECS.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
        hookspec_codegen::load_dir(&dir)
            .expect("specs load")
            .into_iter()
            .map(|s| s.spec)
            .collect()
    })
}

pub fn spec(provider: &str) -> &'static m::ProviderSpec {
    specs()
        .iter()
        .find(|s| s.provider == provider)
        .unwrap_or_else(|| panic!("no spec `{provider}`"))
}

pub fn at(unix: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(unix)
}

/// A documented example body of the provider.
pub fn body(spec: &m::ProviderSpec) -> Vec<u8> {
    spec.events[0].examples[0].clone().into_bytes()
}

pub fn header_map(headers: &[(String, String)]) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    for (name, value) in headers {
        map.append(
            http::HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            http::HeaderValue::from_str(value).expect("header value"),
        );
    }
    map
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

fn leak_slice<T>(v: Vec<T>) -> &'static [T] {
    Box::leak(v.into_boxed_slice())
}

pub fn schemes(spec: &m::ProviderSpec) -> &'static [rt::AuthScheme] {
    leak_slice(spec.auth.iter().map(scheme).collect())
}

pub fn delivery(spec: &m::ProviderSpec) -> &'static rt::DeliveryRules {
    let d = &spec.delivery;
    Box::leak(Box::new(rt::DeliveryRules {
        content_type: leak(&d.content_type),
        source_ips: leak_slice(d.source_ips.clone()),
        timeout: d.timeout.get(),
        success: match &d.success {
            m::Success::Any2xx => rt::SuccessStatus::Any2xx,
            m::Success::Only(list) => rt::SuccessStatus::Only(leak_slice(list.clone())),
        },
    }))
}

fn encoding(e: m::SignatureEncoding) -> rt::Encoding {
    match e {
        m::SignatureEncoding::HexUpper => rt::Encoding::HexUpper,
        m::SignatureEncoding::HexLower => rt::Encoding::HexLower,
        m::SignatureEncoding::Base64 => rt::Encoding::Base64,
        m::SignatureEncoding::Base64url => rt::Encoding::Base64Url,
    }
}

fn scheme(s: &m::AuthScheme) -> rt::AuthScheme {
    match s {
        m::AuthScheme::Authorization(a) => rt::AuthScheme::Authorization(rt::AuthorizationScheme {
            header: leak(&a.header),
            basic: a.schemes.contains(&m::AuthorizationKind::Basic),
            bearer: a.schemes.contains(&m::AuthorizationKind::Bearer),
            required: a.required,
        }),
        m::AuthScheme::IdentifyingHeader(h) => {
            rt::AuthScheme::IdentifyingHeader(rt::IdentifyingHeaderScheme {
                header: leak(&h.header),
            })
        }
        m::AuthScheme::Hmac(h) => rt::AuthScheme::Hmac(rt::HmacScheme {
            header: leak(&h.header),
            algorithm: match h.algorithm {
                m::HmacAlgorithm::Sha256 => rt::HmacAlgorithm::Sha256,
                m::HmacAlgorithm::Sha512 => rt::HmacAlgorithm::Sha512,
                m::HmacAlgorithm::Sha1 => rt::HmacAlgorithm::Sha1,
            },
            encoding: encoding(h.encoding),
            signed: leak(&h.signed),
            separator: h.format.separator.as_deref().map(leak),
            label_separator: h.format.label_separator.as_deref().map(leak),
            label: h.format.scheme.as_deref().map(leak),
            timestamp: h.timestamp.as_ref().map(|t| rt::SignedTimestamp {
                header: t.header.as_deref().map(leak),
                label: t.label.as_deref().map(leak),
                tolerance: t.tolerance.get(),
            }),
            secret_encoding: match h.secret.encoding {
                m::SecretEncoding::Utf8 => rt::SecretEncoding::Utf8,
                m::SecretEncoding::Base64 => rt::SecretEncoding::Base64,
            },
            secret_prefix: h.secret.strip_prefix.as_deref().map(leak),
        }),
        m::AuthScheme::Jwt(j) => {
            let m::KeySource::Endpoint(e) = &j.key_source;
            rt::AuthScheme::Jwt(rt::JwtScheme {
                header: leak(&j.header),
                algorithms: leak_slice(
                    j.algorithms
                        .iter()
                        .map(|a| match a {
                            m::JwtAlgorithm::ES256 => rt::JwtAlgorithm::Es256,
                        })
                        .collect(),
                ),
                issued_at_claim: leak(&j.issued_at_claim),
                max_age: j.max_age.get(),
                future_skew: j.future_skew.get(),
                body_hash_claim: leak(&j.body_hash.claim),
                body_hash_encoding: encoding(j.body_hash.encoding),
                key_endpoint: rt::KeyEndpoint {
                    method: leak(&e.method),
                    path: leak(&e.path),
                    kid_header: leak(&e.kid_header),
                    request_key_field: leak(&e.request_key_field),
                    credential_fields: leak_slice(
                        e.credential_fields.iter().map(|f| leak(f)).collect(),
                    ),
                    response_key_field: leak(&e.response_key_field),
                    expired_field: e.expired_field.as_deref().map(leak),
                    base_urls: leak_slice(
                        e.base_urls
                            .iter()
                            .map(|(k, v)| (leak(k), leak(v)))
                            .collect(),
                    ),
                },
            })
        }
    }
}

/// Receiver credentials matching `hookspec_signer::SigningCredentials::test(spec)`,
/// with the signer's public keys in a static key source and source checks off.
pub fn test_credentials(spec: &m::ProviderSpec) -> rt::Credentials {
    let signing = hookspec_signer::SigningCredentials::test(spec);
    let signer = hookspec_signer::Signer::new(spec, signing.clone());
    let mut c = rt::Credentials::new().source_ips(rt::SourceIpCheck::Off);
    let keys: Vec<rt::Jwk> = signer
        .public_jwks()
        .iter()
        .map(|j| rt::Jwk::from_json(j, Some("expired_at")).expect("test JWK"))
        .collect();
    if !keys.is_empty() {
        c = c.key_source(rt::StaticKeys::new(keys));
    }
    for s in &signing.hmac_secrets {
        c = c.hmac_secret(s.as_str());
    }
    match &signing.authorization {
        Some(hookspec_signer::AuthorizationValue::Basic { user, password }) => {
            c = c.basic(user.as_str(), password.as_str())
        }
        Some(hookspec_signer::AuthorizationValue::Bearer(t)) => c = c.bearer(t.as_str()),
        None => {}
    }
    if let Some(id) = &signing.client_id {
        c = c.client_id(id.as_str());
    }
    c
}

/// Runs a future that does not wait (a verify with a warm key cache) to completion, with
/// no runtime: benchmarks measure the verification, not a scheduler.
pub fn ready<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
    {
        std::task::Poll::Ready(out) => out,
        std::task::Poll::Pending => panic!("the key cache was not warm"),
    }
}
