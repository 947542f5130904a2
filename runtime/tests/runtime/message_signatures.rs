//! RFC 9421 against its own published vectors (fixtures in `tests/rfc9421/`), signing
//! with hookspec-signer, and the refusals a verifier owes.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use hookspec_runtime::verify::message_signatures::{
    signature_base, signature_inputs, verify, Algorithm, ComponentId, FieldType, Message,
    SignatureError, SignatureParams, VerifyOptions, VerifyingKey,
};
use hookspec_signer::message_signatures::{sign_message, SigningKey};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/rfc9421/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A message file: start line and header lines (bodies are not stored).
struct Http {
    start: String,
    headers: Vec<(String, String)>,
}

impl Http {
    fn load(name: &str) -> Self {
        let text = fixture(name);
        let mut lines = text.lines();
        let start = lines.next().unwrap().to_owned();
        let headers = lines
            .take_while(|l| !l.is_empty())
            .map(|l| {
                let (n, v) = l.split_once(':').unwrap();
                (n.to_owned(), v.trim().to_owned())
            })
            .collect();
        Http { start, headers }
    }

    fn set(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.into(), value.into()));
        self
    }

    fn pairs(&self) -> Vec<(&str, &str)> {
        self.headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }

    /// Method and absolute target URI (`https://` + Host + request target).
    fn target(&self) -> (String, String) {
        let mut parts = self.start.split(' ');
        let method = parts.next().unwrap().to_owned();
        let target = parts.next().unwrap();
        let host = &self.headers.iter().find(|(n, _)| n == "Host").unwrap().1;
        (method, format!("https://{host}{target}"))
    }

    fn status(&self) -> Option<u16> {
        self.start
            .strip_prefix("HTTP/1.1 ")
            .map(|s| s[..3].parse().unwrap())
    }
}

/// Builds the message view of `$http` (borrowing locals) and runs `$body` with it.
macro_rules! with_message {
    ($http:expr, |$msg:ident| $body:expr) => {{
        let http = &$http;
        let pairs = http.pairs();
        match http.status() {
            Some(status) => {
                let $msg = Message::response(status, &pairs);
                $body
            }
            None => {
                let (method, uri) = http.target();
                let $msg = Message::request(&method, &uri, &pairs);
                $body
            }
        }
    }};
}

fn secret() -> Vec<u8> {
    let text = fixture("test-shared-secret.b64");
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .unwrap()
}

/// The appendix's keys by their key ids, each with the algorithm the RFC uses it for.
fn keys(keyid: &str) -> Option<VerifyingKey> {
    let alg = match keyid {
        "test-key-rsa" => Algorithm::RsaV15Sha256,
        "test-key-rsa-pss" => Algorithm::RsaPssSha512,
        "test-key-ecc-p256" => Algorithm::EcdsaP256Sha256,
        "test-key-ed25519" => Algorithm::Ed25519,
        "test-shared-secret" => return Some(VerifyingKey::hmac_sha256(&secret())),
        _ => return None,
    };
    Some(VerifyingKey::from_pem(alg, &fixture(&format!("{keyid}.pub.pem"))).unwrap())
}

fn signing_key(keyid: &str) -> SigningKey {
    let alg = keys(keyid).unwrap().algorithm();
    if alg == Algorithm::HmacSha256 {
        return SigningKey::hmac_sha256(&secret());
    }
    SigningKey::from_pem(alg, &fixture(&format!("{keyid}.key.pem"))).unwrap()
}

/// 2021-04-20T02:08:00Z, just after the vectors' `created` times.
fn at(unix: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(unix)
}
const NOW: u64 = 1_618_884_480;

fn options(labels: &'static [&'static str]) -> VerifyOptions<'static> {
    VerifyOptions {
        labels,
        ..VerifyOptions::new(at(NOW))
    }
}

