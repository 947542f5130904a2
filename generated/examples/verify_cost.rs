//! Verifies one signed delivery 10 000 times, one way, for counting instructions with
//! callgrind (wall clock on shared machines is too noisy to compare small ratios):
//!
//! ```sh
//! cargo build --release -p hookspec --example verify_cost
//! for mode in setup verify raw; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/verify_cost bridge $mode 2>&1 | grep refs
//! done
//! ```
//!
//! `(verify - setup) / (raw - setup)` is the cost of `Verifier::verify` (warm key cache)
//! relative to the primitive it wraps: for `plaid` SHA-256 of the body plus ring's ES256
//! verification of the JWT's signing input with a key made once, for `bridge` HMAC-SHA256 of the body
//! checked against the tag with `verify_slice` (constant time).

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use hookspec::runtime::verify::{Request, Verifier};
use hookspec_signer::{Signer, SigningCredentials, VECTOR_CLOCK};
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
use sha2::{Digest, Sha256};

fn main() {
    let mut args = std::env::args().skip(1);
    let (provider, mode) = (args.next().expect("provider"), args.next().expect("mode"));
    let spec = common::spec(&provider);
    let creds = SigningCredentials::test(spec);
    let body = common::body(spec);
    let now = common::at(VECTOR_CLOCK);
    let signed = Signer::new(spec, creds.clone()).sign(&body, now);
    let headers = common::header_map(&signed);
    let verifier = Verifier::new(
        hookspec::auth(&provider).expect("provider"),
        hookspec::delivery(&provider).expect("provider"),
        common::test_credentials(spec),
    )
    .expect("verifier");
    let request = Request {
        headers: &headers,
        body: &body,
        peer: None,
        target: None,
    };
    common::ready(verifier.verify(&request, now)).expect("valid");
    // The raw ES256 inputs, decoded once outside the loop.
    let token = signed
        .iter()
        .find(|(h, _)| h == "Plaid-Verification")
        .map_or("a.b.c", |(_, v)| v.as_str());
    let (input, sig) = token.rsplit_once('.').expect("a JWT");
    let point = creds.jwt_key.as_ref().map_or_else(Vec::new, |k| {
        k.verifying_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec()
    });
    let key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point);
    // The HMAC tag the header carries, decoded once (the baseline is `verify_slice` on it).
    let expected = creds
        .shared
        .hmac_secrets
        .first()
        .map_or_else(Vec::new, |secret| {
            let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
            mac.update(&body);
            mac.finalize().into_bytes().to_vec()
        });
    let n = if provider == "plaid" { 200 } else { 10_000 };
    for _ in 0..n {
        match (provider.as_str(), mode.as_str()) {
            (_, "verify") => {
                common::ready(verifier.verify(black_box(&request), now)).expect("valid")
            }
            ("plaid", "raw") => {
                let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
                black_box(Sha256::digest(black_box(&body)));
                key.verify(black_box(input.as_bytes()), black_box(&sig))
                    .expect("valid");
            }
            (_, "raw") => {
                let secret = creds.shared.hmac_secrets[0].as_bytes();
                let mut mac = Hmac::<Sha256>::new_from_slice(black_box(secret)).unwrap();
                mac.update(black_box(&body));
                mac.verify_slice(black_box(&expected)).expect("valid");
            }
            _ => {}
        }
    }
}
