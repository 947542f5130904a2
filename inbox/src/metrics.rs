//! Counters of one process's inbox, read by an operator (`stats`) or exported by the
//! application; each change is also a tracing event.

use std::sync::atomic::{AtomicU64, Ordering};

/// Deliveries received, duplicates, handled, retried and dead-lettered, and store
/// failures answered with 503.
#[derive(Debug, Default)]
pub struct Metrics {
    received: AtomicU64,
    duplicate: AtomicU64,
    processed: AtomicU64,
    retried: AtomicU64,
    dead_lettered: AtomicU64,
    store_failures: AtomicU64,
}

/// A reading of [`Metrics`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Stored and acknowledged.
    pub received: u64,
    /// Acknowledged without a second copy.
    pub duplicate: u64,
    /// Handled successfully by a worker.
    pub processed: u64,
    /// Failed and scheduled again.
    pub retried: u64,
    /// Failed for the last time.
    pub dead_lettered: u64,
    /// Answered 503 because the store could not take the delivery.
    pub store_failures: u64,
}

impl Metrics {
    pub(crate) fn received(&self) {
        self.received.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn duplicate(&self) {
        self.duplicate.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn processed(&self) {
        self.processed.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn retried(&self) {
        self.retried.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn dead_lettered(&self) {
        self.dead_lettered.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn store_failure(&self) {
        self.store_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn counts(&self) -> Counts {
        Counts {
            received: self.received.load(Ordering::Relaxed),
            duplicate: self.duplicate.load(Ordering::Relaxed),
            processed: self.processed.load(Ordering::Relaxed),
            retried: self.retried.load(Ordering::Relaxed),
            dead_lettered: self.dead_lettered.load(Ordering::Relaxed),
            store_failures: self.store_failures.load(Ordering::Relaxed),
        }
    }
}
