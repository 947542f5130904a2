//! The JetStream backend against the store contract, and what `put` does while the server
//! is down. Needs `HOOKSPEC_TEST_NATS_URL` (a nats-server with JetStream); the outage test
//! also starts its own `nats-server` child, behind a proxy so it can restart on any port.
//!
//! The stores read a `ManualClock`, which decides whether a lease or a retry time has
//! passed. The server's own timers (a released message's redelivery delay, the ack wait)
//! run in real time, so the tests release with short delays and poll for what the server
//! hands back.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::common::{claim_some, delivery_at, Proxy, Server};

use hookspec_inbox::nats::{NatsOptions, NatsStore};
use hookspec_inbox::{Filter, ManualClock, Put, Retry, State, Store};
use rand_core::RngCore;

const URL_VAR: &str = "HOOKSPEC_TEST_NATS_URL";

/// A prefix (and provider name) no other run on a shared server uses.
fn unique(what: &str) -> String {
    format!("{what}{:08x}", rand_core::OsRng.next_u32())
}

fn options(prefix: &str) -> NatsOptions {
    NatsOptions {
        prefix: prefix.to_owned(),
        duplicate_window: Duration::from_secs(600),
        retention: Duration::from_secs(3600),
        publish_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(2),
        ..NatsOptions::default()
    }
}

/// Runs `test` on a store of its own prefix on the shared server, reading a manual clock,
/// bounded in time, and drops the store's streams and bucket afterwards whether or not the
/// test held.
async fn on_shared_server<F, Fut>(options: NatsOptions, test: F)
where
    F: FnOnce(NatsStore, ManualClock) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(url) = crate::common::server_url(URL_VAR, "NATS JetStream") else {
        return;
    };
    let store = tokio::time::timeout(Duration::from_secs(20), NatsStore::open_with(&url, options))
        .await
        .expect("opening within 20 s")
        .expect("opening the store");
    let clock = ManualClock::starting_now();
    let store = store.with_clock(clock.clone());
    // 60 s: ten times what the slowest of these takes on a loaded machine.
    let outcome = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::spawn(test(store.clone(), clock)),
    )
    .await;
    let dropped = store.drop_all().await;
    match outcome {
        Err(_) => panic!("the test did not finish within 60 s"),
        Ok(Err(e)) => std::panic::resume_unwind(e.into_panic()),
        Ok(Ok(())) => {}
    }
    dropped.expect("dropping the test's streams and bucket");
}

#[tokio::test]
async fn nats_keeps_the_store_contract() {
    let provider = unique("nats-contract-");
    on_shared_server(options(&unique("HKT_")), |store, clock| async move {
        crate::common::contract(&store, &clock, &provider).await;
    })
    .await;
}

/// A lease longer than the consumer's ack wait holds for its whole length, and then
/// another worker takes the delivery over.
#[tokio::test]
async fn a_lease_holds_for_its_own_length_not_the_ack_wait() {
    let provider = unique("nats-lease-");
    let ack_wait = Duration::from_millis(300);
    let lease = Duration::from_secs(1);
    let options = NatsOptions {
        ack_wait,
        ..options(&unique("HKT_"))
    };
    on_shared_server(options, |store, clock| async move {
        let providers = [provider.clone()];
        let claim = |worker: &'static str| {
            let store = store.clone();
            let providers = providers.clone();
            async move {
                store
                    .claim(worker, &providers, 10, Duration::from_secs(60))
                    .await
                    .unwrap()
            }
        };
        assert_eq!(
            store
                .put(delivery_at(&provider, "k", clock.now()))
                .await
                .unwrap(),
            Put::Stored
        );
        let first = store.claim("w1", &providers, 10, lease).await.unwrap();
        assert_eq!(first.len(), 1);
        // The ack wait is the server's timer and must really pass for this to test
        // anything; what is checked is that nothing happens, which cannot be polled for.
        // A slow machine only lets more of it pass, which the clock still calls within
        // the lease.
        tokio::time::sleep(ack_wait + Duration::from_millis(200)).await;
        clock.advance(lease - Duration::from_millis(1));
        assert!(
            claim("w2").await.is_empty(),
            "the lease holds past the consumer's ack wait"
        );
        clock.advance(Duration::from_millis(2));
        let taken = claim_some(&store, "w2", &providers, Duration::from_secs(60)).await;
        assert_eq!(taken.len(), 1, "the lease ran out");
        assert_eq!(taken[0].stored.attempts, 2);
        assert_eq!(taken[0].stored.id, first[0].stored.id);
        assert!(!store.complete(&first[0]).await.unwrap());
        assert!(store.complete(&taken[0]).await.unwrap());
        assert!(claim("w3").await.is_empty());
        let listed = store.list(&Filter::default(), 10).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].state, State::Done);
        assert_eq!(
            listed[0].done_at,
            Some(clock.now()),
            "done by the store's clock"
        );
        assert_eq!(store.stats().await.unwrap().count(State::Done), 1);
    })
    .await;
}

