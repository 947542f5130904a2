//! The `hookspec-inbox` operations CLI on a SQLite inbox prepared through the library:
//! what it lists and shows, and that retry, replay and purge change exactly what their
//! filters name.

use std::process::Command;
use std::time::Duration;

use hookspec_inbox::sqlite::SqliteStore;
use hookspec_inbox::{Retry, State, Store};

const BIN: &str = env!("CARGO_BIN_EXE_hookspec-inbox");

fn cli(store: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .arg("--store")
        .arg(store)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// An inbox with one done, one dead and one pending delivery (keys `done`, `dead`,
/// `pending`).
async fn prepared(path: &str) {
    let store = SqliteStore::open(path).await.unwrap();
    for key in ["done", "dead", "pending"] {
        store
            .put(crate::common::delivery("vezgo", key))
            .await
            .unwrap();
    }
    let claimed = store
        .claim("w", &["vezgo".to_owned()], 2, Duration::from_secs(60))
        .await
        .unwrap();
    for c in &claimed {
        match c.stored.delivery.idempotency_key.as_str() {
            "done" => assert!(store.complete(c).await.unwrap()),
            _ => assert!(store.fail(c, "gave up", Retry::Dead).await.unwrap()),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_lists_shows_retries_replays_and_purges() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inbox.db");
    prepared(path.to_str().unwrap()).await;
    let url = format!("sqlite://{}", path.display());

    let (code, out, err) = cli(&url, &["stats"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("pending    1")
            && out.contains("done       1")
            && out.contains("dead       1"),
        "{out}"
    );
    assert!(out.contains("oldest pending: 20"), "{out}");

    let (code, out, _) = cli(&url, &["list", "--state", "dead", "--format", "json"]);
    assert_eq!(code, 0);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert_eq!(lines[0]["idempotency_key"], "dead");
    assert_eq!(lines[0]["last_error"], "gave up");
    let id = lines[0]["id"].as_u64().unwrap().to_string();

    let (code, out, _) = cli(&url, &["show", &id]);
    assert_eq!(code, 0);
    let shown: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        shown["body"],
        String::from_utf8(crate::common::delivery("vezgo", "dead").body).unwrap()
    );
    assert_eq!(shown["headers"][1], serde_json::json!(["x-client-id", "c"]));
    let (code, _, err) = cli(&url, &["show", "999999"]);
    assert_ne!(code, 0);
    assert!(err.contains("no delivery 999999"), "{err}");

    // retry touches dead letters only; replay touches handled ones of the named provider.
    let (code, out, _) = cli(&url, &["retry"]);
    assert_eq!((code, out.trim()), (0, "1 dead letters pending again"));
    let (code, out, _) = cli(&url, &["replay", "--provider", "someone-else"]);
    assert_eq!((code, out.trim()), (0, "0 deliveries to be handled again"));
    let (code, out, _) = cli(&url, &["replay", "--provider", "vezgo", "--since", "1h"]);
    assert_eq!((code, out.trim()), (0, "1 deliveries to be handled again"));
    let store = SqliteStore::open(path.to_str().unwrap()).await.unwrap();
    assert_eq!(store.stats().await.unwrap().count(State::Pending), 3);

    // purge wants a filter; retention by age; then everything.
    let (code, _, err) = cli(&url, &["purge"]);
    assert_ne!(code, 0);
    assert!(err.contains("purge needs a filter"), "{err}");
    let (code, out, _) = cli(&url, &["purge", "--older-than", "1h"]);
    assert_eq!((code, out.trim()), (0, "0 deliveries purged"));
    let (code, out, _) = cli(&url, &["purge", "--all"]);
    assert_eq!((code, out.trim()), (0, "3 deliveries purged"));
    assert!(store
        .list(&Default::default(), 10)
        .await
        .unwrap()
        .is_empty());
}

#[test]
fn a_store_url_of_no_backend_is_a_clear_error() {
    let (code, _, err) = cli("mysql://localhost/x", &["stats"]);
    assert_ne!(code, 0);
    assert!(err.contains("names no inbox backend"), "{err}");
    let (code, _, err) = cli("sqlite:///tmp", &["list", "--state", "lost"]);
    assert_ne!(code, 0);
    assert!(err.contains("not a state"), "{err}");
}
