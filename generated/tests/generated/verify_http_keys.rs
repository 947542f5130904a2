//! `HttpKeySource` against a local key endpoint that plays Plaid's
//! `/webhook_verification_key/get` on 127.0.0.1.

#![cfg(feature = "http-keys")]

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{at, body, header_map, spec};
use hookspec::runtime::verify::*;
use hookspec_signer::{Signer, SigningCredentials, VECTOR_CLOCK};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const CLIENT_ID: &str = "test-client-id";
const SECRET: &str = "test-plaid-secret";

/// Serves at most `max_requests` requests (one per connection) or until 10 s pass, then
/// stops. Records each request's path and JSON body.
async fn key_server(
    keys: Vec<Value>,
    max_requests: usize,
) -> (String, Arc<Mutex<Vec<(String, Value)>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        for _ in 0..max_requests {
            let Ok(Ok((mut socket, _))) =
                tokio::time::timeout_at(deadline, listener.accept()).await
            else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Read the head, then as many body bytes as Content-Length says.
            let (head_end, length) = loop {
                let n = match tokio::time::timeout_at(deadline, socket.read(&mut chunk)).await {
                    Ok(Ok(n)) if n > 0 => n,
                    _ => return,
                };
                buf.extend_from_slice(&chunk[..n]);
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    break (i + 4, length);
                }
            };
            while buf.len() < head_end + length {
                let n = match tokio::time::timeout_at(deadline, socket.read(&mut chunk)).await {
                    Ok(Ok(n)) if n > 0 => n,
                    _ => return,
                };
                buf.extend_from_slice(&chunk[..n]);
            }
            let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
            let path = head.split_whitespace().nth(1).unwrap_or("").to_owned();
            let request: Value =
                serde_json::from_slice(&buf[head_end..head_end + length]).unwrap_or(Value::Null);
            log.lock().unwrap().push((path, request.clone()));
            let (status, answer) =
                if request["client_id"] != CLIENT_ID || request["secret"] != SECRET {
                    (
                        "401 Unauthorized",
                        json!({"error_code": "INVALID_API_KEYS"}),
                    )
                } else if let Some(key) = keys.iter().find(|k| k["kid"] == request["key_id"]) {
                    ("200 OK", json!({"key": key, "request_id": "test"}))
                } else {
                    (
                        "400 Bad Request",
                        json!({"error_code": "INVALID_WEBHOOK_VERIFICATION_KEY_ID"}),
                    )
                };
            let answer = answer.to_string();
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    (base, seen)
}

fn endpoint() -> &'static KeyEndpoint {
    hookspec::plaid::KEY_ENDPOINT
}

#[tokio::test]
async fn fetches_keys_from_the_endpoint_and_maps_its_answers() {
    let s = spec("plaid");
    let signer = Signer::new(s, SigningCredentials::test(s));
    let (base, seen) = key_server(signer.public_jwks(), 8).await;
    let source = HttpKeySource::new(endpoint(), &base)
        .unwrap()
        .credential("client_id", CLIENT_ID)
        .credential("secret", SECRET);
    let v = Verifier::new(
        hookspec::plaid::AUTH,
        &hookspec::plaid::DELIVERY,
        Credentials::new()
            .source_ips(SourceIpCheck::Off)
            .key_source(source),
    )
    .unwrap();
    let body = body(s);
    let now = at(VECTOR_CLOCK);
    let check = |headers: Vec<(String, String)>, body: Vec<u8>| {
        let v = v.clone();
        async move {
            let headers = header_map(&headers);
            v.verify(
                &Request {
                    headers: &headers,
                    body: &body,
                    peer: None,
                    target: None,
                },
                now,
            )
            .await
        }
    };
    assert_eq!(check(signer.sign(&body, now), body.clone()).await, Ok(()));
    assert_eq!(
        check(signer.sign(&body, now), body.clone()).await,
        Ok(()),
        "cached"
    );
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].0, "/webhook_verification_key/get");
        assert_eq!(
            seen[0].1,
            json!({"client_id": CLIENT_ID, "secret": SECRET, "key_id": signer.credentials().kid})
        );
    }
    let attack = |a| signer.attack(a, &body, now).unwrap();
    let unknown = attack(hookspec_signer::Attack::UnknownKid);
    assert_eq!(
        check(unknown.headers, unknown.body).await,
        Err(VerifyError::UnknownKey {
            kid: "hookspec-unknown-kid".into()
        })
    );
    let retired = attack(hookspec_signer::Attack::ExpiredKey);
    assert_eq!(
        check(retired.headers, retired.body)
            .await
            .unwrap_err()
            .kind(),
        "expired_key"
    );
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn refused_credentials_and_a_dead_endpoint_are_unavailable_without_leaking() {
    let s = spec("plaid");
    let signer = Signer::new(s, SigningCredentials::test(s));
    let body = body(s);
    let now = at(VECTOR_CLOCK);
    let headers = header_map(&signer.sign(&body, now));
    let request = Request {
        headers: &headers,
        body: &body,
        peer: None,
        target: None,
    };

    let (base, _) = key_server(signer.public_jwks(), 1).await;
    let wrong = HttpKeySource::new(endpoint(), &base)
        .unwrap()
        .credential("client_id", CLIENT_ID)
        .credential("secret", "wrong-secret-value");
    let missing = HttpKeySource::new(endpoint(), &base)
        .unwrap()
        .credential("client_id", CLIENT_ID);
    // A port nothing listens on: bind, note it, close.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let dead = HttpKeySource::new(endpoint(), &dead)
        .unwrap()
        .credential("client_id", CLIENT_ID)
        .credential("secret", SECRET);
    for source in [wrong, missing, dead] {
        let v = Verifier::new(
            hookspec::plaid::AUTH,
            &hookspec::plaid::DELIVERY,
            Credentials::new()
                .source_ips(SourceIpCheck::Off)
                .key_source(source),
        )
        .unwrap();
        let err = v.verify(&request, now).await.unwrap_err();
        assert_eq!(err.kind(), "key_unavailable", "{err}");
        assert_eq!(err.status(), 503);
        let text = format!("{err} {err:?} {v:?}");
        assert!(
            !text.contains(SECRET) && !text.contains("wrong-secret-value"),
            "{text}"
        );
    }
}

#[test]
fn environments_come_from_the_spec() {
    assert!(HttpKeySource::for_environment(endpoint(), "sandbox").is_some());
    assert!(HttpKeySource::for_environment(endpoint(), "production").is_some());
    assert!(HttpKeySource::for_environment(endpoint(), "staging").is_none());
}
