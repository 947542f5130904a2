//! The JetStream backend: deliveries are messages in a stream, each provider's workers
//! pull them through a durable consumer, and a key-value bucket holds each delivery's
//! processing state, written by compare-and-set so a claim is exclusive.
//!
//! What it creates, for a name prefix `P` (`HOOKSPEC` by default; subjects use it in lower
//! case as `p`):
//!
//! - Stream `P_INBOX`, subjects `p.inbox.<provider>.<event>`: one message per stored
//!   delivery, the exact body as payload and the rest in `Hookspec-*` headers (text values
//!   as JSON strings, so whitespace and line breaks survive). File storage, limits
//!   retention with `max_age` = the retention option, so handled deliveries stay listable
//!   and replayable, and `duplicate_window` from the options: a provider's retry of a
//!   stored delivery is answered from the stream's deduplication.
//! - Stream `P_DEAD`, subjects `p.dead.<provider>.<event>`: dead letters.
//! - Bucket `P_claims` (stream `KV_P_claims`): per idempotency key a marker, JSON with the
//!   state (`pending`, `processing` with worker and lease end, `done`, `dead`), the
//!   attempts so far, the last error, when a retry is due, the purge generation and the
//!   stream sequence of the delivery's live copy. No marker means pending, never claimed.
//!   History 1, `max_age` = the retention option. The store makes the bucket's stream
//!   itself (with the settings a bucket has) because the client's bucket creation first
//!   reads account information in a shape nats-server 2.9 does not send; an existing
//!   bucket is used as it is.
//! - Per provider a durable pull consumer `P_work_<provider>` filtered on
//!   `p.inbox.<provider>.>`, explicit acks, no backoff, `max_ack_pending` unlimited
//!   (deliveries waiting for a retry stay unacknowledged and must not block new ones) and
//!   a `max_deliver` backstop against a message that loops.
//!
//! Names and subject tokens escape everything but ASCII letters, digits and `-` as `_xx`
//! (hex of each byte), so different providers or keys never share a token. The bucket key
//! of a delivery is `<provider token>.<key token>`, and its `Nats-Msg-Id` is that key
//! (escaped rather than `provider:key` so that no two pairs can meet).
//!
//! **Durability.** `put` answers once the stream's publish acknowledgement arrived: the
//! server has written the message to its file store. The server syncs those files to disk
//! on an interval (`sync_interval`, 2 minutes by default in current servers; `always` syncs
//! every write), so a crash of the server process loses nothing acknowledged, while an
//! operating-system crash or power loss can lose what was acknowledged in the last interval
//! unless the server is configured to sync more often (or the stream is replicated).
//!
//! **Leases.** A consumer's `ack_wait` is fixed when it is created, and leases vary per
//! call, so a claim answers the message with a negative acknowledgement delayed by the
//! lease right after taking the claim in the bucket: the server redelivers it exactly when
//! the lease runs out (delays are exact on a consumer without backoff), and the next claim
//! that fetches it finds the lease expired and takes it over. A message fetched while its
//! lease still holds (a lost delayed nak, clock skew) is answered with a nak delayed until
//! the lease end. The claim's bucket revision is its token: `complete` and `fail` write the
//! bucket with compare-and-set on it and touch the message only when that succeeded, so a
//! worker whose claim was taken over cannot acknowledge the new holder's delivery.
//!
//! Lease ends are compared with the clock of the process that claims, so the machines'
//! clocks must agree to well within a lease.
//!
//! **Attempts** are counted in the marker, not from the message's delivery count (which
//! also counts lease expiries and early fetches): 1 on the first claim, one more per claim,
//! 0 again after `requeue`.
//!
//! **Ids** are stable over a delivery's life: the inbox stream sequence of the first copy
//! stored. Copies made later (a dead letter, a requeued copy) carry it in `Hookspec-Id`; a
//! dead letter also carries the inbox sequence of the copy it was made from in
//! `Hookspec-From`. Only a delivery's live copy (the sequence its marker names) is listed,
//! so a copy left behind by an interrupted operation is never shown twice and is
//! acknowledged away when a worker fetches it.
//!
//! **Purge and deduplication.** JetStream cannot forget a message id inside its duplicate
//! window, but a purged key must be stored again. Purging therefore deletes the marker,
//! which leaves a delete marker in the bucket; a later `put` of the key publishes with the
//! message id `<key>:g<revision of that delete marker>` (the generation, also in
//! `Hookspec-Gen`), which the window has not seen. A copy of an older generation is treated
//! as purged.
//!
//! **Order of writes.** Dead-lettering writes the `dead` marker first (that is the claim
//! check), then publishes the copy to the dead stream (message id `<key>:<inbox sequence>`,
//! so doing it again is harmless), then terminates and deletes the inbox copy. If it stops
//! halfway, the inbox copy comes back when the lease runs out and the claim finishes the
//! dead-lettering. `requeue` publishes the new copy first, then moves the marker to it,
//! then deletes the old copy.
//!
//! **Cost.** `list`, `stats`, `requeue` and `purge` read the streams message by message
//! (filtered by provider and event subjects) and the marker of each: fine for an
//! operator's inbox of thousands, not meant for millions.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy, PullConsumer};
use async_nats::jetstream::kv::{self, Operation};
use async_nats::jetstream::stream::{self, DiscardPolicy, RetentionPolicy, StorageType};
use async_nats::jetstream::{self, AckKind};
use async_nats::{HeaderMap, HeaderValue, Subject};
use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::clock::{Clock, SharedClock};
use crate::store::{
    from_ms, to_ms, Claimed, Filter, NewDelivery, Put, Retry, State, Stats, Store, StoreError,
    StoredDelivery,
};

const H_MSG_ID: &str = "Nats-Msg-Id";
const H_PROVIDER: &str = "Hookspec-Provider";
const H_EVENT: &str = "Hookspec-Event";
const H_KEY: &str = "Hookspec-Key";
const H_HEADERS: &str = "Hookspec-Headers";
const H_PEER: &str = "Hookspec-Peer";
const H_RECEIVED: &str = "Hookspec-Received-At";
const H_GEN: &str = "Hookspec-Gen";
const H_ID: &str = "Hookspec-Id";
const H_FROM: &str = "Hookspec-From";
const H_ERROR: &str = "Hookspec-Error";

