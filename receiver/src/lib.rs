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
pub mod secret_path;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use std::collections::BTreeMap;

use hookspec::runtime::core::{Credentials, KeyApi};
use hookspec::runtime::verify::{self, AuthScheme};
use hookspec::runtime::{
    Claim, Config, Delivery, Handled, HandlerError, Provider, Receiver, SpecProvider, VisitProvider,
};
use hookspec_codegen::ProviderSpec;
use hookspec_inbox::{AnyStore, Inbox, WorkerConfig, WorkerPool, Workers};
use tokio::net::TcpListener;
use tokio::sync::Notify;

pub use faults::Fault;
pub use follow_up::{CallerValues, FollowUpTarget};
pub use log::{EventLog, LoggedEvent};

/// The credentials the receiver checks deliveries with. One shared set serves every
/// provider (each verifier uses the parts its spec's schemes need); JWT keys come from a
/// key API per provider, since each JWT provider publishes its own.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    /// `Authorization` values, HMAC secrets and client ids (its `key_api` is not used:
    /// see `key_apis`).
    pub shared: Credentials,
    /// By provider: where its JWT verification keys come from (its API base URL or key-set
    /// URL, or a local stand-in) and what a key request carries.
    pub key_apis: BTreeMap<String, KeyApi>,
    /// By provider: credentials of its own, used instead of `shared` (each provider's
    /// secrets written as its spec says: text for one, `whsec_` base64 for another).
    pub by_provider: BTreeMap<String, Credentials>,
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
    /// Providers known only from specs read at run time (`--spec-dir`): a name in
    /// `providers` that the `hookspec` crate lacks is mounted from its spec here, verified
    /// by the same verifiers and routed by its discriminator table, with no rebuild.
    pub specs: Vec<ProviderSpec>,
    /// The objects (subject ids) the receiver knows, as a stateful receiver's records;
    /// consulted only by [`Fault::ServerErrorOnUnknownSubject`].
    pub known_subjects: Vec<String>,
    /// Inbox mode: the store URL (`sqlite://PATH`, `postgres://…`, `nats://…`). Each
    /// delivery is acknowledged once it is durable there, and workers handle it after.
    pub inbox: Option<String>,
    /// How many inbox workers to run.
    pub inbox_workers: usize,
    /// How long an inbox worker's claim lasts (the default's two minutes when `None`):
    /// a delivery claimed by a worker that died is handled again after it.
    pub inbox_lease: Option<Duration>,
    /// A file each handler success is appended to (`provider<TAB>key`), so a test can see
    /// handling across crashes and restarts of the receiver.
    pub handled_log: Option<std::path::PathBuf>,
    /// Providers mounted behind a secret path segment, `provider -> token`: served at
    /// `/<provider>/<token>` only (the one credential of a provider that authenticates
    /// nothing, see [`secret_path`]).
    pub secret_paths: BTreeMap<String, String>,
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
            specs: Vec::new(),
            known_subjects: Vec::new(),
            inbox: None,
            inbox_workers: 2,
            inbox_lease: None,
            handled_log: None,
            secret_paths: BTreeMap::new(),
        }
    }

    /// Also mount every provider in `specs` that the `hookspec` crate does not have.
    pub fn with_specs(mut self, specs: Vec<ProviderSpec>) -> Self {
        for spec in &specs {
            if !self.providers.contains(&spec.provider) {
                self.providers.push(spec.provider.clone());
            }
        }
        self.specs = specs;
        self
    }

    /// The providers to mount whose deliveries carry a JWT (they need a key API).
    pub fn jwt_providers(&self) -> Vec<String> {
        self.providers
            .iter()
            .filter(|p| {
                let auth: &[AuthScheme] = match hookspec::auth(p) {
                    Some(auth) => auth,
                    None => self
                        .specs
                        .iter()
                        .find(|s| &s.provider == *p)
                        .map_or(&[], |s| &s.auth),
                };
                hookspec::runtime::core::jwt_scheme(auth).is_some()
            })
            .cloned()
            .collect()
    }

    /// How `provider` is received: the generated module's rules, or those of its spec.
    fn mount(&self, provider: &str) -> anyhow::Result<Mount> {
        if hookspec::PROVIDERS.contains(&provider) {
            let config = hookspec::config(provider, self.credentials(provider)?)
                .ok_or_else(|| anyhow::anyhow!("no provider named {provider:?}"))?
                .map_err(|e| anyhow::anyhow!("{provider}: {e}"))?;
            return Ok(Mount {
                receiving: config,
                spec: None,
            });
        }
        let spec = self
            .specs
            .iter()
            .find(|s| s.provider == provider)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "no provider named {provider:?}; known: {:?} and the specs given",
                    hookspec::PROVIDERS
                )
            })?;
        let runtime = spec_provider(spec);
        let config = Config::new(&runtime, self.credentials_for(provider, runtime.auth())?)
            .map_err(|e| anyhow::anyhow!("{provider}: {e}"))?;
        Ok(Mount {
            receiving: config,
            spec: Some(runtime),
        })
    }
}

