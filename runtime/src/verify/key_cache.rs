//! The cache in front of a [`KeySource`]: one fetch per unknown key id however many
//! deliveries wait for it, periodic refresh so a retired key is noticed, and failures
//! remembered only briefly.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use super::keys::{Jwk, KeyError, KeySource};

/// How long a fetched key is used before it is fetched again, so that a key the provider
/// retires (sets `expired_at`) is refused within this time.
pub const DEFAULT_KEY_REFRESH: Duration = Duration::from_secs(60 * 60);

/// How long a failed fetch is remembered before the key id is asked for again.
pub const DEFAULT_KEY_RETRY: Duration = Duration::from_secs(10);

/// Key ids remembered at most; beyond it failures are dropped first, then everything
/// (keys are fetched again on demand). Bounds memory under a flood of made-up key ids.
const MAX_KEY_IDS: usize = 1024;

#[derive(Clone)]
enum Entry {
    Key {
        jwk: Arc<Jwk>,
        refresh_at: SystemTime,
    },
    Failed {
        error: KeyError,
        retry_at: SystemTime,
    },
}

pub(crate) struct KeyCache {
    source: Box<dyn KeySource>,
    refresh: Duration,
    retry: Duration,
    entries: RwLock<HashMap<String, Entry>>,
    // One async mutex per key id being fetched: whoever holds it fetches, the others wait
    // and then find the entry filled.
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl KeyCache {
    pub(crate) fn new(source: Box<dyn KeySource>, refresh: Duration, retry: Duration) -> Self {
        KeyCache {
            source,
            refresh,
            retry,
            entries: RwLock::new(HashMap::new()),
            flights: Mutex::new(HashMap::new()),
        }
    }

    /// The key `kid`, from the cache when it is fresh at `now`, else from the source.
    pub(crate) async fn get(&self, kid: &str, now: SystemTime) -> Result<Arc<Jwk>, KeyError> {
        if let Some(found) = self.fresh(kid, now) {
            return found;
        }
        let flight = {
            let mut flights = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
            flights.entry(kid.to_owned()).or_default().clone()
        };
        let result = {
            let _turn = flight.lock().await;
            match self.fresh(kid, now) {
                Some(found) => found,
                None => self.fetch(kid, now).await,
            }
        };
        let mut flights = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
        if flights.get(kid).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
            flights.remove(kid);
        }
        result
    }

    fn fresh(&self, kid: &str, now: SystemTime) -> Option<Result<Arc<Jwk>, KeyError>> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        match entries.get(kid)? {
            Entry::Key { jwk, refresh_at } if now < *refresh_at => Some(Ok(jwk.clone())),
            Entry::Failed { error, retry_at } if now < *retry_at => Some(Err(error.clone())),
            _ => None,
        }
    }

    async fn fetch(&self, kid: &str, now: SystemTime) -> Result<Arc<Jwk>, KeyError> {
        let fetched = match self.source.fetch(kid).await {
            Ok(jwk) if jwk.kid() != kid => Err(KeyError::Invalid(
                "the key source answered with another key id",
            )),
            other => other,
        };
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        let stale = match entries.get(kid) {
            Some(Entry::Key { jwk, .. }) => Some(jwk.clone()),
            _ => None,
        };
        let (entry, result) = match (fetched, stale) {
            (Ok(jwk), _) => {
                let jwk = Arc::new(jwk);
                let refresh_at = later(now, self.refresh);
                (
                    Entry::Key {
                        jwk: jwk.clone(),
                        refresh_at,
                    },
                    Ok(jwk),
                )
            }
            // A refresh that cannot reach the source keeps the key it has: an outage at
            // the provider's key endpoint should not turn away every delivery.
            (Err(KeyError::Unavailable(_)), Some(jwk)) => {
                let refresh_at = later(now, self.retry);
                (
                    Entry::Key {
                        jwk: jwk.clone(),
                        refresh_at,
                    },
                    Ok(jwk),
                )
            }
            (Err(error), _) => {
                let retry_at = later(now, self.retry);
                (
                    Entry::Failed {
                        error: error.clone(),
                        retry_at,
                    },
                    Err(error),
                )
            }
        };
        if entries.len() >= MAX_KEY_IDS && !entries.contains_key(kid) {
            entries.retain(|_, e| matches!(e, Entry::Key { .. }));
            if entries.len() >= MAX_KEY_IDS {
                entries.clear();
            }
        }
        entries.insert(kid.to_owned(), entry);
        result
    }
}

/// `now + after`, or the latest time the clock can hold when a configured interval is too
/// large for it (`SystemTime + Duration` panics on overflow): such a key is simply never
/// refreshed.
fn later(now: SystemTime, after: Duration) -> SystemTime {
    now.checked_add(after)
        .or_else(|| now.checked_add(Duration::from_secs(u64::from(u32::MAX))))
        .unwrap_or(now)
}
