//! With its store unavailable, an inbox-mode router answers 503 (so the provider
//! retries) and never 2xx, within the provider's time; once the store is back, the same
//! delivery is stored and acknowledged, and nothing stored before is lost. Served on
//! loopback with Bridge's generated router (`hookspec::bridge::Webhooks`) and real HMAC
//! signatures, on each backend:
//!
//! - SQLite: another connection holds the database's exclusive lock. (Making the file
//!   read-only does not stop these tests' user, root.)
//! - Postgres: the inbox's database stops accepting connections and its sessions are
//!   terminated.
//! - NATS: the test's own nats-server (reached through a loopback proxy) is killed, then
//!   started again, on whatever port it gets, with the same store directory.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use hookspec::runtime::verify::Credentials;
use hookspec_inbox::{Filter, Inbox, State, Store};
use hookspec_signer::{Signer, SigningCredentials};
use sqlx::Connection as _;

/// How long the router lets a store take before answering 503.
const PUT_BOUND: Duration = Duration::from_secs(2);

struct Bridge {
    spec: hookspec_codegen::model::ProviderSpec,
    url: String,
    client: reqwest::Client,
}

impl Bridge {
    /// Bridge's generated router in inbox mode on `inbox`, on a loopback port.
    async fn serve<S: Store>(inbox: &Inbox<S>) -> Bridge {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/bridge.yaml");
        let spec = hookspec_codegen::load_file(&path).unwrap().spec;
        let shared = SigningCredentials::test(&spec).shared;
        let credentials = Credentials::new()
            .allow_ips(["127.0.0.0/8".parse().unwrap()])
            .shared(&shared, hookspec::bridge::AUTH)
            .unwrap();
        let config = hookspec::bridge::config(credentials)
            .unwrap()
            .with_handler_timeout(PUT_BOUND);
        let app =
            axum::Router::new().nest("/bridge", inbox.router(hookspec::bridge::Webhooks, config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/bridge", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let service = app.into_make_service_with_connect_info::<SocketAddr>();
            let _ = axum::serve(listener, service).await;
        });
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        Bridge { spec, url, client }
    }

    /// Posts delivery `i` signed; the status and how long the answer took.
    async fn post(&self, i: usize) -> (u16, Duration) {
        let body = format!(
            r#"{{"content":{{"item_id":{i},"user_uuid":"766b2f5d-a942-492c-9ea7-2e5aa88cb672"}},"timestamp":1612782588323,"type":"item.created"}}"#
        );
        let signer = Signer::new(&self.spec, SigningCredentials::test(&self.spec));
        let mut req = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body.clone());
        for (k, v) in signer.sign(body.as_bytes(), SystemTime::now()) {
            req = req.header(k, v);
        }
        let started = Instant::now();
        let status = req
            .send()
            .await
            .expect("the router answers")
            .status()
            .as_u16();
        (status, started.elapsed())
    }

    /// While the store is down: delivery `i` is refused with 503, every time, in time.
    async fn refused_while_down(&self, i: usize) {
        for _ in 0..3 {
            let (status, took) = self.post(i).await;
            assert_eq!(status, 503, "never acknowledged while the store is down");
            // Within the router's bound, with 3 s for a loaded machine: what matters is
            // that the answer comes before a provider's own timeout (Bridge: 10 s).
            assert!(
                took < PUT_BOUND + Duration::from_secs(3),
                "answered after {took:?}"
            );
        }
    }

    /// Once the store is back: delivery `i` is acknowledged within `bound` of retrying.
    async fn acknowledged_once_back(&self, i: usize, bound: Duration) {
        let deadline = Instant::now() + bound;
        loop {
            let (status, _) = self.post(i).await;
            if status == 200 {
                return;
            }
            assert_eq!(status, 503);
            assert!(
                Instant::now() < deadline,
                "still 503 {bound:?} after the store came back"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn stored_once<S: Store>(inbox: &Inbox<S>, n: usize) {
    let all = inbox.store().list(&Filter::default(), 100).await.unwrap();
    assert_eq!(all.len(), n, "{all:?}");
    assert!(all.iter().all(|d| d.state == State::Pending));
    assert!(inbox.metrics().counts().store_failures >= 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_locked_by_another_connection_is_answered_503_until_released() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inbox.db");
    let store = hookspec_inbox::sqlite::SqliteStore::open_with(
        path.to_str().unwrap(),
        Duration::from_millis(300),
    )
    .await
    .unwrap();
    let inbox = Inbox::new(store);
    let bridge = Bridge::serve(&inbox).await;
    assert_eq!(bridge.post(1).await.0, 200);

    let mut holder = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut holder)
        .await
        .unwrap();
    sqlx::query("INSERT INTO hookspec_deliveries (provider, event, idempotency_key, headers, body, received_at, next_attempt_at) VALUES ('x', 'x', 'x', '[]', x'', 0, 0)")
        .execute(&mut holder)
        .await
        .unwrap();
    bridge.refused_while_down(2).await;
    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    bridge
        .acknowledged_once_back(2, Duration::from_secs(5))
        .await;
    stored_once(&inbox, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_refusing_connections_is_answered_503_until_it_accepts_again() {
    let Some(server) = crate::common::server_url("HOOKSPEC_TEST_POSTGRES_URL", "Postgres") else {
        return;
    };
    let name = format!("hookspec_outage_{}", std::process::id());
    let admin = sqlx::PgPool::connect(&server).await.unwrap();
    let run = |sql: String| {
        let admin = admin.clone();
        async move {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&admin)
                .await
                .unwrap()
        }
    };
    run(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
    run(format!("CREATE DATABASE {name}")).await;
    let (base, _) = server.rsplit_once('/').unwrap();
    let store = hookspec_inbox::postgres::PostgresStore::open_in(
        &format!("{base}/{name}"),
        "hookspec",
        Duration::from_millis(500),
    )
    .await
    .unwrap();
    let inbox = Inbox::new(store);
    let bridge = Bridge::serve(&inbox).await;
    assert_eq!(bridge.post(1).await.0, 200);

    run(format!(
        "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false"
    ))
    .await;
    run(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    ))
    .await;
    bridge.refused_while_down(2).await;
    run(format!("ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true")).await;
    bridge
        .acknowledged_once_back(2, Duration::from_secs(10))
        .await;
    stored_once(&inbox, 2).await;
    drop(inbox);
    run(format!("DROP DATABASE {name} WITH (FORCE)")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_server_down_is_answered_503_until_it_is_back() {
    if crate::common::server_url("HOOKSPEC_TEST_NATS_URL", "NATS JetStream").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = crate::common::Server::start(dir.path());
    let proxy = crate::common::Proxy::start(server.addr()).await;
    let options = hookspec_inbox::nats::NatsOptions {
        publish_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_millis(500),
        ..Default::default()
    };
    let store = hookspec_inbox::nats::NatsStore::open_with(&proxy.url(), options)
        .await
        .unwrap();
    let inbox = Inbox::new(store);
    let bridge = Bridge::serve(&inbox).await;
    assert_eq!(bridge.post(1).await.0, 200);

    proxy.point_at(None);
    drop(server);
    bridge.refused_while_down(2).await;
    let server = crate::common::Server::start(dir.path());
    proxy.point_at(Some(server.addr()));
    bridge
        .acknowledged_once_back(2, Duration::from_secs(15))
        .await;
    stored_once(&inbox, 2).await;
}
