//! The `hookspec-conformance` binary as users run it: exit codes, output formats, and
//! `send`, `sign` and `validate` against the reference receiver. Every run of the binary
//! is bounded in time and killed past its bound.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hookspec_conformance::http::{exchange, Limits, Observed, Outgoing, OutgoingBody};
use hookspec_conformance::keys::{self, KeyRing, KeyServer};
use hookspec_conformance::{bundled, specs};
use p256::pkcs8::EncodePrivateKey;
use serde_json::Value;

use crate::common::{closed_port, run_bounded, Output};

const BIN: &str = env!("CARGO_BIN_EXE_hookspec-conformance");

/// Runs the binary with `args` (and `stdin`), killing it after `bound`.
fn cli(args: &[&str], stdin: Option<&[u8]>, bound: Duration) -> Output {
    run_bounded(BIN, args, stdin, bound)
}

/// [`cli`] from async tests, off the runtime's worker threads.
async fn cli_async(args: Vec<String>, stdin: Option<Vec<u8>>, bound: Duration) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        cli(&args, stdin.as_deref(), bound)
    })
    .await
    .unwrap()
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

const RUN_BOUND: Duration = Duration::from_secs(60);
const QUICK: Duration = Duration::from_secs(20);

#[test]
fn run_without_arguments_passes_every_case() {
    let out = cli(&["run"], None, RUN_BOUND);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("reference receiver: http://127.0.0.1:"));
}

#[test]
fn run_json_is_one_document_with_every_case_passing() {
    // The slow-body cases trickle each body for most of the provider's timeout, and are
    // about the receiver, not the report: the run without arguments above plays them.
    let out = cli(
        &[
            "run",
            "--format",
            "json",
            "--skip",
            "*/robustness/slow-body",
            "--concurrency",
            "8",
        ],
        None,
        RUN_BOUND,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc: Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    let cases = doc["cases"].as_array().unwrap();
    let providers: std::collections::BTreeSet<&str> = cases
        .iter()
        .map(|c| c["provider"].as_str().unwrap())
        .collect();
    assert_eq!(
        providers.into_iter().collect::<Vec<_>>(),
        specs::builtin_names()
    );
    for case in cases {
        assert_eq!(case["outcome"], "pass", "{case}");
        for field in ["id", "check", "expected", "observed", "elapsed_ms"] {
            assert!(!case[field].is_null(), "{field} in {case}");
        }
    }
    assert_eq!(doc["summary"]["total"].as_u64(), Some(cases.len() as u64));
    assert_eq!(doc["summary"]["failed"].as_u64(), Some(0));
    assert!(doc["receiver"].as_str().unwrap().starts_with("http://"));
}

#[test]
fn run_junit_writes_xml_that_parses() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.xml");
    let out = cli(
        &[
            "run",
            "--only",
            "*/deliver/*",
            "--only",
            "*/auth/*",
            "--format",
            "junit",
            "--out",
            file.to_str().unwrap(),
        ],
        None,
        RUN_BOUND,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.is_empty(), "the report went to the file");
    let xml = std::fs::read_to_string(&file).unwrap();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut suites, mut testcases, mut failures) = (0, 0, 0);
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                match e.name().as_ref() {
                    b"testsuite" => suites += 1,
                    b"testcase" => testcases += 1,
                    b"failure" => failures += 1,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    assert_eq!(suites, specs::builtin_names().len());
    assert!(testcases > 20, "{testcases}");
    assert_eq!(failures, 0);
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["run", "--no-such-flag"][..],
        &["send", "--provider", "vezgo"],
        &["send", "--provider", "vezgo", "--event", "SyncAccount"],
        &["sign", "--provider", "nope", "-"],
        &["validate", "--provider", "vezgo", "/no/such/file"],
        &[
            "send",
            "--provider",
            "vezgo",
            "--event",
            "NoSuchEvent",
            "--url",
            "http://127.0.0.1:9",
        ],
        &[
            "send",
            "--provider",
            "vezgo",
            "--event",
            "SyncAccount",
            "--set",
            "hook.deeper=1",
            "--url",
            "http://127.0.0.1:9",
        ],
        &["list", "--provider", "nope"],
        &["mock-api", "--provider", "nope"],
        &["mock-api", "--signing-key", "/no/such/key.pem"],
    ] {
        let out = cli(args, Some(b"{}"), QUICK);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
}

