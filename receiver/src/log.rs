//! The in-memory log of accepted events, deduplicated by idempotency key.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;

/// One accepted event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoggedEvent {
    /// Provider spec name.
    pub provider: String,
    /// The spec's event name (`Unknown` for events the spec does not know).
    pub event: String,
    /// The delivery's idempotency key.
    pub idempotency_key: String,
    /// What the event is about, when it says.
    pub subject_id: Option<String>,
}

#[derive(Debug, Default)]
struct Inner {
    events: Vec<LoggedEvent>,
    // Keys claimed by deliveries being handled or already stored, per provider (a set per
    // provider, so a claim hashes and copies only the key).
    claimed: HashMap<String, HashSet<Claimed, BuildHasherDefault<Stored>>>,
    // Keyed SipHash of each claimed key, computed once per claim: growing the set moves
    // the stored hashes instead of hashing every key again.
    hasher: RandomState,
}

/// A claimed key with its hash.
#[derive(Debug, PartialEq, Eq)]
struct Claimed {
    hash: u64,
    key: String,
}

impl Hash for Claimed {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// Passes a [`Claimed`]'s stored hash through.
#[derive(Default)]
struct Stored(u64);

impl Hasher for Stored {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; anything else still hashes, if poorly.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl Inner {
    fn claimed(&self, key: &str) -> Claimed {
        Claimed {
            hash: self.hasher.hash_one(key),
            key: key.to_owned(),
        }
    }
}

/// Accepted events, each stored once. Cloning shares the log.
#[derive(Debug, Clone, Default)]
pub struct EventLog(Arc<Mutex<Inner>>);

impl EventLog {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A handler that panicked mid-update leaves nothing half-written here (each update
        // is one push or insert), so a poisoned lock is still consistent.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Claims a key: `true` when it was not seen before.
    pub fn claim(&self, provider: &str, key: &str) -> bool {
        let mut inner = self.lock();
        let claimed = inner.claimed(key);
        match inner.claimed.get_mut(provider) {
            Some(keys) => keys.insert(claimed),
            None => {
                let mut keys = HashSet::default();
                keys.insert(claimed);
                inner.claimed.insert(provider.to_owned(), keys);
                true
            }
        }
    }

    /// Gives a claim back after a failed handling, so the provider's retry is handled.
    pub fn release(&self, provider: &str, key: &str) {
        let mut inner = self.lock();
        let claimed = inner.claimed(key);
        if let Some(keys) = inner.claimed.get_mut(provider) {
            keys.remove(&claimed);
        }
    }

    /// Stores an accepted event.
    pub fn push(&self, event: LoggedEvent) {
        self.lock().events.push(event);
    }

    /// The accepted events in arrival order.
    pub fn events(&self) -> Vec<LoggedEvent> {
        self.lock().events.clone()
    }

    /// How many events were accepted.
    pub fn len(&self) -> usize {
        self.lock().events.len()
    }

    /// Whether no event was accepted yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::EventLog;

    #[test]
    fn a_key_is_claimed_once_per_provider_until_released() {
        let log = EventLog::default();
        let keys: Vec<String> = (0..5000).map(|n| format!("sha256:{n:064x}")).collect();
        assert!(keys.iter().all(|k| log.claim("bridge", k)));
        assert!(keys.iter().all(|k| !log.claim("bridge", k)));
        assert!(log.claim("plaid", &keys[0]));
        log.release("bridge", &keys[7]);
        log.release("vezgo", &keys[7]);
        assert!(log.claim("bridge", &keys[7]));
        assert!(!log.claim("bridge", &keys[8]));
    }
}
