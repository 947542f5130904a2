//! Persisted deliveries per second per backend against that backend's own raw rate for
//! the same durability, and acknowledgement latency at a fixed offered rate.
//!
//! ```sh
//! HOOKSPEC_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//! HOOKSPEC_TEST_NATS_URL=nats://127.0.0.1:4222 cargo bench -p hookspec-inbox --bench persist
//! ```
//!
//! Rates: [`ROUNDS`] interleaved rounds (raw, inbox, raw, inbox, ...) of [`PER_ROUND`]
//! deliveries each, so load from elsewhere on a shared machine falls on both alike; the
//! figure is the median round. The raw rates:
//! - SQLite: the same `INSERT` in a loop, one commit each, on a connection with the same
//!   settings (WAL, `synchronous=FULL`), against the inbox's `put` from [`CONCURRENCY`]
//!   callers (its writer commits what is queued together) and from one caller.
//! - Postgres: the same single-row `INSERT`s over the same pool from as many callers.
//! - NATS: plain JetStream publish-with-ack (with a message id) to a file stream from as
//!   many callers.
//!
//! Latency: Bridge's generated router in inbox mode on loopback, HMAC-signed deliveries
//! offered at [`OFFERED_PER_SEC`] a second for [`OFFERED_FOR`], each request timed from
//! send to answer; p50 and p99. The client runs on the same cores.
//!
//! Postgres and NATS are measured where their URLs are set, and said to be skipped
//! otherwise.

use std::future::Future;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use hookspec::runtime::verify::Credentials;
use hookspec_inbox::nats::{NatsOptions, NatsStore};
use hookspec_inbox::postgres::PostgresStore;
use hookspec_inbox::sqlite::SqliteStore;
use hookspec_inbox::{Inbox, NewDelivery, Store};
use hookspec_signer::{Signer, SigningCredentials};
use sqlx::ConnectOptions as _;
use tokio::runtime::Runtime;

const ROUNDS: usize = 5;
const PER_ROUND: usize = 400;
const CONCURRENCY: usize = 16;
const OFFERED_PER_SEC: u32 = 200;
const OFFERED_FOR: Duration = Duration::from_secs(3);

const RAW_SQLITE: &str = "INSERT INTO raw (provider, event, idempotency_key, headers, body, \
     peer, received_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
     ON CONFLICT (provider, idempotency_key) DO NOTHING";
const RAW_POSTGRES: &str = "INSERT INTO raw (provider, event, idempotency_key, headers, body, \
     peer, received_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
     ON CONFLICT (provider, idempotency_key) DO NOTHING";

fn delivery(i: usize) -> NewDelivery {
    let body = format!(
        r#"{{"content":{{"item_id":{i},"user_uuid":"766b2f5d-a942-492c-9ea7-2e5aa88cb672"}},"timestamp":1612782588323,"type":"item.created"}}"#
    );
    NewDelivery {
        provider: "bridge".to_owned(),
        event: "ItemCreated".to_owned(),
        idempotency_key: hookspec::runtime::body_digest(body.as_bytes()),
        headers: vec![("content-type".to_owned(), "application/json".to_owned())],
        body: body.into_bytes(),
        peer: Some("127.0.0.1".parse().unwrap()),
        received_at: SystemTime::now(),
    }
}

/// Runs `one(i)` for every `i` in `range` from `callers` concurrent callers; the time it
/// took.
async fn timed<F, Fut>(range: Range<usize>, callers: usize, one: F) -> Duration
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let one = Arc::new(one);
    let next = Arc::new(AtomicUsize::new(range.start));
    let started = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let (one, next, end) = (one.clone(), next.clone(), range.end);
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= end {
                        return;
                    }
                    one(i).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    started.elapsed()
}

/// `store.put` from `callers` concurrent callers, as a round.
fn puts<S: Store>(
    store: Arc<S>,
    callers: usize,
) -> impl Fn(Range<usize>) -> std::pin::Pin<Box<dyn Future<Output = Duration> + Send>> {
    move |range| {
        let store = store.clone();
        Box::pin(timed(range, callers, move |i| {
            let store = store.clone();
            async move {
                store.put(delivery(i)).await.unwrap();
            }
        }))
    }
}

type Round<'a> =
    Box<dyn Fn(Range<usize>) -> std::pin::Pin<Box<dyn Future<Output = Duration> + Send>> + 'a>;

fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d[d.len() / 2]
}

fn rate(d: Duration) -> f64 {
    PER_ROUND as f64 / d.as_secs_f64()
}

