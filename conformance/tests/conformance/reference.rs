//! The suite against the bundled reference receiver: the clean receiver passes every
//! case of every provider.

use std::time::Duration;

use hookspec_conformance::keys::{self, KeyServer};
use hookspec_conformance::report::{CaseReport, LatencyBucket};
use hookspec_conformance::{bundled, cases, Credentials, Outcome, Suite};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_receiver_passes_every_case() {
    let specs = crate::common::builtin_specs();
    let report = crate::common::run_against_bundled(specs).await;
    let failed = crate::common::not_passed(&report);
    assert!(failed.is_empty(), "{failed:#?}");
    // Pinned the way a user pins their own receiver, one snapshot per provider: any change
    // in what the reference receiver answers, or in the cases a spec produces, shows up as
    // a reviewed diff of that provider's file alone. Latency buckets are left out here
    // only: a CI machine under load must not turn a fast answer into a snapshot diff
    // (failing latencies are caught by the check above).
    let mut settings =
        crate::common::pinned_snapshots(hookspec_conformance::report::redacted_settings());
    settings.add_redaction(".cases[].latency_bucket", "[bucket]");
    let snapshots = crate::common::snapshot_dir();
    for provider in hookspec_conformance::specs::builtin_names() {
        let cases: Vec<CaseReport> = report
            .cases
            .iter()
            .filter(|c| c.provider == provider)
            .cloned()
            .map(without_latency_warnings)
            .collect();
        assert!(!cases.is_empty(), "{provider}: no cases");
        let name = format!("reference__reference_receiver_{provider}");
        // A provider just dropped into `spec/` has no pinned report yet: its cases must
        // pass (above), and recording its file is a reviewed step of its own.
        let recording = std::env::var("INSTA_UPDATE").is_ok_and(|v| v == "always" || v == "new");
        if !recording && !snapshots.join(format!("{name}.snap")).exists() {
            eprintln!(
                "{provider}: no pinned report yet; record it with \
                 `INSTA_UPDATE=always cargo test -p hookspec-conformance --test conformance \
                 reference::` \
                 and read it"
            );
            continue;
        }
        let part = hookspec_conformance::report::Report::new(
            report.receiver.clone(),
            cases,
            Duration::ZERO,
        );
        settings.bind(|| insta::assert_yaml_snapshot!(name, part));
    }
}

/// `case` without the warning a slow answer earns: like the latency bucket it measures the
/// machine, not the receiver (a loaded CI machine once turned a Slack answer into one).
fn without_latency_warnings(mut case: CaseReport) -> CaseReport {
    case.warnings
        .retain(|w| !w.starts_with(hookspec_conformance::report::SLOW_ANSWER));
    case
}

/// Every case but the documented deliveries (each fault is about something else).
const ALL_BUT_DELIVER: &[&str] = &[
    "*/tolerate/*",
    "*/idempotency/*",
    "*/ordering/*",
    "*/auth/*",
    "*/robustness/*",
    "*/latency/*",
];

/// Long enough that a loaded CI machine (a 10 MiB body and a burst of 8 in flight beside
/// the case) is not taken for a hang.
const HANG_BOUND: Duration = Duration::from_secs(4);

/// Runs the suite (only `only` cases) against the reference receiver with `fault` on;
/// returns the failed cases.
async fn failed_with(fault: bundled::Fault, only: &[&str]) -> Vec<CaseReport> {
    failed_with_bound(fault, only, HANG_BOUND, 8).await
}

