//! The suite's key sources: Plaid's key endpoint as its spec describes it (request and
//! response shapes, `kid` lookup, errors for unknown ids, rotation that marks the old key
//! expired), and a JWT provider that exists only as a spec file, whose key set (JWKS) is
//! served from its spec and verifies what the suite signs.

use std::collections::BTreeMap;
use std::time::SystemTime;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hookspec_codegen::ProviderSpec;
use hookspec_conformance::keys::{
    self, key_from_pem, rotate_path, KeyRing, KeyServer, ProviderKeys,
};
use hookspec_conformance::provider::ProviderSide;
use hookspec_conformance::Credentials;
use hookspec_runtime::verify::{HttpKeySource, Jwk, KeySource, StaticKeys};
use hookspec_signer::{public_jwk, test_signing_key};
use http_body_util::BodyExt;
use p256::ecdsa::signature::Verifier;
use serde_json::{json, Value};

/// Plaid's key path below its mount on the key server.
const KEY_PATH: &str = "/plaid/webhook_verification_key/get";

/// Sends `body` with `method` to the server; returns the status and the JSON answer.
async fn call(server: &KeyServer, method: &str, path: &str, body: &str) -> (u16, Value) {
    let stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let request = hyper::Request::builder()
        .method(method)
        .uri(path)
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

async fn post(server: &KeyServer, path: &str, body: &str) -> (u16, Value) {
    call(server, "POST", path, body).await
}

fn plaid() -> ProviderSpec {
    hookspec_conformance::specs::builtin("plaid").unwrap()
}

/// Plaid's key endpoint serving `ring`.
async fn server(ring: KeyRing) -> KeyServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    KeyServer::for_spec(listener, &plaid(), ring).unwrap()
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
    let (status, body) = post(&server, &rotate_path("plaid"), "{}").await;
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

#[tokio::test]
async fn the_plaid_key_endpoint_is_where_the_spec_puts_it_and_announced() {
    let ring = KeyRing::fresh("plaid", test_signing_key("plaid"));
    let server = server(ring).await;
    let base = server.base_url("plaid").unwrap();
    assert_eq!(base, format!("{}/plaid", server.url()));
    let lines = server.announcement();
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].starts_with(&format!(
            "plaid key endpoint: POST {base}/webhook_verification_key/get"
        )),
        "{}",
        lines[0]
    );
    let (status, _) = call(&server, "GET", KEY_PATH, "").await;
    assert_eq!(status, 405);
    server.shutdown().await;
}

/// The JWT provider that is not in `spec/`: its key source is a JWKS.
fn acmejwt() -> ProviderSpec {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/jwks");
    let mut specs = hookspec_conformance::specs::load_dir(dir.as_ref()).unwrap();
    assert_eq!(specs.len(), 1);
    specs.remove(0)
}

/// Checks a compact ES256 JWT's signature with `key`; answers its header.
/// The fetched key's SEC1 point as a p256 key, so the check is independent of the
/// runtime's own verifier.
fn sec1_key(point: &[u8]) -> p256::ecdsa::VerifyingKey {
    p256::ecdsa::VerifyingKey::from_sec1_bytes(point).expect("a P-256 point")
}

fn verify_compact(token: &str, key: &p256::ecdsa::VerifyingKey) -> Value {
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let signature =
        p256::ecdsa::Signature::from_slice(&URL_SAFE_NO_PAD.decode(signature).unwrap()).unwrap();
    key.verify(signed.as_bytes(), &signature)
        .expect("the served key verifies the token");
    let header = signed.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
}

