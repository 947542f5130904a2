//! Misbehaviours the receiver can be told to have, one per way real receivers fail. The
//! conformance suite's own tests switch each on and check that exactly the case meant to
//! catch it fails. None is on by default, and the clean paths above never consult them
//! except to ask whether one is on.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hookspec::runtime::axum::{read_body, BodyError};
use hookspec::runtime::verify::{AuthScheme, Credentials, Jwk, KeyFuture, KeySource};
use hookspec::runtime::{Config, Delivery, HandlerError};
use tokio::sync::Notify;

use crate::log::EventLog;

/// One misbehaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// Verifies nothing: any request with a well-formed body is accepted.
    NoAuthCheck,
    /// Requires the auth headers to be present but never checks their values.
    AcceptAnySignature,
    /// Accepts a JWT issued far in the future.
    AcceptFutureIat,
    /// Decides to refuse (401/403) and then never sends the answer, like a handler that
    /// sets the status and forgets to end the response.
    RejectWithoutAnswer,
    /// Answers 500 to an event the spec does not know.
    FailOnUnknownEvent,
    /// Answers 500 when the body has a field the spec does not know.
    CrashOnExtraField,
    /// Answers 500 to a delivery it has seen before.
    FailOnDuplicate,
    /// Acknowledges only after the provider's timeout has passed.
    SlowAck,
    /// Answers 200 to a body that is not JSON.
    AcceptMalformedJson,
    /// Answers 500 instead of 413 to a body over the limit.
    ServerErrorOnOversize,
    /// Stops serving altogether after receiving a malformed body.
    DieAfterMalformed,
    /// Acknowledges the first delivery it accepts, then stops serving altogether (a
    /// process that crashes right after answering).
    DieAfterFirstAck,
    /// Looks up the object an event names among the ones it knows
    /// (`ReceiverConfig::known_subjects`) and answers 500 when it is not there, instead of
    /// acknowledging an event about an object it has never seen.
    ServerErrorOnUnknownSubject,
    /// Accepts a JWT that carries no issue time (answers 200 without verifying it).
    AcceptMissingIat,
    /// Keeps the first JWT key it fetched forever and checks every token against it,
    /// whatever `kid` the token names, so a rotated key is never fetched.
    KeyCacheForever,
    /// Answers 500 instead of 400 to a well-formed JSON object it refuses, as a receiver
    /// that indexes the discriminator without checking it does when there is none.
    ServerErrorOnMissingDiscriminator,
    /// Never makes the follow-up call an event asks for.
    SkipFollowUp,
    /// Makes follow-up calls for the wrong record: another link or item id, and every
    /// other parameter value changed too.
    WrongFollowUpParams,
}

/// How far in the future a JWT may be issued with [`Fault::AcceptFutureIat`] on.
const FUTURE_SKEW_FAULT: Duration = Duration::from_secs(24 * 3600);

pub(crate) fn adjust_credentials(faults: &[Fault], credentials: Credentials) -> Credentials {
    let mut c = credentials;
    if faults.contains(&Fault::NoAuthCheck) || faults.contains(&Fault::AcceptAnySignature) {
        c = c.unverified();
    }
    if faults.contains(&Fault::AcceptFutureIat) {
        c = c.future_skew(FUTURE_SKEW_FAULT);
    }
    if faults.contains(&Fault::KeyCacheForever) {
        c = c.wrap_key_source(|inner| {
            Box::new(FirstKeyForever {
                inner,
                first: tokio::sync::OnceCell::new(),
            })
        });
    }
    c
}

/// A key source that fetches once and answers that key for every `kid` after.
struct FirstKeyForever {
    inner: Box<dyn KeySource>,
    first: tokio::sync::OnceCell<Jwk>,
}

impl KeySource for FirstKeyForever {
    fn fetch<'a>(&'a self, kid: &'a str) -> KeyFuture<'a> {
        Box::pin(async move {
            let first = self.first.get_or_try_init(|| self.inner.fetch(kid)).await?;
            // The one key it knows, under whatever id was asked for.
            let point = first.public_key();
            let (mut x, mut y) = ([0u8; 32], [0u8; 32]);
            x.copy_from_slice(&point[1..33]);
            y.copy_from_slice(&point[33..65]);
            Jwk::from_coordinates(kid, &x, &y)
        })
    }
}

