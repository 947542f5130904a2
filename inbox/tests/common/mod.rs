//! What every backend must do, as one function each backend's tests call, and the
//! environment that says where the real servers are.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use hookspec_inbox::{Filter, NewDelivery, Put, Retry, State, Store};

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

/// A delivery of `provider` with key `key`.
pub fn delivery(provider: &str, key: &str) -> NewDelivery {
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
        received_at: SystemTime::now(),
    }
}

/// The store contract, on a store holding nothing of `provider` (each run uses a provider
/// name of its own, so runs on a shared server do not meet).
pub async fn contract<S: Store>(store: &S, provider: &str) {
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
    assert!(store
        .fail(k2, "handler said no", Retry::At(SystemTime::now()))
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
    let again = store
        .claim("w1", &providers, 10, Duration::from_millis(200))
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].stored.attempts, 2);
    assert_eq!(
        again[0].stored.last_error.as_deref(),
        Some("handler said no")
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let taken = store
        .claim("w2", &providers, 10, Duration::from_secs(60))
        .await
        .unwrap();
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
        since: Some(SystemTime::now() + Duration::from_secs(3600)),
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

/// A nats-server child, killed when dropped.
pub struct Server {
    child: Option<Child>,
}

impl Server {
    pub fn start(port: u16, dir: &Path) -> Server {
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
        let child = Command::new(binary)
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting nats-server");
        let server = Server { child: Some(child) };
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nats-server did not listen within 15 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A free port on loopback.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free local port")
        .port()
}
