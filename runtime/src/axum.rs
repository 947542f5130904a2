//! The axum face of [`super::receive`]: one route that reads the body under the limit,
//! hands the raw bytes and headers to the receiving pipeline, and answers its status.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
pub use axum::Router;
use tracing::Instrument;

use super::receive::{receive, Config, Outcome, Provider, Receipt, Receiver};
use super::verify;

struct Shared<P, R> {
    provider: P,
    receiver: R,
    config: Config,
}

/// A router receiving `provider`'s deliveries with `POST /`. Nest it under the path you registered
/// at the provider. The peer address comes from axum's `ConnectInfo` when the server is
/// started with `into_make_service_with_connect_info::<SocketAddr>()`; without it the
/// source-address check has no address to check.
pub fn router<P: Provider, R: Receiver<P>>(provider: P, receiver: R, config: Config) -> Router {
    let shared = Arc::new(Shared {
        provider,
        receiver,
        config,
    });
    Router::new()
        .route("/", post(deliver::<P, R>))
        .with_state(shared)
}

async fn deliver<P: Provider, R: Receiver<P>>(
    State(shared): State<Arc<Shared<P, R>>>,
    request: Request,
) -> Response {
    let span = delivery_span(shared.provider.name());
    deliver_in_span::<P, R>(&shared, request, span.clone())
        .instrument(span)
        .await
}

async fn deliver_in_span<P: Provider, R: Receiver<P>>(
    shared: &Shared<P, R>,
    request: Request,
    span: tracing::Span,
) -> Response {
    let read = match read_request(request, &shared.config).await {
        Ok(read) => read,
        Err((status, outcome)) => return finish(&span, status, outcome),
    };
    let request = read.verify_request();
    let receipt = receive(
        &shared.provider,
        &shared.receiver,
        &shared.config,
        &request,
        SystemTime::now(),
    )
    .await;
    answer(&span, receipt)
}

/// The span of one delivery: `webhook`, with the provider, and the event, idempotency key,
/// outcome and status recorded as they become known.
pub fn delivery_span(provider: &'static str) -> tracing::Span {
    tracing::info_span!(
        "webhook",
        provider,
        event = tracing::field::Empty,
        idempotency_key = tracing::field::Empty,
        outcome = tracing::field::Empty,
        status = tracing::field::Empty,
    )
}

/// A request read for the receiving pipeline: its parts, its body, the socket's peer
/// address, and the URL the provider called when a scheme signs it.
#[derive(Debug)]
pub struct ReadRequest {
    /// Method, URI, headers and extensions.
    pub parts: axum::http::request::Parts,
    /// The body, read under the limit.
    pub body: axum::body::Bytes,
    /// The peer address from axum's `ConnectInfo`, when the server records it.
    pub peer: Option<IpAddr>,
    url: Option<String>,
}

impl ReadRequest {
    /// The delivery as the verifier reads it.
    pub fn verify_request(&self) -> verify::Request<'_> {
        let request = verify::Request::new(&self.parts.headers, &self.body).peer(self.peer);
        match &self.url {
            Some(url) => request.target(self.parts.method.as_str(), url),
            None => request,
        }
    }
}

/// Reads a request for the receiving pipeline under `config`'s body limit; the status and
/// outcome to answer when the body is too large or unreadable.
pub async fn read_request(
    request: Request,
    config: &Config,
) -> Result<ReadRequest, (StatusCode, &'static str)> {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let (parts, body) = request.into_parts();
    // Only schemes that sign the URL pay for rebuilding it; a nested router sees its URI
    // without the prefix, so the original one is read.
    let url = config.verifier().needs_target().then(|| {
        let uri = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or(&parts.uri, |o| &o.0);
        let path_and_query = uri.path_and_query().map_or("/", |p| p.as_str());
        verify::public_url(config.public_origin(), &parts.headers, path_and_query)
    });
    match read_body(body, config.body_limit()).await {
        Ok(body) => Ok(ReadRequest {
            parts,
            body,
            peer,
            url,
        }),
        Err(BodyError::TooLarge) => Err((StatusCode::PAYLOAD_TOO_LARGE, "too_large")),
        Err(BodyError::Unreadable) => Err((StatusCode::BAD_REQUEST, "body_unreadable")),
    }
}

