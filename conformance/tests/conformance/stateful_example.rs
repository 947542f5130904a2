//! The stateful Python example (`examples/stateful_receiver.py`) under the suite, started
//! by `--receiver-cmd`: it passes clean, and its sqlite database shows what the run made it
//! do. Skipped when `python3` is not on PATH.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::common::{run_bounded, Output};

const BIN: &str = env!("CARGO_BIN_EXE_hookspec-conformance");
const RECEIVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/stateful_receiver.py");
const BOUND: Duration = Duration::from_secs(120);

/// The objects the receiver's database knows: a Bridge item (an integer in bodies) and a
/// UUID that stands for a Bridge user and a Belvo link.
const KNOWN_ITEM: &str = "4242";
const KNOWN_UUID: &str = "3f1c9a7e-5b2d-4c8e-9a61-2d7f0b4e8c15";
const SECRET: &str = "bridge-test-secret";
const BASIC: &str = "belvo:hunter2";

/// Runs the binary with `args`, killing it after `bound`.
fn cli(args: &[&str], bound: Duration) -> Output {
    run_bounded(BIN, args, None, bound)
}

fn have_python() -> bool {
    let found = Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        eprintln!("skipped: python3 is not on PATH, so the Python example cannot be run");
    }
    found
}

/// `s` as one word for `sh -c`.
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Plays Bridge and Belvo against the example receiver, which keeps its rows in `db`, with
/// the run's `extra` arguments. Returns the JSON report of a run that passed.
fn run_suite(db: &Path, extra: &[&str]) -> Value {
    let receiver = format!(
        "exec python3 {} --db {} --port \"$HOOKSPEC_RECEIVER_PORT\" --secret {SECRET} --basic {BASIC} \
         --known {KNOWN_ITEM} --known {KNOWN_UUID}",
        quoted(RECEIVER),
        quoted(db.to_str().unwrap()),
    );
    let mut args = vec![
        "run",
        "--format",
        "json",
        "--provider",
        "bridge",
        "--provider",
        "belvo",
        "--url",
        // The receiver binds a port the system picks and prints its URL.
        "http://127.0.0.1:0",
        "--receiver-cmd",
        &receiver,
        "--secret",
        SECRET,
        "--basic",
        BASIC,
    ];
    args.extend(extra);
    let out = cli(&args, BOUND);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    assert_eq!(report["summary"]["failed"], 0, "{report:#}");
    report
}

/// The rows `sql` selects from the sqlite file `db`, read by Python's sqlite3 (the crate
/// has no sqlite dependency).
fn query(db: &Path, sql: &str) -> Vec<Vec<Value>> {
    const READ: &str = "import json, sqlite3, sys\n\
        rows = sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchall()\n\
        print(json.dumps([list(r) for r in rows]))";
    let out = Command::new("python3")
        .args(["-c", READ])
        .arg(db)
        .arg(sql)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("rows as JSON")
}

/// The subject of each of `provider`'s deliveries that ended as `outcome`.
fn subjects(db: &Path, provider: &str, outcome: &str) -> Vec<Value> {
    let sql = format!(
        "SELECT subject FROM deliveries WHERE provider = '{provider}' AND outcome = '{outcome}'"
    );
    query(db, &sql)
        .into_iter()
        .map(|mut r| r.remove(0))
        .collect()
}

fn fresh_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("stateful-example-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap()
}

fn receiver_output(report: &Value) -> Vec<&str> {
    report["receiver_output"]
        .as_array()
        .map(|lines| lines.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn passes_clean_and_processes_the_known_subject() {
    if !have_python() {
        return;
    }
    let dir = fresh_dir();
    let db = dir.path().join("hooks.db");
    // --subject names the UUID everywhere; --set then makes Bridge's item id the known
    // integer, so every body keeps its documented types.
    let set_item = format!("content.item_id={KNOWN_ITEM}");
    let report = run_suite(&db, &["--subject", KNOWN_UUID, "--set", &set_item]);

    // Both flags reached the bodies: the receiver found its objects and acted on them.
    // Bridge's first subject path is the item id, sent as a number and stored as digits.
    for (provider, known) in [("bridge", KNOWN_ITEM), ("belvo", KNOWN_UUID)] {
        let processed = subjects(&db, provider, "processed");
        assert!(!processed.is_empty(), "{provider}: nothing processed");
        assert!(processed.iter().all(|s| s == known), "{processed:?}");
        // The unknown-subject case kept an id the database lacks, and was still taken.
        let unknown = subjects(&db, provider, "unknown-subject");
        assert!(!unknown.is_empty(), "{provider}: no unknown-subject row");
        assert!(unknown.iter().all(|s| s != known), "{unknown:?}");
    }
    // The redelivery was recognised, not stored (or acted on) a second time.
    let twice = query(
        &db,
        "SELECT provider, key FROM deliveries GROUP BY provider, key HAVING COUNT(*) > 1",
    );
    assert!(twice.is_empty(), "{twice:?}");
    let output = receiver_output(&report);
    for provider in ["bridge", "belvo"] {
        assert!(
            output
                .iter()
                .any(|l| l.contains(&format!("{provider} ")) && l.ends_with(": duplicate")),
            "{provider}: no duplicate seen in {output:#?}"
        );
    }
    // Every claimed delivery got its outcome in the same transaction.
    let pending = query(&db, "SELECT * FROM deliveries WHERE outcome = 'pending'");
    assert!(pending.is_empty(), "{pending:?}");
}

#[test]
fn passes_without_subject_while_processing_nothing() {
    if !have_python() {
        return;
    }
    let dir = fresh_dir();
    let db = dir.path().join("hooks.db");
    run_suite(&db, &[]);

    // The examples' ids are not in the database: every event was tolerated, none acted
    // on, and the suite still passes. Only --subject makes the run reach the real code.
    let processed = query(&db, "SELECT * FROM deliveries WHERE outcome = 'processed'");
    assert!(processed.is_empty(), "{processed:?}");
    for provider in ["bridge", "belvo"] {
        let unknown = subjects(&db, provider, "unknown-subject");
        assert!(!unknown.is_empty(), "{provider}: no unknown-subject row");
    }
}
