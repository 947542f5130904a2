//! The inbox proven on real processes and real servers: the reference receiver runs as a
//! child process in inbox mode, a sender plays Bridge (HMAC-signed deliveries, retried
//! until acknowledged, as Bridge does), and the store and the receivers' handled logs are
//! read afterwards.
//!
//! - Crash: the receiver is killed with SIGKILL mid-stream and another started on the same
//!   store (on a port of its own; the sender's retries go to it). Every acknowledged
//!   delivery is stored once and handled to completion; handler runs repeat only for what
//!   a worker held when it died.
//! - Replicas: two receivers with one worker each on one store, every delivery sent to
//!   both: each key stored once and handled once, none lost.
//!
//! SQLite always; Postgres and NATS where `.ci/run` names their servers.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use hookspec_codegen::model::ProviderSpec;
use hookspec_inbox::{AnyStore, Filter, State, Store};
use hookspec_signer::{Signer, SigningCredentials};

const BIN: &str = env!("CARGO_BIN_EXE_reference-receiver");
/// Workers per receiver times the claim batch: the most deliveries one receiver can hold
/// claimed when it dies.
const HELD_AT_MOST: usize = 2 * 16;

fn bridge() -> ProviderSpec {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/bridge.yaml");
    hookspec_codegen::load_file(&path)
        .expect("bridge loads")
        .spec
}

/// Delivery `i`: Bridge's `item.created` about item `i`.
fn body(i: usize) -> Vec<u8> {
    format!(
        r#"{{"content":{{"item_id":{i},"user_uuid":"766b2f5d-a942-492c-9ea7-2e5aa88cb672"}},"timestamp":1612782588323,"type":"item.created"}}"#
    )
    .into_bytes()
}

/// How long a receiver's worker holds a claim (`--inbox-lease`): what a killed receiver
/// held is handled again this long after it died.
const LEASE: &str = "2s";

/// A receiver child process, killed when dropped.
struct Receiver {
    child: Child,
    url: String,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Receiver {
    /// Starts the reference receiver for Bridge in inbox mode on a loopback port of its
    /// own choosing, waiting (at most 30 s: it opens the store first) until it says where
    /// it listens.
    fn start(inbox: &str, workers: usize, handled: &Path) -> Receiver {
        let spec = bridge();
        let secret = SigningCredentials::test(&spec).shared.hmac_secrets[0].clone();
        let mut child = Command::new(BIN)
            .args([
                "--providers",
                "bridge",
                "--secret",
                &secret,
                "--allow-ip",
                "127.0.0.0/8",
            ])
            .args(["--inbox", inbox, "--inbox-lease", LEASE])
            .args(["--inbox-workers", &workers.to_string()])
            .arg("--handled-log")
            .arg(handled)
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the receiver starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                let _ = tx.send(line);
            }
        });
        // Dropped at once on failure, so the child is killed.
        let mut receiver = Receiver {
            child,
            url: String::new(),
        };
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the receiver says where it listens");
        // `listening on http://127.0.0.1:PORT (bridge)`
        let base = line
            .strip_prefix("listening on ")
            .and_then(|rest| rest.split_whitespace().next())
            .filter(|url| url.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("not where it listens: {line}"));
        receiver.url = format!("{base}/bridge");
        receiver
    }

    /// SIGKILL, and the status it died with.
    fn kill(mut self) -> std::process::ExitStatus {
        self.child.kill().unwrap();
        self.child.wait().unwrap()
    }
}

/// What the sender saw.
#[derive(Debug, Default)]
struct Sent {
    acknowledged: BTreeSet<usize>,
    /// Answers other than 2xx, and connections refused or cut.
    failures: usize,
}

