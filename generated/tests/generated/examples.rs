//! Every documented example of every provider parses into its own event and
//! re-serializes to JSON equal to the input, numbers compared by their exact text.

use std::path::Path;

use hookspec::runtime::ParseError;

use crate::common;

fn specs() -> Vec<hookspec_codegen::LoadedSpec> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    hookspec_codegen::load_dir(&dir).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_provider_in_the_specs_is_generated() {
    let mut names: Vec<String> = specs().into_iter().map(|s| s.spec.provider).collect();
    names.sort();
    assert_eq!(names, hookspec::PROVIDERS);
}

#[test]
fn every_example_round_trips_into_its_event() {
    let mut checked = 0;
    for loaded in specs() {
        let spec = &loaded.spec;
        for event in &spec.events {
            for (i, text) in event.examples.iter().enumerate() {
                let label = format!("{} {} example {i}", spec.provider, event.name);
                // With the headers that name the event, where the provider sends them.
                let headers =
                    common::header_map(&hookspec_codegen::check::when_headers(spec, event));
                let parsed = hookspec::parse_delivery(&spec.provider, &headers, text.as_bytes())
                    .expect("provider exists")
                    .unwrap_or_else(|e| panic!("{label}: {e}"));
                assert_eq!(parsed.provider(), spec.provider, "{label}");
                assert_eq!(parsed.name(), event.name, "{label}");
                // With arbitrary precision, equal Values mean equal number text too.
                let input: serde_json::Value = serde_json::from_str(text).unwrap();
                let output = serde_json::to_value(&parsed).unwrap();
                assert_eq!(output, input, "{label} must re-serialize unchanged");
                checked += 1;
            }
        }
    }
    assert!(checked >= 100, "only {checked} examples");
}

#[test]
fn decimals_keep_their_exact_text() {
    let body = br#"{"content": {"account_id": 22908770, "balance": 1678.10, "item_id": 4568477, "user_uuid": "766b2f5d-a942-492c-9ea7-2e5aa88cb672"}, "timestamp": 1612782588323, "type": "item.account.created"}"#;
    let event = hookspec::bridge::Event::parse(body).unwrap();
    let hookspec::bridge::Event::ItemAccountCreated(e) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(e.content.balance.as_str(), "1678.10");
    assert!(serde_json::to_string(&event)
        .unwrap()
        .contains("\"balance\":1678.10"));
}

#[test]
fn unknown_events_are_kept_not_refused() {
    let body =
        br#"{"webhook_type": "TRANSACTIONS", "webhook_code": "BRAND_NEW_CODE", "item_id": "x"}"#;
    match hookspec::plaid::Event::parse(body).unwrap() {
        hookspec::plaid::Event::Unknown(u) => {
            assert_eq!(
                u.discriminator,
                vec![
                    ("webhook_type", "TRANSACTIONS".to_owned()),
                    ("webhook_code", "BRAND_NEW_CODE".to_owned())
                ]
            );
            assert_eq!(u.raw["item_id"], "x");
        }
        other => panic!("expected Unknown, got {other:?}"),
    }
    let vezgo = br#"{"hook": "SyncStarted", "user": {}, "account": {}}"#;
    assert_eq!(
        hookspec::vezgo::Event::parse(vezgo).unwrap().name(),
        "Unknown"
    );
}

#[test]
fn open_enums_keep_unknown_values() {
    let body = br#"{"hook": "SyncError", "user": {"id": "u", "loginName": "l"}, "account": {"id": "a", "provider": "p"}, "error": "QuantumFluxError"}"#;
    let hookspec::vezgo::Event::SyncError(e) = hookspec::vezgo::Event::parse(body).unwrap() else {
        panic!()
    };
    assert_eq!(
        e.error,
        hookspec::vezgo::SyncErrorKind::Other("QuantumFluxError".to_owned())
    );
    assert_eq!(e.error.as_str(), "QuantumFluxError");
    assert!(serde_json::to_string(&e)
        .unwrap()
        .contains("\"error\":\"QuantumFluxError\""));
}

#[test]
fn processor_variants_dispatch_on_account_id() {
    let item = br#"{"webhook_type": "TRANSACTIONS", "webhook_code": "SYNC_UPDATES_AVAILABLE", "item_id": "i", "initial_update_complete": true, "historical_update_complete": false, "environment": "production"}"#;
    let processor = br#"{"webhook_type": "TRANSACTIONS", "webhook_code": "SYNC_UPDATES_AVAILABLE", "account_id": "a", "initial_update_complete": true, "historical_update_complete": false, "environment": "production"}"#;
    assert_eq!(
        hookspec::plaid::Event::parse(item).unwrap().name(),
        "SyncUpdatesAvailable"
    );
    assert_eq!(
        hookspec::plaid::Event::parse(processor).unwrap().name(),
        "ProcessorSyncUpdatesAvailable"
    );
}

