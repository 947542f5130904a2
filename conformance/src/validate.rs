//! `validate`: captured traffic checked against the spec, to notice when a provider's
//! payloads drift from what the spec (and the code generated from it) expects.

use std::fmt::Write as _;

use hookspec_codegen::check::{check_event_body, infer_event, Violation};
use hookspec_codegen::model::ProviderSpec;
use serde::Serialize;
use serde_json::Value;

/// One captured body and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    /// `line 3`, or `entry 2 (POST https://...)` for a HAR file.
    pub source: String,
    /// The body text.
    pub body: String,
}

/// The payloads in `text`: the request bodies of the POST entries when it is a HAR file
/// (a JSON object with `log.entries`), else one payload per non-blank line.
pub fn captured(text: &str) -> Vec<Captured> {
    if let Ok(doc) = serde_json::from_str::<Value>(text) {
        if let Some(entries) = doc.pointer("/log/entries").and_then(Value::as_array) {
            return har_bodies(entries);
        }
    }
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| Captured {
            source: format!("line {}", i + 1),
            body: line.to_owned(),
        })
        .collect()
}

fn har_bodies(entries: &[Value]) -> Vec<Captured> {
    entries
        .iter()
        .enumerate()
        .filter_map(|(i, entry)| {
            let request = entry.get("request")?;
            let method = request.get("method")?.as_str()?;
            if !method.eq_ignore_ascii_case("POST") {
                return None;
            }
            let body = request.pointer("/postData/text")?.as_str()?;
            let url = request.get("url").and_then(Value::as_str).unwrap_or("");
            Some(Captured {
                source: format!("entry {} (POST {url})", i + 1),
                body: body.to_owned(),
            })
        })
        .collect()
}

/// What a payload turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A known event whose body matches the spec.
    Match,
    /// A known event whose body breaks the spec.
    Mismatch,
    /// No event of the spec has this discriminator value.
    Unknown,
    /// Not a JSON object.
    Invalid,
}

impl Verdict {
    /// `match`, `mismatch`, `unknown` or `invalid`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Match => "match",
            Verdict::Mismatch => "mismatch",
            Verdict::Unknown => "unknown",
            Verdict::Invalid => "invalid",
        }
    }
}

/// Where a payload breaks the spec.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// JSON path, e.g. `$.data.amount`.
    pub path: String,
    /// What is wrong there.
    pub message: String,
}

impl From<Violation> for Problem {
    fn from(v: Violation) -> Problem {
        Problem {
            path: v.path,
            message: v.message,
        }
    }
}

/// One payload's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PayloadReport {
    /// Where it came from.
    pub source: String,
    /// The spec's event name, when one matched the discriminator.
    pub event: Option<String>,
    /// The discriminator values found, joined by `.`; `None` when one is missing.
    pub discriminator: Option<String>,
    /// The verdict.
    pub verdict: Verdict,
    /// Why it is a mismatch or invalid.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

/// Counts over the payloads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ValidationSummary {
    /// Payloads read.
    pub total: usize,
    /// Known events matching the spec.
    pub matched: usize,
    /// Known events breaking the spec.
    pub mismatched: usize,
    /// Unknown events.
    pub unknown: usize,
    /// Not JSON objects.
    pub invalid: usize,
}

/// The result of validating captured payloads of one provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ValidationReport {
    /// Provider name.
    pub provider: String,
    /// Counts.
    pub summary: ValidationSummary,
    /// Every payload, in input order.
    pub payloads: Vec<PayloadReport>,
}

/// Checks every payload against `spec`.
pub fn validate(spec: &ProviderSpec, payloads: &[Captured]) -> ValidationReport {
    let payloads: Vec<PayloadReport> = payloads.iter().map(|p| one(spec, p)).collect();
    let count = |v: Verdict| payloads.iter().filter(|p| p.verdict == v).count();
    ValidationReport {
        provider: spec.provider.clone(),
        summary: ValidationSummary {
            total: payloads.len(),
            matched: count(Verdict::Match),
            mismatched: count(Verdict::Mismatch),
            unknown: count(Verdict::Unknown),
            invalid: count(Verdict::Invalid),
        },
        payloads,
    }
}