/// (message file, label, base file, the algorithm the RFC signs it with)
const VECTORS: &[(&str, &str, Option<&str>, Algorithm)] = &[
    (
        "b21.http",
        "sig-b21",
        Some("b21.base"),
        Algorithm::RsaPssSha512,
    ),
    (
        "b22.http",
        "sig-b22",
        Some("b22.base"),
        Algorithm::RsaPssSha512,
    ),
    (
        "b23.http",
        "sig-b23",
        Some("b23.base"),
        Algorithm::RsaPssSha512,
    ),
    (
        "b24.http",
        "sig-b24",
        Some("b24.base"),
        Algorithm::EcdsaP256Sha256,
    ),
    (
        "b25.http",
        "sig-b25",
        Some("b25.base"),
        Algorithm::HmacSha256,
    ),
    ("b26.http", "sig-b26", Some("b26.base"), Algorithm::Ed25519),
    (
        "b3-ttrp.http",
        "ttrp",
        Some("b3-ttrp.base"),
        Algorithm::EcdsaP256Sha256,
    ),
    (
        "b4-valid-1.http",
        "transform",
        Some("b4-transform.base"),
        Algorithm::Ed25519,
    ),
    (
        "b4-valid-2.http",
        "transform",
        Some("b4-transform.base"),
        Algorithm::Ed25519,
    ),
    (
        "b4-valid-3.http",
        "transform",
        Some("b4-transform.base"),
        Algorithm::Ed25519,
    ),
    (
        "b4-valid-4.http",
        "transform",
        Some("b4-transform.base"),
        Algorithm::Ed25519,
    ),
    (
        "s3-verify.http",
        "sig1",
        Some("s3-verify.base"),
        Algorithm::RsaPssSha512,
    ),
    ("s4-client.http", "sig1", None, Algorithm::EcdsaP256Sha256),
    (
        "s4-proxy.http",
        "proxy_sig",
        Some("s4-proxy.base"),
        Algorithm::RsaV15Sha256,
    ),
    (
        "s2-signed-request.http",
        "sig1",
        None,
        Algorithm::RsaPssSha512,
    ),
];

/// The signature bases the RFC prints, byte for byte.
#[test]
fn appendix_signature_bases_are_byte_exact() {
    for (file, label, base, _) in VECTORS {
        let Some(base) = base else { continue };
        with_message!(Http::load(file), |msg| {
            let inputs = signature_inputs(&msg).unwrap();
            let (_, params) = inputs.iter().find(|(l, _)| l == label).unwrap();
            assert_eq!(
                signature_base(&msg, params).unwrap(),
                fixture(base),
                "{file}"
            );
        });
    }
}

#[test]
fn appendix_signatures_verify() {
    for (file, label, _, alg) in VECTORS {
        let labels: &'static [&'static str] = Box::leak(Box::new([*label]));
        with_message!(Http::load(file), |msg| {
            let verified = verify(&msg, keys, &options(labels))
                .unwrap_or_else(|e| panic!("{file} {label}: {e}"));
            assert_eq!(verified.len(), 1);
            assert_eq!(verified[0].label, *label);
            assert_eq!(verified[0].algorithm, *alg, "{file}");
        });
    }
}

/// Section 2.4: response signatures covering the request with `;req`.
#[test]
fn response_signatures_covering_the_request_verify() {
    for (request, response, base) in [
        ("s2-request.http", "s2-reqres.http", "s2-reqres.base"),
        (
            "s2-signed-request.http",
            "s2-reqres-full.http",
            "s2-reqres-full.base",
        ),
    ] {
        let request = Http::load(request);
        let (method, uri) = request.target();
        let request_pairs = request.pairs();
        let request = Message::request(&method, &uri, &request_pairs);
        let http = Http::load(response);
        let pairs = http.pairs();
        let msg = Message::response(http.status().unwrap(), &pairs).answering(&request);
        let (_, params) = signature_inputs(&msg).unwrap().remove(0);
        assert_eq!(signature_base(&msg, &params).unwrap(), fixture(base));
        verify(&msg, keys, &VerifyOptions::new(at(NOW))).unwrap();
        // Without the request the `;req` components have no value.
        let alone = Message::response(http.status().unwrap(), &pairs);
        assert!(matches!(
            verify(&alone, keys, &VerifyOptions::new(at(NOW))),
            Err(SignatureError::Component { .. })
        ));
    }
}

