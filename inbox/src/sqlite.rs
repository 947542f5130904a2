//! The embedded backend: one SQLite file in WAL mode with `synchronous=FULL`, so a
//! committed delivery survives a crash of the process or the machine.
//!
//! Writes (stores, completions, failures) go to one writer task that takes whatever is
//! queued, applies it in one `BEGIN IMMEDIATE` transaction and commits once: under load
//! many deliveries share a sync, and each caller hears back only after the commit that
//! holds its write. Claims, listings and operations run on a small pool beside it (WAL
//! lets readers run during a write; writers wait on SQLite's busy timeout).

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use crate::clock::{Clock, SharedClock};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Connection, QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use crate::sql::{
    decode, failed, headers_json, lease_token, push_filter, stats_of, SqlLease, COLUMNS,
};
use crate::store::{
    to_ms, Claimed, Filter, NewDelivery, Put, Retry, State, Stats, Store, StoreError,
    StoredDelivery,
};

/// The most writes one transaction takes.
const MAX_BATCH: usize = 256;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS hookspec_deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        provider TEXT NOT NULL,
        event TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        headers TEXT NOT NULL,
        body BLOB NOT NULL,
        peer TEXT,
        received_at INTEGER NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        lease_owner TEXT,
        lease_token INTEGER,
        lease_until INTEGER,
        last_error TEXT,
        done_at INTEGER,
        UNIQUE (provider, idempotency_key)
    )",
    "CREATE INDEX IF NOT EXISTS hookspec_deliveries_due
        ON hookspec_deliveries (state, next_attempt_at)",
    "CREATE INDEX IF NOT EXISTS hookspec_deliveries_received
        ON hookspec_deliveries (received_at)",
];

enum Write {
    Put(NewDelivery),
    Complete {
        id: i64,
        token: i64,
        at: i64,
    },
    Fail {
        id: i64,
        token: i64,
        error: String,
        retry: Retry,
        at: i64,
    },
}

enum Written {
    Put(Put),
    Changed(bool),
}

type Reply = oneshot::Sender<Result<Written, StoreError>>;

/// A SQLite inbox.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writes: mpsc::Sender<(Write, Reply)>,
    pool: SqlitePool,
    clock: SharedClock,
}

impl std::fmt::Debug for Write {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Write::Put(_) => "Put",
            Write::Complete { .. } => "Complete",
            Write::Fail { .. } => "Fail",
        })
    }
}

impl SqliteStore {
    /// Opens (creating it and its table when missing) the database at `path`.
    pub async fn open(path: &str) -> Result<Self, StoreError> {
        Self::open_with(path, Duration::from_secs(5)).await
    }

