//! The mock provider API on its own (example answers that match their shapes, refusals in
//! the provider's error shape), and the follow-up cases against the bundled reference
//! receiver: clean it makes every call right; with a fault, exactly the follow-up cases
//! fail, saying how.

use std::collections::BTreeSet;
use std::time::Duration;

use hookspec_codegen::check::check_value;
use hookspec_codegen::ir::Expected;
use hookspec_codegen::model::{Format, Kind, ParamLocation, ProviderSpec};
use hookspec_conformance::follow_ups::{self, plausible_value};
use std::collections::BTreeMap;

use hookspec_conformance::keys::KeyRing;
use hookspec_conformance::mock_api::{test_credential, MockApiServer, MockCredentials, Verdict};
use hookspec_conformance::report::CaseReport;
use hookspec_conformance::{bundled, Credentials, Outcome, Suite};
use serde_json::{json, Value};

fn spec(name: &str) -> ProviderSpec {
    hookspec_conformance::specs::builtin(name).unwrap()
}

/// The mock of `specs`, Plaid's verification endpoint answering from `ring` when given.
async fn mock(specs: &[ProviderSpec], ring: Option<KeyRing>) -> MockApiServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let rings: BTreeMap<String, KeyRing> =
        ring.map(|r| ("plaid".to_owned(), r)).into_iter().collect();
    MockApiServer::start(listener, specs, MockCredentials::test(specs), rings).unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn belvo_get(server: &MockApiServer, path_and_query: &str) -> reqwest::RequestBuilder {
    belvo_request(server, reqwest::Method::GET, path_and_query)
}

fn belvo_request(
    server: &MockApiServer,
    method: reqwest::Method,
    path_and_query: &str,
) -> reqwest::RequestBuilder {
    client()
        .request(
            method,
            format!("{}{path_and_query}", server.base_url("belvo")),
        )
        .basic_auth(
            test_credential("secret_id"),
            Some(test_credential("secret_password")),
        )
}

fn plaid_post(server: &MockApiServer, path: &str, mut body: Value) -> reqwest::RequestBuilder {
    body["client_id"] = json!(test_credential("client_id"));
    body["secret"] = json!(test_credential("secret"));
    client()
        .post(format!("{}{path}", server.base_url("plaid")))
        .header("content-type", "application/json")
        .body(body.to_string())
}

async fn answer(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

/// Asserts `body` is the provider's error shape and its message names `what`.
fn assert_error_shape(spec: &ProviderSpec, body: &Value, what: &str) {
    let error = spec.api.as_ref().unwrap().error.as_ref().unwrap();
    let violations = check_value(spec, &error.shape, body);
    assert!(violations.is_empty(), "{violations:?} in {body}");
    assert!(
        body.to_string().contains(what),
        "{what} not named in {body}"
    );
}

const LINK: &str = "8848bd0c-9c7e-4f53-a732-ec896b11d4c4";

#[tokio::test]
async fn a_correct_call_gets_the_example_answer_which_matches_its_shape() {
    let belvo = spec("belvo");
    let server = mock(std::slice::from_ref(&belvo), None).await;
    let (status, body) = answer(belvo_get(
        &server,
        &format!("/api/transactions/?link={LINK}&created_at__range=2024-01-01%2C2024-01-31"),
    ))
    .await;
    let endpoint = &belvo.api.as_ref().unwrap().endpoints["transactions_list"];
    assert_eq!(status, endpoint.response.status);
    let example: Value = serde_json::from_str(&endpoint.response.example).unwrap();
    assert_eq!(body, example);
    assert!(check_value(&belvo, &endpoint.response.shape, &body).is_empty());
    let calls = server.log.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].endpoint.as_deref(), Some("transactions_list"));
    assert_eq!(calls[0].verdict, Verdict::Served);
    assert_eq!(calls[0].params["link"], json!(LINK));
    assert_eq!(
        calls[0].params["created_at__range"],
        json!("2024-01-01,2024-01-31")
    );
    server.shutdown().await;
}

/// A value of `kind`/`format` for a path or query (text) or a body (JSON).
fn value_for(name: &str, kind: Kind, format: Option<Format>, at: ParamLocation) -> Value {
    let text = plausible_value(name, kind, format);
    match (at, kind) {
        (ParamLocation::Body, Kind::Integer | Kind::Decimal) => json!(0),
        (ParamLocation::Body, Kind::Boolean) => json!(false),
        (ParamLocation::Body, Kind::Array) => json!([]),
        (ParamLocation::Body, Kind::Object | Kind::Map) => json!({}),
        (ParamLocation::Body, _) if format == Some(Format::Uri) => {
            json!("https://example.com/hook")
        }
        (_, _) if format == Some(Format::Uri) => json!("https://example.com/hook"),
        _ => Value::String(text),
    }
}