/// B.4: reordering fields by name is harmless; a changed method or authority or a
/// reordered repeated field is not.
#[test]
fn transformed_messages_fail_where_the_rfc_says() {
    for file in ["b4-invalid-1.http", "b4-invalid-2.http"] {
        with_message!(Http::load(file), |msg| {
            assert_eq!(
                verify(&msg, keys, &options(&[])),
                Err(SignatureError::BadSignature),
                "{file}"
            );
        });
    }
    // 4.3: the proxy changed the authority, so the client's own signature breaks.
    with_message!(Http::load("s4-proxy.http"), |msg| {
        assert_eq!(
            verify(&msg, keys, &options(&["sig1"])),
            Err(SignatureError::BadSignature)
        );
        assert_eq!(
            verify(&msg, keys, &options(&[])),
            Err(SignatureError::BadSignature)
        );
    });
}

/// HMAC and Ed25519 are deterministic: signing the vector's parameters gives the RFC's
/// bytes. (RSA v1.5 is too, but `ring` refuses to sign with `test-key-rsa`, whose primes
/// differ in length; 4.3's `proxy_sig` is checked by verification above.)
#[test]
fn deterministic_algorithms_sign_to_the_appendix_bytes() {
    for (file, label) in [
        ("b25.http", "sig-b25"),
        ("b26.http", "sig-b26"),
        ("b4-valid-1.http", "transform"),
    ] {
        let http = Http::load(file);
        let expected_input = member(&http, "Signature-Input", label);
        let expected_sig = member(&http, "Signature", label);
        with_message!(http, |msg| {
            let (_, params) = signature_inputs(&msg)
                .unwrap()
                .into_iter()
                .find(|(l, _)| l == label)
                .unwrap();
            let keyid = params.string("keyid").unwrap().to_owned();
            let signed = sign_message(&msg, label, &params, &signing_key(&keyid)).unwrap();
            assert_eq!(signed.signature_input, expected_input, "{file}");
            assert_eq!(signed.signature, expected_sig, "{file}");
        });
    }
}

/// One `label=...` member of a field as the fixture spells it (no member of these
/// fixtures contains ", ").
fn member(http: &Http, field: &str, label: &str) -> String {
    let value = &http.headers.iter().find(|(n, _)| n == field).unwrap().1;
    let prefix = format!("{label}=");
    value
        .split(", ")
        .find(|m| m.starts_with(&prefix))
        .unwrap()
        .to_owned()
}

/// PSS and ECDSA are randomized: fresh signatures over the vectors' parameters verify.
#[test]
fn randomized_algorithms_round_trip() {
    for (file, label) in [
        ("b21.http", "sig-b21"),
        ("b22.http", "sig-b22"),
        ("b23.http", "sig-b23"),
        ("b24.http", "sig-b24"),
        ("b3-ttrp.http", "ttrp"),
    ] {
        let http = Http::load(file);
        let signed = with_message!(http, |msg| {
            let (_, params) = signature_inputs(&msg).unwrap().remove(0);
            let keyid = params.string("keyid").unwrap().to_owned();
            let signed = sign_message(&msg, label, &params, &signing_key(&keyid)).unwrap();
            assert_eq!(signed.base, signature_base(&msg, &params).unwrap());
            signed
        });
        let resigned = Http::load(file)
            .set("Signature-Input", &signed.signature_input)
            .set("Signature", &signed.signature);
        with_message!(resigned, |msg| {
            verify(&msg, keys, &options(&[])).unwrap_or_else(|e| panic!("{file}: {e}"));
        });
    }
}

