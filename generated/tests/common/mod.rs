//! Shared by the verification tests: the specs, and a spec's auth and delivery rules as
//! the verifier takes them (the model embeds the same core types), for specs changed in a
//! test; the real providers' schemes are the emitted `hookspec::auth`/`hookspec::delivery`.

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

/// A documented example body of the provider: the first event's that has one.
pub fn body(spec: &m::ProviderSpec) -> Vec<u8> {
    spec.events
        .iter()
        .find_map(|e| e.examples.first())
        .expect("a documented example")
        .clone()
        .into_bytes()
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

/// A spec's own auth schemes (the core values the model embeds), leaked to live as long
/// as a generated module's constants: the verifier takes them as they are.
pub fn schemes(spec: &m::ProviderSpec) -> &'static [rt::AuthScheme] {
    Box::leak(spec.auth.clone().into_boxed_slice())
}

/// A spec's delivery rules, leaked likewise.
pub fn delivery(spec: &m::ProviderSpec) -> &'static rt::DeliveryRules {
    Box::leak(Box::new(spec.delivery.rules()))
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
    // The shared secrets as they are; no key API (the static keys above serve the JWT).
    c.shared(&signing.shared, &[])
        .expect("no key source to build")
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

/// A `signature` scheme with `algorithm` in header `X-Sig`, base64, over `signed`, its key
/// written in `key`: one bare signature, no timestamp (override fields for more). Bridge's
/// spec with only this scheme, leaked as a run-time spec is.
pub fn with_signature(
    algorithm: m::SignatureAlgorithm,
    signed: &str,
    key: m::SecretEncoding,
    change: impl FnOnce(&mut m::SignatureAuth),
) -> &'static m::ProviderSpec {
    let mut scheme = m::SignatureAuth {
        header: "X-Sig".into(),
        algorithm,
        encoding: m::SignatureEncoding::Base64,
        signed: signed.to_owned().into(),
        format: m::SignatureFormat {
            separator: None,
            label_separator: None,
            scheme: None,
        },
        jws: None,
        timestamp: None,
        key: m::SecretFormat {
            encoding: key,
            strip_prefix: None,
        },
        rotation: None,
        optional: false,
        description: None,
    };
    change(&mut scheme);
    let mut spec = spec("bridge").clone();
    spec.auth = vec![m::AuthScheme::Signature(scheme)];
    Box::leak(Box::new(spec))
}
