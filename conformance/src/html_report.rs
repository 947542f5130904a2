//! `--report html=FILE`: the report as one self-contained page (inline style, no script,
//! nothing fetched), readable offline: the summary, the notes, each case with what it
//! expected and why, its requests and responses, a retry timeline per provider, and the
//! receiver's output. Every text goes through maud's escaping: bodies are the receiver's
//! and the suite's own hostile payloads, never markup.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::report::{AttemptReport, CaseReport, ExchangeRecord, Outcome, Report};

const STYLE: &str = "
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1em 2em;color:#1d1d1f;background:#fff}
h1{font-size:1.5em;margin:.2em 0}
h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
.summary{display:flex;gap:1em;flex-wrap:wrap;margin:1em 0}
.count{padding:.5em 1em;border-radius:6px;background:#f2f2f4}
.count b{font-size:1.4em;display:block}
.pass{color:#17692b}.fail{color:#b3261e}.skip{color:#6b6b6b}
.note{background:#fff6e0;border-left:4px solid #e0a800;padding:.5em 1em;margin:.5em 0}
table{border-collapse:collapse;width:100%}
td,th{text-align:left;padding:.25em .5em;border-bottom:1px solid #eee;vertical-align:top}
details{margin:.2em 0}
summary{cursor:pointer}
pre{background:#f6f6f8;padding:.6em;overflow:auto;max-height:24em;white-space:pre-wrap;word-break:break-all;font-size:12px}
.muted{color:#6b6b6b}
svg text{font:11px system-ui,sans-serif}
";

impl Report {
    /// The report as one HTML page; see the module's documentation.
    pub fn to_html(&self) -> String {
        page(self).into_string()
    }
}

fn page(report: &Report) -> Markup {
    let s = &report.summary;
    let providers: Vec<&str> = {
        let mut p: Vec<&str> = report.cases.iter().map(|c| c.provider.as_str()).collect();
        p.dedup();
        p
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "hookspec conformance: " (s.passed) "/" (s.total) " passed" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "hookspec conformance report" }
                p.muted { "receiver: " code { (report.receiver) } " · " (seconds(s.elapsed_ms)) }
                div.summary id="summary" {
                    div.count { b { (s.total) } "cases" }
                    div.count.pass { b { (s.passed) } "passed" }
                    div.count.fail { b { (s.failed) } "failed" }
                    div.count.skip { b { (s.skipped) } "skipped" }
                    div.count { b { (s.warned) } "with warnings" }
                }
                @for note in &report.notes {
                    div.note { (note) }
                }
                @for provider in &providers {
                    (provider_section(report, provider))
                }
                @if !report.receiver_output.is_empty() {
                    h2 id="receiver-output" { "The receiver's output" }
                    p.muted { "Its last lines, from the process the suite started." }
                    pre { @for line in &report.receiver_output { (line) "\n" } }
                }
            }
        }
    }
}

fn provider_section(report: &Report, provider: &str) -> Markup {
    let cases: Vec<&CaseReport> = report
        .cases
        .iter()
        .filter(|c| c.provider == provider)
        .collect();
    let failed = cases.iter().filter(|c| c.outcome == Outcome::Fail).count();
    let retries: Vec<&CaseReport> = cases
        .iter()
        .copied()
        .filter(|c| c.attempts.as_ref().is_some_and(|a| !a.is_empty()))
        .collect();
    html! {
        h2 id={ "provider-" (provider) } {
            (provider) " "
            span.muted { "(" (cases.len()) " cases, " (failed) " failed)" }
        }
        @if !retries.is_empty() {
            h3 { "Retry timeline" }
            @for case in &retries {
                (retry_timeline(case))
            }
        }
        table {
            thead { tr { th { "" } th { "case" } th { "observed" } th { "time" } } }
            tbody {
                @for case in &cases {
                    (case_row(case))
                }
            }
        }
    }
}

fn case_row(case: &CaseReport) -> Markup {
    let (mark, class) = match case.outcome {
        Outcome::Pass => ("ok", "pass"),
        Outcome::Fail => ("FAIL", "fail"),
        Outcome::Skip => ("skip", "skip"),
    };
    html! {
        tr.case id={ "case-" (case.id) } {
            td class=(class) { b { (mark) } }
            td {
                details open[case.outcome == Outcome::Fail] {
                    summary { code { (case.id) } }
                    p { b { "expected: " } (case.expected) }
                    @if !case.why.is_empty() { p.muted { b { "why: " } (case.why) } }
                    @if let Some(l) = &case.liveness { p { b { "liveness: " } (l) } }
                    @for w in &case.warnings { p.note { "warning: " (w) } }
                    @for (i, x) in case.exchanges.iter().enumerate() {
                        (exchange(i + 1, x))
                    }
                }
            }
            td class=(class) { (case.observed) }
            td.muted {
                (case.elapsed_ms) " ms"
                @if let Some(b) = case.latency_bucket { br; (format!("{b:?}").to_lowercase()) }
            }
        }
    }
}

fn exchange(n: usize, x: &ExchangeRecord) -> Markup {
    html! {
        details.exchange {
            summary { "request " (n) ": " (x.method) " " (x.url) " → " (x.observed) " in " (x.elapsed_ms) " ms" }
            pre {
                (x.method) " " (x.url) "\n"
                @for (name, value) in &x.request_headers { (name) ": " (value) "\n" }
                "\n" (x.request_body)
                @if x.request_bytes > 0 && x.request_body.is_empty() { "[" (x.request_bytes) " bytes]" }
            }
            pre {
                (x.observed) "\n"
                @for (name, value) in &x.response_headers { (name) ": " (value) "\n" }
                @if !x.response_body.is_empty() { "\n" (x.response_body) }
            }
        }
    }
}

/// One retry case's attempts on a time axis: where the provider's (scaled) schedule puts
/// each, green when acknowledged.
fn retry_timeline(case: &CaseReport) -> Markup {
    const WIDTH: u64 = 900;
    const LEFT: u64 = 20;
    let attempts: &[AttemptReport] = case.attempts.as_deref().unwrap_or_default();
    let last = attempts
        .iter()
        .map(|a| a.scheduled_ms)
        .max()
        .unwrap_or(0)
        .max(1);
    let x = |ms: u64| LEFT + ms * (WIDTH - 2 * LEFT) / last;
    html! {
        p { code { (case.id) } " " span.muted { (attempts.len()) " attempt(s) over " (last) " ms (scaled)" } }
        svg.timeline width=(WIDTH) height="46" viewBox={ "0 0 " (WIDTH) " 46" } role="img"
            aria-label={ "retry timeline of " (case.id) } {
            line x1=(LEFT) y1="20" x2=(WIDTH - LEFT) y2="20" stroke="#bbb" {}
            @for a in attempts {
                @let acked = a.observed.starts_with('2');
                circle cx=(x(a.scheduled_ms)) cy="20" r="7"
                    fill=(if acked { "#17692b" } else { "#b3261e" }) {
                    title { "attempt " (a.attempt) " at +" (a.scheduled_ms) " ms: " (a.observed) }
                }
                text x=(x(a.scheduled_ms)) y="42" text-anchor="middle" { (a.attempt) }
            }
        }
    }
}

fn seconds(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Summary;

    fn case(id: &str, outcome: Outcome) -> CaseReport {
        CaseReport {
            elapsed_ms: 3,
            ..CaseReport::new(
                id,
                id.split('/').next().unwrap(),
                "deliver",
                outcome,
                "2xx within 10 s".to_owned(),
                "the provider retries anything else".to_owned(),
                "500".to_owned(),
            )
        }
    }

    /// Bodies and headers are the receiver's and the suite's hostile payloads: they are
    /// shown as text, never interpreted as markup.
    #[test]
    fn everything_shown_is_escaped() {
        let mut c = case("belvo/deliver/x", Outcome::Fail);
        c.exchanges.push(ExchangeRecord {
            method: "POST".to_owned(),
            url: "http://127.0.0.1:1/belvo".to_owned(),
            request_headers: vec![("x-evil".to_owned(), "\"><img src=x>".to_owned())],
            request_body: "{\"a\":\"</pre><script>alert(1)</script>\"}".to_owned(),
            request_bytes: 40,
            observed: "500".to_owned(),
            response_headers: Vec::new(),
            response_body: "<h1>boom</h1>".to_owned(),
            elapsed_ms: 1,
        });
        let report = Report {
            receiver: "http://127.0.0.1:1".to_owned(),
            summary: Summary::default(),
            cases: vec![c],
            notes: vec!["<b>note</b>".to_owned()],
            receiver_output: vec!["stderr: <i>x</i>".to_owned()],
        };
        let html = report.to_html();
        for raw in ["<script>", "<img", "<h1>boom", "<b>note", "<i>x"] {
            assert!(!html.contains(raw), "{raw} unescaped");
        }
        for shown in [
            "&lt;script&gt;alert(1)",
            "&lt;h1&gt;boom",
            "&lt;b&gt;note",
            "stderr: &lt;i&gt;x",
        ] {
            assert!(html.contains(shown), "{shown} missing");
        }
    }

    /// The retry timeline puts each attempt where its schedule says, coloured by outcome.
    #[test]
    fn the_retry_timeline_places_attempts_by_schedule() {
        let mut c = case("plaid/retry/schedule", Outcome::Fail);
        c.attempts = Some(
            [(0, "503"), (500, "503"), (1000, "200")]
                .into_iter()
                .enumerate()
                .map(|(i, (at, seen))| AttemptReport {
                    attempt: i as u32 + 1,
                    scheduled_ms: at,
                    observed: seen.to_owned(),
                    elapsed_ms: 1,
                })
                .collect(),
        );
        let html = retry_timeline(&c).into_string();
        assert_eq!(html.matches("<circle").count(), 3);
        assert!(html.contains("cx=\"20\""), "{html}");
        assert!(html.contains("cx=\"450\""), "{html}");
        assert!(html.contains("cx=\"880\""), "{html}");
        assert_eq!(html.matches("#b3261e").count(), 2);
        assert_eq!(html.matches("#17692b").count(), 1);
    }
}
