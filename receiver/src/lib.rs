//! The reference receiver: every provider of the `hookspec` crate mounted on one axum
//! server at `/<provider>`, verifying each delivery and storing each accepted event once
//! (deduplicated by idempotency key) in an in-memory log.
//!
//! It is what the conformance suite must pass 100% against, and a model to copy: the
//! receiving itself is `hookspec::router` plus a [`hookspec::runtime::Receiver`] that
//! claims keys and records events. [`Fault`]s switch on one misbehaviour at a time so the
//! suite can prove that each of its cases catches what it is meant to catch; they live in
//! their own module and are off unless asked for.

mod faults;
mod follow_up;
mod log;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use hookspec::runtime::verify::{AuthScheme, Credentials, HttpKeySource};
use hookspec::runtime::{Claim, Delivery, Handled, HandlerError, Provider, Receiver};
use tokio::net::TcpListener;
use tokio::sync::Notify;

pub use faults::Fault;
pub use follow_up::{CallerValues, FollowUpTarget};
pub use log::{EventLog, LoggedEvent};

/// The credentials the receiver checks deliveries with. One set serves every provider;
/// each provider's verifier uses the parts its spec's schemes need.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    /// Expected `Authorization: Basic` user and password (Belvo, when configured).
    pub basic: Option<(String, String)>,
    /// Expected `Authorization: Bearer` token (Belvo, when configured).
    pub bearer: Option<String>,
    /// HMAC secrets, several during a rotation (Bridge).
    pub hmac_secrets: Vec<String>,
    /// Accepted identifying-header values (Vezgo client ids).
    pub client_ids: Vec<String>,
    /// Where to fetch JWT verification keys (Plaid's API base URL, or a local stand-in).
    pub key_server: Option<KeyServer>,
}

/// A provider API the receiver fetches JWT verification keys from.
#[derive(Debug, Clone)]
pub struct KeyServer {
    /// Base URL, e.g. `https://sandbox.plaid.com` or the conformance suite's stand-in.
    pub base_url: String,
    /// The API credentials the key request carries (`client_id`, `secret` for Plaid).
    pub credentials: Vec<(String, String)>,
}

/// How to run the receiver.
#[derive(Debug, Clone)]
pub struct ReceiverConfig {
    /// Provider spec names to mount; each at `/<name>`.
    pub providers: Vec<String>,
    /// Credentials to verify with.
    pub secrets: Secrets,
    /// Source networks accepted besides each provider's published addresses (a local
    /// test sends from loopback, which no provider lists).
    pub allow_ips: Vec<ipnet::IpNet>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Misbehaviours to switch on (for testing the conformance suite); normally empty.
    pub faults: Vec<Fault>,
    /// Where to make the follow-up calls events ask for; none are made without it.
    pub follow_ups: Option<FollowUpTarget>,
}

impl ReceiverConfig {
    /// Every provider in the crate, no credentials, no faults.
    pub fn all_providers() -> Self {
        ReceiverConfig {
            providers: hookspec::PROVIDERS.iter().map(|p| p.to_string()).collect(),
            secrets: Secrets::default(),
            allow_ips: Vec::new(),
            trusted_proxies: Vec::new(),
            faults: Vec::new(),
            follow_ups: None,
        }
    }

    /// The credentials for one provider: the shared secrets, plus a key source for the
    /// provider's JWT scheme when it has one. The receiver verifies `provider`'s
    /// deliveries with exactly these.
    pub fn credentials(&self, provider: &str) -> anyhow::Result<Credentials> {
        let s = &self.secrets;
        let mut c = Credentials::new()
            .allow_ips(self.allow_ips.iter().copied())
            .trusted_proxies(self.trusted_proxies.iter().copied());
        if let Some((user, password)) = &s.basic {
            c = c.basic(user.clone(), password.clone());
        }
        if let Some(token) = &s.bearer {
            c = c.bearer(token.clone());
        }
        for secret in &s.hmac_secrets {
            c = c.hmac_secret(secret.clone());
        }
        for id in &s.client_ids {
            c = c.client_id(id.clone());
        }
        let jwt = hookspec::auth(provider)
            .unwrap_or_default()
            .iter()
            .find_map(|scheme| match scheme {
                AuthScheme::Jwt(jwt) => Some(jwt),
                _ => None,
            });
        if let (Some(jwt), Some(keys)) = (jwt, &s.key_server) {
            let mut source = HttpKeySource::new(&jwt.key_endpoint, &keys.base_url)
                .map_err(|e| anyhow::anyhow!("{provider} key source: {e}"))?;
            for (field, value) in &keys.credentials {
                source = source.credential(field.clone(), value.clone());
            }
            c = c.key_source(source);
        }
        Ok(faults::adjust_credentials(&self.faults, c))
    }
}

