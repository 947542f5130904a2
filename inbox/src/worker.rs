//! Workers: claim due deliveries, parse them again from the stored bytes, run the
//! generated `Handler` (through the runtime's `Receiver`), and complete, retry with
//! backoff and jitter, or dead-letter each.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use hookspec_runtime::{handle, Claim, Delivery, Outcome, Provider, Receiver};
use rand_core::RngCore;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::store::{header_map, Claimed, Retry, Store, StoredDelivery};
use crate::Inbox;

/// How often the first worker purges deliveries past the retention.
const RETENTION_EVERY: Duration = Duration::from_secs(600);

/// How a delivery's handling failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The handler failed or timed out: try again later.
    Retry(String),
    /// It can never succeed (the stored body no longer parses): dead-letter it now.
    Permanent(String),
}

/// One provider's handling of stored deliveries, with the provider's type erased so one
/// worker serves several providers.
pub trait Process: Send + Sync + 'static {
    /// The provider's spec name.
    fn provider(&self) -> &'static str;
    /// Parses and handles one stored delivery under `timeout`.
    fn process<'a>(
        &'a self,
        stored: &'a StoredDelivery,
        timeout: Duration,
    ) -> Pin<Box<dyn Future<Output = Result<(), Failure>> + Send + 'a>>;
}

struct Dispatcher<P, R> {
    provider: P,
    receiver: R,
}

impl<P: Provider, R: Receiver<P>> Process for Dispatcher<P, R> {
    fn provider(&self) -> &'static str {
        self.provider.name()
    }

    fn process<'a>(
        &'a self,
        stored: &'a StoredDelivery,
        timeout: Duration,
    ) -> Pin<Box<dyn Future<Output = Result<(), Failure>> + Send + 'a>> {
        Box::pin(async move {
            let d = &stored.delivery;
            let headers = header_map(&d.headers);
            let event = self
                .provider
                .parse(&headers, &d.body)
                .map_err(|e| Failure::Permanent(format!("the stored body does not parse: {e}")))?;
            let mut delivery = Delivery::of(
                &self.provider,
                &event,
                &headers,
                &d.body,
                d.received_at,
                d.peer,
            );
            // The key the store deduplicated on, whatever the parse reads now.
            delivery.idempotency_key.clone_from(&d.idempotency_key);
            // The handler's own idempotency hook still has its say.
            if self.receiver.claim(&delivery).await == Claim::Duplicate {
                return Ok(());
            }
            match handle(
                &self.provider,
                &self.receiver,
                event,
                &delivery,
                timeout,
                200,
            )
            .await
            .1
            {
                Outcome::Accepted => Ok(()),
                Outcome::HandlerFailed(e) => Err(Failure::Retry(e.message().to_owned())),
                Outcome::TimedOut => Err(Failure::Retry(format!(
                    "the handler did not finish within {} ms",
                    timeout.as_millis()
                ))),
                other => Err(Failure::Retry(other.as_str().to_owned())),
            }
        })
    }
}

/// Exponential backoff with full jitter: attempt `n` waits a random time up to
/// `base * 2^(n-1)`, capped at `max`, so failing deliveries of one burst do not retry in
/// lockstep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling of the first wait.
    pub base: Duration,
    /// The ceiling of any wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(1),
            max: Duration::from_secs(600),
        }
    }
}

impl Backoff {
    /// The ceiling of the wait after attempt `attempt` (1 is the first).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(32);
        self.base
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.max)
    }

    /// A random wait after attempt `attempt`, between a tenth of the ceiling and the
    /// ceiling (never zero, so a failing delivery cannot spin).
    pub fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self.ceiling(attempt).as_millis().max(1) as u64;
        let floor = (ceiling / 10).max(1);
        let jitter = rand_core::OsRng.next_u64() % (ceiling - floor + 1);
        Duration::from_millis(floor + jitter)
    }
}