/// How long a claim that lost a compare-and-set race leaves the message alone.
const RACE_PAUSE: Duration = Duration::from_secs(1);

/// How a [`NatsStore`] names and sizes what it creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsOptions {
    /// Prefix of the streams, consumers and bucket (`HOOKSPEC`): ASCII letters, digits,
    /// `-` and `_`. Stores with different prefixes on one server never meet, as long as the
    /// prefixes also differ in lower case (subjects use the prefix in lower case).
    pub prefix: String,
    /// How long a provider's retry of a stored delivery is recognised by the stream's
    /// message-id deduplication (24 hours: Plaid, for one, retries for up to 24 hours).
    /// Beyond it, keys already handled or dead are still answered as duplicates from the
    /// bucket. At most `retention`.
    pub duplicate_window: Duration,
    /// How long deliveries, done or not, are kept (7 days).
    pub retention: Duration,
    /// How long `put` may take before it fails and the delivery is answered 503 (5 s).
    pub publish_timeout: Duration,
    /// How long any other request to the server may take (5 s).
    pub request_timeout: Duration,
    /// How many times the server delivers one message before it gives up on it (1000): a
    /// backstop against a delivery that loops; every claim, lease expiry and retry counts.
    pub max_deliver: i64,
    /// How long a fetched message may go unanswered before the server delivers it again
    /// (30 s), set when a provider's consumer is created. Leases do not depend on it: a
    /// claim answers the message at once with a nak delayed by the lease, so this only
    /// matters when a process dies between fetching a message and answering it.
    pub ack_wait: Duration,
}

impl Default for NatsOptions {
    fn default() -> Self {
        NatsOptions {
            prefix: "HOOKSPEC".to_owned(),
            duplicate_window: Duration::from_secs(24 * 3600),
            retention: Duration::from_secs(7 * 24 * 3600),
            publish_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(5),
            max_deliver: 1000,
            ack_wait: Duration::from_secs(30),
        }
    }
}

/// A claim on a JetStream message: the delivery's ack subject and the bucket revision the
/// claim wrote.
#[derive(Debug, Clone)]
pub struct NatsLease {
    key: String,
    revision: u64,
    reply: Subject,
    sequence: u64,
    marker: Marker,
}

impl NatsLease {
    /// The bucket revision the claim wrote (its token).
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// The inbox stream sequence of the claimed message.
    pub fn sequence(&self) -> u64 {
        self.sequence
    }
}

/// A JetStream inbox.
#[derive(Clone)]
pub struct NatsStore {
    inner: Arc<Inner>,
    clock: SharedClock,
}

struct Inner {
    client: async_nats::Client,
    js: jetstream::Context,
    kv: kv::Store,
    inbox: stream::Stream<()>,
    dead: stream::Stream<()>,
    names: Names,
    options: NatsOptions,
    consumers: Mutex<HashMap<String, PullConsumer>>,
}

impl fmt::Debug for NatsStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsStore")
            .field("inbox", &self.inner.names.inbox)
            .field("dead", &self.inner.names.dead)
            .field("bucket", &self.inner.names.bucket)
            .finish()
    }
}

/// The names of what a store with one prefix creates.
#[derive(Debug, Clone)]
struct Names {
    prefix: String,
    inbox: String,
    dead: String,
    bucket: String,
    subjects: String,
}

impl Names {
    fn new(prefix: &str) -> Self {
        Names {
            prefix: prefix.to_owned(),
            inbox: format!("{prefix}_INBOX"),
            dead: format!("{prefix}_DEAD"),
            bucket: format!("{prefix}_claims"),
            subjects: prefix.to_lowercase(),
        }
    }

    fn subject(&self, place: Place, provider: &str, event: &str) -> String {
        format!(
            "{}.{}.{}.{}",
            self.subjects,
            place.as_str(),
            token(provider),
            token(event)
        )
    }

    /// The subjects a filter's provider and event select.
    fn filter_subject(&self, place: Place, filter: &Filter) -> String {
        let provider = filter.provider.as_deref().map_or("*".to_owned(), token);
        let event = filter.event.as_deref().map_or("*".to_owned(), token);
        format!("{}.{}.{provider}.{event}", self.subjects, place.as_str())
    }

    fn consumer(&self, provider: &str) -> String {
        format!("{}_work_{}", self.prefix, token(provider))
    }
}

/// Which stream a message is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Inbox,
    Dead,
}

impl Place {
    fn as_str(self) -> &'static str {
        match self {
            Place::Inbox => "inbox",
            Place::Dead => "dead",
        }
    }
}

/// A subject token, consumer name part or bucket key part for any text: ASCII letters,
/// digits and `-` as they are, every other byte as `_xx`, and the empty text as `_`.
fn token(s: &str) -> String {
    use std::fmt::Write;
    if s.is_empty() {
        return "_".to_owned();
    }
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "_{b:02x}");
        }
    }
    out
}

/// The bucket key (and base message id) of a delivery.
fn bucket_key(provider: &str, key: &str) -> String {
    format!("{}.{}", token(provider), token(key))
}

/// Where a delivery is, as its marker in the bucket says.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mark {
    Pending,
    Processing { worker: String, until: i64 },
    Done { at: i64 },
    Dead { at: i64 },
}

/// A delivery's processing state in the bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Marker {
    mark: Mark,
    attempts: u32,
    /// The inbox sequence of the delivery's live copy (for a dead letter: of the copy the
    /// dead letter was made from).
    seq: u64,
    /// The purge generation the copy was stored in.
    gen: u64,
    error: Option<String>,
    /// When a pending delivery is due (ms).
    next: i64,
}

impl Marker {
    fn encode(&self) -> Vec<u8> {
        let mut v = json!({
            "attempts": self.attempts,
            "seq": self.seq,
            "gen": self.gen,
            "error": self.error,
            "next": self.next,
        });
        let fields = match &self.mark {
            Mark::Pending => json!({"state": "pending"}),
            Mark::Processing { worker, until } => {
                json!({"state": "processing", "worker": worker, "until": until})
            }
            Mark::Done { at } => json!({"state": "done", "at": at}),
            Mark::Dead { at } => json!({"state": "dead", "at": at}),
        };
        if let (Some(v), Value::Object(fields)) = (v.as_object_mut(), fields) {
            v.extend(fields);
        }
        v.to_string().into_bytes()
    }

