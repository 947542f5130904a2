//! Deliveries per second over loopback HTTP at concurrency 16: the reference receiver's
//! Plaid (ES256 JWT) and Bridge (HMAC) endpoints beside a bare axum handler that runs only
//! the same verification (the same credentials and key source, built by the same
//! `ReceiverConfig::credentials`) and answers 200.
//!
//! ```sh
//! cargo bench -p hookspec-reference-receiver --bench throughput
//! ```
//!
//! Every request is a different signed delivery (one field of a documented example made
//! unique), so the receiver parses, claims and logs each one as new. Each sample plays
//! against a freshly started server (started, warmed and stopped outside the timing), so
//! the receiver's log holds only that sample's deliveries. Requests are bounded in count
//! (the sample's) and time ([`SAMPLE_LIMIT`]); servers stop at the end of each sample.
//! The client runs on the same two cores, so its cost is part of both figures.
//!
//! Criterion measures one server kind after the other, so on a machine shared with other
//! work their ratio moves with the load; after criterion's figures the bench prints the
//! ratio from interleaved rounds (reference, bare, reference, ...), which is the one to
//! compare with the targets (Plaid >= 0.8, Bridge >= 0.9). `-- interleaved` runs only
//! those rounds.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::routing::post;
use criterion::{criterion_group, Criterion, SamplingMode, Throughput};
use hookspec::runtime::core::KeyApi;
use hookspec::runtime::verify::{Request, Verifier};
use hookspec_codegen::model::ProviderSpec;
use hookspec_reference_receiver::{ReceiverConfig, Secrets};
use hookspec_signer::{public_jwk, Signer, SigningCredentials};
use tokio::runtime::Runtime;
use tokio::sync::Notify;

const CONCURRENCY: usize = 16;
/// No sample may take longer than this.
const SAMPLE_LIMIT: Duration = Duration::from_secs(60);
/// Deliveries per interleaved round (see [`interleaved`]) and rounds per server kind.
const ROUND: [(&str, usize); 2] = [("plaid", 3_000), ("bridge", 16_000)];
const ROUNDS: usize = 7;

/// Distinct signed deliveries for `provider`. A sample needing more reuses them, and the
/// repeats are duplicates to the receiver (cheaper), so the sizes are above what a
/// sample asks for here; the reference runs check that every delivery was new.
fn pool_size(provider: &str) -> usize {
    match provider {
        "plaid" => 4_000,
        _ => 16_000,
    }
}

/// One signed delivery.
struct Delivery {
    headers: reqwest::header::HeaderMap,
    body: Bytes,
}

fn specs() -> Vec<ProviderSpec> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    hookspec_codegen::load_dir(&dir)
        .expect("specs load")
        .into_iter()
        .map(|l| l.spec)
        .collect()
}

/// The first documented example of `spec` with its first number field increased by `n`,
/// or else its first UUID-shaped string ending in `n`: a new delivery of the same event.
fn variant(spec: &ProviderSpec, n: usize) -> Vec<u8> {
    let mut value: serde_json::Value =
        serde_json::from_str(&spec.events[0].examples[0]).expect("example is JSON");
    let object = value.as_object_mut().expect("example is an object");
    let number = object.values_mut().find(|v| v.is_u64());
    if let Some(v) = number {
        *v = (v.as_u64().unwrap() + n as u64).into();
    } else {
        let uuid = object
            .values_mut()
            .find(|v| {
                v.as_str()
                    .is_some_and(|s| s.len() == 36 && s.as_bytes()[23] == b'-')
            })
            .expect("a number or a UUID to vary");
        let text = uuid.as_str().unwrap();
        *uuid = format!("{}{n:012x}", &text[..24]).into();
    }
    serde_json::to_vec(&value).expect("serializes")
}