/// A retry is not claimable before its time, then is, with the error and the attempts so
/// far; workers claiming at the same time never get the same delivery.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_wait_for_their_time_and_concurrent_claims_are_exclusive() {
    let provider = unique("nats-retry-");
    on_shared_server(options(&unique("HKT_")), |store, clock| async move {
        let providers = vec![provider.clone()];
        for i in 0..20 {
            let put = store
                .put(delivery_at(&provider, &format!("k{i}"), clock.now()))
                .await
                .unwrap();
            assert_eq!(put, Put::Stored);
        }
        let claimers: Vec<_> = (0..4)
            .map(|w| {
                let store = store.clone();
                let providers = providers.clone();
                tokio::spawn(async move {
                    let mut mine = Vec::new();
                    for _ in 0..10 {
                        let worker = format!("w{w}");
                        let got = store
                            .claim(&worker, &providers, 3, Duration::from_secs(60))
                            .await
                            .unwrap();
                        mine.extend(got);
                    }
                    mine
                })
            })
            .collect();
        let mut claimed = Vec::new();
        for c in claimers {
            claimed.extend(c.await.unwrap());
        }
        let mut keys: Vec<String> = claimed
            .iter()
            .map(|c| c.stored.delivery.idempotency_key.clone())
            .collect();
        keys.sort();
        keys.dedup();
        assert_eq!(claimed.len(), 20, "every delivery claimed once");
        assert_eq!(keys.len(), 20);

        // Released for this long in real time too: the server's delay before it hands the
        // message back, kept short; the clock alone decides whether it is due.
        let due = clock.now() + Duration::from_millis(500);
        let retried = &claimed[0];
        assert!(store
            .fail(retried, "try later", Retry::At(due))
            .await
            .unwrap());
        for c in &claimed[1..] {
            assert!(store.complete(c).await.unwrap());
        }
        assert!(store
            .claim("w9", &providers, 10, Duration::from_secs(60))
            .await
            .unwrap()
            .is_empty());
        let pending = store
            .list(&Filter::default().in_states(&[State::Pending]), 10)
            .await
            .unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].id, retried.stored.id);
        assert_eq!(pending[0].last_error.as_deref(), Some("try later"));
        assert_eq!(pending[0].attempts, 1);
        assert_eq!(
            pending[0].next_attempt_at, due,
            "next_attempt_at is the retry time"
        );
        clock.advance(Duration::from_millis(499));
        assert!(
            store
                .claim("w9", &providers, 10, Duration::from_secs(60))
                .await
                .unwrap()
                .is_empty(),
            "not due a millisecond before its time"
        );
        clock.set(due);
        let again = claim_some(&store, "w9", &providers, Duration::from_secs(60)).await;
        assert_eq!(again.len(), 1, "due now");
        assert_eq!(again[0].stored.attempts, 2);
        assert!(store.complete(&again[0]).await.unwrap());
        let stats = store.stats().await.unwrap();
        assert_eq!(stats.count(State::Done), 20);
        assert_eq!(stats.oldest_pending, None);
    })
    .await;
}

/// While the server is down `put` fails within its timeout (the receive path answers 503
/// and the provider retries); once it is back, `put` works again and what was stored
/// before is still there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_fails_while_the_server_is_down_and_works_once_it_is_back() {
    if crate::common::server_url(URL_VAR, "NATS JetStream").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let proxy = Proxy::start(server.addr()).await;
    let store = tokio::time::timeout(
        Duration::from_secs(20),
        NatsStore::open_with(&proxy.url(), options("HOOKSPEC")),
    )
    .await
    .expect("opening within 20 s")
    .expect("opening the store");
    let provider = "outage";
    assert_eq!(
        store
            .put(crate::common::delivery(provider, "before"))
            .await
            .unwrap(),
        Put::Stored
    );

    proxy.point_at(None);
    drop(server);
    let started = Instant::now();
    let down = tokio::time::timeout(
        Duration::from_secs(15),
        store.put(crate::common::delivery(provider, "during")),
    )
    .await
    .expect("put answers within 15 s while the server is down");
    assert!(down.is_err(), "put while the server is down: {down:?}");
    eprintln!(
        "put failed after {} ms: {}",
        started.elapsed().as_millis(),
        down.unwrap_err()
    );

    // Back on another port with the same store directory; the client reconnects to the
    // proxy on its own, and JetStream needs a moment to recover the streams.
    let server = Server::start(dir.path());
    proxy.point_at(Some(server.addr()));
    let deadline = Instant::now() + Duration::from_secs(30);
    let again = loop {
        match tokio::time::timeout(
            Duration::from_secs(5),
            store.put(crate::common::delivery(provider, "after")),
        )
        .await
        {
            Ok(Ok(put)) => break put,
            outcome => {
                assert!(
                    Instant::now() < deadline,
                    "put did not work within 30 s of the restart: {outcome:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    assert_eq!(again, Put::Stored);
    let mine = Filter {
        provider: Some(provider.to_owned()),
        ..Filter::default()
    };
    let listed = tokio::time::timeout(Duration::from_secs(10), store.list(&mine, 10))
        .await
        .expect("listing within 10 s")
        .unwrap();
    let keys: Vec<&str> = listed
        .iter()
        .map(|d| d.delivery.idempotency_key.as_str())
        .collect();
    assert_eq!(keys, ["before", "after"]);
    assert_eq!(
        store
            .put(crate::common::delivery(provider, "before"))
            .await
            .unwrap(),
        Put::Duplicate,
        "the deduplication window survived the restart"
    );
}