#[test]
fn a_broken_spec_exits_2_and_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let spec = include_str!("../../../spec/vezgo.yaml").replacen(
        "\nprovider: vezgo\n",
        "\nprovider: vezgo\nnot_a_spec_key: 1\n",
        1,
    );
    let line = spec
        .lines()
        .position(|l| l.starts_with("not_a_spec_key"))
        .unwrap()
        + 1;
    std::fs::write(dir.path().join("vezgo.yaml"), spec).unwrap();
    let out = cli(
        &["run", "--spec-dir", dir.path().to_str().unwrap()],
        None,
        QUICK,
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("vezgo.yaml:{line}:1")),
        "{}",
        out.stderr
    );
}

#[test]
fn a_closed_port_fails_the_run() {
    let (_closed, port) = closed_port();
    let url = format!("http://127.0.0.1:{port}");
    let out = cli(
        &[
            "run",
            "--url",
            &url,
            "--provider",
            "vezgo",
            "--only",
            "vezgo/deliver/*",
            "--format",
            "json",
        ],
        None,
        QUICK,
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        assert_eq!(case["outcome"], "fail");
        assert_eq!(case["observed"], "refused: connection refused");
    }
}

fn vezgo_bridge_belvo() -> Vec<hookspec_codegen::ProviderSpec> {
    ["belvo", "bridge", "vezgo"]
        .iter()
        .map(|p| specs::builtin(p).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_delivers_a_documented_event_with_overrides() {
    let receiver = bundled::start(&vezgo_bridge_belvo(), &Default::default(), &[])
        .await
        .unwrap();
    let url = receiver.url();

    let out = cli_async(
        strings(&[
            "send",
            "--provider",
            "vezgo",
            "--event",
            "SyncAccount",
            "--set",
            "account.id=acct-from-the-cli",
            "--url",
            &url,
        ]),
        None,
        QUICK,
    )
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains(&format!("> POST {url}/vezgo")));
    assert!(out.stdout.contains("> x-client-id: hookspec-test-client"));
    assert!(out.stdout.contains("\"id\":\"acct-from-the-cli\""));
    assert!(out.stdout.contains("< 200 OK"), "{}", out.stdout);
    assert!(out
        .stdout
        .ends_with("delivered: acknowledged within the 10s timeout\n"));

    // Discriminator value form, second provider, documented bytes sent unchanged.
    let bridge = specs::builtin("bridge").unwrap();
    let event = &bridge.events[0];
    let key: Vec<&str> = bridge
        .discriminator
        .iter()
        .map(|d| event.when[d].as_str())
        .collect();
    let out = cli_async(
        strings(&[
            "send",
            "--provider",
            "bridge",
            "--event",
            &key.join("."),
            "--url",
            &url,
        ]),
        None,
        QUICK,
    )
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    for line in event.examples[0].trim_end().lines() {
        assert!(out.stdout.contains(&format!("> {line}\n")), "{line}");
    }

    // A secret the receiver does not have: refused, so not delivered.
    let out = cli_async(
        strings(&[
            "send",
            "--provider",
            "bridge",
            "--event",
            &event.name,
            "--secret",
            "not-the-receivers-secret",
            "--url",
            &url,
        ]),
        None,
        QUICK,
    )
    .await;
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("< 401"), "{}", out.stdout);
    assert!(out.stdout.contains("not delivered"));

    let logged = receiver.log.events();
    receiver.shutdown(Duration::from_secs(1)).await;
    assert_eq!(logged.len(), 2, "{logged:?}");
    assert_eq!(logged[0].provider, "vezgo");
    assert_eq!(logged[0].subject_id.as_deref(), Some("acct-from-the-cli"));
    assert_eq!(logged[1].provider, "bridge");
}

/// A fixed key as a PEM file for `--signing-key`, and the key.
fn plaid_pem(dir: &Path) -> (p256::ecdsa::SigningKey, String) {
    let key = hookspec_signer::test_signing_key("cli test plaid");
    let pem = key.to_pkcs8_pem(Default::default()).unwrap();
    let file = dir.join("plaid.pem");
    std::fs::write(&file, pem.as_bytes()).unwrap();
    (key, file.to_str().unwrap().to_owned())
}

