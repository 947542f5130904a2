//! Providers' published signature vectors, reproduced by `hookspec-conformance sign` and
//! accepted by `hookspec-conformance verify` (the runtime's verifier). The values come
//! from the providers' documentation and their official libraries' tests, never from our
//! own signer.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_hookspec-conformance");

/// A published vector: the provider, its secret, the headers it fixes, the body bytes and
/// the signature header it gives.
struct Vector {
    provider: &'static str,
    secret: &'static str,
    fixed: &'static [(&'static str, &'static str)],
    body: &'static str,
    header: &'static str,
    /// The entry `sign` must print in that header.
    signature: &'static str,
    /// The header's value as published, given to `verify` (it may carry more entries).
    published: &'static str,
    /// The time signed, for schemes that put it in the signature header.
    signed_at: Option<&'static str>,
    /// The time to judge it at, for schemes that sign one.
    at: Option<&'static str>,
}

const VECTORS: &[Vector] = &[
    // The Standard Webhooks specification's test vector (its Python, JS and Go tests).
    Vector {
        provider: "standardwebhooks",
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        fixed: &[
            ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
            ("webhook-timestamp", "1614265330"),
        ],
        body: r#"{"test": 2432232314}"#,
        header: "webhook-signature",
        signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        published: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        signed_at: None,
        at: Some("1614265330"),
    },
    // GitHub's documentation ("Validating webhook deliveries").
    Vector {
        provider: "github",
        secret: "It's a Secret to Everybody",
        fixed: &[],
        body: "Hello, World!",
        header: "X-Hub-Signature-256",
        signature: "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        published: "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        signed_at: None,
        at: None,
    },
    // Shopify's API library tests (shopify-api-js).
    Vector {
        provider: "shopify",
        secret: "test_secret_key",
        fixed: &[],
        body: r#"{"foo": "bar"}"#,
        header: "X-Shopify-Hmac-Sha256",
        signature: "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=",
        published: "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=",
        signed_at: None,
        at: None,
    },
    // Stripe's .NET library tests (`EventUtilityTest`, with its `event_test_signature.json`
    // fixture: LF line endings and the final newline, 484 bytes). The published header
    // carries a `v0` entry a verifier must ignore; it is checked 100 s after signing.
    Vector {
        provider: "stripe",
        secret: "webhook_secret",
        fixed: &[],
        body: STRIPE_FIXTURE,
        header: "Stripe-Signature",
        signature: "t=1533204620,v1=2220f87ef101a04665f11cdf770523143f875572008577fa0f20882ddb9cc3c7",
        published: "t=1533204620,v1=2220f87ef101a04665f11cdf770523143f875572008577fa0f20882ddb9cc3c7,v0=63f3a72374a733066c4be69ed7f8e5ac85c22c9f0a6a612ab9a025a9e4ee7eef",
        signed_at: Some("1533204620"),
        at: Some("1533204720"),
    },
    // Slack's documentation ("Verifying requests from Slack"), also in slack_sdk's tests:
    // a slash-command body, signed the same way as Events API deliveries.
    Vector {
        provider: "slack",
        secret: "8f742231b10e8888abcd99yyyzzz85a5",
        fixed: &[("X-Slack-Request-Timestamp", "1531420618")],
        body: "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
        header: "X-Slack-Signature",
        signature: "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
        published: "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
        signed_at: None,
        at: Some("1531420618"),
    },
];

const STRIPE_FIXTURE: &str = r#"{
  "id": "evt_123",
  "object": "event",
  "account": "acct_123",
  "api_version": "2017-05-25",
  "created": 1533204620,
  "data": {
    "object": {
      "id": "cus_123",
      "object": "customer",
      "created": 123456789,
      "email": "test@stripe.com",
      "livemode": false,
      "metadata": {}
    }
  },
  "livemode": false,
  "pending_webhooks": 1,
  "request": {
    "id": "req_123",
    "idempotency_key": "idempotency-key-123"
  },
  "type": "customer.created"
}
"#;

/// Runs the binary on its bundled providers.
fn run(args: &[String]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .output()
        .expect("run the binary");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn body_file(v: &Vector) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), v.body.as_bytes()).unwrap();
    file
}

