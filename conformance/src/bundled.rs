//! The bundled reference receiver, started on loopback with credentials matching what the
//! suite signs with, so `hookspec-conformance run` works with no receiver of one's own.

use hookspec_codegen::model::ProviderSpec;
use hookspec_reference_receiver::{KeyServer, ReceiverConfig, RunningReceiver, Secrets};
use hookspec_signer::SigningCredentials;

pub use hookspec_reference_receiver::Fault;

/// The `client_id` and `secret` the receiver sends to the suite's Plaid key endpoint (the
/// endpoint does not check them).
const KEY_ENDPOINT_CREDENTIALS: [(&str, &str); 2] = [
    ("client_id", "hookspec-test-client"),
    ("secret", "hookspec-test-secret"),
];

/// Providers of `specs` the reference receiver can mount (those compiled into it).
pub fn mountable(specs: &[ProviderSpec]) -> Vec<String> {
    let known = ReceiverConfig::all_providers().providers;
    specs
        .iter()
        .map(|s| s.provider.clone())
        .filter(|p| known.contains(p))
        .collect()
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
    ReceiverConfig {
        providers: mountable(specs),
        secrets,
        allow_ips: loopback,
        trusted_proxies: Vec::new(),
        faults: faults.to_vec(),
        follow_ups: None,
    }
}

/// Starts the reference receiver for `specs` on an ephemeral loopback port.
pub async fn start(
    specs: &[ProviderSpec],
    key_endpoint: Option<&str>,
    faults: &[Fault],
) -> anyhow::Result<RunningReceiver> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    hookspec_reference_receiver::start(config(specs, key_endpoint, faults), listener).await
}