/// The response for a receipt, recorded in `span` (event, key, outcome, status) with a log
/// line for refusals and failures; a handshake's answer carries its body.
pub fn answer(span: &tracing::Span, receipt: Receipt) -> Response {
    if let Some(d) = &receipt.delivery {
        span.record("event", d.event);
        span.record("idempotency_key", d.idempotency_key.as_str());
    }
    match &receipt.outcome {
        Outcome::Unauthenticated(e) => tracing::warn!(reason = %e, "delivery refused"),
        Outcome::Malformed(e) => tracing::warn!(reason = %e, "malformed delivery"),
        Outcome::HandlerFailed(e) => tracing::error!(reason = %e, "handler failed"),
        Outcome::TimedOut => tracing::error!("handler timed out"),
        _ => {}
    }
    let status = StatusCode::from_u16(receipt.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let outcome = receipt.outcome.as_str();
    if let Outcome::Answered(answer) = receipt.outcome {
        let response = finish(span, status, outcome);
        let (mut parts, _) = response.into_parts();
        if let Ok(value) = answer.content_type.parse() {
            parts
                .headers
                .insert(axum::http::header::CONTENT_TYPE, value);
        }
        return Response::from_parts(parts, Body::from(answer.body));
    }
    finish(span, status, outcome)
}

/// An empty response with `status`, recorded in `span` with its `outcome` name.
pub fn finish(span: &tracing::Span, status: StatusCode, outcome: &'static str) -> Response {
    span.record("outcome", outcome);
    span.record("status", status.as_u16());
    tracing::info!("delivery answered");
    (status, Body::empty()).into_response()
}

/// Why a request body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Longer than the limit.
    TooLarge,
    /// The client went away mid-body, or the transport failed.
    Unreadable,
}

/// How much of an oversized body is read and thrown away before answering 413, and for
/// how long: enough for the sender to finish writing and read the answer (closing on a
/// sender mid-write makes it see a reset instead of the 413), bounded so an endless body
/// cannot hold the connection.
const DISCARD_MAX_BYTES: usize = 64 << 20;
const DISCARD_MAX_TIME: std::time::Duration = std::time::Duration::from_secs(2);

/// Reads a body of at most `limit` bytes. Past the limit the rest is discarded, up to a
/// bound in bytes and time, and the answer is [`BodyError::TooLarge`]; nothing beyond the
/// limit is ever kept in memory.
pub async fn read_body(body: Body, limit: usize) -> Result<axum::body::Bytes, BodyError> {
    use http_body_util::BodyExt;

    let mut body = body;
    // A body that arrives in one frame (most deliveries) is kept as it came, uncopied;
    // only a second frame starts a buffer.
    let mut first: Option<axum::body::Bytes> = None;
    let mut kept = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| BodyError::Unreadable)?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        let held = first.as_ref().map_or(0, |f| f.len()) + kept.len();
        if held + data.len() > limit {
            let _ = tokio::time::timeout(DISCARD_MAX_TIME, discard(body, data.len())).await;
            return Err(BodyError::TooLarge);
        }
        match first.take() {
            None if kept.is_empty() => first = Some(data),
            earlier => {
                kept.extend_from_slice(earlier.as_deref().unwrap_or_default());
                kept.extend_from_slice(&data);
            }
        }
    }
    Ok(first.unwrap_or_else(|| kept.into()))
}

async fn discard(mut body: Body, mut seen: usize) {
    use http_body_util::BodyExt;

    while seen < DISCARD_MAX_BYTES {
        match body.frame().await {
            Some(Ok(frame)) => seen += frame.data_ref().map_or(0, |d| d.len()),
            _ => return,
        }
    }
}

/// Emits a provider module's `router` function (with the doc attributes given) when this
/// crate's `axum` feature is on. Generated modules call it instead of a `cfg` of their own,
/// so the feature is the runtime's wherever the module is compiled.
#[doc(hidden)]
#[macro_export]
macro_rules! provider_router {
    ($(#[$doc:meta])*) => {
        $(#[$doc])*
        pub fn router<H: Handler>(handler: H, config: $crate::Config) -> $crate::axum::Router {
            $crate::axum::router(Webhooks, $crate::Handling::new(handler), config)
        }
    };
}
