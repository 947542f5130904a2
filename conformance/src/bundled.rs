//! The bundled reference receiver, started on loopback with credentials matching what the
//! suite signs with, so `hookspec-conformance run` works with no receiver of one's own.

use hookspec_codegen::model::ProviderSpec;
use hookspec_reference_receiver::{
    CallerValues, FollowUpTarget, KeyServer, ReceiverConfig, RunningReceiver, Secrets,
};
use hookspec_signer::SigningCredentials;

pub use hookspec_reference_receiver::Fault;

/// The `client_id` and `secret` the receiver sends to the suite's Plaid key endpoint (the
/// endpoint does not check them).
const KEY_ENDPOINT_CREDENTIALS: [(&str, &str); 2] = [
    ("client_id", "hookspec-test-client"),
    ("secret", "hookspec-test-secret"),
];

/// Providers of `specs` the reference receiver can mount: all of them, those compiled
/// into it from their generated modules, the others from their specs at run time.
pub fn mountable(specs: &[ProviderSpec]) -> Vec<String> {
    specs.iter().map(|s| s.provider.clone()).collect()
}

/// A receiver configuration that accepts what a suite with
/// [`Credentials::test`](crate::Credentials::test) sends, with `faults` switched on.
/// `key_endpoint`: the base URL of the suite's Plaid key endpoint.
pub fn config(
    specs: &[ProviderSpec],
    key_endpoint: Option<&str>,
    faults: &[Fault],
) -> ReceiverConfig {
    let mut secrets = Secrets::default();
    for spec in specs {
        let c = SigningCredentials::test(spec);
        match c.authorization {
            Some(hookspec_signer::AuthorizationValue::Basic { user, password }) => {
                secrets.basic = Some((user, password));
            }
            Some(hookspec_signer::AuthorizationValue::Bearer(token)) => {
                secrets.bearer = Some(token)
            }
            None => {}
        }
        secrets.hmac_secrets.extend(c.hmac_secrets);
        secrets.client_ids.extend(c.client_id);
    }
    secrets.client_ids.dedup();
    secrets.key_server = key_endpoint.map(|url| KeyServer {
        base_url: url.to_owned(),
        credentials: KEY_ENDPOINT_CREDENTIALS
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    });
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
    }
}

/// Starts the reference receiver for `specs` on an ephemeral loopback port.
pub async fn start(
    specs: &[ProviderSpec],
    key_endpoint: Option<&str>,
    faults: &[Fault],
) -> anyhow::Result<RunningReceiver> {
    start_on_loopback(config(specs, key_endpoint, faults)).await
}

async fn start_on_loopback(config: ReceiverConfig) -> anyhow::Result<RunningReceiver> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    hookspec_reference_receiver::start(config, listener).await
}

/// `config` with follow-up calls made against the mock API at `mock_url` (providers at
/// `/<provider>`), with the credentials it accepts and receiver-held values under the
/// mock's naming; Plaid keys are fetched from the mock too, so one base URL serves both.
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
        if config.secrets.key_server.is_none() || api.verification.is_none() {
            continue;
        }
        let names = api
            .auth
            .as_ref()
            .map(|a| a.credentials())
            .unwrap_or_default();
        config.secrets.key_server = Some(KeyServer {
            base_url: format!("{}/{}", mock_url.trim_end_matches('/'), spec.provider),
            credentials: names
                .iter()
                .filter_map(|n| Some((n.to_string(), credentials.get(n)?.to_owned())))
                .collect(),
        });
    }
    config
}

/// [`start`] with follow-up calls against a mock API (see [`with_follow_ups`]).
pub async fn start_with_follow_ups(
    specs: &[ProviderSpec],
    key_endpoint: Option<&str>,
    faults: &[Fault],
    mock_url: &str,
    credentials: &crate::mock_api::MockCredentials,
) -> anyhow::Result<RunningReceiver> {
    start_on_loopback(with_follow_ups(
        config(specs, key_endpoint, faults),
        specs,
        mock_url,
        credentials,
    ))
    .await
}
