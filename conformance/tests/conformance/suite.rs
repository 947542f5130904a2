//! The suite end to end against small in-test receivers: a careful one passes every
//! case, each seeded fault fails the case meant to catch it, and the report renders as a
//! stable snapshot, valid JSON and valid JUnit XML.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use hookspec_conformance::report::redacted_settings;
use hookspec_conformance::{Credentials, Outcome, Report, SharedCredentials, Suite};
use tokio::net::TcpListener;

#[derive(Clone, Copy, Default)]
struct Faults {
    fail_on_unknown_event: bool,
    never_answer: bool,
    accept_malformed: bool,
    /// Answer 503 to this many requests first, as if down.
    down_for: usize,
}

#[derive(Clone)]
struct Receiver {
    faults: Faults,
    requests: Arc<AtomicUsize>,
}

const CLIENT_ID: &str = "client-under-test";

/// A Vezgo receiver in a dozen lines, the way a careful team would write one.
async fn vezgo(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let n = r.requests.fetch_add(1, Ordering::SeqCst);
    if n < r.faults.down_for {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    if r.faults.never_answer {
        // Longer than any bound the tests give the suite: it must cut the case off.
        tokio::time::sleep(Duration::from_secs(30)).await;
    }
    if headers.get("x-client-id").map(|v| v.as_bytes()) != Some(CLIENT_ID.as_bytes()) {
        return StatusCode::UNAUTHORIZED;
    }
    let json = headers
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !json {
        return StatusCode::UNSUPPORTED_MEDIA_TYPE;
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return if r.faults.accept_malformed {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        };
    };
    let known = matches!(
        value.get("hook").and_then(|h| h.as_str()),
        Some("SyncAccount" | "SyncError")
    );
    if !known && r.faults.fail_on_unknown_event {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    StatusCode::OK
}

/// Serves the receiver on loopback for at most 60 seconds.
async fn start(faults: Faults) -> (String, Arc<AtomicUsize>) {
    let requests = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route("/vezgo", post(vezgo))
        .with_state(Receiver {
            faults,
            requests: requests.clone(),
        });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = tokio::time::timeout(Duration::from_secs(60), axum::serve(listener, app)).await;
    });
    (url, requests)
}

fn suite() -> Suite {
    Suite::provider("vezgo")
        .credentials(Credentials {
            shared: SharedCredentials {
                client_ids: vec![CLIENT_ID.into()],
                ..SharedCredentials::default()
            },
            ..Credentials::default()
        })
        .slow_body(Duration::from_millis(200))
        .run_bound(Duration::from_secs(30))
}

fn failed(report: &Report) -> Vec<&str> {
    report
        .cases
        .iter()
        .filter(|c| c.outcome == Outcome::Fail)
        .map(|c| c.id.as_str())
        .collect()
}

#[tokio::test]
async fn a_careful_receiver_passes_and_the_report_snapshot_is_stable() {
    let (url, _) = start(Faults::default()).await;
    let report = suite().run(&url).await.unwrap();
    assert!(report.passed(), "{}", report.to_pretty());
    assert_eq!(report.summary.failed, 0);
    assert!(report.summary.total >= 12);
    crate::common::pinned_snapshots(redacted_settings())
        .bind(|| insta::assert_yaml_snapshot!("suite__vezgo_careful", report));
}

#[tokio::test]
async fn a_receiver_failing_on_unknown_events_fails_exactly_that_case() {
    let (url, _) = start(Faults {
        fail_on_unknown_event: true,
        ..Faults::default()
    })
    .await;
    let report = suite().run(&url).await.unwrap();
    // A body without `hook` names no event it knows either: it fails that case too.
    assert_eq!(
        failed(&report),
        [
            "vezgo/tolerate/unknown-event",
            "vezgo/robustness/missing-discriminator"
        ]
    );
    let case = report
        .cases
        .iter()
        .find(|c| c.outcome == Outcome::Fail)
        .unwrap();
    assert_eq!(case.observed, "500");
}

