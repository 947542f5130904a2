//! The backend chosen by URL, as one [`Store`].

use std::time::Duration;

use crate::sqlite::{SqlLease, SqliteStore};
use crate::store::{
    Claimed, Filter, NewDelivery, Put, Retry, Stats, Store, StoreError, StoredDelivery,
};

/// Any backend.
#[derive(Debug, Clone)]
pub enum AnyStore {
    /// `sqlite://PATH`.
    Sqlite(SqliteStore),
}

/// A claim's handle in any backend.
#[derive(Debug)]
pub enum AnyLease {
    /// A row's claim token.
    Sql(SqlLease),
}

impl AnyStore {
    /// Opens the store `url` names.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            return Ok(AnyStore::Sqlite(SqliteStore::open(path).await?));
        }
        Err(StoreError::new(format!(
            "{url:?} names no inbox backend: use sqlite://PATH, postgres://… or nats://HOST:PORT"
        )))
    }
}

fn lease<L>(claimed: Vec<Claimed<L>>, wrap: fn(L) -> AnyLease) -> Vec<Claimed<AnyLease>> {
    claimed
        .into_iter()
        .map(|c| Claimed {
            stored: c.stored,
            lease: wrap(c.lease),
        })
        .collect()
}

impl Store for AnyStore {
    type Lease = AnyLease;

    async fn put(&self, delivery: NewDelivery) -> Result<Put, StoreError> {
        match self {
            AnyStore::Sqlite(s) => s.put(delivery).await,
        }
    }

    async fn claim(
        &self,
        worker: &str,
        providers: &[String],
        max: usize,
        lease_for: Duration,
    ) -> Result<Vec<Claimed<AnyLease>>, StoreError> {
        match self {
            AnyStore::Sqlite(s) => Ok(lease(
                s.claim(worker, providers, max, lease_for).await?,
                AnyLease::Sql,
            )),
        }
    }

    async fn complete(&self, claimed: &Claimed<AnyLease>) -> Result<bool, StoreError> {
        match (self, &claimed.lease) {
            (AnyStore::Sqlite(s), AnyLease::Sql(l)) => {
                s.complete(&Claimed {
                    stored: claimed.stored.clone(),
                    lease: *l,
                })
                .await
            }
        }
    }

    async fn fail(
        &self,
        claimed: &Claimed<AnyLease>,
        error: &str,
        retry: Retry,
    ) -> Result<bool, StoreError> {
        match (self, &claimed.lease) {
            (AnyStore::Sqlite(s), AnyLease::Sql(l)) => {
                s.fail(
                    &Claimed {
                        stored: claimed.stored.clone(),
                        lease: *l,
                    },
                    error,
                    retry,
                )
                .await
            }
        }
    }

    async fn list(&self, filter: &Filter, limit: usize) -> Result<Vec<StoredDelivery>, StoreError> {
        match self {
            AnyStore::Sqlite(s) => s.list(filter, limit).await,
        }
    }

    async fn requeue(&self, filter: &Filter) -> Result<u64, StoreError> {
        match self {
            AnyStore::Sqlite(s) => s.requeue(filter).await,
        }
    }

    async fn purge(&self, filter: &Filter) -> Result<u64, StoreError> {
        match self {
            AnyStore::Sqlite(s) => s.purge(filter).await,
        }
    }

    async fn stats(&self) -> Result<Stats, StoreError> {
        match self {
            AnyStore::Sqlite(s) => s.stats().await,
        }
    }
}
