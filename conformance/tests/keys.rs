//! The Plaid key endpoint: Plaid's request and response shapes, `kid` lookup, errors for
//! unknown ids, and rotation that marks the old key expired.

use hookspec_conformance::keys::{key_from_pem, KeyRing, KeyServer, KEY_PATH, ROTATE_PATH};
use hookspec_signer::{public_jwk, test_signing_key};
use http_body_util::BodyExt;
use serde_json::{json, Value};

/// Posts `body` to the server; returns the status and the JSON answer.
async fn post(server: &KeyServer, path: &str, body: &str) -> (u16, Value) {
    let stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let request = hyper::Request::post(path)
        .header("host", server.addr.to_string())
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(bytes::Bytes::from(
            body.to_owned(),
        )))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

async fn server(ring: KeyRing) -> KeyServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    KeyServer::start(listener, ring).unwrap()
}

#[tokio::test]
async fn serves_the_key_named_by_kid_in_plaids_shape() {
    let key = test_signing_key("plaid");
    let server = server(KeyRing::new(key.clone(), "kid-1")).await;
    let (status, body) = post(
        &server,
        KEY_PATH,
        r#"{"client_id": "c", "secret": "s", "key_id": "kid-1"}"#,
    )
    .await;
    assert_eq!(status, 200);
    assert!(body["request_id"].is_string());
    let served = &body["key"];
    let expected = public_jwk(&key, "kid-1");
    for field in ["alg", "crv", "kid", "kty", "use", "x", "y"] {
        assert_eq!(served[field], expected[field], "{field}");
    }
    assert!(served["created_at"].as_u64().unwrap() > 1_600_000_000);
    assert_eq!(served["expired_at"], Value::Null);
    server.shutdown().await;
}

#[tokio::test]
async fn unknown_and_missing_key_ids_get_plaid_errors() {
    let server = server(KeyRing::new(test_signing_key("plaid"), "kid-1")).await;
    let (status, body) = post(&server, KEY_PATH, r#"{"key_id": "nope"}"#).await;
    assert_eq!(status, 400);
    assert_eq!(body["error_type"], "INVALID_INPUT");
    assert_eq!(body["error_code"], "INVALID_WEBHOOK_VERIFICATION_KEY_ID");
    let (status, body) = post(&server, KEY_PATH, r#"{"client_id": "c"}"#).await;
    assert_eq!(
        (status, body["error_code"].clone()),
        (400, json!("MISSING_FIELDS"))
    );
    let (status, body) = post(&server, KEY_PATH, "not json").await;
    assert_eq!(
        (status, body["error_type"].clone()),
        (400, json!("INVALID_REQUEST"))
    );
    server.shutdown().await;
}

#[tokio::test]
async fn rotation_makes_a_new_current_key_and_expires_the_old_one() {
    let ring = KeyRing::new(test_signing_key("plaid"), "kid-1");
    let server = server(ring.clone()).await;
    let (status, body) = post(&server, ROTATE_PATH, "{}").await;
    assert_eq!(status, 200);
    let new_kid = body["kid"].as_str().unwrap().to_owned();
    assert_eq!(ring.current().unwrap().1, new_kid);
    let (_, old) = post(&server, KEY_PATH, r#"{"key_id": "kid-1"}"#).await;
    assert!(old["key"]["expired_at"].as_u64().is_some());
    let (_, new) = post(&server, KEY_PATH, &json!({"key_id": new_kid}).to_string()).await;
    assert_eq!(new["key"]["expired_at"], Value::Null);
    assert_ne!(new["key"]["x"], old["key"]["x"]);
    server.shutdown().await;
}

#[test]
fn keys_load_from_pkcs8_pem_and_bad_pem_is_an_error_without_key_material() {
    use p256::pkcs8::{EncodePrivateKey, LineEnding};
    let key = test_signing_key("pem");
    let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap();
    assert_eq!(key_from_pem(&pem).unwrap(), key);
    let err =
        key_from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").unwrap_err();
    assert!(!err.contains("AAAA"));
}

#[tokio::test]
async fn published_keys_are_served_as_given_and_do_not_become_current() {
    let ring = KeyRing::new(test_signing_key("plaid"), "kid-1");
    let mut retired = public_jwk(&test_signing_key("retired"), "kid-1-retired");
    retired["expired_at"] = json!(1);
    ring.publish(&[retired.clone()]);
    assert_eq!(ring.current().unwrap().1, "kid-1");
    let server = server(ring).await;
    let (status, body) = post(&server, KEY_PATH, r#"{"key_id": "kid-1-retired"}"#).await;
    assert_eq!(status, 200);
    assert_eq!(body["key"], retired);
    server.shutdown().await;
}
