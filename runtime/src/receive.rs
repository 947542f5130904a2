//! Receiving one delivery: verify -> parse -> claim -> handle, and the HTTP status the
//! provider expects for each outcome. Generic over the provider; the generated modules
//! plug in their rules ([`Provider`]) and handler traits ([`Receiver`]).

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::task::Poll;
use std::time::{Duration, SystemTime};

use super::verify::{
    AuthScheme, ConfigError, Credentials, DeliveryRules, Request, Verifier, VerifyError,
};
use super::{FollowUp, FollowUpContext, ParseError};

/// A provider seen by the generic receiving code: a generated module's `Webhooks` marker,
/// or a [`SpecProvider`](crate::SpecProvider) built from a spec read at run time.
pub trait Provider: Clone + Send + Sync + 'static {
    /// The provider's event type.
    type Event: Send + 'static;
    /// The spec name (`plaid`).
    fn name(&self) -> &'static str;
    /// How deliveries are authenticated.
    fn auth(&self) -> &'static [AuthScheme];
    /// Delivery rules (content type, source addresses, timeout, success status).
    fn delivery(&self) -> &'static DeliveryRules;
    /// Parses a delivery: its raw body, and its headers where the provider names events
    /// in them.
    fn parse(&self, headers: &http::HeaderMap, body: &[u8]) -> Result<Self::Event, ParseError>;
    /// The spec's name of the event (`"Unknown"` for events the spec does not know).
    fn event_name(&self, event: &Self::Event) -> &'static str;
    /// The delivery's idempotency key (from a header, where the provider sends it there).
    fn idempotency_key(
        &self,
        event: &Self::Event,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> String;
    /// The id of what the event is about.
    fn subject_id(&self, event: &Self::Event, headers: &http::HeaderMap) -> Option<String>;
    /// JSON paths of the fields the event carries that the spec does not know.
    fn unknown_fields(&self, event: &Self::Event) -> Vec<String>;
    /// How the receiver answers the event itself, when it is a handshake (the spec's
    /// `respond:`); its handler is then not called.
    fn respond(&self, event: &Self::Event) -> Option<&'static hookspec_core::Respond> {
        let _ = event;
        None
    }
    /// The call back to the provider the event asks for, when the spec describes one.
    fn follow_up(&self, event: &Self::Event, ctx: &FollowUpContext) -> Option<FollowUp> {
        let _ = (event, ctx);
        None
    }
}

/// Code generic over the provider, called with a provider chosen by name at run time
/// (`hookspec::visit`).
pub trait VisitProvider {
    /// What the visit answers.
    type Output;
    /// Called with the provider's marker.
    fn visit<P: Provider>(self, provider: P) -> Self::Output;
}

/// What a handler learns about the delivery besides the event itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The provider's spec name.
    pub provider: &'static str,
    /// The spec's name of the event.
    pub event: &'static str,
    /// The provider's delivery id, or `sha256:` of the raw body when it sends none.
    pub idempotency_key: String,
    /// The id of what the event is about (item, link, account), when it has one.
    pub subject_id: Option<String>,
    /// When the delivery was received (the clock verification used).
    pub received_at: SystemTime,
    /// The sending address, as the transport saw it.
    pub peer: Option<IpAddr>,
}

/// Whether a delivery is new; the answer of a handler's idempotency hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Not seen before: handle it.
    New,
    /// Already handled: acknowledge without handling it again.
    Duplicate,
}

/// A handler's verdict: `Ok` acknowledges the delivery, an error makes the provider retry.
pub type Handled = Result<(), HandlerError>;

/// A handler's failure. It is answered with 500 so the provider retries; the message is
/// logged, never sent back.
pub struct HandlerError(String);

