//! Follow-ups in the specs: coverage of the providers' "call X next" webhooks, example
//! responses against their shapes, the `list-endpoints` lines and the expected parameters
//! a mock of the provider checks calls against.

use std::path::Path;

use hookspec_codegen::check::check_value;
use hookspec_codegen::emit_follow_up::list_endpoints;
use hookspec_codegen::ir::{lower, Expected};
use hookspec_codegen::{load_dir, LoadedSpec};
use serde_json::json;

fn specs() -> Vec<LoadedSpec> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    load_dir(&dir).unwrap_or_else(|e| panic!("{e}"))
}

fn spec(name: &str) -> hookspec_codegen::ProviderSpec {
    specs()
        .into_iter()
        .find(|s| s.spec.provider == name)
        .expect("provider")
        .spec
}

#[test]
fn every_belvo_event_has_a_follow_up() {
    let belvo = spec("belvo");
    let missing: Vec<&str> = belvo
        .events
        .iter()
        .filter(|e| e.follow_up.is_none())
        .map(|e| e.name.as_str())
        .collect();
    assert!(missing.is_empty(), "without follow-up: {missing:?}");
}

#[test]
fn plaid_products_that_say_call_next_have_follow_ups() {
    let plaid = spec("plaid");
    let endpoint_of = |event: &str| {
        plaid
            .events
            .iter()
            .find(|e| e.name == event)
            .and_then(|e| e.follow_up.as_ref())
            .map(|f| {
                plaid.api.as_ref().unwrap().endpoints[&f.endpoint]
                    .path
                    .clone()
            })
            .unwrap_or_else(|| panic!("{event} has no follow-up"))
    };
    for (event, path) in [
        ("SyncUpdatesAvailable", "/transactions/sync"),
        ("DefaultUpdate", "/transactions/get"),
        ("ItemError", "/item/get"),
        ("AuthDefaultUpdate", "/auth/get"),
        ("HoldingsDefaultUpdate", "/investments/holdings/get"),
        ("InvestmentsDefaultUpdate", "/investments/transactions/get"),
        ("LiabilitiesDefaultUpdate", "/liabilities/get"),
        ("AssetsProductReady", "/asset_report/get"),
        ("BankIncomeComplete", "/credit/bank_income/get"),
        ("IdentityDefaultUpdate", "/identity/get"),
        ("TransferEventsUpdate", "/transfer/event/sync"),
    ] {
        assert_eq!(endpoint_of(event), path, "{event}");
    }
    let api = plaid.api.as_ref().unwrap();
    let key = &api.endpoints[api.verification.as_ref().expect("verification endpoint")];
    assert_eq!(key.path, "/webhook_verification_key/get");
    assert!(key.params.contains_key("key_id"));
}

/// The loader already refuses a mismatching example; this keeps the guarantee visible and
/// proves the check is not vacuous.
#[test]
fn every_example_response_matches_its_shape_and_a_broken_one_does_not() {
    let mut checked = 0;
    for loaded in specs() {
        let spec = &loaded.spec;
        let Some(api) = &spec.api else { continue };
        let responses = api
            .endpoints
            .values()
            .map(|e| &e.response)
            .chain(api.error.as_ref());
        for r in responses {
            let example: serde_json::Value = serde_json::from_str(&r.example).unwrap();
            assert_eq!(check_value(spec, &r.shape, &example), vec![]);
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} responses");
    let plaid = spec("plaid");
    let sync = &plaid.api.as_ref().unwrap().endpoints["transactions_sync"].response;
    let broken = json!({"added": "nope"});
    let violations = check_value(&plaid, &sync.shape, &broken);
    assert!(
        violations.iter().any(|v| v.path == "$.added"),
        "{violations:?}"
    );
    assert!(violations.iter().any(|v| v.path == "$.next_cursor"));
}

#[test]
fn list_endpoints_prints_sorted_tab_separated_lines() {
    let providers: Vec<_> = specs().iter().map(|s| lower(&s.spec)).collect();
    let lines = list_endpoints(&providers);
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted);
    assert!(lines.contains(&"plaid\tSyncUpdatesAvailable\tPOST\t/transactions/sync".to_owned()));
    assert!(lines.contains(&"belvo\tLinkInvalidCredentials\tGET\t/api/links/{id}/".to_owned()));
    for l in &lines {
        let cols: Vec<&str> = l.split('\t').collect();
        assert_eq!(cols.len(), 4, "{l}");
        assert!(["GET", "POST"].contains(&cols[2]), "{l}");
        assert!(cols[3].starts_with('/'), "{l}");
    }
    let belvo = spec("belvo");
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("belvo\t")).count(),
        belvo.events.len()
    );
    assert!(!lines
        .iter()
        .any(|l| l.starts_with("bridge\t") || l.starts_with("vezgo\t")));
}

#[test]
fn expected_parameters_follow_the_bindings() {
    let belvo = lower(&spec("belvo"));
    let event = belvo
        .events
        .iter()
        .find(|e| e.name == "AccountsNewAccountsAvailable")
        .unwrap();
    let body = json!({"link_id": "2f5d361d-dad6-45d4-a0bf-26d479766067", "data": {}});
    let expected = event.follow_up.as_ref().unwrap().expected(&body);
    assert_eq!(
        expected,
        vec![
            (
                "link".to_owned(),
                Expected::Value(json!("2f5d361d-dad6-45d4-a0bf-26d479766067"))
            ),
            ("created_at__range".to_owned(), Expected::SincePrevious),
        ]
    );
    let plaid = lower(&spec("plaid"));
    let event = plaid
        .events
        .iter()
        .find(|e| e.name == "SyncUpdatesAvailable")
        .unwrap();
    let expected = event
        .follow_up
        .as_ref()
        .unwrap()
        .expected(&json!({"item_id": "wz666"}));
    assert_eq!(
        expected[0],
        (
            "access_token".to_owned(),
            Expected::Caller {
                name: "access_token".to_owned(),
                key: Some(json!("wz666"))
            }
        )
    );
    let missing = event.follow_up.as_ref().unwrap().expected(&json!({}));
    assert_eq!(
        missing[0].1,
        Expected::Caller {
            name: "access_token".to_owned(),
            key: None
        }
    );
}
