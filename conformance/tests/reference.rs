//! The suite against the bundled reference receiver: the clean receiver passes every
//! case of every provider.

use std::time::Duration;

use hookspec_conformance::keys::{KeyRing, KeyServer, FIRST_KID};
use hookspec_conformance::{bundled, Credentials, Outcome, Suite};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_receiver_passes_every_case() {
    let specs = hookspec_conformance::specs::builtin_all().unwrap();
    let ring = KeyRing::new(hookspec_signer::test_signing_key("plaid suite"), FIRST_KID);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let keys = KeyServer::start(listener, ring.clone()).unwrap();
    let receiver = bundled::start(&specs, Some(&keys.url()), &[])
        .await
        .unwrap();
    let report = Suite::from_specs(specs)
        .credentials(Credentials {
            plaid_keys: Some(ring),
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
    let failed: Vec<String> = report
        .cases
        .iter()
        .filter(|c| c.outcome == Outcome::Fail)
        .map(|c| format!("{}: {} (expected {})", c.id, c.observed, c.expected))
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert_eq!(report.summary.skipped, 0, "{}", report.to_pretty());
}
