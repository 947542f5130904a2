//! A Plaid receiver in a few lines: business logic in a `Handler`, everything else
//! (verification, parsing, idempotency, statuses, limits) from the generated module.
//!
//! ```sh
//! PLAID_CLIENT_ID=... PLAID_SECRET=... cargo run -p hookspec --features axum --example plaid_receiver
//! ```

use std::net::SocketAddr;

use hookspec::plaid::{self, Handler, SyncUpdatesAvailable};
use hookspec::runtime::verify::{Credentials, HttpKeySource};
use hookspec::runtime::{Delivery, Handled};

struct Transactions;

impl Handler for Transactions {
    async fn on_sync_updates_available(
        &self,
        event: SyncUpdatesAvailable,
        delivery: &Delivery,
    ) -> Handled {
        // Queue the work and answer at once; Plaid waits at most 10 s.
        println!("sync item {} ({})", event.item_id, delivery.idempotency_key);
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let keys = HttpKeySource::new(plaid::KEY_ENDPOINT, "https://sandbox.plaid.com")?
        .credential("client_id", std::env::var("PLAID_CLIENT_ID")?)
        .credential("secret", std::env::var("PLAID_SECRET")?);
    let config = plaid::config(Credentials::new().key_source(keys))?;
    let app = axum::Router::new().nest("/webhooks/plaid", plaid::router(Transactions, config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    // Connect info gives the verifier the peer address for the source-IP check.
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
