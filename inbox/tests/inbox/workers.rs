//! Workers over a SQLite inbox running a generated `Handler` (Vezgo's): successes are
//! completed once, failures retried with backoff until they succeed or are dead-lettered,
//! slow handlers timed out and retried, bodies that no longer parse dead-lettered at once,
//! and handled deliveries purged after the retention.
//!
//! The store reads a `ManualClock`: retry times and the retention's cut-off pass when a
//! test moves it.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use hookspec::runtime::{Delivery, Handled, HandlerError, Handling};
use hookspec::vezgo;
use hookspec_inbox::sqlite::SqliteStore;
use hookspec_inbox::{
    Backoff, Filter, Inbox, ManualClock, NewDelivery, Put, State, Store, WorkerConfig,
};

/// Fails each account's first `fail[account]` attempts, then succeeds; records successes.
/// A `hang`ing one never finishes, so only its timeout ends it.
#[derive(Default)]
struct Flaky {
    fail: Mutex<BTreeMap<String, u32>>,
    hang: bool,
    succeeded: Mutex<Vec<String>>,
}

impl vezgo::Handler for Flaky {
    async fn on_sync_account(&self, event: vezgo::SyncAccount, _: &Delivery) -> Handled {
        let account = event.account.id.to_string();
        if self.hang {
            std::future::pending::<()>().await;
        }
        {
            let mut fail = self.fail.lock().unwrap();
            if let Some(left) = fail.get_mut(&account).filter(|n| **n > 0) {
                *left -= 1;
                return Err(HandlerError::new(format!("{account} is not ready")));
            }
        }
        self.succeeded.lock().unwrap().push(account);
        Ok(())
    }
}

fn sync_account(account: &str, received_at: SystemTime) -> NewDelivery {
    let body = format!(
        r#"{{"hook":"SyncAccount","user":{{"id":"u1","loginName":"a@example.com"}},"account":{{"id":"{account}","provider":"coinbase"}}}}"#
    );
    NewDelivery {
        provider: "vezgo".to_owned(),
        event: "SyncAccount".to_owned(),
        idempotency_key: hookspec::runtime::body_digest(body.as_bytes()),
        headers: vec![("content-type".to_owned(), "application/json".to_owned())],
        body: body.into_bytes(),
        peer: None,
        received_at,
    }
}

fn quick() -> WorkerConfig {
    WorkerConfig {
        name: "test".to_owned(),
        batch: 4,
        lease: Duration::from_secs(5),
        handler_timeout: Duration::from_secs(2),
        max_attempts: 3,
        backoff: Backoff {
            base: Duration::from_millis(10),
            max: Duration::from_millis(40),
        },
        idle_poll: Duration::from_millis(20),
        retention: None,
    }
}

async fn inbox() -> (Inbox<SqliteStore>, ManualClock, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::starting_now();
    let store = SqliteStore::open(dir.path().join("inbox.db").to_str().unwrap())
        .await
        .unwrap()
        .with_clock(clock.clone());
    (Inbox::new(store), clock, dir)
}

