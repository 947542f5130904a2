//! What every backend must do, as one function each backend's tests call; the
//! environment that says where the real servers are; and a nats-server of a test's own
//! behind a loopback proxy, for outages.

use std::io::BufRead as _;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use hookspec_inbox::{Claimed, Filter, ManualClock, NewDelivery, Put, Retry, State, Store};

/// `HOOKSPEC_TEST_POSTGRES_URL`, or a line saying the test is skipped and why.
pub fn server_url(var: &str, what: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("SKIPPED: {what} tests need {var} (set by .ci/run); it is not set here");
            None
        }
    }
}

/// A delivery of `provider` with key `key`, received now by the system clock.
pub fn delivery(provider: &str, key: &str) -> NewDelivery {
    delivery_at(provider, key, SystemTime::now())
}

/// A delivery of `provider` with key `key`, received at `at`.
pub fn delivery_at(provider: &str, key: &str, at: SystemTime) -> NewDelivery {
    NewDelivery {
        provider: provider.to_owned(),
        event: "SyncAccount".to_owned(),
        idempotency_key: key.to_owned(),
        headers: vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            ("x-client-id".to_owned(), "c".to_owned()),
        ],
        body: format!("{{\"key\":\"{key}\",\"bytes\":\"\\u00e9\\n\"}}").into_bytes(),
        peer: Some("127.0.0.1".parse().unwrap()),
        received_at: at,
    }
}

/// Claims for `worker` until something is claimed, for at most 20 s. On the SQL backends
/// the first call answers; JetStream hands a released message back only after the real
/// delay it was released with (the server's timer, which no clock of ours moves), so a
/// claim there may come up empty a few times first. 20 s is far beyond any delay the
/// tests release with (at most about a second), so only a claim that never comes fails.
pub async fn claim_some<S: Store>(
    store: &S,
    worker: &str,
    providers: &[String],
    lease: Duration,
) -> Vec<Claimed<S::Lease>> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let claimed = store.claim(worker, providers, 10, lease).await.unwrap();
        if !claimed.is_empty() {
            return claimed;
        }
        assert!(
            Instant::now() < deadline,
            "{worker} claimed nothing within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The store contract, on a store holding nothing of `provider` (each run uses a provider
/// name of its own, so runs on a shared server do not meet) whose clock is `clock`.
pub async fn contract<S: Store>(store: &S, clock: &ManualClock, provider: &str) {
    let delivery = |provider: &str, key: &str| delivery_at(provider, key, clock.now());
    let providers = [provider.to_owned()];
    let mine = Filter {
        provider: Some(provider.to_owned()),
        ..Filter::default()
    };
    // Stored once; the same key again is a duplicate, with no second copy.
    let first = delivery(provider, "k1");
    assert_eq!(store.put(first.clone()).await.unwrap(), Put::Stored);
    assert_eq!(
        store.put(delivery(provider, "k1")).await.unwrap(),
        Put::Duplicate
    );
    assert_eq!(
        store.put(delivery(provider, "k2")).await.unwrap(),
        Put::Stored
    );
    let listed = store.list(&mine, 10).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].delivery.body, first.body, "the exact bytes");
    assert_eq!(listed[0].delivery.headers, first.headers);
    assert_eq!(listed[0].delivery.peer, first.peer);
    assert_eq!(listed[0].state, State::Pending);

    // A claim is exclusive: a second worker gets nothing while the lease holds.
    let claimed = store
        .claim("w1", &providers, 10, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    assert!(claimed.iter().all(|c| c.stored.attempts == 1));
    assert!(store
        .claim("w2", &providers, 10, Duration::from_secs(60))
        .await
        .unwrap()
        .is_empty());
    // Other providers' workers never see them.
    assert!(store
        .claim(
            "w3",
            &["someone-else".to_owned()],
            10,
            Duration::from_secs(60)
        )
        .await
        .unwrap()
        .is_empty());

    // k1 succeeds; k2 fails and is due again at once.
    let (k1, k2) = match claimed[0].stored.delivery.idempotency_key.as_str() {
        "k1" => (&claimed[0], &claimed[1]),
        _ => (&claimed[1], &claimed[0]),
    };
    assert!(store.complete(k1).await.unwrap());
    assert_eq!(
        store.now(),
        clock.now(),
        "the store reads the clock it was given"
    );
    assert!(store
        .fail(k2, "handler said no", Retry::At(clock.now()))
        .await
        .unwrap());
    // Completing again changes nothing: the claim is spent.
    assert!(!store.complete(k1).await.unwrap());
    let stats = store.stats().await.unwrap();
    assert!(
        stats.count(State::Done) >= 1 && stats.count(State::Pending) >= 1,
        "{stats:?}"
    );

    // k2 again, with a lease that runs out: another worker takes it over, and the first
    // worker's late outcome no longer counts.
    let again = claim_some(store, "w1", &providers, Duration::from_millis(200)).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].stored.attempts, 2);
    assert_eq!(
        again[0].stored.last_error.as_deref(),
        Some("handler said no")
    );
    clock.advance(Duration::from_millis(199));
    assert!(
        store
            .claim("w2", &providers, 10, Duration::from_secs(60))
            .await
            .unwrap()
            .is_empty(),
        "the lease holds until its last millisecond"
    );
    clock.advance(Duration::from_millis(201));
    let taken = claim_some(store, "w2", &providers, Duration::from_secs(60)).await;
    assert_eq!(taken.len(), 1, "an expired lease is claimed again");
    assert_eq!(taken[0].stored.attempts, 3);
    assert!(
        !store.complete(&again[0]).await.unwrap(),
        "the lost claim's outcome is dropped"
    );
    assert!(store
        .fail(&taken[0], "still no", Retry::Dead)
        .await
        .unwrap());
    let dead = store
        .list(&mine.clone().in_states(&[State::Dead]), 10)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].delivery.idempotency_key, "k2");

    // A dead letter's key still deduplicates; retry makes it pending with attempts reset.
    assert_eq!(
        store.put(delivery(provider, "k2")).await.unwrap(),
        Put::Duplicate
    );
    assert_eq!(
        store
            .requeue(&mine.clone().in_states(&[State::Dead]))
            .await
            .unwrap(),
        1
    );
    let retried = store
        .claim("w1", &providers, 10, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].stored.attempts, 1);
    assert!(store.complete(&retried[0]).await.unwrap());

    // Replay of done deliveries by event and time range; a range that holds none replays none.
    let future = Filter {
        since: Some(clock.now() + Duration::from_secs(3600)),
        ..mine.clone()
    };
    assert_eq!(
        store
            .requeue(&future.in_states(&[State::Done]))
            .await
            .unwrap(),
        0
    );
    let replay = Filter {
        event: Some("SyncAccount".to_owned()),
        ..mine.clone()
    };
    assert_eq!(
        store
            .requeue(&replay.in_states(&[State::Done]))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .claim("w1", &providers, 10, Duration::from_secs(60))
            .await
            .unwrap()
            .len(),
        2
    );

    // Purge forgets deliveries and their keys.
    assert_eq!(store.purge(&mine).await.unwrap(), 2);
    assert!(store.list(&mine, 10).await.unwrap().is_empty());
    assert_eq!(
        store.put(delivery(provider, "k1")).await.unwrap(),
        Put::Stored
    );
    assert_eq!(store.purge(&mine).await.unwrap(), 1);
}

