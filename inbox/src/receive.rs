//! The receive path in inbox mode: verify and parse as the runtime does, then store the
//! raw delivery and acknowledge only once it is durable (503 when the store cannot take
//! it, so the provider retries).

use std::time::SystemTime;

use axum::extract::{Request, State as AxumState};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use hookspec_runtime::axum::{answer, delivery_span, finish, read_request};
use hookspec_runtime::{admit, Admission, Config, Provider};
use tracing::Instrument;

use crate::store::{kept_headers, NewDelivery, Put, Store, StoreError};
use crate::Inbox;

struct Shared<P, S> {
    provider: P,
    config: Config,
    inbox: Inbox<S>,
}

impl<S: Store> Inbox<S> {
    /// A router receiving `provider`'s deliveries into this inbox with `POST /`; nest it
    /// under the path registered at the provider. Handshakes (the spec's `respond:`) are
    /// answered at once and not stored.
    pub fn router<P: Provider>(&self, provider: P, config: Config) -> Router {
        let shared = std::sync::Arc::new(Shared {
            provider,
            config,
            inbox: self.clone(),
        });
        Router::new()
            .route("/", post(deliver::<P, S>))
            .with_state(shared)
    }
}

async fn deliver<P: Provider, S: Store>(
    AxumState(shared): AxumState<std::sync::Arc<Shared<P, S>>>,
    request: Request,
) -> Response {
    // The inline router's span: one name for a delivery, however it is received.
    let span = delivery_span(shared.provider.name());
    deliver_in_span(&shared, request, span.clone())
        .instrument(span)
        .await
}

async fn deliver_in_span<P: Provider, S: Store>(
    shared: &Shared<P, S>,
    request: Request,
    span: tracing::Span,
) -> Response {
    let read = match read_request(request, &shared.config).await {
        Ok(read) => read,
        Err((status, outcome)) => return finish(&span, status, outcome),
    };
    let request = read.verify_request();
    // Signature timestamps are checked against the wall clock, as the provider's clock
    // wrote them; the store's clock (which a test may have moved) dates the delivery.
    let delivery = match admit(
        &shared.provider,
        &shared.config,
        &request,
        SystemTime::now(),
    )
    .await
    {
        Admission::Event(_, delivery) => delivery,
        Admission::Answered(receipt) => return answer(&span, receipt),
    };
    span.record("event", delivery.event);
    span.record("idempotency_key", delivery.idempotency_key.as_str());
    let record = NewDelivery {
        provider: delivery.provider.to_owned(),
        event: delivery.event.to_owned(),
        idempotency_key: delivery.idempotency_key,
        headers: kept_headers(&read.parts.headers),
        body: read.body.to_vec(),
        peer: read.peer,
        received_at: shared.inbox.store.now(),
    };
    let inbox = &shared.inbox;
    let ack =
        StatusCode::from_u16(shared.config.delivery().success.ack()).unwrap_or(StatusCode::OK);
    // A store that hangs is a store that is down: answered 503 before the provider's
    // own timeout (the config's handler timeout is four fifths of it), so it retries.
    let put = tokio::time::timeout(shared.config.handler_timeout(), inbox.store.put(record))
        .await
        .unwrap_or_else(|_| Err(StoreError::new("the store did not answer in time")));
    match put {
        Ok(Put::Stored) => {
            inbox.metrics.received();
            inbox.wake.notify_waiters();
            finish(&span, ack, "stored")
        }
        Ok(Put::Duplicate) => {
            inbox.metrics.duplicate();
            finish(&span, ack, "duplicate")
        }
        Err(e) => {
            inbox.metrics.store_failure();
            tracing::error!(reason = %e, "the inbox could not store the delivery");
            finish(&span, StatusCode::SERVICE_UNAVAILABLE, "store_unavailable")
        }
    }
}
