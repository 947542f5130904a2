//! The suite: which providers and cases to run, against which URL, within which bounds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::StreamExt;
use globset::{Glob, GlobSet, GlobSetBuilder};
use hookspec_codegen::model::ProviderSpec;
use hookspec_codegen::SpecError;
use tokio::time::Instant;

use crate::cases::{self, Case, Check, Hostile, Plan, BURST};
use crate::follow_ups;
use crate::http::{exchange, Exchange, Limits, Observed, Outgoing, OutgoingBody};
use crate::mock_api::CallLog;
use crate::provider::{Credentials, ProviderSide};
use crate::record::Recorder;
use crate::report::{AttemptReport, CaseReport, ExchangeRecord, LatencyBucket, Outcome, Report};

/// Why a suite could not run.
#[derive(Debug)]
pub enum SuiteError {
    /// No built-in spec has this name.
    UnknownProvider(String),
    /// A spec failed to load or validate.
    Spec(SpecError),
    /// An `--only`/`--skip` pattern is not a valid glob.
    BadGlob(String),
    /// A receiver URL is not an absolute `http://` URL.
    BadUrl(String),
    /// The record directory could not be written.
    Record(std::io::Error),
}

impl std::fmt::Display for SuiteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SuiteError::UnknownProvider(p) => write!(
                f,
                "no spec for provider `{p}` (built in: {})",
                crate::specs::builtin_names().join(", ")
            ),
            SuiteError::Spec(e) => write!(f, "{e}"),
            SuiteError::BadGlob(e) => write!(f, "bad case pattern: {e}"),
            SuiteError::BadUrl(e) => write!(f, "bad receiver URL: {e}"),
            SuiteError::Record(e) => write!(f, "cannot record exchanges: {e}"),
        }
    }
}

impl std::error::Error for SuiteError {}

/// Called with each case's report as soon as it is done.
pub type Progress = Arc<dyn Fn(&CaseReport) + Send + Sync>;

/// A conformance run, built step by step:
///
/// ```no_run
/// # async fn f() -> Result<(), hookspec_conformance::SuiteError> {
/// let report = hookspec_conformance::Suite::provider("vezgo")
///     .skip("*/robustness/oversized-body")
///     .run("http://127.0.0.1:8080")
///     .await?;
/// assert!(report.passed());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Suite {
    specs: Result<Vec<ProviderSpec>, Arc<SuiteError>>,
    credentials: Credentials,
    only: Vec<String>,
    skip: Vec<String>,
    concurrency: usize,
    hang_bound: Option<Duration>,
    run_bound: Duration,
    retry_time_scale: Option<f64>,
    provider_urls: BTreeMap<String, String>,
    max_response_bytes: usize,
    slow_body: Duration,
    record: Option<PathBuf>,
    progress: Option<Progress>,
    follow_ups: Option<(CallLog, Duration)>,
    overrides: Vec<crate::send::Override>,
    subject: Option<String>,
    restart: Option<Restart>,
    capture: bool,
}

/// Starts the receiver again after it died (`--restart`): called with the id of the case
/// after which it stopped answering; `Err` when it could not or should not be started
/// again, and the run goes on as with a dead receiver.
pub type Restart = Arc<
    dyn Fn(String) -> futures_util::future::BoxFuture<'static, Result<(), String>> + Send + Sync,
>;

/// Deliveries a provider's circuit breaker needs to see before it judges a rejection rate.
/// Providers do not publish one; without any, a single failed first attempt would be
/// "100% rejected".
pub const BREAKER_MIN_DELIVERIES: usize = 10;

/// Default bound on a whole run.
pub const DEFAULT_RUN_BOUND: Duration = Duration::from_secs(600);

/// How long past the provider's timeout the suite still waits for a response head, so a
/// late answer is told apart from none at all.
pub const HANG_GRACE: Duration = Duration::from_secs(2);

impl Suite {
    fn with_specs(specs: Result<Vec<ProviderSpec>, SuiteError>) -> Suite {
        Suite {
            specs: specs.map_err(Arc::new),
            credentials: Credentials::default(),
            only: Vec::new(),
            skip: Vec::new(),
            concurrency: 4,
            hang_bound: None,
            run_bound: DEFAULT_RUN_BOUND,
            retry_time_scale: None,
            provider_urls: BTreeMap::new(),
            max_response_bytes: crate::http::DEFAULT_MAX_RESPONSE_BYTES,
            slow_body: Duration::from_secs(2),
            record: None,
            progress: None,
            follow_ups: None,
            overrides: Vec::new(),
            subject: None,
            restart: None,
            capture: false,
        }
    }

    /// The built-in spec of one provider. An unknown name is reported by [`Suite::run`].
    pub fn provider(name: &str) -> Suite {
        Suite::providers([name])
    }