/// Forwards every connection to `listener` to the address `target` gives, once it gives
/// one; stops (connections included) when the returned handle is aborted.
fn relay(
    listener: tokio::net::TcpListener,
    target: tokio::sync::watch::Receiver<Option<std::net::SocketAddr>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        while let Ok((mut inbound, _)) = listener.accept().await {
            let mut target = target.clone();
            connections.spawn(async move {
                let Ok(addr) = target.wait_for(Option::is_some).await.map(|a| a.unwrap()) else {
                    return;
                };
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(addr).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    })
}

/// `send` serves the key it signs with at `--keys-listen` and says where. The receiver,
/// started first, must know where keys are: it is given a relay the test holds, which
/// forwards to the address the CLI announces (the CLI binds port 0, so no port is
/// guessed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_signs_plaid_with_the_given_key() {
    use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _};

    let dir = tempfile::tempdir().unwrap();
    let (_, pem) = plaid_pem(dir.path());
    let plaid = specs::builtin("plaid").unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let relay_url = keys::base_url(
        &plaid,
        &format!("http://{}", listener.local_addr().unwrap()),
    )
    .unwrap();
    let (announce, target) = tokio::sync::watch::channel(None);
    let relaying = relay(listener, target);
    let key_urls = [("plaid".to_owned(), relay_url)].into();
    let receiver = bundled::start(std::slice::from_ref(&plaid), &key_urls, &[])
        .await
        .unwrap();
    let event = plaid
        .events
        .iter()
        .find(|e| !e.examples.is_empty())
        .unwrap();
    let mut child = tokio::process::Command::new(BIN)
        .args([
            "send",
            "--provider",
            "plaid",
            "--event",
            &event.name,
            "--signing-key",
            &format!("plaid={pem}"),
            "--keys-listen",
            "127.0.0.1:0",
            "--url",
            &receiver.url(),
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reading_stdout = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text).await;
        text
    });
    let mut stderr_lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let reading_stderr = tokio::spawn(async move {
        let mut lines = Vec::new();
        while let Ok(Some(line)) = stderr_lines.next_line().await {
            let key_addr = line
                .strip_prefix("plaid key endpoint: POST http://")
                .and_then(|rest| rest.split('/').next())
                .and_then(|addr| addr.parse().ok());
            if let Some(addr) = key_addr {
                let _ = announce.send(Some(addr));
            }
            lines.push(line);
        }
        lines
    });
    let status = tokio::time::timeout(QUICK, child.wait())
        .await
        .expect("send finishes within its bound")
        .unwrap();
    let stdout = reading_stdout.await.unwrap();
    let stderr = reading_stderr.await.unwrap().join("\n");
    relaying.abort();
    receiver.shutdown(Duration::from_secs(1)).await;
    assert_eq!(status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("> Plaid-Verification: ey"), "{stdout}");
    // The CLI says where it serves the key: the port it got, in the spec's key URL.
    let announced = stderr
        .lines()
        .find_map(|l| l.strip_prefix("plaid key endpoint: POST http://"))
        .unwrap_or_else(|| panic!("no key endpoint announced: {stderr}"));
    let addr: std::net::SocketAddr = announced.split('/').next().unwrap().parse().unwrap();
    assert_ne!(addr.port(), 0);
    let key_url = keys::base_url(&plaid, &format!("http://{addr}")).unwrap();
    let endpoint = format!("plaid key endpoint: POST {key_url}/webhook_verification_key/get");
    assert!(stderr.contains(&endpoint), "{stderr}");
    assert!(
        stderr.contains(&format!("API base URL at {key_url}")),
        "{stderr}"
    );
}

fn header_lines(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(|l| {
            let (n, v) = l.split_once(": ").expect("Name: value");
            (n.to_owned(), v.to_owned())
        })
        .collect()
}

