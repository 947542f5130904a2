//! What the fuzz targets share: the providers and their specs, how an input is split into
//! provider, headers and body, the credentials a receiver is configured with, and one
//! macro that expands a per-provider body for every module of the `hookspec` crate.
//!
//! Input layout (the seeds `cargo xtask fuzz-seeds` writes follow it): the first byte
//! picks the provider (its index in `hookspec::PROVIDERS`, modulo their number), the
//! target's own control bytes come next, then a header block up to the first NUL byte
//! (`name: value` lines; for the parse target, one value per header the provider routes
//! on), then the body.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use hookspec::runtime::verify as rt;
use hookspec_codegen::model::ProviderSpec;

mod providers;
pub use providers::LISTED;

/// Panics, naming what to do, when a provider was added to the crate but not here.
pub fn check_list() {
    let mut crate_list: Vec<&str> = hookspec::PROVIDERS.to_vec();
    crate_list.sort_unstable();
    assert_eq!(
        crate_list, LISTED,
        "run `cargo xtask generate`: fuzz/src/providers.rs is stale"
    );
}

/// Every spec in `spec/`, loaded once.
pub fn specs() -> &'static [ProviderSpec] {
    static SPECS: OnceLock<Vec<ProviderSpec>> = OnceLock::new();
    SPECS.get_or_init(|| {
        check_list();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
        hookspec_codegen::load_dir(&dir)
            .unwrap_or_else(|e| panic!("{e}"))
            .into_iter()
            .map(|s| s.spec)
            .collect()
    })
}

/// The spec of `provider`.
pub fn spec(provider: &str) -> &'static ProviderSpec {
    specs()
        .iter()
        .find(|s| s.provider == provider)
        .unwrap_or_else(|| panic!("no spec for {provider}"))
}

/// An input split into its parts.
pub struct Input<'a> {
    /// The provider's name.
    pub provider: &'static str,
    /// The target's control bytes.
    pub control: &'a [u8],
    /// Up to the first NUL.
    pub head: &'a [u8],
    /// The rest.
    pub body: &'a [u8],
}

/// Splits `data` with `control` control bytes after the provider byte; `None` when it is
/// too short to name a provider.
pub fn split(data: &[u8], control: usize) -> Option<Input<'_>> {
    let (&first, rest) = data.split_first()?;
    if rest.len() < control {
        return None;
    }
    let provider = hookspec::PROVIDERS[usize::from(first) % hookspec::PROVIDERS.len()];
    let (control, rest) = rest.split_at(control);
    let (head, body) = match rest.iter().position(|&b| b == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (&rest[..0], rest),
    };
    Some(Input {
        provider,
        control,
        head,
        body,
    })
}

/// The `name: value` lines of a header block that make valid headers (others are
/// dropped: no HTTP stack would pass them on).
pub fn header_lines(head: &[u8]) -> Vec<(http::HeaderName, http::HeaderValue)> {
    head.split(|&b| b == b'\n')
        .filter_map(|line| {
            let colon = line.iter().position(|&b| b == b':')?;
            let name = http::HeaderName::from_bytes(line[..colon].trim_ascii()).ok()?;
            let value = http::HeaderValue::from_bytes(line[colon + 1..].trim_ascii()).ok()?;
            Some((name, value))
        })
        .collect()
}

/// The clock every delivery is judged at, fixed so a crash reproduces.
pub fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000)
}

/// Receiver credentials matching `signing`: its shared secrets, and its JWT keys in a
/// static key source. Source-address checks are off (the target sets no peer that
/// would pass them).
pub fn receiver_credentials(
    spec: &ProviderSpec,
    signing: &hookspec_signer::SigningCredentials,
) -> rt::Credentials {
    let signer = hookspec_signer::Signer::new(spec, signing.clone());
    let keys: Vec<rt::Jwk> = signer
        .public_jwks()
        .iter()
        .filter_map(|j| rt::Jwk::from_json(j, Some("expired_at")).ok())
        .collect();
    let mut c = rt::Credentials::new().source_ips(rt::SourceIpCheck::Off);
    if !keys.is_empty() {
        c = c.key_source(rt::StaticKeys::new(keys));
    }
    c.shared(&signing.shared, &[])
        .expect("static keys need no key API")
}

/// A runtime for the async receive path (current thread: the targets run one input at a
/// time).
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a tokio runtime")
    })
}

/// A handler that takes every default: acknowledges each event, claims every key anew.
pub struct Defaults;