    /// The built-in specs of several providers.
    pub fn providers<'a>(names: impl IntoIterator<Item = &'a str>) -> Suite {
        let specs = names
            .into_iter()
            .map(|n| {
                crate::specs::builtin(n).ok_or_else(|| SuiteError::UnknownProvider(n.to_owned()))
            })
            .collect();
        Suite::with_specs(specs)
    }

    /// Every built-in provider.
    pub fn builtin() -> Suite {
        Suite::with_specs(crate::specs::builtin_all().map_err(SuiteError::Spec))
    }

    /// Every spec in `spec_dir`.
    pub fn all(spec_dir: impl AsRef<Path>) -> Suite {
        Suite::with_specs(crate::specs::load_dir(spec_dir.as_ref()).map_err(SuiteError::Spec))
    }

    /// Given specs, already validated.
    pub fn from_specs(specs: Vec<ProviderSpec>) -> Suite {
        Suite::with_specs(Ok(specs))
    }

    /// Keeps only the providers named (all of them when `names` is empty).
    pub fn select_providers(mut self, names: &[String]) -> Suite {
        if names.is_empty() {
            return self;
        }
        if let Ok(specs) = &mut self.specs {
            if let Some(missing) = names
                .iter()
                .find(|n| !specs.iter().any(|s| &s.provider == *n))
            {
                self.specs = Err(Arc::new(SuiteError::UnknownProvider(missing.clone())));
            } else {
                specs.retain(|s| names.contains(&s.provider));
            }
        }
        self
    }

    /// What the receiver was configured with.
    pub fn credentials(mut self, credentials: Credentials) -> Suite {
        self.credentials = credentials;
        self
    }

    /// Runs only cases whose id matches `glob` (may be given several times).
    pub fn only(mut self, glob: &str) -> Suite {
        self.only.push(glob.to_owned());
        self
    }

    /// Skips cases whose id matches `glob` (may be given several times).
    pub fn skip(mut self, glob: &str) -> Suite {
        self.skip.push(glob.to_owned());
        self
    }

    /// Sets `override.path` to its value in every body the run sends that has the whole
    /// path (a stateful receiver's known ids); repeatable.
    pub fn set(mut self, o: crate::send::Override) -> Suite {
        self.overrides.push(o);
        self
    }

    /// Names this object in every body the run sends: the value goes wherever the body
    /// has one of the spec's `envelope.subject` paths (the unknown-subject case aside),
    /// except number fields when it is not a number.
    pub fn subject(mut self, id: impl Into<String>) -> Suite {
        self.subject = Some(id.into());
        self
    }

    /// The overrides a body of `spec` gets: `--subject` at every body subject path, then
    /// `--set`.
    fn overrides_for(&self, spec: &ProviderSpec) -> Vec<crate::send::Override> {
        let mut out: Vec<crate::send::Override> = self
            .subject
            .iter()
            .flat_map(|id| {
                spec.envelope
                    .subject
                    .iter()
                    .filter(|p| hookspec_codegen::model::header_ref(p).is_none())
                    .map(|path| crate::send::Override {
                        path: path.clone(),
                        value: serde_json::Value::String(id.clone()),
                        only_if_it_fits: true,
                    })
            })
            .collect();
        out.extend(self.overrides.iter().cloned());
        out
    }

    /// How many cases run at once (at least 1).
    pub fn concurrency(mut self, n: usize) -> Suite {
        self.concurrency = n.max(1);
        self
    }

    /// How long to wait for a response head before calling the receiver hung (default:
    /// the provider's timeout plus [`HANG_GRACE`]).
    pub fn hang_bound(mut self, bound: Duration) -> Suite {
        self.hang_bound = Some(bound);
        self
    }

    /// Bound on the whole run; cases unfinished by then fail.
    pub fn run_bound(mut self, bound: Duration) -> Suite {
        self.run_bound = bound;
        self
    }

    /// Adds the `retry` cases, replaying the provider's schedule with every delay
    /// multiplied by `time_scale` (e.g. `0.001`: Plaid's 30 s become 30 ms).
    pub fn retry(mut self, time_scale: f64) -> Suite {
        self.retry_time_scale = Some(time_scale.max(0.0));
        self
    }

    /// The full URL of one provider's endpoint, instead of `<url>/<provider>`.
    pub fn provider_url(mut self, provider: &str, url: &str) -> Suite {
        self.provider_urls
            .insert(provider.to_owned(), url.to_owned());
        self
    }

    /// Cap on response body bytes read per exchange.
    pub fn max_response_bytes(mut self, n: usize) -> Suite {
        self.max_response_bytes = n;
        self
    }

    /// How long the slow-body case takes to send its body.
    pub fn slow_body(mut self, total: Duration) -> Suite {
        self.slow_body = total;
        self
    }

    /// Saves every exchange under `dir`, one JSON file per case.
    pub fn record(mut self, dir: impl Into<PathBuf>) -> Suite {
        self.record = Some(dir.into());
        self
    }

    /// When the receiver dies, calls `restart` and goes on with the receiver it started:
    /// the case after which it died still fails (`receiver died`, `restarted`), cases in
    /// flight then fail as `receiver died while in flight`, later cases run as usual.
    pub fn restart_receiver(mut self, restart: Restart) -> Suite {
        self.restart = Some(restart);
        self
    }

    /// Keeps each case's requests and responses (secrets redacted) in its report, for the
    /// HTML report.
    pub fn capture_exchanges(mut self) -> Suite {
        self.capture = true;
        self
    }

    /// Calls `f` with each case's report when it is done.
    pub fn on_case(mut self, f: impl Fn(&CaseReport) + Send + Sync + 'static) -> Suite {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Adds a `follow-up` case after each `deliver` case whose event has a follow-up: the
    /// call the receiver should make next is looked for in `log` (the mock API's) for up to
    /// `wait` after the delivery. Without this, no follow-up cases exist.
    pub fn follow_ups(mut self, log: CallLog, wait: Duration) -> Suite {
        self.follow_ups = Some((log, wait));
        self
    }

    /// The specs of the run.
    pub fn specs(&self) -> Result<&[ProviderSpec], SuiteError> {
        self.specs.as_deref().map_err(|e| clone_error(e))
    }

    /// Every case of the run, filtered by `only`/`skip`, in report order.
    pub fn cases(&self) -> Result<Vec<Case>, SuiteError> {
        Ok(self.plan()?.into_iter().map(|(_, c)| c).collect())
    }

    fn sides(&self) -> Result<Vec<Arc<ProviderSide>>, SuiteError> {
        Ok(self
            .specs()?
            .iter()
            .map(|s| Arc::new(ProviderSide::new(s.clone(), &self.credentials)))
            .collect())
    }

    fn plan(&self) -> Result<Vec<(usize, Case)>, SuiteError> {
        let only = globs(&self.only)?;
        let skip = globs(&self.skip)?;
        let mut out = Vec::new();
        for (i, side) in self.sides()?.iter().enumerate() {
            let spec = side.spec();
            let mut auth: Vec<Case> = side
                .attacks()
                .iter()
                .enumerate()
                .filter_map(|(k, name)| cases::auth_case(spec, name, k))
                .collect();
            if let Some(reason) = side.no_attack_reason() {
                auth.push(cases::auth_skipped(spec, &reason));
            }
            auth.extend(cases::key_cases(spec));
            let overrides = self.overrides_for(spec);
            for mut case in cases::cases(spec, auth, self.retry_time_scale.is_some()) {
                for body in case.plan.bodies_mut() {
                    *body = crate::send::apply_where_present(body, &overrides);
                }
                let keep = only.as_ref().is_none_or(|g| g.is_match(&case.id))
                    && !skip.as_ref().is_some_and(|g| g.is_match(&case.id));
                if keep {
                    out.push((i, case));
                }
            }
        }
        Ok(out)
    }

    /// Runs every case against the receiver at `url` (providers at `<url>/<provider>`).
    pub async fn run(&self, url: &str) -> Result<Report, SuiteError> {
        let started = Instant::now();
        let sides = self.sides()?;
        let plan = self.plan()?;
        let mut targets = Vec::new();
        for side in &sides {
            let p = &side.spec().provider;
            let endpoint = match self.provider_urls.get(p) {
                Some(u) => u.clone(),
                None => format!("{}/{p}", url.trim_end_matches('/')),
            };
            targets.push(Arc::new(Target::new(
                Arc::new((**side).clone().sending_to(&endpoint)),
                &endpoint,
                self.hang_bound,
                self.max_response_bytes,
                &self.overrides_for(side.spec()),
                self.subject.as_deref(),
            )?));
        }
        let recorder = match &self.record {
            Some(dir) => Some(Arc::new(Recorder::new(dir).map_err(SuiteError::Record)?)),
            None => None,
        };
        let ctx = Arc::new(RunContext {
            slow_body: self.slow_body,
            retry_time_scale: self.retry_time_scale.unwrap_or(1.0),
            recorder,
            restart: self.restart.clone(),
            restart_lock: tokio::sync::Mutex::new(()),
            generation: AtomicUsize::new(0),
            captured: self.capture.then(Default::default),
        });
        let deadline = started + self.run_bound;
        let run_started = started;
        let expected_follow_ups = self.expected_follow_ups()?;
        let pending = Arc::new(std::sync::Mutex::new(Vec::new()));
        // Phases: the cases, then key rotation, then what judges the run, then retries.
        let mut phases: [Vec<_>; 4] = Default::default();
        for (order, (t, case)) in plan.into_iter().enumerate() {
            phases[case.phase()].push((order, (t, case)));
        }
        let mut reports = Vec::new();
        for phase in phases {
            let done: Vec<(usize, CaseReport)> = futures_util::stream::iter(phase)
                .map(|(order, (t, case))| {
                    let target = targets[t].clone();
                    let ctx = ctx.clone();
                    let progress = self.progress.clone();
                    let run_bound = self.run_bound;
                    let watch = self
                        .follow_ups
                        .as_ref()
                        .zip(expected_follow_ups.get(&case.id));
                    if let Some(((log, _), fc)) = watch {
                        let mark = follow_ups::Pending {
                            case: fc.clone(),
                            cursor: log.len(),
                            sent: std::time::Instant::now(),
                        };
                        pending.lock().unwrap_or_else(|p| p.into_inner()).push(mark);
                    }
                    async move {
                        if let Some(down) = target.down() {
                            return (order, receiver_down(&case, &down));
                        }
                        let generation = ctx.generation.load(Ordering::SeqCst);
                        let report =
                            match tokio::time::timeout_at(deadline, run_case(&target, &ctx, &case))
                                .await
                            {
                                Ok(r) => r,
                                Err(_) => unfinished(&case, run_bound),
                            };
                        let mut report = target
                            .after_case(&ctx, report, generation, run_started)
                            .await;
                        if let Some(captured) = &ctx.captured {
                            report.exchanges = captured
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .remove(&case.id)
                                .unwrap_or_default();
                        }
                        if let Some(p) = progress {
                            p(&report);
                        }
                        (order, report)
                    }
                })
                .buffer_unordered(self.concurrency)
                .collect()
                .await;
            reports.extend(done);
        }
        reports.sort_by_key(|(order, _)| *order);
        let mut cases: Vec<CaseReport> = reports.into_iter().map(|(_, r)| r).collect();
        if let Some((log, wait)) = &self.follow_ups {
            let pending = std::mem::take(&mut *pending.lock().unwrap_or_else(|p| p.into_inner()));
            let made = follow_ups::settle(log, pending, *wait).await;
            if let Some(p) = &self.progress {
                made.iter().for_each(|r| p(r));
            }
            cases = follow_ups::interleave(cases, made);
        }
        let mut report = Report::new(url.to_owned(), cases, started.elapsed());
        for target in &targets {
            if let Some(down) = target.down() {
                report.notes.push(format!(
                    "the {} receiver stopped accepting connections {:.1} s into the run, \
                     after {}; the cases in flight then are failed as `receiver died`, \
                     the later ones skipped as `receiver down`",
                    target.spec().provider,
                    down.at.as_secs_f64(),
                    down.after
                ));
            }
        }
        Ok(report)
    }

    /// The follow-up cases of the run by the deliver case they follow (none unless
    /// [`Suite::follow_ups`] was called), minus those `skip` names.
    pub fn expected_follow_ups(
        &self,
    ) -> Result<BTreeMap<String, follow_ups::FollowUpCase>, SuiteError> {
        if self.follow_ups.is_none() {
            return Ok(BTreeMap::new());
        }
        let skip = globs(&self.skip)?;
        let mut out = BTreeMap::new();
        for spec in self.specs()? {
            for (deliver, fc) in follow_ups::follow_up_cases(spec) {
                if !skip.as_ref().is_some_and(|g| g.is_match(&fc.id)) {
                    out.insert(deliver, fc);
                }
            }
        }
        Ok(out)
    }
}