#[test]
fn sign_prints_what_the_signer_makes() {
    use hookspec_codegen::model::Generate;
    let body = b"{\"any\": \"body\"}\n";
    let at = 1_700_000_000;
    for provider in specs::builtin_names() {
        let spec = specs::builtin(provider).unwrap();
        // Generated ids are fresh per delivery: the test fixes them with `--header`.
        let given: Vec<(String, String)> = spec
            .delivery
            .headers
            .iter()
            .filter(|h| matches!(h.generate, Some(Generate::Uuid | Generate::Token { .. })))
            .map(|h| {
                (
                    h.name.clone(),
                    format!("given-{}", h.name.to_ascii_lowercase()),
                )
            })
            .collect();
        let at_text = at.to_string();
        let mut args = vec!["sign", "--provider", provider, "-", "--timestamp", &at_text];
        let pairs: Vec<String> = given.iter().map(|(n, v)| format!("{n}={v}")).collect();
        for pair in &pairs {
            args.extend(["--header", pair]);
        }
        let out = cli(&args, Some(body), QUICK);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let signer =
            hookspec_signer::Signer::new(&spec, hookspec_signer::SigningCredentials::test(&spec));
        let mut expected = vec![(
            "Content-Type".to_owned(),
            spec.delivery.content_type.clone(),
        )];
        expected.extend(signer.sign_with(body, UNIX_EPOCH + Duration::from_secs(at), &given));
        assert_eq!(header_lines(&out.stdout), expected, "{provider}");
    }
}

