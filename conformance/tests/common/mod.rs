//! What several suite tests do alike: play specs against the bundled reference receiver
//! (serving JWT providers' keys) and list what did not pass.

#![allow(dead_code)] // each test binary uses its own part

use std::time::Duration;

use hookspec_codegen::model::ProviderSpec;
use hookspec_conformance::keys::{self, KeyServer};
use hookspec_conformance::{bundled, Credentials, Outcome, Report, Suite};

/// Runs the whole suite of `specs` against the bundled receiver, with a fresh key ring
/// per JWT provider served on loopback, and shuts both down.
pub async fn run_against_bundled(specs: Vec<ProviderSpec>) -> Report {
    let rings = keys::rings(&specs, |_| Some(keys::random_key()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let keys = KeyServer::start(listener, keys::sources(&specs, &rings)).unwrap();
    let receiver = bundled::start(&specs, &keys.base_urls(), &[])
        .await
        .unwrap();
    let report = Suite::from_specs(specs)
        .credentials(Credentials {
            jwt_keys: rings,
            ..Credentials::test()
        })
        .slow_body(Duration::from_millis(200))
        .concurrency(8)
        .run_bound(Duration::from_secs(120))
        .run(&receiver.url())
        .await
        .unwrap();
    receiver.shutdown(Duration::from_secs(1)).await;
    keys.shutdown().await;
    report
}

/// `id: observed (expected)` for every case that did not pass.
pub fn not_passed(report: &Report) -> Vec<String> {
    report
        .cases
        .iter()
        .filter(|c| c.outcome != Outcome::Pass)
        .map(|c| format!("{}: {} (expected {})", c.id, c.observed, c.expected))
        .collect()
}
