//! ES256 signature verification alone, one primitive beside the other in one run: the
//! signing input and `r || s` signature of a real Plaid JWT, under the signer's test key.
//!
//! - `p256` (RustCrypto, pure Rust; what the runtime used before),
//! - `ring` (`ECDSA_P256_SHA256_FIXED`, key as the uncompressed SEC1 point `04 || x || y`),
//! - `aws-lc-rs` with `--features bench-aws-lc-rs` (builds AWS-LC's C code), both from the
//!   unparsed point and from a key parsed once.
//!
//! ```sh
//! cargo bench -p hookspec --bench es256 --features bench-aws-lc-rs
//! ```

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use criterion::{criterion_group, criterion_main, Criterion};
use hookspec_signer::{Signer, SigningCredentials, VECTOR_CLOCK};
use p256::ecdsa::signature::Verifier as _;

fn es256(c: &mut Criterion) {
    let spec = common::spec("plaid");
    let creds = SigningCredentials::test(spec);
    let body = common::body(spec);
    let headers = Signer::new(spec, creds.clone()).sign(&body, common::at(VECTOR_CLOCK));
    let token = headers
        .iter()
        .find(|(h, _)| h.eq_ignore_ascii_case("plaid-verification"))
        .map(|(_, v)| v.clone())
        .expect("a Plaid JWT");
    let (input, signature) = token.rsplit_once('.').expect("a compact JWT");
    let signature = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
    let input = input.as_bytes();

    let p256_key = *creds.jwt_key.as_ref().expect("a test key").verifying_key();
    let p256_signature = p256::ecdsa::Signature::from_slice(&signature).expect("r || s");
    let point = p256_key.to_encoded_point(false).as_bytes().to_vec();
    let ring_key =
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, &point);

    let mut g = c.benchmark_group("es256/verify");
    g.bench_function("p256", |b| {
        b.iter(|| {
            p256_key
                .verify(black_box(input), black_box(&p256_signature))
                .expect("valid")
        })
    });
    g.bench_function("ring", |b| {
        b.iter(|| {
            ring_key
                .verify(black_box(input), black_box(&signature))
                .expect("valid")
        })
    });
    #[cfg(feature = "bench-aws-lc-rs")]
    {
        use aws_lc_rs::signature::{ParsedPublicKey, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
        let unparsed = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point);
        let parsed = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point).expect("on P-256");
        g.bench_function("aws-lc-rs", |b| {
            b.iter(|| {
                unparsed
                    .verify(black_box(input), black_box(&signature))
                    .expect("valid")
            })
        });
        g.bench_function("aws-lc-rs (parsed key)", |b| {
            b.iter(|| {
                parsed
                    .verify_sig(black_box(input), black_box(&signature))
                    .expect("valid")
            })
        });
    }
    g.finish();
}

criterion_group!(benches, es256);
criterion_main!(benches);