impl HandlerError {
    /// An error with a message for the logs.
    pub fn new(message: impl Into<String>) -> Self {
        HandlerError(message.into())
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl<E: std::error::Error> From<E> for HandlerError {
    fn from(e: E) -> Self {
        HandlerError(e.to_string())
    }
}

impl fmt::Debug for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("HandlerError").field(&self.0).finish()
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The generic face of a generated `Handler` trait, implemented for every handler.
pub trait Receiver<P: Provider>: Send + Sync + 'static {
    /// The idempotency hook.
    fn claim(&self, delivery: &Delivery) -> impl Future<Output = Claim> + Send;
    /// Undoes a claim after a failed or timed-out handling.
    fn release(&self, delivery: &Delivery) -> impl Future<Output = ()> + Send;
    /// Handles a parsed event of `provider`.
    fn handle(
        &self,
        provider: &P,
        event: P::Event,
        delivery: &Delivery,
    ) -> impl Future<Output = Handled> + Send;
}

/// A generated module's `Handler` seen as a [`Receiver`]: emitted code implements
/// `Receiver<Webhooks>` for `Handling<H>` (a blanket impl on `H` itself would break the
/// orphan rule outside this crate).
#[derive(Debug, Clone, Default, ref_cast::RefCast)]
#[repr(transparent)]
pub struct Handling<H>(H);

impl<H> Handling<H> {
    /// Wraps a handler.
    pub fn new(handler: H) -> Self {
        Handling(handler)
    }

    /// The same handler, borrowed as a `Handling` (no copy).
    pub fn from_ref(handler: &H) -> &Self {
        ref_cast::RefCast::ref_cast(handler)
    }

    /// The handler.
    pub fn get(&self) -> &H {
        &self.0
    }
}

/// How one provider's deliveries are received.
#[derive(Debug, Clone)]
pub struct Config {
    verifier: Verifier,
    body_limit: usize,
    handler_timeout: Duration,
    public_origin: Option<String>,
}

/// Bodies above this are refused with 413 unless the limit is changed. Aggregator
/// notifications are a few KiB; a megabyte leaves room without inviting memory abuse.
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;

impl Config {
    /// A configuration for `provider` with the given credentials. The handler timeout
    /// defaults to four fifths of the provider's own timeout, so a slow handler is answered
    /// with 503 (and retried) before the provider gives up on the connection.
    pub fn new<P: Provider>(provider: &P, credentials: Credentials) -> Result<Self, ConfigError> {
        let delivery = provider.delivery();
        Ok(Config {
            verifier: Verifier::new(provider.auth(), delivery, credentials)?,
            body_limit: DEFAULT_BODY_LIMIT,
            handler_timeout: delivery.timeout.get() * 4 / 5,
            public_origin: None,
        })
    }

    /// The scheme and host the provider was given for this receiver
    /// (`https://hooks.example.com`), for schemes that sign the URL the provider called:
    /// behind a proxy or TLS terminator the server sees another one. Without it the URL is
    /// `http://` and the `Host` header.
    pub fn with_public_origin(mut self, origin: impl Into<String>) -> Self {
        self.public_origin = Some(origin.into());
        self
    }

    /// The public origin, when set.
    pub fn public_origin(&self) -> Option<&str> {
        self.public_origin.as_deref()
    }

    /// Refuse bodies longer than `bytes` with 413.
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Give up on a handler after `timeout` and answer 503.
    pub fn with_handler_timeout(mut self, timeout: Duration) -> Self {
        self.handler_timeout = timeout;
        self
    }

    /// The body limit in bytes.
    pub fn body_limit(&self) -> usize {
        self.body_limit
    }

    /// The handler timeout.
    pub fn handler_timeout(&self) -> Duration {
        self.handler_timeout
    }

    /// The provider's delivery rules.
    pub fn delivery(&self) -> &'static DeliveryRules {
        self.verifier.delivery()
    }

    /// The verifier.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }
}

/// How a delivery ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome {
    /// Verified, parsed and handled (an unknown event included).
    Accepted,
    /// Verified and parsed, and the idempotency hook had seen it: acknowledged unhandled.
    Duplicate,
    /// The body was over the limit.
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Verification failed.
    Unauthenticated(VerifyError),
    /// The `Content-Type` is not the provider's.
    UnsupportedMediaType,
    /// The body is not a well-formed event.
    Malformed(ParseError),
    /// The handler returned an error.
    HandlerFailed(HandlerError),
    /// The handler did not finish within the handler timeout.
    TimedOut,
    /// A handshake, answered from the spec's `respond:` rule without a handler.
    Answered(crate::respond::Answer),
}