/// How a provider is received, and the run-time provider when it comes from a spec
/// rather than generated code.
struct Mount {
    receiving: Config,
    spec: Option<SpecProvider>,
}

/// The run-time form of a spec: its own core values, and its shapes to refuse malformed
/// bodies of known events with 400 as a generated parser would.
pub fn spec_provider(spec: &ProviderSpec) -> SpecProvider {
    let shapes = spec.clone();
    let variants = spec.clone();
    let provider = SpecProvider::new(
        &spec.provider,
        spec.auth.clone(),
        spec.delivery.rules(),
        spec.routing(),
    )
    .with_resolver(move |name, body| {
        use hookspec_codegen::check::{resolve_event, when_headers};
        let routed = variants.events.iter().find(|e| e.name == name)?;
        resolve_event(&variants, &when_headers(&variants, routed), body).map(|e| e.name.clone())
    })
    .with_check(move |name, body| {
        use hookspec_codegen::check::{resolve_event, when_headers};
        // The event as generated dispatch picks it (shape variants by their `select`),
        // with the header values of the event routing chose.
        let Some(routed) = shapes.events.iter().find(|e| e.name == name) else {
            return Ok(());
        };
        let event = resolve_event(&shapes, &when_headers(&shapes, routed), body).unwrap_or(routed);
        match hookspec_codegen::check::check_event_body(&shapes, event, body)
            .into_iter()
            .next()
        {
            None => Ok(()),
            Some(v) => Err((v.path, v.message)),
        }
    });
    if spec.envelope.repeated_keys == hookspec_codegen::model::RepeatedKeys::LastWins {
        provider.last_copies_win()
    } else {
        provider
    }
}

impl ReceiverConfig {
    /// The credentials for one provider: the shared secrets, plus a key source for the
    /// provider's JWT scheme when it has one. The receiver verifies `provider`'s
    /// deliveries with exactly these. For a provider of the `hookspec` crate.
    pub fn credentials(&self, provider: &str) -> anyhow::Result<verify::Credentials> {
        let auth = hookspec::auth(provider)
            .ok_or_else(|| anyhow::anyhow!("{provider} is not a provider of the hookspec crate"))?;
        self.credentials_for(provider, auth)
    }

    /// The same for a provider with these auth schemes (generated or read at run time).
    fn credentials_for(
        &self,
        provider: &str,
        auth: &'static [AuthScheme],
    ) -> anyhow::Result<verify::Credentials> {
        let mut shared = self
            .secrets
            .by_provider
            .get(provider)
            .unwrap_or(&self.secrets.shared)
            .clone();
        shared.key_api = self.secrets.key_apis.get(provider).cloned();
        let c = verify::Credentials::new()
            .allow_ips(self.allow_ips.iter().copied())
            .trusted_proxies(self.trusted_proxies.iter().copied())
            .shared(&shared, auth)
            .map_err(|e| anyhow::anyhow!("{provider} key source: {e}"))?;
        Ok(faults::adjust_credentials(&self.faults, c))
    }
}

impl ReceiverConfig {
    /// Why `provider` cannot be mounted with these settings (a credential its spec's auth
    /// needs is missing, or there is no such provider); `Ok` when it can.
    pub fn check(&self, provider: &str) -> anyhow::Result<()> {
        self.mount(provider).map(drop)
    }

    /// Whether `provider`'s deliveries carry nothing to verify (its spec says `auth: []`),
    /// so that only a secret URL keeps forgeries out.
    pub fn authenticates_nothing(&self, provider: &str) -> bool {
        match hookspec::auth(provider) {
            Some(auth) => auth.is_empty(),
            None => self
                .specs
                .iter()
                .any(|s| s.provider == provider && s.auth.is_empty()),
        }
    }
}

/// Records accepted events once each: the receiver every provider's router is given.
#[derive(Clone)]
pub struct Recorder {
    log: EventLog,
    faults: Arc<[Fault]>,
    known_subjects: Arc<std::collections::BTreeSet<String>>,
    follow_ups: Option<Arc<follow_up::FollowUps>>,
    handled_log: Option<Arc<std::sync::Mutex<std::fs::File>>>,
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