    fn decode(bytes: &[u8]) -> Result<Marker, StoreError> {
        let bad = |what: &str| StoreError::new(format!("a claim marker in JetStream {what}"));
        let v: Value =
            serde_json::from_slice(bytes).map_err(|e| bad(&format!("is not JSON: {e}")))?;
        let int = |name: &str| v.get(name).and_then(Value::as_i64).unwrap_or(0);
        let at = int("at");
        let mark = match v.get("state").and_then(Value::as_str) {
            Some("pending") => Mark::Pending,
            Some("processing") => Mark::Processing {
                worker: v
                    .get("worker")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                until: int("until"),
            },
            Some("done") => Mark::Done { at },
            Some("dead") => Mark::Dead { at },
            other => return Err(bad(&format!("has the state {other:?}"))),
        };
        Ok(Marker {
            mark,
            attempts: u32::try_from(int("attempts")).unwrap_or(0),
            seq: v.get("seq").and_then(Value::as_u64).unwrap_or(0),
            gen: v.get("gen").and_then(Value::as_u64).unwrap_or(0),
            error: v.get("error").and_then(Value::as_str).map(str::to_owned),
            next: int("next"),
        })
    }

    /// The state shown: a claim whose lease ran out is pending again.
    fn state(&self, now: i64) -> State {
        match self.mark {
            Mark::Pending => State::Pending,
            Mark::Processing { until, .. } if until > now => State::Processing,
            Mark::Processing { .. } => State::Pending,
            Mark::Done { .. } => State::Done,
            Mark::Dead { .. } => State::Dead,
        }
    }
}

/// What a message's headers say beyond the delivery itself.
#[derive(Debug, Clone, Default)]
struct Extra {
    id: Option<u64>,
    gen: u64,
    from: Option<u64>,
    error: Option<String>,
}

fn header(headers: &mut HeaderMap, name: &'static str, value: &str) -> Result<(), StoreError> {
    let value: HeaderValue = value
        .parse()
        .map_err(|_| StoreError::new(format!("the {name} header cannot hold {value:?}")))?;
    headers.insert(name, value);
    Ok(())
}

fn json_text(s: &str) -> String {
    Value::from(s).to_string()
}

/// The headers of a message holding `d`.
fn message_headers(
    d: &NewDelivery,
    msg_id: &str,
    gen: u64,
    id: Option<u64>,
) -> Result<HeaderMap, StoreError> {
    let mut h = HeaderMap::new();
    header(&mut h, H_MSG_ID, msg_id)?;
    header(&mut h, H_PROVIDER, &json_text(&d.provider))?;
    header(&mut h, H_EVENT, &json_text(&d.event))?;
    header(&mut h, H_KEY, &json_text(&d.idempotency_key))?;
    let kept: Vec<Value> = d.headers.iter().map(|(n, v)| json!([n, v])).collect();
    header(&mut h, H_HEADERS, &Value::Array(kept).to_string())?;
    if let Some(peer) = d.peer {
        header(&mut h, H_PEER, &peer.to_string())?;
    }
    header(&mut h, H_RECEIVED, &to_ms(d.received_at).to_string())?;
    if gen != 0 {
        header(&mut h, H_GEN, &gen.to_string())?;
    }
    if let Some(id) = id {
        header(&mut h, H_ID, &id.to_string())?;
    }
    Ok(h)
}

/// The delivery a message holds, and what its headers say beyond it.
fn decode_message(
    headers: Option<&HeaderMap>,
    payload: &[u8],
) -> Result<(NewDelivery, Extra), StoreError> {
    let headers = headers.ok_or_else(|| StoreError::new("a message without headers"))?;
    let raw = |name: &str| headers.get(name).map(|v| v.as_str());
    let text = |name: &str| -> Result<String, StoreError> {
        let value =
            raw(name).ok_or_else(|| StoreError::new(format!("a message without {name}")))?;
        serde_json::from_str::<String>(value)
            .map_err(|e| StoreError::new(format!("a message's {name} header: {e}")))
    };
    let number = |name: &str| raw(name).and_then(|v| v.parse::<u64>().ok());
    let kept: Vec<(String, String)> = match raw(H_HEADERS) {
        Some(v) => serde_json::from_str(v)
            .map_err(|e| StoreError::new(format!("a message's {H_HEADERS} header: {e}")))?,
        None => Vec::new(),
    };
    let received = raw(H_RECEIVED)
        .and_then(|v| v.parse::<i64>().ok())
        .ok_or_else(|| StoreError::new(format!("a message without {H_RECEIVED}")))?;
    let delivery = NewDelivery {
        provider: text(H_PROVIDER)?,
        event: text(H_EVENT)?,
        idempotency_key: text(H_KEY)?,
        headers: kept,
        body: payload.to_vec(),
        peer: raw(H_PEER).and_then(|p| p.parse::<IpAddr>().ok()),
        received_at: from_ms(received),
    };
    let extra = Extra {
        id: number(H_ID),
        gen: number(H_GEN).unwrap_or(0),
        from: number(H_FROM),
        error: raw(H_ERROR).and_then(|v| serde_json::from_str::<String>(v).ok()),
    };
    Ok((delivery, extra))
}

/// Decodes `marker` as a claim marker, and `headers` with `payload` as a stored message,
/// and encodes again what decodes: what a worker or operator reads back from JetStream must
/// be what was written. `Err` names a record that decoded but did not come back the same
/// (the fuzz target's oracle); records that do not decode are fine, they are errors.
#[doc(hidden)]
pub fn check_record_round_trip(
    marker: &[u8],
    headers: &[(&str, &str)],
    payload: &[u8],
) -> Result<(), String> {
    if let Ok(m) = Marker::decode(marker) {
        let again = Marker::decode(&m.encode()).map_err(|e| format!("{m:?}: {e}"))?;
        if again != m {
            return Err(format!("marker {m:?} came back as {again:?}"));
        }
    }
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            name.parse::<async_nats::header::HeaderName>(),
            value.parse::<HeaderValue>(),
        ) {
            map.append(name, value);
        }
    }
    if let Ok((d, extra)) = decode_message(Some(&map), payload) {
        let encoded = message_headers(&d, "id", extra.gen, extra.id)
            .map_err(|e| format!("{d:?} decoded but cannot be stored again: {e}"))?;
        let (again, again_extra) =
            decode_message(Some(&encoded), &d.body).map_err(|e| format!("{d:?}: {e}"))?;
        if again != d || (again_extra.gen, again_extra.id) != (extra.gen, extra.id) {
            return Err(format!("message {d:?} came back as {again:?}"));
        }
    }
    Ok(())
}

