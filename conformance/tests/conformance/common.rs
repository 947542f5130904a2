//! What several suite tests do alike: play specs against the bundled reference receiver
//! (serving JWT providers' keys) and list what did not pass; run a program (the CLI, a
//! browser) bounded in time; pin snapshots where they were kept.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hookspec_codegen::model::ProviderSpec;
use hookspec_conformance::keys::{self, KeyServer};
use hookspec_conformance::{bundled, Credentials, Outcome, Report, Suite};

/// Every built-in spec, loaded once for the whole test binary (loading and validating them
/// all takes a noticeable part of a second in a debug build).
pub fn builtin_specs() -> Vec<ProviderSpec> {
    static SPECS: std::sync::OnceLock<Vec<ProviderSpec>> = std::sync::OnceLock::new();
    SPECS
        .get_or_init(|| hookspec_conformance::specs::builtin_all().unwrap())
        .clone()
}

/// Runs the whole suite of `specs` against the bundled receiver, with a fresh key ring
/// per JWT provider served on loopback, and shuts both down.
pub async fn run_against_bundled(specs: Vec<ProviderSpec>) -> Report {
    let receiving = specs.clone();
    play_against_bundled(specs, &receiving).await
}

/// [`run_against_bundled`], playing `played` against a receiver built from `receiving`
/// (the same providers described otherwise).
pub async fn play_against_bundled(played: Vec<ProviderSpec>, receiving: &[ProviderSpec]) -> Report {
    let rings = keys::rings(&played, |_| Some(keys::random_key()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let keys = KeyServer::start(listener, keys::sources(&played, &rings)).unwrap();
    let receiver = bundled::start(receiving, &keys.base_urls(), &[])
        .await
        .unwrap();
    let report = Suite::from_specs(played)
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
    // In a group of its own, so that a run cut off is killed with every process it
    // started (a receiver started by `--receiver-cmd`, a browser's helpers).
    let mut child = Command::new(program)
        .process_group(0)
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
            // Whatever it left running would hold the pipes open (the readers would never
            // finish) and outlive the test.
            kill_group(child.id());
            break status;
        }
        if Instant::now() > deadline {
            kill_group(child.id());
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

/// A loopback port that refuses connections while the returned socket lives: bound, not
/// listening, and without `SO_REUSEADDR`, so nothing else can take the port meanwhile.
pub fn closed_port() -> (tokio::net::TcpSocket, u16) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = socket.local_addr().unwrap().port();
    (socket, port)
}

/// Kills the process group `pgid` (a child started with `process_group(0)`).
pub fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status();
}

/// Where this crate's snapshots live (`tests/snapshots`).
pub fn snapshot_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots")
}

/// `settings` storing snapshots in [`snapshot_dir`] under the names they had when each
/// module was a test binary of its own (`<module>__<name>.snap`): insta would otherwise
/// name them after this binary's module path and look for them beside this file.
pub fn pinned_snapshots(mut settings: insta::Settings) -> insta::Settings {
    settings.set_snapshot_path(snapshot_dir());
    settings.set_prepend_module_to_snapshot(false);
    settings
}
