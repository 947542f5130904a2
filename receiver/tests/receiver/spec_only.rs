//! A provider that exists only as a YAML file (tests/fixtures/ledgerly.yaml, not in
//! `spec/`) is received with no generated code: verified by the same verifiers the
//! generated modules use, routed by its discriminator table, malformed bodies refused.

use std::path::Path;
use std::time::{Duration, SystemTime};

use hookspec_codegen::model::ProviderSpec;
use hookspec_reference_receiver::{start, ReceiverConfig};
use hookspec_signer::{Attack, Signer, SigningCredentials};

fn ledgerly() -> ProviderSpec {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ledgerly.yaml");
    hookspec_codegen::load_file(&path)
        .expect("fixture loads")
        .spec
}

async fn post(url: &str, headers: &[(String, String)], body: &[u8]) -> u16 {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (name, value) in headers {
        request = request.header(name, value);
    }
    request
        .send()
        .await
        .expect("receiver answers")
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_provider_known_only_from_its_spec_is_verified_and_routed() {
    let spec = ledgerly();
    assert!(
        !hookspec::PROVIDERS.contains(&spec.provider.as_str()),
        "the fixture must not be a generated provider"
    );
    let signing = SigningCredentials::test(&spec);
    let signer = Signer::new(&spec, signing.clone());
    let mut config = ReceiverConfig::all_providers().with_specs(vec![spec.clone()]);
    config.providers = vec![spec.provider.clone()];
    config.secrets.shared = signing.shared.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = start(config, listener).await.expect("receiver starts");
    let url = format!("{}/ledgerly", running.url());

    // Every documented example, signed as the spec says, is acknowledged and logged once
    // under its event name and the spec's idempotency key.
    for event in &spec.events {
        let body = event.examples[0].as_bytes();
        let headers = signer.sign(body, SystemTime::now());
        assert_eq!(post(&url, &headers, body).await, 200, "{}", event.name);
    }
    let log = running.log.events();
    let names: Vec<(&str, &str)> = log
        .iter()
        .map(|e| (e.event.as_str(), e.idempotency_key.as_str()))
        .collect();
    assert_eq!(
        names,
        [("EntryPosted", "dlv_1"), ("EntryReversed", "dlv_2")]
    );
    assert_eq!(log[0].subject_id.as_deref(), Some("ent_1"));

    // Every attack on the scheme is refused, as it is for a generated provider.
    let body = spec.events[0].examples[0].as_bytes();
    let attacks = signer.attacks();
    assert!(!attacks.is_empty());
    for attack in attacks {
        if let Some(forged) = signer.attack(attack, body, SystemTime::now()) {
            let status = post(&url, &forged.headers, &forged.body).await;
            assert!(
                status == 401 || status == 403,
                "{attack:?} answered {status}"
            );
        }
    }
    assert!(signer.attacks().contains(&Attack::TamperedBody));

    // A known event whose body breaks its shape is refused 400; an unknown event is
    // acknowledged; a body without the discriminator is refused 400.
    for (body, want) in [
        (
            r#"{"kind": "entry.posted", "delivery_id": "d3", "entry": {"id": 7}}"#,
            400,
        ),
        (r#"{"kind": "entry.archived", "delivery_id": "d4"}"#, 200),
        (r#"{"delivery_id": "d5"}"#, 400),
    ] {
        let headers = signer.sign(body.as_bytes(), SystemTime::now());
        assert_eq!(post(&url, &headers, body.as_bytes()).await, want, "{body}");
    }
    assert_eq!(running.log.events().last().unwrap().event, "Unknown");
    running.shutdown(Duration::from_secs(1)).await;
}

/// Found by fuzzing: the run-time provider named events that share discriminator values
/// by the first in the spec (Plaid's `ProcessorRecurringTransactionsUpdate` for a body
/// with `item_id`, which generated dispatch calls `RecurringTransactionsUpdate`). Every
/// documented example of every bundled provider must now get the same name both ways.
#[test]
fn the_run_time_provider_names_every_example_as_generated_dispatch_does() {
    use hookspec::runtime::Provider as _;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    let mut checked = 0;
    for loaded in hookspec_codegen::load_dir(&dir).unwrap() {
        let spec = loaded.spec;
        let runtime = hookspec_reference_receiver::spec_provider(&spec);
        for event in &spec.events {
            let mut headers = http::HeaderMap::new();
            for (name, value) in hookspec_codegen::check::when_headers(&spec, event) {
                headers.insert(
                    http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    value.parse().unwrap(),
                );
            }
            for example in &event.examples {
                let generated =
                    hookspec::parse_delivery(&spec.provider, &headers, example.as_bytes())
                        .unwrap()
                        .unwrap();
                let by_spec = runtime.parse(&headers, example.as_bytes()).unwrap();
                assert_eq!(
                    (generated.name(), by_spec.name),
                    (event.name.as_str(), event.name.as_str()),
                    "{}",
                    spec.provider
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 100, "only {checked}");
}

/// A spec read at run time gets the same repeated-key rule as generated code: refused by
/// default, the last copy read with `envelope.repeated_keys: last_wins` (the emitter
/// fixture has it).
#[test]
fn the_run_time_provider_follows_the_specs_repeated_key_rule() {
    use hookspec::runtime::{ParseError, Provider as _};
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../codegen/tests/fixtures/emit-fixture.yaml");
    let last_wins = hookspec_codegen::load_file(&path).unwrap().spec;
    let mut refusing = last_wins.clone();
    refusing.envelope.repeated_keys = hookspec_codegen::model::RepeatedKeys::Refuse;
    let body =
        br#"{"kind": "thing", "code": "removed", "code": "changed", "id": "d1", "sent_at": 1,
        "data": {"type": "a", "loginName": null, "amount": 1, "status": "paused",
                 "tags": {}, "account": {"id": 7}}}"#;
    let headers = http::HeaderMap::new();
    let read = hookspec_reference_receiver::spec_provider(&last_wins)
        .parse(&headers, body)
        .unwrap();
    assert_eq!(
        (read.name, read.body["code"].as_str()),
        ("Changed", Some("changed"))
    );
    assert_eq!(
        hookspec_reference_receiver::spec_provider(&refusing)
            .parse(&headers, body)
            .err(),
        Some(ParseError::RepeatedKey {
            key: "code".into(),
            object: "$".into()
        })
    );
}