/// How workers claim and handle deliveries.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Names this process's claims (host and process id by default).
    pub name: String,
    /// How many deliveries one claim takes.
    pub batch: usize,
    /// How long a claim is exclusive; a worker that dies holding it loses it after this.
    pub lease: Duration,
    /// How long a handler may run (kept below `lease`).
    pub handler_timeout: Duration,
    /// Attempts before a delivery is dead-lettered.
    pub max_attempts: u32,
    /// Waits between attempts.
    pub backoff: Backoff,
    /// How often an idle worker looks for due deliveries it was not woken for (retries
    /// coming due, deliveries stored by another replica).
    pub idle_poll: Duration,
    /// How long handled deliveries are kept before the first worker purges them, and
    /// their keys with them: keep it longer than the provider retries (Plaid: 24 hours),
    /// or a late retry is handled again. `None` keeps them until `purge`. Dead letters
    /// are kept for an operator either way.
    pub retention: Option<Duration>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            name: format!(
                "{}-{}",
                std::env::var("HOSTNAME").unwrap_or_else(|_| "worker".to_owned()),
                std::process::id()
            ),
            batch: 16,
            lease: Duration::from_secs(120),
            handler_timeout: Duration::from_secs(60),
            max_attempts: 8,
            backoff: Backoff::default(),
            idle_poll: Duration::from_millis(250),
            retention: Some(Duration::from_secs(7 * 24 * 3600)),
        }
    }
}

/// Workers being set up: which providers they handle, and how.
pub struct Workers<S> {
    inbox: Inbox<S>,
    config: WorkerConfig,
    processors: BTreeMap<&'static str, Arc<dyn Process>>,
}

impl<S: Store> Inbox<S> {
    /// Workers over this inbox.
    pub fn workers(&self, config: WorkerConfig) -> Workers<S> {
        Workers {
            inbox: self.clone(),
            config,
            processors: BTreeMap::new(),
        }
    }
}

impl<S: Store> Workers<S> {
    /// Handles `provider`'s deliveries with `receiver` (a generated `Handler` wrapped in
    /// `hookspec::runtime::Handling`).
    pub fn serve<P: Provider, R: Receiver<P>>(self, provider: P, receiver: R) -> Self {
        self.serve_with(Arc::new(Dispatcher { provider, receiver }))
    }

    /// Handles one provider's deliveries with a [`Process`] of the caller's.
    pub fn serve_with(mut self, process: Arc<dyn Process>) -> Self {
        self.processors.insert(process.provider(), process);
        self
    }

    /// Starts `count` workers on the current Tokio runtime.
    pub fn spawn(self, count: usize) -> WorkerPool {
        let (stop, stopped) = watch::channel(false);
        let shared = Arc::new(self);
        let tasks = (0..count.max(1))
            .map(|i| {
                let shared = shared.clone();
                let stopped = stopped.clone();
                tokio::spawn(async move { shared.run(i, stopped).await })
            })
            .collect();
        WorkerPool { stop, tasks }
    }

    /// Claims and handles once: what one turn of a worker does. Answers how many
    /// deliveries it claimed.
    pub async fn run_once(&self, worker: &str) -> Result<usize, crate::StoreError> {
        let providers: Vec<String> = self.processors.keys().map(|p| p.to_string()).collect();
        let config = &self.config;
        let lease = config
            .lease
            .max(config.handler_timeout + Duration::from_secs(1));
        let claimed = self
            .inbox
            .store
            .claim(worker, &providers, config.batch, lease)
            .await?;
        let n = claimed.len();
        for c in claimed {
            self.process(c).await;
        }
        Ok(n)
    }

    async fn run(&self, index: usize, mut stopped: watch::Receiver<bool>) {
        let worker = format!("{}/{index}", self.config.name);
        let mut purged_at: Option<tokio::time::Instant> = None;
        while !*stopped.borrow() {
            if index == 0 && purged_at.is_none_or(|t| t.elapsed() >= RETENTION_EVERY) {
                purged_at = Some(tokio::time::Instant::now());
                self.purge_expired().await;
            }
            let pause = match self.run_once(&worker).await {
                Ok(0) => self.config.idle_poll,
                Ok(_) => continue,
                Err(e) => {
                    tracing::warn!(reason = %e, worker, "claiming from the inbox failed");
                    self.config.idle_poll
                }
            };
            tokio::select! {
                _ = self.inbox.wake.notified() => {}
                _ = tokio::time::sleep(pause) => {}
                _ = stopped.changed() => {}
            }
        }
    }