/// Waits until nothing is pending or claimed, moving the clock past the longest backoff
/// on each look so that retries come due. 20 s: the work takes well under a second.
async fn settled(inbox: &Inbox<SqliteStore>, clock: &ManualClock) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let stats = inbox.store().stats().await.unwrap();
        if stats.count(State::Pending) + stats.count(State::Processing) == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "not settled: {stats:?}");
        clock.advance(quick().backoff.max);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn by_account(inbox: &Inbox<SqliteStore>) -> BTreeMap<String, (State, u32, Option<String>)> {
    let all = inbox.store().list(&Filter::default(), 100).await.unwrap();
    all.into_iter()
        .map(|d| {
            let body: serde_json::Value = serde_json::from_slice(&d.delivery.body).unwrap();
            let account = body["account"]["id"].as_str().unwrap_or("?").to_owned();
            (account, (d.state, d.attempts, d.last_error))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_retried_until_they_succeed_or_are_dead_lettered() {
    let (inbox, clock, _dir) = inbox().await;
    let handler = Flaky::default();
    handler
        .fail
        .lock()
        .unwrap()
        .extend([("b".to_owned(), 2), ("c".to_owned(), 99)]);
    for account in ["a", "b", "c"] {
        assert_eq!(
            inbox
                .store()
                .put(sync_account(account, clock.now()))
                .await
                .unwrap(),
            Put::Stored
        );
    }
    let pool = inbox
        .workers(quick())
        .serve(vezgo::Webhooks, Handling::new(handler))
        .spawn(2);
    settled(&inbox, &clock).await;
    pool.shutdown().await;
    let seen = by_account(&inbox).await;
    assert_eq!(seen["a"], (State::Done, 1, None));
    assert_eq!(seen["b"], (State::Done, 3, None));
    assert_eq!(seen["c"].0, State::Dead);
    assert_eq!(seen["c"].1, 3);
    assert_eq!(seen["c"].2.as_deref(), Some("c is not ready"));
    let counts = inbox.metrics().counts();
    assert_eq!(
        (counts.processed, counts.retried, counts.dead_lettered),
        (2, 4, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_slower_than_its_timeout_is_retried_then_dead_lettered() {
    let (inbox, clock, _dir) = inbox().await;
    let handler = Flaky {
        hang: true,
        ..Flaky::default()
    };
    inbox
        .store()
        .put(sync_account("slow", clock.now()))
        .await
        .unwrap();
    let config = WorkerConfig {
        handler_timeout: Duration::from_millis(50),
        max_attempts: 2,
        ..quick()
    };
    let pool = inbox
        .workers(config)
        .serve(vezgo::Webhooks, Handling::new(handler))
        .spawn(1);
    settled(&inbox, &clock).await;
    pool.shutdown().await;
    let (state, attempts, error) = by_account(&inbox).await.remove("slow").unwrap();
    assert_eq!((state, attempts), (State::Dead, 2));
    assert!(error.unwrap().contains("did not finish within 50 ms"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_body_that_no_longer_parses_is_dead_lettered_at_once() {
    let (inbox, clock, _dir) = inbox().await;
    let mut broken = sync_account("x", clock.now());
    broken.body = br#"{"hook":"SyncAccount","user":7}"#.to_vec();
    inbox.store().put(broken).await.unwrap();
    let pool = inbox
        .workers(quick())
        .serve(vezgo::Webhooks, Handling::new(Flaky::default()))
        .spawn(1);
    settled(&inbox, &clock).await;
    pool.shutdown().await;
    let all = inbox.store().list(&Filter::default(), 10).await.unwrap();
    assert_eq!((all[0].state, all[0].attempts), (State::Dead, 1));
    assert!(all[0]
        .last_error
        .as_deref()
        .unwrap()
        .contains("does not parse"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handled_deliveries_past_the_retention_are_purged_and_dead_letters_kept() {
    let (inbox, clock, _dir) = inbox().await;
    let handler = Flaky::default();
    handler.fail.lock().unwrap().insert("dead".to_owned(), 99);
    inbox
        .store()
        .put(sync_account("old", clock.now()))
        .await
        .unwrap();
    clock.advance(Duration::from_secs(3600));
    for account in ["fresh", "dead"] {
        let d = sync_account(account, clock.now());
        inbox.store().put(d).await.unwrap();
    }
    let config = WorkerConfig {
        max_attempts: 1,
        retention: Some(Duration::from_secs(60)),
        ..quick()
    };
    let workers = inbox
        .workers(config)
        .serve(vezgo::Webhooks, Handling::new(handler));
    while workers.run_once("w").await.unwrap() > 0 {}
    workers.purge_expired().await;
    let left: Vec<(String, State)> = by_account(&inbox)
        .await
        .into_iter()
        .map(|(account, (state, ..))| (account, state))
        .collect();
    assert_eq!(
        left,
        [
            ("dead".to_owned(), State::Dead),
            ("fresh".to_owned(), State::Done)
        ]
    );
}