    fn handle(
        &self,
        provider: &P,
        event: P::Event,
        delivery: &Delivery,
    ) -> impl Future<Output = Handled> + Send {
        let timeout = provider.delivery().timeout.get();
        let verdict = faults::on_handle(
            &self.faults,
            &self.log,
            &self.known_subjects,
            delivery,
            timeout,
            || provider.unknown_fields(&event),
        );
        let follow_up = self.follow_ups.as_ref().and_then(|f| {
            let call = f.prepare(provider, &event, delivery)?;
            Some((f.clone(), call))
        });
        let entry = LoggedEvent {
            provider: delivery.provider.to_owned(),
            event: delivery.event.to_owned(),
            idempotency_key: delivery.idempotency_key.clone(),
            subject_id: delivery.subject_id.clone(),
        };
        let log = self.log.clone();
        let handled_log = self.handled_log.clone();
        async move {
            verdict.settle().await?;
            if let Some(file) = handled_log {
                use std::io::Write as _;
                let line = format!("{}\t{}\n", entry.provider, entry.idempotency_key);
                let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
                file.write_all(line.as_bytes())
                    .map_err(|e| HandlerError::new(format!("the handled log: {e}")))?;
            }
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
/// `GET /log` answering the accepted events as JSON. With an inbox, each router stores
/// deliveries there, and the answer also holds the workers that handle them (not yet
/// started).
pub fn app(
    config: &ReceiverConfig,
    log: EventLog,
    died: Arc<Notify>,
    inbox: Option<&Inbox<AnyStore>>,
) -> anyhow::Result<(Router, Option<Workers<AnyStore>>)> {
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
        known_subjects: Arc::new(config.known_subjects.iter().cloned().collect()),
        follow_ups,
        handled_log: match &config.handled_log {
            Some(path) => Some(Arc::new(std::sync::Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
            ))),
            None => None,
        },
    };
    let mut app = Router::new();
    let mut worker_config = WorkerConfig::default();
    if let Some(lease) = config.inbox_lease {
        worker_config.lease = lease;
        worker_config.handler_timeout = worker_config.handler_timeout.min(lease);
    }
    let mut workers = inbox.map(|i| i.workers(worker_config));
    for provider in &config.providers {
        let Mount { receiving, spec } = config.mount(provider)?;
        let receiving = faults::adjust_config(&config.faults, receiving);
        let schemes = receiving.verifier().schemes();
        let router = match (inbox, workers.take()) {
            (Some(inbox), Some(w)) => {
                let mount = InboxMount {
                    inbox,
                    receiving,
                    recorder: recorder.clone(),
                    workers: w,
                };
                let (router, w) = match spec {
                    None => hookspec::visit(provider, mount)
                        .ok_or_else(|| anyhow::anyhow!("no provider named {provider:?}"))?,
                    Some(runtime) => mount.visit(runtime),
                };
                workers = Some(w);
                router
            }
            _ => match spec {
                None => hookspec::router(provider, recorder.clone(), receiving)
                    .ok_or_else(|| anyhow::anyhow!("no provider named {provider:?}"))?,
                Some(runtime) => {
                    hookspec::runtime::axum::router(runtime, recorder.clone(), receiving)
                }
            },
        };
        let router = faults::wrap(&config.faults, schemes, router, died.clone());
        let router = match config.secret_paths.get(provider) {
            Some(token) => secret_path::guard(router, token),
            None => router,
        };
        app = app.nest(&format!("/{provider}"), router);
    }
    for (provider, token) in &config.secret_paths {
        if !config.providers.contains(provider) {
            anyhow::bail!("a secret path is given for {provider}, which is not mounted");
        }
        secret_path::check_token(token).map_err(|e| anyhow::anyhow!("{provider}: {e}"))?;
    }
    let log_route = get(move || {
        let log = log.clone();
        async move { axum::Json(log.events()) }
    });
    Ok((app.route("/log", log_route), workers))
}

/// One provider mounted in inbox mode: its router stores into the inbox, and the workers
/// learn to hand its deliveries to the recorder.
struct InboxMount<'a> {
    inbox: &'a Inbox<AnyStore>,
    receiving: Config,
    recorder: Recorder,
    workers: Workers<AnyStore>,
}

impl VisitProvider for InboxMount<'_> {
    type Output = (Router, Workers<AnyStore>);

    fn visit<P: Provider>(self, provider: P) -> Self::Output {
        let router = self.inbox.router(provider.clone(), self.receiving);
        (router, self.workers.serve(provider, self.recorder))
    }
}

/// A receiver running on a listener.
pub struct RunningReceiver {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its accepted events.
    pub log: EventLog,
    /// The inbox, in inbox mode.
    pub inbox: Option<Inbox<AnyStore>>,
    stop: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
    workers: Option<WorkerPool>,
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
        if let Some(workers) = self.workers {
            let _ = tokio::time::timeout(grace, workers.shutdown()).await;
        }
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
    let inbox = match &config.inbox {
        Some(url) => Some(
            Inbox::open(url)
                .await
                .map_err(|e| anyhow::anyhow!("the inbox at {url}: {e}"))?,
        ),
        None => None,
    };
    let (app, workers) = app(&config, log.clone(), stop.clone(), inbox.as_ref())?;
    let workers = workers.map(|w| w.spawn(config.inbox_workers));
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
        inbox,
        stop,
        task,
        workers,
    })
}