/// Interleaved rounds of `raw` and each of `inboxes`; prints each median rate and its
/// ratio to raw.
async fn compare(backend: &str, raw: Round<'_>, inboxes: Vec<(&str, Round<'_>)>) {
    let mut raw_times = Vec::new();
    let mut inbox_times: Vec<Vec<Duration>> = inboxes.iter().map(|_| Vec::new()).collect();
    let mut base = 0;
    for _ in 0..ROUNDS {
        raw_times.push(raw(base..base + PER_ROUND).await);
        base += PER_ROUND;
        for (i, (_, run)) in inboxes.iter().enumerate() {
            inbox_times[i].push(run(base..base + PER_ROUND).await);
            base += PER_ROUND;
        }
    }
    let raw_rate = rate(median(raw_times));
    println!("{backend:<9} {:<24} {raw_rate:>9.0} /s", "raw");
    for ((name, _), times) in inboxes.iter().zip(inbox_times) {
        let r = rate(median(times));
        println!(
            "{backend:<9} {name:<24} {r:>9.0} /s   {:.2}x raw",
            r / raw_rate
        );
    }
}

async fn sqlite(dir: &Path) {
    let store = Arc::new(
        SqliteStore::open(dir.join("inbox.db").to_str().unwrap())
            .await
            .unwrap(),
    );
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.join("raw.db"))
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Full);
    let mut conn = options.connect().await.unwrap();
    sqlx::query(
        "CREATE TABLE raw (id INTEGER PRIMARY KEY AUTOINCREMENT, provider TEXT NOT NULL, \
         event TEXT NOT NULL, idempotency_key TEXT NOT NULL, headers TEXT NOT NULL, \
         body BLOB NOT NULL, peer TEXT, received_at INTEGER NOT NULL, \
         next_attempt_at INTEGER NOT NULL, UNIQUE (provider, idempotency_key))",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let raw = Arc::new(tokio::sync::Mutex::new(conn));
    let insert: Round = Box::new(move |range| {
        let raw = raw.clone();
        Box::pin(async move {
            let started = Instant::now();
            let mut conn = raw.lock().await;
            for i in range {
                let d = delivery(i);
                sqlx::query(RAW_SQLITE)
                    .bind(d.provider)
                    .bind(d.event)
                    .bind(d.idempotency_key)
                    .bind("[]")
                    .bind(d.body)
                    .bind("127.0.0.1")
                    .bind(0i64)
                    .bind(0i64)
                    .execute(&mut *conn)
                    .await
                    .unwrap();
            }
            started.elapsed()
        })
    });
    let concurrent: Round = Box::new(puts(store.clone(), CONCURRENCY));
    let single: Round = Box::new(puts(store, 1));
    compare(
        "sqlite",
        insert,
        vec![("put, 16 callers", concurrent), ("put, 1 caller", single)],
    )
    .await;
}

async fn postgres(url: &str) {
    let schema = format!("hookspec_bench_{}", std::process::id());
    let store = Arc::new(
        PostgresStore::open_in(url, &schema, Duration::from_secs(5))
            .await
            .unwrap(),
    );
    let pool = store.pool().clone();
    sqlx::query("CREATE TABLE raw (LIKE hookspec_deliveries INCLUDING ALL)")
        .execute(&pool)
        .await
        .unwrap();
    let raw_pool = pool.clone();
    let insert: Round = Box::new(move |range| {
        let pool = raw_pool.clone();
        Box::pin(timed(range, CONCURRENCY, move |i| {
            let pool = pool.clone();
            async move {
                let d = delivery(i);
                sqlx::query(RAW_POSTGRES)
                    .bind(d.provider)
                    .bind(d.event)
                    .bind(d.idempotency_key)
                    .bind("[]")
                    .bind(d.body)
                    .bind("127.0.0.1")
                    .bind(0i64)
                    .execute(&pool)
                    .await
                    .unwrap();
            }
        }))
    });
    let put: Round = Box::new(puts(store, CONCURRENCY));
    compare("postgres", insert, vec![("put, 16 callers", put)]).await;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&pool)
        .await
        .unwrap();
}

