//! A provider that exists only as a spec file outside `spec/` (the reference receiver's
//! fixture `ledgerly.yaml`): the suite plays it and the bundled reference receiver
//! verifies it, with no generated code and no rebuild.

use std::path::Path;
use std::time::Duration;

use hookspec_conformance::{bundled, Credentials, Outcome, Suite};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spec_only_provider_is_played_and_received() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../receiver/tests/fixtures");
    let specs: Vec<_> = hookspec_codegen::load_dir(&dir)
        .expect("fixture specs load")
        .into_iter()
        .map(|l| l.spec)
        .collect();
    assert_eq!(specs.len(), 1);
    let compiled = hookspec_conformance::specs::builtin_all().unwrap();
    assert!(!compiled.iter().any(|s| s.provider == specs[0].provider));
    let receiver = bundled::start(&specs, None, &[]).await.unwrap();
    let report = Suite::from_specs(specs.clone())
        .credentials(Credentials::test())
        .slow_body(Duration::from_millis(200))
        .run_bound(Duration::from_secs(60))
        .run(&receiver.url())
        .await
        .unwrap();
    receiver.shutdown(Duration::from_secs(1)).await;
    let failed: Vec<String> = report
        .cases
        .iter()
        .filter(|c| c.outcome == Outcome::Fail)
        .map(|c| format!("{}: {} (expected {})", c.id, c.observed, c.expected))
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    let ids: Vec<&str> = report.cases.iter().map(|c| c.id.as_str()).collect();
    // The documented events were delivered, and forgeries were among the cases.
    assert!(ids.contains(&"ledgerly/deliver/entry.posted"), "{ids:?}");
    assert!(
        ids.iter().any(|id| id.starts_with("ledgerly/auth/")),
        "{ids:?}"
    );
    assert!(report.cases.len() > 10, "{}", report.to_pretty());
}
