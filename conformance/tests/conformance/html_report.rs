//! `--report html=FILE` from the binary, against a receiver that refuses everything: the
//! page holds the summary, every case with its requests and responses (credentials
//! redacted), the retry timeline and the receiver's output, fetches nothing, and renders
//! in a real headless browser (Debian's chromium) to a screenshot kept under the target
//! directory. Without chromium the browser half is skipped, unless
//! `HOOKSPEC_REQUIRE_CHROMIUM` is set (CI installs chromium and sets it).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;

use crate::common::run_bounded;

const BIN: &str = env!("CARGO_BIN_EXE_hookspec-conformance");
const BOUND: Duration = Duration::from_secs(120);

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            let found = Command::new("sh")
                .args(["-c", &format!("command -v {name}")])
                .output()
                .ok()?;
            let path = String::from_utf8(found.stdout).ok()?.trim().to_owned();
            (found.status.success() && !path.is_empty()).then(|| PathBuf::from(path))
        })
}

#[test]
fn the_html_report_shows_the_run_and_renders_in_a_browser() {
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-report");
    std::fs::create_dir_all(&out_dir).unwrap();
    let html_path = out_dir.join("report.html");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/unavailable_receiver.py"
    );
    let cmd = format!("exec python3 {script} \"$HOOKSPEC_RECEIVER_PORT\"");
    let report_arg = format!("html={}", html_path.display());
    let out = run_bounded(
        BIN,
        &[
            "run",
            "--url",
            // The receiver binds a port the system picks and prints its URL.
            "http://127.0.0.1:0",
            "--receiver-cmd",
            &cmd,
            "--provider",
            "belvo",
            "--basic",
            "user:s3cret-pass",
            "--retry",
            "--time-scale",
            "0.001",
            "--only",
            "belvo/deliver/ACCOUNTS.historical_update",
            "--only",
            "belvo/auth/*",
            "--only",
            "belvo/retry/*",
            "--format",
            "json",
            "--report",
            &report_arg,
        ],
        None,
        BOUND,
    );
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    let html = std::fs::read_to_string(&html_path).unwrap();

    // Summary and one row per case, each with its id.
    assert!(html.contains("id=\"summary\""));
    assert_eq!(html.matches("<tr class=\"case\"").count(), cases.len());
    for c in cases {
        assert!(html.contains(c["id"].as_str().unwrap()), "{}", c["id"]);
    }
    // Requests and responses: the receiver's 503 body shown as text, the credential
    // redacted in every request that carried it, and never in the clear.
    assert!(html.contains("&lt;b&gt;unavailable&lt;/b&gt;"));
    assert!(html.contains("Authorization: [redacted]"));
    let basic = base64::engine::general_purpose::STANDARD.encode("user:s3cret-pass");
    assert!(!html.contains(&basic) && !html.contains("s3cret-pass"));
    // The retry timeline: one point per attempt of the schedule the JSON reports.
    let retry = cases
        .iter()
        .find(|c| c["id"] == "belvo/retry/schedule")
        .unwrap();
    let attempts = retry["attempts"].as_array().unwrap().len();
    assert!(attempts > 1, "{retry}");
    assert_eq!(html.matches("<circle").count(), attempts);
    // The receiver's output, as the suite kept it.
    assert!(html.contains("id=\"receiver-output\""));
    assert!(html.contains("stderr: refused /belvo with 503"));
    // Self-contained: nothing to fetch, nothing to run.
    for outside in ["src=", "<link", "<script", "@import", "url("] {
        assert!(
            !html.contains(outside),
            "the page refers outside: {outside}"
        );
    }

    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("HOOKSPEC_REQUIRE_CHROMIUM").is_none(),
            "HOOKSPEC_REQUIRE_CHROMIUM is set but no chromium is installed"
        );
        eprintln!(
            "skipped the browser check: chromium is not installed (apt-get install chromium)"
        );
        return;
    };
    let browser = browser.to_str().unwrap();
    let page = format!("file://{}", html_path.display());
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
    ];
    // The DOM as the browser built it: the same rows, the summary's counts.
    let mut args = common.to_vec();
    args.extend(["--dump-dom", page.as_str()]);
    let shown = run_bounded(browser, &args, None, Duration::from_secs(90));
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    let dom = shown.stdout;
    assert_eq!(dom.matches("class=\"case\"").count(), cases.len(), "{dom}");
    assert!(dom.contains("hookspec conformance report"), "{dom}");
    // A screenshot, out of the repository, that is a real picture of the page.
    let shot = out_dir.join("report.png");
    let _ = std::fs::remove_file(&shot);
    let shot_arg = format!("--screenshot={}", shot.display());
    let mut args = common.to_vec();
    args.extend(["--window-size=1200,1000", shot_arg.as_str(), page.as_str()]);
    let shot_run = run_bounded(browser, &args, None, Duration::from_secs(90));
    assert_eq!(shot_run.code, 0, "{}", shot_run.stderr);
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    // A blank page compresses to a few KiB; this one has text and colour.
    assert!(png.len() > 20_000, "screenshot of {} bytes", png.len());
    eprintln!("screenshot: {}", shot.display());
}