fn sign(spec: &ProviderSpec, count: usize) -> Vec<Delivery> {
    let signer = Signer::new(spec, SigningCredentials::test(spec));
    let now = SystemTime::now();
    (0..count)
        .map(|n| {
            let body = variant(spec, n);
            let mut headers = reqwest::header::HeaderMap::new();
            for (name, value) in signer.sign(&body, now) {
                headers.append(
                    reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    reqwest::header::HeaderValue::from_str(&value).unwrap(),
                );
            }
            headers.insert(
                reqwest::header::CONTENT_TYPE,
                reqwest::header::HeaderValue::from_static("application/json"),
            );
            Delivery {
                headers,
                body: body.into(),
            }
        })
        .collect()
}

/// A stand-in for Plaid's key endpoint serving the test key.
async fn key_server(creds: &SigningCredentials) -> String {
    let jwk = public_jwk(creds.jwt_key.as_ref().expect("a test key"), &creds.kid);
    let app = axum::Router::new().route(
        "/webhook_verification_key/get",
        post(move || {
            let jwk = jwk.clone();
            async move { axum::Json(serde_json::json!({"key": jwk, "request_id": "bench"})) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

/// The bare handler: verification with the receiver's credentials, nothing else. It
/// takes the request whole (the `HeaderMap` extractor would clone the headers).
async fn bare(State(verifier): State<Verifier>, request: axum::extract::Request) -> StatusCode {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 1 << 20).await else {
        return StatusCode::BAD_REQUEST;
    };
    let request = Request {
        headers: &parts.headers,
        body: &body,
        peer,
        target: None,
    };
    match verifier.verify(&request, SystemTime::now()).await {
        Ok(()) => StatusCode::OK,
        Err(e) => StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED),
    }
}

/// A server that stops when told.
enum Server {
    Reference {
        url: String,
        running: hookspec_reference_receiver::RunningReceiver,
    },
    Bare {
        url: String,
        stop: Arc<Notify>,
        task: tokio::task::JoinHandle<()>,
    },
}

impl Server {
    fn url(&self) -> &str {
        match self {
            Server::Reference { url, .. } | Server::Bare { url, .. } => url,
        }
    }

    /// Stops the server; for the reference receiver, checks it logged `accepted` events.
    async fn shutdown(self, accepted: usize) {
        match self {
            Server::Reference { running, .. } => {
                assert_eq!(
                    running.log.len(),
                    accepted,
                    "every delivery was a new event"
                );
                running.shutdown(Duration::from_secs(5)).await;
            }
            Server::Bare { stop, task, .. } => {
                stop.notify_one();
                let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Reference,
    Bare,
}

struct Bench {
    runtime: Runtime,
    config: ReceiverConfig,
}

impl Bench {
    fn new(specs: &[ProviderSpec]) -> Bench {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let spec = |name: &str| specs.iter().find(|s| s.provider == name).unwrap();
        let plaid = SigningCredentials::test(spec("plaid"));
        let bridge = SigningCredentials::test(spec("bridge"));
        let keys_url = runtime.block_on(key_server(&plaid));
        let mut config = ReceiverConfig::all_providers();
        config.providers = vec!["plaid".into(), "bridge".into()];
        config.secrets = Secrets {
            shared: bridge.shared.clone(),
            key_apis: [(
                "plaid".to_owned(),
                KeyApi {
                    base_url: keys_url,
                    credentials: vec![
                        ("client_id".into(), "bench-client".into()),
                        ("secret".into(), "bench-secret".into()),
                    ],
                },
            )]
            .into(),
            ..Secrets::default()
        };
        config.allow_ips = vec!["127.0.0.0/8".parse().unwrap()];
        Bench { runtime, config }
    }

    async fn start(&self, kind: Kind, provider: &str) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        match kind {
            Kind::Reference => {
                let running = hookspec_reference_receiver::start(self.config.clone(), listener)
                    .await
                    .expect("the reference receiver starts");
                let url = format!("{}/{provider}", running.url());
                Server::Reference { url, running }
            }
            Kind::Bare => {
                let verifier = Verifier::new(
                    hookspec::auth(provider).unwrap(),
                    hookspec::delivery(provider).unwrap(),
                    self.config.credentials(provider).unwrap(),
                )
                .expect("verifier");
                let app = axum::Router::new()
                    .route(&format!("/{provider}"), post(bare))
                    .with_state(verifier);
                let url = format!("http://{}/{provider}", listener.local_addr().unwrap());
                let stop = Arc::new(Notify::new());
                let signal = stop.clone();
                let task = tokio::spawn(async move {
                    let service = app.into_make_service_with_connect_info::<SocketAddr>();
                    let _ = axum::serve(listener, service)
                        .with_graceful_shutdown(async move { signal.notified().await })
                        .await;
                });
                Server::Bare { url, stop, task }
            }
        }
    }

    /// The time `count` deliveries take at [`CONCURRENCY`] against a fresh server, after
    /// a warm-up (connections opened, the JWT key fetched) that is not timed.
    fn run(&self, kind: Kind, provider: &str, pool: &Arc<Vec<Delivery>>, count: u64) -> Duration {
        self.run_measured(kind, provider, pool, count).0
    }

    /// [`Bench::run`]'s wall time, and the CPU time the whole process (servers and
    /// client) spent meanwhile.
    fn run_measured(
        &self,
        kind: Kind,
        provider: &str,
        pool: &Arc<Vec<Delivery>>,
        count: u64,
    ) -> (Duration, Duration) {
        self.runtime.block_on(async {
            let server = self.start(kind, provider).await;
            let client = reqwest::Client::builder()
                .no_proxy()
                .pool_max_idle_per_host(CONCURRENCY)
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap();
            // Warm-up: the last delivery of the pool, CONCURRENCY times at once (the
            // repeats are duplicates to the receiver, and answered 200 too).
            let warm: Vec<_> = (0..CONCURRENCY)
                .map(|_| {
                    let (client, url, pool) =
                        (client.clone(), server.url().to_owned(), pool.clone());
                    tokio::spawn(async move { send(&client, &url, &pool[pool.len() - 1]).await })
                })
                .collect();
            for task in warm {
                assert_eq!(task.await.expect("warm-up task"), 200, "warm-up refused");
            }
            let count = usize::try_from(count).unwrap();
            let next = Arc::new(AtomicUsize::new(0));
            let (start, cpu) = (Instant::now(), process_cpu());
            let workers: Vec<_> = (0..CONCURRENCY)
                .map(|_| {
                    let (client, url, pool, next) = (
                        client.clone(),
                        server.url().to_owned(),
                        pool.clone(),
                        next.clone(),
                    );
                    tokio::spawn(async move {
                        loop {
                            let n = next.fetch_add(1, Ordering::Relaxed);
                            if n >= count {
                                return;
                            }
                            let status = send(&client, &url, &pool[n % (pool.len() - 1)]).await;
                            assert_eq!(status, 200, "delivery {n} refused");
                        }
                    })
                })
                .collect();
            let all = async {
                for worker in workers {
                    worker.await.expect("a client task panicked");
                }
            };
            tokio::time::timeout(SAMPLE_LIMIT, all)
                .await
                .expect("the sample finished in time");
            let elapsed = (start.elapsed(), process_cpu().saturating_sub(cpu));
            drop(client);
            // The warm-up's one new event, and the timed ones up to the pool's size.
            server.shutdown(1 + count.min(pool.len() - 1)).await;
            elapsed
        })
    }
}

/// CPU time of this process's threads so far (Linux `/proc/self/task/*/schedstat`, in
/// nanoseconds); zero where it cannot be read. Unlike wall time it does not move with
/// other work on the machine.
fn process_cpu() -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    let ns: u64 = tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(ns)
}

async fn send(client: &reqwest::Client, url: &str, delivery: &Delivery) -> u16 {
    client
        .post(url)
        .headers(delivery.headers.clone())
        .body(delivery.body.clone())
        .send()
        .await
        .expect("the server answers")
        .status()
        .as_u16()
}

fn throughput(c: &mut Criterion) {
    let specs = specs();
    let bench = Bench::new(&specs);
    for provider in ["plaid", "bridge"] {
        let spec = specs.iter().find(|s| s.provider == provider).unwrap();
        let pool = Arc::new(sign(spec, pool_size(provider)));
        let mut group = c.benchmark_group(format!("throughput/{provider}"));
        group
            .sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3))
            .throughput(Throughput::Elements(1));
        for (name, kind) in [
            ("reference receiver", Kind::Reference),
            ("bare verify handler", Kind::Bare),
        ] {
            group.bench_function(name, |b| {
                b.iter_custom(|count| bench.run(kind, provider, &pool, count))
            });
        }
        group.finish();
    }
}

/// The ratio the targets are about, robust to other load on the machine: rounds of a
/// fixed number of deliveries against the reference receiver and the bare handler in
/// turn, so both see the same load, and the median of the per-pair ratios.
fn interleaved() {
    let specs = specs();
    let bench = Bench::new(&specs);
    println!("\ninterleaved rounds ({ROUNDS} per kind, concurrency {CONCURRENCY}):");
    for (provider, count) in ROUND {
        let spec = specs.iter().find(|s| s.provider == provider).unwrap();
        let pool = Arc::new(sign(spec, count + 1));
        // Pairs in alternating order (reference first, then bare first), so neither kind
        // always runs right after the other's server.
        let pairs: Vec<[(Duration, Duration); 2]> = (0..ROUNDS)
            .map(|round| {
                let run = |kind| bench.run_measured(kind, provider, &pool, count as u64);
                if round % 2 == 0 {
                    let reference = run(Kind::Reference);
                    [reference, run(Kind::Bare)]
                } else {
                    let bare = run(Kind::Bare);
                    [run(Kind::Reference), bare]
                }
            })
            .collect();
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let rate = |d: Duration| count as f64 / d.as_secs_f64();
        let reference = median(pairs.iter().map(|p| rate(p[0].0)).collect());
        let bare = median(pairs.iter().map(|p| rate(p[1].0)).collect());
        let wall: Vec<f64> = pairs.iter().map(|p| rate(p[0].0) / rate(p[1].0)).collect();
        let (low, high) = wall
            .iter()
            .fold((f64::MAX, 0f64), |(l, h), r| (l.min(*r), h.max(*r)));
        // Deliveries per CPU second, reference over bare: the throughput ratio on a machine
        // with nothing else running.
        let cpu = median(
            pairs
                .iter()
                .map(|p| p[1].1.as_secs_f64() / p[0].1.as_secs_f64())
                .collect(),
        );
        let per = |i: usize| {
            median(
                pairs
                    .iter()
                    .map(|p| p[i].1.as_secs_f64() * 1e6 / count as f64)
                    .collect(),
            )
        };
        println!(
            "  {provider}: reference receiver {reference:.0}/s, bare verify handler {bare:.0}/s; \
             reference/bare {:.3} (min {low:.3}, max {high:.3}); CPU per delivery {:.1} us vs \
             {:.1} us, reference/bare by CPU {cpu:.3}",
            median(wall),
            per(0),
            per(1),
        );
    }
}

criterion_group!(benches, throughput);

fn main() {
    benches();
    // Not under `cargo test --benches`/`--bench x -- --test`, which only check that the
    // benches run; and not when a filter picks out some criterion benches.
    // `-- interleaved` (a filter no criterion bench matches) runs only the rounds.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let filtered = args
        .iter()
        .any(|a| !a.starts_with('-') && a != "interleaved");
    if !args.iter().any(|a| a == "--test" || a == "--list") && !filtered {
        interleaved();
    }
    Criterion::default().configure_from_args().final_summary();
}