/// [`failed_with`], calling the receiver hung after `hang_bound`, with `concurrency` cases
/// at once.
async fn failed_with_bound(
    fault: bundled::Fault,
    only: &[&str],
    hang_bound: Duration,
    concurrency: usize,
) -> Vec<CaseReport> {
    let specs = crate::common::builtin_specs();
    let rings = keys::rings(&specs, |p| {
        Some(hookspec_signer::test_signing_key(&format!("{p} suite")))
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let keys = KeyServer::start(listener, keys::sources(&specs, &rings)).unwrap();
    let receiver = bundled::start(&specs, &keys.base_urls(), &[fault])
        .await
        .unwrap();
    let mut suite = Suite::from_specs(specs)
        .credentials(Credentials {
            jwt_keys: rings,
            ..Credentials::test()
        })
        .slow_body(Duration::from_millis(200))
        .hang_bound(hang_bound)
        .concurrency(concurrency)
        .run_bound(Duration::from_secs(60));
    for glob in only {
        suite = suite.only(glob);
    }
    let report = suite.run(&receiver.url()).await.unwrap();
    receiver.shutdown(Duration::from_millis(200)).await;
    keys.shutdown().await;
    report
        .cases
        .into_iter()
        .filter(|c| c.outcome == Outcome::Fail)
        .collect()
}

/// The bundled provider with the shortest timeout, to keep runs that wait it out short.
fn shortest_timeout_spec() -> hookspec_codegen::model::ProviderSpec {
    crate::common::builtin_specs()
        .into_iter()
        .min_by_key(|s| s.delivery.timeout.get())
        .unwrap()
}

fn ids(cases: &[CaseReport]) -> Vec<&str> {
    cases.iter().map(|c| c.id.as_str()).collect()
}

fn sorted(ids: Vec<&str>) -> Vec<String> {
    let mut ids: Vec<String> = ids.into_iter().map(str::to_owned).collect();
    ids.sort();
    ids
}

/// `<provider>/<check>` for every bundled provider, sorted.
fn each_provider(check: &str) -> Vec<String> {
    let mut ids: Vec<String> = hookspec_conformance::specs::builtin_names()
        .iter()
        .map(|p| format!("{p}/{check}"))
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_auth_check_fails_every_auth_case_and_nothing_else() {
    let failed = failed_with(bundled::Fault::NoAuthCheck, ALL_BUT_DELIVER).await;
    // Every auth case but the key rotation (a delivery it must accept, and does).
    let all_auth: Vec<String> = Suite::builtin()
        .credentials(Credentials::test())
        .only("*/auth/*")
        .cases()
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .filter(|id| !id.ends_with("/auth/key-rotation"))
        .collect();
    assert_eq!(ids(&failed), all_auth);
    for case in &failed {
        if case.id.ends_with("/auth/never-fetched-key") {
            assert!(
                case.observed.contains("no key was ever fetched"),
                "{}",
                case.observed
            );
        } else {
            assert!(
                case.observed.starts_with('2'),
                "{}: {}",
                case.id,
                case.observed
            );
        }
    }
}

/// The auth cases named `name` of every bundled provider that signs with JWTs.
fn each_jwt_provider(name: &str) -> Vec<String> {
    let mut ids: Vec<String> = crate::common::builtin_specs()
        .iter()
        .filter(|s| keys::jwt_scheme(s).is_some())
        .map(|s| format!("{}/auth/{name}", s.provider))
        .collect();
    ids.sort();
    assert!(!ids.is_empty(), "no bundled JWT provider");
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepting_a_jwt_without_iat_fails_only_the_missing_iat_case() {
    let failed = failed_with(bundled::Fault::AcceptMissingIat, ALL_BUT_DELIVER).await;
    assert_eq!(sorted(ids(&failed)), each_jwt_provider("missing-iat"));
    assert!(failed.iter().all(|c| c.observed.starts_with('2')));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caching_the_first_key_forever_fails_only_the_key_rotation_case() {
    let failed = failed_with(bundled::Fault::KeyCacheForever, ALL_BUT_DELIVER).await;
    let seen: Vec<String> = failed
        .iter()
        .map(|c| format!("{}: {}", c.id, c.observed))
        .collect();
    assert_eq!(
        sorted(ids(&failed)),
        each_jwt_provider("key-rotation"),
        "{seen:#?}"
    );
    assert!(
        failed.iter().all(|c| c.observed.starts_with("401")),
        "{:?}",
        ids(&failed)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepting_any_signature_fails_the_forgery_cases() {
    let failed = failed_with(bundled::Fault::AcceptAnySignature, ALL_BUT_DELIVER).await;
    let ids = ids(&failed);
    assert!(ids.iter().all(|id| id.contains("/auth/")), "{ids:?}");
    // Every forgery that keeps the auth headers in place gets through, for every provider.
    let forgeries = [
        "alg-none",
        "alg-hs256",
        "tampered-body",
        "expired-key",
        "wrong-secret",
        "other-scheme-only",
        "unknown-client",
    ];
    let mut expected = 0;
    for case in Suite::builtin()
        .credentials(Credentials::test())
        .only("*/auth/*")
        .cases()
        .unwrap()
    {
        if forgeries
            .iter()
            .any(|f| case.id.ends_with(&format!("/auth/{f}")))
        {
            assert!(ids.contains(&case.id.as_str()), "{} in {ids:?}", case.id);
            expected += 1;
        }
    }
    assert!(expected >= hookspec_conformance::specs::builtin_names().len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejecting_without_answering_is_called_hung() {
    // Every refused delivery is met with silence, never an answer, so a short bound tells
    // them apart as well as a long one, and each hung case holds only its own request:
    // many at once keep the blame exact. (A delivery the receiver accepts and answers late
    // under load would be called hung too, and still fail as hung, not otherwise.)
    let failed = failed_with_bound(
        bundled::Fault::RejectWithoutAnswer,
        &["*/auth/*"],
        Duration::from_millis(500),
        32,
    )
    .await;
    assert!(!failed.is_empty());
    for case in &failed {
        assert_eq!(
            case.observed, "hung: no response before the deadline",
            "{}",
            case.id
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_on_unknown_events_fails_the_unknown_event_cases() {
    let failed = failed_with(bundled::Fault::FailOnUnknownEvent, ALL_BUT_DELIVER).await;
    assert_eq!(
        sorted(ids(&failed)),
        each_provider("tolerate/unknown-event")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_on_duplicates_fails_the_idempotency_cases() {
    let failed = failed_with(bundled::Fault::FailOnDuplicate, ALL_BUT_DELIVER).await;
    assert_eq!(
        sorted(ids(&failed)),
        each_provider("idempotency/same-delivery-twice")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepting_malformed_json_fails_the_garbage_cases() {
    let failed = failed_with(bundled::Fault::AcceptMalformedJson, ALL_BUT_DELIVER).await;
    // A validly signed empty body may be acknowledged: it is not among them.
    assert_eq!(
        sorted(ids(&failed)),
        each_provider("robustness/malformed-json")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_for_a_missing_discriminator_fails_only_that_case() {
    let failed = failed_with(
        bundled::Fault::ServerErrorOnMissingDiscriminator,
        ALL_BUT_DELIVER,
    )
    .await;
    // A provider with no discriminator (Statuspage) has no such case.
    let mut expected = each_provider("robustness/missing-discriminator");
    expected.retain(|id| {
        let provider = id.split('/').next().unwrap_or_default();
        hookspec_conformance::specs::builtin(provider).is_some_and(|s| !s.discriminator.is_empty())
    });
    assert_eq!(sorted(ids(&failed)), expected);
    assert!(failed.iter().all(|c| c.observed.starts_with("500")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_for_oversized_bodies_fails_only_oversized_cases() {
    let failed = failed_with(bundled::Fault::ServerErrorOnOversize, ALL_BUT_DELIVER).await;
    assert_eq!(
        sorted(ids(&failed)),
        each_provider("robustness/oversized-body")
    );
    for case in failed
        .iter()
        .filter(|c| c.id.ends_with("/tolerate/extra-field"))
    {
        assert_eq!(case.observed, "500", "{}", case.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dying_after_malformed_json_shows_in_the_liveness_probe() {
    let provider = hookspec_conformance::specs::builtin_names()[0];
    let case = format!("{provider}/robustness/malformed-json");
    let failed = failed_with(bundled::Fault::DieAfterMalformed, &[case.as_str()]).await;
    assert_eq!(ids(&failed), [case.as_str()]);
    let liveness = failed[0].liveness.as_deref().unwrap();
    assert!(liveness.starts_with("dead ("), "{liveness}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledging_after_the_timeout_fails_latency() {
    // On the provider with the shortest timeout, to keep the run short: the slow receiver
    // answers just after it, inside the hang bound, so the suite sees the late 2xx
    // rather than silence.
    let spec = shortest_timeout_spec();
    let provider = spec.provider.clone();
    let receiver = bundled::start(
        std::slice::from_ref(&spec),
        &Default::default(),
        &[bundled::Fault::SlowAck],
    )
    .await
    .unwrap();
    let report = Suite::provider(&provider)
        .credentials(Credentials::test())
        .only(&format!("{provider}/latency/*"))
        .run_bound(spec.delivery.timeout.get() * 3)
        .run(&receiver.url())
        .await
        .unwrap();
    receiver.shutdown(Duration::from_millis(200)).await;
    let case = &report.cases[0];
    assert_eq!(case.outcome, Outcome::Fail);
    assert!(
        case.observed.starts_with('2') && case.observed.ends_with(" timeout"),
        "{}",
        case.observed
    );
    assert!(case.observed.contains(" after the "), "{}", case.observed);
    assert_eq!(case.latency_bucket, Some(LatencyBucket::Late));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepting_a_future_iat_fails_only_the_future_iat_case() {
    let failed = failed_with(bundled::Fault::AcceptFutureIat, ALL_BUT_DELIVER).await;
    // Only JWT providers' `iat` is affected; timestamped HMACs keep their own tolerance.
    assert_eq!(sorted(ids(&failed)), each_jwt_provider("future-iat"));
    assert!(failed.iter().all(|c| c.observed.starts_with('2')));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crashing_on_extra_fields_fails_the_extra_field_cases() {
    let failed = failed_with(bundled::Fault::CrashOnExtraField, &["*"]).await;
    // It chokes after verifying, so the tampered bodies (which carry an added field too)
    // are still refused with 401. Every extra-field case fails; so do the cases of
    // providers whose real examples carry fields their spec leaves undeclared (GitHub's
    // payloads are declared only in part), which is exactly what a strict receiver meets.
    let got = sorted(ids(&failed));
    for id in each_provider("tolerate/extra-field") {
        assert!(got.contains(&id), "{id} in {got:?}");
    }
    let undeclared: Vec<String> = crate::common::builtin_specs()
        .into_iter()
        .filter(|spec| {
            spec.events.iter().any(|e| {
                let headers: http::HeaderMap = hookspec_codegen::check::when_headers(spec, e)
                    .into_iter()
                    .map(|(n, v)| (n.parse().unwrap(), v.parse().unwrap()))
                    .collect();
                e.examples.iter().any(|x| {
                    hookspec::parse_delivery(&spec.provider, &headers, x.as_bytes())
                        .expect("a provider of the hookspec crate")
                        .is_ok_and(|event| !event.unknown_fields().is_empty())
                })
            })
        })
        .map(|spec| spec.provider)
        .collect();
    for id in &got {
        let provider = id.split('/').next().unwrap();
        assert!(
            id.ends_with("/tolerate/extra-field") || undeclared.iter().any(|p| p == provider),
            "{id} failed, though {provider}'s examples declare every field"
        );
    }
    for case in failed
        .iter()
        .filter(|c| c.id.ends_with("/tolerate/extra-field"))
    {
        assert_eq!(case.observed, "500", "{}", case.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_for_an_unknown_subject_fails_only_the_unknown_subject_cases() {
    let failed = failed_with(bundled::Fault::ServerErrorOnUnknownSubject, ALL_BUT_DELIVER).await;
    let mut expected: Vec<String> = Suite::builtin()
        .credentials(Credentials::test())
        .only("*/tolerate/unknown-subject")
        .cases()
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    expected.sort();
    assert!(expected.len() >= 2, "{expected:?}");
    assert_eq!(sorted(ids(&failed)), expected);
    assert!(failed.iter().all(|c| c.observed.starts_with("500")));
}

/// A stateful receiver that knows only object `4242` (and 500s on anything else, the
/// fault): given `--subject 4242`, every delivery names that object (a string id or a
/// numeric one, as each event has it) and passes, and only the unknown-subject cases
/// fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stateful_receiver_passes_when_given_the_subject_it_knows() {
    // JWT providers' keys are not served here: they are not played.
    let played: Vec<_> = crate::common::builtin_specs()
        .into_iter()
        .filter(|s| keys::jwt_scheme(s).is_none())
        .collect();
    let mut config = bundled::config(
        &played,
        &Default::default(),
        &[bundled::Fault::ServerErrorOnUnknownSubject],
    );
    config.known_subjects = vec!["4242".into()];
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let receiver = hookspec_reference_receiver::start(config, listener)
        .await
        .unwrap();
    let report = Suite::from_specs(played)
        .credentials(Credentials::test())
        .subject("4242")
        .only("*/deliver/*")
        .only("*/tolerate/*")
        .only("*/ordering/*")
        .run_bound(Duration::from_secs(60))
        .run(&receiver.url())
        .await
        .unwrap();
    let logged = receiver.log.events();
    receiver.shutdown(Duration::from_secs(1)).await;
    let failed: Vec<&str> = report
        .cases
        .iter()
        .filter(|c| c.outcome == Outcome::Fail)
        .map(|c| c.id.as_str())
        .collect();
    assert!(!failed.is_empty());
    assert!(
        failed
            .iter()
            .all(|id| id.ends_with("/tolerate/unknown-subject")),
        "{}",
        report.to_pretty()
    );
    // Every logged event with a subject names the one given.
    assert!(logged
        .iter()
        .any(|e| e.subject_id.as_deref() == Some("4242")));
    assert!(
        logged
            .iter()
            .all(|e| e.subject_id.is_none() || e.subject_id.as_deref() == Some("4242")),
        "{logged:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dying_after_the_first_acknowledgement_is_reported_as_a_death() {
    let provider = hookspec_conformance::specs::builtin_names()[0];
    let specs = vec![hookspec_conformance::specs::builtin(provider).unwrap()];
    let receiver = bundled::start(
        &specs,
        &Default::default(),
        &[bundled::Fault::DieAfterFirstAck],
    )
    .await
    .unwrap();
    let report = Suite::from_specs(specs)
        .credentials(Credentials::test())
        .concurrency(1)
        .run_bound(Duration::from_secs(60))
        .run(&receiver.url())
        .await
        .unwrap();
    receiver.shutdown(Duration::from_millis(200)).await;
    assert!(!report.passed());
    // The first case got the one acknowledgement and is the one that died.
    let first = &report.cases[0];
    assert_eq!(first.outcome, Outcome::Fail, "{}", report.to_pretty());
    assert!(
        first.observed.starts_with("receiver died"),
        "{}",
        first.observed
    );
    for later in &report.cases[1..] {
        assert_eq!(
            later.outcome,
            Outcome::Skip,
            "{}: {}",
            later.id,
            later.observed
        );
        assert!(
            later.observed.starts_with("receiver down"),
            "{}",
            later.observed
        );
    }
    assert!(
        report.notes.iter().any(|n| n.contains(&first.id)),
        "{:?}",
        report.notes
    );
}

/// The `slow-handler` check: a handler slower than the provider's timeout makes a
/// receiver that handles before answering miss every delivery of a burst; the same
/// receiver and handler behind an inbox (`--inbox`) answers each in time, since it answers
/// once the delivery is stored and its workers handle it after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_handler_misses_the_burst_inline_and_not_behind_an_inbox() {
    let spec = shortest_timeout_spec();
    let provider = spec.provider.clone();
    let dir = tempfile::tempdir().unwrap();
    for inbox in [
        None,
        Some(format!(
            "sqlite://{}",
            dir.path().join("inbox.db").display()
        )),
    ] {
        let mut config = bundled::config(
            std::slice::from_ref(&spec),
            &Default::default(),
            &[bundled::Fault::SlowAck],
        );
        config.inbox = inbox.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver = hookspec_reference_receiver::start(config, listener)
            .await
            .unwrap();
        let report = Suite::provider(&provider)
            .credentials(Credentials::test())
            .only(&format!("{provider}/latency/slow-handler"))
            .run_bound(spec.delivery.timeout.get() * 3)
            .run(&receiver.url())
            .await
            .unwrap();
        receiver.shutdown(Duration::from_millis(200)).await;
        let case = &report.cases[0];
        match inbox {
            None => {
                assert_eq!(case.outcome, Outcome::Fail, "{case:?}");
                let missed = format!("{0} of {0} not acknowledged in time", cases::BURST);
                assert!(case.observed.starts_with(&missed), "{}", case.observed);
            }
            Some(_) => {
                assert_eq!(case.outcome, Outcome::Pass, "{case:?}");
                assert_eq!(case.latency_bucket, Some(LatencyBucket::Fast));
            }
        }
    }
}