/// Sends deliveries `0..n`, each to every URL in `urls` (one after the other, as a
/// provider's retry may reach another replica), retrying anything not acknowledged until
/// it is or `bound` runs out; `on_progress` sees the count acknowledged so far. A delivery
/// is done once the last URL acknowledged it; one that failed is retried at the next URL
/// where there is one (a replica added after its receiver died), else at the same.
async fn send_all(
    n: usize,
    urls: Arc<Mutex<Vec<String>>>,
    bound: Duration,
    on_progress: impl Fn(usize) + Send + Sync + 'static,
) -> Sent {
    let spec = Arc::new(bridge());
    let queue: Arc<Mutex<VecDeque<(usize, usize)>>> =
        Arc::new(Mutex::new((0..n).map(|i| (i, 0)).collect()));
    let sent = Arc::new(Mutex::new(Sent::default()));
    let done = Arc::new(AtomicUsize::new(0));
    let on_progress = Arc::new(on_progress);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let deadline = Instant::now() + bound;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (spec, queue, sent, done, client, urls, on_progress) = (
            spec.clone(),
            queue.clone(),
            sent.clone(),
            done.clone(),
            client.clone(),
            urls.clone(),
            on_progress.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let signer = Signer::new(&spec, SigningCredentials::test(&spec));
            while Instant::now() < deadline {
                let next = queue.lock().unwrap().pop_front();
                let Some((i, target)) = next else {
                    if done.load(Ordering::SeqCst) == n {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let url = urls.lock().unwrap()[target].clone();
                let body = body(i);
                let mut req = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone());
                for (k, v) in signer.sign(&body, SystemTime::now()) {
                    req = req.header(k, v);
                }
                let ok = matches!(req.send().await, Ok(r) if r.status().is_success());
                let targets = urls.lock().unwrap().len();
                if ok && target + 1 == targets {
                    let mut s = sent.lock().unwrap();
                    s.acknowledged.insert(i);
                    let count = s.acknowledged.len();
                    drop(s);
                    done.fetch_add(1, Ordering::SeqCst);
                    on_progress(count);
                } else if ok {
                    queue.lock().unwrap().push_back((i, target + 1));
                } else {
                    sent.lock().unwrap().failures += 1;
                    let retry_at = (target + 1).min(targets - 1);
                    queue.lock().unwrap().push_back((i, retry_at));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    Arc::try_unwrap(sent).unwrap().into_inner().unwrap()
}

/// Waits (at most 60 s) until nothing is pending or claimed, then answers every stored
/// delivery. One listing a look, not counts and then a listing: on NATS each reads the
/// whole stream, the cost of this wait.
async fn settled(store: &AnyStore) -> Vec<hookspec_inbox::StoredDelivery> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let all = store.list(&Filter::default(), 1_000_000).await.unwrap();
        let open = all
            .iter()
            .filter(|d| matches!(d.state, State::Pending | State::Processing))
            .count();
        if open == 0 {
            return all;
        }
        assert!(
            Instant::now() < deadline,
            "never settled: {open} of {} pending or claimed",
            all.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Handled-log lines per idempotency key, over every file in `files`.
fn handled(files: &[PathBuf]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for file in files {
        for line in std::fs::read_to_string(file).unwrap_or_default().lines() {
            let (_, key) = line.split_once('\t').expect("provider<TAB>key");
            *counts.entry(key.to_owned()).or_insert(0) += 1;
        }
    }
    counts
}

fn keys(n: usize) -> BTreeSet<String> {
    (0..n)
        .map(|i| hookspec::runtime::body_digest(&body(i)))
        .collect()
}

async fn crash_mid_stream(inbox: &str) {
    const N: usize = 2000;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("handled.log");
    let first = Receiver::start(inbox, 2, &log);
    let urls = Arc::new(Mutex::new(vec![first.url.clone()]));
    // Killed once a third is acknowledged; another takes over on a port of its own.
    let first = Arc::new(Mutex::new(Some(first)));
    let killed: Arc<Mutex<Option<std::process::ExitStatus>>> = Arc::default();
    let second: Arc<Mutex<Option<Receiver>>> = Arc::default();
    let (f, k, s, u, inbox_url, log_path) = (
        first.clone(),
        killed.clone(),
        second.clone(),
        urls.clone(),
        inbox.to_owned(),
        log.clone(),
    );
    // 180 s: about a hundred times what sending takes here.
    let sent = send_all(N, urls, Duration::from_secs(180), move |acked| {
        if acked < N / 3 {
            return;
        }
        let Some(receiver) = f.lock().unwrap().take() else {
            return;
        };
        // Killing and starting a process blocks: off the runtime's worker thread.
        tokio::task::block_in_place(|| {
            *k.lock().unwrap() = Some(receiver.kill());
            let next = Receiver::start(&inbox_url, 2, &log_path);
            u.lock().unwrap().push(next.url.clone());
            *s.lock().unwrap() = Some(next);
        });
    })
    .await;
    let status = killed
        .lock()
        .unwrap()
        .expect("the receiver was killed mid-stream");
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    assert_eq!(
        sent.acknowledged.len(),
        N,
        "every delivery acknowledged in the end"
    );
    assert!(sent.failures > 0, "the kill cut deliveries off mid-stream");

    let store = AnyStore::open(inbox).await.unwrap();
    let stored = settled(&store).await;
    let expected = keys(N);
    let stored_keys: BTreeSet<String> = stored
        .iter()
        .map(|d| d.delivery.idempotency_key.clone())
        .collect();
    assert_eq!(stored.len(), N, "each delivery stored once");
    assert_eq!(stored_keys, expected);
    let not_done: Vec<_> = stored.iter().filter(|d| d.state != State::Done).collect();
    assert!(
        not_done.is_empty(),
        "{} not handled: {:?}",
        not_done.len(),
        not_done.first()
    );

    let runs = handled(&[log]);
    let handled_keys: BTreeSet<String> = runs.keys().cloned().collect();
    assert_eq!(
        handled_keys, expected,
        "every acknowledged delivery handled"
    );
    let repeats: usize = runs.values().map(|n| n - 1).sum();
    assert!(
        repeats <= HELD_AT_MOST,
        "{repeats} handler runs repeated: only what the dead receiver held may repeat"
    );
    eprintln!(
        "crash on {inbox}: {N} acknowledged, {} sends failed around the kill, {repeats} handler runs repeated",
        sent.failures
    );
    drop(second);
}

async fn replicas(inbox: &str) {
    const N: usize = 600;
    let dir = tempfile::tempdir().unwrap();
    let logs = [dir.path().join("a.log"), dir.path().join("b.log")];
    let a = Receiver::start(inbox, 1, &logs[0]);
    let b = Receiver::start(inbox, 1, &logs[1]);
    let urls = Arc::new(Mutex::new(vec![a.url.clone(), b.url.clone()]));
    // 120 s: about fifty times what sending takes here.
    let sent = send_all(N, urls, Duration::from_secs(120), |_| {}).await;
    assert_eq!(sent.acknowledged.len(), N);
    let store = AnyStore::open(inbox).await.unwrap();
    let stored = settled(&store).await;
    assert_eq!(stored.len(), N, "each key stored once across both replicas");
    assert!(stored.iter().all(|d| d.state == State::Done));
    let runs = handled(&logs);
    assert_eq!(
        runs.keys().cloned().collect::<BTreeSet<_>>(),
        keys(N),
        "none lost"
    );
    let twice: Vec<_> = runs.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "handled twice: {twice:?}");
    // Both replicas' workers took part.
    let per_replica: Vec<usize> = logs
        .iter()
        .map(|l| handled(std::slice::from_ref(l)).len())
        .collect();
    assert!(per_replica.iter().all(|n| *n > 0), "{per_replica:?}");
    eprintln!("replicas on {inbox}: {N} deliveries sent to both, handled {per_replica:?}");
    drop((a, b));
}

/// A Postgres database of its own, dropped by the guard.
struct Database {
    admin: sqlx::PgPool,
    name: String,
    url: String,
}

impl Database {
    async fn create(server: &str, tag: &str) -> Database {
        let name = format!("hookspec_{tag}_{}", std::process::id());
        let admin = sqlx::PgPool::connect(server).await.unwrap();
        let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        sqlx::query(sqlx::AssertSqlSafe(drop))
            .execute(&admin)
            .await
            .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .unwrap();
        let (base, _) = server.rsplit_once('/').unwrap();
        Database {
            url: format!("{base}/{name}"),
            admin,
            name,
        }
    }

    async fn drop(self) {
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let _ = sqlx::query(sqlx::AssertSqlSafe(drop))
            .execute(&self.admin)
            .await;
    }
}

fn env(var: &str) -> Option<String> {
    let found = std::env::var(var).ok().filter(|v| !v.is_empty());
    if found.is_none() {
        eprintln!("SKIPPED: needs {var} (set by .ci/run)");
    }
    found
}

async fn drop_nats(url: &str) {
    if let Ok(AnyStore::Nats(store)) = AnyStore::open(url).await {
        let _ = store.drop_all().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_crash_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    crash_mid_stream(&format!(
        "sqlite://{}",
        dir.path().join("inbox.db").display()
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_crash_loses_nothing_acknowledged() {
    let Some(server) = env("HOOKSPEC_TEST_POSTGRES_URL") else {
        return;
    };
    let db = Database::create(&server, "crash").await;
    crash_mid_stream(&db.url).await;
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_crash_loses_nothing_acknowledged() {
    let Some(server) = env("HOOKSPEC_TEST_NATS_URL") else {
        return;
    };
    // Messages the killed receiver had fetched but not yet claimed come back after the
    // consumer's ack wait (30 s by default), not the lease: as long as the lease here, so
    // the test waits for neither longer than a claim would.
    let url = format!(
        "{}/HKCRASH{}?ack_wait={LEASE}",
        server.trim_end_matches('/'),
        std::process::id()
    );
    crash_mid_stream(&url).await;
    drop_nats(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_replicas_handle_each_key_once() {
    let Some(server) = env("HOOKSPEC_TEST_POSTGRES_URL") else {
        return;
    };
    let db = Database::create(&server, "replicas").await;
    replicas(&db.url).await;
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_replicas_handle_each_key_once() {
    let Some(server) = env("HOOKSPEC_TEST_NATS_URL") else {
        return;
    };
    let url = format!(
        "{}/HKREPL{}",
        server.trim_end_matches('/'),
        std::process::id()
    );
    replicas(&url).await;
    drop_nats(&url).await;
}
