//! What several suite tests do alike: play specs against the bundled reference receiver
//! (serving JWT providers' keys) and list what did not pass; run a program (the CLI, a
//! browser) bounded in time; pick a free loopback port.

#![allow(dead_code)] // each test binary uses its own part

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hookspec_codegen::model::ProviderSpec;
use hookspec_conformance::keys::{self, KeyServer};
use hookspec_conformance::{bundled, Credentials, Outcome, Report, Suite};

/// Runs the whole suite of `specs` against the bundled receiver, with a fresh key ring
/// per JWT provider served on loopback, and shuts both down.
pub async fn run_against_bundled(specs: Vec<ProviderSpec>) -> Report {
    let rings = keys::rings(&specs, |_| Some(keys::random_key()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let keys = KeyServer::start(listener, keys::sources(&specs, &rings)).unwrap();
    let receiver = bundled::start(&specs, &keys.base_urls(), &[])
        .await
        .unwrap();
    let report = Suite::from_specs(specs)
        .credentials(Credentials {
            jwt_keys: rings,
            ..Credentials::test()
        })
        .slow_body(Duration::from_millis(200))
        .concurrency(8)
        .run_bound(Duration::from_secs(120))
        .run(&receiver.url())
        .await
        .unwrap();
    receiver.shutdown(Duration::from_secs(1)).await;
    keys.shutdown().await;
    report
}

/// `id: observed (expected)` for every case that did not pass.
pub fn not_passed(report: &Report) -> Vec<String> {
    report
        .cases
        .iter()
        .filter(|c| c.outcome != Outcome::Pass)
        .map(|c| format!("{}: {} (expected {})", c.id, c.observed, c.expected))
        .collect()
}

/// What a finished program printed, and its exit code.
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `program` with `args` (and `stdin`), killing it after `bound`. Both pipes are
/// read while it runs, so a large report cannot block it.
pub fn run_bounded(program: &str, args: &[&str], stdin: Option<&[u8]>, bound: Duration) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
    let mut input = child.stdin.take().unwrap();
    let data = stdin.unwrap_or_default().to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let stdout = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + bound;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{program} {args:?} did not finish within {bound:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    writer.join().unwrap();
    Output {
        code: status.code().expect("exited, not killed by a signal"),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// A loopback port nothing listens on right now, for a receiver to bind.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
