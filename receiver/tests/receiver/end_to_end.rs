//! Every provider received end to end through axum with verification on: requests signed
//! for real by the provider's side (`hookspec-signer`), a local stand-in for Plaid's key
//! endpoint, and the reference receiver on an ephemeral loopback port.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::routing::post;
use hookspec::runtime::core::KeyApi;
use hookspec_codegen::model::ProviderSpec;
use hookspec_reference_receiver::{start, Fault, ReceiverConfig, RunningReceiver, Secrets};
use hookspec_signer::{public_jwk, Signer, SigningCredentials};

fn specs() -> Vec<ProviderSpec> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    hookspec_codegen::load_dir(&dir)
        .expect("specs load")
        .into_iter()
        .map(|l| l.spec)
        .collect()
}

fn spec<'a>(specs: &'a [ProviderSpec], name: &str) -> &'a ProviderSpec {
    specs
        .iter()
        .find(|s| s.provider == name)
        .expect("provider spec")
}

/// A stand-in for Plaid's key endpoint serving the test key; counts its calls.
async fn key_server(creds: &SigningCredentials) -> (String, Arc<AtomicUsize>) {
    let key = creds
        .jwt_key
        .clone()
        .expect("plaid test credentials have a key");
    let jwk = public_jwk(&key, &creds.kid);
    let kid = creds.kid.clone();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let app = axum::Router::new().route(
        "/webhook_verification_key/get",
        post(move |axum::Json(req): axum::Json<serde_json::Value>| {
            let (jwk, kid, counter) = (jwk.clone(), kid.clone(), counter.clone());
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                if req["key_id"] == kid.as_str() && req["client_id"].is_string() {
                    (
                        axum::http::StatusCode::OK,
                        axum::Json(serde_json::json!({"key": jwk, "request_id": "test"})),
                    )
                } else {
                    (
                        axum::http::StatusCode::BAD_REQUEST,
                        axum::Json(serde_json::json!({"error_type": "INVALID_INPUT"})),
                    )
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, calls)
}

struct Rig {
    specs: Vec<ProviderSpec>,
    receiver: RunningReceiver,
    key_calls: Arc<AtomicUsize>,
    client: reqwest::Client,
}

async fn rig(faults: Vec<Fault>) -> Rig {
    let specs = specs();
    let plaid = SigningCredentials::test(spec(&specs, "plaid"));
    let (keys_url, key_calls) = key_server(&plaid).await;
    let mut config = ReceiverConfig::all_providers();
    config.secrets = Secrets {
        // Each provider's own test secrets, written as its spec says.
        by_provider: specs
            .iter()
            .map(|s| (s.provider.clone(), SigningCredentials::test(s).shared))
            .collect(),
        key_apis: [(
            "plaid".to_owned(),
            KeyApi {
                base_url: keys_url,
                credentials: vec![
                    ("client_id".into(), "test-client".into()),
                    ("secret".into(), "test-secret".into()),
                ],
            },
        )]
        .into(),
        ..Secrets::default()
    };
    config.allow_ips = vec!["127.0.0.0/8".parse().unwrap()];
    config.faults = faults;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let receiver = start(config, listener).await.expect("receiver starts");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    Rig {
        specs,
        receiver,
        key_calls,
        client,
    }
}

impl Rig {
    /// The provider's signer, sending where `post` sends (schemes over the URL sign it).
    fn signer(&self, provider: &str) -> Signer<'_> {
        let s = spec(&self.specs, provider);
        let url = format!("{}/{provider}", self.receiver.url());
        Signer::new(s, SigningCredentials::test(s)).to("POST", &url)
    }

    async fn post(&self, provider: &str, headers: &[(String, String)], body: Vec<u8>) -> u16 {
        let mut req = self
            .client
            .post(format!("{}/{provider}", self.receiver.url()))
            .header(
                "content-type",
                &*hookspec::delivery(provider).unwrap().content_type,
            )
            .body(body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.send()
            .await
            .expect("receiver answers")
            .status()
            .as_u16()
    }

    async fn deliver(&self, provider: &str, body: &[u8]) -> u16 {
        let headers = self.signer(provider).sign(body, SystemTime::now());
        self.post(provider, &headers, body.to_vec()).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_example_is_received_verified_and_logged_once() {
    let rig = rig(Vec::new()).await;
    let mut sent = Vec::new();
    for s in &rig.specs {
        let signer = rig.signer(&s.provider);
        for event in &s.events {
            for example in &event.examples {
                let headers = signer.sign(example.as_bytes(), SystemTime::now());
                let status = rig
                    .post(&s.provider, &headers, example.as_bytes().to_vec())
                    .await;
                let ok = hookspec::delivery(&s.provider).unwrap().success.ack();
                assert_eq!(status, ok, "{}/{} refused", s.provider, event.name);
                sent.push((s.provider.clone(), headers, example.as_bytes()));
            }
        }
    }
    // Redelivering everything (with the first delivery's ids, as providers do) changes
    // nothing: each event was stored once.
    let before = rig.receiver.log.events();
    for (provider, first, body) in &sent {
        let signer = rig.signer(provider);
        let again = signer.sign_with(body, SystemTime::now(), &signer.redelivery(first));
        assert_eq!(rig.post(provider, &again, body.to_vec()).await / 100, 2);
    }
    let after = rig.receiver.log.events();
    assert_eq!(before, after, "duplicates were stored again");
    // Stored once per idempotency key (Belvo's examples share `webhook_id`s, so there are
    // fewer entries than examples): exactly the keys the spec's rules give, handshakes
    // aside.
    let logged: std::collections::BTreeSet<_> = after
        .iter()
        .map(|e| (e.provider.clone(), e.idempotency_key.clone()))
        .collect();
    assert_eq!(logged.len(), after.len(), "a key was stored twice");
    let mut keys = std::collections::BTreeSet::new();
    for (provider, headers, body) in &sent {
        use hookspec::runtime::Provider as _;
        let rules = hookspec_reference_receiver::spec_provider(spec(&rig.specs, provider));
        let headers: hookspec::runtime::http::HeaderMap = headers
            .iter()
            .map(|(n, v)| (n.parse().unwrap(), v.parse().unwrap()))
            .collect();
        let event = rules.parse(&headers, body).unwrap();
        // A handshake is answered by the receiver itself; no handler logs it.
        if rules.respond(&event).is_some() {
            continue;
        }
        keys.insert((
            provider.clone(),
            rules.idempotency_key(&event, &headers, body),
        ));
    }
    assert_eq!(logged, keys);
    assert!(
        sent.len() > keys.len() && keys.len() > 90,
        "{} keys of {}",
        keys.len(),
        sent.len()
    );
    for s in &rig.specs {
        assert!(
            after.iter().any(|e| e.provider == s.provider),
            "{} logged nothing",
            s.provider
        );
    }
    // Plaid's one test key was fetched once and then served from the cache.
    assert_eq!(rig.key_calls.load(Ordering::SeqCst), 1);
    rig.receiver.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_deliveries_are_refused_for_every_provider() {
    let rig = rig(Vec::new()).await;
    for s in &rig.specs {
        let provider = s.provider.as_str();
        let body = s
            .events
            .iter()
            .flat_map(|e| &e.examples)
            .next()
            .unwrap()
            .as_bytes();
        let signer = rig.signer(provider);
        let attacks = signer.attacks();
        // A provider that authenticates nothing (Statuspage: a secret URL only) has
        // nothing to forge.
        if s.auth.is_empty() {
            assert!(attacks.is_empty(), "{provider} has attacks but no auth");
            continue;
        }
        assert!(!attacks.is_empty(), "{provider} has no attack to try");
        for attack in attacks {
            let Some(forged) = signer.attack(attack, body, SystemTime::now()) else {
                continue;
            };
            let status = rig.post(provider, &forged.headers, forged.body).await;
            assert!(
                status == 401 || status == 403,
                "{provider} {} answered {status}",
                attack.id()
            );
        }
    }
    assert!(rig.receiver.log.is_empty(), "a forged delivery was stored");
    rig.receiver.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_oversized_and_foreign_bodies_get_their_statuses() {
    let rig = rig(Vec::new()).await;
    let cases: [(&[u8], &str, u16); 3] = [
        (b"{not json", "application/json", 400),
        (b"", "application/json", 400),
        (br#"{"hook":"SyncAccount"}"#, "text/plain", 415),
    ];
    for (body, content_type, want) in cases {
        let headers = rig.signer("vezgo").sign(body, SystemTime::now());
        let mut req = rig
            .client
            .post(format!("{}/vezgo", rig.receiver.url()))
            .header("content-type", content_type)
            .body(body.to_vec());
        for (k, v) in &headers {
            req = req.header(k, v);
        }
        let status = req.send().await.unwrap().status().as_u16();
        assert_eq!(status, want, "{:?}", String::from_utf8_lossy(body));
    }
    let big = vec![b' '; hookspec::runtime::DEFAULT_BODY_LIMIT + 1];
    assert_eq!(rig.deliver("vezgo", &big).await, 413);
    // An unknown event is acknowledged, not refused.
    let unknown = br#"{"hook":"SomethingNew","user":{"id":"u","loginName":"l"},"account":{"id":"a","provider":"p"}}"#;
    assert_eq!(rig.deliver("vezgo", unknown).await, 200);
    assert_eq!(rig.receiver.log.events().last().unwrap().event, "Unknown");
    rig.receiver.shutdown(Duration::from_secs(2)).await;
}