/// Runs `fut` for at most `limit`, with what was being done in the error.
async fn bounded<T, E: fmt::Display>(
    limit: Duration,
    doing: &str,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(limit, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(StoreError::new(format!("{doing}: {e}"))),
        Err(_) => Err(StoreError::new(format!(
            "{doing}: no answer from the NATS server within {} ms",
            limit.as_millis()
        ))),
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// `ms` milliseconds from now as a wait (none when it is past).
fn wait_until(ms: i64, now: i64) -> Duration {
    Duration::from_millis(u64::try_from(ms.saturating_sub(now)).unwrap_or(0))
}

fn random_id() -> String {
    use rand_core::RngCore;
    format!("{:016x}", rand_core::OsRng.next_u64())
}

/// A delivery found by a scan, with what an operation on it needs.
#[derive(Debug)]
struct Found {
    stored: StoredDelivery,
    place: Place,
    /// Its sequence in its stream.
    seq: u64,
    key: String,
    /// The bucket revision to compare-and-set against (0: no marker yet).
    revision: u64,
    gen: u64,
}

impl NatsStore {
    /// Connects to `url` (`nats://HOST:PORT`) and opens, creating what is missing, the
    /// store with the default options.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, NatsOptions::default()).await
    }

    /// Connects to `url` and opens, creating or updating them, the streams and bucket of
    /// `options.prefix`.
    pub async fn open_with(url: &str, options: NatsOptions) -> Result<Self, StoreError> {
        let valid = !options.prefix.is_empty()
            && options
                .prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(StoreError::new(format!(
                "the NATS inbox prefix {:?} must be ASCII letters, digits, - and _",
                options.prefix
            )));
        }
        if options.duplicate_window > options.retention {
            return Err(StoreError::new(
                "the NATS inbox's duplicate window must not be longer than its retention",
            ));
        }
        let limit = options.request_timeout;
        let client = bounded(
            limit,
            &format!("connecting to NATS at {url}"),
            async_nats::ConnectOptions::new()
                .name("hookspec-inbox")
                .connection_timeout(limit)
                .request_timeout(Some(limit))
                // Back soon after a server restart; the client's default waits up to 4 s.
                .reconnect_delay_callback(|attempts| {
                    Duration::from_millis(
                        u64::try_from(attempts)
                            .unwrap_or(u64::MAX)
                            .saturating_mul(100)
                            .min(2000),
                    )
                })
                .connect(url),
        )
        .await?;
        let js = jetstream::ContextBuilder::new()
            .timeout(limit)
            .build(client.clone());
        let names = Names::new(&options.prefix);
        for (place, name) in [(Place::Inbox, &names.inbox), (Place::Dead, &names.dead)] {
            let config = stream::Config {
                name: name.clone(),
                subjects: vec![format!("{}.{}.>", names.subjects, place.as_str())],
                storage: StorageType::File,
                retention: RetentionPolicy::Limits,
                discard: DiscardPolicy::Old,
                max_age: options.retention,
                duplicate_window: options.duplicate_window,
                num_replicas: 1,
                ..Default::default()
            };
            bounded(
                limit,
                &format!("creating the JetStream stream {name}"),
                js.create_or_update_stream(config),
            )
            .await?;
        }
        let inbox = bounded(
            limit,
            "opening the inbox stream",
            js.get_stream_no_info(&names.inbox),
        )
        .await?;
        let dead = bounded(
            limit,
            "opening the dead-letter stream",
            js.get_stream_no_info(&names.dead),
        )
        .await?;
        let kv = match bounded(
            limit,
            "opening the claims bucket",
            js.get_key_value(&names.bucket),
        )
        .await
        {
            Ok(kv) => kv,
            Err(_) => {
                // The bucket's stream is made here, with the settings of a key-value bucket:
                // the client's own bucket creation first reads the account's information in a
                // shape nats-server 2.9 does not send.
                let config = stream::Config {
                    name: format!("KV_{}", names.bucket),
                    description: Some("hookspec inbox: processing state per delivery".to_owned()),
                    subjects: vec![format!("$KV.{}.>", names.bucket)],
                    max_messages_per_subject: 1,
                    max_age: options.retention,
                    storage: StorageType::File,
                    discard: DiscardPolicy::New,
                    allow_rollup: true,
                    deny_delete: true,
                    allow_direct: true,
                    num_replicas: 1,
                    ..Default::default()
                };
                bounded(
                    limit,
                    &format!("creating the JetStream bucket {}", names.bucket),
                    js.create_stream(config),
                )
                .await?;
                bounded(
                    limit,
                    "opening the claims bucket",
                    js.get_key_value(&names.bucket),
                )
                .await?
            }
        };
        Ok(NatsStore {
            inner: Arc::new(Inner {
                client,
                js,
                kv,
                inbox,
                dead,
                names,
                options,
                consumers: Mutex::new(HashMap::new()),
            }),
            clock: crate::clock::system(),
        })
    }

    /// The same store reading the time from `clock`: lease ends, retry and completion
    /// times. The server's own timers (a released message's redelivery delay, the ack
    /// wait, the streams' `max_age`) still run in real time; a message the server hands
    /// back early by the clock is released again until the clock says it is due.
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    fn now_ms(&self) -> i64 {
        to_ms(self.clock.now())
    }

    /// Deletes the streams (their consumers with them) and the bucket of this store's
    /// prefix: everything it stored. For tests, and for starting over.
    pub async fn drop_all(&self) -> Result<(), StoreError> {
        let inner = &self.inner;
        let limit = inner.options.request_timeout;
        self.consumers().clear();
        let mut first_error = None;
        for name in [&inner.names.inbox, &inner.names.dead] {
            if let Err(e) = bounded(
                limit,
                &format!("deleting the stream {name}"),
                inner.js.delete_stream(name),
            )
            .await
            {
                first_error.get_or_insert(e);
            }
        }
        if let Err(e) = bounded(
            limit,
            &format!("deleting the bucket {}", inner.names.bucket),
            inner.js.delete_key_value(&inner.names.bucket),
        )
        .await
        {
            first_error.get_or_insert(e);
        }
        first_error.map_or(Ok(()), Err)
    }

    fn consumers(&self) -> std::sync::MutexGuard<'_, HashMap<String, PullConsumer>> {
        // A panic elsewhere cannot leave the map half-written: use it as it is.
        self.inner
            .consumers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn limit(&self) -> Duration {
        self.inner.options.request_timeout
    }

    fn stream(&self, place: Place) -> &stream::Stream<()> {
        match place {
            Place::Inbox => &self.inner.inbox,
            Place::Dead => &self.inner.dead,
        }
    }

    /// The provider's durable consumer, created on first use.
    async fn consumer(&self, provider: &str) -> Result<PullConsumer, StoreError> {
        if let Some(c) = self.consumers().get(provider) {
            return Ok(c.clone());
        }
        let inner = &self.inner;
        let name = inner.names.consumer(provider);
        let config = pull::Config {
            durable_name: Some(name.clone()),
            description: Some(format!("hookspec inbox workers of {provider}")),
            deliver_policy: DeliverPolicy::All,
            ack_policy: AckPolicy::Explicit,
            ack_wait: inner.options.ack_wait,
            max_deliver: inner.options.max_deliver,
            filter_subject: format!("{}.inbox.{}.>", inner.names.subjects, token(provider)),
            max_ack_pending: -1,
            ..Default::default()
        };
        let consumer = bounded(
            self.limit(),
            &format!("creating the JetStream consumer {name}"),
            inner.inbox.get_or_create_consumer(&name, config),
        )
        .await?;
        self.consumers()
            .insert(provider.to_owned(), consumer.clone());
        Ok(consumer)
    }

    /// The marker entry of `key` (a delete marker included).
    async fn entry(&self, key: &str) -> Result<Option<kv::Entry>, StoreError> {
        bounded(
            self.limit(),
            "reading a claim marker",
            self.inner.kv.entry(key.to_owned()),
        )
        .await
    }

    /// Writes `marker` if the key is still at `revision` (0: has no value yet); `None`
    /// when it is not.
    async fn cas(
        &self,
        key: &str,
        marker: &Marker,
        revision: u64,
    ) -> Result<Option<u64>, StoreError> {
        let write = self.inner.kv.update(key, marker.encode().into(), revision);
        match tokio::time::timeout(self.limit(), write).await {
            Ok(Ok(revision)) => Ok(Some(revision)),
            Ok(Err(e)) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => Ok(None),
            Ok(Err(e)) => Err(StoreError::new(format!("writing a claim marker: {e}"))),
            Err(_) => Err(StoreError::new(format!(
                "writing a claim marker: no answer from the NATS server within {} ms",
                self.limit().as_millis()
            ))),
        }
    }

    /// Answers a delivered message and waits for the server to confirm; `false` (logged)
    /// when it did not, which the server's own redelivery then covers.
    async fn answer(&self, reply: &Subject, kind: AckKind) -> bool {
        let what = match kind {
            AckKind::Ack => "acknowledging",
            AckKind::Nak(_) => "releasing",
            AckKind::Term => "terminating",
            AckKind::Progress | AckKind::Next => "answering",
        };
        let request = self.inner.client.request(reply.clone(), kind.into());
        match bounded(self.limit(), what, request).await {
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(reason = %e, "a JetStream message was not answered; the server will redeliver it");
                false
            }
        }
    }

    async fn delete_message(&self, place: Place, seq: u64) -> Result<(), StoreError> {
        bounded(
            self.limit(),
            &format!("deleting message {seq} of the {} stream", place.as_str()),
            self.stream(place).delete_message(seq),
        )
        .await
        .map(|_| ())
    }

    async fn publish(
        &self,
        limit: Duration,
        subject: String,
        headers: HeaderMap,
        body: Vec<u8>,
    ) -> Result<jetstream::publish::PublishAck, StoreError> {
        let js = &self.inner.js;
        bounded(limit, "publishing to JetStream", async move {
            js.publish_with_headers(subject, headers, body.into())
                .await?
                .await
                .map_err(async_nats::Error::from)
        })
        .await
    }

    /// Fetches up to `max` messages of `provider` that the server has for delivery now.
    async fn fetch(
        &self,
        provider: &str,
        max: usize,
    ) -> Result<Vec<jetstream::Message>, StoreError> {
        let consumer = self.consumer(provider).await?;
        let fetched = self.fetch_from(&consumer, provider, max).await;
        if fetched.is_err() {
            // The consumer may be gone (its stream deleted and made again): the next claim
            // looks it up afresh.
            self.consumers().remove(provider);
        }
        fetched
    }

    async fn fetch_from(
        &self,
        consumer: &PullConsumer,
        provider: &str,
        max: usize,
    ) -> Result<Vec<jetstream::Message>, StoreError> {
        let deadline = tokio::time::Instant::now() + self.limit();
        let doing = format!("fetching deliveries of {provider}");
        // `fetch` asks with no_wait: the server sends what it has and then says so.
        let mut batch =
            match tokio::time::timeout_at(deadline, consumer.fetch().max_messages(max).messages())
                .await
            {
                Ok(Ok(batch)) => batch,
                Ok(Err(e)) => return Err(StoreError::new(format!("{doing}: {e}"))),
                Err(_) => {
                    return Err(StoreError::new(format!(
                        "{doing}: no answer from the NATS server"
                    )))
                }
            };
        let mut messages = Vec::new();
        loop {
            match tokio::time::timeout_at(deadline, batch.next()).await {
                Ok(Some(Ok(m))) => messages.push(m),
                Ok(None) => break,
                Ok(Some(Err(e))) if messages.is_empty() => {
                    return Err(StoreError::new(format!("{doing}: {e}")))
                }
                Err(_) if messages.is_empty() => {
                    return Err(StoreError::new(format!(
                        "{doing}: no answer from the NATS server"
                    )))
                }
                // What arrived is claimed; the rest comes again after the ack wait.
                Ok(Some(Err(_))) | Err(_) => break,
            }
        }
        Ok(messages)
    }

    /// Takes the claim on one fetched message, or answers it and skips it.
    async fn take(
        &self,
        message: jetstream::Message,
        worker: &str,
        lease: Duration,
    ) -> Result<Option<Claimed<NatsLease>>, StoreError> {
        let Some(reply) = message.message.reply.clone() else {
            return Ok(None);
        };
        let seq = match message.info() {
            Ok(info) => info.stream_sequence,
            Err(e) => {
                tracing::warn!(reason = %e, "a JetStream delivery with an unreadable reply subject");
                return Ok(None);
            }
        };
        let (delivery, extra) = match decode_message(
            message.message.headers.as_ref(),
            &message.message.payload,
        ) {
            Ok(decoded) => decoded,
            Err(e) => {
                // Not a delivery this store wrote: no worker could ever handle it.
                tracing::error!(reason = %e, seq, "terminating a message the inbox cannot read");
                self.answer(&reply, AckKind::Term).await;
                return Ok(None);
            }
        };
        let key = bucket_key(&delivery.provider, &delivery.idempotency_key);
        let now = self.now_ms();
        let (revision, prior) = match self.entry(&key).await? {
            None => (0, None),
            Some(e) if e.operation != Operation::Put => {
                if extra.gen < e.revision {
                    // Stored before the key was purged.
                    self.answer(&reply, AckKind::Term).await;
                    return Ok(None);
                }
                (e.revision, None)
            }
            Some(e) => (e.revision, Some(Marker::decode(&e.value)?)),
        };
        let base = match prior {
            None => Marker {
                mark: Mark::Pending,
                attempts: 0,
                seq,
                gen: extra.gen,
                error: None,
                next: to_ms(delivery.received_at),
            },
            Some(m) if m.seq != seq => {
                // Another copy is the delivery's live one (a requeued copy, or the first of
                // a provider's retries stored after the deduplication window): this copy
                // has nothing left to do.
                let kind = match m.mark {
                    Mark::Dead { .. } => AckKind::Term,
                    _ => AckKind::Ack,
                };
                self.answer(&reply, kind).await;
                return Ok(None);
            }
            Some(m) => match m.mark {
                Mark::Done { .. } => {
                    // Completed, but the acknowledgement did not arrive.
                    self.answer(&reply, AckKind::Ack).await;
                    return Ok(None);
                }
                Mark::Dead { .. } => {
                    // Dead-lettering stopped halfway: finish it.
                    let error = m.error.clone().unwrap_or_default();
                    let id = extra.id.unwrap_or(seq);
                    self.dead_letter(&delivery, id, m.gen, seq, &error, &reply)
                        .await?;
                    return Ok(None);
                }
                Mark::Processing { until, .. } if until > now => {
                    self.answer(&reply, AckKind::Nak(Some(wait_until(until, now))))
                        .await;
                    return Ok(None);
                }
                Mark::Pending if m.next > now => {
                    self.answer(&reply, AckKind::Nak(Some(wait_until(m.next, now))))
                        .await;
                    return Ok(None);
                }
                _ => m,
            },
        };
        let marker = Marker {
            mark: Mark::Processing {
                worker: worker.to_owned(),
                until: now.saturating_add(millis(lease)),
            },
            attempts: base.attempts.saturating_add(1),
            ..base
        };
        let Some(revision) = self.cas(&key, &marker, revision).await? else {
            // Another worker claimed a copy of it between our read and write.
            self.answer(&reply, AckKind::Nak(Some(RACE_PAUSE))).await;
            return Ok(None);
        };
        // The lease: the server redelivers the message when it runs out. If this answer is
        // lost the message comes back after the ack wait, finds the lease and waits again.
        self.answer(&reply, AckKind::Nak(Some(lease))).await;
        let stored = StoredDelivery {
            id: extra.id.unwrap_or(seq),
            delivery,
            state: State::Processing,
            attempts: marker.attempts,
            next_attempt_at: from_ms(marker.next),
            last_error: marker.error.clone(),
            done_at: None,
        };
        Ok(Some(Claimed {
            stored,
            lease: NatsLease {
                key,
                revision,
                reply,
                sequence: seq,
                marker,
            },
        }))
    }

    /// Publishes the dead letter of the inbox copy `seq`, then terminates and deletes that
    /// copy. The message id makes a second run harmless.
    async fn dead_letter(
        &self,
        d: &NewDelivery,
        id: u64,
        gen: u64,
        seq: u64,
        error: &str,
        reply: &Subject,
    ) -> Result<(), StoreError> {
        let key = bucket_key(&d.provider, &d.idempotency_key);
        let mut headers = message_headers(d, &format!("{key}:{seq}"), gen, Some(id))?;
        header(&mut headers, H_FROM, &seq.to_string())?;
        header(&mut headers, H_ERROR, &json_text(error))?;
        let subject = self.inner.names.subject(Place::Dead, &d.provider, &d.event);
        self.publish(self.limit(), subject, headers, d.body.clone())
            .await?;
        self.answer(reply, AckKind::Term).await;
        if let Err(e) = self.delete_message(Place::Inbox, seq).await {
            // Harmless: the marker names the dead letter as the live copy.
            tracing::warn!(reason = %e, "the dead-lettered inbox copy was not deleted");
        }
        Ok(())
    }

    /// The live copies of deliveries matching `filter`, oldest (lowest id) first.
    async fn scan(&self, filter: &Filter) -> Result<Vec<Found>, StoreError> {
        let now = self.now_ms();
        let mut markers = HashMap::new();
        let mut found = Vec::new();
        let wants =
            |f: &dyn Fn(&State) -> bool| filter.states.is_empty() || filter.states.iter().any(f);
        if wants(&|s| *s != State::Dead) {
            self.scan_stream(Place::Inbox, filter, now, &mut markers, &mut found)
                .await?;
        }
        if wants(&|s| *s == State::Dead) {
            self.scan_stream(Place::Dead, filter, now, &mut markers, &mut found)
                .await?;
        }
        found.sort_by_key(|f| (f.stored.id, f.seq));
        Ok(found)
    }

    async fn scan_stream(
        &self,
        place: Place,
        filter: &Filter,
        now: i64,
        markers: &mut HashMap<String, Option<kv::Entry>>,
        found: &mut Vec<Found>,
    ) -> Result<(), StoreError> {
        let stream = self.stream(place);
        let subject = self.inner.names.filter_subject(place, filter);
        // Everything but the state is known before the marker is read.
        let before_state = Filter {
            states: Vec::new(),
            ..filter.clone()
        };
        let mut next = 1;
        loop {
            let get = stream
                .raw_message_builder()
                .sequence(next)
                .next_by_subject(subject.clone())
                .send();
            let message = match tokio::time::timeout(self.limit(), get).await {
                Ok(Ok(m)) => m,
                Ok(Err(e)) if e.kind() == stream::RawMessageErrorKind::NoMessageFound => break,
                Ok(Err(e)) => {
                    return Err(StoreError::new(format!(
                        "reading the {} stream: {e}",
                        place.as_str()
                    )))
                }
                Err(_) => {
                    return Err(StoreError::new(format!(
                        "reading the {} stream: no answer from the NATS server",
                        place.as_str()
                    )))
                }
            };
            let seq = message.sequence;
            next = seq.saturating_add(1);
            let (delivery, extra) = match decode_message(Some(&message.headers), &message.payload) {
                Ok(decoded) => decoded,
                Err(e) => {
                    tracing::warn!(reason = %e, seq, stream = place.as_str(), "skipping a message the inbox cannot read");
                    continue;
                }
            };
            let mut stored = StoredDelivery {
                id: extra.id.unwrap_or(seq),
                next_attempt_at: delivery.received_at,
                delivery,
                state: State::Pending,
                attempts: 0,
                last_error: None,
                done_at: None,
            };
            if !before_state.matches(&stored) {
                continue;
            }
            let key = bucket_key(&stored.delivery.provider, &stored.delivery.idempotency_key);
            let entry = match markers.get(&key) {
                Some(entry) => entry.clone(),
                None => {
                    let entry = self.entry(&key).await?;
                    markers.insert(key.clone(), entry.clone());
                    entry
                }
            };
            let (revision, marker) = match entry {
                None => (0, None),
                Some(e) if e.operation != Operation::Put => {
                    if extra.gen < e.revision {
                        continue; // purged
                    }
                    (e.revision, None)
                }
                Some(e) => (e.revision, Some(Marker::decode(&e.value)?)),
            };
            match (&marker, place) {
                (None, Place::Inbox) => {}
                (None, Place::Dead) => continue,
                (Some(m), Place::Inbox) => {
                    if m.seq != seq || matches!(m.mark, Mark::Dead { .. }) {
                        continue;
                    }
                }
                (Some(m), Place::Dead) => {
                    if extra.from != Some(m.seq) || !matches!(m.mark, Mark::Dead { .. }) {
                        continue;
                    }
                }
            }
            if let Some(m) = &marker {
                stored.state = m.state(now);
                stored.attempts = m.attempts;
                stored.next_attempt_at = from_ms(m.next);
                stored.last_error = m.error.clone().or(extra.error.clone());
                if let Mark::Done { at } = m.mark {
                    stored.done_at = Some(from_ms(at));
                }
            }
            if filter.matches(&stored) {
                found.push(Found {
                    stored,
                    place,
                    seq,
                    key,
                    revision,
                    gen: extra.gen,
                });
            }
        }
        Ok(())
    }
}