#[test]
fn sign_reproduces_every_published_vector() {
    for v in VECTORS {
        let file = body_file(v);
        let mut args = vec![
            "sign".to_owned(),
            "--provider".into(),
            v.provider.into(),
            "--secret".into(),
            v.secret.into(),
        ];
        for (name, value) in v.fixed {
            args.extend(["--header".to_owned(), format!("{name}={value}")]);
        }
        if let Some(at) = v.signed_at {
            args.extend(["--timestamp".to_owned(), at.to_owned()]);
        }
        args.push(file.path().display().to_string());
        let (code, stdout, stderr) = run(&args);
        assert_eq!(code, 0, "{}: {stderr}", v.provider);
        let line = stdout
            .lines()
            .find(|l| {
                l.to_ascii_lowercase()
                    .starts_with(&format!("{}:", v.header.to_ascii_lowercase()))
            })
            .unwrap_or_else(|| panic!("{}: no {} in\n{stdout}", v.provider, v.header));
        // Other entries may share the header (Standard Webhooks' `v1a,` beside `v1,`).
        assert!(
            line.split([' ', ':']).any(|entry| entry == v.signature)
                || line.ends_with(&format!(": {}", v.signature)),
            "{}: {line} lacks {}",
            v.provider,
            v.signature
        );
    }
}

#[test]
fn verify_accepts_every_published_vector_and_refuses_a_changed_body() {
    for v in VECTORS {
        for (body, accepted) in [(v.body.to_owned(), true), (format!("{} ", v.body), false)] {
            let file = tempfile::NamedTempFile::new().unwrap();
            std::fs::write(file.path(), body.as_bytes()).unwrap();
            let mut args = vec![
                "verify".to_owned(),
                "--provider".into(),
                v.provider.into(),
                "--secret".into(),
                v.secret.into(),
                "--header".into(),
                format!("{}={}", v.header, v.published),
            ];
            for (name, value) in v.fixed {
                args.extend(["--header".to_owned(), format!("{name}={value}")]);
            }
            if let Some(at) = v.at {
                args.extend(["--timestamp".to_owned(), at.to_owned()]);
            }
            args.push(file.path().display().to_string());
            let (code, stdout, stderr) = run(&args);
            assert_eq!(
                code == 0,
                accepted,
                "{} (body {body:?}): {stdout}{stderr}",
                v.provider
            );
        }
    }
}

#[test]
fn sign_refuses_a_secret_the_provider_would_not_write() {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), b"{}").unwrap();
    let path = file.path().display().to_string();
    let (code, _, stderr) = run(&[
        "sign".into(),
        "--provider".into(),
        "standardwebhooks".into(),
        "--secret".into(),
        "whsec_not base64!".into(),
        path,
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("HMAC secret #0") && stderr.contains("base64"),
        "{stderr}"
    );
}

/// `sign --ed25519-key` signs Standard Webhooks' `v1a` entry with the given key: `verify`
/// accepts it with that key's public half and refuses it with another public key. The
/// key pair is RFC 8032's TEST 2 (seed `4ccd08…`, public key `3d4017…`).
#[test]
fn sign_uses_a_given_ed25519_key_and_verify_checks_it_with_the_public_key() {
    const SEED: &str = "whsk_TM0Imyj/ltqdtsNG7BFOD1uKMZ81q6Yk2oz27U+4pvs=";
    const PUBLIC: &str = "whpk_PUAXw+hDiVqStwqnTRt+vJyYLM8uxJaMwM1V8Sr0Zgw=";
    // RFC 8032 TEST 1's public key: a valid key, but not this one's.
    const OTHER: &str = "whpk_11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), br#"{"type":"ping"}"#).unwrap();
    let path = file.path().display().to_string();
    let (code, stdout, stderr) = run(&[
        "sign".into(),
        "--provider".into(),
        "standardwebhooks".into(),
        "--secret".into(),
        SECRET.into(),
        "--ed25519-key".into(),
        SEED.into(),
        path.clone(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let headers: Vec<String> = stdout
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("content-type:"))
        .map(|l| l.replacen(": ", "=", 1))
        .collect();
    let signature = headers
        .iter()
        .find(|h| h.starts_with("webhook-signature="))
        .expect("a signature header");
    assert!(signature.contains(" v1a,"), "{signature}");
    for (public_key, accepted) in [(PUBLIC, true), (OTHER, false)] {
        let mut args = vec![
            "verify".to_owned(),
            "--provider".into(),
            "standardwebhooks".into(),
            "--secret".into(),
            SECRET.into(),
            "--public-key".into(),
            public_key.into(),
        ];
        for h in &headers {
            args.extend(["--header".to_owned(), h.clone()]);
        }
        args.push(path.clone());
        let (code, stdout, stderr) = run(&args);
        assert_eq!(code == 0, accepted, "{public_key}: {stdout}{stderr}");
    }
    let (code, _, stderr) = run(&[
        "sign".into(),
        "--provider".into(),
        "standardwebhooks".into(),
        "--ed25519-key".into(),
        "whsk_short".into(),
        path,
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("Ed25519 key"), "{stderr}");
}
