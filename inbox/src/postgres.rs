//! The backend for several receiver replicas and workers: one Postgres table.
//!
//! A delivery is durable once its `INSERT` commits (with `synchronous_commit` as the
//! server has it; on by default). Claims are one `UPDATE … WHERE id IN (SELECT … FOR
//! UPDATE SKIP LOCKED)`: concurrent workers take disjoint rows without waiting on each
//! other. Tables live in a schema of their own (`hookspec` unless told otherwise), so
//! several inboxes can share a database.

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use crate::clock::{Clock, SharedClock};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, PgPool, Postgres, QueryBuilder, Row};

use crate::sql::{
    decode, failed, headers_json, lease_token, push_filter, stats_of, SqlLease, COLUMNS,
};
use crate::store::{
    to_ms, Claimed, Filter, NewDelivery, Put, Retry, State, Stats, Store, StoreError,
    StoredDelivery,
};

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS hookspec_deliveries (
        id BIGSERIAL PRIMARY KEY,
        provider TEXT NOT NULL,
        event TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        headers TEXT NOT NULL,
        body BYTEA NOT NULL,
        peer TEXT,
        received_at BIGINT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts BIGINT NOT NULL DEFAULT 0,
        next_attempt_at BIGINT NOT NULL,
        lease_owner TEXT,
        lease_token BIGINT,
        lease_until BIGINT,
        last_error TEXT,
        done_at BIGINT,
        UNIQUE (provider, idempotency_key)
    )",
    "CREATE INDEX IF NOT EXISTS hookspec_deliveries_due
        ON hookspec_deliveries (state, next_attempt_at)",
    "CREATE INDEX IF NOT EXISTS hookspec_deliveries_received
        ON hookspec_deliveries (received_at)",
];

/// A Postgres inbox.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    clock: SharedClock,
}

impl PostgresStore {
    /// Connects to `url` and creates the schema `hookspec` and its table when missing.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_in(url, "hookspec", Duration::from_secs(5)).await
    }

    /// Connects to `url` with the inbox in `schema` (letters, digits and `_` only), a
    /// connection taking at most `connect_timeout` to come (a delivery waiting on a
    /// database that does not answer is answered 503 after it).
    pub async fn open_in(
        url: &str,
        schema: &str,
        connect_timeout: Duration,
    ) -> Result<Self, StoreError> {
        if schema.is_empty()
            || !schema
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(StoreError::new(format!(
                "{schema:?} is not a schema name the inbox uses (letters, digits and _)"
            )));
        }
        let options = PgConnectOptions::from_str(url)
            .map_err(failed("reading the Postgres URL"))?
            .options([("search_path", schema)]);
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(connect_timeout)
            .connect_with(options)
            .await
            .map_err(failed("connecting to Postgres"))?;
        let create = format!("CREATE SCHEMA IF NOT EXISTS {schema}");
        // Two replicas starting together may both create: the loser's error is harmless
        // once the objects exist, so each statement is retried once.
        for statement in std::iter::once(create.as_str()).chain(SCHEMA.iter().copied()) {
            let run = || sqlx::query(AssertSqlSafe(statement.to_owned())).execute(&pool);
            if run().await.is_err() {
                run().await.map_err(failed("creating the inbox table"))?;
            }
        }
        Ok(PostgresStore {
            pool,
            clock: crate::clock::system(),
        })
    }

    /// The same store reading the time from `clock` (leases, retry and completion times).
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = std::sync::Arc::new(clock);
        self
    }

    /// The connection pool (for tests and operations that need SQL of their own).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

fn row_id(stored: &StoredDelivery) -> i64 {
    i64::try_from(stored.id).unwrap_or(-1)
}

impl Store for PostgresStore {
    type Lease = SqlLease;

    async fn put(&self, d: NewDelivery) -> Result<Put, StoreError> {
        let done = sqlx::query(
            "INSERT INTO hookspec_deliveries (provider, event, idempotency_key, headers, body, \
             peer, received_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
             ON CONFLICT (provider, idempotency_key) DO NOTHING",
        )
        .bind(&d.provider)
        .bind(&d.event)
        .bind(&d.idempotency_key)
        .bind(headers_json(&d.headers))
        .bind(&d.body)
        .bind(d.peer.map(|p| p.to_string()))
        .bind(to_ms(d.received_at))
        .execute(&self.pool)
        .await
        .map_err(failed("storing a delivery"))?;
        Ok(match done.rows_affected() {
            0 => Put::Duplicate,
            _ => Put::Stored,
        })
    }

    async fn claim(
        &self,
        worker: &str,
        providers: &[String],
        max: usize,
        lease: Duration,
    ) -> Result<Vec<Claimed<SqlLease>>, StoreError> {
        let now = to_ms(self.clock.now());
        let token = lease_token();
        let rows = sqlx::query(AssertSqlSafe(format!(
            "UPDATE hookspec_deliveries SET state = 'processing', attempts = attempts + 1, \
             lease_owner = $1, lease_token = $2, lease_until = $3 \
             WHERE id IN (SELECT id FROM hookspec_deliveries \
                 WHERE provider = ANY($4) \
                 AND ((state = 'pending' AND next_attempt_at <= $5) \
                      OR (state = 'processing' AND lease_until <= $5)) \
                 ORDER BY next_attempt_at, id LIMIT $6 \
                 FOR UPDATE SKIP LOCKED) \
             RETURNING {COLUMNS}"
        )))
        .bind(worker)
        .bind(token)
        .bind(now.saturating_add(lease.as_millis() as i64))
        .bind(providers)
        .bind(now)
        .bind(max as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(failed("claiming deliveries"))?;
        let mut claimed = rows
            .iter()
            .map(|row| {
                Ok(Claimed {
                    stored: decode(row)?,
                    lease: SqlLease { token },
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        claimed.sort_by_key(|c| (c.stored.next_attempt_at, c.stored.id));
        Ok(claimed)
    }

    async fn complete(&self, claimed: &Claimed<SqlLease>) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE hookspec_deliveries SET state = 'done', done_at = $1, last_error = NULL, \
             lease_owner = NULL, lease_token = NULL, lease_until = NULL \
             WHERE id = $2 AND state = 'processing' AND lease_token = $3",
        )
        .bind(to_ms(self.clock.now()))
        .bind(row_id(&claimed.stored))
        .bind(claimed.lease.token)
        .execute(&self.pool)
        .await
        .map_err(failed("completing a delivery"))?;
        Ok(done.rows_affected() == 1)
    }

    async fn fail(
        &self,
        claimed: &Claimed<SqlLease>,
        error: &str,
        retry: Retry,
    ) -> Result<bool, StoreError> {
        let (state, at) = match retry {
            Retry::At(t) => (State::Pending, to_ms(t)),
            Retry::Dead => (State::Dead, to_ms(self.clock.now())),
        };
        let done = sqlx::query(
            "UPDATE hookspec_deliveries SET state = $1, next_attempt_at = $2, last_error = $3, \
             lease_owner = NULL, lease_token = NULL, lease_until = NULL \
             WHERE id = $4 AND state = 'processing' AND lease_token = $5",
        )
        .bind(state.as_str())
        .bind(at)
        .bind(error)
        .bind(row_id(&claimed.stored))
        .bind(claimed.lease.token)
        .execute(&self.pool)
        .await
        .map_err(failed("recording a failed attempt"))?;
        Ok(done.rows_affected() == 1)
    }

    fn now(&self) -> SystemTime {
        self.clock.now()
    }

    crate::sql::shared_operations!(Postgres);
}