/// `sign` output sent by hand: the reference receiver accepts a fresh signature and
/// refuses one made an hour ago.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_headers_verify_and_stale_ones_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let (key, pem) = plaid_pem(dir.path());
    let plaid = specs::builtin("plaid").unwrap();
    // `sign` serves no key: the test serves it under the id `sign` names by default.
    let ring = KeyRing::new(key, &keys::fixed_kid("plaid"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let keys = KeyServer::for_spec(listener, &plaid, ring).unwrap();
    let receiver = bundled::start(std::slice::from_ref(&plaid), &keys.base_urls(), &[])
        .await
        .unwrap();
    let body = hookspec_conformance::cases::probe_body(&plaid).unwrap();
    let body_file = dir.path().join("body.json");
    std::fs::write(&body_file, &body).unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut statuses = Vec::new();
    for at in [now, now - 3600] {
        let out = cli_async(
            strings(&[
                "sign",
                "--provider",
                "plaid",
                body_file.to_str().unwrap(),
                "--signing-key",
                &pem,
                "--timestamp",
                &at.to_string(),
            ]),
            None,
            QUICK,
        )
        .await;
        assert_eq!(out.code, 0, "{}", out.stderr);
        let request = Outgoing {
            method: http::Method::POST,
            url: format!("{}/plaid", receiver.url()).parse().unwrap(),
            headers: header_lines(&out.stdout),
            body: OutgoingBody::Full(body.clone()),
        };
        let limits = Limits {
            deadline: Duration::from_secs(10),
            max_response_bytes: 4096,
        };
        statuses.push(exchange(request, limits).await.observed);
    }
    receiver.shutdown(Duration::from_secs(1)).await;
    keys.shutdown().await;
    assert_eq!(statuses[0].status(), Some(200), "{}", statuses[0]);
    assert!(
        matches!(statuses[1], Observed::Status { code: 401, .. }),
        "{}",
        statuses[1]
    );
}

fn vezgo_example(event: &str) -> Value {
    let spec = specs::builtin("vezgo").unwrap();
    let text = &spec
        .events
        .iter()
        .find(|e| e.name == event)
        .unwrap()
        .examples[0];
    serde_json::from_str(text).unwrap()
}

fn validate(args: &[&str], file: &Path) -> Output {
    let mut all = vec!["validate", "--provider", "vezgo", file.to_str().unwrap()];
    all.extend(args);
    cli(&all, None, QUICK)
}

#[test]
fn validate_tells_matching_broken_and_unknown_payloads_apart() {
    let good = vezgo_example("SyncAccount");
    let mut broken = vezgo_example("SyncError");
    broken["user"]["id"] = Value::from(5);
    let mut unknown = good.clone();
    unknown["hook"] = Value::from("SyncSomethingNew");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("captured.jsonl");
    std::fs::write(
        &file,
        format!("{good}\n{broken}\n\n{unknown}\nnot json at all\n"),
    )
    .unwrap();

    let out = validate(&["--format", "json"], &file);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    let payloads = doc["payloads"].as_array().unwrap();
    let got: Vec<(&str, &str, &str)> = payloads
        .iter()
        .map(|p| {
            (
                p["source"].as_str().unwrap(),
                p["verdict"].as_str().unwrap(),
                p["event"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("line 1", "match", "SyncAccount"),
            ("line 2", "mismatch", "SyncError"),
            ("line 4", "unknown", "-"),
            ("line 5", "invalid", "-"),
        ]
    );
    assert_eq!(payloads[1]["problems"][0]["path"], "$.user.id");
    assert_eq!(payloads[2]["discriminator"], "SyncSomethingNew");
    assert_eq!(doc["summary"]["mismatched"], 1);

    let pretty = validate(&[], &file);
    assert_eq!(pretty.code, 1);
    assert!(pretty.stdout.contains("$.user.id: "), "{}", pretty.stdout);
    assert!(pretty.stdout.contains("unknown event (SyncSomethingNew)"));

    // Unknown events are news, not failures, unless --strict.
    std::fs::write(&file, format!("{good}\n{unknown}\n")).unwrap();
    assert_eq!(validate(&[], &file).code, 0);
    assert_eq!(validate(&["--strict"], &file).code, 1);
}

#[test]
fn validate_reads_the_post_bodies_of_a_har_file() {
    let good = vezgo_example("SyncError");
    let mut broken = good.clone();
    broken.as_object_mut().unwrap().remove("user");
    let har = serde_json::json!({"log": {"version": "1.2", "entries": [
        {"request": {"method": "GET", "url": "https://app.example/health", "headers": []}},
        {"request": {"method": "POST", "url": "https://app.example/vezgo",
            "postData": {"mimeType": "application/json", "text": good.to_string()}}},
        {"request": {"method": "POST", "url": "https://app.example/vezgo",
            "postData": {"mimeType": "application/json", "text": broken.to_string()}}},
    ]}});
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("capture.har");
    std::fs::write(&file, serde_json::to_string_pretty(&har).unwrap()).unwrap();
    let out = validate(&["--format", "json"], &file);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    let payloads = doc["payloads"].as_array().unwrap();
    assert_eq!(payloads.len(), 2);
    assert_eq!(
        payloads[0]["source"],
        "entry 2 (POST https://app.example/vezgo)"
    );
    assert_eq!(payloads[0]["verdict"], "match");
    assert_eq!(payloads[1]["verdict"], "mismatch");
    assert_eq!(payloads[1]["problems"][0]["path"], "$.user");
}

/// With a URL for every provider played, no bundled receiver is started and the report
/// names those URLs; `--report` writes more formats beside the main output.
#[test]
fn provider_urls_alone_start_no_bundled_receiver_and_reports_go_to_every_file() {
    let (_closed, port) = closed_port();
    let endpoint = format!("vezgo=http://127.0.0.1:{port}/hooks/vezgo");
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let junit = dir.path().join("junit.xml");
    let out = cli(
        &[
            "run",
            "--provider",
            "vezgo",
            "--provider-url",
            &endpoint,
            "--client-id",
            "c",
            "--only",
            "vezgo/deliver/*",
            "--report",
            &format!("json={}", json.display()),
            "--report",
            &format!("junit={}", junit.display()),
        ],
        None,
        QUICK,
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(!out.stderr.contains("reference receiver"), "{}", out.stderr);
    // The pretty table still goes to standard output.
    assert!(out.stdout.contains("vezgo/deliver/"), "{}", out.stdout);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["receiver"], endpoint.as_str());
    assert!(doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["observed"] == "refused: connection refused"));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<testsuite"), "{xml}");
    let bad = cli(
        &["run", "--provider", "vezgo", "--report", "html"],
        None,
        QUICK,
    );
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("FORMAT=FILE"), "{}", bad.stderr);
}

/// `list --verbose` states what every case expects and why.
#[test]
fn list_verbose_gives_every_case_its_expectation_and_reason() {
    let out = cli(&["list", "--verbose"], None, QUICK);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let ids = cli(&["list"], None, QUICK).stdout;
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), ids.lines().count() * 3);
    for chunk in lines.chunks(3) {
        assert!(ids.lines().any(|id| id == chunk[0]), "{}", chunk[0]);
        let expects = chunk[1].strip_prefix("    expects: ").expect(chunk[1]);
        let why = chunk[2].strip_prefix("    why: ").expect(chunk[2]);
        assert!(!expects.is_empty() && why.len() > 20, "{chunk:?}");
    }
}