impl Outcome {
    /// A short stable name for logs and metrics.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Duplicate => "duplicate",
            Outcome::TooLarge { .. } => "too_large",
            Outcome::Unauthenticated(_) => "unauthenticated",
            Outcome::UnsupportedMediaType => "unsupported_media_type",
            Outcome::Malformed(_) => "malformed",
            Outcome::HandlerFailed(_) => "handler_failed",
            Outcome::TimedOut => "timed_out",
            Outcome::Answered(_) => "answered",
        }
    }
}

/// The result of receiving one delivery: the status to answer with and why.
#[derive(Debug)]
pub struct Receipt {
    /// The HTTP status the provider expects for this outcome.
    pub status: u16,
    /// What happened.
    pub outcome: Outcome,
    /// The delivery, once the body parsed.
    pub delivery: Option<Delivery>,
}

impl Receipt {
    /// A delivery refused before it was parsed.
    pub fn refused(status: u16, outcome: Outcome) -> Self {
        Receipt {
            status,
            outcome,
            delivery: None,
        }
    }
}

/// Whether a `Content-Type` value names the provider's media type (parameters such as
/// `charset` ignored on both sides: the spec may write them, as Stripe's does). A missing
/// header is accepted: some senders omit it.
fn media_type_matches(request: &Request<'_>, expected: &str) -> bool {
    let Some(value) = request.headers.get(http::header::CONTENT_TYPE) else {
        return true;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    hookspec_core::media_type(value).eq_ignore_ascii_case(expected)
}

/// `future` under a deadline `limit` from now, like `tokio::time::timeout`, but without
/// arming a timer for a future that finishes on its first poll (a handler that only
/// stores the event): registering and removing the timer would cost more than the rest.
async fn within<F: Future>(limit: Duration, future: F) -> Result<F::Output, Elapsed> {
    // A limit too far to represent is no limit, as with `tokio::time::timeout`.
    let deadline = tokio::time::Instant::now().checked_add(limit);
    let mut future = std::pin::pin!(future);
    let first = std::future::poll_fn(|cx| match future.as_mut().poll(cx) {
        Poll::Ready(out) => Poll::Ready(Some(out)),
        Poll::Pending => Poll::Ready(None),
    })
    .await;
    match (first, deadline) {
        (Some(out), _) => Ok(out),
        (None, Some(deadline)) => tokio::time::timeout_at(deadline, future)
            .await
            .map_err(|_| Elapsed),
        (None, None) => Ok(future.await),
    }
}

/// The handler did not finish in time.
struct Elapsed;

/// A verified, parsed delivery, or the answer that ends it before any handler runs.
#[derive(Debug)]
pub enum Admission<E> {
    /// Verified and parsed: the event and what is known about its delivery.
    Event(E, Delivery),
    /// Refused (size, authentication, content type, malformed body), or a handshake
    /// answered from the spec's `respond:` rule.
    Answered(Receipt),
}

impl Delivery {
    /// What is known about a delivery of `event`, read from the event and its headers
    /// and body the way the provider's rules say.
    pub fn of<P: Provider>(
        provider: &P,
        event: &P::Event,
        headers: &http::HeaderMap,
        body: &[u8],
        received_at: SystemTime,
        peer: Option<IpAddr>,
    ) -> Self {
        Delivery {
            provider: provider.name(),
            event: provider.event_name(event),
            idempotency_key: provider.idempotency_key(event, headers, body),
            subject_id: provider.subject_id(event, headers),
            received_at,
            peer,
        }
    }
}

/// The first half of receiving, shared by [`receive`] and the inbox: size check,
/// verification on the raw bytes, content type, parse, and a handshake answered from the
/// spec's `respond:` rule.
pub async fn admit<P: Provider>(
    provider: &P,
    config: &Config,
    request: &Request<'_>,
    now: SystemTime,
) -> Admission<P::Event> {
    if request.body.len() > config.body_limit {
        return Admission::Answered(Receipt::refused(
            413,
            Outcome::TooLarge {
                limit: config.body_limit,
            },
        ));
    }
    if let Err(e) = config.verifier.verify(request, now).await {
        let status = config.delivery().refusal_status(e.status());
        return Admission::Answered(Receipt::refused(status, Outcome::Unauthenticated(e)));
    }
    if !media_type_matches(request, config.delivery().media_type()) {
        return Admission::Answered(Receipt::refused(415, Outcome::UnsupportedMediaType));
    }
    let event = match provider.parse(request.headers, request.body) {
        Ok(event) => event,
        Err(e) => return Admission::Answered(Receipt::refused(400, Outcome::Malformed(e))),
    };
    let delivery = Delivery::of(
        provider,
        &event,
        request.headers,
        request.body,
        now,
        request.peer,
    );
    let Some(rule) = provider.respond(&event) else {
        return Admission::Event(event, delivery);
    };
    let mac = |value: &[u8]| config.verifier.answer_mac(value);
    let answer = crate::respond::answer(
        rule,
        delivery.event,
        request.headers,
        request.body,
        config.delivery().success.ack(),
        &mac,
    );
    Admission::Answered(match answer {
        Ok(answer) => Receipt {
            status: answer.status,
            outcome: Outcome::Answered(answer),
            delivery: Some(delivery),
        },
        Err(e) => Receipt::refused(400, Outcome::Malformed(e)),
    })
}

/// Receives one delivery for `provider`: [`admit`] (size check, verification on the raw
/// bytes, content type, parse, handshake), then the idempotency claim and the handler
/// under the handler timeout.
///
/// Statuses: the provider's success status for handled, unknown and duplicate events; 413
/// over the body limit; 401 or 403 when verification fails; 415 for a foreign content
/// type; 400 for a malformed body; 500 when the handler fails; 503 when it times out.
///
/// Runs inside a Tokio runtime: the handler timeout is a Tokio timer.
pub async fn receive<P: Provider, R: Receiver<P>>(
    provider: &P,
    receiver: &R,
    config: &Config,
    request: &Request<'_>,
    now: SystemTime,
) -> Receipt {
    let (event, delivery) = match admit(provider, config, request, now).await {
        Admission::Event(event, delivery) => (event, delivery),
        Admission::Answered(receipt) => return receipt,
    };
    let ack = config.delivery().success.ack();
    if receiver.claim(&delivery).await == Claim::Duplicate {
        return Receipt {
            status: ack,
            outcome: Outcome::Duplicate,
            delivery: Some(delivery),
        };
    }
    let (status, outcome) = handle(
        provider,
        receiver,
        event,
        &delivery,
        config.handler_timeout,
        ack,
    )
    .await;
    Receipt {
        status,
        outcome,
        delivery: Some(delivery),
    }
}

/// Runs the handler on a claimed delivery under `timeout`, releasing the claim when it
/// does not succeed: `ack` and [`Outcome::Accepted`], 500 and
/// [`Outcome::HandlerFailed`], or 503 and [`Outcome::TimedOut`].
pub async fn handle<P: Provider, R: Receiver<P>>(
    provider: &P,
    receiver: &R,
    event: P::Event,
    delivery: &Delivery,
    timeout: Duration,
    ack: u16,
) -> (u16, Outcome) {
    let handled = within(timeout, receiver.handle(provider, event, delivery)).await;
    let (status, outcome) = match handled {
        Ok(Ok(())) => (ack, Outcome::Accepted),
        Ok(Err(e)) => (500, Outcome::HandlerFailed(e)),
        Err(_) => (503, Outcome::TimedOut),
    };
    if !matches!(outcome, Outcome::Accepted) {
        receiver.release(delivery).await;
    }
    (status, outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_content_type(value: Option<&str>) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        if let Some(v) = value {
            headers.insert(http::header::CONTENT_TYPE, v.parse().unwrap());
        }
        headers
    }

    #[test]
    fn media_types_compare_without_parameters() {
        let rules = hookspec_core::DeliveryRules {
            content_type: "application/json; charset=utf-8".into(),
            source_ips: Vec::new().into(),
            timeout: hookspec_core::Duration::from_secs(10),
            success: hookspec_core::Success::Any2xx,
            refusal: None,
        };
        assert_eq!(rules.media_type(), "application/json");
        for (sent, accepted) in [
            (Some("application/json; charset=utf-8"), true),
            (Some("Application/JSON"), true),
            (Some("application/json;charset=UTF-8"), true),
            (None, true),
            (Some("text/plain; charset=utf-8"), false),
            (Some("application/jsonx"), false),
        ] {
            let headers = with_content_type(sent);
            let request = Request::new(&headers, b"{}");
            assert_eq!(
                media_type_matches(&request, rules.media_type()),
                accepted,
                "{sent:?}"
            );
        }
    }
}
