//! The providers' official verification libraries judge what we send, and we judge what
//! they sign: Standard Webhooks (`standardwebhooks`), Stripe (`stripe`), Slack
//! (`slack_sdk`), Discord (`discord-interactions`, which verifies only: PyNaCl, its own
//! dependency, signs), Twilio (`twilio`, over the URL and form parameters) and SendGrid
//! (`sendgrid`, which verifies only: `cryptography`, its own dependency, signs) and
//! TrueLayer (`truelayer-signing`, a detached JWS over the path, listed headers and body) from PyPI,
//! GitHub's `@octokit/webhooks-methods` from npm. For each, a
//! delivery signed by `hookspec-conformance sign` is accepted by the library and refused
//! once its body changes; a delivery the library signs is accepted by
//! `hookspec-conformance verify` and refused once its body changes.
//!
//! The packages are installed on first use under Cargo's test scratch directory (a Python
//! virtual environment and an npm folder). Where Python, Node.js or the registry is not
//! there, that half is skipped with a message saying why; the other half still runs. With
//! `HOOKSPEC_REQUIRE_OFFICIAL_LIBRARIES` set (CI), a package that cannot be installed fails.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_hookspec-conformance");

/// How a library is run.
#[derive(Clone, Copy)]
enum Runtime {
    /// `official.py` with this library name.
    Python(&'static str),
    /// `official.mjs`.
    Node,
}

/// The key material of a library check.
#[derive(Clone, Copy)]
enum Key {
    /// A shared secret, as the provider writes it.
    Secret(&'static str),
    /// An Ed25519 key pair: the seed as base64 (our `--ed25519-key`) and as hex (what the
    /// library signs with), and the public key as the provider writes it.
    Ed25519 {
        seed_base64: &'static str,
        seed_hex: &'static str,
        public: &'static str,
    },
    /// Each side its own key pair: we sign with hookspec's test key, whose public half the
    /// library verifies with; the library makes a key pair and says its public half.
    OwnPairs,
}

impl Key {
    /// Our `sign` command's key arguments.
    fn sign_args(self) -> Vec<&'static str> {
        match self {
            Key::Secret(s) => vec!["--secret", s],
            Key::Ed25519 { seed_base64, .. } => vec!["--ed25519-key", seed_base64],
            Key::OwnPairs => Vec::new(),
        }
    }

    /// Our `verify` command's key arguments; `library_public` is the public key a library
    /// that made its own pair said.
    fn verify_args(self, library_public: Option<&str>) -> Vec<String> {
        match (self, library_public) {
            (Key::Secret(s), _) => vec!["--secret".into(), s.into()],
            (Key::Ed25519 { public, .. }, _) => vec!["--public-key".into(), public.into()],
            (Key::OwnPairs, Some(public)) => vec!["--public-key".into(), public.into()],
            (Key::OwnPairs, None) => Vec::new(),
        }
    }