/// P-384 has no appendix vector: a generated key signs and verifies.
#[test]
fn ecdsa_p384_round_trips() {
    use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P384_SHA384_FIXED_SIGNING};
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let public =
        VerifyingKey::from_raw(Algorithm::EcdsaP384Sha384, pair.public_key().as_ref()).unwrap();
    let signer = SigningKey::from_der(Algorithm::EcdsaP384Sha384, pkcs8.as_ref()).unwrap();
    let http = Http::load("test-request.http");
    let params = SignatureParams::new(vec![
        ComponentId::new("@method"),
        ComponentId::new("@target-uri"),
        ComponentId::new("Content-Digest"),
    ])
    .created(NOW as i64)
    .keyid("p384")
    .alg(Algorithm::EcdsaP384Sha384);
    let signed = with_message!(http, |msg| sign_message(&msg, "p", &params, &signer)
        .unwrap());
    assert_eq!(signed.bytes.len(), 96);
    let http = Http::load("test-request.http")
        .set("Signature-Input", &signed.signature_input)
        .set("Signature", &signed.signature);
    let lookup = |id: &str| (id == "p384").then(|| public.clone());
    with_message!(http, |msg| {
        verify(&msg, lookup, &options(&["p"])).unwrap();
    });
}

fn b26_with(change: impl FnOnce(Http) -> Http) -> Result<(), SignatureError> {
    let http = change(Http::load("b26.http"));
    with_message!(http, |msg| verify(&msg, keys, &options(&[])).map(|_| ()))
}

#[test]
fn altered_messages_are_refused() {
    assert_eq!(b26_with(|h| h), Ok(()));
    let bad = Err(SignatureError::BadSignature);
    assert_eq!(b26_with(|h| h.set("Content-Type", "text/plain")), bad);
    assert_eq!(
        b26_with(|mut h| {
            h.start = h.start.replace("POST", "PUT");
            h
        }),
        bad
    );
    assert_eq!(
        b26_with(|mut h| {
            h.start = h.start.replace("/foo", "/bar");
            h
        }),
        bad
    );
    assert_eq!(b26_with(|h| h.set("Host", "example.org")), bad);
    // An uncovered header may change.
    assert_eq!(
        b26_with(|h| h.set("Content-Digest", "sha-256=:AAAA:")),
        Ok(())
    );
    // A covered header removed: the base cannot be built.
    assert!(matches!(
        b26_with(|mut h| {
            h.headers.retain(|(n, _)| n != "Content-Length");
            h
        }),
        Err(SignatureError::Component { .. })
    ));
}

#[test]
fn wrong_keys_and_algorithm_confusion_are_refused() {
    let http = Http::load("b26.http");
    // The key id resolves to another key of the same algorithm.
    let wrong = |_: &str| {
        let seed = [7u8; 32];
        let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(&seed).unwrap();
        use ring::signature::KeyPair;
        VerifyingKey::from_raw(Algorithm::Ed25519, pair.public_key().as_ref()).ok()
    };
    with_message!(http, |msg| {
        assert_eq!(
            verify(&msg, wrong, &options(&[])),
            Err(SignatureError::BadSignature)
        );
        assert_eq!(
            verify(&msg, |_| None, &options(&[])),
            Err(SignatureError::UnknownKey {
                keyid: "test-key-ed25519".into()
            })
        );
    });
    // The classic confusion: an HMAC made with the public key bytes as the secret,
    // claiming `alg="hmac-sha256"`, against an Ed25519 key id.
    let public_pem = fixture("test-key-ed25519.pub.pem");
    let forger = SigningKey::hmac_sha256(public_pem.as_bytes());
    let params = SignatureParams::new(vec![ComponentId::new("@method")])
        .created(NOW as i64)
        .keyid("test-key-ed25519")
        .alg(Algorithm::HmacSha256);
    let http = Http::load("test-request.http");
    let forged = with_message!(http, |msg| sign_message(&msg, "x", &params, &forger)
        .unwrap());
    let http = Http::load("test-request.http")
        .set("Signature-Input", &forged.signature_input)
        .set("Signature", &forged.signature);
    with_message!(http, |msg| {
        assert_eq!(
            verify(&msg, keys, &options(&[])),
            Err(SignatureError::AlgorithmMismatch {
                claimed: Algorithm::HmacSha256,
                key: Algorithm::Ed25519
            })
        );
    });
    // An unregistered `alg`.
    let http = Http::load("b26.http").set(
        "Signature-Input",
        r#"sig-b26=("date");created=1618884473;keyid="test-key-ed25519";alg="none""#,
    );
    with_message!(http, |msg| {
        assert!(matches!(
            verify(&msg, keys, &options(&[])),
            Err(SignatureError::UnknownAlgorithm { .. })
        ));
    });
    // The signer refuses to write an `alg` its key does not have.
    let http = Http::load("test-request.http");
    with_message!(http, |msg| {
        let ed = signing_key("test-key-ed25519");
        assert!(matches!(
            sign_message(&msg, "x", &params, &ed),
            Err(SignatureError::AlgorithmMismatch { .. })
        ));
    });
}