/// `--receiver-cmd` starts the receiver and waits for it: the standard-library Python
/// receiver passes every Vezgo case run that way.
#[test]
fn a_receiver_started_by_the_suite_is_played() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/python_receiver.py");
    let cmd = format!("exec python3 {script} \"$HOOKSPEC_RECEIVER_PORT\"");
    let out = cli(
        &[
            "run",
            "--url",
            // The receiver binds a port the system picks and prints its URL.
            "http://127.0.0.1:0",
            "--receiver-cmd",
            &cmd,
            "--provider",
            "vezgo",
            "--client-id",
            "my-client",
            "--format",
            "json",
        ],
        None,
        QUICK,
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["failed"], 0);
    assert!(doc.get("notes").is_none(), "{doc}");
    // The URL played is the one the receiver announced, on the port it was given.
    let played = doc["receiver"].as_str().unwrap();
    assert_ne!(played, "http://127.0.0.1:0", "{doc}");
    assert_eq!(
        json_strings(&doc["receiver_output"]),
        [format!("stdout: listening on {played}")],
        "{doc}"
    );
}

/// A receiver started with `--receiver-cmd` that crashes after its first answer: the
/// case it answered is the one that died, the note names its exit status, its output is
/// in the report, and the run fails.
#[test]
fn a_crash_of_a_started_receiver_is_attributed_to_its_case() {
    let out = run_against_crashing_receiver("", &["--only", "vezgo/deliver/*"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    let first = cases[0]["id"].as_str().unwrap();
    assert!(
        cases[0]["observed"]
            .as_str()
            .unwrap()
            .starts_with("receiver died"),
        "{doc}"
    );
    assert!(cases[1..].iter().all(|c| c["outcome"] == "skip"), "{doc}");
    let notes: Vec<&str> = json_strings(&doc["notes"]);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("exited with status 3") && n.contains(first)),
        "{notes:?}"
    );
    let output: Vec<&str> = json_strings(&doc["receiver_output"]);
    let listening = format!("stdout: listening on {}", doc["receiver"].as_str().unwrap());
    assert!(output.contains(&listening.as_str()), "{output:?}");
    assert!(
        output
            .iter()
            .any(|l| l.starts_with("stderr: handled the fatal delivery")),
        "{output:?}"
    );
}

/// With `--restart`, a receiver that crashes on one event (Vezgo's `SyncError`) is started
/// again: exactly the cases whose deliveries carry that event die, each is named in a
/// note with the exit status, and every other case still runs and passes.
#[test]
fn restart_starts_a_crashed_receiver_again_and_the_run_goes_on() {
    let out = run_against_crashing_receiver(
        "SyncError",
        &[
            "--restart",
            "--only",
            "vezgo/deliver/*",
            "--only",
            "vezgo/tolerate/extra-field",
            "--only",
            "vezgo/latency/*",
        ],
    );
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    let outcome = |id: &str| {
        let case = doc["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no {id} in {doc}"));
        (
            case["outcome"].as_str().unwrap().to_owned(),
            case["observed"].as_str().unwrap().to_owned(),
        )
    };
    let (died, observed) = outcome("vezgo/deliver/SyncError");
    assert_eq!(died, "fail");
    assert!(
        observed.starts_with("receiver died") && observed.ends_with("restarted"),
        "{observed}"
    );
    // SyncAccount's example (first example, so also the latency case's) never mentions
    // SyncError: those cases ran against the restarted receiver and passed.
    for id in [
        "vezgo/deliver/SyncAccount",
        "vezgo/tolerate/extra-field",
        "vezgo/latency/first-example",
    ] {
        assert_eq!(outcome(id).0, "pass", "{id}: {doc}");
    }
    assert_eq!(doc["summary"]["skipped"], 0, "{doc}");
    let notes: Vec<&str> = json_strings(&doc["notes"]);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("exited with status 3 after vezgo/deliver/SyncError; restarted"),
        "{notes:?}"
    );
    let output: Vec<&str> = json_strings(&doc["receiver_output"]);
    // The restarted receiver listens where the first one did: the run plays one URL.
    let listening = format!("stdout: listening on {}", doc["receiver"].as_str().unwrap());
    assert_eq!(
        output,
        [
            listening.as_str(),
            "stderr: handled the fatal delivery; crashing now",
            "hookspec: restarted after vezgo/deliver/SyncError",
            listening.as_str(),
        ]
    );
}

