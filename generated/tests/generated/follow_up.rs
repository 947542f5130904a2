//! Emitted follow-ups: the request each event describes (method, URL per environment,
//! query, body, credentials left as placeholders), checked on documented examples.

use std::path::Path;

use hookspec::runtime::{FollowUpContext, Location, ParamIn};
use hookspec::{belvo, plaid};
use serde_json::json;

fn example(spec: &str, event: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    let specs = hookspec_codegen::load_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    let s = specs
        .into_iter()
        .find(|s| s.spec.provider == spec)
        .expect("provider");
    let e = s
        .spec
        .events
        .iter()
        .find(|e| e.name == event)
        .expect("event");
    e.examples[0].clone()
}

#[test]
fn plaid_sync_updates_available_calls_transactions_sync_with_credentials_in_the_body() {
    let text = example("plaid", "SyncUpdatesAvailable");
    let plaid::Event::SyncUpdatesAvailable(event) = plaid::Event::parse(text.as_bytes()).unwrap()
    else {
        panic!("dispatch")
    };
    let ctx = FollowUpContext::new("sandbox").with_value("access_token", "access-sandbox-1");
    let mut f = event.follow_up(&ctx);
    assert_eq!(f.endpoint, "transactions_sync");
    assert_eq!(f.method, "POST");
    assert_eq!(f.url, "https://sandbox.plaid.com/transactions/sync");
    assert!(f.query.is_empty());
    // No cursor known yet: a first sync sends none.
    assert_eq!(
        f.json_body,
        Some(
            json!({"client_id": "<client_id>", "secret": "<secret>", "access_token": "access-sandbox-1"})
        )
    );
    assert!(f
        .headers
        .contains(&("Content-Type".to_owned(), "application/json".to_owned())));
    let names: Vec<_> = f
        .placeholders
        .iter()
        .map(|p| (p.name, p.credential))
        .collect();
    assert_eq!(names, [("client_id", true), ("secret", true)]);
    f.fill("client_id", "cid");
    f.fill("secret", "s3cr3t-value");
    assert!(f.is_complete());
    assert_eq!(f.json_body.as_ref().unwrap()["secret"], "s3cr3t-value");
    let debug = format!("{f:?}");
    assert!(!debug.contains("s3cr3t-value"), "{debug}");
}

#[test]
fn plaid_access_token_left_out_becomes_a_placeholder_keyed_by_item_id() {
    let text = example("plaid", "ItemError");
    let event = plaid::Event::parse(text.as_bytes()).unwrap();
    let f = event
        .follow_up(&FollowUpContext::new("production"))
        .expect("ItemError has a follow-up");
    assert_eq!(f.url, "https://production.plaid.com/item/get");
    let token = f
        .placeholders
        .iter()
        .find(|p| p.name == "access_token")
        .expect("access token placeholder");
    assert_eq!(token.at, Location::Body("access_token"));
    assert_eq!(
        token.key.as_deref(),
        event.subject_id().as_deref(),
        "keyed by the item"
    );
    assert_eq!(
        f.json_body.as_ref().unwrap()["access_token"],
        "<access_token>"
    );
}

#[test]
fn plaid_transfer_cursor_is_a_number_and_the_base_url_can_point_at_a_mock() {
    let text = example("plaid", "TransferEventsUpdate");
    let event = plaid::Event::parse(text.as_bytes()).unwrap();
    let ctx = FollowUpContext::new("sandbox")
        .with_base_url("http://127.0.0.1:4010/")
        .with_value("after_id", "41");
    let f = event.follow_up(&ctx).expect("follow-up");
    assert_eq!(f.url, "http://127.0.0.1:4010/transfer/event/sync");
    assert_eq!(f.json_body.as_ref().unwrap()["after_id"], json!(41));
}

#[test]
fn belvo_new_accounts_filters_by_link_and_date_range_with_basic_auth() {
    let text = example("belvo", "AccountsNewAccountsAvailable");
    let belvo::Event::AccountsNewAccountsAvailable(event) =
        belvo::Event::parse(text.as_bytes()).unwrap()
    else {
        panic!("dispatch")
    };
    let link = event.link_id.clone();
    let first = event.follow_up(&FollowUpContext::new("production"));
    assert_eq!(first.method, "GET");
    assert_eq!(first.url, "https://api.belvo.com/api/accounts/");
    assert_eq!(first.query, vec![("link".to_owned(), link.clone())]);
    assert_eq!(first.json_body, None);
    assert_eq!(
        first.basic_auth,
        Some(("<secret_id>".to_owned(), "<secret_password>".to_owned()))
    );
    let ctx = FollowUpContext::new("sandbox")
        .with_value("previous_notification_date", "2024-05-01")
        .with_value("notification_date", "2024-06-01");
    let next = event.follow_up(&ctx);
    assert_eq!(next.url, "https://sandbox.belvo.com/api/accounts/");
    assert_eq!(
        next.query_value("created_at__range"),
        Some("2024-05-01,2024-06-01")
    );
    assert_eq!(
        next.url_with_query(),
        format!("https://sandbox.belvo.com/api/accounts/?link={link}&created_at__range=2024-05-01%2C2024-06-01")
    );
}