#[test]
fn times_are_checked() {
    let http = Http::load("b26.http");
    with_message!(http, |msg| {
        let created = 1_618_884_473;
        let old = VerifyOptions {
            max_age: Some(Duration::from_secs(300)),
            ..VerifyOptions::new(at(created + 86_400))
        };
        assert!(matches!(
            verify(&msg, keys, &old),
            Err(SignatureError::TooOld { .. })
        ));
        let early = VerifyOptions::new(at(created - 3_600));
        assert!(matches!(
            verify(&msg, keys, &early),
            Err(SignatureError::CreatedInFuture { .. })
        ));
        let within = VerifyOptions {
            max_age: Some(Duration::from_secs(300)),
            ..VerifyOptions::new(at(created + 200))
        };
        assert!(verify(&msg, keys, &within).is_ok());
    });
    // 4.3's proxy signature expires at 1618884540.
    with_message!(Http::load("s4-proxy.http"), |msg| {
        let late = VerifyOptions {
            labels: &["proxy_sig"],
            ..VerifyOptions::new(at(1_618_884_540 + 61))
        };
        assert!(matches!(
            verify(&msg, keys, &late),
            Err(SignatureError::Expired { .. })
        ));
    });
    // B.2.1's signature has `created`; one without is refused unless allowed.
    let http = Http::load("test-request.http")
        .set("Signature-Input", r#"s=();keyid="test-shared-secret""#)
        .set("Signature", "s=:AAAA:");
    with_message!(http, |msg| {
        assert_eq!(
            verify(&msg, keys, &options(&[])),
            Err(SignatureError::MissingCreated)
        );
    });
}

#[test]
fn required_components_and_labels() {
    with_message!(Http::load("b25.http"), |msg| {
        let mut o = options(&[]);
        o.required_components = &["@authority", "Content-Type", "\"date\""];
        assert!(verify(&msg, keys, &o).is_ok());
        o.required_components = &["@authority", "@method"];
        assert_eq!(
            verify(&msg, keys, &o),
            Err(SignatureError::MissingRequiredComponent {
                component: "\"@method\"".into()
            })
        );
        assert_eq!(
            verify(&msg, keys, &options(&["other"])),
            Err(SignatureError::NoSignature)
        );
    });
    with_message!(Http::load("b22.http"), |msg| {
        let mut o = options(&[]);
        o.required_components = &[r#""@query-param";name="Pet""#];
        assert!(verify(&msg, keys, &o).is_ok());
        o.required_components = &[r#""@query-param";name="param""#];
        assert!(matches!(
            verify(&msg, keys, &o),
            Err(SignatureError::MissingRequiredComponent { .. })
        ));
    });
}

#[test]
fn garbage_fields_are_errors_not_panics() {
    let garbage = [
        "",
        "sig",
        "sig=",
        "sig=(",
        "sig=(\"@method\"",
        "sig=1",
        "sig=:!!:",
        "sig=(@method)",
        "sig=(\"@method\";req)",
        "sig=(\"@query-param\")",
        "sig=(\"@query-param\";name=\"nope\")",
        "sig=(\"@unknown\")",
        "sig=(\"@status\")",
        "sig=(\"@method\" \"@method\")",
        "sig=(\"content-type\";bs;sf)",
        "sig=(\"content-type\";sf)",
        "sig=(\"content-type\";key=\"a\")",
        "sig=(\"content-type\";tr)",
        "sig=(\"content-type\";what)",
        "sig=(\"date\");created=1.5;keyid=\"test-key-ed25519\"",
        "sig=(\"date\");created=\"x\";keyid=\"test-key-ed25519\"",
        "sig=(\"date\");created=1618884473",
        "sig=(\"date\");created=1618884473;keyid=42",
        "sig=(\"date\");created=1618884473;keyid=\"test-key-ed25519\";alg=ed25519",
        "sig=(\"\u{e9}\")",
        "sig=(\"x\"), sig=()",
        "\u{0}\u{ff}",
    ];
    for input in garbage {
        for sig in ["sig=:AAAA:", "sig=x", "", "sig=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:"] {
            let http = Http::load("b26.http")
                .set("Signature-Input", input)
                .set("Signature", sig);
            with_message!(http, |msg| {
                let mut o = options(&[]);
                o.require_created = false;
                assert!(verify(&msg, keys, &o).is_err(), "{input:?} / {sig:?}");
            });
        }
    }
    // No fields at all.
    with_message!(Http::load("test-request.http"), |msg| {
        assert_eq!(
            verify(&msg, keys, &options(&[])),
            Err(SignatureError::MissingField {
                field: "Signature-Input"
            })
        );
    });
    // Garbage keys and PEM.
    assert!(VerifyingKey::from_pem(Algorithm::Ed25519, "nonsense").is_err());
    assert!(VerifyingKey::from_spki_der(Algorithm::Ed25519, &[0x30, 0x84, 0xff]).is_err());
    assert!(
        VerifyingKey::from_pem(Algorithm::Ed25519, &fixture("test-key-rsa-pss.pub.pem")).is_err()
    );
    assert!(SigningKey::from_der(Algorithm::RsaPssSha512, &[0x30, 0x03, 0x02, 0x01]).is_err());
    assert!(SigningKey::from_der(Algorithm::EcdsaP256Sha256, b"garbage").is_err());
}

/// The component examples of RFC 9421 section 2 (fields, `sf`, `key`, `bs`, derived).
#[test]
fn section_2_component_examples() {
    let headers = [
        ("Host", "www.example.com"),
        ("Date", "Tue, 20 Apr 2021 02:07:56 GMT"),
        ("X-OWS-Header", "   Leading and trailing whitespace.   "),
        ("X-Obs-Fold-Header", "Obsolete\r\n    line folding."),
        ("Cache-Control", "max-age=60"),
        ("Cache-Control", "   must-revalidate"),
        ("Example-Dict", " a=1,    b=2;x=1;y=2,   c=(a   b   c)"),
        ("X-Empty-Header", ""),
        ("Example-Header", "value, with, lots"),
        ("Example-Header", "of, commas"),
    ];
    let types = [("example-dict", FieldType::Dictionary)];
    let msg = Message::request(
        "GET",
        "https://www.example.com/parameters?var=this%20is%20a%20big%0Amultiline%20value&bar=with+plus+whitespace&fa%C3%A7ade%22%3A%20=something",
        &headers,
    )
    .structured_fields(&types);
    let line = |c: &str| {
        let params = SignatureParams::new(vec![ComponentId::parse(c).unwrap()]);
        let base = signature_base(&msg, &params).unwrap();
        base.lines().next().unwrap().to_owned()
    };
    for (component, expected) in [
        ("\"host\"", "\"host\": www.example.com"),
        (
            "\"x-ows-header\"",
            "\"x-ows-header\": Leading and trailing whitespace.",
        ),
        (
            "\"x-obs-fold-header\"",
            "\"x-obs-fold-header\": Obsolete line folding.",
        ),
        (
            "\"cache-control\"",
            "\"cache-control\": max-age=60, must-revalidate",
        ),
        (
            "\"example-dict\"",
            "\"example-dict\": a=1,    b=2;x=1;y=2,   c=(a   b   c)",
        ),
        ("\"x-empty-header\"", "\"x-empty-header\": "),
        (
            "\"example-dict\";sf",
            "\"example-dict\";sf: a=1, b=2;x=1;y=2, c=(a b c)",
        ),
        (
            "\"example-dict\";key=\"a\"",
            "\"example-dict\";key=\"a\": 1",
        ),
        (
            "\"example-dict\";key=\"b\"",
            "\"example-dict\";key=\"b\": 2;x=1;y=2",
        ),
        (
            "\"example-dict\";key=\"c\"",
            "\"example-dict\";key=\"c\": (a b c)",
        ),
        (
            "\"example-header\";bs",
            "\"example-header\";bs: :dmFsdWUsIHdpdGgsIGxvdHM=:, :b2YsIGNvbW1hcw==:",
        ),
        ("\"@method\"", "\"@method\": GET"),
        ("\"@scheme\"", "\"@scheme\": https"),
        ("\"@authority\"", "\"@authority\": www.example.com"),
        ("\"@path\"", "\"@path\": /parameters"),
        (
            "\"@query-param\";name=\"var\"",
            "\"@query-param\";name=\"var\": this%20is%20a%20big%0Amultiline%20value",
        ),
        (
            "\"@query-param\";name=\"bar\"",
            "\"@query-param\";name=\"bar\": with%20plus%20whitespace",
        ),
        (
            "\"@query-param\";name=\"fa%C3%A7ade%22%3A%20\"",
            "\"@query-param\";name=\"fa%C3%A7ade%22%3A%20\": something",
        ),
    ] {
        assert_eq!(line(component), expected);
    }
    // `;key` on a missing member, `;sf` on an untyped field: errors.
    for c in ["\"example-dict\";key=\"z\"", "\"cache-control\";sf"] {
        let params = SignatureParams::new(vec![ComponentId::parse(c).unwrap()]);
        assert!(signature_base(&msg, &params).is_err(), "{c}");
    }

    let headers = [("Host", "www.example.com")];
    let msg = Message::request(
        "POST",
        "https://WWW.Example.com:443/path?param=value",
        &headers,
    );
    let base = signature_base(
        &msg,
        &SignatureParams::new(
            ["@target-uri", "@authority", "@request-target", "@query"]
                .map(ComponentId::new)
                .to_vec(),
        ),
    )
    .unwrap();
    assert_eq!(
        base,
        "\"@target-uri\": https://WWW.Example.com:443/path?param=value\n\
         \"@authority\": www.example.com\n\
         \"@request-target\": /path?param=value\n\
         \"@query\": ?param=value\n\
         \"@signature-params\": (\"@target-uri\" \"@authority\" \"@request-target\" \"@query\")"
    );
    // Origin-form target: the authority comes from Host; no query is `?`.
    let msg = Message::request("GET", "/", &headers);
    let base = signature_base(
        &msg,
        &SignatureParams::new(
            ["@authority", "@query", "@path"]
                .map(ComponentId::new)
                .to_vec(),
        ),
    )
    .unwrap();
    assert!(base.starts_with("\"@authority\": www.example.com\n\"@query\": ?\n\"@path\": /\n"));
}

/// The signer's RSA v1.5 path: `ring` refuses the appendix's `test-key-rsa` (primes of
/// unequal length), so the PSS test key signs v1.5 here: twice the same bytes, and they
/// verify.
#[test]
fn rsa_v1_5_signs_deterministically_and_verifies() {
    let pem = fixture("test-key-rsa.key.pem");
    assert!(SigningKey::from_pem(Algorithm::RsaV15Sha256, &pem).is_err());
    let signer = SigningKey::from_pem(
        Algorithm::RsaV15Sha256,
        &fixture("test-key-rsa-pss.key.pem"),
    )
    .unwrap();
    let public = VerifyingKey::from_pem(
        Algorithm::RsaV15Sha256,
        &fixture("test-key-rsa-pss.pub.pem"),
    )
    .unwrap();
    let params = SignatureParams::new(vec![ComponentId::new("@method"), ComponentId::new("date")])
        .created(NOW as i64)
        .keyid("v15")
        .alg(Algorithm::RsaV15Sha256);
    let http = Http::load("test-request.http");
    let (a, b) = with_message!(http, |msg| (
        sign_message(&msg, "v", &params, &signer).unwrap(),
        sign_message(&msg, "v", &params, &signer).unwrap()
    ));
    assert_eq!(a, b);
    let http = Http::load("test-request.http")
        .set("Signature-Input", &a.signature_input)
        .set("Signature", &a.signature);
    let lookup = |id: &str| (id == "v15").then(|| public.clone());
    with_message!(http, |msg| {
        verify(&msg, lookup, &options(&["v"])).unwrap();
    });
}
