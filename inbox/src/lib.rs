//! # hookspec-inbox
//!
//! Durable receiving: verify a delivery, store its exact bytes, acknowledge only once the
//! store has made it durable, then let workers parse it and run the same generated
//! `Handler` with retries, backoff, dead letters and replay. A provider's timeout never
//! waits on business logic, and nothing acknowledged is lost to a crash.
//!
//! ```no_run
//! use std::net::SocketAddr;
//!
//! use hookspec::bridge::{self, Handler, ItemCreated};
//! use hookspec::runtime::verify::Credentials;
//! use hookspec::runtime::{Delivery, Handled, Handling};
//! use hookspec_inbox::{Inbox, WorkerConfig};
//!
//! struct Items;
//!
//! impl Handler for Items {
//!     async fn on_item_created(&self, event: ItemCreated, delivery: &Delivery) -> Handled {
//!         // Runs in a worker, after the delivery was stored and acknowledged: slow work
//!         // here never makes Bridge retry. An Err is retried with backoff.
//!         println!("item {} ({})", event.content.item_id, delivery.idempotency_key);
//!         Ok(())
//!     }
//! }
//!
//! # async fn run(secret: String) -> Result<(), Box<dyn std::error::Error>> {
//! let inbox = Inbox::open("sqlite://inbox.db").await?;
//! let config = bridge::config(Credentials::new().hmac_secret(secret))?;
//! let app = axum::Router::new().nest("/webhooks/bridge", inbox.router(bridge::Webhooks, config));
//! let workers = inbox
//!     .workers(WorkerConfig::default())
//!     .serve(bridge::Webhooks, Handling::new(Items))
//!     .spawn(2);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8088").await?;
//! axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await?;
//! workers.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Backends are chosen by URL ([`Inbox::open`]): `sqlite://PATH` (embedded, the default),
//! `postgres://…` (several replicas, `FOR UPDATE SKIP LOCKED` claims) and `nats://…`
//! (JetStream with message-id deduplication, a durable consumer and a dead-letter stream).
//! Everything above [`Store`] is one code path.
//!
//! Times the inbox writes and compares (lease ends, retry times, the retention's cut-off)
//! come from the store's [`Clock`]: the system clock unless a store is built
//! `.with_clock(...)`, as tests do with a [`ManualClock`] they advance.

mod any;
pub mod clock;
mod metrics;
pub mod nats;
pub mod postgres;

mod receive;
mod sql;
pub mod sqlite;
pub mod store;
mod worker;

use std::sync::Arc;

use tokio::sync::Notify;

pub use any::{AnyLease, AnyStore};
pub use clock::{Clock, ManualClock, SystemClock};
pub use metrics::{Counts, Metrics};
pub use sql::SqlLease;
pub use store::{
    Claimed, Filter, NewDelivery, Put, Retry, State, Stats, Store, StoreError, StoredDelivery,
};
pub use worker::{Backoff, Failure, Process, WorkerConfig, WorkerPool, Workers};

/// A store with the counters and wake-up signal its router and workers share.
#[derive(Debug)]
pub struct Inbox<S> {
    store: Arc<S>,
    metrics: Arc<Metrics>,
    wake: Arc<Notify>,
}

impl<S> Clone for Inbox<S> {
    fn clone(&self) -> Self {
        Inbox {
            store: self.store.clone(),
            metrics: self.metrics.clone(),
            wake: self.wake.clone(),
        }
    }
}

impl Inbox<AnyStore> {
    /// Opens (and creates, where the backend can) the store at `url`: `sqlite://PATH`,
    /// `postgres://…` or `nats://HOST:PORT`.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Ok(Inbox::new(AnyStore::open(url).await?))
    }
}

impl<S: Store> Inbox<S> {
    /// An inbox over `store`.
    pub fn new(store: S) -> Self {
        Inbox {
            store: Arc::new(store),
            metrics: Arc::new(Metrics::default()),
            wake: Arc::new(Notify::new()),
        }
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The counters of this process's router and workers.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }
}