impl Store for NatsStore {
    type Lease = NatsLease;

    fn now(&self) -> SystemTime {
        self.clock.now()
    }

    async fn put(&self, delivery: NewDelivery) -> Result<Put, StoreError> {
        let limit = self.inner.options.publish_timeout;
        bounded(limit, "storing a delivery in JetStream", async {
            let key = bucket_key(&delivery.provider, &delivery.idempotency_key);
            let gen = match self.entry(&key).await? {
                Some(e) if e.operation == Operation::Put => {
                    let m = Marker::decode(&e.value)?;
                    if matches!(m.mark, Mark::Done { .. } | Mark::Dead { .. }) {
                        // Handled or dead already, whether or not the window remembers it.
                        return Ok(Put::Duplicate);
                    }
                    m.gen
                }
                // Purged: a new generation, which the duplicate window has not seen.
                Some(e) => e.revision,
                None => 0,
            };
            let msg_id = match gen {
                0 => key,
                g => format!("{key}:g{g}"),
            };
            let headers = message_headers(&delivery, &msg_id, gen, None)?;
            let subject =
                self.inner
                    .names
                    .subject(Place::Inbox, &delivery.provider, &delivery.event);
            let ack = self.publish(limit, subject, headers, delivery.body).await?;
            Ok::<_, StoreError>(if ack.duplicate {
                Put::Duplicate
            } else {
                Put::Stored
            })
        })
        .await
    }