    /// What the library driver gets: `secret` verifies, `signing_key` signs.
    fn library_input(self, provider: &str) -> Value {
        match self {
            Key::Secret(s) => json!({"secret": s, "signing_key": s}),
            Key::Ed25519 {
                seed_hex, public, ..
            } => json!({"secret": public, "signing_key": seed_hex}),
            Key::OwnPairs => {
                let spec = hookspec_conformance::specs::builtin(provider).expect("bundled");
                let ours = hookspec_signer::SigningCredentials::test(&spec);
                json!({"secret": ours.shared.public_keys[0]})
            }
        }
    }
}

/// A provider's official library and the key to use with it.
struct Library {
    package: &'static str,
    provider: &'static str,
    key: Key,
    runtime: Runtime,
    /// Where the delivery goes, for schemes that sign the URL.
    url: Option<&'static str>,
    /// The body signed, when not the spec's first example (a real form body for Twilio,
    /// whose examples are written as JSON).
    body: Option<&'static str>,
}

const LIBRARIES: &[Library] = &[
    Library {
        package: "standardwebhooks (PyPI)",
        provider: "standardwebhooks",
        key: Key::Secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        runtime: Runtime::Python("standardwebhooks"),
        url: None,
        body: None,
    },
    Library {
        package: "stripe (PyPI)",
        provider: "stripe",
        key: Key::Secret("whsec_test_secret"),
        runtime: Runtime::Python("stripe"),
        url: None,
        body: None,
    },
    Library {
        package: "slack_sdk (PyPI)",
        provider: "slack",
        key: Key::Secret("8f742231b10e8888abcd99yyyzzz85a5"),
        runtime: Runtime::Python("slack_sdk"),
        url: None,
        body: None,
    },
    Library {
        package: "@octokit/webhooks-methods (npm)",
        provider: "github",
        key: Key::Secret("It's a Secret to Everybody"),
        runtime: Runtime::Node,
        url: None,
        body: None,
    },
    Library {
        package: "discord-interactions (PyPI)",
        provider: "discord",
        // RFC 8032's first Ed25519 test key.
        key: Key::Ed25519 {
            seed_base64: "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=",
            seed_hex: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            public: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        },
        runtime: Runtime::Python("discord_interactions"),
        url: None,
        body: None,
    },
    Library {
        package: "twilio (PyPI)",
        provider: "twilio",
        // twilio-python's own test token.
        key: Key::Secret("12345"),
        runtime: Runtime::Python("twilio"),
        url: Some("https://hooks.example.com/twilio/status?account=7&tag=a%20b"),
        body: Some(
            "MessageSid=SM1f0e8ae6ade43cb3c0ce4525424e404f&MessageStatus=delivered\
             &To=%2B15558675310&From=%2B15017122661&AccountSid=AC00000000000000000000000000000000\
             &ApiVersion=2010-04-01&SmsStatus=delivered&SmsSid=SM1f0e8ae6ade43cb3c0ce4525424e404f",
        ),
    },
    Library {
        package: "truelayer-signing (PyPI)",
        provider: "truelayer",
        key: Key::OwnPairs,
        runtime: Runtime::Python("truelayer_signing"),
        url: Some("https://hooks.example.com/truelayer/webhooks"),
        body: None,
    },
    Library {
        package: "sendgrid (PyPI)",
        provider: "sendgrid",
        key: Key::OwnPairs,
        runtime: Runtime::Python("sendgrid"),
        url: None,
        body: None,
    },
];

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

fn scratch() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("official-libraries")
}

fn run(command: &mut Command) -> Result<Output, String> {
    let shown = format!("{command:?}");
    let out = command
        .output()
        .map_err(|e| format!("{shown} could not start: {e}"))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "{shown} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A virtual environment with the Python libraries; its interpreter.
fn python() -> Result<PathBuf, String> {
    let venv = scratch().join("venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        std::fs::create_dir_all(scratch()).map_err(|e| e.to_string())?;
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    }
    let check = [
        "-c",
        "import standardwebhooks, stripe, slack_sdk, discord_interactions, nacl, twilio, \
         sendgrid, cryptography, truelayer_signing",
    ];
    if run(Command::new(&python).args(check)).is_err() {
        run(Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--timeout",
            "30",
            "--retries",
            "1",
            "standardwebhooks",
            "stripe",
            "slack_sdk",
            "discord-interactions",
            "twilio",
            "sendgrid",
            "truelayer-signing",
        ]))?;
        run(Command::new(&python).args(check))?;
    }
    Ok(python)
}

/// An npm folder with `@octokit/webhooks-methods` and the driver script beside it (an ES
/// module finds packages only from its own folder up).
fn node() -> Result<PathBuf, String> {
    let dir = scratch().join("node");
    if !dir.join("node_modules/@octokit/webhooks-methods").exists() {
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        std::fs::write(
            dir.join("package.json"),
            r#"{"private": true, "type": "module"}"#,
        )
        .map_err(|e| e.to_string())?;
        run(Command::new("npm").current_dir(&dir).args([
            "install",
            "--no-audit",
            "--no-fund",
            "--silent",
            "--fetch-timeout=30000",
            "--fetch-retries=1",
            "@octokit/webhooks-methods@6",
        ]))?;
    }
    std::fs::copy(scripts().join("official.mjs"), dir.join("official.mjs"))
        .map_err(|e| e.to_string())?;
    Ok(dir)
}

/// Runs the library's `verify` or `sign` with `input` on standard input.
fn library(runner: &Path, runtime: Runtime, action: &str, input: &Value) -> Output {
    let mut command = match runtime {
        Runtime::Python(name) => {
            let mut c = Command::new(runner);
            c.arg(scripts().join("official.py")).args([action, name]);
            c
        }
        Runtime::Node => {
            let mut c = Command::new("node");
            c.current_dir(runner).args(["official.mjs", action]);
            c
        }
    };
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the library's runtime starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn body_file(body: &str) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), body).unwrap();
    file
}

