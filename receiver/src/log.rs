//! The in-memory log of accepted events, deduplicated by idempotency key.

use std::collections::{HashMap, HashSet};
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
    // Keys claimed by deliveries being handled or already stored, a set per provider: a
    // claim copies only the key, and a release looks it up without a copy.
    claimed: HashMap<String, HashSet<String>>,
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
        match inner.claimed.get_mut(provider) {
            Some(keys) => keys.insert(key.to_owned()),
            None => {
                let keys = HashSet::from([key.to_owned()]);
                inner.claimed.insert(provider.to_owned(), keys);
                true
            }
        }
    }

    /// Gives a claim back after a failed handling, so the provider's retry is handled.
    pub fn release(&self, provider: &str, key: &str) {
        if let Some(keys) = self.lock().claimed.get_mut(provider) {
            keys.remove(key);
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