    async fn claim(
        &self,
        worker: &str,
        providers: &[String],
        max: usize,
        lease: Duration,
    ) -> Result<Vec<Claimed<NatsLease>>, StoreError> {
        let mut claimed = Vec::new();
        for provider in providers {
            if claimed.len() >= max {
                break;
            }
            let messages = match self.fetch(provider, max - claimed.len()).await {
                Ok(messages) => messages,
                Err(e) if claimed.is_empty() => return Err(e),
                Err(e) => {
                    tracing::warn!(reason = %e, provider, "claiming stopped early");
                    break;
                }
            };
            for message in messages {
                match self.take(message, worker, lease).await {
                    Ok(Some(c)) => claimed.push(c),
                    Ok(None) => {}
                    // The messages not looked at come back after the ack wait.
                    Err(e) if claimed.is_empty() => return Err(e),
                    Err(e) => {
                        tracing::warn!(reason = %e, provider, "claiming stopped early");
                        return Ok(claimed);
                    }
                }
            }
        }
        Ok(claimed)
    }

    async fn complete(&self, claimed: &Claimed<NatsLease>) -> Result<bool, StoreError> {
        let lease = &claimed.lease;
        let done = Marker {
            mark: Mark::Done { at: self.now_ms() },
            error: None,
            ..lease.marker.clone()
        };
        if self.cas(&lease.key, &done, lease.revision).await?.is_none() {
            return Ok(false);
        }
        // The marker is the outcome; a lost ack only brings the message back to be
        // acknowledged by the next claim that fetches it.
        self.answer(&lease.reply, AckKind::Ack).await;
        Ok(true)
    }