/// Our signer's headers for `body`, as `sign` prints them (`Content-Type` left out).
fn our_headers(lib: &Library, body: &str) -> serde_json::Map<String, Value> {
    let file = body_file(body);
    let mut command = Command::new(BIN);
    command
        .args(["sign", "--provider", lib.provider])
        .args(lib.key.sign_args());
    if let Some(url) = lib.url {
        command.args(["--url", url]);
    }
    let out = run(command.arg(file.path())).unwrap_or_else(|e| panic!("{}: {e}", lib.provider));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(": "))
        .filter(|(n, _)| !n.eq_ignore_ascii_case("content-type"))
        .map(|(n, v)| (n.to_owned(), Value::from(v)))
        .collect()
}

/// Whether our verifier accepts `body` with `headers`.
fn we_accept(lib: &Library, headers: &serde_json::Map<String, Value>, body: &str) -> bool {
    let file = body_file(body);
    let mut command = Command::new(BIN);
    command.args(["verify", "--provider", lib.provider]);
    let public = headers.get("public_key").and_then(Value::as_str);
    command.args(lib.key.verify_args(public));
    if let Some(url) = lib.url {
        command.args(["--url", url]);
    }
    for (name, value) in headers.iter().filter(|(n, _)| *n != "public_key") {
        command.args(["--header", &format!("{name}={}", value.as_str().unwrap())]);
    }
    command.arg(file.path()).output().unwrap().status.success()
}

fn check(lib: &Library, runner: &Path) {
    let spec = hookspec_conformance::specs::builtin(lib.provider).expect("a bundled provider");
    let body = match lib.body {
        Some(body) => body.to_owned(),
        None => String::from_utf8(
            hookspec_conformance::cases::probe_body(&spec)
                .expect("an example")
                .to_vec(),
        )
        .unwrap(),
    };
    let changed = format!("{body} ");
    let label = format!("{} / {}", lib.package, lib.provider);

    // The library judges our signer.
    let headers = our_headers(lib, &body);
    let input = |body: &str, headers: &serde_json::Map<String, Value>| {
        let mut input = lib.key.library_input(lib.provider);
        input["body"] = body.into();
        input["headers"] = Value::Object(headers.clone());
        if let Some(url) = lib.url {
            input["url"] = url.into();
        }
        input
    };
    let out = library(runner, lib.runtime, "verify", &input(&body, &headers));
    assert!(
        out.status.success(),
        "{label}: the library refused what `sign` made: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = library(runner, lib.runtime, "verify", &input(&changed, &headers));
    assert_eq!(
        out.status.code(),
        Some(1),
        "{label}: the library accepted a changed body: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // We judge the library's signature.
    let out = library(
        runner,
        lib.runtime,
        "sign",
        &input(&body, &Default::default()),
    );
    assert!(
        out.status.success(),
        "{label}: the library did not sign: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let signed: serde_json::Map<String, Value> =
        serde_json::from_slice(&out.stdout).expect("the library's headers as JSON");
    assert!(!signed.is_empty(), "{label}: no headers");
    assert!(
        we_accept(lib, &signed, &body),
        "{label}: `verify` refused the library's {signed:?}"
    );
    assert!(
        !we_accept(lib, &signed, &changed),
        "{label}: `verify` accepted a changed body"
    );
}

#[test]
fn official_libraries_and_hookspec_accept_each_others_signatures() {
    let mut checked = 0;
    let python = python();
    let node = node();
    for lib in LIBRARIES {
        let runner = match (lib.runtime, &python, &node) {
            (Runtime::Python(_), Ok(python), _) => python.clone(),
            (Runtime::Node, _, Ok(dir)) => dir.clone(),
            (Runtime::Python(_), Err(why), _) | (Runtime::Node, _, Err(why)) => {
                // CI reaches PyPI and npm, so there a library that cannot be installed is
                // a failure, not a skip.
                assert!(
                    std::env::var_os("HOOKSPEC_REQUIRE_OFFICIAL_LIBRARIES").is_none(),
                    "{}: the package could not be installed: {why}",
                    lib.package
                );
                eprintln!(
                    "SKIPPED {}: the package could not be installed: {why}",
                    lib.package
                );
                continue;
            }
        };
        check(lib, &runner);
        checked += 1;
    }
    eprintln!(
        "official libraries checked: {checked} of {}",
        LIBRARIES.len()
    );
}