async fn nats(url: &str) {
    let prefix = format!("HKBENCH{}", std::process::id());
    let options = NatsOptions {
        prefix: prefix.clone(),
        ..NatsOptions::default()
    };
    let store = Arc::new(NatsStore::open_with(url, options).await.unwrap());
    let js = async_nats::jetstream::new(async_nats::connect(url).await.unwrap());
    let raw_stream = format!("{prefix}_RAW");
    js.create_stream(async_nats::jetstream::stream::Config {
        name: raw_stream.clone(),
        subjects: vec![format!("{}.raw.>", prefix.to_lowercase())],
        storage: async_nats::jetstream::stream::StorageType::File,
        duplicate_window: Duration::from_secs(24 * 3600),
        ..Default::default()
    })
    .await
    .unwrap();
    let subject = format!("{}.raw.bridge", prefix.to_lowercase());
    let raw_js = js.clone();
    let publish: Round = Box::new(move |range| {
        let (js, subject) = (raw_js.clone(), subject.clone());
        Box::pin(timed(range, CONCURRENCY, move |i| {
            let (js, subject) = (js.clone(), subject.clone());
            async move {
                let d = delivery(i);
                let mut headers = async_nats::HeaderMap::new();
                headers.insert("Nats-Msg-Id", d.idempotency_key.as_str());
                js.publish_with_headers(subject, headers, d.body.into())
                    .await
                    .unwrap()
                    .await
                    .unwrap();
            }
        }))
    });
    let put: Round = Box::new(puts(store.clone(), CONCURRENCY));
    compare("nats", publish, vec![("put, 16 callers", put)]).await;
    let _ = js.delete_stream(&raw_stream).await;
    let _ = store.drop_all().await;
}

/// Ack latency through Bridge's router in inbox mode at a fixed offered rate.
async fn latency<S: Store>(backend: &str, inbox: Inbox<S>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/bridge.yaml");
    let spec = hookspec_codegen::load_file(&path).unwrap().spec;
    let credentials = Credentials::new()
        .allow_ips(["127.0.0.0/8".parse().unwrap()])
        .shared(
            &SigningCredentials::test(&spec).shared,
            hookspec::bridge::AUTH,
        )
        .unwrap();
    let config = hookspec::bridge::config(credentials).unwrap();
    let app = axum::Router::new().nest("/bridge", inbox.router(hookspec::bridge::Webhooks, config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/bridge", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        let _ = axum::serve(listener, service).await;
    });
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let signer = Signer::new(&spec, SigningCredentials::test(&spec));
    let total = (OFFERED_PER_SEC as u64 * OFFERED_FOR.as_secs()) as usize;
    // Signed before the clock starts, so pacing is the sender's only work.
    let requests: Vec<_> = (0..total)
        .map(|i| {
            let body = delivery(1_000_000 + i).body;
            let headers = signer.sign(&body, SystemTime::now());
            (body, headers)
        })
        .collect();
    let mut tick = tokio::time::interval(Duration::from_secs(1) / OFFERED_PER_SEC);
    let mut answers = Vec::with_capacity(total);
    for (body, headers) in requests {
        tick.tick().await;
        let mut req = client
            .post(&url)
            .header("content-type", "application/json")
            .body(body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        answers.push(tokio::spawn(async move {
            let started = Instant::now();
            let status = req.send().await.map(|r| r.status().as_u16()).unwrap_or(0);
            (status, started.elapsed())
        }));
    }
    let mut took = Vec::with_capacity(total);
    for a in answers {
        let (status, elapsed) = a.await.unwrap();
        assert_eq!(status, 200);
        took.push(elapsed);
    }
    took.sort();
    let at = |q: f64| took[((took.len() as f64 * q) as usize).min(took.len() - 1)];
    println!(
        "{backend:<9} ack latency at {OFFERED_PER_SEC}/s for {} s: p50 {:.1} ms, p99 {:.1} ms",
        OFFERED_FOR.as_secs(),
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3
    );
    server.abort();
}

fn env(var: &str) -> Option<String> {
    let found = std::env::var(var).ok().filter(|v| !v.is_empty());
    if found.is_none() {
        println!("skipped: {var} is not set");
    }
    found
}

fn main() {
    // `cargo test --benches` runs bench binaries without `--bench`: nothing to time then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        sqlite(dir.path()).await;
        let store = SqliteStore::open(dir.path().join("latency.db").to_str().unwrap())
            .await
            .unwrap();
        latency("sqlite", Inbox::new(store)).await;
        if let Some(url) = env("HOOKSPEC_TEST_POSTGRES_URL") {
            postgres(&url).await;
            let schema = format!("hookspec_latency_{}", std::process::id());
            let store = PostgresStore::open_in(&url, &schema, Duration::from_secs(5))
                .await
                .unwrap();
            let pool = store.pool().clone();
            latency("postgres", Inbox::new(store)).await;
            let drop = format!("DROP SCHEMA {schema} CASCADE");
            let _ = sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&pool).await;
        }
        if let Some(url) = env("HOOKSPEC_TEST_NATS_URL") {
            nats(&url).await;
            let options = NatsOptions {
                prefix: format!("HKLAT{}", std::process::id()),
                ..NatsOptions::default()
            };
            let inbox = Inbox::new(NatsStore::open_with(&url, options).await.unwrap());
            latency("nats", inbox.clone()).await;
            let _ = inbox.store().drop_all().await;
        }
    });
}
