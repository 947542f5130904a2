//! Providers that exist only as spec files outside `spec/`: `ledgerly` (a timestamped
//! HMAC, the reference receiver's fixture) and `acmejwt` (ES256 JWTs with keys from a
//! JWKS). The suite plays them, serving acmejwt's key set, and the bundled reference
//! receiver verifies them from their specs, next to Plaid (the other JWT provider, keys
//! from an endpoint), with no generated code and no rebuild.

use std::path::Path;
use std::time::Duration;

use hookspec_codegen::model::ProviderSpec;
use hookspec_conformance::keys;
use hookspec_conformance::{bundled, Credentials, Outcome, Suite};

fn load(dir: &str) -> Vec<ProviderSpec> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    hookspec_codegen::load_dir(&dir)
        .expect("fixture specs load")
        .into_iter()
        .map(|l| l.spec)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spec_only_providers_are_played_and_received() {
    let mut specs = load("../receiver/tests/fixtures");
    specs.extend(load("tests/fixtures/jwks"));
    let compiled = hookspec_conformance::specs::builtin_all().unwrap();
    for s in &specs {
        assert!(
            !compiled.iter().any(|c| c.provider == s.provider),
            "{}",
            s.provider
        );
    }
    specs.extend(compiled.into_iter().filter(|s| s.provider == "plaid"));
    let names: Vec<&str> = specs.iter().map(|s| s.provider.as_str()).collect();
    assert_eq!(names, ["ledgerly", "acmejwt", "plaid"]);

    assert_eq!(
        keys::rings(&specs, |_| None).len(),
        2,
        "one key ring per JWT provider"
    );
    let report = crate::common::run_against_bundled(specs).await;
    let failed = crate::common::not_passed(&report);
    assert!(failed.is_empty(), "{failed:#?}");
    for provider in ["ledgerly", "acmejwt", "plaid"] {
        let delivered = report
            .cases
            .iter()
            .filter(|c| c.id.starts_with(&format!("{provider}/deliver/")))
            .count();
        let forged = report
            .cases
            .iter()
            .filter(|c| c.id.starts_with(&format!("{provider}/auth/")))
            .count();
        assert!(
            delivered > 0 && forged > 0,
            "{provider}: {}",
            report.to_pretty()
        );
    }
}

/// Dropping a valid spec into a copy of `spec/` is all it takes: the suite plays every
/// provider of the copy, the added one included, against the bundled receiver (which
/// derives each provider's test credentials from its spec), and every case passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_dropped_into_a_copy_of_the_spec_dir_passes_with_the_rest() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir().unwrap();
    let mut copied = 0;
    for entry in std::fs::read_dir(root.join("spec")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "yaml") {
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
            copied += 1;
        }
    }
    std::fs::copy(
        root.join("receiver/tests/fixtures/ledgerly.yaml"),
        dir.path().join("ledgerly.yaml"),
    )
    .unwrap();
    let specs = hookspec_conformance::specs::load_dir(dir.path()).expect("the copy loads");
    assert_eq!(specs.len(), copied + 1);
    assert!(specs.iter().any(|s| s.provider == "ledgerly"));

    let report = crate::common::run_against_bundled(specs.clone()).await;
    let failed = crate::common::not_passed(&report);
    assert!(failed.is_empty(), "{failed:#?}");
    for spec in &specs {
        assert!(
            report
                .cases
                .iter()
                .any(|c| c.id.starts_with(&format!("{}/deliver/", spec.provider))),
            "{} was not played",
            spec.provider
        );
    }
}