fn clone_error(e: &SuiteError) -> SuiteError {
    match e {
        SuiteError::UnknownProvider(p) => SuiteError::UnknownProvider(p.clone()),
        SuiteError::Spec(s) => SuiteError::Spec(s.clone()),
        SuiteError::BadGlob(s) => SuiteError::BadGlob(s.clone()),
        SuiteError::BadUrl(s) => SuiteError::BadUrl(s.clone()),
        SuiteError::Record(io) => {
            SuiteError::Record(std::io::Error::new(io.kind(), io.to_string()))
        }
    }
}

fn globs(patterns: &[String]) -> Result<Option<GlobSet>, SuiteError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        // `*` must not stop at `/`: `plaid/*` means every plaid case.
        let glob = globset::GlobBuilder::new(p)
            .literal_separator(false)
            .build()
            .or_else(|_| Glob::new(p))
            .map_err(|e| SuiteError::BadGlob(e.to_string()))?;
        b.add(glob);
    }
    b.build()
        .map(Some)
        .map_err(|e| SuiteError::BadGlob(e.to_string()))
}

/// A failed case that was in flight when the receiver died (and was restarted): what it
/// saw says more about the death than about the receiver's handling of it.
fn died_in_flight(mut report: CaseReport) -> CaseReport {
    report.observed = format!(
        "receiver died while this case was in flight ({})",
        report.observed
    );
    report
}

