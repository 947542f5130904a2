//! `Verifier::verify` beside the raw primitive it wraps, with a warm key cache:
//! Plaid (through `hookspec::plaid::config`): SHA-256 of the body plus ring's ES256
//! verification of the JWT's signing input with a key made once; Bridge: HMAC-SHA256 of
//! the body checked with `verify_slice` (constant time); and the `signature` scheme with
//! each public-key family of the model over the body, beside `ring`'s verification of the
//! same bytes with the key parsed once. Compare the ratios within one run.

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

/// The `signature` scheme over `{body}` with one algorithm: its verifier, the signed
/// headers, the body, and the raw check of the same signature.
fn scheme_case(
    algorithm: hookspec_codegen::model::SignatureAlgorithm,
) -> (Verifier, http::HeaderMap, Vec<u8>, Box<dyn Fn() -> bool>) {
    use hookspec_codegen::model as m;
    use ring::signature as rs;
    let key = match algorithm {
        m::SignatureAlgorithm::Ed25519 => m::SecretEncoding::Hex,
        _ => m::SecretEncoding::Base64,
    };
    let spec = common::with_signature(algorithm, "{body}", key, |_| {});
    let creds = SigningCredentials::test(spec);
    let body = common::body(spec);
    let signed = Signer::new(spec, creds.clone()).sign(&body, common::at(VECTOR_CLOCK));
    let signature = signed
        .iter()
        .find(|(n, _)| n == "X-Sig")
        .map(|(_, v)| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, v))
        .expect("signed")
        .unwrap();
    let verifier = Verifier::new(
        common::schemes(spec),
        common::delivery(spec),
        common::test_credentials(spec),
    )
    .expect("verifier");
    let given = &creds.shared.public_keys[0];
    if algorithm == m::SignatureAlgorithm::EcdsaP521Sha512 {
        // ring has no P-521: the baseline is the RustCrypto primitive the verifier uses.
        use p521::ecdsa::signature::Verifier as _;
        let point = spki_bits(given);
        let key = p521::ecdsa::VerifyingKey::from_sec1_bytes(&point).unwrap();
        let signature = p521::ecdsa::Signature::from_slice(&signature).unwrap();
        let message = body.clone();
        let raw = Box::new(move || {
            key.verify(black_box(&message), black_box(&signature))
                .is_ok()
        });
        return (verifier, common::header_map(&signed), body, raw);
    }
    let ring_alg: &'static dyn rs::VerificationAlgorithm = match algorithm {
        m::SignatureAlgorithm::Ed25519 => &rs::ED25519,
        m::SignatureAlgorithm::EcdsaP256Sha256 => &rs::ECDSA_P256_SHA256_FIXED,
        m::SignatureAlgorithm::EcdsaP256Sha256Der => &rs::ECDSA_P256_SHA256_ASN1,
        m::SignatureAlgorithm::EcdsaP384Sha384 => &rs::ECDSA_P384_SHA384_FIXED,
        m::SignatureAlgorithm::RsaPkcs1Sha256 => &rs::RSA_PKCS1_2048_8192_SHA256,
        m::SignatureAlgorithm::RsaPssSha256 => &rs::RSA_PSS_2048_8192_SHA256,
        other => panic!("no raw baseline for {other:?}"),
    };
    let raw_key = match algorithm {
        m::SignatureAlgorithm::Ed25519 => hex::decode(given).unwrap(),
        _ => spki_bits(given),
    };
    let key = rs::UnparsedPublicKey::new(ring_alg, raw_key);
    let message = body.clone();
    let raw = Box::new(move || {
        key.verify(black_box(&message), black_box(&signature))
            .is_ok()
    });
    (verifier, common::header_map(&signed), body, raw)
}

/// The key bits of the base64 SubjectPublicKeyInfo a provider shows.
fn spki_bits(given: &str) -> Vec<u8> {
    use hookspec::runtime::verify::message_signatures::der;
    let spki = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, given).unwrap();
    let outer = der::expect(&spki, der::SEQUENCE).unwrap();
    let alg_id = der::read(outer).unwrap();
    der::expect(alg_id.rest, der::BIT_STRING).unwrap()[1..].to_vec()
}

fn signature_schemes(c: &mut Criterion) {
    use hookspec_codegen::model::SignatureAlgorithm as A;
    let now = common::at(VECTOR_CLOCK);
    for algorithm in [
        A::Ed25519,
        A::EcdsaP256Sha256,
        A::EcdsaP256Sha256Der,
        A::EcdsaP384Sha384,
        A::EcdsaP521Sha512,
        A::RsaPkcs1Sha256,
        A::RsaPssSha256,
    ] {
        let (verifier, headers, body, raw) = scheme_case(algorithm);
        let request = Request::new(&headers, &body);
        assert!(raw(), "{algorithm:?}: the raw check accepts");
        let mut g = c.benchmark_group(format!("verify/signature/{}", algorithm.name()));
        g.bench_function("Verifier::verify", |b| {
            b.iter(|| common::ready(verifier.verify(black_box(&request), now)).expect("valid"))
        });
        // ring's verification, or RustCrypto's p521 for P-521 (ring has none).
        g.bench_function("raw: primitive verify", |b| b.iter(|| assert!(raw())));
        g.finish();
    }
}

/// Twilio: HMAC-SHA1 over the URL and the form's parameters sorted, beside HMAC-SHA1 of
/// the same message already assembled (the parsing and sorting are the scheme's cost).
fn twilio_form(c: &mut Criterion) {
    let spec = common::spec("twilio");
    let now = common::at(VECTOR_CLOCK);
    let url = "https://hooks.example.com/twilio/status?account=7";
    let body = b"MessageSid=SM1f0e8ae6ade43cb3c0ce4525424e404f&MessageStatus=delivered\
&To=%2B15558675310&From=%2B15017122661&AccountSid=AC00000000000000000000000000000000\
&ApiVersion=2010-04-01&SmsStatus=delivered&SmsSid=SM1f0e8ae6ade43cb3c0ce4525424e404f"
        .to_vec();
    let creds = SigningCredentials::test(spec);
    let headers = common::header_map(
        &Signer::new(spec, creds.clone())
            .to("POST", url)
            .sign(&body, now),
    );
    let verifier = Verifier::new(
        hookspec::auth("twilio").expect("provider"),
        hookspec::delivery("twilio").expect("provider"),
        common::test_credentials(spec),
    )
    .expect("verifier");
    let request = Request::new(&headers, &body).target("POST", url);
    common::ready(verifier.verify(&request, now)).expect("valid");
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    pairs.sort();
    let mut message = url.as_bytes().to_vec();
    for (n, v) in &pairs {
        message.extend_from_slice(n.as_bytes());
        message.extend_from_slice(v.as_bytes());
    }
    let secret = creds.shared.hmac_secrets[0].clone();
    let expected = {
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(&message);
        mac.finalize().into_bytes()
    };
    let mut g = c.benchmark_group("verify/twilio");
    g.bench_function("Verifier::verify", |b| {
        b.iter(|| common::ready(verifier.verify(black_box(&request), now)).expect("valid"))
    });
    g.bench_function("raw: hmac-sha1(assembled message) verify_slice", |b| {
        b.iter(|| {
            let mut mac = Hmac::<sha1::Sha1>::new_from_slice(black_box(secret.as_bytes())).unwrap();
            mac.update(black_box(&message));
            mac.verify_slice(black_box(&expected)).expect("valid");
        })
    });
    g.finish();
}

criterion_group!(benches, verify, signature_schemes, twilio_form);
criterion_main!(benches);