/// A handshake answered with an HMAC of the challenge: the bundled receiver (from the
/// spec alone) answers it with its secret through the runtime's verifier, the suite
/// computes the answer with the provider's through the signer, and the two agree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_hmac_handshake_is_answered_from_the_spec() {
    let specs = load("tests/fixtures/handshakes");
    let receiver = bundled::start(&specs, &Default::default(), &[])
        .await
        .unwrap();
    let report = Suite::from_specs(specs)
        .credentials(Credentials::test())
        .only("challengely/deliver/*")
        .run_bound(Duration::from_secs(30))
        .run(&receiver.url())
        .await
        .unwrap();
    receiver.shutdown(Duration::from_secs(1)).await;
    let crc = report
        .cases
        .iter()
        .find(|c| c.id == "challengely/deliver/crc")
        .expect("the handshake case");
    assert_eq!(crc.outcome, Outcome::Pass, "{}", report.to_pretty());
    assert!(crc.observed.contains("response_token"), "{}", crc.observed);
    assert_eq!(report.summary.failed, 0, "{}", report.to_pretty());
}

/// Where only a header tells two events apart (their bodies share one shape), each
/// documented example is sent with its own event's header: the receiver logs both events,
/// not the first one twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn examples_are_sent_with_the_headers_of_their_own_event() {
    let specs = load("tests/fixtures/header-routed");
    let receiver = bundled::start(&specs, &Default::default(), &[])
        .await
        .unwrap();
    let report = Suite::from_specs(specs.clone())
        .credentials(Credentials::test())
        .only("topicly/deliver/*")
        .run_bound(Duration::from_secs(30))
        .run(&receiver.url())
        .await
        .unwrap();
    let mut logged: Vec<String> = receiver.log.events().into_iter().map(|e| e.event).collect();
    receiver.shutdown(Duration::from_secs(1)).await;
    assert!(
        crate::common::not_passed(&report).is_empty(),
        "{}",
        report.to_pretty()
    );
    logged.sort();
    assert_eq!(logged, ["ThingCreated", "ThingUpdated"]);
}

/// `send --event` sends the example with its event's header, too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_names_the_chosen_event_in_its_header() {
    let specs = load("tests/fixtures/header-routed");
    let receiver = bundled::start(&specs, &Default::default(), &[])
        .await
        .unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/header-routed");
    let url = receiver.url();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_hookspec-conformance"))
            .args(["send", "--provider", "topicly", "--spec-dir"])
            .arg(&dir)
            .args(["--event", "ThingUpdated", "--url", &url])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let logged: Vec<String> = receiver.log.events().into_iter().map(|e| e.event).collect();
    receiver.shutdown(Duration::from_secs(1)).await;
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(logged, ["ThingUpdated"]);
}

/// A provider that documents another status for a forged delivery (GoCardless wants 498):
/// the receiver built from its spec answers that status, the suite insists on it, and a
/// receiver answering the usual 401 fails exactly the forgery cases.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_documented_refusal_status_is_answered_and_insisted_on() {
    let mut plain = load("../receiver/tests/fixtures");
    plain.retain(|s| s.provider == "ledgerly");
    assert_eq!(plain.len(), 1);
    let mut wants_498 = plain.clone();
    wants_498[0].delivery.refusal = Some(498);

    let report = crate::common::run_against_bundled(wants_498.clone()).await;
    let failed = crate::common::not_passed(&report);
    assert!(failed.is_empty(), "{failed:#?}");
    let forged: Vec<_> = report
        .cases
        .iter()
        .filter(|c| c.id.contains("/auth/") && c.outcome == Outcome::Pass)
        .collect();
    assert!(!forged.is_empty());
    assert!(
        forged.iter().all(|c| c.observed.contains("498")),
        "{forged:#?}"
    );

    // The same spec played against a receiver that answers 401.
    let report = crate::common::play_against_bundled(wants_498, &plain).await;
    let failed: Vec<&str> = report
        .cases
        .iter()
        .filter(|c| c.outcome != Outcome::Pass)
        .map(|c| c.id.as_str())
        .collect();
    let auth: Vec<&str> = report
        .cases
        .iter()
        .filter(|c| c.id.contains("/auth/") && c.outcome != Outcome::Skip)
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(failed, auth, "{}", report.to_pretty());
}