impl ReceiverConfig {
    /// Why `provider` cannot be mounted with these settings (a credential its spec's auth
    /// needs is missing, or there is no such provider); `Ok` when it can.
    pub fn check(&self, provider: &str) -> anyhow::Result<()> {
        hookspec::config(provider, self.credentials(provider)?)
            .ok_or_else(|| anyhow::anyhow!("no provider named {provider:?}"))?
            .map(drop)
            .map_err(|e| anyhow::anyhow!("{e}"))
    }
}

/// Records accepted events once each: the receiver every provider's router is given.
#[derive(Clone)]
pub struct Recorder {
    log: EventLog,
    faults: Arc<[Fault]>,
    follow_ups: Option<Arc<follow_up::FollowUps>>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("log", &self.log)
            .field("faults", &self.faults)
            .field("follow_ups", &self.follow_ups.is_some())
            .finish()
    }
}

impl<P: Provider> Receiver<P> for Recorder {
    fn claim(&self, delivery: &Delivery) -> impl Future<Output = Claim> + Send {
        // With the duplicate fault on, every delivery looks new so `handle` sees the repeat.
        let new = self.faults.contains(&Fault::FailOnDuplicate)
            || self.log.claim(delivery.provider, &delivery.idempotency_key);
        async move {
            if new {
                Claim::New
            } else {
                Claim::Duplicate
            }
        }
    }

    fn release(&self, delivery: &Delivery) -> impl Future<Output = ()> + Send {
        self.log
            .release(delivery.provider, &delivery.idempotency_key);
        async {}
    }

    fn handle(&self, event: P::Event, delivery: &Delivery) -> impl Future<Output = Handled> + Send {
        let verdict = faults::on_handle(&self.faults, &self.log, delivery, || {
            P::unknown_fields(&event)
        });
        let follow_up = self.follow_ups.as_ref().and_then(|f| {
            let call = f.prepare::<P>(&event, delivery)?;
            Some((f.clone(), call))
        });
        let entry = LoggedEvent {
            provider: delivery.provider.to_owned(),
            event: delivery.event.to_owned(),
            idempotency_key: delivery.idempotency_key.clone(),
            subject_id: delivery.subject_id.clone(),
        };
        let log = self.log.clone();
        async move {
            verdict.settle().await?;
            log.push(entry);
            // Acknowledge first; the call back to the provider happens after.
            if let Some((follow_ups, call)) = follow_up {
                tokio::spawn(async move { follow_ups.send(call).await });
            }
            Ok::<(), HandlerError>(())
        }
    }
}

/// Builds the app: each configured provider's router nested at `/<provider>`, and
/// `GET /log` answering the accepted events as JSON.
pub fn app(config: &ReceiverConfig, log: EventLog, died: Arc<Notify>) -> anyhow::Result<Router> {
    let faults: Arc<[Fault]> = config.faults.clone().into();
    let follow_ups = match &config.follow_ups {
        Some(target) => Some(Arc::new(follow_up::FollowUps::new(
            target.clone(),
            faults.clone(),
        )?)),
        None => None,
    };
    let recorder = Recorder {
        log: log.clone(),
        faults,
        follow_ups,
    };
    let mut app = Router::new();
    for provider in &config.providers {
        let receiving = hookspec::config(provider, config.credentials(provider)?)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "no provider named {provider:?}; known: {:?}",
                    hookspec::PROVIDERS
                )
            })?
            .map_err(|e| anyhow::anyhow!("{provider}: {e}"))?;
        let receiving = faults::adjust_config(&config.faults, provider, receiving);
        let router = hookspec::router(provider, recorder.clone(), receiving)
            .ok_or_else(|| anyhow::anyhow!("no provider named {provider:?}"))?;
        let router = faults::wrap(&config.faults, provider, router, died.clone());
        app = app.nest(&format!("/{provider}"), router);
    }
    let log_route = get(move || {
        let log = log.clone();
        async move { axum::Json(log.events()) }
    });
    Ok(app.route("/log", log_route))
}

/// A receiver running on a listener.
pub struct RunningReceiver {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its accepted events.
    pub log: EventLog,
    stop: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningReceiver {
    /// The base URL (`http://127.0.0.1:PORT`); providers are below it at `/<provider>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections and waits up to `grace` for open exchanges to end;
    /// connections still open after that (a client that never finishes) are left behind.
    pub async fn shutdown(self, grace: Duration) {
        self.stop.notify_one();
        let _ = tokio::time::timeout(grace, self.task).await;
    }
}

/// Starts the receiver on `listener` in the background.
pub async fn start(
    config: ReceiverConfig,
    listener: TcpListener,
) -> anyhow::Result<RunningReceiver> {
    let addr = listener.local_addr()?;
    let log = EventLog::default();
    let stop = Arc::new(Notify::new());
    let app = app(&config, log.clone(), stop.clone())?;
    let signal = stop.clone();
    let task = tokio::spawn(async move {
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        let served = axum::serve(listener, service)
            .with_graceful_shutdown(async move { signal.notified().await })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "reference receiver stopped");
        }
    });
    Ok(RunningReceiver {
        addr,
        log,
        stop,
        task,
    })
}
