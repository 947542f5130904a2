//! The `signature` scheme against vectors other people published: Twilio's request
//! validator tests (HMAC-SHA1 over the URL and sorted form parameters), SendGrid's event
//! webhook tests (DER ECDSA P-256 over timestamp and body, key as base64 SPKI), and the
//! signature bases and signatures of RFC 9421's appendix re-read as plain messages
//! (Ed25519, ECDSA P-256 `r||s`, RSA-PSS-SHA512, keys as PEM), and signatures OpenSSL
//! made (RSA PKCS#1 v1.5 and PSS with SHA-256/512, DER ECDSA P-384; `tests/openssl/`).

use std::borrow::Cow::{self, Borrowed as B};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use hookspec_runtime::core::{
    AuthScheme, DeliveryRules, SecretEncoding, SecretFormat, SignatureAlgorithm, SignatureAuth,
    SignatureEncoding, SignatureFormat, SignedTimestamp, Success, ToleranceWindow,
};
use hookspec_runtime::verify::{
    ConfigError, Credentials, Request, SourceIpCheck, Verifier, VerifyError,
};

struct Scheme {
    algorithm: SignatureAlgorithm,
    encoding: SignatureEncoding,
    signed: &'static str,
    key: SecretEncoding,
    timestamp_header: Option<&'static str>,
}

const HEADER: &str = "x-signature";

fn verifier(s: Scheme, keys: &[&str]) -> Result<Verifier, ConfigError> {
    verifier_for(
        SignatureAuth {
            header: B(HEADER),
            algorithm: s.algorithm,
            encoding: s.encoding,
            signed: B(s.signed),
            format: SignatureFormat {
                separator: None,
                label_separator: None,
                scheme: None,
            },
            jws: None,
            timestamp: s.timestamp_header.map(|h| SignedTimestamp {
                header: Some(B(h)),
                label: None,
                tolerance: hookspec_runtime::core::Duration::from_secs(600),
                window: ToleranceWindow::BothWays,
                unit: hookspec_runtime::core::TimestampUnit::UnixSeconds,
            }),
            key: SecretFormat {
                encoding: s.key,
                strip_prefix: None,
            },
            rotation: None,
            optional: false,
            description: None,
        },
        keys,
    )
}

/// A verifier of `scheme` alone, holding `keys` (secrets or public keys, as its algorithm
/// takes them).
fn verifier_for(scheme: SignatureAuth, keys: &[&str]) -> Result<Verifier, ConfigError> {
    let secret = scheme.algorithm.is_secret();
    let schemes: &'static [AuthScheme] = Box::leak(Box::new([AuthScheme::Signature(scheme)]));
    let rules: &'static DeliveryRules = Box::leak(Box::new(DeliveryRules {
        content_type: Cow::Borrowed("application/json"),
        source_ips: Cow::Borrowed(&[]),
        timeout: hookspec_runtime::core::Duration::from_secs(10),
        success: Success::Any2xx,
        refusal: None,
    }));
    let mut credentials = Credentials::new().source_ips(SourceIpCheck::Off);
    for key in keys {
        credentials = if secret {
            credentials.hmac_secret(*key)
        } else {
            credentials.public_key(*key)
        };
    }
    Verifier::new(schemes, rules, credentials)
}

