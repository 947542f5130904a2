//! The backend chosen by URL, as one [`Store`].

use std::time::Duration;

use crate::nats::{NatsLease, NatsOptions, NatsStore};
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
    /// `nats://HOST:PORT` (JetStream).
    Nats(NatsStore),
}

/// A claim's handle in any backend.
#[derive(Debug)]
pub enum AnyLease {
    /// A row's claim token (SQLite, Postgres).
    Sql(SqlLease),
    /// A JetStream message and its claim's bucket revision.
    Nats(NatsLease),
}

impl AnyStore {
    /// Opens the store `url` names: `sqlite://PATH`, `postgres://…` or
    /// `nats://HOST:PORT[/PREFIX][?ack_wait=DURATION]`.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            return Ok(AnyStore::Sqlite(SqliteStore::open(path).await?));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(AnyStore::Postgres(PostgresStore::open(url).await?));
        }
        if let Some(rest) = url.strip_prefix("nats://") {
            return Ok(AnyStore::Nats(open_nats(rest).await?));
        }
        Err(StoreError::new(format!(
            "{url:?} names no inbox backend: use sqlite://PATH, postgres://… or nats://HOST:PORT[/PREFIX]"
        )))
    }

    /// The same store reading the time from `clock` (see [`crate::Clock`]).
    pub fn with_clock(self, clock: impl crate::Clock) -> Self {
        match self {
            AnyStore::Sqlite(s) => AnyStore::Sqlite(s.with_clock(clock)),
            AnyStore::Postgres(s) => AnyStore::Postgres(s.with_clock(clock)),
            AnyStore::Nats(s) => AnyStore::Nats(s.with_clock(clock)),
        }
    }
}

/// Opens `nats://` + `rest`: `HOST:PORT[/PREFIX][?ack_wait=DURATION]`. The prefix names
/// the streams (`HOOKSPEC` without one); `ack_wait` (humantime, `2s`) sets how long a
/// message fetched by a worker that dies before claiming it waits to be delivered again
/// (see [`NatsOptions::ack_wait`]), fixed when a provider's consumer is first created.
async fn open_nats(rest: &str) -> Result<NatsStore, StoreError> {
    let (place, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut options = NatsOptions::default();
    let (server, prefix) = place.split_once('/').unwrap_or((place, ""));
    let prefix = prefix.trim_end_matches('/');
    if !prefix.is_empty() {
        prefix.clone_into(&mut options.prefix);
    }
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("ack_wait", value)) => {
                options.ack_wait = humantime::parse_duration(value).map_err(|e| {
                    StoreError::new(format!("the NATS inbox's ack_wait {value:?}: {e}"))
                })?;
            }
            _ => {
                return Err(StoreError::new(format!(
                    "{pair:?} is not a NATS inbox option (ack_wait=DURATION is)"
                )))
            }
        }
    }
    NatsStore::open_with(&format!("nats://{server}"), options).await
}

/// Runs `$body` with `$s` bound to the backend, whichever it is.
macro_rules! each {
    ($self:ident, $s:ident => $body:expr) => {
        match $self {
            AnyStore::Sqlite($s) => $body,
            AnyStore::Postgres($s) => $body,
            AnyStore::Nats($s) => $body,
        }
    };
}

fn wrap<L>(claimed: Vec<Claimed<L>>, lease: fn(L) -> AnyLease) -> Vec<Claimed<AnyLease>> {
    claimed
        .into_iter()
        .map(|c| Claimed {
            stored: c.stored,
            lease: lease(c.lease),
        })
        .collect()
}

/// The claim with the backend's own handle.
fn narrow<L>(claimed: &Claimed<AnyLease>, lease: L) -> Claimed<L> {
    Claimed {
        stored: claimed.stored.clone(),
        lease,
    }
}

fn mismatch() -> StoreError {
    StoreError::new("a claim of one backend was handed to another")
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
        Ok(match self {
            AnyStore::Sqlite(s) => {
                wrap(s.claim(worker, providers, max, lease).await?, AnyLease::Sql)
            }
            AnyStore::Postgres(s) => {
                wrap(s.claim(worker, providers, max, lease).await?, AnyLease::Sql)
            }
            AnyStore::Nats(s) => wrap(
                s.claim(worker, providers, max, lease).await?,
                AnyLease::Nats,
            ),
        })
    }

    async fn complete(&self, claimed: &Claimed<AnyLease>) -> Result<bool, StoreError> {
        match (self, &claimed.lease) {
            (AnyStore::Sqlite(s), AnyLease::Sql(l)) => s.complete(&narrow(claimed, *l)).await,
            (AnyStore::Postgres(s), AnyLease::Sql(l)) => s.complete(&narrow(claimed, *l)).await,
            (AnyStore::Nats(s), AnyLease::Nats(l)) => s.complete(&narrow(claimed, l.clone())).await,
            _ => Err(mismatch()),
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
                s.fail(&narrow(claimed, *l), error, retry).await
            }
            (AnyStore::Postgres(s), AnyLease::Sql(l)) => {
                s.fail(&narrow(claimed, *l), error, retry).await
            }
            (AnyStore::Nats(s), AnyLease::Nats(l)) => {
                s.fail(&narrow(claimed, l.clone()), error, retry).await
            }
            _ => Err(mismatch()),
        }
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

    fn now(&self) -> std::time::SystemTime {
        each!(self, s => s.now())
    }
}
