//! The report of a run: deterministic data plus its JSON, JUnit and pretty renderings.
//!
//! Everything that changes from run to run (timings, the receiver's port) sits in fields
//! that [`REDACTIONS`] names, so `insta` snapshots of a report are stable.

use std::fmt::Write as _;

use serde::Serialize;

/// Whether a case passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The receiver did what the provider expects.
    Pass,
    /// It did not.
    Fail,
    /// The case was not run.
    Skip,
}

impl Outcome {
    /// `pass`, `fail` or `skip`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Skip => "skip",
        }
    }
}

/// How the warning a passing but slow answer earns begins: it measures the machine as much
/// as the receiver, so pinned reports leave it out like the latency bucket.
pub const SLOW_ANSWER: &str = "answered after more than a quarter of the";

/// Response time against the provider's timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LatencyBucket {
    /// Under a quarter of the timeout.
    Fast,
    /// Over a quarter of the timeout: works, but close to a retry storm under load (the case
    /// then carries a warning starting with [`SLOW_ANSWER`]).
    Slow,
    /// Over the timeout: the provider counts the delivery as failed.
    Late,
}

impl LatencyBucket {
    /// The bucket of `elapsed` against `timeout`.
    pub fn of(elapsed: std::time::Duration, timeout: std::time::Duration) -> LatencyBucket {
        if elapsed > timeout {
            LatencyBucket::Late
        } else if elapsed * 4 > timeout {
            LatencyBucket::Slow
        } else {
            LatencyBucket::Fast
        }
    }
}

/// One delivery attempt of a `retry` case.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AttemptReport {
    /// 1 for the first delivery, then one per retry.
    pub attempt: u32,
    /// When the provider's (scaled) schedule puts it, in milliseconds after the first.
    pub scheduled_ms: u64,
    /// Status or verdict.
    pub observed: String,
    /// Measured time to the response.
    pub elapsed_ms: u64,
}

impl AttemptReport {
    /// `attempt 2 at +60 ms: 503`, as the text renderings show it.
    fn line(&self) -> String {
        format!(
            "attempt {} at +{} ms: {}",
            self.attempt, self.scheduled_ms, self.observed
        )
    }
}

/// One case's result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CaseReport {
    /// Stable id, `<provider>/<check>/<name>`.
    pub id: String,
    /// Provider name.
    pub provider: String,
    /// Check name (`deliver`, `auth`, ...).
    pub check: String,
    /// Pass, fail or skip.
    pub outcome: Outcome,
    /// What the provider expects, in words.
    pub expected: String,
    /// Why that is what a receiver must do.
    pub why: String,
    /// What the receiver did, in words (statuses and verdicts, never timings).
    pub observed: String,
    /// Total time of the case's exchanges, in milliseconds (redacted in snapshots).
    pub elapsed_ms: u64,
    /// Response time of the slowest exchange against the provider's timeout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_bucket: Option<LatencyBucket>,
    /// `sha256:<hex>` of the last response body read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_digest: Option<String>,
    /// Outcome of the liveness probe that follows a hostile case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liveness: Option<String>,
    /// Every attempt of a `retry` case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<Vec<AttemptReport>>,
    /// Things that passed but deserve attention.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The case's requests and responses, secrets redacted, when the run kept them (for
    /// the HTML report; never in JSON, where signatures and timings would churn).
    #[serde(skip)]
    pub exchanges: Vec<ExchangeRecord>,
}

impl CaseReport {
    /// A case's report with what it expected, why, and what was seen; no timings,
    /// exchanges, warnings or check-specific details yet.
    pub fn new(
        id: &str,
        provider: &str,
        check: &str,
        outcome: Outcome,
        expected: String,
        why: String,
        observed: String,
    ) -> Self {
        CaseReport {
            id: id.to_owned(),
            provider: provider.to_owned(),
            check: check.to_owned(),
            outcome,
            expected,
            why,
            observed,
            elapsed_ms: 0,
            latency_bucket: None,
            body_digest: None,
            liveness: None,
            attempts: None,
            warnings: Vec::new(),
            exchanges: Vec::new(),
        }
    }
}

/// One request of a case and what came back, as a report shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExchangeRecord {
    /// `POST`.
    pub method: String,
    /// Where it went.
    pub url: String,
    /// Request headers, credentials redacted.
    pub request_headers: Vec<(String, String)>,
    /// The request body as text (lossy UTF-8), cut at [`SHOWN_BODY_BYTES`].
    pub request_body: String,
    /// The request body's full length.
    pub request_bytes: usize,
    /// What the receiver did, in words.
    pub observed: String,
    /// Response headers.
    pub response_headers: Vec<(String, String)>,
    /// What was read of the response body, as text, cut at [`SHOWN_BODY_BYTES`].
    pub response_body: String,
    /// Time to the response head (or the verdict).
    pub elapsed_ms: u64,
}