#[tokio::test]
async fn every_endpoint_answers_a_well_formed_call_with_an_example_that_validates() {
    let specs = vec![spec("belvo"), spec("plaid")];
    let ring = KeyRing::fresh("plaid", hookspec_signer::test_signing_key("mock"));
    let kid = ring.current().unwrap().1;
    let server = mock(&specs, Some(ring.clone())).await;
    let mut served = 0;
    for spec in &specs {
        let api = spec.api.as_ref().unwrap();
        for (name, endpoint) in &api.endpoints {
            let mut path = endpoint.path.clone();
            let mut query = Vec::new();
            let mut body = json!({});
            for (p, param) in endpoint.params.iter().filter(|(_, p)| p.required) {
                let v = value_for(p, param.kind, param.format, param.location);
                let v = if api.verification.as_deref() == Some(name.as_str()) {
                    json!(kid)
                } else {
                    v
                };
                let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                match param.location {
                    ParamLocation::Path => path = path.replace(&format!("{{{p}}}"), &text),
                    ParamLocation::Query => query.push(format!("{p}={text}")),
                    ParamLocation::Body => body[p.as_str()] = v,
                }
            }
            let url = format!("{path}?{}", query.join("&"));
            let request = match spec.provider.as_str() {
                "plaid" => plaid_post(&server, &url, body),
                _ => {
                    let method =
                        reqwest::Method::from_bytes(endpoint.method.as_str().as_bytes()).unwrap();
                    belvo_request(&server, method, &url)
                        .header("content-type", "application/json")
                        .body(body.to_string())
                }
            };
            let (status, got) = answer(request).await;
            assert_eq!(
                status, endpoint.response.status,
                "{}/{name}: {got}",
                spec.provider
            );
            if api.verification.as_deref() == Some(name.as_str()) {
                assert_eq!(got["key"], ring.jwk(&kid).unwrap());
            }
            let violations = check_value(spec, &endpoint.response.shape, &got);
            assert!(
                violations.is_empty(),
                "{}/{name}: {violations:?}",
                spec.provider
            );
            served += 1;
        }
    }
    assert!(served >= 30, "only {served} endpoints");
    assert!(server
        .log
        .calls()
        .iter()
        .all(|c| c.verdict == Verdict::Served));
    server.shutdown().await;
}

#[tokio::test]
async fn a_call_forgetting_link_gets_belvos_error_shape() {
    let belvo = spec("belvo");
    let server = mock(std::slice::from_ref(&belvo), None).await;
    let (status, body) = answer(belvo_get(&server, "/api/transactions/")).await;
    assert_eq!(status, 400);
    assert_error_shape(&belvo, &body, "`link` is required");
    assert_eq!(body[0]["field"], json!("link"));
    let calls = server.log.calls();
    assert!(matches!(&calls[0].verdict, Verdict::Refused(why) if why.contains("link")));
    // A link that is not a UUID is refused too, naming the format.
    let (status, body) = answer(belvo_get(&server, "/api/transactions/?link=nope")).await;
    assert_eq!(status, 400);
    assert_error_shape(&belvo, &body, "not a valid uuid");
    server.shutdown().await;
}

#[tokio::test]
async fn a_wrongly_typed_or_misplaced_parameter_gets_plaids_error_shape() {
    let plaid = spec("plaid");
    let server = mock(std::slice::from_ref(&plaid), None).await;
    let (status, body) = answer(plaid_post(
        &server,
        "/auth/get",
        json!({"access_token": 42}),
    ))
    .await;
    assert_eq!(status, 400);
    assert_error_shape(
        &plaid,
        &body,
        "`access_token` must be a string, got the number 42",
    );
    let (status, body) = answer(plaid_post(
        &server,
        "/transfer/event/sync",
        json!({"after_id": "ten"}),
    ))
    .await;
    assert_eq!(status, 400);
    assert_error_shape(&plaid, &body, "`after_id` must be an integer");
    let (status, body) = answer(plaid_post(
        &server,
        "/transfer/recurring/get?recurring_transfer_id=x",
        json!({}),
    ))
    .await;
    assert_eq!(status, 400);
    assert_error_shape(
        &plaid,
        &body,
        "`recurring_transfer_id` belongs in the body, found in the query",
    );
    server.shutdown().await;
}

#[tokio::test]
async fn bad_credentials_are_refused_in_the_providers_error_shape() {
    let specs = vec![spec("belvo"), spec("plaid")];
    let server = mock(&specs, None).await;
    let (status, body) = answer(
        client()
            .get(format!("{}/api/links/{LINK}/", server.base_url("belvo")))
            .basic_auth(test_credential("secret_id"), Some("wrong")),
    )
    .await;
    assert_eq!(status, 401);
    assert_error_shape(&specs[0], &body, "HTTP Basic credentials");
    let (status, body) = answer(
        client()
            .post(format!("{}/item/get", server.base_url("plaid")))
            .body(json!({"client_id": test_credential("client_id"), "secret": "x", "access_token": "t"}).to_string()),
    )
    .await;
    assert_eq!(status, 401);
    assert_error_shape(&specs[1], &body, "the credential `secret` is wrong");
    assert!(!body.to_string().contains(&test_credential("client_id")));
    // Unknown paths and methods are refused and recorded, not served.
    let (status, _) = answer(belvo_get(&server, "/api/nothing/")).await;
    assert_eq!(status, 404);
    let calls = server.log.calls();
    assert_eq!(calls.len(), 3);
    assert!(calls
        .iter()
        .all(|c| matches!(c.verdict, Verdict::Refused(_))));
    server.shutdown().await;
}

