//! The Postgres backend against the store contract, on the server `.ci/run` names in
//! `HOOKSPEC_TEST_POSTGRES_URL` (skipped, saying so, where it is not set). Each test
//! works in a schema of its own and drops it.

use std::time::Duration;

use hookspec_inbox::postgres::PostgresStore;
use hookspec_inbox::ManualClock;

/// A store in a fresh schema, and the schema's name.
async fn fresh(url: &str) -> (PostgresStore, String) {
    use rand_core::RngCore;
    // Random, not time-based: tests of one process and concurrent runs never share one.
    let schema = format!("hookspec_test_{:08x}", rand_core::OsRng.next_u32());
    let store = PostgresStore::open_in(url, &schema, Duration::from_secs(5))
        .await
        .unwrap();
    (store, schema)
}

async fn drop_schema(store: &PostgresStore, schema: &str) {
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(store.pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn postgres_keeps_the_store_contract() {
    let Some(url) = crate::common::server_url("HOOKSPEC_TEST_POSTGRES_URL", "Postgres") else {
        return;
    };
    let (store, schema) = fresh(&url).await;
    let clock = ManualClock::starting_now();
    let store = store.with_clock(clock.clone());
    crate::common::contract(&store, &clock, "vezgo").await;
    drop_schema(&store, &schema).await;
}

#[tokio::test]
async fn a_schema_name_that_is_not_an_identifier_is_refused() {
    let err = PostgresStore::open_in(
        "postgres://127.0.0.1/test",
        "x; DROP TABLE y",
        Duration::from_secs(1),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("not a schema name"), "{err}");
}