/// Body bytes a report shows of each request and response.
pub const SHOWN_BODY_BYTES: usize = 8 * 1024;

/// `bytes` as text for a report: lossy UTF-8, cut at [`SHOWN_BODY_BYTES`] with a note.
pub fn shown_body(bytes: &[u8]) -> String {
    let cut = bytes.len().min(SHOWN_BODY_BYTES);
    let mut text = String::from_utf8_lossy(&bytes[..cut]).into_owned();
    if cut < bytes.len() {
        text.push_str(&format!("\n[… {} more bytes not shown]", bytes.len() - cut));
    }
    text
}

/// Counts over the whole run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Number of cases.
    pub total: usize,
    /// Passed cases.
    pub passed: usize,
    /// Failed cases.
    pub failed: usize,
    /// Skipped cases.
    pub skipped: usize,
    /// Cases with warnings.
    pub warned: usize,
    /// Wall time of the run, in milliseconds (redacted in snapshots).
    pub elapsed_ms: u64,
}

/// The result of a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// The receiver's base URL (redacted in snapshots: it holds a port).
    pub receiver: String,
    /// Counts.
    pub summary: Summary,
    /// Every case, in case-list order (not completion order).
    pub cases: Vec<CaseReport>,
    /// What the run found beyond single cases, in words: cases that hung, a receiver that
    /// stopped answering.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// What the receiver printed, when the suite ran it (`--receiver-cmd`): its last
    /// lines, each `stdout: ` or `stderr: `.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub receiver_output: Vec<String>,
}

/// Selectors of the fields that change from run to run, with their replacements, for
/// `insta`: timings and the receiver's address.
pub const REDACTIONS: &[(&str, &str)] = &[
    (".receiver", "[receiver]"),
    (".summary.elapsed_ms", "[ms]"),
    (".cases[].elapsed_ms", "[ms]"),
    (".cases[].attempts[].elapsed_ms", "[ms]"),
];

/// `insta` settings with [`REDACTIONS`] applied, cloned from the current ones:
/// `redacted_settings().bind(|| insta::assert_yaml_snapshot!(report))`.
pub fn redacted_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    for (selector, replacement) in REDACTIONS {
        settings.add_redaction(selector, *replacement);
    }
    settings
}

impl Report {
    /// A report over `cases`, with counts computed from them.
    pub fn new(receiver: String, cases: Vec<CaseReport>, elapsed: std::time::Duration) -> Report {
        let count = |o: Outcome| cases.iter().filter(|c| c.outcome == o).count();
        let summary = Summary {
            total: cases.len(),
            passed: count(Outcome::Pass),
            failed: count(Outcome::Fail),
            skipped: count(Outcome::Skip),
            warned: cases.iter().filter(|c| !c.warnings.is_empty()).count(),
            elapsed_ms: elapsed.as_millis() as u64,
        };
        let hung = cases
            .iter()
            .filter(|c| c.observed.starts_with("hung"))
            .count();
        let mut notes = Vec::new();
        if hung > 0 {
            notes.push(format!(
                "{hung} case(s) hung: the receiver took the connection and never answered. \
                 A handler that sets a status (say 401) but never ends the response looks \
                 exactly like this; the provider sees a timeout, not a refusal, and retries."
            ));
        }
        Report {
            receiver,
            summary,
            cases,
            notes,
            receiver_output: Vec::new(),
        }
    }

    /// Whether no case failed.
    pub fn passed(&self) -> bool {
        self.summary.failed == 0
    }