fn check(
    v: &Verifier,
    headers: &[(&str, &str)],
    body: &[u8],
    url: Option<&str>,
    now: u64,
) -> Result<(), VerifyError> {
    let mut map = http::HeaderMap::new();
    for (name, value) in headers {
        map.append(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    let mut request = Request::new(&map, body);
    if let Some(url) = url {
        request = request.target("POST", url);
    }
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(now);
    futures_ready(v.verify(&request, at))
}

/// The verifier never awaits without a key source; run it to completion on this thread.
fn futures_ready<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

// twilio-python, tests/unit/test_request_validator.py.
const TWILIO_TOKEN: &str = "12345";
const TWILIO_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
const TWILIO_FORM: &str =
    "CallSid=CA1234567890ABCDE&Digits=1234&From=%2B14158675309&To=%2B18005551212&Caller=%2B14158675309";

fn twilio() -> Verifier {
    let scheme = Scheme {
        algorithm: SignatureAlgorithm::HmacSha1,
        encoding: SignatureEncoding::Base64,
        signed: "{url}{form}",
        key: SecretEncoding::Utf8,
        timestamp_header: None,
    };
    verifier(scheme, &[TWILIO_TOKEN]).unwrap()
}

#[test]
fn twilio_url_and_sorted_form_parameters() {
    let v = twilio();
    assert!(v.needs_target());
    let sig = [(HEADER, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")];
    assert_eq!(
        check(&v, &sig, TWILIO_FORM.as_bytes(), Some(TWILIO_URL), 0),
        Ok(())
    );
    // The parameters' order on the wire does not matter; their values and the URL do.
    let reordered = "To=%2B18005551212&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&CallSid=CA1234567890ABCDE";
    assert_eq!(
        check(&v, &sig, reordered.as_bytes(), Some(TWILIO_URL), 0),
        Ok(())
    );
    let changed = TWILIO_FORM.replace("Digits=1234", "Digits=1235");
    assert_eq!(
        check(&v, &sig, changed.as_bytes(), Some(TWILIO_URL), 0),
        Err(VerifyError::NoMatchingSignature)
    );
    let other_url = TWILIO_URL.replace("bar=2", "bar=3");
    assert_eq!(
        check(&v, &sig, TWILIO_FORM.as_bytes(), Some(&other_url), 0),
        Err(VerifyError::NoMatchingSignature)
    );
    // A receiver that does not pass the URL is told so, not silently refused.
    let missing = check(&v, &sig, TWILIO_FORM.as_bytes(), None, 0);
    assert_eq!(missing, Err(VerifyError::NoTarget));
    assert_eq!(missing.unwrap_err().status(), 500);
}

#[test]
fn twilio_repeated_parameters_sort_by_value_too() {
    let sig = [(HEADER, "IK+Dwps556ElfBT0I3Rgjkr1wJU=")];
    let form = "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234";
    assert_eq!(
        check(&twilio(), &sig, form.as_bytes(), Some(TWILIO_URL), 0),
        Ok(())
    );
}

// sendgrid-python, test/unit/test_eventwebhook.py.
const SENDGRID_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==";
const SENDGRID_OTHER_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqTxd43gyp8IOEto2LdIfjRQrIbsd4SXZkLW6jDutdhXSJCWHw8REntlo7aNDthvj+y7GjUuFDb/R1NGe1OPzpA==";
const SENDGRID_SIGNATURE: &str =
    "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM=";
const SENDGRID_TIMESTAMP: &str = "1600112502";
const SENDGRID_BODY: &str = "[{\"email\":\"hello@world.com\",\"event\":\"dropped\",\"reason\":\"Bounced Address\",\"sg_event_id\":\"ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA\",\"sg_message_id\":\"LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0\",\"smtp-id\":\"<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>\",\"timestamp\":1600112492}]\r\n";

fn sendgrid(key: &str) -> Verifier {
    let scheme = Scheme {
        algorithm: SignatureAlgorithm::EcdsaP256Sha256Der,
        encoding: SignatureEncoding::Base64,
        signed: "{timestamp}{body}",
        key: SecretEncoding::Base64,
        timestamp_header: Some("x-timestamp"),
    };
    verifier(scheme, &[key]).unwrap()
}

#[test]
fn sendgrid_der_ecdsa_over_timestamp_and_body() {
    let at: u64 = SENDGRID_TIMESTAMP.parse().unwrap();
    let headers = |sig, ts| [(HEADER, sig), ("x-timestamp", ts)];
    let good = headers(SENDGRID_SIGNATURE, SENDGRID_TIMESTAMP);
    let v = sendgrid(SENDGRID_KEY);
    assert_eq!(check(&v, &good, SENDGRID_BODY.as_bytes(), None, at), Ok(()));
    // The library's own refusals: another key, another payload, another signature, and a
    // timestamp that is not one.
    assert_eq!(
        check(
            &sendgrid(SENDGRID_OTHER_KEY),
            &good,
            SENDGRID_BODY.as_bytes(),
            None,
            at
        ),
        Err(VerifyError::NoMatchingSignature)
    );
    assert_eq!(
        check(&v, &good, b"payload", None, at),
        Err(VerifyError::NoMatchingSignature)
    );
    let other = "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH3j/0=";
    assert_eq!(
        check(
            &v,
            &headers(other, SENDGRID_TIMESTAMP),
            SENDGRID_BODY.as_bytes(),
            None,
            at
        ),
        Err(VerifyError::NoMatchingSignature)
    );
    assert!(matches!(
        check(
            &v,
            &headers(SENDGRID_SIGNATURE, "timestamp"),
            SENDGRID_BODY.as_bytes(),
            None,
            at
        ),
        Err(VerifyError::MalformedHeader { .. })
    ));
    // Signed eleven minutes ago: stale under a ten-minute tolerance.
    assert!(matches!(
        check(&v, &good, SENDGRID_BODY.as_bytes(), None, at + 660),
        Err(VerifyError::TokenTooOld { .. })
    ));
    // The same key as PEM, and the raw point inside it, verify the same signature.
    let der = base64::engine::general_purpose::STANDARD
        .decode(SENDGRID_KEY)
        .unwrap();
    let pem = SecretEncoding::Pem.encode(&der);
    let pem_scheme = Scheme {
        algorithm: SignatureAlgorithm::EcdsaP256Sha256Der,
        encoding: SignatureEncoding::Base64,
        signed: "{timestamp}{body}",
        key: SecretEncoding::Pem,
        timestamp_header: Some("x-timestamp"),
    };
    let v = verifier(pem_scheme, &[&pem]).unwrap();
    assert_eq!(check(&v, &good, SENDGRID_BODY.as_bytes(), None, at), Ok(()));
    let raw_point = hex::encode(&der[der.len() - 65..]);
    let raw_scheme = Scheme {
        algorithm: SignatureAlgorithm::EcdsaP256Sha256Der,
        encoding: SignatureEncoding::Base64,
        signed: "{timestamp}{body}",
        key: SecretEncoding::Hex,
        timestamp_header: Some("x-timestamp"),
    };
    let v = verifier(raw_scheme, &[&raw_point]).unwrap();
    assert_eq!(check(&v, &good, SENDGRID_BODY.as_bytes(), None, at), Ok(()));
}

#[test]
fn a_key_of_another_type_or_shape_is_refused_when_the_verifier_is_built() {
    let scheme = |algorithm, key| Scheme {
        algorithm,
        encoding: SignatureEncoding::Base64,
        signed: "{body}",
        key,
        timestamp_header: None,
    };
    // SendGrid's P-256 key offered for P-384, Ed25519 and RSA.
    for algorithm in [
        SignatureAlgorithm::EcdsaP384Sha384,
        SignatureAlgorithm::Ed25519,
        SignatureAlgorithm::RsaPkcs1Sha256,
    ] {
        let err = verifier(scheme(algorithm, SecretEncoding::Base64), &[SENDGRID_KEY]).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::BadSecretEncoding {
                    index: 0,
                    what: "public key",
                    ..
                }
            ),
            "{algorithm:?}: {err:?}"
        );
    }
    // Truncated, and no key at all.
    let err = verifier(
        scheme(
            SignatureAlgorithm::EcdsaP256Sha256Der,
            SecretEncoding::Base64,
        ),
        &[&SENDGRID_KEY[..40]],
    )
    .unwrap_err();
    assert!(
        matches!(err, ConfigError::BadSecretEncoding { .. }),
        "{err:?}"
    );
    let err = verifier(
        scheme(SignatureAlgorithm::Ed25519, SecretEncoding::Hex),
        &[],
    )
    .unwrap_err();
    assert_eq!(
        err,
        ConfigError::MissingPublicKey {
            algorithm: SignatureAlgorithm::Ed25519
        }
    );
}

/// RFC 9421 Appendix B: each signature base is a message signed with a published key.
fn rfc9421(name: &str) -> String {
    let path = format!("{}/tests/rfc9421/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The base64 of the `label` member of a fixture's `Signature` field.
fn appendix_signature(file: &str, label: &str) -> String {
    let http = rfc9421(file);
    let line = http
        .lines()
        .find(|l| l.starts_with("Signature:"))
        .unwrap_or_else(|| panic!("{file} has no Signature"));
    let member = line
        .split([':', ','])
        .collect::<Vec<_>>()
        .windows(2)
        .find(|w| w[0].trim().trim_end_matches('=') == label)
        .map(|w| w[1].to_owned())
        .unwrap_or_else(|| panic!("{file} has no {label}"));
    member.trim().to_owned()
}

#[test]
fn rfc_9421_appendix_signatures_verify_as_plain_messages() {
    let cases = [
        (
            "b26",
            "sig-b26",
            "b26.base",
            SignatureAlgorithm::Ed25519,
            "test-key-ed25519.pub.pem",
        ),
        (
            "b24",
            "sig-b24",
            "b24.base",
            SignatureAlgorithm::EcdsaP256Sha256,
            "test-key-ecc-p256.pub.pem",
        ),
        (
            "b21",
            "sig-b21",
            "b21.base",
            SignatureAlgorithm::RsaPssSha512,
            "test-key-rsa-pss.pub.pem",
        ),
    ];
    for (file, label, base, algorithm, key) in cases {
        let message = rfc9421(base).into_bytes();
        let signature = appendix_signature(&format!("{file}.http"), label);
        let scheme = Scheme {
            algorithm,
            encoding: SignatureEncoding::Base64,
            signed: "{body}",
            key: SecretEncoding::Pem,
            timestamp_header: None,
        };
        let v = verifier(scheme, &[&rfc9421(key)]).unwrap_or_else(|e| panic!("{file}: {e}"));
        let sig = [(HEADER, signature.as_str())];
        assert_eq!(check(&v, &sig, &message, None, 0), Ok(()), "{file}");
        let mut altered = message.clone();
        altered[0] ^= 1;
        assert_eq!(
            check(&v, &sig, &altered, None, 0),
            Err(VerifyError::NoMatchingSignature),
            "{file}: altered"
        );
    }
}

#[test]
fn openssl_signatures_verify() {
    let dir = format!("{}/tests/openssl", env!("CARGO_MANIFEST_DIR"));
    let read = |name: &str| std::fs::read_to_string(format!("{dir}/{name}")).unwrap();
    let message = read("message.txt").into_bytes();
    let mut seen = Vec::new();
    for line in read("signatures.txt").lines() {
        let (name, signature) = line.split_once(' ').unwrap();
        let algorithm = SignatureAlgorithm::ALL
            .into_iter()
            .find(|a| a.name() == name)
            .unwrap_or_else(|| panic!("unknown algorithm {name}"));
        let key = if name.starts_with("rsa") {
            read("rsa.pub.pem")
        } else {
            read("p384.pub.pem")
        };
        let scheme = Scheme {
            algorithm,
            encoding: SignatureEncoding::Base64,
            signed: "{body}",
            key: SecretEncoding::Pem,
            timestamp_header: None,
        };
        let v = verifier(scheme, &[&key]).unwrap_or_else(|e| panic!("{name}: {e}"));
        let sig = [(HEADER, signature)];
        assert_eq!(check(&v, &sig, &message, None, 0), Ok(()), "{name}");
        assert_eq!(
            check(&v, &sig, &message[1..], None, 0),
            Err(VerifyError::NoMatchingSignature),
            "{name}: altered"
        );
        seen.push(algorithm);
    }
    assert_eq!(seen.len(), 5, "every OpenSSL vector was read");
}

// truelayer-signing, test-resources/ (see tests/truelayer/README.md).
const TL_BODY: &str =
    r#"{"event_type":"example","event_id":"18b2842b-a57b-4887-a0a6-d3c7c36f1020"}"#;
const TL_TIMESTAMP: &str = "2021-11-29T11:42:55Z";
/// 2021-11-29T11:42:55Z.
const TL_SENT: u64 = 1_638_186_175;

fn truelayer() -> Verifier {
    use hookspec_runtime::core::{DetachedJws, Pairs, TimestampUnit};
    let key = std::fs::read_to_string(format!(
        "{}/tests/truelayer/ec512-public.pem",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let scheme = SignatureAuth {
        header: B("Tl-Signature"),
        algorithm: SignatureAlgorithm::EcdsaP521Sha512,
        encoding: SignatureEncoding::Base64url,
        signed: B("{method} {path}\n{signed_headers}{body}"),
        format: SignatureFormat {
            separator: None,
            label_separator: None,
            scheme: None,
        },
        jws: Some(DetachedJws {
            headers_param: Some(B("tl_headers")),
            signs_headers: B(&[]),
            requires: Pairs(B(&[(B("tl_version"), B("2"))])),
            key_url_param: Some(B("jku")),
            key_urls: B(&[
                B("https://webhooks.truelayer.com/.well-known/jwks"),
                B("https://webhooks.truelayer-sandbox.com/.well-known/jwks"),
            ]),
        }),
        timestamp: Some(SignedTimestamp {
            header: Some(B("X-Tl-Webhook-Timestamp")),
            label: None,
            tolerance: hookspec_runtime::core::Duration::from_secs(300),
            window: ToleranceWindow::BothWays,
            unit: TimestampUnit::Rfc3339,
        }),
        key: SecretFormat {
            encoding: SecretEncoding::Pem,
            strip_prefix: None,
        },
        rotation: None,
        optional: false,
        description: None,
    };
    verifier_for(scheme, &[&key]).unwrap()
}

fn tl_signature() -> String {
    std::fs::read_to_string(format!(
        "{}/tests/truelayer/webhook-signature.txt",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
    .trim()
    .to_owned()
}

#[test]
fn truelayer_detached_jws_over_method_path_listed_headers_and_body() {
    let v = truelayer();
    let signature = tl_signature();
    let headers = |sig: &str, ts: &str| {
        vec![
            ("Tl-Signature".to_owned(), sig.to_owned()),
            ("X-Tl-webhook-Timestamp".to_owned(), ts.to_owned()),
            ("Content-Type".to_owned(), "application/json".to_owned()),
        ]
    };
    let run = |h: &[(String, String)], body: &str, path: &str, now: u64| {
        let pairs: Vec<(&str, &str)> = h.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let url = format!("https://hooks.example.com{path}");
        check(&v, &pairs, body.as_bytes(), Some(&url), now)
    };
    let good = headers(&signature, TL_TIMESTAMP);
    assert_eq!(run(&good, TL_BODY, "/tl-webhook", TL_SENT + 5), Ok(()));
    // The body, the path and each listed header are signed.
    assert_eq!(
        run(
            &good,
            &TL_BODY.replace("example", "other"),
            "/tl-webhook",
            TL_SENT + 5
        ),
        Err(VerifyError::NoMatchingSignature)
    );
    assert_eq!(
        run(&good, TL_BODY, "/tl-webhook2", TL_SENT + 5),
        Err(VerifyError::NoMatchingSignature)
    );
    let later = headers(&signature, "2021-11-29T11:42:56Z");
    assert_eq!(
        run(&later, TL_BODY, "/tl-webhook", TL_SENT + 5),
        Err(VerifyError::NoMatchingSignature)
    );
    // Valid, but stale ten minutes later (this spec's five-minute window).
    assert!(matches!(
        run(&good, TL_BODY, "/tl-webhook", TL_SENT + 600),
        Err(VerifyError::TokenTooOld { .. })
    ));
    // A listed header that is missing is malformed, not silently skipped.
    let without: Vec<(String, String)> = good
        .iter()
        .filter(|(n, _)| n != "Content-Type")
        .cloned()
        .collect();
    assert!(matches!(
        run(&without, TL_BODY, "/tl-webhook", TL_SENT + 5),
        Err(VerifyError::MalformedHeader { .. })
    ));
    // The protected header cannot choose the algorithm or drop the version.
    let (protected, sig) = signature.split_once("..").unwrap();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let json = String::from_utf8(b64.decode(protected).unwrap()).unwrap();
    for (changed, expected) in [
        (json.replace("ES512", "ES256"), "unsupported_algorithm"),
        (json.replace("ES512", "none"), "unsupported_algorithm"),
        (json.replace(r#""tl_version":"2","#, ""), "malformed_header"),
        // A signature that leaves the timestamp out does not bind it.
        (
            json.replace("X-Tl-Webhook-Timestamp,", ""),
            "malformed_header",
        ),
        // A key set that is not TrueLayer's could hold any key.
        (
            json.replace("webhooks.truelayer.com", "keys.attacker.example"),
            "key_url_not_allowed",
        ),
    ] {
        let forged = format!("{}..{sig}", b64.encode(&changed));
        let err = run(
            &headers(&forged, TL_TIMESTAMP),
            TL_BODY,
            "/tl-webhook",
            TL_SENT + 5,
        )
        .unwrap_err();
        assert_eq!(err.kind(), expected, "{changed}");
    }
    let none = format!("{}..", b64.encode(json.replace("ES512", "none")));
    assert_eq!(
        run(
            &headers(&none, TL_TIMESTAMP),
            TL_BODY,
            "/tl-webhook",
            TL_SENT + 5
        )
        .unwrap_err()
        .kind(),
        "unsupported_algorithm"
    );
}