fn one(spec: &ProviderSpec, captured: &Captured) -> PayloadReport {
    let mut report = PayloadReport {
        source: captured.source.clone(),
        event: None,
        discriminator: None,
        verdict: Verdict::Invalid,
        problems: Vec::new(),
    };
    let body: Value = match serde_json::from_str(&captured.body) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => {
            report.problems.push(Problem {
                path: "$".to_owned(),
                message: "a delivery body is a JSON object".to_owned(),
            });
            return report;
        }
        Err(e) => {
            report.problems.push(Problem {
                path: "$".to_owned(),
                message: format!("not JSON: {e}"),
            });
            return report;
        }
    };
    report.discriminator = spec
        .discriminator
        .iter()
        .map(|d| body.get(d).and_then(Value::as_str))
        .collect::<Option<Vec<_>>>()
        .map(|values| values.join("."));
    if let Some(event) = infer_event(spec, &body) {
        report.event = Some(event.name.clone());
        report.problems = check_event_body(spec, event, &body)
            .into_iter()
            .map(Problem::from)
            .collect();
    } else {
        // Known discriminator values whose shape variants' conditions all fail: judged
        // against the variant it comes closest to.
        let closest = spec
            .events
            .iter()
            .filter(|e| {
                e.when
                    .iter()
                    .all(|(k, v)| body.get(k).and_then(Value::as_str) == Some(v.as_str()))
            })
            .map(|e| (e, check_event_body(spec, e, &body)))
            .min_by_key(|(_, problems)| problems.len());
        let Some((event, problems)) = closest else {
            report.verdict = Verdict::Unknown;
            return report;
        };
        report.event = Some(event.name.clone());
        report.problems.push(Problem {
            path: "$".to_owned(),
            message: "meets none of the conditions that tell this event's shapes apart".to_owned(),
        });
        report
            .problems
            .extend(problems.into_iter().map(Problem::from));
    }
    report.verdict = if report.problems.is_empty() {
        Verdict::Match
    } else {
        Verdict::Mismatch
    };
    report
}

impl ValidationReport {
    /// Whether the run counts as failed: a mismatch or invalid payload, or with
    /// `strict` an unknown event.
    pub fn failed(&self, strict: bool) -> bool {
        let s = &self.summary;
        s.mismatched + s.invalid > 0 || (strict && s.unknown > 0)
    }

    /// One JSON document.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// A line per payload, its problems indented below it, then the counts.
    pub fn to_pretty(&self) -> String {
        let width = self
            .payloads
            .iter()
            .map(|p| p.source.len())
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        for p in &self.payloads {
            let what = match (&p.event, &p.discriminator) {
                (Some(event), Some(d)) => format!("{event} ({d})"),
                (Some(event), None) => event.clone(),
                (None, Some(d)) => format!("unknown event ({d})"),
                (None, None) if p.verdict == Verdict::Invalid => "-".to_owned(),
                (None, None) => "unknown event (no discriminator value)".to_owned(),
            };
            let _ = writeln!(
                out,
                "{:<width$}  {:<8}  {what}",
                p.source,
                p.verdict.as_str()
            );
            for problem in &p.problems {
                let _ = writeln!(
                    out,
                    "{:width$}    {}: {}",
                    "", problem.path, problem.message
                );
            }
        }
        let s = &self.summary;
        let _ = writeln!(
            out,
            "{}: {} payload(s): {} match, {} mismatch, {} unknown, {} invalid",
            self.provider, s.total, s.matched, s.mismatched, s.unknown, s.invalid
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_har_are_told_apart() {
        let lines = captured("{\"a\":1}\n\n  \nnot json\n");
        assert_eq!(
            lines.iter().map(|c| c.source.as_str()).collect::<Vec<_>>(),
            ["line 1", "line 4"]
        );
        let har = serde_json::json!({"log": {"entries": [
            {"request": {"method": "GET", "url": "http://x/a"}},
            {"request": {"method": "POST", "url": "http://x/b", "postData": {"text": "{\"b\":2}"}}},
            {"request": {"method": "POST", "url": "http://x/c"}},
        ]}});
        let bodies = captured(&har.to_string());
        assert_eq!(
            bodies,
            [Captured {
                source: "entry 2 (POST http://x/b)".to_owned(),
                body: "{\"b\":2}".to_owned()
            }]
        );
    }

    #[test]
    fn every_documented_example_matches_its_event() {
        for spec in crate::specs::builtin_all().unwrap() {
            let payloads: Vec<Captured> = crate::cases::examples(&spec)
                .into_iter()
                .map(|e| Captured {
                    source: e.name,
                    body: String::from_utf8(e.body.to_vec()).unwrap(),
                })
                .collect();
            let report = validate(&spec, &payloads);
            assert_eq!(
                report.summary.matched,
                payloads.len(),
                "{}",
                report.to_pretty()
            );
        }
    }
}