/// Runs the deliver cases against the bundled receiver making follow-ups against a mock,
/// with `faults`; answers the report's cases.
async fn run_with_follow_ups(faults: &[bundled::Fault]) -> Vec<CaseReport> {
    let specs = vec![spec("belvo"), spec("plaid")];
    let ring = KeyRing::fresh("plaid", hookspec_signer::test_signing_key("plaid suite"));
    let server = mock(&specs, Some(ring.clone())).await;
    // The receiver fetches Plaid's keys from the mock too (the key endpoint given here is
    // replaced by the mock's): one base URL serves both.
    let receiver = bundled::start_with_follow_ups(
        &specs,
        &[("plaid".to_owned(), "http://127.0.0.1:9".to_owned())].into(),
        faults,
        &server.url(),
        &MockCredentials::test(&specs),
    )
    .await
    .unwrap();
    let report = Suite::from_specs(specs)
        .credentials(Credentials {
            jwt_keys: [("plaid".to_owned(), ring)].into(),
            ..Credentials::test()
        })
        .only("*/deliver/*")
        .concurrency(8)
        .follow_ups(server.log.clone(), Duration::from_millis(1500))
        .run_bound(Duration::from_secs(60))
        .run(&receiver.url())
        .await
        .unwrap();
    receiver.shutdown(Duration::from_secs(1)).await;
    server.shutdown().await;
    report.cases
}

fn expected_follow_up_ids() -> BTreeSet<String> {
    ["belvo", "plaid"]
        .iter()
        .flat_map(|p| follow_ups::follow_up_cases(&spec(p)).into_values())
        .map(|c| c.id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_receiver_makes_every_follow_up_right() {
    let cases = run_with_follow_ups(&[]).await;
    let failed: Vec<String> = cases
        .iter()
        .filter(|c| c.outcome != Outcome::Pass)
        .map(|c| format!("{}: {}", c.id, c.observed))
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    let made: BTreeSet<String> = cases
        .iter()
        .filter(|c| c.check == follow_ups::CHECK)
        .map(|c| c.id.clone())
        .collect();
    assert_eq!(made, expected_follow_up_ids());
    assert!(made.iter().filter(|id| id.starts_with("belvo/")).count() >= 20);
    assert!(made.iter().filter(|id| id.starts_with("plaid/")).count() >= 20);
    // Each follow-up case comes right after the deliver case it follows.
    for (i, c) in cases.iter().enumerate() {
        if c.check == follow_ups::CHECK {
            assert_eq!(cases[i - 1].id, c.id.replace("/follow-up/", "/deliver/"));
            assert!(c.observed.starts_with("made: "), "{}", c.observed);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipping_follow_ups_fails_exactly_the_follow_up_cases_as_missing() {
    let cases = run_with_follow_ups(&[bundled::Fault::SkipFollowUp]).await;
    let failed: BTreeSet<String> = cases
        .iter()
        .filter(|c| c.outcome == Outcome::Fail)
        .map(|c| c.id.clone())
        .collect();
    assert_eq!(failed, expected_follow_up_ids());
    for c in cases.iter().filter(|c| c.outcome == Outcome::Fail) {
        assert!(
            c.observed.starts_with("missing: no call to "),
            "{}",
            c.observed
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_ups_for_the_wrong_record_fail_naming_the_parameter() {
    let cases = run_with_follow_ups(&[bundled::Fault::WrongFollowUpParams]).await;
    // A value the receiver holds that is looked up by nothing (Plaid's `after_id`) cannot
    // be told wrong; every other follow-up binds the payload or a record's key.
    let mut checkable = BTreeSet::new();
    let mut params = std::collections::BTreeMap::new();
    for p in ["belvo", "plaid"] {
        for c in follow_ups::follow_up_cases(&spec(p)).into_values() {
            let judged = c.params.iter().any(|p| {
                matches!(
                    p.expected,
                    Expected::Value(_) | Expected::Caller { key: Some(_), .. }
                )
            });
            if judged {
                checkable.insert(c.id.clone());
            }
            params.insert(
                c.id.clone(),
                c.params.iter().map(|p| p.name.clone()).collect::<Vec<_>>(),
            );
        }
    }
    assert!(checkable.len() + 1 >= expected_follow_up_ids().len());
    let failed: Vec<&CaseReport> = cases
        .iter()
        .filter(|c| c.outcome == Outcome::Fail)
        .collect();
    let failed_ids: BTreeSet<String> = failed.iter().map(|c| c.id.clone()).collect();
    assert_eq!(failed_ids, checkable);
    for c in failed {
        let names = &params[&c.id];
        assert!(
            names.iter().any(|n| c
                .observed
                .starts_with(&format!("wrong parameter {n}: expected "))),
            "{}: {}",
            c.id,
            c.observed
        );
    }
}