#[tokio::test]
async fn a_receiver_accepting_malformed_json_fails_exactly_that_case() {
    let (url, _) = start(Faults {
        accept_malformed: true,
        ..Faults::default()
    })
    .await;
    let report = suite().run(&url).await.unwrap();
    // A validly signed empty body may be acknowledged: only the malformed one fails.
    assert_eq!(failed(&report), ["vezgo/robustness/malformed-json"]);
}

#[tokio::test]
async fn a_hung_receiver_is_called_hung_and_the_run_stays_bounded() {
    let (url, _) = start(Faults {
        never_answer: true,
        ..Faults::default()
    })
    .await;
    let started = std::time::Instant::now();
    let report = suite()
        .only("vezgo/deliver/*")
        .hang_bound(Duration::from_millis(300))
        .run(&url)
        .await
        .unwrap();
    // Not a speed check: it ends well before the bound the suite would use without
    // `hang_bound` (the provider's timeout plus the grace), which shows that one was kept.
    let default_bound = hookspec_conformance::specs::builtin("vezgo")
        .unwrap()
        .delivery
        .timeout
        .get()
        + hookspec_conformance::suite::HANG_GRACE;
    assert!(started.elapsed() < default_bound, "{:?}", started.elapsed());
    assert_eq!(report.summary.total, 2);
    for case in &report.cases {
        assert_eq!(case.outcome, Outcome::Fail);
        assert_eq!(case.observed, "hung: no response before the deadline");
    }
}

#[tokio::test]
async fn the_run_bound_fails_unfinished_cases() {
    let (url, _) = start(Faults {
        never_answer: true,
        ..Faults::default()
    })
    .await;
    let report = suite()
        .only("vezgo/deliver/*")
        .concurrency(1)
        .hang_bound(Duration::from_secs(20))
        .run_bound(Duration::from_millis(300))
        .run(&url)
        .await
        .unwrap();
    assert_eq!(report.summary.failed, 2);
    assert!(report.cases[0].observed.starts_with("not finished"));
}