/// One run's worth of the suite's key source for `spec`: a fresh ring, served.
async fn serve_one(spec: &ProviderSpec) -> (BTreeMap<String, KeyRing>, KeyServer) {
    let specs = std::slice::from_ref(spec);
    let rings = keys::rings(specs, |_| None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = KeyServer::start(listener, keys::sources(specs, &rings)).unwrap();
    (rings, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spec_only_jwks_provider_gets_a_key_set_that_verifies_what_the_suite_signs() {
    let spec = acmejwt();
    let scheme = keys::jwt_scheme(&spec).unwrap().clone();
    let (rings, server) = serve_one(&spec).await;
    let kid = rings["acmejwt"].current().unwrap().1;
    assert!(kid.starts_with("hookspec-acmejwt-"), "{kid}");

    // Served at the path of the spec's URL, below the provider's mount, to GET only.
    let url = server.base_url("acmejwt").unwrap();
    assert_eq!(
        url,
        format!("{}/acmejwt/.well-known/acme-jwks.json", server.url())
    );
    let line = &server.announcement()[0];
    assert!(
        line.contains(&format!("acmejwt key set (JWKS): GET {url}")),
        "{line}"
    );
    let (status, set) = call(&server, "GET", "/acmejwt/.well-known/acme-jwks.json", "").await;
    assert_eq!(status, 200);
    let served = set["keys"].as_array().unwrap();
    assert_eq!(served.len(), 1, "{set}");
    let jwk = &served[0];
    assert_eq!(jwk["kid"], json!(kid));
    for (field, value) in [
        ("kty", "EC"),
        ("crv", "P-256"),
        ("alg", "ES256"),
        ("use", "sig"),
    ] {
        assert_eq!(jwk[field], json!(value), "{field}");
    }
    assert!(jwk["x"].is_string() && jwk["y"].is_string());
    let (status, _) = post(&server, "/acmejwt/.well-known/acme-jwks.json", "{}").await;
    assert_eq!(status, 405);
    // Plaid's key endpoint is not served for it.
    let (status, _) = post(&server, "/acmejwt/webhook_verification_key/get", "{}").await;
    assert_eq!(status, 404);

    // The suite signs a delivery with the ring's key; the runtime's key source reads the
    // served set at the announced URL and the key it finds verifies the token.
    let side = ProviderSide::new(
        spec.clone(),
        &Credentials {
            jwt_keys: rings.clone(),
            ..Credentials::test()
        },
    );
    let headers = side.sign(
        br#"{"type": "thing.happened", "id": "thing_1"}"#,
        SystemTime::now(),
        &[],
    );
    let token = &headers
        .iter()
        .find(|(name, _)| name == "Acme-Signature")
        .expect("the JWT header")
        .1;
    let scheme: &'static _ = Box::leak(Box::new(scheme));
    let source = HttpKeySource::for_scheme(scheme, &url).unwrap();
    let fetched: Jwk = source.fetch(&kid).await.unwrap();
    let header = verify_compact(token, &sec1_key(fetched.public_key()));
    assert_eq!(header["kid"], json!(kid));
    assert_eq!(header["alg"], json!("ES256"));
    // The same key read from the served JSON directly.
    let read = Jwk::from_json(jwk, None).unwrap();
    let statics = StaticKeys::new([read]);
    let again = statics.fetch(&kid).await.unwrap();
    verify_compact(token, &sec1_key(again.public_key()));

    // Rotation: the new key is in the set, the old one is dropped from it.
    let (status, rotated) = post(&server, &rotate_path("acmejwt"), "{}").await;
    assert_eq!(status, 200);
    let new_kid = rotated["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, kid);
    assert_eq!(rings["acmejwt"].current().unwrap().1, new_kid);
    let (_, set) = call(&server, "GET", "/acmejwt/.well-known/acme-jwks.json", "").await;
    let kids: Vec<&str> = set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["kid"].as_str())
        .collect();
    assert_eq!(kids, vec![new_kid.as_str()]);
    server.shutdown().await;
}

#[tokio::test]
async fn each_run_names_its_keys_afresh_and_each_provider_has_its_own_ring() {
    let spec = acmejwt();
    let (first, a) = serve_one(&spec).await;
    let (second, b) = serve_one(&spec).await;
    let (kid_1, kid_2) = (
        first["acmejwt"].current().unwrap().1,
        second["acmejwt"].current().unwrap().1,
    );
    assert_ne!(kid_1, kid_2);
    a.shutdown().await;
    b.shutdown().await;

    let specs = vec![acmejwt(), plaid()];
    let rings = keys::rings(&specs, |_| None);
    assert_eq!(
        rings.keys().map(String::as_str).collect::<Vec<_>>(),
        ["acmejwt", "plaid"]
    );
    let plaid_kid = rings["plaid"].current().unwrap().1;
    assert!(plaid_kid.starts_with("hookspec-plaid-"), "{plaid_kid}");
    assert!(rings["acmejwt"].jwk(&plaid_kid).is_none());
    let sources: Vec<ProviderKeys> = keys::sources(&specs, &rings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = KeyServer::start(listener, sources).unwrap();
    assert_eq!(server.announcement().len(), 2);
    // Plaid's endpoint knows Plaid's key and not acmejwt's.
    let acme_kid = rings["acmejwt"].current().unwrap().1;
    let (status, _) = post(&server, KEY_PATH, &json!({"key_id": plaid_kid}).to_string()).await;
    assert_eq!(status, 200);
    let (status, _) = post(&server, KEY_PATH, &json!({"key_id": acme_kid}).to_string()).await;
    assert_eq!(status, 400);
    server.shutdown().await;
}