    async fn fail(
        &self,
        claimed: &Claimed<NatsLease>,
        error: &str,
        retry: Retry,
    ) -> Result<bool, StoreError> {
        let lease = &claimed.lease;
        let now = self.now_ms();
        match retry {
            Retry::At(t) => {
                let pending = Marker {
                    mark: Mark::Pending,
                    error: Some(error.to_owned()),
                    next: to_ms(t),
                    ..lease.marker.clone()
                };
                if self
                    .cas(&lease.key, &pending, lease.revision)
                    .await?
                    .is_none()
                {
                    return Ok(false);
                }
                let wait = wait_until(pending.next, now);
                // A bare nak is redelivered at once; any delay, even zero, waits on a timer.
                let kind = AckKind::Nak((!wait.is_zero()).then_some(wait));
                self.answer(&lease.reply, kind).await;
                Ok(true)
            }
            Retry::Dead => {
                let dead = Marker {
                    mark: Mark::Dead { at: now },
                    error: Some(error.to_owned()),
                    ..lease.marker.clone()
                };
                if self.cas(&lease.key, &dead, lease.revision).await?.is_none() {
                    return Ok(false);
                }
                let s = &claimed.stored;
                self.dead_letter(
                    &s.delivery,
                    s.id,
                    dead.gen,
                    lease.sequence,
                    error,
                    &lease.reply,
                )
                .await?;
                Ok(true)
            }
        }
    }

