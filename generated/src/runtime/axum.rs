//! The axum face of [`super::receive`]: one route that reads the body under the limit,
//! hands the raw bytes and headers to the receiving pipeline, and answers its status.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use tracing::Instrument;

use super::receive::{receive, Config, Outcome, Provider, Receiver};
use super::verify;

struct Shared<R> {
    receiver: R,
    config: Config,
}

/// A router receiving `P`'s deliveries with `POST /`. Nest it under the path you registered
/// at the provider. The peer address comes from axum's `ConnectInfo` when the server is
/// started with `into_make_service_with_connect_info::<SocketAddr>()`; without it the
/// source-address check has no address to check.
pub fn router<P: Provider, R: Receiver<P>>(receiver: R, config: Config) -> Router {
    let shared = Arc::new(Shared { receiver, config });
    Router::new()
        .route("/", post(deliver::<P, R>))
        .with_state(shared)
}

async fn deliver<P: Provider, R: Receiver<P>>(
    State(shared): State<Arc<Shared<R>>>,
    request: Request,
) -> Response {
    let span = tracing::info_span!(
        "webhook",
        provider = P::NAME,
        event = tracing::field::Empty,
        idempotency_key = tracing::field::Empty,
        outcome = tracing::field::Empty,
        status = tracing::field::Empty,
    );
    deliver_in_span::<P, R>(&shared, request, span.clone())
        .instrument(span)
        .await
}

async fn deliver_in_span<P: Provider, R: Receiver<P>>(
    shared: &Shared<R>,
    request: Request,
    span: tracing::Span,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let (parts, body) = request.into_parts();
    let limit = shared.config.body_limit();
    // Read one byte past the limit so "exactly at the limit" and "over it" differ.
    let body = match axum::body::to_bytes(body, limit.saturating_add(1)).await {
        Ok(bytes) if bytes.len() <= limit => bytes,
        Ok(_) => return finish(&span, StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
        Err(e) => {
            // A length-limit error, or the client went away mid-body.
            let too_large = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            return if too_large {
                finish(&span, StatusCode::PAYLOAD_TOO_LARGE, "too_large")
            } else {
                finish(&span, StatusCode::BAD_REQUEST, "body_unreadable")
            };
        }
    };
    let request = verify::Request {
        headers: &parts.headers,
        body: &body,
        peer,
    };
    let receipt = receive::<P, R>(
        &shared.receiver,
        &shared.config,
        &request,
        SystemTime::now(),
    )
    .await;
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
    finish(&span, status, receipt.outcome.as_str())
}

fn finish(span: &tracing::Span, status: StatusCode, outcome: &'static str) -> Response {
    span.record("outcome", outcome);
    span.record("status", status.as_u16());
    tracing::info!("delivery answered");
    (status, Body::empty()).into_response()
}