#[test]
fn broken_known_events_say_which_event_and_field() {
    let body = br#"{"hook": "SyncAccount", "user": {"id": "u", "loginName": 7}, "account": {"id": "a", "provider": "p"}}"#;
    match hookspec::vezgo::Event::parse(body) {
        Err(ParseError::Event {
            event,
            path,
            message,
        }) => {
            assert_eq!(event, "SyncAccount");
            assert_eq!(path, "user.loginName");
            assert!(message.contains("invalid type"), "{message}");
        }
        other => panic!("expected a typed error, got {other:?}"),
    }
    assert!(matches!(
        hookspec::vezgo::Event::parse(b"{not json"),
        Err(ParseError::NotJson { .. })
    ));
    assert!(matches!(
        hookspec::vezgo::Event::parse(br#"{"user": {}}"#),
        Err(ParseError::Discriminator { field: "hook", .. })
    ));
}

#[test]
fn subject_and_idempotency_key_accessors() {
    let bridge = br#"{"content": {"item_id": 4568477, "user_uuid": "766b2f5d-a942-492c-9ea7-2e5aa88cb672"}, "timestamp": 1612782588323, "type": "item.created"}"#;
    let e = hookspec::bridge::Event::parse(bridge).unwrap();
    assert_eq!(e.subject_id().as_deref(), Some("4568477"));
    assert_eq!(e.delivery_id(), None);
    let key = e.idempotency_key(bridge);
    assert!(key.starts_with("sha256:") && key.len() == 7 + 64, "{key}");
    assert_eq!(key, hookspec::runtime::body_digest(bridge));
    assert_ne!(
        key,
        hookspec::runtime::body_digest(&bridge[..bridge.len() - 1])
    );
    // The FIPS 180-2 "abc" vector, lowercase hex.
    assert_eq!(
        hookspec::runtime::body_digest(b"abc"),
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );

    let belvo = br#"{"webhook_id": "aadf41a1fc8e4f79a49f7f04027ac999", "webhook_type": "ACCOUNTS", "process_type": "historical_update", "webhook_code": "historical_update", "link_id": "16f68516-bcbc-4cf7-b815-c500d4204e28", "request_id": "4363b08b-51eb-4350-9c74-5df5ac92a7f6", "external_id": null, "data": {"total_accounts": 5}}"#;
    let e = hookspec::belvo::Event::parse(belvo).unwrap();
    assert_eq!(
        e.subject_id().as_deref(),
        Some("16f68516-bcbc-4cf7-b815-c500d4204e28")
    );
    assert_eq!(e.idempotency_key(belvo), "aadf41a1fc8e4f79a49f7f04027ac999");

    let vezgo = br#"{"hook": "SyncAccount", "user": {"id": "u1", "loginName": "l"}, "account": {"id": "acc9", "provider": "p"}}"#;
    assert_eq!(
        hookspec::vezgo::Event::parse(vezgo)
            .unwrap()
            .subject_id()
            .as_deref(),
        Some("acc9")
    );

    // Unknown events still expose what the spec's paths find in the raw body.
    let unknown = br#"{"webhook_type": "NEW_PRODUCT", "webhook_code": "X", "item_id": "it1"}"#;
    let e = hookspec::plaid::Event::parse(unknown).unwrap();
    assert_eq!(e.name(), "Unknown");
    assert_eq!(e.subject_id().as_deref(), Some("it1"));
}

#[test]
fn optional_fields_refuse_null_unless_nullable() {
    // `request_id` is optional but not nullable in Belvo's envelope.
    let body = br#"{"webhook_id": "a", "webhook_type": "ACCOUNTS", "webhook_code": "historical_update", "link_id": "16f68516-bcbc-4cf7-b815-c500d4204e28", "request_id": null, "data": {"total_accounts": 5}}"#;
    let err = hookspec::belvo::Event::parse(body).unwrap_err();
    assert!(
        matches!(&err, ParseError::Event { path, .. } if path == "request_id"),
        "{err}"
    );
    // `external_id` is optional and nullable: null is kept and written back.
    let ok = br#"{"webhook_id": "a", "webhook_type": "ACCOUNTS", "webhook_code": "historical_update", "link_id": "16f68516-bcbc-4cf7-b815-c500d4204e28", "external_id": null, "data": {"total_accounts": 5}}"#;
    let e = hookspec::belvo::Event::parse(ok).unwrap();
    assert!(serde_json::to_string(&e)
        .unwrap()
        .contains("\"external_id\":null"));
}

/// Bodies built from every example: as documented, compacted, with keys reversed (so
/// discriminators come last), with an escaped string added, and with trailing garbage.
fn variants_of(text: &str) -> Vec<Vec<u8>> {
    let value: serde_json::Value = serde_json::from_str(text).unwrap();
    let obj = value.as_object().unwrap();
    let reversed: serde_json::Map<String, serde_json::Value> = obj
        .iter()
        .rev()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut escaped = obj.clone();
    escaped.insert(
        "zz_note".to_owned(),
        serde_json::Value::String("a \"quoted\" \\ word".to_owned()),
    );
    vec![
        text.as_bytes().to_vec(),
        serde_json::to_vec(&value).unwrap(),
        serde_json::to_vec(&reversed).unwrap(),
        serde_json::to_vec(&escaped).unwrap(),
        format!("{text} x").into_bytes(),
        text.replacen(':', ": ", 1).into_bytes(),
    ]
}

macro_rules! same_as_two_pass {
    ($module:ident) => {{
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
        let specs = hookspec_codegen::load_dir(&dir).unwrap();
        let spec = &specs
            .iter()
            .find(|s| s.spec.provider == stringify!($module))
            .unwrap()
            .spec;
        let mut n = 0;
        for e in &spec.events {
            for text in &e.examples {
                for body in variants_of(text) {
                    let one = hookspec::$module::Event::parse(&body);
                    let two = hookspec::$module::Event::parse_two_pass(&body);
                    assert_eq!(
                        one,
                        two,
                        "{}: {}",
                        stringify!($module),
                        String::from_utf8_lossy(&body)
                    );
                    n += 1;
                }
            }
        }
        n
    }};
}

#[test]
fn one_pass_parse_agrees_with_the_two_pass_path() {
    let n = same_as_two_pass!(plaid)
        + same_as_two_pass!(belvo)
        + same_as_two_pass!(bridge)
        + same_as_two_pass!(vezgo);
    assert!(n >= 600, "only {n} bodies compared");
}