pub(crate) fn adjust_config(faults: &[Fault], config: Config) -> Config {
    if faults.contains(&Fault::SlowAck) {
        // Let the slow handler run past the provider's timeout instead of being cut off.
        let timeout = config.delivery().timeout.get() * 3;
        config.with_handler_timeout(timeout)
    } else {
        config
    }
}

/// What a handler does under the faults, decided before it awaits anything.
pub(crate) enum Verdict {
    Proceed,
    Fail(&'static str),
    Sleep(Duration),
}

impl Verdict {
    pub(crate) async fn settle(self) -> Result<(), HandlerError> {
        match self {
            Verdict::Proceed => Ok(()),
            Verdict::Fail(why) => Err(HandlerError::new(why)),
            Verdict::Sleep(d) => {
                tokio::time::sleep(d).await;
                Ok(())
            }
        }
    }
}

pub(crate) fn on_handle(
    faults: &[Fault],
    log: &EventLog,
    known_subjects: &std::collections::BTreeSet<String>,
    delivery: &Delivery,
    provider_timeout: Duration,
    unknown_fields: impl FnOnce() -> Vec<String>,
) -> Verdict {
    if faults.contains(&Fault::ServerErrorOnUnknownSubject)
        && delivery
            .subject_id
            .as_ref()
            .is_some_and(|s| !known_subjects.contains(s))
    {
        return Verdict::Fail("fault: no such object");
    }
    // After verification and parsing, like a receiver whose strict types choke on a field
    // they were not built with.
    if faults.contains(&Fault::CrashOnExtraField) && !unknown_fields().is_empty() {
        return Verdict::Fail("fault: unknown field");
    }
    if faults.contains(&Fault::FailOnUnknownEvent) && delivery.event == "Unknown" {
        return Verdict::Fail("fault: unknown event");
    }
    if faults.contains(&Fault::FailOnDuplicate)
        && !log.claim(delivery.provider, &delivery.idempotency_key)
    {
        return Verdict::Fail("fault: duplicate delivery");
    }
    if faults.contains(&Fault::SlowAck) {
        return Verdict::Sleep(provider_timeout + Duration::from_millis(500));
    }
    Verdict::Proceed
}

/// Wraps a provider's router with the faults that act on the raw request or response.
pub(crate) fn wrap(
    faults: &[Fault],
    schemes: &'static [AuthScheme],
    router: Router,
    died: Arc<Notify>,
) -> Router {
    let on: Vec<Fault> = faults
        .iter()
        .copied()
        .filter(|f| {
            matches!(
                f,
                Fault::AcceptAnySignature
                    | Fault::RejectWithoutAnswer
                    | Fault::AcceptMalformedJson
                    | Fault::ServerErrorOnOversize
                    | Fault::DieAfterMalformed
                    | Fault::DieAfterFirstAck
                    | Fault::ServerErrorOnMissingDiscriminator
                    | Fault::AcceptMissingIat
            )
        })
        .collect();
    if on.is_empty() {
        return router;
    }
    let auth_headers: Vec<&'static str> = schemes
        .iter()
        // An optional Authorization header is not sent unless configured: nothing to drop.
        .filter(|s| !matches!(s, AuthScheme::Authorization(a) if !a.required))
        .map(|s| s.headers()[0])
        .collect();
    let dying = Dying {
        died,
        dead: AtomicBool::new(false),
    };
    // The JWT header and its issue-time claim, for `AcceptMissingIat`.
    let jwt: Option<(&'static str, &'static str)> = schemes.iter().find_map(|s| match s {
        AuthScheme::Jwt(j) => Some((&*j.header, &*j.issued_at_claim)),
        _ => None,
    });
    let state = Arc::new((on, auth_headers, dying, jwt));
    router.layer(axum::middleware::from_fn(
        move |request: Request, next: Next| {
            let state = state.clone();
            async move {
                let (on, auth_headers, dying, jwt) = &*state;
                misbehave(on, auth_headers, dying, *jwt, request, next).await
            }
        },
    ))
}

/// Whether the JWT in `header` decodes to claims without `claim`.
fn lacks_claim(headers: &axum::http::HeaderMap, (header, claim): (&str, &str)) -> bool {
    use base64::Engine as _;
    headers
        .get(header)
        .and_then(|v| v.to_str().ok())
        .and_then(|token| token.split('.').nth(1))
        .and_then(|c| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(c)
                .ok()
        })
        .and_then(|c| serde_json::from_slice::<serde_json::Value>(&c).ok())
        .is_some_and(|claims| claims.get(claim).is_none())
}

