//! `Event::unknown_fields` names exactly the fields the spec does not know.

use std::path::Path;

use hookspec_codegen::model::ProviderSpec;

use crate::common;

fn specs() -> Vec<ProviderSpec> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    hookspec_codegen::load_dir(&dir)
        .unwrap()
        .into_iter()
        .map(|l| l.spec)
        .collect()
}

fn unknown(provider: &str, body: &[u8]) -> Vec<String> {
    unknown_in(provider, &http::HeaderMap::new(), body)
}

/// As delivered with `headers` (those that name the event, where the provider sends them).
fn unknown_in(provider: &str, headers: &http::HeaderMap, body: &[u8]) -> Vec<String> {
    hookspec::parse_delivery(provider, headers, body)
        .unwrap()
        .unwrap()
        .unknown_fields()
}

#[test]
fn documented_examples_have_no_unknown_fields_and_added_ones_are_named() {
    let mut checked = 0;
    for spec in specs() {
        for event in &spec.events {
            let headers = common::header_map(&hookspec_codegen::check::when_headers(&spec, event));
            for example in &event.examples {
                let body = example.as_bytes();
                let documented = unknown_in(&spec.provider, &headers, body);
                let mut value: serde_json::Value = serde_json::from_slice(body).unwrap();
                value["zz_top_level_novelty"] = serde_json::json!(1);
                let mut want = documented.clone();
                want.push("$.zz_top_level_novelty".to_owned());
                if let Some(field) = &spec.envelope.payload_field {
                    if let Some(inner) = value[field.as_str()].as_object_mut() {
                        inner.insert("zz_nested_novelty".into(), serde_json::json!({"a": 1}));
                        want.push(format!("$.{field}.zz_nested_novelty"));
                    }
                }
                let mut got = unknown_in(
                    &spec.provider,
                    &headers,
                    &serde_json::to_vec(&value).unwrap(),
                );
                got.sort();
                want.sort();
                assert_eq!(got, want, "{}/{}", spec.provider, event.name);
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "only {checked} examples");
}

#[test]
fn unknown_fields_inside_lists_carry_their_index() {
    let body = br#"{"webhook_type":"TRANSACTIONS","webhook_code":"TRANSACTIONS_REMOVED","item_id":"i","removed_transactions":["a"],"error":null,"environment":"sandbox"}"#;
    assert_eq!(unknown("plaid", body), Vec::<String>::new());
    let body = br#"{"hook":"SyncAccount","user":{"id":"u","loginName":"n","tier":"gold"},"account":{"id":"a","provider":"p"}}"#;
    assert_eq!(unknown("vezgo", body), vec!["$.user.tier".to_owned()]);
}