    /// Purges done deliveries older than the retention.
    pub async fn purge_expired(&self) {
        let Some(before) = self
            .config
            .retention
            .and_then(|r| self.inbox.store.now().checked_sub(r))
        else {
            return;
        };
        let expired = crate::Filter {
            states: vec![crate::State::Done],
            until: Some(before),
            ..crate::Filter::default()
        };
        match self.inbox.store.purge(&expired).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "handled deliveries past the retention purged"),
            Err(e) => tracing::warn!(reason = %e, "purging past the retention failed"),
        }
    }

    async fn process(&self, claimed: Claimed<S::Lease>) {
        let d = &claimed.stored.delivery;
        let span = tracing::info_span!(
            "inbox.process",
            provider = d.provider.as_str(),
            event = d.event.as_str(),
            idempotency_key = d.idempotency_key.as_str(),
            attempt = claimed.stored.attempts,
        );
        self.process_in_span(&claimed).instrument(span).await;
    }

    async fn process_in_span(&self, claimed: &Claimed<S::Lease>) {
        let stored = &claimed.stored;
        let d = &stored.delivery;
        let metrics = &self.inbox.metrics;
        let store = &self.inbox.store;
        let result = match self.processors.get(d.provider.as_str()) {
            Some(p) => p.process(stored, self.config.handler_timeout).await,
            None => Err(Failure::Retry(format!("no worker handles {}", d.provider))),
        };
        let written = match result {
            Ok(()) => {
                let done = store.complete(claimed).await;
                if matches!(done, Ok(true)) {
                    metrics.processed();
                    tracing::info!("processed");
                }
                done
            }
            Err(failure) => {
                let (reason, retry) = match failure {
                    Failure::Permanent(reason) => (reason, Retry::Dead),
                    Failure::Retry(reason) if stored.attempts >= self.config.max_attempts => {
                        (reason, Retry::Dead)
                    }
                    Failure::Retry(reason) => {
                        let wait = self.config.backoff.delay(stored.attempts);
                        (reason, Retry::At(store.now() + wait))
                    }
                };
                let failed = store.fail(claimed, &reason, retry).await;
                if matches!(failed, Ok(true)) {
                    match retry {
                        Retry::Dead => {
                            metrics.dead_lettered();
                            tracing::error!(reason, "dead-lettered");
                        }
                        Retry::At(_) => {
                            metrics.retried();
                            tracing::warn!(reason, "handling failed; retrying later");
                        }
                    }
                }
                failed
            }
        };
        match written {
            Ok(true) => {}
            // Another worker took the claim over after the lease ran out; its outcome
            // is the one that counts.
            Ok(false) => tracing::warn!("the claim was lost before the outcome was stored"),
            Err(e) => {
                tracing::error!(reason = %e, "storing the outcome failed; the lease will run out and the delivery be claimed again")
            }
        }
    }
}

/// Running workers; dropping it leaves them running, [`WorkerPool::shutdown`] stops them
/// between deliveries.
pub struct WorkerPool {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl WorkerPool {
    /// Stops every worker after its current delivery and waits for them.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap_and_jitters_below_the_ceiling() {
        let b = Backoff {
            base: Duration::from_secs(1),
            max: Duration::from_secs(60),
        };
        assert_eq!(b.ceiling(1), Duration::from_secs(1));
        assert_eq!(b.ceiling(4), Duration::from_secs(8));
        assert_eq!(b.ceiling(40), Duration::from_secs(60));
        let waits: Vec<Duration> = (0..200).map(|_| b.delay(4)).collect();
        assert!(waits
            .iter()
            .all(|w| *w >= Duration::from_millis(800) && *w <= Duration::from_secs(8)));
        // Jitter: 200 draws are not all the same.
        assert!(waits.iter().any(|w| *w != waits[0]));
    }
}
