//! `Verifier::verify` beside the raw primitive it wraps, with a warm key cache:
//! Plaid (through `hookspec::plaid::config`): SHA-256 of the body plus ring's ES256
//! verification of the JWT's signing input with a key made once; Bridge: HMAC-SHA256 of
//! the body checked with `verify_slice` (constant time). Compare the ratios within one run.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use hmac::{Hmac, Mac};
use hookspec::runtime::verify::{Request, Verifier};
use hookspec_signer::{Signer, SigningCredentials, VECTOR_CLOCK};
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
use sha2::{Digest, Sha256};

fn setup(provider: &str) -> (Verifier, http::HeaderMap, Vec<u8>, SigningCredentials) {
    let spec = common::spec(provider);
    let creds = SigningCredentials::test(spec);
    let body = common::body(spec);
    let now = common::at(VECTOR_CLOCK);
    let headers = common::header_map(&Signer::new(spec, creds.clone()).sign(&body, now));
    let verifier = Verifier::new(
        hookspec::auth(provider).expect("provider"),
        hookspec::delivery(provider).expect("provider"),
        common::test_credentials(spec),
    )
    .expect("verifier");
    (verifier, headers, body, creds)
}

fn verify(c: &mut Criterion) {
    let now = common::at(VECTOR_CLOCK);

    let (_, headers, body, creds) = setup("plaid");
    let config = hookspec::plaid::config(common::test_credentials(common::spec("plaid")))
        .expect("plaid config");
    let verifier = config.verifier();
    let request = Request {
        headers: &headers,
        body: &body,
        peer: None,
        target: None,
    };
    // Warm the key cache (the static source answers at once).
    common::ready(verifier.verify(&request, now)).expect("valid");
    let token = headers["plaid-verification"].to_str().unwrap().to_owned();
    let (input, signature) = token.rsplit_once('.').unwrap();
    let signature =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, signature)
            .unwrap();
    // The key made once from the JWK's point, as the runtime's key cache holds it.
    let point = creds
        .jwt_key
        .as_ref()
        .unwrap()
        .verifying_key()
        .to_encoded_point(false);
    let key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point.as_bytes().to_vec());
    let mut g = c.benchmark_group("verify/plaid");
    g.bench_function("Verifier::verify", |b| {
        b.iter(|| common::ready(verifier.verify(black_box(&request), now)).expect("valid"))
    });
    g.bench_function("raw: sha256(body) + ring ES256 verify", |b| {
        b.iter(|| {
            black_box(Sha256::digest(black_box(&body)));
            key.verify(black_box(input.as_bytes()), black_box(&signature))
                .expect("valid");
        })
    });
    g.finish();

    let (verifier, headers, body, creds) = setup("bridge");
    let request = Request {
        headers: &headers,
        body: &body,
        peer: None,
        target: None,
    };
    let secret = creds.shared.hmac_secrets[0].clone();
    // The tag the header carries, decoded once: the baseline is HMAC's own constant-time
    // verification of it, the primitive the wrapper wraps.
    let expected = {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(&body);
        mac.finalize().into_bytes()
    };
    let mut g = c.benchmark_group("verify/bridge");
    g.bench_function("Verifier::verify", |b| {
        b.iter(|| common::ready(verifier.verify(black_box(&request), now)).expect("valid"))
    });
    g.bench_function("raw: hmac-sha256(body) verify_slice", |b| {
        b.iter(|| {
            let mut mac = Hmac::<Sha256>::new_from_slice(black_box(secret.as_bytes())).unwrap();
            mac.update(black_box(&body));
            mac.verify_slice(black_box(&expected)).expect("valid");
        })
    });
    g.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
