//! What every backend stores and answers: deliveries, their states, claims on them, and
//! the operations' filters. The receive path, the workers and the CLI are written against
//! [`Store`] alone, so every backend runs the same code above it.

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A verified, parsed delivery as the receive path hands it to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// The provider's spec name.
    pub provider: String,
    /// The spec's name of the event (`Unknown` for events the spec does not know).
    pub event: String,
    /// The provider's delivery id, or `sha256:` of the body; unique per provider.
    pub idempotency_key: String,
    /// The request headers a worker needs to parse the delivery again (credentials and
    /// hop-by-hop headers left out; see [`kept_headers`]).
    pub headers: Vec<(String, String)>,
    /// The exact body bytes.
    pub body: Vec<u8>,
    /// The sending address, as the transport saw it.
    pub peer: Option<IpAddr>,
    /// When the delivery was received.
    pub received_at: SystemTime,
}

/// Where a stored delivery is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    /// Waiting for a worker (new, or failed and due again at `next_attempt_at`).
    Pending,
    /// Claimed by a worker until its lease runs out.
    Processing,
    /// Handled successfully: never handled again unless replayed.
    Done,
    /// Failed `max_attempts` times (or could not be parsed): kept for an operator.
    Dead,
}

impl State {
    /// Every state, in the order of a delivery's life.
    pub const ALL: [State; 4] = [State::Pending, State::Processing, State::Done, State::Dead];

    /// The name stored and shown (`pending`).
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Processing => "processing",
            State::Done => "done",
            State::Dead => "dead",
        }
    }

    /// The state named `name`.
    pub fn parse(name: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A delivery as stored, with its processing history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDelivery {
    /// The store's id (a row id, or a stream sequence).
    pub id: u64,
    /// What was received.
    pub delivery: NewDelivery,
    /// Where it is now.
    pub state: State,
    /// Handler attempts so far (a claim counts as one).
    pub attempts: u32,
    /// When a pending delivery is due.
    pub next_attempt_at: SystemTime,
    /// The last handler failure, for an operator.
    pub last_error: Option<String>,
    /// When a handler succeeded.
    pub done_at: Option<SystemTime>,
}

/// What `put` did with a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    /// Durable (committed and synced): it may be acknowledged.
    Stored,
    /// Its idempotency key was already stored: acknowledged without a second copy.
    Duplicate,
}

/// A delivery a worker holds until `lease` runs out, with the backend's handle on the
/// claim (a row token, a JetStream message).
#[derive(Debug)]
pub struct Claimed<L> {
    /// The delivery, `attempts` already counting this claim.
    pub stored: StoredDelivery,
    /// The backend's handle for completing or failing the claim.
    pub lease: L,
}

/// What happens to a delivery whose handler failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Pending again, due at this time.
    At(SystemTime),
    /// Dead-lettered.
    Dead,
}

/// Which deliveries an operation applies to; `None` and empty mean any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// One provider.
    pub provider: Option<String>,
    /// One event name.
    pub event: Option<String>,
    /// Only these states.
    pub states: Vec<State>,
    /// Received at or after.
    pub since: Option<SystemTime>,
    /// Received before.
    pub until: Option<SystemTime>,
    /// One delivery.
    pub id: Option<u64>,
}

impl Filter {
    /// Whether `d` passes the filter (for backends that filter in memory).
    pub fn matches(&self, d: &StoredDelivery) -> bool {
        self.provider
            .as_ref()
            .is_none_or(|p| *p == d.delivery.provider)
            && self.event.as_ref().is_none_or(|e| *e == d.delivery.event)
            && (self.states.is_empty() || self.states.contains(&d.state))
            && self.since.is_none_or(|t| d.delivery.received_at >= t)
            && self.until.is_none_or(|t| d.delivery.received_at < t)
            && self.id.is_none_or(|id| id == d.id)
    }

    /// The same filter, narrowed to `states` where it names none.
    pub fn in_states(mut self, states: &[State]) -> Self {
        if self.states.is_empty() {
            self.states = states.to_vec();
        } else {
            self.states.retain(|s| states.contains(s));
            if self.states.is_empty() {
                // Nothing the caller asked for is in `states`: match nothing.
                self.id = Some(u64::MAX);
            }
        }
        self
    }
}

/// Counts per state and the age of the oldest pending delivery.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Deliveries per state.
    pub by_state: Vec<(State, u64)>,
    /// When the oldest pending delivery was received.
    pub oldest_pending: Option<SystemTime>,
}

impl Stats {
    /// How many deliveries are in `state`.
    pub fn count(&self, state: State) -> u64 {
        self.by_state
            .iter()
            .find(|(s, _)| *s == state)
            .map_or(0, |(_, n)| *n)
    }
}

/// A store failure: the receive path answers 503 so the provider retries, and workers
/// try again after a pause.
#[derive(Debug)]
pub struct StoreError {
    message: String,
}