    async fn list(&self, filter: &Filter, limit: usize) -> Result<Vec<StoredDelivery>, StoreError> {
        let mut found = self.scan(filter).await?;
        found.truncate(limit);
        Ok(found.into_iter().map(|f| f.stored).collect())
    }

    async fn requeue(&self, filter: &Filter) -> Result<u64, StoreError> {
        let mut count = 0;
        for f in self.scan(filter).await? {
            let d = &f.stored.delivery;
            let msg_id = format!("{}:requeue:{}", f.key, random_id());
            let headers = message_headers(d, &msg_id, f.gen, Some(f.stored.id))?;
            let subject = self
                .inner
                .names
                .subject(Place::Inbox, &d.provider, &d.event);
            let ack = self
                .publish(self.limit(), subject, headers, d.body.clone())
                .await?;
            let marker = Marker {
                mark: Mark::Pending,
                attempts: 0,
                seq: ack.sequence,
                gen: f.gen,
                error: f.stored.last_error.clone(),
                next: self.now_ms(),
            };
            if self.cas(&f.key, &marker, f.revision).await?.is_none() {
                // It changed since it was read: leave it as it is now.
                if let Err(e) = self.delete_message(Place::Inbox, ack.sequence).await {
                    tracing::warn!(reason = %e, "an unused requeued copy was not deleted");
                }
                continue;
            }
            if let Err(e) = self.delete_message(f.place, f.seq).await {
                // Harmless: the marker names the new copy as the live one.
                tracing::warn!(reason = %e, "the requeued delivery's old copy was not deleted");
            }
            count += 1;
        }
        Ok(count)
    }

    async fn purge(&self, filter: &Filter) -> Result<u64, StoreError> {
        let found = self.scan(filter).await?;
        for f in &found {
            self.delete_message(f.place, f.seq).await?;
            // The delete marker left behind starts the key's next generation.
            bounded(
                self.limit(),
                "deleting a claim marker",
                self.inner.kv.delete(&f.key),
            )
            .await?;
        }
        Ok(found.len() as u64)
    }

    async fn stats(&self) -> Result<Stats, StoreError> {
        let mut counts: HashMap<State, u64> = HashMap::new();
        let mut oldest_pending: Option<SystemTime> = None;
        for f in self.scan(&Filter::default()).await? {
            *counts.entry(f.stored.state).or_default() += 1;
            if f.stored.state == State::Pending {
                let at = f.stored.delivery.received_at;
                oldest_pending = Some(oldest_pending.map_or(at, |o| o.min(at)));
            }
        }
        let mut by_state: Vec<(State, u64)> = counts.into_iter().collect();
        by_state.sort();
        Ok(Stats {
            by_state,
            oldest_pending,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_keep_plain_names_and_escape_the_rest_injectively() {
        assert_eq!(token("plaid"), "plaid");
        assert_eq!(token("Sync-Account9"), "Sync-Account9");
        assert_eq!(token(""), "_");
        assert_eq!(token("a.b c*>"), "a_2eb_20c_2a_3e");
        assert_eq!(token("_"), "_5f");
        assert_ne!(bucket_key("a:b", "c"), bucket_key("a", "b:c"));
        assert_eq!(bucket_key("plaid", "sha256:ab"), "plaid.sha256_3aab");
    }

    #[test]
    fn markers_round_trip() {
        let m = Marker {
            mark: Mark::Processing {
                worker: "host:1/0".to_owned(),
                until: 1_700_000_000_000,
            },
            attempts: 3,
            seq: 42,
            gen: 7,
            error: Some("line one\nline two".to_owned()),
            next: 1_699_999_999_000,
        };
        assert_eq!(Marker::decode(&m.encode()).unwrap(), m);
        assert_eq!(
            m.state(1_700_000_000_001),
            State::Pending,
            "an expired lease"
        );
        assert_eq!(m.state(1_699_999_999_999), State::Processing);
        let dead = Marker {
            mark: Mark::Dead { at: 5 },
            error: None,
            ..m
        };
        assert_eq!(Marker::decode(&dead.encode()).unwrap(), dead);
        assert!(Marker::decode(b"{\"state\":\"lost\"}").is_err());
    }

    #[test]
    fn message_headers_round_trip_text_exactly() {
        let d = NewDelivery {
            provider: "plaid".to_owned(),
            event: "SYNC_UPDATES_AVAILABLE".to_owned(),
            idempotency_key: "  spaced key\r\n".to_owned(),
            headers: vec![("x-a".to_owned(), " v ".to_owned())],
            body: b"\x00\xffbody".to_vec(),
            peer: Some("::1".parse().unwrap()),
            received_at: from_ms(1_700_000_000_123),
        };
        let h = message_headers(&d, "plaid.id", 9, Some(4)).unwrap();
        let (back, extra) = decode_message(Some(&h), &d.body).unwrap();
        assert_eq!(back, d);
        assert_eq!(extra.gen, 9);
        assert_eq!(extra.id, Some(4));
    }
}