#[tokio::test]
async fn retry_replays_the_schedule_until_the_receiver_is_back() {
    // Vezgo documents no retries; a spec with Belvo's linear schedule shows the replay.
    let mut spec = hookspec_conformance::specs::builtin("vezgo").unwrap();
    spec.delivery.retry = hookspec_conformance::specs::builtin("belvo")
        .unwrap()
        .delivery
        .retry;
    let (url, requests) = start(Faults {
        down_for: 2,
        ..Faults::default()
    })
    .await;
    let report = Suite::from_specs(vec![spec])
        .credentials(Credentials {
            shared: SharedCredentials {
                client_ids: vec![CLIENT_ID.into()],
                ..SharedCredentials::default()
            },
            ..Credentials::default()
        })
        .only("*/retry/*")
        .retry(0.001)
        .run(&url)
        .await
        .unwrap();
    assert!(report.passed(), "{}", report.to_pretty());
    let case = &report.cases[0];
    assert_eq!(case.observed, "delivered at attempt 3");
    let attempts = case.attempts.as_ref().unwrap();
    let scheduled: Vec<u64> = attempts.iter().map(|a| a.scheduled_ms).collect();
    // Belvo: 1 min, then 2 min, scaled by 1/1000 and summed.
    assert_eq!(scheduled, [0, 60, 180]);
    assert_eq!(attempts[0].observed, "503");
    assert_eq!(requests.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn retry_reports_a_lost_event_when_the_schedule_runs_out() {
    let mut spec = hookspec_conformance::specs::builtin("vezgo").unwrap();
    spec.delivery.retry = hookspec_conformance::specs::builtin("belvo")
        .unwrap()
        .delivery
        .retry;
    let (url, _) = start(Faults {
        down_for: 100,
        ..Faults::default()
    })
    .await;
    let report = Suite::from_specs(vec![spec])
        .only("*/retry/*")
        .retry(0.0001)
        .run(&url)
        .await
        .unwrap();
    let case = &report.cases[0];
    assert_eq!(case.outcome, Outcome::Fail);
    assert_eq!(case.observed, "lost: not acknowledged by any of 6 attempts");
}

#[tokio::test]
async fn json_and_junit_renderings_are_valid() {
    let (url, _) = start(Faults {
        fail_on_unknown_event: true,
        ..Faults::default()
    })
    .await;
    let report = suite().run(&url).await.unwrap();

    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    for key in ["receiver", "summary", "cases"] {
        assert!(json.get(key).is_some(), "{key}");
    }
    let cases = json["cases"].as_array().unwrap();
    assert_eq!(cases.len(), report.cases.len());
    for case in cases {
        for key in [
            "id",
            "provider",
            "check",
            "outcome",
            "expected",
            "observed",
            "elapsed_ms",
        ] {
            assert!(case.get(key).is_some(), "{key} in {case}");
        }
        assert!(["pass", "fail", "skip"].contains(&case["outcome"].as_str().unwrap()));
    }

    let xml = report.to_junit();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut testcases, mut failures) = (0, 0);
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                match e.name().as_ref() {
                    b"testcase" => testcases += 1,
                    b"failure" => failures += 1,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    assert_eq!(testcases, report.cases.len());
    assert_eq!(failures, report.summary.failed);
    assert!(failures > 0);
}

#[tokio::test]
async fn unknown_providers_and_bad_urls_are_errors() {
    let e = Suite::provider("nope")
        .run("http://127.0.0.1:1")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no spec for provider `nope`"), "{e}");
    let e = Suite::provider("vezgo")
        .run("https://example.test")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("only absolute http:// URLs"), "{e}");
    let e = Suite::provider("vezgo")
        .only("[")
        .run("http://127.0.0.1:1")
        .await
        .unwrap_err();
    assert!(e.to_string().starts_with("bad case pattern"), "{e}");
}

/// A receiver that acknowledges every delivery with an empty 200 and never answers a
/// handshake fails exactly the handshake cases; for every provider whose spec has one.
#[tokio::test]
async fn acknowledging_a_handshake_without_its_answer_fails_that_case() {
    let specs = hookspec_conformance::specs::builtin_all().unwrap();
    let with_handshakes: Vec<_> = specs
        .iter()
        .filter(|s| {
            s.events
                .iter()
                .any(|e| e.respond.is_some() && !e.examples.is_empty())
        })
        .collect();
    assert!(
        !with_handshakes.is_empty(),
        "no bundled spec has a handshake"
    );
    for spec in with_handshakes {
        let app = Router::new().fallback(|| async { StatusCode::OK });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(30), axum::serve(listener, app)).await;
        });
        let report = Suite::provider(&spec.provider)
            .credentials(Credentials::test())
            .only(&format!("{}/deliver/*", spec.provider))
            .run_bound(Duration::from_secs(20))
            .run(&url)
            .await
            .unwrap();
        server.abort();
        let handshakes: Vec<String> = spec
            .events
            .iter()
            .filter(|e| e.respond.is_some() && !e.examples.is_empty())
            .map(|e| {
                let key = hookspec_conformance::cases::event_key(spec, e);
                format!("{}/deliver/{key}", spec.provider)
            })
            .collect();
        let failed = failed(&report);
        assert!(!failed.is_empty());
        for id in &failed {
            assert!(
                handshakes.iter().any(|h| id.starts_with(h.as_str())),
                "{id} failed but is no handshake: {}",
                report.to_pretty()
            );
        }
        for h in &handshakes {
            assert!(failed.contains(&h.as_str()), "{h}: {}", report.to_pretty());
        }
        let case = report.cases.iter().find(|c| c.id == handshakes[0]).unwrap();
        assert!(case.observed.starts_with("200, "), "{}", case.observed);
    }
}

