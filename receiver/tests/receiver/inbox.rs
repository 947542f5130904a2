//! The reference receiver in inbox mode: every delivery is acknowledged once it is
//! stored, workers then hand it to the same recorder, and `GET /log` lists each processed
//! event once, whatever the provider repeats. Run on SQLite always, and on Postgres where
//! `HOOKSPEC_TEST_POSTGRES_URL` names a server.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use hookspec_codegen::model::ProviderSpec;
use hookspec_inbox::{Filter, State, Store};
use hookspec_reference_receiver::{start, ReceiverConfig, RunningReceiver, Secrets};
use hookspec_signer::{Signer, SigningCredentials};

const PROVIDERS: [&str; 3] = ["belvo", "bridge", "vezgo"];

fn specs() -> Vec<ProviderSpec> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    hookspec_codegen::load_dir(&dir)
        .expect("specs load")
        .into_iter()
        .map(|l| l.spec)
        .filter(|s| PROVIDERS.contains(&s.provider.as_str()))
        .collect()
}

async fn receiver(specs: &[ProviderSpec], inbox: String) -> RunningReceiver {
    let mut config = ReceiverConfig::all_providers();
    config.providers = PROVIDERS.iter().map(|p| p.to_string()).collect();
    config.secrets = Secrets {
        by_provider: specs
            .iter()
            .map(|s| (s.provider.clone(), SigningCredentials::test(s).shared))
            .collect(),
        ..Secrets::default()
    };
    config.allow_ips = vec!["127.0.0.0/8".parse().unwrap()];
    config.inbox = Some(inbox);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    start(config, listener).await.expect("receiver starts")
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> u16 {
    let mut req = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (k, v) in headers {
        req = req.header(k, v);
    }
    req.send()
        .await
        .expect("receiver answers")
        .status()
        .as_u16()
}

/// Every documented example of three providers, each sent twice: all acknowledged, each
/// processed exactly once, none left pending, and the repeat never stored.
async fn every_example_is_processed_once(inbox_url: String) {
    let specs = specs();
    let receiver = receiver(&specs, inbox_url).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut sent = std::collections::BTreeSet::new();
    for spec in &specs {
        let signer = Signer::new(spec, SigningCredentials::test(spec));
        let url = format!("{}/{}", receiver.url(), spec.provider);
        for event in &spec.events {
            for example in &event.examples {
                let body = example.as_bytes();
                for _ in 0..2 {
                    let headers = signer.sign(body, SystemTime::now());
                    assert_eq!(
                        post(&client, &url, &headers, body).await,
                        200,
                        "{}",
                        event.name
                    );
                }
                sent.insert((spec.provider.clone(), body.to_vec()));
            }
        }
    }
    let inbox = receiver.inbox.clone().expect("inbox mode");
    // 20 s: the workers need well under a second for these few dozen deliveries.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let stats = inbox.store().stats().await.unwrap();
        if stats.count(State::Pending) + stats.count(State::Processing) == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "still unprocessed: {stats:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stored = inbox
        .store()
        .list(&Filter::default(), 10_000)
        .await
        .unwrap();
    // Examples that share an idempotency key are one delivery to the provider too.
    let keys: std::collections::BTreeSet<(String, String)> = stored
        .iter()
        .map(|d| {
            (
                d.delivery.provider.clone(),
                d.delivery.idempotency_key.clone(),
            )
        })
        .collect();
    assert_eq!(keys.len(), stored.len(), "no key stored twice");
    assert!(stored.iter().all(|d| d.state == State::Done), "{stored:?}");
    let log = receiver.log.events();
    assert_eq!(
        log.len(),
        stored.len(),
        "each stored delivery processed once"
    );
    let counts = inbox.metrics().counts();
    assert_eq!(counts.received as usize, stored.len());
    assert_eq!(counts.processed as usize, stored.len());
    assert!(counts.duplicate as usize >= sent.len(), "{counts:?}");
    // What was stored is the exact body that was sent.
    for d in &stored {
        assert!(
            sent.contains(&(d.delivery.provider.clone(), d.delivery.body.clone())),
            "{}",
            String::from_utf8_lossy(&d.delivery.body)
        );
    }
    receiver.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_inbox_processes_every_example_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("inbox.db").display());
    every_example_is_processed_once(url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_inbox_processes_every_example_once() {
    let Ok(url) = std::env::var("HOOKSPEC_TEST_POSTGRES_URL") else {
        eprintln!("SKIPPED: needs HOOKSPEC_TEST_POSTGRES_URL (set by .ci/run)");
        return;
    };
    // A database of its own, so other runs' deliveries never meet these.
    let db = format!("hookspec_receiver_{}", std::process::id());
    let admin = sqlx::PgPool::connect(&url).await.unwrap();
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db}")))
        .execute(&admin)
        .await;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
        .execute(&admin)
        .await
        .unwrap();
    let (base, _) = url.rsplit_once('/').unwrap();
    every_example_is_processed_once(format!("{base}/{db}")).await;
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {db} WITH (FORCE)"
    )))
    .execute(&admin)
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_inbox_processes_every_example_once() {
    let Ok(url) = std::env::var("HOOKSPEC_TEST_NATS_URL") else {
        eprintln!("SKIPPED: needs HOOKSPEC_TEST_NATS_URL (set by .ci/run)");
        return;
    };
    // Streams of its own, dropped after.
    let prefix = format!("HKRECV{}", std::process::id());
    let store_url = format!("{}/{prefix}", url.trim_end_matches('/'));
    every_example_is_processed_once(store_url.clone()).await;
    if let hookspec_inbox::AnyStore::Nats(store) =
        hookspec_inbox::AnyStore::open(&store_url).await.unwrap()
    {
        store.drop_all().await.unwrap();
    }
}