    /// Opens the database at `path`, waiting at most `busy` for another connection's
    /// write lock before a write fails (and a delivery is answered 503).
    pub async fn open_with(path: &str, busy: Duration) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))
            .map_err(failed("reading the SQLite path"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(busy);
        let mut writer = SqliteConnection::connect_with(&options)
            .await
            .map_err(failed("opening the SQLite inbox"))?;
        for statement in SCHEMA {
            sqlx::query(*statement)
                .execute(&mut writer)
                .await
                .map_err(failed("creating the inbox table"))?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(failed("opening the SQLite inbox"))?;
        let (writes, queue) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(write_loop(writer, queue));
        Ok(SqliteStore {
            writes,
            pool,
            clock: crate::clock::system(),
        })
    }

    /// The same store reading the time from `clock` (leases, retry and completion times).
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = std::sync::Arc::new(clock);
        self
    }

    async fn write(&self, write: Write) -> Result<Written, StoreError> {
        let (reply, answer) = oneshot::channel();
        let gone = || StoreError::new("the SQLite writer has stopped");
        self.writes.send((write, reply)).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

async fn write_loop(mut conn: SqliteConnection, mut queue: mpsc::Receiver<(Write, Reply)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = queue.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        match apply(&mut conn, &batch).await {
            Ok(results) => {
                for ((_, reply), result) in batch.drain(..).zip(results) {
                    let _ = reply.send(result);
                }
            }
            Err(e) => {
                for (_, reply) in batch.drain(..) {
                    let _ = reply.send(Err(StoreError::new(e.to_string())));
                }
            }
        }
    }
}

/// Applies a batch in one transaction; the outer error is the transaction's (nothing in
/// the batch is durable), the inner ones each write's own.
async fn apply(
    conn: &mut SqliteConnection,
    batch: &[(Write, Reply)],
) -> Result<Vec<Result<Written, StoreError>>, StoreError> {
    let mut tx = conn
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(failed("starting a write"))?;
    let mut results = Vec::with_capacity(batch.len());
    for (write, _) in batch {
        results.push(apply_one(&mut tx, write).await);
    }
    tx.commit().await.map_err(failed("committing"))?;
    Ok(results)
}

async fn apply_one(conn: &mut SqliteConnection, write: &Write) -> Result<Written, StoreError> {
    match write {
        Write::Put(d) => {
            let done = sqlx::query(
                "INSERT INTO hookspec_deliveries (provider, event, idempotency_key, headers, \
                 body, peer, received_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (provider, idempotency_key) DO NOTHING",
            )
            .bind(&d.provider)
            .bind(&d.event)
            .bind(&d.idempotency_key)
            .bind(headers_json(&d.headers))
            .bind(&d.body)
            .bind(d.peer.map(|p| p.to_string()))
            .bind(to_ms(d.received_at))
            .bind(to_ms(d.received_at))
            .execute(&mut *conn)
            .await
            .map_err(failed("storing a delivery"))?;
            Ok(Written::Put(match done.rows_affected() {
                0 => Put::Duplicate,
                _ => Put::Stored,
            }))
        }
        Write::Complete { id, token, at } => {
            let done = sqlx::query(
                "UPDATE hookspec_deliveries SET state = 'done', done_at = ?, last_error = NULL, \
                 lease_owner = NULL, lease_token = NULL, lease_until = NULL \
                 WHERE id = ? AND state = 'processing' AND lease_token = ?",
            )
            .bind(at)
            .bind(id)
            .bind(token)
            .execute(&mut *conn)
            .await
            .map_err(failed("completing a delivery"))?;
            Ok(Written::Changed(done.rows_affected() == 1))
        }
        Write::Fail {
            id,
            token,
            error,
            retry,
            at,
        } => {
            let (state, at) = match retry {
                Retry::At(t) => (State::Pending, to_ms(*t)),
                Retry::Dead => (State::Dead, *at),
            };
            let done = sqlx::query(
                "UPDATE hookspec_deliveries SET state = ?, next_attempt_at = ?, last_error = ?, \
                 lease_owner = NULL, lease_token = NULL, lease_until = NULL \
                 WHERE id = ? AND state = 'processing' AND lease_token = ?",
            )
            .bind(state.as_str())
            .bind(at)
            .bind(error)
            .bind(id)
            .bind(token)
            .execute(&mut *conn)
            .await
            .map_err(failed("recording a failed attempt"))?;
            Ok(Written::Changed(done.rows_affected() == 1))
        }
    }
}

fn row_id(stored: &StoredDelivery) -> i64 {
    i64::try_from(stored.id).unwrap_or(-1)
}

impl Store for SqliteStore {
    type Lease = SqlLease;

    async fn put(&self, delivery: NewDelivery) -> Result<Put, StoreError> {
        match self.write(Write::Put(delivery)).await? {
            Written::Put(put) => Ok(put),
            Written::Changed(_) => Err(StoreError::new("the writer answered out of turn")),
        }
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
        let providers = serde_json::to_string(providers).unwrap_or_default();
        let rows = sqlx::query(AssertSqlSafe(format!(
            "UPDATE hookspec_deliveries SET state = 'processing', attempts = attempts + 1, \
             lease_owner = ?, lease_token = ?, lease_until = ? \
             WHERE id IN (SELECT id FROM hookspec_deliveries \
                 WHERE provider IN (SELECT value FROM json_each(?)) \
                 AND ((state = 'pending' AND next_attempt_at <= ?) \
                      OR (state = 'processing' AND lease_until <= ?)) \
                 ORDER BY next_attempt_at, id LIMIT ?) \
             RETURNING {COLUMNS}"
        )))
        .bind(worker)
        .bind(token)
        .bind(now.saturating_add(lease.as_millis() as i64))
        .bind(providers)
        .bind(now)
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
        let write = Write::Complete {
            id: row_id(&claimed.stored),
            token: claimed.lease.token,
            at: to_ms(self.clock.now()),
        };
        match self.write(write).await? {
            Written::Changed(changed) => Ok(changed),
            Written::Put(_) => Err(StoreError::new("the writer answered out of turn")),
        }
    }

    async fn fail(
        &self,
        claimed: &Claimed<SqlLease>,
        error: &str,
        retry: Retry,
    ) -> Result<bool, StoreError> {
        let write = Write::Fail {
            id: row_id(&claimed.stored),
            token: claimed.lease.token,
            error: error.to_owned(),
            retry,
            at: to_ms(self.clock.now()),
        };
        match self.write(write).await? {
            Written::Changed(changed) => Ok(changed),
            Written::Put(_) => Err(StoreError::new("the writer answered out of turn")),
        }
    }

    fn now(&self) -> SystemTime {
        self.clock.now()
    }

    crate::sql::shared_operations!(Sqlite);
}
