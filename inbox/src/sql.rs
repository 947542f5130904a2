//! What the SQL backends share: the filter as a `WHERE` clause and a row as a
//! [`StoredDelivery`]. Both store times as Unix milliseconds and counts as 64-bit integers,
//! so one decoder reads rows of either.

use sqlx::{ColumnIndex, Database, Decode, QueryBuilder, Row, Type};

use crate::store::Stats;
use crate::store::{from_ms, Filter, NewDelivery, State, StoreError, StoredDelivery};

/// A claim on a row: the random token the claim wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqlLease {
    /// The token.
    pub token: i64,
}

/// The columns every query that returns deliveries selects, in [`decode`]'s order.
pub(crate) const COLUMNS: &str = "id, provider, event, idempotency_key, headers, body, peer, \
     received_at, state, attempts, next_attempt_at, last_error, done_at";

/// Appends `WHERE …` for `filter` (always a clause, `TRUE` when it filters nothing).
pub(crate) fn push_filter<DB: Database>(qb: &mut QueryBuilder<DB>, filter: &Filter)
where
    for<'t> i64: sqlx::Encode<'t, DB> + Type<DB>,
    for<'t> String: sqlx::Encode<'t, DB> + Type<DB>,
{
    qb.push(" WHERE 1 = 1");
    if let Some(p) = &filter.provider {
        qb.push(" AND provider = ").push_bind(p.clone());
    }
    if let Some(e) = &filter.event {
        qb.push(" AND event = ").push_bind(e.clone());
    }
    if !filter.states.is_empty() {
        qb.push(" AND state IN (");
        let mut sep = qb.separated(", ");
        for s in &filter.states {
            sep.push_bind(s.as_str().to_owned());
        }
        qb.push(")");
    }
    if let Some(t) = filter.since {
        qb.push(" AND received_at >= ")
            .push_bind(crate::store::to_ms(t));
    }
    if let Some(t) = filter.until {
        qb.push(" AND received_at < ")
            .push_bind(crate::store::to_ms(t));
    }
    if let Some(id) = filter.id {
        qb.push(" AND id = ")
            .push_bind(i64::try_from(id).unwrap_or(-1));
    }
}

/// A row of [`COLUMNS`] as a delivery.
pub(crate) fn decode<'r, R: Row>(row: &'r R) -> Result<StoredDelivery, StoreError>
where
    usize: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
{
    let bad = |e: sqlx::Error| StoreError::new(format!("reading a stored delivery: {e}"));
    let headers: String = row.try_get(4).map_err(bad)?;
    let headers: Vec<(String, String)> = serde_json::from_str(&headers)
        .map_err(|e| StoreError::new(format!("a stored delivery's headers: {e}")))?;
    let peer: Option<String> = row.try_get(6).map_err(bad)?;
    let state: String = row.try_get(8).map_err(bad)?;
    let id: i64 = row.try_get(0).map_err(bad)?;
    let attempts: i64 = row.try_get(9).map_err(bad)?;
    let done_at: Option<i64> = row.try_get(12).map_err(bad)?;
    Ok(StoredDelivery {
        id: u64::try_from(id).unwrap_or_default(),
        delivery: NewDelivery {
            provider: row.try_get(1).map_err(bad)?,
            event: row.try_get(2).map_err(bad)?,
            idempotency_key: row.try_get(3).map_err(bad)?,
            headers,
            body: row.try_get(5).map_err(bad)?,
            peer: peer.and_then(|p| p.parse().ok()),
            received_at: from_ms(row.try_get(7).map_err(bad)?),
        },
        state: State::parse(&state)
            .ok_or_else(|| StoreError::new(format!("a stored delivery in state {state:?}")))?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        next_attempt_at: from_ms(row.try_get(10).map_err(bad)?),
        last_error: row.try_get(11).map_err(bad)?,
        done_at: done_at.map(from_ms),
    })
}

/// The headers column's text.
pub(crate) fn headers_json(headers: &[(String, String)]) -> String {
    serde_json::to_string(headers).unwrap_or_else(|_| "[]".to_owned())
}

/// A random claim token: completing or failing a claim names it, so a worker whose lease
/// was taken over cannot overwrite the new holder's outcome.
pub(crate) fn lease_token() -> i64 {
    use rand_core::RngCore;
    (rand_core::OsRng.next_u64() >> 1) as i64
}

/// A store error from a database error, with what was being done.
pub(crate) fn failed(doing: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| StoreError::new(format!("{doing}: {e}"))
}

/// Stats from `(state, count, oldest pending received_at)` per state.
pub(crate) fn stats_of(
    rows: impl Iterator<Item = Result<(String, i64, Option<i64>), StoreError>>,
) -> Result<Stats, StoreError> {
    let mut stats = Stats::default();
    for row in rows {
        let (state, count, oldest) = row?;
        if let Some(state) = State::parse(&state) {
            stats.by_state.push((state, count.unsigned_abs()));
        }
        if let Some(ms) = oldest {
            stats.oldest_pending = Some(crate::store::from_ms(ms));
        }
    }
    stats.by_state.sort();
    Ok(stats)
}

/// The `Store` methods whose SQL is the same on SQLite and Postgres (`list`, `requeue`,
/// `purge`, `stats`), for a store with a `pool` of database `$db`; expanded inside each
/// backend's `impl Store`.
macro_rules! shared_operations {
    ($db:ty) => {
        async fn list(&self, filter: &Filter, limit: usize) -> Result<Vec<StoredDelivery>, StoreError> {
            let mut qb =
                QueryBuilder::<$db>::new(format!("SELECT {COLUMNS} FROM hookspec_deliveries"));
            push_filter(&mut qb, filter);
            qb.push(" ORDER BY id LIMIT ").push_bind(limit as i64);
            let rows = qb
                .build()
                .fetch_all(&self.pool)
                .await
                .map_err(failed("listing deliveries"))?;
            rows.iter().map(decode).collect()
        }

        async fn requeue(&self, filter: &Filter) -> Result<u64, StoreError> {
            let mut qb = QueryBuilder::<$db>::new(
                "UPDATE hookspec_deliveries SET state = 'pending', attempts = 0, next_attempt_at = ",
            );
            qb.push_bind(to_ms(self.clock.now()));
            qb.push(", done_at = NULL, lease_owner = NULL, lease_token = NULL, lease_until = NULL");
            push_filter(&mut qb, filter);
            let done = qb
                .build()
                .execute(&self.pool)
                .await
                .map_err(failed("requeueing deliveries"))?;
            Ok(done.rows_affected())
        }

        async fn purge(&self, filter: &Filter) -> Result<u64, StoreError> {
            let mut qb = QueryBuilder::<$db>::new("DELETE FROM hookspec_deliveries");
            push_filter(&mut qb, filter);
            let done = qb
                .build()
                .execute(&self.pool)
                .await
                .map_err(failed("purging deliveries"))?;
            Ok(done.rows_affected())
        }

        async fn stats(&self) -> Result<Stats, StoreError> {
            let rows = sqlx::query(
                "SELECT state, COUNT(*), MIN(CASE WHEN state = 'pending' THEN received_at END) \
                 FROM hookspec_deliveries GROUP BY state",
            )
            .fetch_all(&self.pool)
            .await
            .map_err(failed("counting deliveries"))?;
            stats_of(rows.iter().map(|row| {
                Ok((
                    row.try_get(0).map_err(failed("counting deliveries"))?,
                    row.try_get(1).map_err(failed("counting deliveries"))?,
                    row.try_get(2).map_err(failed("counting deliveries"))?,
                ))
            }))
        }
    };
}
pub(crate) use shared_operations;
