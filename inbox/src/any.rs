//! The backend chosen by URL, as one [`Store`].

use std::time::Duration;

use crate::postgres::PostgresStore;
use crate::sql::SqlLease;
use crate::sqlite::SqliteStore;
use crate::store::{
    Claimed, Filter, NewDelivery, Put, Retry, Stats, Store, StoreError, StoredDelivery,
};

/// Any backend.
#[derive(Debug, Clone)]
pub enum AnyStore {
    /// `sqlite://PATH`.
    Sqlite(SqliteStore),
    /// `postgres://…` (or `postgresql://…`).
    Postgres(PostgresStore),
}

/// A claim's handle in any backend.
#[derive(Debug)]
pub enum AnyLease {
    /// A row's claim token (SQLite, Postgres).
    Sql(SqlLease),
}

impl AnyStore {
    /// Opens the store `url` names.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            return Ok(AnyStore::Sqlite(SqliteStore::open(path).await?));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(AnyStore::Postgres(PostgresStore::open(url).await?));
        }
        Err(StoreError::new(format!(
            "{url:?} names no inbox backend: use sqlite://PATH, postgres://… or nats://HOST:PORT"
        )))
    }
}

/// Runs `$body` with `$s` bound to the backend, whichever it is.
macro_rules! each {
    ($self:ident, $s:ident => $body:expr) => {
        match $self {
            AnyStore::Sqlite($s) => $body,
            AnyStore::Postgres($s) => $body,
        }
    };
}

fn wrap(claimed: Vec<Claimed<SqlLease>>) -> Vec<Claimed<AnyLease>> {
    claimed
        .into_iter()
        .map(|c| Claimed {
            stored: c.stored,
            lease: AnyLease::Sql(c.lease),
        })
        .collect()
}

/// The claim with its SQL token, for a SQL backend.
fn sql(claimed: &Claimed<AnyLease>) -> Claimed<SqlLease> {
    let AnyLease::Sql(lease) = &claimed.lease;
    Claimed {
        stored: claimed.stored.clone(),
        lease: *lease,
    }
}

impl Store for AnyStore {
    type Lease = AnyLease;

    async fn put(&self, delivery: NewDelivery) -> Result<Put, StoreError> {
        each!(self, s => s.put(delivery).await)
    }

    async fn claim(
        &self,
        worker: &str,
        providers: &[String],
        max: usize,
        lease: Duration,
    ) -> Result<Vec<Claimed<AnyLease>>, StoreError> {
        each!(self, s => Ok(wrap(s.claim(worker, providers, max, lease).await?)))
    }

    async fn complete(&self, claimed: &Claimed<AnyLease>) -> Result<bool, StoreError> {
        each!(self, s => s.complete(&sql(claimed)).await)
    }

    async fn fail(
        &self,
        claimed: &Claimed<AnyLease>,
        error: &str,
        retry: Retry,
    ) -> Result<bool, StoreError> {
        each!(self, s => s.fail(&sql(claimed), error, retry).await)
    }

    async fn list(&self, filter: &Filter, limit: usize) -> Result<Vec<StoredDelivery>, StoreError> {
        each!(self, s => s.list(filter, limit).await)
    }

    async fn requeue(&self, filter: &Filter) -> Result<u64, StoreError> {
        each!(self, s => s.requeue(filter).await)
    }

    async fn purge(&self, filter: &Filter) -> Result<u64, StoreError> {
        each!(self, s => s.purge(filter).await)
    }

    async fn stats(&self) -> Result<Stats, StoreError> {
        each!(self, s => s.stats().await)
    }
}