/// A nats-server child on a loopback port of its own choosing, killed when dropped.
pub struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    /// Starts nats-server with JetStream storing in `dir`, and waits (at most 15 s) for it
    /// to say where it listens.
    pub fn start(dir: &Path) -> Server {
        let binary = [
            "nats-server",
            "/usr/sbin/nats-server",
            "/usr/local/bin/nats-server",
        ]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .expect("nats-server is installed");
        // Port -1: the server binds port 0 and logs the port it got.
        let mut child = Command::new(binary)
            .args(["-js", "-a", "127.0.0.1", "-p", "-1", "-sd"])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting nats-server");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads the log to its end, so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if let Some((_, addr)) = line.split_once("Listening for client connections on ") {
                    let _ = tx.send(addr.trim().to_owned());
                }
            }
        });
        let mut server = Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let addr = rx
            .recv_timeout(Duration::from_secs(15))
            .expect("nats-server says where it listens within 15 s");
        server.addr = addr.parse().expect("a socket address");
        server
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback TCP proxy to a server that can go away and come back on another port, so
/// a client keeps one URL across a server's restart and nothing rebinds a port.
pub struct Proxy {
    addr: SocketAddr,
    upstream: Arc<Mutex<Option<SocketAddr>>>,
    accepting: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let upstream = Arc::new(Mutex::new(Some(upstream)));
        let target = upstream.clone();
        let accepting = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let to = *target.lock().unwrap();
                tokio::spawn(async move {
                    // No server: the connection is closed at once, as a refused one would be.
                    let Some(to) = to else { return };
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(to).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Proxy {
            addr,
            upstream,
            accepting,
        }
    }

    /// The URL clients connect to.
    pub fn url(&self) -> String {
        format!("nats://{}", self.addr)
    }

    /// Sends new connections to `upstream` (none: closes them).
    pub fn point_at(&self, upstream: Option<SocketAddr>) {
        *self.upstream.lock().unwrap() = upstream;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}