/// A receiver that dies on every delivery is restarted at most `MAX_RESTARTS` times;
/// then it is left down and the remaining cases are skipped, so the run stays bounded.
#[test]
fn restart_gives_up_on_a_receiver_that_dies_every_time() {
    let out = run_against_crashing_receiver("", &["--restart"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    let max = hookspec_conformance::receiver_cmd::MAX_RESTARTS;
    let cases = doc["cases"].as_array().unwrap();
    let died = cases
        .iter()
        .filter(|c| c["observed"].as_str().unwrap().starts_with("receiver died"))
        .count();
    assert_eq!(died, max + 1, "{doc}");
    assert!(cases.iter().any(|c| c["outcome"] == "skip"), "{doc}");
    let notes = doc["notes"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.as_str().unwrap().contains("not restarted again")),
        "{notes:?}"
    );
}

/// A JSON-reporting run of Vezgo's cases, one at a time, against the crashing fixture
/// receiver started with `--receiver-cmd` (it crashes after its first delivery, or after
/// the first whose body holds `trigger`), with `extra` arguments.
fn run_against_crashing_receiver(trigger: &str, extra: &[&str]) -> Output {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/crashing_receiver.py"
    );
    let cmd = format!("exec python3 {script} \"$HOOKSPEC_RECEIVER_PORT\" {trigger}");
    let mut args = vec![
        "run",
        "--url",
        // The receiver binds a port the system picks and prints its URL; a restarted one
        // is given that port again.
        "http://127.0.0.1:0",
        "--receiver-cmd",
        &cmd,
        "--provider",
        "vezgo",
        "--client-id",
        "c",
        "--concurrency",
        "1",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    cli(&args, None, QUICK)
}

/// The strings of a report's JSON array (`notes`, `receiver_output`).
fn json_strings(array: &Value) -> Vec<&str> {
    array
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// `sign --private-key` signs a public-key scheme with the provider's own key (TrueLayer's
/// published P-521 test key, SEC1 PEM), which `verify` accepts with its public half only.
#[test]
fn a_private_key_file_signs_and_its_public_half_verifies() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/truelayer");
    let private = dir.join("ec512-private.pem");
    let public = std::fs::read_to_string(dir.join("ec512-public.pem")).unwrap();
    let url = "https://hooks.example.com/truelayer/webhooks";
    let body = br#"{"type":"payment_executed","event_id":"b8d4dda0-ff2c-4d77-a6da-4615e4bad941"}"#;
    let private_arg = private.to_str().unwrap();
    let signed = cli(
        &[
            "sign",
            "--provider",
            "truelayer",
            "--private-key",
            private_arg,
            "--url",
            url,
            "-",
        ],
        Some(body),
        QUICK,
    );
    assert_eq!(signed.code, 0, "{}", signed.stderr);
    let headers: Vec<String> = header_lines(&signed.stdout)
        .into_iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect();
    let verify = |public: Option<&str>| {
        let mut args = vec!["verify", "--provider", "truelayer", "--url", url];
        if let Some(key) = public {
            args.extend(["--public-key", key]);
        }
        for h in &headers {
            args.extend(["--header", h]);
        }
        args.push("-");
        cli(&args, Some(body), QUICK)
    };
    let accepted = verify(Some(&public));
    assert_eq!(accepted.code, 0, "{}{}", accepted.stdout, accepted.stderr);
    assert_eq!(accepted.stdout.trim(), "verified");
    // hookspec's own test key is not the one that signed.
    let refused = verify(None);
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert!(
        refused.stdout.contains("no_matching_signature")
            || refused.stdout.contains("no signature matches"),
        "{}",
        refused.stdout
    );
    // A key of another kind is a usage error naming what is wrong.
    let rsa = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        rsa.path(),
        include_str!("../../../signer/src/test_keys/rsa-a.key.pem"),
    )
    .unwrap();
    let wrong = cli(
        &[
            "sign",
            "--provider",
            "truelayer",
            "--private-key",
            rsa.path().to_str().unwrap(),
            "-",
        ],
        Some(body),
        QUICK,
    );
    assert_eq!(wrong.code, 2, "{}", wrong.stdout);
    assert!(wrong.stderr.contains("P-521"), "{}", wrong.stderr);
}
