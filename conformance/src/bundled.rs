//! The bundled reference receiver, started on loopback with credentials matching what the
//! suite signs with, so `hookspec-conformance run` works with no receiver of one's own.

use hookspec_codegen::core::KeyApi;
use hookspec_codegen::model::ProviderSpec;
use hookspec_reference_receiver::{
    CallerValues, FollowUpTarget, ReceiverConfig, RunningReceiver, Secrets,
};
use hookspec_signer::SigningCredentials;

pub use hookspec_reference_receiver::Fault;

use std::collections::BTreeMap;

/// Providers of `specs` the reference receiver can mount: all of them, those compiled
/// into it from their generated modules, the others from their specs at run time.
pub fn mountable(specs: &[ProviderSpec]) -> Vec<String> {
    specs.iter().map(|s| s.provider.clone()).collect()
}

/// A receiver configuration that accepts what a suite with
/// [`Credentials::test`](crate::Credentials::test) sends, with `faults` switched on.
/// `key_urls`: by provider, what the receiver fetches JWT keys from (the suite's key
/// endpoint base URL or key-set URL, [`crate::keys::KeyServer::base_urls`]).
pub fn config(
    specs: &[ProviderSpec],
    key_urls: &BTreeMap<String, String>,
    faults: &[Fault],
) -> ReceiverConfig {
    // Each provider's own test credentials, derived from its spec.
    let secrets = Secrets {
        by_provider: specs
            .iter()
            .map(|spec| (spec.provider.clone(), SigningCredentials::test(spec).shared))
            .collect(),
        key_apis: key_apis(specs, key_urls),
        ..Secrets::default()
    };
    let loopback: Vec<ipnet::IpNet> = ["127.0.0.0/8", "::1/128"]
        .iter()
        .filter_map(|n| n.parse().ok())
        .collect();
    let compiled = ReceiverConfig::all_providers().providers;
    ReceiverConfig {
        providers: mountable(specs),
        secrets,
        allow_ips: loopback,
        trusted_proxies: Vec::new(),
        faults: faults.to_vec(),
        follow_ups: None,
        specs: specs
            .iter()
            .filter(|s| !compiled.contains(&s.provider))
            .cloned()
            .collect(),
        // What a stateful receiver built from the documented examples would know.
        known_subjects: specs
            .iter()
            .flat_map(crate::cases::known_subjects)
            .collect(),
        // Handled inline, not through an inbox, unless the caller says otherwise.
        ..ReceiverConfig::all_providers()
    }
}

/// By JWT provider of `specs` with a URL in `key_urls`: that URL, with the suite's test
/// value for each credential field its key endpoint names (the suite's key server does
/// not check them).
fn key_apis(
    specs: &[ProviderSpec],
    key_urls: &BTreeMap<String, String>,
) -> BTreeMap<String, KeyApi> {
    specs
        .iter()
        .filter_map(|spec| {
            let scheme = crate::keys::jwt_scheme(spec)?;
            let url = key_urls.get(&spec.provider)?;
            let fields: Vec<String> = scheme
                .key_endpoint()
                .map(|e| e.credential_fields.iter().map(|f| f.to_string()).collect())
                .unwrap_or_default();
            let api = KeyApi {
                base_url: url.clone(),
                credentials: fields
                    .into_iter()
                    .map(|f| {
                        let value = crate::mock_api::test_credential(&f);
                        (f, value)
                    })
                    .collect(),
            };
            Some((spec.provider.clone(), api))
        })
        .collect()
}

/// Starts the reference receiver for `specs` on an ephemeral loopback port.
pub async fn start(
    specs: &[ProviderSpec],
    key_urls: &BTreeMap<String, String>,
    faults: &[Fault],
) -> anyhow::Result<RunningReceiver> {
    start_on_loopback(config(specs, key_urls, faults)).await
}

async fn start_on_loopback(config: ReceiverConfig) -> anyhow::Result<RunningReceiver> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    hookspec_reference_receiver::start(config, listener).await
}

/// `config` with follow-up calls made against the mock API at `mock_url` (providers at
/// `/<provider>`), with the credentials it accepts and receiver-held values under the
/// mock's naming. A JWT provider whose `api.verification` names its key source fetches its
/// keys from the mock too (with the mock's credentials), so one base URL serves both.
pub fn with_follow_ups(
    mut config: ReceiverConfig,
    specs: &[ProviderSpec],
    mock_url: &str,
    credentials: &crate::mock_api::MockCredentials,
) -> ReceiverConfig {
    let (fixed, derived) = crate::follow_ups::caller_values(specs);
    config.follow_ups = Some(FollowUpTarget {
        base_url: Some(mock_url.to_owned()),
        base_urls: Default::default(),
        credentials: credentials.pairs().into_iter().collect(),
        values: CallerValues {
            stored: Default::default(),
            fixed,
            derived,
        },
    });
    for spec in specs {
        let Some(api) = &spec.api else { continue };
        if !config.secrets.key_apis.contains_key(&spec.provider) || api.verification.is_none() {
            continue;
        }
        let Some(base_url) = crate::keys::base_url(spec, mock_url) else {
            continue;
        };
        let names = api
            .auth
            .as_ref()
            .map(|a| a.credentials())
            .unwrap_or_default();
        let api = KeyApi {
            base_url,
            credentials: names
                .iter()
                .filter_map(|n| Some((n.to_string(), credentials.get(n)?.to_owned())))
                .collect(),
        };
        config.secrets.key_apis.insert(spec.provider.clone(), api);
    }
    config
}

/// [`start`] with follow-up calls against a mock API (see [`with_follow_ups`]).
pub async fn start_with_follow_ups(
    specs: &[ProviderSpec],
    key_urls: &BTreeMap<String, String>,
    faults: &[Fault],
    mock_url: &str,
    credentials: &crate::mock_api::MockCredentials,
) -> anyhow::Result<RunningReceiver> {
    start_on_loopback(with_follow_ups(
        config(specs, key_urls, faults),
        specs,
        mock_url,
        credentials,
    ))
    .await
}