#[test]
fn belvo_link_events_read_the_link_by_path() {
    let text = example("belvo", "LinkInvalidCredentials");
    let event = belvo::Event::parse(text.as_bytes()).unwrap();
    let f = event.follow_up(&FollowUpContext::new("sandbox")).unwrap();
    assert_eq!(
        f.url,
        format!(
            "https://sandbox.belvo.com/api/links/{}/",
            event.subject_id().unwrap()
        )
    );
    assert!(f.query.is_empty());
}

#[test]
fn invoices_send_their_direction_as_a_literal() {
    let text = example("belvo", "InvoicesHistoricalOutflowUpdate");
    let f = belvo::Event::parse(text.as_bytes())
        .unwrap()
        .follow_up(&FollowUpContext::new("sandbox"))
        .unwrap();
    assert_eq!(f.query_value("type"), Some("OUTFLOW"));
}

/// Every example of an event with a follow-up yields a request that sends only declared
/// parameters, every required one, and no payload placeholder left.
#[test]
fn every_example_builds_a_complete_request_apart_from_caller_values() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    let mut checked = 0;
    for loaded in hookspec_codegen::load_dir(&dir).unwrap_or_else(|e| panic!("{e}")) {
        let spec = &loaded.spec;
        let api = match spec.provider.as_str() {
            "plaid" => &plaid::API,
            "belvo" => &belvo::API,
            _ => continue,
        };
        for event in spec.events.iter().filter(|e| e.follow_up.is_some()) {
            let endpoint = api
                .endpoint(&event.follow_up.as_ref().unwrap().endpoint)
                .expect("endpoint emitted");
            for text in &event.examples {
                let parsed = hookspec::parse(&spec.provider, text.as_bytes())
                    .unwrap()
                    .unwrap();
                let f = match parsed {
                    hookspec::AnyEvent::Plaid(e) => e.follow_up(&FollowUpContext::new("sandbox")),
                    hookspec::AnyEvent::Belvo(e) => e.follow_up(&FollowUpContext::new("sandbox")),
                    _ => None,
                };
                let f = f.unwrap_or_else(|| panic!("{} has no follow-up", event.name));
                let label = format!("{} {}", spec.provider, event.name);
                assert_eq!(f.method, endpoint.method, "{label}");
                assert!(!f.url.contains('{'), "{label}: unfilled path in {}", f.url);
                for p in &f.placeholders {
                    assert!(
                        !p.name.contains('.') && p.name != "base_url",
                        "{label}: payload value missing: {p:?}"
                    );
                }
                let sent: Vec<&str> = f
                    .query
                    .iter()
                    .map(|(k, _)| k.as_str())
                    .chain(
                        f.json_body
                            .iter()
                            .flat_map(|b| b.as_object().into_iter().flat_map(|m| m.keys()))
                            .map(String::as_str)
                            .filter(|k| !["client_id", "secret"].contains(k)),
                    )
                    .collect();
                for name in &sent {
                    assert!(
                        endpoint.params.iter().any(|p| p.name == *name),
                        "{label}: `{name}` is not a parameter of {}",
                        endpoint.name
                    );
                }
                for p in endpoint.params.iter().filter(|p| p.required) {
                    let present = match p.location {
                        ParamIn::Path => true,
                        _ => sent.contains(&p.name),
                    };
                    assert!(present, "{label}: required `{}` not sent", p.name);
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 50, "only {checked} examples checked");
}

#[test]
fn every_endpoint_example_response_is_json() {
    for api in [&plaid::API, &belvo::API] {
        for e in api.endpoints {
            serde_json::from_str::<serde_json::Value>(e.example_response)
                .unwrap_or_else(|err| panic!("{}: {err}", e.name));
        }
        let (status, body) = api.error.expect("error shape");
        assert!((400..500).contains(&status));
        serde_json::from_str::<serde_json::Value>(body).unwrap();
    }
    assert!(plaid::API
        .endpoint("webhook_verification_key_get")
        .is_some());
}

#[test]
fn events_without_a_follow_up_and_unknown_events_give_none() {
    let unknown = br#"{"webhook_type": "NEW_PRODUCT", "webhook_code": "SOMETHING"}"#;
    let event = plaid::Event::parse(unknown).unwrap();
    assert!(event.follow_up(&FollowUpContext::new("sandbox")).is_none());
    let text = example("plaid", "LinkEvents");
    let event = plaid::Event::parse(text.as_bytes()).unwrap();
    assert!(event.follow_up(&FollowUpContext::new("sandbox")).is_none());
}
