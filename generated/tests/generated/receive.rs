//! The receiving pipeline with a handler written the way users write one: override the
//! events you care about, keep the defaults for the rest. Requests are signed for real by
//! `hookspec-signer`; Vezgo's identifying header keeps the verification side simple, since
//! the verifiers themselves are tested in `verify.rs`.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use hookspec::runtime::verify::{Credentials, Request, SourceIpCheck};
use hookspec::runtime::{Claim, Delivery, Handled, HandlerError, Outcome};
use hookspec::vezgo::{self, Handler, SyncAccount, SyncError};
use hookspec_codegen::model::ProviderSpec;
use hookspec_signer::{Signer, SigningCredentials};

fn vezgo_spec() -> ProviderSpec {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/vezgo.yaml");
    hookspec_codegen::load_file(&file)
        .expect("vezgo spec loads")
        .spec
}

#[derive(Default)]
struct Accounts {
    synced: Mutex<Vec<String>>,
    seen: Mutex<HashSet<String>>,
    fail_errors: bool,
    stall: bool,
}

impl Handler for Accounts {
    async fn claim(&self, delivery: &Delivery) -> Claim {
        if self
            .seen
            .lock()
            .unwrap()
            .insert(delivery.idempotency_key.clone())
        {
            Claim::New
        } else {
            Claim::Duplicate
        }
    }

    async fn release(&self, delivery: &Delivery) {
        self.seen.lock().unwrap().remove(&delivery.idempotency_key);
    }

    async fn on_sync_account(&self, event: SyncAccount, _: &Delivery) -> Handled {
        if self.stall {
            // A handler that never finishes in time: the receiver must cut it off at its
            // handler timeout, so nothing waits for this sleep to end.
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
        self.synced
            .lock()
            .unwrap()
            .push(event.account.id.to_string());
        Ok(())
    }

    async fn on_sync_error(&self, _: SyncError, _: &Delivery) -> Handled {
        if self.fail_errors {
            return Err(HandlerError::new("downstream unavailable"));
        }
        Ok(())
    }
}

struct Rig {
    spec: ProviderSpec,
    config: hookspec::runtime::Config,
}

impl Rig {
    fn new() -> Self {
        let spec = vezgo_spec();
        let client_id = SigningCredentials::test(&spec).shared.client_ids[0].clone();
        let credentials = Credentials::new()
            .client_id(client_id)
            .source_ips(SourceIpCheck::Off);
        let config = vezgo::config(credentials).expect("vezgo config");
        Rig { spec, config }
    }

    fn example(&self, event: &str) -> Vec<u8> {
        let e = self.spec.events.iter().find(|e| e.name == event).unwrap();
        e.examples[0].as_bytes().to_vec()
    }

    async fn send(
        &self,
        handler: &Accounts,
        body: &[u8],
        signed: bool,
    ) -> hookspec::runtime::Receipt {
        let now = SystemTime::now();
        let mut headers = http::HeaderMap::new();
        headers.insert("content-type", "application/json".parse().unwrap());
        if signed {
            let signer = Signer::new(&self.spec, SigningCredentials::test(&self.spec));
            for (k, v) in signer.sign(body, now) {
                headers.insert(
                    http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    v.parse().unwrap(),
                );
            }
        }
        let request = Request {
            headers: &headers,
            body,
            peer: None,
            target: None,
        };
        vezgo::receive(handler, &self.config, &request, now).await
    }
}

#[tokio::test]
async fn handled_events_reach_their_method_and_are_acknowledged() {
    let rig = Rig::new();
    let handler = Accounts::default();
    let body = rig.example("SyncAccount");
    let receipt = rig.send(&handler, &body, true).await;
    assert_eq!(receipt.status, 200);
    assert!(
        matches!(receipt.outcome, Outcome::Accepted),
        "{:?}",
        receipt.outcome
    );
    let delivery = receipt.delivery.expect("parsed delivery");
    assert_eq!(delivery.event, "SyncAccount");
    assert!(delivery.idempotency_key.starts_with("sha256:"));
    assert_eq!(handler.synced.lock().unwrap().len(), 1);
    // The same bytes again: acknowledged by the idempotency hook, not handled twice.
    let again = rig.send(&handler, &body, true).await;
    assert_eq!(again.status, 200);
    assert!(matches!(again.outcome, Outcome::Duplicate));
    assert_eq!(handler.synced.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn failures_map_to_the_statuses_the_provider_retries_on() {
    let rig = Rig::new();
    let handler = Accounts {
        fail_errors: true,
        ..Accounts::default()
    };
    let body = rig.example("SyncError");
    let failed = rig.send(&handler, &body, true).await;
    assert_eq!(failed.status, 500);
    assert!(matches!(failed.outcome, Outcome::HandlerFailed(_)));
    // The failed claim was released, so the provider's retry is handled, not skipped.
    let retried = rig.send(&handler, &body, true).await;
    assert!(matches!(retried.outcome, Outcome::HandlerFailed(_)));

    let unsigned = rig.send(&handler, &body, false).await;
    assert_eq!(unsigned.status, 401);
    assert!(matches!(unsigned.outcome, Outcome::Unauthenticated(_)));

    let malformed = rig.send(&handler, b"{\"hook\": 1", true).await;
    assert_eq!(malformed.status, 400);

    let unknown = br#"{"hook":"AccountDeleted","user":{"id":"u","loginName":"n"},"account":{"id":"a","provider":"p"}}"#;
    let receipt = rig.send(&handler, unknown, true).await;
    assert_eq!(
        (receipt.status, receipt.delivery.unwrap().event),
        (200, "Unknown")
    );
}

#[tokio::test]
async fn a_stalled_handler_is_cut_off_before_the_providers_timeout() {
    let rig = Rig::new();
    let handler = Accounts {
        stall: true,
        ..Accounts::default()
    };
    let short = rig
        .config
        .clone()
        .with_handler_timeout(Duration::from_millis(50));
    assert!(rig.config.handler_timeout() < hookspec::vezgo::DELIVERY.timeout.get());
    let rig = Rig {
        config: short,
        ..rig
    };
    let receipt = rig.send(&handler, &rig.example("SyncAccount"), true).await;
    assert_eq!(receipt.status, 503);
    assert!(matches!(receipt.outcome, Outcome::TimedOut));
    assert!(handler.synced.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_before_anything_else() {
    let rig = Rig::new();
    let rig = Rig {
        config: rig.config.clone().with_body_limit(16),
        ..rig
    };
    let receipt = rig
        .send(&Accounts::default(), &rig.example("SyncAccount"), false)
        .await;
    assert_eq!(receipt.status, 413);
    assert!(matches!(receipt.outcome, Outcome::TooLarge { limit: 16 }));
}