/// The server's end: `died` stops it; `dead` answers what still reaches it meanwhile (a
/// kept-alive connection, or one accepted before the shutdown took hold), so the stop is
/// seen at once however loaded the machine is.
struct Dying {
    died: Arc<Notify>,
    dead: AtomicBool,
}

async fn misbehave(
    on: &[Fault],
    auth_headers: &[&'static str],
    dying: &Dying,
    jwt: Option<(&'static str, &'static str)>,
    request: Request,
    next: Next,
) -> Response {
    if dying.dead.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let (parts, body) = request.into_parts();
    let bytes = match read_body(body, hookspec::runtime::DEFAULT_BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge) => {
            return fault_or(
                on,
                Fault::ServerErrorOnOversize,
                StatusCode::PAYLOAD_TOO_LARGE,
            )
        }
        Err(BodyError::Unreadable) => return StatusCode::BAD_REQUEST.into_response(),
    };
    let json = serde_json::from_slice::<serde_json::Value>(&bytes);
    let json_object = matches!(json, Ok(serde_json::Value::Object(_)));
    if json.is_err() {
        if on.contains(&Fault::DieAfterMalformed) {
            dying.dead.store(true, Ordering::SeqCst);
            dying.died.notify_one();
            return StatusCode::BAD_REQUEST.into_response();
        }
        if on.contains(&Fault::AcceptMalformedJson) {
            return StatusCode::OK.into_response();
        }
    }
    if on.contains(&Fault::AcceptAnySignature)
        && auth_headers.iter().any(|h| !parts.headers.contains_key(*h))
    {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if on.contains(&Fault::AcceptMissingIat) && jwt.is_some_and(|j| lacks_claim(&parts.headers, j))
    {
        return StatusCode::OK.into_response();
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let refused = matches!(
        response.status(),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
    );
    if on.contains(&Fault::RejectWithoutAnswer) && refused {
        std::future::pending::<()>().await;
    }
    if on.contains(&Fault::ServerErrorOnMissingDiscriminator)
        && json_object
        && response.status() == StatusCode::BAD_REQUEST
    {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    if on.contains(&Fault::DieAfterFirstAck)
        && response.status().is_success()
        && !dying.dead.swap(true, Ordering::SeqCst)
    {
        // The answer still goes out; the server stops right behind it.
        dying.died.notify_one();
    }
    response
}

/// Makes `call` about another record: the subject id in the URL becomes another id of the
/// same form, and every query value and non-credential body value is changed likewise
/// (an access token becomes another item's).
pub(crate) fn botch_follow_up(call: &mut hookspec::runtime::FollowUp, subject: Option<&str>) {
    if let Some(subject) = subject.filter(|s| !s.is_empty()) {
        call.url = call.url.replace(subject, &other_text(subject));
    }
    for (_, value) in &mut call.query {
        *value = other_text(value);
    }
    // Body fields still to fill are the credentials, filled after this.
    let unfilled: Vec<&str> = call
        .placeholders
        .iter()
        .filter_map(|p| match p.at {
            hookspec::runtime::Location::Body(field) => Some(field),
            _ => None,
        })
        .collect();
    if let Some(serde_json::Value::Object(body)) = &mut call.json_body {
        for (field, value) in body.iter_mut() {
            if !unfilled.contains(&field.as_str()) {
                *value = other_value(value);
            }
        }
    }
}

fn other_value(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::String(s) => serde_json::Value::String(other_text(s)),
        serde_json::Value::Number(n) => n
            .as_i64()
            .map_or_else(|| v.clone(), |i| serde_json::Value::from(i.wrapping_add(1))),
        serde_json::Value::Bool(b) => serde_json::Value::Bool(!b),
        other => other.clone(),
    }
}

/// `text` with its last letter or digit moved on by one, so ids keep their form (a UUID
/// stays a UUID, hex stays hex).
fn other_text(text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    if let Some(c) = chars.iter_mut().rev().find(|c| c.is_ascii_alphanumeric()) {
        *c = match *c {
            '9' => '0',
            'f' => 'a',
            'F' => 'A',
            'z' => 'a',
            'Z' => 'A',
            c => char::from(c as u8 + 1),
        };
    } else {
        chars.push('x');
    }
    chars.into_iter().collect()
}

fn fault_or(on: &[Fault], fault: Fault, status: StatusCode) -> Response {
    if on.contains(&fault) {
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    } else {
        status.into_response()
    }
}