impl StoreError {
    /// An error with a message.
    pub fn new(message: impl Into<String>) -> Self {
        StoreError {
            message: message.into(),
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StoreError {}

/// A durable inbox backend.
///
/// `put` returns only once the delivery is durable by the backend's rules (SQLite:
/// committed with `synchronous=FULL` in WAL mode; Postgres: committed with
/// `synchronous_commit` as the server has it, on by default; JetStream: the stream's
/// publish acknowledgement). A claim is exclusive until its lease runs out; completing or
/// failing a claim whose lease was taken over by another worker changes nothing and
/// answers `false`.
pub trait Store: Send + Sync + 'static {
    /// The backend's handle on a claim.
    type Lease: Send + Sync + fmt::Debug;

    /// Stores a delivery durably, or reports its key as already stored.
    fn put(&self, delivery: NewDelivery) -> impl Future<Output = Result<Put, StoreError>> + Send;

    /// Claims up to `max` due deliveries of `providers` for `lease`: pending ones whose
    /// time has come, and claims whose lease ran out (their worker died).
    fn claim(
        &self,
        worker: &str,
        providers: &[String],
        max: usize,
        lease: Duration,
    ) -> impl Future<Output = Result<Vec<Claimed<Self::Lease>>, StoreError>> + Send;

    /// Marks a claimed delivery done; `false` when the claim was lost.
    fn complete(
        &self,
        claimed: &Claimed<Self::Lease>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records a failed attempt; `false` when the claim was lost.
    fn fail(
        &self,
        claimed: &Claimed<Self::Lease>,
        error: &str,
        retry: Retry,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deliveries matching `filter`, oldest first, at most `limit`.
    fn list(
        &self,
        filter: &Filter,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<StoredDelivery>, StoreError>> + Send;

    /// Makes matching deliveries pending and due now, with their attempts reset: `retry`
    /// of dead letters and `replay` of done deliveries. Answers how many.
    fn requeue(&self, filter: &Filter) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Deletes matching deliveries (their keys with them: a provider's retry of a purged
    /// delivery is stored again). Answers how many.
    fn purge(&self, filter: &Filter) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Counts per state and the oldest pending delivery.
    fn stats(&self) -> impl Future<Output = Result<Stats, StoreError>> + Send;

    /// The time by the store's clock: what leases, retry times and the retention are
    /// measured against (the system clock unless the store was given another with its
    /// `with_clock`). Callers that write times into the store read them here.
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Request headers a worker does not need and the store should not hold: credentials
/// (the delivery is verified before it is stored) and hop-by-hop headers.
const DROPPED_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "connection",
    "content-length",
    "transfer-encoding",
    "keep-alive",
    "te",
    "upgrade",
];

/// The headers of a delivery the store keeps: all but credentials and hop-by-hop headers,
/// and only values that are text (a parse reads text headers only).
pub fn kept_headers(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| !DROPPED_HEADERS.contains(&name.as_str()))
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect()
}

/// The stored headers as a header map again (names and values that no longer parse are
/// skipped).
pub fn header_map(headers: &[(String, String)]) -> http::HeaderMap {
    let mut map = http::HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            map.append(name, value);
        }
    }
    map
}

/// Milliseconds since the Unix epoch, as the SQL backends store times.
pub fn to_ms(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// The time `ms` milliseconds from the Unix epoch.
pub fn from_ms(ms: i64) -> SystemTime {
    if ms >= 0 {
        UNIX_EPOCH + Duration::from_millis(ms.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_millis(ms.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_and_hop_by_hop_headers_are_not_kept() {
        let mut h = http::HeaderMap::new();
        h.insert("authorization", "Basic dTpw".parse().unwrap());
        h.insert("content-length", "2".parse().unwrap());
        h.insert("plaid-verification", "eyJ...".parse().unwrap());
        h.insert("x-client-id", "c".parse().unwrap());
        h.insert("x-binary", http::HeaderValue::from_bytes(b"\xff").unwrap());
        let kept = kept_headers(&h);
        let names: Vec<&str> = kept.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["plaid-verification", "x-client-id"]);
        assert_eq!(header_map(&kept).get("x-client-id").unwrap(), "c");
    }

    #[test]
    fn times_round_trip_through_milliseconds() {
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(from_ms(to_ms(t)), t);
        let before = UNIX_EPOCH - Duration::from_millis(5);
        assert_eq!(from_ms(to_ms(before)), before);
    }

    #[test]
    fn a_filter_narrowed_to_states_it_does_not_name_matches_nothing() {
        let f = Filter {
            states: vec![State::Pending],
            ..Filter::default()
        }
        .in_states(&[State::Dead]);
        assert_eq!(f.id, Some(u64::MAX));
        let g = Filter::default().in_states(&[State::Dead, State::Done]);
        assert_eq!(g.states, [State::Dead, State::Done]);
    }
}