    /// The report as one pretty-printed JSON document.
    pub fn to_json(&self) -> String {
        // Plain strings, numbers and enums only: serialization cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The report as JUnit XML: one `testsuite` per provider, one `testcase` per case.
    pub fn to_junit(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"hookspec-conformance\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{}\">",
            self.summary.total,
            self.summary.failed,
            self.summary.skipped,
            seconds(self.summary.elapsed_ms)
        );
        let mut providers: Vec<&str> = self.cases.iter().map(|c| c.provider.as_str()).collect();
        providers.dedup();
        for provider in providers {
            let cases: Vec<&CaseReport> = self
                .cases
                .iter()
                .filter(|c| c.provider == provider)
                .collect();
            let count = |o: Outcome| cases.iter().filter(|c| c.outcome == o).count();
            let _ = writeln!(
                out,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{}\">",
                xml_escape(provider),
                cases.len(),
                count(Outcome::Fail),
                count(Outcome::Skip),
                seconds(cases.iter().map(|c| c.elapsed_ms).sum())
            );
            for case in cases {
                let _ = write!(
                    out,
                    "    <testcase name=\"{}\" classname=\"{}.{}\" time=\"{}\"",
                    xml_escape(&case.id),
                    xml_escape(&case.provider),
                    xml_escape(&case.check),
                    seconds(case.elapsed_ms)
                );
                let detail = case_detail(case);
                match case.outcome {
                    Outcome::Pass => out.push_str("/>\n"),
                    Outcome::Fail => {
                        let _ = write!(
                            out,
                            ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>\n",
                            xml_escape(&format!(
                                "expected {}, observed {}",
                                case.expected, case.observed
                            )),
                            xml_escape(&case.check),
                            xml_escape(&detail)
                        );
                    }
                    Outcome::Skip => {
                        let _ = write!(
                            out,
                            ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                            xml_escape(&case.observed)
                        );
                    }
                }
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        out
    }

    /// A plain-text table of every case and the counts, for a terminal.
    pub fn to_pretty(&self) -> String {
        let id_width = self
            .cases
            .iter()
            .map(|c| c.id.len())
            .max()
            .unwrap_or(2)
            .min(64);
        let mut out = String::new();
        let _ = writeln!(out, "receiver: {}", self.receiver);
        let _ = writeln!(out, "{:<4}  {:<id_width$}  observed (expected)", "", "case");
        for case in &self.cases {
            let mark = match case.outcome {
                Outcome::Pass => "ok",
                Outcome::Fail => "FAIL",
                Outcome::Skip => "skip",
            };
            let _ = write!(out, "{mark:<4}  {:<id_width$}  {}", case.id, case.observed);
            if case.outcome == Outcome::Fail {
                let _ = write!(out, " (expected {})", case.expected);
            }
            if let Some(l) = &case.liveness {
                let _ = write!(out, "; liveness: {l}");
            }
            out.push('\n');
            for w in &case.warnings {
                let _ = writeln!(out, "{:<4}  {:<id_width$}  warning: {w}", "", "");
            }
            for a in case.attempts.iter().flatten() {
                let _ = writeln!(out, "{:<4}  {:<id_width$}  {}", "", "", a.line());
            }
        }
        for note in &self.notes {
            let _ = writeln!(out, "\nnote: {note}");
        }
        if !self.receiver_output.is_empty() {
            let _ = writeln!(out, "\nthe receiver's output (last lines):");
            for line in &self.receiver_output {
                let _ = writeln!(out, "  {line}");
            }
        }
        let s = &self.summary;
        let _ = writeln!(
            out,
            "\n{} cases: {} passed, {} failed, {} skipped, {} with warnings ({:.1} s)",
            s.total,
            s.passed,
            s.failed,
            s.skipped,
            s.warned,
            s.elapsed_ms as f64 / 1000.0
        );
        out
    }
}

fn case_detail(case: &CaseReport) -> String {
    let mut detail = format!("expected: {}\nobserved: {}", case.expected, case.observed);
    if !case.why.is_empty() {
        let _ = write!(detail, "\nwhy: {}", case.why);
    }
    if let Some(l) = &case.liveness {
        let _ = write!(detail, "\nliveness: {l}");
    }
    for a in case.attempts.iter().flatten() {
        let _ = write!(detail, "\n{}", a.line());
    }
    detail
}

fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// Escapes text for an XML attribute or element; characters XML 1.0 cannot carry at all
/// (most control characters) become U+FFFD.
fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn latency_buckets() {
        let t = Duration::from_secs(10);
        assert_eq!(
            LatencyBucket::of(Duration::from_millis(2500), t),
            LatencyBucket::Fast
        );
        assert_eq!(
            LatencyBucket::of(Duration::from_millis(2501), t),
            LatencyBucket::Slow
        );
        assert_eq!(
            LatencyBucket::of(Duration::from_secs(10), t),
            LatencyBucket::Slow
        );
        assert_eq!(
            LatencyBucket::of(Duration::from_millis(10_001), t),
            LatencyBucket::Late
        );
    }

    fn case(id: &str, outcome: Outcome, observed: &str) -> CaseReport {
        CaseReport::new(
            id,
            "plaid",
            "auth",
            outcome,
            "refused with 401 or 403".to_owned(),
            String::new(),
            observed.to_owned(),
        )
    }

    #[test]
    fn a_hung_receiver_is_called_out_in_the_pretty_summary() {
        let clean = Report::new(
            "r".into(),
            vec![case("plaid/auth/missing-header", Outcome::Pass, "401")],
            Duration::ZERO,
        );
        assert!(!clean.to_pretty().contains("hung"));
        let hung = Report::new(
            "r".into(),
            vec![
                case(
                    "plaid/auth/missing-header",
                    Outcome::Fail,
                    "hung: no response before the deadline",
                ),
                case("plaid/auth/alg-none", Outcome::Pass, "401"),
            ],
            Duration::ZERO,
        );
        let text = hung.to_pretty();
        assert!(text.contains("note: 1 case(s) hung"), "{text}");
        assert!(text.contains("never ends the response"), "{text}");
    }

    #[test]
    fn xml_escape_handles_markup_and_controls() {
        assert_eq!(
            xml_escape("a<b>&\"'\u{1}"),
            "a&lt;b&gt;&amp;&quot;&apos;\u{FFFD}"
        );
    }
}