/// A case not run because the receiver had stopped answering.
fn receiver_down(case: &Case, down: &Down) -> CaseReport {
    CaseReport {
        outcome: Outcome::Skip,
        expected: "-".to_owned(),
        observed: format!(
            "receiver down: it stopped accepting connections after {}",
            down.after
        ),
        ..unfinished(case, Duration::ZERO)
    }
}

fn unfinished(case: &Case, bound: Duration) -> CaseReport {
    CaseReport::new(
        &case.id,
        &case.provider,
        case.check.as_str(),
        Outcome::Fail,
        "finished within the run's bound".to_owned(),
        case.why().to_owned(),
        format!(
            "not finished: the run's bound of {} ran out",
            humanize(bound)
        ),
    )
}

/// Settings shared by every case of a run.
struct RunContext {
    slow_body: Duration,
    retry_time_scale: f64,
    recorder: Option<Arc<Recorder>>,
    restart: Option<Restart>,
    /// One restart at a time: the cases that see the same death wait for the first.
    restart_lock: tokio::sync::Mutex<()>,
    /// Counts restarts; a case that started before the latest one was in flight when the
    /// receiver died.
    generation: AtomicUsize,
    /// Each case's exchanges by case id, when the report keeps them.
    captured: Option<std::sync::Mutex<std::collections::HashMap<String, Vec<ExchangeRecord>>>>,
}

/// Exchanges kept per case for the report (a retry case has one per attempt).
const MAX_CAPTURED_EXCHANGES: usize = 16;

/// One provider's endpoint and what the provider expects of it.
struct Target {
    side: Arc<ProviderSide>,
    url: http::Uri,
    limits: Limits,
    timeout: Duration,
    deliveries: AtomicUsize,
    rejected: AtomicUsize,
    copies: AtomicUsize,
    /// The headers naming each documented example's event, by its body (for providers
    /// that name events in headers, where a body alone may fit several events).
    named: std::collections::HashMap<Bytes, Vec<(String, String)>>,
    /// The liveness probe's body: the first ordinary example, overrides applied.
    probe: Bytes,
    /// Headers a subject path names, set to the run's `--subject`.
    subject_headers: Vec<(String, String)>,
    /// Set once the receiver stops accepting connections: after which case, and when.
    down: std::sync::Mutex<Option<Down>>,
    /// Whether the receiver has accepted a connection in this run (one that never did is
    /// not "dead", just not there: its cases say `refused`).
    seen_alive: std::sync::atomic::AtomicBool,
}

/// When and after what a receiver stopped answering.
#[derive(Clone, Debug)]
struct Down {
    after: String,
    at: Duration,
}

/// How long after a case the receiver gets before the liveness check: a process that
/// crashes right after answering is gone by then.
const LIVENESS_GRACE: Duration = Duration::from_millis(50);

