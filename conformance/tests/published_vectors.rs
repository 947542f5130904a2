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
    signature: &'static str,
    /// The time to judge it at (its own timestamp), for schemes that sign one.
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
        at: None,
    },
];

/// Runs the binary on the provider drafts (`spec/drafts`), where these providers' specs
/// wait to be bundled.
fn run(args: &[String]) -> (i32, String, String) {
    let drafts = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/drafts");
    let out = Command::new(BIN)
        .args(args)
        .args(["--spec-dir", drafts])
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
            line.split([' ', ':']).any(|entry| entry == v.signature),
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
                format!("{}={}", v.header, v.signature),
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
