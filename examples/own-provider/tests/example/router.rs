//! A signed delivery through the router of the macro-generated `acme` module reaches the
//! handler; a forged signature is refused.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use hmac::{Hmac, Mac};
use hookspec::runtime::verify::{Credentials, SourceIpCheck};
use hookspec::runtime::{Delivery, Handled};
use own_provider::acme::{self, Handler, PaymentSucceeded};
use tower::ServiceExt;

const SECRET: &str = "whsec_test_acme";

const BODY: &str = r#"{"type":"payment.succeeded","id":"evt_1","created":1700000000,"payment_id":"pay_42","amount":19.90,"currency":"EUR"}"#;

#[derive(Clone, Default)]
struct Shop {
    paid: Arc<Mutex<Vec<(String, String, String)>>>,
}

impl Handler for Shop {
    async fn on_payment_succeeded(&self, event: PaymentSucceeded, delivery: &Delivery) -> Handled {
        self.paid.lock().unwrap().push((
            event.payment_id,
            event.amount.to_string(),
            delivery.idempotency_key.clone(),
        ));
        Ok(())
    }
}

fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("v1={hex}")
}

async fn post(shop: &Shop, signature: String) -> StatusCode {
    let config = acme::config(
        Credentials::new()
            .hmac_secret(SECRET)
            .source_ips(SourceIpCheck::Off),
    )
    .expect("acme config");
    let request = Request::post("/")
        .header("content-type", "application/json")
        .header("Acme-Signature", signature)
        .body(Body::from(BODY))
        .unwrap();
    acme::router(shop.clone(), config)
        .oneshot(request)
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn a_signed_delivery_reaches_the_handler() {
    let shop = Shop::default();
    let status = post(&shop, signature(SECRET, BODY.as_bytes())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        *shop.paid.lock().unwrap(),
        [("pay_42".to_owned(), "19.90".to_owned(), "evt_1".to_owned())]
    );
}

#[tokio::test]
async fn a_forged_signature_is_refused() {
    let shop = Shop::default();
    let status = post(&shop, signature("not-the-secret", BODY.as_bytes())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(shop.paid.lock().unwrap().is_empty());
}

#[test]
fn the_build_script_module_parses_like_the_macro_one() {
    let via_macro = acme::Event::parse(BODY.as_bytes()).unwrap();
    let via_build = own_provider::built::acme::Event::parse(BODY.as_bytes()).unwrap();
    assert_eq!(via_macro.name(), "PaymentSucceeded");
    assert_eq!(via_build.name(), "PaymentSucceeded");
    assert_eq!(via_macro.idempotency_key(BODY.as_bytes()), "evt_1");
}