/// A careful Standard Webhooks receiver (the provider whose fixed `webhook-id` once hid
/// this): it skips a `webhook-id` it has handled, and its handler fails for one event type.
/// Fresh ids per delivery mean the handler runs for every delivered event, so exactly
/// that event's cases fail.
#[tokio::test]
async fn a_handler_failing_for_one_event_fails_that_case_behind_id_deduplication() {
    use std::collections::HashSet;
    use std::sync::Mutex;
    #[derive(Clone, Default)]
    struct Careful {
        handled: Arc<Mutex<HashSet<String>>>,
        runs: Arc<AtomicUsize>,
    }
    async fn receive(State(r): State<Careful>, headers: HeaderMap, body: Bytes) -> StatusCode {
        let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok()) else {
            return StatusCode::BAD_REQUEST;
        };
        if r.handled.lock().unwrap().contains(id) {
            return StatusCode::OK;
        }
        let Ok(event) = serde_json::from_slice::<serde_json::Value>(&body) else {
            return StatusCode::BAD_REQUEST;
        };
        r.runs.fetch_add(1, Ordering::SeqCst);
        if event["type"] == "contact.created" {
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
        r.handled.lock().unwrap().insert(id.to_owned());
        StatusCode::OK
    }
    let careful = Careful::default();
    let app = Router::new()
        .route("/standardwebhooks", post(receive))
        .with_state(careful.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = tokio::time::timeout(Duration::from_secs(30), axum::serve(listener, app)).await;
    });
    let report = Suite::provider("standardwebhooks")
        .credentials(Credentials::test())
        .only("standardwebhooks/deliver/*")
        .run_bound(Duration::from_secs(20))
        .run(&url)
        .await
        .unwrap();
    let failed = failed(&report);
    assert_eq!(
        failed,
        [
            "standardwebhooks/deliver/contact.created",
            "standardwebhooks/deliver/contact.created#2"
        ],
        "{}",
        report.to_pretty()
    );
    assert_eq!(careful.runs.load(Ordering::SeqCst), report.cases.len());
}

/// A receiver that acknowledges its third delivery and then exits (its listener gone):
/// that case fails as `receiver died`, every later case is skipped as `receiver down`, a
/// note says when and after what, and the run does not pass.
#[tokio::test]
async fn a_receiver_that_dies_is_reported_dead_not_blamed_on_the_next_case() {
    let requests = Arc::new(AtomicUsize::new(0));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let stop = Arc::new(std::sync::Mutex::new(Some(stop)));
    let counter = requests.clone();
    let app = Router::new().route(
        "/vezgo",
        post(move || {
            let (counter, stop) = (counter.clone(), stop.clone());
            async move {
                if counter.fetch_add(1, Ordering::SeqCst) + 1 == 3 {
                    if let Some(stop) = stop.lock().unwrap().take() {
                        let _ = stop.send(());
                    }
                }
                StatusCode::OK
            }
        }),
    );
    let server = tokio::spawn(async move {
        let _ = tokio::time::timeout(Duration::from_secs(30), axum::serve(listener, app)).await;
    });
    // "Exits" right after answering: the server task, listener included, is dropped.
    tokio::spawn(async move {
        let _ = stopped.await;
        tokio::time::sleep(Duration::from_millis(5)).await;
        server.abort();
    });
    let report = suite().concurrency(1).run(&url).await.unwrap();
    assert!(!report.passed());
    let died: Vec<&str> = report
        .cases
        .iter()
        .filter(|c| c.observed.starts_with("receiver died"))
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(died.len(), 1, "{}", report.to_pretty());
    let index = report.cases.iter().position(|c| c.id == died[0]).unwrap();
    assert_eq!(index, 2, "the third case, which got the last answer");
    for later in &report.cases[index + 1..] {
        assert_eq!(later.outcome, Outcome::Skip, "{}", later.id);
        assert!(
            later.observed.starts_with("receiver down"),
            "{}",
            later.observed
        );
    }
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("stopped accepting connections") && n.contains(died[0])),
        "{:?}",
        report.notes
    );
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert!(json["notes"][0].as_str().unwrap().contains(died[0]));
}