impl Target {
    fn new(
        side: Arc<ProviderSide>,
        endpoint: &str,
        hang_bound: Option<Duration>,
        max_response_bytes: usize,
        overrides: &[crate::send::Override],
        subject: Option<&str>,
    ) -> Result<Target, SuiteError> {
        let url = crate::http::endpoint_uri(endpoint).map_err(SuiteError::BadUrl)?;
        let timeout = side.spec().delivery.timeout.get();
        let named = crate::cases::examples(side.spec())
            .into_iter()
            .filter(|e| !e.headers.is_empty())
            .map(|e| {
                (
                    crate::send::apply_where_present(&e.body, overrides),
                    e.headers,
                )
            })
            .collect();
        let probe = cases::probe_body(side.spec())
            .map(|b| crate::send::apply_where_present(&b, overrides))
            .unwrap_or_default();
        let subject_headers = subject
            .map(|id| {
                side.spec()
                    .envelope
                    .subject
                    .iter()
                    .filter_map(|p| hookspec_codegen::model::header_ref(p))
                    .map(|name| (name.to_owned(), id.to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Target {
            named,
            probe,
            subject_headers,
            down: std::sync::Mutex::new(None),
            seen_alive: std::sync::atomic::AtomicBool::new(false),
            url,
            limits: Limits {
                deadline: hang_bound.unwrap_or(timeout + HANG_GRACE),
                max_response_bytes,
            },
            timeout,
            side,
            deliveries: AtomicUsize::new(0),
            rejected: AtomicUsize::new(0),
            copies: AtomicUsize::new(0),
        })
    }

    fn spec(&self) -> &ProviderSpec {
        self.side.spec()
    }

    fn request(&self, headers: Vec<(String, String)>, body: OutgoingBody) -> Outgoing {
        Outgoing {
            method: crate::http::delivery_method(self.spec().delivery.method),
            url: self.url.clone(),
            headers,
            body,
        }
    }

    /// `body` as a delivery the receiver has not seen yet, so only the idempotency case
    /// sends a duplicate: the spec's idempotency key (Belvo's `webhook_id`) gets a
    /// suffix in the raw text; a key derived from the raw body changes with trailing
    /// whitespace, which leaves the JSON as it was.
    fn fresh(&self, body: &Bytes) -> Bytes {
        let n = self.copies.fetch_add(1, Ordering::Relaxed);
        if let Some(path) = &self.spec().envelope.idempotency_key {
            let id = serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| {
                    path.split('.')
                        .try_fold(&v, |v, k| v.get(k))
                        .and_then(|id| id.as_str().map(str::to_owned))
                });
            let text = std::str::from_utf8(body).ok();
            if let (Some(id), Some(text)) = (id, text) {
                let quoted = serde_json::Value::String(id.clone()).to_string();
                let unique = serde_json::Value::String(format!("{id}-{n}")).to_string();
                if text.contains(&quoted) {
                    return Bytes::from(text.replacen(&quoted, &unique, 1));
                }
            }
        }
        let mut copy = body.to_vec();
        copy.resize(body.len() + n, b' ');
        Bytes::from(copy)
    }

    /// A validly signed delivery of `body`, with fresh generated headers (ids) unless
    /// `given` fixes them.
    /// Whether something still accepts connections at the receiver's address (twice, a
    /// moment apart, before saying no).
    async fn accepts_connections(&self) -> bool {
        for attempt in 0..2 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            if crate::http::accepts_connections(&self.url, Duration::from_secs(2)).await {
                return true;
            }
        }
        false
    }

    fn down(&self) -> Option<Down> {
        self.down.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Checks the receiver after `report`'s case: when it no longer accepts connections,
    /// the case fails as `receiver died` and the receiver is started again (with a
    /// restarter) or marked down (the first case to see it names when). `generation` is
    /// the restart count when the case started.
    async fn after_case(
        &self,
        ctx: &RunContext,
        mut report: CaseReport,
        generation: usize,
        started: Instant,
    ) -> CaseReport {
        if report.outcome == Outcome::Skip {
            return report;
        }
        tokio::time::sleep(LIVENESS_GRACE).await;
        let alive = self.accepts_connections().await;
        if alive {
            self.seen_alive.store(true, Ordering::Relaxed);
        }
        if ctx.generation.load(Ordering::SeqCst) != generation && report.outcome == Outcome::Fail {
            return died_in_flight(report);
        }
        if alive || !self.seen_alive.load(Ordering::Relaxed) {
            return report;
        }
        report.outcome = Outcome::Fail;
        report.observed = format!(
            "receiver died: it stopped accepting connections after this case ({})",
            report.observed
        );
        if let Some(restart) = &ctx.restart {
            let _one_at_a_time = ctx.restart_lock.lock().await;
            if ctx.generation.load(Ordering::SeqCst) != generation {
                return died_in_flight(report);
            }
            match restart(report.id.clone()).await {
                Ok(()) => {
                    ctx.generation.fetch_add(1, Ordering::SeqCst);
                    report.observed.push_str("; restarted");
                    return report;
                }
                Err(why) => report.observed.push_str(&format!("; not restarted: {why}")),
            }
        }
        let mut down = self.down.lock().unwrap_or_else(|p| p.into_inner());
        down.get_or_insert_with(|| Down {
            after: report.id.clone(),
            at: started.elapsed(),
        });
        report
    }

    /// The run's subject headers, `given`, and the headers naming the event of `original`
    /// when it is a documented example (the signer works the event out from the body
    /// otherwise).
    fn with_event_headers(
        &self,
        original: &Bytes,
        given: &[(String, String)],
    ) -> Vec<(String, String)> {
        let mut all = self.subject_headers.clone();
        all.extend(given.iter().cloned());
        all.extend(self.named.get(original).into_iter().flatten().cloned());
        all
    }

    fn delivery(&self, body: Bytes, given: &[(String, String)]) -> Outgoing {
        let headers = self.side.sign(&body, SystemTime::now(), given);
        self.request(headers, OutgoingBody::Full(body))
    }

    fn success(&self, code: u16) -> bool {
        crate::provider::acknowledged(self.spec(), code)
    }

    /// `200 within 10s`.
    fn expect_success(&self) -> String {
        let status = self.spec().delivery.success.describe();
        format!("{status} within {}", humanize(self.timeout))
    }

    /// Whether a valid delivery was acknowledged in time, and the words for what happened.
    fn judge_delivery(&self, x: &Exchange) -> (bool, String) {
        self.deliveries.fetch_add(1, Ordering::Relaxed);
        let ok = match x.observed.status() {
            Some(code) if self.success(code) => {
                if x.elapsed > self.timeout {
                    self.rejected.fetch_add(1, Ordering::Relaxed);
                    return (
                        false,
                        format!(
                            "{} after the {} timeout",
                            x.observed,
                            humanize(self.timeout)
                        ),
                    );
                }
                true
            }
            _ => false,
        };
        if !ok {
            self.rejected.fetch_add(1, Ordering::Relaxed);
        }
        (ok, x.observed.to_string())
    }

    /// Fraction of this run's deliveries to the provider that were not acknowledged;
    /// `None` below [`BREAKER_MIN_DELIVERIES`], where a fraction says little.
    fn rejected_fraction(&self) -> Option<f64> {
        let total = self.deliveries.load(Ordering::Relaxed);
        (total >= BREAKER_MIN_DELIVERIES)
            .then(|| self.rejected.load(Ordering::Relaxed) as f64 / total as f64)
    }

    async fn send(&self, ctx: &RunContext, case: &Case, request: Outgoing) -> Exchange {
        let kept = (ctx.recorder.is_some() || ctx.captured.is_some()).then(|| request.clone());
        let x = exchange(request, self.limits).await;
        if x.observed.status().is_some() {
            self.seen_alive.store(true, Ordering::Relaxed);
        }
        if let Some(req) = kept {
            if let Some(r) = &ctx.recorder {
                r.exchange(&case.id, &req, &x);
            }
            if let Some(captured) = &ctx.captured {
                let mut captured = captured.lock().unwrap_or_else(|p| p.into_inner());
                let list = captured.entry(case.id.clone()).or_default();
                if list.len() < MAX_CAPTURED_EXCHANGES {
                    list.push(crate::record::exchange_record(&req, &x));
                }
            }
        }
        x
    }
}

/// What one case saw, before it is turned into a report.
struct Seen {
    outcome: Outcome,
    expected: String,
    observed: String,
    elapsed: Duration,
    slowest: Option<Duration>,
    last: Option<Observed>,
    liveness: Option<String>,
    attempts: Option<Vec<AttemptReport>>,
    warnings: Vec<String>,
}

impl Seen {
    fn new(expected: String) -> Seen {
        Seen {
            outcome: Outcome::Pass,
            expected,
            observed: String::new(),
            elapsed: Duration::ZERO,
            slowest: None,
            last: None,
            liveness: None,
            attempts: None,
            warnings: Vec::new(),
        }
    }

    fn add(&mut self, x: &Exchange) {
        self.elapsed += x.elapsed;
        if x.observed.status().is_some() {
            self.slowest = Some(self.slowest.unwrap_or_default().max(x.elapsed));
        }
        self.last = Some(x.observed.clone());
    }

    fn fail_unless(&mut self, ok: bool) {
        if !ok {
            self.outcome = Outcome::Fail;
        }
    }
}

/// A handshake: one valid delivery whose answer must be the one the spec's rule renders
/// from what was sent (status, media type and body; JSON compared as values).
async fn run_handshake(
    t: &Target,
    ctx: &RunContext,
    case: &Case,
    body: &Bytes,
    rule: &hookspec_runtime::core::Respond,
) -> Seen {
    let given = t.with_event_headers(body, &[]);
    let body = t.fresh(body);
    let request = t.delivery(body.clone(), &given);
    let headers: http::HeaderMap = request
        .headers
        .iter()
        .filter_map(|(n, v)| Some((n.parse().ok()?, v.parse().ok()?)))
        .collect();
    let ack = t.spec().delivery.success.ack();
    let mac = |value: &[u8]| t.side.hmac_of(value);
    let want =
        match hookspec_runtime::respond::answer(rule, "handshake", &headers, &body, ack, &mac) {
            Ok(want) => want,
            Err(e) => {
                let mut s = Seen::new("-".to_owned());
                s.outcome = Outcome::Skip;
                s.observed = format!("the example cannot be answered by its own rule: {e}");
                return s;
            }
        };
    let shown = |bytes: &[u8]| {
        let text = String::from_utf8_lossy(bytes);
        let mut short: String = text.chars().take(80).collect();
        if short.len() < text.len() {
            short.push('…');
        }
        format!("{short:?}")
    };
    let status = match rule.status {
        Some(code) => code.to_string(),
        None => t.spec().delivery.success.describe(),
    };
    let mut s = Seen::new(format!(
        "{status} within {}, {} {}",
        humanize(t.timeout),
        want.content_type,
        shown(&want.body)
    ));
    let x = t.send(ctx, case, request).await;
    s.add(&x);
    let content_type = x
        .response_headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let got = &x.response_body[..];
    let status_ok = match (x.observed.status(), rule.status) {
        (Some(code), Some(want)) => code == want,
        (Some(code), None) => t.success(code),
        (None, _) => false,
    };
    let media_ok = hookspec_runtime::core::media_type(content_type)
        .eq_ignore_ascii_case(hookspec_runtime::core::media_type(&want.content_type));
    let body_ok = if rule.json {
        let parse = |b: &[u8]| serde_json::from_slice::<serde_json::Value>(b).ok();
        parse(got).is_some_and(|g| Some(g) == parse(&want.body))
    } else {
        got.strip_suffix(b"\n").unwrap_or(got) == &want.body[..]
    };
    s.fail_unless(status_ok && media_ok && body_ok && x.elapsed <= t.timeout);
    s.observed = match x.observed.status() {
        Some(_) => format!("{}, {} {}", x.observed, content_type, shown(got)),
        None => x.observed.to_string(),
    };
    s
}

async fn run_case(t: &Target, ctx: &RunContext, case: &Case) -> CaseReport {
    let seen = match &case.plan {
        Plan::Skip { reason } => {
            let mut s = Seen::new("-".to_owned());
            s.outcome = Outcome::Skip;
            s.observed = reason.clone();
            s
        }
        Plan::Deliver { bodies } => {
            let expected = if bodies.len() == 1 {
                t.expect_success()
            } else {
                format!(
                    "each of {} acknowledged: {}",
                    bodies.len(),
                    t.expect_success()
                )
            };
            let mut s = Seen::new(expected);
            let mut observed = Vec::new();
            // The idempotency case sends one delivery twice, keeping its generated ids as a
            // provider's redelivery does; every other body is new, with ids of its own.
            let same = (case.check == Check::Idempotency).then(|| t.fresh(&bodies[0]));
            let mut kept: Vec<(String, String)> = Vec::new();
            for original in bodies {
                let body = same.clone().unwrap_or_else(|| t.fresh(original));
                let request = t.delivery(body, &t.with_event_headers(original, &kept));
                if same.is_some() && kept.is_empty() {
                    kept = t.side.redelivery(&request.headers);
                }
                let x = t.send(ctx, case, request).await;
                s.add(&x);
                let (ok, words) = t.judge_delivery(&x);
                s.fail_unless(ok);
                observed.push(words);
            }
            s.observed = observed.join(", ");
            s
        }
        Plan::Handshake { body, rule } => run_handshake(t, ctx, case, body, rule).await,
        Plan::KeyRotation { body } => {
            let mut s = Seen::new(format!(
                "after a move to a new key and kid (both served): {}",
                t.expect_success()
            ));
            match t.side.rotate_key() {
                Some(_) => {
                    let x = t.send(ctx, case, t.delivery(t.fresh(body), &[])).await;
                    s.add(&x);
                    let (ok, words) = t.judge_delivery(&x);
                    s.fail_unless(ok);
                    s.observed = format!("{words} (signed with the new key)");
                }
                None => {
                    s.outcome = Outcome::Skip;
                    s.observed = "the suite does not serve this provider's keys".to_owned();
                }
            }
            s
        }
        Plan::KeyFetched => {
            let mut s = Seen::new("the receiver fetched a verification key".to_owned());
            let acknowledged = t
                .deliveries
                .load(Ordering::Relaxed)
                .saturating_sub(t.rejected.load(Ordering::Relaxed));
            match t.side.key_fetches() {
                None => {
                    s.outcome = Outcome::Skip;
                    s.observed = "the suite does not serve this provider's keys".to_owned();
                }
                Some(_) if acknowledged == 0 => {
                    s.outcome = Outcome::Skip;
                    s.observed = "no signed delivery was acknowledged in this run".to_owned();
                }
                Some(0) => {
                    s.outcome = Outcome::Fail;
                    s.observed = format!(
                        "{acknowledged} signed deliveries acknowledged, but no key was ever \
                         fetched: the JWTs were not verified"
                    );
                }
                Some(_) => s.observed = "fetched".to_owned(),
            }
            s
        }
        Plan::Refuse { attack, body } => {
            let refusal = t.spec().delivery.refusal;
            let mut s = Seen::new(match refusal {
                Some(status) => format!("refused with {status}, as the provider expects"),
                None => "refused with 401 or 403".to_owned(),
            });
            match t.side.attack(*attack, body, SystemTime::now()) {
                Some((headers, body)) => {
                    let x = t
                        .send(ctx, case, t.request(headers, OutgoingBody::Full(body)))
                        .await;
                    s.add(&x);
                    s.fail_unless(match (x.observed.status(), refusal) {
                        (Some(got), Some(want)) => got == want,
                        (got, None) => matches!(got, Some(401 | 403)),
                        (None, Some(_)) => false,
                    });
                    s.observed = x.observed.to_string();
                }
                None => {
                    s.outcome = Outcome::Skip;
                    s.observed = "this attack does not apply to the given credentials".to_owned();
                }
            }
            s
        }
        Plan::Hostile { hostile, body } => run_hostile(t, ctx, case, *hostile, body).await,
        Plan::Latency { body } => {
            let mut s = Seen::new(format!(
                "{} (warn over {})",
                t.expect_success(),
                humanize(t.timeout / 4)
            ));
            let given = t.with_event_headers(body, &[]);
            let x = t.send(ctx, case, t.delivery(t.fresh(body), &given)).await;
            s.add(&x);
            let (ok, words) = t.judge_delivery(&x);
            s.fail_unless(ok);
            s.observed = words;
            s
        }
        Plan::Burst { body } => {
            let mut s = Seen::new(format!(
                "{} for each of {BURST} sent at once",
                t.expect_success()
            ));
            let given = t.with_event_headers(body, &[]);
            let sends = (0..BURST).map(|_| t.send(ctx, case, t.delivery(t.fresh(body), &given)));
            let answers = futures_util::future::join_all(sends).await;
            let mut missed = Vec::new();
            for x in &answers {
                s.add(x);
                let (ok, words) = t.judge_delivery(x);
                if !ok {
                    missed.push(words);
                }
            }
            s.fail_unless(missed.is_empty());
            s.observed = match missed.first() {
                None => format!("{BURST} of {BURST} acknowledged in time"),
                Some(first) => format!(
                    "{} of {BURST} not acknowledged in time (first: {first})",
                    missed.len()
                ),
            };
            s
        }
        Plan::Retry { body } => run_retry(t, ctx, case, body).await,
    };
    let latency_bucket = seen.slowest.map(|d| LatencyBucket::of(d, t.timeout));
    let mut warnings = seen.warnings;
    if latency_bucket == Some(LatencyBucket::Slow) && seen.outcome == Outcome::Pass {
        warnings.push(format!(
            "{} {} timeout",
            crate::report::SLOW_ANSWER,
            humanize(t.timeout)
        ));
    }
    CaseReport {
        elapsed_ms: seen.elapsed.as_millis() as u64,
        latency_bucket,
        body_digest: seen
            .last
            .as_ref()
            .and_then(Observed::body)
            .map(|b| b.sha256.clone()),
        liveness: seen.liveness,
        attempts: seen.attempts,
        warnings,
        ..CaseReport::new(
            &case.id,
            &case.provider,
            case.check.as_str(),
            seen.outcome,
            seen.expected,
            case.why().to_owned(),
            seen.observed,
        )
    }
}

async fn run_hostile(
    t: &Target,
    ctx: &RunContext,
    case: &Case,
    hostile: Hostile,
    body: &Bytes,
) -> Seen {
    let expected = match hostile {
        Hostile::Oversized => "4xx (ideally 413) or the connection closed, then still alive",
        h if h.must_refuse() => "4xx, then still alive",
        _ => "no 5xx, then still alive",
    };
    let mut s = Seen::new(expected.to_owned());
    // Garbage and the empty body go as they are; the rest as a new delivery.
    let body = if hostile.must_refuse() || hostile == Hostile::EmptyBody {
        body.clone()
    } else {
        t.fresh(body)
    };
    let mut request = t.delivery(body.clone(), &[]);
    match hostile {
        Hostile::MissingDiscriminator => {
            // Headers that name the event are not sent either.
            let named: Vec<&str> = t
                .spec()
                .discriminator
                .iter()
                .filter_map(|d| hookspec_codegen::model::header_ref(d))
                .collect();
            request
                .headers
                .retain(|(name, _)| !named.iter().any(|n| n.eq_ignore_ascii_case(name)));
        }
        Hostile::WrongContentType => {
            for (name, value) in &mut request.headers {
                if name.eq_ignore_ascii_case("content-type") {
                    *value = "text/plain; charset=utf-8".to_owned();
                }
            }
        }
        Hostile::SlowBody => {
            let chunks = 10;
            request.body = OutgoingBody::Trickle {
                bytes: body.clone(),
                chunks,
                interval: ctx.slow_body / chunks as u32,
            };
        }
        _ => {}
    }
    let x = t.send(ctx, case, request).await;
    s.add(&x);
    if hostile == Hostile::SlowBody {
        // Its time is the suite's own pacing, not the receiver's latency.
        s.slowest = None;
    }
    let ok = match (&x.observed, hostile) {
        (Observed::Status { code, .. }, h) if h.must_refuse() => (400..500).contains(code),
        (Observed::Status { code, .. }, _) => {
            (200..300).contains(code) || (400..500).contains(code)
        }
        // A receiver may answer 413 and close before reading everything we send.
        (Observed::Reset { .. } | Observed::ClosedEarly { .. }, Hostile::Oversized) => true,
        _ => false,
    };
    s.fail_unless(ok);
    s.observed = x.observed.to_string();
    // The probe shows whether the hostile request killed the receiver.
    let probe_body = t.probe.clone();
    let probe = t
        .send(ctx, case, t.delivery(t.fresh(&probe_body), &[]))
        .await;
    let (alive, words) = t.judge_delivery(&probe);
    s.liveness = Some(if alive {
        format!("alive ({words})")
    } else {
        format!("dead ({words})")
    });
    s.fail_unless(alive);
    s
}

async fn run_retry(t: &Target, ctx: &RunContext, case: &Case, body: &Bytes) -> Seen {
    let retry = &t.spec().delivery.retry;
    let delays: Vec<Duration> = retry
        .delays()
        .into_iter()
        .map(|d| d.mul_f64(ctx.retry_time_scale))
        .collect();
    let mut s = Seen::new(format!(
        "acknowledged by the last of {} attempts ({})",
        delays.len() + 1,
        t.expect_success()
    ));
    // Every attempt carries the same delivery, as a provider's retries do.
    let body = t.fresh(body);
    let start = Instant::now();
    let mut attempts = Vec::new();
    let mut scheduled = Duration::ZERO;
    let mut verdict = None;
    for attempt in 0..=delays.len() {
        if attempt > 0 {
            if let Some(breaker) = &retry.circuit_breaker {
                let fraction = t.rejected_fraction().unwrap_or(0.0);
                if fraction > breaker.rejected_over {
                    verdict = Some(format!(
                        "lost: the provider stops retrying after {:.0}% of this run's deliveries were rejected (over {:.0}%)",
                        fraction * 100.0,
                        breaker.rejected_over * 100.0
                    ));
                    break;
                }
            }
            scheduled += delays[attempt - 1];
            tokio::time::sleep_until(start + scheduled).await;
        }
        let x = t.send(ctx, case, t.delivery(body.clone(), &[])).await;
        s.add(&x);
        let (ok, words) = t.judge_delivery(&x);
        attempts.push(AttemptReport {
            attempt: attempt as u32 + 1,
            scheduled_ms: scheduled.as_millis() as u64,
            observed: words,
            elapsed_ms: x.elapsed.as_millis() as u64,
        });
        if ok {
            verdict = Some(if attempt == 0 {
                "delivered at the first attempt".to_owned()
            } else {
                format!("delivered at attempt {}", attempt + 1)
            });
            break;
        }
    }
    let delivered = verdict
        .as_deref()
        .is_some_and(|v| v.starts_with("delivered"));
    s.observed = verdict.unwrap_or_else(|| {
        format!(
            "lost: not acknowledged by any of {} attempts",
            attempts.len()
        )
    });
    s.fail_unless(delivered);
    s.attempts = Some(attempts);
    s
}

/// `10s`, `250ms`: short, exact for the durations specs use.
pub(crate) fn humanize(d: Duration) -> String {
    if d.subsec_millis() == 0 && d.as_secs() > 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}
