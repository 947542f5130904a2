//! The SQLite backend against the store contract, and its durability rules.

use hookspec_inbox::sqlite::SqliteStore;
use hookspec_inbox::{ManualClock, Put, State, Store};

#[tokio::test]
async fn sqlite_keeps_the_store_contract() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inbox.db");
    let clock = ManualClock::starting_now();
    let store = SqliteStore::open(path.to_str().unwrap())
        .await
        .unwrap()
        .with_clock(clock.clone());
    crate::common::contract(&store, &clock, "vezgo").await;
}

/// What was stored is there after the store is dropped and opened again.
#[tokio::test]
async fn stored_deliveries_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inbox.db");
    let path = path.to_str().unwrap();
    {
        let store = SqliteStore::open(path).await.unwrap();
        for i in 0..50 {
            let put = store
                .put(crate::common::delivery("vezgo", &format!("k{i}")))
                .await
                .unwrap();
            assert_eq!(put, Put::Stored);
        }
    }
    let store = SqliteStore::open(path).await.unwrap();
    assert_eq!(store.stats().await.unwrap().count(State::Pending), 50);
    assert_eq!(
        store
            .put(crate::common::delivery("vezgo", "k7"))
            .await
            .unwrap(),
        Put::Duplicate
    );
}

/// Many concurrent puts share commits, and each one's answer is its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_puts_each_get_their_own_answer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inbox.db");
    let store = std::sync::Arc::new(SqliteStore::open(path.to_str().unwrap()).await.unwrap());
    let mut tasks = Vec::new();
    for i in 0..400 {
        let store = store.clone();
        // Every key twice: exactly one of each pair is stored.
        tasks.push(tokio::spawn(async move {
            store
                .put(crate::common::delivery("vezgo", &format!("k{}", i / 2)))
                .await
                .unwrap()
        }));
    }
    let mut stored = 0;
    for t in tasks {
        if t.await.unwrap() == Put::Stored {
            stored += 1;
        }
    }
    assert_eq!(stored, 200);
    assert_eq!(store.stats().await.unwrap().count(State::Pending), 200);
}
